/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-browse"

#include "config.h"

#include "recoup-book-private.h"
#include "recoup-browse.h"
#include "recoup-date.h"
#include "recoup-escalation.h"
#include "recoup-guard.h"
#include "recoup-score-private.h"
#include "recoup-search-private.h"

void
recoup_browse_row_free (RecoupBrowseRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->ref);
  g_free (row->name);
  g_free (row->currency);
  g_free (row->stage);
  g_free (row->oldest_due);
  g_free (row->segment);
  g_free (row->next_action);
  g_free (row->next_action_reason);
  g_free (row->call_reason);
  g_clear_pointer (&row->next_step, recoup_next_step_free);
  g_free (row);
}

static int
progress_handler (void *data)
{
  return g_cancellable_is_cancelled (data) ? 1 : 0;
}

static gboolean
has_stats (RecoupBook *book)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
                                            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'account_stats'",
                                            NULL);
  gboolean found;

  if (stmt == NULL)
    return FALSE;
  found = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return found;
}

/* What the last recoup_browse_prepare*() on a connection chose, for the page
 * reads and the count after it. The connection owns it: its SQL function
 * recoup_browse_zone_open() holds it and frees it when the book closes. */
typedef struct
{
  gboolean          stats;      /* paging the derived worklist order (no search) */
  RecoupBrowseFlags flags;
  gint64            at_ms;      /* the instant a callable-now list is made for */
  RecoupGuardPolicy policy;
  GHashTable       *zones;      /* zone name ("" for none) -> whether calls are open */
  gint64            change_at;  /* the earliest instant one of them opens or closes; 0: none */
  gint64            opens_at;   /* the earliest instant a closed one opens; 0: none */
} BrowseState;

static void
browse_state_free (void *data)
{
  BrowseState *st = data;

  recoup_guard_policy_clear (&st->policy);
  g_hash_table_unref (st->zones);
  g_free (st);
}

/* recoup_browse_zone_open (ZONE): whether the guard's hours rules let a call
 * through at the list's instant for a debtor in ZONE (recoup_guard_call_hours()).
 * Asked once per zone: a million accounts live in a few dozen. */
static void
zone_open_func (sqlite3_context  *ctx,
                int               argc,
                sqlite3_value   **argv)
{
  BrowseState *st = sqlite3_user_data (ctx);
  const char *zone = (const char *) sqlite3_value_text (argv[0]);
  gpointer open;

  if (zone == NULL)
    zone = "";
  if (!g_hash_table_lookup_extended (st->zones, zone, NULL, &open))
    {
      gint64 change = 0;

      open = GINT_TO_POINTER (recoup_guard_call_hours (&st->policy, zone, st->at_ms, &change));
      if (change != 0 && (st->change_at == 0 || change < st->change_at))
        st->change_at = change;
      if (!open && change != 0 && (st->opens_at == 0 || change < st->opens_at))
        st->opens_at = change;
      g_hash_table_insert (st->zones, g_strdup (zone), open);
    }
  sqlite3_result_int (ctx, GPOINTER_TO_INT (open));
}

static BrowseState *
browse_state (RecoupBook *book)
{
  BrowseState *st = g_object_get_data (G_OBJECT (book), "recoup-browse");

  if (st != NULL)
    return st;
  st = g_new0 (BrowseState, 1);
  st->zones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  recoup_guard_policy_load (book, &st->policy);
  if (sqlite3_create_function_v2 (recoup_book_get_db (book), "recoup_browse_zone_open", 1,
                                  SQLITE_UTF8 | SQLITE_DIRECTONLY, st, zone_open_func, NULL, NULL,
                                  browse_state_free) != SQLITE_OK)
    g_error ("Cannot add the browse zone function: %s", sqlite3_errmsg (recoup_book_get_db (book)));
  g_object_set_data (G_OBJECT (book), "recoup-browse", st);
  return st;
}

/* A new list: its instant, the book's guard policy now, no zone asked yet. */
static void
browse_state_reset (BrowseState       *st,
                    RecoupBook        *book,
                    gboolean           stats,
                    RecoupBrowseFlags  flags,
                    gint64             at_ms)
{
  st->stats = stats;
  st->flags = flags;
  st->at_ms = at_ms != 0 ? at_ms : recoup_book_now_ms (book);
  recoup_guard_policy_clear (&st->policy);
  recoup_guard_policy_load (book, &st->policy);
  g_hash_table_remove_all (st->zones);
  st->change_at = 0;
  st->opens_at = 0;
}

