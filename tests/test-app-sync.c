/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-test-app-sync"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "recoup-application.h"
#include "recoup-book-preferences.h"
#include "recoup-book-private.h"
#include "recoup-id.h"
#include "recoup-preferences.h"
#include "recoup-test-util.h"
#include "recoup-test-ui.h"
#include "recoup-sync.h"
#include "recoup-sync-indicator.h"
#include "recoup-sync-status.h"
#include "recoup-window.h"

/*
 * Sync in the app, end to end: a real recoupd ($RECOUPD) over HTTPS with a
 * self-signed certificate on 127.0.0.1; the real window under Xvfb is
 * connected through Preferences ▸ Sync with an enrollment code, a payment is
 * recorded in the app, win.sync sends it, and the server's book has it.
 */

typedef struct
{
  char                *dir;
  char                *config;
  char                *cert;
  char                *key;
  char                *data_dir;
  char                *fingerprint;
  char                *org;
  GSubprocess         *server;
  guint                port;
  char                *path;
  RecoupWindow        *window;
  RecoupWorklistModel *model;
} Fixture;

static char *
admin (Fixture    *f,
       const char *first,
       ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  int status = 0;
  va_list args;

  g_ptr_array_add (argv, (char *) g_getenv ("RECOUPD"));
  g_ptr_array_add (argv, (char *) "--config");
  g_ptr_array_add (argv, f->config);
  g_ptr_array_add (argv, (char *) "admin");
  va_start (args, first);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("recoupd admin %s failed: %s", first, err);
  return g_strstrip (out);
}

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
start_server (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GDataInputStream) lines = NULL;
  g_autofree char *line = NULL;
  const char *prefix = "recoupd: listening on port ";

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  f->server = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("RECOUPD"), "--config", f->config,
                                           "--port", "0", NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->server));
  line = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (line != NULL && g_str_has_prefix (line, prefix));
  f->port = (guint) g_ascii_strtoull (line + strlen (prefix), NULL, 10);
  g_assert_cmpuint (f->port, >, 0);
}

static void
make_server (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *owner = NULL;

  f->fingerprint = test_make_certificate (f->key, f->cert);

  conf = g_strdup_printf ("[server]\nlisten=127.0.0.1\nport=0\ncert=%s\nkey=%s\ndata-dir=%s\n",
                          f->cert, f->key, f->data_dir);
  g_assert_true (g_file_set_contents (f->config, conf, -1, &error));
  g_assert_no_error (error);
  f->org = admin (f, "create-org", "Acme Collections", NULL);
  owner = admin (f, "add-user", "Acme Collections", "olive", "--role", "owner", NULL);
  start_server (f);
}

static void
wait_for (gboolean (*cond) (Fixture *), Fixture *f, const char *what)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (!cond (f))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for %s", what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* RECOUP_SHOT_DIR=DIR saves what the user sees at each step as PNG files
 * (for looking at the screens; the test asserts nothing about pixels). */
static void
shot (GtkWidget  *widget,
      const char *name)
{
  const char *dir = g_getenv ("RECOUP_SHOT_DIR");
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int width, height;

  if (dir == NULL)
    return;
  for (guint i = 0; i < 20; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_test_message ("nothing drawn for %s (%dx%d)", name, width, height);
      return;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  file = g_strconcat (name, ".png", NULL);
  path = g_build_filename (dir, file, NULL);
  gdk_texture_save_to_png (texture, path);
}

static gboolean
list_ready (Fixture *f)
{
  return !recoup_worklist_model_is_loading (f->model) && g_list_model_get_n_items (G_LIST_MODEL (f->model)) > 0;
}

static gboolean
list_loaded (Fixture *f)
{
  return !recoup_worklist_model_is_loading (f->model);
}

static RecoupSyncStatus *
status_of (Fixture *f)
{
  return recoup_sync_status_get_for_window (GTK_WINDOW (f->window));
}

#define EMPTY_BOOK ((gconstpointer) "empty")

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(RecoupSession) session = NULL;
  RecoupAccountSpec spec = { .ref = "A-100", .name = "Ada Lovelace Ltd", .currency = "USD",
                             .timezone = "America/Chicago" };
  RecoupInvoiceSpec inv = { .ref = "INV-1", .issue_date = "2026-05-01", .due_date = "2026-06-01",
                            .amount = 250000, .currency = "USD" };
  g_autofree char *id = NULL;
  g_autofree char *invoice = NULL;

  f->dir = g_dir_make_tmp ("recoup-app-sync-XXXXXX", &error);
  g_assert_no_error (error);
  f->config = g_build_filename (f->dir, "recoupd.conf", NULL);
  f->cert = g_build_filename (f->dir, "cert.pem", NULL);
  f->key = g_build_filename (f->dir, "key.pem", NULL);
  f->data_dir = g_build_filename (f->dir, "server", NULL);
  f->path = g_build_filename (f->dir, "laptop.recoup", NULL);
  make_server (f);

  /* A book with work of its own before it is ever connected, unless the
   * test asks for a new book nobody has touched (@data: EMPTY_BOOK). */
  book = recoup_book_open (f->path, RECOUP_BOOK_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  if (data != EMPTY_BOOK)
    {
      id = recoup_account_create (book, &spec, &error);
      g_assert_no_error (error);
      inv.account_id = id;
      invoice = recoup_invoice_add (book, &inv, &error);
      g_assert_no_error (error);
    }
  g_clear_object (&book);

  session = recoup_session_new (f->path, &error);
  g_assert_no_error (error);
  f->model = recoup_worklist_model_new (f->path, &error);
  g_assert_no_error (error);
  f->window = recoup_window_new (NULL, session, f->model);
  gtk_window_present (GTK_WINDOW (f->window));
  wait_for (data != EMPTY_BOOK ? list_ready : list_loaded, f, "the worklist");
}


static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  g_clear_object (&f->model);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (f->server != NULL)
    {
      g_subprocess_send_signal (f->server, SIGTERM);
      g_subprocess_wait (f->server, NULL, NULL);
      g_clear_object (&f->server);
    }
  test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->config);
  g_free (f->cert);
  g_free (f->key);
  g_free (f->data_dir);
  g_free (f->fingerprint);
  g_free (f->org);
  g_free (f->path);
}

static guint expected_runs;
static guint expected_loads;

static gboolean
enrolled_and_synced (Fixture *f)
{
  return recoup_sync_status_is_enrolled (status_of (f))
         && recoup_sync_status_get_n_runs (status_of (f)) >= expected_runs
         && recoup_sync_status_get_state (status_of (f)) != RECOUP_SYNC_STATE_SYNCING;
}

static gboolean
pending_shown (Fixture *f)
{
  return recoup_sync_status_get_state (status_of (f)) == RECOUP_SYNC_STATE_PENDING
         && recoup_sync_status_get_n_pending (status_of (f)) > 0;
}

static gboolean
account_loaded (Fixture *f)
{
  return recoup_window_get_n_loads (f->window) >= expected_loads && recoup_window_get_dialog (f->window) == NULL;
}

