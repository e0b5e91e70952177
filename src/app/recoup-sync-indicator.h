/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-window.h"
#include "recoup-sync-status.h"

G_BEGIN_DECLS

/*
 * Sync in the main window: a RecoupSyncStatus for the window's book, the
 * status button at the start of the worklist's header bar (a popover with
 * the details), the actions win.sync (Ctrl+Shift+S) and win.connect-server
 * (Preferences on the Sync page). Called once by recoup_window_new().
 */
void       recoup_sync_indicator_attach    (RecoupWindow     *window);

/* The indicator's one-line summary of @status (its tooltip). */
char      *recoup_sync_describe_state      (RecoupSyncStatus *status);

G_END_DECLS
