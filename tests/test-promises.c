/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>

#include "recoup-core.h"
#include "recoup-book-private.h"
#include "recoup-score-private.h"

typedef struct
{
  char       *dir;
  RecoupBook *book;
  char       *account;
  char       *invoice;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  RecoupAccountSpec account = { .ref = "A-1", .name = "Ada", .currency = "USD" };
  RecoupInvoiceSpec invoice = { .ref = "INV-1", .issue_date = "2026-01-01", .due_date = "2026-01-31",
                                .amount = 100000, .currency = "USD" };

  g_setenv ("RECOUP_TODAY", "2026-03-01", TRUE);
  f->dir = g_dir_make_tmp ("recoup-test-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (f->dir, "book.recoup", NULL);
  f->book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  f->account = recoup_account_create (f->book, &account, &error);
  g_assert_no_error (error);
  invoice.account_id = f->account;
  f->invoice = recoup_invoice_add (f->book, &invoice, &error);
  g_assert_no_error (error);
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_remove (p);
    }
  g_rmdir (dir);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->book);
  remove_dir (f->dir);
  g_free (f->dir);
  g_free (f->account);
  g_free (f->invoice);
}

static char *
pay (Fixture    *f,
     gint64      amount,
     const char *date)
{
  g_autoptr(GError) error = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = f->account, .amount = amount,
                           .effective_date = date, .method = "cheque" };
  char *id = recoup_ledger_record (f->book, &spec, &error);

  g_assert_no_error (error);
  return id;
}

static char *
promise (Fixture    *f,
         gint64      amount,
         const char *due,
         int         grace)
{
  g_autoptr(GError) error = NULL;
  RecoupPromiseSpec spec = { .account_id = f->account, .amount = amount, .due_date = due,
                             .channel = "call", .grace_days = grace, .made_on = "2026-02-01" };
  char *id = recoup_promise_add (f->book, &spec, &error);

  g_assert_no_error (error);
  return id;
}

static RecoupPromiseStatus
status_on (Fixture    *f,
           const char *day,
           gint64     *out_paid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = recoup_promise_list (f->book, f->account, day, &error);
  RecoupPromise *p;

  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  p = g_ptr_array_index (list, 0);
  if (out_paid)
    *out_paid = p->paid;
  return p->status;
}

/* Due 2026-02-10, grace 3: the last day that keeps it is 02-13. */
static void
test_boundaries (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *id = promise (f, 30000, "2026-02-10", 3);
  g_autofree char *pid = NULL;
  gint64 paid = -1;

  g_assert_cmpint (status_on (f, "2026-02-10", NULL), ==, RECOUP_PROMISE_PENDING);
  g_assert_cmpint (status_on (f, "2026-02-13", NULL), ==, RECOUP_PROMISE_PENDING);
  g_assert_cmpint (status_on (f, "2026-02-14", NULL), ==, RECOUP_PROMISE_BROKEN);

  /* A payment on due + grace + 1 is too late. */
  g_free (pay (f, 30000, "2026-02-14"));
  g_assert_cmpint (status_on (f, "2026-02-14", &paid), ==, RECOUP_PROMISE_BROKEN);
  g_assert_cmpint (paid, ==, 0);

  /* Part paid on the due date: partly kept once grace has run out. */
  g_free (pay (f, 10000, "2026-02-10"));
  g_assert_cmpint (status_on (f, "2026-02-13", &paid), ==, RECOUP_PROMISE_PENDING);
  g_assert_cmpint (paid, ==, 10000);
  g_assert_cmpint (status_on (f, "2026-02-14", NULL), ==, RECOUP_PROMISE_PARTLY_KEPT);

  /* The rest on the very last day of grace keeps it. */
  pid = pay (f, 20000, "2026-02-13");
  g_assert_cmpint (status_on (f, "2026-02-13", &paid), ==, RECOUP_PROMISE_KEPT);
  g_assert_cmpint (paid, ==, 30000);
  g_assert_cmpint (status_on (f, "2026-03-01", NULL), ==, RECOUP_PROMISE_KEPT);

  /* Pure rule. */
  g_assert_cmpint (recoup_promise_status_for (100, 10, 0, 0, 10), ==, RECOUP_PROMISE_PENDING);
  g_assert_cmpint (recoup_promise_status_for (100, 10, 0, 0, 11), ==, RECOUP_PROMISE_BROKEN);
  g_assert_cmpint (recoup_promise_status_for (100, 10, 0, 100, 5), ==, RECOUP_PROMISE_KEPT);
  g_assert_cmpstr (recoup_promise_status_to_string (RECOUP_PROMISE_PARTLY_KEPT), ==, "partly-kept");
}

