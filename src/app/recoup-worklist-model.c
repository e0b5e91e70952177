/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-locale-money.h"
#include "recoup-labels.h"
#include "recoup-worklist-model.h"
#include "recoup-score.h"

/* ---- RecoupAccountItem ------------------------------------------------- */

struct _RecoupAccountItem
{
  GObject   parent_instance;

  char     *id;
  char     *name;
  char     *ref;
  char     *currency;
  char     *balance_text;
  char     *detail_text;
  char     *action_text;
  char     *contact_note;
  gboolean  loaded;
  gboolean  contact_blocked;
};

G_DEFINE_FINAL_TYPE (RecoupAccountItem, recoup_account_item, G_TYPE_OBJECT)

enum {
  ITEM_PROP_0,
  ITEM_PROP_NAME,
  ITEM_PROP_REF,
  ITEM_PROP_BALANCE_TEXT,
  ITEM_PROP_DETAIL_TEXT,
  ITEM_PROP_ACTION_TEXT,
  ITEM_PROP_LOADED,
  ITEM_PROP_CONTACT_BLOCKED,
  ITEM_PROP_CONTACT_NOTE,
  ITEM_N_PROPS
};

static GParamSpec *item_props[ITEM_N_PROPS];

static void
recoup_account_item_finalize (GObject *object)
{
  RecoupAccountItem *self = RECOUP_ACCOUNT_ITEM (object);

  g_free (self->id);
  g_free (self->name);
  g_free (self->ref);
  g_free (self->currency);
  g_free (self->balance_text);
  g_free (self->detail_text);
  g_free (self->action_text);
  g_free (self->contact_note);
  G_OBJECT_CLASS (recoup_account_item_parent_class)->finalize (object);
}

static void
recoup_account_item_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  RecoupAccountItem *self = RECOUP_ACCOUNT_ITEM (object);

  switch (prop_id)
    {
    case ITEM_PROP_NAME:
      g_value_set_string (value, self->loaded ? self->name : _("Loading…"));
      break;
    case ITEM_PROP_REF:
      g_value_set_string (value, self->ref);
      break;
    case ITEM_PROP_BALANCE_TEXT:
      g_value_set_string (value, self->balance_text);
      break;
    case ITEM_PROP_DETAIL_TEXT:
      g_value_set_string (value, self->detail_text);
      break;
    case ITEM_PROP_ACTION_TEXT:
      g_value_set_string (value, self->action_text);
      break;
    case ITEM_PROP_LOADED:
      g_value_set_boolean (value, self->loaded);
      break;
    case ITEM_PROP_CONTACT_BLOCKED:
      g_value_set_boolean (value, self->contact_blocked);
      break;
    case ITEM_PROP_CONTACT_NOTE:
      g_value_set_string (value, self->contact_note);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
recoup_account_item_class_init (RecoupAccountItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = recoup_account_item_finalize;
  object_class->get_property = recoup_account_item_get_property;

  item_props[ITEM_PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_REF] =
    g_param_spec_string ("ref", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_BALANCE_TEXT] =
    g_param_spec_string ("balance-text", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_DETAIL_TEXT] =
    g_param_spec_string ("detail-text", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_ACTION_TEXT] =
    g_param_spec_string ("action-text", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_LOADED] =
    g_param_spec_boolean ("loaded", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_CONTACT_BLOCKED] =
    g_param_spec_boolean ("contact-blocked", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_CONTACT_NOTE] =
    g_param_spec_string ("contact-note", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, ITEM_N_PROPS, item_props);
}

static void
recoup_account_item_init (RecoupAccountItem *self)
{
}

const char *
recoup_account_item_get_id (RecoupAccountItem *self)
{
  return self->id;
}

const char *
recoup_account_item_get_name (RecoupAccountItem *self)
{
  return self->name;
}

gboolean
recoup_account_item_get_loaded (RecoupAccountItem *self)
{
  return self->loaded;
}

void
recoup_account_item_set_balance (RecoupAccountItem *self,
                                 gint64             balance)
{
  g_free (self->balance_text);
  self->balance_text = recoup_locale_money_format (balance, self->currency,
                                            RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_BALANCE_TEXT]);
}

/* Whether a call is allowed now and the next step: the guard's verdicts,
 * asked after the page is drawn (recoup_browse_check_calls), so they can
 * change a drawn row. */
