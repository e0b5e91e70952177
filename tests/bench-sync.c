/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "bench-sync"

#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "recoup-book-private.h"
#include "recoup-test-util.h"
#include "recoup-core.h"
#include "recoup-demo.h"
#include "recoup-sync.h"

/*
 * The sync benchmark of issue 6 (docs/sync-protocol.md), in one run against
 * a real recoupd ($RECOUPD, else the one built beside this program) on
 * 127.0.0.1 over HTTPS with a self-signed certificate made by openssl:
 *
 *  1. push of RECOUP_BENCH_CHANGES (default 100,000) account-shaped changes
 *     (half accounts, half their contact points) from device A, pull into
 *     device B: changes/s, bytes on the wire each way (counted by a TCP
 *     relay in front of recoupd: TLS records, i.e. headers and gzipped bodies
 *     as sent), peak memory of this process and of recoupd (VmHWM, reset
 *     before each phase through /proc/PID/clear_refs);
 *  2. PouchDB replicating the same documents (build-aux/bench-pouchdb.sh,
 *     skipped when node/npm are missing) and the ratio Recoup/PouchDB;
 *  3. bootstrap of a new device from a big server book: RECOUP_BENCH_BOOK
 *     (a book to copy, e.g. /work/bench/demo-1m.recoup) or a demo book of
 *     RECOUP_BENCH_BOOTSTRAP_ACCOUNTS accounts (default 100,000) made here;
 *  4. incremental sync after 1 % of the accounts changed, and with nothing
 *     changed;
 *  5. RECOUP_BENCH_DEVICES (50) devices syncing at once for
 *     RECOUP_BENCH_LOAD_SECONDS (60) s: syncs, requests, p50/p99, errors.
 *
 * Also: RECOUP_BENCH_SKIP=pouchdb,bootstrap,load skips phases;
 * RECOUP_BENCH_BATCH sets the client's push batch and pull page;
 * RECOUP_BENCH_LOAD_THINK_MS a pause between a device's syncs (default 0);
 * RECOUP_BENCH_KEEP keeps the temporary directory; RECOUP_BENCH_CACHE,
 * POUCHDB_BATCH_SIZE and POUCHDB_SERVER_MEMORY=1 go to bench-pouchdb.sh.
 * The bootstrap of a copied 1M book needs about 2 x its size (25 GB) free
 * on the temporary directory's disk.
 *
 * Run it with `meson test -C _build --benchmark bench-sync --verbose`.
 */

typedef struct
{
  char        *dir;
  char        *data_dir;
  char        *cert;
  char        *key;
  char        *config;
  char        *fingerprint;
  GSubprocess *server;
  guint        port;
  const char  *recoupd;
} Server;

static double
seconds_since (gint64 t0)
{
  return (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
}

static guint
env_uint (const char *name,
          guint       fallback)
{
  const char *v = g_getenv (name);

  return v != NULL && *v ? (guint) g_ascii_strtoull (v, NULL, 10) : fallback;
}

static gboolean
skipped (const char *phase)
{
  const char *v = g_getenv ("RECOUP_BENCH_SKIP");
  g_auto(GStrv) parts = NULL;

  if (v == NULL)
    return FALSE;
  parts = g_strsplit (v, ",", -1);
  return g_strv_contains ((const char * const *) parts, phase);
}

static void
check (gboolean    ok,
       GError     *error,
       const char *what)
{
  if (!ok)
    g_error ("%s failed: %s", what, error != NULL ? error->message : "(no message)");
}

/* ---- memory: VmHWM of a process, and its reset ---- */

static gint64
hwm_kb (GPid pid)
{
  g_autofree char *path = pid ? g_strdup_printf ("/proc/%d/status", (int) pid) : g_strdup ("/proc/self/status");
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (p = strstr (text, "VmHWM:")) == NULL)
    return -1;
  return g_ascii_strtoll (p + strlen ("VmHWM:"), NULL, 10);
}

static void
hwm_reset (GPid pid)
{
  /* This process: hand memory freed by earlier phases back first, so the
   * peak is the phase's own. */
  if (pid == 0)
    malloc_trim (0);
  g_autofree char *path = pid ? g_strdup_printf ("/proc/%d/clear_refs", (int) pid) : g_strdup ("/proc/self/clear_refs");

  FILE *f = fopen (path, "w");
  gboolean ok;

  /* "5" resets the peak RSS to the current RSS (Linux >= 4.0). */
  ok = f != NULL && fputs ("5", f) >= 0;
  if (f != NULL && fclose (f) != 0)
    ok = FALSE;
  if (!ok)
    g_printerr ("# cannot reset %s; peak memory covers the whole run\n", path);
}

static GPid
server_pid (Server *s)
{
  const char *id = g_subprocess_get_identifier (s->server);

  return id != NULL ? (GPid) atoi (id) : 0;
}

/* ---- a byte-counting TCP relay in front of recoupd ---- */

typedef struct
{
  GSocketService *service;
  guint           port;
  guint           target_port;
  gint64          up;     /* client -> server */
  gint64          down;   /* server -> client */
  GMutex          lock;
  GCond           ready;
  GThread        *thread;
  GMainContext   *context;
  GMainLoop      *loop;
} Relay;

