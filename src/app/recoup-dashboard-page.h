/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "recoup-export.h"
#include "recoup-session.h"

G_BEGIN_DECLS

#define RECOUP_TYPE_DASHBOARD_PAGE (recoup_dashboard_page_get_type ())
G_DECLARE_FINAL_TYPE (RecoupDashboardPage, recoup_dashboard_page, RECOUP, DASHBOARD_PAGE, GtkBox)

/* KPI tiles for a period (this month by default; last month, this quarter or
 * a custom from-to), the aging of the book at its end, and the six months'
 * collections and CEI up to it, read in the session's worker thread.
 * Actions: dashboard.export::aging|payments|statements (a file chooser, then
 * an export with progress and Cancel), dashboard.print. */
GtkWidget  *recoup_dashboard_page_new    (RecoupSession       *session);
void        recoup_dashboard_page_reload (RecoupDashboardPage *self);
gboolean    recoup_dashboard_page_is_loaded (RecoupDashboardPage *self);
/* The period shown: returns from, sets @out_to. NULL before the first load. */
const char *recoup_dashboard_page_get_period (RecoupDashboardPage *self,
                                              const char         **out_to);
/* Validates, then shows [from, to]; FALSE (and nothing changes) on a bad period. */
gboolean    recoup_dashboard_page_set_custom_period (RecoupDashboardPage  *self,
                                                     const char           *from,
                                                     const char           *to,
                                                     GError              **error);

/* What the file chooser's answer starts: an export of the shown period to
 * @path in the worker, with progress. FALSE when one is already running or
 * nothing is loaded yet. */
gboolean    recoup_dashboard_page_export (RecoupDashboardPage *self,
                                          RecoupExportKind     kind,
                                          RecoupReportFormat   format,
                                          const char          *path);
gboolean    recoup_dashboard_page_is_exporting  (RecoupDashboardPage *self);
guint       recoup_dashboard_page_get_n_exports (RecoupDashboardPage *self);
const char *recoup_dashboard_page_get_last_error (RecoupDashboardPage *self);
/* The printout (the print operation's draw-page) exported to a PDF file. */
gboolean    recoup_dashboard_page_print_to_pdf (RecoupDashboardPage  *self,
                                                const char           *path,
                                                GError              **error);

G_END_DECLS
