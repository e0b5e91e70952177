/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-review"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "recoup-accounts.h"
#include "recoup-book-private.h"
#include "recoup-id.h"
#include "recoup-review.h"

void
recoup_review_item_free (RecoupReviewItem *item)
{
  if (item == NULL)
    return;
  g_free (item->id);
  g_free (item->kind);
  g_free (item->text);
  g_free (item->user_name);
  g_free (item);
}

static gboolean
is_owner (RecoupBook *book)
{
  g_autoptr(RecoupUser) me = recoup_user_load (book, recoup_book_get_user_id (book), NULL);

  return me != NULL && g_strcmp0 (me->role, "owner") == 0;
}

/* Writes one item and its change in the caller's transaction. */
static char *
insert_item (RecoupBook   *book,
             const char   *account_id,
             const char   *kind,
             JsonBuilder  *payload,
             GError      **error)
{
  g_autoptr(JsonNode) root = json_builder_get_root (payload);
  g_autofree char *json = json_to_string (root, FALSE);
  char id[RECOUP_UUID_STRING_LEN + 1];
  gint64 now = recoup_book_now_ms (book);
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "INSERT INTO review_items (id, account_id, kind, payload, hlc, device_id, user_id, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return NULL;
  recoup_uuid7_generate (id);
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, recoup_book_stamp (book));
  sqlite3_bind_text (stmt, 6, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 8, now);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      if (sqlite3_extended_errcode (recoup_book_get_db (book)) == SQLITE_CONSTRAINT_FOREIGNKEY)
        g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                     _("no account with id %s"), account_id != NULL ? account_id : "");
      else
        recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);
  recoup_book_touch_account (book, account_id);
  if (!recoup_book_record_change (book, "review_items", id, RECOUP_CHANGE_INSERT, NULL, error))
    return NULL;
  return g_strdup (id);
}

static char *
add_item (RecoupBook   *book,
          const char   *account_id,
          const char   *kind,
          JsonBuilder  *payload,
          GError      **error)
{
  g_autofree char *id = NULL;

  if (!recoup_book_begin (book, error))
    return NULL;
  if (!(id = insert_item (book, account_id, kind, payload, error)))
    {
      recoup_book_rollback (book);
      return NULL;
    }
  if (!recoup_book_commit (book, error))
    return NULL;
  return g_steal_pointer (&id);
}

/**
 * recoup_review_add_contact_breach:
 * @channel: the contact's channel code ("call", "visit", ...)
 * @at: when the contact happened (UTC ms)
 * @rules: the codes of the guard's rules it broke
 * @words: what the user said happened or why it was necessary
 *
 * Records that a contact the compliance guard blocked was logged anyway.
 *
 * Returns: (transfer full): the new item's id, or NULL with @error set
 */
char *
recoup_review_add_contact_breach (RecoupBook          *book,
                                  const char          *account_id,
                                  const char          *channel,
                                  gint64               at,
                                  const char * const  *rules,
                                  const char          *words,
                                  GError             **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "channel");
  json_builder_add_string_value (b, channel);
  json_builder_set_member_name (b, "at");
  json_builder_add_int_value (b, at);
  json_builder_set_member_name (b, "rules");
  json_builder_begin_array (b);
  for (guint i = 0; rules != NULL && rules[i] != NULL; i++)
    json_builder_add_string_value (b, rules[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "words");
  json_builder_add_string_value (b, words != NULL ? words : "");
  json_builder_end_object (b);
  return add_item (book, account_id, RECOUP_REVIEW_CONTACT_BREACH, b, error);
}

static gboolean
offer_conflict_known (RecoupBook  *book,
                      const char  *account_id,
                      const char  *offer_id,
                      gboolean    *out_known,
                      GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT 1 FROM review_items WHERE account_id = ? AND kind = 'offer-conflict'"
    " AND json_extract (payload, '$.offer_id') = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, offer_id, -1, SQLITE_STATIC);
  *out_known = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return TRUE;
}

