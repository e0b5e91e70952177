/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-kpi"

#include "config.h"

#include <string.h>

#include "recoup-activity.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-kpi.h"
#include "recoup-ledger.h"
#include "recoup-money.h"
#include "recoup-promise.h"
#include "recoup-settings.h"
#include "recoup-statement.h"

/* Payments and the reversals of payments: what was collected. */
#define COLLECTED_SQL \
  "(l.kind = 'payment' OR (l.kind = 'reversal' AND" \
  " (SELECT o.kind FROM ledger_entries o WHERE o.id = l.reverses_id) = 'payment'))"

gint64
recoup_kpi_ratio (gint64 num,
                  gint64 den,
                  gint64 scale)
{
  __int128 n, d, q;
  gboolean negative;

  if (den == 0 || num == RECOUP_KPI_NA || den == RECOUP_KPI_NA)
    return RECOUP_KPI_NA;
  n = (__int128) num * scale;
  d = den;
  negative = (n < 0) != (d < 0);
  if (n < 0)
    n = -n;
  if (d < 0)
    d = -d;
  /* Half away from zero: floor ((2n + d) / 2d) on magnitudes. */
  q = (2 * n + d) / (2 * d);
  if (q > G_MAXINT64)
    return RECOUP_KPI_NA;
  return negative ? -(gint64) q : (gint64) q;
}

static char *
format_scaled (gint64      value,
               gint64      scale,
               const char *suffix)
{
  guint64 mag;

  if (value == RECOUP_KPI_NA)
    return g_strdup ("n/a");
  mag = value < 0 ? -(guint64) value : (guint64) value;
  return g_strdup_printf ("%s%" G_GUINT64_FORMAT ".%02" G_GUINT64_FORMAT "%s",
                          value < 0 ? "-" : "", mag / (guint64) scale, mag % (guint64) scale, suffix);
}

char *
recoup_kpi_format_x100 (gint64 value)
{
  return format_scaled (value, 100, "");
}

char *
recoup_kpi_format_bp (gint64 value)
{
  return format_scaled (value, 100, "%");
}

/* ---- Costs ---------------------------------------------------------------- */

static gboolean
parse_month (const char *month,
             gint32     *out_first_day,
             GError    **error)
{
  g_autofree char *first = NULL;

  if (month == NULL || strlen (month) != 7 || month[4] != '-')
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a month; write it as YYYY-MM", month ? month : "");
      return FALSE;
    }
  first = g_strconcat (month, "-01", NULL);
  if ((*out_first_day = recoup_date_parse (first, NULL)) == RECOUP_DATE_INVALID)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a month; write it as YYYY-MM", month);
      return FALSE;
    }
  return TRUE;
}

gboolean
recoup_kpi_set_cost (RecoupBook  *book,
                     const char  *month,
                     const char  *currency,
                     gint64       amount,
                     GError     **error)
{
  g_autofree char *key = NULL, *value = NULL;
  gint32 first;

  if (!parse_month (month, &first, error) || !recoup_currency_validate (currency, error))
    return FALSE;
  if (amount < 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "collection costs cannot be negative");
      return FALSE;
    }
  key = g_strdup_printf ("costs.%s.%s", month, currency);
  value = recoup_money_format (amount, currency, RECOUP_MONEY_FORMAT_PLAIN);
  return recoup_settings_set_shared (book, key, value, error);
}

gint64
recoup_kpi_get_cost (RecoupBook *book,
                     const char *month,
                     const char *currency)
{
  g_autofree char *key = g_strdup_printf ("costs.%s.%s", month, currency);
  g_autofree char *value = recoup_book_get_setting (book, key);
  gint64 amount = 0;

  if (value == NULL || !recoup_money_parse (value, currency, &amount, NULL))
    return 0;
  return amount;
}

/* Costs are entered per calendar month; a month the period only partly covers
 * counts pro rata by days, each month rounded half up on its own. */
