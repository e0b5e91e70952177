/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-test-app-reports"

#include "config.h"

#include <glib/gstdio.h>

#include "recoup-dashboard-page.h"
#include "recoup-demo.h"
#include "recoup-guard.h"
#include "recoup-locale-money.h"
#include "recoup-remind-window.h"
#include "recoup-test-ui.h"

/*
 * UI tests of the dashboard's exports and printout and of the reminder-run
 * window, on a demo book, under Xvfb. What the windows do is asserted in the
 * book through a separate connection, and in the files they write.
 */

typedef struct
{
  char          *dir;
  char          *path;
  RecoupSession *session;
  GtkWidget     *window;
} Fixture;

static void
wait_until (gboolean (*cond) (gpointer), gpointer data, const char *what)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for %s", what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  RecoupDemoOptions options = { .n_accounts = GPOINTER_TO_UINT (data), .seed = 7 };

  f->dir = g_dir_make_tmp ("recoup-app-reports-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "demo.recoup", NULL);
  book = recoup_book_open (f->path, RECOUP_BOOK_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_demo_generate (book, &options, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  /* Tests run at any hour: lawful hours are the whole day; the other rules stay. */
  g_assert_true (recoup_guard_set_rule (book, "hours_start", "00:00", &error));
  g_assert_no_error (error);
  g_assert_true (recoup_book_set_setting (book, "guard.hours_end", "1440", &error));
  g_assert_no_error (error);
  g_clear_object (&book);
  f->session = recoup_session_new (f->path, &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->window != NULL)
    gtk_window_destroy (GTK_WINDOW (f->window));
  g_clear_object (&f->session);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  remove_tree (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static RecoupBook *
open_check_book (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  RecoupBook *book = recoup_book_open (f->path, RECOUP_BOOK_OPEN_DEFAULT, &error);

  g_assert_no_error (error);
  return book;
}

/* The file chooser's drop-down of the "format" choice: the one showing the
 * first format's label. */
static GtkWidget *
find_format_drop_down (GtkWidget *widget)
{
  if (GTK_IS_DROP_DOWN (widget))
    {
      GObject *item = gtk_drop_down_get_selected_item (GTK_DROP_DOWN (widget));

      if (GTK_IS_STRING_OBJECT (item)
          && g_strcmp0 (gtk_string_object_get_string (GTK_STRING_OBJECT (item)), "Spreadsheet (XLSX)") == 0)
        return widget;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_format_drop_down (c);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* With RECOUP_SHOT_DIR set, saves what @widget shows as NAME.png there (to
 * look at screens the --screenshot option cannot reach). */
static void
shot (GtkWidget  *widget,
      const char *name)
{
  const char *dir = g_getenv ("RECOUP_SHOT_DIR");
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;
  int width, height;

  if (dir == NULL)
    return;
  for (int i = 0; i < 20; i++)
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
    return;
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  file = g_strconcat (name, ".png", NULL);
  path = g_build_filename (dir, file, NULL);
  gdk_texture_save_to_png (texture, path);
}

/* ---- Reminder run ------------------------------------------------------------ */

static gboolean
remind_idle (gpointer data)
{
  RecoupRemindWindow *w = data;

  return !recoup_remind_window_is_busy (w) && recoup_remind_window_get_run (w) != NULL;
}

static guint
count_files (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static void
test_remind_run (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GPtrArray) queued = NULL;
  g_autofree char *letters = g_build_filename (f->dir, "letters", NULL);
  g_autofree char *preview = NULL;
  g_autofree char *kept_id = NULL, *dropped_id = NULL, *dropped_ref = NULL, *kept_ref = NULL;
  RecoupRemindWindow *w;
  RecoupRemindRun *run;
  RecoupRemindItem *email = NULL, *dropped = NULL;
  guint n_email = 0, n_letter = 0, n_held = 0;
  gint64 n_queued = -1;

  f->window = recoup_remind_window_new (NULL, f->session);
  w = RECOUP_REMIND_WINDOW (f->window);
  gtk_window_present (GTK_WINDOW (w));
  wait_until (remind_idle, w, "the proposal");
  run = recoup_remind_window_get_run (w);
  g_assert_cmpuint (run->items->len, >, 0);

  /* Untick the second email row; the first stays in. */
  for (guint i = 0; i < run->items->len; i++)
    {
      RecoupRemindItem *it = g_ptr_array_index (run->items, i);

      if (it->held)
        {
          /* Held rows cannot be ticked. */
          g_assert_false (it->selected);
          g_assert_nonnull (it->held_reasons);
          g_assert_false (recoup_remind_window_set_selected (w, it->ref, TRUE));
          n_held++;
          continue;
        }
      g_assert_true (it->selected);
      if (g_str_equal (it->channel, "email") && email == NULL)
        email = it;
      else if (g_str_equal (it->channel, "email") && dropped == NULL)
        dropped = it;
    }
  g_assert_nonnull (email);
  g_assert_nonnull (dropped);
  g_assert_true (recoup_remind_window_set_selected (w, dropped->ref, FALSE));
  g_assert_false (dropped->selected);
  g_assert_false (recoup_remind_window_set_selected (w, "NO-SUCH-REF", FALSE));
  kept_id = g_strdup (email->account_id);
  kept_ref = g_strdup (email->ref);
  dropped_id = g_strdup (dropped->account_id);
  dropped_ref = g_strdup (dropped->ref);
  for (guint i = 0; i < run->items->len; i++)
    {
      RecoupRemindItem *it = g_ptr_array_index (run->items, i);

      if (it->selected && !it->held)
        {
          n_email += g_str_equal (it->channel, "email");
          n_letter += g_str_equal (it->channel, "letter");
        }
    }
  g_assert_cmpuint (n_letter, >, 0);
  g_test_message ("run: %u rows, %u emails and %u letters ticked, %u held back",
                  run->items->len, n_email, n_letter, n_held);

  /* The preview renders the row's message. */
  g_assert_true (recoup_remind_window_preview (w, kept_ref));
  wait_until (remind_idle, w, "the preview");
  preview = recoup_remind_window_get_preview_text (w);
  g_assert_cmpuint (strlen (preview), >, 40);
  shot (f->window, "remind-preview");

  /* Nothing is written before the button. */
  book = open_check_book (f);
  g_assert_true (recoup_outbox_count (book, RECOUP_OUTBOX_QUEUED, &n_queued, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_queued, ==, 0);

  recoup_remind_window_set_letters_dir (w, letters);
  g_assert_true (recoup_remind_window_execute (w));
  g_assert_false (recoup_remind_window_execute (w));   /* one run at a time */
  wait_until (remind_idle, w, "the run");
  g_assert_null (recoup_remind_window_get_last_error (w));
  g_assert_cmpuint (recoup_remind_window_get_n_executed (w), ==, 1);

  /* The book: every ticked email queued, the unticked one not; a letter
   * per ticked letter row in the chosen folder. */
  g_assert_true (recoup_outbox_count (book, RECOUP_OUTBOX_QUEUED, &n_queued, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_queued, ==, n_email);
  queued = recoup_outbox_list (book, "queued", 0, &error);
  g_assert_no_error (error);
  {
    gboolean kept_found = FALSE;

    for (guint i = 0; i < queued->len; i++)
      {
        RecoupOutboxMessage *m = g_ptr_array_index (queued, i);

        g_assert_cmpstr (m->account_id, !=, dropped_id);
        kept_found |= g_strcmp0 (m->account_id, kept_id) == 0;
      }
    g_assert_true (kept_found);
  }
  g_assert_cmpuint (count_files (letters), ==, n_letter);
  /* The window shows the outbox; the new proposal leaves out who was just reminded. */
  g_assert_cmpuint (recoup_remind_window_get_n_outbox (w), ==, n_email);
  run = recoup_remind_window_get_run (w);
  for (guint i = 0; i < run->items->len; i++)
    g_assert_cmpstr (((RecoupRemindItem *) g_ptr_array_index (run->items, i))->ref, !=, kept_ref);

  /* A failed message comes back to the queue with Retry. */
  {
    RecoupOutboxMessage *m = g_ptr_array_index (queued, 0);
    g_autoptr(RecoupOutboxMessage) after = NULL;

    g_assert_true (recoup_outbox_claim (book, m->id, &error));
    g_assert_true (recoup_outbox_mark_failed (book, m->id, TRUE, "550 mailbox unavailable", &error));
    g_assert_no_error (error);
    g_assert_true (recoup_remind_window_retry (w, m->id));
    wait_until (remind_idle, w, "the retry");
    g_assert_null (recoup_remind_window_get_last_error (w));
    after = recoup_outbox_load (book, m->id, &error);
    g_assert_no_error (error);
    g_assert_cmpint (after->state, ==, RECOUP_OUTBOX_QUEUED);
  }
  /* One failed message for the picture of the outbox page. */
  {
    RecoupOutboxMessage *m = g_ptr_array_index (queued, 1);

    g_assert_true (recoup_outbox_claim (book, m->id, &error));
    g_assert_true (recoup_outbox_mark_failed (book, m->id, TRUE, "550 5.1.1 mailbox unavailable", &error));
    g_assert_no_error (error);
    recoup_remind_window_reload (w);
    wait_until (remind_idle, w, "the reload");
    shot (f->window, "remind-outbox");
  }
}

/* Closing the window while the run is being written: the run completes whole
 * (one transaction) and nothing touches the destroyed widgets. */
static void
test_remind_close_while_running (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autofree char *letters = g_build_filename (f->dir, "letters", NULL);
  RecoupRemindWindow *w;
  RecoupRemindRun *run;
  gint64 deadline, n_queued = 0;
  guint n_email = 0;

  f->window = recoup_remind_window_new (NULL, f->session);
  w = RECOUP_REMIND_WINDOW (f->window);
  gtk_window_present (GTK_WINDOW (w));
  wait_until (remind_idle, w, "the proposal");
  run = recoup_remind_window_get_run (w);
  for (guint i = 0; i < run->items->len; i++)
    {
      RecoupRemindItem *it = g_ptr_array_index (run->items, i);

      n_email += it->selected && !it->held && g_str_equal (it->channel, "email");
    }
  g_assert_cmpuint (n_email, >, 0);
  recoup_remind_window_set_letters_dir (w, letters);
  g_assert_true (recoup_remind_window_execute (w));
  gtk_window_destroy (GTK_WINDOW (f->window));
  f->window = NULL;

  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (n_queued == 0 && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
      g_assert_true (recoup_outbox_count (book, RECOUP_OUTBOX_QUEUED, &n_queued, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpint (n_queued, ==, n_email);
}

/* ---- Dashboard --------------------------------------------------------------- */

static gboolean
dash_loaded (gpointer data)
{
  return recoup_dashboard_page_is_loaded (data);
}

static gboolean
dash_exported (gpointer data)
{
  return !recoup_dashboard_page_is_exporting (data);
}

static gboolean
dash_four_exports (gpointer data)
{
  return recoup_dashboard_page_get_n_exports (data) == 4
         || (!recoup_dashboard_page_is_exporting (data) && recoup_dashboard_page_get_last_error (data) == NULL);
}

static void
assert_file_starts (const char *path,
                    const char *magic)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, strlen (magic));
  g_assert_true (memcmp (contents, magic, strlen (magic)) == 0);
}

/* The newest file chooser among the toplevels, once it has come up. */
static GtkWidget *
wait_for_chooser (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (int i = 0; i < 200; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
      for (guint j = 0; j < g_list_model_get_n_items (toplevels); j++)
        {
          g_autoptr(GtkWidget) top = g_list_model_get_item (toplevels, j);

          if (GTK_IS_FILE_CHOOSER (top) && gtk_widget_get_visible (top))
            return top;
        }
    }
  g_error ("timed out waiting for the file chooser");
  return NULL;
}

static void
test_dashboard_export (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *xlsx = g_build_filename (f->dir, "aging.xlsx", NULL);
  g_autofree char *csv = g_build_filename (f->dir, "payments.csv", NULL);
  g_autofree char *pdf = g_build_filename (f->dir, "statements.pdf", NULL);
  g_autofree char *printout = g_build_filename (f->dir, "dashboard.pdf", NULL);
  g_autofree char *bad = g_build_filename (f->dir, "missing", "x.csv", NULL);
  g_autofree char *csv_text = NULL;
  RecoupDashboardPage *page;
  const char *from, *to = NULL;

  page = RECOUP_DASHBOARD_PAGE (recoup_dashboard_page_new (f->session));
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 960, 720);
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (page));
  gtk_window_present (GTK_WINDOW (f->window));
  wait_until (dash_loaded, page, "the dashboard");
  from = recoup_dashboard_page_get_period (page, &to);
  g_assert_cmpstr (from, ==, "2026-11-01");
  g_assert_cmpstr (to, ==, "2026-11-24");

  /* A period that ends before it starts changes nothing. */
  g_assert_false (recoup_dashboard_page_set_custom_period (page, "2026-11-10", "2026-11-01", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (recoup_dashboard_page_set_custom_period (page, "2026-02-30", "2026-11-01", &error));
  g_clear_error (&error);
  g_assert_cmpstr (recoup_dashboard_page_get_period (page, NULL), ==, "2026-11-01");

  g_assert_true (recoup_dashboard_page_set_custom_period (page, "2026-07-01", "2026-09-30", &error));
  g_assert_no_error (error);
  wait_until (dash_loaded, page, "the custom period");
  from = recoup_dashboard_page_get_period (page, &to);
  shot (f->window, "dashboard-custom");
  g_assert_cmpstr (from, ==, "2026-07-01");
  g_assert_cmpstr (to, ==, "2026-09-30");

  /* Typed in the entries: the same check, shown inline on the date at fault,
   * nothing reloaded. */
  {
    GtkWidget *from_entry = find_named (f->window, "period-from");
    GtkWidget *to_entry = find_named (f->window, "period-to");
    GtkWidget *message = find_named (f->window, "period-error");

    g_assert_nonnull (from_entry);
    g_assert_nonnull (to_entry);
    g_assert_nonnull (message);
    gtk_editable_set_text (GTK_EDITABLE (to_entry), "2026-06-15");
    g_signal_emit_by_name (to_entry, "activate");
    g_assert_true (gtk_widget_has_css_class (to_entry, "error"));
    g_assert_false (gtk_widget_has_css_class (from_entry, "error"));
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (message)), ==,
                     "The period ends before it starts: swap the dates.");
    g_assert_true (recoup_dashboard_page_is_loaded (page));
    g_assert_cmpstr (recoup_dashboard_page_get_period (page, NULL), ==, "2026-07-01");
    shot (f->window, "dashboard-bad-period");

    gtk_editable_set_text (GTK_EDITABLE (from_entry), "2026-02-30");
    g_signal_emit_by_name (to_entry, "activate");
    g_assert_true (gtk_widget_has_css_class (from_entry, "error"));
    g_assert_false (gtk_widget_has_css_class (to_entry, "error"));
    g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (message)), "From: "));
    g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (message)), "2026-02-30"));
    g_assert_cmpstr (recoup_dashboard_page_get_period (page, NULL), ==, "2026-07-01");

    gtk_editable_set_text (GTK_EDITABLE (from_entry), "2026-07-01");
    gtk_editable_set_text (GTK_EDITABLE (to_entry), "2026-09-30");
    g_signal_emit_by_name (to_entry, "activate");
    g_assert_false (gtk_widget_get_visible (message));
    g_assert_false (gtk_widget_has_css_class (from_entry, "error"));
    wait_until (dash_loaded, page, "the custom period again");
  }

  g_assert_true (recoup_dashboard_page_export (page, RECOUP_EXPORT_AGING, RECOUP_REPORT_XLSX, xlsx));
  g_assert_false (recoup_dashboard_page_export (page, RECOUP_EXPORT_AGING, RECOUP_REPORT_CSV, csv));
  wait_until (dash_exported, page, "the aging export");
  g_assert_null (recoup_dashboard_page_get_last_error (page));
  assert_file_starts (xlsx, "PK\003\004");

  g_assert_true (recoup_dashboard_page_export (page, RECOUP_EXPORT_PAYMENTS, RECOUP_REPORT_CSV, csv));
  wait_until (dash_exported, page, "the payments export");
  g_assert_null (recoup_dashboard_page_get_last_error (page));
  g_assert_true (g_file_get_contents (csv, &csv_text, NULL, &error));
  g_assert_no_error (error);
  /* Payments of the custom period only. */
  g_assert_nonnull (strstr (csv_text, "2026-08-"));
  g_assert_null (strstr (csv_text, "2026-10-"));

  g_assert_true (recoup_dashboard_page_export (page, RECOUP_EXPORT_STATEMENTS, RECOUP_REPORT_PDF, pdf));
  wait_until (dash_exported, page, "the statements export");
  g_assert_null (recoup_dashboard_page_get_last_error (page));
  assert_file_starts (pdf, "%PDF-");
  g_assert_cmpuint (recoup_dashboard_page_get_n_exports (page), ==, 3);

  /* An unwritable destination: an error, no file, the count unchanged. */
  g_assert_true (recoup_dashboard_page_export (page, RECOUP_EXPORT_PAYMENTS, RECOUP_REPORT_CSV, bad));
  wait_until (dash_exported, page, "the failing export");
  g_assert_nonnull (recoup_dashboard_page_get_last_error (page));
  g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (recoup_dashboard_page_get_n_exports (page), ==, 3);

  /* Through the menu and the file chooser (GTK's own: GTK_USE_PORTAL=0): the
   * format chosen decides the extension. */
  {
    GtkWidget *chooser;
    g_autofree char *typed = g_build_filename (f->dir, "via-chooser.xlsx", NULL);
    g_autoptr(GFile) target = g_file_new_for_path (typed);
    g_autoptr(GFile) folder = g_file_new_for_path (f->dir);
    g_autofree char *expected = g_build_filename (f->dir, "via-chooser.csv", NULL);

    gtk_widget_activate_action (GTK_WIDGET (page), "dashboard.export", "s", "payments");
    chooser = wait_for_chooser ();
    g_assert_nonnull (chooser);
    shot (chooser, "dashboard-export-chooser");
    g_assert_cmpstr (gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (chooser), "format"), ==, "xlsx");
    g_assert_true (gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, &error));
    g_assert_no_error (error);
    for (int i = 0; i < 50; i++)
      {
        g_main_context_iteration (NULL, FALSE);
        g_usleep (5000);
      }
    /* A full path typed as the name (as a user may). */
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), typed);
    /* Pick CSV in the Format drop-down, as a user does (GTK 4.8's
     * gtk_file_chooser_set_choice does not reach the dialog's drop-down). */
    {
      GtkWidget *format = find_format_drop_down (chooser);

      g_assert_nonnull (format);
      gtk_drop_down_set_selected (GTK_DROP_DOWN (format), 1);
    }
    {
      g_autoptr(GFile) chosen = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

      /* Never let the test write outside its folder. */
      g_assert_nonnull (chosen);
      g_assert_true (g_file_equal (chosen, target));
    }
    g_assert_cmpstr (gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (chooser), "format"), ==, "csv");
    gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
    /* The chooser checks the name asynchronously before it answers. */
    wait_until (dash_four_exports, page, "the export from the chooser");
    g_assert_cmpstr (recoup_dashboard_page_get_last_error (page), ==, NULL);
    g_assert_cmpuint (recoup_dashboard_page_get_n_exports (page), ==, 4);
    g_assert_true (g_file_test (expected, G_FILE_TEST_IS_REGULAR));
  }

  /* The printout (the print operation's draw-page) as a PDF. */
  g_assert_true (recoup_dashboard_page_print_to_pdf (page, printout, &error));
  g_assert_no_error (error);
  assert_file_starts (printout, "%PDF-");
  if (g_getenv ("RECOUP_SHOT_DIR") != NULL)
    {
      g_autofree char *keep = g_build_filename (g_getenv ("RECOUP_SHOT_DIR"), "dashboard-print.pdf", NULL);

      g_assert_true (recoup_dashboard_page_print_to_pdf (page, keep, &error));
    }
}