/* The condition on the account_stats row @alias that keeps an account only
 * when the guard does not block a call at the list's instant (:callable_at):
 * the blocks the book's policy stops every call on (recoup-guard.h) among
 * those kept in call_blocks (an opt-out of calls or of every phone number
 * always; cease communication; attorney, bankruptcy, deceased; an open
 * dispute), its zone's hours, and the rules of its call history (too many
 * calls in 7 days, a recent conversation), whose block lifts at
 * calls_open_at. The index of the open accounts holds all three, so it
 * serves the condition alone. Another spelling of an opted-out number stays
 * with recoup_browse_check_calls(), asked for the rows drawn. */
static RecoupCallBlocks
stopping_blocks (const RecoupGuardPolicy *p)
{
  RecoupCallBlocks stop = RECOUP_CALL_BLOCK_OPT_OUT;

  if (p->cease)
    stop |= RECOUP_CALL_BLOCK_CEASE;
  if (p->flags)
    stop |= RECOUP_CALL_BLOCK_FLAGS;
  if (p->dispute)
    stop |= RECOUP_CALL_BLOCK_DISPUTE;
  return stop;
}

static char *
callable_sql (const RecoupGuardPolicy *p,
              const char              *alias)
{
  return g_strdup_printf ("(%s.call_blocks & %d) = 0 AND recoup_browse_zone_open (%s.timezone)"
                          " AND %s.calls_open_at <= :callable_at",
                          alias, (int) stopping_blocks (p), alias, alias);
}

/* Binds the list's instant to a statement of callable_sql(), if it has one. */
static void
bind_callable_at (BrowseState  *st,
                  sqlite3_stmt *stmt)
{
  int index = sqlite3_bind_parameter_index (stmt, ":callable_at");

  if (index > 0)
    sqlite3_bind_int64 (stmt, index, st->at_ms);
}

/* callable_sql() as " AND ..." for the account @id_sql of a list not read
 * from account_stats: an account without derived data yet is not listed. */
static char *
callable_account_sql (const RecoupGuardPolicy *p,
                      const char              *id_sql)
{
  g_autofree char *callable = callable_sql (p, "cs");

  return g_strconcat (" AND EXISTS (SELECT 1 FROM account_stats cs WHERE cs.account_id = ", id_sql,
                      " AND ", callable, ")", NULL);
}

/* The rows of the derived worklist order a list keeps (" WHERE ..."), on
 * account_stats as s. */
static char *
stats_where_sql (BrowseState *st)
{
  g_autofree char *callable = NULL;

  if (st->flags & RECOUP_BROWSE_CALLABLE_NOW)
    {
      g_autofree char *own = callable_sql (&st->policy, "s");

      callable = g_strconcat (" AND ", own, NULL);
    }
  /* A literal balance condition (no parameter) so that the partial index of
   * open accounts serves the count and the pages. */
  return g_strconcat (" WHERE ", (st->flags & RECOUP_BROWSE_OPEN_ONLY) ? "s.balance > 0" : "1",
                      callable, NULL);
}

/**
 * recoup_browse_prepare:
 * @search: (nullable): what to look for: the start of the name or of a word
 *   in it, of the reference (or of its number), of an e-mail address or its
 *   domain, a phone number in any format, or an invoice or receipt number
 *   (accents and case do not matter; see recoup-search.h)
 * @open_only: only accounts with a positive balance
 *
 * Builds the snapshot and returns the number of rows, or -1 on error.
 */
gint64
recoup_browse_prepare (RecoupBook    *book,
                       const char    *search,
                       gboolean       open_only,
                       GCancellable  *cancellable,
                       GError       **error)
{
  gboolean exact = TRUE;
  gint64 n = recoup_browse_prepare_full (book, search, open_only ? RECOUP_BROWSE_OPEN_ONLY : 0, 0,
                                         &exact, cancellable, error);

  return n < 0 || exact ? n : recoup_browse_count (book, error);
}

gint64
recoup_browse_prepare_quick (RecoupBook    *book,
                             const char    *search,
                             gboolean       open_only,
                             gboolean      *out_exact,
                             GCancellable  *cancellable,
                             GError       **error)
{
  return recoup_browse_prepare_full (book, search, open_only ? RECOUP_BROWSE_OPEN_ONLY : 0, 0,
                                     out_exact, cancellable, error);
}

