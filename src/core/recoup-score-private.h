/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-date.h"
#include "recoup-escalation.h"
#include "recoup-score.h"

G_BEGIN_DECLS

/* The rules that stop every call to an account whatever was said or done
 * before (account_stats.call_blocks, a mask of them). Which of them stop a
 * call is the book's guard policy (recoup-guard.h), read when a list asks:
 * the stored mask holds each one whether the policy stops calls on it or not,
 * so a change of policy needs no new derived data. */
typedef enum
{
  RECOUP_CALL_BLOCK_CEASE   = 1 << 0,  /* the debtor asked to cease communication */
  RECOUP_CALL_BLOCK_FLAGS   = 1 << 1,  /* an attorney, bankruptcy, death */
  RECOUP_CALL_BLOCK_DISPUTE = 1 << 2,  /* an open dispute */
  RECOUP_CALL_BLOCK_OPT_OUT = 1 << 3,  /* opted out of calls, or of every phone number it has */
} RecoupCallBlocks;

/* What recoup-derived.c gathers per account; the inputs of the score, the
 * worklist queue and the next action. Days are day numbers (recoup-date.h),
 * RECOUP_DATE_INVALID when there is none; instants UTC ms, 0 when none. */
typedef struct
{
  char    account_id[40];
  char    assigned_to[40];
  char    stage[24];
  char    timezone[64];
  char    tier[32];
  char    currency[8];
  gint64  lifetime_revenue;
  gboolean deleted;

  gint64  balance;
  gint32  oldest_due_day;
  int     oldest_dpd;
  int     weighted_dpd;
  gint32  last_payment_day;
  int     payments_90d;
  gint64  paid_90d;
  int     promises_kept;
  int     promises_broken;
  gint32  promise_due_day;       /* earliest pending promise */
  gint32  promise_broken_day;    /* due + grace of the latest promise, if it is broken */
  int     contacts_rpc;
  int     contact_attempts;
  gint64  first_contact_at;
  gint64  last_contact_at;
  gint64  last_conversation_at;
  gboolean open_dispute;
  gint64  follow_up_at;
  /* Cease communication, an attorney, bankruptcy or death: the guard blocks
   * every contact with the debtor (recoup-guard.c), whatever the step. */
  gboolean no_contact;
  RecoupCallBlocks call_blocks;
  /* The instant (UTC ms) from which the rules of the call history (too many
   * calls in 7 days, a recent conversation) stop blocking a call by the
   * book's guard policy (recoup_guard_call_history_opens_at()); 0 when they
   * do not block after the instant it was derived at. Kept with the policy
   * it was derived by (the signature), so time passing needs no write. */
  gint64  calls_open_at;
  /* The account's live payment plan (accepted or active, neither completed
   * nor defaulted: recoup_offer_current_plan(), what `recoup-cli plan` shows),
   * judged by recoup-offer.c's rule. plan_due_day is the due day of its
   * oldest installment not yet covered, RECOUP_DATE_INVALID without a live
   * plan; plan_dpd the days since that day (0 while it is not due), the
   * account's days past due while it is on the plan; missed_installment
   * whether an installment is past its due date and grace uncovered. */
  gint32  plan_due_day;
  int     plan_dpd;
  gboolean missed_installment;
} RecoupAccountStats;

/* Whether @stats has a live payment plan (see plan_due_day). */
static inline gboolean
recoup_account_stats_on_plan (const RecoupAccountStats *stats)
{
  return stats->plan_due_day != RECOUP_DATE_INVALID;
}

/* Queue ranks of the worklist, in order; RECOUP_QUEUE_NONE is never listed. */
typedef enum
{
  RECOUP_QUEUE_FOLLOW_UP = 1,
  RECOUP_QUEUE_PROMISE   = 2,
  RECOUP_QUEUE_FRESH     = 3,
  RECOUP_QUEUE_PLAN      = 4,
  RECOUP_QUEUE_PRIORITY  = 5,
  RECOUP_QUEUE_WAIT      = 6,   /* its step is to wait (recoup_score_queue_rank()) */
  RECOUP_QUEUE_NONE      = 9,
} RecoupQueueRank;

#define RECOUP_QUEUE_FRESH_DAYS 7
#define RECOUP_QUEUE_BROKEN_DAYS 30

/* Whether the account's latest promise was broken within
 * RECOUP_QUEUE_BROKEN_DAYS of @today and still calls for a call about it: a
 * live arrangement (a plan, a settlement or an extension, accepted since)
 * replaced the promise, and its own installments say what is due. */
static inline gboolean
recoup_account_stats_promise_broken_lately (const RecoupAccountStats *stats,
                                            gint32                    today)
{
  return stats->promise_broken_day != RECOUP_DATE_INVALID &&
         stats->promise_broken_day >= today - RECOUP_QUEUE_BROKEN_DAYS &&
         !recoup_account_stats_on_plan (stats);
}

/* Pure: computes the items and the score of @stats. Returns the score.
 * @out_note is untranslated (N_()): the caller words it with _(). */
gint64      recoup_score_compute        (const RecoupScoreSettings *settings,
                                         const RecoupAccountStats  *stats,
                                         RecoupScoreItem           *items,
                                         const char               **out_segment,
                                         const char               **out_note);
/* The account's place in the worklist: its queue, or RECOUP_QUEUE_WAIT when
 * its step is to wait (@reason, the stored escalation reason, is a policy step
 * not yet due, a promise not yet due or a plan that is current), or when only
 * its score would list it and it was contacted in the last @recent_days days.
 * Work that can be done now comes first, and the order is the index's. */
int         recoup_score_queue_rank     (const RecoupAccountStats  *stats,
                                         const char                *segment,
                                         gint32                     today,
                                         const char                *reason,
                                         int                        recent_days);
/* worklist.recent_days: how long a contacted account waits. */
int         recoup_score_recent_days    (RecoupBook                *book);

char       *recoup_score_signature      (RecoupBook                *book);

/* recoup-escalation.c: the next recommended action, its reason (a code and
 * values, recoup-escalation.h) and the stage the account should be in. */
void        recoup_escalation_next      (GArray                    *policy,
                                         const RecoupAccountStats  *stats,
                                         gint32                     today,
                                         char                     **out_action,
                                         char                     **out_reason,
                                         const char               **out_stage);

/* recoup-derived.c: gathers one account's stats as of @today without writing. */
gboolean    recoup_derived_gather       (RecoupBook                *book,
                                         const char                *account_id,
                                         gint32                     today,
                                         RecoupAccountStats        *stats,
                                         GError                   **error);
/* Rebuilds account_stats for the whole book; the caller holds a transaction. */
gboolean    recoup_derived_rebuild_all  (RecoupBook                *book,
                                         RecoupProgressFunc         progress,
                                         gpointer                   progress_data,
                                         GError                   **error);

/* Scores, segments, ranks and next actions again from the stored stats (for a
 * change of weights or policy); a full rebuild when the stats are stale. */
gboolean    recoup_derived_rescore_all  (RecoupBook                *book,
                                         RecoupProgressFunc         progress,
                                         gpointer                   progress_data,
                                         GError                   **error);

G_END_DECLS
