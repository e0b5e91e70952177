/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-labels.h"
#include "recoup-window-private.h"

/*
 * Edit an account and its contact points: a modal window like the other forms.
 * Every field is checked by core's validators as the user types and says what
 * is wrong; Save stays disabled while anything is wrong. Save writes every
 * change in one transaction in the session's worker: all or nothing.
 *
 * Widgets carry names ("name", "timezone", "save", "contact-0", ...) so UI
 * tests can drive them.
 */

static const char * const stages[] = { "pre-collection", "active", "negotiation", "escalation", "closed", NULL };

typedef struct
{
  char             *id;          /* NULL: a new contact point */
  RecoupContactKind kind;
  char             *value;       /* as loaded */
  gboolean          opted_out;   /* as loaded */
  GtkWidget        *row;         /* AdwEntryRow */
  GtkWidget        *opt_out;     /* GtkToggleButton */
  gboolean          removed;
} ContactRow;

static void
contact_row_free (ContactRow *cr)
{
  g_free (cr->id);
  g_free (cr->value);
  g_free (cr);
}

typedef struct
{
  RecoupWindow  *window;
  GtkWindow     *dialog;
  GtkWidget     *save;
  GtkWidget     *error_label;
  GtkWidget     *name;
  GtkWidget     *timezone;
  GtkWidget     *stage;
  GtkWidget     *assigned;
  GtkWidget     *tier;
  GtkWidget     *tags;
  GtkWidget     *validation;
  GtkWidget     *flags[4];
  GtkWidget     *contacts_group;
  GPtrArray     *contacts;       /* ContactRow */
  GPtrArray     *user_ids;       /* index i + 1 of the assigned combo */
  GPtrArray     *tiers;          /* the tier combo's values, "" for none */
  RecoupAccount *account;        /* as loaded */
  char          *today;          /* the book's, when the account was loaded */
  gboolean       busy;
} Editor;

static const char * const flag_fields[] = {
  "cease_communication", "attorney_represented", "bankruptcy", "deceased"
};

static void
editor_free (Editor *ed)
{
  g_clear_pointer (&ed->contacts, g_ptr_array_unref);
  g_clear_pointer (&ed->user_ids, g_ptr_array_unref);
  g_clear_pointer (&ed->tiers, g_ptr_array_unref);
  g_clear_pointer (&ed->account, recoup_account_free);
  g_free (ed->today);
  g_free (ed);
}

static void
mark (GtkWidget *row,
      gboolean   bad)
{
  if (bad)
    gtk_widget_add_css_class (row, "error");
  else
    gtk_widget_remove_css_class (row, "error");
}

static char *
entry_text (GtkWidget *row)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
}

/* Checks every field; lists what is wrong and enables Save when nothing is. */
static gboolean
editor_validate (Editor *ed)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autofree char *name = entry_text (ed->name);
  g_autofree char *tz = entry_text (ed->timezone);
  g_autofree char *vdate = entry_text (ed->validation);
  g_autoptr(GError) error = NULL;
  guint n_phone = 0, n_email = 0, n_address = 0;

  mark (ed->name, *name == '\0');
  if (*name == '\0')
    g_string_append_printf (problems, "%s\n", _("Name: enter the debtor's name."));

  /* A zone the account has from before the rule got stricter (EST) does not
   * stop the other fields being saved: only a new one is checked. */
  if (g_strcmp0 (tz, ed->account->timezone != NULL ? ed->account->timezone : "") != 0 &&
      !recoup_timezone_validate (tz, &error))
    {
      mark (ed->timezone, TRUE);
      g_string_append_printf (problems, _("Time zone: %s. Leave it empty when unknown.\n"), error->message);
      g_clear_error (&error);
    }
  else
    mark (ed->timezone, FALSE);

  if (*vdate != '\0' && recoup_date_parse (vdate, NULL) == RECOUP_DATE_INVALID)
    {
      mark (ed->validation, TRUE);
      g_string_append_printf (problems, _("Validation notice: “%s” is not a date; write it as YYYY-MM-DD, "
                                          "or leave it empty.\n"), vdate);
    }
  /* The rule recoup_account_set() applies on Save: not in the future, not
   * before 1970. A date kept as it was is not written, so not asked either
   * (one stored before the rule must not block other changes). */
  else if (g_strcmp0 (vdate, ed->account->validation_notice_date != NULL ? ed->account->validation_notice_date : "") != 0
           && !recoup_account_check_date ("validation_notice_date", vdate, ed->today, &error))
    {
      mark (ed->validation, TRUE);
      g_string_append_printf (problems, _("Validation notice: %s.\n"), error->message);
      g_clear_error (&error);
    }
  else
    mark (ed->validation, FALSE);

  for (guint i = 0; i < ed->contacts->len; i++)
    {
      ContactRow *cr = g_ptr_array_index (ed->contacts, i);
      g_autofree char *value = NULL;
      guint n;

      if (cr->removed)
        continue;
      n = cr->kind == RECOUP_CONTACT_PHONE ? ++n_phone : cr->kind == RECOUP_CONTACT_EMAIL ? ++n_email : ++n_address;
      value = entry_text (cr->row);
      if (!recoup_contact_validate (cr->kind, value, &error))
        {
          mark (cr->row, TRUE);
          g_string_append_printf (problems, _("%s %u: %s; correct it or remove it.\n"),
                                  recoup_label_contact_kind (cr->kind), n, error->message);
          g_clear_error (&error);
        }
      else
        mark (cr->row, FALSE);
    }

  if (problems->len > 0)
    g_strchomp (problems->str);
  gtk_label_set_text (GTK_LABEL (ed->error_label), problems->str);
  gtk_widget_set_visible (ed->error_label, problems->len > 0);
  gtk_widget_set_sensitive (ed->save, problems->len == 0 && !ed->busy);
  return problems->len == 0;
}

