/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <string.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "recoup-book-private.h"
#include "recoup-test-util.h"
#include "recoup-core.h"
#include "recoup-sync.h"

/*
 * Sync end to end: a real recoupd (the built program, $RECOUPD) on
 * 127.0.0.1, a port it picks, HTTPS with a self-signed certificate made here
 * by openssl, and client books talking to it through librecoup-sync.
 */

typedef struct
{
  char        *dir;
  char        *data_dir;
  char        *cert;
  char        *key;
  char        *config;
  char        *fingerprint;
  GSubprocess *server;
  guint        port;
  char        *org;
  char        *owner;
  char        *collector;
} Fixture;

static const char *
recoupd_path (void)
{
  const char *path = g_getenv ("RECOUPD");

  if (path == NULL)
    g_error ("RECOUPD must name the recoupd program to test");
  return path;
}

static char *
run (Fixture     *f,
     gboolean     must_succeed,
     const char  *first,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  va_list args;

  g_ptr_array_add (argv, (char *) recoupd_path ());
  g_ptr_array_add (argv, (char *) "--config");
  g_ptr_array_add (argv, f->config);
  g_ptr_array_add (argv, (char *) "admin");
  va_start (args, first);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  if (must_succeed)
    {
      if (!g_spawn_check_wait_status (status, NULL))
        g_error ("recoupd admin %s failed: %s", first, err);
    }
  return g_strstrip (g_steal_pointer (&out));
}


static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
start_server (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autofree char *line = NULL;

  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

  /* The server never outlives a test that aborts. */
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_autofree char *port = g_strdup_printf ("%u", f->port);

  f->server = g_subprocess_launcher_spawn (launcher, &error,
                                           recoupd_path (), "--config", f->config, "--port", port, NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->server));
  line = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "recoupd: listening on port "));
  {
    guint port = (guint) g_ascii_strtoull (line + strlen ("recoupd: listening on port "), NULL, 10);

    g_assert_cmpuint (port, >, 0);
    g_assert_true (f->port == 0 || f->port == port);
    f->port = port;
  }
  /* The server prints the fingerprint the enrollment codes carry. */
  g_assert_nonnull (strstr (line, f->fingerprint));
}

static guint
bench_batch (void)
{
  const char *text = g_getenv ("RECOUP_SYNC_BENCH_BATCH");

  return text != NULL && atoi (text) > 0 ? (guint) atoi (text) : 1000;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *conf = NULL;

  f->dir = g_dir_make_tmp ("recoup-sync-XXXXXX", &error);
  g_assert_no_error (error);
  f->data_dir = g_build_filename (f->dir, "server", NULL);
  f->cert = g_build_filename (f->dir, "cert.pem", NULL);
  f->key = g_build_filename (f->dir, "key.pem", NULL);
  f->config = g_build_filename (f->dir, "recoupd.conf", NULL);
  f->fingerprint = test_make_certificate (f->key, f->cert);
  /* RECOUP_SYNC_BENCH_BATCH: the server's max-batch (and the large-batch
   * case's client batch) for a throughput run; 1000 otherwise. */
  conf = g_strdup_printf ("[server]\nlisten=127.0.0.1\nport=0\ncert=%s\nkey=%s\ndata-dir=%s\nmax-batch=%u\n",
                          f->cert, f->key, f->data_dir, bench_batch ());
  g_assert_true (g_file_set_contents (f->config, conf, -1, &error));
  g_assert_no_error (error);

  f->org = run (f, TRUE, "create-org", "Acme Collections", NULL);
  g_assert_true (recoup_uuid_is_valid (f->org));
  f->owner = run (f, TRUE, "add-user", "Acme Collections", "olive", "--role", "owner", NULL);
  f->collector = run (f, TRUE, "add-user", "Acme Collections", "carl", "--role", "collector",
                      "--max-discount-bp", "1000", "--max-installments", "6", NULL);
  start_server (f);
}


static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->server != NULL)
    {
      g_subprocess_send_signal (f->server, SIGTERM);
      g_subprocess_wait (f->server, NULL, NULL);
      g_assert_true (g_subprocess_get_if_exited (f->server));
      g_clear_object (&f->server);
    }
  test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->data_dir);
  g_free (f->cert);
  g_free (f->key);
  g_free (f->config);
  g_free (f->fingerprint);
  g_free (f->org);
  g_free (f->owner);
  g_free (f->collector);
}

static char *
enrollment_code (Fixture    *f,
                 const char *org,
                 const char *user)
{
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", f->port);

  return run (f, TRUE, "--url", url, "enroll", org, user, NULL);
}

/* What `recoup-cli enroll` does: redeem, bootstrap an empty book, attach. */
static RecoupBook *
enroll_book (Fixture    *f,
             const char *code,
             const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupSyncEnrollment) e = recoup_sync_enroll (code, name, NULL, &error);
  RecoupBook *book;

  g_assert_no_error (error);
  g_assert_nonnull (e);
  g_assert_true (recoup_sync_bootstrap (e, path, NULL, &error));
  g_assert_no_error (error);
  book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_sync_attach (book, e, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (recoup_book_get_user_id (book), ==, e->user_id);
  return book;
}

static gboolean
sync_book (RecoupBook       *book,
           RecoupSyncReport *report,
           GError          **error)
{
  g_autoptr(RecoupSyncClient) client = recoup_sync_client_new (book, error);
  RecoupSyncReport dummy = { 0 };

  if (client == NULL)
    return FALSE;
  recoup_sync_client_set_batch_size (client, 7, 5);   /* many small requests */
  return recoup_sync_client_run (client, report != NULL ? report : &dummy, NULL, error);
}

static gint64
count_rows_db (sqlite3    *db,
               const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

static gint64
count_rows (RecoupBook *book,
            const char *sql)
{
  return count_rows_db (recoup_book_get_db (book), sql);
}

static char *
canonical (RecoupBook *book)
{
  static const char * const tables[] = {
    "users", "accounts", "contact_points", "invoices", "ledger_entries", "activities", NULL,
  };
  GString *out = g_string_new (NULL);

  for (guint t = 0; tables[t] != NULL; t++)
    {
      /* Only rows that came through the change log: each book also has the
       * local owner it was created with. */
      g_autofree char *sql = g_strdup_printf ("SELECT * FROM %s WHERE id IN (SELECT entity_id FROM changes)"
                                              " ORDER BY id", tables[t]);
      sqlite3_stmt *stmt = NULL;

      g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &stmt, NULL), ==, SQLITE_OK);
      g_string_append_printf (out, "[%s]\n", tables[t]);
      while (sqlite3_step (stmt) == SQLITE_ROW)
        {
          for (int c = 0; c < sqlite3_column_count (stmt); c++)
            g_string_append_printf (out, "%s|", sqlite3_column_type (stmt, c) == SQLITE_NULL ? "-" :
                                    (const char *) sqlite3_column_text (stmt, c));
          g_string_append_c (out, '\n');
        }
      sqlite3_finalize (stmt);
    }
  return g_string_free (out, FALSE);
}

static char *
make_account (RecoupBook *book,
              const char *ref)
{
  RecoupAccountSpec spec = { .ref = ref, .name = ref, .currency = "USD", .timezone = "America/New_York" };
  g_autoptr(GError) error = NULL;
  char *id = recoup_account_create (book, &spec, &error);

  g_assert_no_error (error);
  return id;
}

static void
log_call (RecoupBook *book,
          const char *account)
{
  RecoupActivitySpec act = { .account_id = account, .channel = "call", .outcome = "no-answer" };
  g_autoptr(GError) error = NULL;
  g_autofree char *id = recoup_activity_log (book, &act, &error);

  g_assert_no_error (error);
}

/* ---- raw HTTP for what the client library would never send ---- */

static gboolean
accept_any_cb (SoupMessage          *msg,
               GTlsCertificate      *cert,
               GTlsCertificateFlags  errors,
               gpointer              data)
{
  return TRUE;
}

/* The Recoup-Schema header raw() sends; 0: this build's book schema. */
static int raw_schema;

/* raw() with the Authorization header as given (NULL: none), whatever it is. */
static JsonObject *
raw_authorization (Fixture    *f,
                   const char *method,
                   const char *path,
                   const char *authorization,
                   const char *protocol,
                   const char *body,
                   guint      *out_status)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u%s", f->port, path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  char schema[16];

  g_snprintf (schema, sizeof schema, "%d", raw_schema > 0 ? raw_schema : RECOUP_SCHEMA_VERSION);
  if (protocol != NULL)
    soup_message_headers_replace (h, "Recoup-Protocol", protocol);
  soup_message_headers_replace (h, "Recoup-Schema", schema);
  if (authorization != NULL)
    soup_message_headers_replace (h, "Authorization", authorization);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any_cb), NULL);
  answer = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  *out_status = soup_message_get_status (msg);
  g_assert_cmpstr (soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL),
                   ==, "application/json");
  node = json_from_string (g_bytes_get_data (answer, NULL) ? (const char *) g_bytes_get_data (answer, NULL) : "",
                           &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static JsonObject *
raw (Fixture    *f,
     const char *method,
     const char *path,
     const char *token,
     const char *protocol,
     const char *body,
     guint      *out_status)
{
  g_autofree char *auth = token != NULL ? g_strconcat ("Bearer ", token, NULL) : NULL;

  return raw_authorization (f, method, path, auth, protocol, body, out_status);
}

/* GET @path as libsoup's default session does it (Accept-Encoding: gzip …):
 * the response's Content-Encoding, and the decoded body's length. */
static char *
get_encoding (Fixture    *f,
              const char *path,
              const char *token,
              gsize      *out_decoded_len)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u%s", f->port, path);
  g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  char schema[16];

  g_snprintf (schema, sizeof schema, "%d", RECOUP_SCHEMA_VERSION);
  soup_message_headers_replace (h, "Recoup-Protocol", "1");
  soup_message_headers_replace (h, "Recoup-Schema", schema);
  soup_message_headers_replace (h, "Authorization", auth);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any_cb), NULL);
  answer = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  *out_decoded_len = g_bytes_get_size (answer);
  return g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (msg), "Content-Encoding"));
}

static char *
device_token (RecoupBook *book)
{
  g_autofree char *device = recoup_book_get_setting (book, "sync.device_id");
  g_autoptr(GError) error = NULL;
  char *token = recoup_sync_token_lookup (device, &error);

  g_assert_no_error (error);
  return token;
}

/* An enrollment code as recoupd writes one, with any of its fields. */
static char *
make_code (const char *url,
           const char *secret,
           const char *sha256)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "url");
  json_builder_add_string_value (b, url);
  json_builder_set_member_name (b, "secret");
  json_builder_add_string_value (b, secret);
  json_builder_set_member_name (b, "sha256");
  json_builder_add_string_value (b, sha256);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json = json_to_string (root, FALSE);
  return g_base64_encode ((const guchar *) json, strlen (json));
}

/* A socket bound to a port of 127.0.0.1 that does not listen: connecting to
 * @out_port is refused for as long as the socket is kept. */
static GSocket *
dead_port (guint *out_port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (sock, any, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);
  *out_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return sock;
}

/* ---- tests ---- */

