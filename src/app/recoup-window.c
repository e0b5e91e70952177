/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-approvals.h"
#include "recoup-dashboard-page.h"
#include "recoup-remind-window.h"
#include "recoup-sync-indicator.h"
#include "recoup-window-private.h"

G_DEFINE_FINAL_TYPE (RecoupWindow, recoup_window, ADW_TYPE_APPLICATION_WINDOW)

RecoupSession *
recoup_window_get_session (RecoupWindow *self)
{
  return self->session;
}

RecoupWorklistModel *
recoup_window_get_model (RecoupWindow *self)
{
  return self->model;
}

GtkListView *
recoup_window_get_list_view (RecoupWindow *self)
{
  return self->list_view;
}

const char *
recoup_window_get_account_id (RecoupWindow *self)
{
  return self->account_id;
}

RecoupAccountData *
recoup_window_get_account_data (RecoupWindow *self)
{
  return self->data;
}


GtkWindow *
recoup_window_get_dialog (RecoupWindow *self)
{
  return self->dialog;
}

guint
recoup_window_get_n_loads (RecoupWindow *self)
{
  return self->n_loads;
}

guint
recoup_window_get_n_imports (RecoupWindow *self)
{
  return self->n_imports;
}

const char *
recoup_window_get_last_toast (RecoupWindow *self)
{
  return self->last_toast;
}

const char *
recoup_window_get_last_error (RecoupWindow *self)
{
  return self->last_error;
}

static void
show_toast (RecoupWindow *self,
            AdwToast     *toast)
{
  g_free (self->last_toast);
  self->last_toast = g_strdup (adw_toast_get_title (toast));
  adw_toast_set_timeout (toast, 4);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
recoup_window_toast (RecoupWindow *self,
                     const char   *message)
{
  show_toast (self, adw_toast_new (message));
}

/* A toast whose Undo button activates @action_name with @target (floating,
 * taken): shown at once, not queued behind others, while the write it takes
 * back is the last one the user made. */
void
recoup_window_toast_undo (RecoupWindow *self,
                          const char   *message,
                          const char   *action_name,
                          GVariant     *target)
{
  AdwToast *toast = adw_toast_new (message);

  adw_toast_set_button_label (toast, _("_Undo"));
  adw_toast_set_action_name (toast, action_name);
  adw_toast_set_action_target_value (toast, target);
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  show_toast (self, toast);
}

void
recoup_window_show_error (RecoupWindow *self,
                          const GError *error)
{
  g_free (self->last_error);
  self->last_error = g_strdup (error->message);
  g_message ("%s", error->message);
  recoup_window_toast (self, error->message);
}

/* “21:00”, today in the user's zone, or “Tue 08:00”. */
static char *
format_opens_at (gint64 at_ms)
{
  g_autoptr(GDateTime) at = g_date_time_new_from_unix_local (at_ms / 1000);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (at == NULL || now == NULL)
    return NULL;
  if (g_date_time_get_day_of_year (at) == g_date_time_get_day_of_year (now) &&
      g_date_time_get_year (at) == g_date_time_get_year (now))
    return g_date_time_format (at, "%H:%M");
  /* Translators: a weekday and a time, as strftime() writes them: “Tue 08:00” */
  return g_date_time_format (at, _("%a %H:%M"));
}

/* An empty list during a search says that nothing matches it, not that the
 * book is empty, and names the filters that may hide the account sought,
 * with a button that lifts them; a list of the accounts callable now, when
 * the hours open. */
static void
update_empty_page (RecoupWindow *self)
{
  g_autofree char *search = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry))));
  g_autofree char *description = NULL;
  gboolean callable_now = recoup_worklist_model_get_callable_now (self->model);
  gboolean owing_only = g_settings_get_boolean (self->settings, "open-only");

  gtk_widget_set_visible (self->search_all_button, *search != '\0' && (callable_now || owing_only));
  if (*search == '\0' && callable_now)
    {
      gint64 opens_at = recoup_worklist_model_get_hours_opens_at (self->model);
      g_autofree char *when = opens_at != 0 ? format_opens_at (opens_at) : NULL;

      adw_status_page_set_title (self->empty_page, _("No Account Can Be Called Now"));
      if (when != NULL)
        description = g_markup_printf_escaped (_("The calling hours are closed where the debtors live, or their "
                                                 "accounts may not be called. The next hours open at %s."), when);
      else
        description = g_strdup (_("The calling hours are closed where the debtors live, or their accounts may "
                                  "not be called."));
      adw_status_page_set_description (self->empty_page, description);
      return;
    }
  if (*search == '\0')
    {
      adw_status_page_set_title (self->empty_page, _("No Accounts"));
      adw_status_page_set_description (self->empty_page,
                                       _("The book has no open accounts yet. Import a CSV file from the main menu."));
      return;
    }
  /* The descriptions are markup. */
  if (callable_now)
    description = g_markup_printf_escaped (_("No account that may be called now matches “%s”. Accounts outside "
                                             "their calling hours, or that may not be called, are left out of "
                                             "this list."), search);
  else if (owing_only)
    description = g_markup_printf_escaped (_("No account that owes matches “%s”. Settled accounts and accounts "
                                             "in credit are left out of this list."), search);
  else
    description = g_markup_printf_escaped (_("No account matches “%s”. Search for the start of a name or of a "
                                             "word in it, a reference, an invoice or receipt number, an e-mail "
                                             "address or a phone number."), search);
  adw_status_page_set_title (self->empty_page, _("No Matching Accounts"));
  adw_status_page_set_description (self->empty_page, description);
}

