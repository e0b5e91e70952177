/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

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
  self->balance_text = recoup_money_format (balance, self->currency,
                                            RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_BALANCE_TEXT]);
}

static void
account_item_fill (RecoupAccountItem     *self,
                   const RecoupBrowseRow *row)
{
  self->id = g_strdup (row->id);
  self->name = g_strdup (row->name);
  self->ref = g_strdup (row->ref);
  self->currency = g_strdup (row->currency);
  self->balance_text = recoup_money_format (row->balance, row->currency,
                                            RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  self->contact_blocked = row->cease_communication;
  if (row->days_past_due > 0)
    self->detail_text = g_strdup_printf (ngettext ("%s · %d day past due", "%s · %d days past due",
                                                   row->days_past_due),
                                         row->ref, row->days_past_due);
  else if (row->balance > 0)
    self->detail_text = g_strdup_printf (_("%s · not yet due"), row->ref);
  else
    self->detail_text = g_strdup_printf (_("%s · settled"), row->ref);
  if (row->segment != NULL && *row->segment != '\0' && g_strcmp0 (row->segment, "none") != 0)
    {
      char *text = g_strdup_printf (_("%s · %s priority"), self->detail_text, row->segment);

      g_free (self->detail_text);
      self->detail_text = text;
    }
  if (row->next_action != NULL)
    self->action_text = g_strdup_printf (_("Next: %s"), row->next_action);
  if (row->cease_communication)
    {
      char *text = g_strdup_printf (_("%s · do not contact"), self->detail_text);

      g_free (self->detail_text);
      self->detail_text = text;
    }
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
  gboolean      loading;
  gboolean      open_only;
  char         *search;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RecoupWorklistModel, recoup_worklist_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_LOADING,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

typedef struct
{
  guint      generation;
  guint      page;
  char      *search;
  gboolean   open_only;
  gint64     count;
  GPtrArray *rows;
} Job;

static void
job_free (Job *job)
{
  g_free (job->search);
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
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Could not read accounts: %s", error->message);
      return;
    }
  if (job->generation != self->generation)
    return;
  items = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (job->page));
  if (items == NULL)
    return;
  for (guint i = 0; i < items->len && i < job->rows->len; i++)
    account_item_fill (g_ptr_array_index (items, i), g_ptr_array_index (job->rows, i));
  self->pages_loaded++;
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
  G_OBJECT_CLASS (recoup_worklist_model_parent_class)->dispose (object);
}

static void
recoup_worklist_model_finalize (GObject *object)
{
  RecoupWorklistModel *self = RECOUP_WORKLIST_MODEL (object);

  g_clear_object (&self->book);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->pages, g_hash_table_unref);
  g_queue_clear (&self->page_order);
  g_free (self->search);
  g_mutex_clear (&self->lock);
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
  return g_steal_pointer (&self);
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
  gint64 t0 = g_get_monotonic_time ();

  /* Days past due move every day: derived data from another day is rebuilt
   * (once a day; long on a big book, so here in the worker). */
  if (!recoup_score_ensure_current (self->book, NULL, NULL, &error))
    {
      g_mutex_unlock (&self->lock);
      g_task_return_error (task, error);
      return;
    }
  g_debug ("derived data current after %.0f ms", (g_get_monotonic_time () - t0) / 1000.0);
  job->count = recoup_browse_prepare (self->book, job->search, job->open_only, cancellable, &error);
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
  g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, self->n_items);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_LOADING]);
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

  job->generation = self->generation;
  job->search = g_strdup (self->search);
  job->open_only = self->open_only;
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
