/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-offer"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "recoup-accounts.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-dispute.h"
#include "recoup-id.h"
#include "recoup-ledger-private.h"
#include "recoup-ledger.h"
#include "recoup-money.h"
#include "recoup-offer.h"
#include "recoup-promise.h"
#include "recoup-review.h"
#include "recoup-settings.h"

/* The rules are written down in recoup-offer.h. */

/* The book, the change log and the CLI keep these words as they are; a
 * message shows them translated (kind_label() and the like). */
static const char * const kind_names[] = {
  NC_("offer kind", "settlement"), NC_("offer kind", "plan"), NC_("offer kind", "extension"),
  NC_("offer kind", "waiver"),
};
static const char * const state_names[] = {
  NC_("offer state", "none"), NC_("offer state", "draft"), NC_("offer state", "offered"),
  NC_("offer state", "accepted"), NC_("offer state", "active"), NC_("offer state", "completed"),
  NC_("offer state", "defaulted"), NC_("offer state", "withdrawn"), NC_("offer state", "rejected"),
  NC_("offer state", "expired"),
};
static const char * const event_names[] = {
  NC_("offer event", "create"), NC_("offer event", "approve"), NC_("offer event", "send"),
  NC_("offer event", "accept"), NC_("offer event", "reject"), NC_("offer event", "withdraw"),
};
static const char * const frequency_names[] = { "weekly", "fortnightly", "monthly" };
static const char * const installment_status_names[] = { "upcoming", "paid", "partly-paid", "late", "missed" };

const char *
recoup_offer_kind_to_string (RecoupOfferKind kind)
{
  g_return_val_if_fail (kind <= RECOUP_OFFER_WAIVER, "settlement");
  return kind_names[kind];
}

static const char *
kind_label (RecoupOfferKind kind)
{
  return g_dpgettext2 (GETTEXT_PACKAGE, "offer kind", recoup_offer_kind_to_string (kind));
}

gboolean
recoup_offer_kind_from_string (const char      *text,
                               RecoupOfferKind *out_kind)
{
  guint i;

  if (!recoup_name_index (kind_names, G_N_ELEMENTS (kind_names), text, &i))
    return FALSE;
  *out_kind = (RecoupOfferKind) i;
  return TRUE;
}

const char *
recoup_offer_state_to_string (RecoupOfferState state)
{
  g_return_val_if_fail (state <= RECOUP_OFFER_STATE_EXPIRED, "none");
  return state_names[state];
}

static const char *
state_label (RecoupOfferState state)
{
  return g_dpgettext2 (GETTEXT_PACKAGE, "offer state", recoup_offer_state_to_string (state));
}

const char *
recoup_offer_event_to_string (RecoupOfferEvent event)
{
  g_return_val_if_fail (event <= RECOUP_OFFER_EVENT_WITHDRAW, "create");
  return event_names[event];
}

static const char *
event_label (RecoupOfferEvent event)
{
  return g_dpgettext2 (GETTEXT_PACKAGE, "offer event", recoup_offer_event_to_string (event));
}

gboolean
recoup_offer_event_from_string (const char       *text,
                                RecoupOfferEvent *out_event)
{
  guint i;

  if (!recoup_name_index (event_names, G_N_ELEMENTS (event_names), text, &i))
    return FALSE;
  *out_event = (RecoupOfferEvent) i;
  return TRUE;
}

const char *
recoup_frequency_to_string (RecoupFrequency frequency)
{
  g_return_val_if_fail (frequency <= RECOUP_FREQUENCY_MONTHLY, "monthly");
  return frequency_names[frequency];
}

gboolean
recoup_frequency_from_string (const char      *text,
                              RecoupFrequency *out_frequency)
{
  guint i;

  if (!recoup_name_index (frequency_names, G_N_ELEMENTS (frequency_names), text, &i))
    return FALSE;
  *out_frequency = (RecoupFrequency) i;
  return TRUE;
}

const char *
recoup_installment_status_to_string (RecoupInstallmentStatus status)
{
  g_return_val_if_fail (status <= RECOUP_INSTALLMENT_MISSED, "upcoming");
  return installment_status_names[status];
}

/* ---- The state machine (pure) ------------------------------------------------ */

static gboolean
is_expired_on (RecoupOfferState state,
               gint32           expires_day,
               gint32           day)
{
  return (state == RECOUP_OFFER_STATE_DRAFT || state == RECOUP_OFFER_STATE_OFFERED) &&
         expires_day != RECOUP_DATE_INVALID && day > expires_day;
}

gboolean
recoup_offer_check_transition (RecoupOfferState  state,
                               gboolean          needs_approval,
                               gboolean          approved,
                               gint32            expires_day,
                               RecoupOfferEvent  event,
                               gint32            event_day,
                               GError          **error)
{
  const char *what = event_label (event);
  const char *now = state_label (state);
  const char *from;

  if (event == RECOUP_OFFER_EVENT_CREATE)
    {
      if (state == RECOUP_OFFER_STATE_NONE)
        return TRUE;
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   /* Translators: %s is the offer's state (draft, offered, …) */
                   _("the offer already exists (it is %s)"), now);
      return FALSE;
    }
  if (state == RECOUP_OFFER_STATE_NONE)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   /* Translators: %s is what was to be done (approve, send, …) */
                   _("cannot %s an offer that was never created"), what);
      return FALSE;
    }
  if (is_expired_on (state, expires_day, event_day))
    {
      g_autofree char *exp = recoup_date_format (expires_day);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   /* Translators: what was to be done (approve, send, …), then the expiry date */
                   _("cannot %s: the offer is expired (it expired on %s); make a new offer"), what, exp);
      return FALSE;
    }

  switch (event)
    {
    case RECOUP_OFFER_EVENT_APPROVE:
      if (state != RECOUP_OFFER_STATE_DRAFT)
        break;
      if (!needs_approval)
        {
          g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                               _("the offer is within its maker's limits and needs no approval (it is "
                                 "draft)"));
          return FALSE;
        }
      if (approved)
        {
          g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                               _("the offer is already approved (it is draft); send it"));
          return FALSE;
        }
      return TRUE;

    case RECOUP_OFFER_EVENT_SEND:
      if (state != RECOUP_OFFER_STATE_DRAFT)
        break;
      if (needs_approval && !approved)
        {
          g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                               _("the offer is draft and beyond its maker's limits: an owner must "
                                 "approve it before it is sent (recoup-cli offer approve)"));
          return FALSE;
        }
      return TRUE;

    case RECOUP_OFFER_EVENT_ACCEPT:
      if (state == RECOUP_OFFER_STATE_DRAFT)
        {
          g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                               _("cannot accept: the offer is draft; send it to the customer first"));
          return FALSE;
        }
      if (state != RECOUP_OFFER_STATE_OFFERED)
        break;
      return TRUE;

    case RECOUP_OFFER_EVENT_REJECT:
      if (state != RECOUP_OFFER_STATE_OFFERED)
        break;
      return TRUE;

    case RECOUP_OFFER_EVENT_WITHDRAW:
      if (state != RECOUP_OFFER_STATE_DRAFT && state != RECOUP_OFFER_STATE_OFFERED)
        break;
      return TRUE;

    case RECOUP_OFFER_EVENT_CREATE:
    default:
      g_assert_not_reached ();
    }

  if (event == RECOUP_OFFER_EVENT_WITHDRAW)
    from = C_("offer state", "draft or offered");
  else if (event == RECOUP_OFFER_EVENT_SEND || event == RECOUP_OFFER_EVENT_APPROVE)
    from = state_label (RECOUP_OFFER_STATE_DRAFT);
  else
    from = state_label (RECOUP_OFFER_STATE_OFFERED);
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
               /* Translators: what was to be done (approve, send, …), the offer's state,
                * the same doing again, then the states it is possible from */
               _("cannot %s: the offer is %s (%s is only possible from %s)"), what, now, what, from);
  return FALSE;
}

static int
compare_event_records (gconstpointer a,
                       gconstpointer b)
{
  const RecoupOfferEventRecord *x = a;
  const RecoupOfferEventRecord *y = b;
  int c = recoup_hlc_compare (x->hlc, x->device_id, y->hlc, y->device_id);

  if (c != 0)
    return c;
  return g_strcmp0 (x->id, y->id);
}

RecoupOfferState
recoup_offer_state_replay (const RecoupOfferEventRecord *events,
                           guint                         n_events,
                           gboolean                      needs_approval,
                           gint32                        expires_day,
                           gint32                        as_of_day,
                           RecoupOfferReplay            *out)
{
  g_autofree RecoupOfferEventRecord *sorted = NULL;
  RecoupOfferReplay r = { .state = RECOUP_OFFER_STATE_NONE, .accepted_day = RECOUP_DATE_INVALID };

  if (n_events > 0)
    {
      sorted = g_memdup2 (events, sizeof *events * n_events);
      qsort (sorted, n_events, sizeof *sorted, compare_event_records);
    }

  for (guint i = 0; i < n_events; i++)
    {
      const RecoupOfferEventRecord *e = &sorted[i];

      if (!recoup_offer_check_transition (r.state, needs_approval, r.approved, expires_day,
                                          e->event, e->day, NULL))
        {
          /* Whether it stands depends on the account's other offers (ONE
           * RUNNING ARRANGEMENT): derive_offers() decides, and then no
           * longer counts it as a conflict. */
          if (e->event == RECOUP_OFFER_EVENT_WITHDRAW && r.state == RECOUP_OFFER_STATE_ACCEPTED &&
              r.withdraw_id == NULL)
            {
              r.withdraw_id = e->id;
              r.withdraw_hlc = e->hlc;
              r.withdraw_device = e->device_id;
            }
          r.n_conflicts++;
          continue;
        }
      r.n_applied++;
      switch (e->event)
        {
        case RECOUP_OFFER_EVENT_CREATE:   r.state = RECOUP_OFFER_STATE_DRAFT; break;
        case RECOUP_OFFER_EVENT_APPROVE:  r.approved = TRUE; break;
        case RECOUP_OFFER_EVENT_SEND:     r.state = RECOUP_OFFER_STATE_OFFERED; break;
        case RECOUP_OFFER_EVENT_ACCEPT:
          r.state = RECOUP_OFFER_STATE_ACCEPTED;
          r.accepted_day = e->day;
          r.accept_id = e->id;
          r.accepted_hlc = e->hlc;
          r.accepted_device = e->device_id;
          break;
        case RECOUP_OFFER_EVENT_REJECT:
          r.state = RECOUP_OFFER_STATE_REJECTED;
          r.closing_id = e->id;
          break;
        case RECOUP_OFFER_EVENT_WITHDRAW:
          r.state = RECOUP_OFFER_STATE_WITHDRAWN;
          r.closing_id = e->id;
          break;
        default:                          g_assert_not_reached ();
        }
    }

  if (is_expired_on (r.state, expires_day, as_of_day))
    r.state = RECOUP_OFFER_STATE_EXPIRED;
  if (out != NULL)
    *out = r;
  return r.state;
}

/* ---- Schedules (pure) -------------------------------------------------------- */

