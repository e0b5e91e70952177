/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "recoup-sync-status.h"

G_BEGIN_DECLS

/*
 * The Sync page of Preferences: connect the book to a server by pasting an
 * enrollment code (the server's address and certificate fingerprint are
 * shown, decoded from the code, before the user connects), or, once
 * connected, the server, the user, the fingerprint and Sync Now.
 * A code that cannot take this book (RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK) is
 * explained in place of Connect, with Join in a New Book as the way out.
 * A connected book whose device the server no longer knows (revoked, or its
 * user removed: recoup_sync_status_needs_enrollment()) shows the server's
 * words and the code form first, to enroll the same book again; any
 * connected book offers that form, less prominently, with Enroll Again….
 * Widgets tests reach by name: enroll-code, enroll-server, enroll-fingerprint,
 * enroll-connect, enroll-cancel, enroll-join-new, enroll-joined, enroll-error,
 * sync-server, sync-revoked, sync-enroll-again.
 */
GtkWidget *recoup_sync_page_new (RecoupSyncStatus *status);

G_END_DECLS
