/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-outbox"

#include "config.h"

#include <gmime/gmime.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "recoup-book-private.h"
#include "recoup-mail.h"
#include "recoup-test-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)

/*
 * The outbox against a real SMTP server on 127.0.0.1: tests/smtp-sink.py on
 * Debian's python3-aiosmtpd. Without aiosmtpd the network tests skip.
 */

static char *python = NULL;

static gboolean
find_python (void)
{
  const char *candidates[] = { g_getenv ("RECOUP_PYTHON"), "/usr/bin/python3", "python3" };

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      const char *argv[] = { candidates[i], "-c", "import aiosmtpd", NULL };
      int status = -1;

      if (candidates[i] == NULL)
        continue;
      if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                        NULL, NULL, NULL, NULL, &status, NULL) && g_spawn_check_wait_status (status, NULL))
        {
          python = g_strdup (candidates[i]);
          return TRUE;
        }
    }
  return FALSE;
}

#define NEED_SMTP() \
  G_STMT_START { \
    if (python == NULL) \
      { \
        g_test_skip ("python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)"); \
        return; \
      } \
  } G_STMT_END

static guint16
free_port (void)
{
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_socket_bind (sock, any, TRUE, &error));
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

typedef struct
{
  GSubprocess *proc;
  char        *dir;
  guint16      port;
} Sink;

static void
sink_start (Sink       *sink,
            const char *extra1,
            const char *extra2)
{
  g_autofree char *script = g_build_filename (g_getenv ("RECOUP_TEST_DATA"), "..", "smtp-sink.py", NULL);
  g_autofree char *port = g_strdup_printf ("%u", sink->port);
  g_autofree char *ready = g_build_filename (sink->dir, "ready", NULL);
  g_autoptr(GError) error = NULL;
  const char *argv[] = { python, script, "--port", port, "--dir", sink->dir, extra1, extra2, NULL };

  g_unlink (ready);
  sink->proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 200 && !g_file_test (ready, G_FILE_TEST_EXISTS); i++)
    g_usleep (50 * 1000);
  g_assert_true (g_file_test (ready, G_FILE_TEST_EXISTS));
}

static void
sink_stop (Sink *sink)
{
  if (sink->proc == NULL)
    return;
  g_subprocess_send_signal (sink->proc, SIGTERM);
  g_subprocess_wait (sink->proc, NULL, NULL);
  g_clear_object (&sink->proc);
}

static GPtrArray *
sink_messages (Sink *sink)
{
  g_autoptr(GDir) d = g_dir_open (sink->dir, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".eml"))
      g_ptr_array_add (names, g_build_filename (sink->dir, name, NULL));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  return names;
}

/* The received file whose envelope recipient is @rcpt. */
static char *
sink_find (Sink       *sink,
           const char *rcpt)
{
  g_autoptr(GPtrArray) files = sink_messages (sink);
  g_autofree char *want = g_strdup_printf ("X-Envelope-To: %s\r\n", rcpt);

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *text = NULL;

      g_assert_true (g_file_get_contents (g_ptr_array_index (files, i), &text, NULL, NULL));
      if (strstr (text, want) != NULL)
        return g_strdup (g_ptr_array_index (files, i));
    }
  g_assert_not_reached ();
}

static guint
sink_count (Sink *sink)
{
  g_autoptr(GPtrArray) m = sink_messages (sink);

  return m->len;
}

typedef struct
{
  TestBook tb;
  Sink     sink;
  char    *acc;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  test_book_open (&f->tb);
  f->sink.dir = g_build_filename (f->tb.dir, "mail", NULL);
  g_mkdir (f->sink.dir, 0700);
  f->sink.port = free_port ();
  url = g_strdup_printf ("smtp://127.0.0.1:%u", f->sink.port);
  g_assert_true (recoup_settings_set_shared (f->tb.book, "smtp.url", url, &error));
  g_assert_true (recoup_settings_set_shared (f->tb.book, "smtp.security", "none", &error));
  g_assert_true (recoup_settings_set_shared (f->tb.book, "smtp.from", "Acme Receivables <ar@acme.example>", &error));
  g_assert_true (recoup_book_set_setting (f->tb.book, "smtp.timeout", "5", &error));
  g_assert_true (recoup_book_set_setting (f->tb.book, "smtp.lease_seconds", "0", &error));
  g_assert_no_error (error);
  f->acc = test_add_account (f->tb.book, "ACC-1", "USD");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  sink_stop (&f->sink);
  g_free (f->sink.dir);
  g_free (f->acc);
  test_book_close (&f->tb);
}

