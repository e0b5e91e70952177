/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "recoup-kpi.h"
#include "recoup-statement.h"

G_BEGIN_DECLS

/*
 * librecoup-report: renders what core computes (recoup-statement.h,
 * recoup-kpi.h) as PDF (cairo + pango), CSV (RFC 4180), XLSX (libxlsxwriter)
 * and JSON. It computes no number of its own.
 *
 * Files are written atomically: into a temporary file in the destination's
 * folder, renamed over the destination only when complete. A failure (bad
 * input, a full disk, an unwritable folder) leaves no file behind.
 *
 * Money in CSV and JSON is recoup_money_format() text / integer minor units.
 * In XLSX a money cell is a NUMBER so that sums work, with the currency's
 * decimals: minor / 10^digits, the double nearest the decimal amount (exact
 * below RECOUP_MONEY_LIMIT; a sum beyond it is written as text, never
 * rounded). CSV keeps stable machine names (headers, ledger kinds); PDF and
 * XLSX carry titles for people (see docs/kpis.md, "File formats").
 */

typedef enum
{
  RECOUP_REPORT_PDF,
  RECOUP_REPORT_CSV,
  RECOUP_REPORT_XLSX,
  RECOUP_REPORT_JSON,
} RecoupReportFormat;

typedef enum
{
  RECOUP_PAPER_A4,
  RECOUP_PAPER_LETTER,
} RecoupPaper;

gboolean     recoup_report_format_from_string (const char          *text,
                                               RecoupReportFormat  *out_format);
const char  *recoup_report_format_extension   (RecoupReportFormat   format);

/* Letter where the paper locale's territory is US or CA (LC_PAPER, else
 * LC_ALL, else LANG), A4 everywhere else. */
RecoupPaper  recoup_paper_for_locale          (void);
gboolean     recoup_paper_from_string         (const char          *text,
                                               RecoupPaper         *out_paper);

/* ---- Statements ------------------------------------------------------------ */

typedef struct _RecoupStatementWriter RecoupStatementWriter;

/* Starts one file holding one or more statements (PDF: each from a new page;
 * CSV / XLSX: one table with the account in its first columns; JSON: an array). */
RecoupStatementWriter *recoup_statement_writer_new    (const char               *path,
                                                       RecoupReportFormat        format,
                                                       RecoupPaper               paper,
                                                       const RecoupBusinessInfo *business,
                                                       GError                  **error);
gboolean               recoup_statement_writer_add    (RecoupStatementWriter    *writer,
                                                       const RecoupStatement    *statement,
                                                       GError                  **error);
/* Completes the file and renames it into place. */
gboolean               recoup_statement_writer_finish (RecoupStatementWriter    *writer,
                                                       GError                  **error);
/* Completes the current file and starts another (a batch of one file per
 * account: the PDF renderer keeps its laid-out text across files). */
gboolean               recoup_statement_writer_next_file (RecoupStatementWriter *writer,
                                                       const char               *path,
                                                       GError                  **error);
/* Frees; removes the temporary file when not finished. */
void                   recoup_statement_writer_free   (RecoupStatementWriter    *writer);

JsonNode              *recoup_statement_to_json       (const RecoupStatement    *statement);

/* ---- Reports --------------------------------------------------------------- */

gboolean     recoup_aging_report_write    (GPtrArray                *rows,
                                           const char               *as_of,
                                           RecoupAgingGroup          group,
                                           const RecoupBusinessInfo *business,
                                           RecoupReportFormat        format,
                                           RecoupPaper               paper,
                                           const char               *path,
                                           GError                  **error);
gboolean     recoup_payments_report_write (GPtrArray                *rows,
                                           const char               *from,
                                           const char               *to,
                                           const RecoupBusinessInfo *business,
                                           RecoupReportFormat        format,
                                           RecoupPaper               paper,
                                           const char               *path,
                                           GError                  **error);

JsonNode    *recoup_kpis_to_json          (GPtrArray                *kpis);
/* CSV or JSON; @path NULL or "-" writes to standard output. */
gboolean     recoup_kpi_write             (GPtrArray                *kpis,
                                           RecoupReportFormat        format,
                                           const char               *path,
                                           GError                  **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupStatementWriter, recoup_statement_writer_free)

G_END_DECLS
