/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RECOUP_UUID_STRING_LEN 36

/* UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit sequence that keeps
 * ids made in the same millisecond by this process strictly increasing, then random.
 * recoup_uuid7_derive() makes the id of a row every replica derives alike: its
 * time is given and the rest is a hash of a name. */
char     *recoup_uuid7_new          (void);
void      recoup_uuid7_generate     (char        out[RECOUP_UUID_STRING_LEN + 1]);
void      recoup_uuid7_generate_at  (gint64      unix_ms,
                                     char        out[RECOUP_UUID_STRING_LEN + 1]);
void      recoup_uuid7_derive       (gint64      unix_ms,
                                     const char *name,
                                     char        out[RECOUP_UUID_STRING_LEN + 1]);
/* recoup_uuid7_derive() timed as the row @of_id stands for (its own UUIDv7
 * time): the id of a row derived from another one. */
void      recoup_uuid7_derive_from  (const char *of_id,
                                     const char *name,
                                     char        out[RECOUP_UUID_STRING_LEN + 1]);
gboolean  recoup_uuid_is_valid      (const char *text);
gint64    recoup_uuid7_get_time     (const char *text);

/* Hybrid logical clock: 48 bits of milliseconds and a 16-bit counter in one gint64,
 * so that comparing two stamps as integers orders them. Ties break on device id. */
typedef struct
{
  gint64 last;
} RecoupHlc;

#define RECOUP_HLC_MS(h)       ((gint64) ((guint64) (h) >> 16))
#define RECOUP_HLC_COUNTER(h)  ((guint) ((guint64) (h) & 0xffff))
#define RECOUP_HLC_MAKE(ms, c) ((gint64) (((guint64) (ms) << 16) | ((guint64) (c) & 0xffff)))

void    recoup_hlc_init     (RecoupHlc *hlc,
                             gint64     last);
gint64  recoup_hlc_now      (RecoupHlc *hlc,
                             gint64     wall_ms);
gint64  recoup_hlc_observe  (RecoupHlc *hlc,
                             gint64     remote,
                             gint64     wall_ms);
char   *recoup_hlc_to_string (gint64    hlc);
int     recoup_hlc_compare  (gint64      a,
                             const char *device_a,
                             gint64      b,
                             const char *device_b);

gint64  recoup_wall_clock_ms (void);

G_END_DECLS
