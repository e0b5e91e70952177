/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-preferences.h"
#include "recoup-sync-indicator.h"
#include "recoup-window-private.h"

/* How many refusals, conflicts and flagged accounts the popover lists. */
#define MAX_LISTED 5

typedef struct
{
  RecoupWindow     *window;     /* weak */
  RecoupSyncStatus *status;
  GtkWidget        *button;
  GtkWidget        *icon;
  GtkWidget        *spinner;
  GtkWidget        *count;
  GtkWidget        *details;    /* the popover's box */
  GtkWidget        *state_label;
  GtkWidget        *error_label;
  GtkWidget        *info;       /* plain labels, rebuilt on every change */
  GtkWidget        *sync_now;
} Indicator;

static void
indicator_free (Indicator *ind)
{
  g_clear_weak_pointer (&ind->window);
  g_clear_object (&ind->status);
  g_free (ind);
}

static void
indicator_closure_free (gpointer  data,
                        GClosure *closure)
{
  indicator_free (data);
}

static char *
format_time (gint64 ms)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (ms / 1000);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (dt == NULL)
    return g_strdup ("?");
  if (g_date_time_get_year (dt) == g_date_time_get_year (now) &&
      g_date_time_get_day_of_year (dt) == g_date_time_get_day_of_year (now))
    return g_date_time_format (dt, _("today at %H:%M"));
  return g_date_time_format (dt, "%Y-%m-%d %H:%M");
}

char *
recoup_sync_describe_state (RecoupSyncStatus *status)
{
  gint64 n = recoup_sync_status_get_n_pending (status);

  switch (recoup_sync_status_get_state (status))
    {
    case RECOUP_SYNC_STATE_NOT_CONNECTED:
      return g_strdup (_("Not connected to a server"));
    case RECOUP_SYNC_STATE_SYNCED:
      return g_strdup (_("Synced: every change is on the server"));
    case RECOUP_SYNC_STATE_PENDING:
      return g_strdup_printf (ngettext ("%'u change waits to be sent",
                                        "%'u changes wait to be sent", n), (guint) n);
    case RECOUP_SYNC_STATE_SYNCING:
      return g_strdup (_("Syncing…"));
    case RECOUP_SYNC_STATE_OFFLINE:
      if (n > 0)
        return g_strdup_printf (ngettext ("Offline: %'u change waits for a network",
                                          "Offline: %'u changes wait for a network", n), (guint) n);
      return g_strdup (_("Offline"));
    case RECOUP_SYNC_STATE_ERROR:
      return g_strdup_printf (_("Sync failed: %s"), recoup_sync_status_get_error (status));
    default:
      g_assert_not_reached ();
    }
}

static GtkWidget *
small_label (const char *text,
             const char *css)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 48);
  if (css != NULL)
    gtk_widget_add_css_class (label, css);
  return label;
}

static void
add_heading (GtkWidget  *box,
             const char *text)
{
  GtkWidget *label = small_label (text, "heading");

  gtk_widget_set_margin_top (label, 6);
  gtk_box_append (GTK_BOX (box), label);
}

static char *
json_value_text (JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup (_("(empty)"));
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup_printf ("“%s”", json_node_get_string (node));
  return json_to_string (node, FALSE);
}

static void
add_more (GtkWidget *box,
          guint      n)
{
  if (n > MAX_LISTED)
    {
      g_autofree char *more = g_strdup_printf (ngettext ("and %u more", "and %u more", n - MAX_LISTED),
                                               n - MAX_LISTED);
      gtk_box_append (GTK_BOX (box), small_label (more, "dim-label"));
    }
}

/* The popover keeps its state, error and Sync Now widgets (one of them may
 * have the focus while it is open); only the plain labels in between are
 * rebuilt. */
