/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "recoup-book-private.h"
#include "recoup-test-util.h"

/*
 * Search by what a bookkeeper has on paper: the number of a reference, a
 * reference typed without its dash, an e-mail domain, an invoice number, a
 * receipt number. The app's list (recoup_browse_prepare()) and the CLI's
 * (recoup_account_list()) ask the same index.
 */

#define TODAY "2026-06-01"

static char *
add_account (RecoupBook *book,
             const char *ref,
             const char *name,
             const char *email)
{
  g_autoptr(GError) error = NULL;
  RecoupAccountSpec spec = { .ref = ref, .name = name, .currency = "USD", .timezone = "America/New_York" };
  g_autofree char *invoice = g_strdup_printf ("INV-%s", ref);
  char *id = recoup_account_create (book, &spec, &error);

  g_assert_no_error (error);
  if (email != NULL)
    {
      g_free (recoup_contact_add (book, id, RECOUP_CONTACT_EMAIL, email, "", TRUE, &error));
      g_assert_no_error (error);
    }
  g_free (test_add_invoice (book, id, invoice, "2026-01-01", "2026-03-01", 10000, "USD"));
  return id;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The names the app's list shows for @search, sorted, joined by "|". */
static char *
app_finds (RecoupBook *book,
           const char *search)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  gint64 n = recoup_browse_prepare (book, search, FALSE, NULL, &error);

  g_assert_no_error (error);
  rows = recoup_browse_page (book, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, rows->len);
  for (guint i = 0; i < rows->len; i++)
    g_ptr_array_add (names, ((RecoupBrowseRow *) rows->pdata[i])->name);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv ("|", (char **) names->pdata);
}

/* The same for the CLI's account list (sorted by reference there). */
static char *
cli_finds (RecoupBook *book,
           const char *search)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  RecoupAccountFilter filter = { .search = search };

  list = recoup_account_list (book, &filter, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < list->len; i++)
    g_ptr_array_add (names, ((RecoupAccountSummary *) list->pdata[i])->name);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv ("|", (char **) names->pdata);
}

#define assert_finds(book, search, expected) \
  G_STMT_START { \
    g_autofree char *app_ = app_finds ((book), (search)); \
    g_autofree char *cli_ = cli_finds ((book), (search)); \
    if (g_strcmp0 (app_, (expected)) != 0 || g_strcmp0 (cli_, (expected)) != 0) \
      g_error ("search “%s” found “%s” in the app and “%s” in the CLI, expected “%s”", \
               (search), app_, cli_, (expected)); \
  } G_STMT_END

static void
test_reference_number (void)
{
  TestBook tb;

  test_book_open (&tb);
  g_free (add_account (tb.book, "ACC-0000372", "Copper Canyon", NULL));
  g_free (add_account (tb.book, "ACC-0003720", "Madison Martin", NULL));
  g_free (add_account (tb.book, "ACC-0000037", "Kwame Ray", NULL));
  g_free (add_account (tb.book, "2024/0042-B", "Anouk de Groot", NULL));

  /* The number, as printed or without its leading zeros: its start, as
   * every search reads a start. */
  assert_finds (tb.book, "0000372", "Copper Canyon");
  assert_finds (tb.book, "372", "Copper Canyon|Madison Martin");
  assert_finds (tb.book, "37", "Copper Canyon|Kwame Ray|Madison Martin");
  assert_finds (tb.book, "0000037", "Kwame Ray");
  /* Without the dash, in any case. */
  assert_finds (tb.book, "ACC0000372", "Copper Canyon");
  assert_finds (tb.book, "acc000037", "Copper Canyon");
  assert_finds (tb.book, "ACC0000037", "Kwame Ray");
  assert_finds (tb.book, "acc-0000372", "Copper Canyon");
  /* Every number of a reference. */
  assert_finds (tb.book, "42", "Anouk de Groot");
  assert_finds (tb.book, "0042-b", "Anouk de Groot");
  assert_finds (tb.book, "20240042b", "Anouk de Groot");
  /* A number is read from its start. With other leading zeros it is still
   * the whole number of Copper Canyon's invoice INV-ACC-0000372
   * (document-number below). */
  assert_finds (tb.book, "72", "");
  assert_finds (tb.book, "00372", "Copper Canyon");
  test_book_close (&tb);
}

