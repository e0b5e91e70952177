/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-escalation"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "recoup-accounts.h"
#include "recoup-activity.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-guard.h"
#include "recoup-score-private.h"
#include "recoup-settings.h"

/* The actions recoup_escalation_next() gives outside the policy's steps that
 * are made by a call. */
#define ACTION_BROKEN_PROMISE "call about the broken promise"
#define ACTION_MISSED_INSTALLMENT "call about the missed installment"
/* What an account on an up-to-date payment plan is given: no contact. */
#define ACTION_PLAN_CURRENT "wait for the next installment"

/* The channels a policy step may name. */
static const char * const step_channels[] = { "call", "sms", "email", "letter", "visit", "system", NULL };

typedef enum
{
  REASON_NOTHING_OWED,
  REASON_DISPUTE_OPEN,
  REASON_FOLLOW_UP_DUE,
  REASON_PROMISE_DUE_TODAY,
  REASON_PROMISE_BROKEN,
  REASON_INSTALLMENT_MISSED,
  REASON_PROMISE_DUE,
  REASON_PLAN_CURRENT,
  REASON_POLICY_STEP,
  REASON_POLICY_NEXT,
  REASON_NO_STEP,
} ReasonKind;

/* Each reason's code and the values that follow it, one letter each: d a day
 * (YYYY-MM-DD), n a number of days, c a step's channel, f a flag (0 or 1),
 * a a step's action. The action, the only text a user typed, comes last, so
 * the ':' it may hold needs no escaping. */
static const struct
{
  const char *code;
  const char *values;
} reasons[] = {
  [REASON_NOTHING_OWED]       = { "nothing-owed", "" },
  [REASON_DISPUTE_OPEN]       = { "dispute-open", "" },
  [REASON_FOLLOW_UP_DUE]      = { "follow-up-due", "" },
  [REASON_PROMISE_DUE_TODAY]  = { "promise-due-today", "" },
  [REASON_PROMISE_BROKEN]     = { "promise-broken", "d" },
  [REASON_INSTALLMENT_MISSED] = { "installment-missed", "" },
  [REASON_PROMISE_DUE]        = { "promise-due", "d" },
  [REASON_PLAN_CURRENT]       = { "plan-current", "d" },
  [REASON_POLICY_STEP]        = { "policy-step", "nncfa" },
  [REASON_POLICY_NEXT]        = { "policy-next", "nnca" },
  [REASON_NO_STEP]            = { "no-step", "" },
};

static void
clear_step (gpointer data)
{
  RecoupEscalationStep *step = data;

  g_free (step->channel);
  g_free (step->action);
}

/**
 * recoup_escalation_policy_parse:
 *
 * "DAYS:CHANNEL:ACTION;..." with days increasing from 1, channels of contact
 * (call, sms, email, letter, visit) or "system" for a review.
 */
GArray *
recoup_escalation_policy_parse (const char  *text,
                                GError     **error)
{
  g_autoptr(GArray) steps = g_array_new (FALSE, TRUE, sizeof (RecoupEscalationStep));
  g_auto(GStrv) parts = NULL;
  int last = 0;

  g_array_set_clear_func (steps, clear_step);
  if (text == NULL || *text == '\0')
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "an escalation policy needs at least one step DAYS:CHANNEL:ACTION");
      return NULL;
    }
  parts = g_strsplit (text, ";", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (g_strstrip (parts[i]), ":", 3);
      RecoupEscalationStep step = { 0 };
      gint64 days;

      if (*parts[i] == '\0')
        continue;
      if (g_strv_length (f) != 3 || !g_ascii_string_to_signed (g_strstrip (f[0]), 10, 1, 100000, &days, NULL))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "escalation step %u (“%s”) is not DAYS:CHANNEL:ACTION with DAYS a whole number "
                       "of 1 or more, such as 15:call:call", i + 1, parts[i]);
          return NULL;
        }
      if (!g_strv_contains (step_channels, g_strstrip (f[1])))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "escalation step %u: “%s” is not a channel (call, sms, email, letter, visit, system)",
                       i + 1, f[1]);
          return NULL;
        }
      if (days <= last)
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "escalation step %u: days must increase from step to step (%d after %d)",
                       i + 1, (int) days, last);
          return NULL;
        }
      if (*g_strstrip (f[2]) == '\0')
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "escalation step %u needs an action", i + 1);
          return NULL;
        }
      last = (int) days;
      step.days = (int) days;
      step.channel = g_strdup (f[1]);
      step.action = g_strdup (f[2]);
      g_array_append_val (steps, step);
    }
  if (steps->len == 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "an escalation policy needs at least one step DAYS:CHANNEL:ACTION");
      return NULL;
    }
  return g_steal_pointer (&steps);
}

