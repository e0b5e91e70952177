/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-merge"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "recoup-accounts.h"
#include "recoup-book-private.h"
#include "recoup-id.h"
#include "recoup-merge-private.h"
#include "recoup-money.h"
#include "recoup-review.h"
#include "recoup-score-private.h"

/*
 * The merge: how a change made on another replica is applied to this book.
 *
 * - Idempotent by change id: a change already in `changes` is not applied again.
 * - Append-only entities (activities, ledger entries, promises, offer events,
 *   installments, imports) are inserted if absent and never updated.
 * - Every other entity is mutable: last writer wins per field by (hlc, device).
 *   The clock of a field is its field_clocks row, or else the insert that made
 *   the row. A value that loses is kept in sync_conflicts.
 * - A tombstone is a last-writer-wins write of deleted = 1.
 * - A shared setting (recoup_merge_setting_scope()) is a mutable field too:
 *   its clock is field_clocks ('settings', KEY, 'value'). Any other setting
 *   belongs to one copy of the book and is refused.
 * - The entity's columns and their types come from the table itself, so a
 *   new column or table merges without code here.
 *
 * A merged change is stored in `changes` with its original id, hlc, device and
 * user, never re-recorded as a local change.
 *
 * Changes arrive as MChange (recoup-merge-private.h): read from the wire text
 * by recoup-merge-wire.c, or from a JsonObject by the public JsonObject API.
 * Every SQL text the merge runs per change is built once per table and kept
 * in its TableInfo, so the book's statement cache finds it by pointer.
 */

/* Refusals after which a change is sent again with the next sync, in SQL
 * (and recoup_merge_reason_is_resent() for C: keep the two lists alike):
 * a newer schema (the server is updated later), a clock ahead (re-stamped),
 * and a row or parent the server does not have yet (it arrives later, from
 * this device or another, or an owner's fix lets it in). Nothing unsent is
 * dropped for these; sync-status lists them as waiting. */
#define RESENT_REASONS "('schema_too_new', 'clock_ahead', 'missing_reference', 'missing_row')"

typedef struct
{
  GPtrArray  *names;      /* column names */
  GArray     *types;      /* char: 'I' integer, 'T' text, '?' anything */
  GArray     *notnull;    /* gboolean */
  GHashTable *index;      /* name -> column index + 1 */
  gboolean    has_deleted;
  gboolean    has_account_id;
  gboolean    has_offer_id;
  gboolean    append_only;
  char       *entity;
  char       *exists_sql;
  char       *touch_sql;  /* NULL: nothing to touch */
  GPtrArray  *update_sql; /* per column, built on first use */
  GPtrArray  *value_sql;  /* per column: its value as JSON, built on first use */
  /* The last insert's columns (in the order they came) and its SQL. */
  GPtrArray  *insert_cols;
  char       *insert_sql;
} TableInfo;

static const char * const append_only_entities[] = {
  "activities", "ledger_entries", "promises", "offer_events", "installments", "imports",
  "review_items", "review_marks", NULL,
};

/* Tables that are local to each copy of a book and never sync as rows
 * ("settings" syncs key by key: see shared_settings). */
static const char * const local_tables[] = {
  "settings", "changes", "field_clocks", "sync_conflicts", "sync_rejections", "account_stats", NULL,
};

/* The keys core writes with recoup_settings_set_shared(); a key ending in '.'
 * is a prefix. Everything else in `settings` is this copy's own. Who may
 * change a key is checked where the role is known (recoupd's authorize()). */
static const struct
{
  const char         *key;
  RecoupSettingScope  scope;
  RecoupMergeStale    stale;  /* what a new value makes stale (recoup_score_signature()) */
} shared_settings[] = {
  /* the compliance guard (recoup-guard.c); the rules of the call history
   * (and the zone of a debtor whose own is unknown) decide when each
   * account's calls open again (account_stats.calls_open_at), derived again
   * by a rescore, as recoup_guard_set_rule() does locally */
  { "guard.profile",              RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_SCORES },
  { "guard.hours_start",          RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "guard.hours_end",            RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "guard.max_calls_7d",         RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_SCORES },
  { "guard.conversation_days",    RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_SCORES },
  { "guard.validation_days",      RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "guard.cease",                RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "guard.dispute",              RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "guard.flags",                RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "guard.unknown_zone",         RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "guard.business_timezone",    RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_SCORES },
  /* scoring (recoup-score.c) and the escalation policy (recoup-escalation.c) */
  { "score.weight.",              RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_SCORES },
  { "score.high",                 RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_SCORES },
  { "score.medium",               RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_SCORES },
  { "score.balance_cap",          RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_SCORES },
  { "score.revenue_cap",          RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_SCORES },
  { "escalation.policy",          RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_SCORES },
  /* promises, plans and offers (recoup-settings.h); plan grace decides which
   * installments count as missed in the gathered stats */
  { "promise.grace_days",         RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "plan.grace_days",            RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_STATS },
  { "plan.default_after_missed",  RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_STATS },
  { "offer.first_date_tolerance_days", RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  /* the business's details on letters and statements (not business.logo_path:
   * a file on one machine) */
  { "business.name",              RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "business.address",           RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "business.phone",             RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "business.email",             RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "business.payment_instructions", RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  /* the business's mail server; the password stays in each device's keyring,
   * found by URL and user name, so a new server never receives an old password */
  { "smtp.url",                   RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "smtp.security",              RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "smtp.username",              RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  { "smtp.from",                  RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  /* collection costs per month and currency (recoup-kpi.c) */
  { "costs.",                     RECOUP_SETTING_OWNER, RECOUP_MERGE_STALE_NONE },
  /* named worklist filters anyone on the team may save (recoup-worklist.c) */
  { "worklist.saved.",            RECOUP_SETTING_TEAM,  RECOUP_MERGE_STALE_NONE },
};

/* A shared value is policy text, not a document. */
#define SETTING_VALUE_MAX (64 * 1024)

static gboolean
lookup_shared_setting (const char         *key,
                       RecoupSettingScope *out_scope,
                       RecoupMergeStale   *out_stale)
{
  if (key == NULL)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (shared_settings); i++)
    {
      const char *k = shared_settings[i].key;
      gsize len = strlen (k);
      gboolean match = k[len - 1] == '.'
                       ? strncmp (key, k, len) == 0 && key[len] != '\0'
                       : strcmp (key, k) == 0;

      if (match)
        {
          *out_scope = shared_settings[i].scope;
          *out_stale = shared_settings[i].stale;
          return TRUE;
        }
    }
  return FALSE;
}

RecoupSettingScope
recoup_merge_setting_scope (const char *key)
{
  RecoupSettingScope scope;
  RecoupMergeStale stale;

  return lookup_shared_setting (key, &scope, &stale) ? scope : RECOUP_SETTING_LOCAL;
}

gboolean
recoup_merge_check_role (const char  *role,
                         const char  *user_name,
                         const char  *entity,
                         const char  *ledger_kind,
                         GError     **error)
{
  const char *who = user_name != NULL && *user_name != '\0' ? user_name : _("this user");

  if (g_strcmp0 (role, "owner") == 0)
    return TRUE;
  if (g_strcmp0 (entity, "users") == 0)
    {
      /* Translators: %s is the user's name */
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                   _("%s is not an owner and may not add or edit users; ask an owner"), who);
      return FALSE;
    }
  /* A mark would hide from the owner what they must look at (recoup-review.h). */
  if (g_strcmp0 (entity, "review_marks") == 0)
    {
      /* Translators: %s is the user's name */
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                   _("%s is not an owner and may not mark an account as reviewed; ask an owner"), who);
      return FALSE;
    }
  if (g_strcmp0 (role, "collector") == 0 && g_strcmp0 (entity, "ledger_entries") == 0 &&
      g_strcmp0 (ledger_kind, "write-off") == 0)
    {
      /* Translators: %s is the user's name */
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                   _("%s is a collector and may not write off a balance; ask an owner"), who);
      return FALSE;
    }
  return TRUE;
}

gboolean
recoup_merge_check_own_write (RecoupBook  *book,
                              const char  *entity,
                              const char  *ledger_kind,
                              GError     **error)
{
  g_autofree char *role = recoup_book_get_setting (book, "sync.role");
  g_autofree char *name = NULL;

  if (role == NULL)
    return TRUE;
  name = recoup_book_get_setting (book, "sync.user_name");
  return recoup_merge_check_role (role, name, entity, ledger_kind, error);
}

static void
table_info_free (gpointer data)
{
  TableInfo *info = data;

  g_ptr_array_unref (info->names);
  g_array_unref (info->types);
  g_array_unref (info->notnull);
  g_hash_table_unref (info->index);
  g_ptr_array_unref (info->update_sql);
  g_ptr_array_unref (info->value_sql);
  g_clear_pointer (&info->insert_cols, g_ptr_array_unref);
  g_free (info->insert_sql);
  g_free (info->entity);
  g_free (info->exists_sql);
  g_free (info->touch_sql);
  g_free (info);
}

gboolean
recoup_merge_entity_is_append_only (const char *entity)
{
  return entity != NULL && g_strv_contains (append_only_entities, entity);
}

void
recoup_merge_result_clear (RecoupMergeResult *result)
{
  g_clear_pointer (&result->reason, g_free);
  g_clear_pointer (&result->message, g_free);
  result->status = RECOUP_MERGE_APPLIED;
  result->seq = 0;
  result->server_seq = 0;
  result->stale = RECOUP_MERGE_STALE_NONE;
}

static gboolean
reject (RecoupMergeResult *result,
        const char        *reason,
        const char        *format,
        ...) G_GNUC_PRINTF (3, 4);

static gboolean
reject (RecoupMergeResult *result,
        const char        *reason,
        const char        *format,
        ...)
{
  va_list args;

  result->status = RECOUP_MERGE_REJECTED;
  g_free (result->reason);
  result->reason = g_strdup (reason);
  g_free (result->message);
  va_start (args, format);
  result->message = g_strdup_vprintf (format, args);
  va_end (args);
  return TRUE;
}

static gboolean
is_identifier (const char *s)
{
  if (s == NULL || *s == '\0' || strlen (s) > 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '_')
      return FALSE;
  return TRUE;
}

/* The entity's table as the book defines it; NULL if it is not a syncable table. */
static TableInfo *
lookup_table (RecoupBook *book,
              const char *entity)
{
  GHashTable *cache = g_object_get_data (G_OBJECT (book), "recoup-merge-tables");
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt = NULL;
  TableInfo *info;
  gboolean has_id = FALSE;

  if (cache != NULL && (info = g_hash_table_lookup (cache, entity)) != NULL)
    return info;
  if (!is_identifier (entity) || g_strv_contains (local_tables, entity) ||
      g_str_has_prefix (entity, "sqlite_"))
    return NULL;

  if (cache == NULL)
    {
      cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, table_info_free);
      g_object_set_data_full (G_OBJECT (book), "recoup-merge-tables", cache,
                              (GDestroyNotify) g_hash_table_unref);
    }

  sql = g_strdup_printf ("PRAGMA table_info (%s)", entity);
  if (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &stmt, NULL) != SQLITE_OK)
    return NULL;
  info = g_new0 (TableInfo, 1);
  info->names = g_ptr_array_new_with_free_func (g_free);
  info->types = g_array_new (FALSE, FALSE, sizeof (char));
  info->notnull = g_array_new (FALSE, FALSE, sizeof (gboolean));
  info->index = g_hash_table_new (g_str_hash, g_str_equal);
  info->update_sql = g_ptr_array_new_with_free_func (g_free);
  info->value_sql = g_ptr_array_new_with_free_func (g_free);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *name = RECOUP_BOOK_STMT_TEXT (stmt, 1);
      g_autofree char *type = g_ascii_strup (RECOUP_BOOK_STMT_TEXT (stmt, 2) ?: "", -1);
      gboolean notnull = sqlite3_column_int (stmt, 3) != 0;
      char t = '?';

      if (strstr (type, "INT") != NULL)
        t = 'I';
      else if (strstr (type, "TEXT") != NULL || strstr (type, "CHAR") != NULL)
        t = 'T';
      g_ptr_array_add (info->names, g_strdup (name));
      g_array_append_val (info->types, t);
      g_array_append_val (info->notnull, notnull);
      g_ptr_array_add (info->update_sql, NULL);
      g_ptr_array_add (info->value_sql, NULL);
      has_id |= g_str_equal (name, "id");
      info->has_deleted |= g_str_equal (name, "deleted");
      info->has_account_id |= g_str_equal (name, "account_id");
      info->has_offer_id |= g_str_equal (name, "offer_id");
    }
  sqlite3_finalize (stmt);
  if (!has_id)
    {
      table_info_free (info);
      return NULL;
    }
  for (guint i = 0; i < info->names->len; i++)
    g_hash_table_insert (info->index, info->names->pdata[i], GUINT_TO_POINTER (i + 1));
  info->entity = g_strdup (entity);
  info->append_only = recoup_merge_entity_is_append_only (entity);
  info->exists_sql = g_strdup_printf ("SELECT 1 FROM %s WHERE id = ?", entity);
  if (info->has_account_id)
    info->touch_sql = g_strdup_printf ("SELECT account_id FROM %s WHERE id = ?", entity);
  else if (info->has_offer_id)
    info->touch_sql = g_strdup_printf ("SELECT o.account_id FROM %s x JOIN offers o ON o.id = x.offer_id"
                                       " WHERE x.id = ?", entity);
  g_hash_table_insert (cache, g_strdup (entity), info);
  return info;
}

static int
column_index (TableInfo  *info,
              const char *name)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (info->index, name)) - 1;
}

/* Checks a value against the column's type. */
static gboolean
value_fits (TableInfo    *info,
            int           col,
            const MValue *v)
{
  char type = g_array_index (info->types, char, col);

  if (v->kind == MV_NULL)
    return !g_array_index (info->notnull, gboolean, col);
  switch (type)
    {
    case 'I':
      return v->kind == MV_INT || v->kind == MV_BOOL;
    case 'T':
      return v->kind == MV_STRING;
    default:
      return v->kind == MV_INT || v->kind == MV_STRING || v->kind == MV_BOOL;
    }
}

static void
bind_value (sqlite3_stmt *stmt,
            int           index,
            const MValue *v)
{
  switch (v->kind)
    {
    case MV_INT:
      sqlite3_bind_int64 (stmt, index, v->i);
      break;
    case MV_BOOL:
      sqlite3_bind_int (stmt, index, v->i ? 1 : 0);
      break;
    case MV_STRING:
      /* The batch outlives the step; the statement is reset after it. */
      sqlite3_bind_text (stmt, index, v->s, -1, SQLITE_STATIC);
      break;
    default:
      sqlite3_bind_null (stmt, index);
      break;
    }
}

static char *
value_to_json (const MValue *v)
{
  GString *out = g_string_new (NULL);

  recoup_json_append_value (out, v);
  return g_string_free (out, FALSE);
}

