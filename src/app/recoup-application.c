/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-app-bench.h"
#include "recoup-application.h"
#include "recoup-preferences.h"
#include "recoup-demo.h"

struct _RecoupApplication
{
  AdwApplication  parent_instance;

  char           *book_path;      /* --book */
  char           *screenshot;     /* --screenshot */
  char           *screenshot_of;  /* --screenshot-dialog */
  gboolean        bench;          /* --bench */
  RecoupWindow   *window;         /* weak */
  gint64          started_us;
};

G_DEFINE_FINAL_TYPE (RecoupApplication, recoup_application, ADW_TYPE_APPLICATION)

RecoupWindow *
recoup_application_get_window (RecoupApplication *self)
{
  return self->window;
}

/* ---- screenshots ------------------------------------------------------- */

static gboolean
save_screenshot (GtkWidget   *widget,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "nothing drawn yet");
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "could not write %s", path);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  RecoupApplication *app;
  guint              frames;
  gboolean           dialog_opened;
} ShotState;

static gboolean
screenshot_tick_cb (GtkWidget     *widget,
                    GdkFrameClock *clock,
                    gpointer       user_data)
{
  ShotState *st = user_data;
  RecoupApplication *self = st->app;
  RecoupWindow *window = RECOUP_WINDOW (widget);
  RecoupWorklistModel *model = recoup_window_get_model (window);
  g_autoptr(GError) error = NULL;
  GtkWidget *target = widget;

  if (recoup_worklist_model_is_loading (model))
    return G_SOURCE_CONTINUE;
  if (g_list_model_get_n_items (G_LIST_MODEL (model)) > 0)
    {
      if (recoup_worklist_model_get_pages_loaded (model) == 0)
        return G_SOURCE_CONTINUE;
      if (recoup_window_get_account_id (window) == NULL)
        {
          g_message ("first worklist page drawn %.0f ms after start",
                     (g_get_monotonic_time () - self->started_us) / 1000.0);
          recoup_window_select_position (window, 0);
          return G_SOURCE_CONTINUE;
        }
      if (recoup_window_get_account_data (window) == NULL)
        return G_SOURCE_CONTINUE;
    }
  if (self->screenshot_of != NULL && !st->dialog_opened)
    {
      st->dialog_opened = TRUE;
      gtk_widget_activate_action (widget, self->screenshot_of, NULL);
      st->frames = 0;
      return G_SOURCE_CONTINUE;
    }
  if (st->frames++ < 10)
    return G_SOURCE_CONTINUE;

  if (self->screenshot_of != NULL && recoup_window_get_dialog (window) != NULL)
    target = GTK_WIDGET (recoup_window_get_dialog (window));
  if (!save_screenshot (target, self->screenshot, &error))
    g_printerr ("%s\n", error->message);
  else
    g_print ("%s\n", self->screenshot);
  g_application_quit (G_APPLICATION (self));
  return G_SOURCE_REMOVE;
}

/* ---- opening a book ---------------------------------------------------- */

typedef struct
{
  char                *path;
  char                *toast;    /* said in the window once it shows, or NULL */
  RecoupSession       *session;
  RecoupWorklistModel *model;
} OpenJob;

static void
open_job_free (OpenJob *job)
{
  g_free (job->path);
  g_free (job->toast);
  g_clear_object (&job->session);
  g_clear_object (&job->model);
  g_free (job);
}

typedef struct
{
  const char          *path;
  RecoupWorklistModel *model;
  GError              *error;
} ModelOpen;

static gpointer
open_model_thread (gpointer data)
{
  ModelOpen *mo = data;

  mo->model = recoup_worklist_model_new (mo->path, &mo->error);
  return NULL;
}

/* Opens the window's connection and the worklist's connection side by side:
 * opening a big book costs real time, twice in a row would double it. */
static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  OpenJob *job = task_data;
  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  ModelOpen mo = { job->path, NULL, NULL };
  GThread *thread = NULL;

  /* A new book is created (and an old one migrated) by the first open alone. */
  if (g_file_test (job->path, G_FILE_TEST_EXISTS))
    thread = g_thread_new ("recoup-open", open_model_thread, &mo);
  job->session = recoup_session_new (job->path, &error);
  g_debug ("book opened in %.0f ms", (g_get_monotonic_time () - t0) / 1000.0);
  if (thread == NULL && job->session != NULL)
    thread = g_thread_new ("recoup-open", open_model_thread, &mo);
  g_thread_join (thread);
  if (job->session == NULL)
    {
      g_clear_object (&mo.model);
      g_clear_error (&mo.error);
      g_task_return_error (task, error);
      return;
    }
  g_debug ("second connection opened after %.0f ms", (g_get_monotonic_time () - t0) / 1000.0);
  if (mo.model == NULL)
    {
      g_task_return_error (task, mo.error);
      return;
    }
  job->model = mo.model;
  g_task_return_boolean (task, TRUE);
}

