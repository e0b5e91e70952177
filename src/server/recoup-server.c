/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-server"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "recoup-book-private.h"
#include "recoup-merge-private.h"
#include "recoup-server.h"

/*
 * recoupd's HTTP side: HTTPS only, bearer token per device, one book per
 * organisation merged through core (recoup-merge.c). See docs/sync-protocol.md.
 * Requests are served on the main loop one at a time; each push is one
 * transaction of the organisation's book.
 */

struct _RecoupServer
{
  GObject             parent_instance;

  RecoupServerConfig  config;
  SoupServer         *soup;
  GTlsCertificate    *cert;
  char               *fingerprint;
  RecoupServerDb     *db;
  GHashTable         *books;   /* org id -> RecoupBook */
};

G_DEFINE_FINAL_TYPE (RecoupServer, recoup_server, G_TYPE_OBJECT)

void
recoup_server_config_init (RecoupServerConfig *config)
{
  memset (config, 0, sizeof *config);
  config->listen = g_strdup ("127.0.0.1");
  config->port = 8443;
  config->max_batch = 5000;
  config->max_body = 32 * 1024 * 1024;
  config->max_clock_skew_ms = 24 * 3600 * G_GINT64_CONSTANT (1000);
}

void
recoup_server_config_clear (RecoupServerConfig *config)
{
  g_clear_pointer (&config->listen, g_free);
  g_clear_pointer (&config->cert_file, g_free);
  g_clear_pointer (&config->key_file, g_free);
  g_clear_pointer (&config->data_dir, g_free);
}

gboolean
recoup_server_config_load (RecoupServerConfig  *config,
                           const char          *path,
                           GError             **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  char *s;
  gint64 n;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
#define STR(key, field) \
  if ((s = g_key_file_get_string (kf, "server", key, NULL)) != NULL) \
    { g_free (config->field); config->field = s; }
  STR ("listen", listen);
  STR ("cert", cert_file);
  STR ("key", key_file);
  STR ("data-dir", data_dir);
#undef STR
#define INT(key, expr) \
  if (g_key_file_has_key (kf, "server", key, NULL)) \
    { \
      n = g_key_file_get_int64 (kf, "server", key, &local); \
      if (local != NULL || n < 0) \
        { \
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, \
                       "%s: [server] %s must be a whole number >= 0", path, key); \
          return FALSE; \
        } \
      expr; \
    }
  INT ("port", config->port = (guint) MIN (n, 65535));
  INT ("max-batch", config->max_batch = (guint) MAX (n, 1));
  INT ("max-body-bytes", config->max_body = (gsize) n);
  INT ("max-clock-skew-seconds", config->max_clock_skew_ms = n * 1000);
#undef INT
  return TRUE;
}

char *
recoup_tls_certificate_fingerprint (GTlsCertificate *cert)
{
  g_autoptr(GByteArray) der = NULL;

  g_object_get (cert, "certificate", &der, NULL);
  if (der == NULL)
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

static void
recoup_server_finalize (GObject *object)
{
  RecoupServer *self = (RecoupServer *) object;

  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);
  g_clear_object (&self->cert);
  g_clear_pointer (&self->fingerprint, g_free);
  g_clear_pointer (&self->books, g_hash_table_unref);
  g_clear_pointer (&self->db, recoup_server_db_free);
  recoup_server_config_clear (&self->config);

  G_OBJECT_CLASS (recoup_server_parent_class)->finalize (object);
}

static void
recoup_server_class_init (RecoupServerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = recoup_server_finalize;
}

static void
recoup_server_init (RecoupServer *self)
{
  self->books = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

const char *
recoup_server_get_fingerprint (RecoupServer *self)
{
  return self->fingerprint;
}

RecoupServerDb *
recoup_server_get_db (RecoupServer *self)
{
  return self->db;
}

/* ---- responses ---- */

static void
send_json (SoupServerMessage *msg,
           guint              status,
           JsonNode          *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  gsize len = 0;
  char *text;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

static void
send_error (SoupServerMessage *msg,
            guint              status,
            const char        *code,
            const char        *format,
            ...) G_GNUC_PRINTF (4, 5);

/* {"error": @code, "message": @text} and, when not NULL, "reason": @reason,
 * a finer code beside the stable @code. */
static void
send_error_reason (SoupServerMessage *msg,
                   guint              status,
                   const char        *code,
                   const char        *reason,
                   const char        *text)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, code);
  if (reason != NULL)
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, reason);
    }
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, text);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, status, root);
}

static void
send_error (SoupServerMessage *msg,
            guint              status,
            const char        *code,
            const char        *format,
            ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  send_error_reason (msg, status, code, NULL, text);
}

/* ---- request checks ---- */

/* @min_schema: the schema the client must know (0: any): the synced
 * tables' (RECOUP_SYNC_SCHEMA_VERSION) to receive changes, the whole book's
 * (RECOUP_SCHEMA_VERSION) to open a snapshot of it. */
