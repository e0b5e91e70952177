/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include "recoup-activity.h"
#include "recoup-book-private.h"
#include "recoup-ledger-private.h"
#include "recoup-schema-private.h"
#include "recoup-test-util.h"

static gint64
balance_of (RecoupBook *book,
            const char *account,
            const char *as_of)
{
  g_autoptr(GError) error = NULL;
  gint64 b = 0;

  g_assert_true (recoup_ledger_balance (book, account, as_of, &b, &error));
  g_assert_no_error (error);
  return b;
}

static gint64
open_on (GPtrArray  *invoices,
         const char *ref)
{
  for (guint i = 0; i < invoices->len; i++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (invoices, i);
      if (g_strcmp0 (ib->ref, ref) == 0)
        return ib->balance;
    }
  g_assert_not_reached ();
}

/* Payments pay the oldest invoice first unless aimed; overpayment is a credit;
 * a reversal reopens what the payment had paid. */
static void
test_allocation (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *i1 = NULL, *i2 = NULL, *p1 = NULL, *p2 = NULL, *rev = NULL;
  g_autoptr(GPtrArray) inv = NULL;
  RecoupEntrySpec pay = { .kind = RECOUP_ENTRY_PAYMENT, .method = "cheque", .effective_date = "2026-03-01" };

  test_book_open (&tb);
  acct = test_add_account (tb.book, "A-1", "USD");
  i1 = test_add_invoice (tb.book, acct, "INV-1", "2026-01-01", "2026-01-31", 100000, "USD");
  i2 = test_add_invoice (tb.book, acct, "INV-2", "2026-02-01", "2026-02-28", 50000, "USD");
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 150000);

  pay.account_id = acct;
  pay.amount = 120000;
  p1 = recoup_ledger_record (tb.book, &pay, &error);
  g_assert_no_error (error);
  inv = recoup_ledger_invoice_balances (tb.book, acct, "2026-03-01", &error);
  g_assert_cmpint (open_on (inv, "INV-1"), ==, 0);
  g_assert_cmpint (open_on (inv, "INV-2"), ==, 30000);
  g_clear_pointer (&inv, g_ptr_array_unref);

  /* Aimed at INV-2: it pays INV-2 first, the rest becomes a credit. */
  pay.invoice_id = i2;
  pay.amount = 40000;
  p2 = recoup_ledger_record (tb.book, &pay, &error);
  g_assert_no_error (error);
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, -10000);
  inv = recoup_ledger_invoice_balances (tb.book, acct, NULL, &error);
  g_assert_cmpint (open_on (inv, "INV-1"), ==, 0);
  g_assert_cmpint (open_on (inv, "INV-2"), ==, 0);
  g_clear_pointer (&inv, g_ptr_array_unref);

  /* The first cheque bounces. */
  rev = recoup_ledger_reverse (tb.book, p1, "2026-03-10", "cheque bounced", &error);
  g_assert_no_error (error);
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 110000);
  inv = recoup_ledger_invoice_balances (tb.book, acct, NULL, &error);
  /* The aimed payment still pays INV-2 (40.00 of its 50.00); the bounced one
   * no longer pays anything, so INV-1 is open in full. */
  g_assert_cmpint (open_on (inv, "INV-1"), ==, 100000);
  g_assert_cmpint (open_on (inv, "INV-2"), ==, 10000);
  g_clear_pointer (&inv, g_ptr_array_unref);

  /* Balances as of a date before the reversal still show it paid. */
  g_assert_cmpint (balance_of (tb.book, acct, "2026-03-09"), ==, -10000);

  /* A reversal cannot be reversed, nor can an entry be reversed twice. */
  g_assert_null (recoup_ledger_reverse (tb.book, rev, NULL, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (recoup_ledger_reverse (tb.book, p1, NULL, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_clear_error (&error);
  test_book_close (&tb);
}

static void
test_bad_entries (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *other = NULL, *inv = NULL;
  RecoupEntrySpec e = { .kind = RECOUP_ENTRY_PAYMENT };
  RecoupInvoiceSpec is = { .ref = "X-1", .issue_date = "2026-02-01", .due_date = "2026-01-01",
                           .amount = 100, .currency = "USD" };
  gint64 changes;

  test_book_open (&tb);
  acct = test_add_account (tb.book, "B-1", "USD");
  other = test_add_account (tb.book, "B-2", "USD");
  inv = test_add_invoice (tb.book, other, "OTHER-1", "2026-01-01", "2026-01-31", 500, "USD");
  changes = recoup_book_count_changes (tb.book);

  e.account_id = acct;
  e.amount = -500;
  g_assert_null (recoup_ledger_record (tb.book, &e, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);

  e.amount = 500;
  e.effective_date = "2026-02-30";
  g_assert_null (recoup_ledger_record (tb.book, &e, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);

  e.effective_date = NULL;
  e.invoice_id = inv;
  g_assert_null (recoup_ledger_record (tb.book, &e, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  e.invoice_id = NULL;
  e.method = "bitcoin";
  g_assert_null (recoup_ledger_record (tb.book, &e, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);

  /* A reference is one line of at most 64 characters (not bytes), a memo at
   * most 1000. */
  {
    g_autofree char *ref64 = g_strnfill (RECOUP_LEDGER_REFERENCE_MAX, 'x');
    g_autofree char *ref65 = g_strnfill (RECOUP_LEDGER_REFERENCE_MAX + 1, 'x');
    g_autoptr(GString) accents = g_string_new (NULL);
    g_autofree char *memo = g_strnfill (RECOUP_LEDGER_MEMO_MAX + 1, 'm');

    for (guint i = 0; i < RECOUP_LEDGER_REFERENCE_MAX; i++)
      g_string_append (accents, "é");
    g_assert_true (recoup_ledger_check_texts (ref64, NULL, &error));
    g_assert_true (recoup_ledger_check_texts (accents->str, NULL, &error));
    g_assert_no_error (error);
    g_assert_false (recoup_ledger_check_texts ("cheque\n703931", NULL, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_clear_error (&error);
    e.method = "cheque";
    e.reference = ref65;
    g_assert_null (recoup_ledger_record (tb.book, &e, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "64 characters"));
    g_clear_error (&error);
    e.reference = NULL;
    e.memo = memo;
    g_assert_null (recoup_ledger_record (tb.book, &e, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_clear_error (&error);
    e.memo = NULL;
  }

  is.account_id = acct;
  g_assert_null (recoup_invoice_add (tb.book, &is, &error));           /* due before issue */
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  is.due_date = "2026-03-01";
  is.currency = "EUR";
  g_assert_null (recoup_invoice_add (tb.book, &is, &error));           /* wrong currency */
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  is.currency = "USD";
  is.amount = -100;
  g_assert_null (recoup_invoice_add (tb.book, &is, &error));           /* negative */
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  is.amount = 100;
  is.ref = "OTHER-1";
  g_assert_null (recoup_invoice_add (tb.book, &is, &error));           /* taken ref */
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_clear_error (&error);

  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 0);
  test_book_close (&tb);
}

/* Aging buckets at their edges: 0, 1, 30, 31, 60, 61, 90, 91, 180, 181 days. */
static void
test_aging_buckets (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  RecoupAgingRow row;
  struct { int days; RecoupAgingBucket bucket; } edges[] = {
    { 0, RECOUP_AGING_CURRENT }, { 1, RECOUP_AGING_1_30 }, { 30, RECOUP_AGING_1_30 },
    { 31, RECOUP_AGING_31_60 }, { 60, RECOUP_AGING_31_60 }, { 61, RECOUP_AGING_61_90 },
    { 90, RECOUP_AGING_61_90 }, { 91, RECOUP_AGING_91_180 }, { 180, RECOUP_AGING_91_180 },
    { 181, RECOUP_AGING_181_PLUS },
  };
  gint64 expect[RECOUP_AGING_N_BUCKETS] = { 0 };
  gint32 as_of = recoup_date_parse ("2026-06-30", NULL);

  test_book_open (&tb);
  acct = test_add_account (tb.book, "AG-1", "USD");
  for (guint i = 0; i < G_N_ELEMENTS (edges); i++)
    {
      g_autofree char *due = recoup_date_format (as_of - edges[i].days);
      g_autofree char *ref = g_strdup_printf ("AG-INV-%u", i);
      g_autofree char *id = test_add_invoice (tb.book, acct, ref, "2025-01-01", due, 1000 + i, "USD");

      g_assert_cmpint (recoup_aging_bucket_for_days (edges[i].days), ==, edges[i].bucket);
      expect[edges[i].bucket] += 1000 + i;
    }
  g_assert_true (recoup_ledger_account_aging (tb.book, acct, "2026-06-30", &row, &error));
  for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
    g_assert_cmpint (row.buckets[k], ==, expect[k]);
  g_free (row.currency);

  rows = recoup_aging_summary (tb.book, "2026-06-30", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 1);
  for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
    g_assert_cmpint (((RecoupAgingRow *) rows->pdata[0])->buckets[k], ==, expect[k]);

  /* Before an invoice is issued it is not owed. */
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = recoup_aging_summary (tb.book, "2024-12-31", &error);
  g_assert_cmpuint (rows->len, ==, 0);
  g_clear_pointer (&rows, g_ptr_array_unref);
  g_assert_null (recoup_aging_summary (tb.book, "2026-13-01", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  test_book_close (&tb);
}

/* The allocation of @account as of @as_of replayed from its entries without
 * every reversed entry and its reversal (as if neither had been recorded),
 * added in a random order: what the book's own allocation must come to. */
static void
replay_without_reversed (RecoupBook      *book,
                         const char      *account,
                         const char      *as_of,
                         RecoupAllocator *alloc)
{
  typedef struct { char id[40]; char invoice[40]; gint32 due, eff; gint64 amount; } Row;
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (Row));
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book),
    "SELECT l.id, coalesce(l.invoice_id, ''), coalesce(i.due_date, l.effective_date), l.effective_date, l.amount"
    " FROM ledger_entries l LEFT JOIN invoices i ON i.id = l.invoice_id"
    " WHERE l.account_id = ?1 AND l.effective_date <= ?2 AND l.reverses_id IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = l.id AND r.effective_date <= ?2)",
    -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, account, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, as_of, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      Row r;

      g_strlcpy (r.id, (const char *) sqlite3_column_text (stmt, 0), sizeof r.id);
      g_strlcpy (r.invoice, (const char *) sqlite3_column_text (stmt, 1), sizeof r.invoice);
      r.due = recoup_date_parse ((const char *) sqlite3_column_text (stmt, 2), NULL);
      r.eff = recoup_date_parse ((const char *) sqlite3_column_text (stmt, 3), NULL);
      r.amount = sqlite3_column_int64 (stmt, 4);
      g_array_append_val (rows, r);
    }
  sqlite3_finalize (stmt);

  recoup_allocator_reset (alloc);
  while (rows->len > 0)
    {
      guint k = (guint) g_test_rand_int_range (0, (gint32) rows->len);
      Row *r = &g_array_index (rows, Row, k);

      recoup_allocator_add_entry (alloc, r->invoice[0] ? r->invoice : NULL, r->id, NULL, r->due, r->eff,
                                  r->amount);
      g_array_remove_index_fast (rows, k);
    }
  recoup_allocator_finish (alloc);
}

static gint64
replay_open_on (RecoupAllocator *alloc,
                const char      *invoice_id)
{
  for (guint i = 0; i < alloc->items->len; i++)
    {
      RecoupAllocItem *it = &g_array_index (alloc->items, RecoupAllocItem, i);

      if (strcmp (it->id, invoice_id) == 0)
        return it->net;
    }
  return 0;
}

/* One account as of a day: its invoices' open amounts, account-level items
 * and credit sum to its balance, and equal the replay without the reversed
 * pairs, in the ledger's view, the account's aging and the aging report. */
static void
check_account_against_replay (TestBook        *tb,
                              const char      *acct,
                              const char      *ref,
                              const char      *as_of,
                              GHashTable      *report_rows,
                              RecoupAllocator *replay)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inv = recoup_ledger_invoice_balances (tb->book, acct, as_of, &error);
  gint64 buckets[RECOUP_AGING_N_BUCKETS] = { 0 };
  RecoupAllocator alloc;
  RecoupAgingRow row;
  RecoupAgingReportRow *report;
  gint64 credit = 0, balance = balance_of (tb->book, acct, as_of), sum;

  g_assert_no_error (error);
  replay_without_reversed (tb->book, acct, as_of, replay);
  g_assert_cmpint (recoup_allocator_age (replay, recoup_date_parse (as_of, NULL), buckets, &credit), ==, balance);

  recoup_allocator_init (&alloc);
  g_assert_true (recoup_ledger_allocate (tb->book, acct, recoup_date_parse (as_of, NULL), &alloc, &error));
  g_assert_no_error (error);
  g_assert_cmpint (alloc.pool, <=, 0);
  sum = alloc.pool;
  for (guint k = 0; k < alloc.items->len; k++)
    {
      RecoupAllocItem *it = &g_array_index (alloc.items, RecoupAllocItem, k);

      g_assert_cmpint (it->net, >=, 0);
      g_assert_cmpint (it->net, ==, replay_open_on (replay, it->id));
      sum += it->net;
    }
  g_assert_cmpint (sum, ==, balance);
  g_assert_cmpint (alloc.pool, ==, replay->pool);
  recoup_allocator_clear (&alloc);

  for (guint k = 0; k < inv->len; k++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (inv, k);

      g_assert_cmpint (ib->balance, >=, 0);
      g_assert_cmpint (ib->balance, ==, replay_open_on (replay, ib->id));
    }

  g_assert_true (recoup_ledger_account_aging (tb->book, acct, as_of, &row, &error));
  g_assert_no_error (error);
  g_assert_cmpint (row.total, ==, balance);
  g_assert_cmpint (row.credit, ==, credit);
  for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
    g_assert_cmpint (row.buckets[k], ==, buckets[k]);
  g_free (row.currency);

  if ((report = g_hash_table_lookup (report_rows, ref)) != NULL)
    {
      g_assert_cmpint (report->credit, ==, credit);
      for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
        g_assert_cmpint (report->buckets[k], ==, buckets[k]);
    }
  else
    g_assert_cmpint (balance, ==, 0);
}

/*
 * The ledger invariant: after any random sequence of operations (invoices,
 * payments, fees, interest, adjustments, waivers, write-offs and discounts,
 * on an invoice or on the account, and reversals of any of them), every
 * account's balance is the sum of its entries; its invoices' open amounts,
 * its account-level items and its credit add up to it; and every view of the
 * allocation (invoice balances, the account's aging, the aging report and
 * summary) equals a replay in which each reversed entry and its reversal
 * were never recorded, as of the end and as of a day between.
 */
static void
test_invariant_random (void)
{
  const char *currencies[] = { "USD", "JPY", "BHD" };
  const char *as_ofs[] = { "2027-12-31", "2026-04-15" };
  gint32 start = recoup_date_parse ("2026-01-01", NULL);

  for (int round = 0; round < 8; round++)
    {
      TestBook tb = { 0 };
      g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) invoices = g_ptr_array_new_with_free_func (g_free);  /* "account\tinvoice" */
      g_autoptr(GHashTable) entry_days = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr(GPtrArray) entries = g_ptr_array_new ();   /* the keys of entry_days */
      g_autoptr(GError) error = NULL;
      RecoupAllocator replay;
      guint n_reversals = 0;

      test_book_open (&tb);
      for (int i = 0; i < 6; i++)
        {
          char *ref = g_strdup_printf ("R%d-%d", round, i);

          g_ptr_array_add (accounts, test_add_account (tb.book, ref, currencies[i % 3]));
          g_ptr_array_add (refs, ref);
        }

      for (int op = 0; op < 150; op++)
        {
          guint a = (guint) g_test_rand_int_range (0, (gint32) accounts->len);
          const char *acct = accounts->pdata[a];
          const char *cur = currencies[a % 3];
          gint32 day = start + g_test_rand_int_range (0, 150);
          g_autofree char *date = recoup_date_format (day);
          int kind = g_test_rand_int_range (0, 6);
          char *id = NULL;

          if (kind == 0)
            {
              g_autofree char *ref = g_strdup_printf ("I%d-%d", round, invoices->len);
              g_autofree char *due = recoup_date_format (day + g_test_rand_int_range (0, 60));
              g_autofree char *inv = test_add_invoice (tb.book, acct, ref, date, due,
                                                       g_test_rand_int_range (1, 1000000), cur);

              g_ptr_array_add (invoices, g_strconcat (acct, "\t", inv, NULL));
              continue;
            }
          else if (kind <= 3)
            {
              RecoupEntrySpec e = { .account_id = acct, .effective_date = date,
                                    .amount = g_test_rand_int_range (1, 500000) };
              RecoupEntryKind kinds[] = { RECOUP_ENTRY_PAYMENT, RECOUP_ENTRY_FEE, RECOUP_ENTRY_INTEREST,
                                          RECOUP_ENTRY_ADJUSTMENT, RECOUP_ENTRY_WAIVER, RECOUP_ENTRY_WRITE_OFF,
                                          RECOUP_ENTRY_DISCOUNT };
              gint64 before = recoup_book_count_changes (tb.book);

              e.kind = kinds[g_test_rand_int_range (0, G_N_ELEMENTS (kinds))];
              if (e.kind == RECOUP_ENTRY_ADJUSTMENT && g_test_rand_bit ())
                e.amount = -e.amount;
              /* One entry in three is on one of the account's invoices. */
              if (invoices->len > 0 && g_test_rand_int_range (0, 3) == 0)
                {
                  const char *pick = invoices->pdata[g_test_rand_int_range (0, (gint32) invoices->len)];

                  if (g_str_has_prefix (pick, acct) && pick[strlen (acct)] == '\t')
                    e.invoice_id = pick + strlen (acct) + 1;
                }
              id = recoup_ledger_record (tb.book, &e, &error);
              /* Forgiving more than is owed is refused, and changes nothing. */
              if (id == NULL && (e.kind == RECOUP_ENTRY_WAIVER || e.kind == RECOUP_ENTRY_WRITE_OFF ||
                                 e.kind == RECOUP_ENTRY_DISCOUNT))
                {
                  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
                  g_assert_nonnull (strstr (error->message, "still owed"));
                  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, before);
                  g_clear_error (&error);
                  continue;
                }
              g_assert_no_error (error);
            }
          else if (entries->len > 0)
            {
              const char *target = entries->pdata[g_test_rand_int_range (0, (gint32) entries->len)];
              gint32 target_day = GPOINTER_TO_INT (g_hash_table_lookup (entry_days, target));
              g_autofree char *when = recoup_date_format (target_day + g_test_rand_int_range (0, 120));
              /* Reversals may be refused (twice, or of a reversal); a refusal
               * must change nothing. */
              gint64 before = recoup_book_count_changes (tb.book);

              day = recoup_date_parse (when, NULL);
              id = recoup_ledger_reverse (tb.book, target, when, NULL, &error);
              if (id == NULL)
                {
                  g_assert_nonnull (error);
                  g_clear_error (&error);
                  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, before);
                }
              else
                n_reversals++;
            }
          if (id != NULL)
            {
              g_hash_table_insert (entry_days, id, GINT_TO_POINTER (day));
              g_ptr_array_add (entries, id);
            }
        }
      g_assert_cmpuint (n_reversals, >, 0);

      recoup_allocator_init (&replay);
      for (guint d = 0; d < G_N_ELEMENTS (as_ofs); d++)
        {
          g_autoptr(GPtrArray) summary = recoup_aging_summary (tb.book, as_ofs[d], &error);
          g_autoptr(GPtrArray) report = recoup_aging_report (tb.book, as_ofs[d], RECOUP_AGING_BY_ACCOUNT, &error);
          g_autoptr(GHashTable) report_rows = g_hash_table_new (g_str_hash, g_str_equal);
          gint64 book_total = 0, summary_total = 0;

          g_assert_no_error (error);
          for (guint i = 0; i < report->len; i++)
            {
              RecoupAgingReportRow *r = g_ptr_array_index (report, i);

              g_hash_table_insert (report_rows, r->key, r);
            }
          for (guint i = 0; i < accounts->len; i++)
            {
              const char *acct = accounts->pdata[i];
              g_autofree char *sql = g_strdup_printf ("SELECT coalesce (sum (amount), 0) FROM ledger_entries"
                                                      " WHERE account_id = '%s' AND effective_date <= '%s'",
                                                      acct, as_ofs[d]);
              gint64 sum = test_query_int (tb.path, sql);

              g_assert_cmpint (balance_of (tb.book, acct, as_ofs[d]), ==, sum);
              check_account_against_replay (&tb, acct, refs->pdata[i], as_ofs[d], report_rows, &replay);
              book_total += sum;
            }
          for (guint i = 0; i < summary->len; i++)
            summary_total += ((RecoupAgingRow *) summary->pdata[i])->total;
          g_assert_cmpint (summary_total, ==, book_total);
        }
      recoup_allocator_clear (&replay);
      g_assert_true (recoup_book_check_integrity (tb.book, &error));
      test_book_close (&tb);
    }
}

/* The account's aging as of @as_of, seen by the ledger, the book's aging
 * summary and the aging report alike, is @expect (and no credit). */
static void
assert_aging (TestBook      *tb,
              const char    *acct,
              const char    *as_of,
              const gint64   expect[RECOUP_AGING_N_BUCKETS])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) summary = recoup_aging_summary (tb->book, as_of, &error);
  g_autoptr(GPtrArray) report = recoup_aging_report (tb->book, as_of, RECOUP_AGING_BY_ACCOUNT, &error);
  RecoupAgingRow row;
  RecoupAgingRow *s;
  RecoupAgingReportRow *r;

  g_assert_no_error (error);
  g_assert_true (recoup_ledger_account_aging (tb->book, acct, as_of, &row, &error));
  g_assert_no_error (error);
  g_free (row.currency);
  g_assert_cmpuint (summary->len, ==, 1);
  g_assert_cmpuint (report->len, ==, 1);
  s = g_ptr_array_index (summary, 0);
  r = g_ptr_array_index (report, 0);
  for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
    {
      g_assert_cmpint (row.buckets[k], ==, expect[k]);
      g_assert_cmpint (s->buckets[k], ==, expect[k]);
      g_assert_cmpint (r->buckets[k], ==, expect[k]);
    }
  g_assert_cmpint (row.credit, ==, 0);
  g_assert_cmpint (s->credit, ==, 0);
  g_assert_cmpint (r->credit, ==, 0);
}

/* Fee, interest and adjustments of either sign recorded on the account (no
 * invoice) and then reversed leave nothing behind: the invoice is open as
 * before, and the aging holds only the invoice, in every view. */
static void
test_reverse_account_level (void)
{
  struct { RecoupEntryKind kind; gint64 amount; } cases[] = {
    { RECOUP_ENTRY_FEE, 2500 },
    { RECOUP_ENTRY_INTEREST, 2500 },
    { RECOUP_ENTRY_ADJUSTMENT, 2500 },
    { RECOUP_ENTRY_ADJUSTMENT, -2500 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      TestBook tb = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) inv = NULL;
      g_autofree char *acct = NULL, *i1 = NULL, *entry = NULL, *rev = NULL;
      RecoupEntrySpec spec = { .kind = cases[c].kind, .amount = cases[c].amount,
                               .effective_date = "2026-11-01" };
      const gint64 invoice_only[RECOUP_AGING_N_BUCKETS] = { [RECOUP_AGING_181_PLUS] = 10000 };

      test_book_open (&tb);
      acct = test_add_account (tb.book, "F-1", "USD");
      i1 = test_add_invoice (tb.book, acct, "F-INV-1", "2026-01-01", "2026-01-31", 10000, "USD");
      spec.account_id = acct;
      entry = recoup_ledger_record (tb.book, &spec, &error);
      g_assert_no_error (error);
      rev = recoup_ledger_reverse (tb.book, entry, "2026-11-02", NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 10000);

      inv = recoup_ledger_invoice_balances (tb.book, acct, "2026-11-24", &error);
      g_assert_no_error (error);
      g_assert_cmpint (open_on (inv, "F-INV-1"), ==, 10000);

      assert_aging (&tb, acct, "2026-11-24", invoice_only);
      /* So do the worklist's derived figures: only the invoice is open, so
       * the amount-weighted age is the invoice's own. */
      {
        sqlite3_stmt *st = recoup_book_prepare (tb.book, "SELECT balance, weighted_dpd, oldest_dpd, oldest_due_date"
                                                " FROM account_stats WHERE account_id = ?1", &error);

        g_assert_no_error (error);
        sqlite3_bind_text (st, 1, acct, -1, SQLITE_STATIC);
        g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
        g_assert_cmpint (sqlite3_column_int64 (st, 0), ==, 10000);
        g_assert_cmpint (sqlite3_column_int64 (st, 1), ==, sqlite3_column_int64 (st, 2));
        g_assert_cmpstr ((const char *) sqlite3_column_text (st, 3), ==, "2026-01-31");
        sqlite3_reset (st);
      }

      /* Between the two, the entry counted: a fee is due on its own date, a
       * credit pays the invoice. */
      g_clear_pointer (&inv, g_ptr_array_unref);
      inv = recoup_ledger_invoice_balances (tb.book, acct, "2026-11-01", &error);
      g_assert_cmpint (open_on (inv, "F-INV-1"), ==, cases[c].amount > 0 ? 10000 : 10000 + cases[c].amount);
      test_book_close (&tb);
    }
}

/* The worklist's derived figures for @acct: its balance and oldest due date. */
static void
assert_derived (TestBook   *tb,
                const char *acct,
                gint64      balance,
                const char *oldest_due)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *st = recoup_book_prepare (tb->book, "SELECT balance, oldest_due_date FROM account_stats"
                                          " WHERE account_id = ?1", &error);

  g_assert_no_error (error);
  sqlite3_bind_text (st, 1, acct, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int64 (st, 0), ==, balance);
  g_assert_cmpstr ((const char *) sqlite3_column_text (st, 1), ==, oldest_due);
  sqlite3_reset (st);
}

/* A waiver that names the fee or interest it waives cancels it, wholly or in
 * part, instead of paying the oldest invoice: the invoice stays open in its
 * own bucket in every view (invoices, the account's aging, the summary, the
 * report, the derived figures). Reversing the waiver opens the fee again.
 * What it may waive is checked: a fee or interest of the account, not
 * before it, not more than is still open of it; a waived fee is not
 * reversed under its waiver. */
static void
test_waiver_cancels_fee (void)
{
  RecoupEntryKind kinds[] = { RECOUP_ENTRY_FEE, RECOUP_ENTRY_INTEREST };

  for (guint c = 0; c < G_N_ELEMENTS (kinds); c++)
    {
      TestBook tb = { 0 };
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) inv = NULL;
      g_autofree char *acct = NULL, *i1 = NULL, *fee = NULL, *part = NULL, *rest = NULL, *rev = NULL;
      g_autofree char *pay = NULL;
      RecoupEntrySpec spec = { .kind = kinds[c], .amount = 2500, .effective_date = "2026-11-01" };
      RecoupEntrySpec waiver = { .kind = RECOUP_ENTRY_WAIVER, .amount = 1000, .effective_date = "2026-11-02" };
      RecoupEntrySpec payment = { .kind = RECOUP_ENTRY_PAYMENT, .amount = 100, .effective_date = "2026-11-02" };
      const gint64 invoice_only[RECOUP_AGING_N_BUCKETS] = { [RECOUP_AGING_181_PLUS] = 10000 };
      const gint64 fee_part[RECOUP_AGING_N_BUCKETS] = { [RECOUP_AGING_1_30] = 1500,
                                                        [RECOUP_AGING_181_PLUS] = 10000 };
      gint64 changes;

      g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
      test_book_open (&tb);
      acct = test_add_account (tb.book, "W-1", "USD");
      i1 = test_add_invoice (tb.book, acct, "W-INV-1", "2026-01-01", "2026-01-31", 10000, "USD");
      spec.account_id = acct;
      fee = recoup_ledger_record (tb.book, &spec, &error);
      g_assert_no_error (error);

      /* 10.00 of the 25.00 waived: 15.00 of it is open, in its own bucket. */
      waiver.account_id = acct;
      waiver.waives_id = fee;
      part = recoup_ledger_record (tb.book, &waiver, &error);
      g_assert_no_error (error);
      inv = recoup_ledger_invoice_balances (tb.book, acct, "2026-11-24", &error);
      g_assert_cmpint (open_on (inv, "W-INV-1"), ==, 10000);
      g_clear_pointer (&inv, g_ptr_array_unref);
      assert_aging (&tb, acct, "2026-11-24", fee_part);

      /* What the ledger refuses, writing nothing. */
      payment.account_id = acct;
      payment.method = "cash";
      pay = recoup_ledger_record (tb.book, &payment, &error);
      g_assert_no_error (error);
      changes = recoup_book_count_changes (tb.book);
      waiver.amount = 1501;
      g_assert_null (recoup_ledger_record (tb.book, &waiver, &error));
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "more than the USD 15.00 still open"));
      g_clear_error (&error);
      waiver.amount = 1500;
      waiver.effective_date = "2026-10-31";
      g_assert_null (recoup_ledger_record (tb.book, &waiver, &error));
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "before the"));
      g_clear_error (&error);
      waiver.effective_date = "2026-11-02";
      waiver.invoice_id = i1;
      g_assert_null (recoup_ledger_record (tb.book, &waiver, &error));
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_clear_error (&error);
      waiver.invoice_id = NULL;
      waiver.waives_id = pay;
      g_assert_null (recoup_ledger_record (tb.book, &waiver, &error));
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "a waiver waives a fee or interest"));
      g_clear_error (&error);
      spec.waives_id = fee;
      g_assert_null (recoup_ledger_record (tb.book, &spec, &error));
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_clear_error (&error);
      g_assert_null (recoup_ledger_reverse (tb.book, fee, NULL, NULL, &error));
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
      g_clear_error (&error);
      g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);
      g_free (recoup_ledger_reverse (tb.book, pay, NULL, NULL, &error));
      g_assert_no_error (error);

      /* The rest waived: the invoice alone is open, in its bucket. */
      waiver.waives_id = fee;
      rest = recoup_ledger_record (tb.book, &waiver, &error);
      g_assert_no_error (error);
      g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 10000);
      assert_aging (&tb, acct, "2026-11-24", invoice_only);
      assert_derived (&tb, acct, 10000, "2026-01-31");

      /* Its waiver reversed, the rest of the fee is open again. */
      rev = recoup_ledger_reverse (tb.book, rest, NULL, NULL, &error);
      g_assert_no_error (error);
      assert_aging (&tb, acct, "2026-11-24", fee_part);
      inv = recoup_ledger_invoice_balances (tb.book, acct, "2026-11-24", &error);
      g_assert_cmpint (open_on (inv, "W-INV-1"), ==, 10000);
      test_book_close (&tb);
      g_unsetenv ("RECOUP_TODAY");
    }
}

