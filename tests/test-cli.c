/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include <json-glib/json-glib.h>

#include "recoup-test-util.h"

/* End to end through the real recoup-cli binary: exit codes, tables, JSON. */

typedef struct
{
  char *dir;
  char *book;
} Fixture;

/* Runs @args (the program first) in @envp (NULL: ours) and returns its exit status. */
static int
run_argv (GPtrArray  *args,
          char      **envp,
          char      **out,
          char      **err)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *o = NULL, *e = NULL;
  int wait_status = 0;

  g_ptr_array_add (args, NULL);

  g_assert_true (g_spawn_sync (NULL, (char **) args->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                               &o, &e, &wait_status, &error));
  g_assert_no_error (error);
  if (out)
    *out = g_steal_pointer (&o);
  if (err)
    *err = g_steal_pointer (&e);
  g_assert_true (WIFEXITED (wait_status));
  return WEXITSTATUS (wait_status);
}

static int
run (Fixture     *fx,
     char       **out,
     char       **err,
     const char  *first,
     ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *cli = g_getenv ("RECOUP_CLI");
  va_list ap;

  g_assert_nonnull (cli);
  g_ptr_array_add (args, (char *) cli);
  g_ptr_array_add (args, (char *) "--book");
  g_ptr_array_add (args, fx->book);
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  return run_argv (args, NULL, out, err);
}

/* Like run() without the fixture's --book: the arguments are all given. */
static int
run_bare (char       **out,
          char       **err,
          const char  *first,
          ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *cli = g_getenv ("RECOUP_CLI");
  va_list ap;

  g_assert_nonnull (cli);
  g_ptr_array_add (args, (char *) cli);
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  return run_argv (args, NULL, out, err);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  fx->dir = g_dir_make_tmp ("recoup-cli-XXXXXX", NULL);
  fx->book = g_build_filename (fx->dir, "book.recoup", NULL);
  g_setenv ("RECOUP_TODAY", "2026-06-30", TRUE);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  test_remove_tree (fx->dir);
  g_free (fx->dir);
  g_free (fx->book);
}

static void
test_exit_codes (Fixture *fx, gconstpointer data)
{
  g_autofree char *err = NULL;

  /* Usage errors: 2. */
  g_assert_cmpint (run (fx, NULL, NULL, "no-such-command", NULL), ==, 2);
  g_assert_cmpint (run (fx, NULL, NULL, "pay", NULL), ==, 2);
  g_assert_cmpint (run (fx, NULL, NULL, "accounts", "--bogus", NULL), ==, 2);
  /* The amount given as a word: where it goes. */
  g_assert_cmpint (run (fx, NULL, &err, "pay", "ACME", "150.00", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "the amount goes in --amount: recoup-cli pay ACME --amount 150.00"));
  g_clear_pointer (&err, g_free);

  /* No book yet: a user error, and it was not created. */
  g_assert_cmpint (run (fx, NULL, &err, "accounts", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "no such book"));
  g_assert_false (g_file_test (fx->book, G_FILE_TEST_EXISTS));

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  g_assert_true (g_file_test (fx->book, G_FILE_TEST_EXISTS));
  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 1);   /* exists */
}

/* A minimum balance is read in the accounts' currency: “500” means 500 yen and
 * 500 dollars only where that is one reading; otherwise the user names one. */
static void
test_min_balance_currency (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *rows;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "account", "create", "--ref", "YEN", "--name", "Tanaka Shoten",
                        "--currency", "JPY", "--timezone", "Asia/Tokyo", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "invoice", "add", "YEN", "--ref", "J-1", "--issue-date", "2026-01-10",
                        "--due-date", "2026-02-09", "--amount", "80000", NULL), ==, 0);

  /* One currency: the amount reads in its digits (80,000 yen ≥ 50,000 yen). */
  g_assert_cmpint (run (fx, &out, NULL, "--json", "accounts", "--min-balance", "50000", NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 1);
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "--json", "accounts", "--min-balance", "90000", NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 0);
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);

  /* Yen and dollars: “500” is ambiguous and refused; “500 USD” picks dollar accounts. */
  g_assert_cmpint (run (fx, NULL, NULL, "account", "create", "--ref", "USD", "--name", "Acme Hardware",
                        "--currency", "USD", "--timezone", "America/Chicago", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "invoice", "add", "USD", "--ref", "U-1", "--issue-date", "2026-01-10",
                        "--due-date", "2026-02-09", "--amount", "600.00", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, &err, "accounts", "--min-balance", "500", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "JPY, USD"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "worklist", "--min-balance", "500", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "different minor units"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "--json", "accounts", "--min-balance", "500 USD", NULL), ==, 0);
  node = parse_json (out);
  rows = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 0), "ref"), ==, "USD");
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "accounts", "--min-balance", "500 DOLLARS", NULL), ==, 1);
  g_clear_pointer (&err, g_free);
}

