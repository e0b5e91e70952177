/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <stdio.h>

#include "recoup-cli.h"

int
recoup_cli_cmd_init (RecoupCli  *cli,
                     int         argc,
                     char      **argv)
{
  g_autoptr(GError) error = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "", "Create a new, empty book (you become its owner).",
                         NULL, &argc, &argv, &status))
    return status;
  if (argc != 0)
    return recoup_cli_usage (cli, "init takes no arguments; choose the file with --book PATH");

  if (cli->book_path == NULL)
    cli->book_path = recoup_default_book_path ();
  if (g_file_test (cli->book_path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (&error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_A_BOOK,
                   "%s is a directory, not a Recoup book; give the path of a new file",
                   cli->book_path);
      return recoup_cli_fail (cli, error);
    }
  /* An empty file (what `touch` or a save dialog leaves) is where a book may
   * be made; anything else is someone's data. */
  if (!recoup_book_path_is_vacant (cli->book_path))
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s already exists; nothing was changed", cli->book_path);
      return recoup_cli_fail (cli, error);
    }
  if (!(book = recoup_cli_open_book (cli, TRUE, &error)))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      recoup_cli_json_str (b, "book", recoup_book_get_path (book));
      recoup_cli_json_str (b, "device_id", recoup_book_get_device_id (book));
      recoup_cli_json_str (b, "user_id", recoup_book_get_user_id (book));
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    printf ("Created book %s\n", recoup_book_get_path (book));
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_accounts (RecoupCli  *cli,
                         int         argc,
                         char      **argv)
{
  g_autofree char *search = NULL, *stage = NULL, *collector = NULL, *min_balance = NULL;
  g_autofree char *currency = NULL;
  int limit = 50, offset = 0;
  const GOptionEntry entries[] = {
    { "search", 's', 0, G_OPTION_ARG_STRING, &search, "Start of the name (or of a word in it; several words in any order), reference (or its number) or e-mail (or its domain), a phone number in any format (national or international), or a whole invoice or receipt number; accents and case do not matter", "TEXT" },
    { "stage", 0, 0, G_OPTION_ARG_STRING, &stage, "Only this stage", "STAGE" },
    { "collector", 0, 0, G_OPTION_ARG_STRING, &collector, "Only accounts assigned to this user", "USER" },
    { "min-balance", 0, 0, G_OPTION_ARG_STRING, &min_balance, "Only balances of at least this amount (“500 EUR”: only accounts in EUR)", "AMOUNT" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "At most N accounts (default 50)", "N" },
    { "offset", 0, 0, G_OPTION_ARG_INT, &offset, "Skip the first N", "N" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *more = NULL;
  RecoupAccountFilter filter = { 0 };
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "", "List accounts with their balances.", entries, &argc, &argv, &status))
    return status;
  if (argc != 0)
    return recoup_cli_usage (cli, "accounts takes no arguments; use “account show ACCOUNT” for one");
  if (limit <= 0 || offset < 0)
    return recoup_cli_usage (cli, "--limit must be positive and --offset 0 or more");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);

  if (min_balance != NULL &&
      !recoup_account_parse_min_balance (book, min_balance, &filter.min_balance, &currency, &error))
    {
      g_prefix_error (&error, "--min-balance: ");
      return recoup_cli_fail (cli, error);
    }
  filter.currency = currency;
  filter.search = search;
  filter.stage = stage;
  filter.assigned_to = collector;
  /* One more than is shown says whether there is a next page. */
  filter.limit = (guint) limit + 1;
  filter.offset = (guint) offset;
  if (!(list = recoup_account_list (book, &filter, &error)))
    return recoup_cli_fail (cli, error);
  if (list->len > (guint) limit)
    {
      g_ptr_array_set_size (list, limit);
      more = g_strdup_printf ("More: --offset %u\n", filter.offset + list->len);
    }

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        {
          RecoupAccountSummary *a = g_ptr_array_index (list, i);

          json_builder_begin_object (b);
          recoup_cli_json_str (b, "id", a->id);
          recoup_cli_json_str (b, "ref", a->ref);
          recoup_cli_json_str (b, "name", a->name);
          recoup_cli_json_str (b, "currency", a->currency);
          recoup_cli_json_int (b, "balance", a->balance);
          recoup_cli_json_int (b, "days_past_due", a->days_past_due);
          recoup_cli_json_str (b, "stage", a->stage);
          recoup_cli_json_str (b, "timezone", a->timezone);
          recoup_cli_json_str (b, "collector", a->assigned_name);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      recoup_cli_print_builder (b);
      /* The list stays the bare array scripts already read (an object with
       * “more”, as “worklist” has, would break them), so the next page is
       * named on stderr; without that line, this was the last page. */
      if (more != NULL)
        fputs (more, stderr);
    }
  else
    {
      g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("REF", "NAME", "BALANCE", "DPD", "STAGE",
                                                          "COLLECTOR", NULL);

      recoup_cli_table_align_right (t, 2);
      recoup_cli_table_align_right (t, 3);
      for (guint i = 0; i < list->len; i++)
        {
          RecoupAccountSummary *a = g_ptr_array_index (list, i);
          g_autofree char *bal = recoup_cli_money_code (a->balance, a->currency);
          g_autofree char *dpd = g_strdup_printf ("%d", a->days_past_due);

          recoup_cli_table_add (t, a->ref, a->name, bal, dpd, a->stage, a->assigned_name, NULL);
        }
      if (list->len == 0)
        printf ("No accounts match.\n");
      else
        recoup_cli_table_print (t);
      if (more != NULL)
        fputs (more, stdout);
    }
  return RECOUP_CLI_OK;
}