/* ---- the write --------------------------------------------------------- */

typedef struct
{
  char      *account_id;
  GPtrArray *fields;      /* field, value, field, value, ... (value may be "") */
  GPtrArray *ops;         /* ContactOp */
} EditWrite;

typedef enum { OP_ADD, OP_VALUE, OP_OPT_OUT, OP_REMOVE } ContactOpKind;

typedef struct
{
  ContactOpKind     op;
  char             *id;
  RecoupContactKind kind;
  char             *value;
  gboolean          opted_out;
} ContactOp;

static void
contact_op_free (ContactOp *op)
{
  g_free (op->id);
  g_free (op->value);
  g_free (op);
}

static void
edit_write_free (EditWrite *w)
{
  g_free (w->account_id);
  g_clear_pointer (&w->fields, g_ptr_array_unref);
  g_clear_pointer (&w->ops, g_ptr_array_unref);
  g_free (w);
}

static gboolean
edit_write (RecoupBook  *book,
            gpointer     data,
            GError     **error)
{
  EditWrite *w = data;

  if (!recoup_book_begin (book, error))
    return FALSE;
  for (guint i = 0; i + 1 < w->fields->len; i += 2)
    if (!recoup_account_set (book, w->account_id, g_ptr_array_index (w->fields, i),
                             g_ptr_array_index (w->fields, i + 1), error))
      goto fail;
  for (guint i = 0; i < w->ops->len; i++)
    {
      ContactOp *op = g_ptr_array_index (w->ops, i);
      gboolean ok = TRUE;

      switch (op->op)
        {
        case OP_ADD:
          {
            g_autofree char *id = recoup_contact_add (book, w->account_id, op->kind, op->value, NULL, FALSE, error);

            ok = id != NULL && (!op->opted_out || recoup_contact_set_opted_out (book, id, TRUE, error));
          }
          break;
        case OP_VALUE:
          ok = recoup_contact_set_value (book, op->id, op->value, error);
          break;
        case OP_OPT_OUT:
          ok = recoup_contact_set_opted_out (book, op->id, TRUE, error);
          break;
        case OP_REMOVE:
          ok = recoup_contact_remove (book, op->id, error);
          break;
        default:
          g_assert_not_reached ();
        }
      if (!ok)
        goto fail;
    }
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

static void
add_field (EditWrite  *w,
           const char *field,
           const char *old_value,
           const char *new_value)
{
  if (g_strcmp0 (old_value != NULL ? old_value : "", new_value) == 0)
    return;
  g_ptr_array_add (w->fields, g_strdup (field));
  g_ptr_array_add (w->fields, g_strdup (new_value));
}

static void
edit_saved_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GtkWindow) dialog = user_data;
  Editor *ed = g_object_get_data (G_OBJECT (dialog), "recoup-editor");
  g_autoptr(GError) error = NULL;

  if (ed == NULL)
    return;
  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    {
      g_autofree char *text = g_strdup_printf (_("Nothing was saved: %s"), error->message);

      ed->busy = FALSE;
      gtk_label_set_text (GTK_LABEL (ed->error_label), text);
      gtk_widget_set_visible (ed->error_label, TRUE);
      gtk_widget_set_sensitive (ed->save, TRUE);
      g_free (ed->window->last_error);
      ed->window->last_error = g_strdup (error->message);
      return;
    }
  recoup_window_toast (ed->window, _("Account saved"));
  recoup_window_reload_account (ed->window);
  recoup_worklist_model_reload (ed->window->model);
  gtk_window_destroy (ed->dialog);
}

