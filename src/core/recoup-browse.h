/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"
#include "recoup-next-step.h"

G_BEGIN_DECLS

/*
 * Browsing the book's accounts for list views, a page at a time.
 *
 * Without a search, accounts come in worklist order (queue rank, then score,
 * from the derived account_stats table that recoup-derived.c keeps; an
 * indexed read, so a page costs the same at any depth of a million accounts).
 * With a search (the start of the name or of a word in it, of the reference or
 * of an e-mail address, or a phone number by its digits; accents and case do
 * not matter: recoup-search.h), the matches are read from the search index and
 * snapshotted into a temporary table on @book's connection, ordered by
 * balance, then oldest unpaid due date.
 * Call recoup_browse_prepare() again after the book changed. A connection
 * browses one query at a time.
 *
 * %RECOUP_BROWSE_CALLABLE_NOW keeps the accounts the guard lets be called at
 * the list's instant: the calling hours in the debtor's zone (the guard's
 * rule, asked once per zone), the flags the policy stops every call on
 * (cease communication, attorney, bankruptcy, deceased, an open dispute, an
 * opt-out of calls or of every phone number) and the rules of the account's
 * call history (too many calls in 7 days, a recent conversation: the instant
 * their block lifts), kept with the derived data (account_stats), so that
 * counting the list or reading a page deep in it costs what the open
 * accounts' list does. An account without derived data yet is not listed.
 * Only another spelling of an opted-out phone number is not read for the
 * whole book: such a row stays, and recoup_browse_check_calls() marks it
 * blocked.
 */
typedef enum
{
  RECOUP_BROWSE_OPEN_ONLY    = 1 << 0,  /* only accounts with a positive balance */
  RECOUP_BROWSE_CALLABLE_NOW = 1 << 1,  /* only accounts the guard lets be called at the list's instant */
} RecoupBrowseFlags;

typedef struct
{
  char    *id;
  char    *ref;
  char    *name;
  char    *currency;
  char    *stage;
  char    *oldest_due;     /* YYYY-MM-DD of the oldest invoice, or NULL */
  gint64   balance;
  int      days_past_due;  /* of the oldest invoice, 0 when not yet due */
  gboolean cease_communication;
  char    *segment;        /* high, medium, low; NULL without derived data */
  char    *next_action;    /* the policy's next step; NULL without derived data */
  char    *next_action_reason; /* its reason as stored, a code and values: next_step words it */
  /* Set by recoup_browse_check_calls(): */
  gboolean call_blocked;   /* the guard blocks a call now */
  char    *call_reason;    /* why (the first blocking reason), or NULL */
  /* What a list warns of (recoup_browse_row_set_call()): no call now to an
   * account that owes. Until recoup_browse_check_calls() for a debtor who
   * asked to cease communication only; then also when call_blocked. */
  gboolean call_warning;
  RecoupNextStep *next_step; /* the policy's step agreed with the guard now, or NULL */
} RecoupBrowseRow;

gint64      recoup_browse_prepare   (RecoupBook    *book,
                                     const char    *search,
                                     gboolean       open_only,
                                     GCancellable  *cancellable,
                                     GError       **error);
/* recoup_browse_prepare() that, without a search, does not count: it returns
 * an upper bound (the accounts in the book, read in O(log n)) and sets
 * @out_exact to FALSE; recoup_browse_count() then gives the number. */
gint64      recoup_browse_prepare_quick (RecoupBook    *book,
                                     const char    *search,
                                     gboolean       open_only,
                                     gboolean      *out_exact,
                                     GCancellable  *cancellable,
                                     GError       **error);
gint64      recoup_browse_prepare_full (RecoupBook        *book,
                                        const char        *search,
                                        RecoupBrowseFlags  flags,
                                        gint64             at_ms,
                                        gboolean          *out_exact,
                                        GCancellable      *cancellable,
                                        GError           **error);
gint64      recoup_browse_count     (RecoupBook    *book,
                                     GError       **error);
GPtrArray  *recoup_browse_page      (RecoupBook    *book,
                                     guint          offset,
                                     guint          limit,
                                     GError       **error);
gboolean    recoup_browse_check_calls (RecoupBook  *book,
                                       GPtrArray   *rows,
                                       GError     **error);
gint64      recoup_browse_get_hours_change (RecoupBook *book,
                                            gint64     *out_opens_at);
void        recoup_browse_row_set_call (RecoupBrowseRow *row,
                                        gboolean         blocked,
                                        const char      *reason);
void        recoup_browse_row_free  (RecoupBrowseRow *row);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupBrowseRow, recoup_browse_row_free)

G_END_DECLS