static void
test_roundtrip (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc1 = NULL;
  g_autofree char *acc2 = NULL;
  RecoupSyncReport ra = { 0 }, rb = { 0 };
  gint64 n_changes;

  /* The token file is private. */
  {
    g_autofree char *device = recoup_book_get_setting (a, "sync.device_id");
    g_autofree char *path = g_build_filename (g_get_user_config_dir (), "recoup", "tokens", device, NULL);
    GStatBuf st;

    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  }

  /* Both books start from the organisation's book: its users. */
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM users WHERE name IN ('olive','carl')"), ==, 2);
  g_assert_cmpstr (recoup_book_get_user_id (b), ==, f->collector);

  acc1 = make_account (a, "ACC-1");
  acc2 = make_account (a, "ACC-2");
  for (int i = 0; i < 10; i++)
    log_call (a, i % 2 ? acc1 : acc2);
  g_assert_true (recoup_account_set (a, acc1, "notes", "from A", &error));
  g_assert_no_error (error);

  g_assert_true (sync_book (a, &ra, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ra.pushed, ==, 13);
  g_assert_cmpuint (ra.rejected, ==, 0);
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, 0);

  /* B works offline on what it pulled, then both sync. */
  g_assert_true (sync_book (b, &rb, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rb.applied, ==, 13);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM activities"), ==, 10);
  log_call (b, acc1);
  g_assert_true (recoup_account_set (b, acc2, "name", "Renamed by B", &error));
  g_assert_no_error (error);
  g_assert_true (recoup_account_set (a, acc2, "tags", "vip", &error));
  g_assert_no_error (error);

  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  {
    g_autofree char *da = canonical (a);
    g_autofree char *db = canonical (b);
    g_assert_cmpstr (da, ==, db);
  }
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM activities"), ==, 11);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM accounts WHERE name = 'Renamed by B' AND tags = 'vip'"), ==, 1);

  /* A lost acknowledgement (a crash after the server committed): the same
   * changes are pushed again and get their original sequence numbers. */
  n_changes = count_rows (a, "SELECT count(*) FROM changes");
  {
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    sqlite3_stmt *stmt = NULL;
    RecoupSyncReport again = { 0 };

    g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (a),
                                         "SELECT group_concat(id || ':' || server_seq) FROM"
                                         " (SELECT id, server_seq FROM changes WHERE device_id = ?1 ORDER BY seq)",
                                         -1, &stmt, NULL), ==, SQLITE_OK);
    sqlite3_bind_text (stmt, 1, recoup_book_get_device_id (a), -1, SQLITE_STATIC);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    before = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
    sqlite3_reset (stmt);
    g_assert_cmpint (sqlite3_exec (recoup_book_get_db (a), "UPDATE changes SET server_seq = NULL"
                                   " WHERE device_id = (SELECT value FROM settings WHERE key = 'device_id')",
                                   NULL, NULL, NULL), ==, SQLITE_OK);
    g_assert_cmpint (recoup_merge_count_unsent (a), ==, 14);
    g_assert_true (sync_book (a, &again, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (again.pushed, ==, 14);
    g_assert_cmpuint (again.applied, ==, 0);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    after = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
    g_assert_cmpstr (before, ==, after);
  }
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM changes"), ==, n_changes);
  {
    RecoupSyncReport rb2 = { 0 };
    g_assert_true (sync_book (b, &rb2, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (rb2.applied, ==, 0);
  }
  g_assert_true (recoup_book_check_integrity (a, &error));
  g_assert_no_error (error);
}

static void
test_bootstrap (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *code_c = NULL;
  RecoupSyncReport rc = { 0 };

  for (int i = 0; i < 30; i++)
    {
      g_autofree char *ref = g_strdup_printf ("B-%02d", i);
      g_autofree char *id = make_account (a, ref);
    }
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);

  /* A new device gets the book as a file, as of the server's sequence. */
  code_c = enrollment_code (f, f->org, "olive");
  c = enroll_book (f, code_c, "c.recoup");
  g_assert_cmpint (count_rows (c, "SELECT count(*) FROM accounts"), ==, 30);
  g_assert_cmpint (recoup_merge_get_cursor (c), >, 30);
  g_assert_cmpstr (recoup_book_get_device_id (c), !=, recoup_book_get_device_id (a));
  g_assert_cmpint (recoup_merge_count_unsent (c), ==, 0);
  g_assert_true (sync_book (c, &rc, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rc.pulled, ==, 0);
  g_assert_true (recoup_book_check_integrity (c, &error));
  g_assert_no_error (error);

  /* A book with changes of its own is never replaced by a snapshot. */
  {
    g_autofree char *code = enrollment_code (f, f->org, "olive");
    g_autoptr(RecoupSyncEnrollment) e = recoup_sync_enroll (code, "again", NULL, &error);
    g_assert_no_error (error);
    g_assert_false (recoup_sync_bootstrap (e, recoup_book_get_path (a), NULL, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  }
}

static void
test_wrong_fingerprint (Fixture       *f,
                        gconstpointer  data)
{
  static const char *other = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  g_autofree char *code = enrollment_code (f, f->org, "carl");
  g_autofree char *shown_server = recoup_sync_format_fingerprint (f->fingerprint);
  g_autofree char *shown_other = recoup_sync_format_fingerprint (other);
  RecoupEnrollmentCode parsed;
  g_autoptr(GError) error = NULL;
  g_autofree char *forged = NULL;
  g_autofree char *short_fp = NULL;
  g_autoptr(RecoupSyncEnrollment) e = NULL;

  g_assert_true (recoup_enrollment_code_parse (code, &parsed, &error));
  g_assert_cmpstr (parsed.fingerprint, ==, f->fingerprint);
  forged = make_code (parsed.url, parsed.secret, other);

  /* A device being enrolled is told about the code, not about an earlier
   * enrollment, with both fingerprints as the Connect page shows them. */
  e = recoup_sync_enroll (forged, "mitm", NULL, &error);
  g_assert_null (e);
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_CERTIFICATE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, shown_server));
  g_assert_nonnull (strstr (error->message, shown_other));
  g_assert_nonnull (strstr (error->message, "the enrollment code names"));
  g_assert_nonnull (strstr (error->message, "this device was not connected"));
  g_assert_null (strstr (error->message, "enrolled with"));
  g_assert_null (strstr (error->message, f->fingerprint));
  g_clear_error (&error);

  /* A fingerprint that is no SHA-256 is refused before anything is sent. */
  short_fp = make_code (parsed.url, parsed.secret, "ab");
  g_assert_null (recoup_sync_enroll (short_fp, "short", NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_BAD_CODE);
  g_clear_error (&error);

  /* Nothing reached the server: the genuine code still works, once. */
  e = recoup_sync_enroll (code, "genuine", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (e);
  g_clear_pointer (&e, recoup_sync_enrollment_free);
  e = recoup_sync_enroll (code, "replay", NULL, &error);
  g_assert_null (e);
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "enrollment_used"));
  recoup_enrollment_code_clear (&parsed);

  /* Garbage is not a code. */
  g_clear_error (&error);
  g_assert_null (recoup_sync_enroll ("not a code!", "x", NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_BAD_CODE);
}

/* A fingerprint is 32 bytes: 64 hex digits, which colons or spaces may
 * separate; the parser says what is wrong with anything else. */
static void
test_code_fingerprint (void)
{
  static const char *hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  static const struct
  {
    const char *sha256;
    const char *says;
  } refused[] = {
    { "ab", "(“ab”) has 2 hex digits, but a SHA-256 fingerprint has 64" },
    { "", "has 0 hex digits" },
    { "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00", "has 66 hex digits" },
    { "0011223344556677", "has 16 hex digits" },
    { "g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "has “g” in it, which is not a hex digit" },
    { "00-11-22-33-44-55-66-77-88-99-aa-bb-cc-dd-ee-ff-00-11-22-33-44-55-66-77-88-99-aa-bb-cc-dd-ee-ff",
      "has “-” in it" },
    { "é0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "has “é” in it" },
  };
  g_autofree char *colons = recoup_sync_format_fingerprint (hex);
  g_autofree char *spaced = g_strdelimit (g_strdup (colons), ":", ' ');
  const char *accepted[] = { hex, colons, spaced };

  g_assert_cmpstr (colons, ==, "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                               "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *code = make_code ("https://127.0.0.1:1", "secret", refused[i].sha256);
      RecoupEnrollmentCode parsed;
      g_autoptr(GError) error = NULL;

      g_assert_false (recoup_enrollment_code_parse (code, &parsed, &error));
      g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_BAD_CODE);
      g_test_message ("%s: %s", refused[i].sha256, error->message);
      g_assert_nonnull (strstr (error->message, "fingerprint in this enrollment code"));
      g_assert_nonnull (strstr (error->message, refused[i].says));
      g_assert_nonnull (strstr (error->message, "ask the server's owner for a new code"));
      g_assert_null (parsed.url);
      g_assert_null (parsed.fingerprint);
    }
  for (guint i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_autofree char *code = make_code ("https://127.0.0.1:1", "secret", accepted[i]);
      RecoupEnrollmentCode parsed;
      g_autoptr(GError) error = NULL;

      g_assert_true (recoup_enrollment_code_parse (code, &parsed, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (parsed.fingerprint, ==, hex);
      recoup_enrollment_code_clear (&parsed);
    }
}

/* A first enrollment that reaches no server says what to check: there is
 * no queue yet and nothing was retried on the user's behalf. */
static void
test_enroll_unreachable (void)
{
  guint port = 0;
  g_autoptr(GSocket) dead = dead_port (&port);
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", port);
  g_autofree char *code = make_code (url, "secret",
                                     "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  g_autoptr(GError) error = NULL;

  g_assert_null (recoup_sync_enroll (code, "laptop", NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NETWORK);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "cannot reach the server at "));
  g_assert_nonnull (strstr (error->message, url));
  g_assert_nonnull (strstr (error->message, "Check that the address in the enrollment code is right, that the "
                                            "server is running, and that this device is on a network"));
  g_assert_null (strstr (error->message, "queued"));
  g_assert_null (strstr (error->message, "tried"));
}

/* An enrolled device that cannot reach its server still hears that its
 * changes wait, after the retries. */
static void
test_enrolled_unreachable (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *code = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) b = enroll_book (f, code, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = NULL;
  g_autofree char *last = NULL;
  RecoupSyncError kind;

  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  acc = make_account (b, "WAITING");
  g_subprocess_send_signal (f->server, SIGTERM);
  g_subprocess_wait (f->server, NULL, NULL);
  g_clear_object (&f->server);

  g_assert_false (sync_book (b, NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NETWORK);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "cannot reach https://127.0.0.1:"));
  g_assert_nonnull (strstr (error->message, "(tried 5 times); unsent changes stay queued"));
  g_assert_cmpint (recoup_merge_count_unsent (b), ==, 1);
  last = recoup_book_get_setting (b, "sync.last_error");
  g_assert_cmpstr (last, ==, error->message);
  /* The kind is kept with it, for a program started later. */
  g_assert_true (recoup_sync_get_last_error_kind (b, &kind));
  g_assert_cmpint (kind, ==, RECOUP_SYNC_ERROR_NETWORK);

  /* The server is back: the queue empties and the failure is forgotten. */
  g_clear_error (&error);
  start_server (f);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (b), ==, 0);
  g_assert_false (recoup_sync_get_last_error_kind (b, &kind));
}

/* ---- an HTTPS stub that answers every request with one status ----
 * As a reverse proxy in front of a stopped recoupd does (502, 503, 504), or
 * a server that fails (500). It runs on a thread of its own: the client
 * blocks. */

typedef struct
{
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
  const char   *cert;
  const char   *key;
  guint         status;
  guint         port;
  volatile gint requests;
  GMutex        lock;
  GCond         ready;
} Stub;

static void
stub_cb (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           data)
{
  static const char page[] = "<html><body><h1>Service Unavailable</h1></body></html>";
  Stub *stub = data;

  g_atomic_int_inc (&stub->requests);
  soup_server_message_set_status (msg, g_atomic_int_get ((gint *) &stub->status), NULL);
  soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, page, strlen (page));
}

/* Serves HTTPS on 127.0.0.1 with @stub's certificate, every path by
 * @callback, on the calling thread until @stub's loop quits; its port is set
 * (and signalled) once it listens. */
static gpointer
stub_serve (Stub               *stub,
            SoupServerCallback  callback,
            gpointer            callback_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(SoupServer) server = NULL;
  GSList *uris;

  g_main_context_push_thread_default (stub->context);
  cert = g_tls_certificate_new_from_files (stub->cert, stub->key, &error);
  g_assert_no_error (error);
  server = soup_server_new ("tls-certificate", cert, NULL);
  soup_server_add_handler (server, NULL, callback, callback_data, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_HTTPS | SOUP_SERVER_LISTEN_IPV4_ONLY,
                                           &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  g_mutex_lock (&stub->lock);
  stub->port = (guint) g_uri_get_port (uris->data);
  g_cond_signal (&stub->ready);
  g_mutex_unlock (&stub->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_main_loop_run (stub->loop);
  soup_server_disconnect (server);
  g_main_context_pop_thread_default (stub->context);
  return NULL;
}

static gpointer
stub_thread (gpointer data)
{
  return stub_serve (data, stub_cb, data);
}

/* Runs @func (@data) on a thread of its own with @stub's context and loop,
 * until it has set @stub's port. */
static void
stub_launch (Stub        *stub,
             Fixture     *f,
             GThreadFunc  func,
             gpointer     data)
{
  stub->cert = f->cert;
  stub->key = f->key;
  g_mutex_init (&stub->lock);
  g_cond_init (&stub->ready);
  stub->context = g_main_context_new ();
  stub->loop = g_main_loop_new (stub->context, FALSE);
  g_mutex_lock (&stub->lock);
  stub->thread = g_thread_new ("stub", func, data);
  while (stub->port == 0)
    g_cond_wait (&stub->ready, &stub->lock);
  g_mutex_unlock (&stub->lock);
}

static void
stub_start (Stub       *stub,
            Fixture    *f,
            guint       status)
{
  stub->status = status;
  stub_launch (stub, f, stub_thread, stub);
}

static void
stub_stop (Stub *stub)
{
  g_main_loop_quit (stub->loop);
  g_thread_join (stub->thread);
  g_main_loop_unref (stub->loop);
  g_main_context_unref (stub->context);
  g_mutex_clear (&stub->lock);
  g_cond_clear (&stub->ready);
}

/* A book connected, as enrollment would connect it, to the server at @port
 * (with the fixture's certificate), with one change waiting. */
static RecoupBook *
book_for_port (Fixture    *f,
               guint       port,
               const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", port);
  g_autoptr(GError) error = NULL;
  RecoupBook *book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  RecoupSyncEnrollment e = {
    .url = url, .fingerprint = f->fingerprint, .token = (char *) "stub-token", .device_id = (char *) name,
    .org_id = f->org, .user_id = (char *) recoup_book_get_user_id (book), .user_name = (char *) "olive",
    .role = (char *) "owner",
  };
  g_autofree char *acc = NULL;

  g_assert_no_error (error);
  g_assert_true (recoup_sync_attach (book, &e, &error));
  g_assert_no_error (error);
  acc = make_account (book, "BEHIND-PROXY");
  return book;
}

/* A proxy in front of a stopped recoupd answers 503 (or 502, 504): after
 * the same retries as a connection that fails, the server is out of reach
 * (NETWORK, as the app's Offline state wants it), not refusing; the change
 * waits. A 500 is the server's own failure and stays a refusal. */
static void
test_gateway_unavailable (Fixture       *f,
                          gconstpointer  data)
{
  static const guint statuses[] = { 503, 502, 504, 500 };

  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      Stub stub = { 0 };
      g_autofree char *name = g_strdup_printf ("proxied-%u.recoup", statuses[i]);
      g_autoptr(RecoupBook) book = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *http = g_strdup_printf ("HTTP %u", statuses[i]);
      RecoupSyncError kind;

      stub_start (&stub, f, statuses[i]);
      book = book_for_port (f, stub.port, name);
      g_assert_false (sync_book (book, NULL, &error));
      g_test_message ("%u: %s", statuses[i], error->message);
      /* The retries and their backoff are unchanged: five tries. */
      g_assert_cmpint (g_atomic_int_get (&stub.requests), ==, 5);
      g_assert_nonnull (strstr (error->message, http));
      g_assert_cmpint (recoup_merge_count_unsent (book), ==, 1);
      g_assert_true (recoup_sync_get_last_error_kind (book, &kind));
      if (statuses[i] == 500)
        {
          g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_REFUSED);
          g_assert_cmpint (kind, ==, RECOUP_SYNC_ERROR_REFUSED);
        }
      else
        {
          g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NETWORK);
          g_assert_cmpint (kind, ==, RECOUP_SYNC_ERROR_NETWORK);
          g_assert_true (g_str_has_prefix (error->message, "cannot reach https://127.0.0.1:"));
          g_assert_nonnull (strstr (error->message, "(tried 5 times); unsent changes stay queued"));
          g_assert_null (strstr (error->message, "<html>"));
        }
      stub_stop (&stub);
    }
}

/* A sync stopped on purpose (the app's window closed) is neither a network
 * failure nor remembered as one: the last failure stays what it was. */
static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  Stub stub = { 0 };
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(RecoupSyncClient) client = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *last = NULL;
  RecoupSyncError kind;

  stub_start (&stub, f, 503);
  book = book_for_port (f, stub.port, "cancelled.recoup");
  g_assert_true (recoup_book_set_setting (book, "sync.last_error", "certificate replaced", &error));
  g_assert_true (recoup_book_set_setting (book, "sync.last_error_kind", "certificate", &error));
  client = recoup_sync_client_new (book, &error);
  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  g_assert_false (recoup_sync_client_run (client, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (recoup_merge_count_unsent (book), ==, 1);
  last = recoup_book_get_setting (book, "sync.last_error");
  g_assert_cmpstr (last, ==, "certificate replaced");
  g_assert_true (recoup_sync_get_last_error_kind (book, &kind));
  g_assert_cmpint (kind, ==, RECOUP_SYNC_ERROR_CERTIFICATE);
  stub_stop (&stub);
}

/* An enrolled device whose server shows another certificate is told so as
 * an enrolled device, with fingerprints in the format the app shows. */
static void
test_enrolled_certificate (Fixture       *f,
                           gconstpointer  data)
{
  static const char *pinned = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  g_autofree char *code = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) b = enroll_book (f, code, "b.recoup");
  g_autofree char *shown_server = recoup_sync_format_fingerprint (f->fingerprint);
  g_autofree char *shown_pinned = recoup_sync_format_fingerprint (pinned);
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (b, "PINNED");

  /* As if the server's certificate had been replaced since enrollment. */
  g_assert_true (recoup_book_set_setting (b, "sync.fingerprint", pinned, &error));
  g_assert_no_error (error);
  g_assert_false (sync_book (b, NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_CERTIFICATE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "is not the one this device was enrolled with"));
  g_assert_nonnull (strstr (error->message, shown_server));
  g_assert_nonnull (strstr (error->message, shown_pinned));
  g_assert_null (strstr (error->message, f->fingerprint));
  g_assert_null (strstr (error->message, "enrollment code names"));
  g_assert_cmpint (recoup_merge_count_unsent (b), ==, 1);
}

static void
test_plain_http (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 10, NULL);
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/v1/changes?after=0", f->port);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *code = NULL;
  g_autofree char *http_code = NULL;
  guint status = 0;

  /* The server speaks TLS only: a plain HTTP request gets no HTTP answer. */
  answer = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_nonnull (error);
  g_assert_false (SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg)));
  g_clear_error (&error);

  /* And the client will not send to an http:// address. */
  json = g_strdup_printf ("{\"url\":\"http://127.0.0.1:%u\",\"secret\":\"x\",\"sha256\":\"%s\"}",
                          f->port, f->fingerprint);
  http_code = g_base64_encode ((const guchar *) json, strlen (json));
  g_assert_null (recoup_sync_enroll (http_code, "x", NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_BAD_CODE);

  /* The server still serves. */
  {
    g_autoptr(JsonObject) obj = raw (f, "GET", "/v1/changes", NULL, "1", NULL, &status);
    g_assert_cmpuint (status, ==, 401);
    g_assert_cmpstr (json_object_get_string_member (obj, "error"), ==, "unauthorized");
  }
}

static void
test_revoked (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *code = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) b = enroll_book (f, code, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *device = recoup_book_get_setting (b, "sync.device_id");
  g_autofree char *out = NULL;
  g_autofree char *acc = NULL;

  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  out = run (f, TRUE, "devices", "Acme Collections", NULL);
  g_assert_nonnull (strstr (out, device));
  g_assert_nonnull (strstr (out, "active"));
  g_free (run (f, TRUE, "revoke", device, NULL));

  acc = make_account (b, "AFTER-REVOKE");
  g_assert_false (sync_book (b, NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_UNAUTHORIZED);
  /* Nothing unsent was dropped. */
  g_assert_cmpint (recoup_merge_count_unsent (b), ==, 1);
  {
    g_autofree char *last = recoup_book_get_setting (b, "sync.last_error");
    RecoupSyncError kind;

    g_assert_nonnull (strstr (last, "revoked"));
    g_assert_true (recoup_sync_get_last_error_kind (b, &kind));
    g_assert_cmpint (kind, ==, RECOUP_SYNC_ERROR_UNAUTHORIZED);
  }
}

static void
test_isolation (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *org2 = run (f, TRUE, "create-org", "Other Org", NULL);
  g_autofree char *boss2 = run (f, TRUE, "add-user", "Other Org", "bea", "--role", "owner", NULL);
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_d = enrollment_code (f, "Other Org", "bea");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) d = enroll_book (f, code_d, "d.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc_a = make_account (a, "SECRET-A");
  g_autofree char *acc_d = make_account (d, "SECRET-D");
  g_autofree char *token_d = device_token (d);
  guint status = 0;

  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (d, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (d, "SELECT count(*) FROM accounts WHERE ref = 'SECRET-A'"), ==, 0);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM accounts WHERE ref = 'SECRET-D'"), ==, 0);
  g_assert_cmpint (count_rows (d, "SELECT count(*) FROM users WHERE name = 'olive'"), ==, 0);

  /* D writing to A's account id lands in D's own book, where it does not exist. */
  {
    g_autofree char *cid = recoup_uuid7_new ();
    g_autofree char *body = g_strdup_printf (
      "{\"changes\":[{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\",\"user_id\":null,"
      "\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":\"pwned\"},"
      "\"schema_version\":%d}]}", cid, RECOUP_HLC_MAKE (recoup_wall_clock_ms (), 0), acc_a, RECOUP_SYNC_SCHEMA_VERSION);
    g_autoptr(JsonObject) obj = raw (f, "POST", "/v1/changes", token_d, "1", body, &status);
    JsonObject *r;

    g_assert_cmpuint (status, ==, 200);
    r = json_array_get_object_element (json_object_get_array_member (obj, "results"), 0);
    g_assert_cmpstr (json_object_get_string_member (r, "status"), ==, "rejected");
    g_assert_cmpstr (json_object_get_string_member (r, "reason"), ==, RECOUP_MERGE_REASON_MISSING_ROW);
  }
  /* The snapshot of D's organisation holds none of A's. */
  {
    g_autoptr(RecoupBook) e = NULL;
    g_autofree char *code_e = enrollment_code (f, "Other Org", "bea");
    e = enroll_book (f, code_e, "e.recoup");
    g_assert_cmpint (count_rows (e, "SELECT count(*) FROM accounts WHERE ref = 'SECRET-D'"), ==, 1);
    g_assert_cmpint (count_rows (e, "SELECT count(*) FROM accounts WHERE ref = 'SECRET-A'"), ==, 0);
  }
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM accounts WHERE name = 'pwned'"), ==, 0);
  g_assert_true (boss2 != NULL && org2 != NULL);
}

/* What a pushed change says it overwrote is not taken: only the server
 * finds lost edits, so a device cannot plant one that every copy lists. */
static void
test_pushed_overwrote_ignored (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *code = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) a = enroll_book (f, code, "a.recoup");
  g_autofree char *token = device_token (a);
  g_autofree char *acct = NULL;
  g_autoptr(GError) error = NULL;
  guint status = 0;

  acct = test_add_account (a, "OW-1", "USD");
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  {
    g_autofree char *cid = recoup_uuid7_new ();
    g_autofree char *body = g_strdup_printf (
      "{\"changes\":[{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\",\"user_id\":null,"
      "\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":\"Planted\"},"
      "\"overwrote_unseen\":[\"name\"],\"schema_version\":%d}]}",
      cid, RECOUP_HLC_MAKE (recoup_wall_clock_ms (), 0), acct, RECOUP_SYNC_SCHEMA_BASE);
    g_autoptr(JsonObject) obj = raw (f, "POST", "/v1/changes", token, "1", body, &status);
    JsonObject *r;

    g_assert_cmpuint (status, ==, 200);
    r = json_array_get_object_element (json_object_get_array_member (obj, "results"), 0);
    g_assert_cmpstr (json_object_get_string_member (r, "status"), ==, "accepted");
  }
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM accounts WHERE name = 'Planted'"), ==, 1);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM sync_conflicts"), ==, 0);
}

/* Changes carry the synced tables' schema, which a migration adding only
 * local tables (8: the search index) leaves alone: a client a book schema
 * behind still pulls changes, but not a snapshot of a book it cannot open. */
static void
test_schema_versions (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *code = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) a = enroll_book (f, code, "a.recoup");
  g_autofree char *token = device_token (a);
  g_autoptr(GError) error = NULL;
  guint status = 0;

  g_assert_cmpint (RECOUP_SYNC_SCHEMA_VERSION, <, RECOUP_SCHEMA_VERSION);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  /* Nothing here names a late column (a waiver's fee): every change is
   * stamped with the base, for a server a release behind. */
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM changes WHERE schema_version <> "
                                  G_STRINGIFY (RECOUP_SYNC_SCHEMA_BASE)), ==, 0);

  raw_schema = RECOUP_SYNC_SCHEMA_VERSION;
  {
    g_autoptr(JsonObject) page = raw (f, "GET", "/v1/changes?after=0&limit=10", token, "1", NULL, &status);

    g_assert_cmpuint (status, ==, 200);
    g_assert_true (json_object_has_member (page, "changes"));
  }
  {
    g_autoptr(JsonObject) refused = raw (f, "GET", "/v1/snapshot", token, "1", NULL, &status);

    g_assert_cmpuint (status, ==, 409);
    g_assert_cmpstr (json_object_get_string_member (refused, "error"), ==, "client_too_old");
  }
  raw_schema = RECOUP_SYNC_SCHEMA_VERSION - 1;
  {
    g_autoptr(JsonObject) refused = raw (f, "GET", "/v1/changes?after=0&limit=10", token, "1", NULL, &status);

    g_assert_cmpuint (status, ==, 409);
    g_assert_cmpstr (json_object_get_string_member (refused, "error"), ==, "client_too_old");
  }
  raw_schema = 0;
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *code = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) a = enroll_book (f, code, "a.recoup");
  g_autofree char *token = device_token (a);
  g_autoptr(GError) error = NULL;
  guint status = 0;
  gint64 latest;

  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  latest = recoup_merge_get_cursor (a);

