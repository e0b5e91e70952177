/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Small helpers shared by the core tests: a book in a fresh temp dir. */

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "recoup-core.h"

typedef struct
{
  char       *dir;
  char       *path;
  RecoupBook *book;
} TestBook;

static inline void
test_book_open (TestBook *tb)
{
  g_autoptr(GError) error = NULL;

  tb->dir = g_dir_make_tmp ("recoup-test-XXXXXX", &error);
  g_assert_no_error (error);
  tb->path = g_build_filename (tb->dir, "book.recoup", NULL);
  tb->book = recoup_book_open (tb->path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
}

/* Removes @dir and everything under it (or @dir itself when it is a file). */
static inline void
test_remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    {
      g_remove (dir);
      return;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);

      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        test_remove_tree (p);
      else
        g_unlink (p);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

static inline void
test_book_close (TestBook *tb)
{
  g_clear_object (&tb->book);
  test_remove_tree (tb->dir);
  g_clear_pointer (&tb->dir, g_free);
  g_clear_pointer (&tb->path, g_free);
}

/* Runs a one-value SQL query on the book's file through a separate connection. */
static inline gint64
test_query_int (const char *path,
                const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 v = -1;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return v;
}

static inline char *
test_add_account (RecoupBook *book,
                  const char *ref,
                  const char *currency)
{
  g_autoptr(GError) error = NULL;
  RecoupAccountSpec spec = { .ref = ref, .name = "Test Debtor", .currency = currency,
                             .timezone = "America/Chicago" };
  char *id = recoup_account_create (book, &spec, &error);

  g_assert_no_error (error);
  return id;
}

static inline char *
test_add_invoice (RecoupBook *book,
                  const char *account_id,
                  const char *ref,
                  const char *issue,
                  const char *due,
                  gint64      amount,
                  const char *currency)
{
  g_autoptr(GError) error = NULL;
  RecoupInvoiceSpec spec = { .account_id = account_id, .ref = ref, .issue_date = issue,
                             .due_date = due, .amount = amount, .currency = currency };
  char *id = recoup_invoice_add (book, &spec, &error);

  g_assert_no_error (error);
  return id;
}

/* A self-signed certificate for 127.0.0.1 and localhost (openssl), written to
 * @key_path and @cert_path; returns the hex SHA-256 of its DER, the
 * fingerprint enrollment codes carry. */
static inline char *
test_make_certificate (const char *key_path,
                       const char *cert_path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(GByteArray) der = NULL;
  int status = 0;
  const char *argv[] = {
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
    "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout", key_path, "-out", cert_path, NULL,
  };

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("openssl failed: %s", err);
  cert = g_tls_certificate_new_from_file (cert_path, &error);
  g_assert_no_error (error);
  g_object_get (cert, "certificate", &der, NULL);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}
