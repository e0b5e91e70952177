/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "recoup-demo.h"
#include "recoup-import.h"
#include "recoup-book-private.h"
#include "recoup-test-util.h"

/* ---- helpers --------------------------------------------------------------- */

static char *
data_file (const char *name)
{
  const char *dir = g_getenv ("RECOUP_TEST_DATA");

  g_assert_nonnull (dir);
  return g_build_filename (dir, "import", name, NULL);
}

typedef struct
{
  gint64 accounts, invoices, entries, changes, contacts, imports;
} Counts;

static Counts
count_rows (TestBook *tb)
{
  Counts c;

  c.accounts = test_query_int (tb->path, "SELECT count(*) FROM accounts");
  c.invoices = test_query_int (tb->path, "SELECT count(*) FROM invoices");
  c.entries = test_query_int (tb->path, "SELECT count(*) FROM ledger_entries");
  c.changes = test_query_int (tb->path, "SELECT count(*) FROM changes");
  c.contacts = test_query_int (tb->path, "SELECT count(*) FROM contact_points");
  c.imports = test_query_int (tb->path, "SELECT count(*) FROM imports");
  return c;
}

static void
assert_counts_equal (const Counts *a,
                     const Counts *b)
{
  g_assert_cmpint (a->accounts, ==, b->accounts);
  g_assert_cmpint (a->invoices, ==, b->invoices);
  g_assert_cmpint (a->entries, ==, b->entries);
  g_assert_cmpint (a->changes, ==, b->changes);
  g_assert_cmpint (a->contacts, ==, b->contacts);
  g_assert_cmpint (a->imports, ==, b->imports);
}

static RecoupImportReport *
import_ok (TestBook          *tb,
           const char        *path,
           RecoupImportFlags  flags)
{
  g_autoptr(GError) error = NULL;
  RecoupImportReport *report = NULL;
  gboolean ok;

  ok = recoup_import_csv (tb->book, path, flags, NULL, NULL, NULL, &report, &error);
  if (!ok && report != NULL)
    for (guint i = 0; i < report->problems->len; i++)
      g_printerr ("%s\n", (char *) g_ptr_array_index (report->problems, i));
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_nonnull (report);
  return report;
}

static gboolean
has_problem (RecoupImportReport *report,
             const char         *prefix,
             const char         *needle)
{
  for (guint i = 0; i < report->problems->len; i++)
    {
      const char *p = g_ptr_array_index (report->problems, i);

      if (g_str_has_prefix (p, prefix) && (needle == NULL || strstr (p, needle) != NULL))
        return TRUE;
    }
  return FALSE;
}

static void
dump_problems (RecoupImportReport *report)
{
  for (guint i = 0; i < report->problems->len; i++)
    g_test_message ("problem: %s", (char *) g_ptr_array_index (report->problems, i));
}

static gint64
account_balance (RecoupBook *book,
                 const char *ref)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = recoup_account_resolve (book, ref, &error);
  gint64 balance = 0;

  g_assert_no_error (error);
  g_assert_true (recoup_ledger_balance (book, id, "2030-01-01", &balance, &error));
  g_assert_no_error (error);
  return balance;
}

static char *
book_text (TestBook   *tb,
           const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  char *v = NULL;

  g_assert_cmpint (sqlite3_open_v2 (tb->path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    v = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return v;
}

/* ---- good files ------------------------------------------------------------ */

static void
test_good_comma (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = data_file ("good-comma.csv");
  g_autoptr(RecoupImportReport) r = NULL;
  g_autofree char *desc = NULL, *addr = NULL, *tz = NULL;

  test_book_open (&tb);
  r = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
  g_assert_cmpuint (r->rows, ==, 4);
  g_assert_cmpuint (r->accounts_created, ==, 3);
  g_assert_cmpuint (r->invoices_created, ==, 4);
  g_assert_cmpuint (r->rows_skipped, ==, 0);
  g_assert_cmpuint (r->problems->len, ==, 0);

  g_assert_cmpint (account_balance (tb.book, "C-100"), ==, 120000 + 85050);
  g_assert_cmpint (account_balance (tb.book, "C-200"), ==, 199999);
  g_assert_cmpint (account_balance (tb.book, "C-300"), ==, 7500);
  desc = book_text (&tb, "SELECT description FROM invoices WHERE ref = 'INV-1001'");
  g_assert_cmpstr (desc, ==, "Consulting, January");
  addr = book_text (&tb, "SELECT value FROM contact_points c JOIN accounts a ON a.id = c.account_id"
                         " WHERE a.ref = 'C-200' AND kind = 'address'");
  g_assert_cmpstr (addr, ==, "Hauptstraße 5, 10115 Berlin");
  tz = book_text (&tb, "SELECT timezone FROM accounts WHERE ref = 'C-100'");
  g_assert_cmpstr (tz, ==, "America/Chicago");
  /* C-100 and C-200 have email, phone and address; C-300 has none. */
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM contact_points"), ==, 6);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM imports"), ==, 1);
  g_assert_cmpint (test_query_int (tb.path, "SELECT created FROM imports"), ==, 4);
  test_book_close (&tb);
}

static void
test_good_variants (void)
{
  static const struct
  {
    const char *file;
    guint       rows;
    guint       accounts;
    const char *ref;
    gint64      balance;
  } cases[] = {
    { "good-semicolon.csv", 2, 1, "S-1", 150000 },
    { "good-bom-crlf.csv", 2, 2, "B-1", 10000 },
    { "good-quoted.csv", 3, 2, "Q-1", 52000 },
    { "good-aliases.csv", 2, 2, "AL-1", 4200 },
    { "good-tab.csv", 1, 1, "T-1", 1250 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TestBook tb = { 0 };
      g_autofree char *path = data_file (cases[i].file);
      g_autoptr(RecoupImportReport) r = NULL;

      g_test_message ("%s", cases[i].file);
      test_book_open (&tb);
      r = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
      g_assert_cmpuint (r->rows, ==, cases[i].rows);
      g_assert_cmpuint (r->invoices_created, ==, cases[i].rows);
      g_assert_cmpuint (r->accounts_created, ==, cases[i].accounts);
      g_assert_cmpint (account_balance (tb.book, cases[i].ref), ==, cases[i].balance);
      test_book_close (&tb);
    }
}

static void
test_good_details (void)
{
  TestBook tb = { 0 };
  g_autofree char *quoted = data_file ("good-quoted.csv");
  g_autofree char *aliases = data_file ("good-aliases.csv");
  g_autofree char *semi = data_file ("good-semicolon.csv");
  g_autofree char *bom = data_file ("good-bom-crlf.csv");
  g_autoptr(RecoupImportReport) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL;
  g_autofree char *name = NULL, *desc = NULL, *addr = NULL, *alias_tz = NULL, *semi_desc = NULL;
  g_autofree char *bom_ref = NULL, *bom_desc = NULL, *warning = NULL;

  test_book_open (&tb);
  r1 = import_ok (&tb, quoted, RECOUP_IMPORT_DEFAULT);
  name = book_text (&tb, "SELECT name FROM accounts WHERE ref = 'Q-1'");
  g_assert_cmpstr (name, ==, "Smith, \"The Builder\" Ltd");
  desc = book_text (&tb, "SELECT description FROM invoices WHERE ref = 'Q-INV-1'");
  g_assert_cmpstr (desc, ==, "Line one\nline two with \"quotes\", and a comma");
  addr = book_text (&tb, "SELECT value FROM contact_points WHERE kind = 'address'");
  g_assert_cmpstr (addr, ==, "Unit 4\nIndustrial Park\nLeeds");

  r2 = import_ok (&tb, aliases, RECOUP_IMPORT_DEFAULT);
  alias_tz = book_text (&tb, "SELECT timezone FROM accounts WHERE ref = 'AL-2'");
  g_assert_cmpstr (alias_tz, ==, "America/Denver");
  g_assert_cmpuint (r2->warnings->len, ==, 1);
  warning = g_strdup_printf ("%s:1: Colour: ", aliases);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (r2->warnings, 0), warning));

  r3 = import_ok (&tb, semi, RECOUP_IMPORT_DEFAULT);
  semi_desc = book_text (&tb, "SELECT description FROM invoices WHERE ref = 'F-2'");
  g_assert_cmpstr (semi_desc, ==, "Prestations, février");

  r4 = import_ok (&tb, bom, RECOUP_IMPORT_DEFAULT);
  bom_ref = book_text (&tb, "SELECT ref FROM accounts WHERE name = 'Brown & Sons'");
  g_assert_cmpstr (bom_ref, ==, "B-1");
  bom_desc = book_text (&tb, "SELECT description FROM invoices WHERE ref = 'B-INV-2'");
  g_assert_cmpstr (bom_desc, ==, "Service");
  test_book_close (&tb);
}

/* ---- bad files ------------------------------------------------------------- */

typedef struct
{
  const char *file;
  int         code;
  guint       line;
  const char *column;
  const char *needle;
} BadCase;

static const BadCase bad_cases[] = {
  { "bad-unterminated.csv", RECOUP_IMPORT_ERROR_FORMAT, 3, "description", "never closed" },
  { "bad-stray-quote.csv", RECOUP_IMPORT_ERROR_FORMAT, 2, "description", "malformed CSV" },
  { "bad-currency.csv", RECOUP_IMPORT_ERROR_INVALID, 3, "currency", "XYZ" },
  { "bad-negative.csv", RECOUP_IMPORT_ERROR_INVALID, 2, "amount", "more than zero" },
  { "bad-negative.csv", RECOUP_IMPORT_ERROR_INVALID, 3, "amount", "more than zero" },
  { "bad-due-before-issue.csv", RECOUP_IMPORT_ERROR_INVALID, 2, "due_date", "before the issue date" },
  { "bad-issued-later.csv", RECOUP_IMPORT_ERROR_INVALID, 3, "issue_date", "after today" },
  { "bad-duplicate.csv", RECOUP_IMPORT_ERROR_INVALID, 4, "amount", "line 2" },
  { "bad-latin1.csv", RECOUP_IMPORT_ERROR_ENCODING, 2, "name", "UTF-8" },
  { "bad-missing-column.csv", RECOUP_IMPORT_ERROR_FORMAT, 1, "amount", "required column" },
  { "bad-date.csv", RECOUP_IMPORT_ERROR_INVALID, 2, "issue_date", "exists" },
  { "bad-date.csv", RECOUP_IMPORT_ERROR_INVALID, 3, "issue_date", "YYYY-MM-DD" },
  { "bad-amounts.csv", RECOUP_IMPORT_ERROR_INVALID, 2, "amount", "1e3" },
  { "bad-amounts.csv", RECOUP_IMPORT_ERROR_INVALID, 3, "amount", "ambiguous" },
  { "bad-amounts.csv", RECOUP_IMPORT_ERROR_INVALID, 4, "amount", "too large" },
  { "bad-field-count.csv", RECOUP_IMPORT_ERROR_INVALID, 3, "row", "6 fields, but the header has 7" },
  { "bad-duplicate-column.csv", RECOUP_IMPORT_ERROR_FORMAT, 1, "customer_id", "both give account_ref" },
};

