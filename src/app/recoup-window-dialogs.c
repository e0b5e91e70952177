/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "recoup-locale-money.h"
#include "recoup-labels.h"
#include "recoup-window-private.h"
#include "recoup-promise.h"
#include "recoup-import.h"
#include "recoup-export.h"


/*
 * Dialogs are modal windows with Cancel and Save in the header bar. Every
 * field is validated as the user types (by core's parsers); Save stays
 * disabled while a field is wrong, and the field says what is wrong. The
 * write runs in a worker thread; an error keeps the dialog open.
 *
 * Widgets carry names ("amount", "save", ...) so UI tests can drive them.
 */

typedef struct
{
  RecoupWindow *window;
  GtkWindow    *dialog;
  GtkWidget    *save;
  GtkWidget    *error_label;
  GtkWidget    *channel;
  GtkWidget    *contact;
  GtkWidget    *outcome;
  GtkWidget    *notes;
  GtkWidget    *promise;
  GtkWidget    *amount;
  GtkWidget    *date;
  GtkWidget    *method;
  GtkWidget    *reference;
  GtkWidget    *verdict_row;
  GtkWidget    *verdict_icon;
  GtkWidget    *override;
  GtkWidget    *inbound;      /* Log Contact: the debtor contacted us */
  GtkWidget    *when;         /* Log Contact: when it happened, empty for now */
  GtkWidget    *allocation;
  GtkWidget    *period_from;  /* Statement: the period and the file's format */
  GtkWidget    *period_to;
  GtkWidget    *format;
  GPtrArray    *contact_ids;
  GArray       *contact_kinds;
  GPtrArray    *outcomes;     /* Log Contact: the outcomes offered, after “No outcome” */
  char         *account_id;
  char         *currency;
  gboolean      busy;
  gboolean      confirmed;    /* Record Payment: an unusual payment was confirmed */
  gboolean      amount_left;  /* Log Contact: the user has been in the promise's amount and left it */
  /* Log Contact at a time typed in When: the guard's verdict for that
   * instant and channel, asked in the background. */
  gint64              when_ms;
  char               *when_channel;
  RecoupGuardVerdict *when_verdict;
  char               *when_error;     /* the check could not be made */
  GCancellable       *when_check;
} Form;

static void
form_free (Form *form)
{
  g_clear_pointer (&form->contact_ids, g_ptr_array_unref);
  g_clear_pointer (&form->contact_kinds, g_array_unref);
  g_clear_pointer (&form->outcomes, g_ptr_array_unref);
  if (form->when_check != NULL)
    g_cancellable_cancel (form->when_check);
  g_clear_object (&form->when_check);
  g_clear_pointer (&form->when_verdict, recoup_guard_verdict_free);
  g_free (form->when_channel);
  g_free (form->when_error);
  g_free (form->account_id);
  g_free (form->currency);
  g_free (form);
}

static const char * const contact_channels[] = { "call", "visit", "email", "sms", "letter", "note", NULL };
static const char * const contact_outcomes[] = {
  "right-party", "no-answer", "voicemail", "wrong-number", "promise",
  "refused", "dispute", "callback-requested", "sent", "delivered", "bounced", NULL
};
static const char * const payment_methods[] = { "cash", "cheque", "card", "bank-transfer", "other", NULL };

static void
set_field_error (GtkWidget  *row,
                 gboolean    bad)
{
  if (bad)
    gtk_widget_add_css_class (row, "error");
  else
    gtk_widget_remove_css_class (row, "error");
}

static void
form_set_error (Form       *form,
                const char *message)
{
  gtk_label_set_text (GTK_LABEL (form->error_label), message != NULL ? message : "");
  gtk_widget_set_visible (form->error_label, message != NULL);
}

static GtkWidget *
combo_row_new (const char         *title,
               const char         *name,
               const char * const *labels)
{
  GtkWidget *row = adw_combo_row_new ();
  g_autoptr(GtkStringList) list = gtk_string_list_new (labels);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (list));
  gtk_widget_set_name (row, name);
  return row;
}

static GtkWidget *
entry_row_new (const char *title,
               const char *name,
               const char *text)
{
  GtkWidget *row = adw_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_widget_set_name (row, name);
  if (text != NULL)
    gtk_editable_set_text (GTK_EDITABLE (row), text);
  return row;
}

static void
cancel_clicked_cb (GtkButton *button,
                   Form      *form)
{
  gtk_window_close (form->dialog);
}

/* ---- keeping what the user typed ------------------------------------------ */

#define DISCARD_STATE "recoup-discard-state"

typedef struct
{
  gboolean dirty;       /* the user typed or picked something */
  gboolean discarding;  /* the user said to throw it away */
} DiscardState;

static gboolean
close_dialog_idle (gpointer data)
{
  GtkWindow *dialog = data;

  gtk_window_close (dialog);
  g_object_unref (dialog);
  return G_SOURCE_REMOVE;
}

static void
discard_response_cb (AdwMessageDialog *ask,
                     const char       *response,
                     GtkWindow        *dialog)
{
  DiscardState *state = g_object_get_data (G_OBJECT (dialog), DISCARD_STATE);

  if (!g_str_equal (response, "discard") || state == NULL)
    return;
  state->discarding = TRUE;
  /* After the question has closed itself: closing the dialog now would take
   * the question with it in the middle of its own response. */
  g_idle_add (close_dialog_idle, g_object_ref (dialog));
}

/* Cancel, Esc or the window closing with something typed asks first:
 * nothing the user entered goes without their say. */
static gboolean
discard_close_request_cb (GtkWindow    *dialog,
                          DiscardState *state)
{
  GtkWidget *ask;

  if (!state->dirty || state->discarding)
    return FALSE;
  ask = adw_message_dialog_new (dialog, _("Discard What You Entered?"),
                                _("It has not been saved. Keep editing to save it, or discard it."));
  /* It goes with the dialog (closing the main window takes both). */
  gtk_window_set_destroy_with_parent (GTK_WINDOW (ask), TRUE);
  gtk_widget_set_name (ask, "discard");
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (ask), "keep", _("_Keep Editing"),
                                    "discard", _("_Discard"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (ask), "discard", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (ask), "keep");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (ask), "keep");
  g_signal_connect_object (ask, "response", G_CALLBACK (discard_response_cb), dialog, 0);
  gtk_window_present (GTK_WINDOW (ask));
  return TRUE;
}

static void
mark_dirty_cb (DiscardState *state)
{
  state->dirty = TRUE;
}

/* Marks the dialog dirty when a text row, entry or choice under @widget
 * changes from now on. */
static void
watch_changes (DiscardState *state,
               GtkWidget    *widget)
{
  if (GTK_IS_EDITABLE (widget) && (ADW_IS_PREFERENCES_ROW (widget) || GTK_IS_ENTRY (widget)))
    g_signal_connect_swapped (widget, "changed", G_CALLBACK (mark_dirty_cb), state);
  else if (ADW_IS_COMBO_ROW (widget) || GTK_IS_DROP_DOWN (widget))
    g_signal_connect_swapped (widget, "notify::selected", G_CALLBACK (mark_dirty_cb), state);
  else if (ADW_IS_EXPANDER_ROW (widget))
    g_signal_connect_swapped (widget, "notify::enable-expansion", G_CALLBACK (mark_dirty_cb), state);
  else if (GTK_IS_SWITCH (widget) || GTK_IS_CHECK_BUTTON (widget))
    g_signal_connect_swapped (widget, "notify::active", G_CALLBACK (mark_dirty_cb), state);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    watch_changes (state, child);
}

/**
 * recoup_dialog_set_heading:
 *
 * Titles an account's dialog: what it does, and under it the whole name of
 * the account it does it to, so that a collector sees whose money they are
 * entering. A long name gets the header's width and a tooltip rather than
 * being cut after a few letters of the window title.
 */
void
recoup_dialog_set_heading (GtkWindow    *dialog,
                           AdwHeaderBar *header,
                           const char   *heading,
                           const char   *account_name)
{
  /* Translators: a dialog's window title: what it does — the account's name */
  g_autofree char *title = g_strdup_printf (_("%s — %s"), heading, account_name);
  GtkWidget *window_title = adw_window_title_new (heading, account_name);

  gtk_window_set_title (dialog, title);
  gtk_widget_set_name (window_title, "dialog-title");
  gtk_widget_set_tooltip_text (window_title, account_name);
  adw_header_bar_set_title_widget (header, window_title);
}

/**
 * recoup_dialog_keep_input:
 *
 * From now on, closing @dialog (Cancel, Esc, the window's close) after the
 * user changed anything in it asks before throwing it away. What it holds now
 * is its starting point. A dialog that saved closes with gtk_window_destroy(),
 * which does not ask. Rows added later call recoup_dialog_mark_changed().
 */
void
recoup_dialog_keep_input (GtkWindow *dialog)
{
  DiscardState *state = g_new0 (DiscardState, 1);

  g_object_set_data_full (G_OBJECT (dialog), DISCARD_STATE, state, g_free);
  watch_changes (state, GTK_WIDGET (dialog));
  g_signal_connect (dialog, "close-request", G_CALLBACK (discard_close_request_cb), state);
}

void
recoup_dialog_mark_changed (GtkWindow *dialog)
{
  DiscardState *state = g_object_get_data (G_OBJECT (dialog), DISCARD_STATE);

  if (state != NULL)
    state->dirty = TRUE;
}

/* Shows the built form; what it holds now is its starting point. */
static void
form_present (Form *form)
{
  recoup_dialog_keep_input (form->dialog);
  gtk_window_present (form->dialog);
}

/* A modal window: header bar with Cancel, @heading over the account's name
 * and Save, a preferences page. */
static Form *
form_new (RecoupWindow  *window,
          const char    *heading,
          const char    *save_label,
          GtkWidget    **out_page)
{
  Form *form = g_new0 (Form, 1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_("_Cancel"));
  GtkWidget *page = adw_preferences_page_new ();

  form->window = window;
  form->dialog = GTK_WINDOW (adw_window_new ());
  form->account_id = g_strdup (window->data->account->id);
  form->currency = g_strdup (window->data->account->currency);
  gtk_window_set_modal (form->dialog, TRUE);
  gtk_window_set_transient_for (form->dialog, GTK_WINDOW (window));
  gtk_window_set_default_size (form->dialog, 520, 620);
  gtk_window_set_destroy_with_parent (form->dialog, TRUE);
  g_object_set_data_full (G_OBJECT (form->dialog), "recoup-form", form, (GDestroyNotify) form_free);

  recoup_dialog_set_heading (form->dialog, ADW_HEADER_BAR (header), heading, window->data->account->name);
  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  adw_header_bar_set_show_start_title_buttons (ADW_HEADER_BAR (header), FALSE);
  g_signal_connect (cancel, "clicked", G_CALLBACK (cancel_clicked_cb), form);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), cancel);
  form->save = gtk_button_new_with_mnemonic (save_label);
  gtk_widget_set_name (form->save, "save");
  gtk_widget_add_css_class (form->save, "suggested-action");
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), form->save);
  gtk_window_set_default_widget (form->dialog, form->save);

  form->error_label = gtk_label_new (NULL);
  gtk_widget_set_name (form->error_label, "error");
  gtk_label_set_wrap (GTK_LABEL (form->error_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (form->error_label), 0);
  gtk_widget_add_css_class (form->error_label, "error");
  gtk_widget_set_margin_start (form->error_label, 18);
  gtk_widget_set_margin_end (form->error_label, 18);
  gtk_widget_set_margin_top (form->error_label, 12);
  gtk_widget_set_visible (form->error_label, FALSE);

  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), form->error_label);
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), page);
  adw_window_set_content (ADW_WINDOW (form->dialog), box);

  {
    GtkShortcutController *sc = GTK_SHORTCUT_CONTROLLER (gtk_shortcut_controller_new ());

    gtk_shortcut_controller_add_shortcut (sc, gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                                gtk_named_action_new ("window.close")));
    gtk_widget_add_controller (GTK_WIDGET (form->dialog), GTK_EVENT_CONTROLLER (sc));
  }

  g_set_weak_pointer (&window->dialog, form->dialog);
  *out_page = page;
  return form;
}

static GtkWidget *
page_group (GtkWidget  *page,
            const char *title,
            const char *description)
{
  GtkWidget *group = adw_preferences_group_new ();

  if (title != NULL)
    adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description != NULL)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  return group;
}

/* Checks an amount field; returns the amount or -1 and marks the field. */
static gint64
check_amount (Form       *form,
              GtkWidget  *row,
              const char *empty_format,
              GString    *problems)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row));
  g_autoptr(GError) error = NULL;
  gint64 minor = 0;

  if (*text == '\0')
    {
      g_autofree char *example = recoup_locale_money_format (12500, form->currency, RECOUP_MONEY_FORMAT_GROUPING);

      set_field_error (row, TRUE);
      g_string_append_printf (problems, empty_format, example);
      return -1;
    }
  if (!recoup_locale_money_parse (text, form->currency, &minor, &error))
    {
      set_field_error (row, TRUE);
      g_string_append_printf (problems, _("Amount: %s\n"), error->message);
      return -1;
    }
  if (minor <= 0)
    {
      set_field_error (row, TRUE);
      g_string_append_printf (problems, "%s\n", _("Amount: must be more than zero."));
      return -1;
    }
  set_field_error (row, FALSE);
  return minor;
}

static gboolean
check_date (GtkWidget  *row,
            GString    *problems)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row));
  g_autoptr(GError) error = NULL;

  if (recoup_date_parse (text, &error) == RECOUP_DATE_INVALID)
    {
      set_field_error (row, TRUE);
      g_string_append_printf (problems, _("Date: “%s” is not a date; write it as YYYY-MM-DD, e.g. 2026-12-01.\n"),
                              text);
      return FALSE;
    }
  set_field_error (row, FALSE);
  return TRUE;
}

static void
form_finish_problems (Form    *form,
                      GString *problems)
{
  if (problems->len > 0)
    {
      g_strchomp (problems->str);
      form_set_error (form, problems->str);
    }
  else
    form_set_error (form, NULL);
  gtk_widget_set_sensitive (form->save, problems->len == 0 && !form->busy);
}

/* Closes the form on success (returning %TRUE); keeps it open with the
 * error otherwise. Where the last payment went is shown until the next
 * write: after a contact or an offer it would read as news it is not. */
static gboolean
form_write_done (Form         *form,
                 GAsyncResult *result,
                 const char   *toast)
{
  g_autoptr(GError) error = NULL;
  RecoupWindow *window = form->window;

  if (!recoup_session_run_finish (window->session, result, &error))
    {
      form->busy = FALSE;
      gtk_widget_set_sensitive (form->save, TRUE);
      form_set_error (form, error->message);
      g_free (window->last_error);
      window->last_error = g_strdup (error->message);
      return FALSE;
    }
  g_clear_pointer (&window->last_allocation, recoup_allocation_free);
  recoup_window_toast (window, toast);
  recoup_window_reload_account (window);
  gtk_window_destroy (form->dialog);
  return TRUE;
}

/* ---- log a contact ----------------------------------------------------- */

typedef struct
{
  char   *account_id;
  char   *channel;
  char   *outcome;
  char   *contact_point_id;
  char   *notes;
  char   *override_reason;
  gboolean inbound;
  gint64  at;                 /* UTC ms; 0: now */
  gint64  promise_amount;
  char   *promise_date;
  RecoupActivityLogged logged;  /* core's answer, for the toast */
} ContactWrite;