/* The value of one column of a row, as JSON text (for the conflict log). */
static char *
column_as_json (RecoupBook *book,
                TableInfo  *info,
                int         col,
                const char *entity_id)
{
  sqlite3_stmt *stmt;
  char *value = NULL;

  if (info->value_sql->pdata[col] == NULL)
    info->value_sql->pdata[col] = g_strdup_printf ("SELECT json_quote(%s) FROM %s WHERE id = ?",
                                                   (const char *) info->names->pdata[col], info->entity);
  if (!(stmt = recoup_book_prepare (book, info->value_sql->pdata[col], NULL)))
    return NULL;
  sqlite3_bind_text (stmt, 1, entity_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  return value;
}

static gboolean
row_exists (RecoupBook  *book,
            TableInfo   *info,
            const char  *entity_id,
            gboolean    *out_exists,
            GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, info->exists_sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (book, error);
  *out_exists = rc == SQLITE_ROW;
  return TRUE;
}

/* The clock of one field: its field_clocks row, else the insert that made the row. */
static gboolean
field_clock (RecoupBook  *book,
             const char  *entity,
             const char  *entity_id,
             const char  *field,
             gint64      *out_hlc,
             char       **out_device,
             GError     **error)
{
  sqlite3_stmt *stmt;

  stmt = recoup_book_prepare (book,
                              "SELECT hlc, device_id FROM field_clocks"
                              " WHERE entity = ? AND entity_id = ? AND field = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, field, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      *out_hlc = sqlite3_column_int64 (stmt, 0);
      *out_device = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      sqlite3_reset (stmt);
      return TRUE;
    }
  sqlite3_reset (stmt);

  stmt = recoup_book_prepare (book,
                              "SELECT hlc, device_id FROM changes WHERE entity_id = ? AND entity = ?"
                              " AND op = 'insert' ORDER BY hlc DESC, device_id DESC LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      *out_hlc = sqlite3_column_int64 (stmt, 0);
      *out_device = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
    }
  else
    {
      *out_hlc = 0;
      *out_device = g_strdup ("");
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/*
 * Whether @c, which wins @field, replaces a value (stamped @hlc by @device)
 * that its writer had not seen: an edit made on another device that loses
 * to @c without anyone having chosen to replace it, which the conflict log
 * keeps. A value the writer had seen and changed is no conflict. Known when
 *
 * - the value is this device's own and not sent yet;
 * - the value is this device's own, and @c reached the server before it did
 *   (@c's @server_seq is lower): @c's writer cannot have had it;
 * - the writer, when it pushed @c, had received the server's changes only up
 *   to a sequence below that change's (its "cursor"; the server knows);
 * - the server said so when it sent @c ("overwrote_unseen"): it found one of
 *   the above when @c reached it.
 *
 * The sequence pushes run before pulls, so the losing device has always sent
 * its value by the time the winner's arrives: the log cannot wait for its own
 * unsent value alone. A device never loses to itself.
 */
static gboolean
replaces_unseen (RecoupBook    *book,
                 const MChange *c,
                 gint64         server_seq,
                 const char    *entity,
                 const char    *entity_id,
                 const char    *field,
                 gint64         hlc,
                 const char    *device)
{
  gboolean own = g_strcmp0 (device, recoup_book_get_device_id (book)) == 0;
  /* Only edits: two inserts of one row (a row every replica derives alike)
   * are the same record written twice. */
  gboolean by_cursor = c->cursor.kind == MV_INT && g_strcmp0 (c->op.s, "insert") != 0;
  gboolean sent = FALSE;
  gint64 seq = 0;
  sqlite3_stmt *stmt;

  if (g_strcmp0 (device, c->device_id.s) == 0)
    return FALSE;
  for (guint i = 0; i < c->n_overwrote; i++)
    if (g_str_equal (c->overwrote[i], field))
      return TRUE;
  /* Another device's value, on a device that pulls in the server's order:
   * only the server can tell, and it said nothing. */
  if (!own && !by_cursor)
    return FALSE;
  stmt = recoup_book_prepare (book,
                              "SELECT server_seq FROM changes WHERE entity_id = ? AND entity = ? AND hlc = ?"
                              " AND device_id = ? ORDER BY server_seq IS NULL LIMIT 1", NULL);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, hlc);
  sqlite3_bind_text (stmt, 4, device, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      sent = sqlite3_column_type (stmt, 0) != SQLITE_NULL;
      seq = sqlite3_column_int64 (stmt, 0);
      if (!sent && own)
        {
          sqlite3_reset (stmt);
          return TRUE;
        }
    }
  sqlite3_reset (stmt);
  if (!sent)
    return FALSE;
  if (own && server_seq > 0 && seq > server_seq)
    return TRUE;
  return by_cursor && seq > c->cursor.i;
}

static gboolean
log_conflict (RecoupBook  *book,
              const char  *entity,
              const char  *entity_id,
              const char  *field,
              const char  *value_json,
              gint64       hlc,
              const char  *device,
              gint64       winner_hlc,
              const char  *winner_device,
              const char  *change_id,
              GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "INSERT INTO sync_conflicts (entity, entity_id, field, value, hlc, device_id,"
    " winner_hlc, winner_device_id, change_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, field, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, value_json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, hlc);
  sqlite3_bind_text (stmt, 6, device, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, winner_hlc);
  sqlite3_bind_text (stmt, 8, winner_device, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, change_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 10, recoup_wall_clock_ms ());
  return recoup_book_step_done (book, stmt, error);
}

static gboolean
set_field_clock (RecoupBook  *book,
                 const char  *entity,
                 const char  *entity_id,
                 const char  *field,
                 gint64       hlc,
                 const char  *device,
                 GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "INSERT INTO field_clocks (entity, entity_id, field, hlc, device_id) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, field, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, hlc);
  sqlite3_bind_text (stmt, 5, device, -1, SQLITE_STATIC);
  return recoup_book_step_done (book, stmt, error);
}

/* Runs a write; a constraint failure becomes a rejection, anything else an error. */
static gboolean
step_write (RecoupBook         *book,
            sqlite3_stmt       *stmt,
            RecoupMergeResult  *result,
            const char         *what,
            GError            **error)
{
  int rc = sqlite3_step (stmt);
  int ext = sqlite3_extended_errcode (recoup_book_get_db (book));

  if (rc == SQLITE_DONE || rc == SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return TRUE;
    }
  if ((rc & 0xff) == SQLITE_CONSTRAINT || (ext & 0xff) == SQLITE_CONSTRAINT)
    {
      const char *msg = sqlite3_errmsg (recoup_book_get_db (book));

      if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        reject (result, RECOUP_MERGE_REASON_MISSING_REF,
                "%s: it refers to a row this book does not have yet (%s)", what, msg);
      else
        reject (result, RECOUP_MERGE_REASON_CONSTRAINT, "%s: %s", what, msg);
      sqlite3_reset (stmt);
      return TRUE;
    }
  recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return FALSE;
}

/* The INSERT for these columns in this order: the last one is kept, so a
 * batch of rows with the same columns builds it once. */
static const char *
insert_sql (TableInfo     *info,
            const MChange *c)
{
  GString *sql, *values;
  guint n = 0;

  if (info->insert_cols != NULL && info->insert_cols->len == c->n_fields)
    {
      guint i;

      for (i = 0; i < c->n_fields; i++)
        if (strcmp (info->insert_cols->pdata[i], c->fields[i].name) != 0)
          break;
      if (i == c->n_fields)
        return info->insert_sql;
    }
  g_clear_pointer (&info->insert_cols, g_ptr_array_unref);
  g_clear_pointer (&info->insert_sql, g_free);
  info->insert_cols = g_ptr_array_new_with_free_func (g_free);
  sql = g_string_new (NULL);
  values = g_string_new (NULL);
  g_string_append_printf (sql, "INSERT INTO %s (id", info->entity);
  g_string_append (values, "?1");
  n = 1;
  for (guint i = 0; i < c->n_fields; i++)
    {
      g_ptr_array_add (info->insert_cols, g_strdup (c->fields[i].name));
      if (strcmp (c->fields[i].name, "id") == 0)
        continue;
      g_string_append_printf (sql, ", %s", c->fields[i].name);
      g_string_append_printf (values, ", ?%u", ++n);
    }
  g_string_append_printf (sql, ") VALUES (%s)", values->str);
  g_string_free (values, TRUE);
  info->insert_sql = g_string_free (sql, FALSE);
  return info->insert_sql;
}

/* The index of @c's field @name when it is of @kind, else -1. */
static int
field_index (const MChange *c,
             const char    *name,
             MValueKind     kind)
{
  for (guint i = 0; i < c->n_fields; i++)
    if (strcmp (c->fields[i].name, name) == 0 && c->fields[i].v.kind == kind)
      return (int) i;
  return -1;
}

/* The value of @c's field @name when it is of @kind, else NULL. */
static const MValue *
field_of (const MChange *c,
          const char    *name,
          MValueKind     kind)
{
  int i = field_index (c, name, kind);

  return i >= 0 ? &c->fields[i].v : NULL;
}

/* @c with the string field at @at set to @value, in @copy: its fields are a
 * copy the caller frees (the return value), the rest is @c's. */
static MField *
with_string_field (const MChange *c,
                   guint          at,
                   const char    *value,
                   MChange       *copy)
{
  MField *fields = g_memdup2 (c->fields, sizeof (MField) * c->n_fields);

  fields[at].v.s = value;
  *copy = *c;
  copy->fields = fields;
  return fields;
}

/* Ends the savepoint a write of a change began: kept when the write went
 * well (@ok) and was not refused, else rolled back. Returns @ok, or whether
 * the commit went well. */
static gboolean
end_savepoint (RecoupBook               *book,
               gboolean                  ok,
               const RecoupMergeResult  *result,
               GError                  **error)
{
  if (!ok || result->status == RECOUP_MERGE_REJECTED)
    {
      recoup_book_rollback (book);
      return ok;
    }
  return recoup_book_commit (book, error);
}

/* Whether the book holds what @c inserts under another id already, the same
 * record written twice:
 * - a reversal of a ledger entry that this book has already reversed (an
 *   entry is reversed once, whatever row says so). Copies written by a Recoup
 *   before reconcile wrote the same row everywhere
 *   (recoup_offer_reconcile_account()) each reversed an extra settlement
 *   discount under an id of their own;
 * - an installment of an offer at a place in its schedule this book has: two
 *   copies that accepted one offer offline each wrote its schedule (under
 *   ids of their own before those ids were derived from the offer).
 * The second row is taken as applied instead of refused, which stopped every
 * pull at it. */
static gboolean
row_already_there (RecoupBook     *book,
                   TableInfo      *info,
                   const MChange  *c,
                   gboolean       *out_already,
                   GError        **error)
{
  const MValue *reverses = NULL, *offer = NULL, *seq = NULL;
  sqlite3_stmt *stmt = NULL;

  *out_already = FALSE;
  if (g_str_equal (info->entity, "ledger_entries") && (reverses = field_of (c, "reverses_id", MV_STRING)) != NULL)
    {
      if (!(stmt = recoup_book_prepare (book, "SELECT 1 FROM ledger_entries WHERE reverses_id = ?1", error)))
        return FALSE;
      sqlite3_bind_text (stmt, 1, reverses->s, -1, SQLITE_STATIC);
    }
  else if (g_str_equal (info->entity, "installments") &&
           (offer = field_of (c, "offer_id", MV_STRING)) != NULL &&
           (seq = field_of (c, "seq", MV_INT)) != NULL)
    {
      if (!(stmt = recoup_book_prepare (book, "SELECT 1 FROM installments WHERE offer_id = ?1 AND seq = ?2",
                                        error)))
        return FALSE;
      sqlite3_bind_text (stmt, 1, offer->s, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, seq->i);
    }
  if (stmt == NULL)
    return TRUE;
  *out_already = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
insert_row (RecoupBook         *book,
            TableInfo          *info,
            const char         *entity_id,
            const MChange      *c,
            RecoupMergeResult  *result,
            GError            **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean already;
  int n = 1;

  if (!row_already_there (book, info, c, &already, error))
    return FALSE;
  if (already)
    return TRUE;
  /* Field names were checked against the table's columns (validate()). */
  if (!(stmt = recoup_book_prepare (book, insert_sql (info, c), error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity_id, -1, SQLITE_STATIC);
  for (guint i = 0; i < c->n_fields; i++)
    {
      if (strcmp (c->fields[i].name, "id") == 0)
        continue;
      bind_value (stmt, ++n, &c->fields[i].v);
    }
  return step_write (book, stmt, result, "inserting the row", error);
}

/* On the server, before a contact point that is opted out takes another
 * number or address: a device changed it without having seen the opt-out.
 * The opt-out stays with the value it was given for, on a removed point of
 * its own (recoup_contact_keep_opted_out_value()), which the server writes
 * as a change of its own so every device gets it. Devices record that point
 * with the opt-out itself; this is for an opt-out recorded before they did. */
static gboolean
keep_opt_out_of_old_value (RecoupBook    *book,
                           const char    *contact_id,
                           const MValue  *value,
                           GError       **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT kind, value FROM contact_points WHERE id = ?1 AND opted_out = 1", error);
  g_autofree char *old_key = NULL;
  g_autofree char *new_key = NULL;
  RecoupContactKind kind = RECOUP_CONTACT_ADDRESS;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, contact_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && value->kind == MV_STRING)
    {
      recoup_contact_kind_from_string (RECOUP_BOOK_STMT_TEXT (stmt, 0), &kind);
      old_key = recoup_contact_value_key (kind, RECOUP_BOOK_STMT_TEXT (stmt, 1));
      new_key = recoup_contact_value_key (kind, value->s);
    }
  sqlite3_reset (stmt);
  if (old_key == NULL || g_str_equal (old_key, new_key))
    return TRUE;
  return recoup_contact_keep_opted_out_value (book, contact_id, error);
}

static int
compare_fields (gconstpointer a,
                gconstpointer b)
{
  return strcmp (((const MField *) a)->name, ((const MField *) b)->name);
}

/* Last writer wins per field. Writes the fields @c wins (of @in_fields: its
 * own, or a tombstone's "deleted"), in the order of their names. */
static gboolean
merge_fields (RecoupBook         *book,
              TableInfo          *info,
              const char         *entity_id,
              const MField       *in_fields,
              guint               n_fields,
              const MChange      *c,
              gint64              server_seq,
              RecoupMergeResult  *result,
              GError            **error)
{
  const char *entity = info->entity;
  gint64 hlc = c->hlc.i;
  const char *device = c->device_id.s;
  const char *change_id = c->id.s;
  g_autofree MField *fields = g_memdup2 (in_fields, sizeof (MField) * n_fields);

  qsort (fields, n_fields, sizeof (MField), compare_fields);
  for (guint i = 0; i < n_fields; i++)
    {
      const char *field = fields[i].name;
      const MValue *value = &fields[i].v;
      int col = column_index (info, field);
      g_autofree char *cur_device = NULL;
      gint64 cur_hlc = 0;
      sqlite3_stmt *stmt;

      if (g_str_equal (field, "id") || col < 0)
        continue;
      if (!field_clock (book, entity, entity_id, field, &cur_hlc, &cur_device, error))
        return FALSE;

      if (recoup_hlc_compare (hlc, device, cur_hlc, cur_device) <= 0)
        {
          /* This change loses: keep its value where the user can see it. */
          g_autofree char *incoming = value_to_json (value);
          g_autofree char *current = column_as_json (book, info, col, entity_id);

          if (g_strcmp0 (incoming, current) != 0 &&
              !log_conflict (book, entity, entity_id, field, incoming, hlc, device,
                             cur_hlc, cur_device, change_id, error))
            return FALSE;
          continue;
        }

      if (replaces_unseen (book, c, server_seq, entity, entity_id, field, cur_hlc, cur_device))
        {
          /* A concurrent write replaces one its writer had not seen: keep
           * that one in the log. */
          g_autofree char *incoming = value_to_json (value);
          g_autofree char *current = column_as_json (book, info, col, entity_id);

          if (g_strcmp0 (incoming, current) != 0 &&
              !log_conflict (book, entity, entity_id, field, current, cur_hlc, cur_device,
                             hlc, device, change_id, error))
            return FALSE;
        }

      if (server_seq == RECOUP_MERGE_SEQ_SELF && g_str_equal (field, "value") &&
          g_str_equal (entity, "contact_points") &&
          !keep_opt_out_of_old_value (book, entity_id, value, error))
        return FALSE;

      if (info->update_sql->pdata[col] == NULL)
        info->update_sql->pdata[col] = g_strdup_printf ("UPDATE %s SET %s = ? WHERE id = ?", entity, field);
      if (!(stmt = recoup_book_prepare (book, info->update_sql->pdata[col], error)))
        return FALSE;
      bind_value (stmt, 1, value);
      sqlite3_bind_text (stmt, 2, entity_id, -1, SQLITE_STATIC);
      if (!step_write (book, stmt, result, field, error))
        return FALSE;
      if (result->status == RECOUP_MERGE_REJECTED)
        return TRUE;
      if (!set_field_clock (book, entity, entity_id, field, hlc, device, error))
        return FALSE;
    }
  return TRUE;
}

static void
touch_for (RecoupBook    *book,
           TableInfo     *info,
           const MChange *c,
           const char    *entity_id,
           gboolean       inserted)
{
  sqlite3_stmt *stmt;

  if (g_str_equal (info->entity, "accounts"))
    {
      recoup_book_touch_account (book, entity_id);
      return;
    }
  if (info->touch_sql == NULL)
    return;
  /* A row this change just inserted holds the account it names: no need to
   * read it back. */
  if (inserted && info->has_account_id)
    {
      for (guint i = 0; i < c->n_fields; i++)
        if (g_str_equal (c->fields[i].name, "account_id"))
          {
            if (c->fields[i].v.kind == MV_STRING)
              recoup_book_touch_account (book, c->fields[i].v.s);
            return;
          }
    }
  if (!(stmt = recoup_book_prepare (book, info->touch_sql, NULL)))
    return;
  sqlite3_bind_text (stmt, 1, entity_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    recoup_book_touch_account (book, RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
}

static gboolean
store_change (RecoupBook         *book,
              const MChange      *c,
              gint64              server_seq,
              RecoupMergeResult  *result,
              GError            **error)
{
  g_autofree char *fields_text = NULL;
  /* On the server a change's sequence is its seq: the rowid SQLite picks for
   * an INTEGER PRIMARY KEY is max(seq) + 1, so it is stored with it. */
  sqlite3_stmt *stmt = recoup_book_prepare (book, server_seq == RECOUP_MERGE_SEQ_SELF
    ? "INSERT INTO changes (seq, id, hlc, device_id, user_id, entity, entity_id, op, fields,"
      " schema_version, server_seq) VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM changes),"
      " ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, (SELECT coalesce(max(seq), 0) + 1 FROM changes))"
    : "INSERT INTO changes (id, hlc, device_id, user_id, entity, entity_id, op, fields,"
      " schema_version, server_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", error);
  gint64 seq;

  if (stmt == NULL)
    return FALSE;
  if (c->fields_kind == MV_OBJECT)
    fields_text = recoup_merge_fields_to_json (c);
  sqlite3_bind_text (stmt, 1, c->id.s, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, c->hlc.i);
  sqlite3_bind_text (stmt, 3, c->device_id.s, -1, SQLITE_STATIC);
  if (c->user_id.kind == MV_STRING)
    sqlite3_bind_text (stmt, 4, c->user_id.s, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, c->entity.s, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, c->entity_id.s, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, c->op.s, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, fields_text, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 9, c->schema_version.i);
  if (server_seq > 0)
    sqlite3_bind_int64 (stmt, 10, server_seq);
  if (!recoup_book_step_done (book, stmt, error))
    return FALSE;
  seq = sqlite3_last_insert_rowid (recoup_book_get_db (book));
  if (server_seq == RECOUP_MERGE_SEQ_SELF)
    server_seq = seq;
  result->seq = seq;
  result->server_seq = server_seq > 0 ? server_seq : 0;
  return TRUE;
}

/* The synced columns that hold money, in minor units. */
static gboolean
is_money_column (const char *entity,
                 const char *field)
{
  static const struct { const char *entity, *field; } money[] = {
    { "accounts", "lifetime_revenue" },
    { "invoices", "amount" },
    { "ledger_entries", "amount" },
    { "promises", "amount" },
    { "offers", "balance_at_offer" },
    { "offers", "total" },
    { "offers", "waived_amount" },
    { "installments", "amount" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (money); i++)
    if (g_str_equal (money[i].entity, entity) && g_str_equal (money[i].field, field))
      return TRUE;
  return FALSE;
}

/* Validates a change of a setting: a shared key, set to a string. */
static gboolean
validate_setting (const MChange      *c,
                  RecoupMergeResult  *result)
{
  const char *id = c->id.s;
  const char *key = c->entity_id.s;
  const char *op = c->op.kind == MV_STRING ? c->op.s : NULL;
  const MValue *field_key = NULL, *value = NULL;
  RecoupSettingScope scope;
  RecoupMergeStale stale;

  if (!lookup_shared_setting (key, &scope, &stale))
    return reject (result, RECOUP_MERGE_REASON_NOT_SHARED,
                   "change %s: the setting “%s” belongs to each copy of the book and is never "
                   "taken from another device", id, key);
  if (g_strcmp0 (op, "set") != 0)
    return reject (result, RECOUP_MERGE_REASON_UNSUPPORTED_OP,
                   "change %s: a shared setting is only ever set, not “%s”", id, op != NULL ? op : "");
  if (c->fields_kind != MV_OBJECT)
    return reject (result, RECOUP_MERGE_REASON_INVALID, "change %s: “fields” must be an object", id);
  for (guint i = 0; i < c->n_fields; i++)
    {
      if (g_str_equal (c->fields[i].name, "key"))
        field_key = &c->fields[i].v;
      else if (g_str_equal (c->fields[i].name, "value"))
        value = &c->fields[i].v;
      else
        return reject (result, RECOUP_MERGE_REASON_UNKNOWN_FIELD,
                       "change %s: a setting has no field “%s” (only key and value)", id, c->fields[i].name);
    }
  if (field_key == NULL || field_key->kind != MV_STRING || !g_str_equal (field_key->s, key))
    return reject (result, RECOUP_MERGE_REASON_INVALID,
                   "change %s: fields.key must be the setting's key “%s” (its entity_id)", id, key);
  if (value == NULL || value->kind != MV_STRING)
    return reject (result, RECOUP_MERGE_REASON_WRONG_TYPE,
                   "change %s: the value of the setting “%s” must be a string", id, key);
  if (strlen (value->s) > SETTING_VALUE_MAX)
    return reject (result, RECOUP_MERGE_REASON_INVALID,
                   "change %s: the value of the setting “%s” is longer than %d bytes", id, key,
                   SETTING_VALUE_MAX);
  return TRUE;
}

/* Validates the change without touching the book's rows. */
static gboolean
validate (RecoupBook         *book,
          const MChange      *c,
          TableInfo         **out_info,
          RecoupMergeResult  *result)
{
  const char *id = c->id.kind == MV_STRING ? c->id.s : NULL;
  const char *device = c->device_id.kind == MV_STRING ? c->device_id.s : NULL;
  const char *entity = c->entity.kind == MV_STRING ? c->entity.s : NULL;
  const char *entity_id = c->entity_id.kind == MV_STRING ? c->entity_id.s : NULL;
  const char *op = c->op.kind == MV_STRING ? c->op.s : NULL;
  gint64 schema;
  TableInfo *info;

  if (id == NULL || !recoup_uuid_is_valid (id))
    return reject (result, RECOUP_MERGE_REASON_INVALID, "the change has no valid “id” (a UUID)");
  if (c->hlc.kind != MV_INT || c->hlc.i <= 0)
    return reject (result, RECOUP_MERGE_REASON_INVALID,
                   "change %s: “hlc” must be a positive integer", id);
  if (device == NULL || *device == '\0')
    return reject (result, RECOUP_MERGE_REASON_INVALID, "change %s: “device_id” is missing", id);
  if (c->user_id.kind != MV_ABSENT && c->user_id.kind != MV_NULL && c->user_id.kind != MV_STRING)
    return reject (result, RECOUP_MERGE_REASON_WRONG_TYPE,
                   "change %s: “user_id” must be a string or null", id);
  if (c->schema_version.kind != MV_INT || c->schema_version.i < 1)
    return reject (result, RECOUP_MERGE_REASON_INVALID,
                   "change %s: “schema_version” must be a positive integer", id);
  schema = c->schema_version.i;
  if (schema > RECOUP_SYNC_SCHEMA_VERSION)
    return reject (result, RECOUP_MERGE_REASON_SCHEMA_TOO_NEW,
                   /* Said by whoever received it: on a push, the server. */
                   "change %s needs a Recoup that knows sync schema %" G_GINT64_FORMAT
                   ", and the one that received it knows up to %d (a server runs an older"
                   " Recoup than this device: ask its admin to update it); the change stays"
                   " queued and is sent again until then",
                   id, schema, RECOUP_SYNC_SCHEMA_VERSION);
  if (entity == NULL || entity_id == NULL || *entity_id == '\0')
    return reject (result, RECOUP_MERGE_REASON_INVALID,
                   "change %s: “entity” and “entity_id” must be strings", id);
  if (g_str_equal (entity, "settings"))
    {
      *out_info = NULL;
      return validate_setting (c, result);
    }
  if ((info = lookup_table (book, entity)) == NULL)
    return reject (result, RECOUP_MERGE_REASON_UNKNOWN_ENTITY,
                   "change %s: unknown entity “%s”", id, entity);
  if (op == NULL)
    return reject (result, RECOUP_MERGE_REASON_INVALID, "change %s: “op” is missing", id);
  if (g_str_equal (op, "transition"))
    return reject (result, RECOUP_MERGE_REASON_UNSUPPORTED_OP,
                   "change %s: state transitions are not merged by this version", id);
  if (!g_str_equal (op, "insert") && !g_str_equal (op, "set") && !g_str_equal (op, "tombstone"))
    return reject (result, RECOUP_MERGE_REASON_INVALID, "change %s: unknown op “%s”", id, op);

  if (g_str_equal (op, "tombstone"))
    {
      if (!info->has_deleted)
        return reject (result, RECOUP_MERGE_REASON_UNSUPPORTED_OP,
                       "change %s: %s rows cannot be deleted (they are closed instead)", id, entity);
    }
  else
    {
      if (c->fields_kind != MV_OBJECT)
        return reject (result, RECOUP_MERGE_REASON_INVALID,
                       "change %s: “fields” must be an object", id);
      if (c->n_fields == 0)
        return reject (result, RECOUP_MERGE_REASON_INVALID, "change %s: “fields” is empty", id);
      for (guint i = 0; i < c->n_fields; i++)
        {
          const char *name = c->fields[i].name;
          int col = column_index (info, name);

          if (col < 0)
            return reject (result, RECOUP_MERGE_REASON_UNKNOWN_FIELD,
                           "change %s: %s has no field “%s”", id, entity, name);
          if (!value_fits (info, col, &c->fields[i].v))
            return reject (result, RECOUP_MERGE_REASON_WRONG_TYPE,
                           "change %s: %s.%s must be %s", id, entity, name,
                           g_array_index (info->types, char, col) == 'I' ? "an integer" :
                           g_array_index (info->types, char, col) == 'T' ? "a string" : "a value");
          /* Every device refuses amounts past the limit where they are
           * entered; one that arrives anyway (an older or a broken client) is
           * refused here too, so no balance can wrap. */
          if (c->fields[i].v.kind == MV_INT && is_money_column (entity, name) &&
              (c->fields[i].v.i > RECOUP_MONEY_LIMIT || c->fields[i].v.i < -RECOUP_MONEY_LIMIT))
            return reject (result, RECOUP_MERGE_REASON_INVALID,
                           "change %s: %s.%s is %" G_GINT64_FORMAT " minor units, beyond the "
                           "largest amount Recoup records (%" G_GINT64_FORMAT ")",
                           id, entity, name, c->fields[i].v.i, RECOUP_MONEY_LIMIT);
          if (g_str_equal (name, "id") &&
              (c->fields[i].v.kind != MV_STRING || !g_str_equal (c->fields[i].v.s, entity_id)))
            return reject (result, RECOUP_MERGE_REASON_INVALID,
                           "change %s: fields.id differs from entity_id", id);
        }
      if (g_str_equal (op, "set") && info->append_only)
        return reject (result, RECOUP_MERGE_REASON_UNSUPPORTED_OP,
                       "change %s: %s are append-only; correct them with a new row", id, entity);
    }
  *out_info = info;
  return TRUE;
}

/* merge_fields() in a savepoint when inside a caller's transaction: it may
 * write some fields and then be refused by a constraint. */
static gboolean
merge_fields_atomic (RecoupBook         *book,
                     TableInfo          *info,
                     const char         *entity_id,
                     const MField       *fields,
                     guint               n_fields,
                     const MChange      *c,
                     gint64              server_seq,
                     RecoupMergeResult  *result,
                     GError            **error)
{
  gboolean ok;

  if (!recoup_book_begin (book, error))
    return FALSE;
  ok = merge_fields (book, info, entity_id, fields, n_fields, c, server_seq, result, error);
  return end_savepoint (book, ok, result, error);
}

/*
 * Two devices offline may create accounts with the same reference. ref is
 * UNIQUE, and a refused account would take its payments and notes with it,
 * so both are kept: the account that reached the server later takes the
 * first free "REF (n)". Every replica decides alike, by the server's order.
 * The server renames the account arriving now and announces it with a change
 * of its own (announce_rename()); a device that pulls the earlier account
 * renames its own later one at once, and the server's change then sets the
 * reference the server chose.
 */

/* Another account than @account_id with @ref, or NULL. */
static gboolean
account_with_ref (RecoupBook  *book,
                  const char  *ref,
                  const char  *account_id,
                  char       **out_id,
                  GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT id FROM accounts WHERE ref = ? AND id <> ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, ref, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  *out_id = sqlite3_step (stmt) == SQLITE_ROW ? g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)) : NULL;
  sqlite3_reset (stmt);
  return TRUE;
}

/* "REF (2)", "REF (3)", … : the first no account has. */
static char *
free_ref (RecoupBook  *book,
          const char  *ref,
          GError     **error)
{
  for (guint n = 2; ; n++)
    {
      g_autofree char *candidate = g_strdup_printf ("%s (%u)", ref, n);
      g_autofree char *taken = NULL;

      if (!account_with_ref (book, candidate, "", &taken, error))
        return NULL;
      if (taken == NULL)
        return g_steal_pointer (&candidate);
    }
}

/* Whether the book's own @account_id reached the server after the change
 * arriving with @server_seq: not acknowledged yet, or acknowledged later. On
 * the server (RECOUP_MERGE_SEQ_SELF) the change arriving is always the later. */
static gboolean
own_arrived_later (RecoupBook  *book,
                   const char  *account_id,
                   gint64       server_seq,
                   gboolean    *out_later,
                   GError     **error)
{
  sqlite3_stmt *stmt;
  gint64 own = 0;

  *out_later = FALSE;
  if (server_seq <= 0)
    return TRUE;
  stmt = recoup_book_prepare (book,
    "SELECT coalesce (server_seq, 0) FROM changes WHERE entity = 'accounts' AND entity_id = ? AND op = 'insert'"
    " ORDER BY seq LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    own = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  *out_later = own == 0 || own > server_seq;
  return TRUE;
}

/* Renames the book's own account without a change: the server's change
 * with the reference it chose follows in a later pull and wins over the
 * account's insert. */
static gboolean
rename_own_account (RecoupBook  *book,
                    const char  *account_id,
                    const char  *ref,
                    GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "UPDATE accounts SET ref = ? WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, ref, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error))
    return FALSE;
  recoup_book_touch_account (book, account_id);
  return TRUE;
}

/* Inserts the account of @c; when its reference is taken, one of the two
 * is renamed (see above). @out_renamed_from and @out_kept_by are set when the
 * arriving account is renamed: its reference and the account that kept it
 * (for the caller to read once the insert is applied). The rename and the
 * insert are one savepoint. */
static gboolean
insert_account (RecoupBook         *book,
                TableInfo          *info,
                const MChange      *c,
                gint64              server_seq,
                char              **out_renamed_from,
                char              **out_kept_by,
                RecoupMergeResult  *result,
                GError            **error)
{
  g_autofree MField *fields = NULL;
  g_autofree char *other = NULL;
  g_autofree char *new_ref = NULL;
  int at = field_index (c, "ref", MV_STRING);
  const char *ref = at >= 0 ? c->fields[at].v.s : NULL;
  MChange renamed;
  gboolean own_later = FALSE;
  gboolean ok;

  if (ref != NULL && !account_with_ref (book, ref, c->entity_id.s, &other, error))
    return FALSE;
  if (other == NULL)
    return insert_row (book, info, c->entity_id.s, c, result, error);
  if (!own_arrived_later (book, other, server_seq, &own_later, error) ||
      !(new_ref = free_ref (book, ref, error)) ||
      !recoup_book_begin (book, error))
    return FALSE;
  if (own_later)
    ok = rename_own_account (book, other, new_ref, error) &&
         insert_row (book, info, c->entity_id.s, c, result, error);
  else
    {
      fields = with_string_field (c, (guint) at, new_ref, &renamed);
      ok = insert_row (book, info, c->entity_id.s, &renamed, result, error);
    }
  if (!own_later)
    {
      *out_renamed_from = g_strdup (ref);
      *out_kept_by = g_steal_pointer (&other);
    }
  return end_savepoint (book, ok, result, error);
}

/*
 * Receipt numbers are "R-<6 hex of the device id's tail>-<counter>"
 * (recoup-ledger.c): two devices whose ids end alike issue the same numbers.
 * receipt_no is UNIQUE, and a refused payment would be refused for good on
 * every copy, so both entries are kept: the later of the two (the larger id;
 * UUIDv7 ids order by when they were made) takes the number followed by the
 * tail of its own id. Every copy decides alike whichever entry reaches it
 * first, without a change of its own (ledger entries are never changed by
 * one): a book that holds the later entry already renumbers it when the
 * earlier one arrives.
 */

/* Another entry than @entry_id with @receipt, or NULL. */
static gboolean
entry_with_receipt (RecoupBook  *book,
                    const char  *receipt,
                    const char  *entry_id,
                    char       **out_id,
                    GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT id FROM ledger_entries WHERE receipt_no = ? AND id <> ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, receipt, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entry_id, -1, SQLITE_STATIC);
  *out_id = sqlite3_step (stmt) == SQLITE_ROW ? g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)) : NULL;
  sqlite3_reset (stmt);
  return TRUE;
}

/* "R-39BAF8-000007-1A2B3C": @receipt with the tail of @entry_id, six hex
 * digits, or twelve in the unlikely case that six are taken too. */
static char *
distinct_receipt (RecoupBook  *book,
                  const char  *receipt,
                  const char  *entry_id,
                  GError     **error)
{
  gsize len = strlen (entry_id);

  for (gsize digits = 6; ; digits = 12)
    {
      g_autofree char *tail = g_ascii_strup (entry_id + len - MIN (digits, len), -1);
      g_autofree char *candidate = g_strdup_printf ("%s-%s", receipt, tail);
      g_autofree char *taken = NULL;

      if (!entry_with_receipt (book, candidate, entry_id, &taken, error))
        return NULL;
      if (taken == NULL || digits == 12)
        return g_steal_pointer (&candidate);
    }
}

/* Inserts the ledger entry of @c; when its receipt number is taken, the later
 * of the two entries is renumbered (see above), in one savepoint with the
 * insert. */
static gboolean
insert_entry (RecoupBook         *book,
              TableInfo          *info,
              const MChange      *c,
              RecoupMergeResult  *result,
              GError            **error)
{
  const char *entry_id = c->entity_id.s;
  g_autofree MField *fields = NULL;
  g_autofree char *other = NULL;
  g_autofree char *number = NULL;
  int at = field_index (c, "receipt_no", MV_STRING);
  const char *receipt = at >= 0 ? c->fields[at].v.s : NULL;
  MChange renumbered;
  gboolean later;
  gboolean ok;

  if (receipt != NULL && !entry_with_receipt (book, receipt, entry_id, &other, error))
    return FALSE;
  if (other == NULL)
    return insert_row (book, info, entry_id, c, result, error);

  later = strcmp (entry_id, other) > 0;
  if (!(number = distinct_receipt (book, receipt, later ? entry_id : other, error)) ||
      !recoup_book_begin (book, error))
    return FALSE;
  if (later)
    {
      fields = with_string_field (c, (guint) at, number, &renumbered);
      ok = insert_row (book, info, entry_id, &renumbered, result, error);
    }
  else
    {
      sqlite3_stmt *stmt = recoup_book_prepare (book, "UPDATE ledger_entries SET receipt_no = ? WHERE id = ?",
                                                error);

      ok = stmt != NULL;
      if (ok)
        {
          sqlite3_bind_text (stmt, 1, number, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 2, other, -1, SQLITE_STATIC);
          ok = recoup_book_step_done (book, stmt, error) &&
               insert_row (book, info, entry_id, c, result, error);
        }
    }
  return end_savepoint (book, ok, result, error);
}

/* On the server: tells every replica the reference it gave @account_id (a
 * change of its own, which recoupd's connection numbers as it stores it,
 * recoup_server_db_open_book()) and asks the owner to look at the two
 * accounts. */
static gboolean
announce_rename (RecoupBook  *book,
                 const char  *account_id,
                 const char  *ref,
                 const char  *kept_by,
                 GError     **error)
{
  static const char * const fields[] = { "ref", NULL };
  g_autofree char *item = NULL;

  if (!recoup_book_record_change (book, "accounts", account_id, RECOUP_CHANGE_SET, fields, error))
    return FALSE;
  item = recoup_review_add_ref_clash (book, account_id, ref, kept_by, error);
  return item != NULL;
}

/* An account given to a user the team removed, below. */
static gboolean release_from_removed (RecoupBook     *book,
                                      const MChange  *c,
                                      GError        **error);

/* Applies a valid change that is not in the log yet. A rejection leaves the
 * book as it was: the only write that can be refused before the change is
 * stored is either a single statement (the insert of a new row) or runs in a
 * savepoint (merge_fields_atomic()). */
static gboolean
apply_inner (RecoupBook         *book,
             const MChange      *c,
             TableInfo          *info,
             gint64              server_seq,
             RecoupMergeResult  *result,
             GError            **error)
{
  const char *id = c->id.s;
  const char *entity = c->entity.s;
  const char *entity_id = c->entity_id.s;
  const char *op = c->op.s;
  g_autofree char *renamed_from = NULL;
  g_autofree char *kept_by = NULL;
  gboolean exists = FALSE;

  if (!row_exists (book, info, entity_id, &exists, error))
    return FALSE;

  if (g_str_equal (op, "insert"))
    {
      if (!exists)
        {
          gboolean ok;

          if (g_str_equal (entity, "accounts"))
            ok = insert_account (book, info, c, server_seq, &renamed_from, &kept_by, result, error);
          else if (g_str_equal (entity, "ledger_entries"))
            ok = insert_entry (book, info, c, result, error);
          else
            ok = insert_row (book, info, entity_id, c, result, error);
          if (!ok)
            return FALSE;
          if (result->status == RECOUP_MERGE_REJECTED)
            return TRUE;
        }
      else if (!info->append_only)
        {
          /* The row exists already (made by a concurrent insert of the same id):
           * its fields merge like a set. */
          if (!merge_fields_atomic (book, info, entity_id, c->fields, c->n_fields, c, server_seq, result,
                                    error))
            return FALSE;
          if (result->status == RECOUP_MERGE_REJECTED)
            return TRUE;
        }
    }
  else
    {
      static const MField deleted = { "deleted", { MV_INT, 1, NULL } };

      if (!exists)
        return reject (result, RECOUP_MERGE_REASON_MISSING_ROW,
                       "change %s: no %s row %s to change in this book", id, entity, entity_id);
      if (g_str_equal (op, "tombstone"))
        {
          if (!merge_fields_atomic (book, info, entity_id, &deleted, 1, c, server_seq, result, error))
            return FALSE;
        }
      else if (!merge_fields_atomic (book, info, entity_id, c->fields, c->n_fields, c, server_seq, result,
                                     error))
        return FALSE;
      if (result->status == RECOUP_MERGE_REJECTED)
        return TRUE;
    }

  if (!store_change (book, c, server_seq, result, error))
    return FALSE;
  touch_for (book, info, c, entity_id, g_str_equal (op, "insert") && !exists);
  recoup_book_observe_hlc (book, c->hlc.i);
  if (renamed_from != NULL && server_seq == RECOUP_MERGE_SEQ_SELF &&
      !announce_rename (book, entity_id, renamed_from, kept_by, error))
    return FALSE;
  if (server_seq == RECOUP_MERGE_SEQ_SELF && g_str_equal (entity, "accounts") && g_str_equal (op, "insert") &&
      !exists && !release_from_removed (book, c, error))
    return FALSE;
  result->status = RECOUP_MERGE_APPLIED;
  return TRUE;
}

/* A setting's value as JSON text (for the conflict log); NULL when it is unset. */
static char *
setting_as_json (RecoupBook *book,
                 const char *key)
{
  g_autofree char *value = recoup_book_get_setting (book, key);
  g_autoptr(JsonNode) node = NULL;

  if (value == NULL)
    return NULL;
  node = json_node_init_string (json_node_alloc (), value);
  return json_to_string (node, FALSE);
}

/* Applies a valid change of a shared setting that is not in the log yet:
 * last writer wins on the clock ('settings', KEY, 'value'), as merge_fields()
 * does for a column; nothing here can be refused half-way. */
static gboolean
apply_setting (RecoupBook         *book,
               const MChange      *c,
               gint64              server_seq,
               RecoupMergeResult  *result,
               GError            **error)
{
  const char *key = c->entity_id.s;
  const MValue *value = NULL;
  g_autofree char *incoming = NULL;
  g_autofree char *current = setting_as_json (book, key);
  g_autofree char *cur_device = NULL;
  RecoupSettingScope scope;
  RecoupMergeStale stale = RECOUP_MERGE_STALE_NONE;
  gint64 cur_hlc = 0;

  for (guint i = 0; i < c->n_fields; i++)
    if (g_str_equal (c->fields[i].name, "value"))
      value = &c->fields[i].v;
  g_assert (value != NULL && value->kind == MV_STRING);   /* validate_setting() */
  incoming = value_to_json (value);

  if (!field_clock (book, "settings", key, "value", &cur_hlc, &cur_device, error))
    return FALSE;
  if (recoup_hlc_compare (c->hlc.i, c->device_id.s, cur_hlc, cur_device) <= 0)
    {
      /* This change loses: keep its value where the user can see it. */
      if (g_strcmp0 (incoming, current) != 0 &&
          !log_conflict (book, "settings", key, "value", incoming, c->hlc.i, c->device_id.s,
                         cur_hlc, cur_device, c->id.s, error))
        return FALSE;
    }
  else
    {
      /* A concurrent write replaces one its writer had not seen: keep that
       * one in the log. */
      if (current != NULL && g_strcmp0 (incoming, current) != 0 &&
          replaces_unseen (book, c, server_seq, "settings", key, "value", cur_hlc, cur_device) &&
          !log_conflict (book, "settings", key, "value", current, cur_hlc, cur_device,
                         c->hlc.i, c->device_id.s, c->id.s, error))
        return FALSE;
      if (!recoup_book_set_setting (book, key, value->s, error) ||
          !set_field_clock (book, "settings", key, "value", c->hlc.i, c->device_id.s, error))
        return FALSE;
      if (g_strcmp0 (incoming, current) != 0)
        lookup_shared_setting (key, &scope, &stale);
    }

  if (!store_change (book, c, server_seq, result, error))
    return FALSE;
  recoup_book_observe_hlc (book, c->hlc.i);
  result->status = RECOUP_MERGE_APPLIED;
  result->stale = stale;
  return TRUE;
}

gboolean
recoup_merge_refresh_derived (RecoupBook        *book,
                              RecoupMergeStale   stale,
                              GError           **error)
{
  g_autofree char *stored = NULL;
  g_autofree char *current = NULL;

  g_return_val_if_fail (RECOUP_IS_BOOK (book), FALSE);

  if (stale == RECOUP_MERGE_STALE_NONE)
    return TRUE;
  /* A book that never computed its scores has nothing stale: its first
   * worklist computes them (recoup_score_ensure_current()). */
  stored = recoup_book_get_setting (book, "derived.signature");
  current = recoup_score_signature (book);
  if (stored == NULL || g_str_equal (stored, current))
    return TRUE;
  if (stale == RECOUP_MERGE_STALE_STATS)
    return recoup_derived_rebuild_all (book, NULL, NULL, error);
  return recoup_derived_rescore_all (book, NULL, NULL, error);
}

/* A change already in the log: report it, and record a server seq learned now. */
static gboolean
check_duplicate (RecoupBook         *book,
                 const char         *id,
                 gint64              server_seq,
                 gboolean           *out_duplicate,
                 RecoupMergeResult  *result,
                 GError            **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
                                            "SELECT seq, server_seq FROM changes WHERE id = ?", error);
  gint64 seq, known;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      *out_duplicate = FALSE;
      return TRUE;
    }
  seq = sqlite3_column_int64 (stmt, 0);
  known = sqlite3_column_int64 (stmt, 1);
  sqlite3_reset (stmt);
  *out_duplicate = TRUE;
  result->status = RECOUP_MERGE_DUPLICATE;
  result->seq = seq;
  result->server_seq = known;
  if (known == 0 && server_seq > 0)
    {
      /* Our own change came back in a pull: the server has it. */
      stmt = recoup_book_prepare (book, "UPDATE changes SET server_seq = ? WHERE seq = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, server_seq);
      sqlite3_bind_int64 (stmt, 2, seq);
      if (!recoup_book_step_done (book, stmt, error))
        return FALSE;
      result->server_seq = server_seq;
    }
  return TRUE;
}

/* Applies one change: its own transaction when none is open; inside the
 * caller's transaction it needs no savepoint of its own (see apply_inner()). */
static gboolean
apply_change (RecoupBook         *book,
              const MChange      *c,
              gint64              server_seq,
              RecoupMergeResult  *result,
              GError            **error)
{
  TableInfo *info = NULL;
  gboolean duplicate = FALSE;
  gboolean own = !recoup_book_in_transaction (book);

  recoup_merge_result_clear (result);
  if (!c->is_object)
    return reject (result, RECOUP_MERGE_REASON_INVALID, "a change must be a JSON object");
  if (!validate (book, c, &info, result) || result->status == RECOUP_MERGE_REJECTED)
    return TRUE;

  if (own && !recoup_book_begin (book, error))
    return FALSE;
  if (!check_duplicate (book, c->id.s, server_seq, &duplicate, result, error))
    goto fail;
  if (!duplicate)
    {
      /* validate() found no table for a setting: it has its own rule. */
      if (!(info != NULL ? apply_inner (book, c, info, server_seq, result, error)
                         : apply_setting (book, c, server_seq, result, error)))
        goto fail;
      if (result->status == RECOUP_MERGE_REJECTED)
        {
          if (own)
            recoup_book_rollback (book);
          return TRUE;
        }
    }
  if (!own)
    return TRUE;   /* the caller refreshes derived data once for its batch */
  if (!recoup_merge_refresh_derived (book, result->stale, error))
    goto fail;
  return recoup_book_commit (book, error);

fail:
  if (own)
    recoup_book_rollback (book);
  return FALSE;
}

static void
value_from_node (JsonNode *node,
                 MValue   *v)
{
  GType vt;

  memset (v, 0, sizeof *v);
  if (node == NULL)
    return;
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_NULL:
      v->kind = MV_NULL;
      return;
    case JSON_NODE_OBJECT:
      v->kind = MV_OBJECT;
      return;
    case JSON_NODE_ARRAY:
      v->kind = MV_ARRAY;
      return;
    case JSON_NODE_VALUE:
      vt = json_node_get_value_type (node);
      if (vt == G_TYPE_INT64)
        {
          v->kind = MV_INT;
          v->i = json_node_get_int (node);
        }
      else if (vt == G_TYPE_BOOLEAN)
        {
          v->kind = MV_BOOL;
          v->i = json_node_get_boolean (node) ? 1 : 0;
        }
      else if (vt == G_TYPE_STRING)
        {
          v->kind = MV_STRING;
          v->s = json_node_get_string (node);
        }
      else
        v->kind = MV_DOUBLE;
      return;
    default:
      return;
    }
}

/* The MChange view of a JsonObject; strings stay owned by @obj, fields go
 * to @fields and the names of "overwrote_unseen" to @overwrote. */
static void
change_from_object (JsonObject *obj,
                    MChange    *c,
                    GArray     *fields,
                    GArray     *overwrote)
{
  JsonNode *fnode = json_object_get_member (obj, "fields");
  JsonNode *onode = json_object_get_member (obj, "overwrote_unseen");

  memset (c, 0, sizeof *c);
  c->is_object = TRUE;
  value_from_node (json_object_get_member (obj, "id"), &c->id);
  value_from_node (json_object_get_member (obj, "hlc"), &c->hlc);
  value_from_node (json_object_get_member (obj, "device_id"), &c->device_id);
  value_from_node (json_object_get_member (obj, "user_id"), &c->user_id);
  value_from_node (json_object_get_member (obj, "entity"), &c->entity);
  value_from_node (json_object_get_member (obj, "entity_id"), &c->entity_id);
  value_from_node (json_object_get_member (obj, "op"), &c->op);
  value_from_node (json_object_get_member (obj, "schema_version"), &c->schema_version);
  value_from_node (json_object_get_member (obj, "seq"), &c->seq);
  value_from_node (json_object_get_member (obj, "cursor"), &c->cursor);
  if (onode != NULL && JSON_NODE_HOLDS_ARRAY (onode))
    {
      JsonArray *names = json_node_get_array (onode);

      for (guint i = 0; i < json_array_get_length (names); i++)
        {
          JsonNode *name = json_array_get_element (names, i);

          if (JSON_NODE_HOLDS_VALUE (name) && json_node_get_value_type (name) == G_TYPE_STRING)
            {
              const char *text = json_node_get_string (name);

              g_array_append_val (overwrote, text);
            }
        }
      c->n_overwrote = overwrote->len;
      c->overwrote = (const char **) (gpointer) overwrote->data;
    }
  if (fnode == NULL)
    c->fields_kind = MV_ABSENT;
  else if (JSON_NODE_HOLDS_OBJECT (fnode))
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *node;

      c->fields_kind = MV_OBJECT;
      json_object_iter_init (&iter, json_node_get_object (fnode));
      while (json_object_iter_next (&iter, &name, &node))
        {
          MField f = { name, { 0 } };

          value_from_node (node, &f.v);
          g_array_append_val (fields, f);
        }
      c->n_fields = fields->len;
      c->fields = (MField *) (gpointer) fields->data;
    }
  else
    {
      MValue v;

      value_from_node (fnode, &v);
      c->fields_kind = v.kind;
    }
}

