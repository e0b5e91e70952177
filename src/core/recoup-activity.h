/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"
#include "recoup-guard.h"

G_BEGIN_DECLS

typedef struct
{
  const char *account_id;
  const char *channel;          /* call, sms, email, letter, visit, note, system */
  const char *outcome;          /* see recoup_activity_outcomes; NULL for notes */
  const char *direction;        /* outbound (default) or inbound */
  const char *contact_point_id; /* nullable */
  gint64      at;               /* UTC ms; 0 means now */
  const char *notes;
  const char *override_reason;  /* set when a guard block was overridden */
} RecoupActivitySpec;

typedef struct
{
  char   *id;
  char   *channel;
  char   *direction;
  char   *outcome;
  char   *contact;
  gint64  at;
  char   *user_name;
  char   *notes;
  char   *override_reason;
} RecoupActivity;

extern const char * const recoup_activity_channels[];
extern const char * const recoup_activity_outcomes[];

gboolean    recoup_activity_outcome_is_conversation (const char *outcome);
gboolean    recoup_activity_outcome_fits            (const char *channel,
                                                     const char *outcome);
/* Pure: whether a promise to pay can be taken in a contact with @outcome:
 * one in which the debtor agreed to something (promise, right-party), or no
 * outcome given. */
gboolean    recoup_activity_outcome_takes_promise   (const char *outcome);
gboolean    recoup_activity_check_promise_outcome   (const char *outcome,
                                                     GError    **error);

gboolean    recoup_activity_spec_validate (const RecoupActivitySpec *spec,
                                           GError                  **error);
/* Pure: a contact is logged once it has happened: @at_ms (0: now) at most a
 * few minutes past @now_ms (clocks differ). */
gboolean    recoup_activity_check_at      (gint64                    at_ms,
                                           gint64                    now_ms,
                                           GError                  **error);
/* Pure: a contact a user logs at the instant @at_ms is not dated before @floor
 * (YYYY-MM-DD, the account's recoup_ledger_date_floor(); nullable). */
gboolean    recoup_activity_check_floor   (gint64                    at_ms,
                                           const char               *floor,
                                           GError                  **error);
/* Pure: whether the compliance guard must allow the contact before it is
 * logged: one we make on a guarded channel, not a note nor one the debtor made. */
gboolean    recoup_activity_needs_guard   (const RecoupActivitySpec *spec);
char       *recoup_activity_log     (RecoupBook                *book,
                                     const RecoupActivitySpec  *spec,
                                     GError                   **error);
/* What recoup_activity_log_guarded() did with a contact it logged. */
typedef enum
{
  RECOUP_ACTIVITY_LOGGED,          /* allowed (perhaps with warnings), or not guarded */
  RECOUP_ACTIVITY_LOGGED_OVERRIDE, /* blocked, and overridden by a user who may */
  RECOUP_ACTIVITY_LOGGED_FLAGGED,  /* blocked: logged as it happened, and a review item raised */
} RecoupActivityLogged;

/* Logs a contact after asking the compliance guard about it at @spec->at,
 * for the app and the CLI alike. A contact the guard blocked at that time is
 * logged only with @spec->override_reason (what happened, or why it was
 * necessary). From a user who may override, that is an override; from anyone
 * else it is a contact that broke the rules: it is logged all the same, since
 * it happened, and the account is flagged for the owner's review. The
 * verdict, when one was asked, is given back in @out_verdict, and which of
 * these was done in @out_logged (both nullable): callers tell the user what
 * core decided at the moment of writing, not what a verdict shown earlier
 * suggested. */
char       *recoup_activity_log_guarded (RecoupBook                *book,
                                         const RecoupActivitySpec  *spec,
                                         RecoupGuardVerdict       **out_verdict,
                                         RecoupActivityLogged      *out_logged,
                                         GError                   **error);
GPtrArray  *recoup_activity_list    (RecoupBook                *book,
                                     const char                *account_id,
                                     guint                      limit,
                                     GError                   **error);
void        recoup_activity_free    (RecoupActivity            *activity);

G_END_DECLS