/* Every bad file is refused with its place named, and the book (which already
 * holds an import) is unchanged: no rows anywhere, no change rows. */
static void
test_bad_files (void)
{
  TestBook tb = { 0 };
  g_autofree char *good = data_file ("good-comma.csv");
  g_autoptr(RecoupImportReport) first = NULL;

  test_book_open (&tb);
  first = import_ok (&tb, good, RECOUP_IMPORT_DEFAULT);

  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *c = &bad_cases[i];
      g_autofree char *path = data_file (c->file);
      g_autofree char *prefix = g_strdup_printf ("%s:%u: %s: ", path, c->line, c->column);
      g_autoptr(RecoupImportReport) r = NULL;
      g_autoptr(GError) error = NULL;
      Counts before = count_rows (&tb), after;
      gboolean ok;

      g_test_message ("%s line %u", c->file, c->line);
      for (int skip = 0; skip < 2; skip++)
        {
          /* Format and encoding errors refuse even with skip-invalid. */
          RecoupImportFlags flags = skip ? RECOUP_IMPORT_SKIP_INVALID : RECOUP_IMPORT_DEFAULT;

          if (skip && c->code == RECOUP_IMPORT_ERROR_INVALID)
            continue;
          g_clear_pointer (&r, recoup_import_report_free);
          g_clear_error (&error);
          ok = recoup_import_csv (tb.book, path, flags, NULL, NULL, NULL, &r, &error);
          g_assert_false (ok);
          g_assert_error (error, RECOUP_IMPORT_ERROR, c->code);
          g_assert_nonnull (r);
          dump_problems (r);
          g_assert_true (has_problem (r, prefix, c->needle));
          g_assert_cmpuint (r->invoices_created, ==, 0);
          g_assert_cmpuint (r->accounts_created, ==, 0);
          after = count_rows (&tb);
          assert_counts_equal (&before, &after);
        }
    }
  g_assert_true (recoup_book_check_integrity (tb.book, NULL));
  test_book_close (&tb);
}

/* With skip-invalid the valid rows go in and each invalid one is reported. */
static void
test_skip_invalid (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = data_file ("mixed.csv");
  g_autoptr(RecoupImportReport) refused = NULL;
  g_autoptr(RecoupImportReport) r = NULL;
  g_autoptr(GError) error = NULL;
  static const struct { guint line; const char *column; } expected[] = {
    { 3, "amount" }, { 4, "email" }, { 5, "timezone" }, { 6, "currency" }, { 7, "name" },
  };
  Counts before;

  test_book_open (&tb);
  before = count_rows (&tb);
  g_assert_false (recoup_import_csv (tb.book, path, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL,
                                     &refused, &error));
  g_assert_error (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_INVALID);
  g_assert_cmpuint (refused->problems->len, ==, G_N_ELEMENTS (expected));
  {
    Counts after = count_rows (&tb);
    assert_counts_equal (&before, &after);
  }

  r = import_ok (&tb, path, RECOUP_IMPORT_SKIP_INVALID);
  dump_problems (r);
  g_assert_cmpuint (r->rows, ==, 8);
  g_assert_cmpuint (r->rows_skipped, ==, 5);
  g_assert_cmpuint (r->rows_repeated, ==, 1);
  g_assert_cmpuint (r->invoices_created, ==, 2);
  g_assert_cmpuint (r->accounts_created, ==, 2);
  g_assert_cmpuint (r->problems->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *prefix = g_strdup_printf ("%s:%u: %s: ", path, expected[i].line,
                                                 expected[i].column);
      g_assert_true (has_problem (r, prefix, NULL));
    }
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM invoices"), ==, 2);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM accounts WHERE ref IN ('G-2','G-3')"), ==, 0);
  g_assert_cmpint (account_balance (tb.book, "G-1"), ==, 1000);
  g_assert_cmpint (account_balance (tb.book, "G-4"), ==, 4000);
  g_assert_cmpint (test_query_int (tb.path, "SELECT skipped FROM imports"), ==, 5);
  test_book_close (&tb);
}

/* Duplicated invoice refs with different data: with skip-invalid both rows
 * are left out, since neither can be trusted. */
static void
test_duplicate_skip (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = data_file ("bad-duplicate.csv");
  g_autoptr(RecoupImportReport) r = NULL;

  test_book_open (&tb);
  r = import_ok (&tb, path, RECOUP_IMPORT_SKIP_INVALID);
  g_assert_cmpuint (r->rows_skipped, ==, 2);
  g_assert_cmpuint (r->invoices_created, ==, 1);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM invoices WHERE ref = 'P-INV-1'"), ==, 0);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM invoices WHERE ref = 'P-INV-2'"), ==, 1);
  test_book_close (&tb);
}

/* Line numbers count physical lines, also after fields with newlines. */
static void
test_line_numbers (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupImportReport) r = NULL;
  g_autofree char *path = NULL;
  g_autofree char *prefix = NULL;
  const char *text =
    "account_ref,name,invoice_ref,issue_date,due_date,amount,currency,description\r\n"
    "\r\n"
    "K-1,\"Two\r\nLines\",K-INV-1,2026-01-01,2026-01-31,1.00,USD,\"three\nline\ndescription\"\r\n"
    "K-1,\"Two\r\nLines\",K-INV-2,2026-01-01,2026-01-31,abc,USD,x\r\n";

  test_book_open (&tb);
  path = g_build_filename (tb.dir, "lines.csv", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_false (recoup_import_csv (tb.book, path, 0, NULL, NULL, NULL, &r, &error));
  dump_problems (r);
  prefix = g_strdup_printf ("%s:7: amount: ", path);
  g_assert_cmpuint (r->problems->len, ==, 1);
  g_assert_true (has_problem (r, prefix, "abc"));
  test_book_close (&tb);
}

/* ---- re-import ------------------------------------------------------------- */

static void
test_reimport_unchanged (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = data_file ("good-comma.csv");
  g_autoptr(RecoupImportReport) r1 = NULL, r2 = NULL;
  Counts before, after;

  test_book_open (&tb);
  r1 = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
  before = count_rows (&tb);
  r2 = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
  after = count_rows (&tb);
  g_assert_cmpuint (r2->accounts_created, ==, 0);
  g_assert_cmpuint (r2->accounts_updated, ==, 0);
  g_assert_cmpuint (r2->accounts_unchanged, ==, 3);
  g_assert_cmpuint (r2->invoices_created, ==, 0);
  g_assert_cmpuint (r2->invoices_updated, ==, 0);
  g_assert_cmpuint (r2->invoices_unchanged, ==, 4);
  g_assert_cmpint (after.changes, ==, before.changes);
  g_assert_cmpint (after.entries, ==, before.entries);
  g_assert_cmpint (after.contacts, ==, before.contacts);
  /* Only the audit row is new. */
  g_assert_cmpint (after.imports, ==, before.imports + 1);
  test_book_close (&tb);
}

/* A new account comes in at the stage its oldest invoice puts it in (QA:
 * 294 days past due and "pre-collection", so the stage filters missed
 * every imported account): escalation from the policy's last step (120
 * days), active once past due, pre-collection before; the oldest of an
 * account's rows counts, wherever it is in the file. A re-import moves no
 * stage: that is the policy's to do, with its history. */
static void
test_import_stage (void)
{
  TestBook tb = { 0 };
  const char *text =
    "account_ref,name,currency,invoice_ref,issue_date,due_date,amount\n"
    "S-ESC,Old Debt Ltd,USD,SI-1,2026-02-01,2026-03-01,10.00\n"
    "S-ACT,Late Ltd,USD,SI-2,2026-08-01,2026-09-30,10.00\n"
    "S-PRE,Early Ltd,USD,SI-3,2026-10-01,2026-10-31,10.00\n"
    "S-ESC,Old Debt Ltd,USD,SI-4,2026-09-01,2026-10-31,10.00\n"
    "S-PRE,Early Ltd,USD,SI-5,2026-10-02,2026-11-30,10.00\n"
    "S-MIX,Mixed Ltd,USD,SI-6,2026-10-02,2026-11-30,10.00\n"
    "S-MIX,Mixed Ltd,USD,SI-7,2026-05-01,2026-06-01,10.00\n";
  g_autofree char *path = NULL;
  g_autoptr(RecoupImportReport) r1 = NULL, r2 = NULL;
  static const char * const expected[][2] = {
    { "S-ESC", "escalation" }, { "S-ACT", "active" }, { "S-PRE", "pre-collection" }, { "S-MIX", "escalation" },
  };

  g_setenv ("RECOUP_TODAY", "2026-10-15", TRUE);
  test_book_open (&tb);
  path = g_build_filename (tb.dir, "stages.csv", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  r1 = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT stage FROM accounts WHERE ref = '%s'", expected[i][0]);
      g_autofree char *stage = book_text (&tb, sql);

      g_assert_cmpstr (stage, ==, expected[i][1]);
    }

  /* Later, the early account is past due; importing again leaves it. */
  g_setenv ("RECOUP_TODAY", "2026-12-15", TRUE);
  r2 = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
  {
    g_autofree char *stage = book_text (&tb, "SELECT stage FROM accounts WHERE ref = 'S-PRE'");

    g_assert_cmpstr (stage, ==, "pre-collection");
  }
  g_remove (path);
  test_book_close (&tb);
  g_unsetenv ("RECOUP_TODAY");
}

