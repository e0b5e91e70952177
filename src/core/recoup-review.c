/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-review"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "recoup-accounts.h"
#include "recoup-book-private.h"
#include "recoup-dispute.h"
#include "recoup-guard.h"
#include "recoup-id.h"
#include "recoup-merge.h"
#include "recoup-money.h"
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
  g_free (item->account_id);
  g_free (item->account_ref);
  g_free (item->account_name);
  g_free (item->payload);
  g_free (item->reviewed_by);
  g_free (item);
}

/* Marks are the owner's: a collector's mark would hide a breach from them.
 * An enrolled book is this device's, whichever user acts in it: recoupd
 * decides by the device's role, and so does it here. */
static gboolean
check_owner (RecoupBook  *book,
             GError     **error)
{
  g_autoptr(RecoupUser) me = NULL;

  if (!recoup_merge_check_own_write (book, "review_marks", NULL, error))
    return FALSE;
  me = recoup_user_load (book, recoup_book_get_user_id (book), NULL);
  if (me != NULL && g_strcmp0 (me->role, "owner") == 0)
    return TRUE;
  g_set_error_literal (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED,
                       _("only an owner can mark an account as reviewed"));
  return FALSE;
}

/* Writes one item and its change in the caller's transaction. @given_id is
 * the id of an item every replica derives alike, or NULL for a new one. */
static char *
insert_item (RecoupBook   *book,
             const char   *given_id,
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
  if (given_id != NULL)
    g_strlcpy (id, given_id, sizeof id);
  else
    recoup_uuid7_generate (id);
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, recoup_book_stamp (book));
  sqlite3_bind_text (stmt, 6, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
  /* An item every replica derives is no one's: each copy raises it on its
   * own, and the first insert stands on each, so a user here would differ
   * from copy to copy. */
  if (given_id != NULL)
    sqlite3_bind_null (stmt, 7);
  else
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
          const char   *given_id,
          const char   *account_id,
          const char   *kind,
          JsonBuilder  *payload,
          GError      **error)
{
  g_autofree char *id = NULL;

  if (!recoup_book_begin (book, error))
    return NULL;
  if (!(id = insert_item (book, given_id, account_id, kind, payload, error)))
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
  return add_item (book, NULL, account_id, RECOUP_REVIEW_CONTACT_BREACH, b, error);
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
 * not raised again by the next reconciliation. Every replica that replays the
 * offer raises it, so the item's id is derived from the offer's: the copies
 * meet as one item when they sync.
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
  g_autofree char *name = g_strconcat ("offer-conflict:", offer_id, NULL);
  char id[RECOUP_UUID_STRING_LEN + 1];
  gboolean known = FALSE;

  if (!offer_conflict_known (book, account_id, offer_id, &known, error))
    return NULL;
  if (known)
    return g_strdup ("");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "offer_id");
  json_builder_add_string_value (b, offer_id);
  json_builder_end_object (b);
  recoup_uuid7_derive_from (offer_id, name, id);
  return add_item (book, id, account_id, RECOUP_REVIEW_OFFER_CONFLICT, b, error);
}

static gboolean
item_known (RecoupBook  *book,
            const char  *id,
            gboolean    *out_known,
            GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT 1 FROM review_items WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  *out_known = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return TRUE;
}

static void
add_acceptance (JsonBuilder                  *b,
                const char                   *member,
                const RecoupReviewAcceptance *acc)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "offer_id");
  json_builder_add_string_value (b, acc->offer_id);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, acc->kind);
  json_builder_set_member_name (b, "accepted_by");
  json_builder_add_string_value (b, acc->accepted_by != NULL ? acc->accepted_by : "");
  json_builder_set_member_name (b, "accepted_on");
  json_builder_add_string_value (b, acc->accepted_on != NULL ? acc->accepted_on : "");
  json_builder_end_object (b);
}