static gboolean
check_versions (SoupServerMessage *msg,
                int                min_schema)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *proto = soup_message_headers_get_one (h, RECOUP_PROTOCOL_HEADER);
  const char *schema = soup_message_headers_get_one (h, RECOUP_SCHEMA_HEADER);
  gint64 v;

  if (proto == NULL || schema == NULL)
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "missing_version",
                  "every request must carry the headers %s (this server speaks %d) and %s",
                  RECOUP_PROTOCOL_HEADER, RECOUP_PROTOCOL_VERSION, RECOUP_SCHEMA_HEADER);
      return FALSE;
    }
  v = g_ascii_strtoll (proto, NULL, 10);
  if (v != RECOUP_PROTOCOL_VERSION)
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST,
                  v > RECOUP_PROTOCOL_VERSION ? "protocol_too_new" : "protocol_too_old",
                  "this server speaks sync protocol %d, the client %s; update the %s. "
                  "Unsent changes stay on the device.", RECOUP_PROTOCOL_VERSION, proto,
                  v > RECOUP_PROTOCOL_VERSION ? "server" : "client");
      return FALSE;
    }
  v = g_ascii_strtoll (schema, NULL, 10);
  if (v < 1)
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "missing_version",
                  "%s must be the client's book schema number", RECOUP_SCHEMA_HEADER);
      return FALSE;
    }
  if (v < min_schema)
    {
      send_error (msg, SOUP_STATUS_CONFLICT, "client_too_old",
                  "the server's books use schema %d and this client knows up to %" G_GINT64_FORMAT
                  "; update Recoup on this device to receive changes. Unsent changes stay on the device.",
                  min_schema, v);
      return FALSE;
    }
  return TRUE;
}

static RecoupServerDevice *
authenticate (RecoupServer      *self,
              SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *auth = soup_message_headers_get_one (h, "Authorization");
  /* Only a bearer credential is a token: anything else is not read past its
   * scheme (a header of two bytes has no eighth). */
  const char *token = auth != NULL && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
  RecoupServerDevice *dev = NULL;

  if (token != NULL)
    dev = recoup_server_db_authenticate (self->db, token);
  if (dev == NULL)
    {
      const char *reason = NULL;
      g_autofree char *why = token != NULL ? recoup_server_db_explain_token (self->db, token, &reason) : NULL;

      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer realm=\"recoupd\"");
      /* Revoked, or its user removed: the token will never work again, and
       * "reason" lets the device forget it. */
      if (why != NULL)
        send_error_reason (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", reason, why);
      else
        send_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                    auth == NULL ? "this request needs a device token (enroll the device first)"
                                 : "the device token is unknown or was revoked; enroll the device again");
    }
  return dev;
}

static RecoupBook *
get_book (RecoupServer  *self,
          const char    *org_id,
          GError       **error)
{
  RecoupBook *book = g_hash_table_lookup (self->books, org_id);

  if (book == NULL)
    {
      if (!(book = recoup_server_db_open_book (self->db, org_id, error)))
        return NULL;
      g_hash_table_insert (self->books, g_strdup (org_id), book);
    }
  return book;
}

/* The request body, gunzipped when sent with Content-Encoding: gzip. */
static GBytes *
read_body (RecoupServer      *self,
           SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  const char *encoding = soup_message_headers_get_one (h, "Content-Encoding");
  g_autoptr(GBytes) raw = soup_message_body_flatten (body);

  if (encoding != NULL && g_ascii_strcasecmp (encoding, "gzip") == 0)
    {
      g_autoptr(GInputStream) mem = g_memory_input_stream_new_from_bytes (raw);
      g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      g_autoptr(GInputStream) in = g_converter_input_stream_new (mem, G_CONVERTER (z));
      g_autoptr(GByteArray) out = g_byte_array_new ();
      g_autoptr(GError) error = NULL;
      guint8 buf[65536];
      gssize n;

      while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, &error)) > 0)
        {
          g_byte_array_append (out, buf, (guint) n);
          if (out->len > self->config.max_body)
            {
              send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large",
                          "the request is larger than %" G_GSIZE_FORMAT " bytes uncompressed; "
                          "send smaller batches", self->config.max_body);
              return NULL;
            }
        }
      if (n < 0)
        {
          send_error (msg, SOUP_STATUS_BAD_REQUEST, "bad_encoding",
                      "the gzip request body is corrupt: %s", error->message);
          return NULL;
        }
      return g_byte_array_free_to_bytes (g_steal_pointer (&out));
    }
  if (encoding != NULL && g_ascii_strcasecmp (encoding, "identity") != 0)
    {
      send_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "bad_encoding",
                  "Content-Encoding “%s” is not supported (use gzip or none)", encoding);
      return NULL;
    }
  if (g_bytes_get_size (raw) > self->config.max_body)
    {
      send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large",
                  "the request is larger than %" G_GSIZE_FORMAT " bytes; send smaller batches",
                  self->config.max_body);
      return NULL;
    }
  return g_steal_pointer (&raw);
}

