/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-labels.h"
#include "recoup-locale-money.h"
#include "recoup-book-preferences.h"
#include "recoup-offer.h"
#include "recoup-window-private.h"

/*
 * The book's policy in Preferences: scoring weights (recoup-score.h), the
 * compliance profile (recoup-guard.h) and authority limits per user (owners
 * only). Values are checked by core's validators as they are typed; a row
 * with a bad value is marked and says what is wrong below its group (every
 * row of the group is checked again as any of them changes, so the message
 * stays while one is still wrong); a value is written (in the session's
 * worker) when its Apply button is pressed, when the field is left, or when
 * the window is closed (which waits for the writes, so that a failure is
 * seen, and asks before it drops a value that is wrong). Nothing is written
 * while a value is wrong. Rows and messages name components and roles by
 * their labels, never by the names the book stores. What core says this copy of the book
 * may not change (the business's policy on a collector's device) is shown
 * read-only, with core's reason under its group.
 */

typedef struct
{
  RecoupSession      *session;
  RecoupWindow       *main_window;   /* weak */
  AdwPreferencesPage *page;
  RecoupScoreSettings score;
  GtkWidget          *weights[RECOUP_SCORE_N_COMPONENTS];
  GtkWidget          *score_error;
  GtkWidget          *score_group;
  gboolean            score_locked;
  GtkWidget          *profile;
  GtkWidget          *profile_error;
  guint               profile_index;
  GtkWidget          *limits_group;
  GtkWidget          *limits_error;
  GPtrArray          *limits;      /* LimitRows, one per user */
  GPtrArray          *users;       /* RecoupUser */
  RecoupUser         *me;
  guint               n_done;
  guint               n_pending;   /* writes not finished */
  gboolean            loaded;
  gboolean            setting_up;
  gboolean            closing;     /* close once the writes are done */
  gboolean            discarding;  /* the user chose to drop what is wrong */
} Policy;

static void
policy_free (Policy *p)
{
  g_clear_object (&p->session);
  g_clear_weak_pointer (&p->main_window);
  g_clear_pointer (&p->limits, g_ptr_array_unref);
  g_clear_pointer (&p->users, g_ptr_array_unref);
  g_clear_pointer (&p->me, recoup_user_free);
  g_free (p);
}

static Policy *
policy_get (AdwPreferencesWindow *window)
{
  return g_object_get_data (G_OBJECT (window), "recoup-policy");
}

guint
recoup_book_preferences_get_n_done (AdwPreferencesWindow *window)
{
  Policy *p = policy_get (window);

  return p != NULL ? p->n_done : 0;
}

gboolean
recoup_book_preferences_is_loaded (AdwPreferencesWindow *window)
{
  Policy *p = policy_get (window);

  return p != NULL && p->loaded;
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

static GtkWidget *
error_label_new (GtkWidget *group,
                 const char *name)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_widget_set_name (label, name);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "error");
  gtk_widget_set_margin_top (label, 6);
  gtk_widget_set_visible (label, FALSE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), label);
  return label;
}

static void
show_error (GtkWidget  *label,
            const char *message)
{
  gtk_label_set_text (GTK_LABEL (label), message != NULL ? message : "");
  gtk_widget_set_visible (label, message != NULL && *message != '\0');
}

static GtkWidget *
number_row (GtkWidget  *group,
            const char *title,
            const char *name,
            gint64      value)
{
  GtkWidget *row = adw_entry_row_new ();
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_widget_set_name (row, name);
  gtk_editable_set_text (GTK_EDITABLE (row), text);
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (row), TRUE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  return row;
}

/* ---- edits not written yet --------------------------------------------- */

#define SAVED_TEXT "recoup-saved-text"

/* Notes @row's text as the one the book has (loaded, or being written). */
static void
row_saved (GtkWidget *row)
{
  g_object_set_data_full (G_OBJECT (row), SAVED_TEXT, g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))), g_free);
}

