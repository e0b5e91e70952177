/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-locale-money.h"
#include "recoup-labels.h"
#include "recoup-mail.h"
#include "recoup-remind-window.h"
#include "recoup-report.h"

#define OUTBOX_LIMIT 500

/* ---- A row of a list: a borrowed or owned pointer ------------------------------ */

#define RECOUP_TYPE_REMIND_ROW (recoup_remind_row_get_type ())
G_DECLARE_FINAL_TYPE (RecoupRemindRow, recoup_remind_row, RECOUP, REMIND_ROW, GObject)

struct _RecoupRemindRow
{
  GObject         parent_instance;
  gpointer        ptr;
  GDestroyNotify  free_func;
};

G_DEFINE_FINAL_TYPE (RecoupRemindRow, recoup_remind_row, G_TYPE_OBJECT)

static void
recoup_remind_row_finalize (GObject *object)
{
  RecoupRemindRow *row = RECOUP_REMIND_ROW (object);

  if (row->free_func != NULL)
    row->free_func (row->ptr);
  G_OBJECT_CLASS (recoup_remind_row_parent_class)->finalize (object);
}

static void
recoup_remind_row_class_init (RecoupRemindRowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = recoup_remind_row_finalize;
}

static void
recoup_remind_row_init (RecoupRemindRow *row)
{
}

static RecoupRemindRow *
row_new (gpointer       ptr,
         GDestroyNotify free_func)
{
  RecoupRemindRow *row = g_object_new (RECOUP_TYPE_REMIND_ROW, NULL);

  row->ptr = ptr;
  row->free_func = free_func;
  return row;
}

/* ---- The window ------------------------------------------------------------------ */

struct _RecoupRemindWindow
{
  AdwWindow        parent_instance;

  /* borrowed */
  RecoupSession   *session;

  /* owned */
  RecoupRemindRun *run;          /* not freed while a worker uses it (busy) */
  GListStore      *send_store;   /* RecoupRemindRow -> RecoupRemindItem (borrowed from run) */
  GListStore      *held_store;
  GListStore      *outbox_store; /* RecoupRemindRow -> RecoupOutboxMessage (owned) */
  GCancellable    *cancellable;
  char            *letters_dir;
  char            *last_error;
  guint            busy;
  guint            n_executed;
  guint            n_selected[3];  /* e-mails, letters, texts ticked, for the confirmation */
  guint            progress_timer;
  gint             done;         /* atomic: the run's progress */
  gint             total;
  guint            preview_serial;

  /* children */
  AdwToastOverlay *toasts;
  AdwViewStack    *stack;
  GtkWidget       *send_view;
  GtkWidget       *held_view;
  GtkWidget       *held_title;
  GtkWidget       *outbox_view;
  GtkWidget       *run_stack;    /* loading / empty / run */
  GtkWidget       *summary;
  GtkWidget       *folder_button;
  GtkWidget       *execute_button;
  GtkWidget       *progress;
  GtkWidget       *preview_title;
  GtkWidget       *preview_text;
  GtkWidget       *outbox_summary;
  GtkWidget       *send_now_button;
};

G_DEFINE_FINAL_TYPE (RecoupRemindWindow, recoup_remind_window, ADW_TYPE_WINDOW)

static void load_outbox (RecoupRemindWindow *self);

/* Closed: the workers still finish (a run is written whole or not at all),
 * but their widgets are gone. */
static gboolean
window_closed (RecoupRemindWindow *self)
{
  return g_cancellable_is_cancelled (self->cancellable);
}

static void
toast (RecoupRemindWindow *self,
       const char         *text)
{
  AdwToast *t = adw_toast_new (text);

  adw_toast_set_timeout (t, 5);
  adw_toast_overlay_add_toast (self->toasts, t);
}

static void
show_error (RecoupRemindWindow *self,
            const char         *what,
            const GError       *error)
{
  g_autofree char *text = g_strdup_printf ("%s: %s", what, error->message);

  g_free (self->last_error);
  self->last_error = g_strdup (error->message);
  g_message ("%s", text);
  toast (self, text);
}

static void
set_busy (RecoupRemindWindow *self,
          gboolean            busy)
{
  if (busy)
    self->busy++;
  else if (self->busy > 0)
    self->busy--;
  if (window_closed (self))
    return;
  gtk_widget_set_sensitive (self->execute_button, self->busy == 0 && self->run != NULL);
  gtk_widget_set_sensitive (self->folder_button, self->busy == 0);
  gtk_widget_set_sensitive (self->send_now_button, self->busy == 0);
}

static RecoupRemindItem *
item_copy (const RecoupRemindItem *it)
{
  RecoupRemindItem *copy = g_new0 (RecoupRemindItem, 1);

  *copy = *it;
  copy->account_id = g_strdup (it->account_id);
  copy->ref = g_strdup (it->ref);
  copy->name = g_strdup (it->name);
  copy->currency = g_strdup (it->currency);
  copy->template_name = g_strdup (it->template_name);
  copy->channel = g_strdup (it->channel);
  copy->to = g_strdup (it->to);
  copy->reason = g_strdup (it->reason);
  copy->held_reasons = g_strdup (it->held_reasons);
  copy->warnings = g_strdup (it->warnings);
  return copy;
}

static void
item_free (RecoupRemindItem *it)
{
  if (it == NULL)
    return;
  g_free (it->account_id);
  g_free (it->ref);
  g_free (it->name);
  g_free (it->currency);
  g_free (it->template_name);
  g_free (it->channel);
  g_free (it->to);
  g_free (it->reason);
  g_free (it->held_reasons);
  g_free (it->warnings);
  g_free (it);
}

/* ---- Columns --------------------------------------------------------------------- */

typedef enum
{
  COL_TEXT,
  COL_CHECK,
  COL_RETRY,
} ColumnKind;

typedef struct
{
  const char  *title;
  ColumnKind   kind;
  gboolean     expand;
  char      *(*text) (gpointer ptr);
  int          width;     /* fixed width, or 0 */
} Column;

static char *
item_account (gpointer ptr)
{
  RecoupRemindItem *it = ptr;

  return g_strdup_printf ("%s · %s", it->ref, it->name);
}