static JsonNode *
parse_json_body (RecoupServer      *self,
                 SoupServerMessage *msg)
{
  g_autoptr(GBytes) bytes = read_body (self, msg);
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  const char *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  parser = json_parser_new_immutable ();
  if (len == 0 || !json_parser_load_from_data (parser, data, (gssize) len, &error))
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed_json",
                  "the request body is not valid JSON: %s", error != NULL ? error->message : "it is empty");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed_json", "the request body must be a JSON object");
      return NULL;
    }
  return json_parser_steal_root (parser);
}

/* Runs once the request headers are in, before the body is read: a body
 * announced larger than max-body-bytes is refused. A client that sent
 * "Expect: 100-continue" gets the 413 before it sends the body; otherwise
 * libsoup still reads the body off the connection, but nothing of it is
 * kept (memory stays bounded) and the handler never runs (a status is set). */
static void
early_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  RecoupServer *self = user_data;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  goffset length;

  if (soup_message_headers_get_encoding (h) != SOUP_ENCODING_CONTENT_LENGTH)
    return;
  length = soup_message_headers_get_content_length (h);
  if (length < 0 || (guint64) length <= (guint64) self->config.max_body)
    return;
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
  send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large",
              "the request body is %" G_GOFFSET_FORMAT " bytes; this server takes at most %" G_GSIZE_FORMAT
              " (max-body-bytes): send smaller batches", length, self->config.max_body);
}

/* ---- POST /v1/enroll and POST /v1/check-enrollment ---- */

/* The body of a request that carries an enrollment secret, or NULL once an
 * error was sent. libsoup hands a handler every path its own is a prefix
 * of (“/v1/enrollx” too): anything but @endpoint itself is not found, so
 * that no request meant for another endpoint can redeem a code. */
static JsonNode *
read_secret_request (RecoupServer      *self,
                     SoupServerMessage *msg,
                     const char        *path,
                     const char        *endpoint,
                     const char       **out_secret)
{
  g_autoptr(JsonNode) root = NULL;
  const char *secret;

  if (!g_str_equal (path, endpoint))
    {
      send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "no endpoint %s (see docs/sync-protocol.md)", path);
      return NULL;
    }
  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    {
      send_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", "use POST %s", path);
      return NULL;
    }
  if (!check_versions (msg, 0) || !(root = parse_json_body (self, msg)))
    return NULL;
  secret = json_object_get_string_member_with_default (json_node_get_object (root), "secret", NULL);
  if (secret == NULL || *secret == '\0')
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request", "“secret” (a string) is required");
      return NULL;
    }
  *out_secret = secret;
  return g_steal_pointer (&root);
}

static void
send_enrollment_error (SoupServerMessage *msg,
                       const GError      *error)
{
  if (g_error_matches (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT))
    send_error (msg, SOUP_STATUS_FORBIDDEN, "enrollment_used", "%s", error->message);
  else if (g_error_matches (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND))
    send_error (msg, SOUP_STATUS_FORBIDDEN, "enrollment_unknown", "%s", error->message);
  else
    send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "%s",
                error != NULL ? error->message : "enrollment failed");
}

/* What a code would enroll, without redeeming it: a device asks before it
 * connects a book that a collector's code must not take (a collector starts
 * from the team's book). Nothing is written. */
static void
check_enrollment_cb (SoupServer        *server,
                     SoupServerMessage *msg,
                     const char        *path,
                     GHashTable        *query,
                     gpointer           user_data)
{
  RecoupServer *self = user_data;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *org_id = NULL;
  g_autofree char *org_name = NULL;
  g_autofree char *user_id = NULL;
  g_autofree char *user_name = NULL;
  g_autofree char *role = NULL;
  const char *secret = NULL;

  if (!(root = read_secret_request (self, msg, path, "/v1/check-enrollment", &secret)))
    return;
  if (!recoup_server_db_check_enrollment (self->db, secret, &org_id, &org_name, &user_id, &user_name, &role,
                                          &error))
    {
      send_enrollment_error (msg, error);
      return;
    }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "org_id");
  json_builder_add_string_value (b, org_id);
  json_builder_set_member_name (b, "org_name");
  json_builder_add_string_value (b, org_name);
  json_builder_set_member_name (b, "user_id");
  json_builder_add_string_value (b, user_id);
  json_builder_set_member_name (b, "user_name");
  json_builder_add_string_value (b, user_name);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, role);
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, answer);
}

