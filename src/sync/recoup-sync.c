/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-sync"
#define _GNU_SOURCE   /* sync_file_range() */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "recoup-book-private.h"
#include "recoup-merge.h"
#include "recoup-sync.h"

/*
 * The device side of sync (docs/sync-protocol.md): enrollment with a pinned
 * certificate, push of unsent changes in batches, pull of pages after the
 * stored cursor, bootstrap from a snapshot. Everything here blocks; the app
 * runs it on a worker thread with its own RecoupBook.
 */

#define PROTOCOL_VERSION "1"
#define MAX_ATTEMPTS     5
#define FLUSH_EVERY      ((goffset) 64 * 1024 * 1024)

G_DEFINE_QUARK (recoup-sync-error-quark, recoup_sync_error)

/* RecoupSyncError codes as sync.last_error_kind stores them, by code. */
static const char * const error_kind_names[] = {
  [RECOUP_SYNC_ERROR_NOT_ENROLLED] = "not_enrolled",
  [RECOUP_SYNC_ERROR_BAD_CODE]     = "bad_code",
  [RECOUP_SYNC_ERROR_CERTIFICATE]  = "certificate",
  [RECOUP_SYNC_ERROR_UNAUTHORIZED] = "unauthorized",
  [RECOUP_SYNC_ERROR_REFUSED]      = "refused",
  [RECOUP_SYNC_ERROR_NETWORK]      = "network",
  [RECOUP_SYNC_ERROR_PROTOCOL]     = "protocol",
  [RECOUP_SYNC_ERROR_VERSION]      = "version",
};

typedef struct
{
  SoupSession *session;
  char        *base_url;     /* https://host:port, no trailing slash */
  char        *fingerprint;  /* pinned; NULL trusts the system store only */
  char        *token;
  char        *seen;         /* fingerprint of a refused certificate */
  gboolean     enrolling;    /* redeeming a code: nothing is queued, nothing was pinned before */
  guint        status;       /* the HTTP status of the last answer, 0 before one */
  gboolean     token_void;   /* the server said the token will never work again */
} Conn;

struct _RecoupSyncClient
{
  GObject     parent_instance;

  RecoupBook *book;
  Conn        conn;
  guint       push_batch;
  guint       pull_page;
};

G_DEFINE_FINAL_TYPE (RecoupSyncClient, recoup_sync_client, G_TYPE_OBJECT)

/* ---- connection ---- */

static char *
cert_fingerprint (GTlsCertificate *cert)
{
  g_autoptr(GByteArray) der = NULL;

  if (cert == NULL)
    return NULL;
  g_object_get (cert, "certificate", &der, NULL);
  if (der == NULL)
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

char *
recoup_sync_format_fingerprint (const char *hex)
{
  GString *out = g_string_new (NULL);
  guint n = 0;

  for (const char *p = hex; p != NULL && *p; p++)
    {
      if (!g_ascii_isxdigit (*p))
        continue;
      if (n > 0 && n % 2 == 0)
        g_string_append_c (out, ':');
      g_string_append_c (out, g_ascii_toupper (*p));
      n++;
    }
  return g_string_free (out, FALSE);
}

static char *
normalize_fingerprint (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; p != NULL && *p; p++)
    if (g_ascii_isxdigit (*p))
      g_string_append_c (out, g_ascii_tolower (*p));
  return g_string_free (out, FALSE);
}

/* @enrolling: the connection redeems an enrollment code, so its errors speak
 * of the code and of what to check, not of a queue or an earlier enrollment. */
static gboolean
conn_init (Conn        *c,
           const char  *url,
           const char  *fingerprint,
           const char  *token,
           gboolean     enrolling,
           GError     **error)
{
  g_autofree char *base = NULL;

  if (url == NULL || !g_str_has_prefix (url, "https://"))
    {
      if (enrolling)
        g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_BAD_CODE,
                     _("the enrollment code names “%s”, which is not an https:// address; Recoup only syncs "
                       "over HTTPS. Ask the server's owner for a new code."), url ? url : "");
      else
        g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_BAD_CODE,
                     _("“%s” is not an https:// address; Recoup only syncs over HTTPS"), url ? url : "");
      return FALSE;
    }
  base = g_strdup (url);
  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  c->base_url = g_steal_pointer (&base);
  c->fingerprint = fingerprint != NULL && *fingerprint ? normalize_fingerprint (fingerprint) : NULL;
  c->token = g_strdup (token);
  c->enrolling = enrolling;
  c->session = soup_session_new_with_options ("timeout", 120, "idle-timeout", 60,
                                              "user-agent", "recoup/" PACKAGE_VERSION, NULL);
  return TRUE;
}

static void
conn_clear (Conn *c)
{
  g_clear_object (&c->session);
  g_clear_pointer (&c->base_url, g_free);
  g_clear_pointer (&c->fingerprint, g_free);
  g_clear_pointer (&c->token, g_free);
  g_clear_pointer (&c->seen, g_free);
}

/* Called when the certificate does not verify against the system store (a
 * self-signed server): accepted only if it is the pinned one. */
static gboolean
accept_certificate_cb (SoupMessage          *msg,
                       GTlsCertificate      *cert,
                       GTlsCertificateFlags  errors,
                       gpointer              data)
{
  Conn *c = data;
  g_autofree char *fp = cert_fingerprint (cert);

  if (c->fingerprint != NULL && fp != NULL && g_str_equal (fp, c->fingerprint))
    return TRUE;
  g_free (c->seen);
  c->seen = g_steal_pointer (&fp);
  return FALSE;
}

/* How a server's refusal reads (the status and code first, which the CLI and
 * the logs keep; recoup_sync_error_for_display() leaves them out). */
#define REFUSED_WITH_CODE N_("the server refused the request (HTTP %u, %s): %s")
#define REFUSED           N_("the server refused the request (HTTP %u): %s")

/* A 401 whose "reason" says the token will never work again (its device
 * revoked, its user removed) marks it void in @c: the client forgets it. */
static void
set_server_error (Conn        *c,
                  GError     **error,
                  guint        status,
                  GBytes      *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *code = NULL;
  const char *reason = NULL;
  const char *message = NULL;
  gsize len = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &len) : NULL;
  int kind = RECOUP_SYNC_ERROR_REFUSED;

  if (data != NULL && json_parser_load_from_data (parser, data, (gssize) len, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *obj = json_node_get_object (json_parser_get_root (parser));
      code = json_object_get_string_member_with_default (obj, "error", NULL);
      reason = json_object_get_string_member_with_default (obj, "reason", NULL);
      message = json_object_get_string_member_with_default (obj, "message", NULL);
    }
  if (status == SOUP_STATUS_UNAUTHORIZED)
    {
      kind = RECOUP_SYNC_ERROR_UNAUTHORIZED;
      if (g_strcmp0 (reason, "device_revoked") == 0 || g_strcmp0 (reason, "user_removed") == 0)
        c->token_void = TRUE;
    }
  else if (g_strcmp0 (code, "client_too_old") == 0 || g_strcmp0 (code, "protocol_too_old") == 0 ||
           g_strcmp0 (code, "protocol_too_new") == 0)
    kind = RECOUP_SYNC_ERROR_VERSION;
  if (message == NULL)
    message = soup_status_get_phrase (status);
  /* The code stays in the text: push_inner() looks for "too_large". */
  if (code != NULL)
    g_set_error (error, RECOUP_SYNC_ERROR, kind, _(REFUSED_WITH_CODE), status, code, message);
  else
    g_set_error (error, RECOUP_SYNC_ERROR, kind, _(REFUSED), status, message);
}

/* Past a printf conversion at @p ('%'): flags, a position, width… then
 * its letter. */
static const char *
conversion_end (const char *p)
{
  p++;
  while (*p != '\0' && strchr ("0123456789$#-+ 'lhzjtLqI.", *p) != NULL)
    p++;
  return *p != '\0' ? p + 1 : p;
}

/* Where the server's own words start in @message when it reads as @format
 * (REFUSED_WITH_CODE or REFUSED, its last conversion the words): after the
 * text before the first conversion, then the text between the last two. */
static const char *
words_after (const char *message,
             const char *format)
{
  const char *first = strchr (format, '%');
  const char *last = strrchr (format, '%');
  const char *prev = NULL;
  g_autofree char *lead = NULL;
  g_autofree char *sep = NULL;
  const char *found;

  if (first == NULL || first == last || *conversion_end (last) != '\0')
    return NULL;
  for (const char *p = first; p < last; p = strchr (conversion_end (p), '%'))
    prev = p;
  lead = g_strndup (format, (gsize) (first - format));
  sep = g_strndup (conversion_end (prev), (gsize) (last - conversion_end (prev)));
  if (*sep == '\0' || !g_str_has_prefix (message, lead) || !(found = strstr (message + strlen (lead), sep)))
    return NULL;
  return found + strlen (sep);
}

