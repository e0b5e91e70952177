/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-sync.h"
#include "recoup-sync-status.h"

/* How often the background sync runs (seconds); RECOUP_SYNC_INTERVAL overrides. */
#define DEFAULT_INTERVAL_S 300
/* How often the session is checked for new local writes (a counter read). */
#define WRITES_POLL_MS     1000

typedef enum
{
  JOB_REFRESH,
  JOB_SYNC,
  JOB_ENROLL,
  JOB_JOIN,
} JobKind;

/* What the worker read from the book, handed to the main thread. */
typedef struct
{
  gboolean   enrolled;
  char      *url;
  char      *fingerprint;
  char      *user_id;
  char      *user_name;
  char      *role;
  gint64     last_ok;
  gint64     last_error_at;
  char      *last_error;
  gboolean   last_unreachable;   /* ... and it was that the server could not be reached */
  gboolean   last_unauthorized;  /* ... or that it no longer knows this device */
  gint64     pending;
  JsonArray *rejections;
  JsonArray *conflicts;
  JsonArray *review;
} Snapshot;

typedef struct
{
  JobKind           kind;
  gboolean          light;        /* refresh the pending count only */
  char             *code;
  char             *device_name;
  char             *new_path;     /* JOB_JOIN: the book it made */
  Snapshot          snap;
  RecoupSyncReport  report;
  GError           *sync_error;   /* a failed sync still returns a snapshot */
} Job;

struct _RecoupSyncStatus
{
  GObject          parent_instance;

  RecoupSession   *session;
  char            *path;
  RecoupBook      *book;          /* worker threads only, under lock */
  GMutex           lock;
  GCancellable    *cancellable;
  GNetworkMonitor *monitor;       /* borrowed */

  Snapshot         snap;
  char            *error;         /* the last failed run's reason, NULL after a good one */
  gboolean         unreachable;   /* ... and it was that the server could not be reached */
  gboolean         unauthorized;  /* ... or that it no longer knows this device */
  gboolean         running;
  gboolean         again;         /* a sync was asked for while one ran */
  gboolean         reached;       /* the server answered while the monitor said offline */
  gboolean         shut_down;
  guint            n_runs;
  guint            seen_writes;
  guint            refresh_next;  /* re-read once more: a write queued may commit later */
  guint            timer_id;
  guint            poll_id;
};

