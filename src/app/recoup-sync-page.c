/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-sync.h"
#include "recoup-sync-indicator.h"
#include "recoup-sync-page.h"

typedef struct
{
  RecoupSyncStatus *status;
  GtkWidget        *revoked_group;  /* the server no longer knows this device */
  GtkWidget        *revoked;
  GtkWidget        *connect_group;
  GtkWidget        *code;
  GtkWidget        *device;
  GtkWidget        *check_group;
  GtkWidget        *server;
  GtkWidget        *fingerprint;
  GtkWidget        *error;
  GtkWidget        *connect;
  GtkWidget        *cancel;    /* leaves Enroll Again, when it was asked for */
  GtkWidget        *join;      /* shown when the code needs a new book */
  GtkWidget        *note;      /* where the new book is, without the application */
  GtkWidget        *spinner;
  GtkWidget        *actions_group;
  GtkWidget        *server_group;
  GtkWidget        *url_row;
  GtkWidget        *user_row;
  GtkWidget        *fp_row;
  GtkWidget        *state_row;
  GtkWidget        *sync_now;
  GtkWidget        *again_row;
  gboolean          busy;
  gboolean          again;     /* the user asked to enroll the enrolled book again */
} Page;

static void
page_free (Page *p)
{
  g_clear_object (&p->status);
  g_free (p);
}

static void
show_error (Page       *p,
            const char *message)
{
  gtk_label_set_text (GTK_LABEL (p->error), message != NULL ? message : "");
  gtk_widget_set_visible (p->error, message != NULL);
  gtk_widget_add_css_class (p->error, "error");
}

/* Decodes the code as it is typed or pasted: what it would connect to shows
 * before anything is sent. */
static void
code_changed_cb (Page *p)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (p->code));
  RecoupEnrollmentCode code;
  g_autoptr(GError) error = NULL;
  gboolean ok = FALSE;

  if (*text != '\0' && recoup_enrollment_code_parse (text, &code, &error))
    {
      g_autofree char *fp = recoup_sync_format_fingerprint (code.fingerprint);

      if (!g_str_has_prefix (code.url, "https://"))
        show_error (p, _("The code names a server without https://; Recoup only syncs over HTTPS. Ask the "
                         "server's owner for a new code."));
      else
        {
          adw_action_row_set_subtitle (ADW_ACTION_ROW (p->server), code.url);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (p->fingerprint), fp);
          show_error (p, NULL);
          ok = TRUE;
        }
      recoup_enrollment_code_clear (&code);
    }
  else
    show_error (p, *text != '\0' ? error->message : NULL);
  gtk_widget_set_visible (p->check_group, ok);
  if (ok)
    gtk_widget_remove_css_class (p->code, "error");
  else if (*text != '\0')
    gtk_widget_add_css_class (p->code, "error");
  else
    gtk_widget_remove_css_class (p->code, "error");
  gtk_widget_set_visible (p->join, FALSE);
  gtk_widget_set_visible (p->connect, TRUE);
  gtk_widget_set_sensitive (p->connect, ok && !p->busy);
}

static void
set_busy (Page     *p,
          gboolean  busy)
{
  p->busy = busy;
  gtk_spinner_set_spinning (GTK_SPINNER (p->spinner), busy);
  gtk_widget_set_visible (p->spinner, busy);
  gtk_widget_set_sensitive (p->code, !busy);
  gtk_widget_set_sensitive (p->device, !busy);
  gtk_widget_set_sensitive (p->join, !busy);
  gtk_widget_set_sensitive (p->cancel, !busy);
  if (busy)
    gtk_widget_set_sensitive (p->connect, FALSE);
}

static char *
device_name (Page *p)
{
  g_autofree char *device = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (p->device))));

  return *device ? g_steal_pointer (&device) : g_strdup (g_get_host_name ());
}

