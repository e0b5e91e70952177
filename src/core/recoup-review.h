/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * What the owner must look at on an account, kept as append-only rows so
 * that nothing is lost in a merge: `review_items` (a contact that broke the
 * compliance rules, an offer whose transitions conflicted offline, two
 * arrangements accepted offline on two copies) and
 * `review_marks` (an owner looked at an item, or the book closed an item
 * whose cause is gone: recoup_review_close_offer_clashes()). An item is
 * open while it has no mark. Two collectors' items logged offline both
 * arrive; an owner's mark made offline closes only the items that owner saw.
 *
 * An item's payload is JSON of the values (channel, instant, rule codes, the
 * user's words, offer id), not text, so each reader gets it in their own
 * language from recoup_review_list_open() or recoup_review_list(): the
 * channel and the rules in words, the instant in the account's time zone.
 *
 * Books written before the items existed may still carry text in
 * accounts.review_flag: it is listed as one legacy item (id NULL) that an
 * owner clears as before.
 */

#define RECOUP_REVIEW_CONTACT_BREACH "contact-breach"
#define RECOUP_REVIEW_OFFER_CONFLICT "offer-conflict"
#define RECOUP_REVIEW_REF_CLASH      "ref-clash"
#define RECOUP_REVIEW_OFFER_CLASH    "offer-clash"
#define RECOUP_REVIEW_DISPUTE_CLASH  "dispute-clash"
#define RECOUP_REVIEW_LEGACY         "legacy"

typedef struct
{
  char   *id;            /* NULL for the legacy review_flag text */
  char   *kind;          /* RECOUP_REVIEW_* */
  char   *text;          /* worded for the reader */
  char   *user_name;     /* who raised it, or NULL */
  gint64  created_at;    /* UTC ms; 0 for the legacy text */
  char   *account_id;    /* the account it is on */
  char   *account_ref;
  char   *account_name;
  char   *payload;       /* the values as stored (JSON, codes); NULL for the legacy text */
  char   *reviewed_by;   /* the owner whose mark came first, or NULL */
  gint64  reviewed_at;   /* UTC ms of that mark; 0 while the item is open */
} RecoupReviewItem;

char      *recoup_review_add_contact_breach (RecoupBook          *book,
                                             const char          *account_id,
                                             const char          *channel,
                                             gint64               at,
                                             const char * const  *rules,
                                             const char          *words,
                                             GError             **error);
char      *recoup_review_add_offer_conflict (RecoupBook          *book,
                                             const char          *account_id,
                                             const char          *offer_id,
                                             GError             **error);
/* One accepted offer as a clash names it. */
typedef struct
{
  const char *offer_id;
  const char *kind;          /* recoup_offer_kind_to_string() */
  const char *accepted_by;   /* the user who recorded the acceptance (id) */
  const char *accepted_on;   /* YYYY-MM-DD */
} RecoupReviewAcceptance;

char      *recoup_review_add_offer_clash    (RecoupBook                    *book,
                                             const char                    *account_id,
                                             const RecoupReviewAcceptance  *kept,
                                             const RecoupReviewAcceptance  *held,
                                             GError                       **error);
gboolean   recoup_review_close_offer_clashes (RecoupBook         *book,
                                              const char         *account_id,
                                              const char         *offer_id,
                                              const char         *by_user,
                                              gint64              at,
                                              guint              *written,
                                              GError            **error);
gboolean   recoup_review_raise_dispute_clashes (RecoupBook  *book,
                                                const char  *account_id,
                                                GError     **error);
char      *recoup_review_add_ref_clash      (RecoupBook          *book,
                                             const char          *account_id,
                                             const char          *ref,
                                             const char          *other_account_id,
                                             GError             **error);
GPtrArray *recoup_review_list_open          (RecoupBook          *book,
                                             const char          *account_id,
                                             GError             **error);
GPtrArray *recoup_review_list               (RecoupBook          *book,
                                             const char          *account_id,
                                             gboolean             include_reviewed,
                                             GError             **error);
gboolean   recoup_review_mark               (RecoupBook          *book,
                                             const char          *account_id,
                                             GPtrArray           *items,
                                             GError             **error);
gboolean   recoup_review_mark_ids           (RecoupBook          *book,
                                             const char * const  *ids,
                                             guint               *out_n_marked,
                                             GError             **error);
gboolean   recoup_review_count_open         (RecoupBook          *book,
                                             const char          *account_id,
                                             guint               *out_n,
                                             GError             **error);

void       recoup_review_item_free          (RecoupReviewItem    *item);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupReviewItem, recoup_review_item_free)

G_END_DECLS