/* The rows of the worklist order: on a million accounts a scan of an index
 * (tens of milliseconds with a warm cache, a second with a cold one). */
gint64
recoup_browse_count (RecoupBook  *book,
                     GError     **error)
{
  BrowseState *st = browse_state (book);
  sqlite3_stmt *stmt;
  gint64 count = -1;

  if (!st->stats)
    stmt = recoup_book_prepare (book, "SELECT COUNT (*) FROM temp.browse_rows", error);
  else
    {
      g_autofree char *where = stats_where_sql (st);
      g_autofree char *sql = g_strconcat ("SELECT COUNT (*) FROM account_stats s", where, NULL);

      stmt = recoup_book_prepare (book, sql, error);
    }
  if (stmt == NULL)
    return -1;
  bind_callable_at (st, stmt);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  else
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return count;
}

/**
 * recoup_browse_prepare_full:
 * @search: (nullable): as for recoup_browse_prepare()
 * @flags: which accounts the list keeps
 * @at_ms: the instant "now" is for %RECOUP_BROWSE_CALLABLE_NOW (UTC ms); 0
 *   for the book's clock now. Pass the same to the connection that counts.
 * @out_exact: FALSE when, without a search, the rows were not counted: the
 *   result is an upper bound and recoup_browse_count() gives the number
 *
 * Returns: the number of rows (or its upper bound), or -1 on error
 */
gint64
recoup_browse_prepare_full (RecoupBook         *book,
                            const char         *search,
                            RecoupBrowseFlags   flags,
                            gint64              at_ms,
                            gboolean           *out_exact,
                            GCancellable       *cancellable,
                            GError            **error)
{
  sqlite3 *db = recoup_book_get_db (book);
  BrowseState *st = browse_state (book);
  gboolean open_only = (flags & RECOUP_BROWSE_OPEN_ONLY) != 0;
  RecoupSearchRanges ranges;
  gboolean searching;
  g_autofree char *stripped = NULL;
  g_autofree char *callable = NULL;
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 count = -1;
  int rc;

  *out_exact = TRUE;

  /* Counting a million rows streams through the whole table: a browsing
   * connection keeps a small page cache so that does not stay resident. */
  if (!recoup_book_exec (book,
                         "PRAGMA cache_size = -8192;"
                         "CREATE TEMP TABLE IF NOT EXISTS browse_rows ("
                         "  pos        INTEGER PRIMARY KEY,"
                         "  account_id TEXT NOT NULL,"
                         "  balance    INTEGER NOT NULL,"
                         "  oldest_due TEXT);"
                         "DELETE FROM temp.browse_rows;",
                         error))
    return -1;

  stripped = g_strstrip (g_strdup (search != NULL ? search : ""));

  /* No search: page straight through the derived worklist order. */
  if (*stripped == '\0' && has_stats (book))
    {
      browse_state_reset (st, book, TRUE, flags, at_ms);
      /* Accounts are never deleted (tombstones): the largest rowid is their
       * number, an upper bound of the rows. */
      stmt = recoup_book_prepare (book, "SELECT coalesce (max (rowid), 0) FROM accounts", error);
      if (stmt == NULL)
        return -1;
      *out_exact = FALSE;
      if (sqlite3_step (stmt) == SQLITE_ROW)
        count = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
      return count;
    }
  browse_state_reset (st, book, FALSE, flags, at_ms);

  /* A search reads the accounts the search index names (recoup-search.c) and
   * their balance and oldest unpaid due date from the derived account_stats
   * (the worklist's figures), so its cost follows the matches, not the book.
   * An account without derived data yet is summed from its ledger. The
   * accounts the search names whole come first, then the largest balances. */
  searching = recoup_search_ranges_init (&ranges, stripped);
  /* A book indexed by an earlier Recoup gets this one's terms once. */
  if (searching && !recoup_search_ensure_current (book, error))
    {
      recoup_search_ranges_clear (&ranges);
      return -1;
    }
  if (flags & RECOUP_BROWSE_CALLABLE_NOW)
    callable = callable_account_sql (&st->policy, searching ? "r.id" : "a.id");
#define SEARCH_SQL(join, balance, oldest) \
  "INSERT INTO temp.browse_rows (account_id, balance, oldest_due) " \
  "SELECT id, balance, oldest FROM (" \
  "  SELECT k.account_id AS id, " balance " AS balance, " oldest " AS oldest, " \
  "         k.n IN (" RECOUP_SEARCH_EXACT_SQL ") AS exact " \
  "  FROM account_search k " join " " \
  "  WHERE k.n IN (" RECOUP_SEARCH_INDEX_SQL ")) r " \
  "WHERE (:open_only = 0 OR balance > 0) "
#define SEARCH_ORDER_SQL " ORDER BY exact DESC, balance DESC, oldest IS NULL, oldest ASC, id"
#define LEDGER_BALANCE \
  "(SELECT COALESCE (SUM (l.amount), 0) FROM ledger_entries l WHERE l.account_id = k.account_id)"
#define OLDEST_INVOICE \
  "(SELECT MIN (i.due_date) FROM invoices i WHERE i.account_id = k.account_id AND i.deleted = 0)"
  sql = g_strconcat (!searching
                     ? "INSERT INTO temp.browse_rows (account_id, balance, oldest_due) "
                       "SELECT a.id, COALESCE (b.balance, 0), "
                       "       (SELECT MIN (i.due_date) FROM invoices i "
                       "         WHERE i.account_id = a.id AND i.deleted = 0) AS oldest "
                       "FROM accounts a "
                       "LEFT JOIN (SELECT account_id, SUM (amount) AS balance "
                       "           FROM ledger_entries GROUP BY account_id) b "
                       "       ON b.account_id = a.id "
                       "WHERE a.deleted = 0 "
                       "  AND (:open_only = 0 OR COALESCE (b.balance, 0) > 0) "
                     : has_stats (book)
                     ? SEARCH_SQL ("LEFT JOIN account_stats s ON s.account_id = k.account_id",
                                   "COALESCE (s.balance, " LEDGER_BALANCE ")",
                                   "CASE WHEN s.account_id IS NULL THEN " OLDEST_INVOICE
                                   " ELSE s.oldest_due_date END")
                     : SEARCH_SQL ("", LEDGER_BALANCE, OLDEST_INVOICE),
                     callable != NULL ? callable : "",
                     !searching ? " ORDER BY COALESCE (b.balance, 0) DESC, oldest IS NULL, oldest ASC, a.ref"
                                : SEARCH_ORDER_SQL,
                     NULL);
  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      recoup_book_set_sqlite_error (book, error);
      recoup_search_ranges_clear (&ranges);
      return -1;
    }
