/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-test-app-worklist"

#include "config.h"


#include "recoup-window.h"
#include "recoup-window-private.h"
#include "recoup-guard.h"
#include "recoup-test-util.h"
#include "recoup-test-ui.h"

/*
 * UI tests of the worklist's header and of the account page: the real window
 * under Xvfb, driven through its model, actions and widgets; what changed is
 * asserted in the book through a separate connection.
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
};

static void
wait_for (gboolean  (*cond) (Fixture *),
          Fixture    *f,
          const char *what)
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

/* Runs the main loop for @ms, so that what was left to happen happens. */
static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
list_ready (Fixture *f)
{
  return !recoup_worklist_model_is_loading (f->model) && g_list_model_get_n_items (G_LIST_MODEL (f->model)) > 0;
}

static gboolean
list_read (Fixture *f)
{
  return !recoup_worklist_model_is_loading (f->model);
}

static gboolean
list_counted (Fixture *f)
{
  return !recoup_worklist_model_is_loading (f->model) && !recoup_worklist_model_is_counting (f->model);
}

/* The button under @widget labelled @label (with its mnemonic). */
static GtkWidget *
find_button (GtkWidget  *widget,
             const char *label)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_button (c, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The subtitle of the row titled @title under @widget. */
static const char *
row_subtitle (GtkWidget  *widget,
              const char *title)
{
  if (ADW_IS_ACTION_ROW (widget) &&
      g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0)
    return adw_action_row_get_subtitle (ADW_ACTION_ROW (widget));
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      const char *found = row_subtitle (c, title);

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

  f->dir = g_dir_make_tmp ("recoup-app-worklist-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "test.recoup", NULL);

  book = recoup_book_open (f->path, RECOUP_BOOK_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  /* Tests run at any hour: the lawful hours are the whole day here. */
  g_assert_true (recoup_guard_set_profile (book, "custom", &error));
  g_assert_true (recoup_guard_set_rule (book, "hours_start", "00:00", &error));
  g_assert_true (recoup_book_set_setting (book, "guard.hours_end", "1440", &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (accounts); i++)
    {
      RecoupAccountSpec spec = { .ref = accounts[i].ref, .name = accounts[i].name, .currency = "USD",
                                 .timezone = "America/Chicago" };
      g_autofree char *id = recoup_account_create (book, &spec, &error);
      g_autofree char *inv_ref = g_strdup_printf ("INV-%s", accounts[i].ref);

      g_assert_no_error (error);
      g_free (test_add_invoice (book, id, inv_ref, "2026-05-01", accounts[i].due, accounts[i].amount, "USD"));
      g_free (recoup_contact_add (book, id, RECOUP_CONTACT_PHONE, accounts[i].phone, "mobile", TRUE, &error));
      g_assert_no_error (error);
    }
  g_clear_object (&book);

  session = recoup_session_new (f->path, &error);
  g_assert_no_error (error);
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
  gtk_window_destroy (GTK_WINDOW (f->window));
  g_clear_object (&f->model);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  test_remove_tree (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static RecoupBook *
open_check_book (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  RecoupBook *book = recoup_book_open (f->path, RECOUP_BOOK_OPEN_NO_CREATE, &error);

  g_assert_no_error (error);
  return book;
}

static guint expected_loads;

static gboolean
account_loaded (Fixture *f)
{
  return recoup_window_get_n_loads (f->window) >= expected_loads && recoup_window_get_dialog (f->window) == NULL;
}

static gboolean
top_loaded (Fixture *f)
{
  return recoup_worklist_model_is_position_loaded (f->model, 0);
}

/* Picks the top row and waits for its account page. */
static char *
pick_top (Fixture *f)
{
  g_autoptr(RecoupAccountItem) item = NULL;

  wait_for (top_loaded, f, "the first page");
  item = g_list_model_get_item (G_LIST_MODEL (f->model), 0);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_select_position (f->window, 0);
  wait_for (account_loaded, f, "the account page");
  return g_strdup (recoup_account_item_get_id (item));
}

/* ---- the worklist's header ---------------------------------------------- */

/* A search replaced after a pause passes through an empty one (the entry
 * clears before it takes the new text), whose list is counted after its
 * first page; the search after it is counted already. The header says how
 * many accounts match, not "Counting accounts…" for good. */
static void
test_header_after_search (Fixture       *f,
                          gconstpointer  data)
{
  const char *subtitle;

  recoup_worklist_model_set_search (f->model, "Ada");
  wait_for (list_counted, f, "the first search");
  recoup_worklist_model_set_search (f->model, "");
  /* The empty search's list is read, its count not begun. */
  wait_for (list_read, f, "the list without a search");
  g_assert_true (recoup_worklist_model_is_counting (f->model));
  recoup_worklist_model_set_search (f->model, "Babbage");
  wait_for (list_counted, f, "the second search");
  spin (300);
  subtitle = adw_window_title_get_subtitle (f->window->list_title);
  g_assert_cmpstr (subtitle, ==, "1 account");
}

static gboolean
shows_empty_page (Fixture *f)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (f->window->list_stack), "empty") == 0;
}

static gboolean
shows_search_help (Fixture *f)
{
  const char *description = adw_status_page_get_description (f->window->empty_page);

  return shows_empty_page (f) && description != NULL && g_str_has_prefix (description, "No account matches");
}

/* A search that finds nothing under a filter (the accounts that owe, the
 * default) says which accounts the list leaves out, with a button that
 * searches them all while the search lasts; one that finds nothing in every
 * account says what a search finds, as the search entry's placeholder does:
 * invoice numbers too. */
static void
test_no_match_help (Fixture       *f,
                    gconstpointer  data)
{
  const char *description;

  g_assert_true (g_settings_get_boolean (f->window->settings, "open-only"));
  gtk_editable_set_text (GTK_EDITABLE (f->window->search_entry), "Zyzzyva");
  wait_for (shows_empty_page, f, "the search that finds nothing");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->model)), ==, 0);
  g_assert_cmpstr (adw_status_page_get_title (f->window->empty_page), ==, "No Matching Accounts");
  g_assert_cmpstr (adw_status_page_get_description (f->window->empty_page), ==,
                   "No account that owes matches “Zyzzyva”. Settled accounts and accounts in credit are left "
                   "out of this list.");
  g_assert_true (gtk_widget_get_visible (f->window->search_all_button));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.search-all", NULL));
  g_assert_false (g_settings_get_boolean (f->window->settings, "open-only"));
  g_assert_false (g_settings_get_boolean (f->window->settings, "callable-now"));
  wait_for (shows_search_help, f, "the same search over every account");
  description = adw_status_page_get_description (f->window->empty_page);
  g_assert_cmpstr (description, ==, "No account matches “Zyzzyva”. Search for the start of a name or of a word "
                                    "in it, a reference, an invoice or receipt number, an e-mail address or a "
                                    "phone number.");
  g_assert_false (gtk_widget_get_visible (f->window->search_all_button));
  /* Only for that search: cleared, the list is the accounts that owe again. */
  gtk_editable_set_text (GTK_EDITABLE (f->window->search_entry), "");
  g_assert_true (g_settings_get_boolean (f->window->settings, "open-only"));
  g_assert_false (g_settings_get_boolean (f->window->settings, "callable-now"));

  /* Under "callable now", the search says so. */
  g_settings_set_boolean (f->window->settings, "callable-now", TRUE);
  gtk_editable_set_text (GTK_EDITABLE (f->window->search_entry), "Zyzzyvb");
  wait_for (shows_empty_page, f, "the search under callable now");
  spin (100);
  g_assert_true (g_str_has_prefix (adw_status_page_get_description (f->window->empty_page),
                                   "No account that may be called now matches “Zyzzyvb”."));
  g_assert_true (gtk_widget_get_visible (f->window->search_all_button));
  g_settings_set_boolean (f->window->settings, "callable-now", FALSE);
  g_settings_set_boolean (f->window->settings, "open-only", TRUE);
}

/* A list no view draws (no page is read) is counted all the same. */
static void
test_count_without_view (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupWorklistModel) model = recoup_worklist_model_new (f->path, &error);

  g_assert_no_error (error);
  recoup_worklist_model_reload (model);
  {
    gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

    while (recoup_worklist_model_is_loading (model) || recoup_worklist_model_is_counting (model))
      {
        if (g_get_monotonic_time () > deadline)
          g_error ("timed out waiting for the count of a list no view draws");
        g_main_context_iteration (NULL, FALSE);
        g_usleep (1000);
      }
  }
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, G_N_ELEMENTS (accounts));
  g_assert_cmpuint (recoup_worklist_model_get_pages_loaded (model), ==, 0);
}