GArray *
recoup_offer_build_schedule (RecoupOfferKind  kind,
                             gint64           total,
                             int              installments,
                             RecoupFrequency  frequency,
                             gint32           first_day,
                             gint32           pay_by_day,
                             gint32           extend_to_day)
{
  GArray *schedule = g_array_new (FALSE, TRUE, sizeof (RecoupInstallment));
  RecoupInstallment inst = { 0 };

  switch (kind)
    {
    case RECOUP_OFFER_PLAN:
      {
        g_autofree gint64 *parts = NULL;

        g_return_val_if_fail (installments > 0, schedule);
        parts = g_new (gint64, installments);
        recoup_money_split (total, (guint) installments, parts);
        for (int i = 0; i < installments; i++)
          {
            inst.seq = (guint) i + 1;
            inst.amount = parts[i];
            switch (frequency)
              {
              case RECOUP_FREQUENCY_WEEKLY:      inst.due_day = first_day + 7 * i; break;
              case RECOUP_FREQUENCY_FORTNIGHTLY: inst.due_day = first_day + 14 * i; break;
              case RECOUP_FREQUENCY_MONTHLY:
              default:                           inst.due_day = recoup_date_add_months (first_day, i); break;
              }
            g_array_append_val (schedule, inst);
          }
      }
      break;

    case RECOUP_OFFER_SETTLEMENT:
    case RECOUP_OFFER_EXTENSION:
      inst.seq = 1;
      inst.amount = total;
      inst.due_day = kind == RECOUP_OFFER_SETTLEMENT ? pay_by_day : extend_to_day;
      g_array_append_val (schedule, inst);
      break;

    case RECOUP_OFFER_WAIVER:
    default:
      break;
    }
  return schedule;
}

/* ---- Helpers ----------------------------------------------------------------- */

static gint32
today_day (RecoupBook *book)
{
  g_autofree char *today = recoup_book_today (book);

  return recoup_date_parse (today, NULL);
}

/* @prefix names the date in the error, e.g. "pay by: ". */
static gint32
parse_optional_day (const char  *text,
                    const char  *prefix,
                    GError     **error)
{
  gint32 day;

  if (text == NULL)
    return RECOUP_DATE_INVALID;
  if ((day = recoup_date_parse (text, error)) == RECOUP_DATE_INVALID)
    g_prefix_error (error, "%s", prefix);
  return day;
}

/* A percentage inside a message, with the reader's decimal mark (“12,50 %”). */
static char *
format_bp (gint64 bp)
{
  guint64 magnitude = bp < 0 ? (guint64) 0 - (guint64) bp : (guint64) bp;

  return g_strdup_printf ("%s%" G_GUINT64_FORMAT "%c%02d %%", bp < 0 ? "-" : "", magnitude / 100,
                          recoup_money_locale_marks ()->decimal, (int) (magnitude % 100));
}

/* (num * 10000 / den) rounded up, for limits: never understate a discount. */
static gint64
bp_ceil (gint64 num,
         gint64 den)
{
  __int128 p = (__int128) num * 10000;

  if (den <= 0 || num <= 0)
    return 0;
  return (gint64) ((p + den - 1) / den);
}

gint64
recoup_offer_effective_bp (gint64 balance,
                           gint64 total)
{
  return bp_ceil (balance - total, balance);
}

/* The discount is rounded down, in the creditor's favour: then
 * recoup_offer_effective_bp() of the result is at most @discount_bp, and an
 * offer typed at a user's exact limit stays within it (rounded half up, 15 %
 * off 8,599.66 was 1,289.95 off, i.e. 15.01 %, and went for approval). */
gint64
recoup_offer_total_for_discount (gint64 base,
                                 gint64 discount_bp)
{
  if (base <= 0 || discount_bp <= 0)
    return base;
  discount_bp = MIN (discount_bp, 10000);
  return base - (gint64) ((__int128) base * discount_bp / 10000);
}

/* A user who may give plans of N installments may let what is owed fall due
 * up to N months ahead (at least one): a monthly plan at their limit that
 * starts now ends within it. Without this a collector held to 6 installments
 * could defer a debt for years with a far first date, pay-by or extension. */
gint32
recoup_offer_deferral_limit (gint32 today_day,
                             gint64 max_plan_installments)
{
  return recoup_date_add_months (today_day, (int) CLAMP (max_plan_installments, 1, RECOUP_OFFER_MAX_INSTALLMENTS));
}

/* The last day money falls due under @spec: a plan's last installment, a
 * settlement's pay-by, an extension's new deadline; RECOUP_DATE_INVALID for
 * a waiver. @spec has passed recoup_offer_check_terms(). */
static gint32
last_due_day (const RecoupOfferSpec *spec)
{
  g_autoptr(GArray) schedule = NULL;

  if (spec->kind == RECOUP_OFFER_WAIVER)
    return RECOUP_DATE_INVALID;
  /* The amounts do not matter for the dates. */
  schedule = recoup_offer_build_schedule (spec->kind, 0, spec->installments, spec->frequency,
                                          recoup_date_parse (spec->first_date, NULL),
                                          recoup_date_parse (spec->pay_by, NULL),
                                          recoup_date_parse (spec->extend_to, NULL));
  return g_array_index (schedule, RecoupInstallment, schedule->len - 1).due_day;
}

/**
 * recoup_offer_spec_authority:
 * @today_day: the book's today
 *
 * Whether @spec, made by a user of @role with these limits, needs an owner's
 * approval, and why: the first of its limits it goes beyond (a plan longer
 * than the maker may agree, more off than they may give, or money falling due
 * after recoup_offer_deferral_limit()). Owners approve offers: an owner's own
 * need no one's approval, whatever the owner's limits say (those are what a
 * collector's default would be). What recoup_offer_create() decides, for a
 * form that shows it before saving; dates that do not read yet are not judged.
 */
RecoupOfferAuthority
recoup_offer_spec_authority (const char            *role,
                             const RecoupOfferSpec *spec,
                             gint64                 effective_bp,
                             gint64                 max_discount_bp,
                             gint64                 max_plan_installments,
                             gint32                 today_day)
{
  const char *date = spec->kind == RECOUP_OFFER_PLAN ? spec->first_date :
                     spec->kind == RECOUP_OFFER_SETTLEMENT ? spec->pay_by :
                     spec->kind == RECOUP_OFFER_EXTENSION ? spec->extend_to : NULL;

  if (g_strcmp0 (role, "owner") == 0)
    return RECOUP_OFFER_WITHIN_AUTHORITY;
  if (spec->kind == RECOUP_OFFER_PLAN && spec->installments > max_plan_installments)
    return RECOUP_OFFER_BEYOND_INSTALLMENTS;
  if (effective_bp > max_discount_bp)
    return RECOUP_OFFER_BEYOND_DISCOUNT;
  if (date == NULL || recoup_date_parse (date, NULL) == RECOUP_DATE_INVALID ||
      (spec->kind == RECOUP_OFFER_PLAN && (spec->installments < 1 ||
                                           spec->installments > RECOUP_OFFER_MAX_INSTALLMENTS)))
    return RECOUP_OFFER_WITHIN_AUTHORITY;
  return last_due_day (spec) > recoup_offer_deferral_limit (today_day, max_plan_installments)
         ? RECOUP_OFFER_BEYOND_DEFERRAL : RECOUP_OFFER_WITHIN_AUTHORITY;
}

/* An account's fee and interest entries (?2, ?3: whether each counts), each
 * with what of it is still open after its reversal and its waivers: what a
 * waiver can take off. */
#define OPEN_TO_WAIVE_SQL \
  "SELECT f.id, f.effective_date, f.kind, " RECOUP_LEDGER_OPEN_SQL ("f") " AS open" \
  " FROM ledger_entries f" \
  " WHERE f.account_id = ?1 AND ((f.kind = 'fee' AND ?2) OR (f.kind = 'interest' AND ?3))"

/* What of the account's fees (@fees) or interest is still open: what a
 * waiver offer could remove. */
static gboolean
open_to_waive (RecoupBook  *book,
               const char  *account_id,
               gboolean     fees,
               gint64      *out,
               GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT coalesce (sum (max (open, 0)), 0) FROM (" OPEN_TO_WAIVE_SQL ")", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, fees);
  sqlite3_bind_int (stmt, 3, !fees);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return recoup_book_set_sqlite_error (book, error);
    }
  *out = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return TRUE;
}

typedef struct
{
  char   *role;
  char   *name;
  gint64  max_discount_bp;
  gint64  max_plan_installments;
} UserLimits;

static gboolean
load_user_limits (RecoupBook  *book,
                  UserLimits  *out,
                  GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT role, name, max_discount_bp, max_plan_installments FROM users WHERE id = ? AND deleted = 0",
    error);

  memset (out, 0, sizeof *out);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                   /* Translators: %s is a user's id */
                   _("the current user (%s) is not a user of this book"), recoup_book_get_user_id (book));
      return FALSE;
    }
  out->role = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  out->name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
  out->max_discount_bp = sqlite3_column_int64 (stmt, 2);
  out->max_plan_installments = sqlite3_column_int64 (stmt, 3);
  sqlite3_reset (stmt);
  return TRUE;
}

static void
user_limits_clear (UserLimits *u)
{
  g_clear_pointer (&u->role, g_free);
  g_clear_pointer (&u->name, g_free);
}

static gboolean
insert_event (RecoupBook        *book,
              const char        *offer_id,
              RecoupOfferEvent   event,
              const char        *note,
              GError           **error)
{
  g_autofree char *today = recoup_book_today (book);
  char id[RECOUP_UUID_STRING_LEN + 1];
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "INSERT INTO offer_events (id, offer_id, event, hlc, device_id, user_id, note, at, day)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  recoup_uuid7_generate (id);
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, offer_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, recoup_offer_event_to_string (event), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, recoup_book_stamp (book));
  sqlite3_bind_text (stmt, 5, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, note ? note : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 8, recoup_book_now_ms (book));
  sqlite3_bind_text (stmt, 9, today, -1, SQLITE_STATIC);
  return recoup_book_step_done (book, stmt, error) &&
         recoup_book_record_change (book, "offer_events", id, RECOUP_CHANGE_INSERT, NULL, error);
}

/* A plan's split gives every installment total / n rounded down, so one of
 * 0.00 is asked for (and counts as paid at once) when the total has fewer
 * minor units than the plan has installments. */
static gboolean
check_installment_size (RecoupOfferKind   kind,
                        int               installments,
                        gint64            total,
                        const char       *currency,
                        GError          **error)
{
  g_autofree char *shown = NULL;
  int most;

  if (kind != RECOUP_OFFER_PLAN || installments <= 0 || total <= 0 || total >= installments)
    return TRUE;
  shown = recoup_money_format_for_reader (total, currency, RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  most = (int) total;
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
               g_dngettext (GETTEXT_PACKAGE,
                            /* Translators: the installments asked for, the plan's total, then the
                             * most installments it can have */
                            "a plan of %d installment on %s would have installments of nothing "
                            "(it can have at most %d)",
                            "a plan of %d installments on %s would have installments of nothing "
                            "(it can have at most %d)", (gulong) installments),
               installments, shown, most);
  return FALSE;
}

/**
 * recoup_offer_check_amount:
 *
 * The part of recoup_offer_check_terms() about the money: the account owes
 * something, and the amount asked is not more than it owes. The dialog asks
 * it on its own to mark the amount rather than the date.
 */
gboolean
recoup_offer_check_amount (const RecoupOfferSpec  *spec,
                           const char             *currency,
                           gint64                  owed,
                           GError                **error)
{
  if (owed <= 0)
    {
      g_autofree char *shown = recoup_money_format_for_reader (owed, currency, 0);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the balance, then its currency code */
                   _("the account owes nothing (balance %s %s): there is nothing to offer on"),
                   shown, currency);
      return FALSE;
    }
  if (spec->amount > owed)
    {
      g_autofree char *a = recoup_money_format_for_reader (spec->amount, currency,
                                                           RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
      g_autofree char *b = recoup_money_format_for_reader (owed, currency,
                                                           RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: two amounts with their currency code: offered, then owed */
                   _("offer amount %s is more than the %s owed"), a, b);
      return FALSE;
    }
  /* The same refusal recoup_offer_create() makes, asked while typing. */
  if (spec->amount == 0 && spec->kind != RECOUP_OFFER_WAIVER
      && recoup_offer_total_for_discount (owed, spec->discount_bp) <= 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("the offer leaves nothing to pay (a 100 %% discount): record a write-off instead"));
      return FALSE;
    }
  return TRUE;
}