/* The code form of an enrolled book enrolls it again: what goes with it. */
static void
describe_enroll_again (Page     *p,
                       gboolean  revoked)
{
  gint64 n = recoup_sync_status_get_n_pending (p->status);
  g_autofree char *unsent = NULL;
  g_autofree char *server = NULL;
  g_autofree char *text = NULL;

  if (n > 0)
    unsent = g_strdup_printf (ngettext ("Its %'u change not sent yet goes with it.",
                                        "Its %'u changes not sent yet go with it.", n), (guint) n);
  /* Which server to ask a code of: the one the book knows (the code
   * carries the address; the device's name below is this computer's, as
   * the server lists it).
   * Translators: the server's address, https://… */
  server = g_strdup_printf (_("This book syncs with %s: the code comes from that server."),
                            recoup_sync_status_get_url (p->status));
  if (revoked)
    text = g_strdup_printf ("%s %s %s", _("Paste the new enrollment code an owner of your team gives you to "
                                          "enroll this book again; the book stays as it is."),
                            server, unsent != NULL ? unsent : "");
  else
    text = g_strdup_printf ("%s %s %s", _("Paste a new enrollment code from an owner of your team to enroll "
                                          "this book again, as the same or another user of the team: after "
                                          "this device was revoked, say, or the server’s certificate was "
                                          "replaced. The book stays as it is."),
                            server, unsent != NULL ? unsent : "");
  g_strchomp (text);
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (p->connect_group), _("Enroll This Book Again"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (p->connect_group), text);
  gtk_button_set_label (GTK_BUTTON (p->connect), _("_Enroll Again"));
}

static void
update (Page *p)
{
  RecoupSyncStatus *st = p->status;
  gboolean enrolled = recoup_sync_status_is_enrolled (st);
  /* Revoked, or its user removed: nothing syncs until a new code enrolls
   * the book again, so the form is the page's first thing. */
  gboolean revoked = recoup_sync_status_needs_enrollment (st);
  gboolean code_form = !enrolled || revoked || p->again;

  gtk_widget_set_visible (p->revoked_group, revoked);
  if (revoked)
    {
      /* The server's words as a sentence, without the HTTP status before
       * them (sync-status and the log keep it). */
      g_autofree char *said = recoup_sync_error_for_display (recoup_sync_status_get_error (st), TRUE);

      gtk_label_set_text (GTK_LABEL (p->revoked), said);
    }
  gtk_widget_set_visible (p->connect_group, code_form);
  gtk_widget_set_visible (p->actions_group, code_form);
  gtk_widget_set_visible (p->server_group, enrolled);
  gtk_widget_set_visible (p->again_row, !code_form);
  gtk_widget_set_visible (p->cancel, enrolled && !revoked);
  if (enrolled && code_form)
    describe_enroll_again (p, revoked);
  if (!code_form)
    gtk_widget_set_visible (p->check_group, FALSE);
  if (enrolled)
    {
      g_autofree char *fp = recoup_sync_format_fingerprint (recoup_sync_status_get_fingerprint (st));
      g_autofree char *user = g_strdup_printf ("%s (%s)", recoup_sync_status_get_user_name (st),
                                               recoup_sync_status_get_role (st));
      /* Revoked, the server's words are above; syncing now would only be
       * refused again. */
      g_autofree char *state = revoked ? g_strdup (_("Not syncing until this book is enrolled again"))
                                       : recoup_sync_describe_state (st);

      adw_action_row_set_subtitle (ADW_ACTION_ROW (p->url_row), recoup_sync_status_get_url (st));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (p->user_row), user);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (p->fp_row), *fp ? fp : _("(system certificates)"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (p->state_row), state);
      gtk_widget_set_sensitive (p->sync_now, !revoked &&
                                recoup_sync_status_get_state (st) != RECOUP_SYNC_STATE_SYNCING);
    }
}

static void
status_changed_cb (GtkWidget *page)
{
  update (g_object_get_data (G_OBJECT (page), "sync-page"));
}

