/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-ledger.h"

G_BEGIN_DECLS

/*
 * Statements and reports: the numbers, computed once here so that the app, the
 * CLI and every export (PDF, CSV, XLSX, JSON) agree to the cent. Rendering lives
 * in src/report (librecoup-report); nothing here draws.
 *
 * A statement of an account for the period [from, to] (both inclusive):
 *  - opening  = the ledger sum of entries dated before @from;
 *  - lines    = every ledger entry dated in the period, by (effective date, id),
 *               each with the running balance after it;
 *  - closing  = opening + the lines = recoup_ledger_balance (account, @to);
 *  - aging    = recoup_ledger_account_aging (account, @to);
 *  - plan     = the installments of the account's current plan
 *               (recoup_offer_current_plan) not yet fully paid as of @to.
 */

typedef struct
{
  char   *id;
  char   *kind;           /* ledger entry kind: charge, payment, fee, ... */
  char   *date;           /* effective date */
  char   *description;    /* human text: "Invoice INV-1: Widgets", "Payment by cheque", ... */
  char   *invoice_ref;    /* nullable */
  char   *reference;      /* payment reference or receipt number; nullable */
  gint64  amount;         /* signed: + raises the balance, - lowers it */
  gint64  balance;        /* running balance after this line */
} RecoupStatementLine;

typedef struct
{
  guint   seq;
  char   *due_date;
  gint64  amount;
  gint64  paid;
  char   *status;         /* recoup_installment_status_to_string () */
} RecoupStatementInstallment;

typedef struct
{
  char           *account_id;
  char           *account_ref;
  char           *account_name;
  char           *address;        /* primary postal address, nullable */
  char           *email;          /* primary email, nullable */
  char           *currency;
  char           *from;
  char           *to;
  gint64          opening;
  gint64          debits;         /* sum of the positive lines */
  gint64          credits;        /* sum of the negative lines (<= 0) */
  gint64          closing;
  GPtrArray      *lines;          /* RecoupStatementLine */
  RecoupAgingRow  aging;          /* as of @to; aging.currency is owned */
  char           *plan_id;        /* nullable: no current plan */
  char           *plan_state;
  gint64          plan_total;
  gint64          plan_paid;
  GPtrArray      *plan_remaining; /* RecoupStatementInstallment, never NULL */
} RecoupStatement;

/* What a statement or report says about the business (shared settings). */
typedef struct
{
  char *name;                  /* business.name (default "Recoup") */
  char *address;               /* business.address, lines separated by '\n' */
  char *email;                 /* business.email */
  char *phone;                 /* business.phone */
  char *payment_instructions;  /* business.payment_instructions */
  char *logo_path;             /* business.logo_path: a PNG file */
  char *paper;                 /* report.paper: "a4", "letter" or NULL (by locale) */
} RecoupBusinessInfo;

/* What is wrong with a period, if anything: the first of its dates that is
 * not a day, or an end before the start. */
typedef enum
{
  RECOUP_PERIOD_VALID,
  RECOUP_PERIOD_BAD_FROM,
  RECOUP_PERIOD_BAD_TO,
  RECOUP_PERIOD_REVERSED,
} RecoupPeriodCheck;

/* Checks the period [@from, @to]: both dates YYYY-MM-DD days, @to not before
 * @from. @error says why in words of its own, so that the caller can name the
 * field or option at fault by the returned value. */
RecoupPeriodCheck recoup_period_check            (const char        *from,
                                                  const char        *to,
                                                  GError           **error);
/* recoup_period_check() with a message that says which date is wrong. */
gboolean          recoup_period_validate         (const char        *from,
                                                  const char        *to,
                                                  GError           **error);

RecoupStatement  *recoup_statement_build         (RecoupBook        *book,
                                                  const char        *account_id,
                                                  const char        *from,
                                                  const char        *to,
                                                  GError           **error);

/* The accounts a statement run for the period @from (nullable) to @to
 * (nullable: today) covers, by reference: those with a non-zero balance at
 * @to, and those with a ledger entry dated in the period. */
GPtrArray        *recoup_statement_accounts_for_period (RecoupBook  *book,
                                                        const char  *from,
                                                        const char  *to,
                                                        GError     **error);

RecoupBusinessInfo *recoup_business_info_load    (RecoupBook        *book);

void              recoup_statement_free          (RecoupStatement   *statement);
/* A ledger kind as the customer's statement names it ("Settlement discount"). */
const char       *recoup_statement_kind_label    (const char        *kind);
void              recoup_business_info_free      (RecoupBusinessInfo *info);

/* ---- Reports --------------------------------------------------------------- */

typedef enum
{
  RECOUP_AGING_BY_ACCOUNT,
  RECOUP_AGING_BY_COLLECTOR,
  RECOUP_AGING_BY_SEGMENT,
} RecoupAgingGroup;

gboolean          recoup_aging_group_from_string (const char        *text,
                                                  RecoupAgingGroup  *out_group);
const char       *recoup_aging_group_to_string   (RecoupAgingGroup   group);

typedef struct
{
  char   *key;          /* account ref, collector name or segment ("" = unassigned) */
  char   *label;        /* account name, collector name, segment */
  char   *currency;
  gint64  buckets[RECOUP_AGING_N_BUCKETS];
  gint64  credit;
  gint64  total;
  gint64  n_accounts;   /* accounts with a non-zero balance */
} RecoupAgingReportRow;

/**
 * recoup_aging_report:
 * @as_of: (nullable): YYYY-MM-DD; NULL: the book's today
 *
 * Aging as of a day, one row per account (with a non-zero balance), collector or
 * segment and currency, ordered by currency then key. Every row is allocated by
 * the same rule as recoup_ledger_account_aging(), so the rows of a currency sum
 * to recoup_aging_summary(). By segment needs the worklist's account_stats (the
 * segment is the account's current one); without it the error says so.
 */
GPtrArray        *recoup_aging_report            (RecoupBook        *book,
                                                  const char        *as_of,
                                                  RecoupAgingGroup   group,
                                                  GError           **error);

typedef struct
{
  char   *entry_id;
  char   *date;
  char   *kind;          /* "payment" or "reversal" (of a payment) */
  char   *account_ref;
  char   *account_name;
  char   *collector;     /* assigned collector's name, nullable */
  char   *currency;
  char   *method;
  char   *reference;
  char   *receipt_no;
  char   *invoice_ref;
  gint64  amount;        /* collected: payments positive, their reversals negative */
} RecoupPaymentRow;

/* Payments dated in [from, to] and the reversals of payments dated in it, by
 * (date, id). Their sum per currency is the net collected in the period. */
GPtrArray        *recoup_payments_report         (RecoupBook        *book,
                                                  const char        *from,
                                                  const char        *to,
                                                  GError           **error);

void              recoup_aging_report_row_free   (RecoupAgingReportRow *row);
void              recoup_payment_row_free        (RecoupPaymentRow  *row);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupStatement, recoup_statement_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupBusinessInfo, recoup_business_info_free)

G_END_DECLS