#undef SEARCH_SQL
#undef SEARCH_ORDER_SQL
#undef LEDGER_BALANCE
#undef OLDEST_INVOICE
  /* Named parameters: the search's are numbered in the order they appear. */
  sqlite3_bind_int (stmt, sqlite3_bind_parameter_index (stmt, ":open_only"), open_only ? 1 : 0);
  bind_callable_at (st, stmt);
  if (searching)
    recoup_search_ranges_bind (&ranges, stmt);
  recoup_search_ranges_clear (&ranges);

  if (cancellable != NULL)
    sqlite3_progress_handler (db, 10000, progress_handler, cancellable);
  rc = sqlite3_step (stmt);
  if (cancellable != NULL)
    sqlite3_progress_handler (db, 0, NULL, NULL);

  if (rc != SQLITE_DONE)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        ;
      else
        recoup_book_set_sqlite_error (book, error);
      sqlite3_finalize (stmt);
      return -1;
    }
  sqlite3_finalize (stmt);

  stmt = recoup_book_prepare (book, "SELECT COUNT (*) FROM temp.browse_rows", error);
  if (stmt == NULL)
    return -1;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return count;
}

/**
 * recoup_browse_page:
 *
 * Returns: (transfer full) (element-type RecoupBrowseRow): rows
 *   [@offset, @offset + @limit) of the snapshot.
 */
