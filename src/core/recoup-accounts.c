/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-accounts"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "recoup-accounts.h"
#include "recoup-activity.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-id.h"
#include "recoup-ledger-private.h"
#include "recoup-merge.h"
#include "recoup-money.h"
#include "recoup-offer.h"
#include "recoup-search-private.h"

const char * const recoup_account_mutable_fields[] = {
  "name", "timezone", "assigned_to", "stage", "tier", "lifetime_revenue", "tags",
  "cease_communication", "attorney_represented", "bankruptcy", "deceased",
  "validation_notice_date", "placed_on", "review_flag", "notes", NULL
};

static const char * const stages[] = {
  "pre-collection", "active", "negotiation", "escalation", "closed", NULL
};

static gboolean
text_is_blank (const char *s)
{
  if (s == NULL)
    return TRUE;
  for (; *s; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

/* An IANA name is one or more words of [A-Za-z0-9_+-] joined by '/', the first
 * starting with a letter ("Europe/Berlin", "UTC", "Etc/GMT+5"): never a path to a
 * file ("/etc/localtime", "../zoneinfo/UTC") or a bare offset ("+01"). */
static gboolean
timezone_looks_like_name (const char *tz)
{
  if (!g_ascii_isalpha (tz[0]) || strstr (tz, "..") != NULL || strstr (tz, "//") != NULL)
    return FALSE;
  for (const char *c = tz; *c; c++)
    if (!g_ascii_isalnum (*c) && strchr ("/_+-", *c) == NULL)
      return FALSE;
  return tz[strlen (tz) - 1] != '/';
}

/* The region a user most likely means by a zone abbreviation, or by a fixed
 * or legacy zone named after one (EST is UTC-5 all year, not New York). */
static const char *
region_for_abbreviation (const char *tz)
{
  static const struct { const char *abbreviation; const char *region; } regions[] = {
    { "EST", "America/New_York" }, { "EDT", "America/New_York" }, { "EST5EDT", "America/New_York" },
    { "CST", "America/Chicago" }, { "CDT", "America/Chicago" }, { "CST6CDT", "America/Chicago" },
    { "MST", "America/Denver" }, { "MDT", "America/Denver" }, { "MST7MDT", "America/Denver" },
    { "PST", "America/Los_Angeles" }, { "PDT", "America/Los_Angeles" }, { "PST8PDT", "America/Los_Angeles" },
    { "AKST", "America/Anchorage" }, { "AKDT", "America/Anchorage" }, { "HST", "Pacific/Honolulu" },
    { "GMT", "Europe/London" }, { "BST", "Europe/London" }, { "WET", "Europe/Lisbon" },
    { "WEST", "Europe/Lisbon" }, { "CET", "Europe/Berlin" }, { "CEST", "Europe/Berlin" },
    { "MET", "Europe/Berlin" }, { "EET", "Europe/Athens" }, { "EEST", "Europe/Athens" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (regions); i++)
    if (g_ascii_strcasecmp (tz, regions[i].abbreviation) == 0)
      return regions[i].region;
  return NULL;
}

/* An account's zone answers "what hour is it there" all year, so it is a
 * region's (Area/Location) or UTC: the zones named without an area (EST,
 * CET, PST8PDT, Japan) are fixed offsets or legacy aliases. The guard reads
 * only these names as zones (recoup-guard.c, zone_for()); books that hold
 * another from before keep it, and the guard treats it as unknown. */
gboolean
recoup_timezone_is_regional (const char *tz)
{
  /* Etc/GMT+5 and the like are fixed offsets too; right/ and posix/ are
   * copies of the database with other leap-second rules, not regions. */
  if (g_str_equal (tz, "UTC") || g_str_equal (tz, "Etc/UTC"))
    return TRUE;
  return strchr (tz, '/') != NULL && !g_str_has_prefix (tz, "Etc/") && !g_str_has_prefix (tz, "right/") &&
         !g_str_has_prefix (tz, "posix/");
}

static void
set_not_regional_error (const char  *tz,
                        GError     **error)
{
  const char *region = region_for_abbreviation (tz);

  if (region != NULL)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                 /* Translators: the zone given, then an IANA zone name (keep it) */
                 _("“%s” is an abbreviation or a legacy zone, not a region's: give the IANA name of the "
                   "region, like %s, so that calling hours follow its daylight saving time"),
                 tz, region);
  else
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                 /* Translators: the zone given; keep the IANA names */
                 _("“%s” is an abbreviation or a legacy zone, not a region's: give the IANA name of the "
                   "region, like America/New_York or Europe/Berlin, so that calling hours follow its "
                   "daylight saving time"),
                 tz);
}

/* Validated IANA zones are remembered: reading a zone file per row would dominate
 * a large import. */
gboolean
recoup_timezone_validate (const char  *tz,
                          GError     **error)
{
  static GMutex lock;
  static GHashTable *known;
  gboolean ok;

  if (tz == NULL || *tz == '\0')
    return TRUE;

  g_mutex_lock (&lock);
  if (known == NULL)
    known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ok = g_hash_table_contains (known, tz);
  g_mutex_unlock (&lock);
  if (ok)
    return TRUE;

  /* GLib would also load a file by its path; only names are kept in a book. */
  if (timezone_looks_like_name (tz))
    {
      GTimeZone *zone = g_time_zone_new_identifier (tz);

      ok = zone != NULL;
      g_clear_pointer (&zone, g_time_zone_unref);
    }
  if ((ok || region_for_abbreviation (tz) != NULL) && !recoup_timezone_is_regional (tz))
    {
      set_not_regional_error (tz, error);
      return FALSE;
    }
  if (!ok)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not an IANA time zone name (like Europe/Berlin)", tz);
      return FALSE;
    }
  g_mutex_lock (&lock);
  g_hash_table_add (known, g_strdup (tz));
  g_mutex_unlock (&lock);
  return TRUE;
}

/* A user's role as a message names it; the book and recoupd keep the
 * untranslated word. */
const char *
recoup_user_role_label (const char *role)
{
  if (g_strcmp0 (role, "owner") == 0)
    return C_("role", "owner");
  if (g_strcmp0 (role, "collector") == 0)
    return C_("role", "collector");
  if (g_strcmp0 (role, "bookkeeper") == 0)
    return C_("role", "bookkeeper");
  return role;
}

/**
 * recoup_user_role_holds_accounts:
 *
 * Whether a user of @role may be an account's collector: owners and
 * collectors work accounts; a bookkeeper keeps the books and calls no one.
 * recoup_account_create() and recoup_account_set() refuse another role; a
 * list of collectors to pick from asks this.
 */
gboolean
recoup_user_role_holds_accounts (const char *role)
{
  return g_strcmp0 (role, "owner") == 0 || g_strcmp0 (role, "collector") == 0;
}

/* The id of the user @id_or_name names (recoup_user_resolve()), refused when
 * their role cannot hold accounts. */
static char *
resolve_assignee (RecoupBook  *book,
                  const char  *id_or_name,
                  GError     **error)
{
  g_autofree char *id = recoup_user_resolve (book, id_or_name, error);
  g_autoptr(RecoupUser) user = NULL;

  if (id == NULL || !(user = recoup_user_load (book, id, error)))
    return NULL;
  if (!recoup_user_role_holds_accounts (user->role))
    {
      /* Translators: a user's name, then their role (“bookkeeper”) */
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("%s is a %s and cannot be assigned accounts: assign a collector or an owner"),
                   user->name, recoup_user_role_label (user->role));
      return NULL;
    }
  return g_steal_pointer (&id);
}

static RecoupUser *user_from_row (sqlite3_stmt *stmt);

/* "01…a (collector), 01…b (owner)": what tells apart users of one name. */
static char *
describe_users (GPtrArray *users)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < users->len; i++)
    {
      RecoupUser *u = users->pdata[i];

      g_string_append_printf (out, "%s%s (%s)", i > 0 ? ", " : "", u->id, recoup_user_role_label (u->role));
    }
  return g_string_free (out, FALSE);
}

