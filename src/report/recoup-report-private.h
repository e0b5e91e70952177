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

/* PDF through cairo + pango. */
typedef struct _RecoupPdf RecoupPdf;

typedef struct
{
  const char *header;
  double      width;      /* a share of the text width; shares sum to 1 */
  gboolean    right;      /* right-aligned (numbers) */
} RecoupPdfColumn;

RecoupPdf        *recoup_pdf_new            (FILE                     *fp,
                                             RecoupPaper               paper,
                                             gboolean                  landscape,
                                             const RecoupBusinessInfo *business);
void              recoup_pdf_restart        (RecoupPdf                *pdf,
                                             FILE                     *fp);
void              recoup_pdf_statement      (RecoupPdf                *pdf,
                                             const RecoupStatement    *statement);
/* A tabular report: rows are NULL-terminated string vectors; @totals nullable. */
void              recoup_pdf_table_report   (RecoupPdf                *pdf,
                                             const char               *title,
                                             const char               *subtitle,
                                             const RecoupPdfColumn    *columns,
                                             guint                     n_columns,
                                             GPtrArray                *rows,
                                             char                    **totals);
gboolean          recoup_pdf_finish         (RecoupPdf                *pdf,
                                             GError                  **error);
void              recoup_pdf_free           (RecoupPdf                *pdf);

G_END_DECLS