static gboolean
relay_run_cb (GThreadedSocketService *service,
              GSocketConnection      *conn,
              GObject                *source,
              gpointer                data)
{
  Relay *r = data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) upstream = NULL;
  GSocket *socks[2];
  char *buf = g_malloc (256 * 1024);

  upstream = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16) r->target_port, NULL, NULL);
  if (upstream == NULL)
    {
      g_free (buf);
      return TRUE;
    }
  socks[0] = g_socket_connection_get_socket (conn);
  socks[1] = g_socket_connection_get_socket (upstream);
  /* Forward every read at once: the relay must not add Nagle delays. */
  g_socket_set_option (socks[0], IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  g_socket_set_option (socks[1], IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  for (;;)
    {
      GPollFD fds[2] = {
        { g_socket_get_fd (socks[0]), G_IO_IN | G_IO_HUP | G_IO_ERR, 0 },
        { g_socket_get_fd (socks[1]), G_IO_IN | G_IO_HUP | G_IO_ERR, 0 },
      };

      if (g_poll (fds, 2, 600000) <= 0)
        break;
      for (int i = 0; i < 2; i++)
        if (fds[i].revents)
          {
            gssize n = g_socket_receive (socks[i], buf, 256 * 1024, NULL, NULL);

            if (n <= 0)
              goto done;
            if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (i == 0 ? upstream : conn)),
                                            buf, (gsize) n, NULL, NULL, NULL))
              goto done;
            /* Counted as it passes, so a reading between requests is exact. */
            g_mutex_lock (&r->lock);
            if (i == 0)
              r->up += n;
            else
              r->down += n;
            g_mutex_unlock (&r->lock);
          }
    }
done:
  g_socket_close (socks[1], NULL);
  g_free (buf);
  return TRUE;
}

static gpointer
relay_thread (gpointer data)
{
  Relay *r = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  /* The service accepts on this thread's main context. */
  g_main_context_push_thread_default (r->context);
  r->service = g_threaded_socket_service_new (16);
  check (g_socket_listener_add_address (G_SOCKET_LISTENER (r->service), addr, G_SOCKET_TYPE_STREAM,
                                        G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error), error, "relay listen");
  g_signal_connect (r->service, "run", G_CALLBACK (relay_run_cb), r);
  g_socket_service_start (r->service);
  g_mutex_lock (&r->lock);
  r->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_cond_signal (&r->ready);
  g_mutex_unlock (&r->lock);
  g_main_loop_run (r->loop);
  g_socket_service_stop (r->service);
  g_socket_listener_close (G_SOCKET_LISTENER (r->service));
  g_clear_object (&r->service);
  g_main_context_pop_thread_default (r->context);
  return NULL;
}

static void
relay_start (Relay *r,
             guint  target_port)
{
  g_mutex_init (&r->lock);
  g_cond_init (&r->ready);
  r->target_port = target_port;
  r->context = g_main_context_new ();
  r->loop = g_main_loop_new (r->context, FALSE);
  g_mutex_lock (&r->lock);
  r->thread = g_thread_new ("relay", relay_thread, r);
  while (r->port == 0)
    g_cond_wait (&r->ready, &r->lock);
  g_mutex_unlock (&r->lock);
}

static void
relay_stop (Relay *r)
{
  g_main_loop_quit (r->loop);
  g_thread_join (r->thread);
  g_main_loop_unref (r->loop);
  g_main_context_unref (r->context);
}

static void
relay_take (Relay  *r,
            gint64 *up,
            gint64 *down)
{
  g_mutex_lock (&r->lock);
  *up = r->up;
  *down = r->down;
  r->up = r->down = 0;
  g_mutex_unlock (&r->lock);
}

/* ---- recoupd ---- */

static char *
admin (Server     *s,
       const char *first,
       ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  va_list args;

  g_ptr_array_add (argv, (char *) s->recoupd);
  g_ptr_array_add (argv, (char *) "--config");
  g_ptr_array_add (argv, s->config);
  g_ptr_array_add (argv, (char *) "admin");
  va_start (args, first);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  check (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                       &error), error, "recoupd admin");
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("recoupd admin %s failed: %s", first, err);
  return g_strstrip (g_steal_pointer (&out));
}


static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
server_start (Server *s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autofree char *line = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  s->server = g_subprocess_launcher_spawn (launcher, &error, s->recoupd, "--config", s->config, NULL);
  check (s->server != NULL, error, "starting recoupd");
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (s->server));
  line = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  if (line == NULL || !g_str_has_prefix (line, "recoupd: listening on port "))
    g_error ("recoupd did not start: %s", line ? line : error ? error->message : "no output");
  s->port = (guint) g_ascii_strtoull (line + strlen ("recoupd: listening on port "), NULL, 10);
}

static void
server_stop (Server *s)
{
  if (s->server == NULL)
    return;
  g_subprocess_send_signal (s->server, SIGTERM);
  g_subprocess_wait (s->server, NULL, NULL);
  g_clear_object (&s->server);
}


static char *
enrollment_code (Server     *s,
                 guint       port,
                 const char *org,
                 const char *user)
{
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u", port);

  return admin (s, "--url", url, "enroll", org, user, NULL);
}

/* What `recoup-cli enroll` does: redeem, bootstrap an empty book, attach. */
static RecoupBook *
enroll_book (const char *code,
             const char *path,
             const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupSyncEnrollment) e = recoup_sync_enroll (code, name, NULL, &error);
  RecoupBook *book;

  check (e != NULL, error, "enroll");
  check (recoup_sync_bootstrap (e, path, NULL, &error), error, "bootstrap");
  book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  check (book != NULL, error, "opening the bootstrapped book");
  check (recoup_sync_attach (book, e, &error), error, "attach");
  return book;
}

