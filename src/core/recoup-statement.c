/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-report"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-ledger-private.h"
#include "recoup-money.h"
#include "recoup-offer.h"
#include "recoup-statement.h"

/* ---- Periods ---------------------------------------------------------------- */

RecoupPeriodCheck
recoup_period_check (const char  *from,
                     const char  *to,
                     GError     **error)
{
  g_autoptr(GError) local = NULL;
  gint32 f, t;

  if (from == NULL || (f = recoup_date_parse (from, &local)) == RECOUP_DATE_INVALID)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           local != NULL ? local->message : _("the period has no start date (YYYY-MM-DD)"));
      return RECOUP_PERIOD_BAD_FROM;
    }
  if (to == NULL || (t = recoup_date_parse (to, &local)) == RECOUP_DATE_INVALID)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           local != NULL ? local->message : _("the period has no end date (YYYY-MM-DD)"));
      return RECOUP_PERIOD_BAD_TO;
    }
  if (t < f)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the period's last day, then its first, YYYY-MM-DD */
                   _("the period ends on %s, before it starts on %s; swap the dates"), to, from);
      return RECOUP_PERIOD_REVERSED;
    }
  return RECOUP_PERIOD_VALID;
}

gboolean
recoup_period_validate (const char  *from,
                        const char  *to,
                        GError     **error)
{
  g_autoptr(GError) local = NULL;

  switch (recoup_period_check (from, to, &local))
    {
    case RECOUP_PERIOD_VALID:
      return TRUE;
    case RECOUP_PERIOD_BAD_FROM:
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: %s says why the period's first day is not a date */
                   _("the period's start: %s"), local->message);
      return FALSE;
    case RECOUP_PERIOD_BAD_TO:
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: %s says why the period's last day is not a date */
                   _("the period's end: %s"), local->message);
      return FALSE;
    case RECOUP_PERIOD_REVERSED:
    default:
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
}

/* ---- Statements ------------------------------------------------------------- */