gboolean
recoup_merge_apply (RecoupBook         *book,
                    JsonObject         *change,
                    gint64              server_seq,
                    RecoupMergeResult  *result,
                    GError            **error)
{
  g_autoptr(GArray) fields = g_array_new (FALSE, FALSE, sizeof (MField));
  g_autoptr(GArray) overwrote = g_array_new (FALSE, FALSE, sizeof (const char *));
  MChange c;

  g_return_val_if_fail (RECOUP_IS_BOOK (book), FALSE);
  g_return_val_if_fail (change != NULL && result != NULL, FALSE);

  change_from_object (change, &c, fields, overwrote);
  return apply_change (book, &c, server_seq, result, error);
}

gboolean
recoup_merge_apply_batch_item (RecoupBook         *book,
                               RecoupChangeBatch  *batch,
                               guint               index,
                               gint64              server_seq,
                               RecoupMergeResult  *result,
                               GError            **error)
{
  const MChange *c;
  MChange pushed;

  g_return_val_if_fail (RECOUP_IS_BOOK (book), FALSE);
  g_return_val_if_fail (batch != NULL && result != NULL, FALSE);

  c = recoup_change_batch_get_change (batch, index);
  /* Which edits a change overwrote unseen is the server's to find
   * (replaces_unseen()): what a pushing device says of it is not taken, or
   * it could plant lost edits that every copy would list. */
  if (server_seq == RECOUP_MERGE_SEQ_SELF && c->n_overwrote > 0)
    {
      pushed = *c;
      pushed.n_overwrote = 0;
      c = &pushed;
    }
  return apply_change (book, c, server_seq, result, error);
}

