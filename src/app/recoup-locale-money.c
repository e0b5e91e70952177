/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <glib/gi18n.h>

#include "recoup-locale-money.h"

static RecoupMoneyMarks locale_marks;
static char locale_group[8];
static const RecoupMoneyMarks *override_marks;

/* The locale's monetary marks (LC_MONETARY, else LC_NUMERIC), read once.
 * Marks Recoup cannot read unambiguously (a decimal mark other than “.” or
 * “,”, a grouping mark equal to it) fall back to the C marks. */
static gpointer
read_locale_marks (gpointer data)
{
  struct lconv *lc = localeconv ();
  const char *dec = lc->mon_decimal_point != NULL && *lc->mon_decimal_point ? lc->mon_decimal_point
                    : lc->decimal_point;
  const char *grp = lc->mon_thousands_sep != NULL && *lc->mon_thousands_sep ? lc->mon_thousands_sep
                    : lc->thousands_sep;

  locale_marks = recoup_money_marks_c;
  if (dec == NULL || (strcmp (dec, ".") != 0 && strcmp (dec, ",") != 0))
    return NULL;
  if (grp == NULL || *grp == '\0' || strlen (grp) >= sizeof locale_group ||
      !g_utf8_validate (grp, -1, NULL) || strchr (grp, *dec) != NULL || g_ascii_isdigit (*grp))
    grp = *dec == ',' ? "." : ",";
  g_strlcpy (locale_group, grp, sizeof locale_group);
  locale_marks.decimal = *dec;
  locale_marks.group = locale_group;
  return NULL;
}

const RecoupMoneyMarks *
recoup_locale_money_marks (void)
{
  static GOnce once = G_ONCE_INIT;

  if (override_marks != NULL)
    return override_marks;
  g_once (&once, read_locale_marks, NULL);
  return &locale_marks;
}

void
recoup_locale_money_set_marks (const RecoupMoneyMarks *marks)
{
  override_marks = marks;
}

char *
recoup_locale_money_format (gint64                  minor,
                            const char             *currency,
                            RecoupMoneyFormatFlags  flags)
{
  return recoup_money_format_marks (minor, currency, flags, recoup_locale_money_marks ());
}

gboolean
recoup_locale_money_parse (const char  *text,
                           const char  *currency,
                           gint64      *out_minor,
                           GError     **error)
{
  const RecoupMoneyMarks *marks = recoup_locale_money_marks ();
  g_autoptr(GError) local = NULL;
  g_autofree char *example = NULL;
  int digits = recoup_currency_digits (currency);

  if (recoup_money_parse_marks (text, currency, marks, out_minor, &local))
    return TRUE;
  example = recoup_money_format_marks (123456, "EUR", RECOUP_MONEY_FORMAT_GROUPING, marks);
  switch (local->code)
    {
    case RECOUP_MONEY_ERROR_INVALID:
      if (text == NULL || text[strspn (text, " \t")] == '\0')
        g_set_error (error, RECOUP_MONEY_ERROR, local->code, _("the amount is empty"));
      else
        /* Translators: the text typed, then an amount as the locale writes it */
        g_set_error (error, RECOUP_MONEY_ERROR, local->code,
                     _("“%s” is not an amount: write digits, like %s"), text, example);
      break;
    case RECOUP_MONEY_ERROR_AMBIGUOUS:
      /* Translators: the text typed, the grouping mark, the decimal mark, an example */
      g_set_error (error, RECOUP_MONEY_ERROR, local->code,
                   _("“%s” is ambiguous: “%s” groups thousands and “%c” marks the decimals, as in %s"),
                   text, marks->group, marks->decimal, example);
      break;
    case RECOUP_MONEY_ERROR_PRECISION:
      /* Translators: the text typed, a currency code and its number of decimals */
      g_set_error (error, RECOUP_MONEY_ERROR, local->code,
                   _("“%s” has more decimal places than %s allows (%d)"), text, currency, digits);
      break;
    case RECOUP_MONEY_ERROR_OVERFLOW:
      g_set_error (error, RECOUP_MONEY_ERROR, local->code, _("“%s” is too large for an amount"), text);
      break;
    default:
      g_propagate_error (error, g_steal_pointer (&local));
      break;
    }
  return FALSE;
}

char *
recoup_locale_percent_format (gint64 basis_points)
{
  const RecoupMoneyMarks *marks = recoup_locale_money_marks ();
  gint64 magnitude = basis_points < 0 ? -basis_points : basis_points;

  if (basis_points % 100 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT " %%", basis_points / 100);
  return g_strdup_printf ("%s%" G_GINT64_FORMAT "%c%02" G_GINT64_FORMAT " %%", basis_points < 0 ? "-" : "",
                          magnitude / 100, marks->decimal, magnitude % 100);
}