const char *
recoup_statement_kind_label (const char *kind)
{
  static const struct { const char *kind, *label; } labels[] = {
    { "charge", "Charge" },
    { "payment", "Payment" },
    { "fee", "Fee" },
    { "interest", "Interest" },
    { "adjustment", "Adjustment" },
    { "waiver", "Waiver" },
    { "discount", "Settlement discount" },
    { "write-off", "Write-off" },
    { "reversal", "Reversal" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_strcmp0 (kind, labels[i].kind) == 0)
      return labels[i].label;
  return kind;
}

static const char *
method_label (const char *method)
{
  if (g_strcmp0 (method, "bank-transfer") == 0)
    return "bank transfer";
  return method;
}

static char *
describe_line (sqlite3_stmt *s)
{
  const char *kind = RECOUP_BOOK_STMT_TEXT (s, 1);
  const char *inv_ref = RECOUP_BOOK_STMT_TEXT (s, 3);
  const char *inv_desc = RECOUP_BOOK_STMT_TEXT (s, 4);
  const char *method = RECOUP_BOOK_STMT_TEXT (s, 6);
  const char *payer_ref = RECOUP_BOOK_STMT_TEXT (s, 7);
  const char *receipt = RECOUP_BOOK_STMT_TEXT (s, 8);
  const char *memo = RECOUP_BOOK_STMT_TEXT (s, 9);
  const char *rev_kind = RECOUP_BOOK_STMT_TEXT (s, 10);
  const char *rev_date = RECOUP_BOOK_STMT_TEXT (s, 11);
  const char *waived_kind = RECOUP_BOOK_STMT_TEXT (s, 13);
  const char *waived_date = RECOUP_BOOK_STMT_TEXT (s, 14);
  GString *d = g_string_new (NULL);

  if (g_strcmp0 (kind, "charge") == 0 && inv_ref != NULL)
    {
      g_string_append_printf (d, "Invoice %s", inv_ref);
      if (inv_desc != NULL && *inv_desc != '\0')
        g_string_append_printf (d, ": %s", inv_desc);
    }
  else if (g_strcmp0 (kind, "payment") == 0)
    {
      g_string_append (d, "Payment");
      /* "other" says nothing to the customer (the CLI's default when no
       * method is given). */
      if (method != NULL && *method != '\0' && g_strcmp0 (method, "other") != 0)
        g_string_append_printf (d, " by %s", method_label (method));
      /* The reference column holds the receipt; the payer's own goes here. */
      if (payer_ref != NULL && *payer_ref != '\0' && receipt != NULL && *receipt != '\0')
        g_string_append_printf (d, ", reference %s", payer_ref);
    }
  else if (g_strcmp0 (kind, "reversal") == 0 && rev_kind != NULL)
    {
      g_autofree char *what = g_ascii_strdown (recoup_statement_kind_label (rev_kind), -1);

      g_string_append_printf (d, "Reversal of %s of %s", what, rev_date);
    }
  else if (g_strcmp0 (kind, "waiver") == 0 && waived_kind != NULL)
    {
      g_autofree char *what = g_ascii_strdown (recoup_statement_kind_label (waived_kind), -1);

      g_string_append_printf (d, "Waiver of %s of %s", what, waived_date);
    }
  else
    g_string_append (d, recoup_statement_kind_label (kind));

  if (inv_ref != NULL && g_strcmp0 (kind, "charge") != 0)
    g_string_append_printf (d, " (invoice %s)", inv_ref);
  /* What an offer wrote carries Recoup's own note with the offer's id
   * ("fee waived by offer 01a2…"): nothing the customer can read. */
  if (memo != NULL && *memo != '\0' && g_strcmp0 (memo, inv_desc) != 0 && !sqlite3_column_int (s, 15))
    {
      const char *note = recoup_ledger_memo_dispute_note (memo);

      /* An upheld dispute's write-off or adjustment: the customer reads that
       * the dispute was upheld and the resolution's note, never its id. */
      if (note == NULL)
        g_string_append_printf (d, " — %s", memo);
      else if (*note != '\0')
        g_string_append_printf (d, " — dispute upheld: %s", note);
      else
        g_string_append (d, " — dispute upheld");
    }
  return g_string_free (d, FALSE);
}

static gboolean
load_account_header (RecoupBook       *book,
                     RecoupStatement  *st,
                     GError          **error)
{
  sqlite3_stmt *s = recoup_book_prepare (book,
    "SELECT ref, name, currency FROM accounts WHERE id = ? AND deleted = 0", error);

  if (s == NULL)
    return FALSE;
  sqlite3_bind_text (s, 1, st->account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (s) != SQLITE_ROW)
    {
      sqlite3_reset (s);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "no account “%s”; list them with “recoup-cli accounts”", st->account_id);
      return FALSE;
    }
  st->account_ref = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 0));
  st->account_name = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 1));
  st->currency = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 2));
  sqlite3_reset (s);

  s = recoup_book_prepare (book,
    "SELECT kind, value FROM contact_points WHERE account_id = ? AND deleted = 0"
    " AND kind IN ('address', 'email') ORDER BY is_primary DESC, created_at, id", error);
  if (s == NULL)
    return FALSE;
  sqlite3_bind_text (s, 1, st->account_id, -1, SQLITE_STATIC);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      const char *kind = RECOUP_BOOK_STMT_TEXT (s, 0);

      if (st->address == NULL && g_str_equal (kind, "address"))
        st->address = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 1));
      else if (st->email == NULL && g_str_equal (kind, "email"))
        st->email = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 1));
    }
  sqlite3_reset (s);
  return TRUE;
}

static gboolean
load_plan (RecoupBook       *book,
           RecoupStatement  *st,
           GError          **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(RecoupOffer) plan = recoup_offer_current_plan (book, st->account_id, st->to, &local);

  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (plan == NULL)
    return TRUE;
  st->plan_id = g_strdup (plan->id);
  st->plan_state = g_strdup (recoup_offer_state_to_string (plan->state));
  st->plan_total = plan->total;
  st->plan_paid = plan->paid;
  for (guint i = 0; i < plan->schedule->len; i++)
    {
      RecoupInstallment *it = &g_array_index (plan->schedule, RecoupInstallment, i);
      RecoupStatementInstallment *si;

      if (it->paid >= it->amount)
        continue;
      si = g_new0 (RecoupStatementInstallment, 1);
      si->seq = it->seq;
      si->due_date = recoup_date_format (it->due_day);
      si->amount = it->amount;
      si->paid = it->paid;
      si->status = g_strdup (recoup_installment_status_to_string (it->status));
      g_ptr_array_add (st->plan_remaining, si);
    }
  return TRUE;
}

