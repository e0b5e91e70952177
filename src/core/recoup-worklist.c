/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-worklist"

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "recoup-accounts.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-escalation.h"
#include "recoup-money.h"
#include "recoup-score-private.h"
#include "recoup-settings.h"
#include "recoup-worklist.h"

#define MAX_LIMIT 1000

static const char * const queue_reasons[] = {
  NULL, "follow-up due", "promise due today or broken", "fresh delinquency",
  "missed plan installment", "priority", "waiting",
};

static void
item_free (RecoupWorklistItem *it)
{
  g_free (it->account_id);
  g_free (it->ref);
  g_free (it->name);
  g_free (it->currency);
  g_free (it->stage);
  g_free (it->segment);
  g_free (it->timezone);
  g_free (it->assigned_to);
  g_free (it->next_action);
  g_free (it->next_action_reason);
  g_clear_pointer (&it->next_step, recoup_next_step_free);
  g_free (it);
}

static void
block_free (RecoupWorklistBlock *b)
{
  g_free (b->code);
  g_free (b);
}

void
recoup_worklist_free (RecoupWorklist *wl)
{
  if (wl == NULL)
    return;
  g_clear_pointer (&wl->items, g_ptr_array_unref);
  g_clear_pointer (&wl->blocked, g_ptr_array_unref);
  g_free (wl);
}


/* A filter finds accounts by the zone they hold, which may be one an account
 * got before new zones had to name a region (EST): any zone the system knows
 * is a filter; an unknown one gets the account rule's message. */
static gboolean
timezone_filter_valid (const char  *zone,
                       GError     **error)
{
  g_autoptr(GTimeZone) tz = NULL;

  if (recoup_timezone_validate (zone, NULL))
    return TRUE;
  tz = g_time_zone_new_identifier (zone);
  return tz != NULL || recoup_timezone_validate (zone, error);
}

static gboolean
validate_filter (RecoupBook                 *book,
                 const RecoupWorklistFilter *f,
                 char                      **out_collector,
                 GError                    **error)
{
  static const char * const segments[] = { "high", "medium", "low", NULL };
  static const char * const stages[] = { "pre-collection", "active", "negotiation", "escalation", NULL };

  if (f->segment != NULL && !g_strv_contains (segments, f->segment))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a segment (high, medium or low)", f->segment);
      return FALSE;
    }
  if (f->stage != NULL && !g_strv_contains (stages, f->stage))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a stage a worklist shows (pre-collection, active, negotiation, escalation)",
                   f->stage);
      return FALSE;
    }
  if (f->timezone != NULL && (*f->timezone == '\0' || !timezone_filter_valid (f->timezone, error)))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID, "the time zone filter is empty");
      return FALSE;
    }
  if (f->channel != NULL && !g_strv_contains (recoup_guard_channels, f->channel))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a contact channel (call, sms, email, letter, visit)", f->channel);
      return FALSE;
    }
  if (f->min_balance < 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "the minimum balance cannot be negative");
      return FALSE;
    }
  if (f->currency != NULL && !recoup_currency_validate (f->currency, error))
    return FALSE;
  if (f->limit > MAX_LIMIT)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "a worklist page holds at most %d accounts (asked for %u)", MAX_LIMIT, f->limit);
      return FALSE;
    }
  if (f->tag != NULL && (*f->tag == '\0' || strchr (f->tag, ',') != NULL))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "a tag filter is one non-empty tag without commas");
      return FALSE;
    }
  *out_collector = NULL;
  if (f->collector != NULL && !(*out_collector = recoup_user_resolve (book, f->collector, error)))
    return FALSE;
  return TRUE;
}

static void
count_block (GHashTable         *counts,
             RecoupGuardVerdict *v)
{
  for (guint i = 0; i < v->reasons->len; i++)
    {
      RecoupGuardReason *r = g_ptr_array_index (v->reasons, i);

      if (r->blocks)
        {
          guint n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, r->code));
          g_hash_table_insert (counts, g_strdup (r->code), GUINT_TO_POINTER (n + 1));
        }
    }
}