/* The empty page's button: the same search over every account, for as long
 * as the search lasts (search_changed_cb() puts the filters back). */
static void
search_all_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  RecoupWindow *self = RECOUP_WINDOW (widget);

  self->lifted_callable_now |= g_settings_get_boolean (self->settings, "callable-now");
  self->lifted_open_only |= g_settings_get_boolean (self->settings, "open-only");
  g_settings_set_boolean (self->settings, "callable-now", FALSE);
  g_settings_set_boolean (self->settings, "open-only", FALSE);
}

static void
update_list_state (RecoupWindow *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model));
  g_autofree char *subtitle = NULL;

  if (recoup_worklist_model_is_loading (self->model) && n == 0)
    gtk_stack_set_visible_child_name (self->list_stack, "loading");
  else if (n == 0)
    {
      update_empty_page (self);
      gtk_stack_set_visible_child_name (self->list_stack, "empty");
    }
  else
    gtk_stack_set_visible_child_name (self->list_stack, "list");

  if (recoup_worklist_model_is_counting (self->model))
    subtitle = g_strdup (_("Counting accounts…"));
  else if (recoup_worklist_model_get_callable_now (self->model))
    /* The guard still blocks some of them for their own history: those rows
     * say so. */
    subtitle = g_strdup_printf (ngettext ("%'u account in calling hours", "%'u accounts in calling hours", n), n);
  else
    /* %'u: grouped by the locale (973,023 or 973.023). */
    subtitle = g_strdup_printf (ngettext ("%'u account", "%'u accounts", n), n);
  adw_window_title_set_subtitle (self->list_title, subtitle);
}

/* A day's first start: the ranks are rebuilt beside the list (the model's
 * "updating"); say so, with how far it got. */
static void
update_state_cb (RecoupWindow *self)
{
  g_autofree char *failure = recoup_worklist_model_take_update_error (self->model);
  double fraction = 0;

  if (failure != NULL)
    {
      /* The list keeps the last computed order. */
      g_autofree char *text = g_strdup_printf (_("Today's priorities could not be updated: %s. "
                                                 "Refresh (F5) tries again."), failure);

      recoup_window_toast (self, text);
    }
  g_object_get (self->model, "update-fraction", &fraction, NULL);
  gtk_revealer_set_reveal_child (self->update_revealer, recoup_worklist_model_is_updating (self->model));
  gtk_progress_bar_set_fraction (self->update_bar, fraction);
}

/* How far down a reloaded list the shown account is looked for: within its
 * first page. */
#define RESELECT_WITHIN 100
G_STATIC_ASSERT (RESELECT_WITHIN <= RECOUP_WORKLIST_PAGE_SIZE);

static void
reselect_item (RecoupWindow      *self,
               RecoupAccountItem *item,
               guint              position)
{
  if (gtk_single_selection_get_selected (self->selection) == GTK_INVALID_LIST_POSITION &&
      recoup_account_item_get_loaded (item) &&
      g_strcmp0 (recoup_account_item_get_id (item), self->account_id) == 0)
    gtk_single_selection_set_selected (self->selection, position);
}

