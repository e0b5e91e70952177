/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-activity"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "recoup-activity.h"
#include "recoup-book-private.h"
#include "recoup-accounts.h"
#include "recoup-date.h"
#include "recoup-guard.h"
#include "recoup-id.h"
#include "recoup-ledger.h"
#include "recoup-review.h"

const char * const recoup_activity_channels[] = {
  "call", "sms", "email", "letter", "visit", "note", "system", NULL
};

/* Reaching the debtor (a conversation) versus an attempt that did not. */
const char * const recoup_activity_outcomes[] = {
  "right-party", "promise", "refused", "dispute",
  "no-answer", "voicemail", "wrong-number", "callback-requested",
  "sent", "delivered", "bounced", NULL
};

static const char * const conversation_outcomes[] = {
  "right-party", "promise", "refused", "dispute", "callback-requested", NULL
};

gboolean
recoup_activity_outcome_is_conversation (const char *outcome)
{
  return outcome != NULL && g_strv_contains (conversation_outcomes, outcome);
}

/**
 * recoup_activity_outcome_fits:
 *
 * Whether @outcome can come of a contact on @channel. Any channel can reach
 * the debtor (a reply to a letter is a conversation); only a call goes to
 * voicemail or a wrong number, only a visit finds nobody in besides a call,
 * and only what is sent (a text, an e-mail, a letter) is delivered or bounces.
 * A note records what was said by other means; the system logs what it likes.
 * No outcome (%NULL) fits every channel.
 */
gboolean
recoup_activity_outcome_fits (const char *channel,
                              const char *outcome)
{
  static const char * const call_only[] = { "no-answer", "voicemail", "wrong-number", NULL };
  static const char * const sent_only[] = { "sent", "delivered", "bounced", NULL };

  if (outcome == NULL || g_strcmp0 (channel, "system") == 0)
    return TRUE;
  if (recoup_activity_outcome_is_conversation (outcome))
    return TRUE;
  if (g_strcmp0 (channel, "call") == 0)
    return g_strv_contains (call_only, outcome);
  if (g_strcmp0 (channel, "visit") == 0)
    return g_str_equal (outcome, "no-answer");
  if (g_strcmp0 (channel, "sms") == 0 || g_strcmp0 (channel, "email") == 0 || g_strcmp0 (channel, "letter") == 0)
    return g_strv_contains (sent_only, outcome);
  return FALSE;
}

/* A promise is an agreement: it comes of a contact that reached the debtor
 * and got a yes, not of a wrong number, a refusal or a dispute. */
static const char * const promise_outcomes[] = { "promise", "right-party", NULL };

gboolean
recoup_activity_outcome_takes_promise (const char *outcome)
{
  return outcome == NULL || g_strv_contains (promise_outcomes, outcome);
}

/**
 * recoup_activity_check_promise_outcome:
 *
 * Refuses a promise to pay taken in a contact whose @outcome says nobody
 * agreed to anything (see recoup_activity_outcome_takes_promise()).
 */
gboolean
recoup_activity_check_promise_outcome (const char  *outcome,
                                       GError     **error)
{
  if (recoup_activity_outcome_takes_promise (outcome))
    return TRUE;
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
               /* Translators: an outcome as recoup-cli writes it (wrong-number); “promise” and
                * “right-party” are the values recoup-cli takes: keep them */
               _("a promise to pay cannot come of a contact with outcome %s: only one in which the debtor "
                 "agreed can carry a promise (outcome promise or right-party); log the promise with one "
                 "of those, or log the contact without it"), outcome);
  return FALSE;
}

/**
 * recoup_activity_spec_validate:
 *
 * Checks @spec's channel, outcome and direction: what recoup_activity_log()
 * refuses. Callers that ask the compliance guard first call this before it, so
 * that a mistyped value is reported as such and not as a block.
 */
