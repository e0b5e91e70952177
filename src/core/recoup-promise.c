/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-promise"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "recoup-activity.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-id.h"
#include "recoup-ledger.h"
#include "recoup-money.h"
#include "recoup-promise.h"
#include "recoup-settings.h"

/* See recoup-promise.h for the rule that derives a promise's status. */

const char *
recoup_promise_status_to_string (RecoupPromiseStatus status)
{
  switch (status)
    {
    case RECOUP_PROMISE_PENDING:     return "pending";
    case RECOUP_PROMISE_KEPT:        return "kept";
    case RECOUP_PROMISE_PARTLY_KEPT: return "partly-kept";
    case RECOUP_PROMISE_BROKEN:      return "broken";
    default:                         g_return_val_if_reached ("pending");
    }
}

RecoupPromiseStatus
recoup_promise_status_for (gint64 amount,
                           gint32 due_day,
                           int    grace_days,
                           gint64 paid,
                           gint32 as_of_day)
{
  if (paid >= amount)
    return RECOUP_PROMISE_KEPT;
  if (as_of_day <= due_day + grace_days)
    return RECOUP_PROMISE_PENDING;
  return paid > 0 ? RECOUP_PROMISE_PARTLY_KEPT : RECOUP_PROMISE_BROKEN;
}

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

/**
 * recoup_promise_check_amount:
 *
 * The part of recoup_promise_check_terms() about the money: more than zero
 * and at most what is @owed. The dialog asks it on its own to mark the amount.
 */
gboolean
recoup_promise_check_amount (gint64       amount,
                             const char  *currency,
                             gint64       owed,
                             GError     **error)
{
  if (amount <= 0)
    {
      g_autofree char *shown = recoup_money_format_for_reader (amount, currency, 0);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: an amount, then its currency code */
                   _("promise amount %s %s: a promise must be for more than zero"), shown, currency);
      return FALSE;
    }
  if (amount > owed)
    {
      g_autofree char *shown = recoup_money_format_for_reader (amount, currency,
                                                               RECOUP_MONEY_FORMAT_GROUPING |
                                                               RECOUP_MONEY_FORMAT_CODE);
      g_autofree char *left = recoup_money_format_for_reader (MAX (owed, 0), currency,
                                                              RECOUP_MONEY_FORMAT_GROUPING |
                                                              RECOUP_MONEY_FORMAT_CODE);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: two amounts with their currency code: promised, then owed */
                   _("a promise of %s is more than the %s owed on the account"), shown, left);
      return FALSE;
    }
  return TRUE;
}

/**
 * recoup_promise_latest_due_day:
 * @made_day: the day the promise is made
 *
 * The last day a promise made on @made_day may fall due:
 * RECOUP_PROMISE_MAX_MONTHS_AHEAD months later. A settlement offer is a
 * promise to pay a lump sum, and its pay-by date is held to the same day
 * (recoup_offer_check_terms()).
 */
gint32
recoup_promise_latest_due_day (gint32 made_day)
{
  return recoup_date_add_months (made_day, RECOUP_PROMISE_MAX_MONTHS_AHEAD);
}

/**
 * recoup_promise_check_terms:
 *
 * A promise is for more than zero and at most what is @owed on the account,
 * and falls due on or after the day it is made and at most
 * RECOUP_PROMISE_MAX_MONTHS_AHEAD months after it: a promise to pay is a
 * near-term commitment the collector follows up; longer terms are a payment
 * plan, which is an offer (recoup-offer.h) with its own approval. The log
 * dialog asks this as the user types; recoup_promise_add() asks it again when
 * it writes.
 */
gboolean
recoup_promise_check_terms (gint64       amount,
                            const char  *currency,
                            gint64       owed,
                            const char  *due_date,
                            const char  *made_on,
                            GError     **error)
{
  gint32 due_day, made_day;

  if (!recoup_promise_check_amount (amount, currency, owed, error))
    return FALSE;
  if ((due_day = recoup_date_parse (due_date, error)) == RECOUP_DATE_INVALID)
    {
      g_prefix_error (error, "%s", _("promise date: "));
      return FALSE;
    }
  if ((made_day = recoup_date_parse (made_on, error)) == RECOUP_DATE_INVALID)
    {
      g_prefix_error (error, "%s", _("promise made on: "));
      return FALSE;
    }
  if (due_day < made_day)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the promised date, then the day the promise is made (twice), YYYY-MM-DD */
                   _("promise date %s is before the day it is made (%s): give a date from %s on"),
                   due_date, made_on, made_on);
      return FALSE;
    }
  if (due_day > recoup_promise_latest_due_day (made_day))
    {
      g_autofree char *last = recoup_date_format (recoup_promise_latest_due_day (made_day));

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the promised date, the day the promise is made, and the
                    * last date it may promise, YYYY-MM-DD */
                   _("promise date %s is more than a year after the day it is made (%s): give a date "
                     "by %s, or agree a payment plan for longer terms"), due_date, made_on, last);
      return FALSE;
    }
  return TRUE;
}

