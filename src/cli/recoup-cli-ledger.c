/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <stdio.h>

#include "recoup-cli.h"

static void
json_invoice_balances (JsonBuilder *b,
                       GPtrArray   *list)
{
  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (list, i);

      json_builder_begin_object (b);
      recoup_cli_json_str (b, "id", ib->id);
      recoup_cli_json_str (b, "ref", ib->ref);
      recoup_cli_json_str (b, "issue_date", ib->issue_date);
      recoup_cli_json_str (b, "due_date", ib->due_date);
      recoup_cli_json_str (b, "description", ib->description);
      recoup_cli_json_int (b, "amount", ib->amount);
      recoup_cli_json_int (b, "balance", ib->balance);
      recoup_cli_json_int (b, "days_past_due", MAX (ib->days_past_due, 0));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
print_invoice_balances (GPtrArray  *list,
                        const char *currency)
{
  g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("INVOICE", "ISSUED", "DUE", "DPD", "AMOUNT", "OPEN", NULL);

  recoup_cli_table_align_right (t, 3);
  recoup_cli_table_align_right (t, 4);
  recoup_cli_table_align_right (t, 5);
  for (guint i = 0; i < list->len; i++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (list, i);
      g_autofree char *amount = recoup_cli_money (ib->amount, currency);
      g_autofree char *open = recoup_cli_money (ib->balance, currency);
      g_autofree char *dpd = ib->balance > 0 && ib->days_past_due > 0
        ? g_strdup_printf ("%d", ib->days_past_due) : g_strdup ("");

      recoup_cli_table_add (t, ib->ref, ib->issue_date, ib->due_date, dpd, amount, open, NULL);
    }
  recoup_cli_table_print (t);
}

int
recoup_cli_cmd_invoices (RecoupCli  *cli,
                         int         argc,
                         char      **argv)
{
  g_autofree char *as_of = NULL;
  const GOptionEntry entries[] = {
    { "as-of", 0, 0, G_OPTION_ARG_STRING, &as_of, "Balances as of this date (YYYY-MM-DD; default today)", "DATE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) account = NULL;
  g_autofree char *account_id = NULL;
  g_autoptr(GPtrArray) list = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT", "List an account's invoices with their open balances.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ACCOUNT (reference or id)");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(account_id = recoup_account_resolve (book, argv[0], &error)) ||
      !(account = recoup_account_load (book, account_id, &error)) ||
      !(list = recoup_ledger_invoice_balances (book, account_id, as_of, &error)))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_invoice_balances (b, list);
      recoup_cli_print_builder (b);
    }
  else if (list->len == 0)
    printf ("%s has no invoices.\n", account->ref);
  else
    print_invoice_balances (list, account->currency);
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_invoice (RecoupCli  *cli,
                        int         argc,
                        char      **argv)
{
  g_autofree char *ref = NULL, *issue = NULL, *due = NULL, *amount_text = NULL, *description = NULL;
  const GOptionEntry entries[] = {
    { "ref", 0, 0, G_OPTION_ARG_STRING, &ref, "The invoice reference (unique in the book)", "REF" },
    { "issue-date", 0, 0, G_OPTION_ARG_STRING, &issue, "Issue date (YYYY-MM-DD)", "DATE" },
    { "due-date", 0, 0, G_OPTION_ARG_STRING, &due, "Due date (YYYY-MM-DD)", "DATE" },
    { "amount", 0, 0, G_OPTION_ARG_STRING, &amount_text, "Amount, e.g. 1200.00", "AMOUNT" },
    { "description", 0, 0, G_OPTION_ARG_STRING, &description, "What it is for", "TEXT" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) account = NULL;
  g_autofree char *account_id = NULL, *id = NULL;
  RecoupInvoiceSpec spec = { 0 };
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "add ACCOUNT", "Add an invoice (and its charge) to an account.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 2 || !g_str_equal (argv[0], "add"))
    return recoup_cli_usage (cli, "use “invoice add ACCOUNT --ref R --issue-date D --due-date D --amount A”");
  if (ref == NULL || issue == NULL || amount_text == NULL)
    return recoup_cli_usage (cli, "--ref, --issue-date and --amount are required");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(account_id = recoup_account_resolve (book, argv[1], &error)) ||
      !(account = recoup_account_load (book, account_id, &error)))
    return recoup_cli_fail (cli, error);

  spec.account_id = account_id;
  spec.ref = ref;
  spec.issue_date = issue;
  spec.due_date = due ? due : issue;
  spec.currency = account->currency;
  spec.description = description;
  if (!recoup_cli_parse_amount (amount_text, account->currency, &spec.amount, &error))
    {
      g_prefix_error (&error, "--amount: ");
      return recoup_cli_fail (cli, error);
    }
  if (!(id = recoup_invoice_add (book, &spec, &error)))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      recoup_cli_json_str (b, "id", id);
      recoup_cli_json_str (b, "ref", ref);
      recoup_cli_json_int (b, "amount", spec.amount);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    printf ("Added invoice %s to %s\n", ref, account->ref);
  return RECOUP_CLI_OK;
}

/* An entry named by its size, as people say it: payments and credits are
 * stored negative; an adjustment keeps its sign, which says which way it went. */
static char *
entry_size (const char *kind,
            gint64      amount,
            const char *currency)
{
  gboolean signed_kind = g_strcmp0 (kind, "adjustment") == 0;

  return recoup_cli_money_code (amount < 0 && !signed_kind ? -amount : amount, currency);
}

/* What was written, in one line. A reversal names the entry it cancels (of
 * the opposite amount) and gives its own amount with its sign: a reversed
 * fee is -25.00, a reversed payment 1,000.00 back on the balance. */
static char *
entry_headline (RecoupLedgerEntry *entry,
                RecoupAccount     *account)
{
  g_autoptr(GString) line = g_string_new (NULL);

  if (entry->reverses_id != NULL)
    {
      g_autofree char *reversed = entry_size (entry->reverses_kind, -entry->amount, entry->currency);
      g_autofree char *amount = recoup_cli_money_code (entry->amount, entry->currency);

      g_string_append_printf (line, "Reversed the %s of %s (%s) on %s with entry %s of %s (%s)",
                              entry->reverses_kind, reversed, entry->reverses_date, account->ref,
                              entry->id, amount, entry->effective_date);
    }
  else
    {
      g_autofree char *amount = entry_size (entry->kind, entry->amount, entry->currency);

      g_string_append_printf (line, "Recorded %s %s on %s", entry->kind, amount, account->ref);
      if (entry->waives_id != NULL)
        g_string_append_printf (line, ", waiving the %s of %s (%s)", entry->waives_kind, entry->waives_date,
                                entry->waives_id);
    }
  if (entry->receipt_no != NULL)
    g_string_append_printf (line, " (receipt %s)", entry->receipt_no);
  return g_string_free (g_steal_pointer (&line), FALSE);
}

static int
print_entry_result (RecoupCli     *cli,
                    RecoupBook    *book,
                    RecoupAccount *account,
                    const char    *entry_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = recoup_ledger_list (book, account->id, &error);
  g_autoptr(GPtrArray) invoices = NULL;
  RecoupLedgerEntry *entry = NULL;
  gint64 balance = 0;

  /* The entry is committed by now: a failure to show it must not read as a
   * failure to record it (a retry would record it twice). */
  if (entries == NULL ||
      !recoup_ledger_balance (book, account->id, NULL, &balance, &error) ||
      !(invoices = recoup_ledger_invoice_balances (book, account->id, NULL, &error)))
    {
      if (cli->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          recoup_cli_json_str (b, "id", entry_id);
          json_builder_end_object (b);
          recoup_cli_print_builder (b);
        }
      else
        printf ("Recorded entry %s on %s\n", entry_id, account->ref);
      g_printerr ("recoup-cli: the entry was recorded, but the new balance cannot be shown: %s\n",
                  error->message);
      return RECOUP_CLI_OK;
    }
  for (guint i = 0; i < entries->len; i++)
    {
      RecoupLedgerEntry *e = g_ptr_array_index (entries, i);

      if (g_strcmp0 (e->id, entry_id) == 0)
        entry = e;
    }
  g_assert (entry != NULL);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      recoup_cli_json_str (b, "id", entry->id);
      recoup_cli_json_str (b, "kind", entry->kind);
      recoup_cli_json_int (b, "amount", entry->amount);
      recoup_cli_json_str (b, "currency", entry->currency);
      recoup_cli_json_str (b, "effective_date", entry->effective_date);
      recoup_cli_json_str (b, "receipt_no", entry->receipt_no);
      recoup_cli_json_str (b, "reverses", entry->reverses_id);
      recoup_cli_json_str (b, "waives", entry->waives_id);
      recoup_cli_json_int (b, "balance", balance);
      json_builder_set_member_name (b, "invoices");
      json_invoice_balances (b, invoices);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      g_autofree char *headline = entry_headline (entry, account);
      g_autofree char *bal = recoup_cli_money_code (balance, account->currency);

      printf ("%s\nBalance now %s%s\n\n", headline, bal, balance < 0 ? " (a credit)" : "");
      if (invoices->len > 0)
        print_invoice_balances (invoices, account->currency);
    }
  return RECOUP_CLI_OK;
}

static int
record_entry (RecoupCli       *cli,
              RecoupEntryKind  kind,
              const char      *account_ref,
              const char      *amount_text,
              const char      *date,
              const char      *invoice_ref,
              const char      *method,
              const char      *reference,
              const char      *memo,
              const char      *waives)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) account = NULL;
  g_autofree char *account_id = NULL, *invoice_id = NULL, *id = NULL;
  RecoupEntrySpec spec = { 0 };
  RecoupBook *book;

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(account_id = recoup_account_resolve (book, account_ref, &error)) ||
      !(account = recoup_account_load (book, account_id, &error)))
    return recoup_cli_fail (cli, error);
  if (invoice_ref != NULL && !(invoice_id = recoup_invoice_resolve (book, invoice_ref, &error)))
    return recoup_cli_fail (cli, error);

  spec.kind = kind;
  spec.account_id = account_id;
  spec.invoice_id = invoice_id;
  spec.effective_date = date;
  spec.method = method;
  spec.reference = reference;
  spec.memo = memo;
  spec.waives_id = waives;
  if (!recoup_cli_parse_amount (amount_text, account->currency, &spec.amount, &error))
    {
      g_prefix_error (&error, "--amount: ");
      return recoup_cli_fail (cli, error);
    }
  if (!(id = recoup_ledger_record (book, &spec, &error)))
    return recoup_cli_fail (cli, error);
  return print_entry_result (cli, book, account, id);
}