static char *
enqueue (Fixture    *f,
         const char *to,
         const char *subject,
         const char *body,
         const char *attachment)
{
  g_autoptr(GError) error = NULL;
  RecoupOutboxSpec spec = { .account_id = f->acc, .to = to, .subject = subject, .body = body,
                            .attachment_path = attachment, .attachment_name = attachment ? "letter.pdf" : NULL };
  char *id = recoup_outbox_enqueue (f->tb.book, &spec, &error);

  g_assert_no_error (error);
  return id;
}

static RecoupOutboxState
state_of (Fixture    *f,
          const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupOutboxMessage) m = recoup_outbox_load (f->tb.book, id, &error);

  g_assert_no_error (error);
  return m->state;
}

/* ---------------------------------------------------------------------------
 * Queuing (no server)
 * ------------------------------------------------------------------------- */

static void
test_enqueue (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupOutboxMessage) m = NULL;
  g_autofree char *id = NULL;
  gint64 changes = recoup_book_count_changes (f->tb.book);
  static const char * const bad[] = {
    "not-an-email", "a@b", "two@@example.com", "sp ace@example.com", "x@example.com\r\nBcc: y@example.com",
    "", "@example.com", "a@-example.com", NULL
  };

  /* Bad input changes nothing. */
  for (guint i = 0; bad[i] != NULL; i++)
    {
      RecoupOutboxSpec spec = { .account_id = f->acc, .to = bad[i], .subject = "s", .body = "b" };

      g_assert_null (recoup_outbox_enqueue (f->tb.book, &spec, &error));
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_clear_error (&error);
    }
  {
    RecoupOutboxSpec spec = { .account_id = f->acc, .to = "a@example.com", .subject = "two\nlines", .body = "b" };

    g_assert_null (recoup_outbox_enqueue (f->tb.book, &spec, &error));
    g_clear_error (&error);
  }
  g_assert_cmpint (recoup_book_count_changes (f->tb.book), ==, changes);
  g_assert_cmpint (test_query_int (f->tb.path, "SELECT count(*) FROM outbox"), ==, 0);

  /* A good message: queued, change-logged, with the opt-out line and a
   * Message-ID made from its id and the sender's domain. */
  id = enqueue (f, "dana@example.com", "Reminder", "Please pay.", NULL);
  g_assert_cmpint (recoup_book_count_changes (f->tb.book), ==, changes + 1);
  m = recoup_outbox_load (f->tb.book, id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (m->state, ==, RECOUP_OUTBOX_QUEUED);
  g_assert_cmpstr (m->device_id, ==, recoup_book_get_device_id (f->tb.book));
  {
    g_autofree char *expect = g_strdup_printf ("<%s@acme.example>", id);

    g_assert_cmpstr (m->message_id, ==, expect);
  }
  g_assert_true (g_str_has_prefix (m->body, "Please pay.\n\n-- \n"));
  g_assert_nonnull (strstr (m->body, "reply with the word STOP"));

  /* A body that already has the line does not get it twice. */
  {
    g_autofree char *line = recoup_outbox_opt_out_line (f->tb.book);
    g_autofree char *body = g_strdup_printf ("Hello\n%s\n", line);
    g_autofree char *id2 = enqueue (f, "dana@example.com", "Again", body, NULL);
    g_autoptr(RecoupOutboxMessage) m2 = recoup_outbox_load (f->tb.book, id2, &error);

    g_assert_cmpstr (m2->body, ==, body);
  }

  /* Offline: no server configured at all keeps everything queued. */
  g_assert_true (recoup_book_set_setting (f->tb.book, "smtp.url", "", &error));
  {
    RecoupMailStats st;

    g_assert_false (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
    g_assert_error (error, RECOUP_MAIL_ERROR, RECOUP_MAIL_ERROR_CONFIG);
    g_clear_error (&error);
  }
  g_assert_cmpint (test_query_int (f->tb.path, "SELECT count(*) FROM outbox WHERE state = 'queued'"), ==, 2);

  /* Plain text to a remote host is refused. */
  g_assert_true (recoup_book_set_setting (f->tb.book, "smtp.url", "smtp://mail.example.com:25", &error));
  {
    RecoupSmtpConfig config;

    g_assert_false (recoup_smtp_config_load (f->tb.book, &config, &error));
    g_assert_error (error, RECOUP_MAIL_ERROR, RECOUP_MAIL_ERROR_CONFIG);
  }
}

/* ---------------------------------------------------------------------------
 * Delivery
 * ------------------------------------------------------------------------- */

static GMimeMessage *
parse_eml (const char *path,
           char      **out_envelope_to)
{
  g_autofree char *text = NULL;
  gsize len;
  const char *start;
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *msg;
  char **lines;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  lines = g_strsplit (text, "\r\n", 3);
  g_assert_true (g_str_has_prefix (lines[1], "X-Envelope-To: "));
  *out_envelope_to = g_strdup (lines[1] + strlen ("X-Envelope-To: "));
  g_strfreev (lines);
  start = strstr (text, "\r\n") + 2;
  start = strstr (start, "\r\n") + 2;
  stream = g_mime_stream_mem_new_with_buffer (start, len - (start - text));
  parser = g_mime_parser_new_with_stream (stream);
  msg = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);
  g_assert_nonnull (msg);
  return msg;
}