/* recoup-cli adjust --kind waiver --waives ENTRY waives that fee; --waives
 * goes with a waiver only. */
static void
test_cli_waives (void)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *inv = NULL, *fee = NULL, *out = NULL, *err = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_FEE, .amount = 2500 };
  int status = 0;

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  test_book_open (&tb);
  acct = test_add_account (tb.book, "C-1", "USD");
  inv = test_add_invoice (tb.book, acct, "C-INV-1", "2026-01-01", "2026-01-31", 10000, "USD");
  spec.account_id = acct;
  fee = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);
  {
    const char *argv[] = { cli, "--book", tb.path, "adjust", "C-1", "--kind", "waiver", "--amount", "25.00",
                           "--waives", fee, NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                                 &error));
    g_assert_no_error (error);
    g_assert_cmpint (status, ==, 0);
    g_assert_nonnull (strstr (out, "waiving the fee of"));
    g_assert_nonnull (strstr (out, "Balance now USD 100.00"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { cli, "--book", tb.path, "adjust", "C-1", "--kind", "fee", "--amount", "1.00",
                           "--waives", fee, NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                                 &error));
    g_assert_no_error (error);
    g_assert_cmpint (WEXITSTATUS (status), ==, 2);
    g_assert_nonnull (strstr (err, "--waives goes with --kind waiver"));
  }
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 10000);
  test_book_close (&tb);
}