static void
build_details (Indicator *ind)
{
  RecoupSyncStatus *st = ind->status;
  GtkWidget *box = ind->info;
  GtkWidget *child;
  g_autofree char *state = recoup_sync_describe_state (st);
  gboolean failed = recoup_sync_status_get_state (st) == RECOUP_SYNC_STATE_ERROR;
  JsonArray *rejections = recoup_sync_status_get_rejections (st);
  JsonArray *conflicts = recoup_sync_status_get_conflicts (st);
  JsonArray *review = recoup_sync_status_get_review (st);
  guint n;

  while ((child = gtk_widget_get_first_child (box)) != NULL)
    gtk_box_remove (GTK_BOX (box), child);

  gtk_label_set_text (GTK_LABEL (ind->state_label), failed ? _("Sync Failed") : state);
  gtk_label_set_text (GTK_LABEL (ind->error_label), failed ? recoup_sync_status_get_error (st) : "");
  gtk_widget_set_visible (ind->error_label, failed);
  gtk_widget_set_sensitive (ind->sync_now, recoup_sync_status_get_state (st) != RECOUP_SYNC_STATE_SYNCING);

  {
    g_autofree char *last = recoup_sync_status_get_last_sync (st) > 0
                            ? format_time (recoup_sync_status_get_last_sync (st)) : NULL;
    g_autofree char *line = last != NULL ? g_strdup_printf (_("Last synced %s"), last)
                                         : g_strdup (_("Not synced yet"));
    g_autofree char *pending = g_strdup_printf (ngettext ("%'u change waits to be sent",
                                                          "%'u changes wait to be sent",
                                                          recoup_sync_status_get_n_pending (st)),
                                                (guint) recoup_sync_status_get_n_pending (st));
    g_autofree char *server = g_strdup_printf (_("%s as %s (%s)"), recoup_sync_status_get_url (st),
                                               recoup_sync_status_get_user_name (st),
                                               recoup_sync_status_get_role (st));

    gtk_box_append (GTK_BOX (box), small_label (line, "dim-label"));
    /* The heading says it already when changes wait or the book is offline. */
    if (recoup_sync_status_get_n_pending (st) > 0 && recoup_sync_status_get_state (st) != RECOUP_SYNC_STATE_PENDING &&
        recoup_sync_status_get_state (st) != RECOUP_SYNC_STATE_OFFLINE)
      gtk_box_append (GTK_BOX (box), small_label (pending, "dim-label"));
    gtk_box_append (GTK_BOX (box), small_label (server, "dim-label"));
  }

  n = rejections != NULL ? json_array_get_length (rejections) : 0;
  if (n > 0)
    {
      g_autofree char *title = g_strdup_printf (ngettext ("%u Change Refused by the Server",
                                                          "%u Changes Refused by the Server", n), n);
      add_heading (box, title);
      for (guint i = 0; i < MIN (n, MAX_LISTED); i++)
        {
          JsonObject *r = json_array_get_object_element (rejections, i);
          g_autofree char *text = g_strdup_printf ("%s: %s",
                                                   json_object_get_string_member_with_default (r, "reason", ""),
                                                   json_object_get_string_member_with_default (r, "message", ""));
          gtk_box_append (GTK_BOX (box), small_label (text, "caption"));
        }
      add_more (box, n);
    }

  n = review != NULL ? json_array_get_length (review) : 0;
  if (n > 0)
    {
      g_autofree char *title = g_strdup_printf (ngettext ("%u Account Flagged for Review",
                                                          "%u Accounts Flagged for Review", n), n);
      add_heading (box, title);
      for (guint i = 0; i < MIN (n, MAX_LISTED); i++)
        {
          JsonObject *r = json_array_get_object_element (review, i);
          g_autofree char *text = g_strdup_printf ("%s %s: %s",
                                                   json_object_get_string_member_with_default (r, "ref", ""),
                                                   json_object_get_string_member_with_default (r, "name", ""),
                                                   json_object_get_string_member_with_default (r, "flag", ""));
          gtk_box_append (GTK_BOX (box), small_label (text, "caption"));
        }
      add_more (box, n);
    }

  n = conflicts != NULL ? json_array_get_length (conflicts) : 0;
  if (n > 0)
    {
      g_autofree char *title = g_strdup_printf (ngettext ("%u Edit Lost to a Newer One",
                                                          "%u Edits Lost to Newer Ones", n), n);
      add_heading (box, title);
      for (guint i = 0; i < MIN (n, MAX_LISTED); i++)
        {
          JsonObject *c = json_array_get_object_element (conflicts, i);
          g_autofree char *value = json_value_text (json_object_get_member (c, "value"));
          g_autofree char *when = format_time (json_object_get_int_member_with_default (c, "at", 0));
          /* e.g. "accounts.phone: “+1 555…” (kept in the log, today at 10:02)" */
          g_autofree char *text = g_strdup_printf (_("%s.%s: %s (kept in the log, %s)"),
                                                   json_object_get_string_member_with_default (c, "entity", ""),
                                                   json_object_get_string_member_with_default (c, "field", ""),
                                                   value, when);
          gtk_box_append (GTK_BOX (box), small_label (text, "caption"));
        }
      add_more (box, n);
    }
}