static int
account_show (RecoupCli  *cli,
              const char *ref)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) a = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GPtrArray) invoices = NULL;
  g_autofree char *account_id = NULL;
  RecoupAgingRow aging;
  RecoupBook *book;
  gint64 balance;

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(account_id = recoup_account_resolve (book, ref, &error)) ||
      !(a = recoup_account_load (book, account_id, &error)) ||
      !(contacts = recoup_contact_list (book, account_id, &error)) ||
      !(invoices = recoup_ledger_invoice_balances (book, account_id, NULL, &error)) ||
      !recoup_ledger_balance (book, account_id, NULL, &balance, &error) ||
      !recoup_ledger_account_aging (book, account_id, NULL, &aging, &error))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      recoup_cli_json_str (b, "id", a->id);
      recoup_cli_json_str (b, "ref", a->ref);
      recoup_cli_json_str (b, "name", a->name);
      recoup_cli_json_str (b, "currency", a->currency);
      recoup_cli_json_str (b, "timezone", a->timezone);
      recoup_cli_json_str (b, "stage", a->stage);
      recoup_cli_json_str (b, "assigned_to", a->assigned_to);
      recoup_cli_json_str (b, "tier", a->tier);
      recoup_cli_json_str (b, "tags", a->tags);
      recoup_cli_json_int (b, "lifetime_revenue", a->lifetime_revenue);
      recoup_cli_json_bool (b, "cease_communication", a->cease_communication);
      recoup_cli_json_bool (b, "attorney_represented", a->attorney_represented);
      recoup_cli_json_bool (b, "bankruptcy", a->bankruptcy);
      recoup_cli_json_bool (b, "deceased", a->deceased);
      recoup_cli_json_str (b, "validation_notice_date", a->validation_notice_date);
      recoup_cli_json_int (b, "balance", balance);
      json_builder_set_member_name (b, "aging");
      json_builder_begin_object (b);
      for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
        recoup_cli_json_int (b, recoup_aging_bucket_label (k), aging.buckets[k]);
      recoup_cli_json_int (b, "credit", aging.credit);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "contact_points");
      json_builder_begin_array (b);
      for (guint i = 0; i < contacts->len; i++)
        {
          RecoupContactPoint *cp = g_ptr_array_index (contacts, i);

          json_builder_begin_object (b);
          recoup_cli_json_str (b, "id", cp->id);
          recoup_cli_json_str (b, "kind", recoup_contact_kind_to_string (cp->kind));
          recoup_cli_json_str (b, "value", cp->value);
          recoup_cli_json_bool (b, "primary", cp->is_primary);
          recoup_cli_json_bool (b, "opted_out", cp->opted_out);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      g_autofree char *bal = recoup_cli_money_code (balance, a->currency);
      g_autoptr(GString) flags = g_string_new (NULL);

      if (a->cease_communication)
        g_string_append (flags, " cease-communication");
      if (a->attorney_represented)
        g_string_append (flags, " attorney");
      if (a->bankruptcy)
        g_string_append (flags, " bankruptcy");
      if (a->deceased)
        g_string_append (flags, " deceased");

      printf ("%s  %s\n", a->ref, a->name);
      printf ("Balance:   %s\n", bal);
      printf ("Stage:     %s\n", a->stage);
      printf ("Time zone: %s\n", a->timezone ? a->timezone : "unknown");
      if (a->assigned_to != NULL)
        {
          g_autoptr(RecoupUser) collector = recoup_user_load (book, a->assigned_to, NULL);

          printf ("Collector: %s\n", collector != NULL ? collector->name : a->assigned_to);
        }
      if (a->tier != NULL && *a->tier)
        printf ("Tier:      %s\n", a->tier);
      if (a->tags != NULL && *a->tags)
        printf ("Tags:      %s\n", a->tags);
      if (flags->len > 0)
        printf ("Flags:    %s\n", flags->str);
      printf ("Aging:    ");
      for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
        {
          g_autofree char *v = recoup_cli_money (aging.buckets[k], a->currency);
          printf (" %s %s", recoup_aging_bucket_label (k), v);
        }
      printf ("\n\nContact points:\n");
      for (guint i = 0; i < contacts->len; i++)
        {
          RecoupContactPoint *cp = g_ptr_array_index (contacts, i);

          printf ("  %-7s %s%s%s  (%s)\n", recoup_contact_kind_to_string (cp->kind), cp->value,
                  cp->is_primary ? " [primary]" : "", cp->opted_out ? " [opted out]" : "", cp->id);
        }
      if (invoices->len > 0)
        {
          g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("INVOICE", "DUE", "AMOUNT", "OPEN", NULL);

          recoup_cli_table_align_right (t, 2);
          recoup_cli_table_align_right (t, 3);
          for (guint i = 0; i < invoices->len; i++)
            {
              RecoupInvoiceBalance *ib = g_ptr_array_index (invoices, i);
              g_autofree char *amount = recoup_cli_money (ib->amount, a->currency);
              g_autofree char *open = recoup_cli_money (ib->balance, a->currency);

              recoup_cli_table_add (t, ib->ref, ib->due_date, amount, open, NULL);
            }
          printf ("\n");
          recoup_cli_table_print (t);
        }
    }
  g_free (aging.currency);
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_account (RecoupCli  *cli,
                        int         argc,
                        char      **argv)
{
  g_autofree char *ref = NULL, *name = NULL, *currency = NULL, *timezone = NULL;
  g_autofree char *email = NULL, *phone = NULL, *address = NULL, *collector = NULL;
  const GOptionEntry entries[] = {
    { "ref", 0, 0, G_OPTION_ARG_STRING, &ref, "create: the account's reference", "REF" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "create: the debtor's name", "NAME" },
    { "currency", 0, 0, G_OPTION_ARG_STRING, &currency, "create: ISO 4217 code (default USD)", "CODE" },
    { "timezone", 0, 0, G_OPTION_ARG_STRING, &timezone, "create: IANA time zone", "ZONE" },
    { "email", 0, 0, G_OPTION_ARG_STRING, &email, "create: email address", "EMAIL" },
    { "phone", 0, 0, G_OPTION_ARG_STRING, &phone, "create: phone number", "PHONE" },
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, "create: postal address", "TEXT" },
    { "collector", 0, 0, G_OPTION_ARG_STRING, &collector, "create: assign to this user", "USER" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "show ACCOUNT | create --ref R --name N | set ACCOUNT FIELD VALUE",
                         "Show, create or change one account.", entries, &argc, &argv, &status))
    return status;

  if (argc == 2 && g_str_equal (argv[0], "show"))
    return account_show (cli, argv[1]);

  if (argc == 1 && g_str_equal (argv[0], "create"))
    {
      RecoupAccountSpec spec = { 0 };
      g_autofree char *id = NULL;
      struct { RecoupContactKind kind; const char *value; } cps[] = {
        { RECOUP_CONTACT_EMAIL, email }, { RECOUP_CONTACT_PHONE, phone }, { RECOUP_CONTACT_ADDRESS, address },
      };

      if (ref == NULL || name == NULL)
        return recoup_cli_usage (cli, "create needs --ref and --name");
      /* Check every contact point before writing anything. */
      for (guint i = 0; i < G_N_ELEMENTS (cps); i++)
        if (cps[i].value != NULL && !recoup_contact_validate (cps[i].kind, cps[i].value, &error))
          return recoup_cli_fail (cli, error);
      if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
        return recoup_cli_fail (cli, error);

      spec.ref = ref;
      spec.name = name;
      spec.currency = currency ? currency : "USD";
      spec.timezone = timezone;
      spec.assigned_to = collector;
      if (!recoup_book_begin (book, &error))
        return recoup_cli_fail (cli, error);
      if (!(id = recoup_account_create (book, &spec, &error)))
        goto fail;
      for (guint i = 0; i < G_N_ELEMENTS (cps); i++)
        {
          g_autofree char *cp = NULL;

          if (cps[i].value != NULL &&
              !(cp = recoup_contact_add (book, id, cps[i].kind, cps[i].value, NULL, TRUE, &error)))
            goto fail;
        }
      if (!recoup_book_commit (book, &error))
        return recoup_cli_fail (cli, error);
      if (cli->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          recoup_cli_json_str (b, "id", id);
          recoup_cli_json_str (b, "ref", ref);
          json_builder_end_object (b);
          recoup_cli_print_builder (b);
        }
      else
        printf ("Created account %s (%s)\n", ref, name);
      return RECOUP_CLI_OK;

    fail:
      recoup_book_rollback (book);
      return recoup_cli_fail (cli, error);
    }

  if (argc == 4 && g_str_equal (argv[0], "set"))
    {
      g_autofree char *account_id = NULL;

      if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
          !(account_id = recoup_account_resolve (book, argv[1], &error)) ||
          !recoup_account_set (book, account_id, argv[2], argv[3], &error))
        return recoup_cli_fail (cli, error);
      if (!cli->json)
        printf ("Set %s of %s\n", argv[2], argv[1]);
      return RECOUP_CLI_OK;
    }

  return recoup_cli_usage (cli, "use “account show ACCOUNT”, “account create --ref R --name N …” or "
                           "“account set ACCOUNT FIELD VALUE”");
}

