/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "recoup-book-private.h"
#include "recoup-demo.h"
#include "recoup-report.h"
#include "recoup-test-util.h"

/*
 * Statements and aging benchmark (issue 7, item 7).
 *
 *  1. RECOUP_BENCH_STATEMENTS (default 10,000) statements to PDF from a demo
 *     book of that many accounts (recoup_demo_generate), in one file and one
 *     file per account. Target: <= 20 s for 10,000. Building (SQL) and
 *     rendering (cairo + pango) are timed apart.
 *  2. Aging as of a day over RECOUP_BENCH_AGING_ACCOUNTS (default 1,000,000)
 *     accounts: each with two invoices, a payment on half of them, a fee on a
 *     tenth, written straight with SQL (the demo generator would take many
 *     minutes at that size). Times recoup_aging_summary() (the book summary)
 *     and recoup_aging_report() by account and by collector. Target <= 2 s.
 *
 * Prints TAP with the figures as comments; a missed target is reported, not
 * failed (the machine is shared).
 */

#define TODAY "2026-11-24"

static double
seconds_since (gint64 start)
{
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

static guint
env_uint (const char *name,
          guint       fallback)
{
  const char *v = g_getenv (name);

  return v != NULL && *v != '\0' ? (guint) g_ascii_strtoull (v, NULL, 10) : fallback;
}

static void
bench_statements (guint n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(GPtrArray) statements = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_statement_free);
  g_autoptr(RecoupBusinessInfo) business = NULL;
  g_autoptr(RecoupStatementWriter) w = NULL;
  g_autofree char *pdf = NULL, *each = NULL;
  RecoupDemoOptions options = { .n_accounts = n, .seed = 7, .today = TODAY };
  TestBook tb = { 0 };
  gint64 t0;
  double gen, build, render, render_cpu, per_file;
  clock_t cpu0;
  struct stat sb;

  test_book_open (&tb);
  t0 = g_get_monotonic_time ();
  g_assert_true (recoup_demo_generate (tb.book, &options, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  gen = seconds_since (t0);
  recoup_settings_set_shared (tb.book, "business.name", "Harbor Supply Co.", NULL);
  recoup_settings_set_shared (tb.book, "business.payment_instructions",
                              "Bank transfer to account 0012 3456 7890.", NULL);
  business = recoup_business_info_load (tb.book);

  t0 = g_get_monotonic_time ();
  ids = recoup_statement_accounts_for_period (tb.book, "2026-01-01", TODAY, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < ids->len; i++)
    {
      RecoupStatement *st = recoup_statement_build (tb.book, g_ptr_array_index (ids, i), "2026-01-01", TODAY, &error);

      g_assert_no_error (error);
      g_ptr_array_add (statements, st);
    }
  build = seconds_since (t0);

  pdf = g_build_filename (tb.dir, "all.pdf", NULL);
  cpu0 = clock ();
  t0 = g_get_monotonic_time ();
  w = recoup_statement_writer_new (pdf, RECOUP_REPORT_PDF, RECOUP_PAPER_A4, business, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < statements->len; i++)
    g_assert_true (recoup_statement_writer_add (w, g_ptr_array_index (statements, i), &error));
  g_assert_true (recoup_statement_writer_finish (w, &error));
  g_assert_no_error (error);
  render = seconds_since (t0);
  render_cpu = (double) (clock () - cpu0) / CLOCKS_PER_SEC;
  g_assert_cmpint (g_stat (pdf, &sb), ==, 0);

  each = g_build_filename (tb.dir, "each", NULL);
  g_mkdir (each, 0700);
  t0 = g_get_monotonic_time ();
  g_clear_pointer (&w, recoup_statement_writer_free);
  for (guint i = 0; i < statements->len; i++)
    {
      RecoupStatement *st = g_ptr_array_index (statements, i);
      g_autofree char *name = g_strdup_printf ("%s.pdf", st->account_ref);
      g_autofree char *path = g_build_filename (each, name, NULL);

      if (w == NULL)
        w = recoup_statement_writer_new (path, RECOUP_REPORT_PDF, RECOUP_PAPER_A4, business, &error);
      else
        recoup_statement_writer_next_file (w, path, &error);
      g_assert_no_error (error);
      g_assert_true (recoup_statement_writer_add (w, st, &error));
    }
  g_assert_true (w == NULL || recoup_statement_writer_finish (w, &error));
  g_assert_no_error (error);
  per_file = seconds_since (t0);

  printf ("# statements: %u accounts (demo made in %.1f s), %u with a balance\n", n, gen, ids->len);
  printf ("# statements: build (SQL, core) %.2f s = %.3f ms each\n", build, build * 1000 / MAX (ids->len, 1));
  printf ("# statements: one PDF %.2f s = %.3f ms each (CPU %.2f s; the rest is waiting on a shared machine), %.1f MB\n",
          render, render * 1000 / MAX (ids->len, 1), render_cpu, (double) sb.st_size / 1e6);
  printf ("# statements: one PDF per account %.2f s\n", per_file);
  printf ("# statements: build + one PDF %.2f s for %u (target <= 20 s for 10,000)%s\n", build + render,
          ids->len, build + render <= 20.0 * ids->len / 10000 ? "" : "  MISSED");
  printf ("ok 1 statements to PDF\n");
  test_book_close (&tb);
}

static void
fill_aging_book (const char *path,
                 guint       n)
{
  sqlite3 *db;
  char *err = NULL;
  g_autofree char *sql = g_strdup_printf (
    "PRAGMA synchronous = OFF;"
    "BEGIN;"
    "INSERT INTO users (id, name, role, created_at) VALUES"
    " ('u0', 'Ana', 'collector', 0), ('u1', 'Ben', 'collector', 0), ('u2', 'Cy', 'collector', 0);"
    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %u)"
    " INSERT INTO accounts (id, ref, name, currency, assigned_to, created_at)"
    " SELECT printf('a%%08d', i), printf('B-%%08d', i), printf('Debtor %%d', i),"
    "  CASE WHEN i %% 5 = 0 THEN 'EUR' ELSE 'USD' END, 'u' || (i %% 3), 0 FROM n;"
    "INSERT INTO invoices (id, account_id, ref, issue_date, due_date, amount, currency, created_at)"
    " SELECT 'i1' || substr(id, 2), id, 'I1' || substr(ref, 2),"
    "  date('2026-11-24', printf('-%%d days', 30 + (rowid * 7) %% 300)),"
    "  date('2026-11-24', printf('-%%d days', (rowid * 7) %% 300)), 10000 + (rowid * 37) %% 90000, currency, 0"
    " FROM accounts;"
    "INSERT INTO invoices (id, account_id, ref, issue_date, due_date, amount, currency, created_at)"
    " SELECT 'i2' || substr(id, 2), id, 'I2' || substr(ref, 2), '2026-11-01', '2026-12-01',"
    "  5000 + (rowid * 13) %% 20000, currency, 0 FROM accounts;"
    "INSERT INTO ledger_entries (id, account_id, invoice_id, kind, amount, currency, effective_date, created_at)"
    " SELECT 'c' || substr(id, 2), account_id, id, 'charge', amount, currency, issue_date, 0 FROM invoices;"
    "INSERT INTO ledger_entries (id, account_id, kind, amount, currency, effective_date, created_at)"
    " SELECT 'p' || substr(id, 2), id, 'payment', -(3000 + (rowid * 11) %% 9000), currency, '2026-11-10', 0"
    " FROM accounts WHERE rowid %% 2 = 0;"
    "INSERT INTO ledger_entries (id, account_id, kind, amount, currency, effective_date, created_at)"
    " SELECT 'f' || substr(id, 2), id, 'fee', 2500, currency, '2026-10-01', 0 FROM accounts WHERE rowid %% 10 = 0;"
    "COMMIT;", n);

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &err) != SQLITE_OK)
    g_error ("filling the aging book: %s", err);
  sqlite3_close (db);
}