gint64
recoup_merge_get_cursor (RecoupBook *book)
{
  g_autofree char *text = recoup_book_get_setting (book, "sync.cursor");

  return text != NULL ? g_ascii_strtoll (text, NULL, 10) : 0;
}

/* The page loop of both page functions: @get gives change @i. */
typedef const MChange *(*GetChange) (gpointer  data,
                                     guint     i,
                                     MChange  *scratch,
                                     GArray   *fields,
                                     GArray   *overwrote);

static gboolean
apply_page (RecoupBook  *book,
            guint        n,
            GetChange    get,
            gpointer     data,
            gint64       cursor,
            guint       *out_applied,
            GError     **error)
{
  g_autoptr(GError) stop = NULL;
  g_autoptr(GArray) fields = g_array_new (FALSE, FALSE, sizeof (MField));
  g_autoptr(GArray) overwrote = g_array_new (FALSE, FALSE, sizeof (const char *));
  gint64 reached = recoup_merge_get_cursor (book);
  RecoupMergeStale stale = RECOUP_MERGE_STALE_NONE;
  guint applied = 0;
  char buf[32];

  if (!recoup_book_begin (book, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      MChange scratch;
      const MChange *c;
      RecoupMergeResult result = { 0 };
      gint64 seq = 0;

      g_array_set_size (fields, 0);
      g_array_set_size (overwrote, 0);
      c = get (data, i, &scratch, fields, overwrote);
      if (c == NULL || !c->is_object || c->seq.kind != MV_INT || (seq = c->seq.i) <= 0)
        {
          g_set_error (&stop, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "the server sent a change without a sequence number (item %u of the page)", i);
          break;
        }
      if (!apply_change (book, c, seq, &result, error))
        {
          recoup_merge_result_clear (&result);
          recoup_book_rollback (book);
          return FALSE;
        }
      if (result.status == RECOUP_MERGE_REJECTED)
        {
          g_set_error (&stop, RECOUP_BOOK_ERROR,
                       g_strcmp0 (result.reason, RECOUP_MERGE_REASON_SCHEMA_TOO_NEW) == 0
                         ? RECOUP_BOOK_ERROR_NEWER_SCHEMA : RECOUP_BOOK_ERROR_INVALID,
                       "cannot apply server change %" G_GINT64_FORMAT " (%s): %s", seq,
                       result.reason, result.message);
          recoup_merge_result_clear (&result);
          break;
        }
      if (result.status == RECOUP_MERGE_APPLIED)
        applied++;
      stale = MAX (stale, result.stale);
      reached = MAX (reached, seq);
      recoup_merge_result_clear (&result);
    }
  if (stop == NULL)
    reached = MAX (reached, cursor);
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, reached);
  if (!recoup_merge_refresh_derived (book, stale, error) ||
      !recoup_book_set_setting (book, "sync.cursor", buf, error))
    {
      recoup_book_rollback (book);
      return FALSE;
    }
  if (!recoup_book_commit (book, error))
    return FALSE;   /* rolled back by the commit */
  if (out_applied != NULL)
    *out_applied = applied;
  if (stop != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&stop));
      return FALSE;
    }
  return TRUE;
}