char *
recoup_sync_error_for_display (const char *message,
                               gboolean    sentence)
{
  /* As this program says it, or as another one in another language stored
   * it in the book. */
  const char * const formats[] = { _(REFUSED_WITH_CODE), _(REFUSED), REFUSED_WITH_CODE, REFUSED };
  const char *words = NULL;
  const char *p;
  GString *out;

  if (message == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (formats) && words == NULL; i++)
    words = words_after (message, formats[i]);
  if (words == NULL || *words == '\0')
    words = message;
  out = g_string_new (words);
  if (!sentence || out->len == 0)
    return g_string_free (out, FALSE);
  /* A first word, not an address or a file: "this device…", not "https://…". */
  for (p = out->str; *p != '\0' && g_unichar_isalpha (g_utf8_get_char (p)); p = g_utf8_next_char (p))
    ;
  if (p > out->str && (*p == '\0' || *p == ' ' || *p == ',') && g_unichar_islower (g_utf8_get_char (out->str)))
    {
      char upper[8];
      gint n = g_unichar_to_utf8 (g_unichar_totitle (g_utf8_get_char (out->str)), upper);

      g_string_erase (out, 0, g_utf8_next_char (out->str) - out->str);
      g_string_insert_len (out, 0, upper, n);
    }
  if (!g_str_has_suffix (out->str, ".") && !g_str_has_suffix (out->str, "!") &&
      !g_str_has_suffix (out->str, "?") && !g_str_has_suffix (out->str, "…"))
    g_string_append_c (out, '.');
  return g_string_free (out, FALSE);
}

/* The server showed a certificate other than the pinned one (@seen: its
 * fingerprint, NULL if it showed none). Fingerprints are written as the
 * app's Connect page shows them, for comparing by eye. */
static void
set_certificate_error (Conn        *c,
                       const char  *seen,
                       GError     **error)
{
  g_autofree char *shown = seen != NULL ? recoup_sync_format_fingerprint (seen)
                                         : g_strdup (C_("certificate fingerprint", "none"));
  g_autofree char *pinned = recoup_sync_format_fingerprint (c->fingerprint);

  if (c->fingerprint == NULL)
    g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_CERTIFICATE,
                 _("the server at %s presented a certificate (SHA-256 %s) that this system does not trust, "
                   "and this device has no fingerprint to check it against. Enroll again with a new code: "
                   "it carries the server's fingerprint."), c->base_url, shown);
  else if (c->enrolling)
    g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_CERTIFICATE,
                 _("the server at %s presented a certificate with SHA-256 fingerprint %s, but the enrollment "
                   "code names %s, so this device was not connected. Compare both with what the server's "
                   "owner told you: if the server's certificate was replaced, ask for a new code; if not, "
                   "something between this device and the server is posing as it."),
                 c->base_url, shown, pinned);
  else
    g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_CERTIFICATE,
                 _("the server's certificate (SHA-256 %s) is not the one this device was enrolled with "
                   "(%s). If the server's certificate was replaced, enroll again with a new code."),
                 shown, pinned);
}

/* After a request (@local: its error, if any): FALSE with @error set unless
 * the server is the pinned one, whether the TLS layer refused its certificate
 * or the system store trusted a different one. */
static gboolean
check_certificate (Conn         *c,
                   SoupMessage  *msg,
                   GError       *local,
                   GError      **error)
{
  g_autofree char *peer = NULL;

  if (local != NULL && c->seen != NULL)
    {
      set_certificate_error (c, c->seen, error);
      return FALSE;
    }
  if (g_error_matches (local, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) ||
      g_error_matches (local, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED))
    {
      g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_CERTIFICATE,
                   _("a secure connection to %s failed: %s"), c->base_url, local->message);
      return FALSE;
    }
  if (local == NULL && c->fingerprint != NULL)
    {
      peer = cert_fingerprint (soup_message_get_tls_peer_certificate (msg));
      if (peer == NULL || !g_str_equal (peer, c->fingerprint))
        {
          set_certificate_error (c, peer, error);
          return FALSE;
        }
    }
  return TRUE;
}

/* The server could not be reached after @attempts tries (@why). */
static void
set_network_error (Conn        *c,
                   const char  *why,
                   guint        attempts,
                   GError     **error)
{
  /* A device being enrolled has nothing queued: what helps is what to check. */
  if (c->enrolling)
    g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NETWORK,
                 _("cannot reach the server at %s (%s). Check that the address in the enrollment code is "
                   "right, that the server is running, and that this device is on a network that reaches it."),
                 c->base_url, why);
  else
    g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NETWORK,
                 g_dngettext (GETTEXT_PACKAGE, "cannot reach %s: %s (tried %u time); unsent changes stay queued",
                              "cannot reach %s: %s (tried %u times); unsent changes stay queued", attempts),
                 c->base_url, why, attempts);
}

/* 502, 503 and 504 come from a proxy or load balancer in front of recoupd
 * (recoupd never sends them): the server is out of reach, as when nothing
 * answers at all, and the changes wait for it. */
static gboolean
gateway_status (guint status)
{
  return status == SOUP_STATUS_BAD_GATEWAY || status == SOUP_STATUS_SERVICE_UNAVAILABLE ||
         status == SOUP_STATUS_GATEWAY_TIMEOUT;
}

static char *
gateway_reason (guint status)
{
  /* Translators: an HTTP status code and its standard phrase, e.g. 503, Service Unavailable */
  return g_strdup_printf (_("a proxy answered for it with HTTP %u (%s): the Recoup server behind the proxy "
                            "is not running or does not answer"), status, soup_status_get_phrase (status));
}

static gboolean
retryable (GError *error,
           guint   status)
{
  /* A connection cut mid-handshake is a network failure (certificate
   * failures were handled before). */
  if (error != NULL)
    return error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR ||
           error->domain == G_TLS_ERROR ||
           g_error_matches (error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_PARSING) ||
           g_error_matches (error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_ENCODING);
  return status >= 500 || status == 429 /* too many requests */;
}

/* The body as sent: gzipped above RECOUP_MERGE_GZIP_THRESHOLD. */
static GBytes *
encode_body (GBytes   *body,
             gboolean *out_gz)
{
  GBytes *payload;

  *out_gz = FALSE;
  if (body == NULL)
    return NULL;
  if (g_bytes_get_size (body) > RECOUP_MERGE_GZIP_THRESHOLD &&
      (payload = recoup_merge_gzip (g_bytes_get_data (body, NULL), g_bytes_get_size (body))) != NULL)
    {
      *out_gz = TRUE;
      return payload;
    }
  return g_bytes_ref (body);
}

/* One request with retries: exponential backoff with jitter, the same body
 * (so the same change ids) each time. @payload is the body as sent (see
 * encode_body()). Returns the body of a 2xx answer. */
static GBytes *
conn_request_encoded (Conn          *c,
                      const char    *method,
                      const char    *path,
                      GBytes        *payload,
                      gboolean       gz,
                      char         **out_header_value,
                      const char    *header_name,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autofree char *url = g_strconcat (c->base_url, path, NULL);
  char schema[16];

  /* Changes are of the synced tables' schema. */
  g_snprintf (schema, sizeof schema, "%d", RECOUP_SYNC_SCHEMA_VERSION);

  for (guint attempt = 0; ; attempt++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new (method, url);
      g_autoptr(GBytes) answer = NULL;
      g_autoptr(GError) local = NULL;
      SoupMessageHeaders *h;
      guint status;

      if (msg == NULL)
        {
          g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_BAD_CODE, _("“%s” is not a valid address"), url);
          return NULL;
        }
      h = soup_message_get_request_headers (msg);
      soup_message_headers_replace (h, "Recoup-Protocol", PROTOCOL_VERSION);
      soup_message_headers_replace (h, "Recoup-Schema", schema);
      if (c->token != NULL)
        {
          g_autofree char *auth = g_strconcat ("Bearer ", c->token, NULL);
          soup_message_headers_replace (h, "Authorization", auth);
        }
      if (payload != NULL)
        {
          if (gz)
            soup_message_headers_replace (h, "Content-Encoding", "gzip");
          soup_message_set_request_body_from_bytes (msg, "application/json", payload);
        }
      /* Retried POSTs are safe (idempotent by change id): this also lets
       * libsoup reuse the TLS connection instead of opening one per POST. */
      soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);
      g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), c);

      answer = soup_session_send_and_read (c->session, msg, cancellable, &local);
      status = soup_message_get_status (msg);
      c->status = status;

      if (!check_certificate (c, msg, local, error))
        return NULL;
      /* Stopped on purpose: nothing is said about the server. */
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      if (local == NULL && SOUP_STATUS_IS_SUCCESSFUL (status))
        {
          if (out_header_value != NULL)
            *out_header_value = g_strdup (soup_message_headers_get_one (
                                            soup_message_get_response_headers (msg), header_name));
          return g_steal_pointer (&answer);
        }
      if (g_cancellable_is_cancelled (cancellable) || attempt + 1 >= MAX_ATTEMPTS ||
          !retryable (local, status))
        {
          if (local != NULL)
            set_network_error (c, local->message, attempt + 1, error);
          else if (gateway_status (status))
            {
              g_autofree char *why = gateway_reason (status);

              set_network_error (c, why, attempt + 1, error);
            }
          else
            set_server_error (c, error, status, answer);
          return NULL;
        }
      {
        /* 250 ms, 500 ms, 1 s, 2 s… up to 8 s, each ±50 % so devices spread out. */
        gint64 base = MIN ((gint64) 250 << attempt, 8000);
        gint64 wait = base / 2 + g_random_int_range (0, (gint32) base + 1);

        g_debug ("retrying %s %s in %" G_GINT64_FORMAT " ms (%s)", method, path, wait,
                 local ? local->message : soup_status_get_phrase (status));
        g_usleep ((gulong) wait * 1000);
      }
    }
}