int
recoup_cli_cmd_pay (RecoupCli  *cli,
                    int         argc,
                    char      **argv)
{
  g_autofree char *amount = NULL, *method = NULL, *date = NULL, *invoice = NULL;
  g_autofree char *reference = NULL, *memo = NULL;
  const GOptionEntry entries[] = {
    { "amount", 'a', 0, G_OPTION_ARG_STRING, &amount, "Amount paid, e.g. 150.00", "AMOUNT" },
    { "method", 'm', 0, G_OPTION_ARG_STRING, &method, "cash, cheque, card, bank-transfer or other", "M" },
    { "date", 'd', 0, G_OPTION_ARG_STRING, &date, "Date paid (YYYY-MM-DD; default today)", "DATE" },
    { "invoice", 'i', 0, G_OPTION_ARG_STRING, &invoice, "Apply to this invoice (default: oldest first)", "REF" },
    { "reference", 'r', 0, G_OPTION_ARG_STRING, &reference, "Cheque number, transfer reference…", "REF" },
    { "memo", 0, 0, G_OPTION_ARG_STRING, &memo, "A note", "TEXT" },
    { NULL }
  };
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT", "Record a payment. It pays the oldest invoices first unless "
                         "--invoice says otherwise; an overpayment becomes a credit.",
                         entries, &argc, &argv, &status))
    return status;
  /* "pay ACC-1 150.00" is the commonest slip: say where the amount goes. */
  if (argc == 2 && amount == NULL)
    return recoup_cli_usage (cli, "the amount goes in --amount: recoup-cli pay %s --amount %s", argv[0], argv[1]);
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ACCOUNT (reference or id)");
  if (amount == NULL)
    return recoup_cli_usage (cli, "--amount is required");
  return record_entry (cli, RECOUP_ENTRY_PAYMENT, argv[0], amount, date, invoice,
                       method ? method : "other", reference, memo, NULL);
}