/* The aging bars leave out unapplied credits: the page names them, so that
 * bars + credits = receivables (the Receivables tile). And the page lets its
 * window be made as narrow as 600 pixels. */
static void
test_dashboard_credits_and_width (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) aging = NULL;
  RecoupAgingRow *row = NULL;
  RecoupDashboardPage *page;
  GtkWidget *note;
  g_autofree char *bars = NULL;
  g_autofree char *credits = NULL;
  g_autofree char *total = NULL;
  g_autofree char *expected = NULL;
  gint64 sum = 0;
  int min_width = 0;

  /* An overpayment: a credit that belongs to no bucket. */
  {
    g_autoptr(RecoupBook) book = open_check_book (f);
    g_autoptr(GPtrArray) accounts = NULL;
    RecoupAccountFilter filter = { .currency = "USD", .min_balance = 1, .limit = 1 };
    RecoupAccountSummary *a;
    RecoupEntrySpec pay = { .kind = RECOUP_ENTRY_PAYMENT, .method = "cash" };
    g_autofree char *id = NULL;

    accounts = recoup_account_list (book, &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (accounts->len, ==, 1);
    a = g_ptr_array_index (accounts, 0);
    pay.account_id = a->id;
    pay.amount = a->balance + 9949;
    id = recoup_ledger_record (book, &pay, &error);
    g_assert_no_error (error);
    aging = recoup_aging_summary (book, "2026-11-24", &error);
    g_assert_no_error (error);
  }
  for (guint i = 0; i < aging->len; i++)
    if (g_strcmp0 (((RecoupAgingRow *) g_ptr_array_index (aging, i))->currency, "USD") == 0)
      row = g_ptr_array_index (aging, i);
  g_assert_nonnull (row);
  g_assert_cmpint (row->credit, <, 0);
  for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
    sum += row->buckets[b];
  g_assert_cmpint (sum + row->credit, ==, row->total);

  page = RECOUP_DASHBOARD_PAGE (recoup_dashboard_page_new (f->session));
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 600, 720);
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (page));
  gtk_window_present (GTK_WINDOW (f->window));
  wait_until (dash_loaded, page, "the dashboard");
  note = find_named (f->window, "aging-credits");
  g_assert_nonnull (note);
  g_assert_true (gtk_widget_get_visible (note));
  bars = recoup_money_format (sum, "USD", RECOUP_MONEY_FORMAT_GROUPING);
  credits = recoup_money_format (row->credit, "USD", RECOUP_MONEY_FORMAT_GROUPING);
  total = recoup_money_format (row->total, "USD", RECOUP_MONEY_FORMAT_GROUPING);
  expected = g_strdup_printf ("Bars %s + credits %s = receivables %s", bars, credits, total);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (note)), ==, expected);
  shot (f->window, "dashboard-600");

  /* Nothing on the page holds the window wider than 600 pixels, the custom
   * period's entries shown or not. */
  gtk_widget_measure (GTK_WIDGET (page), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL, NULL);
  g_test_message ("dashboard minimum width %d", min_width);
  g_assert_cmpint (min_width, <=, 600);
  g_assert_true (recoup_dashboard_page_set_custom_period (page, "2026-07-01", "2026-09-30", &error));
  g_assert_no_error (error);
  wait_until (dash_loaded, page, "the custom period");
  gtk_widget_measure (GTK_WIDGET (page), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL, NULL);
  g_test_message ("dashboard minimum width with a custom period %d", min_width);
  g_assert_cmpint (min_width, <=, 600);
  shot (f->window, "dashboard-600-custom");
}

