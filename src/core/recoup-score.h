/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * Priority scores. Every account with something owed gets an integer score of
 * 0 to 10000 (basis points of "as urgent as it gets"), the weighted sum of
 * components that are each 0 to 10000 points:
 *
 *   balance         the outstanding balance, linear up to score.balance_cap
 *   age             days past due of the oldest open item, linear up to 180
 *   age-weighted    balance-weighted days past due of the open items, up to 180
 *                   (both, while the account has a live payment plan: the
 *                   days past due of the plan's oldest unpaid installment, 0
 *                   while none is due; the plan set new due dates for the
 *                   whole balance, so it is as late as the plan is. The
 *                   ledger's days past due stay in the aging and the lists.)
 *   behaviour       5000, +2000 per broken promise, -1000 per kept one, -2500
 *                   when something was paid in the last 90 days
 *   responsiveness  right-party contacts per attempt (5000 with no attempts)
 *   relationship    the larger of the tier's value and lifetime revenue (linear
 *                   up to score.revenue_cap)
 *   stage           pre-collection 2500, active 5000, negotiation 6000,
 *                   escalation 9000, closed 0
 *
 * contribution = points * weight / sum of weights (integer division), and the
 * score is the sum of the contributions, so an explanation always adds up.
 * Weights are shared book settings (score.weight.<component>), integers >= 0,
 * not all zero. Segments: high at score.high (6000) and above, medium at
 * score.medium (3000) and above, low below; accounts that owe nothing (or are
 * closed) are in segment "none" with score 0.
 */

typedef enum
{
  RECOUP_SCORE_BALANCE,
  RECOUP_SCORE_AGE,
  RECOUP_SCORE_AGE_WEIGHTED,
  RECOUP_SCORE_BEHAVIOUR,
  RECOUP_SCORE_RESPONSIVENESS,
  RECOUP_SCORE_RELATIONSHIP,
  RECOUP_SCORE_STAGE,
  RECOUP_SCORE_N_COMPONENTS
} RecoupScoreComponent;

#define RECOUP_SCORE_MAX 10000

typedef struct
{
  gint64 weights[RECOUP_SCORE_N_COMPONENTS];
  gint64 high;           /* segment thresholds, 0..10000, high > medium */
  gint64 medium;
  gint64 balance_cap;    /* minor units at which the balance component is full */
  gint64 revenue_cap;    /* minor units at which lifetime revenue is full */
} RecoupScoreSettings;

typedef struct
{
  const char *component;   /* stable name, e.g. "age-weighted" */
  char       *raw;         /* the input in the reader's words: "1,234.00 USD owed (full at 5,000.00)" */
  gint64      points;      /* 0..10000 */
  gint64      weight;
  gint64      contribution;
} RecoupScoreItem;

typedef struct
{
  char            *account_id;
  char            *as_of;         /* the day the score was computed for */
  gint64           score;
  char            *segment;       /* high, medium, low, none */
  char            *note;          /* why the score is 0 in the reader's words, or NULL */
  gint64           total_weight;
  RecoupScoreItem  items[RECOUP_SCORE_N_COMPONENTS];
  char            *next_action;         /* the policy's step, as account_stats keeps it */
  char            *next_action_reason;  /* its reason as kept: a code and values (recoup-escalation.h) */
  char            *recommended_stage;
} RecoupScoreExplanation;

const char *recoup_score_component_name      (RecoupScoreComponent       component);
gboolean    recoup_score_component_from_name (const char                *name,
                                              RecoupScoreComponent      *out);

/* The tiers the score knows, best first ("platinum", "gold", "silver",
 * "bronze"), NULL-terminated. */
const char * const *recoup_score_tiers       (void);
/* The known tier @tier names, by its name or an alias in any case ("Gold",
 * "b", "2"), or NULL: an account of an unknown tier gets no points for it. */
const char *recoup_score_tier_canonical      (const char                *tier);
void        recoup_score_settings_default    (RecoupScoreSettings       *settings);
void        recoup_score_settings_load       (RecoupBook                *book,
                                              RecoupScoreSettings       *settings);
gboolean    recoup_score_settings_validate   (const RecoupScoreSettings *settings,
                                              GError                   **error);

/* Validates, stores (shared settings, through the change log) and re-scores
 * the whole book with progress. Invalid settings change nothing. */
gboolean    recoup_score_settings_save       (RecoupBook                *book,
                                              const RecoupScoreSettings *settings,
                                              RecoupProgressFunc         progress,
                                              gpointer                   progress_data,
                                              GError                   **error);

/* recoup_score_settings_save() without the re-scoring: the derived data is
 * then not current (recoup_score_is_current()) until recoup_score_ensure_current()
 * or recoup_score_update_detached() (the app: in the background, with
 * progress, cancellable). */
gboolean    recoup_score_settings_store      (RecoupBook                *book,
                                              const RecoupScoreSettings *settings,
                                              GError                   **error);

/* Recomputes derived data (stats, scores, segments, next actions) of every
 * account of the book. */
gboolean    recoup_score_refresh_book        (RecoupBook                *book,
                                              RecoupProgressFunc         progress,
                                              gpointer                   progress_data,
                                              GError                   **error);

/* Refreshes the whole book when its derived data is for another day than the
 * book's today (days past due move every day) or was never computed. */
gboolean    recoup_score_ensure_current      (RecoupBook                *book,
                                              RecoupProgressFunc         progress,
                                              gpointer                   progress_data,
                                              GError                   **error);

/* Whether the derived data is for the book's today and its current settings
 * (what recoup_score_ensure_current() would otherwise rebuild); a few reads. */
gboolean    recoup_score_is_current          (RecoupBook                *book);

/* recoup_score_ensure_current() for a connection of its own in a worker
 * thread, while other connections go on reading the previous data: a small
 * page cache, sorts spilled to temporary files instead of memory, and the
 * rebuild rolled back when @cancellable is cancelled. */
gboolean    recoup_score_update_detached     (RecoupBook                *book,
                                              RecoupProgressFunc         progress,
                                              gpointer                   progress_data,
                                              GCancellable              *cancellable,
                                              GError                   **error);

/* Every component of an account's score with its raw value, weight and
 * contribution, computed now from the book (it changes nothing). */
RecoupScoreExplanation *recoup_score_explain (RecoupBook                *book,
                                              const char                *account_id,
                                              GError                   **error);
void        recoup_score_explanation_free    (RecoupScoreExplanation    *explanation);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupScoreExplanation, recoup_score_explanation_free)

G_END_DECLS