static int
compare_blocks (gconstpointer a,
                gconstpointer b)
{
  const RecoupWorklistBlock *x = *(RecoupWorklistBlock **) a;
  const RecoupWorklistBlock *y = *(RecoupWorklistBlock **) b;

  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return strcmp (x->code, y->code);
}

static void
bind_named_text (sqlite3_stmt *stmt,
                 const char   *name,
                 const char   *value)
{
  int i = sqlite3_bind_parameter_index (stmt, name);

  if (i > 0)
    sqlite3_bind_text (stmt, i, value, -1, SQLITE_TRANSIENT);
}

/* The queue, without the accounts in none (settled, closed). The accounts
 * whose step is to wait have a rank of their own after the others
 * (recoup_score_queue_rank()), so the account_stats indexes give the whole
 * order, at any depth. */
#define IN_QUEUE_SQL " AND s.queue_rank < 9"   /* RECOUP_QUEUE_NONE */
G_STATIC_ASSERT (RECOUP_QUEUE_NONE == 9);

/* The stored queue order: the account_stats indexes give it. */
#define QUEUE_ORDER_SQL " ORDER BY s.queue_rank, s.score DESC, s.account_id"

typedef struct
{
  RecoupBook                 *book;
  const RecoupWorklistFilter *filter;
  const char                 *collector;
  const char                 *channel;   /* the filter's, or NULL */
  gint64                      at;
  guint                       limit;
  guint                       skipped;
  RecoupGuardPolicy           policy;
  GArray                     *escalation;
  GHashTable                 *counts;
  RecoupWorklist             *wl;
} Build;

static sqlite3_stmt *
prepare_queue (Build   *b,
               GError **error)
{
  const RecoupWorklistFilter *f = b->filter;
  g_autoptr(GString) sql = NULL;
  sqlite3_stmt *stmt;

  sql = g_string_new ("SELECT s.account_id, a.ref, a.name, a.currency, s.stage, s.segment, s.timezone,"
                      " s.assigned_to, s.balance, s.score, s.oldest_dpd, s.queue_rank, s.next_action,"
                      " s.next_action_reason FROM account_stats s JOIN accounts a ON a.id = s.account_id"
                      " WHERE 1");
  g_string_append (sql, IN_QUEUE_SQL);
  if (b->collector != NULL)
    g_string_append (sql, " AND s.assigned_to = :collector");
  if (f->segment != NULL)
    g_string_append (sql, " AND s.segment = :segment");
  if (f->stage != NULL)
    g_string_append (sql, " AND s.stage = :stage");
  if (f->timezone != NULL)
    g_string_append (sql, " AND s.timezone = :tz");
  if (f->min_balance > 0)
    g_string_append (sql, " AND s.balance >= :min_balance");
  if (f->currency != NULL)
    g_string_append (sql, " AND a.currency = :currency");
  if (f->tag != NULL)
    /* Tags are kept as "a, b" (recoup_account_normalize_tags()). */
    g_string_append (sql, " AND instr(',' || replace (a.tags, ', ', ',') || ',', ',' || :tag || ',') > 0");
  g_string_append (sql, QUEUE_ORDER_SQL);
  if (!(stmt = recoup_book_prepare (b->book, sql->str, error)))
    return NULL;
  bind_named_text (stmt, ":collector", b->collector);
  bind_named_text (stmt, ":segment", f->segment);
  bind_named_text (stmt, ":stage", f->stage);
  bind_named_text (stmt, ":tz", f->timezone);
  bind_named_text (stmt, ":tag", f->tag);
  bind_named_text (stmt, ":currency", f->currency);
  if (f->min_balance > 0)
    sqlite3_bind_int64 (stmt, sqlite3_bind_parameter_index (stmt, ":min_balance"), f->min_balance);
  return stmt;
}

