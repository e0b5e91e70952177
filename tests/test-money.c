/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "recoup-core.h"

static void
test_parse_digits (void)
{
  struct { const char *text; const char *cur; gint64 expect; } ok[] = {
    { "1200.00", "USD", 120000 },
    { "1200", "USD", 120000 },
    { "1,200.5", "USD", 120050 },
    { "0.01", "USD", 1 },
    { ".5", "EUR", 50 },
    { "  42.10 ", "EUR", 4210 },
    { "-3.25", "USD", -325 },
    { "+7", "USD", 700 },
    { "1200", "JPY", 1200 },
    { "1200.00", "JPY", 1200 },      /* trailing zeros are harmless */
    { "1.234", "BHD", 1234 },
    { "1.2", "BHD", 1200 },
    { "1.200", "BHD", 1200 },        /* three decimals are BHD's own */
    { "0.500", "EUR", 50 },          /* 0 cannot be a group of thousands */
    { "1,200.000", "USD", 120000 },  /* the "," already groups: "." is the point */
    { "1.2000", "EUR", 120 },
    { "12,345,678.901", "KWD", 12345678901 },
    { "92233720368547758.07", "USD", G_MAXINT64 },
    { "1.2345", "CLF", 12345 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 v = 0;

      g_assert_true (recoup_money_parse (ok[i].text, ok[i].cur, &v, &error));
      g_assert_no_error (error);
      g_assert_cmpint (v, ==, ok[i].expect);
    }
}

static void
test_parse_rejects (void)
{
  struct { const char *text; const char *cur; int code; } bad[] = {
    { "12,34.5", "USD", RECOUP_MONEY_ERROR_AMBIGUOUS },
    { "1,2", "USD", RECOUP_MONEY_ERROR_AMBIGUOUS },
    { "1234,567.00", "USD", RECOUP_MONEY_ERROR_AMBIGUOUS },
    { "1.2.3", "USD", RECOUP_MONEY_ERROR_AMBIGUOUS },
    { ",5", "USD", RECOUP_MONEY_ERROR_AMBIGUOUS },
    { "1e3", "USD", RECOUP_MONEY_ERROR_INVALID },
    { "12a", "USD", RECOUP_MONEY_ERROR_INVALID },
    { "", "USD", RECOUP_MONEY_ERROR_INVALID },
    { "-", "USD", RECOUP_MONEY_ERROR_INVALID },
    { ".", "USD", RECOUP_MONEY_ERROR_INVALID },
    { "--1", "USD", RECOUP_MONEY_ERROR_INVALID },
    { "$5", "USD", RECOUP_MONEY_ERROR_INVALID },
    { "1.005", "USD", RECOUP_MONEY_ERROR_PRECISION },
    { "1.200", "EUR", RECOUP_MONEY_ERROR_AMBIGUOUS },   /* 1.20 or 1,200? */
    { "1.000", "JPY", RECOUP_MONEY_ERROR_AMBIGUOUS },
    { "-25.000", "JPY", RECOUP_MONEY_ERROR_AMBIGUOUS },
    { "7.000", "CLP", RECOUP_MONEY_ERROR_AMBIGUOUS },
    { "1.5", "JPY", RECOUP_MONEY_ERROR_PRECISION },
    { "1.2345", "BHD", RECOUP_MONEY_ERROR_PRECISION },
    { "92233720368547758.08", "USD", RECOUP_MONEY_ERROR_OVERFLOW },
    { "99999999999999999999999", "JPY", RECOUP_MONEY_ERROR_OVERFLOW },
    { "10", "XXX", RECOUP_MONEY_ERROR_CURRENCY },
    { "10", "usd", RECOUP_MONEY_ERROR_CURRENCY },
    { "10", NULL, RECOUP_MONEY_ERROR_CURRENCY },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 v = 12345;

      g_assert_false (recoup_money_parse (bad[i].text, bad[i].cur, &v, &error));
      g_assert_error (error, RECOUP_MONEY_ERROR, bad[i].code);
      g_assert_cmpint (v, ==, 12345);  /* untouched on failure */
      g_assert_nonnull (strstr (error->message, bad[i].cur && bad[i].code == RECOUP_MONEY_ERROR_CURRENCY ? bad[i].cur : ""));
    }
}

static void
test_format (void)
{
  struct { gint64 v; const char *cur; RecoupMoneyFormatFlags f; const char *expect; } cases[] = {
    { 120000, "USD", 0, "1200.00" },
    { 1, "USD", 0, "0.01" },
    { -5, "USD", 0, "-0.05" },
    { 0, "EUR", 0, "0.00" },
    { 123456789, "USD", RECOUP_MONEY_FORMAT_GROUPING, "1,234,567.89" },
    { 1200, "JPY", RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE, "JPY 1,200" },
    { 1234, "BHD", 0, "1.234" },
    { -1234567, "BHD", RECOUP_MONEY_FORMAT_GROUPING, "-1,234.567" },
    { G_MININT64, "USD", 0, "-92233720368547758.08" },
    { G_MAXINT64, "JPY", RECOUP_MONEY_FORMAT_GROUPING, "9,223,372,036,854,775,807" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *s = recoup_money_format (cases[i].v, cases[i].cur, cases[i].f);
      g_assert_cmpstr (s, ==, cases[i].expect);
    }
}

/* Whatever we format, we parse back to the same value. */
static void
test_round_trip (void)
{
  const char *curs[] = { "USD", "JPY", "BHD", "CLF" };

  for (int i = 0; i < 2000; i++)
    {
      gint64 v = (gint64) g_test_rand_int () * g_test_rand_int_range (1, 1 << 20) *
                 (g_test_rand_bit () ? 1 : -1);
      const char *cur = curs[i % G_N_ELEMENTS (curs)];
      g_autofree char *plain = recoup_money_format (v, cur, 0);
      g_autofree char *grouped = recoup_money_format (v, cur, RECOUP_MONEY_FORMAT_GROUPING);
      gint64 back = 0;

      g_assert_true (recoup_money_parse (plain, cur, &back, NULL));
      g_assert_cmpint (back, ==, v);
      g_assert_true (recoup_money_parse (grouped, cur, &back, NULL));
      g_assert_cmpint (back, ==, v);
    }
}

static void
test_split (void)
{
  gint64 parts[12];
  gint64 total;

  recoup_money_split (1, 3, parts);
  g_assert_cmpint (parts[0], ==, 0);
  g_assert_cmpint (parts[1], ==, 0);
  g_assert_cmpint (parts[2], ==, 1);

  recoup_money_split (120000, 12, parts);
  for (int i = 0; i < 12; i++)
    g_assert_cmpint (parts[i], ==, 10000);

  recoup_money_split (100000, 3, parts);  /* 1000.00 in 3 */
  g_assert_cmpint (parts[0] + parts[1] + parts[2], ==, 100000);
  g_assert_cmpint (parts[2], ==, 33334);

  for (int i = 0; i < 500; i++)
    {
      guint n = (guint) g_test_rand_int_range (1, 13);

      total = g_test_rand_int_range (0, G_MAXINT32);
      recoup_money_split (total, n, parts);
      gint64 sum = 0;
      for (guint k = 0; k < n; k++)
        {
          sum += parts[k];
          g_assert_cmpint (parts[k], >=, parts[0]);
          g_assert_cmpint (parts[k] - parts[0], <, n);
        }
      g_assert_cmpint (sum, ==, total);
    }
}

static void
test_basis_points (void)
{
  g_assert_cmpint (recoup_money_apply_bp (100000, 2000), ==, 20000);   /* 20 % of 1000.00 */
  g_assert_cmpint (recoup_money_apply_bp (1, 5000), ==, 1);            /* half rounds away */
  g_assert_cmpint (recoup_money_apply_bp (1, 4999), ==, 0);
  g_assert_cmpint (recoup_money_apply_bp (-1, 5000), ==, -1);
  g_assert_cmpint (recoup_money_apply_bp (G_MAXINT64, 10000), ==, G_MAXINT64);
}

static void
test_currencies (void)
{
  g_assert_cmpint (recoup_currency_digits ("JPY"), ==, 0);
  g_assert_cmpint (recoup_currency_digits ("USD"), ==, 2);
  g_assert_cmpint (recoup_currency_digits ("BHD"), ==, 3);
  g_assert_cmpint (recoup_currency_digits ("ZZZ"), ==, -1);
  g_assert_true (recoup_currency_is_known ("EUR"));
  g_assert_false (recoup_currency_is_known ("EURO"));
}

/* A locale's marks: German writes 1.234,56; French groups with a (narrow)
 * no-break space and accepts a typed plain one; the rules are the same with
 * the marks swapped. */
static void
test_marks (void)
{
  const RecoupMoneyMarks de = { ',', "." };
  const RecoupMoneyMarks fr = { ',', "\u202f" };
  g_autoptr(GError) error = NULL;
  gint64 v = 0;

  g_assert_true (recoup_money_parse_marks ("12,50", "EUR", &de, &v, &error));
  g_assert_cmpint (v, ==, 1250);
  g_assert_true (recoup_money_parse_marks ("1.234,56", "EUR", &de, &v, &error));
  g_assert_cmpint (v, ==, 123456);
  g_assert_true (recoup_money_parse_marks ("1.200", "EUR", &de, &v, &error));
  g_assert_cmpint (v, ==, 120000);
  g_assert_true (recoup_money_parse_marks ("-7", "JPY", &de, &v, &error));
  g_assert_cmpint (v, ==, -7);
  g_assert_no_error (error);

  g_assert_false (recoup_money_parse_marks ("1,200", "EUR", &de, &v, &error));
  g_assert_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_AMBIGUOUS);
  g_assert_nonnull (strstr (error->message, "write 1,20 or 1200"));
  g_clear_error (&error);
  g_assert_false (recoup_money_parse_marks ("12.50", "EUR", &de, &v, &error));
  g_assert_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_AMBIGUOUS);
  g_assert_nonnull (strstr (error->message, "(1.234,56)"));
  g_clear_error (&error);
  g_assert_false (recoup_money_parse_marks ("12,505", "EUR", &de, &v, &error));
  g_assert_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_PRECISION);
  g_clear_error (&error);
  g_assert_false (recoup_money_parse_marks ("1e3", "EUR", &de, &v, &error));
  g_assert_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "like 1200,00"));
  g_clear_error (&error);

  {
    const RecoupMoneyMarks ch = { '.', "\u2019" };

    /* Swiss German groups with ’ and the keyboard types ' */
    g_assert_true (recoup_money_parse_marks ("1'234.50", "CHF", &ch, &v, &error));
    g_assert_cmpint (v, ==, 123450);
    g_assert_true (recoup_money_parse_marks ("1\u2019234.50", "CHF", &ch, &v, &error));
    g_assert_cmpint (v, ==, 123450);
  }
  g_assert_true (recoup_money_parse_marks ("1 234,56", "PLN", &fr, &v, &error));
  g_assert_cmpint (v, ==, 123456);
  g_assert_true (recoup_money_parse_marks ("1\u00a0234\u202f567,5", "PLN", &fr, &v, &error));
  g_assert_cmpint (v, ==, 123456750);
  g_assert_no_error (error);

  {
    g_autofree char *a = recoup_money_format_marks (-123456789, "EUR", RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE, &de);
    g_autofree char *b = recoup_money_format_marks (123456, "PLN", RECOUP_MONEY_FORMAT_GROUPING, &fr);
    g_autofree char *c = recoup_money_format_marks (123456, "USD", RECOUP_MONEY_FORMAT_GROUPING, &recoup_money_marks_c);
    g_autofree char *d = recoup_money_format (123456, "USD", RECOUP_MONEY_FORMAT_GROUPING);

    g_assert_cmpstr (a, ==, "EUR -1.234.567,89");
    g_assert_cmpstr (b, ==, "1\u202f234,56");
    g_assert_cmpstr (c, ==, "1,234.56");
    g_assert_cmpstr (c, ==, d);
  }
  /* Every amount a locale writes reads back. */
  for (gint64 minor = -2000000; minor <= 2000000; minor += 7919)
    {
      g_autofree char *text = recoup_money_format_marks (minor, "EUR", RECOUP_MONEY_FORMAT_GROUPING, &de);

      g_assert_true (recoup_money_parse_marks (text, "EUR", &de, &v, &error));
      g_assert_cmpint (v, ==, minor);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recoup/core/money/parse-digits", test_parse_digits);
  g_test_add_func ("/recoup/core/money/parse-rejects", test_parse_rejects);
  g_test_add_func ("/recoup/core/money/format", test_format);
  g_test_add_func ("/recoup/core/money/round-trip", test_round_trip);
  g_test_add_func ("/recoup/core/money/split", test_split);
  g_test_add_func ("/recoup/core/money/basis-points", test_basis_points);
  g_test_add_func ("/recoup/core/money/currencies", test_currencies);
  g_test_add_func ("/recoup/core/money/marks", test_marks);
  return g_test_run ();
}
