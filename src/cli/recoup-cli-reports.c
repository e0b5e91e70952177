/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "recoup-cli.h"
#include "recoup-report.h"

/* Core's period check, worded by the option at fault. */
static gboolean
check_period (const char  *from,
              const char  *to,
              GError     **error)
{
  g_autoptr(GError) local = NULL;

  switch (recoup_period_check (from, to, &local))
    {
    case RECOUP_PERIOD_VALID:
      return TRUE;
    case RECOUP_PERIOD_BAD_FROM:
      g_set_error (error, local->domain, local->code, "--from: %s", local->message);
      return FALSE;
    case RECOUP_PERIOD_BAD_TO:
      g_set_error (error, local->domain, local->code, "--to: %s", local->message);
      return FALSE;
    case RECOUP_PERIOD_REVERSED:
    default:
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
}

/* The period from the options: --to defaults to today, --from to the first
 * day of --to's month. Validated before anything is written. */
static gboolean
resolve_period (RecoupBook  *book,
                char       **from,
                char       **to,
                GError     **error)
{
  if (*to == NULL)
    *to = recoup_book_today (book);
  if (*from == NULL && recoup_date_is_valid (*to))
    {
      *from = g_strdup (*to);
      (*from)[8] = '0';
      (*from)[9] = '1';
    }
  return check_period (*from, *to, error);
}

static gboolean
resolve_format (const char          *text,
                RecoupReportFormat   fallback,
                RecoupReportFormat  *out_format)
{
  if (text == NULL)
    {
      *out_format = fallback;
      return TRUE;
    }
  return recoup_report_format_from_string (text, out_format);
}

static gboolean
resolve_paper (RecoupBook          *book,
               const char          *text,
               RecoupBusinessInfo  *business,
               RecoupPaper         *out_paper,
               GError             **error)
{
  if (text == NULL)
    text = business->paper;
  if (text == NULL)
    {
      *out_paper = recoup_paper_for_locale ();
      return TRUE;
    }
  if (!recoup_paper_from_string (text, out_paper))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "--paper: “%s” is not a paper size; use a4 or letter", text);
      return FALSE;
    }
  return TRUE;
}

static void
print_progress (guint64 done,
                guint64 total)
{
  if (isatty (fileno (stderr)))
    fprintf (stderr, "\rStatements: %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "%s",
             done, total, done == total ? "\n" : "");
  else if (done == total || done % 1000 == 0)
    fprintf (stderr, "Statements: %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\n", done, total);
}

/* A file name for an account reference: what a file system may hold, and
 * none taken by an earlier statement of the same run (@taken holds their
 * case-folded names, for file systems that ignore case). Two references that
 * map to one name ("a/b" and "a_b") get "-2", "-3", … in the order written,
 * so the same book gives the same names. */
static char *
file_name_for (const char *ref,
               const char *extension,
               GHashTable *taken)
{
  g_autofree char *safe = g_strdup (ref);
  char *name = NULL;

  for (char *c = safe; *c != '\0'; c++)
    if (*c == '/' || *c == '\\' || *c == ':' || (guchar) *c < 0x20)
      *c = '_';
  if (safe[0] == '.')
    safe[0] = '_';
  for (guint n = 1; name == NULL; n++)
    {
      g_autofree char *candidate = n == 1 ? g_strdup_printf ("%s.%s", safe, extension)
                                          : g_strdup_printf ("%s-%u.%s", safe, n, extension);
      char *key = g_utf8_casefold (candidate, -1);

      if (g_hash_table_add (taken, key))
        name = g_steal_pointer (&candidate);
    }
  return name;
}

