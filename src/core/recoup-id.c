/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-id"

#include "config.h"

#include <string.h>
#include <sys/random.h>

#include "recoup-id.h"

static GMutex uuid_lock;
static gint64 uuid_last_ms;
static guint  uuid_seq;

/* One getrandom() call per id showed up in import profiles: draw 4 KiB at a
 * time per thread and hand it out. */
typedef struct
{
  guint8 bytes[4096];
  gsize  used;
} RandomPool;

static void
fill_random_direct (guint8 *buf,
                    gsize   len);

static void
fill_random (guint8 *buf,
             gsize   len)
{
  static GPrivate pool_key = G_PRIVATE_INIT (g_free);
  RandomPool *pool = g_private_get (&pool_key);

  if (pool == NULL)
    {
      pool = g_new (RandomPool, 1);
      pool->used = sizeof pool->bytes;
      g_private_set (&pool_key, pool);
    }
  if (len > sizeof pool->bytes)
    {
      fill_random_direct (buf, len);
      return;
    }
  if (pool->used + len > sizeof pool->bytes)
    {
      fill_random_direct (pool->bytes, sizeof pool->bytes);
      pool->used = 0;
    }
  memcpy (buf, pool->bytes + pool->used, len);
  /* Never hand out the same bytes twice. */
  memset (pool->bytes + pool->used, 0, len);
  pool->used += len;
}

static void
fill_random_direct (guint8 *buf,
                    gsize   len)
{
  gsize done = 0;

  while (done < len)
    {
      gssize r = getrandom (buf + done, len - done, 0);

      if (r <= 0)
        {
          /* getrandom() cannot fail for small buffers once the pool is ready;
           * fall back to GLib's generator rather than aborting. */
          for (; done < len; done++)
            buf[done] = (guint8) g_random_int ();
          return;
        }
      done += (gsize) r;
    }
}

/* The 48-bit big-endian millisecond timestamp that starts a UUIDv7. */
static void
put_unix_ms (guint8 b[16],
             gint64 unix_ms)
{
  for (int i = 0; i < 6; i++)
    b[i] = (guint8) (unix_ms >> (40 - 8 * i));
}

static void
format_uuid (const guint8  b[16],
             char          out[RECOUP_UUID_STRING_LEN + 1])
{
  static const char hex[] = "0123456789abcdef";
  int o = 0;

  for (int i = 0; i < 16; i++)
    {
      if (i == 4 || i == 6 || i == 8 || i == 10)
        out[o++] = '-';
      out[o++] = hex[b[i] >> 4];
      out[o++] = hex[b[i] & 0x0f];
    }
  out[o] = '\0';
}

void
recoup_uuid7_generate_at (gint64 unix_ms,
                          char   out[RECOUP_UUID_STRING_LEN + 1])
{
  guint8 b[16];
  guint seq;

  fill_random (b, sizeof b);

  g_mutex_lock (&uuid_lock);
  if (unix_ms > uuid_last_ms)
    {
      uuid_last_ms = unix_ms;
      /* Start the sequence low and random, leaving room to count up. */
      uuid_seq = ((guint) b[6] << 8 | b[7]) & 0x1ff;
    }
  else
    {
      /* Same millisecond, or the wall clock went back: stay on the last
       * timestamp and count up so ids keep increasing. */
      unix_ms = uuid_last_ms;
      if (++uuid_seq > 0xfff)
        {
          uuid_last_ms = ++unix_ms;
          uuid_seq = 0;
        }
    }
  seq = uuid_seq;
  g_mutex_unlock (&uuid_lock);

  put_unix_ms (b, unix_ms);
  b[6] = (guint8) (0x70 | ((seq >> 8) & 0x0f));
  b[7] = (guint8) (seq & 0xff);
  b[8] = (guint8) (0x80 | (b[8] & 0x3f));
  format_uuid (b, out);
}

/**
 * recoup_uuid7_derive:
 * @unix_ms: the instant the id's timestamp bits carry
 * @name: what the id names, e.g. "offer-conflict:<offer id>"
 * @out: (out): the id
 *
 * A valid UUIDv7 that is a function of @unix_ms and @name alone: every
 * replica that derives the same row (an offer's settlement discount, the
 * reversal of one entry) names it alike, so merge's insert-if-absent keeps it
 * once. The bits after the version and variant are the start of the name's
 * SHA-256.
 */
