/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-derived-update"

#include "config.h"

#include <string.h>

#include "recoup-book-private.h"
#include "recoup-demo.h"
#include "recoup-test-util.h"

/*
 * recoup_score_update_detached(): the day's rebuild the desktop app runs on a
 * connection of its own while the worklist shows the previous ranks. It must
 * give exactly what the one-transaction rebuild gives, keep what was written
 * meanwhile, and change nothing when cancelled.
 */

/* Every derived row, in account order, as one string. */
static char *
stats_dump (const char *path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  GString *out = g_string_new (NULL);

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT account_id, balance, oldest_dpd, weighted_dpd, payments_90d,"
                                       " promises_kept, promises_broken, contact_attempts, score, segment,"
                                       " queue_rank, coalesce (next_action, ''),"
                                       " coalesce (next_action_reason, ''), coalesce (recommended_stage, ''),"
                                       " missed_installment, coalesce (plan_due_date, ''), as_of"
                                       " FROM account_stats ORDER BY account_id",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        g_string_append_printf (out, "%s|", (const char *) sqlite3_column_text (stmt, i));
      g_string_append_c (out, '\n');
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return g_string_free (out, FALSE);
}

static void
count_progress (guint64  done,
                guint64  total,
                gpointer user_data)
{
  guint *calls = user_data;

  g_assert_cmpuint (done, <=, total);
  (*calls)++;
}

static void
make_demo (TestBook *tb)
{
  g_autoptr(GError) error = NULL;
  RecoupDemoOptions options = { 0 };

  options.n_accounts = 300;
  options.seed = 7;
  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  test_book_open (tb);
  g_assert_true (recoup_demo_generate (tb->book, &options, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_score_ensure_current (tb->book, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_score_is_current (tb->book));
}

static void
test_matches_rebuild (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) other = NULL;
  g_autofree char *before = NULL;
  g_autofree char *staged = NULL;
  g_autofree char *rebuilt = NULL;
  guint calls = 0;
  TestBook tb;

  make_demo (&tb);
  before = stats_dump (tb.path);

  /* A week later: days past due moved, the ranks are another day's. */
  g_setenv ("RECOUP_TODAY", "2026-12-01", TRUE);
  g_assert_false (recoup_score_is_current (tb.book));

  other = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_score_update_detached (other, count_progress, &calls, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (calls, >, 0);
  g_assert_true (recoup_score_is_current (tb.book));
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM account_stats WHERE as_of <> '2026-12-01'"),
                   ==, 0);
  staged = stats_dump (tb.path);
  g_assert_cmpstr (staged, !=, before);

  /* The same as the whole-book rebuild in one transaction. */
  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  rebuilt = stats_dump (tb.path);
  g_assert_cmpstr (staged, ==, rebuilt);

  /* Current now: nothing to do. */
  g_assert_true (recoup_score_update_detached (other, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&other);
  test_book_close (&tb);
}

static void
test_cancelled (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) other = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  TestBook tb;

  make_demo (&tb);
  before = stats_dump (tb.path);
  g_setenv ("RECOUP_TODAY", "2026-12-02", TRUE);
  other = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  g_assert_false (recoup_score_update_detached (other, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (recoup_score_is_current (tb.book));
  after = stats_dump (tb.path);
  g_assert_cmpstr (after, ==, before);
  g_clear_object (&other);
  test_book_close (&tb);
}

/* A book written before reasons had codes holds English sentences and a
 * signature without the derived data's form: the app's update replaces every
 * row, as the one-transaction rebuild does. */
static void
test_legacy_reasons (void)
{
  const char *legacy = "12 days past due: the policy's step at 1 days is reminder email (email)";
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) other = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *staged = NULL;
  g_autofree char *rebuilt = NULL;
  char *sql;
  TestBook tb;

  make_demo (&tb);
  signature = recoup_book_get_setting (tb.book, "derived.signature");
  g_assert_true (g_str_has_prefix (signature, "form "));
  sql = sqlite3_mprintf ("UPDATE account_stats SET next_action_reason = %Q", legacy);
  g_assert_true (recoup_book_exec (tb.book, sql, &error));
  sqlite3_free (sql);
  g_assert_true (recoup_book_set_setting (tb.book, "derived.signature", strchr (signature, ';') + 1, &error));
  g_assert_no_error (error);
  g_assert_false (recoup_score_is_current (tb.book));

  other = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_score_update_detached (other, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_score_is_current (tb.book));
  sql = sqlite3_mprintf ("SELECT count(*) FROM account_stats WHERE next_action_reason = %Q", legacy);
  g_assert_cmpint (test_query_int (tb.path, sql), ==, 0);
  sqlite3_free (sql);
  staged = stats_dump (tb.path);

  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  rebuilt = stats_dump (tb.path);
  g_assert_cmpstr (staged, ==, rebuilt);
  g_clear_object (&other);
  test_book_close (&tb);
}

/* The book's today moves to @day (payments are recorded on or after it). */
static void
set_today (const char *day)
{
  g_setenv ("RECOUP_TODAY", day, TRUE);
}

/* Demo accounts owing for 90 days or more with nothing else going on (no
 * promise, dispute or follow-up, no payment since October): what a plan
 * makes of them decides their next action. */
static GPtrArray *
quiet_accounts (const char *path,
                guint       n)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT account_id FROM account_stats WHERE balance > 0 AND oldest_dpd >= 90"
                                       " AND stage <> 'closed' AND open_dispute = 0 AND follow_up_at IS NULL"
                                       " AND promise_due_date IS NULL AND promise_broken_date IS NULL"
                                       " AND (last_payment_date IS NULL OR last_payment_date < '2026-10-01')"
                                       " ORDER BY account_id LIMIT ?",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int (stmt, 1, (int) n);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (ids, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  g_assert_cmpuint (ids->len, ==, n);
  return g_steal_pointer (&ids);
}

/* A monthly plan of the balance in three installments from @first, made,
 * sent and accepted today; returns its first installment's amount. */
static gint64
accept_plan (RecoupBook *book,
             const char *account,
             const char *first)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = account, .kind = RECOUP_OFFER_PLAN, .installments = 3,
                           .frequency = RECOUP_FREQUENCY_MONTHLY, .first_date = first };
  g_autofree char *id = recoup_offer_create (book, &spec, &error);
  g_autoptr(RecoupOffer) plan = NULL;

  g_assert_no_error (error);
  g_assert_true (recoup_offer_transition (book, id, RECOUP_OFFER_EVENT_SEND, NULL, &error));
  g_assert_true (recoup_offer_transition (book, id, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_no_error (error);
  plan = recoup_offer_load (book, id, NULL, &error);
  g_assert_no_error (error);
  return g_array_index (plan->schedule, RecoupInstallment, 0).amount;
}

static char *
pay (RecoupBook *book,
     const char *account,
     gint64      amount)
{
  g_autoptr(GError) error = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = account, .amount = amount,
                           .method = "cash" };
  char *id = recoup_ledger_record (book, &spec, &error);

  g_assert_no_error (error);
  return id;
}

static void
assert_plan_row (const char *path,
                 const char *account,
                 const char *plan_due_date,
                 int         missed)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM account_stats WHERE account_id = '%s'"
                                          " AND plan_due_date IS '%s' AND missed_installment = %d",
                                          account, plan_due_date, missed);

  g_assert_cmpint (test_query_int (path, sql), ==, 1);
}

