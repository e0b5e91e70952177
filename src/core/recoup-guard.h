/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * The compliance guard: ONE function answers "may this user contact this
 * account on this channel at this instant?" with allowed / warn / blocked and
 * the reasons. The worklist, the app and the CLI all ask it.
 *
 * Profiles (shared setting "guard.profile"; a new book uses "regf"):
 *  - regf          US debt collector, Regulation F (12 CFR 1006): every rule below;
 *  - first-party   a creditor collecting its own debts: the hours, opt-outs and
 *                  the business's own call limit (guard.max_calls_7d, off by default);
 *  - custom        the rules as set one by one (guard.<rule> settings).
 *
 * Rules (codes are stable, for scripts):
 *  outside-hours          08:00-21:00 in the debtor's IANA zone (calls, texts, email, visits)
 *  timezone-unknown       no zone: calls and texts blocked, unless the book chose the
 *                         business's zone (guard.unknown_zone=business), then a warning
 *  call-frequency         > 7 call attempts within 7 consecutive days (the 8th is blocked)
 *  recent-conversation    a call within 7 days after a telephone conversation (the day of
 *                         the conversation is day 1: blocked through day 7, allowed on day 8)
 *  cease-communication    everything blocked except a permitted notice (letter: warning)
 *  channel-opt-out        the debtor opted out of the channel (accounts.opt_out_channels)
 *  contact-opt-out        every contact point for the channel is opted out
 *  no-contact-point       no contact point for the channel (warning)
 *  dispute-open           collection contacts paused until the dispute is resolved
 *  validation-notice      no validation notice recorded 5 days after the first communication (warning)
 *  attorney-represented, bankruptcy, deceased: blocked
 *
 * Days are calendar days in the debtor's zone (the business's zone when the
 * debtor's is unknown). Counts come from the activities table, so contacts
 * synced from other devices count.
 */

typedef enum
{
  RECOUP_VERDICT_ALLOWED,
  RECOUP_VERDICT_WARN,
  RECOUP_VERDICT_BLOCKED,
} RecoupVerdictKind;

typedef struct
{
  char    *code;
  char    *text;
  gboolean blocks;
  gint64   until;   /* a block that lifts by itself (outside-hours, call-frequency,
                     * recent-conversation): the instant (UTC ms) it lifts if
                     * nothing else happens; 0 for every other reason */
} RecoupGuardReason;

typedef struct
{
  RecoupVerdictKind verdict;
  GPtrArray        *reasons;       /* RecoupGuardReason */
  gboolean          may_override;  /* the user may override a block (users.can_override) */
} RecoupGuardVerdict;

typedef struct
{
  char    *profile;            /* regf, first-party, custom */
  int      hours_start;        /* minutes after local midnight, e.g. 480 */
  int      hours_end;          /* exclusive, e.g. 1260 */
  int      max_calls_7d;       /* 0: no limit */
  int      conversation_days;  /* 0: off */
  int      validation_days;    /* 0: off */
  gboolean cease;
  gboolean dispute;
  gboolean flags;              /* attorney, bankruptcy, deceased */
  gboolean unknown_zone_business;
  char    *business_timezone;
} RecoupGuardPolicy;

/* The activities the rules of an account's call history read, as conditions
 * on a row of activities: the call attempts call-frequency counts, and the
 * telephone conversations recent-conversation counts from. */
#define RECOUP_GUARD_CALL_ATTEMPT_SQL "channel = 'call' AND direction = 'outbound'"
#define RECOUP_GUARD_CONVERSATION_SQL \
  "channel = 'call' AND outcome IN ('right-party','promise','refused','dispute','callback-requested')"

extern const char * const recoup_guard_channels[];
extern const char * const recoup_guard_profiles[];

const char *recoup_verdict_to_string      (RecoupVerdictKind          verdict);

gboolean    recoup_guard_check            (RecoupBook                *book,
                                           const char                *account_id,
                                           const char                *channel,
                                           gint64                     at_ms,
                                           const char                *user_id,
                                           RecoupGuardVerdict       **out_verdict,
                                           GError                   **error);
/* The same with a policy already loaded (the worklist checks many accounts). */
gboolean    recoup_guard_check_with_policy (RecoupBook               *book,
                                           const RecoupGuardPolicy   *policy,
                                           const char                *account_id,
                                           const char                *channel,
                                           gint64                     at_ms,
                                           const char                *user_id,
                                           RecoupGuardVerdict       **out_verdict,
                                           GError                   **error);
void        recoup_guard_verdict_free     (RecoupGuardVerdict        *verdict);
/* When a blocking verdict lifts by itself: the latest `until` of its blocking
 * reasons, or 0 when one of them does not lift by itself (or nothing blocks).
 * Other rules may block at that instant: ask the guard again then. */
gint64      recoup_guard_verdict_lifts_at (const RecoupGuardVerdict  *verdict);
/* The zone whose calendar days and hours the guard uses for a debtor in
 * @timezone (the business's zone when @timezone is unknown); never NULL. */
GTimeZone  *recoup_guard_debtor_zone      (const RecoupGuardPolicy   *policy,
                                           const char                *timezone);

/* The hours rules alone (outside-hours, timezone-unknown) for a call to a
 * debtor in @timezone: what a list asks once per zone. */
gboolean    recoup_guard_call_hours       (const RecoupGuardPolicy   *policy,
                                           const char                *timezone,
                                           gint64                     at_ms,
                                           gint64                    *out_change);

/* The rules of the account's call history (call-frequency,
 * recent-conversation): when they stop blocking a call, given its latest
 * call attempt and conversation (RECOUP_GUARD_*_SQL). */
gboolean    recoup_guard_call_history_opens_at (RecoupBook            *book,
                                           const RecoupGuardPolicy   *policy,
                                           const char                *account_id,
                                           const char                *timezone,
                                           gint64                     last_call_at,
                                           gint64                     last_conversation_at,
                                           gint64                     now_ms,
                                           gint64                    *out_opens_at,
                                           GError                   **error);

void        recoup_guard_policy_load      (RecoupBook                *book,
                                           RecoupGuardPolicy         *policy);
void        recoup_guard_policy_clear     (RecoupGuardPolicy         *policy);
gboolean    recoup_guard_set_profile      (RecoupBook                *book,
                                           const char                *profile,
                                           GError                   **error);
/* Sets one rule (hours_start, hours_end as HH:MM; max_calls_7d, conversation_days,
 * validation_days as numbers; cease, dispute, flags as yes/no; unknown_zone as
 * block/business; business_timezone as an IANA zone) and switches to "custom". */
gboolean    recoup_guard_set_rule         (RecoupBook                *book,
                                           const char                *rule,
                                           const char                *value,
                                           GError                   **error);
/* Opts the debtor out of (or back into) a channel; a synced account field. */
gboolean    recoup_guard_set_channel_opt_out (RecoupBook             *book,
                                           const char                *account_id,
                                           const char                *channel,
                                           gboolean                   opted_out,
                                           GError                   **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupGuardVerdict, recoup_guard_verdict_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RecoupGuardPolicy, recoup_guard_policy_clear)

const char *recoup_guard_channel_noun (const char *channel);
const char *recoup_guard_rule_phrase  (const char *code);

G_END_DECLS