gboolean
recoup_activity_spec_validate (const RecoupActivitySpec  *spec,
                               GError                   **error)
{
  const char *direction = spec->direction ? spec->direction : "outbound";

  if (spec->channel == NULL || !g_strv_contains (recoup_activity_channels, spec->channel))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the words in parentheses are the values recoup-cli takes: keep them */
                   _("“%s” is not a channel (call, sms, email, letter, visit, note)"),
                   spec->channel ? spec->channel : "");
      return FALSE;
    }
  if (spec->outcome != NULL && !g_strv_contains (recoup_activity_outcomes, spec->outcome))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the words in parentheses are the values recoup-cli takes: keep them */
                   _("“%s” is not an outcome (right-party, promise, refused, dispute, callback-requested, "
                     "no-answer, voicemail, wrong-number, sent, delivered, bounced)"), spec->outcome);
      return FALSE;
    }
  if (!recoup_activity_outcome_fits (spec->channel, spec->outcome))
    {
      g_autoptr(GString) fits = g_string_new (NULL);

      for (guint i = 0; recoup_activity_outcomes[i] != NULL; i++)
        if (recoup_activity_outcome_fits (spec->channel, recoup_activity_outcomes[i]))
          g_string_append_printf (fits, "%s%s", fits->len > 0 ? ", " : "", recoup_activity_outcomes[i]);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: an outcome, a channel and the outcomes that channel
                    * can have, all as recoup-cli writes them (no-answer, call) */
                   _("“%s” is not an outcome for channel %s (it can be %s)"),
                   spec->outcome, spec->channel, fits->str);
      return FALSE;
    }
  if (g_strcmp0 (direction, "outbound") && g_strcmp0 (direction, "inbound"))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: “outbound” and “inbound” are the values recoup-cli
                    * takes: keep them */
                   _("“%s” is not a direction (outbound or inbound)"), direction);
      return FALSE;
    }
  return TRUE;
}

gboolean
recoup_activity_check_at (gint64   at_ms,
                          gint64   now_ms,
                          GError **error)
{
  if (at_ms <= now_ms + 5 * 60 * 1000)
    return TRUE;
  g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       _("a contact cannot be logged in the future"));
  return FALSE;
}

/**
 * recoup_activity_check_floor:
 *
 * A contact dated before @floor is a mistyped year (or an empty clock:
 * 1970-01-01), not history: it would sort under everything else and count in
 * no period anyone looks at. The day is taken in UTC; the floor's year of
 * margin makes the zone immaterial. @at_ms is an instant: 0 here is
 * 1970-01-01, not "now" as in RecoupActivitySpec. Only what a user logs is
 * held to it (recoup_activity_log_guarded()); contacts merged from another
 * device were checked where they were logged, and the demo's history and the
 * system's own entries are dated by their writer.
 */
gboolean
recoup_activity_check_floor (gint64       at_ms,
                             const char  *floor,
                             GError     **error)
{
  gint32 day = recoup_date_from_unix_ms (at_ms, NULL);
  g_autofree char *shown = NULL;

  if (floor == NULL ||
      (day != RECOUP_DATE_INVALID && day >= recoup_date_parse (floor, NULL)))
    return TRUE;
  /* Beyond what a date holds (year 0 and before): the instant says it. */
  shown = day != RECOUP_DATE_INVALID ? recoup_date_format (day) : recoup_instant_format (at_ms);
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
               /* Translators: the contact's date, then the earliest one allowed, YYYY-MM-DD */
               _("a contact cannot be dated %s, more than a year back: check the year (the earliest date it "
                 "can have here is %s, a year before the account's first invoice, or before today if it has "
                 "none)"), shown, floor);
  return FALSE;
}

gboolean
recoup_activity_needs_guard (const RecoupActivitySpec *spec)
{
  return spec->channel != NULL && g_strv_contains (recoup_guard_channels, spec->channel) &&
         g_strcmp0 (spec->direction, "inbound") != 0;
}