#define EXPECT(method, path, tok, proto, body, want_status, want_error) \
  G_STMT_START { \
    g_autoptr(JsonObject) obj = raw (f, method, path, tok, proto, body, &status); \
    g_assert_cmpuint (status, ==, want_status); \
    g_assert_cmpstr (json_object_get_string_member (obj, "error"), ==, want_error); \
    g_assert_cmpuint (strlen (json_object_get_string_member (obj, "message")), >, 10); \
  } G_STMT_END

  EXPECT ("POST", "/v1/changes", token, "1", "{\"changes\": [ {\"id\": ", 400, "malformed_json");
  EXPECT ("POST", "/v1/changes", token, "1", "[1, 2]", 400, "malformed_json");
  EXPECT ("POST", "/v1/changes", token, "1", "{\"nope\": 1}", 400, "invalid_request");
  EXPECT ("POST", "/v1/changes", NULL, "1", "{\"changes\": []}", 401, "unauthorized");
  EXPECT ("POST", "/v1/changes", "forged-token", "1", "{\"changes\": []}", 401, "unauthorized");
  EXPECT ("GET", "/v1/changes?after=0", token, "2", NULL, 400, "protocol_too_new");
  EXPECT ("GET", "/v1/changes?after=0", token, NULL, NULL, 400, "missing_version");
  EXPECT ("GET", "/v1/changes?after=banana", token, "1", NULL, 400, "invalid_request");
  EXPECT ("GET", "/v1/nothing", token, "1", NULL, 404, "not_found");
  EXPECT ("POST", "/v1/enroll", NULL, "1", "{\"secret\": \"guess\"}", 403, "enrollment_unknown");
  {
    GString *big = g_string_new ("{\"changes\": [");
    for (int i = 0; i < 1001; i++)
      g_string_append_printf (big, "%s{}", i ? "," : "");
    g_string_append (big, "]}");
    EXPECT ("POST", "/v1/changes", token, "1", big->str, 413, "batch_too_large");
    g_string_free (big, TRUE);
  }

  /* Per-change rejections: unknown entity, unknown field, wrong type, newer schema. */
  {
    g_autofree char *acc = make_account (a, "ACC-X");
    g_autofree char *c1 = recoup_uuid7_new ();
    g_autofree char *c2 = recoup_uuid7_new ();
    g_autofree char *c3 = recoup_uuid7_new ();
    g_autofree char *c4 = recoup_uuid7_new ();
    gint64 hlc = RECOUP_HLC_MAKE (recoup_wall_clock_ms (), 0);
    g_autofree char *body = NULL;
    g_autoptr(JsonObject) obj = NULL;
    JsonArray *results;
    static const char * const reasons[] = { "unknown_entity", "unknown_field", "wrong_type", "schema_too_new", "clock_ahead" };
    g_autofree char *c5 = recoup_uuid7_new ();

    g_assert_true (sync_book (a, NULL, &error));
    g_assert_no_error (error);
    latest = recoup_merge_get_cursor (a);
    body = g_strdup_printf ("{\"changes\":["
      "{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\",\"entity\":\"spaceships\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":\"a\"},\"schema_version\":1},"
      "{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\",\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"colour\":\"a\"},\"schema_version\":1},"
      "{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\",\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":[1]},\"schema_version\":1},"
      "{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\",\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":\"a\"},\"schema_version\":99},"
      "{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\",\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":\"a\"},\"schema_version\":1}"
      "]}", c1, hlc, acc, c2, hlc, acc, c3, hlc, acc, c4, hlc, acc,
      c5, RECOUP_HLC_MAKE (recoup_wall_clock_ms () + 48 * 3600 * G_GINT64_CONSTANT (1000), 0), acc);
    obj = raw (f, "POST", "/v1/changes", token, "1", body, &status);
    g_assert_cmpuint (status, ==, 200);
    results = json_object_get_array_member (obj, "results");
    g_assert_cmpuint (json_array_get_length (results), ==, 5);
    for (guint i = 0; i < 5; i++)
      {
        JsonObject *r = json_array_get_object_element (results, i);
        g_assert_cmpstr (json_object_get_string_member (r, "status"), ==, "rejected");
        g_assert_cmpstr (json_object_get_string_member (r, "reason"), ==, reasons[i]);
      }
    /* Nothing changed on the server. */
    g_assert_cmpint (json_object_get_int_member (obj, "latest_seq"), ==, latest);
  }
  /* And it keeps serving. */
  {
    RecoupSyncReport r = { 0 };
    g_assert_true (sync_book (a, &r, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (r.pulled, ==, 0);
  }
#undef EXPECT
}

static void
test_collector_limits (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "ACC-W");
  g_autofree char *token_b = device_token (b);
  g_autofree char *entry = recoup_uuid7_new ();
  g_autofree char *c1 = recoup_uuid7_new ();
  g_autofree char *c2 = recoup_uuid7_new ();
  g_autofree char *body = NULL;
  g_autoptr(JsonObject) obj = NULL;
  JsonArray *results;
  guint status = 0;
  gint64 hlc = RECOUP_HLC_MAKE (recoup_wall_clock_ms (), 0);

  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  body = g_strdup_printf ("{\"changes\":["
    "{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\",\"user_id\":\"%s\",\"entity\":\"ledger_entries\","
    "\"entity_id\":\"%s\",\"op\":\"insert\",\"fields\":{\"id\":\"%s\",\"account_id\":\"%s\",\"kind\":\"write-off\","
    "\"amount\":-50000,\"currency\":\"USD\",\"effective_date\":\"2026-01-01\",\"created_at\":1},\"schema_version\":1},"
    "{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\",\"user_id\":\"%s\",\"entity\":\"users\","
    "\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"role\":\"owner\"},\"schema_version\":1}"
    "]}", c1, hlc, f->collector, entry, entry, acc, c2, hlc, f->collector, f->collector);
  obj = raw (f, "POST", "/v1/changes", token_b, "1", body, &status);
  g_assert_cmpuint (status, ==, 200);
  results = json_object_get_array_member (obj, "results");
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *r = json_array_get_object_element (results, i);
      g_assert_cmpstr (json_object_get_string_member (r, "status"), ==, "rejected");
      g_assert_cmpstr (json_object_get_string_member (r, "reason"), ==, "forbidden");
    }
  /* The owner's identical write-off goes through. */
  {
    g_autofree char *token_a = device_token (a);
    g_autofree char *c3 = recoup_uuid7_new ();
    g_autofree char *body_a = g_strdup_printf (
      "{\"changes\":[{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\",\"user_id\":\"%s\","
      "\"entity\":\"ledger_entries\",\"entity_id\":\"%s\",\"op\":\"insert\",\"fields\":{\"id\":\"%s\","
      "\"account_id\":\"%s\",\"kind\":\"write-off\",\"amount\":-50000,\"currency\":\"USD\","
      "\"effective_date\":\"2026-01-01\",\"created_at\":1},\"schema_version\":1}]}",
      c3, hlc, f->owner, entry, entry, acc);
    g_autoptr(JsonObject) ok = raw (f, "POST", "/v1/changes", token_a, "1", body_a, &status);
    JsonObject *r = json_array_get_object_element (json_object_get_array_member (ok, "results"), 0);

    g_assert_cmpstr (json_object_get_string_member (r, "status"), ==, "accepted");
  }
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM ledger_entries WHERE kind = 'write-off'"), ==, 1);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM users WHERE role = 'owner' AND name = 'carl'"), ==, 0);
}

/* An offer of @discount_bp off in @user's name (its row made by
 * @created_by, when not NULL) from @book's device claiming no approval is
 * needed, pushed as it is: recoupd's answer ("accepted" or the reason). */
static char *
push_offer_by (Fixture    *f,
               RecoupBook *book,
               const char *user,
               const char *created_by,
               const char *acc,
               gint64      discount_bp)
{
  g_autofree char *token = device_token (book);
  g_autofree char *change = recoup_uuid7_new ();
  g_autofree char *offer = recoup_uuid7_new ();
  g_autofree char *later = recoup_date_format (recoup_date_today_utc () + 20);
  g_autofree char *by = created_by != NULL ? g_strdup_printf (",\"created_by\":\"%s\"", created_by) : g_strdup ("");
  g_autofree char *body = g_strdup_printf (
    "{\"changes\":[{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\",\"user_id\":\"%s\","
    "\"entity\":\"offers\",\"entity_id\":\"%s\",\"op\":\"insert\",\"fields\":{\"id\":\"%s\","
    "\"account_id\":\"%s\",\"kind\":\"settlement\",\"currency\":\"USD\",\"balance_at_offer\":100000,"
    "\"total\":%" G_GINT64_FORMAT ",\"discount_bp\":%" G_GINT64_FORMAT ",\"installments\":1,\"pay_by\":\"%s\","
    "\"needs_approval\":0,\"created_at\":1%s},\"schema_version\":1}]}",
    change, RECOUP_HLC_MAKE (recoup_wall_clock_ms (), 0), user, offer, offer, acc,
    100000 - 100000 * discount_bp / 10000, discount_bp, later, by);
  guint status = 0;
  g_autoptr(JsonObject) obj = raw (f, "POST", "/v1/changes", token, "1", body, &status);
  JsonObject *r = json_array_get_object_element (json_object_get_array_member (obj, "results"), 0);

  g_assert_cmpuint (status, ==, 200);
  if (g_strcmp0 (json_object_get_string_member (r, "status"), "rejected") == 0)
    return g_strdup (json_object_get_string_member (r, "reason"));
  return g_strdup (json_object_get_string_member (r, "status"));
}

/* push_offer_by() in the name of the collector carl, @book's user. */
static char *
push_offer_claim (Fixture    *f,
                  RecoupBook *book,
                  const char *acc,
                  gint64      discount_bp)
{
  return push_offer_by (f, book, f->collector, NULL, acc, discount_bp);
}

/* QA's case: a collector's offer beyond their limits is made as a draft
 * waiting for an owner's approval, and it must reach the owner through
 * recoupd; only an offer beyond the limits that claims it needs no approval
 * is refused. */
static void
test_collector_offer_for_approval (Fixture       *f,
                                   gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "ACC-AP");
  g_autofree char *later = recoup_date_format (recoup_date_today_utc () + 20);
  g_autofree char *offer = NULL;
  g_autoptr(GPtrArray) waiting = NULL;
  RecoupSyncReport report = { 0 };

  g_free (test_add_invoice (a, acc, "INV-AP", "2026-01-01", "2026-02-01", 100000, "USD"));
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);

  /* 30 % off is beyond carl's 10 %. */
  {
    RecoupOfferSpec spec = { .account_id = acc, .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 3000,
                             .pay_by = later };
    g_autoptr(RecoupOffer) o = NULL;

    offer = recoup_offer_create (b, &spec, &error);
    g_assert_no_error (error);
    o = recoup_offer_load (b, offer, NULL, &error);
    g_assert_true (o->needs_approval);
  }
  g_assert_true (sync_book (b, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report.rejected, ==, 0);

  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  waiting = recoup_offer_list_approvals (a, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (waiting->len, ==, 1);
  g_assert_cmpstr (((RecoupOffer *) waiting->pdata[0])->id, ==, offer);

  /* The same terms claiming no approval is needed: refused. */
  {
    g_autofree char *answer = push_offer_claim (f, b, acc, 3000);

    g_assert_cmpstr (answer, ==, "forbidden");
  }
}

/* The limits an owner sets in the book are the ones recoupd holds a
 * collector to, raised or lowered, not those the admin first gave (carl:
 * 10 %). An owner the admin added without limits has an owner's. */
static void
test_collector_limits_from_book (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "ACC-LIM");
  g_autofree char *later = recoup_date_format (recoup_date_today_utc () + 20);
  g_autofree char *answer = NULL;
  RecoupSyncReport report = { 0 };

  /* An owner added without limits has an owner's, as a new book's owner. */
  {
    g_autoptr(RecoupUser) olive = recoup_user_load (a, f->owner, &error);

    g_assert_no_error (error);
    g_assert_cmpint (olive->max_discount_bp, ==, RECOUP_OWNER_MAX_DISCOUNT_BP);
    g_assert_cmpint (olive->max_plan_installments, ==, RECOUP_OWNER_MAX_PLAN_INSTALLMENTS);
  }
  g_free (test_add_invoice (a, acc, "INV-LIM", "2026-01-01", "2026-02-01", 100000, "USD"));
  g_assert_true (recoup_user_set_limits (a, f->collector, 3500, 6, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);

  /* Raised to 35 %: 30 % off is carl's to offer, and the server takes it. */
  {
    RecoupOfferSpec spec = { .account_id = acc, .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 3000,
                             .pay_by = later };
    g_autofree char *offer = recoup_offer_create (b, &spec, &error);
    g_autoptr(RecoupOffer) o = NULL;

    g_assert_no_error (error);
    o = recoup_offer_load (b, offer, NULL, &error);
    g_assert_false (o->needs_approval);
  }
  g_assert_true (sync_book (b, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report.rejected, ==, 0);

  /* Lowered to 5 %: 8 % claiming no approval is refused, 4 % is not. */
  g_assert_true (recoup_user_set_limits (a, f->collector, 500, 6, &error));
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  answer = push_offer_claim (f, b, acc, 800);
  g_assert_cmpstr (answer, ==, "forbidden");
  g_clear_pointer (&answer, g_free);
  answer = push_offer_claim (f, b, acc, 400);
  g_assert_cmpstr (answer, ==, "accepted");
}

/* A collector's device writes as the collector: recoupd refuses a change
 * in another user's name (QA: `--user "Kathryn Hamilton" log` on Betty's
 * copy reached everyone's history as Kathryn's), and recoup-cli will not
 * act as another user on an enrolled book. */
static void
test_device_writes_as_its_user (Fixture       *f,
                                gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autofree char *b_path = g_build_filename (f->dir, "b.recoup", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "ACC-AS");
  g_autofree char *answer = NULL;

  g_free (test_add_invoice (a, acc, "INV-AS", "2026-01-01", "2026-02-01", 100000, "USD"));
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);

  answer = push_offer_by (f, b, f->owner, NULL, acc, 400);
  g_assert_cmpstr (answer, ==, "forbidden");
  g_clear_pointer (&answer, g_free);
  /* Nor in its row's name (QA: the history's "by" comes from the row). */
  answer = push_offer_by (f, b, f->collector, f->owner, acc, 400);
  g_assert_cmpstr (answer, ==, "forbidden");
  g_clear_pointer (&answer, g_free);
  answer = push_offer_by (f, b, f->collector, NULL, acc, 400);
  g_assert_cmpstr (answer, ==, "accepted");

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  g_clear_object (&b);
  {
    const char *argv[] = { cli, "--book", b_path, "--user", "olive", "log", "ACC-AS", "--channel", "note",
                           "--notes", "in olive's name", NULL };
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                                 &error));
    g_assert_no_error (error);
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (err, "this book syncs as carl's device and acts as carl only"));
  }
}

static gboolean
has_reason (RecoupBook *book,
            const char *account,
            gint64      at,
            const char *code)
{
  g_autoptr(RecoupGuardVerdict) v = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (recoup_guard_check (book, account, "call", at, NULL, &v, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < v->reasons->len; i++)
    if (g_str_equal (((RecoupGuardReason *) v->reasons->pdata[i])->code, code))
      return TRUE;
  return FALSE;
}

static gint64
stored_score (RecoupBook *book,
              const char *account)
{
  g_autofree char *sql = g_strdup_printf ("SELECT score FROM account_stats WHERE account_id = '%s'", account);

  return count_rows (book, sql);
}

/* The settings table of the server's own book (its device id, clock, …). */
static GHashTable *
server_settings (Fixture *f)
{
  g_autofree char *name = g_strdup_printf ("%s.recoup", f->org);
  g_autofree char *path = g_build_filename (f->data_dir, "orgs", name, NULL);
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT key, value FROM settings", -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_hash_table_insert (out, g_strdup ((const char *) sqlite3_column_text (stmt, 0)),
                         g_strdup ((const char *) sqlite3_column_text (stmt, 1)));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return out;
}

/* A setting of the server's own copy of the book (as a tool run on the
 * server would write it), not a synced change. */
static void
server_book_set (Fixture    *f,
                 const char *key,
                 const char *value)
{
  g_autofree char *name = g_strdup_printf ("%s.recoup", f->org);
  g_autofree char *path = g_build_filename (f->data_dir, "orgs", name, NULL);
  sqlite3 *db = NULL;
  char *sql = sqlite3_mprintf ("INSERT OR REPLACE INTO settings (key, value) VALUES (%Q, %Q)", key, value);

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_free (sql);
  sqlite3_close (db);
}

/* The owner's compliance rules and score weights reach every device through
 * the server; a collector's device may not change them; a new device gets
 * them with its snapshot, but not the server's own settings. */
static void
test_settings (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "ACC-S");
  g_autofree char *inv = test_add_invoice (a, acc, "INV-S", "2026-01-01", "2026-06-01", 250000, "USD");
  g_autoptr(GDateTime) morning = g_date_time_new_utc (2026, 1, 13, 13, 30, 0);  /* 08:30 in New York */
  gint64 at = g_date_time_to_unix (morning) * 1000;
  RecoupGuardPolicy policy;
  RecoupScoreSettings s;
  gint64 old_score;

  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_score_refresh_book (b, NULL, NULL, &error));
  g_assert_no_error (error);
  old_score = stored_score (b, acc);
  g_assert_cmpint (old_score, !=, 5000);
  g_assert_false (has_reason (b, acc, at, "outside-hours"));

  /* The owner: calls from 09:00, at most 3 a week, and only the balance
   * counts in the score (half the balance cap: 5000). */
  g_assert_true (recoup_guard_set_rule (a, "hours_start", "09:00", &error));
  g_assert_no_error (error);
  g_assert_true (recoup_guard_set_rule (a, "max_calls_7d", "3", &error));
  g_assert_no_error (error);
  recoup_score_settings_load (a, &s);
  memset (s.weights, 0, sizeof s.weights);
  s.weights[RECOUP_SCORE_BALANCE] = 1;
  g_assert_true (recoup_score_settings_save (a, &s, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, 0);

  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  recoup_guard_policy_load (b, &policy);
  g_assert_cmpint (policy.hours_start, ==, 9 * 60);
  g_assert_cmpint (policy.max_calls_7d, ==, 3);
  recoup_guard_policy_clear (&policy);
  g_assert_true (has_reason (b, acc, at, "outside-hours"));
  /* Rescored in the pull itself, as the owner's own book was. */
  g_assert_cmpint (stored_score (b, acc), ==, 5000);
  g_assert_true (recoup_score_is_current (b));

  /* The collector's device may not move the hours: refused at once, with
   * nothing written or queued. */
  {
    gint64 changes = recoup_book_count_changes (b);

    g_assert_false (recoup_guard_set_rule (b, "hours_start", "07:00", &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
    g_assert_cmpstr (error->message, ==, "only an owner can change the compliance rules; ask an owner to make the change");
    g_clear_error (&error);
    g_assert_cmpint (recoup_book_count_changes (b), ==, changes);
    recoup_guard_policy_load (b, &policy);
    g_assert_cmpint (policy.hours_start, ==, 9 * 60);
    recoup_guard_policy_clear (&policy);
  }

  /* A device that still believes it is an owner's (the server has since made
   * its user a collector) writes the change; recoupd refuses it and the
   * device takes the owner's value back. It may save a worklist. */
  {
    RecoupWorklistFilter filter = { .segment = "high" };
    g_autoptr(JsonArray) rejections = NULL;
    g_autofree char *saved = NULL;
    gboolean forbidden = FALSE;

    g_assert_true (recoup_book_set_setting (b, "sync.role", "owner", &error));
    g_assert_true (recoup_guard_set_rule (b, "hours_start", "07:00", &error));
    g_assert_no_error (error);
    g_assert_true (recoup_book_set_setting (b, "sync.role", "collector", &error));
    g_assert_true (recoup_worklist_save (b, "mine", &filter, &error));
    g_assert_no_error (error);
    g_assert_true (sync_book (b, NULL, &error));
    g_assert_no_error (error);
    rejections = recoup_merge_list_rejections (b, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < json_array_get_length (rejections); i++)
      {
        JsonObject *r = json_array_get_object_element (rejections, i);

        if (g_str_equal (json_object_get_string_member (r, "reason"), "forbidden") &&
            strstr (json_object_get_string_member (r, "message"), "guard.hours_start") != NULL)
          forbidden = TRUE;
      }
    g_assert_true (forbidden);
    /* Refused: the collector's device works by the owner's hours again. */
    recoup_guard_policy_load (b, &policy);
    g_assert_cmpint (policy.hours_start, ==, 9 * 60);
    recoup_guard_policy_clear (&policy);
    g_assert_true (sync_book (a, NULL, &error));
    g_assert_no_error (error);
    recoup_guard_policy_load (a, &policy);
    g_assert_cmpint (policy.hours_start, ==, 9 * 60);
    recoup_guard_policy_clear (&policy);
    saved = recoup_book_get_setting (a, "worklist.saved.mine");
    g_assert_nonnull (saved);
    g_assert_nonnull (strstr (saved, "high"));
  }

  /* A new device: the shared settings and their clocks come with the
   * snapshot; what is the server's own does not, whichever local key it is
   * (here a path on the server's disk). */
  server_book_set (f, "letters.dir", "/var/lib/recoupd/letters");
  {
    g_autofree char *code_c = enrollment_code (f, f->org, "olive");
    g_autoptr(RecoupBook) c = enroll_book (f, code_c, "c.recoup");
    g_autoptr(GHashTable) server = server_settings (f);
    g_autofree char *weight = recoup_book_get_setting (c, "score.weight.balance");
    g_autofree char *letters = recoup_book_get_setting (c, "letters.dir");
    GHashTableIter iter;
    gpointer key, value;

    g_assert_cmpstr (g_hash_table_lookup (server, "letters.dir"), ==, "/var/lib/recoupd/letters");
    g_assert_null (letters);

    recoup_guard_policy_load (c, &policy);
    g_assert_cmpint (policy.hours_start, ==, 9 * 60);
    g_assert_cmpint (policy.max_calls_7d, ==, 3);
    recoup_guard_policy_clear (&policy);
    g_assert_cmpstr (weight, ==, "1");
    g_assert_cmpint (count_rows (c, "SELECT count(*) FROM field_clocks WHERE entity = 'settings'"
                                    " AND entity_id = 'guard.hours_start'"), ==, 1);
    g_assert_true (g_hash_table_contains (server, "device_id"));
    g_hash_table_iter_init (&iter, server);
    while (g_hash_table_iter_next (&iter, &key, &value))
      {
        g_autofree char *mine = NULL;

        /* The derived-data stamps describe the account_stats rows the
         * snapshot carries: they stay true on the copy. */
        if (recoup_merge_setting_scope (key) != RECOUP_SETTING_LOCAL || g_str_has_prefix (key, "derived."))
          continue;
        mine = recoup_book_get_setting (c, key);
        if (g_strcmp0 (mine, value) == 0)
          g_error ("the new device took the server's own setting %s = %s", (char *) key, (char *) value);
      }
  }
}

/* Large batches travel gzipped (over 64 KiB) and pages resume from the cursor. */
static void
test_large_batch (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(RecoupSyncClient) ca = NULL;
  g_autoptr(RecoupSyncClient) cb = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "BIG");
  RecoupSyncReport ra = { 0 }, rb = { 0 };
  gint64 t0, t1, t2;
  const char *bench = g_getenv ("RECOUP_SYNC_BENCH_CHANGES");
  const int n = bench != NULL ? atoi (bench) : 1500;
  /* RECOUP_SYNC_BENCH_KIND=accounts: n new accounts instead of n calls on one
   * account (whose derived stats then cost O(calls) at every commit). */
  const gboolean accounts = g_strcmp0 (g_getenv ("RECOUP_SYNC_BENCH_KIND"), "accounts") == 0;

  g_assert_true (recoup_book_begin (a, &error));
  for (int i = 0; i < n; i++)
    {
      if (accounts)
        {
          g_autofree char *ref = g_strdup_printf ("BENCH-%06d", i);
          g_autofree char *id = make_account (a, ref);
        }
      else
        log_call (a, acc);
    }
  g_assert_true (recoup_book_commit (a, &error));
  ca = recoup_sync_client_new (a, &error);
  g_assert_no_error (error);
  cb = recoup_sync_client_new (b, &error);
  g_assert_no_error (error);
  /* The server takes at most 1000 per push (max-batch in the test config). */
  recoup_sync_client_set_batch_size (ca, bench_batch (), bench_batch ());
  recoup_sync_client_set_batch_size (cb, bench_batch (), bench_batch ());
  t0 = g_get_monotonic_time ();
  g_assert_true (recoup_sync_client_push (ca, &ra, NULL, &error));
  g_assert_no_error (error);
  t1 = g_get_monotonic_time ();
  g_assert_true (recoup_sync_client_pull (cb, &rb, NULL, &error));
  g_assert_no_error (error);
  t2 = g_get_monotonic_time ();
  g_assert_cmpuint (ra.pushed, ==, (guint) n + 1);
  g_assert_cmpuint (ra.requests, ==, ((guint) n + bench_batch ()) / bench_batch ());
  g_assert_cmpint (count_rows (b, accounts ? "SELECT count(*) - 1 FROM accounts" : "SELECT count(*) FROM activities"),
                   ==, n);

  /* A page this large goes gzipped to a client that accepts it, and decodes
   * to the JSON the client reads; a small one goes as it is. */
  {
    g_autofree char *token = device_token (b);
    g_autofree char *big = NULL, *small = NULL;
    gsize big_len = 0, small_len = 0;

    big = get_encoding (f, "/v1/changes?after=0&limit=1000", token, &big_len);
    g_assert_cmpstr (big, ==, "gzip");
    g_assert_cmpuint (big_len, >, 64 * 1024);
    small = get_encoding (f, "/v1/changes?after=0&limit=1", token, &small_len);
    g_assert_null (small);
    g_assert_cmpuint (small_len, >, 0);
  }

  g_test_message ("pushed %d changes in %.0f ms (%u requests, %.0f changes/s), pulled in %.0f ms "
                  "(%u requests, %.0f changes/s)", n + 1, (double) (t1 - t0) / 1000.0, ra.requests,
                  (n + 1) * 1e6 / (double) MAX (t1 - t0, 1), (double) (t2 - t1) / 1000.0, rb.requests,
                  (n + 1) * 1e6 / (double) MAX (t2 - t1, 1));
}

/* A large CSV import is written set-based (recoup-import.c): every row it
 * writes still has its change, so a second device receives all of it. */
static void
test_import (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(RecoupSyncClient) ca = NULL;
  g_autoptr(RecoupSyncClient) cb = NULL;
  g_autoptr(RecoupImportReport) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) csv = g_string_new ("account_ref,name,email,phone,address,timezone,"
                                         "invoice_ref,issue_date,due_date,amount,currency,description\n");
  g_autofree char *path = g_build_filename (f->dir, "import.csv", NULL);
  g_autofree char *text_a = NULL, *text_b = NULL;
  RecoupSyncReport ra = { 0 }, rb = { 0 };

  for (int i = 0; i < 1200; i++)
    g_string_append_printf (csv, "IMP-%04d,Debtor %d,d%d@example.com,+1 555 010 %04d,"
                            "\"%d Main St, Springfield\",America/New_York,INV-%05d,2026-10-01,"
                            "2026-10-31,%d.%02d,USD,Item %d\n", i / 2, i / 2, i / 2, i / 2, i / 2,
                            i, 10 + i, i % 100, i);
  g_assert_true (g_file_set_contents (path, csv->str, (gssize) csv->len, &error));
  g_assert_true (recoup_import_csv (a, path, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report->invoices_created, ==, 1200);
  g_assert_cmpuint (report->accounts_created, ==, 600);

  ca = recoup_sync_client_new (a, &error);
  g_assert_no_error (error);
  cb = recoup_sync_client_new (b, &error);
  g_assert_no_error (error);
  recoup_sync_client_set_batch_size (ca, 1000, 1000);
  recoup_sync_client_set_batch_size (cb, 1000, 1000);
  g_assert_true (recoup_sync_client_push (ca, &ra, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_sync_client_pull (cb, &rb, NULL, &error));
  g_assert_no_error (error);
  /* 600 accounts with 3 contact points each, 1200 invoices with a charge each */
  g_assert_cmpuint (ra.pushed, >=, 600 + 1800 + 2 * 1200);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM changes WHERE server_seq IS NULL"), ==, 0);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM ledger_entries WHERE kind = 'charge'"), ==, 1200);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM contact_points"), ==, 1800);
  text_a = canonical (a);
  text_b = canonical (b);
  g_assert_cmpstr (text_a, ==, text_b);
}

