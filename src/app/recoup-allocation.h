/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "recoup-session.h"

G_BEGIN_DECLS

/* Where a payment goes: one line per invoice it pays or that stays open. */
typedef struct
{
  char   *ref;
  char   *due_date;
  gint64  applied;        /* minor units this payment pays on the invoice */
  gint64  balance;        /* open after the payment */
} RecoupAllocationLine;

typedef struct
{
  GPtrArray *lines;       /* RecoupAllocationLine */
  gint64     amount;      /* the payment */
  gint64     credit;      /* what no invoice took: a credit on the account */
  char      *currency;
  char      *date;
} RecoupAllocation;

void              recoup_allocation_free    (RecoupAllocation *allocation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupAllocation, recoup_allocation_free)

/* Worker thread: the allocation that the payment @spec makes, by core's
 * allocator. With @commit FALSE the payment is recorded inside a transaction
 * that is rolled back (a preview: nothing is written); with TRUE it is
 * recorded for real. */
RecoupAllocation *recoup_allocation_run     (RecoupBook            *book,
                                             const RecoupEntrySpec *spec,
                                             const char            *currency,
                                             gboolean               commit,
                                             GError               **error);

/* A preferences group that shows an allocation. */
GtkWidget        *recoup_allocation_group_new  (const char       *title);
void              recoup_allocation_group_show (GtkWidget        *group,
                                                RecoupAllocation *allocation,
                                                const char       *placeholder);
/* Asks for a preview of a payment of @amount (<= 0: none) on @date; it is
 * computed in the session's worker after a short pause in typing. */
void              recoup_allocation_group_request (GtkWidget     *group,
                                                   RecoupSession *session,
                                                   const char    *account_id,
                                                   const char    *currency,
                                                   gint64         amount,
                                                   const char    *date);
/* TRUE when the group shows the preview of the latest request. */
gboolean          recoup_allocation_group_is_current (GtkWidget  *group);

G_END_DECLS
