/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * RecoupBookError:
 * @RECOUP_BOOK_ERROR_SQLITE: SQLite failed; the message carries its code and text
 * @RECOUP_BOOK_ERROR_NEWER_SCHEMA: the book was written by a newer Recoup
 * @RECOUP_BOOK_ERROR_NOT_A_BOOK: the file is not a Recoup book
 * @RECOUP_BOOK_ERROR_NOT_FOUND: an account, invoice or entry that does not exist
 * @RECOUP_BOOK_ERROR_INVALID: a value that breaks a rule (the message says which)
 * @RECOUP_BOOK_ERROR_CONFLICT: a natural key already taken, a state that forbids the change
 * @RECOUP_BOOK_ERROR_DENIED: the current user's role or limits forbid the change
 * @RECOUP_BOOK_ERROR_BLOCKED: the compliance guard blocks the contact
 * @RECOUP_BOOK_ERROR_BUSY: another program is writing the book (an import, another Recoup)
 *   for longer than a write waits; try again when it has finished
 */
typedef enum
{
  RECOUP_BOOK_ERROR_SQLITE,
  RECOUP_BOOK_ERROR_NEWER_SCHEMA,
  RECOUP_BOOK_ERROR_NOT_A_BOOK,
  RECOUP_BOOK_ERROR_NOT_FOUND,
  RECOUP_BOOK_ERROR_INVALID,
  RECOUP_BOOK_ERROR_CONFLICT,
  RECOUP_BOOK_ERROR_DENIED,
  RECOUP_BOOK_ERROR_BLOCKED,
  RECOUP_BOOK_ERROR_BUSY,
} RecoupBookError;

#define RECOUP_BOOK_ERROR (recoup_book_error_quark ())
GQuark recoup_book_error_quark (void);

/* The schema this build writes. Books with a higher user_version are refused. */
#define RECOUP_SCHEMA_VERSION 12

/* The schema of the synced tables: what a change's schema_version and the
 * sync protocol's Recoup-Schema header name. It moves only with a migration
 * that changes a synced table; one that adds local, derived tables (8: the
 * search index) leaves it, so devices a version apart still sync. 8: shared
 * settings are a synced entity; an earlier device is told it is too old
 * rather than stopping at an entity it does not know. 9: ledger entries
 * carry waives_id, which an earlier copy would refuse as an unknown field
 * for good; it is told instead that the change is too new (kept and sent
 * again), and pulls are refused until it is updated. */
#define RECOUP_SYNC_SCHEMA_VERSION 9

/* What a change is stamped with unless it carries a field a later sync
 * schema added (recoup-book.c, late_columns: waives_id, 9, sent only when
 * set): a device a release ahead of its server still syncs everything the
 * server knows how to take. */
#define RECOUP_SYNC_SCHEMA_BASE 8

typedef enum
{
  RECOUP_BOOK_OPEN_DEFAULT   = 0,
  RECOUP_BOOK_OPEN_READ_ONLY = 1 << 0,
  RECOUP_BOOK_OPEN_NO_CREATE = 1 << 1,
  /* Laptops lose power: FULL is the default. NORMAL is for servers and benchmarks
   * that say so. */
  RECOUP_BOOK_OPEN_SYNC_NORMAL = 1 << 2,
} RecoupBookOpenFlags;

/* Long operations report progress through this; cancel them with a GCancellable. */
typedef void (*RecoupProgressFunc) (guint64  done,
                                    guint64  total,
                                    gpointer user_data);

#define RECOUP_TYPE_BOOK (recoup_book_get_type ())
G_DECLARE_FINAL_TYPE (RecoupBook, recoup_book, RECOUP, BOOK, GObject)

gboolean     recoup_book_path_is_vacant   (const char           *path);
RecoupBook  *recoup_book_open             (const char           *path,
                                           RecoupBookOpenFlags   flags,
                                           GError              **error);
const char  *recoup_book_get_path         (RecoupBook           *self);
const char  *recoup_book_get_device_id    (RecoupBook           *self);
const char  *recoup_book_get_user_id      (RecoupBook           *self);
gboolean     recoup_book_set_user         (RecoupBook           *self,
                                           const char           *user_id,
                                           GError              **error);
int          recoup_book_get_schema_version (RecoupBook         *self);
void         recoup_book_reload_clock     (RecoupBook           *self);

char        *recoup_book_get_setting      (RecoupBook           *self,
                                           const char           *key);
gboolean     recoup_book_set_setting      (RecoupBook           *self,
                                           const char           *key,
                                           const char           *value,
                                           GError              **error);

/* The day the book treats as today (YYYY-MM-DD, local); RECOUP_TODAY overrides it
 * so tests and demos are reproducible. */
char        *recoup_book_today            (RecoupBook           *self);

gboolean     recoup_book_begin            (RecoupBook           *self,
                                           GError              **error);
gboolean     recoup_book_commit           (RecoupBook           *self,
                                           GError              **error);
void         recoup_book_rollback         (RecoupBook           *self);

gint64       recoup_book_count_changes    (RecoupBook           *self);
gboolean     recoup_book_check_integrity  (RecoupBook           *self,
                                           GError              **error);

char        *recoup_default_book_path     (void);


G_END_DECLS