static gint64
count_rows (RecoupBook *book,
            const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 n = -1;

  if (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

static char *
human_bytes (gint64 n)
{
  if (n >= 1024 * 1024)
    return g_strdup_printf ("%.1f MiB", (double) n / (1024 * 1024));
  return g_strdup_printf ("%.1f KiB", (double) n / 1024);
}

static void
print_bytes (const char *what,
             gint64      up,
             gint64      down,
             guint       n)
{
  g_autofree char *hu = human_bytes (up);
  g_autofree char *hd = human_bytes (down);

  g_print ("    %-28s up %" G_GINT64_FORMAT " B (%s), down %" G_GINT64_FORMAT " B (%s)", what, up, hu, down, hd);
  if (n > 0)
    g_print (", %.0f B/change", (double) (up + down) / n);
  g_print ("\n");
}

/* ---- 1 and 4: push, pull, incremental ---- */

typedef struct
{
  double push_rate;
  double pull_rate;
  guint  n;
} Throughput;

/* Writes what Recoup sends, as PouchDB documents: {_id, type, ...fields}. */
static void
write_documents (RecoupBook *book,
                 const char *path,
                 guint       n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) changes = recoup_merge_collect_unsent (book, n + 16, &error);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  FILE *f = fopen (path, "w");

  check (changes != NULL, error, "collecting unsent changes");
  if (f == NULL)
    g_error ("%s: %s", path, g_strerror (errno));
  for (guint i = 0; i < json_array_get_length (changes); i++)
    {
      JsonObject *c = json_array_get_object_element (changes, i);
      JsonObject *fields = json_object_get_object_member (c, "fields");
      g_autoptr(JsonObject) doc = json_object_new ();
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      g_autofree char *text = NULL;
      GList *members;

      if (g_strcmp0 (json_object_get_string_member (c, "op"), "insert") != 0 || fields == NULL)
        continue;
      if (g_strcmp0 (json_object_get_string_member (c, "entity"), "accounts") != 0 &&
          g_strcmp0 (json_object_get_string_member (c, "entity"), "contact_points") != 0)
        continue;
      json_object_set_string_member (doc, "_id", json_object_get_string_member (c, "entity_id"));
      json_object_set_string_member (doc, "type", json_object_get_string_member (c, "entity"));
      members = json_object_get_members (fields);
      for (GList *l = members; l != NULL; l = l->next)
        if (g_strcmp0 (l->data, "id") != 0)
          json_object_set_member (doc, l->data, json_node_copy (json_object_get_member (fields, l->data)));
      g_list_free (members);
      json_node_set_object (node, doc);
      json_generator_set_root (gen, node);
      text = json_generator_to_data (gen, NULL);
      fputs (text, f);
      fputc ('\n', f);
    }
  fclose (f);
}

static void
make_accounts (RecoupBook *book,
               guint       n_accounts,
               GPtrArray  *ids)
{
  g_autoptr(GError) error = NULL;
  static const char * const tiers[] = { "gold", "silver", "bronze" };
  static const char * const zones[] = { "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles" };

  for (guint i = 0; i < n_accounts; i++)
    {
      g_autofree char *ref = g_strdup_printf ("BENCH-%07u", i);
      g_autofree char *name = g_strdup_printf ("Customer %u Holdings LLC", i);
      g_autofree char *email = g_strdup_printf ("ap.%u@customer%u.example.com", i, i);
      RecoupAccountSpec spec = {
        .ref = ref, .name = name, .currency = "USD", .timezone = zones[i % 4],
        .tier = tiers[i % 3], .tags = "bench,wholesale", .lifetime_revenue = 100000 + (gint64) i * 37,
      };
      char *id;
      g_autofree char *cp = NULL;

      if (i % 5000 == 0)
        check (recoup_book_begin (book, &error), error, "begin");
      id = recoup_account_create (book, &spec, &error);
      check (id != NULL, error, "creating an account");
      cp = recoup_contact_add (book, id, RECOUP_CONTACT_EMAIL, email, "Accounts payable", TRUE, &error);
      check (cp != NULL, error, "adding a contact point");
      g_ptr_array_add (ids, id);
      if (i % 5000 == 4999 || i + 1 == n_accounts)
        check (recoup_book_commit (book, &error), error, "commit");
    }
}

static void
timed_sync (const char       *what,
            RecoupBook       *book,
            Relay            *relay,
            gboolean          do_push,
            gboolean          do_pull,
            RecoupSyncReport *report,
            double           *out_seconds)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupSyncClient) client = recoup_sync_client_new (book, &error);
  gint64 up, down, t0;
  double secs;

  check (client != NULL, error, "sync client");
  memset (report, 0, sizeof *report);
  relay_take (relay, &up, &down);
  t0 = g_get_monotonic_time ();
  if (do_push)
    check (recoup_sync_client_push (client, report, NULL, &error), error, what);
  if (do_pull)
    check (recoup_sync_client_pull (client, report, NULL, &error), error, what);
  secs = seconds_since (t0);
  relay_take (relay, &up, &down);
  g_print ("  %-34s %8.3f s  %u requests, pushed %u, pulled %u (applied %u)\n", what, secs, report->requests,
           report->pushed, report->pulled, report->applied);
  print_bytes ("", up, down, 0);
  if (out_seconds != NULL)
    *out_seconds = secs;
}