/* The names in the order the app's list and the CLI's show them. */
static char *
finds_in_order (RecoupBook *book,
                const char *search,
                gboolean    app)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  if (app)
    {
      g_assert_cmpint (recoup_browse_prepare (book, search, FALSE, NULL, &error), >=, 0);
      g_assert_no_error (error);
      rows = recoup_browse_page (book, 0, 100, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < rows->len; i++)
        g_ptr_array_add (names, ((RecoupBrowseRow *) rows->pdata[i])->name);
    }
  else
    {
      RecoupAccountFilter filter = { .search = search };

      rows = recoup_account_list (book, &filter, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < rows->len; i++)
        g_ptr_array_add (names, ((RecoupAccountSummary *) rows->pdata[i])->name);
    }
  g_ptr_array_add (names, NULL);
  return g_strjoinv ("|", (char **) names->pdata);
}

#define assert_order(book, search, app_expected, cli_expected) \
  G_STMT_START { \
    g_autofree char *app_ = finds_in_order ((book), (search), TRUE); \
    g_autofree char *cli_ = finds_in_order ((book), (search), FALSE); \
    g_assert_cmpstr (app_, ==, (app_expected)); \
    g_assert_cmpstr (cli_, ==, (cli_expected)); \
  } G_STMT_END

/* What was typed whole comes first: the reference "372" before the larger
 * balance of "3720", the surname Smith before Smithson. The rest keep their
 * order: the largest balance first in the app, the reference in the CLI. And
 * a name's "&" need not be typed. */
static void
test_exact_first (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *big = NULL, *smithson = NULL;
  TestBook tb;

  test_book_open (&tb);
  big = add_account (tb.book, "A-3720", "Madison Martin", NULL);
  g_free (add_account (tb.book, "B-372", "Copper Canyon", NULL));
  g_free (add_account (tb.book, "C-37200", "Kwame Ray", NULL));
  g_free (test_add_invoice (tb.book, big, "INV-X1", "2026-01-01", "2026-03-01", 90000, "USD"));
  assert_order (tb.book, "372", "Copper Canyon|Madison Martin|Kwame Ray",
                "Copper Canyon|Madison Martin|Kwame Ray");
  assert_order (tb.book, "3720", "Madison Martin|Kwame Ray", "Madison Martin|Kwame Ray");

  smithson = add_account (tb.book, "D-1", "Ada Smithson", NULL);
  g_free (add_account (tb.book, "E-1", "Ben Smith", NULL));
  g_free (test_add_invoice (tb.book, smithson, "INV-X2", "2026-01-01", "2026-03-01", 50000, "USD"));
  assert_order (tb.book, "smith", "Ben Smith|Ada Smithson", "Ben Smith|Ada Smithson");
  assert_order (tb.book, "SMITHS", "Ada Smithson", "Ada Smithson");

  /* A name's "&" need not be typed. */
  g_free (add_account (tb.book, "F-1", "Peterson & Richards LLC", NULL));
  assert_finds (tb.book, "peterson richards", "Peterson & Richards LLC");
  assert_finds (tb.book, "peterson & rich", "Peterson & Richards LLC");
  test_book_close (&tb);
}