GArray *
recoup_escalation_policy_load (RecoupBook *book)
{
  g_autofree char *text = recoup_book_get_setting (book, "escalation.policy");
  GArray *steps = NULL;

  if (text != NULL)
    steps = recoup_escalation_policy_parse (text, NULL);
  if (steps == NULL)
    steps = recoup_escalation_policy_parse (RECOUP_ESCALATION_DEFAULT_POLICY, NULL);
  return steps;
}

gboolean
recoup_escalation_policy_save (RecoupBook  *book,
                               const char  *text,
                               GError     **error)
{
  g_autoptr(GArray) steps = recoup_escalation_policy_parse (text, error);

  if (steps == NULL)
    return FALSE;
  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!recoup_settings_set_shared (book, "escalation.policy", text, error) ||
      !recoup_derived_rescore_all (book, NULL, NULL, error))
    {
      recoup_book_rollback (book);
      return FALSE;
    }
  /* A failed commit has already rolled back. */
  return recoup_book_commit (book, error);
}

static char *
reason_new (ReasonKind kind)
{
  return g_strdup (reasons[kind].code);
}

static char *
reason_new_day (ReasonKind kind,
                gint32     day)
{
  char text[11];

  recoup_date_format_buf (day, text);
  return g_strdup_printf ("%s:%s", reasons[kind].code, text);
}

const char *
recoup_escalation_stage_for_dpd (GArray *policy,
                                 int     oldest_dpd)
{
  const RecoupEscalationStep *last = &g_array_index (policy, RecoupEscalationStep, policy->len - 1);

  if (oldest_dpd >= last->days)
    return "escalation";
  if (oldest_dpd >= 1)
    return "active";
  return "pre-collection";
}

const char *
recoup_escalation_first_stage (GArray *policy,
                               gint32  today,
                               gint32  oldest_due_day)
{
  return recoup_escalation_stage_for_dpd (policy, oldest_due_day < today ? today - oldest_due_day : 0);
}

/* Whether @account_id has no invoice (not even a deleted one) and its stage
 * is still the one the accounts table gives a new row: no field clock on it,
 * so no person, policy or other device has set it. */
