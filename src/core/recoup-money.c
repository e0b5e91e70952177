/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-money"

#include "config.h"

#include <locale.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "recoup-money.h"

/* Amounts are signed 64-bit counts of a currency's minor unit. Nothing in this file
 * touches a floating-point number: parsing, rounding and formatting are integer work. */

G_DEFINE_QUARK (recoup-money-error-quark, recoup_money_error)

typedef struct
{
  char code[4];
  int  digits;
} Currency;

/* ISO 4217 active codes with their minor-unit digits. Sorted for bsearch. */
static const Currency currencies[] = {
  { "AED", 2 }, { "AFN", 2 }, { "ALL", 2 }, { "AMD", 2 }, { "ANG", 2 }, { "AOA", 2 },
  { "ARS", 2 }, { "AUD", 2 }, { "AWG", 2 }, { "AZN", 2 }, { "BAM", 2 }, { "BBD", 2 },
  { "BDT", 2 }, { "BGN", 2 }, { "BHD", 3 }, { "BIF", 0 }, { "BMD", 2 }, { "BND", 2 },
  { "BOB", 2 }, { "BRL", 2 }, { "BSD", 2 }, { "BTN", 2 }, { "BWP", 2 }, { "BYN", 2 },
  { "BZD", 2 }, { "CAD", 2 }, { "CDF", 2 }, { "CHF", 2 }, { "CLF", 4 }, { "CLP", 0 },
  { "CNY", 2 }, { "COP", 2 }, { "CRC", 2 }, { "CUP", 2 }, { "CVE", 2 }, { "CZK", 2 },
  { "DJF", 0 }, { "DKK", 2 }, { "DOP", 2 }, { "DZD", 2 }, { "EGP", 2 }, { "ERN", 2 },
  { "ETB", 2 }, { "EUR", 2 }, { "FJD", 2 }, { "FKP", 2 }, { "GBP", 2 }, { "GEL", 2 },
  { "GHS", 2 }, { "GIP", 2 }, { "GMD", 2 }, { "GNF", 0 }, { "GTQ", 2 }, { "GYD", 2 },
  { "HKD", 2 }, { "HNL", 2 }, { "HTG", 2 }, { "HUF", 2 }, { "IDR", 2 }, { "ILS", 2 },
  { "INR", 2 }, { "IQD", 3 }, { "IRR", 2 }, { "ISK", 0 }, { "JMD", 2 }, { "JOD", 3 },
  { "JPY", 0 }, { "KES", 2 }, { "KGS", 2 }, { "KHR", 2 }, { "KMF", 0 }, { "KPW", 2 },
  { "KRW", 0 }, { "KWD", 3 }, { "KYD", 2 }, { "KZT", 2 }, { "LAK", 2 }, { "LBP", 2 },
  { "LKR", 2 }, { "LRD", 2 }, { "LSL", 2 }, { "LYD", 3 }, { "MAD", 2 }, { "MDL", 2 },
  { "MGA", 2 }, { "MKD", 2 }, { "MMK", 2 }, { "MNT", 2 }, { "MOP", 2 }, { "MRU", 2 },
  { "MUR", 2 }, { "MVR", 2 }, { "MWK", 2 }, { "MXN", 2 }, { "MYR", 2 }, { "MZN", 2 },
  { "NAD", 2 }, { "NGN", 2 }, { "NIO", 2 }, { "NOK", 2 }, { "NPR", 2 }, { "NZD", 2 },
  { "OMR", 3 }, { "PAB", 2 }, { "PEN", 2 }, { "PGK", 2 }, { "PHP", 2 }, { "PKR", 2 },
  { "PLN", 2 }, { "PYG", 0 }, { "QAR", 2 }, { "RON", 2 }, { "RSD", 2 }, { "RUB", 2 },
  { "RWF", 0 }, { "SAR", 2 }, { "SBD", 2 }, { "SCR", 2 }, { "SDG", 2 }, { "SEK", 2 },
  { "SGD", 2 }, { "SHP", 2 }, { "SLE", 2 }, { "SOS", 2 }, { "SRD", 2 }, { "SSP", 2 },
  { "STN", 2 }, { "SVC", 2 }, { "SYP", 2 }, { "SZL", 2 }, { "THB", 2 }, { "TJS", 2 },
  { "TMT", 2 }, { "TND", 3 }, { "TOP", 2 }, { "TRY", 2 }, { "TTD", 2 }, { "TWD", 2 },
  { "TZS", 2 }, { "UAH", 2 }, { "UGX", 0 }, { "USD", 2 }, { "UYI", 0 }, { "UYU", 2 },
  { "UYW", 4 }, { "UZS", 2 }, { "VES", 2 }, { "VND", 0 }, { "VUV", 0 }, { "WST", 2 },
  { "XAF", 0 }, { "XCD", 2 }, { "XOF", 0 }, { "XPF", 0 }, { "YER", 2 }, { "ZAR", 2 },
  { "ZMW", 2 }, { "ZWL", 2 },
};

