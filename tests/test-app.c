/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-test-app"

#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "recoup-locale-money.h"
#include "recoup-window.h"
#include "recoup-window-private.h"
#include "recoup-allocation.h"
#include "recoup-book-preferences.h"
#include "recoup-preferences.h"
#include "recoup-guard.h"
#include "recoup-export.h"
#include "recoup-labels.h"
#include "recoup-worklist.h"
#include "recoup-test-util.h"
#include "recoup-test-ui.h"

/*
 * UI tests: the real window, driven through its actions and widgets under
 * Xvfb; every change is asserted in the book through a separate connection.
 */

typedef struct
{
  char                *dir;
  char                *path;
  RecoupWindow        *window;
  RecoupWorklistModel *model;
} Fixture;

static const struct { const char *ref; const char *name; gint64 amount; const char *due; const char *phone; } accounts[] = {
  { "A-100", "Ada Lovelace Ltd", 250000, "2026-06-01", "+15555550100" },
  { "A-200", "Babbage & Sons", 120000, "2026-09-15", "+15555550200" },
  { "A-300", "Curie Chemicals", 98000, "2026-10-30", "+15555550300" },
  { "A-400", "Dirac Delivery", 5000, "2026-11-20", "+15555550400" },
};

static void
wait_for (gboolean (*cond) (Fixture *), Fixture *f, const char *what)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!cond (f))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for %s", what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
list_ready (Fixture *f)
{
  return !recoup_worklist_model_is_loading (f->model)
         && g_list_model_get_n_items (G_LIST_MODEL (f->model)) > 0;
}

/* The label under @widget that reads @text. */
static GtkWidget *
find_label (GtkWidget  *widget,
            const char *text)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_label (c, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The label under @widget whose text holds @part. */
static GtkWidget *
find_label_containing (GtkWidget  *widget,
                       const char *part)
{
  if (GTK_IS_LABEL (widget) && strstr (gtk_label_get_text (GTK_LABEL (widget)), part) != NULL)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_label_containing (c, part);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(RecoupSession) session = NULL;

  f->dir = g_dir_make_tmp ("recoup-app-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "test.recoup", NULL);

  book = recoup_book_open (f->path, RECOUP_BOOK_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  /* Tests run at any hour: the lawful hours are the whole day here; every
   * other rule stays on. */
  g_assert_true (recoup_guard_set_profile (book, "custom", &error));
  g_assert_true (recoup_guard_set_rule (book, "hours_start", "00:00", &error));
  g_assert_true (recoup_book_set_setting (book, "guard.hours_end", "1440", &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (accounts); i++)
    {
      RecoupAccountSpec spec = { 0 };
      RecoupInvoiceSpec inv = { 0 };
      g_autofree char *id = NULL;
      g_autofree char *invoice_id = NULL;
      g_autofree char *contact_id = NULL;
      g_autofree char *inv_ref = g_strdup_printf ("INV-%s", accounts[i].ref);

      spec.ref = accounts[i].ref;
      spec.name = accounts[i].name;
      spec.currency = "USD";
      spec.timezone = "America/Chicago";
      id = recoup_account_create (book, &spec, &error);
      g_assert_no_error (error);
      inv.account_id = id;
      inv.ref = inv_ref;
      inv.issue_date = "2026-05-01";
      inv.due_date = accounts[i].due;
      inv.amount = accounts[i].amount;
      inv.currency = "USD";
      invoice_id = recoup_invoice_add (book, &inv, &error);
      g_assert_no_error (error);
      contact_id = recoup_contact_add (book, id, RECOUP_CONTACT_PHONE, accounts[i].phone, "mobile", TRUE, &error);
      g_assert_no_error (error);
    }
  g_clear_object (&book);

  if (g_strcmp0 (data, "collector") == 0)
    {
      g_autoptr(RecoupBook) users = recoup_book_open (f->path, RECOUP_BOOK_OPEN_DEFAULT, &error);
      g_autofree char *carla = NULL;

      g_assert_no_error (error);
      /* A collector who may give up to 10% and plans of up to 6 installments. */
      carla = recoup_user_add (users, "Carla", "collector", 1000, 6, FALSE, &error);
      g_assert_no_error (error);
    }
  session = recoup_session_new (f->path, &error);
  g_assert_no_error (error);
  if (g_strcmp0 (data, "collector") == 0)
    {
      g_assert_true (recoup_session_set_user (session, "Carla", &error));
      g_assert_no_error (error);
    }
  f->model = recoup_worklist_model_new (f->path, &error);
  g_assert_no_error (error);
  f->window = recoup_window_new (NULL, session, f->model);
  gtk_window_present (GTK_WINDOW (f->window));
  wait_for (list_ready, f, "the worklist");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (f->path, "-shm", NULL);

  gtk_window_destroy (GTK_WINDOW (f->window));
  g_clear_object (&f->model);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_unlink (f->path);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static guint expected_loads;

static gboolean
account_loaded (Fixture *f)
{
  return recoup_window_get_n_loads (f->window) >= expected_loads
         && recoup_window_get_dialog (f->window) == NULL;
}

/* The position of the account @id's row once its page has loaded, or
 * GTK_INVALID_LIST_POSITION while it has not (asking for the rows loads
 * them). */
static guint
row_of (Fixture    *f,
        const char *id)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (f->model)); i++)
    {
      g_autoptr(RecoupAccountItem) item = g_list_model_get_item (G_LIST_MODEL (f->model), i);

      if (item != NULL && recoup_account_item_get_loaded (item) &&
          g_strcmp0 (recoup_account_item_get_id (item), id) == 0)
        return i;
    }
  return GTK_INVALID_LIST_POSITION;
}

static gboolean
list_settled (Fixture *f)
{
  return !recoup_worklist_model_is_updating (f->model) && !recoup_worklist_model_is_loading (f->model)
         && recoup_worklist_model_is_position_loaded (f->model, 0);
}

static const char *shown_id;

/* The shown account's row is highlighted (the window highlights it again
 * after a reload of the worklist). */
static gboolean
shown_row_highlighted (Fixture *f)
{
  g_autoptr(RecoupAccountItem) item = NULL;
  guint position = recoup_window_get_selected_position (f->window);

  if (position == GTK_INVALID_LIST_POSITION)
    return FALSE;
  item = g_list_model_get_item (G_LIST_MODEL (f->model), position);
  return g_strcmp0 (recoup_account_item_get_id (item), shown_id) == 0;
}

static gboolean
item_loaded (Fixture *f)
{
  g_autoptr(RecoupAccountItem) item = g_list_model_get_item (G_LIST_MODEL (f->model), 0);

  return recoup_account_item_get_loaded (item);
}

/* Picks the top row and waits for its account page. */
static char *
pick_top (Fixture *f)
{
  g_autoptr(RecoupAccountItem) item = NULL;

  wait_for (item_loaded, f, "the first page");
  item = g_list_model_get_item (G_LIST_MODEL (f->model), 0);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_select_position (f->window, 0);
  wait_for (account_loaded, f, "the account page");
  g_assert_cmpstr (recoup_window_get_account_id (f->window), ==, recoup_account_item_get_id (item));
  return g_strdup (recoup_account_item_get_id (item));
}

static RecoupBook *
open_check_book (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  RecoupBook *book = recoup_book_open (f->path, RECOUP_BOOK_OPEN_NO_CREATE, &error);

  g_assert_no_error (error);
  return book;
}

static void
test_worklist_order (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  RecoupAccountData *d = recoup_window_get_account_data (f->window);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->model)), ==, G_N_ELEMENTS (accounts));
  {
    /* The top row is core's worklist's first account (nothing is blocked here). */
    g_autoptr(RecoupBook) book = open_check_book (f);
    RecoupWorklistFilter filter = { 0 };
    g_autoptr(RecoupWorklist) wl = NULL;
    g_autoptr(GError) error = NULL;

    filter.limit = 10;
    wl = recoup_worklist_build (book, &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (wl->items->len, >, 0);
    g_assert_cmpstr (((RecoupWorklistItem *) g_ptr_array_index (wl->items, 0))->account_id, ==, id);
  }
  for (guint i = 0; i < G_N_ELEMENTS (accounts); i++)
    if (g_str_equal (accounts[i].ref, d->account->ref))
      g_assert_cmpint (d->aging.total, ==, accounts[i].amount);
  g_assert_cmpuint (d->contacts->len, ==, 1);
  g_assert_cmpuint (d->invoices->len, ==, 1);
}

/* Enter in the one-line Notes field saves the contact, as Enter in Record
 * Payment's amount saves the payment. */
static void
test_log_contact_enter_saves (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GPtrArray) acts = NULL;
  g_autoptr(GError) error = NULL;
  GtkWindow *dialog;
  GtkWidget *notes;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "outcome")), 1);
  notes = find_named (GTK_WIDGET (dialog), "notes");
  gtk_editable_set_text (GTK_EDITABLE (notes), "Left a message");
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  /* What Enter does in the row's text. */
  g_signal_emit_by_name (gtk_editable_get_delegate (GTK_EDITABLE (notes)), "activate");
  wait_for (account_loaded, f, "the contact saved by Enter");

  book = open_check_book (f);
  acts = recoup_activity_list (book, id, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (acts->len, ==, 1);
  g_assert_cmpstr (((RecoupActivity *) g_ptr_array_index (acts, 0))->notes, ==, "Left a message");
}

/* A contact point without a label says what it is in words ("E-mail"), not
 * in the book's name for its kind ("email"). */
static void
test_contact_kind_words (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;

  g_free (recoup_contact_add (book, id, RECOUP_CONTACT_EMAIL, "ap@example.com", "", FALSE, &error));
  g_assert_no_error (error);
  g_free (recoup_contact_add (book, id, RECOUP_CONTACT_ADDRESS, "1 Main St, Springfield", "", FALSE, &error));
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_reload_account (f->window);
  wait_for (account_loaded, f, "the account with its new contact points");
  g_assert_nonnull (find_label (GTK_WIDGET (f->window), "E-mail"));
  g_assert_nonnull (find_label (GTK_WIDGET (f->window), "Address"));
  g_assert_null (find_label (GTK_WIDGET (f->window), "email"));
  g_assert_null (find_label (GTK_WIDGET (f->window), "address"));
}

static void
test_log_contact (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GPtrArray) acts = NULL;
  g_autoptr(GError) error = NULL;
  RecoupActivity *act;
  GtkWindow *dialog;
  GtkWidget *outcome, *notes, *save;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  g_assert_nonnull (dialog);
  g_assert_cmpstr (gtk_widget_get_name (GTK_WIDGET (dialog)), ==, "log-contact");
  outcome = find_named (GTK_WIDGET (dialog), "outcome");
  notes = find_named (GTK_WIDGET (dialog), "notes");
  save = find_named (GTK_WIDGET (dialog), "save");
  g_assert_nonnull (outcome);
  g_assert_nonnull (notes);
  g_assert_nonnull (save);
  /* index 0 is "no outcome"; 1 is right-party */
  adw_combo_row_set_selected (ADW_COMBO_ROW (outcome), 1);
  gtk_editable_set_text (GTK_EDITABLE (notes), "Spoke to the owner, will pay Friday");
  g_assert_true (gtk_widget_get_sensitive (save));

  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (save, "clicked");
  wait_for (account_loaded, f, "the logged contact");

  book = open_check_book (f);
  acts = recoup_activity_list (book, id, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (acts->len, ==, 1);
  act = g_ptr_array_index (acts, 0);
  g_assert_cmpstr (act->channel, ==, "call");
  g_assert_cmpstr (act->outcome, ==, "right-party");
  g_assert_cmpstr (act->contact, ==,
                   ((RecoupContactPoint *) g_ptr_array_index (recoup_window_get_account_data (f->window)->contacts, 0))->value);
  g_assert_cmpstr (act->notes, ==, "Spoke to the owner, will pay Friday");
  /* The page shows it. */
  g_assert_cmpuint (recoup_window_get_account_data (f->window)->activities->len, ==, 1);

  {
    g_autoptr(GPtrArray) promises = NULL;
    GtkWidget *promise, *amount, *date;

    /* A call that ends in a promise to pay: both are written together. */
    gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
    dialog = recoup_window_get_dialog (f->window);
    save = find_named (GTK_WIDGET (dialog), "save");
    promise = find_named (GTK_WIDGET (dialog), "promise");
    amount = find_named (GTK_WIDGET (dialog), "amount");
    date = find_named (GTK_WIDGET (dialog), "date");
    /* A second call within 7 days of a conversation is blocked (regf), so
     * this one is a visit. */
    adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "channel")), 1);
    adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (promise), TRUE);
    g_assert_false (gtk_widget_get_sensitive (save));   /* no amount yet */
    gtk_editable_set_text (GTK_EDITABLE (amount), "1O0.00");  /* a letter O */
    g_assert_false (gtk_widget_get_sensitive (save));
    /* Turning the promise on makes it the outcome; a visit offers no
     * voicemail, and no bounce. */
    {
      AdwComboRow *row = ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "outcome"));
      GListModel *offered = adw_combo_row_get_model (row);

      g_assert_cmpstr (gtk_string_object_get_string (adw_combo_row_get_selected_item (row)), ==,
                       recoup_label_outcome ("promise"));
      for (guint i = 0; i < g_list_model_get_n_items (offered); i++)
        {
          g_autoptr(GtkStringObject) item = g_list_model_get_item (offered, i);

          g_assert_cmpstr (gtk_string_object_get_string (item), !=, recoup_label_outcome ("voicemail"));
          g_assert_cmpstr (gtk_string_object_get_string (item), !=, recoup_label_outcome ("bounced"));
        }
      g_assert_cmpuint (g_list_model_get_n_items (offered), ==, 7);   /* none and six */
    }
    /* More than the account owes (50.00), or a date before today: refused
     * before Save, with the core's own words. */
    gtk_editable_set_text (GTK_EDITABLE (amount), "50.01");
    gtk_editable_set_text (GTK_EDITABLE (date), "2026-12-01");
    g_assert_false (gtk_widget_get_sensitive (save));
    g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (find_named (GTK_WIDGET (dialog), "error"))),
                              "a promise of USD 50.01 is more than the USD 50.00 owed"));
    gtk_editable_set_text (GTK_EDITABLE (amount), "40.00");
    gtk_editable_set_text (GTK_EDITABLE (date), "2026-11-23");
    g_assert_false (gtk_widget_get_sensitive (save));
    gtk_editable_set_text (GTK_EDITABLE (date), "2026-12-01");
    g_assert_true (gtk_widget_get_sensitive (save));
    expected_loads = recoup_window_get_n_loads (f->window) + 1;
    g_signal_emit_by_name (save, "clicked");
    wait_for (account_loaded, f, "the promise");
    promises = recoup_promise_list (book, id, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (promises->len, ==, 1);
    g_assert_cmpint (((RecoupPromise *) g_ptr_array_index (promises, 0))->amount, ==, 4000);
    g_assert_cmpstr (((RecoupPromise *) g_ptr_array_index (promises, 0))->due_date, ==, "2026-12-01");
    g_clear_pointer (&acts, g_ptr_array_unref);
    acts = recoup_activity_list (book, id, 10, &error);
    g_assert_cmpuint (acts->len, ==, 2);
    g_assert_cmpstr (((RecoupActivity *) g_ptr_array_index (acts, 0))->outcome, ==, "promise");
  }
}

static gboolean
save_sensitive (Fixture *f)
{
  GtkWindow *dialog = recoup_window_get_dialog (f->window);

  return dialog != NULL && gtk_widget_get_sensitive (find_named (GTK_WIDGET (dialog), "save"));
}

/* A call the debtor made is logged as inbound, with no compliance check
 * (a second call of ours within 7 days of a conversation is blocked); a
 * contact logged later says when it happened, is checked for that time, and
 * cannot be in the future. */
static void
test_log_contact_inbound_when (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GPtrArray) acts = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) dt = g_date_time_new_local (2026, 11, 20, 10, 30, 0);
  RecoupActivity *act;
  GtkWindow *dialog;
  GtkWidget *save, *inbound, *when, *verdict;

  /* A conversation first. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "channel")), 0);
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "outcome")), 1);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (find_named (GTK_WIDGET (dialog), "save"), "clicked");
  wait_for (account_loaded, f, "the first call");

  /* The debtor calls back: our call would be blocked, theirs is logged. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  save = find_named (GTK_WIDGET (dialog), "save");
  inbound = find_named (GTK_WIDGET (dialog), "inbound");
  when = find_named (GTK_WIDGET (dialog), "when");
  verdict = find_named (GTK_WIDGET (dialog), "verdict");
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "channel")), 0);
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "outcome")), 1);
  g_assert_true (g_str_has_prefix (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (verdict)), "Blocked"));
  g_assert_false (gtk_widget_get_sensitive (save));
  gtk_switch_set_active (GTK_SWITCH (inbound), TRUE);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (verdict)), ==,
                   "The debtor contacted you: no compliance check");
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "outcome")), 1);
  g_assert_true (gtk_widget_get_sensitive (save));

  /* When: not in the future, and a date and time. */
  gtk_editable_set_text (GTK_EDITABLE (when), "2999-01-01 10:00");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (when, "error"));
  gtk_editable_set_text (GTK_EDITABLE (when), "yesterday");
  g_assert_false (gtk_widget_get_sensitive (save));
  gtk_editable_set_text (GTK_EDITABLE (when), "2026-11-20 10:30");
  g_assert_false (gtk_widget_has_css_class (when, "error"));
  g_assert_true (gtk_widget_get_sensitive (save));
  /* They promised on that call: the promise is made on its day. */
  adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (find_named (GTK_WIDGET (dialog), "promise")), TRUE);
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount")), "20.00");
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "date")), "2026-11-30");
  g_assert_true (gtk_widget_get_sensitive (save));
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (save, "clicked");
  wait_for (account_loaded, f, "the inbound call");
  {
    g_autoptr(RecoupBook) check_book = open_check_book (f);
    g_autoptr(GPtrArray) promises = recoup_promise_list (check_book, id, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (promises->len, ==, 1);
    g_assert_cmpstr (((RecoupPromise *) g_ptr_array_index (promises, 0))->made_on, ==, "2026-11-20");
  }

  book = open_check_book (f);
  acts = recoup_activity_list (book, id, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (acts->len, ==, 2);
  for (guint i = 0; i < acts->len; i++)
    {
      act = g_ptr_array_index (acts, i);
      if (g_strcmp0 (act->direction, "inbound") == 0)
        break;
      act = NULL;
    }
  g_assert_nonnull (act);
  g_assert_cmpstr (act->channel, ==, "call");
  g_assert_cmpint (act->at, ==, g_date_time_to_unix (dt) * 1000);

  /* Our own call logged for a past time is checked for that time: before
   * the conversation it was allowed (the check runs in the background). */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  verdict = find_named (GTK_WIDGET (dialog), "verdict");
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "channel")), 0);
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "outcome")), 2);
  g_assert_false (gtk_widget_get_sensitive (find_named (GTK_WIDGET (dialog), "save")));
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "when")), "2026-11-19 10:00");
  wait_for (save_sensitive, f, "the check for that time");
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (verdict)), ==, "Allowed at that time");
  gtk_window_destroy (dialog);
}

/* Where the locale writes 1.234,56, amounts are typed and shown so: “12,50”
 * is twelve and a half, “12.50” is refused as ambiguous, and the dialog shows
 * the balance with the locale's marks. */
