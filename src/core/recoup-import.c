/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-import"

#include "config.h"

#include <csv.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "recoup-accounts.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-escalation.h"
#include "recoup-id.h"
#include "recoup-import.h"
#include "recoup-ledger.h"
#include "recoup-money.h"

/*
 * CSV import (docs/import-format.md describes the format).
 *
 * The file is mapped and parsed twice with libcsv. It is fed one physical line
 * at a time, so the line on which each record starts is known exactly.
 *
 *  1. Validation: every field of every row is checked, accounts and invoices are
 *     collected by their natural keys (account_ref, invoice_ref) and compared
 *     with the book; every problem becomes "file:line: column: message". Nothing
 *     is written.
 *  2. Writing: if there were no problems (or the caller asked to skip invalid
 *     rows) the file is parsed again and applied inside the one transaction
 *     that was opened before validation (so what was validated is what is
 *     written to): new rows set-based through a stage table (see "Writing"),
 *     changes to existing accounts and invoices through the core API. Any
 *     failure rolls everything back.
 *
 * Per row the parser reuses one buffer; accounts and invoices keep their keys
 * in a GStringChunk. A row that repeats or conflicts with an earlier one is
 * compared exactly by parsing the earlier row again from its byte offset.
 */

G_DEFINE_QUARK (recoup-import-error-quark, recoup_import_error)

#define MAX_PROBLEMS      10000
#define CHECK_EVERY_ROWS  1024

typedef enum
{
  COL_ACCOUNT_REF,
  COL_NAME,
  COL_EMAIL,
  COL_PHONE,
  COL_ADDRESS,
  COL_TIMEZONE,
  COL_TIER,
  COL_TAGS,
  COL_INVOICE_REF,
  COL_ISSUE_DATE,
  COL_DUE_DATE,
  COL_AMOUNT,
  COL_CURRENCY,
  COL_DESCRIPTION,
  N_COLS
} Column;

static const struct
{
  const char *name;
  gboolean    required;
} columns[N_COLS] = {
  [COL_ACCOUNT_REF] = { "account_ref", TRUE },
  [COL_NAME]        = { "name", TRUE },
  [COL_EMAIL]       = { "email", FALSE },
  [COL_PHONE]       = { "phone", FALSE },
  [COL_ADDRESS]     = { "address", FALSE },
  [COL_TIMEZONE]    = { "timezone", FALSE },
  [COL_TIER]        = { "tier", FALSE },
  [COL_TAGS]        = { "tags", FALSE },
  [COL_INVOICE_REF] = { "invoice_ref", TRUE },
  [COL_ISSUE_DATE]  = { "issue_date", TRUE },
  [COL_DUE_DATE]    = { "due_date", TRUE },
  [COL_AMOUNT]      = { "amount", TRUE },
  [COL_CURRENCY]    = { "currency", TRUE },
  [COL_DESCRIPTION] = { "description", FALSE },
};

/* Header names are normalised first: lower case, every run of characters other
 * than letters and digits becomes one '_', none at either end. */
static const struct
{
  const char *alias;
  Column      column;
} aliases[] = {
  { "account", COL_ACCOUNT_REF }, { "account_id", COL_ACCOUNT_REF },
  { "account_no", COL_ACCOUNT_REF }, { "account_number", COL_ACCOUNT_REF },
  { "account_reference", COL_ACCOUNT_REF }, { "customer", COL_ACCOUNT_REF },
  { "customer_id", COL_ACCOUNT_REF }, { "customer_ref", COL_ACCOUNT_REF },
  { "customer_no", COL_ACCOUNT_REF }, { "customer_number", COL_ACCOUNT_REF },
  { "client_id", COL_ACCOUNT_REF }, { "debtor_id", COL_ACCOUNT_REF },
  { "customer_name", COL_NAME }, { "account_name", COL_NAME }, { "client_name", COL_NAME },
  { "debtor", COL_NAME }, { "debtor_name", COL_NAME }, { "full_name", COL_NAME },
  { "e_mail", COL_EMAIL }, { "email_address", COL_EMAIL }, { "mail", COL_EMAIL },
  { "phone_number", COL_PHONE }, { "telephone", COL_PHONE }, { "tel", COL_PHONE },
  { "mobile", COL_PHONE }, { "phone_no", COL_PHONE },
  { "postal_address", COL_ADDRESS }, { "street_address", COL_ADDRESS }, { "mailing_address", COL_ADDRESS },
  { "tz", COL_TIMEZONE }, { "time_zone", COL_TIMEZONE },
  { "invoice", COL_INVOICE_REF }, { "invoice_id", COL_INVOICE_REF }, { "invoice_no", COL_INVOICE_REF },
  { "invoice_number", COL_INVOICE_REF }, { "invoice_nr", COL_INVOICE_REF },
  { "invoice_reference", COL_INVOICE_REF }, { "document_no", COL_INVOICE_REF },
  { "date", COL_ISSUE_DATE }, { "invoice_date", COL_ISSUE_DATE }, { "issued", COL_ISSUE_DATE },
  { "issued_on", COL_ISSUE_DATE }, { "issue", COL_ISSUE_DATE },
  { "due", COL_DUE_DATE }, { "due_on", COL_DUE_DATE }, { "payment_due", COL_DUE_DATE },
  { "total", COL_AMOUNT }, { "amount_due", COL_AMOUNT }, { "invoice_amount", COL_AMOUNT },
  { "invoice_total", COL_AMOUNT }, { "value", COL_AMOUNT },
  { "ccy", COL_CURRENCY }, { "currency_code", COL_CURRENCY }, { "cur", COL_CURRENCY },
  { "memo", COL_DESCRIPTION }, { "details", COL_DESCRIPTION }, { "item", COL_DESCRIPTION },
  { "invoice_description", COL_DESCRIPTION },
  { "segment", COL_TIER },
};

/* Account columns that must agree between the rows of one account. */
static const Column account_columns[] = {
  COL_NAME, COL_EMAIL, COL_PHONE, COL_ADDRESS, COL_TIMEZONE, COL_TIER, COL_TAGS,
};

enum
{
  ROW_OK,
  ROW_INVALID,
  ROW_REPEAT,
};

enum
{
  CHANGE_NAME     = 1 << 0,
  CHANGE_TIMEZONE = 1 << 1,
  CHANGE_EMAIL    = 1 << 2,
  CHANGE_PHONE    = 1 << 3,
  CHANGE_ADDRESS  = 1 << 4,
  CHANGE_TIER     = 1 << 5,
  CHANGE_TAGS     = 1 << 6,
};

enum
{
  INVOICE_NEW,
  INVOICE_SAME,
  INVOICE_UPDATE,
};

enum
{
  INVOICE_VALID,
  INVOICE_CONFLICT,   /* two rows of it differ: all its rows are left out */
  INVOICE_REFUSED,    /* its first row has a problem */
};

typedef struct
{
  const char *ref;            /* chunk */
  const char *id;             /* chunk; NULL until the account exists */
  const char *currency;       /* interned; NULL until a row with a valid currency */
  const char *currency_from;  /* N_("in the book"), or NULL: from currency_line */
  guint       currency_line;
  guint64     hash;           /* of the defining row's account columns */
  gsize       def_offset;
  guint       def_line;
  guint       changes;        /* CHANGE_* against the book */
  gint64      charges;        /* what raises the account's balance, as the ledger adds it up
                               * (recoup-ledger.c): its positive entries, the book's and
                               * what this file adds so far */
  gint64      credits;        /* what lowers it: the negative entries (an invoice lowered) */
  guint8      total_loaded;   /* the book's entries are in charges and credits (existing accounts) */
  guint8      total_in_book;  /* the account has entries in the book */
  gint32      oldest_due;     /* the earliest due day of its rows, G_MAXINT32 for none */
  guint8      exists;
  guint8      used;
  guint8      applied;
  guint8      deleted;
} AccountEntry;

typedef struct
{
  const char *ref;            /* chunk */
  const char *id;             /* chunk: the book's invoice, for SAME and UPDATE */
  guint       account;        /* index into accounts */
  guint       def_row;
  guint       def_line;
  gsize       def_offset;
  gint64      delta;          /* what the defining row adds to its account's total */
  guint8      state;
  guint8      invalid;        /* INVOICE_VALID, INVOICE_CONFLICT, INVOICE_REFUSED */
} InvoiceEntry;

typedef struct _Import Import;
typedef struct _Reader Reader;

typedef void (*RowFunc) (Import *imp,
                         Reader *reader);

struct _Reader
{
  Import   *imp;
  RowFunc   func;
  GString  *buf;
  GArray   *offsets;           /* gsize per field of the current record */
  guint     line;              /* where the current record starts */
  gsize     offset;
  gboolean  bad_utf8;          /* a field of this record is not UTF-8 */
  gboolean  complete;          /* the record is done; reset at the next field */
  guint     n_records;
};

typedef struct
{
  const char *v[N_COLS];
  guint       n_fields;
  gboolean    all_empty;
} Row;

struct _Import
{
  RecoupBook          *book;
  const char          *path;
  GMappedFile         *map;
  const char          *data;
  gsize                len;
  unsigned char        delim;
  RecoupImportFlags    flags;
  RecoupImportReport  *report;
  guint                n_problems;
  guint                n_encoding;

  /* header */
  guint                first_row_line;    /* the line after the header */
  guint                n_header;
  char               **header;           /* field index -> name as written */
  int                  col_field[N_COLS];
  gboolean             header_done;

  /* state */
  GStringChunk        *chunk;
  GArray              *accounts;          /* AccountEntry */
  GHashTable          *account_index;     /* ref -> index + 1 */
  GArray              *invoices;          /* InvoiceEntry */
  GHashTable          *invoice_index;     /* ref -> index + 1 */
  GByteArray          *row_state;
  gboolean             book_empty;
  gboolean             check_utf8;
  gboolean             has_cr;           /* the file holds a CR: normalise line breaks in fields */
  gboolean             pass_apply;
  guint                row;                /* data rows so far in this pass */
  guint                problems_in_row;
  GError              *fatal;
  gboolean             stop;

  Reader               main;
  Reader               aux;
  Row                  aux_row;
  gboolean             aux_done;

  /* writing: new rows are staged, then inserted set-based (flush_stage()) */
  sqlite3_stmt        *stage_insert;
  guint                n_staged;
  GPtrArray           *dropped_indexes;   /* CREATE INDEX statements to run again */
  gint64               now_ms;
  gint32               today;             /* the book's today: no invoice is issued after it */
  char                *today_text;
  GArray              *escalation;        /* the book's policy, for a new account's stage */

  RecoupProgressFunc   progress;
  gpointer             progress_data;
  GCancellable        *cancellable;
  guint64              progress_base;
  guint64              progress_total;
  guint                progress_scale;
  gsize                line_offset;       /* where the line being parsed starts */
  guint                line_now;          /* its number */
};

/* ---- Problems -------------------------------------------------------------- */

static void
problem_free (gpointer data)
{
  RecoupImportProblem *p = data;

  g_free (p->file);
  g_free (p->column);
  g_free (p->message);
  g_free (p->text);
  g_free (p);
}

/* "file:line: column: message", "file:line: message" or "file: message": the
 * shape of every problem and error of an import. Only @message is translated;
 * a column is named as the file's header names it. */
static char *
locate (const char *path,
        guint       line,
        const char *column,
        const char *message)
{
  if (line > 0 && column != NULL)
    return g_strdup_printf ("%s:%u: %s: %s", path, line, column, message);
  if (line > 0)
    return g_strdup_printf ("%s:%u: %s", path, line, message);
  return g_strdup_printf ("%s: %s", path, message);
}

