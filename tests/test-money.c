/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <libintl.h>
#include <locale.h>
#include <string.h>

#include "recoup-core.h"
#include "recoup-test-util.h"

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
    { "1.006,25", "USD", RECOUP_MONEY_ERROR_AMBIGUOUS },   /* the marks swapped, not too many decimals */
    { "1.5,0", "USD", RECOUP_MONEY_ERROR_AMBIGUOUS },
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

/* Amounts inside messages take the reader's marks (here forced to German, as
 * the app's tests do), even in a message core words itself; plain
 * recoup_money_format() keeps the C marks that files and the CLI read. */
static void
test_reader_marks (void)
{
  static const RecoupMoneyMarks de = { ',', "." };
  g_autoptr(GError) error = NULL;

  recoup_money_set_locale_marks (&de);
  {
    g_autofree char *plain = recoup_money_format_for_reader (123456, "EUR", RECOUP_MONEY_FORMAT_GROUPING);
    g_autofree char *code = recoup_money_format_for_reader (-1840419, "EUR",
                                                            RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
    g_autofree char *data = recoup_money_format (123456, "EUR", RECOUP_MONEY_FORMAT_GROUPING);

    g_assert_true (recoup_money_locale_marks () == &de);
    g_assert_cmpstr (plain, ==, "1.234,56");
    g_assert_cmpstr (code, ==, "EUR -18.404,19");
    g_assert_cmpstr (data, ==, "1,234.56");
  }
  g_assert_false (recoup_money_check_limit (RECOUP_MONEY_LIMIT + 1, "EUR", &error));
  g_assert_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_OVERFLOW);
  g_assert_cmpstr (error->message, ==, "EUR 10.000.000.000.000,01 is too large: Recoup records at most "
                                       "EUR 10.000.000.000.000,00 as one amount");
  g_clear_error (&error);

  /* Unforced, the marks are the locale's: the suite runs in C.UTF-8. */
  recoup_money_set_locale_marks (NULL);
  {
    g_autofree char *plain = recoup_money_format_for_reader (123456, "EUR", RECOUP_MONEY_FORMAT_GROUPING);

    g_assert_cmpstr (plain, ==, "1,234.56");
  }
}

typedef struct
{
  const char *locale;
  const char *expect;
} LocaleCase;

/* The reader's marks are read from the locale (once, after setlocale()), in
 * a fresh process each: German writes 1.234,56; C, which the CLI pins, 1,234.56. */
