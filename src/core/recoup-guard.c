/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-guard"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "recoup-accounts.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-guard.h"
#include "recoup-id.h"
#include "recoup-score-private.h"
#include "recoup-settings.h"

const char * const recoup_guard_channels[] = { "call", "sms", "email", "letter", "visit", NULL };
const char * const recoup_guard_profiles[] = { "regf", "first-party", "custom", NULL };

#define DAY_MS ((gint64) 86400 * 1000)

/* The account's call attempts in [?2, ?3), oldest first. */
static const char sql_call_attempts[] =
  "SELECT at FROM activities WHERE account_id = ?1 AND " RECOUP_GUARD_CALL_ATTEMPT_SQL
  " AND at >= ?2 AND at < ?3 ORDER BY at";

const char *
recoup_verdict_to_string (RecoupVerdictKind verdict)
{
  switch (verdict)
    {
    case RECOUP_VERDICT_ALLOWED: return "allowed";
    case RECOUP_VERDICT_WARN:    return "warn";
    case RECOUP_VERDICT_BLOCKED: return "blocked";
    default:                     g_return_val_if_reached ("blocked");
    }
}

/* Zone files are read once per name: the worklist asks about many accounts. */
static GTimeZone *
zone_for (const char *name)
{
  static GMutex lock;
  static GHashTable *zones;
  GTimeZone *tz;

  if (name == NULL || *name == '\0')
    return NULL;
  g_mutex_lock (&lock);
  if (zones == NULL)
    zones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_time_zone_unref);
  if (!g_hash_table_lookup_extended (zones, name, NULL, (gpointer *) &tz))
    {
      tz = recoup_timezone_is_regional (name) ? g_time_zone_new_identifier (name) : NULL;
      g_hash_table_insert (zones, g_strdup (name), tz);
    }
  g_mutex_unlock (&lock);
  return tz;
}

static void
reason_free (RecoupGuardReason *r)
{
  g_free (r->code);
  g_free (r->text);
  g_free (r);
}

void
recoup_guard_verdict_free (RecoupGuardVerdict *v)
{
  if (v == NULL)
    return;
  g_clear_pointer (&v->reasons, g_ptr_array_unref);
  g_free (v);
}

static RecoupGuardReason *add_reason (RecoupGuardVerdict *v,
                                      gboolean            blocks,
                                      const char         *code,
                                      const char         *format,
                                      ...) G_GNUC_PRINTF (4, 5);

static RecoupGuardReason *
add_reason (RecoupGuardVerdict *v,
            gboolean            blocks,
            const char         *code,
            const char         *format,
            ...)
{
  RecoupGuardReason *r = g_new0 (RecoupGuardReason, 1);
  va_list args;

  va_start (args, format);
  r->text = g_strdup_vprintf (format, args);
  va_end (args);
  r->code = g_strdup (code);
  r->blocks = blocks;
  g_ptr_array_add (v->reasons, r);
  if (blocks)
    v->verdict = RECOUP_VERDICT_BLOCKED;
  else if (v->verdict == RECOUP_VERDICT_ALLOWED)
    v->verdict = RECOUP_VERDICT_WARN;
  return r;
}

gint64
recoup_guard_verdict_lifts_at (const RecoupGuardVerdict *v)
{
  gint64 at = 0;

  if (v == NULL || v->verdict != RECOUP_VERDICT_BLOCKED)
    return 0;
  for (guint i = 0; i < v->reasons->len; i++)
    {
      const RecoupGuardReason *r = g_ptr_array_index (v->reasons, i);

      if (!r->blocks)
        continue;
      if (r->until == 0)
        return 0;
      at = MAX (at, r->until);
    }
  return at;
}

GTimeZone *
recoup_guard_debtor_zone (const RecoupGuardPolicy *p,
                          const char              *timezone)
{
  GTimeZone *tz = zone_for (timezone);

  if (tz == NULL)
    tz = zone_for (p->business_timezone);
  if (tz == NULL)
    tz = zone_for ("UTC");
  return tz;
}

/* ---- Policy ---------------------------------------------------------------- */

static void
policy_regf (RecoupGuardPolicy *p)
{
  p->hours_start = 8 * 60;
  p->hours_end = 21 * 60;
  p->max_calls_7d = 7;
  p->conversation_days = 7;
  p->validation_days = 5;
  p->cease = TRUE;
  p->dispute = TRUE;
  p->flags = TRUE;
}

static gboolean
setting_flag (RecoupBook *book,
              const char *key,
              gboolean    fallback)
{
  g_autofree char *v = recoup_book_get_setting (book, key);

  if (v == NULL)
    return fallback;
  return !g_ascii_strcasecmp (v, "yes") || !g_ascii_strcasecmp (v, "1") || !g_ascii_strcasecmp (v, "true");
}