static int
compare_currency (const void *key,
                  const void *item)
{
  return strcmp (key, ((const Currency *) item)->code);
}

static const Currency *
lookup_currency (const char *code)
{
  if (code == NULL || strlen (code) != 3)
    return NULL;
  return bsearch (code, currencies, G_N_ELEMENTS (currencies), sizeof (Currency),
                  compare_currency);
}

gboolean
recoup_currency_is_known (const char *code)
{
  return lookup_currency (code) != NULL;
}

/* Returns the number of minor-unit digits, or -1 for an unknown code. */
int
recoup_currency_digits (const char *code)
{
  const Currency *c = lookup_currency (code);

  return c != NULL ? c->digits : -1;
}

static gboolean
is_three_capitals (const char *code)
{
  return code != NULL && strlen (code) == 3 &&
         g_ascii_isupper (code[0]) && g_ascii_isupper (code[1]) && g_ascii_isupper (code[2]);
}

gboolean
recoup_currency_validate (const char  *code,
                          GError     **error)
{
  if (lookup_currency (code) != NULL)
    return TRUE;

  if (g_strcmp0 (code, "XXX") == 0)
    g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_CURRENCY,
                 /* Translators: %s is the currency code XXX */
                 _("“%s” is not a currency Recoup knows: it is the ISO 4217 code for no currency; "
                   "give the currency the amounts are in, such as USD, EUR or JPY"), code);
  else if (is_three_capitals (code))
    g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_CURRENCY,
                 /* Translators: %s is what was given as a currency code */
                 _("“%s” is not a currency Recoup knows (an ISO 4217 code of a currency in use, such "
                   "as USD, EUR, JPY)"), code);
  else
    g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_CURRENCY,
                 /* Translators: %s is what was given as a currency code */
                 _("“%s” is not an ISO 4217 currency code (expected three capital letters such as "
                   "USD, EUR, JPY)"), code != NULL ? code : "");
  return FALSE;
}

