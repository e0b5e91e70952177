/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-server"

#include "config.h"

#include <errno.h>
#include <sqlite3.h>
#include <sys/random.h>

#include <glib/gstdio.h>

#include "recoup-book-private.h"
#include "recoup-server-db.h"

struct _RecoupServerDb
{
  sqlite3 *db;
  char    *data_dir;
};

static const char server_schema[] =
  "CREATE TABLE IF NOT EXISTS orgs ("
  "  id         TEXT PRIMARY KEY,"
  "  name       TEXT NOT NULL UNIQUE,"
  "  created_at INTEGER NOT NULL"
  ");"
  "CREATE TABLE IF NOT EXISTS users ("
  "  id                    TEXT PRIMARY KEY,"
  "  org_id                TEXT NOT NULL REFERENCES orgs (id),"
  "  name                  TEXT NOT NULL,"
  "  role                  TEXT NOT NULL CHECK (role IN ('owner','collector','bookkeeper')),"
  "  max_discount_bp       INTEGER NOT NULL DEFAULT 0,"
  "  max_plan_installments INTEGER NOT NULL DEFAULT 0,"
  "  removed_at            INTEGER,"
  "  UNIQUE (org_id, name)"
  ");"
  "CREATE TABLE IF NOT EXISTS devices ("
  "  id           TEXT PRIMARY KEY,"
  "  org_id       TEXT NOT NULL REFERENCES orgs (id),"
  "  user_id      TEXT NOT NULL REFERENCES users (id),"
  "  name         TEXT NOT NULL,"
  "  token_sha256 TEXT NOT NULL UNIQUE,"
  "  created_at   INTEGER NOT NULL,"
  "  last_seen_at INTEGER,"
  "  revoked_at   INTEGER"
  ");"
  "CREATE TABLE IF NOT EXISTS enrollments ("
  "  secret_sha256 TEXT PRIMARY KEY,"
  "  org_id        TEXT NOT NULL REFERENCES orgs (id),"
  "  user_id       TEXT NOT NULL REFERENCES users (id),"
  "  created_at    INTEGER NOT NULL,"
  "  expires_at    INTEGER NOT NULL,"
  "  used_at       INTEGER,"
  "  device_id     TEXT,"
  "  request_sha256 TEXT"
  ");";

/* Columns added after a release, for a server.db made before them. */
static const struct
{
  const char *table;
  const char *column;
  const char *definition;
} added_columns[] = {
  /* The client's request id of a redeemed code: a repeat of the request gets the device back. */
  { "enrollments", "request_sha256", "TEXT" },
};

#define ENROLLMENT_LIFETIME_MS (7 * 24 * 3600 * G_GINT64_CONSTANT (1000))

static gboolean
db_error (RecoupServerDb  *db,
          GError         **error)
{
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_SQLITE, "server database: %s (SQLite error %d)",
               sqlite3_errmsg (db->db), sqlite3_extended_errcode (db->db));
  return FALSE;
}

static sqlite3_stmt *
prepare (RecoupServerDb  *db,
         const char      *sql,
         GError         **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      db_error (db, error);
      return NULL;
    }
  return stmt;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

char *
recoup_server_sha256_hex (const char *text)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

/* 32 bytes from the kernel's CSPRNG, base64url without padding. */
char *
recoup_server_random_secret (void)
{
  guint8 buf[32];
  gsize done = 0;
  char *text;

  while (done < sizeof buf)
    {
      ssize_t n = getrandom (buf + done, sizeof buf - done, 0);
      if (n < 0 && errno != EINTR)
        g_error ("getrandom failed: %s", g_strerror (errno));
      if (n > 0)
        done += (gsize) n;
    }
  text = g_base64_encode (buf, sizeof buf);
  g_strdelimit (text, "+", '-');
  g_strdelimit (text, "/", '_');
  g_strdelimit (text, "=", '\0');
  return text;
}

static gboolean
has_column (RecoupServerDb *db,
            const char     *table,
            const char     *column)
{
  g_autofree char *sql = g_strdup_printf ("SELECT 1 FROM pragma_table_info('%s') WHERE name = ?", table);
  g_autoptr(sqlite3_stmt) stmt = prepare (db, sql, NULL);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, column, -1, SQLITE_STATIC);
  return sqlite3_step (stmt) == SQLITE_ROW;
}

