/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <string.h>

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
        g_autoptr(GPtrArray) ids = recoup_statement_accounts_for_period (book, spec->from, spec->to, error);
        g_autoptr(RecoupStatementWriter) writer = NULL;

        if (ids == NULL)
          return FALSE;
        if (ids->len == 0)
          {
            g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                         /* Translators: the period's end, then its start, YYYY-MM-DD */
                         _("No account has a balance on %s or an entry since %s: there are no "
                           "statements to export. Pick another period."), spec->to, spec->from);
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

/* ---- Where to write ------------------------------------------------------------ */

char *
recoup_export_path_for (const char         *typed,
                        RecoupReportFormat  format)
{
  g_autofree char *stem = g_strdup (typed);
  char *dot = strrchr (stem, '.');
  g_autofree char *ext = dot != NULL ? g_ascii_strdown (dot + 1, -1) : NULL;
  RecoupReportFormat named;

  if (dot != NULL && strchr (dot, G_DIR_SEPARATOR) == NULL && recoup_report_format_from_string (ext, &named))
    *dot = '\0';
  return g_strdup_printf ("%s.%s", stem, recoup_report_format_extension (format));
}

typedef struct
{
  char                  *path;
  RecoupReportFormat     format;
  RecoupExportPathReady  ready;
  gpointer               user_data;
  GDestroyNotify         notify;
} PathAsk;

static void
path_ask_free (PathAsk *ask)
{
  if (ask->notify != NULL)
    ask->notify (ask->user_data);
  g_free (ask->path);
  g_free (ask);
}

static void
replace_response_cb (AdwMessageDialog *dialog,
                     const char       *response,
                     PathAsk          *ask)
{
  g_signal_handlers_disconnect_by_data (dialog, ask);
  if (g_str_equal (response, "replace"))
    ask->ready (ask->path, ask->format, ask->user_data);
  path_ask_free (ask);
}

void
recoup_export_confirm_path (GtkWindow             *parent,
                            const char            *typed,
                            RecoupReportFormat     format,
                            RecoupExportPathReady  ready,
                            gpointer               user_data,
                            GDestroyNotify         notify)
{
  PathAsk *ask = g_new0 (PathAsk, 1);
  g_autofree char *base = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  ask->path = recoup_export_path_for (typed, format);
  ask->format = format;
  ask->ready = ready;
  ask->user_data = user_data;
  ask->notify = notify;
  /* The chooser asked about the name it was given; a name the format
   * changed may be another file, which is not replaced unasked. */
  if (g_str_equal (ask->path, typed) || !g_file_test (ask->path, G_FILE_TEST_EXISTS))
    {
      ready (ask->path, format, user_data);
      path_ask_free (ask);
      return;
    }
  base = g_path_get_basename (ask->path);
  dir = g_path_get_dirname (ask->path);
  body = g_strdup_printf (_("The %s format is saved as “%s”, and a file of that name already exists in %s. "
                            "Replacing it overwrites what it holds."),
                          recoup_report_format_extension (format), base, dir);
  dialog = adw_message_dialog_new (parent, _("Replace the Existing File?"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "replace", _("_Replace"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "replace", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  gtk_widget_set_name (dialog, "replace-file");
  g_signal_connect (dialog, "response", G_CALLBACK (replace_response_cb), ask);
  gtk_window_present (GTK_WINDOW (dialog));
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
