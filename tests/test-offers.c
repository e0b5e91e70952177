/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "recoup-book-private.h"
#include "recoup-core.h"

typedef struct
{
  char       *dir;
  RecoupBook *book;
  char       *owner;
  char       *account;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  const char *currency = data ? data : "USD";
  RecoupAccountSpec account = { .ref = "A-1", .name = "Ada", .currency = currency };
  RecoupInvoiceSpec invoice = { .ref = "INV-1", .issue_date = "2026-01-01", .due_date = "2026-01-31",
                                .amount = 100000, .currency = currency };

  g_setenv ("RECOUP_TODAY", "2026-03-01", TRUE);
  f->dir = g_dir_make_tmp ("recoup-test-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (f->dir, "book.recoup", NULL);
  f->book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  f->owner = g_strdup (recoup_book_get_user_id (f->book));
  f->account = recoup_account_create (f->book, &account, &error);
  g_assert_no_error (error);
  invoice.account_id = f->account;
  g_free (recoup_invoice_add (f->book, &invoice, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) d = NULL;
  const char *name;

  g_clear_object (&f->book);
  d = g_dir_open (f->dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_remove (p);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->owner);
  g_free (f->account);
}

static char *
pay (Fixture    *f,
     gint64      amount,
     const char *date)
{
  g_autoptr(GError) error = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = f->account, .amount = amount,
                           .effective_date = date, .method = "cash" };
  g_autofree char *today = g_strdup (g_getenv ("RECOUP_TODAY"));
  char *id;

  /* A payment is recorded on or after the day it is received: move the
   * book's today forward to it for the write, then back. */
  if (date != NULL && today != NULL && strcmp (date, today) > 0)
    g_setenv ("RECOUP_TODAY", date, TRUE);
  id = recoup_ledger_record (f->book, &spec, &error);
  if (today != NULL)
    g_setenv ("RECOUP_TODAY", today, TRUE);
  g_assert_no_error (error);
  return id;
}

static gint64
balance (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  gint64 b = 0;

  g_assert_true (recoup_ledger_balance (f->book, f->account, NULL, &b, &error));
  g_assert_no_error (error);
  return b;
}

static void
transition_ok (Fixture          *f,
               const char       *id,
               RecoupOfferEvent  event)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (recoup_offer_transition (f->book, id, event, NULL, &error));
  g_assert_no_error (error);
}

static RecoupOffer *
load (Fixture    *f,
      const char *id)
{
  g_autoptr(GError) error = NULL;
  RecoupOffer *o = recoup_offer_load (f->book, id, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (o);
  return o;
}

static guint
reconcile (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  guint written = 0;

  g_assert_true (recoup_offer_reconcile_account (f->book, f->account, &written, &error));
  g_assert_no_error (error);
  return written;
}

static gint64
count_rows (Fixture    *f,
            const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (f->book), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

/* ---- splits ----------------------------------------------------------------------- */

static void
assert_split (gint64 total,
              guint  n)
{
  g_autofree gint64 *parts = g_new0 (gint64, n);
  gint64 sum = 0;

  recoup_money_split (total, n, parts);
  for (guint i = 0; i < n; i++)
    {
      sum += parts[i];
      if (i + 1 < n)
        g_assert_cmpint (parts[i], ==, parts[0]);
    }
  g_assert_cmpint (sum, ==, total);
  /* The remainder lands on the last installment and is less than n. */
  g_assert_cmpint (parts[n - 1] - parts[0], >=, 0);
  g_assert_cmpint (parts[n - 1] - parts[0], <, (gint64) n);
}

static void
test_split (void)
{
  gint64 parts[3];
  g_autoptr(GArray) sched = NULL;

  recoup_money_split (1, 3, parts);
  g_assert_cmpint (parts[0], ==, 0);
  g_assert_cmpint (parts[1], ==, 0);
  g_assert_cmpint (parts[2], ==, 1);

  assert_split (1, 3);
  assert_split (1000, 3);          /* JPY 1,000 */
  assert_split (1000, 7);          /* BHD 1.000 (three digits) */
  assert_split (G_MAXINT64 / 2, 12);
  for (guint i = 0; i < 2000; i++)
    assert_split (g_test_rand_int_range (1, G_MAXINT32), (guint) g_test_rand_int_range (1, 121));

  /* A monthly schedule from Jan 31 clamps to month ends; the last takes the remainder. */
  sched = recoup_offer_build_schedule (RECOUP_OFFER_PLAN, 100, 3, RECOUP_FREQUENCY_MONTHLY,
                                       recoup_date_parse ("2026-01-31", NULL),
                                       RECOUP_DATE_INVALID, RECOUP_DATE_INVALID);
  g_assert_cmpuint (sched->len, ==, 3);
  g_assert_cmpint (g_array_index (sched, RecoupInstallment, 0).amount, ==, 33);
  g_assert_cmpint (g_array_index (sched, RecoupInstallment, 2).amount, ==, 34);
  g_assert_cmpint (g_array_index (sched, RecoupInstallment, 1).due_day, ==, recoup_date_parse ("2026-02-28", NULL));
  g_assert_cmpint (g_array_index (sched, RecoupInstallment, 2).due_day, ==, recoup_date_parse ("2026-03-31", NULL));
}

/* A plan in a currency's own minor units sums exactly to its total. */
static void
test_plan_split_currency (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupOffer) o = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .amount = 99999,
                           .installments = 7, .frequency = RECOUP_FREQUENCY_FORTNIGHTLY,
                           .first_date = "2026-03-05" };
  g_autofree char *id = recoup_offer_create (f->book, &spec, &error);
  gint64 sum = 0;

  g_assert_no_error (error);
  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  o = load (f, id);
  g_assert_cmpstr (o->currency, ==, data);
  g_assert_cmpuint (o->schedule->len, ==, 7);
  for (guint i = 0; i < o->schedule->len; i++)
    sum += g_array_index (o->schedule, RecoupInstallment, i).amount;
  g_assert_cmpint (sum, ==, 99999);
  g_assert_cmpint (g_array_index (o->schedule, RecoupInstallment, 6).amount, ==, 99999 - 6 * (99999 / 7));
  g_assert_cmpint (g_array_index (o->schedule, RecoupInstallment, 1).due_day, ==,
                   recoup_date_parse ("2026-03-19", NULL));
  g_assert_cmpint (count_rows (f, "SELECT sum(amount) FROM installments"), ==, 99999);
}

/* ---- the state machine: property tests --------------------------------------------- */

/* The machine written out independently of the code under test. */
static RecoupOfferState
model_step (RecoupOfferState state,
            gboolean         needs_approval,
            gboolean        *approved,
            gint32           expires,
            RecoupOfferEvent ev,
            gint32           day,
            gint32          *accepted_day,
            gboolean        *applied)
{
  gboolean pre = state == RECOUP_OFFER_STATE_DRAFT || state == RECOUP_OFFER_STATE_OFFERED;

  *applied = TRUE;
  if (ev == RECOUP_OFFER_EVENT_CREATE && state == RECOUP_OFFER_STATE_NONE)
    return RECOUP_OFFER_STATE_DRAFT;
  if (pre && expires != RECOUP_DATE_INVALID && day > expires)
    goto no;
  if (ev == RECOUP_OFFER_EVENT_APPROVE && state == RECOUP_OFFER_STATE_DRAFT && needs_approval && !*approved)
    {
      *approved = TRUE;
      return state;
    }
  if (ev == RECOUP_OFFER_EVENT_SEND && state == RECOUP_OFFER_STATE_DRAFT && (!needs_approval || *approved))
    return RECOUP_OFFER_STATE_OFFERED;
  if (ev == RECOUP_OFFER_EVENT_ACCEPT && state == RECOUP_OFFER_STATE_OFFERED)
    {
      *accepted_day = day;
      return RECOUP_OFFER_STATE_ACCEPTED;
    }
  if (ev == RECOUP_OFFER_EVENT_REJECT && state == RECOUP_OFFER_STATE_OFFERED)
    return RECOUP_OFFER_STATE_REJECTED;
  if (ev == RECOUP_OFFER_EVENT_WITHDRAW && pre)
    return RECOUP_OFFER_STATE_WITHDRAWN;
no:
  *applied = FALSE;
  return state;
}

static int
cmp_records (gconstpointer a,
             gconstpointer b)
{
  const RecoupOfferEventRecord *x = a, *y = b;

  if (x->hlc != y->hlc)
    return x->hlc < y->hlc ? -1 : 1;
  if (strcmp (x->device_id, y->device_id) != 0)
    return strcmp (x->device_id, y->device_id);
  return strcmp (x->id, y->id);
}