static void
reselect_loaded_cb (RecoupAccountItem *item,
                    GParamSpec        *pspec,
                    RecoupWindow      *self)
{
  guint position = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (item), "recoup-position"));
  g_autoptr(RecoupAccountItem) now = NULL;

  g_signal_handlers_disconnect_by_func (item, reselect_loaded_cb, self);
  /* The list may have changed again since: ask the row now at that place. */
  if (position < g_list_model_get_n_items (G_LIST_MODEL (self->model)) &&
      (now = g_list_model_get_item (G_LIST_MODEL (self->model), position)) != NULL)
    reselect_item (self, now, position);
}

/* The shown account's row among the first rows already read, highlighted
 * again if a reload dropped the highlight; NULL when they do not hold it. */
RecoupAccountItem *
recoup_window_reselect_row (RecoupWindow *self)
{
  RecoupAccountItem *selected = gtk_single_selection_get_selected_item (self->selection);
  guint n = MIN (g_list_model_get_n_items (G_LIST_MODEL (self->model)), RESELECT_WITHIN);

  if (selected != NULL)
    return g_strcmp0 (recoup_account_item_get_id (selected), self->account_id) == 0 ? selected : NULL;
  for (guint i = 0; self->account_id != NULL && i < n; i++)
    {
      g_autoptr(RecoupAccountItem) item = NULL;

      /* Asks for no page: one being read highlights the row as it loads. */
      if (!recoup_worklist_model_is_position_loaded (self->model, i))
        continue;
      item = g_list_model_get_item (G_LIST_MODEL (self->model), i);
      reselect_item (self, item, i);
    }
  return gtk_single_selection_get_selected_item (self->selection);
}

/* The list is read page by page as it is drawn. A page read while a write had
 * taken the shown account out of a list of the accounts that owe (a payment
 * of more than it owed) lacks its row, also once the account owes again (the
 * payment reversed): nothing else reads that page again. So when the shown
 * account owes (@balance, as just read) and its row is not among the first
 * rows read, the list is read again, unless a reload began since the account
 * was asked for; model_items_changed_cb highlights the row as it loads. */
void
recoup_window_restore_row (RecoupWindow *self,
                           gint64        balance)
{
  /* A list of the accounts callable now leaves out owing accounts too. */
  if (balance <= 0 || !g_settings_get_boolean (self->settings, "open-only") ||
      recoup_worklist_model_get_callable_now (self->model) ||
      recoup_worklist_model_is_loading (self->model) ||
      recoup_worklist_model_get_generation (self->model) != self->account_generation ||
      !recoup_worklist_model_is_position_loaded (self->model, 0))
    return;
  recoup_worklist_model_reload (self->model);
}

/* A reload (F5, a new rank order, a search cleared) replaces the rows and
 * drops the highlight; the page keeps the account. Its row is highlighted
 * again when it is among the first rows, as they load. */
static void
model_items_changed_cb (RecoupWindow *self,
                        guint         position,
                        guint         removed,
                        guint         added)
{
  update_list_state (self);
  if (removed == 0 || self->account_id == NULL ||
      gtk_single_selection_get_selected (self->selection) != GTK_INVALID_LIST_POSITION)
    return;
  for (guint i = 0; i < MIN (added, RESELECT_WITHIN); i++)
    {
      g_autoptr(RecoupAccountItem) item = g_list_model_get_item (G_LIST_MODEL (self->model), position + i);

      if (item == NULL)
        break;
      if (recoup_account_item_get_loaded (item))
        reselect_item (self, item, position + i);
      else
        {
          g_object_set_data (G_OBJECT (item), "recoup-position", GUINT_TO_POINTER (position + i));
          g_signal_connect_object (item, "notify::loaded", G_CALLBACK (reselect_loaded_cb), self, 0);
        }
    }
}

static void
account_loaded_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  RecoupWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  RecoupAccountData *data;

  data = recoup_session_load_account_finish (RECOUP_SESSION (object), result, &error);
  if (data == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        recoup_window_show_error (self, error);
      g_object_unref (self);
      return;
    }
  if (g_strcmp0 (data->account->id, self->account_id) != 0)
    {
      recoup_account_data_free (data);
      g_object_unref (self);
      return;
    }
  g_clear_pointer (&self->data, recoup_account_data_free);
  self->data = data;
  self->n_loads++;
  recoup_window_build_account (self);
  g_object_unref (self);
}

