/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-book"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "recoup-accounts.h"
#include "recoup-book-private.h"
#include "recoup-id.h"
#include "recoup-schema-private.h"
#include "recoup-search-private.h"

/*
 * RecoupBook owns one SQLite connection to a book file. It is not thread-safe:
 * a book is used from one thread at a time (the app runs its SQL on a worker
 * thread that owns its own RecoupBook).
 *
 * Writes go through recoup_book_begin()/commit(), which nest with savepoints.
 * Every write records a change row in the same transaction
 * (recoup_book_record_change()), stamped by the book's hybrid logical clock.
 * The clock's last value is persisted with the transaction that used it, so it
 * never goes backwards, even after kill -9.
 */

/* How long a connection waits for another's lock before it reports the book
 * busy. */
#define BUSY_TIMEOUT_MS 5000

struct _RecoupBook
{
  GObject     parent_instance;

  sqlite3    *db;
  char       *path;
  char       *device_id;
  char       *user_id;
  GHashTable *stmts;        /* SQL text -> sqlite3_stmt* */
  struct {
    const char   *caller;   /* the caller's SQL pointer (compared, never read after free) */
    const char   *sql;      /* the key in stmts */
    sqlite3_stmt *stmt;
  }           recent[64];   /* by the caller's pointer: most SQL is a literal */
  GHashTable *columns;      /* table -> char** of its columns */
  GHashTable *insert_sql;   /* table -> the change-log statement for an insert (borrowed from stmts) */
  GHashTable *row_sql;      /* table -> SELECT json_object(every column) of a row */
  GHashTable *touched;      /* account ids written in the open transaction */
  RecoupHlc   hlc;
  gint64      hlc_saved;
  gint64      data_version; /* PRAGMA data_version when the clock was last read */
  gint64      hlc_epoch;    /* the "hlc.epoch" setting then: a re-stamp raises it */
  gint64      pinned_now;   /* recoup_book_now_ms()'s answer when not 0 */
  guint       depth;
  gboolean    read_only;
  gboolean    bulk;         /* nested begin/commit without savepoints */
  gboolean    bulk_failed;  /* a nested write failed in bulk mode */
};

G_DEFINE_TYPE (RecoupBook, recoup_book, G_TYPE_OBJECT)

G_DEFINE_QUARK (recoup-book-error-quark, recoup_book_error)

static void
finalize_stmt (gpointer data)
{
  sqlite3_finalize (data);
}

static void
recoup_book_finalize (GObject *object)
{
  RecoupBook *self = (RecoupBook *) object;

  if (self->depth > 0)
    {
      g_warning ("Book %s finalized inside a transaction; rolling back", self->path);
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    }
  g_clear_pointer (&self->stmts, g_hash_table_unref);
  g_clear_pointer (&self->columns, g_hash_table_unref);
  g_clear_pointer (&self->insert_sql, g_hash_table_unref);
  g_clear_pointer (&self->row_sql, g_hash_table_unref);
  g_clear_pointer (&self->touched, g_hash_table_unref);
  if (self->db != NULL)
    {
      sqlite3_close_v2 (self->db);
      self->db = NULL;
    }
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->device_id, g_free);
  g_clear_pointer (&self->user_id, g_free);

  G_OBJECT_CLASS (recoup_book_parent_class)->finalize (object);
}

static void
recoup_book_class_init (RecoupBookClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = recoup_book_finalize;
}

static void
recoup_book_init (RecoupBook *self)
{
  self->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_stmt);
  self->columns = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_strfreev);
  self->insert_sql = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->row_sql = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->touched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static gboolean
code_is_busy (int code)
{
  return (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED;
}

/* The error for SQLite's @code and @message on the book at @path. A lock that
 * another connection holds longer than the busy timeout (an import, another
 * Recoup, the sqlite3 shell) is no fault of the book: say so, and what to do. */
static void
set_sqlite_error (const char  *path,
                  int          code,
                  const char  *message,
                  GError     **error)
{
  if (code_is_busy (code))
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_BUSY,
                 /* Translators: %s is the book's file */
                 _("%s: the book is busy (another program is writing it); try again when it has "
                   "finished"), path);
  else
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_SQLITE,
                 "%s: %s (SQLite error %d)", path, message, code);
}

gboolean
recoup_book_set_sqlite_error (RecoupBook  *self,
                              GError     **error)
{
  set_sqlite_error (self->path, sqlite3_extended_errcode (self->db), sqlite3_errmsg (self->db), error);
  return FALSE;
}

sqlite3 *
recoup_book_get_db (RecoupBook *self)
{
  return self->db;
}

/* Returns a cached, reset statement with its bindings cleared. Owned by the book. */
sqlite3_stmt *
recoup_book_prepare (RecoupBook  *self,
                     const char  *sql,
                     GError     **error)
{
  /* Hashing the SQL text costs more than running a small statement; most
   * callers pass a string literal, so the pointer finds the slot and one
   * strcmp() confirms it (a freed and reused buffer with other SQL fails it). */
  guint slot = (guint) ((((guintptr) sql) >> 3) % G_N_ELEMENTS (self->recent));
  sqlite3_stmt *stmt;
  char *key = NULL;

  if (self->recent[slot].caller == sql && strcmp (self->recent[slot].sql, sql) == 0)
    stmt = self->recent[slot].stmt;
  else if (g_hash_table_lookup_extended (self->stmts, sql, (gpointer *) &key, (gpointer *) &stmt))
    {
      self->recent[slot].caller = sql;
      self->recent[slot].sql = key;
      self->recent[slot].stmt = stmt;
    }
  else
    stmt = NULL;

  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }

  if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      recoup_book_set_sqlite_error (self, error);
      /* The statement is no news to a user told the book is busy. */
      if (!code_is_busy (sqlite3_extended_errcode (self->db)))
        g_prefix_error (error, "preparing “%.60s…”: ", sql);
      return NULL;
    }
  key = g_strdup (sql);
  g_hash_table_insert (self->stmts, key, stmt);
  self->recent[slot].caller = sql;
  self->recent[slot].sql = key;
  self->recent[slot].stmt = stmt;
  return stmt;
}