/* An account made by hand before (recoup-cli account create) whose first
 * invoices a file brings takes the stage they put it in, by the rule
 * recoup_invoice_add() follows, written as a stage change that syncs; one
 * whose stage a person set, or that had invoices already, keeps its stage. */
static void
test_import_stage_made_by_hand (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  const char *text =
    "account_ref,name,currency,invoice_ref,issue_date,due_date,amount\n"
    "H-NEW,Hand Ltd,USD,HI-1,2026-09-01,2026-09-30,10.00\n"
    "H-NEW,Hand Ltd,USD,HI-2,2026-02-01,2026-03-01,10.00\n"
    "H-SET,Set Ltd,USD,HI-3,2026-02-01,2026-03-01,10.00\n"
    "H-OLD,Old Ltd,USD,HI-4,2026-02-01,2026-03-01,10.00\n";
  g_autofree char *path = NULL, *hand = NULL, *set = NULL, *old = NULL, *sql = NULL;
  g_autoptr(RecoupImportReport) report = NULL;
  static const char * const expected[][2] = {
    { "H-NEW", "escalation" }, { "H-SET", "negotiation" }, { "H-OLD", "pre-collection" },
  };

  g_setenv ("RECOUP_TODAY", "2026-10-15", TRUE);
  test_book_open (&tb);
  hand = test_add_account (tb.book, "H-NEW", "USD");
  set = test_add_account (tb.book, "H-SET", "USD");
  g_assert_true (recoup_account_set (tb.book, set, "stage", "negotiation", &error));
  g_assert_no_error (error);
  old = test_add_account (tb.book, "H-OLD", "USD");
  g_free (test_add_invoice (tb.book, old, "HO-1", "2026-10-01", "2026-10-31", 1000, "USD"));

  path = g_build_filename (tb.dir, "by-hand.csv", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  report = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *q = g_strdup_printf ("SELECT stage FROM accounts WHERE ref = '%s'", expected[i][0]);
      g_autofree char *stage = book_text (&tb, q);

      g_assert_cmpstr (stage, ==, expected[i][1]);
    }
  sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE entity_id = '%s' AND op = 'set'"
                         " AND json_extract (fields, '$.stage') = 'escalation'", hand);
  g_assert_cmpint (test_query_int (tb.path, sql), ==, 1);
  g_remove (path);
  test_book_close (&tb);
  g_unsetenv ("RECOUP_TODAY");
}

/* Tags come in as the book keeps them; the same tags typed differently in a
 * later file change nothing, other tags update the account. */
static void
test_import_tags (void)
{
  TestBook tb = { 0 };
  const char *header = "account_ref,name,currency,invoice_ref,issue_date,due_date,amount,tags\n";
  g_autofree char *first = NULL, *again = NULL, *other = NULL;
  g_autofree char *text1 = g_strconcat (header, "T-1,Tag Ltd,USD,TI-1,2026-01-01,2026-01-31,10.00,\" vip, ,export,VIP,\"\n",
                                        NULL);
  g_autofree char *text2 = g_strconcat (header, "T-1,Tag Ltd,USD,TI-1,2026-01-01,2026-01-31,10.00,\" vip,export ,,\"\n",
                                        NULL);
  g_autofree char *text3 = g_strconcat (header, "T-1,Tag Ltd,USD,TI-1,2026-01-01,2026-01-31,10.00,\"vip, slow-payer\"\n",
                                        NULL);
  g_autoptr(RecoupImportReport) r1 = NULL, r2 = NULL, r3 = NULL;
  g_autofree char *tags = NULL;

  test_book_open (&tb);
  first = g_build_filename (tb.dir, "tags-1.csv", NULL);
  again = g_build_filename (tb.dir, "tags-2.csv", NULL);
  other = g_build_filename (tb.dir, "tags-3.csv", NULL);
  g_assert_true (g_file_set_contents (first, text1, -1, NULL));
  g_assert_true (g_file_set_contents (again, text2, -1, NULL));
  g_assert_true (g_file_set_contents (other, text3, -1, NULL));
  r1 = import_ok (&tb, first, RECOUP_IMPORT_DEFAULT);
  tags = book_text (&tb, "SELECT tags FROM accounts WHERE ref = 'T-1'");
  g_assert_cmpstr (tags, ==, "vip, export");
  g_clear_pointer (&tags, g_free);
  r2 = import_ok (&tb, again, RECOUP_IMPORT_DEFAULT);
  g_assert_cmpuint (r2->accounts_unchanged, ==, 1);
  g_assert_cmpuint (r2->accounts_updated, ==, 0);
  r3 = import_ok (&tb, other, RECOUP_IMPORT_DEFAULT);
  g_assert_cmpuint (r3->accounts_updated, ==, 1);
  tags = book_text (&tb, "SELECT tags FROM accounts WHERE ref = 'T-1'");
  g_assert_cmpstr (tags, ==, "vip, slow-payer");
  g_remove (first);
  g_remove (again);
  g_remove (other);
  test_book_close (&tb);
}

static void
test_reimport_changed (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = data_file ("good-comma.csv");
  g_autofree char *text = NULL;
  g_autofree char *changed_path = NULL;
  g_autofree char *name = NULL;
  g_autoptr(RecoupImportReport) r1 = NULL, r2 = NULL, dry = NULL;
  g_autoptr(GString) edited = NULL;
  Counts before, after_dry;

  test_book_open (&tb);
  r1 = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  edited = g_string_new (text);
  /* INV-1001 grows by 100.00; C-300 gets a new name and an email. */
  g_assert_cmpuint (g_string_replace (edited, ",1200.00,USD,", ",1300.00,USD,", 0), ==, 1);
  g_assert_cmpuint (g_string_replace (edited, "C-300,Bob Jones,,", "C-300,Robert Jones,bob@jones.example,", 0), ==, 1);
  changed_path = g_build_filename (tb.dir, "changed.csv", NULL);
  g_assert_true (g_file_set_contents (changed_path, edited->str, -1, NULL));

  before = count_rows (&tb);
  dry = import_ok (&tb, changed_path, RECOUP_IMPORT_DRY_RUN);
  g_assert_cmpuint (dry->invoices_updated, ==, 1);
  g_assert_cmpuint (dry->accounts_updated, ==, 1);
  after_dry = count_rows (&tb);
  assert_counts_equal (&before, &after_dry);

  r2 = import_ok (&tb, changed_path, RECOUP_IMPORT_DEFAULT);
  g_assert_cmpuint (r2->invoices_updated, ==, 1);
  g_assert_cmpuint (r2->invoices_unchanged, ==, 3);
  g_assert_cmpuint (r2->accounts_updated, ==, 1);
  g_assert_cmpuint (r2->accounts_unchanged, ==, 2);
  g_assert_cmpint (account_balance (tb.book, "C-100"), ==, 130000 + 85050);
  g_assert_cmpint (test_query_int (tb.path, "SELECT amount FROM ledger_entries WHERE kind = 'adjustment'"),
                   ==, 10000);
  g_assert_cmpint (test_query_int (tb.path, "SELECT amount FROM invoices WHERE ref = 'INV-1001'"), ==, 130000);
  name = book_text (&tb, "SELECT name FROM accounts WHERE ref = 'C-300'");
  g_assert_cmpstr (name, ==, "Robert Jones");
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM contact_points WHERE value = 'bob@jones.example'"),
                   ==, 1);
  /* invoice set + adjustment entry + account name set + new contact point */
  g_assert_cmpint (count_rows (&tb).changes, ==, before.changes + 4);
  test_book_close (&tb);
}

/* An invoice already in the book under another account, or in another
 * currency, is refused without touching the book. */
static void
test_conflicts_with_book (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = data_file ("good-comma.csv");
  g_autofree char *other = NULL;
  g_autoptr(RecoupImportReport) r1 = NULL, r2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix1 = NULL, *prefix2 = NULL;
  const char *text =
    "account_ref,name,invoice_ref,issue_date,due_date,amount,currency\n"
    "Z-1,Zed,INV-1001,2026-01-05,2026-02-04,1200.00,USD\n"
    "C-100,Acme Ltd,INV-9,2026-01-05,2026-02-04,1.00,EUR\n";
  Counts before, after;

  test_book_open (&tb);
  r1 = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
  other = g_build_filename (tb.dir, "other.csv", NULL);
  g_assert_true (g_file_set_contents (other, text, -1, NULL));
  before = count_rows (&tb);
  g_assert_false (recoup_import_csv (tb.book, other, 0, NULL, NULL, NULL, &r2, &error));
  dump_problems (r2);
  prefix1 = g_strdup_printf ("%s:2: account_ref: ", other);
  prefix2 = g_strdup_printf ("%s:3: currency: ", other);
  g_assert_true (has_problem (r2, prefix1, "cannot move"));
  g_assert_true (has_problem (r2, prefix2, "keeps its balance in USD"));
  after = count_rows (&tb);
  assert_counts_equal (&before, &after);
  test_book_close (&tb);
}

/* ---- review fixes ------------------------------------------------------------ */

/* Every row that --skip-invalid leaves out is reported with its line, also the
 * first row of an invoice_ref that appears again with different data. */