static void
show_fatal (RecoupApplication *self,
            const char        *heading,
            const char        *body)
{
  GtkWidget *dialog = adw_message_dialog_new (NULL, heading, body);

  gtk_window_set_application (GTK_WINDOW (dialog), GTK_APPLICATION (self));
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
  if (self->screenshot != NULL)
    {
      g_printerr ("%s: %s\n", heading, body);
      g_application_quit (G_APPLICATION (self));
    }
}

static void
open_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  RecoupApplication *self = RECOUP_APPLICATION (object);
  OpenJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  RecoupWindow *window;

  g_application_release (G_APPLICATION (self));
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *body = g_strdup_printf (_("%s\n\nChoose another book with --book PATH or in Preferences."),
                                               error->message);
      show_fatal (self, _("Cannot Open the Book"), body);
      return;
    }

  window = recoup_window_new (ADW_APPLICATION (self), job->session, job->model);
  g_set_weak_pointer (&self->window, window);
  if (self->bench)
    recoup_app_bench_attach (window, self->started_us);
  if (self->screenshot != NULL)
    {
      ShotState *st = g_new0 (ShotState, 1);

      const char *size = g_getenv ("RECOUP_SCREENSHOT_SIZE");
      int width, height;

      st->app = self;
      /* e.g. RECOUP_SCREENSHOT_SIZE=400x700 shows the folded, one-pane layout */
      if (size != NULL && sscanf (size, "%dx%d", &width, &height) == 2)
        gtk_window_set_default_size (GTK_WINDOW (window), width, height);
      gtk_widget_add_tick_callback (GTK_WIDGET (window), screenshot_tick_cb, st, g_free);
    }
  {
    GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

    /* One book at a time: close the welcome window, or the window of the
     * book switched from (app.switch-book), and what it had open. */
    for (GList *l = windows; l != NULL; )
      {
        GList *next = l->next;

        if (l->data != window)
          gtk_window_destroy (l->data);
        l = next;
      }
  }
  gtk_window_present (GTK_WINDOW (window));
  if (job->toast != NULL)
    recoup_window_toast (window, job->toast);
}

static void
open_book_with_toast (RecoupApplication *self,
                      const char        *path,
                      const char        *toast)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, open_done_cb, NULL);
  OpenJob *job = g_new0 (OpenJob, 1);

  job->path = g_strdup (path);
  job->toast = toast != NULL && *toast != '\0' ? g_strdup (toast) : NULL;
  g_application_hold (G_APPLICATION (self));
  g_task_set_source_tag (task, recoup_application_open_book);
  g_task_set_task_data (task, job, (GDestroyNotify) open_job_free);
  g_task_run_in_thread (task, open_thread);
}

void
recoup_application_open_book (RecoupApplication *self,
                              const char        *path)
{
  open_book_with_toast (self, path, NULL);
}

/* app.switch-book (path, message): the book at path is the one the app
 * opens from now on (book-path in GSettings), and it opens now in place of
 * the book open before, whose window says the message once it shows. The
 * Sync page uses it for a collector joining in a new book. */
static void
switch_book_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  RecoupApplication *self = user_data;
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  const char *path;
  const char *toast;

  g_variant_get (param, "(&s&s)", &path, &toast);
  g_settings_set_string (settings, "book-path", path);
  open_book_with_toast (self, path, toast);
}

/* ---- first start: an empty book or a demo book ------------------------- */

typedef struct
{
  char         *path;
  GtkWidget    *bar;   /* weak */
  GCancellable *cancellable;
} DemoJob;

typedef struct
{
  GtkWidget *bar;
  double     fraction;
} DemoProgress;

static void
demo_job_free (DemoJob *job)
{
  g_free (job->path);
  g_clear_weak_pointer (&job->bar);
  g_clear_object (&job->cancellable);
  g_free (job);
}

