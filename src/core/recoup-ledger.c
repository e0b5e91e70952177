/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-ledger"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-escalation.h"
#include "recoup-id.h"
#include "recoup-ledger-private.h"
#include "recoup-merge.h"
#include "recoup-money.h"
#include "recoup-offer.h"

static const char * const entry_kinds[] = {
  "charge", "payment", "fee", "interest", "adjustment", "waiver", "discount", "write-off", "reversal",
};

static const char * const payment_methods[] = {
  "cash", "cheque", "card", "bank-transfer", "other", NULL
};

const char *
recoup_entry_kind_to_string (RecoupEntryKind kind)
{
  g_return_val_if_fail (kind <= RECOUP_ENTRY_REVERSAL, "adjustment");
  return entry_kinds[kind];
}

gboolean
recoup_entry_kind_from_string (const char      *text,
                               RecoupEntryKind *out_kind)
{
  guint i;

  if (!recoup_name_index (entry_kinds, G_N_ELEMENTS (entry_kinds), text, &i))
    return FALSE;
  *out_kind = (RecoupEntryKind) i;
  return TRUE;
}

/* An entry kind as a message names it; the book, the change log and the CLI
 * keep the untranslated word of entry_kinds. */
static const char *
entry_kind_label (RecoupEntryKind kind)
{
  switch (kind)
    {
    case RECOUP_ENTRY_CHARGE:     return C_("ledger entry", "charge");
    case RECOUP_ENTRY_PAYMENT:    return C_("ledger entry", "payment");
    case RECOUP_ENTRY_FEE:        return C_("ledger entry", "fee");
    case RECOUP_ENTRY_INTEREST:   return C_("ledger entry", "interest");
    case RECOUP_ENTRY_ADJUSTMENT: return C_("ledger entry", "adjustment");
    case RECOUP_ENTRY_WAIVER:     return C_("ledger entry", "waiver");
    case RECOUP_ENTRY_DISCOUNT:   return C_("ledger entry", "discount");
    case RECOUP_ENTRY_WRITE_OFF:  return C_("ledger entry", "write-off");
    case RECOUP_ENTRY_REVERSAL:   return C_("ledger entry", "reversal");
    default:                      g_return_val_if_reached ("?");
    }
}

const char *
recoup_aging_bucket_label (RecoupAgingBucket bucket)
{
  static const char * const labels[] = { "current", "1-30", "31-60", "61-90", "91-180", "181+" };

  g_return_val_if_fail (bucket < RECOUP_AGING_N_BUCKETS, "?");
  return labels[bucket];
}

RecoupAgingBucket
recoup_aging_bucket_for_days (int days)
{
  if (days <= 0)
    return RECOUP_AGING_CURRENT;
  if (days <= 30)
    return RECOUP_AGING_1_30;
  if (days <= 60)
    return RECOUP_AGING_31_60;
  if (days <= 90)
    return RECOUP_AGING_61_90;
  if (days <= 180)
    return RECOUP_AGING_91_180;
  return RECOUP_AGING_181_PLUS;
}

/* ---- Allocation ------------------------------------------------------------ */

void
recoup_allocator_init (RecoupAllocator *alloc)
{
  alloc->items = g_array_new (FALSE, FALSE, sizeof (RecoupAllocItem));
  alloc->pool = 0;
}

void
recoup_allocator_clear (RecoupAllocator *alloc)
{
  g_clear_pointer (&alloc->items, g_array_unref);
}

void
recoup_allocator_reset (RecoupAllocator *alloc)
{
  g_array_set_size (alloc->items, 0);
  alloc->pool = 0;
}

void
recoup_allocator_add_entry (RecoupAllocator *alloc,
                            const char      *invoice_id,
                            const char      *entry_id,
                            const char      *nets_into,
                            gint32           due_day,
                            gint32           effective_day,
                            gint64           amount)
{
  RecoupAllocItem item = { 0 };

  if (invoice_id != NULL)
    {
      g_strlcpy (item.id, invoice_id, sizeof item.id);
      item.due_day = due_day;
    }
  else
    {
      g_strlcpy (item.id, nets_into != NULL ? nets_into : entry_id, sizeof item.id);
      item.due_day = effective_day;
    }
  item.net = amount;
  g_array_append_val (alloc->items, item);
}

static int
compare_item_ids (gconstpointer a,
                  gconstpointer b)
{
  const RecoupAllocItem *x = a;
  const RecoupAllocItem *y = b;

  return strcmp (x->id, y->id);
}

static int
compare_items (gconstpointer a,
               gconstpointer b)
{
  const RecoupAllocItem *x = a;
  const RecoupAllocItem *y = b;

  if (x->due_day != y->due_day)
    return x->due_day < y->due_day ? -1 : 1;
  return strcmp (x->id, y->id);
}

/* Nets the entries of each item into one, in place: the result does not
 * depend on the order the entries were added in. A reversal or a waiver is
 * dated on or after the entry it nets into, so the earlier day of an entry's
 * item is the entry's own. */
static void
merge_items (GArray *items)
{
  guint n = 0;

  g_array_sort (items, compare_item_ids);
  for (guint i = 0; i < items->len; i++)
    {
      RecoupAllocItem *it = &g_array_index (items, RecoupAllocItem, i);
      RecoupAllocItem *last = n > 0 ? &g_array_index (items, RecoupAllocItem, n - 1) : NULL;

      if (last != NULL && strcmp (last->id, it->id) == 0)
        {
          last->net += it->net;
          last->due_day = MIN (last->due_day, it->due_day);
        }
      else
        g_array_index (items, RecoupAllocItem, n++) = *it;
    }
  g_array_set_size (items, n);
}

void
recoup_allocator_finish (RecoupAllocator *alloc)
{
  merge_items (alloc->items);
  for (guint i = 0; i < alloc->items->len; i++)
    {
      RecoupAllocItem *it = &g_array_index (alloc->items, RecoupAllocItem, i);

      if (it->net < 0)
        {
          alloc->pool += it->net;
          it->net = 0;
        }
    }

  g_array_sort (alloc->items, compare_items);

  for (guint i = 0; i < alloc->items->len && alloc->pool < 0; i++)
    {
      RecoupAllocItem *it = &g_array_index (alloc->items, RecoupAllocItem, i);
      gint64 take = MIN (it->net, -alloc->pool);

      it->net -= take;
      alloc->pool += take;
    }
}

gboolean
recoup_ledger_allocate (RecoupBook      *book,
                        const char      *account_id,
                        gint32           as_of_day,
                        RecoupAllocator *alloc,
                        GError         **error)
{
  char as_of[11];
  int rc;
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT l.id, l.invoice_id, i.due_date, l.effective_date, l.amount, coalesce (l.waives_id, l.reverses_id)"
    " FROM ledger_entries l LEFT JOIN invoices i ON i.id = l.invoice_id"
    " WHERE l.account_id = ? AND l.effective_date <= ?", error);

  if (stmt == NULL)
    return FALSE;
  recoup_date_format_buf (as_of_day, as_of);
  recoup_allocator_reset (alloc);
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, as_of, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *due = RECOUP_BOOK_STMT_TEXT (stmt, 2);
      gint32 eff = recoup_date_parse (RECOUP_BOOK_STMT_TEXT (stmt, 3), NULL);

      recoup_allocator_add_entry (alloc, RECOUP_BOOK_STMT_TEXT (stmt, 1), RECOUP_BOOK_STMT_TEXT (stmt, 0),
                                  RECOUP_BOOK_STMT_TEXT (stmt, 5), due ? recoup_date_parse (due, NULL) : eff,
                                  eff, sqlite3_column_int64 (stmt, 4));
    }
  if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  recoup_allocator_finish (alloc);
  return TRUE;
}

static gint32
resolve_as_of (RecoupBook  *book,
               const char  *as_of,
               GError     **error)
{
  g_autofree char *today = NULL;

  if (as_of == NULL)
    as_of = today = recoup_book_today (book);
  return recoup_date_parse (as_of, error);
}

/* ---- Invoices -------------------------------------------------------------- */