static void
test_payment_locale_marks (Fixture       *f,
                           gconstpointer  data)
{
  static const RecoupMoneyMarks de = { ',', "." };
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *shown = NULL;
  GtkWindow *dialog;
  GtkWidget *amount, *save, *error_label;
  gint64 start = recoup_window_get_account_data (f->window)->aging.total;
  gint64 balance = 0;

  recoup_locale_money_set_marks (&de);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
  dialog = recoup_window_get_dialog (f->window);
  amount = find_named (GTK_WIDGET (dialog), "amount");
  save = find_named (GTK_WIDGET (dialog), "save");
  error_label = find_named (GTK_WIDGET (dialog), "error");
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "date")), "2026-11-20");

  gtk_editable_set_text (GTK_EDITABLE (amount), "12.50");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)), "1.234,56"));
  gtk_editable_set_text (GTK_EDITABLE (amount), "12,50");
  g_assert_true (gtk_widget_get_sensitive (save));
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (save, "clicked");
  wait_for (account_loaded, f, "the payment typed with a decimal comma");
  /* The first ranks, brought up to date in the background, reload the list:
   * the window highlights the row again. */
  wait_for (list_settled, f, "the worklist");
  shown_id = id;
  wait_for (shown_row_highlighted, f, "the account's row");
  {
    g_autoptr(RecoupAccountItem) item = g_list_model_get_item (G_LIST_MODEL (f->model),
                                                               recoup_window_get_selected_position (f->window));
    g_autofree char *want = recoup_money_format_marks (start - 1250,
                                                       recoup_window_get_account_data (f->window)->account->currency,
                                                       RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE, &de);

    /* The row shows the new balance as the locale writes it. */
    g_object_get (item, "balance-text", &shown, NULL);
    g_assert_cmpstr (shown, ==, want);
  }
  recoup_locale_money_set_marks (NULL);

  book = open_check_book (f);
  g_assert_true (recoup_ledger_balance (book, id, NULL, &balance, &error));
  g_assert_no_error (error);
  g_assert_cmpint (balance, ==, start - 1250);
}

static GtkWindow *
find_toplevel (const char *name)
{
  GListModel *tops = gtk_window_get_toplevels ();   /* transfer none */

  for (guint i = 0; i < g_list_model_get_n_items (tops); i++)
    {
      g_autoptr(GtkWindow) w = g_list_model_get_item (tops, i);

      if (g_strcmp0 (gtk_widget_get_name (GTK_WIDGET (w)), name) == 0 && gtk_widget_get_visible (GTK_WIDGET (w)))
        return w;
    }
  return NULL;
}

/* A payer's reference longer than core allows is refused as it is typed,
 * on the field, with core's words; a normal one is accepted. */
static void
test_payment_reference_limit (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autofree char *long_ref = g_strnfill (RECOUP_LEDGER_REFERENCE_MAX + 1, '7');
  GtkWindow *dialog;
  GtkWidget *save, *reference;

  g_assert_nonnull (id);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
  dialog = recoup_window_get_dialog (f->window);
  save = find_named (GTK_WIDGET (dialog), "save");
  reference = find_named (GTK_WIDGET (dialog), "reference");
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount")), "10.00");
  g_assert_true (gtk_widget_get_sensitive (save));
  gtk_editable_set_text (GTK_EDITABLE (reference), long_ref);
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (reference, "error"));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (find_named (GTK_WIDGET (dialog), "error"))),
                            "64 characters"));
  gtk_editable_set_text (GTK_EDITABLE (reference), "cheque 703931");
  g_assert_true (gtk_widget_get_sensitive (save));
  g_assert_false (gtk_widget_has_css_class (reference, "error"));
  gtk_window_destroy (dialog);
}

/* More than the account owes, or dated before its first invoice: Record
 * asks first, says why, and records only when confirmed (the overpayment
 * becomes a credit). A date more than a year before anything on the account
 * (a mistyped year) cannot be recorded at all: the form says so. */
static void
test_payment_confirm (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *over = NULL;
  GtkWindow *dialog, *ask;
  GtkWidget *save;
  RecoupAccountData *d = recoup_window_get_account_data (f->window);
  gint64 start = d->owed;
  gint64 balance = 0;
  g_autofree char *before_first = NULL;
  const char *first = NULL;

  for (guint i = 0; i < d->invoices->len; i++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (d->invoices, i);

      if (first == NULL || strcmp (ib->issue_date, first) < 0)
        first = ib->issue_date;
    }
  g_assert_nonnull (first);
  before_first = recoup_date_format (recoup_date_parse (first, NULL) - 1);
  over = recoup_money_format (start + 10000, d->account->currency, 0);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
  dialog = recoup_window_get_dialog (f->window);
  save = find_named (GTK_WIDGET (dialog), "save");
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount")), over);
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "date")), "1999-01-01");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (find_named (GTK_WIDGET (dialog), "error"))),
                            "check the year"));
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "date")), before_first);
  g_assert_true (gtk_widget_get_sensitive (save));
  g_signal_emit_by_name (save, "clicked");
  ask = find_toplevel ("confirm-payment");
  g_assert_nonnull (ask);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (ask)), "more than the"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (ask)), "before the account's first invoice"));

  /* Cancel: nothing recorded, the dialog stays with what was typed. */
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "cancel");
  gtk_window_destroy (ask);
  book = open_check_book (f);
  g_assert_true (recoup_ledger_balance (book, id, NULL, &balance, &error));
  g_assert_cmpint (balance, ==, start);
  g_assert_true (recoup_window_get_dialog (f->window) == dialog);

  /* A date within the account's life; still more than owed: asked, and
   * recorded once confirmed. */
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "date")), "2026-11-20");
  g_signal_emit_by_name (save, "clicked");
  ask = find_toplevel ("confirm-payment");
  g_assert_nonnull (ask);
  g_assert_null (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (ask)), "first invoice"));
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "record");
  gtk_window_destroy (ask);
  wait_for (account_loaded, f, "the confirmed overpayment");
  g_assert_true (recoup_ledger_balance (book, id, NULL, &balance, &error));
  g_assert_cmpint (balance, ==, -10000);
}

static void
test_payment (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GError) error = NULL;
  GtkWindow *dialog;
  GtkWidget *amount, *save, *error_label, *date;
  gint64 balance = 0;
  RecoupAccountData *d;
  const char *payment_id = NULL;
  gint64 start = recoup_window_get_account_data (f->window)->aging.total;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
  dialog = recoup_window_get_dialog (f->window);
  g_assert_nonnull (dialog);
  amount = find_named (GTK_WIDGET (dialog), "amount");
  date = find_named (GTK_WIDGET (dialog), "date");
  save = find_named (GTK_WIDGET (dialog), "save");
  error_label = find_named (GTK_WIDGET (dialog), "error");

  /* Nothing typed: Save disabled. */
  g_assert_false (gtk_widget_get_sensitive (save));

  /* Letters: the field says what is wrong and Save stays disabled. */
  gtk_editable_set_text (GTK_EDITABLE (amount), "12abc");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_get_visible (error_label));
  g_assert_true (gtk_widget_has_css_class (amount, "error"));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)), "Amount"));

  /* A date that does not exist. */
  gtk_editable_set_text (GTK_EDITABLE (amount), "300.00");
  gtk_editable_set_text (GTK_EDITABLE (date), "2026-02-30");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (date, "error"));
  gtk_editable_set_text (GTK_EDITABLE (date), "2026-11-20");
  g_assert_true (gtk_widget_get_sensitive (save));
  g_assert_false (gtk_widget_get_visible (error_label));

  /* Clicking while invalid changes nothing. */
  book = open_check_book (f);
  g_assert_true (recoup_ledger_balance (book, id, NULL, &balance, &error));
  g_assert_cmpint (balance, ==, start);

  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (save, "clicked");
  /* 300.00 on the 50.00 owed: asked first (see /recoup/app/payment/confirm-unusual). */
  if (start < 30000)
    {
      GtkWindow *ask = find_toplevel ("confirm-payment");

      g_assert_nonnull (ask);
      adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "record");
      gtk_window_destroy (ask);
    }
  wait_for (account_loaded, f, "the recorded payment");

  g_assert_true (recoup_ledger_balance (book, id, NULL, &balance, &error));
  g_assert_no_error (error);
  g_assert_cmpint (balance, ==, start - 30000);
  d = recoup_window_get_account_data (f->window);
  g_assert_cmpint (d->aging.total, ==, start - 30000);

  /* Reverse it through the ledger row's action and the confirmation. */
  for (guint i = 0; i < d->ledger->len; i++)
    {
      RecoupLedgerEntry *e = g_ptr_array_index (d->ledger, i);

      if (g_strcmp0 (e->kind, "payment") == 0)
        payment_id = e->id;
    }
  g_assert_nonnull (payment_id);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reverse-entry", "s", payment_id);
  dialog = recoup_window_get_dialog (f->window);
  g_assert_true (ADW_IS_MESSAGE_DIALOG (dialog));
  /* It names the payment, and takes a reason for the ledger. */
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "Reverse the Payment of USD 300.00 Made on 2026-11-20?");
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "reason")), "cheque bounced");
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "reverse");
  gtk_window_destroy (dialog);
  wait_for (account_loaded, f, "the reversal");
  g_assert_true (recoup_ledger_balance (book, id, NULL, &balance, &error));
  g_assert_cmpint (balance, ==, start);
  {
    gboolean found = FALSE;

    d = recoup_window_get_account_data (f->window);
    for (guint i = 0; i < d->ledger->len; i++)
      {
        RecoupLedgerEntry *e = g_ptr_array_index (d->ledger, i);

        if (g_strcmp0 (e->kind, "reversal") == 0)
          found = g_strcmp0 (e->memo, "cheque bounced") == 0;
      }
    g_assert_true (found);
  }

  /* Paid in full: the drawn row says so at once, not “… days past due ·
   * high priority” with a next step (it read “Next: none”). */
  {
    g_autoptr(RecoupAccountItem) item = NULL;
    g_autofree char *full = NULL;
    g_autofree char *detail = NULL;
    g_autofree char *action = NULL;
    guint position;

    /* The ranks brought up to date in the background reload the list once:
     * the window has highlighted the row again since. */
    wait_for (list_settled, f, "the worklist");
    shown_id = id;
    wait_for (shown_row_highlighted, f, "the account's row after the worklist reloaded");
    position = recoup_window_get_selected_position (f->window);
    item = g_list_model_get_item (G_LIST_MODEL (f->model), position);
    g_assert_cmpstr (recoup_account_item_get_id (item), ==, id);
    g_object_get (item, "detail-text", &detail, NULL);
    g_assert_nonnull (strstr (detail, "days past due"));
    g_clear_pointer (&detail, g_free);

    full = recoup_money_format (start, recoup_window_get_account_data (f->window)->account->currency, 0);
    gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
    dialog = recoup_window_get_dialog (f->window);
    gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount")), full);
    gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "date")), "2026-11-20");
    save = find_named (GTK_WIDGET (dialog), "save");
    g_assert_true (gtk_widget_get_sensitive (save));
    expected_loads = recoup_window_get_n_loads (f->window) + 1;
    g_signal_emit_by_name (save, "clicked");
    wait_for (account_loaded, f, "the payment in full");
    g_assert_true (recoup_ledger_balance (book, id, NULL, &balance, &error));
    g_assert_cmpint (balance, ==, 0);

    g_object_get (item, "detail-text", &detail, "action-text", &action, NULL);
    g_assert_nonnull (strstr (detail, "settled"));
    g_assert_null (strstr (detail, "past due"));
    g_assert_null (strstr (detail, "priority"));
    g_assert_null (action);
  }
}

/* A reversal the user gives no reason for stores no memo: the app's own
 * words would be kept in the writer's language, synced and printed on
 * statements. The ledger row words it for whoever reads it. */
static void
test_reverse_no_reason (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GPtrArray) ledger = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *payment = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .amount = 5000, .method = "cheque",
                           .effective_date = "2026-11-20" };
  RecoupLedgerEntry *reversal = NULL;
  GtkWindow *dialog;

  spec.account_id = id;
  payment = recoup_ledger_record (book, &spec, &error);
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (account_loaded, f, "the account with its payment");

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reverse-entry", "s", payment);
  dialog = recoup_window_get_dialog (f->window);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "reason"))), ==, "");
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "reverse");
  gtk_window_destroy (dialog);
  wait_for (account_loaded, f, "the reversal");

  ledger = recoup_ledger_list (book, id, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < ledger->len; i++)
    {
      RecoupLedgerEntry *e = g_ptr_array_index (ledger, i);

      if (g_strcmp0 (e->kind, "reversal") == 0)
        reversal = e;
    }
  g_assert_nonnull (reversal);
  g_assert_cmpstr (reversal->memo, ==, "");
  g_assert_nonnull (find_label_containing (GTK_WIDGET (f->window), "reverses the payment of 2026-11-20"));
}

static gboolean
dialog_error_shown (Fixture *f)
{
  return recoup_window_get_last_error (f->window) != NULL;
}

/* An account that asked to cease communication: the dialog shows the block
 * and Save stays disabled; a forced write is refused by core's verdict. */
static void
test_guard_blocks (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *id = NULL;
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GPtrArray) acts = NULL;
  g_autoptr(GError) error = NULL;
  GtkWindow *dialog;
  GtkWidget *save, *verdict, *override, *notes;

  id = pick_top (f);

  /* The dialog opens while the call is allowed ... */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  save = find_named (GTK_WIDGET (dialog), "save");
  notes = find_named (GTK_WIDGET (dialog), "notes");
  g_assert_true (gtk_widget_get_sensitive (save));

  /* ... then the debtor asks to cease communication (another device). The
   * guard decides when the contact is written: refused, nothing logged. */
  g_assert_true (recoup_account_set (book, id, "cease_communication", "1", &error));
  g_assert_no_error (error);
  gtk_editable_set_text (GTK_EDITABLE (notes), "should not be logged");
  g_signal_emit_by_name (save, "clicked");
  wait_for (dialog_error_shown, f, "the refusal");
  g_assert_nonnull (strstr (recoup_window_get_last_error (f->window), "blocks"));
  g_assert_true (recoup_window_get_dialog (f->window) == dialog);
  acts = recoup_activity_list (book, id, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (acts->len, ==, 0);
  g_clear_pointer (&acts, g_ptr_array_unref);
  gtk_window_destroy (dialog);

  /* Reopened, the dialog shows the block before the user starts. */
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (account_loaded, f, "the reloaded account");
  g_assert_true (recoup_window_get_account_data (f->window)->account->cease_communication);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  save = find_named (GTK_WIDGET (dialog), "save");
  verdict = find_named (GTK_WIDGET (dialog), "verdict");
  override = find_named (GTK_WIDGET (dialog), "override");
  notes = find_named (GTK_WIDGET (dialog), "notes");
  g_assert_nonnull (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (verdict)), "Blocked"));
  g_assert_false (gtk_widget_get_sensitive (save));

  if (recoup_account_data_get_verdict (recoup_window_get_account_data (f->window), "call")->may_override)
    {
      /* The user's role may override: only with a reason, and it is recorded. */
      g_assert_true (gtk_widget_get_visible (override));
      gtk_editable_set_text (GTK_EDITABLE (notes), "debtor asked us to call about the payoff");
      g_assert_false (gtk_widget_get_sensitive (save));
      gtk_editable_set_text (GTK_EDITABLE (override), "Debtor's written request to call");
      g_assert_true (gtk_widget_get_sensitive (save));
      expected_loads = recoup_window_get_n_loads (f->window) + 1;
      g_signal_emit_by_name (save, "clicked");
      wait_for (account_loaded, f, "the overridden contact");
      acts = recoup_activity_list (book, id, 10, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (acts->len, ==, 1);
      g_assert_cmpstr (((RecoupActivity *) g_ptr_array_index (acts, 0))->override_reason, ==,
                       "Debtor's written request to call");
      return;
    }

  /* A user who may not override can still log a contact that happened:
   * only with what happened, and the account is flagged for the owner. */
  g_assert_true (gtk_widget_get_visible (override));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (override)), ==, "What happened");
  gtk_editable_set_text (GTK_EDITABLE (notes), "debtor answered, said to stop calling");
  gtk_editable_set_text (GTK_EDITABLE (override), "   ");
  g_assert_false (gtk_widget_get_sensitive (save));
  gtk_editable_set_text (GTK_EDITABLE (override), "Called before the cease letter was scanned in");
  g_assert_true (gtk_widget_get_sensitive (save));
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (save, "clicked");
  wait_for (account_loaded, f, "the contact outside the rules");
  acts = recoup_activity_list (book, id, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (acts->len, ==, 1);
  g_assert_cmpstr (((RecoupActivity *) g_ptr_array_index (acts, 0))->override_reason, ==,
                   "Called before the cease letter was scanned in");
  g_assert_cmpstr (recoup_window_get_last_toast (f->window), ==,
                   "Contact logged; the account is flagged for the owner's review");
  {
    g_autoptr(GPtrArray) review = recoup_review_list_open (book, id, &error);
    RecoupReviewItem *item;

    g_assert_no_error (error);
    g_assert_cmpuint (review->len, ==, 1);
    item = g_ptr_array_index (review, 0);
    g_assert_cmpstr (item->kind, ==, RECOUP_REVIEW_CONTACT_BREACH);
    g_assert_nonnull (strstr (item->text, "broke the compliance rules (the debtor asked to cease communication)"));
    g_assert_nonnull (strstr (item->text, "logged by Carla: Called before the cease letter was scanned in"));
    /* The page shows why, in the reader's words; only an owner may mark it reviewed. */
    g_assert_nonnull (find_label (find_named (GTK_WIDGET (f->window), "review"), item->text));
  }
  g_assert_nonnull (find_label (GTK_WIDGET (f->window), "Needs review"));
  g_assert_null (find_named (GTK_WIDGET (f->window), "mark-reviewed"));
}

/* The toast says the account is flagged exactly when core flagged it, as
 * decided when the contact is written: a block the dialog showed may have
 * lifted since (another device cleared it), and then nothing is flagged. */