/* Whether @row holds a value the book does not have (nor is being given). */
static gboolean
row_edited (GtkWidget *row)
{
  return g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (row)), g_object_get_data (G_OBJECT (row), SAVED_TEXT)) != 0;
}

/* @row's value is being written: its Apply button goes, as after a press. */
static void
row_writing (GtkWidget *row)
{
  row_saved (row);
  if (adw_entry_row_get_show_apply_button (ADW_ENTRY_ROW (row)))
    {
      adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (row), FALSE);
      adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (row), TRUE);
    }
}

/* A whole number in [min, max] or FALSE. */
static gboolean
read_number (GtkWidget *row,
             gint64     min,
             gint64     max,
             gint64    *out)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));

  return g_ascii_string_to_signed (text, 10, min, max, out, NULL);
}

/* ---- writes ------------------------------------------------------------ */

typedef enum { WRITE_SCORE, WRITE_PROFILE, WRITE_LIMITS } WriteKind;

typedef struct
{
  WriteKind  kind;
  RecoupScoreSettings score;
  char      *profile;
  char      *user_id;
  gint64     max_discount_bp;
  gint64     max_installments;
  GtkWidget *error_label;    /* owned ref */
  AdwPreferencesWindow *window;  /* owned ref */
  GPtrArray *rows;           /* the rows written, owned refs; NULL for the profile */
} PolicyWrite;

static void
policy_write_free (PolicyWrite *w)
{
  g_free (w->profile);
  g_free (w->user_id);
  g_clear_pointer (&w->rows, g_ptr_array_unref);
  g_clear_object (&w->error_label);
  g_clear_object (&w->window);
  g_free (w);
}

static gboolean
policy_write (RecoupBook  *book,
              gpointer     data,
              GError     **error)
{
  PolicyWrite *w = data;

  switch (w->kind)
    {
    case WRITE_SCORE:
      /* Only the settings: re-scoring a million accounts is the worklist's
       * background update, with its progress bar and Stop button. */
      return recoup_score_settings_store (book, &w->score, error);
    case WRITE_PROFILE:
      return recoup_guard_set_profile (book, w->profile, error);
    case WRITE_LIMITS:
      return recoup_user_set_limits (book, w->user_id, w->max_discount_bp, w->max_installments, error);
    default:
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID, "this build cannot change that");
      return FALSE;
    }
}

static gboolean score_read  (Policy              *p,
                             RecoupScoreSettings *out);

typedef struct _LimitRows LimitRows;

static gboolean limits_read (Policy              *p,
                             LimitRows           *lr,
                             gint64              *bp,
                             gint64              *n);

static void
policy_written_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  PolicyWrite *w = user_data;
  Policy *p = policy_get (w->window);
  g_autoptr(GError) error = NULL;

  if (p != NULL)
    p->n_pending--;
  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    {
      g_autofree char *text = g_strdup_printf (_("Not saved: %s"), error->message);

      show_error (w->error_label, text);
      /* The values are still to be written; the window stays to say so. */
      for (guint i = 0; w->rows != NULL && i < w->rows->len; i++)
        g_object_set_data (g_ptr_array_index (w->rows, i), SAVED_TEXT, NULL);
      if (p != NULL)
        p->closing = p->discarding = FALSE;
    }
  else
    {
      /* Another row of the group may have gone wrong meanwhile: its message
       * stays (while the page is there to check). */
      gboolean on_page = p != NULL && gtk_widget_get_root (w->error_label) != NULL;
      RecoupScoreSettings score;
      gint64 bp, n;

      if (on_page && w->kind == WRITE_LIMITS)
        limits_read (p, NULL, &bp, &n);
      else if (on_page && w->kind == WRITE_SCORE)
        score_read (p, &score);
      else
        show_error (w->error_label, NULL);
      if (w->kind == WRITE_SCORE && p != NULL && p->main_window != NULL)
        {
          recoup_worklist_model_update_ranks (recoup_window_get_model (p->main_window));
          adw_preferences_window_add_toast (w->window, adw_toast_new (_("Saved; the worklist is being re-ranked")));
        }
      else
        adw_preferences_window_add_toast (w->window, adw_toast_new (_("Saved")));
    }
  if (p != NULL)
    p->n_done++;
  if (p != NULL && p->closing && p->n_pending == 0)
    gtk_window_close (GTK_WINDOW (w->window));
  policy_write_free (w);
}

