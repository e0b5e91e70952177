/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-test"

#include "config.h"

#include <glib/gstdio.h>
#include <sys/wait.h>
#include <string.h>

#include "recoup-book-private.h"
#include "recoup-core.h"
#include "recoup-demo.h"

#define N_ACCOUNTS 300
#define TODAY      "2026-06-30"

typedef struct
{
  char       *dir;
  RecoupBook *book;       /* seed 7, N_ACCOUNTS, TODAY: made once, shared read-only */
} Fixture;

static Fixture shared;

static RecoupBook *
make_book (const char *name,
           guint32     seed,
           guint       n_accounts)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (shared.dir, name, NULL);
  RecoupDemoOptions options = { .n_accounts = n_accounts, .seed = seed, .today = TODAY };
  RecoupBook *book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);

  g_assert_no_error (error);
  g_assert_true (recoup_demo_generate (book, &options, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return book;
}

static gint64
query_int (RecoupBook *book,
           const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

/* A digest of everything the generator decides, without ids, device ids,
 * receipt numbers or wall-clock creation times (which differ between runs by
 * design). Rows are ordered by content, so write order does not matter. */
static char *
content_digest (RecoupBook *book)
{
  static const char * const queries[] = {
    "SELECT name, role, max_discount_bp, max_plan_installments FROM users ORDER BY 1, 2",
    "SELECT a.ref, a.name, a.timezone, a.currency, a.stage, a.tier, a.lifetime_revenue, a.tags,"
    " a.cease_communication, a.attorney_represented, a.bankruptcy, a.validation_notice_date, u.name"
    " FROM accounts a LEFT JOIN users u ON u.id = a.assigned_to ORDER BY a.ref",
    "SELECT a.ref, c.kind, c.value, c.label, c.is_primary, c.opted_out FROM contact_points c"
    " JOIN accounts a ON a.id = c.account_id ORDER BY 1, 2, 3, 4, 5, 6",
    "SELECT i.ref, a.ref, i.issue_date, i.due_date, i.amount, i.currency, i.description"
    " FROM invoices i JOIN accounts a ON a.id = i.account_id ORDER BY i.ref",
    /* a reversal's reference is the receipt number it reverses, which names the device */
    "SELECT a.ref, i.ref, l.kind, l.amount, l.currency, l.effective_date, l.method,"
    " CASE WHEN l.kind = 'reversal' THEN NULL ELSE l.reference END,"
    " l.memo, r.kind, r.amount, u.name FROM ledger_entries l JOIN accounts a ON a.id = l.account_id"
    " LEFT JOIN invoices i ON i.id = l.invoice_id LEFT JOIN ledger_entries r ON r.id = l.reverses_id"
    " LEFT JOIN users u ON u.id = l.user_id ORDER BY 1, 6, 3, 4, 2, 7, 8, 9",
    "SELECT a.ref, v.channel, v.direction, v.outcome, v.at, v.notes, c.value, u.name"
    " FROM activities v JOIN accounts a ON a.id = v.account_id"
    " LEFT JOIN contact_points c ON c.id = v.contact_point_id LEFT JOIN users u ON u.id = v.user_id"
    " ORDER BY 1, 5, 2, 3, 4, 6",
    "SELECT a.ref, p.amount, p.currency, p.due_date, p.channel, p.grace_days, v.at"
    " FROM promises p JOIN accounts a ON a.id = p.account_id"
    " LEFT JOIN activities v ON v.id = p.activity_id ORDER BY 1, 4, 2",
    "SELECT a.ref, i.ref, d.reason, d.status, d.resolution FROM disputes d"
    " JOIN accounts a ON a.id = d.account_id LEFT JOIN invoices i ON i.id = d.invoice_id"
    " ORDER BY 1, 2, 3",
  };
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      sqlite3_stmt *stmt = NULL;
      guint rows = 0;

      g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), queries[q], -1, &stmt, NULL),
                       ==, SQLITE_OK);
      while (sqlite3_step (stmt) == SQLITE_ROW)
        {
          for (int c = 0; c < sqlite3_column_count (stmt); c++)
            {
              const char *text = (const char *) sqlite3_column_text (stmt, c);

              g_checksum_update (sum, (const guchar *) (text ? text : "\x01NULL"), -1);
              g_checksum_update (sum, (const guchar *) "\x1f", 1);
            }
          g_checksum_update (sum, (const guchar *) "\x1e", 1);
          rows++;
        }
      sqlite3_finalize (stmt);
      g_assert_cmpuint (rows, >, 0);
      g_checksum_update (sum, (const guchar *) "\x1d", 1);
    }
  return g_strdup (g_checksum_get_string (sum));
}