/* Whether @day (RECOUP_DATE_INVALID: none given) falls due within a
 * promise's horizon of @today_d; if not, says so with @format (the date as
 * given, today, then the last day allowed). */
static gboolean
within_a_year (gint32       day,
               gint32       today_d,
               const char  *given,
               const char  *today,
               const char  *format,
               GError     **error)
{
  gint32 last_day = recoup_promise_latest_due_day (today_d);
  g_autofree char *last = NULL;

  if (day == RECOUP_DATE_INVALID || day <= last_day)
    return TRUE;
  last = recoup_date_format (last_day);
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID, format, given, today, last);
  return FALSE;
}

/**
 * recoup_offer_check_terms:
 *
 * The rules of an offer that need no more of the book than what the account
 * owes (@owed, in @currency), the day (@today) and the book's first-date
 * tolerance: its kind and amounts, its installments, its dates against today,
 * an amount beyond what is owed. The offer dialog asks them as the user types;
 * recoup_offer_create() asks them again, then the rest (waivers, authority).
 */
gboolean
recoup_offer_check_terms (const RecoupOfferSpec  *spec,
                          const char             *currency,
                          gint64                  owed,
                          const char             *today,
                          gint64                  tolerance,
                          GError                **error)
{
  gint32 today_d = recoup_date_parse (today, NULL);
  gint32 first_day, pay_by_day, extend_day, expires_day;

  if (spec->kind > RECOUP_OFFER_WAIVER)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           /* Translators: the kinds are the values recoup-cli takes: keep them */
                           _("offer kind must be settlement, plan, extension or waiver"));
      return FALSE;
    }
  if (spec->discount_bp < 0 || spec->discount_bp > 10000)
    {
      g_autofree char *shown = format_bp (spec->discount_bp);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: %s is a percentage, e.g. 120.00 % */
                   _("a discount of %s is not possible: give 0 to 10000 basis points (0 to 100 %%)"),
                   shown);
      return FALSE;
    }
  if (spec->amount < 0)
    {
      g_autofree char *shown = recoup_money_format_for_reader (spec->amount, currency, 0);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: an amount, then its currency code */
                   _("offer amount %s %s is negative: give what the customer pays"), shown, currency);
      return FALSE;
    }
  if (spec->amount > 0 && spec->discount_bp > 0)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("give either the amount to pay or the discount, not both"));
      return FALSE;
    }
  if ((spec->kind == RECOUP_OFFER_EXTENSION || spec->kind == RECOUP_OFFER_WAIVER) &&
      (spec->amount > 0 || spec->discount_bp > 0))
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           spec->kind == RECOUP_OFFER_EXTENSION
                           ? _("an extension offer has no amount or discount (it is about the "
                               "balance); make a settlement or a plan for a discount")
                           : _("a waiver offer has no amount or discount (it is about the balance); "
                               "make a settlement or a plan for a discount"));
      return FALSE;
    }
  if (spec->kind == RECOUP_OFFER_PLAN)
    {
      if (spec->installments <= 0)
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       _("a plan needs at least one installment (got %d)"), spec->installments);
          return FALSE;
        }
      if (spec->installments > RECOUP_OFFER_MAX_INSTALLMENTS)
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       g_dngettext (GETTEXT_PACKAGE,
                                    /* Translators: the installments asked for, then the most allowed */
                                    "a plan of %d installment is longer than the %d allowed",
                                    "a plan of %d installments is longer than the %d allowed",
                                    (gulong) spec->installments),
                       spec->installments, RECOUP_OFFER_MAX_INSTALLMENTS);
          return FALSE;
        }
      if (spec->frequency > RECOUP_FREQUENCY_MONTHLY)
        {
          g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                               /* Translators: the frequencies are the values recoup-cli takes: keep them */
                               _("plan frequency must be weekly, fortnightly or monthly"));
          return FALSE;
        }
      if (spec->first_date == NULL)
        {
          g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                               _("a plan needs the date of its first installment (--first-date)"));
          return FALSE;
        }
    }
  else if (spec->installments > 1)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("only a plan has installments; use --kind plan"));
      return FALSE;
    }
  else if (spec->installments < 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("installments cannot be negative (got %d)"), spec->installments);
      return FALSE;
    }
  if (spec->kind == RECOUP_OFFER_SETTLEMENT && spec->pay_by == NULL)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("a settlement needs the day it must be paid by (--pay-by)"));
      return FALSE;
    }
  if (spec->kind == RECOUP_OFFER_EXTENSION && spec->extend_to == NULL)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("an extension needs its new deadline (--extend-to)"));
      return FALSE;
    }
  if (spec->kind == RECOUP_OFFER_WAIVER && !spec->waive_fees && !spec->waive_interest)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("a waiver waives fees, interest or both (--waive-fees, --waive-interest)"));
      return FALSE;
    }

  first_day = parse_optional_day (spec->kind == RECOUP_OFFER_PLAN ? spec->first_date : NULL,
                                  _("first date: "), error);
  if (spec->kind == RECOUP_OFFER_PLAN && first_day == RECOUP_DATE_INVALID)
    return FALSE;
  pay_by_day = parse_optional_day (spec->kind == RECOUP_OFFER_SETTLEMENT ? spec->pay_by : NULL,
                                   _("pay by: "), error);
  if (spec->kind == RECOUP_OFFER_SETTLEMENT && pay_by_day == RECOUP_DATE_INVALID)
    return FALSE;
  extend_day = parse_optional_day (spec->kind == RECOUP_OFFER_EXTENSION ? spec->extend_to : NULL,
                                   _("extend to: "), error);
  if (spec->kind == RECOUP_OFFER_EXTENSION && extend_day == RECOUP_DATE_INVALID)
    return FALSE;
  expires_day = parse_optional_day (spec->expires_on, _("expires: "), error);
  if (spec->expires_on != NULL && expires_day == RECOUP_DATE_INVALID)
    return FALSE;

  if (first_day != RECOUP_DATE_INVALID)
    {
      if (first_day < today_d - tolerance)
        {
          /* The book's setting is at most 3650 days; an int shows it, as
           * xgettext cannot see through G_GINT64_FORMAT. */
          int days = (int) CLAMP (tolerance, 0, G_MAXINT);
          /* The earliest day the tolerance accepts: asking for today would
           * refuse first dates this check lets through. */
          g_autofree char *earliest = recoup_date_format ((gint32) (today_d - days));

          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       g_dngettext (GETTEXT_PACKAGE,
                                    /* Translators: the plan's first date, the days of
                                     * tolerance, today's date, then the earliest first
                                     * date allowed, YYYY-MM-DD */
                                    "first date %s is more than %d day in the past (today is %s); "
                                    "give a first date no earlier than %s",
                                    "first date %s is more than %d days in the past (today is %s); "
                                    "give a first date no earlier than %s", (gulong) days),
                       spec->first_date, days, today, earliest);
          return FALSE;
        }
    }
  if (pay_by_day != RECOUP_DATE_INVALID && pay_by_day < today_d)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: two dates, YYYY-MM-DD */
                   _("pay-by date %s is in the past (today is %s)"), spec->pay_by, today);
      return FALSE;
    }
  /* A settlement is a promise to pay a lump sum: it is held to a promise's
   * horizon, and longer terms are a plan. */
  if (!within_a_year (pay_by_day, today_d, spec->pay_by, today,
                      /* Translators: the pay-by date, today's date, then the latest pay-by
                       * date allowed, YYYY-MM-DD */
                      _("pay-by date %s is more than a year after today (%s): give a date by %s, "
                        "or make a payment plan for longer terms"), error))
    return FALSE;
  /* A plan that starts more than a year out, like a settlement paid later
   * than that, is a date typed wrong (2062 for 2026), not terms. */
  if (!within_a_year (first_day, today_d, spec->first_date, today,
                      /* Translators: the plan's first date, today's date, then the latest
                       * first date allowed, YYYY-MM-DD */
                      _("first date %s is more than a year after today (%s): a plan's first installment "
                        "falls due by %s"), error))
    return FALSE;
  if (extend_day != RECOUP_DATE_INVALID && extend_day < today_d)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: two dates, YYYY-MM-DD */
                   _("new deadline %s is in the past (today is %s)"), spec->extend_to, today);
      return FALSE;
    }
  /* An extension is a promise to pay the whole later: held to a promise's
   * horizon, as a settlement is. */
  if (!within_a_year (extend_day, today_d, spec->extend_to, today,
                      /* Translators: the new deadline, today's date, then the latest deadline
                       * allowed, YYYY-MM-DD */
                      _("new deadline %s is more than a year after today (%s): give a date by %s, "
                        "or make a payment plan for longer terms"), error))
    return FALSE;
  if (expires_day != RECOUP_DATE_INVALID && expires_day < today_d)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: two dates, YYYY-MM-DD */
                   _("expiry date %s is in the past (today is %s): the offer could never be accepted"),
                   spec->expires_on, today);
      return FALSE;
    }

  if (!recoup_offer_check_amount (spec, currency, owed, error))
    return FALSE;
  /* Waivers only lower the total: recoup_offer_create() asks again on the real one. */
  return check_installment_size (spec->kind, spec->installments,
                                 spec->amount > 0 ? spec->amount
                                                  : recoup_offer_total_for_discount (owed, spec->discount_bp),
                                 currency, error);
}

/* ---- Create ------------------------------------------------------------------ */