void
recoup_guard_policy_load (RecoupBook        *book,
                          RecoupGuardPolicy *p)
{
  g_autofree char *profile = recoup_book_get_setting (book, "guard.profile");
  g_autofree char *unknown = recoup_book_get_setting (book, "guard.unknown_zone");

  memset (p, 0, sizeof *p);
  p->profile = g_strdup (profile != NULL && g_strv_contains (recoup_guard_profiles, profile) ? profile : "regf");
  policy_regf (p);
  if (g_str_equal (p->profile, "first-party"))
    {
      p->max_calls_7d = (int) recoup_settings_get_int (book, "guard.max_calls_7d", 0, 0, 1000);
      p->conversation_days = 0;
      p->validation_days = 0;
      p->cease = FALSE;
      p->dispute = FALSE;
      p->flags = FALSE;
    }
  else if (g_str_equal (p->profile, "custom"))
    {
      p->hours_start = (int) recoup_settings_get_int (book, "guard.hours_start", p->hours_start, 0, 1440);
      p->hours_end = (int) recoup_settings_get_int (book, "guard.hours_end", p->hours_end, 0, 1440);
      p->max_calls_7d = (int) recoup_settings_get_int (book, "guard.max_calls_7d", p->max_calls_7d, 0, 1000);
      p->conversation_days = (int) recoup_settings_get_int (book, "guard.conversation_days", p->conversation_days, 0, 365);
      p->validation_days = (int) recoup_settings_get_int (book, "guard.validation_days", p->validation_days, 0, 365);
      p->cease = setting_flag (book, "guard.cease", TRUE);
      p->dispute = setting_flag (book, "guard.dispute", TRUE);
      p->flags = setting_flag (book, "guard.flags", TRUE);
    }
  p->unknown_zone_business = g_strcmp0 (unknown, "business") == 0;
  p->business_timezone = recoup_book_get_setting (book, "guard.business_timezone");
  if (p->business_timezone == NULL || zone_for (p->business_timezone) == NULL)
    {
      g_free (p->business_timezone);
      p->business_timezone = g_strdup ("UTC");
    }
}

void
recoup_guard_policy_clear (RecoupGuardPolicy *p)
{
  g_clear_pointer (&p->profile, g_free);
  g_clear_pointer (&p->business_timezone, g_free);
}

/* The derived data keeps what the policy's rules of the call history make of
 * each account (calls_open_at, recoup-score-private.h): a change of them
 * derives it again in the same transaction, as a change of the escalation
 * policy re-scores, so that no list reads rows of the former policy. Unlike
 * recoup_merge_refresh_derived(), a book with no signature stored yet is
 * re-derived too: its rows may come from single writes, which store none. */
static gboolean
refresh_derived (RecoupBook  *book,
                 GError     **error)
{
  g_autofree char *stored = recoup_book_get_setting (book, "derived.signature");
  g_autofree char *current = recoup_score_signature (book);

  if (g_strcmp0 (stored, current) == 0)
    return TRUE;
  return recoup_derived_rescore_all (book, NULL, NULL, error);
}

gboolean
recoup_guard_set_profile (RecoupBook  *book,
                          const char  *profile,
                          GError     **error)
{
  if (profile == NULL || !g_strv_contains (recoup_guard_profiles, profile))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a compliance profile (regf, first-party or custom)", profile ? profile : "");
      return FALSE;
    }
  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!recoup_settings_set_shared (book, "guard.profile", profile, error) || !refresh_derived (book, error))
    {
      recoup_book_rollback (book);
      return FALSE;
    }
  /* A failed commit has already rolled back. */
  return recoup_book_commit (book, error);
}

static gboolean
parse_hhmm (const char *text,
            int        *out)
{
  int h, m;

  if (text == NULL || strlen (text) != 5 || text[2] != ':' || !g_ascii_isdigit (text[0]) ||
      !g_ascii_isdigit (text[1]) || !g_ascii_isdigit (text[3]) || !g_ascii_isdigit (text[4]))
    return FALSE;
  h = (text[0] - '0') * 10 + (text[1] - '0');
  m = (text[3] - '0') * 10 + (text[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0))
    return FALSE;
  *out = h * 60 + m;
  return TRUE;
}

gboolean
recoup_guard_set_rule (RecoupBook  *book,
                       const char  *rule,
                       const char  *value,
                       GError     **error)
{
  g_autofree char *key = NULL;
  g_autofree char *stored = NULL;
  gint64 n;
  int minutes;

  if (value == NULL)
    value = "";
  if (!g_strcmp0 (rule, "hours_start") || !g_strcmp0 (rule, "hours_end"))
    {
      if (!parse_hhmm (value, &minutes))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "%s must be a time HH:MM such as 08:00, not “%s”", rule, value);
          return FALSE;
        }
      stored = g_strdup_printf ("%d", minutes);
    }
  else if (!g_strcmp0 (rule, "max_calls_7d") || !g_strcmp0 (rule, "conversation_days") ||
           !g_strcmp0 (rule, "validation_days"))
    {
      if (!g_ascii_string_to_signed (value, 10, 0, 365, &n, NULL))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "%s must be a whole number from 0 (off) to 365, not “%s”", rule, value);
          return FALSE;
        }
      stored = g_strdup_printf ("%" G_GINT64_FORMAT, n);
    }
  else if (!g_strcmp0 (rule, "cease") || !g_strcmp0 (rule, "dispute") || !g_strcmp0 (rule, "flags"))
    {
      if (g_strcmp0 (value, "yes") && g_strcmp0 (value, "no"))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "%s must be yes or no, not “%s”", rule, value);
          return FALSE;
        }
      stored = g_strdup (value);
    }
  else if (!g_strcmp0 (rule, "unknown_zone"))
    {
      if (g_strcmp0 (value, "block") && g_strcmp0 (value, "business"))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "unknown_zone must be block or business, not “%s”", value);
          return FALSE;
        }
      stored = g_strdup (value);
    }
  else if (!g_strcmp0 (rule, "business_timezone"))
    {
      if (*value == '\0' || !recoup_timezone_validate (value, error))
        {
          if (error != NULL && *error == NULL)
            g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                         "business_timezone needs an IANA zone such as America/Chicago");
          return FALSE;
        }
      stored = g_strdup (value);
    }
  else
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a guard rule (hours_start, hours_end, max_calls_7d, conversation_days, "
                   "validation_days, cease, dispute, flags, unknown_zone, business_timezone)", rule ? rule : "");
      return FALSE;
    }

  key = g_strdup_printf ("guard.%s", rule);
  if (!recoup_book_begin (book, error))
    return FALSE;
  /* The zone rules belong to every profile; the others make the profile custom. */
  if (!recoup_settings_set_shared (book, key, stored, error) ||
      (g_strcmp0 (rule, "unknown_zone") && g_strcmp0 (rule, "business_timezone") &&
       !recoup_settings_set_shared (book, "guard.profile", "custom", error)) ||
      !refresh_derived (book, error))
    {
      recoup_book_rollback (book);
      return FALSE;
    }
  /* A failed commit has already rolled back. */
  return recoup_book_commit (book, error);
}

