/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-derived-update"

#include "config.h"

#include <string.h>

#include "recoup-book-private.h"
#include "recoup-demo.h"
#include "recoup-merge.h"
#include "recoup-score-private.h"
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
                                       " missed_installment, coalesce (plan_due_date, ''), as_of, call_blocks,"
                                       " calls_open_at FROM account_stats ORDER BY account_id",
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
  g_assert_true (g_str_has_prefix (signature, "form 9;"));
  g_clear_object (&tb.book);
  g_assert_cmpint (sqlite3_open (tb.path, &db), ==, SQLITE_OK);
  /* A book of schema 8: no plan column, no review items, no waives_id, no
   * call blocks nor calls_open_at, stats in the older form. */
  sql = sqlite3_mprintf ("ALTER TABLE account_stats DROP COLUMN plan_due_date;"
                         "DROP INDEX IF EXISTS account_stats_open_queue; ALTER TABLE account_stats DROP COLUMN call_blocks;"
                         "ALTER TABLE account_stats DROP COLUMN calls_open_at;"
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

/* ---- What stops every call (account_stats.call_blocks) ------------------- */

#define NOON_CHICAGO "2026-11-24T18:00:00Z"

static int
call_blocks_of (TestBook   *tb,
                const char *account)
{
  g_autofree char *sql = g_strdup_printf ("SELECT coalesce ((SELECT call_blocks FROM account_stats"
                                          " WHERE account_id = '%s'), -2)", account);

  return test_query_int (tb->path, sql);
}

/* An account that owes, in America/Chicago, with a phone number; returns
 * the number's contact point in @out_phone. */
static char *
debtor_with_phone (RecoupBook  *book,
                   const char  *ref,
                   char       **out_phone)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *invoice = g_strdup_printf ("INV-%s", ref);
  char *id = test_add_account (book, ref, "USD");

  g_free (test_add_invoice (book, id, invoice, "2026-09-01", "2026-10-01", 5000, "USD"));
  *out_phone = recoup_contact_add (book, id, RECOUP_CONTACT_PHONE, "+13125550100", "", TRUE, &error);
  g_assert_no_error (error);
  return id;
}

static void
set_flag (RecoupBook *book,
          const char *account,
          const char *field,
          gboolean    on)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (recoup_account_set (book, account, field, on ? "yes" : "no", &error));
  g_assert_no_error (error);
}

/* The refs of the open accounts callable at @at, found by @search (NULL:
 * the whole list), in list order; the list counts as many. */
static char *
callable_refs_at (RecoupBook *book,
                  const char *search,
                  const char *at)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  GString *refs = g_string_new (NULL);
  gboolean exact = TRUE;
  gint64 at_ms = 0, n;

  g_assert_true (recoup_instant_parse (at, &at_ms, NULL));
  n = recoup_browse_prepare_full (book, search, RECOUP_BROWSE_OPEN_ONLY | RECOUP_BROWSE_CALLABLE_NOW,
                                  at_ms, &exact, NULL, &error);
  g_assert_no_error (error);
  if (!exact)
    n = recoup_browse_count (book, &error);
  g_assert_no_error (error);
  rows = recoup_browse_page (book, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rows->len, ==, n);
  for (guint i = 0; i < rows->len; i++)
    g_string_append_printf (refs, "%s%s", i > 0 ? " " : "", ((RecoupBrowseRow *) rows->pdata[i])->ref);
  return g_string_free (refs, FALSE);
}

/* The same at NOON_CHICAGO. */
static char *
callable_refs (RecoupBook *book,
               const char *search)
{
  return callable_refs_at (book, search, NOON_CHICAGO);
}

/* Every write that starts or lifts a block refreshes the account's row, in
 * its own commit; the whole-book rebuild gives the same rows. */