static gboolean
text_is_blank (const char *s)
{
  if (s == NULL)
    return TRUE;
  for (; *s; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

gboolean
recoup_invoice_validate (const RecoupInvoiceSpec  *spec,
                         GError                  **error)
{
  gint32 issue, due;

  if (text_is_blank (spec->ref))
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("an invoice needs a reference"));
      return FALSE;
    }
  if ((issue = recoup_date_parse (spec->issue_date, error)) == RECOUP_DATE_INVALID)
    {
      g_prefix_error (error, "%s", _("issue date: "));
      return FALSE;
    }
  if ((due = recoup_date_parse (spec->due_date, error)) == RECOUP_DATE_INVALID)
    {
      g_prefix_error (error, "%s", _("due date: "));
      return FALSE;
    }
  if (due < issue)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the invoice's reference, its due date and its issue date */
                   _("invoice %s is due (%s) before it was issued (%s)"), spec->ref, spec->due_date,
                   spec->issue_date);
      return FALSE;
    }
  if (!recoup_currency_validate (spec->currency, error))
    return FALSE;
  if (spec->amount <= 0)
    {
      g_autofree char *shown = recoup_money_format_for_reader (spec->amount, spec->currency, 0);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the invoice's reference, then its amount */
                   _("invoice %s has amount %s: an invoice must be for more than zero "
                     "(record credits as payments or adjustments)"), spec->ref, shown);
      return FALSE;
    }
  if (!recoup_money_check_limit (spec->amount, spec->currency, error))
    {
      /* Translators: an invoice's reference, before what is wrong with it */
      g_prefix_error (error, _("invoice %s: "), spec->ref);
      return FALSE;
    }
  return TRUE;
}

/* The account's currency, or NULL and an error saying the account is not
 * in the book. */
char *
recoup_ledger_account_currency (RecoupBook  *book,
                                const char  *account_id,
                                GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT currency FROM accounts WHERE id = ?", error);
  char *currency = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  if (currency == NULL)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 _("no account with id %s"), account_id ? account_id : _("(none)"));
  return currency;
}

/* Refuses an entry of @amount that would take the account's charges (or its
 * credits) added together beyond RECOUP_MONEY_LIMIT: within it no balance,
 * bucket or total of the account can overflow, whatever order it is summed in. */
static gboolean
check_account_totals (RecoupBook  *book,
                      const char  *account_id,
                      const char  *currency,
                      gint64       amount,
                      GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT coalesce(sum(max(amount, 0)), 0), coalesce(sum(min(amount, 0)), 0)"
    " FROM ledger_entries WHERE account_id = ?", error);
  gint64 charges, credits;
  g_autofree char *limit = NULL;

  if (!recoup_money_check_limit (amount < 0 ? -amount : amount, currency, error))
    return FALSE;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  charges = sqlite3_column_int64 (stmt, 0);
  credits = sqlite3_column_int64 (stmt, 1);
  sqlite3_reset (stmt);
  /* The totals can already be beyond the limit (rows merged from two devices
   * that each stayed within it): add without overflowing. */
  if (amount > 0 ? recoup_money_add (charges, amount, &charges) && charges <= RECOUP_MONEY_LIMIT
                 : recoup_money_add (credits, amount, &credits) && credits >= -RECOUP_MONEY_LIMIT)
    return TRUE;
  limit = recoup_money_format_for_reader (RECOUP_MONEY_LIMIT, currency,
                                          RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
               amount > 0
               /* Translators: an amount with its currency code */
               ? _("this would bring the account's charges to more than %s, the most one account "
                   "can hold")
               /* Translators: an amount with its currency code */
               : _("this would bring the account's payments and credits to more than %s, the most one "
                   "account can hold"), limit);
  return FALSE;
}

static gboolean
insert_entry (RecoupBook  *book,
              const char  *id,
              const char  *account_id,
              const char  *invoice_id,
              const char  *kind,
              gint64       amount,
              const char  *currency,
              const char  *effective_date,
              const char  *method,
              const char  *reference,
              const char  *receipt_no,
              const char  *reverses_id,
              const char  *waives_id,
              const char  *offer_id,
              const char  *memo,
              GError     **error)
{
  sqlite3_stmt *stmt;

  if (!check_account_totals (book, account_id, currency, amount, error))
    return FALSE;
  stmt = recoup_book_prepare (book,
    "INSERT INTO ledger_entries (id, account_id, invoice_id, kind, amount, currency, effective_date,"
    " method, reference, receipt_no, reverses_id, offer_id, memo, user_id, created_at, waives_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, invoice_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, kind, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, amount);
  sqlite3_bind_text (stmt, 6, currency, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, effective_date, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, method, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, reference, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 10, receipt_no, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 11, reverses_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 12, offer_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 13, memo != NULL ? memo : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 14, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 15, recoup_book_now_ms (book));
  sqlite3_bind_text (stmt, 16, waives_id, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error))
    return FALSE;
  recoup_book_touch_account (book, account_id);
  return recoup_book_record_change (book, "ledger_entries", id, RECOUP_CHANGE_INSERT, NULL, error);
}

/**
 * recoup_invoice_add:
 *
 * Adds an invoice and the charge that puts its amount on the ledger. The
 * reference must be new to the book; the currency must be the account's; the
 * issue date (the charge's date) is not after the book's today. An account's
 * first invoice moves it out of pre-collection when it is past due
 * (recoup_escalation_stage_first_debt()).
 */
char *
recoup_invoice_add (RecoupBook               *book,
                    const RecoupInvoiceSpec  *spec,
                    GError                  **error)
{
  g_autofree char *currency = NULL;
  g_autofree char *today = NULL;
  char id[RECOUP_UUID_STRING_LEN + 1];
  char charge_id[RECOUP_UUID_STRING_LEN + 1];
  sqlite3_stmt *stmt;

  if (!recoup_invoice_validate (spec, error))
    return NULL;
  if (!(currency = recoup_ledger_account_currency (book, spec->account_id, error)))
    return NULL;
  if (g_strcmp0 (currency, spec->currency) != 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: an invoice's reference, its currency code, then the account's */
                   _("invoice %s is in %s but its account keeps its balance in %s"),
                   spec->ref, spec->currency, currency);
      return NULL;
    }
  /* Its charge is dated the issue date: the same rule as every ledger entry. */
  today = recoup_book_today (book);
  if (strcmp (spec->issue_date, today) > 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: an invoice's reference, its issue date, then today's, YYYY-MM-DD */
                   _("invoice %s is issued on %s, after today (%s): add it on the day it is issued"),
                   spec->ref, spec->issue_date, today);
      return NULL;
    }

  if (!recoup_book_begin (book, error))
    return NULL;

  /* A new account's first invoice puts it at the stage its debt calls for,
   * as the import does, or every stage filter would miss it. */
  if (!recoup_escalation_stage_first_debt (book, NULL, spec->account_id,
                                           recoup_date_parse (spec->due_date, NULL), error))
    goto fail;

  recoup_uuid7_generate (id);
  stmt = recoup_book_prepare (book,
                              "INSERT INTO invoices (id, account_id, ref, issue_date, due_date, amount,"
                              " currency, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, spec->account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, spec->ref, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, spec->issue_date, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, spec->due_date, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, spec->amount);
  sqlite3_bind_text (stmt, 7, spec->currency, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, spec->description ? spec->description : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 9, recoup_book_now_ms (book));
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      if (sqlite3_extended_errcode (recoup_book_get_db (book)) == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                     _("an invoice with reference %s already exists"), spec->ref);
      else
        recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      goto fail;
    }
  sqlite3_reset (stmt);
  if (!recoup_book_record_change (book, "invoices", id, RECOUP_CHANGE_INSERT, NULL, error))
    goto fail;
  recoup_book_touch_account (book, spec->account_id);

  recoup_uuid7_generate (charge_id);
  if (!insert_entry (book, charge_id, spec->account_id, id, "charge", spec->amount, spec->currency,
                     spec->issue_date, NULL, NULL, NULL, NULL, NULL, NULL, spec->description, error))
    goto fail;

  if (!recoup_book_commit (book, error))
    return NULL;   /* rolled back by the commit */
  return g_strdup (id);

fail:
  recoup_book_rollback (book);
  return NULL;
}

char *
recoup_invoice_resolve (RecoupBook  *book,
                        const char  *ref_or_id,
                        GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT id FROM invoices WHERE ref = ?1 UNION ALL SELECT id FROM invoices WHERE id = ?1 LIMIT 1",
    error);
  char *id = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, ref_or_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  if (id == NULL)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 _("no invoice with reference or id “%s”"), ref_or_id ? ref_or_id : "");
  return id;
}

/**
 * recoup_invoice_update:
 *
 * Brings an invoice in line with @spec (a re-import). Dates and description are
 * mutable fields; a changed amount is never edited in place: the difference goes
 * on the ledger as an adjustment, so the history shows what happened.
 */