int
recoup_cli_cmd_contact (RecoupCli  *cli,
                        int         argc,
                        char      **argv)
{
  g_autofree char *kind_text = NULL, *label = NULL, *consent = NULL, *note = NULL;
  gboolean primary = FALSE;
  const GOptionEntry entries[] = {
    { "kind", 'k', 0, G_OPTION_ARG_STRING, &kind_text, "add: phone, email or address", "KIND" },
    { "label", 'l', 0, G_OPTION_ARG_STRING, &label, "add: a label such as work or home", "TEXT" },
    { "primary", 0, 0, G_OPTION_ARG_NONE, &primary, "add: make it the primary one", NULL },
    { "consent", 0, 0, G_OPTION_ARG_STRING, &consent,
      "opt-in: who agreed to be contacted there again, when and how (kept in the history)", "TEXT" },
    { "note", 0, 0, G_OPTION_ARG_STRING, &note,
      "opt-out: how the debtor asked (kept in the history with the opt-out)", "TEXT" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "add ACCOUNT VALUE --kind K | opt-out ID [--note TEXT] | opt-in ID --consent TEXT | set ID VALUE | remove ID",
                         "Manage an account's phones, emails and addresses.", entries, &argc, &argv, &status))
    return status;

  if (argc == 3 && g_str_equal (argv[0], "add"))
    {
      RecoupContactKind kind;
      g_autofree char *account_id = NULL, *id = NULL, *existing = NULL;

      if (kind_text == NULL || !recoup_contact_kind_from_string (kind_text, &kind))
        return recoup_cli_usage (cli, "--kind must be phone, email or address");
      /* A value the account has in another spelling adds nothing (core's
       * rule): say so, rather than "Added". */
      if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
          !(account_id = recoup_account_resolve (book, argv[1], &error)) ||
          !recoup_contact_find (book, account_id, kind, argv[2], &existing, &error) ||
          !(id = recoup_contact_add (book, account_id, kind, argv[2], label, primary, &error)))
        return recoup_cli_fail (cli, error);
      if (cli->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          recoup_cli_json_str (b, "id", id);
          json_builder_set_member_name (b, "added");
          json_builder_add_boolean_value (b, existing == NULL);
          json_builder_end_object (b);
          recoup_cli_print_builder (b);
        }
      else if (existing != NULL)
        printf ("%s already has this %s (%s); nothing changed\n", argv[1], kind_text, id);
      else
        printf ("Added %s %s (%s)\n", kind_text, argv[2], id);
      return RECOUP_CLI_OK;
    }

  if (argc == 2 && (g_str_equal (argv[0], "opt-out") || g_str_equal (argv[0], "opt-in") ||
                    g_str_equal (argv[0], "remove")))
    {
      gboolean ok;

      if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
        return recoup_cli_fail (cli, error);
      if (g_str_equal (argv[0], "remove"))
        ok = recoup_contact_remove (book, argv[1], &error);
      else if (g_str_equal (argv[0], "opt-in"))
        ok = recoup_contact_opt_back_in (book, argv[1], consent, &error);
      else
        ok = recoup_contact_opt_out (book, argv[1], 0, note, &error);
      if (!ok)
        return recoup_cli_fail (cli, error);
      if (!cli->json)
        printf ("Done: %s %s\n", argv[0], argv[1]);
      return RECOUP_CLI_OK;
    }

  if (argc == 3 && g_str_equal (argv[0], "set"))
    {
      if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
          !recoup_contact_set_value (book, argv[1], argv[2], &error))
        return recoup_cli_fail (cli, error);
      if (!cli->json)
        printf ("Changed %s\n", argv[1]);
      return RECOUP_CLI_OK;
    }

  return recoup_cli_usage (cli, "use “contact add ACCOUNT VALUE --kind K”, “contact opt-out ID”, "
                           "“contact opt-in ID”, “contact set ID VALUE” or “contact remove ID”");
}

