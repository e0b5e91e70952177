/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "recoup-bench-util.h"
#include "recoup-demo.h"
#include "recoup-test-util.h"

/*
 * Worklist benchmark (issue 3, item 8) on a demo book of RECOUP_BENCH_ACCOUNTS
 * accounts (default 1,000,000), made by recoup_demo_generate(). Set
 * RECOUP_BENCH_BOOK to a path to keep the book (and reuse it next time: the
 * generator takes minutes at that size). Measures:
 *  - re-scoring the whole book after a change of weights (target <= 30 s for
 *    1,000,000), and rebuilding all derived data (the daily roll-over),
 *  - a top-200 worklist with filters, median of 20 (target <= 50 ms),
 *  - the app's list: a page of 200 in worklist order at the top, in the
 *    middle and at the end of the book (recoup_browse_page, what the app
 *    reads; the stored queue ranks put the accounts that wait after the
 *    work of today, so every page is an indexed read),
 *  - the same list counted, and kept to the accounts callable now (the app's
 *    "Only Accounts Callable Now" at AT: counted and paged the same way; the
 *    blocks, and when the call history stops blocking, are derived data, so
 *    it costs what the open accounts' list does), with how many accounts
 *    their call history keeps out, and the re-derivation a change of the
 *    guard's rules of the call history makes,
 *  - re-scoring one account after a payment, median of 20 (target <= 1 ms).
 */

#define TODAY "2026-11-24"
#define AT    "2026-11-24T17:00:00Z"
#define RUNS  20

static void
demo_progress (guint64  done,
               guint64  total,
               gpointer data)
{
  static gint64 last;
  gint64 now = g_get_monotonic_time ();

  if (now - last > 30 * G_USEC_PER_SEC || done == total)
    {
      fprintf (stderr, "# demo: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " accounts\n", done, total);
      last = now;
    }
}

static double
time_worklist (RecoupBook                 *book,
               const char                 *label,
               const RecoupWorklistFilter *filter)
{
  gint64 us[RUNS];
  guint n_items = 0, n_blocked = 0;

  for (guint i = 0; i < RUNS; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RecoupWorklist) wl = NULL;
      gint64 t0 = g_get_monotonic_time ();

      wl = recoup_worklist_build (book, filter, &error);
      us[i] = g_get_monotonic_time () - t0;
      g_assert_no_error (error);
      n_items = wl->items->len;
      n_blocked = wl->n_blocked;
    }
  {
    double m = bench_median_ms (us, RUNS);

    printf ("# worklist %-40s median %7.2f ms (min %.2f, max %.2f; %u accounts, %u blocked)\n",
            label, m, us[0] / 1000.0, us[RUNS - 1] / 1000.0, n_items, n_blocked);
    return m;
  }
}

static double
time_page (RecoupBook *book,
           const char *label,
           guint       offset)
{
  gint64 us[RUNS];
  guint n_rows = 0;
  double m;

  for (guint i = 0; i < RUNS; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) rows = NULL;
      gint64 t0 = g_get_monotonic_time ();

      rows = recoup_browse_page (book, offset, 200, &error);
      us[i] = g_get_monotonic_time () - t0;
      g_assert_no_error (error);
      n_rows = rows->len;
    }
  m = bench_median_ms (us, RUNS);
  printf ("# %s, a page of 200 at %7u: median %7.2f ms (%u rows)\n", label, offset, m, n_rows);
  return m;
}

/* The app's list of @flags at @at_ms: prepared and counted (median of
 * RUNS), then paged at the top, the middle and the end. */