static void
test_deterministic (void)
{
  g_autoptr(RecoupBook) again = make_book ("again.recoup", 7, N_ACCOUNTS);
  g_autoptr(RecoupBook) other = make_book ("other.recoup", 8, N_ACCOUNTS);
  g_autofree char *a = content_digest (shared.book);
  g_autofree char *b = content_digest (again);
  g_autofree char *c = content_digest (other);

  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, !=, c);
  /* ids are UUIDv7 and differ: the books are independent, not copies */
  g_assert_cmpint (query_int (again, "SELECT count(*) FROM accounts WHERE ref = 'ACC-0000001'"), ==, 1);
}

static void
test_ledger_invariant (void)
{
  RecoupBook *book = shared.book;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) summary = NULL;
  g_autoptr(GHashTable) by_currency = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  sqlite3_stmt *stmt = NULL;
  guint n = 0;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book),
                                       "SELECT a.id, a.currency, coalesce(sum(l.amount), 0) FROM accounts a"
                                       " LEFT JOIN ledger_entries l ON l.account_id = a.id GROUP BY a.id",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *id = (const char *) sqlite3_column_text (stmt, 0);
      const char *currency = (const char *) sqlite3_column_text (stmt, 1);
      gint64 sum = sqlite3_column_int64 (stmt, 2);
      gint64 balance = G_MININT64;
      RecoupAgingRow row = { 0 };
      gint64 *total;

      g_assert_true (recoup_ledger_balance (book, id, TODAY, &balance, &error));
      g_assert_no_error (error);
      g_assert_cmpint (balance, ==, sum);
      g_assert_true (recoup_ledger_account_aging (book, id, TODAY, &row, &error));
      g_assert_no_error (error);
      g_assert_cmpint (row.total, ==, sum);
      g_free (row.currency);

      if (!(total = g_hash_table_lookup (by_currency, currency)))
        {
          total = g_new0 (gint64, 1);
          g_hash_table_insert (by_currency, g_strdup (currency), total);
        }
      *total += sum;
      n++;
    }
  sqlite3_finalize (stmt);
  g_assert_cmpuint (n, ==, N_ACCOUNTS);

  summary = recoup_aging_summary (book, TODAY, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (summary->len, ==, g_hash_table_size (by_currency));
  for (guint i = 0; i < summary->len; i++)
    {
      RecoupAgingRow *row = g_ptr_array_index (summary, i);
      gint64 *total = g_hash_table_lookup (by_currency, row->currency);
      gint64 buckets = row->credit;

      g_assert_nonnull (total);
      g_assert_cmpint (row->total, ==, *total);
      for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
        buckets += row->buckets[b];
      g_assert_cmpint (buckets, ==, row->total);
    }

  /* Nothing dated on or after today. */
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM ledger_entries WHERE effective_date >= '" TODAY "'"),
                   ==, 0);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM invoices WHERE issue_date >= '" TODAY "'"), ==, 0);
}

