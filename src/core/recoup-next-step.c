/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-next-step"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-escalation.h"
#include "recoup-next-step.h"

/* The channels offered instead of a blocked one, least intrusive first. A
 * visit is a field decision, never offered instead. */
static const char * const alternatives[] = { "email", "letter", "sms", "call", NULL };

/* How often the guard is asked again when the block that lifts uncovers
 * another one that lifts later (a conversation's days end at midnight, the
 * hours open at 08:00). */
#define MAX_PROBES 8

const char *
recoup_next_step_kind_to_string (RecoupNextStepKind kind)
{
  switch (kind)
    {
    case RECOUP_NEXT_STEP_AS_PLANNED: return "as-planned";
    case RECOUP_NEXT_STEP_LATER:      return "later";
    case RECOUP_NEXT_STEP_INSTEAD:    return "instead";
    case RECOUP_NEXT_STEP_NO_CONTACT: return "no-contact";
    default:                          g_return_val_if_reached ("no-contact");
    }
}

void
recoup_next_step_free (RecoupNextStep *step)
{
  if (step == NULL)
    return;
  g_free (step->policy_action);
  g_free (step->policy_reason);
  g_free (step->action);
  g_free (step->reason);
  g_free (step->block_code);
  g_free (step->block_text);
  g_clear_pointer (&step->verdict, recoup_guard_verdict_free);
  g_free (step);
}

/* The rule against a channel: the first that blocks it, else a warning that
 * allows only a special notice (cease communication, an open dispute), else
 * NULL. With @for_good, a block that lifts by itself (the hour, the day) does
 * not count: the rule keeps the channel closed whatever the hour or the day
 * (a flag, cease communication, an opt-out). */
static const RecoupGuardReason *
reason_against (const RecoupGuardVerdict *v,
                gboolean                  for_good)
{
  const RecoupGuardReason *restricting = NULL;

  for (guint i = 0; i < v->reasons->len; i++)
    {
      const RecoupGuardReason *r = g_ptr_array_index (v->reasons, i);

      if (r->blocks && (!for_good || r->until == 0))
        return r;
      if (restricting == NULL && !r->blocks &&
          (g_str_equal (r->code, "cease-communication") || g_str_equal (r->code, "dispute-open")))
        restricting = r;
    }
  return restricting;
}

/* Whether the policy's collection step may go by this channel. */
static gboolean
usable (const RecoupGuardVerdict *v)
{
  return v->verdict != RECOUP_VERDICT_BLOCKED && reason_against (v, FALSE) == NULL;
}

/* Whether there is something on file to reach the debtor by on the channel
 * of @v. */
static gboolean
reachable (const RecoupGuardVerdict *v)
{
  for (guint i = 0; i < v->reasons->len; i++)
    if (g_str_equal (((RecoupGuardReason *) g_ptr_array_index (v->reasons, i))->code, "no-contact-point"))
      return FALSE;
  return TRUE;
}

/* Whether another channel is worth offering: usable, and reachable. */
static gboolean
usable_instead (const RecoupGuardVerdict *v)
{
  return usable (v) && reachable (v);
}

/* The first instant after @at at which the guard lets @channel through, when
 * @now (its verdict at @at) lifts by itself; 0 when it does not. */
static gboolean
first_allowed (RecoupBook               *book,
               const RecoupGuardPolicy  *guard,
               const char               *account_id,
               const char               *channel,
               const RecoupGuardVerdict *now,
               gboolean                  instead,
               gint64                    at,
               const char               *user_id,
               gint64                   *out_at,
               GError                  **error)
{
  gint64 t = recoup_guard_verdict_lifts_at (now);

  *out_at = 0;
  for (guint i = 0; t > at && i < MAX_PROBES; i++)
    {
      g_autoptr(RecoupGuardVerdict) v = NULL;
      gint64 next;

      if (!recoup_guard_check_with_policy (book, guard, account_id, channel, t, user_id, &v, error))
        return FALSE;
      if (v->verdict != RECOUP_VERDICT_BLOCKED)
        {
          if (instead ? usable_instead (v) : usable (v))
            *out_at = t;
          return TRUE;
        }
      next = recoup_guard_verdict_lifts_at (v);
      if (next <= t)
        return TRUE;
      t = next;
    }
  return TRUE;
}

/* The contact channel of the step a wait leads to ("wait, then call", whose
 * reason is policy-next:DPD:DAYS:CHANNEL:ACTION), or NULL. */
static const char *
upcoming_channel (const char *policy_reason)
{
  g_auto(GStrv) fields = NULL;

  if (g_strcmp0 (recoup_escalation_reason_code (policy_reason), "policy-next") != 0)
    return NULL;
  fields = g_strsplit (policy_reason, ":", 5);
  if (g_strv_length (fields) < 5)
    return NULL;
  for (guint i = 0; recoup_guard_channels[i] != NULL; i++)
    if (g_str_equal (fields[3], recoup_guard_channels[i]))
      return recoup_guard_channels[i];
  return NULL;
}

