/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-settings"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "recoup-book-private.h"
#include "recoup-id.h"
#include "recoup-merge.h"
#include "recoup-settings.h"

/* What a collector calls the part of the business's policy a key belongs
 * to; the first prefix that matches. */
static const struct
{
  const char *prefix;
  const char *area;
} owner_areas[] = {
  /* Translators: the object of "only an owner can change %s" */
  { "guard.",      N_("the compliance rules") },
  { "score.",      N_("the scoring weights") },
  { "escalation.", N_("the escalation policy") },
  { "promise.",    N_("the terms for promises and payment plans") },
  { "plan.",       N_("the terms for promises and payment plans") },
  { "offer.",      N_("the terms for promises and payment plans") },
  { "business.",   N_("the business's details") },
  { "smtp.",       N_("the business's mail server") },
  { "costs.",      N_("the collection costs") },
};

static const char *
owner_area (const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (owner_areas); i++)
    if (g_str_has_prefix (key, owner_areas[i].prefix))
      return _(owner_areas[i].area);
  return _("the business's settings");
}

/* A book enrolled with a server knows the role the server gave it; a book
 * that is not enrolled belongs to whoever uses it. */
static gboolean
may_change_owner_settings (RecoupBook *book)
{
  g_autofree char *role = recoup_book_get_setting (book, "sync.role");

  return role == NULL || g_str_equal (role, "owner");
}

gboolean
recoup_settings_check_shared (RecoupBook  *book,
                              const char  *key,
                              GError     **error)
{
  g_return_val_if_fail (key != NULL, FALSE);

  switch (recoup_merge_setting_scope (key))
    {
    case RECOUP_SETTING_LOCAL:
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("“%s” is not a shared setting: it belongs to this copy of the book and never syncs "
                     "(it is written with recoup_book_set_setting ())"), key);
      return FALSE;
    case RECOUP_SETTING_OWNER:
      if (may_change_owner_settings (book))
        break;
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                   /* Translators: %s is what is to be changed, e.g. "the compliance rules" */
                   _("only an owner can change %s; ask an owner to make the change"), owner_area (key));
      return FALSE;
    case RECOUP_SETTING_TEAM:
      break;
    }
  return TRUE;
}

/**
 * recoup_settings_set_shared:
 *
 * Writes a shared setting and its change row in one transaction, if this
 * copy of the book may change it (recoup_settings_check_shared()).
 */
gboolean
recoup_settings_set_shared (RecoupBook  *book,
                            const char  *key,
                            const char  *value,
                            GError     **error)
{
  char change_id[RECOUP_UUID_STRING_LEN + 1];
  sqlite3_stmt *stmt;
  gint64 hlc;

  if (key == NULL || *key == '\0' || value == NULL)
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           _("a setting needs a key and a value"));
      return FALSE;
    }
  /* Refused here rather than by recoupd later, after which the device
   * would take the value back. */
  if (!recoup_settings_check_shared (book, key, error))
    return FALSE;

  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!recoup_book_set_setting (book, key, value, error))
    goto fail;

  stmt = recoup_book_prepare (book,
    "INSERT INTO changes (id, hlc, device_id, user_id, entity, entity_id, op, fields, schema_version)"
    " VALUES (?1, ?2, ?3, ?4, 'settings', ?5, 'set', json_object('key', ?5, 'value', ?6), ?7)", error);
  if (stmt == NULL)
    goto fail;
  hlc = recoup_book_stamp (book);
  recoup_uuid7_generate (change_id);
  sqlite3_bind_text (stmt, 1, change_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, hlc);
  sqlite3_bind_text (stmt, 3, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, value, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 7, RECOUP_SYNC_SCHEMA_BASE);
  if (!recoup_book_step_done (book, stmt, error))
    goto fail;

  stmt = recoup_book_prepare (book,
    "INSERT INTO field_clocks (entity, entity_id, field, hlc, device_id) VALUES ('settings', ?, 'value', ?, ?)"
    " ON CONFLICT DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, hlc);
  sqlite3_bind_text (stmt, 3, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error))
    goto fail;
  /* A failed commit has already rolled back. */
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

gint64
recoup_settings_get_int (RecoupBook *book,
                         const char *key,
                         gint64      fallback,
                         gint64      min,
                         gint64      max)
{
  g_autofree char *text = recoup_book_get_setting (book, key);
  gint64 value;

  if (text == NULL || !g_ascii_string_to_signed (text, 10, min, max, &value, NULL))
    return fallback;
  return value;
}
