/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-templates"

#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include "recoup-test-util.h"

/* ---------------------------------------------------------------------------
 * Syntax
 * ------------------------------------------------------------------------- */

static char *
render_text (const char            *text,
             RecoupTemplateContext *ctx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupTemplate) t = recoup_template_parse (text, 1, &error);

  g_assert_no_error (error);
  return recoup_template_render (t, ctx);
}

static void
test_render_basic (void)
{
  g_autoptr(RecoupTemplateContext) ctx = recoup_template_context_new ();
  RecoupTemplateContext *item;
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

  recoup_template_context_set (ctx, "debtor.name", "Zoë Müller");
  recoup_template_context_set (ctx, "account.balance", "EUR 1,234.50");
  item = recoup_template_context_add_item (ctx, "invoices");
  recoup_template_context_set (item, "invoice.ref", "INV-1");
  recoup_template_context_set (item, "invoice.open_amount", "EUR 1,000.00");
  item = recoup_template_context_add_item (ctx, "invoices");
  recoup_template_context_set (item, "invoice.ref", "INV-2");
  recoup_template_context_set (item, "invoice.open_amount", "EUR 234.50");

  a = render_text ("Dear {{debtor.name}}, you owe {{ account.balance }}.", ctx);
  g_assert_cmpstr (a, ==, "Dear Zoë Müller, you owe EUR 1,234.50.");

  /* Section tags alone on their line take the line with them; an item sees
   * the outer fields too. */
  b = render_text ("Open:\n"
                   "{{#each invoices}}\n"
                   "  {{invoice.ref}} {{invoice.open_amount}} ({{debtor.name}})\n"
                   "{{/each}}\n"
                   "End\n", ctx);
  g_assert_cmpstr (b, ==, "Open:\n"
                          "  INV-1 EUR 1,000.00 (Zoë Müller)\n"
                          "  INV-2 EUR 234.50 (Zoë Müller)\n"
                          "End\n");

  /* if / unless on empty and missing fields and on lists; a literal "{{". */
  c = render_text ("{{#if offer.total}}plan{{/if}}{{#unless offer.total}}no plan{{/unless}}, "
                   "{{#if invoices}}has invoices{{/if}}{{#unless installments}}, no schedule{{/unless}} "
                   "{{lbrace}}x}", ctx);
  g_assert_cmpstr (c, ==, "no plan, has invoices, no schedule {{x}");

  /* An empty list renders nothing; inline sections keep their surroundings. */
  d = render_text ("[{{#each installments}}{{installment.seq}};{{/each}}]", ctx);
  g_assert_cmpstr (d, ==, "[]");
}

typedef struct
{
  const char *text;
  int         code;
  const char *prefix;   /* line:column the message must start with */
  const char *mentions; /* and a word it must contain */
} BadCase;

static void
test_bad_templates (void)
{
  static const BadCase cases[] = {
    { "Hello {{debtor.nmae}}", RECOUP_TEMPLATE_ERROR_UNKNOWN_FIELD, "1:9:", "debtor.nmae" },
    { "Line one\n  and {{debtor.name", RECOUP_TEMPLATE_ERROR_SYNTAX, "2:7:", "not closed" },
    { "a\nb\nc }} d", RECOUP_TEMPLATE_ERROR_SYNTAX, "3:3:", "}}" },
    { "x\n{{#each invoices}}\n{{invoice.ref}}\n", RECOUP_TEMPLATE_ERROR_SYNTAX, "2:1:", "never closed" },
    { "{{#each invoices}}{{/if}}", RECOUP_TEMPLATE_ERROR_SYNTAX, "1:19:", "{{/each}}" },
    { "{{/each}}", RECOUP_TEMPLATE_ERROR_SYNTAX, "1:1:", "closes nothing" },
    { "Due: {{invoice.due_date}}", RECOUP_TEMPLATE_ERROR_UNKNOWN_FIELD, "1:8:", "#each invoices" },
    { "{{#each debts}}{{/each}}", RECOUP_TEMPLATE_ERROR_UNKNOWN_FIELD, "1:9:", "debts" },
    { "{{#with x}}{{/with}}", RECOUP_TEMPLATE_ERROR_SYNTAX, "1:1:", "not a section" },
    { "{{invoices}}", RECOUP_TEMPLATE_ERROR_SYNTAX, "1:3:", "#each invoices" },
    { "ok\n\n\tÄÖÜ {{bad name}}", RECOUP_TEMPLATE_ERROR_SYNTAX, "3:8:", "not a field name" },
    { "{{}}", RECOUP_TEMPLATE_ERROR_SYNTAX, "1:3:", "not a field name" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RecoupTemplate) t = recoup_template_parse (cases[i].text, 1, &error);

      g_test_message ("case %u: %s", i, cases[i].text);
      g_assert_null (t);
      g_assert_error (error, RECOUP_TEMPLATE_ERROR, cases[i].code);
      g_test_message ("-> %s", error->message);
      g_assert_true (g_str_has_prefix (error->message, cases[i].prefix));
      g_assert_nonnull (strstr (error->message, cases[i].mentions));
    }
}