char *
recoup_user_resolve (RecoupBook  *book,
                     const char  *id_or_name,
                     GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT id FROM users WHERE id = ?1 AND deleted = 0", error);
  g_autoptr(GPtrArray) named = NULL;
  g_autofree char *listed = NULL;
  char *id = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id_or_name, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  if (id != NULL)
    return id;

  if (!(named = recoup_user_find_by_name (book, id_or_name, error)))
    return NULL;
  if (named->len == 1)
    return g_strdup (((RecoupUser *) named->pdata[0])->id);
  if (named->len == 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "no user “%s” in this book", id_or_name);
      return NULL;
    }
  /* Two people of one name (or one person entered twice): the first row
   * would pick one of them at random, so that the same command means a
   * different user on another copy of the book. */
  listed = describe_users (named);
  /* Translators: the name, how many users have it, then their ids with their roles */
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
               g_dngettext (GETTEXT_PACKAGE,
                            "“%s” is the name of %u user in this book: %s; give the id of the one you mean",
                            "“%s” is the name of %u users in this book: %s; give the id of the one you mean",
                            named->len),
               id_or_name, named->len, listed);
  return NULL;
}

/**
 * recoup_user_act_as:
 * @user: an id, or a name only one user has (recoup_user_resolve())
 *
 * Makes @book act as @user for the rest of the session. A book enrolled
 * with a server syncs as its user's device and acts as no one else, or
 * everyone's history would show words in another's name.
 */
gboolean
recoup_user_act_as (RecoupBook  *book,
                    const char  *user,
                    GError     **error)
{
  g_autofree char *user_id = recoup_user_resolve (book, user, error);
  g_autofree char *device = recoup_book_get_setting (book, "sync.device_id");
  g_autoptr(RecoupUser) me = NULL;

  if (user_id == NULL)
    return FALSE;
  if (device == NULL || g_strcmp0 (user_id, recoup_book_get_user_id (book)) == 0)
    return recoup_book_set_user (book, user_id, error);
  if (!(me = recoup_user_load (book, recoup_book_get_user_id (book), error)))
    return FALSE;
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
               "this book syncs as %s's device and acts as %s only, not as another user "
               "(each person enrolls a device of their own)", me->name, me->name);
  return FALSE;
}

GPtrArray *
recoup_user_find_by_name (RecoupBook  *book,
                          const char  *name,
                          GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT id, name, role, max_discount_bp, max_plan_installments, can_override FROM users"
    " WHERE name = ?1 COLLATE NOCASE AND deleted = 0 ORDER BY id", error);
  g_autoptr(GPtrArray) users = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  users = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_user_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (users, user_from_row (stmt));
  if (rc != SQLITE_DONE)
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE ? g_steal_pointer (&users) : NULL;
}

static RecoupUser *
user_from_row (sqlite3_stmt *stmt)
{
  RecoupUser *u = g_new0 (RecoupUser, 1);

  u->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  u->name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
  u->role = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
  u->max_discount_bp = sqlite3_column_int64 (stmt, 3);
  u->max_plan_installments = sqlite3_column_int64 (stmt, 4);
  u->can_override = sqlite3_column_int (stmt, 5);
  return u;
}

GPtrArray *
recoup_user_list (RecoupBook  *book,
                  GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT id, name, role, max_discount_bp, max_plan_installments, can_override FROM users"
    " WHERE deleted = 0 ORDER BY role = 'owner' DESC, name", error);
  g_autoptr(GPtrArray) list = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_user_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, user_from_row (stmt));
  if (rc != SQLITE_DONE)
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE ? g_steal_pointer (&list) : NULL;
}

RecoupUser *
recoup_user_load (RecoupBook  *book,
                  const char  *user_id,
                  GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT id, name, role, max_discount_bp, max_plan_installments, can_override FROM users WHERE id = ?",
    error);
  RecoupUser *u = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, user_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    u = user_from_row (stmt);
  sqlite3_reset (stmt);
  if (u == NULL)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND, "no user with id %s", user_id);
  return u;
}

void
recoup_user_free (RecoupUser *u)
{
  if (u == NULL)
    return;
  g_free (u->id);
  g_free (u->name);
  g_free (u->role);
  g_free (u);
}

/* A discount limit of 0 to 100 % and a plan length Recoup can make. */
static gboolean
check_limits (gint64    max_discount_bp,
              gint64    max_plan_installments,
              GError  **error)
{
  if (max_discount_bp < 0 || max_discount_bp > 10000)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "a discount limit must be 0 to 10000 basis points (0 to 100 %%), not %" G_GINT64_FORMAT,
                   max_discount_bp);
      return FALSE;
    }
  if (max_plan_installments < 0 || max_plan_installments > RECOUP_OFFER_MAX_INSTALLMENTS)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "a plan limit must be 0 to %d installments, not %" G_GINT64_FORMAT,
                   RECOUP_OFFER_MAX_INSTALLMENTS, max_plan_installments);
      return FALSE;
    }
  return TRUE;
}

char *
recoup_user_add (RecoupBook  *book,
                 const char  *name,
                 const char  *role,
                 gint64       max_discount_bp,
                 gint64       max_plan_installments,
                 gboolean     can_override,
                 GError     **error)
{
  g_autofree char *id = NULL;
  sqlite3_stmt *stmt;

  if (text_is_blank (name))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID, "a user needs a name");
      return NULL;
    }
  if (g_strcmp0 (role, "owner") && g_strcmp0 (role, "collector") && g_strcmp0 (role, "bookkeeper"))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a role (owner, collector or bookkeeper)", role ? role : "");
      return NULL;
    }
  if (!check_limits (max_discount_bp, max_plan_installments, error))
    return NULL;
  /* recoupd would refuse the user and this book alone would keep it. */
  if (!recoup_merge_check_own_write (book, "users", NULL, error))
    return NULL;
  /* Users are found by name (recoup_user_resolve()): a second of one name
   * would make the name mean no one. */
  {
    g_autoptr(GPtrArray) named = recoup_user_find_by_name (book, name, error);

    if (named == NULL)
      return NULL;
    if (named->len > 0)
      {
        const RecoupUser *u = named->pdata[0];

        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                     "there is a user named “%s” already (%s, id %s); give the new one a name of its own",
                     u->name, u->role, u->id);
        return NULL;
      }
  }

  if (!recoup_book_begin (book, error))
    return NULL;
  id = recoup_uuid7_new ();
  stmt = recoup_book_prepare (book,
                              "INSERT INTO users (id, name, role, max_discount_bp, max_plan_installments,"
                              " can_override, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, role, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, max_discount_bp);
  sqlite3_bind_int64 (stmt, 5, max_plan_installments);
  sqlite3_bind_int (stmt, 6, can_override ? 1 : 0);
  sqlite3_bind_int64 (stmt, 7, recoup_book_now_ms (book));
  if (!recoup_book_step_done (book, stmt, error) ||
      !recoup_book_record_change (book, "users", id, RECOUP_CHANGE_INSERT, NULL, error))
    goto fail;
  /* A failed commit has already rolled back its own level. */
  if (!recoup_book_commit (book, error))
    return NULL;
  return g_steal_pointer (&id);

fail:
  recoup_book_rollback (book);
  return NULL;
}

/* Writes @user_id's limits, and its @role unless that is NULL, with their
 * change when anything differs. Who may override the compliance guard
 * follows the role only when the role changes (recoup_user_add() gives it
 * to owners): an owner's own choice for a user who keeps their role stays. */