static gboolean
demo_progress_idle (gpointer data)
{
  DemoProgress *p = data;

  if (p->bar != NULL)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (p->bar), p->fraction);
  g_clear_weak_pointer (&p->bar);
  g_free (p);
  return G_SOURCE_REMOVE;
}

static void
demo_progress (guint64  done,
               guint64  total,
               gpointer user_data)
{
  DemoJob *job = user_data;
  DemoProgress *p;

  if (total == 0 || (done % 50 != 0 && done != total))
    return;
  p = g_new0 (DemoProgress, 1);
  p->fraction = (double) done / (double) total;
  g_set_weak_pointer (&p->bar, job->bar);
  g_idle_add (demo_progress_idle, p);
}

static void
demo_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  DemoJob *job = task_data;
  RecoupDemoOptions options = { 0 };
  g_autoptr(RecoupBook) book = NULL;
  GError *error = NULL;

  options.n_accounts = 500;
  options.seed = 42;
  book = recoup_book_open (job->path, RECOUP_BOOK_OPEN_DEFAULT, &error);
  if (book == NULL || !recoup_demo_generate (book, &options, demo_progress, job, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
demo_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  RecoupApplication *self = RECOUP_APPLICATION (object);
  DemoJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      show_fatal (self, _("Cannot Create the Demo Book"), error->message);
      return;
    }
  recoup_application_open_book (self, job->path);
}

static void
welcome_create_cb (GtkWidget         *button,
                   RecoupApplication *self)
{
  const char *path = g_object_get_data (G_OBJECT (button), "path");
  gboolean demo = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "demo"));
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_autofree char *body = g_strdup_printf (_("Cannot create the folder %s: %s."), dir, g_strerror (errno));
      show_fatal (self, _("Cannot Create the Book"), body);
      return;
    }
  gtk_widget_set_sensitive (gtk_widget_get_parent (button), FALSE);

  if (demo)
    {
      GtkWidget *bar = g_object_get_data (G_OBJECT (button), "bar");
      g_autoptr(GTask) task = g_task_new (self, NULL, demo_done_cb, NULL);
      DemoJob *job = g_new0 (DemoJob, 1);

      job->path = g_strdup (path);
      g_set_weak_pointer (&job->bar, bar);
      gtk_widget_set_visible (bar, TRUE);
      g_task_set_task_data (task, job, (GDestroyNotify) demo_job_free);
      g_task_run_in_thread (task, demo_thread);
      return;
    }
  (void) demo;
  recoup_application_open_book (self, path);
}

static void
show_welcome (RecoupApplication *self,
              const char        *path)
{
  GtkWidget *win = adw_application_window_new (GTK_APPLICATION (self));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *status = adw_status_page_new ();
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *empty = gtk_button_new_with_mnemonic (_("Create an _Empty Book"));
  GtkWidget *bar = gtk_progress_bar_new ();
  g_autofree char *description = g_strdup_printf (_("There is no book at %s yet. Start with an empty book and "
                                                    "import your accounts, or explore a demo book."), path);

  gtk_window_set_title (GTK_WINDOW (win), _("Welcome to Recoup"));
  gtk_window_set_default_size (GTK_WINDOW (win), 560, 520);
  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), APPLICATION_ID);
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("Welcome to Recoup"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status), description);
  gtk_widget_set_vexpand (status, TRUE);
  gtk_widget_set_halign (buttons, GTK_ALIGN_CENTER);

  {
    GtkWidget *demo = gtk_button_new_with_mnemonic (_("Create a _Demo Book"));

    gtk_widget_add_css_class (demo, "pill");
    gtk_widget_add_css_class (demo, "suggested-action");
    g_object_set_data_full (G_OBJECT (demo), "path", g_strdup (path), g_free);
    g_object_set_data (G_OBJECT (demo), "demo", GINT_TO_POINTER (TRUE));
    g_object_set_data (G_OBJECT (demo), "bar", bar);
    g_signal_connect (demo, "clicked", G_CALLBACK (welcome_create_cb), self);
    gtk_box_append (GTK_BOX (buttons), demo);
  }
  gtk_widget_add_css_class (empty, "pill");
  g_object_set_data_full (G_OBJECT (empty), "path", g_strdup (path), g_free);
  g_signal_connect (empty, "clicked", G_CALLBACK (welcome_create_cb), self);
  gtk_box_append (GTK_BOX (buttons), empty);
  gtk_widget_set_visible (bar, FALSE);
  gtk_box_append (GTK_BOX (buttons), bar);
  adw_status_page_set_child (ADW_STATUS_PAGE (status), buttons);
  gtk_box_append (GTK_BOX (box), status);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (win), box);
  gtk_window_present (GTK_WINDOW (win));
}