static void
test_realistic (void)
{
  RecoupBook *book = shared.book;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) summary = recoup_aging_summary (book, TODAY, &error);
  g_autoptr(GHashTable) zones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify) g_time_zone_unref);
  guint nonempty = 0;
  sqlite3_stmt *stmt = NULL;
  gint64 n_activities = 0;
  gint32 today = recoup_date_parse (TODAY, NULL);

  g_assert_no_error (error);
  for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
    {
      gint64 sum = 0;

      for (guint i = 0; i < summary->len; i++)
        sum += ((RecoupAgingRow *) g_ptr_array_index (summary, i))->buckets[b];
      if (sum > 0)
        nonempty++;
    }
  g_assert_cmpuint (nonempty, ==, RECOUP_AGING_N_BUCKETS);

  /* The US and Europe, in their own currencies. */
  g_assert_cmpint (query_int (book, "SELECT count(DISTINCT timezone) FROM accounts"), >=, 10);
  g_assert_cmpint (query_int (book, "SELECT count(DISTINCT currency) FROM accounts WHERE currency IN ('USD','EUR','GBP')"), ==, 3);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM accounts WHERE timezone LIKE 'America/%' AND currency <> 'USD'"), ==, 0);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM accounts WHERE timezone = 'Europe/London' AND currency <> 'GBP'"), ==, 0);

  /* Balances spread from tens to tens of thousands. */
  g_assert_cmpint (query_int (book, "SELECT min(amount) FROM invoices"), <, 20000);
  g_assert_cmpint (query_int (book, "SELECT max(amount) FROM invoices"), >, 1000000);
  g_assert_cmpint (query_int (book, "SELECT max(n) FROM (SELECT count(*) n FROM invoices GROUP BY account_id)"), ==, 5);
  g_assert_cmpint (query_int (book, "SELECT min(n) FROM (SELECT count(*) n FROM invoices GROUP BY account_id)"), ==, 1);

  /* Histories: partial payments, bounced cheques, promises, disputes, opt-outs, flags. */
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM ledger_entries WHERE kind = 'payment'"), >, N_ACCOUNTS / 2);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM ledger_entries WHERE kind = 'reversal'"), >, 0);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM ledger_entries r JOIN ledger_entries p ON p.id = r.reverses_id"
                                    " WHERE p.method <> 'cheque'"), ==, 0);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM contact_points WHERE opted_out = 1"), >, 0);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM promises"), >, N_ACCOUNTS / 10);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM disputes WHERE status = 'open'"), >, 0);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM disputes WHERE status <> 'open'"), >, 0);
  g_assert_cmpint (query_int (book, "SELECT sum(cease_communication) + sum(attorney_represented) + sum(bankruptcy)"
                                    " FROM accounts"), >, 0);
  g_assert_cmpint (query_int (book, "SELECT count(DISTINCT stage) FROM accounts"), >=, 4);
  g_assert_cmpint (query_int (book, "SELECT count(DISTINCT outcome) FROM activities WHERE channel = 'call'"), >=, 6);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM users"), >=, 4);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM users"), <=, 6);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM users WHERE role = 'bookkeeper'"), ==, 1);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM accounts a JOIN users u ON u.id = a.assigned_to"
                                    " WHERE u.role = 'collector'"), >, N_ACCOUNTS * 8 / 10);

  /* Promise statuses are derived from the ledger: some kept, some broken. */
  {
    guint kept = 0, broken = 0;

    g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book),
                                         "SELECT DISTINCT account_id FROM promises", -1, &stmt, NULL), ==, SQLITE_OK);
    while (sqlite3_step (stmt) == SQLITE_ROW)
      {
        g_autoptr(GPtrArray) list = recoup_promise_list (book, (const char *) sqlite3_column_text (stmt, 0),
                                                         TODAY, &error);

        g_assert_no_error (error);
        for (guint i = 0; i < list->len; i++)
          {
            RecoupPromise *p = g_ptr_array_index (list, i);

            kept += p->status == RECOUP_PROMISE_KEPT;
            broken += p->status == RECOUP_PROMISE_BROKEN;
          }
      }
    sqlite3_finalize (stmt);
    g_assert_cmpuint (kept, >, 0);
    g_assert_cmpuint (broken, >, 0);
  }

  /* Every contact happened before today, in the account's local waking hours. */
  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book),
                                       "SELECT v.at, a.timezone FROM activities v JOIN accounts a ON a.id = v.account_id",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *tz_name = (const char *) sqlite3_column_text (stmt, 1);
      GTimeZone *tz = g_hash_table_lookup (zones, tz_name);
      g_autoptr(GDateTime) dt = NULL;
      int hour;

      if (tz == NULL)
        {
          tz = g_time_zone_new_identifier (tz_name);
          g_assert_nonnull (tz);
          g_hash_table_insert (zones, g_strdup (tz_name), tz);
        }
      dt = g_date_time_new_from_unix_utc (sqlite3_column_int64 (stmt, 0) / 1000);
      g_assert_nonnull (dt);
      {
        g_autoptr(GDateTime) local = g_date_time_to_timezone (dt, tz);

        hour = g_date_time_get_hour (local);
        g_assert_cmpint (hour, >=, 7);
        g_assert_cmpint (hour, <, 22);
        g_assert_cmpint (recoup_date_from_unix_ms (sqlite3_column_int64 (stmt, 0), tz), <, today);
      }
      n_activities++;
    }
  sqlite3_finalize (stmt);
  g_assert_cmpint (n_activities, >, N_ACCOUNTS * 2);

  g_assert_true (recoup_book_check_integrity (book, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_book_count_changes (book), >, n_activities);
}