gboolean
recoup_book_exec (RecoupBook  *self,
                  const char  *sql,
                  GError     **error)
{
  char *msg = NULL;

  if (sqlite3_exec (self->db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      set_sqlite_error (self->path, sqlite3_extended_errcode (self->db),
                        msg != NULL ? msg : "unknown error", error);
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

/* Steps a write statement to completion and resets it. */
gboolean
recoup_book_step_done (RecoupBook    *self,
                       sqlite3_stmt  *stmt,
                       GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      recoup_book_set_sqlite_error (self, error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* The first column of @sql's first row, or -1 (with *@rc set to SQLite's code
 * when @rc is given). */
static int
query_int_rc (sqlite3    *db,
              const char *sql,
              int        *rc)
{
  sqlite3_stmt *stmt = NULL;
  int value = -1;
  int code;

  code = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
  if (code == SQLITE_OK)
    code = sqlite3_step (stmt);
  if (code == SQLITE_ROW)
    {
      value = sqlite3_column_int (stmt, 0);
      code = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  if (rc != NULL && *rc == SQLITE_OK)
    *rc = code;
  return value;
}

static int
query_int (sqlite3    *db,
           const char *sql)
{
  return query_int_rc (db, sql, NULL);
}

char *
recoup_book_get_setting (RecoupBook *self,
                         const char *key)
{
  sqlite3_stmt *stmt = recoup_book_prepare (self, "SELECT value FROM settings WHERE key = ?", NULL);
  char *value = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  return value;
}

/* Settings local to this copy of the book (device id, clock, sync cursor) are
 * written here without a change row; shared settings go through the change log
 * in the module that owns them. */
gboolean
recoup_book_set_setting (RecoupBook  *self,
                         const char  *key,
                         const char  *value,
                         GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (self,
                                            "INSERT INTO settings (key, value) VALUES (?, ?) "
                                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_STATIC);
  return recoup_book_step_done (self, stmt, error);
}

static gboolean
migrate (RecoupBook  *self,
         int          from,
         GError     **error)
{
  for (int v = from; v < RECOUP_SCHEMA_VERSION; v++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", v + 1);

      if (!recoup_book_exec (self, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!recoup_book_exec (self, recoup_schema_get_migration (v), error) ||
          !recoup_schema_finish_migration (self, v + 1, error) ||
          !recoup_book_exec (self, bump, error))
        {
          g_prefix_error (error, "upgrading the book to schema %d: ", v + 1);
          sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
      if (!recoup_book_exec (self, "COMMIT", error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
ensure_identity (RecoupBook  *self,
                 GError     **error)
{
  g_autofree char *device = recoup_book_get_setting (self, "device_id");
  g_autofree char *user = recoup_book_get_setting (self, "user_id");
  g_autofree char *hlc = recoup_book_get_setting (self, "hlc");
  gint64 max_seen = 0;
  sqlite3_stmt *stmt;

  if (device == NULL || user == NULL)
    {
      if (self->read_only)
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_A_BOOK,
                       "%s has no device identity yet; open it once for writing", self->path);
          return FALSE;
        }
      if (!recoup_book_exec (self, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (device == NULL)
        {
          device = recoup_uuid7_new ();
          if (!recoup_book_set_setting (self, "device_id", device, error))
            goto fail;
        }
      if (user == NULL)
        {
          /* A new book belongs to whoever made it: its first user is the owner. */
          const char *name = g_get_real_name ();
          sqlite3_stmt *ins;

          user = recoup_uuid7_new ();
          ins = recoup_book_prepare (self,
                                     "INSERT INTO users (id, name, role, max_discount_bp,"
                                     " max_plan_installments, can_override, created_at)"
                                     " VALUES (?, ?, 'owner', " G_STRINGIFY (RECOUP_OWNER_MAX_DISCOUNT_BP) ", "
                                     G_STRINGIFY (RECOUP_OWNER_MAX_PLAN_INSTALLMENTS) ", 1, ?)", error);
          if (ins == NULL)
            goto fail;
          sqlite3_bind_text (ins, 1, user, -1, SQLITE_STATIC);
          sqlite3_bind_text (ins, 2, (name && *name && g_strcmp0 (name, "Unknown")) ? name : g_get_user_name (),
                             -1, SQLITE_TRANSIENT);
          sqlite3_bind_int64 (ins, 3, recoup_wall_clock_ms ());
          if (!recoup_book_step_done (self, ins, error) ||
              !recoup_book_set_setting (self, "user_id", user, error))
            goto fail;
        }
      if (!recoup_book_exec (self, "COMMIT", error))
        goto fail;
    }

  self->device_id = g_steal_pointer (&device);
  self->user_id = g_steal_pointer (&user);

  /* The clock resumes from the larger of its saved value (written with every
   * transaction that stamped anything, and raised by every merge) and the
   * newest change row; no scan of the whole change log. */
  if (hlc != NULL)
    max_seen = g_ascii_strtoll (hlc, NULL, 10);
  stmt = recoup_book_prepare (self, "SELECT hlc FROM changes ORDER BY seq DESC LIMIT 1", NULL);
  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    max_seen = MAX (max_seen, sqlite3_column_int64 (stmt, 0));
  if (stmt != NULL)
    sqlite3_reset (stmt);
  recoup_hlc_init (&self->hlc, max_seen);
  self->hlc_saved = max_seen;
  self->data_version = query_int (self->db, "PRAGMA data_version");
  {
    g_autofree char *epoch = recoup_book_get_setting (self, "hlc.epoch");

    self->hlc_epoch = epoch != NULL ? g_ascii_strtoll (epoch, NULL, 10) : 0;
  }
  return TRUE;

fail:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

/**
 * recoup_book_path_is_vacant:
 *
 * Whether there is no book at @path yet: nothing there, or a file of no bytes,
 * which is what some tools leave when they make a file for another program to
 * fill. (Not when its write-ahead log has pages: SQLite recovers a database
 * from those.) recoup_book_open() makes a book there unless told not to.
 */
gboolean
recoup_book_path_is_vacant (const char *path)
{
  g_autofree char *wal = NULL;
  GStatBuf st;

  g_return_val_if_fail (path != NULL, FALSE);

  if (g_stat (path, &st) != 0)
    return errno == ENOENT;
  if (!S_ISREG (st.st_mode) || st.st_size > 0)
    return FALSE;
  wal = g_strconcat (path, "-wal", NULL);
  return g_stat (wal, &st) != 0 || st.st_size == 0;
}

/**
 * recoup_book_open:
 * @path: the book's file; created (with its folder), or made in an empty file,
 *   unless NO_CREATE or READ_ONLY (then both are refused as no book yet)
 *
 * Opens a book, upgrading its schema when it is older. A book written by a
 * newer Recoup, or a file that is not a Recoup book, is refused before
 * anything in it is changed.
 */
RecoupBook *
recoup_book_open (const char           *path,
                  RecoupBookOpenFlags   flags,
                  GError              **error)
{
  g_autoptr(RecoupBook) self = NULL;
  gboolean exists;
  int open_flags;
  int version;
  int app_id;
  int n_tables;
  int rc = SQLITE_OK;

  g_return_val_if_fail (path != NULL, NULL);

  exists = g_file_test (path, G_FILE_TEST_EXISTS);
  /* A read must not write a book into an empty file any more than at a path
   * with nothing there. */
  if ((flags & (RECOUP_BOOK_OPEN_NO_CREATE | RECOUP_BOOK_OPEN_READ_ONLY)) &&
      recoup_book_path_is_vacant (path))
    {
      if (exists)
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                     /* Translators: %s is a file; keep the commands in quotes */
                     _("%s is empty: not a Recoup book yet (make one there with “recoup-cli init” or "
                       "“recoup-cli demo”)"), path);
      else
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                     /* Translators: %s is a file; keep the commands in quotes */
                     _("%s: no such book (create one with “recoup-cli init” or “recoup-cli demo”)"), path);
      return NULL;
    }
  if (!exists)
    {
      g_autofree char *dir = g_path_get_dirname (path);

      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved_errno = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "%s: cannot create folder: %s", dir, g_strerror (saved_errno));
          return NULL;
        }
    }

  self = g_object_new (RECOUP_TYPE_BOOK, NULL);
  self->path = g_strdup (path);
  self->read_only = (flags & RECOUP_BOOK_OPEN_READ_ONLY) != 0;

  open_flags = self->read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2 (path, &self->db, open_flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    {
      recoup_book_set_sqlite_error (self, error);
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);

  /* Look before touching: these reads change nothing in the file. */
  app_id = query_int_rc (self->db, "PRAGMA application_id", &rc);
  version = query_int_rc (self->db, "PRAGMA user_version", &rc);
  n_tables = query_int_rc (self->db, "SELECT count(*) FROM sqlite_schema", &rc);
  if (code_is_busy (rc))
    {
      /* A first import holds the book alone (it is written with a rollback
       * journal, see recoup_book_begin_rollback_journal()). */
      set_sqlite_error (path, rc, sqlite3_errstr (rc), error);
      return NULL;
    }
  if (app_id < 0 || version < 0 || n_tables < 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_A_BOOK,
                   "%s is not a Recoup book (not an SQLite database: %s)", path,
                   sqlite3_errstr (rc));
      return NULL;
    }
  if (app_id != RECOUP_APPLICATION_ID && (n_tables > 0 || app_id != 0))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_A_BOOK,
                   "%s is an SQLite database but not a Recoup book", path);
      return NULL;
    }
  if (version > RECOUP_SCHEMA_VERSION)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NEWER_SCHEMA,
                   "%s was written by a newer Recoup (book schema %d; this version reads up to "
                   "%d). Update Recoup to open it; the book was not changed.",
                   path, version, RECOUP_SCHEMA_VERSION);
      return NULL;
    }
  if (self->read_only && version < RECOUP_SCHEMA_VERSION)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_A_BOOK,
                   "%s uses the older schema %d; open it once for writing to upgrade it",
                   path, version);
      return NULL;
    }

  if (!self->read_only)
    {
      const char *sync = (flags & RECOUP_BOOK_OPEN_SYNC_NORMAL) ? "NORMAL" : "FULL";
      g_autofree char *pragmas =
        g_strdup_printf ("PRAGMA journal_mode = WAL;"
                         "PRAGMA synchronous = %s;"
                         "PRAGMA application_id = %d;", sync, RECOUP_APPLICATION_ID);

      if (!recoup_book_exec (self, pragmas, error) || !migrate (self, version, error))
        return NULL;
    }
  if (!recoup_book_exec (self,
                         "PRAGMA foreign_keys = ON;"
                         "PRAGMA temp_store = MEMORY;"
                         "PRAGMA cache_size = -65536;", error))
    return NULL;

  if (!ensure_identity (self, error))
    return NULL;

  /* A search index built from older terms is rebuilt now, with the schema's
   * own upgrade, rather than by the first search while other writers wait
   * on its lock (seconds at a million accounts). */
  if (!self->read_only && !recoup_search_ensure_current (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

const char *
recoup_book_get_path (RecoupBook *self)
{
  g_return_val_if_fail (RECOUP_IS_BOOK (self), NULL);
  return self->path;
}

const char *
recoup_book_get_device_id (RecoupBook *self)
{
  g_return_val_if_fail (RECOUP_IS_BOOK (self), NULL);
  return self->device_id;
}

const char *
recoup_book_get_user_id (RecoupBook *self)
{
  g_return_val_if_fail (RECOUP_IS_BOOK (self), NULL);
  return self->user_id;
}

/* Acts as another user of this book for the rest of the session. */
gboolean
recoup_book_set_user (RecoupBook  *self,
                      const char  *user_id,
                      GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (self,
                                            "SELECT id FROM users WHERE (id = ?1 OR name = ?1) AND deleted = 0",
                                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, user_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "no user “%s” in this book", user_id);
      return FALSE;
    }
  g_free (self->user_id);
  self->user_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  return TRUE;
}

/**
 * recoup_book_write_as_system:
 *
 * From now on this connection writes as nobody: its changes carry no user
 * (a system write, in the sync protocol's words). The owner the book was
 * made with goes, when it never reached the change log and no account is
 * assigned to it. For recoupd: an organisation's book belongs to no one
 * user, and the snapshots devices start from must not carry a user that
 * exists in the server's copy alone.
 */
gboolean
recoup_book_write_as_system (RecoupBook  *self,
                             GError     **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (RECOUP_IS_BOOK (self), FALSE);

  stmt = recoup_book_prepare (self,
    "DELETE FROM users WHERE id = (SELECT value FROM settings WHERE key = 'user_id')"
    " AND NOT EXISTS (SELECT 1 FROM changes c WHERE c.entity_id = users.id AND c.entity = 'users')"
    " AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.assigned_to = users.id)", error);
  if (stmt == NULL || !recoup_book_step_done (self, stmt, error))
    return FALSE;
  g_clear_pointer (&self->user_id, g_free);
  return TRUE;
}

int
recoup_book_get_schema_version (RecoupBook *self)
{
  return query_int (self->db, "PRAGMA user_version");
}

gint64
recoup_book_now_ms (RecoupBook *self)
{
  return self->pinned_now != 0 ? self->pinned_now : recoup_wall_clock_ms ();
}

void
recoup_book_pin_now (RecoupBook *self,
                     gint64      now_ms)
{
  g_return_if_fail (RECOUP_IS_BOOK (self));
  self->pinned_now = now_ms;
}

char *
recoup_book_today (RecoupBook *self)
{
  const char *env = g_getenv ("RECOUP_TODAY");
  g_autoptr(GDateTime) now = NULL;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  now = g_date_time_new_now_local ();
  return g_date_time_format (now, "%Y-%m-%d");
}

gboolean
recoup_book_in_transaction (RecoupBook *self)
{
  return self->depth > 0;
}

/* Transaction control runs once per write, and a bulk import makes millions of
 * writes: keep those statements prepared. */
static gboolean
run_cached (RecoupBook  *self,
            const char  *sql,
            GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (self, sql, error);

  return stmt != NULL && recoup_book_step_done (self, stmt, error);
}

/* Begins a transaction, or a savepoint inside one. Every begin needs a commit or
 * a rollback. */
gboolean
recoup_book_begin (RecoupBook  *self,
                   GError     **error)
{
  g_autofree char *sql = NULL;

  g_return_val_if_fail (RECOUP_IS_BOOK (self), FALSE);

  if (self->read_only)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                   "%s is open read-only", self->path);
      return FALSE;
    }
  if (self->depth > 0 && self->bulk)
    {
      self->depth++;
      return TRUE;
    }
  sql = self->depth == 0 ? g_strdup ("BEGIN IMMEDIATE") : g_strdup_printf ("SAVEPOINT s%u", self->depth);
  if (!run_cached (self, sql, error))
    return FALSE;
  if (self->depth == 0)
    {
      /* Another connection committed since: it may have re-stamped this
       * device's changes and lowered the saved clock (sync after a clock that
       * ran ahead), so take the saved clock again before stamping. */
      sqlite3_stmt *dv = recoup_book_prepare (self, "PRAGMA data_version", NULL);

      if (dv != NULL && sqlite3_step (dv) == SQLITE_ROW)
        {
          gint64 version = sqlite3_column_int64 (dv, 0);

          sqlite3_reset (dv);
          if (version != self->data_version)
            {
              self->data_version = version;
              recoup_book_reload_clock (self);
            }
        }
      else if (dv != NULL)
        sqlite3_reset (dv);
    }
  self->depth++;
  return TRUE;
}

/**
 * recoup_book_reload_clock:
 *
 * Reads the clock saved in the book (by this or another connection). A clock
 * never goes backwards, so this connection's clock is only raised to it,
 * except after a re-stamp (recoup_merge_restamp_unsent() raised the
 * "hlc.epoch" setting): then it takes the lowered saved clock, and stops
 * stamping from the clock that ran ahead. recoup_book_begin() does this by
 * itself whenever another connection committed since this one last looked;
 * call it outside a transaction.
 */
void
recoup_book_reload_clock (RecoupBook *self)
{
  g_autofree char *text = NULL;
  g_autofree char *epoch_text = NULL;
  gint64 saved, epoch;

  g_return_if_fail (RECOUP_IS_BOOK (self));

  /* Inside a transaction the clock may hold stamps not yet saved. */
  if (self->depth > 0 && self->hlc.last != self->hlc_saved)
    return;
  text = recoup_book_get_setting (self, "hlc");
  epoch_text = recoup_book_get_setting (self, "hlc.epoch");
  saved = text != NULL ? g_ascii_strtoll (text, NULL, 10) : 0;
  epoch = epoch_text != NULL ? g_ascii_strtoll (epoch_text, NULL, 10) : 0;
  if (epoch != self->hlc_epoch && saved > 0)
    {
      self->hlc_epoch = epoch;
      recoup_hlc_init (&self->hlc, saved);
      self->hlc_saved = saved;
    }
  else if (saved > self->hlc.last)
    {
      self->hlc.last = saved;
      self->hlc_saved = saved;
    }
}

/**
 * recoup_book_set_bulk:
 *
 * For a caller that holds the outermost transaction and rolls it all back
 * when anything inside fails (an import): nested begin/commit then take no
 * savepoints, which saves two statements and a page copy per nested write.
 * A nested rollback cannot undo its part alone in this mode, so it poisons
 * the transaction: the outermost commit then rolls back and fails.
 */
void
recoup_book_set_bulk (RecoupBook *self,
                      gboolean    bulk)
{
  g_return_if_fail (RECOUP_IS_BOOK (self));
  g_return_if_fail (self->depth <= 1);
  self->bulk = bulk;
}

/* Runs PRAGMA journal_mode = @mode; TRUE when the book is in @mode afterwards.
 * SQLite answers a refused change with the old mode, or an error. */
static gboolean
set_journal_mode (RecoupBook *self,
                  const char *mode,
                  int         busy_timeout_ms)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA main.journal_mode = %s", mode);
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;
  int rc;

  sqlite3_busy_timeout (self->db, busy_timeout_ms);
  rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    ok = g_ascii_strcasecmp ((const char *) sqlite3_column_text (stmt, 0), mode) == 0;
  else
    g_debug ("%s: journal_mode %s: %s", self->path, mode, sqlite3_errmsg (self->db));
  sqlite3_finalize (stmt);
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);
  return ok;
}