static double
time_list (RecoupBook        *book,
           const char        *label,
           RecoupBrowseFlags  flags,
           gint64             at_ms)
{
  gint64 us[RUNS];
  gint64 n_rows = 0;
  double m, worst;

  for (guint i = 0; i < RUNS; i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean exact;
      gint64 t0 = g_get_monotonic_time ();

      g_assert_cmpint (recoup_browse_prepare_full (book, NULL, flags, at_ms, &exact, NULL, &error), >=, 0);
      g_assert_no_error (error);
      n_rows = recoup_browse_count (book, &error);
      us[i] = g_get_monotonic_time () - t0;
      g_assert_no_error (error);
    }
  worst = m = bench_median_ms (us, RUNS);
  printf ("# %s, the count: median %7.2f ms (%" G_GINT64_FORMAT " accounts)\n", label, m, n_rows);
  for (guint i = 0; i < 3; i++)
    {
      guint offset = i == 0 ? 0 : i == 1 ? (guint) n_rows / 2 : (guint) MAX (n_rows - 200, 0);

      m = time_page (book, label, offset);
      worst = MAX (worst, m);
    }
  return worst;
}

int
main (int   argc,
      char *argv[])
{
  const char *env_n = g_getenv ("RECOUP_BENCH_ACCOUNTS");
  const char *env_book = g_getenv ("RECOUP_BENCH_BOOK");
  guint n = env_n != NULL ? (guint) g_ascii_strtoull (env_n, NULL, 10) : 1000000;
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autofree char *dir = NULL, *path = NULL, *collector = NULL;
  g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_free);
  RecoupDemoOptions options = { 0 };
  gint64 t0, us[RUNS], us_write[RUNS];
  gint64 n_accounts;
  double rescore_s, weights_s, worst = 0, m, one_ms, write_ms;
  sqlite3_stmt *stmt;
  gboolean keep = env_book != NULL && *env_book != '\0';

  if (n == 0)
    n = 1000000;
  g_setenv ("RECOUP_TODAY", TODAY, TRUE);

  if (keep)
    path = g_strdup (env_book);
  else
    {
      dir = g_dir_make_tmp ("recoup-bench-XXXXXX", &error);
      g_assert_no_error (error);
      path = g_build_filename (dir, "book.recoup", NULL);
    }
  book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);

  stmt = recoup_book_prepare (book, "SELECT count(*) FROM accounts", &error);
  n_accounts = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  sqlite3_reset (stmt);
  if (n_accounts == 0)
    {
      options.n_accounts = n;
      options.seed = 1;
      options.today = TODAY;
      t0 = g_get_monotonic_time ();
      g_assert_true (recoup_demo_generate (book, &options, demo_progress, NULL, NULL, &error));
      g_assert_no_error (error);
      printf ("# demo book of %u accounts generated in %.1f s (scores kept current at every batch)\n",
              n, (g_get_monotonic_time () - t0) / 1e6);
      n_accounts = n;
    }
  else
    printf ("# reusing the book %s (%" G_GINT64_FORMAT " accounts)\n", path, n_accounts);

  /* 1. The whole book. */
  t0 = g_get_monotonic_time ();
  g_assert_true (recoup_score_refresh_book (book, NULL, NULL, &error));
  g_assert_no_error (error);
  rescore_s = (g_get_monotonic_time () - t0) / 1e6;
  printf ("# rebuild of all derived data (the daily roll-over: ledger, history, promises; %" G_GINT64_FORMAT
          " accounts): %.2f s\n", n_accounts, rescore_s);

  /* A change of weights re-scores the whole book from the stored stats. */
  {
    RecoupScoreSettings settings;

    recoup_score_settings_load (book, &settings);
    settings.weights[RECOUP_SCORE_BALANCE] += 1;
    t0 = g_get_monotonic_time ();
    g_assert_true (recoup_score_settings_save (book, &settings, NULL, NULL, &error));
    g_assert_no_error (error);
    weights_s = (g_get_monotonic_time () - t0) / 1e6;
    printf ("# re-score the whole book after a change of weights: %.2f s\n", weights_s);
  }

  /* 2. Worklists. */
  collector = bench_query_text (book, "SELECT id FROM users WHERE role = 'collector' ORDER BY id LIMIT 1");
  {
    RecoupWorklistFilter f = { .limit = 200 };

    g_assert_true (recoup_instant_parse (AT, &f.at, NULL));
    m = time_worklist (book, "top 200, no filter", &f);
    worst = MAX (worst, m);
    f.channel = "call";
    m = time_worklist (book, "top 200, --channel call", &f);
    worst = MAX (worst, m);
    f.channel = NULL;
    f.collector = collector;
    m = time_worklist (book, "top 200, --collector", &f);
    worst = MAX (worst, m);
    f.collector = NULL;
    f.segment = "high";
    f.min_balance = 100000;
    m = time_worklist (book, "top 200, --segment high --min-balance 1000", &f);
    worst = MAX (worst, m);
    f.segment = NULL;
    f.min_balance = 0;
    f.stage = "active";
    f.timezone = "America/New_York";
    m = time_worklist (book, "top 200, --stage active --timezone NY", &f);
    worst = MAX (worst, m);
    f.stage = NULL;
    f.timezone = NULL;
    f.collector = collector;
    f.segment = "medium";
    f.channel = "email";
    m = time_worklist (book, "top 200, --collector --segment medium --channel email", &f);
    worst = MAX (worst, m);
  }

  /* The app's list (the upper bound of its rows is read first), and with
   * "Only Accounts Callable Now". */
  {
    gint64 at_ms;

    g_assert_true (recoup_instant_parse (AT, &at_ms, NULL));
    m = time_list (book, "app list", RECOUP_BROWSE_OPEN_ONLY, at_ms);
    worst = MAX (worst, m);
    m = time_list (book, "app list callable now", RECOUP_BROWSE_OPEN_ONLY | RECOUP_BROWSE_CALLABLE_NOW, at_ms);
    worst = MAX (worst, m);
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM account_stats WHERE balance > 0"
                                              " AND calls_open_at > %" G_GINT64_FORMAT, at_ms);
      g_autofree char *held = bench_query_text (book, sql);

      printf ("# app list callable now: %s open accounts kept out by their call history\n", held);
    }
    t0 = g_get_monotonic_time ();
    g_assert_true (recoup_guard_set_rule (book, "conversation_days", "6", &error));
    g_assert_no_error (error);
    printf ("# re-derive when the call history stops blocking after a change of the guard's rules: %.2f s\n",
            (g_get_monotonic_time () - t0) / 1e6);
  }

  /* 3. One account after a payment: the write with its refresh, and the
   * refresh alone (a transaction that touches the account). */
  stmt = recoup_book_prepare (book, "SELECT account_id FROM account_stats WHERE balance > 10000"
                                    " ORDER BY account_id LIMIT ?", &error);
  sqlite3_bind_int (stmt, 1, (int) MIN (n_accounts, 100000));
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (accounts, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
  sqlite3_reset (stmt);
  g_assert_cmpuint (accounts->len, >=, RUNS);
  for (guint i = 0; i < RUNS; i++)
    {
      const char *id = accounts->pdata[(i * 7919) % accounts->len];
      RecoupEntrySpec pay = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = id, .amount = 100,
                              .effective_date = TODAY, .method = "cash" };
      g_autofree char *entry = NULL;

      t0 = g_get_monotonic_time ();
      entry = recoup_ledger_record (book, &pay, &error);
      us_write[i] = g_get_monotonic_time () - t0;
      g_assert_no_error (error);

      t0 = g_get_monotonic_time ();
      g_assert_true (recoup_book_begin (book, &error));
      recoup_book_touch_account (book, id);
      g_assert_true (recoup_book_commit (book, &error));
      us[i] = g_get_monotonic_time () - t0;
    }
  write_ms = bench_median_ms (us_write, RUNS);
  one_ms = bench_median_ms (us, RUNS);
  printf ("# payment recorded with its re-score, median: %.3f ms\n", write_ms);
  printf ("# re-score of one account (refresh + commit), median: %.3f ms\n", one_ms);

  printf ("# SUMMARY accounts=%" G_GINT64_FORMAT " worklist_worst_median_ms=%.2f rescore_one_ms=%.3f "
          "payment_write_ms=%.3f weights_rescore_s=%.2f rebuild_s=%.2f\n",
          n_accounts, worst, one_ms, write_ms, weights_s, rescore_s);
  printf ("1..1\nok 1 worklist benchmark\n");

  g_clear_object (&book);
  if (!keep)
    test_remove_tree (dir);
  return 0;
}