static void
test_flag_as_core_decides (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GPtrArray) acts = NULL;
  g_autoptr(GPtrArray) review = NULL;
  g_autoptr(GError) error = NULL;
  GtkWindow *dialog;
  GtkWidget *save, *override;

  g_assert_true (recoup_account_set (book, id, "cease_communication", "1", &error));
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (account_loaded, f, "the account that asked to cease communication");

  /* The dialog shows the block, and takes what happened. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  save = find_named (GTK_WIDGET (dialog), "save");
  override = find_named (GTK_WIDGET (dialog), "override");
  g_assert_false (recoup_account_data_get_verdict (recoup_window_get_account_data (f->window), "call")->may_override);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (override)), ==, "What happened");
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "notes")), "talked about the payoff");
  gtk_editable_set_text (GTK_EDITABLE (override), "The debtor called back on my mobile");
  g_assert_true (gtk_widget_get_sensitive (save));

  /* Meanwhile the request is withdrawn: the call breaks no rule any more. */
  g_assert_true (recoup_account_set (book, id, "cease_communication", "0", &error));
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (save, "clicked");
  wait_for (account_loaded, f, "the contact");

  acts = recoup_activity_list (book, id, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (acts->len, ==, 1);
  g_assert_null (((RecoupActivity *) g_ptr_array_index (acts, 0))->override_reason);
  review = recoup_review_list_open (book, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (review->len, ==, 0);
  g_assert_cmpstr (recoup_window_get_last_toast (f->window), ==, "Contact logged");
}

/* What needs review is on the account page, a row per open item (and one
 * for a book's old review_flag text), and the owner marks the shown ones
 * reviewed there: an item that arrived since stays open. */
static void
test_review_flag (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(RecoupAccount) account = NULL;
  g_autoptr(GPtrArray) review = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *offer = NULL;
  g_autofree char *later = NULL;
  const char * const rules[] = { "outside-hours", NULL };
  GtkWidget *group;

  g_assert_null (find_named (GTK_WIDGET (f->window), "review"));
  g_assert_null (find_label (GTK_WIDGET (f->window), "Needs review"));
  g_assert_true (recoup_account_set (book, id, "review_flag", "checked before the upgrade", &error));
  g_assert_no_error (error);
  offer = recoup_review_add_offer_conflict (book, id, "1234", &error);
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (account_loaded, f, "the flagged account");
  group = find_named (GTK_WIDGET (f->window), "review");
  g_assert_nonnull (group);
  g_assert_nonnull (find_label (group, "checked before the upgrade"));
  g_assert_nonnull (find_label (group, "offer 1234 has conflicting transitions made offline"));
  g_assert_nonnull (find_label (GTK_WIDGET (f->window), "Needs review"));

  /* A sync brings a breach after the page was shown. */
  later = recoup_review_add_contact_breach (book, id, "visit", G_GINT64_CONSTANT (1781143200000), rules,
                                            "the debtor waved me in", &error);
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (find_named (group, "mark-reviewed"), "clicked");
  wait_for (account_loaded, f, "the reviewed account");
  account = recoup_account_load (book, id, &error);
  g_assert_no_error (error);
  g_assert_null (account->review_flag);
  review = recoup_review_list_open (book, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (review->len, ==, 1);
  g_assert_cmpstr (((RecoupReviewItem *) review->pdata[0])->id, ==, later);
  group = find_named (GTK_WIDGET (f->window), "review");
  g_assert_nonnull (group);
  g_assert_null (find_label (group, "offer 1234 has conflicting transitions made offline"));
  g_assert_nonnull (find_label (group, ((RecoupReviewItem *) review->pdata[0])->text));

  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (find_named (group, "mark-reviewed"), "clicked");
  wait_for (account_loaded, f, "the account reviewed again");
  g_assert_null (find_named (GTK_WIDGET (f->window), "review"));
  g_assert_null (find_label (GTK_WIDGET (f->window), "Needs review"));
}

static GtkWidget *find_suffix_label (GtkWidget *widget);

static void
make_offer (Fixture    *f,
            guint       kind,
            const char *discount,
            const char *installments,
            gboolean    beyond)
{
  GtkWindow *dialog;
  GtkWidget *save;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.make-offer", NULL);
  dialog = recoup_window_get_dialog (f->window);
  g_assert_cmpstr (gtk_widget_get_name (GTK_WIDGET (dialog)), ==, "make-offer");
  save = find_named (GTK_WIDGET (dialog), "save");
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "kind")), kind);
  /* Letters in the discount: Save stays disabled. */
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "discount")), "ten");
  g_assert_false (gtk_widget_get_sensitive (save));
  /* A discount that leaves nothing to pay is refused as typed, not on Save. */
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "discount")), "100");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (find_named (GTK_WIDGET (dialog), "error"))),
                            "leaves nothing to pay"));
  /* An amount and a discount: which was meant is not guessed. */
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "discount")), discount);
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount")), "100.00");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (find_named (GTK_WIDGET (dialog), "error"))),
                            "fill in one of them, not both"));
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount")), "");
  if (installments != NULL)
    {
      /* A long plan's preview: 12 installments, then the other 12 together
       * and the last (which takes the rounding) named. */
      GtkWidget *schedule = find_named (GTK_WIDGET (dialog), "schedule");
      GtkWidget *rest, *first;
      gint64 total, one, rest_total;

      gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "installments")), "24");
      rest = find_named (schedule, "schedule-rest");
      g_assert_nonnull (rest);
      g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (rest)), ==, "… and 12 more, together");
      g_assert_true (g_str_has_prefix (adw_action_row_get_subtitle (ADW_ACTION_ROW (rest)), "the last, on "));
      g_assert_true (g_str_has_prefix (adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (schedule)),
                                       "The debtor pays USD "));
      g_assert_true (recoup_money_parse (adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (schedule))
                                         + strlen ("The debtor pays USD "), "USD", &total, NULL));
      first = gtk_widget_get_prev_sibling (rest);
      while (gtk_widget_get_prev_sibling (first) != NULL && ADW_IS_ACTION_ROW (gtk_widget_get_prev_sibling (first)))
        first = gtk_widget_get_prev_sibling (first);
      g_assert_true (recoup_money_parse (gtk_label_get_text (GTK_LABEL (find_suffix_label (first))), "USD", &one, NULL));
      g_assert_true (recoup_money_parse (gtk_label_get_text (GTK_LABEL (find_suffix_label (rest))), "USD",
                                         &rest_total, NULL));
      g_assert_cmpint (rest_total, ==, total - 12 * one);
      gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "installments")), installments);
    }
  g_assert_true (gtk_widget_get_sensitive (save));
  /* The user's authority is shown as they type, and whether this is beyond it. */
  {
    GtkWidget *authority = find_named (GTK_WIDGET (dialog), "authority");
    const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (authority));

    g_assert_nonnull (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (authority)), "up to 10 % off"));
    g_assert_nonnull (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (authority)), "up to 6 installments"));
    if (beyond)
      g_assert_nonnull (strstr (subtitle, "needs an owner's approval"));
    else
      {
        GtkWidget *date = find_named (GTK_WIDGET (dialog), "date");
        g_autofree char *typed = g_strdup (gtk_editable_get_text (GTK_EDITABLE (date)));

        g_assert_nonnull (strstr (subtitle, "within your authority"));
        /* Within the discount and the length, but starting many months ahead:
         * beyond what a collector may agree alone, as core decides on Save. */
        gtk_editable_set_text (GTK_EDITABLE (date), "2027-10-15");
        g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (authority)),
                                  "paid later than you may agree alone"));
        gtk_editable_set_text (GTK_EDITABLE (date), typed);
        g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (authority)), "within your authority"));
      }
  }
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (save, "clicked");
  wait_for (account_loaded, f, "the saved offer");
}

/* A collector's offer within their limits is ready to send; one beyond them
 * waits for the owner's approval. */
static void
test_offers (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GPtrArray) offers = NULL;
  g_autoptr(GError) error = NULL;
  RecoupOffer *o;

  make_offer (f, 1, "5", "6", FALSE);
  make_offer (f, 0, "40", NULL, TRUE);

  /* A collector has no approval queue. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.approvals", NULL);
  g_assert_null (recoup_window_get_dialog (f->window));

  offers = recoup_offer_list (book, id, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (offers->len, ==, 2);
  o = g_ptr_array_index (offers, 0);
  g_assert_cmpint (o->kind, ==, RECOUP_OFFER_PLAN);
  g_assert_cmpint (o->installments, ==, 6);
  g_assert_cmpint (o->discount_bp, ==, 500);
  g_assert_false (o->needs_approval);
  g_assert_cmpstr (o->created_by_name, ==, "Carla");
  o = g_ptr_array_index (offers, 1);
  g_assert_cmpint (o->kind, ==, RECOUP_OFFER_SETTLEMENT);
  g_assert_cmpint (o->discount_bp, ==, 4000);
  g_assert_true (o->needs_approval);
  g_assert_false (o->approved);
  /* The page lists both. */
  g_assert_cmpuint (recoup_window_get_account_data (f->window)->offers->len, ==, 2);
}

/* Edits: a contact point opted out, a dispute opened; both land in the book. */
static void
test_opt_out_and_dispute (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GError) error = NULL;
  RecoupContactPoint *cp = g_ptr_array_index (recoup_window_get_account_data (f->window)->contacts, 0);

  g_assert_false (cp->opted_out);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.set-opt-out", "(sb)", cp->id, TRUE);
  wait_for (account_loaded, f, "the opt-out");
  contacts = recoup_contact_list (book, id, &error);
  g_assert_no_error (error);
  g_assert_true (((RecoupContactPoint *) g_ptr_array_index (contacts, 0))->opted_out);

  {
    g_autoptr(GPtrArray) disputes = NULL;
    GtkWindow *dialog;
    GtkWidget *save, *reason;

    gtk_widget_activate_action (GTK_WIDGET (f->window), "win.open-dispute", NULL);
    dialog = recoup_window_get_dialog (f->window);
    save = find_named (GTK_WIDGET (dialog), "save");
    reason = find_named (GTK_WIDGET (dialog), "reason");
    /* An empty reason: Save stays disabled. */
    g_assert_false (gtk_widget_get_sensitive (save));
    gtk_editable_set_text (GTK_EDITABLE (reason), "   ");
    g_assert_false (gtk_widget_get_sensitive (save));
    gtk_editable_set_text (GTK_EDITABLE (reason), "Goods never delivered");
    g_assert_true (gtk_widget_get_sensitive (save));
    expected_loads = recoup_window_get_n_loads (f->window) + 1;
    g_signal_emit_by_name (save, "clicked");
    wait_for (account_loaded, f, "the dispute");
    disputes = recoup_dispute_list (book, id, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (disputes->len, ==, 1);
    g_assert_cmpstr (((RecoupDispute *) g_ptr_array_index (disputes, 0))->reason, ==, "Goods never delivered");
    g_assert_cmpstr (((RecoupDispute *) g_ptr_array_index (disputes, 0))->status, ==, "open");
  }
}

/* ---- account editor ---------------------------------------------------- */

static gboolean
editor_open (Fixture *f)
{
  GtkWindow *dialog = recoup_window_get_dialog (f->window);

  return dialog != NULL && g_strcmp0 (gtk_widget_get_name (GTK_WIDGET (dialog)), "edit-account") == 0;
}

static GtkWidget *
open_editor (Fixture *f)
{
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.edit-account", NULL);
  wait_for (editor_open, f, "the account editor");
  return GTK_WIDGET (recoup_window_get_dialog (f->window));
}

static void
set_text (GtkWidget  *dialog,
          const char *name,
          const char *text)
{
  GtkWidget *w = find_named (dialog, name);

  g_assert_nonnull (w);
  gtk_editable_set_text (GTK_EDITABLE (w), text);
}

/* Every field and the contact points, saved together. */
static void
test_edit_account (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(RecoupAccount) account = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *owner = g_strdup (recoup_book_get_user_id (book));
  GtkWidget *dialog, *save, *error_label;

  dialog = open_editor (f);
  save = find_named (dialog, "save");
  error_label = find_named (dialog, "error");
  g_assert_true (gtk_widget_get_sensitive (save));

  set_text (dialog, "name", "Ada Lovelace Limited");
  set_text (dialog, "timezone", "Europe/Berlin");
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (dialog, "stage")), 2);
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (dialog, "assigned")), 1);
  /* Tier: none, then the tiers the score knows. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (dialog, "tier")), 2);
  set_text (dialog, "tags", " vip, ,slow-payer,VIP,");
  set_text (dialog, "validation", "2026-11-02");
  gtk_switch_set_active (GTK_SWITCH (find_named (dialog, "attorney")), TRUE);
  set_text (dialog, "contact-0", "+1 555 555 0999");
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (find_named (dialog, "opt-out-0")), TRUE);

  /* A new e-mail: empty, then wrong, then right. */
  g_signal_emit_by_name (find_named (dialog, "add-email"), "clicked");
  g_assert_false (gtk_widget_get_sensitive (save));
  set_text (dialog, "contact-1", "ada.example.com");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (find_named (dialog, "contact-1"), "error"));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)), "E-mail 1"));
  set_text (dialog, "contact-1", "ada@example.com");
  /* A bad validation date, then a good one. */
  set_text (dialog, "validation", "2026-13-02");
  g_assert_false (gtk_widget_get_sensitive (save));
  set_text (dialog, "validation", "2026-11-02");
  g_assert_true (gtk_widget_get_sensitive (save));

  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (save, "clicked");
  wait_for (account_loaded, f, "the saved account");

  account = recoup_account_load (book, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->name, ==, "Ada Lovelace Limited");
  g_assert_cmpstr (account->timezone, ==, "Europe/Berlin");
  g_assert_cmpstr (account->stage, ==, "negotiation");
  g_assert_cmpstr (account->assigned_to, ==, owner);
  g_assert_cmpstr (account->tier, ==, "gold");
  g_assert_cmpstr (account->tags, ==, "vip, slow-payer");
  g_assert_cmpstr (account->validation_notice_date, ==, "2026-11-02");
  g_assert_true (account->attorney_represented);
  g_assert_false (account->cease_communication);
  contacts = recoup_contact_list (book, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (contacts->len, ==, 2);
  for (guint i = 0; i < contacts->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (contacts, i);

      if (cp->kind == RECOUP_CONTACT_PHONE)
        {
          g_assert_cmpstr (cp->value, ==, "+1 555 555 0999");
          g_assert_true (cp->opted_out);
        }
      else
        {
          g_assert_cmpint (cp->kind, ==, RECOUP_CONTACT_EMAIL);
          g_assert_cmpstr (cp->value, ==, "ada@example.com");
          g_assert_false (cp->opted_out);
        }
    }
  g_assert_cmpstr (recoup_window_get_account_data (f->window)->account->name, ==, "Ada Lovelace Limited");

  /* Removing a contact point (the e-mail: they are listed by kind). The
   * phone's opt-out cannot be lifted here: the account page asks for the
   * debtor's consent. */
  dialog = open_editor (f);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (find_named (dialog, "contact-1"))), ==, "+1 555 555 0999");
  g_assert_false (gtk_widget_get_sensitive (find_named (dialog, "opt-out-1")));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (find_named (dialog, "opt-out-1")), FALSE);
  g_signal_emit_by_name (find_named (dialog, "remove-0"), "clicked");
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (find_named (dialog, "save"), "clicked");
  wait_for (account_loaded, f, "the removal");
  g_clear_pointer (&contacts, g_ptr_array_unref);
  contacts = recoup_contact_list (book, id, &error);
  g_assert_cmpuint (contacts->len, ==, 1);
  g_assert_cmpstr (((RecoupContactPoint *) g_ptr_array_index (contacts, 0))->value, ==, "+1 555 555 0999");
  g_assert_true (((RecoupContactPoint *) g_ptr_array_index (contacts, 0))->opted_out);

  /* A tier the book holds by an alias shows as its tier and stays as stored;
   * one the score does not know is offered as it is, marked, and kept. */
  {
    static const struct { const char *stored, *label; } kept[] = {
      { "b", "Gold" }, { "VIP", "VIP (not scored)" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
      {
        GtkWidget *tier;
        GtkStringObject *item;
        gint64 changes;

        g_assert_true (recoup_account_set (book, id, "tier", kept[i].stored, &error));
        g_assert_no_error (error);
        expected_loads = recoup_window_get_n_loads (f->window) + 1;
        gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
        wait_for (account_loaded, f, "the account with its tier");
        dialog = open_editor (f);
        tier = find_named (dialog, "tier");
        item = adw_combo_row_get_selected_item (ADW_COMBO_ROW (tier));
        g_assert_cmpstr (gtk_string_object_get_string (item), ==, kept[i].label);
        changes = recoup_book_count_changes (book);
        set_text (dialog, "name", i == 0 ? "Ada Lovelace Ltd" : "Ada Lovelace plc");
        expected_loads = recoup_window_get_n_loads (f->window) + 1;
        g_signal_emit_by_name (find_named (dialog, "save"), "clicked");
        wait_for (account_loaded, f, "the renamed account");
        g_clear_pointer (&account, recoup_account_free);
        account = recoup_account_load (book, id, &error);
        g_assert_cmpstr (account->tier, ==, kept[i].stored);
        /* One change: the name's, none for the tier. */
        g_assert_cmpint (recoup_book_count_changes (book), ==, changes + 1);
      }
  }
}

static gboolean
editor_error_shown (Fixture *f)
{
  GtkWindow *dialog = recoup_window_get_dialog (f->window);

  return dialog != NULL && gtk_widget_get_visible (find_named (GTK_WIDGET (dialog), "error"))
         && gtk_widget_get_sensitive (find_named (GTK_WIDGET (dialog), "save"));
}

/* A bad time zone keeps Save disabled and writes nothing; a write that core
 * refuses halfway leaves nothing half-saved. */
static void
test_edit_account_invalid (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(RecoupAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  gint64 changes = recoup_book_count_changes (book);
  GtkWidget *dialog, *save, *tz, *error_label;

  dialog = open_editor (f);
  save = find_named (dialog, "save");
  tz = find_named (dialog, "timezone");
  error_label = find_named (dialog, "error");
  set_text (dialog, "name", "Renamed");
  set_text (dialog, "timezone", "Mars/Olympus_Mons");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (tz, "error"));
  g_assert_true (gtk_widget_get_visible (error_label));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)), "Time zone"));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)), "Mars/Olympus_Mons"));
  /* Clicking anyway writes nothing. */
  g_signal_emit_by_name (save, "clicked");
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpint (recoup_book_count_changes (book), ==, changes);
  /* An empty name is wrong too. */
  set_text (dialog, "timezone", "");
  g_assert_true (gtk_widget_get_sensitive (save));
  set_text (dialog, "name", "  ");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (find_named (dialog, "name"), "error"));

  /* The book refuses the contact change (a trigger stands in for any failure
   * in the middle of the write): the new name, written first, is rolled back
   * with it. */
  set_text (dialog, "name", "Renamed");
  set_text (dialog, "contact-0", "+1 555 555 0777");
  {
    sqlite3 *db = NULL;

    g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (db,
                                       "CREATE TRIGGER refuse_contact BEFORE UPDATE OF value ON contact_points"
                                       " BEGIN SELECT RAISE (ABORT, 'refused by the test'); END;",
                                   NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close (db);
  }
  changes = recoup_book_count_changes (book);
  g_signal_emit_by_name (save, "clicked");
  wait_for (editor_error_shown, f, "the refused save");
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)), "Nothing was saved"));
  g_assert_cmpint (recoup_book_count_changes (book), ==, changes);
  account = recoup_account_load (book, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->name, !=, "Renamed");
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* A validation notice dated in the future or before 1970 is refused as it is
 * typed, with what is wrong, and Save stays off; core refuses it too. */
static void
test_edit_compliance_date (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(RecoupAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  gint64 changes = recoup_book_count_changes (book);
  GtkWidget *dialog, *save, *row, *error_label;
  const char *text;

  dialog = open_editor (f);
  save = find_named (dialog, "save");
  row = find_named (dialog, "validation");
  error_label = find_named (dialog, "error");

  set_text (dialog, "validation", "2030-01-01");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (row, "error"));
  g_assert_true (gtk_widget_get_visible (error_label));
  text = gtk_label_get_text (GTK_LABEL (error_label));
  g_assert_nonnull (strstr (text, "Validation notice"));
  g_assert_nonnull (strstr (text, "2030-01-01 is after today (2026-11-24)"));
  /* Clicking anyway writes nothing. */
  g_signal_emit_by_name (save, "clicked");
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpint (recoup_book_count_changes (book), ==, changes);

  set_text (dialog, "validation", "1900-01-01");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (row, "error"));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)), "1900-01-01 is before 1970-01-01"));

  /* Today is the latest a notice can have been sent. */
  set_text (dialog, "validation", "2026-11-24");
  g_assert_true (gtk_widget_get_sensitive (save));
  g_assert_false (gtk_widget_has_css_class (row, "error"));
  g_assert_false (gtk_widget_get_visible (error_label));
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (save, "clicked");
  wait_for (account_loaded, f, "the saved account");
  account = recoup_account_load (book, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->validation_notice_date, ==, "2026-11-24");
}