static gboolean
write_statements (RecoupBook          *book,
                  GPtrArray           *account_ids,
                  const char          *from,
                  const char          *to,
                  RecoupReportFormat   format,
                  RecoupPaper          paper,
                  RecoupBusinessInfo  *business,
                  const char          *path,
                  gboolean             one_file,
                  GError             **error)
{
  g_autoptr(RecoupStatementWriter) writer = NULL;
  g_autoptr(GHashTable) taken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (one_file)
    {
      if (!(writer = recoup_statement_writer_new (path, format, paper, business, error)))
        return FALSE;
    }
  else if (g_mkdir_with_parents (path, 0777) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot create the folder “%s”: %s; give a folder you may write to with --output",
                   path, g_strerror (saved));
      return FALSE;
    }

  for (guint i = 0; i < account_ids->len; i++)
    {
      g_autoptr(RecoupStatement) st = recoup_statement_build (book, g_ptr_array_index (account_ids, i),
                                                              from, to, error);

      if (st == NULL)
        return FALSE;
      if (!one_file)
        {
          g_autofree char *name = file_name_for (st->account_ref, recoup_report_format_extension (format),
                                                 taken);
          g_autofree char *file = g_build_filename (path, name, NULL);

          if (writer == NULL)
            writer = recoup_statement_writer_new (file, format, paper, business, error);
          else if (!recoup_statement_writer_next_file (writer, file, error))
            return FALSE;
          if (writer == NULL || !recoup_statement_writer_add (writer, st, error))
            return FALSE;
        }
      else if (!recoup_statement_writer_add (writer, st, error))
        return FALSE;
      if (account_ids->len > 1)
        print_progress (i + 1, account_ids->len);
    }
  return writer == NULL || recoup_statement_writer_finish (writer, error);
}

int
recoup_cli_cmd_statement (RecoupCli  *cli,
                          int         argc,
                          char      **argv)
{
  g_autofree char *from = NULL, *to = NULL, *format_text = NULL, *output = NULL, *paper_text = NULL;
  gboolean all = FALSE, one_file = FALSE;
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "First day of the period (default: the first of --to's month)", "DATE" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "Last day of the period (default today)", "DATE" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Every account with a balance at --to or an entry in the period", NULL },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, "pdf (default), csv, xlsx or json", "FORMAT" },
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "The file to write (with --all: a folder, one file per account)", "PATH" },
    { "one-file", 0, 0, G_OPTION_ARG_NONE, &one_file, "With --all: every statement in one file", NULL },
    { "paper", 0, 0, G_OPTION_ARG_STRING, &paper_text, "a4 or letter (default: setting report.paper, else by locale)", "SIZE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBusinessInfo) business = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  RecoupReportFormat format;
  RecoupPaper paper;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT | --all",
                         "Write account statements for a period: opening balance, every entry, closing\n"
                         "balance, aging, the payment plan and how to pay.",
                         entries, &argc, &argv, &status))
    return status;
  if ((all && argc != 0) || (!all && argc != 1))
    return recoup_cli_usage (cli, "give one ACCOUNT (reference or id) or --all");
  if (!resolve_format (format_text, cli->json ? RECOUP_REPORT_JSON : RECOUP_REPORT_PDF, &format))
    return recoup_cli_usage (cli, "--format: “%s” is not one of pdf, csv, xlsx, json", format_text);
  if (one_file && !all)
    return recoup_cli_usage (cli, "--one-file goes with --all");
  if (output == NULL && !(format == RECOUP_REPORT_JSON && !all))
    return recoup_cli_usage (cli, "--output PATH is required for %s", all ? "--all" : "this format");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) || !resolve_period (book, &from, &to, &error))
    return recoup_cli_fail (cli, error);
  business = recoup_business_info_load (book);
  if (!resolve_paper (book, paper_text, business, &paper, &error))
    return recoup_cli_fail (cli, error);

  if (all)
    {
      if (!(ids = recoup_statement_accounts_for_period (book, from, to, &error)))
        return recoup_cli_fail (cli, error);
    }
  else
    {
      char *id = recoup_account_resolve (book, argv[0], &error);

      if (id == NULL)
        return recoup_cli_fail (cli, error);
      ids = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (ids, id);
    }

  if (output == NULL)
    {
      g_autoptr(RecoupStatement) st = recoup_statement_build (book, g_ptr_array_index (ids, 0), from, to, &error);
      g_autoptr(JsonNode) node = NULL;

      if (st == NULL)
        return recoup_cli_fail (cli, error);
      node = recoup_statement_to_json (st);
      recoup_cli_print_json (node);
      return RECOUP_CLI_OK;
    }

  if (!write_statements (book, ids, from, to, format, paper, business, output, !all || one_file, &error))
    return recoup_cli_fail (cli, error);
  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      recoup_cli_json_str (b, "output", output);
      recoup_cli_json_int (b, "statements", ids->len);
      recoup_cli_json_str (b, "from", from);
      recoup_cli_json_str (b, "to", to);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    printf ("Wrote %u statement%s (%s to %s) to %s\n", ids->len, ids->len == 1 ? "" : "s", from, to, output);
  return RECOUP_CLI_OK;
}