static void
test_locale_marks (gconstpointer data)
{
  const LocaleCase *lc = data;
  g_autofree char *saved = g_strdup (setlocale (LC_MONETARY, NULL));
  gboolean installed = setlocale (LC_MONETARY, lc->locale) != NULL;

  setlocale (LC_MONETARY, saved);
  if (!installed)
    {
      g_test_skip ("the locale is not installed");
      return;
    }
  if (g_test_subprocess ())
    {
      g_autofree char *shown = NULL;

      setlocale (LC_ALL, lc->locale);
      shown = recoup_money_format_for_reader (123456789, "EUR",
                                              RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
      g_assert_cmpstr (shown, ==, lc->expect);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Each refusal says what is wrong with the text given, in one voice: three
 * digits after the mark in a currency of fewer decimals mention thousands
 * whether or not the decimal reading fits the currency; a second decimal
 * mark is named, not a grouping mark that is not there; every amount too
 * large names the largest one; a currency code is told apart from letters
 * that are not one. The refusals themselves are as before. */
static void
test_parse_messages (void)
{
  struct { const char *text; const char *cur; int code; const char *message; } cases[] = {
    { "12.500", "JPY", RECOUP_MONEY_ERROR_PRECISION,
      "“12.500” has more decimal places than JPY allows (0); if “.” groups thousands there, write 12500" },
    { "-12.505", "USD", RECOUP_MONEY_ERROR_PRECISION,
      "“-12.505” has more decimal places than USD allows (2); if “.” groups thousands there, write -12505" },
    { "1.000", "JPY", RECOUP_MONEY_ERROR_AMBIGUOUS,
      "“1.000” is ambiguous: JPY has 0 decimal places, so the three digits after “.” may group thousands; "
      "write 1 or 1000" },
    { "1.2345", "BHD", RECOUP_MONEY_ERROR_PRECISION, "“1.2345” has more decimal places than BHD allows (3)" },
    { "0.505", "USD", RECOUP_MONEY_ERROR_PRECISION, "“0.505” has more decimal places than USD allows (2)" },
    { "12.34.56", "USD", RECOUP_MONEY_ERROR_AMBIGUOUS,
      "“12.34.56” is ambiguous: “.” marks the decimals and may appear only once (group thousands with "
      "“,”: 1,234.56)" },
    { "1.006,25", "USD", RECOUP_MONEY_ERROR_AMBIGUOUS,
      "“1.006,25” is ambiguous: “,” may only group thousands (1,234.56) and “.” marks the decimals" },
    { "9223372036854775808", "JPY", RECOUP_MONEY_ERROR_OVERFLOW,
      "“9223372036854775808” is too large: Recoup records at most JPY 1,000,000,000,000,000 as one amount" },
    { "99999999999999999999", "USD", RECOUP_MONEY_ERROR_OVERFLOW,
      "“99999999999999999999” is too large: Recoup records at most USD 10,000,000,000,000.00 as one amount" },
    { "10", "XXX", RECOUP_MONEY_ERROR_CURRENCY,
      "“XXX” is not a currency Recoup knows: it is the ISO 4217 code for no currency; give the currency "
      "the amounts are in, such as USD, EUR or JPY" },
    { "10", "XYZ", RECOUP_MONEY_ERROR_CURRENCY,
      "“XYZ” is not a currency Recoup knows (an ISO 4217 code of a currency in use, such as USD, EUR, JPY)" },
    { "10", "usd", RECOUP_MONEY_ERROR_CURRENCY,
      "“usd” is not an ISO 4217 currency code (expected three capital letters such as USD, EUR, JPY)" },
  };
  g_autoptr(GError) error = NULL;
  gint64 v = 0;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_false (recoup_money_parse (cases[i].text, cases[i].cur, &v, &error));
      g_assert_error (error, RECOUP_MONEY_ERROR, cases[i].code);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      g_clear_error (&error);
    }

  /* One beyond the largest amount that parses is refused in the same words
   * as the one beyond what Recoup records. */
  g_assert_true (recoup_money_parse ("9223372036854775807", "JPY", &v, &error));
  g_assert_no_error (error);
  g_assert_false (recoup_money_check_limit (v, "JPY", &error));
  g_assert_error (error, RECOUP_MONEY_ERROR, RECOUP_MONEY_ERROR_OVERFLOW);
  g_assert_cmpstr (error->message, ==, "JPY 9,223,372,036,854,775,807 is too large: Recoup records at most "
                                       "JPY 1,000,000,000,000,000 as one amount");
}

/* ---- Messages go through gettext ---------------------------------------------- */

typedef struct
{
  const char *context;
  const char *id;
  const char *plural;
  const char *str;
  const char *str_plural;
} CatalogEntry;

/* A few of core's messages, one or more from each file that marks them, in
 * the German of po/de.po. The catalog is the test's own: what it proves is
 * that core asks gettext (with the right context and plural), not what the
 * translation says. */
static const CatalogEntry german[] = {
  { NULL, "“%s” is not a currency Recoup knows (an ISO 4217 code of a currency in use, such as USD, "
          "EUR, JPY)", NULL,
    "„%s“ ist keine Währung, die Recoup kennt (ein ISO-4217-Code einer gültigen Währung wie USD, EUR, "
    "JPY)" },
  { NULL, "“%s” is ambiguous: %s has %d decimal place, so the three digits after “%c” may group "
          "thousands; write %s or %s%.*s%s",
    "“%s” is ambiguous: %s has %d decimal places, so the three digits after “%c” may group "
    "thousands; write %s or %s%.*s%s",
    "„%s“ ist mehrdeutig: %s hat %d Nachkommastelle, daher könnten die drei Ziffern nach „%c“ "
    "eine Tausendergruppe sein; schreiben Sie %s oder %s%.*s%s",
    "„%s“ ist mehrdeutig: %s hat %d Nachkommastellen, daher könnten die drei Ziffern nach „%c“ "
    "eine Tausendergruppe sein; schreiben Sie %s oder %s%.*s%s" },
  { NULL, "“%s” is not a date that exists", NULL, "das Datum „%s“ gibt es nicht" },
  { NULL, "cannot %s: the offer is %s (%s is only possible from %s)", NULL,
    "%1$s ist nicht möglich: Das Angebot ist im Zustand %2$s (%3$s geht nur im Zustand %4$s)" },
  { "offer event", "send", NULL, "Senden" },
  { "offer state", "offered", NULL, "angeboten" },
  { "offer state", "draft", NULL, "Entwurf" },
  { NULL, "a payment cannot be dated after today (%s): it has not been received yet; record a "
          "post-dated cheque as a promise to pay on %s", NULL,
    "eine Zahlung kann nicht nach heute (%s) datiert sein: Sie ist noch nicht eingegangen; "
    "erfassen Sie einen vordatierten Scheck als Zahlungsversprechen zum %s" },
  { NULL, "promise amount %s %s: a promise must be for more than zero", NULL,
    "versprochener Betrag %s %s: Ein Zahlungsversprechen muss über mehr als null lauten" },
  { NULL, "a contact cannot be logged in the future", NULL,
    "ein Kontakt kann nicht in der Zukunft erfasst werden" },
  { NULL, "no account with id %s", NULL, "kein Konto mit der ID %s" },
  { NULL, "a setting needs a key and a value", NULL,
    "eine Einstellung braucht einen Schlüssel und einen Wert" },
  { "import column", "row", NULL, "Datensatz" },
  { NULL, "%u field, but the header has %u; check for a missing or extra delimiter (“%c”) or an "
          "unquoted one inside a value",
    "%u fields, but the header has %u; check for a missing or extra delimiter (“%c”) or an "
    "unquoted one inside a value",
    "%u Feld, aber die Kopfzeile hat %u; prüfen Sie, ob ein Trennzeichen („%c“) fehlt, "
    "überzählig ist oder ohne Anführungszeichen in einem Wert steht",
    "%u Felder, aber die Kopfzeile hat %u; prüfen Sie, ob ein Trennzeichen („%c“) fehlt, "
    "überzählig ist oder ohne Anführungszeichen in einem Wert steht" },
  { NULL, "%u problem", "%u problems", "%u Problem", "%u Probleme" },
  { NULL, "%u row", "%u rows", "%u Zeile", "%u Zeilen" },
  { NULL, "%s in %s; nothing was imported", NULL, "%s in %s; nichts wurde importiert" },
};

static void
append_po_string (GString    *po,
                  const char *keyword,
                  const char *text)
{
  g_string_append_printf (po, "%s \"", keyword);
  for (const char *p = text; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (po, '\\');
      g_string_append_c (po, *p);
    }
  g_string_append (po, "\"\n");
}

/* Writes german[] as @dir/de/LC_MESSAGES/GETTEXT_PACKAGE.mo with msgfmt. */
static void
write_catalog (const char *dir)
{
  g_autoptr(GString) po = g_string_new ("msgid \"\"\n"
                                        "msgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n"
                                        "\"Plural-Forms: nplurals=2; plural=(n != 1);\\n\"\n\n");
  g_autofree char *po_path = g_build_filename (dir, "de.po", NULL);
  g_autofree char *mo_dir = g_build_filename (dir, "de", "LC_MESSAGES", NULL);
  g_autofree char *mo_path = g_build_filename (mo_dir, GETTEXT_PACKAGE ".mo", NULL);
  const char *argv[] = { "msgfmt", "--check-format", "-o", mo_path, po_path, NULL };
  g_autoptr(GError) error = NULL;
  int status;

  for (guint i = 0; i < G_N_ELEMENTS (german); i++)
    {
      const CatalogEntry *e = &german[i];

      g_string_append (po, "#, c-format\n");
      if (e->context != NULL)
        append_po_string (po, "msgctxt", e->context);
      append_po_string (po, "msgid", e->id);
      if (e->plural != NULL)
        {
          append_po_string (po, "msgid_plural", e->plural);
          append_po_string (po, "msgstr[0]", e->str);
          append_po_string (po, "msgstr[1]", e->str_plural);
        }
      else
        append_po_string (po, "msgstr", e->str);
      g_string_append_c (po, '\n');
    }
  g_file_set_contents (po_path, po->str, (gssize) po->len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (mo_dir, 0700), ==, 0);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
}

static void
assert_error_message (GError     *error,
                      const char *expected)
{
  g_assert_nonnull (error);
  g_assert_cmpstr (error->message, ==, expected);
}

/* What each marked message says with the German catalog in place. */
static void
check_messages (void)
{
  TestBook tb = { 0 };
  g_autoptr(RecoupImportReport) report = NULL;
  g_autofree char *csv = NULL;
  g_autofree char *expected = NULL;
  GError *error = NULL;
  gint64 v;

  /* recoup-money.c, a plural included */
  g_assert_false (recoup_currency_validate ("XYZ", &error));
  assert_error_message (error, "„XYZ“ ist keine Währung, die Recoup kennt (ein ISO-4217-Code einer "
                               "gültigen Währung wie USD, EUR, JPY)");
  g_clear_error (&error);
  g_assert_false (recoup_money_parse ("1.200", "USD", &v, &error));
  assert_error_message (error, "„1.200“ ist mehrdeutig: USD hat 2 Nachkommastellen, daher könnten "
                               "die drei Ziffern nach „.“ eine Tausendergruppe sein; schreiben Sie "
                               "1.20 oder 1200");
  g_clear_error (&error);

  /* recoup-date.c */
  g_assert_cmpint (recoup_date_parse ("2025-02-29", &error), ==, RECOUP_DATE_INVALID);
  assert_error_message (error, "das Datum „2025-02-29“ gibt es nicht");
  g_clear_error (&error);

  /* recoup-offer.c: the event and the states are named in the user's language too */
  g_assert_false (recoup_offer_check_transition (RECOUP_OFFER_STATE_OFFERED, FALSE, FALSE,
                                                 RECOUP_DATE_INVALID, RECOUP_OFFER_EVENT_SEND, 0,
                                                 &error));
  assert_error_message (error, "Senden ist nicht möglich: Das Angebot ist im Zustand angeboten "
                               "(Senden geht nur im Zustand Entwurf)");
  g_clear_error (&error);

  /* recoup-ledger.c, recoup-promise.c, recoup-activity.c */
  g_assert_false (recoup_ledger_check_payment_date ("2026-03-11", NULL, "2026-03-10", &error));
  assert_error_message (error, "eine Zahlung kann nicht nach heute (2026-03-10) datiert sein: Sie "
                               "ist noch nicht eingegangen; erfassen Sie einen vordatierten Scheck "
                               "als Zahlungsversprechen zum 2026-03-11");
  g_clear_error (&error);
  g_assert_false (recoup_promise_check_amount (0, "USD", 100000, &error));
  assert_error_message (error, "versprochener Betrag 0.00 USD: Ein Zahlungsversprechen muss über "
                               "mehr als null lauten");
  g_clear_error (&error);
  g_assert_false (recoup_activity_check_at (3600000, 0, &error));
  assert_error_message (error, "ein Kontakt kann nicht in der Zukunft erfasst werden");
  g_clear_error (&error);

  /* recoup-dispute.c, recoup-settings.c */
  test_book_open (&tb);
  g_assert_null (recoup_dispute_open (tb.book, "nope", NULL, "wrong amount", &error));
  assert_error_message (error, "kein Konto mit der ID nope");
  g_clear_error (&error);
  g_assert_false (recoup_settings_set_shared (tb.book, "", "1", &error));
  assert_error_message (error, "eine Einstellung braucht einen Schlüssel und einen Wert");
  g_clear_error (&error);

  /* recoup-import.c: file:line: column: stay as they are, the CSV's column
   * names included; the message and Recoup's own word for a column are translated. */
  csv = g_build_filename (tb.dir, "bad.csv", NULL);
  g_file_set_contents (csv,
                       "account_ref,name,invoice_ref,issue_date,due_date,amount,currency\n"
                       "A1,Ann,I1,2026-01-01,2026-02-01,10.00,XYZ\n"
                       "A2,Bob\n", -1, &error);
  g_assert_no_error (error);
  g_assert_false (recoup_import_csv (tb.book, csv, RECOUP_IMPORT_DEFAULT, NULL, NULL, NULL, &report,
                                     &error));
  expected = g_strdup_printf ("%s: 2 Probleme in 2 Zeilen; nichts wurde importiert", csv);
  assert_error_message (error, expected);
  g_clear_error (&error);
  g_assert_cmpuint (report->problems->len, ==, 2);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("%s:2: currency: „XYZ“ ist keine Währung, die Recoup kennt (ein "
                              "ISO-4217-Code einer gültigen Währung wie USD, EUR, JPY)", csv);
  g_assert_cmpstr (g_ptr_array_index (report->problems, 0), ==, expected);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("%s:3: Datensatz: 2 Felder, aber die Kopfzeile hat 7; prüfen Sie, ob "
                              "ein Trennzeichen („,“) fehlt, überzählig ist oder ohne "
                              "Anführungszeichen in einem Wert steht", csv);
  g_assert_cmpstr (g_ptr_array_index (report->problems, 1), ==, expected);

  test_book_close (&tb);
}

/* Core's user-facing messages are looked up in the GETTEXT_PACKAGE domain:
 * with a German catalog bound and LANGUAGE=de they come back in German. */
static void
test_messages_translated (void)
{
  g_autofree char *saved_locale = g_strdup (setlocale (LC_ALL, NULL));
  g_autofree char *msgfmt = g_find_program_in_path ("msgfmt");
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;

  if (msgfmt == NULL)
    {
      g_test_skip ("msgfmt (gettext) is not installed: no catalog can be made");
      return;
    }
  /* The C locale never translates; C.UTF-8 does, with LANGUAGE set, in glibc. */
  if (setlocale (LC_ALL, "C.UTF-8") == NULL)
    {
      g_test_skip ("there is no C.UTF-8 locale to translate in");
      return;
    }
  dir = g_dir_make_tmp ("recoup-i18n-XXXXXX", &error);
  g_assert_no_error (error);
  write_catalog (dir);
  g_setenv ("LANGUAGE", "de", TRUE);
  bindtextdomain (GETTEXT_PACKAGE, dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  /* The catalog's header comes back only when the C library found the
   * catalog: one that ignores LANGUAGE in C.UTF-8 cannot run this test. */
  if (*dgettext (GETTEXT_PACKAGE, "") == '\0')
    g_test_skip ("this C library does not use LANGUAGE in the C.UTF-8 locale");
  else
    check_messages ();

  g_unsetenv ("LANGUAGE");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  setlocale (LC_ALL, saved_locale);
  test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recoup/core/money/parse-digits", test_parse_digits);
  g_test_add_func ("/recoup/core/money/parse-rejects", test_parse_rejects);
  g_test_add_func ("/recoup/core/money/parse-messages", test_parse_messages);
  g_test_add_func ("/recoup/core/money/format", test_format);
  g_test_add_func ("/recoup/core/money/round-trip", test_round_trip);
  g_test_add_func ("/recoup/core/money/split", test_split);
  g_test_add_func ("/recoup/core/money/basis-points", test_basis_points);
  g_test_add_func ("/recoup/core/money/currencies", test_currencies);
  g_test_add_func ("/recoup/core/money/marks", test_marks);
  g_test_add_func ("/recoup/core/money/reader-marks", test_reader_marks);
  {
    static const LocaleCase de = { "de_DE.UTF-8", "EUR 1.234.567,89" };
    static const LocaleCase c = { "C.UTF-8", "EUR 1,234,567.89" };

    g_test_add_data_func ("/recoup/core/money/locale-marks/de", &de, test_locale_marks);
    g_test_add_data_func ("/recoup/core/money/locale-marks/c", &c, test_locale_marks);
  }
  g_test_add_func ("/recoup/core/messages/translated", test_messages_translated);
  return g_test_run ();
}
