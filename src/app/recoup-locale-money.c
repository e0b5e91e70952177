/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "recoup-locale-money.h"

/* The app's names for core's reader marks (recoup-money.h), so that core's
 * messages and the app's fields always agree on them. */
const RecoupMoneyMarks *
recoup_locale_money_marks (void)
{
  return recoup_money_locale_marks ();
}

void
recoup_locale_money_set_marks (const RecoupMoneyMarks *marks)
{
  recoup_money_set_locale_marks (marks);
}

char *
recoup_locale_money_format (gint64                  minor,
                            const char             *currency,
                            RecoupMoneyFormatFlags  flags)
{
  return recoup_money_format_for_reader (minor, currency, flags);
}

static void
set_too_large (GError                 **error,
               const char              *text,
               const char              *currency,
               const RecoupMoneyMarks  *marks)
{
  g_autofree char *limit = recoup_money_format_marks (RECOUP_MONEY_LIMIT, currency,
                                                      RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE,
                                                      marks);

  g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_OVERFLOW,
               /* Translators: the amount as typed, then the largest amount with its
                * currency code, e.g. USD 10,000,000,000,000.00 */
               _("“%s” is too large: Recoup records at most %s as one amount"), text, limit);
}

/* Refuses what core would refuse to record: beyond RECOUP_MONEY_LIMIT too. */
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
    {
      /* What a form takes is what core records: nothing beyond its limit,
       * so that a field never reads as fine and Save then fails. */
      if (recoup_money_check_limit (*out_minor, currency, NULL))
        return TRUE;
      set_too_large (error, text, currency, marks);
      return FALSE;
    }
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
      set_too_large (error, text, currency, marks);
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
  g_autofree char *number = NULL;

  if (basis_points % 100 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT " %%", basis_points / 100);
  number = recoup_locale_hundredths_format (basis_points);
  return g_strconcat (number, " %", NULL);
}

char *
recoup_locale_hundredths_format (gint64 hundredths)
{
  guint64 magnitude = hundredths < 0 ? -(guint64) hundredths : (guint64) hundredths;

  return g_strdup_printf ("%s%" G_GUINT64_FORMAT "%c%02" G_GUINT64_FORMAT, hundredths < 0 ? "-" : "",
                          magnitude / 100, recoup_locale_money_marks ()->decimal, magnitude % 100);
}