static gboolean
awaits_first_debt (RecoupBook  *book,
                   const char  *account_id,
                   gboolean    *out_awaits,
                   GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT 1 FROM accounts a WHERE a.id = ?1 AND a.stage = 'pre-collection'"
    " AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.account_id = a.id)"
    " AND NOT EXISTS (SELECT 1 FROM field_clocks c"
    "                 WHERE c.entity = 'accounts' AND c.entity_id = a.id AND c.field = 'stage')", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  *out_awaits = rc == SQLITE_ROW;
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

gboolean
recoup_escalation_stage_first_debt (RecoupBook  *book,
                                    GArray      *policy,
                                    const char  *account_id,
                                    gint32       oldest_due_day,
                                    GError     **error)
{
  g_autoptr(GArray) loaded = NULL;
  g_autofree char *today = NULL;
  gboolean awaits = FALSE;
  gint32 today_day;

  if (!awaits_first_debt (book, account_id, &awaits, error))
    return FALSE;
  if (!awaits)
    return TRUE;
  today = recoup_book_today (book);
  if ((today_day = recoup_date_parse (today, error)) == RECOUP_DATE_INVALID)
    {
      g_prefix_error (error, "the book's today: ");
      return FALSE;
    }
  if (policy == NULL)
    policy = loaded = recoup_escalation_policy_load (book);
  return recoup_account_set (book, account_id, "stage",
                             recoup_escalation_first_stage (policy, today_day, oldest_due_day), error);
}

void
recoup_escalation_next (GArray                   *policy,
                        const RecoupAccountStats *st,
                        gint32                    today,
                        char                    **out_action,
                        char                    **out_reason,
                        const char              **out_stage)
{
  const RecoupEscalationStep *last = &g_array_index (policy, RecoupEscalationStep, policy->len - 1);
  const RecoupEscalationStep *cur = NULL, *next = NULL;

  /* The stage the account belongs in. A live plan is an arrangement, as a
   * promise is, however old the debt it replaces. */
  if (st->balance <= 0 || !g_strcmp0 (st->stage, "closed"))
    *out_stage = st->stage;
  else if (recoup_account_stats_on_plan (st))
    *out_stage = "negotiation";
  else if (st->oldest_dpd < last->days && st->promise_due_day != RECOUP_DATE_INVALID)
    *out_stage = "negotiation";
  else
    *out_stage = recoup_escalation_stage_for_dpd (policy, st->oldest_dpd);

  if (st->balance <= 0)
    {
      *out_action = g_strdup ("none");
      *out_reason = reason_new (REASON_NOTHING_OWED);
      return;
    }
  if (st->open_dispute)
    {
      *out_action = g_strdup ("resolve the dispute");
      *out_reason = reason_new (REASON_DISPUTE_OPEN);
      return;
    }
  if (st->follow_up_at != 0 && st->follow_up_at < ((gint64) today + 1) * 86400 * 1000)
    {
      *out_action = g_strdup ("follow up");
      *out_reason = reason_new (REASON_FOLLOW_UP_DUE);
      return;
    }
  if (st->promise_due_day == today)
    {
      *out_action = g_strdup ("check the promised payment");
      *out_reason = reason_new (REASON_PROMISE_DUE_TODAY);
      return;
    }
  if (recoup_account_stats_promise_broken_lately (st, today))
    {
      *out_action = g_strdup (ACTION_BROKEN_PROMISE);
      *out_reason = reason_new_day (REASON_PROMISE_BROKEN, st->promise_broken_day);
      return;
    }
  if (st->missed_installment)
    {
      *out_action = g_strdup (ACTION_MISSED_INSTALLMENT);
      *out_reason = reason_new (REASON_INSTALLMENT_MISSED);
      return;
    }
  if (st->promise_due_day != RECOUP_DATE_INVALID)
    {
      *out_action = g_strdup ("wait for the promised payment");
      *out_reason = reason_new_day (REASON_PROMISE_DUE, st->promise_due_day);
      return;
    }
  /* The plan replaced the invoices' due dates: while it is kept, the
   * policy's steps by the invoices' days past due do not apply (they do
   * again once it is completed or defaulted). */
  if (recoup_account_stats_on_plan (st))
    {
      *out_action = g_strdup (ACTION_PLAN_CURRENT);
      *out_reason = reason_new_day (REASON_PLAN_CURRENT, st->plan_due_day);
      return;
    }

  for (guint i = 0; i < policy->len; i++)
    {
      const RecoupEscalationStep *s = &g_array_index (policy, RecoupEscalationStep, i);

      if (s->days <= st->oldest_dpd)
        cur = s;
      else if (next == NULL)
        next = s;
    }

  if (cur != NULL)
    {
      /* The day the current step began, as an instant: a contact since then
       * means the step was done. */
      gint64 step_start = ((gint64) st->oldest_due_day + cur->days) * 86400 * 1000;
      gboolean done = g_strcmp0 (cur->channel, "system") != 0 && st->last_contact_at >= step_start;

      if (!done || next == NULL)
        {
          *out_action = g_strdup (cur->action);
          *out_reason = g_strdup_printf ("%s:%d:%d:%s:%d:%s", reasons[REASON_POLICY_STEP].code, st->oldest_dpd,
                                         cur->days, cur->channel, done ? 1 : 0, cur->action);
          return;
        }
    }
  if (next != NULL)
    {
      *out_action = g_strdup_printf ("wait, then %s", next->action);
      *out_reason = g_strdup_printf ("%s:%d:%d:%s:%s", reasons[REASON_POLICY_NEXT].code, st->oldest_dpd,
                                     next->days, next->channel, next->action);
      return;
    }
  *out_action = g_strdup ("none");
  *out_reason = reason_new (REASON_NO_STEP);
}

/* A reason split into its code and values, each checked against its kind. */
typedef struct
{
  ReasonKind kind;
  GStrv      fields;   /* the code, then the values */
} Reason;

static void
reason_clear (Reason *r)
{
  g_clear_pointer (&r->fields, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Reason, reason_clear)

static gboolean
value_valid (char        type,
             const char *value)
{
  switch (type)
    {
    case 'd': return recoup_date_parse (value, NULL) != RECOUP_DATE_INVALID;
    case 'n': return g_ascii_string_to_signed (value, 10, 0, G_MAXINT, NULL, NULL);
    case 'c': return g_strv_contains (step_channels, value);
    case 'f': return g_str_equal (value, "0") || g_str_equal (value, "1");
    case 'a': return *value != '\0';
    default:  g_return_val_if_reached (FALSE);
    }
}

static gboolean
reason_parse (const char *text,
              Reason     *out)
{
  const char *colon = strchr (text, ':');
  gsize code_len = colon != NULL ? (gsize) (colon - text) : strlen (text);

  for (guint k = 0; k < G_N_ELEMENTS (reasons); k++)
    {
      gsize n_values = strlen (reasons[k].values);
      g_auto(GStrv) fields = NULL;

      if (strlen (reasons[k].code) != code_len || strncmp (reasons[k].code, text, code_len) != 0)
        continue;
      fields = g_strsplit (text, ":", n_values + 1);
      if (g_strv_length (fields) != n_values + 1)
        return FALSE;
      for (gsize i = 0; i < n_values; i++)
        if (!value_valid (reasons[k].values[i], fields[i + 1]))
          return FALSE;
      out->kind = k;
      out->fields = g_steal_pointer (&fields);
      return TRUE;
    }
  return FALSE;
}

static int
field_days (const Reason *r,
            guint         i)
{
  return (int) g_ascii_strtoll (r->fields[i], NULL, 10);
}

/* A step's channel in a sentence; "system" steps are reviews, not contacts. */
static const char *
channel_words (const char *channel)
{
  if (g_str_equal (channel, "system"))
    return C_("channel", "system");
  return recoup_guard_channel_noun (channel);
}

static char *
days_past_due_words (int dpd)
{
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d day past due", "%d days past due", dpd), dpd);
}

/**
 * recoup_escalation_reason_describe:
 *
 * Returns: (transfer full) (nullable): the reason in the reader's words
 */
char *
recoup_escalation_reason_describe (const char *reason)
{
  g_auto(Reason) r = { 0 };
  g_autofree char *dpd = NULL;

  if (reason == NULL)
    return NULL;
  if (!reason_parse (reason, &r))
    return g_strdup (reason);
  switch (r.kind)
    {
    case REASON_NOTHING_OWED:
      return g_strdup (_("nothing is owed"));
    case REASON_DISPUTE_OPEN:
      return g_strdup (_("a dispute is open: collection contacts are paused until it is resolved"));
    case REASON_FOLLOW_UP_DUE:
      return g_strdup (_("a follow-up is due"));
    case REASON_PROMISE_DUE_TODAY:
      return g_strdup (_("a promise to pay is due today"));
    case REASON_PROMISE_BROKEN:
      /* Translators: %s is the day the promise's grace ended, YYYY-MM-DD */
      return g_strdup_printf (_("the latest promise to pay was broken (its grace ended %s)"), r.fields[1]);
    case REASON_INSTALLMENT_MISSED:
      return g_strdup (_("a payment-plan installment was missed"));
    case REASON_PROMISE_DUE:
      /* Translators: %s is the day the promise is due, YYYY-MM-DD */
      return g_strdup_printf (_("a promise to pay is due %s"), r.fields[1]);
    case REASON_PLAN_CURRENT:
      /* Translators: %s is the day the next installment is due, YYYY-MM-DD */
      return g_strdup_printf (_("the payment plan is up to date: the next installment is due %s"), r.fields[1]);
    case REASON_POLICY_STEP:
      dpd = days_past_due_words (field_days (&r, 1));
      if (g_str_equal (r.fields[4], "1"))
        /* Translators: “45 days past due: the policy's step from day 30 is
         * call (call), already contacted since”; the step's action (the third
         * %s) is as the book's policy names it, then its channel */
        return g_strdup_printf (_("%s: the policy's step from day %d is %s (%s), already contacted since"),
                                dpd, field_days (&r, 2), r.fields[5], channel_words (r.fields[3]));
      /* Translators: “45 days past due: the policy's step from day 30 is
       * call (call)”; the step's action (the third %s) is as the book's
       * policy names it, then its channel */
      return g_strdup_printf (_("%s: the policy's step from day %d is %s (%s)"),
                              dpd, field_days (&r, 2), r.fields[5], channel_words (r.fields[3]));
    case REASON_POLICY_NEXT:
      {
        int in = field_days (&r, 2) - field_days (&r, 1);

        dpd = days_past_due_words (field_days (&r, 1));
        /* Translators: “10 days past due: the next step, call (call), comes
         * on day 15, in 5 days”; the step's action (the second %s) is as the
         * book's policy names it, then its channel */
        return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s: the next step, %s (%s), comes on day %d, in %d day",
                                             "%s: the next step, %s (%s), comes on day %d, in %d days", in),
                                dpd, r.fields[4], channel_words (r.fields[3]), field_days (&r, 2), in);
      }
    case REASON_NO_STEP:
      return g_strdup (_("no policy step applies"));
    default:
      g_return_val_if_reached (g_strdup (reason));
    }
}