static const MChange *
get_from_array (gpointer  data,
                guint     i,
                MChange  *scratch,
                GArray   *fields,
                GArray   *overwrote)
{
  JsonNode *node = json_array_get_element (data, i);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  change_from_object (json_node_get_object (node), scratch, fields, overwrote);
  return scratch;
}

static const MChange *
get_from_batch (gpointer  data,
                guint     i,
                MChange  *scratch,
                GArray   *fields,
                GArray   *overwrote)
{
  return recoup_change_batch_get_change (data, i);
}

gboolean
recoup_merge_apply_page (RecoupBook  *book,
                         JsonArray   *changes,
                         gint64       cursor,
                         guint       *out_applied,
                         GError     **error)
{
  return apply_page (book, json_array_get_length (changes), get_from_array, changes, cursor,
                     out_applied, error);
}

gboolean
recoup_merge_apply_page_batch (RecoupBook         *book,
                               RecoupChangeBatch  *batch,
                               gint64              cursor,
                               guint              *out_applied,
                               GError            **error)
{
  return apply_page (book, recoup_change_batch_get_length (batch), get_from_batch, batch, cursor,
                     out_applied, error);
}

static JsonObject *
change_from_stmt (sqlite3_stmt *stmt)
{
  JsonObject *obj = json_object_new ();
  const char *fields = RECOUP_BOOK_STMT_TEXT (stmt, 7);

  json_object_set_string_member (obj, "id", RECOUP_BOOK_STMT_TEXT (stmt, 0));
  json_object_set_int_member (obj, "hlc", sqlite3_column_int64 (stmt, 1));
  json_object_set_string_member (obj, "device_id", RECOUP_BOOK_STMT_TEXT (stmt, 2));
  if (sqlite3_column_type (stmt, 3) == SQLITE_NULL)
    json_object_set_null_member (obj, "user_id");
  else
    json_object_set_string_member (obj, "user_id", RECOUP_BOOK_STMT_TEXT (stmt, 3));
  json_object_set_string_member (obj, "entity", RECOUP_BOOK_STMT_TEXT (stmt, 4));
  json_object_set_string_member (obj, "entity_id", RECOUP_BOOK_STMT_TEXT (stmt, 5));
  json_object_set_string_member (obj, "op", RECOUP_BOOK_STMT_TEXT (stmt, 6));
  if (fields != NULL)
    {
      JsonNode *node = json_from_string (fields, NULL);

      if (node != NULL)
        json_object_set_member (obj, "fields", node);
      else
        json_object_set_null_member (obj, "fields");
    }
  else
    json_object_set_null_member (obj, "fields");
  json_object_set_int_member (obj, "schema_version", sqlite3_column_int64 (stmt, 8));
  if (sqlite3_column_type (stmt, 9) != SQLITE_NULL)
    json_object_set_int_member (obj, "seq", sqlite3_column_int64 (stmt, 9));
  return obj;
}

#define CHANGE_COLUMNS "id, hlc, device_id, user_id, entity, entity_id, op, fields, schema_version, server_seq"

/* An insert recorded on this book stores no fields (recoup_book_record_change()):
 * they are the row's current values, read when the change leaves the book. */
static gboolean
materialise_insert (RecoupBook  *book,
                    JsonObject  *change,
                    GError     **error)
{
  g_autofree char *json = NULL;
  JsonNode *node;

  if (!json_object_get_null_member (change, "fields") ||
      g_strcmp0 (json_object_get_string_member (change, "op"), "insert") != 0)
    return TRUE;
  json = recoup_book_row_fields (book, json_object_get_string_member (change, "entity"),
                                 json_object_get_string_member (change, "entity_id"), error);
  if (json == NULL || !(node = json_from_string (json, error)))
    return FALSE;
  json_object_set_member (change, "fields", node);
  return TRUE;
}

JsonObject *
recoup_merge_change_from_row (RecoupBook  *book,
                              gint64       seq,
                              GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT " CHANGE_COLUMNS " FROM changes WHERE seq = ?",
                                            error);
  JsonObject *obj = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, seq);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    obj = change_from_stmt (stmt);
  else
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND, "no change %" G_GINT64_FORMAT, seq);
  sqlite3_reset (stmt);
  if (obj != NULL && !materialise_insert (book, obj, error))
    g_clear_pointer (&obj, json_object_unref);
  return obj;
}

JsonArray *
recoup_merge_collect_unsent (RecoupBook  *book,
                             guint        limit,
                             GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT " CHANGE_COLUMNS " FROM changes c WHERE server_seq IS NULL AND device_id = ?"
    " AND NOT EXISTS (SELECT 1 FROM sync_rejections r WHERE r.change_id = c.id"
    "                 AND r.reason NOT IN " RESENT_REASONS ")"
    " ORDER BY seq LIMIT ?", error);
  JsonArray *array;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, limit > 0 ? limit : G_MAXINT);
  array = json_array_new ();
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      JsonObject *change = change_from_stmt (stmt);

      json_array_add_object_element (array, change);
      if (!materialise_insert (book, change, error))
        {
          sqlite3_reset (stmt);
          json_array_unref (array);
          return NULL;
        }
    }
  sqlite3_reset (stmt);
  return array;
}

gint64
recoup_merge_count_unsent (RecoupBook *book)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT count(*) FROM changes c WHERE server_seq IS NULL AND device_id = ?"
    " AND NOT EXISTS (SELECT 1 FROM sync_rejections r WHERE r.change_id = c.id"
    "                 AND r.reason NOT IN " RESENT_REASONS ")", NULL);
  gint64 n = -1;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