static gboolean
is_blank (const char *text)
{
  for (; text != NULL && *text != '\0'; text = g_utf8_next_char (text))
    if (!g_unichar_isspace (g_utf8_get_char (text)))
      return FALSE;
  return TRUE;
}

/* The rules that block @verdict, joined. */
static char *
blocking_reasons (const RecoupGuardVerdict *verdict)
{
  GString *reasons = g_string_new (NULL);

  for (guint i = 0; i < verdict->reasons->len; i++)
    {
      RecoupGuardReason *reason = g_ptr_array_index (verdict->reasons, i);

      if (reason->blocks)
        g_string_append_printf (reasons, "%s%s", reasons->len ? "; " : "", reason->text);
    }
  return g_string_free (reasons, FALSE);
}

/* Raises a review item for the owner: this contact broke the rules. */
static gboolean
flag_breach (RecoupBook                *book,
             const RecoupActivitySpec  *spec,
             const RecoupGuardVerdict  *verdict,
             GError                   **error)
{
  g_autoptr(GPtrArray) rules = g_ptr_array_new ();
  g_autofree char *item = NULL;

  for (guint i = 0; i < verdict->reasons->len; i++)
    {
      RecoupGuardReason *reason = g_ptr_array_index (verdict->reasons, i);

      if (reason->blocks)
        g_ptr_array_add (rules, reason->code);
    }
  g_ptr_array_add (rules, NULL);
  item = recoup_review_add_contact_breach (book, spec->account_id, spec->channel,
                                           spec->at != 0 ? spec->at : recoup_wall_clock_ms (),
                                           (const char * const *) rules->pdata, spec->override_reason, error);
  return item != NULL;
}

char *
recoup_activity_log_guarded (RecoupBook                *book,
                             const RecoupActivitySpec  *spec,
                             RecoupGuardVerdict       **out_verdict,
                             RecoupActivityLogged      *out_logged,
                             GError                   **error)
{
  g_autoptr(RecoupGuardVerdict) verdict = NULL;
  RecoupActivitySpec checked = *spec;
  g_autofree char *id = NULL;
  RecoupActivityLogged logged;

  /* A mistyped outcome, a time to come or a mistyped year is reported as
   * such, not as a block. */
  if (!recoup_activity_spec_validate (spec, error) ||
      !recoup_activity_check_at (spec->at, recoup_wall_clock_ms (), error))
    return NULL;
  if (spec->at != 0)
    {
      g_autofree char *today = recoup_book_today (book);
      g_autofree char *floor = recoup_ledger_date_floor (book, spec->account_id, today, error);

      if (floor == NULL || !recoup_activity_check_floor (spec->at, floor, error))
        return NULL;
    }
  if (recoup_activity_needs_guard (spec) &&
      !recoup_guard_check (book, spec->account_id, spec->channel, spec->at, NULL, &verdict, error))
    return NULL;

  /* Only a block has anything to override. */
  if (verdict == NULL || verdict->verdict != RECOUP_VERDICT_BLOCKED)
    checked.override_reason = NULL;
  else if (is_blank (spec->override_reason))
    {
      g_autofree char *reasons = blocking_reasons (verdict);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_BLOCKED,
                   /* Translators: %s is the rules that block the contact */
                   _("the compliance guard blocks this contact at that time (%s): say what happened or why it "
                     "was necessary, and it is logged with that; nothing was logged"), reasons);
      if (out_verdict != NULL)
        *out_verdict = g_steal_pointer (&verdict);
      return NULL;
    }
  if (verdict == NULL || verdict->verdict != RECOUP_VERDICT_BLOCKED)
    logged = RECOUP_ACTIVITY_LOGGED;
  else if (verdict->may_override)
    logged = RECOUP_ACTIVITY_LOGGED_OVERRIDE;
  else
    logged = RECOUP_ACTIVITY_LOGGED_FLAGGED;

  if (!recoup_book_begin (book, error))
    return NULL;
  if (!(id = recoup_activity_log (book, &checked, error)) ||
      (logged == RECOUP_ACTIVITY_LOGGED_FLAGGED && !flag_breach (book, &checked, verdict, error)))
    {
      recoup_book_rollback (book);
      return NULL;
    }
  if (!recoup_book_commit (book, error))
    return NULL;
  if (out_verdict != NULL)
    *out_verdict = g_steal_pointer (&verdict);
  if (out_logged != NULL)
    *out_logged = logged;
  return g_steal_pointer (&id);
}

