/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-window.h"

G_BEGIN_DECLS

/* Enables win.approvals when the session's user is an owner (asked in the
 * session's worker). */
void recoup_approvals_update_action (RecoupWindow *window);

G_END_DECLS