/* The grace a promise is given: RECOUP_PROMISE_GRACE_BOOK_DEFAULT, or 0 to
 * RECOUP_PROMISE_MAX_GRACE_DAYS days. Any other negative number is a mistake
 * (a typed "-7"), not a wish for the book's default. */
static gboolean
check_grace (int      grace_days,
             GError **error)
{
  if (grace_days == RECOUP_PROMISE_GRACE_BOOK_DEFAULT ||
      (grace_days >= 0 && grace_days <= RECOUP_PROMISE_MAX_GRACE_DAYS))
    return TRUE;
  if (grace_days < 0)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                 /* Translators: the grace asked for, in days */
                 _("promise grace of %d days: give zero or more days, or leave it out for the book's "
                   "default"), grace_days);
  else
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                 g_dngettext (GETTEXT_PACKAGE,
                              /* Translators: the grace asked for, then the most allowed, both in days */
                              "promise grace of %d day is more than the %d allowed",
                              "promise grace of %d days is more than the %d allowed", (gulong) grace_days),
                 grace_days, RECOUP_PROMISE_MAX_GRACE_DAYS);
  return FALSE;
}

/* How a promise was taken: the channel of the contact it was taken in.
 * The system logs contacts but takes no promises. */
static gboolean
check_channel (const char  *channel,
               GError     **error)
{
  if (channel == NULL)
    return TRUE;
  if (text_is_blank (channel))
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("promise channel is empty: say how it was taken (call, visit, email, …) "
                             "or leave it out"));
      return FALSE;
    }
  if (g_strv_contains (recoup_activity_channels, channel) && strcmp (channel, "system") != 0)
    return TRUE;
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
               /* Translators: the channel given; the words in parentheses are the values
                * recoup-cli takes: keep them */
               _("“%s” is not a way a promise is taken (call, visit, email, sms, letter, note)"),
               channel);
  return FALSE;
}

/* A promise taken in a logged contact needs a contact in which the debtor
 * agreed: a wrong number that "promised" is a contradiction in the history. */
static gboolean
check_activity_outcome (RecoupBook  *book,
                        const char  *activity_id,
                        GError     **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *outcome = NULL;
  gboolean found;

  if (activity_id == NULL)
    return TRUE;
  stmt = recoup_book_prepare (book, "SELECT outcome FROM activities WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, activity_id, -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  if (found)
    outcome = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  if (!found)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   _("promise: no contact with id “%s” to take it in"), activity_id);
      return FALSE;
    }
  return recoup_activity_check_promise_outcome (outcome, error);
}

char *
recoup_promise_add (RecoupBook              *book,
                    const RecoupPromiseSpec *spec,
                    GError                 **error)
{
  g_autofree char *currency = NULL;
  g_autofree char *today = NULL;
  const char *made_on = spec->made_on;
  char id[RECOUP_UUID_STRING_LEN + 1];
  gint64 owed = 0;
  int grace = spec->grace_days;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (RECOUP_IS_BOOK (book), NULL);

  /* Validate everything before the transaction: bad input changes nothing. */
  stmt = recoup_book_prepare (book, "SELECT currency FROM accounts WHERE id = ? AND deleted = 0", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, spec->account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  if (currency == NULL)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   _("promise: no account with id “%s”"), spec->account_id ? spec->account_id : "");
      return NULL;
    }
  today = recoup_book_today (book);
  if (made_on == NULL)
    made_on = today;
  if (!recoup_ledger_balance (book, spec->account_id, NULL, &owed, error) ||
      !recoup_promise_check_terms (spec->amount, currency, owed, spec->due_date, made_on, error))
    return NULL;
  /* Payments from the day it is made count toward it: one made after today
   * would miss today's. */
  if (strcmp (made_on, today) > 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the day the promise is made, then today's, YYYY-MM-DD */
                   _("a promise cannot be made on %s, after today (%s): give the day it was taken"),
                   made_on, today);
      return NULL;
    }
  if (!check_grace (grace, error) || !check_channel (spec->channel, error) ||
      !check_activity_outcome (book, spec->activity_id, error))
    return NULL;
  if (grace == RECOUP_PROMISE_GRACE_BOOK_DEFAULT)
    grace = (int) recoup_settings_get_int (book, "promise.grace_days", RECOUP_PROMISE_DEFAULT_GRACE_DAYS,
                                           0, RECOUP_PROMISE_MAX_GRACE_DAYS);

  if (!recoup_book_begin (book, error))
    return NULL;

  recoup_uuid7_generate (id);
  stmt = recoup_book_prepare (book,
    "INSERT INTO promises (id, account_id, amount, currency, due_date, channel, activity_id,"
    " grace_days, user_id, created_at, made_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, spec->account_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, spec->amount);
  sqlite3_bind_text (stmt, 4, currency, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, spec->due_date, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, spec->channel, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, spec->activity_id, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 8, grace);
  sqlite3_bind_text (stmt, 9, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 10, recoup_book_now_ms (book));
  sqlite3_bind_text (stmt, 11, made_on, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error) ||
      !recoup_book_record_change (book, "promises", id, RECOUP_CHANGE_INSERT, NULL, error))
    goto fail;
  recoup_book_touch_account (book, spec->account_id);
  /* A failed commit has already rolled back its own level. */
  if (!recoup_book_commit (book, error))
    return NULL;
  return g_strdup (id);

