/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-window.h"

G_BEGIN_DECLS

/* `recoup --bench`: prints when the first worklist rows are drawn, the memory
 * then, how long a jump of 10,000 rows takes to draw, and (after a day's first
 * start) when the ranks were brought up to date; then quits. */
void recoup_app_bench_attach (RecoupWindow *window,
                              gint64        main_us);

G_END_DECLS
