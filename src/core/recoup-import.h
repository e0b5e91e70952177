/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

typedef enum
{
  RECOUP_IMPORT_ERROR_IO,        /* the file cannot be read */
  RECOUP_IMPORT_ERROR_ENCODING,  /* not UTF-8 */
  RECOUP_IMPORT_ERROR_FORMAT,    /* malformed CSV, missing required columns */
  RECOUP_IMPORT_ERROR_INVALID,   /* rows with problems; see the report's problems */
} RecoupImportError;

#define RECOUP_IMPORT_ERROR (recoup_import_error_quark ())
GQuark recoup_import_error_quark (void);

typedef enum
{
  RECOUP_IMPORT_DEFAULT      = 0,
  RECOUP_IMPORT_SKIP_INVALID = 1 << 0,   /* apply the valid rows, report the rest */
  RECOUP_IMPORT_DRY_RUN      = 1 << 1,   /* validate only */
} RecoupImportFlags;

/* One problem of a file, as its parts. */
typedef struct
{
  char  *file;                   /* the path as given */
  guint  line;                   /* where the record starts; 0: the file as a whole */
  char  *column;                 /* as written in the header, "row", "column 13"; NULL with line 0 */
  char  *message;                /* what is wrong and what to do */
  char  *text;                   /* "file:line: column: message", as in problems */
} RecoupImportProblem;

typedef struct
{
  guint      rows;               /* data rows read */
  guint      accounts_created;
  guint      accounts_updated;
  guint      accounts_unchanged;
  guint      invoices_created;
  guint      invoices_updated;
  guint      invoices_unchanged;
  guint      rows_skipped;
  guint      rows_invalid;       /* rows with a problem: skipped with SKIP_INVALID, else why nothing was imported */
  GPtrArray *problems;           /* char*: "file:line: column: message" */
  guint      rows_repeated;      /* exact repeats of an earlier row: ignored */
  GPtrArray *warnings;           /* char*: "file:line: column: message" (unknown columns) */
  GPtrArray *problem_list;       /* RecoupImportProblem*: the same problems, in the same order */
} RecoupImportReport;

/*
 * recoup_import_csv() validates the whole file first and reports every problem;
 * then it applies the file in one transaction, or nothing at all. With
 * RECOUP_IMPORT_SKIP_INVALID the valid rows are applied and the invalid ones
 * are counted in rows_skipped. *out_report is set whenever the file could be
 * read, also when the import is refused (then the created/updated/unchanged
 * counts are zero and problems says why). Progress is reported in units of
 * bytes: the validation pass counts the file once, the writing pass four
 * times (total = 5 × file size; a dry run only validates: total = file size).
 * The format is described in docs/import-format.md.
 */

gboolean  recoup_import_csv          (RecoupBook          *book,
                                      const char          *path,
                                      RecoupImportFlags    flags,
                                      RecoupProgressFunc   progress,
                                      gpointer             progress_data,
                                      GCancellable        *cancellable,
                                      RecoupImportReport **out_report,
                                      GError             **error);
void      recoup_import_report_free  (RecoupImportReport  *report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupImportReport, recoup_import_report_free)

G_END_DECLS