/* The tiers the score knows, the account's own if it is another (kept, but
 * worth nothing to the score, and said so), and none. */
static GtkWidget *
tier_row (Editor     *ed,
          GtkWidget  *group,
          const char *current)
{
  const char * const *known = recoup_score_tiers ();
  const char *canonical = recoup_score_tier_canonical (current);
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);
  GtkWidget *row = adw_combo_row_new ();
  guint selected = 0;

  ed->tiers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (ed->tiers, g_strdup (""));
  gtk_string_list_append (labels, C_("tier", "None"));
  for (guint i = 0; known[i] != NULL; i++)
    {
      if (g_strcmp0 (canonical, known[i]) == 0)
        selected = ed->tiers->len;
      g_ptr_array_add (ed->tiers, g_strdup (known[i]));
      gtk_string_list_append (labels, recoup_label_tier (known[i]));
    }
  if (canonical == NULL && current != NULL && *current != '\0')
    {
      /* Translators: a tier the book holds that the priority score does not know */
      g_autofree char *label = g_strdup_printf (_("%s (not scored)"), current);

      selected = ed->tiers->len;
      g_ptr_array_add (ed->tiers, g_strdup (current));
      gtk_string_list_append (labels, label);
    }
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Tier"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("A better tier raises the account in the worklist"));
  gtk_widget_set_name (row, "tier");
  adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (labels));
  adw_combo_row_set_selected (ADW_COMBO_ROW (row), selected);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  return row;
}

static void
save_clicked_cb (Editor *ed)
{
  EditWrite *w;
  RecoupAccount *a = ed->account;
  guint stage = adw_combo_row_get_selected (ADW_COMBO_ROW (ed->stage));
  guint assigned = adw_combo_row_get_selected (ADW_COMBO_ROW (ed->assigned));
  g_autofree char *name = entry_text (ed->name);
  g_autofree char *tz = entry_text (ed->timezone);
  const char *tier = g_ptr_array_index (ed->tiers, adw_combo_row_get_selected (ADW_COMBO_ROW (ed->tier)));
  g_autofree char *tags = entry_text (ed->tags);
  g_autofree char *vdate = entry_text (ed->validation);
  gboolean old_flags[4] = { a->cease_communication, a->attorney_represented, a->bankruptcy, a->deceased };

  if (ed->busy || !editor_validate (ed))
    return;

  w = g_new0 (EditWrite, 1);
  w->account_id = g_strdup (a->id);
  w->fields = g_ptr_array_new_with_free_func (g_free);
  w->ops = g_ptr_array_new_with_free_func ((GDestroyNotify) contact_op_free);
  add_field (w, "name", a->name, name);
  add_field (w, "timezone", a->timezone, tz);
  if (stage < G_N_ELEMENTS (stages) - 1)
    add_field (w, "stage", a->stage, stages[stage]);
  add_field (w, "assigned_to", a->assigned_to,
             assigned > 0 && assigned <= ed->user_ids->len ? g_ptr_array_index (ed->user_ids, assigned - 1) : "");
  /* A tier stored by an alias ("b" for gold) stays as it is unless changed. */
  if (g_strcmp0 (recoup_score_tier_canonical (a->tier), tier) != 0)
    add_field (w, "tier", a->tier, tier);
  add_field (w, "tags", a->tags, tags);
  add_field (w, "validation_notice_date", a->validation_notice_date, vdate);
  for (guint i = 0; i < G_N_ELEMENTS (flag_fields); i++)
    {
      gboolean on = gtk_switch_get_active (GTK_SWITCH (ed->flags[i]));

      if (on != old_flags[i])
        {
          g_ptr_array_add (w->fields, g_strdup (flag_fields[i]));
          g_ptr_array_add (w->fields, g_strdup (on ? "1" : "0"));
        }
    }

  for (guint i = 0; i < ed->contacts->len; i++)
    {
      ContactRow *cr = g_ptr_array_index (ed->contacts, i);
      g_autofree char *value = entry_text (cr->row);
      gboolean opted_out = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (cr->opt_out));
      ContactOp *op;

      if (cr->id == NULL && cr->removed)
        continue;
      if (cr->removed)
        {
          op = g_new0 (ContactOp, 1);
          op->op = OP_REMOVE;
          op->id = g_strdup (cr->id);
          g_ptr_array_add (w->ops, op);
          continue;
        }
      if (cr->id == NULL)
        {
          op = g_new0 (ContactOp, 1);
          op->op = OP_ADD;
          op->kind = cr->kind;
          op->value = g_strdup (value);
          op->opted_out = opted_out;
          g_ptr_array_add (w->ops, op);
          continue;
        }
      if (g_strcmp0 (value, cr->value) != 0)
        {
          op = g_new0 (ContactOp, 1);
          op->op = OP_VALUE;
          op->id = g_strdup (cr->id);
          op->value = g_strdup (value);
          g_ptr_array_add (w->ops, op);
        }
      /* Only an opt-out: lifting one needs the debtor's consent, which
       * the account page asks for (recoup_contact_opt_back_in()). */
      if (opted_out && !cr->opted_out)
        {
          op = g_new0 (ContactOp, 1);
          op->op = OP_OPT_OUT;
          op->id = g_strdup (cr->id);
          g_ptr_array_add (w->ops, op);
        }
    }

  ed->busy = TRUE;
  gtk_widget_set_sensitive (ed->save, FALSE);
  recoup_session_run_async (ed->window->session, edit_write, w, (GDestroyNotify) edit_write_free,
                            NULL, edit_saved_cb, g_object_ref (ed->dialog));
}

