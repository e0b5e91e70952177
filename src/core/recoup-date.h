/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Calendar dates are 'YYYY-MM-DD'. As numbers they are days since 1970-01-01, so
 * subtracting two gives the days between them. */
#define RECOUP_DATE_INVALID G_MININT32

gint32    recoup_date_parse       (const char  *text,
                                   GError     **error);
gboolean  recoup_date_is_valid    (const char  *text);
char     *recoup_date_format      (gint32       day);
void      recoup_date_format_buf  (gint32       day,
                                   char         buf[11]);
gint32    recoup_date_add_months  (gint32       day,
                                   int          months);
gint32    recoup_date_today_utc   (void);
gint32    recoup_date_from_unix_ms (gint64      ms,
                                    GTimeZone  *tz);

/* ISO 8601 with an offset or Z ("2026-11-24T14:30:00+01:00"); returns UTC ms. */
gboolean  recoup_instant_parse    (const char  *text,
                                   gint64      *out_ms,
                                   GError     **error);
char     *recoup_instant_format   (gint64       ms);

G_END_DECLS
