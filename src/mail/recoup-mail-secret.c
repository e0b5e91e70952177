/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-mail"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <string.h>

#ifdef HAVE_LIBSECRET
#include <libsecret/secret.h>
#endif

#include "recoup-mail.h"

/*
 * The SMTP password: in the Secret Service (attributes url + username) when
 * libsecret is built in and a keyring answers; otherwise in
 * $XDG_CONFIG_HOME/recoup/smtp-<hash>.secret, mode 0600. RECOUP_NO_KEYRING=1
 * skips the keyring (tests, headless servers).
 */

#ifdef HAVE_LIBSECRET
static const SecretSchema smtp_schema = {
  "org.recoup.Smtp", SECRET_SCHEMA_NONE,
  {
    { "url", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  }
};
#endif

static gboolean
keyring_usable (void)
{
  return g_getenv ("RECOUP_NO_KEYRING") == NULL && g_getenv ("DBUS_SESSION_BUS_ADDRESS") != NULL;
}

static char *
secret_file (RecoupBook *book)
{
  g_autofree char *url = recoup_book_get_setting (book, "smtp.url");
  g_autofree char *user = recoup_book_get_setting (book, "smtp.username");
  g_autofree char *key = g_strdup_printf ("%s\n%s", url ? url : "", user ? user : "");
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  g_autofree char *name = g_strdup_printf ("smtp-%.16s.secret", hash);

  return g_build_filename (g_get_user_config_dir (), "recoup", name, NULL);
}

gboolean
recoup_smtp_password_store (RecoupBook  *book,
                            const char  *password,
                            GError     **error)
{
  g_autofree char *path = secret_file (book);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *tmp = NULL;
  int fd;

#ifdef HAVE_LIBSECRET
  if (keyring_usable ())
    {
      g_autofree char *url = recoup_book_get_setting (book, "smtp.url");
      g_autofree char *user = recoup_book_get_setting (book, "smtp.username");

      if (secret_password_store_sync (&smtp_schema, SECRET_COLLECTION_DEFAULT, "Recoup SMTP password",
                                      password, NULL, NULL, "url", url ? url : "",
                                      "username", user ? user : "", NULL))
        return TRUE;
      /* No keyring after all: fall back to the file. */
    }
#endif

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int e = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: %s", dir, g_strerror (e));
      return FALSE;
    }
  tmp = g_strconcat (path, ".tmp", NULL);
  fd = g_open (tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write (fd, password, strlen (password)) != (gssize) strlen (password) ||
      fsync (fd) != 0 || !g_close (fd, NULL) || g_rename (tmp, path) != 0)
    {
      int e = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: %s", path, g_strerror (e));
      g_unlink (tmp);
      return FALSE;
    }
  return TRUE;
}

char *
recoup_smtp_password_lookup (RecoupBook *book)
{
  g_autofree char *path = secret_file (book);
  char *contents = NULL;

#ifdef HAVE_LIBSECRET
  if (keyring_usable ())
    {
      g_autofree char *url = recoup_book_get_setting (book, "smtp.url");
      g_autofree char *user = recoup_book_get_setting (book, "smtp.username");
      char *pw = secret_password_lookup_sync (&smtp_schema, NULL, NULL, "url", url ? url : "",
                                              "username", user ? user : "", NULL);

      if (pw != NULL)
        {
          contents = g_strdup (pw);
          secret_password_free (pw);
          return contents;
        }
    }
#endif
  if (g_file_get_contents (path, &contents, NULL, NULL))
    return g_strchomp (contents);
  return NULL;
}