static void
run_write (Policy    *p,
           AdwPreferencesWindow *window,
           PolicyWrite *w,
           GtkWidget *error_label)
{
  w->error_label = g_object_ref (error_label);
  w->window = g_object_ref (window);
  for (guint i = 0; w->rows != NULL && i < w->rows->len; i++)
    row_writing (g_ptr_array_index (w->rows, i));
  p->n_pending++;
  recoup_session_run_async (p->session, policy_write, w, NULL, NULL, policy_written_cb, w);
}

/* ---- scoring weights --------------------------------------------------- */

static gboolean
score_read (Policy              *p,
            RecoupScoreSettings *out)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  gint64 total = 0;

  *out = p->score;
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    {
      gboolean ok = read_number (p->weights[i], 0, 1000000, &out->weights[i]);

      mark (p->weights[i], !ok);
      if (!ok)
        g_string_append_printf (problems, _("%s: a whole number of 0 or more, e.g. 20.\n"),
                                recoup_label_score_component (recoup_score_component_name (i)));
      else
        total += out->weights[i];
    }
  /* Core's own words for this name no row; the other rules it checks
   * (thresholds, caps) are not on this page. */
  if (problems->len == 0 && total == 0)
    g_string_append_printf (problems, "%s\n", _("Give at least one component a weight above 0."));
  else if (problems->len == 0 && !recoup_score_settings_validate (out, &error))
    g_string_append_printf (problems, "%s\n", error->message);
  g_strchomp (problems->str);
  show_error (p->score_error, problems->str);
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (p->weights[i]), problems->len == 0 && !p->score_locked);
  return problems->len == 0;
}

static void
weight_changed_cb (GtkWidget *row,
                   Policy    *p)
{
  RecoupScoreSettings s;

  if (!p->setting_up)
    score_read (p, &s);
}

/* Writes the weights; FALSE when one is wrong (the group says what). */
static gboolean
apply_score (Policy               *p,
             AdwPreferencesWindow *window)
{
  PolicyWrite *w;
  RecoupScoreSettings s;

  if (p->score_locked)
    return TRUE;
  if (!score_read (p, &s))
    return FALSE;
  p->score = s;
  w = g_new0 (PolicyWrite, 1);
  w->kind = WRITE_SCORE;
  w->score = s;
  w->rows = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    g_ptr_array_add (w->rows, g_object_ref (p->weights[i]));
  run_write (p, window, w, p->score_error);
  return TRUE;
}

static void
weight_apply_cb (GtkWidget            *row,
                 AdwPreferencesWindow *window)
{
  apply_score (policy_get (window), window);
}

/* ---- compliance profile ------------------------------------------------ */

static const char *
profile_label (const char *profile)
{
  if (g_str_equal (profile, "regf")) return _("Regulation F");
  if (g_str_equal (profile, "first-party")) return _("First party");
  if (g_str_equal (profile, "custom")) return _("Custom");
  return profile;
}

static void
profile_selected_cb (GtkWidget            *row,
                     GParamSpec           *pspec,
                     AdwPreferencesWindow *window)
{
  Policy *p = policy_get (window);
  guint i = adw_combo_row_get_selected (ADW_COMBO_ROW (row));
  PolicyWrite *w;

  if (p->setting_up || i == p->profile_index || i >= g_strv_length ((char **) recoup_guard_profiles))
    return;
  p->profile_index = i;
  w = g_new0 (PolicyWrite, 1);
  w->kind = WRITE_PROFILE;
  w->profile = g_strdup (recoup_guard_profiles[i]);
  run_write (p, window, w, p->profile_error);
}

