/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-export.h"

RecoupExportSpec *
recoup_export_spec_new (RecoupExportKind    kind,
                        RecoupReportFormat  format,
                        const char         *from,
                        const char         *to,
                        const char         *path)
{
  RecoupExportSpec *spec = g_new0 (RecoupExportSpec, 1);

  spec->kind = kind;
  spec->format = format;
  spec->from = g_strdup (from);
  spec->to = g_strdup (to);
  spec->path = g_strdup (path);
  return spec;
}

RecoupExportSpec *
recoup_export_spec_new_statement (RecoupReportFormat  format,
                                  const char         *account_id,
                                  const char         *from,
                                  const char         *to,
                                  const char         *path)
{
  RecoupExportSpec *spec = recoup_export_spec_new (RECOUP_EXPORT_STATEMENT, format, from, to, path);

  spec->account_id = g_strdup (account_id);
  return spec;
}

void
recoup_export_spec_free (RecoupExportSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->account_id);
  g_free (spec->from);
  g_free (spec->to);
  g_free (spec->path);
  g_free (spec);
}

const char *
recoup_export_kind_title (RecoupExportKind kind)
{
  switch (kind)
    {
    case RECOUP_EXPORT_AGING:
      return _("Aging Report");
    case RECOUP_EXPORT_PAYMENTS:
      return _("Payments Report");
    case RECOUP_EXPORT_STATEMENT:
      return _("Statement");
    case RECOUP_EXPORT_STATEMENTS:
    default:
      return _("Statements");
    }
}

char *
recoup_export_default_name (RecoupExportKind  kind,
                            const char       *from,
                            const char       *to)
{
  switch (kind)
    {
    case RECOUP_EXPORT_AGING:
      return g_strdup_printf ("aging-%s", to);
    case RECOUP_EXPORT_PAYMENTS:
      return g_strdup_printf ("payments-%s-to-%s", from, to);
    case RECOUP_EXPORT_STATEMENT:
      return g_strdup_printf ("statement-%s-to-%s", from, to);
    case RECOUP_EXPORT_STATEMENTS:
    default:
      return g_strdup_printf ("statements-%s-to-%s", from, to);
    }
}

static RecoupPaper
paper_for (const RecoupBusinessInfo *business)
{
  RecoupPaper paper;

  if (business->paper != NULL && recoup_paper_from_string (business->paper, &paper))
    return paper;
  return recoup_paper_for_locale ();
}

