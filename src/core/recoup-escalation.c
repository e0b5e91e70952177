/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-escalation"

#include "config.h"

#include "recoup-accounts.h"
#include "recoup-activity.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-score-private.h"
#include "recoup-settings.h"

/* The actions recoup_escalation_next() gives outside the policy's steps that
 * are made by a call. */
#define ACTION_BROKEN_PROMISE "call about the broken promise"
#define ACTION_MISSED_INSTALLMENT "call about the missed installment"

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
  static const char * const channels[] = { "call", "sms", "email", "letter", "visit", "system", NULL };
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
      if (!g_strv_contains (channels, g_strstrip (f[1])))
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
  char day[11];

  /* The stage the account belongs in. */
  if (st->balance <= 0 || !g_strcmp0 (st->stage, "closed"))
    *out_stage = st->stage;
  else if (st->oldest_dpd >= last->days)
    *out_stage = "escalation";
  else if (st->promise_due_day != RECOUP_DATE_INVALID)
    *out_stage = "negotiation";
  else if (st->oldest_dpd >= 1)
    *out_stage = "active";
  else
    *out_stage = "pre-collection";

  if (st->balance <= 0)
    {
      *out_action = g_strdup ("none");
      *out_reason = g_strdup ("nothing is owed");
      return;
    }
  if (st->open_dispute)
    {
      *out_action = g_strdup ("resolve the dispute");
      *out_reason = g_strdup ("a dispute is open: collection contacts are paused until it is resolved");
      return;
    }
  if (st->follow_up_at != 0 && st->follow_up_at < ((gint64) today + 1) * 86400 * 1000)
    {
      *out_action = g_strdup ("follow up");
      *out_reason = g_strdup ("a follow-up is due");
      return;
    }
  if (st->promise_due_day == today)
    {
      *out_action = g_strdup ("check the promised payment");
      *out_reason = g_strdup ("a promise to pay is due today");
      return;
    }
  if (st->promise_broken_day != RECOUP_DATE_INVALID && st->promise_broken_day >= today - RECOUP_QUEUE_BROKEN_DAYS)
    {
      recoup_date_format_buf (st->promise_broken_day, day);
      *out_action = g_strdup (ACTION_BROKEN_PROMISE);
      *out_reason = g_strdup_printf ("the latest promise to pay was broken (its grace ended %s)", day);
      return;
    }
  if (st->missed_installment)
    {
      *out_action = g_strdup (ACTION_MISSED_INSTALLMENT);
      *out_reason = g_strdup ("a payment-plan installment was missed");
      return;
    }
  if (st->promise_due_day != RECOUP_DATE_INVALID)
    {
      recoup_date_format_buf (st->promise_due_day, day);
      *out_action = g_strdup ("wait for the promised payment");
      *out_reason = g_strdup_printf ("a promise to pay is due %s", day);
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
          *out_reason = g_strdup_printf ("%d days past due: the policy's step at %d days is %s (%s)%s",
                                         st->oldest_dpd, cur->days, cur->action, cur->channel,
                                         done ? ", already contacted since" : "");
          return;
        }
    }
  if (next != NULL)
    {
      *out_action = g_strdup_printf ("wait, then %s", next->action);
      *out_reason = g_strdup_printf ("%d days past due: the next step, %s (%s), comes at %d days, in %d days",
                                     st->oldest_dpd, next->action, next->channel, next->days,
                                     next->days - st->oldest_dpd);
      return;
    }
  *out_action = g_strdup ("none");
  *out_reason = g_strdup ("no policy step applies");
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
    "SELECT s.account_id, s.recommended_stage, a.stage, s.oldest_dpd, s.next_action_reason"
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