static void
test_replay_property (void)
{
  static const char * const devices[] = { "dev-a", "dev-b", "dev-c" };
  static char ids[32][8];

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    g_snprintf (ids[i], sizeof ids[i], "e%02u", i);

  for (guint run = 0; run < 5000; run++)
    {
      RecoupOfferEventRecord ev[32];
      RecoupOfferEventRecord shuffled[32];
      guint n = (guint) g_test_rand_int_range (0, 16);
      gboolean needs_approval = g_test_rand_bit ();
      gint32 expires = g_test_rand_bit () ? 20 + g_test_rand_int_range (0, 10) : RECOUP_DATE_INVALID;
      gint32 as_of = 15 + g_test_rand_int_range (0, 25);
      RecoupOfferReplay r1, r2;
      RecoupOfferState model = RECOUP_OFFER_STATE_NONE;
      gboolean approved = FALSE;
      gint32 accepted_day = RECOUP_DATE_INVALID;
      guint conflicts = 0;

      for (guint i = 0; i < n; i++)
        {
          ev[i].id = ids[i];
          /* mostly sensible, sometimes arbitrary events, with clashing clocks */
          ev[i].event = (RecoupOfferEvent) g_test_rand_int_range (0, RECOUP_OFFER_EVENT_WITHDRAW + 1);
          ev[i].hlc = RECOUP_HLC_MAKE (1000 + g_test_rand_int_range (0, 8), g_test_rand_int_range (0, 2));
          ev[i].device_id = devices[g_test_rand_int_range (0, 3)];
          ev[i].day = 10 + g_test_rand_int_range (0, 25);
        }
      if (n > 0 && g_test_rand_bit ())
        {
          ev[0].event = RECOUP_OFFER_EVENT_CREATE;
          ev[0].hlc = RECOUP_HLC_MAKE (999, 0);
        }

      recoup_offer_state_replay (ev, n, needs_approval, expires, as_of, &r1);

      /* Order independence: any delivery order gives the same result. */
      memcpy (shuffled, ev, sizeof ev[0] * n);
      for (guint i = n; i > 1; i--)
        {
          guint j = (guint) g_test_rand_int_range (0, (gint32) i);
          RecoupOfferEventRecord t = shuffled[i - 1];
          shuffled[i - 1] = shuffled[j];
          shuffled[j] = t;
        }
      recoup_offer_state_replay (shuffled, n, needs_approval, expires, as_of, &r2);
      g_assert_cmpint (r1.state, ==, r2.state);
      g_assert_cmpint (r1.approved, ==, r2.approved);
      g_assert_cmpint (r1.accepted_day, ==, r2.accepted_day);
      g_assert_cmpuint (r1.n_conflicts, ==, r2.n_conflicts);
      g_assert_cmpuint (r1.n_applied + r1.n_conflicts, ==, n);

      /* Same as the independent model replayed in (hlc, device, id) order. */
      qsort (shuffled, n, sizeof shuffled[0], cmp_records);
      for (guint i = 0; i < n; i++)
        {
          gboolean applied;

          model = model_step (model, needs_approval, &approved, expires, shuffled[i].event,
                              shuffled[i].day, &accepted_day, &applied);
          conflicts += !applied;
        }
      if ((model == RECOUP_OFFER_STATE_DRAFT || model == RECOUP_OFFER_STATE_OFFERED) &&
          expires != RECOUP_DATE_INVALID && as_of > expires)
        model = RECOUP_OFFER_STATE_EXPIRED;
      g_assert_cmpint (r1.state, ==, model);
      g_assert_cmpuint (r1.n_conflicts, ==, conflicts);

      /* Never an invalid state. */
      g_assert_cmpint (r1.state, !=, RECOUP_OFFER_STATE_ACTIVE);     /* only the ledger makes these */
      g_assert_cmpint (r1.state, !=, RECOUP_OFFER_STATE_COMPLETED);
      g_assert_cmpint (r1.state, !=, RECOUP_OFFER_STATE_DEFAULTED);
      if (needs_approval && (r1.state == RECOUP_OFFER_STATE_OFFERED || r1.state == RECOUP_OFFER_STATE_ACCEPTED ||
                             r1.state == RECOUP_OFFER_STATE_REJECTED))
        g_assert_true (r1.approved);
      if (!needs_approval)
        g_assert_false (r1.approved);
      if (r1.state == RECOUP_OFFER_STATE_ACCEPTED)
        {
          g_assert_cmpint (r1.accepted_day, !=, RECOUP_DATE_INVALID);
          if (expires != RECOUP_DATE_INVALID)
            g_assert_cmpint (r1.accepted_day, <=, expires);
        }
      else
        g_assert_cmpint (r1.accepted_day, ==, RECOUP_DATE_INVALID);
      if (r1.state == RECOUP_OFFER_STATE_NONE)
        for (guint i = 0; i < n; i++)
          g_assert_cmpint (ev[i].event, !=, RECOUP_OFFER_EVENT_CREATE);
    }
}

/* Random transitions through the real API never reach an invalid state, and a
 * refused one changes nothing and names the current state. */
static void
test_random_transitions (Fixture       *f,
                         gconstpointer  data)
{
  for (guint run = 0; run < 30; run++)
    {
      g_autoptr(GError) error = NULL;
      gboolean beyond = g_test_rand_bit ();
      g_autofree char *ref = g_strdup_printf ("R-%u", run);
      g_autofree char *inv = g_strdup_printf ("INV-R-%u", run);
      RecoupAccountSpec aspec = { .ref = ref, .name = "Random", .currency = "USD" };
      g_autofree char *account = recoup_account_create (f->book, &aspec, &error);
      RecoupInvoiceSpec ispec = { .account_id = account, .ref = inv, .issue_date = "2026-01-01",
                                  .due_date = "2026-01-31", .amount = 5000, .currency = "USD" };
      RecoupOfferSpec spec = { .account_id = account, .kind = RECOUP_OFFER_SETTLEMENT,
                               .discount_bp = beyond ? 3000 : 500, .pay_by = "2026-03-20" };
      g_autofree char *collector = g_strdup_printf ("collector-%u", run);
      g_autofree char *cid = recoup_user_add (f->book, collector, "collector", 1000, 6, FALSE, &error);
      g_autofree char *id = NULL;

      g_assert_no_error (error);
      g_free (recoup_invoice_add (f->book, &ispec, &error));
      g_assert_no_error (error);
      g_assert_true (recoup_book_set_user (f->book, cid, &error));
      id = recoup_offer_create (f->book, &spec, &error);
      g_assert_no_error (error);

      for (guint step = 0; step < 8; step++)
        {
          g_autoptr(RecoupOffer) before = load (f, id);
          g_autoptr(RecoupOffer) after = NULL;
          RecoupOfferEvent ev = (RecoupOfferEvent) g_test_rand_int_range (RECOUP_OFFER_EVENT_APPROVE,
                                                                           RECOUP_OFFER_EVENT_WITHDRAW + 1);
          gint64 changes = recoup_book_count_changes (f->book);
          gboolean as_owner = g_test_rand_bit ();
          gboolean ok;

          g_assert_true (recoup_book_set_user (f->book, as_owner ? f->owner : cid, NULL));
          ok = recoup_offer_transition (f->book, id, ev, NULL, &error);
          after = load (f, id);
          if (!ok)
            {
              g_assert_nonnull (error);
              g_assert_cmpint (recoup_book_count_changes (f->book), ==, changes);
              g_assert_cmpint (after->state, ==, before->state);
              if (error->code == RECOUP_BOOK_ERROR_CONFLICT)
                g_assert_nonnull (strstr (error->message, recoup_offer_state_to_string (before->state)));
              g_clear_error (&error);
            }
          else
            {
              g_assert_cmpint (recoup_book_count_changes (f->book), >, changes);
              g_assert_false (ev == RECOUP_OFFER_EVENT_APPROVE && !as_owner);
            }
          g_assert_true (after->state >= RECOUP_OFFER_STATE_DRAFT);
          if (after->needs_approval && after->state != RECOUP_OFFER_STATE_DRAFT &&
              after->state != RECOUP_OFFER_STATE_WITHDRAWN)
            g_assert_true (after->approved);
        }
      g_assert_true (recoup_book_set_user (f->book, f->owner, NULL));
      /* A schedule exists exactly for an accepted offer. */
      g_assert_cmpint (count_rows (f, "SELECT count(*) FROM installments i WHERE NOT EXISTS"
                                      " (SELECT 1 FROM offer_events e WHERE e.offer_id = i.offer_id"
                                      " AND e.event = 'accept')"), ==, 0);
    }
}

/* A discount typed at a user's exact limit is within it: the discount is
 * rounded down to the minor unit, so its effective rate never exceeds the one
 * typed (15 % off 8,599.66 came to 15.01 % and went for approval). */
static void
test_discount_at_limit (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupAccountSpec aspec = { .ref = "A-2", .name = "Bo", .currency = "PLN" };
  g_autofree char *account = NULL;
  g_autofree char *cid = NULL;
  g_autofree char *id = NULL;
  g_autoptr(RecoupOffer) o = NULL;

  for (gint64 base = 1; base < 20000; base += 7)
    for (gint64 bp = 1; bp <= 10000; bp += 499)
      {
        gint64 total = recoup_offer_total_for_discount (base, bp);

        g_assert_cmpint (total, <=, base);
        g_assert_cmpint (recoup_offer_effective_bp (base, total), <=, bp);
        /* and the debtor is never given less than one unit short of the rate */
        g_assert_cmpint ((base - total) * 10000, >, base * bp - 10000);
      }
  g_assert_cmpint (recoup_offer_total_for_discount (859966, 1500), ==, 730972);
  g_assert_cmpint (recoup_offer_effective_bp (859966, 730972), ==, 1500);

  account = recoup_account_create (f->book, &aspec, &error);
  g_assert_no_error (error);
  {
    RecoupInvoiceSpec ispec = { .account_id = account, .ref = "INV-2", .issue_date = "2026-01-01",
                                .due_date = "2026-01-31", .amount = 859966, .currency = "PLN" };

    g_free (recoup_invoice_add (f->book, &ispec, &error));
    g_assert_no_error (error);
  }
  cid = recoup_user_add (f->book, "Shirley", "collector", 1500, 6, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_book_set_user (f->book, cid, &error));
  {
    RecoupOfferSpec spec = { .account_id = account, .kind = RECOUP_OFFER_SETTLEMENT,
                             .discount_bp = 1500, .pay_by = "2026-03-20" };

    id = recoup_offer_create (f->book, &spec, &error);
    g_assert_no_error (error);
  }
  o = load (f, id);
  g_assert_cmpint (o->total, ==, 730972);
  g_assert_cmpint (o->effective_bp, ==, 1500);
  g_assert_false (o->needs_approval);
}

/* Owners approve offers, so one an owner makes never waits for an owner,
 * even beyond the limits on the owner's own row. */
static void
test_owner_needs_no_approval (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .installments = 24,
                           .discount_bp = 3000, .frequency = RECOUP_FREQUENCY_WEEKLY,
                           .first_date = "2026-03-05" };
  g_autofree char *id = NULL;
  g_autoptr(RecoupOffer) o = NULL;
  gint32 today = recoup_date_parse ("2026-03-01", NULL);

  g_assert_true (recoup_user_set_limits (f->book, f->owner, 1000, 12, &error));
  g_assert_no_error (error);
  id = recoup_offer_create (f->book, &spec, &error);
  g_assert_no_error (error);
  o = load (f, id);
  g_assert_false (o->needs_approval);
  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);

  /* Why: the first limit the offer goes beyond, plan length before discount. */
  g_assert_cmpint (recoup_offer_spec_authority ("owner", &spec, 3000, 1000, 12, today), ==,
                   RECOUP_OFFER_WITHIN_AUTHORITY);
  g_assert_cmpint (recoup_offer_spec_authority ("collector", &spec, 3000, 1000, 12, today), ==,
                   RECOUP_OFFER_BEYOND_INSTALLMENTS);
  g_assert_cmpint (recoup_offer_spec_authority ("collector", &spec, 500, 1000, 12, today), ==,
                   RECOUP_OFFER_BEYOND_INSTALLMENTS);
  spec.installments = 12;
  g_assert_cmpint (recoup_offer_spec_authority ("collector", &spec, 3000, 1000, 12, today), ==,
                   RECOUP_OFFER_BEYOND_DISCOUNT);
  g_assert_cmpint (recoup_offer_spec_authority ("collector", &spec, 1000, 1000, 12, today), ==,
                   RECOUP_OFFER_WITHIN_AUTHORITY);
}

