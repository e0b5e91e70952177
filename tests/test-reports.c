/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recoup-demo.h"
#include "recoup-report.h"
#include "recoup-report-private.h"
#include "recoup-test-util.h"

/*
 * The hand-built book (USD; the book's today is 2026-02-15; the KPI period is
 * January 2026: N = 31 days, M = 1 month).
 *
 * ACC-1 “Acme, "Best" Ltd”, placed with us on 2026-01-05:
 *   INV-A1  issued 2025-12-01, due 2025-12-31, 1,000.00   (charge dated 2025-12-01)
 *   INV-A2  issued 2026-01-10, due 2026-02-09,   500.00   (charge dated 2026-01-10)
 *   payment 300.00 on 2026-01-15 (no invoice: allocated oldest first, to INV-A1)
 *   fee      20.00 on 2026-01-20 (no invoice: an item due on 2026-01-20)
 * ACC-2 “Beta”:
 *   INV-B1  issued 2026-01-05, due 2026-01-20,   200.00
 *   payment  50.00 on 2026-01-25
 *   payment  10.00 on 2026-01-26, reversed on 2026-01-28 (a bounced cheque)
 *
 * Ledger sums (minor units):
 *   AR_begin  (before 2026-01-01)        = 100000
 *   billed    (charges+fees+interest Jan) = 50000 + 2000 + 20000          = 72000
 *   collected (payments - their reversals)= 30000 + 5000 + 1000 - 1000    = 35000
 *   AR_end    (through 2026-01-31)        = 122000 (ACC-1) + 15000 (ACC-2) = 137000
 * Aging on 2026-01-31:
 *   ACC-1: INV-A1 100000 - 30000 = 70000, 31 days past due -> 31-60
 *          fee 2000, 11 days -> 1-30;  INV-A2 50000 not due -> current
 *   ACC-2: INV-B1 20000 - 5000 (the 1000 payment and its reversal cancel) = 15000, 11 days -> 1-30
 *   past_due_end = 70000 + 2000 + 15000 = 87000;  current_end = 137000 - 87000 = 50000
 *
 * DSO        = 137000 * 31 / 72000 = 58.98611.. days     -> 5899 (x100)
 * best DSO   =  50000 * 31 / 72000 = 21.52777.. days     -> 2153
 * ADD        =  87000 * 31 / 72000 = 37.45833.. days     -> 3746
 * countback: January billed 72000 <= 137000: 31 days, 65000 left; December
 *            (2025-12-01..31) billed 100000 > 65000: 31 * 65000 / 100000 = 20.15
 *            -> 31 + 20.15 = 51.15 days                   -> 5115
 * CEI (CRF, M = 1) = (100000 + 72000 - 137000) / (100000 + 72000 - 50000)
 *            = 35000 / 122000 = 28.6885..%               -> 2869 bp
 * recovery, cohort 2026-01 (ACC-1 only): placed = ledger through 2026-01-05
 *            = 100000; recovered after it through 2026-01-31 = 30000  -> 3000 bp
 * promises due in January (grace 3 days):
 *   ACC-1 300.00 due 01-15, made 01-10: the 300.00 payment of 01-15 -> kept
 *   ACC-2 100.00 due 01-22, made 01-12: window to 01-25 holds 50.00 -> partly kept
 *   ACC-2 100.00 due 02-10: outside the period, not counted
 *   kept rate = 1 / 2                                     -> 5000 bp
 * costs: 2026-01 USD 70.00 (2025-12 USD 999.00 is outside) -> 7000;
 *   cost-to-collect = 7000 / 35000                        -> 2000 bp
 * contacts in January (outbound calls and visits):
 *   ACC-1 call right-party, call no-answer, call wrong-number;
 *   ACC-2 call voicemail, visit promise; (an email and a February call do not count)
 *   attempts 5; contacts 3 (right-party, wrong-number, promise) -> 6000 bp;
 *   right-party contacts 2 (right-party, promise)              -> 4000 bp
 */

typedef struct
{
  TestBook  tb;
  char     *a;
  char     *b;
  char     *out;   /* a folder for output files */
} Fixture;

static gint64
ms_at (const char *day,
       int         hour)
{
  return (gint64) recoup_date_parse (day, NULL) * 86400000 + (gint64) hour * 3600000;
}

static char *
record (RecoupBook      *book,
        RecoupEntryKind  kind,
        const char      *account,
        gint64           amount,
        const char      *date,
        const char      *method)
{
  g_autoptr(GError) error = NULL;
  RecoupEntrySpec spec = { .kind = kind, .account_id = account, .amount = amount,
                           .effective_date = date, .method = method };
  char *id = recoup_ledger_record (book, &spec, &error);

  g_assert_no_error (error);
  return id;
}

static void
log_contact (RecoupBook *book,
             const char *account,
             const char *channel,
             const char *outcome,
             gint64      at)
{
  g_autoptr(GError) error = NULL;
  RecoupActivitySpec spec = { .account_id = account, .channel = channel, .outcome = outcome, .at = at };
  g_autofree char *id = recoup_activity_log (book, &spec, &error);

  g_assert_no_error (error);
}

static void
promise (RecoupBook *book,
         const char *account,
         gint64      amount,
         const char *due,
         const char *made)
{
  g_autoptr(GError) error = NULL;
  RecoupPromiseSpec spec = { .account_id = account, .amount = amount, .due_date = due,
                             .made_on = made, .grace_days = 3 };
  g_autofree char *id = recoup_promise_add (book, &spec, &error);

  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupAccountSpec a = { .ref = "ACC-1", .name = "Acme, \"Best\" Ltd", .currency = "USD",
                          .timezone = "America/New_York" };
  RecoupAccountSpec b = { .ref = "ACC-2", .name = "Beta", .currency = "USD", .timezone = "America/New_York" };
  g_autofree char *i1 = NULL, *i2 = NULL, *i3 = NULL, *p1 = NULL, *p2 = NULL, *p3 = NULL, *fee = NULL;
  g_autofree char *rev = NULL;

  g_setenv ("RECOUP_TODAY", "2026-02-15", TRUE);
  test_book_open (&f->tb);
  f->out = g_build_filename (f->tb.dir, "out", NULL);
  g_assert_cmpint (g_mkdir (f->out, 0700), ==, 0);

  f->a = recoup_account_create (f->tb.book, &a, &error);
  g_assert_no_error (error);
  f->b = recoup_account_create (f->tb.book, &b, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_account_set (f->tb.book, f->a, "placed_on", "2026-01-05", &error));
  g_assert_no_error (error);

  i1 = test_add_invoice (f->tb.book, f->a, "INV-A1", "2025-12-01", "2025-12-31", 100000, "USD");
  i2 = test_add_invoice (f->tb.book, f->a, "INV-A2", "2026-01-10", "2026-02-09", 50000, "USD");
  p1 = record (f->tb.book, RECOUP_ENTRY_PAYMENT, f->a, 30000, "2026-01-15", "cheque");
  fee = record (f->tb.book, RECOUP_ENTRY_FEE, f->a, 2000, "2026-01-20", NULL);
  i3 = test_add_invoice (f->tb.book, f->b, "INV-B1", "2026-01-05", "2026-01-20", 20000, "USD");
  p2 = record (f->tb.book, RECOUP_ENTRY_PAYMENT, f->b, 5000, "2026-01-25", "card");
  p3 = record (f->tb.book, RECOUP_ENTRY_PAYMENT, f->b, 1000, "2026-01-26", "cheque");
  rev = recoup_ledger_reverse (f->tb.book, p3, "2026-01-28", "cheque bounced", &error);
  g_assert_no_error (error);

  promise (f->tb.book, f->a, 30000, "2026-01-15", "2026-01-10");
  promise (f->tb.book, f->b, 10000, "2026-01-22", "2026-01-12");
  promise (f->tb.book, f->b, 10000, "2026-02-10", "2026-02-01");

  g_assert_true (recoup_kpi_set_cost (f->tb.book, "2026-01", "USD", 7000, &error));
  g_assert_true (recoup_kpi_set_cost (f->tb.book, "2025-12", "USD", 99900, &error));
  g_assert_no_error (error);

  log_contact (f->tb.book, f->a, "call", "right-party", ms_at ("2026-01-10", 15));
  log_contact (f->tb.book, f->a, "call", "no-answer", ms_at ("2026-01-11", 15));
  log_contact (f->tb.book, f->a, "call", "wrong-number", ms_at ("2026-01-12", 15));
  log_contact (f->tb.book, f->b, "call", "voicemail", ms_at ("2026-01-13", 15));
  log_contact (f->tb.book, f->b, "visit", "promise", ms_at ("2026-01-14", 15));
  log_contact (f->tb.book, f->b, "email", "sent", ms_at ("2026-01-14", 16));
  log_contact (f->tb.book, f->b, "call", "right-party", ms_at ("2026-02-02", 15));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  test_book_close (&f->tb);
  g_free (f->a);
  g_free (f->b);
  g_free (f->out);
}

