/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-merge.h"

G_BEGIN_DECLS

/*
 * The merge's own view of a change, read straight from the wire text by
 * recoup-merge-wire.c (or from a JsonObject for the public JsonObject API):
 * strings point into a buffer the batch owns, so a batch of thousands of
 * changes costs a few allocations instead of a JSON tree per change.
 */

typedef enum
{
  MV_ABSENT = 0,
  MV_NULL,
  MV_INT,
  MV_BOOL,
  MV_STRING,
  MV_DOUBLE,
  MV_OBJECT,
  MV_ARRAY,
} MValueKind;

typedef struct
{
  MValueKind  kind;
  gint64      i;      /* MV_INT, MV_BOOL (0/1) */
  const char *s;      /* MV_STRING: NUL-terminated, valid UTF-8 */
} MValue;

typedef struct
{
  const char *name;
  MValue      v;
} MField;

typedef struct
{
  gboolean    is_object;       /* the array element was an object */
  MValue      id, hlc, device_id, user_id, entity, entity_id, op, schema_version, seq;
  /* Pushed: the server sequence its device had received up to when it sent
   * it (a push body's "cursor", for each of its changes). */
  MValue      cursor;
  MValueKind  fields_kind;     /* MV_OBJECT when "fields" is an object */
  guint       first_field;     /* index into the batch's fields (while parsing) */
  guint       n_fields;
  MField     *fields;          /* resolved once parsing is done */
  /* Pulled: the fields whose value the change replaced although its writer
   * had not seen it ("overwrote_unseen"), as the server found when it came. */
  guint       first_overwrote; /* index into the batch's overwrote (while parsing) */
  guint       n_overwrote;
  const char **overwrote;      /* resolved once parsing is done */
} MChange;

typedef struct
{
  gboolean    is_object;
  MValue      id, status, seq, reason, message;
  /* A refusal that leaves one field as the server has it: the field, its
   * value there and that value's clock (recoup_merge_kept_members()). */
  MValue      field, kept, kept_hlc, kept_device_id;
} MResult;

struct _RecoupChangeBatch
{
  char      *buf;              /* the mutable copy the strings point into */
  GArray    *changes;          /* MChange */
  GArray    *fields;           /* MField */
  GArray    *results;          /* MResult */
  GArray    *overwrote;        /* const char *: the changes' overwrote_unseen names */
  MValue     cursor;           /* a push body's "cursor" */
  gboolean   has_changes;      /* a "changes" array was there */
  gboolean   has_results;      /* a "results" array was there */
  gboolean   has_more;
  gint64     latest_seq;
};

MChange   *recoup_change_batch_get_change (RecoupChangeBatch *batch,
                                           guint              index);

/* Appends @s as a JSON string (quoted, escaped). */
void       recoup_json_append_string      (GString           *out,
                                           const char        *s);
/* Appends a scalar value as JSON (null, integer, boolean or string). */
void       recoup_json_append_value       (GString           *out,
                                           const MValue      *v);
/* The change's fields as a compact JSON object text. */
char      *recoup_merge_fields_to_json    (const MChange     *change);

/* recoup_merge_check_assignee(), also saying why a change was refused:
 * *@out_reason is RECOUP_MERGE_REASON_USER_REMOVED or
 * RECOUP_MERGE_REASON_ASSIGNEE_ROLE when it returns FALSE with
 * RECOUP_BOOK_ERROR_DENIED. */
gboolean   recoup_merge_check_assignee_reason (RecoupBook         *book,
                                               RecoupChangeBatch  *batch,
                                               guint               index,
                                               const char        **out_reason,
                                               GError            **error);

G_END_DECLS