gboolean
recoup_export_run (RecoupBook              *book,
                   const RecoupExportSpec  *spec,
                   RecoupProgressFunc       progress,
                   gpointer                 progress_data,
                   GCancellable            *cancellable,
                   GError                 **error)
{
  g_autoptr(RecoupBusinessInfo) business = NULL;
  RecoupPaper paper;

  if (!recoup_period_validate (spec->from, spec->to, error))
    return FALSE;
  business = recoup_business_info_load (book);
  paper = paper_for (business);

  switch (spec->kind)
    {
    case RECOUP_EXPORT_AGING:
      {
        g_autoptr(GPtrArray) rows = recoup_aging_report (book, spec->to, RECOUP_AGING_BY_ACCOUNT, error);

        if (rows == NULL || g_cancellable_set_error_if_cancelled (cancellable, error))
          return FALSE;
        if (progress)
          progress (0, 1, progress_data);
        if (!recoup_aging_report_write (rows, spec->to, RECOUP_AGING_BY_ACCOUNT, business,
                                        spec->format, paper, spec->path, error))
          return FALSE;
        if (progress)
          progress (1, 1, progress_data);
        return TRUE;
      }
    case RECOUP_EXPORT_PAYMENTS:
      {
        g_autoptr(GPtrArray) rows = recoup_payments_report (book, spec->from, spec->to, error);

        if (rows == NULL || g_cancellable_set_error_if_cancelled (cancellable, error))
          return FALSE;
        if (progress)
          progress (0, 1, progress_data);
        if (!recoup_payments_report_write (rows, spec->from, spec->to, business,
                                           spec->format, paper, spec->path, error))
          return FALSE;
        if (progress)
          progress (1, 1, progress_data);
        return TRUE;
      }
    case RECOUP_EXPORT_STATEMENT:
      {
        g_autoptr(RecoupStatement) st = recoup_statement_build (book, spec->account_id, spec->from, spec->to, error);
        g_autoptr(RecoupStatementWriter) writer = NULL;

        if (st == NULL || g_cancellable_set_error_if_cancelled (cancellable, error))
          return FALSE;
        if (!(writer = recoup_statement_writer_new (spec->path, spec->format, paper, business, error))
            || !recoup_statement_writer_add (writer, st, error))
          return FALSE;
        if (progress)
          progress (1, 1, progress_data);
        return recoup_statement_writer_finish (writer, error);
      }
    case RECOUP_EXPORT_STATEMENTS:
    default:
      {
        g_autoptr(GPtrArray) ids = recoup_statement_accounts_with_balance (book, spec->to, error);
        g_autoptr(RecoupStatementWriter) writer = NULL;

        if (ids == NULL)
          return FALSE;
        if (ids->len == 0)
          {
            g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                         _("No account has a balance on %s: there are no statements to export. "
                           "Pick a later end of the period."), spec->to);
            return FALSE;
          }
        if (!(writer = recoup_statement_writer_new (spec->path, spec->format, paper, business, error)))
          return FALSE;
        for (guint i = 0; i < ids->len; i++)
          {
            g_autoptr(RecoupStatement) st = NULL;

            /* Freeing the unfinished writer removes its temporary file. */
            if (g_cancellable_set_error_if_cancelled (cancellable, error))
              return FALSE;
            if (!(st = recoup_statement_build (book, g_ptr_array_index (ids, i), spec->from, spec->to, error))
                || !recoup_statement_writer_add (writer, st, error))
              return FALSE;
            if (progress)
              progress (i + 1, ids->len, progress_data);
          }
        return recoup_statement_writer_finish (writer, error);
      }
    }
}

/* ---- In the session's worker -------------------------------------------------- */

struct _RecoupExportJob
{
  RecoupExportSpec *spec;
  GCancellable     *cancellable;
  gint              done;      /* atomic */
  gint              total;     /* atomic */
};

static void
job_progress (guint64  done,
              guint64  total,
              gpointer user_data)
{
  RecoupExportJob *job = user_data;

  g_atomic_int_set (&job->total, (gint) MIN (total, G_MAXINT));
  g_atomic_int_set (&job->done, (gint) MIN (done, G_MAXINT));
}

static gboolean
job_run (RecoupBook  *book,
         gpointer     user_data,
         GError     **error)
{
  RecoupExportJob *job = user_data;

  return recoup_export_run (book, job->spec, job_progress, job, job->cancellable, error);
}

RecoupExportJob *
recoup_export_job_start (RecoupSession       *session,
                         RecoupExportSpec    *spec,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  RecoupExportJob *job = g_new0 (RecoupExportJob, 1);

  job->spec = spec;
  job->cancellable = g_cancellable_new ();
  recoup_session_run_async (session, job_run, job, NULL, NULL, callback, user_data);
  return job;
}

double
recoup_export_job_get_fraction (RecoupExportJob *job)
{
  gint total = g_atomic_int_get (&job->total);
  gint done = g_atomic_int_get (&job->done);

  return total > 0 ? (double) done / (double) total : 0.0;
}

void
recoup_export_job_cancel (RecoupExportJob *job)
{
  g_cancellable_cancel (job->cancellable);
}

const RecoupExportSpec *
recoup_export_job_get_spec (RecoupExportJob *job)
{
  return job->spec;
}

gboolean
recoup_export_job_finish (RecoupExportJob  *job,
                          GAsyncResult     *result,
                          GError          **error)
{
  gboolean ok = g_task_propagate_boolean (G_TASK (result), error);

  recoup_export_spec_free (job->spec);
  g_object_unref (job->cancellable);
  g_free (job);
  return ok;
}