gboolean
recoup_invoice_update (RecoupBook               *book,
                       const char               *invoice_id,
                       const RecoupInvoiceSpec  *spec,
                       gboolean                 *out_changed,
                       GError                  **error)
{
  static const char * const fields[] = { "issue_date", "due_date", "description", "amount", NULL };
  sqlite3_stmt *stmt;
  g_autofree char *old_issue = NULL, *old_due = NULL, *old_desc = NULL, *old_account = NULL;
  g_autofree char *old_currency = NULL;
  gint64 old_amount;
  const char *changed[G_N_ELEMENTS (fields)] = { NULL };
  guint n_changed = 0;

  *out_changed = FALSE;
  if (!recoup_invoice_validate (spec, error))
    return FALSE;

  stmt = recoup_book_prepare (book,
    "SELECT issue_date, due_date, description, amount, account_id, currency FROM invoices WHERE id = ?",
    error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, invoice_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   _("no invoice with id %s"), invoice_id);
      return FALSE;
    }
  old_issue = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  old_due = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
  old_desc = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
  old_amount = sqlite3_column_int64 (stmt, 3);
  old_account = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
  old_currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
  sqlite3_reset (stmt);

  if (g_strcmp0 (old_account, spec->account_id) != 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   _("invoice %s belongs to another account; an invoice cannot move between accounts"),
                   spec->ref);
      return FALSE;
    }
  if (g_strcmp0 (old_currency, spec->currency) != 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   /* Translators: an invoice's reference, its currency code, then the new one */
                   _("invoice %s is in %s; its currency cannot change to %s"), spec->ref,
                   old_currency, spec->currency);
      return FALSE;
    }

  if (g_strcmp0 (old_issue, spec->issue_date) != 0)
    changed[n_changed++] = "issue_date";
  if (g_strcmp0 (old_due, spec->due_date) != 0)
    changed[n_changed++] = "due_date";
  if (g_strcmp0 (old_desc, spec->description ? spec->description : "") != 0)
    changed[n_changed++] = "description";
  if (old_amount != spec->amount)
    changed[n_changed++] = "amount";
  if (n_changed == 0)
    return TRUE;

  if (!recoup_book_begin (book, error))
    return FALSE;
  stmt = recoup_book_prepare (book,
    "UPDATE invoices SET issue_date = ?, due_date = ?, description = ?, amount = ? WHERE id = ?", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, spec->issue_date, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, spec->due_date, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, spec->description ? spec->description : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, spec->amount);
  sqlite3_bind_text (stmt, 5, invoice_id, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error) ||
      !recoup_book_record_change (book, "invoices", invoice_id, RECOUP_CHANGE_SET, changed, error))
    goto fail;
  recoup_book_touch_account (book, spec->account_id);

  if (old_amount != spec->amount)
    {
      char entry_id[RECOUP_UUID_STRING_LEN + 1];
      g_autofree char *today = recoup_book_today (book);
      g_autofree char *memo = g_strdup_printf ("invoice %s amount changed by import", spec->ref);

      recoup_uuid7_generate (entry_id);
      if (!insert_entry (book, entry_id, spec->account_id, invoice_id, "adjustment",
                         spec->amount - old_amount, spec->currency, today, NULL, NULL, NULL, NULL,
                         NULL, NULL, memo, error))
        goto fail;
    }
  if (!recoup_book_commit (book, error))
    return FALSE;  /* rolled back by the commit */
  *out_changed = TRUE;
  return TRUE;

fail:
  recoup_book_rollback (book);
  return FALSE;
}

/* ---- Ledger entries -------------------------------------------------------- */

static gboolean
next_receipt_no (RecoupBook  *book,
                 char        *out,
                 gsize        out_len,
                 GError     **error)
{
  g_autofree char *counter = recoup_book_get_setting (book, "receipt_counter");
  const char *device = recoup_book_get_device_id (book);
  gint64 n = counter ? g_ascii_strtoll (counter, NULL, 10) : 0;
  sqlite3_stmt *taken = recoup_book_prepare (book, "SELECT 1 FROM ledger_entries WHERE receipt_no = ?", error);
  gboolean used = TRUE;
  char buf[32];

  if (taken == NULL)
    return FALSE;
  /* The device part is taken from the random tail of the device's UUID, so
   * two laptops issuing receipts offline almost never produce the same
   * number; when one with the same tail has, sync brought its numbers here,
   * and the next free one is taken (a clash that sync meets is renumbered
   * by the merge). */
  while (used)
    {
      n++;
      g_snprintf (out, out_len, "R-%.6s-%06" G_GINT64_FORMAT, device + 30, n);
      for (char *p = out; *p; p++)
        *p = g_ascii_toupper (*p);
      sqlite3_bind_text (taken, 1, out, -1, SQLITE_STATIC);
      used = sqlite3_step (taken) == SQLITE_ROW;
      sqlite3_reset (taken);
    }
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, n);
  return recoup_book_set_setting (book, "receipt_counter", buf, error);
}

/* Sets the error for an invoice named with an account it is not on,
 * naming both by their references. */
static void
invoice_not_on_account (RecoupBook  *book,
                        const char  *invoice_id,
                        const char  *account_id,
                        GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT i.ref, o.ref, (SELECT ref FROM accounts WHERE id = ?2)"
    " FROM invoices i JOIN accounts o ON o.id = i.account_id WHERE i.id = ?1", error);

  if (stmt == NULL)
    return;
  sqlite3_bind_text (stmt, 1, invoice_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 /* Translators: an invoice's reference, then two accounts' references */
                 _("invoice %s is on account %s, not on %s"), RECOUP_BOOK_STMT_TEXT (stmt, 0),
                 RECOUP_BOOK_STMT_TEXT (stmt, 1), RECOUP_BOOK_STMT_TEXT (stmt, 2));
  else
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 _("no invoice with id %s"), invoice_id);
  sqlite3_reset (stmt);
}

/* What is still owed on the account, or on one of its invoices after the
 * account's payments are allocated (recoup_ledger_allocate). */
static gboolean
open_balance (RecoupBook  *book,
              const char  *account_id,
              const char  *invoice_id,
              gint64      *out_owed,
              GError     **error)
{
  RecoupAllocator alloc;

  if (invoice_id == NULL)
    return recoup_ledger_balance (book, account_id, NULL, out_owed, error);

  *out_owed = 0;
  recoup_allocator_init (&alloc);
  if (!recoup_ledger_allocate (book, account_id, recoup_date_parse ("9999-12-31", NULL), &alloc, error))
    {
      recoup_allocator_clear (&alloc);
      return FALSE;
    }
  for (guint i = 0; i < alloc.items->len; i++)
    {
      RecoupAllocItem *it = &g_array_index (alloc.items, RecoupAllocItem, i);

      if (g_strcmp0 (it->id, invoice_id) == 0)
        *out_owed = it->net;
    }
  recoup_allocator_clear (&alloc);
  return TRUE;
}

/**
 * recoup_ledger_date_floor:
 *
 * The earliest date a payment, fee, interest or adjustment on @account_id
 * may carry: a year before the earlier of @today and the account's first
 * invoice (its issue date, or its charge's). The year takes a deposit paid
 * before the first invoice; a date further back is a mistyped year (1999
 * for 2026), which would age nothing, count in no statement period anyone
 * prints, and still change the balance. Only invoices move it: else each
 * entry could walk the next one a year further back.
 *
 * Returns: (transfer full): YYYY-MM-DD, or %NULL with @error set
 */
char *
recoup_ledger_date_floor (RecoupBook  *book,
                                  const char  *account_id,
                                  const char  *today,
                                  GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT min (d) FROM (SELECT min (issue_date) AS d FROM invoices WHERE account_id = ?1"
    " UNION ALL SELECT min (effective_date) FROM ledger_entries WHERE account_id = ?1 AND kind = 'charge')",
    error);
  gint32 first;

  if (stmt == NULL)
    return NULL;
  first = recoup_date_parse (today, error);
  if (first == RECOUP_DATE_INVALID)
    return NULL;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    {
      gint32 day = recoup_date_parse (RECOUP_BOOK_STMT_TEXT (stmt, 0), NULL);

      if (day != RECOUP_DATE_INVALID)
        first = MIN (first, day);
    }
  sqlite3_reset (stmt);
  return recoup_date_format (recoup_date_add_months (first, -12));
}

/**
 * recoup_ledger_check_payment_date:
 * @floor: (nullable): the account's recoup_ledger_date_floor()
 *
 * A payment is dated on or before @today (YYYY-MM-DD): one that has not been
 * received yet would count in some balances (all entries) and not in others
 * (as of today); and not before @floor. The dialogs ask this as the user
 * types; the ledger asks it again when it records.
 */
gboolean
recoup_ledger_check_payment_date (const char  *date,
                                  const char  *floor,
                                  const char  *today,
                                  GError     **error)
{
  if (recoup_date_parse (date, error) == RECOUP_DATE_INVALID)
    return FALSE;
  if (floor != NULL && strcmp (date, floor) < 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the payment's date, then the earliest one allowed, YYYY-MM-DD */
                   _("a payment cannot be dated %s, more than a year back: check the year (the earliest "
                     "date it can have here is %s, a year before the account's first invoice, or before "
                     "today if it has none)"), date, floor);
      return FALSE;
    }
  if (strcmp (date, today) <= 0)
    return TRUE;
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
               /* Translators: today's date, then the payment's, YYYY-MM-DD */
               _("a payment cannot be dated after today (%s): it has not been received yet; "
                 "record a post-dated cheque as a promise to pay on %s"), today, date);
  return FALSE;
}