char *
recoup_offer_create (RecoupBook             *book,
                     const RecoupOfferSpec  *spec,
                     GError                **error)
{
  g_autofree char *currency = NULL;
  g_autofree char *today = recoup_book_today (book);
  gint64 balance = 0, fees = 0, interest = 0, waived = 0, base, total, discount_bp, effective_bp;
  gboolean needs_approval;
  UserLimits limits;
  char id[RECOUP_UUID_STRING_LEN + 1];
  sqlite3_stmt *stmt;

  g_return_val_if_fail (RECOUP_IS_BOOK (book), NULL);

  /* --- validate: nothing is written until every rule holds --- */
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
                   _("offer: no account with id “%s”"), spec->account_id ? spec->account_id : "");
      return NULL;
    }
  if (!recoup_ledger_balance (book, spec->account_id, NULL, &balance, error) ||
      !recoup_offer_check_terms (spec, currency, balance, today,
                                 recoup_settings_get_int (book, "offer.first_date_tolerance_days",
                                                          RECOUP_OFFER_DEFAULT_FIRST_DATE_TOLERANCE, 0, 3650),
                                 error))
    return NULL;

  /* --- the money --- */
  if (spec->waive_fees && !open_to_waive (book, spec->account_id, TRUE, &fees, error))
    return NULL;
  if (spec->waive_interest && !open_to_waive (book, spec->account_id, FALSE, &interest, error))
    return NULL;
  waived = MIN (balance, fees + interest);
  if ((spec->waive_fees || spec->waive_interest) && waived == 0)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           spec->waive_fees && spec->waive_interest
                           ? _("there is no fee or interest on the account to waive")
                           : spec->waive_fees ? _("there is no fee on the account to waive")
                           : _("there is no interest on the account to waive"));
      return NULL;
    }
  base = balance - waived;
  if (spec->amount > 0)
    {
      if (spec->amount > base)
        {
          g_autofree char *a = recoup_money_format_for_reader (spec->amount, currency,
                                                               RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
          g_autofree char *b = recoup_money_format_for_reader (base, currency,
                                                               RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);

          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       /* Translators: two amounts with their currency code: offered, then owed */
                       waived > 0 ? _("offer amount %s is more than the %s owed after the waiver")
                                  : _("offer amount %s is more than the %s owed"), a, b);
          return NULL;
        }
      total = spec->amount;
      discount_bp = bp_ceil (base - total, base);
    }
  else
    {
      discount_bp = spec->discount_bp;
      total = recoup_offer_total_for_discount (base, discount_bp);
    }
  if (total <= 0 && spec->kind != RECOUP_OFFER_WAIVER)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("the offer leaves nothing to pay (a 100 %% discount): record a write-off instead"));
      return NULL;
    }
  if (!check_installment_size (spec->kind, spec->installments, total, currency, error))
    return NULL;
  effective_bp = recoup_offer_effective_bp (balance, total);
  if (spec->kind == RECOUP_OFFER_WAIVER)
    effective_bp = bp_ceil (waived, balance);

  /* --- authority --- */
  if (!load_user_limits (book, &limits, error))
    return NULL;
  needs_approval = recoup_offer_spec_authority (limits.role, spec, effective_bp, limits.max_discount_bp,
                                                limits.max_plan_installments,
                                                recoup_date_parse (today, NULL)) != RECOUP_OFFER_WITHIN_AUTHORITY;
  user_limits_clear (&limits);

  /* --- write --- */
  if (!recoup_book_begin (book, error))
    return NULL;
  recoup_uuid7_generate (id);
  stmt = recoup_book_prepare (book,
    "INSERT INTO offers (id, account_id, kind, currency, balance_at_offer, total, discount_bp,"
    " installments, frequency, first_date, pay_by, extend_to, waive_fees, waive_interest, expires_on,"
    " needs_approval, created_by, created_at, waived_amount)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, spec->account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, recoup_offer_kind_to_string (spec->kind), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, currency, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, balance);
  sqlite3_bind_int64 (stmt, 6, total);
  sqlite3_bind_int64 (stmt, 7, discount_bp);
  sqlite3_bind_int (stmt, 8, spec->kind == RECOUP_OFFER_PLAN ? spec->installments
                             : spec->kind == RECOUP_OFFER_WAIVER ? 0 : 1);
  sqlite3_bind_text (stmt, 9, spec->kind == RECOUP_OFFER_PLAN ? recoup_frequency_to_string (spec->frequency)
                              : NULL, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 10, spec->kind == RECOUP_OFFER_PLAN ? spec->first_date : NULL, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 11, spec->kind == RECOUP_OFFER_SETTLEMENT ? spec->pay_by : NULL, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 12, spec->kind == RECOUP_OFFER_EXTENSION ? spec->extend_to : NULL, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 13, spec->waive_fees != FALSE);
  sqlite3_bind_int (stmt, 14, spec->waive_interest != FALSE);
  sqlite3_bind_text (stmt, 15, spec->expires_on, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 16, needs_approval);
  sqlite3_bind_text (stmt, 17, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 18, recoup_book_now_ms (book));
  sqlite3_bind_int64 (stmt, 19, waived);
  if (!recoup_book_step_done (book, stmt, error) ||
      !recoup_book_record_change (book, "offers", id, RECOUP_CHANGE_INSERT, NULL, error) ||
      !insert_event (book, id, RECOUP_OFFER_EVENT_CREATE, NULL, error))
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

/* ---- Load and derive --------------------------------------------------------- */

char *
recoup_offer_resolve (RecoupBook  *book,
                      const char  *id_or_tail,
                      GError     **error)
{
  sqlite3_stmt *stmt;
  char *id = NULL;
  guint n = 0;

  if (id_or_tail == NULL || strlen (id_or_tail) < 6)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("“%s” is too short to name an offer: give its id or at least its last 6 characters"),
                   id_or_tail ? id_or_tail : "");
      return NULL;
    }
  stmt = recoup_book_prepare (book,
    "SELECT id FROM offers WHERE id = ?1 UNION ALL"
    " SELECT id FROM offers WHERE id <> ?1 AND substr(id, -length(?1)) = lower(?1) LIMIT 3", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id_or_tail, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      if (n++ == 0)
        id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      if (strcmp (RECOUP_BOOK_STMT_TEXT (stmt, 0), id_or_tail) == 0)
        {
          n = 1;
          break;
        }
    }
  sqlite3_reset (stmt);
  if (n == 0)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 _("no offer “%s” (list them with “recoup-cli offers ACCOUNT”)"), id_or_tail);
  else if (n > 1)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("“%s” names more than one offer: give more of its id"), id_or_tail);
      g_clear_pointer (&id, g_free);
    }
  return id;
}

static gboolean
load_events (RecoupBook  *book,
             const char  *offer_id,
             GArray      *records,
             GPtrArray   *strings,
             GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT id, event, hlc, device_id, coalesce(day, date(at / 1000, 'unixepoch'))"
    " FROM offer_events WHERE offer_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, offer_id, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      RecoupOfferEventRecord rec = { 0 };
      char *eid = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      char *dev = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));

      if (!recoup_offer_event_from_string (RECOUP_BOOK_STMT_TEXT (stmt, 1), &rec.event))
        {
          /* An event from a newer Recoup: keep it out of the replay. */
          g_free (eid);
          g_free (dev);
          continue;
        }
      g_ptr_array_add (strings, eid);
      g_ptr_array_add (strings, dev);
      rec.id = eid;
      rec.device_id = dev;
      rec.hlc = sqlite3_column_int64 (stmt, 2);
      rec.day = recoup_date_parse (RECOUP_BOOK_STMT_TEXT (stmt, 4), NULL);
      g_array_append_val (records, rec);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

typedef struct
{
  gint32 day;
  gint64 cum;   /* cumulative paid through this credit */
  gint64 hlc;   /* the clock of the change that recorded it */
} PaidPoint;

/* What counts toward an accepted offer: every credit on the account (a
 * payment, a write-off, a waiver, a discount, a negative adjustment, the
 * reversal of a charge) that was NOT part of the balance the offer was made
 * on, less the offer's own waiver and discount (its terms already hold them),
 * and less any credit reversed by the day judged on.
 *
 * "Not part of the balance" is judged by the book's clock, not by dates: a
 * credit counts when the change that recorded it is stamped after the change
 * that created the offer, by (hlc, device), the order every replica shares.
 * So a payment taken earlier on the day the offer was made (already in
 * balance_at_offer) does not count twice, and a cheque entered after
 * acceptance but dated before it does count. Only a credit recorded on a
 * device that had not yet seen the offer is ordered by its stamp alone. An
 * entry without a change row predates the change log, so every offer.
 *
 * A credit counts from the later of its effective date and the acceptance
 * day, so an offer never completes before it was accepted. One point per
 * credit, in the order they count: by that day, then by the book's clock, so
 * every replica agrees which credit completed the offer and what it left. */
static gboolean
load_credits (RecoupBook  *book,
              const char  *offer_id,
              const char  *account_id,
              gint32       accepted_day,
              gint32       as_of_day,
              GArray      *points,
              GError     **error)
{
  char from[11], as_of[11];
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "WITH made AS (SELECT hlc, device_id FROM changes"
    "              WHERE entity = 'offers' AND entity_id = ?4 AND op = 'insert' ORDER BY seq LIMIT 1)"
    " SELECT max(p.effective_date, ?2) AS day, -p.amount, c.hlc"
    " FROM ledger_entries p"
    " JOIN changes c ON c.entity_id = p.id AND c.entity = 'ledger_entries' AND c.op = 'insert'"
    " JOIN made m ON c.hlc > m.hlc OR (c.hlc = m.hlc AND c.device_id > m.device_id)"
    " WHERE p.account_id = ?1 AND p.amount < 0 AND p.offer_id IS NOT ?4"
    "   AND p.effective_date <= ?3"
    "   AND NOT EXISTS (SELECT 1 FROM ledger_entries r"
    "                   WHERE r.reverses_id = p.id AND r.effective_date <= ?3)"
    " ORDER BY day, c.hlc, c.device_id, p.id", error);
  gint64 cum = 0;
  int rc;

  if (stmt == NULL)
    return FALSE;
  recoup_date_format_buf (accepted_day, from);
  recoup_date_format_buf (as_of_day, as_of);
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, from, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, as_of, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, offer_id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PaidPoint pt;

      cum += sqlite3_column_int64 (stmt, 1);
      pt.day = recoup_date_parse (RECOUP_BOOK_STMT_TEXT (stmt, 0), NULL);
      pt.cum = cum;
      pt.hlc = sqlite3_column_int64 (stmt, 2);
      g_array_append_val (points, pt);
    }
  if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static gint64
paid_through (GArray *points,
              gint32  day)
{
  gint64 cum = 0;

  for (guint i = 0; i < points->len; i++)
    {
      PaidPoint *pt = &g_array_index (points, PaidPoint, i);

      if (pt->day > day)
        break;
      cum = pt->cum;
    }
  return cum;
}

/* The last day an installment may be paid on before it is missed: its due
 * day plus grace, but never before the customer had the grace days after
 * accepting (a plan may start up to the first-date tolerance in the past,
 * and an offer accepted on another device late is replayed as it was). */
static gint32
grace_end (const RecoupInstallment *in,
           int                      grace,
           gint32                   accepted_day)
{
  return MAX (in->due_day, accepted_day) + grace;
}

/* Installments whose grace ended before @day and which what was paid
 * through @paid_day does not cover. */
static guint
count_missed (GArray *schedule,
              GArray *points,
              int     grace,
              gint32  accepted_day,
              gint32  day,
              gint32  paid_day)
{
  gint64 paid = paid_through (points, paid_day);
  gint64 cumdue = 0;
  guint missed = 0;

  for (guint i = 0; i < schedule->len; i++)
    {
      RecoupInstallment *in = &g_array_index (schedule, RecoupInstallment, i);

      cumdue += in->amount;
      if (grace_end (in, grace, accepted_day) < day && paid < cumdue)
        missed++;
    }
  return missed;
}

/* @held: the offer is held (see ONE RUNNING ARRANGEMENT): @points is empty
 * and it does not default. @out_completed_hlc: the clock of the credit that
 * completed it, if one did. */