gint64
recoup_merge_count_unsent_by_others (RecoupBook  *book,
                                     const char  *user_id,
                                     char       **out_author,
                                     GError     **error)
{
  /* The changes still to send (as recoup_merge_count_unsent() counts them)
   * that someone else made; the author named is the first of those. */
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "WITH pending AS (SELECT c.seq, c.user_id FROM changes c WHERE c.server_seq IS NULL"
    "   AND c.device_id = ?1 AND c.user_id <> ?2"
    "   AND NOT EXISTS (SELECT 1 FROM sync_rejections r WHERE r.change_id = c.id"
    "                   AND r.reason NOT IN " RESENT_REASONS "))"
    " SELECT (SELECT count(*) FROM pending),"
    "  (SELECT coalesce (u.name, p.user_id) FROM pending p LEFT JOIN users u ON u.id = p.user_id"
    "   ORDER BY p.seq LIMIT 1)", error);
  gint64 n = -1;

  *out_author = NULL;
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, user_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      n = sqlite3_column_int64 (stmt, 0);
      *out_author = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
    }
  else
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return n;
}

/* A change of a shared setting that the server refused for good (the
 * business's policy changed on a collector's device): the setting goes back
 * to the newest value that was not refused, or to its default, so that this
 * device does not keep working by a rule the rest of the team never got. The
 * refused value stays in the log and in sync_rejections. */
static gboolean
restore_refused_setting (RecoupBook  *book,
                         const char  *change_id,
                         GError     **error)
{
  g_autofree char *key = NULL, *device = NULL, *cur_device = NULL;
  RecoupSettingScope scope;
  RecoupMergeStale stale = RECOUP_MERGE_STALE_NONE;
  gint64 hlc = 0, cur_hlc = 0;
  sqlite3_stmt *stmt;
  int rc;

  stmt = recoup_book_prepare (book, "SELECT entity_id, hlc, device_id FROM changes WHERE id = ?"
                                    " AND entity = 'settings'", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, change_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      key = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      hlc = sqlite3_column_int64 (stmt, 1);
      device = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
    }
  sqlite3_reset (stmt);
  if (key == NULL)
    return TRUE;
  /* A key that belongs to this device only was never the team's to refuse:
   * its value stays. */
  if (recoup_merge_setting_scope (key) == RECOUP_SETTING_LOCAL)
    return TRUE;
  if (!field_clock (book, "settings", key, "value", &cur_hlc, &cur_device, error))
    return FALSE;
  /* A later write replaced the refused value already. */
  if (cur_hlc != hlc || g_strcmp0 (cur_device, device) != 0)
    return TRUE;

  stmt = recoup_book_prepare (book,
    "SELECT json_extract (fields, '$.value'), hlc, device_id FROM changes c"
    " WHERE entity = 'settings' AND entity_id = ?1 AND id <> ?2 AND json_type (fields, '$.value') = 'text'"
    " AND NOT EXISTS (SELECT 1 FROM sync_rejections r WHERE r.change_id = c.id"
    "                 AND r.reason NOT IN " RESENT_REASONS ")"
    " ORDER BY hlc DESC, device_id DESC LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, change_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      g_autofree char *value = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      g_autofree char *winner = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      gint64 winner_hlc = sqlite3_column_int64 (stmt, 1);

      sqlite3_reset (stmt);
      if (!recoup_book_set_setting (book, key, value, error) ||
          !set_field_clock (book, "settings", key, "value", winner_hlc, winner, error))
        return FALSE;
    }
  else
    {
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        return recoup_book_set_sqlite_error (book, error);
      if (!(stmt = recoup_book_prepare (book, "DELETE FROM settings WHERE key = ?", error)))
        return FALSE;
      sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
      if (!recoup_book_step_done (book, stmt, error))
        return FALSE;
      if (!(stmt = recoup_book_prepare (book, "DELETE FROM field_clocks WHERE entity = 'settings'"
                                              " AND entity_id = ? AND field = 'value'", error)))
        return FALSE;
      sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
      if (!recoup_book_step_done (book, stmt, error))
        return FALSE;
    }
  lookup_shared_setting (key, &scope, &stale);
  return recoup_merge_refresh_derived (book, stale, error);
}

/**
 * recoup_merge_reason_is_resent:
 *
 * Whether a change the server refused with @reason is sent again with the
 * next sync (RESENT_REASONS), rather than kept in the book unsent.
 */
gboolean
recoup_merge_reason_is_resent (const char *reason)
{
  static const char * const resent[] = { RECOUP_MERGE_REASON_SCHEMA_TOO_NEW, "clock_ahead",
                                         RECOUP_MERGE_REASON_MISSING_REF, RECOUP_MERGE_REASON_MISSING_ROW, NULL };

  return reason != NULL && g_strv_contains (resent, reason);
}

gboolean
recoup_merge_acknowledge (RecoupBook  *book,
                          const char  *change_id,
                          gint64       server_seq,
                          const char  *reason,
                          const char  *message,
                          GError     **error)
{
  sqlite3_stmt *stmt;

  if (reason == NULL)
    {
      stmt = recoup_book_prepare (book, "UPDATE changes SET server_seq = ? WHERE id = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, server_seq);
      sqlite3_bind_text (stmt, 2, change_id, -1, SQLITE_STATIC);
      if (!recoup_book_step_done (book, stmt, error))
        return FALSE;
      stmt = recoup_book_prepare (book, "DELETE FROM sync_rejections WHERE change_id = ?", error);
    }
  else
    stmt = recoup_book_prepare (book,
                                "INSERT INTO sync_rejections (change_id, reason, message, at)"
                                " VALUES (?, ?, ?, ?) ON CONFLICT (change_id) DO UPDATE SET"
                                " reason = excluded.reason, message = excluded.message, at = excluded.at",
                                error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, change_id, -1, SQLITE_STATIC);
  if (reason != NULL)
    {
      sqlite3_bind_text (stmt, 2, reason, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, message != NULL ? message : "", -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 4, recoup_wall_clock_ms ());
    }
  if (!recoup_book_step_done (book, stmt, error))
    return FALSE;
  /* Refused for good (the others are sent again). */
  if (reason == NULL || recoup_merge_reason_is_resent (reason))
    return TRUE;
  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!restore_refused_setting (book, change_id, error))
    {
      recoup_book_rollback (book);
      return FALSE;
    }
  return recoup_book_commit (book, error);
}

JsonArray *
recoup_merge_list_conflicts (RecoupBook  *book,
                             GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT entity, entity_id, field, value, hlc, device_id, winner_hlc, winner_device_id,"
    " change_id, at FROM sync_conflicts ORDER BY id DESC", error);
  JsonArray *array;

  if (stmt == NULL)
    return NULL;
  array = json_array_new ();
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      JsonObject *obj = json_object_new ();
      JsonNode *value = json_from_string (RECOUP_BOOK_STMT_TEXT (stmt, 3), NULL);

      json_object_set_string_member (obj, "entity", RECOUP_BOOK_STMT_TEXT (stmt, 0));
      json_object_set_string_member (obj, "entity_id", RECOUP_BOOK_STMT_TEXT (stmt, 1));
      json_object_set_string_member (obj, "field", RECOUP_BOOK_STMT_TEXT (stmt, 2));
      if (value != NULL)
        json_object_set_member (obj, "value", value);
      else
        json_object_set_null_member (obj, "value");
      json_object_set_int_member (obj, "hlc", sqlite3_column_int64 (stmt, 4));
      json_object_set_string_member (obj, "device_id", RECOUP_BOOK_STMT_TEXT (stmt, 5));
      json_object_set_int_member (obj, "winner_hlc", sqlite3_column_int64 (stmt, 6));
      json_object_set_string_member (obj, "winner_device_id", RECOUP_BOOK_STMT_TEXT (stmt, 7));
      json_object_set_string_member (obj, "change_id", RECOUP_BOOK_STMT_TEXT (stmt, 8));
      json_object_set_int_member (obj, "at", sqlite3_column_int64 (stmt, 9));
      json_array_add_object_element (array, obj);
    }
  sqlite3_reset (stmt);
  return array;
}

JsonArray *
recoup_merge_list_rejections (RecoupBook  *book,
                              GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT change_id, reason, message, at FROM sync_rejections ORDER BY at DESC", error);
  JsonArray *array;

  if (stmt == NULL)
    return NULL;
  array = json_array_new ();
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      JsonObject *obj = json_object_new ();

      json_object_set_string_member (obj, "change_id", RECOUP_BOOK_STMT_TEXT (stmt, 0));
      json_object_set_string_member (obj, "reason", RECOUP_BOOK_STMT_TEXT (stmt, 1));
      json_object_set_string_member (obj, "message", RECOUP_BOOK_STMT_TEXT (stmt, 2));
      json_object_set_int_member (obj, "at", sqlite3_column_int64 (stmt, 3));
      json_array_add_object_element (array, obj);
    }
  sqlite3_reset (stmt);
  return array;
}

typedef struct
{
  gint64  seq;
  gint64  hlc;
  char   *entity;
  char   *entity_id;
} Restamp;

static void
restamp_clear (gpointer data)
{
  Restamp *r = data;

  g_free (r->entity);
  g_free (r->entity_id);
}

/* Runs @sql, an UPDATE of the rows that carry @r's old stamp for its entity
 * (?2 entity, ?3 entity id, ?4 device, ?5 old stamp), setting ?1 = @stamp. */
static gboolean
restamp_rows (RecoupBook     *book,
              const char     *sql,
              const Restamp  *r,
              const char     *device,
              gint64          stamp,
              GError        **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, stamp);
  sqlite3_bind_text (stmt, 2, r->entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, r->entity_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, device, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, r->hlc);
  return recoup_book_step_done (book, stmt, error);
}

gboolean
recoup_merge_restamp_unsent (RecoupBook  *book,
                             guint       *out_restamped,
                             GError     **error)
{
  const char *device = recoup_book_get_device_id (book);
  g_autoptr(GArray) todo = g_array_new (FALSE, TRUE, sizeof (Restamp));
  sqlite3_stmt *stmt;
  gint64 last;
  char buf[32];

  g_array_set_clear_func (todo, restamp_clear);
  if (out_restamped != NULL)
    *out_restamped = 0;
  if (!recoup_book_begin (book, error))
    return FALSE;

  /* The floor: the wall clock now and every stamp this device has seen or
   * had acknowledged (its own unsent stamps are the ones that ran ahead). */
  stmt = recoup_book_prepare (book, "SELECT max(hlc) FROM changes WHERE NOT (device_id = ?1 AND server_seq IS NULL)",
                              error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, device, -1, SQLITE_STATIC);
  last = RECOUP_HLC_MAKE (recoup_wall_clock_ms (), 0);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    last = MAX (last, sqlite3_column_int64 (stmt, 0));
  sqlite3_reset (stmt);

  stmt = recoup_book_prepare (book,
    "SELECT seq, hlc, entity, entity_id FROM changes c WHERE server_seq IS NULL AND device_id = ?"
    " AND NOT EXISTS (SELECT 1 FROM sync_rejections r WHERE r.change_id = c.id"
    "                 AND r.reason NOT IN " RESENT_REASONS ")"
    " ORDER BY seq", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, device, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      Restamp r = { sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 1),
                    g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2)), g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3)) };

      g_array_append_val (todo, r);
    }
  sqlite3_reset (stmt);

  for (guint i = 0; i < todo->len; i++)
    {
      Restamp *r = &g_array_index (todo, Restamp, i);
      gint64 stamp = ++last;   /* a counter overflow carries into the milliseconds */

      stmt = recoup_book_prepare (book, "UPDATE changes SET hlc = ? WHERE seq = ?", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, stamp);
      sqlite3_bind_int64 (stmt, 2, r->seq);
      if (!recoup_book_step_done (book, stmt, error))
        goto fail;

      /* Fields this change wrote last carry its stamp as their clock, and so
       * do the conflicts it won. */
      if (!restamp_rows (book, "UPDATE field_clocks SET hlc = ?1 WHERE entity = ?2 AND entity_id = ?3"
                               " AND device_id = ?4 AND hlc = ?5", r, device, stamp, error) ||
          !restamp_rows (book, "UPDATE sync_conflicts SET winner_hlc = ?1 WHERE entity = ?2"
                               " AND entity_id = ?3 AND winner_device_id = ?4 AND winner_hlc = ?5",
                         r, device, stamp, error))
        goto fail;
    }

  /* The refusals are answered: the changes are plain pending ones again. */
  stmt = recoup_book_prepare (book, "DELETE FROM sync_rejections WHERE reason = 'clock_ahead'", error);
  if (stmt == NULL || !recoup_book_step_done (book, stmt, error))
    goto fail;
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, last);
  if (!recoup_book_set_setting (book, "hlc", buf, error))
    goto fail;
  {
    /* Tells every connection of the book that the saved clock went down on
     * purpose (recoup_book_reload_clock()). */
    g_autofree char *epoch = recoup_book_get_setting (book, "hlc.epoch");

    g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, (epoch != NULL ? g_ascii_strtoll (epoch, NULL, 10) : 0) + 1);
    if (!recoup_book_set_setting (book, "hlc.epoch", buf, error))
      goto fail;
  }
  if (!recoup_book_commit (book, error))
    return FALSE;
  /* This connection stamps from the lowered clock too (others do at their
   * next transaction, see recoup_book_begin()). */
  recoup_book_reload_clock (book);
  if (out_restamped != NULL)
    *out_restamped = todo->len;
  g_info ("re-stamped %u unsent change(s); the clock resumes at %" G_GINT64_FORMAT, todo->len, last);
  return TRUE;

fail:
  recoup_book_rollback (book);
  return FALSE;
}

JsonArray *
recoup_merge_list_review (RecoupBook  *book,
                          guint        limit,
                          GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT id, ref, name FROM accounts a WHERE coalesce (review_flag, '') <> ''"
    "   OR EXISTS (SELECT 1 FROM review_items i WHERE i.account_id = a.id"
    "                AND NOT EXISTS (SELECT 1 FROM review_marks m WHERE m.item_id = i.id))"
    " ORDER BY ref LIMIT ?", error);
  g_autoptr(JsonArray) array = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, limit > 0 ? limit : G_MAXINT);
  array = json_array_new ();
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      JsonObject *obj = json_object_new ();

      g_ptr_array_add (ids, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
      json_object_set_string_member (obj, "id", RECOUP_BOOK_STMT_TEXT (stmt, 0));
      json_object_set_string_member (obj, "ref", RECOUP_BOOK_STMT_TEXT (stmt, 1));
      json_object_set_string_member (obj, "name", RECOUP_BOOK_STMT_TEXT (stmt, 2));
      json_array_add_object_element (array, obj);
    }
  sqlite3_reset (stmt);
  /* The open items in the reader's words, read once the statement is done. */
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr(GPtrArray) items = recoup_review_list_open (book, ids->pdata[i], error);
      g_autoptr(GString) flag = g_string_new (NULL);

      if (items == NULL)
        return NULL;
      for (guint j = 0; j < items->len; j++)
        {
          RecoupReviewItem *item = g_ptr_array_index (items, j);

          g_string_append_printf (flag, "%s%s", flag->len ? "; " : "", item->text);
        }
      json_object_set_string_member (json_array_get_object_element (array, i), "flag", flag->str);
    }
  return g_steal_pointer (&array);
}

/* ---- the wire form, written straight from the change log ---- */

/* Appends ,"overwrote_unseen":[…] for the change of the current row of a
 * CHANGE_COLUMNS statement when, as it was merged here, it replaced values
 * its writer had not seen (replaces_unseen()): the fields this book logged
 * with the change as their winner. So a device that pulls the change later
 * logs the same lost edits, also the one whose edit it was. Only edits
 * (set, tombstone) replace anything worth telling. */
