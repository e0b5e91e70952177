/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include "recoup-book-private.h"
#include "recoup-score-private.h"
#include "recoup-test-util.h"

/* Scores move in the obvious directions, explanations add up, the stored
 * score follows every write, and weights are validated. */

#define TODAY "2026-06-15"

static char *
account_with_debt (RecoupBook *book,
                   const char *ref,
                   const char *due,
                   gint64      amount)
{
  char *id = test_add_account (book, ref, "USD");
  g_autofree char *inv_ref = g_strdup_printf ("INV-%s", ref);

  g_free (test_add_invoice (book, id, inv_ref, "2026-01-01", due, amount, "USD"));
  return id;
}

static gint64
score_of (RecoupBook *book,
          const char *account)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (book, account, &error);
  gint64 sum = 0;

  g_assert_no_error (error);
  /* An explanation always adds up. */
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    {
      g_assert_nonnull (ex->items[i].raw);
      g_assert_cmpint (ex->items[i].points, >=, 0);
      g_assert_cmpint (ex->items[i].points, <=, RECOUP_SCORE_MAX);
      sum += ex->items[i].contribution;
    }
  if (ex->note == NULL)
    g_assert_cmpint (sum, ==, ex->score);
  return ex->score;
}

static gint64
points_of (RecoupBook          *book,
           const char          *account,
           RecoupScoreComponent c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (book, account, &error);

  g_assert_no_error (error);
  return ex->items[c].points;
}

static gint64
stored_score (TestBook   *tb,
              const char *account)
{
  g_autofree char *sql = g_strdup_printf ("SELECT score FROM account_stats WHERE account_id = '%s'", account);
  return test_query_int (tb->path, sql);
}

static void
pay (RecoupBook *book,
     const char *account,
     gint64      amount,
     const char *date)
{
  g_autoptr(GError) error = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = account, .amount = amount,
                           .effective_date = date, .method = "cash" };
  g_autofree char *id = recoup_ledger_record (book, &spec, &error);

  g_assert_no_error (error);
}

static void
log_call (RecoupBook *book,
          const char *account,
          const char *outcome,
          const char *at)
{
  g_autoptr(GError) error = NULL;
  RecoupActivitySpec spec = { .account_id = account, .channel = "call", .outcome = outcome };
  g_autofree char *id = NULL;

  g_assert_true (recoup_instant_parse (at, &spec.at, &error));
  id = recoup_activity_log (book, &spec, &error);
  g_assert_no_error (error);
}