void
recoup_window_reload_account (RecoupWindow *self)
{
  if (self->account_id == NULL)
    return;
  g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();
  self->account_generation = recoup_worklist_model_get_generation (self->model);
  recoup_session_load_account_async (self->session, self->account_id, self->load_cancellable,
                                     account_loaded_cb, g_object_ref (self));
}

static void
show_account (RecoupWindow *self,
              const char   *account_id)
{
  if (account_id == NULL || g_strcmp0 (account_id, self->account_id) == 0)
    return;
  g_free (self->account_id);
  self->account_id = g_strdup (account_id);
  g_clear_pointer (&self->last_allocation, recoup_allocation_free);
  recoup_window_reload_account (self);
}

static void
item_loaded_cb (RecoupAccountItem *item,
                GParamSpec        *pspec,
                RecoupWindow      *self)
{
  if (recoup_account_item_get_loaded (item)
      && item == gtk_single_selection_get_selected_item (self->selection))
    {
      g_signal_handlers_disconnect_by_func (item, item_loaded_cb, self);
      show_account (self, recoup_account_item_get_id (item));
    }
}

static void
selection_changed_cb (RecoupWindow *self)
{
  RecoupAccountItem *item = gtk_single_selection_get_selected_item (self->selection);

  if (item == NULL)
    return;
  if (recoup_account_item_get_loaded (item))
    show_account (self, recoup_account_item_get_id (item));
  else
    g_signal_connect_object (item, "notify::loaded", G_CALLBACK (item_loaded_cb), self, 0);
}

void
recoup_window_select_position (RecoupWindow *self,
                               guint         position)
{
  gtk_single_selection_set_selected (self->selection, position);
  selection_changed_cb (self);
}

guint
recoup_window_get_selected_position (RecoupWindow *self)
{
  return gtk_single_selection_get_selected (self->selection);
}

/* Folded, the header bar has room for the back button and the two actions
 * only; the account's name is the page's own title just below. */
static void
leaflet_folded_cb (RecoupWindow *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->account_title), !adw_leaflet_get_folded (self->leaflet));
}

static void
list_activate_cb (RecoupWindow *self,
                  guint         position)
{
  recoup_window_select_position (self, position);
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

static void
search_changed_cb (RecoupWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  /* The search that needed every account is over: the list is the user's
   * own again. */
  if (*text == '\0' && (self->lifted_open_only || self->lifted_callable_now))
    {
      if (self->lifted_open_only)
        g_settings_set_boolean (self->settings, "open-only", TRUE);
      if (self->lifted_callable_now)
        g_settings_set_boolean (self->settings, "callable-now", TRUE);
      self->lifted_open_only = self->lifted_callable_now = FALSE;
    }
  recoup_worklist_model_set_search (self->model, text);
}

static void
search_activate_cb (RecoupWindow *self)
{
  if (g_list_model_get_n_items (G_LIST_MODEL (self->model)) > 0)
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->list_view));
      list_activate_cb (self, 0);
    }
}

/* GTK 4.8's list view takes Tab from row to row: with thousands of rows the
 * account pane is never reached. Tab leaves the list for the account shown,
 * Shift+Tab for the search (what GTK 4.12's tab-behavior gives). */
static gboolean
list_key_pressed_cb (GtkEventControllerKey *controller,
                     guint                  keyval,
                     guint                  keycode,
                     GdkModifierType        state,
                     RecoupWindow          *self)
{
  if (keyval != GDK_KEY_Tab && keyval != GDK_KEY_KP_Tab && keyval != GDK_KEY_ISO_Left_Tab)
    return GDK_EVENT_PROPAGATE;
  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0)
    return GDK_EVENT_PROPAGATE;
  if (keyval == GDK_KEY_ISO_Left_Tab || (state & GDK_SHIFT_MASK) != 0)
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
      return GDK_EVENT_STOP;
    }
  if (self->data == NULL)
    return GDK_EVENT_STOP;
  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
  gtk_widget_child_focus (GTK_WIDGET (self->account_scroller), GTK_DIR_TAB_FORWARD);
  return GDK_EVENT_STOP;
}