static gboolean
append_overwrote (RecoupBook    *book,
                  sqlite3_stmt  *row,
                  GString       *out,
                  GError       **error)
{
  const char *op = RECOUP_BOOK_STMT_TEXT (row, 6);
  sqlite3_stmt *stmt;
  guint n = 0;
  int rc;

  if (g_strcmp0 (op, "set") != 0 && g_strcmp0 (op, "tombstone") != 0)
    return TRUE;
  stmt = recoup_book_prepare (book,
    "SELECT DISTINCT field FROM sync_conflicts WHERE entity_id = ?1 AND change_id = ?2"
    " AND winner_hlc = ?3 AND winner_device_id = ?4 ORDER BY field", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, RECOUP_BOOK_STMT_TEXT (row, 5), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, RECOUP_BOOK_STMT_TEXT (row, 0), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, sqlite3_column_int64 (row, 1));
  sqlite3_bind_text (stmt, 4, RECOUP_BOOK_STMT_TEXT (row, 2), -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_string_append (out, n++ == 0 ? ",\"overwrote_unseen\":[" : ",");
      recoup_json_append_string (out, RECOUP_BOOK_STMT_TEXT (stmt, 0));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (book, error);
  if (n > 0)
    g_string_append_c (out, ']');
  return TRUE;
}

/* Appends the change of the current row of a CHANGE_COLUMNS statement as a
 * JSON object; "seq" is its server_seq when it has one. @served: the book
 * serves it to a device (a pull page), with the edits it overwrote unseen. */
static gboolean
append_change_row (RecoupBook    *book,
                   sqlite3_stmt  *stmt,
                   gboolean       served,
                   GString       *out,
                   GError       **error)
{
  const char *fields = RECOUP_BOOK_STMT_TEXT (stmt, 7);
  const char *op = RECOUP_BOOK_STMT_TEXT (stmt, 6);

  g_string_append (out, "{\"id\":");
  recoup_json_append_string (out, RECOUP_BOOK_STMT_TEXT (stmt, 0));
  g_string_append_printf (out, ",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":", (gint64) sqlite3_column_int64 (stmt, 1));
  recoup_json_append_string (out, RECOUP_BOOK_STMT_TEXT (stmt, 2));
  g_string_append (out, ",\"user_id\":");
  if (sqlite3_column_type (stmt, 3) == SQLITE_NULL)
    g_string_append (out, "null");
  else
    recoup_json_append_string (out, RECOUP_BOOK_STMT_TEXT (stmt, 3));
  g_string_append (out, ",\"entity\":");
  recoup_json_append_string (out, RECOUP_BOOK_STMT_TEXT (stmt, 4));
  g_string_append (out, ",\"entity_id\":");
  recoup_json_append_string (out, RECOUP_BOOK_STMT_TEXT (stmt, 5));
  g_string_append (out, ",\"op\":");
  recoup_json_append_string (out, op);
  g_string_append (out, ",\"fields\":");
  /* The stored text is JSON already (written by core or by the merge). */
  if (fields != NULL)
    g_string_append (out, fields);
  else if (g_strcmp0 (op, "insert") == 0)
    {
      /* A local insert's fields are the row's values (materialise_insert()). */
      g_autofree char *json = recoup_book_row_fields (book, RECOUP_BOOK_STMT_TEXT (stmt, 4),
                                                      RECOUP_BOOK_STMT_TEXT (stmt, 5), error);
      if (json == NULL)
        return FALSE;
      g_string_append (out, json);
    }
  else
    g_string_append (out, "null");
  g_string_append_printf (out, ",\"schema_version\":%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (stmt, 8));
  if (sqlite3_column_type (stmt, 9) != SQLITE_NULL)
    g_string_append_printf (out, ",\"seq\":%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (stmt, 9));
  if (served && !append_overwrote (book, stmt, out, error))
    return FALSE;
  g_string_append_c (out, '}');
  return TRUE;
}

GString *
recoup_merge_collect_unsent_body (RecoupBook  *book,
                                  gint64       after_seq,
                                  guint        limit,
                                  GPtrArray   *out_ids,
                                  gint64      *out_last_seq,
                                  GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT " CHANGE_COLUMNS ", seq FROM changes c WHERE server_seq IS NULL AND seq > ? AND device_id = ?"
    " AND NOT EXISTS (SELECT 1 FROM sync_rejections r WHERE r.change_id = c.id"
    "                 AND r.reason NOT IN " RESENT_REASONS ")"
    " ORDER BY seq LIMIT ?", error);
  GString *out;
  guint n = 0;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, after_seq);
  sqlite3_bind_text (stmt, 2, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, limit > 0 ? limit : G_MAXINT);
  if (out_last_seq != NULL)
    *out_last_seq = after_seq;
  out = g_string_sized_new (4096);
  /* What this device had received when it sent these: the server tells
   * apart an edit of a value the writer had seen from one made without
   * knowing it (replaces_unseen()). */
  g_string_append_printf (out, "{\"cursor\":%" G_GINT64_FORMAT ",\"changes\":[",
                          recoup_merge_get_cursor (book));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (n++ > 0)
        g_string_append_c (out, ',');
      if (!append_change_row (book, stmt, FALSE, out, error))
        {
          sqlite3_reset (stmt);
          g_string_free (out, TRUE);
          return NULL;
        }
      g_ptr_array_add (out_ids, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
      if (out_last_seq != NULL)
        *out_last_seq = sqlite3_column_int64 (stmt, 10);
    }
  if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      g_string_free (out, TRUE);
      return NULL;
    }
  sqlite3_reset (stmt);
  g_string_append (out, "]}");
  return out;
}

gboolean
recoup_merge_write_changes_after (RecoupBook  *book,
                                  gint64       after,
                                  guint        limit,
                                  GString     *out,
                                  guint       *out_n,
                                  gboolean    *out_has_more,
                                  GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT " CHANGE_COLUMNS " FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", error);
  guint n = 0;
  int rc;

  if (stmt == NULL)
    return FALSE;
  limit = MAX (limit, 1);
  sqlite3_bind_int64 (stmt, 1, after);
  sqlite3_bind_int64 (stmt, 2, (gint64) limit + 1);
  *out_has_more = FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (n == limit)
        {
          *out_has_more = TRUE;
          break;
        }
      if (n++ > 0)
        g_string_append_c (out, ',');
      if (!append_change_row (book, stmt, TRUE, out, error))
        {
          sqlite3_reset (stmt);
          return FALSE;
        }
    }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  if (out_n != NULL)
    *out_n = n;
  return TRUE;
}

/* ---- The user a book had before it was enrolled ------------------------------ */

/* Points every user reference of @info's table (its text columns holding
 * @from) at @to, in one pass over the table. */
static gboolean
repoint_user (RecoupBook  *book,
              TableInfo   *info,
              const char  *from,
              const char  *to,
              GError     **error)
{
  g_autoptr(GString) sets = g_string_new (NULL);
  g_autoptr(GString) where = g_string_new (NULL);
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt = NULL;
  int rc;

  for (guint col = 0; col < info->names->len; col++)
    {
      const char *name = info->names->pdata[col];

      if (g_str_equal (name, "id") || g_array_index (info->types, char, col) != 'T')
        continue;
      g_string_append_printf (sets, "%s%s = CASE %s WHEN ?2 THEN ?1 ELSE %s END", sets->len ? ", " : "",
                              name, name, name);
      g_string_append_printf (where, "%s%s = ?2", where->len ? " OR " : "", name);
    }
  if (sets->len == 0)
    return TRUE;
  /* Once per enrollment: not worth a place among the book's statements. */
  sql = g_strdup_printf ("UPDATE %s SET %s WHERE %s", info->entity, sets->str, where->str);
  if (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &stmt, NULL) != SQLITE_OK)
    return recoup_book_set_sqlite_error (book, error);
  sqlite3_bind_text (stmt, 1, to, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, from, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (book, error);
  return TRUE;
}

/* Runs @sql with ?1 = @to, ?2 = @from, ?3 = this book's device. */
static gboolean
run_repoint (RecoupBook  *book,
             const char  *sql,
             const char  *from,
             const char  *to,
             GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, to, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
  return recoup_book_step_done (book, stmt, error);
}

/**
 * recoup_merge_adopt_enrolled_user:
 * @user_id: the user the server enrolled this book as
 * @user_name: their name
 * @role: their role
 *
 * A new book belongs to whoever made it: its first user is an owner of this
 * copy alone, never in the change log. What it wrote before the book was
 * enrolled would reach the other devices naming a user they do not have
 * (an empty "by" in their history), and each copy would keep an owner of its
 * own. So at enrollment that user becomes the enrolled one: the rows and the
 * unsent changes that name it name the enrolled user, and its row gives way
 * to the enrolled user's (made here with their name and role until the
 * server's row arrives with the first pull and takes its place). Whoever
 * used the book before it was enrolled is the person who enrolls it; what
 * the server allows them is decided by the enrolled role either way
 * (recoup_merge_check_role()).
 *
 * Nothing changes when the book's user is the enrolled one already (a book
 * made from the server's snapshot) or has reached the change log (a user
 * added by hand, which syncs as itself). recoup_sync_attach() calls it.
 */