GPtrArray *
recoup_browse_page (RecoupBook  *book,
                    guint        offset,
                    guint        limit,
                    GError     **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_browse_row_free);
  g_autofree char *today = recoup_book_today (book);
  gint32 today_day = recoup_date_parse (today, NULL);
  BrowseState *st = browse_state (book);
  sqlite3_stmt *stmt;
  int rc;

  if (st->stats)
    {
      g_autofree char *where = stats_where_sql (st);
      /* The OFFSET is skipped inside the subquery, on a queue index alone
       * for the open accounts (theirs holds what stops every call and the
       * zone too); only the page's rows are read from account_stats and
       * joined with their accounts. */
      g_autofree char *sql =
        g_strconcat ("SELECT a.id, a.ref, a.name, a.currency, a.stage, s.oldest_due_date, "
                     "       s.balance, a.cease_communication, s.segment, s.next_action, s.next_action_reason "
                     "FROM (SELECT s.account_id, s.queue_rank, s.score "
                     "      FROM account_stats s", where,
                     "      ORDER BY s.queue_rank, s.score DESC, s.account_id LIMIT :limit OFFSET :offset) p "
                     "JOIN account_stats s ON s.account_id = p.account_id "
                     "JOIN accounts a ON a.id = p.account_id "
                     "ORDER BY p.queue_rank, p.score DESC, p.account_id", NULL);

      stmt = recoup_book_prepare (book, sql, error);
      if (stmt == NULL)
        return NULL;
      /* Named, as the list's instant in the condition before them is. */
      sqlite3_bind_int64 (stmt, sqlite3_bind_parameter_index (stmt, ":offset"), offset);
      sqlite3_bind_int64 (stmt, sqlite3_bind_parameter_index (stmt, ":limit"), limit);
      bind_callable_at (st, stmt);
    }
  else
    {
      stmt = recoup_book_prepare (book,
                                  /* A found account reads as it does in the list: its
                                   * priority and next step, for the page's rows only. */
                                  "SELECT a.id, a.ref, a.name, a.currency, a.stage, r.oldest_due, "
                                  "       r.balance, a.cease_communication, s.segment, s.next_action, "
                                  "       s.next_action_reason "
                                  "FROM temp.browse_rows r JOIN accounts a ON a.id = r.account_id "
                                  "LEFT JOIN account_stats s ON s.account_id = r.account_id "
                                  "WHERE r.pos > ?1 AND r.pos <= ?2 ORDER BY r.pos",
                                  error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, offset);
      sqlite3_bind_int64 (stmt, 2, (gint64) offset + limit);
    }

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      RecoupBrowseRow *row = g_new0 (RecoupBrowseRow, 1);

      row->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      row->ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      row->name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      row->currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      row->stage = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
      row->oldest_due = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
      row->balance = sqlite3_column_int64 (stmt, 6);
      row->cease_communication = sqlite3_column_int (stmt, 7) != 0;
      row->segment = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 8));
      row->next_action = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 9));
      row->next_action_reason = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 10));
      /* Until the guard is asked, the one block the row itself shows. */
      recoup_browse_row_set_call (row, FALSE, NULL);
      if (row->oldest_due != NULL && row->balance > 0 && today_day != RECOUP_DATE_INVALID)
        {
          gint32 due = recoup_date_parse (row->oldest_due, NULL);

          if (due != RECOUP_DATE_INVALID && today_day > due)
            row->days_past_due = today_day - due;
        }
      g_ptr_array_add (rows, row);
    }
  if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);
  return g_steal_pointer (&rows);
}

static const char *
first_block (const RecoupGuardVerdict *verdict)
{
  for (guint i = 0; verdict->reasons != NULL && i < verdict->reasons->len; i++)
    {
      RecoupGuardReason *reason = g_ptr_array_index (verdict->reasons, i);

      if (reason->blocks)
        return reason->text;
    }
  return NULL;
}

/**
 * recoup_browse_check_calls:
 * @rows: (element-type RecoupBrowseRow): rows of recoup_browse_page()
 *
 * Asks the compliance guard about each row's account now: whether a call is
 * allowed (call_blocked, and call_reason, the first blocking reason), and
 * what the policy's next step becomes under its verdict (next_step). A
 * separate step, so a list can draw a page before the guard has read the
 * accounts' contact history; the guard is asked about these rows only.
 */