static void
statement_line_free (RecoupStatementLine *line)
{
  g_free (line->id);
  g_free (line->kind);
  g_free (line->date);
  g_free (line->description);
  g_free (line->invoice_ref);
  g_free (line->reference);
  g_free (line);
}

static void
statement_installment_free (RecoupStatementInstallment *si)
{
  g_free (si->due_date);
  g_free (si->status);
  g_free (si);
}

/**
 * recoup_statement_build:
 *
 * The statement of @account_id for [@from, @to]. The closing balance is checked
 * against recoup_ledger_balance(): a disagreement is a bug and fails loudly
 * rather than printing a wrong number on a customer's statement.
 */
RecoupStatement *
recoup_statement_build (RecoupBook  *book,
                        const char  *account_id,
                        const char  *from,
                        const char  *to,
                        GError     **error)
{
  g_autoptr(RecoupStatement) st = NULL;
  sqlite3_stmt *s;
  gint64 running, ledger_closing = 0;

  if (!recoup_period_validate (from, to, error))
    return NULL;

  st = g_new0 (RecoupStatement, 1);
  st->account_id = g_strdup (account_id);
  st->from = g_strdup (from);
  st->to = g_strdup (to);
  st->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) statement_line_free);
  st->plan_remaining = g_ptr_array_new_with_free_func ((GDestroyNotify) statement_installment_free);

  if (!load_account_header (book, st, error))
    return NULL;

  s = recoup_book_prepare (book,
    "SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE account_id = ? AND effective_date < ?", error);
  if (s == NULL)
    return NULL;
  sqlite3_bind_text (s, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, from, -1, SQLITE_STATIC);
  if (sqlite3_step (s) != SQLITE_ROW)
    {
      sqlite3_reset (s);
      recoup_book_set_sqlite_error (book, error);
      return NULL;
    }
  st->opening = sqlite3_column_int64 (s, 0);
  sqlite3_reset (s);

  s = recoup_book_prepare (book,
    "SELECT l.id, l.kind, l.effective_date, i.ref, i.description, l.amount, l.method,"
    " l.reference, l.receipt_no, l.memo, r.kind, r.effective_date, r.receipt_no, w.kind, w.effective_date,"
    " l.offer_id IS NOT NULL"
    " FROM ledger_entries l"
    " LEFT JOIN invoices i ON i.id = l.invoice_id"
    " LEFT JOIN ledger_entries r ON r.id = l.reverses_id"
    " LEFT JOIN ledger_entries w ON w.id = l.waives_id"
    " WHERE l.account_id = ? AND l.effective_date >= ? AND l.effective_date <= ?"
    " ORDER BY l.effective_date, l.id", error);
  if (s == NULL)
    return NULL;
  sqlite3_bind_text (s, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 3, to, -1, SQLITE_STATIC);
  running = st->opening;
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      RecoupStatementLine *line = g_new0 (RecoupStatementLine, 1);
      const char *reference = RECOUP_BOOK_STMT_TEXT (s, 8);

      /* Recoup's receipt number first: the customer holds the receipt, and a
       * reversal shows the receipt of the payment it undoes, so the two pair
       * up. The payer's own reference (a cheque number) is in the
       * description. */
      if (reference == NULL || *reference == '\0')
        reference = RECOUP_BOOK_STMT_TEXT (s, 12);
      if (reference == NULL || *reference == '\0')
        reference = RECOUP_BOOK_STMT_TEXT (s, 7);
      line->id = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 0));
      line->kind = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 1));
      line->date = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 2));
      line->invoice_ref = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 3));
      line->reference = g_strdup (reference);
      line->description = describe_line (s);
      line->amount = sqlite3_column_int64 (s, 5);
      running += line->amount;
      line->balance = running;
      if (line->amount > 0)
        st->debits += line->amount;
      else
        st->credits += line->amount;
      g_ptr_array_add (st->lines, line);
    }
  sqlite3_reset (s);
  st->closing = running;

  if (!recoup_ledger_balance (book, account_id, to, &ledger_closing, error))
    return NULL;
  if (ledger_closing != st->closing)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "statement of %s: closing balance %" G_GINT64_FORMAT " disagrees with the ledger's %"
                   G_GINT64_FORMAT "; run “recoup-cli check” and report this bug",
                   st->account_ref, st->closing, ledger_closing);
      return NULL;
    }

  if (!recoup_ledger_account_aging (book, account_id, to, &st->aging, error))
    return NULL;
  if (!load_plan (book, st, error))
    return NULL;
  return g_steal_pointer (&st);
}