static gint64
server_count (Fixture    *f,
              const char *sql_format,
              const char *arg)
{
  g_autofree char *file = g_strdup_printf ("%s.recoup", f->org);
  g_autofree char *path = g_build_filename (f->data_dir, "orgs", file, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = recoup_book_open (path, RECOUP_BOOK_OPEN_READ_ONLY, &error);
  g_autofree char *sql = g_strdup_printf (sql_format, arg);
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

static const char *
indicator_text (Fixture *f)
{
  GtkWidget *indicator = find_named (GTK_WIDGET (f->window), "sync-indicator");

  g_assert_nonnull (indicator);
  g_assert_true (gtk_widget_get_visible (indicator));
  return gtk_widget_get_tooltip_text (indicator);
}

static gboolean
review_listed (Fixture *f)
{
  JsonArray *review = recoup_sync_status_get_review (status_of (f));

  return review != NULL && json_array_get_length (review) == 1;
}

static void
append_text (GtkWidget *widget,
             GString   *out)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget))
    g_string_append_printf (out, "%s\n", gtk_label_get_text (GTK_LABEL (widget)));
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    append_text (c, out);
}

/* Every visible label under @widget, one a line. */
static char *
collect_text (GtkWidget *widget)
{
  GString *out = g_string_new (NULL);

  append_text (widget, out);
  return g_string_free (out, FALSE);
}

/* Finds the window's shortcut for @accel and activates it as GTK would. */
static gboolean
press_shortcut (Fixture    *f,
                const char *accel)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (f->window));
  g_autoptr(GtkShortcutTrigger) wanted = gtk_shortcut_trigger_parse_string (accel);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);

          if (gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (shortcut), wanted))
            return gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut), 0,
                                                 GTK_WIDGET (f->window), NULL);
        }
    }
  return FALSE;
}

static void
test_enroll_and_sync (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", f->port);
  g_autofree char *code = admin (f, "--url", url, "enroll", f->org, "olive", NULL);
  g_autofree char *shown_fp = recoup_sync_format_fingerprint (f->fingerprint);
  g_autoptr(RecoupAccountItem) item = NULL;
  GtkWindow *prefs;
  GtkWidget *entry, *server, *fingerprint, *connect, *error_label, *dialog_w;
  GtkWindow *dialog;
  const char *payment_id = NULL;
  RecoupAccountData *d;
  g_autoptr(GError) error = NULL;

  /* Not connected: no indicator; win.sync only says so. */
  g_assert_false (recoup_sync_status_is_enrolled (status_of (f)));
  g_assert_false (gtk_widget_get_visible (find_named (GTK_WIDGET (f->window), "sync-indicator")));

  /* Preferences ▸ Sync: a bad code is refused inline, nothing is sent. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.connect-server", NULL);
  prefs = recoup_window_get_dialog (f->window);
  g_assert_true (ADW_IS_PREFERENCES_WINDOW (prefs));
  entry = find_named (GTK_WIDGET (prefs), "enroll-code");
  server = find_named (GTK_WIDGET (prefs), "enroll-server");
  fingerprint = find_named (GTK_WIDGET (prefs), "enroll-fingerprint");
  connect = find_named (GTK_WIDGET (prefs), "enroll-connect");
  error_label = find_named (GTK_WIDGET (prefs), "enroll-error");
  g_assert_nonnull (entry);
  g_assert_false (gtk_widget_get_sensitive (connect));
  gtk_editable_set_text (GTK_EDITABLE (entry), "not-a-code!");
  g_assert_true (gtk_widget_get_visible (error_label));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)), "enrollment code"));
  g_assert_false (gtk_widget_get_sensitive (connect));
  g_assert_false (gtk_widget_get_mapped (fingerprint));
  shot (GTK_WIDGET (prefs), "sync-bad-code");

  /* The real code: the server and its fingerprint show before connecting. */
  gtk_editable_set_text (GTK_EDITABLE (entry), code);
  g_assert_false (gtk_widget_get_visible (error_label));
  g_assert_true (gtk_widget_get_sensitive (connect));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (server)), ==, url);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (fingerprint)), ==, shown_fp);
  shot (GTK_WIDGET (prefs), "sync-check-code");

  /* Connect: enrollment and the first sync run in the background. */
  expected_runs = 1;
  g_signal_emit_by_name (connect, "clicked");
  g_assert_false (gtk_widget_get_sensitive (connect));
  wait_for (enrolled_and_synced, f, "enrollment and the first sync");
  g_assert_null (recoup_sync_status_get_error (status_of (f)));
  g_assert_cmpint (recoup_sync_status_get_state (status_of (f)), ==, RECOUP_SYNC_STATE_SYNCED);
  g_assert_nonnull (strstr (indicator_text (f), "Synced"));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (find_named (GTK_WIDGET (prefs), "sync-server"))),
                   ==, url);
  g_assert_true (gtk_widget_get_mapped (find_named (GTK_WIDGET (prefs), "sync-server")));
  shot (GTK_WIDGET (prefs), "sync-connected");
  /* The book's own work went up with the first sync, as Olive's: what the
   * book's first user wrote before it was connected names a user every copy
   * has, not one of this computer's own. */
  g_assert_cmpint (server_count (f, "SELECT count(*) FROM accounts WHERE ref = '%s'", "A-100"), ==, 1);
  g_assert_cmpint (server_count (f, "SELECT count(*) FROM changes c JOIN users u ON u.id = c.user_id"
                                    " WHERE c.entity_id = (SELECT id FROM accounts WHERE ref = '%s')"
                                    " AND u.name = 'olive'", "A-100"), >, 0);
  g_assert_cmpint (server_count (f, "SELECT count(*) FROM changes WHERE user_id IS NOT NULL"
                                    " AND user_id NOT IN (SELECT id FROM users)%s", ""), ==, 0);
  gtk_window_destroy (prefs);

  /* A payment recorded in the app: pending, then synced with win.sync. */
  item = g_list_model_get_item (G_LIST_MODEL (f->model), 0);
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  recoup_window_select_position (f->window, 0);
  wait_for (account_loaded, f, "the account page");
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.record-payment", NULL);
  dialog = recoup_window_get_dialog (f->window);
  dialog_w = GTK_WIDGET (dialog);
  gtk_editable_set_text (GTK_EDITABLE (find_named (dialog_w, "amount")), "300.00");
  gtk_editable_set_text (GTK_EDITABLE (find_named (dialog_w, "date")), "2026-11-20");
  expected_loads = recoup_window_get_n_loads (f->window) + 1;
  g_signal_emit_by_name (find_named (dialog_w, "save"), "clicked");
  wait_for (account_loaded, f, "the recorded payment");
  d = recoup_window_get_account_data (f->window);
  for (guint i = 0; i < d->ledger->len; i++)
    if (g_strcmp0 (((RecoupLedgerEntry *) g_ptr_array_index (d->ledger, i))->kind, "payment") == 0)
      payment_id = ((RecoupLedgerEntry *) g_ptr_array_index (d->ledger, i))->id;
  g_assert_nonnull (payment_id);

  wait_for (pending_shown, f, "the pending change");
  g_assert_nonnull (strstr (indicator_text (f), "to be sent"));
  g_assert_cmpint (server_count (f, "SELECT count(*) FROM ledger_entries WHERE id = '%s'", payment_id), ==, 0);
  shot (GTK_WIDGET (f->window), "sync-pending-window");
  gtk_menu_button_popup (GTK_MENU_BUTTON (find_named (GTK_WIDGET (f->window), "sync-indicator")));
  shot (GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (find_named (GTK_WIDGET (f->window), "sync-indicator")))),
        "sync-pending-popover");
  gtk_menu_button_popdown (GTK_MENU_BUTTON (find_named (GTK_WIDGET (f->window), "sync-indicator")));

  /* Ctrl+Shift+S: the window's shortcut runs win.sync. */
  expected_runs = recoup_sync_status_get_n_runs (status_of (f)) + 1;
  g_assert_true (press_shortcut (f, "<Control><Shift>s"));
  g_assert_cmpint (recoup_sync_status_get_state (status_of (f)), ==, RECOUP_SYNC_STATE_SYNCING);
  wait_for (enrolled_and_synced, f, "win.sync");
  g_assert_null (recoup_sync_status_get_error (status_of (f)));
  g_assert_cmpint (recoup_sync_status_get_state (status_of (f)), ==, RECOUP_SYNC_STATE_SYNCED);
  g_assert_cmpint (recoup_sync_status_get_n_pending (status_of (f)), ==, 0);
  g_assert_nonnull (strstr (indicator_text (f), "Synced"));
  g_assert_cmpint (server_count (f, "SELECT count(*) FROM ledger_entries WHERE id = '%s' AND amount = -30000",
                                 payment_id), ==, 1);
  g_assert_cmpint (recoup_sync_status_get_last_sync (status_of (f)), >, 0);

  /* An account flagged for review and an edit that lost a merge show in the
   * indicator's details. */
  {
    g_autoptr(RecoupBook) book = recoup_book_open (f->path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
    g_autofree char *sql = NULL;
    GtkWidget *indicator = find_named (GTK_WIDGET (f->window), "sync-indicator");
    GtkWidget *popover = GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (indicator)));
    g_autofree char *text = NULL;

    g_assert_no_error (error);
    g_assert_true (recoup_account_set (book, recoup_account_item_get_id (item), "review_flag",
                                       "offer accepted on one device and withdrawn on another", &error));
    g_assert_no_error (error);
    sql = g_strdup_printf ("INSERT INTO sync_conflicts (entity, entity_id, field, value, hlc, device_id,"
                           " winner_hlc, winner_device_id, change_id, at) VALUES ('accounts', '%s', 'phone',"
                           " '\"+15555550100\"', 1, 'x', 2, 'y', 'z', 0)", recoup_account_item_get_id (item));
    g_assert_true (recoup_book_exec (book, sql, &error));
    g_assert_no_error (error);
    recoup_sync_status_refresh (status_of (f));
    wait_for (review_listed, f, "the flagged account");
    gtk_menu_button_popup (GTK_MENU_BUTTON (indicator));
    shot (popover, "sync-review-popover");
    text = collect_text (popover);
    g_assert_nonnull (strstr (text, "1 Account Flagged for Review"));
    g_assert_nonnull (strstr (text, "A-100 Ada Lovelace Ltd: offer accepted on one device"));
    g_assert_nonnull (strstr (text, "phone: “+15555550100” was replaced by a newer edit"));
    g_assert_null (strstr (text, "accounts.phone"));
    gtk_menu_button_popdown (GTK_MENU_BUTTON (indicator));
  }
}