/* Where the time of the summary goes: the same scan with no work per row, and
 * variants of it. */
static double
time_scan (RecoupBook *book,
           const char *sql)
{
  sqlite3_stmt *s = NULL;
  gint64 t0 = g_get_monotonic_time ();
  gint64 rows = 0, sum = 0;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &s, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (s, 1, TODAY, -1, SQLITE_STATIC);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      for (int c = 0; c < sqlite3_column_count (s); c++)
        sum += sqlite3_column_bytes (s, c);
      rows++;
    }
  sqlite3_finalize (s);
  g_assert_cmpint (rows, >, 0);
  return seconds_since (t0);
}

static void
bench_aging (guint n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) summary = NULL;
  g_autoptr(GPtrArray) by_account = NULL;
  g_autoptr(GPtrArray) by_collector = NULL;
  TestBook tb = { 0 };
  g_autofree char *path = NULL;
  gint64 t0, entries;
  double fill, t_summary, t_account, t_collector;

  test_book_open (&tb);
  path = g_strdup (tb.path);
  g_clear_object (&tb.book);
  t0 = g_get_monotonic_time ();
  fill_aging_book (path, n);
  fill = seconds_since (t0);
  entries = test_query_int (path, "SELECT count(*) FROM ledger_entries");
  tb.book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);

  t0 = g_get_monotonic_time ();
  summary = recoup_aging_summary (tb.book, TODAY, &error);
  t_summary = seconds_since (t0);
  g_assert_no_error (error);

  t0 = g_get_monotonic_time ();
  by_account = recoup_aging_report (tb.book, TODAY, RECOUP_AGING_BY_ACCOUNT, &error);
  t_account = seconds_since (t0);
  g_assert_no_error (error);

  t0 = g_get_monotonic_time ();
  by_collector = recoup_aging_report (tb.book, TODAY, RECOUP_AGING_BY_COLLECTOR, &error);
  t_collector = seconds_since (t0);
  g_assert_no_error (error);

  /* The report and the summary agree. */
  for (guint i = 0; i < summary->len; i++)
    {
      RecoupAgingRow *s = g_ptr_array_index (summary, i);
      gint64 total = 0;

      for (guint j = 0; j < by_collector->len; j++)
        {
          RecoupAgingReportRow *r = g_ptr_array_index (by_collector, j);

          if (g_strcmp0 (r->currency, s->currency) == 0)
            total += r->total;
        }
      g_assert_cmpint (total, ==, s->total);
    }

  {
    double scan = time_scan (tb.book,
      "SELECT l.account_id, l.currency, l.id, l.invoice_id, i.due_date, l.effective_date, l.amount,"
      " l.kind = 'reversal' FROM ledger_entries l LEFT JOIN invoices i ON i.id = l.invoice_id"
      " WHERE l.effective_date <= ? ORDER BY l.account_id");
    double nojoin = time_scan (tb.book,
      "SELECT l.account_id, l.currency, l.id, l.invoice_id, l.effective_date, l.amount,"
      " l.kind = 'reversal' FROM ledger_entries l WHERE l.effective_date <= ? ORDER BY l.account_id");
    double rowid = time_scan (tb.book,
      "SELECT l.account_id, l.currency, l.id, l.invoice_id, l.effective_date, l.amount,"
      " l.kind = 'reversal' FROM ledger_entries l WHERE l.effective_date <= ?");

    printf ("# aging: the summary's SQL alone (step + read columns) %.2f s; without the invoices join %.2f s;"
            " without join or ORDER BY (table order) %.2f s\n", scan, nojoin, rowid);
  }
  printf ("# aging: %u accounts, %" G_GINT64_FORMAT " ledger entries (written in %.1f s)\n", n, entries, fill);
  printf ("# aging: recoup_aging_summary %.2f s (target <= 2 s)%s\n", t_summary, t_summary <= 2.0 ? "" : "  MISSED");
  printf ("# aging: recoup_aging_report by account %.2f s (%u rows)\n", t_account, by_account->len);
  printf ("# aging: recoup_aging_report by collector %.2f s (%u rows)\n", t_collector, by_collector->len);
  printf ("ok 2 aging\n");
  test_book_close (&tb);
}

int
main (int   argc,
      char *argv[])
{
  guint statements = env_uint ("RECOUP_BENCH_STATEMENTS", 10000);
  guint aging = env_uint ("RECOUP_BENCH_AGING_ACCOUNTS", 1000000);

  g_setenv ("RECOUP_TODAY", TODAY, TRUE);
  printf ("1..2\n");
  bench_statements (statements);
  bench_aging (aging);
  return 0;
}