/**
 * recoup_review_add_offer_clash:
 * @kept: the offer accepted first, which payments count toward
 * @held: the offer accepted on another copy while @kept ran
 *
 * Records that two settlements, plans or extensions were accepted on one
 * account by copies that had not synced (recoup-offer.h, ONE RUNNING
 * ARRANGEMENT). Raised once per held offer: every replica that derives the
 * clash raises it under an id derived from both offers, so the copies meet
 * as one item, and an item marked reviewed is not raised again.
 *
 * Returns: (transfer full): the new item's id, or "" when the clash was
 *   already raised, or NULL with @error set
 */
char *
recoup_review_add_offer_clash (RecoupBook                    *book,
                               const char                    *account_id,
                               const RecoupReviewAcceptance  *kept,
                               const RecoupReviewAcceptance  *held,
                               GError                       **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *name = g_strconcat ("offer-clash:", held->offer_id, ":", kept->offer_id, NULL);
  char id[RECOUP_UUID_STRING_LEN + 1];
  gboolean known = FALSE;

  recoup_uuid7_derive_from (held->offer_id, name, id);
  if (!item_known (book, id, &known, error))
    return NULL;
  if (known)
    return g_strdup ("");
  json_builder_begin_object (b);
  add_acceptance (b, "kept", kept);
  add_acceptance (b, "held", held);
  json_builder_end_object (b);
  return add_item (book, id, account_id, RECOUP_REVIEW_OFFER_CLASH, b, error);
}

/* The write-offs and adjustments that upheld resolutions of @account_id's
 * disputes wrote (memo "dispute <id> upheld: <note>",
 * recoup_dispute_resolve_full()), not reversed, that are not the standing
 * resolution's remedy. A dispute resolved on two copies that had not synced
 * keeps the fields of the later one (the last writer), while both remedies
 * stay in the append-only ledger. The standing remedy is the entry of the
 * dispute's resolution: upheld, by its user, with its note, and of those
 * (one user upholding twice) the one written nearest its resolved_at, then
 * by id. State alone decides, so every replica finds the same entries
 * whatever order the changes came in. */
#define DISPUTE_PREFIX "'dispute ' || d.id || ' upheld: '"
static const char lost_remedies_sql[] =
  "WITH remedy AS ("
  "  SELECT d.id AS dispute_id, e.id AS entry_id, e.kind, e.amount, e.currency, e.user_id, e.created_at,"
  "         (d.status = 'upheld' AND d.resolved_by IS e.user_id"
  "          AND e.memo = " DISPUTE_PREFIX " || substr (d.resolution, 1, 900)) AS matches,"
  "         abs (e.created_at - coalesce (d.resolved_at, 0)) AS distance"
  "    FROM disputes d JOIN ledger_entries e ON e.account_id = d.account_id"
  "   WHERE d.account_id = ?1 AND d.status <> 'open'"
  "     AND e.kind IN ('write-off', 'adjustment')"
  "     AND substr (e.memo, 1, length (" DISPUTE_PREFIX ")) = " DISPUTE_PREFIX
  "     AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_id = e.id)),"
  " ranked AS ("
  "  SELECT *, row_number () OVER (PARTITION BY dispute_id ORDER BY matches DESC, distance, entry_id) AS rank"
  "    FROM remedy)"
  " SELECT dispute_id, entry_id, kind, amount, currency, user_id, created_at FROM ranked"
  "  WHERE NOT (matches AND rank = 1)"
  "  ORDER BY entry_id";
#undef DISPUTE_PREFIX

/**
 * recoup_review_raise_dispute_clashes:
 *
 * Raises a review item for each write-off or adjustment of an upheld
 * resolution of @account_id's disputes that is not the standing
 * resolution's remedy: the dispute was resolved again on a copy that had
 * not synced, and that remedy stays in the ledger (a merge takes no ledger
 * entry back). The money is left as it is: an owner decides. The item's id
 * is derived from the entry's, so every replica raises the same one, and
 * one marked reviewed is not raised again. Its text is worked out when it
 * is read (which resolution stands can change as changes arrive), so the
 * payload names only the dispute and the entry. Called by every replica at
 * the outermost commit, for the accounts the transaction touched.
 */