static char *
item_balance (gpointer ptr)
{
  RecoupRemindItem *it = ptr;

  return recoup_locale_money_format (it->balance, it->currency, RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
}

static char *
item_days (gpointer ptr)
{
  return g_strdup_printf ("%d", ((RecoupRemindItem *) ptr)->days_past_due);
}

static char *
item_message (gpointer ptr)
{
  RecoupRemindItem *it = ptr;

  return g_strdup_printf ("%s (%s)", recoup_template_title (it->template_name), recoup_label_channel (it->channel));
}

static char *
item_to (gpointer ptr)
{
  RecoupRemindItem *it = ptr;

  return g_strdup (it->to != NULL ? it->to : g_str_equal (it->channel, "letter") ? _("postal address") : "—");
}

static char *
item_why (gpointer ptr)
{
  RecoupRemindItem *it = ptr;

  if (it->warnings != NULL && *it->warnings != '\0')
    {
      g_autofree char *warnings = recoup_label_reasons (it->warnings);

      return g_strdup_printf (_("%s (warning: %s)"), it->reason, warnings);
    }
  return g_strdup (it->reason);
}

static char *
item_held (gpointer ptr)
{
  RecoupRemindItem *it = ptr;

  return it->held_reasons != NULL ? recoup_label_reasons (it->held_reasons)
                                  : g_strdup (_("held back by the compliance guard"));
}

static char *
msg_state (gpointer ptr)
{
  return g_strdup (recoup_label_outbox_state (((RecoupOutboxMessage *) ptr)->state));
}

static char *
msg_to (gpointer ptr)
{
  return g_strdup (((RecoupOutboxMessage *) ptr)->to);
}

static char *
msg_subject (gpointer ptr)
{
  return g_strdup (((RecoupOutboxMessage *) ptr)->subject);
}

static char *
msg_when (gpointer ptr)
{
  RecoupOutboxMessage *m = ptr;
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (MAX (m->sent_at, m->created_at) / 1000);

  return dt ? g_date_time_format (dt, "%Y-%m-%d %H:%M") : g_strdup ("");
}

static char *
msg_attempts (gpointer ptr)
{
  return g_strdup_printf ("%d", ((RecoupOutboxMessage *) ptr)->attempts);
}

static char *
msg_reason (gpointer ptr)
{
  RecoupOutboxMessage *m = ptr;

  if (m->state == RECOUP_OUTBOX_UNCERTAIN)
    return g_strdup_printf (_("Interrupted while sending: check whether it arrived, then retry. %s"),
                            m->last_error ? m->last_error : "");
  return g_strdup (m->last_error ? m->last_error : "");
}

static const Column send_columns[] = {
  { "", COL_CHECK, FALSE, NULL },
  /* The fixed widths leave the reason the room that is left (it was cut
   * off past the list's edge); each cell's tooltip has its whole text. */
  { N_("Account"), COL_TEXT, TRUE, item_account, 190 },
  { N_("Balance"), COL_TEXT, FALSE, item_balance, 115 },
  { N_("Days"), COL_TEXT, FALSE, item_days, 50 },
  { N_("Message"), COL_TEXT, FALSE, item_message, 150 },
  { N_("To"), COL_TEXT, FALSE, item_to, 110 },
  { N_("Why"), COL_TEXT, TRUE, item_why },
  { NULL }
};

static const Column held_columns[] = {
  { N_("Account"), COL_TEXT, TRUE, item_account, 190 },
  { N_("Balance"), COL_TEXT, FALSE, item_balance, 115 },
  { N_("Message"), COL_TEXT, FALSE, item_message, 150 },
  { N_("Held back because"), COL_TEXT, TRUE, item_held },
  { NULL }
};

static const Column outbox_columns[] = {
  { N_("State"), COL_TEXT, FALSE, msg_state },
  { N_("When"), COL_TEXT, FALSE, msg_when },
  { N_("To"), COL_TEXT, FALSE, msg_to },
  { N_("Subject"), COL_TEXT, TRUE, msg_subject, 260 },
  { N_("Tries"), COL_TEXT, FALSE, msg_attempts },
  { N_("Reason"), COL_TEXT, TRUE, msg_reason, 260 },
  { "", COL_RETRY, FALSE, NULL },
  { NULL }
};

static void update_summary (RecoupRemindWindow *self);
static void retry_clicked_cb (GtkButton *button, GtkListItem *list_item);

static void
check_toggled_cb (GtkCheckButton *check,
                  GtkListItem    *list_item)
{
  RecoupRemindRow *row = gtk_list_item_get_item (list_item);
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (check), RECOUP_TYPE_REMIND_WINDOW);
  RecoupRemindItem *it;

  if (row == NULL || window == NULL)
    return;
  it = row->ptr;
  if (it->selected == gtk_check_button_get_active (check))
    return;
  it->selected = gtk_check_button_get_active (check) && !it->held;
  update_summary (RECOUP_REMIND_WINDOW (window));
}

static void
cell_setup_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               const Column             *column)
{
  GtkWidget *child;

  switch (column->kind)
    {
    case COL_CHECK:
      child = gtk_check_button_new ();
      gtk_widget_set_tooltip_text (child, _("Include in today's run"));
      g_signal_connect (child, "toggled", G_CALLBACK (check_toggled_cb), list_item);
      break;
    case COL_RETRY:
      child = gtk_button_new_with_mnemonic (_("_Retry"));
      gtk_widget_add_css_class (child, "flat");
      gtk_widget_set_tooltip_text (child, _("Queue this message again"));
      g_signal_connect (child, "clicked", G_CALLBACK (retry_clicked_cb), list_item);
      break;
    case COL_TEXT:
    default:
      child = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (child), 0);
      gtk_label_set_ellipsize (GTK_LABEL (child), PANGO_ELLIPSIZE_END);
      break;
    }
  gtk_list_item_set_child (list_item, child);
}