/* Nothing goes on the ledger dated after @today: an entry that has not
 * happened yet would count in the balances over all entries (accounts, offers,
 * promises) and not in those as of today (aging, statements, invoices). */
static gboolean
check_entry_date (RecoupBook       *book,
                  const char       *account_id,
                  RecoupEntryKind   kind,
                  const char       *date,
                  const char       *today,
                  GError          **error)
{
  g_autofree char *floor = NULL;

  if (kind == RECOUP_ENTRY_PAYMENT || kind == RECOUP_ENTRY_FEE || kind == RECOUP_ENTRY_INTEREST ||
      kind == RECOUP_ENTRY_ADJUSTMENT)
    if (!(floor = recoup_ledger_date_floor (book, account_id, today, error)))
      return FALSE;
  if (kind == RECOUP_ENTRY_PAYMENT)
    return recoup_ledger_check_payment_date (date, floor, today, error);
  if (floor != NULL && strcmp (date, floor) < 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: a kind of ledger entry (fee, interest, adjustment), its date,
                    * then the earliest one allowed, YYYY-MM-DD */
                   _("the %s cannot be dated %s, more than a year back: check the year (the earliest "
                     "date it can have here is %s, a year before the account's first invoice, or "
                     "before today if it has none)"), entry_kind_label (kind), date, floor);
      return FALSE;
    }
  if (strcmp (date, today) <= 0)
    return TRUE;
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
               /* Translators: a kind of ledger entry (fee, interest, write-off, …), its date,
                * then today's, YYYY-MM-DD */
               _("the %s cannot be dated %s, after today (%s): record it on the day it applies, "
                 "not before"), entry_kind_label (kind), date, today);
  return FALSE;
}

gboolean
recoup_ledger_check_texts (const char  *reference,
                           const char  *memo,
                           GError     **error)
{
  if (reference != NULL && g_utf8_strlen (reference, -1) > RECOUP_LEDGER_REFERENCE_MAX)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the most characters a payment's reference may have */
                   _("the reference is longer than %d characters: keep the cheque or transfer number, and put "
                     "anything else in the memo"), RECOUP_LEDGER_REFERENCE_MAX);
      return FALSE;
    }
  if (reference != NULL && strpbrk (reference, "\r\n\t") != NULL)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("the reference must be one line"));
      return FALSE;
    }
  if (memo != NULL && g_utf8_strlen (memo, -1) > RECOUP_LEDGER_MEMO_MAX)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the most characters a ledger entry's memo may have */
                   _("the memo is longer than %d characters"), RECOUP_LEDGER_MEMO_MAX);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  char   *id;
  char   *invoice_id;
  gint64  open;
} WaivedEntry;

static void
waived_entry_clear (WaivedEntry *w)
{
  g_clear_pointer (&w->id, g_free);
  g_clear_pointer (&w->invoice_id, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WaivedEntry, waived_entry_clear)

/* The entry @spec's waiver of @amount dated @date waives (spec->waives_id,
 * by id or receipt): a fee or interest of the account, dated on or before it,
 * with at least @amount still open after its reversal and earlier waivers.
 * The waiver goes on its invoice, if it has one. */
static gboolean
load_waived_entry (RecoupBook             *book,
                   const RecoupEntrySpec  *spec,
                   const char             *date,
                   gint64                  amount,
                   const char             *currency,
                   WaivedEntry            *out,
                   GError                **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *kind = NULL, *waived_date = NULL;
  RecoupEntryKind waived_kind;
  gboolean found = FALSE, known;

  if (spec->kind != RECOUP_ENTRY_WAIVER)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: a kind of ledger entry (fee, write-off, …) */
                   _("only a waiver names the entry it waives, not a %s"), entry_kind_label (spec->kind));
      return FALSE;
    }
  stmt = recoup_book_prepare (book,
    "SELECT f.id, f.kind, f.invoice_id, f.effective_date, " RECOUP_LEDGER_OPEN_SQL ("f")
    " FROM ledger_entries f WHERE (f.id = ?1 OR f.receipt_no = ?1) AND f.account_id = ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, spec->waives_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, spec->account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      found = TRUE;
      out->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      kind = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      out->invoice_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      waived_date = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      out->open = sqlite3_column_int64 (stmt, 4);
    }
  sqlite3_reset (stmt);

  if (!found)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   /* Translators: what the user gave as the entry to waive */
                   _("no ledger entry “%s” on this account to waive"), spec->waives_id);
      return FALSE;
    }
  known = recoup_entry_kind_from_string (kind, &waived_kind);
  if (!known || (waived_kind != RECOUP_ENTRY_FEE && waived_kind != RECOUP_ENTRY_INTEREST))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: a ledger entry's id, then its kind (payment, charge, …) */
                   _("%s is a %s: a waiver waives a fee or interest (an invoice's own amount is written "
                     "off or adjusted)"), out->id, known ? entry_kind_label (waived_kind) : kind);
      return FALSE;
    }
  if (strcmp (date, waived_date) < 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the waiver's date, the kind of the entry it waives (fee,
                    * interest), then that entry's date */
                   _("a waiver cannot be dated %s, before the %s it waives (%s)"), date,
                   entry_kind_label (waived_kind), waived_date);
      return FALSE;
    }
  if (spec->invoice_id != NULL && g_strcmp0 (spec->invoice_id, out->invoice_id) != 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the kind of the entry waived (fee, interest) */
                   _("the %s it waives is not on that invoice: leave the invoice out, and the waiver goes "
                     "where that entry is"), entry_kind_label (waived_kind));
      return FALSE;
    }
  if (amount > out->open)
    {
      g_autofree char *shown = recoup_money_format_for_reader (amount, currency, RECOUP_MONEY_FORMAT_GROUPING |
                                                                                 RECOUP_MONEY_FORMAT_CODE);
      g_autofree char *left = recoup_money_format_for_reader (MAX (out->open, 0), currency,
                                                              RECOUP_MONEY_FORMAT_GROUPING |
                                                              RECOUP_MONEY_FORMAT_CODE);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the waiver's amount, what is still open, then the kind of
                    * the entry waived (fee, interest) */
                   _("a waiver of %s is more than the %s still open on the %s it waives"), shown, left,
                   entry_kind_label (waived_kind));
      return FALSE;
    }
  return TRUE;
}

/**
 * recoup_ledger_record:
 *
 * Records one ledger entry. Amounts are given as magnitudes; the sign follows
 * the kind (payments, waivers, discounts and write-offs lower the balance).
 * Adjustments are signed. Reversals are made by recoup_ledger_reverse().
 * A waiver may name the fee or interest entry it waives (spec->waives_id):
 * it then cancels that entry, and goes on its invoice if it has one.
 */