/**
 * recoup_book_begin_rollback_journal:
 *
 * For one write that will make up most of the book (a first import): switches
 * the book from its write-ahead log to a rollback journal. WAL writes every
 * page twice, to the log and then, at the checkpoint, to the book; a rollback
 * journal keeps only the old content of pages that already existed, so pages
 * the transaction appends are written once. The write stays all-or-nothing,
 * through a crash too: SQLite rolls a hot journal back before anyone reads
 * the book again, and recoup_book_open() puts the book back in WAL.
 *
 * Leaving WAL needs the only connection to the book. With another open (the
 * app's readers, a second process) nothing changes and FALSE is returned; the
 * write then goes through the log as usual. Outside a transaction only. Call
 * recoup_book_end_rollback_journal() after the commit or rollback.
 *
 * Checkpoint main alone afterwards (PRAGMA main.wal_checkpoint): a checkpoint
 * of every database, the default, fails with SQLITE_LOCKED on a connection
 * that made a temporary table while main had the rollback journal (SQLite
 * 3.40).
 */
gboolean
recoup_book_begin_rollback_journal (RecoupBook *self)
{
  g_return_val_if_fail (RECOUP_IS_BOOK (self), FALSE);
  g_return_val_if_fail (self->depth == 0, FALSE);

  if (self->read_only)
    return FALSE;
  /* No wait for other connections: if there are any, WAL it is. */
  return set_journal_mode (self, "delete", 0);
}