gboolean
recoup_review_raise_dispute_clashes (RecoupBook  *book,
                                     const char  *account_id,
                                     GError     **error)
{
  sqlite3_stmt *any = recoup_book_prepare (book,
    "SELECT 1 FROM disputes WHERE account_id = ?1 AND status <> 'open' LIMIT 1", error);
  sqlite3_stmt *stmt;
  gboolean resolved, ok = TRUE;
  int rc;

  if (any == NULL)
    return FALSE;
  sqlite3_bind_text (any, 1, account_id, -1, SQLITE_STATIC);
  resolved = sqlite3_step (any) == SQLITE_ROW;
  sqlite3_reset (any);
  if (!resolved)
    return TRUE;

  if (!(stmt = recoup_book_prepare (book, lost_remedies_sql, error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  while (ok && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      const char *entry_id = RECOUP_BOOK_STMT_TEXT (stmt, 1);
      g_autofree char *name = g_strconcat ("dispute-clash:", RECOUP_BOOK_STMT_TEXT (stmt, 0), ":", entry_id, NULL);
      g_autofree char *item = NULL;
      char id[RECOUP_UUID_STRING_LEN + 1];
      gboolean known = FALSE;

      recoup_uuid7_derive_from (entry_id, name, id);
      if (!(ok = item_known (book, id, &known, error)) || known)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "dispute_id");
      json_builder_add_string_value (b, RECOUP_BOOK_STMT_TEXT (stmt, 0));
      json_builder_set_member_name (b, "entry_id");
      json_builder_add_string_value (b, entry_id);
      json_builder_set_member_name (b, "entry_kind");
      json_builder_add_string_value (b, RECOUP_BOOK_STMT_TEXT (stmt, 2));
      json_builder_set_member_name (b, "amount");
      json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 3));
      json_builder_set_member_name (b, "currency");
      json_builder_add_string_value (b, RECOUP_BOOK_STMT_TEXT (stmt, 4));
      json_builder_set_member_name (b, "entry_by");
      json_builder_add_string_value (b, sqlite3_column_type (stmt, 5) != SQLITE_NULL
                                        ? RECOUP_BOOK_STMT_TEXT (stmt, 5) : "");
      json_builder_set_member_name (b, "entry_at");
      json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 6));
      json_builder_end_object (b);
      item = add_item (book, id, account_id, RECOUP_REVIEW_DISPUTE_CLASH, b, error);
      ok = item != NULL;
    }
  if (ok && rc != SQLITE_DONE && rc != SQLITE_ROW)
    ok = recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return ok;
}

/* The open offer-clash items of @account_id that name @offer_id, kept or held. */
static GPtrArray *
open_clashes_of (RecoupBook  *book,
                 const char  *account_id,
                 const char  *offer_id,
                 GError     **error)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT i.id FROM review_items i WHERE i.account_id = ?1 AND i.kind = 'offer-clash'"
    " AND (json_extract (i.payload, '$.kept.offer_id') = ?2 OR json_extract (i.payload, '$.held.offer_id') = ?2)"
    " AND NOT EXISTS (SELECT 1 FROM review_marks m WHERE m.item_id = i.id)", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, offer_id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (ids, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      return NULL;
    }
  return g_steal_pointer (&ids);
}

/**
 * recoup_review_close_offer_clashes:
 * @offer_id: an offer of a clash (recoup_review_add_offer_clash()), withdrawn
 * @by_user: (nullable): who withdrew it (a user id)
 * @at: when it was withdrawn (UTC ms)
 * @written: adds the marks written
 *
 * Closes the open clash items naming @offer_id, in the caller's
 * transaction: with one of its two offers withdrawn the clash is over, and
 * the withdrawal's reason says which one the customer kept. Every replica
 * that derives the withdrawal closes them alike, with a mark whose id
 * derives from the item's and whose user and time are the withdrawal's, so
 * the copies meet as one mark. A device that may not mark (a collector's:
 * recoupd would refuse its marks) leaves the mark to recoupd, which
 * reconciles the withdrawal as it arrives; it comes back with the next pull.
 */
