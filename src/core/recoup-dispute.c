/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-dispute"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "recoup-activity.h"
#include "recoup-book-private.h"
#include "recoup-dispute.h"
#include "recoup-id.h"
#include "recoup-ledger-private.h"
#include "recoup-money.h"

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

/* How a resolved dispute ended, as a message names it; the book keeps the
 * untranslated word. */
static const char *
status_label (const char *status)
{
  if (g_strcmp0 (status, "upheld") == 0)
    return C_("dispute status", "upheld");
  if (g_strcmp0 (status, "rejected") == 0)
    return C_("dispute status", "rejected");
  return status;
}

/* Whether the invoice @invoice_id is on the account @account_id; if not,
 * says so naming both (and the account it is on) by their references. */
static gboolean
invoice_on_account (RecoupBook  *book,
                    const char  *invoice_id,
                    const char  *account_id,
                    GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT i.account_id = ?2, i.ref, o.ref, (SELECT ref FROM accounts WHERE id = ?2)"
    " FROM invoices i JOIN accounts o ON o.id = i.account_id WHERE i.id = ?1", error);
  gboolean on = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, invoice_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 _("no invoice with id %s"), invoice_id);
  else if (!(on = sqlite3_column_int (stmt, 0)))
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 /* Translators: an invoice's reference, then two accounts' references */
                 _("invoice %s is on account %s, not on %s"), RECOUP_BOOK_STMT_TEXT (stmt, 1),
                 RECOUP_BOOK_STMT_TEXT (stmt, 2), RECOUP_BOOK_STMT_TEXT (stmt, 3));
  sqlite3_reset (stmt);
  return on;
}

/* Keeps a dispute's opening or resolution in the account's history, as a
 * note in one fixed form (like "Opted out"), in the caller's transaction:
 * who did it and when reads beside the calls and letters around it, and a
 * dispute resolved on two copies shows both resolutions there. */
static gboolean
log_dispute_note (RecoupBook  *book,
                  const char  *account_id,
                  const char  *text,
                  GError     **error)
{
  RecoupActivitySpec spec = {
    .account_id = account_id,
    .channel = "note",
    .at = recoup_book_now_ms (book),
    .notes = text,
  };
  g_autofree char *activity = recoup_activity_log (book, &spec, error);

  return activity != NULL;
}

char *
recoup_dispute_open (RecoupBook  *book,
                     const char  *account_id,
                     const char  *invoice_id,
                     const char  *reason,
                     GError     **error)
{
  char id[RECOUP_UUID_STRING_LEN + 1];
  sqlite3_stmt *stmt;
  gboolean found;

  g_return_val_if_fail (RECOUP_IS_BOOK (book), NULL);

  stmt = recoup_book_prepare (book, "SELECT 1 FROM accounts WHERE id = ? AND deleted = 0", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  if (!found)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   _("no account with id %s"), account_id ? account_id : "");
      return NULL;
    }
  if (invoice_id != NULL && !invoice_on_account (book, invoice_id, account_id, error))
    return NULL;
  if (text_is_blank (reason))
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("a dispute needs a reason: say what the customer disputes (--reason)"));
      return NULL;
    }

  if (!recoup_book_begin (book, error))
    return NULL;
  recoup_uuid7_generate (id);
  stmt = recoup_book_prepare (book,
    "INSERT INTO disputes (id, account_id, invoice_id, reason, status, opened_by, opened_at)"
    " VALUES (?, ?, ?, ?, 'open', ?, ?)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, invoice_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, reason, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, recoup_book_now_ms (book));
  if (!recoup_book_step_done (book, stmt, error) ||
      !recoup_book_record_change (book, "disputes", id, RECOUP_CHANGE_INSERT, NULL, error))
    goto fail;
  recoup_book_touch_account (book, account_id);
  {
    g_autofree char *text = g_strdup_printf ("Dispute opened: %s", reason);

    if (!log_dispute_note (book, account_id, text, error))
      goto fail;
  }
  /* A failed commit has already rolled back its own level. */
  if (!recoup_book_commit (book, error))
    return NULL;
  return g_strdup (id);

fail:
  recoup_book_rollback (book);
  return NULL;
}

gboolean
recoup_dispute_resolve (RecoupBook  *book,
                        const char  *dispute_id,
                        gboolean     upheld,
                        const char  *resolution,
                        GError     **error)
{
  RecoupDisputeResolution res = { upheld, RECOUP_DISPUTE_REMEDY_NONE, 0, resolution };

  return recoup_dispute_resolve_full (book, dispute_id, &res, NULL, error);
}

/* What is open on what a dispute is about: the invoice's balance after
 * allocation, or the account's ledger balance. */