static void
test_kpis_by_hand (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) kpis = recoup_kpi_compute (f->tb.book, "2026-01-01", "2026-01-31", &error);
  RecoupKpis *k;
  RecoupKpiCohort *c;

  g_assert_no_error (error);
  g_assert_cmpuint (kpis->len, ==, 1);
  k = g_ptr_array_index (kpis, 0);
  g_assert_cmpstr (k->currency, ==, "USD");
  g_assert_cmpint (k->days, ==, 31);
  g_assert_cmpint (k->months, ==, 1);
  g_assert_cmpint (k->ar_begin, ==, 100000);
  g_assert_cmpint (k->billed, ==, 72000);
  g_assert_cmpint (k->collected, ==, 35000);
  g_assert_cmpint (k->ar_end, ==, 137000);
  g_assert_cmpint (k->past_due_end, ==, 87000);
  g_assert_cmpint (k->current_end, ==, 50000);

  g_assert_cmpint (k->dso_x100, ==, 5899);
  g_assert_cmpint (k->best_dso_x100, ==, 2153);
  g_assert_cmpint (k->add_x100, ==, 3746);
  g_assert_cmpint (k->countback_dso_x100, ==, 5115);
  g_assert_cmpint (k->cei_bp, ==, 2869);

  g_assert_cmpuint (k->cohorts->len, ==, 1);
  c = g_ptr_array_index (k->cohorts, 0);
  g_assert_cmpstr (c->month, ==, "2026-01");
  g_assert_cmpint (c->n_accounts, ==, 1);
  g_assert_cmpint (c->placed, ==, 100000);
  g_assert_cmpint (c->recovered, ==, 30000);
  g_assert_cmpint (c->rate_bp, ==, 3000);
  g_assert_cmpint (k->recovery_bp, ==, 3000);

  g_assert_cmpint (k->promises_resolved, ==, 2);
  g_assert_cmpint (k->promises_kept, ==, 1);
  g_assert_cmpint (k->promise_kept_bp, ==, 5000);

  g_assert_cmpint (k->costs, ==, 7000);
  g_assert_cmpint (k->cost_to_collect_bp, ==, 2000);
  /* Without costs entered for the period the ratio is n/a, not 0 %. */
  {
    g_autoptr(GPtrArray) without = NULL;
    RecoupKpis *w;

    g_assert_true (recoup_kpi_set_cost (f->tb.book, "2026-01", "USD", 0, &error));
    without = recoup_kpi_compute (f->tb.book, "2026-01-01", "2026-01-31", &error);
    g_assert_no_error (error);
    w = g_ptr_array_index (without, 0);
    g_assert_cmpint (w->collected, >, 0);
    g_assert_cmpint (w->cost_to_collect_bp, ==, RECOUP_KPI_NA);
  }

  g_assert_cmpint (k->attempts, ==, 5);
  g_assert_cmpint (k->contacts, ==, 3);
  g_assert_cmpint (k->rpc, ==, 2);
  g_assert_cmpint (k->contact_rate_bp, ==, 6000);
  g_assert_cmpint (k->rpc_rate_bp, ==, 4000);
}

static void
test_ratio_rounding (void)
{
  /* Half away from zero, exact on the rational. */
  g_assert_cmpint (recoup_kpi_ratio (1, 8, 100), ==, 13);      /* 12.5 -> 13 */
  g_assert_cmpint (recoup_kpi_ratio (-1, 8, 100), ==, -13);
  g_assert_cmpint (recoup_kpi_ratio (1, 3, 10000), ==, 3333);
  g_assert_cmpint (recoup_kpi_ratio (2, 3, 10000), ==, 6667);
  g_assert_cmpint (recoup_kpi_ratio (5, 0, 100), ==, RECOUP_KPI_NA);
  /* Large operands do not overflow: 9e15 * 10000 / 9e15. */
  g_assert_cmpint (recoup_kpi_ratio (G_GINT64_CONSTANT (9000000000000000),
                                     G_GINT64_CONSTANT (9000000000000000), 10000), ==, 10000);
  {
    g_autofree char *a = recoup_kpi_format_x100 (5899);
    g_autofree char *b = recoup_kpi_format_bp (-5);
    g_autofree char *c = recoup_kpi_format_bp (RECOUP_KPI_NA);

    g_assert_cmpstr (a, ==, "58.99");
    g_assert_cmpstr (b, ==, "-0.05%");
    g_assert_cmpstr (c, ==, "n/a");
  }
}

static void
test_statement_by_hand (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupStatement) st = recoup_statement_build (f->tb.book, f->a, "2026-01-01", "2026-01-31", &error);
  g_autoptr(RecoupStatement) sb = NULL;
  RecoupStatementLine *l;

  g_assert_no_error (error);
  g_assert_cmpint (st->opening, ==, 100000);
  g_assert_cmpuint (st->lines->len, ==, 3);
  l = g_ptr_array_index (st->lines, 0);
  g_assert_cmpstr (l->date, ==, "2026-01-10");
  g_assert_cmpstr (l->kind, ==, "charge");
  g_assert_cmpint (l->amount, ==, 50000);
  g_assert_cmpint (l->balance, ==, 150000);
  g_assert_nonnull (strstr (l->description, "INV-A2"));
  l = g_ptr_array_index (st->lines, 1);
  g_assert_cmpstr (l->kind, ==, "payment");
  g_assert_cmpint (l->balance, ==, 120000);
  g_assert_cmpint (st->debits, ==, 52000);
  g_assert_cmpint (st->credits, ==, -30000);
  g_assert_cmpint (st->closing, ==, 122000);
  g_assert_cmpint (st->aging.buckets[RECOUP_AGING_CURRENT], ==, 50000);
  g_assert_cmpint (st->aging.buckets[RECOUP_AGING_1_30], ==, 2000);
  g_assert_cmpint (st->aging.buckets[RECOUP_AGING_31_60], ==, 70000);
  g_assert_cmpint (st->aging.total, ==, 122000);
  g_assert_null (st->plan_id);

  /* The reversal is a line of its own, and the balance returns. */
  sb = recoup_statement_build (f->tb.book, f->b, "2026-01-26", "2026-01-31", &error);
  g_assert_no_error (error);
  g_assert_cmpint (sb->opening, ==, 15000);
  g_assert_cmpuint (sb->lines->len, ==, 2);
  l = g_ptr_array_index (sb->lines, 1);
  g_assert_cmpstr (l->kind, ==, "reversal");
  g_assert_nonnull (strstr (l->description, "Reversal of payment of 2026-01-26"));
  /* It shows the receipt of the payment it undoes, so the two pair up. */
  g_assert_true (g_str_has_prefix (((RecoupStatementLine *) g_ptr_array_index (sb->lines, 0))->reference, "R-"));
  g_assert_cmpstr (l->reference, ==, ((RecoupStatementLine *) g_ptr_array_index (sb->lines, 0))->reference);
  g_assert_cmpint (sb->closing, ==, 15000);

  /* A payment's method is named when it says something: "by cheque", and
   * nothing for "other". */
  g_assert_cmpstr (((RecoupStatementLine *) g_ptr_array_index (st->lines, 1))->description, ==, "Payment by cheque");
  g_free (record (f->tb.book, RECOUP_ENTRY_PAYMENT, f->a, 1000, "2026-02-05", "other"));
  g_clear_pointer (&sb, recoup_statement_free);
  sb = recoup_statement_build (f->tb.book, f->a, "2026-02-01", "2026-02-10", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sb->lines->len, ==, 1);
  g_assert_cmpstr (((RecoupStatementLine *) g_ptr_array_index (sb->lines, 0))->description, ==, "Payment");
}

static void
test_reports_by_hand (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) by_account = recoup_aging_report (f->tb.book, "2026-01-31", RECOUP_AGING_BY_ACCOUNT, &error);
  g_autoptr(GPtrArray) by_collector = NULL;
  g_autoptr(GPtrArray) payments = NULL;
  RecoupAgingReportRow *r;
  gint64 net = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (by_account->len, ==, 2);
  r = g_ptr_array_index (by_account, 0);
  g_assert_cmpstr (r->key, ==, "ACC-1");
  g_assert_cmpint (r->buckets[RECOUP_AGING_31_60], ==, 70000);
  g_assert_cmpint (r->total, ==, 122000);
  r = g_ptr_array_index (by_account, 1);
  g_assert_cmpstr (r->key, ==, "ACC-2");
  g_assert_cmpint (r->buckets[RECOUP_AGING_1_30], ==, 15000);

  by_collector = recoup_aging_report (f->tb.book, "2026-01-31", RECOUP_AGING_BY_COLLECTOR, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (by_collector->len, ==, 1);
  r = g_ptr_array_index (by_collector, 0);
  g_assert_cmpstr (r->key, ==, "(unassigned)");
  g_assert_cmpint (r->total, ==, 137000);
  g_assert_cmpint (r->n_accounts, ==, 2);

  payments = recoup_payments_report (f->tb.book, "2026-01-01", "2026-01-31", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (payments->len, ==, 4);  /* three payments and one reversal */
  for (guint i = 0; i < payments->len; i++)
    net += ((RecoupPaymentRow *) g_ptr_array_index (payments, i))->amount;
  g_assert_cmpint (net, ==, 35000);          /* = KPI collected */
}

static char *
read_file (const char *path,
           gsize      *out_len)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, out_len, &error);
  g_assert_no_error (error);
  return contents;
}

static guint
count_entries (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
write_statement (Fixture            *f,
                 const char         *account,
                 RecoupReportFormat  format,
                 const char         *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupStatement) st = recoup_statement_build (f->tb.book, account, "2026-01-01", "2026-01-31", &error);
  g_autoptr(RecoupBusinessInfo) business = recoup_business_info_load (f->tb.book);
  g_autoptr(RecoupStatementWriter) w = NULL;

  g_assert_no_error (error);
  w = recoup_statement_writer_new (path, format, RECOUP_PAPER_A4, business, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_statement_writer_add (w, st, &error));
  g_assert_true (recoup_statement_writer_finish (w, &error));
  g_assert_no_error (error);
}