static gboolean
add_missing_columns (RecoupServerDb  *db,
                     GError         **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (added_columns); i++)
    {
      g_autofree char *sql = NULL;

      if (has_column (db, added_columns[i].table, added_columns[i].column))
        continue;
      sql = g_strdup_printf ("ALTER TABLE %s ADD COLUMN %s %s", added_columns[i].table,
                             added_columns[i].column, added_columns[i].definition);
      if (sqlite3_exec (db->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_error (db, error);
    }
  return TRUE;
}

RecoupServerDb *
recoup_server_db_open (const char  *data_dir,
                       GError     **error)
{
  g_autofree char *path = g_build_filename (data_dir, "server.db", NULL);
  g_autofree char *orgs = g_build_filename (data_dir, "orgs", NULL);
  RecoupServerDb *db;
  char *msg = NULL;

  if (g_mkdir_with_parents (orgs, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: cannot create the data directory: %s", orgs, g_strerror (saved));
      return NULL;
    }
  db = g_new0 (RecoupServerDb, 1);
  db->data_dir = g_strdup (data_dir);
  if (sqlite3_open_v2 (path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
    {
      db_error (db, error);
      recoup_server_db_free (db);
      return NULL;
    }
  sqlite3_busy_timeout (db->db, 5000);
  if (sqlite3_exec (db->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                            "PRAGMA foreign_keys = ON;", NULL, NULL, &msg) != SQLITE_OK ||
      sqlite3_exec (db->db, server_schema, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_SQLITE, "%s: %s", path, msg);
      sqlite3_free (msg);
      recoup_server_db_free (db);
      return NULL;
    }
  if (!add_missing_columns (db, error))
    {
      g_prefix_error (error, "%s: ", path);
      recoup_server_db_free (db);
      return NULL;
    }
  return db;
}

void
recoup_server_db_free (RecoupServerDb *db)
{
  if (db == NULL)
    return;
  sqlite3_close_v2 (db->db);
  g_free (db->data_dir);
  g_free (db);
}

const char *
recoup_server_db_get_data_dir (RecoupServerDb *db)
{
  return db->data_dir;
}

void
recoup_server_device_free (RecoupServerDevice *device)
{
  if (device == NULL)
    return;
  g_free (device->device_id);
  g_free (device->org_id);
  g_free (device->user_id);
  g_free (device->user_name);
  g_free (device->role);
  g_free (device);
}

char *
recoup_server_db_book_path (RecoupServerDb *db,
                            const char     *org_id)
{
  g_autofree char *name = g_strdup_printf ("%s.recoup", org_id);
  return g_build_filename (db->data_dir, "orgs", name, NULL);
}

RecoupBook *
recoup_server_db_open_book (RecoupServerDb  *db,
                            const char      *org_id,
                            GError         **error)
{
  g_autofree char *path = recoup_server_db_book_path (db, org_id);
  g_autoptr(RecoupBook) book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, error);

  if (book == NULL)
    return NULL;
  /* On the server a change's sequence is its seq here. A change the server
   * writes itself (what core derives while it merges a push, an admin
   * command's user) is numbered by this connection's trigger in the statement
   * that writes it, so no pull ever sees one without its number; the UPDATE
   * numbers those a book written before the trigger existed still lacks. */
  if (sqlite3_exec (recoup_book_get_db (book),
                    "CREATE TEMP TRIGGER number_own_changes AFTER INSERT ON main.changes"
                    " WHEN NEW.server_seq IS NULL"
                    " BEGIN UPDATE changes SET server_seq = NEW.seq WHERE seq = NEW.seq; END;"
                    "UPDATE changes SET server_seq = seq WHERE server_seq IS NULL", NULL, NULL, NULL) != SQLITE_OK)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_SQLITE, "%s: cannot number its changes (%s)",
                   path, sqlite3_errmsg (recoup_book_get_db (book)));
      return NULL;
    }
  /* The organisation's book is nobody's: what the server writes itself is a
   * system write, and the owner the book was made with is not handed to the
   * devices in snapshots (they would each hold a user no other copy has). */
  if (!recoup_book_write_as_system (book, error))
    return NULL;
  /* A push of thousands of changes writes thousands of pages: checkpoint the
   * WAL every 64 MiB instead of every 4 MiB, so a hot index page is copied
   * into the book once per checkpoint rather than at nearly every commit. */
  sqlite3_exec (recoup_book_get_db (book), "PRAGMA wal_autocheckpoint = 16384", NULL, NULL, NULL);
  return g_steal_pointer (&book);
}

char *
recoup_server_db_resolve_org (RecoupServerDb  *db,
                              const char      *id_or_name,
                              GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (db, "SELECT id FROM orgs WHERE id = ?1 OR name = ?1", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id_or_name, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "no organisation “%s” (list them with “recoupd admin orgs”; create one with "
                   "“recoupd admin create-org NAME”)", id_or_name);
      return NULL;
    }
  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

char *
recoup_server_db_create_org (RecoupServerDb  *db,
                             const char      *name,
                             GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autofree char *id = NULL;

  if (name == NULL || *name == '\0')
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID, "an organisation needs a name");
      return NULL;
    }
  if (!(stmt = prepare (db, "INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)", error)))
    return NULL;
  id = recoup_uuid7_new ();
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, recoup_wall_clock_ms ());
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      if (sqlite3_extended_errcode (db->db) == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                     "an organisation named “%s” exists already", name);
      else
        db_error (db, error);
      return NULL;
    }
  if (!(book = recoup_server_db_open_book (db, id, error)))
    return NULL;
  return g_steal_pointer (&id);
}

