/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-derived-update"

#include "config.h"

#include <string.h>

#include "recoup-book-private.h"
#include "recoup-demo.h"
#include "recoup-test-util.h"

/*
 * recoup_score_update_detached(): the day's rebuild the desktop app runs on a
 * connection of its own while the worklist shows the previous ranks. It must
 * give exactly what the one-transaction rebuild gives, keep what was written
 * meanwhile, and change nothing when cancelled.
 */

/* Every derived row, in account order, as one string. */
static char *
stats_dump (const char *path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  GString *out = g_string_new (NULL);

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT account_id, balance, oldest_dpd, weighted_dpd, payments_90d,"
                                       " promises_kept, promises_broken, contact_attempts, score, segment,"
                                       " queue_rank, coalesce (next_action, ''),"
                                       " coalesce (next_action_reason, ''), as_of"
                                       " FROM account_stats ORDER BY account_id",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        g_string_append_printf (out, "%s|", (const char *) sqlite3_column_text (stmt, i));
      g_string_append_c (out, '\n');
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return g_string_free (out, FALSE);
}

static void
count_progress (guint64  done,
                guint64  total,
                gpointer user_data)
{
  guint *calls = user_data;

  g_assert_cmpuint (done, <=, total);
  (*calls)++;
}

static void
make_demo (TestBook *tb)
{
  g_autoptr(GError) error = NULL;
  RecoupDemoOptions options = { 0 };

  options.n_accounts = 300;
  options.seed = 7;
  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  test_book_open (tb);
  g_assert_true (recoup_demo_generate (tb->book, &options, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_score_ensure_current (tb->book, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_score_is_current (tb->book));
}

static void
test_matches_rebuild (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) other = NULL;
  g_autofree char *before = NULL;
  g_autofree char *staged = NULL;
  g_autofree char *rebuilt = NULL;
  guint calls = 0;
  TestBook tb;

  make_demo (&tb);
  before = stats_dump (tb.path);

  /* A week later: days past due moved, the ranks are another day's. */
  g_setenv ("RECOUP_TODAY", "2026-12-01", TRUE);
  g_assert_false (recoup_score_is_current (tb.book));

  other = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_score_update_detached (other, count_progress, &calls, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (calls, >, 0);
  g_assert_true (recoup_score_is_current (tb.book));
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM account_stats WHERE as_of <> '2026-12-01'"),
                   ==, 0);
  staged = stats_dump (tb.path);
  g_assert_cmpstr (staged, !=, before);

  /* The same as the whole-book rebuild in one transaction. */
  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  rebuilt = stats_dump (tb.path);
  g_assert_cmpstr (staged, ==, rebuilt);

  /* Current now: nothing to do. */
  g_assert_true (recoup_score_update_detached (other, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&other);
  test_book_close (&tb);
}

static void
test_cancelled (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) other = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  TestBook tb;

  make_demo (&tb);
  before = stats_dump (tb.path);
  g_setenv ("RECOUP_TODAY", "2026-12-02", TRUE);
  other = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  g_assert_false (recoup_score_update_detached (other, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (recoup_score_is_current (tb.book));
  after = stats_dump (tb.path);
  g_assert_cmpstr (after, ==, before);
  g_clear_object (&other);
  test_book_close (&tb);
}

/* A book written before reasons had codes holds English sentences and a
 * signature without the derived data's form: the app's update replaces every
 * row, as the one-transaction rebuild does. */
static void
test_legacy_reasons (void)
{
  const char *legacy = "12 days past due: the policy's step at 1 days is reminder email (email)";
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) other = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *staged = NULL;
  g_autofree char *rebuilt = NULL;
  char *sql;
  TestBook tb;

  make_demo (&tb);
  signature = recoup_book_get_setting (tb.book, "derived.signature");
  g_assert_true (g_str_has_prefix (signature, "form "));
  sql = sqlite3_mprintf ("UPDATE account_stats SET next_action_reason = %Q", legacy);
  g_assert_true (recoup_book_exec (tb.book, sql, &error));
  sqlite3_free (sql);
  g_assert_true (recoup_book_set_setting (tb.book, "derived.signature", strchr (signature, ';') + 1, &error));
  g_assert_no_error (error);
  g_assert_false (recoup_score_is_current (tb.book));

  other = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_score_update_detached (other, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_score_is_current (tb.book));
  sql = sqlite3_mprintf ("SELECT count(*) FROM account_stats WHERE next_action_reason = %Q", legacy);
  g_assert_cmpint (test_query_int (tb.path, sql), ==, 0);
  sqlite3_free (sql);
  staged = stats_dump (tb.path);

  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  rebuilt = stats_dump (tb.path);
  g_assert_cmpstr (staged, ==, rebuilt);
  g_clear_object (&other);
  test_book_close (&tb);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recoup/core/derived-update/matches-rebuild", test_matches_rebuild);
  g_test_add_func ("/recoup/core/derived-update/cancelled", test_cancelled);
  g_test_add_func ("/recoup/core/derived-update/legacy-reasons", test_legacy_reasons);
  return g_test_run ();
}
