/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-ledger.h"

G_BEGIN_DECLS

/*
 * Allocation of an account's credits to what it owes. A deterministic function
 * of the set of entries, whatever order they were recorded or synced in:
 *
 *  1. every entry with an invoice nets into that invoice; a positive entry
 *     without one (an account-level fee) is an item of its own, due on its
 *     effective date; a negative one, or the reversal of one, goes to a pool;
 *  2. an invoice whose credits exceed its charges passes the excess to the pool;
 *  3. the pool pays items oldest first, by (due date, id);
 *  4. what is left in the pool is a credit on the account.
 */
typedef struct
{
  char    id[40];
  gint32  due_day;
  gint64  net;
} RecoupAllocItem;

typedef struct
{
  GArray *items;   /* RecoupAllocItem */
  gint64  pool;    /* <= 0 after finish */
} RecoupAllocator;

void              recoup_allocator_init    (RecoupAllocator *alloc);
void              recoup_allocator_clear   (RecoupAllocator *alloc);
void              recoup_allocator_reset   (RecoupAllocator *alloc);
void              recoup_allocator_add     (RecoupAllocator *alloc,
                                            const char      *invoice_id,
                                            const char      *entry_id,
                                            gint32           due_day,
                                            gint32           effective_day,
                                            gint64           amount,
                                            gboolean         is_reversal);
void              recoup_allocator_finish  (RecoupAllocator *alloc);
gint64            recoup_allocator_age     (RecoupAllocator *alloc,
                                            gint32           as_of_day,
                                            gint64          *buckets,
                                            gint64          *credit);

/* Runs the allocation for one account as of a day (inclusive). */
gboolean          recoup_ledger_allocate   (RecoupBook      *book,
                                            const char      *account_id,
                                            gint32           as_of_day,
                                            RecoupAllocator *alloc,
                                            GError         **error);

G_END_DECLS
