/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <sqlite3.h>

#include "recoup-book.h"

G_BEGIN_DECLS

typedef enum
{
  RECOUP_CHANGE_INSERT,
  RECOUP_CHANGE_SET,
  RECOUP_CHANGE_TOMBSTONE,
} RecoupChangeOp;

sqlite3       *recoup_book_get_db          (RecoupBook      *self);
sqlite3_stmt  *recoup_book_prepare         (RecoupBook      *self,
                                            const char      *sql,
                                            GError         **error);
gboolean       recoup_book_exec            (RecoupBook      *self,
                                            const char      *sql,
                                            GError         **error);
gboolean       recoup_book_step_done       (RecoupBook      *self,
                                            sqlite3_stmt    *stmt,
                                            GError         **error);
gboolean       recoup_book_set_sqlite_error (RecoupBook     *self,
                                            GError         **error);
gint64         recoup_book_stamp           (RecoupBook      *self);
void           recoup_book_observe_hlc     (RecoupBook      *self,
                                            gint64           remote);
gboolean       recoup_book_record_change   (RecoupBook      *self,
                                            const char      *table,
                                            const char      *entity_id,
                                            RecoupChangeOp   op,
                                            const char * const *fields,
                                            GError         **error);
char          *recoup_book_row_fields      (RecoupBook      *self,
                                            const char      *table,
                                            const char      *entity_id,
                                            GError         **error);
gboolean       recoup_book_in_transaction  (RecoupBook      *self);
void           recoup_book_set_bulk        (RecoupBook      *self,
                                            gboolean         bulk);
gboolean       recoup_book_begin_rollback_journal (RecoupBook *self);
void           recoup_book_end_rollback_journal   (RecoupBook *self);
void           recoup_book_touch_account   (RecoupBook      *self,
                                            const char      *account_id);
gboolean       recoup_book_write_as_system (RecoupBook      *self,
                                            GError         **error);

/* Defined in recoup-derived.c: refreshes what is derived per account (scores,
 * segments) for the accounts a transaction touched, before it commits. */
gboolean       recoup_book_refresh_accounts (RecoupBook     *self,
                                             GHashTable     *account_ids,
                                             GError        **error);

/* The instant a row records as when it happened (created_at, a dispute's
 * opened_at): the wall clock, unless pinned. The hybrid logical clock that
 * stamps changes never reads it. */
gint64         recoup_book_now_ms          (RecoupBook      *self);
/* Pins recoup_book_now_ms() to @now_ms, or back to the wall clock with 0: for
 * a writer of past events (the demo generator's history). */
void           recoup_book_pin_now         (RecoupBook      *self,
                                            gint64           now_ms);

#define RECOUP_BOOK_STMT_TEXT(stmt, col) ((const char *) sqlite3_column_text ((stmt), (col)))

/* The position of @text in a table of @n names (a NULL entry ends it early):
 * the one lookup behind every *_from_string () of a name table. */
static inline gboolean
recoup_name_index (const char * const *names,
                   guint               n,
                   const char         *text,
                   guint              *out_index)
{
  for (guint i = 0; i < n && names[i] != NULL; i++)
    if (g_strcmp0 (text, names[i]) == 0)
      {
        *out_index = i;
        return TRUE;
      }
  return FALSE;
}

G_END_DECLS
