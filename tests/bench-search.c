/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recoup-bench-util.h"
#include "recoup-demo.h"
#include "recoup-test-util.h"

/*
 * Search benchmark: what one keystroke in the app's search entry costs on a
 * demo book of RECOUP_BENCH_ACCOUNTS accounts (default 500,000), made by
 * recoup_demo_generate(); RECOUP_BENCH_BOOK keeps (and reuses) the book, as
 * in bench-worklist. A keystroke is recoup_browse_prepare_quick() and the
 * first page the list shows (RECOUP_WORKLIST_PAGE_SIZE, 200 rows), median of
 * RUNS. The queries come from the book: a name typed without its accents, a
 * phone number in four shapes, a reference, whole, without its dash and by its
 * number, an e-mail address and its domain (a company's, and one most private
 * addresses share), an invoice and a receipt number, a name typed letter by
 * letter and a text nothing matches. Target: well under 100 ms.
 */

#define TODAY "2026-11-24"
#define RUNS  9
#define PAGE  200

static double worst;  /* the slowest median so far */

static double
time_search (RecoupBook *book,
             const char *label,
             const char *search)
{
  gint64 us[RUNS];
  gint64 count = 0;
  double m;

  for (guint i = 0; i < RUNS; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) rows = NULL;
      gboolean exact = TRUE;
      gint64 t0 = g_get_monotonic_time ();

      count = recoup_browse_prepare_quick (book, search, TRUE, &exact, NULL, &error);
      g_assert_no_error (error);
      rows = recoup_browse_page (book, 0, PAGE, &error);
      g_assert_no_error (error);
      us[i] = g_get_monotonic_time () - t0;
      g_assert_cmpuint (rows->len, ==, MIN (count, PAGE));
    }
  m = bench_median_ms (us, RUNS);
  worst = MAX (worst, m);
  printf ("# search %-16s %-24s median %8.2f ms (min %.2f, max %.2f): %" G_GINT64_FORMAT " accounts\n",
          label, search, m, us[0] / 1000.0, us[RUNS - 1] / 1000.0, count);
  return m;
}

