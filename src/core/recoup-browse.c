/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-browse"

#include "config.h"

#include "recoup-book-private.h"
#include "recoup-browse.h"
#include "recoup-date.h"
#include "recoup-escalation.h"
#include "recoup-guard.h"

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

/* Escapes LIKE wildcards so a search for "50%" means the text. */
static char *
like_prefix (const char *search)
{
  GString *s = g_string_new (NULL);

  for (const char *p = search; *p != '\0'; p++)
    {
      if (*p == '%' || *p == '_' || *p == '\\')
        g_string_append_c (s, '\\');
      g_string_append_c (s, *p);
    }
  g_string_append_c (s, '%');
  return g_string_free (s, FALSE);
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
 * @search: (nullable): text the name, reference, phone or e-mail starts with
 *   (a name also matches on any word start)
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
  g_autofree char *pattern = NULL;
  g_autofree char *word_pattern = NULL;
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

  if (*stripped != '\0')
    {
      pattern = like_prefix (stripped);
      word_pattern = g_strconcat ("% ", pattern, NULL);
    }

  if (sqlite3_prepare_v2 (db,
                          "INSERT INTO temp.browse_rows (account_id, balance, oldest_due) "
                          "SELECT a.id, COALESCE (b.balance, 0), "
                          "       (SELECT MIN (i.due_date) FROM invoices i "
                          "         WHERE i.account_id = a.id AND i.deleted = 0) AS oldest "
                          "FROM accounts a "
                          "LEFT JOIN (SELECT account_id, SUM (amount) AS balance "
                          "           FROM ledger_entries GROUP BY account_id) b "
                          "       ON b.account_id = a.id "
                          "WHERE a.deleted = 0 "
                          "  AND (?1 = 0 OR COALESCE (b.balance, 0) > 0) "
                          "  AND (?2 IS NULL "
                          "       OR a.name LIKE ?2 ESCAPE '\\' OR a.name LIKE ?3 ESCAPE '\\' "
                          "       OR a.ref LIKE ?2 ESCAPE '\\' "
                          "       OR EXISTS (SELECT 1 FROM contact_points c "
                          "                  WHERE c.account_id = a.id AND c.deleted = 0 "
                          "                    AND c.kind IN ('phone', 'email') "
                          "                    AND c.value LIKE ?2 ESCAPE '\\')) "
                          "ORDER BY COALESCE (b.balance, 0) DESC, oldest IS NULL, "
                          "         oldest ASC, a.ref",
                          -1, &stmt, NULL) != SQLITE_OK)
    {
      recoup_book_set_sqlite_error (book, error);
      return -1;
    }
  sqlite3_bind_int (stmt, 1, open_only ? 1 : 0);
  if (pattern != NULL)
    {
      sqlite3_bind_text (stmt, 2, pattern, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, word_pattern, -1, SQLITE_TRANSIENT);
    }

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
                                  "SELECT a.id, a.ref, a.name, a.currency, a.stage, r.oldest_due, "
                                  "       r.balance, a.cease_communication, NULL, NULL, NULL "
                                  "FROM temp.browse_rows r JOIN accounts a ON a.id = r.account_id "
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
