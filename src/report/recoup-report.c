/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-report"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <csv.h>
#include <xlsxwriter.h>

#include "recoup-date.h"
#include "recoup-money.h"
#include "recoup-report-private.h"

/* ---- Formats and paper ------------------------------------------------------ */

gboolean
recoup_report_format_from_string (const char         *text,
                                  RecoupReportFormat *out_format)
{
  static const char * const names[] = { "pdf", "csv", "xlsx", "json" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (text, names[i]) == 0)
      {
        *out_format = (RecoupReportFormat) i;
        return TRUE;
      }
  return FALSE;
}

const char *
recoup_report_format_extension (RecoupReportFormat format)
{
  switch (format)
    {
    case RECOUP_REPORT_PDF: return "pdf";
    case RECOUP_REPORT_CSV: return "csv";
    case RECOUP_REPORT_XLSX: return "xlsx";
    case RECOUP_REPORT_JSON: return "json";
    default: return "out";
    }
}

RecoupPaper
recoup_paper_for_locale (void)
{
  static const char * const vars[] = { "LC_ALL", "LC_PAPER", "LANG" };
  const char *locale = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (vars) && locale == NULL; i++)
    {
      const char *v = g_getenv (vars[i]);

      if (v != NULL && *v != '\0')
        locale = v;
    }
  if (locale != NULL)
    {
      const char *u = strchr (locale, '_');

      if (u != NULL && (g_str_has_prefix (u + 1, "US") || g_str_has_prefix (u + 1, "CA")) &&
          (u[3] == '\0' || u[3] == '.' || u[3] == '@'))
        return RECOUP_PAPER_LETTER;
    }
  return RECOUP_PAPER_A4;
}

gboolean
recoup_paper_from_string (const char  *text,
                          RecoupPaper *out_paper)
{
  if (g_ascii_strcasecmp (text ? text : "", "a4") == 0)
    *out_paper = RECOUP_PAPER_A4;
  else if (g_ascii_strcasecmp (text ? text : "", "letter") == 0)
    *out_paper = RECOUP_PAPER_LETTER;
  else
    return FALSE;
  return TRUE;
}

/* ---- Atomic files ----------------------------------------------------------- */

RecoupAtomicFile *
recoup_atomic_file_open (const char  *path,
                         GError     **error)
{
  g_autofree char *dir = NULL, *base = NULL, *tmp = NULL;
  RecoupAtomicFile *file;
  int fd, saved;
  mode_t mask;

  if (path == NULL || *path == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "no output file; give one with --output PATH");
      return NULL;
    }
  if (g_str_equal (path, "-"))
    {
      file = g_new0 (RecoupAtomicFile, 1);
      file->path = g_strdup (path);
      file->fp = stdout;
      return file;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                   "cannot write “%s”: it is a folder; give a file name", path);
      return NULL;
    }
  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  tmp = g_strdup_printf ("%s%c.%s.XXXXXX", dir, G_DIR_SEPARATOR, base);
  fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot write “%s”: %s; check that the folder “%s” exists and that you may write to it",
                   path, g_strerror (saved), dir);
      return NULL;
    }
  /* The finished file gets the permissions a plain fopen () would give it. */
  mask = umask (0);
  umask (mask);
  if (fchmod (fd, 0666 & ~mask) != 0)
    g_debug ("fchmod %s: %s", tmp, g_strerror (errno));

  file = g_new0 (RecoupAtomicFile, 1);
  file->path = g_strdup (path);
  file->tmp = g_steal_pointer (&tmp);
  file->fp = fdopen (fd, "wb");
  if (file->fp == NULL)
    {
      saved = errno;
      close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot write “%s”: %s", path, g_strerror (saved));
      recoup_atomic_file_abort (file);
      return NULL;
    }
  return file;
}

gboolean
recoup_atomic_file_commit (RecoupAtomicFile  *file,
                           GError           **error)
{
  gboolean ok = TRUE;
  int saved = 0;

  if (file->tmp == NULL)
    {
      fflush (file->fp);
      g_free (file->path);
      g_free (file);
      return TRUE;
    }
  if (file->fp != NULL)
    {
      if (fflush (file->fp) != 0 || ferror (file->fp) || fsync (fileno (file->fp)) != 0)
        {
          saved = errno;
          ok = FALSE;
        }
      if (fclose (file->fp) != 0 && ok)
        {
          saved = errno;
          ok = FALSE;
        }
      file->fp = NULL;
    }
  if (ok && g_rename (file->tmp, file->path) != 0)
    {
      saved = errno;
      ok = FALSE;
    }
  if (!ok)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot write “%s”: %s; nothing was written", file->path, g_strerror (saved));
      recoup_atomic_file_abort (file);
      return FALSE;
    }
  g_free (file->path);
  g_free (file->tmp);
  g_free (file);
  return TRUE;
}

void
recoup_atomic_file_abort (RecoupAtomicFile *file)
{
  if (file == NULL)
    return;
  if (file->tmp == NULL)
    {
      g_free (file->path);
      g_free (file);
      return;
    }
  if (file->fp != NULL)
    fclose (file->fp);
  g_unlink (file->tmp);
  g_free (file->path);
  g_free (file->tmp);
  g_free (file);
}

/* ---- CSV -------------------------------------------------------------------- */

/* A cell a spreadsheet would run as a formula (=, @, a tab, or + or - not
 * starting a number): debtor names and memos come from outside the business.
 * Amounts like -12.50 stay numbers. */
static gboolean
looks_like_formula (const char *f)
{
  switch (f[0])
    {
    case '=':
    case '@':
    case '\t':
    case '\r':
      return TRUE;
    case '+':
    case '-':
      return !(g_ascii_isdigit (f[1]) || (f[1] == '.' && g_ascii_isdigit (f[2])));
    default:
      return FALSE;
    }
}