static GBytes *
conn_request (Conn          *c,
              const char    *method,
              const char    *path,
              GBytes        *body,
              char         **out_header_value,
              const char    *header_name,
              GCancellable  *cancellable,
              GError       **error)
{
  gboolean gz = FALSE;
  g_autoptr(GBytes) payload = encode_body (body, &gz);

  return conn_request_encoded (c, method, path, payload, gz, out_header_value, header_name,
                               cancellable, error);
}

/* The snapshot could not be fetched after @attempts tries (@why). */
static void
set_download_error (Conn        *c,
                    const char  *why,
                    guint        attempts,
                    GError     **error)
{
  g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NETWORK,
               g_dngettext (GETTEXT_PACKAGE, "cannot download from %s: %s (tried %u time)",
                            "cannot download from %s: %s (tried %u times)", attempts),
               c->base_url, why, attempts);
}

/* GET @path into the file @dest (created 0600, replaced), streaming: the
 * body never sits in memory. Same headers, pinning and retries as
 * conn_request_encoded(); a retry starts the file again. */
static gboolean
conn_download (Conn          *c,
               const char    *path,
               const char    *dest,
               char         **out_header_value,
               const char    *header_name,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autofree char *url = g_strconcat (c->base_url, path, NULL);
  char schema[16];

  /* A snapshot is the whole book: this build must open its schema. */
  g_snprintf (schema, sizeof schema, "%d", RECOUP_SCHEMA_VERSION);
  for (guint attempt = 0; ; attempt++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
      g_autoptr(GInputStream) in = NULL;
      g_autoptr(GError) local = NULL;
      g_autofree char *buf = NULL;
      SoupMessageHeaders *h;
      guint status;
      goffset expected, got = 0, flushed = 0;
      int fd = -1;

      if (msg == NULL)
        {
          g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_BAD_CODE, _("“%s” is not a valid address"), url);
          return FALSE;
        }
      h = soup_message_get_request_headers (msg);
      soup_message_headers_replace (h, "Recoup-Protocol", PROTOCOL_VERSION);
      soup_message_headers_replace (h, "Recoup-Schema", schema);
      if (c->token != NULL)
        {
          g_autofree char *auth = g_strconcat ("Bearer ", c->token, NULL);
          soup_message_headers_replace (h, "Authorization", auth);
        }
      g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), c);

      in = soup_session_send (c->session, msg, cancellable, &local);
      status = soup_message_get_status (msg);
      if (!check_certificate (c, msg, local, error))
        return FALSE;
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (local == NULL && !SOUP_STATUS_IS_SUCCESSFUL (status))
        {
          /* An error answer is small JSON. */
          g_autoptr(GBytes) answer = g_input_stream_read_bytes (in, 64 * 1024, cancellable, NULL);

          if (g_cancellable_is_cancelled (cancellable) || attempt + 1 >= MAX_ATTEMPTS ||
              !retryable (NULL, status))
            {
              g_autofree char *why = gateway_status (status) ? gateway_reason (status) : NULL;

              if (why != NULL)
                set_download_error (c, why, attempt + 1, error);
              else
                set_server_error (c, error, status, answer);
              return FALSE;
            }
        }
      else if (local == NULL)
        {
          expected = soup_message_headers_get_content_length (soup_message_get_response_headers (msg));
          fd = g_open (dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
          if (fd < 0)
            {
              int saved = errno;
              g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", dest, g_strerror (saved));
              return FALSE;
            }
          buf = g_malloc (1024 * 1024);
          for (;;)
            {
              gsize n = 0;
              gsize w = 0;

              /* Whole megabytes: a read gives one TLS record (16 KiB) at most. */
              if (!g_input_stream_read_all (in, buf, 1024 * 1024, &n, cancellable, &local) || n == 0)
                break;
              while (w < n)
                {
                  gssize k = write (fd, buf + w, n - w);

                  if (k < 0 && errno == EINTR)
                    continue;
                  if (k < 0)
                    {
                      int saved = errno;
                      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("writing %s: %s"), dest,
                                   g_strerror (saved));
                      close (fd);
                      return FALSE;
                    }
                  w += (gsize) k;
                }
              got += (goffset) n;
              if (got - flushed >= FLUSH_EVERY)
                {
                  /* Gigabytes of dirty pages would crowd out everything else:
                   * start writing this stretch out now, and drop the stretch
                   * before it (written by now) from the page cache. */
#ifdef SYNC_FILE_RANGE_WRITE
                  sync_file_range (fd, flushed, got - flushed, SYNC_FILE_RANGE_WRITE);
#endif
                  if (flushed >= FLUSH_EVERY)
                    posix_fadvise (fd, flushed - FLUSH_EVERY, FLUSH_EVERY, POSIX_FADV_DONTNEED);
                  flushed = got;
                }
            }
          /* On disk before it is renamed into place: a power cut must not
           * leave a half-written book under the book's name. */
          if (local == NULL && fdatasync (fd) != 0)
            g_set_error (&local, G_IO_ERROR, g_io_error_from_errno (errno), _("writing %s: %s"), dest,
                         g_strerror (errno));
          if (close (fd) != 0 && local == NULL)
            g_set_error (&local, G_IO_ERROR, G_IO_ERROR_FAILED, _("closing %s failed"), dest);
          if (local == NULL && expected > 0 && got != expected)
            g_set_error (&local, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                         _("the snapshot ended after %lld of %lld bytes"), (long long) got, (long long) expected);
          if (local == NULL)
            {
              if (out_header_value != NULL)
                *out_header_value = g_strdup (soup_message_headers_get_one (
                                                soup_message_get_response_headers (msg), header_name));
              return TRUE;
            }
        }
      if (local != NULL &&
          (g_cancellable_is_cancelled (cancellable) || attempt + 1 >= MAX_ATTEMPTS || !retryable (local, 0)))
        {
          set_download_error (c, local->message, attempt + 1, error);
          return FALSE;
        }
      {
        gint64 base = MIN ((gint64) 250 << attempt, 8000);
        gint64 wait = base / 2 + g_random_int_range (0, (gint32) base + 1);

        g_debug ("retrying GET %s in %" G_GINT64_FORMAT " ms (%s)", path, wait,
                 local ? local->message : soup_status_get_phrase (status));
        g_usleep ((gulong) wait * 1000);
      }
    }
}

static JsonNode *
parse_answer (GBytes  *bytes,
              GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);

  if (!json_parser_load_from_data (parser, data, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_PROTOCOL,
                   _("the server's answer is not a JSON object"));
      return NULL;
    }
  return json_parser_steal_root (parser);
}

static GBytes *
node_to_bytes (JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  gsize len = 0;
  char *text;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, &len);
  return g_bytes_new_take (text, len);
}

/* ---- enrollment codes ---- */

/* The code's "sha256" as lowercase hex, the way cert_fingerprint() writes
 * it: exactly 32 bytes, as 64 hex digits that colons or spaces may separate
 * ("AB:CD:…" as the app shows it). */
static char *
parse_fingerprint (const char  *text,
                   GError     **error)
{
  g_autoptr(GString) hex = g_string_new (NULL);

  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      if (g_ascii_isxdigit (*p))
        g_string_append_c (hex, g_ascii_tolower (*p));
      else if (*p != ':' && *p != ' ')
        {
          char bad[8] = { 0 };

          g_unichar_to_utf8 (g_utf8_get_char (p), bad);
          g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_BAD_CODE,
                       _("the server certificate's fingerprint in this enrollment code (“%s”) has “%s” in it, "
                         "which is not a hex digit; ask the server's owner for a new code"), text, bad);
          return NULL;
        }
    }
  if (hex->len != 64)
    {
      g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_BAD_CODE,
                   g_dngettext (GETTEXT_PACKAGE,
                                "the server certificate's fingerprint in this enrollment code (“%s”) has %u hex "
                                "digit, but a SHA-256 fingerprint has 64; ask the server's owner for a new code",
                                "the server certificate's fingerprint in this enrollment code (“%s”) has %u hex "
                                "digits, but a SHA-256 fingerprint has 64; ask the server's owner for a new code",
                                hex->len),
                   text, (guint) hex->len);
      return NULL;
    }
  return g_string_free (g_steal_pointer (&hex), FALSE);
}