/* Migration 10 adds ledger_entries.waives_id, a synced column: the book's
 * own ledger inserts not sent yet are sent with it, so they are stamped
 * with the synced tables' new schema, which a server of an earlier Recoup
 * keeps queued as too new instead of refusing the unknown field for good.
 * Changes already sent, or that carry their own fields, keep theirs. */
/* A receipt number this device would issue next, already in the book (sync
 * brought it from a device whose id ends alike), is passed over. */
static void
test_receipt_taken (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *entry = NULL, *taken = NULL, *sql = NULL;
  sqlite3_stmt *stmt;
  RecoupEntrySpec pay = { .kind = RECOUP_ENTRY_PAYMENT, .amount = 1000, .method = "cash" };
  TestBook tb = { 0 };

  test_book_open (&tb);
  acct = test_add_account (tb.book, "RT-1", "USD");
  g_free (test_add_invoice (tb.book, acct, "INV-RT1", "2026-01-01", "2026-01-31", 10000, "USD"));
  taken = g_ascii_strup (recoup_book_get_device_id (tb.book) + 30, 6);
  sql = g_strdup_printf ("INSERT INTO ledger_entries (id, account_id, kind, amount, currency, effective_date,"
                         " receipt_no, created_at) VALUES ('01900000-0000-7000-8000-0000000000aa', '%s',"
                         " 'payment', -500, 'USD', '2026-01-15', 'R-%s-000001', 0)", acct, taken);
  g_assert_true (recoup_book_exec (tb.book, sql, &error));
  g_assert_no_error (error);

  pay.account_id = acct;
  entry = recoup_ledger_record (tb.book, &pay, &error);
  g_assert_no_error (error);
  stmt = recoup_book_prepare (tb.book, "SELECT receipt_no FROM ledger_entries WHERE id = ?", &error);
  g_assert_no_error (error);
  sqlite3_bind_text (stmt, 1, entry, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  {
    g_autofree char *expected = g_strdup_printf ("R-%s-000002", taken);

    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, expected);
  }
  sqlite3_reset (stmt);
  test_book_close (&tb);
}