/* The user of the organisation's book called @name (server.db has none of
 * that name: an owner's device made and synced it), NULL if none: the
 * person an admin now adds. Two of the name leave the admin to choose:
 * FALSE, with their ids. */
static gboolean
find_book_user (RecoupBook   *book,
                const char   *name,
                RecoupUser  **out_user,
                GError      **error)
{
  g_autoptr(GPtrArray) named = recoup_user_find_by_name (book, name, error);
  g_autoptr(GString) listed = NULL;

  *out_user = NULL;
  if (named == NULL)
    return FALSE;
  if (named->len == 1)
    *out_user = g_ptr_array_steal_index (named, 0);
  if (named->len <= 1)
    return TRUE;
  listed = g_string_new (NULL);
  for (guint i = 0; i < named->len; i++)
    {
      RecoupUser *u = named->pdata[i];

      g_string_append_printf (listed, "%s%s (%s)", i > 0 ? ", " : "", u->id, u->role);
    }
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
               "the organisation's book has %u users named “%s” (%s), synced from an owner's device; "
               "add the user under a name none of them has", named->len, name, listed->str);
  return FALSE;
}

/* A removed user's name is free again: names are unique in an
 * organisation, and the name may be added anew. */
static gboolean
free_name (RecoupServerDb  *db,
           const char      *user_id,
           GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (db, "UPDATE users SET name = name || ' (removed ' || substr (id, -6)"
                                              " || ')' WHERE id = ?1 AND removed_at IS NOT NULL", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, user_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (db, error);
  return TRUE;
}

/* Writes the user's row: a new one, or with @restore, a removed one added
 * back under its id with the authority given now. */
static gboolean
write_user (RecoupServerDb  *db,
            const char      *id,
            const char      *org_id,
            const char      *name,
            const char      *role,
            gint64           max_discount_bp,
            gint64           max_plan_installments,
            gboolean         restore,
            GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (db, restore
    ? "UPDATE users SET org_id = ?2, name = ?3, role = ?4, max_discount_bp = ?5, max_plan_installments = ?6,"
      " removed_at = NULL WHERE id = ?1"
    : "INSERT INTO users (id, org_id, name, role, max_discount_bp, max_plan_installments)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, org_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, role, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, max_discount_bp);
  sqlite3_bind_int64 (stmt, 6, max_plan_installments);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (db, error);
  return TRUE;
}

/* How many accounts of the book @user_id holds. */
static gboolean
count_assigned (RecoupBook  *book,
                const char  *user_id,
                gint64      *out_held,
                GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT count(*) FROM accounts WHERE assigned_to = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, user_id, -1, SQLITE_STATIC);
  *out_held = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  sqlite3_reset (stmt);
  return TRUE;
}

char *
recoup_server_db_add_user (RecoupServerDb  *db,
                           const char      *org_id,
                           const char      *name,
                           const char      *role,
                           gint64           max_discount_bp,
                           gint64           max_plan_installments,
                           GError         **error)
{
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(RecoupUser) synced = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *id = NULL;
  g_autofree char *removed = NULL;

  if (role != NULL && g_strcmp0 (role, "owner") != 0 && g_strcmp0 (role, "collector") != 0 &&
      g_strcmp0 (role, "bookkeeper") != 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a role (owner, collector or bookkeeper)", role);
      return NULL;
    }
  /* Any case: the books find a user by name so (recoup_user_resolve()). A
   * removed user who kept the name (accounts were still theirs) is added
   * back. */
  if (!(stmt = prepare (db, "SELECT id, removed_at IS NOT NULL FROM users WHERE org_id = ? AND name = ?"
                            " COLLATE NOCASE", error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, org_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, name, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      if (!sqlite3_column_int (stmt, 1))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                       "the organisation has a user named “%s” already", name);
          return NULL;
        }
      removed = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* The user is a row of the organisation's book too (it syncs to every
   * device). One an owner's device made and synced already is that person:
   * accounts are assigned to its id on every copy, so the server takes that
   * id rather than make a second user of the name. What the admin gives
   * decides role and limits (the server enforces them on pushes); what is
   * not given stays as the owner set it. */
  if (!(book = recoup_server_db_open_book (db, org_id, error)) ||
      !find_book_user (book, name, &synced, error))
    return NULL;
  /* The removed user's row in the books is gone after all: a new user. */
  if (removed != NULL && (synced == NULL || g_strcmp0 (synced->id, removed) != 0) &&
      !free_name (db, removed, error))
    return NULL;
  if (synced != NULL)
    {
      role = role != NULL ? role : synced->role;
      /* Made a bookkeeper, the user would keep accounts no one may work:
       * as remove-user, the accounts go to someone else first. */
      if (!recoup_user_role_holds_accounts (role) && recoup_user_role_holds_accounts (synced->role))
        {
          gint64 held = 0;

          if (!count_assigned (book, synced->id, &held, error))
            return NULL;
          if (held > 0)
            {
              g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                           "%s holds %" G_GINT64_FORMAT " accounts, and a %s cannot hold any: assign them to a "
                           "collector or an owner first (recoup-cli accounts --collector “%s” lists them), "
                           "then run add-user again", synced->name, held, role, synced->name);
              return NULL;
            }
        }
      max_discount_bp = max_discount_bp >= 0 ? max_discount_bp : synced->max_discount_bp;
      max_plan_installments = max_plan_installments >= 0 ? max_plan_installments : synced->max_plan_installments;
      if (!recoup_user_set_authority (book, synced->id, role, max_discount_bp, max_plan_installments, error))
        return NULL;
      id = g_strdup (synced->id);
      name = synced->name;
    }
  else
    {
      gboolean owner;

      role = role != NULL ? role : "collector";
      /* Not given: none for a collector, an owner's as a new book's owner has. */
      owner = g_str_equal (role, "owner");
      if (max_discount_bp < 0)
        max_discount_bp = owner ? RECOUP_OWNER_MAX_DISCOUNT_BP : 0;
      if (max_plan_installments < 0)
        max_plan_installments = owner ? RECOUP_OWNER_MAX_PLAN_INSTALLMENTS : 0;
      if (!(id = recoup_user_add (book, name, role, max_discount_bp, max_plan_installments, owner, error)))
        return NULL;
    }
  g_clear_object (&book);
  /* Number the change just recorded. */
  if (!(book = recoup_server_db_open_book (db, org_id, error)))
    return NULL;

  if (!write_user (db, id, org_id, name, role, max_discount_bp, max_plan_installments,
                   g_strcmp0 (removed, id) == 0, error))
    return NULL;
  return g_steal_pointer (&id);
}

