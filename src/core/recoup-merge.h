/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * Merging changes made elsewhere into a book: the same code runs on every
 * device and on the server, so every replica applies the same rules.
 *
 * A change is a JSON object {id, hlc, device_id, user_id, entity, entity_id,
 * op, fields, schema_version} (plus `seq`, the server sequence, when pulled).
 * See docs/sync-protocol.md.
 */

typedef enum
{
  RECOUP_MERGE_APPLIED,    /* new to this book: applied and stored */
  RECOUP_MERGE_DUPLICATE,  /* already in the book's change log: nothing changed */
  RECOUP_MERGE_REJECTED,   /* refused; the reason code and message say why */
} RecoupMergeStatus;

/* Pass as @server_seq to store a change with its own local seq as server seq
 * (the server does this: its change log's seq is the server sequence). */
#define RECOUP_MERGE_SEQ_SELF ((gint64) -1)

/* Reason codes of a rejection (stable; clients may match on them). */
#define RECOUP_MERGE_REASON_INVALID         "invalid_change"
#define RECOUP_MERGE_REASON_SCHEMA_TOO_NEW  "schema_too_new"
#define RECOUP_MERGE_REASON_UNKNOWN_ENTITY  "unknown_entity"
#define RECOUP_MERGE_REASON_UNKNOWN_FIELD   "unknown_field"
#define RECOUP_MERGE_REASON_WRONG_TYPE      "wrong_type"
#define RECOUP_MERGE_REASON_UNSUPPORTED_OP  "unsupported_op"
#define RECOUP_MERGE_REASON_MISSING_ROW     "missing_row"
#define RECOUP_MERGE_REASON_MISSING_REF     "missing_reference"
#define RECOUP_MERGE_REASON_CONSTRAINT      "constraint"
#define RECOUP_MERGE_REASON_NOT_SHARED      "not_shared"
/* recoupd: an account assigned to a user the team removed (the refusal
 * carries the account's collector as the server has it). */
#define RECOUP_MERGE_REASON_USER_REMOVED    "user_removed"
/* recoupd: an account assigned to a user whose role holds no accounts (a
 * bookkeeper, recoup_user_role_holds_accounts()); refused like user_removed,
 * with the account's collector as the server has it. */
#define RECOUP_MERGE_REASON_ASSIGNEE_ROLE   "assignee_role"

/* What a merged change left stale beyond its own rows: a shared setting the
 * scores (weights, thresholds, escalation policy) or the gathered account
 * stats (plan grace) are computed with. Ordered: a larger value includes the
 * smaller. */
typedef enum
{
  RECOUP_MERGE_STALE_NONE,
  RECOUP_MERGE_STALE_SCORES,  /* scores, segments, ranks, next actions: a rescore */
  RECOUP_MERGE_STALE_STATS,   /* the stats themselves: a rebuild */
} RecoupMergeStale;

typedef struct
{
  RecoupMergeStatus status;
  gint64            seq;        /* local seq of the stored change (applied or duplicate) */
  gint64            server_seq; /* its server seq, 0 if unknown */
  char             *reason;     /* rejection code, NULL otherwise */
  char             *message;    /* readable rejection text, NULL otherwise */
  RecoupMergeStale  stale;      /* derived data an applied change made stale */
} RecoupMergeResult;

void       recoup_merge_result_clear     (RecoupMergeResult *result);

/* Applies one change; a rejection changes nothing. Outside a transaction it
 * is its own transaction; inside the caller's, a change that could be refused
 * half-way (fields merged into an existing row) takes a savepoint, and the
 * insert of a new row (one statement) takes none. Returns FALSE only when the
 * book itself failed (SQLite error): the caller then rolls back its
 * transaction. A rejected change is a TRUE return with status REJECTED.
 * @server_seq: 0 for none, RECOUP_MERGE_SEQ_SELF, or the server's sequence
 * number. */
gboolean   recoup_merge_apply            (RecoupBook        *book,
                                          JsonObject        *change,
                                          gint64             server_seq,
                                          RecoupMergeResult *result,
                                          GError           **error);

/* Applies a pulled page (changes carrying `seq`) and stores @cursor as the
 * pull cursor, in one transaction. A change the book cannot apply stops the
 * page before it: the cursor is set to the last applied seq and an error
 * says why (nothing after it is skipped). */
gboolean   recoup_merge_apply_page       (RecoupBook        *book,
                                          JsonArray         *changes,
                                          gint64             cursor,
                                          guint             *out_applied,
                                          GError           **error);

