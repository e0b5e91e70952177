/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * Collection KPIs for a period [from, to] (inclusive), one set per currency.
 * Integer arithmetic only: days are reported in hundredths of a day (x100),
 * rates in basis points (bp, 10000 = 100 %), each the exact rational rounded
 * once, half away from zero. A KPI whose denominator is zero is
 * RECOUP_KPI_NA. The formulas are in docs/kpis.md; in short, with
 * N = the period's days, billed = charges + fees + interest dated in it,
 * AR = the ledger total (receivables net of unapplied credits), past due = the
 * aging buckets 1-30 .. 181+ at the end:
 *
 *   DSO            = AR_end * N / billed
 *   countback DSO  = the days of billing, walking back month by month from the
 *                    end, that AR_end covers (the last month pro rata)
 *   best DSO       = (AR_end - past_due_end) * N / billed
 *   ADD            = past_due_end * N / billed           (= DSO - best DSO)
 *   CEI (CRF)      = (AR_begin + billed/M - AR_end) / (AR_begin + billed/M - current_end)
 *                    with M the calendar months the period touches
 *   recovery       = per placement month: payments after placement through the
 *                    end / balance on the placement day
 *   promise kept   = promises due in the period kept / those resolved by the end
 *   cost-to-collect= costs entered for the period's months (pro rata) / collected
 *   contact rate   = outbound calls and visits that reached someone / attempts
 *   RPC rate       = of those, conversations with the debtor / attempts
 */

#define RECOUP_KPI_NA G_MININT64

typedef struct
{
  char   *month;        /* YYYY-MM of accounts.placed_on */
  gint64  n_accounts;
  gint64  placed;       /* balance on the placement day (ledger through placed_on) */
  gint64  recovered;    /* payments net of their reversals, after placed_on through `to` */
  gint64  rate_bp;
} RecoupKpiCohort;

typedef struct
{
  char      *currency;
  char      *from;
  char      *to;
  gint64     days;              /* N */
  gint64     months;            /* M: calendar months the period touches */

  /* inputs, minor units */
  gint64     ar_begin;          /* ledger total dated before from */
  gint64     ar_end;            /* ledger total dated through to */
  gint64     past_due_end;      /* aging buckets past due at to */
  gint64     current_end;       /* ar_end - past_due_end */
  gint64     billed;            /* charges, fees, interest dated in the period */
  gint64     collected;         /* payments net of payment reversals dated in it */
  gint64     costs;             /* collection costs of the period (pro rata) */

  /* results */
  gint64     dso_x100;
  gint64     countback_dso_x100;
  gint64     best_dso_x100;
  gint64     add_x100;
  gint64     cei_bp;
  gint64     cost_to_collect_bp; /* RECOUP_KPI_NA without collections or without costs entered */

  gint64     promises_resolved; /* due in the period, kept or not by `to` */
  gint64     promises_kept;
  gint64     promise_kept_bp;

  gint64     attempts;          /* outbound calls and visits in the period */
  gint64     contacts;          /* reached anybody (a conversation or a wrong party) */
  gint64     rpc;               /* right-party conversations */
  gint64     contact_rate_bp;
  gint64     rpc_rate_bp;

  gint64     recovery_bp;       /* all cohorts together */
  GPtrArray *cohorts;           /* RecoupKpiCohort, by month */
} RecoupKpis;

/* Exact num * scale / den rounded half away from zero; RECOUP_KPI_NA when
 * den == 0 (or the result does not fit). */
gint64      recoup_kpi_ratio       (gint64       num,
                                    gint64       den,
                                    gint64       scale);

/* The KPIs of [from, to], one RecoupKpis per currency that has any data, by currency. */
GPtrArray  *recoup_kpi_compute     (RecoupBook  *book,
                                    const char  *from,
                                    const char  *to,
                                    GError     **error);

/* Collection costs of a calendar month (YYYY-MM), in minor units of @currency;
 * a shared setting "costs.YYYY-MM.CUR", so it syncs and is audited. */
gboolean    recoup_kpi_set_cost    (RecoupBook  *book,
                                    const char  *month,
                                    const char  *currency,
                                    gint64       amount,
                                    GError     **error);
gint64      recoup_kpi_get_cost    (RecoupBook  *book,
                                    const char  *month,
                                    const char  *currency);

/* "12.34" for 1234 hundredths / "56.78%" for 5678 bp; "n/a" for RECOUP_KPI_NA. */
char       *recoup_kpi_format_x100 (gint64       value);
char       *recoup_kpi_format_bp   (gint64       value);

void        recoup_kpis_free       (RecoupKpis  *kpis);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupKpis, recoup_kpis_free)

G_END_DECLS
