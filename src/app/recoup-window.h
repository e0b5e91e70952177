/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "recoup-report.h"
#include "recoup-session.h"
#include "recoup-worklist-model.h"

G_BEGIN_DECLS

#define RECOUP_TYPE_WINDOW (recoup_window_get_type ())
G_DECLARE_FINAL_TYPE (RecoupWindow, recoup_window, RECOUP, WINDOW, AdwApplicationWindow)

RecoupWindow        *recoup_window_new                 (AdwApplication *application,
                                                        RecoupSession  *session,
                                                        RecoupWorklistModel *model);
RecoupSession       *recoup_window_get_session         (RecoupWindow   *self);
RecoupWorklistModel *recoup_window_get_model           (RecoupWindow   *self);
GtkListView         *recoup_window_get_list_view       (RecoupWindow   *self);
void                 recoup_window_select_position     (RecoupWindow   *self,
                                                        guint           position);
guint               recoup_window_get_selected_position (RecoupWindow *self);
const char          *recoup_window_get_account_id      (RecoupWindow   *self);
RecoupAccountData   *recoup_window_get_account_data    (RecoupWindow   *self);
GtkWindow           *recoup_window_get_dialog          (RecoupWindow   *self);
guint                recoup_window_get_n_loads         (RecoupWindow   *self);
const char          *recoup_window_get_last_error      (RecoupWindow   *self);
const char          *recoup_window_get_last_toast      (RecoupWindow   *self);
void                 recoup_window_show_error          (RecoupWindow   *self,
                                                        const GError   *error);
/* Imports a CSV file with a progress window (what Import… does after the
 * file chooser); the outcome shows as a toast or an error dialog. */
void                 recoup_window_import_file         (RecoupWindow   *self,
                                                        const char     *path);
guint                recoup_window_get_n_imports       (RecoupWindow   *self);
/* Writes the shown account's statement (what Export Statement… does after
 * the file chooser); the outcome shows as a toast or an error. */
gboolean             recoup_window_export_statement    (RecoupWindow   *self,
                                                        const char     *from,
                                                        const char     *to,
                                                        RecoupReportFormat format,
                                                        const char     *path);
gboolean             recoup_window_is_exporting        (RecoupWindow   *self);
guint                recoup_window_get_n_statements    (RecoupWindow   *self);
void                 recoup_window_toast               (RecoupWindow   *self,
                                                        const char     *message);

G_END_DECLS