static void
account_item_set_contact (RecoupAccountItem     *self,
                          const RecoupBrowseRow *row)
{
  g_free (self->contact_note);
  g_free (self->action_text);
  /* Core's rule (recoup_browse_row_set_call()): none for an account that owes nothing. */
  self->contact_blocked = row->call_warning;
  if (!self->contact_blocked)
    self->contact_note = NULL;
  else if (row->call_reason != NULL)
    self->contact_note = g_strdup_printf (_("No call now: %s"), row->call_reason);
  else if (row->cease_communication)
    self->contact_note = g_strdup (_("The debtor asked not to be contacted"));
  else
    self->contact_note = NULL;
  /* The next step only as the guard lets it be taken now (a blocked call
   * reads when it is allowed, another channel, or no contact); the policy's
   * step alone is never shown, not even until the guard has answered. */
  if (row->next_step != NULL)
    self->action_text = recoup_label_next_step (row->next_step);
  else if (row->call_blocked && !row->cease_communication)
    self->action_text = g_strdup (_("No call now"));
  else
    self->action_text = NULL;
}

/* "ACC-1 · 12 days past due · high priority · do not contact", or
 * "ACC-1 · in credit EUR 724.95 — refund due" */
static void
account_item_set_detail (RecoupAccountItem *self,
                         gint64             balance,
                         int                days_past_due,
                         const char        *segment,
                         gboolean           cease_communication)
{
  const char *priority = recoup_label_priority (segment);
  char *text;

  g_free (self->detail_text);
  if (days_past_due > 0)
    self->detail_text = g_strdup_printf (ngettext ("%s · %d day past due", "%s · %d days past due",
                                                   days_past_due),
                                         self->ref, days_past_due);
  else if (balance > 0)
    self->detail_text = g_strdup_printf (_("%s · not yet due"), self->ref);
  else if (balance < 0)
    {
      g_autofree char *credit = recoup_locale_money_format (-balance, self->currency,
                                                            RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);

      /* Translators: the account's reference, then what the debtor paid
       * over what they owed, e.g. “EUR 724.95” */
      self->detail_text = g_strdup_printf (_("%s · in credit %s — refund due"), self->ref, credit);
    }
  else
    self->detail_text = g_strdup_printf (_("%s · settled"), self->ref);
  if (priority != NULL)
    {
      /* Translators: the account's reference and age, then “high priority” */
      text = g_strdup_printf (_("%s · %s"), self->detail_text, priority);
      g_free (self->detail_text);
      self->detail_text = text;
    }
  if (cease_communication)
    {
      text = g_strdup_printf (_("%s · do not contact"), self->detail_text);
      g_free (self->detail_text);
      self->detail_text = text;
    }
}

/**
 * recoup_account_item_refresh:
 *
 * Brings a drawn row in step with the account page just read after a write:
 * the balance, how late it is and its priority, the next step and whether a
 * call is allowed now. A payment in full makes the row read “settled”, not
 * still “309 days past due · high priority”.
 */
void
recoup_account_item_refresh (RecoupAccountItem    *self,
                             gint64                balance,
                             int                   days_past_due,
                             const char           *segment,
                             const RecoupNextStep *next_step,
                             gboolean              cease_communication,
                             gboolean              call_blocked,
                             const char           *call_reason)
{
  RecoupBrowseRow row = { 0 };

  g_return_if_fail (RECOUP_IS_ACCOUNT_ITEM (self));

  recoup_account_item_set_balance (self, balance);
  account_item_set_detail (self, balance, days_past_due, segment, cease_communication);
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_DETAIL_TEXT]);
  row.balance = balance;
  row.next_step = (RecoupNextStep *) next_step;
  row.cease_communication = cease_communication;
  recoup_browse_row_set_call (&row, call_blocked, call_reason);
  account_item_set_contact (self, &row);
  g_free (row.call_reason);
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_CONTACT_BLOCKED]);
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_CONTACT_NOTE]);
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_ACTION_TEXT]);
}

static void
account_item_update_contact (RecoupAccountItem     *self,
                             const RecoupBrowseRow *row)
{
  if (!self->loaded || g_strcmp0 (self->id, row->id) != 0)
    return;
  account_item_set_contact (self, row);
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_CONTACT_BLOCKED]);
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_CONTACT_NOTE]);
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_ACTION_TEXT]);
}