/* ---- settlement, plans, reversals ----------------------------------------------- */

static void
test_settlement_discount (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .amount = 80000,
                           .pay_by = "2026-03-15" };
  g_autofree char *id = recoup_offer_create (f->book, &spec, &error);
  g_autofree char *pid = NULL;
  g_autofree char *rid = NULL;
  g_autoptr(RecoupOffer) o = NULL;

  g_assert_no_error (error);
  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_DRAFT);
  g_assert_cmpint (o->total, ==, 80000);
  g_assert_cmpint (o->forgiven, ==, 20000);
  g_assert_cmpint (o->discount_bp, ==, 2000);
  g_assert_false (o->needs_approval);   /* the owner may give up to 100 % */
  g_clear_pointer (&o, recoup_offer_free);

  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACCEPTED);
  g_assert_cmpstr (o->accepted_on, ==, "2026-03-01");
  g_clear_pointer (&o, recoup_offer_free);
  g_assert_cmpuint (reconcile (f), ==, 0);

  g_setenv ("RECOUP_TODAY", "2026-03-10", TRUE);
  pid = pay (f, 80000, "2026-03-10");
  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  g_assert_cmpstr (o->completed_on, ==, "2026-03-10");
  g_clear_pointer (&o, recoup_offer_free);

  /* The payment's own transaction wrote exactly one discount entry: the
   * balance is zero at once, and reconciling again writes nothing. */
  g_assert_cmpuint (reconcile (f), ==, 0);
  g_assert_cmpuint (reconcile (f), ==, 0);
  g_assert_cmpint (count_rows (f, "SELECT count(*) FROM ledger_entries WHERE kind = 'discount'"), ==, 1);
  g_assert_cmpint (count_rows (f, "SELECT -amount FROM ledger_entries WHERE kind = 'discount'"), ==, 20000);
  g_assert_cmpint (balance (f), ==, 0);

  /* The cheque bounces: the settlement is open again and the discount undone. */
  g_setenv ("RECOUP_TODAY", "2026-03-12", TRUE);
  rid = recoup_ledger_reverse (f->book, pid, NULL, "bounced", &error);
  g_assert_no_error (error);
  o = load (f, id);
  /* nothing counts and pay-by (03-15) is still ahead: back to accepted */
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACCEPTED);
  g_assert_cmpint (o->paid, ==, 0);
  g_clear_pointer (&o, recoup_offer_free);
  /* The reversal's transaction already reversed the discount. */
  g_assert_cmpint (balance (f), ==, 100000);
  g_assert_cmpuint (reconcile (f), ==, 0);

  /* Paid again in time: completed again, one live discount. */
  g_setenv ("RECOUP_TODAY", "2026-03-14", TRUE);
  g_free (pay (f, 80000, "2026-03-14"));
  g_assert_cmpint (balance (f), ==, 0);
  g_assert_cmpuint (reconcile (f), ==, 0);
  g_assert_cmpint (count_rows (f, "SELECT count(*) FROM ledger_entries d WHERE kind = 'discount' AND NOT EXISTS"
                                  " (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = d.id)"), ==, 1);

  /* Past pay-by + grace without payment it would have defaulted (judged on a later day). */
  {
    g_autoptr(RecoupOffer) later = recoup_offer_load (f->book, id, "2026-04-30", &error);
    g_assert_no_error (error);
    g_assert_cmpint (later->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  }
}

static void
test_plan_runs (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  /* 1,000.00 as 4 monthly installments of 250.00 from 2026-03-05. */
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .installments = 4,
                           .frequency = RECOUP_FREQUENCY_MONTHLY, .first_date = "2026-03-05" };
  g_autofree char *id = recoup_offer_create (f->book, &spec, &error);
  g_autofree char *last = NULL;
  g_autofree char *dispute = NULL;
  RecoupOffer *o;

  g_assert_no_error (error);
  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  g_assert_cmpint (count_rows (f, "SELECT count(*) FROM installments"), ==, 4);

  g_free (pay (f, 25000, "2026-03-05"));
  o = recoup_offer_load (f->book, id, "2026-03-06", &error);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACTIVE);
  g_assert_cmpint (g_array_index (o->schedule, RecoupInstallment, 0).status, ==, RECOUP_INSTALLMENT_PAID);
  g_assert_cmpint (g_array_index (o->schedule, RecoupInstallment, 1).status, ==, RECOUP_INSTALLMENT_UPCOMING);
  recoup_offer_free (o);

  /* April's is missed after due (04-05) + grace 3: at risk on 04-09, not on 04-08. */
  o = recoup_offer_load (f->book, id, "2026-04-08", &error);
  g_assert_false (o->at_risk);
  g_assert_cmpint (g_array_index (o->schedule, RecoupInstallment, 1).status, ==, RECOUP_INSTALLMENT_LATE);
  recoup_offer_free (o);
  o = recoup_offer_load (f->book, id, "2026-04-09", &error);
  g_assert_true (o->at_risk);
  g_assert_cmpuint (o->n_missed, ==, 1);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACTIVE);
  recoup_offer_free (o);

  /* May's missed too: two missed defaults the plan on 05-09. */
  o = recoup_offer_load (f->book, id, "2026-05-08", &error);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACTIVE);
  recoup_offer_free (o);
  o = recoup_offer_load (f->book, id, "2026-05-09", &error);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_DEFAULTED);
  g_assert_cmpstr (o->defaulted_on, ==, "2026-05-09");
  recoup_offer_free (o);

  /* An open dispute pauses defaulting. */
  dispute = recoup_dispute_open (f->book, f->account, NULL, "amount wrong", &error);
  g_assert_no_error (error);
  o = recoup_offer_load (f->book, id, "2026-05-09", &error);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACTIVE);
  g_assert_true (o->paused);
  g_assert_true (o->at_risk);
  recoup_offer_free (o);
  g_assert_true (recoup_dispute_resolve (f->book, dispute, FALSE, "amount is right", &error));
  g_assert_no_error (error);

  /* Caught up on 04-20: April is covered in time for May's check; then paid in full. */
  g_free (pay (f, 25000, "2026-04-20"));
  o = recoup_offer_load (f->book, id, "2026-05-09", &error);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACTIVE);
  g_assert_cmpuint (o->n_missed, ==, 1);
  recoup_offer_free (o);
  g_free (pay (f, 25000, "2026-05-08"));
  last = pay (f, 25000, "2026-06-01");
  o = recoup_offer_load (f->book, id, "2026-06-02", &error);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  g_assert_cmpstr (o->completed_on, ==, "2026-06-01");
  g_assert_cmpint (o->paid, ==, 100000);
  recoup_offer_free (o);

  /* A bounced last payment reopens the completed plan. */
  g_setenv ("RECOUP_TODAY", "2026-06-03", TRUE);
  g_free (recoup_ledger_reverse (f->book, last, "2026-06-03", "bounced", &error));
  g_assert_no_error (error);
  o = recoup_offer_load (f->book, id, NULL, &error);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACTIVE);
  g_assert_cmpint (o->paid, ==, 75000);
  g_assert_cmpint (g_array_index (o->schedule, RecoupInstallment, 3).status, ==, RECOUP_INSTALLMENT_UPCOMING);
  recoup_offer_free (o);

  /* A plan without a discount never writes one. */
  g_assert_cmpuint (reconcile (f), ==, 0);

  /* The account's current plan is this one. */
  o = recoup_offer_current_plan (f->book, f->account, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (o->id, ==, id);
  recoup_offer_free (o);
}

static void
test_plan_on_discounted_total_with_waiver (Fixture       *f,
                                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupEntrySpec fee = { .kind = RECOUP_ENTRY_FEE, .account_id = f->account, .amount = 5000,
                          .effective_date = "2026-02-15" };
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .discount_bp = 1000,
                           .installments = 3, .frequency = RECOUP_FREQUENCY_WEEKLY,
                           .first_date = "2026-03-02", .waive_fees = TRUE };
  g_autofree char *id = NULL;
  g_autoptr(RecoupOffer) o = NULL;

  g_free (recoup_ledger_record (f->book, &fee, &error));
  g_assert_no_error (error);
  g_assert_cmpint (balance (f), ==, 105000);
  id = recoup_offer_create (f->book, &spec, &error);
  g_assert_no_error (error);
  o = load (f, id);
  g_assert_cmpint (o->waived_amount, ==, 5000);
  g_assert_cmpint (o->total, ==, 90000);        /* 1,000.00 less 10 % */
  g_assert_cmpint (o->forgiven, ==, 10000);
  g_clear_pointer (&o, recoup_offer_free);

  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  g_assert_cmpint (balance (f), ==, 100000);   /* the fee waived on acceptance */
  g_free (pay (f, 30000, "2026-03-02"));
  g_free (pay (f, 30000, "2026-03-09"));
  g_free (pay (f, 30000, "2026-03-16"));
  g_setenv ("RECOUP_TODAY", "2026-03-16", TRUE);
  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  /* The last installment, paid on its day, completed the plan and wrote off
   * the forgiven part then: the reconciliation finds nothing left to do. */
  g_assert_cmpuint (reconcile (f), ==, 0);
  g_assert_cmpint (balance (f), ==, 0);
}