/* ---- authority limits -------------------------------------------------- */

struct _LimitRows
{
  char      *user_id;
  char      *name;
  GtkWidget *discount;       /* borrowed: the page's */
  GtkWidget *installments;
};

static void
limit_rows_free (LimitRows *lr)
{
  g_free (lr->user_id);
  g_free (lr->name);
  g_free (lr);
}

/* What the book calls a user's role, as the user reads it. */
static const char *
role_label (const char *role)
{
  if (g_strcmp0 (role, "owner") == 0)
    return C_("role", "owner");
  if (g_strcmp0 (role, "collector") == 0)
    return C_("role", "collector");
  if (g_strcmp0 (role, "bookkeeper") == 0)
    return C_("role", "bookkeeper");
  return role != NULL ? role : "";
}

/* Drops a trailing percent sign and the space before it: "10%", "12,5 %"
 * (the row's title already says the value is a percentage). */
static void
strip_percent (char *text)
{
  gsize len = strlen (text);

  if (len == 0 || text[len - 1] != '%')
    return;
  text[--len] = '\0';
  while (len > 0)
    {
      char *last = g_utf8_find_prev_char (text, text + len);

      if (last == NULL || !g_unichar_isspace (g_utf8_get_char (last)))
        break;
      *last = '\0';
      len = last - text;
    }
}

/* Checks one user's rows, marking them; adds what is wrong to @problems
 * (NULL: nothing said) and returns whether both values are good. */
static gboolean
limit_rows_read (LimitRows *lr,
                 GString   *problems,
                 gint64    *bp,
                 gint64    *n)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (lr->discount))));
  gboolean ok_bp, ok_n;

  /* A percentage with up to two decimals is a count of basis points. */
  strip_percent (text);
  ok_bp = recoup_locale_money_parse (text, "USD", bp, NULL) && *bp >= 0 && *bp <= 10000;
  ok_n = read_number (lr->installments, 0, RECOUP_OFFER_MAX_INSTALLMENTS, n);
  mark (lr->discount, !ok_bp);
  mark (lr->installments, !ok_n);
  if (!ok_bp && problems != NULL)
    {
      g_autofree char *example = recoup_locale_percent_format (1250);

      /* Translators: a user's name, then a percentage as the user's locale
       * writes it, 12.50 % or 12,50 % */
      g_string_append_printf (problems, _("%s, largest discount: a percentage from 0 to 100, e.g. 10 or %s."),
                              lr->name, example);
      g_string_append_c (problems, '\n');
    }
  if (!ok_n && problems != NULL)
    {
      /* Translators: a user's name, then the most installments a plan may have */
      g_string_append_printf (problems, _("%s, longest plan: a whole number of installments from 0 to %d."),
                              lr->name, RECOUP_OFFER_MAX_INSTALLMENTS);
      g_string_append_c (problems, '\n');
    }
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (lr->discount), ok_bp && ok_n);
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (lr->installments), ok_bp && ok_n);
  return ok_bp && ok_n;
}

/* Checks every user's rows, so that the group's message lists what is still
 * wrong on any of them; returns whether @lr's values are good (in @bp, @n). */
static gboolean
limits_read (Policy    *p,
             LimitRows *lr,
             gint64    *bp,
             gint64    *n)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  gboolean ok = FALSE;

  for (guint i = 0; i < p->limits->len; i++)
    {
      LimitRows *other = g_ptr_array_index (p->limits, i);
      gint64 other_bp, other_n;

      if (other == lr)
        ok = limit_rows_read (other, problems, bp, n);
      else
        limit_rows_read (other, problems, &other_bp, &other_n);
    }
  g_strchomp (problems->str);
  show_error (p->limits_error, problems->str);
  return ok;
}