/* ---- building the dialog ------------------------------------------------ */

static GtkWidget *
entry_row (GtkWidget  *group,
           const char *title,
           const char *name,
           const char *text)
{
  GtkWidget *row = adw_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_widget_set_name (row, name);
  gtk_editable_set_text (GTK_EDITABLE (row), text != NULL ? text : "");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  return row;
}

static GtkWidget *
switch_row (GtkWidget  *group,
            const char *title,
            const char *subtitle,
            const char *name,
            gboolean    active)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *sw = gtk_switch_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_name (sw, name);
  gtk_widget_set_valign (sw, GTK_ALIGN_CENTER);
  gtk_switch_set_active (GTK_SWITCH (sw), active);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), sw);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), sw);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  return sw;
}

static void
opt_out_toggled_cb (GtkToggleButton *button)
{
  gtk_button_set_label (GTK_BUTTON (button), gtk_toggle_button_get_active (button) ? _("Opted out") : _("Opt out"));
  if (gtk_toggle_button_get_active (button))
    gtk_widget_add_css_class (GTK_WIDGET (button), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (button), "error");
}

static void
remove_clicked_cb (GtkButton *button,
                   Editor    *ed)
{
  ContactRow *cr = g_object_get_data (G_OBJECT (button), "contact-row");

  cr->removed = TRUE;
  gtk_widget_set_visible (cr->row, FALSE);
  recoup_dialog_mark_changed (ed->dialog);
  editor_validate (ed);
}