gboolean
recoup_review_close_offer_clashes (RecoupBook  *book,
                                   const char  *account_id,
                                   const char  *offer_id,
                                   const char  *by_user,
                                   gint64       at,
                                   guint       *written,
                                   GError     **error)
{
  g_autoptr(GPtrArray) items = NULL;

  if (!recoup_merge_check_own_write (book, "review_marks", NULL, NULL))
    return TRUE;
  if (!(items = open_clashes_of (book, account_id, offer_id, error)))
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    {
      const char *item_id = g_ptr_array_index (items, i);
      g_autofree char *name = g_strconcat ("offer-clash-closed:", item_id, NULL);
      char id[RECOUP_UUID_STRING_LEN + 1];
      sqlite3_stmt *stmt = recoup_book_prepare (book,
        "INSERT INTO review_marks (id, item_id, hlc, device_id, user_id, at) VALUES (?, ?, ?, ?, ?, ?)", error);

      if (stmt == NULL)
        return FALSE;
      recoup_uuid7_derive_from (item_id, name, id);
      sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, item_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, recoup_book_stamp (book));
      sqlite3_bind_text (stmt, 4, recoup_book_get_device_id (book), -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, by_user, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 6, at);
      if (!recoup_book_step_done (book, stmt, error) ||
          !recoup_book_record_change (book, "review_marks", id, RECOUP_CHANGE_INSERT, NULL, error))
        return FALSE;
      recoup_book_touch_account (book, account_id);
      (*written)++;
    }
  return TRUE;
}

/**
 * recoup_review_add_ref_clash:
 * @ref: the reference @account_id was created with
 * @other_account_id: the account that kept @ref
 *
 * Records that two devices created an account with the same reference
 * offline and that @account_id, the later one to reach the server, was
 * renamed so that both and all their entries are kept. The owner decides
 * whether they are one debtor.
 *
 * Returns: (transfer full): the new item's id, or NULL with @error set
 */
char *
recoup_review_add_ref_clash (RecoupBook  *book,
                             const char  *account_id,
                             const char  *ref,
                             const char  *other_account_id,
                             GError     **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ref");
  json_builder_add_string_value (b, ref);
  json_builder_set_member_name (b, "other_account_id");
  json_builder_add_string_value (b, other_account_id);
  json_builder_end_object (b);
  return add_item (book, NULL, account_id, RECOUP_REVIEW_REF_CLASH, b, error);
}

/* The rules a breach broke in the reader's words. Codes are checked to be
 * strings: a newer Recoup may write more than this one reads. */
static char *
join_rules (JsonObject *payload)
{
  JsonNode *node = json_object_get_member (payload, "rules");
  JsonArray *rules = node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  GString *out = g_string_new (NULL);

  for (guint i = 0; rules != NULL && i < json_array_get_length (rules); i++)
    {
      JsonNode *rule = json_array_get_element (rules, i);

      if (JSON_NODE_HOLDS_VALUE (rule) && json_node_get_value_type (rule) == G_TYPE_STRING)
        g_string_append_printf (out, "%s%s", out->len ? "; " : "",
                                recoup_guard_rule_phrase (json_node_get_string (rule)));
    }
  return g_string_free (out, FALSE);
}