static void
test_skip_reports_every_row (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = data_file ("dup-pairs.csv");
  g_autoptr(RecoupImportReport) r = NULL;
  g_autoptr(RecoupImportReport) refused = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *first7 = NULL, *first11 = NULL;
  static const guint skipped_lines[] = { 5, 7, 8, 11, 12, 13 };

  test_book_open (&tb);
  g_assert_false (recoup_import_csv (tb.book, path, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL,
                                     &refused, &error));
  g_assert_error (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_INVALID);
  dump_problems (refused);
  first7 = g_strdup_printf ("%s:7: invoice_ref: ", path);
  g_assert_true (has_problem (refused, first7, "appears again on line 8 with different data"));

  r = import_ok (&tb, path, RECOUP_IMPORT_SKIP_INVALID);
  dump_problems (r);
  g_assert_cmpuint (r->rows, ==, 12);
  g_assert_cmpuint (r->rows_repeated, ==, 1);
  g_assert_cmpuint (r->rows_skipped, ==, G_N_ELEMENTS (skipped_lines));
  g_assert_cmpuint (r->invoices_created, ==, 5);
  for (guint i = 0; i < G_N_ELEMENTS (skipped_lines); i++)
    {
      g_autofree char *prefix = g_strdup_printf ("%s:%u: ", path, skipped_lines[i]);

      g_test_message ("line %u", skipped_lines[i]);
      g_assert_true (has_problem (r, prefix, NULL));
    }
  first11 = g_strdup_printf ("%s:11: invoice_ref: ", path);
  g_assert_true (has_problem (r, first7, "invoice INV-9 appears again on line 8 with different data; "
                                         "both rows are skipped"));
  g_assert_true (has_problem (r, first11, "appears again on line 12"));
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM invoices WHERE ref IN ('INV-9', 'INV-11')"), ==, 0);
  /* The structured problems are the same problems. */
  g_assert_cmpuint (r->problem_list->len, ==, r->problems->len);
  for (guint i = 0; i < r->problem_list->len; i++)
    {
      RecoupImportProblem *p = g_ptr_array_index (r->problem_list, i);

      g_assert_cmpstr (p->text, ==, g_ptr_array_index (r->problems, i));
      g_assert_cmpstr (p->file, ==, path);
      g_assert_cmpuint (p->line, >=, 5);
      g_assert_nonnull (p->column);
      g_assert_nonnull (p->message);
    }
  test_book_close (&tb);
}

static char *
contact_id (TestBook   *tb,
            const char *ref,
            const char *kind,
            const char *value)
{
  g_autofree char *sql = g_strdup_printf ("SELECT c.id FROM contact_points c JOIN accounts a ON a.id = c.account_id"
                                          " WHERE a.ref = '%s' AND c.kind = '%s' AND c.value = '%s'",
                                          ref, kind, value);

  return book_text (tb, sql);
}

/* A new email or phone on re-import becomes the primary one; the previous
 * primary is kept, demoted through the change log. */
static void
test_reimport_primary_contact (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = data_file ("good-comma.csv");
  g_autofree char *text = NULL;
  g_autofree char *changed_path = NULL;
  g_autofree char *old_email = NULL, *old_phone = NULL, *new_email = NULL, *sql = NULL;
  g_autofree char *primary = NULL, *account_id = NULL;
  g_autoptr(RecoupImportReport) r1 = NULL, r2 = NULL, r3 = NULL;
  g_autoptr(GString) edited = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  Counts before, again;

  test_book_open (&tb);
  r1 = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
  old_email = contact_id (&tb, "C-100", "email", "billing@acme.example");
  old_phone = contact_id (&tb, "C-100", "phone", "+1 (312) 555-0100");
  g_assert_nonnull (old_email);
  g_assert_nonnull (old_phone);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  edited = g_string_new (text);
  g_assert_cmpuint (g_string_replace (edited, "billing@acme.example", "ap@acme.example", 0), ==, 2);
  g_assert_cmpuint (g_string_replace (edited, "+1 (312) 555-0100", "+1 (312) 555-0199", 0), ==, 2);
  changed_path = g_build_filename (tb.dir, "new-contacts.csv", NULL);
  g_assert_true (g_file_set_contents (changed_path, edited->str, -1, NULL));

  before = count_rows (&tb);
  r2 = import_ok (&tb, changed_path, RECOUP_IMPORT_DEFAULT);
  g_assert_cmpuint (r2->accounts_updated, ==, 1);

  /* One primary of each kind: the file's. */
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM contact_points c JOIN accounts a"
                                            " ON a.id = c.account_id WHERE a.ref = 'C-100' AND c.is_primary"
                                            " GROUP BY c.kind ORDER BY count(*) DESC LIMIT 1"), ==, 1);
  primary = book_text (&tb, "SELECT c.value FROM contact_points c JOIN accounts a ON a.id = c.account_id"
                            " WHERE a.ref = 'C-100' AND c.kind = 'email' ORDER BY c.is_primary DESC,"
                            " c.created_at LIMIT 1");
  g_assert_cmpstr (primary, ==, "ap@acme.example");
  new_email = contact_id (&tb, "C-100", "email", "ap@acme.example");
  sql = g_strdup_printf ("SELECT is_primary FROM contact_points WHERE id = '%s'", new_email);
  g_assert_cmpint (test_query_int (tb.path, sql), ==, 1);
  g_clear_pointer (&sql, g_free);

  /* The old values are kept, demoted, and the demotion is a logged change
   * with its field clock. */
  for (guint i = 0; i < 2; i++)
    {
      const char *id = i == 0 ? old_email : old_phone;

      sql = g_strdup_printf ("SELECT is_primary + 10 * deleted FROM contact_points WHERE id = '%s'", id);
      g_assert_cmpint (test_query_int (tb.path, sql), ==, 0);
      g_clear_pointer (&sql, g_free);
      sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE entity = 'contact_points' AND op = 'set'"
                             " AND entity_id = '%s' AND json_extract (fields, '$.is_primary') = 0", id);
      g_assert_cmpint (test_query_int (tb.path, sql), ==, 1);
      g_clear_pointer (&sql, g_free);
      sql = g_strdup_printf ("SELECT count(*) FROM field_clocks WHERE entity = 'contact_points'"
                             " AND entity_id = '%s' AND field = 'is_primary'", id);
      g_assert_cmpint (test_query_int (tb.path, sql), ==, 1);
      g_clear_pointer (&sql, g_free);
    }
  /* two new contact points and two demotions */
  g_assert_cmpint (count_rows (&tb).changes, ==, before.changes + 4);
  g_assert_cmpint (count_rows (&tb).contacts, ==, before.contacts + 2);

  /* What the app and the reminders read: the new address comes first. */
  account_id = recoup_account_resolve (tb.book, "C-100", &error);
  g_assert_no_error (error);
  list = recoup_contact_list (tb.book, account_id, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < list->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (list, i);

      if (cp->kind == RECOUP_CONTACT_EMAIL)
        {
          g_assert_cmpstr (cp->value, ==, "ap@acme.example");
          g_assert_true (cp->is_primary);
          break;
        }
    }

  /* Importing the same file again changes nothing. */
  before = count_rows (&tb);
  r3 = import_ok (&tb, changed_path, RECOUP_IMPORT_DEFAULT);
  g_assert_cmpuint (r3->accounts_unchanged, ==, 3);
  again = count_rows (&tb);
  g_assert_cmpint (again.changes, ==, before.changes);
  g_assert_cmpint (again.contacts, ==, before.contacts);
  test_book_close (&tb);
}

static RecoupVerdictKind
verdict_at_noon (TestBook   *tb,
                 const char *account_id,
                 const char *channel)
{
  g_autoptr(RecoupGuardVerdict) v = NULL;
  g_autoptr(GError) error = NULL;
  gint64 at = 0;

  g_assert_true (recoup_instant_parse ("2026-06-10T12:00:00-05:00", &at, &error));
  g_assert_true (recoup_guard_check (tb->book, account_id, channel, at, NULL, &v, &error));
  g_assert_no_error (error);
  return v->verdict;
}

/* The same phone number, e-mail and address written differently are values
 * the account already has: a re-import changes nothing, and an opt-out holds
 * (it used to become a new primary contact point that was not opted out). */
static void
test_reimport_opt_out_other_spelling (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = data_file ("good-comma.csv");
  g_autofree char *text = NULL, *respelled = NULL, *account_id = NULL;
  g_autofree char *phone = NULL, *email = NULL;
  g_autoptr(RecoupImportReport) r1 = NULL, r2 = NULL;
  g_autoptr(GString) edited = NULL;
  g_autoptr(GError) error = NULL;
  Counts before, after;

  test_book_open (&tb);
  r1 = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
  account_id = recoup_account_resolve (tb.book, "C-100", &error);
  g_assert_no_error (error);
  phone = contact_id (&tb, "C-100", "phone", "+1 (312) 555-0100");
  email = contact_id (&tb, "C-100", "email", "billing@acme.example");
  g_assert_true (recoup_contact_set_opted_out (tb.book, phone, TRUE, &error));
  g_assert_true (recoup_contact_set_opted_out (tb.book, email, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (verdict_at_noon (&tb, account_id, "call"), ==, RECOUP_VERDICT_BLOCKED);
  g_assert_cmpint (verdict_at_noon (&tb, account_id, "email"), ==, RECOUP_VERDICT_BLOCKED);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  edited = g_string_new (text);
  g_assert_cmpuint (g_string_replace (edited, "+1 (312) 555-0100", "312.555.0100", 0), ==, 2);
  g_assert_cmpuint (g_string_replace (edited, "billing@acme.example", "Billing@ACME.example", 0), ==, 2);
  g_assert_cmpuint (g_string_replace (edited, "\"1 Main St, Chicago, IL 60601\"",
                                      "\"1 main st,  Chicago, IL 60601 \"", 0), ==, 2);
  respelled = g_build_filename (tb.dir, "respelled.csv", NULL);
  g_assert_true (g_file_set_contents (respelled, edited->str, -1, NULL));

  before = count_rows (&tb);
  r2 = import_ok (&tb, respelled, RECOUP_IMPORT_DEFAULT);
  g_assert_cmpuint (r2->accounts_updated, ==, 0);
  g_assert_cmpuint (r2->accounts_unchanged, ==, 3);
  after = count_rows (&tb);
  g_assert_cmpint (after.contacts, ==, before.contacts);
  g_assert_cmpint (after.changes, ==, before.changes);

  /* Still the primary ones, still opted out; the guard still blocks. */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT is_primary + 10 * opted_out FROM contact_points"
                                              " WHERE id = '%s'", i == 0 ? phone : email);

      g_assert_cmpint (test_query_int (tb.path, sql), ==, 11);
    }
  g_assert_cmpint (verdict_at_noon (&tb, account_id, "call"), ==, RECOUP_VERDICT_BLOCKED);
  g_assert_cmpint (verdict_at_noon (&tb, account_id, "email"), ==, RECOUP_VERDICT_BLOCKED);
  test_book_close (&tb);
}

/* A line break inside a quoted field is LF whether the file ends its lines
 * with CRLF, LF or a lone CR: the same data imported both ways is unchanged. */