/* ---- actions ----------------------------------------------------------- */

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  RecoupWindow *self = RECOUP_WINDOW (widget);

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  adw_leaflet_navigate (RECOUP_WINDOW (widget)->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
stop_update_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  recoup_worklist_model_stop_update (RECOUP_WINDOW (widget)->model);
}

static void
reload_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  RecoupWindow *self = RECOUP_WINDOW (widget);

  /* The account first: the list read after it has the account as it reads
   * (recoup_window_restore_row). Also re-ranks if the day changed since (or
   * a stopped update). */
  recoup_window_reload_account (self);
  recoup_worklist_model_update_ranks (self->model);
}

/* The owner's view of the book: KPI tiles and charts, in a window of its own
 * so the worklist stays where it was. */
static void
dashboard_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  RecoupWindow *self = RECOUP_WINDOW (widget);
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *page = recoup_dashboard_page_new (self->session);

  gtk_window_set_title (GTK_WINDOW (window), _("Dashboard"));
  gtk_window_set_transient_for (GTK_WINDOW (window), GTK_WINDOW (self));
  gtk_window_set_default_size (GTK_WINDOW (window), 960, 720);
  /* The page scrolls itself (its toasts stay in view). */
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), page);
  adw_window_set_content (ADW_WINDOW (window), box);
  g_set_weak_pointer (&self->dialog, GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (window));
}

/* Today's reminder run and the outbox (recoup-remind-window.c). */
static void
remind_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  RecoupWindow *self = RECOUP_WINDOW (widget);
  GtkWidget *window = recoup_remind_window_new (GTK_WINDOW (self), self->session);

  g_set_weak_pointer (&self->dialog, GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (window));
}

static void
log_contact_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  recoup_window_log_contact (RECOUP_WINDOW (widget));
}

static void
record_payment_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  recoup_window_record_payment (RECOUP_WINDOW (widget));
}

static void
reverse_entry_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  recoup_window_reverse_entry (RECOUP_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
open_uri_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  recoup_window_open_uri (RECOUP_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
make_offer_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  recoup_window_make_offer (RECOUP_WINDOW (widget));
}

static void
open_dispute_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  recoup_window_open_dispute (RECOUP_WINDOW (widget));
}

static void
resolve_dispute_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *param)
{
  recoup_window_resolve_dispute (RECOUP_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
mark_reviewed_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  recoup_window_mark_reviewed (RECOUP_WINDOW (widget));
}

static void
set_opt_out_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  const char *id;
  gboolean opted_out;

  g_variant_get (param, "(&sb)", &id, &opted_out);
  if (opted_out)
    recoup_window_opt_out_contact (RECOUP_WINDOW (widget), id);
  else
    recoup_window_opt_in_contact (RECOUP_WINDOW (widget), id);
}

static void
undo_opt_out_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  recoup_window_undo_opt_out (RECOUP_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
edit_account_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  recoup_window_edit_account (RECOUP_WINDOW (widget));
}

static void
offer_event_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  const char *offer_id, *event;

  g_variant_get (param, "(&s&s)", &offer_id, &event);
  recoup_window_offer_event (RECOUP_WINDOW (widget), offer_id, event);
}

static void
statement_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  recoup_window_statement (RECOUP_WINDOW (widget));
}

/* ---- accounts needing review ------------------------------------------- */

/* The owner's queue of what the guard or sync flagged (recoup-cli review),
 * one row per account with its open items; a row opens the account, where
 * Mark Reviewed clears them. */

static gboolean
review_list_load (RecoupBook  *book,
                  gpointer     data,
                  GError     **error)
{
  GPtrArray **items = data;

  *items = recoup_review_list (book, NULL, FALSE, error);
  return *items != NULL;
}

static void
review_list_items_free (GPtrArray **items)
{
  g_clear_pointer (items, g_ptr_array_unref);
  g_free (items);
}

static void
review_row_activated_cb (AdwActionRow *row,
                         GtkWindow    *dialog)
{
  RecoupWindow *self = RECOUP_WINDOW (gtk_window_get_transient_for (dialog));

  show_account (self, gtk_widget_get_name (GTK_WIDGET (row)));
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
  gtk_window_destroy (dialog);
}