/* ---- a pushed user who is one the server made ---- */

/* What server.db grants a user. */
typedef struct
{
  char   *id;
  char   *role;
  gint64  max_discount_bp;
  gint64  max_plan_installments;
} ServerUser;

static void
server_user_free (ServerUser *user)
{
  g_free (user->id);
  g_free (user->role);
  g_free (user);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerUser, server_user_free)

/* The server's user called like the pushed @user whom nothing has used yet:
 * no device was ever enrolled as them (so nothing was written as them), and
 * the organisation's book names them nowhere but in their own row as the
 * server made it. NULL when there is none (or no single one). */
static ServerUser *
unused_server_user (RecoupServerDb  *db,
                    RecoupBook      *book,
                    const char      *org_id,
                    const RecoupUser *user,
                    GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (db,
    "SELECT id, role, max_discount_bp, max_plan_installments FROM users u"
    " WHERE org_id = ?1 AND name = ?2 COLLATE NOCASE AND id != ?3 AND removed_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id)", error);
  g_autoptr(ServerUser) found = NULL;
  sqlite3_stmt *named;
  gboolean used;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, org_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, user->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, user->id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return NULL;
  found = g_new0 (ServerUser, 1);
  found->id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  found->role = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  found->max_discount_bp = sqlite3_column_int64 (stmt, 2);
  found->max_plan_installments = sqlite3_column_int64 (stmt, 3);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    return NULL;

  /* A scan of the change log, but only for a pushed user whose name the
   * server has: once per person. Pushed changes carry their fields; what
   * the server inserted itself does not, hence the assigned accounts. */
  named = recoup_book_prepare (book,
    "SELECT 1 FROM changes WHERE user_id = ?1 OR (entity = 'users' AND entity_id = ?1 AND op != 'insert')"
    " OR (entity_id != ?1 AND instr (fields, ?1) > 0)"
    " UNION ALL SELECT 1 FROM accounts WHERE assigned_to = ?1 LIMIT 1", error);
  if (named == NULL)
    return NULL;
  sqlite3_bind_text (named, 1, found->id, -1, SQLITE_STATIC);
  used = sqlite3_step (named) == SQLITE_ROW;
  sqlite3_reset (named);
  return used ? NULL : g_steal_pointer (&found);
}