static gboolean
write_authority (RecoupBook  *book,
                 const char  *user_id,
                 const char  *role,
                 gint64       max_discount_bp,
                 gint64       max_plan_installments,
                 GError     **error)
{
  static const char * const limits[] = { "max_discount_bp", "max_plan_installments", NULL };
  static const char * const all[] = { "role", "max_discount_bp", "max_plan_installments", "can_override", NULL };
  sqlite3_stmt *stmt;

  if (!recoup_book_begin (book, error))
    return FALSE;
  stmt = recoup_book_prepare (book,
                              "UPDATE users SET role = coalesce (?1, role), max_discount_bp = ?2,"
                              " max_plan_installments = ?3,"
                              " can_override = CASE WHEN ?1 IS NULL OR role = ?1 THEN can_override ELSE ?1 = 'owner' END"
                              " WHERE id = ?4 AND (role IS NOT coalesce (?1, role) OR max_discount_bp IS NOT ?2"
                              " OR max_plan_installments IS NOT ?3)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, role, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, max_discount_bp);
  sqlite3_bind_int64 (stmt, 3, max_plan_installments);
  sqlite3_bind_text (stmt, 4, user_id, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error))
    goto fail;
  if (sqlite3_changes (recoup_book_get_db (book)) == 1 &&
      !recoup_book_record_change (book, "users", user_id, RECOUP_CHANGE_SET, role != NULL ? all : limits, error))
    goto fail;
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

/* Changes what a user may offer without an owner's approval. Only an owner
 * may; the limits are validated first and nothing changes when they are bad. */
gboolean
recoup_user_set_limits (RecoupBook  *book,
                        const char  *user_id,
                        gint64       max_discount_bp,
                        gint64       max_plan_installments,
                        GError     **error)
{
  g_autoptr(RecoupUser) me = NULL;
  g_autoptr(RecoupUser) user = NULL;

  if (!check_limits (max_discount_bp, max_plan_installments, error))
    return FALSE;
  if ((me = recoup_user_load (book, recoup_book_get_user_id (book), error)) == NULL)
    return FALSE;
  if (g_strcmp0 (me->role, "owner") != 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                   "only an owner can change authority limits (%s is a %s); ask the owner",
                   me->name, me->role);
      return FALSE;
    }
  if ((user = recoup_user_load (book, user_id, error)) == NULL)
    return FALSE;
  return write_authority (book, user_id, NULL, max_discount_bp, max_plan_installments, error);
}

gboolean
recoup_user_set_authority (RecoupBook  *book,
                           const char  *user_id,
                           const char  *role,
                           gint64       max_discount_bp,
                           gint64       max_plan_installments,
                           GError     **error)
{
  g_autoptr(RecoupUser) user = NULL;

  if (g_strcmp0 (role, "owner") && g_strcmp0 (role, "collector") && g_strcmp0 (role, "bookkeeper"))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a role (owner, collector or bookkeeper)", role ? role : "");
      return FALSE;
    }
  if (!check_limits (max_discount_bp, max_plan_installments, error) ||
      !recoup_merge_check_own_write (book, "users", NULL, error) ||
      !(user = recoup_user_load (book, user_id, error)))
    return FALSE;
  return write_authority (book, user_id, role, max_discount_bp, max_plan_installments, error);
}

gboolean
recoup_user_remove (RecoupBook  *book,
                    const char  *user_id,
                    GError     **error)
{
  g_autoptr(RecoupUser) user = NULL;
  sqlite3_stmt *stmt;
  gint64 assigned;

  if (!recoup_merge_check_own_write (book, "users", NULL, error) ||
      !(user = recoup_user_load (book, user_id, error)))
    return FALSE;
  /* Counted inside the write transaction: recoupd may be merging a push into
   * the same book (`recoupd admin remove-user` runs beside it), and an
   * account assigned between the count and the tombstone would be no one's.
   * A change assigning one after the tombstone is refused by recoupd
   * (recoup_merge_check_assignee()). */
  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!(stmt = recoup_book_prepare (book, "SELECT count(*) FROM accounts WHERE assigned_to = ?", error)))
    goto fail;
  sqlite3_bind_text (stmt, 1, user_id, -1, SQLITE_STATIC);
  assigned = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  sqlite3_reset (stmt);
  if (assigned > 0)
    {
      guint n = (guint) MIN (assigned, G_MAXUINT);

      /* Translators: the user's name, how many accounts */
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   g_dngettext (GETTEXT_PACKAGE,
                                "%s has %u account assigned; assign it to someone else first",
                                "%s has %u accounts assigned; assign them to someone else first", n),
                   user->name, n);
      goto fail;
    }
  stmt = recoup_book_prepare (book, "UPDATE users SET deleted = 1 WHERE id = ? AND deleted = 0", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, user_id, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error))
    goto fail;
  if (sqlite3_changes (recoup_book_get_db (book)) == 1 &&
      !recoup_book_record_change (book, "users", user_id, RECOUP_CHANGE_TOMBSTONE, NULL, error))
    goto fail;
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

static gboolean
validate_account_spec (RecoupBook              *book,
                       const RecoupAccountSpec *spec,
                       GError                 **error)
{
  if (text_is_blank (spec->ref))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "an account needs a reference");
      return FALSE;
    }
  if (text_is_blank (spec->name))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "account %s needs a name", spec->ref);
      return FALSE;
    }
  if (!recoup_currency_validate (spec->currency, error) ||
      !recoup_timezone_validate (spec->timezone, error))
    return FALSE;
  if (spec->lifetime_revenue < 0)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "lifetime revenue cannot be negative");
      return FALSE;
    }
  return TRUE;
}

char *
recoup_account_normalize_tags (const char *tags)
{
  g_auto(GStrv) parts = g_strsplit (tags != NULL ? tags : "", ",", -1);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GString *out = g_string_new (NULL);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *tag = g_strstrip (parts[i]);

      if (*tag == '\0' || !g_hash_table_add (seen, g_utf8_casefold (tag, -1)))
        continue;
      if (out->len > 0)
        g_string_append (out, ", ");
      g_string_append (out, tag);
    }
  return g_string_free (out, FALSE);
}

/**
 * recoup_account_create:
 *
 * Creates an account; its reference must be new to the book. Returns the new
 * account's id.
 */
char *
recoup_account_create (RecoupBook              *book,
                       const RecoupAccountSpec *spec,
                       GError                 **error)
{
  char id[RECOUP_UUID_STRING_LEN + 1];
  g_autofree char *assignee = NULL;
  sqlite3_stmt *stmt;

  if (!validate_account_spec (book, spec, error))
    return NULL;
  if (spec->assigned_to != NULL && *spec->assigned_to != '\0' &&
      !(assignee = resolve_assignee (book, spec->assigned_to, error)))
    return NULL;

  if (!recoup_book_begin (book, error))
    return NULL;

  recoup_uuid7_generate (id);
  stmt = recoup_book_prepare (book,
                              "INSERT INTO accounts (id, ref, name, timezone, currency, assigned_to,"
                              " tier, tags, lifetime_revenue, created_at)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, spec->ref, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, spec->name, -1, SQLITE_STATIC);
  if (spec->timezone != NULL && *spec->timezone)
    sqlite3_bind_text (stmt, 4, spec->timezone, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, spec->currency, -1, SQLITE_STATIC);
  if (assignee != NULL)
    sqlite3_bind_text (stmt, 6, assignee, -1, SQLITE_STATIC);
  if (spec->tier != NULL && *spec->tier)
    sqlite3_bind_text (stmt, 7, spec->tier, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, recoup_account_normalize_tags (spec->tags), -1, g_free);
  sqlite3_bind_int64 (stmt, 9, spec->lifetime_revenue);
  sqlite3_bind_int64 (stmt, 10, recoup_book_now_ms (book));

  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      if (sqlite3_extended_errcode (recoup_book_get_db (book)) == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                     "an account with reference %s already exists", spec->ref);
      else
        recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      goto fail;
    }
  sqlite3_reset (stmt);
  recoup_book_touch_account (book, id);

  if (!recoup_book_record_change (book, "accounts", id, RECOUP_CHANGE_INSERT, NULL, error))
    goto fail;
  if (!recoup_book_commit (book, error))
    return NULL;
  return g_strdup (id);

fail:
  recoup_book_rollback (book);
  return NULL;
}

/* Finds an account by its reference or its id. */
char *
recoup_account_resolve (RecoupBook  *book,
                        const char  *ref_or_id,
                        GError     **error)
{
  sqlite3_stmt *stmt;
  char *id = NULL;

  if (ref_or_id == NULL || *ref_or_id == '\0')
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID, "no account given");
      return NULL;
    }
  stmt = recoup_book_prepare (book,
                              "SELECT id FROM accounts WHERE ref = ?1 AND deleted = 0 "
                              "UNION ALL SELECT id FROM accounts WHERE id = ?1 AND deleted = 0 LIMIT 1",
                              error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, ref_or_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  sqlite3_reset (stmt);
  if (id == NULL)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 "no account with reference or id “%s”", ref_or_id);
  return id;
}

