/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "recoup-cli.h"

static void
show_progress (guint64  done,
               guint64  total,
               gpointer user_data)
{
  int *last = user_data;
  int pct = total > 0 ? (int) (done * 100 / total) : 100;

  if (pct != *last)
    {
      *last = pct;
      fprintf (stderr, "\rimporting… %3d%%", pct);
      fflush (stderr);
    }
}

static void
json_counts (JsonBuilder *b,
             const char  *member,
             guint        created,
             guint        updated,
             guint        unchanged)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_object (b);
  recoup_cli_json_int (b, "created", created);
  recoup_cli_json_int (b, "updated", updated);
  recoup_cli_json_int (b, "unchanged", unchanged);
  json_builder_end_object (b);
}

/* Each problem as {file, line, column, message, text}; text is the whole
 * "file:line: column: message" line that stderr shows. A problem about the
 * file as a whole has line 0 and column null. */
static void
json_problems (JsonBuilder *b,
               GPtrArray   *list)
{
  json_builder_set_member_name (b, "problems");
  json_builder_begin_array (b);
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      RecoupImportProblem *p = g_ptr_array_index (list, i);

      json_builder_begin_object (b);
      recoup_cli_json_str (b, "file", p->file);
      recoup_cli_json_int (b, "line", p->line);
      json_builder_set_member_name (b, "column");
      if (p->column != NULL)
        json_builder_add_string_value (b, p->column);
      else
        json_builder_add_null_value (b);
      recoup_cli_json_str (b, "message", p->message);
      recoup_cli_json_str (b, "text", p->text);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
json_strings (JsonBuilder *b,
              const char  *member,
              GPtrArray   *list)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; list != NULL && i < list->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (list, i));
  json_builder_end_array (b);
}

int
recoup_cli_cmd_import (RecoupCli  *cli,
                       int         argc,
                       char      **argv)
{
  gboolean skip_invalid = FALSE;
  gboolean dry_run = FALSE;
  const GOptionEntry entries[] = {
    { "skip-invalid", 0, 0, G_OPTION_ARG_NONE, &skip_invalid, "Import the valid rows and report the invalid ones", NULL },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "Check the file and say what would change; change nothing", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupImportReport) report = NULL;
  RecoupImportFlags flags = RECOUP_IMPORT_DEFAULT;
  RecoupBook *book;
  gboolean ok;
  gboolean tty;
  const char *hint = "";
  int last_pct = -1;
  int status;

  if (!recoup_cli_parse (cli, "FILE",
                         "Import invoices and their accounts from a CSV file (one row per invoice; "
                         "see docs/import-format.md). The whole file is checked first; it is "
                         "imported completely or not at all. Importing the same file again "
                         "changes nothing.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one FILE to import");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);

  if (skip_invalid)
    flags |= RECOUP_IMPORT_SKIP_INVALID;
  if (dry_run)
    flags |= RECOUP_IMPORT_DRY_RUN;
  tty = !cli->json && isatty (fileno (stderr));

  ok = recoup_import_csv (book, argv[0], flags, tty ? show_progress : NULL, &last_pct, NULL,
                          &report, &error);
  if (tty && last_pct >= 0)
    fprintf (stderr, "\r%*s\r", 20, "");
  /* Refused for its rows: the one closing hint, which names the option. */
  if (!ok && g_error_matches (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_INVALID))
    hint = ". Correct the rows above, or import the valid rows only with --skip-invalid.";

  if (report != NULL)
    {
      for (guint i = 0; i < report->warnings->len; i++)
        fprintf (stderr, "warning: %s\n", (char *) g_ptr_array_index (report->warnings, i));
      for (guint i = 0; i < report->problems->len; i++)
        fprintf (stderr, "%s\n", (char *) g_ptr_array_index (report->problems, i));
    }

  if (cli->json && report != NULL)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      recoup_cli_json_str (b, "file", argv[0]);
      recoup_cli_json_bool (b, "imported", ok && !dry_run);
      recoup_cli_json_bool (b, "dry_run", dry_run);
      if (!ok)
        recoup_cli_json_str (b, "error", error->message);
      recoup_cli_json_int (b, "rows", report->rows);
      json_counts (b, "accounts", report->accounts_created, report->accounts_updated,
                   report->accounts_unchanged);
      json_counts (b, "invoices", report->invoices_created, report->invoices_updated,
                   report->invoices_unchanged);
      recoup_cli_json_int (b, "skipped", report->rows_skipped);
      recoup_cli_json_int (b, "repeated", report->rows_repeated);
      json_problems (b, report->problem_list);
      json_strings (b, "warnings", report->warnings);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
      if (!ok)
        fprintf (stderr, "recoup-cli %s: %s%s\n", cli->command, error->message, hint);
      return ok ? RECOUP_CLI_OK : RECOUP_CLI_USER_ERROR;
    }

  if (!ok && *hint == '\0')
    return recoup_cli_fail (cli, error);
  if (!ok)
    {
      fprintf (stderr, "recoup-cli %s: %s%s\n", cli->command, error->message, hint);
      return RECOUP_CLI_USER_ERROR;
    }

  printf ("%s%s: %u row%s\n", dry_run ? "Dry run (nothing was changed), " : "", argv[0],
          report->rows, report->rows == 1 ? "" : "s");
  printf ("  accounts: %u created, %u updated, %u unchanged\n",
          report->accounts_created, report->accounts_updated, report->accounts_unchanged);
  printf ("  invoices: %u created, %u updated, %u unchanged\n",
          report->invoices_created, report->invoices_updated, report->invoices_unchanged);
  if (report->rows_repeated > 0)
    printf ("  %u row%s repeated an earlier row exactly and %s ignored\n", report->rows_repeated,
            report->rows_repeated == 1 ? "" : "s", report->rows_repeated == 1 ? "was" : "were");
  printf ("  skipped: %u invalid row%s%s\n", report->rows_skipped,
          report->rows_skipped == 1 ? "" : "s",
          report->rows_skipped > 0 ? " (listed on stderr)" : "");
  return RECOUP_CLI_OK;
}