int
recoup_cli_cmd_adjust (RecoupCli  *cli,
                       int         argc,
                       char      **argv)
{
  g_autofree char *kind_text = NULL, *amount = NULL, *date = NULL, *invoice = NULL, *memo = NULL;
  g_autofree char *waives = NULL;
  const GOptionEntry entries[] = {
    { "kind", 'k', 0, G_OPTION_ARG_STRING, &kind_text, "fee, interest, adjustment, waiver, discount or write-off", "K" },
    { "amount", 'a', 0, G_OPTION_ARG_STRING, &amount, "Amount (adjustments may be negative)", "AMOUNT" },
    { "date", 'd', 0, G_OPTION_ARG_STRING, &date, "Effective date (YYYY-MM-DD; default today)", "DATE" },
    { "invoice", 'i', 0, G_OPTION_ARG_STRING, &invoice, "The invoice it concerns", "REF" },
    { "waives", 'w', 0, G_OPTION_ARG_STRING, &waives, "waiver: the fee or interest entry it waives (its id, "
      "see “ledger”); it cancels that entry instead of paying the oldest invoice", "ENTRY" },
    { "memo", 0, 0, G_OPTION_ARG_STRING, &memo, "Why", "TEXT" },
    { NULL }
  };
  RecoupEntryKind kind;
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT", "Record a fee, interest, adjustment, waiver, discount or write-off.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc == 2 && amount == NULL)
    return recoup_cli_usage (cli, "the amount goes in --amount: recoup-cli adjust %s --kind KIND --amount %s",
                             argv[0], argv[1]);
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ACCOUNT (reference or id)");
  if (kind_text == NULL || amount == NULL)
    return recoup_cli_usage (cli, "--kind and --amount are required");
  if (!recoup_entry_kind_from_string (kind_text, &kind) ||
      kind == RECOUP_ENTRY_CHARGE || kind == RECOUP_ENTRY_PAYMENT || kind == RECOUP_ENTRY_REVERSAL)
    return recoup_cli_usage (cli, "--kind must be fee, interest, adjustment, waiver, discount or "
                             "write-off (use “invoice add”, “pay” and “reverse” for the others)");
  if (waives != NULL && kind != RECOUP_ENTRY_WAIVER)
    return recoup_cli_usage (cli, "--waives goes with --kind waiver");
  return record_entry (cli, kind, argv[0], amount, date, invoice, NULL, NULL, memo, waives);
}