static gboolean
open_amount (RecoupBook  *book,
             const char  *account_id,
             const char  *invoice_id,
             gint64      *out_amount,
             GError     **error)
{
  *out_amount = 0;
  if (invoice_id == NULL)
    return recoup_ledger_balance (book, account_id, NULL, out_amount, error);
  else
    {
      /* Nothing on the ledger is dated after today. */
      g_autofree char *today = recoup_book_today (book);
      g_autoptr(GPtrArray) balances = recoup_ledger_invoice_balances (book, account_id, today, error);

      if (balances == NULL)
        return FALSE;
      for (guint i = 0; i < balances->len; i++)
        {
          RecoupInvoiceBalance *ib = g_ptr_array_index (balances, i);

          if (strcmp (ib->id, invoice_id) == 0)
            *out_amount = ib->balance;
        }
      return TRUE;
    }
}

/**
 * recoup_dispute_check_note:
 *
 * A resolution is a decision someone has to stand behind later, in front of
 * the customer or an auditor: it says why. Upheld without any change to the
 * balance, it says why the money is still owed.
 */
gboolean
recoup_dispute_check_note (const RecoupDisputeResolution  *res,
                           GError                        **error)
{
  if (!text_is_blank (res->note))
    return TRUE;
  g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       !res->upheld
                       ? _("a rejected dispute needs a note: say why the debt stands (what was checked, "
                           "what proves it)")
                       : res->remedy == RECOUP_DISPUTE_REMEDY_NONE
                       ? _("an upheld dispute that leaves the balance as it is needs a note: say why the "
                           "money is still owed")
                       : _("an upheld dispute needs a note: say what the debtor was right about"));
  return FALSE;
}

/**
 * recoup_dispute_check_remedy:
 *
 * See recoup-dispute.h. An adjustment beyond what is open would turn an
 * upheld dispute into a credit the customer never asked for; writing off
 * what is open is the way to clear it all.
 */
gboolean
recoup_dispute_check_remedy (const RecoupDisputeResolution  *res,
                             gboolean                        on_invoice,
                             gint64                          open,
                             const char                     *currency,
                             GError                        **error)
{
  if (!res->upheld && res->remedy != RECOUP_DISPUTE_REMEDY_NONE)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("a rejected dispute changes nothing on the ledger: a write-off or "
                             "adjustment needs the dispute to be upheld"));
      return FALSE;
    }
  if (res->remedy == RECOUP_DISPUTE_REMEDY_WRITE_OFF && open <= 0)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           on_invoice
                           ? _("nothing is open on the disputed invoice to write off: uphold the dispute "
                               "without a write-off")
                           : _("nothing is open on the disputed account to write off: uphold the dispute "
                               "without a write-off"));
      return FALSE;
    }
  if (res->remedy == RECOUP_DISPUTE_REMEDY_ADJUST && res->amount <= 0)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("the adjustment for an upheld dispute must be more than zero (it lowers "
                             "the balance)"));
      return FALSE;
    }
  if (res->remedy == RECOUP_DISPUTE_REMEDY_ADJUST && res->amount > open)
    {
      g_autofree char *shown = recoup_money_format_for_reader (res->amount, currency,
                                                               RECOUP_MONEY_FORMAT_GROUPING |
                                                               RECOUP_MONEY_FORMAT_CODE);
      g_autofree char *left = recoup_money_format_for_reader (MAX (open, 0), currency,
                                                              RECOUP_MONEY_FORMAT_GROUPING |
                                                              RECOUP_MONEY_FORMAT_CODE);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   on_invoice
                   /* Translators: two amounts with their currency code: the adjustment, then
                    * what is open */
                   ? _("the adjustment of %s is more than the %s open on the disputed invoice: adjust "
                       "by at most that, or write off what is open")
                   /* Translators: two amounts with their currency code: the adjustment, then
                    * what is open */
                   : _("the adjustment of %s is more than the %s open on the disputed account: adjust "
                       "by at most that, or write off what is open"), shown, left);
      return FALSE;
    }
  return TRUE;
}