/* One row per account, named by its id, its items one a line. */
static void
review_list_show (GtkWindow *dialog,
                  GPtrArray *items)
{
  GtkStack *stack = g_object_get_data (G_OBJECT (dialog), "recoup-review-stack");
  GtkWidget *group = g_object_get_data (G_OBJECT (dialog), "recoup-review-group");
  g_autoptr(GHashTable) rows = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < items->len; i++)
    {
      RecoupReviewItem *item = g_ptr_array_index (items, i);
      GtkWidget *row = g_hash_table_lookup (rows, item->account_id);

      if (row == NULL)
        {
          g_autofree char *title = g_strdup_printf ("%s · %s", item->account_name, item->account_ref);

          row = adw_action_row_new ();
          gtk_widget_set_name (row, item->account_id);
          adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), item->text);
          adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
          gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
          g_signal_connect_object (row, "activated", G_CALLBACK (review_row_activated_cb), dialog, 0);
          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
          g_hash_table_insert (rows, item->account_id, row);
        }
      else
        {
          g_autofree char *more = g_strdup_printf ("%s\n%s", adw_action_row_get_subtitle (ADW_ACTION_ROW (row)),
                                                   item->text);

          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), more);
        }
    }
  gtk_stack_set_visible_child_name (stack, items->len > 0 ? "list" : "empty");
}

static void
review_list_loaded_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GtkWindow) dialog = user_data;
  GPtrArray **items = g_object_get_data (G_OBJECT (dialog), "recoup-review-items");
  AdwStatusPage *status = g_object_get_data (G_OBJECT (dialog), "recoup-review-status");
  g_autoptr(GError) error = NULL;

  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    {
      adw_status_page_set_title (status, _("Cannot Read the Review Items"));
      adw_status_page_set_description (status, error->message);
      gtk_stack_set_visible_child_name (g_object_get_data (G_OBJECT (dialog), "recoup-review-stack"), "empty");
      return;
    }
  review_list_show (dialog, *items);
}

static void
recoup_window_show_review_list (RecoupWindow *self)
{
  GtkWindow *dialog = GTK_WINDOW (adw_window_new ());
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *stack = gtk_stack_new ();
  GtkWidget *spinner = gtk_spinner_new ();
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *status = adw_status_page_new ();
  GPtrArray **items = g_new0 (GPtrArray *, 1);
  GtkShortcutController *sc = GTK_SHORTCUT_CONTROLLER (gtk_shortcut_controller_new ());

  gtk_widget_set_name (GTK_WIDGET (dialog), "review-list");
  gtk_window_set_title (dialog, _("Accounts Needing Review"));
  gtk_window_set_modal (dialog, TRUE);
  gtk_window_set_transient_for (dialog, GTK_WINDOW (self));
  gtk_window_set_destroy_with_parent (dialog, TRUE);
  gtk_window_set_default_size (dialog, 640, 560);

  gtk_spinner_set_spinning (GTK_SPINNER (spinner), TRUE);
  gtk_widget_set_halign (spinner, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (spinner, GTK_ALIGN_CENTER);
  gtk_stack_add_named (GTK_STACK (stack), spinner, "loading");
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Open Review Items"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                         _("Contacts logged against the compliance rules and offers that "
                                           "conflicted offline. Open an account to look at them; an owner "
                                           "marks them reviewed there."));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  gtk_stack_add_named (GTK_STACK (stack), page, "list");
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "emblem-ok-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("Nothing to Review"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
                                   _("Accounts appear here when a contact breaks the compliance rules "
                                     "or offers conflict after a sync."));
  gtk_stack_add_named (GTK_STACK (stack), status, "empty");
  gtk_stack_set_visible_child_name (GTK_STACK (stack), "loading");
  gtk_widget_set_vexpand (stack, TRUE);
  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  gtk_box_append (GTK_BOX (box), stack);
  adw_window_set_content (ADW_WINDOW (dialog), box);
  gtk_shortcut_controller_add_shortcut (sc, gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                              gtk_named_action_new ("window.close")));
  gtk_widget_add_controller (GTK_WIDGET (dialog), GTK_EVENT_CONTROLLER (sc));

  g_object_set_data (G_OBJECT (dialog), "recoup-review-stack", stack);
  g_object_set_data (G_OBJECT (dialog), "recoup-review-group", group);
  g_object_set_data (G_OBJECT (dialog), "recoup-review-status", status);
  /* The dialog owns what the worker reads, so closing it early frees it. */
  g_object_set_data_full (G_OBJECT (dialog), "recoup-review-items", items, (GDestroyNotify) review_list_items_free);
  recoup_session_read_async (self->session, review_list_load, items, NULL, NULL,
                             review_list_loaded_cb, g_object_ref (dialog));
  g_set_weak_pointer (&self->dialog, dialog);
  gtk_window_present (dialog);
}

