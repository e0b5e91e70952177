/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Small helpers shared by the benchmarks that time reads of a demo book. */

#include <stdlib.h>

#include "recoup-book-private.h"

static inline int
bench_compare_gint64 (gconstpointer a,
                      gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* Sorts @us (microseconds) and returns their median in milliseconds. */
static inline double
bench_median_ms (gint64 *us,
                 guint   n)
{
  qsort (us, n, sizeof (gint64), bench_compare_gint64);
  return (n % 2 ? us[n / 2] : (us[n / 2 - 1] + us[n / 2]) / 2) / 1000.0;
}

/* The first column of the first row of @sql, or NULL. */
static inline char *
bench_query_text (RecoupBook *book,
                  const char *sql)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, sql, NULL);
  char *v = NULL;

  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    v = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return v;
}