static void
limit_changed_cb (GtkWidget *row,
                  Policy    *p)
{
  LimitRows *lr = g_object_get_data (G_OBJECT (row), "limit-rows");
  gint64 bp, n;

  if (!p->setting_up)
    limits_read (p, lr, &bp, &n);
}

/* Writes one user's limits; FALSE when one is wrong (the group says what). */
static gboolean
apply_limits (Policy               *p,
              AdwPreferencesWindow *window,
              LimitRows            *lr)
{
  PolicyWrite *w;
  gint64 bp, n;

  if (!limits_read (p, lr, &bp, &n))
    return FALSE;
  w = g_new0 (PolicyWrite, 1);
  w->kind = WRITE_LIMITS;
  w->user_id = g_strdup (lr->user_id);
  w->max_discount_bp = bp;
  w->max_installments = n;
  w->rows = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (w->rows, g_object_ref (lr->discount));
  g_ptr_array_add (w->rows, g_object_ref (lr->installments));
  run_write (p, window, w, p->limits_error);
  return TRUE;
}

static void
limit_apply_cb (GtkWidget            *row,
                AdwPreferencesWindow *window)
{
  apply_limits (policy_get (window), window, g_object_get_data (G_OBJECT (row), "limit-rows"));
}

/* ---- applying without the Apply button ---------------------------------- */

static gboolean
weights_edited (Policy *p)
{
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    if (row_edited (p->weights[i]))
      return TRUE;
  return FALSE;
}

/* Writes every group with an edit, as its Apply button would; FALSE when a
 * value of one is wrong (its group says what, and nothing of it is written). */
static gboolean
apply_edits (Policy               *p,
             AdwPreferencesWindow *window)
{
  gboolean ok = TRUE;

  if (weights_edited (p))
    ok = apply_score (p, window);
  for (guint i = 0; p->limits != NULL && i < p->limits->len; i++)
    {
      LimitRows *lr = g_ptr_array_index (p->limits, i);

      if ((row_edited (lr->discount) || row_edited (lr->installments)) && !apply_limits (p, window, lr))
        ok = FALSE;
    }
  return ok;
}

/* Leaving a field with an edit applies it. */
static void
row_focus_leave_cb (GtkEventController   *controller,
                    AdwPreferencesWindow *window)
{
  GtkWidget *row = gtk_event_controller_get_widget (controller);
  LimitRows *lr = g_object_get_data (G_OBJECT (row), "limit-rows");
  Policy *p = policy_get (window);

  if (p == NULL || !row_edited (row))
    return;
  if (lr != NULL)
    apply_limits (p, window, lr);
  else
    apply_score (p, window);
}

static void
apply_on_leave (GtkWidget            *row,
                AdwPreferencesWindow *window)
{
  GtkEventController *focus = gtk_event_controller_focus_new ();

  g_signal_connect_object (focus, "leave", G_CALLBACK (row_focus_leave_cb), window, 0);
  gtk_widget_add_controller (row, focus);
  row_saved (row);
}

static gboolean
close_idle_cb (gpointer window)
{
  gtk_window_close (GTK_WINDOW (window));
  return G_SOURCE_REMOVE;
}