gboolean
recoup_browse_check_calls (RecoupBook  *book,
                           GPtrArray   *rows,
                           GError     **error)
{
  RecoupGuardPolicy policy = { 0 };
  g_autoptr(GArray) escalation = recoup_escalation_policy_load (book);
  gint64 now_ms = recoup_book_now_ms (book);
  gboolean ok = TRUE;

  recoup_guard_policy_load (book, &policy);
  for (guint i = 0; ok && i < rows->len; i++)
    {
      RecoupBrowseRow *row = g_ptr_array_index (rows, i);
      g_autoptr(RecoupGuardVerdict) own = NULL;
      const RecoupGuardVerdict *verdict;

      g_clear_pointer (&row->next_step, recoup_next_step_free);
      if (row->next_action != NULL &&
          !(row->next_step = recoup_next_step_resolve (book, &policy, escalation, row->id, row->next_action,
                                                       row->next_action_reason, now_ms, NULL, error)))
        {
          ok = FALSE;
          break;
        }
      /* The step's own verdict when it is a call. */
      if (row->next_step != NULL && g_strcmp0 (row->next_step->policy_channel, "call") == 0)
        verdict = row->next_step->verdict;
      else if (!(ok = recoup_guard_check_with_policy (book, &policy, row->id, "call", now_ms, NULL, &own, error)))
        break;
      else
        verdict = own;
      recoup_browse_row_set_call (row, verdict->verdict == RECOUP_VERDICT_BLOCKED, first_block (verdict));
    }
  recoup_guard_policy_clear (&policy);
  return ok;
}

/**
 * recoup_browse_row_set_call:
 * @blocked: whether the guard blocks a call to the row's account now
 * @reason: (nullable): why (its first blocking reason)
 *
 * Sets the row's call verdict (call_blocked, call_reason) and, by the lists'
 * rule, its warning (call_warning): an account that owes nothing (settled, or
 * in credit and due a refund) has no collection call to warn against; one
 * that owes reads as no call when the guard blocks it or its debtor asked to
 * cease communication. recoup_browse_page() and recoup_browse_check_calls()
 * use it; so does a list that brings a row in step with a verdict read
 * elsewhere (an account page's), so that the app and the CLI agree.
 */
void
recoup_browse_row_set_call (RecoupBrowseRow *row,
                            gboolean         blocked,
                            const char      *reason)
{
  g_clear_pointer (&row->call_reason, g_free);
  row->call_blocked = blocked;
  if (blocked)
    row->call_reason = g_strdup (reason);
  row->call_warning = row->balance > 0 && (blocked || row->cease_communication);
}

/* The earliest instant after the list's that the call history of an
 * account it leaves out stops blocking a call (calls_open_at), of the
 * accounts no flag stops every call for; 0 when there is none. One read of
 * the open accounts' queue index, which holds all it asks for; the accounts
 * of a search are among them. A list of every account reads account_stats
 * whole, as its count did. */
static gint64
next_history_lift (RecoupBook  *book,
                   BrowseState *st)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt;
  gint64 lift = 0;

  if (!has_stats (book))
    return 0;
  /* G_MAXINT64 is an account not derived yet, which no list holds. */
  sql = g_strdup_printf ("SELECT min (s.calls_open_at) FROM account_stats s WHERE %s"
                         " AND s.calls_open_at > :callable_at AND s.calls_open_at < %" G_GINT64_FORMAT
                         " AND (s.call_blocks & %d) = 0",
                         (st->flags & RECOUP_BROWSE_OPEN_ONLY) ? "s.balance > 0" : "1",
                         G_MAXINT64, (int) stopping_blocks (&st->policy));
  if ((stmt = recoup_book_prepare (book, sql, &error)) == NULL)
    {
      g_warning ("Cannot tell when a call history next lets a call through: %s", error->message);
      return 0;
    }
  bind_callable_at (st, stmt);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    lift = sqlite3_column_int64 (stmt, 0);   /* NULL, no row held: 0 */
  sqlite3_reset (stmt);
  return lift;
}

/**
 * recoup_browse_get_hours_change:
 * @out_opens_at: (out) (optional): the earliest instant the calling hours
 *   open in a zone of theirs where they are closed now; 0 when none will
 *
 * For a list of %RECOUP_BROWSE_CALLABLE_NOW, once its rows were counted on
 * @book (recoup_browse_count(), or a prepare that counted, with a search):
 * the next instant the list changes by the clock alone, so that it is read
 * again then: the calling hours open or close in a zone of the accounts it
 * looked at, or the call history of an account it leaves out stops blocking
 * a call (calls_open_at); 0 when neither ever does.
 */
gint64
recoup_browse_get_hours_change (RecoupBook *book,
                                gint64     *out_opens_at)
{
  BrowseState *st = browse_state (book);
  gint64 lift = 0;

  if (out_opens_at != NULL)
    *out_opens_at = st->opens_at;
  if (st->flags & RECOUP_BROWSE_CALLABLE_NOW)
    lift = next_history_lift (book, st);
  if (lift != 0 && (st->change_at == 0 || lift < st->change_at))
    return lift;
  return st->change_at;
}