static void
account_item_fill (RecoupAccountItem     *self,
                   const RecoupBrowseRow *row)
{
  self->id = g_strdup (row->id);
  self->name = g_strdup (row->name);
  self->ref = g_strdup (row->ref);
  self->currency = g_strdup (row->currency);
  self->balance_text = recoup_locale_money_format (row->balance, row->currency,
                                            RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  account_item_set_contact (self, row);
  account_item_set_detail (self, row->balance, row->days_past_due, row->segment, row->cease_communication);
  self->loaded = TRUE;
  for (guint i = 1; i < ITEM_N_PROPS; i++)
    g_object_notify_by_pspec (G_OBJECT (self), item_props[i]);
}

/* ---- RecoupWorklistModel ----------------------------------------------- */

#define MAX_PAGES 32

struct _RecoupWorklistModel
{
  GObject       parent_instance;

  /* Used only in worker threads, under lock. */
  RecoupBook   *book;
  GMutex        lock;

  GCancellable *cancellable;
  GHashTable   *pages;        /* page number -> GPtrArray of RecoupAccountItem */
  GQueue        page_order;   /* page numbers, least recently requested first */
  guint         n_items;
  guint         generation;
  guint         pages_loaded;
  gboolean      count_pending;   /* n_items is an upper bound until counted */
  gboolean      counting;
  gboolean      loading;
  gboolean      open_only;
  gboolean      callable_now;
  char         *search;
  /* A list of the accounts callable now: when a zone's calling hours next
   * open or close (it is read again then), and the earliest opening. */
  RecoupBrowseFlags list_flags;  /* of the list shown (the last reload) */
  gint64        list_at_ms;
  gint64        hours_change_at;
  gint64        hours_opens_at;
  guint         hours_timer_id;

  /* Bringing the derived ranks up to date for today, on a connection of its
   * own; the list shows the previous ranks meanwhile. */
  char         *path;
  GCancellable *update_cancellable;
  GTask        *update_task;
  guint         update_poll_id;
  gboolean      updating;
  gboolean      update_again;   /* asked for while one ran (new weights): another pass follows */
  gboolean      update_failed;
  char         *update_error;   /* why the last update failed, until taken */
  double        update_fraction;
};

static void list_model_iface_init (GListModelInterface *iface);
static void stop_update           (RecoupWorklistModel *self);

G_DEFINE_FINAL_TYPE_WITH_CODE (RecoupWorklistModel, recoup_worklist_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_LOADING,
  PROP_COUNTING,
  PROP_UPDATING,
  PROP_UPDATE_FRACTION,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

typedef struct
{
  guint             generation;
  guint             page;
  char             *search;
  RecoupBrowseFlags flags;
  gint64            at_ms;       /* "now" for the accounts callable now */
  gboolean          stale;
  gboolean          exact;
  char             *path;
  gint64            count;
  gint64            change_at;   /* from the count: recoup_browse_get_hours_change() */
  gint64            opens_at;
  GPtrArray        *rows;
} Job;

static void
job_free (Job *job)
{
  g_free (job->search);
  g_free (job->path);
  g_clear_pointer (&job->rows, g_ptr_array_unref);
  g_free (job);
}

static GType
get_item_type (GListModel *model)
{
  return RECOUP_TYPE_ACCOUNT_ITEM;
}

static guint
get_n_items (GListModel *model)
{
  return RECOUP_WORKLIST_MODEL (model)->n_items;
}

static void
load_page_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  RecoupWorklistModel *self = source_object;
  Job *job = task_data;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;
  g_mutex_lock (&self->lock);
  job->rows = recoup_browse_page (self->book, job->page * RECOUP_WORKLIST_PAGE_SIZE,
                                  RECOUP_WORKLIST_PAGE_SIZE, &error);
  g_mutex_unlock (&self->lock);
  if (job->rows == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* The items of @job's page, or NULL when the list was reloaded or the page
 * dropped since the job started. */
static GPtrArray *
job_items (RecoupWorklistModel *self,
           Job                 *job)
{
  if (job->generation != self->generation)
    return NULL;
  return g_hash_table_lookup (self->pages, GUINT_TO_POINTER (job->page));
}

/* The second step of a page: the guard's verdict for each of its rows. */
static void
check_calls_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  RecoupWorklistModel *self = source_object;
  Job *job = task_data;
  GError *error = NULL;
  gboolean ok;

  if (g_task_return_error_if_cancelled (task))
    return;
  g_mutex_lock (&self->lock);
  ok = recoup_browse_check_calls (self->book, job->rows, &error);
  g_mutex_unlock (&self->lock);
  if (!ok)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
check_calls_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  RecoupWorklistModel *self = RECOUP_WORKLIST_MODEL (object);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  GPtrArray *items;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Could not check whether calls are allowed: %s", error->message);
      return;
    }
  items = job_items (self, job);
  for (guint i = 0; items != NULL && i < items->len && i < job->rows->len; i++)
    account_item_update_contact (g_ptr_array_index (items, i), g_ptr_array_index (job->rows, i));
}

static void
start_check_calls (RecoupWorklistModel *self,
                   Job                 *page_job)
{
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, check_calls_cb, NULL);
  Job *job = g_new0 (Job, 1);

  job->generation = page_job->generation;
  job->page = page_job->page;
  job->rows = g_ptr_array_ref (page_job->rows);
  g_task_set_source_tag (task, start_check_calls);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, check_calls_thread);
}