static RecoupWorklistItem *
item_new (sqlite3_stmt *stmt)
{
  RecoupWorklistItem *it = g_new0 (RecoupWorklistItem, 1);
  int rank = sqlite3_column_int (stmt, 11);

  it->account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  it->ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
  it->name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
  it->currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
  it->stage = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
  it->segment = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
  it->timezone = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 6));
  it->assigned_to = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 7));
  it->balance = sqlite3_column_int64 (stmt, 8);
  it->score = sqlite3_column_int64 (stmt, 9);
  it->days_past_due = sqlite3_column_int (stmt, 10);
  it->queue_rank = rank;
  it->queue_reason = rank >= 1 && rank <= RECOUP_QUEUE_WAIT ? queue_reasons[rank] : "priority";
  it->waits = rank == RECOUP_QUEUE_WAIT;
  it->verdict = RECOUP_VERDICT_ALLOWED;
  return it;
}

/* Lists the candidate @stmt stands on, or leaves it out when the guard blocks
 * the filter's channel. Only listed accounts get their step resolved. */
static gboolean
take_candidate (Build         *b,
                sqlite3_stmt  *stmt,
                GError       **error)
{
  g_autoptr(RecoupGuardVerdict) v = NULL;
  const char *id = RECOUP_BOOK_STMT_TEXT (stmt, 0);
  const char *action = RECOUP_BOOK_STMT_TEXT (stmt, 12);
  RecoupWorklistItem *it;

  if (b->channel != NULL)
    {
      if (!recoup_guard_check_with_policy (b->book, &b->policy, id, b->channel, b->at, b->collector, &v, error))
        return FALSE;
      if (v->verdict == RECOUP_VERDICT_BLOCKED)
        {
          b->wl->n_blocked++;
          count_block (b->counts, v);
          return TRUE;
        }
    }
  if (b->skipped < b->filter->offset)
    {
      b->skipped++;
      return TRUE;
    }
  it = item_new (stmt);
  g_ptr_array_add (b->wl->items, it);
  if (action != NULL)
    {
      it->next_step = recoup_next_step_resolve (b->book, &b->policy, b->escalation, id, action,
                                                RECOUP_BOOK_STMT_TEXT (stmt, 13), b->at, b->collector, error);
      if (it->next_step == NULL)
        return FALSE;
      it->next_action = g_strdup (it->next_step->action);
      it->next_action_reason = g_strdup (it->next_step->reason);
    }
  if (v != NULL)
    it->verdict = v->verdict;
  else if (it->next_step != NULL && it->next_step->verdict != NULL)
    it->verdict = it->next_step->verdict->verdict;
  return TRUE;
}

/* Reads the queue into the page; FALSE on error. */
static gboolean
build_queue (Build   *b,
             GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  if (!(stmt = prepare_queue (b, error)))
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (b->wl->items->len >= b->limit)
        {
          b->wl->has_more = TRUE;
          break;
        }
      if (!take_candidate (b, stmt, error))
        {
          sqlite3_reset (stmt);
          return FALSE;
        }
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (b->book, error);
      return FALSE;
    }
  return TRUE;
}

static void
collect_blocks (Build *b)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, b->counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      RecoupWorklistBlock *bl = g_new0 (RecoupWorklistBlock, 1);

      bl->code = g_strdup (key);
      bl->count = GPOINTER_TO_UINT (value);
      g_ptr_array_add (b->wl->blocked, bl);
    }
  g_ptr_array_sort (b->wl->blocked, compare_blocks);
}

/**
 * recoup_worklist_build:
 *
 * Brings derived data up to date for today if needed (once a day, the whole
 * book), then reads the queue from account_stats by its indexes, the
 * accounts with work now first.
 */
