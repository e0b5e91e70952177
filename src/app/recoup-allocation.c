/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-locale-money.h"
#include "recoup-allocation.h"

/* Allocation of a payment, shown before it is saved (a preview that core
 * computes inside a rolled-back transaction) and on the account page after. */

static void
line_free (RecoupAllocationLine *line)
{
  g_free (line->ref);
  g_free (line->due_date);
  g_free (line);
}

void
recoup_allocation_free (RecoupAllocation *allocation)
{
  if (allocation == NULL)
    return;
  g_clear_pointer (&allocation->lines, g_ptr_array_unref);
  g_free (allocation->currency);
  g_free (allocation->date);
  g_free (allocation);
}

static RecoupInvoiceBalance *
find_invoice (GPtrArray  *list,
              const char *id)
{
  for (guint i = 0; i < list->len; i++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (list, i);

      if (g_strcmp0 (ib->id, id) == 0)
        return ib;
    }
  return NULL;
}

RecoupAllocation *
recoup_allocation_run (RecoupBook            *book,
                       const RecoupEntrySpec *spec,
                       const char            *currency,
                       gboolean               commit,
                       GError               **error)
{
  g_autoptr(RecoupAllocation) allocation = g_new0 (RecoupAllocation, 1);
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autofree char *today = recoup_book_today (book);
  g_autofree char *entry_id = NULL;
  const char *as_of;
  gint64 applied = 0;

  /* Balances on the later of today and the payment's date, so it counts. */
  as_of = spec->effective_date != NULL && g_strcmp0 (spec->effective_date, today) > 0
          ? spec->effective_date : today;
  if ((before = recoup_ledger_invoice_balances (book, spec->account_id, as_of, error)) == NULL)
    return NULL;
  if (!recoup_book_begin (book, error))
    return NULL;
  if ((entry_id = recoup_ledger_record (book, spec, error)) == NULL
      || (after = recoup_ledger_invoice_balances (book, spec->account_id, as_of, error)) == NULL)
    {
      recoup_book_rollback (book);
      return NULL;
    }
  if (commit)
    {
      if (!recoup_book_commit (book, error))
        return NULL;
    }
  else
    recoup_book_rollback (book);

  allocation->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);
  allocation->amount = spec->amount;
  allocation->currency = g_strdup (currency);
  allocation->date = g_strdup (spec->effective_date != NULL ? spec->effective_date : today);
  for (guint i = 0; i < after->len; i++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (after, i);
      RecoupInvoiceBalance *was = find_invoice (before, ib->id);
      gint64 paid = was != NULL ? was->balance - ib->balance : 0;
      RecoupAllocationLine *line;

      if (paid == 0 && ib->balance <= 0)
        continue;
      line = g_new0 (RecoupAllocationLine, 1);
      line->ref = g_strdup (ib->ref);
      line->due_date = g_strdup (ib->due_date);
      line->applied = paid;
      line->balance = ib->balance;
      applied += paid;
      g_ptr_array_add (allocation->lines, line);
    }
  allocation->credit = spec->amount - applied;
  return g_steal_pointer (&allocation);
}

/* ---- the group --------------------------------------------------------- */

typedef struct
{
  GPtrArray     *rows;
  RecoupSession *session;
  GCancellable  *cancellable;
  char          *account_id;
  char          *currency;
  char          *date;
  gint64         amount;
  guint          timeout_id;
  guint          requested;
  guint          shown;
} GroupState;

static void
group_state_free (GroupState *st)
{
  g_clear_handle_id (&st->timeout_id, g_source_remove);
  if (st->cancellable != NULL)
    g_cancellable_cancel (st->cancellable);
  g_clear_object (&st->cancellable);
  g_clear_pointer (&st->rows, g_ptr_array_unref);
  g_clear_object (&st->session);
  g_free (st->account_id);
  g_free (st->currency);
  g_free (st->date);
  g_free (st);
}

static GroupState *
group_state (GtkWidget *group)
{
  return g_object_get_data (G_OBJECT (group), "recoup-allocation");
}

GtkWidget *
recoup_allocation_group_new (const char *title)
{
  GtkWidget *group = adw_preferences_group_new ();
  GroupState *st = g_new0 (GroupState, 1);

  st->rows = g_ptr_array_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  gtk_widget_set_name (group, "allocation");
  g_object_set_data_full (G_OBJECT (group), "recoup-allocation", st, (GDestroyNotify) group_state_free);
  return group;
}

static char *
money (gint64      minor,
       const char *currency)
{
  return recoup_locale_money_format (minor, currency, RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
}

static GtkWidget *
add_row (GtkWidget  *group,
         GroupState *st,
         const char *title,
         const char *subtitle,
         const char *value,
         const char *css)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *label = gtk_label_new (value);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_add_css_class (label, "numeric");
  if (css != NULL)
    gtk_widget_add_css_class (label, css);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  g_ptr_array_add (st->rows, row);
  return row;
}