static void
review_list_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  recoup_window_show_review_list (RECOUP_WINDOW (widget));
}

static void
approvals_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  recoup_window_show_approvals (RECOUP_WINDOW (widget));
}

static void
import_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  recoup_window_import (RECOUP_WINDOW (widget));
}

static void
open_only_changed_cb (RecoupWindow *self)
{
  recoup_worklist_model_set_open_only (self->model, g_settings_get_boolean (self->settings, "open-only"));
}

static void
callable_now_changed_cb (RecoupWindow *self)
{
  recoup_worklist_model_set_callable_now (self->model, g_settings_get_boolean (self->settings, "callable-now"));
}

/* Back at the window (after a suspend, say): the calling hours may have
 * opened or closed meanwhile. */
static void
active_changed_cb (RecoupWindow *self)
{
  if (self->model != NULL && gtk_window_is_active (GTK_WINDOW (self)))
    recoup_worklist_model_check_hours (self->model);
}

/* ---- lifecycle --------------------------------------------------------- */

static gboolean
recoup_window_close_request (GtkWindow *window)
{
  RecoupWindow *self = RECOUP_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->load_cancellable);
  return GTK_WINDOW_CLASS (recoup_window_parent_class)->close_request (window);
}

static void
recoup_window_dispose (GObject *object)
{
  RecoupWindow *self = RECOUP_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  if (self->statement_job != NULL)
    recoup_export_job_cancel (self->statement_job);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), RECOUP_TYPE_WINDOW);
  g_clear_object (&self->selection);
  g_clear_object (&self->model);
  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_pointer (&self->data, recoup_account_data_free);
  G_OBJECT_CLASS (recoup_window_parent_class)->dispose (object);
}

static void
recoup_window_finalize (GObject *object)
{
  RecoupWindow *self = RECOUP_WINDOW (object);

  g_free (self->account_id);
  g_free (self->shown_account_id);
  g_free (self->last_error);
  g_free (self->last_toast);
  g_clear_pointer (&self->last_allocation, recoup_allocation_free);
  g_free (self->last_allocation_account);
  G_OBJECT_CLASS (recoup_window_parent_class)->finalize (object);
}