/* Connects the fixture's book to its server as @user; returns after the
 * first sync. */
static void
enroll_as (Fixture    *f,
           const char *user)
{
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", f->port);
  g_autofree char *code = admin (f, "--url", url, "enroll", f->org, user, NULL);
  GtkWindow *prefs;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.connect-server", NULL);
  prefs = recoup_window_get_dialog (f->window);
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (prefs), "enroll-code")), code);
  expected_runs = 1;
  g_signal_emit_by_name (find_named (GTK_WIDGET (prefs), "enroll-connect"), "clicked");
  wait_for (enrolled_and_synced, f, "enrollment");
  g_assert_null (recoup_sync_status_get_error (status_of (f)));
  gtk_window_destroy (prefs);
}

static void
enroll (Fixture *f)
{
  enroll_as (f, "olive");
}

static void
sync_and_wait (Fixture *f)
{
  expected_runs = recoup_sync_status_get_n_runs (status_of (f)) + 1;
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.sync", NULL);
  wait_for (enrolled_and_synced, f, "the sync");
}

static GtkWidget *
indicator_of (Fixture *f)
{
  return find_named (GTK_WIDGET (f->window), "sync-indicator");
}

static GtkWidget *
popover_of (Fixture *f)
{
  return GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (indicator_of (f))));
}

/* Opens the popover, saves it as @name and returns its text. */
static char *
popover_text (Fixture    *f,
              const char *name)
{
  gtk_menu_button_popup (GTK_MENU_BUTTON (indicator_of (f)));
  shot (popover_of (f), name);
  return collect_text (popover_of (f));
}

static RecoupBook *
open_book (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  RecoupBook *book = recoup_book_open (f->path, RECOUP_BOOK_OPEN_NO_CREATE, &error);

  g_assert_no_error (error);
  return book;
}

static char *
first_account_id (RecoupBook *book)
{
  g_autoptr(GError) error = NULL;
  char *id = recoup_account_resolve (book, "A-100", &error);

  g_assert_no_error (error);
  return id;
}

/* A server out of reach is the field collector's normal day: the indicator
 * is calm (no error style), says the changes will be sent, when the book last
 * synced, and keeps the technical reason small. */
static void
test_offline (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *text = NULL;
  GtkWidget *reason;

  enroll (f);
  g_subprocess_send_signal (f->server, SIGTERM);
  g_subprocess_wait (f->server, NULL, NULL);
  g_clear_object (&f->server);

  /* Two edits made while away. */
  book = open_book (f);
  id = first_account_id (book);
  g_assert_true (recoup_account_set (book, id, "tags", "visited", &error));
  g_assert_no_error (error);
  g_assert_true (recoup_account_set (book, id, "tier", "gold", &error));
  g_assert_no_error (error);

  sync_and_wait (f);
  g_assert_cmpint (recoup_sync_status_get_state (status_of (f)), ==, RECOUP_SYNC_STATE_OFFLINE);
  g_assert_cmpint (recoup_sync_status_get_n_pending (status_of (f)), ==, 2);
  g_assert_nonnull (strstr (recoup_sync_status_get_error (status_of (f)), "cannot reach"));
  g_assert_cmpstr (indicator_text (f), ==, "Offline: 2 changes will be sent when the server can be reached");
  g_assert_false (gtk_widget_has_css_class (indicator_of (f), "error"));
  g_assert_false (gtk_widget_has_css_class (indicator_of (f), "warning"));

  text = popover_text (f, "sync-offline-popover");
  shot (GTK_WIDGET (f->window), "sync-offline-window");
  g_test_message ("%s", text);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (find_named (popover_of (f), "sync-state"))), ==, "Offline");
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (find_named (popover_of (f), "sync-summary"))), ==,
                   "2 changes will be sent when the server can be reached.");
  g_assert_nonnull (strstr (text, "Last synced today at "));
  g_assert_null (strstr (text, "Sync Failed"));
  /* The reason is there for whoever runs the server, small and dim. */
  reason = find_named (popover_of (f), "sync-error");
  g_assert_true (gtk_widget_get_visible (reason));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (reason)), "cannot reach"));
  g_assert_true (gtk_widget_has_css_class (reason, "dim-label"));
  g_assert_true (gtk_widget_has_css_class (reason, "caption"));
  gtk_menu_button_popdown (GTK_MENU_BUTTON (indicator_of (f)));
}

/* What the window showed when its sync status first reported, before the
 * sync it starts by itself. */
static gboolean         first_seen;
static RecoupSyncState  first_state;
static char            *first_tooltip;
static gboolean         first_error_style;