static void
cell_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              const Column             *column)
{
  RecoupRemindRow *row = gtk_list_item_get_item (list_item);
  GtkWidget *child = gtk_list_item_get_child (list_item);

  switch (column->kind)
    {
    case COL_CHECK:
      {
        RecoupRemindItem *it = row->ptr;

        gtk_check_button_set_active (GTK_CHECK_BUTTON (child), it->selected);
        gtk_widget_set_sensitive (child, !it->held);
      }
      break;
    case COL_RETRY:
      {
        RecoupOutboxMessage *m = row->ptr;

        gtk_widget_set_visible (child, m->state == RECOUP_OUTBOX_FAILED || m->state == RECOUP_OUTBOX_UNCERTAIN);
      }
      break;
    case COL_TEXT:
    default:
      {
        g_autofree char *text = column->text (row->ptr);

        gtk_label_set_text (GTK_LABEL (child), text);
        gtk_widget_set_tooltip_text (child, text);
      }
      break;
    }
}

static GtkWidget *
column_view_new (const Column *columns,
                 GListModel   *model,
                 gboolean      single)
{
  GtkSelectionModel *selection = single
    ? GTK_SELECTION_MODEL (gtk_single_selection_new (g_object_ref (model)))
    : GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (model)));
  GtkWidget *view = gtk_column_view_new (selection);

  if (single)
    {
      gtk_single_selection_set_autoselect (GTK_SINGLE_SELECTION (selection), FALSE);
      gtk_single_selection_set_can_unselect (GTK_SINGLE_SELECTION (selection), TRUE);
      gtk_single_selection_set_selected (GTK_SINGLE_SELECTION (selection), GTK_INVALID_LIST_POSITION);
    }
  gtk_column_view_set_show_column_separators (GTK_COLUMN_VIEW (view), FALSE);
  gtk_widget_add_css_class (view, "data-table");
  for (const Column *c = columns; c->title != NULL; c++)
    {
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      GtkColumnViewColumn *col;

      g_signal_connect (factory, "setup", G_CALLBACK (cell_setup_cb), (gpointer) c);
      g_signal_connect (factory, "bind", G_CALLBACK (cell_bind_cb), (gpointer) c);
      col = gtk_column_view_column_new (*c->title ? _(c->title) : "", factory);
      gtk_column_view_column_set_expand (col, c->expand);
      gtk_column_view_column_set_resizable (col, c->kind == COL_TEXT);
      if (c->width > 0)
        gtk_column_view_column_set_fixed_width (col, c->width);
      gtk_column_view_append_column (GTK_COLUMN_VIEW (view), col);
      g_object_unref (col);
    }
  return view;
}

/* ---- The proposal ---------------------------------------------------------------- */

static void
update_summary (RecoupRemindWindow *self)
{
  guint emails = 0, letters = 0, sms = 0, held = 0, selected = 0;
  g_autoptr(GString) text = g_string_new (NULL);

  if (self->run == NULL)
    return;
  for (guint i = 0; i < self->run->items->len; i++)
    {
      RecoupRemindItem *it = g_ptr_array_index (self->run->items, i);

      if (it->held)
        held++;
      else if (it->selected)
        {
          selected++;
          if (g_str_equal (it->channel, "email"))
            emails++;
          else if (g_str_equal (it->channel, "letter"))
            letters++;
          else
            sms++;
        }
    }
  g_string_append_printf (text, ngettext ("%u message to send", "%u messages to send", selected), selected);
  g_string_append_printf (text, _(" (%u emails, %u letters, %u texts)"), emails, letters, sms);
  g_string_append_printf (text, ngettext (" · %u held back", " · %u held back", held), held);
  if (self->run->n_recent > 0)
    g_string_append_printf (text, ngettext (" · %u reminded recently, left out", " · %u reminded recently, left out",
                                            self->run->n_recent), self->run->n_recent);
  gtk_label_set_text (GTK_LABEL (self->summary), text->str);
  gtk_widget_set_sensitive (self->execute_button, self->busy == 0 && selected > 0);
  self->n_selected[0] = emails;
  self->n_selected[1] = letters;
  self->n_selected[2] = sms;
}

static void
show_run (RecoupRemindWindow *self)
{
  guint n_held = 0;
  g_autofree char *held_title = NULL;

  g_list_store_remove_all (self->send_store);
  g_list_store_remove_all (self->held_store);
  for (guint i = 0; i < self->run->items->len; i++)
    {
      RecoupRemindItem *it = g_ptr_array_index (self->run->items, i);
      g_autoptr(RecoupRemindRow) row = row_new (it, NULL);

      g_list_store_append (it->held ? self->held_store : self->send_store, row);
      n_held += it->held;
    }
  held_title = g_strdup_printf (_("Held back (%u)"), n_held);
  gtk_label_set_text (GTK_LABEL (self->held_title), held_title);
  gtk_stack_set_visible_child_name (GTK_STACK (self->run_stack), self->run->items->len ? "run" : "empty");
  gtk_label_set_text (GTK_LABEL (self->preview_title), _("Select a row to preview its message"));
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->preview_text)), "", -1);
  update_summary (self);
}

typedef struct
{
  RecoupRemindRun *run;
} ProposeData;

static void
propose_data_free (ProposeData *d)
{
  g_clear_pointer (&d->run, recoup_remind_run_free);
  g_free (d);
}

static gboolean
propose_thread (RecoupBook  *book,
                gpointer     user_data,
                GError     **error)
{
  ProposeData *d = user_data;

  return (d->run = recoup_remind_propose (book, 0, error)) != NULL;
}

/* The run the worker proposed, taken on the main thread. */
static void
propose_finished (RecoupRemindWindow *self,
                  ProposeData        *d)
{
  g_autofree char *subtitle = NULL;

  g_list_store_remove_all (self->send_store);
  g_list_store_remove_all (self->held_store);
  g_clear_pointer (&self->run, recoup_remind_run_free);
  self->run = g_steal_pointer (&d->run);
  subtitle = g_strdup_printf (_("Today, %s"), self->run->today);
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (g_object_get_data (G_OBJECT (self), "title")), subtitle);
  show_run (self);
}

typedef struct
{
  RecoupRemindWindow *self;
  ProposeData        *data;
} Propose;