gboolean
recoup_enrollment_code_parse (const char           *code,
                              RecoupEnrollmentCode *out,
                              GError              **error)
{
  g_autofree char *b64 = NULL;
  g_autofree guchar *json = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize len = 0, n;
  JsonObject *obj;
  const char *sha256;

  memset (out, 0, sizeof *out);
  if (code == NULL)
    code = "";
  b64 = g_strstrip (g_strdup (code));
  g_strdelimit (b64, "-", '+');
  g_strdelimit (b64, "_", '/');
  n = strlen (b64);
  for (const char *p = b64; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=')
      goto bad;
  if (n % 4 != 0)
    {
      char *padded = g_strnfill (n + (4 - n % 4), '=');
      memcpy (padded, b64, n);
      g_free (b64);
      b64 = padded;
    }
  json = g_base64_decode (b64, &len);
  if (json == NULL || len == 0 || !json_parser_load_from_data (parser, (const char *) json, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    goto bad;
  obj = json_node_get_object (json_parser_get_root (parser));
  out->url = g_strdup (json_object_get_string_member_with_default (obj, "url", NULL));
  out->secret = g_strdup (json_object_get_string_member_with_default (obj, "secret", NULL));
  sha256 = json_object_get_string_member_with_default (obj, "sha256", NULL);
  if (out->url == NULL || out->secret == NULL || sha256 == NULL)
    {
      recoup_enrollment_code_clear (out);
      goto bad;
    }
  if (!(out->fingerprint = parse_fingerprint (sha256, error)))
    {
      recoup_enrollment_code_clear (out);
      return FALSE;
    }
  return TRUE;

bad:
  g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_BAD_CODE,
               _("this is not a Recoup enrollment code (copy the whole code the server's owner "
                 "gave you, from “recoupd admin enroll”)"));
  return FALSE;
}

void
recoup_enrollment_code_clear (RecoupEnrollmentCode *code)
{
  g_clear_pointer (&code->url, g_free);
  g_clear_pointer (&code->secret, g_free);
  g_clear_pointer (&code->fingerprint, g_free);
}

void
recoup_sync_enrollment_free (RecoupSyncEnrollment *e)
{
  if (e == NULL)
    return;
  g_free (e->url);
  g_free (e->fingerprint);
  g_free (e->token);
  g_free (e->device_id);
  g_free (e->org_id);
  g_free (e->user_id);
  g_free (e->user_name);
  g_free (e->role);
  g_free (e);
}

RecoupSyncEnrollment *
recoup_sync_enroll (const char    *code,
                    const char    *device_name,
                    GCancellable  *cancellable,
                    GError       **error)
{
  RecoupEnrollmentCode parsed;
  Conn c = { 0 };
  g_autofree char *request_id = recoup_uuid7_new ();
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) req = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(JsonNode) root = NULL;
  RecoupSyncEnrollment *e = NULL;
  JsonObject *obj;

  if (!recoup_enrollment_code_parse (code, &parsed, error))
    return NULL;
  if (!conn_init (&c, parsed.url, parsed.fingerprint, NULL, TRUE, error))
    goto out;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "secret");
  json_builder_add_string_value (b, parsed.secret);
  /* Kept for this enrollment's retries: if the server redeemed the code but
   * its answer was lost, the retry gets this device back instead of
   * "used already" (docs/sync-protocol.md). */
  json_builder_set_member_name (b, "request_id");
  json_builder_add_string_value (b, request_id);
  json_builder_set_member_name (b, "device_name");
  json_builder_add_string_value (b, device_name != NULL ? device_name : g_get_host_name ());
  json_builder_end_object (b);
  req = json_builder_get_root (b);
  body = node_to_bytes (req);
  if (!(answer = conn_request (&c, "POST", "/v1/enroll", body, NULL, NULL, cancellable, error)) ||
      !(root = parse_answer (answer, error)))
    goto out;
  obj = json_node_get_object (root);
  e = g_new0 (RecoupSyncEnrollment, 1);
  e->url = g_strdup (c.base_url);
  e->fingerprint = g_strdup (c.fingerprint);
  e->token = g_strdup (json_object_get_string_member_with_default (obj, "token", NULL));
  e->device_id = g_strdup (json_object_get_string_member_with_default (obj, "device_id", NULL));
  e->org_id = g_strdup (json_object_get_string_member_with_default (obj, "org_id", NULL));
  e->user_id = g_strdup (json_object_get_string_member_with_default (obj, "user_id", NULL));
  e->user_name = g_strdup (json_object_get_string_member_with_default (obj, "user_name", ""));
  e->role = g_strdup (json_object_get_string_member_with_default (obj, "role", ""));
  if (e->token == NULL || e->device_id == NULL || e->user_id == NULL)
    {
      g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_PROTOCOL,
                   _("the server's enrollment answer lacks a token, device or user"));
      g_clear_pointer (&e, recoup_sync_enrollment_free);
    }

out:
  recoup_enrollment_code_clear (&parsed);
  conn_clear (&c);
  return e;
}

void
recoup_enrollment_grant_free (RecoupEnrollmentGrant *grant)
{
  if (grant == NULL)
    return;
  g_free (grant->org_id);
  g_free (grant->org_name);
  g_free (grant->user_id);
  g_free (grant->user_name);
  g_free (grant->role);
  g_free (grant);
}

RecoupEnrollmentGrant *
recoup_sync_check_code (const char    *code,
                        GCancellable  *cancellable,
                        GError       **error)
{
  RecoupEnrollmentCode parsed;
  Conn c = { 0 };
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) req = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) local = NULL;
  RecoupEnrollmentGrant *grant = NULL;
  JsonObject *obj;

  if (!recoup_enrollment_code_parse (code, &parsed, error))
    return NULL;
  if (!conn_init (&c, parsed.url, parsed.fingerprint, NULL, TRUE, error))
    goto out;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "secret");
  json_builder_add_string_value (b, parsed.secret);
  json_builder_end_object (b);
  req = json_builder_get_root (b);
  body = node_to_bytes (req);
  /* Not a path under /v1/enroll: a recoupd without this endpoint would
   * redeem the code there (docs/sync-protocol.md). */
  if (!(answer = conn_request (&c, "POST", "/v1/check-enrollment", body, NULL, NULL, cancellable, &local)))
    {
      if (c.status == SOUP_STATUS_NOT_FOUND && g_error_matches (local, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_REFUSED))
        g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_UNSUPPORTED,
                     _("the server at %s cannot tell what an enrollment code grants before it is used; "
                       "it runs an older recoupd"), c.base_url);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      goto out;
    }
  if (!(root = parse_answer (answer, error)))
    goto out;
  obj = json_node_get_object (root);
  grant = g_new0 (RecoupEnrollmentGrant, 1);
  grant->org_id = g_strdup (json_object_get_string_member_with_default (obj, "org_id", NULL));
  grant->org_name = g_strdup (json_object_get_string_member_with_default (obj, "org_name", ""));
  grant->user_id = g_strdup (json_object_get_string_member_with_default (obj, "user_id", NULL));
  grant->user_name = g_strdup (json_object_get_string_member_with_default (obj, "user_name", NULL));
  grant->role = g_strdup (json_object_get_string_member_with_default (obj, "role", NULL));
  if (grant->org_id == NULL || grant->user_name == NULL || grant->role == NULL)
    {
      g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_PROTOCOL,
                   _("the server's answer about the enrollment code lacks its organisation, user or role"));
      g_clear_pointer (&grant, recoup_enrollment_grant_free);
    }

out:
  recoup_enrollment_code_clear (&parsed);
  conn_clear (&c);
  return grant;
}

/* Only an owner's device brings its own data to the team. recoupd refuses
 * from anyone else what they may not write (users, the business's
 * settings), and what remains would wait on those forever (accounts naming
 * a user the team never got); so any other device starts from the team's
 * book. What it made before enrollment is its unsent changes. */