G_DEFINE_FINAL_TYPE (RecoupSyncStatus, recoup_sync_status, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_SYNCED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
snapshot_clear (Snapshot *s)
{
  g_clear_pointer (&s->url, g_free);
  g_clear_pointer (&s->fingerprint, g_free);
  g_clear_pointer (&s->user_id, g_free);
  g_clear_pointer (&s->user_name, g_free);
  g_clear_pointer (&s->role, g_free);
  g_clear_pointer (&s->last_error, g_free);
  g_clear_pointer (&s->rejections, json_array_unref);
  g_clear_pointer (&s->conflicts, json_array_unref);
  g_clear_pointer (&s->review, json_array_unref);
  memset (s, 0, sizeof *s);
}

static void
job_free (Job *job)
{
  g_free (job->code);
  g_free (job->device_name);
  g_free (job->new_path);
  snapshot_clear (&job->snap);
  g_clear_error (&job->sync_error);
  g_free (job);
}

/* ---- worker side ------------------------------------------------------- */

static gint64
setting_int (RecoupBook *book,
             const char *key)
{
  g_autofree char *text = recoup_book_get_setting (book, key);

  return text != NULL ? g_ascii_strtoll (text, NULL, 10) : 0;
}

static gboolean
describe_each (RecoupBook  *book,
               JsonArray   *array,
               guint        limit,
               gboolean   (*describe) (RecoupBook *, JsonObject *, GError **),
               GError     **error)
{
  for (guint i = 0; i < MIN (json_array_get_length (array), limit); i++)
    if (!describe (book, json_array_get_object_element (array, i), error))
      return FALSE;
  return TRUE;
}

/* The popover lists the refusals in two parts, those sent again with the
 * next sync and those refused for good (recoup_merge_reason_is_resent()):
 * the first of each are described. */
static gboolean
describe_rejections (RecoupBook  *book,
                     JsonArray   *array,
                     GError     **error)
{
  guint described[2] = { 0, 0 };

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *r = json_array_get_object_element (array, i);
      const char *reason = json_object_get_string_member_with_default (r, "reason", NULL);
      guint resent = recoup_merge_reason_is_resent (reason) ? 1 : 0;

      if (described[resent] == RECOUP_SYNC_STATUS_N_DESCRIBED)
        continue;
      described[resent]++;
      if (!recoup_merge_describe_rejection (book, r, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
read_snapshot (RecoupBook  *book,
               Snapshot    *s,
               gboolean     light,
               GError     **error)
{
  RecoupSyncError kind;

  s->url = recoup_book_get_setting (book, "sync.url");
  s->enrolled = s->url != NULL && *s->url != '\0';
  s->fingerprint = recoup_book_get_setting (book, "sync.fingerprint");
  s->user_id = recoup_book_get_setting (book, "sync.user_id");
  s->user_name = recoup_book_get_setting (book, "sync.user_name");
  s->role = recoup_book_get_setting (book, "sync.role");
  s->last_ok = setting_int (book, "sync.last_ok_at");
  s->last_error_at = setting_int (book, "sync.last_error_at");
  s->last_error = recoup_book_get_setting (book, "sync.last_error");
  if (recoup_sync_get_last_error_kind (book, &kind))
    {
      s->last_unreachable = kind == RECOUP_SYNC_ERROR_NETWORK;
      s->last_unauthorized = kind == RECOUP_SYNC_ERROR_UNAUTHORIZED;
    }
  s->pending = s->enrolled ? MAX (recoup_merge_count_unsent (book), 0) : 0;
  /* The logs and the review list are only shown for a connected book; the
   * review list scans the accounts, so not after every local write. */
  if (!s->enrolled || light)
    return TRUE;
  if (!(s->rejections = recoup_merge_list_rejections (book, error)) ||
      !(s->conflicts = recoup_merge_list_conflicts (book, error)) ||
      !(s->review = recoup_merge_list_review (book, 50, error)))
    return FALSE;
  return describe_rejections (book, s->rejections, error) &&
         describe_each (book, s->conflicts, RECOUP_SYNC_STATUS_N_DESCRIBED, recoup_merge_describe_conflict,
                        error);
}

static gboolean
ensure_book (RecoupSyncStatus  *self,
             GError           **error)
{
  if (self->book == NULL)
    self->book = recoup_book_open (self->path, RECOUP_BOOK_OPEN_NO_CREATE, error);
  return self->book != NULL;
}

static gboolean
enroll (RecoupSyncStatus  *self,
        Job               *job,
        GCancellable      *cancellable,
        GError           **error)
{
  g_autoptr(RecoupSyncEnrollment) e = NULL;

  /* Core refuses, unspent: a code for anyone but an owner for a book with
   * data of its own (RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK, see join_new_book()),
   * and for a book enrolled already, a code of another team. A code of its
   * own team enrolls it again (its device was revoked, or its user removed),
   * as the CLI's enroll does. */
  if (!(e = recoup_sync_enroll_book (self->book, job->code, job->device_name, cancellable, error)))
    return FALSE;
  return recoup_sync_attach (self->book, e, error);
}

/* A file beside @path that does not exist yet, named after it and the
 * enrolled user: laptop.recoup gives laptop-carl.recoup, then
 * laptop-carl-2.recoup… */
static char *
new_book_path (const char *path,
               const char *user_name)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *who = g_strcanon (g_strdup (user_name), G_CSET_a_2_z G_CSET_A_2_Z G_CSET_DIGITS "-_", '-');

  if (g_str_has_suffix (base, ".recoup"))
    base[strlen (base) - strlen (".recoup")] = '\0';
  for (guint i = 1; ; i++)
    {
      g_autofree char *name = i == 1 ? g_strdup_printf ("%s-%s.recoup", base, who)
                                     : g_strdup_printf ("%s-%s-%u.recoup", base, who, i);
      g_autofree char *candidate = g_build_filename (dir, name, NULL);
      g_autofree char *part = g_strconcat (candidate, ".part", NULL);

      if (!g_file_test (candidate, G_FILE_TEST_EXISTS) && !g_file_test (part, G_FILE_TEST_EXISTS))
        return g_steal_pointer (&candidate);
    }
}

/* The way out of RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK: the code enrolls a new
 * book beside this one, which starts as the team's; this book is not
 * touched. */
static gboolean
join_new_book (RecoupSyncStatus  *self,
               Job               *job,
               GCancellable      *cancellable,
               GError           **error)
{
  g_autoptr(RecoupSyncEnrollment) e = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(GError) bootstrap_error = NULL;
  g_autofree char *path = NULL;

  if (!(e = recoup_sync_enroll (job->code, job->device_name, cancellable, error)))
    return FALSE;
  path = new_book_path (self->path, e->user_name);
  /* The code is spent: a copy that cannot be downloaded now must not undo
   * the enrollment. The new book then starts empty, and its first sync
   * brings the team's book as changes. */
  if (!recoup_sync_bootstrap (e, path, cancellable, &bootstrap_error))
    g_message ("%s starts empty: %s", path, bootstrap_error->message);
  if (!(book = recoup_book_open (path, RECOUP_BOOK_OPEN_DEFAULT, error)) ||
      !recoup_sync_attach (book, e, error))
    return FALSE;
  job->new_path = g_steal_pointer (&path);
  return TRUE;
}

static void
job_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  RecoupSyncStatus *self = source_object;
  Job *job = task_data;
  GError *error = NULL;
  gboolean ok = TRUE;

  /* A new book is none of this book's business: its connection stays as it is. */
  if (job->kind == JOB_JOIN)
    {
      if (!join_new_book (self, job, cancellable, &error))
        g_task_return_error (task, error);
      else
        g_task_return_boolean (task, TRUE);
      return;
    }
  g_mutex_lock (&self->lock);
  if (!ensure_book (self, &error))
    ok = FALSE;
  else if (job->kind == JOB_ENROLL)
    ok = enroll (self, job, cancellable, &error);
  else if (job->kind == JOB_SYNC)
    {
      g_autoptr(RecoupSyncClient) client = recoup_sync_client_new (self->book, &job->sync_error);

      if (client != NULL)
        recoup_sync_client_run (client, &job->report, cancellable, &job->sync_error);
    }
  if (ok)
    ok = read_snapshot (self->book, &job->snap, job->light, &error);
  g_mutex_unlock (&self->lock);

  if (!ok)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* ---- main thread ------------------------------------------------------- */

static gboolean
network_available (RecoupSyncStatus *self)
{
  return self->reached || g_network_monitor_get_network_available (self->monitor);
}

RecoupSyncState
recoup_sync_status_get_state (RecoupSyncStatus *self)
{
  g_return_val_if_fail (RECOUP_IS_SYNC_STATUS (self), RECOUP_SYNC_STATE_NOT_CONNECTED);

  if (!self->snap.enrolled)
    return self->running ? RECOUP_SYNC_STATE_SYNCING : RECOUP_SYNC_STATE_NOT_CONNECTED;
  if (self->running)
    return RECOUP_SYNC_STATE_SYNCING;
  /* Out of the server's reach is the normal case for a laptop in the
   * field, not a failure: the changes wait. */
  if (!network_available (self) || self->unreachable)
    return RECOUP_SYNC_STATE_OFFLINE;
  if (self->error != NULL)
    return RECOUP_SYNC_STATE_ERROR;
  if (self->snap.pending > 0)
    return RECOUP_SYNC_STATE_PENDING;
  return RECOUP_SYNC_STATE_SYNCED;
}

gboolean
recoup_sync_status_is_enrolled (RecoupSyncStatus *self)
{
  return self->snap.enrolled;
}

gboolean
recoup_sync_status_needs_enrollment (RecoupSyncStatus *self)
{
  return self->snap.enrolled && self->error != NULL && self->unauthorized;
}

gint64
recoup_sync_status_get_n_pending (RecoupSyncStatus *self)
{
  return self->snap.pending;
}

gint64
recoup_sync_status_get_last_sync (RecoupSyncStatus *self)
{
  return self->snap.last_ok;
}

const char *
recoup_sync_status_get_error (RecoupSyncStatus *self)
{
  return self->error;
}

const char *
recoup_sync_status_get_url (RecoupSyncStatus *self)
{
  return self->snap.url;
}

const char *
recoup_sync_status_get_fingerprint (RecoupSyncStatus *self)
{
  return self->snap.fingerprint;
}

const char *
recoup_sync_status_get_user_name (RecoupSyncStatus *self)
{
  return self->snap.user_name;
}

const char *
recoup_sync_status_get_role (RecoupSyncStatus *self)
{
  return self->snap.role;
}

const char *
recoup_sync_status_get_book_path (RecoupSyncStatus *self)
{
  return self->path;
}

JsonArray *
recoup_sync_status_get_rejections (RecoupSyncStatus *self)
{
  return self->snap.rejections;
}

JsonArray *
recoup_sync_status_get_conflicts (RecoupSyncStatus *self)
{
  return self->snap.conflicts;
}

JsonArray *
recoup_sync_status_get_review (RecoupSyncStatus *self)
{
  return self->snap.review;
}

guint
recoup_sync_status_get_n_runs (RecoupSyncStatus *self)
{
  return self->n_runs;
}

RecoupSyncStatus *
recoup_sync_status_get_for_window (GtkWindow *window)
{
  return window != NULL ? g_object_get_data (G_OBJECT (window), "recoup-sync-status") : NULL;
}

static void
take_snapshot (RecoupSyncStatus *self,
               Snapshot         *snap)
{
  snapshot_clear (&self->snap);
  self->snap = *snap;
  memset (snap, 0, sizeof *snap);
}

static gboolean
set_user_func (RecoupBook  *book,
               gpointer     data,
               GError     **error)
{
  const char *user_id = data;

  /* The enrolled user's row arrives with a pull; until then the book keeps
   * writing as its local owner. */
  if (g_strcmp0 (recoup_book_get_user_id (book), user_id) == 0)
    return TRUE;
  if (!recoup_book_set_user (book, user_id, NULL))
    g_debug ("user %s not in the book yet", user_id);
  return TRUE;
}

static void start_job (RecoupSyncStatus *self, Job *job, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data);

static void
sync_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  RecoupSyncStatus *self = RECOUP_SYNC_STATUS (object);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  self->running = FALSE;
  self->n_runs++;
  if (self->shut_down)
    return;
  self->unreachable = FALSE;
  self->unauthorized = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
    }
  else
    {
      take_snapshot (self, &job->snap);
      g_clear_pointer (&self->error, g_free);
      if (job->sync_error != NULL && !g_error_matches (job->sync_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          self->error = g_strdup (job->sync_error->message);
          self->unreachable = g_error_matches (job->sync_error, RECOUP_SYNC_ERROR, RECOUP_SYNC_ERROR_NETWORK);
          self->unauthorized = g_error_matches (job->sync_error, RECOUP_SYNC_ERROR,
                                                RECOUP_SYNC_ERROR_UNAUTHORIZED);
          g_message ("sync failed: %s", job->sync_error->message);
        }
      else if (job->sync_error == NULL)
        {
          /* The server answered: whatever the monitor says, we are online. */
          self->reached = !g_network_monitor_get_network_available (self->monitor);
          if (self->snap.user_id != NULL && self->session != NULL)
            recoup_session_run_async (self->session, set_user_func, g_strdup (self->snap.user_id), g_free,
                                      self->cancellable, NULL, NULL);
          g_signal_emit (self, signals[SIGNAL_SYNCED], 0, job->report.applied);
        }
    }
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  if (self->again)
    {
      self->again = FALSE;
      recoup_sync_status_sync (self);
    }
}

void
recoup_sync_status_sync (RecoupSyncStatus *self)
{
  Job *job;

  g_return_if_fail (RECOUP_IS_SYNC_STATUS (self));

  if (self->shut_down || !self->snap.enrolled)
    return;
  if (self->running)
    {
      self->again = TRUE;
      return;
    }
  self->running = TRUE;
  job = g_new0 (Job, 1);
  job->kind = JOB_SYNC;
  start_job (self, job, self->cancellable, sync_done_cb, NULL);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
refresh_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  RecoupSyncStatus *self = RECOUP_SYNC_STATUS (object);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gboolean first = GPOINTER_TO_INT (user_data);

  if (self->shut_down)
    return;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_message ("cannot read the sync status: %s", error->message);
      return;
    }
  if (job->light)
    {
      self->snap.pending = job->snap.pending;
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
      return;
    }
  take_snapshot (self, &job->snap);
  /* A failure recorded by an earlier run (this or another program) shows
   * until a sync succeeds, an unreachable server as offline. */
  if (first && self->snap.last_error_at > self->snap.last_ok && self->snap.last_error != NULL &&
      *self->snap.last_error != '\0' && self->error == NULL)
    {
      self->error = g_strdup (self->snap.last_error);
      self->unreachable = self->snap.last_unreachable;
      self->unauthorized = self->snap.last_unauthorized;
    }
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  if (first && self->snap.enrolled && network_available (self))
    recoup_sync_status_sync (self);
}

static void
refresh (RecoupSyncStatus *self,
         gboolean          first,
         gboolean          light)
{
  Job *job = g_new0 (Job, 1);

  job->kind = JOB_REFRESH;
  job->light = light;
  start_job (self, job, self->cancellable, refresh_done_cb, GINT_TO_POINTER (first));
}

void
recoup_sync_status_refresh (RecoupSyncStatus *self)
{
  g_return_if_fail (RECOUP_IS_SYNC_STATUS (self));

  if (!self->shut_down)
    refresh (self, FALSE, FALSE);
}

static void
start_job (RecoupSyncStatus    *self,
           Job                 *job,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, start_job);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, job_thread);
}