static void
test_file_headers (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *channel = NULL, *subject = NULL, *body = NULL;

  g_assert_true (recoup_template_parse_file_text ("Subject: Hi {{debtor.name}}\nChannel: sms\n\nBody {{today}}\n",
                                                  &channel, &subject, &body, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (channel, ==, "sms");
  g_assert_cmpstr (subject, ==, "Hi {{debtor.name}}");
  g_assert_cmpstr (body, ==, "Body {{today}}\n");

  /* Errors carry the file's line numbers: the body starts on line 3. */
  g_assert_false (recoup_template_parse_file_text ("Subject: ok\n\nfirst\n{{nope}}\n", NULL, NULL, NULL, &error));
  g_assert_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_UNKNOWN_FIELD);
  g_assert_true (g_str_has_prefix (error->message, "4:3:"));
  g_clear_error (&error);

  g_assert_false (recoup_template_parse_file_text ("Subject: {{debtor.name}\n\nx", NULL, NULL, NULL, &error));
  g_assert_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_SYNTAX);
  g_assert_true (g_str_has_prefix (error->message, "1:1:"));
  g_clear_error (&error);

  g_assert_false (recoup_template_parse_file_text ("Channel: fax\n\nx", NULL, NULL, NULL, &error));
  g_assert_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_SYNTAX);
  g_assert_nonnull (strstr (error->message, "fax"));
}

/* ---------------------------------------------------------------------------
 * Stored templates
 * ------------------------------------------------------------------------- */

static void
test_defaults_parse (void)
{
  TestBook tb;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  static const char * const required[] = {
    "friendly-reminder", "second-reminder", "final-notice", "plan-confirmation",
    "settlement-confirmation", "validation-notice", NULL
  };

  test_book_open (&tb);
  list = recoup_template_list (tb.book, &error);
  g_assert_no_error (error);
  for (guint r = 0; required[r] != NULL; r++)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < list->len; i++)
        {
          RecoupTemplateInfo *info = g_ptr_array_index (list, i);
          g_autoptr(RecoupTemplate) s = NULL, b = NULL;

          if (!g_str_equal (info->name, required[r]))
            continue;
          found = TRUE;
          g_assert_false (info->customised);
          s = recoup_template_parse (info->subject, 1, &error);
          g_assert_no_error (error);
          b = recoup_template_parse (info->body, 1, &error);
          g_assert_no_error (error);
        }
      g_assert_true (found);
    }
  test_book_close (&tb);
}