static void
test_deliver (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autofree char *pdf = g_build_filename (f->tb.dir, "letter.pdf", NULL);
  g_autofree char *id1 = NULL, *id2 = NULL;
  RecoupMailStats st;
  g_autoptr(GPtrArray) letters = g_ptr_array_new ();
  g_autofree char *pdf_bytes = NULL;
  gsize pdf_len;

  NEED_SMTP ();
  g_ptr_array_add (letters, (gpointer) "Dear Dana,\n\nPlease find your statement.\n");
  g_assert_true (recoup_letter_render_pdf (pdf, letters, "letter", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (pdf, &pdf_bytes, &pdf_len, NULL));
  g_assert_true (g_str_has_prefix (pdf_bytes, "%PDF-"));

  id1 = enqueue (f, "dana@example.com", "Rappel : facture impayée — 1 234,50 €",
                 "Bonjour Dana,\n.\nUne ligne qui commence par un point.\n", NULL);
  id2 = enqueue (f, "ops@example.org", "Your statement", "See the attached letter.\n", pdf);

  sink_start (&f->sink, NULL, NULL);
  g_assert_true (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st.sent, ==, 2);
  g_assert_cmpuint (st.failed, ==, 0);
  g_assert_cmpint (state_of (f, id1), ==, RECOUP_OUTBOX_SENT);
  g_assert_cmpint (state_of (f, id2), ==, RECOUP_OUTBOX_SENT);

  /* Each sent message is an email activity. */
  g_assert_cmpint (test_query_int (f->tb.path,
    "SELECT count(*) FROM activities WHERE channel = 'email' AND outcome = 'sent'"), ==, 2);

  files = sink_messages (&f->sink);
  g_assert_cmpuint (files->len, ==, 2);
  {
    g_autofree char *rcpt = NULL;
    g_autofree char *file = sink_find (&f->sink, "dana@example.com");
    g_autoptr(GMimeMessage) msg = parse_eml (file, &rcpt);
    GMimeObject *part = g_mime_message_get_mime_part (msg);
    g_autofree char *text = NULL;
    g_autofree char *expect_id = g_strdup_printf ("%s@acme.example", id1);

    g_assert_cmpstr (rcpt, ==, "dana@example.com");
    g_assert_cmpstr (g_mime_message_get_subject (msg), ==, "Rappel : facture impayée — 1 234,50 €");
    g_assert_cmpstr (g_mime_message_get_message_id (msg), ==, expect_id);
    g_assert_true (GMIME_IS_TEXT_PART (part));
    text = g_mime_text_part_get_text (GMIME_TEXT_PART (part));
    g_assert_true (g_str_has_prefix (text, "Bonjour Dana,\r\n.\r\nUne ligne qui commence par un point.\r\n\r\n-- \r\n") ||
                   g_str_has_prefix (text, "Bonjour Dana,\n.\nUne ligne qui commence par un point.\n\n-- \n"));
    g_assert_nonnull (strstr (text, "STOP"));
  }
  {
    g_autofree char *rcpt = NULL;
    g_autofree char *file = sink_find (&f->sink, "ops@example.org");
    g_autoptr(GMimeMessage) msg = parse_eml (file, &rcpt);
    GMimeObject *top = g_mime_message_get_mime_part (msg);
    GMimePart *att;
    GMimeStream *out;
    GByteArray *got;

    g_assert_cmpstr (rcpt, ==, "ops@example.org");
    g_assert_cmpstr (g_mime_message_get_subject (msg), ==, "Your statement");
    g_assert_true (GMIME_IS_MULTIPART (top));
    g_assert_cmpint (g_mime_multipart_get_count (GMIME_MULTIPART (top)), ==, 2);
    att = GMIME_PART (g_mime_multipart_get_part (GMIME_MULTIPART (top), 1));
    g_assert_cmpstr (g_mime_part_get_filename (att), ==, "letter.pdf");
    g_assert_true (g_mime_content_type_is_type (g_mime_object_get_content_type (GMIME_OBJECT (att)),
                                                "application", "pdf"));
    out = g_mime_stream_mem_new ();
    g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (att), out);
    got = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (out));
    g_assert_cmpmem (got->data, got->len, pdf_bytes, pdf_len);
    g_object_unref (out);
  }

  /* Sending again sends nothing. */
  g_assert_true (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_cmpuint (st.sent, ==, 0);
  g_assert_cmpuint (sink_count (&f->sink), ==, 2);
}