static void
test_statement_files (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pdf = g_build_filename (f->out, "acc-1.pdf", NULL);
  g_autofree char *csv = g_build_filename (f->out, "acc-1.csv", NULL);
  g_autofree char *xlsx = g_build_filename (f->out, "acc-1.xlsx", NULL);
  g_autofree char *json = g_build_filename (f->out, "acc-1.json", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *pdftotext = g_find_program_in_path ("pdftotext");
  gsize len;

  g_assert_true (recoup_settings_set_shared (f->tb.book, "business.name", "Harbor Supply Co.", &error));
  g_assert_true (recoup_settings_set_shared (f->tb.book, "business.payment_instructions",
                                             "Bank transfer to account 0012 3456", &error));
  g_assert_no_error (error);

  write_statement (f, f->a, RECOUP_REPORT_PDF, pdf);
  contents = read_file (pdf, &len);
  g_assert_cmpuint (len, >, 1000);
  g_assert_true (g_str_has_prefix (contents, "%PDF-"));
  g_clear_pointer (&contents, g_free);
  if (pdftotext != NULL)
    {
      const char *argv[] = { pdftotext, "-layout", pdf, "-", NULL };
      g_autofree char *out = NULL;
      int status;

      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_nonnull (strstr (out, "Acme, \"Best\" Ltd"));
      g_assert_nonnull (strstr (out, "1,220.00"));           /* the closing balance */
      g_assert_nonnull (strstr (out, "Harbor Supply Co."));
      g_assert_nonnull (strstr (out, "Bank transfer to account 0012 3456"));
    }
  else
    g_test_message ("pdftotext not installed: PDF text not checked");

  write_statement (f, f->a, RECOUP_REPORT_CSV, csv);
  contents = read_file (csv, &len);
  g_assert_true (g_str_has_prefix (contents, "account_ref,account_name,currency,date,kind,description,"));
  /* RFC 4180: a field with a comma or quote is quoted, its quotes doubled; CRLF. */
  g_assert_nonnull (strstr (contents, "ACC-1,\"Acme, \"\"Best\"\" Ltd\",USD,2026-01-01,opening,"));
  g_assert_nonnull (strstr (contents, ",closing,Closing balance,,,,,1220.00\r\n"));
  g_clear_pointer (&contents, g_free);

  write_statement (f, f->a, RECOUP_REPORT_XLSX, xlsx);
  contents = read_file (xlsx, &len);
  g_assert_cmpuint (len, >, 100);
  g_assert_true (contents[0] == 'P' && contents[1] == 'K');
  g_clear_pointer (&contents, g_free);

  write_statement (f, f->a, RECOUP_REPORT_JSON, json);
  contents = read_file (json, &len);
  g_assert_nonnull (strstr (contents, "\"closing\" : 122000"));
  g_clear_pointer (&contents, g_free);

  /* Only the four files: no temporary file left behind. */
  g_assert_cmpuint (count_entries (f->out), ==, 4);
}

static void
test_report_files (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBusinessInfo) business = recoup_business_info_load (f->tb.book);
  g_autoptr(GPtrArray) aging = recoup_aging_report (f->tb.book, "2026-01-31", RECOUP_AGING_BY_ACCOUNT, &error);
  g_autoptr(GPtrArray) payments = recoup_payments_report (f->tb.book, "2026-01-01", "2026-01-31", &error);
  static const RecoupReportFormat formats[] = { RECOUP_REPORT_PDF, RECOUP_REPORT_CSV, RECOUP_REPORT_XLSX,
                                                RECOUP_REPORT_JSON };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      const char *ext = recoup_report_format_extension (formats[i]);
      g_autofree char *a = g_strdup_printf ("%s/aging.%s", f->out, ext);
      g_autofree char *p = g_strdup_printf ("%s/payments.%s", f->out, ext);
      g_autofree char *ca = NULL, *cp = NULL;

      g_assert_true (recoup_aging_report_write (aging, "2026-01-31", RECOUP_AGING_BY_ACCOUNT, business,
                                                formats[i], RECOUP_PAPER_LETTER, a, &error));
      g_assert_no_error (error);
      g_assert_true (recoup_payments_report_write (payments, "2026-01-01", "2026-01-31", business,
                                                   formats[i], RECOUP_PAPER_A4, p, &error));
      g_assert_no_error (error);
      ca = read_file (a, NULL);
      cp = read_file (p, NULL);
      if (formats[i] == RECOUP_REPORT_CSV)
        {
          g_assert_nonnull (strstr (ca, "ACC-1,\"Acme, \"\"Best\"\" Ltd\",USD,1,500.00,20.00,700.00,"));
          g_assert_nonnull (strstr (cp, "2026-01-28,ACC-2,Beta,,reversal,cheque,"));
          g_assert_nonnull (strstr (cp, ",USD,-10.00\r\n"));
        }
      else if (formats[i] == RECOUP_REPORT_PDF)
        g_assert_true (g_str_has_prefix (ca, "%PDF-") && g_str_has_prefix (cp, "%PDF-"));
      else if (formats[i] == RECOUP_REPORT_XLSX)
        g_assert_true (ca[0] == 'P' && ca[1] == 'K' && cp[0] == 'P' && cp[1] == 'K');
    }
  g_assert_cmpuint (count_entries (f->out), ==, 8);
}

static void
run_cli (const char * const *args,
         int                *out_status,
         char              **out_stderr)
{
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  int status = 0;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (char *) cli);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                NULL, out_stderr, &status, &error);
  g_assert_no_error (error);
  *out_status = WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pdf = g_build_filename (f->out, "s.pdf", NULL);
  g_autofree char *missing = g_build_filename (f->out, "no", "such", "folder", "s.pdf", NULL);
  g_autoptr(RecoupStatement) st = NULL;
  g_autoptr(RecoupStatementWriter) w = NULL;
  char *err = NULL;
  int status;

  /* Core: a period that ends before it starts; an unknown account. */
  st = recoup_statement_build (f->tb.book, f->a, "2026-02-01", "2026-01-31", &error);
  g_assert_null (st);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "before it starts"));
  g_clear_error (&error);
  st = recoup_statement_build (f->tb.book, "no-such-account", "2026-01-01", "2026-01-31", &error);
  g_assert_null (st);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (recoup_kpi_compute (f->tb.book, "2026-02-01", "2026-01-01", &error));
  g_clear_error (&error);
  /* QA's case: a period that ends after today judged promises not yet due
   * as broken and gave a negative CEI. */
  g_assert_null (recoup_kpi_compute (f->tb.book, "2026-02-01", "2026-02-28", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "after today (2026-02-15)"));
  g_clear_error (&error);

  /* Core says which date is wrong, so that the app and the CLI can name it. */
  g_assert_cmpint (recoup_period_check ("2026-01-01", "2026-01-01", &error), ==, RECOUP_PERIOD_VALID);
  g_assert_no_error (error);
  g_assert_cmpint (recoup_period_check ("2026-02-30", "2026-01-31", &error), ==, RECOUP_PERIOD_BAD_FROM);
  g_assert_nonnull (strstr (error->message, "2026-02-30"));
  g_clear_error (&error);
  g_assert_cmpint (recoup_period_check ("2026-01-01", "31.01.2026", &error), ==, RECOUP_PERIOD_BAD_TO);
  g_assert_nonnull (strstr (error->message, "31.01.2026"));
  g_clear_error (&error);
  g_assert_cmpint (recoup_period_check ("2026-01-01", NULL, &error), ==, RECOUP_PERIOD_BAD_TO);
  g_clear_error (&error);
  g_assert_cmpint (recoup_period_check ("2026-02-01", "2026-01-31", &error), ==, RECOUP_PERIOD_REVERSED);
  g_assert_null (strstr (error->message, "--"));
  g_clear_error (&error);

  /* A writer that is not finished leaves nothing, not even its temporary file. */
  w = recoup_statement_writer_new (pdf, RECOUP_REPORT_PDF, RECOUP_PAPER_A4, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_entries (f->out), ==, 1);
  g_clear_pointer (&w, recoup_statement_writer_free);
  g_assert_cmpuint (count_entries (f->out), ==, 0);

  /* An unwritable path. */
  w = recoup_statement_writer_new (missing, RECOUP_REPORT_PDF, RECOUP_PAPER_A4, NULL, &error);
  g_assert_null (w);
  g_assert_nonnull (strstr (error->message, "cannot write"));
  g_clear_error (&error);
  w = recoup_statement_writer_new (f->out, RECOUP_REPORT_CSV, RECOUP_PAPER_A4, NULL, &error);
  g_assert_null (w);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY);
  g_clear_error (&error);

  /* The same through the CLI: exit 1, a clear message, no file. */
  {
    const char *args[] = { "--book", f->tb.path, "statement", "ACC-1", "--from", "2026-02-01", "--to",
                           "2026-01-31", "--output", pdf, NULL };

    run_cli (args, &status, &err);
    g_assert_cmpint (status, ==, 1);
    g_assert_nonnull (strstr (err, "before it starts"));
    g_clear_pointer (&err, g_free);
  }
  {
    const char *args[] = { "--book", f->tb.path, "statement", "ACC-1", "--from", "2026-01-01", "--to",
                           "2026-01-32", "--output", pdf, NULL };

    run_cli (args, &status, &err);
    g_assert_cmpint (status, ==, 1);
    g_assert_nonnull (strstr (err, "--to: "));
    g_assert_nonnull (strstr (err, "2026-01-32"));
    g_clear_pointer (&err, g_free);
  }
  {
    const char *args[] = { "--book", f->tb.path, "statement", "NOPE-9", "--from", "2026-01-01", "--to",
                           "2026-01-31", "--output", pdf, NULL };

    run_cli (args, &status, &err);
    g_assert_cmpint (status, ==, 1);
    g_assert_nonnull (strstr (err, "NOPE-9"));
    g_clear_pointer (&err, g_free);
  }
  {
    const char *args[] = { "--book", f->tb.path, "report", "payments", "--from", "2026-01-01", "--to",
                           "2026-01-31", "--format", "csv", "--output", missing, NULL };

    run_cli (args, &status, &err);
    g_assert_cmpint (status, ==, 1);
    g_assert_nonnull (strstr (err, "cannot write"));
    g_clear_pointer (&err, g_free);
  }
  if (getuid () != 0)
    {
      g_autofree char *ro = g_build_filename (f->out, "read-only", NULL);
      g_autofree char *target = g_build_filename (ro, "s.xlsx", NULL);
      const char *args[] = { "--book", f->tb.path, "statement", "ACC-1", "--from", "2026-01-01", "--to",
                             "2026-01-31", "--format", "xlsx", "--output", target, NULL };

      g_assert_cmpint (g_mkdir (ro, 0500), ==, 0);
      run_cli (args, &status, &err);
      g_assert_cmpint (status, ==, 1);
      g_assert_cmpuint (count_entries (ro), ==, 0);
      g_clear_pointer (&err, g_free);
      g_chmod (ro, 0700);
      g_rmdir (ro);
    }
  g_assert_cmpuint (count_entries (f->out), ==, 0);

  /* And the CLI writes when the input is good. */
  {
    const char *args[] = { "--book", f->tb.path, "statement", "ACC-1", "--from", "2026-01-01", "--to",
                           "2026-01-31", "--output", pdf, NULL };

    run_cli (args, &status, &err);
    g_assert_cmpint (status, ==, 0);
    g_clear_pointer (&err, g_free);
    g_assert_true (g_file_test (pdf, G_FILE_TEST_IS_REGULAR));
  }
}