/* ---- the exact count, after the first page -------------------------------- */

static void
count_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Job *job = task_data;
  GError *error = NULL;
  g_autoptr(RecoupBook) book = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;
  /* On a connection of its own: page reads (a jump down the list) do not
   * wait for it. */
  book = recoup_book_open (job->path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  if (book != NULL &&
      recoup_browse_prepare_full (book, NULL, job->flags, job->at_ms, &job->exact, cancellable, &error) >= 0)
    {
      job->count = recoup_browse_count (book, &error);
      job->change_at = recoup_browse_get_hours_change (book, &job->opens_at);
    }
  else
    job->count = -1;
  if (job->count < 0)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
set_counting (RecoupWorklistModel *self,
              gboolean             counting)
{
  if (self->counting == counting)
    return;
  self->counting = counting;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COUNTING]);
}

static gboolean
hours_changed_cb (gpointer data)
{
  RecoupWorklistModel *self = data;

  self->hours_timer_id = 0;
  recoup_worklist_model_reload (self);
  return G_SOURCE_REMOVE;
}

/* The list of the accounts callable now is read again when a zone's calling
 * hours open or close, or an account's call history stops blocking a call
 * (recoup_browse_get_hours_change(); a second late, so that the guard
 * agrees). A suspended machine's timer runs late:
 * recoup_worklist_model_check_hours() catches up. */
static void
set_hours_change (RecoupWorklistModel *self,
                  Job                 *job)
{
  gint64 wait_ms;

  if (!(job->flags & RECOUP_BROWSE_CALLABLE_NOW))
    return;
  self->hours_change_at = job->change_at;
  self->hours_opens_at = job->opens_at;
  g_clear_handle_id (&self->hours_timer_id, g_source_remove);
  if (job->change_at == 0)
    return;
  wait_ms = MAX (0, job->change_at - job->at_ms);
  self->hours_timer_id = g_timeout_add_seconds ((guint) MIN (wait_ms / 1000 + 1, G_MAXUINT), hours_changed_cb, self);
}

static void
count_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  RecoupWorklistModel *self = RECOUP_WORKLIST_MODEL (object);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  guint n;

  /* A reload cancelled it: the new list counts its own rows. */
  if (!g_task_propagate_boolean (G_TASK (result), &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (job->generation != self->generation)
    return;
  if (error != NULL)
    {
      /* The upper bound stays (the count is a nicety; the rows past the
       * end show as loading), but the list no longer says it is counting. */
      g_message ("Could not count accounts: %s", error->message);
      set_counting (self, FALSE);
      return;
    }
  set_hours_change (self, job);
  n = (guint) MIN (job->count, G_MAXUINT);
  if (n == self->n_items)
    {
      set_counting (self, FALSE);
      return;
    }
  /* Pages past the end hold rows that are not there. */
  if (n < self->n_items)
    {
      guint old_n = self->n_items;
      guint last_page = n / RECOUP_WORKLIST_PAGE_SIZE;
      GPtrArray *items = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (last_page));
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, self->pages);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (GPOINTER_TO_UINT (key) > last_page)
          {
            g_queue_remove (&self->page_order, key);
            g_hash_table_iter_remove (&iter);
          }
      if (items != NULL && items->len > n % RECOUP_WORKLIST_PAGE_SIZE)
        g_ptr_array_set_size (items, n % RECOUP_WORKLIST_PAGE_SIZE);
      self->n_items = n;
      self->counting = FALSE;
      g_list_model_items_changed (G_LIST_MODEL (self), n, old_n - n, 0);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COUNTING]);
    }
  else
    {
      /* More rows than the bound (accounts added meanwhile): read afresh. */
      recoup_worklist_model_reload (self);
    }
}