/* The client's default batch (5000) is more than this server takes
 * (max-batch 1000 in the test config): the refused push is sent again in
 * halves, nothing is lost or doubled. */
static void
test_batch_fit (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(RecoupSyncClient) ca = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "FIT");
  RecoupSyncReport ra = { 0 };

  if (bench_batch () != 1000)
    {
      g_test_skip ("needs the test config's max-batch of 1000 (RECOUP_SYNC_BENCH_BATCH is set)");
      return;
    }
  g_assert_true (recoup_book_begin (a, &error));
  for (int i = 0; i < 1300; i++)
    log_call (a, acc);
  g_assert_true (recoup_book_commit (a, &error));
  ca = recoup_sync_client_new (a, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_sync_client_push (ca, &ra, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ra.pushed, ==, 1301);
  g_assert_cmpuint (ra.rejected, ==, 0);
  /* 1301 refused (over 1000), then 650 + 650 + 1: four requests. */
  g_assert_cmpuint (ra.requests, ==, 4);
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, 0);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM activities"), ==, 1300);
  g_assert_cmpint (count_rows (b, "SELECT count(DISTINCT id) FROM changes"), ==,
                   count_rows (b, "SELECT count(*) FROM changes"));
}

/* Several devices, random offline work, syncs in random order with random
 * batch sizes: afterwards every book holds the same data and every activity
 * exactly once. */
static void
test_convergence (Fixture       *f,
                  gconstpointer  data)
{
  static const char * const users[] = { "olive", "olive", "carl" };
  static const char * const fields[] = { "name", "notes", "tags", "tier" };
  RecoupBook *books[3];
  g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *dump0 = NULL;
  gint64 n_activities = 0;

  for (int i = 0; i < 3; i++)
    {
      g_autofree char *code = enrollment_code (f, f->org, users[i]);
      g_autofree char *name = g_strdup_printf ("dev%d.recoup", i);
      books[i] = enroll_book (f, code, name);
    }
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *ref = g_strdup_printf ("C-%d", i);
      g_ptr_array_add (accounts, make_account (books[0], ref));
    }
  g_assert_true (sync_book (books[0], NULL, &error));
  g_assert_no_error (error);

  for (int round = 0; round < 6; round++)
    {
      for (int i = 0; i < 3; i++)
        {
          /* A device that has not synced yet knows only its own accounts. */
          for (int k = 0; k < 8; k++)
            {
              const char *acc = accounts->pdata[g_test_rand_int_range (0, 3)];
              int what = g_test_rand_int_range (0, 3);

              if (count_rows (books[i], "SELECT count(*) FROM accounts") < 3)
                break;
              if (what == 0)
                {
                  g_autofree char *v = g_strdup_printf ("d%d-r%d-k%d", i, round, k);
                  g_assert_true (recoup_account_set (books[i], acc, fields[g_test_rand_int_range (0, 4)], v, &error));
                  g_assert_no_error (error);
                }
              else
                {
                  log_call (books[i], acc);
                  n_activities++;
                }
            }
        }
      /* Some devices sync, in random order, with random batch sizes. */
      for (int x = 0; x < 3; x++)
        {
          int i = g_test_rand_int_range (0, 3);
          g_autoptr(RecoupSyncClient) c = recoup_sync_client_new (books[i], &error);
          RecoupSyncReport r = { 0 };

          g_assert_no_error (error);
          recoup_sync_client_set_batch_size (c, (guint) g_test_rand_int_range (1, 40),
                                             (guint) g_test_rand_int_range (1, 40));
          if (g_test_rand_bit ())
            g_assert_true (recoup_sync_client_run (c, &r, NULL, &error));
          else
            g_assert_true (recoup_sync_client_push (c, &r, NULL, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (r.rejected, ==, 0);
        }
    }
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < 3; i++)
      {
        g_assert_true (sync_book (books[i], NULL, &error));
        g_assert_no_error (error);
      }
  dump0 = canonical (books[0]);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *dump = canonical (books[i]);

      g_assert_cmpstr (dump, ==, dump0);
      g_assert_cmpint (count_rows (books[i], "SELECT count(*) FROM activities"), ==, n_activities);
      g_assert_cmpint (recoup_merge_count_unsent (books[i]), ==, 0);
      g_assert_true (recoup_book_check_integrity (books[i], &error));
      g_assert_no_error (error);
      g_object_unref (books[i]);
    }
}

/* kill -9 of the client in the middle of syncs, and of the server (also after
 * it committed a push the client has not seen answered): nothing is lost and
 * nothing is doubled. */
static void
test_crash (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "CRASH");
  g_autofree char *path = g_strdup (recoup_book_get_path (a));
  const char *cli = g_getenv ("RECOUP_CLI");
  const int per_round = 300;
  int n = 0;

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  g_clear_object (&a);

  for (int round = 0; round < 6; round++)
    {
      g_autoptr(GSubprocess) proc = NULL;

      /* More offline work, then a sync that is killed part way. */
      a = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
      g_assert_no_error (error);
      g_assert_true (recoup_book_begin (a, &error));
      for (int i = 0; i < per_round; i++)
        log_call (a, acc);
      g_assert_true (recoup_book_commit (a, &error));
      g_clear_object (&a);
      n += per_round;

      proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                               cli, "--book", path, "sync", "--batch", "3", NULL);
      g_assert_no_error (error);
      g_usleep ((gulong) g_test_rand_int_range (30, 200) * 1000);
      if (round % 2 == 1)
        {
          /* The server dies mid-push; it comes back on the same port. */
          g_subprocess_force_exit (f->server);
          g_subprocess_wait (f->server, NULL, NULL);
          g_clear_object (&f->server);
          g_usleep ((gulong) g_test_rand_int_range (0, 100) * 1000);
          start_server (f);
        }
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      {
        g_autoptr(RecoupBook) peek = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);

        g_assert_no_error (error);
        g_test_message ("round %d: %" G_GINT64_FORMAT " changes still unsent", round,
                        recoup_merge_count_unsent (peek));
      }
    }

  a = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_book_check_integrity (a, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, 0);
  g_assert_cmpint (count_rows (a, "SELECT count(*) - count(DISTINCT server_seq) FROM changes"), ==, 0);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM activities"), ==, n);

  /* The server holds each exactly once: a new device's snapshot says so. */
  {
    g_autofree char *code = enrollment_code (f, f->org, "carl");
    g_autoptr(RecoupBook) b = enroll_book (f, code, "b.recoup");

    g_assert_cmpint (count_rows (b, "SELECT count(*) FROM activities"), ==, n);
    g_assert_cmpint (count_rows (b, "SELECT count(*) - count(DISTINCT id) FROM changes"), ==, 0);
    g_assert_true (recoup_book_check_integrity (b, &error));
    g_assert_no_error (error);
  }
}

/* ---- a fault-injecting TCP proxy on loopback ----
 * Each connection is forwarded to recoupd; while `faulty` is set, a
 * connection may be refused at once, cut after a random number of bytes
 * (truncating a request or an answer mid-TLS-record), or delayed.
 * Once recoupd has redeemed more enrollment codes than `redeemed_before`
 * (its server.db says so), `lose_enroll_answer` cuts the connection instead
 * of passing on the next bytes recoupd sends (the answer to the enrollment:
 * recoupd commits before it answers), once; `refuse_after_enroll` refuses
 * every new connection. */

typedef struct
{
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
  GSocketService *service;
  guint         port;
  guint         target_port;
  char         *server_db;
  gint64        redeemed_before;
  volatile gint faulty;
  volatile gint lose_enroll_answer;
  volatile gint refuse_after_enroll;
  volatile gint faults;
  GMutex        lock;
  GCond         ready;
  gboolean      started;
} Proxy;

static gint64
count_in_db (const char *path,
             const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n = -1;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  g_assert_cmpint (n, >=, 0);
  return n;
}

/* recoupd's own database (devices, enrollment codes). */
static gint64
count_on_server (Fixture    *f,
                 const char *sql)
{
  g_autofree char *path = g_build_filename (f->data_dir, "server.db", NULL);

  return count_in_db (path, sql);
}

static gboolean
proxy_code_redeemed (Proxy *p)
{
  return count_in_db (p->server_db, "SELECT count(*) FROM enrollments WHERE used_at IS NOT NULL") >
         p->redeemed_before;
}

static gboolean
proxy_run_cb (GThreadedSocketService *service,
              GSocketConnection      *conn,
              GObject                *source,
              gpointer                data)
{
  Proxy *p = data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) up = NULL;
  g_autoptr(GRand) rand = g_rand_new ();
  GSocket *socks[2];
  gint64 budget = G_MAXINT64;
  char buf[16384];

  if (g_atomic_int_get (&p->refuse_after_enroll) && proxy_code_redeemed (p))
    {
      g_atomic_int_inc (&p->faults);
      return TRUE;
    }
  if (g_atomic_int_get (&p->faulty))
    {
      int fault = g_rand_int_range (rand, 0, 4);

      if (fault == 0)
        {
          g_atomic_int_inc (&p->faults);
          return TRUE;                                  /* reset at once */
        }
      if (fault == 1)
        {
          g_atomic_int_inc (&p->faults);
          budget = g_rand_int_range (rand, 1, 6000);   /* truncate later */
        }
      if (fault == 2)
        g_usleep ((gulong) g_rand_int_range (rand, 1000, 60000));  /* delay */
    }
  up = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16) p->target_port, NULL, NULL);
  if (up == NULL)
    return TRUE;
  socks[0] = g_socket_connection_get_socket (conn);
  socks[1] = g_socket_connection_get_socket (up);
  for (;;)
    {
      GPollFD fds[2] = {
        { g_socket_get_fd (socks[0]), G_IO_IN | G_IO_HUP | G_IO_ERR, 0 },
        { g_socket_get_fd (socks[1]), G_IO_IN | G_IO_HUP | G_IO_ERR, 0 },
      };

      if (g_poll (fds, 2, 10000) <= 0)
        break;
      for (int i = 0; i < 2; i++)
        if (fds[i].revents)
          {
            gssize n = g_socket_receive (socks[i], buf, sizeof buf, NULL, NULL);

            if (n <= 0 || budget <= 0)
              goto done;
            if (i == 1 && g_atomic_int_get (&p->lose_enroll_answer) && proxy_code_redeemed (p) &&
                g_atomic_int_compare_and_exchange (&p->lose_enroll_answer, 1, 0))
              {
                g_atomic_int_inc (&p->faults);
                goto done;
              }
            n = MIN (n, budget);
            budget -= n;
            if (g_socket_send (socks[1 - i], buf, (gsize) n, NULL, NULL) != n)
              goto done;
          }
    }
done:
  g_socket_close (socks[1], NULL);
  return TRUE;
}

static gpointer
proxy_thread (gpointer data)
{
  Proxy *p = data;
  g_autoptr(GError) error = NULL;
  guint16 port;

  g_main_context_push_thread_default (p->context);
  p->service = g_threaded_socket_service_new (8);
  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (p->service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (p->service, "run", G_CALLBACK (proxy_run_cb), p);
  g_socket_service_start (p->service);
  g_mutex_lock (&p->lock);
  p->port = port;
  p->started = TRUE;
  g_cond_signal (&p->ready);
  g_mutex_unlock (&p->lock);
  g_main_loop_run (p->loop);
  g_socket_service_stop (p->service);
  g_socket_listener_close (G_SOCKET_LISTENER (p->service));
  g_clear_object (&p->service);
  g_main_context_pop_thread_default (p->context);
  return NULL;
}

/* A proxy on a port of its own in front of the fixture's recoupd. */
static void
proxy_start (Proxy   *p,
             Fixture *f)
{
  g_mutex_init (&p->lock);
  g_cond_init (&p->ready);
  p->target_port = f->port;
  p->server_db = g_build_filename (f->data_dir, "server.db", NULL);
  p->context = g_main_context_new ();
  p->loop = g_main_loop_new (p->context, FALSE);
  p->thread = g_thread_new ("proxy", proxy_thread, p);
  g_mutex_lock (&p->lock);
  while (!p->started)
    g_cond_wait (&p->ready, &p->lock);
  g_mutex_unlock (&p->lock);
}

static void
proxy_stop (Proxy *p)
{
  g_main_loop_quit (p->loop);
  g_thread_join (p->thread);
  g_main_loop_unref (p->loop);
  g_main_context_unref (p->context);
  g_free (p->server_db);
  g_mutex_clear (&p->lock);
  g_cond_clear (&p->ready);
}

/* A laptop whose clock ran days ahead wrote changes; the server refuses them
 * (clock_ahead). Once the clock is right the client re-stamps its unsent
 * changes in order, above everything it had seen, and resends them: nothing
 * is lost, the same ids arrive, and its later edit still wins. */
static void
test_clock_ahead (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autofree char *path_a = g_build_filename (f->dir, "a.recoup", NULL);
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *acc = NULL;
  g_autofree char *future = NULL;
  g_autoptr(RecoupAccount) seen = NULL;
  RecoupSyncReport ra = { 0 }, rb = { 0 };
  gint64 now_hlc, prev = 0, b_stamp;
  sqlite3_stmt *stmt = NULL;

  /* B (clock right) names the account; A sees it. */
  acc = make_account (b, "CLK-1");
  g_assert_true (recoup_account_set (b, acc, "name", "Named on B", &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (b, &rb, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, &ra, &error));
  g_assert_no_error (error);
  b_stamp = count_rows (b, "SELECT max(hlc) FROM changes");

  /* A's clock runs three days ahead: its stamps resume from there. */
  future = g_strdup_printf ("%" G_GINT64_FORMAT,
                            RECOUP_HLC_MAKE (recoup_wall_clock_ms () + 3 * 24 * 3600 * G_GINT64_CONSTANT (1000), 0));
  g_assert_true (recoup_book_set_setting (a, "hlc", future, &error));
  g_clear_object (&a);
  a = recoup_book_open (path_a, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_account_set (a, acc, "name", "Renamed on A", &error));
  g_assert_no_error (error);
  log_call (a, acc);
  g_free (make_account (a, "CLK-2"));
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, 3);   /* the rename, the call, the new account */
  g_assert_cmpint (count_rows (a, "SELECT min(hlc) FROM changes WHERE server_seq IS NULL"), >,
                   RECOUP_HLC_MAKE (recoup_wall_clock_ms () + 2 * 24 * 3600 * G_GINT64_CONSTANT (1000), 0));
  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (a), "SELECT id FROM changes WHERE server_seq IS NULL"
                                       " ORDER BY seq", -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (ids, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_finalize (stmt);

  /* The sync: refused as clock_ahead, re-stamped, resent, accepted. */
  memset (&ra, 0, sizeof ra);
  g_assert_true (sync_book (a, &ra, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ra.restamped, ==, ids->len);
  g_assert_cmpuint (ra.rejected, ==, 0);
  g_assert_cmpuint (ra.pushed, ==, ids->len);
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, 0);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM sync_rejections"), ==, 0);

  /* Same ids, in the same order, now stamped by the real clock, each above
   * what A had seen from B. */
  now_hlc = RECOUP_HLC_MAKE (recoup_wall_clock_ms () + 60 * 1000, 0);
  for (guint i = 0; i < ids->len; i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT hlc FROM changes WHERE id = '%s' AND server_seq > 0",
                                              (char *) g_ptr_array_index (ids, i));
      gint64 hlc = count_rows (a, sql);

      g_assert_cmpint (hlc, >, b_stamp);
      g_assert_cmpint (hlc, >, prev);
      g_assert_cmpint (hlc, <, now_hlc);
      prev = hlc;
    }
  /* The field's clock follows its change. */
  {
    g_autofree char *sql = g_strdup_printf ("SELECT hlc FROM field_clocks WHERE entity = 'accounts'"
                                            " AND entity_id = '%s' AND field = 'name'", acc);
    g_autofree char *sql2 = g_strdup_printf ("SELECT hlc FROM changes WHERE id = '%s'",
                                             (char *) g_ptr_array_index (ids, 0));

    g_assert_cmpint (count_rows (a, sql), ==, count_rows (a, sql2));
  }

  /* B receives all of it, and A's later rename wins there too. */
  memset (&rb, 0, sizeof rb);
  g_assert_true (sync_book (b, &rb, &error));
  g_assert_no_error (error);
  seen = recoup_account_load (b, acc, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (seen->name, ==, "Renamed on A");
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM activities"), ==, 1);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM accounts WHERE ref = 'CLK-2'"), ==, 1);
  for (guint i = 0; i < ids->len; i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE id = '%s'",
                                              (char *) g_ptr_array_index (ids, i));

      g_assert_cmpint (count_rows (b, sql), ==, 1);
    }

  /* Reopened, A's clock resumes from the corrected time. */
  g_clear_object (&a);
  a = recoup_book_open (path_a, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  log_call (a, acc);
  g_assert_cmpint (count_rows (a, "SELECT max(hlc) FROM changes"), <, now_hlc);
}


