/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"
#include "recoup-guard.h"
#include "recoup-next-step.h"

G_BEGIN_DECLS

/*
 * A collector's queue for today. First the accounts with something to do
 * now, then those whose step is to wait, each part in queue order: follow-ups
 * due, promises due today or recently broken, fresh delinquencies (1 to 7
 * days past due), plans with a missed installment, then the rest by score.
 * Within a group, by score (highest first), then account id.
 *
 * An account waits when its policy step does (account_stats keeps it for the
 * day, recoup-escalation.h): the next step comes at more days past due
 * (policy-next), a promise is not due yet (promise-due), a payment plan is
 * kept (plan-current); or when it was contacted in the last
 * worklist.recent_days (default 3) days and nothing else is due for it. A
 * step the guard allows only later (the debtor's hours, the days after a
 * conversation) does not move an account: that needs the guard for every
 * account, and the guard's answer changes by the hour; the step reads when it
 * becomes allowed instead.
 *
 * Without a channel in the filter every account in the queue is listed, as
 * the app lists them. With one, the guard is asked about each candidate, in
 * order, for that channel at the filter's instant, until the page is full;
 * accounts it blocks are left out and counted with their reasons (the count
 * covers the accounts ranked above the end of the page).
 *
 * Each listed account's next step is the policy's step made to agree with
 * the guard at the filter's instant (recoup-next-step.h): a step the guard
 * blocks now reads when it becomes allowed, another channel, or no contact.
 */

typedef struct
{
  const char *collector;    /* user id or name; nullable */
  const char *segment;      /* high, medium, low; nullable */
  const char *stage;        /* nullable */
  const char *tag;          /* nullable */
  const char *timezone;     /* IANA zone; nullable */
  gint64      min_balance;  /* minor units; 0: none */
  const char *channel;      /* only accounts the guard lets be contacted by it; NULL: all */
  guint       limit;        /* 0: 50 */
  guint       offset;
  gint64      at;           /* the instant the guard is asked about; 0: now */
  const char *currency;     /* ISO 4217: only accounts in it; nullable: all */
} RecoupWorklistFilter;

typedef struct
{
  char             *account_id;
  char             *ref;
  char             *name;
  char             *currency;
  char             *stage;
  char             *segment;
  char             *timezone;
  char             *assigned_to;
  gint64            balance;
  gint64            score;
  int               days_past_due;
  int               queue_rank;     /* 1..5 */
  const char       *queue_reason;   /* "follow-up due", ... */
  gboolean          waits;          /* its step is to wait: listed after those with work now */
  char             *next_action;    /* the next step, agreed with the guard (next_step->action) */
  char             *next_action_reason; /* why, in the reader's words (next_step->reason) */
  RecoupNextStep   *next_step;      /* the same, with the policy's step and the guard's rule */
  RecoupVerdictKind verdict;        /* the filter's channel: allowed or warn; without one, the
                                     * policy step's channel (allowed for a step that is no contact) */
} RecoupWorklistItem;

typedef struct
{
  char  *code;
  guint  count;
} RecoupWorklistBlock;

typedef struct
{
  GPtrArray *items;        /* RecoupWorklistItem */
  guint      n_blocked;
  GPtrArray *blocked;      /* RecoupWorklistBlock, by count descending */
  gboolean   has_more;     /* another page follows */
} RecoupWorklist;

RecoupWorklist *recoup_worklist_build      (RecoupBook                 *book,
                                            const RecoupWorklistFilter *filter,
                                            GError                    **error);
void            recoup_worklist_free       (RecoupWorklist             *worklist);

/* Saved worklists are shared settings "worklist.saved.NAME" holding the filter
 * as JSON (limit, at and offset are not saved). */
gboolean        recoup_worklist_save       (RecoupBook                 *book,
                                            const char                 *name,
                                            const RecoupWorklistFilter *filter,
                                            GError                    **error);
/* Loads a saved filter; its strings live in @out_strings (free it after use). */
gboolean        recoup_worklist_load_saved (RecoupBook                 *book,
                                            const char                 *name,
                                            RecoupWorklistFilter       *out_filter,
                                            GStrv                      *out_strings,
                                            GError                    **error);
GStrv           recoup_worklist_list_saved (RecoupBook                 *book);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupWorklist, recoup_worklist_free)

G_END_DECLS