RecoupAccount *
recoup_account_load (RecoupBook  *book,
                     const char  *account_id,
                     GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT id, ref, name, timezone, currency, assigned_to, stage, tier, tags, lifetime_revenue,"
    " cease_communication, attorney_represented, bankruptcy, deceased, validation_notice_date,"
    " review_flag, created_at FROM accounts WHERE id = ?", error);
  RecoupAccount *a;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "no account with id %s", account_id);
      return NULL;
    }
  a = g_new0 (RecoupAccount, 1);
  a->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  a->ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
  a->name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
  a->timezone = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
  a->currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
  a->assigned_to = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
  a->stage = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 6));
  a->tier = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 7));
  a->tags = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 8));
  a->lifetime_revenue = sqlite3_column_int64 (stmt, 9);
  a->cease_communication = sqlite3_column_int (stmt, 10);
  a->attorney_represented = sqlite3_column_int (stmt, 11);
  a->bankruptcy = sqlite3_column_int (stmt, 12);
  a->deceased = sqlite3_column_int (stmt, 13);
  a->validation_notice_date = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 14));
  a->review_flag = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 15));
  a->created_at = sqlite3_column_int64 (stmt, 16);
  sqlite3_reset (stmt);
  return a;
}

void
recoup_account_free (RecoupAccount *a)
{
  if (a == NULL)
    return;
  g_free (a->id);
  g_free (a->ref);
  g_free (a->name);
  g_free (a->timezone);
  g_free (a->currency);
  g_free (a->assigned_to);
  g_free (a->stage);
  g_free (a->tier);
  g_free (a->tags);
  g_free (a->validation_notice_date);
  g_free (a->review_flag);
  g_free (a);
}

static gboolean
parse_flag (const char  *field,
            const char  *value,
            int         *out,
            GError     **error)
{
  if (!g_ascii_strcasecmp (value, "1") || !g_ascii_strcasecmp (value, "true") ||
      !g_ascii_strcasecmp (value, "yes"))
    *out = 1;
  else if (!g_ascii_strcasecmp (value, "0") || !g_ascii_strcasecmp (value, "false") ||
           !g_ascii_strcasecmp (value, "no"))
    *out = 0;
  else
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "%s must be yes or no, not “%s”", field, value);
      return FALSE;
    }
  return TRUE;
}

/* The earliest compliance date a book accepts. Days are counted from
 * 1970-01-01; a notice or a placement before it would be more than fifty years
 * old, longer than any limitation period for a consumer debt (the FDCPA's
 * validation notice itself dates from 1977). What is typed before it is a
 * placeholder or a slip: 1900-01-01 is a spreadsheet's day one. */
#define COMPLIANCE_DATE_FLOOR "1970-01-01"

static const char *
date_field_title (const char *field)
{
  return g_str_equal (field, "placed_on") ? "date placed for collection" : "validation notice date";
}

/**
 * recoup_account_check_date:
 * @field: "validation_notice_date" or "placed_on"
 * @value: (nullable): YYYY-MM-DD; NULL or "" (no date) is allowed
 * @today: the book's today (recoup_book_today())
 *
 * The rule for an account's compliance dates, which record something that has
 * happened: a real date, not after @today and not before 1970-01-01.
 * recoup_account_set() applies it; the account editor asks it as the user types.
 */
gboolean
recoup_account_check_date (const char  *field,
                           const char  *value,
                           const char  *today,
                           GError     **error)
{
  const char *title;
  gint32 day, today_day;

  g_return_val_if_fail (field != NULL, FALSE);

  title = date_field_title (field);
  if (value == NULL || *value == '\0')
    return TRUE;
  if ((day = recoup_date_parse (value, error)) == RECOUP_DATE_INVALID)
    {
      g_prefix_error (error, "%s: ", title);
      return FALSE;
    }
  if ((today_day = recoup_date_parse (today, error)) == RECOUP_DATE_INVALID)
    {
      g_prefix_error (error, "the book's today: ");
      return FALSE;
    }
  if (day > today_day)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "%s %s is after today (%s): give the day it happened, %s or earlier",
                   title, value, today, today);
      return FALSE;
    }
  if (day < recoup_date_parse (COMPLIANCE_DATE_FLOOR, NULL))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "%s %s is before %s: give the day it happened, from %s on",
                   title, value, COMPLIANCE_DATE_FLOOR, COMPLIANCE_DATE_FLOOR);
      return FALSE;
    }
  return TRUE;
}

/**
 * recoup_account_set:
 * @value: (nullable): the new value as text; NULL or "" clears optional fields
 *
 * Changes one mutable field of an account after checking it, and records the
 * change (a last-writer-wins field for sync). Setting the value it already
 * has changes nothing and records nothing.
 */
gboolean
recoup_account_set (RecoupBook  *book,
                    const char  *account_id,
                    const char  *field,
                    const char  *value,
                    GError     **error)
{
  g_autofree char *sql = NULL;
  g_autofree char *resolved = NULL;
  g_autofree char *tags = NULL;
  const char *fields[] = { field, NULL };
  sqlite3_stmt *stmt;
  gboolean is_int = FALSE;
  gboolean nullable = FALSE;
  gint64 int_value = 0;

  if (!g_strv_contains (recoup_account_mutable_fields, field))
    {
      g_autofree char *known = g_strjoinv (", ", (char **) recoup_account_mutable_fields);

      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not an account field that can be changed; the fields are: %s", field, known);
      return FALSE;
    }

  if (g_str_equal (field, "name"))
    {
      if (text_is_blank (value))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID, "the name cannot be empty");
          return FALSE;
        }
    }
  else if (g_str_equal (field, "timezone"))
    {
      nullable = TRUE;
      if (!recoup_timezone_validate (value, error))
        return FALSE;
    }
  else if (g_str_equal (field, "stage"))
    {
      if (value == NULL || !g_strv_contains (stages, value))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "“%s” is not a stage (pre-collection, active, negotiation, escalation, closed)",
                       value ? value : "");
          return FALSE;
        }
    }
  else if (g_str_equal (field, "assigned_to"))
    {
      nullable = TRUE;
      if (value != NULL && *value != '\0')
        {
          if (!(resolved = resolve_assignee (book, value, error)))
            return FALSE;
          value = resolved;
        }
    }
  else if (g_str_equal (field, "lifetime_revenue"))
    {
      is_int = TRUE;
      if (value == NULL || !g_ascii_string_to_signed (value, 10, 0, G_MAXINT64, &int_value, NULL))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "lifetime revenue must be a whole number of minor units, not “%s”",
                       value ? value : "");
          return FALSE;
        }
    }
  else if (g_str_equal (field, "cease_communication") || g_str_equal (field, "attorney_represented") ||
           g_str_equal (field, "bankruptcy") || g_str_equal (field, "deceased"))
    {
      int flag;

      is_int = TRUE;
      if (!parse_flag (field, value ? value : "", &flag, error))
        return FALSE;
      int_value = flag;
    }
  else if (g_str_equal (field, "validation_notice_date") || g_str_equal (field, "placed_on"))
    {
      g_autofree char *today = recoup_book_today (book);

      nullable = TRUE;
      if (!recoup_account_check_date (field, value, today, error))
        return FALSE;
    }
  else if (g_str_equal (field, "tags"))
    value = tags = recoup_account_normalize_tags (value);
  else if (g_str_equal (field, "review_flag"))
    {
      /* The flag is how the owner learns of what needs a second look (a
       * contact outside the rules, conflicting offer answers): anyone adds
       * to it, only an owner clears or rewrites it. */
      g_autoptr(RecoupUser) me = recoup_user_load (book, recoup_book_get_user_id (book), NULL);
      g_autoptr(RecoupAccount) account = NULL;

      nullable = TRUE;
      if (me == NULL || g_strcmp0 (me->role, "owner") != 0)
        {
          if (value == NULL || *value == '\0')
            {
              g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                                   _("only an owner can mark an account as reviewed"));
              return FALSE;
            }
          if (!(account = recoup_account_load (book, account_id, error)))
            return FALSE;
          if (account->review_flag != NULL && !g_str_has_prefix (value, account->review_flag))
            {
              g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                                   _("only an owner can change what an account is flagged for; add to it instead"));
              return FALSE;
            }
        }
    }
  else
    nullable = !g_str_equal (field, "notes");

  if (!recoup_book_begin (book, error))
    return FALSE;

  sql = g_strdup_printf ("UPDATE accounts SET %s = ?1 WHERE id = ?2 AND %s IS NOT ?1", field, field);
  if (!(stmt = recoup_book_prepare (book, sql, error)))
    goto fail;
  if (is_int)
    sqlite3_bind_int64 (stmt, 1, int_value);
  else if (nullable && (value == NULL || *value == '\0'))
    sqlite3_bind_null (stmt, 1);
  else
    sqlite3_bind_text (stmt, 1, value ? value : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error))
    goto fail;

  if (sqlite3_changes (recoup_book_get_db (book)) == 1 &&
      !recoup_book_record_change (book, "accounts", account_id, RECOUP_CHANGE_SET, fields, error))
    goto fail;
  recoup_book_touch_account (book, account_id);
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