static void
test_save_and_reset (void)
{
  TestBook tb;
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupTemplateInfo) info = NULL;
  gint64 changes;

  test_book_open (&tb);
  changes = recoup_book_count_changes (tb.book);

  /* A bad template is refused and changes nothing. */
  g_assert_false (recoup_template_save (tb.book, "friendly-reminder", "email", "Hi",
                                        "Dear {{debtor.nam}}", &error));
  g_assert_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_UNKNOWN_FIELD);
  g_clear_error (&error);
  g_assert_false (recoup_template_save (tb.book, "friendly-reminder", "email", "Hi {{x",
                                        "Dear", &error));
  g_assert_true (g_str_has_prefix (error->message, "subject 1:4:"));
  g_clear_error (&error);
  g_assert_false (recoup_template_save (tb.book, "bad name!", "email", "Hi", "x", &error));
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM templates"), ==, 0);

  /* The book's own version wins, is change-logged, and can be reset. */
  g_assert_true (recoup_template_save (tb.book, "friendly-reminder", NULL, "Pay {{account.balance}}",
                                       "Dear {{debtor.name}}\n", &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes + 1);
  info = recoup_template_get (tb.book, "friendly-reminder", &error);
  g_assert_no_error (error);
  g_assert_true (info->customised);
  g_assert_cmpstr (info->channel, ==, "email");
  g_assert_cmpstr (info->body, ==, "Dear {{debtor.name}}\n");
  g_clear_pointer (&info, recoup_template_info_free);

  g_assert_true (recoup_template_save (tb.book, "friendly-reminder", NULL, "Pay now", "Dear you\n", &error));
  g_assert_cmpint (test_query_int (tb.path,
    "SELECT count(*) FROM changes WHERE entity = 'templates' AND op = 'set'"), ==, 1);

  g_assert_true (recoup_template_reset (tb.book, "friendly-reminder", &error));
  g_assert_no_error (error);
  info = recoup_template_get (tb.book, "friendly-reminder", &error);
  g_assert_false (info->customised);
  g_assert_nonnull (strstr (info->body, "friendly reminder"));
  g_clear_pointer (&info, recoup_template_info_free);

  /* A new template of the book's own. */
  g_assert_true (recoup_template_save (tb.book, "promise-thanks", "sms", NULL, "Thanks {{debtor.name}}", &error));
  info = recoup_template_get (tb.book, "promise-thanks", &error);
  g_assert_no_error (error);
  g_assert_false (info->has_default);
  g_clear_pointer (&info, recoup_template_info_free);
  g_assert_null (recoup_template_get (tb.book, "no-such", &error));
  g_assert_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_NOT_FOUND);
  test_book_close (&tb);
}

/* ---------------------------------------------------------------------------
 * Golden rendering from a book
 * ------------------------------------------------------------------------- */

static void
record (RecoupBook      *book,
        RecoupEntryKind  kind,
        const char      *account_id,
        gint64           amount,
        const char      *date)
{
  g_autoptr(GError) error = NULL;
  RecoupEntrySpec spec = { .kind = kind, .account_id = account_id, .amount = amount,
                           .effective_date = date,
                           .method = kind == RECOUP_ENTRY_PAYMENT ? "bank-transfer" : NULL };
  g_autofree char *id = recoup_ledger_record (book, &spec, &error);

  g_assert_no_error (error);
}

/* The account for the golden tests, as of 2026-11-24:
 *   INV-1 issued 2026-08-01, due 2026-08-31, USD 500.00
 *   INV-2 issued 2026-09-01, due 2026-10-01, USD 250.00
 *   payment  2026-08-15  USD 100.00
 *   fee      2026-10-05  USD  25.00
 *   interest 2026-11-01  USD  12.34
 *   payment  2026-11-10  USD 200.00 */
static char *
golden_account (RecoupBook *book)
{
  g_autoptr(GError) error = NULL;
  char *acc = test_add_account (book, "V-1", "USD");
  g_autofree char *i1 = test_add_invoice (book, acc, "INV-1", "2026-08-01", "2026-08-31", 50000, "USD");
  g_autofree char *i2 = test_add_invoice (book, acc, "INV-2", "2026-09-01", "2026-10-01", 25000, "USD");
  g_autofree char *cp1 = NULL, *cp2 = NULL;

  record (book, RECOUP_ENTRY_PAYMENT, acc, 10000, "2026-08-15");
  record (book, RECOUP_ENTRY_FEE, acc, 2500, "2026-10-05");
  record (book, RECOUP_ENTRY_INTEREST, acc, 1234, "2026-11-01");
  record (book, RECOUP_ENTRY_PAYMENT, acc, 20000, "2026-11-10");
  g_assert_true (recoup_account_set (book, acc, "name", "Dana Øster", &error));
  g_assert_no_error (error);
  {
    g_autofree char *uid = recoup_user_add (book, "Sam Collector", "collector", 0, 0, FALSE, &error);

    g_assert_no_error (error);
    g_assert_true (recoup_account_set (book, acc, "assigned_to", uid, &error));
    g_assert_no_error (error);
  }
  cp1 = recoup_contact_add (book, acc, RECOUP_CONTACT_ADDRESS, "12 Elm St, Springfield, IL 62701", "home", TRUE, &error);
  g_assert_no_error (error);
  cp2 = recoup_contact_add (book, acc, RECOUP_CONTACT_EMAIL, "dana@example.com", "", TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_book_set_setting (book, "business.name", "Acme Receivables", &error));
  g_assert_true (recoup_book_set_setting (book, "business.address", "1 Main St, Chicago, IL 60601", &error));
  g_assert_true (recoup_book_set_setting (book, "business.phone", "+1 312 555 0100", &error));
  g_assert_true (recoup_book_set_setting (book, "business.email", "ar@acme.example", &error));
  g_assert_true (recoup_book_set_setting (book, "business.payment_instructions",
                                          "transfer to IBAN US00 1234, reference your account number", &error));
  g_assert_no_error (error);
  return acc;
}

