/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-server"

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "recoup-book-private.h"
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

static void
send_error (SoupServerMessage *msg,
            guint              status,
            const char        *code,
            const char        *format,
            ...)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, text);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, status, root);
}

/* ---- request checks ---- */

static gboolean
check_versions (SoupServerMessage *msg,
                gboolean           needs_current_schema)
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
  if (needs_current_schema && v < RECOUP_SCHEMA_VERSION)
    {
      send_error (msg, SOUP_STATUS_CONFLICT, "client_too_old",
                  "the server's books use schema %d and this client knows up to %" G_GINT64_FORMAT
                  "; update Recoup on this device to receive changes. Unsent changes stay on the device.",
                  RECOUP_SCHEMA_VERSION, v);
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
  RecoupServerDevice *dev = NULL;

  if (auth != NULL && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0)
    dev = recoup_server_db_authenticate (self->db, auth + 7);
  if (dev == NULL)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer realm=\"recoupd\"");
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

/* ---- POST /v1/enroll ---- */

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
  const char *secret;

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    {
      send_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", "use POST %s", path);
      return;
    }
  if (!check_versions (msg, FALSE) || !(root = parse_json_body (self, msg)))
    return;
  obj = json_node_get_object (root);
  secret = json_object_get_string_member_with_default (obj, "secret", NULL);
  if (secret == NULL || *secret == '\0')
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request", "“secret” (a string) is required");
      return;
    }
  dev = recoup_server_db_enroll (self->db, secret,
                                 json_object_get_string_member_with_default (obj, "device_name", "device"),
                                 &token, &error);
  if (dev == NULL)
    {
      if (g_error_matches (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT))
        send_error (msg, SOUP_STATUS_FORBIDDEN, "enrollment_used", "%s", error->message);
      else if (g_error_matches (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND))
        send_error (msg, SOUP_STATUS_FORBIDDEN, "enrollment_unknown", "%s", error->message);
      else
        send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "%s",
                    error != NULL ? error->message : "enrollment failed");
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

static gboolean
authorize (RecoupServerDevice *dev,
           JsonObject         *change,
           char              **out_message)
{
  const char *entity = json_object_get_string_member_with_default (change, "entity", "");
  JsonNode *fnode = json_object_get_member (change, "fields");
  JsonObject *fields = fnode != NULL && JSON_NODE_HOLDS_OBJECT (fnode) ? json_node_get_object (fnode) : NULL;

  if (g_str_equal (dev->role, "owner"))
    return TRUE;
  if (g_str_equal (entity, "users"))
    {
      *out_message = g_strdup_printf ("%s is a %s and may not add or edit users; ask an owner",
                                      dev->user_name, dev->role);
      return FALSE;
    }
  if (!g_str_equal (dev->role, "collector") || fields == NULL)
    return TRUE;
  if (g_str_equal (entity, "ledger_entries"))
    {
      const char *kind = json_object_get_string_member_with_default (fields, "kind", "");

      if (g_str_equal (kind, "write-off"))
        {
          *out_message = g_strdup_printf ("%s is a collector and may not write off a balance; ask an owner",
                                          dev->user_name);
          return FALSE;
        }
    }
  if (g_str_equal (entity, "offers"))
    {
      gint64 discount = json_object_get_int_member_with_default (fields, "discount_bp", 0);
      gint64 installments = json_object_get_int_member_with_default (fields, "installments", 1);

      if (discount > dev->max_discount_bp || installments > MAX (dev->max_plan_installments, 1))
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
      const char *event = json_object_get_string_member_with_default (fields, "event", "");

      if (g_str_has_prefix (event, "approve"))
        {
          *out_message = g_strdup_printf ("%s is a collector and may not approve offers", dev->user_name);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- POST /v1/changes ---- */

static void
add_result (JsonBuilder *b,
            const char  *id,
            gint64       seq,
            const char  *reason,
            const char  *message)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  if (id != NULL)
    json_builder_add_string_value (b, id);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, reason == NULL ? "accepted" : "rejected");
  if (reason == NULL)
    {
      json_builder_set_member_name (b, "seq");
      json_builder_add_int_value (b, seq);
    }
  else
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, reason);
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, message);
    }
  json_builder_end_object (b);
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
push (RecoupServer       *self,
      SoupServerMessage  *msg,
      RecoupServerDevice *dev)
{
  g_autoptr(JsonNode) root = parse_json_body (self, msg);
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *changes_node;
  JsonArray *changes;
  RecoupBook *book;
  gint64 horizon;
  guint n;

  if (root == NULL)
    return;
  changes_node = json_object_get_member (json_node_get_object (root), "changes");
  if (changes_node == NULL || !JSON_NODE_HOLDS_ARRAY (changes_node))
    {
      send_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                  "the body must be {\"changes\": [ … ]}");
      return;
    }
  changes = json_node_get_array (changes_node);
  n = json_array_get_length (changes);
  if (n > self->config.max_batch)
    {
      send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "batch_too_large",
                  "a push may carry at most %u changes; this one has %u", self->config.max_batch, n);
      return;
    }
  if (!(book = get_book (self, dev->org_id, &error)))
    {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "%s", error->message);
      return;
    }

  horizon = RECOUP_HLC_MAKE (recoup_wall_clock_ms () + self->config.max_clock_skew_ms, 0xffff);
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "results");
  json_builder_begin_array (b);
  if (!recoup_book_begin (book, &error))
    goto fail;
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (changes, i);
      RecoupMergeResult result = { 0 };
      g_autofree char *denied = NULL;
      JsonObject *change;
      const char *id;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          add_result (b, NULL, 0, RECOUP_MERGE_REASON_INVALID, "a change must be a JSON object");
          continue;
        }
      change = json_node_get_object (node);
      id = json_object_get_string_member_with_default (change, "id", NULL);
      if (json_object_has_member (change, "id") && id == NULL)
        {
          add_result (b, NULL, 0, RECOUP_MERGE_REASON_INVALID, "“id” must be a string");
          continue;
        }
      if (!authorize (dev, change, &denied))
        {
          add_result (b, id, 0, "forbidden", denied);
          continue;
        }
      if (json_object_get_int_member_with_default (change, "hlc", 0) > horizon)
        {
          add_result (b, id, 0, "clock_ahead",
                      "the change is stamped too far in the future; check the device's clock, then sync again");
          continue;
        }
      if (!recoup_merge_apply (book, change, RECOUP_MERGE_SEQ_SELF, &result, &error))
        {
          recoup_merge_result_clear (&result);
          recoup_book_rollback (book);
          goto fail;
        }
      if (result.status == RECOUP_MERGE_REJECTED)
        add_result (b, id, 0, result.reason, result.message);
      else
        add_result (b, id, result.server_seq > 0 ? result.server_seq : result.seq, NULL, NULL);
      recoup_merge_result_clear (&result);
    }
  if (!recoup_book_commit (book, &error))
    goto fail;
  json_builder_end_array (b);
  json_builder_set_member_name (b, "latest_seq");
  json_builder_add_int_value (b, latest_seq (book));
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, answer);
  return;

