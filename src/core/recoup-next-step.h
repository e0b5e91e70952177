/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"
#include "recoup-guard.h"

G_BEGIN_DECLS

/*
 * The next step a user reads for an account: the escalation policy's step
 * (account_stats.next_action, kept for the day) made to agree with the
 * compliance guard at one instant. Worked out for the rows a list shows and
 * never stored, since whether a call is lawful changes by the hour.
 *
 *  - the step is not a contact (a review, a wait, a follow-up), or the guard
 *    allows its channel: the step stands (AS_PLANNED; a warning may apply);
 *  - the guard blocks the channel only for a while (the debtor's hours, the
 *    7-day call cap, the days after a conversation): the same step at the
 *    first instant the guard allows it, asked again at that instant (LATER);
 *  - the guard blocks the channel for good (an opt-out, an unknown zone), or
 *    allows only a special notice (cease communication, an open dispute): the
 *    first other channel it allows, of e-mail, letter, text and call, now or
 *    else at the first instant it opens (INSTEAD);
 *  - no channel opens by itself: the rule that closes them (NO_CONTACT);
 *  - the step is to wait for a later contact ("wait, then call") that the
 *    guard will never allow on any channel (cease communication, an attorney,
 *    a bankruptcy): NO_CONTACT too, so that no call or letter is suggested.
 */

typedef enum
{
  RECOUP_NEXT_STEP_AS_PLANNED,
  RECOUP_NEXT_STEP_LATER,
  RECOUP_NEXT_STEP_INSTEAD,
  RECOUP_NEXT_STEP_NO_CONTACT,
} RecoupNextStepKind;

typedef struct
{
  RecoupNextStepKind  kind;
  char               *policy_action;    /* the policy's step, as stored ("call", "letter", …) */
  char               *policy_reason;    /* why, in the reader's words (recoup_escalation_reason_describe()) */
  const char         *policy_reason_code; /* its code ("policy-step", …), or NULL for a book's old text */
  const char         *policy_channel;   /* its contact channel, or NULL when it is not a contact */
  const char         *channel;          /* the channel of the step shown (INSTEAD: another), or NULL */
  char               *action;           /* what to do, in English words (the CLI's) */
  char               *reason;           /* why, in the reader's words */
  char               *block_code;       /* the guard's rule against the policy's channel, or NULL */
  char               *block_text;       /* and its text */
  gint64              not_before;       /* the first instant the step is allowed, when later; else 0 */
  int                 not_before_days;  /* its day in the debtor's zone from their today: 0, 1 (tomorrow), … */
  char                not_before_date[11];  /* YYYY-MM-DD, debtor's zone */
  char                not_before_time[6];   /* HH:MM, debtor's zone */
  RecoupGuardVerdict *verdict;          /* the guard's verdict now for policy_channel, or NULL */
} RecoupNextStep;

const char     *recoup_next_step_kind_to_string (RecoupNextStepKind       kind);

/* With the policies loaded (a list resolves many rows); @escalation is an
 * array of RecoupEscalationStep. @policy_action and @policy_reason are the
 * policy's step and its reason as account_stats keeps them (the reason a code
 * and its values: recoup-escalation.h). @at_ms 0: now; @user_id NULL: the
 * book's user. */
RecoupNextStep *recoup_next_step_resolve        (RecoupBook               *book,
                                                 const RecoupGuardPolicy  *guard,
                                                 GArray                   *escalation,
                                                 const char               *account_id,
                                                 const char               *policy_action,
                                                 const char               *policy_reason,
                                                 gint64                    at_ms,
                                                 const char               *user_id,
                                                 GError                  **error);
/* The same, loading the book's policies. */
RecoupNextStep *recoup_next_step_get            (RecoupBook               *book,
                                                 const char               *account_id,
                                                 const char               *policy_action,
                                                 const char               *policy_reason,
                                                 gint64                    at_ms,
                                                 const char               *user_id,
                                                 GError                  **error);
void            recoup_next_step_free           (RecoupNextStep           *step);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupNextStep, recoup_next_step_free)

G_END_DECLS