static void
test_migrate_waives (void)
{
  g_autofree char *dir = g_dir_make_tmp ("recoup-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "old.recoup", NULL);
  g_autofree char *app_id = g_strdup_printf ("PRAGMA application_id = %d", RECOUP_APPLICATION_ID);
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autofree char *acct = NULL;
  g_autofree char *fee = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_FEE, .amount = 2500 };
  sqlite3 *db;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, app_id, NULL, NULL, NULL), ==, SQLITE_OK);
  for (int v = 0; v < 9; v++)
    g_assert_cmpint (sqlite3_exec (db, recoup_schema_get_migration (v), NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
    "INSERT INTO changes (id, hlc, device_id, entity, entity_id, op, fields, schema_version, server_seq)"
    " VALUES ('01900000-0000-7000-8000-000000000001', 1, 'dev', 'ledger_entries', 'l1', 'insert', NULL, 8, NULL),"
    " ('01900000-0000-7000-8000-000000000002', 2, 'dev', 'ledger_entries', 'l2', 'insert', NULL, 8, 7),"
    " ('01900000-0000-7000-8000-000000000003', 3, 'dev', 'ledger_entries', 'l3', 'insert', '{\"id\":\"l3\"}', 8, NULL),"
    " ('01900000-0000-7000-8000-000000000004', 4, 'dev', 'accounts', 'a1', 'insert', NULL, 8, NULL);"
    "PRAGMA user_version = 9", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  book = recoup_book_open (path, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (path, "SELECT count(*) FROM pragma_table_info ('ledger_entries')"
                                         " WHERE name = 'waives_id'"), ==, 1);
  /* What was written before names no entry it waives: it still syncs with
   * a server of sync schema 8. */
  g_assert_cmpint (test_query_int (path, "SELECT schema_version FROM changes WHERE entity_id = 'l1'"), ==, 8);
  g_assert_cmpint (test_query_int (path, "SELECT schema_version FROM changes WHERE entity_id = 'l2'"), ==, 8);
  g_assert_cmpint (test_query_int (path, "SELECT schema_version FROM changes WHERE entity_id = 'l3'"), ==, 8);
  g_assert_cmpint (test_query_int (path, "SELECT schema_version FROM changes WHERE entity_id = 'a1'"), ==, 8);

  /* A new entry that waives nothing is stamped 8 and sent without the
   * column; a waiver that names its fee is stamped 9 and sent with it. */
  acct = test_add_account (book, "M-1", "USD");
  spec.account_id = acct;
  fee = recoup_ledger_record (book, &spec, &error);
  g_assert_no_error (error);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT schema_version FROM changes WHERE entity_id = '%s'", fee);
    g_autofree char *fields = recoup_book_row_fields (book, "ledger_entries", fee, &error);

    g_assert_no_error (error);
    g_assert_cmpint (test_query_int (path, sql), ==, RECOUP_SYNC_SCHEMA_BASE);
    g_assert_null (strstr (fields, "waives_id"));
  }
  {
    RecoupEntrySpec w = { .kind = RECOUP_ENTRY_WAIVER, .account_id = acct, .amount = 2500, .waives_id = fee };
    g_autofree char *waiver = recoup_ledger_record (book, &w, &error);
    g_autofree char *sql = NULL;
    g_autofree char *fields = NULL;

    g_assert_no_error (error);
    sql = g_strdup_printf ("SELECT schema_version FROM changes WHERE entity_id = '%s'", waiver);
    fields = recoup_book_row_fields (book, "ledger_entries", waiver, &error);
    g_assert_no_error (error);
    g_assert_cmpint (test_query_int (path, sql), ==, 9);
    g_assert_nonnull (strstr (fields, "\"waives_id\":\""));
  }
  g_assert_cmpint (RECOUP_SYNC_SCHEMA_VERSION, ==, 9);
  g_assert_cmpint (RECOUP_SYNC_SCHEMA_BASE, ==, 8);
  g_clear_object (&book);
  test_remove_tree (dir);
}