static void
test_workflow (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *obj;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, &err, "account", "create", "--ref", "ACME", "--name", "Acme Hardware",
                        "--currency", "USD", "--timezone", "America/Chicago", "--email", "ap@acme.example",
                        "--phone", "+1 312 555 0100", NULL), ==, 0);
  g_clear_pointer (&err, g_free);

  /* A bad email refuses the whole creation. */
  g_assert_cmpint (run (fx, NULL, &err, "account", "create", "--ref", "BAD", "--name", "Bad",
                        "--email", "nope", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "not an email address"));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run (fx, NULL, NULL, "invoice", "add", "ACME", "--ref", "INV-100", "--issue-date", "2026-01-10",
                        "--due-date", "2026-02-09", "--amount", "1,200.00", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "invoice", "add", "ACME", "--ref", "INV-101", "--issue-date", "2026-04-01",
                        "--due-date", "2026-05-01", "--amount", "300", NULL), ==, 0);

  /* Bad amounts: a clear error, exit 1, nothing recorded. */
  g_assert_cmpint (run (fx, NULL, &err, "pay", "ACME", "--amount", "12,34.5", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "ambiguous"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "pay", "ACME", "--amount", "1e3", NULL), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "pay", "ACME", "--amount", "-5", NULL), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "pay", "NOPE", "--amount", "5", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "NOPE"));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run (fx, &out, NULL, "--json", "pay", "ACME", "--amount", "1000", "--method", "cheque",
                        "--date", "2026-06-01", NULL), ==, 0);
  node = parse_json (out);
  obj = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (obj, "amount"), ==, -100000);
  g_assert_cmpint (json_object_get_int_member (obj, "balance"), ==, 50000);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (obj, "receipt_no"), "R-"));
  {
    g_autofree char *receipt = g_strdup (json_object_get_string_member (obj, "receipt_no"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&node, json_node_unref);

    /* The cheque bounces: reverse by receipt number. */
    g_assert_cmpint (run (fx, &out, NULL, "--json", "reverse", receipt, "--memo", "bounced", NULL), ==, 0);
    node = parse_json (out);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "balance"), ==, 150000);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&node, json_node_unref);
    g_assert_cmpint (run (fx, NULL, &err, "reverse", receipt, NULL), ==, 1);
    g_assert_nonnull (strstr (err, "already been reversed"));
    g_clear_pointer (&err, g_free);
  }

  g_assert_cmpint (run (fx, NULL, NULL, "adjust", "ACME", "--kind", "fee", "--amount", "25", "--memo", "late fee", NULL), ==, 0);

  /* Aging as of the pinned today: INV-100 141 days late, INV-101 60, fee current. */
  g_assert_cmpint (run (fx, &out, NULL, "--json", "aging", NULL), ==, 0);
  node = parse_json (out);
  {
    JsonObject *row = json_array_get_object_element (json_object_get_array_member (json_node_get_object (node), "currencies"), 0);
    g_assert_cmpstr (json_object_get_string_member (row, "currency"), ==, "USD");
    g_assert_cmpint (json_object_get_int_member (row, "91-180"), ==, 120000);
    g_assert_cmpint (json_object_get_int_member (row, "31-60"), ==, 30000);
    g_assert_cmpint (json_object_get_int_member (row, "current"), ==, 2500);
    g_assert_cmpint (json_object_get_int_member (row, "total"), ==, 152500);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);

  /* The human table is there too. */
  g_assert_cmpint (run (fx, &out, NULL, "accounts", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Acme Hardware"));
  g_assert_nonnull (strstr (out, "USD 1,525.00"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (fx, NULL, NULL, "log", "ACME", "--channel", "call", "--outcome", "no-answer",
                        "--at", "2026-06-29T15:00:00Z", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, &err, "log", "ACME", "--channel", "pigeon", NULL), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "log", "ACME", "--channel", "call", "--at", "tuesday", NULL), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "--json", "history", "ACME", NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);

  g_assert_cmpint (run (fx, &out, NULL, "--json", "ledger", "ACME", NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 5);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&node, json_node_unref);

  g_assert_cmpint (run (fx, NULL, NULL, "user", "add", "Sam Field", "--role", "collector", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "account", "set", "ACME", "assigned_to", "Sam Field", NULL), ==, 0);
  g_assert_cmpint (run (fx, &out, NULL, "accounts", "--collector", "Sam Field", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "ACME"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "account", "set", "ACME", "timezone", "Nowhere/Land", NULL), ==, 1);
  g_clear_pointer (&err, g_free);
  /* Compliance dates: core's rule, the same as in the app (today is 2026-06-30). */
  g_assert_cmpint (run (fx, NULL, &err, "account", "set", "ACME", "validation_notice_date", "2030-01-01", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "validation notice date 2030-01-01 is after today (2026-06-30)"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "account", "set", "ACME", "placed_on", "1900-01-01", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "date placed for collection 1900-01-01 is before 1970-01-01"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, NULL, "account", "set", "ACME", "validation_notice_date", "2026-06-30", NULL), ==, 0);
}

/* --book without a value, or naming a directory, is said as such. */
static void
test_book_arguments (Fixture *fx, gconstpointer data)
{
  g_autofree char *err = NULL;

  g_assert_cmpint (run_bare (NULL, &err, "--book", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--book needs a path"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_bare (NULL, &err, "--json", "-b", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "-b needs a path"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_bare (NULL, &err, "--book", fx->book, "--user", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--user needs"));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_bare (NULL, &err, "--book", fx->dir, "accounts", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "is a directory, not a Recoup book"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_bare (NULL, &err, "accounts", "--book", fx->dir, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "is a directory, not a Recoup book"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_bare (NULL, &err, "--book", fx->dir, "init", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "is a directory, not a Recoup book"));
  g_clear_pointer (&err, g_free);
}

/* A query that fails (a balance whose sum overflows) is an error, exit 1, not
 * “No accounts match.”. */
static void
test_query_error (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "account", "create", "--ref", "BIG", "--name", "Big Debtor",
                        "--currency", "USD", "--timezone", "UTC", NULL), ==, 0);
  g_assert_cmpint (sqlite3_open (fx->book, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO ledger_entries (id, account_id, kind, amount, currency,"
                                     " effective_date, created_at) SELECT 'x' || n, id, 'charge',"
                                     " 9223372036854775807, 'USD', '2026-01-01', 0"
                                     " FROM accounts, (SELECT 1 AS n UNION SELECT 2)", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  sqlite3_close (db);

  g_assert_cmpint (run (fx, &out, &err, "accounts", NULL), ==, 1);
  g_assert_null (strstr (out, "No accounts match"));
  g_assert_nonnull (strstr (err, "integer overflow"));
}

/* --min-balance in a book with no accounts yet (no currency to read it in). */
static void
test_min_balance_empty (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL, *valgrind = g_find_program_in_path ("valgrind");

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  g_assert_cmpint (run (fx, &out, NULL, "accounts", "--min-balance", "100", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "No accounts match"));

  /* The currency list used to be read past its end here. Without gc-friendly,
   * which would zero the memory past the end. */
  if (valgrind != NULL)
    {
      g_auto(GStrv) envp = g_environ_unsetenv (g_get_environ (), "G_DEBUG");
      g_autoptr(GPtrArray) args = g_ptr_array_new ();
      const char *argv[] = { valgrind, "-q", "--error-exitcode=9", g_getenv ("RECOUP_CLI"), "--book", fx->book,
                             "accounts", "--min-balance", "100" };

      for (guint i = 0; i < G_N_ELEMENTS (argv); i++)
        g_ptr_array_add (args, (char *) argv[i]);
      g_assert_cmpint (run_argv (args, envp, NULL, NULL), ==, 0);
    }
  else
    g_test_message ("no valgrind: memory not checked");
}

/* A bad outcome or direction is reported as such even where the compliance
 * guard would block the contact; the confirmation has no double space. */
static void
test_log_validates_first (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "account", "create", "--ref", "CC", "--name", "Cease Co",
                        "--currency", "USD", "--timezone", "America/Chicago", "--phone", "+1 312 555 0100",
                        NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "account", "set", "CC", "cease_communication", "1", NULL), ==, 0);

  g_assert_cmpint (run (fx, NULL, &err, "log", "CC", "--channel", "call", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "compliance guard blocks"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "log", "CC", "--channel", "call", "--outcome", "maybe", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "“maybe” is not an outcome"));
  g_assert_null (strstr (err, "compliance guard"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "log", "CC", "--channel", "call", "--outcome", "bounced", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "“bounced” is not an outcome for channel call"));
  g_assert_null (strstr (err, "compliance guard"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "log", "CC", "--channel", "call", "--direction", "sideways", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "“sideways” is not a direction"));
  g_assert_null (strstr (err, "compliance guard"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "log", "CC", "--channel", "call", "--at", "2999-01-01T10:00:00Z", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "a contact cannot be logged in the future"));
  g_assert_null (strstr (err, "compliance guard"));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run (fx, &out, NULL, "log", "CC", "--channel", "note", "--notes", "asked to stop", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Logged note for CC ("));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "log", "CC", "--channel", "call", "--direction", "inbound",
                        "--outcome", "right-party", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Logged call right-party for CC ("));
}

/* What an owner must review, from the shell: a contact a collector logged
 * outside the rules is listed worded (no rule codes; the hour in the
 * account's zone), --json keeps the codes; only an owner marks items, by id
 * or the short id the table shows, all of them or none. */
static void
test_review (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL, *newest = NULL, *oldest = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *rows;
  JsonObject *row;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "account", "create", "--ref", "CC", "--name", "Cease Co",
                        "--currency", "USD", "--timezone", "America/Chicago", "--phone", "+1 312 555 0100",
                        NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "account", "create", "--ref", "NZ", "--name", "No Zone Ltd",
                        "--currency", "USD", "--phone", "+1 312 555 0101", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "account", "set", "CC", "cease_communication", "1", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "user", "add", "Colin", "--role", "collector", NULL), ==, 0);
  g_assert_cmpint (run (fx, &out, NULL, "review", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "Nothing needs review.\n");
  g_clear_pointer (&out, g_free);

  /* 03:00 UTC is 22:00 the evening before in Chicago. */
  g_assert_cmpint (run (fx, NULL, NULL, "--user", "Colin", "log", "CC", "--channel", "call",
                        "--at", "2026-06-29T03:00:00Z", "--override", "the debtor rang back", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "--user", "Colin", "log", "NZ", "--channel", "call",
                        "--at", "2026-06-29T15:00:00Z", "--override", "no zone on file", NULL), ==, 0);

  g_assert_cmpint (run (fx, &out, NULL, "review", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Cease Co"));
  g_assert_nonnull (strstr (out, "call on 2026-06-28 22:00 CDT broke the compliance rules (the debtor asked to "
                                 "cease communication; outside the debtor's contact hours), logged by Colin: "
                                 "the debtor rang back"));
  g_assert_nonnull (strstr (out, "call on 2026-06-29 15:00 UTC broke the compliance rules (the debtor's time "
                                 "zone is unknown), logged by Colin: no zone on file"));
  g_assert_null (strstr (out, "cease-communication"));
  g_assert_null (strstr (out, "outside-hours"));
  g_clear_pointer (&out, g_free);

  /* --json: newest first, the sentence and the codes. */
  g_assert_cmpint (run (fx, &out, NULL, "--json", "review", NULL), ==, 0);
  node = parse_json (out);
  rows = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (rows), ==, 2);
  row = json_array_get_object_element (rows, 0);
  g_assert_cmpstr (json_object_get_string_member (row, "account"), ==, "NZ");
  newest = g_strdup (json_object_get_string_member (row, "id"));
  row = json_array_get_object_element (rows, 1);
  oldest = g_strdup (json_object_get_string_member (row, "id"));
  g_assert_cmpstr (json_object_get_string_member (row, "account"), ==, "CC");
  g_assert_cmpstr (json_object_get_string_member (row, "account_name"), ==, "Cease Co");
  g_assert_cmpstr (json_object_get_string_member (row, "kind"), ==, "contact-breach");
  g_assert_cmpstr (json_object_get_string_member (row, "user"), ==, "Colin");
  g_assert_nonnull (strstr (json_object_get_string_member (row, "text"), "22:00 CDT"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (row, "payload"), "channel"), ==,
                   "call");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (
                     json_object_get_object_member (row, "payload"), "rules"), 0), ==, "cease-communication");
  g_assert_false (json_object_get_boolean_member (row, "reviewed"));
  g_assert_true (json_object_get_null_member (row, "reviewed_by"));
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "--json", "review", "--account", "CC", NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 1);
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);

  /* Only an owner marks; an unknown id marks nothing, not even the known one. */
  g_assert_cmpint (run (fx, NULL, &err, "--user", "Colin", "review", "mark", oldest, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "only an owner can mark"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "review", "mark", oldest, "0badc0ffee", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "“0badc0ffee”"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "--json", "review", NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 2);
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);

  /* The short id the table shows is enough. */
  g_assert_cmpint (run (fx, &out, NULL, "review", NULL), ==, 0);
  g_assert_nonnull (strstr (out, oldest + strlen (oldest) - 8));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "review", "mark", oldest + strlen (oldest) - 8, NULL), ==, 0);
  g_assert_cmpstr (out, ==, "Marked 1 item reviewed.\n");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "--json", "review", NULL), ==, 0);
  node = parse_json (out);
  rows = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 0), "id"), ==, newest);
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);

  /* --all shows the reviewed one, with who marked it and when. */
  g_assert_cmpint (run (fx, &out, NULL, "--json", "review", "--all", NULL), ==, 0);
  node = parse_json (out);
  rows = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (rows), ==, 2);
  row = json_array_get_object_element (rows, 1);
  g_assert_cmpstr (json_object_get_string_member (row, "id"), ==, oldest);
  g_assert_true (json_object_get_boolean_member (row, "reviewed"));
  g_assert_nonnull (json_object_get_string_member (row, "reviewed_by"));
  g_assert_true (g_str_has_suffix (json_object_get_string_member (row, "reviewed_at"), "Z"));
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "review", "--all", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "REVIEWED BY"));
  g_assert_nonnull (strstr (out, "open"));
  g_clear_pointer (&out, g_free);

  /* Everything open on one account. */
  g_assert_cmpint (run (fx, &out, NULL, "review", "mark", "--account", "NZ", "--all-open", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "Marked 1 item reviewed on NZ.\n");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "review", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "Nothing needs review.\n");
  g_clear_pointer (&out, g_free);

  /* Usage errors: 2; an unknown account: 1. */
  g_assert_cmpint (run (fx, NULL, NULL, "review", "mark", NULL), ==, 2);
  g_assert_cmpint (run (fx, NULL, NULL, "review", "mark", "--all-open", NULL), ==, 2);
  g_assert_cmpint (run (fx, NULL, NULL, "review", "mark", oldest, "--account", "CC", "--all-open", NULL), ==, 2);
  g_assert_cmpint (run (fx, NULL, NULL, "review", "--all-open", NULL), ==, 2);
  g_assert_cmpint (run (fx, NULL, NULL, "review", "frob", NULL), ==, 2);
  g_assert_cmpint (run (fx, NULL, &err, "review", "--account", "NOPE", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "NOPE"));
}