static void
test_authority (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *collector = recoup_user_add (f->book, "Carl", "collector", 1000, 6, FALSE, &error);
  RecoupOfferSpec within = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 1000,
                             .pay_by = "2026-03-20" };
  RecoupOfferSpec deep = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 1001,
                           .pay_by = "2026-03-20" };
  RecoupOfferSpec longplan = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .installments = 7,
                               .frequency = RECOUP_FREQUENCY_MONTHLY, .first_date = "2026-03-10" };
  g_autofree char *a = NULL, *b = NULL, *c = NULL;
  g_autoptr(GPtrArray) queue = NULL;
  RecoupOffer *o;
  gint64 changes;

  g_assert_no_error (error);
  g_assert_true (recoup_book_set_user (f->book, collector, &error));

  a = recoup_offer_create (f->book, &within, &error);
  g_assert_no_error (error);
  b = recoup_offer_create (f->book, &deep, &error);
  g_assert_no_error (error);
  c = recoup_offer_create (f->book, &longplan, &error);
  g_assert_no_error (error);
  o = load (f, a);
  g_assert_false (o->needs_approval);
  recoup_offer_free (o);
  o = load (f, b);
  g_assert_true (o->needs_approval);
  recoup_offer_free (o);
  o = load (f, c);
  g_assert_true (o->needs_approval);
  recoup_offer_free (o);

  queue = recoup_offer_list_approvals (f->book, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (queue->len, ==, 2);
  g_clear_pointer (&queue, g_ptr_array_unref);

  /* The collector can neither send it nor approve it. */
  changes = recoup_book_count_changes (f->book);
  g_assert_false (recoup_offer_transition (f->book, b, RECOUP_OFFER_EVENT_SEND, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_clear_error (&error);
  g_assert_false (recoup_offer_transition (f->book, b, RECOUP_OFFER_EVENT_APPROVE, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_clear_error (&error);
  g_assert_false (recoup_offer_transition (f->book, a, RECOUP_OFFER_EVENT_APPROVE, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, changes);

  /* The owner approves; then the collector may send it. */
  g_assert_true (recoup_book_set_user (f->book, f->owner, &error));
  transition_ok (f, b, RECOUP_OFFER_EVENT_APPROVE);
  g_assert_false (recoup_offer_transition (f->book, b, RECOUP_OFFER_EVENT_APPROVE, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_true (recoup_book_set_user (f->book, collector, &error));
  transition_ok (f, b, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, a, RECOUP_OFFER_EVENT_SEND);

  queue = recoup_offer_list_approvals (f->book, &error);
  g_assert_cmpuint (queue->len, ==, 1);
  g_assert_cmpstr (((RecoupOffer *) queue->pdata[0])->id, ==, c);
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  struct { RecoupOfferSpec spec; const char *needle; } bad[] = {
    { { .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 10001, .pay_by = "2026-03-20" }, "100 %" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = -1, .pay_by = "2026-03-20" }, "basis points" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 10000, .pay_by = "2026-03-20" }, "write-off" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .amount = 100001, .pay_by = "2026-03-20" }, "offer amount USD 1,000.01 is more than the USD 1,000.00 owed" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .amount = -5, .pay_by = "2026-03-20" }, "negative" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .pay_by = "2026-02-28" }, "past" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 500, .pay_by = "2030-01-01" }, "more than a year after today" },
    { { .kind = RECOUP_OFFER_SETTLEMENT }, "pay-by" },
    { { .kind = RECOUP_OFFER_PLAN, .installments = 0, .first_date = "2026-03-10" }, "at least one" },
    { { .kind = RECOUP_OFFER_PLAN, .installments = -3, .first_date = "2026-03-10" }, "at least one" },
    { { .kind = RECOUP_OFFER_PLAN, .installments = 3, .first_date = "2026-02-21" }, "in the past" },
    { { .kind = RECOUP_OFFER_PLAN, .installments = 3, .first_date = "2026-02-30" }, "exists" },
    { { .kind = RECOUP_OFFER_PLAN, .installments = 3 }, "first" },
    { { .kind = RECOUP_OFFER_EXTENSION, .extend_to = "2026-04-01", .discount_bp = 100 }, "no amount" },
    { { .kind = RECOUP_OFFER_WAIVER }, "waives" },
    { { .kind = RECOUP_OFFER_WAIVER, .waive_fees = TRUE }, "no fee" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .pay_by = "2026-03-20", .expires_on = "2026-02-01" }, "expiry" },
  };
  gint64 changes = recoup_book_count_changes (f->book);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *id = NULL;

      bad[i].spec.account_id = f->account;
      id = recoup_offer_create (f->book, &bad[i].spec, &error);
      g_assert_null (id);
      g_assert_nonnull (error);
      if (strstr (error->message, bad[i].needle) == NULL)
        g_error ("case %u: “%s” does not say “%s”", i, error->message, bad[i].needle);
      g_clear_error (&error);
    }
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, changes);

  /* The tolerance for a past first date is a setting (7 days by default). */
  {
    RecoupOfferSpec ok = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .installments = 3,
                           .first_date = "2026-02-22" };
    g_autofree char *id = recoup_offer_create (f->book, &ok, &error);

    g_assert_no_error (error);
    g_assert_true (recoup_settings_set_shared (f->book, "offer.first_date_tolerance_days", "0", &error));
    g_clear_pointer (&id, g_free);
    id = recoup_offer_create (f->book, &ok, &error);
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_clear_error (&error);
  }

  /* Paying a negative amount. */
  {
    RecoupEntrySpec neg = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = f->account, .amount = -100 };
    gint64 before = recoup_book_count_changes (f->book);

    g_assert_null (recoup_ledger_record (f->book, &neg, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_cmpint (recoup_book_count_changes (f->book), ==, before);
  }
}

static void
test_expired (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_EXTENSION,
                           .extend_to = "2026-04-30", .expires_on = "2026-03-05" };
  g_autofree char *id = recoup_offer_create (f->book, &spec, &error);
  g_autoptr(RecoupOffer) o = NULL;
  gint64 changes;

  g_assert_no_error (error);
  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);

  g_setenv ("RECOUP_TODAY", "2026-03-05", TRUE);   /* the last day it can be accepted */
  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_OFFERED);
  g_clear_pointer (&o, recoup_offer_free);

  g_setenv ("RECOUP_TODAY", "2026-03-06", TRUE);
  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_EXPIRED);
  changes = recoup_book_count_changes (f->book);
  g_assert_false (recoup_offer_transition (f->book, id, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "expired"));
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, changes);
  g_assert_cmpint (count_rows (f, "SELECT count(*) FROM installments"), ==, 0);

  /* Rejecting or withdrawing an accepted offer is refused, naming its state. */
  {
    RecoupOfferSpec s2 = { .account_id = f->account, .kind = RECOUP_OFFER_EXTENSION, .extend_to = "2026-04-30" };
    g_autofree char *id2 = recoup_offer_create (f->book, &s2, &error);

    g_assert_no_error (error);
    transition_ok (f, id2, RECOUP_OFFER_EVENT_SEND);
    transition_ok (f, id2, RECOUP_OFFER_EVENT_ACCEPT);
    g_assert_false (recoup_offer_transition (f->book, id2, RECOUP_OFFER_EVENT_WITHDRAW, NULL, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
    g_assert_nonnull (strstr (error->message, "accepted"));
    g_clear_error (&error);
  }
}

static void
test_resolve (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .amount = 50000,
                           .pay_by = "2026-03-20" };
  g_autofree char *id = recoup_offer_create (f->book, &spec, &error);
  g_autofree char *r1 = NULL, *r2 = NULL, *r3 = NULL;

  g_assert_no_error (error);
  r1 = recoup_offer_resolve (f->book, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r1, ==, id);
  r2 = recoup_offer_resolve (f->book, id + strlen (id) - 8, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r2, ==, id);
  r3 = recoup_offer_resolve (f->book, "zzzzzzzz", &error);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
}

/* Two replicas: one accepted, the other rejected, offline. Both events are kept;
 * the replay by (hlc, device) decides, the loser counts as a conflict and the
 * account is flagged for review. */
static void
test_offline_conflict (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .amount = 90000,
                           .pay_by = "2026-03-20" };
  g_autofree char *id = recoup_offer_create (f->book, &spec, &error);
  g_autoptr(RecoupOffer) o = NULL;
  g_autoptr(GPtrArray) review = NULL;
  g_autofree char *sql = NULL;
  gint64 accept_hlc;

  g_assert_no_error (error);
  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  accept_hlc = count_rows (f, "SELECT hlc FROM offer_events WHERE event = 'accept'");

  /* What a pull would insert: the other laptop's reject, stamped just before. */
  sql = g_strdup_printf ("INSERT INTO offer_events (id, offer_id, event, hlc, device_id, user_id, note, at, day)"
                         " VALUES ('00000000-0000-7000-8000-000000000001', '%s', 'reject', %" G_GINT64_FORMAT ","
                         " 'laptop-b', NULL, '', 0, '2026-03-01')", id, accept_hlc - 1);
  g_assert_cmpint (sqlite3_exec (recoup_book_get_db (f->book), sql, NULL, NULL, NULL), ==, SQLITE_OK);

  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_REJECTED);
  g_assert_cmpuint (o->n_conflicts, ==, 1);
  g_assert_null (o->accepted_on);

  g_assert_cmpuint (reconcile (f), ==, 1);
  review = recoup_review_list_open (f->book, f->account, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (review->len, ==, 1);
  g_assert_cmpstr (((RecoupReviewItem *) review->pdata[0])->kind, ==, RECOUP_REVIEW_OFFER_CONFLICT);
  g_assert_nonnull (strstr (((RecoupReviewItem *) review->pdata[0])->text, id));
  g_assert_cmpuint (reconcile (f), ==, 0);
}

/* The CLI: clear errors with exit 1, JSON amounts in minor units. */
static void
test_cli (Fixture       *f,
          gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  const char *path = recoup_book_get_path (f->book);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *obj;
  int status = 0;

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }

  {
    const char *argv[] = { cli, "--book", path, "offer", "create", "A-1", "--kind", "settlement",
                           "--discount-bp", "10001", "--pay-by", "2026-03-20", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                                 &status, &error));
    g_assert_no_error (error);
    g_assert_cmpint (WEXITSTATUS (status), ==, 1);
    g_assert_nonnull (strstr (err, "100 %"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { cli, "--book", path, "--json", "offer", "create", "A-1", "--kind", "plan",
                           "--installments", "3", "--frequency", "weekly", "--first-date", "2026-03-02",
                           "--amount", "0.05", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                                 &status, &error));
    g_assert_no_error (error);
    g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
    g_assert_no_error (error);
    obj = json_node_get_object (json_parser_get_root (parser));
    g_assert_cmpint (json_object_get_int_member (obj, "total"), ==, 5);
    g_assert_cmpstr (json_object_get_string_member (obj, "state"), ==, "draft");
    g_assert_true (json_object_get_boolean_member (obj, "needs_approval") == FALSE);
    {
      JsonArray *sched = json_object_get_array_member (obj, "schedule");

      g_assert_cmpuint (json_array_get_length (sched), ==, 3);
      /* the remainder on the last: 0.01, 0.01, 0.03 */
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (sched, 0), "amount"), ==, 1);
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (sched, 2), "amount"), ==, 3);
    }
  }
}

