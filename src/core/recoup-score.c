/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-score"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "recoup-accounts.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-guard.h"
#include "recoup-money.h"
#include "recoup-score-private.h"
#include "recoup-settings.h"

static const char * const component_names[RECOUP_SCORE_N_COMPONENTS] = {
  "balance", "age", "age-weighted", "behaviour", "responsiveness", "relationship", "stage",
};

static const gint64 default_weights[RECOUP_SCORE_N_COMPONENTS] = {
  30, 20, 10, 15, 10, 5, 10,
};

#define MAX_WEIGHT 1000000
#define AGE_FULL_DAYS 180

/* The form account_stats rows are written in, part of the signature so that a
 * book written in another form is rebuilt once: 2, next_action_reason holds a
 * reason code and its values, where it held English words; 3, a live payment
 * plan is judged by recoup-offer.c's rule and kept in plan_due_date (a column
 * recoup-derived.c adds to older books); 4, an account whose step is to wait
 * has its own queue rank (RECOUP_QUEUE_WAIT), after the work of today; 5, a
 * reversal of an entry without an invoice (a fee, interest, an adjustment)
 * cancels that entry's item, where it went into the credit pool and aged the
 * oldest invoice instead; 7, call_blocks holds what stops every call (schema
 * 11 adds it with every block set, so no account reads as callable before
 * its row is gathered again); 8, calls_open_at holds when the call history
 * stops blocking calls (schema 12 adds it set to never, likewise); 9, a
 * payment made on a promise's day before the promise no longer keeps it. */
#define DERIVED_FORM 9

const char *
recoup_score_component_name (RecoupScoreComponent component)
{
  g_return_val_if_fail (component < RECOUP_SCORE_N_COMPONENTS, NULL);
  return component_names[component];
}

gboolean
recoup_score_component_from_name (const char           *name,
                                  RecoupScoreComponent *out)
{
  guint i;

  if (!recoup_name_index (component_names, RECOUP_SCORE_N_COMPONENTS, name, &i))
    return FALSE;
  *out = (RecoupScoreComponent) i;
  return TRUE;
}

void
recoup_score_settings_default (RecoupScoreSettings *settings)
{
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    settings->weights[i] = default_weights[i];
  settings->high = 6000;
  settings->medium = 3000;
  settings->balance_cap = 500000;      /* 5,000.00 in a two-digit currency */
  settings->revenue_cap = 10000000;    /* 100,000.00 */
}

void
recoup_score_settings_load (RecoupBook          *book,
                            RecoupScoreSettings *settings)
{
  RecoupScoreSettings def;

  recoup_score_settings_default (&def);
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    {
      g_autofree char *key = g_strdup_printf ("score.weight.%s", component_names[i]);

      settings->weights[i] = recoup_settings_get_int (book, key, def.weights[i], 0, MAX_WEIGHT);
    }
  settings->high = recoup_settings_get_int (book, "score.high", def.high, 0, RECOUP_SCORE_MAX);
  settings->medium = recoup_settings_get_int (book, "score.medium", def.medium, 0, RECOUP_SCORE_MAX);
  settings->balance_cap = recoup_settings_get_int (book, "score.balance_cap", def.balance_cap, 1, G_MAXINT64 / RECOUP_SCORE_MAX);
  settings->revenue_cap = recoup_settings_get_int (book, "score.revenue_cap", def.revenue_cap, 1, G_MAXINT64 / RECOUP_SCORE_MAX);
  if (recoup_score_settings_validate (settings, NULL) == FALSE)
    *settings = def;
}

gboolean
recoup_score_settings_validate (const RecoupScoreSettings  *settings,
                                GError                    **error)
{
  gint64 total = 0;

  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    {
      if (settings->weights[i] < 0 || settings->weights[i] > MAX_WEIGHT)
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "the weight of %s is %" G_GINT64_FORMAT ": weights must be whole numbers "
                       "from 0 to %d", component_names[i], settings->weights[i], MAX_WEIGHT);
          return FALSE;
        }
      total += settings->weights[i];
    }
  if (total == 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "all weights are zero: give at least one component a weight above 0");
      return FALSE;
    }
  if (settings->medium < 0 || settings->high > RECOUP_SCORE_MAX || settings->medium >= settings->high)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "segment thresholds must satisfy 0 <= medium < high <= %d (medium %" G_GINT64_FORMAT
                   ", high %" G_GINT64_FORMAT ")", RECOUP_SCORE_MAX, settings->medium, settings->high);
      return FALSE;
    }
  if (settings->balance_cap <= 0 || settings->revenue_cap <= 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "the balance and revenue caps must be above 0");
      return FALSE;
    }
  return TRUE;
}

