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

static int
run (Fixture     *fx,
     char       **out,
     char       **err,
     const char  *first,
     ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *o = NULL, *e = NULL;
  const char *cli = g_getenv ("RECOUP_CLI");
  int wait_status = 0;
  va_list ap;

  g_assert_nonnull (cli);
  g_ptr_array_add (args, (char *) cli);
  g_ptr_array_add (args, (char *) "--book");
  g_ptr_array_add (args, fx->book);
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  g_assert_true (g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &o, &e, &wait_status, &error));
  g_assert_no_error (error);
  if (out)
    *out = g_steal_pointer (&o);
  if (err)
    *err = g_steal_pointer (&e);
  g_assert_true (WIFEXITED (wait_status));
  return WEXITSTATUS (wait_status);
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
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/recoup/cli/exit-codes", Fixture, NULL, fixture_setup, test_exit_codes, fixture_teardown);
  g_test_add ("/recoup/cli/workflow", Fixture, NULL, fixture_setup, test_workflow, fixture_teardown);
  g_test_add ("/recoup/cli/min-balance-currency", Fixture, NULL, fixture_setup, test_min_balance_currency,
              fixture_teardown);
  return g_test_run ();
}