static void
propose_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Propose *p = user_data;
  g_autoptr(GError) error = NULL;

  if (window_closed (p->self))
    recoup_session_run_finish (RECOUP_SESSION (source), result, NULL);
  else if (recoup_session_run_finish (RECOUP_SESSION (source), result, &error))
    propose_finished (p->self, p->data);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      show_error (p->self, _("Could not propose today's run"), error);
      gtk_stack_set_visible_child_name (GTK_STACK (p->self->run_stack), "empty");
    }
  set_busy (p->self, FALSE);
  propose_data_free (p->data);
  g_object_unref (p->self);
  g_free (p);
}

void
recoup_remind_window_reload (RecoupRemindWindow *self)
{
  Propose *p = g_new0 (Propose, 1);

  p->self = g_object_ref (self);
  p->data = g_new0 (ProposeData, 1);
  set_busy (self, TRUE);
  if (self->run == NULL)
    gtk_stack_set_visible_child_name (GTK_STACK (self->run_stack), "loading");
  recoup_session_run_async (self->session, propose_thread, p->data, NULL, self->cancellable, propose_cb, p);
  load_outbox (self);
}

/* ---- Preview --------------------------------------------------------------------- */

typedef struct
{
  RecoupRemindWindow *self;
  RecoupRemindItem   *item;
  guint               serial;
  char               *subject;
  char               *body;
} Preview;

static void
preview_free (Preview *p)
{
  g_object_unref (p->self);
  item_free (p->item);
  g_free (p->subject);
  g_free (p->body);
  g_free (p);
}

static gboolean
preview_thread (RecoupBook  *book,
                gpointer     user_data,
                GError     **error)
{
  Preview *p = user_data;

  return recoup_remind_preview (book, p->item, &p->subject, &p->body, error);
}

static void
preview_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Preview *p = user_data;
  RecoupRemindWindow *self = p->self;
  g_autoptr(GError) error = NULL;
  GtkTextBuffer *buffer;

  if (window_closed (self))
    {
      recoup_session_run_finish (RECOUP_SESSION (source), result, NULL);
      preview_free (p);
      return;
    }
  buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->preview_text));
  if (p->serial != self->preview_serial)
    {
      /* A newer preview was asked for. */
      g_clear_error (&error);
      recoup_session_run_finish (RECOUP_SESSION (source), result, NULL);
    }
  else if (!recoup_session_run_finish (RECOUP_SESSION (source), result, &error))
    {
      g_autofree char *text = g_strdup_printf (_("This message cannot be rendered: %s\nFix the template "
                                                 "(recoup-cli template) or leave the account out."),
                                               error->message);

      gtk_label_set_text (GTK_LABEL (self->preview_title), p->item->ref);
      gtk_text_buffer_set_text (buffer, text, -1);
    }
  else
    {
      g_autofree char *title = NULL;

      if (g_str_equal (p->item->channel, "email"))
        title = g_strdup_printf (_("Email to %s — %s"), p->item->to ? p->item->to : "?",
                                 p->subject ? p->subject : "");
      else if (g_str_equal (p->item->channel, "letter"))
        title = g_strdup_printf (_("Letter to %s — %s"), p->item->name, p->subject ? p->subject : "");
      else
        title = g_strdup_printf (_("Text message to %s"), p->item->to ? p->item->to : p->item->name);
      gtk_label_set_text (GTK_LABEL (self->preview_title), title);
      gtk_text_buffer_set_text (buffer, p->body ? p->body : "", -1);
    }
  set_busy (self, FALSE);
  preview_free (p);
}

static void
preview_item (RecoupRemindWindow     *self,
              const RecoupRemindItem *it)
{
  Preview *p = g_new0 (Preview, 1);

  p->self = g_object_ref (self);
  p->item = item_copy (it);
  p->serial = ++self->preview_serial;
  set_busy (self, TRUE);
  gtk_label_set_text (GTK_LABEL (self->preview_title), _("Rendering…"));
  recoup_session_run_async (self->session, preview_thread, p, NULL, self->cancellable, preview_done_cb, p);
}

gboolean
recoup_remind_window_preview (RecoupRemindWindow *self,
                              const char         *ref)
{
  for (guint i = 0; self->run != NULL && i < self->run->items->len; i++)
    {
      RecoupRemindItem *it = g_ptr_array_index (self->run->items, i);

      if (g_strcmp0 (it->ref, ref) == 0)
        {
          preview_item (self, it);
          return TRUE;
        }
    }
  return FALSE;
}

char *
recoup_remind_window_get_preview_text (RecoupRemindWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->preview_text));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
selection_changed_cb (GtkSingleSelection *selection,
                      GParamSpec         *pspec,
                      RecoupRemindWindow *self)
{
  RecoupRemindRow *row = gtk_single_selection_get_selected_item (selection);

  if (row != NULL)
    preview_item (self, row->ptr);
}

/* ---- Executing ------------------------------------------------------------------- */

typedef struct
{
  RecoupRemindWindow *self;
  RecoupRemindRun    *run;         /* the window's; it stays while busy */
  char               *letters_dir;
  RecoupRemindResult  result;
} Execute;

static void
execute_progress (guint64  done,
                  guint64  total,
                  gpointer user_data)
{
  Execute *e = user_data;

  g_atomic_int_set (&e->self->total, (gint) MIN (total, G_MAXINT));
  g_atomic_int_set (&e->self->done, (gint) MIN (done, G_MAXINT));
}

static gboolean
execute_thread (RecoupBook  *book,
                gpointer     user_data,
                GError     **error)
{
  Execute *e = user_data;
  g_autoptr(RecoupBusinessInfo) business = recoup_business_info_load (book);
  RecoupPaper paper;
  RecoupRemindOptions options = { 0 };

  if (business->paper == NULL || !recoup_paper_from_string (business->paper, &paper))
    paper = recoup_paper_for_locale ();
  options.letters_dir = e->letters_dir;
  options.render_letter = recoup_mail_letter_renderer;
  options.render_data = paper == RECOUP_PAPER_LETTER ? (gpointer) "letter" : (gpointer) "a4";
  options.progress = execute_progress;
  options.progress_data = e;
  return recoup_remind_execute (book, e->run, &options, &e->result, error);
}

static gboolean
progress_tick_cb (gpointer user_data)
{
  RecoupRemindWindow *self = user_data;
  gint total = g_atomic_int_get (&self->total);

  if (total > 0)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress),
                                   (double) g_atomic_int_get (&self->done) / total);
  else
    gtk_progress_bar_pulse (GTK_PROGRESS_BAR (self->progress));
  return G_SOURCE_CONTINUE;
}