/* ---- score explanation ------------------------------------------------- */

static GtkWidget *
find_suffix_label (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_has_css_class (widget, "numeric"))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_suffix_label (c);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* "Why This Account Is Here" names the components as people say them and
 * shows each one's points of the most it could add, adding up to the score. */
static void
test_score_explained (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  RecoupAccountData *d = recoup_window_get_account_data (f->window);
  RecoupScoreExplanation *e = d->score;
  const char * const titles[RECOUP_SCORE_N_COMPONENTS] = {
    "Amount owed", "Oldest overdue item", "Overdue, weighted by amount", "Payment behaviour",
    "Reachability", "Customer value", "Collection stage",
  };
  g_autofree char *heading = NULL;
  GtkWidget *expander;
  gint64 sum = 0, most = 0;

  g_assert_nonnull (e);
  g_assert_null (e->note);
  expander = find_named (GTK_WIDGET (f->window), "score");
  g_assert_nonnull (expander);
  heading = g_strdup_printf ("Score %" G_GINT64_FORMAT " of 10000 points · %s", e->score,
                             recoup_label_priority (e->segment));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (expander)), ==, heading);
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    {
      g_autofree char *name = g_strdup_printf ("score-%s", recoup_score_component_name (i));
      g_autofree char *expected = NULL;
      GtkWidget *row = find_named (expander, name);
      GtkWidget *points;
      gint64 max = RECOUP_SCORE_MAX * e->items[i].weight / e->total_weight;

      g_assert_nonnull (row);
      g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, titles[i]);
      points = find_suffix_label (row);
      g_assert_nonnull (points);
      expected = g_strdup_printf ("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " points", e->items[i].contribution, max);
      g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (points)), ==, expected);
      sum += e->items[i].contribution;
      most += max;
    }
  g_assert_cmpint (sum, ==, e->score);
  g_assert_cmpint (most, <=, RECOUP_SCORE_MAX);
  /* The stage by its label, not its stored name; the balance's cap for what it is. */
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (find_named (expander, "score-stage"))), ==,
                   recoup_label_stage (d->account->stage));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (find_named (expander, "score-balance"))),
                            "every currency"));
}

/* ---- payment allocation ------------------------------------------------ */

static GtkWidget *allocation_group;

static gboolean
allocation_current (Fixture *f)
{
  return recoup_allocation_group_is_current (allocation_group);
}

static void
test_payment_allocation (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *inv2 = NULL;
  RecoupInvoiceSpec inv = { 0 };
  GtkWindow *dialog;
  GtkWidget *row, *save;
  gint64 changes;
  gint64 balance;

  /* A second, newer invoice on the top account (A-400, 50.00 due 2026-11-20):
   * the payment pays the older first. */
  id = pick_top (f);
  inv.account_id = id;
  inv.ref = "INV-NEWER";
  inv.issue_date = "2026-11-01";
  inv.due_date = "2026-12-20";
  inv.amount = 40000;
  inv.currency = "USD";
  inv2 = recoup_invoice_add (book, &inv, &error);
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (account_loaded, f, "the reloaded account");
  changes = recoup_book_count_changes (book);

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
  dialog = recoup_window_get_dialog (f->window);
  allocation_group = find_named (GTK_WIDGET (dialog), "allocation");
  save = find_named (GTK_WIDGET (dialog), "save");
  g_assert_nonnull (allocation_group);

  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount")), "30.00");
  wait_for (allocation_current, f, "the allocation preview");
  row = find_named (allocation_group, "INV-A-400");
  g_assert_nonnull (row);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "USD 20.00 still open"));
  row = find_named (allocation_group, "INV-NEWER");
  g_assert_nonnull (row);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "untouched"));

  /* More than owed: both paid and the rest a credit. */
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount")), "3,000.00");
  wait_for (allocation_current, f, "the second preview");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (find_named (allocation_group, "INV-NEWER"))),
                            "paid in full"));
  /* Previews write nothing. */
  g_assert_cmpint (recoup_book_count_changes (book), ==, changes);
  g_assert_true (recoup_ledger_balance (book, id, NULL, &balance, &error));
  g_assert_cmpint (balance, ==, 45000);

  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount")), "30.00");
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (save, "clicked");
  wait_for (account_loaded, f, "the recorded payment");
  g_assert_true (recoup_ledger_balance (book, id, NULL, &balance, &error));
  g_assert_cmpint (balance, ==, 42000);

  /* The account page shows where it went. */
  allocation_group = find_named (GTK_WIDGET (f->window), "allocation");
  g_assert_nonnull (allocation_group);
  row = find_named (allocation_group, "INV-A-400");
  g_assert_nonnull (row);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "USD 20.00 still open"));

  /* Until the next write: after a note it is no longer news. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "channel")), 5);   /* note */
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "notes")), "Thanked them for the payment");
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (find_named (GTK_WIDGET (dialog), "save"), "clicked");
  wait_for (account_loaded, f, "the note");
  g_assert_null (find_named (GTK_WIDGET (f->window), "allocation"));
}

/* ---- the owner's approval queue ---------------------------------------- */

static char *queued_offer;

static gboolean
approvals_ready (Fixture *f)
{
  GtkWindow *dialog = recoup_window_get_dialog (f->window);

  return dialog != NULL && g_object_get_data (G_OBJECT (dialog), "recoup-queue-loaded") != NULL;
}

static gboolean
offer_approved (Fixture *f)
{
  g_autoptr(RecoupBook) book = recoup_book_open (f->path, RECOUP_BOOK_OPEN_DEFAULT, NULL);
  g_autoptr(RecoupOffer) offer = recoup_offer_load (book, queued_offer, NULL, NULL);

  GtkWindow *dialog = recoup_window_get_dialog (f->window);

  /* Approved in the book, and the queue read again after the decision. */
  return offer != NULL && offer->approved && dialog != NULL
         && GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "recoup-queue-loaded")) == 2;
}

static gboolean
queue_reloaded_twice (Fixture *f)
{
  GtkWindow *dialog = recoup_window_get_dialog (f->window);

  return dialog != NULL && GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "recoup-queue-loaded")) == 3;
}

static void
test_approvals (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) queue = NULL;
  g_autofree char *carla = NULL;
  g_autofree char *owner = g_strdup (recoup_book_get_user_id (book));
  g_autofree char *rejected = NULL;
  g_autoptr(RecoupOffer) offer = NULL;
  RecoupOfferSpec spec = { 0 };
  GtkWindow *dialog, *ask;
  GtkWidget *row;

  /* Carla offers 40 % off on her device; her limit is 10 %. */
  carla = recoup_user_add (book, "Carla", "collector", 1000, 6, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_book_set_user (book, carla, &error));
  spec.account_id = id;
  spec.kind = RECOUP_OFFER_SETTLEMENT;
  spec.discount_bp = 4000;
  spec.pay_by = "2026-12-01";
  queued_offer = recoup_offer_create (book, &spec, &error);
  g_assert_no_error (error);
  spec.discount_bp = 5000;
  rejected = recoup_offer_create (book, &spec, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_book_set_user (book, owner, &error));

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.approvals", NULL);
  wait_for (approvals_ready, f, "the approval queue");
  dialog = recoup_window_get_dialog (f->window);
  g_assert_cmpstr (gtk_widget_get_name (GTK_WIDGET (dialog)), ==, "approvals");
  row = find_named (GTK_WIDGET (dialog), queued_offer);
  g_assert_nonnull (row);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "40 % off"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "Carla, who may give up to 10 %"));

  g_signal_emit_by_name (find_named (row, "approve"), "clicked");
  wait_for (offer_approved, f, "the approval");
  queue = recoup_offer_list_approvals (book, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (queue->len, ==, 1);
  g_clear_pointer (&queue, g_ptr_array_unref);

  /* Reject asks first: Cancel leaves the draft in the queue. */
  row = find_named (GTK_WIDGET (dialog), rejected);
  g_assert_nonnull (row);
  g_signal_emit_by_name (find_named (row, "reject"), "clicked");
  ask = find_toplevel ("reject-offer");
  g_assert_nonnull (ask);
  {
    g_autoptr(RecoupAccount) account = recoup_account_load (book, id, &error);

    g_assert_no_error (error);
    g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (ask)), account->name));
  }
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "cancel");
  gtk_window_destroy (ask);
  offer = recoup_offer_load (book, rejected, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (offer->state, ==, RECOUP_OFFER_STATE_DRAFT);
  g_clear_pointer (&offer, recoup_offer_free);
  g_assert_true (gtk_widget_get_sensitive (row));

  /* Then it withdraws the draft, with the owner's reason as the event's note. */
  g_signal_emit_by_name (find_named (row, "reject"), "clicked");
  ask = find_toplevel ("reject-offer");
  g_assert_nonnull (ask);
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (ask), "reject-reason")),
                         "  50 % is too much before a first call  ");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "reject");
  gtk_window_destroy (ask);
  wait_for (queue_reloaded_twice, f, "the rejection");
  offer = recoup_offer_load (book, rejected, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (offer->state, ==, RECOUP_OFFER_STATE_WITHDRAWN);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM offer_events WHERE offer_id = '%s' AND "
                                            "event = 'withdraw' AND note = '50 %% is too much before a first call'",
                                            rejected);

    g_assert_cmpint (test_query_int (f->path, sql), ==, 1);
  }
  queue = recoup_offer_list_approvals (book, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (queue->len, ==, 0);
  /* The queue shows it is empty now. */
  g_assert_null (find_named (GTK_WIDGET (dialog), queued_offer));
  gtk_window_destroy (dialog);

  /* On the account page: the approved draft can be sent, the withdrawn one
   * is not "waiting for approval" any more and says why it was rejected.
   * Sent, then accepted. */
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (account_loaded, f, "the account after the queue");
  row = find_named (GTK_WIDGET (f->window), rejected);
  g_assert_true (ADW_IS_EXPANDER_ROW (row));
  g_assert_nonnull (strstr (adw_expander_row_get_subtitle (ADW_EXPANDER_ROW (row)),
                            "“50 % is too much before a first call”"));
  g_assert_null (strstr (adw_expander_row_get_subtitle (ADW_EXPANDER_ROW (row)), "approval"));
  {
    GtkWidget *actions = find_named (GTK_WIDGET (f->window), "offer-actions");
    const char *events[] = { "send", "accept" };
    RecoupOfferState states[] = { RECOUP_OFFER_STATE_OFFERED, RECOUP_OFFER_STATE_ACCEPTED };

    g_assert_nonnull (actions);
    g_assert_nonnull (find_named (actions, "withdraw"));
    g_assert_null (find_named (actions, "accept"));
    for (guint i = 0; i < G_N_ELEMENTS (events); i++)
      {
        g_autoptr(RecoupOffer) now = NULL;
        GtkWidget *button = find_named (find_named (GTK_WIDGET (f->window), "offer-actions"), events[i]);
        GtkWindow *ask;

        g_assert_nonnull (button);
        g_signal_emit_by_name (button, "clicked");
        ask = recoup_window_get_dialog (f->window);
        g_assert_cmpstr (gtk_widget_get_name (GTK_WIDGET (ask)), ==, "offer-event");
        expected_loads = recoup_window_get_n_loads (f->window) + 1;
        adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "record");
        gtk_window_destroy (ask);
        wait_for (account_loaded, f, events[i]);
        g_assert_null (recoup_window_get_last_error (f->window));
        now = recoup_offer_load (book, queued_offer, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpint (now->state, ==, states[i]);
      }
    /* An accepted offer has nothing left to record here. */
    g_assert_null (find_named (GTK_WIDGET (f->window), "offer-actions"));
    g_assert_cmpstr (recoup_window_get_last_toast (f->window), ==, "Offer accepted: its schedule is in the account");
  }
  g_clear_pointer (&queued_offer, g_free);
}

/* An open offer made on a balance that has moved since (a payment recorded
 * after it) cannot be sent or accepted: the page says why and offers only
 * Withdraw. */
static void
test_offer_stale (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  g_autofree char *offer = NULL;
  g_autofree char *payment = NULL;
  RecoupOfferSpec spec = { .account_id = id, .kind = RECOUP_OFFER_SETTLEMENT, .discount_bp = 500,
                           .pay_by = "2026-12-01" };
  RecoupEntrySpec pay = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = id, .amount = 1000,
                          .effective_date = "2026-11-24", .method = "cash" };
  GtkWidget *actions;

  offer = recoup_offer_create (book, &spec, &error);
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (account_loaded, f, "the account with its offer");
  actions = find_named (find_named (GTK_WIDGET (f->window), offer), "offer-actions");
  g_assert_nonnull (find_named (actions, "send"));

  payment = recoup_ledger_record (book, &pay, &error);
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (account_loaded, f, "the account after the payment");
  actions = find_named (find_named (GTK_WIDGET (f->window), offer), "offer-actions");
  g_assert_nonnull (actions);
  g_assert_null (find_named (actions, "send"));
  g_assert_nonnull (find_named (actions, "withdraw"));
  g_assert_nonnull (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (actions)),
                            "withdraw it and make a new offer"));
}

/* ---- preferences ------------------------------------------------------- */

static GtkWindow *prefs;
static guint expected_prefs_done;

static gboolean
prefs_loaded (Fixture *f)
{
  return recoup_book_preferences_is_loaded (ADW_PREFERENCES_WINDOW (prefs));
}

static gboolean
prefs_done (Fixture *f)
{
  return recoup_book_preferences_get_n_done (ADW_PREFERENCES_WINDOW (prefs)) >= expected_prefs_done;
}

static void
test_preferences (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupUser) user = NULL;
  g_autofree char *carla = NULL;
  GtkWidget *row, *label;
  gint64 changes;

  carla = recoup_user_add (book, "Carla", "collector", 1000, 6, FALSE, &error);
  g_assert_no_error (error);
  {
    g_autofree char *dave = recoup_user_add (book, "Dave", "bookkeeper", 1250, 6, FALSE, &error);
    g_assert_no_error (error);
  }
  prefs = recoup_preferences_new (GTK_WINDOW (f->window));
  gtk_window_present (prefs);
  wait_for (prefs_loaded, f, "the book's policy");
  changes = recoup_book_count_changes (book);

  {
    RecoupScoreSettings settings;

    /* Letters: the row and the group say what is wrong; nothing is written. */
    row = find_named (GTK_WIDGET (prefs), "weight-balance");
    label = find_named (GTK_WIDGET (prefs), "score-error");
    gtk_editable_set_text (GTK_EDITABLE (row), "lots");
    g_assert_true (gtk_widget_has_css_class (row, "error"));
    g_assert_true (gtk_widget_get_visible (label));
    g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "Amount owed");
    g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (label)), "Amount owed: a whole number"));
    g_signal_emit_by_name (row, "apply");
    for (guint i = 0; i < 50; i++)
      g_main_context_iteration (NULL, FALSE);
    g_assert_cmpint (recoup_book_count_changes (book), ==, changes);

    gtk_editable_set_text (GTK_EDITABLE (row), "55");
    g_assert_false (gtk_widget_get_visible (label));
    expected_prefs_done = recoup_book_preferences_get_n_done (ADW_PREFERENCES_WINDOW (prefs)) + 1;
    g_signal_emit_by_name (row, "apply");
    wait_for (prefs_done, f, "the new weight");
    recoup_score_settings_load (book, &settings);
    g_assert_cmpint (settings.weights[RECOUP_SCORE_BALANCE], ==, 55);
  }
  {
    RecoupGuardPolicy policy = { 0 };

    expected_prefs_done = recoup_book_preferences_get_n_done (ADW_PREFERENCES_WINDOW (prefs)) + 1;
    adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (prefs), "profile")), 1);
    wait_for (prefs_done, f, "the new profile");
    recoup_guard_policy_load (book, &policy);
    g_assert_cmpstr (policy.profile, ==, "first-party");
    recoup_guard_policy_clear (&policy);
  }

  /* Authority limits (the owner sees them): out of range refused inline. */
  row = find_named (GTK_WIDGET (prefs), "discount-Carla");
  label = find_named (GTK_WIDGET (prefs), "limits-error");
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "Carla (collector): largest discount, %");
  {
    GtkWidget *dave = find_named (GTK_WIDGET (prefs), "discount-Dave");

    gtk_editable_set_text (GTK_EDITABLE (row), "abc");
    g_assert_true (gtk_widget_get_visible (label));
    gtk_editable_set_text (GTK_EDITABLE (dave), "20");
    g_assert_true (gtk_widget_get_visible (label));
    g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (label)), "Carla, largest discount"));
    g_assert_true (gtk_widget_has_css_class (row, "error"));
    g_assert_false (gtk_widget_has_css_class (dave, "error"));
    g_assert_false (adw_entry_row_get_show_apply_button (ADW_ENTRY_ROW (row)));
    g_assert_true (adw_entry_row_get_show_apply_button (ADW_ENTRY_ROW (dave)));
    /* Dave's limit is saved; Carla's message stays. */
    expected_prefs_done = recoup_book_preferences_get_n_done (ADW_PREFERENCES_WINDOW (prefs)) + 1;
    g_signal_emit_by_name (dave, "apply");
    wait_for (prefs_done, f, "Dave's limits");
    g_assert_true (gtk_widget_get_visible (label));
    g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (label)), "Carla, largest discount"));
    gtk_editable_set_text (GTK_EDITABLE (row), "10%");
    g_assert_false (gtk_widget_has_css_class (row, "error"));
    g_assert_false (gtk_widget_get_visible (label));
    gtk_editable_set_text (GTK_EDITABLE (row), "12.5 %");
    g_assert_false (gtk_widget_has_css_class (row, "error"));
    gtk_editable_set_text (GTK_EDITABLE (row), "%");
    g_assert_true (gtk_widget_has_css_class (row, "error"));
  }
  gtk_editable_set_text (GTK_EDITABLE (row), "150");
  g_assert_true (gtk_widget_has_css_class (row, "error"));
  g_assert_true (gtk_widget_get_visible (label));
  gtk_editable_set_text (GTK_EDITABLE (row), "25");
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (prefs), "installments-Carla")), "12");
  expected_prefs_done = recoup_book_preferences_get_n_done (ADW_PREFERENCES_WINDOW (prefs)) + 1;
  g_signal_emit_by_name (row, "apply");
  wait_for (prefs_done, f, "the new limits");
  user = recoup_user_load (book, carla, &error);
  g_assert_no_error (error);
  g_assert_cmpint (user->max_discount_bp, ==, 2500);
  g_assert_cmpint (user->max_plan_installments, ==, 12);
  gtk_window_destroy (prefs);
  prefs = NULL;
}

static gboolean prefs_destroyed;

static void
prefs_destroy_cb (GtkWidget *window,
                  gpointer   data)
{
  prefs_destroyed = TRUE;
}

static gboolean
prefs_closed (Fixture *f)
{
  return prefs_destroyed;
}

