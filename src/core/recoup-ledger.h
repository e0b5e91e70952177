/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

typedef enum
{
  RECOUP_ENTRY_CHARGE,
  RECOUP_ENTRY_PAYMENT,
  RECOUP_ENTRY_FEE,
  RECOUP_ENTRY_INTEREST,
  RECOUP_ENTRY_ADJUSTMENT,
  RECOUP_ENTRY_WAIVER,
  RECOUP_ENTRY_DISCOUNT,
  RECOUP_ENTRY_WRITE_OFF,
  RECOUP_ENTRY_REVERSAL,
} RecoupEntryKind;

const char *recoup_entry_kind_to_string   (RecoupEntryKind  kind);
gboolean    recoup_entry_kind_from_string (const char      *text,
                                           RecoupEntryKind *out_kind);

typedef struct
{
  const char *account_id;
  const char *ref;
  const char *issue_date;    /* YYYY-MM-DD */
  const char *due_date;      /* YYYY-MM-DD, not before issue_date */
  gint64      amount;        /* minor units, > 0 */
  const char *currency;      /* must be the account's */
  const char *description;
} RecoupInvoiceSpec;

typedef struct
{
  RecoupEntryKind kind;
  const char     *account_id;
  const char     *invoice_id;     /* nullable: allocate oldest first */
  gint64          amount;         /* a magnitude > 0; signed and non-zero for adjustments */
  const char     *effective_date; /* YYYY-MM-DD; NULL means today */
  const char     *method;         /* payments: cash, cheque, card, bank-transfer, other */
  const char     *reference;
  const char     *memo;
  const char     *offer_id;
  const char     *id;             /* nullable: a new id; given for an entry every replica derives alike */
  const char     *waives_id;      /* nullable: a waiver's fee or interest entry (id or receipt): it
                                   * cancels that entry, and takes its invoice */
} RecoupEntrySpec;

typedef struct
{
  char   *id;
  char   *ref;
  char   *issue_date;
  char   *due_date;
  char   *description;
  gint64  amount;      /* as invoiced */
  gint64  balance;     /* open after allocation */
  int     days_past_due;
} RecoupInvoiceBalance;

typedef struct
{
  char   *id;
  char   *kind;
  char   *invoice_ref;
  gint64  amount;
  char   *currency;
  char   *effective_date;
  char   *method;
  char   *reference;
  char   *receipt_no;
  char   *reverses_id;
  char   *reverses_kind;   /* a reversal's: the kind of the entry it reverses */
  char   *reverses_date;   /* a reversal's: that entry's effective date */
  char   *reversed_by;
  char   *waives_id;       /* a waiver's (or its reversal's): the fee or interest it waives */
  char   *waives_kind;     /* that entry's kind */
  char   *waives_date;     /* that entry's effective date */
  char   *memo;            /* as the user typed it; "" when none was given */
  gint64  created_at;
} RecoupLedgerEntry;

/* Aging buckets by days past due. */
typedef enum
{
  RECOUP_AGING_CURRENT,
  RECOUP_AGING_1_30,
  RECOUP_AGING_31_60,
  RECOUP_AGING_61_90,
  RECOUP_AGING_91_180,
  RECOUP_AGING_181_PLUS,
  RECOUP_AGING_N_BUCKETS
} RecoupAgingBucket;

typedef struct
{
  char   *currency;
  gint64  buckets[RECOUP_AGING_N_BUCKETS];
  gint64  credit;        /* unallocated credit, <= 0 */
  gint64  total;         /* sum of buckets + credit: the ledger balance */
  gint64  n_accounts;    /* accounts with a non-zero balance */
} RecoupAgingRow;

const char          *recoup_aging_bucket_label   (RecoupAgingBucket bucket);
RecoupAgingBucket    recoup_aging_bucket_for_days (int days_past_due);

char       *recoup_invoice_add              (RecoupBook               *book,
                                             const RecoupInvoiceSpec  *spec,
                                             GError                  **error);
gboolean    recoup_invoice_validate         (const RecoupInvoiceSpec  *spec,
                                             GError                  **error);
