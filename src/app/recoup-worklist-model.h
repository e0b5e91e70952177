/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "recoup-core.h"

G_BEGIN_DECLS

/* One account row in the worklist; filled in when its page arrives. */
#define RECOUP_TYPE_ACCOUNT_ITEM (recoup_account_item_get_type ())
G_DECLARE_FINAL_TYPE (RecoupAccountItem, recoup_account_item, RECOUP, ACCOUNT_ITEM, GObject)

const char *recoup_account_item_get_id       (RecoupAccountItem *self);
const char *recoup_account_item_get_name     (RecoupAccountItem *self);
gboolean    recoup_account_item_get_loaded   (RecoupAccountItem *self);
void        recoup_account_item_set_balance  (RecoupAccountItem *self,
                                              gint64             balance);
void        recoup_account_item_refresh      (RecoupAccountItem    *self,
                                              gint64                balance,
                                              int                   days_past_due,
                                              const char           *segment,
                                              const RecoupNextStep *next_step,
                                              gboolean              cease_communication,
                                              gboolean              call_blocked,
                                              const char           *call_reason);

/*
 * A GListModel over the book's accounts that reads pages of rows on demand in
 * worker threads, on its own connection to the book. n_items comes from a
 * count; a million accounts never load at once.
 */
#define RECOUP_TYPE_WORKLIST_MODEL (recoup_worklist_model_get_type ())
G_DECLARE_FINAL_TYPE (RecoupWorklistModel, recoup_worklist_model, RECOUP, WORKLIST_MODEL, GObject)

#define RECOUP_WORKLIST_PAGE_SIZE 200

RecoupWorklistModel *recoup_worklist_model_new         (const char          *book_path,
                                                        GError             **error);
void                 recoup_worklist_model_set_search  (RecoupWorklistModel *self,
                                                        const char          *search);
void                 recoup_worklist_model_set_open_only (RecoupWorklistModel *self,
                                                        gboolean             open_only);
void                 recoup_worklist_model_set_callable_now (RecoupWorklistModel *self,
                                                        gboolean             callable_now);
gboolean             recoup_worklist_model_get_callable_now (RecoupWorklistModel *self);
void                 recoup_worklist_model_check_hours (RecoupWorklistModel *self);
gint64               recoup_worklist_model_get_hours_opens_at (RecoupWorklistModel *self);
void                 recoup_worklist_model_reload      (RecoupWorklistModel *self);
gboolean             recoup_worklist_model_is_loading  (RecoupWorklistModel *self);
/* Whether the ranks of another day are shown while today's are computed. */
gboolean             recoup_worklist_model_is_updating (RecoupWorklistModel *self);
gboolean             recoup_worklist_model_is_counting (RecoupWorklistModel *self);
void                 recoup_worklist_model_stop_update (RecoupWorklistModel *self);
char                *recoup_worklist_model_take_update_error (RecoupWorklistModel *self);
void                 recoup_worklist_model_update_ranks (RecoupWorklistModel *self);
gboolean             recoup_worklist_model_is_position_loaded (RecoupWorklistModel *self,
                                                        guint                position);
guint                recoup_worklist_model_get_pages_loaded (RecoupWorklistModel *self);
guint                recoup_worklist_model_get_generation (RecoupWorklistModel *self);

G_END_DECLS