static void
test_cli_batch (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *dir = g_build_filename (f->out, "each", NULL);
  g_autofree char *one = g_build_filename (f->out, "all.csv", NULL);
  g_autofree char *kpi = g_build_filename (f->out, "kpi.csv", NULL);
  g_autofree char *contents = NULL;
  char *err = NULL;
  int status;

  {
    const char *args[] = { "--book", f->tb.path, "statement", "--all", "--from", "2026-01-01", "--to",
                           "2026-01-31", "--format", "pdf", "--output", dir, NULL };

    run_cli (args, &status, &err);
    g_assert_cmpint (status, ==, 0);
    g_assert_nonnull (strstr (err, "Statements: 2/2"));   /* progress */
    g_clear_pointer (&err, g_free);
    g_assert_cmpuint (count_entries (dir), ==, 2);
  }
  {
    const char *args[] = { "--book", f->tb.path, "statement", "--all", "--one-file", "--from", "2026-01-01",
                           "--to", "2026-01-31", "--format", "csv", "--output", one, NULL };

    run_cli (args, &status, &err);
    g_assert_cmpint (status, ==, 0);
    g_clear_pointer (&err, g_free);
    contents = read_file (one, NULL);
    g_assert_nonnull (strstr (contents, ",closing,Closing balance,,,,,1220.00\r\n"));
    g_assert_nonnull (strstr (contents, "ACC-2,Beta,USD,2026-01-31,closing,Closing balance,,,,,150.00\r\n"));
    g_clear_pointer (&contents, g_free);
  }
  {
    const char *args[] = { "--book", f->tb.path, "kpi", "--from", "2026-01-01", "--to", "2026-01-31",
                           "--format", "csv", "--output", kpi, NULL };

    run_cli (args, &status, &err);
    g_assert_cmpint (status, ==, 0);
    g_clear_pointer (&err, g_free);
    contents = read_file (kpi, NULL);
    g_assert_nonnull (strstr (contents, "USD,dso,58.99,days\r\n"));
    g_assert_nonnull (strstr (contents, "USD,countback_dso,51.15,days\r\n"));
    g_assert_nonnull (strstr (contents, "USD,cei,28.69,percent\r\n"));
  }
}

/* A statement run for February covers the accounts that owe at its end and
 * those paid off during it, not those settled before it began. */
static void
test_statement_run_accounts (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  TestBook tb = { 0 };
  g_autofree char *owes = NULL, *paid_in = NULL, *paid_before = NULL;

  g_setenv ("RECOUP_TODAY", "2026-03-15", TRUE);
  test_book_open (&tb);
  owes = test_add_account (tb.book, "R-1", "USD");
  paid_in = test_add_account (tb.book, "R-2", "USD");
  paid_before = test_add_account (tb.book, "R-3", "USD");
  g_free (test_add_invoice (tb.book, owes, "INV-R1", "2026-01-01", "2026-01-31", 10000, "USD"));
  g_free (test_add_invoice (tb.book, paid_in, "INV-R2", "2026-01-01", "2026-01-31", 10000, "USD"));
  g_free (test_add_invoice (tb.book, paid_before, "INV-R3", "2026-01-01", "2026-01-31", 10000, "USD"));
  g_free (record (tb.book, RECOUP_ENTRY_PAYMENT, paid_in, 10000, "2026-02-10", "cheque"));
  g_free (record (tb.book, RECOUP_ENTRY_PAYMENT, paid_before, 10000, "2026-01-20", "cheque"));

  ids = recoup_statement_accounts_for_period (tb.book, "2026-02-01", "2026-02-28", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (ids, 0), ==, owes);
  g_assert_cmpstr (g_ptr_array_index (ids, 1), ==, paid_in);
  g_clear_pointer (&ids, g_ptr_array_unref);

  /* Without a start: the balances at the end alone. */
  ids = recoup_statement_accounts_for_period (tb.book, NULL, "2026-02-28", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (ids, 0), ==, owes);
  test_book_close (&tb);
}