/* ---- the account page ---------------------------------------------------- */

static gboolean
opted_out (Fixture    *f,
           const char *account_id)
{
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) contacts = recoup_contact_list (book, account_id, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (contacts->len, ==, 1);
  return ((RecoupContactPoint *) g_ptr_array_index (contacts, 0))->opted_out;
}

/* Opting out is one click; its toast's Undo opts the contact point back in
 * at once, without the consent an opt-in asks for, and the history says it
 * was undone. */
static void
test_opt_out_undo (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  RecoupAccountData *d = recoup_window_get_account_data (f->window);
  g_autofree char *contact_id = g_strdup (((RecoupContactPoint *) g_ptr_array_index (d->contacts, 0))->id);
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GPtrArray) acts = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *undo;
  gboolean noted = FALSE;

  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.set-opt-out", "(sb)", contact_id, TRUE);
  wait_for (account_loaded, f, "the account after the opt-out");
  g_assert_true (opted_out (f, id));
  g_assert_cmpstr (recoup_window_get_last_toast (f->window), ==, "Contact point opted out");

  undo = find_button (GTK_WIDGET (f->window), "_Undo");
  g_assert_nonnull (undo);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (undo, "clicked");
  wait_for (account_loaded, f, "the account after the undo");
  g_assert_null (recoup_window_get_dialog (f->window));
  g_assert_false (opted_out (f, id));
  g_assert_cmpstr (recoup_window_get_last_toast (f->window), ==, "Opt-out undone");

  book = open_check_book (f);
  acts = recoup_activity_list (book, id, 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < acts->len; i++)
    {
      RecoupActivity *act = g_ptr_array_index (acts, i);

      if (g_strcmp0 (act->notes, "Opted back in: undone right after a mistaken opt-out") == 0)
        noted = TRUE;
    }
  g_assert_true (noted);
}

