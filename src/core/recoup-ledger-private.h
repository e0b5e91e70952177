/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-id.h"
#include "recoup-ledger.h"

G_BEGIN_DECLS

char *recoup_ledger_account_currency (RecoupBook  *book,
                                      const char  *account_id,
                                      GError     **error);

/*
 * Allocation of an account's credits to what it owes. A deterministic function
 * of the set of entries, whatever order they were recorded, synced or read in
 * (so of the entries ordered by effective date and id, on every replica):
 *
 *  1. every entry nets into an item: one with an invoice into that invoice's;
 *     one without, into an item of its own, keyed by its id and dated its
 *     effective day (a fee due then, or a payment's credit); a reversal
 *     without an invoice into the item of the entry it reverses, so the two
 *     cancel as if neither had been recorded; a waiver of a fee or interest
 *     (waives_id), and the reversal of such a waiver, into that entry's item,
 *     so a waived fee is cancelled, not paid by the oldest invoice;
 *  2. an item whose credits exceed its charges passes the excess to the pool;
 *  3. the pool pays items oldest first, by (due date, id);
 *  4. what is left in the pool is a credit on the account.
 */
typedef struct
{
  char    id[40];    /* the invoice's id, or the id of the entry the item is */
  gint32  due_day;
  gint64  net;
} RecoupAllocItem;

typedef struct
{
  GArray *items;   /* RecoupAllocItem; one per item after finish */
  gint64  pool;    /* <= 0 after finish */
} RecoupAllocator;

void              recoup_allocator_init    (RecoupAllocator *alloc);
void              recoup_allocator_clear   (RecoupAllocator *alloc);
void              recoup_allocator_reset   (RecoupAllocator *alloc);
/* @nets_into: the entry whose item this one nets into without an invoice:
 * a waiver's or its reversal's waives_id, else a reversal's reverses_id
 * (coalesce (waives_id, reverses_id)); NULL for an item of its own.
 * @due_day: the invoice's due day; ignored without an invoice. */
void              recoup_allocator_add_entry (RecoupAllocator *alloc,
                                              const char      *invoice_id,
                                              const char      *entry_id,
                                              const char      *nets_into,
                                              gint32           due_day,
                                              gint32           effective_day,
                                              gint64           amount);
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

/* An SQL expression: what of the ledger entry aliased @f is still open, its
 * amount with its reversal's, its waivers' and their reversals' (which carry
 * waives_id too). */
#define RECOUP_LEDGER_OPEN_SQL(f) \
  "(" f ".amount + coalesce ((SELECT sum (x.amount) FROM ledger_entries x" \
  " WHERE x.waives_id = " f ".id OR x.reverses_id = " f ".id), 0))"

typedef struct
{
  char   id[RECOUP_UUID_STRING_LEN + 1];
  char   date[11];
  gint64 amount;   /* what it takes off, > 0 */
} RecoupLiveCredit;

typedef enum
{
  RECOUP_LIVE_DISCOUNTS_OF_OFFER,   /* an offer's discounts, oldest id first */
  RECOUP_LIVE_WAIVERS_OF_OFFER,     /* the waivers an offer wrote, oldest id first */
  RECOUP_LIVE_WAIVERS_OF_ENTRY,     /* the waivers of a fee or interest entry, newest id first */
} RecoupLiveCredits;

/* The credits of @which of @of_id that are not reversed (RecoupLiveCredit):
 * what reconciling keeps or reverses. */
GArray     *recoup_ledger_live_credits         (RecoupBook         *book,
                                                RecoupLiveCredits   which,
                                                const char         *of_id,
                                                GError            **error);

/* Reverses @credit, one of recoup_ledger_live_credits(), as every replica
 * that reconciles does: under an id derived from it, dated its own day and
 * without a memo, so that the copies meet as one row when they sync. */
gboolean    recoup_ledger_reverse_live_credit  (RecoupBook              *book,
                                                const RecoupLiveCredit  *credit,
                                                GError                 **error);

/* Reverses the newest waivers of an entry of @account_id that its waivers
 * (with its reversal) take below zero: two copies that each waived one fee,
 * or one that reversed it and one that waived it, meet when they sync. Every
 * copy writes the same rows. Counts them in @written. */
gboolean    recoup_ledger_reconcile_waivers    (RecoupBook  *book,
                                                const char  *account_id,
                                                guint       *written,
                                                GError     **error);

/* The waivers @offer_id wrote that reconciling reversed because another
 * waiver took the same entry (recoup_ledger_reconcile_waivers(), or the
 * other arrangement of an offline clash), written again once that entry is
 * open by their amount with no waiver left on it: for the arrangement that
 * stands, when the one whose waiver was kept is withdrawn. Under an id
 * derived from the waiver reversed, with its day, amount and memo, so every
 * replica writes the same row. A person's reversal of a waiver stands.
 * Counts them in @written. */
gboolean    recoup_ledger_rewaive              (RecoupBook  *book,
                                                const char  *offer_id,
                                                guint       *written,
                                                GError     **error);

G_END_DECLS
