/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * Disputes: opened with a reason on an invoice or on the whole account; while
 * one is open the compliance guard pauses collection and plans do not default.
 * Resolved once: upheld (optionally with a write-off or an adjustment on the
 * ledger, recorded with the resolution in one transaction) or rejected
 * (collection resumes).
 */

typedef enum
{
  RECOUP_DISPUTE_REMEDY_NONE,
  RECOUP_DISPUTE_REMEDY_WRITE_OFF,   /* writes off the disputed invoice's open balance
                                      * (or the account's balance for an account dispute) */
  RECOUP_DISPUTE_REMEDY_ADJUST,      /* lowers the balance by `amount` (an adjustment of -amount) */
} RecoupDisputeRemedy;

typedef struct
{
  gboolean             upheld;
  RecoupDisputeRemedy  remedy;       /* only when upheld */
  gint64               amount;       /* ADJUST: minor units, > 0 */
  const char          *note;         /* the resolution text: why it was upheld or rejected (required) */
} RecoupDisputeResolution;

typedef struct
{
  char   *id;
  char   *account_id;
  char   *invoice_id;
  char   *invoice_ref;
  char   *reason;
  char   *status;        /* open, upheld, rejected */
  char   *resolution;
  gint64  opened_at;
  gint64  resolved_at;   /* 0 while open */
} RecoupDispute;

char     *recoup_dispute_open     (RecoupBook  *book,
                                   const char  *account_id,
                                   const char  *invoice_id,   /* nullable: the whole account */
                                   const char  *reason,
                                   GError     **error);
gboolean  recoup_dispute_resolve  (RecoupBook  *book,
                                   const char  *dispute_id,
                                   gboolean     upheld,
                                   const char  *resolution,
                                   GError     **error);
/* Pure: the parts of a resolution recoup_dispute_resolve_full() refuses
 * before it writes, for a form to ask as the user types. The note: every
 * resolution says why (an upheld dispute that leaves the balance owed, why it
 * is still owed). The remedy: only with an upheld dispute; a write-off needs
 * something open; an adjustment is more than zero and at most @open, what is
 * open on the disputed invoice (or on the account, for @on_invoice FALSE), in
 * @currency. */
gboolean  recoup_dispute_check_note   (const RecoupDisputeResolution *resolution,
                                       GError                       **error);
gboolean  recoup_dispute_check_remedy (const RecoupDisputeResolution *resolution,
                                       gboolean                       on_invoice,
                                       gint64                         open,
                                       const char                    *currency,
                                       GError                       **error);
/* Resolves with an optional ledger remedy; returns the remedy entry's id in
 * @out_entry_id (NULL when there is none). */
gboolean  recoup_dispute_resolve_full (RecoupBook                    *book,
                                       const char                    *dispute_id,
                                       const RecoupDisputeResolution *resolution,
                                       char                         **out_entry_id,
                                       GError                       **error);

/* TRUE when the account (or any of its invoices) has an open dispute. For the
 * compliance guard and plan defaulting. */
gboolean  recoup_dispute_account_has_open (RecoupBook *book,
                                           const char *account_id);

/* An account's disputes, newest first. Element type RecoupDispute. */
GPtrArray *recoup_dispute_list    (RecoupBook  *book,
                                   const char  *account_id,
                                   GError     **error);
RecoupDispute *recoup_dispute_load (RecoupBook *book,
                                    const char *dispute_id,
                                    GError    **error);
void       recoup_dispute_free    (RecoupDispute *dispute);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupDispute, recoup_dispute_free)

G_END_DECLS