static void
print_aging_table (GPtrArray *rows)
{
  g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("KEY", "NAME", "CUR", "CURRENT", "1-30", "31-60",
                                                      "61-90", "91-180", "181+", "CREDIT", "TOTAL", NULL);

  for (guint c = 3; c <= 10; c++)
    recoup_cli_table_align_right (t, c);
  for (guint i = 0; i < rows->len; i++)
    {
      RecoupAgingReportRow *r = g_ptr_array_index (rows, i);
      char *m[8];

      for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
        m[b] = recoup_cli_money (r->buckets[b], r->currency);
      m[6] = recoup_cli_money (r->credit, r->currency);
      m[7] = recoup_cli_money (r->total, r->currency);
      recoup_cli_table_add (t, r->key, g_strcmp0 (r->key, r->label) == 0 ? "" : r->label, r->currency,
                            m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], NULL);
      for (guint k = 0; k < 8; k++)
        g_free (m[k]);
    }
  recoup_cli_table_print (t);
}

int
recoup_cli_cmd_report (RecoupCli  *cli,
                       int         argc,
                       char      **argv)
{
  g_autofree char *from = NULL, *to = NULL, *as_of = NULL, *by = NULL;
  g_autofree char *format_text = NULL, *output = NULL, *paper_text = NULL;
  const GOptionEntry entries[] = {
    { "as-of", 0, 0, G_OPTION_ARG_STRING, &as_of, "aging: the day to age on (default today)", "DATE" },
    { "by", 0, 0, G_OPTION_ARG_STRING, &by, "aging: account (default), collector or segment", "GROUP" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "payments: first day (default: the first of --to's month)", "DATE" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "payments: last day (default today)", "DATE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, "pdf, csv, xlsx or json", "FORMAT" },
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "The file to write (default: a table on the terminal)", "PATH" },
    { "paper", 0, 0, G_OPTION_ARG_STRING, &paper_text, "a4 or letter (default: setting report.paper, else by locale)", "SIZE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBusinessInfo) business = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  RecoupAgingGroup group = RECOUP_AGING_BY_ACCOUNT;
  RecoupReportFormat format;
  RecoupPaper paper;
  gboolean aging;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "aging|payments", "Aging as of a day, or the payments of a period.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 1 || !(g_str_equal (argv[0], "aging") || g_str_equal (argv[0], "payments")))
    return recoup_cli_usage (cli, "use “report aging --as-of D [--by account|collector|segment]” or "
                                  "“report payments --from D --to D”");
  aging = g_str_equal (argv[0], "aging");
  if (by != NULL && (!aging || !recoup_aging_group_from_string (by, &group)))
    return recoup_cli_usage (cli, "--by: “%s” is not one of account, collector, segment (aging only)", by);
  if (aging && (from != NULL || to != NULL))
    return recoup_cli_usage (cli, "aging takes --as-of, not --from/--to");
  if (!aging && as_of != NULL)
    return recoup_cli_usage (cli, "payments takes --from and --to, not --as-of");
  if (!resolve_format (format_text, RECOUP_REPORT_PDF, &format))
    return recoup_cli_usage (cli, "--format: “%s” is not one of pdf, csv, xlsx, json", format_text);
  if (format_text != NULL && output == NULL)
    return recoup_cli_usage (cli, "--format needs --output PATH");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);
  business = recoup_business_info_load (book);
  if (!resolve_paper (book, paper_text, business, &paper, &error))
    return recoup_cli_fail (cli, error);

  if (aging)
    {
      if (as_of == NULL)
        as_of = recoup_book_today (book);
      if (!(rows = recoup_aging_report (book, as_of, group, &error)))
        return recoup_cli_fail (cli, error);
    }
  else if (!resolve_period (book, &from, &to, &error) ||
           !(rows = recoup_payments_report (book, from, to, &error)))
    return recoup_cli_fail (cli, error);

  if (output != NULL)
    {
      gboolean ok = aging
        ? recoup_aging_report_write (rows, as_of, group, business, format, paper, output, &error)
        : recoup_payments_report_write (rows, from, to, business, format, paper, output, &error);

      if (!ok)
        return recoup_cli_fail (cli, error);
      if (!cli->json)
        printf ("Wrote the %s report (%u rows) to %s\n", argv[0], rows->len, output);
      return RECOUP_CLI_OK;
    }

  if (cli->json)
    {
      /* The same JSON as --format json, on standard output. */
      return aging
        ? (recoup_aging_report_write (rows, as_of, group, business, RECOUP_REPORT_JSON, paper, "-", &error)
           ? RECOUP_CLI_OK : recoup_cli_fail (cli, error))
        : (recoup_payments_report_write (rows, from, to, business, RECOUP_REPORT_JSON, paper, "-", &error)
           ? RECOUP_CLI_OK : recoup_cli_fail (cli, error));
    }
  if (aging)
    print_aging_table (rows);
  else
    {
      g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("DATE", "ACCOUNT", "NAME", "KIND", "METHOD",
                                                          "REFERENCE", "AMOUNT", NULL);

      recoup_cli_table_align_right (t, 6);
      for (guint i = 0; i < rows->len; i++)
        {
          RecoupPaymentRow *r = g_ptr_array_index (rows, i);
          g_autofree char *amount = recoup_cli_money_code (r->amount, r->currency);

          recoup_cli_table_add (t, r->date, r->account_ref, r->account_name, r->kind,
                                r->method ? r->method : "", r->reference ? r->reference : "", amount, NULL);
        }
      recoup_cli_table_print (t);
    }
  return RECOUP_CLI_OK;
}

static int
kpi_cost (RecoupCli   *cli,
          RecoupBook  *book,
          int          argc,
          char       **argv,
          const char  *currency)
{
  g_autoptr(GError) error = NULL;
  gint64 amount;

  if (argc != 3)
    return recoup_cli_usage (cli, "use “kpi cost YYYY-MM AMOUNT --currency CUR”");
  if (currency == NULL)
    return recoup_cli_usage (cli, "kpi cost needs --currency (the costs' ISO 4217 code)");
  if (!recoup_currency_validate (currency, &error) ||
      !recoup_cli_parse_amount (argv[2], currency, &amount, &error) ||
      !recoup_kpi_set_cost (book, argv[1], currency, amount, &error))
    return recoup_cli_fail (cli, error);
  if (!cli->json)
    {
      g_autofree char *shown = recoup_cli_money_code (amount, currency);

      printf ("Collection costs for %s set to %s\n", argv[1], shown);
    }
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_kpi (RecoupCli  *cli,
                    int         argc,
                    char      **argv)
{
  g_autofree char *from = NULL, *to = NULL, *format_text = NULL, *output = NULL, *currency = NULL;
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "First day (default: the first of --to's month)", "DATE" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "Last day (default today)", "DATE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, "json or csv (default: a table)", "FORMAT" },
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output, "The file to write (default: standard output)", "PATH" },
    { "currency", 0, 0, G_OPTION_ARG_STRING, &currency, "kpi cost: the currency of the amount", "CUR" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) kpis = NULL;
  RecoupReportFormat format = RECOUP_REPORT_JSON;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "[cost MONTH AMOUNT]",
                         "Collection KPIs for a period (formulas: docs/kpis.md), or enter a month's\n"
                         "collection costs for cost-to-collect.",
                         entries, &argc, &argv, &status))
    return status;
  if (format_text != NULL &&
      (!recoup_report_format_from_string (format_text, &format) ||
       (format != RECOUP_REPORT_JSON && format != RECOUP_REPORT_CSV)))
    return recoup_cli_usage (cli, "--format: “%s” is not json or csv", format_text);
  if (argc > 0 && !g_str_equal (argv[0], "cost"))
    return recoup_cli_usage (cli, "use “kpi --from D --to D” or “kpi cost YYYY-MM AMOUNT --currency CUR”");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);
  if (argc > 0)
    return kpi_cost (cli, book, argc, argv, currency);

  if (!resolve_period (book, &from, &to, &error) || !(kpis = recoup_kpi_compute (book, from, to, &error)))
    return recoup_cli_fail (cli, error);

  if (format_text != NULL || output != NULL || cli->json)
    {
      if (!recoup_kpi_write (kpis, format, output, &error))
        return recoup_cli_fail (cli, error);
      return RECOUP_CLI_OK;
    }

  for (guint i = 0; i < kpis->len; i++)
    {
      RecoupKpis *k = g_ptr_array_index (kpis, i);
      g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("KPI", "VALUE", NULL);
      g_autofree char *dso = recoup_kpi_format_x100 (k->dso_x100);
      g_autofree char *cb = recoup_kpi_format_x100 (k->countback_dso_x100);
      g_autofree char *best = recoup_kpi_format_x100 (k->best_dso_x100);
      g_autofree char *add = recoup_kpi_format_x100 (k->add_x100);
      g_autofree char *cei = recoup_kpi_format_bp (k->cei_bp);
      g_autofree char *rec = recoup_kpi_format_bp (k->recovery_bp);
      g_autofree char *pk = recoup_kpi_format_bp (k->promise_kept_bp);
      g_autofree char *ctc = recoup_kpi_format_bp (k->cost_to_collect_bp);
      g_autofree char *cr = recoup_kpi_format_bp (k->contact_rate_bp);
      g_autofree char *rpc = recoup_kpi_format_bp (k->rpc_rate_bp);
      g_autofree char *billed = recoup_cli_money (k->billed, k->currency);
      g_autofree char *collected = recoup_cli_money (k->collected, k->currency);
      g_autofree char *ar = recoup_cli_money (k->ar_end, k->currency);

      printf ("%s, %s to %s (%" G_GINT64_FORMAT " days)\n", k->currency, k->from, k->to, k->days);
      recoup_cli_table_align_right (t, 1);
      recoup_cli_table_add (t, "Receivables at end", ar, NULL);
      recoup_cli_table_add (t, "Billed", billed, NULL);
      recoup_cli_table_add (t, "Collected", collected, NULL);
      recoup_cli_table_add (t, "DSO (days)", dso, NULL);
      recoup_cli_table_add (t, "Countback DSO (days)", cb, NULL);
      recoup_cli_table_add (t, "Best possible DSO (days)", best, NULL);
      recoup_cli_table_add (t, "Average days delinquent", add, NULL);
      recoup_cli_table_add (t, "CEI", cei, NULL);
      recoup_cli_table_add (t, "Recovery rate", rec, NULL);
      for (guint c = 0; c < k->cohorts->len; c++)
        {
          RecoupKpiCohort *co = g_ptr_array_index (k->cohorts, c);
          g_autofree char *label = g_strdup_printf ("  placed %s (%" G_GINT64_FORMAT ")", co->month, co->n_accounts);
          g_autofree char *v = recoup_kpi_format_bp (co->rate_bp);

          recoup_cli_table_add (t, label, v, NULL);
        }
      recoup_cli_table_add (t, "Promise-kept rate", pk, NULL);
      recoup_cli_table_add (t, "Cost-to-collect", ctc, NULL);
      recoup_cli_table_add (t, "Contact rate", cr, NULL);
      recoup_cli_table_add (t, "Right-party contact rate", rpc, NULL);
      recoup_cli_table_print (t);
      if (i + 1 < kpis->len)
        printf ("\n");
    }
  if (kpis->len == 0)
    printf ("No data in %s to %s.\n", from, to);
  return RECOUP_CLI_OK;
}
