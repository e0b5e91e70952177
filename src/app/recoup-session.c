/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include "recoup-session.h"

struct _RecoupSession
{
  GObject     parent_instance;

  RecoupBook *book;     /* used in worker threads only, under lock */
  GMutex      lock;
  char       *path;
  guint       n_writes;
};

G_DEFINE_FINAL_TYPE (RecoupSession, recoup_session, G_TYPE_OBJECT)

void
recoup_account_data_free (RecoupAccountData *data)
{
  if (data == NULL)
    return;
  g_clear_pointer (&data->account, recoup_account_free);
  g_clear_pointer (&data->contacts, g_ptr_array_unref);
  g_clear_pointer (&data->invoices, g_ptr_array_unref);
  g_clear_pointer (&data->ledger, g_ptr_array_unref);
  g_clear_pointer (&data->activities, g_ptr_array_unref);
  g_free (data->aging.currency);
  g_free (data->today);
  g_free (data->payment_date_floor);
  g_clear_pointer (&data->promises, g_ptr_array_unref);
  g_clear_pointer (&data->offers, g_ptr_array_unref);
  g_clear_pointer (&data->disputes, g_ptr_array_unref);
  g_clear_pointer (&data->review, g_ptr_array_unref);
  g_clear_pointer (&data->user, recoup_user_free);
  for (guint i = 0; i < G_N_ELEMENTS (data->verdicts); i++)
    g_clear_pointer (&data->verdicts[i], recoup_guard_verdict_free);
  g_clear_pointer (&data->score, recoup_score_explanation_free);
  g_clear_pointer (&data->next_step, recoup_next_step_free);
  g_free (data);
}

RecoupGuardVerdict *
recoup_account_data_get_verdict (RecoupAccountData *data,
                                 const char        *channel)
{
  for (guint i = 0; recoup_guard_channels[i] != NULL && i < G_N_ELEMENTS (data->verdicts); i++)
    if (g_strcmp0 (recoup_guard_channels[i], channel) == 0)
      return data->verdicts[i];
  return NULL;
}

static void
recoup_session_finalize (GObject *object)
{
  RecoupSession *self = RECOUP_SESSION (object);

  g_clear_object (&self->book);
  g_free (self->path);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (recoup_session_parent_class)->finalize (object);
}

static void
recoup_session_class_init (RecoupSessionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = recoup_session_finalize;
}

static void
recoup_session_init (RecoupSession *self)
{
  g_mutex_init (&self->lock);
}

RecoupSession *
recoup_session_new (const char  *path,
                    GError     **error)
{
  g_autoptr(RecoupSession) self = g_object_new (RECOUP_TYPE_SESSION, NULL);

  self->book = recoup_book_open (path, RECOUP_BOOK_OPEN_DEFAULT, error);
  if (self->book == NULL)
    return NULL;
  self->path = g_strdup (path);
  return g_steal_pointer (&self);
}

const char *
recoup_session_get_path (RecoupSession *self)
{
  return self->path;
}

gboolean
recoup_session_set_user (RecoupSession  *self,
                         const char     *user,
                         GError        **error)
{
  gboolean ok;

  g_mutex_lock (&self->lock);
  ok = recoup_book_set_user (self->book, user, error);
  g_mutex_unlock (&self->lock);
  return ok;
}

guint
recoup_session_get_n_writes (RecoupSession *self)
{
  return self->n_writes;
}

