/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-date"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "recoup-book.h"
#include "recoup-date.h"

/* The years a book keeps dates in. */
#define RECOUP_DATE_MIN_YEAR 1900
#define RECOUP_DATE_MAX_YEAR 2999

/* 1970-01-01 as a GLib Julian day number (day 1 is 0001-01-01). */
#define EPOCH_JULIAN 719163

static gint32
julian_to_day (guint32 julian)
{
  return (gint32) julian - EPOCH_JULIAN;
}

/**
 * recoup_date_parse:
 *
 * Parses exactly 'YYYY-MM-DD' and checks that the date exists (no 2025-02-29)
 * and lies between 1900-01-01 and 2999-12-31.
 * Returns RECOUP_DATE_INVALID and sets @error otherwise.
 */
gint32
recoup_date_parse (const char  *text,
                   GError     **error)
{
  int y, m, d;

  if (text == NULL || strlen (text) != 10 || text[4] != '-' || text[7] != '-')
    goto bad_format;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (text[i]))
      goto bad_format;

  y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
  m = (text[5] - '0') * 10 + (text[6] - '0');
  d = (text[8] - '0') * 10 + (text[9] - '0');

  if (y < RECOUP_DATE_MIN_YEAR || y > RECOUP_DATE_MAX_YEAR)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   /* Translators: the date as given, then the first and last years a book keeps */
                   _("“%s” is out of range: dates must be between %d-01-01 and %d-12-31"),
                   text, RECOUP_DATE_MIN_YEAR, RECOUP_DATE_MAX_YEAR);
      return RECOUP_DATE_INVALID;
    }
  if (!g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("“%s” is not a date that exists"), text);
      return RECOUP_DATE_INVALID;
    }
  else
    {
      GDate date;

      g_date_clear (&date, 1);
      g_date_set_dmy (&date, (GDateDay) d, (GDateMonth) m, (GDateYear) y);
      return julian_to_day (g_date_get_julian (&date));
    }

bad_format:
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
               _("“%s” is not a date in the form YYYY-MM-DD"), text != NULL ? text : "");
  return RECOUP_DATE_INVALID;
}

gboolean
recoup_date_is_valid (const char *text)
{
  return recoup_date_parse (text, NULL) != RECOUP_DATE_INVALID;
}

void
recoup_date_format_buf (gint32 day,
                        char   buf[11])
{
  GDate date;

  g_date_clear (&date, 1);
  g_date_set_julian (&date, (guint32) (day + EPOCH_JULIAN));
  g_snprintf (buf, 11, "%04d-%02d-%02d", g_date_get_year (&date), g_date_get_month (&date),
              g_date_get_day (&date));
}

char *
recoup_date_format (gint32 day)
{
  char buf[11];

  recoup_date_format_buf (day, buf);
  return g_strdup (buf);
}

/* Adds calendar months, clamping to the month's end (Jan 31 + 1 month = Feb 28/29). */
gint32
recoup_date_add_months (gint32 day,
                        int    months)
{
  GDate date;

  g_date_clear (&date, 1);
  g_date_set_julian (&date, (guint32) (day + EPOCH_JULIAN));
  if (months >= 0)
    g_date_add_months (&date, (guint) months);
  else
    g_date_subtract_months (&date, (guint) -months);
  return julian_to_day (g_date_get_julian (&date));
}

gint32
recoup_date_from_unix_ms (gint64     ms,
                          GTimeZone *tz)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr(GDateTime) local = NULL;
  GDate date;

  if (utc == NULL)
    return RECOUP_DATE_INVALID;
  local = tz != NULL ? g_date_time_to_timezone (utc, tz) : g_date_time_ref (utc);
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, (GDateDay) g_date_time_get_day_of_month (local),
                  (GDateMonth) g_date_time_get_month (local),
                  (GDateYear) g_date_time_get_year (local));
  return julian_to_day (g_date_get_julian (&date));
}

gint32
recoup_date_today_utc (void)
{
  return (gint32) (g_get_real_time () / G_USEC_PER_SEC / 86400);
}

gboolean
recoup_instant_parse (const char  *text,
                      gint64      *out_ms,
                      GError     **error)
{
  g_autoptr(GDateTime) dt = NULL;
  gsize len = text != NULL ? strlen (text) : 0;
  gboolean has_zone;

  /* g_date_time_new_from_iso8601() would quietly read a zone-less time as local;
   * an instant must say its offset. */
  has_zone = len > 10 && (text[len - 1] == 'Z' || text[len - 1] == 'z' ||
                          strchr (text + 10, '+') != NULL || strchr (text + 10, '-') != NULL);
  if (has_zone)
    dt = g_date_time_new_from_iso8601 (text, NULL);
  if (dt == NULL)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("“%s” is not a time: use ISO 8601 with an offset, such as "
                     "2026-11-24T14:30:00+01:00 or 2026-11-24T13:30:00Z"), text != NULL ? text : "");
      return FALSE;
    }
  /* Instants are milliseconds after 1970, and 0 stands for "now" wherever
   * one is optional: a time at or before 1970 is never one a user means. */
  if (g_date_time_to_unix (dt) <= 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("“%s” is at or before 1970-01-01T00:00:00Z; give a time after it"), text);
      return FALSE;
    }
  *out_ms = g_date_time_to_unix (dt) * 1000 + g_date_time_get_microsecond (dt) / 1000;
  return TRUE;
}

char *
recoup_instant_format (gint64 ms)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (ms / 1000);

  return dt != NULL ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("?");
}
