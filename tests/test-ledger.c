/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

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

/*
 * The ledger invariant: after any random sequence of operations, every
 * account's balance is the sum of its entries, the per-invoice balances plus
 * credit add up to it, and the aging total equals the book total.
 */
static void
test_invariant_random (void)
{
  const char *currencies[] = { "USD", "JPY", "BHD" };

  for (int round = 0; round < 8; round++)
    {
      TestBook tb = { 0 };
      g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) rows = NULL;
      g_autoptr(GError) error = NULL;
      gint64 book_total = 0;
      int n_invoices = 0;

      test_book_open (&tb);
      for (int i = 0; i < 6; i++)
        {
          g_autofree char *ref = g_strdup_printf ("R%d-%d", round, i);
          g_ptr_array_add (accounts, test_add_account (tb.book, ref, currencies[i % 3]));
        }

      for (int op = 0; op < 150; op++)
        {
          guint a = (guint) g_test_rand_int_range (0, (gint32) accounts->len);
          const char *acct = accounts->pdata[a];
          const char *cur = currencies[a % 3];
          g_autofree char *date = recoup_date_format (recoup_date_parse ("2026-01-01", NULL) + g_test_rand_int_range (0, 150));
          int kind = g_test_rand_int_range (0, 6);
          char *id = NULL;

          if (kind == 0)
            {
              g_autofree char *ref = g_strdup_printf ("I%d-%d", round, n_invoices++);
              g_autofree char *due = recoup_date_format (recoup_date_parse (date, NULL) + g_test_rand_int_range (0, 60));
              id = test_add_invoice (tb.book, acct, ref, date, due, g_test_rand_int_range (1, 1000000), cur);
              g_free (id);
              continue;
            }
          else if (kind <= 3)
            {
              RecoupEntrySpec e = { .account_id = acct, .effective_date = date,
                                    .amount = g_test_rand_int_range (1, 500000) };
              RecoupEntryKind kinds[] = { RECOUP_ENTRY_PAYMENT, RECOUP_ENTRY_FEE, RECOUP_ENTRY_INTEREST,
                                          RECOUP_ENTRY_ADJUSTMENT, RECOUP_ENTRY_WAIVER, RECOUP_ENTRY_WRITE_OFF,
                                          RECOUP_ENTRY_DISCOUNT };
              e.kind = kinds[g_test_rand_int_range (0, G_N_ELEMENTS (kinds))];
              gint64 before = recoup_book_count_changes (tb.book);

              if (e.kind == RECOUP_ENTRY_ADJUSTMENT && g_test_rand_bit ())
                e.amount = -e.amount;
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
              /* Reversals may be refused (twice, or of a reversal, or dated
               * before); a refusal must change nothing. */
              gint64 before = recoup_book_count_changes (tb.book);
              id = recoup_ledger_reverse (tb.book, target, "2026-12-31", NULL, &error);
              if (id == NULL)
                {
                  g_assert_nonnull (error);
                  g_clear_error (&error);
                  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, before);
                }
            }
          if (id != NULL)
            g_ptr_array_add (entries, id);
        }

      for (guint i = 0; i < accounts->len; i++)
        {
          const char *acct = accounts->pdata[i];
          g_autofree char *sql = g_strdup_printf ("SELECT coalesce (sum (amount), 0) FROM ledger_entries WHERE account_id = '%s'", acct);
          g_autoptr(GPtrArray) inv = recoup_ledger_invoice_balances (tb.book, acct, "2026-12-31", &error);
          RecoupAgingRow row;
          gint64 sum = test_query_int (tb.path, sql);
          gint64 open = 0;

          g_assert_cmpint (balance_of (tb.book, acct, NULL), ==, sum);
          g_assert_true (recoup_ledger_account_aging (tb.book, acct, "2026-12-31", &row, &error));
          g_assert_cmpint (row.total, ==, sum);
          {
            gint64 buckets = row.credit;
            for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
              {
                g_assert_cmpint (row.buckets[k], >=, 0);
                buckets += row.buckets[k];
              }
            g_assert_cmpint (buckets, ==, sum);
          }
          g_assert_cmpint (row.credit, <=, 0);
          for (guint k = 0; k < inv->len; k++)
            {
              RecoupInvoiceBalance *ib = g_ptr_array_index (inv, k);
              g_assert_cmpint (ib->balance, >=, 0);
              open += ib->balance;
            }
          /* Open invoices are part of what the buckets hold (with account-level fees). */
          {
            gint64 owed = 0;
            for (int k = 0; k < RECOUP_AGING_N_BUCKETS; k++)
              owed += row.buckets[k];
            g_assert_cmpint (open, <=, owed);
          }
          g_free (row.currency);
          book_total += sum;
        }

      rows = recoup_aging_summary (tb.book, "2026-12-31", &error);
      g_assert_no_error (error);
      {
        gint64 total = 0;
        for (guint i = 0; i < rows->len; i++)
          total += ((RecoupAgingRow *) rows->pdata[i])->total;
        g_assert_cmpint (total, ==, book_total);
      }
      g_assert_true (recoup_book_check_integrity (tb.book, &error));
      test_book_close (&tb);
    }
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
  assert_refused (&tb, &spec, "is more than Recoup records as one amount");

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recoup/core/ledger/allocation", test_allocation);
  g_test_add_func ("/recoup/core/ledger/bad-entries", test_bad_entries);
  g_test_add_func ("/recoup/core/ledger/aging-buckets", test_aging_buckets);
  g_test_add_func ("/recoup/core/ledger/invariant-random", test_invariant_random);
  g_test_add_func ("/recoup/core/ledger/receipts", test_receipts);
  g_test_add_func ("/recoup/core/ledger/forgive-within-owed", test_forgive_within_owed);
  g_test_add_func ("/recoup/core/ledger/money-limits", test_money_limits);
  g_test_add_func ("/recoup/core/ledger/reversal-without-reason", test_reversal_without_reason);
  return g_test_run ();
}
