/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "recoup-labels.h"

typedef struct
{
  const char *name;
  const char *label;
} Label;

static const char *
lookup (const Label *labels,
        gsize        n_labels,
        const char  *name)
{
  if (name == NULL)
    return "";
  for (gsize i = 0; i < n_labels; i++)
    if (g_str_equal (labels[i].name, name))
      return _(labels[i].label);
  return name;
}

#define LOOKUP(labels, name) lookup (labels, G_N_ELEMENTS (labels), name)

const char *
recoup_label_channel (const char *channel)
{
  static const Label labels[] = {
    { "call", N_("Call") }, { "sms", N_("Text message") }, { "email", N_("E-mail") },
    { "letter", N_("Letter") }, { "visit", N_("Visit") }, { "note", N_("Note") },
    { "system", N_("System") },
  };

  return LOOKUP (labels, channel);
}

const char *
recoup_label_outcome (const char *outcome)
{
  static const Label labels[] = {
    { "right-party", N_("Spoke to the debtor") }, { "promise", N_("Promise to pay") },
    { "refused", N_("Refused to pay") }, { "dispute", N_("Disputed") },
    { "no-answer", N_("No answer") }, { "voicemail", N_("Left voicemail") },
    { "wrong-number", N_("Wrong number") }, { "callback-requested", N_("Call back") },
    { "sent", N_("Sent") }, { "delivered", N_("Delivered") }, { "bounced", N_("Bounced") },
  };

  return LOOKUP (labels, outcome);
}

const char *
recoup_label_stage (const char *stage)
{
  static const Label labels[] = {
    { "pre-collection", N_("Pre-collection") }, { "active", N_("Active") },
    { "negotiation", N_("Negotiation") }, { "escalation", N_("Escalation") },
    { "closed", N_("Closed") },
  };

  return LOOKUP (labels, stage);
}

const char *
recoup_label_tier (const char *tier)
{
  static const Label labels[] = {
    { "platinum", N_("Platinum") }, { "gold", N_("Gold") }, { "silver", N_("Silver") }, { "bronze", N_("Bronze") },
  };

  return LOOKUP (labels, tier);
}

const char *
recoup_label_aging_bucket (RecoupAgingBucket bucket)
{
  /* Translators: the age of what is owed, in days past due; “Current” is
   * not yet due */
  static const char * const labels[] = { N_("Current"), "1-30", "31-60", "61-90", "91-180", "181+" };

  g_return_val_if_fail (bucket < RECOUP_AGING_N_BUCKETS, "?");
  return bucket == RECOUP_AGING_CURRENT ? _(labels[bucket]) : labels[bucket];
}

const char *
recoup_label_priority (const char *segment)
{
  static const Label labels[] = {
    { "high", N_("high priority") }, { "medium", N_("medium priority") }, { "low", N_("low priority") },
  };

  if (segment == NULL || *segment == '\0' || g_str_equal (segment, "none"))
    return NULL;
  return LOOKUP (labels, segment);
}

const char *
recoup_label_score_component (const char *component)
{
  static const Label labels[] = {
    { "balance", N_("Amount owed") }, { "age", N_("Oldest overdue item") },
    { "age-weighted", N_("Overdue, weighted by amount") }, { "behaviour", N_("Payment behaviour") },
    { "responsiveness", N_("Reachability") }, { "relationship", N_("Customer value") },
    { "stage", N_("Collection stage") },
  };

  return LOOKUP (labels, component);
}

const char *
recoup_label_entry_kind (const char *kind)
{
  static const Label labels[] = {
    { "charge", N_("Charge") }, { "payment", N_("Payment") }, { "fee", N_("Fee") },
    { "interest", N_("Interest") }, { "adjustment", N_("Adjustment") }, { "waiver", N_("Waiver") },
    { "discount", N_("Discount") }, { "write-off", N_("Write-off") }, { "reversal", N_("Reversal") },
  };

  return LOOKUP (labels, kind);
}

const char *
recoup_label_method (const char *method)
{
  static const Label labels[] = {
    { "cash", N_("Cash") }, { "cheque", N_("Cheque") }, { "card", N_("Card") },
    { "bank-transfer", N_("Bank transfer") }, { "other", N_("Other") },
  };

  return LOOKUP (labels, method);
}

const char *
recoup_label_dispute_status (const char *status)
{
  static const Label labels[] = {
    { "open", N_("Open") }, { "upheld", N_("Upheld") }, { "rejected", N_("Rejected") },
  };

  return LOOKUP (labels, status);
}

const char *
recoup_label_promise_status (RecoupPromiseStatus status)
{
  switch (status)
    {
    case RECOUP_PROMISE_PENDING:     return _("Pending");
    case RECOUP_PROMISE_KEPT:        return _("Kept");
    case RECOUP_PROMISE_PARTLY_KEPT: return _("Partly kept");
    case RECOUP_PROMISE_BROKEN:      return _("Broken");
    default:                         return recoup_promise_status_to_string (status);
    }
}