static void
test_faulty_network (Fixture       *f,
                     gconstpointer  data)
{
  Proxy p = { 0 };
  g_autofree char *url = NULL;
  g_autofree char *code_a = NULL;
  g_autofree char *code_b = NULL;
  g_autoptr(RecoupBook) a = NULL;
  g_autoptr(RecoupBook) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = NULL;
  int failures = 0;
  const int n = 400;

  proxy_start (&p, f);

  /* The devices know the server only through the proxy. */
  url = g_strdup_printf ("https://127.0.0.1:%u", p.port);
  code_a = run (f, TRUE, "--url", url, "enroll", f->org, "olive", NULL);
  code_b = run (f, TRUE, "--url", url, "enroll", f->org, "carl", NULL);
  a = enroll_book (f, code_a, "a.recoup");
  b = enroll_book (f, code_b, "b.recoup");
  acc = make_account (a, "FAULTY");
  g_assert_true (recoup_book_begin (a, &error));
  for (int i = 0; i < n; i++)
    log_call (a, acc);
  g_assert_true (recoup_book_commit (a, &error));

  g_atomic_int_set (&p.faulty, 1);
  for (int i = 0; i < 12; i++)
    {
      g_autoptr(GError) local = NULL;
      RecoupBook *book = i % 2 ? b : a;

      if (!sync_book (book, NULL, &local))
        {
          /* Only network failures, never a wrong answer. */
          g_assert_error (local, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NETWORK);
          failures++;
        }
    }
  g_atomic_int_set (&p.faulty, 0);
  g_test_message ("%d faults injected, %d syncs gave up (and were resumed)", g_atomic_int_get (&p.faults),
                  failures);
  g_assert_cmpint (g_atomic_int_get (&p.faults), >, 0);

  /* The network behaves: every queue empties, nothing doubled. */
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, 0);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM activities"), ==, n);
  g_assert_cmpint (count_rows (a, "SELECT count(*) - count(DISTINCT server_seq) FROM changes"), ==, 0);
  {
    g_autofree char *da = canonical (a);
    g_autofree char *db = canonical (b);
    g_assert_cmpstr (da, ==, db);
  }

  proxy_stop (&p);
}

/* A device's answer to enrolling is lost after recoupd redeemed the code
 * (the connection breaks before the answer arrives). The client's retry of
 * the same enrollment gets its device back: exactly one device is
 * registered, and the token the client got works. The same code from
 * another device is still refused. */
static void
test_enroll_answer_lost (Fixture       *f,
                         gconstpointer  data)
{
  Proxy p = { 0 };
  g_autofree char *url = NULL;
  g_autofree char *code = NULL;
  g_autofree char *path = g_build_filename (f->dir, "carl.recoup", NULL);
  g_autofree char *sql = NULL;
  g_autoptr(RecoupSyncEnrollment) e = NULL;
  g_autoptr(RecoupSyncEnrollment) other = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GError) error = NULL;

  proxy_start (&p, f);
  url = g_strdup_printf ("https://127.0.0.1:%u", p.port);
  code = run (f, TRUE, "--url", url, "enroll", f->org, "carl", NULL);
  p.redeemed_before = count_on_server (f, "SELECT count(*) FROM enrollments WHERE used_at IS NOT NULL");
  g_atomic_int_set (&p.lose_enroll_answer, 1);

  e = recoup_sync_enroll (code, "carl-laptop", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (e);
  /* The first answer was lost, after the code was redeemed. */
  g_assert_cmpint (g_atomic_int_get (&p.lose_enroll_answer), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&p.faults), ==, 1);
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM devices"), ==, 1);
  sql = g_strdup_printf ("SELECT count(*) FROM devices WHERE id = '%s' AND revoked_at IS NULL", e->device_id);
  g_assert_cmpint (count_on_server (f, sql), ==, 1);
  g_assert_cmpstr (e->user_id, ==, f->collector);

  /* Its token is the device's: it downloads the book and syncs. */
  g_assert_true (recoup_sync_bootstrap (e, path, NULL, &error));
  g_assert_no_error (error);
  book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_sync_attach (book, e, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (book, NULL, &error));
  g_assert_no_error (error);

  /* Another device with the same code: refused, nothing registered. */
  other = recoup_sync_enroll (code, "other-laptop", NULL, &error);
  g_assert_null (other);
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "used already"));
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM devices"), ==, 1);

  proxy_stop (&p);
}

static JsonObject *
raw_enroll (Fixture    *f,
            const char *secret,
            const char *request_id,
            guint      *out_status)
{
  g_autofree char *body = g_strdup_printf ("{\"secret\": \"%s\", \"request_id\": \"%s\", \"device_name\": \"x\"}",
                                           secret, request_id);

  return raw (f, "POST", "/v1/enroll", NULL, "1", body, out_status);
}

static guint
pull_status (Fixture    *f,
             const char *token)
{
  guint status = 0;
  g_autoptr(JsonObject) page = raw (f, "GET", "/v1/changes?after=0&limit=1", token, "1", NULL, &status);

  return status;
}

/* recoupd's side of a repeated enrollment: the same secret and request id
 * get the same device with a new token (the first one, never delivered,
 * stops working), until the device has used its token; another request id
 * is refused. */
static void
test_enroll_repeat (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *code = enrollment_code (f, f->org, "carl");
  g_autoptr(GError) error = NULL;
  g_autofree char *device = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  RecoupEnrollmentCode parsed;
  guint status = 0;

  g_assert_true (recoup_enrollment_code_parse (code, &parsed, &error));
  g_assert_no_error (error);
  {
    g_autoptr(JsonObject) answer = raw_enroll (f, parsed.secret, "request-0123456789", &status);

    g_assert_cmpuint (status, ==, 200);
    device = g_strdup (json_object_get_string_member (answer, "device_id"));
    first = g_strdup (json_object_get_string_member (answer, "token"));
  }
  {
    g_autoptr(JsonObject) again = raw_enroll (f, parsed.secret, "request-0123456789", &status);

    g_assert_cmpuint (status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (again, "device_id"), ==, device);
    second = g_strdup (json_object_get_string_member (again, "token"));
    g_assert_cmpstr (second, !=, first);
  }
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM devices"), ==, 1);
  g_assert_cmpuint (pull_status (f, first), ==, 401);
  {
    g_autoptr(JsonObject) refused = raw_enroll (f, parsed.secret, "request-9876543210", &status);

    g_assert_cmpuint (status, ==, 403);
    g_assert_cmpstr (json_object_get_string_member (refused, "error"), ==, "enrollment_used");
  }
  /* The device has its answer once it used its token: no more repeats. */
  g_assert_cmpuint (pull_status (f, second), ==, 200);
  {
    g_autoptr(JsonObject) refused = raw_enroll (f, parsed.secret, "request-0123456789", &status);

    g_assert_cmpuint (status, ==, 403);
    g_assert_cmpstr (json_object_get_string_member (refused, "error"), ==, "enrollment_used");
  }
  g_assert_cmpuint (pull_status (f, second), ==, 200);
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM devices"), ==, 1);
  recoup_enrollment_code_clear (&parsed);
}

/* `recoup-cli enroll` where recoupd redeems the code but the snapshot cannot
 * be downloaded: the device stays enrolled (the code is spent; a second
 * enroll would be refused), the command says so and what to run, and the
 * next `recoup-cli sync` brings the organisation's book. */
static void
test_enroll_snapshot_fails (Fixture       *f,
                            gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autofree char *code_a = NULL;
  g_autoptr(RecoupBook) a = NULL;
  g_autoptr(RecoupBook) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "carl.recoup", NULL);
  g_autofree char *url = NULL;
  g_autofree char *code = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  Proxy p = { 0 };
  int status = 0;

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  code_a = enrollment_code (f, f->org, "olive");
  a = enroll_book (f, code_a, "a.recoup");
  for (int i = 0; i < 30; i++)
    {
      g_autofree char *ref = g_strdup_printf ("S-%02d", i);
      g_autofree char *id = make_account (a, ref);
    }
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);

  proxy_start (&p, f);
  url = g_strdup_printf ("https://127.0.0.1:%u", p.port);
  code = run (f, TRUE, "--url", url, "enroll", f->org, "carl", NULL);
  p.redeemed_before = count_on_server (f, "SELECT count(*) FROM enrollments WHERE used_at IS NOT NULL");
  g_atomic_int_set (&p.refuse_after_enroll, 1);
  {
    const char *argv[] = { cli, "--book", path, "enroll", code, "--name", "carl-laptop", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                                 &error));
    g_assert_no_error (error);
  }
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("recoup-cli enroll failed: %s%s", out, err);
  g_assert_cmpint (g_atomic_int_get (&p.faults), >, 0);
  g_assert_nonnull (strstr (out, "could not be downloaded"));
  g_assert_nonnull (strstr (out, "do not enroll it again"));
  g_assert_nonnull (strstr (out, "Run “recoup-cli sync”"));
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM devices"), ==, 2);

  /* Enrolled as any device is: the server, the user, a token that works. */
  b = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  {
    g_autofree char *server = recoup_book_get_setting (b, "sync.url");
    g_autofree char *user = recoup_book_get_setting (b, "sync.user_id");
    g_autofree char *token = device_token (b);

    g_assert_cmpstr (server, ==, url);
    g_assert_cmpstr (user, ==, f->collector);
    g_assert_cmpuint (pull_status (f, token), ==, 200);
  }
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM accounts"), ==, 0);
  g_clear_object (&b);

  /* The server is reachable again: the next sync completes the book. */
  g_atomic_int_set (&p.refuse_after_enroll, 0);
  {
    const char *argv[] = { cli, "--book", path, "sync", NULL };

    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                                 &error));
    g_assert_no_error (error);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("recoup-cli sync failed: %s%s", out, err);
  }
  b = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM accounts"), ==, 30);
  g_assert_cmpstr (recoup_book_get_user_id (b), ==, f->collector);
  g_assert_cmpint (recoup_merge_get_cursor (b), ==, recoup_merge_get_cursor (a));
  g_assert_true (recoup_book_check_integrity (b, &error));
  g_assert_no_error (error);

  proxy_stop (&p);
}

static void
pay_cash (RecoupBook *book,
          const char *account,
          gint64      amount)
{
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = account, .amount = amount,
                           .method = "cash" };
  g_autoptr(GError) error = NULL;
  g_autofree char *id = recoup_ledger_record (book, &spec, &error);

  g_assert_no_error (error);
}

static char *
account_ref (RecoupBook *book,
             const char *account)
{
  g_autofree char *sql = g_strdup_printf ("SELECT ref FROM accounts WHERE id = '%s'", account);
  sqlite3_stmt *stmt = NULL;
  char *ref = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    ref = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return ref;
}

/* Two laptops create the same reference offline (audit A2 #3): both
 * accounts and the payments and notes on them reach everyone, the one that
 * reached the server later is renamed everywhere, the owner is asked to look,
 * and both laptops keep syncing. */
static void
test_ref_clash (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(RecoupBook) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) refused = NULL;
  g_autofree char *acc_a = make_account (a, "ACC-1");
  g_autofree char *acc_b = make_account (b, "ACC-1");
  g_autofree char *code_c = NULL;
  g_autofree char *ref_a = NULL;
  g_autofree char *ref_b = NULL;
  g_autofree char *state_a = NULL;
  g_autofree char *state_b = NULL;
  g_autofree char *state_c = NULL;

  pay_cash (a, acc_a, 15000);
  pay_cash (b, acc_b, 20000);
  log_call (b, acc_b);
  for (guint round = 0; round < 2; round++)
    {
      g_assert_true (sync_book (a, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (sync_book (b, NULL, &error));
      g_assert_no_error (error);
    }
  refused = recoup_merge_list_rejections (b, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (refused), ==, 0);
  g_assert_cmpint (recoup_merge_count_unsent (b), ==, 0);

  /* The first to reach the server keeps the reference. */
  for (guint i = 0; i < 2; i++)
    {
      RecoupBook *book = i == 0 ? a : b;

      ref_a = (g_free (ref_a), account_ref (book, acc_a));
      ref_b = (g_free (ref_b), account_ref (book, acc_b));
      g_assert_cmpstr (ref_a, ==, "ACC-1");
      g_assert_cmpstr (ref_b, ==, "ACC-1 (2)");
      g_assert_cmpint (count_rows (book, "SELECT count(*) FROM ledger_entries WHERE kind = 'payment'"), ==, 2);
      g_assert_cmpint (count_rows (book, "SELECT coalesce(sum(amount), 0) FROM ledger_entries"
                                         " WHERE kind = 'payment' AND currency = 'USD'"), ==, -35000);
      g_assert_cmpint (count_rows (book, "SELECT count(*) FROM activities"), ==, 1);
      g_assert_cmpint (count_rows (book, "SELECT count(*) FROM review_items WHERE kind = 'ref-clash'"), ==, 1);
    }
  state_a = canonical (a);
  state_b = canonical (b);
  g_assert_cmpstr (state_a, ==, state_b);

  /* The server has it all: a new device starts from it. */
  code_c = enrollment_code (f, f->org, "olive");
  c = enroll_book (f, code_c, "c.recoup");
  g_assert_true (sync_book (c, NULL, &error));
  g_assert_no_error (error);
  state_c = canonical (c);
  g_assert_cmpstr (state_c, ==, state_a);

  /* And sync goes on both ways. */
  log_call (b, acc_b);
  log_call (a, acc_a);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM activities"), ==, 3);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM activities"), ==, 3);
}

/* A collector's book refuses what recoupd would refuse (audit A2 #7), at
 * once and with the server's words, instead of keeping it alone. */
static void
test_collector_refused_locally (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "ACC-W");
  g_autofree char *token_b = device_token (b);
  g_autofree char *entry = recoup_uuid7_new ();
  g_autofree char *change = recoup_uuid7_new ();
  g_autofree char *body = NULL;
  g_autofree char *user = NULL;
  g_autofree char *written = NULL;
  g_autoptr(JsonObject) answer = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_WRITE_OFF, .account_id = acc, .amount = 1000 };
  JsonObject *r;
  guint status = 0;

  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);

  written = recoup_ledger_record (b, &spec, &error);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_assert_null (written);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM ledger_entries"), ==, 0);

  /* The server's words for the same write-off. */
  body = g_strdup_printf ("{\"changes\":[{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"x\","
    "\"user_id\":\"%s\",\"entity\":\"ledger_entries\",\"entity_id\":\"%s\",\"op\":\"insert\",\"fields\":{"
    "\"id\":\"%s\",\"account_id\":\"%s\",\"kind\":\"write-off\",\"amount\":-1000,\"currency\":\"USD\","
    "\"effective_date\":\"2026-01-01\",\"created_at\":1},\"schema_version\":1}]}",
    change, RECOUP_HLC_MAKE (recoup_wall_clock_ms (), 0), f->collector, entry, entry, acc);
  answer = raw (f, "POST", "/v1/changes", token_b, "1", body, &status);
  g_assert_cmpuint (status, ==, 200);
  r = json_array_get_object_element (json_object_get_array_member (answer, "results"), 0);
  g_assert_cmpstr (json_object_get_string_member (r, "reason"), ==, "forbidden");
  g_assert_cmpstr (json_object_get_string_member (r, "message"), ==, error->message);
  g_clear_error (&error);

  user = recoup_user_add (b, "eve", "owner", 0, 0, FALSE, &error);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_assert_null (user);
  g_assert_nonnull (strstr (error->message, "carl"));
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM users WHERE name = 'eve'"), ==, 0);
  g_clear_error (&error);

  /* Acting as the owner in the collector's book does not make it the owner's. */
  {
    const char *ids[] = { "0123456789", NULL };
    guint n = 0;

    g_assert_true (recoup_book_set_user (b, f->owner, &error));
    g_assert_no_error (error);
    g_assert_false (recoup_review_mark_ids (b, ids, &n, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  }
  g_assert_cmpint (recoup_merge_count_unsent (b), ==, 0);
}

/* ---- what every copy derives is written once ---- */

static void
record_entry (RecoupBook      *book,
              RecoupEntryKind  kind,
              const char      *account,
              gint64           amount)
{
  RecoupEntrySpec spec = { .kind = kind, .account_id = account, .amount = amount,
                           .method = kind == RECOUP_ENTRY_PAYMENT ? "cash" : NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *id = recoup_ledger_record (book, &spec, &error);

  g_assert_no_error (error);
  g_assert_nonnull (id);
}

static void
offer_event (RecoupBook       *book,
             const char       *offer,
             RecoupOfferEvent  event)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (recoup_offer_transition (book, offer, event, NULL, &error));
  g_assert_no_error (error);
}

static char *
make_offer (RecoupBook      *book,
            const char      *account,
            RecoupOfferKind  kind,
            gint64           amount)
{
  g_autofree char *later = recoup_date_format (recoup_date_today_utc () + 30);
  gboolean is_plan = kind == RECOUP_OFFER_PLAN;
  RecoupOfferSpec spec = { .account_id = account, .kind = kind, .amount = amount,
                           .pay_by = is_plan ? NULL : later, .installments = is_plan ? 3 : 0,
                           .frequency = RECOUP_FREQUENCY_MONTHLY, .first_date = is_plan ? later : NULL };
  g_autoptr(GError) error = NULL;
  char *id = recoup_offer_create (book, &spec, &error);

  g_assert_no_error (error);
  offer_event (book, id, RECOUP_OFFER_EVENT_SEND);
  return id;
}

/* The ledger as ids and amounts, and what reconciling derived, from any connection. */
static char *
derived_dump (sqlite3 *db)
{
  static const char * const queries[] = {
    "SELECT id, kind, amount, reverses_id FROM ledger_entries ORDER BY id",
    "SELECT id, kind, account_id FROM review_items ORDER BY id",
    NULL,
  };
  GString *out = g_string_new (NULL);

  for (guint q = 0; queries[q] != NULL; q++)
    {
      sqlite3_stmt *stmt = NULL;

      g_assert_cmpint (sqlite3_prepare_v2 (db, queries[q], -1, &stmt, NULL), ==, SQLITE_OK);
      while (sqlite3_step (stmt) == SQLITE_ROW)
        {
          for (int c = 0; c < sqlite3_column_count (stmt); c++)
            g_string_append_printf (out, "%s|", sqlite3_column_type (stmt, c) == SQLITE_NULL ? "-" :
                                    (const char *) sqlite3_column_text (stmt, c));
          g_string_append_c (out, '\n');
        }
      sqlite3_finalize (stmt);
    }
  return g_string_free (out, FALSE);
}

static sqlite3 *
open_server_book (Fixture *f)
{
  g_autofree char *name = g_strdup_printf ("%s.recoup", f->org);
  g_autofree char *path = g_build_filename (f->data_dir, "orgs", name, NULL);
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  return db;
}

/* Two collectors take the last payment of one settlement offline, and one
 * accepts an offer the other withdraws. Every copy (the server's too)
 * reconciles: the discount, and the review item of the conflict, are written
 * by each under the same id and meet as one; the server numbers what it wrote
 * itself, so nobody's pull stalls. */
static void
test_derived_once (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *dora = run (f, TRUE, "add-user", "Acme Collections", "dora", "--role", "collector",
                               "--max-discount-bp", "1000", "--max-installments", "6", NULL);
  g_autofree char *code_o = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) owner = enroll_book (f, code_o, "owner.recoup");
  g_autofree char *code_c = NULL, *code_d = NULL;
  g_autofree char *settled = make_account (owner, "S-1");
  g_autofree char *planned = make_account (owner, "P-1");
  g_autofree char *settlement = NULL, *plan = NULL, *dump0 = NULL, *server_dump = NULL;
  g_autoptr(RecoupBook) carl = NULL;
  g_autoptr(RecoupBook) dora_book = NULL;
  g_autoptr(GError) error = NULL;
  RecoupBook *books[3];
  sqlite3 *server;

  record_entry (owner, RECOUP_ENTRY_FEE, settled, 100000);
  record_entry (owner, RECOUP_ENTRY_FEE, planned, 90000);
  settlement = make_offer (owner, settled, RECOUP_OFFER_SETTLEMENT, 95000);
  offer_event (owner, settlement, RECOUP_OFFER_EVENT_ACCEPT);
  plan = make_offer (owner, planned, RECOUP_OFFER_PLAN, 0);
  g_assert_true (sync_book (owner, NULL, &error));
  g_assert_no_error (error);
  code_c = enrollment_code (f, f->org, "carl");
  carl = enroll_book (f, code_c, "carl.recoup");
  code_d = enrollment_code (f, f->org, "dora");
  dora_book = enroll_book (f, code_d, "dora.recoup");
  books[0] = owner;
  books[1] = carl;
  books[2] = dora_book;

  /* Offline, each collector's copy completes the settlement and writes its discount. */
  record_entry (carl, RECOUP_ENTRY_PAYMENT, settled, 95000);
  record_entry (dora_book, RECOUP_ENTRY_PAYMENT, settled, 95000);
  offer_event (carl, plan, RECOUP_OFFER_EVENT_ACCEPT);
  offer_event (dora_book, plan, RECOUP_OFFER_EVENT_WITHDRAW);
  g_assert_cmpint (count_rows (carl, "SELECT count(*) FROM ledger_entries WHERE kind = 'discount'"), ==, 1);

  for (int pass = 0; pass < 3; pass++)
    for (int i = 0; i < 3; i++)
      {
        g_assert_true (sync_book (books[(i + pass) % 3], NULL, &error));
        g_assert_no_error (error);
      }

  server = open_server_book (f);
  g_assert_cmpint (count_rows_db (server, "SELECT count(*) FROM changes WHERE server_seq IS NULL"), ==, 0);
  server_dump = derived_dump (server);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *dump = derived_dump (recoup_book_get_db (books[i]));

      g_assert_cmpstr (dump, ==, server_dump);
      /* Both payments count; one discount, never reversed for being a copy. */
      g_assert_cmpint (count_rows (books[i], "SELECT count(*) FROM ledger_entries WHERE kind = 'discount'"), ==, 1);
      g_assert_cmpint (count_rows (books[i], "SELECT count(*) FROM ledger_entries WHERE kind = 'reversal'"), ==, 0);
      g_assert_cmpint (count_rows (books[i], "SELECT count(*) FROM ledger_entries WHERE kind = 'payment'"), ==, 2);
      g_assert_cmpint (count_rows (books[i], "SELECT count(*) FROM review_items WHERE kind = 'offer-conflict'"), ==, 1);
      g_assert_cmpint (recoup_merge_count_unsent (books[i]), ==, 0);
    }

  /* Sync goes on: a later payment reaches everyone. */
  record_entry (carl, RECOUP_ENTRY_PAYMENT, planned, 1000);
  g_assert_true (sync_book (carl, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (owner, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (owner, "SELECT count(*) FROM ledger_entries WHERE kind = 'payment'"), ==, 3);
  g_assert_cmpint (count_rows_db (server, "SELECT count(*) FROM changes WHERE server_seq IS NULL"), ==, 0);
  dump0 = derived_dump (recoup_book_get_db (owner));
  g_free (server_dump);
  server_dump = derived_dump (server);
  g_assert_cmpstr (dump0, ==, server_dump);
  sqlite3_close (server);
}

/* Serving a snapshot must leave the server's own locks on its book in place:
 * closing any descriptor of a file drops all of a process's POSIX locks on
 * it, and without them another process may delete the WAL under acknowledged
 * pushes. The server's open connection holds SQLite's shared lock. */
static void
test_snapshot_keeps_locks (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *code_o = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) owner = enroll_book (f, code_o, "owner.recoup");
  g_autofree char *account = make_account (owner, "L-1");
  g_autofree char *code_c = NULL;
  g_autofree char *name = g_strdup_printf ("%s.recoup", f->org);
  g_autofree char *path = g_build_filename (f->data_dir, "orgs", name, NULL);
  g_autoptr(RecoupBook) carl = NULL;
  g_autoptr(GError) error = NULL;
  struct flock probe = { 0 };
  int fd;

  log_call (owner, account);
  g_assert_true (sync_book (owner, NULL, &error));
  g_assert_no_error (error);
  code_c = enrollment_code (f, f->org, "carl");
  carl = enroll_book (f, code_c, "carl.recoup");   /* downloads a snapshot */
  g_assert_cmpint (count_rows (carl, "SELECT count(*) FROM activities"), ==, 1);

  /* Would a write lock on SQLite's shared-lock bytes conflict? Only while
   * the server still holds its read lock there. */
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 0x40000000 + 2;   /* SQLite's SHARED_FIRST */
  probe.l_len = 510;
  g_assert_cmpint (fcntl (fd, F_GETLK, &probe), ==, 0);
  g_close (fd, NULL);
  g_assert_cmpint (probe.l_type, !=, F_UNLCK);
  g_assert_cmpint (probe.l_pid, ==, atoi (g_subprocess_get_identifier (f->server)));
}