static gint64
period_costs (RecoupBook *book,
              const char *currency,
              gint32      from_day,
              gint32      to_day,
              gint64     *out_months)
{
  char buf[11];
  gint32 first;
  gint64 total = 0, months = 0;

  recoup_date_format_buf (from_day, buf);
  buf[8] = '0';
  buf[9] = '1';
  first = recoup_date_parse (buf, NULL);
  for (; first <= to_day; first = recoup_date_add_months (first, 1))
    {
      gint32 next = recoup_date_add_months (first, 1);
      gint32 lo = MAX (first, from_day), hi = MIN (next - 1, to_day);
      char month[8];
      gint64 cost;

      recoup_date_format_buf (first, buf);
      memcpy (month, buf, 7);
      month[7] = '\0';
      months++;
      if (currency == NULL)
        continue;
      cost = recoup_kpi_get_cost (book, month, currency);
      if (cost != 0)
        total += recoup_kpi_ratio (cost * (hi - lo + 1), next - first, 1);
    }
  if (out_months != NULL)
    *out_months = months;
  return total;
}

/* ---- Computation ---------------------------------------------------------- */

static void
cohort_free (RecoupKpiCohort *c)
{
  g_free (c->month);
  g_free (c);
}

static RecoupKpis *
kpis_for (GHashTable *sets,
          const char *currency,
          const char *from,
          const char *to,
          gint64      days)
{
  RecoupKpis *k = g_hash_table_lookup (sets, currency);

  if (k == NULL)
    {
      k = g_new0 (RecoupKpis, 1);
      k->currency = g_strdup (currency);
      k->from = g_strdup (from);
      k->to = g_strdup (to);
      k->days = days;
      k->cohorts = g_ptr_array_new_with_free_func ((GDestroyNotify) cohort_free);
      g_hash_table_insert (sets, k->currency, k);
    }
  return k;
}

static gboolean
billed_between (RecoupBook  *book,
                const char  *currency,
                gint32       lo,
                gint32       hi,
                gint64      *out_billed,
                GError     **error)
{
  char a[11], b[11];
  sqlite3_stmt *s = recoup_book_prepare (book,
    "SELECT coalesce(sum(amount), 0) FROM ledger_entries"
    " WHERE currency = ? AND kind IN ('charge', 'fee', 'interest')"
    " AND effective_date >= ? AND effective_date <= ?", error);

  if (s == NULL)
    return FALSE;
  recoup_date_format_buf (lo, a);
  recoup_date_format_buf (hi, b);
  sqlite3_bind_text (s, 1, currency, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, a, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 3, b, -1, SQLITE_STATIC);
  if (sqlite3_step (s) != SQLITE_ROW)
    {
      sqlite3_reset (s);
      return recoup_book_set_sqlite_error (book, error);
    }
  *out_billed = sqlite3_column_int64 (s, 0);
  sqlite3_reset (s);
  return TRUE;
}

/* Countback: walk back from the end a calendar month at a time, taking each
 * month's billing off the receivables; whole months count their days, the
 * month the receivables run out in counts days * remaining / billed. At most
 * 120 months back (a receivable older than that counts those months only). */
static gboolean
countback (RecoupBook  *book,
           RecoupKpis  *k,
           gint32       to_day,
           GError     **error)
{
  gint64 remaining = k->ar_end, full_days = 0;

  if (remaining <= 0)
    {
      k->countback_dso_x100 = 0;
      return TRUE;
    }
  for (int m = 0; m < 120 && remaining > 0; m++)
    {
      gint32 hi = recoup_date_add_months (to_day, -m);
      gint32 lo = recoup_date_add_months (to_day, -(m + 1)) + 1;
      gint64 billed = 0, days = hi - lo + 1;

      if (!billed_between (book, k->currency, lo, hi, &billed, error))
        return FALSE;
      if (remaining >= billed)
        {
          full_days += days;
          remaining -= billed;
          continue;
        }
      k->countback_dso_x100 = full_days * 100 + recoup_kpi_ratio (remaining * days, billed, 100);
      return TRUE;
    }
  k->countback_dso_x100 = full_days * 100;
  return TRUE;
}