static void
first_changed_cb (RecoupSyncStatus *status,
                  Fixture          *f)
{
  /* The indicator, connected first, has updated itself already. */
  if (first_seen)
    return;
  first_seen = TRUE;
  first_state = recoup_sync_status_get_state (status);
  first_tooltip = g_strdup (gtk_widget_get_tooltip_text (indicator_of (f)));
  first_error_style = gtk_widget_has_css_class (indicator_of (f), "error");
}

static gboolean
first_reported (Fixture *f)
{
  return first_seen;
}

/* The app starts again on a book whose last sync (`recoup-cli sync`, with
 * the server down) could not reach the server: from the first moment it is
 * calmly Offline with the change waiting, not a failure. */
static void
test_offline_restart (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(RecoupSyncClient) client = NULL;
  g_autoptr(RecoupSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  enroll (f);
  g_subprocess_send_signal (f->server, SIGTERM);
  g_subprocess_wait (f->server, NULL, NULL);
  g_clear_object (&f->server);

  /* A visit logged while away, then a sync from the shell. */
  book = open_book (f);
  id = first_account_id (book);
  g_assert_true (recoup_account_set (book, id, "tags", "visited", &error));
  g_assert_no_error (error);
  client = recoup_sync_client_new (book, &error);
  g_assert_no_error (error);
  g_assert_false (recoup_sync_client_run (client, NULL, NULL, &error));
  g_assert_error (error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NETWORK);
  g_clear_error (&error);

  /* The app again, on the same book. */
  session = g_object_ref (recoup_window_get_session (f->window));
  gtk_window_destroy (GTK_WINDOW (f->window));
  first_seen = FALSE;
  g_clear_pointer (&first_tooltip, g_free);
  f->window = recoup_window_new (NULL, session, f->model);
  g_signal_connect (status_of (f), "changed", G_CALLBACK (first_changed_cb), f);
  gtk_window_present (GTK_WINDOW (f->window));
  wait_for (first_reported, f, "the sync status");
  g_assert_cmpint (first_state, ==, RECOUP_SYNC_STATE_OFFLINE);
  g_assert_cmpstr (first_tooltip, ==, "Offline: 1 change will be sent when the server can be reached");
  g_assert_false (first_error_style);
  g_assert_nonnull (strstr (recoup_sync_status_get_error (status_of (f)), "cannot reach"));

  /* Its own sync finds the server still away: still Offline. */
  expected_runs = 1;
  wait_for (enrolled_and_synced, f, "the app's own sync");
  g_assert_cmpint (recoup_sync_status_get_state (status_of (f)), ==, RECOUP_SYNC_STATE_OFFLINE);
  g_assert_false (gtk_widget_has_css_class (indicator_of (f), "error"));
  g_clear_pointer (&first_tooltip, g_free);
}

static gboolean
policy_loaded (Fixture *f)
{
  GtkWindow *prefs = recoup_window_get_dialog (f->window);

  return prefs != NULL && recoup_book_preferences_is_loaded (ADW_PREFERENCES_WINDOW (prefs));
}

/* A collector's laptop: Book Policy shows the owner's weights and profile
 * read-only, each group saying who may change it; nothing can be applied. */
static void
test_collector_policy (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(RecoupBook) book = NULL;
  g_autofree char *carl = admin (f, "add-user", "Acme Collections", "carl", "--role", "collector", NULL);
  GtkWidget *prefs, *row, *note;
  gint64 changes;

  enroll_as (f, "carl");
  book = open_book (f);
  changes = recoup_book_count_changes (book);

  prefs = GTK_WIDGET (recoup_preferences_new (GTK_WINDOW (f->window)));
  gtk_window_present (GTK_WINDOW (prefs));
  wait_for (policy_loaded, f, "the book's policy");
  shot (prefs, "policy-collector");

  row = find_named (prefs, "weight-balance");
  g_assert_nonnull (row);
  g_assert_false (gtk_editable_get_editable (GTK_EDITABLE (row)));
  g_assert_false (adw_entry_row_get_show_apply_button (ADW_ENTRY_ROW (row)));
  note = find_named (prefs, "score-locked");
  g_assert_nonnull (note);
  g_assert_true (gtk_widget_get_visible (note));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (note)), ==,
                   "Only an owner can change the scoring weights; ask an owner to make the change.");
  g_assert_false (gtk_widget_get_sensitive (find_named (prefs, "profile")));
  note = find_named (prefs, "profile-locked");
  g_assert_nonnull (note);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (note)), ==,
                   "Only an owner can change the compliance rules; ask an owner to make the change.");
  /* Authority limits are an owner's page only. */
  g_assert_null (find_named (prefs, "limits-error"));

  /* An apply that reaches the row anyway writes nothing. */
  g_signal_emit_by_name (row, "apply");
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (recoup_book_preferences_get_n_done (ADW_PREFERENCES_WINDOW (prefs)), ==, 0);
  g_assert_cmpint (recoup_book_count_changes (book), ==, changes);
  gtk_window_destroy (GTK_WINDOW (prefs));
}

/* A change of @entity/@entity_id with @fields_json as this book's device
 * would record it, one tick after its newest change: written directly, as a
 * newer Recoup would have (the server does not know it). */
static char *
add_raw_change (RecoupBook *book,
                const char *entity,
                const char *entity_id,
                const char *fields_json)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *change_id = recoup_uuid7_new ();
  g_autofree char *sql = g_strdup_printf (
    "INSERT INTO changes (id, hlc, device_id, user_id, entity, entity_id, op, fields, schema_version)"
    " SELECT '%s', max(hlc) + 1, '%s', (SELECT user_id FROM changes ORDER BY seq DESC LIMIT 1), '%s', '%s',"
    " 'set', '%s', (SELECT schema_version FROM changes ORDER BY seq DESC LIMIT 1) FROM changes",
    change_id, recoup_book_get_device_id (book), entity, entity_id, fields_json);

  g_assert_true (recoup_book_exec (book, sql, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&change_id);
}

/* The server refuses two changes (a field and a kind of record it does not
 * know, as a newer Recoup would send): the heading does not claim every change is on the server, and each
 * refusal says what it was, for which account, and why, without its id. */
static void
test_refused (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(RecoupBook) book = NULL;
  g_autofree char *id = NULL;
  g_autofree char *field_change = NULL;
  g_autofree char *visit_change = NULL;
  g_autofree char *text = NULL;
  const char *state;

  enroll (f);
  book = open_book (f);
  id = first_account_id (book);
  field_change = add_raw_change (book, "accounts", id, "{\"shoe_size\":\"44\"}");
  visit_change = add_raw_change (book, "visits", id, "{\"note\":\"nobody home\"}");

  sync_and_wait (f);
  g_assert_null (recoup_sync_status_get_error (status_of (f)));
  g_assert_cmpuint (json_array_get_length (recoup_sync_status_get_rejections (status_of (f))), ==, 2);
  g_assert_cmpint (recoup_sync_status_get_state (status_of (f)), ==, RECOUP_SYNC_STATE_SYNCED);
  g_assert_null (strstr (indicator_text (f), "every change"));
  g_assert_nonnull (strstr (indicator_text (f), "the server refused 2 changes"));
  g_assert_true (gtk_widget_has_css_class (indicator_of (f), "error"));

  text = popover_text (f, "sync-refused-popover");
  g_test_message ("%s", text);
  state = gtk_label_get_text (GTK_LABEL (find_named (popover_of (f), "sync-state")));
  g_assert_cmpstr (state, ==, "Some Changes Refused");
  g_assert_null (strstr (text, "every change is on the server"));
  g_assert_null (strstr (text, "Every change is on the server"));
  g_assert_nonnull (strstr (text, "2 Changes Refused by the Server"));
  g_assert_nonnull (strstr (text, "Account details changed — A-100 Ada Lovelace Ltd\n"
                                  "The server runs an older Recoup that cannot take this kind of change."));
  g_assert_nonnull (strstr (text, "A change to “visits”\n"));
  g_assert_nonnull (strstr (text, "The server said: unknown entity “visits” (unknown_entity)"));
  g_assert_null (strstr (text, field_change));
  g_assert_null (strstr (text, visit_change));
  gtk_menu_button_popdown (GTK_MENU_BUTTON (indicator_of (f)));
}

