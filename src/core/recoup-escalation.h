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

/* Moves every account whose recommended stage differs to it (never back out
 * of escalation or closed), each with a 'system' activity saying why. */
gboolean    recoup_escalation_apply         (RecoupBook  *book,
                                             guint       *out_changed,
                                             GError     **error);

G_END_DECLS