gboolean
recoup_guard_set_channel_opt_out (RecoupBook  *book,
                                  const char  *account_id,
                                  const char  *channel,
                                  gboolean     opted_out,
                                  GError     **error)
{
  const char *fields[] = { "opt_out_channels", NULL };
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *joined = NULL;
  g_auto(GStrv) current = NULL;
  sqlite3_stmt *stmt;
  const char *have;

  if (channel == NULL || !g_strv_contains (recoup_guard_channels, channel))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a channel (call, sms, email, letter, visit)", channel ? channel : "");
      return FALSE;
    }
  if (!(stmt = recoup_book_prepare (book, "SELECT opt_out_channels FROM accounts WHERE id = ? AND deleted = 0", error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND, "no account with id %s", account_id);
      return FALSE;
    }
  have = RECOUP_BOOK_STMT_TEXT (stmt, 0);
  current = g_strsplit (have != NULL ? have : "", ",", -1);
  sqlite3_reset (stmt);
  for (guint i = 0; recoup_guard_channels[i] != NULL; i++)
    {
      const char *c = recoup_guard_channels[i];
      gboolean on = g_str_equal (c, channel) ? opted_out : g_strv_contains ((const char * const *) current, c);

      if (on)
        g_ptr_array_add (list, g_strdup (c));
    }
  g_ptr_array_add (list, NULL);
  joined = g_strjoinv (",", (char **) list->pdata);

  if (!recoup_book_begin (book, error))
    return FALSE;
  stmt = recoup_book_prepare (book, "UPDATE accounts SET opt_out_channels = ?1 WHERE id = ?2 AND opt_out_channels IS NOT ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, joined, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error))
    goto fail;
  if (sqlite3_changes (recoup_book_get_db (book)) == 1 &&
      !recoup_book_record_change (book, "accounts", account_id, RECOUP_CHANGE_SET, fields, error))
    goto fail;
  recoup_book_touch_account (book, account_id);
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

/* ---- The check ------------------------------------------------------------- */

typedef struct
{
  GTimeZone *tz;
  gint32     day;       /* local calendar day number */
  int        minute;    /* minute of the local day */
} LocalTime;

static void
local_time (GTimeZone *tz,
            gint64     ms,
            LocalTime *out)
{
  gint64 secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int interval = g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL, secs);
  gint64 local = secs + g_time_zone_get_offset (tz, interval);
  gint64 day = local >= 0 ? local / 86400 : (local - 86399) / 86400;

  out->tz = tz;
  out->day = (gint32) day;
  out->minute = (int) ((local - day * 86400) / 60);
}

/* The UTC instant of local midnight starting @day. */
static gint64
local_day_start (GTimeZone *tz,
                 gint32     day)
{
  GDate date;
  g_autoptr(GDateTime) dt = NULL;

  g_date_clear (&date, 1);
  g_date_set_julian (&date, (guint32) (day + 719163));
  dt = g_date_time_new (tz, g_date_get_year (&date), g_date_get_month (&date), g_date_get_day (&date), 0, 0, 0);
  if (dt == NULL)
    return (gint64) day * DAY_MS;
  return g_date_time_to_unix (dt) * 1000;
}

/* The UTC instant of @minute after local midnight on @day. */
static gint64
local_instant (GTimeZone *tz,
               gint32     day,
               int        minute)
{
  GDate date;
  g_autoptr(GDateTime) dt = NULL;

  g_date_clear (&date, 1);
  g_date_set_julian (&date, (guint32) (day + 719163));
  dt = g_date_time_new (tz, g_date_get_year (&date), g_date_get_month (&date), g_date_get_day (&date),
                        minute / 60, minute % 60, 0);
  if (dt == NULL)
    return (gint64) day * DAY_MS + (gint64) minute * 60 * 1000;
  return g_date_time_to_unix (dt) * 1000;
}

/* The hours rule: whether @lt is inside the policy's contact hours. When
 * @out_change is given, it gets the instant the answer changes: the next
 * start when outside (the hours open again), the end when inside; 0 when it
 * never does (no hours at all, or every hour of the day). */
static gboolean
within_hours (const RecoupGuardPolicy *p,
              const LocalTime         *lt,
              gint64                  *out_change)
{
  gboolean inside = lt->minute >= p->hours_start && lt->minute < p->hours_end;

  if (out_change == NULL)
    return inside;
  if (p->hours_start >= p->hours_end || (p->hours_start == 0 && p->hours_end >= 24 * 60))
    *out_change = 0;
  else if (inside)
    *out_change = local_instant (lt->tz, lt->day, p->hours_end);
  else
    *out_change = local_instant (lt->tz, lt->minute < p->hours_start ? lt->day : lt->day + 1, p->hours_start);
  return inside;
}

/**
 * recoup_guard_call_hours:
 * @timezone: (nullable): the debtor's IANA zone as the account keeps it
 * @at_ms: the instant (UTC ms)
 * @out_change: (out) (optional): when the answer changes (the hours open or
 *   close in that zone), or 0 when it never does
 *
 * The guard's hours rules for a call to a debtor in @timezone at @at_ms:
 * outside-hours, and timezone-unknown for a zone that is missing or not a
 * zone, unless the book uses the business's zone then. The same answer
 * recoup_guard_check() gives for a call on these rules alone, for lists that
 * ask once per zone instead of once per account.
 *
 * Returns: whether these rules let a call through at @at_ms
 */
gboolean
recoup_guard_call_hours (const RecoupGuardPolicy *p,
                         const char              *timezone,
                         gint64                   at_ms,
                         gint64                  *out_change)
{
  GTimeZone *tz = zone_for (timezone);
  gint64 change = 0;
  gboolean inside;
  LocalTime lt;

  if (tz == NULL && p->unknown_zone_business)
    tz = recoup_guard_debtor_zone (p, NULL);
  if (tz == NULL)
    {
      if (out_change != NULL)
        *out_change = 0;
      return FALSE;
    }
  local_time (tz, at_ms, &lt);
  inside = within_hours (p, &lt, &change);
  if (out_change != NULL)
    *out_change = change;
  return inside;
}

static gint64
query_int64 (RecoupBook   *book,
             sqlite3_stmt *stmt,
             gint64        fallback)
{
  gint64 v = fallback;

  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    v = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return v;
}

static const char *
contact_kind_for (const char *channel)
{
  if (!strcmp (channel, "call") || !strcmp (channel, "sms"))
    return "phone";
  if (!strcmp (channel, "email"))
    return "email";
  return "address";
}

/* Of the account's contact points of @kind that are usable but for their
 * spelling (not opted out, with consent when @need_consent), how many are not
 * the same number or address (recoup_contact_value_key()) as one that is
 * opted out, or was when it was removed. */
static gboolean
count_other_spellings (RecoupBook  *book,
                       const char  *account_id,
                       const char  *kind,
                       gboolean     need_consent,
                       gint64      *out_usable,
                       GError     **error)
{
  g_autoptr(GPtrArray) opted_out = g_ptr_array_new_with_free_func (g_free);
  RecoupContactKind contact_kind = RECOUP_CONTACT_ADDRESS;
  sqlite3_stmt *stmt;
  int rc;

  *out_usable = 0;
  recoup_contact_kind_from_string (kind, &contact_kind);
  /* The opted-out ones first, so that every other one is compared with all of
   * them; removed ones too: a debtor's opt-out of a value outlives the point
   * that held it (removed and added again, maybe on two devices). */
  stmt = recoup_book_prepare (book,
    "SELECT value, opted_out FROM contact_points WHERE account_id = ?1 AND kind = ?2"
    " AND (opted_out = 1 OR (deleted = 0 AND (?3 = 0 OR consent = 1))) ORDER BY opted_out DESC", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, need_consent ? 1 : 0);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      char *key = recoup_contact_value_key (contact_kind, RECOUP_BOOK_STMT_TEXT (stmt, 0));

      if (sqlite3_column_int (stmt, 1))
        g_ptr_array_add (opted_out, key);
      else
        {
          if (!g_ptr_array_find_with_equal_func (opted_out, key, g_str_equal, NULL))
            (*out_usable)++;
          g_free (key);
        }
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (book, error);
  return TRUE;
}

/* Counts the account's contact points of @kind in @out_total, and in
 * @out_usable those a contact may use: not opted out, with consent when
 * @need_consent (texts), and not another spelling of one that is opted out.
 * Core does not add a value the account already has, but a book may hold one
 * from before it compared values so, or from two devices that each added it
 * offline: the debtor's opt-out holds for every spelling, and outlives the
 * removal of the point it was given on. Only an account
 * with both an opt-out and a usable contact point pays for comparing them
 * (the worklist asks about many accounts). */
static gboolean
count_contact_points (RecoupBook  *book,
                      const char  *account_id,
                      const char  *kind,
                      gboolean     need_consent,
                      gint64      *out_total,
                      gint64      *out_usable,
                      GError     **error)
{
  sqlite3_stmt *stmt;
  gint64 n_opted_out = 0;
  int rc;

  *out_total = *out_usable = 0;
  stmt = recoup_book_prepare (book,
    "SELECT count(*) FILTER (WHERE deleted = 0),"
    " count(*) FILTER (WHERE deleted = 0 AND opted_out = 0 AND (?3 = 0 OR consent = 1)),"
    " count(*) FILTER (WHERE opted_out = 1)"
    " FROM contact_points WHERE account_id = ?1 AND kind = ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, need_consent ? 1 : 0);
  if ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      *out_total = sqlite3_column_int64 (stmt, 0);
      *out_usable = sqlite3_column_int64 (stmt, 1);
      n_opted_out = sqlite3_column_int64 (stmt, 2);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW)
    return recoup_book_set_sqlite_error (book, error);
  if (*out_usable > 0 && n_opted_out > 0)
    return count_other_spellings (book, account_id, kind, need_consent, out_usable, error);
  return TRUE;
}

/* The words reasons use; translated, as the reasons are (for the app: the
 * CLI's messages stay in the C locale unless the user's locale says so). */
static const char *
contact_noun (const char *channel)
{
  if (!strcmp (channel, "call") || !strcmp (channel, "sms"))
    return C_("contact point", "phone number");
  if (!strcmp (channel, "email"))
    return C_("contact point", "e-mail address");
  return C_("contact point", "postal address");
}

/**
 * recoup_guard_channel_noun:
 *
 * The translated word for @channel in a sentence ("e-mail" for "email").
 */
const char *
recoup_guard_channel_noun (const char *channel)
{
  if (!strcmp (channel, "call"))
    return C_("channel", "call");
  if (!strcmp (channel, "sms"))
    return C_("channel", "text message");
  if (!strcmp (channel, "email"))
    return C_("channel", "e-mail");
  if (!strcmp (channel, "letter"))
    return C_("channel", "letter");
  if (!strcmp (channel, "visit"))
    return C_("channel", "visit");
  return channel;
}

/**
 * recoup_guard_rule_phrase:
 * @code: a reason's code ("outside-hours"), as the guard gives it and as
 *   review items keep it
 *
 * The translated words for the rule @code names, to stand in a sentence
 * ("outside the debtor's contact hours"). A code this Recoup does not know
 * (a rule of a newer one) is returned as it is, so the reader still sees it.
 */
const char *
recoup_guard_rule_phrase (const char *code)
{
  static const struct { const char *code; const char *phrase; } rules[] = {
    /* Translators: each is one of the rules a contact broke, listed in
     * “call on … broke the compliance rules (outside the debtor's contact
     * hours; a dispute is open), logged by …” */
    { "outside-hours", N_("outside the debtor's contact hours") },
    { "timezone-unknown", N_("the debtor's time zone is unknown") },
    { "call-frequency", N_("too many calls within 7 days") },
    { "recent-conversation", N_("too soon after a telephone conversation") },
    { "cease-communication", N_("the debtor asked to cease communication") },
    { "channel-opt-out", N_("the debtor opted out of the channel") },
    { "contact-opt-out", N_("every contact point for the channel is opted out") },
    { "no-contact-point", N_("no contact point on file for the channel") },
    { "dispute-open", N_("a dispute is open") },
    { "validation-notice", N_("no validation notice recorded") },
    { "attorney-represented", N_("the debtor is represented by an attorney") },
    { "bankruptcy", N_("the debtor is in bankruptcy") },
    { "deceased", N_("the debtor is deceased") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (rules); i++)
    if (g_strcmp0 (code, rules[i].code) == 0)
      return _(rules[i].phrase);
  return code;
}

/* Whole sentences, so that each language can word them its own way. */
static const char *
no_contact_point_text (const char *channel)
{
  if (!strcmp (channel, "call"))
    return _("the account has no phone number on file to call");
  if (!strcmp (channel, "sms"))
    return _("the account has no phone number on file to text");
  if (!strcmp (channel, "email"))
    return _("the account has no e-mail address on file");
  if (!strcmp (channel, "letter"))
    return _("the account has no postal address on file");
  return _("the account has no address on file to visit");
}

static void
format_hm (int   minutes,
           char  buf[6])
{
  g_snprintf (buf, 6, "%02d:%02d", (minutes / 60) % 100, minutes % 60);
}


/* The call-frequency rule on the @n_before call attempts @ats (oldest first)
 * of the 7 days that end with the day of an instant, made before it: when
 * the block at that instant lifts (the day the max-th latest of them leaves
 * the 7 days: 7 days after its own), or 0 when there is none. */
static gint64
frequency_until (GTimeZone    *day_tz,
                 const gint64 *ats,
                 guint         n_before,
                 int           max_calls)
{
  LocalTime nth;

  if (max_calls <= 0 || n_before < (guint) max_calls)
    return 0;
  local_time (day_tz, ats[n_before - (guint) max_calls], &nth);
  return local_day_start (day_tz, nth.day + 7);
}

/* The recent-conversation rule at @lt for a telephone conversation at
 * @conversation_at (at or before @lt; 0 for none), whose day it puts in
 * @out_day: when the block lifts (the day after the policy's days, counting
 * the conversation's), or 0 when there is none. */
static gint64
conversation_until (const RecoupGuardPolicy *p,
                    GTimeZone               *day_tz,
                    const LocalTime         *lt,
                    gint64                   conversation_at,
                    gint32                  *out_day)
{
  LocalTime conv;

  if (p->conversation_days <= 0 || conversation_at == 0)
    return 0;
  local_time (day_tz, conversation_at, &conv);
  *out_day = conv.day;
  if (lt->day - conv.day + 1 > p->conversation_days)
    return 0;
  return local_day_start (day_tz, conv.day + p->conversation_days);
}

/* Call frequency: at most @max_calls outbound calls in 7 consecutive days of
 * the debtor's calendar. One read of the calls in the 13 days around the
 * call's day answers both the 7 days that end with it and, for a call logged
 * for an instant already past (a call made in the field and logged that
 * evening), every 7 days that hold its day, counting the calls logged after
 * it too. Adds the call-frequency reason; FALSE only on an SQLite error. */
static gboolean
check_call_frequency (RecoupBook         *book,
                      const char         *account_id,
                      GTimeZone          *day_tz,
                      const LocalTime    *lt,
                      gint64              at_ms,
                      int                 max_calls,
                      RecoupGuardVerdict *v,
                      GError            **error)
{
  g_autoptr(GArray) ats = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) days = g_array_new (FALSE, FALSE, sizeof (gint32));
  sqlite3_stmt *stmt;
  guint before = 0;
  gint64 until;
  char d1[11], d2[11];
  int rc;

  stmt = recoup_book_prepare (book, sql_call_attempts, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, local_day_start (day_tz, lt->day - 6));
  sqlite3_bind_int64 (stmt, 3, local_day_start (day_tz, lt->day + 7));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 call_at = sqlite3_column_int64 (stmt, 0);
      LocalTime call;

      local_time (day_tz, call_at, &call);
      g_array_append_val (ats, call_at);
      g_array_append_val (days, call.day);
      before += call_at < at_ms;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (book, error);

  /* The 7 days ending with the call's day. */
  until = frequency_until (day_tz, (const gint64 *) ats->data, before, max_calls);
  if (until != 0)
    {
      RecoupGuardReason *r;

      recoup_date_format_buf (lt->day - 6, d1);
      recoup_date_format_buf (lt->day, d2);
      r = add_reason (v, TRUE, "call-frequency",
                      _("%u call attempts already in the 7 days %s to %s: at most %d are "
                        "allowed in 7 consecutive days"), before, d1, d2, max_calls);
      r->until = until;
      return TRUE;
    }
  if (before == ats->len)
    return TRUE;   /* nothing logged after it: the 7 days ending with its day were the fullest */

  for (gint32 start = lt->day - 6; start <= lt->day; start++)
    {
      int n = 0;

      for (guint i = 0; i < days->len; i++)
        {
          gint32 d = g_array_index (days, gint32, i);

          n += d >= start && d <= start + 6;
        }
      if (n >= max_calls)
        {
          recoup_date_format_buf (start, d1);
          recoup_date_format_buf (start + 6, d2);
          add_reason (v, TRUE, "call-frequency",
                      _("%d call attempts already in the 7 days %s to %s: at most %d are allowed in 7 "
                        "consecutive days"), n, d1, d2, max_calls);
          break;
        }
    }
  return TRUE;
}

/**
 * recoup_guard_call_history_opens_at:
 * @timezone: (nullable): the debtor's IANA zone as the account keeps it
 * @last_call_at: the account's latest call attempt
 *   (%RECOUP_GUARD_CALL_ATTEMPT_SQL), UTC ms; 0 for none
 * @last_conversation_at: its latest telephone conversation
 *   (%RECOUP_GUARD_CONVERSATION_SQL), UTC ms; 0 for none
 * @now_ms: the instant the answer is for: a block that lifted by then is none
 * @out_opens_at: (out): the instant from which the rules of the account's
 *   call history (call-frequency, recent-conversation) stop blocking a call
 *   if nothing more is logged; 0 when they do not block after @now_ms
 *
 * The answer recoup_guard_check() gives for a call just after the latest of
 * these activities, when its reasons of these rules lift: from then on, with
 * no call logged, the calls in the last 7 days only leave them and the
 * latest conversation only ages, so the block holds until that instant and
 * no more. What derived data keeps, so that a list asks it of every account
 * without reading each one's history; the calls are read only when the
 * call-frequency block they could make would last beyond @now_ms.
 *
 * Returns: FALSE only on an SQLite error
 */
gboolean
recoup_guard_call_history_opens_at (RecoupBook               *book,
                                    const RecoupGuardPolicy  *p,
                                    const char               *account_id,
                                    const char               *timezone,
                                    gint64                    last_call_at,
                                    gint64                    last_conversation_at,
                                    gint64                    now_ms,
                                    gint64                   *out_opens_at,
                                    GError                  **error)
{
  GTimeZone *day_tz = recoup_guard_debtor_zone (p, timezone);
  gint64 latest = MAX (last_call_at, last_conversation_at);
  gint64 opens_at = 0;
  gint32 conv_day;
  LocalTime lt;

  *out_opens_at = 0;
  if (latest == 0)
    return TRUE;
  local_time (day_tz, latest + 1, &lt);
  if (last_conversation_at != 0)
    opens_at = conversation_until (p, day_tz, &lt, last_conversation_at, &conv_day);

  /* A call-frequency block lifts at the latest 7 days after the day of the
   * latest call. */
  if (p->max_calls_7d > 0 && last_call_at != 0 && local_day_start (day_tz, lt.day + 7) > now_ms)
    {
      g_autoptr(GArray) ats = g_array_new (FALSE, FALSE, sizeof (gint64));
      sqlite3_stmt *stmt = recoup_book_prepare (book, sql_call_attempts, error);
      int rc;

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, local_day_start (day_tz, lt.day - 6));
      sqlite3_bind_int64 (stmt, 3, latest + 1);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          gint64 call_at = sqlite3_column_int64 (stmt, 0);

          g_array_append_val (ats, call_at);
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        return recoup_book_set_sqlite_error (book, error);
      opens_at = MAX (opens_at, frequency_until (day_tz, (const gint64 *) ats->data, ats->len, p->max_calls_7d));
    }
  *out_opens_at = opens_at > now_ms ? opens_at : 0;
  return TRUE;
}