static gboolean
editor_open (Fixture *f)
{
  GtkWindow *dialog = recoup_window_get_dialog (f->window);

  return dialog != NULL && g_strcmp0 (gtk_widget_get_name (GTK_WIDGET (dialog)), "edit-account") == 0;
}

/* The Collector list holds the users who can hold accounts, not the
 * bookkeeper; core refuses to assign one. */
static void
test_collectors_only (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *id = NULL;
  g_autofree char *carla = NULL;
  g_autofree char *dave = NULL;
  g_autoptr(GError) error = NULL;
  GListModel *names;
  GtkWidget *dialog;

  {
    g_autoptr(RecoupBook) book = open_check_book (f);

    carla = recoup_user_add (book, "Carla", "collector", 1000, 6, FALSE, &error);
    g_assert_no_error (error);
    dave = recoup_user_add (book, "Dave", "bookkeeper", 0, 0, FALSE, &error);
    g_assert_no_error (error);
  }
  id = pick_top (f);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.edit-account", NULL);
  wait_for (editor_open, f, "the account editor");
  dialog = GTK_WIDGET (recoup_window_get_dialog (f->window));
  names = adw_combo_row_get_model (ADW_COMBO_ROW (find_named (dialog, "assigned")));
  /* Nobody, the owner who made the book, Carla. */
  g_assert_cmpuint (g_list_model_get_n_items (names), ==, 3);
  for (guint i = 0; i < g_list_model_get_n_items (names); i++)
    {
      g_autoptr(GtkStringObject) name = g_list_model_get_item (names, i);

      g_assert_cmpstr (gtk_string_object_get_string (name), !=, "Dave");
    }
  {
    g_autoptr(GtkStringObject) last = g_list_model_get_item (names, 2);

    g_assert_cmpstr (gtk_string_object_get_string (last), ==, "Carla");
  }
  gtk_window_destroy (GTK_WINDOW (dialog));

  {
    g_autoptr(RecoupBook) book = open_check_book (f);
    RecoupAccountSpec spec = { .ref = "A-900", .name = "Dirac Delivery", .currency = "USD", .assigned_to = "Dave" };
    g_autofree char *made = NULL;

    g_assert_false (recoup_account_set (book, id, "assigned_to", "Dave", &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_assert_cmpstr (error->message, ==, "Dave is a bookkeeper and cannot be assigned accounts: "
                                         "assign a collector or an owner");
    g_clear_error (&error);
    made = recoup_account_create (book, &spec, &error);
    g_assert_null (made);
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_true (recoup_account_set (book, id, "assigned_to", "Carla", &error));
    g_assert_no_error (error);
  }
}

/* The Disputes row says when the dispute was opened as Activity says when:
 * at the debtor's local time, with the zone's abbreviation. */
static void
test_dispute_time_zone (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autoptr(GError) error = NULL;
  g_autofree char *dispute_id = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GTimeZone) chicago = g_time_zone_new_identifier ("America/Chicago");
  g_autoptr(GPtrArray) disputes = NULL;
  RecoupDispute *dispute;
  const char *subtitle;

  {
    g_autoptr(RecoupBook) book = open_check_book (f);

    dispute_id = recoup_dispute_open (book, id, NULL, "never ordered", &error);
    g_assert_no_error (error);
    disputes = recoup_dispute_list (book, id, &error);
    g_assert_no_error (error);
  }
  dispute = g_ptr_array_index (disputes, 0);
  {
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (dispute->opened_at / 1000);
    g_autoptr(GDateTime) there = g_date_time_to_timezone (utc, chicago);

    expected = g_date_time_format (there, "%Y-%m-%d %H:%M %Z");
  }
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_reload_account (f->window);
  wait_for (account_loaded, f, "the account with its dispute");
  subtitle = row_subtitle (GTK_WIDGET (f->window), "never ordered");
  g_assert_nonnull (subtitle);
  g_assert_true (g_str_has_prefix (subtitle, expected));
}

static GtkWidget *
find_numeric_label (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_has_css_class (widget, "numeric"))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_numeric_label (c);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* What a payment takes off an invoice is written as the ledger writes the
 * payment: the locale's money format of the negative amount. */
static void
test_allocation_minus (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  g_autofree char *invoice = g_strdup_printf ("INV-%s", recoup_window_get_account_data (f->window)->account->ref);
  GtkWidget *dialog, *allocation;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
  dialog = GTK_WIDGET (recoup_window_get_dialog (f->window));
  gtk_editable_set_text (GTK_EDITABLE (find_named (dialog, "amount")), "30.00");
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (find_named (dialog, "save"), "clicked");
  wait_for (account_loaded, f, "the recorded payment");

  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (find_named (GTK_WIDGET (f->window), "ledger-amount"))), ==,
                   "USD -30.00");
  allocation = find_named (GTK_WIDGET (f->window), "allocation");
  g_assert_nonnull (allocation);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (find_numeric_label (find_named (allocation, invoice)))), ==,
                   "USD -30.00");
}