RecoupWorklist *
recoup_worklist_build (RecoupBook                 *book,
                       const RecoupWorklistFilter *f,
                       GError                    **error)
{
  g_autoptr(RecoupWorklist) wl = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autofree char *collector = NULL;
  g_autoptr(GArray) escalation = NULL;
  Build b = { 0 };
  gboolean ok = TRUE;

  if (!validate_filter (book, f, &collector, error))
    return NULL;
  if (!recoup_score_ensure_current (book, NULL, NULL, error))
    return NULL;

  wl = g_new0 (RecoupWorklist, 1);
  wl->items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  wl->blocked = g_ptr_array_new_with_free_func ((GDestroyNotify) block_free);
  counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  escalation = recoup_escalation_policy_load (book);

  b.book = book;
  b.filter = f;
  b.collector = collector;
  b.channel = f->channel;
  b.at = f->at != 0 ? f->at : recoup_book_now_ms (book);
  b.limit = f->limit > 0 ? f->limit : 50;
  b.escalation = escalation;
  b.counts = counts;
  b.wl = wl;
  recoup_guard_policy_load (book, &b.policy);
  ok = build_queue (&b, error);
  recoup_guard_policy_clear (&b.policy);
  if (!ok)
    return NULL;
  collect_blocks (&b);
  return g_steal_pointer (&wl);
}

/* ---- Saved worklists ---------------------------------------------------------- */

static gboolean
valid_name (const char *name)
{
  if (name == NULL || *name == '\0' || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static void
add_member (JsonBuilder *b,
            const char  *name,
            const char  *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

gboolean
recoup_worklist_save (RecoupBook                 *book,
                      const char                 *name,
                      const RecoupWorklistFilter *f,
                      GError                    **error)
{
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonGenerator) gen = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *collector = NULL, *key = NULL, *text = NULL;

  if (!valid_name (name))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a worklist name: use 1 to 64 letters, digits, - or _", name ? name : "");
      return FALSE;
    }
  if (!validate_filter (book, f, &collector, error))
    return FALSE;
  b = json_builder_new ();
  json_builder_begin_object (b);
  add_member (b, "collector", collector);
  add_member (b, "segment", f->segment);
  add_member (b, "stage", f->stage);
  add_member (b, "tag", f->tag);
  add_member (b, "timezone", f->timezone);
  add_member (b, "channel", f->channel);
  add_member (b, "currency", f->currency);
  if (f->min_balance > 0)
    {
      json_builder_set_member_name (b, "min_balance");
      json_builder_add_int_value (b, f->min_balance);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  key = g_strdup_printf ("worklist.saved.%s", name);
  return recoup_settings_set_shared (book, key, text, error);
}

gboolean
recoup_worklist_load_saved (RecoupBook            *book,
                            const char            *name,
                            RecoupWorklistFilter  *out,
                            GStrv                 *out_strings,
                            GError               **error)
{
  g_autofree char *key = g_strdup_printf ("worklist.saved.%s", name ? name : "");
  g_autofree char *text = recoup_book_get_setting (book, key);
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GPtrArray) strings = g_ptr_array_new ();
  static const char * const members[] = { "collector", "segment", "stage", "tag", "timezone", "channel",
                                          "currency" };
  const char **slots[] = { &out->collector, &out->segment, &out->stage, &out->tag, &out->timezone, &out->channel,
                           &out->currency };
  JsonObject *obj;

  if (text == NULL)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "no saved worklist “%s” (save one with --save NAME)", name ? name : "");
      return FALSE;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, -1, error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_clear_error (error);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "the saved worklist “%s” is damaged: save it again", name);
      return FALSE;
    }
  obj = json_node_get_object (json_parser_get_root (parser));
  memset (out, 0, sizeof *out);
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    if (json_object_has_member (obj, members[i]))
      {
        char *s = g_strdup (json_object_get_string_member (obj, members[i]));

        g_ptr_array_add (strings, s);
        *slots[i] = s;
      }
  if (json_object_has_member (obj, "min_balance"))
    out->min_balance = json_object_get_int_member (obj, "min_balance");
  g_ptr_array_add (strings, NULL);
  *out_strings = (GStrv) g_ptr_array_free (g_steal_pointer (&strings), FALSE);
  return TRUE;
}

GStrv
recoup_worklist_list_saved (RecoupBook *book)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT substr(key, 16) FROM settings WHERE key LIKE 'worklist.saved.%' ORDER BY key", NULL);
  GPtrArray *names = g_ptr_array_new ();

  if (stmt != NULL)
    {
      while (sqlite3_step (stmt) == SQLITE_ROW)
        g_ptr_array_add (names, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
      sqlite3_reset (stmt);
    }
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (names, FALSE);
}