static void
discard_response_cb (AdwMessageDialog     *dialog,
                     const char           *response,
                     AdwPreferencesWindow *window)
{
  Policy *p = policy_get (window);

  if (p == NULL || g_strcmp0 (response, "discard") != 0)
    return;
  p->discarding = TRUE;
  /* Once the question is gone: it is the window's, and would outlive it. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, close_idle_cb, g_object_ref (window), g_object_unref);
}

/* Some edits are wrong: the page says what; the user fixes them or drops them. */
static void
ask_discard (Policy               *p,
             AdwPreferencesWindow *window)
{
  g_autoptr(GString) body = g_string_new (NULL);
  GtkWidget *labels[] = { p->score_error, p->limits_error };
  AdwMessageDialog *dialog;

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    if (labels[i] != NULL && gtk_widget_get_visible (labels[i]))
      g_string_append_printf (body, "%s%s", body->len > 0 ? "\n" : "", gtk_label_get_text (GTK_LABEL (labels[i])));
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (window), _("Discard the Values That Are Wrong?"),
                                                       body->str));
  gtk_widget_set_name (GTK_WIDGET (dialog), "policy-discard");
  adw_message_dialog_add_responses (dialog, "edit", _("_Keep Editing"), "discard", _("_Discard"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "discard", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "edit");
  adw_message_dialog_set_close_response (dialog, "edit");
  g_signal_connect_object (dialog, "response", G_CALLBACK (discard_response_cb), window, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Closing writes what was typed without Apply, and waits for the writes. */
static gboolean
window_close_request_cb (AdwPreferencesWindow *window,
                         gpointer              user_data)
{
  Policy *p = policy_get (window);

  if (p == NULL || !p->loaded)
    return FALSE;
  if (!p->discarding && !apply_edits (p, window))
    {
      ask_discard (p, window);
      return TRUE;
    }
  if (p->n_pending > 0)
    {
      p->closing = TRUE;
      return TRUE;
    }
  return FALSE;
}

/* ---- loading ----------------------------------------------------------- */

typedef struct
{
  RecoupScoreSettings score;
  char       *profile;
  char       *score_locked;     /* why this copy may not change them, or NULL */
  char       *profile_locked;
  GPtrArray  *users;
  RecoupUser *me;
  AdwPreferencesWindow *window;   /* owned ref */
} PolicyLoad;

static void
policy_load_free (PolicyLoad *load)
{
  g_free (load->profile);
  g_free (load->score_locked);
  g_free (load->profile_locked);
  g_clear_pointer (&load->users, g_ptr_array_unref);
  g_clear_pointer (&load->me, recoup_user_free);
  g_clear_object (&load->window);
  g_free (load);
}

/* Core's reason this copy of the book may not change @key, or NULL. */
static char *
locked_reason (RecoupBook *book,
               const char *key)
{
  g_autoptr(GError) error = NULL;

  if (recoup_settings_check_shared (book, key, &error))
    return NULL;
  return g_strdup (error->message);
}

static gboolean
policy_load (RecoupBook  *book,
             gpointer     data,
             GError     **error)
{
  PolicyLoad *load = data;

  load->score_locked = locked_reason (book, "score.weight.balance");
  load->profile_locked = locked_reason (book, "guard.profile");
  recoup_score_settings_load (book, &load->score);
  {
    RecoupGuardPolicy policy = { 0 };

    recoup_guard_policy_load (book, &policy);
    load->profile = g_strdup (policy.profile);
    recoup_guard_policy_clear (&policy);
  }
  if ((load->me = recoup_user_load (book, recoup_book_get_user_id (book), error)) == NULL)
    return FALSE;
  load->users = recoup_user_list (book, error);
  return load->users != NULL;
}

/* "12", "12,50": as the row reads it back (recoup_locale_money_parse ()). */
static char *
percent_text (gint64 bp)
{
  if (bp % 100 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT, bp / 100);
  return g_strdup_printf ("%" G_GINT64_FORMAT "%c%02" G_GINT64_FORMAT, bp / 100,
                          recoup_locale_money_marks ()->decimal, bp % 100);
}

/* Core's reason, as a sentence under a group that cannot be changed. */
static void
add_locked_note (GtkWidget  *group,
                 const char *name,
                 const char *reason)
{
  GtkWidget *label = gtk_label_new (NULL);
  char first[8] = { 0 };
  g_autofree char *text = NULL;

  if (*reason != '\0')
    g_unichar_to_utf8 (g_unichar_totitle (g_utf8_get_char (reason)), first);
  text = g_strconcat (first, *reason != '\0' ? g_utf8_next_char (reason) : "",
                      g_str_has_suffix (reason, ".") ? "" : ".", NULL);
  gtk_widget_set_name (label, name);
  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_set_margin_top (label, 6);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), label);
}