static void
test_email_domain (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *copper = NULL;
  g_autofree char *contact = NULL;
  TestBook tb;

  test_book_open (&tb);
  copper = add_account (tb.book, "ACC-1", "Copper Canyon", "ap@copper-canyon-furniture-corp.example");
  g_free (add_account (tb.book, "ACC-2", "Copper Kettle", "billing@copper-kettle.example"));
  g_free (add_account (tb.book, "ACC-3", "Dmitri Moreno", "dmoreno@example.net"));

  assert_finds (tb.book, "copper-canyon-furniture-corp.example", "Copper Canyon");
  assert_finds (tb.book, "Copper-Canyon", "Copper Canyon");
  assert_finds (tb.book, "example.net", "Dmitri Moreno");
  assert_finds (tb.book, "ap@copper", "Copper Canyon");
  assert_finds (tb.book, "canyon-furniture-corp.example", "");

  /* A second address adds its domain; a removed one takes it away. */
  contact = recoup_contact_add (tb.book, copper, RECOUP_CONTACT_EMAIL, "Jo@Canyon-Group.example", "", FALSE, &error);
  g_assert_no_error (error);
  assert_finds (tb.book, "canyon-group.example", "Copper Canyon");
  g_assert_true (recoup_contact_remove (tb.book, contact, &error));
  g_assert_no_error (error);
  assert_finds (tb.book, "canyon-group.example", "");
  test_book_close (&tb);
}

/* Several words, in any order, each the start of a word of the name (or of
 * another term): a name as it is written on a form, surname first, or with
 * the middle name left out. */
static void
test_words_any_order (void)
{
  TestBook tb;

  test_book_open (&tb);
  g_free (add_account (tb.book, "ACC-1", "Johanna Jansen", "jj@example.nl"));
  g_free (add_account (tb.book, "ACC-2", "John A. Smith", NULL));
  g_free (add_account (tb.book, "ACC-3", "Johan Smits", NULL));
  g_free (add_account (tb.book, "ACC-4", "Jimenez & Gray Co.", NULL));

  assert_finds (tb.book, "jansen johanna", "Johanna Jansen");
  assert_finds (tb.book, "Jansen, Johanna", "Johanna Jansen");
  assert_finds (tb.book, "john smith", "John A. Smith");
  assert_finds (tb.book, "smith john", "John A. Smith");
  assert_finds (tb.book, "smit joh", "Johan Smits|John A. Smith");
  assert_finds (tb.book, "gray jimenez", "Jimenez & Gray Co.");
  assert_finds (tb.book, "jansen example.nl", "Johanna Jansen");
  /* Every word must be there, at a word's start. */
  assert_finds (tb.book, "jansen john", "");
  assert_finds (tb.book, "ansen johanna", "");
  /* Words so short they would read half the index are not looked up apart. */
  assert_finds (tb.book, "j s", "");
  test_book_close (&tb);
}

/* A number written the national way (trunk prefix 0) or with an
 * international prefix 00 finds the number stored with its country code. */
static void
test_phone_national (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *groot = NULL;
  TestBook tb;

  test_book_open (&tb);
  groot = add_account (tb.book, "ACC-1", "Anouk de Groot", NULL);
  g_free (recoup_contact_add (tb.book, groot, RECOUP_CONTACT_PHONE, "+31 50 0526 202", "", TRUE, &error));
  g_assert_no_error (error);
  g_free (add_account (tb.book, "ACC-2", "Copper Canyon", NULL));

  assert_finds (tb.book, "050 0526 202", "Anouk de Groot");
  assert_finds (tb.book, "0500526202", "Anouk de Groot");
  assert_finds (tb.book, "0031 50 0526 202", "Anouk de Groot");
  assert_finds (tb.book, "+31 50 0526 202", "Anouk de Groot");
  assert_finds (tb.book, "0526 202", "Anouk de Groot");
  assert_finds (tb.book, "060 0526 202", "");
  test_book_close (&tb);
}

static char *
receipt_of (RecoupBook *book,
            const char *account_id,
            const char *entry_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = recoup_ledger_list (book, account_id, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      RecoupLedgerEntry *e = entries->pdata[i];

      if (g_strcmp0 (e->id, entry_id) == 0)
        return g_strdup (e->receipt_no);
    }
  g_assert_not_reached ();
}