static gint64
linear (gint64 value,
        gint64 full)
{
  if (value <= 0)
    return 0;
  if (value >= full)
    return RECOUP_SCORE_MAX;
  return value * RECOUP_SCORE_MAX / full;
}

/* Each tier with its aliases and the relationship points it is worth. */
static const struct
{
  const char *names[4];   /* the tier, then its aliases */
  gint64      points;
} tiers[] = {
  { { "platinum", "key", "a", "1" }, 10000 },
  { { "gold", "b", "2" }, 7000 },
  { { "silver", "c", "3" }, 4000 },
  { { "bronze", "d", "4" }, 2000 },
};

const char * const *
recoup_score_tiers (void)
{
  static const char * const names[] = { "platinum", "gold", "silver", "bronze", NULL };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == G_N_ELEMENTS (tiers) + 1);
  return names;
}

static int
tier_index (const char *tier)
{
  g_autofree char *t = NULL;

  if (tier == NULL || *tier == '\0')
    return -1;
  t = g_ascii_strdown (tier, -1);
  for (guint i = 0; i < G_N_ELEMENTS (tiers); i++)
    for (guint k = 0; k < G_N_ELEMENTS (tiers[i].names) && tiers[i].names[k] != NULL; k++)
      if (g_str_equal (t, tiers[i].names[k]))
        return (int) i;
  return -1;
}

const char *
recoup_score_tier_canonical (const char *tier)
{
  int i = tier_index (tier);

  return i >= 0 ? tiers[i].names[0] : NULL;
}

static gint64
tier_points (const char *tier)
{
  int i = tier_index (tier);

  return i >= 0 ? tiers[i].points : 0;
}

static gint64
stage_points (const char *stage)
{
  if (!g_strcmp0 (stage, "pre-collection"))
    return 2500;
  if (!g_strcmp0 (stage, "active"))
    return 5000;
  if (!g_strcmp0 (stage, "negotiation"))
    return 6000;
  if (!g_strcmp0 (stage, "escalation"))
    return 9000;
  return 0;
}

/**
 * recoup_score_compute:
 * @items: (nullable): RECOUP_SCORE_N_COMPONENTS items to fill; their raw texts
 *   are allocated only when @items is given
 *
 * The score rule; integer arithmetic only, so every replica agrees.
 */