/* A payment recorded on the account and reversed (a bounced cheque) leaves
 * the allocation as if it had never been made: the invoices it paid are open
 * again, oldest first, and another payment still pays the oldest. */
static void
test_reverse_unaimed_payment (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inv = NULL;
  g_autofree char *acct = NULL, *i1 = NULL, *i2 = NULL, *fee = NULL, *p1 = NULL, *p2 = NULL, *rev = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .method = "cheque", .amount = 12000,
                           .effective_date = "2026-03-01" };
  RecoupAgingRow row;

  g_setenv ("RECOUP_TODAY", "2026-03-31", TRUE);
  test_book_open (&tb);
  acct = test_add_account (tb.book, "P-1", "USD");
  i1 = test_add_invoice (tb.book, acct, "P-INV-1", "2026-01-01", "2026-01-31", 10000, "USD");
  i2 = test_add_invoice (tb.book, acct, "P-INV-2", "2026-02-01", "2026-02-28", 5000, "USD");
  spec.account_id = acct;
  p1 = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);
  spec.amount = 3000;
  spec.effective_date = "2026-03-02";
  p2 = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);
  spec.kind = RECOUP_ENTRY_FEE;
  spec.method = NULL;
  spec.amount = 1500;
  spec.effective_date = "2026-03-03";
  fee = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);

  inv = recoup_ledger_invoice_balances (tb.book, acct, NULL, &error);
  g_assert_cmpint (open_on (inv, "P-INV-1"), ==, 0);
  g_assert_cmpint (open_on (inv, "P-INV-2"), ==, 0);
  g_clear_pointer (&inv, g_ptr_array_unref);

  rev = recoup_ledger_reverse (tb.book, p1, "2026-03-10", "cheque bounced", &error);
  g_assert_no_error (error);
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 13500);
  inv = recoup_ledger_invoice_balances (tb.book, acct, NULL, &error);
  g_assert_cmpint (open_on (inv, "P-INV-1"), ==, 7000);
  g_assert_cmpint (open_on (inv, "P-INV-2"), ==, 5000);
  g_assert_true (recoup_ledger_account_aging (tb.book, acct, "2026-03-31", &row, &error));
  g_free (row.currency);
  g_assert_cmpint (row.buckets[RECOUP_AGING_31_60], ==, 7000 + 5000);
  g_assert_cmpint (row.buckets[RECOUP_AGING_1_30], ==, 1500);
  g_assert_cmpint (row.credit, ==, 0);
  test_book_close (&tb);
  g_unsetenv ("RECOUP_TODAY");
}

/* Receipt numbers carry the device, so two laptops never issue the same one. */
/* Refuses @spec with an error whose message holds @needle, changing nothing. */
static void
assert_refused (TestBook              *tb,
                const RecoupEntrySpec *spec,
                const char            *needle)
{
  g_autoptr(GError) error = NULL;
  gint64 before = recoup_book_count_changes (tb->book);
  g_autofree char *id = recoup_ledger_record (tb->book, spec, &error);

  g_assert_null (id);
  g_assert_nonnull (error);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” does not say “%s”", error->message, needle);
  g_assert_cmpint (recoup_book_count_changes (tb->book), ==, before);
}

/* A write-off, waiver or discount forgives at most what is still owed (on
 * the invoice, after allocation, or on the account); a payment is not dated
 * after today. */
static void
test_forgive_within_owed (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *i1 = NULL, *i2 = NULL, *p = NULL, *w = NULL;
  RecoupEntrySpec spec = { .effective_date = "2026-03-01" };

  g_setenv ("RECOUP_TODAY", "2026-03-10", TRUE);
  test_book_open (&tb);
  acct = test_add_account (tb.book, "F-1", "USD");
  i1 = test_add_invoice (tb.book, acct, "F-INV-1", "2026-01-01", "2026-01-31", 100000, "USD");
  i2 = test_add_invoice (tb.book, acct, "F-INV-2", "2026-02-01", "2026-02-28", 50000, "USD");

  /* 300.00 paid goes to the oldest invoice: 700.00 is left on F-INV-1. */
  spec.account_id = acct;
  spec.kind = RECOUP_ENTRY_PAYMENT;
  spec.amount = 30000;
  spec.method = "cash";
  p = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);
  spec.method = NULL;

  spec.kind = RECOUP_ENTRY_WRITE_OFF;
  spec.invoice_id = i1;
  spec.amount = 70001;
  assert_refused (&tb, &spec, "a write-off of USD 700.01 is more than the USD 700.00 still owed on this invoice");
  spec.kind = RECOUP_ENTRY_WAIVER;
  assert_refused (&tb, &spec, "still owed on this invoice");
  spec.invoice_id = NULL;
  spec.kind = RECOUP_ENTRY_DISCOUNT;
  spec.amount = 120001;
  assert_refused (&tb, &spec, "a discount of USD 1,200.01 is more than the USD 1,200.00 still owed on this account");

  /* Exactly what is owed is fine. */
  spec.kind = RECOUP_ENTRY_WRITE_OFF;
  spec.invoice_id = i1;
  spec.amount = 70000;
  w = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 50000);

  /* Payments may exceed the balance (a credit) but not be dated ahead. */
  spec.kind = RECOUP_ENTRY_PAYMENT;
  spec.invoice_id = NULL;
  spec.amount = 100;
  spec.effective_date = "2026-03-11";
  assert_refused (&tb, &spec, "a payment cannot be dated after today (2026-03-10)");

  test_book_close (&tb);
  g_unsetenv ("RECOUP_TODAY");
}

/* A payment, fee or adjustment dated more than a year before its
 * account's first invoice (a mistyped year: 1999 for 2026) is refused with
 * the earliest date it can have; a deposit up to a year before the first
 * invoice is taken. On an account with no invoice yet, the year runs back
 * from today. Only invoices move the floor. */