static void
set_located_error (GError     **error,
                   int          code,
                   const char  *path,
                   guint        line,
                   const char  *column,
                   const char  *format,
                   ...) G_GNUC_PRINTF (6, 7);

static void
set_located_error (GError     **error,
                   int          code,
                   const char  *path,
                   guint        line,
                   const char  *column,
                   const char  *format,
                   ...)
{
  g_autofree char *message = NULL;
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  text = locate (path, line, column, message);
  g_set_error_literal (error, RECOUP_IMPORT_ERROR, code, text);
}

/* Lists a problem both as text and as its parts; takes @message. */
static void
list_problem (Import     *imp,
              guint       line,
              const char *column,
              char       *message)
{
  RecoupImportProblem *p = g_new0 (RecoupImportProblem, 1);

  p->file = g_strdup (imp->path);
  p->line = line;
  p->column = g_strdup (column);
  p->message = message;
  p->text = locate (imp->path, line, column, message);
  g_ptr_array_add (imp->report->problems, g_strdup (p->text));
  g_ptr_array_add (imp->report->problem_list, p);
}

static void
add_problem (Import     *imp,
             guint       line,
             const char *column,
             const char *format,
             ...) G_GNUC_PRINTF (4, 5);

static void
add_problem (Import     *imp,
             guint       line,
             const char *column,
             const char *format,
             ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  imp->n_problems++;
  imp->problems_in_row++;
  if (imp->n_problems > MAX_PROBLEMS)
    return;
  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  list_problem (imp, line, column, g_steal_pointer (&msg));
}

static const char *
column_label (Import *imp,
              Column  col)
{
  int f = imp->col_field[col];

  return f >= 0 ? imp->header[f] : columns[col].name;
}

/* ---- Reading records ------------------------------------------------------- */

static void
reader_init (Reader  *reader,
             Import  *imp,
             RowFunc  func)
{
  reader->imp = imp;
  reader->func = func;
  reader->buf = g_string_sized_new (1024);
  reader->offsets = g_array_sized_new (FALSE, FALSE, sizeof (gsize), 32);
}

static void
reader_clear (Reader *reader)
{
  if (reader->buf != NULL)
    g_string_free (reader->buf, TRUE);
  if (reader->offsets != NULL)
    g_array_unref (reader->offsets);
  reader->buf = NULL;
  reader->offsets = NULL;
}

/* A line break inside a quoted field is kept as LF, whether the file wrote it
 * as CRLF, LF or a lone CR: the same data saved either way is the same. */
static void
append_normalizing_cr (GString    *buf,
                       const char *s,
                       gsize       len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (s[i] != '\r')
        g_string_append_c (buf, s[i]);
      else
        {
          g_string_append_c (buf, '\n');
          if (i + 1 < len && s[i + 1] == '\n')
            i++;
        }
    }
}

static void
field_cb (void   *s,
          size_t  len,
          void   *data)
{
  Reader *reader = data;
  gsize offset;

  if (reader->complete)
    {
      g_string_truncate (reader->buf, 0);
      g_array_set_size (reader->offsets, 0);
      reader->bad_utf8 = FALSE;
      reader->complete = FALSE;
    }
  offset = reader->buf->len;

  if (reader->imp->check_utf8 && !g_utf8_validate (s, (gssize) len, NULL))
    {
      Import *imp = reader->imp;
      guint f = reader->offsets->len;
      const char *end = NULL;

      g_utf8_validate (s, (gssize) len, &end);
      if (!reader->bad_utf8 && reader == &imp->main)
        {
          g_autofree char *position = NULL;
          const char *col = C_("import column", "header");
          guint line = imp->line_now;

          /* The field ends on the line being parsed: the bad byte is as
           * many lines before it as the field has line breaks after the byte. */
          for (const char *p = end; p < (const char *) s + len; p++)
            line -= *p == '\n';

          /* A field beyond the header's columns has no name: its position. */
          if (imp->header != NULL)
            col = f < imp->n_header ? imp->header[f]
                                    : (position = g_strdup_printf (_("column %u"), f + 1));
          imp->n_encoding++;
          add_problem (imp, line, col,
                       /* Translators: %02X is the first byte that is not UTF-8, in hex */
                       _("not UTF-8 text (byte 0x%02X); save the file as UTF-8 and import it again"),
                       (guint) *(const guchar *) end);
        }
      reader->bad_utf8 = TRUE;
    }
  g_array_append_val (reader->offsets, offset);
  if (reader->imp->has_cr && memchr (s, '\r', len) != NULL)
    append_normalizing_cr (reader->buf, s, len);
  else
    g_string_append_len (reader->buf, s, (gssize) len);
  g_string_append_c (reader->buf, '\0');
}

static void
record_cb (int   c,
           void *data)
{
  Reader *reader = data;

  /* A record without fields (only possible at the very end) is nothing. */
  if (reader->complete)
    return;
  reader->n_records++;
  reader->func (reader->imp, reader);
  /* The row's values stay readable until the next record starts. */
  reader->complete = TRUE;
}

static char *
trim (char *s)
{
  char *end;

  while (g_ascii_isspace (*s))
    s++;
  end = s + strlen (s);
  while (end > s && g_ascii_isspace (end[-1]))
    end--;
  *end = '\0';
  return s;
}

static void
reader_get_row (Import *imp,
                Reader *reader,
                Row    *row)
{
  gsize *offsets = (gsize *) (gpointer) reader->offsets->data;

  row->n_fields = reader->offsets->len;
  row->all_empty = TRUE;
  for (guint f = 0; f < row->n_fields; f++)
    {
      char *v = trim (reader->buf->str + offsets[f]);

      if (*v != '\0')
        row->all_empty = FALSE;
    }
  for (int c = 0; c < N_COLS; c++)
    {
      int f = imp->col_field[c];

      row->v[c] = (f >= 0 && (guint) f < row->n_fields) ? trim (reader->buf->str + offsets[f]) : "";
    }
}

static void
report_progress (Import *imp,
                 gsize   offset)
{
  if (imp->progress != NULL)
    imp->progress (imp->progress_base + (guint64) offset * imp->progress_scale,
                   imp->progress_total, imp->progress_data);
}

/* Parses [start, len) of the file one physical line at a time. Stops after the
 * first record when @one_record. */
static gboolean
parse_range (Import   *imp,
             Reader   *reader,
             gsize     start,
             guint     first_line,
             gboolean  one_record,
             GError  **error)
{
  struct csv_parser parser;
  const char *data = imp->data;
  gsize pos = start;
  guint line = first_line;
  guint records_before = reader->n_records;
  gboolean ok = TRUE;

  if (csv_init (&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
    g_error ("libcsv failed to initialise");
  csv_set_delim (&parser, imp->delim);
  g_string_truncate (reader->buf, 0);
  g_array_set_size (reader->offsets, 0);
  reader->bad_utf8 = FALSE;
  reader->complete = FALSE;

  while (pos < imp->len)
    {
      const char *nl = memchr (data + pos, '\n', imp->len - pos);
      gsize n = nl != NULL ? (gsize) (nl - (data + pos)) + 1 : imp->len - pos;

      if (parser.pstate == 0)
        {
          reader->line = line;
          reader->offset = pos;
        }
      imp->line_offset = pos;
      imp->line_now = line;
      if (csv_parse (&parser, data + pos, n, field_cb, record_cb, reader) != n)
        {
          int err = csv_error (&parser);
          guint f = reader->offsets->len;
          const char *col = imp->header != NULL && f < imp->n_header ? imp->header[f]
                                                                      : C_("import column", "row");

          if (err == CSV_EPARSE)
            {
              add_problem (imp, line, col, "%s",
                           _("malformed CSV: a quote inside a field that does not start with one, or "
                             "text after a closing quote; put the whole field in double quotes and "
                             "double every quote inside it (\"\")"));
              set_located_error (error, RECOUP_IMPORT_ERROR_FORMAT, imp->path, line, col, "%s",
                                 _("malformed CSV (a stray double quote); nothing was imported"));
            }
          else
            set_located_error (error, RECOUP_IMPORT_ERROR_IO, imp->path, line, NULL,
                               /* Translators: %s is the CSV parser's own (English) description */
                               _("cannot parse the file: %s"), csv_strerror (err));
          ok = FALSE;
          break;
        }
      if (imp->stop || (one_record && reader->n_records > records_before))
        break;
      pos += n;
      line++;
    }

  if (ok && !imp->stop && !(one_record && reader->n_records > records_before))
    {
      if (csv_fini (&parser, field_cb, record_cb, reader) != 0)
        {
          guint f = reader->offsets->len;
          const char *col = imp->header != NULL && f < imp->n_header ? imp->header[f]
                                                                      : C_("import column", "row");

          add_problem (imp, reader->line, col, "%s",
                       _("malformed CSV: a quoted field that starts in this record is never closed; "
                         "add the closing double quote"));
          set_located_error (error, RECOUP_IMPORT_ERROR_FORMAT, imp->path, reader->line, col, "%s",
                             _("malformed CSV (a quoted field is never closed); nothing was imported"));
          ok = FALSE;
        }
    }
  csv_free (&parser);
  return ok;
}

/* Parses the one record that starts at @offset into imp->aux_row. */
static gboolean
read_record_at (Import *imp,
                gsize   offset,
                guint   line)
{
  g_autoptr(GError) error = NULL;
  gboolean saved_check = imp->check_utf8;
  gsize saved_offset = imp->line_offset;
  guint saved_line = imp->line_now;
  guint saved_problems = imp->n_problems;
  guint saved_in_row = imp->problems_in_row;

  imp->aux_done = FALSE;
  imp->check_utf8 = FALSE;
  parse_range (imp, &imp->aux, offset, line, TRUE, &error);
  imp->check_utf8 = saved_check;
  imp->line_offset = saved_offset;
  imp->line_now = saved_line;
  imp->n_problems = saved_problems;
  imp->problems_in_row = saved_in_row;
  return imp->aux_done;
}

static void
aux_row_cb (Import *imp,
            Reader *reader)
{
  reader_get_row (imp, reader, &imp->aux_row);
  imp->aux_done = TRUE;
}

/* ---- Header ---------------------------------------------------------------- */

static char *
normalize_header (const char *name)
{
  GString *out = g_string_new (NULL);
  gboolean pending = FALSE;

  for (const char *p = name; *p; p++)
    {
      if (g_ascii_isalnum (*p))
        {
          if (pending && out->len > 0)
            g_string_append_c (out, '_');
          pending = FALSE;
          g_string_append_c (out, g_ascii_tolower (*p));
        }
      else
        pending = TRUE;
    }
  return g_string_free (out, FALSE);
}

static int
lookup_column (const char *normalized)
{
  for (int c = 0; c < N_COLS; c++)
    if (g_str_equal (normalized, columns[c].name))
      return c;
  for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
    if (g_str_equal (normalized, aliases[i].alias))
      return (int) aliases[i].column;
  return -1;
}

static char *
aliases_of (Column col)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
    if (aliases[i].column == col)
      g_string_append_printf (s, "%s%s", s->len ? ", " : "", aliases[i].alias);
  return g_string_free (s, FALSE);
}

static void
header_row (Import *imp,
            Reader *reader)
{
  gsize *offsets = (gsize *) (gpointer) reader->offsets->data;
  GString *missing = NULL;
  guint n_missing = 0;

  imp->header_done = TRUE;
  imp->first_row_line = imp->line_now + 1;
  imp->n_header = reader->offsets->len;
  imp->header = g_new0 (char *, imp->n_header + 1);
  for (guint f = 0; f < imp->n_header; f++)
    {
      char *name = trim (reader->buf->str + offsets[f]);

      /* A byte-order mark may also sit inside the first quoted name. */
      if (f == 0 && g_str_has_prefix (name, "\xEF\xBB\xBF"))
        name += 3;
      imp->header[f] = g_strdup (name);
    }
  if (reader->bad_utf8)
    {
      set_located_error (&imp->fatal, RECOUP_IMPORT_ERROR_ENCODING, imp->path, reader->line, NULL, "%s",
                         _("the header is not UTF-8 text; save the file as UTF-8 (in a spreadsheet: "
                           "CSV UTF-8) and import it again; nothing was imported"));
      return;
    }

  for (guint f = 0; f < imp->n_header; f++)
    {
      g_autofree char *norm = normalize_header (imp->header[f]);
      int c = lookup_column (norm);

      if (c < 0)
        {
          if (*norm != '\0')
            g_ptr_array_add (imp->report->warnings,
                             locate (imp->path, reader->line, imp->header[f],
                                     _("not a column Recoup knows; ignored")));
          continue;
        }
      if (imp->col_field[c] >= 0)
        {
          add_problem (imp, reader->line, imp->header[f],
                       /* Translators: another column as the file's header names it, then
                        * the column Recoup reads from both (e.g. amount) */
                       _("this column and “%s” both give %s; keep only one of them"),
                       imp->header[imp->col_field[c]], columns[c].name);
          continue;
        }
      imp->col_field[c] = (int) f;
    }

  for (int c = 0; c < N_COLS; c++)
    if (columns[c].required && imp->col_field[c] < 0)
      {
        g_autofree char *also = aliases_of (c);

        add_problem (imp, reader->line, columns[c].name,
                     /* Translators: %s lists the other names a header may give the
                      * column, e.g. “total, amount_due”, as they are written in the file */
                     _("required column missing (the header may also call it %s)"), also);
        if (missing == NULL)
          missing = g_string_new (NULL);
        g_string_append_printf (missing, "%s%s", missing->len ? ", " : "", columns[c].name);
        n_missing++;
      }
  if (missing != NULL)
    {
      set_located_error (&imp->fatal, RECOUP_IMPORT_ERROR_FORMAT, imp->path, reader->line, NULL,
                         g_dngettext (GETTEXT_PACKAGE,
                                      /* Translators: %s lists column names as the file
                                       * writes them (amount, currency) */
                                      "the header lacks the required column %s; nothing was imported",
                                      "the header lacks the required columns %s; nothing was imported",
                                      n_missing),
                         missing->str);
      g_string_free (missing, TRUE);
    }
  else if (imp->n_problems > 0)
    set_located_error (&imp->fatal, RECOUP_IMPORT_ERROR_FORMAT, imp->path, reader->line, NULL, "%s",
                       _("the header names a column twice; nothing was imported"));
}

/* The delimiter is the most frequent of ',' ';' and tab outside quotes on the
 * header line; ',' when none appears. */
static unsigned char
detect_delimiter (const char *data,
                  gsize       len)
{
  guint comma = 0, semicolon = 0, tab = 0;
  gboolean quoted = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];

      if (c == '"')
        quoted = !quoted;
      else if (quoted)
        continue;
      else if (c == '\n' || c == '\r')
        break;
      else if (c == ',')
        comma++;
      else if (c == ';')
        semicolon++;
      else if (c == '\t')
        tab++;
    }
  if (semicolon > comma && semicolon >= tab)
    return ';';
  if (tab > comma && tab > semicolon)
    return '\t';
  return ',';
}

