/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "recoup-core.h"
#include "recoup-guard.h"
#include "recoup-score.h"
#include "recoup-promise.h"
#include "recoup-offer.h"
#include "recoup-dispute.h"

G_BEGIN_DECLS

/* Everything the account page shows, read in one go in a worker thread. */
typedef struct
{
  RecoupAccount  *account;
  GPtrArray      *contacts;     /* RecoupContactPoint */
  GPtrArray      *invoices;     /* RecoupInvoiceBalance */
  GPtrArray      *ledger;       /* RecoupLedgerEntry */
  GPtrArray      *activities;   /* RecoupActivity, newest first */
  RecoupAgingRow  aging;
  gint64          owed;         /* the balance over every entry, what offers and promises are held to */
  gint64          offer_first_date_tolerance; /* the book's setting, for the offer dialog's checks */
  char           *today;
  char           *payment_date_floor; /* the earliest date a payment here may have (recoup-ledger.h) */
  /* The zone the guard keeps the debtor's hours in (the account's, else the
   * business's): activity times and "allowed again from" are read in it.
   * Owned by core's cache. */
  GTimeZone      *zone;
  /* The guard's verdict now, per channel of recoup_guard_channels. */
  RecoupGuardVerdict *verdicts[8];
  RecoupScoreExplanation *score;
  RecoupNextStep *next_step;    /* the score's next action as the guard lets it be taken now, or NULL */
  GPtrArray      *promises;     /* RecoupPromise, or NULL */
  GPtrArray      *offers;       /* RecoupOffer, or NULL */
  GPtrArray      *disputes;     /* RecoupDispute, or NULL */
  GPtrArray      *review;       /* RecoupReviewItem open for the owner, oldest first, or NULL */
  RecoupUser     *user;         /* the acting user, with their authority limits */
} RecoupAccountData;

RecoupGuardVerdict *recoup_account_data_get_verdict (RecoupAccountData *data,
                                                     const char        *channel);

void recoup_account_data_free (RecoupAccountData *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupAccountData, recoup_account_data_free)

/* A write or read run against the book in a worker thread. */
typedef gboolean (*RecoupSessionFunc) (RecoupBook  *book,
                                       gpointer     data,
                                       GError     **error);

/*
 * The window's connection to the book. All SQL runs in worker threads
 * (GTask), one at a time on this connection.
 */
#define RECOUP_TYPE_SESSION (recoup_session_get_type ())
G_DECLARE_FINAL_TYPE (RecoupSession, recoup_session, RECOUP, SESSION, GObject)

RecoupSession     *recoup_session_new                (const char           *path,
                                                      GError              **error);
const char        *recoup_session_get_path           (RecoupSession        *self);
/* Acts as @user (id or name) from now on; call before any work is queued. */
gboolean           recoup_session_set_user           (RecoupSession        *self,
                                                      const char           *user,
                                                      GError              **error);
void               recoup_session_load_account_async (RecoupSession        *self,
                                                      const char           *account_id,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
RecoupAccountData *recoup_session_load_account_finish (RecoupSession       *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);
void               recoup_session_run_async          (RecoupSession        *self,
                                                      RecoupSessionFunc     func,
                                                      gpointer              data,
                                                      GDestroyNotify        data_free,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
/* The same for work that writes nothing the user made (reads, previews that
 * roll back): it does not count in recoup_session_get_n_writes(). */
void               recoup_session_read_async         (RecoupSession        *self,
                                                      RecoupSessionFunc     func,
                                                      gpointer              data,
                                                      GDestroyNotify        data_free,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
gboolean           recoup_session_run_finish         (RecoupSession        *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);
guint              recoup_session_get_n_writes       (RecoupSession        *self);

G_END_DECLS