void
recoup_book_end_rollback_journal (RecoupBook *self)
{
  g_return_if_fail (RECOUP_IS_BOOK (self));
  g_return_if_fail (self->depth == 0);

  /* Another process may be reading the book right now (it opened it while it
   * had the rollback journal); wait for it as for any lock. If it does not
   * let go, the book's next open switches it back. */
  if (!set_journal_mode (self, "wal", BUSY_TIMEOUT_MS))
    g_warning ("%s: the book could not be switched back to its write-ahead log; it will be "
               "when it is next opened", self->path);
}

/**
 * recoup_book_commit:
 *
 * Ends the innermost level opened by recoup_book_begin(): commits the
 * transaction, or releases the savepoint of a nested level.
 *
 * When it fails it has already rolled that level back (and only that level),
 * so the caller must not call recoup_book_rollback() for it again: that would
 * undo the enclosing level instead. The pattern is
 *
 * |[
 *   if (!write_rows (book, error))
 *     goto fail;                           // rollback at fail:
 *   return recoup_book_commit (book, error);
 * ]|
 *
 * Returns: %TRUE if the level was committed.
 */
gboolean
recoup_book_commit (RecoupBook  *self,
                    GError     **error)
{
  g_autofree char *sql = NULL;

  g_return_val_if_fail (self->depth > 0, FALSE);

  if (self->depth > 1 && self->bulk)
    {
      self->depth--;
      return TRUE;
    }
  if (self->depth == 1 && self->bulk_failed)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "%s: a write inside this transaction failed; nothing was saved", self->path);
      recoup_book_rollback (self);
      return FALSE;
    }

  /* Derived data (scores, segments, search terms) of every account this
   * transaction wrote is brought up to date inside the same transaction. */
  if (self->depth == 1 && g_hash_table_size (self->touched) > 0)
    {
      if (!recoup_book_refresh_accounts (self, self->touched, error) ||
          !recoup_search_refresh_accounts (self, self->touched, error))
        {
          recoup_book_rollback (self);
          return FALSE;
        }
      g_hash_table_remove_all (self->touched);
    }

  if (self->depth == 1 && self->hlc.last != self->hlc_saved)
    {
      char buf[32];

      g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, self->hlc.last);
      if (!recoup_book_set_setting (self, "hlc", buf, error))
        {
          recoup_book_rollback (self);
          return FALSE;
        }
    }

  sql = self->depth == 1 ? g_strdup ("COMMIT") : g_strdup_printf ("RELEASE s%u", self->depth - 1);
  if (!run_cached (self, sql, error))
    {
      recoup_book_rollback (self);
      return FALSE;
    }
  self->depth--;
  if (self->depth == 0)
    self->hlc_saved = self->hlc.last;
  return TRUE;
}