static void
test_payment_date_floor (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *empty = NULL, *inv = NULL, *p = NULL, *floor = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .amount = 5000, .method = "cash" };

  g_setenv ("RECOUP_TODAY", "2026-03-10", TRUE);
  test_book_open (&tb);
  acct = test_add_account (tb.book, "D-1", "USD");
  empty = test_add_account (tb.book, "D-2", "USD");
  inv = test_add_invoice (tb.book, acct, "D-INV-1", "2025-06-15", "2025-07-15", 100000, "USD");

  floor = recoup_ledger_date_floor (tb.book, acct, "2026-03-10", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (floor, ==, "2024-06-15");
  g_clear_pointer (&floor, g_free);
  floor = recoup_ledger_date_floor (tb.book, empty, "2026-03-10", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (floor, ==, "2025-03-10");

  spec.account_id = acct;
  spec.effective_date = "1999-06-15";
  assert_refused (&tb, &spec, "a payment cannot be dated 1999-06-15, more than a year back: check the year "
                              "(the earliest date it can have here is 2024-06-15, a year before the account's "
                              "first invoice, or before today if it has none)");
  spec.effective_date = "2024-06-14";
  assert_refused (&tb, &spec, "the earliest date it can have here is 2024-06-15");
  spec.account_id = empty;
  spec.effective_date = "2025-03-09";
  assert_refused (&tb, &spec, "the earliest date it can have here is 2025-03-10");

  /* A deposit before the first invoice, and one a year before today. */
  spec.account_id = acct;
  spec.effective_date = "2024-06-15";
  p = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_clear_pointer (&p, g_free);
  spec.account_id = empty;
  spec.effective_date = "2025-03-10";
  p = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);

  /* A payment does not move the floor: else each could take the next one
   * a year further back. */
  g_clear_pointer (&floor, g_free);
  floor = recoup_ledger_date_floor (tb.book, acct, "2026-03-10", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (floor, ==, "2024-06-15");
  g_clear_pointer (&p, g_free);
  spec.account_id = acct;
  spec.effective_date = "2023-06-15";
  assert_refused (&tb, &spec, "the earliest date it can have here is 2024-06-15");

  /* Nor does a fee, which is held to the same floor (QA: a fee of 2001,
   * then a payment of 2000). */
  spec.kind = RECOUP_ENTRY_FEE;
  spec.method = NULL;
  spec.effective_date = "2001-01-01";
  assert_refused (&tb, &spec, "the fee cannot be dated 2001-01-01, more than a year back");
  spec.kind = RECOUP_ENTRY_ADJUSTMENT;
  assert_refused (&tb, &spec, "the adjustment cannot be dated 2001-01-01, more than a year back");
  spec.kind = RECOUP_ENTRY_FEE;
  spec.effective_date = "2024-07-01";
  g_clear_pointer (&p, g_free);
  p = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_clear_pointer (&floor, g_free);
  floor = recoup_ledger_date_floor (tb.book, acct, "2026-03-10", &error);
  g_assert_cmpstr (floor, ==, "2024-06-15");

  test_book_close (&tb);
  g_unsetenv ("RECOUP_TODAY");
}

/* One amount, and one account's charges or credits added together, stay
 * within RECOUP_MONEY_LIMIT, so no balance or total can overflow. */
static void
test_money_limits (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *other = NULL, *inv = NULL, *p = NULL;
  RecoupInvoiceSpec big = { .ref = "L-1", .issue_date = "2026-01-01", .due_date = "2026-01-31",
                            .amount = RECOUP_MONEY_LIMIT + 1, .currency = "USD" };
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .method = "cash", .effective_date = "2026-02-01" };
  gint64 before;

  test_book_open (&tb);
  acct = test_add_account (tb.book, "L-1", "USD");
  other = test_add_account (tb.book, "L-2", "USD");

  big.account_id = acct;
  before = recoup_book_count_changes (tb.book);
  g_assert_null (recoup_invoice_add (tb.book, &big, &error));
  g_assert_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_OVERFLOW);
  g_assert_nonnull (strstr (error->message, "at most USD 10,000,000,000,000.00"));
  g_clear_error (&error);

  /* The limit itself is fine; one unit more on the same account is not. */
  big.amount = RECOUP_MONEY_LIMIT;
  inv = recoup_invoice_add (tb.book, &big, &error);
  g_assert_no_error (error);
  before = recoup_book_count_changes (tb.book);
  big.ref = "L-1b";
  big.amount = 1;
  g_assert_null (recoup_invoice_add (tb.book, &big, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "the most one account can hold"));
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, before);

  /* Another account is not affected by the first one's total. */
  big.account_id = other;
  big.ref = "L-2a";
  big.amount = RECOUP_MONEY_LIMIT;
  g_free (recoup_invoice_add (tb.book, &big, &error));
  g_assert_no_error (error);

  /* Credits: a payment of the limit pays it all; a fee then reopens, and a
   * second payment beyond the credits' limit is refused. */
  spec.account_id = acct;
  spec.amount = RECOUP_MONEY_LIMIT;
  p = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 0);
  spec.amount = 1;
  assert_refused (&tb, &spec, "payments and credits to more than USD 10,000,000,000,000.00");
  spec.amount = G_MAXINT64;
  assert_refused (&tb, &spec, "is too large: Recoup records at most USD 10,000,000,000,000.00 as one amount");

  test_book_close (&tb);
}

static void
test_receipts (void)
{
  TestBook a = { 0 }, b = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct_a = NULL, *acct_b = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  test_book_open (&a);
  test_book_open (&b);
  acct_a = test_add_account (a.book, "RC-1", "USD");
  acct_b = test_add_account (b.book, "RC-1", "USD");
  for (int i = 0; i < 20; i++)
    {
      TestBook *tb = i % 2 ? &a : &b;
      RecoupEntrySpec e = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = i % 2 ? acct_a : acct_b,
                            .amount = 100, .method = "cash" };
      g_autofree char *id = recoup_ledger_record (tb->book, &e, &error);
      g_autoptr(GPtrArray) list = recoup_ledger_list (tb->book, e.account_id, &error);
      RecoupLedgerEntry *last = g_ptr_array_index (list, list->len - 1);

      g_assert_nonnull (id);
      g_assert_nonnull (last->receipt_no);
      g_assert_true (g_str_has_prefix (last->receipt_no, "R-"));
      g_assert_true (g_hash_table_add (seen, g_strdup (last->receipt_no)));
    }
  test_book_close (&a);
  test_book_close (&b);
}

static RecoupLedgerEntry *
entry_with_id (GPtrArray  *list,
               const char *id)
{
  for (guint i = 0; i < list->len; i++)
    {
      RecoupLedgerEntry *e = g_ptr_array_index (list, i);

      if (g_strcmp0 (e->id, id) == 0)
        return e;
    }
  g_assert_not_reached ();
}

/* A reversal without a reason stores no memo: no words of the app's, in the
 * writer's language, reach the book, the sync or a statement. Readers word it
 * (recoup_ledger_entry_note, the statement's description) in their own; a
 * memo that was given, or stored by an older version, reads as it is. */
static void
test_reversal_without_reason (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(RecoupStatement) st = NULL;
  g_autofree char *acct = NULL, *inv = NULL, *pay = NULL, *fee = NULL, *rev_pay = NULL, *rev_fee = NULL;
  g_autofree char *note = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .method = "cheque", .amount = 30000,
                           .effective_date = "2026-03-01" };
  RecoupLedgerEntry *e;

  g_setenv ("RECOUP_TODAY", "2026-03-10", TRUE);
  test_book_open (&tb);
  acct = test_add_account (tb.book, "N-1", "USD");
  inv = test_add_invoice (tb.book, acct, "INV-1", "2026-01-01", "2026-01-31", 100000, "USD");
  spec.account_id = acct;
  pay = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);
  spec.kind = RECOUP_ENTRY_FEE;
  spec.method = NULL;
  spec.amount = 1500;
  spec.effective_date = "2026-03-02";
  fee = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);

  rev_pay = recoup_ledger_reverse (tb.book, pay, "2026-03-05", NULL, &error);
  g_assert_no_error (error);
  rev_fee = recoup_ledger_reverse (tb.book, fee, "2026-03-06", "Rücklastschrift", &error);
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM ledger_entries WHERE kind = 'reversal' AND memo = ''"),
                   ==, 1);

  list = recoup_ledger_list (tb.book, acct, &error);
  g_assert_no_error (error);
  e = entry_with_id (list, rev_pay);
  g_assert_cmpstr (e->memo, ==, "");
  g_assert_cmpstr (e->reverses_kind, ==, "payment");
  g_assert_cmpstr (e->reverses_date, ==, "2026-03-01");
  note = recoup_ledger_entry_note (e);
  g_assert_cmpstr (note, ==, "reverses the payment of 2026-03-01");
  g_clear_pointer (&note, g_free);
  e = entry_with_id (list, rev_fee);
  note = recoup_ledger_entry_note (e);
  g_assert_cmpstr (note, ==, "Rücklastschrift");
  g_clear_pointer (&note, g_free);
  /* Not a reversal, no memo: nothing to say. */
  e = entry_with_id (list, pay);
  g_assert_null (e->reverses_kind);
  g_assert_null (recoup_ledger_entry_note (e));

  /* The statement names what was reversed, and adds no memo to it. */
  st = recoup_statement_build (tb.book, acct, "2026-03-01", "2026-03-31", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < st->lines->len; i++)
    {
      RecoupStatementLine *l = g_ptr_array_index (st->lines, i);

      if (g_strcmp0 (l->id, rev_pay) == 0)
        {
          g_assert_cmpstr (l->description, ==, "Reversal of payment of 2026-03-01");
          g_assert_true (g_str_has_prefix (l->reference, "R-"));
        }
      else if (g_strcmp0 (l->id, rev_fee) == 0)
        g_assert_cmpstr (l->description, ==, "Reversal of fee of 2026-03-02 — Rücklastschrift");
    }

  test_book_close (&tb);
  g_unsetenv ("RECOUP_TODAY");
}

/* The entry an upheld dispute writes keeps the dispute's id in its memo
 * ("dispute <id> upheld: <note>", which the merge matches); whoever reads the
 * memo reads that the dispute was upheld and its note, never the id. Any
 * other memo, one that only looks alike included, reads as it is. */