/* A change the server refuses for now (made by a newer Recoup than the
 * server runs) stays queued and is sent again: the popover lists it as
 * waiting, not as refused, and the indicator does not turn red. */
static void
test_refused_for_now (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *change = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *text = NULL;

  enroll (f);
  book = open_book (f);
  id = first_account_id (book);
  change = add_raw_change (book, "accounts", id, "{\"notes\":\"from a newer Recoup\"}");
  sql = g_strdup_printf ("UPDATE changes SET schema_version = 99 WHERE id = '%s'", change);
  g_assert_true (recoup_book_exec (book, sql, &error));
  g_assert_no_error (error);

  sync_and_wait (f);
  g_assert_null (recoup_sync_status_get_error (status_of (f)));
  g_assert_cmpuint (json_array_get_length (recoup_sync_status_get_rejections (status_of (f))), ==, 1);
  g_assert_cmpint (recoup_sync_status_get_state (status_of (f)), ==, RECOUP_SYNC_STATE_PENDING);
  g_assert_nonnull (strstr (indicator_text (f), "1 change waits to be sent"));
  g_assert_false (gtk_widget_has_css_class (indicator_of (f), "error"));

  text = popover_text (f, "sync-refused-for-now-popover");
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "1 Change Waiting to Be Sent Again"));
  g_assert_null (strstr (text, "Refused by the Server"));
  g_assert_nonnull (strstr (text, "Account details changed — A-100 Ada Lovelace Ltd\n"
                                  "It was made by a newer Recoup than the server runs."));
  gtk_menu_button_popdown (GTK_MENU_BUTTON (indicator_of (f)));
}

static const char *conflict_account;

static gboolean
conflict_account_shown (Fixture *f)
{
  return g_strcmp0 (recoup_window_get_account_id (f->window), conflict_account) == 0 &&
         recoup_window_get_account_data (f->window) != NULL &&
         g_strcmp0 (recoup_window_get_account_data (f->window)->account->id, conflict_account) == 0;
}

static guint conflicts_expected = 1;

static gboolean
conflict_listed (Fixture *f)
{
  JsonArray *conflicts = recoup_sync_status_get_conflicts (status_of (f));

  return conflicts != NULL && json_array_get_length (conflicts) == conflicts_expected;
}

/* An edit of an account's name lost to a newer one: the row names the
 * account, the field as the editor does, the lost value and who wrote the
 * winner; activating it opens the account. */
static void
test_conflict (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GError) error = NULL;
  RecoupAccountSpec spec = { .ref = "B-200", .name = "Cardinal Tire & Wheel, Inc.", .currency = "USD",
                             .timezone = "America/Chicago" };
  g_autofree char *id = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *author = NULL;
  g_autofree char *text = NULL;
  GtkWidget *row;
  sqlite3_stmt *stmt = NULL;

  enroll (f);
  book = open_book (f);
  id = recoup_account_create (book, &spec, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_account_set (book, id, "name", "Cardinal Tire and Wheel", &error));
  g_assert_no_error (error);
  /* The rename won over an older "…, Inc." made elsewhere, as a merge logs it. */
  sql = g_strdup_printf ("INSERT INTO sync_conflicts (entity, entity_id, field, value, hlc, device_id,"
                         " winner_hlc, winner_device_id, change_id, at)"
                         " SELECT 'accounts', entity_id, 'name', '\"Cardinal Tire & Wheel, Inc.\"', hlc - 1,"
                         " 'other-device', hlc, device_id, id, %" G_GINT64_FORMAT " FROM changes"
                         " WHERE entity_id = '%s' AND op = 'set'", g_get_real_time () / 1000, id);
  g_assert_true (recoup_book_exec (book, sql, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book),
                                       "SELECT u.name FROM changes c JOIN users u ON u.id = c.user_id"
                                       " WHERE c.entity_id = ? AND c.op = 'set'", -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  author = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);

  recoup_sync_status_refresh (status_of (f));
  wait_for (conflict_listed, f, "the lost edit");
  text = popover_text (f, "sync-conflict-popover");
  g_test_message ("%s", text);
  g_assert_null (strstr (text, "accounts.name"));
  g_assert_nonnull (strstr (text, "1 Edit Lost to a Newer One"));
  {
    g_autofree char *expected = g_strdup_printf ("B-200 Cardinal Tire and Wheel\n"
                                                 "Name: “Cardinal Tire & Wheel, Inc.” was replaced by a newer "
                                                 "edit by %s\nKept in the log, today at ", author);

    g_assert_nonnull (strstr (text, expected));
  }
  gtk_popover_popdown (GTK_POPOVER (popover_of (f)));

  /* This computer's own edit of the tags lost to another device's: the row
   * says it was the user's. */
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("INSERT INTO sync_conflicts (entity, entity_id, field, value, hlc, device_id,"
                         " winner_hlc, winner_device_id, change_id, at)"
                         " SELECT 'accounts', entity_id, 'tags', '\"vip\"', hlc, device_id, hlc + 1,"
                         " 'other-device', id, %" G_GINT64_FORMAT " FROM changes"
                         " WHERE entity_id = '%s' AND op = 'set'", g_get_real_time () / 1000 + 1, id);
  g_assert_true (recoup_book_exec (book, sql, &error));
  g_assert_no_error (error);
  conflicts_expected = 2;
  recoup_sync_status_refresh (status_of (f));
  wait_for (conflict_listed, f, "the lost edits");
  conflicts_expected = 1;
  g_clear_pointer (&text, g_free);
  text = popover_text (f, "sync-conflict-own-popover");
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "2 Edits Lost to Newer Ones"));
  g_assert_nonnull (strstr (text, "Tags: “vip” was replaced by a newer edit\n"
                                  "Your edit, kept in the log, today at "));

  row = find_named (popover_of (f), "sync-conflict");
  g_assert_nonnull (row);
  g_assert_true (gtk_list_box_row_get_activatable (GTK_LIST_BOX_ROW (row)));
  conflict_account = id;
  g_assert_cmpstr (recoup_window_get_account_id (f->window), !=, id);
  g_signal_emit_by_name (row, "activate");
  wait_for (conflict_account_shown, f, "the conflict's account");
  g_assert_false (gtk_widget_get_visible (popover_of (f)));
  shot (GTK_WIDGET (f->window), "sync-conflict-opened");
  conflict_account = NULL;
}

static gboolean
enroll_failed (Fixture *f)
{
  GtkWidget *prefs = GTK_WIDGET (recoup_window_get_dialog (f->window));

  return gtk_widget_get_visible (find_named (prefs, "enroll-error")) &&
         gtk_widget_get_sensitive (find_named (prefs, "enroll-code"));
}