/* ---- Validation ------------------------------------------------------------ */

static guint64
hash_account_columns (const Row *row)
{
  guint64 h = G_GUINT64_CONSTANT (14695981039346656037);

  for (guint i = 0; i < G_N_ELEMENTS (account_columns); i++)
    {
      for (const guchar *p = (const guchar *) row->v[account_columns[i]]; *p; p++)
        h = (h ^ *p) * G_GUINT64_CONSTANT (1099511628211);
      h = (h ^ 0x1f) * G_GUINT64_CONSTANT (1099511628211);
    }
  return h;
}

static gboolean
text_differs (const char *book_value,
              const char *file_value)
{
  /* An empty optional column never clears what the book holds. */
  if (*file_value == '\0')
    return FALSE;
  return g_strcmp0 (book_value, file_value) != 0;
}

/* The contact columns, by the kind of contact point each one gives. */
static const struct
{
  Column            column;
  RecoupContactKind kind;
  guint             change;
} contact_columns[] = {
  { COL_EMAIL, RECOUP_CONTACT_EMAIL, CHANGE_EMAIL },
  { COL_PHONE, RECOUP_CONTACT_PHONE, CHANGE_PHONE },
  { COL_ADDRESS, RECOUP_CONTACT_ADDRESS, CHANGE_ADDRESS },
};

/* Whether @book_value is @file_value, in any spelling; @file_key is the
 * latter's key, made on first need: a re-import mostly finds the same text. */
static gboolean
same_contact_value (RecoupContactKind   kind,
                    const char         *book_value,
                    const char         *file_value,
                    char              **file_key)
{
  g_autofree char *book_key = NULL;

  if (strcmp (book_value, file_value) == 0)
    return TRUE;
  if (*file_key == NULL)
    *file_key = recoup_contact_value_key (kind, file_value);
  book_key = recoup_contact_value_key (kind, book_value);
  return strcmp (book_key, *file_key) == 0;
}

/* Records a change for each contact value of @row that the account does not
 * have yet. Values are compared by recoup_contact_value_key(): the same number
 * or address written differently is one the account has, so it changes
 * nothing, and above all does not become a new primary contact point beside
 * an opted-out one. */
