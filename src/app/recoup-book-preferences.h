/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "recoup-session.h"

G_BEGIN_DECLS

/* Adds, when @parent is a RecoupWindow, the book's policy page (scoring weights, compliance profile and, for
 * owners, authority limits) to a preferences window. It is read and written
 * in the session's worker. */
void     recoup_book_preferences_add       (AdwPreferencesWindow *window,
                                            GtkWindow            *parent);
/* For tests: the number of policy writes done (succeeded or failed), and
 * whether the page has been filled in from the book. */
guint    recoup_book_preferences_get_n_done (AdwPreferencesWindow *window);
gboolean recoup_book_preferences_is_loaded  (AdwPreferencesWindow *window);

G_END_DECLS