static void
test_call_blocks_follow_writes (void)
{
  const char *flags[] = { "attorney_represented", "bankruptcy", "deceased" };
  g_autoptr(GError) error = NULL;
  g_autofree char *phone = NULL, *second = NULL, *dispute = NULL, *incremental = NULL, *rebuilt = NULL;
  g_autofree char *account = NULL;
  TestBook tb;

  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  test_book_open (&tb);
  account = debtor_with_phone (tb.book, "A-1", &phone);
  g_assert_cmpint (call_blocks_of (&tb, account), ==, 0);

  set_flag (tb.book, account, "cease_communication", TRUE);
  g_assert_cmpint (call_blocks_of (&tb, account), ==, RECOUP_CALL_BLOCK_CEASE);
  set_flag (tb.book, account, "cease_communication", FALSE);
  g_assert_cmpint (call_blocks_of (&tb, account), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    {
      set_flag (tb.book, account, flags[i], TRUE);
      g_assert_cmpint (call_blocks_of (&tb, account), ==, RECOUP_CALL_BLOCK_FLAGS);
      set_flag (tb.book, account, flags[i], FALSE);
      g_assert_cmpint (call_blocks_of (&tb, account), ==, 0);
    }

  /* An opt-out of calls; of the only phone number; a new number to call;
   * that number removed; the first one opted back in. */
  g_assert_true (recoup_guard_set_channel_opt_out (tb.book, account, "call", TRUE, &error));
  g_assert_cmpint (call_blocks_of (&tb, account), ==, RECOUP_CALL_BLOCK_OPT_OUT);
  g_assert_true (recoup_guard_set_channel_opt_out (tb.book, account, "call", FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (call_blocks_of (&tb, account), ==, 0);
  g_assert_true (recoup_contact_set_opted_out (tb.book, phone, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (call_blocks_of (&tb, account), ==, RECOUP_CALL_BLOCK_OPT_OUT);
  second = recoup_contact_add (tb.book, account, RECOUP_CONTACT_PHONE, "+13125550199", "", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (call_blocks_of (&tb, account), ==, 0);
  g_assert_true (recoup_contact_remove (tb.book, second, &error));
  g_assert_no_error (error);
  g_assert_cmpint (call_blocks_of (&tb, account), ==, RECOUP_CALL_BLOCK_OPT_OUT);
  g_assert_true (recoup_contact_opt_back_in (tb.book, phone, "the debtor, on the phone", &error));
  g_assert_no_error (error);
  g_assert_cmpint (call_blocks_of (&tb, account), ==, 0);

  dispute = recoup_dispute_open (tb.book, account, NULL, "not mine", &error);
  g_assert_no_error (error);
  g_assert_cmpint (call_blocks_of (&tb, account), ==, RECOUP_CALL_BLOCK_DISPUTE);
  g_assert_true (recoup_dispute_resolve (tb.book, dispute, FALSE, "the signature is theirs", &error));
  g_assert_no_error (error);
  g_assert_cmpint (call_blocks_of (&tb, account), ==, 0);

  /* Several at once, as the rebuild finds them. */
  set_flag (tb.book, account, "cease_communication", TRUE);
  set_flag (tb.book, account, "deceased", TRUE);
  g_assert_true (recoup_contact_set_opted_out (tb.book, phone, TRUE, &error));
  g_free (recoup_dispute_open (tb.book, account, NULL, "paid in cash", &error));
  g_assert_no_error (error);
  g_assert_cmpint (call_blocks_of (&tb, account), ==,
                   RECOUP_CALL_BLOCK_CEASE | RECOUP_CALL_BLOCK_FLAGS | RECOUP_CALL_BLOCK_OPT_OUT |
                   RECOUP_CALL_BLOCK_DISPUTE);
  incremental = stats_dump (tb.path);
  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  rebuilt = stats_dump (tb.path);
  g_assert_cmpstr (incremental, ==, rebuilt);
  test_book_close (&tb);
}

/* Applies @src's changes after local seq *@last to @dst, as a pull would. */
static void
deliver (RecoupBook *src,
         RecoupBook *dst,
         gint64     *last)
{
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (src), "SELECT seq FROM changes WHERE seq > ? ORDER BY seq",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, *last);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) change = NULL;
      RecoupMergeResult result = { 0 };

      *last = sqlite3_column_int64 (stmt, 0);
      change = recoup_merge_change_from_row (src, *last, &error);
      g_assert_no_error (error);
      json_object_remove_member (change, "seq");
      g_assert_true (recoup_merge_apply (dst, change, 0, &result, &error));
      g_assert_no_error (error);
      g_assert_cmpint (result.status, !=, RECOUP_MERGE_REJECTED);
      recoup_merge_result_clear (&result);
    }
  sqlite3_finalize (stmt);
}

/* Blocks set and lifted on another copy of the book reach this one's rows
 * with the merge. */
static void
test_call_blocks_after_merge (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL, *phone = NULL, *dispute = NULL;
  gint64 last = 0;
  TestBook here, there;

  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  test_book_open (&here);
  test_book_open (&there);
  account = debtor_with_phone (there.book, "M-1", &phone);
  deliver (there.book, here.book, &last);
  g_assert_cmpint (call_blocks_of (&here, account), ==, 0);

  set_flag (there.book, account, "cease_communication", TRUE);
  g_assert_true (recoup_contact_set_opted_out (there.book, phone, TRUE, &error));
  dispute = recoup_dispute_open (there.book, account, NULL, "not mine", &error);
  g_assert_no_error (error);
  deliver (there.book, here.book, &last);
  g_assert_cmpint (call_blocks_of (&here, account), ==,
                   RECOUP_CALL_BLOCK_CEASE | RECOUP_CALL_BLOCK_OPT_OUT | RECOUP_CALL_BLOCK_DISPUTE);

  set_flag (there.book, account, "cease_communication", FALSE);
  g_assert_true (recoup_contact_opt_back_in (there.book, phone, "the debtor, by letter", &error));
  g_assert_true (recoup_dispute_resolve (there.book, dispute, FALSE, "the signature is theirs", &error));
  g_assert_no_error (error);
  deliver (there.book, here.book, &last);
  g_assert_cmpint (call_blocks_of (&here, account), ==, 0);
  g_assert_cmpint (call_blocks_of (&here, account), ==, call_blocks_of (&there, account));
  test_book_close (&here);
  test_book_close (&there);
}

/* A book of schema 10 gets the column with every block set: no account is
 * callable until its row is gathered again, which the derived data's new
 * form makes the app's update do for the whole book. */
static void
test_call_blocks_migration (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) other = NULL;
  g_autofree char *ceased = NULL, *open = NULL, *phone1 = NULL, *phone2 = NULL, *signature = NULL;
  g_autofree char *refs = NULL;
  sqlite3 *db = NULL;
  char *sql;
  TestBook tb;

  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  test_book_open (&tb);
  ceased = debtor_with_phone (tb.book, "C-1", &phone1);
  open = debtor_with_phone (tb.book, "C-2", &phone2);
  set_flag (tb.book, ceased, "cease_communication", TRUE);
  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  signature = recoup_book_get_setting (tb.book, "derived.signature");
  g_clear_object (&tb.book);

  g_assert_cmpint (sqlite3_open (tb.path, &db), ==, SQLITE_OK);
  sql = sqlite3_mprintf ("DROP INDEX account_stats_open_queue; ALTER TABLE account_stats DROP COLUMN call_blocks;"
                         "ALTER TABLE account_stats DROP COLUMN calls_open_at;"
                         "CREATE INDEX account_stats_open ON account_stats (queue_rank, score DESC, account_id)"
                         " WHERE balance > 0;"
                         "UPDATE settings SET value = 'form 6;%q' WHERE key = 'derived.signature';"
                         "PRAGMA user_version = 10", strchr (signature, ';') + 1);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_free (sql);
  sqlite3_close (db);

  tb.book = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (recoup_book_get_schema_version (tb.book), ==, RECOUP_SCHEMA_VERSION);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM sqlite_master WHERE name = 'account_stats_open'"),
                   ==, 0);
  g_assert_cmpint (call_blocks_of (&tb, ceased), ==, -1);
  g_assert_cmpint (call_blocks_of (&tb, open), ==, -1);
  g_assert_false (recoup_score_is_current (tb.book));
  refs = callable_refs (tb.book, NULL);
  g_assert_cmpstr (refs, ==, "");
  g_clear_pointer (&refs, g_free);
  refs = callable_refs (tb.book, "C-");
  g_assert_cmpstr (refs, ==, "");
  g_clear_pointer (&refs, g_free);

  other = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_score_update_detached (other, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_score_is_current (tb.book));
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM sqlite_master WHERE name = 'account_stats_open_queue'"),
                   ==, 1);
  g_assert_cmpint (call_blocks_of (&tb, ceased), ==, RECOUP_CALL_BLOCK_CEASE);
  g_assert_cmpint (call_blocks_of (&tb, open), ==, 0);
  refs = callable_refs (tb.book, NULL);
  g_assert_cmpstr (refs, ==, "C-2");
  g_clear_pointer (&refs, g_free);
  refs = callable_refs (tb.book, "C-");
  g_assert_cmpstr (refs, ==, "C-2");
  g_clear_object (&other);
  test_book_close (&tb);
}