static gboolean
check_book_fits (RecoupBook                   *book,
                 const RecoupEnrollmentGrant  *grant,
                 GError                      **error)
{
  gint64 own;
  guint n;

  if (book == NULL || g_str_equal (grant->role, "owner"))
    return TRUE;
  own = recoup_merge_count_unsent (book);
  if (own < 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_SQLITE,
                   _("%s: cannot count the changes it has not sent"), recoup_book_get_path (book));
      return FALSE;
    }
  if (own == 0)
    return TRUE;
  n = (guint) MIN (own, G_MAXUINT);
  /* Translators: a role (collector, bookkeeper), the user's name, the
   * team's name, the book's file, the number of its changes. */
  g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK,
               g_dngettext (GETTEXT_PACKAGE,
                            "This code joins you as %s “%s” of the team “%s”. Only an owner’s device brings "
                            "its own data to the team; any other device starts from the team’s book, and %s "
                            "holds %u change made before it was connected, which such a device cannot send. "
                            "Join in a new, empty book instead: in the app, “Join in a New Book”; on the "
                            "command line, “recoup-cli --book NEW-FILE enroll CODE”. The code is still valid, "
                            "and this book was not changed.",
                            "This code joins you as %s “%s” of the team “%s”. Only an owner’s device brings "
                            "its own data to the team; any other device starts from the team’s book, and %s "
                            "holds %u changes made before it was connected, which such a device cannot send. "
                            "Join in a new, empty book instead: in the app, “Join in a New Book”; on the "
                            "command line, “recoup-cli --book NEW-FILE enroll CODE”. The code is still valid, "
                            "and this book was not changed.", n),
               recoup_user_role_label (grant->role), grant->user_name, grant->org_name, recoup_book_get_path (book), n);
  return FALSE;
}

/* A device other than an owner's sends only changes in its own user's name
 * (recoupd refuses the others as written in another's name). A book enrolled
 * again for another user (its user was removed from the team and added
 * again as a new user, or the device goes to someone else) would keep what
 * the first user did not send for ever: refused unspent, saying how to
 * deliver it. */
static gboolean
check_unsent_authors (RecoupBook                   *book,
                      const RecoupEnrollmentGrant  *grant,
                      GError                      **error)
{
  g_autofree char *author = NULL;
  gint64 n;
  guint shown;

  if (grant->user_id == NULL || g_str_equal (grant->role, "owner"))
    return TRUE;
  n = recoup_merge_count_unsent_by_others (book, grant->user_id, &author, error);
  if (n < 0)
    return FALSE;
  if (n == 0)
    return TRUE;
  shown = (guint) MIN (n, G_MAXUINT);
  /* Translators: a role (collector, bookkeeper), the user's name, the
   * book's file, the number of its changes, the name of who made them */
  g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK,
               g_dngettext (GETTEXT_PACKAGE,
                            "This code enrolls this device as %s “%s”, but %s holds %u change that “%s” made "
                            "and did not send, and a device other than an owner’s sends only its own user’s "
                            "changes. To deliver it, enroll this book with an owner’s code; to leave it here, "
                            "join with this code in a new book (“recoup-cli --book NEW-FILE enroll CODE”, or "
                            "“Join in a New Book” in the app). The code is still valid, and this book was "
                            "not changed.",
                            "This code enrolls this device as %s “%s”, but %s holds %u changes that “%s” made "
                            "and did not send, and a device other than an owner’s sends only its own user’s "
                            "changes. To deliver them, enroll this book with an owner’s code; to leave them "
                            "here, join with this code in a new book (“recoup-cli --book NEW-FILE enroll "
                            "CODE”, or “Join in a New Book” in the app). The code is still valid, and this "
                            "book was not changed.", shown),
               recoup_user_role_label (grant->role), grant->user_name, recoup_book_get_path (book), shown,
               author != NULL ? author : "?");
  return FALSE;
}

/* A book that was enrolled before (its device revoked, or its user removed
 * from the team) is enrolled again by a code of the same team: it is the
 * team's book already, and what it has not sent goes with the new device
 * (check_unsent_authors()). A code of another team, or one the server cannot
 * place, would mix two teams' books: refused before the code is spent. */
static gboolean
check_same_team (RecoupBook                   *book,
                 const RecoupEnrollmentGrant  *grant,
                 const char                   *code_error,
                 GError                      **error)
{
  g_autofree char *org = recoup_book_get_setting (book, "sync.org_id");
  g_autofree char *url = recoup_book_get_setting (book, "sync.url");

  if (grant != NULL && org != NULL && *org != '\0' && g_strcmp0 (grant->org_id, org) == 0)
    return check_unsent_authors (book, grant, error);
  /* Enrolled through a server that did not name its team: whether the code
   * is for the same one cannot be told, and a guess could mix two books.
   * Either way the code is unspent and enrolls a new book
   * (RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK: the app offers that way out). */
  if (grant != NULL && (org == NULL || *org == '\0'))
    /* Translators: the book's file, the server it syncs with, then the
     * book's file again */
    g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK,
                 _("%s was enrolled with %s before the server said which team a book belongs to, so "
                   "whether this code is for the same team cannot be told, and it was not used. Enroll a "
                   "new book with it: “recoup-cli --book NEW-FILE enroll CODE”, or in the app, “Join in a "
                   "New Book”. %s was not changed."),
                 recoup_book_get_path (book), url, recoup_book_get_path (book));
  else if (grant != NULL)
    /* Translators: the book's file, the server it syncs with, the team the
     * code is for, then the book's file again */
    g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK,
                 _("%s is the book of another team (on %s); this code is for the team “%s”, so it was not "
                   "used. Enroll a new book with it: “recoup-cli --book NEW-FILE enroll CODE”, or in the "
                   "app, “Join in a New Book”. %s was not changed."),
                 recoup_book_get_path (book), url, grant->org_name, recoup_book_get_path (book));
  else
    /* Translators: the book's file, the server it syncs with, why the
     * server could not say which team the code is for */
    g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_REFUSED,
                 _("%s is connected to %s already, and the server cannot tell which team this code is "
                   "for (%s), so it was not used: enroll a new book with it (“recoup-cli --book NEW-FILE "
                   "enroll CODE”)."),
                 recoup_book_get_path (book), url, code_error);
  return FALSE;
}

RecoupSyncEnrollment *
recoup_sync_enroll_book (RecoupBook    *book,
                         const char    *code,
                         const char    *device_name,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(RecoupEnrollmentGrant) grant = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *enrolled = NULL;

  g_return_val_if_fail (book == NULL || RECOUP_IS_BOOK (book), NULL);

  if (book != NULL)
    enrolled = recoup_book_get_setting (book, "sync.org_id");

  grant = recoup_sync_check_code (code, cancellable, &local);
  if (grant == NULL && !g_error_matches (local, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_UNSUPPORTED))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (enrolled != NULL)
    {
      if (!check_same_team (book, grant, local != NULL ? local->message : NULL, error))
        return NULL;
    }
  /* An older server: enrolled as before it could be asked. */
  else if (grant == NULL)
    g_debug ("%s", local->message);
  else if (!check_book_fits (book, grant, error))
    return NULL;
  return recoup_sync_enroll (code, device_name, cancellable, error);
}

/* ---- token storage ---- */

static char *
token_file (const char *device_id)
{
  return g_build_filename (g_get_user_config_dir (), "recoup", "tokens", device_id, NULL);
}

#ifdef HAVE_LIBSECRET
#include <libsecret/secret.h>

static const SecretSchema token_schema = {
  "org.recoup.Recoup.DeviceToken", SECRET_SCHEMA_NONE,
  {
    { "device-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  }
};

static gboolean
use_keyring (void)
{
  return g_strcmp0 (g_getenv ("RECOUP_TOKEN_STORE"), "file") != 0;
}
#endif

gboolean
recoup_sync_token_store (const char  *device_id,
                         const char  *token,
                         GError     **error)
{
  g_autofree char *path = token_file (device_id);
  g_autofree char *dir = g_path_get_dirname (path);
  int fd;

#ifdef HAVE_LIBSECRET
  if (use_keyring ())
    {
      g_autoptr(GError) local = NULL;

      if (secret_password_store_sync (&token_schema, SECRET_COLLECTION_DEFAULT, "Recoup sync device token",
                                      token, NULL, &local, "device-id", device_id, NULL))
        return TRUE;
      g_debug ("no keyring (%s); storing the token in %s", local->message, path);
    }
#endif
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", dir, g_strerror (saved));
      return FALSE;
    }
  /* Created 0600 before anything is written: the token is never readable by others. */
  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || fchmod (fd, 0600) != 0 || write (fd, token, strlen (token)) != (ssize_t) strlen (token))
    {
      int saved = errno;
      if (fd >= 0)
        g_close (fd, NULL);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("%s: cannot store the device token: %s"),
                   path, g_strerror (saved));
      return FALSE;
    }
  return g_close (fd, error);
}

char *
recoup_sync_token_lookup (const char  *device_id,
                          GError     **error)
{
  g_autofree char *path = token_file (device_id);
  char *token = NULL;

#ifdef HAVE_LIBSECRET
  if (use_keyring ())
    {
      token = secret_password_lookup_sync (&token_schema, NULL, NULL, "device-id", device_id, NULL);
      if (token != NULL)
        {
          char *copy = g_strdup (token);
          secret_password_free (token);
          return copy;
        }
    }
#endif
  if (!g_file_get_contents (path, &token, NULL, NULL))
    {
      g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NOT_ENROLLED,
                   _("this device's sync token is missing (not in the keyring nor %s); enroll again "
                     "with a new code"), path);
      return NULL;
    }
  return g_strstrip (token);
}