static void
test_directions (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *small = NULL, *big = NULL, *young = NULL, *old = NULL, *paid = NULL;

  test_book_open (&tb);
  small = account_with_debt (tb.book, "S", "2026-05-01", 10000);
  big = account_with_debt (tb.book, "B", "2026-05-01", 400000);
  young = account_with_debt (tb.book, "Y", "2026-06-10", 100000);
  old = account_with_debt (tb.book, "O", "2026-02-01", 100000);

  /* A bigger balance, an older debt: higher. */
  g_assert_cmpint (score_of (tb.book, big), >, score_of (tb.book, small));
  g_assert_cmpint (score_of (tb.book, old), >, score_of (tb.book, young));
  g_assert_cmpint (points_of (tb.book, old, RECOUP_SCORE_AGE), ==, 134 * 10000 / 180);

  /* A payment lowers the balance and, being recent, the behaviour component. */
  {
    gint64 before = score_of (tb.book, old);
    gint64 behaviour = points_of (tb.book, old, RECOUP_SCORE_BEHAVIOUR);

    pay (tb.book, old, 40000, "2026-06-14");
    g_assert_cmpint (score_of (tb.book, old), <, before);
    g_assert_cmpint (points_of (tb.book, old, RECOUP_SCORE_BEHAVIOUR), <, behaviour);
  }

  /* A broken promise raises behaviour (more urgent); a kept one lowers it. */
  {
    RecoupPromiseSpec p = { .account_id = young, .amount = 5000, .due_date = "2026-06-01",
                            .grace_days = 0, .made_on = "2026-05-20" };
    gint64 before = points_of (tb.book, young, RECOUP_SCORE_BEHAVIOUR);
    g_autofree char *pid = recoup_promise_add (tb.book, &p, &error);

    g_assert_no_error (error);
    g_assert_cmpint (points_of (tb.book, young, RECOUP_SCORE_BEHAVIOUR), >, before);
  }
  {
    RecoupPromiseSpec p = { .account_id = small, .amount = 5000, .due_date = "2026-06-01",
                            .grace_days = 0, .made_on = "2026-05-20" };
    g_autofree char *pid = recoup_promise_add (tb.book, &p, &error);
    gint64 before;

    g_assert_no_error (error);
    before = points_of (tb.book, small, RECOUP_SCORE_BEHAVIOUR);
    pay (tb.book, small, 5000, "2026-05-30");   /* kept (and a payment within 90 days) */
    g_assert_cmpint (points_of (tb.book, small, RECOUP_SCORE_BEHAVIOUR), <, before);
  }

  /* Reaching the debtor raises responsiveness; unanswered attempts lower it. */
  log_call (tb.book, big, "no-answer", "2026-06-01T15:00:00Z");
  {
    gint64 r1 = points_of (tb.book, big, RECOUP_SCORE_RESPONSIVENESS);

    g_assert_cmpint (r1, ==, 0);
    log_call (tb.book, big, "right-party", "2026-06-02T15:00:00Z");
    g_assert_cmpint (points_of (tb.book, big, RECOUP_SCORE_RESPONSIVENESS), ==, 5000);
  }

  /* Relationship value and stage. */
  {
    gint64 before = score_of (tb.book, young);

    g_assert_true (recoup_account_set (tb.book, young, "tier", "gold", &error));
    g_assert_cmpint (score_of (tb.book, young), >, before);
    before = score_of (tb.book, young);
    g_assert_true (recoup_account_set (tb.book, young, "stage", "escalation", &error));
    g_assert_no_error (error);
    g_assert_cmpint (score_of (tb.book, young), >, before);
  }

  /* Paid in full: not scored. */
  paid = account_with_debt (tb.book, "P", "2026-05-01", 10000);
  pay (tb.book, paid, 10000, "2026-06-01");
  g_assert_cmpint (score_of (tb.book, paid), ==, 0);
  {
    g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (tb.book, paid, &error);
    g_assert_cmpstr (ex->segment, ==, "none");
    g_assert_nonnull (ex->note);
  }

  /* Unknown account. */
  g_assert_null (recoup_score_explain (tb.book, "nope", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  test_book_close (&tb);
}

/* The stored score is refreshed in the same transaction as the write. */
static void
test_refresh_at_commit (void)
{
  TestBook tb = { 0 };
  g_autofree char *acct = NULL;
  gint64 s1, s2;

  test_book_open (&tb);
  acct = account_with_debt (tb.book, "R", "2026-03-01", 300000);
  s1 = stored_score (&tb, acct);
  g_assert_cmpint (s1, ==, score_of (tb.book, acct));
  g_assert_cmpint (test_query_int (tb.path, "SELECT balance FROM account_stats"), ==, 300000);
  pay (tb.book, acct, 250000, "2026-06-10");
  s2 = stored_score (&tb, acct);
  g_assert_cmpint (s2, <, s1);
  g_assert_cmpint (s2, ==, score_of (tb.book, acct));
  g_assert_cmpint (test_query_int (tb.path, "SELECT balance FROM account_stats"), ==, 50000);
  /* Derived data is local: nothing of it is in the change log. */
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes WHERE entity = 'account_stats'"), ==, 0);
  test_book_close (&tb);
}

static void
count_progress (guint64  done,
                guint64  total,
                gpointer data)
{
  guint *calls = data;

  g_assert_cmpuint (done, <=, total);
  (*calls)++;
}

static void
test_weights (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL, *b = NULL;
  RecoupScoreSettings s, bad;
  gint64 changes;
  guint calls = 0;

  test_book_open (&tb);
  a = account_with_debt (tb.book, "W1", "2026-06-01", 250000);   /* half the balance cap */
  b = account_with_debt (tb.book, "W2", "2026-01-01", 10000);

  recoup_score_settings_load (tb.book, &s);
  g_assert_cmpint (s.weights[RECOUP_SCORE_BALANCE], ==, 30);
  /* Stats current for today: a change of weights re-scores from them. */
  g_assert_true (recoup_score_refresh_book (tb.book, NULL, NULL, &error));
  g_assert_no_error (error);

  /* Bad weights: a clear error and nothing changed. */
  changes = recoup_book_count_changes (tb.book);
  bad = s;
  bad.weights[RECOUP_SCORE_AGE] = -5;
  g_assert_false (recoup_score_settings_save (tb.book, &bad, NULL, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "age"));
  g_clear_error (&error);
  memset (bad.weights, 0, sizeof bad.weights);
  g_assert_false (recoup_score_settings_save (tb.book, &bad, NULL, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  bad = s;
  bad.medium = 7000;
  bad.high = 6000;
  g_assert_false (recoup_score_settings_save (tb.book, &bad, NULL, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);

  /* Only the balance counts: the score is the balance component, and the whole
   * book is re-scored with progress. */
  memset (s.weights, 0, sizeof s.weights);
  s.weights[RECOUP_SCORE_BALANCE] = 1;
  g_assert_true (recoup_score_settings_save (tb.book, &s, count_progress, &calls, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (calls, >=, 1);
  g_assert_cmpint (score_of (tb.book, a), ==, 5000);
  g_assert_cmpint (stored_score (&tb, a), ==, 5000);
  g_assert_cmpint (stored_score (&tb, b), ==, 200);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes WHERE entity = 'settings'"
                                            " AND entity_id LIKE 'score.weight.%'"), ==, 7);
  /* Segments by thresholds. */
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM account_stats WHERE segment = 'medium'"), ==, 1);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM account_stats WHERE segment = 'low'"), ==, 1);
  test_book_close (&tb);
}

static void
test_escalation (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL;
  g_autoptr(GArray) steps = NULL;
  guint changed = 0;

  test_book_open (&tb);
  /* Their invoices came before any was due, so each account is still
   * pre-collection (a first invoice gives an account the stage of its
   * day): moving them since is the policy's. */
  g_setenv ("RECOUP_TODAY", "2026-01-15", TRUE);
  a = account_with_debt (tb.book, "E1", "2026-06-14", 10000);   /* 1 day past due */
  b = account_with_debt (tb.book, "E2", "2026-04-16", 10000);   /* 60 */
  c = account_with_debt (tb.book, "E3", "2026-02-01", 10000);   /* 134 */
  g_setenv ("RECOUP_TODAY", TODAY, TRUE);
  {
    g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (tb.book, a, &error);
    g_assert_cmpstr (ex->next_action, ==, "reminder email");
    g_assert_cmpstr (ex->recommended_stage, ==, "active");
  }
  {
    g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (tb.book, b, &error);
    g_autofree char *words = NULL;

    g_assert_cmpstr (ex->next_action, ==, "letter");
    g_assert_cmpstr (ex->next_action_reason, ==, "policy-step:60:45:letter:0:letter");
    words = recoup_escalation_reason_describe (ex->next_action_reason);
    g_assert_cmpstr (words, ==, "60 days past due: the policy's step from day 45 is letter (letter)");
  }
  {
    g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (tb.book, c, &error);
    g_assert_cmpstr (ex->next_action, ==, "agency review");
    g_assert_cmpstr (ex->recommended_stage, ==, "escalation");
  }

  g_assert_true (recoup_escalation_apply (tb.book, &changed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changed, ==, 3);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM accounts WHERE stage = 'escalation'"), ==, 1);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM activities WHERE channel = 'system'"), ==, 3);
  /* Applying again changes nothing. */
  g_assert_true (recoup_escalation_apply (tb.book, &changed, &error));
  g_assert_cmpuint (changed, ==, 0);

  /* A custom policy; bad ones are refused and change nothing. */
  g_assert_false (recoup_escalation_policy_save (tb.book, "10:call:call;5:letter:letter", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (recoup_escalation_policy_save (tb.book, "10:pigeon:coo", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (recoup_escalation_policy_save (tb.book, "30:call:first call;200:system:legal review", &error));
  g_assert_no_error (error);
  steps = recoup_escalation_policy_load (tb.book);
  g_assert_cmpuint (steps->len, ==, 2);
  {
    g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (tb.book, c, &error);
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM account_stats WHERE account_id = '%s'"
                                            " AND next_action = 'first call'", c);

    g_assert_cmpstr (ex->next_action, ==, "first call");
    /* The stored next action follows the new policy too. */
    g_assert_cmpint (test_query_int (tb.path, sql), ==, 1);
  }
  test_book_close (&tb);
}

/* An account of TODAY owing 100.00 whose oldest item is @dpd days past due,
 * with nothing else on file. */
static RecoupAccountStats
stats_past_due (int dpd)
{
  RecoupAccountStats st = { 0 };

  g_strlcpy (st.stage, "active", sizeof st.stage);
  st.balance = 10000;
  st.oldest_dpd = dpd;
  st.oldest_due_day = recoup_date_parse (TODAY, NULL) - dpd;
  st.last_payment_day = RECOUP_DATE_INVALID;
  st.promise_due_day = RECOUP_DATE_INVALID;
  st.promise_broken_day = RECOUP_DATE_INVALID;
  st.plan_due_day = RECOUP_DATE_INVALID;
  return st;
}

/* The instant @days after the account's oldest due day began. */
static gint64
after_due (const RecoupAccountStats *st,
           int                       days)
{
  return ((gint64) st->oldest_due_day + days) * 86400 * 1000 + 1;
}

/* account_stats keeps the next action's reason as a code and its values, in
 * no language; every kind is worded back (here in the C locale) as the
 * English sentence it stands for. */
static void
test_reason_words (void)
{
  g_autoptr(GArray) standard = recoup_escalation_policy_parse (RECOUP_ESCALATION_DEFAULT_POLICY, NULL);
  g_autoptr(GArray) own = recoup_escalation_policy_parse ("1:email:reminder email;10:call:call: then write;"
                                                          "30:call:call", NULL);
  gint32 today = recoup_date_parse (TODAY, NULL);
  struct
  {
    GArray             *policy;
    RecoupAccountStats  st;
    const char         *stored;
    const char         *code;
    const char         *words;
  } cases[] = {
    { standard, stats_past_due (45), "nothing-owed", "nothing-owed", "nothing is owed" },
    { standard, stats_past_due (45), "dispute-open", "dispute-open",
      "a dispute is open: collection contacts are paused until it is resolved" },
    { standard, stats_past_due (45), "follow-up-due", "follow-up-due", "a follow-up is due" },
    { standard, stats_past_due (45), "promise-due-today", "promise-due-today", "a promise to pay is due today" },
    { standard, stats_past_due (45), "promise-broken:2026-06-12", "promise-broken",
      "the latest promise to pay was broken (its grace ended 2026-06-12)" },
    { standard, stats_past_due (45), "installment-missed", "installment-missed",
      "a payment-plan installment was missed" },
    { standard, stats_past_due (45), "promise-due:2026-06-20", "promise-due", "a promise to pay is due 2026-06-20" },
    { standard, stats_past_due (130), "plan-current:2026-07-01", "plan-current",
      "the payment plan is up to date: the next installment is due 2026-07-01" },
    { standard, stats_past_due (45), "policy-step:45:45:letter:0:letter", "policy-step",
      "45 days past due: the policy's step from day 45 is letter (letter)" },
    { standard, stats_past_due (1), "policy-step:1:1:email:0:reminder email", "policy-step",
      "1 day past due: the policy's step from day 1 is reminder email (e-mail)" },
    { standard, stats_past_due (130), "policy-step:130:120:system:0:agency review", "policy-step",
      "130 days past due: the policy's step from day 120 is agency review (system)" },
    { own, stats_past_due (40), "policy-step:40:30:call:1:call", "policy-step",
      "40 days past due: the policy's step from day 30 is call (call), already contacted since" },
    { own, stats_past_due (12), "policy-step:12:10:call:0:call: then write", "policy-step",
      "12 days past due: the policy's step from day 10 is call: then write (call)" },
    { standard, stats_past_due (20), "policy-next:20:45:letter:letter", "policy-next",
      "20 days past due: the next step, letter (letter), comes on day 45, in 25 days" },
    { standard, stats_past_due (0), "policy-next:0:1:email:reminder email", "policy-next",
      "0 days past due: the next step, reminder email (e-mail), comes on day 1, in 1 day" },
  };

  cases[0].st.balance = 0;
  cases[1].st.open_dispute = TRUE;
  cases[2].st.follow_up_at = (gint64) today * 86400 * 1000;
  cases[3].st.promise_due_day = today;
  cases[4].st.promise_broken_day = today - 3;
  cases[5].st.missed_installment = TRUE;
  cases[6].st.promise_due_day = today + 5;
  cases[7].st.plan_due_day = today + 16;
  cases[11].st.last_contact_at = after_due (&cases[11].st, 30);
  cases[13].st.last_contact_at = after_due (&cases[13].st, 15);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *action = NULL, *stored = NULL, *words = NULL;
      const char *stage;

      recoup_escalation_next (cases[i].policy, &cases[i].st, today, &action, &stored, &stage);
      g_assert_cmpstr (stored, ==, cases[i].stored);
      g_assert_cmpstr (recoup_escalation_reason_code (stored), ==, cases[i].code);
      words = recoup_escalation_reason_describe (stored);
      g_assert_cmpstr (words, ==, cases[i].words);
    }

  /* No step applies only to a policy no account meets; it has its words. */
  {
    g_autofree char *words = recoup_escalation_reason_describe ("no-step");

    g_assert_cmpstr (words, ==, "no policy step applies");
  }
  /* A book's English sentence from before reason codes, and text that only
   * looks like a code, read as they are, with no code. */
  {
    const char *legacy[] = {
      "45 days past due: the policy's step at 30 days is call (call)",
      "the latest promise to pay was broken (its grace ended 2026-11-01)",
      "nothing is owed",
      "policy-step:45:30:pigeon:0:coo",
      "policy-next:10:15:call",
      "promise-due:soon",
    };

    for (guint i = 0; i < G_N_ELEMENTS (legacy); i++)
      {
        g_autofree char *words = recoup_escalation_reason_describe (legacy[i]);

        g_assert_cmpstr (words, ==, legacy[i]);
        g_assert_null (recoup_escalation_reason_code (legacy[i]));
      }
  }
  g_assert_null (recoup_escalation_reason_describe (NULL));
}

/* "Why this account is here" reads each component's input as a sentence (the
 * C locale's here), and says why an account is not scored. */
static void
test_explanation_words (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL, *paid = NULL;

  test_book_open (&tb);
  a = account_with_debt (tb.book, "X1", "2026-04-16", 123400);   /* 60 days past due */
  g_assert_true (recoup_account_set (tb.book, a, "tier", "gold", &error));
  g_assert_no_error (error);
  log_call (tb.book, a, "no-answer", "2026-06-01T15:00:00Z");
  {
    g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (tb.book, a, &error);

    g_assert_no_error (error);
    g_assert_null (ex->note);
    g_assert_cmpstr (ex->items[RECOUP_SCORE_BALANCE].raw, ==, "1,234.00 USD owed (full at 5,000.00)");
    g_assert_cmpstr (ex->items[RECOUP_SCORE_AGE].raw, ==, "oldest open item 60 days past due (full at 180)");
    g_assert_cmpstr (ex->items[RECOUP_SCORE_AGE_WEIGHTED].raw, ==,
                     "60 days past due, weighted by balance (full at 180)");
    g_assert_cmpstr (ex->items[RECOUP_SCORE_BEHAVIOUR].raw, ==,
                     "promises kept: 0, broken: 0; payments in the last 90 days: 0");
    g_assert_cmpstr (ex->items[RECOUP_SCORE_RESPONSIVENESS].raw, ==, "right-party contacts: 0, attempts: 1");
    g_assert_cmpstr (ex->items[RECOUP_SCORE_RELATIONSHIP].raw, ==, "tier gold, lifetime revenue 0.00");
    /* The stage its first invoice, 60 days past due, gave it. */
    g_assert_cmpstr (ex->items[RECOUP_SCORE_STAGE].raw, ==, "stage active");
  }
  paid = account_with_debt (tb.book, "X2", "2026-06-14", 10000);   /* 1 day past due */
  {
    g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (tb.book, paid, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (ex->items[RECOUP_SCORE_AGE].raw, ==, "oldest open item 1 day past due (full at 180)");
    g_assert_cmpstr (ex->items[RECOUP_SCORE_RELATIONSHIP].raw, ==, "no tier, lifetime revenue 0.00");
  }
  pay (tb.book, paid, 10000, "2026-06-14");
  {
    g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (tb.book, paid, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (ex->note, ==, "nothing is owed: the account is not scored");
  }
  test_book_close (&tb);
}

static int
run_cli (const char  *path,
         char       **out,
         char       **err,
         ...)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  int status = 0;
  va_list args;

  g_ptr_array_add (argv, (char *) cli);
  g_ptr_array_add (argv, (char *) "--book");
  g_ptr_array_add (argv, (char *) path);
  va_start (args, err);
  for (const char *a = va_arg (args, const char *); a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, 0, NULL, NULL, out, err, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* explain, weights, policy and profile from the shell; bad input is refused
 * with exit 1 and changes nothing. */
static void
test_cli (void)
{
  TestBook tb = { 0 };
  g_autofree char *acct = NULL;
  gint64 changes;

  if (g_getenv ("RECOUP_CLI") == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  test_book_open (&tb);
  acct = account_with_debt (tb.book, "C-1", "2026-03-01", 123400);
  g_clear_object (&tb.book);
  changes = test_query_int (tb.path, "SELECT count(*) FROM changes");

  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_cli (tb.path, &out, &err, "explain", "C-1", NULL), ==, 0);
    g_assert_nonnull (strstr (out, "age-weighted"));
    g_assert_nonnull (strstr (out, "1,234.00"));
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_cli (tb.path, &out, &err, "explain", "NOPE", NULL), ==, 1);
    g_assert_nonnull (strstr (err, "NOPE"));
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_cli (tb.path, &out, &err, "weights", "--set", "balance=50", "--set", "age=-1", NULL), ==, 1);
    g_assert_nonnull (strstr (err, "age"));
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_cli (tb.path, &out, &err, "weights", "--set", "charm=5", NULL), ==, 1);
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_cli (tb.path, &out, &err, "weights", "--set", "balance=0", "--set", "age=0",
                              "--set", "age-weighted=0", "--set", "behaviour=0", "--set", "responsiveness=0",
                              "--set", "relationship=0", "--set", "stage=0", NULL), ==, 1);
    g_assert_nonnull (strstr (err, "zero"));
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_cli (tb.path, &out, &err, "profile", "lenient", NULL), ==, 1);
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_cli (tb.path, &out, &err, "policy", "--set", "5:call:x;3:letter:y", NULL), ==, 1);
  }
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes"), ==, changes);

  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_cli (tb.path, &out, &err, "--json", "weights", "--set", "balance=60", NULL), ==, 0);
    g_assert_nonnull (strstr (out, "\"balance\" : 60"));
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_cli (tb.path, &out, &err, "profile", "first-party", NULL), ==, 0);
    g_assert_nonnull (strstr (out, "first-party"));
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_cli (tb.path, &out, &err, "policy", NULL), ==, 0);
    g_assert_nonnull (strstr (out, "agency review"));
  }
  test_book_close (&tb);
}