/* Creates account @ref named @name in @currency with one invoice of @amount,
 * issued 2026-01-10 and due 2026-02-09. */
static void
add_debtor (Fixture    *fx,
            const char *ref,
            const char *name,
            const char *currency,
            const char *amount)
{
  g_autofree char *invoice = g_strdup_printf ("INV-%s", ref);

  g_assert_cmpint (run (fx, NULL, NULL, "account", "create", "--ref", ref, "--name", name,
                        "--currency", currency, "--timezone", "UTC", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "invoice", "add", ref, "--ref", invoice, "--issue-date", "2026-01-10",
                        "--due-date", "2026-02-09", "--amount", amount, NULL), ==, 0);
}

/* The line of a table that holds @text. */
static const char *
line_with (char       **lines,
           const char  *text)
{
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], text) != NULL)
      return lines[i];
  g_assert_not_reached ();
}

/* Where @field starts on @line, in terminal cells: a CJK character takes two,
 * an accent (a combining mark) none. */
static glong
cells_before (const char *line,
              const char *field)
{
  const char *end = strstr (line, field);
  glong cells = 0;

  g_assert_nonnull (end);
  for (const char *p = line; p < end; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!g_unichar_iszerowidth (c))
        cells += g_unichar_iswide (c) ? 2 : 1;
    }
  return cells;
}