/**
 * recoup_activity_log:
 *
 * Appends an activity to an account's history. Contact history is append-only:
 * there is no update or delete.
 */
char *
recoup_activity_log (RecoupBook                *book,
                     const RecoupActivitySpec  *spec,
                     GError                   **error)
{
  char id[RECOUP_UUID_STRING_LEN + 1];
  const char *direction = spec->direction ? spec->direction : "outbound";
  sqlite3_stmt *stmt;
  gint64 now = recoup_book_now_ms (book);

  if (!recoup_activity_spec_validate (spec, error) || !recoup_activity_check_at (spec->at, now, error))
    return NULL;

  if (!recoup_book_begin (book, error))
    return NULL;

  recoup_uuid7_generate (id);
  stmt = recoup_book_prepare (book,
    "INSERT INTO activities (id, account_id, channel, direction, outcome, contact_point_id, at,"
    " user_id, notes, override_reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, spec->account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, spec->channel, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, direction, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, spec->outcome, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, spec->contact_point_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, spec->at != 0 ? spec->at : now);
  sqlite3_bind_text (stmt, 8, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, spec->notes ? spec->notes : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 10, spec->override_reason, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 11, now);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      if (sqlite3_extended_errcode (recoup_book_get_db (book)) == SQLITE_CONSTRAINT_FOREIGNKEY)
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                     _("no account with id %s"), spec->account_id ? spec->account_id : "");
      else
        recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      goto fail;
    }
  sqlite3_reset (stmt);
  recoup_book_touch_account (book, spec->account_id);
  if (!recoup_book_record_change (book, "activities", id, RECOUP_CHANGE_INSERT, NULL, error))
    goto fail;
  if (!recoup_book_commit (book, error))
    return NULL;
  return g_strdup (id);

fail:
  recoup_book_rollback (book);
  return NULL;
}

/* Newest first. */
GPtrArray *
recoup_activity_list (RecoupBook  *book,
                      const char  *account_id,
                      guint        limit,
                      GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT a.id, a.channel, a.direction, a.outcome, c.value, a.at, u.name, a.notes, a.override_reason"
    " FROM activities a LEFT JOIN contact_points c ON c.id = a.contact_point_id"
    " LEFT JOIN users u ON u.id = a.user_id"
    " WHERE a.account_id = ? ORDER BY a.at DESC, a.id DESC LIMIT ?", error);
  g_autoptr(GPtrArray) list = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_activity_free);
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, limit > 0 ? (gint64) limit : -1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      RecoupActivity *a = g_new0 (RecoupActivity, 1);

      a->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      a->channel = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      a->direction = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      a->outcome = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      a->contact = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
      a->at = sqlite3_column_int64 (stmt, 5);
      a->user_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 6));
      a->notes = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 7));
      a->override_reason = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 8));
      g_ptr_array_add (list, a);
    }
  if (rc != SQLITE_DONE)
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE ? g_steal_pointer (&list) : NULL;
}

void
recoup_activity_free (RecoupActivity *a)
{
  if (a == NULL)
    return;
  g_free (a->id);
  g_free (a->channel);
  g_free (a->direction);
  g_free (a->outcome);
  g_free (a->contact);
  g_free (a->user_name);
  g_free (a->notes);
  g_free (a->override_reason);
  g_free (a);
}