static gboolean
begin_once (RecoupServerDb  *db,
            GError         **error)
{
  if (!sqlite3_get_autocommit (db->db))
    return TRUE;
  /* The user's id changes under the enrollment codes that name it, in
   * this transaction: their references are checked at its end. */
  if (sqlite3_exec (db->db, "BEGIN IMMEDIATE; PRAGMA defer_foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK)
    return db_error (db, error);
  return TRUE;
}

static gboolean
take_id (RecoupServerDb   *db,
         const char       *old_id,
         const RecoupUser *user,
         GError          **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!begin_once (db, error) ||
      !(stmt = prepare (db, "UPDATE users SET id = ?1, name = ?2 WHERE id = ?3", error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, user->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, user->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, old_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (db, error);
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (!(stmt = prepare (db, "UPDATE enrollments SET user_id = ?1 WHERE user_id = ?2", error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, user->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, old_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (db, error);
  return TRUE;
}

/* Whether the users of one name in the book are the pushed one (not
 * removed) and at most the server's: with another one besides, which of
 * them the server's user is would be a guess. */
static gboolean
only_pushed_and_made (GPtrArray  *named,
                      const char *pushed_id,
                      const char *made_id)
{
  gboolean has_pushed = FALSE;

  for (guint i = 0; i < named->len; i++)
    {
      const char *id = ((RecoupUser *) named->pdata[i])->id;

      if (g_str_equal (id, pushed_id))
        has_pushed = TRUE;
      else if (!g_str_equal (id, made_id))
        return FALSE;
    }
  return has_pushed;
}

gboolean
recoup_server_db_adopt_pushed_users (RecoupServerDb  *db,
                                     RecoupBook      *book,
                                     const char      *org_id,
                                     GPtrArray       *user_ids,
                                     GError         **error)
{
  for (guint i = 0; i < user_ids->len; i++)
    {
      g_autoptr(RecoupUser) user = recoup_user_load (book, user_ids->pdata[i], error);
      g_autoptr(ServerUser) made = NULL;
      g_autoptr(GPtrArray) named = NULL;
      g_autoptr(GError) local = NULL;

      if (user == NULL || !(named = recoup_user_find_by_name (book, user->name, error)))
        return FALSE;
      if (!(made = unused_server_user (db, book, org_id, user, &local)))
        {
          if (local != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return FALSE;
            }
          continue;
        }
      if (!only_pushed_and_made (named, user->id, made->id))
        continue;
      /* The pushed user stays (the owner's accounts are assigned to its id
       * on their device and here) with the role and limits the server
       * enforces; the server's row of the name goes from the books by a
       * tombstone, and its id in server.db (with its unused codes) becomes
       * the pushed one's. */
      if (!recoup_user_set_authority (book, user->id, made->role, made->max_discount_bp,
                                      made->max_plan_installments, error) ||
          !recoup_user_remove (book, made->id, error) ||
          !take_id (db, made->id, user, error))
        return FALSE;
      g_message ("the user “%s” an owner's device sent is the one the server had (%s): "
                 "their enrollment codes now enroll them as %s", user->name, made->id, user->id);
    }
  return TRUE;
}

gboolean
recoup_server_db_end (RecoupServerDb  *db,
                      gboolean         commit,
                      GError         **error)
{
  if (sqlite3_get_autocommit (db->db))
    return TRUE;
  if (!commit)
    {
      sqlite3_exec (db->db, "ROLLBACK", NULL, NULL, NULL);
      return TRUE;
    }
  if (sqlite3_exec (db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
      db_error (db, error);
      sqlite3_exec (db->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

/* The user @user names (an id or a name), active or removed but still a
 * user of the book; *@out_removed says which. */
static char *
resolve_any_user (RecoupServerDb  *db,
                  const char      *org_id,
                  const char      *user,
                  gboolean        *out_removed,
                  GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (db, "SELECT id, removed_at IS NOT NULL FROM users WHERE org_id = ?1"
                                              " AND (id = ?2 OR name = ?2) ORDER BY removed_at IS NOT NULL", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, org_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, user, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "the organisation has no user “%s”", user);
      return NULL;
    }
  *out_removed = sqlite3_column_int (stmt, 1) != 0;
  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

/* The active user @user names. */
static char *
resolve_user (RecoupServerDb  *db,
              const char      *org_id,
              const char      *user,
              GError         **error)
{
  g_autoptr(GError) local = NULL;
  gboolean removed = FALSE;
  g_autofree char *id = resolve_any_user (db, org_id, user, &removed, &local);

  if (id != NULL && !removed)
    return g_steal_pointer (&id);
  if (local != NULL && !g_error_matches (local, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
               "the organisation has no user “%s” (add one with “recoupd admin add-user”)", user);
  return NULL;
}

/* The user goes from the organisation's book too (a tombstone that syncs)
 * and their name is free again, unless accounts are still assigned to them:
 * then *@out_note says so, and they stay until removed again. */
static gboolean
remove_book_user (RecoupServerDb  *db,
                  const char      *org_id,
                  const char      *user_id,
                  char           **out_note,
                  GError         **error)
{
  g_autoptr(RecoupBook) book = recoup_server_db_open_book (db, org_id, error);
  g_autoptr(GError) local = NULL;

  if (book == NULL)
    return FALSE;
  /* Gone from the books already (or never there): only the name is left. */
  if (recoup_user_remove (book, user_id, &local) ||
      g_error_matches (local, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND))
    return free_name (db, user_id, error);
  if (!g_error_matches (local, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  *out_note = g_strdup_printf ("their devices are revoked, but they stay a user of the book: %s; then run "
                               "remove-user again", local->message);
  return TRUE;
}

gboolean
recoup_server_db_remove_user (RecoupServerDb  *db,
                              const char      *org_id,
                              const char      *user,
                              char           **out_note,
                              GError         **error)
{
  gboolean removed = FALSE;
  g_autofree char *id = resolve_any_user (db, org_id, user, &removed, error);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now = recoup_wall_clock_ms ();

  *out_note = NULL;
  if (id == NULL)
    return FALSE;
  /* Removed before, while accounts were still theirs: only the books are
   * left to do. */
  if (removed)
    return remove_book_user (db, org_id, id, out_note, error);
  /* Someone must be left to approve offers and manage the users. */
  if (!(stmt = prepare (db, "SELECT role = 'owner' AND NOT EXISTS (SELECT 1 FROM users o WHERE o.org_id = u.org_id"
                            " AND o.role = 'owner' AND o.removed_at IS NULL AND o.id <> u.id)"
                            " FROM users u WHERE u.id = ?1", error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int (stmt, 0))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   "“%s” is the organisation's last owner; add another owner first (add-user --role owner)",
                   user);
      return FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (!(stmt = prepare (db, "UPDATE users SET removed_at = ?1 WHERE id = ?2;", error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (db, error);
  g_clear_pointer (&stmt, sqlite3_finalize);
  /* Their devices stop at once. */
  if (!(stmt = prepare (db, "UPDATE devices SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL",
                        error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (db, error);
  return remove_book_user (db, org_id, id, out_note, error);
}

char *
recoup_server_db_create_enrollment (RecoupServerDb  *db,
                                    const char      *org_id,
                                    const char      *user,
                                    GError         **error)
{
  g_autofree char *user_id = resolve_user (db, org_id, user, error);
  g_autofree char *secret = NULL;
  g_autofree char *digest = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now = recoup_wall_clock_ms ();

  if (user_id == NULL)
    return NULL;
  secret = recoup_server_random_secret ();
  digest = recoup_server_sha256_hex (secret);
  if (!(stmt = prepare (db, "INSERT INTO enrollments (secret_sha256, org_id, user_id, created_at,"
                            " expires_at) VALUES (?, ?, ?, ?, ?)", error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, digest, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, org_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, user_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, now);
  sqlite3_bind_int64 (stmt, 5, now + ENROLLMENT_LIFETIME_MS);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      db_error (db, error);
      return NULL;
    }
  return g_steal_pointer (&secret);
}

static RecoupServerDevice *
device_from (RecoupServerDb *db,
             const char     *where_sql,
             const char     *value)
{
  g_autofree char *sql = g_strdup_printf (
    "SELECT d.id, d.org_id, d.user_id, u.name, u.role, u.max_discount_bp, u.max_plan_installments"
    " FROM devices d JOIN users u ON u.id = d.user_id"
    " WHERE %s AND d.revoked_at IS NULL AND u.removed_at IS NULL", where_sql);
  g_autoptr(sqlite3_stmt) stmt = prepare (db, sql, NULL);
  RecoupServerDevice *dev;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, value, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return NULL;
  dev = g_new0 (RecoupServerDevice, 1);
  dev->device_id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  dev->org_id = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  dev->user_id = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  dev->user_name = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  dev->role = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
  dev->max_discount_bp = sqlite3_column_int64 (stmt, 5);
  dev->max_plan_installments = sqlite3_column_int64 (stmt, 6);
  return dev;
}

/* A repeat of an enrollment whose answer never arrived (the same secret and
 * request id): the device it made gets a new token, as only the digest of
 * the first one was kept. Only while that token was never used and the device
 * is not revoked, so a code and request id seen later cannot take over a
 * working device. Inside the caller's transaction. */
static gboolean
reissue_token (RecoupServerDb  *db,
               const char      *device_id,
               const char      *token_digest,
               GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (db, "UPDATE devices SET token_sha256 = ?1 WHERE id = ?2"
                                              " AND revoked_at IS NULL AND last_seen_at IS NULL", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, token_digest, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, device_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (db, error);
  if (sqlite3_changes (db->db) == 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   "this enrollment code was used already (each code enrolls one device); "
                   "ask for a new one");
      return FALSE;
    }
  return TRUE;
}

static gboolean
insert_device (RecoupServerDb  *db,
               const char      *device_id,
               const char      *org_id,
               const char      *user_id,
               const char      *device_name,
               const char      *token_digest,
               gint64           now,
               GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (db, "INSERT INTO devices (id, org_id, user_id, name, token_sha256,"
                                              " created_at) VALUES (?, ?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, org_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, user_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, device_name != NULL && *device_name ? device_name : "device", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, token_digest, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, now);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (db, error);
  return TRUE;
}

static gboolean
mark_used (RecoupServerDb  *db,
           const char      *digest,
           const char      *device_id,
           const char      *request_digest,
           gint64           now,
           GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (db, "UPDATE enrollments SET used_at = ?, device_id = ?,"
                                              " request_sha256 = ? WHERE secret_sha256 = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_text (stmt, 2, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, request_digest, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, digest, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (db, error);
  return TRUE;
}

RecoupServerDevice *
recoup_server_db_enroll (RecoupServerDb  *db,
                         const char      *secret,
                         const char      *request_id,
                         const char      *device_name,
                         char           **out_token,
                         GError         **error)
{
  g_autofree char *digest = recoup_server_sha256_hex (secret);
  g_autofree char *request_digest = request_id != NULL && *request_id ? recoup_server_sha256_hex (request_id) : NULL;
  g_autofree char *token = recoup_server_random_secret ();
  g_autofree char *token_digest = recoup_server_sha256_hex (token);
  g_autofree char *device_id = NULL;
  g_autofree char *org_id = NULL;
  g_autofree char *user_id = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  RecoupServerDevice *dev;
  gint64 now = recoup_wall_clock_ms ();

  if (sqlite3_exec (db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    {
      db_error (db, error);
      return NULL;
    }
  if (!(stmt = prepare (db, "SELECT org_id, user_id, used_at, expires_at, device_id, request_sha256"
                            " FROM enrollments WHERE secret_sha256 = ?", error)))
    goto fail;
  sqlite3_bind_text (stmt, 1, digest, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "this enrollment code is not known to the server; ask for a new one");
      goto fail;
    }
  if (sqlite3_column_type (stmt, 2) != SQLITE_NULL)
    {
      const char *used_by = (const char *) sqlite3_column_text (stmt, 4);
      const char *used_for = (const char *) sqlite3_column_text (stmt, 5);

      /* The same request again (a retry whose first answer was lost). */
      if (request_digest != NULL && used_by != NULL && g_strcmp0 (used_for, request_digest) == 0)
        {
          device_id = g_strdup (used_by);
          g_clear_pointer (&stmt, sqlite3_finalize);
          if (!reissue_token (db, device_id, token_digest, error))
            goto fail;
          goto commit;
        }
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   "this enrollment code was used already (each code enrolls one device); "
                   "ask for a new one");
      goto fail;
    }
  if (sqlite3_column_int64 (stmt, 3) < now)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   "this enrollment code has expired; ask for a new one");
      goto fail;
    }
  org_id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  user_id = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  g_clear_pointer (&stmt, sqlite3_finalize);

  device_id = recoup_uuid7_new ();
  if (!insert_device (db, device_id, org_id, user_id, device_name, token_digest, now, error) ||
      !mark_used (db, digest, device_id, request_digest, now, error))
    goto fail;

commit:
  if (sqlite3_exec (db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
      db_error (db, error);
      goto fail;
    }
  if (!(dev = device_from (db, "d.id = ?1", device_id)))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   "the user of this enrollment code was removed; ask for a new code");
      return NULL;
    }
  *out_token = g_steal_pointer (&token);
  return dev;

fail:
  g_clear_pointer (&stmt, sqlite3_finalize);
  sqlite3_exec (db->db, "ROLLBACK", NULL, NULL, NULL);
  return NULL;
}

gboolean
recoup_server_db_check_enrollment (RecoupServerDb  *db,
                                   const char      *secret,
                                   char           **out_org_id,
                                   char           **out_org_name,
                                   char           **out_user_id,
                                   char           **out_user_name,
                                   char           **out_role,
                                   GError         **error)
{
  g_autofree char *digest = recoup_server_sha256_hex (secret);
  g_autoptr(sqlite3_stmt) stmt = prepare (db,
    "SELECT e.used_at, e.expires_at, u.removed_at, o.id, o.name, u.name, u.role, u.id FROM enrollments e"
    " JOIN users u ON u.id = e.user_id JOIN orgs o ON o.id = e.org_id WHERE e.secret_sha256 = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, digest, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "this enrollment code is not known to the server; ask for a new one");
      return FALSE;
    }
  /* In the order recoup_server_db_enroll() refuses them. */
  if (sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   "this enrollment code was used already (each code enrolls one device); "
                   "ask for a new one");
      return FALSE;
    }
  if (sqlite3_column_int64 (stmt, 1) < recoup_wall_clock_ms ())
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   "this enrollment code has expired; ask for a new one");
      return FALSE;
    }
  if (sqlite3_column_type (stmt, 2) != SQLITE_NULL)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   "the user of this enrollment code was removed; ask for a new code");
      return FALSE;
    }
  *out_org_id = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  *out_org_name = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
  *out_user_name = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
  *out_role = g_strdup ((const char *) sqlite3_column_text (stmt, 6));
  *out_user_id = g_strdup ((const char *) sqlite3_column_text (stmt, 7));
  return TRUE;
}

/* A device seen with its token has its enrollment's answer: a repeat of that
 * enrollment is refused from now on (reissue_token()). Written at most once a
 * minute, not at every request. */
static void
note_seen (RecoupServerDb *db,
           const char     *device_id)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (db, "UPDATE devices SET last_seen_at = ?1 WHERE id = ?2"
                                              " AND (last_seen_at IS NULL OR last_seen_at < ?1 - 60000)", NULL);
  gint64 now = recoup_wall_clock_ms ();

  if (stmt == NULL)
    return;
  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_text (stmt, 2, device_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    g_warning ("cannot note that device %s was seen: %s", device_id, sqlite3_errmsg (db->db));
}

RecoupServerDevice *
recoup_server_db_authenticate (RecoupServerDb *db,
                               const char     *token)
{
  g_autofree char *digest = NULL;
  RecoupServerDevice *dev;

  if (token == NULL || *token == '\0')
    return NULL;
  digest = recoup_server_sha256_hex (token);
  dev = device_from (db, "d.token_sha256 = ?1", digest);
  if (dev != NULL)
    note_seen (db, dev->device_id);
  return dev;
}

char *
recoup_server_db_explain_token (RecoupServerDb *db,
                                const char     *token,
                                const char    **out_reason)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *digest = NULL;
  const char *user, *org;

  if (token == NULL || *token == '\0' ||
      /* The name as the user knew it, without what free_name() added. */
      !(stmt = prepare (db, "SELECT CASE WHEN u.name LIKE '% (removed ' || substr (u.id, -6) || ')'"
                            " THEN substr (u.name, 1, length (u.name) - 17) ELSE u.name END,"
                            " o.name, u.removed_at IS NOT NULL FROM devices d"
                            " JOIN users u ON u.id = d.user_id JOIN orgs o ON o.id = d.org_id"
                            " WHERE d.token_sha256 = ?1 AND (d.revoked_at IS NOT NULL OR u.removed_at IS NOT NULL)",
                        NULL)))
    return NULL;
  digest = recoup_server_sha256_hex (token);
  sqlite3_bind_text (stmt, 1, digest, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return NULL;
  user = (const char *) sqlite3_column_text (stmt, 0);
  org = (const char *) sqlite3_column_text (stmt, 1);
  /* The person first: their devices went with them. Unsent changes stay on
   * the device either way, and a new code enrolls the same book again. */
  if (out_reason != NULL)
    *out_reason = sqlite3_column_int (stmt, 2) ? "user_removed" : "device_revoked";
  if (sqlite3_column_int (stmt, 2))
    return g_strdup_printf ("this device's user “%s” was removed from the organisation “%s”, and their "
                            "devices with them; what this device has not sent stays on it. Ask an owner "
                            "to add you again and to give you a new enrollment code, then enroll this "
                            "book again with it; if you come back as a new user and this book still holds "
                            "changes it has not sent, enroll it with an owner's code so they are "
                            "delivered", user, org);
  return g_strdup_printf ("this device was revoked by the admin of the organisation “%s” (its user “%s” "
                          "is still a member); what it has not sent stays on it. Ask an owner for a new "
                          "enrollment code, then enroll this book again with it", org, user);
}

JsonArray *
recoup_server_db_list_devices (RecoupServerDb  *db,
                               const char      *org_id,
                               GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (db,
    "SELECT d.id, d.name, u.name, u.role, d.created_at, d.revoked_at FROM devices d"
    " JOIN users u ON u.id = d.user_id WHERE d.org_id = ? ORDER BY d.created_at", error);
  JsonArray *array;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, org_id, -1, SQLITE_STATIC);
  array = json_array_new ();
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      JsonObject *obj = json_object_new ();

      json_object_set_string_member (obj, "id", (const char *) sqlite3_column_text (stmt, 0));
      json_object_set_string_member (obj, "name", (const char *) sqlite3_column_text (stmt, 1));
      json_object_set_string_member (obj, "user", (const char *) sqlite3_column_text (stmt, 2));
      json_object_set_string_member (obj, "role", (const char *) sqlite3_column_text (stmt, 3));
      json_object_set_int_member (obj, "created_at", sqlite3_column_int64 (stmt, 4));
      json_object_set_boolean_member (obj, "revoked", sqlite3_column_type (stmt, 5) != SQLITE_NULL);
      json_array_add_object_element (array, obj);
    }
  return array;
}

gboolean
recoup_server_db_revoke (RecoupServerDb  *db,
                         const char      *device_id,
                         GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (db, "UPDATE devices SET revoked_at = ? WHERE id = ?"
                                              " AND revoked_at IS NULL", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, recoup_wall_clock_ms ());
  sqlite3_bind_text (stmt, 2, device_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (db, error);
  if (sqlite3_changes (db->db) == 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "no active device “%s” (list them with “recoupd admin devices ORG”)", device_id);
      return FALSE;
    }
  return TRUE;
}