const char *
recoup_contact_kind_to_string (RecoupContactKind kind)
{
  switch (kind)
    {
    case RECOUP_CONTACT_PHONE:   return "phone";
    case RECOUP_CONTACT_EMAIL:   return "email";
    case RECOUP_CONTACT_ADDRESS: return "address";
    default:                     g_return_val_if_reached ("phone");
    }
}

gboolean
recoup_contact_kind_from_string (const char        *text,
                                 RecoupContactKind *out_kind)
{
  if (g_strcmp0 (text, "phone") == 0)
    *out_kind = RECOUP_CONTACT_PHONE;
  else if (g_strcmp0 (text, "email") == 0)
    *out_kind = RECOUP_CONTACT_EMAIL;
  else if (g_strcmp0 (text, "address") == 0)
    *out_kind = RECOUP_CONTACT_ADDRESS;
  else
    return FALSE;
  return TRUE;
}

gboolean
recoup_contact_validate (RecoupContactKind   kind,
                         const char         *value,
                         GError            **error)
{
  if (text_is_blank (value))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "the %s is empty", recoup_contact_kind_to_string (kind));
      return FALSE;
    }

  switch (kind)
    {
    case RECOUP_CONTACT_EMAIL:
      {
        const char *at = strchr (value, '@');
        const char *dot = at ? strchr (at, '.') : NULL;

        if (at == NULL || at == value || strchr (at + 1, '@') != NULL || dot == NULL ||
            dot == at + 1 || dot[1] == '\0' || strpbrk (value, " \t\r\n,;<>") != NULL)
          {
            g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                         "“%s” is not an email address", value);
            return FALSE;
          }
        break;
      }
    case RECOUP_CONTACT_PHONE:
      {
        int digits = 0;

        for (const char *p = value; *p; p++)
          {
            if (g_ascii_isdigit (*p))
              digits++;
            else if (!strchr ("+-() .", *p) && !(g_ascii_tolower (*p) == 'x' && digits >= 7))
              {
                g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                             "“%s” is not a phone number (digits, spaces and + - ( ) only)", value);
                return FALSE;
              }
          }
        if (digits < 7 || digits > 20)
          {
            g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                         "“%s” is not a phone number (7 to 20 digits)", value);
            return FALSE;
          }
        break;
      }
    case RECOUP_CONTACT_ADDRESS:
    default:
      break;
    }
  return TRUE;
}

/* @text composed, case folded, every run of white space one space, none at
 * either end. */
static char *
fold_contact_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_autofree char *composed = g_utf8_normalize (valid, -1, G_NORMALIZE_DEFAULT_COMPOSE);
  g_autofree char *folded = g_utf8_casefold (composed, -1);
  GString *out = g_string_sized_new (strlen (folded));
  gboolean space = FALSE;

  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c))
        {
          space = out->len > 0;
          continue;
        }
      if (space)
        g_string_append_c (out, ' ');
      space = FALSE;
      g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

/* The digits every spelling of one number ends in: without an international
 * prefix (00 or +), a country code or a trunk 0, a number's last nine digits
 * are its own (North America's are 10, most of Europe's 9 to 11). Two numbers
 * of one account that differ only before those are taken for one: for an
 * opt-out, blocking both is the safe side. A shorter number is compared
 * whole, without its leading zeros. */
#define PHONE_TAIL 9

static const char *
phone_tail (const char *digits)
{
  const char *p = digits + strspn (digits, "0");
  gsize len = strlen (p);

  if (len == 0)
    return digits;
  return len > PHONE_TAIL ? p + len - PHONE_TAIL : p;
}

/* A phone number's digits as phone_tail() reads them (recoup-search.c reads
 * the digits the same way); an extension (“x12”, which only a phone number
 * may have) is compared after an “x”. A number that does not read as one is
 * compared as text. */
static char *
phone_key (const char *value)
{
  const char *x = strpbrk (value, "xX");
  g_autofree char *number = x != NULL ? g_strndup (value, (gsize) (x - value)) : g_strdup (value);
  g_autofree char *digits = recoup_search_phone_digits (number);
  g_autofree char *extension = NULL;

  if (digits == NULL)
    return fold_contact_text (value);
  if (x == NULL)
    return g_strdup (phone_tail (digits));
  extension = fold_contact_text (x + 1);
  return g_strconcat (phone_tail (digits), "x", extension, NULL);
}

/**
 * recoup_contact_value_key:
 *
 * What two contact values of @kind are compared by: the same key is the same
 * number or address, however it is written. A phone number is its last nine
 * digits, with or without a country code, an international prefix or a
 * trunk 0 (“+1 (312) 555-0100” is “312 555 0100”, “+31 50 0526 202” is
 * “050 0526 202” and “0031 50 0526 202”). An e-mail address is compared without regard to case, the
 * part before the “@” too: RFC 5321 lets a server tell “Jo@” from “jo@”, but
 * none in use does, and an opt-out must hold for every spelling a debtor's
 * address is written in. A postal address is compared as text, without regard
 * to case or to the white space around and between its words.
 *
 * Returns: (transfer full): the key of @value
 */
char *
recoup_contact_value_key (RecoupContactKind  kind,
                          const char        *value)
{
  g_return_val_if_fail (value != NULL, NULL);

  if (kind == RECOUP_CONTACT_PHONE)
    return phone_key (value);
  return fold_contact_text (value);
}

/* The account's contact points of @kind that hold @value in any spelling
 * (recoup_contact_value_key()), oldest first: those in use or, with
 * @removed, the removed ones that were opted out when removed (the debtor's
 * opt-out of the value, which the point's removal does not lift). With
 * @first, only the first of them. */