const char *
recoup_escalation_reason_code (const char *reason)
{
  g_auto(Reason) r = { 0 };

  if (reason == NULL || !reason_parse (reason, &r))
    return NULL;
  return reasons[r.kind].code;
}

const char *
recoup_escalation_action_channel (GArray     *policy,
                                  const char *action)
{
  static const char * const contacts[] = { "call", "sms", "email", "letter", "visit", NULL };

  if (action == NULL)
    return NULL;
  if (g_str_equal (action, ACTION_BROKEN_PROMISE) || g_str_equal (action, ACTION_MISSED_INSTALLMENT))
    return "call";
  /* A step's action stands for itself; "wait, then …" is not a contact now. */
  for (guint i = 0; policy != NULL && i < policy->len; i++)
    {
      const RecoupEscalationStep *s = &g_array_index (policy, RecoupEscalationStep, i);

      if (g_str_equal (s->action, action))
        for (guint c = 0; contacts[c] != NULL; c++)
          if (g_str_equal (s->channel, contacts[c]))
            return contacts[c];
    }
  return NULL;
}

static int
stage_order (const char *stage)
{
  static const char * const order[] = { "pre-collection", "active", "negotiation", "escalation", "closed", NULL };

  for (int i = 0; order[i] != NULL; i++)
    if (g_strcmp0 (order[i], stage) == 0)
      return i;
  return -1;
}