void
recoup_csv_row (FILE               *fp,
                const char * const *fields,
                guint               n_fields)
{
  for (guint i = 0; i < n_fields; i++)
    {
      g_autofree char *escaped = NULL;
      const char *f = fields[i] ? fields[i] : "";
      size_t len;

      /* OWASP's advice: a leading apostrophe makes the cell plain text. */
      if (looks_like_formula (f))
        f = escaped = g_strconcat ("'", f, NULL);
      len = strlen (f);

      if (i > 0)
        fputc (',', fp);
      /* RFC 4180: quote a field holding a comma, quote or line break (and one
       * with outer spaces, which some readers trim); quotes inside are doubled. */
      if (strpbrk (f, ",\"\r\n") != NULL || (len > 0 && (f[0] == ' ' || f[len - 1] == ' ')))
        csv_fwrite (fp, f, len);
      else
        fwrite (f, 1, len, fp);
    }
  fputs ("\r\n", fp);
}

static char *
money_plain (gint64      minor,
             const char *currency)
{
  return recoup_money_format (minor, currency, RECOUP_MONEY_FORMAT_PLAIN);
}

/* ---- XLSX ------------------------------------------------------------------- */

typedef struct
{
  lxw_workbook  *wb;
  lxw_worksheet *ws;
  lxw_format    *bold;          /* headers: bold, ruled below */
  lxw_format    *bold_plain;    /* totals' text */
  lxw_format    *date;
  lxw_format    *money[5];        /* by currency digits 0..4 */
  lxw_format    *money_bold[5];
  lxw_format    *title;
} Xlsx;

/* Decimals of @currency as recoup_money_format () writes them (2 for a code
 * it does not know). */
static int
currency_digits (const char *currency)
{
  int digits = recoup_currency_digits (currency);

  return digits < 0 ? 2 : MIN (digits, 4);
}

static lxw_format *
xlsx_money_format (Xlsx       *x,
                   const char *currency,
                   gboolean    bold)
{
  int digits = currency_digits (currency);
  lxw_format **slot = bold ? &x->money_bold[digits] : &x->money[digits];

  if (*slot == NULL)
    {
      g_autofree char *num = g_strdup_printf ("#,##0%s%.*s", digits ? "." : "", digits, "0000");

      *slot = workbook_add_format (x->wb);
      format_set_num_format (*slot, num);
      if (bold)
        format_set_bold (*slot);
    }
  return *slot;
}

static gboolean
xlsx_open (Xlsx        *x,
           const char  *tmp_path,
           const char  *sheet,
           GError     **error)
{
  lxw_workbook_options options = { .constant_memory = LXW_TRUE, .tmpdir = NULL };

  memset (x, 0, sizeof *x);
  x->wb = workbook_new_opt (tmp_path, &options);
  if (x->wb == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot start the XLSX workbook");
      return FALSE;
    }
  x->ws = workbook_add_worksheet (x->wb, sheet);
  x->bold = workbook_add_format (x->wb);
  format_set_bold (x->bold);
  format_set_bottom (x->bold, LXW_BORDER_THIN);
  x->bold_plain = workbook_add_format (x->wb);
  format_set_bold (x->bold_plain);
  x->title = workbook_add_format (x->wb);
  format_set_bold (x->title);
  format_set_font_size (x->title, 14);
  x->date = workbook_add_format (x->wb);
  format_set_num_format (x->date, "yyyy-mm-dd");
  return TRUE;
}

static gboolean
xlsx_close (Xlsx        *x,
            GError     **error)
{
  lxw_error err = workbook_close (x->wb);

  x->wb = NULL;
  if (err != LXW_NO_ERROR)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write the XLSX file: %s",
                   lxw_strerror (err));
      return FALSE;
    }
  return TRUE;
}

static void
xlsx_text (Xlsx       *x,
           guint       row,
           guint       col,
           const char *text,
           lxw_format *format)
{
  if (text != NULL && *text != '\0')
    worksheet_write_string (x->ws, row, (lxw_col_t) col, text, format);
  else if (format != NULL)
    worksheet_write_blank (x->ws, row, (lxw_col_t) col, format);
}

static void
xlsx_date (Xlsx       *x,
           guint       row,
           guint       col,
           const char *date)
{
  gint32 day = date ? recoup_date_parse (date, NULL) : RECOUP_DATE_INVALID;
  lxw_datetime dt = { 0 };

  if (day == RECOUP_DATE_INVALID)
    {
      xlsx_text (x, row, col, date, NULL);
      return;
    }
  dt.year = atoi (date);
  dt.month = atoi (date + 5);
  dt.day = atoi (date + 8);
  worksheet_write_datetime (x->ws, row, (lxw_col_t) col, &dt, x->date);
}

/* A money cell: a number, shown with the currency's decimals, so that a
 * spreadsheet sums it. minor / 10^digits in double arithmetic is the double
 * nearest the decimal amount (both operands are exact integers below 2^53 and
 * IEEE division rounds correctly): the number a spreadsheet holds when the
 * amount is typed into it. libxlsxwriter prints it with 16 significant
 * digits ("819.3200000000001"), which read back to that same double. Below
 * RECOUP_MONEY_LIMIT an amount has at most 15 significant digits, which a
 * double keeps: "%.15g" prints the decimal back, and that is checked. A sum
 * beyond the limit (the total of many accounts) would be rounded: it is
 * written as text instead. */
static void
xlsx_money (Xlsx       *x,
            guint       row,
            guint       col,
            gint64      minor,
            const char *currency,
            gboolean    bold)
{
  static const double powers[] = { 1, 10, 100, 1000, 10000 };
  double value = (double) minor / powers[currency_digits (currency)];
  char printed[G_ASCII_DTOSTR_BUF_SIZE];
  gint64 back = 0;

  g_ascii_formatd (printed, sizeof printed, "%.15g", value);
  if (minor > -RECOUP_MONEY_LIMIT && minor < RECOUP_MONEY_LIMIT &&
      recoup_money_parse (printed, currency, &back, NULL) && back == minor)
    worksheet_write_number (x->ws, row, (lxw_col_t) col, value, xlsx_money_format (x, currency, bold));
  else
    {
      g_autofree char *plain = money_plain (minor, currency);

      worksheet_write_string (x->ws, row, (lxw_col_t) col, plain, bold ? x->bold_plain : NULL);
    }
}

