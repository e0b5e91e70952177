/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

typedef struct
{
  guint       n_accounts;
  guint32     seed;
  const char *today;     /* YYYY-MM-DD the history ends on; NULL: the book's today */
} RecoupDemoOptions;

gboolean recoup_demo_generate   (RecoupBook              *book,
                                 const RecoupDemoOptions *options,
                                 RecoupProgressFunc       progress,
                                 gpointer                 progress_data,
                                 GCancellable            *cancellable,
                                 GError                 **error);

/* What one run of the generator wrote (for its summary). */
typedef struct
{
  guint64 accounts;
  guint64 contact_points;
  guint64 invoices;
  guint64 ledger_entries;   /* charges included */
  guint64 activities;
  guint64 promises;
  guint64 disputes;
  guint64 users;
} RecoupDemoCounts;

/* recoup_demo_generate() that also reports what it wrote in @out_counts
 * (zeroed first; on failure it holds what the committed batches wrote). */
gboolean recoup_demo_generate_counted (RecoupBook              *book,
                                       const RecoupDemoOptions *options,
                                       RecoupProgressFunc       progress,
                                       gpointer                 progress_data,
                                       GCancellable            *cancellable,
                                       RecoupDemoCounts        *out_counts,
                                       GError                 **error);

/* Writes an import CSV (the documented format) of @n_invoices invoices over
 * about @n_invoices / 2 accounts; used by the import benchmark and tests. */
gboolean recoup_demo_write_csv  (const char              *path,
                                 guint                    n_invoices,
                                 guint32                  seed,
                                 const char              *today,
                                 GError                 **error);

G_END_DECLS