/* A debtor who pays more than the settlement in the payments that complete
 * it: the settlement completes, and its discount is only what those payments
 * left owed (350.00 of the 400.00 agreed), so the balance is nothing, not a
 * credit of 50.00. A payment after the completing one is an overpayment (a
 * second cheque by mistake): the debtor's credit, the discount stays. */
static void
test_settlement_overpaid (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .amount = 60000,
                           .pay_by = "2026-03-10" };
  g_autofree char *id = NULL;
  g_autoptr(RecoupOffer) o = NULL;

  g_assert_cmpint (balance (f), ==, 100000);
  id = recoup_offer_create (f->book, &spec, &error);
  g_assert_no_error (error);
  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  g_free (pay (f, 30000, "2026-03-01"));
  g_free (pay (f, 35000, "2026-03-01"));     /* 650.00 in all */
  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  g_assert_cmpint (o->forgiven, ==, 40000);
  g_assert_cmpint (o->discount, ==, 35000);
  g_assert_cmpint (count_rows (f, "SELECT -sum(amount) FROM ledger_entries WHERE kind = 'discount'"), ==, 35000);
  g_assert_cmpint (balance (f), ==, 0);

  g_free (pay (f, 2000, "2026-03-01"));
  g_assert_cmpint (balance (f), ==, -2000);
  g_assert_cmpuint (reconcile (f), ==, 0);
  g_assert_cmpint (count_rows (f, "SELECT count(*) FROM ledger_entries WHERE kind = 'discount'"), ==, 1);
  g_assert_cmpint (count_rows (f, "SELECT count(*) FROM ledger_entries WHERE kind = 'reversal'"), ==, 0);
}

/* Paid in full on a discounted settlement: nothing is left to forgive. */
static void
test_settlement_paid_in_full (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .amount = 90000,
                           .pay_by = "2026-03-10" };
  g_autofree char *id = recoup_offer_create (f->book, &spec, &error);
  g_autoptr(RecoupOffer) o = NULL;

  g_assert_no_error (error);
  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  g_free (pay (f, 100000, "2026-03-01"));
  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  g_assert_cmpint (o->discount, ==, 0);
  g_assert_cmpint (count_rows (f, "SELECT count(*) FROM ledger_entries WHERE kind = 'discount'"), ==, 0);
  g_assert_cmpint (balance (f), ==, 0);
}

/* The changes of @book's log after @after_seq, as sync sends them. */
static GPtrArray *
changes_after (RecoupBook *book,
               gint64      after_seq)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  gint64 last = recoup_book_count_changes (book);
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), "SELECT seq FROM changes WHERE seq > ?"
                                       " ORDER BY seq", -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, after_seq);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr(GError) error = NULL;
      JsonObject *obj = recoup_merge_change_from_row (book, sqlite3_column_int64 (stmt, 0), &error);

      g_assert_no_error (error);
      json_object_remove_member (obj, "seq");
      g_ptr_array_add (out, obj);
    }
  sqlite3_finalize (stmt);
  g_assert_cmpint (last, >=, (gint64) out->len);
  return out;
}

/* Applies @changes to @dst, again and again while some wait for a row that
 * comes later in the list. */
static void
deliver (RecoupBook *dst,
         GPtrArray  *changes)
{
  g_autoptr(GPtrArray) pending = g_ptr_array_sized_new (changes->len);
  guint before;

  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (pending, changes->pdata[i]);

  do
    {
      before = pending->len;
      for (guint i = 0; i < pending->len;)
        {
          RecoupMergeResult result = { 0 };
          g_autoptr(GError) error = NULL;

          g_assert_true (recoup_merge_apply (dst, pending->pdata[i], 0, &result, &error));
          g_assert_no_error (error);
          if (result.status == RECOUP_MERGE_REJECTED)
            {
              g_assert_true (recoup_merge_reason_is_resent (result.reason));
              i++;
            }
          else
            g_ptr_array_remove_index (pending, i);
          recoup_merge_result_clear (&result);
        }
    }
  while (pending->len > 0 && pending->len < before);
  g_assert_cmpuint (pending->len, ==, 0);
}

static char *
ledger_dump (RecoupBook *book)
{
  sqlite3_stmt *stmt = NULL;
  GString *out = g_string_new (NULL);

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book),
                                       "SELECT id, kind, amount, effective_date, coalesce(reverses_id, '')"
                                       " FROM ledger_entries ORDER BY id", -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (out, "%s %s %" G_GINT64_FORMAT " %s %s\n", sqlite3_column_text (stmt, 0),
                            sqlite3_column_text (stmt, 1), (gint64) sqlite3_column_int64 (stmt, 2),
                            sqlite3_column_text (stmt, 3), sqlite3_column_text (stmt, 4));
  sqlite3_finalize (stmt);
  return g_string_free (out, FALSE);
}

/* A cheque dated before the completing payment, entered after it, counts
 * before it: the settlement left less owed, so the discount written is
 * reversed and the smaller one written; reversing the cheque brings the
 * whole discount back. Every copy of the book writes the same rows: one that
 * receives only the cheque reconciles to exactly the entries of the copy
 * that recorded it. */
static void
test_settlement_discount_follows_credits (Fixture       *f,
                                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .amount = 90000,
                           .pay_by = "2026-03-15" };
  g_autofree char *id = recoup_offer_create (f->book, &spec, &error);
  g_autofree char *other_path = g_build_filename (f->dir, "other.recoup", NULL);
  g_autoptr(RecoupBook) other = recoup_book_open (other_path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_autofree char *cheque = NULL, *mine = NULL, *theirs = NULL;
  g_autoptr(GPtrArray) shared = NULL;
  g_autoptr(GPtrArray) later = NULL;
  g_autoptr(GPtrArray) cheque_only = g_ptr_array_new ();
  g_autoptr(RecoupOffer) o = NULL;
  gint64 seq;

  g_assert_no_error (error);
  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  g_setenv ("RECOUP_TODAY", "2026-03-12", TRUE);
  g_free (pay (f, 90000, "2026-03-10"));
  g_assert_cmpint (count_rows (f, "SELECT -sum(amount) FROM ledger_entries WHERE kind = 'discount'"), ==, 10000);
  g_assert_cmpint (balance (f), ==, 0);
  shared = changes_after (f->book, 0);
  deliver (other, shared);
  seq = recoup_book_count_changes (f->book);

  cheque = pay (f, 3000, "2026-03-05");
  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  g_assert_cmpint (o->discount, ==, 7000);
  g_clear_pointer (&o, recoup_offer_free);
  g_assert_cmpint (balance (f), ==, 0);
  g_assert_cmpint (count_rows (f, "SELECT -sum(amount) FROM ledger_entries d WHERE kind = 'discount' AND NOT"
                                  " EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = d.id)"), ==, 7000);
  g_assert_cmpuint (reconcile (f), ==, 0);

  /* The other copy gets the cheque alone, then everything: nothing new. */
  later = changes_after (f->book, seq);
  for (guint i = 0; i < later->len; i++)
    if (g_strcmp0 (json_object_get_string_member (later->pdata[i], "entity_id"), cheque) == 0)
      g_ptr_array_add (cheque_only, later->pdata[i]);
  g_assert_cmpuint (cheque_only->len, ==, 1);
  deliver (other, cheque_only);
  deliver (other, later);
  mine = ledger_dump (f->book);
  theirs = ledger_dump (other);
  g_assert_cmpstr (mine, ==, theirs);

  /* The cheque bounces: the payment of 900.00 left 100.00 owed again. */
  g_free (recoup_ledger_reverse (f->book, cheque, NULL, "bounced", &error));
  g_assert_no_error (error);
  g_assert_cmpint (balance (f), ==, 0);
  g_assert_cmpint (count_rows (f, "SELECT -sum(amount) FROM ledger_entries d WHERE kind = 'discount' AND NOT"
                                  " EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = d.id)"), ==, 10000);
  g_assert_cmpuint (reconcile (f), ==, 0);
}

/* The audit's D5: an invoice long overdue and a recent fee; a waiver offer
 * accepted waives the fee. The waiver cancels the fee, it does not pay the
 * invoice: the invoice is open in full in its own bucket, the fee is gone
 * from the recent bucket, and the aging adds up to the balance. A second
 * waiver offer finds nothing left to waive. */
static void
test_waiver_offer_cancels_fee (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupEntrySpec fee = { .kind = RECOUP_ENTRY_FEE, .account_id = f->account, .amount = 5000,
                          .effective_date = "2026-05-10" };
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_WAIVER, .waive_fees = TRUE };
  g_autofree char *fee_id = NULL, *id = NULL;
  g_autoptr(GPtrArray) invoices = NULL;
  g_autoptr(GPtrArray) summary = NULL;
  RecoupAgingRow row, *total;

  g_setenv ("RECOUP_TODAY", "2026-05-20", TRUE);
  fee_id = recoup_ledger_record (f->book, &fee, &error);
  g_assert_no_error (error);
  id = recoup_offer_create (f->book, &spec, &error);
  g_assert_no_error (error);
  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  g_assert_cmpint (balance (f), ==, 100000);

  invoices = recoup_ledger_invoice_balances (f->book, f->account, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (invoices->len, ==, 1);
  g_assert_cmpint (((RecoupInvoiceBalance *) invoices->pdata[0])->balance, ==, 100000);
  g_assert_true (recoup_ledger_account_aging (f->book, f->account, NULL, &row, &error));
  g_assert_no_error (error);
  g_free (row.currency);
  g_assert_cmpint (row.buckets[RECOUP_AGING_91_180], ==, 100000);   /* due 01-31: 109 days */
  g_assert_cmpint (row.buckets[RECOUP_AGING_1_30], ==, 0);
  g_assert_cmpint (row.total, ==, 100000);
  summary = recoup_aging_summary (f->book, NULL, &error);
  g_assert_no_error (error);
  total = g_ptr_array_index (summary, 0);
  g_assert_cmpint (total->buckets[RECOUP_AGING_91_180], ==, 100000);
  g_assert_cmpint (total->buckets[RECOUP_AGING_1_30], ==, 0);
  g_assert_cmpint (total->total, ==, 100000);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM ledger_entries WHERE kind = 'waiver'"
                                            " AND waives_id = '%s' AND amount = -5000", fee_id);

    g_assert_cmpint (count_rows (f, sql), ==, 1);
  }

  /* The customer's statement ages it the same way and says what was waived. */
  {
    g_autoptr(RecoupStatement) st = recoup_statement_build (f->book, f->account, "2026-05-01", "2026-05-20",
                                                            &error);
    RecoupStatementLine *waiver;

    g_assert_no_error (error);
    g_assert_cmpint (st->aging.buckets[RECOUP_AGING_91_180], ==, 100000);
    g_assert_cmpint (st->aging.buckets[RECOUP_AGING_1_30], ==, 0);
    g_assert_cmpuint (st->lines->len, ==, 2);
    waiver = g_ptr_array_index (st->lines, 1);
    g_assert_cmpstr (waiver->kind, ==, "waiver");
    /* In the customer's words: no note with the offer's id. */
    g_assert_cmpstr (waiver->description, ==, "Waiver of fee of 2026-05-10");
  }

  g_assert_null (recoup_offer_create (f->book, &spec, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "no fee on the account to waive"));
}