static void
contact_write_free (ContactWrite *w)
{
  g_free (w->account_id);
  g_free (w->channel);
  g_free (w->outcome);
  g_free (w->contact_point_id);
  g_free (w->notes);
  g_free (w->override_reason);
  g_free (w->promise_date);
  g_free (w);
}

static gboolean
contact_write (RecoupBook  *book,
               gpointer     data,
               GError     **error)
{
  ContactWrite *w = data;
  RecoupActivitySpec spec = { 0 };
  g_autofree char *activity_id = NULL;

  spec.account_id = w->account_id;
  spec.channel = w->channel;
  spec.outcome = w->outcome;
  spec.contact_point_id = w->contact_point_id;
  spec.notes = w->notes;
  spec.override_reason = w->override_reason;
  spec.direction = w->inbound ? "inbound" : "outbound";
  spec.at = w->at;

  /* The guard decides at the moment of writing, not when the dialog opened,
   * for the instant the contact happened. */
  if (!recoup_book_begin (book, error))
    return FALSE;
  activity_id = recoup_activity_log_guarded (book, &spec, NULL, &w->logged, error);
  if (activity_id == NULL)
    goto fail;
  if (w->promise_amount > 0)
    {
      RecoupPromiseSpec ps = { 0 };
      g_autofree char *promise_id = NULL;
      g_autofree char *made_on = NULL;

      ps.account_id = w->account_id;
      ps.amount = w->promise_amount;
      ps.due_date = w->promise_date;
      ps.channel = w->channel;
      ps.activity_id = activity_id;
      ps.grace_days = -1;
      /* Taken in a contact logged afterwards: made on that contact's day. */
      if (w->at != 0)
        {
          g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (w->at / 1000);

          made_on = when != NULL ? g_date_time_format (when, "%Y-%m-%d") : NULL;
          ps.made_on = made_on;
        }
      promise_id = recoup_promise_add (book, &ps, error);
      if (promise_id == NULL)
        goto fail;
    }
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

/* When, as typed: empty for now; else “YYYY-MM-DD HH:MM” on this computer's
 * clock, not in the future nor before the account's date floor. Returns
 * FALSE (with @problems) when wrong. */
static gboolean
contact_read_when (Form    *form,
                   gint64  *out_ms,
                   GString *problems)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (form->when));
  RecoupAccountData *data = form->window->data;
  g_autoptr(GDateTime) dt = NULL;
  g_autoptr(GError) error = NULL;
  int y, mo, d, h, mi;
  char end;

  *out_ms = 0;
  set_field_error (form->when, FALSE);
  if (*text == '\0')
    return TRUE;
  if (sscanf (text, "%4d-%2d-%2d %2d:%2d%c", &y, &mo, &d, &h, &mi, &end) != 5 ||
      !g_date_valid_dmy (d, mo, y) || h > 23 || mi > 59 || h < 0 || mi < 0 ||
      !(dt = g_date_time_new_local (y, mo, d, h, mi, 0)))
    {
      set_field_error (form->when, TRUE);
      g_string_append_printf (problems, _("When: “%s” is not a date and time; write 2026-11-24 14:30, or "
                                          "leave it empty for now\n"), text);
      return FALSE;
    }
  *out_ms = g_date_time_to_unix (dt) * 1000;
  if (!recoup_activity_check_at (*out_ms, g_get_real_time () / 1000, NULL))
    {
      set_field_error (form->when, TRUE);
      g_string_append (problems, _("When: that is in the future; log a contact once it has happened\n"));
      return FALSE;
    }
  /* Core's floor, the one recoup_activity_log_guarded() applies: a mistyped
   * year, or 1970 (which would otherwise read as “now”). */
  if (!recoup_activity_check_floor (*out_ms, data != NULL ? data->payment_date_floor : NULL, &error))
    {
      set_field_error (form->when, TRUE);
      g_string_append_printf (problems, _("When: %s\n"), error->message);
      return FALSE;
    }
  return TRUE;
}

static void contact_validate (Form *form);

typedef struct
{
  char               *account_id;
  char               *channel;
  gint64              at;
  RecoupGuardVerdict *verdict;
} WhenCheck;

static void
when_check_free (WhenCheck *c)
{
  g_free (c->account_id);
  g_free (c->channel);
  g_clear_pointer (&c->verdict, recoup_guard_verdict_free);
  g_free (c);
}

static gboolean
when_check_read (RecoupBook  *book,
                 gpointer     data,
                 GError     **error)
{
  WhenCheck *c = data;

  return recoup_guard_check (book, c->account_id, c->channel, c->at, recoup_book_get_user_id (book),
                             &c->verdict, error);
}

/* The callback's data: the check is the task's and lives until the callback
 * has returned. */
typedef struct
{
  GtkWindow *dialog;
  WhenCheck *check;
} WhenPending;

static void
when_checked_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  WhenPending *pending = user_data;
  g_autoptr(GtkWindow) dialog = pending->dialog;
  Form *form = g_object_get_data (G_OBJECT (dialog), "recoup-form");
  g_autoptr(GError) error = NULL;
  WhenCheck *c = pending->check;

  g_free (pending);
  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* the dialog closed, or the time or channel changed */
  if (form == NULL || c->at != form->when_ms || g_strcmp0 (c->channel, form->when_channel) != 0)
    return;   /* asked for what the form no longer says */
  g_clear_pointer (&form->when_verdict, recoup_guard_verdict_free);
  g_clear_pointer (&form->when_error, g_free);
  if (error != NULL)
    form->when_error = g_strdup (error->message);
  else
    form->when_verdict = g_steal_pointer (&c->verdict);
  contact_validate (form);
}

/* The verdict the dialog shows for a guarded contact (see
 * recoup_activity_needs_guard()): the page's (for now), or the one for the
 * instant in When once it has been asked; NULL with *out_pending while it is
 * being asked. */
static RecoupGuardVerdict *
contact_verdict (Form       *form,
                 const char *channel,
                 gint64      when_ms,
                 gboolean   *out_pending)
{
  RecoupAccountData *data = form->window->data;
  WhenCheck *c;

  *out_pending = FALSE;
  if (data == NULL)
    return NULL;
  if (when_ms == 0)
    return recoup_account_data_get_verdict (data, channel);
  if (form->when_ms == when_ms && g_strcmp0 (form->when_channel, channel) == 0)
    {
      *out_pending = form->when_verdict == NULL && form->when_error == NULL;
      return form->when_verdict;
    }
  /* Ask anew for this instant and channel. */
  if (form->when_check != NULL)
    g_cancellable_cancel (form->when_check);
  g_clear_object (&form->when_check);
  g_clear_pointer (&form->when_verdict, recoup_guard_verdict_free);
  g_clear_pointer (&form->when_error, g_free);
  g_free (form->when_channel);
  form->when_channel = g_strdup (channel);
  form->when_ms = when_ms;
  form->when_check = g_cancellable_new ();
  c = g_new0 (WhenCheck, 1);
  c->account_id = g_strdup (form->account_id);
  c->channel = g_strdup (channel);
  c->at = when_ms;
  {
    WhenPending *pending = g_new0 (WhenPending, 1);

    pending->dialog = g_object_ref (form->dialog);
    pending->check = c;
    recoup_session_read_async (form->window->session, when_check_read, c, (GDestroyNotify) when_check_free,
                               form->when_check, when_checked_cb, pending);
  }
  *out_pending = TRUE;
  return NULL;
}

static void
contact_show_verdict (Form     *form,
                      GString  *problems)
{
  guint ch = adw_combo_row_get_selected (ADW_COMBO_ROW (form->channel));
  gboolean inbound = gtk_switch_get_active (GTK_SWITCH (form->inbound));
  RecoupActivitySpec probe = { .channel = contact_channels[ch], .direction = inbound ? "inbound" : "outbound" };
  gboolean guarded = recoup_activity_needs_guard (&probe);
  gboolean pending = FALSE;
  RecoupGuardVerdict *v = NULL;
  g_autoptr(GString) reasons = g_string_new (NULL);
  g_autofree char *reason = NULL;
  const char *title;
  const char *icon;
  const char *css;
  gint64 when_ms = 0;

  if (!contact_read_when (form, &when_ms, problems))
    when_ms = -1;
  else if (guarded)
    v = contact_verdict (form, contact_channels[ch], when_ms, &pending);

  gtk_widget_remove_css_class (form->verdict_icon, "success");
  gtk_widget_remove_css_class (form->verdict_icon, "warning");
  gtk_widget_remove_css_class (form->verdict_icon, "error");
  if (v == NULL && when_ms > 0 && guarded && form->when_error != NULL &&
      form->when_ms == when_ms && g_strcmp0 (form->when_channel, contact_channels[ch]) == 0)
    {
      /* Without the check the contact is not logged; saying why beats
       * “Checking…” for ever. */
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (form->verdict_row),
                                     _("The compliance rules could not be checked for that time"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (form->verdict_row), form->when_error);
      gtk_image_set_from_icon_name (GTK_IMAGE (form->verdict_icon), "dialog-warning-symbolic");
      gtk_widget_add_css_class (form->verdict_icon, "warning");
      gtk_widget_set_visible (form->override, FALSE);
      g_string_append (problems, _("When: the compliance rules could not be checked for that time; change it "
                                   "or try again\n"));
      return;
    }
  if (v == NULL)
    {
      const char *what = pending ? _("Checking the compliance rules for that time…")
                       : when_ms < 0 ? _("Compliance is checked for the time in When")
                       : inbound && g_strcmp0 (contact_channels[ch], "note") != 0
                         ? _("The debtor contacted you: no compliance check")
                       : _("No compliance check for notes");

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (form->verdict_row), what);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (form->verdict_row), "");
      gtk_image_set_from_icon_name (GTK_IMAGE (form->verdict_icon),
                                    pending || when_ms < 0 ? "dialog-information-symbolic" : "emblem-ok-symbolic");
      gtk_widget_set_visible (form->override, FALSE);
      if (pending)
        g_string_append (problems, _("Checking the compliance rules…\n"));
      return;
    }
  for (guint i = 0; v->reasons != NULL && i < v->reasons->len; i++)
    {
      RecoupGuardReason *reason = g_ptr_array_index (v->reasons, i);

      g_string_append_printf (reasons, "%s%s", reasons->len ? "\n" : "", reason->text);
    }
  if (v->verdict == RECOUP_VERDICT_BLOCKED && when_ms > 0)
    {
      title = v->may_override ? _("Blocked at that time — you may override with a reason")
                              : _("Blocked — the contact was not allowed at that time: say what happened, "
                                  "and the owner reviews it");
      icon = "action-unavailable-symbolic";
      css = "error";
    }
  else if (v->verdict == RECOUP_VERDICT_BLOCKED)
    {
      title = v->may_override ? _("Blocked — you may override with a reason")
                              : _("Blocked — contact not allowed now: if it happened, say what happened, and the "
                                  "owner reviews it");
      icon = "action-unavailable-symbolic";
      css = "error";
    }
  else if (v->verdict == RECOUP_VERDICT_WARN)
    {
      title = _("Allowed, with warnings");
      icon = "dialog-warning-symbolic";
      css = "warning";
    }
  else
    {
      title = when_ms > 0 ? _("Allowed at that time") : _("Allowed now");
      icon = "emblem-ok-symbolic";
      css = "success";
    }
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (form->verdict_row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (form->verdict_row), reasons->str);
  gtk_image_set_from_icon_name (GTK_IMAGE (form->verdict_icon), icon);
  gtk_widget_add_css_class (form->verdict_icon, css);

  /* A blocked contact is logged only with words on it (core's rule,
   * recoup_activity_log_guarded): from a user who may override, why; from
   * anyone else, what happened, and the account is flagged for review. */
  gtk_widget_set_visible (form->override, v->verdict == RECOUP_VERDICT_BLOCKED);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (form->override),
                                 v->may_override ? _("Override reason") : _("What happened"));
  reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (form->override))));
  if (v->verdict == RECOUP_VERDICT_BLOCKED && *reason == '\0')
    g_string_append_printf (problems, "%s\n",
                            v->may_override ? _("Override reason: say why this blocked contact is necessary; it "
                                                "is recorded.")
                                            : _("What happened: say how this contact came about; it is logged "
                                                "and the account is flagged for the owner's review."));
}

static const char *
selected_outcome (Form *form)
{
  guint pos = adw_combo_row_get_selected (ADW_COMBO_ROW (form->outcome));

  return pos > 0 && pos <= form->outcomes->len ? g_ptr_array_index (form->outcomes, pos - 1) : NULL;
}

static void
contact_validate (Form *form)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  gboolean incomplete = FALSE;

  contact_show_verdict (form, problems);

  if (form->promise != NULL && adw_expander_row_get_enable_expansion (ADW_EXPANDER_ROW (form->promise)))
    {
      RecoupAccountData *data = form->window->data;
      gint64 amount = -1;

      /* An amount not typed yet holds Save back, but is not called a
       * mistake until the user has left the field empty. */
      if (*gtk_editable_get_text (GTK_EDITABLE (form->amount)) == '\0' && !form->amount_left)
        incomplete = TRUE;
      else
        /* Translators: an amount as the user's locale writes it, 125.00 or 125,00 */
        amount = check_amount (form, form->amount, _("Amount: enter the amount promised, e.g. %s.\n"), problems);

      {
        g_autoptr(GError) error = NULL;

        /* Core's rule, the one recoup_promise_add() applies: the promise part
         * is switched off for such outcomes, this says why if one gets here. */
        if (!recoup_activity_check_promise_outcome (selected_outcome (form), &error))
          {
            set_field_error (form->outcome, TRUE);
            g_string_append_printf (problems, _("Outcome: %s\n"), error->message);
          }
        else
          set_field_error (form->outcome, FALSE);
      }
      if (check_date (form->date, problems) && amount > 0 && data != NULL)
        {
          g_autoptr(GError) error = NULL;

          /* The rules recoup_promise_add() applies, asked before Save: the
           * amount's part first, so that the right field is marked. */
          if (!recoup_promise_check_amount (amount, form->currency, data->owed, &error))
            set_field_error (form->amount, TRUE);
          else if (!recoup_promise_check_terms (amount, form->currency, data->owed,
                                                gtk_editable_get_text (GTK_EDITABLE (form->date)), data->today,
                                                &error))
            set_field_error (form->date, TRUE);
          if (error != NULL)
            g_string_append_printf (problems, _("Promise to Pay: %s\n"), error->message);
        }
    }
  else
    {
      set_field_error (form->outcome, FALSE);
      set_field_error (form->amount, FALSE);
      set_field_error (form->date, FALSE);
    }
  form_finish_problems (form, problems);
  if (incomplete)
    gtk_widget_set_sensitive (form->save, FALSE);
}

/* Connected with the dialog as data: focus also leaves while it is being
 * destroyed, with its form half gone. */
static void
amount_focus_leave_cb (GtkWindow *dialog)
{
  Form *form = g_object_get_data (G_OBJECT (dialog), "recoup-form");

  if (form == NULL || form->amount_left || !gtk_widget_get_mapped (GTK_WIDGET (dialog)))
    return;
  form->amount_left = TRUE;
  contact_validate (form);
}

static void
contact_changed_cb (Form *form)
{
  contact_validate (form);
}

/* Selects @outcome (a contact_outcomes name) in the outcome row, or “No
 * outcome” for NULL or one the channel does not offer. */