static void
derive_progress (RecoupBook  *book,
                 RecoupOffer *o,
                 GArray      *points,
                 gint32       accepted_day,
                 gint32       as_of_day,
                 gboolean     held,
                 gint64      *out_completed_hlc)
{
  int grace = (int) recoup_settings_get_int (book, "plan.grace_days", RECOUP_PLAN_DEFAULT_GRACE_DAYS, 0, 365);
  guint after = (guint) recoup_settings_get_int (book, "plan.default_after_missed",
                                                 RECOUP_PLAN_DEFAULT_AFTER_MISSED, 1, 1000);
  gint32 completed_day = RECOUP_DATE_INVALID;
  gint32 default_day = RECOUP_DATE_INVALID;
  gint64 paid_to_complete = 0;
  gint64 cumdue = 0;

  o->paid = points->len > 0 ? g_array_index (points, PaidPoint, points->len - 1).cum : 0;

  /* A waiver is done when accepted. Not any offer without a schedule: a copy
   * of the book may have the acceptance before the installments it wrote,
   * and would complete a settlement nobody paid. */
  if (o->kind == RECOUP_OFFER_WAIVER)
    completed_day = accepted_day;
  else
    for (guint i = 0; i < points->len; i++)
      if (g_array_index (points, PaidPoint, i).cum >= o->total)
        {
          completed_day = g_array_index (points, PaidPoint, i).day;
          paid_to_complete = g_array_index (points, PaidPoint, i).cum;
          *out_completed_hlc = g_array_index (points, PaidPoint, i).hlc;
          break;
        }

  if (o->schedule->len > 0)
    {
      guint needed = MIN (after, o->schedule->len);

      for (guint i = 0; i < o->schedule->len; i++)
        {
          gint32 x = grace_end (&g_array_index (o->schedule, RecoupInstallment, i), grace, accepted_day) + 1;

          if (x > as_of_day)
            break;
          if (count_missed (o->schedule, points, grace, accepted_day, x, x - 1) >= needed)
            {
              default_day = x;
              break;
            }
        }
    }
  /* A held offer counts no payments: falling behind on it is not the
   * customer's doing, so it is neither at risk nor defaulted. */
  if (held)
    default_day = RECOUP_DATE_INVALID;
  if (default_day != RECOUP_DATE_INVALID && o->account_id != NULL &&
      recoup_dispute_account_has_open (book, o->account_id))
    {
      o->paused = TRUE;
      default_day = RECOUP_DATE_INVALID;
    }

  o->n_missed = o->schedule->len && !held ? count_missed (o->schedule, points, grace, accepted_day, as_of_day, as_of_day)
                                 : 0;
  o->at_risk = o->n_missed > 0;

  if (default_day != RECOUP_DATE_INVALID &&
      (completed_day == RECOUP_DATE_INVALID || completed_day >= default_day))
    {
      o->state = RECOUP_OFFER_STATE_DEFAULTED;
      o->defaulted_on = recoup_date_format (default_day);
    }
  else if (completed_day != RECOUP_DATE_INVALID)
    {
      o->state = RECOUP_OFFER_STATE_COMPLETED;
      o->completed_on = recoup_date_format (completed_day);
      o->at_risk = FALSE;
      o->n_missed = 0;
      /* Forgive only what the credits up to the completing one left owed: a
       * debtor who paid 950.00 of a 900.00 settlement on 1,000.00 owes 50.00
       * more, not a credit of 50.00. What is paid after it is the debtor's. */
      o->discount = CLAMP (o->balance_at_offer - o->waived_amount - paid_to_complete, 0, o->forgiven);
    }
  else if (o->paid > 0 ||
           (o->schedule->len > 0 && as_of_day >= g_array_index (o->schedule, RecoupInstallment, 0).due_day))
    o->state = RECOUP_OFFER_STATE_ACTIVE;
  else
    o->state = RECOUP_OFFER_STATE_ACCEPTED;

  /* What each installment has been covered by, oldest first. */
  for (guint i = 0; i < o->schedule->len; i++)
    {
      RecoupInstallment *in = &g_array_index (o->schedule, RecoupInstallment, i);
      gint64 covered = CLAMP (o->paid - cumdue, 0, in->amount);

      cumdue += in->amount;
      in->paid = covered;
      if (covered >= in->amount)
        in->status = RECOUP_INSTALLMENT_PAID;
      else if (as_of_day > grace_end (in, grace, accepted_day))
        in->status = RECOUP_INSTALLMENT_MISSED;
      else if (as_of_day > in->due_day)
        in->status = RECOUP_INSTALLMENT_LATE;
      else
        in->status = covered > 0 ? RECOUP_INSTALLMENT_PARTLY_PAID : RECOUP_INSTALLMENT_UPCOMING;
    }
}

static gboolean
load_stored_schedule (RecoupBook  *book,
                      RecoupOffer *o,
                      GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT seq, due_date, amount FROM installments WHERE offer_id = ? ORDER BY seq", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, o->id, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      RecoupInstallment in = { 0 };

      in.seq = (guint) sqlite3_column_int (stmt, 0);
      in.due_day = recoup_date_parse (RECOUP_BOOK_STMT_TEXT (stmt, 1), NULL);
      in.amount = sqlite3_column_int64 (stmt, 2);
      g_array_append_val (o->schedule, in);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

#define OFFER_COLUMNS \
  "o.id, o.account_id, a.ref, o.kind, o.currency, o.balance_at_offer, o.waived_amount, o.total," \
  " o.discount_bp, o.installments, o.frequency, o.first_date, o.pay_by, o.extend_to, o.expires_on," \
  " o.waive_fees, o.waive_interest, o.needs_approval, o.created_by, u.name, o.created_at" \
  " FROM offers o JOIN accounts a ON a.id = o.account_id LEFT JOIN users u ON u.id = o.created_by"

static RecoupOffer *
offer_from_row (sqlite3_stmt *stmt)
{
  RecoupOffer *o = g_new0 (RecoupOffer, 1);

  o->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  o->account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
  o->account_ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
  if (!recoup_offer_kind_from_string (RECOUP_BOOK_STMT_TEXT (stmt, 3), &o->kind))
    o->kind = RECOUP_OFFER_SETTLEMENT;
  o->currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
  o->balance_at_offer = sqlite3_column_int64 (stmt, 5);
  o->waived_amount = sqlite3_column_int64 (stmt, 6);
  o->total = sqlite3_column_int64 (stmt, 7);
  o->forgiven = MAX (0, o->balance_at_offer - o->waived_amount - o->total);
  if (o->kind == RECOUP_OFFER_WAIVER || o->kind == RECOUP_OFFER_EXTENSION)
    o->forgiven = 0;
  o->discount_bp = sqlite3_column_int64 (stmt, 8);
  o->effective_bp = o->kind == RECOUP_OFFER_WAIVER ? bp_ceil (o->waived_amount, o->balance_at_offer)
                                                   : bp_ceil (o->balance_at_offer - o->total, o->balance_at_offer);
  o->installments = sqlite3_column_int (stmt, 9);
  if (!recoup_frequency_from_string (RECOUP_BOOK_STMT_TEXT (stmt, 10), &o->frequency))
    o->frequency = RECOUP_FREQUENCY_MONTHLY;
  o->first_date = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 11));
  o->pay_by = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 12));
  o->extend_to = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 13));
  o->expires_on = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 14));
  o->waive_fees = sqlite3_column_int (stmt, 15);
  o->waive_interest = sqlite3_column_int (stmt, 16);
  o->needs_approval = sqlite3_column_int (stmt, 17);
  o->created_by = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 18));
  o->created_by_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 19));
  o->created_at = sqlite3_column_int64 (stmt, 20);
  o->schedule = g_array_new (FALSE, TRUE, sizeof (RecoupInstallment));
  return o;
}

/* Who closed @o with the event @closing_id (a withdrawal or the customer's
 * refusal, as the replay applied it) and why, in their words; and whether
 * it was an owner refusing a draft that waited for approval. */