/* ---- the offer form ------------------------------------------------------ */

/* A settlement paid more than a year ahead is refused as it is typed, on the
 * date, with the latest pay-by date core allows; a date within it is taken. */
static void
test_offer_pay_by_cap (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *id = pick_top (f);
  GtkWidget *dialog, *date, *save;
  const char *shown;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.make-offer", NULL);
  dialog = GTK_WIDGET (recoup_window_get_dialog (f->window));
  g_assert_cmpstr (gtk_widget_get_name (dialog), ==, "make-offer");
  save = find_named (dialog, "save");
  date = find_named (dialog, "date");
  adw_combo_row_set_selected (ADW_COMBO_ROW (find_named (dialog, "kind")), 0);
  gtk_editable_set_text (GTK_EDITABLE (find_named (dialog, "discount")), "5");
  gtk_editable_set_text (GTK_EDITABLE (date), "2030-01-01");
  g_assert_false (gtk_widget_get_sensitive (save));
  g_assert_true (gtk_widget_has_css_class (date, "error"));
  shown = gtk_label_get_text (GTK_LABEL (find_named (dialog, "error")));
  g_assert_nonnull (strstr (shown, "pay-by date 2030-01-01 is more than a year after today (2026-11-24): "
                                   "give a date by 2027-11-24"));

  gtk_editable_set_text (GTK_EDITABLE (date), "2027-11-24");
  g_assert_true (gtk_widget_get_sensitive (save));
  g_assert_false (gtk_widget_has_css_class (date, "error"));
  gtk_window_destroy (GTK_WINDOW (dialog));
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

  g_test_add ("/recoup/app/worklist/header-after-search", Fixture, NULL, fixture_set_up, test_header_after_search,
              fixture_tear_down);
  g_test_add ("/recoup/app/worklist/no-match-help", Fixture, NULL, fixture_set_up, test_no_match_help,
              fixture_tear_down);
  g_test_add ("/recoup/app/worklist/count-without-view", Fixture, NULL, fixture_set_up, test_count_without_view,
              fixture_tear_down);
  g_test_add ("/recoup/app/account/opt-out-undo", Fixture, NULL, fixture_set_up, test_opt_out_undo,
              fixture_tear_down);
  g_test_add ("/recoup/app/account/collectors-only", Fixture, NULL, fixture_set_up, test_collectors_only,
              fixture_tear_down);
  g_test_add ("/recoup/app/account/dispute-time-zone", Fixture, NULL, fixture_set_up, test_dispute_time_zone,
              fixture_tear_down);
  g_test_add ("/recoup/app/account/allocation-minus", Fixture, NULL, fixture_set_up, test_allocation_minus,
              fixture_tear_down);
  g_test_add ("/recoup/app/offer/pay-by-cap", Fixture, NULL, fixture_set_up, test_offer_pay_by_cap,
              fixture_tear_down);
  return g_test_run ();
}
