/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-money.h"

G_BEGIN_DECLS

/*
 * Amounts as the user reads and types them: with the decimal and grouping
 * marks of their locale (“1.234,56” in German), through core's rules
 * (recoup_money_parse_marks()). CSV, JSON and the CLI keep the C marks; the
 * app shows and reads every amount through these. The marks are core's
 * (recoup_money_locale_marks()), which its messages use too.
 */
const RecoupMoneyMarks *recoup_locale_money_marks     (void);
/* For tests: use @marks instead of the locale's (NULL: the locale's again),
 * in the app and in core's messages alike. */
void                    recoup_locale_money_set_marks (const RecoupMoneyMarks *marks);

char                   *recoup_locale_money_format    (gint64                  minor,
                                                       const char             *currency,
                                                       RecoupMoneyFormatFlags  flags);
/* Errors are translated, with the locale's marks in their examples. */
gboolean                recoup_locale_money_parse     (const char             *text,
                                                       const char             *currency,
                                                       gint64                 *out_minor,
                                                       GError                **error);
/* "15 %", "12,5 %" from basis points. */
char                   *recoup_locale_percent_format  (gint64                  basis_points);
/* "112,43" from hundredths (a figure such as a DSO in days), with the locale's
 * decimal mark. */
char                   *recoup_locale_hundredths_format (gint64                hundredths);

G_END_DECLS