static char *
choose_book_path (RecoupApplication *self)
{
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *configured = NULL;

  if (self->book_path != NULL)
    return g_strdup (self->book_path);
  if (g_getenv ("RECOUP_BOOK") != NULL && *g_getenv ("RECOUP_BOOK") != '\0')
    return recoup_default_book_path ();
  settings = g_settings_new (APPLICATION_ID);
  configured = g_settings_get_string (settings, "book-path");
  if (*configured != '\0')
    return g_steal_pointer (&configured);
  return recoup_default_book_path ();
}

/* ---- application ------------------------------------------------------- */

static void
recoup_application_activate (GApplication *app)
{
  RecoupApplication *self = RECOUP_APPLICATION (app);
  g_autofree char *path = NULL;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  if (windows != NULL)
    {
      gtk_window_present (windows->data);
      return;
    }

  path = choose_book_path (self);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    recoup_application_open_book (self, path);
  else
    show_welcome (self, path);
}

static int
recoup_application_handle_local_options (GApplication *app,
                                         GVariantDict *options)
{
  RecoupApplication *self = RECOUP_APPLICATION (app);
  const char *text;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("recoup %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (g_variant_dict_lookup (options, "book", "^&ay", &text))
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (text);

      self->book_path = g_file_get_path (file);
    }
  if (g_variant_dict_lookup (options, "screenshot", "^&ay", &text))
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (text);

      self->screenshot = g_file_get_path (file);
      /* A screenshot run is its own instance. */
      g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
    }
  if (g_variant_dict_contains (options, "bench"))
    {
      self->bench = TRUE;
      g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
    }
  if (g_variant_dict_lookup (options, "screenshot-dialog", "&s", &text))
    self->screenshot_of = g_strdup (text);
  return -1;
}

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  GtkApplication *app = user_data;
  static const char *developers[] = { "The Recoup developers", NULL };

  adw_show_about_window (gtk_application_get_active_window (app),
                         "application-name", "Recoup",
                         "application-icon", APPLICATION_ID,
                         "version", PACKAGE_VERSION,
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "comments", _("Chase what customers owe, offline and in sync."),
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  GtkApplication *app = user_data;
  GtkWindow *win = recoup_preferences_new (gtk_application_get_active_window (app));

  gtk_window_present (win);
}

static void
recoup_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { "quit", quit_action },
    { "about", about_action },
    { "preferences", preferences_action },
    { "switch-book", switch_book_action, "(ss)" },
  };
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *prefs_accels[] = { "<Control>comma", NULL };
  static const char *close_accels[] = { "<Control>w", NULL };

  G_APPLICATION_CLASS (recoup_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences", prefs_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);
}

static void
recoup_application_finalize (GObject *object)
{
  RecoupApplication *self = RECOUP_APPLICATION (object);

  g_clear_weak_pointer (&self->window);
  g_free (self->book_path);
  g_free (self->screenshot);
  g_free (self->screenshot_of);
  G_OBJECT_CLASS (recoup_application_parent_class)->finalize (object);
}

static void
recoup_application_class_init (RecoupApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = recoup_application_finalize;
  app_class->activate = recoup_application_activate;
  app_class->startup = recoup_application_startup;
  app_class->handle_local_options = recoup_application_handle_local_options;
}

static void
recoup_application_init (RecoupApplication *self)
{
  static const GOptionEntry options[] = {
    { "book", 'b', 0, G_OPTION_ARG_FILENAME, NULL, N_("Open the book at PATH"), N_("PATH") },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("Render the window to a PNG file once the worklist is drawn, then quit"), N_("FILE") },
    { "screenshot-dialog", 0, 0, G_OPTION_ARG_STRING, NULL,
      N_("With --screenshot: open this window action first and render its dialog"), N_("ACTION") },
    { "bench", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Print when the worklist is first drawn, the memory used and the time a 10,000-row jump takes, then quit"),
      NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and quit"), NULL },
    { NULL }
  };

  self->started_us = g_get_monotonic_time ();
  g_application_add_main_option_entries (G_APPLICATION (self), options);
}

RecoupApplication *
recoup_application_new (void)
{
  return g_object_new (RECOUP_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/org/recoup/Recoup",
                       NULL);
}