void
recoup_allocation_group_show (GtkWidget        *group,
                              RecoupAllocation *allocation,
                              const char       *placeholder)
{
  GroupState *st = group_state (group);

  for (guint i = 0; i < st->rows->len; i++)
    adw_preferences_group_remove (ADW_PREFERENCES_GROUP (group), g_ptr_array_index (st->rows, i));
  g_ptr_array_set_size (st->rows, 0);

  if (allocation == NULL)
    {
      adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), placeholder);
      return;
    }
  {
    g_autofree char *amount = money (allocation->amount, allocation->currency);
    g_autofree char *text = g_strdup_printf (_("%s on %s, oldest invoices first"), amount, allocation->date);

    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), text);
  }
  for (guint i = 0; i < allocation->lines->len; i++)
    {
      RecoupAllocationLine *line = g_ptr_array_index (allocation->lines, i);
      /* What the payment takes off, signed as the ledger shows a payment. */
      g_autofree char *taken = money (-line->applied, allocation->currency);
      g_autofree char *open = money (line->balance, allocation->currency);
      g_autofree char *subtitle = NULL;
      g_autofree char *value = NULL;
      GtkWidget *row;

      if (line->applied != 0 && line->balance <= 0)
        subtitle = g_strdup_printf (_("due %s · paid in full"), line->due_date);
      else if (line->applied != 0)
        subtitle = g_strdup_printf (_("due %s · %s still open"), line->due_date, open);
      else
        subtitle = g_strdup_printf (_("due %s · untouched, %s open"), line->due_date, open);
      value = line->applied != 0 ? g_strdup (taken) : g_strdup ("—");
      row = add_row (group, st, line->ref, subtitle, value, line->applied != 0 ? "success" : "dim-label");
      gtk_widget_set_name (row, line->ref);
    }
  if (allocation->credit > 0)
    {
      g_autofree char *credit = money (allocation->credit, allocation->currency);

      add_row (group, st, _("Credit on the account"), _("More than the invoices owe; kept for later charges"),
               credit, "warning");
    }
  if (allocation->lines->len == 0 && allocation->credit <= 0)
    add_row (group, st, _("No open invoices"), NULL, "", NULL);
}

typedef struct
{
  RecoupEntrySpec  spec;
  char            *account_id;
  char            *date;
  char            *currency;
  RecoupAllocation *result;
} PreviewJob;

static void
preview_job_free (PreviewJob *job)
{
  g_free (job->account_id);
  g_free (job->date);
  g_free (job->currency);
  g_clear_pointer (&job->result, recoup_allocation_free);
  g_free (job);
}

static gboolean
preview_run (RecoupBook  *book,
             gpointer     data,
             GError     **error)
{
  PreviewJob *job = data;

  job->spec.account_id = job->account_id;
  job->spec.effective_date = job->date;
  job->result = recoup_allocation_run (book, &job->spec, job->currency, FALSE, error);
  return job->result != NULL;
}

typedef struct
{
  GtkWidget  *group;
  guint       generation;
  PreviewJob *job;    /* owned by the task */
} PreviewCall;

static void
preview_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  PreviewCall *call = user_data;
  GroupState *st = group_state (call->group);
  g_autoptr(GError) error = NULL;
  gboolean ok = recoup_session_run_finish (RECOUP_SESSION (object), result, &error);

  if (st != NULL && call->generation == st->requested)
    {
      if (ok)
        recoup_allocation_group_show (call->group, call->job->result, NULL);
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        recoup_allocation_group_show (call->group, NULL, error->message);
      st->shown = call->generation;
    }
  g_object_unref (call->group);
  g_free (call);
}

static gboolean
preview_timeout_cb (gpointer user_data)
{
  GtkWidget *group = user_data;
  GroupState *st = group_state (group);
  PreviewJob *job = g_new0 (PreviewJob, 1);
  PreviewCall *call = g_new0 (PreviewCall, 1);

  st->timeout_id = 0;
  job->spec.kind = RECOUP_ENTRY_PAYMENT;
  job->spec.amount = st->amount;
  job->spec.method = "other";
  job->account_id = g_strdup (st->account_id);
  job->date = g_strdup (st->date);
  job->currency = g_strdup (st->currency);
  call->group = g_object_ref (group);
  call->generation = st->requested;
  call->job = job;
  if (st->cancellable != NULL)
    g_cancellable_cancel (st->cancellable);
  g_clear_object (&st->cancellable);
  st->cancellable = g_cancellable_new ();
  recoup_session_read_async (st->session, preview_run, job, (GDestroyNotify) preview_job_free,
                            st->cancellable, preview_done_cb, call);
  return G_SOURCE_REMOVE;
}

void
recoup_allocation_group_request (GtkWidget     *group,
                                 RecoupSession *session,
                                 const char    *account_id,
                                 const char    *currency,
                                 gint64         amount,
                                 const char    *date)
{
  GroupState *st = group_state (group);

  st->requested++;
  g_clear_handle_id (&st->timeout_id, g_source_remove);
  if (amount <= 0 || date == NULL)
    {
      recoup_allocation_group_show (group, NULL, _("Enter an amount and a date to see which invoices the payment pays."));
      st->shown = st->requested;
      return;
    }
  g_set_object (&st->session, session);
  g_free (st->account_id);
  st->account_id = g_strdup (account_id);
  g_free (st->currency);
  st->currency = g_strdup (currency);
  g_free (st->date);
  st->date = g_strdup (date);
  st->amount = amount;
  st->timeout_id = g_timeout_add (150, preview_timeout_cb, group);
}

gboolean
recoup_allocation_group_is_current (GtkWidget *group)
{
  GroupState *st = group_state (group);

  return st->shown == st->requested && st->timeout_id == 0;
}