static gboolean
load_account (RecoupBook         *book,
              const char         *account_id,
              RecoupAccountData  *data,
              GError            **error)
{
  data->today = recoup_book_today (book);
  data->account = recoup_account_load (book, account_id, error);
  if (data->account == NULL)
    return FALSE;
  {
    RecoupGuardPolicy policy = { 0 };

    recoup_guard_policy_load (book, &policy);
    data->zone = recoup_guard_debtor_zone (&policy, data->account->timezone);
    recoup_guard_policy_clear (&policy);
  }
  if ((data->contacts = recoup_contact_list (book, account_id, error)) == NULL)
    return FALSE;
  if (!recoup_ledger_account_aging (book, account_id, data->today, &data->aging, error))
    return FALSE;
  /* The dialogs check offers and promises against what core will hold them
   * to (recoup_offer_create, recoup_promise_add), not the as-of-today total. */
  if (!recoup_ledger_balance (book, account_id, NULL, &data->owed, error))
    return FALSE;
  data->offer_first_date_tolerance =
    recoup_settings_get_int (book, "offer.first_date_tolerance_days", RECOUP_OFFER_DEFAULT_FIRST_DATE_TOLERANCE,
                             0, 3650);
  if ((data->invoices = recoup_ledger_invoice_balances (book, account_id, data->today, error)) == NULL)
    return FALSE;
  if (!(data->payment_date_floor = recoup_ledger_date_floor (book, account_id, data->today, error)))
    return FALSE;
  if ((data->ledger = recoup_ledger_list (book, account_id, error)) == NULL)
    return FALSE;
  if ((data->activities = recoup_activity_list (book, account_id, 100, error)) == NULL)
    return FALSE;
  if ((data->user = recoup_user_load (book, recoup_book_get_user_id (book), error)) == NULL)
    return FALSE;
  for (guint i = 0; recoup_guard_channels[i] != NULL && i < G_N_ELEMENTS (data->verdicts); i++)
    if (!recoup_guard_check (book, account_id, recoup_guard_channels[i], 0,
                             recoup_book_get_user_id (book), &data->verdicts[i], error))
      return FALSE;
  if ((data->promises = recoup_promise_list (book, account_id, data->today, error)) == NULL)
    return FALSE;
  if ((data->offers = recoup_offer_list (book, account_id, data->today, error)) == NULL)
    return FALSE;
  if ((data->disputes = recoup_dispute_list (book, account_id, error)) == NULL)
    return FALSE;
  if ((data->review = recoup_review_list_open (book, account_id, error)) == NULL)
    return FALSE;
  /* The explanation is a nicety: an account page without it is still useful. */
  {
    g_autoptr(GError) score_error = NULL;

    data->score = recoup_score_explain (book, account_id, &score_error);
    if (data->score == NULL)
      g_debug ("No score for %s: %s", account_id, score_error->message);
    else if (data->score->next_action != NULL &&
             !(data->next_step = recoup_next_step_get (book, account_id, data->score->next_action,
                                                       data->score->next_action_reason, 0,
                                                       recoup_book_get_user_id (book), &score_error)))
      g_debug ("No next step for %s: %s", account_id, score_error->message);
  }
  return TRUE;
}

static void
load_account_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  RecoupSession *self = source_object;
  g_autoptr(RecoupAccountData) data = g_new0 (RecoupAccountData, 1);
  GError *error = NULL;
  gboolean ok;

  if (g_task_return_error_if_cancelled (task))
    return;
  g_mutex_lock (&self->lock);
  ok = load_account (self->book, task_data, data, &error);
  g_mutex_unlock (&self->lock);
  if (!ok)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&data), (GDestroyNotify) recoup_account_data_free);
}

void
recoup_session_load_account_async (RecoupSession       *self,
                                   const char          *account_id,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, recoup_session_load_account_async);
  g_task_set_task_data (task, g_strdup (account_id), g_free);
  g_task_run_in_thread (task, load_account_thread);
}

RecoupAccountData *
recoup_session_load_account_finish (RecoupSession  *self,
                                    GAsyncResult   *result,
                                    GError        **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  RecoupSessionFunc func;
  gpointer          data;
  GDestroyNotify    data_free;
} RunData;

static void
run_data_free (RunData *run)
{
  if (run->data_free != NULL)
    run->data_free (run->data);
  g_free (run);
}

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  RecoupSession *self = source_object;
  RunData *run = task_data;
  GError *error = NULL;
  gboolean ok;

  g_mutex_lock (&self->lock);
  ok = run->func (self->book, run->data, &error);
  g_mutex_unlock (&self->lock);
  if (!ok)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
run_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
}

void
recoup_session_run_async (RecoupSession       *self,
                          RecoupSessionFunc    func,
                          gpointer             data,
                          GDestroyNotify       data_free,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback != NULL ? callback : run_done_cb, user_data);
  RunData *run = g_new0 (RunData, 1);

  run->func = func;
  run->data = data;
  run->data_free = data_free;
  self->n_writes++;
  g_task_set_source_tag (task, recoup_session_run_async);
  g_task_set_task_data (task, run, (GDestroyNotify) run_data_free);
  g_task_run_in_thread (task, run_thread);
}

void
recoup_session_read_async (RecoupSession       *self,
                           RecoupSessionFunc    func,
                           gpointer             data,
                           GDestroyNotify       data_free,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  recoup_session_run_async (self, func, data, data_free, cancellable, callback, user_data);
  self->n_writes--;
}

gboolean
recoup_session_run_finish (RecoupSession  *self,
                           GAsyncResult   *result,
                           GError        **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