static GPtrArray *
points_with_value (RecoupBook         *book,
                   const char         *account_id,
                   RecoupContactKind   kind,
                   const char         *value,
                   gboolean            removed,
                   gboolean            first,
                   GError            **error)
{
  g_autofree char *key = recoup_contact_value_key (kind, value);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = recoup_book_prepare (book, removed
    ? "SELECT id, value FROM contact_points WHERE account_id = ? AND kind = ? AND deleted = 1"
      " AND opted_out = 1 ORDER BY created_at, id"
    : "SELECT id, value FROM contact_points WHERE account_id = ? AND kind = ? AND deleted = 0"
      " ORDER BY created_at, id", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, recoup_contact_kind_to_string (kind), -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autofree char *other = recoup_contact_value_key (kind, RECOUP_BOOK_STMT_TEXT (stmt, 1));

      if (!g_str_equal (key, other))
        continue;
      g_ptr_array_add (ids, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
      if (first)
        break;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      return NULL;
    }
  return g_steal_pointer (&ids);
}

/**
 * recoup_contact_find:
 * @out_id: (out) (transfer full) (nullable): the contact point, or %NULL
 *
 * Finds the contact point of @kind (not removed) that the account has with
 * @value in any spelling (recoup_contact_value_key()): the oldest when the
 * book holds several (two devices that each added one). What
 * recoup_contact_add() would return without adding anything, so that a
 * caller can say the account already has the value.
 *
 * Returns: %FALSE only when the book cannot be read
 */
gboolean
recoup_contact_find (RecoupBook         *book,
                     const char         *account_id,
                     RecoupContactKind   kind,
                     const char         *value,
                     char              **out_id,
                     GError            **error)
{
  g_autoptr(GPtrArray) ids = NULL;

  *out_id = NULL;
  if (!(ids = points_with_value (book, account_id, kind, value, FALSE, TRUE, error)))
    return FALSE;
  if (ids->len > 0)
    *out_id = g_strdup (g_ptr_array_index (ids, 0));
  return TRUE;
}

/**
 * recoup_contact_add:
 *
 * Adds a contact point to the account. A value the account already has in
 * another spelling (recoup_contact_value_key()) changes nothing, so that an
 * opt-out cannot be got round by writing the number again differently: its
 * id is returned, and it keeps its opt-out, consent and whether it is primary.
 * A value the debtor opted out of on a point since removed is added opted out.
 * (The guard holds that opt-out also where the removal and the new point come
 * from two devices.)
 *
 * Returns: (transfer full): the id of the contact point, or %NULL
 */
char *
recoup_contact_add (RecoupBook        *book,
                    const char        *account_id,
                    RecoupContactKind  kind,
                    const char        *value,
                    const char        *label,
                    gboolean           primary,
                    GError           **error)
{
  char id[RECOUP_UUID_STRING_LEN + 1];
  char *existing = NULL;
  g_autoptr(GPtrArray) opt_outs = NULL;
  sqlite3_stmt *stmt;

  if (!recoup_contact_validate (kind, value, error))
    return NULL;
  if (!recoup_book_begin (book, error))
    return NULL;

  if (!recoup_contact_find (book, account_id, kind, value, &existing, error))
    goto fail;
  if (existing != NULL)
    {
      /* Nothing was written: the level ends as it began. */
      if (!recoup_book_commit (book, error))
        g_clear_pointer (&existing, g_free);
      return existing;
    }
  if (!(opt_outs = points_with_value (book, account_id, kind, value, TRUE, FALSE, error)))
    goto fail;

  recoup_uuid7_generate (id);
  stmt = recoup_book_prepare (book,
                              "INSERT INTO contact_points (id, account_id, kind, value, label,"
                              " is_primary, created_at, opted_out) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, recoup_contact_kind_to_string (kind), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, value, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, label != NULL ? label : "", -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 6, primary ? 1 : 0);
  sqlite3_bind_int64 (stmt, 7, recoup_book_now_ms (book));
  sqlite3_bind_int (stmt, 8, opt_outs->len > 0 ? 1 : 0);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      if (sqlite3_extended_errcode (recoup_book_get_db (book)) == SQLITE_CONSTRAINT_FOREIGNKEY)
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                     "no account with id %s", account_id);
      else
        recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      goto fail;
    }
  sqlite3_reset (stmt);
  recoup_book_touch_account (book, account_id);
  if (!recoup_book_record_change (book, "contact_points", id, RECOUP_CHANGE_INSERT, NULL, error))
    goto fail;
  if (!recoup_book_commit (book, error))
    return NULL;
  return g_strdup (id);

fail:
  recoup_book_rollback (book);
  return NULL;
}

static gboolean
update_contact (RecoupBook  *book,
                const char  *contact_id,
                const char  *field,
                const char  *text_value,
                int          int_value,
                GError     **error)
{
  g_autofree char *sql = g_strdup_printf ("UPDATE contact_points SET %s = ?1 WHERE id = ?2 AND %s IS NOT ?1",
                                          field, field);
  const char *fields[] = { field, NULL };
  g_autofree char *account_id = NULL;
  sqlite3_stmt *stmt;
  sqlite3_stmt *exists;

  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!(exists = recoup_book_prepare (book, "SELECT account_id FROM contact_points WHERE id = ?", error)))
    goto fail;
  sqlite3_bind_text (exists, 1, contact_id, -1, SQLITE_STATIC);
  if (sqlite3_step (exists) != SQLITE_ROW)
    {
      sqlite3_reset (exists);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "no contact point with id %s", contact_id);
      goto fail;
    }
  account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (exists, 0));
  sqlite3_reset (exists);

  if (!(stmt = recoup_book_prepare (book, sql, error)))
    goto fail;
  if (text_value != NULL)
    sqlite3_bind_text (stmt, 1, text_value, -1, SQLITE_STATIC);
  else
    sqlite3_bind_int (stmt, 1, int_value);
  sqlite3_bind_text (stmt, 2, contact_id, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error))
    goto fail;
  if (sqlite3_changes (recoup_book_get_db (book)) == 1 &&
      !recoup_book_record_change (book, "contact_points", contact_id, RECOUP_CHANGE_SET, fields, error))
    goto fail;
  /* What is derived from the account (its search terms) follows its contacts. */
  recoup_book_touch_account (book, account_id);
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

/* An opt-in lifts the opt-out of the value, also the one kept on its removed
 * points (which the guard still honours). */
static gboolean
lift_removed_opt_outs (RecoupBook  *book,
                       const char  *contact_id,
                       GError     **error)
{
  g_autoptr(GPtrArray) ids = NULL;
  g_autofree char *account_id = NULL, *value = NULL;
  RecoupContactKind kind = RECOUP_CONTACT_ADDRESS;
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT account_id, kind, value FROM contact_points WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, contact_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      recoup_contact_kind_from_string (RECOUP_BOOK_STMT_TEXT (stmt, 1), &kind);
      value = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
    }
  sqlite3_reset (stmt);
  if (account_id == NULL)
    return TRUE;   /* update_contact() says the point does not exist */
  if (!(ids = points_with_value (book, account_id, kind, value, TRUE, FALSE, error)))
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    if (!update_contact (book, g_ptr_array_index (ids, i), "opted_out", NULL, 0, error))
      return FALSE;
  return TRUE;
}

/* The id of the removed point that keeps the opt-out of @key given on
 * @contact_id: a function of the two, so every device that records the same
 * opt-out writes the same row. */
static void
opted_out_value_id (const char *contact_id,
                    const char *key,
                    char        out[RECOUP_UUID_STRING_LEN + 1])
{
  g_autofree char *name = g_strconcat ("opted-out-value:", contact_id, ":", key, NULL);

  recoup_uuid7_derive_from (contact_id, name, out);
}

/**
 * recoup_contact_keep_opted_out_value:
 *
 * An opt-out is the debtor's word about a value, not about the point that
 * holds it: it is kept also on a removed point of its own with that value
 * (which the guard, recoup_contact_add() and the reminder run honour like
 * any removed opted-out point), named after the point and the value so that
 * every device that records it writes the same row. A value change made on
 * another device before it saw the opt-out then moves only the point, in
 * whichever order the two changes reach each copy: the value the debtor
 * opted out of stays recorded and blocked, and adding it again adds it opted
 * out. recoup_contact_set_opted_out() calls it; the merge does for an opt-out
 * recorded before there were such rows. In the caller's transaction.
 */
gboolean
recoup_contact_keep_opted_out_value (RecoupBook  *book,
                                     const char  *contact_id,
                                     GError     **error)
{
  g_autofree char *account_id = NULL, *kind = NULL, *value = NULL, *label = NULL, *key = NULL;
  RecoupContactKind contact_kind = RECOUP_CONTACT_ADDRESS;
  char id[RECOUP_UUID_STRING_LEN + 1];
  gboolean consent = TRUE;
  gint64 created_at = 0;
  int twin_opted_out = -1;
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT account_id, kind, value, label, consent, created_at FROM contact_points WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, contact_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      kind = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      value = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      label = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      consent = sqlite3_column_int (stmt, 4) != 0;
      created_at = sqlite3_column_int64 (stmt, 5);
    }
  sqlite3_reset (stmt);
  if (account_id == NULL)
    return TRUE;   /* no such point: its writer says so */
  recoup_contact_kind_from_string (kind, &contact_kind);
  key = recoup_contact_value_key (contact_kind, value);
  opted_out_value_id (contact_id, key, id);

  if (!(stmt = recoup_book_prepare (book, "SELECT opted_out FROM contact_points WHERE id = ?1", error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    twin_opted_out = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt);
  /* Opted out again after an opt-in lifted it. */
  if (twin_opted_out >= 0)
    return twin_opted_out != 0 || update_contact (book, id, "opted_out", NULL, 1, error);

  /* Its fields are the point's, so two devices that record the same
   * opt-out offline write the same row, not two versions of it. */
  stmt = recoup_book_prepare (book,
    "INSERT INTO contact_points (id, account_id, kind, value, label, is_primary, consent, opted_out,"
    " created_at, deleted) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, 1, ?7, 1)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, value, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, label, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 6, consent ? 1 : 0);
  sqlite3_bind_int64 (stmt, 7, created_at);
  return recoup_book_step_done (book, stmt, error) &&
         recoup_book_record_change (book, "contact_points", id, RECOUP_CHANGE_INSERT, NULL, error);
}

/* The account of @contact_id, and whether the point is opted out now. */
static char *
contact_account (RecoupBook  *book,
                 const char  *contact_id,
                 gboolean    *opted_out,
                 GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT account_id, opted_out FROM contact_points WHERE id = ?1", error);
  char *account_id = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, contact_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      *opted_out = sqlite3_column_int (stmt, 1) != 0;
    }
  sqlite3_reset (stmt);
  if (account_id == NULL)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 _("no contact point %s in this book"), contact_id);
  return account_id;
}