static void
fill_page (AdwPreferencesWindow *window,
           Policy               *p,
           PolicyLoad           *load)
{
  GtkWidget *group;

  p->setting_up = TRUE;
  p->score = load->score;
  p->score_locked = load->score_locked != NULL;
  group = adw_preferences_group_new ();
  p->score_group = group;
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Scoring Weights"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                         _("How much each component counts in an account's priority score. "
                                           "Saving re-scores every account of the book."));
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    {
      const char *component = recoup_score_component_name (i);
      g_autofree char *name = g_strdup_printf ("weight-%s", component);

      /* The group says these are weights: each row is its component's label. */
      p->weights[i] = number_row (group, recoup_label_score_component (component), name,
                                  load->score.weights[i]);
      g_signal_connect (p->weights[i], "changed", G_CALLBACK (weight_changed_cb), p);
      g_signal_connect (p->weights[i], "apply", G_CALLBACK (weight_apply_cb), window);
      apply_on_leave (p->weights[i], window);
      if (p->score_locked)
        {
          gtk_editable_set_editable (GTK_EDITABLE (p->weights[i]), FALSE);
          adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (p->weights[i]), FALSE);
        }
    }
  if (p->score_locked)
    add_locked_note (group, "score-locked", load->score_locked);
  p->score_error = error_label_new (group, "score-error");
  adw_preferences_page_add (p->page, ADW_PREFERENCES_GROUP (group));

  {
    g_autoptr(GPtrArray) labels = g_ptr_array_new ();
    g_autoptr(GtkStringList) list = NULL;

    group = adw_preferences_group_new ();
    adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Compliance"));
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                           _("The rules the compliance guard applies before every contact: "
                                             "Regulation F for a US debt collector, first party for a creditor "
                                             "collecting its own debts, or custom rules set one by one."));
    for (guint i = 0; recoup_guard_profiles[i] != NULL; i++)
      {
        g_ptr_array_add (labels, (gpointer) profile_label (recoup_guard_profiles[i]));
        if (g_strcmp0 (recoup_guard_profiles[i], load->profile) == 0)
          p->profile_index = i;
      }
    g_ptr_array_add (labels, NULL);
    list = gtk_string_list_new ((const char * const *) labels->pdata);
    p->profile = adw_combo_row_new ();
    gtk_widget_set_name (p->profile, "profile");
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (p->profile), _("Profile"));
    adw_combo_row_set_model (ADW_COMBO_ROW (p->profile), G_LIST_MODEL (list));
    adw_combo_row_set_selected (ADW_COMBO_ROW (p->profile), p->profile_index);
    g_signal_connect (p->profile, "notify::selected", G_CALLBACK (profile_selected_cb), window);
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), p->profile);
    if (load->profile_locked != NULL)
      {
        gtk_widget_set_sensitive (p->profile, FALSE);
        add_locked_note (group, "profile-locked", load->profile_locked);
      }
    p->profile_error = error_label_new (group, "profile-error");
    adw_preferences_page_add (p->page, ADW_PREFERENCES_GROUP (group));
  }

  /* Authority limits: only an owner sees (and may change) them. */
  if (g_strcmp0 (load->me->role, "owner") == 0)
    {
      group = adw_preferences_group_new ();
      p->limits_group = group;
      p->limits = g_ptr_array_new_with_free_func ((GDestroyNotify) limit_rows_free);
      adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Authority Limits"));
      adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                             _("What each user may offer without an owner's approval."));
      for (guint i = 0; i < load->users->len; i++)
        {
          RecoupUser *u = g_ptr_array_index (load->users, i);
          LimitRows *lr = g_new0 (LimitRows, 1);
          g_autofree char *pct = percent_text (u->max_discount_bp);
          const char *role = role_label (u->role);
          g_autofree char *t1 = g_strdup_printf (_("%s (%s): largest discount, %%"), u->name, role);
          g_autofree char *t2 = g_strdup_printf (_("%s (%s): longest plan, installments"), u->name, role);
          g_autofree char *n1 = g_strdup_printf ("discount-%s", u->name);
          g_autofree char *n2 = g_strdup_printf ("installments-%s", u->name);
          g_autofree char *n = g_strdup_printf ("%" G_GINT64_FORMAT, u->max_plan_installments);

          lr->user_id = g_strdup (u->id);
          lr->name = g_strdup (u->name);
          lr->discount = adw_entry_row_new ();
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (lr->discount), t1);
          gtk_widget_set_name (lr->discount, n1);
          gtk_editable_set_text (GTK_EDITABLE (lr->discount), pct);
          adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (lr->discount), TRUE);
          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), lr->discount);
          lr->installments = adw_entry_row_new ();
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (lr->installments), t2);
          gtk_widget_set_name (lr->installments, n2);
          gtk_editable_set_text (GTK_EDITABLE (lr->installments), n);
          adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (lr->installments), TRUE);
          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), lr->installments);
          g_ptr_array_add (p->limits, lr);
          g_object_set_data (G_OBJECT (lr->discount), "limit-rows", lr);
          g_object_set_data (G_OBJECT (lr->installments), "limit-rows", lr);
          g_signal_connect (lr->discount, "changed", G_CALLBACK (limit_changed_cb), p);
          g_signal_connect (lr->installments, "changed", G_CALLBACK (limit_changed_cb), p);
          g_signal_connect (lr->discount, "apply", G_CALLBACK (limit_apply_cb), window);
          g_signal_connect (lr->installments, "apply", G_CALLBACK (limit_apply_cb), window);
          apply_on_leave (lr->discount, window);
          apply_on_leave (lr->installments, window);
        }
      p->limits_error = error_label_new (group, "limits-error");
      adw_preferences_page_add (p->page, ADW_PREFERENCES_GROUP (group));
    }
  p->setting_up = FALSE;
  p->loaded = TRUE;
}