static void
select_outcome (Form       *form,
                const char *outcome)
{
  guint pos = 0;

  for (guint i = 0; outcome != NULL && i < form->outcomes->len; i++)
    if (g_str_equal (g_ptr_array_index (form->outcomes, i), outcome))
      pos = i + 1;
  adw_combo_row_set_selected (ADW_COMBO_ROW (form->outcome), pos);
}

/* Offers only the outcomes core says can come of @channel: no voicemail for
 * a letter, no bounce for a call. */
static void
offer_outcomes (Form       *form,
                const char *channel)
{
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);

  g_ptr_array_set_size (form->outcomes, 0);
  gtk_string_list_append (labels, _("No outcome"));
  for (guint i = 0; contact_outcomes[i] != NULL; i++)
    if (recoup_activity_outcome_fits (channel, contact_outcomes[i]))
      {
        g_ptr_array_add (form->outcomes, (gpointer) contact_outcomes[i]);
        gtk_string_list_append (labels, recoup_label_outcome (contact_outcomes[i]));
      }
  adw_combo_row_set_model (ADW_COMBO_ROW (form->outcome), G_LIST_MODEL (labels));
}

/* Picks the first contact point that suits the channel (a phone for a call). */
static void
channel_changed_cb (Form *form)
{
  const char *channel = contact_channels[adw_combo_row_get_selected (ADW_COMBO_ROW (form->channel))];
  int kind = g_str_equal (channel, "email") ? RECOUP_CONTACT_EMAIL
           : g_str_equal (channel, "letter") || g_str_equal (channel, "visit") ? RECOUP_CONTACT_ADDRESS
           : g_str_equal (channel, "note") ? -1
           : RECOUP_CONTACT_PHONE;
  guint pick = 0;

  for (guint i = 0; kind >= 0 && i < form->contact_kinds->len; i++)
    if (g_array_index (form->contact_kinds, int, i) == kind)
      {
        pick = i + 1;
        break;
      }
  adw_combo_row_set_selected (ADW_COMBO_ROW (form->contact), pick);
  offer_outcomes (form, channel);
  /* A letter, e-mail or text is logged when it is sent; what came of a call
   * or visit the user says. With a promise taken, that is the outcome. */
  if (form->promise != NULL && adw_expander_row_get_enable_expansion (ADW_EXPANDER_ROW (form->promise)))
    select_outcome (form, "promise");
  else if (!gtk_switch_get_active (GTK_SWITCH (form->inbound)) &&
           (g_str_equal (channel, "email") || g_str_equal (channel, "letter") || g_str_equal (channel, "sms")))
    select_outcome (form, "sent");
  else
    select_outcome (form, NULL);
  contact_validate (form);
}

/* A promise comes of a contact in which the debtor agreed (core's
 * recoup_activity_outcome_takes_promise()): after a wrong number, a refusal
 * or a dispute the promise part is off and says why. */
static void
outcome_changed_cb (Form *form)
{
  const char *outcome = selected_outcome (form);
  gboolean takes = recoup_activity_outcome_takes_promise (outcome);

  if (!takes)
    adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (form->promise), FALSE);
  gtk_widget_set_sensitive (form->promise, takes);
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (form->promise),
                                 takes ? _("The debtor promised an amount by a date")
                                       : _("Not with this outcome: a promise comes of a contact in which the "
                                           "debtor agreed (Promise to pay, or Spoke to the debtor)"));
  contact_validate (form);
}

static void
promise_toggled_cb (Form *form)
{
  if (adw_expander_row_get_enable_expansion (ADW_EXPANDER_ROW (form->promise)))
    select_outcome (form, "promise");
  contact_validate (form);
}

/* The callback's data: the write is the task's and lives until the callback
 * has returned. */
typedef struct
{
  GtkWindow    *dialog;
  ContactWrite *write;
} ContactPending;

static void
contact_saved_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ContactPending *pending = user_data;
  g_autoptr(GtkWindow) dialog = pending->dialog;
  Form *form = g_object_get_data (G_OBJECT (dialog), "recoup-form");
  RecoupActivityLogged logged = pending->write->logged;

  g_free (pending);
  /* What core did when it wrote, which the verdict the dialog showed may
   * no longer say: the block may have lifted, or come, since. */
  if (form != NULL)
    form_write_done (form, result, logged == RECOUP_ACTIVITY_LOGGED_FLAGGED
                                   ? _("Contact logged; the account is flagged for the owner's review")
                                   : _("Contact logged"));
}

static void
contact_save_cb (Form *form)
{
  ContactWrite *w = g_new0 (ContactWrite, 1);
  guint ch = adw_combo_row_get_selected (ADW_COMBO_ROW (form->channel));
  guint cp = adw_combo_row_get_selected (ADW_COMBO_ROW (form->contact));
  const char *notes = gtk_editable_get_text (GTK_EDITABLE (form->notes));
  ContactPending *pending;

  contact_validate (form);
  if (!gtk_widget_get_sensitive (form->save))
    {
      contact_write_free (w);
      return;
    }

  w->account_id = g_strdup (form->account_id);
  w->channel = g_strdup (contact_channels[ch]);
  w->outcome = g_strdup (selected_outcome (form));
  w->contact_point_id = cp > 0 ? g_strdup (g_ptr_array_index (form->contact_ids, cp - 1)) : NULL;
  w->notes = g_strdup (notes);
  w->inbound = gtk_switch_get_active (GTK_SWITCH (form->inbound));
  {
    g_autoptr(GString) ignored = g_string_new (NULL);

    contact_read_when (form, &w->at, ignored);
  }
  if (form->override != NULL && gtk_widget_get_visible (form->override))
    w->override_reason = g_strdup (gtk_editable_get_text (GTK_EDITABLE (form->override)));
  if (form->promise != NULL && adw_expander_row_get_enable_expansion (ADW_EXPANDER_ROW (form->promise)))
    {
      recoup_locale_money_parse (gtk_editable_get_text (GTK_EDITABLE (form->amount)), form->currency,
                          &w->promise_amount, NULL);
      w->promise_date = g_strdup (gtk_editable_get_text (GTK_EDITABLE (form->date)));
      if (w->outcome == NULL)
        w->outcome = g_strdup ("promise");
    }

  form->busy = TRUE;
  gtk_widget_set_sensitive (form->save, FALSE);
  pending = g_new0 (ContactPending, 1);
  pending->dialog = g_object_ref (form->dialog);
  pending->write = w;
  recoup_session_run_async (form->window->session, contact_write, w, (GDestroyNotify) contact_write_free,
                            NULL, contact_saved_cb, pending);
}

/* A check still running when the dialog closes has nothing left to show. */
static void
contact_destroy_cb (Form *form)
{
  if (form->when_check != NULL)
    g_cancellable_cancel (form->when_check);
}

void
recoup_window_log_contact (RecoupWindow *self)
{
  RecoupAccountData *data = self->data;
  g_autoptr(GPtrArray) channel_labels = g_ptr_array_new ();
  g_autoptr(GPtrArray) contact_labels = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *week = NULL;
  GtkWidget *page;
  GtkWidget *group;
  Form *form;

  if (data == NULL)
    {
      recoup_window_toast (self, _("Pick an account from the worklist first."));
      return;
    }

  form = form_new (self, _("Log Contact"), _("_Save"), &page);
  gtk_widget_set_name (GTK_WIDGET (form->dialog), "log-contact");

  if (data->account->cease_communication)
    {
      group = page_group (page, NULL, NULL);
      GtkWidget *label = gtk_label_new (_("This account asked Recoup to cease communication. Only log what "
                                          "the debtor initiated or what the law requires."));
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_add_css_class (label, "warning");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), label);
    }

  for (guint i = 0; contact_channels[i] != NULL; i++)
    g_ptr_array_add (channel_labels, (gpointer) recoup_label_channel (contact_channels[i]));
  g_ptr_array_add (channel_labels, NULL);

  form->contact_ids = g_ptr_array_new_with_free_func (g_free);
  form->contact_kinds = g_array_new (FALSE, FALSE, sizeof (int));
  g_ptr_array_add (contact_labels, g_strdup (_("None")));
  for (guint i = 0; i < data->contacts->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (data->contacts, i);

      if (cp->opted_out)
        continue;
      g_ptr_array_add (form->contact_ids, g_strdup (cp->id));
      g_array_append_val (form->contact_kinds, cp->kind);
      g_ptr_array_add (contact_labels, g_strdup (cp->value));
    }
  g_ptr_array_add (contact_labels, NULL);

  group = page_group (page, _("Compliance"), NULL);
  form->verdict_row = adw_action_row_new ();
  gtk_widget_set_name (form->verdict_row, "verdict");
  form->verdict_icon = gtk_image_new ();
  adw_action_row_add_prefix (ADW_ACTION_ROW (form->verdict_row), form->verdict_icon);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->verdict_row);
  form->override = entry_row_new (_("Override reason"), "override", NULL);
  gtk_widget_set_visible (form->override, FALSE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->override);

  group = page_group (page, _("Contact"), NULL);
  form->channel = combo_row_new (_("Channel"), "channel", (const char * const *) channel_labels->pdata);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->channel);
  form->contact = combo_row_new (_("Contact point"), "contact-point", (const char * const *) contact_labels->pdata);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->contact);
  form->outcome = combo_row_new (_("Outcome"), "outcome", NULL);
  form->outcomes = g_ptr_array_new ();
  offer_outcomes (form, contact_channels[0]);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->outcome);
  form->notes = entry_row_new (_("Notes"), "notes", NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->notes);
  /* A call the debtor made, a letter they wrote; and a visit logged back at
   * the car, or a day's calls logged that evening. */
  {
    GtkWidget *row = adw_action_row_new ();

    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("The debtor contacted us"));
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("They called, wrote or came by"));
    form->inbound = gtk_switch_new ();
    gtk_widget_set_name (form->inbound, "inbound");
    gtk_widget_set_valign (form->inbound, GTK_ALIGN_CENTER);
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), form->inbound);
    adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), form->inbound);
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  }
  {
    /* Typed in this computer's time, which may not be the debtor's: the
     * verdict below says what time it was there. */
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();
    g_autofree char *zone = g_date_time_format (now, "%Z");
    g_autofree char *title = g_strdup_printf (/* Translators: %s is this computer's time zone, e.g. CET */
                                              _("When, YYYY-MM-DD HH:MM %s (empty: now)"),
                                              zone);

    form->when = entry_row_new (title, "when", NULL);
  }
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->when);

  {
    g_autoptr(GDate) date = g_date_new ();
    gint32 today = recoup_date_parse (data->today, NULL);

    week = recoup_date_format (today + 7);
  }

  group = page_group (page, NULL, NULL);
  form->promise = adw_expander_row_new ();
  gtk_widget_set_name (form->promise, "promise");
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (form->promise), _("Promise to Pay"));
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (form->promise), _("The debtor promised an amount by a date"));
  adw_expander_row_set_show_enable_switch (ADW_EXPANDER_ROW (form->promise), TRUE);
  adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (form->promise), FALSE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->promise);
  form->amount = entry_row_new (_("Amount"), "amount", NULL);
  form->date = entry_row_new (_("Pay by (YYYY-MM-DD)"), "date", week);
  if (form->promise != NULL)
    {
      adw_expander_row_add_row (ADW_EXPANDER_ROW (form->promise), form->amount);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (form->promise), form->date);
      g_signal_connect_swapped (form->promise, "notify::enable-expansion", G_CALLBACK (promise_toggled_cb), form);
    }
  else
    {
      g_object_ref_sink (form->amount);
      g_object_ref_sink (form->date);
      g_object_set_data_full (G_OBJECT (form->dialog), "amount", form->amount, g_object_unref);
      g_object_set_data_full (G_OBJECT (form->dialog), "date", form->date, g_object_unref);
    }

  /* Start on the first channel the guard allows now without reservations,
   * not on a blocked call; when there is none (cease communication), on the
   * call, showing why. */
  {
    static const char * const preferred[] = { "call", "email", "sms", "letter", "visit", NULL };

    for (guint i = 0; preferred[i] != NULL; i++)
      {
        RecoupGuardVerdict *v = recoup_account_data_get_verdict (data, preferred[i]);

        if (v != NULL && v->verdict == RECOUP_VERDICT_ALLOWED)
          {
            for (guint k = 0; contact_channels[k] != NULL; k++)
              if (g_str_equal (contact_channels[k], preferred[i]))
                adw_combo_row_set_selected (ADW_COMBO_ROW (form->channel), k);
            break;
          }
      }
  }
  g_signal_connect_swapped (form->channel, "notify::selected", G_CALLBACK (channel_changed_cb), form);
  g_signal_connect_swapped (form->outcome, "notify::selected", G_CALLBACK (outcome_changed_cb), form);
  channel_changed_cb (form);
  g_signal_connect_swapped (form->override, "changed", G_CALLBACK (contact_changed_cb), form);
  g_signal_connect_swapped (form->when, "changed", G_CALLBACK (contact_changed_cb), form);
  g_signal_connect_swapped (form->dialog, "destroy", G_CALLBACK (contact_destroy_cb), form);
  g_signal_connect_swapped (form->inbound, "notify::active", G_CALLBACK (channel_changed_cb), form);
  g_signal_connect_swapped (form->amount, "changed", G_CALLBACK (contact_changed_cb), form);
  g_signal_connect_swapped (form->date, "changed", G_CALLBACK (contact_changed_cb), form);
  g_signal_connect_swapped (form->save, "clicked", G_CALLBACK (contact_save_cb), form);
  /* The notes are one line: Enter there saves, as it does in Record Payment's
   * amount. */
  g_signal_connect_swapped (form->notes, "entry-activated", G_CALLBACK (contact_save_cb), form);
  {
    GtkEventController *focus = gtk_event_controller_focus_new ();

    g_signal_connect_object (focus, "leave", G_CALLBACK (amount_focus_leave_cb), form->dialog, G_CONNECT_SWAPPED);
    gtk_widget_add_controller (form->amount, focus);
  }

  contact_validate (form);
  /* Nothing done yet is not an error worth shouting about: a block reads as
   * information (the verdict above says what to do) until the user starts. */
  form_set_error (form, NULL);
  gtk_widget_remove_css_class (form->verdict_icon, "error");
  form_present (form);
  gtk_widget_grab_focus (form->channel);
}

/* ---- record a payment -------------------------------------------------- */

typedef struct
{
  char   *account_id;
  gint64  amount;
  char   *date;
  char   *method;
  char   *reference;
  char   *memo;
  char   *currency;
  RecoupAllocation *allocation;
} PaymentWrite;

static void
payment_write_free (PaymentWrite *w)
{
  g_free (w->account_id);
  g_free (w->date);
  g_free (w->method);
  g_free (w->reference);
  g_free (w->memo);
  g_free (w->currency);
  g_clear_pointer (&w->allocation, recoup_allocation_free);
  g_free (w);
}

static gboolean
payment_write (RecoupBook  *book,
               gpointer     data,
               GError     **error)
{
  PaymentWrite *w = data;
  RecoupEntrySpec spec = { 0 };
  g_autofree char *id = NULL;

  spec.kind = RECOUP_ENTRY_PAYMENT;
  spec.account_id = w->account_id;
  spec.amount = w->amount;
  spec.effective_date = w->date;
  spec.method = w->method;
  spec.reference = *w->reference != '\0' ? w->reference : NULL;
  spec.memo = w->memo;
  /* Recorded for real, with where it went kept for the account page. */
  w->allocation = recoup_allocation_run (book, &spec, w->currency, TRUE, error);
  return w->allocation != NULL;
}