static void
enroll_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  RecoupServer *self = user_data;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(RecoupServerDevice) dev = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;
  JsonObject *obj;
  const char *secret = NULL;
  const char *request_id;

  if (!(root = read_secret_request (self, msg, path, "/v1/enroll", &secret)))
    return;
  obj = json_node_get_object (root);
  /* Optional (clients before it send none): a retry of the same request may
   * redeem the code again (recoup_server_db_enroll()). */
  request_id = json_object_get_string_member_with_default (obj, "request_id", NULL);
  if (request_id != NULL && (strlen (request_id) < 16 || strlen (request_id) > 128))
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                  "“request_id” must be 16 to 128 characters (a random id the client keeps for its retries)");
      return;
    }
  dev = recoup_server_db_enroll (self->db, secret, request_id,
                                 json_object_get_string_member_with_default (obj, "device_name", "device"),
                                 &token, &error);
  if (dev == NULL)
    {
      send_enrollment_error (msg, error);
      return;
    }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, token);
  json_builder_set_member_name (b, "device_id");
  json_builder_add_string_value (b, dev->device_id);
  json_builder_set_member_name (b, "org_id");
  json_builder_add_string_value (b, dev->org_id);
  json_builder_set_member_name (b, "user_id");
  json_builder_add_string_value (b, dev->user_id);
  json_builder_set_member_name (b, "user_name");
  json_builder_add_string_value (b, dev->user_name);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, dev->role);
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, answer);
}

/* ---- authorisation of pushed changes ---- */


/* The limits in force are the book's: an owner changes a collector's in
 * Book Preferences (a synced write), while server.db keeps those the admin
 * gave when adding the user. The role stays server.db's (only an admin
 * changes it). */
