/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * Reminder runs: who gets which template today, and why.
 *
 * For each account with a positive balance and an open item past due:
 *  - under the Regulation F profile, an account with no validation notice yet
 *    gets "validation-notice" (a letter; an email when there is no address);
 *  - otherwise the escalation policy's last message step (email, letter or sms;
 *    calls and system steps are the worklist's business) whose days the
 *    account has reached: the first message step sends "friendly-reminder",
 *    a step whose action says "final" sends "final-notice", an sms step
 *    "sms-reminder", any other "second-reminder". Setting
 *    remind.template.<DAYS> names another template for the step at DAYS.
 *  - an email step for an account with no usable email address falls back to
 *    a letter, and a letter with no address is held back;
 *  - accounts contacted by email, letter or SMS (or with a message in the
 *    outbox) within remind.repeat_days (default 7) are left out of the run and
 *    counted;
 *  - the compliance guard is asked for the channel at the run's instant:
 *    a block holds the account back with the guard's reasons.
 *
 * Executing a run renders each selected row's template; letters go to PDF
 * (one per account, or one batch file) through the renderer the caller passes
 * (librecoup-mail's, as core has no cairo) and are logged as letter
 * activities; emails are queued in the outbox; SMS texts are logged as sms
 * activities with an sms: link. The writes happen in one transaction.
 */

typedef struct
{
  char     *account_id;
  char     *ref;
  char     *name;
  char     *currency;
  gint64    balance;
  int       days_past_due;
  char     *template_name;
  char     *channel;        /* email, letter, sms */
  char     *to;             /* email address or phone; NULL for a letter */
  char     *reason;         /* why this template */
  gboolean  held;           /* the guard (or a missing address) holds it back */
  char     *held_reasons;   /* "; "-separated, with the guard's codes */
  char     *warnings;       /* the guard's warnings, nullable */
  gboolean  selected;       /* !held by default; a UI may untick rows */
} RecoupRemindItem;

typedef struct
{
  char      *today;
  gint64     at;
  GPtrArray *items;         /* RecoupRemindItem, by days past due (highest first), then ref */
  guint      n_recent;      /* left out: reminded within remind.repeat_days */
} RecoupRemindRun;

typedef gboolean (*RecoupLetterRenderer) (const char  *path,
                                          GPtrArray   *letters,
                                          gpointer     user_data,
                                          GError     **error);

typedef struct
{
  const char          *letters_dir;    /* NULL: setting letters.dir, else "letters" beside the book */
  gboolean             batch_letters;  /* one PDF with every letter */
  RecoupLetterRenderer render_letter;  /* NULL: letters are refused with an error */
  gpointer             render_data;
  RecoupProgressFunc   progress;
  gpointer             progress_data;
} RecoupRemindOptions;

typedef struct
{
  guint      emails_queued;
  guint      letters;
  guint      sms;
  GPtrArray *letter_paths;  /* char* */
  GPtrArray *sms_links;     /* char*: "REF sms:+1555...?body=..." */
} RecoupRemindResult;

/* @at: the instant the guard judges (0: now). */
RecoupRemindRun *recoup_remind_propose   (RecoupBook                 *book,
                                          gint64                      at,
                                          GError                    **error);
gboolean         recoup_remind_execute   (RecoupBook                 *book,
                                          RecoupRemindRun            *run,
                                          const RecoupRemindOptions  *options,
                                          RecoupRemindResult         *result,
                                          GError                    **error);
/* Renders one row's message (for a preview). */
gboolean         recoup_remind_preview   (RecoupBook                 *book,
                                          const RecoupRemindItem     *item,
                                          char                      **out_subject,
                                          char                      **out_body,
                                          GError                    **error);

void             recoup_remind_run_free    (RecoupRemindRun          *run);
void             recoup_remind_result_clear (RecoupRemindResult      *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupRemindRun, recoup_remind_run_free)

G_END_DECLS
