/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "recoup-session.h"

G_BEGIN_DECLS

/*
 * Today's reminder run (issue 8): who gets which template and why, what the
 * compliance guard holds back and why; rows can be unticked and any message
 * previewed; one button generates the letters (into a folder chosen with the
 * file chooser) and queues the emails, with progress. A second page shows the
 * outbox (queued, sending, sent, failed, uncertain, with the reasons) with
 * Retry and Send Now.
 */
#define RECOUP_TYPE_REMIND_WINDOW (recoup_remind_window_get_type ())
G_DECLARE_FINAL_TYPE (RecoupRemindWindow, recoup_remind_window, RECOUP, REMIND_WINDOW, AdwWindow)

GtkWidget       *recoup_remind_window_new             (GtkWindow          *parent,
                                                       RecoupSession      *session);
/* Proposes the run again and reloads the outbox. */
void             recoup_remind_window_reload          (RecoupRemindWindow *self);
gboolean         recoup_remind_window_is_busy         (RecoupRemindWindow *self);
/* Borrowed; NULL until the first proposal is in. */
RecoupRemindRun *recoup_remind_window_get_run         (RecoupRemindWindow *self);
/* Ticks or unticks the row of account @ref (as the check box does); FALSE
 * when @ref is not in the run or is held back. */
gboolean         recoup_remind_window_set_selected    (RecoupRemindWindow *self,
                                                       const char         *ref,
                                                       gboolean            selected);
/* NULL: the book's default (setting letters.dir, else letters/ beside it). */
void             recoup_remind_window_set_letters_dir (RecoupRemindWindow *self,
                                                       const char         *dir);
/* Starts the run with the ticked rows (what the button does once a folder is
 * chosen); FALSE when busy or nothing is proposed. */
gboolean         recoup_remind_window_execute         (RecoupRemindWindow *self);
guint            recoup_remind_window_get_n_executed  (RecoupRemindWindow *self);
/* Renders row @ref's message into the preview. */
gboolean         recoup_remind_window_preview         (RecoupRemindWindow *self,
                                                       const char         *ref);
char            *recoup_remind_window_get_preview_text (RecoupRemindWindow *self);
/* What a row's Retry button does: failed or uncertain -> queued, then the
 * outbox is read again. */
gboolean         recoup_remind_window_retry           (RecoupRemindWindow *self,
                                                       const char         *message_id);
guint            recoup_remind_window_get_n_outbox    (RecoupRemindWindow *self);
const char      *recoup_remind_window_get_last_error  (RecoupRemindWindow *self);

G_END_DECLS