/* The export code without the window: a cancelled statements batch leaves no file. */
static void
test_export_cancel (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = open_check_book (f);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *pdf = g_build_filename (f->dir, "cancelled.pdf", NULL);
  g_autoptr(RecoupExportSpec) spec = recoup_export_spec_new (RECOUP_EXPORT_STATEMENTS, RECOUP_REPORT_PDF,
                                                             "2026-11-01", "2026-11-24", pdf);

  guint before = count_files (f->dir);

  g_cancellable_cancel (cancellable);
  g_assert_false (recoup_export_run (book, spec, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (pdf, G_FILE_TEST_EXISTS));
  /* No temporary file left either. */
  g_assert_cmpuint (count_files (f->dir), ==, before);
}

/* Answers the chooser with @name in the test's folder, as a user types it. */
static void
chooser_accept (GtkWidget  *chooser,
                Fixture    *f,
                const char *name)
{
  g_autoptr(GFile) folder = g_file_new_for_path (f->dir);
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr(GFile) target = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;

  g_assert_true (gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 50; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  /* A full path typed as the name (as a user may). */
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), path);
  {
    g_autoptr(GFile) chosen = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

    /* Never let the test write outside its folder. */
    g_assert_nonnull (chosen);
    g_assert_true (g_file_equal (chosen, target));
  }
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
}