gboolean
recoup_merge_adopt_enrolled_user (RecoupBook  *book,
                                  const char  *user_id,
                                  const char  *user_name,
                                  const char  *role,
                                  GError     **error)
{
  g_autofree char *local = recoup_book_get_setting (book, "user_id");
  g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  gboolean synced = FALSE;

  g_return_val_if_fail (RECOUP_IS_BOOK (book), FALSE);
  g_return_val_if_fail (user_id != NULL && user_name != NULL && role != NULL, FALSE);

  if (local == NULL || g_str_equal (local, user_id))
    return TRUE;
  if (!(stmt = recoup_book_prepare (book, "SELECT 1 FROM changes WHERE entity_id = ?1 AND entity = 'users'",
                                    error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, local, -1, SQLITE_STATIC);
  synced = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  if (synced)
    return TRUE;

  if (!recoup_book_begin (book, error))
    return FALSE;
  /* The enrolled user's row first: accounts point at users. An owner keeps
   * what the book's owner could do; anyone else starts with nothing until
   * the server's row says otherwise. */
  stmt = recoup_book_prepare (book,
    "INSERT INTO users (id, name, email, role, max_discount_bp, max_plan_installments, can_override,"
    " created_at) SELECT ?1, ?2, email, ?3, CASE ?3 WHEN 'owner' THEN max_discount_bp ELSE 0 END,"
    " CASE ?3 WHEN 'owner' THEN max_plan_installments ELSE 0 END, ?3 = 'owner', created_at"
    " FROM users WHERE id = ?4 ON CONFLICT (id) DO NOTHING", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, user_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, user_name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, role, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, local, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error))
    goto fail;

  /* Every synced table's user references (they are text columns holding a
   * user's id; no other value is ever a user's UUIDv7), and the local copy
   * of the collector in the derived stats. */
  if (!(stmt = recoup_book_prepare (book, "SELECT name FROM sqlite_master WHERE type = 'table'", error)))
    goto fail;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (tables, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
  sqlite3_reset (stmt);
  for (guint i = 0; i < tables->len; i++)
    {
      TableInfo *info = g_str_equal (tables->pdata[i], "users") ? NULL : lookup_table (book, tables->pdata[i]);

      if (info != NULL && !repoint_user (book, info, local, user_id, error))
        goto fail;
    }
  /* What was written before is unsent: its changes name the enrolled user,
   * the fields of a set (read back from the row when it was recorded) too. */
  if (!run_repoint (book, "UPDATE account_stats SET assigned_to = ?1 WHERE assigned_to = ?2", local, user_id,
                    error) ||
      !run_repoint (book, "UPDATE changes SET user_id = ?1 WHERE user_id = ?2 AND device_id = ?3"
                          " AND server_seq IS NULL", local, user_id, error) ||
      !run_repoint (book, "UPDATE changes SET fields = replace (fields, '\"' || ?2 || '\"',"
                          " '\"' || ?1 || '\"') WHERE device_id = ?3 AND server_seq IS NULL"
                          " AND instr (fields, ?2) > 0",
                    local, user_id, error))
    goto fail;

  if (!(stmt = recoup_book_prepare (book, "DELETE FROM users WHERE id = ?1", error)))
    goto fail;
  sqlite3_bind_text (stmt, 1, local, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error) ||
      !recoup_book_set_setting (book, "user_id", user_id, error) ||
      !recoup_book_set_user (book, user_id, error))
    goto fail;
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

/* ---- An account given to a user the team removed ------------------------------ */

/*
 * A copy that was offline can assign an account to a user whom recoupd has
 * removed (tombstoned) meanwhile. Applied, the account would be no one's:
 * on no worklist, its collector shown as unknown.
 *
 * recoupd refuses such a change (RECOUP_MERGE_REASON_USER_REMOVED) rather
 * than the merge keeping the previous collector, because only the server
 * can make every copy agree. The copy that made the change applied it when
 * it was made, before it knew of the removal, and it never merges its own
 * change again; the user's tombstone that it pulls later cannot tell it
 * which collector the account had (an insert recorded on a device keeps no
 * fields, so its log may not hold the value at all). The server has the
 * account's collector and that value's clock when the change arrives: it
 * refuses the change with them (recoup_merge_kept_members()), and the device
 * puts both back (recoup_merge_restore_kept()). Every copy then holds the
 * server's value under the server's clock, and later changes merge by the
 * usual rule; the refused change stays in the device's log and in
 * sync_rejections with its reason, listed by sync-status, so nothing the
 * user entered is lost and the owner reassigns the account.
 *
 * Only a `set` is refused: an account made offline carries its collector in
 * its insert, and refusing that would keep the whole account and everything
 * logged on it from the team. recoupd stores such an insert and unassigns the
 * account with a change of its own in the same transaction
 * (release_from_removed()), stamped after the insert, so every copy, the one
 * that made it too, ends with an unassigned account for the owner to give
 * to someone.
 *
 * An assignment to a user whose role holds no accounts (a bookkeeper) is
 * refused and released the same way (RECOUP_MERGE_REASON_ASSIGNEE_ROLE):
 * recoup_account_set() refuses it on the device, but a change made by a
 * client that does not keep that rule, or on a copy where the user had
 * another role, would otherwise give the account to someone who calls no one.
 */

/* The id of the user @c (a change of an account) assigns it to when they
 * cannot hold it, or NULL: a user the team removed, or one whose role holds
 * no accounts (a bookkeeper: recoup_user_role_holds_accounts(), the rule
 * recoup_account_set() keeps on the device, which a change made elsewhere
 * never met). *@out_name: their name; *@out_role: their role when that is
 * why, NULL when they were removed. */
static const char *
unfit_assignee (RecoupBook    *book,
                const MChange *c,
                char         **out_name,
                char         **out_role)
{
  const MValue *to = field_of (c, "assigned_to", MV_STRING);
  sqlite3_stmt *stmt;
  const char *found = NULL;

  if (to == NULL || g_strcmp0 (c->entity.s, "accounts") != 0)
    return NULL;
  if (!(stmt = recoup_book_prepare (book, "SELECT name, deleted, role FROM users WHERE id = ?", NULL)))
    return NULL;
  sqlite3_bind_text (stmt, 1, to->s, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *role = RECOUP_BOOK_STMT_TEXT (stmt, 2);

      if (sqlite3_column_int (stmt, 1) != 0 || !recoup_user_role_holds_accounts (role))
        {
          *out_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
          *out_role = sqlite3_column_int (stmt, 1) != 0 ? NULL : g_strdup (role);
          found = to->s;
        }
    }
  sqlite3_reset (stmt);
  return found;
}

/* On the server, after the insert of a new account @c: an account made for
 * a removed user, or for one who holds no accounts, is made no one's, by a
 * change that syncs. */
static gboolean
release_from_removed (RecoupBook     *book,
                      const MChange  *c,
                      GError        **error)
{
  static const char * const fields[] = { "assigned_to", NULL };
  g_autofree char *removed = NULL;
  g_autofree char *role = NULL;
  sqlite3_stmt *stmt;

  if (unfit_assignee (book, c, &removed, &role) == NULL)
    return TRUE;
  if (!(stmt = recoup_book_prepare (book, "UPDATE accounts SET assigned_to = NULL WHERE id = ?", error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, c->entity_id.s, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error))
    return FALSE;
  return recoup_book_record_change (book, "accounts", c->entity_id.s, RECOUP_CHANGE_SET, fields, error);
}

gboolean
recoup_merge_check_assignee_reason (RecoupBook         *book,
                                    RecoupChangeBatch  *batch,
                                    guint               index,
                                    const char        **out_reason,
                                    GError            **error)
{
  const MChange *c = recoup_change_batch_get_change (batch, index);
  g_autofree char *unfit = NULL;
  g_autofree char *role = NULL;
  g_autofree char *ref = NULL;
  g_autofree char *keeper = NULL;
  sqlite3_stmt *stmt;
  gboolean exists = FALSE;

  if (g_strcmp0 (c->op.s, "set") != 0 || c->entity_id.kind != MV_STRING || c->id.kind != MV_STRING ||
      unfit_assignee (book, c, &unfit, &role) == NULL)
    return TRUE;
  /* A change stored before the user was removed, delivered again: it gets
   * its first answer (the merge's duplicate). */
  if (!(stmt = recoup_book_prepare (book, "SELECT 1 FROM changes WHERE id = ?", error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, c->id.s, -1, SQLITE_STATIC);
  exists = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  if (exists)
    return TRUE;
  stmt = recoup_book_prepare (book, "SELECT a.ref, u.name FROM accounts a LEFT JOIN users u"
                                    " ON u.id = a.assigned_to WHERE a.id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, c->entity_id.s, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      exists = TRUE;
      ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      keeper = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
    }
  sqlite3_reset (stmt);
  /* An account this copy does not have: the merge says so (missing_row). */
  if (!exists)
    return TRUE;
  if (out_reason != NULL)
    *out_reason = role != NULL ? RECOUP_MERGE_REASON_ASSIGNEE_ROLE : RECOUP_MERGE_REASON_USER_REMOVED;
  if (role != NULL && keeper != NULL)
    /* Translators: a user's name, their role (“bookkeeper”), the account's
     * reference, the name of the collector the account stays with */
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                 _("%s is a %s and cannot be assigned accounts, so account %s stays with %s; assign it to "
                   "a collector or an owner"), unfit, recoup_user_role_label (role), ref, keeper);
  else if (role != NULL)
    /* Translators: a user's name, their role (“bookkeeper”), the account's
     * reference */
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                 _("%s is a %s and cannot be assigned accounts, so account %s stays unassigned; assign it "
                   "to a collector or an owner"), unfit, recoup_user_role_label (role), ref);
  else if (keeper != NULL)
    /* Translators: the removed user's name, the account's reference, the
     * name of the collector the account stays with */
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                 _("%s was removed from the team before this change reached the server, so account %s "
                   "stays with %s; assign it to someone on the team"), unfit, ref, keeper);
  else
    /* Translators: the removed user's name, the account's reference */
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                 _("%s was removed from the team before this change reached the server, so account %s "
                   "stays unassigned; assign it to someone on the team"), unfit, ref);
  return FALSE;
}

gboolean
recoup_merge_check_assignee (RecoupBook         *book,
                             RecoupChangeBatch  *batch,
                             guint               index,
                             GError            **error)
{
  return recoup_merge_check_assignee_reason (book, batch, index, NULL, error);
}

char *
recoup_merge_kept_members (RecoupBook         *book,
                           RecoupChangeBatch  *batch,
                           guint               index,
                           GError            **error)
{
  const MChange *c = recoup_change_batch_get_change (batch, index);
  TableInfo *info = lookup_table (book, "accounts");
  g_autofree char *value = NULL;
  g_autofree char *device = NULL;
  gint64 hlc = 0;
  GString *out;

  g_return_val_if_fail (info != NULL && c->entity_id.kind == MV_STRING, NULL);

  /* json_quote() gives "null" for an unassigned account; no text at all is
   * a failed read, which must not reach the device as "unassign it". */
  value = column_as_json (book, info, column_index (info, "assigned_to"), c->entity_id.s);
  if (value == NULL)
    {
      recoup_book_set_sqlite_error (book, error);
      return NULL;
    }
  if (!field_clock (book, "accounts", c->entity_id.s, "assigned_to", &hlc, &device, error))
    return NULL;
  out = g_string_new (",\"field\":\"assigned_to\",\"kept\":");
  g_string_append (out, value);
  g_string_append_printf (out, ",\"kept_hlc\":%" G_GINT64_FORMAT ",\"kept_device_id\":", hlc);
  recoup_json_append_string (out, device);
  return g_string_free (out, FALSE);
}

/* The kept value names a row this copy does not have yet (a user added
 * since its last pull): the change that wrote it comes with the pull that
 * follows the push. Without the refused change's clock the field's clock is
 * the row's insert again, so that change wins here as it did on the server. */
static gboolean
forget_field_clock (RecoupBook  *book,
                    const char  *entity,
                    const char  *entity_id,
                    const char  *field,
                    GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "DELETE FROM field_clocks WHERE entity = ? AND entity_id = ?"
                                                  " AND field = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, field, -1, SQLITE_STATIC);
  return recoup_book_step_done (book, stmt, error);
}

gboolean
recoup_merge_restore_kept (RecoupBook         *book,
                           RecoupChangeBatch  *answer,
                           guint               index,
                           const char         *change_id,
                           GError            **error)
{
  const MResult *res;
  g_autofree char *entity = NULL, *entity_id = NULL, *device = NULL, *cur_device = NULL;
  g_autofree char *sql = NULL;
  TableInfo *info;
  gint64 hlc = 0, cur_hlc = 0;
  sqlite3_stmt *stmt;
  int col, rc;

  g_return_val_if_fail (index < answer->results->len, FALSE);
  res = &g_array_index (answer->results, MResult, index);
  if (res->field.kind != MV_STRING || res->kept.kind == MV_ABSENT || res->kept_hlc.kind != MV_INT ||
      res->kept_device_id.kind != MV_STRING || !is_identifier (res->field.s))
    return TRUE;

  /* Only a field the refused change set: the answer comes from the network. */
  if (!(stmt = recoup_book_prepare (book, "SELECT entity, entity_id, hlc, device_id FROM changes WHERE id = ?1"
                                          " AND op = 'set' AND json_type (fields, '$.' || ?2) IS NOT NULL", error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, change_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, res->field.s, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      entity = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      entity_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      hlc = sqlite3_column_int64 (stmt, 2);
      device = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
    }
  sqlite3_reset (stmt);
  /* A column of the row, with a value it can hold. */
  if (entity == NULL || !(info = lookup_table (book, entity)) ||
      (col = column_index (info, res->field.s)) < 0 || !value_fits (info, col, &res->kept))
    return TRUE;
  if (!field_clock (book, entity, entity_id, res->field.s, &cur_hlc, &cur_device, error))
    return FALSE;
  /* A later write on this copy replaced the refused value already; it goes
   * to the server in its turn. */
  if (cur_hlc != hlc || g_strcmp0 (cur_device, device) != 0)
    return TRUE;

  sql = g_strdup_printf ("UPDATE %s SET %s = ? WHERE id = ?", info->entity,
                         (const char *) info->names->pdata[col]);
  if (!(stmt = recoup_book_prepare (book, sql, error)))
    return FALSE;
  bind_value (stmt, 1, &res->kept);
  sqlite3_bind_text (stmt, 2, entity_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt) == SQLITE_DONE ? SQLITE_DONE : sqlite3_extended_errcode (recoup_book_get_db (book));
  if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT_FOREIGNKEY)
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    return forget_field_clock (book, entity, entity_id, res->field.s, error);
  if (rc != SQLITE_DONE)
    return FALSE;
  if (!set_field_clock (book, entity, entity_id, res->field.s, res->kept_hlc.i, res->kept_device_id.s, error))
    return FALSE;
  touch_for (book, info, NULL, entity_id, FALSE);
  return TRUE;
}

/* ---- Naming refusals and lost edits ------------------------------------------ */

/* What a person is shown for a refused change or a lost edit, which the
 * change log and the merge's tables hold as ids only: the account a row
 * belongs to and who wrote a change. Reads only. */
static const char account_of_sql[] =
  "SELECT a.id, a.ref, a.name FROM accounts a WHERE a.id = CASE ?1"
  " WHEN 'accounts' THEN ?2"
  " WHEN 'contact_points' THEN (SELECT account_id FROM contact_points WHERE id = ?2)"
  " WHEN 'invoices' THEN (SELECT account_id FROM invoices WHERE id = ?2)"
  " WHEN 'ledger_entries' THEN (SELECT account_id FROM ledger_entries WHERE id = ?2)"
  " WHEN 'activities' THEN (SELECT account_id FROM activities WHERE id = ?2)"
  " WHEN 'promises' THEN (SELECT account_id FROM promises WHERE id = ?2)"
  " WHEN 'offers' THEN (SELECT account_id FROM offers WHERE id = ?2)"
  " WHEN 'offer_events' THEN (SELECT o.account_id FROM offer_events e JOIN offers o ON o.id = e.offer_id"
  "                           WHERE e.id = ?2)"
  " WHEN 'installments' THEN (SELECT o.account_id FROM installments i JOIN offers o ON o.id = i.offer_id"
  "                           WHERE i.id = ?2)"
  " WHEN 'disputes' THEN (SELECT account_id FROM disputes WHERE id = ?2)"
  " WHEN 'follow_ups' THEN (SELECT account_id FROM follow_ups WHERE id = ?2)"
  " WHEN 'outbox' THEN (SELECT account_id FROM outbox WHERE id = ?2)"
  " WHEN 'review_items' THEN (SELECT account_id FROM review_items WHERE id = ?2)"
  " WHEN 'review_marks' THEN (SELECT i.account_id FROM review_marks m JOIN review_items i ON i.id = m.item_id"
  "                           WHERE m.id = ?2)"
  " END";

static gboolean
add_account_of (RecoupBook  *book,
                JsonObject  *obj,
                const char  *entity,
                const char  *entity_id,
                GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, account_of_sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      json_object_set_string_member (obj, "account_id", RECOUP_BOOK_STMT_TEXT (stmt, 0));
      json_object_set_string_member (obj, "account_ref", RECOUP_BOOK_STMT_TEXT (stmt, 1));
      json_object_set_string_member (obj, "account_name", RECOUP_BOOK_STMT_TEXT (stmt, 2));
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/**
 * recoup_merge_describe_rejection:
 * @r: a refusal from recoup_merge_list_rejections()
 *
 * Adds {entity, entity_id, op, kind (of a ledger entry)} of the refused
 * change and its account {account_id, account_ref, account_name}, when this
 * book has the change.
 */
gboolean
recoup_merge_describe_rejection (RecoupBook  *book,
                                 JsonObject  *r,
                                 GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT entity, entity_id, op, CASE WHEN entity = 'ledger_entries' THEN"
    "  coalesce (json_extract (fields, '$.kind'), (SELECT kind FROM ledger_entries WHERE id = entity_id)) END"
    " FROM changes WHERE id = ?", error);
  g_autofree char *entity = NULL;
  g_autofree char *entity_id = NULL;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, json_object_get_string_member_with_default (r, "change_id", ""), -1,
                     SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      entity = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      entity_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      json_object_set_string_member (r, "entity", entity);
      json_object_set_string_member (r, "entity_id", entity_id);
      json_object_set_string_member (r, "op", RECOUP_BOOK_STMT_TEXT (stmt, 2));
      if (sqlite3_column_type (stmt, 3) == SQLITE_TEXT)
        json_object_set_string_member (r, "kind", RECOUP_BOOK_STMT_TEXT (stmt, 3));
    }
  sqlite3_reset (stmt);
  return entity == NULL || add_account_of (book, r, entity, entity_id, error);
}

/* The name of the user who wrote @entity_id's change stamped (@hlc, @device). */
static char *
author_of (RecoupBook *book,
           const char *entity,
           const char *entity_id,
           gint64      hlc,
           const char *device)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT u.name FROM changes c JOIN users u ON u.id = c.user_id"
    " WHERE c.entity_id = ?1 AND c.entity = ?2 AND c.hlc = ?3 AND c.device_id = ?4 LIMIT 1", NULL);
  char *name = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, entity_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, hlc);
  sqlite3_bind_text (stmt, 4, device, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  return name;
}

/* The name of the user @user_id, if the book has them. */
static char *
user_name (RecoupBook *book,
           const char *user_id)
{
  g_autoptr(RecoupUser) user = recoup_user_load (book, user_id, NULL);

  return user != NULL ? g_strdup (user->name) : NULL;
}

/**
 * recoup_merge_describe_conflict:
 * @c: a lost edit from recoup_merge_list_conflicts()
 *
 * Adds the account of the row that lost an edit, the names of who wrote the
 * edit that lost ("loser_name") and the one that won ("winner_name"), for a
 * collector lost, their name ("value_name"), when the book knows them; and
 * whether the lost edit was made on this device ("own").
 */
gboolean
recoup_merge_describe_conflict (RecoupBook  *book,
                                JsonObject  *c,
                                GError     **error)
{
  const char *entity = json_object_get_string_member_with_default (c, "entity", "");
  const char *entity_id = json_object_get_string_member_with_default (c, "entity_id", "");
  const char *device = json_object_get_string_member_with_default (c, "device_id", "");
  g_autofree char *winner = author_of (book, entity, entity_id,
                                       json_object_get_int_member_with_default (c, "winner_hlc", 0),
                                       json_object_get_string_member_with_default (c, "winner_device_id", ""));
  g_autofree char *loser = author_of (book, entity, entity_id,
                                      json_object_get_int_member_with_default (c, "hlc", 0), device);

  if (winner != NULL)
    json_object_set_string_member (c, "winner_name", winner);
  if (loser != NULL)
    json_object_set_string_member (c, "loser_name", loser);
  json_object_set_boolean_member (c, "own", g_strcmp0 (device, recoup_book_get_device_id (book)) == 0);
  if (g_str_equal (entity, "accounts") &&
      g_strcmp0 (json_object_get_string_member_with_default (c, "field", NULL), "assigned_to") == 0 &&
      json_object_get_string_member_with_default (c, "value", NULL) != NULL)
    {
      g_autofree char *collector = user_name (book, json_object_get_string_member (c, "value"));

      if (collector != NULL)
        json_object_set_string_member (c, "value_name", collector);
    }
  return add_account_of (book, c, entity, entity_id, error);
}
