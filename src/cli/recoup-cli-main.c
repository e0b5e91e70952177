/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "recoup-cli.h"

static const RecoupCliCommand commands[] = {
  { "init",     "Create a new, empty book",                          recoup_cli_cmd_init },
  { "accounts", "List accounts, with filters",                       recoup_cli_cmd_accounts },
  { "account",  "Show, create or edit one account",                  recoup_cli_cmd_account },
  { "contact",  "Add, change, opt out or remove a contact point",    recoup_cli_cmd_contact },
  { "invoices", "List an account's invoices with their balances",    recoup_cli_cmd_invoices },
  { "invoice",  "Add an invoice to an account",                      recoup_cli_cmd_invoice },
  { "pay",      "Record a payment",                                  recoup_cli_cmd_pay },
  { "adjust",   "Record a fee, interest, adjustment, waiver or write-off", recoup_cli_cmd_adjust },
  { "reverse",  "Reverse a ledger entry (a bounced cheque)",         recoup_cli_cmd_reverse },
  { "ledger",   "Show an account's ledger",                          recoup_cli_cmd_ledger },
  { "log",      "Log a call, letter, email, visit or note",          recoup_cli_cmd_log },
  { "history",  "Show an account's contact history, newest first",   recoup_cli_cmd_history },
  { "aging",    "Aging summary of the book as of a date",            recoup_cli_cmd_aging },
  { "user",     "List or add the book's users",                      recoup_cli_cmd_user },
  { "import",   "Import invoices and accounts from a CSV file",      recoup_cli_cmd_import },
  { "demo",     "Fill a book with realistic, deterministic demo accounts", recoup_cli_cmd_demo },
  { "worklist", "Today's queue: whom to contact next, and why",   recoup_cli_cmd_worklist },
  { "explain",  "Show how an account's priority score is made up", recoup_cli_cmd_explain },
  { "may-contact", "Ask the compliance guard about a contact",     recoup_cli_cmd_may_contact },
  { "weights",  "Show or change the score's weights",              recoup_cli_cmd_weights },
  { "policy",   "Escalation policy and compliance rules",          recoup_cli_cmd_policy },
  { "profile",  "Show or choose the compliance profile",           recoup_cli_cmd_profile },
  { "promise",  "Record a promise to pay",                          recoup_cli_cmd_promise },
  { "promises", "List promises with their status (kept, broken…)",   recoup_cli_cmd_promises },
  { "offer",    "Create, show, send, accept, reject, withdraw or approve an offer", recoup_cli_cmd_offer },
  { "offers",   "List an account's offers and plans",                recoup_cli_cmd_offers },
  { "approvals", "Offers waiting for an owner's approval",           recoup_cli_cmd_approvals },
  { "plan",     "Show an account's plan: schedule, paid and due",    recoup_cli_cmd_plan },
  { "dispute",  "Open, resolve or list disputes",                    recoup_cli_cmd_dispute },
  { "remind",   "Propose or carry out today's reminder run",          recoup_cli_cmd_remind },
  { "outbox",   "The email outbox: list, send, retry, confirm, setup", recoup_cli_cmd_outbox },
  { "template", "Reminder templates: list, show, set, check, reset",  recoup_cli_cmd_template },
  { "statement", "Write account statements (PDF, CSV, XLSX, JSON)",  recoup_cli_cmd_statement },
  { "report",   "Aging or payments report (PDF, CSV, XLSX, JSON)",   recoup_cli_cmd_report },
  { "kpi",      "Collection KPIs for a period; enter collection costs", recoup_cli_cmd_kpi },
  { "enroll",   "Connect this book to a Recoup server with an enrollment code", recoup_cli_cmd_enroll },
  { "sync",     "Send unsent changes to the server and receive the others'", recoup_cli_cmd_sync },
  { "sync-status", "Pending changes, refusals and conflicts of sync",   recoup_cli_cmd_sync_status },
  { "review",   "What an owner must review; mark items reviewed",     recoup_cli_cmd_review },
  /* COMMAND-TABLE-END */
};

static void
print_help (FILE *out)
{
  fprintf (out,
           "Usage: recoup-cli [--book PATH] [--json] [--user USER] COMMAND [OPTIONS…]\n\n"
           "Recoup keeps the accounts that owe you money.\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun “recoup-cli COMMAND --help” for a command's options.\n"
                "Exit status: 0 success, 1 a user error, 2 a usage error.\n");
}

int
main (int   argc,
      char *argv[])
{
  RecoupCli cli = { 0 };
  int i = 1;
  int status;

  setlocale (LC_ALL, "");
  /* The CLI speaks English throughout (its tables, help and --json are read
   * by scripts as much as by people): core's messages, which the app shows in
   * the user's language and with its marks (1.234,56), stay English here, with
   * the C marks (1,234.56). */
  setlocale (LC_MESSAGES, "C");
  setlocale (LC_NUMERIC, "C");
  setlocale (LC_MONETARY, "C");

  /* Common options may also come before the command. */
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "--help") || g_str_equal (arg, "-h"))
        {
          print_help (stdout);
          return RECOUP_CLI_OK;
        }
      else if (g_str_equal (arg, "--version"))
        {
          printf ("recoup-cli %s\n", PACKAGE_VERSION);
          return RECOUP_CLI_OK;
        }
      else if (g_str_equal (arg, "--json"))
        cli.json = TRUE;
      else if ((g_str_equal (arg, "--book") || g_str_equal (arg, "-b") ||
                g_str_equal (arg, "--user") || g_str_equal (arg, "-u")) && i + 1 >= argc)
        {
          fprintf (stderr, "recoup-cli: %s needs a %s\n", arg,
                   g_str_equal (arg, "--book") || g_str_equal (arg, "-b") ? "path" : "user name or id");
          g_free (cli.book_path);
          g_free (cli.user);
          return RECOUP_CLI_USAGE;
        }
      else if ((g_str_equal (arg, "--book") || g_str_equal (arg, "-b")) && i + 1 < argc)
        cli.book_path = g_strdup (argv[++i]);
      else if (g_str_has_prefix (arg, "--book="))
        cli.book_path = g_strdup (arg + strlen ("--book="));
      else if ((g_str_equal (arg, "--user") || g_str_equal (arg, "-u")) && i + 1 < argc)
        cli.user = g_strdup (argv[++i]);
      else if (g_str_has_prefix (arg, "--user="))
        cli.user = g_strdup (arg + strlen ("--user="));
      else
        {
          fprintf (stderr, "recoup-cli: unknown option %s\n", arg);
          print_help (stderr);
          return RECOUP_CLI_USAGE;
        }
    }

  if (i >= argc)
    {
      print_help (stderr);
      return RECOUP_CLI_USAGE;
    }

  for (guint c = 0; c < G_N_ELEMENTS (commands); c++)
    {
      if (g_str_equal (argv[i], commands[c].name))
        {
          cli.command = commands[c].name;
          status = commands[c].func (&cli, argc - i, argv + i);
          g_clear_object (&cli.book);
          g_free (cli.book_path);
          g_free (cli.user);
          return status;
        }
    }

  fprintf (stderr, "recoup-cli: “%s” is not a command\n\n", argv[i]);
  print_help (stderr);
  return RECOUP_CLI_USAGE;
}