static void
execute_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Execute *e = user_data;
  RecoupRemindWindow *self = e->self;
  g_autoptr(GError) error = NULL;

  if (window_closed (self))
    {
      /* The run was written (or not) all the same; nobody is left to tell. */
      recoup_session_run_finish (RECOUP_SESSION (source), result, NULL);
      recoup_remind_result_clear (&e->result);
      g_free (e->letters_dir);
      g_free (e);
      g_object_unref (self);
      return;
    }
  g_clear_handle_id (&self->progress_timer, g_source_remove);
  gtk_widget_set_visible (self->progress, FALSE);
  set_busy (self, FALSE);
  if (recoup_session_run_finish (RECOUP_SESSION (source), result, &error))
    {
      g_autoptr(GString) text = g_string_new (NULL);

      self->n_executed++;
      g_string_append_printf (text, ngettext ("%u email queued", "%u emails queued", e->result.emails_queued),
                              e->result.emails_queued);
      g_string_append_printf (text, ngettext (", %u letter", ", %u letters", e->result.letters), e->result.letters);
      if (e->result.letter_paths != NULL && e->result.letter_paths->len > 0)
        {
          g_autofree char *dir = g_path_get_dirname (g_ptr_array_index (e->result.letter_paths, 0));

          g_string_append_printf (text, _(" in %s"), dir);
        }
      g_string_append_printf (text, ngettext (", %u text logged", ", %u texts logged", e->result.sms), e->result.sms);
      toast (self, text->str);
      recoup_remind_result_clear (&e->result);
      if (e->result.emails_queued > 0)
        adw_view_stack_set_visible_child_name (self->stack, "outbox");
    }
  else
    show_error (self, _("The run was not carried out, nothing was written"), error);
  g_free (e->letters_dir);
  g_free (e);
  /* What was done is no longer due: propose again. */
  recoup_remind_window_reload (self);
  g_object_unref (self);
}

gboolean
recoup_remind_window_execute (RecoupRemindWindow *self)
{
  Execute *e;

  if (self->busy > 0 || self->run == NULL)
    return FALSE;
  e = g_new0 (Execute, 1);
  e->self = g_object_ref (self);
  e->run = self->run;
  e->letters_dir = g_strdup (self->letters_dir);
  g_atomic_int_set (&self->done, 0);
  g_atomic_int_set (&self->total, 0);
  set_busy (self, TRUE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  gtk_widget_set_visible (self->progress, TRUE);
  self->progress_timer = g_timeout_add (100, progress_tick_cb, self);
  recoup_session_run_async (self->session, execute_thread, e, NULL, NULL, execute_done_cb, e);
  return TRUE;
}

guint
recoup_remind_window_get_n_executed (RecoupRemindWindow *self)
{
  return self->n_executed;
}

static void
update_folder_button (RecoupRemindWindow *self)
{
  g_autofree char *base = self->letters_dir ? g_path_get_basename (self->letters_dir) : NULL;
  g_autofree char *label = g_strdup_printf (_("Letters: %s"), base ? base : _("default folder"));

  gtk_button_set_label (GTK_BUTTON (self->folder_button), label);
  gtk_widget_set_tooltip_text (self->folder_button,
                               self->letters_dir ? self->letters_dir
                                                 : _("The book's letters folder (setting letters.dir, else letters/ beside the book)"));
}

void
recoup_remind_window_set_letters_dir (RecoupRemindWindow *self,
                                      const char         *dir)
{
  g_free (self->letters_dir);
  self->letters_dir = g_strdup (dir);
  update_folder_button (self);
}

static gboolean
run_has_letters (RecoupRemindWindow *self)
{
  for (guint i = 0; self->run != NULL && i < self->run->items->len; i++)
    {
      RecoupRemindItem *it = g_ptr_array_index (self->run->items, i);

      if (it->selected && !it->held && g_str_equal (it->channel, "letter"))
        return TRUE;
    }
  return FALSE;
}

static void
folder_response_cb (GtkNativeDialog    *chooser,
                    int                 response,
                    RecoupRemindWindow *self)
{
  gboolean then_execute = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "execute"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = g_file_get_path (file);

      recoup_remind_window_set_letters_dir (self, path);
      if (then_execute)
        recoup_remind_window_execute (self);
    }
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
}