GPtrArray *
recoup_statement_accounts_for_period (RecoupBook  *book,
                                      const char  *from,
                                      const char  *to,
                                      GError     **error)
{
  g_autofree char *today = NULL;
  sqlite3_stmt *s;
  GPtrArray *ids;

  if (to == NULL)
    to = today = recoup_book_today (book);
  else if (recoup_date_parse (to, error) == RECOUP_DATE_INVALID)
    return NULL;
  if (from != NULL && recoup_date_parse (from, error) == RECOUP_DATE_INVALID)
    return NULL;
  /* An account paid off during the period has a statement too: the
   * bookkeeper's record of the month shows how it was settled. */
  s = recoup_book_prepare (book,
    "SELECT a.id FROM accounts a"
    " JOIN (SELECT account_id, sum (amount) AS balance, max (effective_date >= ?2) AS active"
    "       FROM ledger_entries WHERE effective_date <= ?1 GROUP BY account_id) b ON b.account_id = a.id"
    " WHERE (b.balance != 0 OR b.active) AND a.deleted = 0 ORDER BY a.ref", error);
  if (s == NULL)
    return NULL;
  ids = g_ptr_array_new_with_free_func (g_free);
  sqlite3_bind_text (s, 1, to, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, from, -1, SQLITE_STATIC);
  while (sqlite3_step (s) == SQLITE_ROW)
    g_ptr_array_add (ids, g_strdup (RECOUP_BOOK_STMT_TEXT (s, 0)));
  sqlite3_reset (s);
  return ids;
}

static char *
setting_or (RecoupBook *book,
            const char *key,
            const char *fallback)
{
  char *value = recoup_book_get_setting (book, key);

  if (value != NULL && *value != '\0')
    return value;
  g_free (value);
  return g_strdup (fallback);
}

static void
unescape_newlines (char *text)
{
  char *w = text;

  if (text == NULL)
    return;
  for (const char *r = text; *r != '\0'; r++)
    {
      if (r[0] == '\\' && r[1] == 'n')
        {
          *w++ = '\n';
          r++;
        }
      else
        *w++ = *r;
    }
  *w = '\0';
}

RecoupBusinessInfo *
recoup_business_info_load (RecoupBook *book)
{
  RecoupBusinessInfo *info = g_new0 (RecoupBusinessInfo, 1);

  info->name = setting_or (book, "business.name", "Recoup");
  info->address = setting_or (book, "business.address", NULL);
  info->email = setting_or (book, "business.email", NULL);
  info->phone = setting_or (book, "business.phone", NULL);
  info->payment_instructions = setting_or (book, "business.payment_instructions", NULL);
  info->logo_path = setting_or (book, "business.logo_path", NULL);
  info->paper = setting_or (book, "report.paper", NULL);
  /* Settings typed on a command line hold "\\n" as two characters. */
  unescape_newlines (info->address);
  unescape_newlines (info->payment_instructions);
  return info;
}

void
recoup_statement_free (RecoupStatement *st)
{
  if (st == NULL)
    return;
  g_free (st->account_id);
  g_free (st->account_ref);
  g_free (st->account_name);
  g_free (st->address);
  g_free (st->email);
  g_free (st->currency);
  g_free (st->from);
  g_free (st->to);
  g_clear_pointer (&st->lines, g_ptr_array_unref);
  g_free (st->aging.currency);
  g_free (st->plan_id);
  g_free (st->plan_state);
  g_clear_pointer (&st->plan_remaining, g_ptr_array_unref);
  g_free (st);
}