static gboolean
load_closing_event (RecoupBook   *book,
                    RecoupOffer  *o,
                    const char   *closing_id,
                    GError      **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT nullif (e.note, ''), u.name, e.user_id IS NOT ?2 AND u.role = 'owner', e.user_id, e.at"
    " FROM offer_events e LEFT JOIN users u ON u.id = e.user_id WHERE e.id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, closing_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, o->created_by, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      o->closing_note = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      o->closed_by_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      o->not_approved = o->state == RECOUP_OFFER_STATE_WITHDRAWN && o->needs_approval && !o->approved &&
                        sqlite3_column_int (stmt, 2) == 1;
      o->closed_by = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      o->closed_at = sqlite3_column_int64 (stmt, 4);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* An accepted offer as the account's other offers see it: when it was
 * accepted, in the order every copy shares, and when it finished. */
typedef struct
{
  RecoupOffer *offer;
  gint32       accepted_day;
  gint64       accepted_hlc;
  char        *accepted_device;
  char        *accept_id;
  gint64       completed_hlc;     /* completed: the clock of the credit that completed it */
  char        *withdraw_id;       /* the withdraw kept aside by the replay, or NULL */
  gint64       withdraw_hlc;
  char        *withdraw_device;
} Acceptance;

static void
acceptance_clear (gpointer data)
{
  Acceptance *acc = data;

  g_free (acc->accepted_device);
  g_free (acc->accept_id);
  g_free (acc->withdraw_id);
  g_free (acc->withdraw_device);
}

/* Who recorded the acceptance @accept_id of @o. */
static gboolean
load_accepter (RecoupBook   *book,
               RecoupOffer  *o,
               const char   *accept_id,
               GError      **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT e.user_id, u.name FROM offer_events e LEFT JOIN users u ON u.id = e.user_id WHERE e.id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, accept_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      o->accepted_by = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      o->accepted_by_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* Replays @o's events. An accepted offer gets its stored schedule and
 * @out_acc filled (its ledger is followed by follow_ledger(), once the
 * offers accepted before it are known); any other a preview of what
 * acceptance would schedule. */
static gboolean
replay_offer (RecoupBook  *book,
              RecoupOffer *o,
              gint32       as_of_day,
              Acceptance  *out_acc,
              GError     **error)
{
  g_autoptr(GArray) records = g_array_new (FALSE, TRUE, sizeof (RecoupOfferEventRecord));
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  gint32 expires_day = o->expires_on ? recoup_date_parse (o->expires_on, NULL) : RECOUP_DATE_INVALID;
  RecoupOfferReplay replay;

  if (!load_events (book, o->id, records, strings, error))
    return FALSE;
  recoup_offer_state_replay ((RecoupOfferEventRecord *) (void *) records->data, records->len,
                             o->needs_approval, expires_day, as_of_day, &replay);
  o->state = replay.state;
  o->approved = replay.approved;
  o->n_conflicts = replay.n_conflicts;
  if (replay.closing_id != NULL && (o->state == RECOUP_OFFER_STATE_WITHDRAWN ||
                                    o->state == RECOUP_OFFER_STATE_REJECTED) &&
      !load_closing_event (book, o, replay.closing_id, error))
    return FALSE;

  if (replay.state == RECOUP_OFFER_STATE_ACCEPTED)
    {
      o->accepted_on = recoup_date_format (replay.accepted_day);
      out_acc->offer = o;
      out_acc->accepted_day = replay.accepted_day;
      out_acc->accepted_hlc = replay.accepted_hlc;
      out_acc->accepted_device = g_strdup (replay.accepted_device);
      out_acc->accept_id = g_strdup (replay.accept_id);
      out_acc->withdraw_id = g_strdup (replay.withdraw_id);
      out_acc->withdraw_hlc = replay.withdraw_hlc;
      out_acc->withdraw_device = g_strdup (replay.withdraw_device);
      return load_stored_schedule (book, o, error) &&
             load_accepter (book, o, replay.accept_id, error);
    }
  else
    {
      g_autoptr(GArray) preview = NULL;
      gint32 first = o->first_date ? recoup_date_parse (o->first_date, NULL) : RECOUP_DATE_INVALID;
      gint32 pay_by = o->pay_by ? recoup_date_parse (o->pay_by, NULL) : RECOUP_DATE_INVALID;
      gint32 ext = o->extend_to ? recoup_date_parse (o->extend_to, NULL) : RECOUP_DATE_INVALID;

      if (o->kind != RECOUP_OFFER_PLAN || o->installments > 0)
        {
          preview = recoup_offer_build_schedule (o->kind, o->total, o->installments, o->frequency,
                                                 first, pay_by, ext);
          g_array_append_vals (o->schedule, preview->data, preview->len);
        }
    }
  return TRUE;
}

/* Follows the ledger past @acc's acceptance; @held_by: the offer the
 * credits count toward instead (see ONE RUNNING ARRANGEMENT), or NULL. */
static gboolean
follow_ledger (RecoupBook         *book,
               Acceptance         *acc,
               const RecoupOffer  *held_by,
               gint32              as_of_day,
               GError            **error)
{
  g_autoptr(GArray) points = g_array_new (FALSE, TRUE, sizeof (PaidPoint));
  RecoupOffer *o = acc->offer;

  if (held_by != NULL)
    o->held_by = g_strdup (held_by->id);
  else if (!load_credits (book, o->id, o->account_id, acc->accepted_day, as_of_day, points, error))
    return FALSE;
  derive_progress (book, o, points, acc->accepted_day, as_of_day, held_by != NULL, &acc->completed_hlc);
  return TRUE;
}

/* A running arrangement: a settlement, plan or extension (an offer with a
 * schedule) accepted and not finished. An account has one at a time. */
static gboolean
is_running (const RecoupOffer *o)
{
  return o->schedule->len > 0 &&
         (o->state == RECOUP_OFFER_STATE_ACCEPTED || o->state == RECOUP_OFFER_STATE_ACTIVE);
}

/* Whether @earlier, accepted before @later, was still running when @later
 * was accepted, as the copy that accepted @later would have seen it had it
 * known: it runs now, or it was completed by a credit stamped after that
 * acceptance, or it defaulted after its day (accepting on the day a plan
 * defaults is allowed). The clock and the days are every copy's alike. */
static gboolean
ran_at (const Acceptance *earlier,
        const Acceptance *later)
{
  const RecoupOffer *e = earlier->offer;

  if (is_running (e))
    return TRUE;
  if (e->schedule->len == 0)
    return FALSE;
  if (e->state == RECOUP_OFFER_STATE_COMPLETED)
    return earlier->completed_hlc >= later->accepted_hlc;
  if (e->state == RECOUP_OFFER_STATE_DEFAULTED)
    return recoup_date_parse (e->defaulted_on, NULL) > later->accepted_day;
  return FALSE;
}

static int
compare_acceptances (gconstpointer a,
                     gconstpointer b)
{
  const Acceptance *x = a;
  const Acceptance *y = b;
  int c = strcmp (x->offer->account_id, y->offer->account_id);

  if (c == 0)
    c = recoup_hlc_compare (x->accepted_hlc, x->accepted_device, y->accepted_hlc, y->accepted_device);
  if (c == 0)
    c = g_strcmp0 (x->accept_id, y->accept_id);
  return c;
}

/* Follows the ledger of one account's acceptances, @accs[0..@n) in the
 * order they were accepted, so each knows which accepted before it still
 * ran (see ONE RUNNING ARRANGEMENT): the first of those holds it, and it
 * clashes with all of them. */
static gboolean
follow_ledgers (RecoupBook  *book,
                Acceptance  *accs,
                guint        n,
                gint32       as_of_day,
                GError     **error)
{
  for (guint i = 0; i < n; i++)
    {
      const RecoupOffer *held_by = NULL;

      for (guint j = 0; j < i && accs[i].offer->schedule->len > 0; j++)
        {
          if (!ran_at (&accs[j], &accs[i]))
            continue;
          if (held_by == NULL)
            held_by = accs[j].offer;
          accs[j].offer->clashing = TRUE;
        }
      accs[i].offer->clashing = held_by != NULL;
      if (!follow_ledger (book, &accs[i], held_by, as_of_day, error))
        return FALSE;
    }
  return TRUE;
}

/* Forgets what follow_ledger() derived for @acc, to derive it again. */
static void
reset_progress (Acceptance *acc)
{
  RecoupOffer *o = acc->offer;

  o->state = RECOUP_OFFER_STATE_ACCEPTED;
  g_clear_pointer (&o->held_by, g_free);
  g_clear_pointer (&o->completed_on, g_free);
  g_clear_pointer (&o->defaulted_on, g_free);
  o->clashing = FALSE;
  o->paid = 0;
  o->discount = 0;
  o->n_missed = 0;
  o->at_risk = FALSE;
  o->paused = FALSE;
  for (guint i = 0; i < o->schedule->len; i++)
    {
      g_array_index (o->schedule, RecoupInstallment, i).paid = 0;
      g_array_index (o->schedule, RecoupInstallment, i).status = RECOUP_INSTALLMENT_UPCOMING;
    }
  acc->completed_hlc = 0;
}

/* Of @accs[0..@n), the one whose withdrawal stands next: of those that
 * clash and were withdrawn after acceptance, the one withdrawn first by the
 * clock every copy shares; -1 for none. */
static int
next_withdrawal (const Acceptance *accs,
                 guint             n)
{
  int best = -1;

  for (guint i = 0; i < n; i++)
    {
      const Acceptance *b = best >= 0 ? &accs[best] : NULL;
      int c;

      if (accs[i].withdraw_id == NULL || !accs[i].offer->clashing)
        continue;
      c = b == NULL ? -1 : recoup_hlc_compare (accs[i].withdraw_hlc, accs[i].withdraw_device,
                                               b->withdraw_hlc, b->withdraw_device);
      if (c < 0 || (c == 0 && strcmp (accs[i].withdraw_id, b->withdraw_id) < 0))
        best = (int) i;
    }
  return best;
}

/* Derives one account's acceptances, @accepted[@first..@first + *@n): their
 * ledgers (follow_ledgers()), then, while a clashing offer was withdrawn
 * after acceptance, that withdrawal: the offer is withdrawn and taken out
 * (*@n shrinks), and the others are derived again without it, which may
 * end the clash of the next one withdrawn (its withdrawal is then the
 * conflict it is; see ONE RUNNING ARRANGEMENT). */
static gboolean
derive_account (RecoupBook  *book,
                GArray      *accepted,
                guint        first,
                guint       *n,
                gint32       as_of_day,
                GError     **error)
{
  for (;;)
    {
      Acceptance *accs = &g_array_index (accepted, Acceptance, first);
      int w;

      if (!follow_ledgers (book, accs, *n, as_of_day, error))
        return FALSE;
      if ((w = next_withdrawal (accs, *n)) < 0)
        return TRUE;
      reset_progress (&accs[w]);
      accs[w].offer->state = RECOUP_OFFER_STATE_WITHDRAWN;
      accs[w].offer->n_conflicts--;
      if (!load_closing_event (book, accs[w].offer, accs[w].withdraw_id, error))
        return FALSE;
      g_array_remove_index (accepted, first + (guint) w);
      (*n)--;
      accs = &g_array_index (accepted, Acceptance, first);
      for (guint i = 0; i < *n; i++)
        reset_progress (&accs[i]);
    }
}

/* Derives @list: each offer's replay, then the accepted ones account by
 * account (derive_account()). */
static gboolean
derive_offers (RecoupBook  *book,
               GPtrArray   *list,
               gint32       as_of_day,
               GError     **error)
{
  g_autoptr(GArray) accepted = g_array_new (FALSE, TRUE, sizeof (Acceptance));

  g_array_set_clear_func (accepted, acceptance_clear);
  for (guint i = 0; i < list->len; i++)
    {
      Acceptance acc = { 0 };

      if (!replay_offer (book, g_ptr_array_index (list, i), as_of_day, &acc, error))
        {
          acceptance_clear (&acc);
          return FALSE;
        }
      if (acc.offer != NULL)
        g_array_append_val (accepted, acc);
    }
  g_array_sort (accepted, compare_acceptances);

  for (guint first = 0; first < accepted->len;)
    {
      const char *account_id = g_array_index (accepted, Acceptance, first).offer->account_id;
      guint n = 1;

      while (first + n < accepted->len &&
             strcmp (g_array_index (accepted, Acceptance, first + n).offer->account_id, account_id) == 0)
        n++;
      if (!derive_account (book, accepted, first, &n, as_of_day, error))
        return FALSE;
      first += n;
    }
  return TRUE;
}

static gint32
resolve_as_of (RecoupBook  *book,
               const char  *as_of,
               GError     **error)
{
  if (as_of == NULL)
    return today_day (book);
  return recoup_date_parse (as_of, error);
}

static GPtrArray *
list_where (RecoupBook  *book,
            const char  *sql,
            const char  *arg,
            gint32       as_of_day,
            GError     **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_offer_free);
  sqlite3_stmt *stmt = recoup_book_prepare (book, sql, error);

  if (stmt == NULL)
    return NULL;
  if (arg != NULL)
    sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (list, offer_from_row (stmt));
  sqlite3_reset (stmt);
  if (!derive_offers (book, list, as_of_day, error))
    return NULL;
  return g_steal_pointer (&list);
}

#define ACCOUNT_OFFERS_SQL "SELECT " OFFER_COLUMNS " WHERE o.account_id = ? ORDER BY o.created_at, o.id"

/* An accepted offer's state depends on the account's other offers (see ONE
 * RUNNING ARRANGEMENT): it is derived with them. */
RecoupOffer *
recoup_offer_load (RecoupBook  *book,
                   const char  *offer_id,
                   const char  *as_of,
                   GError     **error)
{
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *account_id = NULL;
  sqlite3_stmt *stmt;
  gint32 as_of_day;

  if ((as_of_day = resolve_as_of (book, as_of, error)) == RECOUP_DATE_INVALID)
    return NULL;
  stmt = recoup_book_prepare (book, "SELECT account_id FROM offers WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, offer_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  if (account_id != NULL)
    {
      if (!(list = list_where (book, ACCOUNT_OFFERS_SQL, account_id, as_of_day, error)))
        return NULL;
      for (guint i = 0; i < list->len; i++)
        if (strcmp (((RecoupOffer *) g_ptr_array_index (list, i))->id, offer_id) == 0)
          return g_steal_pointer ((RecoupOffer **) &list->pdata[i]);
    }
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
               _("no offer with id “%s”"), offer_id ? offer_id : "");
  return NULL;
}

GPtrArray *
recoup_offer_list (RecoupBook  *book,
                   const char  *account_id,
                   const char  *as_of,
                   GError     **error)
{
  gint32 as_of_day;

  if ((as_of_day = resolve_as_of (book, as_of, error)) == RECOUP_DATE_INVALID)
    return NULL;
  if (account_id == NULL)
    return list_where (book, "SELECT " OFFER_COLUMNS " ORDER BY o.created_at, o.id", NULL, as_of_day, error);
  return list_where (book, ACCOUNT_OFFERS_SQL, account_id, as_of_day, error);
}

GPtrArray *
recoup_offer_list_approvals (RecoupBook  *book,
                             GError     **error)
{
  g_autoptr(GPtrArray) all = NULL;
  GPtrArray *queue;

  all = list_where (book,
                    "SELECT " OFFER_COLUMNS " WHERE o.needs_approval = 1 AND NOT EXISTS"
                    " (SELECT 1 FROM offer_events e WHERE e.offer_id = o.id AND e.event = 'approve')"
                    " ORDER BY o.created_at, o.id", NULL, today_day (book), error);
  if (all == NULL)
    return NULL;
  queue = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_offer_free);
  for (guint i = 0; i < all->len; i++)
    {
      RecoupOffer *o = g_ptr_array_index (all, i);

      if (o->state == RECOUP_OFFER_STATE_DRAFT && !o->approved)
        g_ptr_array_add (queue, g_steal_pointer (&all->pdata[i]));
    }
  return queue;
}

RecoupOffer *
recoup_offer_current_plan (RecoupBook  *book,
                           const char  *account_id,
                           const char  *as_of,
                           GError     **error)
{
  g_autoptr(GPtrArray) list = recoup_offer_list (book, account_id, as_of, error);
  RecoupOffer *best = NULL;
  guint best_i = 0;

  if (list == NULL)
    return NULL;
  for (guint i = 0; i < list->len; i++)
    {
      RecoupOffer *o = g_ptr_array_index (list, i);
      gboolean live = o->state == RECOUP_OFFER_STATE_ACCEPTED || o->state == RECOUP_OFFER_STATE_ACTIVE;
      gboolean done = o->state == RECOUP_OFFER_STATE_COMPLETED || o->state == RECOUP_OFFER_STATE_DEFAULTED;

      /* A held offer is not the account's plan: the one its payments count
       * toward is. */
      if (o->schedule->len == 0 || (!live && !done) || o->held_by != NULL)
        continue;
      /* Newest wins, but a live plan beats a finished one. */
      if (best == NULL || live ||
          !(best->state == RECOUP_OFFER_STATE_ACCEPTED || best->state == RECOUP_OFFER_STATE_ACTIVE))
        {
          best = o;
          best_i = i;
        }
    }
  if (best == NULL)
    return NULL;
  return g_steal_pointer ((RecoupOffer **) &list->pdata[best_i]);
}

/* ---- Transitions ------------------------------------------------------------- */

/* An offer's schedule follows from its terms alone, so two copies that
 * accept it offline write the same installments: under the same ids, they
 * meet as one row each when they sync. Their time is the offer's. */