char *
recoup_ledger_record (RecoupBook             *book,
                      const RecoupEntrySpec  *spec,
                      GError                **error)
{
  g_autofree char *currency = NULL;
  g_autofree char *today = NULL;
  g_auto(WaivedEntry) waived = { NULL, NULL, 0 };
  const char *date = spec->effective_date;
  const char *kind = recoup_entry_kind_to_string (spec->kind);
  const char *invoice_id = spec->invoice_id;
  char id[RECOUP_UUID_STRING_LEN + 1];
  char receipt[40];
  gint64 amount = spec->amount;

  if (!(currency = recoup_ledger_account_currency (book, spec->account_id, error)))
    return NULL;
  /* Refused here, not only by recoupd: a refused entry would stay in this
   * book alone and its balance would differ from everyone else's. */
  if (!recoup_merge_check_own_write (book, "ledger_entries", kind, error))
    return NULL;

  if (spec->kind == RECOUP_ENTRY_REVERSAL)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           /* Translators: “reverse” is the recoup-cli command: keep it */
                           _("a reversal names the entry it reverses; use reverse"));
      return NULL;
    }
  if (spec->kind == RECOUP_ENTRY_ADJUSTMENT && amount == 0)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("an adjustment of zero changes nothing"));
      return NULL;
    }
  if (spec->kind != RECOUP_ENTRY_ADJUSTMENT && amount <= 0)
    {
      g_autofree char *shown = recoup_money_format_for_reader (amount, currency, 0);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   strchr ("aeiou", kind[0]) != NULL
                   /* Translators: a kind of ledger entry (interest), then an amount;
                    * English needs “an” before a vowel, your language may not */
                   ? _("an %s must be for more than zero (got %s)")
                   /* Translators: a kind of ledger entry (payment, fee, …), then an amount */
                   : _("a %s must be for more than zero (got %s)"),
                   entry_kind_label (spec->kind), shown);
      return NULL;
    }
  today = recoup_book_today (book);
  if (date == NULL)
    date = today;
  if (recoup_date_parse (date, error) == RECOUP_DATE_INVALID)
    return NULL;
  /* The entries an offer writes follow its dates: a settlement discount is
   * dated the day the offer completed, which a payment synced from a device
   * whose today is a little ahead can set. */
  if (spec->offer_id == NULL && !check_entry_date (book, spec->account_id, spec->kind, date, today, error))
    return NULL;
  if (spec->method != NULL && !g_strv_contains (payment_methods, spec->method))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the words in parentheses are the values recoup-cli takes: keep them */
                   _("“%s” is not a payment method (cash, cheque, card, bank-transfer, other)"),
                   spec->method);
      return NULL;
    }

  if (!recoup_ledger_check_texts (spec->reference, spec->memo, error))
    return NULL;

  switch (spec->kind)
    {
    case RECOUP_ENTRY_PAYMENT:
    case RECOUP_ENTRY_WAIVER:
    case RECOUP_ENTRY_DISCOUNT:
    case RECOUP_ENTRY_WRITE_OFF:
      amount = -amount;
      break;
    default:
      break;
    }

  if (!recoup_book_begin (book, error))
    return NULL;

  if (spec->invoice_id != NULL)
    {
      sqlite3_stmt *stmt = recoup_book_prepare (book,
        "SELECT 1 FROM invoices WHERE id = ? AND account_id = ?", error);

      if (stmt == NULL)
        goto fail;
      sqlite3_bind_text (stmt, 1, spec->invoice_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, spec->account_id, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) != SQLITE_ROW)
        {
          sqlite3_reset (stmt);
          invoice_not_on_account (book, spec->invoice_id, spec->account_id, error);
          goto fail;
        }
      sqlite3_reset (stmt);
    }
  if (spec->waives_id != NULL)
    {
      if (!load_waived_entry (book, spec, date, -amount, currency, &waived, error))
        goto fail;
      invoice_id = waived.invoice_id;
    }

  /* A write-off, waiver or discount the user records forgives what is owed;
   * beyond that it would turn into a credit nobody paid for. The entries an
   * offer writes (its settlement discount when completed, its fee waiver when
   * accepted) are kept within what the offer left owed by the offer's own
   * figures (recoup-offer.h), not by the balance of the moment: every copy
   * writes the same row, whatever credits it has received by then. */
  if ((spec->kind == RECOUP_ENTRY_WAIVER || spec->kind == RECOUP_ENTRY_DISCOUNT ||
       spec->kind == RECOUP_ENTRY_WRITE_OFF) && spec->offer_id == NULL)
    {
      gint64 owed;

      if (!open_balance (book, spec->account_id, invoice_id, &owed, error))
        goto fail;
      if (-amount > owed)
        {
          g_autofree char *shown = recoup_money_format_for_reader (-amount, currency,
                                                                   RECOUP_MONEY_FORMAT_GROUPING |
                                                                   RECOUP_MONEY_FORMAT_CODE);
          g_autofree char *left = recoup_money_format_for_reader (MAX (owed, 0), currency,
                                                                  RECOUP_MONEY_FORMAT_GROUPING |
                                                                  RECOUP_MONEY_FORMAT_CODE);

          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       invoice_id != NULL
                       /* Translators: a kind of ledger entry (write-off, waiver or
                        * discount), its amount, then what is still owed */
                       ? _("a %s of %s is more than the %s still owed on this invoice")
                       /* Translators: a kind of ledger entry (write-off, waiver or
                        * discount), its amount, then what is still owed */
                       : _("a %s of %s is more than the %s still owed on this account"),
                       entry_kind_label (spec->kind), shown, left);
          goto fail;
        }
    }

  receipt[0] = '\0';
  if (spec->kind == RECOUP_ENTRY_PAYMENT && !next_receipt_no (book, receipt, sizeof receipt, error))
    goto fail;

  if (spec->id != NULL)
    g_strlcpy (id, spec->id, sizeof id);
  else
    recoup_uuid7_generate (id);
  if (!insert_entry (book, id, spec->account_id, invoice_id, kind, amount, currency, date,
                     spec->kind == RECOUP_ENTRY_PAYMENT ? (spec->method ? spec->method : "other") : spec->method,
                     spec->reference, receipt[0] ? receipt : NULL, NULL, waived.id, spec->offer_id, spec->memo,
                     error))
    goto fail;
  /* A failed commit has rolled back already. */
  if (!recoup_book_commit (book, error))
    return NULL;
  return g_strdup (id);

fail:
  recoup_book_rollback (book);
  return NULL;
}

/* The discount a completed settlement keeps (recoup_offer_keeps_discount())
 * follows the offer: reversed on its own, the offer would write it again at
 * once. Its duplicates, and a discount of another amount, may go. */
static gboolean
check_discount_not_kept (RecoupBook  *book,
                         const char  *entry_id,
                         const char  *offer_id,
                         GError     **error)
{
  g_autoptr(RecoupOffer) offer = NULL;
  gboolean kept;

  if (!(offer = recoup_offer_load (book, offer_id, NULL, error)) ||
      !recoup_offer_keeps_discount (book, offer, entry_id, &kept, error))
    return FALSE;
  if (!kept)
    return TRUE;
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
               /* Translators: a ledger entry's id, then an offer's id */
               _("%s is the discount of settlement offer %s, which is completed: the discount follows "
                 "its offer and is not reversed on its own; reverse the payment that completed the "
                 "offer, and the discount goes with it"), entry_id, offer_id);
  return FALSE;
}

/**
 * recoup_ledger_reverse:
 *
 * Reverses an entry (a bounced cheque, a charge made in error) with a new entry
 * of the opposite amount on the same invoice. The original stays on the ledger.
 * An entry can be reversed once; a reversal cannot itself be reversed.
 *
 * @memo is why, as the user gave it, and may be %NULL: a bank need not say why
 * a cheque bounced. Nothing is stored in its place; whoever reads the entry
 * words it in their own language (recoup_ledger_entry_note()).
 */
char *
recoup_ledger_reverse (RecoupBook  *book,
                       const char  *entry_id,
                       const char  *effective_date,
                       const char  *memo,
                       GError     **error)
{
  return recoup_ledger_reverse_with_id (book, NULL, entry_id, effective_date, memo, error);
}

/* The id of the reversal of @entry_id that every replica derives alike: an
 * entry is reversed at most once, so "the reversal of @entry_id" names one
 * row. Its time is the entry's own. */
static void
derive_reversal_id (const char *entry_id,
                    char        out[RECOUP_UUID_STRING_LEN + 1])
{
  g_autofree char *name = g_strconcat ("reversal:", entry_id, NULL);

  recoup_uuid7_derive_from (entry_id, name, out);
}

/* Dated on the credit's own day and without a memo (the reader's words come
 * from recoup_ledger_entry_note()): the same row on every copy, whatever its
 * today. */
gboolean
recoup_ledger_reverse_live_credit (RecoupBook              *book,
                                   const RecoupLiveCredit  *credit,
                                   GError                 **error)
{
  char id[RECOUP_UUID_STRING_LEN + 1];
  g_autofree char *reversal = NULL;

  derive_reversal_id (credit->id, id);
  reversal = recoup_ledger_reverse_with_id (book, id, credit->id, credit->date, NULL, error);
  return reversal != NULL;
}

#define LIVE_CREDITS_SQL(column, kind, order) \
  "SELECT e.id, e.effective_date, -e.amount FROM ledger_entries e WHERE e." column " = ? AND e.kind = '" kind "'" \
  " AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = e.id) ORDER BY e.id " order

GArray *
recoup_ledger_live_credits (RecoupBook         *book,
                            RecoupLiveCredits   which,
                            const char         *of_id,
                            GError            **error)
{
  g_autoptr(GArray) live = g_array_new (FALSE, TRUE, sizeof (RecoupLiveCredit));
  sqlite3_stmt *stmt = recoup_book_prepare (book,
                                            which == RECOUP_LIVE_DISCOUNTS_OF_OFFER
                                            ? LIVE_CREDITS_SQL ("offer_id", "discount", "ASC")
                                            : which == RECOUP_LIVE_WAIVERS_OF_OFFER
                                            ? LIVE_CREDITS_SQL ("offer_id", "waiver", "ASC")
                                            : LIVE_CREDITS_SQL ("waives_id", "waiver", "DESC"),
                                            error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, of_id, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      RecoupLiveCredit c = { 0 };

      g_strlcpy (c.id, RECOUP_BOOK_STMT_TEXT (stmt, 0), sizeof c.id);
      g_strlcpy (c.date, RECOUP_BOOK_STMT_TEXT (stmt, 1), sizeof c.date);
      c.amount = sqlite3_column_int64 (stmt, 2);
      g_array_append_val (live, c);
    }
  sqlite3_reset (stmt);
  return g_steal_pointer (&live);
}