char       *recoup_invoice_resolve          (RecoupBook               *book,
                                             const char               *ref_or_id,
                                             GError                  **error);
gboolean    recoup_invoice_update           (RecoupBook               *book,
                                             const char               *invoice_id,
                                             const RecoupInvoiceSpec  *spec,
                                             gboolean                 *out_changed,
                                             GError                  **error);

char       *recoup_ledger_record            (RecoupBook               *book,
                                             const RecoupEntrySpec    *spec,
                                             GError                  **error);
char       *recoup_ledger_date_floor (RecoupBook              *book,
                                              const char              *account_id,
                                              const char              *today,
                                              GError                 **error);
gboolean    recoup_ledger_check_payment_date (const char              *date,
                                              const char              *floor,
                                              const char              *today,
                                              GError                 **error);
/* Pure: a payer's reference (a cheque or transfer number) is one line of at
 * most RECOUP_LEDGER_REFERENCE_MAX characters; a memo at most
 * RECOUP_LEDGER_MEMO_MAX. Either may be NULL. */
#define RECOUP_LEDGER_REFERENCE_MAX 64
#define RECOUP_LEDGER_MEMO_MAX 1000
gboolean    recoup_ledger_check_texts       (const char              *reference,
                                             const char              *memo,
                                             GError                 **error);
char       *recoup_ledger_reverse           (RecoupBook               *book,
                                             const char               *entry_id,
                                             const char               *effective_date,
                                             const char               *memo,
                                             GError                  **error);
char       *recoup_ledger_reverse_with_id   (RecoupBook               *book,
                                             const char               *given_id,
                                             const char               *entry_id,
                                             const char               *effective_date,
                                             const char               *memo,
                                             GError                  **error);
char       *recoup_ledger_entry_get_account (RecoupBook             *book,
                                             const char               *entry_id,
                                             GError                  **error);
gboolean    recoup_ledger_balance           (RecoupBook               *book,
                                             const char               *account_id,
                                             const char               *as_of,
                                             gint64                   *out_balance,
                                             GError                  **error);
GPtrArray  *recoup_ledger_list              (RecoupBook               *book,
                                             const char               *account_id,
                                             GError                  **error);
/* Pure: the note of @memo when it is the memo the entry of an upheld
 * dispute's remedy has ("dispute <id> upheld: <note>", see
 * recoup_dispute_resolve_full()): a pointer into @memo, "" for an empty
 * note. %NULL for any other memo. */
const char *recoup_ledger_memo_dispute_note (const char               *memo);
/* Pure: @memo as a person reads it, in the reader's language: an upheld
 * dispute's without the dispute's id ("Dispute upheld: <note>"), an accepted
 * offer's waiver or settlement discount without the offer's, any other as
 * it is. The book keeps the memo as it was stored. */
char       *recoup_ledger_memo_for_reader   (const char               *memo);
/* Pure: the note a person reads for @entry, in the reader's language: its
 * memo (as recoup_ledger_memo_for_reader() words it), or for a reversal
 * without one, what it reverses, for a waiver what it waives. The book never
 * holds such words of the app's own. %NULL when there is nothing to say. */
char       *recoup_ledger_entry_note        (const RecoupLedgerEntry  *entry);
GPtrArray  *recoup_ledger_invoice_balances  (RecoupBook               *book,
                                             const char               *account_id,
                                             const char               *as_of,
                                             GError                  **error);
gboolean    recoup_ledger_account_aging     (RecoupBook               *book,
                                             const char               *account_id,
                                             const char               *as_of,
                                             RecoupAgingRow           *out_row,
                                             GError                  **error);
GPtrArray  *recoup_aging_summary            (RecoupBook               *book,
                                             const char               *as_of,
                                             GError                  **error);

void        recoup_invoice_balance_free     (RecoupInvoiceBalance     *ib);
void        recoup_ledger_entry_free        (RecoupLedgerEntry        *entry);
void        recoup_aging_row_free           (RecoupAgingRow           *row);

G_END_DECLS