int
recoup_cli_cmd_reverse (RecoupCli  *cli,
                        int         argc,
                        char      **argv)
{
  g_autofree char *date = NULL, *memo = NULL;
  const GOptionEntry entries[] = {
    { "date", 'd', 0, G_OPTION_ARG_STRING, &date, "Effective date (YYYY-MM-DD; default today)", "DATE" },
    { "memo", 0, 0, G_OPTION_ARG_STRING, &memo, "Why, e.g. “cheque bounced”", "TEXT" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) account = NULL;
  g_autofree char *id = NULL;
  RecoupBook *book;
  g_autofree char *account_id = NULL;
  int status;

  if (!recoup_cli_parse (cli, "ENTRY", "Reverse a ledger entry by its id or receipt number. The "
                         "original stays on the ledger; a reversing entry cancels it.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ENTRY (ledger entry id or receipt number)");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(id = recoup_ledger_reverse (book, argv[0], date, memo, &error)))
    return recoup_cli_fail (cli, error);

  if (!(account_id = recoup_ledger_entry_get_account (book, id, &error)) ||
      !(account = recoup_account_load (book, account_id, &error)))
    return recoup_cli_fail (cli, error);
  return print_entry_result (cli, book, account, id);
}

int
recoup_cli_cmd_ledger (RecoupCli  *cli,
                       int         argc,
                       char      **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) account = NULL;
  g_autofree char *account_id = NULL;
  g_autoptr(GPtrArray) list = NULL;
  RecoupBook *book;
  gint64 running = 0;
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT", "Show every ledger entry of an account with the running balance.",
                         NULL, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ACCOUNT (reference or id)");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(account_id = recoup_account_resolve (book, argv[0], &error)) ||
      !(account = recoup_account_load (book, account_id, &error)) ||
      !(list = recoup_ledger_list (book, account_id, &error)))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        {
          RecoupLedgerEntry *e = g_ptr_array_index (list, i);

          running += e->amount;
          json_builder_begin_object (b);
          recoup_cli_json_str (b, "id", e->id);
          recoup_cli_json_str (b, "date", e->effective_date);
          recoup_cli_json_str (b, "kind", e->kind);
          recoup_cli_json_str (b, "invoice", e->invoice_ref);
          recoup_cli_json_int (b, "amount", e->amount);
          recoup_cli_json_int (b, "balance", running);
          recoup_cli_json_str (b, "method", e->method);
          recoup_cli_json_str (b, "reference", e->reference);
          recoup_cli_json_str (b, "receipt_no", e->receipt_no);
          recoup_cli_json_str (b, "reverses", e->reverses_id);
          recoup_cli_json_str (b, "reversed_by", e->reversed_by);
          recoup_cli_json_str (b, "waives", e->waives_id);
          recoup_cli_json_str (b, "memo", e->memo);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("DATE", "KIND", "INVOICE", "AMOUNT", "BALANCE",
                                                          "RECEIPT", "MEMO", NULL);

      recoup_cli_table_align_right (t, 3);
      recoup_cli_table_align_right (t, 4);
      for (guint i = 0; i < list->len; i++)
        {
          RecoupLedgerEntry *e = g_ptr_array_index (list, i);
          g_autofree char *amount = recoup_cli_money (e->amount, e->currency);
          g_autofree char *bal = NULL;
          g_autofree char *note = recoup_ledger_entry_note (e);
          g_autofree char *memo = e->reversed_by == NULL ? g_steal_pointer (&note)
                                : note != NULL ? g_strdup_printf ("%s [reversed]", note)
                                : g_strdup ("[reversed]");

          running += e->amount;
          bal = recoup_cli_money (running, e->currency);
          recoup_cli_table_add (t, e->effective_date, e->kind, e->invoice_ref, amount, bal,
                                e->receipt_no ? e->receipt_no : e->reference, memo, NULL);
        }
      recoup_cli_table_print (t);
    }
  return RECOUP_CLI_OK;
}