static Throughput
bench_throughput (Server     *s,
                  const char *org,
                  const char *docs_path)
{
  guint n_changes = env_uint ("RECOUP_BENCH_CHANGES", 100000);
  guint n_accounts = MAX (n_changes / 2, 1);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *code_a = NULL;
  g_autofree char *code_b = NULL;
  g_autofree char *path_a = g_build_filename (s->dir, "device-a.recoup", NULL);
  g_autofree char *path_b = g_build_filename (s->dir, "device-b.recoup", NULL);
  g_autoptr(RecoupBook) a = NULL;
  g_autoptr(RecoupBook) b = NULL;
  g_autoptr(RecoupSyncClient) ca = NULL;
  g_autoptr(RecoupSyncClient) cb = NULL;
  g_autoptr(GError) error = NULL;
  RecoupSyncReport ra = { 0 }, rb = { 0 };
  Relay relay = { 0 };
  Throughput out = { 0 };
  GPid spid = server_pid (s);
  gint64 up, down, t0, hwm_client, hwm_server;
  double secs;
  guint n_sent;

  relay_start (&relay, s->port);
  code_a = enrollment_code (s, relay.port, org, "olive");
  code_b = enrollment_code (s, relay.port, org, "carl");
  a = enroll_book (code_a, path_a, "device-a");
  b = enroll_book (code_b, path_b, "device-b");

  g_print ("\n## 1. push and pull of %u account-shaped changes (%u accounts + %u contact points)\n",
           n_accounts * 2, n_accounts, n_accounts);
  t0 = g_get_monotonic_time ();
  make_accounts (a, n_accounts, ids);
  n_sent = (guint) recoup_merge_count_unsent (a);
  g_print ("  set-up: %u accounts written on device A in %.1f s; %u unsent changes\n", n_accounts,
           seconds_since (t0), n_sent);
  if (docs_path != NULL)
    write_documents (a, docs_path, n_sent);

  ca = recoup_sync_client_new (a, &error);
  check (ca != NULL, error, "client A");
  cb = recoup_sync_client_new (b, &error);
  check (cb != NULL, error, "client B");
  if (g_getenv ("RECOUP_BENCH_BATCH") != NULL)
    {
      guint batch = env_uint ("RECOUP_BENCH_BATCH", 1000);
      recoup_sync_client_set_batch_size (ca, batch, batch);
      recoup_sync_client_set_batch_size (cb, batch, batch);
      g_print ("  client batch and page size: %u (RECOUP_BENCH_BATCH)\n", batch);
    }
  else
    g_print ("  client batch and page size: the client's defaults\n");

  /* Push A -> recoupd. */
  hwm_reset (0);
  hwm_reset (spid);
  relay_take (&relay, &up, &down);
  t0 = g_get_monotonic_time ();
  check (recoup_sync_client_push (ca, &ra, NULL, &error), error, "push");
  secs = seconds_since (t0);
  relay_take (&relay, &up, &down);
  hwm_client = hwm_kb (0);
  hwm_server = hwm_kb (spid);
  out.push_rate = ra.pushed / MAX (secs, 1e-6);
  out.n = ra.pushed;
  g_print ("  push A -> server: %u changes in %.2f s = %.0f changes/s (%u requests, %u rejected)\n",
           ra.pushed, secs, out.push_rate, ra.requests, ra.rejected);
  print_bytes ("bytes on the wire (TLS):", up, down, ra.pushed);
  g_print ("    peak memory (VmHWM): client %" G_GINT64_FORMAT " MiB, recoupd %" G_GINT64_FORMAT " MiB\n",
           hwm_client / 1024, hwm_server / 1024);
  if (ra.pushed < n_sent || ra.rejected != 0)
    g_error ("push: %u of %u accepted, %u rejected", ra.pushed, n_sent, ra.rejected);

  /* Pull recoupd -> B. */
  hwm_reset (0);
  hwm_reset (spid);
  relay_take (&relay, &up, &down);
  t0 = g_get_monotonic_time ();
  check (recoup_sync_client_pull (cb, &rb, NULL, &error), error, "pull");
  secs = seconds_since (t0);
  relay_take (&relay, &up, &down);
  hwm_client = hwm_kb (0);
  hwm_server = hwm_kb (spid);
  out.pull_rate = rb.applied / MAX (secs, 1e-6);
  g_print ("  pull server -> B: %u changes (%u applied) in %.2f s = %.0f changes/s (%u requests)\n",
           rb.pulled, rb.applied, secs, out.pull_rate, rb.requests);
  print_bytes ("bytes on the wire (TLS):", up, down, rb.pulled);
  g_print ("    peak memory (VmHWM): client %" G_GINT64_FORMAT " MiB, recoupd %" G_GINT64_FORMAT " MiB\n",
           hwm_client / 1024, hwm_server / 1024);
  if (count_rows (b, "SELECT count(*) FROM accounts WHERE ref LIKE 'BENCH-%'") != n_accounts ||
      count_rows (b, "SELECT count(*) FROM contact_points") < n_accounts)
    g_error ("device B does not have every account and contact point after the pull");
  g_print ("  check: device B holds all %u accounts and their contact points\n", n_accounts);

  /* A's own changes come back to it once (all duplicates). */
  {
    RecoupSyncReport r;
    timed_sync ("A pulls its own changes back:", a, &relay, FALSE, TRUE, &r, NULL);
  }
  g_clear_object (&ca);
  g_clear_object (&cb);

  /* 4. Incremental. */
  {
    guint n_changed = MAX (n_accounts / 100, 1);
    RecoupSyncReport r;

    g_print ("\n## 4. incremental sync on the %u-change dataset\n", n_accounts * 2);
    t0 = g_get_monotonic_time ();
    check (recoup_book_begin (a, &error), error, "begin");
    for (guint i = 0; i < n_changed; i++)
      {
        guint k = (guint) ((guint64) i * 100 % n_accounts);
        g_autofree char *tag = g_strdup_printf ("bench,changed-%u", i);

        check (recoup_account_set (a, ids->pdata[k], "tags", tag, &error), error, "account set");
      }
    check (recoup_book_commit (a, &error), error, "commit");
    g_print ("  1 %% changed: %u of %u accounts got a new tag on device A (%.2f s to write)\n", n_changed,
             n_accounts, seconds_since (t0));
    timed_sync ("A syncs (push + pull):", a, &relay, TRUE, TRUE, &r, NULL);
    if (r.pushed != n_changed)
      g_error ("incremental push sent %u of %u", r.pushed, n_changed);
    timed_sync ("B syncs (push + pull):", b, &relay, TRUE, TRUE, &r, NULL);
    if (r.applied != n_changed)
      g_error ("incremental pull applied %u of %u", r.applied, n_changed);
    g_print ("  nothing changed:\n");
    timed_sync ("A syncs (push + pull):", a, &relay, TRUE, TRUE, &r, NULL);
    timed_sync ("B syncs (push + pull):", b, &relay, TRUE, TRUE, &r, NULL);
    if (r.pulled != 0 || r.pushed != 0)
      g_error ("a sync with nothing changed moved %u/%u changes", r.pushed, r.pulled);
  }
  relay_stop (&relay);
  /* Room on the disk for the bootstrap's copies. */
  g_clear_object (&a);
  g_clear_object (&b);
  for (guint i = 0; i < 2; i++)
    for (const char *suffix = ""; ; suffix = suffix[0] == '\0' ? "-wal" : "-shm")
      {
        g_autofree char *p = g_strconcat (i == 0 ? path_a : path_b, suffix, NULL);
        g_remove (p);
        if (g_str_equal (suffix, "-shm"))
          break;
      }
  return out;
}