static void
progress_cb (guint64  done,
             guint64  total,
             gpointer user_data)
{
  GCancellable *cancellable = user_data;

  g_assert_cmpuint (done, <=, total);
  g_cancellable_cancel (cancellable);
}

static void
test_cancel_and_refuse (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (shared.dir, "cancel.recoup", NULL);
  g_autoptr(RecoupBook) book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  RecoupDemoOptions options = { .n_accounts = 12000, .seed = 3, .today = TODAY };
  RecoupDemoOptions future = { .n_accounts = 10, .seed = 3, .today = "2999-01-01" };
  RecoupDemoCounts counts;
  gint64 changes;

  g_assert_no_error (error);

  /* A day in the future is refused before anything is written. */
  changes = recoup_book_count_changes (book);
  g_assert_false (recoup_demo_generate (book, &future, NULL, NULL, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (book), ==, changes);

  /* Cancelled after the first batch: that batch stays, the next one is rolled back. */
  g_assert_false (recoup_demo_generate_counted (book, &options, progress_cb, cancellable, cancellable,
                                                &counts, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (counts.accounts, ==, 5000);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM accounts"), ==, 5000);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM invoices"), ==, (gint64) counts.invoices);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM activities"), ==, (gint64) counts.activities);
  g_assert_false (recoup_book_in_transaction (book));
  g_assert_true (recoup_book_check_integrity (book, &error));
  g_assert_no_error (error);
}

static char *
run_cli (const char  *book_path,
         int         *out_status,
         char       **out_err,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  int wait_status = 0;
  va_list ap;

  g_ptr_array_add (args, (char *) g_getenv ("RECOUP_CLI"));
  g_ptr_array_add (args, (char *) "--book");
  g_ptr_array_add (args, (char *) book_path);
  va_start (ap, out_err);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  g_assert_true (g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, out_err, &wait_status, &error));
  g_assert_no_error (error);
  *out_status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  return out;
}