/* ---- When the call history stops blocking calls (calls_open_at) ---------- */

static gint64
ms_of (const char *instant)
{
  gint64 ms = 0;

  g_assert_true (recoup_instant_parse (instant, &ms, NULL));
  return ms;
}

static gint64
calls_open_at_of (TestBook   *tb,
                  const char *account)
{
  g_autofree char *sql = g_strdup_printf ("SELECT calls_open_at FROM account_stats WHERE account_id = '%s'",
                                          account);

  return test_query_int (tb->path, sql);
}

static void
log_call (RecoupBook *book,
          const char *account,
          const char *outcome,
          const char *at)
{
  g_autoptr(GError) error = NULL;
  RecoupActivitySpec call = { .account_id = account, .channel = "call", .outcome = outcome, .at = ms_of (at) };

  g_free (recoup_activity_log (book, &call, &error));
  g_assert_no_error (error);
}

static void
set_rule (RecoupBook *book,
          const char *rule,
          const char *value)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (recoup_guard_set_rule (book, rule, value, &error));
  g_assert_no_error (error);
}

/* When the guard's call-history reason @code blocks a call to @account at
 * @at lifts; 0 when it does not block. */
static gint64
guard_until (RecoupBook *book,
             const char *account,
             const char *at,
             const char *code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupGuardVerdict) verdict = NULL;

  g_assert_true (recoup_guard_check (book, account, "call", ms_of (at), NULL, &verdict, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < verdict->reasons->len; i++)
    {
      RecoupGuardReason *r = g_ptr_array_index (verdict->reasons, i);

      if (g_str_equal (r->code, code))
        return r->until;
    }
  return 0;
}