/* A count (of accounts, of entries): a number. */
static void
xlsx_count (Xlsx       *x,
            guint       row,
            guint       col,
            const char *text,
            gboolean    bold)
{
  char *end = NULL;
  gint64 n = text != NULL ? g_ascii_strtoll (text, &end, 10) : 0;

  if (end != NULL && end != text && *end == '\0')
    worksheet_write_number (x->ws, row, (lxw_col_t) col, (double) n, bold ? x->bold_plain : NULL);
  else
    xlsx_text (x, row, col, text, bold ? x->bold_plain : NULL);
}

static void
xlsx_header (Xlsx               *x,
             guint               row,
             const char * const *headers,
             guint               n)
{
  for (guint i = 0; i < n; i++)
    worksheet_write_string (x->ws, row, (lxw_col_t) i, headers[i], x->bold);
  worksheet_freeze_panes (x->ws, row + 1, 0);
}

/* ---- Names for people ------------------------------------------------------ */

/* CSV files are for scripts and other programs: their headers and codes are
 * stable names (account_ref, interest). PDF and XLSX files are for people:
 * titles (Account, Interest), the statement's own names. */

char *
recoup_report_bucket_title (guint bucket)
{
  const char *label = recoup_aging_bucket_label (bucket);

  return g_strdup_printf ("%c%s", g_ascii_toupper (label[0]), label + 1);
}

/* A payment method as the statement names it ("bank transfer"), capitalised. */
static char *
method_title (const char *method)
{
  g_autofree char *spaced = NULL;

  if (method == NULL || *method == '\0')
    return NULL;
  spaced = g_strdup (method);
  g_strdelimit (spaced, "-", ' ');
  return g_strdup_printf ("%c%s", g_ascii_toupper (spaced[0]), spaced + 1);
}

/* ---- JSON ------------------------------------------------------------------- */

static void
json_str (JsonBuilder *b,
          const char  *member,
          const char  *value)
{
  json_builder_set_member_name (b, member);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
json_int (JsonBuilder *b,
          const char  *member,
          gint64       value)
{
  json_builder_set_member_name (b, member);
  if (value == RECOUP_KPI_NA)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, value);
}

static void
json_aging (JsonBuilder  *b,
            const gint64 *buckets,
            gint64        credit,
            gint64        total)
{
  for (guint i = 0; i < RECOUP_AGING_N_BUCKETS; i++)
    json_int (b, recoup_aging_bucket_label (i), buckets[i]);
  json_int (b, "credit", credit);
  json_int (b, "total", total);
}

JsonNode *
recoup_statement_to_json (const RecoupStatement *st)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_str (b, "account_id", st->account_id);
  json_str (b, "account_ref", st->account_ref);
  json_str (b, "account_name", st->account_name);
  json_str (b, "address", st->address);
  json_str (b, "currency", st->currency);
  json_str (b, "from", st->from);
  json_str (b, "to", st->to);
  json_int (b, "opening", st->opening);
  json_int (b, "debits", st->debits);
  json_int (b, "credits", st->credits);
  json_int (b, "closing", st->closing);
  json_builder_set_member_name (b, "lines");
  json_builder_begin_array (b);
  for (guint i = 0; i < st->lines->len; i++)
    {
      RecoupStatementLine *l = g_ptr_array_index (st->lines, i);

      json_builder_begin_object (b);
      json_str (b, "id", l->id);
      json_str (b, "date", l->date);
      json_str (b, "kind", l->kind);
      json_str (b, "description", l->description);
      json_str (b, "invoice_ref", l->invoice_ref);
      json_str (b, "reference", l->reference);
      json_int (b, "amount", l->amount);
      json_int (b, "balance", l->balance);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "aging");
  json_builder_begin_object (b);
  json_aging (b, st->aging.buckets, st->aging.credit, st->aging.total);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "plan");
  if (st->plan_id == NULL)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      json_str (b, "offer_id", st->plan_id);
      json_str (b, "state", st->plan_state);
      json_int (b, "total", st->plan_total);
      json_int (b, "paid", st->plan_paid);
      json_builder_set_member_name (b, "remaining");
      json_builder_begin_array (b);
      for (guint i = 0; i < st->plan_remaining->len; i++)
        {
          RecoupStatementInstallment *si = g_ptr_array_index (st->plan_remaining, i);

          json_builder_begin_object (b);
          json_int (b, "seq", si->seq);
          json_str (b, "due_date", si->due_date);
          json_int (b, "amount", si->amount);
          json_int (b, "paid", si->paid);
          json_str (b, "status", si->status);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
write_json (FILE     *fp,
            JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  fputs (text, fp);
  fputc ('\n', fp);
}

/* ---- Statement writer ------------------------------------------------------- */

struct _RecoupStatementWriter
{
  RecoupReportFormat  format;
  RecoupAtomicFile   *file;
  RecoupPdf          *pdf;
  Xlsx                xlsx;
  guint               row;
  JsonArray          *json;
  RecoupPaper         paper;
  const RecoupBusinessInfo *business;
};

static const char * const statement_columns[] = {
  "account_ref", "account_name", "currency", "date", "kind", "description",
  "invoice", "reference", "debit", "credit", "balance",
};
/* As on the PDF statement. */
static const char * const statement_titles[] = {
  "Account", "Name", "Currency", "Date", "Type", "Description",
  "Invoice", "Reference", "Charges", "Credits", "Balance",
};

static gboolean
writer_open (RecoupStatementWriter  *w,
             const char             *path,
             GError                **error)
{
  if (!(w->file = recoup_atomic_file_open (path, error)))
    return FALSE;
  switch (w->format)
    {
    case RECOUP_REPORT_PDF:
      if (w->pdf == NULL)
        w->pdf = recoup_pdf_new (w->file->fp, w->paper, FALSE, w->business);
      else
        recoup_pdf_restart (w->pdf, w->file->fp);
      break;
    case RECOUP_REPORT_CSV:
      recoup_csv_row (w->file->fp, statement_columns, G_N_ELEMENTS (statement_columns));
      break;
    case RECOUP_REPORT_XLSX:
      if (w->file->tmp == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "XLSX cannot go to standard output; give a file with --output");
          return FALSE;
        }
      /* libxlsxwriter writes the file itself, by name, when it closes. */
      fclose (w->file->fp);
      w->file->fp = NULL;
      if (!xlsx_open (&w->xlsx, w->file->tmp, "Statements", error))
        return FALSE;
      xlsx_header (&w->xlsx, 0, statement_titles, G_N_ELEMENTS (statement_titles));
      worksheet_set_column (w->xlsx.ws, 0, 0, 12, NULL);
      worksheet_set_column (w->xlsx.ws, 1, 1, 28, NULL);
      worksheet_set_column (w->xlsx.ws, 3, 3, 11, NULL);
      worksheet_set_column (w->xlsx.ws, 5, 5, 44, NULL);
      worksheet_set_column (w->xlsx.ws, 6, 7, 14, NULL);
      worksheet_set_column (w->xlsx.ws, 8, 10, 14, NULL);
      w->row = 1;
      break;
    case RECOUP_REPORT_JSON:
    default:
      w->json = json_array_new ();
      break;
    }
  return TRUE;
}