static gboolean
compute_ledger (RecoupBook  *book,
                GHashTable  *sets,
                const char  *from,
                const char  *to,
                gint64       days,
                GError     **error)
{
  g_autoptr(GPtrArray) aging = NULL;
  sqlite3_stmt *s = recoup_book_prepare (book,
    "SELECT currency,"
    " sum(CASE WHEN effective_date < ?1 THEN amount ELSE 0 END),"
    " sum(amount),"
    " sum(CASE WHEN effective_date >= ?1 AND kind IN ('charge', 'fee', 'interest') THEN amount ELSE 0 END)"
    " FROM ledger_entries WHERE effective_date <= ?2 GROUP BY currency", error);

  if (s == NULL)
    return FALSE;
  sqlite3_bind_text (s, 1, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, to, -1, SQLITE_STATIC);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      RecoupKpis *k = kpis_for (sets, RECOUP_BOOK_STMT_TEXT (s, 0), from, to, days);

      k->ar_begin = sqlite3_column_int64 (s, 1);
      k->ar_end = sqlite3_column_int64 (s, 2);
      k->billed = sqlite3_column_int64 (s, 3);
    }
  sqlite3_reset (s);

  s = recoup_book_prepare (book,
    "SELECT l.currency, -sum(l.amount) FROM ledger_entries l"
    " WHERE l.effective_date >= ? AND l.effective_date <= ? AND " COLLECTED_SQL
    " GROUP BY l.currency", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_text (s, 1, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, to, -1, SQLITE_STATIC);
  while (sqlite3_step (s) == SQLITE_ROW)
    kpis_for (sets, RECOUP_BOOK_STMT_TEXT (s, 0), from, to, days)->collected = sqlite3_column_int64 (s, 1);
  sqlite3_reset (s);

  if (!(aging = recoup_aging_summary (book, to, error)))
    return FALSE;
  for (guint i = 0; i < aging->len; i++)
    {
      RecoupAgingRow *row = g_ptr_array_index (aging, i);
      RecoupKpis *k = kpis_for (sets, row->currency, from, to, days);

      k->past_due_end = 0;
      for (guint b = RECOUP_AGING_1_30; b < RECOUP_AGING_N_BUCKETS; b++)
        k->past_due_end += row->buckets[b];
    }
  return TRUE;
}

static gboolean
compute_cohorts (RecoupBook  *book,
                 GHashTable  *sets,
                 const char  *from,
                 const char  *to,
                 gint64       days,
                 GError     **error)
{
  sqlite3_stmt *s = recoup_book_prepare (book,
    "SELECT a.currency, substr(a.placed_on, 1, 7), count(*),"
    " coalesce(sum((SELECT sum(l.amount) FROM ledger_entries l"
    "               WHERE l.account_id = a.id AND l.effective_date <= a.placed_on)), 0),"
    " coalesce(sum((SELECT -sum(l.amount) FROM ledger_entries l"
    "               WHERE l.account_id = a.id AND l.effective_date > a.placed_on"
    "               AND l.effective_date <= ?2 AND " COLLECTED_SQL ")), 0)"
    " FROM accounts a WHERE a.deleted = 0 AND a.placed_on >= ?1 AND a.placed_on <= ?2"
    " GROUP BY 1, 2 ORDER BY 1, 2", error);

  if (s == NULL)
    return FALSE;
  sqlite3_bind_text (s, 1, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, to, -1, SQLITE_STATIC);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      RecoupKpis *k = kpis_for (sets, RECOUP_BOOK_STMT_TEXT (s, 0), from, to, days);
      RecoupKpiCohort *c = g_new0 (RecoupKpiCohort, 1);

      c->month = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 1));
      c->n_accounts = sqlite3_column_int64 (s, 2);
      c->placed = sqlite3_column_int64 (s, 3);
      c->recovered = sqlite3_column_int64 (s, 4);
      c->rate_bp = recoup_kpi_ratio (c->recovered, c->placed, 10000);
      g_ptr_array_add (k->cohorts, c);
    }
  sqlite3_reset (s);
  return TRUE;
}