gint64
recoup_score_compute (const RecoupScoreSettings *settings,
                      const RecoupAccountStats  *st,
                      RecoupScoreItem           *items,
                      const char               **out_segment,
                      const char               **out_note)
{
  gint64 points[RECOUP_SCORE_N_COMPONENTS];
  gboolean on_plan = recoup_account_stats_on_plan (st);
  gint64 total_weight = 0;
  gint64 score = 0;
  gint64 behaviour;

  points[RECOUP_SCORE_BALANCE] = linear (st->balance, settings->balance_cap);
  /* An account on a live plan is as late as the plan is, not as its
   * invoices are: the plan set new due dates for the whole balance. */
  points[RECOUP_SCORE_AGE] = linear (on_plan ? st->plan_dpd : st->oldest_dpd, AGE_FULL_DAYS);
  points[RECOUP_SCORE_AGE_WEIGHTED] = linear (on_plan ? st->plan_dpd : st->weighted_dpd, AGE_FULL_DAYS);
  behaviour = 5000 + 2000 * (gint64) MIN (st->promises_broken, 5) - 1000 * (gint64) MIN (st->promises_kept, 5)
              - (st->paid_90d > 0 ? 2500 : 0);
  points[RECOUP_SCORE_BEHAVIOUR] = CLAMP (behaviour, 0, RECOUP_SCORE_MAX);
  points[RECOUP_SCORE_RESPONSIVENESS] =
    st->contact_attempts > 0 ? MIN ((gint64) st->contacts_rpc * RECOUP_SCORE_MAX / st->contact_attempts,
                                    RECOUP_SCORE_MAX)
                             : 5000;
  points[RECOUP_SCORE_RELATIONSHIP] = MAX (tier_points (st->tier),
                                           linear (st->lifetime_revenue, settings->revenue_cap));
  points[RECOUP_SCORE_STAGE] = stage_points (st->stage);

  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    total_weight += settings->weights[i];
  if (total_weight <= 0)
    total_weight = 1;

  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    {
      gint64 contribution = points[i] * settings->weights[i] / total_weight;

      score += contribution;
      if (items != NULL)
        {
          items[i].component = component_names[i];
          items[i].points = points[i];
          items[i].weight = settings->weights[i];
          items[i].contribution = contribution;
        }
    }

  if (items != NULL)
    {
      const char *currency = st->currency[0] ? st->currency : "USD";
      g_autofree char *bal = recoup_money_format_for_reader (st->balance, currency, RECOUP_MONEY_FORMAT_GROUPING);
      g_autofree char *cap = recoup_money_format_for_reader (settings->balance_cap, currency,
                                                             RECOUP_MONEY_FORMAT_GROUPING);
      g_autofree char *rev = recoup_money_format_for_reader (st->lifetime_revenue, currency,
                                                             RECOUP_MONEY_FORMAT_GROUPING);

      /* Translators: the balance, its currency, then the balance at which
       * the component gives all its points: “1,234.00 USD owed (full at 5,000.00)” */
      items[RECOUP_SCORE_BALANCE].raw = g_strdup_printf (_("%s %s owed (full at %s)"), bal, st->currency, cap);
      if (on_plan)
        {
          items[RECOUP_SCORE_AGE].raw =
            /* Translators: the second number is days past due too */
            g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "payment plan: oldest unpaid installment %d day past due (full at %d)",
                                          "payment plan: oldest unpaid installment %d days past due (full at %d)",
                                          st->plan_dpd),
                             st->plan_dpd, AGE_FULL_DAYS);
          items[RECOUP_SCORE_AGE_WEIGHTED].raw =
            /* Translators: the second number is days past due too */
            g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "payment plan for the whole balance: %d day past due (full at %d)",
                                          "payment plan for the whole balance: %d days past due (full at %d)",
                                          st->plan_dpd),
                             st->plan_dpd, AGE_FULL_DAYS);
        }
      else
        {
          items[RECOUP_SCORE_AGE].raw =
            /* Translators: the second number is days past due too */
            g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "oldest open item %d day past due (full at %d)",
                                          "oldest open item %d days past due (full at %d)", st->oldest_dpd),
                             st->oldest_dpd, AGE_FULL_DAYS);
          items[RECOUP_SCORE_AGE_WEIGHTED].raw =
            /* Translators: the second number is days past due too */
            g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d day past due, weighted by balance (full at %d)",
                                          "%d days past due, weighted by balance (full at %d)", st->weighted_dpd),
                             st->weighted_dpd, AGE_FULL_DAYS);
        }
      items[RECOUP_SCORE_BEHAVIOUR].raw =
        g_strdup_printf (_("promises kept: %d, broken: %d; payments in the last 90 days: %d"),
                         st->promises_kept, st->promises_broken, st->payments_90d);
      /* Translators: contacts that reached the debtor, of all attempts */
      items[RECOUP_SCORE_RESPONSIVENESS].raw = g_strdup_printf (_("right-party contacts: %d, attempts: %d"),
                                                                st->contacts_rpc, st->contact_attempts);
      if (st->tier[0] != '\0')
        /* Translators: the account's tier as the book names it (“gold”), then an amount */
        items[RECOUP_SCORE_RELATIONSHIP].raw = g_strdup_printf (_("tier %s, lifetime revenue %s"), st->tier, rev);
      else
        items[RECOUP_SCORE_RELATIONSHIP].raw = g_strdup_printf (_("no tier, lifetime revenue %s"), rev);
      /* Translators: the collection stage's stored name (pre-collection,
       * active, negotiation, escalation, closed) */
      items[RECOUP_SCORE_STAGE].raw = g_strdup_printf (_("stage %s"), st->stage);
    }

  if (out_note != NULL)
    *out_note = NULL;
  if (st->balance <= 0 || g_strcmp0 (st->stage, "closed") == 0 || st->deleted)
    {
      /* Worded by recoup_score_explain(): the derived rows need no words. */
      if (out_note != NULL)
        *out_note = st->balance <= 0 ? N_("nothing is owed: the account is not scored")
                                     : N_("the account is closed: it is not scored");
      if (out_segment != NULL)
        *out_segment = "none";
      return 0;
    }
  if (out_segment != NULL)
    *out_segment = score >= settings->high ? "high" : score >= settings->medium ? "medium" : "low";
  return score;
}