static void
test_crlf_in_quoted_field (void)
{
  TestBook tb = { 0 };
  const char *lf =
    "account_ref,name,address,invoice_ref,issue_date,due_date,amount,currency,description\n"
    "L-1,Lines,\"Unit 4\nIndustrial Park\",L-INV-1,2026-01-01,2026-01-31,1.00,USD,\"one\ntwo\"\n";
  const char *lone_cr =
    "account_ref,name,address,invoice_ref,issue_date,due_date,amount,currency,description\n"
    "L-1,Lines,\"Unit 4\rIndustrial Park\",L-INV-1,2026-01-01,2026-01-31,1.00,USD,\"one\rtwo\"\n";
  g_autoptr(GString) crlf = g_string_new (lf);
  g_autofree char *crlf_path = NULL, *lf_path = NULL, *cr_path = NULL;
  g_autofree char *addr = NULL, *desc = NULL;
  g_autoptr(RecoupImportReport) r1 = NULL, r2 = NULL, r3 = NULL;
  Counts before, after;

  g_string_replace (crlf, "\n", "\r\n", 0);
  test_book_open (&tb);
  crlf_path = g_build_filename (tb.dir, "crlf.csv", NULL);
  lf_path = g_build_filename (tb.dir, "lf.csv", NULL);
  cr_path = g_build_filename (tb.dir, "cr.csv", NULL);
  g_assert_true (g_file_set_contents (crlf_path, crlf->str, -1, NULL));
  g_assert_true (g_file_set_contents (lf_path, lf, -1, NULL));
  g_assert_true (g_file_set_contents (cr_path, lone_cr, -1, NULL));

  r1 = import_ok (&tb, crlf_path, RECOUP_IMPORT_DEFAULT);
  addr = book_text (&tb, "SELECT value FROM contact_points WHERE kind = 'address'");
  g_assert_cmpstr (addr, ==, "Unit 4\nIndustrial Park");
  desc = book_text (&tb, "SELECT description FROM invoices WHERE ref = 'L-INV-1'");
  g_assert_cmpstr (desc, ==, "one\ntwo");

  before = count_rows (&tb);
  r2 = import_ok (&tb, lf_path, RECOUP_IMPORT_DEFAULT);
  r3 = import_ok (&tb, cr_path, RECOUP_IMPORT_DEFAULT);
  for (guint i = 0; i < 2; i++)
    {
      RecoupImportReport *r = i == 0 ? r2 : r3;

      g_assert_cmpuint (r->accounts_unchanged, ==, 1);
      g_assert_cmpuint (r->accounts_updated, ==, 0);
      g_assert_cmpuint (r->invoices_unchanged, ==, 1);
      g_assert_cmpuint (r->invoices_updated, ==, 0);
    }
  after = count_rows (&tb);
  g_assert_cmpint (after.changes, ==, before.changes);
  g_assert_cmpint (after.contacts, ==, before.contacts);
  test_book_close (&tb);
}

static void
write_file (const char *path,
            const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
}

/* One amount beyond RECOUP_MONEY_LIMIT, and the invoices of one account
 * adding up beyond it (in the file, and with those in the book), are refused
 * at the row that crosses it. */
static void
test_account_total_limit (void)
{
  TestBook tb = { 0 };
  const char *header = "account_ref,name,invoice_ref,issue_date,due_date,amount,currency\n";
  g_autofree char *big = NULL, *more = NULL, *update = NULL;
  g_autofree char *first = NULL, *second = NULL, *third = NULL;
  g_autoptr(RecoupImportReport) refused = NULL, r = NULL, r2 = NULL, r3 = NULL, r4 = NULL;
  g_autoptr(GError) error = NULL;
  Counts before, after;

  test_book_open (&tb);
  big = g_build_filename (tb.dir, "big.csv", NULL);
  first = g_strconcat (header,
                       "C1,Big,BIG-1,2026-01-01,2026-01-31,92233720368547758.07,USD\n"
                       "C1,Big,BIG-2,2026-01-01,2026-01-31,6000000000000.00,USD\n"
                       "C1,Big,BIG-3,2026-01-01,2026-01-31,5000000000000.00,USD\n"
                       "C1,Big,BIG-4,2026-01-01,2026-01-31,4000000000000.00,USD\n"
                       "C2,Other,BIG-5,2026-01-01,2026-01-31,9000000000000.00,USD\n", NULL);
  write_file (big, first);

  before = count_rows (&tb);
  g_assert_false (recoup_import_csv (tb.book, big, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &refused, &error));
  g_assert_error (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_INVALID);
  dump_problems (refused);
  g_assert_cmpuint (refused->problems->len, ==, 2);
  {
    g_autofree char *p2 = g_strdup_printf ("%s:2: amount: ", big);
    g_autofree char *p4 = g_strdup_printf ("%s:4: amount: ", big);

    g_assert_true (has_problem (refused, p2, "at most USD 10,000,000,000,000.00"));
    g_assert_true (has_problem (refused, p4, "the invoices of account C1 in this file add up to more "
                                             "than USD 10,000,000,000,000.00, the most one account can hold"));
  }
  after = count_rows (&tb);
  assert_counts_equal (&before, &after);

  /* Skipping them, the rest fits: 6 + 4 = 10 trillion is the limit itself. */
  r = import_ok (&tb, big, RECOUP_IMPORT_SKIP_INVALID);
  g_assert_cmpuint (r->rows_skipped, ==, 2);
  g_assert_cmpuint (r->invoices_created, ==, 3);
  g_assert_cmpint (account_balance (tb.book, "C1"), ==, RECOUP_MONEY_LIMIT);

  /* The same file again: the invoices in the book are not counted twice. */
  r2 = import_ok (&tb, big, RECOUP_IMPORT_SKIP_INVALID);
  g_assert_cmpuint (r2->rows_skipped, ==, 2);
  g_assert_cmpuint (r2->invoices_unchanged, ==, 3);

  /* A new invoice on top of what the book holds is refused. */
  more = g_build_filename (tb.dir, "more.csv", NULL);
  second = g_strconcat (header, "C2,Other,BIG-6,2026-01-01,2026-01-31,2000000000000.00,USD\n", NULL);
  write_file (more, second);
  g_clear_error (&error);
  g_assert_false (recoup_import_csv (tb.book, more, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &r3, &error));
  dump_problems (r3);
  {
    g_autofree char *p2 = g_strdup_printf ("%s:2: amount: ", more);

    g_assert_true (has_problem (r3, p2, "the invoices of account C2, with what is already in the book, "
                                        "add up to more than USD 10,000,000,000,000.00"));
  }

  /* The limit is the ledger's: it adds up the charges, and lowering an
   * invoice is a credit (an adjustment), not a smaller charge. So a smaller
   * amount for an invoice in the book does not make room for a new one; the
   * row that would cross is refused with its line, not by the ledger halfway
   * through the write. */
  update = g_build_filename (tb.dir, "update.csv", NULL);
  third = g_strconcat (header,
                       "C1,Big,BIG-4,2026-01-01,2026-01-31,3000000000000.00,USD\n"
                       "C1,Big,BIG-7,2026-01-01,2026-01-31,1000000000000.00,USD\n", NULL);
  write_file (update, third);
  g_clear_error (&error);
  before = count_rows (&tb);
  g_assert_false (recoup_import_csv (tb.book, update, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &r4, &error));
  g_assert_error (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_INVALID);
  dump_problems (r4);
  {
    g_autofree char *p3 = g_strdup_printf ("%s:3: amount: ", update);

    g_assert_cmpuint (r4->problems->len, ==, 1);
    g_assert_true (has_problem (r4, p3, "the invoices of account C1, with what is already in the "
                                        "book, add up to more than USD 10,000,000,000,000.00"));
  }
  after = count_rows (&tb);
  assert_counts_equal (&before, &after);
  g_clear_pointer (&r4, recoup_import_report_free);
  r4 = import_ok (&tb, update, RECOUP_IMPORT_SKIP_INVALID);
  g_assert_cmpuint (r4->invoices_updated, ==, 1);
  g_assert_cmpuint (r4->rows_skipped, ==, 1);
  g_assert_cmpint (account_balance (tb.book, "C1"), ==, RECOUP_MONEY_LIMIT - G_GINT64_CONSTANT (100000000000000));

  /* Raising it again is a further charge beyond the limit: refused at its
   * line (it passed the check and then failed in the ledger's when the import
   * added up invoice amounts instead). */
  g_clear_pointer (&r4, recoup_import_report_free);
  write_file (update, first);
  r4 = import_ok (&tb, update, RECOUP_IMPORT_SKIP_INVALID);
  dump_problems (r4);
  g_assert_cmpuint (r4->invoices_updated, ==, 0);
  g_assert_cmpuint (r4->invoices_created, ==, 0);
  {
    g_autofree char *p5 = g_strdup_printf ("%s:5: amount: ", update);

    g_assert_true (has_problem (r4, p5, "the invoices of account C1, with what is already in the book"));
  }
  g_assert_cmpint (account_balance (tb.book, "C1"), ==, RECOUP_MONEY_LIMIT - G_GINT64_CONSTANT (100000000000000));
  test_book_close (&tb);
}

/* A directory, a missing file and an unreadable one are named plainly. */
static void
test_not_a_file (void)
{
  TestBook tb = { 0 };
  g_autofree char *dir = NULL, *missing = NULL, *locked = NULL;
  g_autofree char *want = NULL;

  test_book_open (&tb);
  dir = g_build_filename (tb.dir, "adir", NULL);
  missing = g_build_filename (tb.dir, "missing.csv", NULL);
  locked = g_build_filename (tb.dir, "locked.csv", NULL);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  write_file (locked, "account_ref,name,invoice_ref,issue_date,due_date,amount,currency\n");
  g_assert_cmpint (g_chmod (locked, 0), ==, 0);

  for (guint i = 0; i < 3; i++)
    {
      const char *path = i == 0 ? dir : i == 1 ? missing : locked;
      g_autoptr(RecoupImportReport) r = NULL;
      g_autoptr(GError) error = NULL;

      if (i == 2 && g_access (locked, R_OK) == 0)
        {
          g_test_message ("running as root: the unreadable file is readable; not checked");
          continue;
        }
      g_assert_false (recoup_import_csv (tb.book, path, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &r, &error));
      g_assert_error (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_IO);
      g_test_message ("%s", error->message);
      g_assert_null (strstr (error->message, "mmap"));
      g_assert_null (strstr (error->message, "Failed to"));
      g_clear_pointer (&want, g_free);
      want = g_strdup_printf ("%s: %s", path,
                              i == 0 ? "is a directory, not a CSV file" :
                              i == 1 ? "no such file" : "cannot be read: permission denied");
      g_assert_true (g_str_has_prefix (error->message, want));
    }
  g_chmod (locked, 0600);
  test_book_close (&tb);
}

