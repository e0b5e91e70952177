/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-window.h"
#include "recoup-allocation.h"
#include "recoup-export.h"

G_BEGIN_DECLS

struct _RecoupWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar;
  GtkWidget            *content;
  AdwWindowTitle       *list_title;
  GtkSearchEntry       *search_entry;
  GtkRevealer          *update_revealer;
  GtkProgressBar       *update_bar;
  GtkStack             *list_stack;
  AdwStatusPage        *empty_page;
  GtkWidget            *search_all_button;
  /* The filters "Search All Accounts" lifted for the search: put back when
   * the search is cleared. */
  gboolean              lifted_open_only;
  gboolean              lifted_callable_now;
  GtkListView          *list_view;
  AdwWindowTitle       *account_title;
  GtkStack             *account_stack;
  GtkScrolledWindow    *account_scroller;
  GtkBox               *account_box;

  /* Owned */
  RecoupSession        *session;
  RecoupWorklistModel  *model;
  GtkSingleSelection   *selection;
  GCancellable         *cancellable;
  GCancellable         *load_cancellable;
  GSettings            *settings;
  RecoupAccountData    *data;
  char                 *account_id;
  char                 *shown_account_id;  /* the account the page shows, to keep its scroll position on reload */
  guint                 account_generation; /* the list's generation when the account was last asked for */
  GtkWindow            *dialog;       /* the open dialog, weak */
  char                 *last_error;
  char                 *last_toast;
  guint                 n_loads;
  guint                 n_imports;
  RecoupAllocation     *last_allocation;          /* of the payment just recorded */
  RecoupExportJob      *statement_job;            /* a statement being written */
  guint                 n_statements;
  char                 *last_allocation_account;
};

/* recoup-window.c */
RecoupAccountItem *recoup_window_reselect_row (RecoupWindow *self);
void               recoup_window_toast_undo   (RecoupWindow *self,
                                               const char   *message,
                                               const char   *action_name,
                                               GVariant     *target);
void               recoup_window_restore_row  (RecoupWindow *self,
                                               gint64        balance);

/* recoup-window-account.c */
void recoup_window_build_account   (RecoupWindow *self);
void recoup_window_reload_account  (RecoupWindow *self);
void recoup_window_opt_out_contact (RecoupWindow *self,
                                    const char   *contact_id);
void recoup_window_undo_opt_out    (RecoupWindow *self,
                                    const char   *contact_id);

/* recoup-account-editor.c */
void recoup_window_edit_account    (RecoupWindow *self);

/* recoup-approvals.c */
void recoup_window_show_approvals  (RecoupWindow *self);

/* recoup-window-dialogs.c */
void recoup_window_log_contact     (RecoupWindow *self);
void recoup_window_record_payment  (RecoupWindow *self);
void recoup_window_reverse_entry   (RecoupWindow *self,
                                    const char   *entry_id);
void recoup_window_import          (RecoupWindow *self);
void recoup_window_make_offer      (RecoupWindow *self);
void recoup_window_open_dispute    (RecoupWindow *self);
void recoup_window_statement       (RecoupWindow *self);
void recoup_window_offer_event     (RecoupWindow *self,
                                    const char   *offer_id,
                                    const char   *event_name);
/* Asks for the debtor's consent first. Opting out is
 * recoup_window_opt_out_contact(). */
void recoup_window_opt_in_contact  (RecoupWindow *self,
                                    const char   *contact_id);
void recoup_window_mark_reviewed   (RecoupWindow *self);
void recoup_window_resolve_dispute (RecoupWindow *self,
                                    const char   *dispute_id);
void recoup_dialog_keep_input      (GtkWindow    *dialog);
void recoup_dialog_set_heading     (GtkWindow    *dialog,
                                    AdwHeaderBar *header,
                                    const char   *heading,
                                    const char   *account_name);
void recoup_dialog_mark_changed    (GtkWindow    *dialog);
void recoup_window_open_uri        (RecoupWindow *self,
                                    const char   *uri);

G_END_DECLS