static void
enroll_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GtkWidget *page = user_data;
  Page *p = g_object_get_data (G_OBJECT (page), "sync-page");
  g_autoptr(GError) error = NULL;

  recoup_sync_status_enroll_finish (RECOUP_SYNC_STATUS (object), result, &error);
  set_busy (p, FALSE);
  if (g_error_matches (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK))
    {
      /* The code is unspent and this book stays as it is; the way out is
       * one click away. Connect again would only be refused again. */
      code_changed_cb (p);
      show_error (p, error->message);
      /* Not a failure to fix but a choice to make: plain text. */
      gtk_widget_remove_css_class (p->error, "error");
      gtk_widget_set_visible (p->connect, FALSE);
      gtk_widget_set_visible (p->join, TRUE);
      gtk_widget_grab_focus (p->join);
    }
  else if (error != NULL)
    {
      /* Core's refusal in full: for a book enrolled already, why this code
       * cannot enroll it again (another team's, say). */
      g_autofree char *why = recoup_sync_error_for_display (error->message, FALSE);
      g_autofree char *text = recoup_sync_status_is_enrolled (p->status)
                              ? g_strdup_printf (_("Could not enroll this book again: %s"), why)
                              : g_strdup_printf (_("Could not connect: %s"), why);

      code_changed_cb (p);
      show_error (p, text);
    }
  else
    {
      p->again = FALSE;
      gtk_editable_set_text (GTK_EDITABLE (p->code), "");
      update (p);
    }
  g_object_unref (page);
}

static void
connect_clicked_cb (GtkWidget *button,
                    GtkWidget *page)
{
  Page *p = g_object_get_data (G_OBJECT (page), "sync-page");
  g_autofree char *device = device_name (p);

  if (p->busy)
    return;
  show_error (p, NULL);
  set_busy (p, TRUE);
  recoup_sync_status_enroll_async (p->status, gtk_editable_get_text (GTK_EDITABLE (p->code)), device, NULL,
                                   enroll_done_cb, g_object_ref (page));
}

/* The new book is the app's from now on (app.switch-book opens it in place
 * of this one, closing this window and its Preferences); without the
 * application (a window made on its own) the page says where it is. */
static void
open_joined_book (GtkWidget  *page,
                  const char *path,
                  const char *message)
{
  GApplication *app = g_application_get_default ();
  Page *p = g_object_get_data (G_OBJECT (page), "sync-page");

  if (app != NULL && g_action_group_has_action (G_ACTION_GROUP (app), "switch-book"))
    {
      /* Closed first: closing Preferences keeps the book location its
       * General page shows, which is the book switched from. */
      gtk_window_close (GTK_WINDOW (gtk_widget_get_root (page)));
      g_action_group_activate_action (G_ACTION_GROUP (app), "switch-book", g_variant_new ("(ss)", path, message));
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (p->code), "");
  show_error (p, NULL);
  gtk_label_set_text (GTK_LABEL (p->note), message);
  gtk_widget_set_visible (p->note, TRUE);
}

static void
join_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GtkWidget) page = user_data;
  Page *p = g_object_get_data (G_OBJECT (page), "sync-page");
  g_autoptr(GError) error = NULL;
  g_autofree char *path = recoup_sync_status_join_new_book_finish (RECOUP_SYNC_STATUS (object), result, &error);
  g_autofree char *message = NULL;

  set_busy (p, FALSE);
  if (path == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not join in a new book: %s"), error->message);

      code_changed_cb (p);
      show_error (p, text);
      return;
    }
  message = g_strdup_printf (_("You joined your team in a new book, %s. The book you had open stays as it was, "
                               "at %s."), path, recoup_sync_status_get_book_path (p->status));
  open_joined_book (page, path, message);
}

static void
join_clicked_cb (GtkWidget *button,
                 GtkWidget *page)
{
  Page *p = g_object_get_data (G_OBJECT (page), "sync-page");
  g_autofree char *device = device_name (p);

  if (p->busy)
    return;
  set_busy (p, TRUE);
  recoup_sync_status_join_new_book_async (p->status, gtk_editable_get_text (GTK_EDITABLE (p->code)), device,
                                          NULL, join_done_cb, g_object_ref (page));
}

static void
sync_now_clicked_cb (Page *p)
{
  recoup_sync_status_sync (p->status);
}

static void
enroll_again_clicked_cb (Page *p)
{
  p->again = TRUE;
  update (p);
  gtk_widget_grab_focus (p->code);
}

