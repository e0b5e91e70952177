/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * Promises to pay. A promise is append-only (amount, due date, grace); its
 * status is never stored: it is derived from the ledger whenever it is read.
 *
 * The rule (the same on every replica): a payment counts toward a promise when
 * its effective date lies in [made_on, due_date + grace_days] and it has not
 * been reversed (by a reversal dated on or before the day the status is judged
 * on). So a bounced cheque reopens a kept promise. A payment counts toward
 * every promise whose window holds it.
 *
 *  - KEPT:        the counted payments reach the promised amount (at any time);
 *  - PENDING:     not kept yet and the day is on or before due + grace;
 *  - PARTLY_KEPT: due + grace has passed, something but not all was paid;
 *  - BROKEN:      due + grace has passed and nothing was paid.
 *
 * Grace: RecoupPromiseSpec.grace_days, or (when RECOUP_PROMISE_GRACE_BOOK_DEFAULT)
 * the shared book setting "promise.grace_days" (default
 * RECOUP_PROMISE_DEFAULT_GRACE_DAYS), resolved when the promise is made and
 * stored with it. Any other negative grace is refused.
 */

#define RECOUP_PROMISE_DEFAULT_GRACE_DAYS 3
#define RECOUP_PROMISE_MAX_GRACE_DAYS     60
/* RecoupPromiseSpec.grace_days: the book's setting "promise.grace_days". */
#define RECOUP_PROMISE_GRACE_BOOK_DEFAULT (-1)
/* A promise falls due at most this many months after the day it is made;
 * longer terms are a payment plan (an offer). */
#define RECOUP_PROMISE_MAX_MONTHS_AHEAD   12

typedef enum
{
  RECOUP_PROMISE_PENDING,
  RECOUP_PROMISE_KEPT,
  RECOUP_PROMISE_PARTLY_KEPT,
  RECOUP_PROMISE_BROKEN,
} RecoupPromiseStatus;

typedef struct
{
  const char *account_id;
  gint64      amount;        /* minor units, > 0, in the account's currency */
  const char *due_date;      /* YYYY-MM-DD */
  const char *channel;       /* how it was taken: call, visit, email, sms, letter or note (nullable) */
  const char *activity_id;   /* the contact it was taken in (nullable) */
  int         grace_days;    /* 0 to RECOUP_PROMISE_MAX_GRACE_DAYS, or RECOUP_PROMISE_GRACE_BOOK_DEFAULT */
  const char *made_on;       /* YYYY-MM-DD the promise was made, not after the book's today
                              * (nullable: the book's today);
                              * the demo generator sets it for history */
} RecoupPromiseSpec;

typedef struct
{
  char               *id;
  char               *account_id;
  char               *account_ref;
  gint64              amount;
  char               *currency;
  char               *due_date;
  char               *made_on;
  char               *channel;
  int                 grace_days;
  gint64              created_at;    /* when it was recorded, UTC ms */
  gint64              paid;          /* counted toward the promise, >= 0 */
  RecoupPromiseStatus status;
} RecoupPromise;

typedef enum
{
  RECOUP_PROMISE_LIST_DUE    = 1 << 0,  /* due on the day and not kept yet */
  RECOUP_PROMISE_LIST_BROKEN = 1 << 1,  /* broken or partly kept as of the day */
  /* only an account's latest promise (by made_on, then id) is considered: a new
   * promise supersedes a broken one for the worklist */
  RECOUP_PROMISE_LIST_LATEST_ONLY = 1 << 2,
} RecoupPromiseListFlags;

gboolean       recoup_promise_check_amount      (gint64                   amount,
                                                 const char              *currency,
                                                 gint64                   owed,
                                                 GError                 **error);
gint32         recoup_promise_latest_due_day    (gint32                   made_day);
gboolean       recoup_promise_check_terms       (gint64                   amount,
                                                 const char              *currency,
                                                 gint64                   owed,
                                                 const char              *due_date,
                                                 const char              *made_on,
                                                 GError                 **error);
char          *recoup_promise_add               (RecoupBook              *book,
                                                 const RecoupPromiseSpec *spec,
                                                 GError                 **error);
const char    *recoup_promise_status_to_string  (RecoupPromiseStatus      status);

/* The promises of one account with their status as of @as_of (NULL: today),
 * by due date then id. Element type RecoupPromise. */
GPtrArray     *recoup_promise_list              (RecoupBook              *book,
                                                 const char              *account_id,
                                                 const char              *as_of,
                                                 GError                 **error);

/**
 * recoup_promise_list_due:
 * @day: (nullable): YYYY-MM-DD; NULL: the book's today
 * @flags: which promises: DUE (due_date == @day, not kept), BROKEN (broken or
 *   partly kept as of @day; their due + grace is before @day), or both;
 *   LATEST_ONLY to consider only each account's latest promise
 *
 * Book-wide query for the worklist and score: the promises due on @day and/or
 * broken as of @day, with their derived status, ordered by account ref, due
 * date, id. Element type RecoupPromise.
 */
GPtrArray     *recoup_promise_list_due          (RecoupBook              *book,
                                                 const char              *day,
                                                 RecoupPromiseListFlags   flags,
                                                 GError                 **error);

/* Pure rule (exposed for tests): the status of a promise of @amount due on
 * @due_day with @grace_days, given @paid counted toward it, judged on @as_of_day. */
RecoupPromiseStatus recoup_promise_status_for   (gint64                   amount,
                                                 gint32                   due_day,
                                                 int                      grace_days,
                                                 gint64                   paid,
                                                 gint32                   as_of_day);

/* Pure rule: whether a payment dated @payment_day and recorded at
 * @payment_recorded (UTC ms) counts toward a promise made on @made_day at
 * @made_at (UTC ms, 0 unknown): one dated after that day does, one dated
 * that day only when recorded after the promise (the money paid in the
 * morning was already off the balance the debtor promised on). The due
 * date and grace are the caller's. */
gboolean       recoup_promise_counts_payment    (gint32                   made_day,
                                                 gint64                   made_at,
                                                 gint32                   payment_day,
                                                 gint64                   payment_recorded);

/* The instant that orders a promise made on @made_day against that day's
 * payments: @created_at when it was recorded on that day (local time), 0
 * for a promise recorded later than the day it was made, which cannot tell
 * which came first and so counts every payment of the day. */
gint64         recoup_promise_order_instant     (gint32                   made_day,
                                                 gint64                   created_at);

void           recoup_promise_free              (RecoupPromise           *promise);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupPromise, recoup_promise_free)

G_END_DECLS