static void
test_golden_reminder (void)
{
  TestBook tb;
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = NULL, *subject = NULL, *body = NULL;
  g_autoptr(RecoupTemplateContext) ctx = NULL;

  test_book_open (&tb);
  acc = golden_account (tb.book);
  ctx = recoup_template_context_build (tb.book, acc, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_template_render_named (tb.book, "friendly-reminder", ctx, &subject, &body, &error));
  g_assert_no_error (error);

  /* Balance: 500 + 250 - 100 + 25 + 12.34 - 200 = 487.34. Payments go to the
   * oldest invoice first: INV-1 500 - 100 - 200 = 200.00 open; INV-2 250.00.
   * Days past due on 2026-11-24: INV-1 (due 08-31) 30 + 31 + 24 = 85; INV-2
   * (due 10-01) 30 + 24 = 54. */
  g_assert_cmpstr (subject, ==, "Friendly reminder: USD 487.34 due to Acme Receivables");
  g_assert_cmpstr (body, ==,
    "Dear Dana Øster,\n"
    "\n"
    "This is a friendly reminder that USD 487.34 is now due to Acme Receivables on account V-1:\n"
    "\n"
    "  INV-1  due 2026-08-31  open USD 200.00  (85 days past due)\n"
    "  INV-2  due 2026-10-01  open USD 250.00  (54 days past due)\n"
    "\n"
    "If you have already paid, thank you, and please ignore this message.\n"
    "\n"
    "How to pay: transfer to IBAN US00 1234, reference your account number\n"
    "\n"
    "Kind regards,\n"
    "Sam Collector\n"
    "Acme Receivables\n"
    "Phone: +1 312 555 0100\n"
    "Email: ar@acme.example\n");
  test_book_close (&tb);
}