static gboolean
load_limits (RecoupBook          *book,
             RecoupServerDevice  *dev,
             GError             **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(RecoupUser) user = recoup_user_load (book, dev->user_id, &local);

  if (user == NULL)
    {
      /* A user server.db has and the book does not (not expected: add-user
       * writes both) keeps server.db's limits. */
      if (g_error_matches (local, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  dev->max_discount_bp = user->max_discount_bp;
  dev->max_plan_installments = user->max_plan_installments;
  return TRUE;
}

static gboolean
authorize (RecoupServerDevice *dev,
           RecoupChangeBatch  *batch,
           guint               i,
           char              **out_message)
{
  const char *entity = recoup_change_batch_get_string (batch, i, "entity", NULL);
  g_autoptr(GError) denied = NULL;

  if (entity == NULL)
    entity = "";
  if (g_str_equal (dev->role, "owner"))
    return TRUE;
  /* Any other device writes as the user it was enrolled for (its book starts
   * from the team's and acts as no one else): a change in another's name
   * would put words in their mouth in everyone's history. */
  if (!recoup_merge_check_author (batch, i, dev->user_id, dev->user_name, &denied))
    {
      *out_message = g_strdup (denied->message);
      return FALSE;
    }
  /* The same rule the device applied when it wrote (recoup-merge.h). */
  if (!recoup_merge_check_role (dev->role, dev->user_name, entity,
                                g_str_equal (entity, "ledger_entries") && recoup_change_batch_has_fields (batch, i)
                                  ? recoup_change_batch_get_field_string (batch, i, "kind", "") : NULL,
                                &denied))
    {
      *out_message = g_strdup (denied->message);
      return FALSE;
    }
  if (g_str_equal (entity, "settings"))
    {
      const char *key = recoup_change_batch_get_string (batch, i, "entity_id", NULL);

      /* The business's policy (compliance rules, score weights, escalation,
       * its details): owners only. A key that is not shared at all is the
       * merge's to refuse. */
      if (recoup_merge_setting_scope (key) == RECOUP_SETTING_OWNER)
        {
          *out_message = g_strdup_printf ("%s is a %s and may not change the business's setting “%s”; "
                                          "ask an owner", dev->user_name, dev->role, key);
          return FALSE;
        }
      return TRUE;
    }
  if (!g_str_equal (dev->role, "collector") || !recoup_change_batch_has_fields (batch, i))
    return TRUE;
  if (g_str_equal (entity, "offers"))
    {
      gint64 discount = recoup_change_batch_get_field_int (batch, i, "discount_bp", 0);
      gint64 installments = recoup_change_batch_get_field_int (batch, i, "installments", 1);
      gboolean for_approval = recoup_change_batch_get_field_int (batch, i, "needs_approval", 0) != 0;

      /* An offer beyond the collector's limits is theirs to make, as a draft
       * that waits for an owner's approval (recoup_offer_create()): the owner
       * sees it only once it is here. Sending or accepting it before an
       * owner approved it is refused by its state machine. Only one that
       * claims no approval is needed is refused. */
      if (!for_approval &&
          (discount > dev->max_discount_bp || installments > MAX (dev->max_plan_installments, 1)))
        {
          *out_message = g_strdup_printf ("the offer is beyond %s's limits (discount %" G_GINT64_FORMAT
                                          " bp of %" G_GINT64_FORMAT " allowed, %" G_GINT64_FORMAT
                                          " installments of %" G_GINT64_FORMAT "); an owner must approve it",
                                          dev->user_name, discount, dev->max_discount_bp, installments,
                                          MAX (dev->max_plan_installments, 1));
          return FALSE;
        }
    }
  if (g_str_equal (entity, "offer_events"))
    {
      const char *event = recoup_change_batch_get_field_string (batch, i, "event", "");

      if (g_str_has_prefix (event, "approve"))
        {
          *out_message = g_strdup_printf ("%s is a collector and may not approve offers", dev->user_name);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- POST /v1/changes ---- */

static gboolean
is_user_insert (RecoupChangeBatch *batch,
                guint              i)
{
  return g_strcmp0 (recoup_change_batch_get_string (batch, i, "entity", NULL), "users") == 0 &&
         g_strcmp0 (recoup_change_batch_get_string (batch, i, "op", NULL), "insert") == 0;
}

/* One result object of a push answer, written as text (a batch has thousands).
 * @kept: more members of a refusal (recoup_merge_kept_members()), or NULL. */
static void
add_result (GString    *out,
            const char *id,
            gint64      seq,
            const char *reason,
            const char *message,
            const char *kept)
{
  if (out->str[out->len - 1] != '[')
    g_string_append_c (out, ',');
  g_string_append (out, "{\"id\":");
  if (id != NULL)
    recoup_json_append_string (out, id);
  else
    g_string_append (out, "null");
  if (reason == NULL)
    g_string_append_printf (out, ",\"status\":\"accepted\",\"seq\":%" G_GINT64_FORMAT "}", seq);
  else
    {
      g_string_append (out, ",\"status\":\"rejected\",\"reason\":");
      recoup_json_append_string (out, reason);
      g_string_append (out, ",\"message\":");
      recoup_json_append_string (out, message != NULL ? message : "");
      if (kept != NULL)
        g_string_append (out, kept);
      g_string_append_c (out, '}');
    }
}

/* Refuses change @i when it assigns an account to a user the team removed
 * or to one whose role holds no accounts (a bookkeeper), answering with the
 * account's collector as it stays (recoup-merge.h). FALSE when refused; with
 * @error set only when the book failed. */
static gboolean
check_assignee (RecoupBook         *book,
                RecoupChangeBatch  *batch,
                guint               i,
                GString            *out,
                const char         *id,
                GError            **error)
{
  g_autoptr(GError) refused = NULL;
  g_autofree char *kept = NULL;
  const char *reason = RECOUP_MERGE_REASON_USER_REMOVED;

  if (recoup_merge_check_assignee_reason (book, batch, i, &reason, &refused))
    return TRUE;
  if (!g_error_matches (refused, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED))
    {
      g_propagate_error (error, g_steal_pointer (&refused));
      return FALSE;
    }
  if (!(kept = recoup_merge_kept_members (book, batch, i, error)))
    return FALSE;
  add_result (out, id, 0, reason, refused->message, kept);
  return FALSE;
}

static gint64
latest_seq (RecoupBook *book)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT coalesce(max(seq), 0) FROM changes", NULL);
  gint64 n = 0;

  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return n;
}

static void
send_text (SoupServerMessage *msg,
           GString           *text)
{
  const char *accept = soup_message_headers_get_list (soup_server_message_get_request_headers (msg),
                                                      "Accept-Encoding");
  gsize len = text->len;

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  /* Pull pages and push answers are large and compress about 5:1: gzipped at
   * level 1 for clients that accept it (libsoup's SoupContentDecoder does). */
  if (len > RECOUP_MERGE_GZIP_THRESHOLD && accept != NULL && soup_header_contains (accept, "gzip"))
    {
      g_autoptr(GBytes) gz = recoup_merge_gzip (text->str, len);

      if (gz != NULL)
        {
          gsize gz_len = 0;
          gconstpointer gz_data = g_bytes_get_data (gz, &gz_len);

          g_string_free (text, TRUE);
          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "Content-Encoding", "gzip");
          soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, gz_data, gz_len);
          return;
        }
    }
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_string_free (text, FALSE), len);
}

static void
push (RecoupServer       *self,
      SoupServerMessage  *msg,
      RecoupServerDevice *dev)
{
  g_autoptr(GBytes) bytes = read_body (self, msg);
  g_autoptr(RecoupChangeBatch) batch = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) new_users = g_ptr_array_new_with_free_func (g_free);
  GString *out = NULL;
  RecoupBook *book;
  RecoupMergeStale stale = RECOUP_MERGE_STALE_NONE;
  const char *data;
  gint64 horizon;
  gsize len = 0;
  guint n;

  if (bytes == NULL)
    return;
  data = g_bytes_get_data (bytes, &len);
  if (len == 0 || !(batch = recoup_change_batch_parse (data, len, &error)))
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed_json",
                  "the request body is not valid JSON: %s", error != NULL ? error->message : "it is empty");
      return;
    }
  if (!recoup_change_batch_has_changes (batch))
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                  "the body must be {\"changes\": [ … ]}");
      return;
    }
  n = recoup_change_batch_get_length (batch);
  if (n > self->config.max_batch)
    {
      send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "batch_too_large",
                  "a push may carry at most %u changes; this one has %u", self->config.max_batch, n);
      return;
    }
  if (!(book = get_book (self, dev->org_id, &error)) || !load_limits (book, dev, &error))
    {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "%s", error->message);
      return;
    }

  horizon = RECOUP_HLC_MAKE (recoup_wall_clock_ms () + self->config.max_clock_skew_ms, 0xffff);
  out = g_string_sized_new (64 + (gsize) n * 72);
  g_string_append (out, "{\"results\":[");
  if (!recoup_book_begin (book, &error))
    goto fail;
  for (guint i = 0; i < n; i++)
    {
      RecoupMergeResult result = { 0 };
      g_autofree char *denied = NULL;
      gboolean has_id = FALSE;
      const char *id;

      if (!recoup_change_batch_is_object (batch, i))
        {
          add_result (out, NULL, 0, RECOUP_MERGE_REASON_INVALID, "a change must be a JSON object", NULL);
          continue;
        }
      id = recoup_change_batch_get_string (batch, i, "id", &has_id);
      if (has_id && id == NULL)
        {
          add_result (out, NULL, 0, RECOUP_MERGE_REASON_INVALID, "“id” must be a string", NULL);
          continue;
        }
      if (!authorize (dev, batch, i, &denied))
        {
          add_result (out, id, 0, "forbidden", denied, NULL);
          continue;
        }
      if (recoup_change_batch_get_int (batch, i, "hlc", 0) > horizon)
        {
          add_result (out, id, 0, "clock_ahead",
                      "the change is stamped too far in the future; check the device's clock, then sync again",
                      NULL);
          continue;
        }
      if (!check_assignee (book, batch, i, out, id, &error))
        {
          if (error != NULL)
            {
              recoup_book_rollback (book);
              goto fail;
            }
          continue;
        }
      if (!recoup_merge_apply_batch_item (book, batch, i, RECOUP_MERGE_SEQ_SELF, &result, &error))
        {
          recoup_merge_result_clear (&result);
          recoup_book_rollback (book);
          goto fail;
        }
      if (result.status == RECOUP_MERGE_REJECTED)
        add_result (out, id, 0, result.reason, result.message, NULL);
      else
        add_result (out, id, result.server_seq > 0 ? result.server_seq : result.seq, NULL, NULL, NULL);
      if (result.status == RECOUP_MERGE_APPLIED && is_user_insert (batch, i))
        g_ptr_array_add (new_users, g_strdup (recoup_change_batch_get_string (batch, i, "entity_id", NULL)));
      stale = MAX (stale, result.stale);
      recoup_merge_result_clear (&result);
    }
  /* An owner's book brings the people it knows: one the server made under
   * the same name becomes the user the owner's rows name. */
  if (new_users->len > 0 &&
      !recoup_server_db_adopt_pushed_users (self->db, book, dev->org_id, new_users, &error))
    {
      recoup_book_rollback (book);
      goto fail;
    }
  /* A new score weight or escalation policy rescores the book here as on
   * every device, so a snapshot carries scores made with the settings it has. */
  if (!recoup_merge_refresh_derived (book, stale, &error))
    {
      recoup_book_rollback (book);
      goto fail;
    }
  if (!recoup_book_commit (book, &error))
    goto fail;
  /* The book has what it needs; server.db follows (see docs/sync-protocol.md). */
  if (!recoup_server_db_end (self->db, TRUE, &error))
    {
      g_warning ("push from device %s: the users it brought are in the book, but server.db could not "
                 "take their ids: %s", dev->device_id, error->message);
      g_clear_error (&error);
    }
  g_string_append_printf (out, "],\"latest_seq\":%" G_GINT64_FORMAT "}", latest_seq (book));
  send_text (msg, out);
  return;