static void
start_count (RecoupWorklistModel *self)
{
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, count_cb, NULL);
  Job *job = g_new0 (Job, 1);

  self->count_pending = FALSE;
  job->generation = self->generation;
  job->path = g_strdup (self->path);
  job->flags = self->list_flags;
  job->at_ms = self->list_at_ms;
  g_task_set_source_tag (task, start_count);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, count_thread);
}

static void
load_page_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  RecoupWorklistModel *self = RECOUP_WORKLIST_MODEL (object);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  GPtrArray *items;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_warning ("Could not read accounts: %s", error->message);
    }
  else if ((items = job_items (self, job)) != NULL)
    {
      for (guint i = 0; i < items->len && i < job->rows->len; i++)
        account_item_fill (g_ptr_array_index (items, i), g_ptr_array_index (job->rows, i));
      self->pages_loaded++;
      start_check_calls (self, job);
    }
  /* The list is drawn with an upper bound of its length; the count (a
   * second on a cold million-row index) comes after the first page read,
   * or failed to be read: it always runs. */
  if (self->count_pending && job->generation == self->generation)
    start_count (self);
}

static void
evict_pages (RecoupWorklistModel *self,
             guint                keep)
{
  while (g_queue_get_length (&self->page_order) > MAX_PAGES)
    {
      guint page = GPOINTER_TO_UINT (g_queue_pop_head (&self->page_order));

      if (page == keep)
        {
          g_queue_push_tail (&self->page_order, GUINT_TO_POINTER (page));
          continue;
        }
      g_hash_table_remove (self->pages, GUINT_TO_POINTER (page));
    }
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  RecoupWorklistModel *self = RECOUP_WORKLIST_MODEL (model);
  guint page = position / RECOUP_WORKLIST_PAGE_SIZE;
  GPtrArray *items;

  if (position >= self->n_items)
    return NULL;

  items = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (page));
  if (items == NULL)
    {
      g_autoptr(GTask) task = NULL;
      Job *job = g_new0 (Job, 1);
      guint n = MIN (RECOUP_WORKLIST_PAGE_SIZE, self->n_items - page * RECOUP_WORKLIST_PAGE_SIZE);

      items = g_ptr_array_new_full (n, g_object_unref);
      for (guint i = 0; i < n; i++)
        g_ptr_array_add (items, g_object_new (RECOUP_TYPE_ACCOUNT_ITEM, NULL));
      g_hash_table_insert (self->pages, GUINT_TO_POINTER (page), items);
      g_queue_push_tail (&self->page_order, GUINT_TO_POINTER (page));
      evict_pages (self, page);

      job->generation = self->generation;
      job->page = page;
      task = g_task_new (self, self->cancellable, load_page_cb, NULL);
      g_task_set_source_tag (task, get_item);
      g_task_set_task_data (task, job, (GDestroyNotify) job_free);
      g_task_run_in_thread (task, load_page_thread);
    }

  return g_object_ref (g_ptr_array_index (items, position % RECOUP_WORKLIST_PAGE_SIZE));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
recoup_worklist_model_dispose (GObject *object)
{
  RecoupWorklistModel *self = RECOUP_WORKLIST_MODEL (object);

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->update_cancellable);
  stop_update (self);
  g_clear_handle_id (&self->hours_timer_id, g_source_remove);
  G_OBJECT_CLASS (recoup_worklist_model_parent_class)->dispose (object);
}

static void
recoup_worklist_model_finalize (GObject *object)
{
  RecoupWorklistModel *self = RECOUP_WORKLIST_MODEL (object);

  g_clear_object (&self->book);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->update_cancellable);
  g_free (self->path);
  g_clear_pointer (&self->pages, g_hash_table_unref);
  g_queue_clear (&self->page_order);
  g_free (self->search);
  g_mutex_clear (&self->lock);
  g_free (self->update_error);
  G_OBJECT_CLASS (recoup_worklist_model_parent_class)->finalize (object);
}