/* The account that reached the policy's calls in 7 days leaves the accounts
 * callable now until the guard lets it be called again, at the instant the
 * guard names; the write of the call refreshes it, and the rebuild agrees. */
static void
test_calls_open_after_max_calls (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL, *phone = NULL, *refs = NULL, *incremental = NULL, *rebuilt = NULL;
  TestBook tb;

  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  test_book_open (&tb);
  recoup_book_pin_now (tb.book, ms_of (NOON_CHICAGO));
  set_rule (tb.book, "max_calls_7d", "3");
  account = debtor_with_phone (tb.book, "F-1", &phone);
  log_call (tb.book, account, "no-answer", "2026-11-20T16:00:00Z");
  log_call (tb.book, account, "no-answer", "2026-11-22T16:00:00Z");
  g_assert_cmpint (calls_open_at_of (&tb, account), ==, 0);
  refs = callable_refs (tb.book, NULL);
  g_assert_cmpstr (refs, ==, "F-1");
  g_clear_pointer (&refs, g_free);

  /* The third call in 7 days: no call until the first leaves them, on
   * 2026-11-27 in Chicago. */
  log_call (tb.book, account, "no-answer", "2026-11-24T16:00:00Z");
  g_assert_cmpint (calls_open_at_of (&tb, account), ==, ms_of ("2026-11-27T06:00:00Z"));
  g_assert_cmpint (guard_until (tb.book, account, NOON_CHICAGO, "call-frequency"), ==, calls_open_at_of (&tb, account));
  refs = callable_refs (tb.book, NULL);
  g_assert_cmpstr (refs, ==, "");
  g_clear_pointer (&refs, g_free);
  refs = callable_refs (tb.book, "F-1");
  g_assert_cmpstr (refs, ==, "");
  g_clear_pointer (&refs, g_free);
  refs = callable_refs_at (tb.book, NULL, "2026-11-26T18:00:00Z");
  g_assert_cmpstr (refs, ==, "");
  g_clear_pointer (&refs, g_free);
  refs = callable_refs_at (tb.book, NULL, "2026-11-27T18:00:00Z");
  g_assert_cmpstr (refs, ==, "F-1");
  g_clear_pointer (&refs, g_free);

  incremental = stats_dump (tb.path);
  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  rebuilt = stats_dump (tb.path);
  g_assert_cmpstr (incremental, ==, rebuilt);

  /* No limit: callable again, without waiting for the next rebuild. */
  set_rule (tb.book, "max_calls_7d", "0");
  g_assert_cmpint (calls_open_at_of (&tb, account), ==, 0);
  refs = callable_refs (tb.book, NULL);
  g_assert_cmpstr (refs, ==, "F-1");
  test_book_close (&tb);
}