/* @tz: the account's zone, so that the hour reads as the debtor lived it */
static char *
describe_breach (JsonObject *payload,
                 const char *user_name,
                 GTimeZone  *tz)
{
  const char *channel = json_object_get_string_member_with_default (payload, "channel", "?");
  gint64 at = json_object_get_int_member_with_default (payload, "at", 0);
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (at / 1000);
  g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_timezone (utc, tz) : NULL;
  g_autofree char *when = local != NULL ? g_date_time_format (local, "%Y-%m-%d %H:%M %Z") : g_strdup ("?");
  g_autofree char *rules = join_rules (payload);

  /* Translators: “visit on 2026-06-10 21:00 CDT broke the compliance rules
   * (outside the debtor's contact hours; the debtor asked to cease
   * communication), logged by Carla: she called back first”: the channel as
   * a noun, when it happened in the account's time zone (ISO date, 24-hour
   * time, the zone's abbreviation), the rules it broke, who logged it, and
   * the last %s their words */
  return g_strdup_printf (_("%s on %s broke the compliance rules (%s), logged by %s: %s"),
                          recoup_guard_channel_noun (channel), when, rules, user_name != NULL ? user_name : "?",
                          json_object_get_string_member_with_default (payload, "words", ""));
}

/* One offer of a clash in the reader's words: “plan 0190…, accepted by Ana
 * on 2026-06-10”. */
static char *
describe_acceptance (RecoupBook *book,
                     JsonObject *payload,
                     const char *member)
{
  JsonObject *acc = json_object_has_member (payload, member) &&
                    JSON_NODE_HOLDS_OBJECT (json_object_get_member (payload, member))
                    ? json_object_get_object_member (payload, member) : NULL;
  const char *kind = acc != NULL ? json_object_get_string_member_with_default (acc, "kind", "?") : "?";
  const char *user_id = acc != NULL ? json_object_get_string_member_with_default (acc, "accepted_by", "") : "";
  g_autoptr(RecoupUser) user = *user_id != '\0' ? recoup_user_load (book, user_id, NULL) : NULL;

  /* Translators: an offer's kind (settlement, plan, extension), its id, the
   * name of the user who recorded the customer's acceptance, then the day */
  return g_strdup_printf (_("%s %s, accepted by %s on %s"),
                          g_dpgettext2 (GETTEXT_PACKAGE, "offer kind", kind),
                          acc != NULL ? json_object_get_string_member_with_default (acc, "offer_id", "?") : "?",
                          user != NULL ? user->name : "?",
                          acc != NULL ? json_object_get_string_member_with_default (acc, "accepted_on", "?") : "?");
}

static char *
describe_clash (RecoupBook *book,
                JsonObject *payload)
{
  g_autofree char *kept = describe_acceptance (book, payload, "kept");
  g_autofree char *held = describe_acceptance (book, payload, "held");

  /* Translators: both %s are an offer as “plan 0190…, accepted by Ana on
   * 2026-06-10”, the one accepted first, then the other */
  return g_strdup_printf (_("two arrangements were accepted on this account on devices that had not synced: "
                            "%s (first), and %s. Payments count toward the first only; the second counts "
                            "none and does not default. Ask the customer which one stands and withdraw the "
                            "other, with the reason: that closes this item"), kept, held);
}

/* Who did something and when, in the account's zone: “Ana on 2026-06-10 14:05 CEST”. */
static char *
describe_by_at (RecoupBook *book,
                const char *user_id,
                gint64      at,
                GTimeZone  *tz)
{
  g_autoptr(RecoupUser) user = user_id != NULL && *user_id != '\0' ? recoup_user_load (book, user_id, NULL) : NULL;
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (at / 1000);
  g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_timezone (utc, tz) : NULL;
  g_autofree char *when = local != NULL ? g_date_time_format (local, "%Y-%m-%d %H:%M %Z") : g_strdup ("?");

  /* Translators: the name of a user, then when they did it (date, time, zone) */
  return g_strdup_printf (_("%s on %s"), user != NULL ? user->name : "?", when);
}

static const char *
remedy_noun (const char *kind)
{
  if (g_strcmp0 (kind, "write-off") == 0)
    return C_("ledger entry kind", "write-off");
  if (g_strcmp0 (kind, "adjustment") == 0)
    return C_("ledger entry kind", "adjustment");
  return kind;
}

/* Which resolution stands is read from the dispute as it is now, not
 * from the payload: it can change as later changes arrive. */