void
recoup_uuid7_derive (gint64      unix_ms,
                     const char *name,
                     char        out[RECOUP_UUID_STRING_LEN + 1])
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;
  guint8 b[16];

  g_return_if_fail (name != NULL);

  unix_ms = CLAMP (unix_ms, 0, (G_GINT64_CONSTANT (1) << 48) - 1);
  g_checksum_update (sum, (const guchar *) name, -1);
  g_checksum_get_digest (sum, digest, &len);
  memcpy (b + 6, digest, 10);
  put_unix_ms (b, unix_ms);
  b[6] = (guint8) (0x70 | (b[6] & 0x0f));
  b[8] = (guint8) (0x80 | (b[8] & 0x3f));
  format_uuid (b, out);
}

void
recoup_uuid7_derive_from (const char *of_id,
                          const char *name,
                          char        out[RECOUP_UUID_STRING_LEN + 1])
{
  recoup_uuid7_derive (MAX (recoup_uuid7_get_time (of_id), 0), name, out);
}

void
recoup_uuid7_generate (char out[RECOUP_UUID_STRING_LEN + 1])
{
  recoup_uuid7_generate_at (recoup_wall_clock_ms (), out);
}

char *
recoup_uuid7_new (void)
{
  char buf[RECOUP_UUID_STRING_LEN + 1];

  recoup_uuid7_generate (buf);
  return g_strdup (buf);
}

gboolean
recoup_uuid_is_valid (const char *text)
{
  if (text == NULL || strlen (text) != RECOUP_UUID_STRING_LEN)
    return FALSE;
  for (int i = 0; i < RECOUP_UUID_STRING_LEN; i++)
    {
      if (i == 8 || i == 13 || i == 18 || i == 23)
        {
          if (text[i] != '-')
            return FALSE;
        }
      else if (!g_ascii_isxdigit (text[i]))
        return FALSE;
    }
  return TRUE;
}

/* The Unix milliseconds of a UUIDv7, or -1 when @text is not one. */
gint64
recoup_uuid7_get_time (const char *text)
{
  gint64 ms = 0;
  int n = 0;

  if (!recoup_uuid_is_valid (text) || text[14] != '7')
    return -1;
  for (int i = 0; n < 12; i++)
    {
      if (text[i] == '-')
        continue;
      ms = (ms << 4) | g_ascii_xdigit_value (text[i]);
      n++;
    }
  return ms;
}

gint64
recoup_wall_clock_ms (void)
{
  return g_get_real_time () / 1000;
}

void
recoup_hlc_init (RecoupHlc *hlc,
                 gint64     last)
{
  hlc->last = last;
}

/*
 * A stamp for a local event. The physical part never goes below the last stamp,
 * so a wall clock that steps backwards (NTP, a dead CMOS battery) only makes the
 * counter run until real time catches up.
 */
gint64
recoup_hlc_now (RecoupHlc *hlc,
                gint64     wall_ms)
{
  gint64 last_ms = RECOUP_HLC_MS (hlc->last);
  guint counter = RECOUP_HLC_COUNTER (hlc->last);

  if (wall_ms > last_ms)
    hlc->last = RECOUP_HLC_MAKE (wall_ms, 0);
  else if (counter < 0xffff)
    hlc->last = RECOUP_HLC_MAKE (last_ms, counter + 1);
  else
    hlc->last = RECOUP_HLC_MAKE (last_ms + 1, 0);

  return hlc->last;
}

/* Raises the clock past a stamp seen from another device; returns the new stamp. */
gint64
recoup_hlc_observe (RecoupHlc *hlc,
                    gint64     remote,
                    gint64     wall_ms)
{
  if (remote > hlc->last)
    hlc->last = remote;
  return recoup_hlc_now (hlc, wall_ms);
}

char *
recoup_hlc_to_string (gint64 hlc)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (RECOUP_HLC_MS (hlc) / 1000);
  g_autofree char *iso = dt != NULL ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S") : g_strdup ("?");

  return g_strdup_printf ("%s.%03dZ+%u", iso, (int) (RECOUP_HLC_MS (hlc) % 1000),
                          RECOUP_HLC_COUNTER (hlc));
}

int
recoup_hlc_compare (gint64      a,
                    const char *device_a,
                    gint64      b,
                    const char *device_b)
{
  if (a != b)
    return a < b ? -1 : 1;
  return g_strcmp0 (device_a, device_b);
}
