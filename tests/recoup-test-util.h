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

static inline void
test_remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
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