static void
test_payment_before_made_on (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *id = NULL;

  g_free (pay (f, 30000, "2026-01-15"));   /* before the promise was made */
  id = promise (f, 30000, "2026-02-10", 0);
  g_assert_cmpint (status_on (f, "2026-02-11", NULL), ==, RECOUP_PROMISE_BROKEN);
}

static gint64
utc_ms (const char *iso)
{
  gint64 ms = 0;

  g_assert_true (recoup_instant_parse (iso, &ms, NULL));
  return ms;
}

/* A promise counts the payments made after it: 100.00 paid in the morning
 * and a promise of 40.00 at noon, the same day, is not kept by the morning's
 * money (QA: "kept" the moment it was made); 40.00 paid that afternoon keeps
 * it. The worklist's stats judge it alike. A promise recorded on a later
 * day than it was made cannot tell the order, and counts the whole day. */
static void
test_payment_earlier_that_day (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  RecoupPromiseSpec spec = { .account_id = f->account, .amount = 4000, .due_date = "2026-03-10",
                             .channel = "call" };
  RecoupAccountStats st;
  gint64 paid = -1;

  recoup_book_pin_now (f->book, utc_ms ("2026-03-01T09:00:00Z"));
  g_free (pay (f, 10000, "2026-03-01"));
  recoup_book_pin_now (f->book, utc_ms ("2026-03-01T12:00:00Z"));
  id = recoup_promise_add (f->book, &spec, &error);
  g_assert_no_error (error);
  g_assert_cmpint (status_on (f, "2026-03-01", &paid), ==, RECOUP_PROMISE_PENDING);
  g_assert_cmpint (paid, ==, 0);
  g_assert_true (recoup_derived_gather (f->book, f->account, recoup_date_parse ("2026-03-01", NULL), &st, &error));
  g_assert_no_error (error);
  g_assert_cmpint (st.promises_kept, ==, 0);
  g_assert_cmpint (st.promise_due_day, ==, recoup_date_parse ("2026-03-10", NULL));

  recoup_book_pin_now (f->book, utc_ms ("2026-03-01T15:00:00Z"));
  g_free (pay (f, 4000, "2026-03-01"));
  g_assert_cmpint (status_on (f, "2026-03-01", &paid), ==, RECOUP_PROMISE_KEPT);
  g_assert_cmpint (paid, ==, 4000);
  g_assert_true (recoup_derived_gather (f->book, f->account, recoup_date_parse ("2026-03-01", NULL), &st, &error));
  g_assert_cmpint (st.promises_kept, ==, 1);
  recoup_book_pin_now (f->book, 0);

  /* Pure rule. */
  g_assert_true (recoup_promise_counts_payment (10, 500, 11, 100));
  g_assert_true (recoup_promise_counts_payment (10, 500, 10, 500));
  g_assert_false (recoup_promise_counts_payment (10, 500, 10, 499));
  g_assert_false (recoup_promise_counts_payment (10, 0, 9, 100));
  g_assert_true (recoup_promise_counts_payment (10, 0, 10, 1));
}

/* As of a day before a promise was made (made on 2026-02-01), the account had
 * no promise: a look back lists what was known then. */
