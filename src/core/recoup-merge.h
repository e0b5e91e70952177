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

typedef struct
{
  RecoupMergeStatus status;
  gint64            seq;        /* local seq of the stored change (applied or duplicate) */
  gint64            server_seq; /* its server seq, 0 if unknown */
  char             *reason;     /* rejection code, NULL otherwise */
  char             *message;    /* readable rejection text, NULL otherwise */
} RecoupMergeResult;

void       recoup_merge_result_clear     (RecoupMergeResult *result);

/* Applies one change in its own savepoint (a rejection changes nothing).
 * Returns FALSE only when the book itself failed (SQLite error); a rejected
 * change is a TRUE return with status REJECTED. @server_seq: 0 for none,
 * RECOUP_MERGE_SEQ_SELF, or the server's sequence number. */
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

/* Stores the server's answer to a pushed change: accepted with its sequence
 * (@reason NULL), or rejected with a reason. Rejections other than
 * schema_too_new stop the change from being resent; it stays in the log. */
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

/* Re-stamps this device's unacknowledged changes, oldest first, with fresh
 * clock values: what a client does after the server refused changes as
 * `clock_ahead` (stamped while the device's clock ran ahead) once the clock
 * is right again. The new stamps start above the wall clock now and above
 * every change that is not re-stamped (others' changes, own acknowledged
 * ones), so the order of this device's edits and the last-writer-wins
 * outcome against what it had seen are kept; field clocks that pointed at an
 * old stamp follow, and the book's saved clock is lowered to the last new
 * stamp. Change ids are unchanged. Other open connections keep their
 * in-memory clock until they are reopened. */
gboolean   recoup_merge_restamp_unsent   (RecoupBook        *book,
                                          guint             *out_restamped,
                                          GError           **error);

/* Accounts flagged for review (review_flag set, e.g. by incompatible offer
 * transitions merged from two devices), by reference, at most @limit (0:
 * all): an array of {id, ref, name, flag}. */
JsonArray *recoup_merge_list_review      (RecoupBook        *book,
                                          guint              limit,
                                          GError           **error);

G_END_DECLS