void
recoup_book_rollback (RecoupBook *self)
{
  g_autofree char *sql = NULL;

  g_return_if_fail (self->depth > 0);

  if (self->depth > 1 && self->bulk)
    {
      self->bulk_failed = TRUE;
      self->depth--;
      return;
    }
  /* A COMMIT that failed on a full disk or an I/O error may have rolled the
   * transaction back already (SQLite then leaves autocommit on). */
  if (self->depth == 1 && !sqlite3_get_autocommit (self->db))
    sql = g_strdup ("ROLLBACK");
  else if (self->depth > 1)
    sql = g_strdup_printf ("ROLLBACK TO s%u; RELEASE s%u", self->depth - 1, self->depth - 1);
  if (sql != NULL && sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    g_warning ("%s: rollback failed: %s", self->path, sqlite3_errmsg (self->db));
  self->depth--;
  if (self->depth == 0)
    {
      g_hash_table_remove_all (self->touched);
      self->bulk_failed = FALSE;
    }
  /* The clock keeps its value: stamps are never reused even when a write fails. */
}

/* Marks an account as written in this transaction; see recoup_book_commit(). */
void
recoup_book_touch_account (RecoupBook *self,
                           const char *account_id)
{
  g_return_if_fail (self->depth > 0);
  if (account_id != NULL && !g_hash_table_contains (self->touched, account_id))
    g_hash_table_add (self->touched, g_strdup (account_id));
}

gint64
recoup_book_stamp (RecoupBook *self)
{
  return recoup_hlc_now (&self->hlc, recoup_wall_clock_ms ());
}

/* Raises the book's clock past a stamp seen in a change merged from elsewhere
 * (sync); persisted with the transaction like any stamp. */
void
recoup_book_observe_hlc (RecoupBook *self,
                         gint64      remote)
{
  recoup_hlc_observe (&self->hlc, remote, recoup_wall_clock_ms ());
}

static const char * const *
table_columns (RecoupBook  *self,
               const char  *table,
               GError     **error)
{
  char **cols = g_hash_table_lookup (self->columns, table);
  g_autofree char *sql = NULL;
  g_autoptr(GPtrArray) names = NULL;
  sqlite3_stmt *stmt = NULL;

  if (cols != NULL)
    return (const char * const *) cols;

  sql = g_strdup_printf ("PRAGMA table_info (%s)", table);
  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      recoup_book_set_sqlite_error (self, error);
      return NULL;
    }
  names = g_ptr_array_new ();
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (names, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1)));
  sqlite3_finalize (stmt);
  if (names->len == 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID, "no table “%s”", table);
      return NULL;
    }
  g_ptr_array_add (names, NULL);
  cols = (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
  g_hash_table_insert (self->columns, g_strdup (table), cols);
  return (const char * const *) cols;
}

