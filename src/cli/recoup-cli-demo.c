/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "recoup-cli.h"
#include "recoup-demo.h"

static void
show_progress (guint64  done,
               guint64  total,
               gpointer user_data)
{
  gint64 *started = user_data;
  gint64 elapsed = g_get_monotonic_time () - *started;
  guint64 rate = elapsed > 0 ? done * G_USEC_PER_SEC / (guint64) elapsed : 0;

  fprintf (stderr, "\r%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " accounts (%" G_GUINT64_FORMAT "%%), "
           "%" G_GUINT64_FORMAT " accounts/s   ", done, total, total ? done * 100 / total : 100, rate);
  if (done == total)
    fputc ('\n', stderr);
  fflush (stderr);
}

static gboolean
book_has_accounts (RecoupBook  *book,
                   gboolean    *out_has,
                   GError     **error)
{
  RecoupAccountFilter filter = { .limit = 1 };
  g_autoptr(GPtrArray) list = recoup_account_list (book, &filter, error);

  if (list == NULL)
    return FALSE;
  *out_has = list->len > 0;
  return TRUE;
}

int
recoup_cli_cmd_demo (RecoupCli  *cli,
                     int         argc,
                     char      **argv)
{
  int n_accounts = 2000;
  gint64 seed = 1;
  g_autofree char *today = NULL;
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    { "accounts", 'n', 0, G_OPTION_ARG_INT, &n_accounts, "How many accounts to make (default 2000)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed: the same seed and day give the same book (default 1)", "S" },
    { "today", 0, 0, G_OPTION_ARG_STRING, &today, "The day the history ends on (default: today)", "YYYY-MM-DD" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Add demo accounts even if the book already has accounts", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) aging = NULL;
  g_autofree char *as_of = NULL;
  RecoupDemoOptions options = { 0 };
  RecoupDemoCounts counts = { 0 };
  RecoupBook *book;
  gboolean has_accounts = FALSE;
  gboolean tty;
  gint64 started;
  double seconds;
  int status;

  if (!recoup_cli_parse (cli, "",
                         "Fill a book with realistic, made-up accounts: customers in the US and "
                         "Europe, invoices, payments, calls, letters, promises and disputes. The "
                         "same seed and day always give the same book.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 0)
    return recoup_cli_usage (cli, "demo takes no arguments; give the size with --accounts N");
  if (n_accounts < 1 || n_accounts > 10000000)
    return recoup_cli_usage (cli, "--accounts must be from 1 to 10000000, not %d", n_accounts);
  if (seed < 0 || seed > G_MAXUINT32)
    return recoup_cli_usage (cli, "--seed must be from 0 to %u, not %" G_GINT64_FORMAT, G_MAXUINT32, seed);
  if (today != NULL && !recoup_date_is_valid (today))
    return recoup_cli_usage (cli, "--today must be a date like 2026-06-30, not “%s”", today);

  if (!(book = recoup_cli_open_book (cli, TRUE, &error)))
    return recoup_cli_fail (cli, error);
  if (!book_has_accounts (book, &has_accounts, &error))
    return recoup_cli_fail (cli, error);
  if (has_accounts && !force)
    {
      g_set_error (&error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   "%s already has accounts; nothing was changed. Use another book (--book PATH) "
                   "or add the demo accounts anyway with --force",
                   recoup_book_get_path (book));
      return recoup_cli_fail (cli, error);
    }

  options.n_accounts = (guint) n_accounts;
  options.seed = (guint32) seed;
  options.today = today;
  tty = !cli->json && isatty (fileno (stderr));
  started = g_get_monotonic_time ();
  if (!recoup_demo_generate_counted (book, &options, tty ? show_progress : NULL, &started, NULL,
                                     &counts, &error))
    {
      if (counts.accounts > 0)
        g_prefix_error (&error, "stopped after %" G_GUINT64_FORMAT " accounts (they stay in the book): ",
                        counts.accounts);
      return recoup_cli_fail (cli, error);
    }
  seconds = (double) (g_get_monotonic_time () - started) / G_USEC_PER_SEC;

  as_of = today != NULL ? g_strdup (today) : recoup_book_today (book);
  if (!(aging = recoup_aging_summary (book, as_of, &error)))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      recoup_cli_json_str (b, "book", recoup_book_get_path (book));
      recoup_cli_json_int (b, "seed", seed);
      recoup_cli_json_str (b, "today", as_of);
      recoup_cli_json_int (b, "accounts", (gint64) counts.accounts);
      recoup_cli_json_int (b, "contact_points", (gint64) counts.contact_points);
      recoup_cli_json_int (b, "invoices", (gint64) counts.invoices);
      recoup_cli_json_int (b, "ledger_entries", (gint64) counts.ledger_entries);
      recoup_cli_json_int (b, "activities", (gint64) counts.activities);
      recoup_cli_json_int (b, "promises", (gint64) counts.promises);
      recoup_cli_json_int (b, "disputes", (gint64) counts.disputes);
      recoup_cli_json_int (b, "users", (gint64) counts.users);
      recoup_cli_json_int (b, "milliseconds", (gint64) (seconds * 1000));
      json_builder_set_member_name (b, "outstanding");
      json_builder_begin_array (b);
      for (guint i = 0; i < aging->len; i++)
        {
          RecoupAgingRow *row = g_ptr_array_index (aging, i);

          json_builder_begin_object (b);
          recoup_cli_json_str (b, "currency", row->currency);
          recoup_cli_json_int (b, "total", row->total);
          recoup_cli_json_int (b, "accounts", row->n_accounts);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
      return RECOUP_CLI_OK;
    }

  printf ("Made %" G_GUINT64_FORMAT " demo accounts in %s (seed %" G_GINT64_FORMAT ", history up to %s)\n",
          counts.accounts, recoup_book_get_path (book), seed, as_of);
  printf ("  %" G_GUINT64_FORMAT " invoices, %" G_GUINT64_FORMAT " ledger entries, %" G_GUINT64_FORMAT
          " contacts logged, %" G_GUINT64_FORMAT " promises, %" G_GUINT64_FORMAT " disputes, %"
          G_GUINT64_FORMAT " new users\n",
          counts.invoices, counts.ledger_entries, counts.activities, counts.promises, counts.disputes,
          counts.users);
  {
    g_autoptr(RecoupCliTable) table = recoup_cli_table_new ("Currency", "Outstanding", "Accounts", NULL);

    recoup_cli_table_align_right (table, 1);
    recoup_cli_table_align_right (table, 2);
    for (guint i = 0; i < aging->len; i++)
      {
        RecoupAgingRow *row = g_ptr_array_index (aging, i);
        g_autofree char *total = recoup_cli_money (row->total, row->currency);
        g_autofree char *n = g_strdup_printf ("%" G_GINT64_FORMAT, row->n_accounts);

        recoup_cli_table_add (table, row->currency, total, n, NULL);
      }
    recoup_cli_table_print (table);
  }
  printf ("Took %.1f s (%.0f accounts/s).\n", seconds,
          seconds > 0 ? (double) counts.accounts / seconds : 0.0);
  return RECOUP_CLI_OK;
}