gboolean
recoup_guard_check_with_policy (RecoupBook               *book,
                                const RecoupGuardPolicy  *p,
                                const char               *account_id,
                                const char               *channel,
                                gint64                    at_ms,
                                const char               *user_id,
                                RecoupGuardVerdict      **out_verdict,
                                GError                  **error)
{
  g_autoptr(RecoupGuardVerdict) v = NULL;
  g_autofree char *tz_name = NULL, *notice = NULL, *opt_out = NULL;
  gboolean cease, attorney, bankrupt, deceased;
  gint64 n_contacts, n_usable;
  GTimeZone *tz, *day_tz;
  sqlite3_stmt *stmt;
  LocalTime lt;
  const char *zone_label;
  gboolean is_call;
  char d1[11], d2[11];

  if (channel == NULL || !g_strv_contains (recoup_guard_channels, channel))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a contact channel (call, sms, email, letter, visit)", channel ? channel : "");
      return FALSE;
    }
  if (at_ms == 0)
    at_ms = recoup_book_now_ms (book);
  is_call = g_str_equal (channel, "call");

  stmt = recoup_book_prepare (book,
    "SELECT timezone, cease_communication, attorney_represented, bankruptcy, deceased,"
    " validation_notice_date, opt_out_channels FROM accounts WHERE id = ? AND deleted = 0", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "no account with id %s", account_id ? account_id : "");
      return FALSE;
    }
  tz_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  cease = sqlite3_column_int (stmt, 1);
  attorney = sqlite3_column_int (stmt, 2);
  bankrupt = sqlite3_column_int (stmt, 3);
  deceased = sqlite3_column_int (stmt, 4);
  notice = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
  opt_out = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 6));
  sqlite3_reset (stmt);

  v = g_new0 (RecoupGuardVerdict, 1);
  v->reasons = g_ptr_array_new_with_free_func ((GDestroyNotify) reason_free);

  stmt = recoup_book_prepare (book, "SELECT can_override FROM users WHERE id = ? AND deleted = 0", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, user_id != NULL ? user_id : recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  v->may_override = query_int64 (book, stmt, 0) != 0;

  /* Flags that stop collection outright. */
  if (p->flags)
    {
      if (attorney)
        add_reason (v, TRUE, "attorney-represented",
                    _("the debtor is represented by an attorney: communicate with the attorney, not the debtor"));
      if (bankrupt)
        add_reason (v, TRUE, "bankruptcy", _("the debtor is in bankruptcy: collection is stayed"));
      if (deceased)
        add_reason (v, TRUE, "deceased", _("the debtor is deceased: contact the estate's representative through the proper process"));
    }
  if (p->cease && cease)
    {
      if (g_str_equal (channel, "letter"))
        add_reason (v, FALSE, "cease-communication",
                    _("the debtor asked to cease communication: only a permitted notice (no further "
                      "contact, a specific remedy, or the last notice required by law) may be sent"));
      else
        add_reason (v, TRUE, "cease-communication",
                    _("the debtor asked to cease communication: no %s is allowed, only a permitted notice by letter"),
                    recoup_guard_channel_noun (channel));
    }
  if (p->dispute)
    {
      stmt = recoup_book_prepare (book, "SELECT 1 FROM disputes WHERE account_id = ? AND status = 'open' LIMIT 1", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
      if (query_int64 (book, stmt, 0))
        {
          if (g_str_equal (channel, "letter"))
            add_reason (v, FALSE, "dispute-open",
                        _("a dispute is open: send only what answers it (verification), not a collection letter"));
          else
            add_reason (v, TRUE, "dispute-open",
                        _("a dispute is open: collection contacts are paused until it is resolved"));
        }
    }

  /* Opt-outs: of the channel, and of every contact point it could use. */
  if (opt_out != NULL && *opt_out != '\0')
    {
      g_auto(GStrv) list = g_strsplit (opt_out, ",", -1);

      if (g_strv_contains ((const char * const *) list, channel))
        add_reason (v, TRUE, "channel-opt-out", _("the debtor opted out of contact by %s"), recoup_guard_channel_noun (channel));
    }
  if (!count_contact_points (book, account_id, contact_kind_for (channel), g_str_equal (channel, "sms"),
                             &n_contacts, &n_usable, error))
    return FALSE;
  if (n_contacts > 0 && n_usable == 0)
    add_reason (v, TRUE, "contact-opt-out",
                g_str_equal (channel, "sms") ? _("every phone number of the account is opted out or has no consent to texts")
                                             : _("every %s of the account is opted out"), contact_noun (channel));
  else if (n_contacts == 0)
    add_reason (v, FALSE, "no-contact-point", "%s", no_contact_point_text (channel));

  /* Local time. */
  tz = zone_for (tz_name);
  zone_label = tz_name;
  day_tz = tz;
  if (tz == NULL)
    {
      /* A zone from before zones had to name a region (EST) is as good as
       * none for the hours, and says why. */
      g_autofree char *unknown = tz_name != NULL && *tz_name != '\0'
        /* Translators: a time zone as the account holds it, e.g. EST */
        ? g_strdup_printf (_("the debtor's time zone “%s” names no region (such as America/New_York)"), tz_name)
        : g_strdup (_("the debtor's time zone is unknown"));

      day_tz = zone_for (p->business_timezone);
      if (day_tz == NULL)
        day_tz = zone_for ("UTC");
      if (p->unknown_zone_business)
        {
          tz = day_tz;
          zone_label = p->business_timezone;
          if (!g_str_equal (channel, "letter"))
            add_reason (v, FALSE, "timezone-unknown",
                        /* Translators: why the zone is unknown, then the business's zone */
                        _("%s: the business's zone (%s) is used for the hours; record the account's zone"),
                        unknown, p->business_timezone);
        }
      else if (g_str_equal (channel, "call") || g_str_equal (channel, "sms"))
        add_reason (v, TRUE, "timezone-unknown",
                    /* Translators: why the zone is unknown */
                    _("%s, so a lawful hour cannot be known: record the account's zone (or let the book use "
                      "the business's zone)"), unknown);
      else if (!g_str_equal (channel, "letter"))
        add_reason (v, FALSE, "timezone-unknown",
                    /* Translators: why the zone is unknown */
                    _("%s: the hours were not checked"), unknown);
    }
  local_time (day_tz, at_ms, &lt);

  if (tz != NULL && !g_str_equal (channel, "letter") && !within_hours (p, &lt, NULL))
    {
      char now[6], from[6], to[6];

      RecoupGuardReason *r;

      format_hm (lt.minute, now);
      format_hm (p->hours_start, from);
      format_hm (p->hours_end, to);
      recoup_date_format_buf (lt.day, d1);
      r = add_reason (v, TRUE, "outside-hours",
                      _("it is %s on %s in %s: contact is allowed from %s to %s the debtor's local time"),
                      now, d1, zone_label, from, to);
      within_hours (p, &lt, &r->until);
    }

  /* Call frequency: see check_call_frequency(). */
  if (is_call && p->max_calls_7d > 0 &&
      !check_call_frequency (book, account_id, day_tz, &lt, at_ms, p->max_calls_7d, v, error))
    return FALSE;

  /* A telephone conversation starts a period of N days (its day is day 1). */
  if (is_call && p->conversation_days > 0)
    {
      gint64 until;
      gint32 conv_day;

      stmt = recoup_book_prepare (book,
        "SELECT max(at) FROM activities WHERE account_id = ? AND " RECOUP_GUARD_CONVERSATION_SQL
        " AND at <= ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, at_ms);
      until = conversation_until (p, day_tz, &lt, query_int64 (book, stmt, 0), &conv_day);
      if (until != 0)
        {
          RecoupGuardReason *r;

          recoup_date_format_buf (conv_day, d1);
          recoup_date_format_buf (conv_day + p->conversation_days, d2);
          r = add_reason (v, TRUE, "recent-conversation",
                          _("a telephone conversation took place on %s: no call for %d days counting that day "
                            "(calls allowed again on %s)"), d1, p->conversation_days, d2);
          r->until = until;
        }
    }

  /* Validation notice within N days of the first communication. */
  if (p->validation_days > 0 && (notice == NULL || *notice == '\0'))
    {
      gint64 first;

      stmt = recoup_book_prepare (book,
        "SELECT min(at) FROM activities WHERE account_id = ?"
        " AND channel IN ('call','sms','email','letter','visit')", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
      first = query_int64 (book, stmt, G_MININT64);
      if (first != G_MININT64 && first <= at_ms)
        {
          LocalTime f;

          local_time (day_tz, first, &f);
          if (lt.day - f.day > p->validation_days)
            {
              recoup_date_format_buf (f.day, d1);
              add_reason (v, FALSE, "validation-notice",
                          _("no validation notice is recorded although the first communication was on %s, "
                            "more than %d days ago: send one and record its date"), d1, p->validation_days);
            }
        }
    }

  *out_verdict = g_steal_pointer (&v);
  return TRUE;
}

/**
 * recoup_guard_check:
 * @at_ms: the instant of the contact (UTC ms); 0 for now
 * @user_id: (nullable): who would contact; NULL for the book's current user
 *
 * Returns FALSE with an error for an unknown account or channel; otherwise
 * TRUE with the verdict.
 */
gboolean
recoup_guard_check (RecoupBook          *book,
                    const char          *account_id,
                    const char          *channel,
                    gint64               at_ms,
                    const char          *user_id,
                    RecoupGuardVerdict **out_verdict,
                    GError             **error)
{
  RecoupGuardPolicy policy;
  gboolean ok;

  recoup_guard_policy_load (book, &policy);
  ok = recoup_guard_check_with_policy (book, &policy, account_id, channel, at_ms, user_id, out_verdict, error);
  recoup_guard_policy_clear (&policy);
  return ok;
}