fail:
  recoup_server_db_end (self->db, FALSE, NULL);
  g_string_free (out, TRUE);
  g_warning ("push from device %s failed: %s", dev->device_id, error->message);
  send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error",
              "the server could not store the batch (%s); nothing was applied, retry later", error->message);
}

/* ---- GET /v1/changes ---- */

static gboolean
query_int (GHashTable *query,
           const char *key,
           gint64      fallback,
           gint64     *out)
{
  const char *text = query != NULL ? g_hash_table_lookup (query, key) : NULL;
  char *end = NULL;

  *out = fallback;
  if (text == NULL)
    return TRUE;
  *out = g_ascii_strtoll (text, &end, 10);
  return end != text && *end == '\0' && *out >= 0;
}

static void
pull (RecoupServer       *self,
      SoupServerMessage  *msg,
      GHashTable         *query,
      RecoupServerDevice *dev)
{
  g_autoptr(GError) error = NULL;
  RecoupBook *book;
  GString *out;
  gint64 after, limit;
  gboolean has_more = FALSE;

  if (!query_int (query, "after", 0, &after) || !query_int (query, "limit", 500, &limit) || limit < 1)
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                  "“after” and “limit” must be whole numbers (limit at least 1)");
      return;
    }
  limit = MIN (limit, (gint64) self->config.max_batch);
  if (!(book = get_book (self, dev->org_id, &error)))
    {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "%s", error->message);
      return;
    }
  /* The page is written as text straight from the change log. */
  out = g_string_sized_new (64 * 1024);
  g_string_append (out, "{\"changes\":[");
  if (!recoup_merge_write_changes_after (book, after, (guint) limit, out, NULL, &has_more, &error))
    {
      g_string_free (out, TRUE);
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "%s", error->message);
      return;
    }
  g_string_append_printf (out, "],\"has_more\":%s,\"latest_seq\":%" G_GINT64_FORMAT "}",
                          has_more ? "true" : "false", latest_seq (book));
  send_text (msg, out);
}