gint64     recoup_merge_get_cursor       (RecoupBook        *book);

/* Own changes not yet acknowledged by the server, in local order (oldest
 * first), skipping those the server rejected for good. */
JsonArray *recoup_merge_collect_unsent   (RecoupBook        *book,
                                          guint              limit,
                                          GError           **error);
gint64     recoup_merge_count_unsent     (RecoupBook        *book);
/* Of those, the ones written in the name of a user other than @user_id (-1
 * when the book failed); *@out_author: the name (else the id) of the
 * writer of the oldest. */
gint64     recoup_merge_count_unsent_by_others (RecoupBook  *book,
                                                const char  *user_id,
                                                char       **out_author,
                                                GError     **error);

/* Stores the server's answer to a pushed change: accepted with its sequence
 * (@reason NULL), or rejected with a reason. A change refused as
 * schema_too_new, clock_ahead, missing_reference or missing_row is sent again
 * with the next sync; other refusals stop it from being resent; it stays in
 * the log. */
gboolean   recoup_merge_reason_is_resent (const char        *reason);
gboolean   recoup_merge_acknowledge      (RecoupBook        *book,
                                          const char        *change_id,
                                          gint64             server_seq,
                                          const char        *reason,
                                          const char        *message,
                                          GError           **error);

/* The change log row with @seq as a change object (as pushed and pulled). */
JsonObject *recoup_merge_change_from_row (RecoupBook        *book,
                                          gint64             seq,
                                          GError           **error);

/* Losing values of last-writer-wins merges, newest first: an array of
 * {entity, entity_id, field, value, hlc, device_id, winner_hlc,
 *  winner_device_id, change_id, at}. */
JsonArray *recoup_merge_list_conflicts   (RecoupBook        *book,
                                          GError           **error);

/* Changes rejected by the server: {change_id, reason, message, at}. */
JsonArray *recoup_merge_list_rejections  (RecoupBook        *book,
                                          GError           **error);

gboolean   recoup_merge_entity_is_append_only (const char   *entity);

/*
 * Settings: most belong to one copy of the book (its device id, clock, sync
 * cursor, address, fingerprint and role, derived-data stamps, file paths) and
 * never leave it. The shared ones, written by recoup_settings_set_shared(),
 * are the business's policy and details that every replica must agree on;
 * a change {entity "settings", entity_id KEY, op "set", fields {key, value}}
 * merges last-writer-wins like any field (clock: field_clocks ('settings',
 * KEY, 'value')). A change naming any other key is refused (not_shared).
 */
typedef enum
{
  RECOUP_SETTING_LOCAL,   /* this copy's own: never taken from a peer */
  RECOUP_SETTING_TEAM,    /* shared; any member of the team may change it */
  RECOUP_SETTING_OWNER,   /* shared; the business's policy: owners only */
} RecoupSettingScope;

RecoupSettingScope recoup_merge_setting_scope (const char *key);

/*
 * Who may write what: the rows only an owner may write (users, marks on
 * review items, write-offs by a collector). recoupd refuses such a pushed
 * change as `forbidden` with this message; an enrolled book refuses it up
 * front with the same words, so it is never kept on one device only.
 * @ledger_kind: the entry's kind for "ledger_entries", else NULL.
 */
gboolean   recoup_merge_check_role       (const char        *role,
                                          const char        *user_name,
                                          const char        *entity,
                                          const char        *ledger_kind,
                                          GError           **error);
/* recoup_merge_check_role() for this book's own write, with the role and
 * name the server gave it (sync.role, sync.user_name). A book not enrolled
 * with a server belongs to whoever uses it: everything is allowed. */
gboolean   recoup_merge_check_own_write  (RecoupBook        *book,
                                          const char        *entity,
                                          const char        *ledger_kind,
                                          GError           **error);

/* At enrollment (recoup_sync_attach() calls it): the user this book was made
 * with (an owner of this copy alone, never synced) becomes the enrolled one,
 * in the rows and the unsent changes that name it. See recoup-merge.c. */
gboolean   recoup_merge_adopt_enrolled_user (RecoupBook     *book,
                                             const char     *user_id,
                                             const char     *user_name,
                                             const char     *role,
                                             GError        **error);

/* Brings derived data up to date after changes whose results said @stale
 * (the largest of them): a rescore or a rebuild, in the caller's
 * transaction, as a local change of the same setting does. Nothing to do for
 * RECOUP_MERGE_STALE_NONE, or when the book's scores were never computed or
 * were computed with the settings it has now. recoup_merge_apply() and the
 * page functions call it themselves; a caller of
 * recoup_merge_apply_batch_item() calls it before it commits. */