static void
choose_folder (RecoupRemindWindow *self,
               gboolean            then_execute)
{
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (_("Folder for Today's Letters"), GTK_WINDOW (self),
                                 GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                 then_execute ? _("_Generate Here") : _("_Select"), _("_Cancel"));

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (self->letters_dir != NULL)
    {
      g_autoptr(GFile) dir = g_file_new_for_path (self->letters_dir);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), dir, NULL);
    }
  g_object_set_data (G_OBJECT (chooser), "execute", GINT_TO_POINTER (then_execute));
  g_signal_connect (chooser, "response", G_CALLBACK (folder_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
folder_clicked_cb (RecoupRemindWindow *self)
{
  choose_folder (self, FALSE);
}

static void
execute_go (RecoupRemindWindow *self)
{
  /* Letters need a folder: ask once, then go. */
  if (self->letters_dir == NULL && run_has_letters (self))
    choose_folder (self, TRUE);
  else
    recoup_remind_window_execute (self);
}

static void
confirm_response_cb (AdwMessageDialog   *dialog,
                     const char         *response,
                     RecoupRemindWindow *self)
{
  if (g_str_equal (response, "send"))
    execute_go (self);
}

/* A large run is said in words before it goes. */
#define CONFIRM_FROM 50

static void
execute_clicked_cb (RecoupRemindWindow *self)
{
  guint total = self->n_selected[0] + self->n_selected[1] + self->n_selected[2];
  g_autoptr(GString) body = NULL;
  g_autofree char *heading = NULL;
  GtkWidget *dialog;

  if (total < CONFIRM_FROM)
    {
      execute_go (self);
      return;
    }
  heading = g_strdup_printf (ngettext ("Send %u Reminder?", "Send %u Reminders?", total), total);
  body = g_string_new (NULL);
  if (self->n_selected[0] > 0)
    g_string_append_printf (body, ngettext ("%u e-mail is queued in the outbox.",
                                            "%u e-mails are queued in the outbox.",
                                            self->n_selected[0]), self->n_selected[0]);
  if (self->n_selected[2] > 0)
    g_string_append_printf (body, "%s%s", body->len ? " " : "",
                            ngettext ("One text message is prepared to send from your phone.",
                                      "Text messages are prepared to send from your phone.",
                                      self->n_selected[2]));
  if (self->n_selected[1] > 0)
    {
      g_autofree char *letters = g_strdup_printf (ngettext ("%u letter is written to a folder for printing.",
                                                            "%u letters are written to a folder for printing.",
                                                            self->n_selected[1]), self->n_selected[1]);

      g_string_append_printf (body, "%s%s", body->len ? " " : "", letters);
    }
  g_string_append_printf (body, " %s", _("Each is logged on its account as a reminder made today."));
  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body->str);
  gtk_widget_set_name (dialog, "confirm-send");
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "send", _("_Send"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "send", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  g_signal_connect_object (dialog, "response", G_CALLBACK (confirm_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- Outbox ---------------------------------------------------------------------- */

typedef struct
{
  RecoupRemindWindow *self;
  GPtrArray          *messages;
  gint64              counts[RECOUP_OUTBOX_UNCERTAIN + 1];
  char               *retry_id;   /* retry this first */
  gboolean            send;       /* send the queue first */
  RecoupMailStats     stats;
  GError             *send_error;
} Outbox;

static void
outbox_free (Outbox *o)
{
  g_object_unref (o->self);
  g_clear_pointer (&o->messages, g_ptr_array_unref);
  g_free (o->retry_id);
  g_clear_error (&o->send_error);
  g_free (o);
}

static gboolean
outbox_thread (RecoupBook  *book,
               gpointer     user_data,
               GError     **error)
{
  Outbox *o = user_data;

  if (o->retry_id != NULL && !recoup_outbox_retry (book, o->retry_id, error))
    return FALSE;
  /* A server-level failure is reported, and the list still shown. */
  if (o->send)
    recoup_mail_send_outbox (book, &o->stats, NULL, NULL, NULL, &o->send_error);
  for (int s = RECOUP_OUTBOX_QUEUED; s <= RECOUP_OUTBOX_UNCERTAIN; s++)
    if (!recoup_outbox_count (book, s, &o->counts[s], error))
      return FALSE;
  return (o->messages = recoup_outbox_list (book, NULL, OUTBOX_LIMIT, error)) != NULL;
}

static void
outbox_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Outbox *o = user_data;
  RecoupRemindWindow *self = o->self;
  g_autoptr(GError) error = NULL;

  if (window_closed (self))
    {
      recoup_session_run_finish (RECOUP_SESSION (source), result, NULL);
      outbox_free (o);
      return;
    }
  set_busy (self, FALSE);
  if (!recoup_session_run_finish (RECOUP_SESSION (source), result, &error))
    {
      show_error (self, o->retry_id ? _("Could not retry the message") : _("Could not read the outbox"), error);
      outbox_free (o);
      return;
    }
  g_list_store_remove_all (self->outbox_store);
  for (guint i = 0; i < o->messages->len; i++)
    {
      g_autoptr(RecoupRemindRow) row = row_new (g_ptr_array_index (o->messages, i),
                                                (GDestroyNotify) recoup_outbox_message_free);

      g_list_store_append (self->outbox_store, row);
    }
  g_ptr_array_set_free_func (o->messages, NULL);
  {
    g_autofree char *text =
      /* Plain unsigned counts: xgettext cannot see through G_GINT64_FORMAT. */
      g_strdup_printf (_("%u queued · %u sending · %u sent · %u failed · %u uncertain"),
                       (guint) o->counts[RECOUP_OUTBOX_QUEUED], (guint) o->counts[RECOUP_OUTBOX_SENDING],
                       (guint) o->counts[RECOUP_OUTBOX_SENT], (guint) o->counts[RECOUP_OUTBOX_FAILED],
                       (guint) o->counts[RECOUP_OUTBOX_UNCERTAIN]);

    gtk_label_set_text (GTK_LABEL (self->outbox_summary), text);
  }
  if (o->send)
    {
      if (o->send_error != NULL)
        show_error (self, _("Messages stay queued"), o->send_error);
      else
        {
          g_autofree char *text = g_strdup_printf (_("%u sent, %u failed, %u left queued"),
                                                   o->stats.sent, o->stats.failed, o->stats.deferred);

          toast (self, text);
        }
    }
  outbox_free (o);
}

static void
outbox_start (RecoupRemindWindow *self,
              const char         *retry_id,
              gboolean            send)
{
  Outbox *o = g_new0 (Outbox, 1);

  o->self = g_object_ref (self);
  o->retry_id = g_strdup (retry_id);
  o->send = send;
  set_busy (self, TRUE);
  recoup_session_run_async (self->session, outbox_thread, o, NULL, self->cancellable, outbox_done_cb, o);
}

static void
load_outbox (RecoupRemindWindow *self)
{
  outbox_start (self, NULL, FALSE);
}

static void
retry_clicked_cb (GtkButton   *button,
                  GtkListItem *list_item)
{
  RecoupRemindRow *row = gtk_list_item_get_item (list_item);
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (button), RECOUP_TYPE_REMIND_WINDOW);

  if (row != NULL && window != NULL)
    outbox_start (RECOUP_REMIND_WINDOW (window), ((RecoupOutboxMessage *) row->ptr)->id, FALSE);
}

gboolean
recoup_remind_window_retry (RecoupRemindWindow *self,
                            const char         *message_id)
{
  if (self->busy > 0)
    return FALSE;
  outbox_start (self, message_id, FALSE);
  return TRUE;
}

static void
send_now_clicked_cb (RecoupRemindWindow *self)
{
  outbox_start (self, NULL, TRUE);
}

guint
recoup_remind_window_get_n_outbox (RecoupRemindWindow *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->outbox_store));
}

/* ---- API ------------------------------------------------------------------------- */

gboolean
recoup_remind_window_is_busy (RecoupRemindWindow *self)
{
  return self->busy > 0;
}

RecoupRemindRun *
recoup_remind_window_get_run (RecoupRemindWindow *self)
{
  return self->run;
}

gboolean
recoup_remind_window_set_selected (RecoupRemindWindow *self,
                                   const char         *ref,
                                   gboolean            selected)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->send_store));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RecoupRemindRow) row = g_list_model_get_item (G_LIST_MODEL (self->send_store), i);
      RecoupRemindItem *it = row->ptr;

      if (g_strcmp0 (it->ref, ref) == 0)
        {
          it->selected = selected;
          /* Rebind the row so its check box shows the change. */
          g_list_store_splice (self->send_store, i, 1, (gpointer *) &row, 1);
          update_summary (self);
          return TRUE;
        }
    }
  return FALSE;
}