static void
recoup_window_class_init (RecoupWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = recoup_window_dispose;
  object_class->finalize = recoup_window_finalize;
  window_class->close_request = recoup_window_close_request;

  g_type_ensure (RECOUP_TYPE_ACCOUNT_ITEM);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/recoup/Recoup/recoup-window.ui");
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, content);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, list_title);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, list_stack);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, search_all_button);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, update_revealer);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, update_bar);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, list_view);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, account_title);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, account_stack);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, account_scroller);
  gtk_widget_class_bind_template_child (widget_class, RecoupWindow, account_box);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, list_activate_cb);

  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.search-all", NULL, search_all_action);
  gtk_widget_class_install_action (widget_class, "win.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "win.reload", NULL, reload_action);
  gtk_widget_class_install_action (widget_class, "win.stop-update", NULL, stop_update_action);
  gtk_widget_class_install_action (widget_class, "win.dashboard", NULL, dashboard_action);
  gtk_widget_class_install_action (widget_class, "win.remind", NULL, remind_action);
  gtk_widget_class_install_action (widget_class, "win.log-contact", NULL, log_contact_action);
  gtk_widget_class_install_action (widget_class, "win.record-payment", NULL, record_payment_action);
  gtk_widget_class_install_action (widget_class, "win.reverse-entry", "s", reverse_entry_action);
  gtk_widget_class_install_action (widget_class, "win.open-uri", "s", open_uri_action);
  gtk_widget_class_install_action (widget_class, "win.import", NULL, import_action);
  gtk_widget_class_install_action (widget_class, "win.make-offer", NULL, make_offer_action);
  gtk_widget_class_install_action (widget_class, "win.set-opt-out", "(sb)", set_opt_out_action);
  gtk_widget_class_install_action (widget_class, "win.undo-opt-out", "s", undo_opt_out_action);
  gtk_widget_class_install_action (widget_class, "win.open-dispute", NULL, open_dispute_action);
  gtk_widget_class_install_action (widget_class, "win.resolve-dispute", "s", resolve_dispute_action);
  gtk_widget_class_install_action (widget_class, "win.mark-reviewed", NULL, mark_reviewed_action);
  gtk_widget_class_install_action (widget_class, "win.edit-account", NULL, edit_account_action);
  gtk_widget_class_install_action (widget_class, "win.approvals", NULL, approvals_action);
  gtk_widget_class_install_action (widget_class, "win.review-list", NULL, review_list_action);
  gtk_widget_class_install_action (widget_class, "win.statement", NULL, statement_action);
  gtk_widget_class_install_action (widget_class, "win.offer-event", "(ss)", offer_event_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.search", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "win.log-contact", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_p, GDK_CONTROL_MASK, "win.record-payment", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "win.reload", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.reload", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_i, GDK_CONTROL_MASK, "win.import", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.make-offer", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_d, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.open-dispute", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK, "win.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "win.edit-account", NULL);
}

static void
recoup_window_init (RecoupWindow *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;
  g_autoptr(GPropertyAction) open_only = NULL;
  GActionGroup *group;

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->leaflet, "notify::folded", G_CALLBACK (leaflet_folded_cb), self,
                           G_CONNECT_SWAPPED);
  leaflet_folded_cb (self);

  self->cancellable = g_cancellable_new ();
  self->settings = g_settings_new (APPLICATION_ID);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  factory = gtk_builder_list_item_factory_new_from_resource (NULL, "/org/recoup/Recoup/recoup-worklist-row.ui");
  gtk_list_view_set_factory (self->list_view, factory);
  {
    GtkEventController *keys = gtk_event_controller_key_new ();

    gtk_event_controller_set_name (keys, "list-tab");
    gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
    g_signal_connect_object (keys, "key-pressed", G_CALLBACK (list_key_pressed_cb), self, 0);
    gtk_widget_add_controller (GTK_WIDGET (self->list_view), keys);
  }

  group = G_ACTION_GROUP (g_simple_action_group_new ());
  g_action_map_add_action (G_ACTION_MAP (group), g_settings_create_action (self->settings, "open-only"));
  g_action_map_add_action (G_ACTION_MAP (group), g_settings_create_action (self->settings, "callable-now"));
  gtk_widget_insert_action_group (GTK_WIDGET (self), "settings", group);
  g_object_unref (group);
  g_signal_connect_object (self->settings, "changed::open-only", G_CALLBACK (open_only_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::callable-now", G_CALLBACK (callable_now_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect (self, "notify::is-active", G_CALLBACK (active_changed_cb), NULL);
}

RecoupWindow *
recoup_window_new (AdwApplication      *application,
                   RecoupSession       *session,
                   RecoupWorklistModel *model)
{
  RecoupWindow *self = g_object_new (RECOUP_TYPE_WINDOW, "application", application, NULL);

  self->session = g_object_ref (session);
  self->model = g_object_ref (model);
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (model)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect_object (self->selection, "notify::selected", G_CALLBACK (selection_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (model, "items-changed", G_CALLBACK (model_items_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (model, "notify::loading", G_CALLBACK (update_list_state),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (model, "notify::counting", G_CALLBACK (update_list_state),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (model, "notify::updating", G_CALLBACK (update_state_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (model, "notify::update-fraction", G_CALLBACK (update_state_cb),
                           self, G_CONNECT_SWAPPED);

  recoup_approvals_update_action (self);
  recoup_sync_indicator_attach (self);
  recoup_worklist_model_set_open_only (model, g_settings_get_boolean (self->settings, "open-only"));
  recoup_worklist_model_set_callable_now (model, g_settings_get_boolean (self->settings, "callable-now"));
  if (!recoup_worklist_model_is_loading (model))
    recoup_worklist_model_reload (model);
  update_list_state (self);
  update_state_cb (self);
  return self;
}