/* The largest amount Recoup records, for a message: “USD 10,000,000,000,000.00”. */
static char *
format_limit (const char *currency)
{
  return recoup_money_format_for_reader (RECOUP_MONEY_LIMIT, currency,
                                         RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
}

/*
 * Accepted: an optional sign, digits, optionally grouped by ',' in threes
 * ("1,234,567"), then optionally '.' and at most as many fraction digits as the
 * currency has (extra trailing zeros are tolerated: "1200.00" JPY is 1200).
 * Refused: exponents, a second '.', groups that are not three digits ("12,34.5"),
 * anything beyond G_MAXINT64 minor units.
 */
const RecoupMoneyMarks recoup_money_marks_c = { '.', "," };

/* The length of the grouping mark at @p (before @end), or 0. A mark that is
 * a space (a no-break or narrow no-break space, as French and Polish write
 * thousands) also accepts the other spaces, and a right single quotation
 * mark (Swiss German) the apostrophe, since the one typed is plain. */
static gsize
group_mark_at (const RecoupMoneyMarks *marks,
               const char             *p,
               const char             *end)
{
  static const char * const spaces[] = { " ", "\u00a0", "\u202f", NULL };
  static const char * const quotes[] = { "'", "\u2019", NULL };
  const char * const *same = g_strv_contains (spaces, marks->group) ? spaces
                           : g_strv_contains (quotes, marks->group) ? quotes : NULL;
  gsize len = strlen (marks->group);

  if (len > 0 && (gsize) (end - p) >= len && memcmp (p, marks->group, len) == 0)
    return len;
  for (guint i = 0; same != NULL && same[i] != NULL; i++)
    {
      len = strlen (same[i]);
      if ((gsize) (end - p) >= len && memcmp (p, same[i], len) == 0)
        return len;
    }
  return 0;
}

gboolean
recoup_money_parse (const char  *text,
                    const char  *currency,
                    gint64      *out_minor,
                    GError     **error)
{
  return recoup_money_parse_marks (text, currency, &recoup_money_marks_c, out_minor, error);
}

/**
 * recoup_money_parse_marks:
 *
 * recoup_money_parse() with the decimal and grouping marks of @marks, as a
 * user types amounts in their locale (“1.234,56” in German). The same rules:
 * a grouping mark only between groups of three digits, “1,200” in a currency
 * of fewer decimals is ambiguous, and so on, with the marks swapped.
 */
gboolean
recoup_money_parse_marks (const char             *text,
                          const char             *currency,
                          const RecoupMoneyMarks *marks,
                          gint64                 *out_minor,
                          GError                **error)
{
  const char dec = marks->decimal;
  const char *grp = marks->group;
  const Currency *cur;
  const char *p;
  const char *end;
  gboolean negative = FALSE;
  gboolean seen_group = FALSE;
  guint64 units = 0;
  guint64 limit;
  int int_digits = 0;
  int group_len = 0;
  int frac_digits = 0;
  int scale;
  gboolean three_after = FALSE;
  const char *int_part = NULL;
  const char *sign;

  g_return_val_if_fail (out_minor != NULL, FALSE);

  if (!(cur = lookup_currency (currency)))
    return recoup_currency_validate (currency, error);

  if (text == NULL)
    text = "";

  p = text;
  end = text + strlen (text);
  while (p < end && g_ascii_isspace (*p))
    p++;
  while (end > p && g_ascii_isspace (end[-1]))
    end--;

  if (p == end)
    {
      g_set_error_literal (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_INVALID,
                           _("the amount is empty"));
      return FALSE;
    }

  if (*p == '-' || *p == '+')
    {
      negative = (*p == '-');
      p++;
    }
  sign = negative ? "-" : "";

  /* Negative amounts may reach one further unit than positive ones; we do not
   * need that unit, so both sides share the positive limit. */
  limit = (guint64) G_MAXINT64;
  scale = cur->digits;

  for (; p < end && *p != dec; p++)
    {
      gsize mark = group_mark_at (marks, p, end);

      if (mark > 0)
        {
          if (int_digits == 0 || (seen_group && group_len != 3) || (!seen_group && group_len > 3))
            goto ambiguous;
          seen_group = TRUE;
          group_len = 0;
          p += mark - 1;
          continue;
        }
      if (!g_ascii_isdigit (*p))
        goto invalid;
      if (units > (limit - (guint64) (*p - '0')) / 10)
        goto overflow;
      units = units * 10 + (guint64) (*p - '0');
      int_digits++;
      group_len++;
    }

  if (seen_group && group_len != 3)
    goto ambiguous;

  if (p < end && *p == dec)
    {
      const char *frac = ++p;
      gsize frac_len = 0;

      if (p == end && int_digits == 0)
        goto invalid;
      while (frac + frac_len < end && g_ascii_isdigit (frac[frac_len]))
        frac_len++;
      /* "1.200" in a currency of fewer decimals reads as 1.20 to one person
       * and 1,200 (a dot grouping thousands) to another; without the zeros
       * ("1.205") it is refused below for its precision, and the message
       * gives the other reading too. */
      three_after = frac_len == 3 && frac + frac_len == end && scale < 3 && !seen_group && units > 0;
      int_part = three_after ? frac - 1 - int_digits : NULL;
      if (three_after && strspn (frac + scale, "0") == (gsize) (3 - scale))
        {
          g_autofree char *as_decimal = scale > 0
            ? g_strdup_printf ("%s%.*s%c%.*s", sign, int_digits, int_part, dec, scale, frac)
            : g_strdup_printf ("%s%.*s", sign, int_digits, int_part);

          g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_AMBIGUOUS,
                       g_dngettext (GETTEXT_PACKAGE,
                                    /* Translators: “1.200” in a currency with 2 decimal places: the
                                     * amount as typed, the currency code, its decimal places, the
                                     * decimal mark, then the two readings (1.20 and 1200) as the
                                     * user should type them */
                                    "“%s” is ambiguous: %s has %d decimal place, so the three digits "
                                    "after “%c” may group thousands; write %s or %s%.*s%s",
                                    "“%s” is ambiguous: %s has %d decimal places, so the three digits "
                                    "after “%c” may group thousands; write %s or %s%.*s%s", scale),
                       text, cur->code, scale, dec, as_decimal, sign, int_digits, int_part, frac);
          return FALSE;
        }
      /* A mark after the decimals (“1.006,25”) is the marks swapped, which
       * matters more than how many decimals come before it. */
      for (const char *q = p; q < end; q++)
        if (*q == dec)
          goto second_decimal;
        else if (group_mark_at (marks, q, end) > 0 || *q == '.' || *q == ',')
          goto ambiguous;
      for (; p < end; p++)
        {
          if (!g_ascii_isdigit (*p))
            goto invalid;
          if (frac_digits >= scale)
            {
              if (*p == '0')
                continue;
              if (three_after)
                g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_PRECISION,
                             /* Translators: “12.500” in yen: the amount as typed, a currency
                              * code, its decimal places, the decimal mark, then the amount
                              * read as thousands (12500) as the user should type it */
                             _("“%s” has more decimal places than %s allows (%d); if “%c” groups "
                               "thousands there, write %s%.*s%s"),
                             text, cur->code, scale, dec, sign, int_digits, int_part, frac);
              else
                g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_PRECISION,
                             /* Translators: the amount as typed, a currency code and its decimal places */
                             _("“%s” has more decimal places than %s allows (%d)"),
                             text, cur->code, scale);
              return FALSE;
            }
          if (units > (limit - (guint64) (*p - '0')) / 10)
            goto overflow;
          units = units * 10 + (guint64) (*p - '0');
          frac_digits++;
        }
    }
  else if (int_digits == 0)
    goto invalid;

  for (; frac_digits < scale; frac_digits++)
    {
      if (units > limit / 10)
        goto overflow;
      units *= 10;
    }

  *out_minor = negative ? -(gint64) units : (gint64) units;
  return TRUE;