/* A bad byte in a field beyond the header's columns names that field's
 * position, and the wrong field count of its row is reported too. */
static void
test_extra_field_encoding (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = data_file ("bad-extra-field-latin1.csv");
  g_autofree char *bad = NULL, *count = NULL;
  g_autoptr(RecoupImportReport) r = NULL;
  g_autoptr(GError) error = NULL;

  test_book_open (&tb);
  g_assert_false (recoup_import_csv (tb.book, path, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &r, &error));
  g_assert_error (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_ENCODING);
  dump_problems (r);
  bad = g_strdup_printf ("%s:2: column 13: ", path);
  count = g_strdup_printf ("%s:2: row: ", path);
  g_assert_true (has_problem (r, bad, "not UTF-8 text (byte 0xFF)"));
  g_assert_true (has_problem (r, count, "14 fields, but the header has 12"));
  g_assert_false (has_problem (r, path, ": header: "));
  test_book_close (&tb);
}

/* A bad byte is reported on its own line, not where its record starts; the
 * column is still the field's. */
static void
test_encoding_line (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = NULL, *bad = NULL;
  g_autoptr(RecoupImportReport) r = NULL;
  g_autoptr(GError) error = NULL;
  const char *text =
    "account_ref,name,description,invoice_ref,issue_date,due_date,amount,currency\n"
    "E-1,Ann,ok,E-INV-1,2026-01-01,2026-01-31,1.00,USD\n"
    "E-2,\"Two\nlines, caf\xe9\",\"one\ntwo\",E-INV-2,2026-01-01,2026-01-31,1.00,USD\n";

  test_book_open (&tb);
  path = g_build_filename (tb.dir, "late-latin1.csv", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_false (recoup_import_csv (tb.book, path, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &r, &error));
  g_assert_error (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_ENCODING);
  dump_problems (r);
  bad = g_strdup_printf ("%s:4: name: ", path);
  g_assert_cmpuint (r->problems->len, ==, 1);
  g_assert_true (has_problem (r, bad, "not UTF-8 text (byte 0xE9)"));
  test_book_close (&tb);
}

/* A header with no rows under it is refused as the wrong file, at the line
 * where the first invoice should be, and no import is recorded. */
static void
test_header_only (void)
{
  TestBook tb = { 0 };
  static const char * const texts[] = {
    "account_ref,name,invoice_ref,issue_date,due_date,amount,currency\n",
    "account_ref,name,invoice_ref,issue_date,due_date,amount,currency\r\n\r\n,,,,,,\r\n",
    "account_ref,name,invoice_ref,issue_date,due_date,amount,currency",
  };
  static const RecoupImportFlags flags[] = {
    RECOUP_IMPORT_DEFAULT, RECOUP_IMPORT_SKIP_INVALID, RECOUP_IMPORT_DRY_RUN,
  };
  Counts before, after;

  test_book_open (&tb);
  before = count_rows (&tb);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    for (guint j = 0; j < G_N_ELEMENTS (flags); j++)
      {
        g_autofree char *path = g_build_filename (tb.dir, "header-only.csv", NULL);
        g_autofree char *want = g_strdup_printf ("%s:2: the file has a header line but no invoices", path);
        g_autoptr(RecoupImportReport) r = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_true (g_file_set_contents (path, texts[i], -1, NULL));
        g_assert_false (recoup_import_csv (tb.book, path, flags[j], NULL, NULL, NULL, &r, &error));
        g_assert_error (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_FORMAT);
        g_assert_true (g_str_has_prefix (error->message, want));
        g_assert_nonnull (strstr (error->message, "nothing was imported"));
      }
  after = count_rows (&tb);
  assert_counts_equal (&before, &after);
  test_book_close (&tb);
}

/* The timezone column is held to an account's rule: an abbreviation (EST is
 * UTC-5 all year) is refused on its line with the region meant, and nothing
 * is imported; the region's name goes in. */
static void
test_timezone_abbreviation (void)
{
  TestBook tb = { 0 };
  const char *header = "account_ref,name,timezone,invoice_ref,issue_date,due_date,amount,currency\n";
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *prefix = NULL;
  g_autoptr(RecoupImportReport) r = NULL;
  g_autoptr(RecoupImportReport) ok = NULL;
  g_autoptr(GError) error = NULL;
  Counts before, after;

  test_book_open (&tb);
  path = g_build_filename (tb.dir, "zones.csv", NULL);
  prefix = g_strdup_printf ("%s:3: timezone: ", path);
  text = g_strconcat (header,
                      "Z-1,Zed One,America/New_York,Z-INV-1,2026-01-01,2026-01-31,10.00,USD\n",
                      "Z-2,Zed Two,EST,Z-INV-2,2026-01-01,2026-01-31,20.00,USD\n", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  before = count_rows (&tb);
  g_assert_false (recoup_import_csv (tb.book, path, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &r, &error));
  g_assert_error (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_INVALID);
  dump_problems (r);
  g_assert_cmpuint (r->problems->len, ==, 1);
  g_assert_true (has_problem (r, prefix, "“EST” is an abbreviation or a legacy zone, not a region's: "
                                         "give the IANA name of the region, like America/New_York"));
  after = count_rows (&tb);
  assert_counts_equal (&before, &after);

  g_clear_pointer (&text, g_free);
  text = g_strconcat (header,
                      "Z-1,Zed One,America/New_York,Z-INV-1,2026-01-01,2026-01-31,10.00,USD\n",
                      "Z-2,Zed Two,America/New_York,Z-INV-2,2026-01-01,2026-01-31,20.00,USD\n", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  ok = import_ok (&tb, path, RECOUP_IMPORT_DEFAULT);
  g_assert_cmpuint (ok->accounts_created, ==, 2);
  test_book_close (&tb);
}

/* The refusal counts the rows that have problems, of all the rows. */
static void
test_problem_summary (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = NULL, *want = NULL;
  const char *header = "account_ref,name,email,invoice_ref,issue_date,due_date,amount,currency\n";
  const char *rows =
    "S-1,Good,,S-INV-1,2026-01-01,2026-01-31,1.00,USD\n"
    "S-2,Two problems,not-an-email,S-INV-2,2026-01-01,2026-01-31,-1.00,USD\n"
    "S-3,Good,,S-INV-3,2026-01-01,2026-01-31,3.00,USD\n"
    "S-4,One problem,,S-INV-4,2026-01-01,2026-01-31,4.00,XYZ\n";
  g_autofree char *text = g_strconcat (header, rows, NULL);

  test_book_open (&tb);
  path = g_build_filename (tb.dir, "summary.csv", NULL);
  for (guint all_bad = 0; all_bad < 2; all_bad++)
    {
      g_autoptr(RecoupImportReport) r = NULL;
      g_autoptr(GError) error = NULL;

      if (all_bad)
        {
          g_free (text);
          text = g_strconcat (header, "S-5,Bad,,S-INV-5,2026-01-01,2026-01-31,0,USD\n", NULL);
        }
      g_assert_true (g_file_set_contents (path, text, -1, NULL));
      g_assert_false (recoup_import_csv (tb.book, path, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &r, &error));
      g_assert_error (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_INVALID);
      g_clear_pointer (&want, g_free);
      want = all_bad ? g_strdup_printf ("%s: 1 problem in 1 row; nothing was imported", path)
                     : g_strdup_printf ("%s: 3 problems in 2 of 4 rows; nothing was imported", path);
      g_assert_cmpstr (error->message, ==, want);
      g_assert_cmpuint (r->rows_invalid, ==, all_bad ? 1 : 2);
    }
  test_book_close (&tb);
}

/* An empty required value says which one, in plain English. */
static void
test_empty_required (void)
{
  TestBook tb = { 0 };
  g_autofree char *path = data_file ("bad-empty-required.csv");
  g_autofree char *p2 = NULL, *p3 = NULL;
  g_autoptr(RecoupImportReport) r = NULL;
  g_autoptr(GError) error = NULL;

  test_book_open (&tb);
  g_assert_false (recoup_import_csv (tb.book, path, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &r, &error));
  dump_problems (r);
  p2 = g_strdup_printf ("%s:2: invoice_ref: ", path);
  p3 = g_strdup_printf ("%s:3: name: ", path);
  g_assert_true (has_problem (r, p2, "empty; every row needs an invoice_ref"));
  g_assert_true (has_problem (r, p3, "empty; every row needs a name"));
  g_assert_false (has_problem (r, path, "needs a invoice_ref"));
  test_book_close (&tb);
}

/* ---- demo file, progress, cancel --------------------------------------------- */

typedef struct
{
  GCancellable *cancellable;
  guint64       cancel_after;
  guint64       last;
  guint64       total;
  guint         calls;
} ProgressData;

static void
progress_cb (guint64  done,
             guint64  total,
             gpointer user_data)
{
  ProgressData *pd = user_data;

  g_assert_cmpuint (done, >=, pd->last);
  g_assert_cmpuint (done, <=, total);
  pd->last = done;
  pd->total = total;
  pd->calls++;
  if (pd->cancellable != NULL && done >= pd->cancel_after)
    g_cancellable_cancel (pd->cancellable);
}

/* The plain indexes of the tables an import fills (a large import drops
 * some of them and builds them again at the end). */
static gint64
count_plain_indexes (const char *path)
{
  return test_query_int (path, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN"
                               " ('changes_by_entity', 'changes_unsent', 'ledger_by_account',"
                               " 'ledger_by_invoice', 'invoices_by_account',"
                               " 'contact_points_by_account', 'accounts_by_assignee')");
}

static void
test_demo_csv (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupImportReport) r = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL;
  g_autofree char *ta = NULL, *tb_text = NULL, *tc = NULL;
  ProgressData pd = { 0 };
  gsize len = 0;

  test_book_open (&tb);
  a = g_build_filename (tb.dir, "a.csv", NULL);
  b = g_build_filename (tb.dir, "b.csv", NULL);
  c = g_build_filename (tb.dir, "c.csv", NULL);
  g_assert_true (recoup_demo_write_csv (a, 3000, 7, "2026-11-24", &error));
  g_assert_no_error (error);
  g_assert_true (recoup_demo_write_csv (b, 3000, 7, "2026-11-24", &error));
  g_assert_true (recoup_demo_write_csv (c, 3000, 8, "2026-11-24", &error));
  g_assert_true (g_file_get_contents (a, &ta, &len, NULL));
  g_assert_true (g_file_get_contents (b, &tb_text, NULL, NULL));
  g_assert_true (g_file_get_contents (c, &tc, NULL, NULL));
  g_assert_cmpstr (ta, ==, tb_text);
  g_assert_cmpstr (ta, !=, tc);

  g_assert_true (recoup_import_csv (tb.book, a, 0, progress_cb, &pd, NULL, &r, &error));
  g_assert_no_error (error);
  dump_problems (r);
  g_assert_cmpuint (r->rows, ==, 3000);
  g_assert_cmpuint (r->invoices_created, ==, 3000);
  g_assert_cmpuint (r->accounts_created, >, 1000);
  g_assert_cmpuint (r->accounts_created, <, 2000);
  g_assert_cmpuint (pd.calls, >, 2);
  g_assert_cmpuint (pd.last, ==, pd.total);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM invoices WHERE due_date > '2027-02-01'"), ==, 0);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(DISTINCT currency) FROM invoices"), >=, 2);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM (SELECT account_id FROM invoices"
                                            " GROUP BY account_id HAVING count(DISTINCT currency) > 1)"), ==, 0);

  /* A large import is written set-based: every row still has exactly one
   * insert change, a parent's change comes before its children's, the clock
   * rises with the log, the plain indexes it rebuilt are back and the
   * connection checks foreign keys again. */
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes"), ==,
                   test_query_int (tb.path, "SELECT (SELECT count(*) FROM accounts) +"
                                            " (SELECT count(*) FROM contact_points) + 2 *"
                                            " (SELECT count(*) FROM invoices)"));
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM ledger_entries l WHERE kind = 'charge'"
                                            " AND (SELECT count(*) FROM changes WHERE entity_id = l.id"
                                            " AND op = 'insert') = 1"), ==, 3000);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM contact_points p"
                                            " JOIN changes cp ON cp.entity_id = p.id"
                                            " JOIN changes ca ON ca.entity_id = p.account_id"
                                            " WHERE cp.seq < ca.seq"), ==, 0);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM ledger_entries l"
                                            " JOIN changes cl ON cl.entity_id = l.id"
                                            " JOIN changes ci ON ci.entity_id = l.invoice_id"
                                            " JOIN changes ca ON ca.entity_id = l.account_id"
                                            " WHERE cl.seq < ci.seq OR ci.seq < ca.seq"), ==, 0);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes a JOIN changes b"
                                            " ON b.seq = a.seq + 1 WHERE b.hlc <= a.hlc"), ==, 0);
  g_assert_cmpint (count_plain_indexes (tb.path), ==, 7);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM pragma_foreign_key_check"), ==, 0);
  {
    sqlite3_stmt *fk = recoup_book_prepare (tb.book, "SELECT (SELECT foreign_keys FROM pragma_foreign_keys),"
                                            " (SELECT count(*) FROM sqlite_temp_schema"
                                            "  WHERE name = 'recoup_import_stage')", &error);

    g_assert_no_error (error);
    g_assert_cmpint (sqlite3_step (fk), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (fk, 0), ==, 1);
    g_assert_cmpint (sqlite3_column_int (fk, 1), ==, 0);
    sqlite3_reset (fk);
  }

  /* The same file again changes nothing. */
  {
    gint64 n_changes = test_query_int (tb.path, "SELECT count(*) FROM changes");

    g_clear_pointer (&r, recoup_import_report_free);
    g_assert_true (recoup_import_csv (tb.book, a, 0, NULL, NULL, NULL, &r, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (r->invoices_created, ==, 0);
    g_assert_cmpuint (r->invoices_unchanged, ==, 3000);
    g_assert_cmpuint (r->accounts_created, ==, 0);
    g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes"), ==, n_changes);
  }

  /* A second import on the same book object stages again. */
  {
    g_autofree char *d = g_build_filename (tb.dir, "d.csv", NULL);
    const char *text = "account_ref,name,email,invoice_ref,issue_date,due_date,amount,currency\n"
                       "NEW-1,New Debtor,new@example.com,NEW-INV-1,2026-10-01,2026-10-31,10.00,USD\n"
                       "NEW-1,New Debtor,new@example.com,NEW-INV-2,2026-10-02,2026-11-01,20.00,USD\n";

    g_assert_true (g_file_set_contents (d, text, -1, &error));
    g_clear_pointer (&r, recoup_import_report_free);
    g_assert_true (recoup_import_csv (tb.book, d, 0, NULL, NULL, NULL, &r, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (r->invoices_created, ==, 2);
    g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes c JOIN ledger_entries l"
                                              " ON l.id = c.entity_id JOIN invoices i ON i.id = l.invoice_id"
                                              " WHERE i.ref LIKE 'NEW-INV-%' AND l.amount IN (1000, 2000)"), ==, 2);
    g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM contact_points p JOIN accounts a"
                                              " ON a.id = p.account_id WHERE a.ref = 'NEW-1'"), ==, 1);
  }
  test_book_close (&tb);
}