static void
test_plan_on_statement (void)
{
  g_autoptr(GError) error = NULL;
  TestBook tb = { 0 };
  g_autofree char *acc = NULL, *inv = NULL, *offer = NULL;
  g_autoptr(RecoupStatement) st = NULL;
  RecoupOfferSpec spec = { 0 };
  RecoupStatementInstallment *si;

  g_setenv ("RECOUP_TODAY", "2026-02-15", TRUE);
  test_book_open (&tb);
  acc = test_add_account (tb.book, "P-1", "USD");
  inv = test_add_invoice (tb.book, acc, "INV-P1", "2026-01-01", "2026-01-31", 30000, "USD");
  spec.account_id = acc;
  spec.kind = RECOUP_OFFER_PLAN;
  spec.amount = 30000;
  spec.installments = 3;
  spec.frequency = RECOUP_FREQUENCY_MONTHLY;
  spec.first_date = "2026-03-01";
  offer = recoup_offer_create (tb.book, &spec, &error);
  g_assert_no_error (error);
  if (!recoup_offer_transition (tb.book, offer, RECOUP_OFFER_EVENT_SEND, NULL, &error) ||
      !recoup_offer_transition (tb.book, offer, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error))
    {
      g_test_skip (error->message);
      test_book_close (&tb);
      return;
    }
  g_free (record (tb.book, RECOUP_ENTRY_PAYMENT, acc, 10000, "2026-02-15", "card"));

  st = recoup_statement_build (tb.book, acc, "2026-02-01", "2026-02-28", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (st->plan_id, ==, offer);
  g_assert_cmpint (st->plan_total, ==, 30000);
  g_assert_cmpint (st->plan_paid, ==, 10000);
  /* The first installment is covered by the payment: two remain. */
  g_assert_cmpuint (st->plan_remaining->len, ==, 2);
  si = g_ptr_array_index (st->plan_remaining, 0);
  g_assert_cmpuint (si->seq, ==, 2);
  g_assert_cmpstr (si->due_date, ==, "2026-04-01");
  g_assert_cmpint (si->amount, ==, 10000);
  g_clear_pointer (&st, recoup_statement_free);
  test_book_close (&tb);
}

/* A random demo book: every account's statement closes on the ledger balance,
 * and the aging report's rows sum to the book's aging summary. */
static void
test_random_book (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(GPtrArray) summary = NULL;
  TestBook tb = { 0 };
  RecoupDemoOptions options = { .n_accounts = 150, .seed = (guint32) g_test_rand_int (), .today = "2026-11-24" };
  const RecoupAgingGroup groups[] = { RECOUP_AGING_BY_ACCOUNT, RECOUP_AGING_BY_COLLECTOR, RECOUP_AGING_BY_SEGMENT };
  sqlite3 *db;
  sqlite3_stmt *s;

  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  test_book_open (&tb);
  g_assert_true (recoup_demo_generate (tb.book, &options, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  /* Every account, not only those with a balance. */
  g_assert_cmpint (sqlite3_open_v2 (tb.path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id FROM accounts", -1, &s, NULL), ==, SQLITE_OK);
  ids = g_ptr_array_new_with_free_func (g_free);
  while (sqlite3_step (s) == SQLITE_ROW)
    g_ptr_array_add (ids, g_strdup ((const char *) sqlite3_column_text (s, 0)));
  sqlite3_finalize (s);
  sqlite3_close (db);
  g_assert_cmpuint (ids->len, ==, 150);

  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      const char *periods[][2] = { { "2026-01-01", "2026-11-24" }, { "2026-06-01", "2026-06-30" },
                                   { "2000-01-01", "2030-12-31" } };

      for (guint p = 0; p < G_N_ELEMENTS (periods); p++)
        {
          g_autoptr(RecoupStatement) st = recoup_statement_build (tb.book, id, periods[p][0], periods[p][1], &error);
          gint64 balance = 0;

          g_assert_no_error (error);
          g_assert_true (recoup_ledger_balance (tb.book, id, periods[p][1], &balance, &error));
          g_assert_cmpint (st->closing, ==, balance);
          g_assert_cmpint (st->aging.total, ==, balance);
          g_assert_cmpint (st->opening + st->debits + st->credits, ==, st->closing);
          if (st->lines->len > 0)
            g_assert_cmpint (((RecoupStatementLine *) g_ptr_array_index (st->lines, st->lines->len - 1))->balance,
                             ==, balance);
        }
    }

  summary = recoup_aging_summary (tb.book, "2026-11-24", &error);
  g_assert_no_error (error);
  for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
    {
      g_autoptr(GPtrArray) rows = recoup_aging_report (tb.book, "2026-11-24", groups[g], &error);

      g_assert_no_error (error);
      for (guint i = 0; i < summary->len; i++)
        {
          RecoupAgingRow *sr = g_ptr_array_index (summary, i);
          gint64 buckets[RECOUP_AGING_N_BUCKETS] = { 0 }, credit = 0, total = 0, n = 0;

          for (guint j = 0; j < rows->len; j++)
            {
              RecoupAgingReportRow *r = g_ptr_array_index (rows, j);

              if (g_strcmp0 (r->currency, sr->currency) != 0)
                continue;
              for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
                buckets[b] += r->buckets[b];
              credit += r->credit;
              total += r->total;
              n += r->n_accounts;
            }
          for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
            g_assert_cmpint (buckets[b], ==, sr->buckets[b]);
          g_assert_cmpint (credit, ==, sr->credit);
          g_assert_cmpint (total, ==, sr->total);
          g_assert_cmpint (n, ==, sr->n_accounts);
        }
    }
  test_book_close (&tb);
}

/* Cells a spreadsheet would run as formulas are made plain text; numbers,
 * negative ones included, stay numbers. */
static void
test_csv_formula_injection (void)
{
  const char *row[] = { "=HYPERLINK(\"http://x.example\",\"pay\")", "@SUM(A1)", "+cmd", "-12.50",
                        "-.5", "Acme, \"Best\" Ltd", "plain" };
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&buf, &len);

  recoup_csv_row (fp, row, G_N_ELEMENTS (row));
  fclose (fp);
  g_assert_cmpstr (buf, ==, "\"'=HYPERLINK(\"\"http://x.example\"\",\"\"pay\"\")\",'@SUM(A1),'+cmd,-12.50,-.5,"
                            "\"Acme, \"\"Best\"\" Ltd\",plain\r\n");
  free (buf);
}

/* ---- Reading what was written ---------------------------------------------- */

/* One member of a zip file (an XLSX is one), stored or deflated; NULL when it
 * is not there. Reads the central directory at the end of the file. */
static char *
zip_member (const char *path,
            const char *member)
{
  g_autofree guint8 *zip = NULL;
  gsize len = 0, eocd, entry;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, (char **) &zip, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, >=, 22);
  for (eocd = len - 22; eocd > 0 && memcmp (zip + eocd, "PK\005\006", 4) != 0; eocd--)
    ;
  g_assert_cmpint (memcmp (zip + eocd, "PK\005\006", 4), ==, 0);
#define U16(o) ((guint) zip[(o)] | ((guint) zip[(o) + 1] << 8))
#define U32(o) ((guint32) U16 (o) | ((guint32) U16 ((o) + 2) << 16))
  entry = U32 (eocd + 16);
  for (guint i = 0; i < U16 (eocd + 10); i++)
    {
      guint method = U16 (entry + 10), name_len = U16 (entry + 28);
      gsize packed = U32 (entry + 20), size = U32 (entry + 24), local = U32 (entry + 42), data;

      g_assert_cmpint (memcmp (zip + entry, "PK\001\002", 4), ==, 0);
      if (name_len != strlen (member) || memcmp (zip + entry + 46, member, name_len) != 0)
        {
          entry += 46 + name_len + U16 (entry + 30) + U16 (entry + 32);
          continue;
        }
      data = local + 30 + U16 (local + 26) + U16 (local + 28);
      g_assert_cmpuint (data + packed, <=, len);
      if (method == 0)
        return g_strndup ((const char *) zip + data, size);
      g_assert_cmpuint (method, ==, 8);
      {
        g_autoptr(GZlibDecompressor) raw = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
        char *out = g_malloc (size + 1);
        gsize read = 0, written = 0;
        GConverterResult r;

        r = g_converter_convert (G_CONVERTER (raw), zip + data, packed, out, size + 1,
                                 G_CONVERTER_INPUT_AT_END, &read, &written, &error);
        g_assert_no_error (error);
        g_assert_cmpint (r, ==, G_CONVERTER_FINISHED);
        g_assert_cmpuint (written, ==, size);
        out[size] = '\0';
        return out;
      }
    }
#undef U32
#undef U16
  return NULL;
}

static char *
xml_unescape (const char *s)
{
  GString *out = g_string_new (NULL);
  static const char * const entities[][2] = {
    { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" }, { "&apos;", "'" },
  };

  while (*s != '\0')
    {
      gboolean done = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (entities) && !done; i++)
        if (g_str_has_prefix (s, entities[i][0]))
          {
            g_string_append (out, entities[i][1]);
            s += strlen (entities[i][0]);
            done = TRUE;
          }
      if (!done)
        g_string_append_c (out, *s++);
    }
  return g_string_free (out, FALSE);
}

typedef struct
{
  char *type;     /* the t attribute: NULL for a number, "s", "inlineStr", "str" … */
  char *value;    /* <v>, or the text (a shared string looked up) */
  char *format;   /* the number format of its style, NULL for General */
} XlsxCell;

static void
xlsx_cell_free (XlsxCell *cell)
{
  g_free (cell->type);
  g_free (cell->value);
  g_free (cell->format);
  g_free (cell);
}

static char *
xml_attr (const char *tag,
          const char *name)
{
  g_autofree char *pattern = g_strdup_printf ("\\s%s=\"([^\"]*)\"", name);
  g_autoptr(GRegex) re = g_regex_new (pattern, 0, 0, NULL);
  g_autoptr(GMatchInfo) m = NULL;

  return g_regex_match (re, tag, 0, &m) ? g_match_info_fetch (m, 1) : NULL;
}

/* The first sheet of an XLSX file: "B7" -> XlsxCell. */
static GHashTable *
xlsx_read (const char *path)
{
  g_autofree char *sheet = zip_member (path, "xl/worksheets/sheet1.xml");
  g_autofree char *styles = zip_member (path, "xl/styles.xml");
  g_autofree char *shared = zip_member (path, "xl/sharedStrings.xml");
  g_autoptr(GHashTable) codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) xf_formats = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GRegex) numfmt = g_regex_new ("<numFmt [^>]*>", 0, 0, NULL);
  g_autoptr(GRegex) xfs = g_regex_new ("<cellXfs[^>]*>(.*?)</cellXfs>", G_REGEX_DOTALL, 0, NULL);
  g_autoptr(GRegex) xf = g_regex_new ("<xf [^>]*>", 0, 0, NULL);
  g_autoptr(GRegex) si = g_regex_new ("<si>(.*?)</si>", G_REGEX_DOTALL, 0, NULL);
  g_autoptr(GRegex) t = g_regex_new ("<t[^>]*>(.*?)</t>", G_REGEX_DOTALL, 0, NULL);
  g_autoptr(GRegex) c = g_regex_new ("<c ([^>]*?)(/>|>(.*?)</c>)", G_REGEX_DOTALL, 0, NULL);
  g_autoptr(GRegex) v = g_regex_new ("<v>(.*?)</v>", G_REGEX_DOTALL, 0, NULL);
  GHashTable *cells = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) xlsx_cell_free);
  GMatchInfo *m = NULL;

  g_assert_nonnull (sheet);
  g_assert_nonnull (styles);
  for (g_regex_match (numfmt, styles, 0, &m); g_match_info_matches (m); g_match_info_next (m, NULL))
    {
      g_autofree char *tag = g_match_info_fetch (m, 0);

      g_hash_table_insert (codes, xml_attr (tag, "numFmtId"), xml_attr (tag, "formatCode"));
    }
  g_clear_pointer (&m, g_match_info_free);
  if (g_regex_match (xfs, styles, 0, &m))
    {
      g_autofree char *list = g_match_info_fetch (m, 1);
      GMatchInfo *mx = NULL;

      for (g_regex_match (xf, list, 0, &mx); g_match_info_matches (mx); g_match_info_next (mx, NULL))
        {
          g_autofree char *tag = g_match_info_fetch (mx, 0);
          g_autofree char *id = xml_attr (tag, "numFmtId");

          g_ptr_array_add (xf_formats, g_strdup (g_hash_table_lookup (codes, id ? id : "0")));
        }
      g_match_info_free (mx);
    }
  g_clear_pointer (&m, g_match_info_free);
  for (g_regex_match (si, shared ? shared : "", 0, &m); g_match_info_matches (m); g_match_info_next (m, NULL))
    {
      g_autofree char *body = g_match_info_fetch (m, 1);
      g_autoptr(GMatchInfo) mt = NULL;
      g_autofree char *text = g_regex_match (t, body, 0, &mt) ? g_match_info_fetch (mt, 1) : g_strdup ("");

      g_ptr_array_add (strings, xml_unescape (text));
    }
  g_clear_pointer (&m, g_match_info_free);

  for (g_regex_match (c, sheet, 0, &m); g_match_info_matches (m); g_match_info_next (m, NULL))
    {
      g_autofree char *attrs = g_match_info_fetch (m, 1);
      g_autofree char *body = g_match_info_fetch (m, 3);
      g_autofree char *ref = NULL, *style = NULL;
      g_autoptr(GMatchInfo) mv = NULL;
      XlsxCell *cell = g_new0 (XlsxCell, 1);
      char *with_space = g_strconcat (" ", attrs, NULL);

      ref = xml_attr (with_space, "r");
      style = xml_attr (with_space, "s");
      cell->type = xml_attr (with_space, "t");
      g_free (with_space);
      if (style != NULL && (guint) atoi (style) < xf_formats->len)
        cell->format = g_strdup (g_ptr_array_index (xf_formats, atoi (style)));
      if (body != NULL && g_strcmp0 (cell->type, "inlineStr") == 0 && g_regex_match (t, body, 0, &mv))
        {
          g_autofree char *text = g_match_info_fetch (mv, 1);

          cell->value = xml_unescape (text);
        }
      else if (body != NULL && g_regex_match (v, body, 0, &mv))
        {
          g_autofree char *text = g_match_info_fetch (mv, 1);

          if (g_strcmp0 (cell->type, "s") == 0)
            cell->value = g_strdup (g_ptr_array_index (strings, atoi (text)));
          else
            cell->value = xml_unescape (text);
        }
      g_assert_nonnull (ref);
      g_hash_table_insert (cells, g_steal_pointer (&ref), cell);
    }
  g_match_info_free (m);
  return cells;
}

static XlsxCell *
xlsx_cell (GHashTable *cells,
           char        column,
           guint       row)
{
  g_autofree char *ref = g_strdup_printf ("%c%u", column, row);

  return g_hash_table_lookup (cells, ref);
}

