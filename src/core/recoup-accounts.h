/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

typedef struct
{
  const char *ref;
  const char *name;
  const char *timezone;       /* IANA, e.g. America/Chicago; NULL if unknown */
  const char *currency;       /* ISO 4217 */
  const char *assigned_to;    /* user id or name, nullable */
  const char *tier;           /* nullable */
  const char *tags;           /* comma-separated, nullable */
  gint64      lifetime_revenue;
} RecoupAccountSpec;

typedef enum
{
  RECOUP_CONTACT_PHONE,
  RECOUP_CONTACT_EMAIL,
  RECOUP_CONTACT_ADDRESS,
} RecoupContactKind;

typedef struct
{
  char    *id;
  char    *ref;
  char    *name;
  char    *timezone;
  char    *currency;
  char    *assigned_to;
  char    *stage;
  char    *tier;
  char    *tags;
  gint64   lifetime_revenue;
  gboolean cease_communication;
  gboolean attorney_represented;
  gboolean bankruptcy;
  gboolean deceased;
  char    *validation_notice_date;
  char    *review_flag;
  gint64   created_at;
} RecoupAccount;

typedef struct
{
  char             *id;
  char             *account_id;
  RecoupContactKind kind;
  char             *value;
  char             *label;
  gboolean          is_primary;
  gboolean          consent;
  gboolean          opted_out;
} RecoupContactPoint;

typedef struct
{
  const char *search;        /* as the app searches (recoup-search.h); nullable */
  const char *stage;         /* nullable */
  const char *assigned_to;   /* user id or name; nullable */
  gint64      min_balance;   /* minor units; 0 = no filter */
  guint       limit;         /* 0 = 50 */
  guint       offset;
  const char *currency;      /* ISO 4217: only accounts in it; nullable: all */
} RecoupAccountFilter;

typedef struct
{
  char   *id;
  char   *ref;
  char   *name;
  char   *currency;
  char   *stage;
  char   *timezone;
  char   *assigned_name;
  gint64  balance;
  int     days_past_due;     /* of the oldest open item, 0 if none is late */
} RecoupAccountSummary;

/* An owner's authority limits unless someone set others: the most there
 * is (a settlement of everything owed, a plan of ten years). */
#define RECOUP_OWNER_MAX_DISCOUNT_BP       10000
#define RECOUP_OWNER_MAX_PLAN_INSTALLMENTS 120

typedef struct
{
  char    *id;
  char    *name;
  char    *role;
  gint64   max_discount_bp;
  gint64   max_plan_installments;
  gboolean can_override;
} RecoupUser;

/* Mutable account fields that recoup_account_set() accepts. */
extern const char * const recoup_account_mutable_fields[];

/* Tags as the book keeps them: trimmed, no empty ones, each once (compared
 * without case; the first spelling stays), joined by ", ". */
char          *recoup_account_normalize_tags  (const char              *tags);

char          *recoup_account_create          (RecoupBook              *book,
                                               const RecoupAccountSpec *spec,
                                               GError                 **error);
char          *recoup_account_resolve         (RecoupBook              *book,
                                               const char              *ref_or_id,
                                               GError                 **error);
RecoupAccount *recoup_account_load            (RecoupBook              *book,
                                               const char              *account_id,
                                               GError                 **error);
gboolean       recoup_account_set             (RecoupBook              *book,
                                               const char              *account_id,
                                               const char              *field,
                                               const char              *value,
                                               GError                 **error);
/* validation_notice_date and placed_on: a real date, not after @today (the
 * book's), not before 1970-01-01; NULL or "" is allowed. */
gboolean       recoup_account_check_date      (const char              *field,
                                               const char              *value,
                                               const char              *today,
                                               GError                 **error);
void           recoup_account_free            (RecoupAccount           *account);
GPtrArray     *recoup_account_list            (RecoupBook              *book,
                                               const RecoupAccountFilter *filter,
                                               GError                 **error);
void           recoup_account_summary_free    (RecoupAccountSummary    *summary);
GStrv          recoup_account_currencies      (RecoupBook              *book,
                                               GError                 **error);
gboolean       recoup_account_parse_min_balance (RecoupBook            *book,
                                               const char              *text,
                                               gint64                  *out_minor,
                                               char                   **out_currency,
                                               GError                 **error);

/* Whether @tz names a region (Area/Location) or is UTC: a zone that says
 * what hour it is there all year. */
gboolean       recoup_timezone_is_regional    (const char              *tz);
gboolean       recoup_timezone_validate       (const char              *tz,
                                               GError                 **error);