static void
payment_validate (Form *form)
{
  g_autoptr(GString) problems = g_string_new (NULL);

  /* Translators: an amount as the user's locale writes it, 125.00 or 125,00 */
  gint64 amount = check_amount (form, form->amount, _("Amount: enter the amount paid, e.g. %s.\n"), problems);
  gboolean date_ok = check_date (form->date, problems);

  if (date_ok && form->window->data != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!recoup_ledger_check_payment_date (gtk_editable_get_text (GTK_EDITABLE (form->date)),
                                             form->window->data->payment_date_floor,
                                             form->window->data->today, &error))
        {
          set_field_error (form->date, TRUE);
          g_string_append_printf (problems, _("Date: %s\n"), error->message);
          date_ok = FALSE;
        }
    }
  /* Core's limits, as they are typed. */
  {
    GtkWidget *fields[] = { form->reference, form->notes };

    for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
      {
        g_autoptr(GError) error = NULL;
        const char *text = gtk_editable_get_text (GTK_EDITABLE (fields[i]));

        set_field_error (fields[i], !recoup_ledger_check_texts (i == 0 ? text : NULL, i == 1 ? text : NULL,
                                                                &error));
        if (error != NULL)
          g_string_append_printf (problems, i == 0 ? _("Reference: %s\n") : _("Memo: %s\n"), error->message);
      }
  }
  form_finish_problems (form, problems);
  if (form->allocation != NULL)
    recoup_allocation_group_request (form->allocation, form->window->session, form->account_id, form->currency,
                                     date_ok ? amount : -1, gtk_editable_get_text (GTK_EDITABLE (form->date)));
}

static void
payment_saved_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GtkWindow) dialog = user_data;
  Form *form = g_object_get_data (G_OBJECT (dialog), "recoup-form");

  PaymentWrite *w = g_object_get_data (G_OBJECT (dialog), "payment-write");
  g_autoptr(RecoupAllocation) allocation = NULL;
  g_autofree char *account_id = NULL;
  RecoupWindow *window;

  if (form == NULL)
    return;
  window = form->window;
  account_id = g_strdup (form->account_id);
  if (w != NULL)
    allocation = g_steal_pointer (&w->allocation);
  /* The page is rebuilt later, from the reload form_write_done starts. */
  if (form_write_done (form, result, _("Payment recorded")) && allocation != NULL)
    {
      window->last_allocation = g_steal_pointer (&allocation);
      g_free (window->last_allocation_account);
      window->last_allocation_account = g_steal_pointer (&account_id);
    }
}

static void payment_save_cb (Form *form);

static void
payment_confirm_response_cb (AdwMessageDialog *ask,
                             const char       *response,
                             gpointer          user_data)
{
  g_autoptr(GtkWindow) dialog = user_data;
  Form *form = g_object_get_data (G_OBJECT (dialog), "recoup-form");

  if (form == NULL || g_strcmp0 (response, "record") != 0)
    return;
  form->confirmed = TRUE;
  payment_save_cb (form);
}

/* What is unusual about the payment as typed, for a confirmation: more than
 * the account owes (the rest becomes a credit), or dated before the account's
 * first invoice. NULL when nothing is. */
static char *
payment_concerns (Form   *form,
                  gint64  amount,
                  const char *date)
{
  RecoupAccountData *data = form->window->data;
  g_autoptr(GString) text = g_string_new (NULL);
  const char *first = NULL;

  if (data == NULL)
    return NULL;
  if (amount > data->owed)
    {
      g_autofree char *extra = recoup_locale_money_format (amount - MAX (data->owed, 0), form->currency,
                                                           RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
      g_autofree char *owed = recoup_locale_money_format (MAX (data->owed, 0), form->currency,
                                                          RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);

      /* Translators: the amount over, then what the account owes */
      g_string_append_printf (text, _("It is %s more than the %s the account owes; the difference is kept "
                                      "as a credit on the account."), extra, owed);
    }
  for (guint i = 0; data->invoices != NULL && i < data->invoices->len; i++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (data->invoices, i);

      if (first == NULL || g_strcmp0 (ib->issue_date, first) < 0)
        first = ib->issue_date;
    }
  if (first != NULL && g_strcmp0 (date, first) < 0)
    {
      if (text->len > 0)
        g_string_append_c (text, ' ');
      /* Translators: the payment's date, then the first invoice's */
      g_string_append_printf (text, _("It is dated %s, before the account's first invoice (%s)."), date, first);
    }
  return text->len > 0 ? g_string_free (g_steal_pointer (&text), FALSE) : NULL;
}

static void
payment_save_cb (Form *form)
{
  PaymentWrite *w;
  g_autofree char *concerns = NULL;
  gint64 amount = 0;

  payment_validate (form);
  if (!gtk_widget_get_sensitive (form->save))
    return;

  /* An overpayment or a date before any invoice is usually a slip of the
   * keyboard: ask once before recording it. */
  recoup_locale_money_parse (gtk_editable_get_text (GTK_EDITABLE (form->amount)), form->currency, &amount, NULL);
  if (!form->confirmed &&
      (concerns = payment_concerns (form, amount, gtk_editable_get_text (GTK_EDITABLE (form->date)))) != NULL)
    {
      g_autofree char *shown = recoup_locale_money_format (amount, form->currency,
                                                           RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
      g_autofree char *heading = g_strdup_printf (_("Record a Payment of %s?"), shown);
      GtkWidget *ask = adw_message_dialog_new (form->dialog, heading, concerns);

      gtk_widget_set_name (ask, "confirm-payment");
      gtk_window_set_modal (GTK_WINDOW (ask), TRUE);
      gtk_window_set_destroy_with_parent (GTK_WINDOW (ask), TRUE);
      adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (ask), "cancel", _("_Cancel"),
                                        "record", _("_Record Payment"), NULL);
      adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (ask), "record",
                                                  ADW_RESPONSE_SUGGESTED);
      adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (ask), "cancel");
      adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (ask), "cancel");
      g_signal_connect (ask, "response", G_CALLBACK (payment_confirm_response_cb), g_object_ref (form->dialog));
      gtk_window_present (GTK_WINDOW (ask));
      return;
    }

  w = g_new0 (PaymentWrite, 1);
  w->account_id = g_strdup (form->account_id);
  recoup_locale_money_parse (gtk_editable_get_text (GTK_EDITABLE (form->amount)), form->currency, &w->amount, NULL);
  w->date = g_strdup (gtk_editable_get_text (GTK_EDITABLE (form->date)));
  w->method = g_strdup (payment_methods[adw_combo_row_get_selected (ADW_COMBO_ROW (form->method))]);
  w->reference = g_strdup (gtk_editable_get_text (GTK_EDITABLE (form->reference)));
  w->memo = g_strdup (gtk_editable_get_text (GTK_EDITABLE (form->notes)));
  w->currency = g_strdup (form->currency);
  /* The dialog reads the allocation back when the write is done. */
  g_object_set_data (G_OBJECT (form->dialog), "payment-write", w);

  form->busy = TRUE;
  gtk_widget_set_sensitive (form->save, FALSE);
  recoup_session_run_async (form->window->session, payment_write, w, (GDestroyNotify) payment_write_free,
                            NULL, payment_saved_cb, g_object_ref (form->dialog));
}

/* A confirmation holds for the amount and date it was asked about. */
static void
payment_changed_cb (Form *form)
{
  form->confirmed = FALSE;
  payment_validate (form);
}

void
recoup_window_record_payment (RecoupWindow *self)
{
  RecoupAccountData *data = self->data;
  g_autoptr(GPtrArray) method_labels = g_ptr_array_new ();
  g_autofree char *balance = NULL;
  g_autofree char *description = NULL;
  GtkWidget *page;
  GtkWidget *group;
  Form *form;

  if (data == NULL)
    {
      recoup_window_toast (self, _("Pick an account from the worklist first."));
      return;
    }

  form = form_new (self, _("Record Payment"), _("_Record"), &page);
  gtk_widget_set_name (GTK_WIDGET (form->dialog), "record-payment");
  gtk_window_set_default_size (form->dialog, 480, 640);

  balance = recoup_locale_money_format (data->aging.total, data->account->currency,
                                 RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  description = g_strdup_printf (_("Balance %s. The payment goes to the oldest open invoices first."), balance);
  group = page_group (page, _("Payment"), description);

  form->amount = entry_row_new (_("Amount"), "amount", NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->amount);
  form->date = entry_row_new (_("Date (YYYY-MM-DD)"), "date", data->today);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->date);
  for (guint i = 0; payment_methods[i] != NULL; i++)
    g_ptr_array_add (method_labels, (gpointer) recoup_label_method (payment_methods[i]));
  g_ptr_array_add (method_labels, NULL);
  form->method = combo_row_new (_("Method"), "method", (const char * const *) method_labels->pdata);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->method);
  form->reference = entry_row_new (_("Reference"), "reference", NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->reference);
  form->notes = entry_row_new (_("Memo"), "memo", NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->notes);
  form->allocation = recoup_allocation_group_new (_("Allocation"));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (form->allocation));

  g_signal_connect_swapped (form->amount, "changed", G_CALLBACK (payment_changed_cb), form);
  g_signal_connect_swapped (form->date, "changed", G_CALLBACK (payment_changed_cb), form);
  g_signal_connect_swapped (form->reference, "changed", G_CALLBACK (payment_validate), form);
  g_signal_connect_swapped (form->notes, "changed", G_CALLBACK (payment_validate), form);
  g_signal_connect_swapped (form->save, "clicked", G_CALLBACK (payment_save_cb), form);
  g_signal_connect_swapped (form->amount, "entry-activated", G_CALLBACK (payment_save_cb), form);

  payment_validate (form);
  /* Nothing typed yet is not an error worth shouting about. */
  form_set_error (form, NULL);
  set_field_error (form->amount, FALSE);
  form_present (form);
  gtk_widget_grab_focus (form->amount);
}

/* ---- reverse a payment ------------------------------------------------- */

typedef struct
{
  char *entry_id;
  char *reason;     /* as typed; NULL when none was given */
} ReverseWrite;

static void
reverse_write_free (ReverseWrite *w)
{
  g_free (w->entry_id);
  g_free (w->reason);
  g_free (w);
}

static gboolean
reverse_write (RecoupBook  *book,
               gpointer     data,
               GError     **error)
{
  ReverseWrite *w = data;
  /* No reason, no memo: words of the app's own would be stored in the
   * writer's language and printed on statements; readers word it instead. */
  g_autofree char *id = recoup_ledger_reverse (book, w->entry_id, NULL, w->reason, error);

  return id != NULL;
}

static void
reverse_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(RecoupWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    {
      recoup_window_show_error (self, error);
      return;
    }
  recoup_window_toast (self, _("Payment reversed"));
  /* Where the last payment went may no longer hold. */
  g_clear_pointer (&self->last_allocation, recoup_allocation_free);
  recoup_window_reload_account (self);
}

static void
reverse_response_cb (AdwMessageDialog *dialog,
                     const char       *response,
                     RecoupWindow     *self)
{
  GtkWidget *reason = adw_message_dialog_get_extra_child (dialog);
  ReverseWrite *w;
  g_autofree char *text = NULL;

  if (g_strcmp0 (response, "reverse") != 0)
    return;
  w = g_new0 (ReverseWrite, 1);
  w->entry_id = g_strdup (g_object_get_data (G_OBJECT (dialog), "entry-id"));
  text = g_strstrip (g_strdup (reason != NULL ? gtk_editable_get_text (GTK_EDITABLE (reason)) : ""));
  if (*text != '\0')
    w->reason = g_steal_pointer (&text);
  recoup_session_run_async (self->session, reverse_write, w, (GDestroyNotify) reverse_write_free,
                            self->cancellable, reverse_done_cb, g_object_ref (self));
}

void
recoup_window_reverse_entry (RecoupWindow *self,
                             const char   *entry_id)
{
  GtkWidget *dialog;
  GtkWidget *reason;
  RecoupLedgerEntry *entry = NULL;
  g_autofree char *heading = NULL;

  /* Name the payment: the user clicked one row of many. */
  for (guint i = 0; self->data != NULL && self->data->ledger != NULL && i < self->data->ledger->len; i++)
    {
      RecoupLedgerEntry *e = g_ptr_array_index (self->data->ledger, i);

      if (g_strcmp0 (e->id, entry_id) == 0)
        entry = e;
    }
  if (entry != NULL)
    {
      g_autofree char *amount = recoup_locale_money_format (entry->amount < 0 ? -entry->amount : entry->amount,
                                                            entry->currency,
                                                            RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);

      /* Translators: an amount, then the day it was paid */
      heading = g_strdup_printf (_("Reverse the Payment of %s Made on %s?"), amount, entry->effective_date);
    }
  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading != NULL ? heading : _("Reverse Payment?"),
                                   _("A reversing entry is added to the ledger and the balance goes back up. "
                                     "The original payment stays in the history."));
  gtk_widget_set_name (dialog, "reverse-payment");
  reason = gtk_entry_new ();
  gtk_widget_set_name (reason, "reason");
  gtk_entry_set_placeholder_text (GTK_ENTRY (reason), _("Why, e.g. the cheque bounced (optional)"));
  gtk_entry_set_activates_default (GTK_ENTRY (reason), FALSE);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), reason);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "reverse", _("_Reverse"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "reverse",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "entry-id", g_strdup (entry_id), g_free);
  g_signal_connect (dialog, "response", G_CALLBACK (reverse_response_cb), self);
  g_set_weak_pointer (&self->dialog, GTK_WINDOW (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- a write on the shown account --------------------------------------- */

typedef struct
{
  RecoupWindow *window;
  const char   *toast;    /* translated, static */
} AccountWriteDone;

/* Shows what went wrong, or @toast and the account as it is now. */
static gpointer
account_write_done_new (RecoupWindow *self,
                        const char   *toast)
{
  AccountWriteDone *done = g_new0 (AccountWriteDone, 1);

  done->window = g_object_ref (self);
  done->toast = toast;
  return done;
}

static void
account_write_done_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  AccountWriteDone *done = user_data;
  g_autoptr(RecoupWindow) self = done->window;
  const char *toast = done->toast;
  g_autoptr(GError) error = NULL;

  g_free (done);
  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    {
      recoup_window_show_error (self, error);
      return;
    }
  recoup_window_toast (self, toast);
  recoup_window_reload_account (self);
}

/* ---- opting a contact point back in -------------------------------------- */

/* Opting out is one click on the account page, with Undo on its toast
 * (recoup_window_opt_out_contact()); opting back in re-enables a contact
 * point the debtor asked us not to use, so it asks for their consent, which
 * core keeps in the account's history. */
typedef struct
{
  char *contact_id;
  char *consent;     /* who agreed, when and how */
} OptInWrite;

static void
opt_in_write_free (OptInWrite *w)
{
  g_free (w->contact_id);
  g_free (w->consent);
  g_free (w);
}

static gboolean
opt_in_write (RecoupBook  *book,
              gpointer     data,
              GError     **error)
{
  OptInWrite *w = data;

  return recoup_contact_opt_back_in (book, w->contact_id, w->consent, error);
}

static void
opt_in_consent_changed_cb (GtkEditable      *consent,
                           AdwMessageDialog *dialog)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (consent)));

  adw_message_dialog_set_response_enabled (dialog, "opt-in", *text != '\0');
}