gboolean
recoup_ledger_reconcile_waivers (RecoupBook  *book,
                                 const char  *account_id,
                                 guint       *written,
                                 GError     **error)
{
  g_autoptr(GPtrArray) over = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) by = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT f.id, -" RECOUP_LEDGER_OPEN_SQL ("f")
    " FROM ledger_entries f WHERE f.account_id = ?1 AND (f.kind = 'fee' OR f.kind = 'interest')"
    " AND EXISTS (SELECT 1 FROM ledger_entries w WHERE w.waives_id = f.id)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 excess = sqlite3_column_int64 (stmt, 1);

      if (excess <= 0)
        continue;
      g_ptr_array_add (over, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
      g_array_append_val (by, excess);
    }
  sqlite3_reset (stmt);

  for (guint i = 0; i < over->len; i++)
    {
      g_autoptr(GArray) live = recoup_ledger_live_credits (book, RECOUP_LIVE_WAIVERS_OF_ENTRY, over->pdata[i], error);
      gint64 excess = g_array_index (by, gint64, i);

      if (live == NULL)
        return FALSE;
      /* The newest first, as every copy orders them: the one the others
       * did not know of when they wrote theirs, most often. */
      for (guint j = 0; j < live->len && excess > 0; j++)
        {
          RecoupLiveCredit *w = &g_array_index (live, RecoupLiveCredit, j);

          if (!recoup_ledger_reverse_live_credit (book, w, error))
            return FALSE;
          excess -= w->amount;
          (*written)++;
        }
    }
  return TRUE;
}

typedef struct
{
  char   id[RECOUP_UUID_STRING_LEN + 1];   /* the waiver to write again */
  char   reversal[RECOUP_UUID_STRING_LEN + 1];
  char   account_id[RECOUP_UUID_STRING_LEN + 1];
  char   waives_id[RECOUP_UUID_STRING_LEN + 1];
  char   date[11];
  char  *memo;
  gint64 amount;
} Rewaive;

static void
rewaive_clear (gpointer data)
{
  g_free (((Rewaive *) data)->memo);
}

gboolean
recoup_ledger_rewaive (RecoupBook  *book,
                       const char  *offer_id,
                       guint       *written,
                       GError     **error)
{
  g_autoptr(GArray) again = g_array_new (FALSE, TRUE, sizeof (Rewaive));
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT w.id, r.id, w.account_id, w.waives_id, w.effective_date, w.memo, -w.amount"
    " FROM ledger_entries w JOIN ledger_entries r ON r.reverses_id = w.id"
    " JOIN ledger_entries f ON f.id = w.waives_id"
    " WHERE w.offer_id = ?1 AND w.kind = 'waiver'"
    " AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.waives_id = f.id AND l.kind = 'waiver'"
    "                 AND NOT EXISTS (SELECT 1 FROM ledger_entries lr WHERE lr.reverses_id = l.id))"
    " AND " RECOUP_LEDGER_OPEN_SQL ("f") " >= -w.amount ORDER BY w.id", error);

  if (stmt == NULL)
    return FALSE;
  g_array_set_clear_func (again, rewaive_clear);
  sqlite3_bind_text (stmt, 1, offer_id, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      Rewaive w = { 0 };

      g_strlcpy (w.id, RECOUP_BOOK_STMT_TEXT (stmt, 0), sizeof w.id);
      g_strlcpy (w.reversal, RECOUP_BOOK_STMT_TEXT (stmt, 1), sizeof w.reversal);
      g_strlcpy (w.account_id, RECOUP_BOOK_STMT_TEXT (stmt, 2), sizeof w.account_id);
      g_strlcpy (w.waives_id, RECOUP_BOOK_STMT_TEXT (stmt, 3), sizeof w.waives_id);
      g_strlcpy (w.date, RECOUP_BOOK_STMT_TEXT (stmt, 4), sizeof w.date);
      w.memo = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      w.amount = sqlite3_column_int64 (stmt, 6);
      g_array_append_val (again, w);
    }
  sqlite3_reset (stmt);

  for (guint i = 0; i < again->len; i++)
    {
      Rewaive *w = &g_array_index (again, Rewaive, i);
      char derived[RECOUP_UUID_STRING_LEN + 1], id[RECOUP_UUID_STRING_LEN + 1];
      g_autofree char *name = g_strconcat ("waiver-again:", w->id, NULL);
      g_autofree char *entry = NULL;
      RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_WAIVER, .account_id = w->account_id, .amount = w->amount,
                               .effective_date = w->date, .memo = w->memo, .offer_id = offer_id,
                               .waives_id = w->waives_id, .id = id };
      gboolean exists;

      /* A person's reversal of the waiver stands; only reconciling's is
       * undone so. */
      derive_reversal_id (w->id, derived);
      if (strcmp (derived, w->reversal) != 0)
        continue;
      recoup_uuid7_derive_from (w->id, name, id);
      if (!(stmt = recoup_book_prepare (book, "SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE id = ?)", error)))
        return FALSE;
      sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
      exists = sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int (stmt, 0);
      sqlite3_reset (stmt);
      if (exists)
        continue;
      if (!(entry = recoup_ledger_record (book, &spec, error)))
        return FALSE;
      (*written)++;
    }
  return TRUE;
}

/* As recoup_ledger_reverse(), the reversal's id given (%NULL for a new one):
 * a reversal every replica derives alike has the same id on all of them. */
char *
recoup_ledger_reverse_with_id (RecoupBook  *book,
                               const char  *given_id,
                               const char  *entry_id,
                               const char  *effective_date,
                               const char  *memo,
                               GError     **error)
{
  g_autofree char *today = NULL;
  g_autofree char *account_id = NULL, *invoice_id = NULL, *kind = NULL, *currency = NULL;
  g_autofree char *orig_date = NULL, *receipt = NULL, *offer_id = NULL, *waives_id = NULL;
  char id[RECOUP_UUID_STRING_LEN + 1];
  gint64 amount;
  gboolean already, waived;
  sqlite3_stmt *stmt;

  stmt = recoup_book_prepare (book,
    "SELECT account_id, invoice_id, kind, amount, currency, effective_date, receipt_no, offer_id,"
    " EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = l.id), waives_id,"
    " EXISTS (SELECT 1 FROM ledger_entries w WHERE w.waives_id = l.id AND w.kind = 'waiver'"
    "         AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = w.id))"
    " FROM ledger_entries l WHERE id = ?1 OR receipt_no = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, entry_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   _("no ledger entry or receipt “%s”"), entry_id);
      return NULL;
    }
  account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  invoice_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
  kind = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
  amount = sqlite3_column_int64 (stmt, 3);
  currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
  orig_date = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
  receipt = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 6));
  offer_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 7));
  already = sqlite3_column_int (stmt, 8);
  waives_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 9));
  waived = sqlite3_column_int (stmt, 10);
  sqlite3_reset (stmt);

  if (g_strcmp0 (kind, "reversal") == 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: %s is a ledger entry's id or receipt number */
                   _("%s is itself a reversal; a reversal cannot be reversed (record the entry again "
                     "instead)"), entry_id);
      return NULL;
    }
  if (already)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   /* Translators: %s is a ledger entry's id or receipt number */
                   _("%s has already been reversed"), entry_id);
      return NULL;
    }

  /* Reversed under its waiver, a fee would be taken off twice: the waiver
   * would be left as a credit the debtor never paid. */
  if (waived)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   /* Translators: %s is a ledger entry's id */
                   _("%s is waived: reverse its waiver first, then the entry"), entry_id);
      return NULL;
    }
  if (g_strcmp0 (kind, "discount") == 0 && offer_id != NULL &&
      !check_discount_not_kept (book, entry_id, offer_id, error))
    return NULL;

  today = recoup_book_today (book);
  if (effective_date == NULL)
    effective_date = today;
  if (recoup_date_parse (effective_date, error) == RECOUP_DATE_INVALID)
    return NULL;
  if (g_strcmp0 (effective_date, orig_date) < 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the reversal's date, then the date of the entry it reverses */
                   _("a reversal cannot be dated %s, before the entry it reverses (%s)"),
                   effective_date, orig_date);
      return NULL;
    }
  /* After today only on the day of the entry it reverses: the offers reverse
   * a discount synced from a device whose today is a little ahead on its date. */
  if (g_strcmp0 (effective_date, orig_date) > 0 &&
      !check_entry_date (book, NULL, RECOUP_ENTRY_REVERSAL, effective_date, today, error))
    return NULL;

  if (!recoup_book_begin (book, error))
    return NULL;
  stmt = recoup_book_prepare (book, "SELECT id FROM ledger_entries WHERE id = ?1 OR receipt_no = ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, entry_id, -1, SQLITE_STATIC);
  sqlite3_step (stmt);
  {
    g_autofree char *orig_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));

    sqlite3_reset (stmt);
    if (given_id != NULL)
      g_strlcpy (id, given_id, sizeof id);
    else
      recoup_uuid7_generate (id);
    /* The reversal of a waiver carries what it waived, so it nets into that
     * entry's item and opens it again (recoup-ledger-private.h). */
    if (!insert_entry (book, id, account_id, invoice_id, "reversal", -amount, currency,
                       effective_date, NULL, receipt, NULL, orig_id, waives_id, offer_id,
                       memo != NULL ? memo : "", error))
      goto fail;
  }
  if (!recoup_book_commit (book, error))
    return NULL;   /* rolled back by the commit */
  return g_strdup (id);