static const char *
op_name (RecoupChangeOp op)
{
  switch (op)
    {
    case RECOUP_CHANGE_INSERT:    return "insert";
    case RECOUP_CHANGE_SET:       return "set";
    case RECOUP_CHANGE_TOMBSTONE: return "tombstone";
    default:                      g_assert_not_reached ();
    }
}

/* Columns a later sync schema added to a synced table. A row's insert
 * leaves such a column out while it is NULL, and its change is stamped
 * RECOUP_SYNC_SCHEMA_BASE, so a server a release behind takes every change
 * that does not use it; one that does is stamped with the column's schema,
 * which that server keeps queued as too new rather than refusing for good. */
static const struct
{
  const char *table;
  const char *column;
  int         schema;
} late_columns[] = {
  { "ledger_entries", "waives_id", 9 },
};

static int
late_column (const char *table,
             const char *column)
{
  for (guint i = 0; i < G_N_ELEMENTS (late_columns); i++)
    if (strcmp (late_columns[i].table, table) == 0 && strcmp (late_columns[i].column, column) == 0)
      return (int) i;
  return -1;
}

/* The json_object() of the columns @cols of a table's row ?N, as SQL text;
 * with @omit_null_late, a late column only when it is set. */
static char *
row_json_sql (const char         *table,
              const char * const *cols,
              int                 param,
              gboolean            omit_null_late)
{
  GString *sql = g_string_new ("(SELECT ");
  GString *object = g_string_new ("json_object(");
  guint n = 0;

  for (guint i = 0; cols[i] != NULL; i++)
    if (!omit_null_late || late_column (table, cols[i]) < 0)
      g_string_append_printf (object, "%s'%s', %s", n++ ? ", " : "", cols[i], cols[i]);
  g_string_append_c (object, ')');
  for (guint i = 0; omit_null_late && cols[i] != NULL; i++)
    if (late_column (table, cols[i]) >= 0)
      {
        /* A merge patch of {} leaves the object as it is. */
        g_string_prepend (object, "json_patch(");
        g_string_append_printf (object, ", CASE WHEN %s IS NULL THEN '{}' ELSE json_object('%s', %s) END)",
                                cols[i], cols[i], cols[i]);
      }
  g_string_append_printf (sql, "%s FROM %s WHERE id = ?%d)", object->str, table, param);
  g_string_free (object, TRUE);
  return g_string_free (sql, FALSE);
}