fail:
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
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  RecoupBook *book;
  sqlite3_stmt *stmt;
  gint64 after, limit;
  gboolean has_more;

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
  stmt = recoup_book_prepare (book, "SELECT seq FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", &error);
  if (stmt == NULL)
    {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "%s", error->message);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, after);
  sqlite3_bind_int64 (stmt, 2, limit + 1);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 seq = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (seqs, seq);
    }
  sqlite3_reset (stmt);
  has_more = seqs->len > (guint) limit;
  if (has_more)
    g_array_set_size (seqs, (guint) limit);

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "changes");
  json_builder_begin_array (b);
  for (guint i = 0; i < seqs->len; i++)
    {
      g_autoptr(JsonObject) obj = recoup_merge_change_from_row (book, g_array_index (seqs, gint64, i), &error);
      g_autoptr(JsonNode) node = NULL;

      if (obj == NULL)
        {
          send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "%s", error->message);
          return;
        }
      node = json_node_init_object (json_node_alloc (), obj);
      json_builder_add_value (b, g_steal_pointer (&node));
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "has_more");
  json_builder_add_boolean_value (b, has_more);
  json_builder_set_member_name (b, "latest_seq");
  json_builder_add_int_value (b, latest_seq (book));
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, answer);
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
  if (!check_versions (msg, !is_post) || !(dev = authenticate (self, msg)))
    return;
  if (is_post)
    push (self, msg, dev);
  else
    pull (self, msg, query, dev);
}

/* ---- GET /v1/snapshot ---- */

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
  g_autofree char *contents = NULL;
  char *sql;
  char seqbuf[32];
  RecoupBook *book;
  gsize len = 0;
  gint64 seq;
  int rc;

  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") != 0)
    {
      send_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", "use GET %s", path);
      return;
    }
  if (!check_versions (msg, TRUE) || !(dev = authenticate (self, msg)))
    return;
  if (!(book = get_book (self, dev->org_id, &error)))
    {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "%s", error->message);
      return;
    }
  name = g_strdup_printf ("snapshot-%s.tmp", dev->device_id);
  tmp = g_build_filename (recoup_server_db_get_data_dir (self->db), name, NULL);
  g_unlink (tmp);
  /* One consistent copy as of `seq`: nothing writes between (requests are serial). */
  seq = latest_seq (book);
  sql = sqlite3_mprintf ("VACUUM INTO %Q", tmp);
  rc = sqlite3_exec (recoup_book_get_db (book), sql, NULL, NULL, NULL);
  sqlite3_free (sql);
  if (rc != SQLITE_OK || !g_file_get_contents (tmp, &contents, &len, &error))
    {
      g_unlink (tmp);
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "server_error", "the snapshot could not be made: %s",
                  error != NULL ? error->message : sqlite3_errmsg (recoup_book_get_db (book)));
      return;
    }
  g_unlink (tmp);
  g_snprintf (seqbuf, sizeof seqbuf, "%" G_GINT64_FORMAT, seq);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                RECOUP_SNAPSHOT_SEQ_HEADER, seqbuf);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/vnd.sqlite3", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&contents), len);
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
  soup_server_add_handler (self->soup, "/v1/changes", changes_cb, self, NULL);
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