static gboolean
load_book_contacts (Import       *imp,
                    AccountEntry *acct,
                    const Row    *row,
                    GError      **error)
{
  char *keys[G_N_ELEMENTS (contact_columns)] = { NULL };
  gboolean has[G_N_ELEMENTS (contact_columns)] = { FALSE };
  sqlite3_stmt *stmt;
  int rc;

  stmt = recoup_book_prepare (imp->book,
                              "SELECT kind, value FROM contact_points WHERE account_id = ? AND deleted = 0",
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, acct->id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      RecoupContactKind kind;

      if (!recoup_contact_kind_from_string (RECOUP_BOOK_STMT_TEXT (stmt, 0), &kind))
        continue;
      for (guint i = 0; i < G_N_ELEMENTS (contact_columns); i++)
        {
          const char *value = row->v[contact_columns[i].column];

          if (contact_columns[i].kind == kind && *value != '\0' && !has[i])
            has[i] = same_contact_value (kind, RECOUP_BOOK_STMT_TEXT (stmt, 1), value, &keys[i]);
        }
    }
  sqlite3_reset (stmt);
  for (guint i = 0; i < G_N_ELEMENTS (contact_columns); i++)
    {
      if (*row->v[contact_columns[i].column] != '\0' && !has[i])
        acct->changes |= contact_columns[i].change;
      g_free (keys[i]);
    }
  if (rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (imp->book, error);
  return TRUE;
}

/* Looks the account up in the book and records what this file would change. */
static gboolean
load_book_account (Import       *imp,
                   AccountEntry *acct,
                   const Row    *row,
                   guint         line,
                   GError      **error)
{
  sqlite3_stmt *stmt;

  if (imp->book_empty)
    return TRUE;
  stmt = recoup_book_prepare (imp->book,
                              "SELECT id, name, timezone, currency, tier, tags, deleted"
                              " FROM accounts WHERE ref = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, acct->ref, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return TRUE;
    }
  acct->exists = TRUE;
  acct->id = g_string_chunk_insert (imp->chunk, RECOUP_BOOK_STMT_TEXT (stmt, 0));
  acct->currency = g_intern_string (RECOUP_BOOK_STMT_TEXT (stmt, 3));
  /* Translators: where an account's currency comes from */
  acct->currency_from = N_("in the book");
  if (text_differs (RECOUP_BOOK_STMT_TEXT (stmt, 1), row->v[COL_NAME]))
    acct->changes |= CHANGE_NAME;
  if (text_differs (RECOUP_BOOK_STMT_TEXT (stmt, 2), row->v[COL_TIMEZONE]))
    acct->changes |= CHANGE_TIMEZONE;
  if (text_differs (RECOUP_BOOK_STMT_TEXT (stmt, 4), row->v[COL_TIER]))
    acct->changes |= CHANGE_TIER;
  if (*row->v[COL_TAGS] != '\0')
    {
      /* Tags as the book keeps them ("a, ,b" is "a, b"): retyped, unchanged. */
      g_autofree char *tags = recoup_account_normalize_tags (row->v[COL_TAGS]);

      if (text_differs (RECOUP_BOOK_STMT_TEXT (stmt, 5), tags))
        acct->changes |= CHANGE_TAGS;
    }
  acct->deleted = sqlite3_column_int (stmt, 6) != 0;
  if (acct->deleted)
    add_problem (imp, line, column_label (imp, COL_ACCOUNT_REF),
                 _("account %s was deleted from this book; restore it or use another reference"),
                 acct->ref);
  sqlite3_reset (stmt);
  return load_book_contacts (imp, acct, row, error);
}

/* Adds the account's ledger entries in the book to its charges and credits,
 * as the ledger adds them up when it checks RECOUP_MONEY_LIMIT for each entry
 * the import writes: an index search, made only for an existing account whose
 * invoices the file changes (a re-import of unchanged rows makes none). */
static gboolean
load_book_total (Import       *imp,
                 AccountEntry *acct,
                 GError      **error)
{
  sqlite3_stmt *stmt;
  int rc;

  acct->total_loaded = TRUE;
  stmt = recoup_book_prepare (imp->book,
                              "SELECT amount FROM ledger_entries WHERE account_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, acct->id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 amount = sqlite3_column_int64 (stmt, 0);

      acct->total_in_book = TRUE;
      /* Entries merged from two devices may be beyond the limit together. */
      if (amount > 0 && !recoup_money_add (acct->charges, amount, &acct->charges))
        acct->charges = G_MAXINT64;
      else if (amount < 0 && !recoup_money_add (acct->credits, amount, &acct->credits))
        acct->credits = G_MININT64;
    }
  if (rc != SQLITE_DONE)
    recoup_book_set_sqlite_error (imp->book, error);
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE;
}

static gboolean
load_book_invoice (Import       *imp,
                   InvoiceEntry *inv,
                   AccountEntry *acct,
                   const Row    *row,
                   gint64        amount,
                   guint         line,
                   gint64       *out_book_amount,
                   GError      **error)
{
  sqlite3_stmt *stmt;

  inv->state = INVOICE_NEW;
  *out_book_amount = 0;
  if (imp->book_empty)
    return TRUE;
  stmt = recoup_book_prepare (imp->book,
                              "SELECT i.id, a.ref, i.issue_date, i.due_date, i.amount, i.currency,"
                              " i.description, i.deleted FROM invoices i"
                              " JOIN accounts a ON a.id = i.account_id WHERE i.ref = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, inv->ref, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *owner = RECOUP_BOOK_STMT_TEXT (stmt, 1);
      const char *currency = RECOUP_BOOK_STMT_TEXT (stmt, 5);

      inv->id = g_string_chunk_insert (imp->chunk, RECOUP_BOOK_STMT_TEXT (stmt, 0));
      if (g_strcmp0 (owner, acct->ref) != 0)
        add_problem (imp, line, column_label (imp, COL_ACCOUNT_REF),
                     /* Translators: an invoice's reference, then two accounts' references */
                     _("invoice %s belongs to account %s in the book, not %s; an invoice cannot move "
                       "between accounts"), inv->ref, owner, acct->ref);
      else if (g_strcmp0 (currency, row->v[COL_CURRENCY]) != 0)
        add_problem (imp, line, column_label (imp, COL_CURRENCY),
                     /* Translators: an invoice's reference, its currency code, then the file's */
                     _("invoice %s is in %s in the book; its currency cannot change to %s"),
                     inv->ref, currency, row->v[COL_CURRENCY]);
      else if (sqlite3_column_int (stmt, 7) != 0)
        add_problem (imp, line, column_label (imp, COL_INVOICE_REF),
                     _("invoice %s was deleted from this book; use another reference"), inv->ref);
      else if (g_strcmp0 (RECOUP_BOOK_STMT_TEXT (stmt, 2), row->v[COL_ISSUE_DATE]) != 0 ||
               g_strcmp0 (RECOUP_BOOK_STMT_TEXT (stmt, 3), row->v[COL_DUE_DATE]) != 0 ||
               sqlite3_column_int64 (stmt, 4) != amount ||
               g_strcmp0 (RECOUP_BOOK_STMT_TEXT (stmt, 6), row->v[COL_DESCRIPTION]) != 0)
        inv->state = INVOICE_UPDATE;
      else
        inv->state = INVOICE_SAME;
      if (inv->state != INVOICE_NEW)
        *out_book_amount = sqlite3_column_int64 (stmt, 4);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static void
mark_row (Import *imp,
          guint   row,
          guint8  state)
{
  if (row >= imp->row_state->len)
    {
      guint old = imp->row_state->len;

      g_byte_array_set_size (imp->row_state, MAX (row + 1, old * 2));
      memset (imp->row_state->data + old, ROW_OK, imp->row_state->len - old);
    }
  imp->row_state->data[row] = state;
}

static guint8
row_state (Import *imp,
           guint   row)
{
  return row < imp->row_state->len ? imp->row_state->data[row] : ROW_OK;
}

/* Compares the account columns of @row with the account's defining row. */
static void
check_account_agrees (Import       *imp,
                      AccountEntry *acct,
                      const Row    *row,
                      guint         line)
{
  if (hash_account_columns (row) == acct->hash)
    return;
  if (!read_record_at (imp, acct->def_offset, acct->def_line))
    {
      add_problem (imp, line, column_label (imp, COL_ACCOUNT_REF),
                   _("account %s differs from line %u"), acct->ref, acct->def_line);
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (account_columns); i++)
    {
      Column c = account_columns[i];

      if (strcmp (imp->aux_row.v[c], row->v[c]) != 0)
        add_problem (imp, line, column_label (imp, c),
                     /* Translators: an account's reference, this row's value, the value
                      * on the account's first row, then that row's line number */
                     _("account %s has “%s” here but “%s” on line %u; every row of one account "
                       "must repeat the same account details"), acct->ref, row->v[c],
                     imp->aux_row.v[c], acct->def_line);
    }
}

/* Compares an invoice row with the earlier row of the same invoice_ref, read
 * again into imp->aux_row. Returns the first column in which they differ,
 * N_COLS when they are the same, or -1 when the earlier row cannot be read. */
static int
invoice_rows_differ (Import    *imp,
                     const Row *row,
                     gint64     amount,
                     guint      first_line,
                     gsize      first_offset)
{
  static const Column cols[] = {
    COL_ACCOUNT_REF, COL_ISSUE_DATE, COL_DUE_DATE, COL_AMOUNT, COL_CURRENCY, COL_DESCRIPTION,
  };
  const Row *first = &imp->aux_row;

  if (!read_record_at (imp, first_offset, first_line))
    return -1;
  for (guint i = 0; i < G_N_ELEMENTS (cols); i++)
    {
      Column c = cols[i];
      gboolean same;

      if (c == COL_AMOUNT)
        {
          gint64 first_amount = 0;

          same = recoup_money_parse (first->v[c], first->v[COL_CURRENCY], &first_amount, NULL) &&
                 first_amount == amount;
        }
      else
        same = strcmp (first->v[c], row->v[c]) == 0;
      if (!same)
        return (int) c;
    }
  return N_COLS;
}

/* A later row of an invoice differs from its first row: neither can be
 * trusted, so both are left out, and both are reported. */
static void
report_invoice_conflict (Import       *imp,
                         InvoiceEntry *inv,
                         const Row    *row,
                         guint         line,
                         int           differs)
{
  const char *what = (imp->flags & RECOUP_IMPORT_SKIP_INVALID)
                     /* Translators: after “invoice … appears again …; ” */
                     ? _("both rows are skipped")
                     : _("give each invoice one row, or different references");

  add_problem (imp, inv->def_line, column_label (imp, COL_INVOICE_REF),
               /* Translators: an invoice's reference, a line number, then what happens
                * or what to do (“both rows are skipped”) */
               _("invoice %s appears again on line %u with different data; %s"),
               inv->ref, line, what);
  if (differs >= 0 && differs < N_COLS)
    add_problem (imp, line, column_label (imp, differs),
                 /* Translators: an invoice's reference, this row's value, the first
                  * row's line and value, then what happens or what to do */
                 _("invoice %s appears again with “%s” (line %u has “%s”); %s"),
                 inv->ref, row->v[differs], inv->def_line, imp->aux_row.v[differs], what);
  else
    add_problem (imp, line, column_label (imp, COL_INVOICE_REF),
                 /* Translators: an invoice's reference, a line number, then what happens
                  * or what to do (“both rows are skipped”) */
                 _("invoice %s appears again with different data (first on line %u); %s"),
                 inv->ref, inv->def_line, what);
}

/* Whether the row has as many fields as the header (empty ones beyond it
 * are harmless); reports it when not. */
static gboolean
check_field_count (Import    *imp,
                   Reader    *reader,
                   const Row *row,
                   guint      line)
{
  gsize *offsets = (gsize *) (gpointer) reader->offsets->data;
  gboolean extra_empty = TRUE;

  if (row->n_fields == imp->n_header)
    return TRUE;
  for (guint f = imp->n_header; f < row->n_fields; f++)
    if (reader->buf->str[offsets[f]] != '\0')
      extra_empty = FALSE;
  if (row->n_fields > imp->n_header && extra_empty)
    return TRUE;
  add_problem (imp, line, C_("import column", "row"),
               g_dngettext (GETTEXT_PACKAGE,
                            /* Translators: the row's fields, the header's, then the
                             * delimiter (, ; or a tab) */
                            "%u field, but the header has %u; check for a missing or extra "
                            "delimiter (“%c”) or an unquoted one inside a value",
                            "%u fields, but the header has %u; check for a missing or extra "
                            "delimiter (“%c”) or an unquoted one inside a value", row->n_fields),
               row->n_fields, imp->n_header, imp->delim);
  return FALSE;
}

/* The charges of one account (and its credits), the book's and this file's,
 * may add up to RECOUP_MONEY_LIMIT: within it every sum over the account fits
 * in 64 bits. The rule is the ledger's, which checks every entry the import
 * writes; checking it here refuses the row with its line instead of failing
 * the write. @delta is what the row adds: its amount (a charge), less the
 * book's amount for an invoice already in the book (an adjustment, a credit
 * when the invoice is lowered). A row that would cross the limit is refused
 * and adds nothing. Returns FALSE only when the book cannot be read. */
static gboolean
check_account_total (Import       *imp,
                     AccountEntry *acct,
                     InvoiceEntry *inv,
                     gint64        delta,
                     guint         line,
                     GError      **error)
{
  g_autofree char *limit = NULL;
  gint64 sum;

  inv->delta = 0;
  if (delta == 0)
    return TRUE;
  if (acct->exists && !acct->total_loaded && !load_book_total (imp, acct, error))
    return FALSE;
  if (delta > 0 ? recoup_money_add (acct->charges, delta, &sum) && sum <= RECOUP_MONEY_LIMIT
                : recoup_money_add (acct->credits, delta, &sum) && sum >= -RECOUP_MONEY_LIMIT)
    {
      *(delta > 0 ? &acct->charges : &acct->credits) = sum;
      inv->delta = delta;
      return TRUE;
    }
  limit = recoup_money_format_for_reader (RECOUP_MONEY_LIMIT, acct->currency,
                                          RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  if (delta > 0 && acct->total_in_book)
    add_problem (imp, line, column_label (imp, COL_AMOUNT),
                 /* Translators: an account's reference, then an amount with its currency code */
                 _("the invoices of account %s, with what is already in the book, add up to more "
                   "than %s, the most one account can hold; check the amounts"), acct->ref, limit);
  else if (delta > 0)
    add_problem (imp, line, column_label (imp, COL_AMOUNT),
                 /* Translators: an account's reference, then an amount with its currency code */
                 _("the invoices of account %s in this file add up to more than %s, the most one "
                   "account can hold; check the amounts"), acct->ref, limit);
  else
    add_problem (imp, line, column_label (imp, COL_AMOUNT),
                 /* Translators: an account's reference, then an amount with its currency code */
                 _("the credits of account %s, with this invoice lowered, would add up to more "
                   "than %s, the most one account can hold; check the amounts"), acct->ref, limit);
  return TRUE;
}

static void
validate_row (Import *imp,
              Reader *reader)
{
  Row row;
  guint line = reader->line;
  guint index;
  gboolean account_ok = TRUE;
  gboolean currency_ok = TRUE;
  gboolean invoice_ok = TRUE;
  gint64 amount = 0;
  gint32 issue = RECOUP_DATE_INVALID, due = RECOUP_DATE_INVALID;
  gint64 book_amount = 0;
  AccountEntry *acct = NULL;
  gpointer found;
  GError *error = NULL;

  if (!imp->header_done)
    {
      header_row (imp, reader);
      if (imp->fatal != NULL)
        imp->stop = TRUE;
      return;
    }

  reader_get_row (imp, reader, &row);
  if (row.all_empty)
    return;
  index = imp->row++;
  imp->problems_in_row = 0;

  if ((imp->row % CHECK_EVERY_ROWS) == 0)
    {
      if (g_cancellable_set_error_if_cancelled (imp->cancellable, &imp->fatal))
        {
          imp->stop = TRUE;
          return;
        }
      report_progress (imp, imp->line_offset);
    }

  if (!check_field_count (imp, reader, &row, line) || reader->bad_utf8)
    {
      mark_row (imp, index, ROW_INVALID);
      return;
    }

  for (int c = 0; c < N_COLS; c++)
    if (columns[c].required && *row.v[c] == '\0')
      {
        add_problem (imp, line, column_label (imp, c),
                     strchr ("aeiou", columns[c].name[0]) != NULL
                     /* Translators: %s is a column's name as Recoup knows it
                      * (invoice_ref); English needs “an” before a vowel, your
                      * language may not */
                     ? _("empty; every row needs an %s")
                     /* Translators: %s is a column's name as Recoup knows it (name, amount) */
                     : _("empty; every row needs a %s"),
                     columns[c].name);
        if (c == COL_ACCOUNT_REF || c == COL_NAME)
          account_ok = FALSE;
        else if (c == COL_CURRENCY)
          currency_ok = invoice_ok = FALSE;
        else
          invoice_ok = FALSE;
      }

  /* Account columns */
  if (*row.v[COL_TIMEZONE] && !recoup_timezone_validate (row.v[COL_TIMEZONE], &error))
    {
      add_problem (imp, line, column_label (imp, COL_TIMEZONE), "%s", error->message);
      g_clear_error (&error);
      account_ok = FALSE;
    }
  if (*row.v[COL_EMAIL] && !recoup_contact_validate (RECOUP_CONTACT_EMAIL, row.v[COL_EMAIL], &error))
    {
      add_problem (imp, line, column_label (imp, COL_EMAIL), "%s", error->message);
      g_clear_error (&error);
      account_ok = FALSE;
    }
  if (*row.v[COL_PHONE] && !recoup_contact_validate (RECOUP_CONTACT_PHONE, row.v[COL_PHONE], &error))
    {
      add_problem (imp, line, column_label (imp, COL_PHONE), "%s", error->message);
      g_clear_error (&error);
      account_ok = FALSE;
    }

  /* Invoice columns */
  if (currency_ok && !recoup_currency_validate (row.v[COL_CURRENCY], &error))
    {
      add_problem (imp, line, column_label (imp, COL_CURRENCY), "%s", error->message);
      g_clear_error (&error);
      currency_ok = invoice_ok = FALSE;
    }
  if (currency_ok && *row.v[COL_AMOUNT])
    {
      if (!recoup_money_parse (row.v[COL_AMOUNT], row.v[COL_CURRENCY], &amount, &error))
        {
          add_problem (imp, line, column_label (imp, COL_AMOUNT), "%s", error->message);
          g_clear_error (&error);
          invoice_ok = FALSE;
        }
      else if (amount <= 0)
        {
          add_problem (imp, line, column_label (imp, COL_AMOUNT),
                       _("“%s” is not more than zero; an invoice must be for more than zero "
                         "(record credits as payments or adjustments)"), row.v[COL_AMOUNT]);
          invoice_ok = FALSE;
        }
      else if (!recoup_money_check_limit (amount, row.v[COL_CURRENCY], &error))
        {
          /* Translators: %s says why the amount is refused */
          add_problem (imp, line, column_label (imp, COL_AMOUNT), _("%s; check the amount"),
                       error->message);
          g_clear_error (&error);
          invoice_ok = FALSE;
        }
    }
  if (*row.v[COL_ISSUE_DATE] &&
      (issue = recoup_date_parse (row.v[COL_ISSUE_DATE], &error)) == RECOUP_DATE_INVALID)
    {
      add_problem (imp, line, column_label (imp, COL_ISSUE_DATE), "%s", error->message);
      g_clear_error (&error);
      invoice_ok = FALSE;
    }
  if (*row.v[COL_DUE_DATE] &&
      (due = recoup_date_parse (row.v[COL_DUE_DATE], &error)) == RECOUP_DATE_INVALID)
    {
      add_problem (imp, line, column_label (imp, COL_DUE_DATE), "%s", error->message);
      g_clear_error (&error);
      invoice_ok = FALSE;
    }
  /* An invoice's charge is dated its issue date, and no ledger entry is dated
   * after today (recoup_invoice_add() refuses it too): it would count in the
   * balance of all entries but not in today's aging. */
  if (issue != RECOUP_DATE_INVALID && issue > imp->today)
    {
      add_problem (imp, line, column_label (imp, COL_ISSUE_DATE),
                   /* Translators: the issue date as the file writes it, then today's, YYYY-MM-DD */
                   _("issued on %s, after today (%s); import the invoice on or after the day it is issued"),
                   row.v[COL_ISSUE_DATE], imp->today_text);
      invoice_ok = FALSE;
    }
  if (issue != RECOUP_DATE_INVALID && due != RECOUP_DATE_INVALID && due < issue)
    {
      add_problem (imp, line, column_label (imp, COL_DUE_DATE),
                   /* Translators: the due date, then the issue date, as the file writes them */
                   _("due %s, before the issue date %s; check the order of the date columns"),
                   row.v[COL_DUE_DATE], row.v[COL_ISSUE_DATE]);
      invoice_ok = FALSE;
    }

  /* The account: the first row with valid account columns defines it. */
  if (*row.v[COL_ACCOUNT_REF])
    {
      if ((found = g_hash_table_lookup (imp->account_index, row.v[COL_ACCOUNT_REF])) != NULL)
        {
          acct = &g_array_index (imp->accounts, AccountEntry, GPOINTER_TO_UINT (found) - 1);
          if (acct->deleted)
            add_problem (imp, line, column_label (imp, COL_ACCOUNT_REF),
                         _("account %s was deleted from this book; restore it or use another reference"),
                         acct->ref);
          else if (account_ok)
            check_account_agrees (imp, acct, &row, line);
        }
      else if (account_ok)
        {
          AccountEntry entry = { 0 };

          entry.ref = g_string_chunk_insert (imp->chunk, row.v[COL_ACCOUNT_REF]);
          entry.oldest_due = G_MAXINT32;
          entry.hash = hash_account_columns (&row);
          entry.def_offset = reader->offset;
          entry.def_line = line;
          g_array_append_val (imp->accounts, entry);
          acct = &g_array_index (imp->accounts, AccountEntry, imp->accounts->len - 1);
          g_hash_table_insert (imp->account_index, (gpointer) acct->ref,
                               GUINT_TO_POINTER (imp->accounts->len));
          if (!load_book_account (imp, acct, &row, line, &imp->fatal))
            {
              imp->stop = TRUE;
              return;
            }
        }
    }

  if (acct != NULL && currency_ok)
    {
      if (acct->currency == NULL)
        {
          acct->currency = g_intern_string (row.v[COL_CURRENCY]);
          acct->currency_from = NULL;
          acct->currency_line = line;
        }
      else if (strcmp (acct->currency, row.v[COL_CURRENCY]) != 0)
        {
          g_autofree char *from = acct->currency_from != NULL
                                  ? g_strdup (_(acct->currency_from))
                                  /* Translators: where an account's currency comes from */
                                  : g_strdup_printf (_("from line %u"), acct->currency_line);

          add_problem (imp, line, column_label (imp, COL_CURRENCY),
                       /* Translators: an invoice's reference, its currency code, an
                        * account's reference, the account's currency code, then where that
                        * currency comes from (“in the book”, “from line 4”) */
                       _("invoice %s is in %s but account %s keeps its balance in %s (%s); one "
                         "account has one currency"), row.v[COL_INVOICE_REF], row.v[COL_CURRENCY],
                       acct->ref, acct->currency, from);
        }
    }

  /* The invoice */
  if (imp->problems_in_row == 0 && invoice_ok && account_ok && acct != NULL)
    {
      acct->oldest_due = MIN (acct->oldest_due, due);
      if ((found = g_hash_table_lookup (imp->invoice_index, row.v[COL_INVOICE_REF])) != NULL)
        {
          InvoiceEntry *inv = &g_array_index (imp->invoices, InvoiceEntry, GPOINTER_TO_UINT (found) - 1);
          int differs;

          if (inv->invalid == INVOICE_CONFLICT)
            add_problem (imp, line, column_label (imp, COL_INVOICE_REF),
                         /* Translators: an invoice's reference, a line number, then what
                          * happens or what to do (“all of them are skipped”) */
                         _("invoice %s appears on several rows with different data (first on line %u); %s"),
                         inv->ref, inv->def_line,
                         (imp->flags & RECOUP_IMPORT_SKIP_INVALID)
                         /* Translators: after “invoice … appears on several rows …; ” */
                         ? _("all of them are skipped")
                         : _("give each invoice one row, or different references"));
          else if (inv->invalid == INVOICE_REFUSED)
            add_problem (imp, line, column_label (imp, COL_INVOICE_REF),
                         _("invoice %s is refused on line %u (see the problem there); its other rows "
                           "are left out with it"), inv->ref, inv->def_line);
          else if ((differs = invoice_rows_differ (imp, &row, amount, inv->def_line,
                                                   inv->def_offset)) == N_COLS)
            {
              imp->report->rows_repeated++;
              mark_row (imp, index, ROW_REPEAT);
              return;
            }
          else
            {
              /* Neither row can be trusted: both are left out, and what the
               * first one added to its account's total is taken back. */
              report_invoice_conflict (imp, inv, &row, line, differs);
              inv->invalid = INVOICE_CONFLICT;
              mark_row (imp, inv->def_row, ROW_INVALID);
              {
                AccountEntry *owner = &g_array_index (imp->accounts, AccountEntry, inv->account);

                *(inv->delta > 0 ? &owner->charges : &owner->credits) -= inv->delta;
              }
            }
        }
      else
        {
          InvoiceEntry entry = { 0 };
          InvoiceEntry *inv;

          entry.ref = g_string_chunk_insert (imp->chunk, row.v[COL_INVOICE_REF]);
          entry.account = (guint) (acct - &g_array_index (imp->accounts, AccountEntry, 0));
          entry.def_row = index;
          entry.def_line = line;
          entry.def_offset = reader->offset;
          g_array_append_val (imp->invoices, entry);
          inv = &g_array_index (imp->invoices, InvoiceEntry, imp->invoices->len - 1);
          g_hash_table_insert (imp->invoice_index, (gpointer) inv->ref,
                               GUINT_TO_POINTER (imp->invoices->len));
          if (!load_book_invoice (imp, inv, acct, &row, amount, line, &book_amount, &imp->fatal))
            {
              imp->stop = TRUE;
              return;
            }
          if (imp->problems_in_row == 0 &&
              !check_account_total (imp, acct, inv, amount - book_amount, line, &imp->fatal))
            {
              imp->stop = TRUE;
              return;
            }
          if (imp->problems_in_row > 0)
            inv->invalid = INVOICE_REFUSED;
        }
    }

  if (imp->problems_in_row > 0 || !invoice_ok || !account_ok || acct == NULL)
    mark_row (imp, index, ROW_INVALID);
}

/* ---- Writing --------------------------------------------------------------- */

/*
 * New accounts, contact points, invoices and their charges are not written row
 * by row through the core API: each applied CSV row becomes one row of a TEMP
 * stage table, with the new rows' UUIDv7 ids made here, and every STAGE_ROWS
 * rows (and at the end) a handful of INSERT … SELECT statements move the stage
 * into the book, each table followed by its change rows. That saves the
 * per-statement work (a dozen statements and their cursors per invoice) and
 * the lookups the general functions need (the account's currency, the row a
 * change describes). What the core functions would check was checked by the
 * validation pass; parents are inserted before their children, and their
 * change rows come first in the log too, so sync replays them in order.
 * Updates of existing accounts and invoices still go through the core API.
 */

#define STAGE_ROWS 65536

static const char stage_create_sql[] =
  "CREATE TEMP TABLE IF NOT EXISTS recoup_import_stage ("
  "  acc_id      TEXT NOT NULL,"
  "  acc_new     INTEGER NOT NULL,"
  "  ref         TEXT,"
  "  name        TEXT,"
  "  timezone    TEXT,"
  "  currency    TEXT,"
  "  tier        TEXT,"
  "  tags        TEXT,"
  "  email_id    TEXT,"
  "  email       TEXT,"
  "  phone_id    TEXT,"
  "  phone       TEXT,"
  "  address_id  TEXT,"
  "  address     TEXT,"
  "  inv_id      TEXT,"
  "  inv_ref     TEXT,"
  "  issue_date  TEXT,"
  "  due_date    TEXT,"
  "  amount      INTEGER,"
  "  inv_currency TEXT,"
  "  description TEXT,"
  "  charge_id   TEXT,"
  "  stage       TEXT"
  ");"
  "DELETE FROM temp.recoup_import_stage;";

static const char stage_insert_sql[] =
  "INSERT INTO temp.recoup_import_stage VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
  " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)";

/* The change rows of what one INSERT … SELECT below inserted: its ids are
 * the stage's column @id_column in stage order, the change ids and clock
 * stamps are made in that order by the two functions registered on the
 * connection for the import. */
#define STAGE_CHANGES(table, id_column, where) \
  "INSERT INTO changes (id, hlc, device_id, user_id, entity, entity_id, op, fields, schema_version)" \
  " SELECT recoup_import_uuid7(), recoup_import_stamp(), ?1, ?2, '" table "', " id_column ", 'insert'," \
  " NULL, " G_STRINGIFY (RECOUP_SYNC_SCHEMA_BASE) " FROM temp.recoup_import_stage WHERE " where \
  " ORDER BY rowid"

static const char * const stage_flush_sql[] = {
  "INSERT INTO accounts (id, ref, name, timezone, currency, tier, tags, stage, lifetime_revenue, created_at)"
  " SELECT acc_id, ref, name, timezone, currency, tier, tags, stage, 0, ?3"
  " FROM temp.recoup_import_stage WHERE acc_new ORDER BY rowid",
  STAGE_CHANGES ("accounts", "acc_id", "acc_new"),
  "INSERT INTO contact_points (id, account_id, kind, value, label, is_primary, created_at)"
  " SELECT email_id, acc_id, 'email', email, '', 1, ?3"
  " FROM temp.recoup_import_stage WHERE email_id IS NOT NULL ORDER BY rowid",
  STAGE_CHANGES ("contact_points", "email_id", "email_id IS NOT NULL"),
  "INSERT INTO contact_points (id, account_id, kind, value, label, is_primary, created_at)"
  " SELECT phone_id, acc_id, 'phone', phone, '', 1, ?3"
  " FROM temp.recoup_import_stage WHERE phone_id IS NOT NULL ORDER BY rowid",
  STAGE_CHANGES ("contact_points", "phone_id", "phone_id IS NOT NULL"),
  "INSERT INTO contact_points (id, account_id, kind, value, label, is_primary, created_at)"
  " SELECT address_id, acc_id, 'address', address, '', 1, ?3"
  " FROM temp.recoup_import_stage WHERE address_id IS NOT NULL ORDER BY rowid",
  STAGE_CHANGES ("contact_points", "address_id", "address_id IS NOT NULL"),
  "INSERT INTO invoices (id, account_id, ref, issue_date, due_date, amount, currency, description,"
  " created_at)"
  " SELECT inv_id, acc_id, inv_ref, issue_date, due_date, amount, inv_currency, description, ?3"
  " FROM temp.recoup_import_stage WHERE inv_id IS NOT NULL ORDER BY rowid",
  STAGE_CHANGES ("invoices", "inv_id", "inv_id IS NOT NULL"),
  "INSERT INTO ledger_entries (id, account_id, invoice_id, kind, amount, currency, effective_date,"
  " memo, user_id, created_at)"
  " SELECT charge_id, acc_id, inv_id, 'charge', amount, inv_currency, issue_date, description, ?2, ?3"
  " FROM temp.recoup_import_stage WHERE inv_id IS NOT NULL ORDER BY rowid",
  STAGE_CHANGES ("ledger_entries", "charge_id", "inv_id IS NOT NULL"),
  "DELETE FROM temp.recoup_import_stage",
};

static void
import_uuid7_fn (sqlite3_context  *ctx,
                 int               argc,
                 sqlite3_value   **argv)
{
  char id[RECOUP_UUID_STRING_LEN + 1];

  recoup_uuid7_generate (id);
  sqlite3_result_text (ctx, id, RECOUP_UUID_STRING_LEN, SQLITE_TRANSIENT);
}

static void
import_stamp_fn (sqlite3_context  *ctx,
                 int               argc,
                 sqlite3_value   **argv)
{
  sqlite3_result_int64 (ctx, recoup_book_stamp (sqlite3_user_data (ctx)));
}

static gboolean
stage_open (Import  *imp,
            GError **error)
{
  sqlite3 *db = recoup_book_get_db (imp->book);

  /* Once per connection (the book owns it, so the functions' book pointer
   * lives as long): registering expires every prepared statement, and fails
   * while another statement of the connection is running. */
  if (g_object_get_data (G_OBJECT (imp->book), "recoup-import-functions") == NULL)
    {
      if (sqlite3_create_function (db, "recoup_import_uuid7", 0, SQLITE_UTF8, NULL,
                                   import_uuid7_fn, NULL, NULL) != SQLITE_OK ||
          sqlite3_create_function (db, "recoup_import_stamp", 0, SQLITE_UTF8, imp->book,
                                   import_stamp_fn, NULL, NULL) != SQLITE_OK)
        return recoup_book_set_sqlite_error (imp->book, error);
      g_object_set_data (G_OBJECT (imp->book), "recoup-import-functions", GINT_TO_POINTER (1));
    }
  if (!recoup_book_exec (imp->book, stage_create_sql, error) ||
      !(imp->stage_insert = recoup_book_prepare (imp->book, stage_insert_sql, error)))
    return FALSE;
  imp->now_ms = recoup_book_now_ms (imp->book);
  imp->n_staged = 0;
  return TRUE;
}

static gboolean
flush_stage (Import  *imp,
             GError **error)
{
  RecoupBook *book = imp->book;

  if (imp->n_staged == 0)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (stage_flush_sql); i++)
    {
      sqlite3_stmt *stmt = recoup_book_prepare (book, stage_flush_sql[i], error);

      if (stmt == NULL)
        return FALSE;
      if (sqlite3_bind_parameter_count (stmt) >= 2)
        {
          sqlite3_bind_text (stmt, 1, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 2, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
        }
      if (sqlite3_bind_parameter_count (stmt) >= 3)
        sqlite3_bind_int64 (stmt, 3, imp->now_ms);
      if (!recoup_book_step_done (book, stmt, error))
        return FALSE;
    }
  imp->n_staged = 0;
  return TRUE;
}

static void
stage_close (Import *imp)
{
  sqlite3 *db;

  if (imp->book == NULL || imp->stage_insert == NULL)
    return;
  db = recoup_book_get_db (imp->book);
  imp->stage_insert = NULL;
  sqlite3_exec (db, "DROP TABLE IF EXISTS temp.recoup_import_stage", NULL, NULL, NULL);
}

/* An import that at least doubles the book builds these indexes (text keys:
 * entity ids, in no useful order within a table) once at the end: CREATE INDEX
 * sorts and packs the pages, where a million single inserts each search the
 * tree and split its pages. Their statements are the book's own, read back from
 * its schema; the transaction undoes the drop if anything fails. Indexes whose
 * keys arrive in order (the change log's seq) gain nothing and stay. */
static const char * const rebuilt_indexes[] = {
  "contact_points_by_account",
  "invoices_by_account",
  "ledger_by_account",
  "ledger_by_invoice",
  "changes_by_entity",
};

static gboolean
drop_indexes (Import  *imp,
              GError **error)
{
  RecoupBook *book = imp->book;
  sqlite3_stmt *stmt;
  gint64 existing = 0;

  if (imp->report->invoices_created < 1000)
    return TRUE;
  if (!(stmt = recoup_book_prepare (book, "SELECT coalesce(max(seq), 0) FROM changes", error)))
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    existing = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if ((gint64) imp->report->invoices_created * 4 < existing)
    return TRUE;

  imp->dropped_indexes = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < G_N_ELEMENTS (rebuilt_indexes); i++)
    {
      g_autofree char *drop = NULL;
      char *sql = NULL;

      stmt = recoup_book_prepare (book, "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?",
                                  error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, rebuilt_indexes[i], -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) == SQLITE_TEXT)
        sql = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      sqlite3_reset (stmt);
      if (sql == NULL)
        continue;
      g_ptr_array_add (imp->dropped_indexes, sql);
      drop = g_strdup_printf ("DROP INDEX %s", rebuilt_indexes[i]);
      if (!recoup_book_exec (book, drop, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
restore_indexes (Import  *imp,
                 GError **error)
{
  if (imp->dropped_indexes == NULL)
    return TRUE;
  for (guint i = 0; i < imp->dropped_indexes->len; i++)
    if (!recoup_book_exec (imp->book, imp->dropped_indexes->pdata[i], error))
      return FALSE;
  g_clear_pointer (&imp->dropped_indexes, g_ptr_array_unref);
  return TRUE;
}

static void
bind_text_or_null (sqlite3_stmt *stmt,
                   int           col,
                   const char   *text)
{
  if (text != NULL && *text != '\0')
    sqlite3_bind_text (stmt, col, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, col);
}

/* A value of @kind that an existing account did not have becomes its primary
 * one (it is staged with is_primary = 1): the account's primary of that kind
 * until now is demoted, kept as history, and the demotion is a set change
 * with its field clock, like every other update of an existing row. */
static gboolean
demote_primary (Import      *imp,
                const char  *account_id,
                const char  *kind,
                GError     **error)
{
  static const char * const fields[] = { "is_primary", NULL };
  RecoupBook *book = imp->book;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;

  stmt = recoup_book_prepare (book,
                              "SELECT id FROM contact_points WHERE account_id = ? AND kind = ?"
                              " AND is_primary != 0 AND deleted = 0", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, kind, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (ids, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
  sqlite3_reset (stmt);

  for (guint i = 0; i < ids->len; i++)
    {
      stmt = recoup_book_prepare (book, "UPDATE contact_points SET is_primary = 0 WHERE id = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, ids->pdata[i], -1, SQLITE_STATIC);
      if (!recoup_book_step_done (book, stmt, error) ||
          !recoup_book_record_change (book, "contact_points", ids->pdata[i], RECOUP_CHANGE_SET,
                                      fields, error))
        return FALSE;
    }
  return TRUE;
}

/* Existing accounts take their changed fields through the core API; a new
 * account, and every contact point the file adds, is staged in @stage. */
static gboolean
apply_account (Import       *imp,
               AccountEntry *acct,
               const Row    *row,
               sqlite3_stmt *stage,
               GError      **error)
{
  RecoupBook *book = imp->book;
  char email_id[RECOUP_UUID_STRING_LEN + 1];
  char phone_id[RECOUP_UUID_STRING_LEN + 1];
  char address_id[RECOUP_UUID_STRING_LEN + 1];

  acct->applied = TRUE;
  if (!acct->exists)
    {
      char id[RECOUP_UUID_STRING_LEN + 1];

      recoup_uuid7_generate (id);
      acct->id = g_string_chunk_insert_len (imp->chunk, id, RECOUP_UUID_STRING_LEN);
      acct->changes = (*row->v[COL_EMAIL] ? CHANGE_EMAIL : 0) |
                      (*row->v[COL_PHONE] ? CHANGE_PHONE : 0) |
                      (*row->v[COL_ADDRESS] ? CHANGE_ADDRESS : 0);
      sqlite3_bind_int (stage, 2, 1);
      sqlite3_bind_text (stage, 3, acct->ref, -1, SQLITE_STATIC);
      sqlite3_bind_text (stage, 4, row->v[COL_NAME], -1, SQLITE_STATIC);
      bind_text_or_null (stage, 5, row->v[COL_TIMEZONE]);
      sqlite3_bind_text (stage, 6, acct->currency, -1, SQLITE_STATIC);
      bind_text_or_null (stage, 7, row->v[COL_TIER]);
      sqlite3_bind_text (stage, 8, recoup_account_normalize_tags (row->v[COL_TAGS]), -1, g_free);
      /* A new account comes in at the stage its oldest debt puts it in: an
       * invoice 300 days past due is not pre-collection. Later moves are
       * the policy's (recoup_escalation_apply()), each with its history. */
      sqlite3_bind_text (stage, 23,
                         recoup_escalation_first_stage (imp->escalation, imp->today, acct->oldest_due),
                         -1, SQLITE_STATIC);
    }
  else
    {
      /* An account made before (recoup-cli account create) whose first
       * invoices this file brings takes the same stage, by the rule
       * recoup_invoice_add() follows; any other account keeps its own. Only
       * an account whose invoices the file adds to or changes is looked at
       * (check_account_total() loaded its total). */
      if (acct->total_loaded &&
          !recoup_escalation_stage_first_debt (book, imp->escalation, acct->id, acct->oldest_due, error))
        return FALSE;
      if ((acct->changes & CHANGE_NAME) &&
          !recoup_account_set (book, acct->id, "name", row->v[COL_NAME], error))
        return FALSE;
      if ((acct->changes & CHANGE_TIMEZONE) &&
          !recoup_account_set (book, acct->id, "timezone", row->v[COL_TIMEZONE], error))
        return FALSE;
      if ((acct->changes & CHANGE_TIER) &&
          !recoup_account_set (book, acct->id, "tier", row->v[COL_TIER], error))
        return FALSE;
      if ((acct->changes & CHANGE_TAGS) &&
          !recoup_account_set (book, acct->id, "tags", row->v[COL_TAGS], error))
        return FALSE;
      if ((acct->changes & CHANGE_EMAIL) && !demote_primary (imp, acct->id, "email", error))
        return FALSE;
      if ((acct->changes & CHANGE_PHONE) && !demote_primary (imp, acct->id, "phone", error))
        return FALSE;
      if ((acct->changes & CHANGE_ADDRESS) && !demote_primary (imp, acct->id, "address", error))
        return FALSE;
    }
  sqlite3_bind_text (stage, 1, acct->id, RECOUP_UUID_STRING_LEN, SQLITE_STATIC);

  /* The ids are copied by SQLITE_TRANSIENT: they live on this stack. */
  if (acct->changes & CHANGE_EMAIL)
    {
      recoup_uuid7_generate (email_id);
      sqlite3_bind_text (stage, 9, email_id, RECOUP_UUID_STRING_LEN, SQLITE_TRANSIENT);
      sqlite3_bind_text (stage, 10, row->v[COL_EMAIL], -1, SQLITE_STATIC);
    }
  if (acct->changes & CHANGE_PHONE)
    {
      recoup_uuid7_generate (phone_id);
      sqlite3_bind_text (stage, 11, phone_id, RECOUP_UUID_STRING_LEN, SQLITE_TRANSIENT);
      sqlite3_bind_text (stage, 12, row->v[COL_PHONE], -1, SQLITE_STATIC);
    }
  if (acct->changes & CHANGE_ADDRESS)
    {
      recoup_uuid7_generate (address_id);
      sqlite3_bind_text (stage, 13, address_id, RECOUP_UUID_STRING_LEN, SQLITE_TRANSIENT);
      sqlite3_bind_text (stage, 14, row->v[COL_ADDRESS], -1, SQLITE_STATIC);
    }
  if (!acct->exists || (acct->changes & (CHANGE_EMAIL | CHANGE_PHONE | CHANGE_ADDRESS)))
    recoup_book_touch_account (book, acct->id);
  return TRUE;
}

static void
apply_row (Import *imp,
           Reader *reader)
{
  Row row;
  guint index;
  AccountEntry *acct;
  InvoiceEntry *inv;
  gpointer found;
  gint64 amount = 0;
  gboolean staged = FALSE;
  sqlite3_stmt *stage = imp->stage_insert;
  GError **error = &imp->fatal;

  if (!imp->header_done)
    {
      imp->header_done = TRUE;
      return;
    }
  reader_get_row (imp, reader, &row);
  if (row.all_empty)
    return;
  index = imp->row++;
  if ((imp->row % CHECK_EVERY_ROWS) == 0)
    {
      if (g_cancellable_set_error_if_cancelled (imp->cancellable, error))
        {
          imp->stop = TRUE;
          return;
        }
      report_progress (imp, imp->line_offset);
    }
  if (row_state (imp, index) != ROW_OK)
    return;

  found = g_hash_table_lookup (imp->account_index, row.v[COL_ACCOUNT_REF]);
  g_assert (found != NULL);
  acct = &g_array_index (imp->accounts, AccountEntry, GPOINTER_TO_UINT (found) - 1);
  sqlite3_reset (stage);
  sqlite3_clear_bindings (stage);
  sqlite3_bind_int (stage, 2, 0);
  if (!acct->applied)
    {
      if (!apply_account (imp, acct, &row, stage, error))
        goto fail;
      staged = !acct->exists || (acct->changes & (CHANGE_EMAIL | CHANGE_PHONE | CHANGE_ADDRESS));
    }

  found = g_hash_table_lookup (imp->invoice_index, row.v[COL_INVOICE_REF]);
  g_assert (found != NULL);
  inv = &g_array_index (imp->invoices, InvoiceEntry, GPOINTER_TO_UINT (found) - 1);

  if (inv->state != INVOICE_SAME &&
      !recoup_money_parse (row.v[COL_AMOUNT], row.v[COL_CURRENCY], &amount, error))
    goto fail;

  if (inv->state == INVOICE_NEW)
    {
      char inv_id[RECOUP_UUID_STRING_LEN + 1];
      char charge_id[RECOUP_UUID_STRING_LEN + 1];

      recoup_uuid7_generate (inv_id);
      recoup_uuid7_generate (charge_id);
      sqlite3_bind_text (stage, 1, acct->id, RECOUP_UUID_STRING_LEN, SQLITE_STATIC);
      sqlite3_bind_text (stage, 15, inv_id, RECOUP_UUID_STRING_LEN, SQLITE_TRANSIENT);
      sqlite3_bind_text (stage, 16, inv->ref, -1, SQLITE_STATIC);
      sqlite3_bind_text (stage, 17, row.v[COL_ISSUE_DATE], -1, SQLITE_STATIC);
      sqlite3_bind_text (stage, 18, row.v[COL_DUE_DATE], -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stage, 19, amount);
      sqlite3_bind_text (stage, 20, row.v[COL_CURRENCY], -1, SQLITE_STATIC);
      sqlite3_bind_text (stage, 21, row.v[COL_DESCRIPTION], -1, SQLITE_STATIC);
      sqlite3_bind_text (stage, 22, charge_id, RECOUP_UUID_STRING_LEN, SQLITE_TRANSIENT);
      recoup_book_touch_account (imp->book, acct->id);
      staged = TRUE;
    }
  else if (inv->state == INVOICE_UPDATE)
    {
      RecoupInvoiceSpec spec = {
        .account_id = acct->id,
        .ref = inv->ref,
        .issue_date = row.v[COL_ISSUE_DATE],
        .due_date = row.v[COL_DUE_DATE],
        .amount = amount,
        .currency = row.v[COL_CURRENCY],
        .description = row.v[COL_DESCRIPTION],
      };
      gboolean changed;

      if (!recoup_invoice_update (imp->book, inv->id, &spec, &changed, error))
        goto fail;
    }

  if (staged)
    {
      if (!recoup_book_step_done (imp->book, stage, error))
        goto fail;
      if (++imp->n_staged >= STAGE_ROWS && !flush_stage (imp, error))
        goto fail;
    }
  return;

fail:
  g_prefix_error (error, "%s:%u: ", imp->path, reader->line);
  imp->stop = TRUE;
}

static gboolean
record_import (Import  *imp,
               GError **error)
{
  RecoupImportReport *r = imp->report;
  char id[RECOUP_UUID_STRING_LEN + 1];
  g_autofree char *base = g_path_get_basename (imp->path);
  sqlite3_stmt *stmt;

  /* A local audit row: it makes no change row, so a re-import that changes
   * nothing adds nothing to the change log. */
  stmt = recoup_book_prepare (imp->book,
                              "INSERT INTO imports (id, file_name, at, user_id, created, updated,"
                              " unchanged, skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  recoup_uuid7_generate (id);
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, base, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, recoup_book_now_ms (imp->book));
  sqlite3_bind_text (stmt, 4, recoup_book_get_user_id (imp->book), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, r->invoices_created);
  sqlite3_bind_int64 (stmt, 6, r->invoices_updated);
  sqlite3_bind_int64 (stmt, 7, r->invoices_unchanged);
  sqlite3_bind_int64 (stmt, 8, r->rows_skipped);
  return recoup_book_step_done (imp->book, stmt, error);
}

/* ---- Driver ---------------------------------------------------------------- */

static void
tally (Import *imp)
{
  RecoupImportReport *r = imp->report;

  for (guint i = 0; i < imp->invoices->len; i++)
    {
      InvoiceEntry *inv = &g_array_index (imp->invoices, InvoiceEntry, i);

      if (inv->invalid || row_state (imp, inv->def_row) != ROW_OK)
        continue;
      g_array_index (imp->accounts, AccountEntry, inv->account).used = TRUE;
      if (inv->state == INVOICE_NEW)
        r->invoices_created++;
      else if (inv->state == INVOICE_UPDATE)
        r->invoices_updated++;
      else
        r->invoices_unchanged++;
    }
  for (guint i = 0; i < imp->accounts->len; i++)
    {
      AccountEntry *acct = &g_array_index (imp->accounts, AccountEntry, i);

      if (!acct->used)
        continue;
      if (!acct->exists)
        r->accounts_created++;
      else if (acct->changes != 0)
        r->accounts_updated++;
      else
        r->accounts_unchanged++;
    }
  if (imp->flags & RECOUP_IMPORT_SKIP_INVALID)
    r->rows_skipped = r->rows_invalid;
}

static void
clear_counts (RecoupImportReport *r)
{
  r->accounts_created = r->accounts_updated = r->accounts_unchanged = 0;
  r->invoices_created = r->invoices_updated = r->invoices_unchanged = 0;
  r->rows_skipped = 0;
}

static gboolean
book_is_empty (RecoupBook *book)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
                                            "SELECT NOT EXISTS (SELECT 1 FROM accounts)"
                                            " AND NOT EXISTS (SELECT 1 FROM invoices)", NULL);
  gboolean empty = FALSE;

  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    empty = sqlite3_column_int (stmt, 0) != 0;
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return empty;
}

static void
import_clear (Import *imp)
{
  reader_clear (&imp->main);
  reader_clear (&imp->aux);
  g_clear_pointer (&imp->header, g_strfreev);
  g_clear_pointer (&imp->account_index, g_hash_table_unref);
  g_clear_pointer (&imp->invoice_index, g_hash_table_unref);
  g_clear_pointer (&imp->accounts, g_array_unref);
  g_clear_pointer (&imp->invoices, g_array_unref);
  g_clear_pointer (&imp->row_state, g_byte_array_unref);
  g_clear_pointer (&imp->chunk, g_string_chunk_free);
  g_clear_pointer (&imp->map, g_mapped_file_unref);
  g_clear_pointer (&imp->dropped_indexes, g_ptr_array_unref);
  g_clear_pointer (&imp->today_text, g_free);
  g_clear_pointer (&imp->escalation, g_array_unref);
  g_clear_error (&imp->fatal);
}

static void
finish_problems (Import *imp)
{
  if (imp->n_problems > MAX_PROBLEMS)
    list_problem (imp, 0, NULL,
                  g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u more problem not listed",
                                                "%u more problems not listed",
                                                imp->n_problems - MAX_PROBLEMS),
                                   imp->n_problems - MAX_PROBLEMS));
}

/* Opens the file, or says plainly why it cannot be read. */
static gboolean
map_file (Import  *imp,
          GError **error)
{
  g_autoptr(GError) local_error = NULL;
  GStatBuf st;
  int saved_errno;

  if (g_stat (imp->path, &st) != 0)
    {
      saved_errno = errno;
      if (saved_errno == ENOENT || saved_errno == ENOTDIR)
        set_located_error (error, RECOUP_IMPORT_ERROR_IO, imp->path, 0, NULL, "%s",
                           _("no such file; check the name and the folder"));
      else if (saved_errno == EACCES)
        set_located_error (error, RECOUP_IMPORT_ERROR_IO, imp->path, 0, NULL, "%s",
                           _("cannot be read: permission denied on a folder of its path; ask for "
                             "access, or copy the file to a folder you can read"));
      else
        set_located_error (error, RECOUP_IMPORT_ERROR_IO, imp->path, 0, NULL,
                           /* Translators: %s is the system's description of the error */
                           _("cannot be read: %s"), g_strerror (saved_errno));
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      set_located_error (error, RECOUP_IMPORT_ERROR_IO, imp->path, 0, NULL, "%s",
                         _("is a directory, not a CSV file; give the path of a CSV file"));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      set_located_error (error, RECOUP_IMPORT_ERROR_IO, imp->path, 0, NULL, "%s",
                         _("not a regular file (a pipe or a device); save the data to a CSV file "
                           "and import that"));
      return FALSE;
    }

  imp->map = g_mapped_file_new (imp->path, FALSE, &local_error);
  if (imp->map != NULL)
    return TRUE;
  if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_ACCES) ||
      g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_PERM))
    set_located_error (error, RECOUP_IMPORT_ERROR_IO, imp->path, 0, NULL, "%s",
                       _("cannot be read: permission denied; ask for read access, or import a "
                         "copy you can read"));
  else if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    set_located_error (error, RECOUP_IMPORT_ERROR_IO, imp->path, 0, NULL, "%s",
                       _("no such file; check the name and the folder"));
  else
    set_located_error (error, RECOUP_IMPORT_ERROR_IO, imp->path, 0, NULL,
                       _("cannot be read: %s"), local_error->message);
  return FALSE;
}

/* Whether the file will make up most of the book after the import: a CSV row
 * takes about 13 times its size in the book (entities, change log, indexes,
 * derived data), so a file an eighth of the book's size or more about doubles
 * it. Such an import is written with a rollback journal when it can be
 * (recoup_book_begin_rollback_journal()): once, instead of twice. */
static gboolean
import_is_large (Import *imp)
{
  sqlite3_stmt *stmt = recoup_book_prepare (imp->book,
                                            "SELECT page_count * page_size FROM pragma_page_count,"
                                            " pragma_page_size", NULL);
  gint64 book_bytes = G_MAXINT64;

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    book_bytes = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return (gint64) imp->len >= book_bytes / 8;
}

/**
 * recoup_import_csv:
 * @path: the CSV file; problems name it as given
 *
 * Imports invoices (and their accounts) from a CSV file. See
 * docs/import-format.md. Returns FALSE when nothing was imported: the file
 * cannot be read (IO), is not UTF-8 (ENCODING), is not CSV or lacks a
 * required column (FORMAT), or has invalid rows (INVALID, unless
 * RECOUP_IMPORT_SKIP_INVALID). The book is then unchanged.
 */
gboolean
recoup_import_csv (RecoupBook          *book,
                   const char          *path,
                   RecoupImportFlags    flags,
                   RecoupProgressFunc   progress,
                   gpointer             progress_data,
                   GCancellable        *cancellable,
                   RecoupImportReport **out_report,
                   GError             **error)
{
  Import imp = { 0 };
  g_autoptr(RecoupImportReport) report = NULL;
  GError *local_error = NULL;
  gboolean in_transaction = FALSE;
  gboolean bulk = FALSE;
  gboolean fk_off = FALSE;
  gboolean rollback_journal = FALSE;
  gint64 t_start = g_get_monotonic_time (), t_written = 0, t_indexed = 0;
  gboolean ok = FALSE;
  gsize start = 0;

  g_return_val_if_fail (RECOUP_IS_BOOK (book), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  report = g_new0 (RecoupImportReport, 1);
  report->problems = g_ptr_array_new_with_free_func (g_free);
  report->warnings = g_ptr_array_new_with_free_func (g_free);
  report->problem_list = g_ptr_array_new_with_free_func (problem_free);

  imp.book = book;
  imp.today_text = recoup_book_today (book);
  imp.escalation = recoup_escalation_policy_load (book);
  imp.today = recoup_date_parse (imp.today_text, NULL);
  imp.path = path;
  imp.flags = flags;
  imp.report = report;
  imp.progress = progress;
  imp.progress_data = progress_data;
  imp.cancellable = cancellable;
  for (int c = 0; c < N_COLS; c++)
    imp.col_field[c] = -1;

  if (!map_file (&imp, error))
    goto out;
  imp.data = g_mapped_file_get_contents (imp.map);
  imp.len = g_mapped_file_get_length (imp.map);
  if (imp.data == NULL)
    imp.data = "";
  if (imp.len >= 3 && memcmp (imp.data, "\xEF\xBB\xBF", 3) == 0)
    start = 3;
  {
    gsize i = start;

    while (i < imp.len && g_ascii_isspace (imp.data[i]))
      i++;
    if (i >= imp.len)
      {
        set_located_error (error, RECOUP_IMPORT_ERROR_FORMAT, path, 0, NULL, "%s",
                           _("the file is empty; it needs a header line naming the columns and one "
                             "row per invoice"));
        goto out;
      }
  }

  imp.delim = detect_delimiter (imp.data + start, imp.len - start);
  imp.check_utf8 = !g_utf8_validate (imp.data + start, (gssize) (imp.len - start), NULL);
  imp.has_cr = memchr (imp.data + start, '\r', imp.len - start) != NULL;
  imp.chunk = g_string_chunk_new (1 << 20);
  imp.accounts = g_array_new (FALSE, FALSE, sizeof (AccountEntry));
  imp.account_index = g_hash_table_new (g_str_hash, g_str_equal);
  imp.invoices = g_array_new (FALSE, FALSE, sizeof (InvoiceEntry));
  imp.invoice_index = g_hash_table_new (g_str_hash, g_str_equal);
  imp.row_state = g_byte_array_new ();
  reader_init (&imp.main, &imp, validate_row);
  reader_init (&imp.aux, &imp, aux_row_cb);
  imp.progress_total = (guint64) imp.len * ((flags & RECOUP_IMPORT_DRY_RUN) ? 1 : 5);
  imp.progress_scale = 1;

  /* The write transaction is taken before validation, so that what is checked
   * against the book is what the writes see. */
  if (!(flags & RECOUP_IMPORT_DRY_RUN))
    {
      gboolean outermost = !recoup_book_in_transaction (book);

      /* The import inserts parents before their children and rolls back as
       * a whole, so the foreign keys it writes hold by construction; checking
       * each one costs an index search per row. (The pragma is a no-op inside
       * a transaction, so only the outermost caller can save it.) */
      if (outermost && import_is_large (&imp))
        rollback_journal = recoup_book_begin_rollback_journal (book);
      if (outermost && recoup_book_exec (book, "PRAGMA foreign_keys = OFF", NULL))
        fk_off = TRUE;
      if (!recoup_book_begin (book, error))
        goto out;
      in_transaction = TRUE;
      /* Everything below is rolled back as a whole on any failure, so the
       * core calls need no savepoints of their own. */
      bulk = outermost;
    }
  imp.book_empty = book_is_empty (book);

  /* Pass 1: validate. */
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    goto out;
  if (!parse_range (&imp, &imp.main, start, 1, FALSE, &local_error))
    {
      g_propagate_error (error, local_error);
      goto out;
    }
  if (imp.fatal != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&imp.fatal));
      goto out;
    }
  if (!imp.header_done)
    {
      set_located_error (error, RECOUP_IMPORT_ERROR_FORMAT, path, 0, NULL, "%s",
                         _("no header line"));
      goto out;
    }
  /* Almost always the wrong file, or an export cut short: said, not recorded
   * as an import of nothing. */
  if (imp.row == 0)
    {
      set_located_error (error, RECOUP_IMPORT_ERROR_FORMAT, path, imp.first_row_line, NULL, "%s",
                         _("the file has a header line but no invoices; it needs one row per "
                           "invoice under the header; nothing was imported"));
      goto out;
    }
  report->rows = imp.row;
  if (imp.check_utf8)
    {
      set_located_error (error, RECOUP_IMPORT_ERROR_ENCODING, path, 0, NULL,
                         g_dngettext (GETTEXT_PACKAGE,
                                      /* Translators: %u counts the rows that are not UTF-8 */
                                      "the file is not UTF-8 text (%u row); save it as UTF-8 (in a "
                                      "spreadsheet: CSV UTF-8) and import it again; nothing was imported",
                                      "the file is not UTF-8 text (%u rows); save it as UTF-8 (in a "
                                      "spreadsheet: CSV UTF-8) and import it again; nothing was imported",
                                      imp.n_encoding),
                         imp.n_encoding);
      goto out;
    }
  for (guint i = 0; i < imp.row; i++)
    if (row_state (&imp, i) == ROW_INVALID)
      report->rows_invalid++;
  if (imp.n_problems > 0 && !(flags & RECOUP_IMPORT_SKIP_INVALID))
    {
      g_autofree char *problems = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u problem",
                                                                "%u problems", imp.n_problems),
                                                   imp.n_problems);
      g_autofree char *rows = NULL;

      /* How many rows are wrong: to fix, or to leave out with --skip-invalid. */
      if (report->rows_invalid == report->rows)
        rows = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u row", "%u rows", report->rows),
                                report->rows);
      else
        rows = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             /* Translators: the rows with problems, then all
                                              * rows of the file (the plural follows it), in
                                              * “3 problems in 2 of 18 rows” */
                                             "%u of %u row", "%u of %u rows", report->rows),
                                report->rows_invalid, report->rows);
      set_located_error (error, RECOUP_IMPORT_ERROR_INVALID, path, 0, NULL,
                         /* Translators: “3 problems” in “2 rows” or in “2 of 18 rows” */
                         _("%s in %s; nothing was imported"), problems, rows);
      goto out;
    }
  tally (&imp);
  report_progress (&imp, imp.len);

  if (flags & RECOUP_IMPORT_DRY_RUN)
    {
      ok = TRUE;
      goto out;
    }

  /* Pass 2: write. */
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    goto out;
  if (bulk)
    recoup_book_set_bulk (book, TRUE);
  if (!stage_open (&imp, error) || !drop_indexes (&imp, error))
    goto out;

  imp.progress_base = imp.len;
  imp.progress_scale = 4;
  imp.header_done = FALSE;
  imp.row = 0;
  imp.main.func = apply_row;
  imp.main.n_records = 0;
  if (!parse_range (&imp, &imp.main, start, 1, FALSE, &local_error))
    {
      g_propagate_error (error, local_error);
      goto out;
    }
  if (imp.fatal != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&imp.fatal));
      goto out;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
      !flush_stage (&imp, error))
    goto out;
  t_written = g_get_monotonic_time ();
  if (!restore_indexes (&imp, error) ||
      !record_import (&imp, error))
    goto out;
  t_indexed = g_get_monotonic_time ();
  in_transaction = FALSE;
  if (bulk)
    recoup_book_set_bulk (book, FALSE);
  bulk = FALSE;
  if (!recoup_book_commit (book, error))
    goto out;
  g_debug ("%s: %u rows written in %.2f s: validated and written %.2f s, indexes %.2f s, commit %.2f s",
           path, report->rows, (g_get_monotonic_time () - t_start) / 1e6, (t_written - t_start) / 1e6,
           (t_indexed - t_written) / 1e6, (g_get_monotonic_time () - t_indexed) / 1e6);
  report_progress (&imp, imp.len);
  ok = TRUE;

out:
  if (bulk)
    recoup_book_set_bulk (book, FALSE);
  if (in_transaction)
    recoup_book_rollback (book);
  stage_close (&imp);
  if (fk_off)
    recoup_book_exec (book, "PRAGMA foreign_keys = ON", NULL);
  if (rollback_journal)
    recoup_book_end_rollback_journal (book);
  if (!ok)
    clear_counts (report);
  finish_problems (&imp);
  import_clear (&imp);
  if (out_report != NULL)
    *out_report = g_steal_pointer (&report);
  return ok;
}

void
recoup_import_report_free (RecoupImportReport *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->problems, g_ptr_array_unref);
  g_clear_pointer (&report->warnings, g_ptr_array_unref);
  g_clear_pointer (&report->problem_list, g_ptr_array_unref);
  g_free (report);
}