static guint want_exports;

static gboolean
dash_n_exports (gpointer data)
{
  return recoup_dashboard_page_get_n_exports (data) >= want_exports
         || recoup_dashboard_page_get_last_error (data) != NULL;
}

/* What the chooser shows is what is written: Export Statements… suggests a
 * PDF name with PDF showing as the format (GTK's own chooser answers its
 * first option), and writes a PDF; a known extension typed in the name, with
 * the format left as it was, decides the format. */
static void
test_dashboard_export_format (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *pdf = g_build_filename (f->dir, "stmts.pdf", NULL);
  g_autofree char *xlsx = g_build_filename (f->dir, "stmts.xlsx", NULL);
  g_autofree char *csv = g_build_filename (f->dir, "pay.csv", NULL);
  g_autofree char *pay_xlsx = g_build_filename (f->dir, "pay.xlsx", NULL);
  RecoupDashboardPage *page;
  GtkWidget *chooser;

  page = RECOUP_DASHBOARD_PAGE (recoup_dashboard_page_new (f->session));
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 960, 720);
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (page));
  gtk_window_present (GTK_WINDOW (f->window));
  wait_until (dash_loaded, page, "the dashboard");

  gtk_widget_activate_action (GTK_WIDGET (page), "dashboard.export", "s", "statements");
  chooser = wait_for_chooser ();
  shot (chooser, "dashboard-export-statements-chooser");
  {
    g_autofree char *name = gtk_file_chooser_get_current_name (GTK_FILE_CHOOSER (chooser));

    g_assert_true (g_str_has_suffix (name, ".pdf"));
  }
  g_assert_cmpstr (gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (chooser), "format"), ==, "pdf");
  chooser_accept (chooser, f, "stmts.pdf");
  want_exports = 1;
  wait_until (dash_n_exports, page, "the statements from the chooser");
  wait_until (dash_exported, page, "the statements export to end");
  g_assert_null (recoup_dashboard_page_get_last_error (page));
  assert_file_starts (pdf, "%PDF-");
  g_assert_false (g_file_test (xlsx, G_FILE_TEST_EXISTS));

  gtk_widget_activate_action (GTK_WIDGET (page), "dashboard.export", "s", "payments");
  chooser = wait_for_chooser ();
  g_assert_cmpstr (gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (chooser), "format"), ==, "xlsx");
  chooser_accept (chooser, f, "pay.csv");
  want_exports = 2;
  wait_until (dash_n_exports, page, "the payments from the chooser");
  wait_until (dash_exported, page, "the payments export to end");
  g_assert_null (recoup_dashboard_page_get_last_error (page));
  g_assert_false (g_file_test (pay_xlsx, G_FILE_TEST_EXISTS));
  {
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true (g_file_get_contents (csv, &text, NULL, &error));
    g_assert_no_error (error);
    g_assert_false (g_str_has_prefix (text, "PK"));
    g_assert_nonnull (strchr (text, ','));
  }
}