gboolean
recoup_dispute_resolve_full (RecoupBook                    *book,
                             const char                    *dispute_id,
                             const RecoupDisputeResolution *res,
                             char                         **out_entry_id,
                             GError                       **error)
{
  static const char * const fields[] = { "status", "resolution", "resolved_by", "resolved_at", NULL };
  g_autoptr(RecoupDispute) d = NULL;
  g_autofree char *entry_id = NULL;
  g_autofree char *memo = NULL;
  g_autofree char *currency = NULL;
  g_autofree char *note = NULL;
  RecoupEntrySpec entry = { 0 };
  gint64 open = 0;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (RECOUP_IS_BOOK (book), FALSE);
  if (out_entry_id != NULL)
    *out_entry_id = NULL;

  if (!(d = recoup_dispute_load (book, dispute_id, error)))
    return FALSE;
  if (strcmp (d->status, "open") != 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   /* Translators: the dispute's id, then how it was resolved: upheld or rejected */
                   _("dispute %s is already resolved (%s); a dispute is resolved once — open a new "
                     "one if the customer disputes again"), d->id, status_label (d->status));
      return FALSE;
    }
  if (!recoup_dispute_check_note (res, error))
    return FALSE;
  if (res->remedy != RECOUP_DISPUTE_REMEDY_NONE &&
      (!(currency = recoup_ledger_account_currency (book, d->account_id, error)) ||
       !open_amount (book, d->account_id, d->invoice_id, &open, error) ||
       !recoup_dispute_check_remedy (res, d->invoice_id != NULL, open, currency, error)))
    return FALSE;
  note = g_strstrip (g_strdup (res->note));

  if (!recoup_book_begin (book, error))
    return FALSE;
  stmt = recoup_book_prepare (book,
    "UPDATE disputes SET status = ?, resolution = ?, resolved_by = ?, resolved_at = ?"
    " WHERE id = ? AND status = 'open'", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, res->upheld ? "upheld" : "rejected", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, note, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, recoup_book_now_ms (book));
  sqlite3_bind_text (stmt, 5, d->id, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error) ||
      !recoup_book_record_change (book, "disputes", d->id, RECOUP_CHANGE_SET, fields, error))
    goto fail;
  recoup_book_touch_account (book, d->account_id);
  {
    g_autofree char *text = g_strdup_printf (res->upheld ? "Dispute upheld: %s" : "Dispute rejected: %s", note);

    if (!log_dispute_note (book, d->account_id, text, error))
      goto fail;
  }

  if (res->remedy != RECOUP_DISPUTE_REMEDY_NONE)
    {
      /* The resolution keeps the whole note; the entry's memo, which has a
       * limit of its own, a start of it. */
      g_autofree char *start = g_utf8_substring (note, 0, MIN (g_utf8_strlen (note, -1), 900));

      memo = g_strdup_printf ("dispute %s upheld: %s", d->id, start);
      entry.account_id = d->account_id;
      entry.invoice_id = d->invoice_id;
      entry.memo = memo;
      if (res->remedy == RECOUP_DISPUTE_REMEDY_WRITE_OFF)
        {
          entry.kind = RECOUP_ENTRY_WRITE_OFF;
          entry.amount = open;
        }
      else
        {
          entry.kind = RECOUP_ENTRY_ADJUSTMENT;
          entry.amount = -res->amount;
        }
      if (!(entry_id = recoup_ledger_record (book, &entry, error)))
        goto fail;
    }

  if (!recoup_book_commit (book, error))
    return FALSE;
  if (out_entry_id != NULL)
    *out_entry_id = g_steal_pointer (&entry_id);
  return TRUE;

fail:
  recoup_book_rollback (book);
  return FALSE;
}

gboolean
recoup_dispute_account_has_open (RecoupBook *book,
                                 const char *account_id)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT 1 FROM disputes WHERE account_id = ? AND status = 'open' LIMIT 1", NULL);
  gboolean open;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  open = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return open;
}

#define DISPUTE_COLUMNS \
  "d.id, d.account_id, d.invoice_id, i.ref, d.reason, d.status, d.resolution, d.opened_at, " \
  "coalesce(d.resolved_at, 0) FROM disputes d LEFT JOIN invoices i ON i.id = d.invoice_id"

static RecoupDispute *
dispute_from_row (sqlite3_stmt *stmt)
{
  RecoupDispute *d = g_new0 (RecoupDispute, 1);

  d->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  d->account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
  d->invoice_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
  d->invoice_ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
  d->reason = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
  d->status = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
  d->resolution = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 6));
  d->opened_at = sqlite3_column_int64 (stmt, 7);
  d->resolved_at = sqlite3_column_int64 (stmt, 8);
  return d;
}

RecoupDispute *
recoup_dispute_load (RecoupBook  *book,
                     const char  *dispute_id,
                     GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT " DISPUTE_COLUMNS " WHERE d.id = ?", error);
  RecoupDispute *d = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, dispute_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    d = dispute_from_row (stmt);
  sqlite3_reset (stmt);
  if (d == NULL)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 _("no dispute with id “%s” (see “recoup-cli dispute list ACCOUNT”)"),
                 dispute_id ? dispute_id : "");
  return d;
}

GPtrArray *
recoup_dispute_list (RecoupBook  *book,
                     const char  *account_id,
                     GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT " DISPUTE_COLUMNS " WHERE d.account_id = ? ORDER BY d.opened_at DESC, d.id DESC", error);
  GPtrArray *list;

  if (stmt == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_dispute_free);
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (list, dispute_from_row (stmt));
  sqlite3_reset (stmt);
  return list;
}

void
recoup_dispute_free (RecoupDispute *d)
{
  if (d == NULL)
    return;
  g_free (d->id);
  g_free (d->account_id);
  g_free (d->invoice_id);
  g_free (d->invoice_ref);
  g_free (d->reason);
  g_free (d->status);
  g_free (d->resolution);
  g_free (d);
}