static char *
describe_dispute_clash (RecoupBook *book,
                        JsonObject *payload,
                        GTimeZone  *tz)
{
  const char *dispute_id = json_object_get_string_member_with_default (payload, "dispute_id", "?");
  const char *kind = json_object_get_string_member_with_default (payload, "entry_kind", "?");
  gint64 amount = json_object_get_int_member_with_default (payload, "amount", 0);
  g_autofree char *money = recoup_money_format_for_reader (ABS (amount),
                                                           json_object_get_string_member_with_default (payload,
                                                                                                       "currency", ""),
                                                           RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
  g_autofree char *lost = describe_by_at (book, json_object_get_string_member_with_default (payload, "entry_by", ""),
                                          json_object_get_int_member_with_default (payload, "entry_at", 0), tz);
  g_autofree char *reason = NULL, *status = NULL, *kept = NULL;
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT reason, status, resolved_by, coalesce (resolved_at, 0) FROM disputes WHERE id = ?1", NULL);

  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, dispute_id, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        {
          reason = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
          status = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
          kept = describe_by_at (book, RECOUP_BOOK_STMT_TEXT (stmt, 2), sqlite3_column_int64 (stmt, 3), tz);
        }
      sqlite3_reset (stmt);
    }

  if (g_strcmp0 (status, "rejected") == 0)
    /* Translators: the reason the dispute was opened with; who rejected it
     * and when (“Ana on 2026-06-10 14:05 CEST”); who upheld it on the other
     * device and when; the kind of entry (write-off or adjustment) and its
     * amount with its currency code */
    return g_strdup_printf (_("the dispute “%s” was resolved on two devices that had not synced: rejected by "
                              "%s, which stands, and upheld by %s. The %s of %s that the upheld resolution "
                              "wrote stays in the ledger: if the debt stands, reverse it; if the debtor was "
                              "right after all, leave it and mark this item reviewed"),
                            reason, kept, lost, remedy_noun (kind), money);
  if (g_strcmp0 (status, "upheld") == 0)
    /* Translators: the reason the dispute was opened with; who upheld it
     * and when (“Ana on 2026-06-10 14:05 CEST”), the resolution that stands;
     * who upheld it again on the other device and when; the kind of entry
     * (write-off or adjustment) and its amount with its currency code */
    return g_strdup_printf (_("the dispute “%s” was upheld twice, on devices that had not synced: by %s, "
                              "which stands, and by %s. The %s of %s that the second resolution wrote takes "
                              "the disputed amount off again: reverse it, unless both were meant"),
                            reason, kept, lost, remedy_noun (kind), money);
  /* Translators: the kind of entry (write-off or adjustment) and its amount
   * with its currency code; who wrote it and when; the dispute's id */
  return g_strdup_printf (_("the %s of %s that %s wrote for dispute %s is not its standing resolution's: "
                            "reverse it if it is not owed"),
                          remedy_noun (kind), money, lost, dispute_id);
}

/* The item in the reader's words; its payload stays as it was stored. */
static char *
describe (RecoupBook *book,
          const char *kind,
          const char *payload_json,
          const char *user_name,
          GTimeZone  *tz)
{
  g_autoptr(JsonNode) node = json_from_string (payload_json, NULL);
  JsonObject *payload = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

  if (payload != NULL && g_str_equal (kind, RECOUP_REVIEW_CONTACT_BREACH))
    return describe_breach (payload, user_name, tz);
  if (payload != NULL && g_str_equal (kind, RECOUP_REVIEW_OFFER_CONFLICT))
    /* Translators: %s is the offer's id */
    return g_strdup_printf (_("offer %s has conflicting transitions made offline"),
                            json_object_get_string_member_with_default (payload, "offer_id", "?"));
  if (payload != NULL && g_str_equal (kind, RECOUP_REVIEW_OFFER_CLASH))
    return describe_clash (book, payload);
  if (payload != NULL && g_str_equal (kind, RECOUP_REVIEW_DISPUTE_CLASH))
    return describe_dispute_clash (book, payload, tz);
  if (payload != NULL && g_str_equal (kind, RECOUP_REVIEW_REF_CLASH))
    /* Translators: %s is the account reference both devices used */
    return g_strdup_printf (_("another device also created an account %s while offline; this one was given "
                              "a new reference so that both are kept: if they are the same debtor, move "
                              "the entries to one of them"),
                            json_object_get_string_member_with_default (payload, "ref", "?"));
  /* Written by a newer Recoup: the reader still learns something is open. */
  /* Translators: %s is the kind of item, as a newer Recoup names it */
  return g_strdup_printf (_("something on this account needs review (%s)"), kind);
}