/* A code as recoupd writes one, with the fingerprint and address given. */
static char *
code_with (const char *url,
           const char *sha256)
{
  g_autofree char *json = g_strdup_printf ("{\"url\":\"%s\",\"secret\":\"s3cret\",\"sha256\":\"%s\"}",
                                           url, sha256);

  return g_base64_encode ((const guchar *) json, strlen (json));
}

/* Connecting a book that was never connected, to an address where nothing
 * listens: the page says what to check, not that changes stay queued; a
 * code whose fingerprint is no SHA-256 is refused as it is pasted. */
static void
test_enroll_unreachable (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) dead = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                          &error);
  g_autofree char *url = NULL;
  g_autofree char *code = NULL;
  g_autofree char *short_code = NULL;
  GtkWidget *prefs, *entry, *connect, *error_label, *fingerprint;
  const char *text;

  /* Bound, never listening: connecting to it is refused. */
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (dead, any, FALSE, &error));
  bound = g_socket_get_local_address (dead, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("https://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  code = code_with (url, f->fingerprint);
  short_code = code_with (url, "ab");

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.connect-server", NULL);
  prefs = GTK_WIDGET (recoup_window_get_dialog (f->window));
  entry = find_named (prefs, "enroll-code");
  connect = find_named (prefs, "enroll-connect");
  error_label = find_named (prefs, "enroll-error");
  fingerprint = find_named (prefs, "enroll-fingerprint");

  gtk_editable_set_text (GTK_EDITABLE (entry), short_code);
  g_assert_true (gtk_widget_get_visible (error_label));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)),
                            "(“ab”) has 2 hex digits, but a SHA-256 fingerprint has 64"));
  g_assert_false (gtk_widget_get_sensitive (connect));
  g_assert_false (gtk_widget_get_mapped (fingerprint));
  shot (prefs, "sync-short-fingerprint");

  gtk_editable_set_text (GTK_EDITABLE (entry), code);
  g_assert_true (gtk_widget_get_sensitive (connect));
  g_signal_emit_by_name (connect, "clicked");
  wait_for (enroll_failed, f, "the failed enrollment");
  text = gtk_label_get_text (GTK_LABEL (error_label));
  g_test_message ("%s", text);
  g_assert_true (g_str_has_prefix (text, "Could not connect: cannot reach the server at "));
  g_assert_nonnull (strstr (text, url));
  g_assert_nonnull (strstr (text, "Check that the address in the enrollment code is right"));
  g_assert_null (strstr (text, "queued"));
  g_assert_null (strstr (text, "tried"));
  shot (prefs, "sync-enroll-unreachable");

  /* Nothing changed: still not connected, the code can be tried again. */
  g_assert_false (recoup_sync_status_is_enrolled (status_of (f)));
  g_assert_null (recoup_sync_status_get_error (status_of (f)));
  g_assert_false (gtk_widget_get_visible (find_named (GTK_WIDGET (f->window), "sync-indicator")));
  g_assert_true (gtk_widget_get_sensitive (connect));
  gtk_window_destroy (GTK_WINDOW (prefs));
}

static gint64
devices_on_server (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->data_dir, "server.db", NULL);

  return test_query_int (path, "SELECT count(*) FROM devices");
}

static gboolean
refusal_shown (Fixture *f)
{
  GtkWidget *prefs = GTK_WIDGET (recoup_window_get_dialog (f->window));

  return gtk_widget_get_visible (find_named (prefs, "enroll-join-new")) &&
         gtk_widget_get_sensitive (find_named (prefs, "enroll-code"));
}

static gboolean enroll_again_done;

static void
enroll_again_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GError **error = user_data;

  recoup_sync_status_enroll_finish (RECOUP_SYNC_STATUS (object), result, error);
  enroll_again_done = TRUE;
}

static gboolean
enrolled_again (Fixture *f)
{
  return enroll_again_done;
}

/* A book enrolled already takes a new code of its own team, as the CLI's
 * enroll does (its device was revoked, say): core decides, and the app no
 * longer refuses the book before asking. */
static void
test_enroll_again (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", f->port);
  g_autofree char *code = NULL;
  g_autoptr(GError) error = NULL;

  enroll (f);
  code = admin (f, "--url", url, "enroll", f->org, "olive", NULL);
  enroll_again_done = FALSE;
  expected_runs = recoup_sync_status_get_n_runs (status_of (f)) + 1;
  recoup_sync_status_enroll_async (status_of (f), code, "olive-laptop", NULL, enroll_again_cb, &error);
  wait_for (enrolled_again, f, "the second enrollment");
  g_assert_no_error (error);
  wait_for (enrolled_and_synced, f, "the sync after it");
  g_assert_null (recoup_sync_status_get_error (status_of (f)));
  g_assert_cmpstr (recoup_sync_status_get_url (status_of (f)), ==, url);
}

static gboolean
prefs_enrolled_again (Fixture *f)
{
  return enrolled_and_synced (f) && !recoup_sync_status_needs_enrollment (status_of (f));
}

static gboolean
mapped (GtkWidget  *root,
        const char *name)
{
  GtkWidget *widget = find_named (root, name);

  g_assert_nonnull (widget);
  return gtk_widget_get_mapped (widget);
}

/* The owner revokes this laptop while it holds a change not sent: the sync
 * fails with the server's words, the popover offers Enroll Again instead of
 * Sync Now, and Preferences ▸ Sync shows the words and the code form first;
 * a new code enrolls the same book again and the change goes up with the
 * next sync. */