invalid:
  g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_INVALID,
               /* Translators: the text typed, then the decimal mark (twice) */
               _("“%s” is not an amount: use digits with an optional “%c” before the decimals, "
                 "like 1200%c00"), text, dec, dec);
  return FALSE;

ambiguous:
  g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_AMBIGUOUS,
               /* Translators: the text typed, the grouping mark (twice, in the example
                * 1,234.56), then the decimal mark (twice) */
               _("“%s” is ambiguous: “%s” may only group thousands (1%s234%c56) and “%c” marks the "
                 "decimals"), text, grp, grp, dec, dec);
  return FALSE;

second_decimal:
  g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_AMBIGUOUS,
               /* Translators: the text typed, the decimal mark, then the grouping mark
                * (twice, in the example 1,234.56) and the decimal mark again */
               _("“%s” is ambiguous: “%c” marks the decimals and may appear only once (group "
                 "thousands with “%s”: 1%s234%c56)"), text, dec, grp, grp, dec);
  return FALSE;

overflow:
  {
    g_autofree char *limit = format_limit (cur->code);

    g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_OVERFLOW,
                 /* Translators: the amount as typed, then the largest amount with its
                  * currency code, e.g. USD 10,000,000,000,000.00 */
                 _("“%s” is too large: Recoup records at most %s as one amount"), text, limit);
    return FALSE;
  }
}

char *
recoup_money_format (gint64                 minor,
                     const char            *currency,
                     RecoupMoneyFormatFlags flags)
{
  return recoup_money_format_marks (minor, currency, flags, &recoup_money_marks_c);
}

/* recoup_money_format() with the decimal and grouping marks of @marks. */
char *
recoup_money_format_marks (gint64                  minor,
                           const char             *currency,
                           RecoupMoneyFormatFlags  flags,
                           const RecoupMoneyMarks *marks)
{
  GString *out = g_string_new (NULL);
  char digits[32];
  guint64 units;
  int scale = recoup_currency_digits (currency);
  int len;
  int int_len;

  if (scale < 0)
    scale = 2;

  /* -G_MININT64 does not fit; go through unsigned. */
  units = minor < 0 ? (guint64) 0 - (guint64) minor : (guint64) minor;
  len = g_snprintf (digits, sizeof digits, "%" G_GUINT64_FORMAT, units);

  /* Left-pad so that there is at least one integer digit. */
  if (len <= scale)
    {
      char padded[32];
      int pad = scale + 1 - len;

      memset (padded, '0', (gsize) pad);
      memcpy (padded + pad, digits, (gsize) len + 1);
      memcpy (digits, padded, sizeof padded);
      len += pad;
    }

  if (flags & RECOUP_MONEY_FORMAT_CODE)
    {
      g_string_append (out, currency);
      g_string_append_c (out, ' ');
    }
  if (minor < 0)
    g_string_append_c (out, '-');

  int_len = len - scale;
  for (int i = 0; i < int_len; i++)
    {
      if ((flags & RECOUP_MONEY_FORMAT_GROUPING) && i > 0 && (int_len - i) % 3 == 0)
        g_string_append (out, marks->group);
      g_string_append_c (out, digits[i]);
    }
  if (scale > 0)
    {
      g_string_append_c (out, marks->decimal);
      g_string_append_len (out, digits + int_len, scale);
    }

  return g_string_free (out, FALSE);
}