/* Escalation reasons whose step is to wait (recoup-escalation.h). */
static gboolean
reason_waits (const char *reason)
{
  return reason != NULL && (g_str_has_prefix (reason, "policy-next:") || g_str_has_prefix (reason, "promise-due:") ||
                            g_str_has_prefix (reason, "plan-current:"));
}

int
recoup_score_queue_rank (const RecoupAccountStats *st,
                         const char               *segment,
                         gint32                    today,
                         const char               *reason,
                         int                       recent_days)
{
  gint64 end_of_today = ((gint64) today + 1) * 86400 * 1000;
  gint64 recent_since = ((gint64) today - recent_days) * 86400 * 1000;
  int rank;

  if (g_strcmp0 (segment, "none") == 0)
    return RECOUP_QUEUE_NONE;
  if (st->follow_up_at != 0 && st->follow_up_at < end_of_today)
    return RECOUP_QUEUE_FOLLOW_UP;
  /* Nothing can be done with an account no one may contact but wait for
   * the flag to be lifted: it comes after every account with work now. A
   * follow-up someone set on it is still theirs to do. */
  if (st->no_contact)
    return RECOUP_QUEUE_WAIT;
  if (st->promise_due_day == today || recoup_account_stats_promise_broken_lately (st, today))
    return RECOUP_QUEUE_PROMISE;
  /* An account on a plan is no fresh delinquency: it is in the plan queue
   * when behind, ranked by its score when not. */
  if (recoup_account_stats_on_plan (st))
    rank = st->missed_installment ? RECOUP_QUEUE_PLAN : RECOUP_QUEUE_PRIORITY;
  else if (st->oldest_dpd >= 1 && st->oldest_dpd <= RECOUP_QUEUE_FRESH_DAYS)
    rank = RECOUP_QUEUE_FRESH;
  else
    rank = RECOUP_QUEUE_PRIORITY;
  if (rank != RECOUP_QUEUE_PLAN && reason_waits (reason))
    return RECOUP_QUEUE_WAIT;
  if (rank == RECOUP_QUEUE_PRIORITY && st->last_contact_at != 0 && st->last_contact_at >= recent_since)
    return RECOUP_QUEUE_WAIT;
  return rank;
}

int
recoup_score_recent_days (RecoupBook *book)
{
  return (int) recoup_settings_get_int (book, "worklist.recent_days", 3, 0, 365);
}

static gboolean
settings_save (RecoupBook                *book,
               const RecoupScoreSettings *settings,
               gboolean                   rescore,
               RecoupProgressFunc         progress,
               gpointer                   progress_data,
               GError                   **error)
{
  RecoupScoreSettings old;
  char buf[32];

  if (!recoup_score_settings_validate (settings, error))
    return FALSE;
  recoup_score_settings_load (book, &old);

  if (!recoup_book_begin (book, error))
    return FALSE;
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    {
      g_autofree char *key = g_strdup_printf ("score.weight.%s", component_names[i]);

      if (old.weights[i] == settings->weights[i])
        continue;
      g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, settings->weights[i]);
      if (!recoup_settings_set_shared (book, key, buf, error))
        goto fail;
    }
#define SAVE_INT(key, field) \
  if (old.field != settings->field) \
    { \
      g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, settings->field); \
      if (!recoup_settings_set_shared (book, key, buf, error)) \
        goto fail; \
    }
  SAVE_INT ("score.high", high);
  SAVE_INT ("score.medium", medium);
  SAVE_INT ("score.balance_cap", balance_cap);
  SAVE_INT ("score.revenue_cap", revenue_cap);
#undef SAVE_INT
  if (rescore && !recoup_derived_rescore_all (book, progress, progress_data, error))
    goto fail;
  /* A failed commit has already rolled back. */
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

gboolean
recoup_score_settings_save (RecoupBook                *book,
                            const RecoupScoreSettings *settings,
                            RecoupProgressFunc         progress,
                            gpointer                   progress_data,
                            GError                   **error)
{
  return settings_save (book, settings, TRUE, progress, progress_data, error);
}

gboolean
recoup_score_settings_store (RecoupBook                *book,
                             const RecoupScoreSettings *settings,
                             GError                   **error)
{
  return settings_save (book, settings, FALSE, NULL, NULL, error);
}