static void
test_cli (void)
{
  g_autofree char *path = g_build_filename (shared.dir, "cli.recoup", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  int status;

  if (g_getenv ("RECOUP_CLI") == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }

  out = run_cli (path, &status, &err, "demo", "--accounts", "40", "--seed", "5", "--today", TODAY, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "Made 40 demo accounts"));
  g_assert_nonnull (strstr (out, "USD"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A book with accounts is not filled again without --force. */
  out = run_cli (path, &status, &err, "demo", "--accounts", "10", "--today", TODAY, NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "already has accounts"));
  g_assert_nonnull (strstr (err, "--force"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  out = run_cli (path, &status, &err, "demo", "--accounts", "10", "--today", TODAY, "--force", "--json", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "\"accounts\" : 10"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  out = run_cli (path, &status, &err, "demo", "--accounts", "0", NULL);
  g_assert_cmpint (status, ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = run_cli (path, &status, &err, "demo", "--today", "2026-02-30", NULL);
  g_assert_cmpint (status, ==, 2);

  book = recoup_book_open (path, RECOUP_BOOK_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM accounts"), ==, 50);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM accounts WHERE ref = 'ACC-0000050'"), ==, 1);
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

static char *
dispute_times_digest (RecoupBook *book)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book),
                                       "SELECT a.ref, i.ref, d.status, d.opened_at, d.resolved_at FROM disputes d"
                                       " JOIN accounts a ON a.id = d.account_id"
                                       " LEFT JOIN invoices i ON i.id = d.invoice_id ORDER BY 1, 4, 2",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    for (int c = 0; c < sqlite3_column_count (stmt); c++)
      {
        const char *text = (const char *) sqlite3_column_text (stmt, c);

        g_checksum_update (sum, (const guchar *) (text ? text : "\x01NULL"), -1);
        g_checksum_update (sum, (const guchar *) "\x1f", 1);
      }
  sqlite3_finalize (stmt);
  return g_strdup (g_checksum_get_string (sum));
}

/* Disputes happen in the seeded history, not when the demo runs: each opens
 * at the call in which the customer raised it (on or before today), on an
 * invoice issued by then, and a resolved one is resolved later, by today.
 * The same seed and day give the same times. */
static void
test_dispute_times (void)
{
  RecoupBook *book = shared.book;
  g_autoptr(RecoupBook) again = make_book ("disputes-again.recoup", 7, N_ACCOUNTS);
  g_autofree char *a = dispute_times_digest (book);
  g_autofree char *b = dispute_times_digest (again);
  /* The end of today, UTC, in milliseconds. */
  const char *end_of_today = "(strftime('%s', '" TODAY "', '+1 day') * 1000)";
  g_autofree char *after_today = g_strdup_printf ("SELECT count(*) FROM disputes WHERE opened_at >= %s"
                                                  " OR resolved_at >= %s", end_of_today, end_of_today);

  g_assert_cmpint (query_int (book, "SELECT count(*) FROM disputes"), >, 0);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM disputes WHERE status <> 'open'"), >, 0);
  g_assert_cmpstr (a, ==, b);

  g_assert_cmpint (query_int (book, after_today), ==, 0);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM disputes WHERE (status = 'open') <> (resolved_at IS NULL)"),
                   ==, 0);
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM disputes WHERE resolved_at <= opened_at"), ==, 0);
  /* Opened by the call that raised it: an activity with the dispute outcome at that instant. */
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM disputes d WHERE NOT EXISTS (SELECT 1 FROM activities v"
                                    " WHERE v.account_id = d.account_id AND v.outcome = 'dispute'"
                                    " AND v.at = d.opened_at)"), ==, 0);
  /* Calls are in the account's local daytime, so its UTC date is never
   * earlier than the local one the invoice's issue date compares with. */
  g_assert_cmpint (query_int (book, "SELECT count(*) FROM disputes d JOIN invoices i ON i.id = d.invoice_id"
                                    " WHERE i.issue_date > date(d.opened_at / 1000, 'unixepoch')"), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  shared.dir = g_dir_make_tmp ("recoup-test-demo-XXXXXX", &error);
  g_assert_no_error (error);
  shared.book = make_book ("seed7.recoup", 7, N_ACCOUNTS);

  g_test_add_func ("/recoup/core/demo/deterministic", test_deterministic);
  g_test_add_func ("/recoup/core/demo/ledger-invariant", test_ledger_invariant);
  g_test_add_func ("/recoup/core/demo/realistic", test_realistic);
  g_test_add_func ("/recoup/core/demo/dispute-times", test_dispute_times);
  g_test_add_func ("/recoup/core/demo/cancel-and-refuse", test_cancel_and_refuse);
  g_test_add_func ("/recoup/core/demo/cli", test_cli);
  status = g_test_run ();

  g_clear_object (&shared.book);
  remove_dir (shared.dir);
  g_free (shared.dir);
  return status;
}