static void
open_prefs (Fixture *f)
{
  prefs = recoup_preferences_new (GTK_WINDOW (f->window));
  prefs_destroyed = FALSE;
  g_signal_connect (prefs, "destroy", G_CALLBACK (prefs_destroy_cb), NULL);
  gtk_window_present (prefs);
  wait_for (prefs_loaded, f, "the book's policy");
}

/* What is typed on the Book Policy page without its Apply button is written
 * when the field is left, or when the window is closed; a wrong value is not
 * dropped without asking. */
static void
test_preferences_unapplied (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  g_autofree char *carla = recoup_user_add (book, "Carla", "collector", 1000, 6, FALSE, &error);
  g_autofree char *other = g_strdup_printf ("weight-%s", recoup_score_component_name (RECOUP_SCORE_BALANCE + 1));
  GtkWidget *row;
  GtkWindow *ask;
  gint64 changes;

  g_assert_no_error (error);
  open_prefs (f);
  {
    RecoupScoreSettings settings;

    row = find_named (GTK_WIDGET (prefs), "weight-balance");
    gtk_widget_grab_focus (row);
    gtk_editable_set_text (GTK_EDITABLE (row), "55");
    expected_prefs_done = recoup_book_preferences_get_n_done (ADW_PREFERENCES_WINDOW (prefs)) + 1;
    gtk_widget_grab_focus (find_named (GTK_WIDGET (prefs), other));
    wait_for (prefs_done, f, "the weight written on leaving its field");
    recoup_score_settings_load (book, &settings);
    g_assert_cmpint (settings.weights[RECOUP_SCORE_BALANCE], ==, 55);
  }
  {
    g_autoptr(RecoupUser) user = NULL;
    g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
    g_autofree char *path = NULL;

    gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (prefs), "installments-Carla")), "12");
    /* The General page's book location too. */
    gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (prefs), "book-path")), "/tmp/other.recoup");
    gtk_window_close (prefs);
    wait_for (prefs_closed, f, "the window closed once the limit is written");
    user = recoup_user_load (book, carla, &error);
    g_assert_no_error (error);
    g_assert_cmpint (user->max_plan_installments, ==, 12);
    path = g_settings_get_string (settings, "book-path");
    g_assert_cmpstr (path, ==, "/tmp/other.recoup");
    g_settings_reset (settings, "book-path");
  }

  /* A wrong value: closing asks; Keep Editing keeps the window and what the
   * page says; Discard closes it, writing nothing. */
  open_prefs (f);
  changes = recoup_book_count_changes (book);
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (prefs), "installments-Carla")), "a dozen");
  gtk_window_close (prefs);
  ask = find_toplevel ("policy-discard");
  g_assert_nonnull (ask);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (ask)), "Carla, longest plan"));
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "edit");
  gtk_window_destroy (ask);
  g_assert_false (prefs_destroyed);
  g_assert_true (gtk_widget_get_visible (find_named (GTK_WIDGET (prefs), "limits-error")));
  gtk_window_close (prefs);
  ask = find_toplevel ("policy-discard");
  g_assert_nonnull (ask);
  /* The question goes with the window. */
  g_object_add_weak_pointer (G_OBJECT (ask), (gpointer *) &ask);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "discard");
  g_clear_pointer (&ask, gtk_window_destroy);
  wait_for (prefs_closed, f, "the window closed without the wrong value");
  g_assert_cmpint (recoup_book_count_changes (book), ==, changes);
  prefs = NULL;
}

/* The longest plan a user may be given is core's (the offer dialog's) limit. */
static void
test_preferences_installments_cap (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  g_autofree char *carla = recoup_user_add (book, "Carla", "collector", 1000, 6, FALSE, &error);
  g_autofree char *max = g_strdup_printf ("%d", RECOUP_OFFER_MAX_INSTALLMENTS);
  g_autofree char *over = g_strdup_printf ("%d", RECOUP_OFFER_MAX_INSTALLMENTS + 1);
  g_autofree char *words = g_strdup_printf ("from 0 to %d.", RECOUP_OFFER_MAX_INSTALLMENTS);
  GtkWidget *row, *label;

  g_assert_no_error (error);
  open_prefs (f);
  row = find_named (GTK_WIDGET (prefs), "installments-Carla");
  label = find_named (GTK_WIDGET (prefs), "limits-error");
  gtk_editable_set_text (GTK_EDITABLE (row), over);
  g_assert_true (gtk_widget_has_css_class (row, "error"));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (label)), words));
  gtk_editable_set_text (GTK_EDITABLE (row), max);
  g_assert_false (gtk_widget_has_css_class (row, "error"));
  g_assert_false (gtk_widget_get_visible (label));
  gtk_window_destroy (prefs);
  prefs = NULL;
}

static guint expected_imports;

static gboolean
import_done (Fixture *f)
{
  return recoup_window_get_n_imports (f->window) >= expected_imports
         && !recoup_worklist_model_is_loading (f->model);
}

static gboolean
import_failed (Fixture *f)
{
  GtkWindow *dialog = recoup_window_get_dialog (f->window);

  return dialog != NULL && g_strcmp0 (gtk_widget_get_name (GTK_WIDGET (dialog)), "import-failed") == 0;
}

/* A good file adds its accounts to the worklist; a bad one imports nothing
 * and says which lines are wrong. */
static void
test_import (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *good = g_build_filename (g_getenv ("RECOUP_TEST_DATA"), "import", "good-comma.csv", NULL);
  g_autofree char *bad = g_build_filename (g_getenv ("RECOUP_TEST_DATA"), "import", "bad-amounts.csv", NULL);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  g_autofree char *acme = NULL;
  guint before = g_list_model_get_n_items (G_LIST_MODEL (f->model));
  gint64 changes;

  expected_imports = recoup_window_get_n_imports (f->window) + 1;
  recoup_window_import_file (f->window, good);
  wait_for (import_done, f, "the import");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->model)), >, before);
  g_assert_true (g_str_has_prefix (recoup_window_get_last_toast (f->window), "Imported "));
  acme = recoup_account_resolve (book, "C-100", &error);
  g_assert_no_error (error);
  g_assert_nonnull (acme);

  changes = recoup_book_count_changes (book);
  recoup_window_import_file (f->window, bad);
  wait_for (import_failed, f, "the import error");
  g_assert_nonnull (strstr (recoup_window_get_last_error (f->window), "bad-amounts.csv"));
  /* The dialog lists the rows by line, the file named once above them. */
  {
    GtkWidget *problems = find_named (GTK_WIDGET (recoup_window_get_dialog (f->window)), "import-problems");

    g_assert_nonnull (problems);
    g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (problems)), "Line 2, amount: "));
    g_assert_null (strstr (gtk_label_get_text (GTK_LABEL (problems)), "bad-amounts.csv"));
  }
  g_assert_cmpint (recoup_book_count_changes (book), ==, changes);
  gtk_window_destroy (recoup_window_get_dialog (f->window));

  /* A file with some good rows: the failure offers to import those, as the
   * CLI's --skip-invalid does; the others stay out. */
  {
    g_autofree char *mixed = g_build_filename (g_getenv ("RECOUP_TEST_DATA"), "import", "dup-pairs.csv", NULL);
    AdwMessageDialog *failed;

    recoup_window_import_file (f->window, mixed);
    wait_for (import_failed, f, "the mixed file's error");
    failed = ADW_MESSAGE_DIALOG (recoup_window_get_dialog (f->window));
    g_assert_true (adw_message_dialog_has_response (failed, "skip-invalid"));
    g_assert_cmpstr (adw_message_dialog_get_response_label (failed, "skip-invalid"), ==, "_Import the Other 6 Rows");
    expected_imports = recoup_window_get_n_imports (f->window) + 1;
    adw_message_dialog_response (failed, "skip-invalid");
    wait_for (import_done, f, "the valid rows");
    /* Counted as imported: the rows that were, each count with its plural. */
    g_assert_cmpstr (recoup_window_get_last_toast (f->window), ==,
                     "Imported 5 rows: 1 account created, 5 invoices created; 1 exact repeat of a row ignored; "
                     "6 rows with problems skipped");
    for (guint i = 0; i < 8; i++)
      {
        static const char * const refs[] = { "INV-2", "INV-3", "INV-4", "INV-6", "INV-10", "INV-5", "INV-9", "INV-11" };
        g_autoptr(GError) error = NULL;
        g_autofree char *inv = recoup_invoice_resolve (book, refs[i], &error);

        if (i < 5)
          g_assert_nonnull (inv);
        else
          g_assert_null (inv);
      }
  }
}

static GtkWindow *
toplevel_named (const char *name)
{
  g_autoptr(GList) list = gtk_window_list_toplevels ();

  for (GList *l = list; l != NULL; l = l->next)
    if (g_strcmp0 (gtk_widget_get_name (l->data), name) == 0)
      return l->data;
  return NULL;
}

static gboolean
dialog_gone (Fixture *f)
{
  return recoup_window_get_dialog (f->window) == NULL;
}

/* Closing a form with something typed asks first; an untouched one closes. */
static void
test_form_discard (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  GtkWindow *dialog, *ask;
  gint64 changes;
  g_autoptr(RecoupBook) book = open_check_book (f);

  changes = recoup_book_count_changes (book);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
  dialog = recoup_window_get_dialog (f->window);
  g_assert_nonnull (dialog);
  gtk_window_close (dialog);
  g_assert_null (recoup_window_get_dialog (f->window));

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
  dialog = recoup_window_get_dialog (f->window);
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount")), "12.00");
  gtk_window_close (dialog);
  g_assert_true (recoup_window_get_dialog (f->window) == dialog);   /* still open */
  ask = toplevel_named ("discard");
  g_assert_nonnull (ask);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "keep");
  g_assert_true (recoup_window_get_dialog (f->window) == dialog);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount"))), ==, "12.00");

  gtk_window_close (dialog);
  ask = toplevel_named ("discard");
  g_assert_nonnull (ask);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "discard");
  wait_for (dialog_gone, f, "the discarded form to close");
  g_assert_cmpint (recoup_book_count_changes (book), ==, changes);
}

static gboolean
search_done (Fixture *f)
{
  return !recoup_worklist_model_is_loading (f->model)
         && g_list_model_get_n_items (G_LIST_MODEL (f->model)) == 1;
}

static gboolean
full_list_loaded (Fixture *f)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (f->model));

  if (recoup_worklist_model_is_loading (f->model) || n != G_N_ELEMENTS (accounts))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RecoupAccountItem) item = g_list_model_get_item (G_LIST_MODEL (f->model), i);

      if (!recoup_account_item_get_loaded (item))
        return FALSE;
    }
  return recoup_window_get_selected_position (f->window) != GTK_INVALID_LIST_POSITION;
}

static void
test_search (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(RecoupAccountItem) item = NULL;

  recoup_worklist_model_set_search (f->model, "curie");
  wait_for (search_done, f, "a search by name");
  wait_for (item_loaded, f, "the search result");
  item = g_list_model_get_item (G_LIST_MODEL (f->model), 0);
  g_assert_cmpstr (recoup_account_item_get_name (item), ==, "Curie Chemicals");
  g_clear_object (&item);

  recoup_worklist_model_set_search (f->model, "+15555550200");
  wait_for (search_done, f, "a search by phone");
  wait_for (item_loaded, f, "the search result");
  item = g_list_model_get_item (G_LIST_MODEL (f->model), 0);
  g_assert_cmpstr (recoup_account_item_get_name (item), ==, "Babbage & Sons");
  g_clear_object (&item);

  /* The account shown keeps its highlighted row when the list reloads
   * around it (the search cleared): the row is found again as it loads. */
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_select_position (f->window, 0);
  wait_for (account_loaded, f, "Babbage's page");
  recoup_worklist_model_set_search (f->model, "");
  wait_for (full_list_loaded, f, "the whole list again");
  g_assert_cmpuint (recoup_window_get_selected_position (f->window), !=, GTK_INVALID_LIST_POSITION);
  item = g_list_model_get_item (G_LIST_MODEL (f->model), recoup_window_get_selected_position (f->window));
  g_assert_cmpstr (recoup_account_item_get_name (item), ==, "Babbage & Sons");
  g_assert_cmpstr (recoup_window_get_account_data (f->window)->account->name, ==, "Babbage & Sons");
}

static GtkWidget *
find_type (GtkWidget *widget,
           GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_type (c, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
empty_page_shown (Fixture *f)
{
  GtkWidget *page = find_named (GTK_WIDGET (f->window), "empty-page");

  return !recoup_worklist_model_is_loading (f->model)
         && g_list_model_get_n_items (G_LIST_MODEL (f->model)) == 0
         && page != NULL && gtk_widget_get_mapped (page);
}

static gboolean
phone_found (Fixture *f)
{
  g_autoptr(RecoupAccountItem) item = NULL;

  if (!search_done (f))
    return FALSE;
  item = g_list_model_get_item (G_LIST_MODEL (f->model), 0);
  return recoup_account_item_get_loaded (item)
         && g_strcmp0 (recoup_account_item_get_name (item), "Babbage & Sons") == 0;
}

/* What a collector types in the search entry: a phone number in another shape
 * than stored finds its account; a search that finds nothing says so, not
 * that the book is empty. */
static void
test_search_entry (Fixture       *f,
                   gconstpointer  data)
{
  GtkEditable *entry = GTK_EDITABLE (find_type (GTK_WIDGET (f->window), GTK_TYPE_SEARCH_ENTRY));
  AdwStatusPage *page = ADW_STATUS_PAGE (find_named (GTK_WIDGET (f->window), "empty-page"));

  g_assert_nonnull (entry);
  g_assert_nonnull (page);

  /* Stored as +15555550200. */
  gtk_editable_set_text (entry, "(555) 555-0200");
  wait_for (phone_found, f, "a search by phone number");

  gtk_editable_set_text (entry, "Zebra & Zinc");
  wait_for (empty_page_shown, f, "the empty search");
  g_assert_cmpstr (adw_status_page_get_title (page), ==, "No Matching Accounts");
  /* Markup: the search is escaped. */
  g_assert_nonnull (strstr (adw_status_page_get_description (page), "“Zebra &amp; Zinc”"));
  g_assert_null (strstr (adw_status_page_get_description (page), "no open accounts"));

  gtk_editable_set_text (entry, "");
  wait_for (list_ready, f, "the whole list again");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->model)), ==, G_N_ELEMENTS (accounts));
}

/* A day's first start: the list shows at once with the previous ranks while
 * today's are computed beside it (issue 5, items 9 and 13). */
static void
updating_notify_cb (RecoupWorklistModel *model,
                    GParamSpec          *pspec,
                    guint               *n_started)
{
  if (recoup_worklist_model_is_updating (model))
    (*n_started)++;
}

static gboolean
ranks_updated (Fixture *f)
{
  return !recoup_worklist_model_is_updating (f->model) && !recoup_worklist_model_is_loading (f->model)
         && g_list_model_get_n_items (G_LIST_MODEL (f->model)) == G_N_ELEMENTS (accounts);
}

static void
test_worklist_new_day (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  guint n_started = 0;

  book = recoup_book_open (f->path, RECOUP_BOOK_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  /* A new book's ranks were never computed whole: the first start did. */
  wait_for (ranks_updated, f, "the first ranks");
  g_assert_true (recoup_score_is_current (book));

  g_setenv ("RECOUP_TODAY", "2026-11-25", TRUE);
  g_assert_false (recoup_score_is_current (book));
  g_signal_connect (f->model, "notify::updating", G_CALLBACK (updating_notify_cb), &n_started);
  recoup_worklist_model_reload (f->model);
  wait_for (list_ready, f, "the worklist of yesterday's ranks");
  wait_for (ranks_updated, f, "today's ranks");
  g_signal_handlers_disconnect_by_func (f->model, updating_notify_cb, &n_started);
  g_assert_cmpuint (n_started, ==, 1);
  g_assert_true (recoup_score_is_current (book));
  {
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;

    /* Every row is today's. */
    g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM account_stats WHERE as_of <> '2026-11-25'",
                                         -1, &stmt, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 0);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }
  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
}

/* The row's next step for @name once the guard has answered, or NULL. */
static char *
action_text_of (Fixture    *f,
                const char *name)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (f->model)); i++)
    {
      g_autoptr(RecoupAccountItem) item = g_list_model_get_item (G_LIST_MODEL (f->model), i);
      char *text = NULL;

      if (!recoup_account_item_get_loaded (item) || g_strcmp0 (recoup_account_item_get_name (item), name) != 0)
        continue;
      g_object_get (item, "action-text", &text, NULL);
      return text;
    }
  return NULL;
}

static guint
position_of (Fixture    *f,
             const char *name)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (f->model)); i++)
    {
      g_autoptr(RecoupAccountItem) item = g_list_model_get_item (G_LIST_MODEL (f->model), i);

      if (g_strcmp0 (recoup_account_item_get_name (item), name) == 0)
        return i;
    }
  g_assert_not_reached ();
}

static gboolean
curie_step_shown (Fixture *f)
{
  g_autofree char *text = NULL;

  if (recoup_worklist_model_is_loading (f->model) || recoup_worklist_model_is_updating (f->model))
    return FALSE;
  text = action_text_of (f, "Curie Chemicals");
  return text != NULL;
}

/* The row's next step agrees with the guard: Curie Chemicals (25 days past
 * due) is due a call by policy; once the debtor asks to cease communication,
 * neither the row nor the account page tells the user to call. */
static void
test_worklist_next_step (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autofree char *text = NULL;
  g_autofree char *id = NULL;
  RecoupAccountData *d;

  wait_for (ranks_updated, f, "the first ranks");
  wait_for (curie_step_shown, f, "Curie's next step");
  text = action_text_of (f, "Curie Chemicals");
  g_assert_cmpstr (text, ==, "Next: call");
  g_clear_pointer (&text, g_free);

  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_select_position (f->window, position_of (f, "Curie Chemicals"));
  wait_for (account_loaded, f, "Curie's page");
  d = recoup_window_get_account_data (f->window);
  g_assert_nonnull (d->next_step);
  g_assert_cmpint (d->next_step->kind, ==, RECOUP_NEXT_STEP_AS_PLANNED);
  id = g_strdup (d->account->id);

  /* The debtor asks to cease communication (another device). */
  g_assert_true (recoup_account_set (book, id, "cease_communication", "yes", &error));
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (account_loaded, f, "Curie's page again");
  wait_for (list_ready, f, "the reloaded list");
  wait_for (curie_step_shown, f, "Curie's next step again");
  d = recoup_window_get_account_data (f->window);
  g_assert_cmpint (d->next_step->kind, ==, RECOUP_NEXT_STEP_NO_CONTACT);
  g_assert_cmpstr (d->next_step->block_code, ==, "cease-communication");
  text = action_text_of (f, "Curie Chemicals");
  g_assert_cmpstr (text, ==, "No contact: cease communication");
  g_clear_pointer (&text, g_free);

  /* Opted out of calls instead: a text message (the phone has consent). */
  g_assert_true (recoup_account_set (book, id, "cease_communication", "no", &error));
  g_assert_true (recoup_guard_set_channel_opt_out (book, id, "call", TRUE, &error));
  g_assert_no_error (error);
  recoup_worklist_model_reload (f->model);
  wait_for (list_ready, f, "the reloaded list");
  wait_for (curie_step_shown, f, "Curie's next step once more");
  text = action_text_of (f, "Curie Chemicals");
  g_assert_cmpstr (text, ==, "Next: text message instead of the call");
}