gboolean
recoup_sync_token_forget (const char  *device_id,
                          GError     **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (device_id != NULL, FALSE);

  /* A device id names one file in the tokens directory: never the
   * directory itself, nor a file beside it. */
  if (*device_id == '\0' || strchr (device_id, '/') != NULL || g_str_equal (device_id, ".") ||
      g_str_equal (device_id, ".."))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "“%s” is not a device id", device_id);
      return FALSE;
    }
  path = token_file (device_id);
#ifdef HAVE_LIBSECRET
  if (use_keyring ())
    {
      g_autoptr(GError) local = NULL;

      /* FALSE without an error: there was none to clear. */
      if (!secret_password_clear_sync (&token_schema, NULL, &local, "device-id", device_id, NULL) &&
          local != NULL)
        g_debug ("no keyring to forget the token of %s in (%s)", device_id, local->message);
    }
#endif
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("%s: cannot remove the device token: %s"),
                   path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* ---- bootstrap and attach ---- */

static gboolean
book_is_empty (const char  *path,
               GError     **error)
{
  g_autoptr(RecoupBook) book = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!(book = recoup_book_open (path, RECOUP_BOOK_OPEN_DEFAULT, error)))
    return FALSE;
  if (recoup_book_count_changes (book) != 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   _("%s has changes of its own; it syncs them instead of being replaced by a snapshot"),
                   path);
      return FALSE;
    }
  return TRUE;
}

/* The snapshot is the server's copy of the book: of its settings this device
 * keeps the shared ones (recoup_merge_setting_scope(), synced with their
 * clocks) and the derived-data stamps, which describe the derived rows the
 * snapshot carries. Everything else is the server copy's own (its device id,
 * clock, sync state, paths on its disk) and is dropped, whatever new local
 * keys a later version adds. FALSE leaves the reason in sqlite3_errmsg(). */
static gboolean
drop_server_settings (sqlite3 *db)
{
  g_autoptr(GPtrArray) local = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, "SELECT key FROM settings", -1, &stmt, NULL) != SQLITE_OK)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *key = (const char *) sqlite3_column_text (stmt, 0);

      if (recoup_merge_setting_scope (key) == RECOUP_SETTING_LOCAL && !g_str_has_prefix (key, "derived."))
        g_ptr_array_add (local, g_strdup (key));
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE ||
      sqlite3_prepare_v2 (db, "DELETE FROM settings WHERE key = ?", -1, &stmt, NULL) != SQLITE_OK)
    return FALSE;
  for (guint i = 0; i < local->len; i++)
    {
      sqlite3_bind_text (stmt, 1, local->pdata[i], -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        break;
    }
  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE;
}

gboolean
recoup_sync_bootstrap (const RecoupSyncEnrollment  *e,
                       const char                  *book_path,
                       GCancellable                *cancellable,
                       GError                     **error)
{
  Conn c = { 0 };
  gboolean fetched;
  g_autofree char *seq_text = NULL;
  g_autofree char *part = g_strconcat (book_path, ".part", NULL);
  g_autofree char *wal = g_strconcat (book_path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (book_path, "-shm", NULL);
  g_autofree char *dir = g_path_get_dirname (book_path);
  sqlite3 *db = NULL;
  char *sql;
  char *msg = NULL;
  gboolean ok = FALSE;
  gint64 seq;

  if (!book_is_empty (book_path, error))
    return FALSE;
  if (!conn_init (&c, e->url, e->fingerprint, e->token, FALSE, error))
    return FALSE;
  /* Streamed to disk: a snapshot of a large book is gigabytes. */
  g_mkdir_with_parents (dir, 0700);
  fetched = conn_download (&c, "/v1/snapshot", part, &seq_text, "Recoup-Snapshot-Seq", cancellable, error);
  conn_clear (&c);
  if (!fetched)
    {
      g_unlink (part);
      return FALSE;
    }
  seq = seq_text != NULL ? g_ascii_strtoll (seq_text, NULL, 10) : -1;
  if (seq < 0)
    {
      g_unlink (part);
      g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_PROTOCOL,
                   _("the server's snapshot does not say which sequence it is as of"));
      return FALSE;
    }

  /* The copy becomes this device's: its own identity, the enrolled user, and
   * the cursor the snapshot is as of. The server copy's own settings and
   * local sync tables are dropped. */
  {
    /* A WAL left by an earlier, interrupted attempt is not this file's. */
    g_autofree char *part_wal = g_strconcat (part, "-wal", NULL);
    g_autofree char *part_shm = g_strconcat (part, "-shm", NULL);

    g_unlink (part_wal);
    g_unlink (part_shm);
  }
  if (sqlite3_open_v2 (part, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
      sqlite3_exec (db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK || !drop_server_settings (db))
    goto sqlfail;
  sql = sqlite3_mprintf ("DELETE FROM sync_conflicts; DELETE FROM sync_rejections;"
                         "INSERT OR REPLACE INTO settings (key, value) VALUES ('user_id', %Q),"
                         "  ('sync.cursor', '%lld');"
                         "COMMIT;", e->user_id, (long long) seq);
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      sqlite3_free (sql);
      goto sqlfail;
    }
  sqlite3_free (sql);
  sqlite3_close (db);
  db = NULL;

  g_unlink (wal);
  g_unlink (shm);
  if (g_rename (part, book_path) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", book_path, g_strerror (saved));
      goto out;
    }
  ok = TRUE;
  goto out;

sqlfail:
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_A_BOOK,
               _("the server's snapshot is not a usable book: %s"), msg ? msg : sqlite3_errmsg (db));
out:
  sqlite3_free (msg);
  if (db != NULL)
    sqlite3_close (db);
  if (!ok)
    g_unlink (part);
  return ok;
}

gboolean
recoup_sync_attach (RecoupBook                  *book,
                    const RecoupSyncEnrollment  *e,
                    GError                     **error)
{
  g_autoptr(GError) adopt_error = NULL;
  g_autofree char *previous = recoup_book_get_setting (book, "sync.device_id");

  if (!recoup_sync_token_store (e->device_id, e->token, error))
    return FALSE;
  /* What the book's own first user wrote before is the enrolled user's (a
   * copy made from the snapshot has that user already). Not a condition of
   * the enrollment: its code is spent. */
  if (!recoup_merge_adopt_enrolled_user (book, e->user_id, e->user_name, e->role, &adopt_error))
    g_warning ("what this book recorded before it was enrolled keeps naming its first user: %s",
               adopt_error->message);
  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!recoup_book_set_setting (book, "sync.url", e->url, error) ||
      !recoup_book_set_setting (book, "sync.fingerprint", e->fingerprint ? e->fingerprint : "", error) ||
      !recoup_book_set_setting (book, "sync.device_id", e->device_id, error) ||
      !recoup_book_set_setting (book, "sync.org_id", e->org_id ? e->org_id : "", error) ||
      !recoup_book_set_setting (book, "sync.user_id", e->user_id, error) ||
      !recoup_book_set_setting (book, "sync.user_name", e->user_name, error) ||
      !recoup_book_set_setting (book, "sync.role", e->role, error) ||
      /* From now on this book writes as the enrolled user. */
      !recoup_book_set_setting (book, "user_id", e->user_id, error))
    {
      recoup_book_rollback (book);
      return FALSE;
    }
  if (!recoup_book_commit (book, error))
    return FALSE;
  /* Enrolled again: the device this book was before is no longer its, and
   * nothing else uses its token (a device id is one book's). */
  if (previous != NULL && *previous != '\0' && g_strcmp0 (previous, e->device_id) != 0)
    {
      g_autoptr(GError) forget_error = NULL;

      if (!recoup_sync_token_forget (previous, &forget_error))
        g_warning ("the token of this book's previous device stays: %s", forget_error->message);
    }
  /* The user's row arrives with the first pull when the book was not bootstrapped. */
  recoup_book_set_user (book, e->user_id, NULL);
  return TRUE;
}

/* ---- the client ---- */

static void
recoup_sync_client_finalize (GObject *object)
{
  RecoupSyncClient *self = (RecoupSyncClient *) object;

  conn_clear (&self->conn);
  g_clear_object (&self->book);
  G_OBJECT_CLASS (recoup_sync_client_parent_class)->finalize (object);
}

static void
recoup_sync_client_class_init (RecoupSyncClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = recoup_sync_client_finalize;
}