/* ---- 2. PouchDB ---- */

typedef struct
{
  gboolean ran;
  double   push_rate;
  double   pull_rate;
} Pouch;

static double
pouch_value (const char *out,
             const char *key)
{
  g_autofree char *needle = g_strconcat (" ", key, "=", NULL);
  const char *p = strstr (out, needle);

  return p != NULL ? g_ascii_strtod (p + strlen (needle), NULL) : -1;
}

static Pouch
bench_pouchdb (Server     *s,
               const char *docs_path)
{
  const char *script = g_getenv ("RECOUP_BENCH_POUCHDB");
  g_autofree char *work = g_build_filename (s->dir, "pouchdb", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  Pouch p = { 0 };
  int status = 0;
  gint64 t0 = g_get_monotonic_time ();

  g_print ("\n## 2. PouchDB: the same documents, pouchdb-node <-> pouchdb-server over loopback HTTP\n");
  if (script == NULL || !g_file_test (script, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_print ("  SKIPPED: RECOUP_BENCH_POUCHDB does not name build-aux/bench-pouchdb.sh\n");
      return p;
    }
  {
    const char *argv[] = { script, docs_path, work, NULL };

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error))
      {
        g_print ("  SKIPPED: cannot run %s: %s\n", script, error->message);
        return p;
      }
  }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    {
      g_print ("  SKIPPED: %s", err != NULL ? err : "node/npm missing\n");
      return p;
    }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_print ("  FAILED (so skipped): %s\n%s\n", out, err);
      return p;
    }
  {
    g_auto(GStrv) lines = g_strsplit (out, "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++)
      if (*lines[i])
        g_print ("  %s\n", lines[i]);
  }
  p.push_rate = pouch_value (out, "push_docs_per_s");
  p.pull_rate = pouch_value (out, "pull_docs_per_s");
  p.ran = p.push_rate > 0 && p.pull_rate > 0;
  g_print ("  (PouchDB phase took %.0f s including the local load)\n", seconds_since (t0));
  test_remove_tree (work);
  return p;
}

/* ---- 3. bootstrap ---- */

static gboolean
accept_any_cb (SoupMessage          *msg,
               GTlsCertificate      *cert,
               GTlsCertificateFlags  errors,
               gpointer              data)
{
  return TRUE;
}

/* One empty pull with a device's token: makes recoupd open the
 * organisation's book (its first open of a big book is a one-off). */
static void
warm_up (Server                     *s,
         const RecoupSyncEnrollment *e)
{
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 3600, NULL);
  g_autofree char *url = g_strdup_printf ("https://127.0.0.1:%u/v1/changes?after=%" G_GINT64_FORMAT "&limit=1",
                                          s->port, G_MAXINT64 / 2);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autofree char *auth = g_strconcat ("Bearer ", e->token, NULL);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  char schema[16];

  g_snprintf (schema, sizeof schema, "%d", RECOUP_SCHEMA_VERSION);
  soup_message_headers_replace (h, "Recoup-Protocol", "1");
  soup_message_headers_replace (h, "Recoup-Schema", schema);
  soup_message_headers_replace (h, "Authorization", auth);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_any_cb), NULL);
  answer = soup_session_send_and_read (session, msg, NULL, &error);
  check (answer != NULL, error, "warm-up request");
  if (soup_message_get_status (msg) != SOUP_STATUS_OK)
    g_error ("warm-up request: HTTP %u", soup_message_get_status (msg));
}