static gboolean
compute_promises (RecoupBook  *book,
                  GHashTable  *sets,
                  const char  *from,
                  const char  *to,
                  gint64       days,
                  GError     **error)
{
  g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *s = recoup_book_prepare (book,
    "SELECT DISTINCT account_id FROM promises"
    " WHERE deleted = 0 AND due_date >= ? AND due_date <= ? ORDER BY account_id", error);

  if (s == NULL)
    return FALSE;
  sqlite3_bind_text (s, 1, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, to, -1, SQLITE_STATIC);
  while (sqlite3_step (s) == SQLITE_ROW)
    g_ptr_array_add (accounts, g_strdup (RECOUP_BOOK_STMT_TEXT (s, 0)));
  sqlite3_reset (s);

  /* The status rule is the promises module's: judged as of the period's end. */
  for (guint i = 0; i < accounts->len; i++)
    {
      g_autoptr(GPtrArray) list = recoup_promise_list (book, g_ptr_array_index (accounts, i), to, error);

      if (list == NULL)
        return FALSE;
      for (guint j = 0; j < list->len; j++)
        {
          RecoupPromise *p = g_ptr_array_index (list, j);
          RecoupKpis *k;

          if (strcmp (p->due_date, from) < 0 || strcmp (p->due_date, to) > 0 ||
              p->status == RECOUP_PROMISE_PENDING)
            continue;
          k = kpis_for (sets, p->currency, from, to, days);
          k->promises_resolved++;
          if (p->status == RECOUP_PROMISE_KEPT)
            k->promises_kept++;
        }
    }
  return TRUE;
}

static gboolean
compute_contacts (RecoupBook  *book,
                  GHashTable  *sets,
                  const char  *from,
                  const char  *to,
                  gint32       from_day,
                  gint32       to_day,
                  gint64       days,
                  GError     **error)
{
  sqlite3_stmt *s = recoup_book_prepare (book,
    "SELECT a.currency, v.outcome, count(*) FROM activities v JOIN accounts a ON a.id = v.account_id"
    " WHERE v.direction = 'outbound' AND v.channel IN ('call', 'visit') AND v.at >= ? AND v.at < ?"
    " GROUP BY 1, 2", error);

  if (s == NULL)
    return FALSE;
  /* Days run from midnight UTC. */
  sqlite3_bind_int64 (s, 1, (gint64) from_day * 86400000);
  sqlite3_bind_int64 (s, 2, ((gint64) to_day + 1) * 86400000);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      RecoupKpis *k = kpis_for (sets, RECOUP_BOOK_STMT_TEXT (s, 0), from, to, days);
      const char *outcome = RECOUP_BOOK_STMT_TEXT (s, 1);
      gint64 n = sqlite3_column_int64 (s, 2);

      k->attempts += n;
      if (recoup_activity_outcome_is_conversation (outcome))
        {
          k->rpc += n;
          k->contacts += n;
        }
      else if (g_strcmp0 (outcome, "wrong-number") == 0)
        k->contacts += n;
    }
  sqlite3_reset (s);
  return TRUE;
}

static int
compare_kpis (gconstpointer a,
              gconstpointer b)
{
  return strcmp ((*(RecoupKpis * const *) a)->currency, (*(RecoupKpis * const *) b)->currency);
}