RecoupStatementWriter *
recoup_statement_writer_new (const char                *path,
                             RecoupReportFormat         format,
                             RecoupPaper                paper,
                             const RecoupBusinessInfo  *business,
                             GError                   **error)
{
  g_autoptr(RecoupStatementWriter) w = g_new0 (RecoupStatementWriter, 1);

  w->format = format;
  w->paper = paper;
  w->business = business;
  if (!writer_open (w, path, error))
    return NULL;
  return g_steal_pointer (&w);
}

gboolean
recoup_statement_writer_next_file (RecoupStatementWriter  *w,
                                   const char             *path,
                                   GError                **error)
{
  if (!recoup_statement_writer_finish (w, error))
    return FALSE;
  return writer_open (w, path, error);
}

static void
statement_record (RecoupStatementWriter *w,
                  const RecoupStatement *st,
                  const char            *date,
                  const char            *kind,
                  const char            *description,
                  const char            *invoice,
                  const char            *reference,
                  gint64                 amount,
                  gboolean               has_amount,
                  gint64                 balance)
{
  g_autofree char *debit = has_amount && amount > 0 ? money_plain (amount, st->currency) : NULL;
  g_autofree char *credit = has_amount && amount < 0 ? money_plain (-amount, st->currency) : NULL;
  g_autofree char *bal = money_plain (balance, st->currency);

  if (w->format == RECOUP_REPORT_CSV)
    {
      const char *fields[] = {
        st->account_ref, st->account_name, st->currency, date, kind, description,
        invoice, reference, debit, credit, bal,
      };

      recoup_csv_row (w->file->fp, fields, G_N_ELEMENTS (fields));
      return;
    }

  xlsx_text (&w->xlsx, w->row, 0, st->account_ref, NULL);
  xlsx_text (&w->xlsx, w->row, 1, st->account_name, NULL);
  xlsx_text (&w->xlsx, w->row, 2, st->currency, NULL);
  xlsx_date (&w->xlsx, w->row, 3, date);
  xlsx_text (&w->xlsx, w->row, 4, has_amount ? recoup_statement_kind_label (kind) : "Balance", NULL);
  xlsx_text (&w->xlsx, w->row, 5, description, NULL);
  xlsx_text (&w->xlsx, w->row, 6, invoice, NULL);
  xlsx_text (&w->xlsx, w->row, 7, reference, NULL);
  if (has_amount && amount > 0)
    xlsx_money (&w->xlsx, w->row, 8, amount, st->currency, FALSE);
  if (has_amount && amount < 0)
    xlsx_money (&w->xlsx, w->row, 9, -amount, st->currency, FALSE);
  xlsx_money (&w->xlsx, w->row, 10, balance, st->currency, !has_amount);
  w->row++;
}

gboolean
recoup_statement_writer_add (RecoupStatementWriter  *w,
                             const RecoupStatement  *st,
                             GError                **error)
{
  switch (w->format)
    {
    case RECOUP_REPORT_PDF:
      recoup_pdf_statement (w->pdf, st);
      break;
    case RECOUP_REPORT_CSV:
    case RECOUP_REPORT_XLSX:
      statement_record (w, st, st->from, "opening", "Opening balance", NULL, NULL, 0, FALSE, st->opening);
      for (guint i = 0; i < st->lines->len; i++)
        {
          RecoupStatementLine *l = g_ptr_array_index (st->lines, i);

          statement_record (w, st, l->date, l->kind, l->description, l->invoice_ref, l->reference,
                            l->amount, TRUE, l->balance);
        }
      statement_record (w, st, st->to, "closing", "Closing balance", NULL, NULL, 0, FALSE, st->closing);
      break;
    case RECOUP_REPORT_JSON:
    default:
      json_array_add_element (w->json, recoup_statement_to_json (st));
      break;
    }
  return TRUE;
}

gboolean
recoup_statement_writer_finish (RecoupStatementWriter  *w,
                                GError                **error)
{
  gboolean ok = TRUE;

  switch (w->format)
    {
    case RECOUP_REPORT_PDF:
      ok = recoup_pdf_finish (w->pdf, error);
      break;
    case RECOUP_REPORT_XLSX:
      ok = xlsx_close (&w->xlsx, error);
      break;
    case RECOUP_REPORT_JSON:
      {
        g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);

        json_node_take_array (node, g_steal_pointer (&w->json));
        write_json (w->file->fp, node);
      }
      break;
    case RECOUP_REPORT_CSV:
    default:
      break;
    }
  if (!ok)
    return FALSE;
  ok = recoup_atomic_file_commit (w->file, error);
  w->file = NULL;
  return ok;
}

