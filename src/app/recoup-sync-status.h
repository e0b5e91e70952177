/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "recoup-session.h"

G_BEGIN_DECLS

/**
 * RecoupSyncState:
 * @RECOUP_SYNC_STATE_NOT_CONNECTED: the book is not enrolled with a server
 * @RECOUP_SYNC_STATE_SYNCED: nothing waits to be sent
 * @RECOUP_SYNC_STATE_PENDING: local changes wait for the next sync
 * @RECOUP_SYNC_STATE_SYNCING: a sync runs now
 * @RECOUP_SYNC_STATE_OFFLINE: no network, or the last sync could not reach
 *   the server (recoup_sync_status_get_error() says why); changes wait. The
 *   last sync may be one an earlier run of the app or `recoup-cli sync` did:
 *   the book keeps how it failed (recoup_sync_get_last_error_kind()).
 * @RECOUP_SYNC_STATE_ERROR: the last sync failed otherwise, in a way the
 *   user must see to (a refused token, another certificate, the server
 *   refusing the request); see the error text
 */
typedef enum
{
  RECOUP_SYNC_STATE_NOT_CONNECTED,
  RECOUP_SYNC_STATE_SYNCED,
  RECOUP_SYNC_STATE_PENDING,
  RECOUP_SYNC_STATE_SYNCING,
  RECOUP_SYNC_STATE_OFFLINE,
  RECOUP_SYNC_STATE_ERROR,
} RecoupSyncState;

/*
 * The window's sync: runs librecoup-sync on worker threads with a book
 * connection of its own (never on the main loop), when a network is there
 * (GNetworkMonitor), on a timer and on demand, and keeps what the status
 * indicator and the preferences page show. Emits "changed" whenever any of
 * it changes and "synced" (with the number of changes received) after a
 * successful run.
 */
#define RECOUP_TYPE_SYNC_STATUS (recoup_sync_status_get_type ())
G_DECLARE_FINAL_TYPE (RecoupSyncStatus, recoup_sync_status, RECOUP, SYNC_STATUS, GObject)

RecoupSyncStatus *recoup_sync_status_new              (RecoupSession        *session);
/* The status a window carries (set by recoup_sync_indicator_attach), or NULL. */
RecoupSyncStatus *recoup_sync_status_get_for_window   (GtkWindow            *window);
/* Stops timers and cancels work; called when the window goes away. */
void              recoup_sync_status_shutdown         (RecoupSyncStatus     *self);

RecoupSyncState   recoup_sync_status_get_state        (RecoupSyncStatus     *self);
gboolean          recoup_sync_status_is_enrolled      (RecoupSyncStatus     *self);
/* The last sync failed because the server no longer knows this device
 * (RECOUP_SYNC_ERROR_UNAUTHORIZED: it was revoked, or its user removed;
 * recoup_sync_status_get_error() has the server's words): only a new code
 * enrolling the book again (recoup_sync_status_enroll_async()) lets it sync. */
gboolean          recoup_sync_status_needs_enrollment (RecoupSyncStatus     *self);
gint64            recoup_sync_status_get_n_pending    (RecoupSyncStatus     *self);
/* Milliseconds since 1970 of the last successful sync, 0 if never. */
gint64            recoup_sync_status_get_last_sync    (RecoupSyncStatus     *self);
/* Why the last sync failed (also when it could not reach the server), or NULL. */
const char       *recoup_sync_status_get_error        (RecoupSyncStatus     *self);
const char       *recoup_sync_status_get_url          (RecoupSyncStatus     *self);
const char       *recoup_sync_status_get_fingerprint  (RecoupSyncStatus     *self);
const char       *recoup_sync_status_get_user_name    (RecoupSyncStatus     *self);
const char       *recoup_sync_status_get_role         (RecoupSyncStatus     *self);
/* The file of the book this status is of. */
const char       *recoup_sync_status_get_book_path    (RecoupSyncStatus     *self);
/* How many of the newest refusals and conflicts carry the names below. */
#define RECOUP_SYNC_STATUS_N_DESCRIBED 5

/* recoup_merge_list_rejections / recoup_merge_list_conflicts as last read.
 * The first RECOUP_SYNC_STATUS_N_DESCRIBED of each also name what the book
 * knows of them: a refusal its change's entity, entity_id, op and (ledger
 * entries) kind; both the account_id, account_ref and account_name of the
 * row; a conflict the winner_name of who wrote the edit that won and, for
 * a lost collector (assigned_to), their value_name. */
JsonArray        *recoup_sync_status_get_rejections   (RecoupSyncStatus     *self);
JsonArray        *recoup_sync_status_get_conflicts    (RecoupSyncStatus     *self);
/* Accounts flagged for review (their review_flag is set): [{id, ref, name, flag}]. */
JsonArray        *recoup_sync_status_get_review       (RecoupSyncStatus     *self);
guint             recoup_sync_status_get_n_runs       (RecoupSyncStatus     *self);

/* Starts a sync now unless one runs or the book is not enrolled. */
void              recoup_sync_status_sync             (RecoupSyncStatus     *self);
/* Re-reads the pending count and the logs (after a local write). */
void              recoup_sync_status_refresh          (RecoupSyncStatus     *self);

/* Redeems an enrollment code and connects the book (worker thread), then
 * syncs. A book enrolled already takes a code of its own team only
 * (recoup_sync_enroll_book()), and is enrolled again with it. */
void              recoup_sync_status_enroll_async     (RecoupSyncStatus     *self,
                                                       const char           *code,
                                                       const char           *device_name,
                                                       GCancellable         *cancellable,
                                                       GAsyncReadyCallback   callback,
                                                       gpointer              user_data);
gboolean          recoup_sync_status_enroll_finish    (RecoupSyncStatus     *self,
                                                       GAsyncResult         *result,
                                                       GError              **error);
/* The way out when enrolling refused the code for this book
 * (RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK): enrolls a new book file beside this
 * one (never over an existing file), makes it a copy of the team's book and
 * connects it (worker thread). This book and this status are left as they
 * are. Finishes with the new book's path. */
void              recoup_sync_status_join_new_book_async  (RecoupSyncStatus     *self,
                                                           const char           *code,
                                                           const char           *device_name,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
char             *recoup_sync_status_join_new_book_finish (RecoupSyncStatus     *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

G_END_DECLS
