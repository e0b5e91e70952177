/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-locale-money.h"
#include "recoup-approvals.h"
#include "recoup-window-private.h"

/*
 * The owner's approval queue: offers beyond their maker's authority that wait
 * for an owner (recoup_offer_list_approvals). Approve lets the collector send
 * the offer; Reject asks, then withdraws the draft with the owner's reason,
 * which core reads back as "not approved" (RecoupOffer.not_approved) for the
 * maker, with the reason. Core checks the role again on write.
 */

typedef struct
{
  RecoupOffer *offer;
  char        *account_name;
  gint64       limit_bp;           /* the maker's limits */
  gint64       limit_installments;
} QueueItem;

static void
queue_item_free (QueueItem *item)
{
  g_clear_pointer (&item->offer, recoup_offer_free);
  g_free (item->account_name);
  g_free (item);
}

typedef struct
{
  GPtrArray *items;      /* QueueItem */
} QueueLoad;

static void
queue_load_free (QueueLoad *load)
{
  g_clear_pointer (&load->items, g_ptr_array_unref);
  g_free (load);
}

static gboolean
queue_load (RecoupBook  *book,
            gpointer     data,
            GError     **error)
{
  QueueLoad *load = data;
  g_autoptr(GPtrArray) offers = recoup_offer_list_approvals (book, error);

  if (offers == NULL)
    return FALSE;
  load->items = g_ptr_array_new_with_free_func ((GDestroyNotify) queue_item_free);
  for (guint i = 0; i < offers->len; i++)
    {
      QueueItem *item = g_new0 (QueueItem, 1);
      g_autoptr(RecoupAccount) account = NULL;
      g_autoptr(RecoupUser) maker = NULL;

      item->offer = g_steal_pointer (&offers->pdata[i]);
      account = recoup_account_load (book, item->offer->account_id, NULL);
      item->account_name = g_strdup (account != NULL ? account->name : item->offer->account_id);
      maker = item->offer->created_by != NULL ? recoup_user_load (book, item->offer->created_by, NULL) : NULL;
      item->limit_bp = maker != NULL ? maker->max_discount_bp : -1;
      item->limit_installments = maker != NULL ? maker->max_plan_installments : -1;
      g_ptr_array_add (load->items, item);
    }
  return TRUE;
}

typedef struct
{
  char            *offer_id;
  RecoupOfferEvent event;
  char            *note;      /* what the offer's maker reads in its history */
} Decision;

static void
decision_free (Decision *d)
{
  g_free (d->offer_id);
  g_free (d->note);
  g_free (d);
}

static gboolean
decision_write (RecoupBook  *book,
                gpointer     data,
                GError     **error)
{
  Decision *d = data;

  return recoup_offer_transition (book, d->offer_id, d->event, d->note, error);
}

typedef struct
{
  RecoupWindow *window;
  GtkWindow    *dialog;
  GtkWidget    *page;
  GtkWidget    *group;
  GtkWidget    *status;
  GtkWidget    *stack;
  GPtrArray    *rows;
  guint         n_decisions;
} Queue;

static void
queue_free (Queue *q)
{
  g_clear_pointer (&q->rows, g_ptr_array_unref);
  g_free (q);
}

static void queue_reload (Queue *q);

static void
decision_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GtkWindow) dialog = user_data;
  Queue *q = g_object_get_data (G_OBJECT (dialog), "recoup-queue");
  g_autoptr(GError) error = NULL;

  if (q == NULL)
    return;
  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    recoup_window_show_error (q->window, error);
  else
    {
      q->n_decisions++;
      recoup_window_reload_account (q->window);
    }
  queue_reload (q);
}