/* Whether the guard keeps every channel closed for good, so that the contact
 * a wait leads to can never be made: @channel, and each other one (or there
 * is nothing on file to reach the debtor by). @out_closed: the verdict for
 * @channel when so, else NULL. */
static gboolean
closed_for_good (RecoupBook               *book,
                 const RecoupGuardPolicy  *guard,
                 const char               *account_id,
                 const char               *channel,
                 gint64                    at,
                 const char               *user_id,
                 RecoupGuardVerdict      **out_closed,
                 GError                  **error)
{
  g_autoptr(RecoupGuardVerdict) verdict = NULL;

  *out_closed = NULL;
  if (!recoup_guard_check_with_policy (book, guard, account_id, channel, at, user_id, &verdict, error))
    return FALSE;
  if (reason_against (verdict, TRUE) == NULL)
    return TRUE;
  for (guint i = 0; alternatives[i] != NULL; i++)
    {
      g_autoptr(RecoupGuardVerdict) v = NULL;

      if (g_str_equal (alternatives[i], channel))
        continue;
      if (!recoup_guard_check_with_policy (book, guard, account_id, alternatives[i], at, user_id, &v, error))
        return FALSE;
      if (reachable (v) && reason_against (v, TRUE) == NULL)
        return TRUE;
    }
  *out_closed = g_steal_pointer (&verdict);
  return TRUE;
}

/* The rule in @v that closes its channel for how often it was used lately
 * (seven calls in seven days, a conversation this week), whatever else
 * closes it too (the hour); or NULL. */
static const RecoupGuardReason *
frequency_block (const RecoupGuardVerdict *v)
{
  for (guint i = 0; i < v->reasons->len; i++)
    {
      const RecoupGuardReason *r = g_ptr_array_index (v->reasons, i);

      if (r->blocks && (g_str_equal (r->code, "call-frequency") || g_str_equal (r->code, "recent-conversation")))
        return r;
    }
  return NULL;
}

/* Another channel than @blocked to reach the debtor by: the first the guard
 * lets through now (*@out_at 0), else the first that opens by itself
 * (*@out_at when), else NULL. */
static gboolean
find_instead (RecoupBook               *book,
              const RecoupGuardPolicy  *guard,
              const char               *account_id,
              const char               *blocked,
              gint64                    at,
              const char               *user_id,
              const char              **out_channel,
              gint64                   *out_at,
              GError                  **error)
{
  *out_channel = NULL;
  *out_at = 0;
  for (guint i = 0; alternatives[i] != NULL; i++)
    {
      g_autoptr(RecoupGuardVerdict) v = NULL;
      const char *channel = alternatives[i];
      gint64 when;

      if (g_str_equal (channel, blocked))
        continue;
      if (!recoup_guard_check_with_policy (book, guard, account_id, channel, at, user_id, &v, error))
        return FALSE;
      if (usable_instead (v))
        {
          *out_channel = channel;
          *out_at = 0;
          return TRUE;
        }
      if (*out_channel == NULL)
        {
          if (!first_allowed (book, guard, account_id, channel, v, TRUE, at, user_id, &when, error))
            return FALSE;
          if (when != 0)
            {
              *out_channel = channel;
              *out_at = when;
            }
        }
    }
  return TRUE;
}

static gint32
day_of (GDateTime *dt)
{
  char buf[11];

  g_snprintf (buf, sizeof buf, "%04d-%02d-%02d", g_date_time_get_year (dt), g_date_time_get_month (dt),
              g_date_time_get_day_of_month (dt));
  return recoup_date_parse (buf, NULL);
}

