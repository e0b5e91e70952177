/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "recoup-core.h"

static void
test_uuid7_format (void)
{
  g_autofree char *id = recoup_uuid7_new ();
  gint64 now = recoup_wall_clock_ms ();
  gint64 t;

  g_assert_true (recoup_uuid_is_valid (id));
  g_assert_cmpint (id[14], ==, '7');                       /* version */
  g_assert_true (strchr ("89ab", id[19]) != NULL);         /* RFC 9562 variant */
  t = recoup_uuid7_get_time (id);
  g_assert_cmpint (t, <=, now);
  g_assert_cmpint (now - t, <, 5000);
  g_assert_false (recoup_uuid_is_valid ("not-a-uuid"));
  g_assert_cmpint (recoup_uuid7_get_time ("nope"), ==, -1);
}

/* Ids made one after another sort in the order they were made, even many in
 * one millisecond and when the wall clock goes backwards. */
static void
test_uuid7_monotonic (void)
{
  char prev[RECOUP_UUID_STRING_LEN + 1];
  char next[RECOUP_UUID_STRING_LEN + 1];
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gint64 base = recoup_wall_clock_ms () + 100000;

  recoup_uuid7_generate_at (base, prev);
  for (int i = 0; i < 20000; i++)
    {
      /* Mostly the same millisecond, sometimes a step back. */
      gint64 at = base + (i / 5000) - ((i % 97) == 0 ? 1000 : 0);

      recoup_uuid7_generate_at (at, next);
      g_assert_cmpint (strcmp (prev, next), <, 0);
      g_assert_true (g_hash_table_add (seen, g_strdup (next)));
      memcpy (prev, next, sizeof prev);
    }
}

/* A derived id is a valid UUIDv7 that depends on its instant and name only,
 * so every replica that derives the same row gives it the same id. */
static void
test_uuid7_derive (void)
{
  char a[RECOUP_UUID_STRING_LEN + 1];
  char b[RECOUP_UUID_STRING_LEN + 1];
  char c[RECOUP_UUID_STRING_LEN + 1];
  char d[RECOUP_UUID_STRING_LEN + 1];
  gint64 at = 1767225600000;   /* 2026-01-01T00:00:00Z */

  recoup_uuid7_derive (at, "offer-conflict:0190aaaa", a);
  g_free (recoup_uuid7_new ());   /* the random generator's state plays no part */
  recoup_uuid7_derive (at, "offer-conflict:0190aaaa", b);
  recoup_uuid7_derive (at, "offer-conflict:0190aaab", c);
  recoup_uuid7_derive (at + 1, "offer-conflict:0190aaaa", d);

  g_assert_true (recoup_uuid_is_valid (a));
  g_assert_cmpint (a[14], ==, '7');
  g_assert_true (strchr ("89ab", a[19]) != NULL);
  g_assert_cmpint (recoup_uuid7_get_time (a), ==, at);
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, !=, c);
  g_assert_cmpint (strcmp (a, d), <, 0);
  /* The name's hash, not the instant, fills the bits after the timestamp. */
  g_assert_cmpstr (a + 14, ==, d + 14);
  /* Pinned: a change here would give every book's derived rows new ids. */
  g_assert_cmpstr (a, ==, "019b76da-a800-7dcc-bfb4-a99d46e9e777");
}

static void
test_hlc_monotonic (void)
{
  RecoupHlc hlc;
  gint64 last = 0;
  gint64 wall = 1700000000000;

  recoup_hlc_init (&hlc, 0);
  for (int i = 0; i < 100000; i++)
    {
      gint64 stamp;

      /* The wall clock jitters and, every so often, jumps an hour back. */
      if (i % 1000 == 999)
        wall -= 3600 * 1000;
      else
        wall += g_test_rand_int_range (-2, 3);
      stamp = recoup_hlc_now (&hlc, wall);
      g_assert_cmpint (stamp, >, last);
      last = stamp;
    }
}

static void
test_hlc_counter_overflow (void)
{
  RecoupHlc hlc;
  gint64 stamp;

  recoup_hlc_init (&hlc, RECOUP_HLC_MAKE (1000, 0xfffe));
  stamp = recoup_hlc_now (&hlc, 10);
  g_assert_cmpint (RECOUP_HLC_MS (stamp), ==, 1000);
  g_assert_cmpint (RECOUP_HLC_COUNTER (stamp), ==, 0xffff);
  stamp = recoup_hlc_now (&hlc, 10);
  g_assert_cmpint (RECOUP_HLC_MS (stamp), ==, 1001);
  g_assert_cmpint (RECOUP_HLC_COUNTER (stamp), ==, 0);
}

static void
test_hlc_observe (void)
{
  RecoupHlc hlc;
  gint64 remote = RECOUP_HLC_MAKE (5000, 7);
  gint64 stamp;

  recoup_hlc_init (&hlc, RECOUP_HLC_MAKE (1000, 0));
  stamp = recoup_hlc_observe (&hlc, remote, 2000);
  g_assert_cmpint (stamp, >, remote);
  g_assert_cmpint (RECOUP_HLC_MS (stamp), ==, 5000);
  /* The wall clock catching up resets the counter. */
  stamp = recoup_hlc_now (&hlc, 6000);
  g_assert_cmpint (stamp, ==, RECOUP_HLC_MAKE (6000, 0));
  g_assert_cmpint (recoup_hlc_compare (stamp, "a", stamp, "b"), <, 0);
  g_assert_cmpint (recoup_hlc_compare (stamp + 1, "a", stamp, "b"), >, 0);
}

/* The clock is stored with each write and survives a reopen, even if the wall
 * clock is far behind the last stamp. */
static void
test_hlc_persisted (void)
{
  g_autofree char *dir = g_dir_make_tmp ("recoup-ids-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "book.recoup", NULL);
  g_autoptr(GError) error = NULL;
  gint64 first;
  RecoupBook *book;
  RecoupAccountSpec spec = { .ref = "A1", .name = "Ada", .currency = "USD" };
  g_autofree char *id = NULL;

  book = recoup_book_open (path, 0, &error);
  g_assert_no_error (error);
  id = recoup_account_create (book, &spec, &error);
  g_assert_no_error (error);
  g_object_unref (book);

  book = recoup_book_open (path, 0, &error);
  g_assert_no_error (error);
  {
    g_autofree char *saved = recoup_book_get_setting (book, "hlc");
    g_assert_nonnull (saved);
    first = g_ascii_strtoll (saved, NULL, 10);
    g_assert_cmpint (first, >, 0);
  }
  spec.ref = "A2";
  g_free (id);
  id = recoup_account_create (book, &spec, &error);
  g_assert_no_error (error);
  {
    g_autofree char *saved = recoup_book_get_setting (book, "hlc");
    g_assert_cmpint (g_ascii_strtoll (saved, NULL, 10), >, first);
  }
  g_object_unref (book);
  g_unlink (path);
  {
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (path, "-shm", NULL);
    g_unlink (wal);
    g_unlink (shm);
  }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recoup/core/ids/uuid7-format", test_uuid7_format);
  g_test_add_func ("/recoup/core/ids/uuid7-monotonic", test_uuid7_monotonic);
  g_test_add_func ("/recoup/core/ids/uuid7-derive", test_uuid7_derive);
  g_test_add_func ("/recoup/core/clock/monotonic", test_hlc_monotonic);
  g_test_add_func ("/recoup/core/clock/counter-overflow", test_hlc_counter_overflow);
  g_test_add_func ("/recoup/core/clock/observe", test_hlc_observe);
  g_test_add_func ("/recoup/core/clock/persisted", test_hlc_persisted);
  return g_test_run ();
}