static void
recoup_sync_client_init (RecoupSyncClient *self)
{
  /* recoupd's default max-batch: fewer, larger transactions (each commit
   * refreshes derived data and, on a laptop, syncs the disk). A server with a
   * smaller max-batch caps pages itself, and a push it refuses as too large
   * is sent again in halves (push_inner()). */
  self->push_batch = 5000;
  self->pull_page = 5000;
}

RecoupSyncClient *
recoup_sync_client_new (RecoupBook  *book,
                        GError     **error)
{
  g_autoptr(RecoupSyncClient) self = NULL;
  g_autofree char *url = recoup_book_get_setting (book, "sync.url");
  g_autofree char *fp = recoup_book_get_setting (book, "sync.fingerprint");
  g_autofree char *device = recoup_book_get_setting (book, "sync.device_id");
  g_autofree char *token = NULL;
  g_autoptr(GError) local = NULL;

  if (url == NULL || device == NULL)
    {
      g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NOT_ENROLLED,
                   _("%s is not connected to a server; enroll it first with “recoup-cli enroll CODE”"),
                   recoup_book_get_path (book));
      return NULL;
    }
  if (!(token = recoup_sync_token_lookup (device, &local)))
    {
      g_autofree char *said = recoup_book_get_setting (book, "sync.last_error");
      RecoupSyncError kind;

      /* Forgotten when the server said it would never work again
       * (forget_void_token()): what the server said is still why, and what
       * to do. */
      if (recoup_sync_get_last_error_kind (book, &kind) && kind == RECOUP_SYNC_ERROR_UNAUTHORIZED &&
          said != NULL && *said != '\0')
        g_set_error_literal (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_UNAUTHORIZED, said);
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  self = g_object_new (RECOUP_TYPE_SYNC_CLIENT, NULL);
  self->book = g_object_ref (book);
  if (!conn_init (&self->conn, url, fp, token, FALSE, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
recoup_sync_client_set_batch_size (RecoupSyncClient *self,
                                   guint             push_batch,
                                   guint             pull_page)
{
  self->push_batch = MAX (push_batch, 1);
  self->pull_page = MAX (pull_page, 1);
}

/* "" for a success or a failure outside RECOUP_SYNC_ERROR. */
static const char *
error_kind_name (const GError *error)
{
  if (error == NULL || error->domain != RECOUP_SYNC_ERROR || error->code < 0 ||
      (gsize) error->code >= G_N_ELEMENTS (error_kind_names) || error_kind_names[error->code] == NULL)
    return "";
  return error_kind_names[error->code];
}

gboolean
recoup_sync_get_last_error_kind (RecoupBook      *book,
                                 RecoupSyncError *out_kind)
{
  g_autofree char *name = recoup_book_get_setting (book, "sync.last_error_kind");

  for (gsize i = 0; name != NULL && *name != '\0' && i < G_N_ELEMENTS (error_kind_names); i++)
    if (g_strcmp0 (error_kind_names[i], name) == 0)
      {
        *out_kind = (RecoupSyncError) i;
        return TRUE;
      }
  return FALSE;
}

/* The outcome is kept in the book with its kind: the app started later, or
 * after `recoup-cli sync`, shows an unreachable server as offline. */
static void
note_result (RecoupSyncClient *self,
             GError           *error)
{
  g_autofree char *now = g_strdup_printf ("%" G_GINT64_FORMAT, recoup_wall_clock_ms ());

  /* A run stopped on purpose (the window closed) says nothing of the server. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || recoup_book_in_transaction (self->book))
    return;
  if (!recoup_book_begin (self->book, NULL))
    return;
  recoup_book_set_setting (self->book, error ? "sync.last_error_at" : "sync.last_ok_at", now, NULL);
  recoup_book_set_setting (self->book, "sync.last_error", error ? error->message : "", NULL);
  recoup_book_set_setting (self->book, "sync.last_error_kind", error_kind_name (error), NULL);
  if (!recoup_book_commit (self->book, NULL))
    return;
}

/* A parsed answer of the server (push results or a pull page). */
static RecoupChangeBatch *
parse_batch (GBytes  *bytes,
             GError **error)
{
  g_autoptr(GError) local = NULL;
  RecoupChangeBatch *batch;
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);

  if (!(batch = recoup_change_batch_parse (data != NULL ? data : "", len, &local)))
    g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_PROTOCOL,
                 _("the server's answer is not a JSON object (%s)"), local->message);
  return batch;
}

/*
 * Push and pull are pipelined: while this thread waits for the server's
 * answer to batch k, a helper thread reads batch k + 1 from the book and
 * gzips it (push), or applies page k while this thread fetches page k + 1
 * (pull). The book is used by one thread at a time: the helper is joined
 * before this thread touches it again. The HTTP session stays on this thread.
 */

typedef struct
{
  RecoupBook *book;
  gint64      after;      /* local seq the batch starts after */
  guint       limit;
  GPtrArray  *ids;
  gint64      last;       /* local seq of its last change */
  GBytes     *payload;    /* the body as sent */
  gboolean    gz;
  GError     *error;
} PushBatch;

static void
push_batch_free (PushBatch *b)
{
  if (b == NULL)
    return;
  g_ptr_array_unref (b->ids);
  g_clear_pointer (&b->payload, g_bytes_unref);
  g_clear_error (&b->error);
  g_free (b);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PushBatch, push_batch_free)

static gpointer
push_batch_collect (gpointer data)
{
  PushBatch *b = data;
  GString *text = recoup_merge_collect_unsent_body (b->book, b->after, b->limit, b->ids, &b->last, &b->error);

  if (text != NULL)
    {
      g_autoptr(GBytes) body = g_string_free_to_bytes (text);

      b->payload = encode_body (body, &b->gz);
    }
  return b;
}

static PushBatch *
push_batch_new (RecoupBook *book,
                gint64      after,
                guint       limit)
{
  PushBatch *b = g_new0 (PushBatch, 1);

  b->book = book;
  b->after = after;
  b->limit = limit;
  b->ids = g_ptr_array_new_with_free_func (g_free);
  return b;
}

static gboolean
push_inner (RecoupSyncClient  *self,
            RecoupSyncReport  *report,
            GCancellable      *cancellable,
            GError           **error)
{
  g_autoptr(GHashTable) sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(PushBatch) next = push_batch_collect (push_batch_new (self->book, 0, self->push_batch));
  gboolean restamped = FALSE;

  for (;;)
    {
      g_autoptr(PushBatch) cur = g_steal_pointer (&next);
      g_autoptr(GBytes) answer = NULL;
      g_autoptr(RecoupChangeBatch) results = NULL;
      g_autoptr(GError) local = NULL;
      GThread *helper;
      guint n;
      guint ahead = 0;
      gboolean fresh = FALSE;

      if (cur->error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&cur->error));
          return FALSE;
        }
      n = cur->ids->len;
      if (n == 0)
        return TRUE;
      /* Changes the server keeps refusing for now (a newer schema) stay queued;
       * stop when a batch holds nothing new this run. */
      for (guint i = 0; i < n; i++)
        if (g_hash_table_add (sent, g_strdup (cur->ids->pdata[i])))
          fresh = TRUE;
      if (!fresh)
        return TRUE;

      /* The next batch is read and gzipped while the server works on this one. */
      helper = g_thread_new ("recoup-sync-push", push_batch_collect,
                             push_batch_new (self->book, cur->last, self->push_batch));
      answer = conn_request_encoded (&self->conn, "POST", "/v1/changes", cur->payload, cur->gz, NULL, NULL,
                                     cancellable, &local);
      next = g_thread_join (helper);
      if (report != NULL)
        report->requests++;
      if (answer == NULL && n > 1 && g_error_matches (local, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_REFUSED) &&
          strstr (local->message, "too_large") != NULL)
        {
          /* The server takes smaller batches (max-batch or max-body-bytes):
           * the same changes again, in halves; the size sticks for this client. */
          self->push_batch = MAX (n / 2, 1);
          g_debug ("the server refused a batch of %u changes as too large; sending %u at a time",
                   n, self->push_batch);
          for (guint i = 0; i < n; i++)
            g_hash_table_remove (sent, cur->ids->pdata[i]);
          g_clear_pointer (&next, push_batch_free);
          next = push_batch_collect (push_batch_new (self->book, cur->after, self->push_batch));
          continue;
        }
      if (answer == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (!(results = parse_batch (answer, error)))
        return FALSE;
      if (!recoup_change_batch_has_results (results) || recoup_change_batch_get_n_results (results) != n)
        {
          g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_PROTOCOL,
                       g_dngettext (GETTEXT_PACKAGE,
                                    "the server answered a batch of %u change without one result per change",
                                    "the server answered a batch of %u changes without one result per change", n),
                       n);
          return FALSE;
        }

      /* The acknowledgements are stored together; a change is sent only once
       * its acknowledgement is stored (a crash before resends it, and the
       * server answers a resend with the original sequence). */
      if (!recoup_book_begin (self->book, error))
        return FALSE;
      for (guint i = 0; i < n; i++)
        {
          const char *id = cur->ids->pdata[i];
          const char *reason = NULL, *message = NULL;
          gint64 seq = 0;
          const char *status = recoup_change_batch_get_result (results, i, &seq, &reason, &message);

          if (g_str_equal (status, "accepted"))
            {
              if (!recoup_merge_acknowledge (self->book, id, seq, NULL, NULL, error))
                goto fail;
              if (report != NULL)
                report->pushed++;
            }
          else
            {
              if (reason == NULL)
                reason = "rejected";
              /* An account given to a user the team removed goes back to
               * the collector the server kept, so this copy agrees with
               * the others (recoup-merge.h). */
              if (!recoup_merge_acknowledge (self->book, id, 0, reason, message != NULL ? message : "", error) ||
                  !recoup_merge_restore_kept (self->book, results, i, id, error))
                goto fail;
              /* Stamped by a clock that ran ahead: re-stamped and resent below
               * (once per run); counted as refused only if refused again. */
              if (g_str_equal (reason, "clock_ahead") && !restamped)
                ahead++;
              else if (report != NULL)
                report->rejected++;
            }
        }
      if (!recoup_book_commit (self->book, error))
        return FALSE;
      if (ahead > 0)
        {
          guint n_restamped = 0;

          restamped = TRUE;
          if (!recoup_merge_restamp_unsent (self->book, &n_restamped, error))
            return FALSE;
          if (report != NULL)
            report->restamped += n_restamped;
          g_debug ("the server found %u change(s) stamped ahead of its clock; re-stamped %u and resending",
                   ahead, n_restamped);
          g_hash_table_remove_all (sent);
          /* The batch read ahead carries the old stamps: read again from the start. */
          g_clear_pointer (&next, push_batch_free);
          next = push_batch_collect (push_batch_new (self->book, 0, self->push_batch));
        }
      continue;

    fail:
      recoup_book_rollback (self->book);
      return FALSE;
    }
}