/* The schema_version of a change of @table that carries @cols (for an
 * insert, every column, of which the late ones count only when set), as SQL
 * text; a row ?N must exist for an insert's. */
static char *
change_schema_sql (const char         *table,
                   const char * const *cols,
                   gboolean            insert,
                   int                 param)
{
  GString *sql = g_string_new (NULL);
  int schema = RECOUP_SYNC_SCHEMA_BASE;
  guint n_late = 0;

  for (guint i = 0; cols != NULL && cols[i] != NULL; i++)
    {
      int late = late_column (table, cols[i]);

      if (late < 0)
        continue;
      if (!insert)
        schema = MAX (schema, late_columns[late].schema);
      else
        {
          g_string_append_printf (sql, "%sWHEN %s IS NOT NULL THEN %d", n_late++ ? " " : "CASE ",
                                  cols[i], late_columns[late].schema);
        }
    }
  if (!insert)
    {
      g_string_printf (sql, "%d", schema);
      return g_string_free (sql, FALSE);
    }
  if (n_late > 0)
    g_string_append_printf (sql, " ELSE %d END", RECOUP_SYNC_SCHEMA_BASE);
  else
    g_string_printf (sql, "%d", RECOUP_SYNC_SCHEMA_BASE);
  g_string_prepend (sql, "(SELECT ");
  g_string_append_printf (sql, " FROM %s WHERE id = ?%d)", table, param);
  return g_string_free (sql, FALSE);
}

/**
 * recoup_book_row_fields:
 * @table: the entity's table
 * @entity_id: the row's id
 *
 * The row's current values as a JSON object text (every column), read by
 * SQLite's json_object(): what an `insert` change carries when it leaves the
 * book (see recoup_book_record_change()).
 *
 * Returns: (transfer full): the JSON text, or NULL with @error set when there
 * is no such row.
 */
