/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

char     *recoup_dispute_open     (RecoupBook  *book,
                                   const char  *account_id,
                                   const char  *invoice_id,   /* nullable: the whole account */
                                   const char  *reason,
                                   GError     **error);
gboolean  recoup_dispute_resolve  (RecoupBook  *book,
                                   const char  *dispute_id,
                                   gboolean     upheld,
                                   const char  *resolution,
                                   GError     **error);

G_END_DECLS
