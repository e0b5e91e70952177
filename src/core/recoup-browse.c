/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-browse"

#include "config.h"

#include "recoup-book-private.h"
#include "recoup-browse.h"
#include "recoup-date.h"
#include "recoup-escalation.h"
#include "recoup-guard.h"
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
  gint64 n = recoup_browse_prepare_quick (book, search, open_only, &exact, cancellable, error);

  return n < 0 || exact ? n : recoup_browse_count (book, error);
}

/* The rows of the worklist order: on a million accounts a scan of an index
 * (tens of milliseconds with a warm cache, a second with a cold one). */
gint64
recoup_browse_count (RecoupBook  *book,
                     GError     **error)
{
  int stats = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (book), "recoup-browse-stats"));
  sqlite3_stmt *stmt;
  gint64 count = -1;

  if (stats == 0)
    stmt = recoup_book_prepare (book, "SELECT COUNT (*) FROM temp.browse_rows", error);
  else
    /* Literal conditions (no parameter) so that the partial index of open
     * accounts serves the count without reading the table. */
    stmt = recoup_book_prepare (book,
                                stats == 2 ? "SELECT COUNT (*) FROM account_stats WHERE balance > 0"
                                           : "SELECT COUNT (*) FROM account_stats", error);
  if (stmt == NULL)
    return -1;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  else
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return count;
}

gint64
recoup_browse_prepare_quick (RecoupBook    *book,
                             const char    *search,
                             gboolean       open_only,
                             gboolean      *out_exact,
                             GCancellable  *cancellable,
                             GError       **error)
{
  sqlite3 *db = recoup_book_get_db (book);
  RecoupSearchRanges ranges;
  gboolean searching;
  g_autofree char *stripped = NULL;
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
      g_object_set_data (G_OBJECT (book), "recoup-browse-stats", GINT_TO_POINTER (open_only ? 2 : 1));
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
  g_object_set_data (G_OBJECT (book), "recoup-browse-stats", NULL);

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
#define SEARCH_SQL(join, balance, oldest) \
  "INSERT INTO temp.browse_rows (account_id, balance, oldest_due) " \
  "SELECT id, balance, oldest FROM (" \
  "  SELECT k.account_id AS id, " balance " AS balance, " oldest " AS oldest, " \
  "         k.n IN (" RECOUP_SEARCH_EXACT_SQL ") AS exact " \
  "  FROM account_search k " join " " \
  "  WHERE k.n IN (" RECOUP_SEARCH_INDEX_SQL ")) " \
  "WHERE :open_only = 0 OR balance > 0 " \
  "ORDER BY exact DESC, balance DESC, oldest IS NULL, oldest ASC, id"
#define LEDGER_BALANCE \
  "(SELECT COALESCE (SUM (l.amount), 0) FROM ledger_entries l WHERE l.account_id = k.account_id)"
#define OLDEST_INVOICE \
  "(SELECT MIN (i.due_date) FROM invoices i WHERE i.account_id = k.account_id AND i.deleted = 0)"
  if (sqlite3_prepare_v2 (db,
                          !searching
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
                            "ORDER BY COALESCE (b.balance, 0) DESC, oldest IS NULL, "
                            "         oldest ASC, a.ref"
                          : has_stats (book)
                          ? SEARCH_SQL ("LEFT JOIN account_stats s ON s.account_id = k.account_id",
                                        "COALESCE (s.balance, " LEDGER_BALANCE ")",
                                        "CASE WHEN s.account_id IS NULL THEN " OLDEST_INVOICE
                                        " ELSE s.oldest_due_date END")
                          : SEARCH_SQL ("", LEDGER_BALANCE, OLDEST_INVOICE),
                          -1, &stmt, NULL) != SQLITE_OK)
    {
      recoup_book_set_sqlite_error (book, error);
      recoup_search_ranges_clear (&ranges);
      return -1;
    }
#undef SEARCH_SQL
#undef LEDGER_BALANCE
#undef OLDEST_INVOICE
  /* Named parameters: the search's are numbered in the order they appear. */
  sqlite3_bind_int (stmt, sqlite3_bind_parameter_index (stmt, ":open_only"), open_only ? 1 : 0);
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
  int stats = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (book), "recoup-browse-stats"));
  sqlite3_stmt *stmt;
  int rc;

  if (stats != 0)
    {
      /* The OFFSET is skipped inside the subquery, on the queue index alone;
       * only the page's rows are joined with their accounts. */
#define BROWSE_PAGE_SQL(where) \
      "SELECT a.id, a.ref, a.name, a.currency, a.stage, s.oldest_due_date, " \
      "       s.balance, a.cease_communication, s.segment, s.next_action, s.next_action_reason " \
      "FROM (SELECT account_id, oldest_due_date, balance, segment, next_action, next_action_reason, " \
      "             queue_rank, score " \
      "      FROM account_stats " where \
      "      ORDER BY queue_rank, score DESC, account_id LIMIT ?2 OFFSET ?1) s " \
      "JOIN accounts a ON a.id = s.account_id " \
      "ORDER BY s.queue_rank, s.score DESC, s.account_id"
      stmt = recoup_book_prepare (book,
                                  stats == 2 ? BROWSE_PAGE_SQL ("WHERE balance > 0") : BROWSE_PAGE_SQL (""),
                                  error);
#undef BROWSE_PAGE_SQL
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, offset);
      sqlite3_bind_int64 (stmt, 2, limit);
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
      row->call_blocked = verdict->verdict == RECOUP_VERDICT_BLOCKED;
      g_clear_pointer (&row->call_reason, g_free);
      for (guint j = 0; row->call_blocked && j < verdict->reasons->len; j++)
        {
          RecoupGuardReason *reason = g_ptr_array_index (verdict->reasons, j);

          if (reason->blocks)
            {
              row->call_reason = g_strdup (reason->text);
              break;
            }
        }
    }
  recoup_guard_policy_clear (&policy);
  return ok;
}