void
recoup_statement_writer_free (RecoupStatementWriter *w)
{
  if (w == NULL)
    return;
  g_clear_pointer (&w->pdf, recoup_pdf_free);
  if (w->xlsx.wb != NULL)
    {
      workbook_close (w->xlsx.wb);
      w->xlsx.wb = NULL;
    }
  g_clear_pointer (&w->json, json_array_unref);
  g_clear_pointer (&w->file, recoup_atomic_file_abort);
  g_free (w);
}

/* ---- Tabular reports -------------------------------------------------------- */

typedef enum
{
  CELL_TEXT,
  CELL_DATE,
  CELL_COUNT,
  CELL_MONEY,
} CellKind;

typedef struct
{
  const char *name;    /* CSV header: a stable name for scripts */
  const char *title;   /* PDF and XLSX header */
  double      width;   /* a share of the PDF's text width (0: not on the PDF) */
  CellKind    kind;
  double      xlsx;    /* XLSX column width, in characters */
} ReportColumn;

typedef struct
{
  const char            *title;
  char                  *subtitle;
  ReportColumn          *columns;    /* owned copy */
  guint                  n_columns;
  GPtrArray             *cells;      /* char ** per row: plain text, money already formatted */
  GPtrArray             *minor;      /* gint64 * per row: money cells in minor units */
  GPtrArray             *currency;   /* const char * per row */
  GPtrArray             *totals;     /* char ** per currency total row */
  GPtrArray             *total_minor;
  GPtrArray             *total_currency;
} Table;

static void
table_clear (Table *t)
{
  g_free (t->subtitle);
  g_free (t->columns);
  g_clear_pointer (&t->cells, g_ptr_array_unref);
  g_clear_pointer (&t->minor, g_ptr_array_unref);
  g_clear_pointer (&t->currency, g_ptr_array_unref);
  g_clear_pointer (&t->totals, g_ptr_array_unref);
  g_clear_pointer (&t->total_minor, g_ptr_array_unref);
  g_clear_pointer (&t->total_currency, g_ptr_array_unref);
}

static void
table_init (Table              *t,
            const char         *title,
            char               *subtitle,
            const ReportColumn *columns,
            guint               n_columns)
{
  memset (t, 0, sizeof *t);
  t->title = title;
  t->subtitle = subtitle;
  t->columns = g_memdup2 (columns, sizeof *columns * n_columns);
  t->n_columns = n_columns;
  t->cells = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  t->minor = g_ptr_array_new_with_free_func (g_free);
  t->currency = g_ptr_array_new_with_free_func (g_free);
  t->totals = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  t->total_minor = g_ptr_array_new_with_free_func (g_free);
  t->total_currency = g_ptr_array_new_with_free_func (g_free);
}

/* Adds a row: @text holds n_columns strings (NULL where the column is money),
 * @money the minor units of the money columns in order. */
static void
table_add (Table              *t,
           GPtrArray          *cells,
           GPtrArray          *minors,
           GPtrArray          *currencies,
           const char * const *text,
           const gint64       *money,
           const char         *currency,
           gboolean            grouping)
{
  char **row = g_new0 (char *, t->n_columns + 1);
  gint64 *m = g_new0 (gint64, t->n_columns);
  guint k = 0;

  for (guint c = 0; c < t->n_columns; c++)
    {
      if (t->columns[c].kind == CELL_MONEY)
        {
          m[c] = money[k++];
          row[c] = recoup_money_format (m[c], currency,
                                        grouping ? RECOUP_MONEY_FORMAT_GROUPING : RECOUP_MONEY_FORMAT_PLAIN);
        }
      else
        row[c] = g_strdup (text[c] ? text[c] : "");
    }
  g_ptr_array_add (cells, row);
  g_ptr_array_add (minors, m);
  g_ptr_array_add (currencies, g_strdup (currency));
}

static gboolean
table_write_xlsx (Table       *t,
                  const char  *tmp,
                  GError     **error)
{
  g_autofree const char **titles = g_new0 (const char *, t->n_columns + 1);
  Xlsx x;
  guint row = 0;

  if (!xlsx_open (&x, tmp, "Report", error))
    return FALSE;
  for (guint c = 0; c < t->n_columns; c++)
    titles[c] = t->columns[c].title;
  worksheet_write_string (x.ws, row++, 0, t->title, x.title);
  worksheet_write_string (x.ws, row++, 0, t->subtitle, NULL);
  row++;
  xlsx_header (&x, row++, titles, t->n_columns);
  for (guint pass = 0; pass < 2; pass++)
    {
      GPtrArray *cells = pass == 0 ? t->cells : t->totals;
      GPtrArray *minors = pass == 0 ? t->minor : t->total_minor;
      GPtrArray *currencies = pass == 0 ? t->currency : t->total_currency;
      gboolean bold = pass == 1;

      for (guint r = 0; r < cells->len; r++, row++)
        {
          char **cell = g_ptr_array_index (cells, r);
          gint64 *m = g_ptr_array_index (minors, r);

          for (guint c = 0; c < t->n_columns; c++)
            switch (t->columns[c].kind)
              {
              case CELL_MONEY:
                xlsx_money (&x, row, c, m[c], g_ptr_array_index (currencies, r), bold);
                break;
              case CELL_COUNT:
                xlsx_count (&x, row, c, cell[c], bold);
                break;
              case CELL_DATE:
                xlsx_date (&x, row, c, cell[c]);
                break;
              case CELL_TEXT:
              default:
                xlsx_text (&x, row, c, cell[c], bold ? x.bold_plain : NULL);
                break;
              }
        }
    }
  for (guint c = 0; c < t->n_columns; c++)
    worksheet_set_column (x.ws, (lxw_col_t) c, (lxw_col_t) c, t->columns[c].xlsx, NULL);
  return xlsx_close (&x, error);
}