const char *
recoup_label_offer_kind (RecoupOfferKind kind)
{
  switch (kind)
    {
    case RECOUP_OFFER_SETTLEMENT: return _("Settlement");
    case RECOUP_OFFER_PLAN:       return _("Payment plan");
    case RECOUP_OFFER_EXTENSION:  return _("Extension");
    case RECOUP_OFFER_WAIVER:     return _("Waiver");
    default:                      return recoup_offer_kind_to_string (kind);
    }
}

const char *
recoup_label_offer_state (RecoupOfferState state)
{
  switch (state)
    {
    case RECOUP_OFFER_STATE_NONE:      return _("Not made");
    case RECOUP_OFFER_STATE_DRAFT:     return _("Draft");
    case RECOUP_OFFER_STATE_OFFERED:   return _("Offered");
    case RECOUP_OFFER_STATE_ACCEPTED:  return _("Accepted");
    case RECOUP_OFFER_STATE_ACTIVE:    return _("Active");
    case RECOUP_OFFER_STATE_COMPLETED: return _("Completed");
    case RECOUP_OFFER_STATE_DEFAULTED: return _("Defaulted");
    case RECOUP_OFFER_STATE_WITHDRAWN: return _("Withdrawn");
    case RECOUP_OFFER_STATE_REJECTED:  return _("Rejected");
    case RECOUP_OFFER_STATE_EXPIRED:   return _("Expired");
    default:                           return recoup_offer_state_to_string (state);
    }
}

const char *
recoup_label_contact_kind (RecoupContactKind kind)
{
  switch (kind)
    {
    case RECOUP_CONTACT_PHONE:   return _("Phone");
    case RECOUP_CONTACT_EMAIL:   return _("E-mail");
    case RECOUP_CONTACT_ADDRESS: return _("Address");
    default:                     return recoup_contact_kind_to_string (kind);
    }
}

/* What the account page shows as an offer's state: a draft an owner refused
 * reads "Not approved" (its maker asked for approval and learns the answer),
 * not "Withdrawn" as if the maker had taken it back. */
const char *
recoup_label_offer_status (const RecoupOffer *offer)
{
  if (offer->not_approved)
    return _("Not approved");
  return recoup_label_offer_state (offer->state);
}

const char *
recoup_label_frequency (RecoupFrequency frequency)
{
  switch (frequency)
    {
    case RECOUP_FREQUENCY_WEEKLY:      return _("weekly");
    case RECOUP_FREQUENCY_FORTNIGHTLY: return _("fortnightly");
    case RECOUP_FREQUENCY_MONTHLY:     return _("monthly");
    default:                           return recoup_frequency_to_string (frequency);
    }
}

const char *
recoup_label_installment_status (RecoupInstallmentStatus status)
{
  switch (status)
    {
    case RECOUP_INSTALLMENT_UPCOMING:    return _("Upcoming");
    case RECOUP_INSTALLMENT_PAID:        return _("Paid");
    case RECOUP_INSTALLMENT_PARTLY_PAID: return _("Partly paid");
    case RECOUP_INSTALLMENT_LATE:        return _("Late (in grace)");
    case RECOUP_INSTALLMENT_MISSED:      return _("Missed");
    default:                             return recoup_installment_status_to_string (status);
    }
}

const char *
recoup_label_outbox_state (RecoupOutboxState state)
{
  switch (state)
    {
    case RECOUP_OUTBOX_QUEUED:    return _("Queued");
    case RECOUP_OUTBOX_SENDING:   return _("Sending");
    case RECOUP_OUTBOX_SENT:      return _("Sent");
    case RECOUP_OUTBOX_FAILED:    return _("Failed");
    case RECOUP_OUTBOX_UNCERTAIN: return _("Uncertain — check before resending");
    default:                      return recoup_outbox_state_to_string (state);
    }
}

/* The reminder run joins its reasons as "code: text; code: text" (the codes
 * are for scripts); the user reads the texts. */
char *
recoup_label_reasons (const char *coded)
{
  g_auto(GStrv) parts = NULL;
  GString *out;

  if (coded == NULL)
    return g_strdup ("");
  parts = g_strsplit (coded, "; ", -1);
  out = g_string_new (NULL);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *text = parts[i];
      gsize code_len = strspn (text, "abcdefghijklmnopqrstuvwxyz-");

      if (code_len > 0 && g_str_has_prefix (text + code_len, ": "))
        text += code_len + 2;
      g_string_append_printf (out, "%s%s", out->len ? "; " : "", text);
    }
  return g_string_free (out, FALSE);
}