static void
recoup_worklist_model_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  RecoupWorklistModel *self = RECOUP_WORKLIST_MODEL (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    case PROP_COUNTING:
      g_value_set_boolean (value, self->counting);
      break;
    case PROP_UPDATING:
      g_value_set_boolean (value, self->updating);
      break;
    case PROP_UPDATE_FRACTION:
      g_value_set_double (value, self->update_fraction);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
recoup_worklist_model_class_init (RecoupWorklistModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = recoup_worklist_model_dispose;
  object_class->finalize = recoup_worklist_model_finalize;
  object_class->get_property = recoup_worklist_model_get_property;

  props[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* Whether the number of items is still an upper bound being counted. */
  props[PROP_COUNTING] =
    g_param_spec_boolean ("counting", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_UPDATING] =
    g_param_spec_boolean ("updating", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_UPDATE_FRACTION] =
    g_param_spec_double ("update-fraction", NULL, NULL, 0, 1, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
recoup_worklist_model_init (RecoupWorklistModel *self)
{
  g_mutex_init (&self->lock);
  self->cancellable = g_cancellable_new ();
  self->pages = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_ptr_array_unref);
  g_queue_init (&self->page_order);
  self->open_only = TRUE;
}

RecoupWorklistModel *
recoup_worklist_model_new (const char  *book_path,
                           GError     **error)
{
  g_autoptr(RecoupWorklistModel) self = g_object_new (RECOUP_TYPE_WORKLIST_MODEL, NULL);

  self->book = recoup_book_open (book_path, RECOUP_BOOK_OPEN_NO_CREATE, error);
  if (self->book == NULL)
    return NULL;
  self->path = g_strdup (book_path);
  return g_steal_pointer (&self);
}

/* ---- bringing the ranks up to date ------------------------------------- */

typedef struct
{
  char                *path;
  RecoupWorklistModel *model;      /* weak, touched in the main thread only */
  gint                 permille;   /* atomic: progress, written by the worker */
  gboolean             current;    /* the ranks are today's and the settings' now */
} UpdateJob;

static void
update_job_free (UpdateJob *job)
{
  g_free (job->path);
  g_clear_weak_pointer (&job->model);
  g_free (job);
}

static void
update_progress (guint64  done,
                 guint64  total,
                 gpointer user_data)
{
  UpdateJob *job = user_data;

  if (total > 0)
    g_atomic_int_set (&job->permille, (gint) MIN (1000, done * 1000 / total));
}

static gboolean
update_poll_cb (gpointer data)
{
  RecoupWorklistModel *self = data;
  UpdateJob *job = g_task_get_task_data (self->update_task);
  double fraction = g_atomic_int_get (&job->permille) / 1000.0;

  if (fraction != self->update_fraction)
    {
      self->update_fraction = fraction;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_UPDATE_FRACTION]);
    }
  return G_SOURCE_CONTINUE;
}

static void
update_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  UpdateJob *job = task_data;
  GError *error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  gint64 t0 = g_get_monotonic_time ();

  book = recoup_book_open (job->path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  if (book == NULL || !recoup_score_update_detached (book, update_progress, job, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_debug ("ranks brought up to date in %.0f ms", (g_get_monotonic_time () - t0) / 1000.0);
  /* Not so on a read-only book, or when the settings changed meanwhile. */
  job->current = recoup_score_is_current (book);
  g_task_return_boolean (task, TRUE);
}

static void
stop_update (RecoupWorklistModel *self)
{
  g_clear_handle_id (&self->update_poll_id, g_source_remove);
  g_clear_object (&self->update_task);
  self->updating = FALSE;
}

static void
update_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  UpdateJob *job = g_task_get_task_data (G_TASK (result));
  RecoupWorklistModel *self = job->model;
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  gboolean again;

  if (self == NULL || self->update_task != G_TASK (result))
    return;
  again = self->update_again;
  self->update_again = FALSE;
  stop_update (self);
  if (!ok && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* The previous ranks stay; only the user tries again (Reload, new
       * weights) or the next start. */
      g_message ("Could not bring the worklist up to date: %s", error->message);
      self->update_failed = TRUE;
      g_free (self->update_error);
      self->update_error = g_strdup (error->message);
    }
  /* No second pass on its own (a read-only book would loop); Reload or new
   * weights start one, also when they came while this one ran. */
  if (ok && !job->current && !again)
    self->update_failed = TRUE;
  self->update_fraction = ok ? 1.0 : 0.0;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_UPDATING]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_UPDATE_FRACTION]);
  if (ok)
    recoup_worklist_model_reload (self);
}