static const char *
xlsx_text_at (GHashTable *cells,
              char        column,
              guint       row)
{
  XlsxCell *cell = xlsx_cell (cells, column, row);

  g_assert_nonnull (cell);
  g_assert_nonnull (cell->type);   /* a string, not a number */
  return cell->value;
}

/* A money cell: a number (no t attribute), exactly the double nearest the
 * amount, shown with the currency's decimals. */
static void
assert_xlsx_money (GHashTable *cells,
                   char        column,
                   guint       row,
                   gint64      minor,
                   const char *currency)
{
  static const double powers[] = { 1, 10, 100, 1000 };
  static const char * const formats[] = { "#,##0", "#,##0.0", "#,##0.00", "#,##0.000" };
  int digits = recoup_currency_digits (currency);
  XlsxCell *cell = xlsx_cell (cells, column, row);
  g_autofree char *plain = recoup_money_format (minor, currency, RECOUP_MONEY_FORMAT_PLAIN);
  char printed[G_ASCII_DTOSTR_BUF_SIZE];
  double value;

  if (cell == NULL || cell->type != NULL)
    g_error ("%c%u: %s %s is %s, not a number", column, row, currency, plain,
             cell == NULL ? "missing" : cell->type);
  g_assert_nonnull (cell->value);
  value = g_ascii_strtod (cell->value, NULL);
  /* The same double as the decimal amount typed into a spreadsheet. */
  g_assert_true (value == g_ascii_strtod (plain, NULL));
  g_assert_true (value == (double) minor / powers[digits]);
  g_ascii_formatd (printed, sizeof printed, "%.15g", value);
  {
    gint64 back = 0;

    g_assert_true (recoup_money_parse (printed, currency, &back, NULL));
    g_assert_cmpint (back, ==, minor);
  }
  g_assert_cmpstr (cell->format, ==, formats[digits]);
}

static RecoupAgingReportRow *
aging_row (const char   *key,
           const char   *label,
           const char   *currency,
           const gint64  buckets[RECOUP_AGING_N_BUCKETS],
           gint64        credit)
{
  RecoupAgingReportRow *r = g_new0 (RecoupAgingReportRow, 1);

  r->key = g_strdup (key);
  r->label = g_strdup (label);
  r->currency = g_strdup (currency);
  memcpy (r->buckets, buckets, sizeof r->buckets);
  r->credit = credit;
  r->total = credit;
  for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
    r->total += buckets[b];
  r->n_accounts = 1;
  return r;
}

static RecoupPaymentRow *
payment_row (const char *date,
             const char *kind,
             const char *method,
             const char *currency,
             gint64      amount)
{
  RecoupPaymentRow *r = g_new0 (RecoupPaymentRow, 1);

  r->entry_id = g_strdup_printf ("e-%s-%" G_GINT64_FORMAT, date, amount);
  r->date = g_strdup (date);
  r->kind = g_strdup (kind);
  r->account_ref = g_strdup ("ACC-9");
  r->account_name = g_strdup ("Nine");
  r->currency = g_strdup (currency);
  r->method = g_strdup (method);
  r->amount = amount;
  return r;
}

/* Every amount in an XLSX aging or payments export is a number cell that a
 * spreadsheet sums, with the currency's decimals: the amounts below are the
 * ones a 16-digit print does not give back exactly (819.32 prints as
 * 819.3200000000001), which used to be written as text. */
static void
test_xlsx_money_cells (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) aging = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_aging_report_row_free);
  g_autoptr(GPtrArray) payments = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_payment_row_free);
  g_autofree char *a = g_build_filename (f->out, "aging.xlsx", NULL);
  g_autofree char *p = g_build_filename (f->out, "payments.xlsx", NULL);
  g_autoptr(GHashTable) cells = NULL;
  static const gint64 bhd[] = { 1234567, 1, 0, 0, 0, 0 };
  static const gint64 jpy[] = { 123456, 0, 7, 0, 0, 9 };
  static const gint64 usd1[] = { 81932, 9949, 0, 3, 1999, 0 };
  static const gint64 usd2[] = { 0, 0, 0, 0, 0, G_GINT64_CONSTANT (999999999000000) };
  static const gint64 usd3[] = { 0, 0, 0, 0, 0, 0 };
  guint checked = 0;

  g_ptr_array_add (aging, aging_row ("ACC-B", "Bahrain", "BHD", bhd, -1001));
  g_ptr_array_add (aging, aging_row ("ACC-J", "Japan", "JPY", jpy, 0));
  g_ptr_array_add (aging, aging_row ("ACC-U1", "One", "USD", usd1, 0));
  g_ptr_array_add (aging, aging_row ("ACC-U2", "Two", "USD", usd2, 0));
  g_ptr_array_add (aging, aging_row ("ACC-U3", "Three", "USD", usd3, -9949));
  g_assert_true (recoup_aging_report_write (aging, "2026-01-31", RECOUP_AGING_BY_ACCOUNT, NULL,
                                            RECOUP_REPORT_XLSX, RECOUP_PAPER_A4, a, &error));
  g_assert_no_error (error);
  cells = xlsx_read (a);
  /* Title, subtitle, a blank row, the header, then a row per account and a
   * total per currency (BHD, JPY, USD). */
  g_assert_cmpstr (xlsx_text_at (cells, 'K', 4), ==, "Credits");
  for (guint i = 0; i < aging->len + 3; i++)
    {
      guint row = 5 + i;
      RecoupAgingReportRow *r = i < aging->len ? g_ptr_array_index (aging, i) : NULL;
      const char *currency = r ? r->currency : i == aging->len ? "BHD" : i == aging->len + 1 ? "JPY" : "USD";
      gint64 money[8] = { 0 };

      if (r != NULL)
        {
          memcpy (money, r->buckets, sizeof r->buckets);
          money[6] = r->credit;
          money[7] = r->total;
        }
      else
        for (guint j = 0; j < aging->len; j++)
          {
            RecoupAgingReportRow *q = g_ptr_array_index (aging, j);

            if (strcmp (q->currency, currency) != 0)
              continue;
            for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
              money[b] += q->buckets[b];
            money[6] += q->credit;
            money[7] += q->total;
          }
      g_assert_cmpstr (xlsx_text_at (cells, 'C', row), ==, currency);
      g_assert_null (xlsx_cell (cells, 'D', row)->type);   /* the count of accounts: a number */
      for (guint k = 0; k < 8; k++, checked++)
        assert_xlsx_money (cells, (char) ('E' + k), row, money[k], currency);
    }
  g_assert_cmpuint (checked, ==, 8 * 8);
  g_clear_pointer (&cells, g_hash_table_unref);

  /* A sum beyond RECOUP_MONEY_LIMIT has more digits than a double holds: it
   * is written as its exact decimal text rather than rounded. */
  {
    g_autoptr(GPtrArray) big = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_aging_report_row_free);
    static const gint64 most[] = { 0, 0, 0, 0, 0, G_GINT64_CONSTANT (900000000000001) };

    g_ptr_array_add (big, aging_row ("ACC-1", "One", "USD", most, 0));
    g_ptr_array_add (big, aging_row ("ACC-2", "Two", "USD", most, 0));
    g_assert_true (recoup_aging_report_write (big, "2026-01-31", RECOUP_AGING_BY_ACCOUNT, NULL,
                                              RECOUP_REPORT_XLSX, RECOUP_PAPER_A4, a, &error));
    g_assert_no_error (error);
    cells = xlsx_read (a);
    assert_xlsx_money (cells, 'J', 5, G_GINT64_CONSTANT (900000000000001), "USD");
    g_assert_cmpstr (xlsx_text_at (cells, 'J', 7), ==, "18000000000000.02");
    g_clear_pointer (&cells, g_hash_table_unref);
  }

  g_ptr_array_add (payments, payment_row ("2026-01-05", "payment", "bank-transfer", "USD", 81932));
  g_ptr_array_add (payments, payment_row ("2026-01-06", "reversal", "card", "USD", -9949));
  g_ptr_array_add (payments, payment_row ("2026-01-07", "payment", "cash", "JPY", 5000));
  g_ptr_array_add (payments, payment_row ("2026-01-08", "payment", "cheque", "BHD", 1234567));
  g_assert_true (recoup_payments_report_write (payments, "2026-01-01", "2026-01-31", NULL,
                                               RECOUP_REPORT_XLSX, RECOUP_PAPER_A4, p, &error));
  g_assert_no_error (error);
  cells = xlsx_read (p);
  g_assert_cmpstr (xlsx_text_at (cells, 'K', 4), ==, "Amount");
  for (guint i = 0; i < payments->len; i++)
    {
      RecoupPaymentRow *r = g_ptr_array_index (payments, i);

      assert_xlsx_money (cells, 'K', 5 + i, r->amount, r->currency);
    }
  /* Totals by currency: BHD, JPY, USD. */
  assert_xlsx_money (cells, 'K', 9, 1234567, "BHD");
  assert_xlsx_money (cells, 'K', 10, 5000, "JPY");
  assert_xlsx_money (cells, 'K', 11, 81932 - 9949, "USD");
  /* People's names in XLSX, stable names in CSV. */
  g_assert_cmpstr (xlsx_text_at (cells, 'E', 6), ==, "Reversal");
  g_assert_cmpstr (xlsx_text_at (cells, 'F', 5), ==, "Bank transfer");
}

typedef struct
{
  guint  page;
  double x0, y0, x1, y1;
  char  *text;
} PdfWord;

static void
pdf_word_free (PdfWord *w)
{
  g_free (w->text);
  g_free (w);
}

/* The words of a PDF and where they are (pdftotext -bbox); NULL without
 * pdftotext. */