static void
opt_in_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    RecoupWindow     *self)
{
  GtkWidget *consent = adw_message_dialog_get_extra_child (dialog);
  g_autofree char *text = NULL;
  OptInWrite *w;

  if (g_strcmp0 (response, "opt-in") != 0)
    return;
  text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (consent))));
  if (*text == '\0')
    return;
  w = g_new0 (OptInWrite, 1);
  w->contact_id = g_strdup (g_object_get_data (G_OBJECT (dialog), "contact-id"));
  w->consent = g_steal_pointer (&text);
  recoup_session_run_async (self->session, opt_in_write, w, (GDestroyNotify) opt_in_write_free,
                            self->cancellable, account_write_done_cb,
                            account_write_done_new (self, _("Contact point opted back in; "
                                                            "the consent is in the history")));
}

/* Asks before a contact point the debtor opted out of is used again: only
 * on their word, which the user notes down (who, when, how). */
static void
ask_opt_in (RecoupWindow *self,
            const char   *contact_id)
{
  const char *value = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;
  GtkWidget *consent;

  for (guint i = 0; i < self->data->contacts->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (self->data->contacts, i);

      if (g_strcmp0 (cp->id, contact_id) == 0)
        value = cp->value;
    }
  g_return_if_fail (value != NULL);
  /* Translators: a phone number, e-mail or postal address */
  body = g_strdup_printf (_("Has the debtor asked to be contacted at %s again? Only then opt it back in, and note "
                            "who agreed, when and how: the note is kept in the account's history."), value);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Opt Back In?"), body);
  gtk_widget_set_name (dialog, "opt-in");
  consent = gtk_entry_new ();
  gtk_widget_set_name (consent, "consent");
  gtk_entry_set_placeholder_text (GTK_ENTRY (consent), _("e.g. J. Jansen asked by phone on 2026-11-24"));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), consent);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "opt-in", _("_Opt Back In"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "opt-in", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "opt-in", FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "contact-id", g_strdup (contact_id), g_free);
  g_signal_connect (consent, "changed", G_CALLBACK (opt_in_consent_changed_cb), dialog);
  g_signal_connect (dialog, "response", G_CALLBACK (opt_in_response_cb), self);
  g_set_weak_pointer (&self->dialog, GTK_WINDOW (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (consent);
}

/* Asks for the debtor's consent, then opts the contact point back in. */
void
recoup_window_opt_in_contact (RecoupWindow *self,
                              const char   *contact_id)
{
  if (self->data != NULL)
    ask_opt_in (self, contact_id);
}

/* ---- review items ------------------------------------------------------- */

typedef struct
{
  char      *account_id;
  GPtrArray *items;  /* RecoupReviewItem, the ones the owner was shown */
} ReviewedWrite;

static void
reviewed_write_free (ReviewedWrite *w)
{
  g_free (w->account_id);
  g_ptr_array_unref (w->items);
  g_free (w);
}

static gboolean
reviewed_write (RecoupBook  *book,
                gpointer     data,
                GError     **error)
{
  ReviewedWrite *w = data;

  /* Core refuses anyone but an owner. */
  return recoup_review_mark (book, w->account_id, w->items, error);
}

/**
 * recoup_window_mark_reviewed:
 *
 * Marks the review items the account page shows as reviewed: the owner has
 * looked at them. Items that arrived since (a sync) stay open.
 */
void
recoup_window_mark_reviewed (RecoupWindow *self)
{
  ReviewedWrite *w;

  if (self->data == NULL || self->data->review == NULL)
    return;
  w = g_new0 (ReviewedWrite, 1);
  w->account_id = g_strdup (self->data->account->id);
  w->items = g_ptr_array_ref (self->data->review);
  recoup_session_run_async (self->session, reviewed_write, w, (GDestroyNotify) reviewed_write_free,
                            self->cancellable, account_write_done_cb,
                            account_write_done_new (self, _("Account marked as reviewed")));
}

/* ---- open tel: / mailto: ----------------------------------------------- */

static void
launch_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(RecoupWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    {
      g_autofree char *message = g_strdup_printf (_("No application handles this link (%s). "
                                                    "Install a phone or mail application."),
                                                  error->message);
      recoup_window_toast (self, message);
    }
}

void
recoup_window_open_uri (RecoupWindow *self,
                        const char   *uri)
{
  g_app_info_launch_default_for_uri_async (uri, NULL, self->cancellable, launch_done_cb, g_object_ref (self));
}

/* ---- import ------------------------------------------------------------ */

typedef struct
{
  char               *path;
  RecoupImportFlags   flags;
  GtkProgressBar     *bar;     /* weak, main thread only */
  RecoupImportReport *report;
  GCancellable       *cancellable;
} ImportJob;

typedef struct
{
  GtkWidget *bar;
  guint64    done;
  guint64    total;
} ImportProgress;

static void
import_job_free (ImportJob *job)
{
  g_free (job->path);
  g_clear_pointer (&job->report, recoup_import_report_free);
  g_clear_object (&job->cancellable);
  g_clear_weak_pointer (&job->bar);
  g_free (job);
}

static gboolean
import_progress_idle (gpointer data)
{
  ImportProgress *p = data;

  if (p->bar != NULL && p->total > 0)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (p->bar), (double) p->done / (double) p->total);
  return G_SOURCE_REMOVE;
}

static void
import_progress_free (ImportProgress *p)
{
  g_clear_weak_pointer (&p->bar);
  g_free (p);
}

static void
import_progress (guint64  done,
                 guint64  total,
                 gpointer user_data)
{
  ImportJob *job = user_data;
  ImportProgress *p = g_new0 (ImportProgress, 1);

  p->done = done;
  p->total = total;
  if (job->bar != NULL)
    g_set_weak_pointer (&p->bar, GTK_WIDGET (job->bar));
  g_idle_add_full (G_PRIORITY_DEFAULT, import_progress_idle, p, (GDestroyNotify) import_progress_free);
}

static gboolean
import_write (RecoupBook  *book,
              gpointer     data,
              GError     **error)
{
  ImportJob *job = data;

  return recoup_import_csv (book, job->path, job->flags, import_progress, job,
                            job->cancellable, &job->report, error);
}

static void import_file (RecoupWindow      *self,
                         const char        *path,
                         RecoupImportFlags  flags);

static void
import_failed_response_cb (AdwMessageDialog *dialog,
                           const char       *response,
                           RecoupWindow     *self)
{
  const char *path = g_object_get_data (G_OBJECT (dialog), "path");

  if (g_str_equal (response, "skip-invalid") && path != NULL)
    import_file (self, path, RECOUP_IMPORT_SKIP_INVALID);
}

static void
import_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GtkWindow) progress = user_data;
  RecoupWindow *self = RECOUP_WINDOW (gtk_window_get_transient_for (progress));
  ImportJob *job = g_object_get_data (G_OBJECT (progress), "job");
  g_autoptr(GError) error = NULL;

  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    {
      g_autoptr(GString) list = g_string_new (NULL);
      g_autofree char *name = g_path_get_basename (job->path);
      g_autofree char *body = NULL;
      GtkWidget *dialog;

      gtk_window_destroy (progress);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          recoup_window_toast (self, _("Import cancelled: nothing was imported"));
          return;
        }
      /* The rows, by line, with the file named once in the heading. */
      if (job->report != NULL && job->report->problem_list != NULL)
        for (guint i = 0; i < job->report->problem_list->len && i < 50; i++)
          {
            RecoupImportProblem *p = g_ptr_array_index (job->report->problem_list, i);

            if (p->line > 0)
              g_string_append_printf (list, _("Line %u, %s: %s\n"), p->line, p->column, p->message);
            else
              g_string_append_printf (list, "%s\n", p->message);
          }
      if (list->len > 0)
        {
          g_string_truncate (list, list->len - 1);
          body = g_strdup_printf (_("Nothing was imported from %s. Correct these rows in the file and "
                                    "import it again."), name);
        }
      else
        body = g_strdup_printf (_("Nothing was imported from %s: %s"), name, error->message);
      g_free (self->last_error);
      self->last_error = g_strdup_printf ("%s\n%s", error->message, list->str);
      dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Import Failed"), body);
      gtk_widget_set_name (dialog, "import-failed");
      if (list->len > 0)
        {
          GtkWidget *scroller = gtk_scrolled_window_new ();
          GtkWidget *label = gtk_label_new (list->str);

          gtk_label_set_xalign (GTK_LABEL (label), 0);
          gtk_widget_set_valign (label, GTK_ALIGN_START);
          gtk_label_set_wrap (GTK_LABEL (label), TRUE);
          gtk_label_set_selectable (GTK_LABEL (label), TRUE);
          gtk_widget_set_name (label, "import-problems");
          gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
          /* A wrapped label under-reports its height to the scroller: give
           * it room for the rows (two lines each) up to a screenful. */
          gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scroller),
                                                      MIN (40 * (int) job->report->problem_list->len, 320));
          gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
          gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroller), 320);
          gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), label);
          adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), scroller);
          gtk_window_set_default_size (GTK_WINDOW (dialog), 560, -1);
        }
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
      /* As the CLI's --skip-invalid: the rows without problems, the others
       * reported. Offered when some rows are fine. */
      if (g_error_matches (error, RECOUP_IMPORT_ERROR, RECOUP_IMPORT_ERROR_INVALID) && job->report != NULL)
        {
          guint valid = job->report->rows - MIN (job->report->rows_invalid, job->report->rows);

          if (valid > 0)
            {
              g_autofree char *label = g_strdup_printf (ngettext ("_Import the Other Row",
                                                                  "_Import the Other %u Rows", valid), valid);

              adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "skip-invalid", label);
              g_object_set_data_full (G_OBJECT (dialog), "path", g_strdup (job->path), g_free);
              g_signal_connect_object (dialog, "response", G_CALLBACK (import_failed_response_cb), self, 0);
            }
        }
      g_set_weak_pointer (&self->dialog, GTK_WINDOW (dialog));
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }
  {
    const RecoupImportReport *r = job->report;
    guint imported = r->rows - MIN (r->rows_skipped + r->rows_repeated, r->rows);
    guint updated = r->accounts_updated + r->invoices_updated;
    g_autoptr(GString) what = g_string_new (NULL);
    g_autofree char *msg = NULL;

    /* Each count with its own plural: "1 account and 1 invoice created". */
    if (r->accounts_created > 0)
      g_string_append_printf (what, ngettext ("%u account created", "%u accounts created", r->accounts_created),
                              r->accounts_created);
    if (r->invoices_created > 0)
      {
        if (what->len > 0)
          g_string_append (what, _(", "));
        g_string_append_printf (what, ngettext ("%u invoice created", "%u invoices created", r->invoices_created),
                                r->invoices_created);
      }
    if (updated > 0)
      {
        if (what->len > 0)
          g_string_append (what, _(", "));
        g_string_append_printf (what, ngettext ("%u updated", "%u updated", updated), updated);
      }
    if (what->len == 0)
      g_string_append (what, _("nothing new"));
    if (r->rows_repeated > 0)
      {
        g_string_append (what, _("; "));
        g_string_append_printf (what, ngettext ("%u exact repeat of a row ignored", "%u exact repeats of rows ignored",
                                                r->rows_repeated), r->rows_repeated);
      }
    msg = g_strdup_printf (ngettext ("Imported %u row: %s", "Imported %u rows: %s", imported), imported, what->str);
    if (job->report->rows_skipped > 0)
      {
        g_autofree char *skipped = g_strdup_printf (ngettext ("%s; %u row with problems skipped",
                                                              "%s; %u rows with problems skipped",
                                                              job->report->rows_skipped),
                                                    msg, job->report->rows_skipped);

        g_free (msg);
        msg = g_steal_pointer (&skipped);
      }
    recoup_window_toast (self, msg);
  }
  gtk_window_destroy (progress);
  self->n_imports++;
  recoup_worklist_model_reload (self->model);
}

static void
import_cancel_cb (GtkButton *button,
                  ImportJob *job)
{
  g_cancellable_cancel (job->cancellable);
}

void
recoup_window_import_file (RecoupWindow *self,
                           const char   *path)
{
  import_file (self, path, RECOUP_IMPORT_DEFAULT);
}

static void
import_file (RecoupWindow      *self,
             const char        *path,
             RecoupImportFlags  flags)
{
  ImportJob *job = g_new0 (ImportJob, 1);
  GtkWidget *win = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *label;
  GtkWidget *bar = gtk_progress_bar_new ();
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_("_Cancel"));
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *text = g_strdup_printf (_("Importing %s…"), base);

  job->path = g_strdup (path);
  job->flags = flags;
  job->cancellable = g_cancellable_new ();
  g_set_weak_pointer (&job->bar, GTK_PROGRESS_BAR (bar));
  gtk_window_set_modal (GTK_WINDOW (win), TRUE);
  gtk_window_set_transient_for (GTK_WINDOW (win), GTK_WINDOW (self));
  gtk_window_set_default_size (GTK_WINDOW (win), 400, -1);
  gtk_window_set_deletable (GTK_WINDOW (win), FALSE);
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_bottom (box, 24);
  gtk_widget_set_margin_start (box, 24);
  gtk_widget_set_margin_end (box, 24);
  label = gtk_label_new (text);
  gtk_widget_add_css_class (label, "heading");
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), bar);
  gtk_widget_set_halign (cancel, GTK_ALIGN_CENTER);
  g_signal_connect (cancel, "clicked", G_CALLBACK (import_cancel_cb), job);
  gtk_box_append (GTK_BOX (box), cancel);
  adw_window_set_content (ADW_WINDOW (win), box);
  gtk_window_present (GTK_WINDOW (win));

  /* The job lives as long as the progress window; the session holds it while it runs. */
  g_object_set_data (G_OBJECT (win), "job", job);
  recoup_session_run_async (self->session, import_write, job, (GDestroyNotify) import_job_free,
                            NULL, import_done_cb, g_object_ref (win));
}

static void
chooser_response_cb (GtkNativeDialog *chooser,
                     int              response,
                     RecoupWindow    *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        recoup_window_import_file (self, path);
    }
  g_object_unref (chooser);
}

void
recoup_window_import (RecoupWindow *self)
{
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Import Accounts and Invoices"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Import"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("CSV files"));
  gtk_file_filter_add_mime_type (filter, "text/csv");
  gtk_file_filter_add_pattern (filter, "*.csv");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ---- offer builder ----------------------------------------------------- */

typedef struct
{
  RecoupOfferSpec spec;
  char           *account_id;
  char           *first_date;
  char           *pay_by;
  char           *offer_id;
  gboolean        needs_approval;
} OfferWrite;

static void
offer_write_free (OfferWrite *w)
{
  g_free (w->account_id);
  g_free (w->first_date);
  g_free (w->pay_by);
  g_free (w->offer_id);
  g_free (w);
}

static gboolean
offer_write (RecoupBook  *book,
             gpointer     data,
             GError     **error)
{
  OfferWrite *w = data;
  g_autoptr(RecoupOffer) offer = NULL;

  w->spec.account_id = w->account_id;
  w->spec.first_date = w->first_date;
  w->spec.pay_by = w->pay_by;
  w->offer_id = recoup_offer_create (book, &w->spec, error);
  if (w->offer_id == NULL)
    return FALSE;
  offer = recoup_offer_load (book, w->offer_id, NULL, error);
  if (offer == NULL)
    return FALSE;
  w->needs_approval = offer->needs_approval && !offer->approved;
  return TRUE;
}