static void
enroll_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  RecoupSyncStatus *self = RECOUP_SYNC_STATUS (object);
  g_autoptr(GTask) outer = user_data;
  Job *job = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (outer, error);
      return;
    }
  if (!self->shut_down)
    {
      take_snapshot (self, &job->snap);
      g_clear_pointer (&self->error, g_free);
      self->unreachable = FALSE;
      self->unauthorized = FALSE;
      /* The window writes as the enrolled user from now on: the book's
       * first user gave way to them (recoup_merge_adopt_enrolled_user()). */
      if (self->snap.user_id != NULL && self->session != NULL)
        recoup_session_run_async (self->session, set_user_func, g_strdup (self->snap.user_id), g_free,
                                  self->cancellable, NULL, NULL);
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
      /* The user just reached the server: the first sync runs now. */
      recoup_sync_status_sync (self);
    }
  g_task_return_boolean (outer, TRUE);
}

void
recoup_sync_status_enroll_async (RecoupSyncStatus    *self,
                                 const char          *code,
                                 const char          *device_name,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *outer = g_task_new (self, cancellable, callback, user_data);
  Job *job = g_new0 (Job, 1);

  g_task_set_source_tag (outer, recoup_sync_status_enroll_async);
  job->kind = JOB_ENROLL;
  job->code = g_strdup (code);
  job->device_name = g_strdup (device_name);
  start_job (self, job, cancellable, enroll_done_cb, outer);
}