gboolean   recoup_merge_refresh_derived  (RecoupBook        *book,
                                          RecoupMergeStale   stale,
                                          GError           **error);

/*
 * The wire form, fast: a push body or a pull page parsed once into a flat
 * batch (no JSON tree per change), merged by index, and pages and push bodies
 * written as text straight from the change log. The JsonObject functions
 * above are the same rules for single changes.
 */
typedef struct _RecoupChangeBatch RecoupChangeBatch;

/* Parses a JSON object text: its "changes" array (push body, pull page),
 * "has_more" and "latest_seq" (pull page), "results" (push answer). Other
 * members are skipped. NULL with @error (G_IO_ERROR_INVALID_DATA) when the
 * text is not a JSON object. */
RecoupChangeBatch *recoup_change_batch_parse (const char        *json,
                                              gsize              length,
                                              GError           **error);
void       recoup_change_batch_free       (RecoupChangeBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupChangeBatch, recoup_change_batch_free)

/* Sync bodies (push batches, pull pages, push answers) above this size travel
 * gzipped, by recoup_merge_gzip (). */
#define RECOUP_MERGE_GZIP_THRESHOLD (64 * 1024)
GBytes    *recoup_merge_gzip              (const void        *data,
                                           gsize              length);

/* FALSE when the object had no "changes" array. */
gboolean   recoup_change_batch_has_changes (RecoupChangeBatch *batch);
guint      recoup_change_batch_get_length (RecoupChangeBatch *batch);
gboolean   recoup_change_batch_get_has_more (RecoupChangeBatch *batch);
gint64     recoup_change_batch_get_latest_seq (RecoupChangeBatch *batch);
/* Element @index was a JSON object. */
gboolean   recoup_change_batch_is_object  (RecoupChangeBatch *batch,
                                           guint              index);
/* A top-level string member of change @index ("id", "entity", "op", …);
 * NULL when absent or not a string. @out_present (nullable) tells whether the
 * member was there at all. */
const char *recoup_change_batch_get_string (RecoupChangeBatch *batch,
                                            guint              index,
                                            const char        *member,
                                            gboolean          *out_present);
/* "hlc", "seq" or "schema_version" of change @index; @fallback when absent
 * or not an integer. */
gint64     recoup_change_batch_get_int    (RecoupChangeBatch *batch,
                                           guint              index,
                                           const char        *member,
                                           gint64             fallback);
gboolean   recoup_change_batch_has_fields (RecoupChangeBatch *batch,
                                           guint              index);
const char *recoup_change_batch_get_field_string (RecoupChangeBatch *batch,
                                                  guint              index,
                                                  const char        *field,
                                                  const char        *fallback);
gint64     recoup_change_batch_get_field_int (RecoupChangeBatch *batch,
                                              guint              index,
                                              const char        *field,
                                              gint64             fallback);

/* Who a pushed change says did it: change @index of @batch, in its envelope
 * (user_id) and in the row's own columns (user_id, created_by, opened_by,
 * resolved_by: the history's "by"), names no user but @user_id (the
 * pushing device's user, called @user_name), or none. recoupd holds every
 * device but an owner's to it: an owner's may bring the book it was made
 * with, which other people wrote. */
gboolean   recoup_merge_check_author     (RecoupChangeBatch *batch,
                                          guint              index,
                                          const char        *user_id,
                                          const char        *user_name,
                                          GError           **error);
/*
 * An account assigned offline to a user the team has removed meanwhile
 * (see recoup-merge.c for why the server refuses it rather than the merge
 * keeping the previous collector). recoupd asks
 * recoup_merge_check_assignee() before it merges change @index of a push;
 * a refusal (RECOUP_MERGE_REASON_USER_REMOVED, with its message) carries
 * the members recoup_merge_kept_members() writes: the account's collector
 * as the server has it and that value's clock. The device that pushed it
 * passes the answer to recoup_merge_restore_kept(), which puts both back
 * unless a later write on the device replaced the refused value. Only the
 * collector is put back: recoup_account_set() writes one field per change,
 * so a refused change carries no other field. A client that sets several
 * fields in one change must keep them apart from assigned_to, or its other
 * fields stay on the device with the refusal (listed by sync-status).
 */
gboolean   recoup_merge_check_assignee   (RecoupBook        *book,
                                          RecoupChangeBatch *batch,
                                          guint              index,
                                          GError           **error);