/* Runs recoup-cli on the fixture's book; its exit status in @out_status. */
static char *
run_cli (Fixture     *f,
         int         *out_status,
         const char  *first,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  const char *arg;
  va_list args;
  int status = 0;

  g_ptr_array_add (argv, (char *) g_getenv ("RECOUP_CLI"));
  g_ptr_array_add (argv, (char *) "--book");
  g_ptr_array_add (argv, (char *) recoup_book_get_path (f->book));
  va_start (args, first);
  for (arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error));
  g_assert_no_error (error);
  *out_status = WEXITSTATUS (status);
  if (*out_status != 0)
    {
      /* What a refusal says is on stderr: hand that back. */
      g_free (out);
      out = g_steal_pointer (&err);
    }
  return out;
}

/* One limit on a plan's length: the longest plan core accepts is the
 * longest a user may be allowed to agree (the offer dialog and the book's
 * policy page read both). */
static void
test_installment_limit (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *collector = recoup_user_add (f->book, "Carl", "collector", 1000, 6, FALSE, &error);
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN,
                           .installments = RECOUP_OFFER_MAX_INSTALLMENTS,
                           .frequency = RECOUP_FREQUENCY_WEEKLY, .first_date = "2026-03-10" };

  g_assert_no_error (error);
  g_assert_true (recoup_user_set_limits (f->book, collector, 1000, RECOUP_OFFER_MAX_INSTALLMENTS, &error));
  g_assert_no_error (error);
  g_assert_false (recoup_user_set_limits (f->book, collector, 1000, RECOUP_OFFER_MAX_INSTALLMENTS + 1, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_true (recoup_offer_check_terms (&spec, "USD", 100000, "2026-03-01", 7, &error));
  g_assert_no_error (error);
  spec.installments++;
  g_assert_false (recoup_offer_check_terms (&spec, "USD", 100000, "2026-03-01", 7, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
}

/* recoup-cli offer create: a date of another kind of offer is refused, not
 * ignored; --send beyond the maker's limits keeps the offer as a draft that
 * waits for an owner, and says so; a waiver's terms name the currency. */
static void
test_cli_create (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *collector = recoup_user_add (f->book, "Carl", "collector", 1000, 6, FALSE, &error);
  RecoupEntrySpec fee = { .kind = RECOUP_ENTRY_FEE, .account_id = f->account, .amount = 5833 };
  g_autoptr(GPtrArray) queue = NULL;
  g_autofree char *out = NULL;
  gint64 changes;
  int status;

  g_assert_no_error (error);
  if (g_getenv ("RECOUP_CLI") == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }

  changes = recoup_book_count_changes (f->book);
  out = run_cli (f, &status, "offer", "create", "A-1", "--kind", "plan", "--installments", "3",
                 "--first-date", "2026-03-10", "--pay-by", "2026-04-01", NULL);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (out, "--pay-by does not go with --kind plan"));
  g_clear_pointer (&out, g_free);
  out = run_cli (f, &status, "offer", "create", "A-1", "--kind", "settlement", "--pay-by", "2026-04-01",
                 "--first-date", "2026-03-10", NULL);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (out, "--first-date does not go with --kind settlement"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, changes);

  out = run_cli (f, &status, "--user", "Carl", "offer", "create", "A-1", "--kind", "settlement",
                 "--discount-bp", "3000", "--pay-by", "2026-03-20", "--send", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "waits as a draft for an owner's approval"));
  g_assert_nonnull (strstr (out, "State:     draft"));
  g_clear_pointer (&out, g_free);
  queue = recoup_offer_list_approvals (f->book, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (queue->len, ==, 1);

  g_free (recoup_ledger_record (f->book, &fee, &error));
  g_assert_no_error (error);
  out = run_cli (f, &status, "offer", "create", "A-1", "--kind", "waiver", "--waive-fees", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "Terms:     USD 58.33 waived"));
}

/* An owner refuses a collector's offer that waits for approval, with a
 * reason: the withdraw event reads "not approved", with the reason and who
 * refused it, for its maker. A maker taking back their own draft, or an
 * owner withdrawing one already approved, still reads "withdrawn". The CLI
 * says so in the list and in the offer. */
static void
test_not_approved (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *collector = recoup_user_add (f->book, "Carl", "collector", 1000, 6, FALSE, &error);
  RecoupOfferSpec deep = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 3000,
                           .pay_by = "2026-03-20" };
  g_autofree char *refused = NULL, *taken_back = NULL, *approved = NULL, *out = NULL;
  g_autofree char *tail = NULL;
  RecoupOffer *o;
  int status;

  g_assert_no_error (error);
  g_assert_true (recoup_book_set_user (f->book, collector, &error));
  refused = recoup_offer_create (f->book, &deep, &error);
  g_assert_no_error (error);
  taken_back = recoup_offer_create (f->book, &deep, &error);
  g_assert_no_error (error);
  approved = recoup_offer_create (f->book, &deep, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_offer_transition (f->book, taken_back, RECOUP_OFFER_EVENT_WITHDRAW, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (recoup_book_set_user (f->book, f->owner, &error));
  g_assert_true (recoup_offer_transition (f->book, refused, RECOUP_OFFER_EVENT_WITHDRAW,
                                          "30 % is too much before a first call", &error));
  g_assert_no_error (error);
  transition_ok (f, approved, RECOUP_OFFER_EVENT_APPROVE);
  transition_ok (f, approved, RECOUP_OFFER_EVENT_WITHDRAW);

  o = load (f, refused);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_WITHDRAWN);
  g_assert_true (o->not_approved);
  g_assert_cmpstr (o->closing_note, ==, "30 % is too much before a first call");
  g_assert_nonnull (o->closed_by_name);
  g_assert_cmpstr (o->closed_by_name, !=, "Carl");
  recoup_offer_free (o);
  o = load (f, taken_back);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_WITHDRAWN);
  g_assert_false (o->not_approved);
  g_assert_cmpstr (o->closed_by_name, ==, "Carl");
  recoup_offer_free (o);
  o = load (f, approved);
  g_assert_false (o->not_approved);
  recoup_offer_free (o);

  if (g_getenv ("RECOUP_CLI") == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  out = run_cli (f, &status, "offers", "A-1", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "not approved"));
  g_clear_pointer (&out, g_free);
  tail = g_strdup (refused + strlen (refused) - 8);
  out = run_cli (f, &status, "offer", "show", tail, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "State:     not approved"));
  g_assert_nonnull (strstr (out, "Reason:    30 % is too much before a first call"));
  g_clear_pointer (&out, g_free);
  out = run_cli (f, &status, "--json", "offer", "show", tail, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "\"not_approved\" : true"));
}

/* The terms the offer dialog checks as the user types, without the book. */
static void
test_check_terms (void)
{
  struct { RecoupOfferSpec spec; const char *needle; } cases[] = {
    { { .kind = RECOUP_OFFER_SETTLEMENT, .amount = 100001, .pay_by = "2026-03-10" }, "more than the USD 1,000.00 owed" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .amount = 50000, .pay_by = "2026-02-28" }, "pay-by date 2026-02-28 is in the past" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .amount = 50000 }, "needs the day it must be paid by" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 10001, .pay_by = "2026-03-10" }, "is not possible" },
    /* The first date the message offers is the earliest the tolerance takes. */
    { { .kind = RECOUP_OFFER_PLAN, .installments = 3, .first_date = "2026-01-29" },
      "first date 2026-01-29 is more than 30 days in the past (today is 2026-03-01); "
      "give a first date no earlier than 2026-01-30" },
    { { .kind = RECOUP_OFFER_PLAN, .installments = 3, .first_date = "2026-01-30" }, NULL },
    { { .kind = RECOUP_OFFER_PLAN, .installments = 3 }, "needs the date of its first installment" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .amount = 100000, .pay_by = "2026-03-10" }, NULL },
    { { .kind = RECOUP_OFFER_PLAN, .installments = 3, .first_date = "2026-03-01" }, NULL },
    /* A settlement is paid within a promise's year, as a promise is. */
    { { .kind = RECOUP_OFFER_SETTLEMENT, .amount = 50000, .pay_by = "2027-03-02" },
      "pay-by date 2027-03-02 is more than a year after today (2026-03-01): give a date by 2027-03-01" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .amount = 50000, .pay_by = "2030-01-01" }, "give a date by 2027-03-01" },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .amount = 50000, .pay_by = "2027-03-01" }, NULL },
    /* So are a plan's first installment and an extension's new deadline:
     * 2062 for 2026 is a typing error, not terms. */
    { { .kind = RECOUP_OFFER_PLAN, .installments = 3, .first_date = "2062-03-01" },
      "first date 2062-03-01 is more than a year after today (2026-03-01): a plan's first installment "
      "falls due by 2027-03-01" },
    { { .kind = RECOUP_OFFER_PLAN, .installments = 3, .first_date = "2027-03-01" }, NULL },
    { { .kind = RECOUP_OFFER_EXTENSION, .extend_to = "2027-03-02" },
      "new deadline 2027-03-02 is more than a year after today (2026-03-01): give a date by 2027-03-01" },
    { { .kind = RECOUP_OFFER_EXTENSION, .extend_to = "2027-03-01" }, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok = recoup_offer_check_terms (&cases[i].spec, "USD", 100000, "2026-03-01", 30, &error);

      if (cases[i].needle == NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
          if (strstr (error->message, cases[i].needle) == NULL)
            g_error ("case %u: “%s” does not say “%s”", i, error->message, cases[i].needle);
        }
    }

  /* Nothing owed: nothing to offer on. */
  {
    g_autoptr(GError) error = NULL;
    RecoupOfferSpec spec = { .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 1000, .pay_by = "2026-03-10" };

    g_assert_false (recoup_offer_check_terms (&spec, "USD", 0, "2026-03-01", 30, &error));
    g_assert_nonnull (strstr (error->message, "owes nothing"));
  }
}