/* not_before in the debtor's zone, and its day counted from their today. */
static gboolean
set_not_before (RecoupNextStep          *step,
                RecoupBook              *book,
                const RecoupGuardPolicy *guard,
                const char              *account_id,
                gint64                   at,
                gint64                   not_before,
                GError                 **error)
{
  g_autoptr(GDateTime) utc_then = NULL, utc_now = NULL, then = NULL, now = NULL;
  g_autofree char *zone = NULL;
  sqlite3_stmt *stmt;
  GTimeZone *tz;

  stmt = recoup_book_prepare (book, "SELECT timezone FROM accounts WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    zone = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  tz = recoup_guard_debtor_zone (guard, zone);

  utc_then = g_date_time_new_from_unix_utc (not_before / 1000);
  utc_now = g_date_time_new_from_unix_utc (at / 1000);
  then = g_date_time_to_timezone (utc_then, tz);
  now = g_date_time_to_timezone (utc_now, tz);
  step->not_before = not_before;
  step->not_before_days = day_of (then) - day_of (now);
  g_snprintf (step->not_before_date, sizeof step->not_before_date, "%04d-%02d-%02d",
              g_date_time_get_year (then), g_date_time_get_month (then), g_date_time_get_day_of_month (then));
  g_snprintf (step->not_before_time, sizeof step->not_before_time, "%02d:%02d",
              g_date_time_get_hour (then), g_date_time_get_minute (then));
  return TRUE;
}

static const char *
channel_words (const char *channel)
{
  if (g_str_equal (channel, "email"))
    return "e-mail";
  if (g_str_equal (channel, "sms"))
    return "text message";
  return channel;
}

static char *
at_time (const RecoupNextStep *step,
         const char           *what)
{
  if (step->not_before_days <= 0)
    return g_strdup_printf ("%s from %s their time", what, step->not_before_time);
  if (step->not_before_days == 1)
    return g_strdup_printf ("%s tomorrow from %s their time", what, step->not_before_time);
  return g_strdup_printf ("%s on %s from %s their time", what, step->not_before_date, step->not_before_time);
}

static char *
no_contact_action (const char *code)
{
  static const struct { const char *code; const char *action; } actions[] = {
    { "attorney-represented", "no contact: the debtor has an attorney" },
    { "bankruptcy", "no contact: the debtor is in bankruptcy" },
    { "deceased", "no contact: the debtor is deceased" },
    { "cease-communication", "no contact: the debtor asked to cease communication" },
    { "dispute-open", "no contact: a dispute is open" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    if (g_strcmp0 (code, actions[i].code) == 0)
      return g_strdup (actions[i].action);
  return g_strdup ("no contact allowed: review the account");
}

/**
 * recoup_next_step_resolve:
 *
 * Returns: (transfer full): the step, or NULL with an error (an unknown
 *   account).
 */
RecoupNextStep *
recoup_next_step_resolve (RecoupBook               *book,
                          const RecoupGuardPolicy  *guard,
                          GArray                   *escalation,
                          const char               *account_id,
                          const char               *policy_action,
                          const char               *policy_reason,
                          gint64                    at,
                          const char               *user_id,
                          GError                  **error)
{
  g_autoptr(RecoupNextStep) step = g_new0 (RecoupNextStep, 1);
  const RecoupGuardReason *against, *frequency;
  const char *later_channel = NULL;
  const char *why;
  gint64 later_at = 0, when;

  if (at == 0)
    at = recoup_book_now_ms (book);
  step->policy_action = g_strdup (policy_action);
  step->policy_reason = recoup_escalation_reason_describe (policy_reason);
  step->policy_reason_code = recoup_escalation_reason_code (policy_reason);
  step->policy_channel = recoup_escalation_action_channel (escalation, policy_action);
  why = step->policy_reason != NULL ? step->policy_reason : policy_action;

  if (step->policy_channel == NULL)
    {
      const char *then = upcoming_channel (policy_reason);
      g_autoptr(RecoupGuardVerdict) closed = NULL;

      /* "wait, then call" names a contact to come: not one the guard will
       * never allow (cease communication, an attorney, a bankruptcy). */
      if (then != NULL && !closed_for_good (book, guard, account_id, then, at, user_id, &closed, error))
        return NULL;
      if (closed != NULL)
        {
          against = reason_against (closed, TRUE);
          step->kind = RECOUP_NEXT_STEP_NO_CONTACT;
          step->block_code = g_strdup (against->code);
          step->block_text = g_strdup (against->text);
          step->action = no_contact_action (against->code);
          /* Translators: the policy's step to come (“10 days past due: the
           * next step, call (call), comes on day 15, in 5 days”), then the
           * compliance rule against it */
          step->reason = g_strdup_printf (_("%s; it will not be allowed: %s"), why, against->text);
          return g_steal_pointer (&step);
        }
      step->kind = RECOUP_NEXT_STEP_AS_PLANNED;
      step->action = g_strdup (policy_action);
      step->reason = g_strdup (step->policy_reason);
      return g_steal_pointer (&step);
    }
  if (!recoup_guard_check_with_policy (book, guard, account_id, step->policy_channel, at, user_id,
                                       &step->verdict, error))
    return NULL;
  if (usable (step->verdict))
    {
      step->kind = RECOUP_NEXT_STEP_AS_PLANNED;
      step->channel = step->policy_channel;
      step->action = g_strdup (policy_action);
      step->reason = g_strdup (step->policy_reason);
      return g_steal_pointer (&step);
    }
  against = reason_against (step->verdict, FALSE);
  step->block_code = g_strdup (against->code);
  step->block_text = g_strdup (against->text);

  /* Blocked for a while: the same step, once it is allowed; but a channel
   * closed for days by how often it was used leaves today's work undone, so
   * another channel goes instead when it opens sooner. A block by the hours
   * alone waits for them. */
  if (!first_allowed (book, guard, account_id, step->policy_channel, step->verdict, FALSE, at, user_id,
                      &when, error))
    return NULL;
  if (when != 0 && (frequency = frequency_block (step->verdict)) != NULL)
    {
      if (!find_instead (book, guard, account_id, step->policy_channel, at, user_id, &later_channel, &later_at,
                         error))
        return NULL;
      if (later_channel != NULL && later_at < when)
        {
          g_autofree char *what = g_strdup_printf ("%s instead of the %s", channel_words (later_channel),
                                                   policy_action);
          char until[sizeof step->not_before_date];

          if (!set_not_before (step, book, guard, account_id, at, when, error))
            return NULL;
          g_strlcpy (until, step->not_before_date, sizeof until);
          memset (step->not_before_date, 0, sizeof step->not_before_date);
          memset (step->not_before_time, 0, sizeof step->not_before_time);
          step->not_before = 0;
          step->not_before_days = 0;
          if (later_at != 0 && !set_not_before (step, book, guard, account_id, at, later_at, error))
            return NULL;
          step->kind = RECOUP_NEXT_STEP_INSTEAD;
          step->channel = later_channel;
          /* The rule the other channel works around, not the hour. */
          g_free (step->block_code);
          step->block_code = g_strdup (frequency->code);
          g_free (step->block_text);
          step->block_text = g_strdup (frequency->text);
          step->action = later_at != 0 ? at_time (step, what) : g_steal_pointer (&what);
          /* Translators: the blocked channel (a call), the date it opens again
           * (YYYY-MM-DD), the rule, the channel used instead, then why the
           * step is due */
          step->reason = g_strdup_printf (_("no %s until %s: %s; by %s instead (%s)"),
                                          recoup_guard_channel_noun (step->policy_channel), until,
                                          frequency->text, recoup_guard_channel_noun (later_channel), why);
          return g_steal_pointer (&step);
        }
    }
  if (when != 0)
    {
      if (!set_not_before (step, book, guard, account_id, at, when, error))
        return NULL;
      step->kind = RECOUP_NEXT_STEP_LATER;
      step->channel = step->policy_channel;
      step->action = at_time (step, policy_action);
      step->reason = g_strdup_printf (_("%s; not now: %s"), why, against->text);
      return g_steal_pointer (&step);
    }

  /* Blocked for good: another channel, now or once it opens. */
  if (!find_instead (book, guard, account_id, step->policy_channel, at, user_id, &later_channel, &later_at, error))
    return NULL;
  if (later_channel != NULL && later_at == 0)
    {
      step->kind = RECOUP_NEXT_STEP_INSTEAD;
      step->channel = later_channel;
      step->action = g_strdup_printf ("%s instead of the %s", channel_words (later_channel), policy_action);
      step->reason = g_strdup_printf (_("no %s: %s; by %s instead (%s)"),
                                      recoup_guard_channel_noun (step->policy_channel), against->text,
                                      recoup_guard_channel_noun (later_channel), why);
      return g_steal_pointer (&step);
    }
  if (later_channel != NULL)
    {
      g_autofree char *what = g_strdup_printf ("%s instead of the %s", channel_words (later_channel), policy_action);

      if (!set_not_before (step, book, guard, account_id, at, later_at, error))
        return NULL;
      step->kind = RECOUP_NEXT_STEP_INSTEAD;
      step->channel = later_channel;
      step->action = at_time (step, what);
      step->reason = g_strdup_printf (_("no %s: %s; by %s instead once it is allowed (%s)"),
                                      recoup_guard_channel_noun (step->policy_channel), against->text,
                                      recoup_guard_channel_noun (later_channel), why);
      return g_steal_pointer (&step);
    }

  /* Nothing opens by itself. */
  step->kind = RECOUP_NEXT_STEP_NO_CONTACT;
  step->action = no_contact_action (against->code);
  step->reason = g_strdup_printf (_("instead of the policy's step (%s): %s"), policy_action, against->text);
  return g_steal_pointer (&step);
}

RecoupNextStep *
recoup_next_step_get (RecoupBook   *book,
                      const char   *account_id,
                      const char   *policy_action,
                      const char   *policy_reason,
                      gint64        at,
                      const char   *user_id,
                      GError      **error)
{
  g_autoptr(GArray) escalation = recoup_escalation_policy_load (book);
  RecoupGuardPolicy guard;
  RecoupNextStep *step;

  recoup_guard_policy_load (book, &guard);
  step = recoup_next_step_resolve (book, &guard, escalation, account_id, policy_action, policy_reason, at,
                                   user_id, error);
  recoup_guard_policy_clear (&guard);
  return step;
}