static gboolean
copy_file (const char *from,
           const char *to)
{
  g_autoptr(GFile) src = g_file_new_for_path (from);
  g_autoptr(GFile) dst = g_file_new_for_path (to);
  g_autoptr(GError) error = NULL;

  if (!g_file_test (from, G_FILE_TEST_EXISTS))
    return FALSE;
  check (g_file_copy (src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error), error, "copying a book");
  return TRUE;
}

static void
bench_bootstrap (Server *s)
{
  const char *given = g_getenv ("RECOUP_BENCH_BOOK");
  guint n = env_uint ("RECOUP_BENCH_BOOTSTRAP_ACCOUNTS", 100000);
  g_autofree char *org = admin (s, "create-org", "Bootstrap Org", NULL);
  g_autofree char *name = g_strdup_printf ("%s.recoup", org);
  g_autofree char *book_path = g_build_filename (s->data_dir, "orgs", name, NULL);
  g_autofree char *device_path = g_build_filename (s->dir, "new-device.recoup", NULL);
  g_autofree char *code = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(RecoupSyncEnrollment) e = NULL;
  g_autoptr(RecoupSyncClient) client = NULL;
  g_autoptr(GPtrArray) list = NULL;
  RecoupSyncReport report = { 0 };
  RecoupAccountFilter filter = { .limit = 50 };
  GPid spid = server_pid (s);
  gint64 t0, accounts, size = 0;
  double t_enroll, t_boot, t_open, t_pull, t_query;
  GStatBuf st;

  g_print ("\n## 3. bootstrap of a new device from a big server book\n");
  t0 = g_get_monotonic_time ();
  /* The organisation's book is replaced by the big one before the server
   * first opens it; add-user then numbers its changes and adds the user. */
  for (const char *suffix = ""; ; suffix = suffix[0] == '\0' ? "-wal" : "-shm")
    {
      g_autofree char *p = g_strconcat (book_path, suffix, NULL);
      g_remove (p);
      if (g_str_equal (suffix, "-shm"))
        break;
    }
  if (given != NULL && *given)
    {
      g_autofree char *wal = g_strconcat (given, "-wal", NULL);
      g_autofree char *wal_to = g_strconcat (book_path, "-wal", NULL);

      if (!copy_file (given, book_path))
        g_error ("RECOUP_BENCH_BOOK=%s does not exist", given);
      copy_file (wal, wal_to);
      g_print ("  server book: a copy of %s", given);
    }
  else
    {
      g_autoptr(RecoupBook) demo = recoup_book_open (book_path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
      RecoupDemoOptions options = { .n_accounts = n, .seed = 1 };

      check (demo != NULL, error, "creating the demo book");
      check (recoup_demo_generate (demo, &options, NULL, NULL, NULL, &error), error, "demo");
      g_print ("  server book: a demo book of %u accounts made here (RECOUP_BENCH_BOOK=/work/bench/demo-1m.recoup or "
               "RECOUP_BENCH_BOOTSTRAP_ACCOUNTS=1000000 for the 1M figure)", n);
    }
  {
    /* What recoupd does when it opens a book (recoup_server_db_open_book):
     * number every change with its seq. Done here first without a journal,
     * so that millions of rows are written once (set-up only). */
    sqlite3 *db = NULL;
    char *msg = NULL;
    gint64 t1 = g_get_monotonic_time ();

    if (sqlite3_open (book_path, &db) != SQLITE_OK ||
        sqlite3_exec (db, "PRAGMA journal_mode = DELETE; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                          "UPDATE changes SET server_seq = seq WHERE server_seq IS NULL;"
                          "PRAGMA journal_mode = WAL;", NULL, NULL, &msg) != SQLITE_OK)
      g_error ("numbering the changes of %s: %s", book_path, msg ? msg : sqlite3_errmsg (db));
    sqlite3_close (db);
    g_print ("; changes numbered in %.0f s", seconds_since (t1));
  }
  g_free (admin (s, "add-user", org, "bea", "--role", "collector", NULL));
  g_free (admin (s, "add-user", org, "wes", "--role", "collector", NULL));
  if (g_stat (book_path, &st) == 0)
    size = st.st_size;
  {
    g_autofree char *h = human_bytes (size);
    g_print ("; %s on disk; set-up %.0f s\n", h, seconds_since (t0));
  }

  {
    g_autofree char *warm_code = enrollment_code (s, s->port, org, "wes");
    g_autoptr(RecoupSyncEnrollment) w = recoup_sync_enroll (warm_code, "warm-up", NULL, &error);

    check (w != NULL, error, "enroll (warm-up)");
    t0 = g_get_monotonic_time ();
    warm_up (s, w);
    g_print ("  recoupd's first open of the book (one-off, not counted): %.2f s\n", seconds_since (t0));
  }
  code = enrollment_code (s, s->port, org, "bea");
  hwm_reset (0);
  hwm_reset (spid);
  t0 = g_get_monotonic_time ();
  e = recoup_sync_enroll (code, "new-device", NULL, &error);
  check (e != NULL, error, "enroll");
  t_enroll = seconds_since (t0);
  check (recoup_sync_bootstrap (e, device_path, NULL, &error), error, "bootstrap");
  t_boot = seconds_since (t0);
  book = recoup_book_open (device_path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  check (book != NULL, error, "opening the bootstrapped book");
  check (recoup_sync_attach (book, e, &error), error, "attach");
  t_open = seconds_since (t0);
  client = recoup_sync_client_new (book, &error);
  check (client != NULL, error, "client");
  check (recoup_sync_client_run (client, &report, NULL, &error), error, "first sync");
  t_pull = seconds_since (t0);
  /* Usable: the first page of accounts a collector sees. */
  list = recoup_account_list (book, &filter, &error);
  check (list != NULL, error, "listing accounts");
  t_query = seconds_since (t0);
  accounts = count_rows (book, "SELECT count(*) FROM accounts");
  g_print ("  enroll -> usable book: %.2f s (target <= 30 s): enroll %.2f s, snapshot download + install %.2f s,"
           " open + attach %.2f s, first sync %.2f s (%u pulled), first page of %u accounts %.2f s\n",
           t_query, t_enroll, t_boot - t_enroll, t_open - t_boot, t_pull - t_open, report.pulled, list->len,
           t_query - t_pull);
  g_print ("    the new device holds %" G_GINT64_FORMAT " accounts; peak memory (VmHWM): client %" G_GINT64_FORMAT
           " MiB, recoupd %" G_GINT64_FORMAT " MiB\n", accounts, hwm_kb (0) / 1024, hwm_kb (spid) / 1024);
  g_clear_object (&client);
  g_clear_object (&book);
  /* The copies are big: drop them now. */
  test_remove_tree (device_path);
}

/* ---- 5. many devices at once ---- */

typedef struct
{
  char       *path;
  char       *code;
  GThread    *thread;
  GArray     *latencies;   /* double, seconds per sync */
  guint       syncs;
  guint       requests;
  guint       errors;
  char       *first_error;
} Device;

static volatile gint load_go;
static volatile gint load_ready;
static gint64 load_end;

static gpointer
device_thread (gpointer data)
{
  Device *d = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = enroll_book (d->code, d->path, "load");
  g_autoptr(RecoupSyncClient) client = recoup_sync_client_new (book, &error);
  g_autofree char *ref = g_strdup_printf ("LOAD-%p", (void *) d);
  g_autofree char *acc = NULL;
  RecoupAccountSpec spec = { .ref = ref, .name = ref, .currency = "USD", .timezone = "America/Chicago" };
  guint think = env_uint ("RECOUP_BENCH_LOAD_THINK_MS", 0);

  check (client != NULL, error, "client");
  acc = recoup_account_create (book, &spec, &error);
  check (acc != NULL, error, "account");
  g_atomic_int_inc (&load_ready);
  while (!g_atomic_int_get (&load_go))
    g_usleep (1000);
  for (guint i = 0; g_get_monotonic_time () < load_end; i++)
    {
      RecoupSyncReport r = { 0 };
      RecoupActivitySpec act = { .account_id = acc, .channel = "call", .outcome = "no-answer" };
      g_autofree char *tag = g_strdup_printf ("t%u", i);
      g_autofree char *id = NULL;
      gint64 t0;
      double secs;

      /* A small write: a logged call and an edited field. */
      id = recoup_activity_log (book, &act, &error);
      check (id != NULL, error, "activity");
      check (recoup_account_set (book, acc, "tags", tag, &error), error, "set");
      t0 = g_get_monotonic_time ();
      if (!recoup_sync_client_run (client, &r, NULL, &error))
        {
          d->errors++;
          if (d->first_error == NULL)
            d->first_error = g_strdup (error->message);
          g_clear_error (&error);
        }
      secs = seconds_since (t0);
      g_array_append_val (d->latencies, secs);
      d->syncs++;
      d->requests += r.requests;
      if (think > 0)
        g_usleep ((gulong) think * 1000);
    }
  return NULL;
}

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
bench_load (Server *s)
{
  guint n = env_uint ("RECOUP_BENCH_DEVICES", 50);
  guint seconds = env_uint ("RECOUP_BENCH_LOAD_SECONDS", 60);
  guint think = env_uint ("RECOUP_BENCH_LOAD_THINK_MS", 0);
  g_autofree char *org = admin (s, "create-org", "Load Org", NULL);
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (double));
  Device *devices = g_new0 (Device, n);
  guint syncs = 0, requests = 0, errors = 0;
  const char *first_error = NULL;
  GPid spid = server_pid (s);
  gint64 t0;
  double secs;

  g_print ("\n## 5. %u devices syncing at once for %u s (each a thread with its own book: log a call, edit a field,"
           " sync; think time %u ms)\n", n, seconds, think);
  g_free (admin (s, "add-user", org, "lou", "--role", "owner", NULL));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("load-%02u.recoup", i);

      devices[i].path = g_build_filename (s->dir, name, NULL);
      devices[i].code = enrollment_code (s, s->port, org, "lou");
      devices[i].latencies = g_array_new (FALSE, FALSE, sizeof (double));
    }
  hwm_reset (spid);
  load_end = G_MAXINT64;
  for (guint i = 0; i < n; i++)
    devices[i].thread = g_thread_new ("device", device_thread, &devices[i]);
  /* Enrollment and bootstrap are not part of the measured minute. */
  while ((guint) g_atomic_int_get (&load_ready) < n)
    g_usleep (10000);
  load_end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  t0 = g_get_monotonic_time ();
  g_atomic_int_set (&load_go, 1);
  for (guint i = 0; i < n; i++)
    {
      g_thread_join (devices[i].thread);
      syncs += devices[i].syncs;
      requests += devices[i].requests;
      errors += devices[i].errors;
      if (first_error == NULL)
        first_error = devices[i].first_error;
      g_array_append_vals (all, devices[i].latencies->data, devices[i].latencies->len);
    }
  secs = seconds_since (t0);
  g_array_sort (all, cmp_double);
  if (all->len > 0)
    {
      double p50 = g_array_index (all, double, all->len / 2);
      double p99 = g_array_index (all, double, MIN (all->len - 1, (guint) (all->len * 0.99)));
      double max = g_array_index (all, double, all->len - 1);

      g_print ("  %u syncs (%u HTTPS requests) in %.1f s = %.1f syncs/s, %.1f requests/s; errors: %u\n",
               syncs, requests, secs, syncs / secs, requests / secs, errors);
      g_print ("  latency of one sync (push + pull, >= 2 requests, queued behind the other devices):"
               " p50 %.0f ms, p99 %.0f ms, max %.0f ms\n", p50 * 1000, p99 * 1000, max * 1000);
      g_print ("  recoupd peak memory (VmHWM): %" G_GINT64_FORMAT " MiB\n", hwm_kb (spid) / 1024);
    }
  if (first_error != NULL)
    g_print ("  first error: %s\n", first_error);
  for (guint i = 0; i < n; i++)
    {
      g_free (devices[i].path);
      g_free (devices[i].code);
      g_free (devices[i].first_error);
      g_array_unref (devices[i].latencies);
    }
  g_free (devices);
}