/* The statement read_items() reads: an item, its account, who raised it and
 * the first mark on it (two owners may have marked it offline). */
#define ITEM_SELECT \
  "SELECT i.id, i.kind, i.payload, u.name, i.created_at, i.account_id, a.ref, a.name, a.timezone," \
  " m.at, mu.name FROM review_items i JOIN accounts a ON a.id = i.account_id" \
  " LEFT JOIN users u ON u.id = i.user_id" \
  " LEFT JOIN review_marks m ON m.id = (SELECT id FROM review_marks WHERE item_id = i.id ORDER BY at, id LIMIT 1)" \
  " LEFT JOIN users mu ON mu.id = m.user_id"

static gboolean
read_items (RecoupBook    *book,
            sqlite3_stmt  *stmt,
            GPtrArray     *items,
            GError       **error)
{
  g_auto(RecoupGuardPolicy) policy = { 0 };
  int rc;

  /* An account with no known zone is read in the zone the guard uses for it. */
  recoup_guard_policy_load (book, &policy);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      RecoupReviewItem *item = g_new0 (RecoupReviewItem, 1);

      item->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      item->kind = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      item->payload = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      item->user_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      item->created_at = sqlite3_column_int64 (stmt, 4);
      item->account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
      item->account_ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 6));
      item->account_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 7));
      item->text = describe (book, item->kind, item->payload, item->user_name,
                             recoup_guard_debtor_zone (&policy, RECOUP_BOOK_STMT_TEXT (stmt, 8)));
      item->reviewed_at = sqlite3_column_int64 (stmt, 9);
      item->reviewed_by = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 10));
      g_ptr_array_add (items, item);
    }
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE || recoup_book_set_sqlite_error (book, error);
}

/* Appends the legacy review_flag text of @account_id (NOT_FOUND when there
 * is no such account), or with @account_id NULL of every account with one. */
static gboolean
add_legacy (RecoupBook  *book,
            const char  *account_id,
            GPtrArray   *items,
            GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, account_id != NULL
    ? "SELECT id, ref, name, review_flag FROM accounts WHERE id = ?"
    : "SELECT id, ref, name, review_flag FROM accounts WHERE coalesce (review_flag, '') <> '' ORDER BY ref", error);
  gboolean found = FALSE;
  int rc;

  if (stmt == NULL)
    return FALSE;
  if (account_id != NULL)
    sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      RecoupReviewItem *item;

      found = TRUE;
      if (sqlite3_column_bytes (stmt, 3) == 0)
        continue;
      item = g_new0 (RecoupReviewItem, 1);
      item->kind = g_strdup (RECOUP_REVIEW_LEGACY);
      item->text = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      item->account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      item->account_ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      item->account_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      g_ptr_array_add (items, item);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (book, error);
  if (account_id != NULL && !found)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND, _("no account with id %s"), account_id);
      return FALSE;
    }
  return TRUE;
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
  stmt = recoup_book_prepare (book, ITEM_SELECT " WHERE i.account_id = ? AND m.id IS NULL"
                              " ORDER BY i.created_at, i.id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  if (!read_items (book, stmt, items, error))
    return NULL;
  return g_steal_pointer (&items);
}