const char    *recoup_contact_kind_to_string  (RecoupContactKind        kind);
gboolean       recoup_contact_kind_from_string (const char             *text,
                                               RecoupContactKind       *out_kind);
gboolean       recoup_contact_validate        (RecoupContactKind        kind,
                                               const char              *value,
                                               GError                 **error);
char          *recoup_contact_value_key       (RecoupContactKind        kind,
                                               const char              *value);
gboolean       recoup_contact_find            (RecoupBook              *book,
                                               const char              *account_id,
                                               RecoupContactKind        kind,
                                               const char              *value,
                                               char                   **out_id,
                                               GError                 **error);
char          *recoup_contact_add             (RecoupBook              *book,
                                               const char              *account_id,
                                               RecoupContactKind        kind,
                                               const char              *value,
                                               const char              *label,
                                               gboolean                 primary,
                                               GError                 **error);
gboolean       recoup_contact_set_opted_out   (RecoupBook              *book,
                                               const char              *contact_id,
                                               gboolean                 opted_out,
                                               GError                 **error);
gboolean       recoup_contact_opt_out         (RecoupBook              *book,
                                               const char              *contact_id,
                                               gint64                   at,
                                               const char              *how,
                                               GError                 **error);
gboolean       recoup_contact_keep_opted_out_value (RecoupBook         *book,
                                               const char              *contact_id,
                                               GError                 **error);
gboolean       recoup_contact_opt_back_in     (RecoupBook              *book,
                                               const char              *contact_id,
                                               const char              *consent,
                                               GError                 **error);
gboolean       recoup_contact_set_value       (RecoupBook              *book,
                                               const char              *contact_id,
                                               const char              *value,
                                               GError                 **error);
gboolean       recoup_contact_remove          (RecoupBook              *book,
                                               const char              *contact_id,
                                               GError                 **error);
GPtrArray     *recoup_contact_list            (RecoupBook              *book,
                                               const char              *account_id,
                                               GError                 **error);
void           recoup_contact_point_free      (RecoupContactPoint      *cp);

const char    *recoup_user_role_label         (const char              *role);
gboolean       recoup_user_role_holds_accounts (const char             *role);
/* The id of the user @id_or_name names: an id, or the name (any case) of
 * exactly one user. A name that several users have is refused with their
 * ids and roles, as picking one would pick at random. */
char          *recoup_user_resolve            (RecoupBook              *book,
                                               const char              *id_or_name,
                                               GError                 **error);
/* The users (not removed) called @name, in any case; empty if none. */
GPtrArray     *recoup_user_find_by_name       (RecoupBook              *book,
                                               const char              *name,
                                               GError                 **error);
GPtrArray     *recoup_user_list               (RecoupBook              *book,
                                               GError                 **error);
gboolean       recoup_user_act_as             (RecoupBook              *book,
                                               const char              *user,
                                               GError                 **error);
RecoupUser    *recoup_user_load               (RecoupBook              *book,
                                               const char              *user_id,
                                               GError                 **error);
void           recoup_user_free               (RecoupUser              *user);
char          *recoup_user_add                (RecoupBook              *book,
                                               const char              *name,
                                               const char              *role,
                                               gint64                   max_discount_bp,
                                               gint64                   max_plan_installments,
                                               gboolean                 can_override,
                                               GError                 **error);
/* Owner only: what @user_id may offer without approval (discount 0..10000 bp,
 * plans of 0..RECOUP_OFFER_MAX_INSTALLMENTS installments). Change-logged. */
gboolean       recoup_user_set_limits         (RecoupBook              *book,
                                               const char              *user_id,
                                               gint64                   max_discount_bp,
                                               gint64                   max_plan_installments,
                                               GError                 **error);
/* What recoupd grants @user_id (its role and limits decide what the user's
 * devices may push): made the row's, change-logged when it differs, so every
 * copy applies what the server enforces. Refused where users may not be
 * written (a device enrolled as anyone but an owner). */
gboolean       recoup_user_set_authority      (RecoupBook              *book,
                                               const char              *user_id,
                                               const char              *role,
                                               gint64                   max_discount_bp,
                                               gint64                   max_plan_installments,
                                               GError                 **error);
/* Removes a user with a tombstone (the row stays for the history that names
 * them); refused while accounts are assigned to them. */
gboolean       recoup_user_remove             (RecoupBook              *book,
                                               const char              *user_id,
                                               GError                 **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupAccount, recoup_account_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupUser, recoup_user_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupContactPoint, recoup_contact_point_free)

G_END_DECLS
