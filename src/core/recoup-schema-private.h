/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "recoup-book.h"

G_BEGIN_DECLS

/* "Recp" in ASCII: PRAGMA application_id of every Recoup book. */
#define RECOUP_APPLICATION_ID 0x52656370

const char *recoup_schema_get_migration (int from_version);
gboolean    recoup_schema_finish_migration (RecoupBook  *book,
                                            int          to_version,
                                            GError     **error);

G_END_DECLS