/* Large transactions take the set-based paths: a whole-book rebuild when most
 * of the book was touched, one merge pass over the touched ids otherwise.
 * Both must agree with the one-account path. */
static void
test_batch_paths (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  const char *mismatch =
    "SELECT count(*) FROM accounts a LEFT JOIN account_stats s ON s.account_id = a.id"
    " WHERE s.balance IS NOT (SELECT coalesce(sum(amount), 0) FROM ledger_entries l WHERE l.account_id = a.id)";

  test_book_open (&tb);
  g_assert_true (recoup_book_begin (tb.book, &error));
  for (guint i = 0; i < 4200; i++)
    {
      g_autofree char *ref = g_strdup_printf ("BATCH-%04u", i);

      g_ptr_array_add (ids, test_add_account (tb.book, ref, "USD"));
      if (i < 2100)
        {
          g_autofree char *inv = g_strdup_printf ("BI-%04u", i);
          g_free (test_add_invoice (tb.book, ids->pdata[i], inv, "2026-01-01", "2026-02-01", 1000 + i, "USD"));
        }
    }
  g_assert_true (recoup_book_commit (tb.book, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM account_stats"), ==, 4200);
  g_assert_cmpint (test_query_int (tb.path, mismatch), ==, 0);

  /* 2001 of 4200 accounts: the batch path. */
  g_assert_true (recoup_book_begin (tb.book, &error));
  for (guint i = 2100; i < 4101; i++)
    {
      g_autofree char *inv = g_strdup_printf ("BI-%04u", i);
      g_free (test_add_invoice (tb.book, ids->pdata[i], inv, "2026-01-01", "2026-05-01", 5000, "USD"));
    }
  g_assert_true (recoup_book_commit (tb.book, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (tb.path, mismatch), ==, 0);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM account_stats WHERE oldest_dpd = 45"), ==, 2001);
  /* The stored score is what the one-account path computes. */
  for (guint i = 2095; i < 2110; i++)
    g_assert_cmpint (stored_score (&tb, ids->pdata[i]), ==, score_of (tb.book, ids->pdata[i]));
  test_book_close (&tb);
}

/* The tiers the score knows, by name or alias, in any case; others none. */
static void
test_tiers (void)
{
  static const char * const cases[][2] = {
    { "platinum", "platinum" }, { "Key", "platinum" }, { "A", "platinum" }, { "1", "platinum" },
    { "GOLD", "gold" }, { "b", "gold" }, { "silver", "silver" }, { "3", "silver" }, { "bronze", "bronze" },
    { "d", "bronze" }, { "", NULL }, { "vip", NULL }, { "goldd", NULL }, { "gold ", NULL },
  };
  const char * const *tiers = recoup_score_tiers ();

  g_assert_cmpuint (g_strv_length ((char **) tiers), ==, 4);
  g_assert_cmpstr (tiers[0], ==, "platinum");
  g_assert_cmpstr (tiers[3], ==, "bronze");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpstr (recoup_score_tier_canonical (cases[i][0]), ==, cases[i][1]);
  g_assert_null (recoup_score_tier_canonical (NULL));
}

/* ---- Payment plans -------------------------------------------------------- */

/* A payment recorded on @date, which becomes the book's today (a payment is
 * recorded on or after the day it is received). */
static char *
pay_on (RecoupBook *book,
        const char *account,
        gint64      amount,
        const char *date)
{
  g_autoptr(GError) error = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = account, .amount = amount,
                           .effective_date = date, .method = "cash" };
  char *id;

  g_setenv ("RECOUP_TODAY", date, TRUE);
  id = recoup_ledger_record (book, &spec, &error);
  g_assert_no_error (error);
  return id;
}

/* A monthly plan of the balance in @n installments from @first, made, sent
 * and accepted today. */
static char *
accepted_plan (RecoupBook *book,
               const char *account,
               int         n,
               const char *first)
{
  g_autoptr(GError) error = NULL;
  RecoupOfferSpec spec = { .account_id = account, .kind = RECOUP_OFFER_PLAN, .installments = n,
                           .frequency = RECOUP_FREQUENCY_MONTHLY, .first_date = first };
  char *id = recoup_offer_create (book, &spec, &error);

  g_assert_no_error (error);
  g_assert_true (recoup_offer_transition (book, id, RECOUP_OFFER_EVENT_SEND, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_offer_transition (book, id, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_no_error (error);
  return id;
}

/* One column of the account's stored derived row, as text ("" for NULL). */
static char *
stored_text (TestBook   *tb,
             const char *account,
             const char *column)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = g_strdup_printf ("SELECT coalesce (%s, '') FROM account_stats WHERE account_id = ?",
                                          column);
  sqlite3_stmt *stmt;
  char *text = NULL;

  g_assert_true (recoup_score_ensure_current (tb->book, NULL, NULL, &error));
  g_assert_no_error (error);
  stmt = recoup_book_prepare (tb->book, sql, &error);
  g_assert_no_error (error);
  sqlite3_bind_text (stmt, 1, account, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return text;
}

/* The next action and its reason, as explained now and as stored. */
static void
assert_next (TestBook   *tb,
             const char *account,
             const char *action,
             const char *reason)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (tb->book, account, &error);
  g_autofree char *stored_action = stored_text (tb, account, "next_action");
  g_autofree char *stored_reason = stored_text (tb, account, "next_action_reason");

  g_assert_no_error (error);
  g_assert_cmpstr (ex->next_action, ==, action);
  g_assert_cmpstr (ex->next_action_reason, ==, reason);
  g_assert_cmpstr (stored_action, ==, action);
  g_assert_cmpstr (stored_reason, ==, reason);
}

static gboolean
reminded (RecoupBook *book,
          const char *account)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupRemindRun) run = recoup_remind_propose (book, 0, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < run->items->len; i++)
    if (g_str_equal (((RecoupRemindItem *) g_ptr_array_index (run->items, i))->account_id, account))
      return TRUE;
  return FALSE;
}

/* An account 134 days past due that agreed a plan and pays it as due waits
 * for its next installment: no dunning step, no reminder letter, no age
 * points, stage negotiation. A missed installment is called about; once the
 * plan has defaulted, the policy's step applies again. */
static void
test_plan_current (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *on_plan = NULL, *without = NULL, *plan = NULL, *paid = NULL;
  g_autofree char *dpd = NULL, *rank = NULL, *stage = NULL;

  test_book_open (&tb);
  on_plan = account_with_debt (tb.book, "PL-1", "2026-02-01", 120000);
  without = account_with_debt (tb.book, "PL-0", "2026-02-01", 120000);
  plan = accepted_plan (tb.book, on_plan, 4, TODAY);          /* 300.00 on the 15th */
  paid = pay_on (tb.book, on_plan, 30000, TODAY);

  assert_next (&tb, on_plan, "wait for the next installment", "plan-current:2026-07-15");
  {
    g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (tb.book, on_plan, &error);
    g_autofree char *words = recoup_escalation_reason_describe (ex->next_action_reason);

    g_assert_cmpstr (words, ==, "the payment plan is up to date: the next installment is due 2026-07-15");
    g_assert_cmpstr (ex->recommended_stage, ==, "negotiation");
    g_assert_cmpint (ex->items[RECOUP_SCORE_AGE].points, ==, 0);
    g_assert_cmpint (ex->items[RECOUP_SCORE_AGE_WEIGHTED].points, ==, 0);
    g_assert_cmpstr (ex->items[RECOUP_SCORE_AGE].raw, ==,
                     "payment plan: oldest unpaid installment 0 days past due (full at 180)");
  }
  /* The ledger's days past due are the invoices' still. */
  dpd = stored_text (&tb, on_plan, "oldest_dpd");
  g_assert_cmpstr (dpd, ==, "134");
  /* A current plan waits for its next installment: after the work of today. */
  rank = stored_text (&tb, on_plan, "queue_rank");
  g_assert_cmpstr (rank, ==, "6");
  g_assert_false (reminded (tb.book, on_plan));
  g_assert_true (reminded (tb.book, without));
  assert_next (&tb, without, "agency review", "policy-step:134:120:system:0:agency review");

  /* 2026-07-15 is unpaid past its grace (3 days). */
  g_setenv ("RECOUP_TODAY", "2026-07-20", TRUE);
  assert_next (&tb, on_plan, "call about the missed installment", "installment-missed");
  g_clear_pointer (&rank, g_free);
  rank = stored_text (&tb, on_plan, "queue_rank");
  g_assert_cmpstr (rank, ==, "4");
  g_assert_false (reminded (tb.book, on_plan));

  /* Two missed: the plan defaulted, and the policy applies again. */
  g_setenv ("RECOUP_TODAY", "2026-08-20", TRUE);
  {
    g_autoptr(RecoupOffer) o = recoup_offer_load (tb.book, plan, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpint (o->state, ==, RECOUP_OFFER_STATE_DEFAULTED);
  }
  assert_next (&tb, on_plan, "agency review", "policy-step:200:120:system:0:agency review");
  stage = stored_text (&tb, on_plan, "recommended_stage");
  g_assert_cmpstr (stage, ==, "escalation");
  g_assert_true (reminded (tb.book, on_plan));

  g_setenv ("RECOUP_TODAY", TODAY, TRUE);
  test_book_close (&tb);
}

/* QA's case: a plan or a settlement accepted after a broken promise
 * replaces the promise. The account waits for the arrangement's payment
 * instead of staying in the promise queue with "call about the broken
 * promise" for 30 days. */
static void
test_arrangement_after_broken_promise (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *on_plan = NULL, *settled = NULL, *plan = NULL, *settlement = NULL;
  const char *accounts[2];

  test_book_open (&tb);
  on_plan = account_with_debt (tb.book, "BP-1", "2026-04-16", 120000);
  settled = account_with_debt (tb.book, "BP-2", "2026-04-16", 120000);
  accounts[0] = on_plan;
  accounts[1] = settled;
  /* Each promised 50.00 by 2026-06-05 and paid nothing. */
  g_setenv ("RECOUP_TODAY", "2026-06-01", TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (accounts); i++)
    {
      RecoupPromiseSpec promise = { .account_id = accounts[i], .amount = 5000, .due_date = "2026-06-05" };

      g_free (recoup_promise_add (tb.book, &promise, &error));
      g_assert_no_error (error);
    }
  g_setenv ("RECOUP_TODAY", TODAY, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (accounts); i++)
    {
      g_autofree char *rank = stored_text (&tb, accounts[i], "queue_rank");
      g_autofree char *reason = stored_text (&tb, accounts[i], "next_action_reason");

      g_assert_cmpstr (rank, ==, "2");
      g_assert_true (g_str_has_prefix (reason, "promise-broken:"));
    }

  plan = accepted_plan (tb.book, on_plan, 4, "2026-07-01");
  {
    RecoupOfferSpec spec = { .account_id = settled, .kind = RECOUP_OFFER_SETTLEMENT, .amount = 100000,
                             .pay_by = "2026-06-30" };

    settlement = recoup_offer_create (tb.book, &spec, &error);
    g_assert_no_error (error);
    g_assert_true (recoup_offer_transition (tb.book, settlement, RECOUP_OFFER_EVENT_SEND, NULL, &error));
    g_assert_true (recoup_offer_transition (tb.book, settlement, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
    g_assert_no_error (error);
  }
  assert_next (&tb, on_plan, "wait for the next installment", "plan-current:2026-07-01");
  assert_next (&tb, settled, "wait for the next installment", "plan-current:2026-06-30");
  for (guint i = 0; i < G_N_ELEMENTS (accounts); i++)
    {
      g_autofree char *rank = stored_text (&tb, accounts[i], "queue_rank");

      g_assert_cmpstr (rank, ==, "6");
    }
  test_book_close (&tb);
}

/* An account no one may contact (cease communication, an attorney,
 * bankruptcy, death) has no work today whatever its step: it is listed after
 * every account with work now, not first because its debt is the oldest;
 * and back in its place once the flag is lifted. A follow-up someone set on
 * it stays theirs to do. */
static void
test_no_contact_waits (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *oldest = NULL, *younger = NULL;
  const char *flags[] = { "cease_communication", "attorney_represented", "bankruptcy", "deceased" };

  test_book_open (&tb);
  oldest = account_with_debt (tb.book, "NC-1", "2026-02-01", 500000);
  younger = account_with_debt (tb.book, "NC-2", "2026-05-01", 10000);
  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    {
      g_autofree char *before = stored_text (&tb, oldest, "queue_rank");
      g_autofree char *during = NULL, *after = NULL, *other = NULL;

      g_assert_cmpstr (before, ==, "5");
      g_assert_true (recoup_account_set (tb.book, oldest, flags[i], "yes", &error));
      g_assert_no_error (error);
      during = stored_text (&tb, oldest, "queue_rank");
      other = stored_text (&tb, younger, "queue_rank");
      if (g_strcmp0 (during, "6") != 0)
        g_error ("%s: queue rank %s, expected 6 (after the work of today)", flags[i], during);
      g_assert_cmpstr (other, ==, "5");
      g_assert_true (recoup_account_set (tb.book, oldest, flags[i], "no", &error));
      g_assert_no_error (error);
      after = stored_text (&tb, oldest, "queue_rank");
      g_assert_cmpstr (after, ==, "5");
    }
  /* The whole book rescored (a new policy, another day) judges it alike. */
  g_assert_true (recoup_account_set (tb.book, oldest, "cease_communication", "yes", &error));
  g_assert_true (recoup_escalation_policy_save (tb.book, "30:call:first call;200:system:legal review", &error));
  g_assert_no_error (error);
  {
    g_autofree char *rank = stored_text (&tb, oldest, "queue_rank");

    g_assert_cmpstr (rank, ==, "6");
  }
  test_book_close (&tb);
}

/* The plan's installments and the next action follow one rule
 * (recoup-offer.c's): a reversal of a payment made before the plan was
 * accepted takes nothing from the plan; a reversal of one counted toward it
 * does. */
static void
test_plan_reversal (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *plan = NULL, *before = NULL, *counted = NULL;
  g_autofree char *missed = NULL;

  test_book_open (&tb);
  acct = account_with_debt (tb.book, "PR-1", "2026-02-01", 120000);
  before = pay_on (tb.book, acct, 20000, "2026-05-10");
  g_setenv ("RECOUP_TODAY", "2026-05-20", TRUE);
  plan = accepted_plan (tb.book, acct, 4, "2026-05-25");      /* 250.00 on the 25th */
  counted = pay_on (tb.book, acct, 25000, "2026-05-25");
  g_setenv ("RECOUP_TODAY", TODAY, TRUE);
  g_free (recoup_ledger_reverse (tb.book, before, TODAY, "cheque bounced", &error));
  g_assert_no_error (error);

  {
    g_autoptr(RecoupOffer) o = recoup_offer_current_plan (tb.book, acct, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (o->id, ==, plan);
    g_assert_cmpuint (o->n_missed, ==, 0);
    g_assert_cmpint (g_array_index (o->schedule, RecoupInstallment, 0).status, ==, RECOUP_INSTALLMENT_PAID);
  }
  missed = stored_text (&tb, acct, "missed_installment");
  g_assert_cmpstr (missed, ==, "0");
  assert_next (&tb, acct, "wait for the next installment", "plan-current:2026-06-25");

  /* The installment's own payment bounces: it is missed, in both. */
  g_free (recoup_ledger_reverse (tb.book, counted, TODAY, "cheque bounced", &error));
  g_assert_no_error (error);
  {
    g_autoptr(RecoupOffer) o = recoup_offer_current_plan (tb.book, acct, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (o->n_missed, ==, 1);
    g_assert_cmpint (g_array_index (o->schedule, RecoupInstallment, 0).status, ==, RECOUP_INSTALLMENT_MISSED);
  }
  g_clear_pointer (&missed, g_free);
  missed = stored_text (&tb, acct, "missed_installment");
  g_assert_cmpstr (missed, ==, "1");
  assert_next (&tb, acct, "call about the missed installment", "installment-missed");
  test_book_close (&tb);
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("RECOUP_TODAY", TODAY, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recoup/core/score/directions", test_directions);
  g_test_add_func ("/recoup/core/score/tiers", test_tiers);
  g_test_add_func ("/recoup/core/score/refresh-at-commit", test_refresh_at_commit);
  g_test_add_func ("/recoup/core/score/weights", test_weights);
  g_test_add_func ("/recoup/core/score/escalation", test_escalation);
  g_test_add_func ("/recoup/core/score/reason-words", test_reason_words);
  g_test_add_func ("/recoup/core/score/explanation-words", test_explanation_words);
  g_test_add_func ("/recoup/core/score/cli", test_cli);
  g_test_add_func ("/recoup/core/score/batch-paths", test_batch_paths);
  g_test_add_func ("/recoup/core/score/plan-current", test_plan_current);
  g_test_add_func ("/recoup/core/score/plan-reversal", test_plan_reversal);
  g_test_add_func ("/recoup/core/score/arrangement-after-broken-promise", test_arrangement_after_broken_promise);
  g_test_add_func ("/recoup/core/score/no-contact-waits", test_no_contact_waits);
  return g_test_run ();
}
