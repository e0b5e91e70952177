/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-core.h"
#include "recoup-offer.h"
#include "recoup-outbox.h"
#include "recoup-promise.h"

G_BEGIN_DECLS

/*
 * What the user reads for the names the book stores ("write-off",
 * "bank-transfer", "partly-paid"): translated, and the one place the app
 * keeps them. A name without a label is shown as it is.
 */
const char *recoup_label_channel            (const char               *channel);
/* "Phone", "E-mail", "Address": a contact point's kind. */
const char *recoup_label_contact_kind       (RecoupContactKind         kind);
const char *recoup_label_outcome            (const char               *outcome);
const char *recoup_label_stage              (const char               *stage);
const char *recoup_label_tier               (const char               *tier);
/* "Current", "1-30", … "181+": an aging bucket's heading. */
const char *recoup_label_aging_bucket       (RecoupAgingBucket         bucket);
/* "high priority" for the segment "high"; NULL for "none" or no segment. */
const char *recoup_label_priority           (const char               *segment);
/* "Amount owed" for the score component "balance" (recoup_score_component_name()). */
const char *recoup_label_score_component    (const char               *component);
const char *recoup_label_entry_kind         (const char               *kind);
const char *recoup_label_method             (const char               *method);
const char *recoup_label_dispute_status     (const char               *status);
const char *recoup_label_promise_status     (RecoupPromiseStatus       status);
const char *recoup_label_offer_kind         (RecoupOfferKind           kind);
const char *recoup_label_offer_state        (RecoupOfferState          state);
/* "Not approved" for a draft an owner refused, else its state's label. */
const char *recoup_label_offer_status       (const RecoupOffer        *offer);
const char *recoup_label_frequency          (RecoupFrequency           frequency);
const char *recoup_label_installment_status (RecoupInstallmentStatus   status);
const char *recoup_label_outbox_state       (RecoupOutboxState         state);
char       *recoup_label_reasons            (const char               *coded);
char       *recoup_label_action             (const char               *action);
/* "Next: call tomorrow from 08:00 their time", "Next: letter instead of the
 * call", "No contact: …": the next step as the guard lets it be taken. */
char       *recoup_label_next_step          (const RecoupNextStep     *step);

/* What is wrong with the period a form holds, as the form says it ("From: …",
 * "The period ends before it starts…"), or NULL if it is a period. @check
 * tells which date to mark. */
char       *recoup_label_period_problem     (const char               *from,
                                             const char               *to,
                                             RecoupPeriodCheck        *check);

G_END_DECLS