static void
test_invoice_and_receipt (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *wells = NULL, *payment = NULL, *receipt = NULL, *lower = NULL;
  RecoupEntrySpec pay = { .kind = RECOUP_ENTRY_PAYMENT, .amount = 2500, .effective_date = "2026-05-01",
                          .method = "cheque" };
  TestBook tb;

  test_book_open (&tb);
  wells = add_account (tb.book, "ACC-0000310", "Wells Furniture", NULL);
  g_free (add_account (tb.book, "ACC-0000311", "Quinn Bistro", NULL));
  g_free (test_add_invoice (tb.book, wells, "INV-00000580", "2026-01-01", "2026-03-01", 5000, "USD"));
  g_free (test_add_invoice (tb.book, wells, "Inv-2026-Mai", "2026-01-01", "2026-03-01", 5000, "USD"));
  pay.account_id = wells;
  payment = recoup_ledger_record (tb.book, &pay, &error);
  g_assert_no_error (error);
  receipt = receipt_of (tb.book, wells, payment);
  g_assert_true (g_str_has_prefix (receipt, "R-"));
  lower = g_ascii_strdown (receipt, -1);

  /* Whole numbers, as printed or in another case. */
  assert_finds (tb.book, "INV-00000580", "Wells Furniture");
  assert_finds (tb.book, " inv-00000580 ", "Wells Furniture");
  assert_finds (tb.book, "Inv-2026-Mai", "Wells Furniture");
  assert_finds (tb.book, "INV-2026-MAI", "");
  assert_finds (tb.book, receipt, "Wells Furniture");
  assert_finds (tb.book, lower, "Wells Furniture");
  /* Only whole: the start of an invoice number names no account (every
   * invoice starts alike). */
  assert_finds (tb.book, "INV-0000058", "");
  assert_finds (tb.book, "INV-ACC-0000311", "Quinn Bistro");

  /* A deleted account is found by nothing. */
  g_assert_true (recoup_book_begin (tb.book, &error));
  g_assert_true (recoup_book_exec (tb.book, "UPDATE accounts SET deleted = 1 WHERE ref = 'ACC-0000310'", &error));
  recoup_book_touch_account (tb.book, wells);
  g_assert_true (recoup_book_commit (tb.book, &error));
  g_assert_no_error (error);
  assert_finds (tb.book, "INV-00000580", "");
  assert_finds (tb.book, receipt, "");
  test_book_close (&tb);
}

/* A debtor on the phone reads out "invoice 580", not its prefix: a number
 * typed alone finds the invoice or receipt whose number ends in it, under
 * any prefix, with or without the leading zeros; but only whole. */
static void
test_document_number (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *wells = NULL, *quinn = NULL, *payment = NULL, *receipt = NULL;
  RecoupEntrySpec pay = { .kind = RECOUP_ENTRY_PAYMENT, .amount = 2500, .effective_date = "2026-05-01",
                          .method = "cheque" };
  const char *digits;
  TestBook tb;

  test_book_open (&tb);
  wells = add_account (tb.book, "WELLS", "Wells Furniture", NULL);
  quinn = add_account (tb.book, "QUINN", "Quinn Bistro", NULL);
  g_free (test_add_invoice (tb.book, wells, "INV-00000580", "2026-01-01", "2026-03-01", 5000, "USD"));
  g_free (test_add_invoice (tb.book, quinn, "2026-0007", "2026-01-01", "2026-03-01", 5000, "USD"));
  g_free (test_add_invoice (tb.book, quinn, "CN-4411", "2026-01-01", "2026-03-01", 5000, "USD"));
  pay.account_id = wells;
  payment = recoup_ledger_record (tb.book, &pay, &error);
  g_assert_no_error (error);
  receipt = receipt_of (tb.book, wells, payment);

  assert_finds (tb.book, "580", "Wells Furniture");
  assert_finds (tb.book, "00000580", "Wells Furniture");
  assert_finds (tb.book, " #580 ", "Wells Furniture");
  assert_finds (tb.book, "7", "Quinn Bistro");
  assert_finds (tb.book, "0007", "Quinn Bistro");
  assert_finds (tb.book, "4411", "Quinn Bistro");
  /* A receipt by its number alone ("R-E2E7AA-000001" read out as "1"). */
  digits = receipt + strlen (receipt);
  while (digits > receipt && g_ascii_isdigit (digits[-1]))
    digits--;
  assert_finds (tb.book, digits, "Wells Furniture");
  /* Only whole numbers: 58 is no invoice's number; nor is 0. */
  assert_finds (tb.book, "58", "");
  assert_finds (tb.book, "0000", "");
  /* A deleted invoice (a tombstone from another copy) is not found by its number. */
  g_assert_true (recoup_book_begin (tb.book, &error));
  g_assert_true (recoup_book_exec (tb.book, "UPDATE invoices SET deleted = 1 WHERE ref = 'CN-4411'", &error));
  g_assert_true (recoup_book_commit (tb.book, &error));
  g_assert_no_error (error);
  assert_finds (tb.book, "4411", "");
  test_book_close (&tb);
}

