/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-mail"

#include "config.h"

#include <string.h>

#include "recoup-mail.h"

/**
 * recoup_mail_send_outbox:
 *
 * Drains this device's outbox, oldest first:
 *
 * 1. Messages an earlier sender left 'sending' past their lease become
 *    'uncertain' (see recoup-outbox.h): never resent without the user.
 * 2. For each queued message: build the MIME message (a message that cannot
 *    be built, or is over smtp.max_bytes, fails with the reason and the run
 *    goes on); claim it (committed: 'sending'); one SMTP transaction; record
 *    'sent' with an email activity, or the failure. A permanent refusal fails
 *    that message only. When the server cannot be reached, refuses the login,
 *    or TLS fails, the message goes back to 'queued' with the reason, the
 *    other messages stay queued untouched, and the function returns FALSE.
 */
gboolean
recoup_mail_send_outbox (RecoupBook          *book,
                         RecoupMailStats     *stats,
                         RecoupProgressFunc   progress,
                         gpointer             progress_data,
                         GCancellable        *cancellable,
                         GError             **error)
{
  RecoupSmtpConfig config;
  RecoupMailStats local = { 0, };
  g_autoptr(GPtrArray) pending = NULL;
  gboolean ok = TRUE;

  if (stats == NULL)
    stats = &local;
  memset (stats, 0, sizeof *stats);

  if (!recoup_smtp_config_load (book, &config, error))
    return FALSE;
  if (!recoup_outbox_recover (book, config.lease_ms, &stats->uncertain, error))
    goto out_fail;
  if (!(pending = recoup_outbox_pending (book, 0, error)))
    goto out_fail;

  for (guint i = 0; i < pending->len; i++)
    {
      RecoupOutboxMessage *msg = g_ptr_array_index (pending, i);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) local_error = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out_fail;
      if (progress)
        progress (i, pending->len, progress_data);

      bytes = recoup_mail_build_message (msg, config.from, g_get_real_time () / 1000, &local_error);
      if (bytes == NULL)
        {
          if (!recoup_outbox_mark_failed (book, msg->id, TRUE, local_error->message, error))
            goto out_fail;
          stats->failed++;
          continue;
        }
      if ((gint64) g_bytes_get_size (bytes) > config.max_bytes)
        {
          g_autofree char *reason = g_strdup_printf (
            "the message is %" G_GSIZE_FORMAT " bytes, over the limit of %" G_GINT64_FORMAT
            " (smtp.max_bytes): send the attachment another way", g_bytes_get_size (bytes), config.max_bytes);

          if (!recoup_outbox_mark_failed (book, msg->id, TRUE, reason, error))
            goto out_fail;
          stats->failed++;
          continue;
        }

      /* Committed before the first byte goes out: a crash from here on leaves
       * 'sending', which only the user can resolve. */
      if (!recoup_outbox_claim (book, msg->id, &local_error))
        {
          /* Another sender (the app and the CLI at once) claimed it first. */
          if (g_error_matches (local_error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT))
            {
              g_clear_error (&local_error);
              continue;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          goto out_fail;
        }

      if (recoup_smtp_submit (&config, msg->to, bytes, &local_error))
        {
          if (!recoup_outbox_mark_sent (book, msg->id, error))
            goto out_fail;
          stats->sent++;
          continue;
        }

      if (local_error->code == RECOUP_MAIL_ERROR_PERMANENT)
        {
          if (!recoup_outbox_mark_failed (book, msg->id, TRUE, local_error->message, error))
            goto out_fail;
          stats->failed++;
          continue;
        }

      /* Server-level: this one back to queued with the reason; stop. */
      if (!recoup_outbox_mark_failed (book, msg->id, FALSE, local_error->message, error))
        goto out_fail;
      stats->deferred += pending->len - i;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "%u message(s) stay queued: ", pending->len - i);
      ok = FALSE;
      break;
    }
  if (ok && progress)
    progress (pending->len, pending->len, progress_data);
  recoup_smtp_config_clear (&config);
  return ok;

out_fail:
  recoup_smtp_config_clear (&config);
  return FALSE;
}