static void
test_revoked_enroll_again (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", f->port);
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *device = NULL;
  g_autofree char *code = NULL;
  g_autofree char *text = NULL;
  g_autofree char *revoked = NULL;
  g_autofree char *old_token = NULL;
  GtkWidget *prefs, *connect;

  enroll (f);
  book = open_book (f);
  id = first_account_id (book);
  device = recoup_book_get_setting (book, "sync.device_id");
  old_token = g_build_filename (g_get_user_config_dir (), "recoup", "tokens", device, NULL);
  g_assert_true (g_file_test (old_token, G_FILE_TEST_EXISTS));
  g_free (admin (f, "revoke", device, NULL));
  g_assert_true (recoup_account_set (book, id, "tags", "visited", &error));
  g_assert_no_error (error);

  sync_and_wait (f);
  g_assert_cmpint (recoup_sync_status_get_state (status_of (f)), ==, RECOUP_SYNC_STATE_ERROR);
  g_assert_true (recoup_sync_status_needs_enrollment (status_of (f)));
  g_assert_cmpint (recoup_sync_status_get_n_pending (status_of (f)), ==, 1);
  text = popover_text (f, "sync-revoked-popover");
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "this device was revoked by the admin of the organisation “Acme Collections”"));
  g_assert_true (gtk_widget_get_visible (find_named (popover_of (f), "sync-enroll-again")));
  g_assert_false (gtk_widget_get_visible (find_named (popover_of (f), "sync-now")));

  /* Enroll Again in the popover opens Preferences ▸ Sync: the server's
   * words, then the code form for this book. */
  g_signal_emit_by_name (find_named (popover_of (f), "sync-enroll-again"), "clicked");
  prefs = GTK_WIDGET (recoup_window_get_dialog (f->window));
  g_assert_true (ADW_IS_PREFERENCES_WINDOW (prefs));
  gtk_widget_set_size_request (prefs, 640, 900);
  shot (prefs, "sync-revoked");
  g_assert_true (mapped (prefs, "sync-revoked"));
  revoked = g_strdup (gtk_label_get_text (GTK_LABEL (find_named (prefs, "sync-revoked"))));
  /* A sentence to read: the server's words, not the HTTP answer they came
   * in, which the error keeps (sync-status, the log). */
  g_test_message ("%s", revoked);
  g_assert_true (g_str_has_prefix (revoked, "This device was revoked by the admin of the organisation "
                                            "“Acme Collections”"));
  g_assert_true (g_str_has_suffix (revoked, "enroll this book again with it."));
  g_assert_null (strstr (revoked, "HTTP"));
  g_assert_nonnull (strstr (recoup_sync_status_get_error (status_of (f)), "HTTP 401"));
  g_assert_nonnull (strstr (revoked, "Ask an owner for a new enrollment code, then enroll this book again"));
  /* The device's token is gone: the server will never take it again. */
  g_assert_false (g_file_test (old_token, G_FILE_TEST_EXISTS));
  g_clear_pointer (&text, g_free);
  text = collect_text (prefs);
  g_assert_nonnull (strstr (text, "Enroll This Book Again"));
  /* Which server the new code is to come from: the one the book knows. */
  {
    g_autofree char *syncs_with = g_strdup_printf ("This book syncs with %s: the code comes from that server.",
                                                   url);

    g_assert_nonnull (strstr (text, syncs_with));
  }
  g_assert_nonnull (strstr (text, "Its 1 change not sent yet goes with it."));
  g_assert_true (mapped (prefs, "enroll-code"));
  g_assert_true (mapped (prefs, "sync-server"));
  g_assert_false (mapped (prefs, "sync-enroll-again"));
  g_assert_false (mapped (prefs, "enroll-cancel"));
  g_assert_false (gtk_widget_get_sensitive (find_named (prefs, "sync-now")));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (find_named (prefs, "sync-state-row"))), ==,
                   "Not syncing until this book is enrolled again");
  connect = find_named (prefs, "enroll-connect");
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (connect)), ==, "_Enroll Again");

  code = admin (f, "--url", url, "enroll", f->org, "olive", NULL);
  gtk_editable_set_text (GTK_EDITABLE (find_named (prefs, "enroll-code")), code);
  g_assert_true (gtk_widget_get_sensitive (connect));
  expected_runs = recoup_sync_status_get_n_runs (status_of (f)) + 1;
  g_signal_emit_by_name (connect, "clicked");
  wait_for (prefs_enrolled_again, f, "the book enrolled again and synced");
  g_assert_null (recoup_sync_status_get_error (status_of (f)));
  g_assert_cmpint (recoup_sync_status_get_state (status_of (f)), ==, RECOUP_SYNC_STATE_SYNCED);
  g_assert_cmpint (recoup_sync_status_get_n_pending (status_of (f)), ==, 0);
  g_assert_cmpint (server_count (f, "SELECT count(*) FROM accounts WHERE id = '%s' AND tags = 'visited'", id),
                   ==, 1);
  shot (prefs, "sync-enrolled-again");
  g_assert_false (mapped (prefs, "sync-revoked"));
  g_assert_false (mapped (prefs, "enroll-code"));
  g_assert_true (mapped (prefs, "sync-enroll-again"));
  g_assert_true (gtk_widget_get_sensitive (find_named (prefs, "sync-now")));
  g_assert_cmpint (devices_on_server (f), ==, 2);
  gtk_window_destroy (GTK_WINDOW (prefs));
}

static gboolean
page_enroll_failed (Fixture *f)
{
  return enroll_failed (f) && !recoup_sync_status_needs_enrollment (status_of (f));
}

/* Any connected book can be enrolled again from its Sync page, less
 * prominently (Enroll Again… under the server): Cancel leaves it as it was,
 * and a code of another team is refused with core's reason in full and
 * Join in a New Book offered, leaving the book connected as before. */
static void
test_enroll_again_by_choice (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", f->port);
  g_autofree char *other = admin (f, "create-org", "Other Team", NULL);
  g_autofree char *otto = admin (f, "add-user", "Other Team", "otto", "--role", "owner", NULL);
  g_autofree char *code = admin (f, "--url", url, "enroll", other, "otto", NULL);
  g_autofree char *text = NULL;
  GtkWidget *prefs;
  const char *shown;

  enroll (f);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.connect-server", NULL);
  prefs = GTK_WIDGET (recoup_window_get_dialog (f->window));
  gtk_widget_set_size_request (prefs, 640, 900);
  g_assert_false (mapped (prefs, "enroll-code"));
  g_assert_false (mapped (prefs, "sync-revoked"));
  g_assert_true (mapped (prefs, "sync-enroll-again"));
  shot (prefs, "sync-connected-enroll-again");

  g_signal_emit_by_name (find_named (prefs, "sync-enroll-again"), "clicked");
  g_assert_true (mapped (prefs, "enroll-code"));
  g_assert_true (mapped (prefs, "enroll-cancel"));
  g_assert_false (mapped (prefs, "sync-enroll-again"));
  text = collect_text (prefs);
  g_assert_nonnull (strstr (text, "Enroll This Book Again"));
  g_signal_emit_by_name (find_named (prefs, "enroll-cancel"), "clicked");
  g_assert_false (mapped (prefs, "enroll-code"));
  g_assert_true (mapped (prefs, "sync-enroll-again"));

  g_signal_emit_by_name (find_named (prefs, "sync-enroll-again"), "clicked");
  g_assert_true (gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (prefs)), find_named (prefs, "enroll-code")));
  gtk_editable_set_text (GTK_EDITABLE (find_named (prefs, "enroll-code")), code);
  /* Clicked as a user clicks it: the focus leaves the code first. */
  gtk_widget_grab_focus (find_named (prefs, "enroll-connect"));
  g_signal_emit_by_name (find_named (prefs, "enroll-connect"), "clicked");
  wait_for (page_enroll_failed, f, "the refusal");
  shown = gtk_label_get_text (GTK_LABEL (find_named (prefs, "enroll-error")));
  g_test_message ("%s", shown);
  shot (prefs, "sync-enroll-again-other-team");
  /* Core's reason in full, and its way out: the code is unspent and joins
   * in a new book. */
  g_assert_nonnull (strstr (shown, "is the book of another team"));
  g_assert_true (mapped (prefs, "enroll-join-new"));
  g_assert_false (mapped (prefs, "enroll-connect"));
  g_assert_true (recoup_sync_status_is_enrolled (status_of (f)));
  g_assert_cmpstr (recoup_sync_status_get_user_name (status_of (f)), ==, "olive");
  g_assert_null (recoup_sync_status_get_error (status_of (f)));
  g_assert_true (mapped (prefs, "enroll-code"));
  gtk_window_destroy (GTK_WINDOW (prefs));
}

static RecoupApplication *app;

static gboolean
app_window_shown (Fixture *f)
{
  return recoup_application_get_window (app) != NULL &&
         gtk_widget_get_mapped (GTK_WIDGET (recoup_application_get_window (app)));
}