/* The lost edit of @field on @account in @book's conflict log, described
 * (recoup_merge_describe_conflict()); NULL when there is none. */
static JsonObject *
lost_edit (RecoupBook *book,
           const char *account,
           const char *field)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) conflicts = recoup_merge_list_conflicts (book, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < json_array_get_length (conflicts); i++)
    {
      JsonObject *c = json_array_get_object_element (conflicts, i);

      if (g_strcmp0 (json_object_get_string_member (c, "entity_id"), account) == 0 &&
          g_strcmp0 (json_object_get_string_member (c, "field"), field) == 0)
        {
          g_assert_true (recoup_merge_describe_conflict (book, c, &error));
          g_assert_no_error (error);
          return json_object_ref (c);
        }
    }
  return NULL;
}

static char *
run_cli (const char *cli,
         const char *book_path,
         const char *command)
{
  const char *argv[] = { cli, "--book", book_path, command, NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                               &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("recoup-cli %s failed: %s%s", command, out, err);
  return out;
}

/* Two devices change the same field offline; the later edit wins everywhere
 * (audit A2 #5). The device whose edit lost is told, whichever of the two
 * syncs first (it always sends its edit before it receives the other's), and
 * so is every other device; its sync-status names the account and the
 * people. An edit made after seeing the other's value is no conflict. */
static void
test_lost_edit_told (Fixture       *f,
                     gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_c = enrollment_code (f, f->org, "carl");
  g_autofree char *code_o = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) c = enroll_book (f, code_c, "c.recoup");
  g_autoptr(RecoupBook) o = enroll_book (f, code_o, "o.recoup");
  RecoupBook *winner_first[] = { a, c, a, o };
  RecoupBook *loser_first[] = { c, a, c, o };
  g_autoptr(GError) error = NULL;

  for (guint order = 0; order < 2; order++)
    {
      RecoupBook **syncs = order == 0 ? winner_first : loser_first;
      g_autofree char *ref = g_strdup_printf ("LOST-%u", order);
      g_autofree char *acc = make_account (a, ref);
      RecoupBook *books[] = { a, c, o };

      for (guint i = 0; i < G_N_ELEMENTS (books); i++)
        {
          g_assert_true (sync_book (books[i], NULL, &error));
          g_assert_no_error (error);
        }
      /* Carl's edit first, Olive's a moment later: hers wins. */
      g_assert_true (recoup_account_set (c, acc, "stage", "negotiation", &error));
      g_assert_no_error (error);
      g_usleep (5000);
      g_assert_true (recoup_account_set (a, acc, "stage", "escalation", &error));
      g_assert_no_error (error);
      for (guint i = 0; i < 4; i++)
        {
          g_assert_true (sync_book (syncs[i], NULL, &error));
          g_assert_no_error (error);
        }

      for (guint i = 0; i < G_N_ELEMENTS (books); i++)
        {
          g_autoptr(RecoupAccount) account = recoup_account_load (books[i], acc, &error);
          g_autoptr(JsonObject) lost = lost_edit (books[i], acc, "stage");

          g_assert_no_error (error);
          g_assert_cmpstr (account->stage, ==, "escalation");
          if (lost == NULL)
            g_error ("order %u: device %u was not told of carl's lost edit", order, i);
          g_assert_cmpstr (json_object_get_string_member (lost, "value"), ==, "negotiation");
          g_assert_cmpstr (json_object_get_string_member (lost, "account_ref"), ==, ref);
          g_assert_cmpstr (json_object_get_string_member (lost, "loser_name"), ==, "carl");
          g_assert_cmpstr (json_object_get_string_member (lost, "winner_name"), ==, "olive");
          g_assert_true (json_object_get_boolean_member (lost, "own") == (books[i] == c));
        }

      /* Carl changes it again, having seen Olive's value: nobody lost. */
      g_assert_true (recoup_account_set (c, acc, "stage", "closed", &error));
      g_assert_no_error (error);
      g_assert_true (sync_book (c, NULL, &error));
      g_assert_no_error (error);
      for (guint i = 0; i < G_N_ELEMENTS (books); i++)
        {
          g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM sync_conflicts"
                                                  " WHERE entity_id = '%s'", acc);

          g_assert_true (sync_book (books[i], NULL, &error));
          g_assert_no_error (error);
          g_assert_cmpint (count_rows (books[i], sql), ==, 1);
        }
    }

  if (cli != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, "c.recoup", NULL);
      g_autofree char *out = run_cli (cli, path, "sync-status");

      g_test_message ("%s", out);
      g_assert_nonnull (strstr (out, "LOST-0"));
      g_assert_nonnull (strstr (out, "LOST-1"));
      g_assert_nonnull (strstr (out, "\"negotiation\""));
      g_assert_nonnull (strstr (out, "carl (this device)"));
      g_assert_nonnull (strstr (out, "olive"));
      g_assert_null (strstr (out, f->owner));
    }
}

/* sync-status lists a change refused as stamped ahead of the server's clock
 * (audit A2 #10) with those sent again with the next sync, where it is, and
 * not with those kept in the book unsent; both lists name the account. */
static void
test_status_refused_for_now (Fixture       *f,
                             gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autofree char *code = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) a = enroll_book (f, code, "a.recoup");
  g_autofree char *acc = make_account (a, "AHEAD-1");
  g_autofree char *path = g_build_filename (f->dir, "a.recoup", NULL);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  GString *body;
  const char *for_now, *for_good, *ahead, *refused;

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  log_call (a, acc);
  body = recoup_merge_collect_unsent_body (a, 0, 0, ids, NULL, &error);
  g_assert_no_error (error);
  g_string_free (body, TRUE);
  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_true (recoup_merge_acknowledge (a, ids->pdata[0], 0, "clock_ahead", "stamped ahead of the server",
                                           &error));
  g_assert_no_error (error);
  g_assert_true (recoup_merge_acknowledge (a, ids->pdata[1], 0, "forbidden", "not allowed here", &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, 1);

  out = run_cli (cli, path, "sync-status");
  g_test_message ("%s", out);
  for_now = strstr (out, "Refused by the server for now (sent again with the next sync):");
  for_good = strstr (out, "Refused by the server (kept in this book, not resent):");
  ahead = strstr (out, "clock_ahead");
  refused = strstr (out, "forbidden");
  g_assert_nonnull (for_now);
  g_assert_nonnull (for_good);
  g_assert_nonnull (ahead);
  g_assert_nonnull (refused);
  g_assert_true (for_now < ahead && ahead < for_good && for_good < refused);
  g_assert_nonnull (strstr (out, "AHEAD-1"));
}

static char *
user_names (sqlite3 *db)
{
  sqlite3_stmt *stmt = NULL;
  char *names = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT group_concat (name, ',') FROM (SELECT name FROM users"
                                           " WHERE deleted = 0 ORDER BY name)", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  names = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return names;
}

static char *
activity_author (RecoupBook *book,
                 const char *account)
{
  g_autofree char *sql = g_strdup_printf ("SELECT u.name FROM activities a"
                                          " LEFT JOIN users u ON u.id = a.user_id"
                                          " WHERE a.account_id = '%s'", account);
  sqlite3_stmt *stmt = NULL;
  char *name = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  name = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return name;
}

/* A book used before it was enrolled (audit A2 #9): what its first owner
 * recorded is the enrolled user's on every copy, so the history names the
 * same person everywhere, and no copy keeps a user of its own (nor does the
 * server hand its own to the devices it bootstraps). */
static void
test_pre_enrollment_owner (Fixture       *f,
                           gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autofree char *path = g_build_filename (f->dir, "owner.recoup", NULL);
  g_autofree char *code = NULL;
  g_autofree char *code_c = NULL;
  g_autofree char *acc = NULL;
  g_autofree char *first_user = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(RecoupBook) o = NULL;
  g_autoptr(RecoupBook) c = NULL;
  g_autoptr(GError) error = NULL;

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  /* Before enrollment: an account assigned to the book's own owner, a call. */
  o = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  first_user = g_strdup (recoup_book_get_user_id (o));
  acc = make_account (o, "PRE-1");
  g_assert_true (recoup_account_set (o, acc, "assigned_to", first_user, &error));
  g_assert_no_error (error);
  log_call (o, acc);
  g_clear_object (&o);

  code = enrollment_code (f, f->org, "olive");
  {
    const char *argv[] = { cli, "--book", path, "enroll", code, NULL };
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                                 &error));
    g_assert_no_error (error);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("recoup-cli enroll failed: %s%s", out, err);
  }
  o = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (recoup_book_get_user_id (o), ==, f->owner);
  g_assert_true (sync_book (o, NULL, &error));
  g_assert_no_error (error);

  code_c = enrollment_code (f, f->org, "carl");
  c = enroll_book (f, code_c, "carl.recoup");
  g_assert_true (sync_book (c, NULL, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < 2; i++)
    {
      RecoupBook *book = i == 0 ? o : c;
      g_autoptr(RecoupAccount) account = recoup_account_load (book, acc, &error);
      g_autofree char *by = activity_author (book, acc);
      g_autofree char *names = user_names (recoup_book_get_db (book));

      g_assert_no_error (error);
      g_assert_cmpstr (by, ==, "olive");
      g_assert_cmpstr (account->assigned_to, ==, f->owner);
      g_assert_cmpstr (names, ==, "carl,olive");
      sql = (g_free (sql), g_strdup_printf ("SELECT count(*) FROM changes WHERE user_id = '%s'", first_user));
      g_assert_cmpint (count_rows (book, sql), ==, 0);
      g_assert_true (recoup_book_check_integrity (book, &error));
      g_assert_no_error (error);
    }
  {
    sqlite3 *server = open_server_book (f);
    g_autofree char *names = user_names (server);

    g_assert_cmpstr (names, ==, "carl,olive");
    sqlite3_close (server);
  }
}

/* ---- enrollment of a book that has data of its own ---- */

/* A book with an account and a call made before it is ever connected. */
static RecoupBook *
book_with_own_data (Fixture    *f,
                    const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = NULL;
  RecoupBook *book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);

  g_assert_no_error (error);
  acc = make_account (book, "OWN-1");
  log_call (book, acc);
  g_assert_cmpint (recoup_merge_count_unsent (book), >, 0);
  return book;
}

static gint64
unused_codes (Fixture *f)
{
  return count_on_server (f, "SELECT count(*) FROM enrollments WHERE used_at IS NULL AND device_id IS NULL"
                             " AND request_sha256 IS NULL");
}

/* POST /v1/check-enrollment tells what a code grants and writes nothing:
 * the code enrolls afterwards as if never asked about; an unknown secret
 * learns only that it is unknown; and recoupd no longer hands a path that
 * merely begins with /v1/enroll to the enrollment (libsoup's prefix match),
 * so no request meant for another endpoint can spend a code. */
static void
test_check_code (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *code = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupEnrollmentGrant) grant = NULL;
  g_autoptr(RecoupSyncEnrollment) e = NULL;
  g_autoptr(GError) error = NULL;
  RecoupEnrollmentCode parsed;
  guint status = 0;

  g_assert_true (recoup_enrollment_code_parse (code, &parsed, &error));
  for (guint i = 0; i < 2; i++)
    {
      g_clear_pointer (&grant, recoup_enrollment_grant_free);
      grant = recoup_sync_check_code (code, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (grant->org_id, ==, f->org);
      g_assert_cmpstr (grant->org_name, ==, "Acme Collections");
      g_assert_cmpstr (grant->user_name, ==, "carl");
      g_assert_cmpstr (grant->role, ==, "collector");
      g_assert_cmpint (unused_codes (f), ==, 1);
      g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM devices"), ==, 0);
    }
  {
    g_autofree char *body = g_strdup_printf ("{\"secret\": \"%s-wrong\"}", parsed.secret);
    g_autoptr(JsonObject) answer = raw (f, "POST", "/v1/check-enrollment", NULL, "1", body, &status);

    g_assert_cmpuint (status, ==, 403);
    g_assert_cmpstr (json_object_get_string_member (answer, "error"), ==, "enrollment_unknown");
    g_assert_false (json_object_has_member (answer, "role"));
    g_assert_false (json_object_has_member (answer, "user_name"));
  }
  for (guint i = 0; i < 2; i++)
    {
      const char *paths[] = { "/v1/enroll/check", "/v1/check-enrollment/x" };
      g_autofree char *body = g_strdup_printf ("{\"secret\": \"%s\", \"device_name\": \"x\"}", parsed.secret);
      g_autoptr(JsonObject) answer = raw (f, "POST", paths[i], NULL, "1", body, &status);

      g_assert_cmpuint (status, ==, 404);
      g_assert_cmpstr (json_object_get_string_member (answer, "error"), ==, "not_found");
    }
  g_assert_cmpint (unused_codes (f), ==, 1);

  e = recoup_sync_enroll (code, "carl-laptop", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (e->user_id, ==, f->collector);

  /* Spent: asking now says so, as enrolling would. */
  g_clear_pointer (&grant, recoup_enrollment_grant_free);
  grant = recoup_sync_check_code (code, NULL, &error);
  g_assert_null (grant);
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "enrollment_used"));
  recoup_enrollment_code_clear (&parsed);
}

/* A collector's code for a book with changes made before enrollment is
 * refused before it is spent, saying who the code makes you, why, what to
 * do and that the code still works; the book is not touched. The same code
 * then enrolls an untouched new book, which starts as the team's. An
 * owner's code enrolls the book with its data, as before. */
