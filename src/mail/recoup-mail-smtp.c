/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-mail"

#include "config.h"

#include <curl/curl.h>
#include <gmime/gmime.h>
#include <string.h>

#include "recoup-mail.h"

typedef struct
{
  const guint8 *data;
  gsize         len;
  gsize         pos;
} Upload;

static size_t
read_cb (char   *buffer,
         size_t  size,
         size_t  nitems,
         void   *user_data)
{
  Upload *up = user_data;
  gsize n = MIN (size * nitems, up->len - up->pos);

  memcpy (buffer, up->data + up->pos, n);
  up->pos += n;
  return n;
}

static void
ensure_curl (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&once, 1);
    }
}

static gboolean
host_is_loopback (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const char *host = uri ? g_uri_get_host (uri) : NULL;

  return host != NULL && (g_str_equal (host, "127.0.0.1") || g_str_equal (host, "::1") ||
                          g_str_equal (host, "localhost"));
}

/**
 * recoup_smtp_submit:
 *
 * One SMTP transaction to @config's server: MAIL FROM the configured
 * address (with SIZE when the server supports it), RCPT TO @to_addr, DATA
 * @message. STARTTLS is required for smtp:// unless security is "none" on a
 * loopback host; smtps:// is implicit TLS. The error code says whether a retry
 * can help (TRANSIENT), cannot (PERMANENT), or the settings need fixing (CONFIG,
 * AUTH, TLS).
 */
gboolean
recoup_smtp_submit (const RecoupSmtpConfig  *config,
                    const char              *to_addr,
                    GBytes                  *message,
                    GError                 **error)
{
  CURL *curl;
  struct curl_slist *rcpt = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  g_autofree char *mail_from = NULL;
  g_autofree char *rcpt_to = NULL;
  Upload up;
  CURLcode rc;
  long response = 0;
  int code;

  if (!recoup_email_address_validate (to_addr, error))
    {
      (*error)->domain = RECOUP_MAIL_ERROR;
      (*error)->code = RECOUP_MAIL_ERROR_PERMANENT;
      return FALSE;
    }
  ensure_curl ();
  curl = curl_easy_init ();
  if (curl == NULL)
    {
      g_set_error (error, RECOUP_MAIL_ERROR, RECOUP_MAIL_ERROR_TRANSIENT, "could not start libcurl");
      return FALSE;
    }

  up.data = g_bytes_get_data (message, &up.len);
  up.pos = 0;
  mail_from = g_strdup_printf ("<%s>", config->from_addr);
  rcpt_to = g_strdup_printf ("<%s>", to_addr);
  rcpt = curl_slist_append (rcpt, rcpt_to);

  curl_easy_setopt (curl, CURLOPT_URL, config->url);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt (curl, CURLOPT_MAIL_FROM, mail_from);
  curl_easy_setopt (curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt (curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt (curl, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt (curl, CURLOPT_READDATA, &up);
  curl_easy_setopt (curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) up.len);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, MIN (config->timeout_s, 30L));
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, config->timeout_s);
  if (g_strcmp0 (config->security, "none") != 0)
    curl_easy_setopt (curl, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
  if (config->username != NULL && *config->username != '\0')
    {
      curl_easy_setopt (curl, CURLOPT_USERNAME, config->username);
      curl_easy_setopt (curl, CURLOPT_PASSWORD, config->password ? config->password : "");
    }

  rc = curl_easy_perform (curl);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &response);
  curl_slist_free_all (rcpt);
  curl_easy_cleanup (curl);

  if (rc == CURLE_OK)
    return TRUE;

  switch (rc)
    {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
      code = RECOUP_MAIL_ERROR_TRANSIENT;
      break;
    case CURLE_LOGIN_DENIED:
    case CURLE_AUTH_ERROR:
      code = RECOUP_MAIL_ERROR_AUTH;
      break;
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      code = RECOUP_MAIL_ERROR_TLS;
      break;
    case CURLE_FILESIZE_EXCEEDED:
      code = RECOUP_MAIL_ERROR_PERMANENT;
      break;
    default:
      code = response >= 500 ? RECOUP_MAIL_ERROR_PERMANENT : RECOUP_MAIL_ERROR_TRANSIENT;
      break;
    }
  /* A refusal after the connection: the server's code decides. */
  if (code == RECOUP_MAIL_ERROR_TRANSIENT && response >= 500 && response != 530 && response != 535)
    code = RECOUP_MAIL_ERROR_PERMANENT;
  if (response == 535 || response == 530)
    code = RECOUP_MAIL_ERROR_AUTH;
  if (response == 552)
    code = RECOUP_MAIL_ERROR_PERMANENT;

  if (response != 0)
    g_set_error (error, RECOUP_MAIL_ERROR, code, "%s: %s (the server answered %ld)",
                 config->url, *errbuf ? errbuf : curl_easy_strerror (rc), response);
  else
    g_set_error (error, RECOUP_MAIL_ERROR, code, "%s: %s",
                 config->url, *errbuf ? errbuf : curl_easy_strerror (rc));
  return FALSE;
}