gboolean
recoup_escalation_apply (RecoupBook  *book,
                         guint       *out_changed,
                         GError     **error)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) stages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  guint changed = 0;

  if (out_changed != NULL)
    *out_changed = 0;
  if (!recoup_score_ensure_current (book, NULL, NULL, error))
    return FALSE;
  stmt = recoup_book_prepare (book,
    "SELECT s.account_id, s.recommended_stage, a.stage, s.oldest_dpd, s.plan_due_date IS NOT NULL"
    " FROM account_stats s JOIN accounts a ON a.id = s.account_id"
    " WHERE s.recommended_stage IS NOT NULL AND s.recommended_stage <> a.stage"
    " AND a.stage NOT IN ('closed', 'escalation') ORDER BY s.account_id", error);
  if (stmt == NULL)
    return FALSE;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *to = RECOUP_BOOK_STMT_TEXT (stmt, 1);
      const char *from = RECOUP_BOOK_STMT_TEXT (stmt, 2);

      /* Never move back from negotiation to active by itself: a promise may
       * have been kept. */
      if (stage_order (to) < stage_order (from) && g_strcmp0 (to, "active") != 0)
        continue;
      g_ptr_array_add (ids, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
      g_ptr_array_add (stages, g_strdup (to));
      if (sqlite3_column_int (stmt, 4))
        g_ptr_array_add (reasons, g_strdup_printf ("stage %s → %s: on a payment plan", from, to));
      else
        g_ptr_array_add (reasons, g_strdup_printf ("stage %s → %s: %d days past due", from, to,
                                                   sqlite3_column_int (stmt, 3)));
    }
  sqlite3_reset (stmt);

  if (!recoup_book_begin (book, error))
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    {
      RecoupActivitySpec spec = { 0 };
      g_autofree char *activity = NULL;

      spec.account_id = ids->pdata[i];
      spec.channel = "system";
      spec.notes = reasons->pdata[i];
      if (!recoup_account_set (book, ids->pdata[i], "stage", stages->pdata[i], error) ||
          !(activity = recoup_activity_log (book, &spec, error)))
        {
          recoup_book_rollback (book);
          return FALSE;
        }
      changed++;
    }
  if (!recoup_book_commit (book, error))
    return FALSE;
  if (out_changed != NULL)
    *out_changed = changed;
  return TRUE;
}