const char *
recoup_remind_window_get_last_error (RecoupRemindWindow *self)
{
  return self->last_error;
}

/* ---- Construction ---------------------------------------------------------------- */

static GtkWidget *
scrolled (GtkWidget *child)
{
  GtkWidget *sw = gtk_scrolled_window_new ();

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), child);
  gtk_widget_set_vexpand (sw, TRUE);
  gtk_widget_add_css_class (sw, "card");
  gtk_widget_set_overflow (sw, GTK_OVERFLOW_HIDDEN);
  return sw;
}

static GtkWidget *
heading (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  return label;
}

static GtkWidget *
build_run_page (RecoupRemindWindow *self)
{
  GtkWidget *page = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *lists = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *preview = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *held_sw;
  GtkWidget *loading = gtk_spinner_new ();
  GtkWidget *empty = adw_status_page_new ();
  GtkSelectionModel *selection;

  self->send_view = column_view_new (send_columns, G_LIST_MODEL (self->send_store), TRUE);
  self->held_view = column_view_new (held_columns, G_LIST_MODEL (self->held_store), TRUE);
  gtk_widget_set_name (self->send_view, "remind-send");
  gtk_widget_set_name (self->held_view, "remind-held");
  selection = gtk_column_view_get_model (GTK_COLUMN_VIEW (self->send_view));
  g_signal_connect_object (selection, "notify::selected", G_CALLBACK (selection_changed_cb), self, 0);
  selection = gtk_column_view_get_model (GTK_COLUMN_VIEW (self->held_view));
  g_signal_connect_object (selection, "notify::selected", G_CALLBACK (selection_changed_cb), self, 0);

  self->held_title = heading (_("Held back"));
  gtk_box_append (GTK_BOX (lists), heading (_("To send today")));
  gtk_box_append (GTK_BOX (lists), scrolled (self->send_view));
  gtk_box_append (GTK_BOX (lists), self->held_title);
  held_sw = scrolled (self->held_view);
  gtk_widget_set_vexpand (held_sw, FALSE);
  gtk_widget_set_size_request (held_sw, -1, 150);
  gtk_box_append (GTK_BOX (lists), held_sw);
  gtk_widget_set_margin_end (lists, 6);

  self->preview_title = gtk_label_new (_("Select a row to preview its message"));
  gtk_label_set_xalign (GTK_LABEL (self->preview_title), 0);
  gtk_label_set_wrap (GTK_LABEL (self->preview_title), TRUE);
  gtk_widget_add_css_class (self->preview_title, "dim-label");
  self->preview_text = gtk_text_view_new ();
  gtk_widget_set_name (self->preview_text, "remind-preview");
  gtk_text_view_set_editable (GTK_TEXT_VIEW (self->preview_text), FALSE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (self->preview_text), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (self->preview_text), TRUE);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (self->preview_text), 12);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (self->preview_text), 12);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (self->preview_text), 12);
  gtk_box_append (GTK_BOX (preview), heading (_("Preview")));
  gtk_box_append (GTK_BOX (preview), self->preview_title);
  gtk_box_append (GTK_BOX (preview), scrolled (self->preview_text));
  gtk_widget_set_margin_start (preview, 6);

  gtk_paned_set_start_child (GTK_PANED (paned), lists);
  gtk_paned_set_end_child (GTK_PANED (paned), preview);
  gtk_paned_set_resize_start_child (GTK_PANED (paned), TRUE);
  gtk_paned_set_shrink_end_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_position (GTK_PANED (paned), 860);
  gtk_widget_set_margin_start (paned, 12);
  gtk_widget_set_margin_end (paned, 12);
  gtk_widget_set_margin_top (paned, 12);

  self->run_stack = gtk_stack_new ();
  gtk_widget_set_vexpand (self->run_stack, TRUE);
  gtk_spinner_set_spinning (GTK_SPINNER (loading), TRUE);
  gtk_widget_set_size_request (loading, 32, 32);
  gtk_widget_set_halign (loading, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (loading, GTK_ALIGN_CENTER);
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "mail-send-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), _("Nobody Is Due a Reminder Today"));
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   _("No account with a past-due balance has reached a message step of the "
                                     "escalation policy, or all were reminded recently."));
  gtk_stack_add_named (GTK_STACK (self->run_stack), loading, "loading");
  gtk_stack_add_named (GTK_STACK (self->run_stack), empty, "empty");
  gtk_stack_add_named (GTK_STACK (self->run_stack), paned, "run");

  self->summary = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->summary), 0);
  gtk_label_set_wrap (GTK_LABEL (self->summary), TRUE);
  gtk_widget_set_hexpand (self->summary, TRUE);
  self->folder_button = gtk_button_new ();
  gtk_widget_set_name (self->folder_button, "remind-folder");
  g_signal_connect_swapped (self->folder_button, "clicked", G_CALLBACK (folder_clicked_cb), self);
  update_folder_button (self);
  self->progress = gtk_progress_bar_new ();
  gtk_widget_set_valign (self->progress, GTK_ALIGN_CENTER);
  gtk_widget_set_size_request (self->progress, 160, -1);
  gtk_widget_set_visible (self->progress, FALSE);
  self->execute_button = gtk_button_new_with_mnemonic (_("_Generate Letters and Queue Emails"));
  gtk_widget_set_name (self->execute_button, "remind-execute");
  gtk_widget_add_css_class (self->execute_button, "suggested-action");
  gtk_widget_set_sensitive (self->execute_button, FALSE);
  g_signal_connect_swapped (self->execute_button, "clicked", G_CALLBACK (execute_clicked_cb), self);
  gtk_box_append (GTK_BOX (bar), self->summary);
  gtk_box_append (GTK_BOX (bar), self->progress);
  gtk_box_append (GTK_BOX (bar), self->folder_button);
  gtk_box_append (GTK_BOX (bar), self->execute_button);
  gtk_widget_set_margin_start (bar, 12);
  gtk_widget_set_margin_end (bar, 12);
  gtk_widget_set_margin_top (bar, 12);
  gtk_widget_set_margin_bottom (bar, 12);

  gtk_box_append (GTK_BOX (page), self->run_stack);
  gtk_box_append (GTK_BOX (page), bar);
  return page;
}