static void
test_dispute_memo_for_reader (void)
{
  static const char * const others[] = {
    "cheque bounced",
    "dispute upheld: the customer said so",
    "dispute zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz upheld: x",
    "dispute 01a210ce-a1ea-71eb-97e1-60bd6a14a223 rejected: no",
    "Dispute upheld: balance waived",
    "",
  };
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *acct = NULL, *inv = NULL, *dispute = NULL, *entry = NULL, *stored = NULL;
  g_autofree char *note = NULL, *reader = NULL;
  RecoupDisputeResolution res = { .upheld = TRUE, .remedy = RECOUP_DISPUTE_REMEDY_WRITE_OFF,
                                  .note = "  goods returned unopened  " };
  RecoupLedgerEntry *e;

  reader = recoup_ledger_memo_for_reader ("dispute 01a210ce-a1ea-71eb-97e1-60bd6a14a223 upheld: wrong size");
  g_assert_cmpstr (reader, ==, "Dispute upheld: wrong size");
  g_clear_pointer (&reader, g_free);
  g_assert_cmpstr (recoup_ledger_memo_dispute_note ("dispute 01a210ce-a1ea-71eb-97e1-60bd6a14a223 upheld: "),
                   ==, "");
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    {
      reader = recoup_ledger_memo_for_reader (others[i]);
      g_assert_cmpstr (reader, ==, others[i]);
      g_assert_null (recoup_ledger_memo_dispute_note (others[i]));
      g_clear_pointer (&reader, g_free);
    }
  g_assert_null (recoup_ledger_memo_for_reader (NULL));
  /* So do the memos an accepted offer writes, without the offer's id; a
   * look-alike keeps its words. */
  {
    static const char * const offer[][2] = {
      { "fee waived by offer 01a210ce-a1ea-71eb-97e1-60bd6a14a223", "Fee waived by an accepted offer" },
      { "interest waived by offer 01a210ce-a1ea-71eb-97e1-60bd6a14a223", "Interest waived by an accepted offer" },
      { "fees and interest waived by offer 01a210ce-a1ea-71eb-97e1-60bd6a14a223",
        "Fees and interest waived by an accepted offer" },
      { "settlement discount: offer 01a210ce-a1ea-71eb-97e1-60bd6a14a223 completed",
        "Settlement discount: the settlement was paid" },
      { "fee waived by offer of 2026-03-01", "fee waived by offer of 2026-03-01" },
      { "fee waived by offer 01a210ce-a1ea-71eb-97e1-60bd6a14a223 and more",
        "fee waived by offer 01a210ce-a1ea-71eb-97e1-60bd6a14a223 and more" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (offer); i++)
      {
        reader = recoup_ledger_memo_for_reader (offer[i][0]);
        g_assert_cmpstr (reader, ==, offer[i][1]);
        g_clear_pointer (&reader, g_free);
      }
  }

  g_setenv ("RECOUP_TODAY", "2026-03-10", TRUE);
  test_book_open (&tb);
  acct = test_add_account (tb.book, "D-1", "USD");
  inv = test_add_invoice (tb.book, acct, "INV-D1", "2026-01-01", "2026-01-31", 40000, "USD");
  dispute = recoup_dispute_open (tb.book, acct, inv, "never delivered", &error);
  g_assert_no_error (error);
  g_assert_true (recoup_dispute_resolve_full (tb.book, dispute, &res, &entry, &error));
  g_assert_no_error (error);

  list = recoup_ledger_list (tb.book, acct, &error);
  g_assert_no_error (error);
  e = entry_with_id (list, entry);
  g_assert_cmpstr (e->kind, ==, "write-off");
  /* The book keeps the memo as it was written... */
  stored = g_strdup_printf ("dispute %s upheld: goods returned unopened", dispute);
  g_assert_cmpstr (e->memo, ==, stored);
  /* ...and the note a person reads has no id. */
  note = recoup_ledger_entry_note (e);
  g_assert_cmpstr (note, ==, "Dispute upheld: goods returned unopened");
  g_assert_null (strstr (note, dispute));
  /* The account's history has the dispute's opening and its resolution, in
   * the resolver's words (QA: nothing said who resolved it, or when). */
  {
    g_autoptr(GPtrArray) history = recoup_activity_list (tb.book, acct, 0, &error);
    gboolean opened = FALSE, upheld = FALSE;

    g_assert_no_error (error);
    for (guint i = 0; i < history->len; i++)
      {
        RecoupActivity *a = history->pdata[i];

        g_assert_cmpstr (a->channel, ==, "note");
        opened |= g_strcmp0 (a->notes, "Dispute opened: never delivered") == 0;
        upheld |= g_strcmp0 (a->notes, "Dispute upheld: goods returned unopened") == 0;
      }
    g_assert_cmpuint (history->len, ==, 2);
    g_assert_true (opened && upheld);
  }

  test_book_close (&tb);
  g_unsetenv ("RECOUP_TODAY");
}

/* Nothing goes on the ledger dated after today, of any kind: it would count
 * in the balance over all entries (accounts, offers, promises) and not in the
 * one as of today (aging, statements, invoices). The same entry dated today is
 * taken; an invoice issued after today is refused with its charge, and a
 * reversal after today as well. Nothing refused is written. */
static void
test_future_dates (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *inv = NULL, *fee = NULL, *rev = NULL;
  const RecoupEntryKind kinds[] = { RECOUP_ENTRY_PAYMENT, RECOUP_ENTRY_FEE, RECOUP_ENTRY_INTEREST,
                                    RECOUP_ENTRY_ADJUSTMENT, RECOUP_ENTRY_WAIVER, RECOUP_ENTRY_DISCOUNT,
                                    RECOUP_ENTRY_WRITE_OFF };
  RecoupInvoiceSpec later = { .ref = "INV-2", .issue_date = "2026-03-11", .due_date = "2026-04-10",
                              .amount = 10000, .currency = "USD" };
  gint64 before;

  g_setenv ("RECOUP_TODAY", "2026-03-10", TRUE);
  test_book_open (&tb);
  acct = test_add_account (tb.book, "F-1", "USD");
  inv = test_add_invoice (tb.book, acct, "INV-1", "2026-01-01", "2026-01-31", 50000, "USD");
  before = recoup_book_count_changes (tb.book);

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      RecoupEntrySpec spec = { .kind = kinds[i], .account_id = acct, .amount = 2500,
                               .effective_date = "2026-03-11" };
      g_autofree char *id = recoup_ledger_record (tb.book, &spec, &error);

      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_assert_null (id);
      if (kinds[i] == RECOUP_ENTRY_FEE)
        g_assert_cmpstr (error->message, ==, "the fee cannot be dated 2026-03-11, after today (2026-03-10): "
                                             "record it on the day it applies, not before");
      g_clear_error (&error);
    }

  later.account_id = acct;
  g_assert_null (recoup_invoice_add (tb.book, &later, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "invoice INV-2 is issued on 2026-03-11, after today (2026-03-10): "
                                       "add it on the day it is issued");
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, before);

  /* Dated today they are taken, and every balance agrees. */
  {
    RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_FEE, .account_id = acct, .amount = 2500,
                             .effective_date = "2026-03-10" };

    fee = recoup_ledger_record (tb.book, &spec, &error);
    g_assert_no_error (error);
  }
  later.issue_date = "2026-03-10";
  g_free (recoup_invoice_add (tb.book, &later, &error));
  g_assert_no_error (error);
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 62500);
  g_assert_cmpint (balance_of (tb.book, acct, "2026-03-10"), ==, 62500);

  /* A reversal is dated from its entry's day to today. */
  before = recoup_book_count_changes (tb.book);
  g_assert_null (recoup_ledger_reverse (tb.book, fee, "2026-06-01", NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "the reversal cannot be dated 2026-06-01, after today (2026-03-10): "
                                       "record it on the day it applies, not before");
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, before);
  rev = recoup_ledger_reverse (tb.book, fee, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 60000);

  test_book_close (&tb);
  g_unsetenv ("RECOUP_TODAY");
}

/* The discount a completed settlement wrote follows its offer: reversed on
 * its own, the offer would write it again at once. So it is refused, naming
 * the offer and what to do, and nothing is written; reversing the payment that
 * completed the offer takes the discount with it. */
static void
test_reverse_kept_discount (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *inv = NULL, *offer = NULL, *pay = NULL, *rev = NULL, *discount = NULL;
  g_autofree char *expected = NULL, *sql = NULL;
  RecoupOfferSpec spec = { .kind = RECOUP_OFFER_SETTLEMENT, .amount = 80000, .pay_by = "2026-03-15" };
  RecoupEntrySpec payment = { .kind = RECOUP_ENTRY_PAYMENT, .method = "cheque", .amount = 80000 };
  gint64 before;

  g_setenv ("RECOUP_TODAY", "2026-03-01", TRUE);
  test_book_open (&tb);
  acct = test_add_account (tb.book, "S-1", "USD");
  inv = test_add_invoice (tb.book, acct, "INV-1", "2026-01-01", "2026-01-31", 100000, "USD");
  spec.account_id = acct;
  offer = recoup_offer_create (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_offer_transition (tb.book, offer, RECOUP_OFFER_EVENT_SEND, NULL, &error));
  g_assert_true (recoup_offer_transition (tb.book, offer, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_no_error (error);
  payment.account_id = acct;
  pay = recoup_ledger_record (tb.book, &payment, &error);
  g_assert_no_error (error);
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 0);

  {
    g_autoptr(GPtrArray) list = recoup_ledger_list (tb.book, acct, &error);

    g_assert_no_error (error);
    for (guint i = 0; i < list->len; i++)
      {
        RecoupLedgerEntry *e = g_ptr_array_index (list, i);

        if (g_str_equal (e->kind, "discount"))
          discount = g_strdup (e->id);
      }
  }
  g_assert_nonnull (discount);

  before = recoup_book_count_changes (tb.book);
  g_assert_null (recoup_ledger_reverse (tb.book, discount, NULL, "manual", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  expected = g_strdup_printf ("%s is the discount of settlement offer %s, which is completed: the discount "
                              "follows its offer and is not reversed on its own; reverse the payment that "
                              "completed the offer, and the discount goes with it", discount, offer);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, before);
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 0);

  /* What the message advises works: the discount goes with the payment. */
  rev = recoup_ledger_reverse (tb.book, pay, NULL, "bounced", &error);
  g_assert_no_error (error);
  g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, 100000);
  sql = g_strdup_printf ("SELECT count(*) FROM ledger_entries WHERE reverses_id = '%s'", discount);
  g_assert_cmpint (test_query_int (tb.path, sql), ==, 1);

  test_book_close (&tb);
  g_unsetenv ("RECOUP_TODAY");
}