/* Plans as the app writes them, one commit at a time (each refreshes the
 * accounts it touched) and in a batch of many accounts: the derived rows are
 * what the whole-book rebuild and the app's detached update give. */
static void
test_plans (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(RecoupBook) other = NULL;
  g_autofree char *before_paid = NULL;
  g_autofree char *incremental = NULL, *batched = NULL, *staged = NULL, *rebuilt = NULL;
  const char *current, *bounced, *missed;
  gint64 installment;
  TestBook tb;

  make_demo (&tb);
  ids = quiet_accounts (tb.path, 3);
  current = ids->pdata[0];
  bounced = ids->pdata[1];
  missed = ids->pdata[2];

  /* Accepted on 2026-10-20, first installments due 2026-10-24: current
   * pays its own, missed none, and bounced had paid the day before its plan
   * by a cheque that bounces on the last day. */
  set_today ("2026-10-19");
  before_paid = pay (tb.book, bounced, 5000);
  set_today ("2026-10-20");
  installment = accept_plan (tb.book, current, "2026-10-24");
  accept_plan (tb.book, missed, "2026-10-24");
  set_today ("2026-10-24");
  g_free (pay (tb.book, current, installment));
  set_today ("2026-10-20");
  installment = accept_plan (tb.book, bounced, "2026-10-24");
  set_today ("2026-10-24");
  g_free (pay (tb.book, bounced, installment));

  /* Back on the demo's day, everything rebuilt; then the day's writes. */
  set_today ("2026-11-24");
  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  g_free (pay (tb.book, current, installment / 2));
  g_free (recoup_ledger_reverse (tb.book, before_paid, NULL, "cheque bounced", &error));
  g_assert_no_error (error);
  incremental = stats_dump (tb.path);
  assert_plan_row (tb.path, current, "2026-11-24", 0);
  assert_plan_row (tb.path, bounced, "2026-11-24", 0);
  assert_plan_row (tb.path, missed, "2026-10-24", 1);

  /* One commit touching more than a hundred accounts: the batch path. */
  g_assert_true (recoup_book_begin (tb.book, &error));
  for (guint i = 0; i < 3; i++)
    g_assert_true (recoup_account_set (tb.book, ids->pdata[i], "tags", "plan", &error));
  {
    sqlite3_stmt *stmt = recoup_book_prepare (tb.book, "SELECT id FROM accounts ORDER BY id DESC LIMIT 120",
                                              &error);
    g_autoptr(GPtrArray) touch = g_ptr_array_new_with_free_func (g_free);

    g_assert_no_error (error);
    while (sqlite3_step (stmt) == SQLITE_ROW)
      g_ptr_array_add (touch, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
    sqlite3_reset (stmt);
    for (guint i = 0; i < touch->len; i++)
      g_assert_true (recoup_account_set (tb.book, touch->pdata[i], "review_flag", "checked", &error));
    g_assert_no_error (error);
  }
  g_assert_true (recoup_book_commit (tb.book, &error));
  g_assert_no_error (error);
  batched = stats_dump (tb.path);

  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  rebuilt = stats_dump (tb.path);
  g_assert_cmpstr (incremental, ==, rebuilt);
  g_assert_cmpstr (batched, ==, rebuilt);

  /* The next day, the app's update on a connection of its own. */
  set_today ("2026-11-25");
  other = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_score_update_detached (other, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  staged = stats_dump (tb.path);
  g_clear_pointer (&rebuilt, g_free);
  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  rebuilt = stats_dump (tb.path);
  g_assert_cmpstr (staged, ==, rebuilt);
  g_clear_object (&other);
  test_book_close (&tb);
}

/* A book whose derived rows predate plan_due_date (form 2, no such column):
 * a write adds the column and refreshes what it touched; the app's update
 * then rebuilds the rest once, as the one-transaction rebuild would. */
static void
test_older_form (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(RecoupBook) other = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *staged = NULL;
  g_autofree char *rebuilt = NULL;
  sqlite3 *db = NULL;
  char *sql;
  TestBook tb;

  make_demo (&tb);
  ids = quiet_accounts (tb.path, 1);
  signature = recoup_book_get_setting (tb.book, "derived.signature");
  g_assert_true (g_str_has_prefix (signature, "form 6;"));
  g_clear_object (&tb.book);
  g_assert_cmpint (sqlite3_open (tb.path, &db), ==, SQLITE_OK);
  /* A book of schema 8: no plan column, no review items, no waives_id, stats in the older form. */
  sql = sqlite3_mprintf ("ALTER TABLE account_stats DROP COLUMN plan_due_date;"
                         "DROP TABLE review_marks; DROP TABLE review_items;"
                         "DROP INDEX ledger_by_waives; ALTER TABLE ledger_entries DROP COLUMN waives_id;"
                         "UPDATE settings SET value = 'form 3;%q' WHERE key = 'derived.signature';"
                         "PRAGMA user_version = 8",
                         strchr (signature, ';') + 1);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_free (sql);
  sqlite3_close (db);

  tb.book = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_false (recoup_score_is_current (tb.book));
  accept_plan (tb.book, ids->pdata[0], "2026-12-01");
  assert_plan_row (tb.path, ids->pdata[0], "2026-12-01", 0);

  other = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_score_update_detached (other, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_score_is_current (tb.book));
  staged = stats_dump (tb.path);
  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  rebuilt = stats_dump (tb.path);
  g_assert_cmpstr (staged, ==, rebuilt);
  g_clear_object (&other);
  test_book_close (&tb);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recoup/core/derived-update/matches-rebuild", test_matches_rebuild);
  g_test_add_func ("/recoup/core/derived-update/cancelled", test_cancelled);
  g_test_add_func ("/recoup/core/derived-update/legacy-reasons", test_legacy_reasons);
  g_test_add_func ("/recoup/core/derived-update/plans", test_plans);
  g_test_add_func ("/recoup/core/derived-update/older-form", test_older_form);
  return g_test_run ();
}