/* Collects the texts of the labels under @widget. */
static void
collect_labels (GtkWidget *widget,
                GPtrArray *texts)
{
  if (GTK_IS_LABEL (widget))
    g_ptr_array_add (texts, (gpointer) gtk_label_get_text (GTK_LABEL (widget)));
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    collect_labels (c, texts);
}

/* With German marks the KPI tiles read "112,43" and "13,53 %", as the
 * amounts beside them do, never the C "112.43" / "13.53%". */
static void
test_dashboard_locale_marks (Fixture       *f,
                             gconstpointer  data)
{
  static const RecoupMoneyMarks german = { ',', "." };
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();
  g_autoptr(GRegex) c_number = g_regex_new ("^-?[0-9]+\\.[0-9][0-9]%?$", 0, 0, NULL);
  g_autoptr(GRegex) de_days = g_regex_new ("^-?[0-9]+,[0-9][0-9]$", 0, 0, NULL);
  g_autoptr(GRegex) de_percent = g_regex_new ("^-?[0-9]+(,[0-9][0-9])? %$", 0, 0, NULL);
  guint n_days = 0, n_percent = 0;
  RecoupDashboardPage *page;

  recoup_locale_money_set_marks (&german);
  page = RECOUP_DASHBOARD_PAGE (recoup_dashboard_page_new (f->session));
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 960, 720);
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (page));
  gtk_window_present (GTK_WINDOW (f->window));
  wait_until (dash_loaded, page, "the dashboard");
  shot (f->window, "dashboard-german-marks");
  collect_labels (f->window, texts);
  recoup_locale_money_set_marks (NULL);
  for (guint i = 0; i < texts->len; i++)
    {
      const char *text = g_ptr_array_index (texts, i);

      g_assert_false (g_regex_match (c_number, text, 0, NULL));
      n_days += g_regex_match (de_days, text, 0, NULL);
      n_percent += g_regex_match (de_percent, text, 0, NULL);
    }
  g_assert_cmpuint (n_days, >=, 1);
  g_assert_cmpuint (n_percent, >=, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  g_setenv ("GTK_USE_PORTAL", "0", TRUE);
  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_print ("1..0 # SKIP no display (use xvfb-run)\n");
      return 0;
    }
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add ("/recoup/app/remind/run", Fixture, GUINT_TO_POINTER (300), fixture_set_up, test_remind_run,
              fixture_tear_down);
  g_test_add ("/recoup/app/remind/close-while-running", Fixture, GUINT_TO_POINTER (150), fixture_set_up,
              test_remind_close_while_running, fixture_tear_down);
  g_test_add ("/recoup/app/dashboard/export", Fixture, GUINT_TO_POINTER (120), fixture_set_up,
              test_dashboard_export, fixture_tear_down);
  g_test_add ("/recoup/app/dashboard/credits-and-width", Fixture, GUINT_TO_POINTER (40), fixture_set_up,
              test_dashboard_credits_and_width, fixture_tear_down);
  g_test_add ("/recoup/app/dashboard/export-cancel", Fixture, GUINT_TO_POINTER (40), fixture_set_up,
              test_export_cancel, fixture_tear_down);
  g_test_add ("/recoup/app/dashboard/export-format-as-named", Fixture, GUINT_TO_POINTER (40), fixture_set_up,
              test_dashboard_export_format, fixture_tear_down);
  g_test_add ("/recoup/app/dashboard/locale-marks", Fixture, GUINT_TO_POINTER (40), fixture_set_up,
              test_dashboard_locale_marks, fixture_tear_down);
  return g_test_run ();
}