static void
assert_stage (RecoupBook *book,
              const char *account_id,
              const char *stage)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) account = recoup_account_load (book, account_id, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (account->stage, ==, stage);
}

/* An account made by hand (recoup-cli account create, the app) takes the
 * stage its first invoice puts it in, as an imported one does: an invoice
 * 228 days past due is escalation, 15 days active, not yet due
 * pre-collection. The move is a stage change that syncs. Later invoices move
 * nothing (the policy does, with its history), nor does a first invoice the
 * stage a person set, nor one that is refused. */
static void
test_first_invoice_stage (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *esc = NULL, *act = NULL, *pre = NULL, *kept = NULL, *back = NULL, *refused = NULL;
  g_autofree char *sql = NULL;
  RecoupInvoiceSpec taken = { .ref = "F-1", .issue_date = "2026-01-01", .due_date = "2026-02-01",
                              .amount = 1000, .currency = "USD" };

  g_setenv ("RECOUP_TODAY", "2026-10-15", TRUE);
  test_book_open (&tb);

  esc = test_add_account (tb.book, "ESC", "USD");
  assert_stage (tb.book, esc, "pre-collection");
  g_free (test_add_invoice (tb.book, esc, "E-1", "2026-02-01", "2026-03-01", 1000, "USD"));
  assert_stage (tb.book, esc, "escalation");
  /* Through the change log, with its field clock, like any stage change. */
  sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE entity = 'accounts' AND entity_id = '%s'"
                         " AND op = 'set' AND json_extract (fields, '$.stage') = 'escalation'", esc);
  g_assert_cmpint (test_query_int (tb.path, sql), ==, 1);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count(*) FROM field_clocks WHERE entity = 'accounts' AND entity_id = '%s'"
                         " AND field = 'stage'", esc);
  g_assert_cmpint (test_query_int (tb.path, sql), ==, 1);
  g_clear_pointer (&sql, g_free);

  act = test_add_account (tb.book, "ACT", "USD");
  g_free (test_add_invoice (tb.book, act, "A-1", "2026-08-01", "2026-09-30", 1000, "USD"));
  assert_stage (tb.book, act, "active");
  g_free (test_add_invoice (tb.book, act, "A-2", "2026-02-01", "2026-03-01", 1000, "USD"));
  assert_stage (tb.book, act, "active");

  /* Not yet due: pre-collection, and no change is written for it. */
  pre = test_add_account (tb.book, "PRE", "USD");
  g_free (test_add_invoice (tb.book, pre, "P-1", "2026-10-01", "2026-10-31", 1000, "USD"));
  assert_stage (tb.book, pre, "pre-collection");
  sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE entity_id = '%s' AND op = 'set'", pre);
  g_assert_cmpint (test_query_int (tb.path, sql), ==, 0);
  g_clear_pointer (&sql, g_free);
  g_free (test_add_invoice (tb.book, pre, "P-2", "2026-02-01", "2026-03-01", 1000, "USD"));
  assert_stage (tb.book, pre, "pre-collection");

  /* A stage a person set stays, even one set back to pre-collection. */
  kept = test_add_account (tb.book, "KEPT", "USD");
  g_assert_true (recoup_account_set (tb.book, kept, "stage", "negotiation", &error));
  g_assert_no_error (error);
  g_free (test_add_invoice (tb.book, kept, "K-1", "2026-02-01", "2026-03-01", 1000, "USD"));
  assert_stage (tb.book, kept, "negotiation");
  back = test_add_account (tb.book, "BACK", "USD");
  g_assert_true (recoup_account_set (tb.book, back, "stage", "active", &error));
  g_assert_no_error (error);
  g_assert_true (recoup_account_set (tb.book, back, "stage", "pre-collection", &error));
  g_assert_no_error (error);
  g_free (test_add_invoice (tb.book, back, "B-1", "2026-02-01", "2026-03-01", 1000, "USD"));
  assert_stage (tb.book, back, "pre-collection");

  /* A refused invoice moves nothing: the stage is written in its
   * transaction. F-1 is taken. */
  refused = test_add_account (tb.book, "REFUSED", "USD");
  g_free (test_add_invoice (tb.book, pre, "F-1", "2026-10-01", "2026-10-31", 1000, "USD"));
  taken.account_id = refused;
  g_assert_null (recoup_invoice_add (tb.book, &taken, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_clear_error (&error);
  assert_stage (tb.book, refused, "pre-collection");
  sql = g_strdup_printf ("SELECT count(*) FROM changes WHERE entity_id = '%s' AND op = 'set'", refused);
  g_assert_cmpint (test_query_int (tb.path, sql), ==, 0);

  test_book_close (&tb);
  g_unsetenv ("RECOUP_TODAY");
}

/* A contact a user logs is held to the ledger's date floor: 1970-01-01 (an
 * empty clock) or a mistyped year is refused with the earliest date it can
 * have, and nothing is logged; a contact written by another path (a merge
 * from another device, the demo's history) is not the user's entry and is
 * not refused. */
static void
test_activity_date_floor (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *inv = NULL, *id = NULL;
  g_autoptr(GPtrArray) list = NULL;
  RecoupActivitySpec spec = { .channel = "note", .notes = "spoke at the door" };
  gint64 before;

  g_setenv ("RECOUP_TODAY", "2026-03-10", TRUE);
  test_book_open (&tb);
  acct = test_add_account (tb.book, "F-1", "USD");
  inv = test_add_invoice (tb.book, acct, "F-INV-1", "2025-06-15", "2025-07-15", 100000, "USD");
  spec.account_id = acct;

  before = recoup_book_count_changes (tb.book);
  spec.at = 1;   /* 1970-01-01T00:00:00.001Z */
  g_assert_null (recoup_activity_log_guarded (tb.book, &spec, NULL, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "a contact cannot be dated 1970-01-01, more than a year back: check the "
                                       "year (the earliest date it can have here is 2024-06-15, a year before the "
                                       "account's first invoice, or before today if it has none)");
  g_clear_error (&error);
  spec.at = 1718366400000;   /* 2024-06-14T12:00:00Z */
  g_assert_null (recoup_activity_log_guarded (tb.book, &spec, NULL, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, before);

  spec.at = 1718452800000;   /* 2024-06-15T12:00:00Z, the floor itself */
  id = recoup_activity_log_guarded (tb.book, &spec, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  g_clear_pointer (&id, g_free);

  /* Not the user's entry: written as it comes. */
  spec.at = 946728000000;    /* 2000-01-01T12:00:00Z */
  id = recoup_activity_log (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  list = recoup_activity_list (tb.book, acct, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  test_book_close (&tb);
  g_unsetenv ("RECOUP_TODAY");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recoup/core/ledger/allocation", test_allocation);
  g_test_add_func ("/recoup/core/ledger/bad-entries", test_bad_entries);
  g_test_add_func ("/recoup/core/ledger/aging-buckets", test_aging_buckets);
  g_test_add_func ("/recoup/core/ledger/invariant-random", test_invariant_random);
  g_test_add_func ("/recoup/core/ledger/reverse-account-level", test_reverse_account_level);
  g_test_add_func ("/recoup/core/ledger/reverse-unaimed-payment", test_reverse_unaimed_payment);
  g_test_add_func ("/recoup/core/ledger/receipts", test_receipts);
  g_test_add_func ("/recoup/core/ledger/forgive-within-owed", test_forgive_within_owed);
  g_test_add_func ("/recoup/core/ledger/money-limits", test_money_limits);
  g_test_add_func ("/recoup/core/ledger/reversal-without-reason", test_reversal_without_reason);
  g_test_add_func ("/recoup/core/ledger/dispute-memo-for-reader", test_dispute_memo_for_reader);
  g_test_add_func ("/recoup/core/ledger/future-dates", test_future_dates);
  g_test_add_func ("/recoup/core/ledger/payment-date-floor", test_payment_date_floor);
  g_test_add_func ("/recoup/core/ledger/activity-date-floor", test_activity_date_floor);
  g_test_add_func ("/recoup/core/ledger/reverse-kept-discount", test_reverse_kept_discount);
  g_test_add_func ("/recoup/core/ledger/waiver-cancels-fee", test_waiver_cancels_fee);
  g_test_add_func ("/recoup/core/ledger/migrate-waives", test_migrate_waives);
  g_test_add_func ("/recoup/core/ledger/receipt-taken", test_receipt_taken);
  g_test_add_func ("/recoup/core/ledger/cli-waives", test_cli_waives);
  g_test_add_func ("/recoup/core/ledger/first-invoice-stage", test_first_invoice_stage);
  return g_test_run ();
}