static ContactRow *
add_contact_row (Editor           *ed,
                 const char       *id,
                 RecoupContactKind kind,
                 const char       *value,
                 const char       *label,
                 gboolean          opted_out)
{
  ContactRow *cr = g_new0 (ContactRow, 1);
  GtkWidget *remove;
  g_autofree char *title = NULL;
  g_autofree char *name = g_strdup_printf ("contact-%u", ed->contacts->len);
  g_autofree char *opt_name = g_strdup_printf ("opt-out-%u", ed->contacts->len);
  g_autofree char *remove_name = g_strdup_printf ("remove-%u", ed->contacts->len);

  cr->id = g_strdup (id);
  cr->kind = kind;
  cr->value = g_strdup (value);
  cr->opted_out = opted_out;
  g_ptr_array_add (ed->contacts, cr);

  if (id == NULL)
    title = g_strdup_printf (_("New %s"), recoup_label_contact_kind (kind));
  else if (label != NULL && *label != '\0')
    title = g_strdup_printf ("%s · %s", recoup_label_contact_kind (kind), label);
  else
    title = g_strdup (recoup_label_contact_kind (kind));
  cr->row = entry_row (ed->contacts_group, title, name, value);

  cr->opt_out = gtk_toggle_button_new_with_label (_("Opt out"));
  gtk_widget_set_name (cr->opt_out, opt_name);
  gtk_widget_set_valign (cr->opt_out, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (cr->opt_out, "flat");
  gtk_widget_set_tooltip_text (cr->opt_out, _("The debtor asked not to be contacted here"));
  g_signal_connect (cr->opt_out, "toggled", G_CALLBACK (opt_out_toggled_cb), NULL);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (cr->opt_out), opted_out);
  /* An opt-out is lifted on the account page, which asks for the debtor's
   * consent and records it; here it can only be given. */
  if (id != NULL && opted_out)
    {
      gtk_widget_set_sensitive (cr->opt_out, FALSE);
      gtk_widget_set_tooltip_text (cr->opt_out,
                                   _("The debtor asked not to be contacted here. To opt back in, use "
                                     "the account page: it asks for the debtor's consent."));
    }
  adw_entry_row_add_suffix (ADW_ENTRY_ROW (cr->row), cr->opt_out);

  remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
  gtk_widget_set_name (remove, remove_name);
  gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (remove, "flat");
  gtk_widget_set_tooltip_text (remove, _("Remove this contact point"));
  g_object_set_data (G_OBJECT (remove), "contact-row", cr);
  g_signal_connect (remove, "clicked", G_CALLBACK (remove_clicked_cb), ed);
  adw_entry_row_add_suffix (ADW_ENTRY_ROW (cr->row), remove);

  g_signal_connect_swapped (cr->row, "changed", G_CALLBACK (editor_validate), ed);
  g_signal_connect_swapped (cr->row, "changed", G_CALLBACK (recoup_dialog_mark_changed), ed->dialog);
  return cr;
}

static void
add_kind_clicked_cb (GtkButton *button,
                     Editor    *ed)
{
  RecoupContactKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "kind"));
  ContactRow *cr = add_contact_row (ed, NULL, kind, "", NULL, FALSE);

  editor_validate (ed);
  gtk_widget_grab_focus (cr->row);
}

static GtkWidget *
add_kind_button (Editor            *ed,
                 RecoupContactKind  kind,
                 const char        *label,
                 const char        *name)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_widget_set_name (button, name);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_object_set_data (G_OBJECT (button), "kind", GINT_TO_POINTER (kind));
  g_signal_connect (button, "clicked", G_CALLBACK (add_kind_clicked_cb), ed);
  return button;
}

static void
cancel_clicked_cb (Editor *ed)
{
  gtk_window_close (ed->dialog);   /* asks first when something was changed */
}

static GtkWidget *
group_new (GtkWidget  *page,
           const char *title,
           const char *description)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description != NULL)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  return group;
}