typedef struct
{
  Form      *form;
  GtkWidget *kind;
  GtkWidget *discount;
  GtkWidget *installments;
  GtkWidget *frequency;
  GtkWidget *preview;
  GtkWidget *summary;
  GtkWidget *rows[13];
  GtkWidget *authority;
  GtkWidget *authority_icon;
} OfferForm;

/* The user's limits, and whether the offer as typed is within them (core decides). */
static void
offer_show_authority (OfferForm             *of,
                      const RecoupOfferSpec *spec,
                      gint64                 total)
{
  RecoupAccountData *data = of->form->window->data;
  RecoupUser *me = data != NULL ? data->user : NULL;
  g_autofree char *max = NULL;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  RecoupOfferAuthority authority;
  g_autofree char *pct = NULL;
  gboolean beyond;
  gint64 effective;

  if (me == NULL)
    return;
  max = recoup_locale_percent_format (me->max_discount_bp);
  if (g_strcmp0 (me->role, "owner") == 0)
    title = g_strdup (_("Your authority: as the owner, you approve your own offers"));
  else
    title = g_strdup_printf (ngettext ("Your authority: up to %s off, plans of up to %d installment",
                                       "Your authority: up to %s off, plans of up to %d installments",
                                       (gulong) me->max_plan_installments),
                             max, (int) me->max_plan_installments);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (of->authority), title);
  gtk_widget_remove_css_class (of->authority_icon, "success");
  gtk_widget_remove_css_class (of->authority_icon, "warning");
  if (spec == NULL)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (of->authority), _("Type the offer to see whether it is within it."));
      gtk_image_set_from_icon_name (GTK_IMAGE (of->authority_icon), "dialog-information-symbolic");
      return;
    }
  effective = recoup_offer_effective_bp (data->aging.total, total);
  pct = recoup_locale_percent_format (effective);
  /* Core's decision, the one recoup_offer_create() makes. */
  authority = recoup_offer_spec_authority (me->role, spec, effective, me->max_discount_bp,
                                           me->max_plan_installments, recoup_date_parse (data->today, NULL));
  switch (authority)
    {
    case RECOUP_OFFER_BEYOND_INSTALLMENTS:
      subtitle = g_strdup_printf (_("This offer: %s off in %d installments — needs an owner's approval"),
                                  pct, spec->installments);
      break;
    case RECOUP_OFFER_BEYOND_DEFERRAL:
      subtitle = g_strdup_printf (_("This offer: %s off, paid later than you may agree alone — needs an "
                                    "owner's approval"), pct);
      break;
    case RECOUP_OFFER_BEYOND_DISCOUNT:
      subtitle = g_strdup_printf (_("This offer: %s off — needs an owner's approval"), pct);
      break;
    case RECOUP_OFFER_WITHIN_AUTHORITY:
    default:
      subtitle = g_strdup_printf (_("This offer: %s off — within your authority"), pct);
      break;
    }
  beyond = authority != RECOUP_OFFER_WITHIN_AUTHORITY;
  adw_action_row_set_subtitle (ADW_ACTION_ROW (of->authority), subtitle);
  gtk_image_set_from_icon_name (GTK_IMAGE (of->authority_icon),
                                beyond ? "dialog-warning-symbolic" : "emblem-ok-symbolic");
  gtk_widget_add_css_class (of->authority_icon, beyond ? "warning" : "success");
}

/* Reads the form; FALSE (with @problems filled) when a field is wrong. */
static gboolean
offer_read (OfferForm       *of,
            RecoupOfferSpec *spec,
            GString         *problems)
{
  Form *form = of->form;
  const char *amount_text = gtk_editable_get_text (GTK_EDITABLE (form->amount));
  const char *discount_text = gtk_editable_get_text (GTK_EDITABLE (of->discount));
  const char *n_text = gtk_editable_get_text (GTK_EDITABLE (of->installments));
  gboolean plan = adw_combo_row_get_selected (ADW_COMBO_ROW (of->kind)) == 1;
  gint64 n = 1;

  memset (spec, 0, sizeof *spec);
  spec->kind = plan ? RECOUP_OFFER_PLAN : RECOUP_OFFER_SETTLEMENT;

  set_field_error (form->amount, FALSE);
  set_field_error (of->discount, FALSE);
  if (*amount_text != '\0' && *discount_text != '\0')
    {
      /* Which one was meant cannot be guessed. */
      set_field_error (form->amount, TRUE);
      set_field_error (of->discount, TRUE);
      g_string_append_printf (problems, "%s\n", _("Amount or discount: fill in one of them, not both."));
    }
  else if (*amount_text != '\0')
    spec->amount = check_amount (form, form->amount, _("Amount: enter the amount paid, e.g. %s.\n"), problems);
  else if (*discount_text != '\0')
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *percent = g_strstrip (g_strdup (discount_text));
      gsize len = strlen (percent);

      /* "15 %" is what people write; the sign is optional. */
      if (len > 0 && percent[len - 1] == '%')
        percent[len - 1] = '\0';
      /* A percentage with up to two decimals is a count of basis points. */
      if (!recoup_locale_money_parse (percent, "USD", &spec->discount_bp, &error)
          || spec->discount_bp < 0 || spec->discount_bp > 10000)
        {
          set_field_error (of->discount, TRUE);
          g_autofree char *example = recoup_locale_percent_format (1250);

          /* Translators: a percentage as the user's locale writes it, 12.50 % or 12,50 % */
          g_string_append_printf (problems, _("Discount: a percentage from 0 to 100, e.g. 15 or %s.\n"), example);
        }
    }
  else if (!plan)
    {
      set_field_error (form->amount, TRUE);
      g_string_append_printf (problems, "%s\n", _("Amount: enter what the debtor pays, or a discount."));
    }

  if (plan && !g_ascii_string_to_signed (n_text, 10, 1, RECOUP_OFFER_MAX_INSTALLMENTS, &n, NULL))
    {
      set_field_error (of->installments, TRUE);
      g_string_append_printf (problems, _("Installments: a whole number from 1 to %d.\n"),
                              RECOUP_OFFER_MAX_INSTALLMENTS);
    }
  else
    set_field_error (of->installments, FALSE);
  spec->installments = (int) n;
  spec->frequency = (RecoupFrequency) adw_combo_row_get_selected (ADW_COMBO_ROW (of->frequency));
  if (plan)
    spec->first_date = gtk_editable_get_text (GTK_EDITABLE (form->date));
  else
    spec->pay_by = gtk_editable_get_text (GTK_EDITABLE (form->date));
  if (check_date (form->date, problems) && problems->len == 0 && form->window->data != NULL)
    {
      RecoupAccountData *data = form->window->data;
      g_autoptr(GError) error = NULL;

      /* The rules recoup_offer_create() applies before it looks at waivers
       * and authority, asked before Save: an amount beyond the balance, a
       * date in the past. */
      spec->account_id = data->account->id;
      if (!recoup_offer_check_amount (spec, form->currency, data->owed, &error))
        {
          set_field_error (form->amount, TRUE);
          g_string_append_printf (problems, _("Amount: %s\n"), error->message);
        }
      else if (!recoup_offer_check_terms (spec, form->currency, data->owed, data->today,
                                          data->offer_first_date_tolerance, &error))
        {
          set_field_error (form->date, TRUE);
          g_string_append_printf (problems, _("Date: %s\n"), error->message);
        }
      else
        set_field_error (form->date, FALSE);
    }
  return problems->len == 0;
}

/* The live preview: core's schedule for what the form says now. */
static void
offer_validate (OfferForm *of)
{
  Form *form = of->form;
  RecoupAccountData *data = form->window->data;
  g_autoptr(GString) problems = g_string_new (NULL);
  RecoupOfferSpec spec;
  gboolean plan = adw_combo_row_get_selected (ADW_COMBO_ROW (of->kind)) == 1;

  gtk_widget_set_visible (of->installments, plan);
  gtk_widget_set_visible (of->frequency, plan);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (form->date),
                                 plan ? _("First payment (YYYY-MM-DD)") : _("Pay by (YYYY-MM-DD)"));

  for (guint i = 0; i < G_N_ELEMENTS (of->rows); i++)
    if (of->rows[i] != NULL)
      {
        adw_preferences_group_remove (ADW_PREFERENCES_GROUP (of->preview), of->rows[i]);
        of->rows[i] = NULL;
      }

  if (offer_read (of, &spec, problems) && data != NULL)
    {
      gint64 total = spec.amount > 0 ? spec.amount
                                     : recoup_offer_total_for_discount (data->aging.total, spec.discount_bp);
      g_autoptr(GArray) schedule = NULL;
      g_autofree char *total_text = recoup_locale_money_format (total, data->account->currency,
                                                         RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
      g_autofree char *summary = NULL;

      schedule = recoup_offer_build_schedule (spec.kind, total, spec.installments, spec.frequency,
                                              spec.first_date ? recoup_date_parse (spec.first_date, NULL) : 0,
                                              spec.pay_by ? recoup_date_parse (spec.pay_by, NULL) : 0, 0);
      summary = g_strdup_printf (_("The debtor pays %s"), total_text);
      adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (of->preview), summary);
      offer_show_authority (of, &spec, total);
      for (guint i = 0; schedule != NULL && i < schedule->len && i < G_N_ELEMENTS (of->rows); i++)
        {
          RecoupInstallment *inst = &g_array_index (schedule, RecoupInstallment, i);
          g_autofree char *due = recoup_date_format (inst->due_day);
          g_autofree char *amount = recoup_locale_money_format (inst->amount, data->account->currency,
                                                         RECOUP_MONEY_FORMAT_GROUPING);
          GtkWidget *row = adw_action_row_new ();
          GtkWidget *label;
          g_autofree char *title = NULL;

          if (i == G_N_ELEMENTS (of->rows) - 1 && schedule->len > G_N_ELEMENTS (of->rows))
            {
              /* The rest together, and the last one (which takes the
               * rounding) on its own. */
              RecoupInstallment *last = &g_array_index (schedule, RecoupInstallment, schedule->len - 1);
              g_autofree char *last_due = recoup_date_format (last->due_day);
              g_autofree char *last_amount = recoup_locale_money_format (last->amount, data->account->currency,
                                                                         RECOUP_MONEY_FORMAT_GROUPING);
              g_autofree char *sub = g_strdup_printf (_("the last, on %s: %s"), last_due, last_amount);
              gint64 rest = 0;

              for (guint k = i; k < schedule->len; k++)
                rest += g_array_index (schedule, RecoupInstallment, k).amount;
              g_free (amount);
              amount = recoup_locale_money_format (rest, data->account->currency, RECOUP_MONEY_FORMAT_GROUPING);
              title = g_strdup_printf (ngettext ("… and %u more, together", "… and %u more, together",
                                                 schedule->len - i), schedule->len - i);
              adw_action_row_set_subtitle (ADW_ACTION_ROW (row), sub);
              gtk_widget_set_name (row, "schedule-rest");
            }
          else
            title = g_strdup_printf ("%u · %s", inst->seq, due);
          label = gtk_label_new (amount);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
          gtk_widget_add_css_class (label, "numeric");
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
          adw_preferences_group_add (ADW_PREFERENCES_GROUP (of->preview), row);
          of->rows[i] = row;
        }
    }
  else
    {
      adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (of->preview),
                                             _("The schedule appears here as you type."));
      offer_show_authority (of, NULL, 0);
    }
  form_finish_problems (form, problems);
}

static void
offer_saved_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GtkWindow) dialog = user_data;
  Form *form = g_object_get_data (G_OBJECT (dialog), "recoup-form");
  OfferWrite *w = g_object_get_data (G_OBJECT (dialog), "offer-write");

  if (form != NULL)
    form_write_done (form, result, w != NULL && w->needs_approval
                                   ? _("Offer saved; it is beyond your authority and waits for the owner's approval")
                                   : _("Offer saved as a draft"));
}

static void
offer_save_cb (OfferForm *of)
{
  Form *form = of->form;
  g_autoptr(GString) problems = g_string_new (NULL);
  RecoupOfferSpec spec;
  OfferWrite *w;

  if (!offer_read (of, &spec, problems))
    {
      form_finish_problems (form, problems);
      return;
    }
  w = g_new0 (OfferWrite, 1);
  w->spec = spec;
  w->account_id = g_strdup (form->account_id);
  w->first_date = g_strdup (spec.first_date);
  w->pay_by = g_strdup (spec.pay_by);
  w->spec.first_date = NULL;
  w->spec.pay_by = NULL;
  /* The dialog reads needs_approval back when the write is done. */
  g_object_set_data (G_OBJECT (form->dialog), "offer-write", w);

  form->busy = TRUE;
  gtk_widget_set_sensitive (form->save, FALSE);
  recoup_session_run_async (form->window->session, offer_write, w, (GDestroyNotify) offer_write_free,
                            NULL, offer_saved_cb, g_object_ref (form->dialog));
}

void
recoup_window_make_offer (RecoupWindow *self)
{
  RecoupAccountData *data = self->data;
  static const char *kinds[] = { N_("Settlement"), N_("Payment plan"), NULL };
  static const char *frequencies[] = { N_("Weekly"), N_("Fortnightly"), N_("Monthly"), NULL };
  const char *kind_labels[3] = { NULL };
  const char *frequency_labels[4] = { NULL };
  g_autofree char *balance = NULL;
  g_autofree char *description = NULL;
  g_autofree char *week = NULL;
  OfferForm *of;
  GtkWidget *page;
  GtkWidget *group;
  Form *form;

  if (data == NULL)
    {
      recoup_window_toast (self, _("Pick an account from the worklist first."));
      return;
    }
  for (guint i = 0; kinds[i] != NULL; i++)
    kind_labels[i] = _(kinds[i]);
  for (guint i = 0; frequencies[i] != NULL; i++)
    frequency_labels[i] = _(frequencies[i]);

  form = form_new (self, _("Make an Offer"), _("_Save Offer"), &page);
  gtk_widget_set_name (GTK_WIDGET (form->dialog), "make-offer");
  gtk_window_set_default_size (form->dialog, 520, 640);
  of = g_new0 (OfferForm, 1);
  of->form = form;
  g_object_set_data_full (G_OBJECT (form->dialog), "offer-form", of, g_free);

  balance = recoup_locale_money_format (data->aging.total, data->account->currency,
                                 RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  description = g_strdup_printf (_("Balance %s. Offers beyond your authority wait for the owner's approval."),
                                 balance);
  group = page_group (page, _("Offer"), description);
  of->kind = combo_row_new (_("Kind"), "kind", kind_labels);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), of->kind);
  form->amount = entry_row_new (_("Amount the debtor pays"), "amount", NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->amount);
  of->discount = entry_row_new (_("Or a discount in percent"), "discount", NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), of->discount);
  of->installments = entry_row_new (_("Installments"), "installments", "6");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), of->installments);
  of->frequency = combo_row_new (_("Frequency"), "frequency", frequency_labels);
  adw_combo_row_set_selected (ADW_COMBO_ROW (of->frequency), RECOUP_FREQUENCY_MONTHLY);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), of->frequency);
  week = recoup_date_format (recoup_date_parse (data->today, NULL) + 7);
  form->date = entry_row_new (_("Pay by (YYYY-MM-DD)"), "date", week);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->date);
  of->authority = adw_action_row_new ();
  gtk_widget_set_name (of->authority, "authority");
  of->authority_icon = gtk_image_new_from_icon_name ("dialog-information-symbolic");
  adw_action_row_add_prefix (ADW_ACTION_ROW (of->authority), of->authority_icon);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), of->authority);

  of->preview = page_group (page, _("Schedule"), NULL);
  gtk_widget_set_name (of->preview, "schedule");

  g_signal_connect_swapped (of->kind, "notify::selected", G_CALLBACK (offer_validate), of);
  g_signal_connect_swapped (of->frequency, "notify::selected", G_CALLBACK (offer_validate), of);
  g_signal_connect_swapped (form->amount, "changed", G_CALLBACK (offer_validate), of);
  g_signal_connect_swapped (of->discount, "changed", G_CALLBACK (offer_validate), of);
  g_signal_connect_swapped (of->installments, "changed", G_CALLBACK (offer_validate), of);
  g_signal_connect_swapped (form->date, "changed", G_CALLBACK (offer_validate), of);
  g_signal_connect_swapped (form->save, "clicked", G_CALLBACK (offer_save_cb), of);

  offer_validate (of);
  form_set_error (form, NULL);
  set_field_error (form->amount, FALSE);
  form_present (form);
  gtk_widget_grab_focus (of->kind);
}

