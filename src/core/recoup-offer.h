/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * Settlement offers and payment plans.
 *
 * KINDS. An offer has one kind and optional terms that combine with it:
 *  - settlement: a lump sum (an amount, or the balance less --discount-bp) paid by `pay_by`;
 *  - plan:       `installments` payments, weekly, fortnightly or monthly from `first_date`,
 *                of the balance or of a discounted total (a plan on a discounted total);
 *  - extension:  the whole balance by a new deadline `extend_to`;
 *  - waiver:     fees and/or interest waived, nothing else.
 * waive_fees / waive_interest may go with any kind: the waived amount (what
 * of the fee / interest entries is still open when the offer is made, after
 * their reversals and earlier waivers) is taken off the balance before any
 * discount and written on acceptance as one `waiver` entry per fee or
 * interest entry, naming it (waives_id), so it cancels that entry.
 *
 * SCHEDULE. recoup_money_split() splits a plan's total exactly: every
 * installment is total / n rounded toward zero and the remainder lands on the
 * LAST installment (1 cent over 3 = 0, 0, 1). Monthly dates are first_date plus
 * i months (clamped to the month's end: Jan 31 -> Feb 28 -> Mar 31). A settlement
 * is one installment due pay_by; an extension one due extend_to; a waiver has
 * none. Acceptance writes the schedule to the installments table.
 *
 * LIFECYCLE. draft -> offered -> accepted -> active -> completed | defaulted,
 * or withdrawn (from draft or offered, or a running arrangement in a clash:
 * see ONE RUNNING ARRANGEMENT), rejected (from offered), expired
 * (draft or offered after expires_on). Each user transition (create, approve,
 * send, accept, reject, withdraw) is an offer_events row carrying the book's
 * hybrid logical clock, device, user and day. The state is never stored: it
 * is DERIVED by recoup_offer_state_replay(), which replays the events in
 * (hlc, device, id) order and skips any event that is not valid in the state
 * reached so far (two incompatible transitions made offline are both kept;
 * the second counts as a conflict). Expiry is judged on the day: an offer
 * still draft/offered after expires_on is expired; an event dated after
 * expires_on (other than withdraw) is invalid. An owner refuses a draft that
 * waits for approval by withdrawing it, with the reason as the event's note
 * (a withdraw event, which every Recoup replays): a withdrawn draft that
 * needed approval, was not approved and was withdrawn by an owner other than
 * its maker is derived as `not_approved`, so its maker reads "not approved"
 * and why, not "withdrawn".
 *
 * Past acceptance the state follows the ledger (derived on read, never
 * written as an event, so every replica derives the same from the same data):
 *  - paid = the credits that were NOT part of the balance the offer was made
 *    on: every non-reversed credit on the account (payment, write-off, waiver,
 *    discount, negative adjustment, reversal of a charge), other than the
 *    offer's own waiver and discount, whose change is stamped after the change
 *    that created the offer by (hlc, device) — the order every replica shares,
 *    unlike effective dates. A payment made earlier on the offer's day is in
 *    balance_at_offer and does not count; a cheque entered after acceptance
 *    but dated before it does. A credit counts from the later of its
 *    effective date and the acceptance day, up to the day judged on (a
 *    reversal dated on or before that day removes its credit entirely, so a
 *    bounced cheque reopens a completed plan). Credits recorded on a device
 *    that had not seen the offer yet are ordered by their stamp alone;
 *  - completed: paid reaches the total;
 *  - an installment is missed when, by the end of its due date + grace
 *    ("plan.grace_days", default 3), the cumulative paid is below the
 *    cumulative amount due through it; at risk when one is missed now. An
 *    installment due before the acceptance day has its grace from acceptance;
 *  - defaulted: on some day up to today the missed installments reached
 *    "plan.default_after_missed" (default 2; for single-installment offers 1)
 *    before the total was paid. Defaulting is sticky (a later catch-up does not
 *    undo it) but PAUSES while the account has an open dispute (the plan then
 *    shows active, at risk, paused);
 *  - active once a payment counts or the first installment is due; accepted before.
 *
 * DISCOUNT ON COMPLETION. The forgiven amount is balance_at_offer - waived -
 * total; the discount a completed offer writes is what it still leaves owed:
 * balance_at_offer - waived - paid up to and including the credit that
 * completed it, between 0 and forgiven. So a discount never exceeds what is
 * owed: a debtor who pays 950.00 of a 900.00 settlement on 1,000.00 gets
 * 50.00 off, one who pays 1,000.00 none. A credit after the completing one is
 * an overpayment and stays the debtor's credit (a second cheque sent by
 * mistake is refunded, it does not undo the settlement); a credit that counts
 * before it (a cheque dated earlier, entered later) changes the discount.
 * recoup_offer_reconcile_account() keeps the ledger in line with the
 * derived states: a completed offer with a discount has exactly one
 * non-reversed `discount` entry of that amount carrying its offer_id (dated
 * the completion day); any other (an offer no longer completed because its
 * payment was reversed, or a discount of another amount) is reversed. Its
 * entries have ids derived from what they are (the offer, the day, the
 * amount), so every copy of the book writes the same rows. It is idempotent,
 * so calling it twice writes nothing the second time. When an offer's replay
 * skipped conflicting events (incompatible transitions made offline on two
 * devices), it also raises a review item for the offer (once;
 * recoup-review.h) so a person looks at it. Call it after payments and
 * reversals (the CLI does in every offers command; recoup_book_refresh_accounts
 * should call it for touched accounts).
 *
 * ONE RUNNING ARRANGEMENT. An account has at most one running settlement,
 * plan or extension (an offer with a schedule, accepted or active):
 * accepting another is refused while one runs. Two copies offline cannot see
 * each other's, so both may accept one; after they meet, each acceptance is
 * kept and ordered by its event's (hlc, device, id), the order every copy
 * shares. An accepted offer whose acceptance came while an earlier one was
 * still running (not finished, or finished by a credit stamped after it or
 * defaulted after its day) is HELD (held_by names the earliest such offer):
 * credits count toward the unheld offer only, and a held offer counts none
 * and does not default, so one payment never completes two arrangements,
 * nor does the customer fall behind on one because they paid the other.
 * recoup_offer_reconcile_account() raises one review item per held offer
 * naming both (recoup_review_add_offer_clash()), once.
 *
 * A person then tells the customer which one stands and withdraws the other
 * (with a reason, which every copy shows). Either of the two may be
 * withdrawn, not only the held one: the customer may well have agreed to
 * the later one, and a rule that let only the held one go would leave the
 * user no way to record that. So an offer CLASHES when it is held, or
 * when an offer accepted after it is held while it ran; a running
 * arrangement that clashes may be withdrawn, one that does not (the
 * customer's only arrangement) may not. In the event replay a withdraw
 * after acceptance is kept aside (RecoupOfferReplay.withdraw_id) and stands
 * when the offer clashes once every accepted offer of the account is known,
 * never by the order events arrived in: the copy that wrote it saw both
 * acceptances, and its clock is past theirs, so every copy that has the
 * three events judges it alike. When two copies each withdraw one offer of
 * a clash, the earlier withdrawal (by clock) stands; the other offer then no
 * longer clashes, so its withdrawal is a conflict (review) and it runs.
 * Withdrawn, an offer is as if it had never been accepted: it counts no
 * payment, the offer it held or was held by counts them all from its own
 * acceptance on, recoup_offer_reconcile_account() reverses any waiver its
 * acceptance wrote (the rows stay, reversed, as money rows do) and closes
 * the clash's review item. Its installment rows stay; nothing reads those of
 * an offer that is not accepted.
 *
 * ACCEPTANCE. Besides the state and the balance (recoup_offer_is_stale()),
 * accepting is refused once a settlement's pay-by or an extension's new
 * deadline has passed, or a plan's first date is further back than the
 * first-date tolerance: the customer would accept a deadline already missed,
 * so a new offer with new dates is made (the dates the customer saw are
 * never moved quietly).
 *
 * SCHEDULE SIZE. A plan with more installments than its total has minor
 * units (an installment of 0.00) is refused.
 *
 * AUTHORITY. The creating user's users.max_discount_bp and
 * users.max_plan_installments bound what they may offer, and so how far
 * ahead money may fall due: a plan's last installment, a pay-by or an
 * extension after recoup_offer_deferral_limit() (max_plan_installments
 * months from today, at least one) is beyond the limits. The effective
 * discount is (balance - total) / balance in basis points, rounded up (it
 * counts waivers too). An offer beyond the limits is created with
 * needs_approval; it must be approved by an owner (an `approve` event) before it
 * can be sent or accepted. The limits live in the book, so this works offline.
 */

typedef enum
{
  RECOUP_OFFER_SETTLEMENT,
  RECOUP_OFFER_PLAN,
  RECOUP_OFFER_EXTENSION,
  RECOUP_OFFER_WAIVER,
} RecoupOfferKind;

typedef enum
{
  RECOUP_OFFER_STATE_NONE,        /* no create event: not an offer yet */
  RECOUP_OFFER_STATE_DRAFT,
  RECOUP_OFFER_STATE_OFFERED,
  RECOUP_OFFER_STATE_ACCEPTED,
  RECOUP_OFFER_STATE_ACTIVE,
  RECOUP_OFFER_STATE_COMPLETED,
  RECOUP_OFFER_STATE_DEFAULTED,
  RECOUP_OFFER_STATE_WITHDRAWN,
  RECOUP_OFFER_STATE_REJECTED,
  RECOUP_OFFER_STATE_EXPIRED,
} RecoupOfferState;

typedef enum
{
  RECOUP_OFFER_EVENT_CREATE,
  RECOUP_OFFER_EVENT_APPROVE,
  RECOUP_OFFER_EVENT_SEND,
  RECOUP_OFFER_EVENT_ACCEPT,
  RECOUP_OFFER_EVENT_REJECT,
  RECOUP_OFFER_EVENT_WITHDRAW,
} RecoupOfferEvent;

typedef enum
{
  RECOUP_FREQUENCY_WEEKLY,
  RECOUP_FREQUENCY_FORTNIGHTLY,
  RECOUP_FREQUENCY_MONTHLY,
} RecoupFrequency;

#define RECOUP_PLAN_DEFAULT_GRACE_DAYS         3
#define RECOUP_PLAN_DEFAULT_AFTER_MISSED       2
#define RECOUP_OFFER_DEFAULT_FIRST_DATE_TOLERANCE 7
/* The longest plan: ten years of weekly installments. It is also the most a
 * user's limit (users.max_plan_installments) may allow, so the offer dialog,
 * the book's policy page and recoup_user_set_limits() agree. */
#define RECOUP_OFFER_MAX_INSTALLMENTS          520

typedef struct
{
  const char      *account_id;
  RecoupOfferKind  kind;
  gint64           amount;          /* settlement/plan: the total to pay; 0: balance less discount_bp */
  gint64           discount_bp;     /* 0..10000; ignored when amount is given */
  int              installments;    /* plan: >= 1 */
  RecoupFrequency  frequency;       /* plan */
  const char      *first_date;      /* plan: YYYY-MM-DD */
  const char      *pay_by;          /* settlement: YYYY-MM-DD */
  const char      *extend_to;       /* extension: YYYY-MM-DD */
  gboolean         waive_fees;
  gboolean         waive_interest;
  const char      *expires_on;      /* nullable: YYYY-MM-DD, last day it can be accepted */
} RecoupOfferSpec;

/* One event as the replay sees it. */
typedef struct
{
  const char       *id;
  RecoupOfferEvent  event;
  gint64            hlc;
  const char       *device_id;
  gint32            day;            /* the book day it happened on */
} RecoupOfferEventRecord;

typedef struct
{
  RecoupOfferState state;           /* draft, offered, accepted, withdrawn, rejected or expired */
  gboolean         approved;
  gint32           accepted_day;    /* RECOUP_DATE_INVALID unless accepted */
  guint            n_applied;
  guint            n_conflicts;     /* events skipped as invalid where they fell */
  const char      *closing_id;      /* withdrawn or rejected: the event that closed it (the records') */
  const char      *accept_id;       /* accepted: the event that accepted it (the records') */
  gint64           accepted_hlc;    /* accepted: that event's clock */
  const char      *accepted_device; /* accepted: that event's device (the records') */
  /* accepted: the first withdraw after acceptance (the records'), counted in
   * n_conflicts; it stands when the offer clashes (ONE RUNNING ARRANGEMENT) */
  const char      *withdraw_id;
  gint64           withdraw_hlc;
  const char      *withdraw_device;
} RecoupOfferReplay;

typedef enum
{
  RECOUP_INSTALLMENT_UPCOMING,      /* not due yet */
  RECOUP_INSTALLMENT_PAID,
  RECOUP_INSTALLMENT_PARTLY_PAID,   /* not due yet or in grace, something paid toward it */
  RECOUP_INSTALLMENT_LATE,          /* past due, within grace */
  RECOUP_INSTALLMENT_MISSED,        /* past due + grace and not covered */
} RecoupInstallmentStatus;

typedef struct
{
  guint                    seq;      /* 1-based */
  gint32                   due_day;
  gint64                   amount;
  gint64                   paid;     /* the part of cumulative payments covering it */
  RecoupInstallmentStatus  status;
} RecoupInstallment;

typedef struct
{
  char            *id;
  char            *account_id;
  char            *account_ref;
  RecoupOfferKind  kind;
  char            *currency;
  gint64           balance_at_offer;
  gint64           waived_amount;
  gint64           total;            /* what the debtor pays */
  gint64           forgiven;         /* balance_at_offer - waived - total (>= 0) */
  gint64           discount_bp;      /* stated discount on the balance after waivers */
  gint64           effective_bp;     /* (balance - total) / balance, rounded up */
  int              installments;
  RecoupFrequency  frequency;
  char            *first_date;
  char            *pay_by;
  char            *extend_to;
  char            *expires_on;
  gboolean         waive_fees;
  gboolean         waive_interest;
  gboolean         needs_approval;
  gboolean         approved;
  char            *created_by;
  char            *created_by_name;
  gint64           created_at;

  /* derived */
  RecoupOfferState state;
  char            *accepted_on;      /* NULL unless accepted */
  char            *completed_on;
  char            *defaulted_on;
  gint64           paid;
  gint64           discount;         /* completed: the discount it keeps on the ledger (<= forgiven) */
  guint            n_missed;
  gboolean         at_risk;
  gboolean         paused;           /* defaulting paused by an open dispute */
  char            *accepted_by;      /* accepted: the user who recorded the acceptance */
  char            *accepted_by_name;
  char            *held_by;          /* held (see ONE RUNNING ARRANGEMENT): the offer payments count toward */
  gboolean         clashing;         /* held, or holding one: may be withdrawn (ONE RUNNING ARRANGEMENT) */
  guint            n_conflicts;
  char            *closing_note;     /* withdrawn or rejected: the note it was closed with, or NULL */
  char            *closed_by;        /* withdrawn or rejected: who recorded it (user id) */
  char            *closed_by_name;   /* withdrawn or rejected: who recorded it */
  gint64           closed_at;        /* withdrawn or rejected: when (UTC ms) */
  gboolean         not_approved;     /* withdrawn: refused by an owner (see LIFECYCLE) */
  GArray          *schedule;         /* RecoupInstallment; stored (accepted) or previewed */
} RecoupOffer;

const char  *recoup_offer_kind_to_string      (RecoupOfferKind   kind);
gboolean     recoup_offer_kind_from_string    (const char       *text,
                                               RecoupOfferKind  *out_kind);
const char  *recoup_offer_state_to_string     (RecoupOfferState  state);
const char  *recoup_offer_event_to_string     (RecoupOfferEvent  event);
gboolean     recoup_offer_event_from_string   (const char       *text,
                                               RecoupOfferEvent *out_event);
const char  *recoup_frequency_to_string       (RecoupFrequency   frequency);
gboolean     recoup_frequency_from_string     (const char       *text,
                                               RecoupFrequency  *out_frequency);
const char  *recoup_installment_status_to_string (RecoupInstallmentStatus status);

/* Pure: whether @offer, still open (a draft or with the customer), was made
 * on another balance than the @owed now: a payment or charge recorded since
 * (here or synced) would make the customer agree to the wrong figures, so it
 * can no longer be sent or accepted, only withdrawn. */
gboolean     recoup_offer_is_stale            (const RecoupOffer *offer,
                                               gint64             owed);

/* Pure: is @event valid in @state (with the offer's approval needs, expiry
 * day and the event's day)? When not, says why, naming the current state. */
gboolean     recoup_offer_check_transition    (RecoupOfferState  state,
                                               gboolean          needs_approval,
                                               gboolean          approved,
                                               gint32            expires_day,
                                               RecoupOfferEvent  event,
                                               gint32            event_day,
                                               GError          **error);

/* Pure: derives the pre-ledger state by replaying @events (any order; they are
 * sorted by (hlc, device, id) on a copy) and judging expiry on @as_of_day.
 * @expires_day is RECOUP_DATE_INVALID when the offer does not expire. */
RecoupOfferState recoup_offer_state_replay    (const RecoupOfferEventRecord *events,
                                               guint                         n_events,
                                               gboolean                      needs_approval,
                                               gint32                        expires_day,
                                               gint32                        as_of_day,
                                               RecoupOfferReplay            *out_replay);

/* Pure: the schedule of an offer (see above). Returns a GArray of RecoupInstallment. */
GArray      *recoup_offer_build_schedule      (RecoupOfferKind   kind,
                                               gint64            total,
                                               int               installments,
                                               RecoupFrequency   frequency,
                                               gint32            first_day,
                                               gint32            pay_by_day,
                                               gint32            extend_to_day);

/* Pure: the effective discount of paying @total on @balance, in basis points
 * rounded up. */
gint64       recoup_offer_effective_bp        (gint64            balance,
                                               gint64            total);
/* Pure: what the debtor pays for @discount_bp off @base (the discount rounded
 * down to the minor unit, so its effective discount is never more than typed). */
gint64       recoup_offer_total_for_discount  (gint64            base,
                                               gint64            discount_bp);
/* Pure: the last day a user who is not an owner may let money fall due
 * (a plan's last installment, a pay-by date, an extension) without an
 * owner's approval: @max_plan_installments months after @today_day (at least
 * one month). */
gint32       recoup_offer_deferral_limit      (gint32            today_day,
                                               gint64            max_plan_installments);
/* Why an offer needs an owner's approval: the first of its maker's limits it
 * goes beyond (recoup_offer_spec_authority()). */
typedef enum
{
  RECOUP_OFFER_WITHIN_AUTHORITY,
  RECOUP_OFFER_BEYOND_INSTALLMENTS,   /* a plan of more installments than the maker may agree */
  RECOUP_OFFER_BEYOND_DISCOUNT,       /* more off than the maker may give */
  RECOUP_OFFER_BEYOND_DEFERRAL,       /* money falls due after recoup_offer_deferral_limit() */
} RecoupOfferAuthority;

RecoupOfferAuthority recoup_offer_spec_authority (const char            *role,
                                                  const RecoupOfferSpec *spec,
                                                  gint64                 effective_bp,
                                                  gint64                 max_discount_bp,
                                                  gint64                 max_plan_installments,
                                                  gint32                 today_day);

gboolean     recoup_offer_check_amount        (const RecoupOfferSpec  *spec,
                                               const char             *currency,
                                               gint64                  owed,
                                               GError                **error);
gboolean     recoup_offer_check_terms         (const RecoupOfferSpec  *spec,
                                               const char             *currency,
                                               gint64                  owed,
                                               const char             *today,
                                               gint64                  tolerance,
                                               GError                **error);
char        *recoup_offer_create              (RecoupBook             *book,
                                               const RecoupOfferSpec  *spec,
                                               GError                **error);
/* Records a user transition (approve, send, accept, reject, withdraw) after
 * checking it against the derived state; refused with an error naming the
 * current state. Approve needs an owner; accepting writes the schedule and
 * any waiver entry in the same transaction. Withdrawing a running
 * arrangement needs it to clash (ONE RUNNING ARRANGEMENT) and a @note
 * saying why. */
gboolean     recoup_offer_transition          (RecoupBook             *book,
                                               const char             *offer_id,
                                               RecoupOfferEvent        event,
                                               const char             *note,
                                               GError                **error);
/* An offer by id or by a unique tail of its id (at least 6 characters). */
char        *recoup_offer_resolve             (RecoupBook             *book,
                                               const char             *id_or_tail,
                                               GError                **error);
/* @as_of: nullable, the day to judge on (default today). */
RecoupOffer *recoup_offer_load                (RecoupBook             *book,
                                               const char             *offer_id,
                                               const char             *as_of,
                                               GError                **error);
/* An account's offers, oldest first (@account_id NULL: the whole book). */
GPtrArray   *recoup_offer_list                (RecoupBook             *book,
                                               const char             *account_id,
                                               const char             *as_of,
                                               GError                **error);
/* Offers waiting for an owner's approval (needs_approval, not approved, still a draft). */
GPtrArray   *recoup_offer_list_approvals      (RecoupBook             *book,
                                               GError                **error);
/* The account's current plan: the newest accepted offer with a schedule
 * (accepted or active preferred over completed or defaulted); NULL and no
 * error when there is none. */
RecoupOffer *recoup_offer_current_plan        (RecoupBook             *book,
                                               const char             *account_id,
                                               const char             *as_of,
                                               GError                **error);
/* Whether @entry_id is the discount entry @offer keeps on the ledger (see
 * DISCOUNT ON COMPLETION): reversed on its own, reconciling would write it
 * again at once. */
gboolean     recoup_offer_keeps_discount      (RecoupBook             *book,
                                               const RecoupOffer      *offer,
                                               const char             *entry_id,
                                               gboolean               *out_kept,
                                               GError                **error);
/* Writes (or reverses) discount entries so the ledger follows the derived
 * states; returns the number of entries written in @out_written (nullable). */
gboolean     recoup_offer_reconcile_account   (RecoupBook             *book,
                                               const char             *account_id,
                                               guint                  *out_written,
                                               GError                **error);

void         recoup_offer_free                (RecoupOffer            *offer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupOffer, recoup_offer_free)

G_END_DECLS