static void
test_server_down (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id1 = NULL, *id2 = NULL;
  g_autoptr(RecoupOutboxMessage) m = NULL;
  RecoupMailStats st;

  NEED_SMTP ();
  id1 = enqueue (f, "a@example.com", "One", "1", NULL);
  id2 = enqueue (f, "b@example.com", "Two", "2", NULL);

  /* Nobody listens: everything stays queued, with the reason. */
  g_assert_false (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_error (error, RECOUP_MAIL_ERROR, RECOUP_MAIL_ERROR_TRANSIENT);
  g_clear_error (&error);
  g_assert_cmpuint (st.deferred, ==, 2);
  g_assert_cmpint (state_of (f, id1), ==, RECOUP_OUTBOX_QUEUED);
  g_assert_cmpint (state_of (f, id2), ==, RECOUP_OUTBOX_QUEUED);
  m = recoup_outbox_load (f->tb.book, id1, &error);
  g_assert_nonnull (m->last_error);
  g_assert_cmpint (m->attempts, ==, 1);

  /* The server comes up: both go, once. */
  sink_start (&f->sink, NULL, NULL);
  g_assert_true (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st.sent, ==, 2);
  g_assert_cmpint (state_of (f, id1), ==, RECOUP_OUTBOX_SENT);
  g_assert_cmpint (state_of (f, id2), ==, RECOUP_OUTBOX_SENT);
  g_assert_true (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_cmpuint (sink_count (&f->sink), ==, 2);
}

/* recoup-cli is killed (SIGKILL) after the server has stored the message but
 * before the CLI heard the answer and recorded it. Nothing is sent twice. */
static void
test_kill_between_send_and_record (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id1 = NULL, *id2 = NULL;
  g_autoptr(GSubprocess) cli = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                         G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(RecoupOutboxMessage) m = NULL;
  RecoupMailStats st;

  NEED_SMTP ();
  id1 = enqueue (f, "first@example.com", "First", "1", NULL);
  sink_start (&f->sink, "--delay-after-data", "60");

  g_subprocess_launcher_setenv (launcher, "RECOUP_NO_KEYRING", "1", TRUE);
  cli = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("RECOUP_CLI"), "--book", f->tb.path,
                                     "outbox", "send", NULL);
  g_assert_no_error (error);
  for (int i = 0; i < 200 && sink_count (&f->sink) == 0; i++)
    g_usleep (50 * 1000);
  g_assert_cmpuint (sink_count (&f->sink), ==, 1);
  g_subprocess_force_exit (cli);
  g_subprocess_wait (cli, NULL, NULL);
  sink_stop (&f->sink);

  /* The claim was committed before the transaction: the row says 'sending'. */
  g_assert_cmpint (state_of (f, id1), ==, RECOUP_OUTBOX_SENDING);

  /* The next sender does not resend it: it is uncertain, the user decides. A
   * message queued since goes normally. */
  id2 = enqueue (f, "second@example.com", "Second", "2", NULL);
  sink_start (&f->sink, NULL, NULL);
  g_assert_true (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st.uncertain, ==, 1);
  g_assert_cmpuint (st.sent, ==, 1);
  g_assert_cmpint (state_of (f, id1), ==, RECOUP_OUTBOX_UNCERTAIN);
  g_assert_cmpint (state_of (f, id2), ==, RECOUP_OUTBOX_SENT);
  g_assert_cmpuint (sink_count (&f->sink), ==, 2);
  m = recoup_outbox_load (f->tb.book, id1, &error);
  g_assert_nonnull (strstr (m->last_error, "may or may not"));
  g_assert_true (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_cmpuint (sink_count (&f->sink), ==, 2);

  /* The user checked: it arrived. Confirming records it (and the activity)
   * without sending. */
  g_assert_true (recoup_outbox_confirm (f->tb.book, id1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (state_of (f, id1), ==, RECOUP_OUTBOX_SENT);
  g_assert_cmpint (test_query_int (f->tb.path,
    "SELECT count(*) FROM activities WHERE channel = 'email'"), ==, 2);
  g_assert_false (recoup_outbox_retry (f->tb.book, id1, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_assert_cmpuint (sink_count (&f->sink), ==, 2);
}

static void
test_bad_messages (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *big = g_build_filename (f->tb.dir, "big.pdf", NULL);
  g_autofree char *refused = NULL, *too_big = NULL, *good = NULL, *gone = NULL;
  g_autofree char *missing = g_build_filename (f->tb.dir, "gone.pdf", NULL);
  g_autoptr(RecoupOutboxMessage) m = NULL;
  RecoupMailStats st;
  char *blob = g_malloc0 (64 * 1024);

  NEED_SMTP ();
  memcpy (blob, "%PDF-1.4\n", 9);
  g_assert_true (g_file_set_contents (big, blob, 64 * 1024, NULL));
  g_assert_true (g_file_set_contents (missing, "%PDF-1.4\n", -1, NULL));
  g_free (blob);

  refused = enqueue (f, "nobody@reject.example", "Refused", "x", NULL);
  too_big = enqueue (f, "big@example.com", "Too big", "x", big);
  gone = enqueue (f, "gone@example.com", "Attachment gone", "x", missing);
  good = enqueue (f, "good@example.com", "Good", "x", NULL);
  g_unlink (missing);
  g_assert_true (recoup_book_set_setting (f->tb.book, "smtp.max_bytes", "32768", &error));

  sink_start (&f->sink, NULL, NULL);
  g_assert_true (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st.sent, ==, 1);
  g_assert_cmpuint (st.failed, ==, 3);
  g_assert_cmpint (state_of (f, good), ==, RECOUP_OUTBOX_SENT);
  g_assert_cmpuint (sink_count (&f->sink), ==, 1);

  m = recoup_outbox_load (f->tb.book, refused, &error);
  g_assert_cmpint (m->state, ==, RECOUP_OUTBOX_FAILED);
  g_assert_nonnull (strstr (m->last_error, "550"));
  g_clear_pointer (&m, recoup_outbox_message_free);
  m = recoup_outbox_load (f->tb.book, too_big, &error);
  g_assert_cmpint (m->state, ==, RECOUP_OUTBOX_FAILED);
  g_assert_nonnull (strstr (m->last_error, "smtp.max_bytes"));
  g_assert_cmpint (m->attempts, ==, 0);
  g_clear_pointer (&m, recoup_outbox_message_free);
  m = recoup_outbox_load (f->tb.book, gone, &error);
  g_assert_cmpint (m->state, ==, RECOUP_OUTBOX_FAILED);
  g_assert_nonnull (strstr (m->last_error, "gone.pdf"));
  g_clear_pointer (&m, recoup_outbox_message_free);

  /* The server's own size limit (SIZE / 552) fails that message only. */
  g_assert_true (recoup_book_set_setting (f->tb.book, "smtp.max_bytes", "10485760", &error));
  sink_stop (&f->sink);
  sink_start (&f->sink, "--max-size", "20000");
  g_assert_true (recoup_outbox_retry (f->tb.book, too_big, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st.failed, ==, 1);
  m = recoup_outbox_load (f->tb.book, too_big, &error);
  g_assert_cmpint (m->state, ==, RECOUP_OUTBOX_FAILED);
  g_assert_cmpint (m->attempts, ==, 1);
  g_test_message ("server size refusal: %s", m->last_error);
  g_clear_pointer (&m, recoup_outbox_message_free);

  /* Nothing is lost: every message is still in the outbox. */
  g_assert_cmpint (test_query_int (f->tb.path, "SELECT count(*) FROM outbox"), ==, 4);

  /* Retried after the limit is raised, it goes. */
  sink_stop (&f->sink);
  sink_start (&f->sink, NULL, NULL);
  g_assert_true (recoup_outbox_retry (f->tb.book, too_big, &error));
  g_assert_true (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st.sent, ==, 1);
  g_assert_cmpint (state_of (f, too_big), ==, RECOUP_OUTBOX_SENT);
  g_assert_cmpuint (sink_count (&f->sink), ==, 2);
}

static void
test_auth_refused (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id1 = NULL, *id2 = NULL;
  g_autoptr(RecoupOutboxMessage) m = NULL;
  g_autofree char *pw = NULL;
  RecoupMailStats st;

  NEED_SMTP ();
  g_assert_true (recoup_settings_set_shared (f->tb.book, "smtp.username", "ar", &error));
  g_assert_true (recoup_smtp_password_store (f->tb.book, "wrong horse", &error));
  g_assert_no_error (error);
  pw = recoup_smtp_password_lookup (f->tb.book);
  g_assert_cmpstr (pw, ==, "wrong horse");
  {
    /* Without a keyring it is a file only its owner can read. */
    g_autoptr(GDir) d = NULL;
    g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "recoup", NULL);
    const char *name;
    guint n = 0;

    d = g_dir_open (dir, 0, NULL);
    g_assert_nonnull (d);
    while ((name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *p = g_build_filename (dir, name, NULL);
        GStatBuf sb;

        g_assert_cmpint (g_stat (p, &sb), ==, 0);
        g_assert_cmpint (sb.st_mode & 0777, ==, 0600);
        n++;
      }
    g_assert_cmpuint (n, >=, 1);
  }

  id1 = enqueue (f, "a@example.com", "One", "1", NULL);
  id2 = enqueue (f, "b@example.com", "Two", "2", NULL);
  sink_start (&f->sink, "--refuse-auth", NULL);
  g_assert_false (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_error (error, RECOUP_MAIL_ERROR, RECOUP_MAIL_ERROR_AUTH);
  g_test_message ("auth refused: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (sink_count (&f->sink), ==, 0);
  g_assert_cmpint (state_of (f, id1), ==, RECOUP_OUTBOX_QUEUED);
  g_assert_cmpint (state_of (f, id2), ==, RECOUP_OUTBOX_QUEUED);
  m = recoup_outbox_load (f->tb.book, id1, &error);
  g_assert_nonnull (m->last_error);

  /* Fixed login: both go. */
  sink_stop (&f->sink);
  sink_start (&f->sink, NULL, NULL);
  g_assert_true (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st.sent, ==, 2);
}

/* ---------------------------------------------------------------------------
 * Reminder runs
 * ------------------------------------------------------------------------- */

static char *
debtor (Fixture    *f,
        const char *ref,
        const char *tz,
        const char *email)
{
  g_autoptr(GError) error = NULL;
  RecoupAccountSpec spec = { .ref = ref, .name = ref, .currency = "USD", .timezone = tz };
  char *acc = recoup_account_create (f->tb.book, &spec, &error);
  g_autofree char *inv_ref = g_strdup_printf ("INV-%s", ref);
  g_autofree char *inv = NULL, *cp = NULL;

  g_assert_no_error (error);
  inv = test_add_invoice (f->tb.book, acc, inv_ref, "2026-10-15", "2026-11-14", 12345, "USD");
  cp = recoup_contact_add (f->tb.book, acc, RECOUP_CONTACT_EMAIL, email, "", TRUE, &error);
  g_assert_no_error (error);
  return acc;
}

static RecoupRemindItem *
find_item (RecoupRemindRun *run,
           const char      *ref)
{
  for (guint i = 0; i < run->items->len; i++)
    {
      RecoupRemindItem *it = g_ptr_array_index (run->items, i);

      if (g_str_equal (it->ref, ref))
        return it;
    }
  return NULL;
}

static void
test_remind_run (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupRemindRun) run = NULL;
  g_autoptr(RecoupRemindRun) again = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL;
  g_autoptr(GPtrArray) files = NULL;
  RecoupRemindItem *it;
  RecoupRemindResult result;
  RecoupRemindOptions options = { .render_letter = recoup_mail_letter_renderer, .render_data = (gpointer) "a4" };
  RecoupMailStats st;
  gint64 at;

  NEED_SMTP ();
  g_assert_true (recoup_guard_set_profile (f->tb.book, "first-party", &error));
  g_assert_no_error (error);
  a = debtor (f, "OK-1", "America/Chicago", "ok@example.com");
  b = debtor (f, "OPTED-1", "America/Chicago", "opted@example.com");
  c = debtor (f, "NIGHT-1", "Asia/Tokyo", "night@example.com");
  g_assert_true (recoup_guard_set_channel_opt_out (f->tb.book, b, "email", TRUE, &error));
  g_assert_no_error (error);

  /* 18:00 UTC: noon in Chicago, 03:00 in Tokyo. 10 days past due: the
   * policy's first step, the friendly reminder by email. */
  g_assert_true (recoup_instant_parse ("2026-11-24T18:00:00Z", &at, &error));
  run = recoup_remind_propose (f->tb.book, at, &error);
  g_assert_no_error (error);

  it = find_item (run, "OK-1");
  g_assert_nonnull (it);
  g_assert_false (it->held);
  g_assert_cmpstr (it->template_name, ==, "friendly-reminder");
  g_assert_cmpstr (it->channel, ==, "email");
  g_assert_cmpstr (it->to, ==, "ok@example.com");
  g_assert_cmpint (it->days_past_due, ==, 10);
  g_assert_nonnull (strstr (it->reason, "10 days past due"));

  it = find_item (run, "OPTED-1");
  g_assert_nonnull (it);
  g_assert_true (it->held);
  g_assert_false (it->selected);
  g_assert_nonnull (strstr (it->held_reasons, "opt-out"));

  it = find_item (run, "NIGHT-1");
  g_assert_nonnull (it);
  g_assert_true (it->held);
  g_assert_nonnull (strstr (it->held_reasons, "outside-hours"));

  g_assert_true (recoup_remind_execute (f->tb.book, run, &options, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (result.emails_queued, ==, 1);
  g_assert_cmpuint (result.letters, ==, 0);
  recoup_remind_result_clear (&result);

  sink_start (&f->sink, NULL, NULL);
  g_assert_true (recoup_mail_send_outbox (f->tb.book, &st, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (st.sent, ==, 1);
  files = sink_messages (&f->sink);
  g_assert_cmpuint (files->len, ==, 1);
  {
    g_autofree char *rcpt = NULL;
    g_autoptr(GMimeMessage) msg = parse_eml (g_ptr_array_index (files, 0), &rcpt);

    g_assert_cmpstr (rcpt, ==, "ok@example.com");
    g_assert_true (g_str_has_prefix (g_mime_message_get_subject (msg), "Friendly reminder: USD 123.45"));
  }
  g_assert_cmpint (test_query_int (f->tb.path,
    "SELECT count(*) FROM activities WHERE channel = 'email'"), ==, 1);

  /* Reminded today: the next run leaves it out. */
  again = recoup_remind_propose (f->tb.book, at, &error);
  g_assert_no_error (error);
  g_assert_null (find_item (again, "OK-1"));
  g_assert_cmpuint (again->n_recent, ==, 1);
}

/* A letter run: one PDF per account, logged as letter activities; the
 * validation notice under Regulation F records its date. */
/* A book that holds an opted-out address twice, in two spellings (two
 * devices added it before values were compared), or again after it was
 * removed, does not mail the copy: the run picks the address the debtor did
 * not opt out of. */
static void
test_remind_opted_out_copy (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupRemindRun) run = NULL;
  g_autofree char *acc = NULL, *opted = NULL, *other = NULL, *sql = NULL;
  RecoupRemindItem *it;
  gint64 at;

  g_assert_true (recoup_guard_set_profile (f->tb.book, "first-party", &error));
  g_assert_no_error (error);
  acc = debtor (f, "COPY-1", "America/Chicago", "billing@copy.example");
  g_assert_true (recoup_contact_find (f->tb.book, acc, RECOUP_CONTACT_EMAIL, "billing@copy.example", &opted, &error));
  g_assert_nonnull (opted);
  g_assert_true (recoup_contact_set_opted_out (f->tb.book, opted, TRUE, &error));
  g_assert_no_error (error);
  other = recoup_contact_add (f->tb.book, acc, RECOUP_CONTACT_EMAIL, "accounts@copy.example", "", FALSE, &error);
  g_assert_no_error (error);
  /* The copy, as an earlier Recoup merged it: primary, not opted out. */
  sql = g_strdup_printf ("INSERT INTO contact_points (id, account_id, kind, value, is_primary, created_at)"
                         " VALUES ('copy-1', '%s', 'email', 'Billing@COPY.example', 1, 0);"
                         /* Opted out, removed on one device, added again on another. */
                         "INSERT INTO contact_points (id, account_id, kind, value, opted_out, deleted, created_at)"
                         " VALUES ('gone-1', '%s', 'email', 'old@copy.example', 1, 1, 0);"
                         "INSERT INTO contact_points (id, account_id, kind, value, is_primary, created_at)"
                         " VALUES ('again-1', '%s', 'email', 'OLD@copy.example', 1, 0)", acc, acc, acc);
  g_assert_true (recoup_book_exec (f->tb.book, sql, &error));
  g_assert_no_error (error);

  g_assert_true (recoup_instant_parse ("2026-11-24T18:00:00Z", &at, &error));
  run = recoup_remind_propose (f->tb.book, at, &error);
  g_assert_no_error (error);
  it = find_item (run, "COPY-1");
  g_assert_nonnull (it);
  g_assert_cmpstr (it->to, ==, "accounts@copy.example");
}

static void
test_remind_letters (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupRemindRun) run = NULL;
  g_autofree char *a = NULL, *cp = NULL;
  g_autofree char *dir = g_build_filename (f->tb.dir, "letters", NULL);
  g_autoptr(RecoupAccount) acc = NULL;
  RecoupRemindItem *it;
  RecoupRemindResult result;
  RecoupRemindOptions options = { .letters_dir = dir, .render_letter = recoup_mail_letter_renderer };
  gint64 at;

  a = debtor (f, "REGF-1", "America/Chicago", "regf@example.com");
  cp = recoup_contact_add (f->tb.book, a, RECOUP_CONTACT_ADDRESS, "9 Oak Ave, Peoria, IL 61602", "", TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_instant_parse ("2026-11-24T18:00:00Z", &at, &error));
  run = recoup_remind_propose (f->tb.book, at, &error);
  g_assert_no_error (error);
  it = find_item (run, "REGF-1");
  g_assert_nonnull (it);
  g_assert_cmpstr (it->template_name, ==, "validation-notice");
  g_assert_cmpstr (it->channel, ==, "letter");
  g_assert_false (it->held);

  g_assert_true (recoup_remind_execute (f->tb.book, run, &options, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (result.letters, ==, 1);
  g_assert_cmpuint (result.letter_paths->len, ==, 1);
  {
    g_autofree char *pdf = NULL;

    g_assert_true (g_file_get_contents (g_ptr_array_index (result.letter_paths, 0), &pdf, NULL, NULL));
    g_assert_true (g_str_has_prefix (pdf, "%PDF-"));
  }
  recoup_remind_result_clear (&result);
  g_assert_cmpint (test_query_int (f->tb.path,
    "SELECT count(*) FROM activities WHERE channel = 'letter' AND outcome = 'sent'"), ==, 1);
  acc = recoup_account_load (f->tb.book, a, &error);
  g_assert_cmpstr (acc->validation_notice_date, ==, "2026-11-24");
}

/* A text: generated, logged as an sms activity, offered as an sms: link. */
static void
test_remind_sms (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupRemindRun) run = NULL;
  g_autofree char *a = NULL, *cp = NULL;
  RecoupRemindItem *it;
  RecoupRemindResult result;
  RecoupRemindOptions options = { .render_letter = recoup_mail_letter_renderer };
  gint64 at;

  g_assert_true (recoup_guard_set_profile (f->tb.book, "first-party", &error));
  g_assert_true (recoup_escalation_policy_save (f->tb.book, "1:sms:text;30:letter:letter", &error));
  g_assert_true (recoup_book_set_setting (f->tb.book, "business.name", "Acme", &error));
  g_assert_no_error (error);
  a = debtor (f, "SMS-1", "America/Chicago", "sms@example.com");
  cp = recoup_contact_add (f->tb.book, a, RECOUP_CONTACT_PHONE, "+1 312 555 0199", "", TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_instant_parse ("2026-11-24T18:00:00Z", &at, &error));
  run = recoup_remind_propose (f->tb.book, at, &error);
  g_assert_no_error (error);
  it = find_item (run, "SMS-1");
  g_assert_nonnull (it);
  g_assert_cmpstr (it->channel, ==, "sms");
  g_assert_cmpstr (it->template_name, ==, "sms-reminder");
  g_assert_false (it->held);

  g_assert_true (recoup_remind_execute (f->tb.book, run, &options, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (result.sms, ==, 1);
  g_assert_cmpuint (result.sms_links->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (result.sms_links, 0),
                                   "SMS-1 sms:+13125550199?body=Acme%3A%20SMS-1%2C%20USD%20123.45%20is%20overdue"));
  recoup_remind_result_clear (&result);
  g_assert_cmpint (test_query_int (f->tb.path, "SELECT count(*) FROM activities WHERE channel = 'sms'"), ==, 1);
  g_assert_cmpint (test_query_int (f->tb.path, "SELECT count(*) FROM outbox"), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *config = g_dir_make_tmp ("recoup-test-config-XXXXXX", NULL);
  int rc;

  /* The password goes to a file in a throwaway config dir, never a keyring. */
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_setenv ("RECOUP_NO_KEYRING", "1", TRUE);
  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();
  find_python ();

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/recoup/mail/outbox/enqueue", test_enqueue);
  ADD ("/recoup/mail/outbox/deliver", test_deliver);
  ADD ("/recoup/mail/outbox/server-down", test_server_down);
  ADD ("/recoup/mail/outbox/kill-between-send-and-record", test_kill_between_send_and_record);
  ADD ("/recoup/mail/outbox/bad-messages", test_bad_messages);
  ADD ("/recoup/mail/outbox/auth-refused", test_auth_refused);
  ADD ("/recoup/mail/remind/held-back", test_remind_run);
  ADD ("/recoup/mail/remind/letters", test_remind_letters);
  ADD ("/recoup/mail/remind/opted-out-copy", test_remind_opted_out_copy);
  ADD ("/recoup/mail/remind/sms", test_remind_sms);
#undef ADD

  rc = g_test_run ();
  test_remove_tree (config);
  return rc;
}