/* The one place that reads the locale's marks: the app shows and reads
 * amounts with them, and core words its messages with them. */
static RecoupMoneyMarks locale_marks;
static char locale_group[8];
static const RecoupMoneyMarks *forced_marks;

/* Marks Recoup cannot read back unambiguously (a decimal mark other than “.”
 * or “,”, a grouping mark equal to it or a digit) fall back to the C marks,
 * or to the grouping mark that goes with the decimal one. */
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

/**
 * recoup_money_locale_marks:
 *
 * How the reader's locale writes amounts (LC_MONETARY, else LC_NUMERIC), read
 * the first time it is asked, so after the program's setlocale(); or the marks
 * a test set with recoup_money_set_locale_marks().
 */
const RecoupMoneyMarks *
recoup_money_locale_marks (void)
{
  static GOnce once = G_ONCE_INIT;

  if (forced_marks != NULL)
    return forced_marks;
  g_once (&once, read_locale_marks, NULL);
  return &locale_marks;
}

void
recoup_money_set_locale_marks (const RecoupMoneyMarks *marks)
{
  forced_marks = marks;
}

/**
 * recoup_money_format_for_reader:
 *
 * An amount inside a sentence for a person (“offer amount 1.234,56 is more
 * than …” in German), with the marks of recoup_money_locale_marks(). What a
 * program or a file reads back keeps recoup_money_format().
 */
char *
recoup_money_format_for_reader (gint64                  minor,
                                const char             *currency,
                                RecoupMoneyFormatFlags  flags)
{
  return recoup_money_format_marks (minor, currency, flags, recoup_money_locale_marks ());
}

/**
 * recoup_money_check_limit:
 *
 * Refuses an amount whose magnitude is beyond %RECOUP_MONEY_LIMIT, naming the
 * largest one allowed in @currency.
 */
gboolean
recoup_money_check_limit (gint64       minor,
                          const char  *currency,
                          GError     **error)
{
  g_autofree char *shown = NULL;
  g_autofree char *limit = NULL;

  if (minor >= -RECOUP_MONEY_LIMIT && minor <= RECOUP_MONEY_LIMIT)
    return TRUE;
  shown = recoup_money_format_for_reader (minor, currency, RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  limit = format_limit (currency);
  g_set_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_OVERFLOW,
               /* Translators: two amounts with their currency code, e.g. USD 10,000,000,000,000.00 */
               _("%s is too large: Recoup records at most %s as one amount"), shown, limit);
  return FALSE;
}

/* Returns FALSE when the sum does not fit in 64 bits. */
gboolean
recoup_money_add (gint64  a,
                  gint64  b,
                  gint64 *out_sum)
{
  return !__builtin_add_overflow (a, b, out_sum);
}

/* @minor × @basis_points / 10000, rounded half away from zero. */
gint64
recoup_money_apply_bp (gint64 minor,
                       gint64 basis_points)
{
  __int128 product = (__int128) minor * basis_points;
  __int128 q = product / 10000;
  __int128 r = product % 10000;

  if (r >= 5000)
    q++;
  else if (r <= -5000)
    q--;
  return (gint64) q;
}

/*
 * Splits @total into @n_parts parts that sum exactly to @total. Every part is
 * total / n rounded toward zero; the remainder goes to the LAST part, so a
 * schedule's final installment absorbs the rounding (1 cent in 3 = 0, 0, 1).
 */
void
recoup_money_split (gint64  total,
                    guint   n_parts,
                    gint64 *out_parts)
{
  gint64 base;

  g_return_if_fail (n_parts > 0);
  g_return_if_fail (out_parts != NULL);

  base = total / (gint64) n_parts;
  for (guint i = 0; i + 1 < n_parts; i++)
    out_parts[i] = base;
  out_parts[n_parts - 1] = total - base * (gint64) (n_parts - 1);
}