static gboolean
all_rows_loaded (Fixture *f)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (f->model));

  if (recoup_worklist_model_is_loading (f->model) || n != G_N_ELEMENTS (accounts))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RecoupAccountItem) item = g_list_model_get_item (G_LIST_MODEL (f->model), i);

      if (!recoup_account_item_get_loaded (item))
        return FALSE;
    }
  return TRUE;
}

/* An account whose step is to wait (a promise not yet due) comes after those
 * with work now, however fresh its delinquency, and the list reads as core's
 * worklist (what `recoup-cli worklist` prints) does, row by row. */
static void
test_worklist_work_first (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(RecoupWorklist) wl = NULL;
  g_autofree char *dirac = recoup_account_resolve (book, "A-400", &error);
  RecoupPromiseSpec promise = { .account_id = dirac, .amount = 5000, .due_date = "2026-11-30",
                                .grace_days = 0 };
  RecoupWorklistFilter filter = { .limit = 10 };
  guint n;

  g_assert_no_error (error);
  wait_for (ranks_updated, f, "the first ranks");
  g_free (recoup_promise_add (book, &promise, &error));
  g_assert_no_error (error);
  recoup_worklist_model_reload (f->model);
  wait_for (all_rows_loaded, f, "every row");

  wl = recoup_worklist_build (book, &filter, &error);
  g_assert_no_error (error);
  n = g_list_model_get_n_items (G_LIST_MODEL (f->model));
  g_assert_cmpuint (wl->items->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(RecoupAccountItem) item = g_list_model_get_item (G_LIST_MODEL (f->model), i);
      RecoupWorklistItem *it = g_ptr_array_index (wl->items, i);

      g_assert_cmpstr (recoup_account_item_get_id (item), ==, it->account_id);
      /* Dirac, four days late, is a fresh delinquency: first on rank alone. */
      g_assert_cmpint (it->waits, ==, i == n - 1);
    }
  g_assert_cmpstr (((RecoupWorklistItem *) g_ptr_array_index (wl->items, n - 1))->account_id, ==, dirac);
}

/* Shows Dirac Delivery (USD 50.00 owed) and returns its id. */
static char *
show_dirac (Fixture *f)
{
  g_autofree char *id = NULL;

  wait_for (ranks_updated, f, "the first ranks");
  wait_for (all_rows_loaded, f, "every row");
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_select_position (f->window, position_of (f, "Dirac Delivery"));
  wait_for (account_loaded, f, "Dirac's page");
  id = g_strdup (recoup_window_get_account_id (f->window));
  g_assert_cmpstr (recoup_window_get_account_data (f->window)->account->name, ==, "Dirac Delivery");
  return g_steal_pointer (&id);
}

/* Records a payment of @amount on the shown account through Record Payment,
 * past the question an overpayment asks; returns the entry's id. */
static char *
pay_through_dialog (Fixture    *f,
                    const char *amount)
{
  RecoupAccountData *d;
  GtkWindow *dialog;
  GtkWindow *ask;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
  dialog = recoup_window_get_dialog (f->window);
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "amount")), amount);
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "date")), "2026-11-20");
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (find_named (GTK_WIDGET (dialog), "save"), "clicked");
  if ((ask = find_toplevel ("confirm-payment")) != NULL)
    {
      adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "record");
      gtk_window_destroy (ask);
    }
  wait_for (account_loaded, f, "the payment");
  d = recoup_window_get_account_data (f->window);
  for (guint i = 0; i < d->ledger->len; i++)
    {
      RecoupLedgerEntry *e = g_ptr_array_index (d->ledger, i);

      if (g_strcmp0 (e->kind, "payment") == 0)
        return g_strdup (e->id);
    }
  g_assert_not_reached ();
}

/* A rank update reloads the list while the shown account is in credit (paid
 * more than it owed), so that the list of accounts that owe lacks its row.
 * Once the payment is reversed the account owes again: its row comes back
 * and is highlighted, so that it takes the page's refreshes again. */
static void
test_worklist_row_comes_back (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *id = show_dirac (f);
  g_autofree char *payment = pay_through_dialog (f, "300.00");
  GtkWindow *dialog;

  /* A new day: Reload re-ranks the book and reads the list again. */
  g_setenv ("RECOUP_TODAY", "2026-11-25", TRUE);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (list_settled, f, "today's ranks");
  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  g_assert_cmpuint (row_of (f, id), ==, GTK_INVALID_LIST_POSITION);
  g_assert_cmpuint (recoup_window_get_selected_position (f->window), ==, GTK_INVALID_LIST_POSITION);

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reverse-entry", "s", payment);
  dialog = recoup_window_get_dialog (f->window);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "reverse");
  gtk_window_destroy (dialog);
  wait_for (account_loaded, f, "the reversal");
  g_assert_cmpint (recoup_window_get_account_data (f->window)->aging.total, ==, 5000);

  shown_id = id;
  wait_for (shown_row_highlighted, f, "the account's row highlighted again");
  {
    g_autoptr(RecoupAccountItem) item = g_list_model_get_item (G_LIST_MODEL (f->model),
                                                               recoup_window_get_selected_position (f->window));
    g_autofree char *balance = NULL;

    g_object_get (item, "balance-text", &balance, NULL);
    g_assert_cmpstr (balance, ==, "USD 50.00");
  }
}

/* An account paid more than it owed reads as in credit, with the refund
 * due, not as settled; and no call is warned against (none is needed),
 * even when the debtor asked to cease communication. */
static void
test_worklist_in_credit (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = show_dirac (f);
  g_autofree char *payment = NULL;
  g_autoptr(RecoupAccountItem) item = NULL;
  g_autofree char *detail = NULL;
  gboolean blocked = TRUE;

  g_assert_true (recoup_account_set (book, id, "cease_communication", "yes", &error));
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_reload_account (f->window);
  wait_for (account_loaded, f, "Dirac's page again");
  item = g_list_model_get_item (G_LIST_MODEL (f->model), recoup_window_get_selected_position (f->window));
  g_assert_cmpstr (recoup_account_item_get_id (item), ==, id);
  g_object_get (item, "contact-blocked", &blocked, NULL);
  g_assert_true (blocked);

  payment = pay_through_dialog (f, "300.00");
  g_object_get (item, "detail-text", &detail, "contact-blocked", &blocked, NULL);
  g_assert_nonnull (strstr (detail, "in credit USD 250.00 — refund due"));
  g_assert_null (strstr (detail, "settled"));
  g_assert_false (blocked);
}

/* ---- Only the accounts callable now ------------------------------------- */

static guint callable_expected;

static gboolean
callable_counted (Fixture *f)
{
  return !recoup_worklist_model_is_loading (f->model) && !recoup_worklist_model_is_counting (f->model) &&
         g_list_model_get_n_items (G_LIST_MODEL (f->model)) == callable_expected;
}

/* The toggle beside “only accounts that owe” keeps the accounts in their
 * calling hours and not stopped from every call; with every zone closed the
 * list says when the next hours open. */
static void
test_worklist_callable_now (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now (g_time_zone_new_identifier ("America/Chicago"));
  int minute = g_date_time_get_hour (now) * 60 + g_date_time_get_minute (now);
  int start = (minute + 120) % 1440;
  g_autofree char *start_text = NULL, *end_text = NULL;
  GtkWidget *empty;

  g_assert_true (recoup_account_set (book, recoup_account_resolve (book, "A-100", NULL), "cease_communication", "yes",
                                     &error));
  g_assert_no_error (error);
  g_assert_false (g_settings_get_boolean (settings, "callable-now"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "settings.callable-now", NULL));
  g_assert_true (g_settings_get_boolean (settings, "callable-now"));
  callable_expected = 3;
  wait_for (callable_counted, f, "the accounts callable now");
  g_assert_nonnull (find_label (GTK_WIDGET (f->window), "3 accounts in calling hours"));

  /* The hours in Chicago open two hours from now, for half an hour. */
  if (start > 1380)
    start = 60;
  start_text = g_strdup_printf ("%02d:%02d", start / 60, start % 60);
  end_text = g_strdup_printf ("%02d:%02d", (start + 30) / 60, (start + 30) % 60);
  g_assert_true (recoup_guard_set_rule (book, "hours_start", start_text, &error));
  g_assert_true (recoup_guard_set_rule (book, "hours_end", end_text, &error));
  g_assert_no_error (error);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL));
  callable_expected = 0;
  wait_for (callable_counted, f, "no account callable now");
  g_assert_cmpint (recoup_worklist_model_get_hours_opens_at (f->model), >, g_get_real_time () / 1000);
  empty = find_label (GTK_WIDGET (f->window), "No Account Can Be Called Now");
  g_assert_nonnull (empty);
  g_assert_true (gtk_widget_is_drawable (empty));
  g_assert_nonnull (find_label_containing (GTK_WIDGET (f->window), "The next hours open at "));

  /* Off again: every account that owes. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "settings.callable-now", NULL));
  callable_expected = 4;
  wait_for (callable_counted, f, "every account again");
  g_assert_nonnull (find_label (GTK_WIDGET (f->window), "4 accounts"));
}

/* Tab leaves the worklist for the account shown (GTK 4.8's list view would
 * walk every row), Shift+Tab goes back to the search. */
static void
test_list_tab (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  GtkWidget *list = GTK_WIDGET (recoup_window_get_list_view (f->window));
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (list);
  GtkEventController *tab = NULL;
  GtkWidget *focus;
  gboolean handled = FALSE;

  g_assert_nonnull (id);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) c = g_list_model_get_item (controllers, i);

      if (g_strcmp0 (gtk_event_controller_get_name (c), "list-tab") == 0)
        tab = c;
    }
  g_assert_nonnull (tab);
  /* The account page laid out, as a user sees it before pressing Tab. */
  for (gint64 until = g_get_monotonic_time () + 200 * 1000; g_get_monotonic_time () < until; )
    g_main_context_iteration (NULL, FALSE);
  gtk_widget_grab_focus (list);
  g_signal_emit_by_name (tab, "key-pressed", GDK_KEY_Tab, 0, 0, &handled);
  g_assert_true (handled);
  focus = gtk_root_get_focus (GTK_ROOT (f->window));
  g_assert_nonnull (focus);
  g_assert_true (gtk_widget_is_ancestor (focus, find_named (GTK_WIDGET (f->window), "account-pane")));

  gtk_widget_grab_focus (list);
  g_signal_emit_by_name (tab, "key-pressed", GDK_KEY_ISO_Left_Tab, 0, GDK_SHIFT_MASK, &handled);
  g_assert_true (handled);
  focus = gtk_root_get_focus (GTK_ROOT (f->window));
  g_assert_true (focus == find_named (GTK_WIDGET (f->window), "search") ||
                 gtk_widget_is_ancestor (focus, find_named (GTK_WIDGET (f->window), "search")));

  /* Arrows still move from row to row. */
  g_signal_emit_by_name (tab, "key-pressed", GDK_KEY_Down, 0, 0, &handled);
  g_assert_false (handled);
}

/* Every dialog about one account says under its heading whose account it is,
 * the whole name, not cut into the window title. */
static void
test_dialog_headings (Fixture       *f,
                      gconstpointer  data)
{
  static const struct { const char *action, *heading; } dialogs[] = {
    { "win.log-contact", "Log Contact" },
    { "win.record-payment", "Record Payment" },
    { "win.make-offer", "Make an Offer" },
    { "win.open-dispute", "Open a Dispute" },
    { "win.statement", "Statement" },
    { "win.edit-account", "Edit Account" },
  };
  g_autofree char *id = pick_top (f);
  RecoupAccountData *d = recoup_window_get_account_data (f->window);

  g_assert_nonnull (id);
  for (guint i = 0; i < G_N_ELEMENTS (dialogs); i++)
    {
      g_autofree char *expected = g_strdup_printf ("%s — %s", dialogs[i].heading, d->account->name);
      GtkWindow *dialog;
      GtkWidget *title;

      /* The editor opens once the book's users are read. */
      if (g_str_equal (dialogs[i].action, "win.edit-account"))
        dialog = GTK_WINDOW (open_editor (f));
      else
        {
          gtk_widget_activate_action (GTK_WIDGET (f->window), dialogs[i].action, NULL);
          dialog = recoup_window_get_dialog (f->window);
        }
      g_assert_nonnull (dialog);
      title = find_named (GTK_WIDGET (dialog), "dialog-title");
      g_assert_true (ADW_IS_WINDOW_TITLE (title));
      g_assert_cmpstr (adw_window_title_get_title (ADW_WINDOW_TITLE (title)), ==, dialogs[i].heading);
      g_assert_cmpstr (adw_window_title_get_subtitle (ADW_WINDOW_TITLE (title)), ==, d->account->name);
      g_assert_cmpstr (gtk_widget_get_tooltip_text (title), ==, d->account->name);
      g_assert_cmpstr (gtk_window_get_title (dialog), ==, expected);
      gtk_window_destroy (dialog);
    }
}

/* The shortcuts window (Ctrl+?) lists every key the main window answers to,
 * so a shortcut added to the window without a line in the overlay fails here. */
static void
test_shortcuts_window (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GtkBuilder) builder = gtk_builder_new_from_resource ("/org/recoup/Recoup/gtk/help-overlay.ui");
  GObject *overlay = gtk_builder_get_object (builder, "help_overlay");
  g_autoptr(GArray) listed = g_array_new (FALSE, FALSE, sizeof (guint) * 2);
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (f->window));
  guint checked = 0;

  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (overlay));
  for (GtkWidget *w = GTK_WIDGET (overlay); w != NULL; )
    {
      if (GTK_IS_SHORTCUTS_SHORTCUT (w))
        {
          g_autofree char *accels = NULL;
          g_auto(GStrv) parts = NULL;

          g_object_get (w, "accelerator", &accels, NULL);
          parts = g_strsplit (accels, " ", -1);
          for (guint i = 0; parts[i] != NULL; i++)
            {
              guint key[2];

              g_assert_true (gtk_accelerator_parse (parts[i], &key[0], (GdkModifierType *) &key[1]));
              g_array_append_val (listed, key);
            }
        }
      /* depth-first walk of the overlay's widgets */
      if (gtk_widget_get_first_child (w) != NULL)
        w = gtk_widget_get_first_child (w);
      else
        {
          while (w != NULL && w != GTK_WIDGET (overlay) && gtk_widget_get_next_sibling (w) == NULL)
            w = gtk_widget_get_parent (w);
          w = (w == NULL || w == GTK_WIDGET (overlay)) ? NULL : gtk_widget_get_next_sibling (w);
        }
    }
  g_assert_cmpuint (listed->len, >=, 12);

  for (guint c = 0; c < g_list_model_get_n_items (controllers); c++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, c);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint s = 0; s < g_list_model_get_n_items (G_LIST_MODEL (controller)); s++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), s);
          GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger (shortcut);
          g_autofree char *name = NULL;
          guint keyval;
          GdkModifierType mods;
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);
          gboolean found = FALSE;

          /* Ours name a window action; GTK's own (F10 for menus) do not. */
          if (!GTK_IS_KEYVAL_TRIGGER (trigger) || !GTK_IS_NAMED_ACTION (action)
              || !g_str_has_prefix (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)), "win."))
            continue;
          keyval = gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger));
          mods = gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (trigger));
          for (guint i = 0; i < listed->len && !found; i++)
            {
              guint *key = &g_array_index (listed, guint, i * 2);

              found = key[0] == gdk_keyval_to_lower (keyval) && key[1] == mods;
            }
          name = gtk_shortcut_trigger_to_string (trigger);
          if (!found)
            g_error ("the window answers to %s, but the shortcuts window does not list it", name);
          checked++;
        }
    }
  g_assert_cmpuint (checked, >=, 11);
  gtk_window_destroy (GTK_WINDOW (overlay));
}

static gboolean
statement_written (Fixture *f)
{
  return !recoup_window_is_exporting (f->window);
}

/* A bookkeeper's statement of one account: Export Statement… offers the
 * period from the account's first entry to today, refuses a period that is
 * not one, and writes the statement the CLI writes; the ledger on the page
 * shows the same balance after each entry. */
static void
test_statement (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autofree char *path = g_build_filename (f->dir, "statement.csv", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  RecoupAccountData *shown = recoup_window_get_account_data (f->window);
  const char *first = ((RecoupLedgerEntry *) g_ptr_array_index (shown->ledger, 0))->effective_date;
  GtkWindow *dialog;
  GtkWidget *from, *to, *save, *message;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.statement", NULL);
  dialog = recoup_window_get_dialog (f->window);
  g_assert_cmpstr (gtk_widget_get_name (GTK_WIDGET (dialog)), ==, "statement");
  from = find_named (GTK_WIDGET (dialog), "from");
  to = find_named (GTK_WIDGET (dialog), "to");
  save = find_named (GTK_WIDGET (dialog), "save");
  message = find_named (GTK_WIDGET (dialog), "error");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (from)), ==, first);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (to)), ==, "2026-11-24");
  g_assert_true (gtk_widget_get_sensitive (save));

  gtk_editable_set_text (GTK_EDITABLE (from), "2026-02-30");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_get_visible (message));
  g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (message)), "From: "));
  g_assert_true (gtk_widget_has_css_class (from, "error"));
  gtk_editable_set_text (GTK_EDITABLE (from), "2026-06-01");
  gtk_editable_set_text (GTK_EDITABLE (to), "2026-05-31");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (message)), ==, "The period ends before it starts: swap the dates.");
  gtk_editable_set_text (GTK_EDITABLE (from), first);
  gtk_editable_set_text (GTK_EDITABLE (to), "2026-11-24");
  g_assert_true (gtk_widget_get_sensitive (save));
  g_assert_false (gtk_widget_get_visible (message));
  gtk_window_destroy (dialog);

  g_assert_true (recoup_window_export_statement (f->window, first, "2026-11-24", RECOUP_REPORT_CSV, path));
  g_assert_false (recoup_window_export_statement (f->window, first, "2026-11-24", RECOUP_REPORT_CSV, path));
  wait_for (statement_written, f, "the statement");
  g_assert_cmpuint (recoup_window_get_n_statements (f->window), ==, 1);
  g_assert_null (recoup_window_get_last_error (f->window));
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);
  {
    g_autofree char *row = g_strdup_printf ("\r\n%s,%s,USD,%s,charge,Invoice INV-%s,", shown->account->ref,
                                            shown->account->name, first, shown->account->ref);
    g_autofree char *money = recoup_money_format (shown->aging.total, "USD", 0);
    g_autofree char *closing = g_strdup_printf (",closing,Closing balance,,,,,%s\r\n", money);

    g_assert_cmpint (shown->aging.total, >, 0);
    g_assert_nonnull (strstr (text, row));
    g_assert_true (g_str_has_suffix (text, closing));
  }
  g_unlink (path);

  /* The page's ledger: the balance after the newest entry is the balance. */
  {
    GtkWidget *amount = find_named (GTK_WIDGET (f->window), "ledger-amount");
    GtkWidget *caption = gtk_widget_get_next_sibling (amount);

    g_autofree char *money = recoup_money_format (shown->aging.total, "USD",
                                                  RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
    g_autofree char *balance = g_strdup_printf ("balance %s", money);

    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (caption)), ==, balance);
  }

  /* A bad period from elsewhere fails with a message and writes nothing. */
  g_assert_true (recoup_window_export_statement (f->window, "2026-11-24", "2026-01-01", RECOUP_REPORT_PDF, path));
  wait_for (statement_written, f, "the refused statement");
  g_assert_nonnull (strstr (recoup_window_get_last_error (f->window), "before it starts"));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (recoup_window_get_n_statements (f->window), ==, 1);
}