/* The terms also come with a CSV import. */
static void
test_import (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupImportReport) report = NULL;
  g_autofree char *csv = NULL;
  TestBook tb;

  test_book_open (&tb);
  csv = g_build_filename (tb.dir, "import.csv", NULL);
  g_assert_true (g_file_set_contents (csv,
    "account_ref,name,email,phone,address,timezone,invoice_ref,issue_date,due_date,amount,currency,description\n"
    "ACC-0000372,Copper Canyon,ap@copper-canyon.example,,,,INV-00000580,2026-01-01,2026-01-31,100.00,USD,\n"
    "ACC-0000373,Quinn Bistro,,,,,INV-00000581,2026-01-01,2026-01-31,100.00,USD,\n", -1, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_import_csv (tb.book, csv, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &report, &error));
  g_assert_no_error (error);

  assert_finds (tb.book, "372", "Copper Canyon");
  assert_finds (tb.book, "acc0000373", "Quinn Bistro");
  assert_finds (tb.book, "copper-canyon.example", "Copper Canyon");
  assert_finds (tb.book, "inv-00000581", "Quinn Bistro");
  test_book_close (&tb);
}

/* Takes the index of the book at @path back to the terms of an earlier
 * Recoup: no reference numbers, no domains, no note of its form. */
static void
make_older_form (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM account_search_terms WHERE term IN ('372', 'acc0000372', 'copper.example');"
                                     "DELETE FROM settings WHERE key = 'derived.search_form'", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

/* A book indexed by an earlier Recoup gets the new terms once, when it is
 * searched; open read-only it searches the index it has. */
static void
test_older_form (void)
{
  g_autoptr(GError) error = NULL;
  TestBook tb;

  test_book_open (&tb);
  g_free (add_account (tb.book, "ACC-0000372", "Copper Canyon", "ap@copper.example"));
  g_clear_object (&tb.book);
  make_older_form (tb.path);

  tb.book = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  assert_finds (tb.book, "copper canyon", "Copper Canyon");
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM settings WHERE key = 'derived.search_form'"), ==, 0);
  g_clear_object (&tb.book);

  tb.book = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  assert_finds (tb.book, "372", "Copper Canyon");
  assert_finds (tb.book, "ACC0000372", "Copper Canyon");
  assert_finds (tb.book, "copper.example", "Copper Canyon");
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM settings WHERE key = 'derived.search_form'"), ==, 1);
  test_book_close (&tb);
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("RECOUP_TODAY", TODAY, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recoup/core/search/reference-number", test_reference_number);
  g_test_add_func ("/recoup/core/search/exact-first", test_exact_first);
  g_test_add_func ("/recoup/core/search/email-domain", test_email_domain);
  g_test_add_func ("/recoup/core/search/words-any-order", test_words_any_order);
  g_test_add_func ("/recoup/core/search/phone-national", test_phone_national);
  g_test_add_func ("/recoup/core/search/invoice-and-receipt", test_invoice_and_receipt);
  g_test_add_func ("/recoup/core/search/document-number", test_document_number);
  g_test_add_func ("/recoup/core/search/import", test_import);
  g_test_add_func ("/recoup/core/search/older-form", test_older_form);
  return g_test_run ();
}