/* Records or lifts an opt-out; an opt-out newly made, or any with
 * @note_again, is also written to the account's history as @note, at @at
 * (UTC ms, 0 now). */
static gboolean
set_opted_out (RecoupBook  *book,
               const char  *contact_id,
               gboolean     opted_out,
               gint64       at,
               const char  *note,
               gboolean     note_again,
               GError     **error)
{
  g_autofree char *account_id = NULL;
  g_autofree char *activity = NULL;
  gboolean was_opted_out = FALSE;

  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!(account_id = contact_account (book, contact_id, &was_opted_out, error)) ||
      !update_contact (book, contact_id, "opted_out", NULL, opted_out ? 1 : 0, error) ||
      (opted_out && !recoup_contact_keep_opted_out_value (book, contact_id, error)) ||
      (!opted_out && !lift_removed_opt_outs (book, contact_id, error)))
    {
      recoup_book_rollback (book);
      return FALSE;
    }
  if (opted_out && (!was_opted_out || note_again))
    {
      RecoupActivitySpec spec = {
        .account_id = account_id,
        .channel = "note",
        .contact_point_id = contact_id,
        .at = at,
        .notes = note,
      };

      if (!(activity = recoup_activity_log (book, &spec, error)))
        {
          recoup_book_rollback (book);
          return FALSE;
        }
    }
  return recoup_book_commit (book, error);
}

/**
 * recoup_contact_opt_out:
 * @at: when the debtor asked, UTC ms; 0 means now
 * @how: (nullable): how they asked, in the user's words
 *
 * Records the debtor's opt-out of a contact point. It is also kept in the
 * account's history, as a note on that point written in the same
 * transaction, in one fixed form ("Opted out" or "Opted out: @how", like
 * "Opted back in: …"), so who recorded it and when stands beside the
 * contacts it stopped. An opt-out already recorded writes nothing, unless
 * @how says something: the debtor asking again is worth keeping.
 */
gboolean
recoup_contact_opt_out (RecoupBook  *book,
                        const char  *contact_id,
                        gint64       at,
                        const char  *how,
                        GError     **error)
{
  g_autofree char *words = g_strstrip (g_strdup (how != NULL ? how : ""));
  g_autofree char *note = *words != '\0' ? g_strdup_printf ("Opted out: %s", words) : g_strdup ("Opted out");

  return set_opted_out (book, contact_id, TRUE, at, note, *words != '\0', error);
}

/**
 * recoup_contact_set_opted_out:
 *
 * Records the debtor's opt-out of a contact point now, as
 * recoup_contact_opt_out() does, or lifts it. Lifting one for the debtor
 * goes through recoup_contact_opt_back_in(), which asks for their consent
 * and says so in the history.
 */
gboolean
recoup_contact_set_opted_out (RecoupBook  *book,
                              const char  *contact_id,
                              gboolean     opted_out,
                              GError     **error)
{
  return set_opted_out (book, contact_id, opted_out, 0, "Opted out", FALSE, error);
}

/**
 * recoup_contact_opt_back_in:
 * @consent: who agreed to be contacted there again, when and how
 *
 * Lifts the debtor's opt-out of a contact point. Only with their consent:
 * @consent is required, and it is kept in the account's history as a note on
 * that contact point, in the same transaction. The note is written in one
 * fixed form ("Opted back in: …"), not in the writer's language.
 */
gboolean
recoup_contact_opt_back_in (RecoupBook  *book,
                            const char  *contact_id,
                            const char  *consent,
                            GError     **error)
{
  g_autofree char *words = g_strstrip (g_strdup (consent != NULL ? consent : ""));
  g_autofree char *account_id = NULL;
  g_autofree char *text = NULL;
  g_autofree char *activity = NULL;
  RecoupActivitySpec note = { 0 };
  gboolean opted_out = FALSE;

  if (*words == '\0')
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID, "%s",
                   _("opting a contact point back in needs the debtor's consent: say who agreed, when and how"));
      return FALSE;
    }
  if (!(account_id = contact_account (book, contact_id, &opted_out, error)))
    return FALSE;
  if (!opted_out)
    {
      /* A consent noted for nothing would read in the history as if the
       * debtor had opted out before. */
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("contact point %s is not opted out: there is nothing to opt back in"), contact_id);
      return FALSE;
    }

  text = g_strdup_printf ("Opted back in: %s", words);
  note.account_id = account_id;
  note.channel = "note";
  note.contact_point_id = contact_id;
  note.notes = text;
  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!recoup_contact_set_opted_out (book, contact_id, FALSE, error) ||
      !(activity = recoup_activity_log (book, &note, error)))
    {
      recoup_book_rollback (book);
      return FALSE;
    }
  return recoup_book_commit (book, error);
}

/**
 * recoup_contact_set_value:
 *
 * Changes the number or address a contact point holds. A point the debtor
 * opted out of keeps its value, but for another spelling of it: the opt-out
 * is about that number or address, and a new one is a contact point of its
 * own (recoup_contact_add()).
 */
gboolean
recoup_contact_set_value (RecoupBook  *book,
                          const char  *contact_id,
                          const char  *value,
                          GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT kind, value, opted_out FROM contact_points WHERE id = ?", error);
  RecoupContactKind kind = RECOUP_CONTACT_ADDRESS;
  g_autofree char *current = NULL;
  gboolean opted_out = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, contact_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      recoup_contact_kind_from_string (RECOUP_BOOK_STMT_TEXT (stmt, 0), &kind);
      current = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      opted_out = sqlite3_column_int (stmt, 2) != 0;
    }
  sqlite3_reset (stmt);
  if (!recoup_contact_validate (kind, value, error))
    return FALSE;
  if (opted_out)
    {
      g_autofree char *old_key = recoup_contact_value_key (kind, current);
      g_autofree char *new_key = recoup_contact_value_key (kind, value);

      if (!g_str_equal (old_key, new_key))
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                       /* Translators: the opted-out value, then the new one */
                       _("the debtor opted out of “%s”, and the opt-out stays with it: add “%s” as a "
                         "new contact point instead of changing this one"), current, value);
          return FALSE;
        }
    }
  return update_contact (book, contact_id, "value", value, 0, error);
}

/* A tombstone: the contact point stops being used but stays in the history. */
gboolean
recoup_contact_remove (RecoupBook  *book,
                       const char  *contact_id,
                       GError     **error)
{
  return update_contact (book, contact_id, "deleted", NULL, 1, error);
}

GPtrArray *
recoup_contact_list (RecoupBook  *book,
                     const char  *account_id,
                     GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT id, kind, value, label, is_primary, consent, opted_out FROM contact_points"
    " WHERE account_id = ? AND deleted = 0 ORDER BY kind, is_primary DESC, created_at", error);
  g_autoptr(GPtrArray) list = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_contact_point_free);
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      RecoupContactPoint *cp = g_new0 (RecoupContactPoint, 1);

      cp->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      cp->account_id = g_strdup (account_id);
      recoup_contact_kind_from_string (RECOUP_BOOK_STMT_TEXT (stmt, 1), &cp->kind);
      cp->value = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      cp->label = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      cp->is_primary = sqlite3_column_int (stmt, 4);
      cp->consent = sqlite3_column_int (stmt, 5);
      cp->opted_out = sqlite3_column_int (stmt, 6);
      g_ptr_array_add (list, cp);
    }
  if (rc != SQLITE_DONE)
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE ? g_steal_pointer (&list) : NULL;
}