static void
derive_installment_id (const char *offer_id,
                       guint       seq,
                       char        out[RECOUP_UUID_STRING_LEN + 1])
{
  g_autofree char *name = g_strdup_printf ("installment:%s:%u", offer_id, seq);

  recoup_uuid7_derive_from (offer_id, name, out);
}

static gboolean
write_schedule (RecoupBook   *book,
                RecoupOffer  *o,
                GError      **error)
{
  sqlite3_stmt *stmt;

  for (guint i = 0; i < o->schedule->len; i++)
    {
      RecoupInstallment *in = &g_array_index (o->schedule, RecoupInstallment, i);
      char id[RECOUP_UUID_STRING_LEN + 1];
      char due[11];

      stmt = recoup_book_prepare (book,
        "INSERT INTO installments (id, offer_id, seq, due_date, amount) VALUES (?, ?, ?, ?, ?)", error);
      if (stmt == NULL)
        return FALSE;
      derive_installment_id (o->id, in->seq, id);
      recoup_date_format_buf (in->due_day, due);
      sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, o->id, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 3, (int) in->seq);
      sqlite3_bind_text (stmt, 4, due, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 5, in->amount);
      if (!recoup_book_step_done (book, stmt, error) ||
          !recoup_book_record_change (book, "installments", id, RECOUP_CHANGE_INSERT, NULL, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
recoup_offer_is_stale (const RecoupOffer *offer,
                       gint64             owed)
{
  return (offer->state == RECOUP_OFFER_STATE_DRAFT || offer->state == RECOUP_OFFER_STATE_OFFERED) &&
         owed != offer->balance_at_offer;
}

typedef struct
{
  char     id[RECOUP_UUID_STRING_LEN + 1];
  char     date[11];
  gboolean fee;
  gint64   open;
} Waivable;

/* Writes @o's waiver on acceptance: one waiver for each fee or interest
 * entry it waives, oldest first, naming that entry (waives_id), so the
 * allocation cancels it rather than paying the oldest invoice with the
 * waiver. A waiver is never dated before what it waives. */
static gboolean
write_waivers (RecoupBook         *book,
               const RecoupOffer  *o,
               GError            **error)
{
  g_autoptr(GArray) open = g_array_new (FALSE, TRUE, sizeof (Waivable));
  g_autofree char *today = recoup_book_today (book);
  sqlite3_stmt *stmt = recoup_book_prepare (book, OPEN_TO_WAIVE_SQL " ORDER BY f.effective_date, f.id", error);
  gint64 left = o->waived_amount;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, o->account_id, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, o->waive_fees);
  sqlite3_bind_int (stmt, 3, o->waive_interest);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      Waivable w = { 0 };

      g_strlcpy (w.id, RECOUP_BOOK_STMT_TEXT (stmt, 0), sizeof w.id);
      g_strlcpy (w.date, RECOUP_BOOK_STMT_TEXT (stmt, 1), sizeof w.date);
      w.fee = g_strcmp0 (RECOUP_BOOK_STMT_TEXT (stmt, 2), "fee") == 0;
      w.open = sqlite3_column_int64 (stmt, 3);
      if (w.open > 0)
        g_array_append_val (open, w);
    }
  sqlite3_reset (stmt);

  for (guint i = 0; i < open->len && left > 0; i++)
    {
      Waivable *w = &g_array_index (open, Waivable, i);
      g_autofree char *memo = g_strdup_printf ("%s waived by offer %s", w->fee ? "fee" : "interest", o->id);
      RecoupEntrySpec waiver = { .kind = RECOUP_ENTRY_WAIVER, .account_id = o->account_id,
                                 .amount = MIN (w->open, left), .memo = memo, .offer_id = o->id,
                                 .waives_id = w->id,
                                 .effective_date = strcmp (w->date, today) > 0 ? w->date : today };
      g_autofree char *entry = recoup_ledger_record (book, &waiver, error);

      if (entry == NULL)
        return FALSE;
      left -= waiver.amount;
    }
  /* The offer was made on these fees; the balance is the same (it is not
   * stale), yet a fee may have been reversed and a charge added since. The
   * customer was promised the amount: what no fee is left for is waived on
   * the account. */
  if (left > 0)
    {
      g_autofree char *memo = g_strdup_printf ("fees and interest waived by offer %s", o->id);
      RecoupEntrySpec waiver = { .kind = RECOUP_ENTRY_WAIVER, .account_id = o->account_id,
                                 .amount = left, .memo = memo, .offer_id = o->id };
      g_autofree char *entry = recoup_ledger_record (book, &waiver, error);

      if (entry == NULL)
        return FALSE;
    }
  return TRUE;
}

/* An offer whose pay-by date (or new deadline) has passed, or whose plan
 * starts further back than a new plan could, cannot be accepted: the customer
 * would agree to a deadline already missed, and the offer would be born
 * defaulted. A collections business re-issues the terms rather than quietly
 * moving the dates the customer saw, so the message asks for a new offer, as
 * a stale or expired offer's does. */
static gboolean
check_dates_at_accept (RecoupBook         *book,
                       const RecoupOffer  *o,
                       gint32              today,
                       GError            **error)
{
  g_autofree char *today_text = recoup_date_format (today);
  gint64 tolerance;

  if (o->kind == RECOUP_OFFER_SETTLEMENT || o->kind == RECOUP_OFFER_EXTENSION)
    {
      const char *deadline = o->kind == RECOUP_OFFER_SETTLEMENT ? o->pay_by : o->extend_to;

      if (deadline == NULL || recoup_date_parse (deadline, NULL) >= today)
        return TRUE;
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   o->kind == RECOUP_OFFER_SETTLEMENT
                   /* Translators: the offer's id, its pay-by date, then today's date */
                   ? _("offer %s cannot be accepted: its pay-by date %s has passed (today is %s). "
                       "Withdraw it and make a new offer with new dates.")
                   /* Translators: the offer's id, its new deadline, then today's date */
                   : _("offer %s cannot be accepted: its new deadline %s has passed (today is %s). "
                       "Withdraw it and make a new offer with new dates."),
                   o->id, deadline, today_text);
      return FALSE;
    }
  if (o->kind != RECOUP_OFFER_PLAN || o->first_date == NULL)
    return TRUE;
  tolerance = recoup_settings_get_int (book, "offer.first_date_tolerance_days",
                                       RECOUP_OFFER_DEFAULT_FIRST_DATE_TOLERANCE, 0, 3650);
  if (recoup_date_parse (o->first_date, NULL) >= today - tolerance)
    return TRUE;
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
               g_dngettext (GETTEXT_PACKAGE,
                            /* Translators: the offer's id, its first date, the days of
                             * tolerance, then today's date */
                            "offer %s cannot be accepted: its first installment was due on %s, more than "
                            "%d day ago (today is %s). Withdraw it and make a new offer with new dates.",
                            "offer %s cannot be accepted: its first installment was due on %s, more than "
                            "%d days ago (today is %s). Withdraw it and make a new offer with new dates.",
                            (gulong) tolerance),
               o->id, o->first_date, (int) tolerance, today_text);
  return FALSE;
}

/* A running arrangement is what the customer agreed to: it is withdrawn
 * only when it clashes with another accepted offline (ONE RUNNING
 * ARRANGEMENT), and with the reason, which tells every copy's user which
 * one the customer said stands. */
static gboolean
check_withdraw_running (const RecoupOffer  *o,
                        const char         *note,
                        GError            **error)
{
  g_autofree char *reason = g_strstrip (g_strdup (note != NULL ? note : ""));

  if (!o->clashing)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   /* Translators: the offer's id, its kind (settlement, plan, …) and its
                    * state (accepted, active) */
                   _("offer %s cannot be withdrawn: it is a running %s (%s) that the customer agreed to, and "
                     "payments count toward it. Only an arrangement accepted offline alongside another one "
                     "(held, or holding one; a review item names both) can be withdrawn"),
                   o->id, kind_label (o->kind), state_label (o->state));
      return FALSE;
    }
  if (*reason == '\0')
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the offer's id, then its kind (settlement, plan, …) */
                   _("offer %s: withdrawing an accepted %s needs a reason: say which arrangement the "
                     "customer said stands"), o->id, kind_label (o->kind));
      return FALSE;
    }
  return TRUE;
}

gboolean
recoup_offer_transition (RecoupBook        *book,
                         const char        *offer_id,
                         RecoupOfferEvent   event,
                         const char        *note,
                         GError           **error)
{
  g_autoptr(RecoupOffer) o = NULL;
  gint32 today = today_day (book);
  gint32 expires_day;

  g_return_val_if_fail (RECOUP_IS_BOOK (book), FALSE);

  if (event == RECOUP_OFFER_EVENT_CREATE)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "offers are created with recoup_offer_create()");
      return FALSE;
    }
  if (!(o = recoup_offer_load (book, offer_id, NULL, error)))
    return FALSE;
  expires_day = o->expires_on ? recoup_date_parse (o->expires_on, NULL) : RECOUP_DATE_INVALID;
  if (event == RECOUP_OFFER_EVENT_WITHDRAW && is_running (o))
    {
      if (!check_withdraw_running (o, note, error))
        return FALSE;
    }
  else if (!recoup_offer_check_transition (o->state, o->needs_approval, o->approved, expires_day,
                                           event, today, error))
    {
      /* Translators: an offer's id, before what is wrong */
      g_prefix_error (error, _("offer %s: "), o->id);
      return FALSE;
    }

  /* The terms were worked out on the balance of the day the offer was made. */
  if (event == RECOUP_OFFER_EVENT_SEND || event == RECOUP_OFFER_EVENT_ACCEPT)
    {
      gint64 balance;

      if (!recoup_ledger_balance (book, o->account_id, NULL, &balance, error))
        return FALSE;
      if (recoup_offer_is_stale (o, balance))
        {
          g_autofree char *then = recoup_money_format_for_reader (o->balance_at_offer, o->currency,
                                                                  RECOUP_MONEY_FORMAT_GROUPING |
                                                                  RECOUP_MONEY_FORMAT_CODE);
          g_autofree char *now = recoup_money_format_for_reader (balance, o->currency,
                                                                 RECOUP_MONEY_FORMAT_GROUPING |
                                                                 RECOUP_MONEY_FORMAT_CODE);

          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                       /* Translators: the offer's id, the balance it was made on, the balance now */
                       _("offer %s was made when the account owed %s, and it owes %s now: a payment or a charge "
                         "has been recorded since. Withdraw this offer and make a new one on today's balance."),
                       o->id, then, now);
          return FALSE;
        }
    }

  if (event == RECOUP_OFFER_EVENT_APPROVE)
    {
      UserLimits me;
      gboolean owner;

      if (!load_user_limits (book, &me, error))
        return FALSE;
      owner = g_strcmp0 (me.role, "owner") == 0;
      if (!owner)
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                     /* Translators: an offer's id, a user's name, then the user's role
                      * (collector, bookkeeper) */
                     _("offer %s: only an owner can approve an offer beyond a collector's limits "
                       "(%s is a %s)"), o->id, me.name, recoup_user_role_label (me.role));
      user_limits_clear (&me);
      if (!owner)
        return FALSE;
    }

  if (event == RECOUP_OFFER_EVENT_ACCEPT)
    {
      g_autoptr(GPtrArray) others = NULL;

      if (!check_dates_at_accept (book, o, today, error) ||
          !(others = recoup_offer_list (book, o->account_id, NULL, error)))
        return FALSE;
      for (guint i = 0; i < others->len; i++)
        {
          RecoupOffer *other = g_ptr_array_index (others, i);

          if (strcmp (other->id, o->id) != 0 && is_running (other))
            {
              g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                           /* Translators: this offer's id, the running offer's kind
                            * (settlement, plan, …), its id and its state (accepted, active) */
                           _("offer %s: the account already has a running %s (offer %s, %s); it must "
                             "complete or default before another is accepted"), o->id,
                           kind_label (other->kind), other->id, state_label (other->state));
              return FALSE;
            }
        }
    }

  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!insert_event (book, o->id, event, note, error))
    goto fail;
  if (event == RECOUP_OFFER_EVENT_ACCEPT)
    {
      if (!write_schedule (book, o, error) ||
          (o->waived_amount > 0 && !write_waivers (book, o, error)))
        goto fail;
    }
  recoup_book_touch_account (book, o->account_id);
  if (!recoup_book_commit (book, error))
    return FALSE;   /* rolled back by the commit */
  return TRUE;