static GPtrArray *
pdf_words (const char *pdf)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pdftotext = g_find_program_in_path ("pdftotext");
  g_autofree char *out = NULL;
  g_auto(GStrv) pages = NULL;
  g_autoptr(GRegex) word = g_regex_new ("<word xMin=\"([0-9.]+)\" yMin=\"([0-9.]+)\" xMax=\"([0-9.]+)\" "
                                        "yMax=\"([0-9.]+)\">(.*?)</word>", 0, 0, NULL);
  GPtrArray *words;
  int status;

  if (pdftotext == NULL)
    return NULL;
  {
    const char *argv[] = { pdftotext, "-bbox", pdf, "-", NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  words = g_ptr_array_new_with_free_func ((GDestroyNotify) pdf_word_free);
  pages = g_strsplit (out, "<page ", -1);
  for (guint p = 1; pages[p] != NULL; p++)
    {
      GMatchInfo *m = NULL;

      for (g_regex_match (word, pages[p], 0, &m); g_match_info_matches (m); g_match_info_next (m, NULL))
        {
          PdfWord *w = g_new0 (PdfWord, 1);
          g_autofree char *text = g_match_info_fetch (m, 5);
          double v[4];

          for (guint i = 0; i < 4; i++)
            {
              g_autofree char *n = g_match_info_fetch (m, i + 1);

              v[i] = g_ascii_strtod (n, NULL);
            }
          w->page = p;
          w->x0 = v[0];
          w->y0 = v[1];
          w->x1 = v[2];
          w->y1 = v[3];
          w->text = xml_unescape (text);
          g_ptr_array_add (words, w);
        }
      g_match_info_free (m);
    }
  return words;
}

/* No two words of a line print over each other. */
static void
assert_no_overprint (GPtrArray  *words,
                     const char *what)
{
  for (guint i = 0; i < words->len; i++)
    for (guint j = i + 1; j < words->len; j++)
      {
        PdfWord *a = g_ptr_array_index (words, i), *b = g_ptr_array_index (words, j);

        if (a->page != b->page || MIN (a->y1, b->y1) - MAX (a->y0, b->y0) < 1)
          continue;
        if (MIN (a->x1, b->x1) - MAX (a->x0, b->x0) > 0.5)
          g_error ("%s, page %u: “%s” (x %.1f–%.1f) prints over “%s” (x %.1f–%.1f)", what, a->page,
                   a->text, a->x0, a->x1, b->text, b->x0, b->x1);
      }
}

static guint
count_words (GPtrArray  *words,
             const char *text)
{
  guint n = 0;

  for (guint i = 0; i < words->len; i++)
    if (g_str_equal (((PdfWord *) g_ptr_array_index (words, i))->text, text))
      n++;
  return n;
}

/* The bold total rows of a long aging report: the widest amounts in their
 * columns, each readable on its own, on A4 and Letter. */
static void
test_pdf_totals_fit (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_aging_report_row_free);
  static const char * const currencies[] = { "EUR", "GBP", "JPY", "USD" };
  static const RecoupPaper papers[] = { RECOUP_PAPER_A4, RECOUP_PAPER_LETTER };
  static const RecoupAgingGroup groups[] = { RECOUP_AGING_BY_ACCOUNT, RECOUP_AGING_BY_COLLECTOR };

  for (guint c = 0; c < G_N_ELEMENTS (currencies); c++)
    for (guint i = 0; i < 3; i++)
      {
        /* 3,333,333,333.33 and the like, three to a currency. */
        gint64 buckets[RECOUP_AGING_N_BUCKETS];
        g_autofree char *key = g_strdup_printf ("ACC-%07u", c * 10 + i);

        for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
          buckets[b] = G_GINT64_CONSTANT (333333333333) + b * G_GINT64_CONSTANT (11111111111) + i;
        g_ptr_array_add (rows, aging_row (key, "Steuerberatungsgesellschaft Herrmann & Partner mbB",
                                          currencies[c], buckets, -G_GINT64_CONSTANT (123456789012) - i));
      }

  for (guint p = 0; p < G_N_ELEMENTS (papers); p++)
    for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
      {
        g_autofree char *pdf = g_strdup_printf ("%s/aging-%u-%u.pdf", f->out, p, g);
        g_autoptr(GPtrArray) words = NULL;

        g_assert_true (recoup_aging_report_write (rows, "2026-01-31", groups[g], NULL, RECOUP_REPORT_PDF,
                                                  papers[p], pdf, &error));
        g_assert_no_error (error);
        if ((words = pdf_words (pdf)) == NULL)
          {
            g_test_skip ("pdftotext not installed");
            return;
          }
        assert_no_overprint (words, pdf);
        g_assert_cmpuint (count_words (words, "CREDITS"), >=, 1);
        g_assert_cmpuint (count_words (words, "181+"), >=, 1);
        /* Every total, whole. */
        for (guint c = 0; c < G_N_ELEMENTS (currencies); c++)
          {
            gint64 sums[RECOUP_AGING_N_BUCKETS + 2] = { 0 };

            for (guint i = 0; i < rows->len; i++)
              {
                RecoupAgingReportRow *r = g_ptr_array_index (rows, i);

                if (strcmp (r->currency, currencies[c]) != 0)
                  continue;
                for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
                  sums[b] += r->buckets[b];
                sums[RECOUP_AGING_N_BUCKETS] += r->credit;
                sums[RECOUP_AGING_N_BUCKETS + 1] += r->total;
              }
            for (guint k = 0; k < G_N_ELEMENTS (sums); k++)
              {
                g_autofree char *text = recoup_money_format (sums[k], currencies[c], RECOUP_MONEY_FORMAT_GROUPING);

                if (count_words (words, text) < 1)
                  g_error ("%s: the %s total %s is not printed whole", pdf, currencies[c], text);
              }
          }
      }
}

/* A statement of the largest amount Recoup records, and one of a credit:
 * every amount whole, none over another; the aging shows the credit so that
 * its cells add up to the balance. */
static void
test_pdf_statement_fit (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *big = test_add_account (f->tb.book, "ACC-BIG", "USD");
  g_autofree char *cr = test_add_account (f->tb.book, "ACC-CR", "USD");
  g_autofree char *inv = test_add_invoice (f->tb.book, big, "INV-BIG", "2025-06-01", "2025-06-30",
                                           G_GINT64_CONSTANT (999999999999999), "USD");
  g_autofree char *inv2 = test_add_invoice (f->tb.book, cr, "INV-CR", "2026-01-02", "2026-01-30", 10000, "USD");
  g_autofree char *pay = record (f->tb.book, RECOUP_ENTRY_PAYMENT, cr, 25000, "2026-01-10", "card");
  g_autofree char *pdf = g_build_filename (f->out, "big.pdf", NULL);
  g_autofree char *credit_pdf = g_build_filename (f->out, "credit.pdf", NULL);
  g_autoptr(GPtrArray) words = NULL;

  write_statement (f, big, RECOUP_REPORT_PDF, pdf);
  write_statement (f, cr, RECOUP_REPORT_PDF, credit_pdf);
  g_assert_no_error (error);
  if ((words = pdf_words (pdf)) == NULL)
    {
      g_test_skip ("pdftotext not installed");
      return;
    }
  assert_no_overprint (words, pdf);
  /* The invoice is older than the period: opening and closing balance
   * (summary); amount due; 181+ and total (aging); opening and closing
   * balance (activity). */
  g_assert_cmpuint (count_words (words, "9,999,999,999,999.99"), ==, 7);
  g_assert_cmpuint (count_words (words, "181+"), ==, 1);
  g_assert_cmpuint (count_words (words, "OVER"), ==, 0);
  g_assert_cmpuint (count_words (words, "1-30"), ==, 1);
  g_clear_pointer (&words, g_ptr_array_unref);

  words = pdf_words (credit_pdf);
  assert_no_overprint (words, credit_pdf);
  g_assert_cmpuint (count_words (words, "CREDITS"), ==, 3);      /* summary, aging, activity */
  g_assert_cmpuint (count_words (words, "-150.00"), >=, 3);       /* aging credits, total; balance */
  g_assert_cmpuint (count_words (words, "150.00."), ==, 2);       /* “an unapplied credit of” and “in credit by USD 150.00.” */
  /* Nothing is due, so nothing asks to be paid. */
  g_assert_cmpuint (count_words (words, "pay"), ==, 1);           /* “Nothing to pay” */
  g_assert_cmpuint (count_words (words, "due:"), ==, 1);
  g_assert_cmpuint (count_words (words, "quote"), ==, 0);
}

/* Receipt numbers (R-73D395-000002) print whole on one line, on A4 and
 * Letter, next to long descriptions that wrap by word; the payer's own
 * reference (a card's, a transfer's) is in the description. */