/* ,"field":"assigned_to","kept":VALUE,"kept_hlc":N,"kept_device_id":"…" */
char      *recoup_merge_kept_members     (RecoupBook        *book,
                                          RecoupChangeBatch *batch,
                                          guint              index,
                                          GError           **error);
/* Result @index of the push answer @answer, for the pushed change @change_id;
 * in the caller's transaction. Nothing to do for a result without "kept". */
gboolean   recoup_merge_restore_kept     (RecoupBook        *book,
                                          RecoupChangeBatch *answer,
                                          guint              index,
                                          const char        *change_id,
                                          GError           **error);

/* The "results" array of a push answer: FALSE when it is missing. */
gboolean   recoup_change_batch_has_results (RecoupChangeBatch *batch);
guint      recoup_change_batch_get_n_results (RecoupChangeBatch *batch);
/* Result @index: its status ("" when missing), seq, reason and message
 * (NULL when missing). */
const char *recoup_change_batch_get_result (RecoupChangeBatch *batch,
                                            guint              index,
                                            gint64            *out_seq,
                                            const char       **out_reason,
                                            const char       **out_message);

/* recoup_merge_apply() of change @index of a batch. Inside a caller's
 * transaction a change that can be refused half-way takes a savepoint; one
 * that cannot (the common insert) takes none. Either way a rejection changes
 * nothing; on a FALSE return (the book failed) the caller rolls back its
 * transaction. */
gboolean   recoup_merge_apply_batch_item  (RecoupBook        *book,
                                           RecoupChangeBatch *batch,
                                           guint              index,
                                           gint64             server_seq,
                                           RecoupMergeResult *result,
                                           GError           **error);
/* recoup_merge_apply_page() of a parsed page. */
gboolean   recoup_merge_apply_page_batch  (RecoupBook        *book,
                                           RecoupChangeBatch *batch,
                                           gint64             cursor,
                                           guint             *out_applied,
                                           GError           **error);

/* The request body {"changes":[…]} of the next @limit unsent changes with a
 * local seq above @after_seq (as recoup_merge_collect_unsent()); their ids
 * are appended to @out_ids and the last one's local seq is @out_last_seq. */
GString   *recoup_merge_collect_unsent_body (RecoupBook      *book,
                                             gint64           after_seq,
                                             guint            limit,
                                             GPtrArray       *out_ids,
                                             gint64          *out_last_seq,
                                             GError         **error);
/* Appends the changes with seq > @after (at most @limit, in seq order, each
 * with its "seq" = server_seq) to @out as comma-separated JSON objects. */
gboolean   recoup_merge_write_changes_after (RecoupBook      *book,
                                             gint64           after,
                                             guint            limit,
                                             GString         *out,
                                             guint           *out_n,
                                             gboolean        *out_has_more,
                                             GError         **error);

/* Re-stamps this device's unacknowledged changes, oldest first, with fresh
 * clock values: what a client does after the server refused changes as
 * `clock_ahead` (stamped while the device's clock ran ahead) once the clock
 * is right again. The new stamps start above the wall clock now and above
 * every change that is not re-stamped (others' changes, own acknowledged
 * ones), so the order of this device's edits and the last-writer-wins
 * outcome against what it had seen are kept; field clocks that pointed at an
 * old stamp follow, and the book's saved clock is lowered to the last new
 * stamp. Change ids are unchanged. This connection takes the lowered clock
 * at once, other open connections at their next transaction
 * (recoup_book_reload_clock()). */
gboolean   recoup_merge_restamp_unsent   (RecoupBook        *book,
                                          guint             *out_restamped,
                                          GError           **error);

/* Accounts with something open for review (recoup-review.h: open items or a
 * legacy review_flag, e.g. incompatible offer transitions merged from two
 * devices), by reference, at most @limit (0: all): an array of {id, ref,
 * name, flag}, flag being the open items in the reader's words. */
JsonArray *recoup_merge_list_review      (RecoupBook        *book,
                                          guint              limit,
                                          GError           **error);

/* The account and the people behind a refusal or a lost edit, added to the
 * objects recoup_merge_list_rejections() and _conflicts() return. */
gboolean recoup_merge_describe_rejection (RecoupBook  *book,
                                          JsonObject  *rejection,
                                          GError     **error);
gboolean recoup_merge_describe_conflict  (RecoupBook  *book,
                                          JsonObject  *conflict,
                                          GError     **error);

G_END_DECLS
