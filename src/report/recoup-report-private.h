/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <stdio.h>

#include "recoup-report.h"

G_BEGIN_DECLS

/* A file written under a temporary name in its destination's folder. */
typedef struct
{
  char *path;
  char *tmp;
  FILE *fp;
} RecoupAtomicFile;

RecoupAtomicFile *recoup_atomic_file_open   (const char        *path,
                                             GError           **error);
gboolean          recoup_atomic_file_commit (RecoupAtomicFile  *file,
                                             GError           **error);
void              recoup_atomic_file_abort  (RecoupAtomicFile  *file);

/* One RFC 4180 record: fields quoted when they need it, CRLF at the end. */
void              recoup_csv_row            (FILE              *fp,
                                             const char * const *fields,
                                             guint              n_fields);

/* "Current", "1-30", … "181+": the app's and core's bucket names
 * (recoup_aging_bucket_label ()) as a column title. */
char             *recoup_report_bucket_title (guint             bucket);

/* PDF through cairo + pango. */
typedef struct _RecoupPdf RecoupPdf;

typedef struct
{
  const char *header;
  double      width;      /* a share of the text width (0: hidden); shares sum to 1 */
  gboolean    right;      /* right-aligned (numbers) */
  gboolean    one_line;   /* text kept on one line (receipt numbers, references), see fit_table () */
} RecoupPdfColumn;

RecoupPdf        *recoup_pdf_new            (FILE                     *fp,
                                             RecoupPaper               paper,
                                             gboolean                  landscape,
                                             const RecoupBusinessInfo *business);
void              recoup_pdf_restart        (RecoupPdf                *pdf,
                                             FILE                     *fp);
void              recoup_pdf_statement      (RecoupPdf                *pdf,
                                             const RecoupStatement    *statement);
/* A tabular report from a new page: @rows and @totals (bold, nullable) hold
 * NULL-terminated string vectors. The columns are sized to their widest text,
 * the totals' included, so every amount reads on its own (see fit_table ()). */
void              recoup_pdf_table_report   (RecoupPdf                *pdf,
                                             const char               *title,
                                             const char               *subtitle,
                                             const RecoupPdfColumn    *columns,
                                             guint                     n_columns,
                                             GPtrArray                *rows,
                                             GPtrArray                *totals);
gboolean          recoup_pdf_finish         (RecoupPdf                *pdf,
                                             GError                  **error);
void              recoup_pdf_free           (RecoupPdf                *pdf);

G_END_DECLS