char *
recoup_book_row_fields (RecoupBook  *self,
                        const char  *table,
                        const char  *entity_id,
                        GError     **error)
{
  const char * const *cols;
  const char *sql;
  sqlite3_stmt *stmt;
  char *json = NULL;

  /* Sync reads every local insert through here: the SQL is built once per
   * table (and its stable pointer finds the statement without hashing). */
  if ((sql = g_hash_table_lookup (self->row_sql, table)) == NULL)
    {
      g_autofree char *sub = NULL;

      if (!(cols = table_columns (self, table, error)))
        return NULL;
      sub = row_json_sql (table, cols, 1, TRUE);
      sql = g_strconcat ("SELECT ", sub, NULL);
      g_hash_table_insert (self->row_sql, g_strdup (table), (char *) sql);
    }
  if (!(stmt = recoup_book_prepare (self, sql, error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, entity_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    json = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  else
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 "%s: the change log names a %s row %s that the book does not hold",
                 self->path, table, entity_id);
  sqlite3_reset (stmt);
  return json;
}

/**
 * recoup_book_record_change:
 * @table: the entity's table (the entity name in the change log)
 * @fields: (nullable): the columns a `set` changed; NULL for an insert (all columns)
 *
 * Appends a change row describing what was just written to @entity_id. A `set`
 * reads its fields back from the row itself by SQLite's json_object(), so the
 * change always says exactly what the book holds. An `insert` stores no fields
 * (they were a third of a bulk-imported book and a fifth of the import's
 * instructions): the row's
 * values are materialised when the change leaves the book for sync
 * (recoup_book_row_fields()). That is sound under per-field last-writer-wins:
 * a value the row took after its insert was written by a later change of its
 * own, which is sent after the insert and wins over it everywhere. An insert
 * merged from elsewhere keeps the fields it came with (recoup-merge.c). Must
 * run inside a transaction.
 */
gboolean
recoup_book_record_change (RecoupBook          *self,
                           const char          *table,
                           const char          *entity_id,
                           RecoupChangeOp       op,
                           const char * const  *fields,
                           GError             **error)
{
  g_autoptr(GString) sql = NULL;
  const char * const *cols;
  sqlite3_stmt *stmt;
  char change_id[RECOUP_UUID_STRING_LEN + 1];
  gint64 hlc;
  int rc;

  g_return_val_if_fail (self->depth > 0, FALSE);

  if (op == RECOUP_CHANGE_INSERT || fields == NULL)
    {
      if (!(cols = table_columns (self, table, error)))
        return FALSE;
    }
  else
    cols = fields;

  /* Inserts are the bulk of all changes (an import makes millions): their
   * statement is kept per table, so neither the SQL is rebuilt nor hashed. */
  stmt = op == RECOUP_CHANGE_INSERT ? g_hash_table_lookup (self->insert_sql, table) : NULL;
  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      goto bind;
    }

  /* No row, no change. An insert's schema_version is a scalar subquery on the
   * row's primary key, so a missing row gives NULL, which NOT NULL refuses
   * (a VALUES insert, not INSERT … SELECT: SQLite opens a statement journal
   * for the latter on every row). A set's fields are a scalar subquery, so a
   * missing row gives NULL fields, which the changes table's CHECK refuses. */
  sql = g_string_new (NULL);
  g_string_append (sql, "INSERT INTO changes (id, hlc, device_id, user_id, entity, entity_id, op,"
                        " fields, schema_version) ");
  if (op == RECOUP_CHANGE_INSERT)
    {
      g_autofree char *schema = change_schema_sql (table, cols, TRUE, 6);

      g_string_append_printf (sql, "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, %s)", schema);
    }
  else if (op == RECOUP_CHANGE_TOMBSTONE)
    g_string_append_printf (sql, "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, %d) ", RECOUP_SYNC_SCHEMA_BASE);
  else
    {
      g_autofree char *sub = row_json_sql (table, cols, 6, FALSE);
      g_autofree char *schema = change_schema_sql (table, cols, FALSE, 6);

      g_string_append_printf (sql, "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, %s, %s)", sub, schema);
    }

  if (!(stmt = recoup_book_prepare (self, sql->str, error)))
    return FALSE;
  if (op == RECOUP_CHANGE_INSERT)
    g_hash_table_insert (self->insert_sql, g_strdup (table), stmt);

bind:
  hlc = recoup_book_stamp (self);
  recoup_uuid7_generate (change_id);
  /* Both strings outlive the step; the statement is reset before returning. */
  sqlite3_bind_text (stmt, 1, change_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, hlc);
  sqlite3_bind_text (stmt, 3, self->device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, self->user_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, table, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, entity_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, op_name (op), -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      int code = sqlite3_extended_errcode (self->db);

      if (code == SQLITE_CONSTRAINT_CHECK || code == SQLITE_CONSTRAINT_NOTNULL)
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                     "recording a change: no %s row with id %s", table, entity_id);
      else
        recoup_book_set_sqlite_error (self, error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);

  /* Mutable fields remember their last writer for last-writer-wins merges. */
  if (op == RECOUP_CHANGE_SET)
    {
      sqlite3_stmt *clock = recoup_book_prepare (self,
        "INSERT INTO field_clocks (entity, entity_id, field, hlc, device_id) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id", error);

      if (clock == NULL)
        return FALSE;
      for (guint i = 0; cols[i] != NULL; i++)
        {
          sqlite3_bind_text (clock, 1, table, -1, SQLITE_STATIC);
          sqlite3_bind_text (clock, 2, entity_id, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (clock, 3, cols[i], -1, SQLITE_STATIC);
          sqlite3_bind_int64 (clock, 4, hlc);
          sqlite3_bind_text (clock, 5, self->device_id, -1, SQLITE_STATIC);
          if (!recoup_book_step_done (self, clock, error))
            return FALSE;
        }
    }
  return TRUE;
}

gint64
recoup_book_count_changes (RecoupBook *self)
{
  sqlite3_stmt *stmt = recoup_book_prepare (self, "SELECT count(*) FROM changes", NULL);
  gint64 n = -1;

  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return n;
}

gboolean
recoup_book_check_integrity (RecoupBook  *self,
                             GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA integrity_check", -1, &stmt, NULL) != SQLITE_OK)
    return recoup_book_set_sqlite_error (self, error);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *res = RECOUP_BOOK_STMT_TEXT (stmt, 0);
      ok = g_strcmp0 (res, "ok") == 0;
      if (!ok)
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_SQLITE,
                     "%s: integrity check failed: %s", self->path, res);
    }
  sqlite3_finalize (stmt);
  if (ok)
    {
      if (sqlite3_prepare_v2 (self->db, "PRAGMA foreign_key_check", -1, &stmt, NULL) != SQLITE_OK)
        return recoup_book_set_sqlite_error (self, error);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        {
          ok = FALSE;
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_SQLITE,
                       "%s: a %s row points at a missing %s", self->path,
                       RECOUP_BOOK_STMT_TEXT (stmt, 0), RECOUP_BOOK_STMT_TEXT (stmt, 2));
        }
      sqlite3_finalize (stmt);
    }
  return ok;
}

char *
recoup_default_book_path (void)
{
  const char *env = g_getenv ("RECOUP_BOOK");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "recoup", "book.recoup", NULL);
}