static char *
no_contact_label (const char *code)
{
  static const Label labels[] = {
    { "attorney-represented", N_("No contact: the debtor has an attorney") },
    { "bankruptcy", N_("No contact: the debtor is in bankruptcy") },
    { "deceased", N_("No contact: the debtor is deceased") },
    { "cease-communication", N_("No contact: cease communication") },
    { "dispute-open", N_("No contact: a dispute is open") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_strcmp0 (labels[i].name, code) == 0)
      return g_strdup (_(labels[i].label));
  return g_strdup (_("No contact allowed: review the account"));
}

/**
 * recoup_label_action:
 *
 * A step of the book's escalation policy, or one core gives outside it
 * (“call about the broken promise”), in the user's language. A step the
 * owner named in a policy of their own is shown as they wrote it.
 */
char *
recoup_label_action (const char *action)
{
  static const Label labels[] = {
    { "call about the broken promise", N_("call about the broken promise") },
    { "call about the missed installment", N_("call about the missed installment") },
    { "resolve the dispute", N_("resolve the dispute") },
    { "follow up", N_("follow up") },
    { "check the promised payment", N_("check the promised payment") },
    { "wait for the promised payment", N_("wait for the promised payment") },
    /* The steps of the shipped policy (RECOUP_ESCALATION_DEFAULT_POLICY). */
    { "reminder email", N_("reminder email") }, { "call", N_("call") }, { "letter", N_("letter") },
    { "final notice", N_("final notice") }, { "agency review", N_("agency review") },
  };

  if (action == NULL)
    return NULL;
  if (g_str_has_prefix (action, "wait, then "))
    {
      g_autofree char *then = recoup_label_action (action + strlen ("wait, then "));

      /* Translators: a step of the collection policy that comes later, such as “letter” */
      return g_strdup_printf (_("wait, then %s"), then);
    }
  return g_strdup (LOOKUP (labels, action));
}

/* Another channel in place of the policy's step (its words, as the book's
 * policy names it). */
static char *
instead_label (const char *channel,
               const char *action)
{
  if (g_strcmp0 (channel, "email") == 0)
    /* Translators: %s is the policy's step, such as “call” */
    return g_strdup_printf (_("e-mail instead of the %s"), action);
  if (g_strcmp0 (channel, "letter") == 0)
    /* Translators: %s is the policy's step, such as “call” */
    return g_strdup_printf (_("letter instead of the %s"), action);
  if (g_strcmp0 (channel, "sms") == 0)
    /* Translators: %s is the policy's step, such as “call” */
    return g_strdup_printf (_("text message instead of the %s"), action);
  /* Translators: %s is the policy's step, such as “reminder email” */
  return g_strdup_printf (_("call instead of the %s"), action);
}

char *
recoup_label_next_step (const RecoupNextStep *step)
{
  g_autofree char *what = NULL;

  if (step == NULL)
    return NULL;
  if (step->kind == RECOUP_NEXT_STEP_NO_CONTACT)
    return no_contact_label (step->block_code);
  /* "none": nothing is owed, or no policy step applies; no step to read. */
  if (step->policy_action == NULL || g_str_equal (step->policy_action, "none"))
    return NULL;
  {
    g_autofree char *action = recoup_label_action (step->policy_action);

    if (step->kind == RECOUP_NEXT_STEP_INSTEAD)
      what = instead_label (step->channel, action);
    else
      what = g_steal_pointer (&action);
  }
  /* When first: a list row cuts the end of a long step. */
  if (step->not_before != 0 && step->not_before_days <= 0)
    /* Translators: the debtor's local time a step is allowed from, then the
     * step: “Next, from 08:00 their time: call” */
    return g_strdup_printf (_("Next, from %s their time: %s"), step->not_before_time, what);
  if (step->not_before != 0 && step->not_before_days == 1)
    /* Translators: “Next, tomorrow from 08:00 their time: call” */
    return g_strdup_printf (_("Next, tomorrow from %s their time: %s"), step->not_before_time, what);
  if (step->not_before != 0)
    /* Translators: “Next, on 2026-11-30 from 08:00 their time: call” */
    return g_strdup_printf (_("Next, on %s from %s their time: %s"), step->not_before_date,
                            step->not_before_time, what);
  return g_strdup_printf (_("Next: %s"), what);
}

char *
recoup_label_period_problem (const char        *from,
                             const char        *to,
                             RecoupPeriodCheck *check)
{
  g_autoptr(GError) error = NULL;

  switch ((*check = recoup_period_check (from, to, &error)))
    {
    case RECOUP_PERIOD_VALID:
      return NULL;
    case RECOUP_PERIOD_BAD_FROM:
      /* Translators: the period's first day is not a date; %s says why */
      return g_strdup_printf (_("From: %s"), error->message);
    case RECOUP_PERIOD_BAD_TO:
      /* Translators: the period's last day is not a date; %s says why */
      return g_strdup_printf (_("To: %s"), error->message);
    case RECOUP_PERIOD_REVERSED:
    default:
      return g_strdup (_("The period ends before it starts: swap the dates."));
    }
}
