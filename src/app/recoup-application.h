/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "recoup-window.h"

G_BEGIN_DECLS

#define RECOUP_TYPE_APPLICATION (recoup_application_get_type ())
G_DECLARE_FINAL_TYPE (RecoupApplication, recoup_application, RECOUP, APPLICATION, AdwApplication)

RecoupApplication *recoup_application_new         (void);
/* Opens @path (creating an empty book when @create) in a worker thread and
 * presents a window for it. */
void               recoup_application_open_book   (RecoupApplication *self,
                                                   const char        *path);
RecoupWindow      *recoup_application_get_window  (RecoupApplication *self);

G_END_DECLS