static void
decide (Queue            *q,
        const char       *offer_id,
        RecoupOfferEvent  event,
        const char       *note)
{
  Decision *d = g_new0 (Decision, 1);

  /* The row, named by the offer's id, waits for the queue to be read again. */
  for (guint i = 0; i < q->rows->len; i++)
    if (g_str_equal (gtk_widget_get_name (g_ptr_array_index (q->rows, i)), offer_id))
      gtk_widget_set_sensitive (g_ptr_array_index (q->rows, i), FALSE);
  d->offer_id = g_strdup (offer_id);
  d->event = event;
  d->note = g_strdup (note);
  recoup_session_run_async (q->window->session, decision_write, d, (GDestroyNotify) decision_free,
                            NULL, decision_done_cb, g_object_ref (q->dialog));
}

static void
reject_response_cb (AdwMessageDialog *ask,
                    const char       *response,
                    Queue            *q)
{
  GtkWidget *reason = adw_message_dialog_get_extra_child (ask);
  g_autofree char *note = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (reason))));

  if (g_strcmp0 (response, "reject") != 0)
    return;
  /* The reason is what the maker reads in the offer's history; the book keeps
   * no words of the app's own, which would be in the owner's language. */
  decide (q, g_object_get_data (G_OBJECT (ask), "offer-id"), RECOUP_OFFER_EVENT_WITHDRAW,
          *note != '\0' ? note : NULL);
}

/* Rejecting cannot be undone and the maker learns of it only from the
 * offer's history: ask first, with room for the reason. */
static void
ask_reject (Queue     *q,
            GtkWidget *row)
{
  GtkWidget *ask, *reason;
  g_autofree char *body = NULL;

  body = g_strdup_printf (_("The offer to %s is closed as not approved and stays in the account's history, "
                            "with your reason for its maker. This cannot be undone; a new offer can be made."),
                          (const char *) g_object_get_data (G_OBJECT (row), "account-name"));
  ask = adw_message_dialog_new (q->dialog, _("Reject the Offer?"), body);
  gtk_widget_set_name (ask, "reject-offer");
  reason = gtk_entry_new ();
  gtk_widget_set_name (reason, "reject-reason");
  gtk_entry_set_placeholder_text (GTK_ENTRY (reason), _("Reason (optional)"));
  gtk_entry_set_max_length (GTK_ENTRY (reason), 500);
  gtk_entry_set_activates_default (GTK_ENTRY (reason), TRUE);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (ask), reason);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (ask), "cancel", _("_Cancel"), "reject", _("_Reject"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (ask), "reject", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (ask), "reject");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (ask), "cancel");
  g_object_set_data_full (G_OBJECT (ask), "offer-id", g_strdup (gtk_widget_get_name (row)), g_free);
  g_signal_connect (ask, "response", G_CALLBACK (reject_response_cb), q);
  gtk_window_present (GTK_WINDOW (ask));
}

static void
decide_clicked_cb (GtkButton *button,
                   Queue     *q)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (button), ADW_TYPE_ACTION_ROW);
  RecoupOfferEvent event = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "event"));

  if (event == RECOUP_OFFER_EVENT_WITHDRAW)
    ask_reject (q, row);
  else
    decide (q, gtk_widget_get_name (row), event, NULL);
}

/* The row is named by the offer's id. */
static GtkWidget *
decision_button (Queue            *q,
                 const char       *label,
                 const char       *name,
                 RecoupOfferEvent  event,
                 const char       *css)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_widget_set_name (button, name);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  if (css != NULL)
    gtk_widget_add_css_class (button, css);
  g_object_set_data (G_OBJECT (button), "event", GINT_TO_POINTER (event));
  g_signal_connect (button, "clicked", G_CALLBACK (decide_clicked_cb), q);
  return button;
}