static void
open_editor (RecoupWindow *self,
             GPtrArray    *users)
{
  RecoupAccountData *data = self->data;
  RecoupAccount *a = data->account;
  Editor *ed = g_new0 (Editor, 1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_("_Cancel"));
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group;
  GtkWidget *adds;
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  guint selected = 0;

  ed->window = self;
  ed->today = g_strdup (data->today);
  ed->account = g_new0 (RecoupAccount, 1);
  ed->account->id = g_strdup (a->id);
  ed->account->name = g_strdup (a->name);
  ed->account->timezone = g_strdup (a->timezone);
  ed->account->stage = g_strdup (a->stage);
  ed->account->assigned_to = g_strdup (a->assigned_to);
  ed->account->tier = g_strdup (a->tier);
  ed->account->tags = g_strdup (a->tags);
  ed->account->validation_notice_date = g_strdup (a->validation_notice_date);
  ed->account->cease_communication = a->cease_communication;
  ed->account->attorney_represented = a->attorney_represented;
  ed->account->bankruptcy = a->bankruptcy;
  ed->account->deceased = a->deceased;
  ed->contacts = g_ptr_array_new_with_free_func ((GDestroyNotify) contact_row_free);
  ed->user_ids = g_ptr_array_new_with_free_func (g_free);

  ed->dialog = GTK_WINDOW (adw_window_new ());
  gtk_widget_set_name (GTK_WIDGET (ed->dialog), "edit-account");
  gtk_window_set_modal (ed->dialog, TRUE);
  gtk_window_set_transient_for (ed->dialog, GTK_WINDOW (self));
  gtk_window_set_destroy_with_parent (ed->dialog, TRUE);
  gtk_window_set_default_size (ed->dialog, 560, 640);
  g_object_set_data_full (G_OBJECT (ed->dialog), "recoup-editor", ed, (GDestroyNotify) editor_free);

  recoup_dialog_set_heading (ed->dialog, ADW_HEADER_BAR (header), _("Edit Account"), a->name);
  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  adw_header_bar_set_show_start_title_buttons (ADW_HEADER_BAR (header), FALSE);
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (cancel_clicked_cb), ed);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), cancel);
  ed->save = gtk_button_new_with_mnemonic (_("_Save"));
  gtk_widget_set_name (ed->save, "save");
  gtk_widget_add_css_class (ed->save, "suggested-action");
  g_signal_connect_swapped (ed->save, "clicked", G_CALLBACK (save_clicked_cb), ed);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), ed->save);

  ed->error_label = gtk_label_new (NULL);
  gtk_widget_set_name (ed->error_label, "error");
  gtk_label_set_wrap (GTK_LABEL (ed->error_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (ed->error_label), 0);
  gtk_widget_add_css_class (ed->error_label, "error");
  gtk_widget_set_margin_start (ed->error_label, 18);
  gtk_widget_set_margin_end (ed->error_label, 18);
  gtk_widget_set_margin_top (ed->error_label, 12);
  gtk_widget_set_visible (ed->error_label, FALSE);

  /* Account */
  group = group_new (page, _("Account"), NULL);
  ed->name = entry_row (group, _("Name"), "name", a->name);
  ed->timezone = entry_row (group, _("Time zone (e.g. America/Chicago)"), "timezone", a->timezone);
  for (guint i = 0; stages[i] != NULL; i++)
    {
      g_ptr_array_add (labels, g_strdup (recoup_label_stage (stages[i])));
      if (g_strcmp0 (stages[i], a->stage) == 0)
        selected = i;
    }
  g_ptr_array_add (labels, NULL);
  ed->stage = adw_combo_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (ed->stage), _("Stage"));
  gtk_widget_set_name (ed->stage, "stage");
  adw_combo_row_set_model (ADW_COMBO_ROW (ed->stage),
                           G_LIST_MODEL (gtk_string_list_new ((const char * const *) labels->pdata)));
  g_object_unref (adw_combo_row_get_model (ADW_COMBO_ROW (ed->stage)));
  adw_combo_row_set_selected (ADW_COMBO_ROW (ed->stage), selected);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), ed->stage);

  g_ptr_array_set_size (labels, 0);
  g_ptr_array_add (labels, g_strdup (_("Nobody")));
  selected = 0;
  for (guint i = 0; users != NULL && i < users->len; i++)
    {
      RecoupUser *u = g_ptr_array_index (users, i);
      gboolean current = g_strcmp0 (u->id, a->assigned_to) == 0;

      /* Only whom core lets hold accounts; the one who holds this account
       * stays listed whatever their role, so that saving another field
       * does not unassign it. */
      if (!current && !recoup_user_role_holds_accounts (u->role))
        continue;
      g_ptr_array_add (ed->user_ids, g_strdup (u->id));
      g_ptr_array_add (labels, g_strdup (u->name));
      if (current)
        selected = ed->user_ids->len;
    }
  g_ptr_array_add (labels, NULL);
  ed->assigned = adw_combo_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (ed->assigned), _("Collector"));
  gtk_widget_set_name (ed->assigned, "assigned");
  adw_combo_row_set_model (ADW_COMBO_ROW (ed->assigned),
                           G_LIST_MODEL (gtk_string_list_new ((const char * const *) labels->pdata)));
  g_object_unref (adw_combo_row_get_model (ADW_COMBO_ROW (ed->assigned)));
  adw_combo_row_set_selected (ADW_COMBO_ROW (ed->assigned), selected);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), ed->assigned);
  ed->tier = tier_row (ed, group, a->tier);
  ed->tags = entry_row (group, _("Tags (comma-separated)"), "tags", a->tags);
  ed->validation = entry_row (group, _("Validation notice sent (YYYY-MM-DD)"), "validation",
                              a->validation_notice_date);

  /* Flags */
  group = group_new (page, _("Compliance"), _("The compliance guard blocks collection contacts while any of these is on."));
  ed->flags[0] = switch_row (group, _("Cease communication"), _("The debtor asked in writing to stop contact"),
                             "cease", a->cease_communication);
  ed->flags[1] = switch_row (group, _("Attorney represented"), _("Contact the attorney, not the debtor"),
                             "attorney", a->attorney_represented);
  ed->flags[2] = switch_row (group, _("Bankruptcy"), _("The debtor filed for bankruptcy"),
                             "bankruptcy", a->bankruptcy);
  ed->flags[3] = switch_row (group, _("Deceased"), NULL, "deceased", a->deceased);

  /* Contact points */
  ed->contacts_group = group_new (page, _("Contact Points"), NULL);
  for (guint i = 0; i < data->contacts->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (data->contacts, i);

      add_contact_row (ed, cp->id, cp->kind, cp->value, cp->label, cp->opted_out);
    }
  /* New contact points go above this row, in the group before it. */
  group = adw_preferences_group_new ();
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  {
    GtkWidget *row = adw_action_row_new ();
    GtkWidget *icon = gtk_image_new_from_icon_name ("list-add-symbolic");

    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Add a contact point"));
    adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
    adds = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    gtk_widget_set_valign (adds, GTK_ALIGN_CENTER);
    gtk_box_append (GTK_BOX (adds), add_kind_button (ed, RECOUP_CONTACT_PHONE, _("_Phone"), "add-phone"));
    gtk_box_append (GTK_BOX (adds), add_kind_button (ed, RECOUP_CONTACT_EMAIL, _("_E-mail"), "add-email"));
    gtk_box_append (GTK_BOX (adds), add_kind_button (ed, RECOUP_CONTACT_ADDRESS, _("A_ddress"), "add-address"));
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), adds);
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  }

  g_signal_connect_swapped (ed->name, "changed", G_CALLBACK (editor_validate), ed);
  g_signal_connect_swapped (ed->timezone, "changed", G_CALLBACK (editor_validate), ed);
  g_signal_connect_swapped (ed->validation, "changed", G_CALLBACK (editor_validate), ed);

  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), ed->error_label);
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), page);
  adw_window_set_content (ADW_WINDOW (ed->dialog), box);
  {
    GtkShortcutController *sc = GTK_SHORTCUT_CONTROLLER (gtk_shortcut_controller_new ());

    gtk_shortcut_controller_add_shortcut (sc, gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                                gtk_named_action_new ("window.close")));
    gtk_widget_add_controller (GTK_WIDGET (ed->dialog), GTK_EVENT_CONTROLLER (sc));
  }
  gtk_window_set_default_widget (ed->dialog, ed->save);

  editor_validate (ed);
  g_set_weak_pointer (&self->dialog, ed->dialog);
  recoup_dialog_keep_input (ed->dialog);
  gtk_window_present (ed->dialog);
  gtk_widget_grab_focus (ed->name);
}