static void
start_update (RecoupWorklistModel *self)
{
  UpdateJob *job;

  if (self->updating || self->update_failed || self->path == NULL)
    return;
  job = g_new0 (UpdateJob, 1);
  job->path = g_strdup (self->path);
  g_set_weak_pointer (&job->model, self);
  g_clear_object (&self->update_cancellable);
  self->update_cancellable = g_cancellable_new ();
  self->updating = TRUE;
  self->update_fraction = 0;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_UPDATING]);

  /* No source object: closing the window cancels the rebuild (dispose)
   * instead of waiting for it. */
  self->update_task = g_task_new (NULL, self->update_cancellable, update_done_cb, NULL);
  g_task_set_source_tag (self->update_task, start_update);
  g_task_set_task_data (self->update_task, job, (GDestroyNotify) update_job_free);
  g_task_run_in_thread (self->update_task, update_thread);
  self->update_poll_id = g_timeout_add (250, update_poll_cb, self);
}

static void
prepare_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  RecoupWorklistModel *self = source_object;
  Job *job = task_data;
  GError *error = NULL;

  g_mutex_lock (&self->lock);
  /* The snapshot a search builds is the connection's: a reload begun since
   * (which cancelled this one) may have built its own already, which this
   * one would replace under it. */
  if (g_task_return_error_if_cancelled (task))
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  gint64 t0 = g_get_monotonic_time ();

  /* Days past due move every day, so the derived ranks of another day are
   * rebuilt; that takes half a minute on a million accounts, so the list
   * shows the ranks it has and the rebuild runs beside it (update_thread). */
  job->stale = !recoup_score_is_current (self->book);
  job->count = recoup_browse_prepare_full (self->book, job->search, job->flags, job->at_ms, &job->exact,
                                           cancellable, &error);
  if (job->count >= 0 && job->exact)
    job->change_at = recoup_browse_get_hours_change (self->book, &job->opens_at);
  g_mutex_unlock (&self->lock);
  g_debug ("worklist of %" G_GINT64_FORMAT " rows ready after %.0f ms", job->count,
           (g_get_monotonic_time () - t0) / 1000.0);
  if (job->count < 0)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
prepare_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  RecoupWorklistModel *self = RECOUP_WORKLIST_MODEL (object);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  guint old_n;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Could not list accounts: %s", error->message);
      return;
    }
  if (job->generation != self->generation)
    return;

  old_n = self->n_items;
  g_hash_table_remove_all (self->pages);
  g_queue_clear (&self->page_order);
  self->n_items = (guint) MIN (job->count, G_MAXUINT);
  self->loading = FALSE;
  /* Set before the change is told: a view reads them as it redraws. */
  self->count_pending = !job->exact;
  self->counting = !job->exact;
  g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, self->n_items);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_LOADING]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COUNTING]);
  /* Without a view that reads a page (none shown, or an empty bound), the
   * count starts now. */
  if (self->count_pending && g_hash_table_size (self->pages) == 0)
    start_count (self);
  if (job->exact)
    set_hours_change (self, job);
  if (job->stale)
    start_update (self);
}

void
recoup_worklist_model_reload (RecoupWorklistModel *self)
{
  g_autoptr(GTask) task = NULL;
  Job *job = g_new0 (Job, 1);

  g_return_if_fail (RECOUP_IS_WORKLIST_MODEL (self));

  /* Page reads of the old snapshot are useless now. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->generation++;
  self->loading = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_LOADING]);

  /* Until counted, the hours of a list read before do not hold. */
  g_clear_handle_id (&self->hours_timer_id, g_source_remove);
  self->hours_change_at = self->hours_opens_at = 0;
  self->list_flags = (self->open_only ? RECOUP_BROWSE_OPEN_ONLY : 0) |
                     (self->callable_now ? RECOUP_BROWSE_CALLABLE_NOW : 0);
  self->list_at_ms = g_get_real_time () / 1000;

  job->generation = self->generation;
  job->search = g_strdup (self->search);
  job->flags = self->list_flags;
  job->at_ms = self->list_at_ms;
  task = g_task_new (self, self->cancellable, prepare_cb, NULL);
  g_task_set_source_tag (task, recoup_worklist_model_reload);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, prepare_thread);
}

void
recoup_worklist_model_set_search (RecoupWorklistModel *self,
                                  const char          *search)
{
  g_return_if_fail (RECOUP_IS_WORKLIST_MODEL (self));

  if (g_strcmp0 (self->search, search) == 0)
    return;
  g_free (self->search);
  self->search = g_strdup (search);
  recoup_worklist_model_reload (self);
}

void
recoup_worklist_model_set_open_only (RecoupWorklistModel *self,
                                     gboolean             open_only)
{
  g_return_if_fail (RECOUP_IS_WORKLIST_MODEL (self));

  if (self->open_only == !!open_only)
    return;
  self->open_only = !!open_only;
  recoup_worklist_model_reload (self);
}