/* The team's book has an account the owner's laptop sent. */
static void
owner_sends_account (Fixture    *f,
                     const char *ref)
{
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", f->port);
  g_autofree char *code = admin (f, "--url", url, "enroll", f->org, "olive", NULL);
  g_autofree char *path = g_build_filename (f->dir, "olive.recoup", NULL);
  RecoupAccountSpec spec = { .ref = ref, .name = ref, .currency = "USD", .timezone = "America/Chicago" };
  g_autoptr(RecoupSyncEnrollment) e = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(RecoupSyncClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  RecoupSyncReport report = { 0 };

  e = recoup_sync_enroll (code, "olive-desk", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_sync_bootstrap (e, path, NULL, &error));
  g_assert_no_error (error);
  book = recoup_book_open (path, RECOUP_BOOK_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_sync_attach (book, e, &error));
  g_assert_no_error (error);
  id = recoup_account_create (book, &spec, &error);
  g_assert_no_error (error);
  client = recoup_sync_client_new (book, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_sync_client_run (client, &report, NULL, &error));
  g_assert_no_error (error);
}

/* A collector's code pasted into a book that has work of its own: Connect
 * says who the code makes you, why it cannot take this book and that the
 * code still works, and sends nothing; “Join in a New Book” enrolls a new
 * book beside it, which starts as the team's, makes it the book the app
 * opens, and opens it, saying where the old book stays untouched. */
static void
test_join_new_book (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *carl = admin (f, "add-user", "Acme Collections", "carl", "--role", "collector", NULL);
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", f->port);
  g_autofree char *code = NULL;
  g_autofree char *new_path = g_build_filename (f->dir, "laptop-carl.recoup", NULL);
  g_autofree char *configured = NULL;
  g_autofree char *toast = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr(RecoupBook) old_book = NULL;
  g_autoptr(RecoupBook) new_book = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *prefs, *join;
  RecoupWindow *opened;
  const char *text;
  gint64 changes;

  owner_sends_account (f, "TEAM-1");
  code = admin (f, "--url", url, "enroll", f->org, "carl", NULL);
  old_book = open_book (f);
  changes = recoup_book_count_changes (old_book);
  g_clear_object (&old_book);
  app = recoup_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.connect-server", NULL);
  prefs = GTK_WIDGET (recoup_window_get_dialog (f->window));
  join = find_named (prefs, "enroll-join-new");
  g_assert_false (gtk_widget_get_visible (join));
  gtk_editable_set_text (GTK_EDITABLE (find_named (prefs, "enroll-code")), code);
  g_signal_emit_by_name (find_named (prefs, "enroll-connect"), "clicked");
  wait_for (refusal_shown, f, "the refusal");
  text = gtk_label_get_text (GTK_LABEL (find_named (prefs, "enroll-error")));
  g_test_message ("%s", text);
  g_assert_true (g_str_has_prefix (text, "This code joins you as collector “carl” of the team “Acme Collections”."));
  g_assert_nonnull (strstr (text, "any other device starts from the team’s book"));
  g_assert_nonnull (strstr (text, "The code is still valid"));
  g_assert_false (gtk_widget_get_visible (find_named (prefs, "enroll-connect")));
  g_assert_true (gtk_widget_get_sensitive (join));
  gtk_widget_set_size_request (prefs, 640, 900);
  shot (prefs, "sync-needs-new-book");
  g_assert_false (recoup_sync_status_is_enrolled (status_of (f)));
  g_assert_cmpint (devices_on_server (f), ==, 1);

  /* One click: a new book beside this one, the team's, opened in its place. */
  g_signal_emit_by_name (join, "clicked");
  wait_for (app_window_shown, f, "the new book's window");
  opened = recoup_application_get_window (app);
  g_assert_cmpstr (recoup_session_get_path (recoup_window_get_session (opened)), ==, new_path);
  configured = g_settings_get_string (settings, "book-path");
  g_assert_cmpstr (configured, ==, new_path);
  toast = g_strdup (recoup_window_get_last_toast (opened));
  g_test_message ("%s", toast);
  g_assert_nonnull (strstr (toast, new_path));
  g_assert_nonnull (strstr (toast, "The book you had open stays as it was, at "));
  g_assert_nonnull (strstr (toast, f->path));
  g_assert_cmpint (devices_on_server (f), ==, 2);

  new_book = recoup_book_open (new_path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (recoup_book_get_user_id (new_book), ==, carl);
  g_assert_cmpint (test_query_int (new_path, "SELECT count(*) FROM accounts WHERE ref = 'TEAM-1'"), ==, 1);
  g_assert_cmpint (test_query_int (new_path, "SELECT count(*) FROM accounts WHERE ref = 'A-100'"), ==, 0);
  {
    g_autofree char *role = recoup_book_get_setting (new_book, "sync.role");

    g_assert_cmpstr (role, ==, "collector");
  }
  /* The old book is as it was, not connected. */
  old_book = open_book (f);
  g_assert_cmpint (recoup_book_count_changes (old_book), ==, changes);
  g_assert_null (recoup_book_get_setting (old_book, "sync.url"));
  g_assert_cmpint (test_query_int (f->path, "SELECT count(*) FROM accounts WHERE ref = 'A-100'"), ==, 1);

  gtk_window_destroy (GTK_WINDOW (opened));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_settings_reset (settings, "book-path");
  g_clear_object (&app);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *config_home = NULL;
  int status;

  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_print ("1..0 # SKIP no display (use xvfb-run)\n");
      return 0;
    }
  if (g_getenv ("RECOUPD") == NULL || g_find_program_in_path ("openssl") == NULL)
    {
      g_print ("1..0 # SKIP needs $RECOUPD and openssl\n");
      return 0;
    }
  /* Tokens go to a 0600 file under a throwaway config dir. */
  config_home = g_dir_make_tmp ("recoup-app-sync-config-XXXXXX", NULL);
  /* The network is there as far as the app can tell (on any machine the
   * tests run on): a server out of reach is what the tests make offline. */
  g_setenv ("GIO_USE_NETWORK_MONITOR", "base", TRUE);
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_setenv ("RECOUP_TOKEN_STORE", "file", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add ("/recoup/app/sync/enroll-record-sync", Fixture, NULL, fixture_set_up, test_enroll_and_sync,
              fixture_tear_down);
  g_test_add ("/recoup/app/sync/offline", Fixture, NULL, fixture_set_up, test_offline, fixture_tear_down);
  g_test_add ("/recoup/app/sync/offline-restart", Fixture, NULL, fixture_set_up, test_offline_restart,
              fixture_tear_down);
  /* A collector's device starts from the team's book. */
  g_test_add ("/recoup/app/sync/collector-policy", Fixture, EMPTY_BOOK, fixture_set_up, test_collector_policy,
              fixture_tear_down);
  g_test_add ("/recoup/app/sync/join-new-book", Fixture, NULL, fixture_set_up, test_join_new_book,
              fixture_tear_down);
  g_test_add ("/recoup/app/sync/refused", Fixture, NULL, fixture_set_up, test_refused, fixture_tear_down);
  g_test_add ("/recoup/app/sync/refused-for-now", Fixture, NULL, fixture_set_up, test_refused_for_now,
              fixture_tear_down);
  g_test_add ("/recoup/app/sync/conflict", Fixture, NULL, fixture_set_up, test_conflict, fixture_tear_down);
  g_test_add ("/recoup/app/sync/enroll-unreachable", Fixture, NULL, fixture_set_up, test_enroll_unreachable,
              fixture_tear_down);
  g_test_add ("/recoup/app/sync/enroll-again", Fixture, NULL, fixture_set_up, test_enroll_again,
              fixture_tear_down);
  g_test_add ("/recoup/app/sync/revoked-enroll-again", Fixture, NULL, fixture_set_up, test_revoked_enroll_again,
              fixture_tear_down);
  g_test_add ("/recoup/app/sync/enroll-again-by-choice", Fixture, NULL, fixture_set_up,
              test_enroll_again_by_choice, fixture_tear_down);
  status = g_test_run ();
  test_remove_tree (config_home);
  return status;
}