static void
cancel_clicked_cb (Page *p)
{
  p->again = FALSE;
  gtk_editable_set_text (GTK_EDITABLE (p->code), "");
  update (p);
}

static GtkWidget *
info_row (const char *title,
          const char *name)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_widget_set_name (row, name);
  gtk_widget_add_css_class (row, "property");
  return row;
}

GtkWidget *
recoup_sync_page_new (RecoupSyncStatus *status)
{
  GtkWidget *page = adw_preferences_page_new ();
  Page *p = g_new0 (Page, 1);
  GtkWidget *box;

  p->status = g_object_ref (status);
  g_object_set_data_full (G_OBJECT (page), "sync-page", p, (GDestroyNotify) page_free);
  gtk_widget_set_name (page, "sync");
  adw_preferences_page_set_name (ADW_PREFERENCES_PAGE (page), "sync");
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (page), _("Sync"));
  adw_preferences_page_set_icon_name (ADW_PREFERENCES_PAGE (page), "emblem-synchronizing-symbolic");

  /* Connected, but the server no longer knows this device: its words. */
  p->revoked_group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (p->revoked_group), _("This Device Can No Longer Sync"));
  p->revoked = gtk_label_new (NULL);
  gtk_widget_set_name (p->revoked, "sync-revoked");
  gtk_label_set_wrap (GTK_LABEL (p->revoked), TRUE);
  gtk_label_set_xalign (GTK_LABEL (p->revoked), 0);
  gtk_label_set_selectable (GTK_LABEL (p->revoked), TRUE);
  gtk_widget_add_css_class (p->revoked, "error");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (p->revoked_group), p->revoked);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (p->revoked_group));

  /* Not connected, or enrolling again: the code. */
  p->connect_group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (p->connect_group), _("Connect to a Server"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (p->connect_group),
                                         _("Paste the enrollment code the server’s owner gave you. This book’s "
                                           "changes then sync with your team’s whenever a network is there; "
                                           "without one you keep working as before."));
  p->code = adw_entry_row_new ();
  gtk_widget_set_name (p->code, "enroll-code");
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (p->code), _("Enrollment code"));
  g_signal_connect_swapped (p->code, "changed", G_CALLBACK (code_changed_cb), p);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (p->connect_group), p->code);
  p->device = adw_entry_row_new ();
  gtk_widget_set_name (p->device, "enroll-device");
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (p->device), _("This device’s name on the server"));
  gtk_editable_set_text (GTK_EDITABLE (p->device), g_get_host_name ());
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (p->connect_group), p->device);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (p->connect_group));

  /* What the code says, to check before anything is sent. */
  p->check_group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (p->check_group), _("Check Before Connecting"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (p->check_group),
                                         _("Connect only if this fingerprint is the one the server’s owner "
                                           "told you: it proves you reach your own server and nobody in "
                                           "between."));
  p->server = info_row (_("Server"), "enroll-server");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (p->check_group), p->server);
  p->fingerprint = info_row (_("Certificate fingerprint (SHA-256)"), "enroll-fingerprint");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (p->check_group), p->fingerprint);
  gtk_widget_set_visible (p->check_group, FALSE);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (p->check_group));

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  p->error = gtk_label_new (NULL);
  gtk_widget_set_name (p->error, "enroll-error");
  gtk_label_set_wrap (GTK_LABEL (p->error), TRUE);
  gtk_label_set_xalign (GTK_LABEL (p->error), 0);
  gtk_label_set_selectable (GTK_LABEL (p->error), TRUE);
  gtk_widget_add_css_class (p->error, "error");
  gtk_widget_set_visible (p->error, FALSE);
  gtk_box_append (GTK_BOX (box), p->error);
  {
    GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);

    gtk_widget_set_halign (row, GTK_ALIGN_CENTER);
    p->spinner = gtk_spinner_new ();
    gtk_widget_set_visible (p->spinner, FALSE);
    p->connect = gtk_button_new_with_mnemonic (_("_Connect"));
    gtk_widget_set_name (p->connect, "enroll-connect");
    gtk_widget_add_css_class (p->connect, "pill");
    gtk_widget_add_css_class (p->connect, "suggested-action");
    gtk_widget_set_sensitive (p->connect, FALSE);
    g_signal_connect (p->connect, "clicked", G_CALLBACK (connect_clicked_cb), page);
    p->join = gtk_button_new_with_mnemonic (_("_Join in a New Book"));
    gtk_widget_set_name (p->join, "enroll-join-new");
    gtk_widget_set_tooltip_text (p->join, _("Connect a new, empty book beside this one, which starts as a "
                                            "copy of your team’s book, and open it; this book stays as it is"));
    gtk_widget_add_css_class (p->join, "pill");
    gtk_widget_add_css_class (p->join, "suggested-action");
    gtk_widget_set_visible (p->join, FALSE);
    g_signal_connect (p->join, "clicked", G_CALLBACK (join_clicked_cb), page);
    p->cancel = gtk_button_new_with_mnemonic (_("_Cancel"));
    gtk_widget_set_name (p->cancel, "enroll-cancel");
    gtk_widget_add_css_class (p->cancel, "pill");
    g_signal_connect_swapped (p->cancel, "clicked", G_CALLBACK (cancel_clicked_cb), p);
    gtk_box_append (GTK_BOX (row), p->spinner);
    gtk_box_append (GTK_BOX (row), p->cancel);
    gtk_box_append (GTK_BOX (row), p->connect);
    gtk_box_append (GTK_BOX (row), p->join);
    gtk_box_append (GTK_BOX (box), row);
  }
  p->note = gtk_label_new (NULL);
  gtk_widget_set_name (p->note, "enroll-joined");
  gtk_label_set_wrap (GTK_LABEL (p->note), TRUE);
  gtk_label_set_xalign (GTK_LABEL (p->note), 0);
  gtk_label_set_selectable (GTK_LABEL (p->note), TRUE);
  gtk_widget_set_visible (p->note, FALSE);
  gtk_box_append (GTK_BOX (box), p->note);
  p->actions_group = adw_preferences_group_new ();
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (p->actions_group), box);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (p->actions_group));

  /* Connected: where, as whom, and how it goes. */
  p->server_group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (p->server_group), _("Server"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (p->server_group),
                                         _("Changes sync in the background when a network is there, every "
                                           "few minutes, and when you press Ctrl+Shift+S."));
  p->state_row = info_row (_("Status"), "sync-state-row");
  p->sync_now = gtk_button_new_with_mnemonic (_("_Sync Now"));
  gtk_widget_set_name (p->sync_now, "sync-now");
  gtk_widget_set_valign (p->sync_now, GTK_ALIGN_CENTER);
  g_signal_connect_swapped (p->sync_now, "clicked", G_CALLBACK (sync_now_clicked_cb), p);
  adw_action_row_add_suffix (ADW_ACTION_ROW (p->state_row), p->sync_now);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (p->server_group), p->state_row);
  p->url_row = info_row (_("Server"), "sync-server");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (p->server_group), p->url_row);
  p->user_row = info_row (_("Signed in as"), "sync-user");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (p->server_group), p->user_row);
  p->fp_row = info_row (_("Certificate fingerprint (SHA-256)"), "sync-fingerprint");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (p->server_group), p->fp_row);
  p->again_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (p->again_row), _("Enroll this book again"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (p->again_row),
                               _("With a new code from an owner of your team, when this device was revoked or "
                                 "the server’s certificate was replaced"));
  {
    GtkWidget *again = gtk_button_new_with_mnemonic (_("Enroll _Again…"));

    gtk_widget_set_name (again, "sync-enroll-again");
    gtk_widget_set_valign (again, GTK_ALIGN_CENTER);
    g_signal_connect_swapped (again, "clicked", G_CALLBACK (enroll_again_clicked_cb), p);
    adw_action_row_add_suffix (ADW_ACTION_ROW (p->again_row), again);
    adw_action_row_set_activatable_widget (ADW_ACTION_ROW (p->again_row), again);
  }
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (p->server_group), p->again_row);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (p->server_group));

  g_signal_connect_object (status, "changed", G_CALLBACK (status_changed_cb), page, G_CONNECT_SWAPPED);
  update (p);
  return page;
}