static gboolean
table_write (Table                     *t,
             const RecoupBusinessInfo  *business,
             RecoupReportFormat         format,
             RecoupPaper                paper,
             JsonNode                  *json,
             const char                *path,
             GError                   **error)
{
  RecoupAtomicFile *file = recoup_atomic_file_open (path, error);

  if (file == NULL)
    return FALSE;

  switch (format)
    {
    case RECOUP_REPORT_CSV:
      {
        g_autofree const char **names = g_new0 (const char *, t->n_columns + 1);

        for (guint c = 0; c < t->n_columns; c++)
          names[c] = t->columns[c].name;
        recoup_csv_row (file->fp, names, t->n_columns);
        for (guint r = 0; r < t->cells->len; r++)
          recoup_csv_row (file->fp, (const char * const *) g_ptr_array_index (t->cells, r), t->n_columns);
      }
      break;
    case RECOUP_REPORT_JSON:
      write_json (file->fp, json);
      break;
    case RECOUP_REPORT_XLSX:
      if (file->tmp == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "XLSX cannot go to standard output; give a file with --output");
          goto fail;
        }
      /* libxlsxwriter writes the file itself, by name, when it closes. */
      fclose (file->fp);
      file->fp = NULL;
      if (!table_write_xlsx (t, file->tmp, error))
        goto fail;
      break;
    case RECOUP_REPORT_PDF:
    default:
      {
        g_autofree RecoupPdfColumn *columns = g_new0 (RecoupPdfColumn, t->n_columns);
        RecoupPdf *pdf = recoup_pdf_new (file->fp, paper, TRUE, business);
        gboolean ok;

        for (guint c = 0; c < t->n_columns; c++)
          {
            columns[c].header = t->columns[c].title;
            columns[c].width = t->columns[c].width;
            columns[c].right = t->columns[c].kind == CELL_MONEY || t->columns[c].kind == CELL_COUNT;
            /* A receipt number broken over two lines reads as two. */
            columns[c].one_line = g_strcmp0 (t->columns[c].name, "receipt") == 0;
          }
        recoup_pdf_table_report (pdf, t->title, t->subtitle, columns, t->n_columns, t->cells, t->totals);
        ok = recoup_pdf_finish (pdf, error);
        recoup_pdf_free (pdf);
        if (!ok)
          goto fail;
      }
      break;
    }
  return recoup_atomic_file_commit (file, error);

fail:
  recoup_atomic_file_abort (file);
  return FALSE;
}

/* The buckets' titles are recoup_report_bucket_title (); "credit" is the
 * unapplied credit (<= 0), so that the buckets and credits sum to the total. */
static const ReportColumn aging_columns[] = {
  { "account", "Account", 0.12, CELL_TEXT, 14 }, { "name", "Name", 0.16, CELL_TEXT, 30 },
  { "currency", "Currency", 0.06, CELL_TEXT, 9 }, { "accounts", "Accounts", 0.06, CELL_COUNT, 9 },
  { "current", NULL, 0.075, CELL_MONEY, 15 }, { "1-30", NULL, 0.075, CELL_MONEY, 15 },
  { "31-60", NULL, 0.075, CELL_MONEY, 15 }, { "61-90", NULL, 0.075, CELL_MONEY, 15 },
  { "91-180", NULL, 0.075, CELL_MONEY, 15 }, { "181+", NULL, 0.075, CELL_MONEY, 15 },
  { "credit", "Credits", 0.075, CELL_MONEY, 15 }, { "total", "Total", 0.075, CELL_MONEY, 16 },
};
#define AGING_FIRST_BUCKET 4