/**
 * recoup_review_list:
 * @account_id: (nullable): one account's items, or NULL for every account's
 * @include_reviewed: list the items an owner marked too, with who and when
 *
 * The items of the book (or of one account), newest first, then the legacy
 * review_flag texts, which are always open, by account reference.
 *
 * Returns: (transfer full) (element-type RecoupReviewItem): the items,
 *   or NULL with @error set (NOT_FOUND for an unknown @account_id)
 */
GPtrArray *
recoup_review_list (RecoupBook  *book,
                    const char  *account_id,
                    gboolean     include_reviewed,
                    GError     **error)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_review_item_free);
  sqlite3_stmt *stmt = recoup_book_prepare (book, ITEM_SELECT
    " WHERE (?1 IS NULL OR i.account_id = ?1) AND (?2 OR m.id IS NULL)"
    " ORDER BY i.created_at DESC, i.id DESC", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, include_reviewed);
  if (!read_items (book, stmt, items, error) ||
      !add_legacy (book, account_id, items, error))
    return NULL;
  return g_steal_pointer (&items);
}

/* Marks one item of @account_id, unless it is marked already. */
static gboolean
insert_mark (RecoupBook  *book,
             const char  *account_id,
             const char  *item_id,
             guint       *n_marked,
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
  if (n_marked != NULL)
    (*n_marked)++;
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
  if (!check_owner (book, error) || !recoup_book_begin (book, error))
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    {
      RecoupReviewItem *item = g_ptr_array_index (items, i);
      gboolean ok = item->id != NULL
                    ? insert_mark (book, account_id, item->id, NULL, error)
                    : recoup_account_set (book, account_id, "review_flag", NULL, error);

      if (!ok)
        {
          recoup_book_rollback (book);
          return FALSE;
        }
    }
  return recoup_book_commit (book, error);
}

/* The item @id_or_tail names: its whole id, or its last 6 or more
 * characters as the CLI shows them. */
static gboolean
resolve_item (RecoupBook  *book,
              const char  *id_or_tail,
              char       **out_id,
              char       **out_account_id,
              GError     **error)
{
  sqlite3_stmt *stmt;
  guint n = 0;
  int rc;

  if (strlen (id_or_tail) < 6)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   _("“%s” is too short to name a review item: give its id or at least its last 6 characters"),
                   id_or_tail);
      return FALSE;
    }
  /* Ids are all of one length: a whole id is no other id's tail. */
  stmt = recoup_book_prepare (book,
    "SELECT id, account_id FROM review_items WHERE substr (id, -length (?1)) = lower (?1) LIMIT 2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id_or_tail, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    if (n++ == 0)
      {
        *out_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
        *out_account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (book, error);
  if (n == 0)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 _("no review item “%s” (list them with “recoup-cli review --all”)"), id_or_tail);
  else if (n > 1)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                 _("“%s” names more than one review item: give more of its id"), id_or_tail);
  return n == 1;
}

/**
 * recoup_review_mark_ids:
 * @ids: the items, each by its id or its last 6 or more characters
 * @out_n_marked: (out) (optional): how many of them were open (an item
 *   already marked stays as it was)
 *
 * Marks the items @ids name reviewed, on whichever accounts they are: all
 * of them or, when one names no item or more than one, none (the error says
 * which). Owners only (%RECOUP_BOOK_ERROR_DENIED otherwise).
 */
gboolean
recoup_review_mark_ids (RecoupBook          *book,
                        const char * const  *ids,
                        guint               *out_n_marked,
                        GError             **error)
{
  guint n = 0;

  if (!check_owner (book, error) || !recoup_book_begin (book, error))
    return FALSE;
  for (guint i = 0; ids != NULL && ids[i] != NULL; i++)
    {
      g_autofree char *id = NULL;
      g_autofree char *account_id = NULL;

      if (!resolve_item (book, ids[i], &id, &account_id, error) ||
          !insert_mark (book, account_id, id, &n, error))
        {
          recoup_book_rollback (book);
          return FALSE;
        }
    }
  if (!recoup_book_commit (book, error))
    return FALSE;
  if (out_n_marked != NULL)
    *out_n_marked = n;
  return TRUE;
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