static void
changes_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  RecoupServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_autoptr(RecoupServerDevice) dev = NULL;
  gboolean is_post = g_strcmp0 (method, "POST") == 0;

  if (!is_post && g_strcmp0 (method, "GET") != 0)
    {
      send_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", "use GET or POST %s", path);
      return;
    }
  if (!check_versions (msg, is_post ? 0 : RECOUP_SYNC_SCHEMA_VERSION) || !(dev = authenticate (self, msg)))
    return;
  if (is_post)
    push (self, msg, dev);
  else
    pull (self, msg, query, dev);
}

/* ---- GET /v1/snapshot ---- */

/*
 * A snapshot is the organisation's book as of one server sequence, streamed
 * in chunks (a book of a million accounts is gigabytes: it is never held in
 * memory). It is always a copy the book's own connection makes with VACUUM
 * INTO a temporary file, unlinked at once and streamed from its descriptor.
 * The live book file is never opened here: closing any descriptor of a file
 * drops every POSIX lock this process holds on it, SQLite's included, and
 * another process (recoupd admin) could then delete the WAL under pushes
 * the server has already acknowledged.
 */

#define SNAPSHOT_CHUNK (1024 * 1024)

typedef struct
{
  int       fd;
  goffset   size;
  goffset   offset;
  gboolean  done;
} Snapshot;

static void
snapshot_free (gpointer data)
{
  Snapshot *snap = data;

  if (snap->fd >= 0)
    close (snap->fd);
  g_free (snap);
}

/* Appends the next chunk of the file to the response (one ahead of what the
 * connection has written, so memory stays at a chunk or two). */
static void
snapshot_next_chunk (SoupServerMessage *msg,
                     Snapshot          *snap)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  gsize want;
  char *buf;
  gssize n;

  if (snap->done)
    return;
  if (snap->offset >= snap->size)
    {
      snap->done = TRUE;
      soup_message_body_complete (body);
      return;
    }
  want = (gsize) MIN ((goffset) SNAPSHOT_CHUNK, snap->size - snap->offset);
  buf = g_malloc (want);
  do
    n = pread (snap->fd, buf, want, snap->offset);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    {
      /* Content-Length was promised: cutting the connection is the only
       * honest answer; the client sees a short body and retries. */
      g_warning ("reading the snapshot failed at byte %" G_GOFFSET_FORMAT ": %s", snap->offset,
                 n < 0 ? g_strerror (errno) : "end of file");
      g_free (buf);
      snap->done = TRUE;
      soup_message_body_complete (body);
      return;
    }
  snap->offset += n;
  soup_message_body_append (body, SOUP_MEMORY_TAKE, buf, (gsize) n);
}

static void
snapshot_wrote_chunk_cb (SoupServerMessage *msg,
                         gpointer           data)
{
  snapshot_next_chunk (msg, data);
}