/**
 * recoup_worklist_model_set_callable_now:
 *
 * Lists only the accounts a call is lawful for now, as far as the calling
 * hours in their zones and the flags that stop every call say
 * (%RECOUP_BROWSE_CALLABLE_NOW); read again whenever those hours open or
 * close in a zone of theirs, or the call history of an account it leaves out
 * stops blocking a call.
 */
void
recoup_worklist_model_set_callable_now (RecoupWorklistModel *self,
                                        gboolean             callable_now)
{
  g_return_if_fail (RECOUP_IS_WORKLIST_MODEL (self));

  if (self->callable_now == !!callable_now)
    return;
  self->callable_now = !!callable_now;
  recoup_worklist_model_reload (self);
}

/* Reads the list again if the calling hours opened or closed in a zone of
 * its accounts since it was read (after a suspend, when its timer ran late). */
void
recoup_worklist_model_check_hours (RecoupWorklistModel *self)
{
  g_return_if_fail (RECOUP_IS_WORKLIST_MODEL (self));

  if (self->callable_now && !self->loading && self->hours_change_at != 0 &&
      g_get_real_time () / 1000 >= self->hours_change_at)
    recoup_worklist_model_reload (self);
}

/* For a list of the accounts callable now, once counted: the earliest instant
 * (UTC ms) the calling hours open in a zone of its accounts where they are
 * closed; 0 when unknown or never. */
gint64
recoup_worklist_model_get_hours_opens_at (RecoupWorklistModel *self)
{
  g_return_val_if_fail (RECOUP_IS_WORKLIST_MODEL (self), 0);

  return self->hours_opens_at;
}

gboolean
recoup_worklist_model_get_callable_now (RecoupWorklistModel *self)
{
  g_return_val_if_fail (RECOUP_IS_WORKLIST_MODEL (self), FALSE);

  return self->callable_now;
}

/* Stops bringing the ranks up to date (the rebuild is rolled back; the list
 * keeps the previous ranks until recoup_worklist_model_update_ranks()). */
void
recoup_worklist_model_stop_update (RecoupWorklistModel *self)
{
  g_return_if_fail (RECOUP_IS_WORKLIST_MODEL (self));

  if (!self->updating)
    return;
  self->update_failed = TRUE;
  self->update_again = FALSE;
  g_cancellable_cancel (self->update_cancellable);
  stop_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_UPDATING]);
}

/* Why the last background update failed (once: the caller shows it), or NULL. */
char *
recoup_worklist_model_take_update_error (RecoupWorklistModel *self)
{
  g_return_val_if_fail (RECOUP_IS_WORKLIST_MODEL (self), NULL);

  return g_steal_pointer (&self->update_error);
}

/* Reloads, and re-ranks in the background if the ranks are not current (a
 * new day, or new scoring weights), even after a stop. */
void
recoup_worklist_model_update_ranks (RecoupWorklistModel *self)
{
  g_return_if_fail (RECOUP_IS_WORKLIST_MODEL (self));

  self->update_failed = FALSE;
  /* A rebuild under way reads the weights it started with. */
  self->update_again = self->updating;
  recoup_worklist_model_reload (self);
}

/* Whether the number of items is still an upper bound being counted. */
gboolean
recoup_worklist_model_is_counting (RecoupWorklistModel *self)
{
  return self->counting;
}

gboolean
recoup_worklist_model_is_updating (RecoupWorklistModel *self)
{
  return self->updating;
}

/* Whether the item at @position is filled, without asking for its page. */
gboolean
recoup_worklist_model_is_position_loaded (RecoupWorklistModel *self,
                                          guint                position)
{
  GPtrArray *items;

  if (position >= self->n_items)
    return FALSE;
  items = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (position / RECOUP_WORKLIST_PAGE_SIZE));
  return items != NULL && position % RECOUP_WORKLIST_PAGE_SIZE < items->len &&
         recoup_account_item_get_loaded (g_ptr_array_index (items, position % RECOUP_WORKLIST_PAGE_SIZE));
}

/* How many times the list was read afresh: a reload begun since a value was
 * taken makes it larger. */
guint
recoup_worklist_model_get_generation (RecoupWorklistModel *self)
{
  return self->generation;
}

gboolean
recoup_worklist_model_is_loading (RecoupWorklistModel *self)
{
  return self->loading;
}

guint
recoup_worklist_model_get_pages_loaded (RecoupWorklistModel *self)
{
  return self->pages_loaded;
}
