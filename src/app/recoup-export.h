/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "recoup-report.h"
#include "recoup-session.h"

G_BEGIN_DECLS

/*
 * The dashboard's exports: the aging report (as of the period's end), the
 * payments report of the period, and the statements of every account with a
 * balance as one file; and the account page's statement of one account. librecoup-report renders; files are written atomically,
 * so a cancelled or failed export leaves nothing behind.
 */

typedef enum
{
  RECOUP_EXPORT_AGING,
  RECOUP_EXPORT_PAYMENTS,
  RECOUP_EXPORT_STATEMENTS,
  RECOUP_EXPORT_STATEMENT,     /* of one account */
} RecoupExportKind;

typedef struct
{
  RecoupExportKind    kind;
  RecoupReportFormat  format;
  char               *from;   /* the period; aging is as of @to */
  char               *to;
  char               *path;
  char               *account_id;   /* RECOUP_EXPORT_STATEMENT */
} RecoupExportSpec;

RecoupExportSpec *recoup_export_spec_new  (RecoupExportKind    kind,
                                           RecoupReportFormat  format,
                                           const char         *from,
                                           const char         *to,
                                           const char         *path);
RecoupExportSpec *recoup_export_spec_new_statement (RecoupReportFormat  format,
                                                   const char         *account_id,
                                                   const char         *from,
                                                   const char         *to,
                                                   const char         *path);
void              recoup_export_spec_free (RecoupExportSpec   *spec);
const char       *recoup_export_kind_title (RecoupExportKind  kind);
/* "aging-2026-11-30", without an extension. */
char             *recoup_export_default_name (RecoupExportKind  kind,
                                              const char       *from,
                                              const char       *to);

/* The file an export of @format writes when the user chose @typed: its
 * report extension (pdf, xlsx, csv) replaced by @format's, or @format's
 * added. */
char             *recoup_export_path_for  (const char          *typed,
                                           RecoupReportFormat   format);

/* Calls @ready with recoup_export_path_for()'s path, at once when it is the
 * one the file chooser confirmed or no file has that name; otherwise only
 * once the user agrees to replace that file. @notify frees @user_data. */
typedef void (*RecoupExportPathReady) (const char          *path,
                                       RecoupReportFormat   format,
                                       gpointer             user_data);
void              recoup_export_confirm_path (GtkWindow            *parent,
                                              const char           *typed,
                                              RecoupReportFormat    format,
                                              RecoupExportPathReady ready,
                                              gpointer              user_data,
                                              GDestroyNotify        notify);

/* Runs in the calling thread. @progress gets (done, total) from this thread;
 * @cancellable is checked between statements and before writing. */
gboolean          recoup_export_run       (RecoupBook              *book,
                                           const RecoupExportSpec  *spec,
                                           RecoupProgressFunc       progress,
                                           gpointer                 progress_data,
                                           GCancellable            *cancellable,
                                           GError                 **error);

/* The same in the session's worker; progress is readable from the main thread
 * through recoup_export_job_get_fraction() while it runs. */
typedef struct _RecoupExportJob RecoupExportJob;

RecoupExportJob  *recoup_export_job_start  (RecoupSession          *session,
                                            RecoupExportSpec       *spec,      /* taken */
                                            GAsyncReadyCallback     callback,
                                            gpointer                user_data);
double            recoup_export_job_get_fraction (RecoupExportJob  *job);
void              recoup_export_job_cancel (RecoupExportJob        *job);
const RecoupExportSpec *recoup_export_job_get_spec (RecoupExportJob *job);
/* Call from the callback: frees the job. */
gboolean          recoup_export_job_finish (RecoupExportJob        *job,
                                            GAsyncResult           *result,
                                            GError                **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupExportSpec, recoup_export_spec_free)

G_END_DECLS