static void
test_cancel (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupImportReport) r = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *path = NULL;
  ProgressData pd = { 0 };
  Counts before, after;
  gsize len;

  test_book_open (&tb);
  path = g_build_filename (tb.dir, "big.csv", NULL);
  g_assert_true (recoup_demo_write_csv (path, 5000, 1, "2026-11-24", &error));
  {
    g_autoptr(GMappedFile) map = g_mapped_file_new (path, FALSE, NULL);
    len = g_mapped_file_get_length (map);
  }
  before = count_rows (&tb);
  /* Cancel in the middle of the writing pass (it starts after len units). */
  pd.cancellable = cancellable;
  pd.cancel_after = len + 1;
  g_assert_false (recoup_import_csv (tb.book, path, 0, progress_cb, &pd, cancellable, &r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  after = count_rows (&tb);
  assert_counts_equal (&before, &after);
  g_assert_cmpint (count_plain_indexes (tb.path), ==, 7);
  g_assert_false (recoup_book_in_transaction (tb.book));
  test_book_close (&tb);
}

/* In bulk mode (no savepoints inside the import's transaction) a nested write
 * that fails poisons the transaction: the outer commit refuses and rolls back. */
static void
test_bulk_poison (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL, *second = NULL;
  RecoupAccountSpec spec = { .ref = "DUP-1", .name = "Dup", .currency = "USD" };
  Counts before, after;

  test_book_open (&tb);
  before = count_rows (&tb);
  g_assert_true (recoup_book_begin (tb.book, &error));
  recoup_book_set_bulk (tb.book, TRUE);
  first = recoup_account_create (tb.book, &spec, &error);
  g_assert_no_error (error);
  second = recoup_account_create (tb.book, &spec, &error);
  g_assert_null (second);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_clear_error (&error);
  recoup_book_set_bulk (tb.book, FALSE);
  g_assert_false (recoup_book_commit (tb.book, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_false (recoup_book_in_transaction (tb.book));
  after = count_rows (&tb);
  assert_counts_equal (&before, &after);

  /* The next transaction is clean again. */
  g_clear_error (&error);
  g_clear_pointer (&first, g_free);
  first = recoup_account_create (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM accounts"), ==, 1);
  test_book_close (&tb);
}

/* The book's journal mode as recorded in its file ("wal" or "delete"). */
static gboolean
book_is_wal (const char *path)
{
  return test_query_int (path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode") == 1;
}

/* An import that makes up most of the book is written with a rollback journal
 * when its connection is the book's only one, and the book is back in WAL
 * afterwards, also after a failed import. With another connection open (the
 * app's readers) it goes through the log, and the reader is not disturbed. */
static void
test_rollback_journal (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupImportReport) r = NULL;
  g_autoptr(RecoupBook) reader = NULL;
  g_autofree char *a = NULL, *bad = NULL, *journal = NULL;
  Counts before, after;

  test_book_open (&tb);
  journal = g_strconcat (tb.path, "-journal", NULL);
  a = g_build_filename (tb.dir, "a.csv", NULL);
  g_assert_true (recoup_demo_write_csv (a, 2000, 3, "2026-11-24", &error));
  g_assert_no_error (error);

  /* A file that fails validation on its last row, after 2,000 good ones. */
  {
    g_autofree char *text = NULL;
    g_autofree char *with_bad = NULL;

    g_assert_true (g_file_get_contents (a, &text, NULL, &error));
    with_bad = g_strconcat (text, "X-1,Bad Row,,,,,X-INV-1,2026-01-01,2025-12-01,10.00,USD,\n", NULL);
    bad = g_build_filename (tb.dir, "bad.csv", NULL);
    g_assert_true (g_file_set_contents (bad, with_bad, -1, &error));
  }
  before = count_rows (&tb);
  g_assert_false (recoup_import_csv (tb.book, bad, 0, NULL, NULL, NULL, &r, &error));
  g_assert_error (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_INVALID);
  g_clear_error (&error);
  g_clear_pointer (&r, recoup_import_report_free);
  after = count_rows (&tb);
  assert_counts_equal (&before, &after);
  g_assert_true (book_is_wal (tb.path));
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));

  /* With a second connection open the switch is refused at once (no wait for
   * the busy timeout) and the import goes through the log. */
  reader = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_false (recoup_book_begin_rollback_journal (tb.book));
  g_assert_true (book_is_wal (tb.path));
  g_clear_object (&reader);

  g_assert_true (recoup_book_begin_rollback_journal (tb.book));
  g_assert_false (book_is_wal (tb.path));

  /* While a write holds the book in that mode (the import's transaction, here
   * taken by hand), another open waits for the busy timeout, then says the
   * book is busy: not that it is no book. */
  g_assert_true (recoup_book_exec (tb.book, "BEGIN EXCLUSIVE", &error));
  g_assert_no_error (error);
  reader = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_null (reader);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "busy"));
  g_clear_error (&error);
  g_assert_true (recoup_book_exec (tb.book, "ROLLBACK", &error));

  recoup_book_end_rollback_journal (tb.book);
  g_assert_true (book_is_wal (tb.path));

  /* The real import, alone on the book. */
  r = import_ok (&tb, a, 0);
  g_assert_cmpuint (r->invoices_created, ==, 2000);
  g_assert_true (book_is_wal (tb.path));
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM pragma_integrity_check"
                                            " WHERE integrity_check <> 'ok'"), ==, 0);
  /* A checkpoint of main still works on this connection. */
  g_assert_true (recoup_book_exec (tb.book, "PRAGMA main.wal_checkpoint(TRUNCATE)", &error));
  g_assert_no_error (error);
  test_book_close (&tb);
}