int
main (int   argc,
      char *argv[])
{
  const char *env_n = g_getenv ("RECOUP_BENCH_ACCOUNTS");
  const char *env_book = g_getenv ("RECOUP_BENCH_BOOK");
  guint n = env_n != NULL ? (guint) g_ascii_strtoull (env_n, NULL, 10) : 500000;
  gboolean keep = env_book != NULL && *env_book != '\0';
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autofree char *dir = NULL, *path = NULL;
  g_autofree char *name = NULL, *folded = NULL, *reversed = NULL, *phone = NULL, *ref = NULL, *email = NULL;
  g_autofree char *digits = NULL, *dashed = NULL, *local = NULL, *ref_prefix = NULL;
  g_autofree char *company = NULL, *invoice = NULL, *receipt = NULL, *ref_plain = NULL;
  const char *number;
  gint64 n_accounts, t0;
  sqlite3_stmt *stmt;

  if (n == 0)
    n = 500000;
  g_setenv ("RECOUP_TODAY", TODAY, TRUE);

  if (keep)
    path = g_strdup (env_book);
  else
    {
      dir = g_dir_make_tmp ("recoup-bench-XXXXXX", &error);
      g_assert_no_error (error);
      path = g_build_filename (dir, "book.recoup", NULL);
    }
  t0 = g_get_monotonic_time ();
  book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  printf ("# book opened in %.2f s (migrations included)\n", (g_get_monotonic_time () - t0) / 1e6);

  stmt = recoup_book_prepare (book, "SELECT count(*) FROM accounts", &error);
  n_accounts = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  sqlite3_reset (stmt);
  if (n_accounts == 0)
    {
      RecoupDemoOptions options = { .n_accounts = n, .seed = 1, .today = TODAY };

      t0 = g_get_monotonic_time ();
      g_assert_true (recoup_demo_generate (book, &options, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      printf ("# demo book of %u accounts generated in %.1f s\n", n, (g_get_monotonic_time () - t0) / 1e6);
      n_accounts = n;
    }
  else
    printf ("# reusing the book %s (%" G_GINT64_FORMAT " accounts)\n", path, n_accounts);

  /* The list reads the derived ranks; bring them to today once. */
  if (!recoup_score_is_current (book))
    {
      t0 = g_get_monotonic_time ();
      g_assert_true (recoup_score_refresh_book (book, NULL, NULL, &error));
      g_assert_no_error (error);
      printf ("# derived data rebuilt in %.1f s\n", (g_get_monotonic_time () - t0) / 1e6);
    }

  /* Queries from the book itself. */
  name = bench_query_text (book, "SELECT name FROM accounts WHERE deleted = 0 AND name LIKE '%á%'"
                           " ORDER BY ref LIMIT 1");
  phone = bench_query_text (book, "SELECT value FROM contact_points WHERE deleted = 0 AND kind = 'phone'"
                            " AND value LIKE '(%' ORDER BY id LIMIT 1");
  ref = bench_query_text (book, "SELECT ref FROM accounts WHERE deleted = 0 ORDER BY ref LIMIT 1 OFFSET 1234");
  email = bench_query_text (book, "SELECT value FROM contact_points WHERE deleted = 0 AND kind = 'email'"
                            " ORDER BY id LIMIT 1 OFFSET 1234");
  company = bench_query_text (book, "SELECT substr (value, instr (value, '@') + 1) FROM contact_points"
                              " WHERE deleted = 0 AND kind = 'email' AND value NOT LIKE '%@example.%'"
                              " ORDER BY id LIMIT 1 OFFSET 1234");
  invoice = bench_query_text (book, "SELECT lower (ref) FROM invoices ORDER BY ref LIMIT 1 OFFSET 1234");
  receipt = bench_query_text (book, "SELECT receipt_no FROM ledger_entries WHERE receipt_no IS NOT NULL"
                              " ORDER BY receipt_no LIMIT 1 OFFSET 1234");
  g_assert_nonnull (name);
  g_assert_nonnull (company);
  g_assert_nonnull (invoice);
  g_assert_nonnull (receipt);
  g_assert_nonnull (phone);
  g_assert_nonnull (ref);
  g_assert_nonnull (email);
  folded = g_str_to_ascii (name, "C");
  {
    GString *d = g_string_new (NULL);

    for (const char *p = phone; *p != '\0'; p++)
      if (g_ascii_isdigit (*p))
        g_string_append_c (d, *p);
    digits = g_string_free (d, FALSE);
  }
  g_assert_cmpuint (strlen (digits), ==, 10);
  dashed = g_strdup_printf ("%.3s-%.3s-%s", digits, digits + 3, digits + 6);
  local = g_strdup_printf ("%.3s-%s", digits + 3, digits + 6);
  ref_prefix = g_strndup (ref, strlen (ref) - 2);
  {
    g_auto(GStrv) parts = g_strsplit (ref, "-", -1);

    ref_plain = g_strjoinv ("", parts);
  }
  number = strrchr (ref, '-') + 1;
  while (*number == '0')
    number++;

  time_search (book, "name (accented)", name);
  time_search (book, "name (plain)", folded);
  {
    g_auto(GStrv) words = g_strsplit (folded, " ", -1);
    guint n_words = g_strv_length (words);

    /* Surname first: the search of several words, in any order. */
    for (guint i = 0; i < n_words / 2; i++)
      {
        char *w = words[i];

        words[i] = words[n_words - 1 - i];
        words[n_words - 1 - i] = w;
      }
    reversed = g_strjoinv (" ", words);
  }
  time_search (book, "name (words reversed)", reversed);
  /* Two words that many names have: the longest one's range is read whole. */
  time_search (book, "two common words", "gmbh co");
  time_search (book, "phone (stored)", phone);
  time_search (book, "phone (digits)", digits);
  time_search (book, "phone (dashed)", dashed);
  time_search (book, "phone (local)", local);
  time_search (book, "reference", ref);
  time_search (book, "reference start", ref_prefix);
  time_search (book, "reference plain", ref_plain);
  time_search (book, "reference number", number);
  time_search (book, "e-mail", email);
  time_search (book, "e-mail domain", company);
  time_search (book, "e-mail domain", "example.com");
  time_search (book, "invoice", invoice);
  {
    /* Its number alone, as a debtor reads it out: each prefix's seek. */
    const char *digits_end = invoice + strlen (invoice), *invoice_number = digits_end;

    while (invoice_number > invoice && g_ascii_isdigit (invoice_number[-1]))
      invoice_number--;
    while (*invoice_number == '0' && invoice_number + 1 < digits_end)
      invoice_number++;
    time_search (book, "invoice number", invoice_number);
  }
  time_search (book, "receipt", receipt);
  time_search (book, "no match", "zqxwv");
  /* A name typed letter by letter: the first keystrokes match the most. */
  for (guint len = 1; len <= 4 && len <= strlen (folded); len++)
    {
      g_autofree char *typed = g_strndup (folded, len);

      time_search (book, "typing", typed);
    }

  printf ("# SUMMARY accounts=%" G_GINT64_FORMAT " search_worst_median_ms=%.2f\n", n_accounts, worst);
  printf ("1..1\nok 1 search benchmark\n");

  g_clear_object (&book);
  if (!keep)
    test_remove_tree (dir);
  return 0;
}