/* A telephone conversation keeps the account out of the list for the
 * policy's days, counting its own; a change of those days re-derives it. */
static void
test_calls_open_after_conversation (void)
{
  g_autofree char *account = NULL, *phone = NULL, *refs = NULL;
  TestBook tb;

  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  test_book_open (&tb);
  recoup_book_pin_now (tb.book, ms_of (NOON_CHICAGO));
  account = debtor_with_phone (tb.book, "V-1", &phone);
  log_call (tb.book, account, "right-party", "2026-11-23T16:00:00Z");
  /* Seven days from 2026-11-23 in Chicago: calls again on 2026-11-30. */
  g_assert_cmpint (calls_open_at_of (&tb, account), ==, ms_of ("2026-11-30T06:00:00Z"));
  g_assert_cmpint (guard_until (tb.book, account, NOON_CHICAGO, "recent-conversation"), ==,
                   calls_open_at_of (&tb, account));
  refs = callable_refs (tb.book, NULL);
  g_assert_cmpstr (refs, ==, "");
  g_clear_pointer (&refs, g_free);
  refs = callable_refs_at (tb.book, NULL, "2026-11-29T18:00:00Z");
  g_assert_cmpstr (refs, ==, "");
  g_clear_pointer (&refs, g_free);
  refs = callable_refs_at (tb.book, NULL, "2026-11-30T18:00:00Z");
  g_assert_cmpstr (refs, ==, "V-1");
  g_clear_pointer (&refs, g_free);

  /* The rule off, the account is callable now; on again for 2 days, it
   * waits for 2026-11-25. */
  set_rule (tb.book, "conversation_days", "0");
  g_assert_cmpint (calls_open_at_of (&tb, account), ==, 0);
  refs = callable_refs (tb.book, NULL);
  g_assert_cmpstr (refs, ==, "V-1");
  g_clear_pointer (&refs, g_free);
  set_rule (tb.book, "conversation_days", "2");
  g_assert_cmpint (calls_open_at_of (&tb, account), ==, ms_of ("2026-11-25T06:00:00Z"));
  refs = callable_refs (tb.book, NULL);
  g_assert_cmpstr (refs, ==, "");
  g_clear_pointer (&refs, g_free);
  refs = callable_refs_at (tb.book, NULL, "2026-11-25T18:00:00Z");
  g_assert_cmpstr (refs, ==, "V-1");
  test_book_close (&tb);
}

/* A conversation logged on another copy of the book reaches this one's list
 * with the merge. */
static void
test_calls_open_after_merge (void)
{
  g_autofree char *account = NULL, *phone = NULL, *refs = NULL;
  gint64 last = 0;
  TestBook here, there;

  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  test_book_open (&here);
  test_book_open (&there);
  recoup_book_pin_now (here.book, ms_of (NOON_CHICAGO));
  recoup_book_pin_now (there.book, ms_of (NOON_CHICAGO));
  account = debtor_with_phone (there.book, "M-2", &phone);
  deliver (there.book, here.book, &last);
  refs = callable_refs (here.book, NULL);
  g_assert_cmpstr (refs, ==, "M-2");
  g_clear_pointer (&refs, g_free);

  log_call (there.book, account, "promise", "2026-11-24T15:00:00Z");
  deliver (there.book, here.book, &last);
  g_assert_cmpint (calls_open_at_of (&here, account), ==, ms_of ("2026-12-01T06:00:00Z"));
  g_assert_cmpint (calls_open_at_of (&here, account), ==, calls_open_at_of (&there, account));
  refs = callable_refs (here.book, NULL);
  g_assert_cmpstr (refs, ==, "");
  test_book_close (&here);
  test_book_close (&there);
}

