/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * The email outbox. Queuing is a core write (validated, change-logged); the
 * sending itself (MIME, SMTP) lives in src/mail and drives a message through
 * these states:
 *
 *   queued --claim--> sending --mark_sent--> sent            (an 'email' activity)
 *                        |----mark_failed (permanent)--> failed --retry--> queued
 *                        |----mark_failed (transient)--> queued (server down: wait)
 *   sending --recover (after a crash)--> uncertain --confirm--> sent
 *                                                  --retry----> queued (the user's decision)
 *
 * Sends nothing twice: the claim is committed BEFORE the SMTP transaction
 * starts, and SMTP cannot tell whether an interrupted transaction was
 * delivered, so a message found still 'sending' when its lease has run out
 * (the sender died between the server's answer and recording it) becomes
 * 'uncertain' and is never resent automatically. A resend after the user's
 * decision carries the same Message-ID, so mail clients can drop a duplicate.
 * Only the device that queued a message sends it (outbox.device_id), though
 * the rows sync for the history.
 */

typedef enum
{
  RECOUP_OUTBOX_QUEUED,
  RECOUP_OUTBOX_SENDING,
  RECOUP_OUTBOX_SENT,
  RECOUP_OUTBOX_FAILED,
  RECOUP_OUTBOX_UNCERTAIN,
} RecoupOutboxState;

typedef struct
{
  const char *account_id;      /* nullable */
  const char *to;              /* one email address */
  const char *subject;
  const char *body;            /* text/plain; the opt-out line is added when missing */
  const char *template_name;   /* nullable: which template made it */
  const char *attachment_path; /* nullable: a PDF on this device */
  const char *attachment_name; /* nullable: the file name the recipient sees */
} RecoupOutboxSpec;

typedef struct
{
  char              *id;
  char              *account_id;
  char              *device_id;
  char              *message_id;   /* "<id@domain>" */
  char              *template_name;
  char              *to;
  char              *subject;
  char              *body;
  char              *attachment_path;
  char              *attachment_name;
  RecoupOutboxState  state;
  int                attempts;
  char              *last_error;
  gint64             created_at;
  gint64             claimed_at;
  gint64             sent_at;
} RecoupOutboxMessage;

const char *recoup_outbox_state_to_string   (RecoupOutboxState state);
gboolean    recoup_outbox_state_from_string (const char        *text,
                                             RecoupOutboxState *out_state);

/* A single addr-spec (local@domain.tld), no display name, no line breaks. */
gboolean    recoup_email_address_validate   (const char        *address,
                                             GError           **error);
/* The line every email carries (setting email.opt_out_line, or a default). */
char       *recoup_outbox_opt_out_line      (RecoupBook        *book);

char       *recoup_outbox_enqueue           (RecoupBook              *book,
                                             const RecoupOutboxSpec  *spec,
                                             GError                 **error);
/* @state: nullable (all); newest first; @limit 0 = no limit. */
GPtrArray  *recoup_outbox_list              (RecoupBook        *book,
                                             const char        *state,
                                             guint              limit,
                                             GError           **error);
RecoupOutboxMessage *recoup_outbox_load     (RecoupBook        *book,
                                             const char        *id,
                                             GError           **error);
/* An id or a unique tail of it (at least 6 characters). */
char       *recoup_outbox_resolve           (RecoupBook        *book,
                                             const char        *id_or_tail,
                                             GError           **error);
gboolean    recoup_outbox_count             (RecoupBook        *book,
                                             RecoupOutboxState  state,
                                             gint64            *out_count,
                                             GError           **error);

/* The sender's protocol (src/mail). */
/* This device's messages left 'sending' with claimed_at older than @lease_ms
 * become 'uncertain'; returns how many in @out_count. */
gboolean    recoup_outbox_recover           (RecoupBook        *book,
                                             gint64             lease_ms,
                                             guint             *out_count,
                                             GError           **error);
/* This device's queued messages, oldest first. */
GPtrArray  *recoup_outbox_pending           (RecoupBook        *book,
                                             guint              limit,
                                             GError           **error);
/* queued -> sending (attempts + 1), committed. CONFLICT if not queued. */
gboolean    recoup_outbox_claim             (RecoupBook        *book,
                                             const char        *id,
                                             GError           **error);
gboolean    recoup_outbox_mark_sent         (RecoupBook        *book,
                                             const char        *id,
                                             GError           **error);
/* A permanent failure (bad address, refused, too big) -> failed; a transient
 * one (server unreachable) -> queued again; the reason is kept either way. */
gboolean    recoup_outbox_mark_failed       (RecoupBook        *book,
                                             const char        *id,
                                             gboolean           permanent,
                                             const char        *reason,
                                             GError           **error);
/* failed or uncertain -> queued (the user's decision). */
gboolean    recoup_outbox_retry             (RecoupBook        *book,
                                             const char        *id,
                                             GError           **error);
/* uncertain -> sent: the user checked that it arrived. */
gboolean    recoup_outbox_confirm           (RecoupBook        *book,
                                             const char        *id,
                                             GError           **error);

void        recoup_outbox_message_free      (RecoupOutboxMessage *msg);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupOutboxMessage, recoup_outbox_message_free)

G_END_DECLS