fail:
  recoup_book_rollback (book);
  return FALSE;
}

/* ---- The ledger follows derived states ---------------------------------------- */

/* Every replica reconciles, at every commit, the device's and recoupd's alike.
 * What reconciling writes is derived from synced rows, so it is written under
 * an id derived from what it is: copies written by several replicas meet as
 * one row when they sync (insert-if-absent) instead of adding up. */

/* The id of @offer's settlement discount of @amount dated @date: the first
 * of its names not yet on the ledger, so an offer completed again after its
 * discount was reversed gets a new one. The name holds the amount when it is
 * not the whole forgiven amount ("offer-discount:OFFER:DATE:AMOUNT:N"; the
 * whole one keeps the name it had before "offer-discount:OFFER:DATE:N"):
 * two copies that saw different credits write two rows, never one id with
 * two amounts, and the next reconciliation keeps the right one. Its time is
 * @date's. */
static gboolean
derive_discount_id (RecoupBook        *book,
                    const RecoupOffer *offer,
                    const char        *date,
                    gint64             amount,
                    char               out[RECOUP_UUID_STRING_LEN + 1],
                    GError           **error)
{
  gint64 at = (gint64) recoup_date_parse (date, NULL) * G_GINT64_CONSTANT (86400000);
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT 1 FROM ledger_entries WHERE id = ?", error);
  gboolean taken = TRUE;

  if (stmt == NULL)
    return FALSE;
  for (guint n = 1; taken; n++)
    {
      g_autofree char *name = amount == offer->forgiven
                              ? g_strdup_printf ("offer-discount:%s:%s:%u", offer->id, date, n)
                              : g_strdup_printf ("offer-discount:%s:%s:%" G_GINT64_FORMAT ":%u", offer->id,
                                                 date, amount, n);

      recoup_uuid7_derive (at, name, out);
      sqlite3_bind_text (stmt, 1, out, -1, SQLITE_STATIC);
      taken = sqlite3_step (stmt) == SQLITE_ROW;
      sqlite3_reset (stmt);
    }
  return TRUE;
}

/* Which of @live @o keeps: the oldest of the amount it forgives now, if it
 * is completed; -1 for none (then every one of @live is reversed). */
static int
kept_discount (const RecoupOffer *o,
               GArray            *live)
{
  if (o->state != RECOUP_OFFER_STATE_COMPLETED || o->discount <= 0)
    return -1;
  for (guint i = 0; i < live->len; i++)
    if (g_array_index (live, RecoupLiveCredit, i).amount == o->discount)
      return (int) i;
  return -1;
}

gboolean
recoup_offer_keeps_discount (RecoupBook         *book,
                             const RecoupOffer  *offer,
                             const char         *entry_id,
                             gboolean           *out_kept,
                             GError            **error)
{
  g_autoptr(GArray) live = recoup_ledger_live_credits (book, RECOUP_LIVE_DISCOUNTS_OF_OFFER, offer->id, error);
  int keep;

  if (live == NULL)
    return FALSE;
  keep = kept_discount (offer, live);
  *out_kept = keep >= 0 && g_strcmp0 (g_array_index (live, RecoupLiveCredit, keep).id, entry_id) == 0;
  return TRUE;
}

/* Brings @o's discount entries in line with its derived state (see
 * DISCOUNT ON COMPLETION in recoup-offer.h), adding what it wrote to
 * @written. */
static gboolean
reconcile_discount (RecoupBook         *book,
                    const RecoupOffer  *o,
                    const char         *today,
                    guint              *written,
                    GError            **error)
{
  g_autoptr(GArray) live = recoup_ledger_live_credits (book, RECOUP_LIVE_DISCOUNTS_OF_OFFER, o->id, error);
  int keep;

  if (live == NULL)
    return FALSE;
  keep = kept_discount (o, live);

  /* Reversed: the discount of an offer no longer completed, one of another
   * amount than it forgives now (a credit counted before the completing one
   * arrived), and the extra copies of two replicas completing it offline. */
  for (guint j = 0; j < live->len; j++)
    {
      if ((int) j == keep)
        continue;
      if (!recoup_ledger_reverse_live_credit (book, &g_array_index (live, RecoupLiveCredit, j), error))
        return FALSE;
      (*written)++;
    }

  if (keep < 0 && o->state == RECOUP_OFFER_STATE_COMPLETED && o->discount > 0)
    {
      g_autofree char *memo = g_strdup_printf ("settlement discount: offer %s completed", o->id);
      const char *date = o->completed_on != NULL ? o->completed_on : today;
      char id[RECOUP_UUID_STRING_LEN + 1];
      RecoupEntrySpec d = { .kind = RECOUP_ENTRY_DISCOUNT, .account_id = o->account_id,
                            .amount = o->discount, .effective_date = date,
                            .memo = memo, .offer_id = o->id, .id = id };
      g_autofree char *entry = NULL;

      if (!derive_discount_id (book, o, date, o->discount, id, error) ||
          !(entry = recoup_ledger_record (book, &d, error)))
        return FALSE;
      (*written)++;
    }
  return TRUE;
}

/* An offer withdrawn or declined keeps no waiver: what its acceptance wrote
 * (it was withdrawn in a clash, or accepted on a copy that had not seen it
 * withdrawn or declined first) is reversed, as if it had never been
 * accepted; every replica writes the same reversals. */
static gboolean
reverse_waivers (RecoupBook         *book,
                 const RecoupOffer  *o,
                 guint              *written,
                 GError            **error)
{
  g_autoptr(GArray) live = recoup_ledger_live_credits (book, RECOUP_LIVE_WAIVERS_OF_OFFER, o->id, error);

  if (live == NULL)
    return FALSE;
  for (guint i = 0; i < live->len; i++)
    {
      if (!recoup_ledger_reverse_live_credit (book, &g_array_index (live, RecoupLiveCredit, i), error))
        return FALSE;
      (*written)++;
    }
  return TRUE;
}

static void
describe_acceptance (const RecoupOffer      *o,
                     RecoupReviewAcceptance *out)
{
  out->offer_id = o->id;
  out->kind = recoup_offer_kind_to_string (o->kind);
  out->accepted_by = o->accepted_by;
  out->accepted_on = o->accepted_on;
}

/* Two arrangements accepted offline on two copies are both kept (see ONE
 * RUNNING ARRANGEMENT); a person tells the customer which one stands. */
static gboolean
raise_clash (RecoupBook         *book,
             GPtrArray          *offers,
             const RecoupOffer  *held,
             guint              *written,
             GError            **error)
{
  RecoupReviewAcceptance kept_acc, held_acc;
  g_autofree char *item = NULL;

  for (guint i = 0; i < offers->len; i++)
    {
      const RecoupOffer *kept = g_ptr_array_index (offers, i);

      if (strcmp (kept->id, held->held_by) != 0)
        continue;
      describe_acceptance (kept, &kept_acc);
      describe_acceptance (held, &held_acc);
      if (!(item = recoup_review_add_offer_clash (book, held->account_id, &kept_acc, &held_acc, error)))
        return FALSE;
      if (*item != '\0')
        (*written)++;
      return TRUE;
    }
  g_return_val_if_reached (TRUE);
}

gboolean
recoup_offer_reconcile_account (RecoupBook  *book,
                                const char  *account_id,
                                guint       *out_written,
                                GError     **error)
{
  g_autoptr(GPtrArray) offers = NULL;
  g_autofree char *today = recoup_book_today (book);
  guint written = 0;

  const char *conflicted = NULL;
  sqlite3_stmt *stmt;
  gboolean any;

  if (out_written != NULL)
    *out_written = 0;

  /* Cheap enough to run for every account a transaction touches. */
  if (!(stmt = recoup_book_prepare (book, "SELECT 1 FROM offers WHERE account_id = ? LIMIT 1", error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  any = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  if (!any)
    return TRUE;

  if (!(offers = recoup_offer_list (book, account_id, NULL, error)))
    return FALSE;

  if (!recoup_book_begin (book, error))
    return FALSE;
  for (guint i = 0; i < offers->len; i++)
    {
      RecoupOffer *o = g_ptr_array_index (offers, i);

      if (o->n_conflicts > 0 && conflicted == NULL)
        conflicted = o->id;
      if (o->forgiven > 0 && !reconcile_discount (book, o, today, &written, error))
        goto fail;
      if ((o->state == RECOUP_OFFER_STATE_WITHDRAWN || o->state == RECOUP_OFFER_STATE_REJECTED) &&
          o->waived_amount > 0 && !reverse_waivers (book, o, &written, error))
        goto fail;
      /* Withdrawn, one of two arrangements accepted offline ends their clash. */
      if (o->state == RECOUP_OFFER_STATE_WITHDRAWN &&
          !recoup_review_close_offer_clashes (book, account_id, o->id, o->closed_by, o->closed_at, &written,
                                              error))
        goto fail;
    }

  for (guint i = 0; i < offers->len; i++)
    if (((RecoupOffer *) g_ptr_array_index (offers, i))->held_by != NULL &&
        !raise_clash (book, offers, g_ptr_array_index (offers, i), &written, error))
      goto fail;

  /* After the withdrawn ones gave theirs back: an arrangement that stands
   * has its waivers, including one reconciling took while the other
   * arrangement of a clash had the fee. */
  for (guint i = 0; i < offers->len; i++)
    {
      RecoupOffer *o = g_ptr_array_index (offers, i);

      if (o->waived_amount > 0 && o->held_by == NULL &&
          (o->state == RECOUP_OFFER_STATE_ACCEPTED || o->state == RECOUP_OFFER_STATE_ACTIVE ||
           o->state == RECOUP_OFFER_STATE_COMPLETED) &&
          !recoup_ledger_rewaive (book, o->id, &written, error))
        goto fail;
    }

  /* Incompatible transitions made offline are both kept; a person decides. */
  if (conflicted != NULL)
    {
      g_autofree char *item = recoup_review_add_offer_conflict (book, account_id, conflicted, error);

      if (item == NULL)
        goto fail;
      if (*item != '\0')
        written++;
    }

  if (!recoup_book_commit (book, error))
    return FALSE;   /* rolled back by the commit */
  if (out_written != NULL)
    *out_written = written;
  return TRUE;

fail:
  recoup_book_rollback (book);
  return FALSE;
}

void
recoup_offer_free (RecoupOffer *o)
{
  if (o == NULL)
    return;
  g_free (o->id);
  g_free (o->account_id);
  g_free (o->account_ref);
  g_free (o->currency);
  g_free (o->first_date);
  g_free (o->pay_by);
  g_free (o->extend_to);
  g_free (o->expires_on);
  g_free (o->created_by);
  g_free (o->created_by_name);
  g_free (o->closing_note);
  g_free (o->closed_by);
  g_free (o->closed_by_name);
  g_free (o->accepted_on);
  g_free (o->completed_on);
  g_free (o->defaulted_on);
  g_free (o->accepted_by);
  g_free (o->accepted_by_name);
  g_free (o->held_by);
  g_clear_pointer (&o->schedule, g_array_unref);
  g_free (o);
}