/* A book of schema 11 gets calls_open_at set to never: no account is
 * callable until its row is gathered again (the derived data's form 8). */
static void
test_calls_open_migration (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) other = NULL;
  g_autofree char *called = NULL, *quiet = NULL, *phone1 = NULL, *phone2 = NULL, *signature = NULL;
  g_autofree char *refs = NULL;
  sqlite3 *db = NULL;
  char *sql;
  TestBook tb;

  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  test_book_open (&tb);
  recoup_book_pin_now (tb.book, ms_of (NOON_CHICAGO));
  called = debtor_with_phone (tb.book, "K-1", &phone1);
  quiet = debtor_with_phone (tb.book, "K-2", &phone2);
  log_call (tb.book, called, "right-party", "2026-11-24T15:00:00Z");
  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  signature = recoup_book_get_setting (tb.book, "derived.signature");
  g_clear_object (&tb.book);

  g_assert_cmpint (sqlite3_open (tb.path, &db), ==, SQLITE_OK);
  sql = sqlite3_mprintf ("DROP INDEX account_stats_open_queue; ALTER TABLE account_stats DROP COLUMN calls_open_at;"
                         "CREATE INDEX account_stats_open_queue ON account_stats"
                         " (queue_rank, score DESC, account_id, call_blocks, timezone, balance) WHERE balance > 0;"
                         "UPDATE settings SET value = 'form 7;%q' WHERE key = 'derived.signature';"
                         "PRAGMA user_version = 11", strchr (signature, ';') + 1);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_free (sql);
  sqlite3_close (db);

  tb.book = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  recoup_book_pin_now (tb.book, ms_of (NOON_CHICAGO));
  g_assert_cmpint (recoup_book_get_schema_version (tb.book), ==, 12);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM sqlite_master WHERE name = 'account_stats_open_queue'"),
                   ==, 0);
  g_assert_cmpint (calls_open_at_of (&tb, called), ==, G_MAXINT64);
  g_assert_cmpint (calls_open_at_of (&tb, quiet), ==, G_MAXINT64);
  g_assert_false (recoup_score_is_current (tb.book));
  refs = callable_refs (tb.book, NULL);
  g_assert_cmpstr (refs, ==, "");
  g_clear_pointer (&refs, g_free);

  other = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  recoup_book_pin_now (other, ms_of (NOON_CHICAGO));
  g_assert_true (recoup_score_update_detached (other, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_score_is_current (tb.book));
  g_assert_cmpint (calls_open_at_of (&tb, called), ==, ms_of ("2026-12-01T06:00:00Z"));
  g_assert_cmpint (calls_open_at_of (&tb, quiet), ==, 0);
  refs = callable_refs (tb.book, NULL);
  g_assert_cmpstr (refs, ==, "K-2");
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
  g_test_add_func ("/recoup/core/derived-update/call-blocks-follow-writes", test_call_blocks_follow_writes);
  g_test_add_func ("/recoup/core/derived-update/call-blocks-after-merge", test_call_blocks_after_merge);
  g_test_add_func ("/recoup/core/derived-update/call-blocks-migration", test_call_blocks_migration);
  g_test_add_func ("/recoup/core/derived-update/calls-open-after-max-calls", test_calls_open_after_max_calls);
  g_test_add_func ("/recoup/core/derived-update/calls-open-after-conversation", test_calls_open_after_conversation);
  g_test_add_func ("/recoup/core/derived-update/calls-open-after-merge", test_calls_open_after_merge);
  g_test_add_func ("/recoup/core/derived-update/calls-open-migration", test_calls_open_migration);
  return g_test_run ();
}