static void
queue_show (Queue     *q,
            GPtrArray *items)
{
  g_autofree char *description = NULL;

  for (guint i = 0; i < q->rows->len; i++)
    adw_preferences_group_remove (ADW_PREFERENCES_GROUP (q->group), g_ptr_array_index (q->rows, i));
  g_ptr_array_set_size (q->rows, 0);
  gtk_stack_set_visible_child_name (GTK_STACK (q->stack), items->len == 0 ? "empty" : "queue");
  description = g_strdup_printf (ngettext ("%u offer is beyond its maker's authority.",
                                           "%u offers are beyond their makers' authority.", items->len),
                                 items->len);
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (q->group), description);

  for (guint i = 0; i < items->len; i++)
    {
      QueueItem *item = g_ptr_array_index (items, i);
      RecoupOffer *o = item->offer;
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *total = recoup_locale_money_format (o->total, o->currency,
                                                    RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
      g_autofree char *balance = recoup_locale_money_format (o->balance_at_offer, o->currency,
                                                      RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
      g_autofree char *off = recoup_locale_percent_format (o->effective_bp);
      g_autofree char *title = NULL;
      g_autofree char *what = NULL;
      g_autofree char *limits = NULL;
      g_autofree char *subtitle = NULL;
      g_autofree char *day = NULL;
      GDateTime *created = g_date_time_new_from_unix_utc (o->created_at / 1000);

      day = created != NULL ? g_date_time_format (created, "%Y-%m-%d") : g_strdup ("");
      g_clear_pointer (&created, g_date_time_unref);
      if (o->kind == RECOUP_OFFER_PLAN)
        what = g_strdup_printf (_("Plan of %s in %d installments from %s, on %s owed (%s off)"),
                                total, o->installments, o->first_date != NULL ? o->first_date : "?",
                                balance, off);
      else
        what = g_strdup_printf (_("Settlement of %s paid by %s, on %s owed (%s off)"), total,
                                o->pay_by != NULL ? o->pay_by : "?", balance, off);
      if (item->limit_bp >= 0)
        {
          g_autofree char *max = recoup_locale_percent_format (item->limit_bp);

          limits = g_strdup_printf (_("Made %s by %s, who may give up to %s off and plans of up to %d installments"),
                                    day, o->created_by_name != NULL ? o->created_by_name : "?",
                                    max, (int) item->limit_installments);
        }
      title = g_strdup_printf ("%s · %s", item->account_name, o->account_ref != NULL ? o->account_ref : "");
      subtitle = g_strdup_printf ("%s\n%s", what, limits != NULL ? limits : day);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
      gtk_widget_set_name (row, o->id);
      g_object_set_data_full (G_OBJECT (row), "account-name", g_strdup (item->account_name), g_free);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 decision_button (q, _("_Reject"), "reject", RECOUP_OFFER_EVENT_WITHDRAW, NULL));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 decision_button (q, _("_Approve"), "approve", RECOUP_OFFER_EVENT_APPROVE, "suggested-action"));
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (q->group), row);
      g_ptr_array_add (q->rows, row);
    }
}

static void
queue_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GtkWindow) dialog = user_data;
  Queue *q = g_object_get_data (G_OBJECT (dialog), "recoup-queue");
  QueueLoad *load = g_object_get_data (G_OBJECT (dialog), "recoup-queue-load");
  g_autoptr(GError) error = NULL;

  if (q == NULL)
    return;
  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    {
      adw_status_page_set_title (ADW_STATUS_PAGE (q->status), _("Cannot Read the Queue"));
      adw_status_page_set_description (ADW_STATUS_PAGE (q->status), error->message);
      gtk_stack_set_visible_child_name (GTK_STACK (q->stack), "empty");
      return;
    }
  queue_show (q, load->items);
  g_object_set_data (G_OBJECT (dialog), "recoup-queue-loaded", GUINT_TO_POINTER (q->n_decisions + 1));
}

static void
queue_reload (Queue *q)
{
  QueueLoad *load = g_new0 (QueueLoad, 1);

  g_object_set_data (G_OBJECT (q->dialog), "recoup-queue-loaded", NULL);
  g_object_set_data (G_OBJECT (q->dialog), "recoup-queue-load", load);
  recoup_session_read_async (q->window->session, queue_load, load, (GDestroyNotify) queue_load_free,
                            NULL, queue_loaded_cb, g_object_ref (q->dialog));
}

