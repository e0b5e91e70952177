/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-derived"

#include "config.h"

#include "recoup-book-private.h"

/* Derived per-account data is refreshed here for every account a transaction
 * wrote. The scoring module fills this in; until then there is nothing to do. */
gboolean
recoup_book_refresh_accounts (RecoupBook  *self,
                              GHashTable  *account_ids,
                              GError     **error)
{
  return TRUE;
}