GPtrArray *
recoup_kpi_compute (RecoupBook  *book,
                    const char  *from,
                    const char  *to,
                    GError     **error)
{
  g_autoptr(GHashTable) sets = NULL;
  g_autoptr(GPtrArray) result = NULL;
  gint32 from_day, to_day;
  gint64 days, months;
  GHashTableIter iter;
  gpointer value;
  g_autofree char *today = recoup_book_today (book);

  if (!recoup_period_validate (from, to, error))
    return NULL;
  /* What has not happened yet is not measured: promises not yet due would
   * count as broken, and DSO would divide by days still to come. */
  if (strcmp (to, today) > 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "the period ends %s, after today (%s): KPIs measure what has happened; "
                   "end the period today or earlier", to, today);
      return NULL;
    }
  from_day = recoup_date_parse (from, NULL);
  to_day = recoup_date_parse (to, NULL);
  days = (gint64) to_day - from_day + 1;
  period_costs (book, NULL, from_day, to_day, &months);

  sets = g_hash_table_new (g_str_hash, g_str_equal);
  result = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_kpis_free);
  if (!compute_ledger (book, sets, from, to, days, error) ||
      !compute_cohorts (book, sets, from, to, days, error) ||
      !compute_promises (book, sets, from, to, days, error) ||
      !compute_contacts (book, sets, from, to, from_day, to_day, days, error))
    goto fail;

  g_hash_table_iter_init (&iter, sets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (result, value);
  g_hash_table_steal_all (sets);
  g_ptr_array_sort (result, compare_kpis);

  for (guint i = 0; i < result->len; i++)
    {
      RecoupKpis *k = g_ptr_array_index (result, i);
      gint64 placed = 0, recovered = 0;
      gint64 cei_num, cei_den;

      k->months = months;
      k->current_end = k->ar_end - k->past_due_end;
      k->dso_x100 = recoup_kpi_ratio (k->ar_end * days, k->billed, 100);
      k->best_dso_x100 = recoup_kpi_ratio (k->current_end * days, k->billed, 100);
      k->add_x100 = recoup_kpi_ratio (k->past_due_end * days, k->billed, 100);
      if (!countback (book, k, to_day, error))
        return NULL;

      /* CRF: (B + S/M - E) / (B + S/M - C), multiplied through by M. */
      cei_num = months * k->ar_begin + k->billed - months * k->ar_end;
      cei_den = months * k->ar_begin + k->billed - months * k->current_end;
      k->cei_bp = recoup_kpi_ratio (cei_num, cei_den, 10000);

      k->costs = period_costs (book, k->currency, from_day, to_day, NULL);
      /* No costs entered for the period is not a cost of zero: n/a. */
      k->cost_to_collect_bp = k->collected > 0 && k->costs > 0
        ? recoup_kpi_ratio (k->costs, k->collected, 10000) : RECOUP_KPI_NA;
      k->promise_kept_bp = recoup_kpi_ratio (k->promises_kept, k->promises_resolved, 10000);
      k->contact_rate_bp = recoup_kpi_ratio (k->contacts, k->attempts, 10000);
      k->rpc_rate_bp = recoup_kpi_ratio (k->rpc, k->attempts, 10000);

      for (guint c = 0; c < k->cohorts->len; c++)
        {
          RecoupKpiCohort *co = g_ptr_array_index (k->cohorts, c);

          placed += co->placed;
          recovered += co->recovered;
        }
      k->recovery_bp = recoup_kpi_ratio (recovered, placed, 10000);
    }
  return g_steal_pointer (&result);

fail:
  g_hash_table_iter_init (&iter, sets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    recoup_kpis_free (value);
  g_hash_table_steal_all (sets);
  return NULL;
}

void
recoup_kpis_free (RecoupKpis *k)
{
  if (k == NULL)
    return;
  g_free (k->currency);
  g_free (k->from);
  g_free (k->to);
  g_clear_pointer (&k->cohorts, g_ptr_array_unref);
  g_free (k);
}