static void
policy_loaded_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  PolicyLoad *load = user_data;
  Policy *p = policy_get (load->window);
  g_autoptr(GError) error = NULL;

  if (p == NULL)
    ;
  else if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    {
      GtkWidget *group = adw_preferences_group_new ();

      adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Cannot Read the Book's Policy"));
      adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), error->message);
      adw_preferences_page_add (p->page, ADW_PREFERENCES_GROUP (group));
    }
  else if (p != NULL)
    fill_page (load->window, p, load);
  policy_load_free (load);
}

void
recoup_book_preferences_add (AdwPreferencesWindow *window,
                             GtkWindow            *parent)
{
  RecoupSession *session;
  Policy *p;
  PolicyLoad *load;

  if (!RECOUP_IS_WINDOW (parent))
    return;
  session = recoup_window_get_session (RECOUP_WINDOW (parent));
  g_set_weak_pointer (&RECOUP_WINDOW (parent)->dialog, GTK_WINDOW (window));
  p = g_new0 (Policy, 1);
  load = g_new0 (PolicyLoad, 1);
  p->session = g_object_ref (session);
  g_set_weak_pointer (&p->main_window, RECOUP_WINDOW (parent));
  p->page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());
  adw_preferences_page_set_title (p->page, _("Book Policy"));
  adw_preferences_page_set_icon_name (p->page, "emblem-documents-symbolic");
  gtk_widget_set_name (GTK_WIDGET (p->page), "book-policy");
  adw_preferences_page_set_name (p->page, "book-policy");
  adw_preferences_window_add (window, p->page);
  g_object_set_data_full (G_OBJECT (window), "recoup-policy", p, (GDestroyNotify) policy_free);
  g_signal_connect (window, "close-request", G_CALLBACK (window_close_request_cb), NULL);

  load->window = g_object_ref (window);
  recoup_session_read_async (session, policy_load, load, NULL, NULL, policy_loaded_cb, load);
}