static void
test_golden_validation_notice (void)
{
  TestBook tb;
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = NULL, *body = NULL;
  g_autoptr(RecoupTemplateContext) ctx = NULL;

  test_book_open (&tb);
  acc = golden_account (tb.book);
  ctx = recoup_template_context_build (tb.book, acc, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_template_render_named (tb.book, "validation-notice", ctx, NULL, &body, &error));
  g_assert_no_error (error);
  g_test_message ("%s", body);

  /* Checked by hand. Itemisation date: no placement date, so the last
   * statement date = the newest invoice's issue date, 2026-09-01.
   * Owed as of 2026-09-01: 500.00 + 250.00 - 100.00 (payment of 08-15) = 650.00.
   * Since then: interest 12.34 (11-01); fees 25.00 (10-05); payments and
   * credits 200.00 (11-10). Now: 650.00 + 12.34 + 25.00 - 200.00 = 487.34,
   * which is the ledger balance. Dispute by: 2026-11-24 + 35 days =
   * 2026-12-29 (6 days left in November, then 29 in December). */
  g_assert_nonnull (strstr (body,
    "As of 2026-09-01, you owed:        USD 650.00\n"
    "Between 2026-09-01 and today:\n"
    "  You were charged this amount in interest:      + USD 12.34\n"
    "  You were charged this amount in fees:          + USD 25.00\n"
    "  You paid or were credited this amount\n"
    "  toward the debt:                               – USD 200.00\n"
    "Total amount of the debt now:                      USD 487.34\n"));
  g_assert_nonnull (strstr (body, "Call or write to us by 2026-12-29 to dispute"));
  g_assert_true (g_str_has_prefix (body,
    "Acme Receivables\n"
    "1 Main St, Chicago, IL 60601\n"
    "\n"
    "Dana Øster\n"
    "12 Elm St, Springfield, IL 62701\n"
    "\n"
    "2026-11-24\n"
    "Reference: V-1\n"));
  g_assert_nonnull (strstr (body, "Contact us: Acme Receivables, 1 Main St, Chicago, IL 60601, "
                                  "+1 312 555 0100, ar@acme.example\n"));

  /* With a placement date the itemisation starts there: as of 2026-10-10 the
   * debt was 650.00 + 25.00 (fee of 10-05) = 675.00; since then interest 12.34,
   * no fees, 200.00 paid; 675.00 + 12.34 - 200.00 = 487.34. */
  g_clear_pointer (&body, g_free);
  g_clear_pointer (&ctx, recoup_template_context_free);
  g_assert_true (recoup_account_set (tb.book, acc, "placed_on", "2026-10-10", &error));
  g_assert_no_error (error);
  ctx = recoup_template_context_build (tb.book, acc, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_template_render_named (tb.book, "validation-notice", ctx, NULL, &body, &error));
  g_assert_nonnull (strstr (body,
    "As of 2026-10-10, you owed:        USD 675.00\n"
    "Between 2026-10-10 and today:\n"
    "  You were charged this amount in interest:      + USD 12.34\n"
    "  You were charged this amount in fees:          + USD 0.00\n"
    "  You paid or were credited this amount\n"
    "  toward the debt:                               – USD 200.00\n"
    "Total amount of the debt now:                      USD 487.34\n"));
  test_book_close (&tb);
}

static int
run_cli (char      **out_stdout,
         char      **out_stderr,
         const char *first,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  va_list args;
  int status = -1;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) g_getenv ("RECOUP_CLI"));
  va_start (args, first);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               out_stdout, out_stderr, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_cli (void)
{
  TestBook tb;
  g_autofree char *bad = NULL, *good = NULL, *out = NULL, *err = NULL;

  if (g_getenv ("RECOUP_CLI") == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set (run through meson test)");
      return;
    }
  test_book_open (&tb);
  bad = g_build_filename (tb.dir, "bad.txt", NULL);
  good = g_build_filename (tb.dir, "good.txt", NULL);
  g_assert_true (g_file_set_contents (bad, "Subject: Hi\n\nDear {{debtor.name}},\n  {{#each invoices}}{{invoice.ref}}\n", -1, NULL));
  g_assert_true (g_file_set_contents (good, "Subject: Hi {{debtor.name}}\nChannel: email\n\nPay {{account.balance}}.\n", -1, NULL));
  g_clear_object (&tb.book);

  g_assert_cmpint (run_cli (&out, &err, "template", "check", bad, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "bad.txt:4:3:"));
  g_assert_nonnull (strstr (err, "never closed"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (&out, &err, "--book", tb.path, "template", "set", "friendly-reminder", bad, NULL), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM templates"), ==, 0);

  g_assert_cmpint (run_cli (&out, &err, "--book", tb.path, "template", "set", "friendly-reminder", good, NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "--book", tb.path, "template", "show", "friendly-reminder", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "Subject: Hi {{debtor.name}}\nChannel: email\n\nPay {{account.balance}}.\n");
  test_book_close (&tb);
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/recoup/core/templates/render", test_render_basic);
  g_test_add_func ("/recoup/core/templates/bad", test_bad_templates);
  g_test_add_func ("/recoup/core/templates/file-headers", test_file_headers);
  g_test_add_func ("/recoup/core/templates/defaults", test_defaults_parse);
  g_test_add_func ("/recoup/core/templates/save-reset", test_save_and_reset);
  g_test_add_func ("/recoup/core/templates/golden-reminder", test_golden_reminder);
  g_test_add_func ("/recoup/core/templates/golden-validation-notice", test_golden_validation_notice);
  g_test_add_func ("/recoup/core/templates/cli", test_cli);
  return g_test_run ();
}