fail:
  recoup_book_rollback (book);
  return NULL;
}

/* The account a ledger entry (by id or receipt number) belongs to. */
char *
recoup_ledger_entry_get_account (RecoupBook  *book,
                                 const char  *entry_id,
                                 GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT account_id FROM ledger_entries WHERE id = ?1 OR receipt_no = ?1", error);
  char *account_id = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, entry_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  if (account_id == NULL)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 _("no ledger entry or receipt “%s”"), entry_id);
  return account_id;
}

gboolean
recoup_ledger_balance (RecoupBook  *book,
                       const char  *account_id,
                       const char  *as_of,
                       gint64      *out_balance,
                       GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE account_id = ? AND effective_date <= ?",
    error);
  g_autofree char *today = NULL;

  if (stmt == NULL)
    return FALSE;
  if (as_of == NULL)
    as_of = "9999-12-31";
  else if (recoup_date_parse (as_of, error) == RECOUP_DATE_INVALID)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, as_of, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return recoup_book_set_sqlite_error (book, error);
    }
  *out_balance = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return TRUE;
}

GPtrArray *
recoup_ledger_list (RecoupBook  *book,
                    const char  *account_id,
                    GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT l.id, l.kind, i.ref, l.amount, l.currency, l.effective_date, l.method, l.reference,"
    " l.receipt_no, l.reverses_id, (SELECT r.id FROM ledger_entries r WHERE r.reverses_id = l.id),"
    " l.memo, l.created_at, o.kind, o.effective_date, l.waives_id, w.kind, w.effective_date"
    " FROM ledger_entries l LEFT JOIN invoices i ON i.id = l.invoice_id"
    " LEFT JOIN ledger_entries o ON o.id = l.reverses_id"
    " LEFT JOIN ledger_entries w ON w.id = l.waives_id"
    " WHERE l.account_id = ? ORDER BY l.effective_date, l.id", error);
  GPtrArray *list;
  int rc;

  if (stmt == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_ledger_entry_free);
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      RecoupLedgerEntry *e = g_new0 (RecoupLedgerEntry, 1);

      e->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      e->kind = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      e->invoice_ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      e->amount = sqlite3_column_int64 (stmt, 3);
      e->currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
      e->effective_date = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
      e->method = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 6));
      e->reference = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 7));
      e->receipt_no = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 8));
      e->reverses_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 9));
      e->reversed_by = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 10));
      e->memo = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 11));
      e->created_at = sqlite3_column_int64 (stmt, 12);
      e->reverses_kind = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 13));
      e->reverses_date = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 14));
      e->waives_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 15));
      e->waives_kind = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 16));
      e->waives_date = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 17));
      g_ptr_array_add (list, e);
    }
  if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      g_clear_pointer (&list, g_ptr_array_unref);
    }
  sqlite3_reset (stmt);
  return list;
}

/* The memo recoup_dispute_resolve_full() gives the entry of an upheld
 * dispute's remedy, "dispute <id> upheld: <note>": the book keeps it so (the
 * merge finds a dispute resolved twice by it), the reader never sees the id. */
#define DISPUTE_MEMO_START "dispute "
#define DISPUTE_MEMO_UPHELD " upheld: "

/* Where @memo goes on after @prefix and an id, when it starts so; NULL
 * otherwise. The memos Recoup writes name what wrote them so. */
static const char *
after_prefix_and_id (const char *memo,
                     const char *prefix)
{
  char id[RECOUP_UUID_STRING_LEN + 1];
  size_t n = strlen (prefix);

  if (memo == NULL || strncmp (memo, prefix, n) != 0 || strlen (memo + n) < RECOUP_UUID_STRING_LEN)
    return NULL;
  memcpy (id, memo + n, RECOUP_UUID_STRING_LEN);
  id[RECOUP_UUID_STRING_LEN] = '\0';
  return recoup_uuid_is_valid (id) ? memo + n + RECOUP_UUID_STRING_LEN : NULL;
}

const char *
recoup_ledger_memo_dispute_note (const char *memo)
{
  const char *rest = after_prefix_and_id (memo, DISPUTE_MEMO_START);

  return rest != NULL && g_str_has_prefix (rest, DISPUTE_MEMO_UPHELD) ? rest + strlen (DISPUTE_MEMO_UPHELD) : NULL;
}

/* Whether @memo is @prefix, an id, then @suffix, as a memo Recoup writes. */
static gboolean
memo_is_form (const char *memo,
              const char *prefix,
              const char *suffix)
{
  const char *rest = after_prefix_and_id (memo, prefix);

  return rest != NULL && g_str_equal (rest, suffix);
}

char *
recoup_ledger_memo_for_reader (const char *memo)
{
  const char *note = recoup_ledger_memo_dispute_note (memo);

  /* What an accepted offer writes (recoup-offer.c) names the offer by its
   * id, which says nothing to a person: the account's offers are listed
   * beside the ledger. */
  if (memo_is_form (memo, "fee waived by offer ", ""))
    return g_strdup (_("Fee waived by an accepted offer"));
  if (memo_is_form (memo, "interest waived by offer ", ""))
    return g_strdup (_("Interest waived by an accepted offer"));
  if (memo_is_form (memo, "fees and interest waived by offer ", ""))
    return g_strdup (_("Fees and interest waived by an accepted offer"));
  if (memo_is_form (memo, "settlement discount: offer ", " completed"))
    return g_strdup (_("Settlement discount: the settlement was paid"));
  if (note == NULL)
    return g_strdup (memo);
  if (*note == '\0')
    return g_strdup (_("Dispute upheld"));
  /* Translators: a ledger entry's note: the entry wrote off or adjusted the
   * balance because a dispute was upheld; %s is the resolution's note, in
   * the words of the user who resolved it */
  return g_strdup_printf (_("Dispute upheld: %s"), note);
}

char *
recoup_ledger_entry_note (const RecoupLedgerEntry *entry)
{
  RecoupEntryKind reversed, waived;

  if (entry->memo != NULL && *entry->memo != '\0')
    return recoup_ledger_memo_for_reader (entry->memo);
  if (g_strcmp0 (entry->kind, "waiver") == 0 && recoup_entry_kind_from_string (entry->waives_kind, &waived))
    /* Translators: what a waiver without a memo waives: a kind of ledger
     * entry (fee, interest), then that entry's date, YYYY-MM-DD */
    return g_strdup_printf (_("waives the %s of %s"), entry_kind_label (waived), entry->waives_date);
  if (g_strcmp0 (entry->kind, "reversal") != 0 ||
      !recoup_entry_kind_from_string (entry->reverses_kind, &reversed))
    return NULL;
  /* Translators: what a reversal without a memo undoes: a kind of ledger
   * entry (payment, fee, …), then that entry's date, YYYY-MM-DD */
  return g_strdup_printf (_("reverses the %s of %s"), entry_kind_label (reversed), entry->reverses_date);
}

GPtrArray *
recoup_ledger_invoice_balances (RecoupBook  *book,
                                const char  *account_id,
                                const char  *as_of,
                                GError     **error)
{
  RecoupAllocator alloc;
  GPtrArray *list;
  gint32 as_of_day;
  sqlite3_stmt *stmt;
  int rc;

  if ((as_of_day = resolve_as_of (book, as_of, error)) == RECOUP_DATE_INVALID)
    return NULL;

  recoup_allocator_init (&alloc);
  if (!recoup_ledger_allocate (book, account_id, as_of_day, &alloc, error))
    {
      recoup_allocator_clear (&alloc);
      return NULL;
    }

  stmt = recoup_book_prepare (book,
    "SELECT id, ref, issue_date, due_date, description, amount FROM invoices"
    " WHERE account_id = ? ORDER BY due_date, id", error);
  if (stmt == NULL)
    {
      recoup_allocator_clear (&alloc);
      return NULL;
    }
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_invoice_balance_free);
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      RecoupInvoiceBalance *ib = g_new0 (RecoupInvoiceBalance, 1);

      ib->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      ib->ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      ib->issue_date = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      ib->due_date = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      ib->description = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
      ib->amount = sqlite3_column_int64 (stmt, 5);
      ib->days_past_due = as_of_day - recoup_date_parse (ib->due_date, NULL);
      for (guint i = 0; i < alloc.items->len; i++)
        {
          RecoupAllocItem *it = &g_array_index (alloc.items, RecoupAllocItem, i);

          if (strcmp (it->id, ib->id) == 0)
            ib->balance = it->net;
        }
      g_ptr_array_add (list, ib);
    }
  if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      g_clear_pointer (&list, g_ptr_array_unref);
    }
  sqlite3_reset (stmt);
  recoup_allocator_clear (&alloc);
  return list;
}