/* ---------------------------------------------------------------------------
 * Settings and the password
 * ------------------------------------------------------------------------- */

void
recoup_smtp_config_clear (RecoupSmtpConfig *config)
{
  g_clear_pointer (&config->url, g_free);
  g_clear_pointer (&config->security, g_free);
  g_clear_pointer (&config->username, g_free);
  if (config->password != NULL)
    memset (config->password, 0, strlen (config->password));
  g_clear_pointer (&config->password, g_free);
  g_clear_pointer (&config->from, g_free);
  g_clear_pointer (&config->from_addr, g_free);
}

gboolean
recoup_smtp_config_load (RecoupBook        *book,
                         RecoupSmtpConfig  *config,
                         GError           **error)
{
  InternetAddressList *list;
  InternetAddress *addr;

  memset (config, 0, sizeof *config);
  config->url = recoup_book_get_setting (book, "smtp.url");
  config->security = recoup_book_get_setting (book, "smtp.security");
  config->username = recoup_book_get_setting (book, "smtp.username");
  config->from = recoup_book_get_setting (book, "smtp.from");
  config->max_bytes = recoup_settings_get_int (book, "smtp.max_bytes", 10 * 1024 * 1024, 1024, G_MAXINT32);
  config->timeout_s = (long) recoup_settings_get_int (book, "smtp.timeout", 60, 1, 3600);
  config->lease_ms = 1000 * recoup_settings_get_int (book, "smtp.lease_seconds", 600, 0, 86400);

  if (config->url == NULL || !(g_str_has_prefix (config->url, "smtp://") ||
                               g_str_has_prefix (config->url, "smtps://")))
    {
      g_set_error (error, RECOUP_MAIL_ERROR, RECOUP_MAIL_ERROR_CONFIG,
                   "no mail server: set smtp.url to smtp://host:587 (STARTTLS) or smtps://host:465 "
                   "with `recoup-cli outbox setup --url URL --from ADDRESS`; the messages stay queued");
      goto fail;
    }
  if (config->security == NULL)
    config->security = g_strdup (g_str_has_prefix (config->url, "smtps://") ? "tls" : "starttls");
  if (g_strcmp0 (config->security, "starttls") && g_strcmp0 (config->security, "tls") &&
      g_strcmp0 (config->security, "none"))
    {
      g_set_error (error, RECOUP_MAIL_ERROR, RECOUP_MAIL_ERROR_CONFIG,
                   "smtp.security “%s” is not starttls, tls or none", config->security);
      goto fail;
    }
  if (g_str_equal (config->security, "none") && !host_is_loopback (config->url))
    {
      g_set_error (error, RECOUP_MAIL_ERROR, RECOUP_MAIL_ERROR_CONFIG,
                   "smtp.security “none” sends the password and the messages in clear text; it is "
                   "allowed only for a server on this machine (127.0.0.1). Use starttls or tls");
      goto fail;
    }
  if (g_str_equal (config->security, "tls") && g_str_has_prefix (config->url, "smtp://"))
    {
      char *u = g_strconcat ("smtps://", config->url + strlen ("smtp://"), NULL);

      g_free (config->url);
      config->url = u;
    }

  if (config->from == NULL || *config->from == '\0')
    {
      g_set_error (error, RECOUP_MAIL_ERROR, RECOUP_MAIL_ERROR_CONFIG,
                   "no sender address: set smtp.from (e.g. “Acme Receivables <ar@acme.example>”)");
      goto fail;
    }
  g_mime_init ();
  list = internet_address_list_parse (NULL, config->from);
  addr = list && internet_address_list_length (list) == 1 ? internet_address_list_get_address (list, 0) : NULL;
  if (addr == NULL || !INTERNET_ADDRESS_IS_MAILBOX (addr) ||
      !recoup_email_address_validate (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (addr)), NULL))
    {
      g_clear_object (&list);
      g_set_error (error, RECOUP_MAIL_ERROR, RECOUP_MAIL_ERROR_CONFIG,
                   "smtp.from “%s” is not one email address", config->from);
      goto fail;
    }
  config->from_addr = g_strdup (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (addr)));
  g_object_unref (list);

  if (config->username != NULL && *config->username != '\0')
    config->password = recoup_smtp_password_lookup (book);
  return TRUE;

fail:
  recoup_smtp_config_clear (config);
  return FALSE;
}