/* The users for the collector list are read in the worker first. */
typedef struct
{
  RecoupWindow *window;   /* owned */
  GPtrArray    *users;
  char         *account_id;
} UsersLoad;

static gboolean
users_load (RecoupBook  *book,
            gpointer     data,
            GError     **error)
{
  UsersLoad *load = data;

  load->users = recoup_user_list (book, error);
  return load->users != NULL;
}

static void
users_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  UsersLoad *load = user_data;
  g_autoptr(RecoupWindow) self = load->window;
  g_autoptr(GPtrArray) users = load->users;
  g_autofree char *account_id = load->account_id;
  g_autoptr(GError) error = NULL;

  g_free (load);
  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        recoup_window_show_error (self, error);
      return;
    }
  /* The user may have moved on to another account meanwhile. */
  if (self->data == NULL || g_strcmp0 (self->data->account->id, account_id) != 0)
    return;
  open_editor (self, users);
}

void
recoup_window_edit_account (RecoupWindow *self)
{
  UsersLoad *load;

  if (self->data == NULL)
    {
      recoup_window_toast (self, _("Pick an account from the worklist first."));
      return;
    }
  load = g_new0 (UsersLoad, 1);
  load->window = g_object_ref (self);
  load->account_id = g_strdup (self->data->account->id);
  recoup_session_read_async (self->session, users_load, load, NULL, self->cancellable, users_loaded_cb, load);
}