gboolean
recoup_score_refresh_book (RecoupBook          *book,
                           RecoupProgressFunc   progress,
                           gpointer             progress_data,
                           GError             **error)
{
  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!recoup_derived_rebuild_all (book, progress, progress_data, error))
    {
      recoup_book_rollback (book);
      return FALSE;
    }
  /* A failed commit has already rolled back. */
  return recoup_book_commit (book, error);
}

/* What the stored scores were computed with: shared settings may change
 * through sync, not only through recoup_score_settings_save(). Its last part,
 * "calls …", is the guard's policy that calls_open_at follows (the rules of
 * the call history, and the zone of a debtor whose own is unknown). */
char *
recoup_score_signature (RecoupBook *book)
{
  g_autofree char *policy = recoup_book_get_setting (book, "escalation.policy");
  g_autofree char *grace = recoup_book_get_setting (book, "plan.grace_days");
  g_autofree char *default_after = recoup_book_get_setting (book, "plan.default_after_missed");
  g_auto(RecoupGuardPolicy) guard = { 0 };
  RecoupScoreSettings s;
  GString *sig = g_string_new (NULL);

  recoup_score_settings_load (book, &s);
  g_string_append_printf (sig, "form %d;", DERIVED_FORM);
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    g_string_append_printf (sig, "%" G_GINT64_FORMAT ",", s.weights[i]);
  g_string_append_printf (sig, "%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%"
                          G_GINT64_FORMAT ";%s;%s;%s;%d", s.high, s.medium, s.balance_cap, s.revenue_cap,
                          policy ? policy : "", grace ? grace : "", default_after ? default_after : "",
                          recoup_score_recent_days (book));
  recoup_guard_policy_load (book, &guard);
  g_string_append_printf (sig, ";calls %d,%d,%s", guard.max_calls_7d, guard.conversation_days,
                          guard.business_timezone);
  return g_string_free (sig, FALSE);
}

gboolean
recoup_score_ensure_current (RecoupBook          *book,
                             RecoupProgressFunc   progress,
                             gpointer             progress_data,
                             GError             **error)
{
  g_autofree char *today = recoup_book_today (book);
  g_autofree char *as_of = recoup_book_get_setting (book, "derived.as_of");
  g_autofree char *stored = recoup_book_get_setting (book, "derived.signature");
  g_autofree char *current = recoup_score_signature (book);
  g_autoptr(GError) local = NULL;

  if (g_strcmp0 (today, as_of) == 0 && g_strcmp0 (stored, current) == 0)
    return TRUE;
  if (recoup_score_refresh_book (book, progress, progress_data, &local))
    return TRUE;
  /* A read-only book shows what it has. */
  if (g_error_matches (local, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

RecoupScoreExplanation *
recoup_score_explain (RecoupBook  *book,
                      const char  *account_id,
                      GError     **error)
{
  g_autoptr(RecoupScoreExplanation) ex = g_new0 (RecoupScoreExplanation, 1);
  g_autofree char *today_text = recoup_book_today (book);
  g_autoptr(GArray) policy = NULL;
  RecoupScoreSettings settings;
  RecoupAccountStats stats;
  const char *segment, *note, *stage;
  gint32 today;

  if ((today = recoup_date_parse (today_text, error)) == RECOUP_DATE_INVALID)
    return NULL;
  if (!recoup_derived_gather (book, account_id, today, &stats, error))
    return NULL;
  recoup_score_settings_load (book, &settings);
  ex->account_id = g_strdup (account_id);
  ex->as_of = g_steal_pointer (&today_text);
  ex->score = recoup_score_compute (&settings, &stats, ex->items, &segment, &note);
  ex->segment = g_strdup (segment);
  ex->note = note != NULL ? g_strdup (_(note)) : NULL;
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    ex->total_weight += settings.weights[i];
  policy = recoup_escalation_policy_load (book);
  recoup_escalation_next (policy, &stats, today, &ex->next_action, &ex->next_action_reason, &stage);
  ex->recommended_stage = g_strdup (stage);
  return g_steal_pointer (&ex);
}

void
recoup_score_explanation_free (RecoupScoreExplanation *ex)
{
  if (ex == NULL)
    return;
  g_free (ex->account_id);
  g_free (ex->as_of);
  g_free (ex->segment);
  g_free (ex->note);
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    g_free (ex->items[i].raw);
  g_free (ex->next_action);
  g_free (ex->next_action_reason);
  g_free (ex->recommended_stage);
  g_free (ex);
}
