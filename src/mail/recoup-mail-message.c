/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-mail"

#include "config.h"

#include <gmime/gmime.h>
#include <string.h>

#include "recoup-mail.h"

G_DEFINE_QUARK (recoup-mail-error-quark, recoup_mail_error)

/* GMime 3.2 declares no g_autoptr cleanups. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeTextPart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMultipart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimePart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeDataWrapper, g_object_unref)

static void
ensure_gmime (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      g_mime_init ();
      g_once_init_leave (&once, 1);
    }
}

static char *
strip_angles (const char *message_id)
{
  g_autofree char *s = g_strdup (message_id);

  g_strstrip (s);
  if (*s == '<')
    memmove (s, s + 1, strlen (s));
  if (g_str_has_suffix (s, ">"))
    s[strlen (s) - 1] = '\0';
  return g_steal_pointer (&s);
}

/**
 * recoup_mail_build_message:
 *
 * Builds the message as it goes on the wire (CRLF line ends): From, To,
 * Subject (RFC 2047 when not ASCII), Date, Message-ID, MIME-Version, a
 * text/plain; charset=utf-8 body in quoted-printable, and when the outbox row
 * names an attachment a multipart/mixed with the PDF in base64.
 */
GBytes *
recoup_mail_build_message (const RecoupOutboxMessage  *msg,
                           const char                 *from,
                           gint64                      date_ms,
                           GError                    **error)
{
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeTextPart) text = NULL;
  g_autoptr(GMimeStream) out = NULL;
  g_autoptr(GDateTime) date = NULL;
  g_autofree char *mid = NULL;
  InternetAddressList *from_list;
  GMimeFormatOptions *options;
  GByteArray *bytes;

  ensure_gmime ();

  from_list = internet_address_list_parse (NULL, from);
  if (from_list == NULL || internet_address_list_length (from_list) != 1)
    {
      g_clear_object (&from_list);
      g_set_error (error, RECOUP_MAIL_ERROR, RECOUP_MAIL_ERROR_CONFIG,
                   "smtp.from “%s” is not one address; set it with `recoup-cli outbox setup "
                   "--from 'Name <address>'`", from ? from : "");
      return NULL;
    }
  if (!recoup_email_address_validate (msg->to, error))
    {
      g_object_unref (from_list);
      return NULL;
    }

  message = g_mime_message_new (TRUE);
  internet_address_list_append (g_mime_message_get_from (message), from_list);
  g_object_unref (from_list);
  g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_TO, NULL, msg->to);
  g_mime_message_set_subject (message, msg->subject, "utf-8");
  date = g_date_time_new_from_unix_utc (date_ms / 1000);
  g_mime_message_set_date (message, date);
  mid = strip_angles (msg->message_id);
  g_mime_message_set_message_id (message, mid);
  g_mime_object_set_header (GMIME_OBJECT (message), "X-Recoup-Outbox-Id", msg->id, NULL);

  text = g_mime_text_part_new_with_subtype ("plain");
  g_mime_text_part_set_text (text, msg->body);
  g_mime_text_part_set_charset (text, "utf-8");
  g_mime_part_set_content_encoding (GMIME_PART (text), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);

  if (msg->attachment_path != NULL)
    {
      g_autoptr(GMimeMultipart) mixed = g_mime_multipart_new_with_subtype ("mixed");
      g_autoptr(GMimePart) part = g_mime_part_new_with_type ("application", "pdf");
      g_autoptr(GMimeStream) stream = NULL;
      g_autoptr(GMimeDataWrapper) wrapper = NULL;
      g_autofree char *data = NULL;
      gsize len;

      if (!g_file_get_contents (msg->attachment_path, &data, &len, error))
        {
          g_prefix_error (error, "attachment of message %s: ", msg->id);
          if (*error != NULL)
            {
              (*error)->domain = RECOUP_MAIL_ERROR;
              (*error)->code = RECOUP_MAIL_ERROR_PERMANENT;
            }
          return NULL;
        }
      stream = g_mime_stream_mem_new_with_buffer (data, len);
      wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
      g_mime_part_set_content (part, wrapper);
      g_mime_part_set_filename (part, msg->attachment_name ? msg->attachment_name : "letter.pdf");
      g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BASE64);
      g_mime_multipart_add (mixed, GMIME_OBJECT (text));
      g_mime_multipart_add (mixed, GMIME_OBJECT (part));
      g_mime_message_set_mime_part (message, GMIME_OBJECT (mixed));
    }
  else
    g_mime_message_set_mime_part (message, GMIME_OBJECT (text));

  out = g_mime_stream_mem_new ();
  options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  g_mime_object_write_to_stream (GMIME_OBJECT (message), options, out);
  g_mime_format_options_free (options);
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (out));
  return g_bytes_new (bytes->data, bytes->len);
}