fail:
  recoup_book_rollback (book);
  return NULL;
}

gboolean
recoup_promise_counts_payment (gint32 made_day,
                               gint64 made_at,
                               gint32 payment_day,
                               gint64 payment_recorded)
{
  return payment_day > made_day || (payment_day == made_day && payment_recorded >= made_at);
}

gint64
recoup_promise_order_instant (gint32 made_day,
                              gint64 created_at)
{
  g_autoptr(GTimeZone) local = g_time_zone_new_local ();

  return created_at > 0 && recoup_date_from_unix_ms (created_at, local) == made_day ? created_at : 0;
}

/* The payments counted toward a promise (see the header), as of a day: by
 * recoup_promise_counts_payment(), in SQL. */
static gboolean
promise_paid (RecoupBook  *book,
              const char  *account_id,
              const char  *from,
              gint64       made_at,
              gint32       until_day,
              const char  *as_of,
              gint64      *out_paid,
              GError     **error)
{
  char until[11];
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT coalesce(-sum(p.amount), 0) FROM ledger_entries p"
    " WHERE p.account_id = ?1 AND p.kind = 'payment'"
    "   AND (p.effective_date > ?2 OR (p.effective_date = ?2 AND p.created_at >= ?5))"
    "   AND p.effective_date <= ?3"
    "   AND NOT EXISTS (SELECT 1 FROM ledger_entries r"
    "                   WHERE r.reverses_id = p.id AND r.effective_date <= ?4)", error);

  if (stmt == NULL)
    return FALSE;
  recoup_date_format_buf (until_day, until);
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, until, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, as_of, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, made_at);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return recoup_book_set_sqlite_error (book, error);
    }
  *out_paid = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return TRUE;
}

#define PROMISE_COLUMNS \
  "p.id, p.account_id, a.ref, p.amount, p.currency, p.due_date, " \
  "coalesce(p.made_on, date(p.created_at / 1000, 'unixepoch')), p.channel, p.grace_days, p.created_at"

static RecoupPromise *
promise_from_row (sqlite3_stmt *stmt)
{
  RecoupPromise *p = g_new0 (RecoupPromise, 1);

  p->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  p->account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
  p->account_ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
  p->amount = sqlite3_column_int64 (stmt, 3);
  p->currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
  p->due_date = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
  p->made_on = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 6));
  p->channel = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 7));
  p->grace_days = sqlite3_column_int (stmt, 8);
  p->created_at = sqlite3_column_int64 (stmt, 9);
  return p;
}

/* Rows are read first, then judged: the judging reuses cached statements. */
static gboolean
judge_promises (RecoupBook  *book,
                GPtrArray   *list,
                gint32       as_of_day,
                GError     **error)
{
  char as_of[11];

  recoup_date_format_buf (as_of_day, as_of);
  for (guint i = 0; i < list->len; i++)
    {
      RecoupPromise *p = g_ptr_array_index (list, i);
      gint32 due_day = recoup_date_parse (p->due_date, NULL);
      gint32 until = MIN (due_day + p->grace_days, as_of_day);

      gint64 made_at = recoup_promise_order_instant (recoup_date_parse (p->made_on, NULL), p->created_at);

      if (!promise_paid (book, p->account_id, p->made_on, made_at, until, as_of, &p->paid, error))
        return FALSE;
      p->paid = MAX (p->paid, 0);
      p->status = recoup_promise_status_for (p->amount, due_day, p->grace_days, p->paid, as_of_day);
    }
  return TRUE;
}