void
recoup_window_show_approvals (RecoupWindow *self)
{
  Queue *q = g_new0 (Queue, 1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *spinner = gtk_spinner_new ();

  q->window = self;
  q->rows = g_ptr_array_new ();
  q->dialog = GTK_WINDOW (adw_window_new ());
  gtk_widget_set_name (GTK_WIDGET (q->dialog), "approvals");
  gtk_window_set_title (q->dialog, _("Offers Awaiting Approval"));
  gtk_window_set_modal (q->dialog, TRUE);
  gtk_window_set_transient_for (q->dialog, GTK_WINDOW (self));
  gtk_window_set_destroy_with_parent (q->dialog, TRUE);
  gtk_window_set_default_size (q->dialog, 640, 560);
  g_object_set_data_full (G_OBJECT (q->dialog), "recoup-queue", q, (GDestroyNotify) queue_free);

  q->stack = gtk_stack_new ();
  gtk_widget_set_vexpand (q->stack, TRUE);
  gtk_spinner_set_spinning (GTK_SPINNER (spinner), TRUE);
  gtk_widget_set_halign (spinner, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (spinner, GTK_ALIGN_CENTER);
  gtk_stack_add_named (GTK_STACK (q->stack), spinner, "loading");
  q->page = adw_preferences_page_new ();
  q->group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (q->group), _("Waiting for You"));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (q->page), ADW_PREFERENCES_GROUP (q->group));
  gtk_stack_add_named (GTK_STACK (q->stack), q->page, "queue");
  q->status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (q->status), "emblem-ok-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (q->status), _("Nothing to Approve"));
  adw_status_page_set_description (ADW_STATUS_PAGE (q->status),
                                   _("Offers beyond a collector's authority appear here until an owner "
                                     "approves or rejects them."));
  gtk_stack_add_named (GTK_STACK (q->stack), q->status, "empty");
  gtk_stack_set_visible_child_name (GTK_STACK (q->stack), "loading");

  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), q->stack);
  adw_window_set_content (ADW_WINDOW (q->dialog), box);
  {
    GtkShortcutController *sc = GTK_SHORTCUT_CONTROLLER (gtk_shortcut_controller_new ());

    gtk_shortcut_controller_add_shortcut (sc, gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                                gtk_named_action_new ("window.close")));
    gtk_widget_add_controller (GTK_WIDGET (q->dialog), GTK_EVENT_CONTROLLER (sc));
  }
  g_set_weak_pointer (&self->dialog, q->dialog);
  queue_reload (q);
  gtk_window_present (q->dialog);
}

/* ---- who may open it --------------------------------------------------- */

typedef struct
{
  RecoupWindow *window;   /* owned */
  gboolean      owner;
} RoleCheck;

static gboolean
role_check (RecoupBook  *book,
            gpointer     data,
            GError     **error)
{
  RoleCheck *check = data;
  g_autoptr(RecoupUser) me = recoup_user_load (book, recoup_book_get_user_id (book), error);

  if (me == NULL)
    return FALSE;
  check->owner = g_strcmp0 (me->role, "owner") == 0;
  return TRUE;
}

static void
role_checked_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  RoleCheck *check = user_data;
  g_autoptr(RecoupWindow) self = check->window;
  g_autoptr(GError) error = NULL;
  gboolean owner = check->owner;

  g_free (check);
  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_message ("Cannot tell the user's role: %s", error->message);
      return;
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.approvals", owner);
}

void
recoup_approvals_update_action (RecoupWindow *self)
{
  RoleCheck *check = g_new0 (RoleCheck, 1);

  check->window = g_object_ref (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.approvals", FALSE);
  recoup_session_read_async (self->session, role_check, check, NULL, self->cancellable, role_checked_cb, check);
}