/**
 * recoup_allocator_age:
 *
 * Adds an allocated account's open items to @buckets by days past due as of
 * @as_of_day, and the pool, the account's credit, to @credit.
 * Returns the account's balance (which equals the sum of its ledger entries).
 */
gint64
recoup_allocator_age (RecoupAllocator *alloc,
                      gint32           as_of_day,
                      gint64          *buckets,
                      gint64          *credit)
{
  gint64 total = alloc->pool;

  for (guint i = 0; i < alloc->items->len; i++)
    {
      RecoupAllocItem *it = &g_array_index (alloc->items, RecoupAllocItem, i);

      if (it->net == 0)
        continue;
      buckets[recoup_aging_bucket_for_days (as_of_day - it->due_day)] += it->net;
      total += it->net;
    }
  *credit += alloc->pool;
  return total;
}

static void
aging_add_account (RecoupAgingRow  *row,
                   RecoupAllocator *alloc,
                   gint32           as_of_day)
{
  gint64 total = recoup_allocator_age (alloc, as_of_day, row->buckets, &row->credit);

  row->total += total;
  if (total != 0)
    row->n_accounts++;
}

gboolean
recoup_ledger_account_aging (RecoupBook      *book,
                             const char      *account_id,
                             const char      *as_of,
                             RecoupAgingRow  *out_row,
                             GError         **error)
{
  RecoupAllocator alloc;
  gint32 as_of_day;
  gboolean ok;

  memset (out_row, 0, sizeof *out_row);
  if ((as_of_day = resolve_as_of (book, as_of, error)) == RECOUP_DATE_INVALID)
    return FALSE;
  recoup_allocator_init (&alloc);
  ok = recoup_ledger_allocate (book, account_id, as_of_day, &alloc, error);
  if (ok)
    {
      out_row->currency = recoup_ledger_account_currency (book, account_id, NULL);
      aging_add_account (out_row, &alloc, as_of_day);
    }
  recoup_allocator_clear (&alloc);
  return ok;
}

static RecoupAgingRow *
aging_row_for (GPtrArray  *rows,
               const char *currency)
{
  RecoupAgingRow *row;

  for (guint i = 0; i < rows->len; i++)
    {
      row = g_ptr_array_index (rows, i);
      if (g_strcmp0 (row->currency, currency) == 0)
        return row;
    }
  row = g_new0 (RecoupAgingRow, 1);
  row->currency = g_strdup (currency);
  g_ptr_array_add (rows, row);
  return row;
}

typedef struct
{
  char   id[40];
  gint32 due_day;
} DueDate;

/* Loads the due dates of @account's invoices from @invoices, a cursor over all
 * invoices in account order, leaving it on the first row of a later account. */
static void
load_due_dates (sqlite3_stmt *invoices,
                int          *rc,
                const char   *account,
                GArray       *out)
{
  g_array_set_size (out, 0);
  while (*rc == SQLITE_ROW)
    {
      int cmp = strcmp (RECOUP_BOOK_STMT_TEXT (invoices, 0), account);

      if (cmp > 0)
        break;
      if (cmp == 0)
        {
          DueDate d;

          g_strlcpy (d.id, RECOUP_BOOK_STMT_TEXT (invoices, 1), sizeof d.id);
          d.due_day = recoup_date_parse (RECOUP_BOOK_STMT_TEXT (invoices, 2), NULL);
          g_array_append_val (out, d);
        }
      *rc = sqlite3_step (invoices);
    }
}

static gint32
due_day_of (GArray     *due_dates,
            const char *invoice_id,
            gint32      fallback)
{
  for (guint i = 0; i < due_dates->len; i++)
    {
      DueDate *d = &g_array_index (due_dates, DueDate, i);

      if (strcmp (d->id, invoice_id) == 0)
        return d->due_day;
    }
  return fallback;
}

/**
 * recoup_aging_summary:
 *
 * The whole book's aging as of a date: one row per currency. Two cursors in
 * account order, the ledger and the invoices' due dates, are merged (a join
 * per entry costs as much again), and each account is allocated as it goes.
 */
GPtrArray *
recoup_aging_summary (RecoupBook  *book,
                      const char  *as_of,
                      GError     **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_aging_row_free);
  g_autoptr(GArray) due_dates = g_array_new (FALSE, FALSE, sizeof (DueDate));
  RecoupAllocator alloc;
  char current[40] = "";
  char current_currency[4] = "";
  char as_of_text[11];
  gint32 as_of_day;
  sqlite3_stmt *stmt;
  sqlite3_stmt *invoices;
  int rc, irc;

  if ((as_of_day = resolve_as_of (book, as_of, error)) == RECOUP_DATE_INVALID)
    return NULL;
  recoup_date_format_buf (as_of_day, as_of_text);

  stmt = recoup_book_prepare (book,
    "SELECT account_id, currency, id, invoice_id, effective_date, amount, coalesce (waives_id, reverses_id)"
    " FROM ledger_entries WHERE effective_date <= ? ORDER BY account_id", error);
  if (stmt == NULL)
    return NULL;
  invoices = recoup_book_prepare (book,
    "SELECT account_id, id, due_date FROM invoices ORDER BY account_id", error);
  if (invoices == NULL)
    return NULL;

  recoup_allocator_init (&alloc);
  sqlite3_bind_text (stmt, 1, as_of_text, -1, SQLITE_STATIC);
  irc = sqlite3_step (invoices);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *account = RECOUP_BOOK_STMT_TEXT (stmt, 0);
      const char *invoice_id = RECOUP_BOOK_STMT_TEXT (stmt, 3);
      gint32 eff;

      if (strcmp (account, current) != 0)
        {
          if (current[0] != '\0')
            {
              recoup_allocator_finish (&alloc);
              aging_add_account (aging_row_for (rows, current_currency), &alloc, as_of_day);
            }
          recoup_allocator_reset (&alloc);
          g_strlcpy (current, account, sizeof current);
          g_strlcpy (current_currency, RECOUP_BOOK_STMT_TEXT (stmt, 1), sizeof current_currency);
          load_due_dates (invoices, &irc, current, due_dates);
        }
      eff = recoup_date_parse (RECOUP_BOOK_STMT_TEXT (stmt, 4), NULL);
      recoup_allocator_add_entry (&alloc, invoice_id, RECOUP_BOOK_STMT_TEXT (stmt, 2),
                                  RECOUP_BOOK_STMT_TEXT (stmt, 6),
                                  invoice_id ? due_day_of (due_dates, invoice_id, eff) : eff, eff,
                                  sqlite3_column_int64 (stmt, 5));
    }
  if (rc != SQLITE_DONE || (irc != SQLITE_DONE && irc != SQLITE_ROW))
    {
      recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      sqlite3_reset (invoices);
      recoup_allocator_clear (&alloc);
      return NULL;
    }
  if (current[0] != '\0')
    {
      recoup_allocator_finish (&alloc);
      aging_add_account (aging_row_for (rows, current_currency), &alloc, as_of_day);
    }
  sqlite3_reset (stmt);
  sqlite3_reset (invoices);
  recoup_allocator_clear (&alloc);
  return g_steal_pointer (&rows);
}

void
recoup_invoice_balance_free (RecoupInvoiceBalance *ib)
{
  if (ib == NULL)
    return;
  g_free (ib->id);
  g_free (ib->ref);
  g_free (ib->issue_date);
  g_free (ib->due_date);
  g_free (ib->description);
  g_free (ib);
}

void
recoup_ledger_entry_free (RecoupLedgerEntry *e)
{
  if (e == NULL)
    return;
  g_free (e->id);
  g_free (e->kind);
  g_free (e->invoice_ref);
  g_free (e->currency);
  g_free (e->effective_date);
  g_free (e->method);
  g_free (e->reference);
  g_free (e->receipt_no);
  g_free (e->reverses_id);
  g_free (e->reverses_kind);
  g_free (e->reverses_date);
  g_free (e->reversed_by);
  g_free (e->waives_id);
  g_free (e->waives_kind);
  g_free (e->waives_date);
  g_free (e->memo);
  g_free (e);
}

void
recoup_aging_row_free (RecoupAgingRow *row)
{
  if (row == NULL)
    return;
  g_free (row->currency);
  g_free (row);
}