/* An offer is sent and accepted on the balance it was made on: a payment
 * recorded since (here or synced from another device) refuses both and says
 * so, and nothing is written; a new offer on today's balance goes through. */
static void
test_stale_balance (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .installments = 4,
                           .frequency = RECOUP_FREQUENCY_MONTHLY, .first_date = "2026-03-10" };
  g_autofree char *sent = recoup_offer_create (f->book, &spec, &error);
  g_autofree char *draft = NULL;
  g_autofree char *fresh = NULL;
  g_autoptr(RecoupOffer) o = NULL;
  gint64 changes;

  g_assert_no_error (error);
  draft = recoup_offer_create (f->book, &spec, &error);
  g_assert_no_error (error);
  transition_ok (f, sent, RECOUP_OFFER_EVENT_SEND);
  g_free (pay (f, 30000, "2026-03-01"));

  changes = recoup_book_count_changes (f->book);
  g_assert_false (recoup_offer_transition (f->book, sent, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "owed USD 1,000.00"));
  g_assert_nonnull (strstr (error->message, "owes USD 700.00 now"));
  g_clear_error (&error);
  g_assert_false (recoup_offer_transition (f->book, draft, RECOUP_OFFER_EVENT_SEND, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, changes);
  o = load (f, sent);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_OFFERED);
  g_assert_cmpuint (o->schedule->len, ==, 4);

  /* Withdrawing needs no balance; the new offer is on the 700.00 owed. */
  transition_ok (f, sent, RECOUP_OFFER_EVENT_WITHDRAW);
  fresh = recoup_offer_create (f->book, &spec, &error);
  g_assert_no_error (error);
  transition_ok (f, fresh, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, fresh, RECOUP_OFFER_EVENT_ACCEPT);
  g_clear_pointer (&o, recoup_offer_free);
  o = load (f, fresh);
  g_assert_cmpint (o->total, ==, 70000);
  g_assert_true (o->state == RECOUP_OFFER_STATE_ACCEPTED || o->state == RECOUP_OFFER_STATE_ACTIVE);
}

/* The stale-offer refusal is a sentence for the reader: its amounts take
 * the reader's marks (forced to German here, as the app's locale would give
 * them), and the C marks where the reader's are C, as in the CLI. */
static void
test_stale_balance_marks (Fixture       *f,
                          gconstpointer  data)
{
  static const RecoupMoneyMarks de = { ',', "." };
  g_autoptr(GError) error = NULL;
  RecoupInvoiceSpec invoice = { .account_id = f->account, .ref = "INV-2", .issue_date = "2026-02-01",
                                .due_date = "2026-02-28", .amount = 1740419, .currency = "EUR" };
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .installments = 4,
                           .frequency = RECOUP_FREQUENCY_MONTHLY, .first_date = "2026-03-10" };
  g_autofree char *sent = NULL;

  g_free (recoup_invoice_add (f->book, &invoice, &error));
  g_assert_no_error (error);
  sent = recoup_offer_create (f->book, &spec, &error);
  g_assert_no_error (error);
  transition_ok (f, sent, RECOUP_OFFER_EVENT_SEND);
  g_free (pay (f, 10000, "2026-03-01"));

  recoup_money_set_locale_marks (&de);
  g_assert_false (recoup_offer_transition (f->book, sent, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  recoup_money_set_locale_marks (NULL);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "owed EUR 18.404,19,"));
  g_assert_nonnull (strstr (error->message, "owes EUR 18.304,19 now"));
  g_clear_error (&error);

  g_assert_false (recoup_offer_transition (f->book, sent, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "owed EUR 18,404.19,"));
  g_assert_nonnull (strstr (error->message, "owes EUR 18,304.19 now"));
}

/* ---- what counts toward an accepted offer ----------------------------------------- */

static char *
offer_sent (Fixture               *f,
            const RecoupOfferSpec *spec)
{
  g_autoptr(GError) error = NULL;
  char *id = recoup_offer_create (f->book, spec, &error);

  g_assert_no_error (error);
  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);
  return id;
}

/* A payment taken earlier on the day the offer is made is in the balance the
 * offer was made on: it must not count toward the offer a second time (it
 * did, by date, and granted the discount with 300.00 still owed). */
static void
test_credit_before_offer_same_day (Fixture       *f,
                                   gconstpointer  data)
{
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 1000,
                           .pay_by = "2026-03-20" };
  g_autofree char *id = NULL;
  g_autoptr(RecoupOffer) o = NULL;

  g_free (pay (f, 30000, "2026-03-01"));
  id = offer_sent (f, &spec);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  o = load (f, id);
  g_assert_cmpint (o->total, ==, 63000);
  g_assert_cmpint (o->paid, ==, 0);
  g_clear_pointer (&o, recoup_offer_free);

  g_free (pay (f, 33000, "2026-03-01"));
  o = load (f, id);
  g_assert_cmpint (o->paid, ==, 33000);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACTIVE);
  g_assert_cmpint (count_rows (f, "SELECT count(*) FROM ledger_entries WHERE kind = 'discount'"), ==, 0);
  g_assert_cmpint (balance (f), ==, 37000);
}

/* A cheque received before acceptance but entered a day after it was not in
 * the offer's balance: it counts (from the acceptance day), and the settlement
 * completes rather than defaulting with the agreed discount billed. */
static void
test_credit_backdated_after_accept (Fixture       *f,
                                   gconstpointer  data)
{
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .amount = 90000,
                           .pay_by = "2026-03-10" };
  g_autofree char *id = offer_sent (f, &spec);
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupOffer) o = NULL;

  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  g_setenv ("RECOUP_TODAY", "2026-03-02", TRUE);
  g_free (pay (f, 90000, "2026-02-28"));
  o = recoup_offer_load (f->book, id, "2026-04-01", &error);
  g_assert_no_error (error);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  g_assert_cmpstr (o->completed_on, ==, "2026-03-01");
  g_assert_cmpint (o->paid, ==, 90000);
  g_assert_cmpint (balance (f), ==, 0);
}

/* A write-off after acceptance reduces what is owed: it counts toward the
 * plan, which completes when the rest is paid, instead of a missed
 * installment on a zero balance. The offer's own waiver does not count. */
static void
test_plan_counts_credits (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupEntrySpec fee = { .kind = RECOUP_ENTRY_FEE, .account_id = f->account, .amount = 2000,
                          .effective_date = "2026-02-15" };
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .installments = 2,
                           .frequency = RECOUP_FREQUENCY_MONTHLY, .first_date = "2026-03-10",
                           .waive_fees = TRUE };
  RecoupEntrySpec wo = { .kind = RECOUP_ENTRY_WRITE_OFF, .account_id = f->account, .amount = 50000 };
  g_autofree char *id = NULL;
  g_autoptr(RecoupOffer) o = NULL;

  g_free (recoup_ledger_record (f->book, &fee, &error));
  g_assert_no_error (error);
  id = offer_sent (f, &spec);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  o = load (f, id);
  g_assert_cmpint (o->total, ==, 100000);
  g_assert_cmpint (o->paid, ==, 0);          /* the waiver of the fee is the offer's own */
  g_clear_pointer (&o, recoup_offer_free);

  g_free (recoup_ledger_record (f->book, &wo, &error));
  g_assert_no_error (error);
  g_free (pay (f, 50000, "2026-03-10"));
  g_assert_cmpint (balance (f), ==, 0);
  o = recoup_offer_load (f->book, id, "2026-05-01", &error);
  g_assert_no_error (error);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  g_assert_false (o->at_risk);
  g_assert_cmpuint (o->n_missed, ==, 0);
  g_assert_cmpint (g_array_index (o->schedule, RecoupInstallment, 1).status, ==, RECOUP_INSTALLMENT_PAID);
}

/* An offer whose pay-by date has passed is not accepted (it was accepted and
 * defaulted at once); a plan may start within the first-date tolerance, and
 * then its grace runs from acceptance, but not further back. */
static void
test_accept_after_deadline (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec settle = { .account_id = f->account, .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 2000,
                             .pay_by = "2026-03-05" };
  RecoupOfferSpec plan = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .installments = 2,
                           .frequency = RECOUP_FREQUENCY_WEEKLY, .first_date = "2026-02-25" };
  g_autofree char *sid = offer_sent (f, &settle);
  g_autofree char *pid = offer_sent (f, &plan);
  g_autofree char *late = offer_sent (f, &plan);
  g_autoptr(RecoupOffer) o = NULL;
  gint64 changes;

  g_setenv ("RECOUP_TODAY", "2026-03-10", TRUE);
  changes = recoup_book_count_changes (f->book);
  g_assert_false (recoup_offer_transition (f->book, sid, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "pay-by date 2026-03-05 has passed (today is 2026-03-10)"));
  g_assert_nonnull (strstr (error->message, "make a new offer"));
  g_clear_error (&error);
  /* 02-25 is more than 7 days before 03-10 */
  g_assert_false (recoup_offer_transition (f->book, late, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "first installment was due on 2026-02-25"));
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, changes);
  g_assert_cmpint (count_rows (f, "SELECT count(*) FROM installments"), ==, 0);

  /* Within the tolerance: accepted, and not missed before the grace after acceptance. */
  g_setenv ("RECOUP_TODAY", "2026-03-01", TRUE);
  transition_ok (f, pid, RECOUP_OFFER_EVENT_ACCEPT);
  o = recoup_offer_load (f->book, pid, "2026-03-04", &error);
  g_assert_no_error (error);
  g_assert_false (o->at_risk);
  g_assert_cmpint (g_array_index (o->schedule, RecoupInstallment, 0).status, ==, RECOUP_INSTALLMENT_LATE);
  g_clear_pointer (&o, recoup_offer_free);
  o = recoup_offer_load (f->book, pid, "2026-03-05", &error);
  g_assert_no_error (error);
  g_assert_true (o->at_risk);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACTIVE);
}