void
recoup_contact_point_free (RecoupContactPoint *cp)
{
  if (cp == NULL)
    return;
  g_free (cp->id);
  g_free (cp->account_id);
  g_free (cp->value);
  g_free (cp->label);
  g_free (cp);
}

/**
 * recoup_account_list:
 *
 * Accounts matching @filter, ordered by reference, with their ledger balance
 * and the days past due of their oldest open item.
 */
GPtrArray *
recoup_account_list (RecoupBook                 *book,
                     const RecoupAccountFilter  *filter,
                     GError                    **error)
{
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *assignee = NULL;
  g_autofree char *today = recoup_book_today (book);
  RecoupSearchRanges ranges;
  RecoupAllocator alloc;
  gint32 today_day = recoup_date_parse (today, NULL);
  sqlite3_stmt *stmt;
  int rc;

  if (filter->assigned_to != NULL && !(assignee = recoup_user_resolve (book, filter->assigned_to, error)))
    return NULL;
  if (filter->currency != NULL && !recoup_currency_validate (filter->currency, error))
    return NULL;
  if (filter->stage != NULL && !g_strv_contains (stages, filter->stage))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not a stage (pre-collection, active, negotiation, escalation, closed)",
                   filter->stage);
      return NULL;
    }
  /* A book whose index holds an older list of terms gets them once, as the
   * app's search does. */
  if (filter->search != NULL && *filter->search != '\0' && !recoup_search_ensure_current (book, error))
    return NULL;

  stmt = recoup_book_prepare (book,
    "SELECT * FROM ("
    " SELECT a.id, a.ref, a.name, a.currency, a.stage, a.timezone, u.name,"
    "  (SELECT coalesce (sum (l.amount), 0) FROM ledger_entries l WHERE l.account_id = a.id) AS balance"
    " FROM accounts a LEFT JOIN users u ON u.id = a.assigned_to"
    " WHERE a.deleted = 0"
    "  AND (?2 IS NULL OR a.stage = ?2)"
    "  AND (?3 IS NULL OR a.assigned_to = ?3)"
    "  AND (?7 IS NULL OR a.currency = ?7)"
    /* After ?7: the search's named parameters are numbered from 8. */
    "  AND (?1 IS NULL OR a.id IN (" RECOUP_SEARCH_ACCOUNTS_SQL "))"
    /* A search lists the accounts it names whole first, as the app does. */
    " ORDER BY ?1 IS NOT NULL AND a.id IN (SELECT account_id FROM account_search"
    "   WHERE n IN (" RECOUP_SEARCH_EXACT_SQL ")) DESC, a.ref)"
    " WHERE ?4 = 0 OR balance >= ?4 LIMIT ?5 OFFSET ?6", error);
  if (stmt == NULL)
    return NULL;

  /* The app's search (recoup-search.h): names, references, e-mail addresses
   * and phone numbers, without regard to accents or case. */
  if (recoup_search_ranges_init (&ranges, filter->search))
    {
      sqlite3_bind_int (stmt, 1, 1);
      recoup_search_ranges_bind (&ranges, stmt);
      recoup_search_ranges_clear (&ranges);
    }
  else
    sqlite3_bind_null (stmt, 1);
  sqlite3_bind_text (stmt, 2, filter->stage, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, assignee, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, filter->min_balance);
  sqlite3_bind_int64 (stmt, 5, filter->limit > 0 ? filter->limit : 50);
  sqlite3_bind_int64 (stmt, 6, filter->offset);
  sqlite3_bind_text (stmt, 7, filter->currency, -1, SQLITE_STATIC);

  list = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_account_summary_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      RecoupAccountSummary *a = g_new0 (RecoupAccountSummary, 1);

      a->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      a->ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      a->name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      a->currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      a->stage = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
      a->timezone = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
      a->assigned_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 6));
      a->balance = sqlite3_column_int64 (stmt, 7);
      g_ptr_array_add (list, a);
    }
  /* A failed step (a balance whose sum overflows) must not read as “no accounts”. */
  if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);

  /* Days past due come from the allocation, for the page only. */
  recoup_allocator_init (&alloc);
  for (guint i = 0; i < list->len; i++)
    {
      RecoupAccountSummary *a = g_ptr_array_index (list, i);

      if (!recoup_ledger_allocate (book, a->id, today_day, &alloc, error))
        {
          recoup_allocator_clear (&alloc);
          return NULL;
        }
      for (guint k = 0; k < alloc.items->len; k++)
        {
          RecoupAllocItem *it = &g_array_index (alloc.items, RecoupAllocItem, k);

          if (it->net > 0)
            {
              a->days_past_due = MAX (0, today_day - it->due_day);
              break;
            }
        }
    }
  recoup_allocator_clear (&alloc);
  return g_steal_pointer (&list);
}

/**
 * recoup_account_currencies:
 *
 * The currencies the book's live accounts are kept in, sorted.
 * Returns: (transfer full): a %NULL-terminated array, or %NULL with @error set
 */
GStrv
recoup_account_currencies (RecoupBook  *book,
                           GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT DISTINCT currency FROM accounts WHERE deleted = 0 ORDER BY currency", error);
  GPtrArray *codes;
  int rc;

  if (stmt == NULL)
    return NULL;
  codes = g_ptr_array_new ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (codes, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
  sqlite3_reset (stmt);
  g_ptr_array_add (codes, NULL);
  if (rc != SQLITE_DONE)
    {
      g_strfreev ((GStrv) g_ptr_array_free (codes, FALSE));
      recoup_book_set_sqlite_error (book, error);
      return NULL;
    }
  return (GStrv) g_ptr_array_free (codes, FALSE);
}

/**
 * recoup_account_parse_min_balance:
 * @text: “500”, “500 EUR” or “EUR 500”
 * @out_currency: (out) (transfer full): the currency named in @text, or %NULL
 *
 * Reads a minimum-balance filter. Without a currency the amount is read in the
 * digits of the book's currencies, which must then agree (2 for USD and EUR,
 * 0 for JPY): “500” in a book of yen and dollars is ambiguous and refused.
 */
gboolean
recoup_account_parse_min_balance (RecoupBook  *book,
                                  const char  *text,
                                  gint64      *out_minor,
                                  char       **out_currency,
                                  GError     **error)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  g_auto(GStrv) currencies = NULL;
  const char *amount = NULL, *currency = NULL;
  guint n = 0;

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (words[i][0] == '\0')
        continue;
      if (++n > 2)
        break;
      if (g_ascii_isalpha (words[i][0]))
        currency = words[i];
      else
        amount = words[i];
    }
  if (n == 0 || n > 2 || amount == NULL || (n == 2 && currency == NULL))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not an amount: write 500, 500.00 or 500 EUR", text);
      return FALSE;
    }
  if (currency != NULL)
    {
      g_autofree char *code = g_ascii_strup (currency, -1);

      if (!recoup_money_parse (amount, code, out_minor, error))
        return FALSE;
      *out_currency = g_steal_pointer (&code);
      return TRUE;
    }

  if (!(currencies = recoup_account_currencies (book, error)))
    return FALSE;
  /* An empty book has no currencies at all: then the amount reads as dollars. */
  for (guint i = 1; currencies[0] != NULL && currencies[i] != NULL; i++)
    if (recoup_currency_digits (currencies[i]) != recoup_currency_digits (currencies[0]))
      {
        g_autofree char *list = g_strjoinv (", ", currencies);

        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                     "the book keeps accounts in currencies with different minor units (%s): "
                     "name one, e.g. “%s %s”", list, amount, currencies[0]);
        return FALSE;
      }
  *out_currency = NULL;
  return recoup_money_parse (amount, currencies[0] != NULL ? currencies[0] : "USD", out_minor, error);
}

void
recoup_account_summary_free (RecoupAccountSummary *a)
{
  if (a == NULL)
    return;
  g_free (a->id);
  g_free (a->ref);
  g_free (a->name);
  g_free (a->currency);
  g_free (a->stage);
  g_free (a->timezone);
  g_free (a->assigned_name);
  g_free (a);
}
