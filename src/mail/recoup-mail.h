/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-core.h"

G_BEGIN_DECLS

/*
 * librecoup-mail: what needs GMime, libcurl and cairo/pango — building MIME
 * messages, submitting them over SMTP, draining the book's outbox, and
 * rendering letters to PDF. Core (recoup-outbox.h) owns the outbox's states.
 *
 * SMTP settings: the first four are shared by the organisation (they sync and
 * only an owner changes them); the limits below them belong to this device.
 *   smtp.url        smtp://mail.example.com:587 (STARTTLS) or smtps://mail.example.com:465
 *   smtp.security   starttls (default for smtp://), tls (smtps://), or none — plain text,
 *                   refused unless the host is 127.0.0.1, ::1 or localhost
 *   smtp.username   the login (empty: no authentication)
 *   smtp.from       "Acme Receivables <ar@acme.example>"
 *   smtp.max_bytes  the largest message Recoup will try to send (default 10485760)
 *   smtp.timeout    seconds per message (default 60)
 *   smtp.lease_seconds  how long a 'sending' message may stay so before a new
 *                   sender takes it as interrupted and marks it uncertain (default
 *                   600; keep it above smtp.timeout)
 * The password is in the Secret Service (libsecret) when one runs, else in a
 * 0600 file under $XDG_CONFIG_HOME/recoup/; see recoup_smtp_password_store().
 */

typedef enum
{
  RECOUP_MAIL_ERROR_CONFIG,     /* settings missing or wrong: nothing was sent */
  RECOUP_MAIL_ERROR_TRANSIENT,  /* server unreachable or 4xx: try later */
  RECOUP_MAIL_ERROR_PERMANENT,  /* this message is refused (5xx, bad recipient, too big) */
  RECOUP_MAIL_ERROR_AUTH,       /* the server refused the login */
  RECOUP_MAIL_ERROR_TLS,        /* TLS could not be set up or the certificate is not trusted */
} RecoupMailError;

#define RECOUP_MAIL_ERROR (recoup_mail_error_quark ())
GQuark recoup_mail_error_quark (void);

typedef struct
{
  char   *url;
  char   *security;
  char   *username;
  char   *password;
  char   *from;        /* as configured, with display name */
  char   *from_addr;   /* the bare address for MAIL FROM */
  gint64  max_bytes;
  long    timeout_s;
  gint64  lease_ms;
} RecoupSmtpConfig;

gboolean  recoup_smtp_config_load     (RecoupBook              *book,
                                       RecoupSmtpConfig        *config,
                                       GError                 **error);
void      recoup_smtp_config_clear    (RecoupSmtpConfig        *config);

gboolean  recoup_smtp_password_store  (RecoupBook              *book,
                                       const char              *password,
                                       GError                 **error);
char     *recoup_smtp_password_lookup (RecoupBook              *book);

/* A complete RFC 5322 message: UTF-8 headers (RFC 2047 encoded), text/plain
 * body, the PDF attachment when the message has one, Message-ID from the
 * outbox row. */
GBytes   *recoup_mail_build_message   (const RecoupOutboxMessage *msg,
                                       const char              *from,
                                       gint64                   date_ms,
                                       GError                 **error);

/* One SMTP transaction. Errors are RECOUP_MAIL_ERROR_*. */
gboolean  recoup_smtp_submit          (const RecoupSmtpConfig  *config,
                                       const char              *to_addr,
                                       GBytes                  *message,
                                       GError                 **error);

typedef struct
{
  guint sent;
  guint failed;      /* refused for good: state failed, reason kept */
  guint deferred;    /* left queued (server down, login refused) */
  guint uncertain;   /* found interrupted by an earlier sender */
} RecoupMailStats;

/* Sends this device's queued messages. A message-level problem marks that
 * message and moves on; a server-level one (unreachable, login refused, TLS)
 * leaves the rest queued and returns FALSE with the reason. */
gboolean  recoup_mail_send_outbox     (RecoupBook              *book,
                                       RecoupMailStats         *stats,
                                       RecoupProgressFunc       progress,
                                       gpointer                 progress_data,
                                       GCancellable            *cancellable,
                                       GError                 **error);

/* Letters: each text in @letters starts a new page; long letters run on. */
gboolean  recoup_letter_render_pdf    (const char              *path,
                                       GPtrArray               *letters,
                                       const char              *paper,
                                       GError                 **error);

/* The renderer for recoup_remind_execute(). */
gboolean  recoup_mail_letter_renderer (const char              *path,
                                       GPtrArray               *letters,
                                       gpointer                 user_data,
                                       GError                 **error);

G_END_DECLS