/* A collector held to 6 installments may not defer the debt for years: a
 * plan ending, a pay-by or an extension beyond 6 months needs an owner. */
static void
test_deferral_authority (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *collector = recoup_user_add (f->book, "Carl", "collector", 1000, 6, FALSE, &error);
  const RecoupOfferAuthority within = RECOUP_OFFER_WITHIN_AUTHORITY, later = RECOUP_OFFER_BEYOND_DEFERRAL;
  struct { RecoupOfferSpec spec; RecoupOfferAuthority why; } cases[] = {
    { { .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 1000, .pay_by = "2027-03-01" }, later },
    { { .kind = RECOUP_OFFER_EXTENSION, .extend_to = "2027-01-01" }, later },
    { { .kind = RECOUP_OFFER_PLAN, .installments = 6, .frequency = RECOUP_FREQUENCY_MONTHLY,
        .first_date = "2027-02-01" }, later },
    { { .kind = RECOUP_OFFER_PLAN, .installments = 6, .frequency = RECOUP_FREQUENCY_MONTHLY,
        .first_date = "2026-04-02" }, later },
    { { .kind = RECOUP_OFFER_PLAN, .installments = 6, .frequency = RECOUP_FREQUENCY_MONTHLY,
        .first_date = "2026-04-01" }, within },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 1000, .pay_by = "2026-09-01" }, within },
    { { .kind = RECOUP_OFFER_EXTENSION, .extend_to = "2026-09-02" }, later },
    { { .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 2000, .pay_by = "2027-03-01" },
      RECOUP_OFFER_BEYOND_DISCOUNT },
  };

  g_assert_no_error (error);
  g_assert_cmpint (recoup_offer_deferral_limit (recoup_date_parse ("2026-03-01", NULL), 6), ==,
                   recoup_date_parse ("2026-09-01", NULL));
  g_assert_cmpint (recoup_offer_deferral_limit (recoup_date_parse ("2026-03-01", NULL), 0), ==,
                   recoup_date_parse ("2026-04-01", NULL));
  g_assert_true (recoup_book_set_user (f->book, collector, &error));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *id = NULL;
      g_autoptr(RecoupOffer) o = NULL;

      cases[i].spec.account_id = f->account;
      id = recoup_offer_create (f->book, &cases[i].spec, &error);
      g_assert_no_error (error);
      o = load (f, id);
      if (o->needs_approval != (cases[i].why != within))
        g_error ("case %u: needs_approval is %d", i, o->needs_approval);
      /* What the offer form shows while it is typed: the same decision, and why. */
      if (recoup_offer_spec_authority ("collector", &cases[i].spec, cases[i].spec.discount_bp, 1000, 6,
                                       recoup_date_parse ("2026-03-01", NULL)) != cases[i].why)
        g_error ("case %u: not judged as the offer was made", i);
    }

  /* An owner defers as far as the owner decides. */
  g_assert_true (recoup_book_set_user (f->book, f->owner, &error));
  {
    g_autofree char *id = recoup_offer_create (f->book, &cases[0].spec, &error);
    g_autoptr(RecoupOffer) o = NULL;

    g_assert_no_error (error);
    o = load (f, id);
    g_assert_false (o->needs_approval);
  }
}

/* 200 installments on 1.00 would be 199 of 0.00 that count as paid at once. */
static void
test_zero_installments (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .installments = 200,
                           .amount = 100, .frequency = RECOUP_FREQUENCY_WEEKLY, .first_date = "2026-03-05" };
  g_autofree char *id = NULL;
  gint64 changes = recoup_book_count_changes (f->book);

  g_assert_null (recoup_offer_create (f->book, &spec, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "200 installments on USD 1.00 would have installments of nothing"));
  g_assert_nonnull (strstr (error->message, "at most 100"));
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, changes);

  /* asked while typing too: on 0.50 owed */
  spec.amount = 0;
  g_assert_false (recoup_offer_check_terms (&spec, "USD", 50, "2026-03-01", 7, &error));
  g_assert_nonnull (strstr (error->message, "at most 50"));
  g_clear_error (&error);

  spec.amount = 100;
  spec.installments = 100;
  id = recoup_offer_create (f->book, &spec, &error);
  g_assert_no_error (error);
}

/* A running arrangement the customer keeps to, with no other accepted
 * alongside it, cannot be withdrawn, even with a reason: the refusal says
 * why and that only one of a clash can be (recoup-offer.h, ONE RUNNING
 * ARRANGEMENT), and nothing is written. */
static void
test_withdraw_running_refused (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = f->account, .kind = RECOUP_OFFER_PLAN, .amount = 90000,
                           .installments = 3, .frequency = RECOUP_FREQUENCY_MONTHLY,
                           .first_date = "2026-03-15" };
  g_autofree char *id = recoup_offer_create (f->book, &spec, &error);
  g_autoptr(RecoupOffer) o = NULL;
  gint64 changes;

  g_assert_no_error (error);
  transition_ok (f, id, RECOUP_OFFER_EVENT_SEND);
  transition_ok (f, id, RECOUP_OFFER_EVENT_ACCEPT);
  g_free (pay (f, 30000, NULL));
  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACTIVE);
  g_assert_false (o->clashing);

  changes = recoup_book_count_changes (f->book);
  g_assert_false (recoup_offer_transition (f->book, id, RECOUP_OFFER_EVENT_WITHDRAW,
                                           "the customer changed their mind", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, id));
  g_assert_nonnull (strstr (error->message, "running plan (active)"));
  g_assert_nonnull (strstr (error->message, "payments count toward it"));
  g_assert_nonnull (strstr (error->message, "Only an arrangement accepted offline alongside another one"));
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, changes);
  g_clear_pointer (&o, recoup_offer_free);
  o = load (f, id);
  g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_ACTIVE);
  g_assert_cmpint (o->paid, ==, 30000);
}

/* A dispute on an invoice of another account is refused with both named by
 * their references, the account the invoice is on too; no id, and no
 * "dispute:" of the core's own before what the CLI already prefixes. */
static void
test_dispute_other_invoice (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupAccountSpec other = { .ref = "B-2", .name = "Bob", .currency = "USD" };
  RecoupInvoiceSpec invoice = { .ref = "INV-2", .issue_date = "2026-01-01", .due_date = "2026-01-31",
                                .amount = 5000, .currency = "USD" };
  g_autofree char *account = recoup_account_create (f->book, &other, &error);
  g_autofree char *theirs = NULL, *ours = NULL, *message = NULL;
  gint64 before;

  g_assert_no_error (error);
  invoice.account_id = account;
  theirs = recoup_invoice_add (f->book, &invoice, &error);
  g_assert_no_error (error);
  ours = recoup_invoice_resolve (f->book, "INV-1", &error);
  g_assert_no_error (error);

  before = recoup_book_count_changes (f->book);
  g_assert_null (recoup_dispute_open (f->book, f->account, theirs, "never ordered", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "invoice INV-2 is on account B-2, not on A-1");
  g_clear_error (&error);
  g_assert_null (recoup_dispute_open (f->book, account, ours, "never ordered", &error));
  g_assert_cmpstr (error->message, ==, "invoice INV-1 is on account A-1, not on B-2");
  g_clear_error (&error);
  g_assert_null (recoup_dispute_open (f->book, f->account, "no-such-invoice", "never ordered", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  message = g_strdup (error->message);
  g_clear_error (&error);
  g_assert_false (g_str_has_prefix (message, "dispute"));
  g_assert_nonnull (strstr (message, "no-such-invoice"));
  g_assert_cmpint (recoup_book_count_changes (f->book), ==, before);

  /* Its own invoice is taken. */
  g_free (recoup_dispute_open (f->book, account, theirs, "never ordered", &error));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/recoup/core/offers/split", test_split);
  g_test_add_func ("/recoup/core/offers/check-terms", test_check_terms);
  g_test_add_func ("/recoup/core/offers/replay-property", test_replay_property);
#define ADD(path, data, fn) \
  g_test_add ("/recoup/core/offers/" path, Fixture, data, fixture_set_up, fn, fixture_tear_down)
  ADD ("settlement-overpaid", NULL, test_settlement_overpaid);
  ADD ("settlement-paid-in-full", NULL, test_settlement_paid_in_full);
  ADD ("settlement-discount-follows-credits", NULL, test_settlement_discount_follows_credits);
  ADD ("plan-split-usd", "USD", test_plan_split_currency);
  ADD ("plan-split-jpy", "JPY", test_plan_split_currency);
  ADD ("plan-split-bhd", "BHD", test_plan_split_currency);
  ADD ("random-transitions", NULL, test_random_transitions);
  ADD ("settlement-discount", NULL, test_settlement_discount);
  ADD ("discount-at-limit", NULL, test_discount_at_limit);
  ADD ("owner-needs-no-approval", NULL, test_owner_needs_no_approval);
  ADD ("plan-runs", NULL, test_plan_runs);
  ADD ("plan-discount-waiver", NULL, test_plan_on_discounted_total_with_waiver);
  ADD ("authority", NULL, test_authority);
  ADD ("bad-input", NULL, test_bad_input);
  ADD ("expired", NULL, test_expired);
  ADD ("resolve", NULL, test_resolve);
  ADD ("offline-conflict", NULL, test_offline_conflict);
  ADD ("stale-balance", NULL, test_stale_balance);
  ADD ("stale-balance-marks", "EUR", test_stale_balance_marks);
  ADD ("cli", NULL, test_cli);
  ADD ("not-approved", NULL, test_not_approved);
  ADD ("cli-create", NULL, test_cli_create);
  ADD ("installment-limit", NULL, test_installment_limit);
  ADD ("waiver-offer-cancels-fee", NULL, test_waiver_offer_cancels_fee);
  ADD ("credit-before-offer-same-day", NULL, test_credit_before_offer_same_day);
  ADD ("credit-backdated-after-accept", NULL, test_credit_backdated_after_accept);
  ADD ("plan-counts-credits", NULL, test_plan_counts_credits);
  ADD ("accept-after-deadline", NULL, test_accept_after_deadline);
  ADD ("deferral-authority", NULL, test_deferral_authority);
  ADD ("zero-installments", NULL, test_zero_installments);
  ADD ("withdraw-running-refused", NULL, test_withdraw_running_refused);
  ADD ("dispute-other-invoice", NULL, test_dispute_other_invoice);
#undef ADD

  return g_test_run ();
}