static JsonNode *
aging_json (GPtrArray        *rows,
            const char       *as_of,
            RecoupAgingGroup  group)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_str (b, "as_of", as_of);
  json_str (b, "by", recoup_aging_group_to_string (group));
  json_builder_set_member_name (b, "rows");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    {
      RecoupAgingReportRow *r = g_ptr_array_index (rows, i);

      json_builder_begin_object (b);
      json_str (b, "key", r->key);
      json_str (b, "name", r->label);
      json_str (b, "currency", r->currency);
      json_int (b, "accounts", r->n_accounts);
      json_aging (b, r->buckets, r->credit, r->total);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
recoup_aging_report_write (GPtrArray                 *rows,
                           const char                *as_of,
                           RecoupAgingGroup           group,
                           const RecoupBusinessInfo  *business,
                           RecoupReportFormat         format,
                           RecoupPaper                paper,
                           const char                *path,
                           GError                   **error)
{
  g_autoptr(JsonNode) json = format == RECOUP_REPORT_JSON ? aging_json (rows, as_of, group) : NULL;
  ReportColumn columns[G_N_ELEMENTS (aging_columns)];
  g_autofree char *group_title = NULL;
  char *bucket_titles[RECOUP_AGING_N_BUCKETS];
  gboolean grouping = format == RECOUP_REPORT_PDF;
  Table t;
  gboolean ok;

  memcpy (columns, aging_columns, sizeof columns);
  for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
    columns[AGING_FIRST_BUCKET + b].title = bucket_titles[b] = recoup_report_bucket_title (b);
  if (group != RECOUP_AGING_BY_ACCOUNT)
    {
      const char *name = recoup_aging_group_to_string (group);

      columns[0].name = name;
      columns[0].title = group_title = g_strdup_printf ("%c%s", g_ascii_toupper (name[0]), name + 1);
      /* The key is the name: give the name column's room to it. */
      columns[0].width += columns[1].width;
      columns[1].width = 0;
      columns[0].xlsx = columns[1].xlsx;
    }
  table_init (&t, "Aging report",
              g_strdup_printf ("As of %s, by %s", as_of, recoup_aging_group_to_string (group)),
              columns, G_N_ELEMENTS (columns));
  for (guint i = 0; i < rows->len; i++)
    {
      RecoupAgingReportRow *r = g_ptr_array_index (rows, i);
      g_autofree char *n = g_strdup_printf ("%" G_GINT64_FORMAT, r->n_accounts);
      const char *text[] = { r->key, group == RECOUP_AGING_BY_ACCOUNT ? r->label : "", r->currency, n,
                             NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
      gint64 money[] = { r->buckets[0], r->buckets[1], r->buckets[2], r->buckets[3], r->buckets[4],
                         r->buckets[5], r->credit, r->total };

      table_add (&t, t.cells, t.minor, t.currency, text, money, r->currency, grouping);
    }
  /* One total row per currency; the rows come sorted by currency. */
  for (guint i = 0; i < rows->len;)
    {
      RecoupAgingReportRow *first = g_ptr_array_index (rows, i);
      gint64 money[8] = { 0 }, n = 0;
      g_autofree char *count = NULL;

      for (; i < rows->len; i++)
        {
          RecoupAgingReportRow *r = g_ptr_array_index (rows, i);

          if (strcmp (r->currency, first->currency) != 0)
            break;
          for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
            money[b] += r->buckets[b];
          money[6] += r->credit;
          money[7] += r->total;
          n += r->n_accounts;
        }
      count = g_strdup_printf ("%" G_GINT64_FORMAT, n);
      {
        const char *text[] = { "Total", "", first->currency, count, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL };

        table_add (&t, t.totals, t.total_minor, t.total_currency, text, money, first->currency, grouping);
      }
    }
  ok = table_write (&t, business, format, paper, json, path, error);
  table_clear (&t);
  for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
    g_free (bucket_titles[b]);
  return ok;
}

static const ReportColumn payment_columns[] = {
  { "date", "Date", 0.085, CELL_DATE, 11 }, { "account", "Account", 0.10, CELL_TEXT, 14 },
  { "name", "Name", 0.14, CELL_TEXT, 28 }, { "collector", "Collector", 0.10, CELL_TEXT, 16 },
  { "kind", "Type", 0.07, CELL_TEXT, 10 }, { "method", "Method", 0.085, CELL_TEXT, 13 },
  { "reference", "Reference", 0.10, CELL_TEXT, 18 }, { "receipt", "Receipt", 0.10, CELL_TEXT, 14 },
  { "invoice", "Invoice", 0.085, CELL_TEXT, 14 }, { "currency", "Currency", 0.045, CELL_TEXT, 9 },
  { "amount", "Amount", 0.09, CELL_MONEY, 15 },
};

static JsonNode *
payments_json (GPtrArray  *rows,
               const char *from,
               const char *to)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_str (b, "from", from);
  json_str (b, "to", to);
  json_builder_set_member_name (b, "rows");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    {
      RecoupPaymentRow *r = g_ptr_array_index (rows, i);

      json_builder_begin_object (b);
      json_str (b, "entry_id", r->entry_id);
      json_str (b, "date", r->date);
      json_str (b, "kind", r->kind);
      json_str (b, "account_ref", r->account_ref);
      json_str (b, "account_name", r->account_name);
      json_str (b, "collector", r->collector);
      json_str (b, "method", r->method);
      json_str (b, "reference", r->reference);
      json_str (b, "receipt_no", r->receipt_no);
      json_str (b, "invoice_ref", r->invoice_ref);
      json_str (b, "currency", r->currency);
      json_int (b, "amount", r->amount);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static int
compare_payment_currency (gconstpointer a,
                          gconstpointer b)
{
  return strcmp ((*(RecoupPaymentRow * const *) a)->currency, (*(RecoupPaymentRow * const *) b)->currency);
}

gboolean
recoup_payments_report_write (GPtrArray                 *rows,
                              const char                *from,
                              const char                *to,
                              const RecoupBusinessInfo  *business,
                              RecoupReportFormat         format,
                              RecoupPaper                paper,
                              const char                *path,
                              GError                   **error)
{
  g_autoptr(JsonNode) json = format == RECOUP_REPORT_JSON ? payments_json (rows, from, to) : NULL;
  g_autoptr(GPtrArray) by_currency = g_ptr_array_new ();
  gboolean grouping = format == RECOUP_REPORT_PDF;
  Table t;
  gboolean ok;

  table_init (&t, "Payments received", g_strdup_printf ("From %s to %s", from, to),
              payment_columns, G_N_ELEMENTS (payment_columns));
  for (guint i = 0; i < rows->len; i++)
    {
      RecoupPaymentRow *r = g_ptr_array_index (rows, i);
      gboolean people = format != RECOUP_REPORT_CSV;
      g_autofree char *method = people ? method_title (r->method) : g_strdup (r->method);
      const char *text[] = { r->date, r->account_ref, r->account_name, r->collector,
                             people ? recoup_statement_kind_label (r->kind) : r->kind, method,
                             r->reference, r->receipt_no, r->invoice_ref, r->currency, NULL };

      table_add (&t, t.cells, t.minor, t.currency, text, &r->amount, r->currency, grouping);
      g_ptr_array_add (by_currency, r);
    }
  g_ptr_array_sort (by_currency, compare_payment_currency);
  for (guint i = 0; i < by_currency->len;)
    {
      RecoupPaymentRow *first = g_ptr_array_index (by_currency, i);
      gint64 total = 0, n = 0;
      g_autofree char *label = NULL;

      for (; i < by_currency->len; i++, n++)
        {
          RecoupPaymentRow *r = g_ptr_array_index (by_currency, i);

          if (strcmp (r->currency, first->currency) != 0)
            break;
          total += r->amount;
        }
      label = g_strdup_printf ("%" G_GINT64_FORMAT " entries", n);
      {
        const char *text[] = { "Total", label, "", "", "", "", "", "", "", first->currency, NULL };

        table_add (&t, t.totals, t.total_minor, t.total_currency, text, &total, first->currency, grouping);
      }
    }
  ok = table_write (&t, business, format, paper, json, path, error);
  table_clear (&t);
  return ok;
}

/* ---- KPIs ------------------------------------------------------------------- */

JsonNode *
recoup_kpis_to_json (GPtrArray *kpis)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < kpis->len; i++)
    {
      RecoupKpis *k = g_ptr_array_index (kpis, i);

      json_builder_begin_object (b);
      json_str (b, "currency", k->currency);
      json_str (b, "from", k->from);
      json_str (b, "to", k->to);
      json_int (b, "days", k->days);
      json_int (b, "months", k->months);
      json_int (b, "ar_begin", k->ar_begin);
      json_int (b, "ar_end", k->ar_end);
      json_int (b, "past_due_end", k->past_due_end);
      json_int (b, "current_end", k->current_end);
      json_int (b, "billed", k->billed);
      json_int (b, "collected", k->collected);
      json_int (b, "costs", k->costs);
      json_int (b, "dso_x100", k->dso_x100);
      json_int (b, "countback_dso_x100", k->countback_dso_x100);
      json_int (b, "best_dso_x100", k->best_dso_x100);
      json_int (b, "add_x100", k->add_x100);
      json_int (b, "cei_bp", k->cei_bp);
      json_int (b, "cost_to_collect_bp", k->cost_to_collect_bp);
      json_int (b, "promises_resolved", k->promises_resolved);
      json_int (b, "promises_kept", k->promises_kept);
      json_int (b, "promise_kept_bp", k->promise_kept_bp);
      json_int (b, "attempts", k->attempts);
      json_int (b, "contacts", k->contacts);
      json_int (b, "rpc", k->rpc);
      json_int (b, "contact_rate_bp", k->contact_rate_bp);
      json_int (b, "rpc_rate_bp", k->rpc_rate_bp);
      json_int (b, "recovery_bp", k->recovery_bp);
      json_builder_set_member_name (b, "cohorts");
      json_builder_begin_array (b);
      for (guint c = 0; c < k->cohorts->len; c++)
        {
          RecoupKpiCohort *co = g_ptr_array_index (k->cohorts, c);

          json_builder_begin_object (b);
          json_str (b, "month", co->month);
          json_int (b, "accounts", co->n_accounts);
          json_int (b, "placed", co->placed);
          json_int (b, "recovered", co->recovered);
          json_int (b, "rate_bp", co->rate_bp);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

static void
kpi_csv (FILE       *fp,
         const char *currency,
         const char *name,
         char       *value,
         const char *unit)
{
  const char *fields[] = { currency, name, value, unit };

  recoup_csv_row (fp, fields, G_N_ELEMENTS (fields));
  g_free (value);
}

static void
write_kpi_csv (FILE      *fp,
               GPtrArray *kpis)
{
  static const char * const header[] = { "currency", "kpi", "value", "unit" };

  recoup_csv_row (fp, header, G_N_ELEMENTS (header));
  for (guint i = 0; i < kpis->len; i++)
    {
      RecoupKpis *k = g_ptr_array_index (kpis, i);
      const char *cur = k->currency;

      /* Percentages are basis points / 100: "28.69" with the unit "percent". */
      kpi_csv (fp, cur, "from", g_strdup (k->from), "date");
      kpi_csv (fp, cur, "to", g_strdup (k->to), "date");
      kpi_csv (fp, cur, "days", g_strdup_printf ("%" G_GINT64_FORMAT, k->days), "days");
      kpi_csv (fp, cur, "ar_begin", money_plain (k->ar_begin, cur), cur);
      kpi_csv (fp, cur, "ar_end", money_plain (k->ar_end, cur), cur);
      kpi_csv (fp, cur, "past_due_end", money_plain (k->past_due_end, cur), cur);
      kpi_csv (fp, cur, "billed", money_plain (k->billed, cur), cur);
      kpi_csv (fp, cur, "collected", money_plain (k->collected, cur), cur);
      kpi_csv (fp, cur, "costs", money_plain (k->costs, cur), cur);
      kpi_csv (fp, cur, "dso", recoup_kpi_format_x100 (k->dso_x100), "days");
      kpi_csv (fp, cur, "countback_dso", recoup_kpi_format_x100 (k->countback_dso_x100), "days");
      kpi_csv (fp, cur, "best_possible_dso", recoup_kpi_format_x100 (k->best_dso_x100), "days");
      kpi_csv (fp, cur, "average_days_delinquent", recoup_kpi_format_x100 (k->add_x100), "days");
      kpi_csv (fp, cur, "cei", recoup_kpi_format_x100 (k->cei_bp), "percent");
      kpi_csv (fp, cur, "recovery_rate", recoup_kpi_format_x100 (k->recovery_bp), "percent");
      for (guint c = 0; c < k->cohorts->len; c++)
        {
          RecoupKpiCohort *co = g_ptr_array_index (k->cohorts, c);
          g_autofree char *name = g_strdup_printf ("recovery_rate[%s]", co->month);

          kpi_csv (fp, cur, name, recoup_kpi_format_x100 (co->rate_bp), "percent");
        }
      kpi_csv (fp, cur, "promise_kept_rate", recoup_kpi_format_x100 (k->promise_kept_bp), "percent");
      kpi_csv (fp, cur, "cost_to_collect", recoup_kpi_format_x100 (k->cost_to_collect_bp), "percent");
      kpi_csv (fp, cur, "contact_rate", recoup_kpi_format_x100 (k->contact_rate_bp), "percent");
      kpi_csv (fp, cur, "right_party_contact_rate", recoup_kpi_format_x100 (k->rpc_rate_bp), "percent");
    }
}

gboolean
recoup_kpi_write (GPtrArray           *kpis,
                  RecoupReportFormat   format,
                  const char          *path,
                  GError             **error)
{
  RecoupAtomicFile *file = NULL;
  FILE *fp = stdout;

  if (format != RECOUP_REPORT_CSV && format != RECOUP_REPORT_JSON)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "KPIs are written as json or csv");
      return FALSE;
    }
  if (path != NULL && !g_str_equal (path, "-"))
    {
      if (!(file = recoup_atomic_file_open (path, error)))
        return FALSE;
      fp = file->fp;
    }
  if (format == RECOUP_REPORT_CSV)
    write_kpi_csv (fp, kpis);
  else
    {
      g_autoptr(JsonNode) node = recoup_kpis_to_json (kpis);

      write_json (fp, node);
    }
  if (file != NULL)
    return recoup_atomic_file_commit (file, error);
  fflush (stdout);
  return TRUE;
}