/* ---- disputes ---------------------------------------------------------- */

typedef struct
{
  char *account_id;
  char *invoice_id;
  char *reason;
} DisputeWrite;

static void
dispute_write_free (DisputeWrite *w)
{
  g_free (w->account_id);
  g_free (w->invoice_id);
  g_free (w->reason);
  g_free (w);
}

static gboolean
dispute_write (RecoupBook  *book,
               gpointer     data,
               GError     **error)
{
  DisputeWrite *w = data;
  g_autofree char *id = recoup_dispute_open (book, w->account_id, w->invoice_id, w->reason, error);

  return id != NULL;
}

static void
dispute_validate (Form *form)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autofree char *reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (form->notes))));

  set_field_error (form->notes, *reason == '\0');
  if (*reason == '\0')
    g_string_append_printf (problems, "%s\n", _("Reason: say what the debtor disputes."));
  form_finish_problems (form, problems);
}

static void
dispute_saved_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GtkWindow) dialog = user_data;
  Form *form = g_object_get_data (G_OBJECT (dialog), "recoup-form");

  if (form != NULL)
    form_write_done (form, result, _("Dispute opened; collection contacts pause until it is resolved"));
}

static void
dispute_save_cb (Form *form)
{
  DisputeWrite *w;
  guint inv = adw_combo_row_get_selected (ADW_COMBO_ROW (form->contact));

  dispute_validate (form);
  if (!gtk_widget_get_sensitive (form->save))
    return;
  w = g_new0 (DisputeWrite, 1);
  w->account_id = g_strdup (form->account_id);
  w->invoice_id = inv > 0 ? g_strdup (g_ptr_array_index (form->contact_ids, inv - 1)) : NULL;
  w->reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (form->notes))));
  form->busy = TRUE;
  gtk_widget_set_sensitive (form->save, FALSE);
  recoup_session_run_async (form->window->session, dispute_write, w, (GDestroyNotify) dispute_write_free,
                            NULL, dispute_saved_cb, g_object_ref (form->dialog));
}

/* Resolving: upheld or rejected, and when upheld what becomes of the
 * disputed amount, the way the CLI's “dispute resolve” does it, through the
 * same core call (recoup_dispute_resolve_full()). */

enum { RESOLVE_UPHELD, RESOLVE_REJECTED };
/* In the order the remedy row lists them. */
static const RecoupDisputeRemedy resolve_remedies[] = {
  RECOUP_DISPUTE_REMEDY_WRITE_OFF, RECOUP_DISPUTE_REMEDY_ADJUST, RECOUP_DISPUTE_REMEDY_NONE
};

typedef struct
{
  Form      *form;
  char      *dispute_id;
  gboolean   on_invoice;
  gint64     open;         /* what is open on the disputed invoice, or the account's balance */
  GtkWidget *decision;
  GtkWidget *remedy;
  GtkWidget *consequence;
  gboolean   note_touched;  /* the user wrote in the note, or tried to save */
  gboolean   note_missing;  /* blank, and not yet a mistake to point at */
} ResolveForm;

static void
resolve_form_free (ResolveForm *rf)
{
  g_free (rf->dispute_id);
  g_free (rf);
}

typedef struct
{
  char                    *dispute_id;
  char                    *note;
  RecoupDisputeResolution  res;
} ResolveWrite;

static gboolean
resolve_write (RecoupBook  *book,
               gpointer     data,
               GError     **error)
{
  ResolveWrite *w = data;
  g_autofree char *entry_id = NULL;

  w->res.note = w->note;
  return recoup_dispute_resolve_full (book, w->dispute_id, &w->res, &entry_id, error);
}

static void
resolve_write_free (ResolveWrite *w)
{
  g_free (w->dispute_id);
  g_free (w->note);
  g_free (w);
}

/* Reads the form into @res (its note borrowed from the row); marks the
 * fields core's checks find wrong and says why in @problems. */
static void
resolve_read (ResolveForm             *rf,
              RecoupDisputeResolution *res,
              GString                 *problems)
{
  Form *form = rf->form;
  g_autoptr(GError) error = NULL;

  memset (res, 0, sizeof *res);
  res->upheld = adw_combo_row_get_selected (ADW_COMBO_ROW (rf->decision)) == RESOLVE_UPHELD;
  res->remedy = res->upheld ? resolve_remedies[adw_combo_row_get_selected (ADW_COMBO_ROW (rf->remedy))]
                            : RECOUP_DISPUTE_REMEDY_NONE;
  res->note = gtk_editable_get_text (GTK_EDITABLE (form->notes));

  set_field_error (rf->remedy, FALSE);
  set_field_error (form->amount, FALSE);
  if (res->remedy == RECOUP_DISPUTE_REMEDY_ADJUST)
    res->amount = check_amount (form, form->amount,
                                /* Translators: an amount as the user's locale writes it */
                                _("Lower by: enter the amount the balance goes down by, e.g. %s.\n"), problems);
  if (res->amount >= 0 &&
      !recoup_dispute_check_remedy (res, rf->on_invoice, rf->open, form->currency, &error))
    {
      set_field_error (res->remedy == RECOUP_DISPUTE_REMEDY_ADJUST ? form->amount : rf->remedy, TRUE);
      g_string_append_printf (problems, _("Disputed amount: %s\n"), error->message);
      g_clear_error (&error);
    }
  /* A note not yet written is not a mistake yet: Resolve waits for it
   * without a complaint, also when the choice above it changes. */
  rf->note_missing = FALSE;
  if (!recoup_dispute_check_note (res, &error) && !rf->note_touched &&
      strspn (res->note, " \t\n") == strlen (res->note))
    {
      rf->note_missing = TRUE;
      g_clear_error (&error);
    }
  set_field_error (form->notes, error != NULL);
  if (error != NULL)
    g_string_append_printf (problems, _("Note: %s\n"), error->message);
}

/* What the choice does, said before it is made: an upheld dispute's amount
 * is not chased again unless the user keeps it owed. */
static void
resolve_show_consequence (ResolveForm                   *rf,
                          const RecoupDisputeResolution *res)
{
  Form *form = rf->form;
  g_autofree char *open = recoup_locale_money_format (MAX (rf->open, 0), form->currency,
                                                      RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  g_autofree char *text = NULL;
  const char *note_title;

  gtk_widget_set_visible (rf->remedy, res->upheld);
  gtk_widget_set_visible (form->amount, res->remedy == RECOUP_DISPUTE_REMEDY_ADJUST);
  if (!res->upheld)
    {
      text = g_strdup (_("The debt stands: collection contacts resume on it."));
      note_title = _("Why the debt stands");
    }
  else if (res->remedy == RECOUP_DISPUTE_REMEDY_WRITE_OFF)
    {
      /* Translators: an amount with its currency code */
      text = g_strdup_printf (_("%s is written off and no longer owed; collection contacts resume only for "
                                "anything else the account owes."), open);
      note_title = _("What the debtor was right about");
    }
  else if (res->remedy == RECOUP_DISPUTE_REMEDY_ADJUST)
    {
      text = g_strdup (_("The balance goes down by the amount in “Lower by”; collection contacts resume only for "
                         "what is left."));
      note_title = _("What the debtor was right about");
    }
  else if (rf->open <= 0)
    {
      /* Paid or settled since it was disputed: nothing is left to forgive,
       * and nothing is chased. */
      text = g_strdup (_("Nothing is open on what was disputed, so nothing is written off and nothing is "
                         "chased for it."));
      note_title = _("What the debtor was right about");
    }
  else
    {
      /* Translators: an amount with its currency code */
      text = g_strdup_printf (_("The balance stays as it is (%s open) and collection contacts resume on it: "
                                "say why it is still owed."), open);
      note_title = _("Why it is still owed");
    }
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (rf->consequence), text);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (form->notes), note_title);
}

static void
resolve_validate (ResolveForm *rf)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  RecoupDisputeResolution res;

  resolve_read (rf, &res, problems);
  resolve_show_consequence (rf, &res);
  form_finish_problems (rf->form, problems);
  if (rf->note_missing)
    gtk_widget_set_sensitive (rf->form->save, FALSE);
}

static void
resolve_note_changed_cb (ResolveForm *rf)
{
  rf->note_touched = TRUE;
  resolve_validate (rf);
}

static void
resolve_saved_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GtkWindow) dialog = user_data;
  Form *form = g_object_get_data (G_OBJECT (dialog), "recoup-form");
  ResolveForm *rf = g_object_get_data (G_OBJECT (dialog), "resolve-form");

  if (form != NULL && rf != NULL)
    form_write_done (form, result,
                     adw_combo_row_get_selected (ADW_COMBO_ROW (rf->decision)) == RESOLVE_UPHELD
                     ? _("Dispute upheld") : _("Dispute rejected"));
}

static void
resolve_save_cb (ResolveForm *rf)
{
  Form *form = rf->form;
  g_autoptr(GString) problems = g_string_new (NULL);
  ResolveWrite *w;

  rf->note_touched = TRUE;
  resolve_validate (rf);
  if (!gtk_widget_get_sensitive (form->save))
    return;
  w = g_new0 (ResolveWrite, 1);
  resolve_read (rf, &w->res, problems);
  w->dispute_id = g_strdup (rf->dispute_id);
  w->note = g_strstrip (g_strdup (w->res.note));
  w->res.note = NULL;
  form->busy = TRUE;
  gtk_widget_set_sensitive (form->save, FALSE);
  recoup_session_run_async (form->window->session, resolve_write, w, (GDestroyNotify) resolve_write_free,
                            NULL, resolve_saved_cb, g_object_ref (form->dialog));
}

void
recoup_window_open_dispute (RecoupWindow *self)
{
  RecoupAccountData *data = self->data;
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *page;
  GtkWidget *group;
  Form *form;

  if (data == NULL)
    {
      recoup_window_toast (self, _("Pick an account from the worklist first."));
      return;
    }
  form = form_new (self, _("Open a Dispute"), _("_Open Dispute"), &page);
  gtk_widget_set_name (GTK_WIDGET (form->dialog), "open-dispute");
  gtk_window_set_default_size (form->dialog, 480, 420);

  form->contact_ids = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (labels, g_strdup (_("The whole account")));
  for (guint i = 0; i < data->invoices->len; i++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (data->invoices, i);

      g_ptr_array_add (form->contact_ids, g_strdup (ib->id));
      g_ptr_array_add (labels, g_strdup (ib->ref));
    }
  g_ptr_array_add (labels, NULL);

  group = page_group (page, _("Dispute"), _("While a dispute is open, the compliance guard pauses collection contacts."));
  form->contact = combo_row_new (_("What is disputed"), "invoice", (const char * const *) labels->pdata);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->contact);
  form->notes = entry_row_new (_("Reason"), "reason", NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->notes);
  g_signal_connect_swapped (form->notes, "changed", G_CALLBACK (dispute_validate), form);
  g_signal_connect_swapped (form->save, "clicked", G_CALLBACK (dispute_save_cb), form);
  dispute_validate (form);
  form_set_error (form, NULL);
  set_field_error (form->notes, FALSE);
  form_present (form);
  gtk_widget_grab_focus (form->notes);
}

/* What is open on what @d disputes: its invoice's balance, or the account's. */
static gint64
disputed_open (RecoupAccountData   *data,
               const RecoupDispute *d)
{
  if (d->invoice_id == NULL)
    return data->owed;
  for (guint i = 0; data->invoices != NULL && i < data->invoices->len; i++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (data->invoices, i);

      if (g_strcmp0 (ib->id, d->invoice_id) == 0)
        return ib->balance;
    }
  return 0;
}

