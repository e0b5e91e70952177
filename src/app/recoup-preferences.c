/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-book-preferences.h"
#include "recoup-preferences.h"
#include "recoup-sync-page.h"

/* Preferences: an AdwPreferencesWindow over the app's GSettings. Book-wide
 * policy (scoring weights, compliance profile, authority limits) lives in the
 * book and is shown here by the modules that own it. */

static void
book_path_apply_cb (AdwEntryRow *row,
                    GSettings   *settings)
{
  g_autofree char *path = g_settings_get_string (settings, "book-path");

  if (g_strcmp0 (path, gtk_editable_get_text (GTK_EDITABLE (row))) != 0)
    g_settings_set_string (settings, "book-path", gtk_editable_get_text (GTK_EDITABLE (row)));
}

/* A location typed without the Apply button is kept too: when the field is
 * left, or the window closed. */
static void
book_path_leave_cb (GtkEventController *focus,
                    GSettings          *settings)
{
  book_path_apply_cb (ADW_ENTRY_ROW (gtk_event_controller_get_widget (focus)), settings);
}

static gboolean
book_path_close_cb (GtkWindow   *window,
                    AdwEntryRow *row)
{
  book_path_apply_cb (row, g_object_get_data (G_OBJECT (window), "settings"));
  return FALSE;
}

GtkWindow *
recoup_preferences_new (GtkWindow *parent)
{
  GtkWidget *win = adw_preferences_window_new ();
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group;
  GtkWidget *row;
  GtkWidget *toggle;
  GSettings *settings = g_settings_new (APPLICATION_ID);
  g_autofree char *path = g_settings_get_string (settings, "book-path");

  g_object_set_data_full (G_OBJECT (win), "settings", settings, g_object_unref);
  gtk_window_set_transient_for (GTK_WINDOW (win), parent);
  gtk_window_set_modal (GTK_WINDOW (win), TRUE);
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (page), _("General"));
  adw_preferences_page_set_icon_name (ADW_PREFERENCES_PAGE (page), "emblem-system-symbolic");

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Book"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                         _("The file that holds your accounts. Leave empty for the default "
                                           "location; the change applies the next time Recoup starts."));
  row = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Book location"));
  gtk_editable_set_text (GTK_EDITABLE (row), path);
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (row), TRUE);
  g_signal_connect (row, "apply", G_CALLBACK (book_path_apply_cb), settings);
  {
    GtkEventController *focus = gtk_event_controller_focus_new ();

    g_signal_connect (focus, "leave", G_CALLBACK (book_path_leave_cb), settings);
    gtk_widget_add_controller (row, focus);
  }
  gtk_widget_set_name (row, "book-path");
  g_signal_connect (win, "close-request", G_CALLBACK (book_path_close_cb), row);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Worklist"));
  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Only accounts that owe"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Hide settled accounts from the worklist"));
  toggle = gtk_switch_new ();
  gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
  g_settings_bind (settings, "open-only", toggle, "active", G_SETTINGS_BIND_DEFAULT);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (win), ADW_PREFERENCES_PAGE (page));
  recoup_book_preferences_add (ADW_PREFERENCES_WINDOW (win), parent);
  if (recoup_sync_status_get_for_window (parent) != NULL)
    adw_preferences_window_add (ADW_PREFERENCES_WINDOW (win),
                                ADW_PREFERENCES_PAGE (recoup_sync_page_new (recoup_sync_status_get_for_window (parent))));
  return GTK_WINDOW (win);
}