static GtkWidget *
build_outbox_page (RecoupRemindWindow *self)
{
  GtkWidget *page = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *refresh = gtk_button_new_with_mnemonic (_("_Refresh"));

  self->outbox_view = column_view_new (outbox_columns, G_LIST_MODEL (self->outbox_store), FALSE);
  gtk_widget_set_name (self->outbox_view, "remind-outbox");
  self->outbox_summary = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (self->outbox_summary), 0);
  gtk_widget_set_hexpand (self->outbox_summary, TRUE);
  self->send_now_button = gtk_button_new_with_mnemonic (_("_Send Queued Now"));
  gtk_widget_add_css_class (self->send_now_button, "suggested-action");
  gtk_widget_set_tooltip_text (self->send_now_button, _("Send this device's queued messages through the mail server"));
  g_signal_connect_swapped (self->send_now_button, "clicked", G_CALLBACK (send_now_clicked_cb), self);
  g_signal_connect_swapped (refresh, "clicked", G_CALLBACK (load_outbox), self);
  gtk_box_append (GTK_BOX (bar), self->outbox_summary);
  gtk_box_append (GTK_BOX (bar), refresh);
  gtk_box_append (GTK_BOX (bar), self->send_now_button);
  gtk_box_append (GTK_BOX (page), scrolled (self->outbox_view));
  gtk_box_append (GTK_BOX (page), bar);
  gtk_widget_set_margin_start (page, 12);
  gtk_widget_set_margin_end (page, 12);
  gtk_widget_set_margin_top (page, 12);
  gtk_widget_set_margin_bottom (page, 12);
  return page;
}

static void
recoup_remind_window_dispose (GObject *object)
{
  RecoupRemindWindow *self = RECOUP_REMIND_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->progress_timer, g_source_remove);
  if (self->send_store != NULL)
    g_list_store_remove_all (self->send_store);
  if (self->held_store != NULL)
    g_list_store_remove_all (self->held_store);
  G_OBJECT_CLASS (recoup_remind_window_parent_class)->dispose (object);
}

static void
recoup_remind_window_finalize (GObject *object)
{
  RecoupRemindWindow *self = RECOUP_REMIND_WINDOW (object);

  g_clear_object (&self->send_store);
  g_clear_object (&self->held_store);
  g_clear_object (&self->outbox_store);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->run, recoup_remind_run_free);
  g_free (self->letters_dir);
  g_free (self->last_error);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (recoup_remind_window_parent_class)->finalize (object);
}

static void
recoup_remind_window_class_init (RecoupRemindWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = recoup_remind_window_dispose;
  object_class->finalize = recoup_remind_window_finalize;
  gtk_widget_class_add_binding_action (GTK_WIDGET_CLASS (klass), GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
recoup_remind_window_init (RecoupRemindWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *switcher = adw_view_switcher_new ();
  GtkWidget *title = adw_window_title_new (_("Reminder Run"), NULL);
  GtkWidget *title_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 24);
  AdwViewStackPage *page;

  self->cancellable = g_cancellable_new ();
  self->send_store = g_list_store_new (RECOUP_TYPE_REMIND_ROW);
  self->held_store = g_list_store_new (RECOUP_TYPE_REMIND_ROW);
  self->outbox_store = g_list_store_new (RECOUP_TYPE_REMIND_ROW);

  gtk_window_set_title (GTK_WINDOW (self), _("Reminder Run"));
  /* Fits a 1280 x 720 laptop screen. */
  gtk_window_set_default_size (GTK_WINDOW (self), 1200, 680);
  gtk_widget_set_name (GTK_WIDGET (self), "remind-window");
  gtk_window_set_modal (GTK_WINDOW (self), TRUE);

  self->stack = ADW_VIEW_STACK (adw_view_stack_new ());
  page = adw_view_stack_add_titled (self->stack, build_run_page (self), "run", _("Today's Run"));
  adw_view_stack_page_set_icon_name (page, "mail-send-symbolic");
  page = adw_view_stack_add_titled (self->stack, build_outbox_page (self), "outbox", _("Outbox"));
  adw_view_stack_page_set_icon_name (page, "mail-send-receive-symbolic");
  adw_view_switcher_set_stack (ADW_VIEW_SWITCHER (switcher), self->stack);
  adw_view_switcher_set_policy (ADW_VIEW_SWITCHER (switcher), ADW_VIEW_SWITCHER_POLICY_WIDE);
  g_object_set_data (G_OBJECT (self), "title", title);
  gtk_box_append (GTK_BOX (title_box), title);
  gtk_box_append (GTK_BOX (title_box), switcher);
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), title_box);

  self->toasts = ADW_TOAST_OVERLAY (adw_toast_overlay_new ());
  adw_toast_overlay_set_child (self->toasts, GTK_WIDGET (self->stack));
  gtk_widget_set_vexpand (GTK_WIDGET (self->toasts), TRUE);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->toasts));
  adw_window_set_content (ADW_WINDOW (self), box);
}

GtkWidget *
recoup_remind_window_new (GtkWindow     *parent,
                          RecoupSession *session)
{
  RecoupRemindWindow *self = g_object_new (RECOUP_TYPE_REMIND_WINDOW, NULL);

  if (parent != NULL)
    gtk_window_set_transient_for (GTK_WINDOW (self), parent);
  self->session = g_object_ref (session);
  recoup_remind_window_reload (self);
  return GTK_WIDGET (self);
}