gboolean
recoup_sync_status_enroll_finish (RecoupSyncStatus  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
recoup_sync_status_join_new_book_async (RecoupSyncStatus    *self,
                                        const char          *code,
                                        const char          *device_name,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  Job *job = g_new0 (Job, 1);

  job->kind = JOB_JOIN;
  job->code = g_strdup (code);
  job->device_name = g_strdup (device_name);
  start_job (self, job, cancellable, callback, user_data);
}

char *
recoup_sync_status_join_new_book_finish (RecoupSyncStatus  *self,
                                         GAsyncResult      *result,
                                         GError           **error)
{
  Job *job = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  return g_steal_pointer (&job->new_path);
}

static gboolean
timer_cb (gpointer data)
{
  RecoupSyncStatus *self = data;

  if (network_available (self))
    recoup_sync_status_sync (self);
  return G_SOURCE_CONTINUE;
}

/* New local writes (the session counts them) change the pending count. A
 * write is queued before it commits, so the count is read again on the
 * next tick too. */
static gboolean
poll_writes_cb (gpointer data)
{
  RecoupSyncStatus *self = data;
  guint n = recoup_session_get_n_writes (self->session);

  if (n != self->seen_writes)
    {
      self->seen_writes = n;
      self->refresh_next = 2;
    }
  if (self->refresh_next > 0 && !self->running)
    {
      self->refresh_next--;
      if (self->snap.enrolled)
        refresh (self, FALSE, TRUE);
    }
  return G_SOURCE_CONTINUE;
}

static void
network_changed_cb (RecoupSyncStatus *self)
{
  self->reached = FALSE;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  if (g_network_monitor_get_network_available (self->monitor))
    recoup_sync_status_sync (self);
}

void
recoup_sync_status_shutdown (RecoupSyncStatus *self)
{
  self->shut_down = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
}

static void
recoup_sync_status_dispose (GObject *object)
{
  RecoupSyncStatus *self = RECOUP_SYNC_STATUS (object);

  recoup_sync_status_shutdown (self);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (recoup_sync_status_parent_class)->dispose (object);
}

static void
recoup_sync_status_finalize (GObject *object)
{
  RecoupSyncStatus *self = RECOUP_SYNC_STATUS (object);

  g_clear_object (&self->book);
  g_clear_object (&self->cancellable);
  snapshot_clear (&self->snap);
  g_free (self->error);
  g_free (self->path);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (recoup_sync_status_parent_class)->finalize (object);
}

static void
recoup_sync_status_class_init (RecoupSyncStatusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = recoup_sync_status_dispose;
  object_class->finalize = recoup_sync_status_finalize;

  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_SYNCED] = g_signal_new ("synced", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void
recoup_sync_status_init (RecoupSyncStatus *self)
{
  g_mutex_init (&self->lock);
  self->cancellable = g_cancellable_new ();
}

RecoupSyncStatus *
recoup_sync_status_new (RecoupSession *session)
{
  RecoupSyncStatus *self = g_object_new (RECOUP_TYPE_SYNC_STATUS, NULL);
  const char *interval = g_getenv ("RECOUP_SYNC_INTERVAL");
  guint seconds = DEFAULT_INTERVAL_S;

  if (interval != NULL && g_ascii_strtoull (interval, NULL, 10) > 0)
    seconds = (guint) g_ascii_strtoull (interval, NULL, 10);
  self->session = g_object_ref (session);
  self->path = g_strdup (recoup_session_get_path (session));
  self->seen_writes = recoup_session_get_n_writes (session);
  self->monitor = g_network_monitor_get_default ();
  g_signal_connect_object (self->monitor, "notify::network-available", G_CALLBACK (network_changed_cb),
                           self, G_CONNECT_SWAPPED);
  self->timer_id = g_timeout_add_seconds (seconds, timer_cb, self);
  self->poll_id = g_timeout_add (WRITES_POLL_MS, poll_writes_cb, self);
  refresh (self, TRUE, FALSE);
  return self;
}