/* accounts shows a page, as worklist does, and says where the next one
 * starts; --json stays the array scripts read, with the hint on stderr. */
static void
test_accounts_more (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  add_debtor (fx, "A1", "Alpha", "USD", "10");
  add_debtor (fx, "A2", "Beta", "USD", "10");
  add_debtor (fx, "A3", "Gamma", "USD", "10");

  g_assert_cmpint (run (fx, &out, NULL, "accounts", "--limit", "2", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "A2"));
  g_assert_null (strstr (out, "A3"));
  g_assert_true (g_str_has_suffix (out, "\nMore: --offset 2\n"));
  g_clear_pointer (&out, g_free);

  /* The last page, and a page that holds exactly all: no hint. */
  g_assert_cmpint (run (fx, &out, NULL, "accounts", "--limit", "2", "--offset", "2", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "A3"));
  g_assert_null (strstr (out, "More"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "accounts", "--limit", "3", NULL), ==, 0);
  g_assert_null (strstr (out, "More"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (fx, &out, &err, "--json", "accounts", "--limit", "2", NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 2);
  g_assert_cmpstr (err, ==, "More: --offset 2\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, &out, &err, "--json", "accounts", "--limit", "3", NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
}

/* A worklist mixes currencies: each balance names its own. */
static void
test_worklist_currency (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  add_debtor (fx, "US", "Acme Hardware", "USD", "1,200.00");
  add_debtor (fx, "EU", "Brot und Butter", "EUR", "50");

  g_assert_cmpint (run (fx, &out, NULL, "worklist", NULL), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  g_assert_nonnull (strstr (line_with (lines, "Acme Hardware"), "USD 1,200.00"));
  g_assert_nonnull (strstr (line_with (lines, "Brot und Butter"), "EUR 50.00"));

  /* So do the other tables whose rows are of several accounts. */
  g_assert_cmpint (run (fx, NULL, NULL, "promise", "US", "--amount", "300", "--date", "2026-07-10", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "promise", "EU", "--amount", "20", "--date", "2026-07-10", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&lines, g_strfreev);
  g_assert_cmpint (run (fx, &out, NULL, "promises", "--due", "--as-of", "2026-07-10", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "USD 300.00"));
  g_assert_nonnull (strstr (out, "EUR 20.00"));

  g_assert_cmpint (run (fx, NULL, NULL, "pay", "US", "--amount", "100", "--date", "2026-06-01", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "pay", "EU", "--amount", "10", "--date", "2026-06-02", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&lines, g_strfreev);
  g_assert_cmpint (run (fx, &out, NULL, "report", "payments", "--from", "2026-06-01", "--to", "2026-06-30", NULL),
                   ==, 0);
  lines = g_strsplit (out, "\n", -1);
  g_assert_nonnull (strstr (line_with (lines, "Acme Hardware"), "USD 100.00"));
  g_assert_nonnull (strstr (line_with (lines, "Brot und Butter"), "EUR 10.00"));
}

/* A phone the account already has, typed another way, adds nothing: the CLI
 * says so instead of "Added". */
static void
test_contact_add_same_value (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  add_debtor (fx, "US", "Acme Hardware", "USD", "100");
  g_assert_cmpint (run (fx, &out, NULL, "contact", "add", "US", "+1 (312) 555-0100", "--kind", "phone", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Added phone"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "contact", "add", "US", "312 555 0100", "--kind", "phone", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "US already has this phone"));
  g_assert_nonnull (strstr (out, "nothing changed"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "--json", "contact", "add", "US", "+13125550100", "--kind", "phone", NULL),
                   ==, 0);
  g_assert_nonnull (strstr (out, "\"added\" : false"));
}

/* Opting a contact point back in needs the debtor's consent, kept in the
 * history; without it nothing changes. */
static void
test_contact_opt_in_consent (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL, *id = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  add_debtor (fx, "US", "Acme Hardware", "USD", "100");
  g_assert_cmpint (run (fx, &out, NULL, "--json", "contact", "add", "US", "+1 312 555 0100", "--kind", "phone",
                        NULL), ==, 0);
  node = json_from_string (out, NULL);
  id = g_strdup (json_object_get_string_member (json_node_get_object (node), "id"));
  g_assert_cmpint (run (fx, NULL, NULL, "contact", "opt-out", id, NULL), ==, 0);

  g_assert_cmpint (run (fx, NULL, &err, "contact", "opt-in", id, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "needs the debtor's consent"));
  g_clear_pointer (&out, g_free);
  run (fx, &out, NULL, "may-contact", "US", "--channel", "call", NULL);
  g_assert_nonnull (strstr (out, "contact-opt-out"));

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "contact", "opt-in", id, "--consent", "asked by phone on 2026-06-30", NULL),
                   ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "history", "US", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Opted back in: asked by phone on 2026-06-30"));
}

/* Columns are as wide as a terminal shows them: a CJK name takes two cells a
 * character, a letter and its accent typed apart (NFD) one. */
static void
test_table_display_width (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  glong ascii;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  add_debtor (fx, "AS", "Acme Hardware", "USD", "100");
  add_debtor (fx, "JP", "株式会社テスト", "USD", "100");
  add_debtor (fx, "FR", "Cafe\xcc\x81 Nord", "USD", "100");

  g_assert_cmpint (run (fx, &out, NULL, "accounts", NULL), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  ascii = cells_before (line_with (lines, "Acme Hardware"), "USD 100.00");
  g_assert_cmpint (cells_before (line_with (lines, "株式会社テスト"), "USD 100.00"), ==, ascii);
  g_assert_cmpint (cells_before (line_with (lines, "Nord"), "USD 100.00"), ==, ascii);
  g_assert_cmpint (cells_before (line_with (lines, "NAME"), "BALANCE") + (glong) strlen ("BALANCE"), ==,
                   ascii + (glong) strlen ("USD 100.00"));
}

/* A memo with a line break or a tab keeps its ledger row on one line; the
 * JSON keeps the memo as written. */
static void
test_ledger_memo_line_break (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  add_debtor (fx, "ML", "Memo Ltd", "USD", "100");
  g_assert_cmpint (run (fx, NULL, NULL, "adjust", "ML", "--kind", "fee", "--amount", "25", "--date", "2026-06-01",
                        "--memo", "multi\nline\tmemo", NULL), ==, 0);

  g_assert_cmpint (run (fx, &out, NULL, "ledger", "ML", NULL), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);   /* the header, two entries, "" after the last \n */
  g_assert_true (g_str_has_prefix (lines[2], "2026-06-01"));
  g_assert_nonnull (strstr (lines[2], "125.00"));
  g_assert_true (g_str_has_suffix (lines[2], "multi⏎line memo"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (fx, &out, NULL, "--json", "ledger", "ML", NULL), ==, 0);
  node = parse_json (out);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_node_get_array (node), 1),
                                                  "memo"), ==, "multi\nline\tmemo");
}

/* A currency whose accounts have all paid has no aging row of zeros; when
 * nothing is owed at all, aging says so. */
static void
test_aging_paid_currency (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *rows;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  add_debtor (fx, "US", "Acme Hardware", "USD", "100");
  add_debtor (fx, "EU", "Brot und Butter", "EUR", "50");
  g_assert_cmpint (run (fx, NULL, NULL, "pay", "US", "--amount", "100", NULL), ==, 0);

  g_assert_cmpint (run (fx, &out, NULL, "aging", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\nEUR "));
  g_assert_null (strstr (out, "USD"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "--json", "aging", NULL), ==, 0);
  node = parse_json (out);
  rows = json_object_get_array_member (json_node_get_object (node), "currencies");
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 0), "currency"), ==, "EUR");
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (fx, NULL, NULL, "pay", "EU", "--amount", "50", NULL), ==, 0);
  g_assert_cmpint (run (fx, &out, NULL, "aging", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "Aging as of 2026-06-30\n\nNothing is owed.\n");
}

/* A command's help names the program and the command once, as typed. */
static void
test_help_usage (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (run (fx, &out, NULL, "pay", "--help", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Usage:\n  recoup-cli pay [OPTION"));
  g_assert_nonnull (strstr (out, "] ACCOUNT\n"));
  g_clear_pointer (&out, g_free);
  /* Without parameters: nothing after the options, not even a space. */
  g_assert_cmpint (run (fx, &out, NULL, "init", "--help", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Usage:\n  recoup-cli init [OPTION"));
  g_assert_nonnull (strstr (out, "]\n"));
  g_assert_null (strstr (out, "init [OPTION…] init"));
}

/* A reversal names the entry it cancels by its size and gives its own amount
 * with its sign. */
static void
test_reverse_wording (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL, *fee = NULL, *receipt = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  add_debtor (fx, "ACME", "Acme Hardware", "USD", "100");

  g_assert_cmpint (run (fx, &out, NULL, "--json", "adjust", "ACME", "--kind", "fee", "--amount", "25",
                        "--date", "2026-06-01", NULL), ==, 0);
  node = parse_json (out);
  fee = g_strdup (json_object_get_string_member (json_node_get_object (node), "id"));
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "reverse", fee, "--date", "2026-06-02", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Reversed the fee of USD 25.00 (2026-06-01) on ACME with entry "));
  g_assert_nonnull (strstr (out, " of USD -25.00 (2026-06-02)\nBalance now USD 100.00\n"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (fx, &out, NULL, "--json", "pay", "ACME", "--amount", "40", "--date", "2026-06-03",
                        NULL), ==, 0);
  node = parse_json (out);
  receipt = g_strdup (json_object_get_string_member (json_node_get_object (node), "receipt_no"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "reverse", receipt, "--date", "2026-06-04", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Reversed the payment of USD 40.00 (2026-06-03) on ACME with entry "));
  g_assert_nonnull (strstr (out, " of USD 40.00 (2026-06-04)\nBalance now USD 100.00\n"));
}

/* dispute open --invoice takes a reference or an id; an invoice of another
 * account is refused naming both accounts, once prefixed. An upheld
 * dispute's write-off reads "Dispute upheld: <note>" in the ledger, without
 * the dispute's id, which --json keeps in the stored memo. */
static void
test_dispute_wording (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL, *theirs = NULL, *dispute = NULL, *memo = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *entries;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  add_debtor (fx, "ACME", "Acme Hardware", "USD", "100");
  add_debtor (fx, "BETA", "Beta Bakery", "USD", "50");
  g_assert_cmpint (run (fx, &out, NULL, "--json", "invoices", "BETA", NULL), ==, 0);
  node = parse_json (out);
  theirs = g_strdup (json_object_get_string_member (json_array_get_object_element (json_node_get_array (node), 0),
                                                    "id"));
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (fx, NULL, &err, "dispute", "open", "ACME", "--invoice", "INV-BETA", "--reason", "x", NULL),
                   !=, 0);
  g_assert_cmpstr (err, ==, "recoup-cli dispute: invoice INV-BETA is on account BETA, not on ACME\n");
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "dispute", "open", "ACME", "--invoice", theirs, "--reason", "x", NULL),
                   !=, 0);
  g_assert_cmpstr (err, ==, "recoup-cli dispute: invoice INV-BETA is on account BETA, not on ACME\n");
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, NULL, "dispute", "open", "BETA", "--invoice", theirs, "--reason", "x", NULL),
                   ==, 0);

  g_assert_cmpint (run (fx, &out, NULL, "--json", "dispute", "open", "ACME", "--invoice", "INV-ACME",
                        "--reason", "never ordered", NULL), ==, 0);
  node = parse_json (out);
  dispute = g_strdup (json_object_get_string_member (json_node_get_object (node), "id"));
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, NULL, NULL, "dispute", "resolve", dispute, "--upheld", "--write-off",
                        "--note", "wrong address", NULL), ==, 0);

  g_assert_cmpint (run (fx, &out, NULL, "ledger", "ACME", NULL), ==, 0);
  g_assert_null (strstr (out, dispute));
  g_assert_nonnull (strstr (out, "write-off"));
  g_assert_true (g_str_has_suffix (out, " Dispute upheld: wrong address\n"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (fx, &out, NULL, "--json", "ledger", "ACME", NULL), ==, 0);
  node = parse_json (out);
  entries = json_node_get_array (node);
  memo = g_strdup_printf ("dispute %s upheld: wrong address", dispute);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (entries,
                                                                                 json_array_get_length (entries) - 1),
                                                  "memo"), ==, memo);
}

/* statement --all into a folder: references that map to one file name ("a/b"
 * and "a_b"; "A_B" too, on a file system that ignores case) get a numbered
 * name each, in reference order, and no statement overwrites another. */
static void
test_statement_names_collide (Fixture *fx, gconstpointer data)
{
  const char *refs[] = { "A_B", "a/b", "a_b" };
  const char *files[] = { "A_B.csv", "a_b-2.csv", "a_b-3.csv" };
  g_autofree char *out = NULL;
  g_autofree char *folder = g_build_filename (fx->dir, "statements", NULL);
  g_autoptr(GDir) dir = NULL;
  guint n = 0;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (refs); i++)
    add_debtor (fx, refs[i], refs[i], "USD", "100");

  g_assert_cmpint (run (fx, &out, NULL, "statement", "--all", "--format", "csv", "--output", folder, NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Wrote 3 statements "));
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *file = g_build_filename (folder, files[i], NULL);
      g_autofree char *text = NULL;
      g_autofree char *row = g_strdup_printf ("\n%s,%s,USD,", refs[i], refs[i]);

      g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
      g_assert_nonnull (strstr (text, row));
    }
  dir = g_dir_open (folder, 0, NULL);
  while (g_dir_read_name (dir) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 3);
}

/* kpi cost echoes the amount as money, with the currency's decimals. */
static void
test_kpi_cost_echo (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  g_assert_cmpint (run (fx, &out, NULL, "kpi", "cost", "2026-01", "1250.5", "--currency", "USD", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "Collection costs for 2026-01 set to USD 1,250.50\n");
}

/* Two users of one name (one person entered on two copies of a book, met
 * by sync): a name that means either is refused with both ids and roles,
 * instead of one of them at random; the id picks one. On one copy, a second
 * user of a name cannot be added at all. */
static void
test_ambiguous_user (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *collector = NULL;
  g_autofree char *bookkeeper = NULL;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  g_assert_cmpint (run (fx, &out, NULL, "--json", "user", "add", "Betty Andrews", "--role", "collector", NULL), ==, 0);
  node = parse_json (out);
  collector = g_strdup (json_object_get_string_member (json_node_get_object (node), "id"));
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "user", "add", "betty andrews", "--role", "bookkeeper", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "there is a user named “Betty Andrews” already (collector, id "));
  g_clear_pointer (&err, g_free);
  /* As the other copy's user arrives by sync. */
  bookkeeper = recoup_uuid7_new ();
  {
    g_autofree char *sql = g_strdup_printf ("INSERT INTO users (id, name, role, max_discount_bp,"
                                            " max_plan_installments, can_override, created_at)"
                                            " VALUES ('%s', 'betty andrews', 'bookkeeper', 0, 0, 0, 1)",
                                            bookkeeper);
    sqlite3 *db = NULL;

    g_assert_cmpint (sqlite3_open (fx->book, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close (db);
  }

  g_assert_cmpint (run (fx, NULL, &err, "account", "create", "--ref", "A-1", "--name", "Acme",
                        "--collector", "Betty Andrews", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "“Betty Andrews” is the name of 2 users"));
  g_assert_nonnull (strstr (err, collector));
  g_assert_nonnull (strstr (err, bookkeeper));
  g_assert_nonnull (strstr (err, "(collector)"));
  g_assert_nonnull (strstr (err, "(bookkeeper)"));
  g_assert_nonnull (strstr (err, "give the id"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run (fx, NULL, &err, "accounts", "--collector", "BETTY ANDREWS", NULL), ==, 1);
  g_assert_nonnull (strstr (err, collector));
  g_clear_pointer (&err, g_free);
  /* Acting as a user follows the same rule. */
  g_assert_cmpint (run (fx, NULL, &err, "--user", "Betty Andrews", "accounts", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "“Betty Andrews” is the name of 2 users"));
  g_clear_pointer (&err, g_free);

  /* Nothing was made of the refused command; the id works. */
  g_assert_cmpint (run (fx, NULL, NULL, "account", "create", "--ref", "A-1", "--name", "Acme",
                        "--collector", collector, NULL), ==, 0);
  g_assert_cmpint (run (fx, &out, NULL, "--json", "accounts", "--collector", collector, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"A-1\""));
  g_clear_pointer (&out, g_free);
  /* The account says whose it is. */
  g_assert_cmpint (run (fx, &out, NULL, "account", "show", "A-1", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\nCollector: Betty Andrews\n"));
}

/* explain says when it judged the next step, in the debtor's time and zone
 * (a summer and a winter instant: the zone's offset is applied, not
 * assumed), and gives the instant to scripts too. */
static void
test_explain_judged_at (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *obj;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "account", "create", "--ref", "ACME", "--name", "Acme Hardware",
                        "--currency", "USD", "--timezone", "America/New_York", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "invoice", "add", "ACME", "--ref", "INV-1", "--issue-date", "2026-01-10",
                        "--due-date", "2026-02-09", "--amount", "1200", NULL), ==, 0);

  g_assert_cmpint (run (fx, &out, NULL, "explain", "ACME", "--at", "2026-06-30T13:30:00Z", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\nJudged at 2026-06-30 09:30 America/New_York\n"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (fx, &out, NULL, "explain", "ACME", "--at", "2026-11-25T15:30:00+01:00", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\nJudged at 2026-11-25 09:30 America/New_York\n"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run (fx, &out, NULL, "--json", "explain", "ACME", "--at", "2026-11-25T15:30:00+01:00", NULL), ==, 0);
  node = parse_json (out);
  obj = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (obj, "judged_at"), ==, "2026-11-25T14:30:00Z");
  g_assert_cmpstr (json_object_get_string_member (obj, "judged_at_local"), ==, "2026-11-25 09:30 America/New_York");
}

/* An account made from the shell and given an invoice long past due is found
 * by its stage at once, without waiting for policy --apply. */
static void
test_first_invoice_stage (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (run (fx, NULL, NULL, "init", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "account", "create", "--ref", "ACME", "--name", "Acme Hardware",
                        "--currency", "USD", NULL), ==, 0);
  g_assert_cmpint (run (fx, NULL, NULL, "invoice", "add", "ACME", "--ref", "INV-1", "--issue-date", "2026-01-10",
                        "--due-date", "2026-02-09", "--amount", "1200", NULL), ==, 0);
  g_assert_cmpint (run (fx, &out, NULL, "accounts", "--stage", "escalation", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Acme Hardware"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/recoup/cli/exit-codes", Fixture, NULL, fixture_setup, test_exit_codes, fixture_teardown);
  g_test_add ("/recoup/cli/workflow", Fixture, NULL, fixture_setup, test_workflow, fixture_teardown);
  g_test_add ("/recoup/cli/min-balance-currency", Fixture, NULL, fixture_setup, test_min_balance_currency,
              fixture_teardown);
  g_test_add ("/recoup/cli/book-arguments", Fixture, NULL, fixture_setup, test_book_arguments, fixture_teardown);
  g_test_add ("/recoup/cli/query-error", Fixture, NULL, fixture_setup, test_query_error, fixture_teardown);
  g_test_add ("/recoup/cli/min-balance-empty", Fixture, NULL, fixture_setup, test_min_balance_empty,
              fixture_teardown);
  g_test_add ("/recoup/cli/log-validates-first", Fixture, NULL, fixture_setup, test_log_validates_first,
              fixture_teardown);
  g_test_add ("/recoup/cli/review", Fixture, NULL, fixture_setup, test_review, fixture_teardown);
  g_test_add ("/recoup/cli/accounts-more", Fixture, NULL, fixture_setup, test_accounts_more, fixture_teardown);
  g_test_add ("/recoup/cli/worklist-currency", Fixture, NULL, fixture_setup, test_worklist_currency,
              fixture_teardown);
  g_test_add ("/recoup/cli/contact-add-same-value", Fixture, NULL, fixture_setup, test_contact_add_same_value,
              fixture_teardown);
  g_test_add ("/recoup/cli/contact-opt-in-consent", Fixture, NULL, fixture_setup, test_contact_opt_in_consent,
              fixture_teardown);
  g_test_add ("/recoup/cli/table-display-width", Fixture, NULL, fixture_setup, test_table_display_width,
              fixture_teardown);
  g_test_add ("/recoup/cli/ledger-memo-line-break", Fixture, NULL, fixture_setup, test_ledger_memo_line_break,
              fixture_teardown);
  g_test_add ("/recoup/cli/aging-paid-currency", Fixture, NULL, fixture_setup, test_aging_paid_currency,
              fixture_teardown);
  g_test_add ("/recoup/cli/help-usage", Fixture, NULL, fixture_setup, test_help_usage, fixture_teardown);
  g_test_add ("/recoup/cli/reverse-wording", Fixture, NULL, fixture_setup, test_reverse_wording, fixture_teardown);
  g_test_add ("/recoup/cli/dispute-wording", Fixture, NULL, fixture_setup, test_dispute_wording, fixture_teardown);
  g_test_add ("/recoup/cli/statement-names-collide", Fixture, NULL, fixture_setup, test_statement_names_collide,
              fixture_teardown);
  g_test_add ("/recoup/cli/kpi-cost-echo", Fixture, NULL, fixture_setup, test_kpi_cost_echo, fixture_teardown);
  g_test_add ("/recoup/cli/ambiguous-user", Fixture, NULL, fixture_setup, test_ambiguous_user, fixture_teardown);
  g_test_add ("/recoup/cli/explain-judged-at", Fixture, NULL, fixture_setup, test_explain_judged_at,
              fixture_teardown);
  g_test_add ("/recoup/cli/first-invoice-stage", Fixture, NULL, fixture_setup, test_first_invoice_stage,
              fixture_teardown);
  return g_test_run ();
}