/**
 * recoup_review_add_offer_conflict:
 *
 * Records that @offer_id's replay skipped transitions made offline on two
 * devices. The offer's conflict is raised once: an item marked reviewed is
 * not raised again by the next reconciliation.
 *
 * Returns: (transfer full): the new item's id, or "" when the conflict was
 *   already raised, or NULL with @error set
 */
char *
recoup_review_add_offer_conflict (RecoupBook  *book,
                                  const char  *account_id,
                                  const char  *offer_id,
                                  GError     **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  gboolean known = FALSE;

  if (!offer_conflict_known (book, account_id, offer_id, &known, error))
    return NULL;
  if (known)
    return g_strdup ("");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "offer_id");
  json_builder_add_string_value (b, offer_id);
  json_builder_end_object (b);
  return add_item (book, account_id, RECOUP_REVIEW_OFFER_CONFLICT, b, error);
}

/* The rule codes of a breach, joined for reading. */
static char *
join_rules (JsonObject *payload)
{
  JsonArray *rules = json_object_get_array_member (payload, "rules");
  GString *out = g_string_new (NULL);

  for (guint i = 0; rules != NULL && i < json_array_get_length (rules); i++)
    g_string_append_printf (out, "%s%s", out->len ? ", " : "", json_array_get_string_element (rules, i));
  return g_string_free (out, FALSE);
}

static char *
describe_breach (JsonObject *payload,
                 const char *user_name)
{
  g_autoptr(GDateTime) when =
    g_date_time_new_from_unix_utc (json_object_get_int_member_with_default (payload, "at", 0) / 1000);
  g_autofree char *day = g_date_time_format (when, "%Y-%m-%d %H:%M UTC");
  g_autofree char *rules = join_rules (payload);

  /* Translators: “call on 2026-06-11 02:00 UTC broke the compliance rules
   * (cease-communication), logged by Carla: she called back first”; the
   * channel and the rules are the book's codes, the last %s the user's words */
  return g_strdup_printf (_("%s on %s broke the compliance rules (%s), logged by %s: %s"),
                          json_object_get_string_member_with_default (payload, "channel", "?"), day, rules,
                          user_name != NULL ? user_name : "?",
                          json_object_get_string_member_with_default (payload, "words", ""));
}

/* The item in the reader's words; its payload stays as it was stored. */
static char *
describe (const char *kind,
          const char *payload_json,
          const char *user_name)
{
  g_autoptr(JsonNode) node = json_from_string (payload_json, NULL);
  JsonObject *payload = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

  if (payload != NULL && g_str_equal (kind, RECOUP_REVIEW_CONTACT_BREACH))
    return describe_breach (payload, user_name);
  if (payload != NULL && g_str_equal (kind, RECOUP_REVIEW_OFFER_CONFLICT))
    /* Translators: %s is the offer's id */
    return g_strdup_printf (_("offer %s has conflicting transitions made offline"),
                            json_object_get_string_member_with_default (payload, "offer_id", "?"));
  /* Written by a newer Recoup: the reader still learns something is open. */
  /* Translators: %s is the kind of item, as a newer Recoup names it */
  return g_strdup_printf (_("something on this account needs review (%s)"), kind);
}

static gboolean
add_legacy (RecoupBook  *book,
            const char  *account_id,
            GPtrArray   *items,
            GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT review_flag FROM accounts WHERE id = ?", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW && sqlite3_column_bytes (stmt, 0) > 0)
    {
      RecoupReviewItem *item = g_new0 (RecoupReviewItem, 1);

      item->kind = g_strdup (RECOUP_REVIEW_LEGACY);
      item->text = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      g_ptr_array_add (items, item);
    }
  sqlite3_reset (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND, _("no account with id %s"), account_id);
      return FALSE;
    }
  return rc == SQLITE_ROW || recoup_book_set_sqlite_error (book, error);
}

/**
 * recoup_review_list_open:
 *
 * The account's items that no owner marked reviewed, oldest first, the
 * legacy review_flag text (if any) before them.
 *
 * Returns: (transfer full) (element-type RecoupReviewItem): the items,
 *   or NULL with @error set
 */