static void
status_changed_cb (Indicator *ind)
{
  RecoupSyncState state = recoup_sync_status_get_state (ind->status);
  g_autofree char *text = recoup_sync_describe_state (ind->status);
  const char *icon = "emblem-ok-symbolic";

  gtk_widget_set_visible (ind->button, recoup_sync_status_is_enrolled (ind->status));
  gtk_widget_set_tooltip_text (ind->button, text);
  gtk_widget_remove_css_class (ind->button, "error");
  gtk_widget_remove_css_class (ind->button, "warning");
  switch (state)
    {
    case RECOUP_SYNC_STATE_PENDING:
      icon = "document-send-symbolic";
      break;
    case RECOUP_SYNC_STATE_SYNCING:
      icon = NULL;
      break;
    case RECOUP_SYNC_STATE_OFFLINE:
      icon = "network-offline-symbolic";
      break;
    case RECOUP_SYNC_STATE_ERROR:
      icon = "dialog-warning-symbolic";
      gtk_widget_add_css_class (ind->button, "error");
      break;
    default:
      break;
    }
  /* Accounts flagged for review deserve a look even when all is sent. */
  if (state != RECOUP_SYNC_STATE_ERROR && recoup_sync_status_get_review (ind->status) != NULL &&
      json_array_get_length (recoup_sync_status_get_review (ind->status)) > 0)
    gtk_widget_add_css_class (ind->button, "warning");
  gtk_widget_set_visible (ind->spinner, icon == NULL);
  gtk_spinner_set_spinning (GTK_SPINNER (ind->spinner), icon == NULL);
  gtk_widget_set_visible (ind->icon, icon != NULL);
  if (icon != NULL)
    gtk_image_set_from_icon_name (GTK_IMAGE (ind->icon), icon);
  {
    gint64 n = recoup_sync_status_get_n_pending (ind->status);
    /* Grouped as the locale groups thousands ("351.914" in German), as in
     * the popover and the tooltip. */
    g_autofree char *count = g_strdup_printf ("%'" G_GINT64_FORMAT, n);

    gtk_label_set_text (GTK_LABEL (ind->count), count);
    gtk_widget_set_visible (ind->count, n > 0 && state != RECOUP_SYNC_STATE_SYNCING);
  }
  build_details (ind);
}

static void
synced_cb (RecoupSyncStatus *status,
           guint             applied,
           Indicator        *ind)
{
  if (ind->window == NULL || applied == 0)
    return;
  /* Changes from elsewhere arrived: show them. */
  recoup_worklist_model_reload (recoup_window_get_model (ind->window));
  recoup_window_reload_account (ind->window);
}

static void
sync_action_cb (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  RecoupWindow *window = user_data;
  RecoupSyncStatus *status = recoup_sync_status_get_for_window (GTK_WINDOW (window));

  if (!recoup_sync_status_is_enrolled (status))
    {
      recoup_window_toast (window, _("This book is not connected to a server; connect it in Preferences ▸ Sync"));
      return;
    }
  recoup_sync_status_sync (status);
}

static void
connect_server_action_cb (GSimpleAction *action,
                          GVariant      *param,
                          gpointer       user_data)
{
  RecoupWindow *window = user_data;
  GtkWindow *prefs = recoup_preferences_new (GTK_WINDOW (window));

  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (prefs), "sync");
  g_set_weak_pointer (&window->dialog, prefs);
  gtk_window_present (prefs);
}

static void
window_destroy_cb (GtkWidget        *window,
                   RecoupSyncStatus *status)
{
  recoup_sync_status_shutdown (status);
}