static void
test_collector_needs_new_book (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *code = enrollment_code (f, f->org, "carl");
  g_autofree char *owner_code = enrollment_code (f, f->org, "olive");
  g_autofree char *fresh_path = g_build_filename (f->dir, "fresh.recoup", NULL);
  g_autoptr(RecoupBook) book = book_with_own_data (f, "own.recoup");
  g_autoptr(RecoupBook) fresh = NULL;
  g_autoptr(RecoupSyncEnrollment) e = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  gint64 changes = recoup_book_count_changes (book);

  e = recoup_sync_enroll_book (book, code, "carl-laptop", NULL, &error);
  g_assert_null (e);
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message,
                                   "This code joins you as collector “carl” of the team “Acme Collections”."));
  g_assert_nonnull (strstr (error->message, "any other device starts from the team’s book"));
  g_assert_nonnull (strstr (error->message, recoup_book_get_path (book)));
  g_assert_nonnull (strstr (error->message, "“Join in a New Book”"));
  g_assert_nonnull (strstr (error->message, "“recoup-cli --book NEW-FILE enroll CODE”"));
  g_assert_nonnull (strstr (error->message, "The code is still valid"));
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (book), ==, changes);
  url = recoup_book_get_setting (book, "sync.url");
  g_assert_null (url);
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM devices"), ==, 0);
  g_assert_cmpint (unused_codes (f), ==, 2);

  /* An untouched new book takes the same code, and starts as the team's. */
  fresh = recoup_book_open (fresh_path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  e = recoup_sync_enroll_book (fresh, code, "carl-laptop", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (e->role, ==, "collector");
  g_clear_object (&fresh);
  g_assert_true (recoup_sync_bootstrap (e, fresh_path, NULL, &error));
  g_assert_no_error (error);
  fresh = recoup_book_open (fresh_path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_sync_attach (fresh, e, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (fresh, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (recoup_book_get_user_id (fresh), ==, f->collector);
  g_assert_cmpint (count_rows (fresh, "SELECT count(*) FROM accounts"), ==, 0);
  g_clear_pointer (&e, recoup_sync_enrollment_free);

  /* An owner brings the book's data along. */
  e = recoup_sync_enroll_book (book, owner_code, "olive-desk", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (e->role, ==, "owner");
  g_assert_true (recoup_sync_attach (book, e, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (book, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (book), ==, 0);
  g_assert_true (sync_book (fresh, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (fresh, "SELECT count(*) FROM accounts WHERE ref = 'OWN-1'"), ==, 1);
}

/* `recoup-cli enroll` with a collector's code on a book with data of its
 * own: exit 1 with the refusal, nothing in the book changes, and the code
 * then enrolls a new book with --book. */
static void
test_cli_collector_needs_new_book (Fixture       *f,
                                   gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autofree char *code = NULL;
  g_autofree char *path = NULL;
  g_autofree char *fresh_path = g_build_filename (f->dir, "fresh.recoup", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GError) error = NULL;
  gint64 changes;

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  code = enrollment_code (f, f->org, "carl");
  book = book_with_own_data (f, "own.recoup");
  path = g_strdup (recoup_book_get_path (book));
  changes = recoup_book_count_changes (book);
  before = canonical (book);
  g_clear_object (&book);
  {
    const char *argv[] = { cli, "--book", path, "enroll", code, NULL };
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                                 &error));
    g_assert_no_error (error);
    g_test_message ("%s", err);
    g_assert_true (WIFEXITED (status));
    g_assert_cmpint (WEXITSTATUS (status), ==, 1);
    g_assert_true (g_str_has_prefix (err, "recoup-cli enroll: This code joins you as collector “carl” of the "
                                          "team “Acme Collections”."));
    g_assert_nonnull (strstr (err, "The code is still valid"));
    g_assert_cmpstr (out, ==, "");
  }
  book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  after = canonical (book);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (recoup_book_count_changes (book), ==, changes);
  g_assert_null (recoup_book_get_setting (book, "sync.url"));
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM devices"), ==, 0);
  {
    const char *argv[] = { cli, "--book", fresh_path, "enroll", code, NULL };
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                                 &error));
    g_assert_no_error (error);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("recoup-cli enroll failed: %s%s", out, err);
    g_assert_nonnull (strstr (out, "as carl (collector)"));
  }
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM devices"), ==, 1);
}

/* ---- a recoupd from before POST /v1/check-enrollment ----
 * A TLS server with the fixture's certificate that answers every path with
 * recoupd's 404 except /v1/enroll, which it passes on to the fixture's
 * recoupd. */

typedef struct
{
  Stub     stub;
  guint    target_port;
  volatile gint checks;
} OldServer;

static void
old_server_cb (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           data)
{
  static const char not_found[] = "{\"error\": \"not_found\", \"message\": \"no endpoint\"}";
  OldServer *old = data;
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(SoupMessage) up = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autofree char *url = NULL;
  SoupMessageHeaders *in = soup_server_message_get_request_headers (msg);

  if (!g_str_equal (path, "/v1/enroll"))
    {
      if (g_str_equal (path, "/v1/check-enrollment"))
        g_atomic_int_inc (&old->checks);
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, not_found,
                                        strlen (not_found));
      return;
    }
  session = soup_session_new ();
  url = g_strdup_printf ("https://127.0.0.1:%u/v1/enroll", old->target_port);
  up = soup_message_new ("POST", url);
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  soup_message_headers_replace (soup_message_get_request_headers (up), "Recoup-Protocol",
                                soup_message_headers_get_one (in, "Recoup-Protocol"));
  soup_message_headers_replace (soup_message_get_request_headers (up), "Recoup-Schema",
                                soup_message_headers_get_one (in, "Recoup-Schema"));
  soup_message_set_request_body_from_bytes (up, "application/json", body);
  g_signal_connect (up, "accept-certificate", G_CALLBACK (accept_any_cb), NULL);
  answer = soup_session_send_and_read (session, up, NULL, NULL);
  soup_server_message_set_status (msg, soup_message_get_status (up), NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                    answer != NULL ? g_bytes_get_data (answer, NULL) : "",
                                    answer != NULL ? g_bytes_get_size (answer) : 0);
}

static gpointer
old_server_thread (gpointer data)
{
  OldServer *old = data;

  return stub_serve (&old->stub, old_server_cb, old);
}

/* A server that cannot be asked what a code grants: a collector's code
 * enrolls a book with data of its own as it did before the question. */
static void
test_enroll_old_server (Fixture       *f,
                        gconstpointer  data)
{
  OldServer old = { .target_port = f->port };
  Stub *stub = &old.stub;
  g_autoptr(RecoupBook) book = book_with_own_data (f, "own.recoup");
  g_autoptr(RecoupEnrollmentGrant) grant = NULL;
  g_autoptr(RecoupSyncEnrollment) e = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *code = NULL;

  stub_launch (stub, f, old_server_thread, &old);
  url = g_strdup_printf ("https://127.0.0.1:%u", stub->port);
  code = run (f, TRUE, "--url", url, "enroll", f->org, "carl", NULL);
  grant = recoup_sync_check_code (code, NULL, &error);
  g_assert_null (grant);
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_cmpint (unused_codes (f), ==, 1);

  e = recoup_sync_enroll_book (book, code, "carl-laptop", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_atomic_int_get (&old.checks), ==, 2);
  g_assert_cmpstr (e->role, ==, "collector");
  g_assert_cmpstr (e->user_id, ==, f->collector);
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM devices"), ==, 1);
  stub_stop (stub);
}

/* ---- one person, one user, whoever made them first ---- */

/* An owner's book, before it is connected, that knows the collector "xena"
 * (1500 bp, 12 installments) and has an account assigned to her. */
static RecoupBook *
book_with_xena (Fixture  *f,
                char    **out_xena,
                char    **out_account)
{
  g_autofree char *path = g_build_filename (f->dir, "owner.recoup", NULL);
  g_autoptr(GError) error = NULL;
  RecoupBook *book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);

  g_assert_no_error (error);
  *out_xena = recoup_user_add (book, "xena", "collector", 1500, 12, FALSE, &error);
  g_assert_no_error (error);
  *out_account = make_account (book, "XENA-1");
  g_assert_true (recoup_account_set (book, *out_account, "assigned_to", *out_xena, &error));
  g_assert_no_error (error);
  return book;
}

/* What `recoup-cli enroll` does for a book with data: enroll, attach, sync. */
static void
connect_owner_book (Fixture    *f,
                    RecoupBook *book)
{
  g_autofree char *code = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupSyncEnrollment) e = NULL;
  g_autoptr(GError) error = NULL;

  e = recoup_sync_enroll_book (book, code, "olive-desk", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_sync_attach (book, e, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (book, NULL, &error));
  g_assert_no_error (error);
}

/* One "xena" in @book, with @id and the server's limits, the account hers. */
static void
assert_one_xena (RecoupBook *book,
                 const char *id,
                 const char *account,
                 gint64      max_discount_bp,
                 gint64      max_plan_installments)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *names = user_names (recoup_book_get_db (book));
  g_autofree char *resolved = recoup_user_resolve (book, "Xena", &error);
  g_autoptr(RecoupUser) xena = NULL;
  g_autoptr(RecoupAccount) acc = NULL;
  g_autoptr(GPtrArray) hers = NULL;
  RecoupAccountFilter filter = { .assigned_to = "xena" };

  g_assert_cmpstr (names, ==, "carl,olive,xena");
  g_assert_no_error (error);
  g_assert_cmpstr (resolved, ==, id);
  xena = recoup_user_load (book, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (xena->role, ==, "collector");
  g_assert_cmpint (xena->max_discount_bp, ==, max_discount_bp);
  g_assert_cmpint (xena->max_plan_installments, ==, max_plan_installments);
  acc = recoup_account_load (book, account, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (acc->assigned_to, ==, id);
  hers = recoup_account_list (book, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hers->len, ==, 1);
  g_assert_true (recoup_book_check_integrity (book, &error));
  g_assert_no_error (error);
}

/* The QA case: the admin adds a collector the owner's book knows already
 * (and makes her code) before the owner connects it. The owner's "xena" is
 * her on every copy: the server takes the id the owner's rows name, with the
 * role and limits it enforces; the user it had made goes by a tombstone;
 * her code enrolls her as the owner's "xena", whose accounts she sees. */
static void
test_owner_book_user_on_server (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *made = run (f, TRUE, "add-user", "Acme Collections", "xena", "--role", "collector",
                               "--max-discount-bp", "500", "--max-installments", "3", NULL);
  g_autofree char *code = enrollment_code (f, f->org, "xena");
  g_autofree char *xena = NULL;
  g_autofree char *account = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(RecoupBook) o = book_with_xena (f, &xena, &account);
  g_autoptr(RecoupBook) x = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (made, !=, xena);
  connect_owner_book (f, o);
  x = enroll_book (f, code, "xena.recoup");
  g_assert_cmpstr (recoup_book_get_user_id (x), ==, xena);
  g_assert_true (sync_book (x, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (o, NULL, &error));
  g_assert_no_error (error);

  assert_one_xena (o, xena, account, 500, 3);
  assert_one_xena (x, xena, account, 500, 3);
  {
    sqlite3 *server = open_server_book (f);
    g_autofree char *names = user_names (server);

    g_assert_cmpstr (names, ==, "carl,olive,xena");
    sqlite3_close (server);
  }
  /* The server's own user stays in the books' history, removed. */
  sql = g_strdup_printf ("SELECT count(*) FROM users WHERE id = '%s' AND deleted = 1", made);
  g_assert_cmpint (count_rows (x, sql), ==, 1);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count(*) FROM users WHERE name = 'xena' AND id = '%s' AND max_discount_bp = 500",
                         xena);
  g_assert_cmpint (count_on_server (f, sql), ==, 1);
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM users WHERE name = 'xena'"), ==, 1);
}

/* The other order: the owner's book is synced first, then the admin adds
 * "Xena" (any case): the server adopts the synced user and her id; what
 * the admin gives (the discount) is what counts, what not (the plan
 * length) stays as the owner set it. */
static void
test_admin_adds_synced_user (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *xena = NULL;
  g_autofree char *account = NULL;
  g_autofree char *added = NULL;
  g_autofree char *code = NULL;
  g_autoptr(RecoupBook) o = book_with_xena (f, &xena, &account);
  g_autoptr(RecoupBook) x = NULL;
  g_autoptr(GError) error = NULL;

  connect_owner_book (f, o);
  /* Not as a bookkeeper while she holds an account (QA: a collector made a
   * bookkeeper kept 91 accounts no one could work): refused, nothing
   * written. */
  g_free (run (f, FALSE, "add-user", "Acme Collections", "Xena", "--role", "bookkeeper", NULL));
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM users WHERE name = 'xena' COLLATE NOCASE"), ==, 0);
  added = run (f, TRUE, "add-user", "Acme Collections", "Xena", "--max-discount-bp", "500", NULL);
  g_assert_cmpstr (added, ==, xena);
  code = enrollment_code (f, f->org, "xena");
  x = enroll_book (f, code, "xena.recoup");
  g_assert_cmpstr (recoup_book_get_user_id (x), ==, xena);
  g_assert_true (sync_book (x, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (o, NULL, &error));
  g_assert_no_error (error);

  assert_one_xena (o, xena, account, 500, 12);
  assert_one_xena (x, xena, account, 500, 12);
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM users WHERE name = 'xena' COLLATE NOCASE"
                                       " AND role = 'collector' AND max_discount_bp = 500"
                                       " AND max_plan_installments = 12"), ==, 1);
}

/* A server user already in use (carl has a device) is not taken over by a
 * pushed user of his name: both stay, as re-pointing what either wrote
 * would rewrite synced rows, and the name alone no longer picks one. The
 * admin's way out: remove the server's user (devices revoked, the name
 * freed, the user gone from the books) and add the name again, which takes
 * the owner's user. */
static void
test_pushed_user_name_in_use (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *code = enrollment_code (f, f->org, "carl");
  g_autofree char *path = g_build_filename (f->dir, "owner.recoup", NULL);
  g_autofree char *other = NULL;
  g_autofree char *resolved = NULL;
  g_autoptr(RecoupBook) c = enroll_book (f, code, "carl.recoup");
  g_autoptr(RecoupBook) o = NULL;
  g_autoptr(RecoupBook) again = NULL;
  g_autofree char *adopted = NULL, *code_again = NULL;
  g_autoptr(GError) error = NULL;

  o = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  other = recoup_user_add (o, "Carl", "collector", 0, 0, FALSE, &error);
  g_assert_no_error (error);
  connect_owner_book (f, o);
  g_assert_true (sync_book (c, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpstr (recoup_book_get_user_id (c), ==, f->collector);
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM users WHERE name = 'carl'"), ==, 1);
  for (guint i = 0; i < 2; i++)
    {
      RecoupBook *book = i == 0 ? o : c;

      resolved = recoup_user_resolve (book, "carl", &error);
      g_assert_null (resolved);
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, f->collector));
      g_assert_nonnull (strstr (error->message, other));
      g_clear_error (&error);
      resolved = recoup_user_resolve (book, other, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (resolved, ==, other);
      g_clear_pointer (&resolved, g_free);
    }

  /* The admin removes the server's one (QA: then the name could never be
   * added again) and adds the person again: it is the owner's user now, on
   * every copy, and a device enrolled for the name writes as them. */
  g_free (run (f, TRUE, "remove-user", "Acme Collections", "carl", NULL));
  adopted = run (f, TRUE, "add-user", "Acme Collections", "Carl", "--role", "collector", NULL);
  g_assert_cmpstr (adopted, ==, other);
  g_assert_true (sync_book (o, NULL, &error));
  g_assert_no_error (error);
  resolved = recoup_user_resolve (o, "carl", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (resolved, ==, other);
  code_again = enrollment_code (f, f->org, "Carl");
  again = enroll_book (f, code_again, "carl-again.recoup");
  g_assert_cmpstr (recoup_book_get_user_id (again), ==, other);
}

/* Removing a user whose accounts are still assigned revokes their devices
 * and keeps them a user of the books (QA: the name could then never be
 * added again, "UNIQUE constraint failed"): adding the name back restores
 * the same user, whose new device writes as them. Once their accounts are
 * someone else's, removing them again takes them out of the books and
 * frees the name for a new person. */
static void
test_remove_user_with_accounts (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = NULL;
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "ACC-RM");
  g_autofree char *back = NULL, *fresh = NULL, *resolved = NULL;

  g_assert_true (recoup_account_set (a, acc, "assigned_to", f->collector, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);

  g_free (run (f, TRUE, "remove-user", "Acme Collections", "carl", NULL));
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM users WHERE name = 'carl'"
                                       " AND removed_at IS NOT NULL"), ==, 1);
  /* The last owner stays. */
  g_free (run (f, FALSE, "remove-user", "Acme Collections", "olive", NULL));
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM users WHERE name = 'olive'"
                                       " AND removed_at IS NULL"), ==, 1);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  resolved = recoup_user_resolve (a, "carl", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (resolved, ==, f->collector);
  g_clear_pointer (&resolved, g_free);

  /* Added back: the same carl, and a device for him writes as him. */
  back = run (f, TRUE, "add-user", "Acme Collections", "carl", "--role", "collector", NULL);
  g_assert_cmpstr (back, ==, f->collector);
  code_b = enrollment_code (f, f->org, "carl");
  b = enroll_book (f, code_b, "b.recoup");
  g_assert_cmpstr (recoup_book_get_user_id (b), ==, f->collector);

  /* Removed again once his account is olive's: out of the books, and the
   * name is a new person's. */
  g_free (run (f, TRUE, "remove-user", "Acme Collections", "carl", NULL));
  g_assert_true (recoup_account_set (a, acc, "assigned_to", f->owner, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_free (run (f, TRUE, "remove-user", "Acme Collections", "carl", NULL));
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  resolved = recoup_user_resolve (a, "carl", &error);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  fresh = run (f, TRUE, "add-user", "Acme Collections", "carl", "--role", "collector", NULL);
  g_assert_cmpstr (fresh, !=, f->collector);
  g_assert_true (recoup_uuid_is_valid (fresh));
}

/* The collector of @account in @book (NULL when unassigned). */
static char *
assignee_of (RecoupBook *book,
             const char *account)
{
  g_autoptr(RecoupAccount) a = NULL;
  g_autoptr(GError) error = NULL;

  a = recoup_account_load (book, account, &error);
  g_assert_no_error (error);
  return g_strdup (a->assigned_to);
}

/* QA: an owner's laptop, offline, assigned an account to carl while the
 * admin removed carl; when it synced, the account was no one's on every
 * copy. recoupd refuses the assignment with a reason the owner can read,
 * the laptop puts the collector the server kept back (with its clock, so
 * later edits merge as before), and every copy agrees; the refused change
 * stays in the laptop's log and is listed as refused. An account the
 * laptop made for carl arrives whole, unassigned. */
static void
test_assign_to_removed_user (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) refused = NULL;
  g_autofree char *acc = make_account (a, "ACC-GONE");
  g_autofree char *server_book = g_strdup_printf ("%s/orgs/%s.recoup", f->data_dir, f->org);
  g_autofree char *sql = NULL;
  g_autofree char *on_a = NULL, *on_b = NULL, *assigned = NULL;
  g_autofree char *text_a = NULL, *text_b = NULL;
  g_autofree char *made = NULL, *made_on_a = NULL, *made_on_b = NULL;
  RecoupAccountSpec spec = { .ref = "ACC-NEW", .name = "New", .currency = "USD",
                             .timezone = "America/New_York", .assigned_to = f->collector };
  RecoupSyncReport report = { 0 };
  JsonObject *r;

  g_assert_true (recoup_account_set (a, acc, "assigned_to", f->owner, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);

  /* Offline: a gives the account to carl, and makes one more for him;
   * meanwhile carl is removed (no accounts are his on the server, so he
   * leaves the books). */
  g_assert_true (recoup_account_set (a, acc, "assigned_to", f->collector, &error));
  g_assert_no_error (error);
  made = recoup_account_create (a, &spec, &error);
  g_assert_no_error (error);
  g_free (run (f, TRUE, "remove-user", "Acme Collections", "carl", NULL));
  sql = g_strdup_printf ("SELECT deleted FROM users WHERE id = '%s'", f->collector);
  g_assert_cmpint (count_in_db (server_book, sql), ==, 1);

  g_assert_true (sync_book (a, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report.rejected, ==, 1);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count(*) FROM accounts WHERE id = '%s' AND assigned_to = '%s'", acc, f->owner);
  g_assert_cmpint (count_in_db (server_book, sql), ==, 1);

  /* Refused, with why and what to do, and kept in the log. */
  refused = recoup_merge_list_rejections (a, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (refused), ==, 1);
  r = json_array_get_object_element (refused, 0);
  g_assert_cmpstr (json_object_get_string_member (r, "reason"), ==, RECOUP_MERGE_REASON_USER_REMOVED);
  g_assert_nonnull (strstr (json_object_get_string_member (r, "message"), "carl was removed from the team"));
  g_assert_nonnull (strstr (json_object_get_string_member (r, "message"), "ACC-GONE stays with olive"));
  g_assert_true (recoup_merge_describe_rejection (a, r, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (r, "account_ref"), ==, "ACC-GONE");
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, 0);

  /* Every copy agrees: the account stays olive's. */
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  on_a = assignee_of (a, acc);
  on_b = assignee_of (b, acc);
  g_assert_cmpstr (on_a, ==, f->owner);
  g_assert_cmpstr (on_b, ==, f->owner);
  /* The account made for him reached the team with all it holds, and is
   * no one's until the owner gives it to someone. */
  made_on_a = assignee_of (a, made);
  made_on_b = assignee_of (b, made);
  g_assert_null (made_on_a);
  g_assert_null (made_on_b);
  text_a = canonical (a);
  text_b = canonical (b);
  g_assert_cmpstr (text_a, ==, text_b);

  /* The collector and its clock are the server's: a later assignment on
   * the other copy reaches this one as any edit does. */
  g_assert_true (recoup_account_set (b, acc, "assigned_to", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  assigned = assignee_of (a, acc);
  g_assert_null (assigned);
}

/* The same, when the collector the server kept is one the laptop has not
 * pulled yet (added, and given the account, on another copy): the laptop
 * gives up the refused change's clock, and the pull that follows brings the
 * new collector's assignment, which wins as it did on the server. */
static void
test_assign_to_removed_user_new_keeper (Fixture       *f,
                                        gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "ACC-DANA");
  g_autofree char *dana = NULL, *on_a = NULL;
  RecoupSyncReport report = { 0 };
  gboolean synced;

  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_account_set (a, acc, "assigned_to", f->collector, &error));
  g_assert_no_error (error);

  dana = run (f, TRUE, "add-user", "Acme Collections", "dana", "--role", "collector", NULL);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_account_set (b, acc, "assigned_to", dana, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_free (run (f, TRUE, "remove-user", "Acme Collections", "carl", NULL));

  synced = sync_book (a, &report, &error);
  g_assert_no_error (error);
  g_assert_true (synced);
  g_assert_cmpuint (report.rejected, ==, 1);
  on_a = assignee_of (a, acc);
  g_assert_cmpstr (on_a, ==, dana);
}

/* Runs `recoup-cli --book PATH enroll CODE`; its exit status. */
static int
cli_enroll (const char  *cli,
            const char  *path,
            const char  *code,
            char       **out,
            char       **err)
{
  const char *argv[] = { cli, "--book", path, "enroll", code, NULL };
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status,
                               &error));
  g_assert_no_error (error);
  g_test_message ("recoup-cli enroll: %s%s", *out, *err);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

/* QA: a collector's laptop, after the admin removed him, was told to enroll
 * again, and `recoup-cli enroll` on the same book then called the same
 * server "another server". The sync now says what happened and what to do;
 * the same book enrolls again with a code of the same team (his device
 * revoked: his own new code; his user removed and added again as a new
 * user: his offline work is not his new user's to send, which the refusal
 * explains, and an owner's code delivers it); a code of another team is
 * refused as such. */
static void
test_removed_user_enrolls_again (Fixture       *f,
                                 gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autofree char *code_o = enrollment_code (f, f->org, "olive");
  g_autofree char *code_c = enrollment_code (f, f->org, "carl");
  g_autofree char *code_again = NULL, *code_owner = NULL, *code_other = NULL, *code_revoked = NULL;
  g_autofree char *other_org = NULL, *device = NULL, *readded = NULL;
  g_autofree char *path = g_build_filename (f->dir, "carl.recoup", NULL);
  g_autofree char *server_book = g_strdup_printf ("%s/orgs/%s.recoup", f->data_dir, f->org);
  g_autofree char *sql = NULL;
  g_autoptr(RecoupBook) o = enroll_book (f, code_o, "olive.recoup");
  g_autoptr(RecoupBook) c = enroll_book (f, code_c, "carl.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (o, "ACC-BACK");
  gint64 devices;

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  g_assert_true (sync_book (o, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (c, NULL, &error));
  g_assert_no_error (error);

  /* His device is revoked: he enrolls the same book again with a new code
   * of his own, and what he did meanwhile is delivered. */
  device = recoup_book_get_setting (c, "sync.device_id");
  g_free (run (f, TRUE, "revoke", device, NULL));
  log_call (c, acc);
  g_assert_false (sync_book (c, NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "this device was revoked by the admin of the organisation "
                                            "“Acme Collections”"));
  g_assert_nonnull (strstr (error->message, "enroll this book again"));
  g_clear_error (&error);
  g_clear_object (&c);
  code_revoked = enrollment_code (f, f->org, "carl");
  {
    g_autofree char *out = NULL, *err = NULL;

    g_assert_cmpint (cli_enroll (cli, path, code_revoked, &out, &err), ==, 0);
    g_assert_nonnull (strstr (out, "as carl (collector)"));
  }
  c = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  g_assert_true (sync_book (c, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (c), ==, 0);
  g_assert_cmpint (count_in_db (server_book, "SELECT count(*) FROM activities"), ==, 1);

  /* He is removed from the team: the sync says so and what to do. */
  log_call (c, acc);
  g_free (run (f, TRUE, "remove-user", "Acme Collections", "carl", NULL));
  g_assert_false (sync_book (c, NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "this device's user “carl” was removed from the organisation "
                                            "“Acme Collections”"));
  g_assert_nonnull (strstr (error->message, "Ask an owner to add you again"));
  g_clear_error (&error);
  g_clear_object (&c);

  /* Added again, he is a new user: his own code cannot send what the
   * removed carl wrote, and says so without being spent. */
  readded = run (f, TRUE, "add-user", "Acme Collections", "carl", "--role", "collector", NULL);
  g_assert_cmpstr (readded, !=, f->collector);
  code_again = enrollment_code (f, f->org, "carl");
  devices = count_on_server (f, "SELECT count(*) FROM devices");
  {
    g_autofree char *out = NULL, *err = NULL;

    g_assert_cmpint (cli_enroll (cli, path, code_again, &out, &err), ==, 1);
    g_assert_null (strstr (err, "another server"));
    g_assert_nonnull (strstr (err, "holds 1 change that “carl” made and did not send"));
    g_assert_nonnull (strstr (err, "enroll this book with an owner’s code"));
    g_assert_nonnull (strstr (err, "The code is still valid"));
  }
  g_assert_cmpint (count_on_server (f, "SELECT count(*) FROM devices"), ==, devices);

  /* A code of another team is refused as such. */
  other_org = run (f, TRUE, "create-org", "Other Co", NULL);
  g_free (run (f, TRUE, "add-user", "Other Co", "otto", "--role", "owner", NULL));
  code_other = enrollment_code (f, other_org, "otto");
  {
    g_autofree char *out = NULL, *err = NULL;

    g_assert_cmpint (cli_enroll (cli, path, code_other, &out, &err), ==, 1);
    g_assert_nonnull (strstr (err, "is the book of another team"));
    g_assert_nonnull (strstr (err, "this code is for the team “Other Co”"));
  }

  /* An owner's code enrolls the same book again and delivers his call. */
  code_owner = enrollment_code (f, f->org, "olive");
  {
    g_autofree char *out = NULL, *err = NULL;

    g_assert_cmpint (cli_enroll (cli, path, code_owner, &out, &err), ==, 0);
    g_assert_nonnull (strstr (out, "as olive (owner)"));
  }
  c = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  g_assert_true (sync_book (c, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (c), ==, 0);
  sql = g_strdup_printf ("SELECT count(*) FROM activities WHERE user_id = '%s'", f->collector);
  g_assert_cmpint (count_in_db (server_book, sql), ==, 2);
}

/* A sync error as the app shows it on its own: the server's words as a
 * sentence, without the HTTP answer they came in. */
static void
test_error_for_display (void)
{
  static const struct { const char *in; gboolean sentence; const char *out; } cases[] = {
    { "the server refused the request (HTTP 401, unauthorized): this device was revoked; ask an owner",
      TRUE, "This device was revoked; ask an owner." },
    { "the server refused the request (HTTP 401, unauthorized): this device was revoked; ask an owner",
      FALSE, "this device was revoked; ask an owner" },
    { "the server refused the request (HTTP 413): the batch is too large.", TRUE, "The batch is too large." },
    { "cannot reach https://x: timed out", TRUE, "Cannot reach https://x: timed out." },
    { "https://x is not an https:// address", TRUE, "https://x is not an https:// address." },
    { "/tmp/b.recoup is not connected", TRUE, "/tmp/b.recoup is not connected." },
    { "élan perdu?", TRUE, "Élan perdu?" },
    { "", TRUE, "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = recoup_sync_error_for_display (cases[i].in, cases[i].sentence);

      g_assert_cmpstr (out, ==, cases[i].out);
    }
  g_assert_null (recoup_sync_error_for_display (NULL, TRUE));
}

/* Where this device's token is kept (the tests store tokens in files). */
static char *
token_path (const char *device)
{
  return g_build_filename (g_get_user_config_dir (), "recoup", "tokens", device, NULL);
}

/* QA: a revoked device's token, a removed user's, and the token of the
 * device a book was before it enrolled again stayed in
 * ~/.config/recoup/tokens for ever. Each is forgotten once the server says
 * it will never work again, or the book has a new device; nothing else is
 * (another book's token, the book and what it has not sent), and the sync
 * keeps telling the server's words, not that a token is missing. */
static void
test_void_token_forgotten (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = make_account (a, "ACC-TOKEN");
  g_autofree char *dev_a = recoup_book_get_setting (a, "sync.device_id");
  g_autofree char *dev_b = recoup_book_get_setting (b, "sync.device_id");
  g_autofree char *dev_b2 = NULL, *dev_a2 = NULL;
  g_autofree char *path_a = token_path (dev_a);
  g_autofree char *path_b = token_path (dev_b);
  g_autofree char *path_b2 = NULL, *path_a2 = NULL;

  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (path_a, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (path_b, G_FILE_TEST_EXISTS));

  /* Revoked: b's token goes, with the sync's answer; a's stays. */
  g_free (run (f, TRUE, "revoke", dev_b, NULL));
  log_call (b, acc);
  g_assert_false (sync_book (b, NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_UNAUTHORIZED);
  g_clear_error (&error);
  g_assert_false (g_file_test (path_b, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (path_a, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (recoup_book_get_path (b), G_FILE_TEST_EXISTS));
  g_assert_cmpint (recoup_merge_count_unsent (b), ==, 1);
  /* The next try still says why, and what to do. */
  g_assert_false (sync_book (b, NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "this device was revoked by the admin"));
  g_assert_null (strstr (error->message, "token is missing"));
  g_clear_error (&error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);

  /* Enrolled again: the new device's token, and the call goes up. */
  {
    g_autofree char *code = enrollment_code (f, f->org, "carl");
    g_autoptr(RecoupSyncEnrollment) e = recoup_sync_enroll_book (b, code, "b again", NULL, &error);

    g_assert_no_error (error);
    g_assert_true (recoup_sync_attach (b, e, &error));
    g_assert_no_error (error);
  }
  dev_b2 = recoup_book_get_setting (b, "sync.device_id");
  path_b2 = token_path (dev_b2);
  g_assert_cmpstr (dev_b2, !=, dev_b);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (b), ==, 0);
  g_assert_true (g_file_test (path_b2, G_FILE_TEST_EXISTS));

  /* An owner enrolls a's book again while its device still works: the
   * device it was is not its any more, and its token goes; b's stays. */
  {
    g_autofree char *code = enrollment_code (f, f->org, "olive");
    g_autoptr(RecoupSyncEnrollment) e = recoup_sync_enroll_book (a, code, "a again", NULL, &error);

    g_assert_no_error (error);
    g_assert_true (recoup_sync_attach (a, e, &error));
    g_assert_no_error (error);
  }
  dev_a2 = recoup_book_get_setting (a, "sync.device_id");
  path_a2 = token_path (dev_a2);
  g_assert_cmpstr (dev_a2, !=, dev_a);
  g_assert_false (g_file_test (path_a, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (path_a2, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (path_b2, G_FILE_TEST_EXISTS));
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);

  /* His user removed: b's new token goes too; a's stays. */
  g_free (run (f, TRUE, "remove-user", "Acme Collections", "carl", NULL));
  g_assert_false (sync_book (b, NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_UNAUTHORIZED);
  g_clear_error (&error);
  g_assert_false (g_file_test (path_b2, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (path_a2, G_FILE_TEST_EXISTS));
  g_assert_false (sync_book (b, NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "was removed from the organisation"));
  g_clear_error (&error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
}

/* QA: a bookkeeper calls no one, and the device refuses to give them an
 * account (recoup_account_set()), but an assignment made elsewhere (a copy
 * that does not keep the rule, a hand-made client) was accepted by recoupd.
 * It is refused as an assignment to a removed user is: with why, the
 * account's collector put back on the copy that made it, and every copy
 * agreeing; an account made for the bookkeeper arrives unassigned. */
static void
test_assign_to_bookkeeper (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *bea = run (f, TRUE, "add-user", "Acme Collections", "bea", "--role", "bookkeeper", NULL);
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "olive");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) refused = NULL;
  g_autofree char *acc = make_account (a, "ACC-BOOKS");
  g_autofree char *made = NULL;
  g_autofree char *server_book = g_strdup_printf ("%s/orgs/%s.recoup", f->data_dir, f->org);
  g_autofree char *sql = NULL;
  g_autofree char *on_a = NULL, *on_b = NULL, *made_on_a = NULL, *made_on_b = NULL;
  g_autofree char *text_a = NULL, *text_b = NULL;
  static const char * const fields[] = { "assigned_to", NULL };
  RecoupSyncReport report = { 0 };
  sqlite3 *db = recoup_book_get_db (a);
  JsonObject *r;

  g_assert_true (recoup_uuid_is_valid (bea));
  g_assert_true (recoup_account_set (a, acc, "assigned_to", f->owner, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM users WHERE name = 'bea' AND role = 'bookkeeper'"), ==, 1);

  /* The device refuses it itself ... */
  g_assert_false (recoup_account_set (a, acc, "assigned_to", bea, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  made = make_account (a, "ACC-BOOKS-NEW");

  /* ... so a hand-made change gives her the account, as a client that
   * does not keep the rule would; and an account made here, not sent yet,
   * names her as its collector. */
  g_assert_true (recoup_book_begin (a, &error));
  sql = g_strdup_printf ("UPDATE accounts SET assigned_to = '%s' WHERE id IN ('%s', '%s')", bea, acc, made);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_true (recoup_book_record_change (a, "accounts", acc, RECOUP_CHANGE_SET, fields, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_book_commit (a, &error));
  g_assert_no_error (error);

  g_assert_true (sync_book (a, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report.rejected, ==, 1);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count(*) FROM accounts WHERE id = '%s' AND assigned_to = '%s'", acc, f->owner);
  g_assert_cmpint (count_in_db (server_book, sql), ==, 1);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count(*) FROM accounts WHERE assigned_to = '%s'", bea);
  g_assert_cmpint (count_in_db (server_book, sql), ==, 0);

  /* Refused with why and what to do, and kept in the log. */
  refused = recoup_merge_list_rejections (a, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (refused), ==, 1);
  r = json_array_get_object_element (refused, 0);
  g_test_message ("%s", json_object_get_string_member (r, "message"));
  g_assert_cmpstr (json_object_get_string_member (r, "reason"), ==, "assignee_role");
  g_assert_nonnull (strstr (json_object_get_string_member (r, "message"),
                            "bea is a bookkeeper and cannot be assigned accounts, so account ACC-BOOKS stays "
                            "with olive; assign it to a collector or an owner"));
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, 0);

  /* The copy that made it has olive back; every copy agrees. */
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_book (b, NULL, &error));
  g_assert_no_error (error);
  on_a = assignee_of (a, acc);
  on_b = assignee_of (b, acc);
  g_assert_cmpstr (on_a, ==, f->owner);
  g_assert_cmpstr (on_b, ==, f->owner);
  made_on_a = assignee_of (a, made);
  made_on_b = assignee_of (b, made);
  g_assert_null (made_on_a);
  g_assert_null (made_on_b);
  text_a = canonical (a);
  text_b = canonical (b);
  g_assert_cmpstr (text_a, ==, text_b);
}

/* recoupd read a token from any Authorization header, 7 bytes in, whatever
 * its scheme (88126f0): past the end of a shorter header, and a revoked
 * device's token behind another scheme was explained as if it were
 * presented. Such a request gets the plain 401 for a missing token, and
 * the server keeps serving. */
static void
test_authorization_not_bearer (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *code_a = enrollment_code (f, f->org, "olive");
  g_autofree char *code_b = enrollment_code (f, f->org, "carl");
  g_autoptr(RecoupBook) a = enroll_book (f, code_a, "a.recoup");
  g_autoptr(RecoupBook) b = enroll_book (f, code_b, "b.recoup");
  g_autofree char *token_b = device_token (b);
  g_autofree char *token_a = device_token (a);
  g_autofree char *device_b = recoup_book_get_setting (b, "sync.device_id");
  g_autoptr(GError) error = NULL;
  const char *generic = "the device token is unknown or was revoked; enroll the device again";
  const char *shorts[] = { "ab", "B", "Bearer", "Basic", "", NULL };
  guint status = 0;

  g_free (run (f, TRUE, "revoke", device_b, NULL));
  for (guint i = 0; shorts[i] != NULL; i++)
    {
      g_autoptr(JsonObject) obj = raw_authorization (f, "GET", "/v1/changes?after=0", shorts[i], "1", NULL,
                                                     &status);

      g_assert_cmpuint (status, ==, 401);
      g_assert_cmpstr (json_object_get_string_member (obj, "error"), ==, "unauthorized");
      g_assert_false (json_object_has_member (obj, "reason"));
    }
  /* Seven bytes of another scheme, then the revoked device's token: not a
   * bearer token, so nothing is said of the device behind it. */
  {
    g_autofree char *digest = g_strconcat ("Digest ", token_b, NULL);
    g_autoptr(JsonObject) obj = raw_authorization (f, "GET", "/v1/changes?after=0", digest, "1", NULL, &status);

    g_assert_cmpuint (status, ==, 401);
    g_assert_cmpstr (json_object_get_string_member (obj, "error"), ==, "unauthorized");
    g_assert_cmpstr (json_object_get_string_member (obj, "message"), ==, generic);
    g_assert_false (json_object_has_member (obj, "reason"));
  }
  /* As a bearer token, the device is told it was revoked. */
  {
    g_autoptr(JsonObject) obj = raw (f, "GET", "/v1/changes?after=0", token_b, "1", NULL, &status);

    g_assert_cmpuint (status, ==, 401);
    g_assert_cmpstr (json_object_get_string_member (obj, "reason"), ==, "device_revoked");
    g_assert_nonnull (strstr (json_object_get_string_member (obj, "message"), "this device was revoked"));
  }
  /* The server still serves. */
  {
    g_autoptr(JsonObject) obj = raw (f, "GET", "/v1/changes?after=0", token_a, "1", NULL, &status);

    g_assert_cmpuint (status, ==, 200);
  }
  g_free (make_account (a, "ACC-STILL"));
  g_assert_true (sync_book (a, NULL, &error));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *config_home = g_dir_make_tmp ("recoup-sync-config-XXXXXX", NULL);
  int status;

  /* Tokens go to a private 0600 file under a throwaway config dir. */
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_setenv ("RECOUP_TOKEN_STORE", "file", TRUE);
  g_test_init (&argc, &argv, NULL);

  if (g_find_program_in_path ("openssl") == NULL)
    {
      g_test_skip ("openssl is needed to make a test certificate");
      return g_test_run ();
    }

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/recoup/sync/roundtrip", test_roundtrip);
  ADD ("/recoup/sync/bootstrap", test_bootstrap);
  ADD ("/recoup/sync/wrong-fingerprint", test_wrong_fingerprint);
  g_test_add_func ("/recoup/sync/code-fingerprint", test_code_fingerprint);
  g_test_add_func ("/recoup/sync/error-for-display", test_error_for_display);
  g_test_add_func ("/recoup/sync/enroll-unreachable", test_enroll_unreachable);
  ADD ("/recoup/sync/enrolled-unreachable", test_enrolled_unreachable);
  ADD ("/recoup/sync/gateway-unavailable", test_gateway_unavailable);
  ADD ("/recoup/sync/cancelled", test_cancelled);
  ADD ("/recoup/sync/enrolled-certificate", test_enrolled_certificate);
  ADD ("/recoup/sync/plain-http", test_plain_http);
  ADD ("/recoup/sync/revoked", test_revoked);
  ADD ("/recoup/sync/isolation", test_isolation);
  ADD ("/recoup/sync/bad-input", test_bad_input);
  ADD ("/recoup/sync/schema-versions", test_schema_versions);
  ADD ("/recoup/sync/pushed-overwrote-ignored", test_pushed_overwrote_ignored);
  ADD ("/recoup/sync/collector-limits", test_collector_limits);
  ADD ("/recoup/sync/collector-offer-for-approval", test_collector_offer_for_approval);
  ADD ("/recoup/sync/collector-limits-from-book", test_collector_limits_from_book);
  ADD ("/recoup/sync/device-writes-as-its-user", test_device_writes_as_its_user);
  ADD ("/recoup/sync/remove-user-with-accounts", test_remove_user_with_accounts);
  ADD ("/recoup/sync/settings", test_settings);
  ADD ("/recoup/sync/large-batch", test_large_batch);
  ADD ("/recoup/sync/batch-fit", test_batch_fit);
  ADD ("/recoup/sync/import", test_import);
  ADD ("/recoup/sync/convergence", test_convergence);
  ADD ("/recoup/sync/crash", test_crash);
  ADD ("/recoup/sync/faulty-network", test_faulty_network);
  ADD ("/recoup/sync/clock-ahead", test_clock_ahead);
  ADD ("/recoup/sync/enroll-answer-lost", test_enroll_answer_lost);
  ADD ("/recoup/sync/enroll-repeat", test_enroll_repeat);
  ADD ("/recoup/sync/enroll-snapshot-fails", test_enroll_snapshot_fails);
  ADD ("/recoup/sync/derived-once", test_derived_once);
  ADD ("/recoup/sync/snapshot-keeps-locks", test_snapshot_keeps_locks);
  ADD ("/recoup/sync/ref-clash", test_ref_clash);
  ADD ("/recoup/sync/collector-refused-locally", test_collector_refused_locally);
  ADD ("/recoup/sync/lost-edit-told", test_lost_edit_told);
  ADD ("/recoup/sync/status-refused-for-now", test_status_refused_for_now);
  ADD ("/recoup/sync/pre-enrollment-owner", test_pre_enrollment_owner);
  ADD ("/recoup/sync/check-code", test_check_code);
  ADD ("/recoup/sync/collector-needs-new-book", test_collector_needs_new_book);
  ADD ("/recoup/sync/cli-collector-needs-new-book", test_cli_collector_needs_new_book);
  ADD ("/recoup/sync/enroll-old-server", test_enroll_old_server);
  ADD ("/recoup/sync/owner-book-user-on-server", test_owner_book_user_on_server);
  ADD ("/recoup/sync/admin-adds-synced-user", test_admin_adds_synced_user);
  ADD ("/recoup/sync/pushed-user-name-in-use", test_pushed_user_name_in_use);
  ADD ("/recoup/sync/assign-to-removed-user", test_assign_to_removed_user);
  ADD ("/recoup/sync/assign-to-removed-user-new-keeper", test_assign_to_removed_user_new_keeper);
  ADD ("/recoup/sync/removed-user-enrolls-again", test_removed_user_enrolls_again);
  ADD ("/recoup/sync/void-token-forgotten", test_void_token_forgotten);
  ADD ("/recoup/sync/assign-to-bookkeeper", test_assign_to_bookkeeper);
  ADD ("/recoup/sync/authorization-not-bearer", test_authorization_not_bearer);
#undef ADD

  status = g_test_run ();
  test_remove_tree (config_home);
  return status;
}