static void
test_as_of_before_made_on (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autofree char *id = promise (f, 30000, "2026-02-10", 0);

  before = recoup_promise_list (f->book, f->account, "2026-01-31", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (before->len, ==, 0);
  g_assert_cmpint (status_on (f, "2026-02-01", NULL), ==, RECOUP_PROMISE_PENDING);
}

static void
test_reversal_reopens (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = promise (f, 30000, "2026-02-10", 3);
  g_autofree char *pid = pay (f, 30000, "2026-02-09");
  g_autofree char *rid = NULL;
  g_autofree char *rrid = NULL;

  g_assert_cmpint (status_on (f, "2026-03-01", NULL), ==, RECOUP_PROMISE_KEPT);

  /* The cheque bounces two weeks later: the promise is broken again. */
  rid = recoup_ledger_reverse (f->book, pid, "2026-02-25", "bounced", &error);
  g_assert_no_error (error);
  g_assert_cmpint (status_on (f, "2026-03-01", NULL), ==, RECOUP_PROMISE_BROKEN);
  /* As judged before the bounce, it was kept. */
  g_assert_cmpint (status_on (f, "2026-02-24", NULL), ==, RECOUP_PROMISE_KEPT);

  /* A reversal of a reversal is refused and changes nothing. */
  {
    gint64 before = recoup_book_count_changes (f->book);

    rrid = recoup_ledger_reverse (f->book, rid, NULL, NULL, &error);
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_assert_null (rrid);
    g_assert_cmpint (recoup_book_count_changes (f->book), ==, before);
  }
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  struct { gint64 amount; const char *due; const char *account; int grace; int code; } bad[] = {
    { 0, "2026-02-10", NULL, 0, RECOUP_BOOK_ERROR_INVALID },
    { -5, "2026-02-10", NULL, 0, RECOUP_BOOK_ERROR_INVALID },
    { 100, "2026-02-30", NULL, 0, RECOUP_BOOK_ERROR_INVALID },
    { 100, "soon", NULL, 0, RECOUP_BOOK_ERROR_INVALID },
    { 100, "2026-01-20", NULL, 0, RECOUP_BOOK_ERROR_INVALID },   /* before made_on */
    { 100, "2026-02-10", "nope", 0, RECOUP_BOOK_ERROR_NOT_FOUND },
    { 100, "2026-02-10", NULL, 61, RECOUP_BOOK_ERROR_INVALID },
    { 100001, "2026-02-10", NULL, 0, RECOUP_BOOK_ERROR_INVALID }, /* more than the 1,000.00 owed */
  };
  gint64 before = recoup_book_count_changes (f->book);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      RecoupPromiseSpec spec = { .account_id = bad[i].account ? bad[i].account : f->account,
                                 .amount = bad[i].amount, .due_date = bad[i].due,
                                 .grace_days = bad[i].grace, .made_on = "2026-02-01" };
      g_autofree char *id = recoup_promise_add (f->book, &spec, &error);

      g_assert_error (error, RECOUP_BOOK_ERROR, bad[i].code);
      g_assert_null (id);
      if (bad[i].amount == 100001)
        g_assert_cmpstr (error->message, ==, "a promise of USD 1,000.01 is more than the USD 1,000.00 owed on the account");
    }
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, before);
}

/* A promise falls due within a year of the day it is made: the last day is
 * allowed, the day after (or years ahead) is refused with the date to give
 * instead, and nothing is written. Longer terms are a payment plan. */