int
recoup_cli_cmd_user (RecoupCli  *cli,
                     int         argc,
                     char      **argv)
{
  g_autofree char *role = NULL;
  int max_discount_bp = 0, max_installments = 0;
  gboolean can_override = FALSE;
  const GOptionEntry entries[] = {
    { "role", 'r', 0, G_OPTION_ARG_STRING, &role, "add: owner, collector or bookkeeper", "ROLE" },
    { "max-discount-bp", 0, 0, G_OPTION_ARG_INT, &max_discount_bp, "add: largest discount they may offer, in basis points", "N" },
    { "max-installments", 0, 0, G_OPTION_ARG_INT, &max_installments, "add: longest plan they may agree", "N" },
    { "can-override", 0, 0, G_OPTION_ARG_NONE, &can_override, "add: may override a compliance block, with a reason", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "list | add NAME --role R", "List or add the people who use this book.",
                         entries, &argc, &argv, &status))
    return status;

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);

  if (argc == 2 && g_str_equal (argv[0], "add"))
    {
      g_autofree char *id = recoup_user_add (book, argv[1], role ? role : "collector", max_discount_bp,
                                             max_installments, can_override, &error);
      if (id == NULL)
        return recoup_cli_fail (cli, error);
      if (cli->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          recoup_cli_json_str (b, "id", id);
          json_builder_end_object (b);
          recoup_cli_print_builder (b);
        }
      else
        printf ("Added %s (%s)\n", argv[1], id);
      return RECOUP_CLI_OK;
    }

  if (argc == 0 || (argc == 1 && g_str_equal (argv[0], "list")))
    {
      g_autoptr(GPtrArray) users = recoup_user_list (book, &error);

      if (users == NULL)
        return recoup_cli_fail (cli, error);
      if (cli->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_array (b);
          for (guint i = 0; i < users->len; i++)
            {
              RecoupUser *u = g_ptr_array_index (users, i);

              json_builder_begin_object (b);
              recoup_cli_json_str (b, "id", u->id);
              recoup_cli_json_str (b, "name", u->name);
              recoup_cli_json_str (b, "role", u->role);
              recoup_cli_json_int (b, "max_discount_bp", u->max_discount_bp);
              recoup_cli_json_int (b, "max_plan_installments", u->max_plan_installments);
              recoup_cli_json_bool (b, "can_override", u->can_override);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          recoup_cli_print_builder (b);
        }
      else
        {
          g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("NAME", "ROLE", "MAX DISCOUNT", "MAX PLAN", "OVERRIDE", "ID", NULL);

          for (guint i = 0; i < users->len; i++)
            {
              RecoupUser *u = g_ptr_array_index (users, i);
              g_autofree char *disc = g_strdup_printf ("%" G_GINT64_FORMAT " bp", u->max_discount_bp);
              g_autofree char *plan = g_strdup_printf ("%" G_GINT64_FORMAT, u->max_plan_installments);

              recoup_cli_table_add (t, u->name, u->role, disc, plan, u->can_override ? "yes" : "no", u->id, NULL);
            }
          recoup_cli_table_print (t);
        }
      return RECOUP_CLI_OK;
    }

  return recoup_cli_usage (cli, "use “user list” or “user add NAME --role R”");
}
