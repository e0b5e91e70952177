/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * Escalation: stages pre-collection -> active -> negotiation -> escalation
 * (agency or legal), and a policy of steps by days past due, each with a
 * channel and an action. The policy is the shared setting "escalation.policy":
 * steps "DAYS:CHANNEL:ACTION" separated by ';', by increasing days. Default:
 *
 *   1:email:reminder email;15:call:call;45:letter:letter;90:letter:final notice;120:system:agency review
 *
 * The last step's days mark the escalation stage. Every account gets a next
 * recommended action and its reason (kept with the score in account_stats);
 * recoup_escalation_apply() moves accounts to their recommended stage and
 * records each change in the history (a 'system' activity).
 *
 * The reason is kept in no language, since whoever refreshes account_stats
 * is not whoever reads it: a code and its values, "CODE[:VALUE]…", worded
 * for the reader by recoup_escalation_reason_describe(). The codes:
 *
 *   nothing-owed, dispute-open, follow-up-due, promise-due-today,
 *   installment-missed, no-step
 *   promise-broken:DAY              DAY its grace ended (YYYY-MM-DD)
 *   promise-due:DAY                 DAY it is due
 *   plan-current:DAY                the account's payment plan is kept so
 *                                   far; DAY its next installment is due
 *   policy-step:DPD:DAYS:CHANNEL:CONTACTED:ACTION
 *                                   the step from day DAYS applies at DPD days
 *                                   past due; CONTACTED 1 when the debtor was
 *                                   contacted since it began
 *   policy-next:DPD:DAYS:CHANNEL:ACTION
 *                                   the next step comes at DAYS days past due
 */

#define RECOUP_ESCALATION_DEFAULT_POLICY \
  "1:email:reminder email;15:call:call;45:letter:letter;90:letter:final notice;120:system:agency review"

typedef struct
{
  int   days;
  char *channel;
  char *action;
} RecoupEscalationStep;

/* Parses a policy; returns an array of RecoupEscalationStep or NULL with a
 * clear error. */
GArray     *recoup_escalation_policy_parse  (const char  *text,
                                             GError     **error);
/* The book's policy (the default when the setting is missing or broken). */
GArray     *recoup_escalation_policy_load   (RecoupBook  *book);
gboolean    recoup_escalation_policy_save   (RecoupBook  *book,
                                             const char  *text,
                                             GError     **error);

/* The contact channel (call, sms, email, letter, visit) a next action of
 * @policy is made by, or NULL when the action is not a contact now (a review,
 * a wait, a follow-up of the user's choosing, "none"). Returns a static string. */
const char *recoup_escalation_action_channel (GArray      *policy,
                                              const char  *action);

/* @reason (account_stats.next_action_reason) in the reader's language; the
 * policy's action in it stays as the book's policy names it. Text that is no
 * reason code (an English sentence a book kept before reasons had codes, until
 * its derived data is rebuilt) is given back as it is. NULL for NULL. */
char       *recoup_escalation_reason_describe (const char *reason);
/* The code of @reason ("policy-step"), or NULL when it has none. Returns a
 * static string. */
const char *recoup_escalation_reason_code     (const char *reason);

/* The stage an account owing money belongs in by its oldest debt alone,
 * @oldest_dpd days past due (no plan, no promise): escalation from the
 * policy's last step, active once past due, else pre-collection. Returns a
 * static string. */
const char *recoup_escalation_stage_for_dpd (GArray *policy,
                                             int     oldest_dpd);

/* The stage an account comes in at with its first invoices, the earliest due
 * on @oldest_due_day (G_MAXINT32: none), on the book's @today: the one that
 * debt alone puts it in (recoup_escalation_stage_for_dpd()). The CSV import
 * gives it to the accounts it creates. Returns a static string. */
const char *recoup_escalation_first_stage   (GArray      *policy,
                                             gint32       today,
                                             gint32       oldest_due_day);
/* Moves @account_id to recoup_escalation_first_stage() when it is about to
 * get its first invoices: it has none yet and is still at the stage it was
 * created at, which no person, policy or sync has set since. Call it in the
 * transaction that writes them, before them. The move is an ordinary stage
 * change (recoup_account_set()), so it syncs as any other. Every other
 * account keeps its stage: later moves are the policy's, each with its
 * history (recoup_escalation_apply()). @policy: the book's policy, or NULL
 * to load it when it is needed. */
gboolean    recoup_escalation_stage_first_debt (RecoupBook  *book,
                                                GArray      *policy,
                                                const char  *account_id,
                                                gint32       oldest_due_day,
                                                GError     **error);

/* Moves every account whose recommended stage differs to it (never back out
 * of escalation or closed), each with a 'system' activity saying why. */
gboolean    recoup_escalation_apply         (RecoupBook  *book,
                                             guint       *out_changed,
                                             GError     **error);

G_END_DECLS