void
recoup_window_resolve_dispute (RecoupWindow *self,
                               const char   *dispute_id)
{
  RecoupAccountData *data = self->data;
  RecoupDispute *d = NULL;
  g_autofree char *open = NULL;
  g_autofree char *write_off = NULL;
  g_autofree char *description = NULL;
  g_autofree char *adjust = NULL;
  const char *remedy_labels[4] = { NULL };
  static const char *decisions[] = { N_("Upheld: the debtor is right"), N_("Rejected: the debt stands"), NULL };
  const char *decision_labels[3] = { NULL };
  ResolveForm *rf;
  GtkWidget *page;
  GtkWidget *group;
  Form *form;

  for (guint i = 0; data != NULL && data->disputes != NULL && i < data->disputes->len; i++)
    if (g_strcmp0 (((RecoupDispute *) g_ptr_array_index (data->disputes, i))->id, dispute_id) == 0)
      d = g_ptr_array_index (data->disputes, i);
  if (d == NULL || g_strcmp0 (d->status, "open") != 0)
    {
      recoup_window_toast (self, _("That dispute is not open on the account shown."));
      return;
    }

  form = form_new (self, _("Resolve Dispute"), _("_Resolve"), &page);
  gtk_widget_set_name (GTK_WIDGET (form->dialog), "resolve-dispute");
  gtk_window_set_default_size (form->dialog, 520, 560);
  rf = g_new0 (ResolveForm, 1);
  rf->form = form;
  rf->dispute_id = g_strdup (d->id);
  rf->on_invoice = d->invoice_id != NULL;
  rf->open = disputed_open (data, d);
  g_object_set_data_full (G_OBJECT (form->dialog), "resolve-form", rf, (GDestroyNotify) resolve_form_free);

  open = recoup_locale_money_format (MAX (rf->open, 0), form->currency,
                                     RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  description = rf->on_invoice
    /* Translators: what the debtor disputes, the invoice's reference, then what is open on it */
    ? g_strdup_printf (_("“%s”, on invoice %s (%s open)"), d->reason, d->invoice_ref, open)
    /* Translators: what the debtor disputes, then the account's balance */
    : g_strdup_printf (_("“%s”, on the whole account (%s open)"), d->reason, open);
  for (guint i = 0; decisions[i] != NULL; i++)
    decision_labels[i] = _(decisions[i]);
  /* Translators: an amount with its currency code */
  write_off = g_strdup_printf (_("Write off what is open (%s)"), open);
  remedy_labels[0] = write_off;
  remedy_labels[1] = _("Lower the balance by an amount");
  remedy_labels[2] = _("Leave the balance as it is");

  group = page_group (page, _("Dispute"), description);
  rf->decision = combo_row_new (_("Decision"), "decision", decision_labels);
  /* The choices are sentences: shown whole under the title, not cut at the
   * row's end. */
  adw_combo_row_set_use_subtitle (ADW_COMBO_ROW (rf->decision), TRUE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), rf->decision);
  rf->remedy = combo_row_new (_("The disputed amount"), "remedy", remedy_labels);
  adw_combo_row_set_use_subtitle (ADW_COMBO_ROW (rf->remedy), TRUE);
  /* Nothing open: nothing to write off or lower. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (rf->remedy), rf->open > 0 ? 0 : G_N_ELEMENTS (resolve_remedies) - 1);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), rf->remedy);
  adjust = rf->open > 0 ? recoup_locale_money_format (rf->open, form->currency, RECOUP_MONEY_FORMAT_GROUPING) : NULL;
  form->amount = entry_row_new (_("Lower by"), "amount", adjust);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->amount);
  form->notes = entry_row_new (_("Note"), "note", NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->notes);
  rf->consequence = adw_action_row_new ();
  gtk_widget_set_name (rf->consequence, "consequence");
  adw_action_row_add_prefix (ADW_ACTION_ROW (rf->consequence),
                             gtk_image_new_from_icon_name ("dialog-information-symbolic"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), rf->consequence);

  g_signal_connect_swapped (rf->decision, "notify::selected", G_CALLBACK (resolve_validate), rf);
  g_signal_connect_swapped (rf->remedy, "notify::selected", G_CALLBACK (resolve_validate), rf);
  g_signal_connect_swapped (form->amount, "changed", G_CALLBACK (resolve_validate), rf);
  g_signal_connect_swapped (form->notes, "changed", G_CALLBACK (resolve_note_changed_cb), rf);
  g_signal_connect_swapped (form->notes, "entry-activated", G_CALLBACK (resolve_save_cb), rf);
  g_signal_connect_swapped (form->save, "clicked", G_CALLBACK (resolve_save_cb), rf);

  resolve_validate (rf);
  form_present (form);
  gtk_widget_grab_focus (rf->decision);
}

/* ---- a statement of one account ------------------------------------------- */

/* In the order the Format row lists them; PDF first, for a customer. */
static const RecoupReportFormat statement_formats[] = { RECOUP_REPORT_PDF, RECOUP_REPORT_XLSX, RECOUP_REPORT_CSV };

static void
statement_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(RecoupWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  RecoupExportJob *job = self->statement_job;
  g_autofree char *path = g_strdup (recoup_export_job_get_spec (job)->path);
  gboolean ok = recoup_export_job_finish (job, result, &error);

  self->statement_job = NULL;
  if (self->cancellable == NULL)
    return;   /* disposed */
  if (ok)
    {
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *text = g_strdup_printf (_("%s saved as %s"), recoup_export_kind_title (RECOUP_EXPORT_STATEMENT),
                                               base);

      self->n_statements++;
      recoup_window_toast (self, text);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    recoup_window_toast (self, _("Export cancelled: no file was written"));
  else
    recoup_window_show_error (self, error);
}

/**
 * recoup_window_export_statement:
 *
 * Writes the shown account's statement for [@from, @to] to @path in the
 * session's worker (what Export Statement… does after the file chooser). The
 * outcome shows as a toast or an error. Returns %FALSE when no account is
 * shown or a statement is still being written.
 */
gboolean
recoup_window_export_statement (RecoupWindow       *self,
                                const char         *from,
                                const char         *to,
                                RecoupReportFormat  format,
                                const char         *path)
{
  g_return_val_if_fail (RECOUP_IS_WINDOW (self), FALSE);

  if (self->data == NULL || self->statement_job != NULL)
    return FALSE;
  self->statement_job = recoup_export_job_start (self->session,
                                                 recoup_export_spec_new_statement (format, self->data->account->id,
                                                                                   from, to, path),
                                                 statement_done_cb, g_object_ref (self));
  return TRUE;
}

gboolean
recoup_window_is_exporting (RecoupWindow *self)
{
  return self->statement_job != NULL;
}

guint
recoup_window_get_n_statements (RecoupWindow *self)
{
  return self->n_statements;
}

/* Both dates real days, the period not ending before it starts. */
static gboolean
statement_read_period (Form        *form,
                       const char **from,
                       const char **to)
{
  g_autofree char *message = NULL;
  RecoupPeriodCheck check;

  *from = gtk_editable_get_text (GTK_EDITABLE (form->period_from));
  *to = gtk_editable_get_text (GTK_EDITABLE (form->period_to));
  message = recoup_label_period_problem (*from, *to, &check);
  set_field_error (form->period_from, check == RECOUP_PERIOD_BAD_FROM);
  set_field_error (form->period_to, check == RECOUP_PERIOD_BAD_TO || check == RECOUP_PERIOD_REVERSED);
  form_set_error (form, message);
  gtk_widget_set_sensitive (form->save, message == NULL);
  return message == NULL;
}

static void
statement_changed_cb (Form *form)
{
  const char *from, *to;

  statement_read_period (form, &from, &to);
}

static void
statement_path_ready (const char         *path,
                      RecoupReportFormat  format,
                      gpointer            user_data)
{
  GtkWindow *dialog = user_data;
  Form *form = g_object_get_data (G_OBJECT (dialog), "recoup-form");
  const char *from, *to;

  if (form == NULL || !statement_read_period (form, &from, &to))
    return;
  if (recoup_window_export_statement (form->window, from, to, format, path))
    gtk_window_close (dialog);
  else
    form_set_error (form, _("A statement is still being written; try again in a moment."));
}

static void
statement_chooser_cb (GtkNativeDialog *chooser,
                      int              response,
                      gpointer         user_data)
{
  g_autoptr(GtkWindow) dialog = user_data;
  Form *form = g_object_get_data (G_OBJECT (dialog), "recoup-form");

  if (response == GTK_RESPONSE_ACCEPT && form != NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = g_file_get_path (file);
      RecoupReportFormat format = statement_formats[adw_combo_row_get_selected (ADW_COMBO_ROW (form->format))];

      if (path == NULL)
        form_set_error (form, _("Statements are written to a folder on this computer: pick a local folder."));
      else
        /* The format picked in the form wins over an extension typed. */
        recoup_export_confirm_path (dialog, path, format, statement_path_ready,
                                    g_object_ref (dialog), g_object_unref);
    }
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
}

static void
statement_save_cb (Form *form)
{
  GtkFileChooserNative *chooser;
  const char *from, *to;
  g_autofree char *name = NULL;
  RecoupReportFormat format = statement_formats[adw_combo_row_get_selected (ADW_COMBO_ROW (form->format))];

  if (!statement_read_period (form, &from, &to))
    return;
  chooser = gtk_file_chooser_native_new (_("Export Statement"), form->dialog, GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  name = g_strdup_printf ("statement-%s-%s-to-%s.%s", form->window->data->account->ref, from, to,
                          recoup_report_format_extension (format));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_signal_connect (chooser, "response", G_CALLBACK (statement_chooser_cb), g_object_ref (form->dialog));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* Export Statement…: the period (from the account's first entry to today by
 * default) and the format, then where to save it. */
void
recoup_window_statement (RecoupWindow *self)
{
  RecoupAccountData *data = self->data;
  const char *labels[] = { N_("PDF"), N_("Spreadsheet (XLSX)"), N_("CSV"), NULL };
  const char *shown[G_N_ELEMENTS (labels)];
  const char *today;
  GtkWidget *page;
  GtkWidget *group;
  Form *form;

  if (data == NULL)
    {
      recoup_window_toast (self, _("Pick an account from the worklist first."));
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    shown[i] = labels[i] != NULL ? _(labels[i]) : NULL;
  /* The book's today, as Record Payment uses, so the statement ends on the
   * balance the account page shows (a UTC date would drop today's payment
   * east of Greenwich). */
  today = data->today;
  form = form_new (self, _("Statement"), _("_Export…"), &page);
  gtk_widget_set_name (GTK_WIDGET (form->dialog), "statement");
  gtk_window_set_default_size (form->dialog, 480, 440);

  group = page_group (page, _("Period"),
                      _("The balance brought forward at its start, every entry in it with the balance after "
                        "it, and the balance at its end."));
  form->period_from = entry_row_new (_("From (YYYY-MM-DD)"), "from",
                                     data->ledger->len > 0
                                     ? ((RecoupLedgerEntry *) g_ptr_array_index (data->ledger, 0))->effective_date
                                     : today);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->period_from);
  form->period_to = entry_row_new (_("To (YYYY-MM-DD)"), "to", today);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->period_to);
  group = page_group (page, NULL, NULL);
  form->format = combo_row_new (_("Format"), "format", shown);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), form->format);

  g_signal_connect_swapped (form->period_from, "changed", G_CALLBACK (statement_changed_cb), form);
  g_signal_connect_swapped (form->period_to, "changed", G_CALLBACK (statement_changed_cb), form);
  g_signal_connect_swapped (form->save, "clicked", G_CALLBACK (statement_save_cb), form);
  statement_changed_cb (form);
  form_present (form);
}

/* ---- what became of an offer ----------------------------------------------- */

typedef struct
{
  char             *offer_id;
  RecoupOfferEvent  event;
  char             *reason;   /* withdrawing an accepted arrangement: the user's words */
} OfferEventWrite;

static void
offer_event_write_free (OfferEventWrite *w)
{
  g_free (w->offer_id);
  g_free (w->reason);
  g_free (w);
}

static gboolean
offer_event_write (RecoupBook  *book,
                   gpointer     data,
                   GError     **error)
{
  OfferEventWrite *w = data;

  /* No note but the user's reason: the event says what happened, and the
   * book keeps no words of the app's own (they would be in this user's
   * language). */
  return recoup_offer_transition (book, w->offer_id, w->event, w->reason, error);
}

static void
offer_event_response_cb (AdwMessageDialog *dialog,
                         const char       *response,
                         RecoupWindow     *self)
{
  OfferEventWrite *w;
  GtkWidget *reason;
  const char *toast;

  if (g_strcmp0 (response, "record") != 0)
    return;
  w = g_new0 (OfferEventWrite, 1);
  w->offer_id = g_strdup (g_object_get_data (G_OBJECT (dialog), "offer-id"));
  w->event = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "event"));
  if ((reason = adw_message_dialog_get_extra_child (dialog)) != NULL)
    w->reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (reason))));
  toast = w->event == RECOUP_OFFER_EVENT_SEND ? _("Offer recorded as sent to the customer")
        : w->event == RECOUP_OFFER_EVENT_ACCEPT ? _("Offer accepted: its schedule is in the account")
        : w->event == RECOUP_OFFER_EVENT_REJECT ? _("Offer recorded as declined by the customer")
        : _("Offer withdrawn");
  recoup_session_run_async (self->session, offer_event_write, w, (GDestroyNotify) offer_event_write_free,
                            self->cancellable, account_write_done_cb, account_write_done_new (self, toast));
}

/* The reason is what every copy shows for the withdrawal: core needs it. */
static void
withdraw_reason_changed_cb (GtkEditable      *reason,
                            AdwMessageDialog *dialog)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (reason)));

  adw_message_dialog_set_response_enabled (dialog, "record", *text != '\0');
}

/* Withdrawing a running arrangement (one of two accepted offline: core
 * refuses any other) says what it undoes, and asks why. */
static void
ask_withdraw_reason (AdwMessageDialog *dialog)
{
  GtkWidget *reason = gtk_entry_new ();

  adw_message_dialog_set_heading (dialog, _("Withdraw the Arrangement?"));
  adw_message_dialog_set_body (dialog, _("Do this only for the arrangement the customer did not agree to. It "
                                         "closes as if never accepted: fees or interest it waived are owed "
                                         "again, and payments count toward the other one. Every device shows "
                                         "your reason."));
  gtk_widget_set_name (reason, "withdraw-reason");
  gtk_entry_set_placeholder_text (GTK_ENTRY (reason), _("Reason, e.g. the customer keeps the plan"));
  gtk_entry_set_max_length (GTK_ENTRY (reason), 500);
  gtk_entry_set_activates_default (GTK_ENTRY (reason), TRUE);
  adw_message_dialog_set_extra_child (dialog, reason);
  adw_message_dialog_set_response_enabled (dialog, "record", FALSE);
  g_signal_connect (reason, "changed", G_CALLBACK (withdraw_reason_changed_cb), dialog);
}

static gboolean
is_running_offer (RecoupWindow *self,
                  const char   *offer_id)
{
  for (guint i = 0; self->data != NULL && self->data->offers != NULL && i < self->data->offers->len; i++)
    {
      const RecoupOffer *o = g_ptr_array_index (self->data->offers, i);

      if (g_strcmp0 (o->id, offer_id) == 0)
        return o->state == RECOUP_OFFER_STATE_ACCEPTED || o->state == RECOUP_OFFER_STATE_ACTIVE;
    }
  return FALSE;
}

/**
 * recoup_window_offer_event:
 * @event: "send", "accept", "reject" or "withdraw"
 *
 * Asks, then records what became of an offer: sent to the customer, accepted
 * (which writes its schedule), declined by the customer, or withdrawn (a
 * running arrangement with the user's reason).
 */
void
recoup_window_offer_event (RecoupWindow *self,
                           const char   *offer_id,
                           const char   *event_name)
{
  RecoupOfferEvent event;
  const char *heading, *body, *label;
  GtkWidget *dialog;

  if (!recoup_offer_event_from_string (event_name, &event) || event == RECOUP_OFFER_EVENT_CREATE
      || event == RECOUP_OFFER_EVENT_APPROVE)
    g_return_if_reached ();

  switch (event)
    {
    case RECOUP_OFFER_EVENT_SEND:
      heading = _("Record the Offer as Sent?");
      body = _("Record that the customer has been given this offer. It can then be accepted or declined.");
      label = _("_Record as Sent");
      break;
    case RECOUP_OFFER_EVENT_ACCEPT:
      heading = _("Record That the Customer Accepted?");
      body = _("The offer's schedule becomes what the customer owes and when; a settlement's discount is "
               "waived once it is paid. This cannot be undone, only followed by a new offer.");
      label = _("_Record Acceptance");
      break;
    case RECOUP_OFFER_EVENT_REJECT:
      heading = _("Record That the Customer Declined?");
      body = _("The offer closes; the balance stays as it is. A new offer can be made.");
      label = _("Record as _Declined");
      break;
    case RECOUP_OFFER_EVENT_WITHDRAW:
    default:
      heading = _("Withdraw the Offer?");
      body = _("The offer closes and can no longer be accepted. A new offer can be made.");
      label = _("_Withdraw");
      break;
    }
  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
  gtk_widget_set_name (dialog, "offer-event");
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "record", label, NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "record",
                                              event == RECOUP_OFFER_EVENT_WITHDRAW ? ADW_RESPONSE_DESTRUCTIVE
                                                                                   : ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  if (event == RECOUP_OFFER_EVENT_WITHDRAW && is_running_offer (self, offer_id))
    ask_withdraw_reason (ADW_MESSAGE_DIALOG (dialog));
  g_object_set_data_full (G_OBJECT (dialog), "offer-id", g_strdup (offer_id), g_free);
  g_object_set_data (G_OBJECT (dialog), "event", GINT_TO_POINTER (event));
  g_signal_connect (dialog, "response", G_CALLBACK (offer_event_response_cb), self);
  g_set_weak_pointer (&self->dialog, GTK_WINDOW (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
}