static void
snapshot_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  RecoupServer *self = user_data;
  g_autoptr(RecoupServerDevice) dev = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *tmp = NULL;
  SoupMessageHeaders *headers;
  Snapshot *snap;
  char seqbuf[32];
  RecoupBook *book;
  sqlite3 *db;
  char *sql;
  GStatBuf st;
  gint64 seq;
  int saved_errno = 0;

  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") != 0)
    {
      send_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", "use GET %s", path);
      return;
    }
  if (!check_versions (msg, RECOUP_SCHEMA_VERSION) || !(dev = authenticate (self, msg)))
    return;
  if (!(book = get_book (self, dev->org_id, &error)))
    {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "%s", error->message);
      return;
    }
  db = recoup_book_get_db (book);
  snap = g_new0 (Snapshot, 1);
  snap->fd = -1;

  /* One consistent book as of `seq`: requests are served one at a time. */
  name = g_strdup_printf ("snapshot-%s.tmp", dev->device_id);
  tmp = g_build_filename (recoup_server_db_get_data_dir (self->db), name, NULL);
  sql = sqlite3_mprintf ("VACUUM INTO %Q", tmp);
  g_unlink (tmp);
  seq = latest_seq (book);
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) == SQLITE_OK &&
      ((snap->fd = g_open (tmp, O_RDONLY | O_CLOEXEC, 0)) < 0 || fstat (snap->fd, &st) != 0))
    saved_errno = errno;
  sqlite3_free (sql);
  /* Gone from the directory at once; the open file lives until it is sent. */
  g_unlink (tmp);
  if (snap->fd < 0 || saved_errno != 0)
    {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "the snapshot could not be made: %s",
                  saved_errno != 0 ? g_strerror (saved_errno) : sqlite3_errmsg (db));
      snapshot_free (snap);
      return;
    }
  snap->size = st.st_size;

  g_snprintf (seqbuf, sizeof seqbuf, "%" G_GINT64_FORMAT, seq);
  headers = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (headers, RECOUP_SNAPSHOT_SEQ_HEADER, seqbuf);
  soup_message_headers_set_content_type (headers, "application/vnd.sqlite3", NULL);
  soup_message_headers_set_content_length (headers, snap->size);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  g_object_set_data_full (G_OBJECT (msg), "recoup-snapshot", snap, snapshot_free);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (snapshot_wrote_chunk_cb), snap);
  snapshot_next_chunk (msg, snap);
  snapshot_next_chunk (msg, snap);
}

static void
default_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  send_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
              "no endpoint %s (see docs/sync-protocol.md)", path);
}

RecoupServer *
recoup_server_new (const RecoupServerConfig  *config,
                   GError                   **error)
{
  g_autoptr(RecoupServer) self = g_object_new (RECOUP_TYPE_SERVER, NULL);

  if (config->cert_file == NULL || config->key_file == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "recoupd serves HTTPS only: give a certificate and key (--cert, --key or "
                   "[server] cert/key in the config file)");
      return NULL;
    }
  if (config->data_dir == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "no data directory (--data-dir or [server] data-dir)");
      return NULL;
    }
  self->config = *config;
  self->config.listen = g_strdup (config->listen);
  self->config.cert_file = g_strdup (config->cert_file);
  self->config.key_file = g_strdup (config->key_file);
  self->config.data_dir = g_strdup (config->data_dir);

  self->cert = g_tls_certificate_new_from_files (config->cert_file, config->key_file, error);
  if (self->cert == NULL)
    {
      g_prefix_error (error, "loading %s and %s: ", config->cert_file, config->key_file);
      return NULL;
    }
  self->fingerprint = recoup_tls_certificate_fingerprint (self->cert);
  if (!(self->db = recoup_server_db_open (config->data_dir, error)))
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
recoup_server_start (RecoupServer  *self,
                     guint         *out_port,
                     GError       **error)
{
  g_autoptr(GSocketAddress) addr = NULL;
  GSList *uris;

  self->soup = soup_server_new ("tls-certificate", self->cert, "server-header", "recoupd", NULL);
  soup_server_add_handler (self->soup, "/v1/enroll", enroll_cb, self, NULL);
  /* Not under /v1/enroll: a recoupd without this endpoint would redeem the
   * code of a request to any path that begins with it (see
   * read_secret_request()), instead of answering 404. */
  soup_server_add_handler (self->soup, "/v1/check-enrollment", check_enrollment_cb, self, NULL);
  soup_server_add_handler (self->soup, "/v1/changes", changes_cb, self, NULL);
  soup_server_add_early_handler (self->soup, "/v1/enroll", early_cb, self, NULL);
  soup_server_add_early_handler (self->soup, "/v1/check-enrollment", early_cb, self, NULL);
  soup_server_add_early_handler (self->soup, "/v1/changes", early_cb, self, NULL);
  soup_server_add_handler (self->soup, "/v1/snapshot", snapshot_cb, self, NULL);
  soup_server_add_handler (self->soup, NULL, default_cb, self, NULL);

  addr = g_inet_socket_address_new_from_string (self->config.listen, self->config.port);
  if (addr == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not an IP address to listen on", self->config.listen);
      return FALSE;
    }
  if (!soup_server_listen (self->soup, addr, SOUP_SERVER_LISTEN_HTTPS, error))
    return FALSE;
  uris = soup_server_get_uris (self->soup);
  if (out_port != NULL)
    *out_port = uris != NULL ? (guint) g_uri_get_port (uris->data) : 0;
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return TRUE;
}