static void
test_horizon (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ok = NULL;
  gint64 before = recoup_book_count_changes (f->book);
  const char *too_far[] = { "2027-02-02", "2031-01-01" };

  for (guint i = 0; i < G_N_ELEMENTS (too_far); i++)
    {
      RecoupPromiseSpec spec = { .account_id = f->account, .amount = 100, .due_date = too_far[i],
                                 .grace_days = 0, .made_on = "2026-02-01" };
      g_autofree char *id = recoup_promise_add (f->book, &spec, &error);
      g_autofree char *expected = g_strdup_printf ("promise date %s is more than a year after the day it is "
                                                   "made (2026-02-01): give a date by 2027-02-01, or agree a "
                                                   "payment plan for longer terms", too_far[i]);

      g_assert_null (id);
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_assert_cmpstr (error->message, ==, expected);
      g_clear_error (&error);
    }
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, before);

  /* The check the log dialog asks as the user types (made today, 2026-03-01). */
  g_assert_false (recoup_promise_check_terms (100, "USD", 100000, "2031-01-01", "2026-03-01", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (recoup_promise_check_terms (100, "USD", 100000, "2027-03-01", "2026-03-01", &error));
  g_assert_no_error (error);

  {
    RecoupPromiseSpec spec = { .account_id = f->account, .amount = 100, .due_date = "2027-02-01",
                               .grace_days = 0, .made_on = "2026-02-01" };

    ok = recoup_promise_add (f->book, &spec, &error);
    g_assert_no_error (error);
    g_assert_nonnull (ok);
  }
}

static void
test_default_grace_setting (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *id1 = promise (f, 100, "2026-02-10", -1);
  g_autofree char *id2 = NULL;
  gint64 before;

  list = recoup_promise_list (f->book, f->account, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (((RecoupPromise *) list->pdata[0])->grace_days, ==, RECOUP_PROMISE_DEFAULT_GRACE_DAYS);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* A shared setting goes through the change log. */
  before = recoup_book_count_changes (f->book);
  g_assert_true (recoup_settings_set_shared (f->book, "promise.grace_days", "7", &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, before + 1);
  id2 = promise (f, 100, "2026-02-20", -1);
  list = recoup_promise_list (f->book, f->account, NULL, &error);
  g_assert_cmpint (((RecoupPromise *) list->pdata[1])->grace_days, ==, 7);
}

static void
test_list_due (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) due = NULL;
  g_autoptr(GPtrArray) broken = NULL;
  g_autoptr(GPtrArray) latest = NULL;
  g_autofree char *p1 = promise (f, 100, "2026-02-05", 0);
  g_autofree char *p2 = promise (f, 100, "2026-02-20", 0);
  g_autofree char *p3 = promise (f, 100, "2026-03-01", 0);

  due = recoup_promise_list_due (f->book, "2026-03-01", RECOUP_PROMISE_LIST_DUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (due->len, ==, 1);
  g_assert_cmpstr (((RecoupPromise *) due->pdata[0])->id, ==, p3);

  broken = recoup_promise_list_due (f->book, "2026-03-01", RECOUP_PROMISE_LIST_BROKEN, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (broken->len, ==, 2);
  g_assert_cmpint (((RecoupPromise *) broken->pdata[0])->status, ==, RECOUP_PROMISE_BROKEN);

  /* The latest promise (p3) supersedes the broken ones. */
  latest = recoup_promise_list_due (f->book, "2026-03-01",
                                    RECOUP_PROMISE_LIST_BROKEN | RECOUP_PROMISE_LIST_LATEST_ONLY, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (latest->len, ==, 0);
}

static void
test_disputes (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *d1 = NULL;
  g_autofree char *d2 = NULL;
  g_autofree char *entry = NULL;
  gint64 before, balance = 0;

  g_assert_false (recoup_dispute_account_has_open (f->book, f->account));

  before = recoup_book_count_changes (f->book);
  g_assert_null (recoup_dispute_open (f->book, f->account, NULL, "   ", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (recoup_dispute_open (f->book, "missing", NULL, "why", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (recoup_dispute_open (f->book, f->account, "not-an-invoice", "why", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, before);

  d1 = recoup_dispute_open (f->book, f->account, f->invoice, "goods never arrived", &error);
  g_assert_no_error (error);
  g_assert_true (recoup_dispute_account_has_open (f->book, f->account));

  /* Rejected with a write-off makes no sense. */
  {
    RecoupDisputeResolution res = { FALSE, RECOUP_DISPUTE_REMEDY_WRITE_OFF, 0, NULL };
    g_assert_false (recoup_dispute_resolve_full (f->book, d1, &res, NULL, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_clear_error (&error);
  }

  /* Every resolution says why; upheld with the balance left as it is, why
   * it is still owed. Nothing is written without it. */
  {
    RecoupDisputeResolution bare[] = {
      { FALSE, RECOUP_DISPUTE_REMEDY_NONE, 0, NULL },
      { TRUE, RECOUP_DISPUTE_REMEDY_NONE, 0, "  " },
      { TRUE, RECOUP_DISPUTE_REMEDY_WRITE_OFF, 0, NULL },
    };

    before = recoup_book_count_changes (f->book);
    for (guint i = 0; i < G_N_ELEMENTS (bare); i++)
      {
        g_assert_false (recoup_dispute_resolve_full (f->book, d1, &bare[i], NULL, &error));
        g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
        g_assert_nonnull (strstr (error->message, "needs a note"));
        g_clear_error (&error);
      }
    g_assert_cmpint (recoup_book_count_changes (f->book), ==, before);
    g_assert_true (recoup_dispute_account_has_open (f->book, f->account));
  }

  /* An adjustment beyond what is open on the invoice (USD 1,000.00) would
   * leave a credit nobody asked for. */
  {
    RecoupDisputeResolution res = { TRUE, RECOUP_DISPUTE_REMEDY_ADJUST, 100001, "overcharged" };

    g_assert_false (recoup_dispute_resolve_full (f->book, d1, &res, NULL, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "USD 1,000.01 is more than the USD 1,000.00 open on the disputed invoice"));
    g_clear_error (&error);
  }

  /* Upheld with an adjustment of 250.00. */
  {
    RecoupDisputeResolution res = { TRUE, RECOUP_DISPUTE_REMEDY_ADJUST, 25000, "half the order was damaged" };
    gboolean ok = recoup_dispute_resolve_full (f->book, d1, &res, &entry, &error);
    g_assert_no_error (error);
    g_assert_true (ok);
    g_assert_nonnull (entry);
  }
  g_assert_false (recoup_dispute_account_has_open (f->book, f->account));
  g_assert_true (recoup_ledger_balance (f->book, f->account, NULL, &balance, &error));
  g_assert_cmpint (balance, ==, 75000);

  /* Resolving twice is refused. */
  g_assert_false (recoup_dispute_resolve (f->book, d1, FALSE, "again", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_clear_error (&error);

  /* An invoice dispute upheld with a write-off clears what is open on the
   * invoice (here all of the balance that is left). */
  d2 = recoup_dispute_open (f->book, f->account, f->invoice, "never ordered", &error);
  g_assert_no_error (error);
  {
    RecoupDisputeResolution res = { TRUE, RECOUP_DISPUTE_REMEDY_WRITE_OFF, 0, "no order on file" };
    g_autofree char *wo = NULL;
    gboolean ok = recoup_dispute_resolve_full (f->book, d2, &res, &wo, &error);
    g_autoptr(RecoupDispute) d = NULL;

    g_assert_no_error (error);
    g_assert_true (ok);
    d = recoup_dispute_load (f->book, d2, &error);
    g_assert_cmpstr (d->status, ==, "upheld");
    g_assert_cmpstr (d->resolution, ==, "no order on file");
  }
  g_assert_true (recoup_ledger_balance (f->book, f->account, NULL, &balance, &error));
  g_assert_cmpint (balance, ==, 0);
}

/* Made after today, taken on a channel nobody takes promises on, or with a
 * negative grace other than the book's default: each is refused with what to
 * give instead, and nothing is written. Today (2026-03-01) and every contact
 * channel but the system's are taken. */
static void
test_bad_made_on_channel_grace (Fixture       *f,
                                gconstpointer  data)
{
  struct { const char *made_on; const char *channel; int grace; const char *message; } bad[] = {
    { "2026-03-02", "call", 0,
      "a promise cannot be made on 2026-03-02, after today (2026-03-01): give the day it was taken" },
    { "2026-03-01", "pigeon", 0,
      "“pigeon” is not a way a promise is taken (call, visit, email, sms, letter, note)" },
    { "2026-03-01", "system", 0,
      "“system” is not a way a promise is taken (call, visit, email, sms, letter, note)" },
    { "2026-03-01", "call", -7,
      "promise grace of -7 days: give zero or more days, or leave it out for the book's default" },
  };
  const char *good[] = { "call", "visit", "email", "sms", "letter", "note" };
  gint64 before = recoup_book_count_changes (f->book);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      RecoupPromiseSpec spec = { .account_id = f->account, .amount = 100, .due_date = "2026-03-10",
                                 .channel = bad[i].channel, .grace_days = bad[i].grace,
                                 .made_on = bad[i].made_on };
      g_autofree char *id = recoup_promise_add (f->book, &spec, &error);

      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_assert_cmpstr (error->message, ==, bad[i].message);
      g_assert_null (id);
      g_clear_error (&error);
    }
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, before);

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      RecoupPromiseSpec spec = { .account_id = f->account, .amount = 100, .due_date = "2026-03-10",
                                 .channel = good[i], .grace_days = RECOUP_PROMISE_GRACE_BOOK_DEFAULT };
      g_autofree char *id = recoup_promise_add (f->book, &spec, &error);

      g_assert_no_error (error);
      g_assert_nonnull (id);
    }
}

/* A promise comes of a contact in which the debtor agreed: taken in a call
 * logged as a wrong number (or no answer, a refusal, a dispute) it is refused
 * with the outcomes that can carry one, and nothing is written. */
static void
test_promise_outcome (Fixture       *f,
                      gconstpointer  data)
{
  static const char * const no[] = { "wrong-number", "no-answer", "voicemail", "refused", "dispute",
                                     "callback-requested", NULL };
  static const char * const yes[] = { "promise", "right-party", NULL };
  g_autoptr(GError) error = NULL;
  RecoupPromiseSpec ps = { .account_id = f->account, .amount = 5000, .due_date = "2026-03-08",
                           .channel = "call", .grace_days = 0 };

  for (guint i = 0; no[i] != NULL; i++)
    {
      RecoupActivitySpec call = { .account_id = f->account, .channel = "call", .outcome = no[i] };
      g_autofree char *activity = recoup_activity_log (f->book, &call, &error);
      g_autofree char *expected = g_strdup_printf ("a promise to pay cannot come of a contact with outcome %s: "
                                                   "only one in which the debtor agreed can carry a promise "
                                                   "(outcome promise or right-party)", no[i]);
      g_autoptr(GPtrArray) promises = NULL;

      g_assert_no_error (error);
      g_assert_false (recoup_activity_outcome_takes_promise (no[i]));
      ps.activity_id = activity;
      g_assert_null (recoup_promise_add (f->book, &ps, &error));
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, expected));
      g_clear_error (&error);
      promises = recoup_promise_list (f->book, f->account, NULL, &error);
      g_assert_cmpuint (promises->len, ==, 0);
    }
  for (guint i = 0; yes[i] != NULL; i++)
    {
      RecoupActivitySpec call = { .account_id = f->account, .channel = "call", .outcome = yes[i] };
      g_autofree char *activity = recoup_activity_log (f->book, &call, &error);
      g_autofree char *promise = NULL;

      g_assert_true (recoup_activity_outcome_takes_promise (yes[i]));
      ps.activity_id = activity;
      promise = recoup_promise_add (f->book, &ps, &error);
      g_assert_no_error (error);
      g_assert_nonnull (promise);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add ("/recoup/core/promises/" path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("boundaries", test_boundaries);
  ADD ("payment-earlier-that-day", test_payment_earlier_that_day);
  ADD ("before-made-on", test_payment_before_made_on);
  ADD ("as-of-before-made-on", test_as_of_before_made_on);
  ADD ("reversal-reopens", test_reversal_reopens);
  ADD ("bad-input", test_bad_input);
  ADD ("horizon", test_horizon);
  ADD ("bad-made-on-channel-grace", test_bad_made_on_channel_grace);
  ADD ("default-grace", test_default_grace_setting);
  ADD ("list-due", test_list_due);
  ADD ("disputes", test_disputes);
  ADD ("promise-outcome", test_promise_outcome);
#undef ADD

  return g_test_run ();
}