static void
count_ready (const char         *path,
             RecoupReportFormat  format,
             gpointer            user_data)
{
  GPtrArray *calls = user_data;

  g_ptr_array_add (calls, g_strdup_printf ("%s %s", path, recoup_report_format_extension (format)));
}

/* The format picked decides the extension; a file the new name hits is not
 * replaced without asking (the chooser only asked about the name typed). */
static void
test_export_replace (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *typed = g_build_filename (f->dir, "aging.pdf", NULL);
  g_autofree char *other = g_build_filename (f->dir, "aging.xlsx", NULL);
  g_autoptr(GPtrArray) calls = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *expected = g_strdup_printf ("%s xlsx", other);
  GtkWindow *ask;

  struct { const char *typed; RecoupReportFormat format; const char *path; } names[] = {
    { "/d/a.pdf", RECOUP_REPORT_CSV, "/d/a.csv" },
    { "/d/a", RECOUP_REPORT_PDF, "/d/a.pdf" },
    { "/d/a.tar", RECOUP_REPORT_XLSX, "/d/a.tar.xlsx" },
    { "/d.pdf/a", RECOUP_REPORT_CSV, "/d.pdf/a.csv" },
    { "/d/a.XLSX", RECOUP_REPORT_XLSX, "/d/a.xlsx" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = recoup_export_path_for (names[i].typed, names[i].format);

      g_assert_cmpstr (path, ==, names[i].path);
    }

  /* No file by the new name: at once. */
  recoup_export_confirm_path (GTK_WINDOW (f->window), typed, RECOUP_REPORT_XLSX, count_ready,
                              g_ptr_array_ref (calls), (GDestroyNotify) g_ptr_array_unref);
  g_assert_cmpuint (calls->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (calls, 0), ==, expected);
  g_assert_null (find_toplevel ("replace-file"));

  /* There is one: asked, and Cancel writes nothing. */
  g_assert_true (g_file_set_contents (other, "last month's aging", -1, &error));
  recoup_export_confirm_path (GTK_WINDOW (f->window), typed, RECOUP_REPORT_XLSX, count_ready,
                              g_ptr_array_ref (calls), (GDestroyNotify) g_ptr_array_unref);
  ask = find_toplevel ("replace-file");
  g_assert_nonnull (ask);
  g_assert_cmpuint (calls->len, ==, 1);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "cancel");
  gtk_window_destroy (ask);   /* what a click on the button does next */
  g_assert_cmpuint (calls->len, ==, 1);
  g_assert_true (g_file_get_contents (other, &kept, NULL, &error));
  g_assert_cmpstr (kept, ==, "last month's aging");

  /* Replace goes ahead. */
  recoup_export_confirm_path (GTK_WINDOW (f->window), typed, RECOUP_REPORT_XLSX, count_ready,
                              g_ptr_array_ref (calls), (GDestroyNotify) g_ptr_array_unref);
  ask = find_toplevel ("replace-file");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "replace");
  gtk_window_destroy (ask);
  g_assert_cmpuint (calls->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (calls, 1), ==, expected);

  /* The name the chooser confirmed is not asked about twice. */
  recoup_export_confirm_path (GTK_WINDOW (f->window), other, RECOUP_REPORT_XLSX, count_ready,
                              g_ptr_array_ref (calls), (GDestroyNotify) g_ptr_array_unref);
  g_assert_cmpuint (calls->len, ==, 3);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_unlink (other);
}

/* The first mapped widget under @widget with @css_class, or NULL. */
static GtkWidget *
find_css_class (GtkWidget  *widget,
                const char *css_class)
{
  if (gtk_widget_get_mapped (widget) && gtk_widget_has_css_class (widget, css_class))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_css_class (c, css_class);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Export Statement… ends its period on the book's today (local, or
 * RECOUP_TODAY), as Record Payment dates a payment: never on the UTC date, so
 * a payment recorded today is in the statement with its defaults. */
static void
test_statement_today (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *id = NULL;
  g_autofree char *paid_on = NULL;
  GtkWindow *dialog;

  /* A day the UTC clock does not have: a morning east of Greenwich. */
  g_setenv ("RECOUP_TODAY", "2026-11-25", TRUE);
  id = pick_top (f);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
  dialog = recoup_window_get_dialog (f->window);
  paid_on = g_strdup (gtk_editable_get_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "date"))));
  gtk_window_destroy (dialog);
  g_assert_cmpstr (paid_on, ==, "2026-11-25");

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.statement", NULL);
  dialog = recoup_window_get_dialog (f->window);
  g_assert_cmpstr (gtk_widget_get_name (GTK_WIDGET (dialog)), ==, "statement");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "to"))), ==, paid_on);
  gtk_window_destroy (dialog);
  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
}

static gboolean
opt_in_asked (Fixture *f)
{
  GtkWindow *dialog = recoup_window_get_dialog (f->window);

  return dialog != NULL && g_strcmp0 (gtk_widget_get_name (GTK_WIDGET (dialog)), "opt-in") == 0;
}

static gboolean
contact_opted_out (RecoupBook *book,
                   const char *account_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) contacts = recoup_contact_list (book, account_id, &error);

  g_assert_no_error (error);
  return ((RecoupContactPoint *) g_ptr_array_index (contacts, 0))->opted_out;
}

/* Opting a contact point back in asks first, takes it only with a note of
 * the debtor's consent, and keeps that note in the account's history; Cancel
 * changes nothing. */
static void
test_opt_in_consent (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GPtrArray) acts = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cp_id = NULL;
  g_autofree char *cp_value = NULL;
  GtkWindow *dialog;
  GtkWidget *consent;

  {
    RecoupContactPoint *cp = g_ptr_array_index (recoup_window_get_account_data (f->window)->contacts, 0);

    cp_id = g_strdup (cp->id);
    cp_value = g_strdup (cp->value);
  }
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.set-opt-out", "(sb)", cp_id, TRUE);
  wait_for (account_loaded, f, "the opt-out");
  g_assert_true (contact_opted_out (book, id));
  /* The history says so, with the number or address opted out of. */
  {
    GtkWidget *group = find_named (GTK_WIDGET (f->window), "activity");
    g_autofree char *shown = g_strdup_printf ("%s · Opted out", cp_value);

    g_assert_nonnull (group);
    g_assert_nonnull (find_label_containing (group, shown));
  }

  /* Asked, and Cancel leaves the point opted out. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.set-opt-out", "(sb)", cp_id, FALSE);
  wait_for (opt_in_asked, f, "the opt-in question");
  dialog = recoup_window_get_dialog (f->window);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), cp_value));
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "opt-in"));
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  gtk_window_destroy (dialog);
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (contact_opted_out (book, id));

  /* Only with the consent noted; then the note is in the history. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.set-opt-out", "(sb)", cp_id, FALSE);
  wait_for (opt_in_asked, f, "the opt-in question again");
  dialog = recoup_window_get_dialog (f->window);
  consent = find_named (GTK_WIDGET (dialog), "consent");
  gtk_editable_set_text (GTK_EDITABLE (consent), "   ");
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "opt-in"));
  gtk_editable_set_text (GTK_EDITABLE (consent), "Ada asked by phone on 2026-11-24 ");
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "opt-in"));
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "opt-in");
  gtk_window_destroy (dialog);
  wait_for (account_loaded, f, "the opt-in");
  g_assert_false (contact_opted_out (book, id));
  acts = recoup_activity_list (book, id, 10, &error);
  g_assert_no_error (error);
  /* The opt-out is in the history too, on the same point. */
  g_assert_cmpuint (acts->len, ==, 2);
  for (guint i = 0; i < acts->len; i++)
    {
      RecoupActivity *note = g_ptr_array_index (acts, i);

      g_assert_cmpstr (note->channel, ==, "note");
      g_assert_cmpstr (note->contact, ==, cp_value);
      if (g_str_has_prefix (note->notes, "Opted back in"))
        g_assert_cmpstr (note->notes, ==, "Opted back in: Ada asked by phone on 2026-11-24");
      else
        g_assert_cmpstr (note->notes, ==, "Opted out");
    }
  g_assert_cmpstr (((RecoupActivity *) acts->pdata[0])->notes, !=, ((RecoupActivity *) acts->pdata[1])->notes);
}

static void
emit_focus_leave (GtkWidget *widget)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_FOCUS (controller))
        g_signal_emit_by_name (controller, "leave");
    }
}

/* Log Contact says nothing is wrong before the user has done anything: a
 * block is shown as information, the red message comes once they start.
 * A promise asks for the amount promised, once its field is left empty. */
static void
test_log_contact_quiet_start (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  GtkWindow *dialog;
  GtkWidget *message, *save, *promise, *amount;

  /* Allowed: turning the promise on does not call its empty amount a mistake. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  message = find_named (GTK_WIDGET (dialog), "error");
  save = find_named (GTK_WIDGET (dialog), "save");
  promise = find_named (GTK_WIDGET (dialog), "promise");
  amount = find_named (GTK_WIDGET (dialog), "amount");
  /* The time is typed in this computer's zone, and the field says which. */
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();
    g_autofree char *zone = g_date_time_format (now, "HH:MM %Z");

    g_assert_nonnull (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (find_named (GTK_WIDGET (dialog),
                                                                                              "when"))),
                              zone));
  }
  g_assert_false (gtk_widget_get_visible (message));
  adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (promise), TRUE);
  g_assert_false (gtk_widget_get_visible (message));
  g_assert_false (gtk_widget_has_css_class (amount, "error"));
  g_assert_false (gtk_widget_get_sensitive (save));
  for (int i = 0; i < 50 && !gtk_widget_get_mapped (GTK_WIDGET (dialog)); i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  emit_focus_leave (amount);
  g_assert_true (gtk_widget_get_visible (message));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (message)), ==, "Amount: enter the amount promised, e.g. 125.00.");
  g_assert_true (gtk_widget_has_css_class (amount, "error"));
  gtk_window_destroy (dialog);

  /* Blocked on every channel: the verdict says so, without red, until the
   * user starts. */
  g_assert_true (recoup_account_set (book, id, "cease_communication", "1", &error));
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (account_loaded, f, "the reloaded account");
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  message = find_named (GTK_WIDGET (dialog), "error");
  save = find_named (GTK_WIDGET (dialog), "save");
  g_assert_nonnull (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (find_named (GTK_WIDGET (dialog),
                                                                                          "verdict"))),
                            "Blocked"));
  g_assert_false (gtk_widget_get_visible (message));
  g_assert_null (find_css_class (GTK_WIDGET (dialog), "error"));
  g_assert_false (gtk_widget_get_sensitive (save));
  /* Once the user starts, what is missing is said. */
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (dialog), "override")), " ");
  g_assert_true (gtk_widget_get_visible (message));
  g_assert_nonnull (find_css_class (GTK_WIDGET (dialog), "error"));
  gtk_window_destroy (dialog);
}

/* ---- account page: guard on one-click contact, scroll, debtor's time ----- */

static void
log_call (RecoupBook *book,
          const char *account_id,
          const char *outcome,
          gint64      at_ms)
{
  RecoupActivitySpec spec = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *activity_id = NULL;

  spec.account_id = account_id;
  spec.channel = "call";
  spec.outcome = outcome;
  spec.at = at_ms;
  activity_id = recoup_activity_log (book, &spec, &error);
  g_assert_no_error (error);
}

/* The row's Call button follows the guard: a conversation an hour ago blocks
 * calls for days (recent-conversation), so one click must not dial. */
static void
test_call_button_guarded (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autofree char *id = NULL;
  RecoupGuardVerdict *call;
  RecoupGuardReason *reason = NULL;
  GtkWidget *button;
  const char *tip;

  id = pick_top (f);
  button = find_named (GTK_WIDGET (f->window), "call");
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_get_sensitive (button));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (button), ==, "Call");

  log_call (book, id, "right-party", g_get_real_time () / 1000 - 3600 * 1000);
  /* The page is read again (as after a write). Not by selecting rows: the
   * worklist may reorder meanwhile, since the call makes the account wait. */
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_reload_account (f->window);
  wait_for (account_loaded, f, "the account read again");
  g_assert_cmpstr (recoup_window_get_account_id (f->window), ==, id);

  call = recoup_account_data_get_verdict (recoup_window_get_account_data (f->window), "call");
  g_assert_cmpint (call->verdict, ==, RECOUP_VERDICT_BLOCKED);
  for (guint i = 0; i < call->reasons->len && reason == NULL; i++)
    if (((RecoupGuardReason *) g_ptr_array_index (call->reasons, i))->blocks)
      reason = g_ptr_array_index (call->reasons, i);
  g_assert_nonnull (reason);
  g_assert_cmpstr (reason->code, ==, "recent-conversation");

  button = find_named (GTK_WIDGET (f->window), "call");
  g_assert_nonnull (button);
  g_assert_false (gtk_widget_get_sensitive (button));
  tip = gtk_widget_get_tooltip_text (button);
  g_assert_nonnull (strstr (tip, "Contact blocked now"));
  g_assert_nonnull (strstr (tip, reason->text));
  /* The block lifts by itself: the tooltip says from when. */
  g_assert_cmpint (recoup_guard_verdict_lifts_at (call), >, 0);
  g_assert_nonnull (strstr (tip, "Allowed again from "));
}

static gboolean
page_scrollable (Fixture *f)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (find_named (GTK_WIDGET (f->window),
                                                                                             "account-pane")));

  return gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj) > 200;
}

/* A write reloads the same account: the page stays where the user was. */
static void
test_account_keeps_scroll (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  GtkAdjustment *adj;
  RecoupContactPoint *cp = g_ptr_array_index (recoup_window_get_account_data (f->window)->contacts, 0);

  gtk_window_set_default_size (GTK_WINDOW (f->window), 1100, 400);
  wait_for (page_scrollable, f, "a page taller than the window");
  adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (find_named (GTK_WIDGET (f->window), "account-pane")));
  gtk_adjustment_set_value (adj, 150);

  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.set-opt-out", "(sb)", cp->id, TRUE);
  wait_for (account_loaded, f, "the opt-out");
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpstr (recoup_window_get_account_id (f->window), ==, id);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, 150);

  /* Another account starts at its top. */
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_select_position (f->window, 1);
  wait_for (account_loaded, f, "another account");
  g_assert_cmpstr (recoup_window_get_account_id (f->window), !=, id);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, 0);
}

/* Activity times read in the debtor's zone (America/Chicago here, the tests
 * run with TZ=UTC), with the zone's abbreviation, like the guard's texts. */
static void
test_activity_debtor_time (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GDateTime) at = g_date_time_new_utc (2026, 11, 20, 15, 30, 0);
  g_autoptr(RecoupAccountItem) item = NULL;
  g_autofree char *id = NULL;
  GtkWidget *group;

  wait_for (item_loaded, f, "the first page");
  item = g_list_model_get_item (G_LIST_MODEL (f->model), 0);
  log_call (book, recoup_account_item_get_id (item), "no-answer", g_date_time_to_unix (at) * 1000);
  id = pick_top (f);
  group = find_named (GTK_WIDGET (f->window), "activity");
  g_assert_nonnull (group);
  /* 15:30 UTC is 09:30 in Chicago in November. */
  g_assert_nonnull (find_label_containing (group, "2026-11-20 09:30 CST"));
  g_assert_null (find_label_containing (group, "15:30"));

  /* An account without a zone of its own is read in the business's, as the
   * guard reads it: 16:30 in Berlin. */
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (recoup_guard_set_rule (book, "business_timezone", "Europe/Berlin", &error));
    g_assert_no_error (error);
    g_assert_true (recoup_account_set (book, id, "timezone", "", &error));
    g_assert_no_error (error);
  }
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_reload_account (f->window);
  wait_for (account_loaded, f, "the account without a zone");
  group = find_named (GTK_WIDGET (f->window), "activity");
  g_assert_nonnull (find_label_containing (group, "2026-11-20 16:30 CET"));
}

/* ---- accounts needing review -------------------------------------------- */

static GtkWidget *review_row;
static const char *review_account;

static gboolean
review_row_shown (Fixture *f)
{
  GtkWindow *dialog = toplevel_named ("review-list");

  review_row = dialog != NULL ? find_named (GTK_WIDGET (dialog), review_account) : NULL;
  return review_row != NULL;
}

/* The window menu lists the accounts with open review items (from
 * recoup_review_list across accounts); a row opens its account. */
static void
test_review_list (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(RecoupAccountItem) item = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *conflict = NULL;
  g_autofree char *id = NULL;

  wait_for (item_loaded, f, "the first page");
  item = g_list_model_get_item (G_LIST_MODEL (f->model), 2);
  id = g_strdup (recoup_account_item_get_id (item));
  conflict = recoup_review_add_offer_conflict (book, id, "1234", &error);
  g_assert_no_error (error);
  g_assert_null (recoup_window_get_account_id (f->window));

  review_account = id;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.review-list", NULL);
  wait_for (review_row_shown, f, "the review list");
  g_assert_true (ADW_IS_ACTION_ROW (review_row));
  g_assert_nonnull (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (review_row)),
                            recoup_account_item_get_name (item)));
  /* Only the flagged account is listed. */
  g_assert_null (gtk_widget_get_next_sibling (review_row));
  g_assert_null (gtk_widget_get_prev_sibling (review_row));

  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (review_row, "activate");
  wait_for (account_loaded, f, "the flagged account");
  g_assert_null (toplevel_named ("review-list"));
  g_assert_cmpstr (recoup_window_get_account_id (f->window), ==, id);
  g_assert_nonnull (find_named (GTK_WIDGET (f->window), "review"));
}

static gboolean
offer_withdrawn (Fixture *f)
{
  RecoupAccountData *d = recoup_window_get_account_data (f->window);

  if (!account_loaded (f) || d == NULL || d->offers == NULL)
    return FALSE;
  for (guint i = 0; i < d->offers->len; i++)
    {
      RecoupOffer *o = g_ptr_array_index (d->offers, i);

      if (g_strcmp0 (o->id, queued_offer) == 0)
        return o->state == RECOUP_OFFER_STATE_WITHDRAWN;
    }
  return FALSE;
}

/* A settlement accepted while an extension ran (its completing payment was
 * reversed afterwards) is held: its row says so and where payments go, and
 * has a Withdraw button, as the extension does; withdrawing it asks for the
 * reason, which it records (before, a held offer had no action, and core
 * refused to withdraw it). */