void
recoup_business_info_free (RecoupBusinessInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->address);
  g_free (info->email);
  g_free (info->phone);
  g_free (info->payment_instructions);
  g_free (info->logo_path);
  g_free (info->paper);
  g_free (info);
}

/* ---- Aging report ----------------------------------------------------------- */

gboolean
recoup_aging_group_from_string (const char       *text,
                                RecoupAgingGroup *out_group)
{
  if (g_strcmp0 (text, "account") == 0)
    *out_group = RECOUP_AGING_BY_ACCOUNT;
  else if (g_strcmp0 (text, "collector") == 0)
    *out_group = RECOUP_AGING_BY_COLLECTOR;
  else if (g_strcmp0 (text, "segment") == 0)
    *out_group = RECOUP_AGING_BY_SEGMENT;
  else
    return FALSE;
  return TRUE;
}

const char *
recoup_aging_group_to_string (RecoupAgingGroup group)
{
  switch (group)
    {
    case RECOUP_AGING_BY_ACCOUNT: return "account";
    case RECOUP_AGING_BY_COLLECTOR: return "collector";
    case RECOUP_AGING_BY_SEGMENT: return "segment";
    default: return "account";
    }
}

static gboolean
table_exists (RecoupBook *book,
              const char *name)
{
  sqlite3_stmt *s = recoup_book_prepare (book,
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", NULL);
  gboolean found;

  if (s == NULL)
    return FALSE;
  sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
  found = sqlite3_step (s) == SQLITE_ROW;
  sqlite3_reset (s);
  return found;
}

/* Ages one account into a report row with the ledger's own bucket rule. */
static gint64
add_allocation (RecoupAgingReportRow *row,
                RecoupAllocator      *alloc,
                gint32                as_of_day)
{
  gint64 total = recoup_allocator_age (alloc, as_of_day, row->buckets, &row->credit);

  row->total += total;
  return total;
}

typedef struct
{
  RecoupBook       *book;
  RecoupAgingGroup  group;
  gint32            as_of_day;
  GHashTable       *rows;      /* "currency\x1fkey" -> RecoupAgingReportRow */
  sqlite3_stmt     *accounts;  /* accounts by id, stepped in lock-step with the ledger */
  gboolean          accounts_done;
} AgingScan;

static void
aging_flush (AgingScan       *scan,
             const char      *account_id,
             const char      *currency,
             RecoupAllocator *alloc)
{
  RecoupAgingReportRow probe = { 0 };
  RecoupAgingReportRow *row;
  const char *key = "", *label = "";
  g_autofree char *hkey = NULL;
  gint64 total;

  recoup_allocator_finish (alloc);
  total = add_allocation (&probe, alloc, scan->as_of_day);
  if (total == 0 && probe.credit == 0)
    {
      gboolean empty = TRUE;

      for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
        empty = empty && probe.buckets[b] == 0;
      if (empty)
        return;
    }

  /* Merge join: both scans run in account id order. */
  while (!scan->accounts_done)
    {
      const char *id = RECOUP_BOOK_STMT_TEXT (scan->accounts, 0);
      int cmp = strcmp (id, account_id);

      if (cmp == 0)
        {
          if (scan->group == RECOUP_AGING_BY_ACCOUNT)
            {
              key = RECOUP_BOOK_STMT_TEXT (scan->accounts, 1);
              label = RECOUP_BOOK_STMT_TEXT (scan->accounts, 2);
            }
          else
            {
              key = RECOUP_BOOK_STMT_TEXT (scan->accounts, 3);
              if (key == NULL)
                key = "";
              label = key;
            }
          break;
        }
      if (cmp > 0)
        break;
      scan->accounts_done = sqlite3_step (scan->accounts) != SQLITE_ROW;
    }

  hkey = g_strconcat (currency, "\x1f", key, NULL);
  row = g_hash_table_lookup (scan->rows, hkey);
  if (row == NULL)
    {
      row = g_new0 (RecoupAgingReportRow, 1);
      row->key = g_strdup (key);
      row->label = g_strdup (label);
      row->currency = g_strdup (currency);
      g_hash_table_insert (scan->rows, g_steal_pointer (&hkey), row);
    }
  for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
    row->buckets[b] += probe.buckets[b];
  row->credit += probe.credit;
  row->total += probe.total;
  if (probe.total != 0)
    row->n_accounts++;
}

static int
compare_aging_rows (gconstpointer a,
                    gconstpointer b)
{
  const RecoupAgingReportRow *x = *(RecoupAgingReportRow * const *) a;
  const RecoupAgingReportRow *y = *(RecoupAgingReportRow * const *) b;
  int c = strcmp (x->currency, y->currency);

  return c != 0 ? c : strcmp (x->key, y->key);
}

GPtrArray *
recoup_aging_report (RecoupBook        *book,
                     const char        *as_of,
                     RecoupAgingGroup   group,
                     GError           **error)
{
  g_autoptr(GHashTable) rows = NULL;
  g_autofree char *today = NULL;
  AgingScan scan = { 0 };
  RecoupAllocator alloc;
  char current[40] = "", current_currency[8] = "";
  const char *accounts_sql;
  sqlite3_stmt *ledger;
  GHashTableIter iter;
  gpointer value;
  GPtrArray *result;
  int rc;

  if (as_of == NULL)
    as_of = today = recoup_book_today (book);
  if ((scan.as_of_day = recoup_date_parse (as_of, error)) == RECOUP_DATE_INVALID)
    return NULL;

  switch (group)
    {
    case RECOUP_AGING_BY_SEGMENT:
      if (!table_exists (book, "account_stats"))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "this book has no segments (no worklist statistics); use --by account or --by collector");
          return NULL;
        }
      accounts_sql = "SELECT a.id, a.ref, a.name, coalesce(s.segment, 'unscored')"
                     " FROM accounts a LEFT JOIN account_stats s ON s.account_id = a.id ORDER BY a.id";
      break;
    case RECOUP_AGING_BY_COLLECTOR:
      accounts_sql = "SELECT a.id, a.ref, a.name, coalesce(u.name, '(unassigned)')"
                     " FROM accounts a LEFT JOIN users u ON u.id = a.assigned_to ORDER BY a.id";
      break;
    case RECOUP_AGING_BY_ACCOUNT:
    default:
      accounts_sql = "SELECT a.id, a.ref, a.name, NULL FROM accounts a ORDER BY a.id";
      break;
    }

  rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  scan.book = book;
  scan.group = group;
  scan.rows = rows;
  /* Not a cached statement: the ledger scan below needs its own. */
  if (sqlite3_prepare_v2 (recoup_book_get_db (book), accounts_sql, -1, &scan.accounts, NULL) != SQLITE_OK)
    {
      recoup_book_set_sqlite_error (book, error);
      return NULL;
    }
  scan.accounts_done = sqlite3_step (scan.accounts) != SQLITE_ROW;

  ledger = recoup_book_prepare (book,
    "SELECT l.account_id, l.currency, l.id, l.invoice_id, i.due_date, l.effective_date, l.amount,"
    " coalesce (l.waives_id, l.reverses_id)"
    " FROM ledger_entries l LEFT JOIN invoices i ON i.id = l.invoice_id"
    " WHERE l.effective_date <= ? ORDER BY l.account_id", error);
  if (ledger == NULL)
    {
      sqlite3_finalize (scan.accounts);
      return NULL;
    }

  recoup_allocator_init (&alloc);
  sqlite3_bind_text (ledger, 1, as_of, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (ledger)) == SQLITE_ROW)
    {
      const char *account = RECOUP_BOOK_STMT_TEXT (ledger, 0);
      const char *due = RECOUP_BOOK_STMT_TEXT (ledger, 4);
      gint32 eff;

      if (strcmp (account, current) != 0)
        {
          if (current[0] != '\0')
            aging_flush (&scan, current, current_currency, &alloc);
          recoup_allocator_reset (&alloc);
          g_strlcpy (current, account, sizeof current);
          g_strlcpy (current_currency, RECOUP_BOOK_STMT_TEXT (ledger, 1), sizeof current_currency);
        }
      eff = recoup_date_parse (RECOUP_BOOK_STMT_TEXT (ledger, 5), NULL);
      recoup_allocator_add_entry (&alloc, RECOUP_BOOK_STMT_TEXT (ledger, 3), RECOUP_BOOK_STMT_TEXT (ledger, 2),
                                  RECOUP_BOOK_STMT_TEXT (ledger, 7), due ? recoup_date_parse (due, NULL) : eff,
                                  eff, sqlite3_column_int64 (ledger, 6));
    }
  if (rc == SQLITE_DONE && current[0] != '\0')
    aging_flush (&scan, current, current_currency, &alloc);
  sqlite3_reset (ledger);
  sqlite3_finalize (scan.accounts);
  recoup_allocator_clear (&alloc);
  if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      g_hash_table_iter_init (&iter, rows);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        recoup_aging_report_row_free (value);
      return NULL;
    }

  result = g_ptr_array_new_full (g_hash_table_size (rows), (GDestroyNotify) recoup_aging_report_row_free);
  g_hash_table_iter_init (&iter, rows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (result, value);
  g_ptr_array_sort (result, compare_aging_rows);
  return result;
}