void
recoup_sync_indicator_attach (RecoupWindow *window)
{
  static const GActionEntry entries[] = {
    { "sync", sync_action_cb },
    { "connect-server", connect_server_action_cb },
  };
  Indicator *ind = g_new0 (Indicator, 1);
  GtkWidget *header = gtk_widget_get_first_child (window->sidebar);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *popover = gtk_popover_new ();
  GtkEventController *shortcuts = gtk_shortcut_controller_new ();

  ind->status = recoup_sync_status_new (window->session);
  g_set_weak_pointer (&ind->window, window);
  g_object_set_data_full (G_OBJECT (window), "recoup-sync-status", g_object_ref (ind->status), g_object_unref);

  ind->button = gtk_menu_button_new ();
  gtk_widget_set_name (ind->button, "sync-indicator");
  ind->icon = gtk_image_new_from_icon_name ("emblem-ok-symbolic");
  ind->spinner = gtk_spinner_new ();
  ind->count = gtk_label_new (NULL);
  gtk_widget_add_css_class (ind->count, "numeric");
  gtk_widget_add_css_class (ind->count, "caption-heading");
  gtk_box_append (GTK_BOX (box), ind->icon);
  gtk_box_append (GTK_BOX (box), ind->spinner);
  gtk_box_append (GTK_BOX (box), ind->count);
  gtk_menu_button_set_child (GTK_MENU_BUTTON (ind->button), box);
  gtk_widget_set_visible (ind->button, FALSE);

  ind->details = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_size_request (ind->details, 320, -1);
  gtk_widget_set_margin_start (ind->details, 6);
  gtk_widget_set_margin_end (ind->details, 6);
  gtk_widget_set_margin_top (ind->details, 6);
  gtk_widget_set_margin_bottom (ind->details, 6);
  gtk_widget_set_name (ind->details, "sync-details");
  ind->state_label = small_label (NULL, "title-4");
  gtk_widget_set_name (ind->state_label, "sync-state");
  gtk_box_append (GTK_BOX (ind->details), ind->state_label);
  ind->error_label = small_label (NULL, NULL);
  gtk_label_set_selectable (GTK_LABEL (ind->error_label), TRUE);
  /* Selectable with the mouse, without grabbing the focus (and selecting
   * all of it) when the popover opens. */
  gtk_widget_set_focusable (ind->error_label, FALSE);
  gtk_widget_set_name (ind->error_label, "sync-error");
  gtk_box_append (GTK_BOX (ind->details), ind->error_label);
  ind->info = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_box_append (GTK_BOX (ind->details), ind->info);
  ind->sync_now = gtk_button_new_with_mnemonic (_("_Sync Now"));
  gtk_widget_set_name (ind->sync_now, "sync-now");
  gtk_widget_set_margin_top (ind->sync_now, 6);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (ind->sync_now), "win.sync");
  gtk_widget_set_tooltip_text (ind->sync_now, _("Send and receive changes now (Ctrl+Shift+S)"));
  gtk_box_append (GTK_BOX (ind->details), ind->sync_now);
  gtk_popover_set_child (GTK_POPOVER (popover), ind->details);
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (ind->button), popover);

  if (ADW_IS_HEADER_BAR (header))
    adw_header_bar_pack_start (ADW_HEADER_BAR (header), ind->button);
  else
    g_warning ("the worklist pane has no header bar for the sync status");

  g_action_map_add_action_entries (G_ACTION_MAP (window), entries, G_N_ELEMENTS (entries), window);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control><Shift>s"),
                                                          gtk_named_action_new ("win.sync")));
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (shortcuts), GTK_SHORTCUT_SCOPE_GLOBAL);
  gtk_widget_add_controller (GTK_WIDGET (window), shortcuts);

  g_signal_connect_data (ind->status, "changed", G_CALLBACK (status_changed_cb), ind,
                         indicator_closure_free, G_CONNECT_SWAPPED);
  g_signal_connect (ind->status, "synced", G_CALLBACK (synced_cb), ind);
  g_signal_connect_object (window, "destroy", G_CALLBACK (window_destroy_cb), ind->status, 0);
  status_changed_cb (ind);
}