static gint32
resolve_day (RecoupBook  *book,
             const char  *day,
             GError     **error)
{
  g_autofree char *today = NULL;

  if (day == NULL)
    day = today = recoup_book_today (book);
  return recoup_date_parse (day, error);
}

GPtrArray *
recoup_promise_list (RecoupBook  *book,
                     const char  *account_id,
                     const char  *as_of,
                     GError     **error)
{
  g_autoptr(GPtrArray) list = NULL;
  sqlite3_stmt *stmt;
  char day_text[11];
  gint32 as_of_day;

  if ((as_of_day = resolve_day (book, as_of, error)) == RECOUP_DATE_INVALID)
    return NULL;
  recoup_date_format_buf (as_of_day, day_text);
  /* As of a past day, the promises made by then: a later one did not exist. */
  stmt = recoup_book_prepare (book,
    "SELECT " PROMISE_COLUMNS " FROM promises p JOIN accounts a ON a.id = p.account_id"
    " WHERE p.account_id = ?1 AND p.deleted = 0 AND coalesce (p.made_on, '') <= ?2"
    " ORDER BY p.due_date, p.id", error);
  if (stmt == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_promise_free);
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, day_text, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (list, promise_from_row (stmt));
  sqlite3_reset (stmt);
  if (!judge_promises (book, list, as_of_day, error))
    return NULL;
  return g_steal_pointer (&list);
}

GPtrArray *
recoup_promise_list_due (RecoupBook             *book,
                         const char             *day,
                         RecoupPromiseListFlags  flags,
                         GError                **error)
{
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) out = NULL;
  sqlite3_stmt *stmt;
  char day_text[11];
  gint32 as_of_day;

  if ((as_of_day = resolve_day (book, day, error)) == RECOUP_DATE_INVALID)
    return NULL;
  recoup_date_format_buf (as_of_day, day_text);

  stmt = recoup_book_prepare (book,
    "SELECT " PROMISE_COLUMNS " FROM promises p JOIN accounts a ON a.id = p.account_id"
    " WHERE p.deleted = 0 AND a.deleted = 0"
    "   AND ((?2 AND p.due_date = ?1)"
    "        OR (?3 AND p.due_date < ?1 AND date(p.due_date, '+' || p.grace_days || ' days') < ?1))"
    "   AND (NOT ?4 OR NOT EXISTS (SELECT 1 FROM promises q WHERE q.account_id = p.account_id"
    "        AND q.deleted = 0 AND (coalesce(q.made_on, '') > coalesce(p.made_on, '')"
    "             OR (coalesce(q.made_on, '') = coalesce(p.made_on, '') AND q.id > p.id))))"
    " ORDER BY a.ref, p.due_date, p.id", error);
  if (stmt == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_promise_free);
  sqlite3_bind_text (stmt, 1, day_text, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, (flags & RECOUP_PROMISE_LIST_DUE) != 0);
  sqlite3_bind_int (stmt, 3, (flags & RECOUP_PROMISE_LIST_BROKEN) != 0);
  sqlite3_bind_int (stmt, 4, (flags & RECOUP_PROMISE_LIST_LATEST_ONLY) != 0);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (list, promise_from_row (stmt));
  sqlite3_reset (stmt);
  if (!judge_promises (book, list, as_of_day, error))
    return NULL;

  out = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_promise_free);
  for (guint i = 0; i < list->len; i++)
    {
      RecoupPromise *p = g_ptr_array_index (list, i);

      if (p->status == RECOUP_PROMISE_KEPT)
        continue;
      if (p->status == RECOUP_PROMISE_PENDING && !(flags & RECOUP_PROMISE_LIST_DUE))
        continue;
      g_ptr_array_add (out, g_steal_pointer (&list->pdata[i]));
    }
  return g_steal_pointer (&out);
}

void
recoup_promise_free (RecoupPromise *p)
{
  if (p == NULL)
    return;
  g_free (p->id);
  g_free (p->account_id);
  g_free (p->account_ref);
  g_free (p->currency);
  g_free (p->due_date);
  g_free (p->made_on);
  g_free (p->channel);
  g_free (p);
}