static void
test_pdf_statement_references (Fixture       *f,
                               gconstpointer  data)
{
  static const RecoupPaper papers[] = { RECOUP_PAPER_A4, RECOUP_PAPER_LETTER };
  static const char * const refs[] = { "card ending 6684", "transfer 13CC4DB1", "cheque 000123" };
  g_autoptr(GError) error = NULL;
  g_autofree char *acc = test_add_account (f->tb.book, "ACC-REF", "USD");
  g_autofree char *pdftotext = g_find_program_in_path ("pdftotext");
  g_autoptr(RecoupStatement) st = NULL;
  g_autoptr(RecoupBusinessInfo) business = recoup_business_info_load (f->tb.book);
  g_autoptr(GPtrArray) receipts = g_ptr_array_new ();
  RecoupInvoiceSpec inv = { .account_id = acc, .ref = "INV-2026-000417", .issue_date = "2026-01-02",
                            .due_date = "2026-01-30", .amount = 123456789, .currency = "USD",
                            .description = "Quarterly maintenance of the refrigeration plant, "
                                           "parts and labour, call-out on a public holiday" };
  g_autofree char *inv_id = recoup_invoice_add (f->tb.book, &inv, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *date = g_strdup_printf ("2026-01-%02u", 5 + i);
      RecoupEntrySpec cash = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = acc, .amount = 1234567 + i,
                               .effective_date = date, .method = "cash",
                               .memo = "paid at the counter by the owner's daughter on her way to work" };
      g_autofree char *id = recoup_ledger_record (f->tb.book, &cash, &error);

      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (refs); i++)
    {
      static const char * const methods[] = { "card", "bank-transfer", "cheque" };
      g_autofree char *date = g_strdup_printf ("2026-01-%02u", 10 + i);
      RecoupEntrySpec pay = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = acc, .amount = 7654321,
                              .effective_date = date, .method = methods[i], .reference = refs[i] };
      g_autofree char *id = recoup_ledger_record (f->tb.book, &pay, &error);

      g_assert_no_error (error);
    }

  st = recoup_statement_build (f->tb.book, acc, "2026-01-01", "2026-01-31", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < st->lines->len; i++)
    {
      RecoupStatementLine *l = g_ptr_array_index (st->lines, i);

      if (l->reference != NULL && g_str_has_prefix (l->reference, "R-"))
        g_ptr_array_add (receipts, l->reference);
    }
  /* Every payment shows its receipt; the payer's reference is in its description. */
  g_assert_cmpuint (receipts->len, ==, 6);
  g_assert_cmpuint (strlen (g_ptr_array_index (receipts, 0)), ==, strlen ("R-73D395-000002"));
  for (guint i = 0; i < G_N_ELEMENTS (refs); i++)
    {
      RecoupStatementLine *l = g_ptr_array_index (st->lines, 1 + 3 + i);
      g_autofree char *expected = g_strdup_printf (", reference %s", refs[i]);

      g_assert_true (g_str_has_prefix (l->reference, "R-"));
      g_assert_true (g_str_has_suffix (l->description, expected));
    }

  if (pdftotext == NULL)
    {
      g_test_skip ("pdftotext not installed");
      return;
    }
  for (guint p = 0; p < G_N_ELEMENTS (papers); p++)
    {
      g_autofree char *pdf = g_strdup_printf ("%s/refs-%u.pdf", f->out, p);
      g_autoptr(RecoupStatementWriter) w = recoup_statement_writer_new (pdf, RECOUP_REPORT_PDF, papers[p],
                                                                        business, &error);
      const char *argv[] = { pdftotext, "-layout", pdf, "-", NULL };
      g_autofree char *out = NULL;
      g_autoptr(GPtrArray) words = NULL;
      int status;

      g_assert_no_error (error);
      g_assert_true (recoup_statement_writer_add (w, st, &error));
      g_assert_true (recoup_statement_writer_finish (w, &error));
      g_assert_no_error (error);

      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status,
                    &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      for (guint i = 0; i < receipts->len; i++)
        if (strstr (out, g_ptr_array_index (receipts, i)) == NULL)
          g_error ("%s: the receipt number %s is not on one line:\n%s", pdf,
                   (char *) g_ptr_array_index (receipts, i), out);
      /* The payer's references wrap with their descriptions, by word. */
      for (guint i = 0; i < G_N_ELEMENTS (refs); i++)
        if (strstr (out, strrchr (refs[i], ' ') + 1) == NULL)
          g_error ("%s: the reference “%s” is missing:\n%s", pdf, refs[i], out);

      words = pdf_words (pdf);
      assert_no_overprint (words, pdf);
      for (guint i = 0; i < receipts->len; i++)
        g_assert_cmpuint (count_words (words, g_ptr_array_index (receipts, i)), ==, 1);
    }
}

/* Files for people (PDF, XLSX) carry titles and the statement's names;
 * CSV keeps its stable names for scripts. */
static void
test_statement_titles (Fixture       *f,
                       gconstpointer  data)
{
  static const char * const titles[] = {
    "Account", "Name", "Currency", "Date", "Type", "Description", "Invoice", "Reference",
    "Charges", "Credits", "Balance",
  };
  g_autofree char *xlsx = g_build_filename (f->out, "st.xlsx", NULL);
  g_autofree char *csv = g_build_filename (f->out, "st.csv", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GHashTable) cells = NULL;

  write_statement (f, f->a, RECOUP_REPORT_XLSX, xlsx);
  cells = xlsx_read (xlsx);
  for (guint c = 0; c < G_N_ELEMENTS (titles); c++)
    g_assert_cmpstr (xlsx_text_at (cells, (char) ('A' + c), 1), ==, titles[c]);
  /* Opening balance, the charge of INV-A2, the payment, the fee, closing. */
  g_assert_cmpstr (xlsx_text_at (cells, 'E', 2), ==, "Balance");
  g_assert_cmpstr (xlsx_text_at (cells, 'F', 2), ==, "Opening balance");
  g_assert_cmpstr (xlsx_text_at (cells, 'E', 3), ==, "Charge");
  g_assert_cmpstr (xlsx_text_at (cells, 'E', 4), ==, "Payment");
  g_assert_cmpstr (xlsx_text_at (cells, 'E', 5), ==, "Fee");
  g_assert_cmpstr (xlsx_text_at (cells, 'E', 6), ==, "Balance");
  g_assert_cmpstr (xlsx_text_at (cells, 'F', 6), ==, "Closing balance");
  assert_xlsx_money (cells, 'K', 2, 100000, "USD");
  assert_xlsx_money (cells, 'I', 3, 50000, "USD");
  assert_xlsx_money (cells, 'J', 4, 30000, "USD");
  assert_xlsx_money (cells, 'K', 6, 122000, "USD");

  write_statement (f, f->a, RECOUP_REPORT_CSV, csv);
  contents = read_file (csv, NULL);
  g_assert_true (g_str_has_prefix (contents, "account_ref,account_name,currency,date,kind,description,"
                                             "invoice,reference,debit,credit,balance\r\n"));
  g_assert_nonnull (strstr (contents, ",2026-01-15,payment,"));
}

/* A statement goes to the debtor: the write-off of an upheld dispute says
 * that the dispute was upheld and why, in every format, and never shows the
 * dispute's id that the book keeps in the entry's memo. */
static void
test_statement_dispute_upheld (Fixture       *f,
                               gconstpointer  data)
{
  static const RecoupReportFormat formats[] = { RECOUP_REPORT_CSV, RECOUP_REPORT_JSON, RECOUP_REPORT_PDF };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupStatement) st = NULL;
  g_autoptr(RecoupBusinessInfo) business = recoup_business_info_load (f->tb.book);
  g_autofree char *inv = recoup_invoice_resolve (f->tb.book, "INV-B1", &error);
  g_autofree char *dispute = NULL, *entry = NULL;
  g_autofree char *pdftotext = g_find_program_in_path ("pdftotext");
  RecoupDisputeResolution res = { .upheld = TRUE, .remedy = RECOUP_DISPUTE_REMEDY_WRITE_OFF,
                                  .note = "goods returned unopened" };
  RecoupStatementLine *l;

  g_assert_no_error (error);
  dispute = recoup_dispute_open (f->tb.book, f->b, inv, "never ordered", &error);
  g_assert_no_error (error);
  g_assert_true (recoup_dispute_resolve_full (f->tb.book, dispute, &res, &entry, &error));
  g_assert_no_error (error);

  st = recoup_statement_build (f->tb.book, f->b, "2026-02-01", "2026-02-15", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (st->lines->len, ==, 1);
  l = g_ptr_array_index (st->lines, 0);
  g_assert_cmpstr (l->id, ==, entry);
  g_assert_cmpstr (l->description, ==, "Write-off (invoice INV-B1) — dispute upheld: goods returned unopened");
  g_assert_cmpint (st->closing, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *name = g_strdup_printf ("dispute-%u", i);
      g_autofree char *path = g_build_filename (f->out, name, NULL);
      g_autoptr(RecoupStatementWriter) w = recoup_statement_writer_new (path, formats[i], RECOUP_PAPER_A4,
                                                                        business, &error);
      g_autofree char *text = NULL;

      g_assert_no_error (error);
      g_assert_true (recoup_statement_writer_add (w, st, &error));
      g_assert_true (recoup_statement_writer_finish (w, &error));
      g_assert_no_error (error);
      if (formats[i] != RECOUP_REPORT_PDF)
        text = read_file (path, NULL);
      else if (pdftotext != NULL)
        {
          const char *argv[] = { pdftotext, path, "-", NULL };
          int status;

          g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &text, NULL, &status, &error);
          g_assert_no_error (error);
        }
      else
        {
          g_test_message ("pdftotext not installed: PDF text not checked");
          continue;
        }
      /* A PDF may wrap the id, not its last group. */
      g_assert_null (strstr (text, dispute));
      g_assert_null (strstr (text, strrchr (dispute, '-')));
      g_assert_nonnull (strstr (text, "unopened"));
      if (formats[i] != RECOUP_REPORT_PDF)
        g_assert_nonnull (strstr (text, "— dispute upheld: goods returned unopened"));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add ("/recoup/core/reports/" path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("kpis-by-hand", test_kpis_by_hand);
  ADD ("statement-by-hand", test_statement_by_hand);
  ADD ("reports-by-hand", test_reports_by_hand);
  ADD ("statement-files", test_statement_files);
  ADD ("report-files", test_report_files);
  ADD ("bad-input", test_bad_input);
  ADD ("cli-batch", test_cli_batch);
  ADD ("xlsx-money-cells", test_xlsx_money_cells);
  ADD ("pdf-totals-fit", test_pdf_totals_fit);
  ADD ("pdf-statement-fit", test_pdf_statement_fit);
  ADD ("pdf-statement-references", test_pdf_statement_references);
  ADD ("statement-titles", test_statement_titles);
  ADD ("statement-dispute-upheld", test_statement_dispute_upheld);
#undef ADD
  g_test_add_func ("/recoup/core/reports/ratio-rounding", test_ratio_rounding);
  g_test_add_func ("/recoup/core/reports/csv-formula-injection", test_csv_formula_injection);
  g_test_add_func ("/recoup/core/reports/plan-on-statement", test_plan_on_statement);
  g_test_add_func ("/recoup/core/reports/statement-run-accounts", test_statement_run_accounts);
  g_test_add_func ("/recoup/core/reports/random-book", test_random_book);
  return g_test_run ();
}