/* ---- main ---- */

static char *
find_recoupd (const char *argv0)
{
  const char *env = g_getenv ("RECOUPD");
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = NULL;
  char *guess;

  if (env != NULL)
    return g_strdup (env);
  dir = g_path_get_dirname (self != NULL ? self : argv0);
  guess = g_build_filename (dir, "..", "src", "server", "recoupd", NULL);
  if (!g_file_test (guess, G_FILE_TEST_IS_EXECUTABLE))
    g_error ("set RECOUPD to the recoupd program (not found at %s)", guess);
  return guess;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *recoupd = find_recoupd (argv[0]);
  g_autofree char *conf = NULL;
  g_autofree char *docs = NULL;
  g_autofree char *config_home = NULL;
  g_autofree char *org = NULL;
  Server s = { 0 };
  Throughput t = { 0 };
  Pouch p = { 0 };
  gint64 t_all = g_get_monotonic_time ();

  s.dir = g_dir_make_tmp ("recoup-bench-sync-XXXXXX", &error);
  check (s.dir != NULL, error, "temporary directory");
  /* Tokens go to a 0600 file in the temporary directory, not a keyring. */
  config_home = g_build_filename (s.dir, "config", NULL);
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_setenv ("RECOUP_TOKEN_STORE", "file", TRUE);
  s.recoupd = recoupd;
  s.data_dir = g_build_filename (s.dir, "server", NULL);
  s.cert = g_build_filename (s.dir, "cert.pem", NULL);
  s.key = g_build_filename (s.dir, "key.pem", NULL);
  s.config = g_build_filename (s.dir, "recoupd.conf", NULL);
  s.fingerprint = test_make_certificate (s.key, s.cert);
  conf = g_strdup_printf ("[server]\nlisten=127.0.0.1\nport=0\ncert=%s\nkey=%s\ndata-dir=%s\n", s.cert, s.key,
                          s.data_dir);
  check (g_file_set_contents (s.config, conf, -1, &error), error, "writing recoupd.conf");

  g_print ("# bench-sync: recoupd %s on 127.0.0.1 over HTTPS (self-signed, pinned); %s; %ld CPUs online\n",
           recoupd, s.dir, sysconf (_SC_NPROCESSORS_ONLN));
  org = admin (&s, "create-org", "Bench Org", NULL);
  g_free (admin (&s, "add-user", "Bench Org", "olive", "--role", "owner", NULL));
  g_free (admin (&s, "add-user", "Bench Org", "carl", "--role", "owner", NULL));
  server_start (&s);

  docs = g_build_filename (s.dir, "documents.ndjson", NULL);
  t = bench_throughput (&s, org, skipped ("pouchdb") ? NULL : docs);
  if (!skipped ("pouchdb"))
    p = bench_pouchdb (&s, docs);
  if (!skipped ("bootstrap"))
    bench_bootstrap (&s);
  else
    g_print ("\n## 3. bootstrap: skipped (RECOUP_BENCH_SKIP)\n");
  if (!skipped ("load"))
    bench_load (&s);
  else
    g_print ("\n## 5. load: skipped (RECOUP_BENCH_SKIP)\n");
  server_stop (&s);

  g_print ("\n## summary\n");
  g_print ("  Recoup push %.0f changes/s, pull %.0f changes/s (%u changes)\n", t.push_rate, t.pull_rate, t.n);
  if (p.ran)
    g_print ("  PouchDB push %.0f docs/s, pull %.0f docs/s; Recoup/PouchDB: push %.1fx, pull %.1fx (target >= 10x)\n",
             p.push_rate, p.pull_rate, t.push_rate / p.push_rate, t.pull_rate / p.pull_rate);
  else
    g_print ("  PouchDB: not measured (see above); no ratio\n");
  g_print ("  whole run %.0f s\n", seconds_since (t_all));

  if (g_getenv ("RECOUP_BENCH_KEEP") == NULL)
    test_remove_tree (s.dir);
  else
    g_print ("  kept %s (RECOUP_BENCH_KEEP)\n", s.dir);
  g_free (s.dir);
  g_free (s.data_dir);
  g_free (s.cert);
  g_free (s.key);
  g_free (s.config);
  g_free (s.fingerprint);
  return 0;
}