/* recoup-cli killed (SIGKILL) in the middle of a first import written with the
 * rollback journal: the next open rolls the hot journal back, the book is as
 * before the import (empty), intact, in WAL again, and the import then runs. */
static void
test_rollback_journal_crash (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupImportReport) r = NULL;
  g_autofree char *csv = NULL, *journal = NULL;
  const char *cli = g_getenv ("RECOUP_CLI");
  gboolean seen = FALSE;
  gint64 size_before;
  GPid pid;
  int status;
  Counts before, after;

  g_assert_nonnull (cli);
  test_book_open (&tb);
  g_clear_object (&tb.book);
  before = count_rows (&tb);
  journal = g_strconcat (tb.path, "-journal", NULL);
  {
    GStatBuf st;

    g_assert_cmpint (g_stat (tb.path, &st), ==, 0);
    size_before = st.st_size;
  }
  csv = g_build_filename (tb.dir, "big.csv", NULL);
  g_assert_true (recoup_demo_write_csv (csv, 60000, 5, "2026-11-24", &error));
  g_assert_no_error (error);

  {
    const char *argv[] = { cli, "--book", tb.path, "import", csv, NULL };

    g_assert_true (g_spawn_async (NULL, (char **) argv, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                                  NULL, NULL, &pid, &error));
    g_assert_no_error (error);
  }
  /* Killed once the import has spilled pages into the book file itself
   * (beyond the page cache), so only the journal can restore it. */
  for (int i = 0; i < 60000 && !seen; i++)
    {
      GStatBuf st;

      g_assert_cmpint (waitpid (pid, &status, WNOHANG), ==, 0);
      seen = g_file_test (journal, G_FILE_TEST_EXISTS) && g_stat (tb.path, &st) == 0 &&
             st.st_size > size_before + 16 * 1024 * 1024;
      if (!seen)
        g_usleep (1000);
    }
  g_assert_true (seen);
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_true (g_file_test (journal, G_FILE_TEST_EXISTS));

  tb.book = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  after = count_rows (&tb);
  assert_counts_equal (&before, &after);
  g_assert_true (book_is_wal (tb.path));
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM pragma_integrity_check"
                                            " WHERE integrity_check <> 'ok'"), ==, 0);
  g_assert_cmpint (test_query_int (tb.path, "SELECT page_count * page_size FROM pragma_page_count,"
                                            " pragma_page_size"), ==, size_before);

  r = import_ok (&tb, csv, 0);
  g_assert_cmpuint (r->invoices_created, ==, 60000);
  g_assert_true (book_is_wal (tb.path));
  test_book_close (&tb);
}

/* ---- the real recoup-cli ----------------------------------------------------- */

static int
run_cli (const char  *book,
         char       **out,
         char       **err,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("RECOUP_CLI");
  const char *arg;
  int status = -1;
  va_list args;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (char *) cli);
  g_ptr_array_add (argv, (char *) "--book");
  g_ptr_array_add (argv, (char *) book);
  va_start (args, err);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               out, err, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_cli (void)
{
  TestBook tb = { 0 };
  g_autofree char *good = data_file ("good-comma.csv");
  g_autofree char *bad = data_file ("bad-negative.csv");
  g_autofree char *mixed = data_file ("mixed.csv");
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *obj;

  test_book_open (&tb);
  g_clear_object (&tb.book);

  g_assert_cmpint (run_cli (tb.path, &out, &err, "import", good, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "4 created"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (tb.path, &out, &err, "import", bad, NULL), ==, 1);
  expected = g_strdup_printf ("%s:2: amount: ", bad);
  g_assert_nonnull (strstr (err, expected));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (tb.path, &out, &err, "import", mixed, "--skip-invalid", "--json", NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  obj = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (obj, "skipped"), ==, 5);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (obj, "invoices"), "created"), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj, "problems")), ==, 5);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (tb.path, &out, &err, "import", good, "--dry-run", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "4 unchanged"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (tb.path, &out, &err, "import", NULL), ==, 2);
  test_book_close (&tb);
}

/* A refused import ends with one hint, naming --skip-invalid. */
static void
test_cli_refused_hint (void)
{
  TestBook tb = { 0 };
  g_autofree char *bad = data_file ("bad-negative.csv");
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *dir = NULL;
  g_auto(GStrv) lines = NULL;
  guint hints = 0;

  test_book_open (&tb);
  g_clear_object (&tb.book);
  g_assert_cmpint (run_cli (tb.path, &out, &err, "import", bad, NULL), ==, 1);
  g_test_message ("%s", err);
  lines = g_strsplit (err, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "Correct") != NULL || strstr (lines[i], "correct") != NULL ||
        strstr (lines[i], "skip") != NULL)
      hints++;
  g_assert_cmpuint (hints, ==, 1);
  g_assert_nonnull (strstr (err, "--skip-invalid"));
  g_assert_nonnull (strstr (err, "nothing was imported"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  dir = g_build_filename (tb.dir, "adir", NULL);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_cmpint (run_cli (tb.path, &out, &err, "import", dir, NULL), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "adir: is a directory, not a CSV file"));
  g_assert_null (strstr (err, "mmap"));
  test_book_close (&tb);
}

/* --json gives each problem its file, line, column and message. */
static void
test_cli_json_problems (void)
{
  TestBook tb = { 0 };
  g_autofree char *mixed = data_file ("mixed.csv");
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *text = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *problems;
  JsonObject *p;

  test_book_open (&tb);
  g_clear_object (&tb.book);
  g_assert_cmpint (run_cli (tb.path, &out, &err, "import", mixed, "--skip-invalid", "--json", NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  problems = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "problems");
  g_assert_cmpuint (json_array_get_length (problems), ==, 5);
  p = json_array_get_object_element (problems, 0);
  g_assert_nonnull (p);
  g_assert_cmpstr (json_object_get_string_member (p, "file"), ==, mixed);
  g_assert_cmpint (json_object_get_int_member (p, "line"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (p, "column"), ==, "amount");
  g_assert_nonnull (strstr (json_object_get_string_member (p, "message"), "more than zero"));
  text = g_strdup_printf ("%s:3: amount: %s", mixed, json_object_get_string_member (p, "message"));
  g_assert_cmpstr (json_object_get_string_member (p, "text"), ==, text);
  p = json_array_get_object_element (problems, 4);
  g_assert_cmpint (json_object_get_int_member (p, "line"), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (p, "column"), ==, "name");
  test_book_close (&tb);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/recoup/core/import/good/comma", test_good_comma);
  g_test_add_func ("/recoup/core/import/good/variants", test_good_variants);
  g_test_add_func ("/recoup/core/import/good/details", test_good_details);
  g_test_add_func ("/recoup/core/import/bad/files", test_bad_files);
  g_test_add_func ("/recoup/core/import/bad/skip-invalid", test_skip_invalid);
  g_test_add_func ("/recoup/core/import/bad/duplicate-skip", test_duplicate_skip);
  g_test_add_func ("/recoup/core/import/bad/line-numbers", test_line_numbers);
  g_test_add_func ("/recoup/core/import/bad/conflicts-with-book", test_conflicts_with_book);
  g_test_add_func ("/recoup/core/import/reimport/unchanged", test_reimport_unchanged);
  g_test_add_func ("/recoup/core/import/reimport/changed", test_reimport_changed);
  g_test_add_func ("/recoup/core/import/reimport/tags", test_import_tags);
  g_test_add_func ("/recoup/core/import/demo-csv", test_demo_csv);
  g_test_add_func ("/recoup/core/import/cancel", test_cancel);
  g_test_add_func ("/recoup/core/import/bulk-poison", test_bulk_poison);
  g_test_add_func ("/recoup/core/import/rollback-journal", test_rollback_journal);
  g_test_add_func ("/recoup/core/import/rollback-journal/crash", test_rollback_journal_crash);
  g_test_add_func ("/recoup/core/import/bad/skip-reports-every-row", test_skip_reports_every_row);
  g_test_add_func ("/recoup/core/import/bad/account-total-limit", test_account_total_limit);
  g_test_add_func ("/recoup/core/import/bad/not-a-file", test_not_a_file);
  g_test_add_func ("/recoup/core/import/bad/extra-field-encoding", test_extra_field_encoding);
  g_test_add_func ("/recoup/core/import/bad/empty-required", test_empty_required);
  g_test_add_func ("/recoup/core/import/bad/encoding-line", test_encoding_line);
  g_test_add_func ("/recoup/core/import/bad/header-only", test_header_only);
  g_test_add_func ("/recoup/core/import/bad/problem-summary", test_problem_summary);
  g_test_add_func ("/recoup/core/import/bad/timezone-abbreviation", test_timezone_abbreviation);
  g_test_add_func ("/recoup/core/import/reimport/primary-contact", test_reimport_primary_contact);
  g_test_add_func ("/recoup/core/import/reimport/opt-out-other-spelling", test_reimport_opt_out_other_spelling);
  g_test_add_func ("/recoup/core/import/reimport/crlf-in-quoted-field", test_crlf_in_quoted_field);
  g_test_add_func ("/recoup/core/import/stage", test_import_stage);
  g_test_add_func ("/recoup/core/import/stage-made-by-hand", test_import_stage_made_by_hand);
  g_test_add_func ("/recoup/core/import/cli", test_cli);
  g_test_add_func ("/recoup/core/import/cli/refused-hint", test_cli_refused_hint);
  g_test_add_func ("/recoup/core/import/cli/json-problems", test_cli_json_problems);

  return g_test_run ();
}
