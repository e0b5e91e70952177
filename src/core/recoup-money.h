/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * RecoupMoneyError:
 * @RECOUP_MONEY_ERROR_INVALID: the text is not an amount (letters, exponents, stray signs)
 * @RECOUP_MONEY_ERROR_AMBIGUOUS: separators that could mean two things (`12,34.5`)
 * @RECOUP_MONEY_ERROR_PRECISION: more decimal places than the currency has
 * @RECOUP_MONEY_ERROR_OVERFLOW: beyond what a signed 64-bit count of minor units holds, or
 *   beyond %RECOUP_MONEY_LIMIT where an amount is recorded
 * @RECOUP_MONEY_ERROR_CURRENCY: not an ISO 4217 currency code Recoup knows
 */
typedef enum
{
  RECOUP_MONEY_ERROR_INVALID,
  RECOUP_MONEY_ERROR_AMBIGUOUS,
  RECOUP_MONEY_ERROR_PRECISION,
  RECOUP_MONEY_ERROR_OVERFLOW,
  RECOUP_MONEY_ERROR_CURRENCY,
} RecoupMoneyError;

#define RECOUP_MONEY_ERROR (recoup_money_error_quark ())
GQuark recoup_money_error_quark (void);

typedef enum
{
  RECOUP_MONEY_FORMAT_PLAIN    = 0,       /* 1234.56: for CSV, JSON, round-trips through parse */
  RECOUP_MONEY_FORMAT_GROUPING = 1 << 0,  /* 1,234.56 */
  RECOUP_MONEY_FORMAT_CODE     = 1 << 1,  /* USD 1,234.56 */
} RecoupMoneyFormatFlags;

gboolean  recoup_currency_is_known       (const char  *code);
int       recoup_currency_digits         (const char  *code);
gboolean  recoup_currency_validate       (const char  *code,
                                          GError     **error);

gboolean  recoup_money_parse             (const char  *text,
                                          const char  *currency,
                                          gint64      *out_minor,
                                          GError     **error);

/* How a locale writes amounts: the decimal mark ('.' or ',') and the mark
 * that groups thousands (",", ".", "'", or a space: UTF-8). The plain C
 * marks, which CSV, JSON and the CLI use, are recoup_money_marks_c. */
typedef struct
{
  char        decimal;
  const char *group;
} RecoupMoneyMarks;

extern const RecoupMoneyMarks recoup_money_marks_c;

gboolean  recoup_money_parse_marks       (const char             *text,
                                          const char             *currency,
                                          const RecoupMoneyMarks *marks,
                                          gint64                 *out_minor,
                                          GError                **error);
char     *recoup_money_format            (gint64       minor,
                                          const char  *currency,
                                          RecoupMoneyFormatFlags flags);
char     *recoup_money_format_marks      (gint64                  minor,
                                          const char             *currency,
                                          RecoupMoneyFormatFlags  flags,
                                          const RecoupMoneyMarks *marks);

/* The reader's marks: the locale's (LC_MONETARY, else LC_NUMERIC), read once,
 * after setlocale(). Amounts inside the sentences Recoup writes for a person
 * (errors, explanations) use them; data (CSV, JSON, settings, letters) keeps
 * the C marks. The CLI pins both categories to C, so it reads C marks. */
const RecoupMoneyMarks *recoup_money_locale_marks     (void);
/* For tests: use @marks instead of the locale's (NULL: the locale's again). */
void                    recoup_money_set_locale_marks (const RecoupMoneyMarks *marks);
char                   *recoup_money_format_for_reader (gint64                  minor,
                                                        const char             *currency,
                                                        RecoupMoneyFormatFlags  flags);

/**
 * RECOUP_MONEY_LIMIT:
 *
 * The largest magnitude, in minor units, of one amount Recoup records, and of
 * the charges (or the credits) of one account added together: 10^15, that is
 * thirteen digits before the point of a two-decimal currency, as accounting
 * systems' DECIMAL(15,2). Within it, every balance, aging bucket and weighted
 * sum of one account fits in 64 bits, whatever order its entries add in.
 */
#define RECOUP_MONEY_LIMIT G_GINT64_CONSTANT (1000000000000000)

gboolean  recoup_money_check_limit       (gint64       minor,
                                          const char  *currency,
                                          GError     **error);

gboolean  recoup_money_add               (gint64       a,
                                          gint64       b,
                                          gint64      *out_sum);
gint64    recoup_money_apply_bp          (gint64       minor,
                                          gint64       basis_points);
void      recoup_money_split             (gint64       total,
                                          guint        n_parts,
                                          gint64      *out_parts);

G_END_DECLS