GPtrArray *
recoup_review_list_open (RecoupBook  *book,
                         const char  *account_id,
                         GError     **error)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_review_item_free);
  sqlite3_stmt *stmt;

  if (!add_legacy (book, account_id, items, error))
    return NULL;
  stmt = recoup_book_prepare (book,
    "SELECT i.id, i.kind, i.payload, u.name, i.created_at FROM review_items i"
    " LEFT JOIN users u ON u.id = i.user_id"
    " WHERE i.account_id = ? AND NOT EXISTS (SELECT 1 FROM review_marks m WHERE m.item_id = i.id)"
    " ORDER BY i.created_at, i.id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      RecoupReviewItem *item = g_new0 (RecoupReviewItem, 1);

      item->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      item->kind = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      item->user_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      item->text = describe (item->kind, RECOUP_BOOK_STMT_TEXT (stmt, 2), item->user_name);
      item->created_at = sqlite3_column_int64 (stmt, 4);
      g_ptr_array_add (items, item);
    }
  sqlite3_reset (stmt);
  return g_steal_pointer (&items);
}

/* Marks one item of @account_id, unless it is marked already. */
static gboolean
insert_mark (RecoupBook  *book,
             const char  *account_id,
             const char  *item_id,
             GError     **error)
{
  char id[RECOUP_UUID_STRING_LEN + 1];
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "INSERT INTO review_marks (id, item_id, hlc, device_id, user_id, at)"
    " SELECT ?, i.id, ?, ?, ?, ? FROM review_items i WHERE i.id = ? AND i.account_id = ?"
    " AND NOT EXISTS (SELECT 1 FROM review_marks m WHERE m.item_id = i.id)", error);

  if (stmt == NULL)
    return FALSE;
  recoup_uuid7_generate (id);
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, recoup_book_stamp (book));
  sqlite3_bind_text (stmt, 3, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, recoup_book_get_user_id (book), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, recoup_book_now_ms (book));
  sqlite3_bind_text (stmt, 6, item_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, account_id, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (book, stmt, error))
    return FALSE;
  if (sqlite3_changes (recoup_book_get_db (book)) == 0)
    return TRUE;
  recoup_book_touch_account (book, account_id);
  return recoup_book_record_change (book, "review_marks", id, RECOUP_CHANGE_INSERT, NULL, error);
}

/**
 * recoup_review_mark:
 * @items: (element-type RecoupReviewItem): the items the owner was shown,
 *   from recoup_review_list_open()
 *
 * Marks @items reviewed: only these, so an item that arrived since stays
 * open. The legacy item clears accounts.review_flag. Owners only
 * (%RECOUP_BOOK_ERROR_DENIED otherwise).
 */
gboolean
recoup_review_mark (RecoupBook  *book,
                    const char  *account_id,
                    GPtrArray   *items,
                    GError     **error)
{
  if (!is_owner (book))
    {
      g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                           _("only an owner can mark an account as reviewed"));
      return FALSE;
    }
  if (!recoup_book_begin (book, error))
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    {
      RecoupReviewItem *item = g_ptr_array_index (items, i);
      gboolean ok = item->id != NULL
                    ? insert_mark (book, account_id, item->id, error)
                    : recoup_account_set (book, account_id, "review_flag", NULL, error);

      if (!ok)
        {
          recoup_book_rollback (book);
          return FALSE;
        }
    }
  return recoup_book_commit (book, error);
}

/**
 * recoup_review_count_open:
 *
 * How many items recoup_review_list_open() would list, the legacy text
 * counting as one.
 */
gboolean
recoup_review_count_open (RecoupBook  *book,
                          const char  *account_id,
                          guint       *out_n,
                          GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT (SELECT count(*) FROM review_items i WHERE i.account_id = ?1"
    "          AND NOT EXISTS (SELECT 1 FROM review_marks m WHERE m.item_id = i.id))"
    "     + (SELECT coalesce (review_flag, '') <> '' FROM accounts WHERE id = ?1)", error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  ok = sqlite3_step (stmt) == SQLITE_ROW;
  if (ok)
    *out_n = (guint) sqlite3_column_int64 (stmt, 0);
  else
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return ok;
}