typedef struct
{
  RecoupBook        *book;
  RecoupChangeBatch *page;
  gint64             last;
  guint              applied;
  gboolean           ok;
  GError            *error;
} PullApply;

static gpointer
pull_apply (gpointer data)
{
  PullApply *a = data;

  a->ok = recoup_merge_apply_page_batch (a->book, a->page, a->last, &a->applied, &a->error);
  return a;
}

/* GET one page after @after, parsed. */
static RecoupChangeBatch *
pull_fetch (RecoupSyncClient  *self,
            gint64             after,
            RecoupSyncReport  *report,
            GCancellable      *cancellable,
            GError           **error)
{
  g_autofree char *path = g_strdup_printf ("/v1/changes?after=%" G_GINT64_FORMAT "&limit=%u",
                                           after, self->pull_page);
  g_autoptr(GBytes) answer = conn_request (&self->conn, "GET", path, NULL, NULL, NULL, cancellable, error);
  RecoupChangeBatch *page;

  if (report != NULL)
    report->requests++;
  if (answer == NULL || !(page = parse_batch (answer, error)))
    return NULL;
  if (!recoup_change_batch_has_changes (page))
    {
      recoup_change_batch_free (page);
      g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_PROTOCOL,
                   _("the server's page of changes has no “changes” array"));
      return NULL;
    }
  /* A server restored from a backup hands out again numbers this book has
   * passed: what it numbers so would be skipped here without a word. */
  if (recoup_change_batch_get_latest_seq (page) < after)
    {
      g_set_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_PROTOCOL,
                   /* Translators: the server's newest change number, then this book's */
                   _("the server's newest change is number %lld, but this book has already "
                     "received changes up to number %lld: the server has lost changes (was it "
                     "restored from a backup?). Ask its administrator before syncing this book again."),
                   (long long) recoup_change_batch_get_latest_seq (page), (long long) after);
      recoup_change_batch_free (page);
      return NULL;
    }
  return page;
}

static gboolean
pull_inner (RecoupSyncClient  *self,
            RecoupSyncReport  *report,
            GCancellable      *cancellable,
            GError           **error)
{
  g_autofree char *user = recoup_book_get_setting (self->book, "sync.user_id");
  g_autoptr(RecoupChangeBatch) page = pull_fetch (self, recoup_merge_get_cursor (self->book), report,
                                                  cancellable, error);
  gint64 cursor = recoup_merge_get_cursor (self->book);

  if (page == NULL)
    return FALSE;
  for (;;)
    {
      g_autoptr(RecoupChangeBatch) following = NULL;
      g_autoptr(GError) fetch_error = NULL;
      PullApply a = { self->book, page, cursor, 0, FALSE, NULL };
      GThread *helper = NULL;
      guint n = recoup_change_batch_get_length (page);
      gboolean more = recoup_change_batch_get_has_more (page) && n > 0;

      for (guint i = 0; i < n; i++)
        a.last = MAX (a.last, recoup_change_batch_get_int (page, i, "seq", 0));
      /* The page is applied while the next one travels. */
      if (more)
        {
          helper = g_thread_new ("recoup-sync-pull", pull_apply, &a);
          following = pull_fetch (self, a.last, report, cancellable, &fetch_error);
          g_thread_join (helper);
        }
      else
        pull_apply (&a);
      if (!a.ok)
        {
          g_propagate_error (error, a.error);
          return FALSE;
        }
      if (report != NULL)
        {
          report->pulled += n;
          report->applied += a.applied;
          report->cursor = recoup_merge_get_cursor (self->book);
        }
      if (!more)
        break;
      if (following == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&fetch_error));
          return FALSE;
        }
      cursor = a.last;
      g_clear_pointer (&page, recoup_change_batch_free);
      page = g_steal_pointer (&following);
    }
  /* Write as the enrolled user once their row has arrived. */
  if (user != NULL && g_strcmp0 (user, recoup_book_get_user_id (self->book)) != 0)
    recoup_book_set_user (self->book, user, NULL);
  return TRUE;
}

/* A sync writes thousands of pages: while it runs, the book's WAL is
 * checkpointed every 64 MiB instead of every 4 MiB (hot index pages are
 * copied into the book once instead of at nearly every commit). Returns the
 * previous setting for wal_restore(). */
static int
wal_widen (RecoupBook *book)
{
  sqlite3 *db = recoup_book_get_db (book);
  sqlite3_stmt *stmt = NULL;
  int previous = -1;

  if (sqlite3_prepare_v2 (db, "PRAGMA wal_autocheckpoint", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    previous = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  if (previous >= 0 && previous < 16384)
    sqlite3_wal_autocheckpoint (db, 16384);
  else
    previous = -1;
  return previous;
}

static void
wal_restore (RecoupBook *book,
             int         previous)
{
  if (previous >= 0)
    sqlite3_wal_autocheckpoint (recoup_book_get_db (book), previous);
}

/* The server said this device's token will never work again (its device
 * revoked, its user removed): it is forgotten, and only it. The book keeps
 * everything, unsent changes too; a new code enrolls it again. */
static void
forget_void_token (RecoupSyncClient *self)
{
  g_autofree char *device = NULL;
  g_autoptr(GError) local = NULL;

  if (!self->conn.token_void)
    return;
  self->conn.token_void = FALSE;
  device = recoup_book_get_setting (self->book, "sync.device_id");
  if (device == NULL || *device == '\0')
    return;
  if (!recoup_sync_token_forget (device, &local))
    g_warning ("%s", local->message);
  else
    g_debug ("the server no longer accepts device %s: its token is forgotten", device);
}

gboolean
recoup_sync_client_push (RecoupSyncClient  *self,
                         RecoupSyncReport  *report,
                         GCancellable      *cancellable,
                         GError           **error)
{
  int wal = wal_widen (self->book);
  gboolean ok = push_inner (self, report, cancellable, error);

  wal_restore (self->book, wal);
  if (!ok)
    forget_void_token (self);
  return ok;
}

gboolean
recoup_sync_client_pull (RecoupSyncClient  *self,
                         RecoupSyncReport  *report,
                         GCancellable      *cancellable,
                         GError           **error)
{
  int wal = wal_widen (self->book);
  gboolean ok = pull_inner (self, report, cancellable, error);

  wal_restore (self->book, wal);
  if (!ok)
    forget_void_token (self);
  return ok;
}

gboolean
recoup_sync_client_run (RecoupSyncClient  *self,
                        RecoupSyncReport  *report,
                        GCancellable      *cancellable,
                        GError           **error)
{
  g_autoptr(GError) local = NULL;
  RecoupSyncReport dummy = { 0 };

  if (report == NULL)
    report = &dummy;
  if (recoup_sync_client_push (self, report, cancellable, &local) &&
      recoup_sync_client_pull (self, report, cancellable, &local))
    {
      note_result (self, NULL);
      return TRUE;
    }
  note_result (self, local);
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}