/* A currency whose accounts are all paid up still has a row of zeros in the
 * summary; it is left out of the table and the JSON alike, so that a book
 * where nothing is owed says so. */
static GPtrArray *
aging_rows_owed (GPtrArray *rows)
{
  GPtrArray *owed = g_ptr_array_new ();

  for (guint i = 0; i < rows->len; i++)
    {
      RecoupAgingRow *row = g_ptr_array_index (rows, i);
      gboolean empty = row->n_accounts == 0 && row->credit == 0 && row->total == 0;

      for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
        empty = empty && row->buckets[k] == 0;
      if (!empty)
        g_ptr_array_add (owed, row);
    }
  return owed;
}

int
recoup_cli_cmd_aging (RecoupCli  *cli,
                      int         argc,
                      char      **argv)
{
  g_autofree char *as_of = NULL;
  const GOptionEntry entries[] = {
    { "as-of", 0, 0, G_OPTION_ARG_STRING, &as_of, "Age as of this date (YYYY-MM-DD; default today)", "DATE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all_rows = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "", "The book's aging: open balances by days past due, per currency.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 0)
    return recoup_cli_usage (cli, "aging takes no arguments");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);
  if (as_of == NULL)
    as_of = recoup_book_today (book);
  if (!(all_rows = recoup_aging_summary (book, as_of, &error)))
    return recoup_cli_fail (cli, error);
  rows = aging_rows_owed (all_rows);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      recoup_cli_json_str (b, "as_of", as_of);
      json_builder_set_member_name (b, "currencies");
      json_builder_begin_array (b);
      for (guint i = 0; i < rows->len; i++)
        {
          RecoupAgingRow *row = g_ptr_array_index (rows, i);

          json_builder_begin_object (b);
          recoup_cli_json_str (b, "currency", row->currency);
          for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
            recoup_cli_json_int (b, recoup_aging_bucket_label (k), row->buckets[k]);
          recoup_cli_json_int (b, "credit", row->credit);
          recoup_cli_json_int (b, "total", row->total);
          recoup_cli_json_int (b, "accounts", row->n_accounts);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("CURRENCY", "ACCOUNTS", "CURRENT", "1-30", "31-60",
                                                          "61-90", "91-180", "181+", "CREDIT", "TOTAL", NULL);

      for (guint c = 1; c < 10; c++)
        recoup_cli_table_align_right (t, c);
      for (guint i = 0; i < rows->len; i++)
        {
          RecoupAgingRow *row = g_ptr_array_index (rows, i);
          g_autofree char *n = g_strdup_printf ("%" G_GINT64_FORMAT, row->n_accounts);
          char *cells[RECOUP_AGING_N_BUCKETS + 2];

          for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
            cells[k] = recoup_cli_money (row->buckets[k], row->currency);
          cells[RECOUP_AGING_N_BUCKETS] = recoup_cli_money (row->credit, row->currency);
          cells[RECOUP_AGING_N_BUCKETS + 1] = recoup_cli_money (row->total, row->currency);
          recoup_cli_table_add (t, row->currency, n, cells[0], cells[1], cells[2], cells[3], cells[4],
                                cells[5], cells[6], cells[7], NULL);
          for (int k = 0; k < RECOUP_AGING_N_BUCKETS + 2; k++)
            g_free (cells[k]);
        }
      printf ("Aging as of %s\n\n", as_of);
      if (rows->len == 0)
        printf ("Nothing is owed.\n");
      else
        recoup_cli_table_print (t);
    }
  return RECOUP_CLI_OK;
}