static void
test_withdraw_held_offer (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  g_autofree char *extension = NULL, *settlement = NULL, *payment = NULL, *reversal = NULL;
  g_autoptr(RecoupOffer) held = NULL;
  GtkWidget *row, *actions, *button, *reason;
  GtkWindow *ask;
  gint64 owed;

  g_assert_true (recoup_ledger_balance (book, id, NULL, &owed, &error));
  g_assert_no_error (error);
  {
    RecoupOfferSpec spec = { .account_id = id, .kind = RECOUP_OFFER_EXTENSION, .extend_to = "2026-12-31" };

    extension = recoup_offer_create (book, &spec, &error);
    g_assert_no_error (error);
  }
  g_assert_true (recoup_offer_transition (book, extension, RECOUP_OFFER_EVENT_SEND, NULL, &error));
  g_assert_true (recoup_offer_transition (book, extension, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_no_error (error);
  {
    RecoupEntrySpec pay = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = id, .amount = owed, .method = "cash" };
    RecoupInvoiceSpec inv = { .account_id = id, .ref = "INV-HELD", .issue_date = "2026-11-01",
                              .due_date = "2026-11-20", .amount = 10000, .currency = "USD" };
    RecoupOfferSpec spec = { .account_id = id, .kind = RECOUP_OFFER_SETTLEMENT, .amount = 10000,
                             .pay_by = "2026-12-15" };

    payment = recoup_ledger_record (book, &pay, &error);
    g_assert_no_error (error);
    g_free (recoup_invoice_add (book, &inv, &error));
    g_assert_no_error (error);
    settlement = recoup_offer_create (book, &spec, &error);
    g_assert_no_error (error);
  }
  g_assert_true (recoup_offer_transition (book, settlement, RECOUP_OFFER_EVENT_SEND, NULL, &error));
  g_assert_true (recoup_offer_transition (book, settlement, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_no_error (error);
  reversal = recoup_ledger_reverse (book, payment, NULL, "the cheque bounced", &error);
  g_assert_no_error (error);
  held = recoup_offer_load (book, settlement, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (held->held_by, ==, extension);

  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.reload", NULL);
  wait_for (account_loaded, f, "the account with a held offer");

  row = find_named (GTK_WIDGET (f->window), settlement);
  g_assert_nonnull (row);
  g_assert_true (adw_expander_row_get_expanded (ADW_EXPANDER_ROW (row)));
  g_assert_nonnull (strstr (adw_expander_row_get_subtitle (ADW_EXPANDER_ROW (row)), "held"));
  actions = find_named (row, "offer-actions");
  g_assert_nonnull (actions);
  g_assert_true (g_str_has_prefix (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (actions)),
                                   "Held: accepted offline while the Extension · "));
  button = find_named (actions, "withdraw");
  g_assert_nonnull (button);
  g_assert_null (find_named (actions, "accept"));
  g_assert_nonnull (find_named (find_named (GTK_WIDGET (f->window), extension), "withdraw"));

  /* Withdraw asks why, and records nothing without a reason. */
  g_signal_emit_by_name (button, "clicked");
  ask = find_toplevel ("offer-event");
  g_assert_nonnull (ask);
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (ask)), ==, "Withdraw the Arrangement?");
  reason = find_named (GTK_WIDGET (ask), "withdraw-reason");
  g_assert_nonnull (reason);
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (ask), "record"));
  gtk_editable_set_text (GTK_EDITABLE (reason), "the customer keeps the extension");
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (ask), "record"));
  queued_offer = settlement;
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (ask), "record");
  gtk_window_destroy (ask);
  wait_for (offer_withdrawn, f, "the withdrawn settlement");
  queued_offer = NULL;
  g_clear_pointer (&held, recoup_offer_free);
  held = recoup_offer_load (book, settlement, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (held->state, ==, RECOUP_OFFER_STATE_WITHDRAWN);
  g_assert_cmpstr (held->closing_note, ==, "the customer keeps the extension");
  g_assert_null (find_named (find_named (GTK_WIDGET (f->window), extension), "withdraw"));
}

/* ---- QA of the forms: amounts, When, promise outcomes, disputes ------- */

static const char *
error_text (GtkWindow *dialog)
{
  return gtk_label_get_text (GTK_LABEL (find_named (GTK_WIDGET (dialog), "error")));
}

/* An amount beyond what core records (QA: 1,000,000,000,000,000) is wrong
 * as it is typed, on the field, in Record Payment, Make an Offer and a
 * promise alike: no form says OK and then fails on Save. */
static void
test_amount_too_large (Fixture       *f,
                       gconstpointer  data)
{
  static const char *huge = "1,000,000,000,000,000";
  static const char * const actions[] = { "win.record-payment", "win.make-offer", "win.log-contact" };
  g_autofree char *id = pick_top (f);

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      GtkWindow *dialog;
      GtkWidget *amount, *save;

      gtk_widget_activate_action (GTK_WIDGET (f->window), actions[i], NULL);
      dialog = recoup_window_get_dialog (f->window);
      save = find_named (GTK_WIDGET (dialog), "save");
      amount = find_named (GTK_WIDGET (dialog), "amount");
      if (i == 2)
        adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (find_named (GTK_WIDGET (dialog), "promise")),
                                               TRUE);
      gtk_editable_set_text (GTK_EDITABLE (amount), huge);
      g_assert_false (gtk_widget_get_sensitive (save));
      g_assert_true (gtk_widget_has_css_class (amount, "error"));
      g_assert_nonnull (strstr (error_text (dialog), "“1,000,000,000,000,000” is too large: Recoup records at "
                                                     "most USD 10,000,000,000,000.00 as one amount"));
      gtk_window_destroy (dialog);
    }
}

/* Log Contact's When is held to the account's date floor as it is typed
 * (1970-01-01 read as “now” before); and an outcome in which nobody agreed
 * to anything switches the promise part off. */
static void
test_contact_when_floor_outcome (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  RecoupAccountData *d = recoup_window_get_account_data (f->window);
  g_autofree char *expected = g_strdup_printf ("the earliest date it can have here is %s", d->payment_date_floor);
  GtkWindow *dialog;
  GtkWidget *save, *when, *outcome, *promise;
  guint wrong = 0, agreed = 0;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.log-contact", NULL);
  dialog = recoup_window_get_dialog (f->window);
  save = find_named (GTK_WIDGET (dialog), "save");
  when = find_named (GTK_WIDGET (dialog), "when");
  outcome = find_named (GTK_WIDGET (dialog), "outcome");
  promise = find_named (GTK_WIDGET (dialog), "promise");
  gtk_switch_set_active (GTK_SWITCH (find_named (GTK_WIDGET (dialog), "inbound")), TRUE);
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "channel")), 0);
  g_assert_true (gtk_widget_get_sensitive (save));

  gtk_editable_set_text (GTK_EDITABLE (when), "1970-01-01 00:00");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (when, "error"));
  g_assert_nonnull (strstr (error_text (dialog), "When: a contact cannot be dated 1970-01-01, more than a year back"));
  g_assert_nonnull (strstr (error_text (dialog), expected));
  gtk_editable_set_text (GTK_EDITABLE (when), "");
  g_assert_true (gtk_widget_get_sensitive (save));
  g_assert_false (gtk_widget_has_css_class (when, "error"));

  /* A call: “Wrong number” and “Promise to pay” among its outcomes. */
  {
    GListModel *labels = G_LIST_MODEL (adw_combo_row_get_model (ADW_COMBO_ROW (outcome)));

    for (guint i = 0; i < g_list_model_get_n_items (labels); i++)
      {
        g_autoptr(GtkStringObject) label = g_list_model_get_item (labels, i);

        if (g_str_equal (gtk_string_object_get_string (label), recoup_label_outcome ("wrong-number")))
          wrong = i;
        if (g_str_equal (gtk_string_object_get_string (label), recoup_label_outcome ("promise")))
          agreed = i;
      }
  }
  g_assert_cmpuint (wrong, >, 0);
  g_assert_cmpuint (agreed, >, 0);
  adw_combo_row_set_selected (ADW_COMBO_ROW (outcome), agreed);
  adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (promise), TRUE);
  g_assert_true (gtk_widget_get_sensitive (promise));
  adw_combo_row_set_selected (ADW_COMBO_ROW (outcome), wrong);
  g_assert_false (adw_expander_row_get_enable_expansion (ADW_EXPANDER_ROW (promise)));
  g_assert_false (gtk_widget_get_sensitive (promise));
  g_assert_true (gtk_widget_get_sensitive (save));
  adw_combo_row_set_selected (ADW_COMBO_ROW (outcome), agreed);
  g_assert_true (gtk_widget_get_sensitive (promise));
  gtk_window_destroy (dialog);
}

/* Resolving a dispute in the app does what “dispute resolve” does: upheld,
 * the user says what becomes of the disputed amount (here written off) and
 * why, in words of their own; the invoice is no longer owed. An adjustment
 * beyond what is open, or no note, keeps Resolve disabled. */
static void
test_resolve_dispute (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupDispute) after = NULL;
  g_autofree char *dispute = NULL;
  RecoupInvoiceBalance *ib = g_ptr_array_index (recoup_window_get_account_data (f->window)->invoices, 0);
  GtkWindow *dialog;
  GtkWidget *save, *note, *remedy, *amount, *consequence;
  gint64 balance = -1;

  g_assert_cmpint (ib->balance, >, 0);
  dispute = recoup_dispute_open (book, id, ib->id, "Goods never arrived", &error);
  g_assert_no_error (error);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_reload_account (f->window);
  wait_for (account_loaded, f, "the disputed account");

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.resolve-dispute", "s", dispute);
  dialog = recoup_window_get_dialog (f->window);
  g_assert_cmpstr (gtk_widget_get_name (GTK_WIDGET (dialog)), ==, "resolve-dispute");
  save = find_named (GTK_WIDGET (dialog), "save");
  note = find_named (GTK_WIDGET (dialog), "note");
  remedy = find_named (GTK_WIDGET (dialog), "remedy");
  amount = find_named (GTK_WIDGET (dialog), "amount");
  consequence = find_named (GTK_WIDGET (dialog), "consequence");

  /* Upheld, written off: but not without a note. */
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "decision"))), ==, 0);
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (remedy)), ==, 0);
  g_assert_false (gtk_widget_get_sensitive (save));
  /* A note not yet written is no mistake: switching the choice before it
   * points at nothing, and Resolve waits. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "decision")), 1);
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (GTK_WIDGET (dialog), "decision")), 0);
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_false (gtk_widget_has_css_class (note, "error"));
  g_assert_null (strstr (error_text (dialog), "Note:"));
  /* One written and wiped out again is. */
  gtk_editable_set_text (GTK_EDITABLE (note), "Carrier");
  gtk_editable_set_text (GTK_EDITABLE (note), " ");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (note, "error"));
  g_assert_nonnull (strstr (error_text (dialog), "Note: an upheld dispute needs a note"));
  gtk_editable_set_text (GTK_EDITABLE (note), "Carrier confirmed the parcel was lost");
  g_assert_true (gtk_widget_get_sensitive (save));
  g_assert_false (gtk_widget_has_css_class (note, "error"));
  g_assert_null (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (consequence)), "resume on it"));

  /* Lowered by more than is open on the invoice: refused as typed. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (remedy), 1);
  g_assert_true (gtk_widget_get_visible (amount));
  g_assert_true (gtk_widget_get_sensitive (save));   /* the open amount, by default */
  gtk_editable_set_text (GTK_EDITABLE (amount), "999,999.00");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (amount, "error"));
  g_assert_nonnull (strstr (error_text (dialog), "open on the disputed invoice"));

  /* Leaving the balance owed says that collection resumes on it. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (remedy), 2);
  g_assert_true (gtk_widget_get_sensitive (save));
  g_assert_nonnull (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (consequence)), "resume on it"));

  adw_combo_row_set_selected (ADW_COMBO_ROW (remedy), 0);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (save, "clicked");
  wait_for (account_loaded, f, "the resolution");

  after = recoup_dispute_load (book, dispute, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (after->status, ==, "upheld");
  g_assert_cmpstr (after->resolution, ==, "Carrier confirmed the parcel was lost");
  g_assert_true (recoup_ledger_balance (book, id, NULL, &balance, &error));
  g_assert_cmpint (balance, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      /* UI tests need a display: run them as `xvfb-run -a meson test --suite ui`. */
      g_print ("1..0 # SKIP no display (use xvfb-run)\n");
      return 0;
    }
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add ("/recoup/app/worklist/order", Fixture, NULL, fixture_set_up, test_worklist_order, fixture_tear_down);
  g_test_add ("/recoup/app/worklist/new-day", Fixture, NULL, fixture_set_up, test_worklist_new_day, fixture_tear_down);
  g_test_add ("/recoup/app/worklist/next-step-guard", Fixture, NULL, fixture_set_up, test_worklist_next_step,
              fixture_tear_down);
  g_test_add ("/recoup/app/worklist/work-first", Fixture, NULL, fixture_set_up, test_worklist_work_first,
              fixture_tear_down);
  g_test_add ("/recoup/app/worklist/row-comes-back", Fixture, NULL, fixture_set_up, test_worklist_row_comes_back,
              fixture_tear_down);
  g_test_add ("/recoup/app/worklist/in-credit", Fixture, NULL, fixture_set_up, test_worklist_in_credit,
              fixture_tear_down);
  g_test_add ("/recoup/app/contact/log", Fixture, NULL, fixture_set_up, test_log_contact, fixture_tear_down);
  g_test_add ("/recoup/app/contact/when-floor-outcome", Fixture, NULL, fixture_set_up,
              test_contact_when_floor_outcome, fixture_tear_down);
  g_test_add ("/recoup/app/form/amount-too-large", Fixture, NULL, fixture_set_up, test_amount_too_large,
              fixture_tear_down);
  g_test_add ("/recoup/app/account/resolve-dispute", Fixture, NULL, fixture_set_up, test_resolve_dispute,
              fixture_tear_down);
  g_test_add ("/recoup/app/contact/enter-in-notes-saves", Fixture, NULL, fixture_set_up,
              test_log_contact_enter_saves, fixture_tear_down);
  g_test_add ("/recoup/app/account/contact-kind-words", Fixture, NULL, fixture_set_up, test_contact_kind_words,
              fixture_tear_down);
  g_test_add ("/recoup/app/contact/inbound-and-when", Fixture, NULL, fixture_set_up, test_log_contact_inbound_when,
              fixture_tear_down);
  g_test_add ("/recoup/app/payment/record-reverse", Fixture, NULL, fixture_set_up, test_payment, fixture_tear_down);
  g_test_add ("/recoup/app/payment/reverse-no-reason", Fixture, NULL, fixture_set_up, test_reverse_no_reason,
              fixture_tear_down);
  g_test_add ("/recoup/app/payment/reference-limit", Fixture, NULL, fixture_set_up, test_payment_reference_limit,
              fixture_tear_down);
  g_test_add ("/recoup/app/payment/confirm-unusual", Fixture, NULL, fixture_set_up, test_payment_confirm,
              fixture_tear_down);
  g_test_add ("/recoup/app/payment/locale-marks", Fixture, NULL, fixture_set_up, test_payment_locale_marks,
              fixture_tear_down);
  g_test_add ("/recoup/app/form/discard", Fixture, NULL, fixture_set_up, test_form_discard, fixture_tear_down);
  g_test_add ("/recoup/app/worklist/search", Fixture, NULL, fixture_set_up, test_search, fixture_tear_down);
  g_test_add ("/recoup/app/worklist/search-entry", Fixture, NULL, fixture_set_up, test_search_entry,
              fixture_tear_down);
  g_test_add ("/recoup/app/contact/guard-blocks", Fixture, NULL, fixture_set_up, test_guard_blocks, fixture_tear_down);
  g_test_add ("/recoup/app/contact/guard-blocks-collector", Fixture, "collector", fixture_set_up, test_guard_blocks,
              fixture_tear_down);
  g_test_add ("/recoup/app/contact/flag-as-core-decides", Fixture, "collector", fixture_set_up,
              test_flag_as_core_decides, fixture_tear_down);
  g_test_add ("/recoup/app/offer/limits", Fixture, "collector", fixture_set_up, test_offers, fixture_tear_down);
  g_test_add ("/recoup/app/import/csv", Fixture, NULL, fixture_set_up, test_import, fixture_tear_down);
  g_test_add ("/recoup/app/account/opt-out-dispute", Fixture, NULL, fixture_set_up, test_opt_out_and_dispute, fixture_tear_down);
  g_test_add ("/recoup/app/account/edit", Fixture, NULL, fixture_set_up, test_edit_account, fixture_tear_down);
  g_test_add ("/recoup/app/account/edit-invalid", Fixture, NULL, fixture_set_up, test_edit_account_invalid, fixture_tear_down);
  g_test_add ("/recoup/app/account/edit-compliance-date", Fixture, NULL, fixture_set_up, test_edit_compliance_date,
              fixture_tear_down);
  g_test_add ("/recoup/app/account/score-explained", Fixture, NULL, fixture_set_up, test_score_explained,
              fixture_tear_down);
  g_test_add ("/recoup/app/payment/allocation", Fixture, NULL, fixture_set_up, test_payment_allocation, fixture_tear_down);
  g_test_add ("/recoup/app/offer/approval-queue", Fixture, NULL, fixture_set_up, test_approvals, fixture_tear_down);
  g_test_add ("/recoup/app/account/statement", Fixture, NULL, fixture_set_up, test_statement, fixture_tear_down);
  g_test_add ("/recoup/app/export/replace-asks", Fixture, NULL, fixture_set_up, test_export_replace, fixture_tear_down);
  g_test_add ("/recoup/app/offer/stale", Fixture, NULL, fixture_set_up, test_offer_stale, fixture_tear_down);
  g_test_add ("/recoup/app/worklist/tab-leaves", Fixture, NULL, fixture_set_up, test_list_tab, fixture_tear_down);
  g_test_add ("/recoup/app/worklist/callable-now", Fixture, NULL, fixture_set_up, test_worklist_callable_now,
              fixture_tear_down);
  g_test_add ("/recoup/app/account/review-flag", Fixture, NULL, fixture_set_up, test_review_flag, fixture_tear_down);
  g_test_add ("/recoup/app/dialog/headings", Fixture, NULL, fixture_set_up, test_dialog_headings, fixture_tear_down);
  g_test_add ("/recoup/app/window/shortcuts", Fixture, NULL, fixture_set_up, test_shortcuts_window, fixture_tear_down);
  g_test_add ("/recoup/app/preferences/policy", Fixture, NULL, fixture_set_up, test_preferences, fixture_tear_down);
  g_test_add ("/recoup/app/preferences/policy-unapplied", Fixture, NULL, fixture_set_up, test_preferences_unapplied,
              fixture_tear_down);
  g_test_add ("/recoup/app/preferences/installments-cap", Fixture, NULL, fixture_set_up,
              test_preferences_installments_cap, fixture_tear_down);
  g_test_add ("/recoup/app/account/statement-today", Fixture, NULL, fixture_set_up, test_statement_today,
              fixture_tear_down);
  g_test_add ("/recoup/app/account/opt-in-consent", Fixture, NULL, fixture_set_up, test_opt_in_consent,
              fixture_tear_down);
  g_test_add ("/recoup/app/contact/quiet-start", Fixture, NULL, fixture_set_up, test_log_contact_quiet_start,
              fixture_tear_down);
  g_test_add ("/recoup/app/account/call-button-guarded", Fixture, NULL, fixture_set_up, test_call_button_guarded,
              fixture_tear_down);
  g_test_add ("/recoup/app/account/keeps-scroll", Fixture, NULL, fixture_set_up, test_account_keeps_scroll,
              fixture_tear_down);
  g_test_add ("/recoup/app/account/activity-debtor-time", Fixture, NULL, fixture_set_up, test_activity_debtor_time,
              fixture_tear_down);
  g_test_add ("/recoup/app/window/review-list", Fixture, NULL, fixture_set_up, test_review_list, fixture_tear_down);
  g_test_add ("/recoup/app/account/withdraw-held-offer", Fixture, NULL, fixture_set_up, test_withdraw_held_offer,
              fixture_tear_down);
  return g_test_run ();
}