/* ---- Payments report -------------------------------------------------------- */

GPtrArray *
recoup_payments_report (RecoupBook  *book,
                        const char  *from,
                        const char  *to,
                        GError     **error)
{
  sqlite3_stmt *s;
  GPtrArray *rows;

  if (!recoup_period_validate (from, to, error))
    return NULL;
  s = recoup_book_prepare (book,
    "SELECT l.id, l.effective_date, l.kind, a.ref, a.name, u.name, l.currency,"
    " coalesce(l.method, o.method), coalesce(l.reference, o.reference),"
    " coalesce(l.receipt_no, o.receipt_no), i.ref, l.amount"
    " FROM ledger_entries l"
    " JOIN accounts a ON a.id = l.account_id"
    " LEFT JOIN users u ON u.id = a.assigned_to"
    " LEFT JOIN ledger_entries o ON o.id = l.reverses_id"
    " LEFT JOIN invoices i ON i.id = l.invoice_id"
    " WHERE l.effective_date >= ? AND l.effective_date <= ?"
    " AND (l.kind = 'payment' OR (l.kind = 'reversal' AND o.kind = 'payment'))"
    " ORDER BY l.effective_date, l.id", error);
  if (s == NULL)
    return NULL;
  rows = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_payment_row_free);
  sqlite3_bind_text (s, 1, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, to, -1, SQLITE_STATIC);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      RecoupPaymentRow *r = g_new0 (RecoupPaymentRow, 1);

      r->entry_id = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 0));
      r->date = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 1));
      r->kind = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 2));
      r->account_ref = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 3));
      r->account_name = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 4));
      r->collector = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 5));
      r->currency = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 6));
      r->method = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 7));
      r->reference = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 8));
      r->receipt_no = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 9));
      r->invoice_ref = g_strdup (RECOUP_BOOK_STMT_TEXT (s, 10));
      r->amount = -sqlite3_column_int64 (s, 11);
      g_ptr_array_add (rows, r);
    }
  sqlite3_reset (s);
  return rows;
}

void
recoup_aging_report_row_free (RecoupAgingReportRow *row)
{
  if (row == NULL)
    return;
  g_free (row->key);
  g_free (row->label);
  g_free (row->currency);
  g_free (row);
}

void
recoup_payment_row_free (RecoupPaymentRow *r)
{
  if (r == NULL)
    return;
  g_free (r->entry_id);
  g_free (r->date);
  g_free (r->kind);
  g_free (r->account_ref);
  g_free (r->account_name);
  g_free (r->collector);
  g_free (r->currency);
  g_free (r->method);
  g_free (r->reference);
  g_free (r->receipt_no);
  g_free (r->invoice_ref);
  g_free (r);
}
