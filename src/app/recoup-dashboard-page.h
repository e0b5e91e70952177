/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "recoup-session.h"

G_BEGIN_DECLS

#define RECOUP_TYPE_DASHBOARD_PAGE (recoup_dashboard_page_get_type ())
G_DECLARE_FINAL_TYPE (RecoupDashboardPage, recoup_dashboard_page, RECOUP, DASHBOARD_PAGE, GtkBox)

/* KPI tiles for the month so far, the aging of the book, and the last six
 * months' collections and CEI, read in the session's worker thread. */
GtkWidget *recoup_dashboard_page_new    (RecoupSession       *session);
void       recoup_dashboard_page_reload (RecoupDashboardPage *self);

G_END_DECLS
