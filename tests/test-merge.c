/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "recoup-book-private.h"
#include "recoup-core.h"
#include "recoup-test-util.h"

/* Merge rules in core, without a network: books exchange their change logs
 * directly, the way the server and the devices do. */

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->dir = g_dir_make_tmp ("recoup-merge-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_remove (path);
    }
  g_rmdir (dir);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  remove_tree (f->dir);
  g_free (f->dir);
}

static RecoupBook *
open_book (Fixture    *f,
           const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr(GError) error = NULL;
  RecoupBook *book = recoup_book_open (path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);

  g_assert_no_error (error);
  return book;
}

/* Every change in @book's log, in its local order. */
static GPtrArray *
all_changes (RecoupBook *book)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  sqlite3_stmt *stmt = NULL;
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), "SELECT seq FROM changes ORDER BY seq",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 seq = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (seqs, seq);
    }
  sqlite3_finalize (stmt);
  for (guint i = 0; i < seqs->len; i++)
    {
      g_autoptr(GError) error = NULL;
      JsonObject *obj = recoup_merge_change_from_row (book, g_array_index (seqs, gint64, i), &error);

      g_assert_no_error (error);
      json_object_remove_member (obj, "seq");
      g_ptr_array_add (out, obj);
    }
  return out;
}

static RecoupMergeStatus
apply (RecoupBook *book,
       JsonObject *change,
       char      **out_reason)
{
  RecoupMergeResult result = { 0 };
  g_autoptr(GError) error = NULL;
  RecoupMergeStatus status;

  g_assert_true (recoup_merge_apply (book, change, 0, &result, &error));
  g_assert_no_error (error);
  status = result.status;
  if (out_reason != NULL)
    *out_reason = g_strdup (result.reason);
  recoup_merge_result_clear (&result);
  return status;
}

/* Applies @changes to @dst in the given order; changes that cannot apply yet
 * (their row or parent has not arrived) are retried until nothing moves. */
static void
deliver (RecoupBook *dst,
         GPtrArray  *changes)
{
  g_autoptr(GPtrArray) pending = g_ptr_array_new ();
  gboolean progress = TRUE;

  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (pending, changes->pdata[i]);
  while (pending->len > 0 && progress)
    {
      g_autoptr(GPtrArray) again = g_ptr_array_new ();

      progress = FALSE;
      for (guint i = 0; i < pending->len; i++)
        {
          g_autofree char *reason = NULL;
          RecoupMergeStatus st = apply (dst, pending->pdata[i], &reason);

          if (st == RECOUP_MERGE_REJECTED)
            {
              g_assert_true (g_strcmp0 (reason, RECOUP_MERGE_REASON_MISSING_ROW) == 0 ||
                             g_strcmp0 (reason, RECOUP_MERGE_REASON_MISSING_REF) == 0);
              g_ptr_array_add (again, pending->pdata[i]);
            }
          else
            progress = TRUE;
        }
      g_ptr_array_set_size (pending, 0);
      for (guint i = 0; i < again->len; i++)
        g_ptr_array_add (pending, again->pdata[i]);
    }
  g_assert_cmpuint (pending->len, ==, 0);
}

static void
deliver_all (RecoupBook *src,
             RecoupBook *dst)
{
  g_autoptr(GPtrArray) changes = all_changes (src);

  deliver (dst, changes);
}

static char *
make_account (RecoupBook *book,
              const char *ref)
{
  RecoupAccountSpec spec = { .ref = ref, .name = ref, .currency = "USD", .timezone = "America/Chicago" };
  g_autoptr(GError) error = NULL;
  char *id = recoup_account_create (book, &spec, &error);

  g_assert_no_error (error);
  return id;
}

static char *
account_name (RecoupBook *book,
              const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) a = recoup_account_load (book, id, &error);

  g_assert_no_error (error);
  return g_strdup (a->name);
}

static gint64
count_rows (RecoupBook *book,
            const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

static char *
query_text (RecoupBook *book,
            const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *text;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return text;
}

/* A canonical dump of what must agree on every replica. */
static char *
canonical (RecoupBook *book)
{
  static const char * const tables[] = {
    "accounts", "contact_points", "invoices", "ledger_entries", "activities", NULL,
  };
  GString *out = g_string_new (NULL);

  for (guint t = 0; tables[t] != NULL; t++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT * FROM %s ORDER BY id", tables[t]);
      sqlite3_stmt *stmt = NULL;

      g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book), sql, -1, &stmt, NULL), ==, SQLITE_OK);
      g_string_append_printf (out, "[%s]\n", tables[t]);
      while (sqlite3_step (stmt) == SQLITE_ROW)
        {
          for (int c = 0; c < sqlite3_column_count (stmt); c++)
            g_string_append_printf (out, "%s|", sqlite3_column_type (stmt, c) == SQLITE_NULL ? "∅" :
                                    (const char *) sqlite3_column_text (stmt, c));
          g_string_append_c (out, '\n');
        }
      sqlite3_finalize (stmt);
    }
  {
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book),
                                         "SELECT id FROM changes ORDER BY id", -1, &stmt, NULL), ==, SQLITE_OK);
    g_string_append (out, "[changes]\n");
    while (sqlite3_step (stmt) == SQLITE_ROW)
      g_string_append_printf (out, "%s\n", sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
  }
  return g_string_free (out, FALSE);
}

static void
test_lww (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *id = make_account (a, "ACC-1");
  g_autofree char *name_a = NULL;
  g_autofree char *name_b = NULL;
  g_autoptr(JsonArray) conflicts = NULL;
  gboolean found = FALSE;

  deliver_all (a, b);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM accounts WHERE ref = 'ACC-1'"), ==, 1);

  /* Both edit the name offline; B edits later, so B wins everywhere. */
  g_assert_true (recoup_account_set (a, id, "name", "Name from A", &error));
  g_assert_no_error (error);
  g_usleep (2000);
  g_assert_true (recoup_account_set (b, id, "name", "Name from B", &error));
  g_assert_no_error (error);
  /* A field only A changed is not lost. */
  g_assert_true (recoup_account_set (a, id, "notes", "only A", &error));
  g_assert_no_error (error);

  deliver_all (a, b);
  deliver_all (b, a);
  name_a = account_name (a, id);
  name_b = account_name (b, id);
  g_assert_cmpstr (name_a, ==, "Name from B");
  g_assert_cmpstr (name_b, ==, "Name from B");
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM accounts WHERE notes = 'only A'"), ==, 1);

  /* A's losing value is kept where A's user can see it. */
  conflicts = recoup_merge_list_conflicts (a, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < json_array_get_length (conflicts); i++)
    {
      JsonObject *c = json_array_get_object_element (conflicts, i);
      if (g_str_equal (json_object_get_string_member (c, "field"), "name") &&
          g_strcmp0 (json_object_get_string_member (c, "value"), "Name from A") == 0)
        found = TRUE;
    }
  g_assert_true (found);

  /* The book's clock moved past what it merged. */
  {
    g_autofree char *dump_a = canonical (a);
    g_autofree char *dump_b = canonical (b);
    g_assert_cmpstr (dump_a, ==, dump_b);
  }
}

static void
test_idempotent (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autofree char *id = make_account (a, "ACC-1");
  RecoupActivitySpec act = { .account_id = id, .channel = "call", .outcome = "no-answer", .notes = "n" };
  g_autoptr(GError) error = NULL;
  g_autofree char *act_id = recoup_activity_log (a, &act, &error);
  g_autoptr(GPtrArray) changes = all_changes (a);
  gint64 before;

  g_assert_no_error (error);
  for (int round = 0; round < 3; round++)
    for (guint i = 0; i < changes->len; i++)
      g_assert_cmpint (apply (b, changes->pdata[i], NULL), ==,
                       round == 0 ? RECOUP_MERGE_APPLIED : RECOUP_MERGE_DUPLICATE);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM activities"), ==, 1);
  before = recoup_book_count_changes (b);
  g_assert_cmpint (before, ==, (gint64) changes->len);

  /* The same activity under a new change id (a resend that was re-stamped)
   * still inserts once: append-only rows insert if absent. */
  {
    JsonObject *last = changes->pdata[changes->len - 1];
    g_autofree char *new_id = recoup_uuid7_new ();
    g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
    JsonObject *copy;

    json_node_set_object (node, last);
    copy = json_node_get_object (json_node_copy (node));
    g_assert_cmpstr (json_object_get_string_member (copy, "entity"), ==, "activities");
    json_object_set_string_member (copy, "id", new_id);
    g_assert_cmpint (apply (b, copy, NULL), ==, RECOUP_MERGE_APPLIED);
    json_object_unref (copy);
  }
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM activities"), ==, 1);

  /* Merged changes keep their origin: nothing was re-recorded as B's own. */
  g_assert_cmpint (recoup_merge_count_unsent (b), ==, 0);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM changes WHERE device_id = (SELECT value FROM settings WHERE key = 'device_id')"), ==, 0);
}

static JsonObject *
parse (const char *json)
{
  g_autoptr(JsonNode) node = json_from_string (json, NULL);

  g_assert_nonnull (node);
  return json_object_ref (json_node_get_object (node));
}

static void
test_reject (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autofree char *id = make_account (a, "ACC-1");
  g_autofree char *dump = canonical (a);
  gint64 n = recoup_book_count_changes (a);
  struct { const char *fmt; const char *reason; } cases[] = {
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"nope\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":\"x\"},\"schema_version\":1}",
      RECOUP_MERGE_REASON_UNKNOWN_ENTITY },
    /* A setting that is not shared (here: a key nobody writes). */
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"settings\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"value\":\"x\"},\"schema_version\":1}",
      RECOUP_MERGE_REASON_NOT_SHARED },
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"changes\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"op\":\"x\"},\"schema_version\":1}",
      RECOUP_MERGE_REASON_UNKNOWN_ENTITY },
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"colour\":\"x\"},\"schema_version\":1}",
      RECOUP_MERGE_REASON_UNKNOWN_FIELD },
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":42},\"schema_version\":1}",
      RECOUP_MERGE_REASON_WRONG_TYPE },
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"lifetime_revenue\":\"lots\"},\"schema_version\":1}",
      RECOUP_MERGE_REASON_WRONG_TYPE },
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":\"x\"},\"schema_version\":999}",
      RECOUP_MERGE_REASON_SCHEMA_TOO_NEW },
    { "{\"id\":\"%s\",\"hlc\":\"soon\",\"device_id\":\"d\",\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":\"x\"},\"schema_version\":1}",
      RECOUP_MERGE_REASON_INVALID },
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"accounts\",\"entity_id\":\"%s-missing\",\"op\":\"set\",\"fields\":{\"name\":\"x\"},\"schema_version\":1}",
      RECOUP_MERGE_REASON_MISSING_ROW },
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"activities\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"notes\":\"x\"},\"schema_version\":1}",
      RECOUP_MERGE_REASON_UNSUPPORTED_OP },
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":null},\"schema_version\":1}",
      RECOUP_MERGE_REASON_WRONG_TYPE },
    /* Money past RECOUP_MONEY_LIMIT, however it arrives. */
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"accounts\",\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"lifetime_revenue\":1000000000000001},\"schema_version\":1}",
      RECOUP_MERGE_REASON_INVALID },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *cid = recoup_uuid7_new ();
      g_autofree char *json = g_strdup_printf (cases[i].fmt, cid, id);
      g_autoptr(JsonObject) change = parse (json);
      g_autofree char *reason = NULL;

      g_assert_cmpint (apply (a, change, &reason), ==, RECOUP_MERGE_REJECTED);
      g_assert_cmpstr (reason, ==, cases[i].reason);
    }
  /* An activity whose account does not exist: missing reference, nothing stored. */
  {
    g_autofree char *cid = recoup_uuid7_new ();
    g_autofree char *aid = recoup_uuid7_new ();
    g_autofree char *json = g_strdup_printf (
      "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"activities\",\"entity_id\":\"%s\","
      "\"op\":\"insert\",\"fields\":{\"id\":\"%s\",\"account_id\":\"nope\",\"channel\":\"call\","
      "\"at\":1,\"created_at\":1},\"schema_version\":1}", cid, aid, aid);
    g_autoptr(JsonObject) change = parse (json);
    g_autofree char *reason = NULL;

    g_assert_cmpint (apply (a, change, &reason), ==, RECOUP_MERGE_REJECTED);
    g_assert_cmpstr (reason, ==, RECOUP_MERGE_REASON_MISSING_REF);
  }
  /* A charge that would wrap the balance: refused before anything is stored. */
  {
    g_autofree char *cid = recoup_uuid7_new ();
    g_autofree char *eid = recoup_uuid7_new ();
    g_autofree char *json = g_strdup_printf (
      "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"ledger_entries\",\"entity_id\":\"%s\","
      "\"op\":\"insert\",\"fields\":{\"id\":\"%s\",\"account_id\":\"%s\",\"kind\":\"charge\","
      "\"amount\":9223372036854775807,\"currency\":\"USD\",\"effective_date\":\"2026-01-01\","
      "\"created_at\":1},\"schema_version\":1}", cid, eid, eid, id);
    g_autoptr(JsonObject) change = parse (json);
    g_autofree char *reason = NULL;

    g_assert_cmpint (apply (a, change, &reason), ==, RECOUP_MERGE_REJECTED);
    g_assert_cmpstr (reason, ==, RECOUP_MERGE_REASON_INVALID);
  }
  {
    g_autofree char *after = canonical (a);
    g_assert_cmpstr (after, ==, dump);
  }
  g_assert_cmpint (recoup_book_count_changes (a), ==, n);
}

static void
test_tombstone (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *id = make_account (a, "ACC-1");
  g_autofree char *cp = recoup_contact_add (a, id, RECOUP_CONTACT_PHONE, "+15555550100", "home", TRUE, &error);

  g_assert_no_error (error);
  deliver_all (a, b);
  g_assert_true (recoup_contact_remove (a, cp, &error));
  g_assert_no_error (error);
  deliver_all (a, b);
  g_assert_cmpint (count_rows (b, "SELECT deleted FROM contact_points"), ==, 1);

  /* A tombstone op from another replica deletes a row that has `deleted`… */
  {
    g_autofree char *cid = recoup_uuid7_new ();
    g_autofree char *json = g_strdup_printf (
      "{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"z\",\"entity\":\"accounts\","
      "\"entity_id\":\"%s\",\"op\":\"tombstone\",\"fields\":null,\"schema_version\":1}",
      cid, RECOUP_HLC_MAKE (recoup_wall_clock_ms () + 1000, 0), id);
    g_autoptr(JsonObject) change = parse (json);

    g_assert_cmpint (apply (b, change, NULL), ==, RECOUP_MERGE_APPLIED);
    g_assert_cmpint (count_rows (b, "SELECT deleted FROM accounts"), ==, 1);
    g_assert_cmpint (count_rows (b, "SELECT count(*) FROM changes WHERE op = 'tombstone'"), ==, 1);
  }
  /* …and is refused for rows that carry money: they are closed, never deleted. */
  {
    g_autofree char *cid = recoup_uuid7_new ();
    g_autofree char *json = g_strdup_printf (
      "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"z\",\"entity\":\"ledger_entries\","
      "\"entity_id\":\"x\",\"op\":\"tombstone\",\"schema_version\":1}", cid);
    g_autoptr(JsonObject) change = parse (json);
    g_autofree char *reason = NULL;

    g_assert_cmpint (apply (b, change, &reason), ==, RECOUP_MERGE_REJECTED);
    g_assert_cmpstr (reason, ==, RECOUP_MERGE_REASON_UNSUPPORTED_OP);
  }
}

/* Three replicas make random offline edits, then exchange their logs in
 * random orders with duplicates; afterwards all are identical and every
 * append-only row exists exactly once. */
static void
test_convergence (Fixture       *f,
                  gconstpointer  data)
{
  int seeds = g_test_slow () ? 200 : 12;

  for (int s = 0; s < seeds; s++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed ((guint32) (g_test_rand_int () + s));
      RecoupBook *books[3];
      g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *dump0 = NULL;
      gint64 n_activities = 0;
      static const char * const fields[] = { "name", "notes", "tags", "tier" };

      for (int i = 0; i < 3; i++)
        {
          g_autofree char *name = g_strdup_printf ("s%d-b%d.recoup", s, i);
          books[i] = open_book (f, name);
        }
      for (int i = 0; i < 4; i++)
        {
          g_autofree char *ref = g_strdup_printf ("ACC-%d", i);
          g_ptr_array_add (accounts, make_account (books[0], ref));
        }
      deliver_all (books[0], books[1]);
      deliver_all (books[0], books[2]);

      for (int round = 0; round < 4; round++)
        {
          /* Offline edits on every replica. */
          for (int i = 0; i < 3; i++)
            for (int k = 0; k < 6; k++)
              {
                g_autoptr(GError) error = NULL;
                const char *acc = accounts->pdata[g_rand_int_range (rand, 0, (int) accounts->len)];
                int what = g_rand_int_range (rand, 0, 3);

                if (what == 0)
                  {
                    g_autofree char *v = g_strdup_printf ("v%d-%d-%d", i, round, k);
                    g_assert_true (recoup_account_set (books[i], acc, fields[g_rand_int_range (rand, 0, 4)],
                                                       v, &error));
                  }
                else if (what == 1)
                  {
                    RecoupActivitySpec act = { .account_id = acc, .channel = "call", .outcome = "no-answer" };
                    g_autofree char *aid = recoup_activity_log (books[i], &act, &error);
                    n_activities++;
                  }
                else
                  {
                    g_autofree char *ref = g_strdup_printf ("ACC-%d-%d-%d", i, round, k);
                    g_ptr_array_add (accounts, make_account (books[i], ref));
                    /* Only the creator knows it until it syncs: edits stay on it. */
                    g_free (g_ptr_array_steal_index (accounts, accounts->len - 1));
                  }
                g_assert_no_error (error);
              }
          /* Random partial exchanges: shuffled, with duplicates. */
          for (int x = 0; x < 3; x++)
            {
              int src = g_rand_int_range (rand, 0, 3);
              int dst = (src + g_rand_int_range (rand, 1, 3)) % 3;
              g_autoptr(GPtrArray) changes = all_changes (books[src]);
              g_autoptr(GPtrArray) order = g_ptr_array_new ();

              for (guint c = 0; c < changes->len; c++)
                {
                  g_ptr_array_add (order, changes->pdata[c]);
                  if (g_rand_int_range (rand, 0, 4) == 0)
                    g_ptr_array_add (order, changes->pdata[c]);
                }
              for (guint c = order->len; c > 1; c--)
                {
                  guint j = (guint) g_rand_int_range (rand, 0, (gint32) c);
                  gpointer t = order->pdata[c - 1];
                  order->pdata[c - 1] = order->pdata[j];
                  order->pdata[j] = t;
                }
              deliver (books[dst], order);
            }
        }
      /* The network heals: everyone hears from everyone. */
      for (int pass = 0; pass < 2; pass++)
        for (int src = 0; src < 3; src++)
          for (int dst = 0; dst < 3; dst++)
            if (src != dst)
              deliver_all (books[src], books[dst]);

      dump0 = canonical (books[0]);
      for (int i = 0; i < 3; i++)
        {
          g_autofree char *dump = canonical (books[i]);
          g_autoptr(GError) error = NULL;

          g_assert_cmpstr (dump, ==, dump0);
          g_assert_cmpint (count_rows (books[i], "SELECT count(*) FROM activities"), ==, n_activities);
          g_assert_cmpint (count_rows (books[i], "SELECT count(*) - count(DISTINCT id) FROM changes"), ==, 0);
          g_assert_true (recoup_book_check_integrity (books[i], &error));
          g_assert_no_error (error);
        }
      for (int i = 0; i < 3; i++)
        g_object_unref (books[i]);
    }
}

/* An insert stores no fields; it leaves the book with its row's values, which
 * may include later edits (each also sent as its own later change): replicas
 * converge in any order, with no conflict, and keep the fields they received. */
static void
test_compact_insert (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *id = make_account (a, "ACC-1");
  g_autoptr(JsonArray) unsent = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) reversed = g_ptr_array_new ();
  g_autofree char *dump_a = NULL, *dump_b = NULL;
  JsonObject *insert = NULL;

  g_assert_true (recoup_account_set (a, id, "name", "Renamed", &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM changes WHERE op = 'insert' AND fields IS NOT NULL"),
                   ==, 0);

  unsent = recoup_merge_collect_unsent (a, 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < json_array_get_length (unsent); i++)
    {
      JsonObject *c = json_array_get_object_element (unsent, i);

      if (g_strcmp0 (json_object_get_string_member (c, "entity_id"), id) == 0 &&
          g_strcmp0 (json_object_get_string_member (c, "op"), "insert") == 0)
        insert = c;
    }
  g_assert_nonnull (insert);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (insert, "fields"), "name"),
                   ==, "Renamed");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (insert, "fields"), "ref"),
                   ==, "ACC-1");

  /* Newest first: the set waits for its row, then loses nothing. */
  changes = all_changes (a);
  for (guint i = changes->len; i > 0; i--)
    g_ptr_array_add (reversed, changes->pdata[i - 1]);
  deliver (b, reversed);
  dump_a = canonical (a);
  dump_b = canonical (b);
  g_assert_cmpstr (dump_a, ==, dump_b);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM sync_conflicts"), ==, 0);
  /* A merged insert keeps its fields (the server serves them as received). */
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM changes WHERE op = 'insert' AND entity = 'accounts'"
                                  " AND json_extract (fields, '$.ref') = 'ACC-1'"), ==, 1);
}

/* The wire form: a push body written from the log, parsed without a JSON
 * tree and merged by index; a page written from a server-like book; the
 * reader's decoding and its refusals. */
static void
test_wire (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) s = open_book (f, "s.recoup");
  g_autoptr(RecoupBook) c = open_book (f, "c.recoup");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *acc = make_account (a, "WIRE-1");
  g_autofree char *acc2 = make_account (a, "WIRE-2");
  g_autoptr(RecoupChangeBatch) batch = NULL;
  g_autofree char *dump_a = NULL, *dump_s = NULL, *dump_c = NULL;
  GString *body;
  gint64 last = 0, after = 0;

  g_assert_true (recoup_account_set (a, acc, "name", "Zoë \"quoted\" \\ back\nslash ☃", &error));
  g_assert_no_error (error);
  {
    RecoupActivitySpec act = { .account_id = acc, .channel = "call", .outcome = "no-answer" };
    g_autofree char *act_id = recoup_activity_log (a, &act, &error);

    g_assert_no_error (error);
  }

  /* Push body: every unsent change, in order; a limit and a start seq page it. */
  body = recoup_merge_collect_unsent_body (a, 0, 2, ids, &last, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 2);
  g_string_free (body, TRUE);
  g_ptr_array_set_size (ids, 0);
  body = recoup_merge_collect_unsent_body (a, last, 0, ids, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint ((gint64) ids->len, ==, recoup_merge_count_unsent (a) - 2);
  g_string_free (body, TRUE);
  g_ptr_array_set_size (ids, 0);
  body = recoup_merge_collect_unsent_body (a, 0, 0, ids, NULL, &error);
  g_assert_no_error (error);
  batch = recoup_change_batch_parse (body->str, body->len, &error);
  g_string_free (body, TRUE);
  g_assert_no_error (error);
  g_assert_true (recoup_change_batch_has_changes (batch));
  g_assert_cmpuint (recoup_change_batch_get_length (batch), ==, ids->len);

  /* The server's way: each change stored with its own seq as server seq. */
  g_assert_true (recoup_book_begin (s, &error));
  for (guint i = 0; i < recoup_change_batch_get_length (batch); i++)
    {
      RecoupMergeResult result = { 0 };

      g_assert_cmpstr (recoup_change_batch_get_string (batch, i, "id", NULL), ==, ids->pdata[i]);
      g_assert_true (recoup_merge_apply_batch_item (s, batch, i, RECOUP_MERGE_SEQ_SELF, &result, &error));
      g_assert_no_error (error);
      g_assert_cmpint (result.status, ==, RECOUP_MERGE_APPLIED);
      g_assert_cmpint (result.server_seq, ==, result.seq);
      recoup_merge_result_clear (&result);
    }
  g_assert_true (recoup_book_commit (s, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (s, "SELECT count(*) FROM changes WHERE server_seq IS NULL OR server_seq <> seq"),
                   ==, 0);
  dump_a = canonical (a);
  dump_s = canonical (s);
  g_assert_cmpstr (dump_a, ==, dump_s);

  /* Pages of two from the server-like book, applied with their cursor. */
  for (;;)
    {
      g_autoptr(RecoupChangeBatch) page = NULL;
      GString *text = g_string_new ("{\"changes\":[");
      gboolean more = FALSE;
      guint n = 0, applied = 0;

      g_assert_true (recoup_merge_write_changes_after (s, after, 2, text, &n, &more, &error));
      g_assert_no_error (error);
      g_string_append_printf (text, "],\"has_more\":%s,\"latest_seq\":7}", more ? "true" : "false");
      page = recoup_change_batch_parse (text->str, text->len, &error);
      g_string_free (text, TRUE);
      g_assert_no_error (error);
      g_assert_cmpuint (recoup_change_batch_get_length (page), ==, n);
      g_assert_true (recoup_change_batch_get_has_more (page) == more);
      g_assert_cmpint (recoup_change_batch_get_latest_seq (page), ==, 7);
      for (guint i = 0; i < n; i++)
        after = MAX (after, recoup_change_batch_get_int (page, i, "seq", 0));
      g_assert_true (recoup_merge_apply_page_batch (c, page, after, &applied, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (applied, ==, n);
      g_assert_cmpint (recoup_merge_get_cursor (c), ==, after);
      if (!more)
        break;
    }
  dump_c = canonical (c);
  g_assert_cmpstr (dump_a, ==, dump_c);
  g_assert_cmpstr (account_name (c, acc), ==, "Zoë \"quoted\" \\ back\nslash ☃");

  /* Decoding: escapes, surrogate pairs, a repeated field (the last counts). */
  {
    const char *text = "{ \"changes\" : [ {\"id\":\"x\", \"fields\": {\"name\": \"a\\u00e9\\ud83d\\ude00\\n\\/\","
                       " \"n\": -42, \"b\": true, \"z\": null, \"name\": \"last\", \"d\": 1.5e3,"
                       " \"o\": {\"x\": [1, 2]}}}, 7, \"s\" ], \"extra\": [null] }\n";
    g_autoptr(RecoupChangeBatch) b = recoup_change_batch_parse (text, strlen (text), &error);

    g_assert_no_error (error);
    g_assert_cmpuint (recoup_change_batch_get_length (b), ==, 3);
    g_assert_true (recoup_change_batch_is_object (b, 0));
    g_assert_false (recoup_change_batch_is_object (b, 1));
    g_assert_false (recoup_change_batch_is_object (b, 2));
    g_assert_cmpstr (recoup_change_batch_get_field_string (b, 0, "name", NULL), ==, "last");
    g_assert_cmpint (recoup_change_batch_get_field_int (b, 0, "n", 0), ==, -42);
    g_assert_cmpint (recoup_change_batch_get_field_int (b, 0, "b", 0), ==, 1);
    g_assert_cmpint (recoup_change_batch_get_field_int (b, 0, "z", 9), ==, 9);
    g_assert_null (recoup_change_batch_get_field_string (b, 0, "d", NULL));
    g_assert_false (recoup_change_batch_get_has_more (b));
  }
  {
    const char *text = "{\"changes\":[{\"fields\":{\"name\":\"a\\u00e9\\ud83d\\ude00\\n\\/\"}}]}";
    g_autoptr(RecoupChangeBatch) b = recoup_change_batch_parse (text, strlen (text), &error);

    g_assert_no_error (error);
    g_assert_cmpstr (recoup_change_batch_get_field_string (b, 0, "name", NULL), ==, "aé😀\n/");
  }
  /* A double, an object or an array where a column's value goes is refused, not stored. */
  {
    g_autofree char *cid = recoup_uuid7_new ();
    g_autofree char *text = g_strdup_printf ("{\"changes\":[{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\","
                                             "\"user_id\":null,\"entity\":\"accounts\",\"entity_id\":\"%s\","
                                             "\"op\":\"set\",\"fields\":{\"tier\":1.5},\"schema_version\":1},"
                                             "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"accounts\","
                                             "\"entity_id\":\"%s\",\"op\":\"set\",\"fields\":{\"name\":[1]},"
                                             "\"schema_version\":1}, 3]}", cid, acc2, cid, acc2);
    g_autoptr(RecoupChangeBatch) b = recoup_change_batch_parse (text, strlen (text), &error);

    g_assert_no_error (error);
    for (guint i = 0; i < 3; i++)
      {
        RecoupMergeResult result = { 0 };

        g_assert_true (recoup_merge_apply_batch_item (c, b, i, 0, &result, &error));
        g_assert_no_error (error);
        g_assert_cmpint (result.status, ==, RECOUP_MERGE_REJECTED);
        g_assert_cmpstr (result.reason, ==, i < 2 ? RECOUP_MERGE_REASON_WRONG_TYPE : RECOUP_MERGE_REASON_INVALID);
        recoup_merge_result_clear (&result);
      }
  }
  /* A push answer. */
  {
    const char *text = "{\"results\":[{\"id\":\"x\",\"status\":\"accepted\",\"seq\":5},"
                       "{\"id\":\"y\",\"status\":\"rejected\",\"reason\":\"forbidden\",\"message\":\"no \\\"way\\\"\"},"
                       "3],\"latest_seq\":9}";
    g_autoptr(RecoupChangeBatch) b = recoup_change_batch_parse (text, strlen (text), &error);
    const char *reason = NULL, *message = NULL;
    gint64 seq = 0;

    g_assert_no_error (error);
    g_assert_true (recoup_change_batch_has_results (b));
    g_assert_false (recoup_change_batch_has_changes (b));
    g_assert_cmpuint (recoup_change_batch_get_n_results (b), ==, 3);
    g_assert_cmpstr (recoup_change_batch_get_result (b, 0, &seq, &reason, &message), ==, "accepted");
    g_assert_cmpint (seq, ==, 5);
    g_assert_cmpstr (recoup_change_batch_get_result (b, 1, &seq, &reason, &message), ==, "rejected");
    g_assert_cmpstr (reason, ==, "forbidden");
    g_assert_cmpstr (message, ==, "no \"way\"");
    g_assert_cmpstr (recoup_change_batch_get_result (b, 2, &seq, &reason, &message), ==, "");
    g_assert_cmpint (recoup_change_batch_get_latest_seq (b), ==, 9);
  }
  /* Not JSON, or not all of it: refused with a reason. */
  {
    static const char * const bad[] = {
      "", "[]", "{\"changes\":[}", "{\"changes\":[1,]}", "{\"a\":01}", "{\"a\":\"\\ud800\"}",
      "{\"a\":\"tab\there\"}", "{\"a\":tru}", "{\"a\":1} x", "{\"a\":\"\\x\"}", "{\"a\":\"open", "{\"a\" 1}",
      "{\"a\":\"\xff\"}", "{\"a\":-}", "{\"a\":1.}",
      /* What yajl alone would let through: \u0000, lone or broken surrogates (also in names
       * and in skipped values), overlong UTF-8 and UTF-8-encoded surrogates. */
      "{\"a\":\"\\u0000\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}", "{\"a\\ud800\":1}",
      "{\"a\":[\"\\udc00\"]}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
      "{/*c*/}", "{}{}", "{\"a\":1", "{\"a\":NaN}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GError) local = NULL;
        RecoupChangeBatch *b = recoup_change_batch_parse (bad[i], strlen (bad[i]), &local);

        g_assert_null (b);
        g_assert_error (local, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
        if (bad[i][0] != '\0')
          g_assert_nonnull (strstr (local->message, " at byte "));
      }
  }
  /* Nesting: 64 levels are read, 65 are refused. */
  {
    for (guint levels = 63; levels <= 64; levels++)
      {
        g_autoptr(GError) local = NULL;
        g_autofree char *open = g_strnfill (levels, '[');
        g_autofree char *close = g_strnfill (levels, ']');
        g_autofree char *text = g_strdup_printf ("{\"x\":%s%s}", open, close);
        RecoupChangeBatch *b = recoup_change_batch_parse (text, strlen (text), &local);

        if (levels == 63)
          {
            g_assert_no_error (local);
            recoup_change_batch_free (b);
          }
        else
          {
            g_assert_null (b);
            g_assert_error (local, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
          }
      }
  }
}

/* A re-stamp on one connection lowers the clock of another connection of the
 * same book at its next transaction: it stops stamping from a clock that ran
 * ahead. */
static void
test_reload_clock (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) window = NULL;
  g_autoptr(RecoupBook) sync = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ahead = g_strdup_printf ("%" G_GINT64_FORMAT,
                                            RECOUP_HLC_MAKE (recoup_wall_clock_ms () + 3 * 24 * 3600 * G_GINT64_CONSTANT (1000), 0));
  g_autofree char *id = NULL;
  g_autofree char *before = NULL;
  gint64 limit;
  guint n = 0;

  g_assert_true (recoup_book_begin (a, &error));
  g_assert_true (recoup_book_set_setting (a, "hlc", ahead, &error));
  g_assert_true (recoup_book_commit (a, &error));
  g_assert_no_error (error);
  g_clear_object (&a);

  /* Two connections (the app's window and its sync worker), both ahead. */
  window = open_book (f, "a.recoup");
  sync = open_book (f, "a.recoup");
  id = make_account (window, "AHEAD-1");
  g_assert_cmpint (count_rows (window, "SELECT max(hlc) FROM changes"), >=, g_ascii_strtoll (ahead, NULL, 10));

  g_assert_true (recoup_merge_restamp_unsent (sync, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, >, 0);
  limit = RECOUP_HLC_MAKE (recoup_wall_clock_ms () + 60 * 1000, 0);
  g_assert_cmpint (count_rows (sync, "SELECT max(hlc) FROM changes"), <, limit);

  /* The window's next write is stamped by the lowered clock, not from three days ahead. */
  g_assert_true (recoup_account_set (window, id, "name", "After", &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (window, "SELECT max(hlc) FROM changes"), <, limit);
  /* And so is the sync connection's own. */
  g_assert_true (recoup_account_set (sync, id, "name", "After again", &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (sync, "SELECT max(hlc) FROM changes"), <, limit);
  before = g_strdup_printf ("%" G_GINT64_FORMAT, count_rows (sync, "SELECT max(hlc) FROM changes"));
  g_assert_cmpint (g_ascii_strtoll (before, NULL, 10), >, 0);
}

/* Without a re-stamp a connection's clock never goes backwards, even when
 * another connection of the book, whose clock is behind, saves its own. */
static void
test_clock_forward (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(RecoupBook) x = open_book (f, "x.recoup");
  g_autoptr(RecoupBook) y = open_book (f, "x.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *id = make_account (x, "FWD-1");
  gint64 seen = RECOUP_HLC_MAKE (recoup_wall_clock_ms () + 10 * 60 * 1000, 0);
  gint64 first, second;

  /* X saw a stamp from a device ten minutes ahead, and wrote after it. */
  g_assert_true (recoup_book_begin (x, &error));
  recoup_book_observe_hlc (x, seen);
  g_assert_true (recoup_book_commit (x, &error));
  g_assert_true (recoup_account_set (x, id, "name", "First", &error));
  g_assert_no_error (error);
  first = count_rows (x, "SELECT max(hlc) FROM changes");
  g_assert_cmpint (first, >, seen);
  /* Y, behind, writes and saves its clock. */
  g_assert_true (recoup_account_set (y, id, "notes", "from Y", &error));
  g_assert_no_error (error);
  /* X's next write is still after its first. */
  g_assert_true (recoup_account_set (x, id, "name", "Second", &error));
  g_assert_no_error (error);
  second = count_rows (x, "SELECT hlc FROM changes ORDER BY seq DESC LIMIT 1");
  g_assert_cmpint (second, >, first);
}

/* A change of a setting as another device would send it. */
static JsonObject *
setting_change (const char *key,
                const char *value_json,
                gint64      hlc,
                const char *device)
{
  g_autofree char *id = recoup_uuid7_new ();
  g_autofree char *json = g_strdup_printf (
    "{\"id\":\"%s\",\"hlc\":%" G_GINT64_FORMAT ",\"device_id\":\"%s\",\"user_id\":null,"
    "\"entity\":\"settings\",\"entity_id\":\"%s\",\"op\":\"set\","
    "\"fields\":{\"key\":\"%s\",\"value\":%s},\"schema_version\":%d}",
    id, hlc, device, key, key, value_json, RECOUP_SYNC_SCHEMA_VERSION);

  return parse (json);
}

static gint64
settings_conflicts (RecoupBook *book,
                    const char *key,
                    const char *value_json)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM sync_conflicts WHERE entity = 'settings'"
                                          " AND entity_id = '%s' AND field = 'value' AND value = '%s'",
                                          key, value_json);
  return count_rows (book, sql);
}

/* The owner's shared settings (here the compliance guard's) reach every
 * replica, last writer wins per key, and the losing value is kept. */
static void
test_settings (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  RecoupGuardPolicy policy;
  gint64 n;

  g_assert_true (recoup_guard_set_rule (a, "hours_start", "09:00", &error));
  g_assert_no_error (error);
  deliver_all (a, b);
  recoup_guard_policy_load (b, &policy);
  g_assert_cmpint (policy.hours_start, ==, 9 * 60);
  g_assert_cmpstr (policy.profile, ==, "custom");
  recoup_guard_policy_clear (&policy);
  /* B merged A's changes; it did not make them its own. */
  g_assert_cmpint (recoup_merge_count_unsent (b), ==, 0);

  /* A redelivery changes nothing and logs nothing. */
  changes = all_changes (a);
  n = recoup_book_count_changes (b);
  for (guint i = 0; i < changes->len; i++)
    g_assert_cmpint (apply (b, changes->pdata[i], NULL), ==, RECOUP_MERGE_DUPLICATE);
  g_assert_cmpint (recoup_book_count_changes (b), ==, n);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM sync_conflicts"), ==, 0);

  /* Both change the call cap offline; B writes later and wins on both
   * replicas, whichever order the changes arrive in. */
  g_assert_true (recoup_guard_set_rule (a, "max_calls_7d", "3", &error));
  g_assert_no_error (error);
  g_usleep (2000);
  g_assert_true (recoup_guard_set_rule (b, "max_calls_7d", "5", &error));
  g_assert_no_error (error);
  deliver_all (a, b);
  deliver_all (b, a);
  recoup_guard_policy_load (a, &policy);
  g_assert_cmpint (policy.max_calls_7d, ==, 5);
  recoup_guard_policy_clear (&policy);
  recoup_guard_policy_load (b, &policy);
  g_assert_cmpint (policy.max_calls_7d, ==, 5);
  recoup_guard_policy_clear (&policy);
  /* A's 3 lost: B kept it when it arrived late, A when B's value replaced
   * its own unsent one. */
  g_assert_cmpint (settings_conflicts (b, "guard.max_calls_7d", "\"3\""), ==, 1);
  g_assert_cmpint (settings_conflicts (a, "guard.max_calls_7d", "\"3\""), ==, 1);
  g_assert_cmpint (settings_conflicts (a, "guard.max_calls_7d", "\"5\""), ==, 0);

  /* Two other devices' values, delivered in both orders, end the same. */
  {
    g_autoptr(RecoupBook) c = open_book (f, "c.recoup");
    g_autoptr(RecoupBook) d = open_book (f, "d.recoup");
    g_autoptr(JsonObject) early = setting_change ("business.name", "\"Early Ltd\"", 1000, "dev-z");
    g_autoptr(JsonObject) late = setting_change ("business.name", "\"Late Ltd\"", 1000, "dev-zz");

    g_assert_cmpint (apply (c, early, NULL), ==, RECOUP_MERGE_APPLIED);
    g_assert_cmpint (apply (c, late, NULL), ==, RECOUP_MERGE_APPLIED);
    g_assert_cmpint (apply (d, late, NULL), ==, RECOUP_MERGE_APPLIED);
    g_assert_cmpint (apply (d, early, NULL), ==, RECOUP_MERGE_APPLIED);
    for (guint i = 0; i < 2; i++)
      {
        RecoupBook *book = i == 0 ? c : d;
        g_autofree char *name = recoup_book_get_setting (book, "business.name");

        /* Equal stamps: the device id breaks the tie. */
        g_assert_cmpstr (name, ==, "Late Ltd");
        g_assert_cmpint (count_rows (book, "SELECT count(*) FROM field_clocks WHERE entity = 'settings'"
                                           " AND entity_id = 'business.name' AND device_id = 'dev-zz'"), ==, 1);
      }
    g_assert_cmpint (settings_conflicts (d, "business.name", "\"Early Ltd\""), ==, 1);
    g_assert_cmpint (apply (d, early, NULL), ==, RECOUP_MERGE_DUPLICATE);
    g_assert_cmpint (settings_conflicts (d, "business.name", "\"Early Ltd\""), ==, 1);
  }
}

/* What belongs to one copy of the book is never taken from another, and a
 * malformed change of a shared setting is refused; nothing is written. */
static void
test_settings_refused (Fixture       *f,
                       gconstpointer  data)
{
  static const char * const local[] = {
    "device_id", "user_id", "hlc", "hlc.epoch", "receipt_counter", "sync.url", "sync.fingerprint",
    "sync.cursor", "sync.role", "sync.device_id", "derived.signature", "derived.as_of",
    "business.logo_path", "letters.dir", "smtp.password", "score.weight.", "worklist.saved.", NULL,
  };
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autofree char *before = NULL;
  gint64 n = recoup_book_count_changes (b);
  gint64 stamp = RECOUP_HLC_MAKE (recoup_wall_clock_ms (), 0);
  struct { const char *json; const char *reason; } bad[] = {
    /* fields.key must name the key the change is about */
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"settings\",\"entity_id\":\"guard.hours_start\","
      "\"op\":\"set\",\"fields\":{\"key\":\"sync.url\",\"value\":\"60\"},\"schema_version\":1}",
      RECOUP_MERGE_REASON_INVALID },
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"settings\",\"entity_id\":\"guard.hours_start\","
      "\"op\":\"set\",\"fields\":{\"key\":\"guard.hours_start\",\"value\":60},\"schema_version\":1}",
      RECOUP_MERGE_REASON_WRONG_TYPE },
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"settings\",\"entity_id\":\"guard.hours_start\","
      "\"op\":\"set\",\"fields\":{\"key\":\"guard.hours_start\",\"value\":\"60\",\"at\":1},\"schema_version\":1}",
      RECOUP_MERGE_REASON_UNKNOWN_FIELD },
    { "{\"id\":\"%s\",\"hlc\":5,\"device_id\":\"d\",\"entity\":\"settings\",\"entity_id\":\"guard.hours_start\","
      "\"op\":\"tombstone\",\"fields\":null,\"schema_version\":1}",
      RECOUP_MERGE_REASON_UNSUPPORTED_OP },
  };

  g_assert_true (recoup_book_set_setting (b, "sync.url", "https://mine.example", NULL));
  before = g_strdup_printf ("%" G_GINT64_FORMAT, count_rows (b, "SELECT count(*) FROM settings"));
  for (guint i = 0; local[i] != NULL; i++)
    {
      g_autoptr(JsonObject) change = setting_change (local[i], "\"https://evil.example\"", stamp, "evil");
      g_autofree char *reason = NULL;

      g_assert_cmpint (recoup_merge_setting_scope (local[i]), ==, RECOUP_SETTING_LOCAL);
      g_assert_cmpint (apply (b, change, &reason), ==, RECOUP_MERGE_REJECTED);
      g_assert_cmpstr (reason, ==, RECOUP_MERGE_REASON_NOT_SHARED);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *cid = recoup_uuid7_new ();
      g_autofree char *json = g_strdup_printf (bad[i].json, cid);
      g_autoptr(JsonObject) change = parse (json);
      g_autofree char *reason = NULL;

      g_assert_cmpint (apply (b, change, &reason), ==, RECOUP_MERGE_REJECTED);
      g_assert_cmpstr (reason, ==, bad[i].reason);
    }
  {
    g_autofree char *url = recoup_book_get_setting (b, "sync.url");
    g_autofree char *after = g_strdup_printf ("%" G_GINT64_FORMAT, count_rows (b, "SELECT count(*) FROM settings"));

    g_assert_cmpstr (url, ==, "https://mine.example");
    g_assert_cmpstr (after, ==, before);
  }
  g_assert_cmpint (recoup_book_count_changes (b), ==, n);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM field_clocks"), ==, 0);
  /* Who may change what: the business's policy is the owner's, a saved
   * worklist the team's. */
  g_assert_cmpint (recoup_merge_setting_scope ("guard.hours_start"), ==, RECOUP_SETTING_OWNER);
  g_assert_cmpint (recoup_merge_setting_scope ("score.weight.balance"), ==, RECOUP_SETTING_OWNER);
  g_assert_cmpint (recoup_merge_setting_scope ("escalation.policy"), ==, RECOUP_SETTING_OWNER);
  g_assert_cmpint (recoup_merge_setting_scope ("worklist.saved.mine"), ==, RECOUP_SETTING_TEAM);
}

/* A pulled change of the score weights rescores the book as a local one
 * does: the stored scores are current right after the merge. */
static void
test_settings_rescore (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *big = test_add_account (a, "BIG", "USD");
  g_autofree char *inv = test_add_invoice (a, big, "INV-BIG", "2026-01-01", "2026-06-01", 250000, "USD");
  g_autofree char *sql = g_strdup_printf ("SELECT score FROM account_stats WHERE account_id = '%s'", big);
  RecoupScoreSettings s;
  gint64 old_score;

  deliver_all (a, b);
  g_assert_true (recoup_score_refresh_book (b, NULL, NULL, &error));
  g_assert_no_error (error);
  old_score = count_rows (b, sql);
  g_assert_cmpint (old_score, !=, 5000);

  /* Only the balance counts: half the balance cap scores 5000. */
  recoup_score_settings_load (a, &s);
  memset (s.weights, 0, sizeof s.weights);
  s.weights[RECOUP_SCORE_BALANCE] = 1;
  g_assert_true (recoup_score_settings_save (a, &s, NULL, NULL, &error));
  g_assert_no_error (error);
  deliver_all (a, b);
  g_assert_cmpint (count_rows (b, sql), ==, 5000);
  g_assert_true (recoup_score_is_current (b));
}

/* A pulled change of the guard's rules of the call history derives again
 * when each account's calls open (calls_open_at), as a local change does: a
 * list of the accounts callable now reads the new rule right after the merge. */
static void
test_settings_guard_rederive (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = test_add_account (a, "CALLED", "USD");
  g_autofree char *inv = test_add_invoice (a, acct, "INV-CALLED", "2026-01-01", "2026-06-01", 250000, "USD");
  g_autofree char *sql = g_strdup_printf ("SELECT calls_open_at FROM account_stats WHERE account_id = '%s'", acct);
  RecoupActivitySpec call = { .account_id = acct, .channel = "call", .outcome = "no-answer" };
  gint64 now = recoup_book_now_ms (a);

  g_assert_true (recoup_guard_set_profile (a, "custom", &error));
  g_assert_true (recoup_guard_set_rule (a, "max_calls_7d", "3", &error));
  g_assert_no_error (error);
  for (int i = 1; i <= 3; i++)
    {
      call.at = now - i * 60 * 1000;
      g_free (recoup_activity_log (a, &call, &error));
      g_assert_no_error (error);
    }
  deliver_all (a, b);
  g_assert_true (recoup_score_refresh_book (b, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (b, sql), >, now);

  /* A fourth call in 7 days is allowed now: the account may be called again. */
  g_assert_true (recoup_guard_set_rule (a, "max_calls_7d", "4", &error));
  g_assert_no_error (error);
  deliver_all (a, b);
  g_assert_cmpint (count_rows (b, sql), <=, now);
  g_assert_true (recoup_score_is_current (b));
}

/* Two copies of a book each reversed the same entry under an id of their own
 * (an earlier Recoup reconciling a settlement discount did so on every copy).
 * The second reversal to arrive is the same money: it is taken as applied,
 * not refused, so a pull does not stop at it, and the entry stays reversed
 * once. */
static void
test_reversal_twice (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *fee = NULL, *rev_a = NULL, *rev_b = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_FEE, .amount = 2500 };
  guint n_before;
  sqlite3_stmt *stmt;

  acct = test_add_account (a, "R-1", "USD");
  spec.account_id = acct;
  fee = recoup_ledger_record (a, &spec, &error);
  g_assert_no_error (error);
  first = all_changes (a);
  n_before = first->len;
  deliver (b, first);

  rev_a = recoup_ledger_reverse (a, fee, NULL, NULL, &error);
  g_assert_no_error (error);
  rev_b = recoup_ledger_reverse (b, fee, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rev_a, !=, rev_b);

  all = all_changes (a);
  for (guint i = n_before; i < all->len; i++)
    {
      g_autofree char *reason = NULL;

      g_assert_cmpint (apply (b, all->pdata[i], &reason), ==, RECOUP_MERGE_APPLIED);
      g_assert_null (reason);
    }
  stmt = recoup_book_prepare (b, "SELECT count(*), sum(amount) FROM ledger_entries WHERE reverses_id = ?1", &error);
  g_assert_no_error (error);
  sqlite3_bind_text (stmt, 1, fee, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int64 (stmt, 0), ==, 1);
  g_assert_cmpint (sqlite3_column_int64 (stmt, 1), ==, -2500);
  sqlite3_reset (stmt);
}

/* Delivers to @to the changes of @from after the first @skip. */
static void
deliver_from (RecoupBook *to,
              RecoupBook *from,
              guint       skip)
{
  g_autoptr(GPtrArray) all = all_changes (from);

  for (guint i = skip; i < all->len; i++)
    {
      g_autofree char *reason = NULL;
      RecoupMergeStatus status = apply (to, all->pdata[i], &reason);

      g_assert_true (status == RECOUP_MERGE_APPLIED || status == RECOUP_MERGE_DUPLICATE);
      g_assert_null (reason);
    }
}

static gint64
entries_sum (RecoupBook *book,
             const char *sql_where)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = g_strdup_printf ("SELECT coalesce (sum (amount), 0) * 1000 + count(*)"
                                          " FROM ledger_entries WHERE %s", sql_where);
  sqlite3_stmt *stmt = recoup_book_prepare (book, sql, &error);
  gint64 v;

  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  v = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return v;
}

/* One fee waived on two copies offline: once they meet, the newer waiver is
 * reversed on both, alike, so the fee is waived once and the second waiver
 * does not pay the invoice. The same when one copy reversed the fee. */
static void
test_waived_twice (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *fee = NULL, *fee2 = NULL, *inv = NULL;
  g_autofree char *wa = NULL, *wb = NULL, *w2 = NULL, *rev = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_FEE, .amount = 2500 };
  guint n_a, n_b;
  gint64 balance_a, balance_b;
  g_autofree char *where = NULL;

  acct = test_add_account (a, "W-1", "USD");
  inv = test_add_invoice (a, acct, "INV-W1", "2026-01-01", "2026-01-31", 10000, "USD");
  spec.account_id = acct;
  fee = recoup_ledger_record (a, &spec, &error);
  g_assert_no_error (error);
  fee2 = recoup_ledger_record (a, &spec, &error);
  g_assert_no_error (error);
  first = all_changes (a);
  deliver (b, first);
  n_a = n_b = first->len;

  {
    RecoupEntrySpec w = { .kind = RECOUP_ENTRY_WAIVER, .account_id = acct, .amount = 2500, .waives_id = fee };

    wa = recoup_ledger_record (a, &w, &error);
    g_assert_no_error (error);
    wb = recoup_ledger_record (b, &w, &error);
    g_assert_no_error (error);
  }
  /* The second fee: waived on one copy, reversed on the other. */
  {
    RecoupEntrySpec w = { .kind = RECOUP_ENTRY_WAIVER, .account_id = acct, .amount = 2500, .waives_id = fee2 };

    w2 = recoup_ledger_record (a, &w, &error);
    g_assert_no_error (error);
    rev = recoup_ledger_reverse (b, fee2, NULL, NULL, &error);
    g_assert_no_error (error);
  }

  deliver_from (b, a, n_a);
  deliver_from (a, b, n_b);
  /* What each wrote in answer travels too. */
  deliver_from (b, a, n_a);
  deliver_from (a, b, n_b);

  /* Each fee nets to nothing, on both copies, and the invoice is untouched:
   * 100.00 owed. */
  where = g_strdup_printf ("account_id = '%s'", acct);
  balance_a = entries_sum (a, where) / 1000;
  balance_b = entries_sum (b, where) / 1000;
  g_assert_cmpint (balance_a, ==, 10000);
  g_assert_cmpint (balance_b, ==, 10000);
  g_assert_cmpint (entries_sum (a, where), ==, entries_sum (b, where));
  {
    g_autoptr(GPtrArray) open = recoup_ledger_invoice_balances (a, acct, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (open->len, ==, 1);
    g_assert_cmpint (((RecoupInvoiceBalance *) open->pdata[0])->balance, ==, 10000);
  }
}

/* One plan accepted on two copies offline: each wrote the schedule, under
 * the ids the offer derives, so the copies meet without a clash (before, the
 * second copy's pull stopped for good at "UNIQUE constraint failed:
 * installments.offer_id, installments.seq"), and hold the same rows. */
static void
test_accepted_twice (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *offer = NULL, *today = recoup_book_today (a);
  char first_date[11];
  guint n;

  recoup_date_format_buf (recoup_date_parse (today, NULL) + 14, first_date);
  acct = test_add_account (a, "P-1", "USD");
  g_free (test_add_invoice (a, acct, "INV-P1", "2026-01-01", "2026-01-31", 30000, "USD"));
  {
    RecoupOfferSpec spec = { .account_id = acct, .kind = RECOUP_OFFER_PLAN, .amount = 30000,
                             .installments = 3, .frequency = RECOUP_FREQUENCY_MONTHLY,
                             .first_date = first_date };

    offer = recoup_offer_create (a, &spec, &error);
    g_assert_no_error (error);
  }
  g_assert_true (recoup_offer_transition (a, offer, RECOUP_OFFER_EVENT_SEND, NULL, &error));
  g_assert_no_error (error);
  first = all_changes (a);
  deliver (b, first);
  n = first->len;

  g_assert_true (recoup_offer_transition (a, offer, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_offer_transition (b, offer, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_no_error (error);

  deliver_from (b, a, n);
  deliver_from (a, b, n);
  {
    g_autofree char *where = g_strdup_printf ("offer_id = '%s'", offer);
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) * 1000000 + sum (amount) FROM installments WHERE %s",
                                            where);
    sqlite3_stmt *sa = recoup_book_prepare (a, sql, &error);
    sqlite3_stmt *sb = recoup_book_prepare (b, sql, &error);

    g_assert_no_error (error);
    g_assert_cmpint (sqlite3_step (sa), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_step (sb), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int64 (sa, 0), ==, 3 * 1000000 + 30000);
    g_assert_cmpint (sqlite3_column_int64 (sb, 0), ==, 3 * 1000000 + 30000);
    sqlite3_reset (sa);
    sqlite3_reset (sb);
  }
}

/* A change the server refused because the row it belongs to has not reached
 * it yet is sent again with the next sync (the row may come later, from
 * another device, or an owner's fix may let it in); a change refused for
 * good is not. Nothing waiting is dropped. */
static void
test_resend_missing_reference (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = test_add_account (a, "M-1", "USD");
  g_autofree char *other = test_add_account (a, "M-2", "USD");
  gint64 unsent;
  const char *first, *second;

  changes = all_changes (a);
  g_assert_cmpuint (changes->len, >=, 2);
  first = json_object_get_string_member (changes->pdata[0], "id");
  second = json_object_get_string_member (changes->pdata[1], "id");
  unsent = recoup_merge_count_unsent (a);

  g_assert_true (recoup_merge_acknowledge (a, first, 0, RECOUP_MERGE_REASON_MISSING_REF, "no parent yet", &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, unsent);
  g_assert_true (recoup_merge_acknowledge (a, second, 0, RECOUP_MERGE_REASON_MISSING_ROW, "no row yet", &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, unsent);
  g_assert_true (recoup_merge_reason_is_resent (RECOUP_MERGE_REASON_MISSING_REF));
  g_assert_true (recoup_merge_reason_is_resent (RECOUP_MERGE_REASON_MISSING_ROW));
  g_assert_false (recoup_merge_reason_is_resent (RECOUP_MERGE_REASON_CONSTRAINT));
  /* Refused for good: no longer sent. */
  g_assert_true (recoup_merge_acknowledge (a, first, 0, RECOUP_MERGE_REASON_CONSTRAINT, "clash", &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_merge_count_unsent (a), ==, unsent - 1);
}

/* Whether the account has @value (a phone number, in any spelling) opted out
 * on a contact point, removed or not: 1, 0 when it has it but not opted out,
 * -1 when it has it nowhere. */
static int
opted_out_of_value (RecoupBook *book,
                    const char *account,
                    const char *value)
{
  g_autofree char *key = recoup_contact_value_key (RECOUP_CONTACT_PHONE, value);
  sqlite3_stmt *stmt = NULL;
  int opted_out = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book),
                                       "SELECT value, opted_out FROM contact_points WHERE account_id = ?1"
                                       " AND kind = 'phone' ORDER BY opted_out DESC",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, account, -1, SQLITE_STATIC);
  while (opted_out < 0 && sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autofree char *other = recoup_contact_value_key (RECOUP_CONTACT_PHONE,
                                                         (const char *) sqlite3_column_text (stmt, 0));

      if (g_str_equal (key, other))
        opted_out = sqlite3_column_int (stmt, 1);
    }
  sqlite3_finalize (stmt);
  return opted_out;
}

/* One device changes a phone number while another, offline, records that the
 * debtor opted out of the number it still shows. The opt-out stays with the
 * number it was given for on every copy, whichever order the two changes
 * arrive in: the old number is still recorded as opted out, and adding it
 * again adds it opted out. The copies converge. */
static void
test_opt_out_value_change (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(RecoupBook) c = open_book (f, "c.recoup");
  g_autoptr(RecoupBook) d = open_book (f, "d.recoup");
  RecoupBook *copies[] = { a, b, c, d };
  g_autoptr(GPtrArray) base = NULL;
  g_autoptr(GPtrArray) from_a = NULL;
  g_autoptr(GPtrArray) from_b = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = make_account (a, "OPT-1");
  g_autofree char *phone = NULL;
  g_autofree char *expected = NULL;
  const char *old_number = "+1 312 555 0100";
  const char *new_number = "+1 312 555 0199";

  phone = recoup_contact_add (a, acct, RECOUP_CONTACT_PHONE, old_number, "mobile", TRUE, &error);
  g_assert_no_error (error);
  base = all_changes (a);
  deliver (b, base);
  deliver (c, base);
  deliver (d, base);

  g_assert_true (recoup_contact_set_value (a, phone, new_number, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_contact_set_opted_out (b, phone, TRUE, &error));
  g_assert_no_error (error);
  from_a = all_changes (a);
  from_b = all_changes (b);

  deliver (a, from_b);
  deliver (b, from_a);
  deliver (c, from_a);     /* the number first, then the opt-out */
  deliver (c, from_b);
  deliver (d, from_b);     /* the opt-out first, then the number */
  deliver (d, from_a);

  expected = canonical (a);
  for (guint i = 0; i < G_N_ELEMENTS (copies); i++)
    {
      g_autofree char *dump = canonical (copies[i]);
      g_autoptr(GPtrArray) list = recoup_contact_list (copies[i], acct, &error);
      g_autofree char *again = NULL;

      g_assert_cmpstr (dump, ==, expected);
      g_assert_no_error (error);
      g_assert_cmpuint (list->len, ==, 1);
      g_assert_cmpstr (((RecoupContactPoint *) list->pdata[0])->value, ==, new_number);
      /* The number the debtor opted out of is recorded as such… */
      g_assert_cmpint (opted_out_of_value (copies[i], acct, old_number), ==, 1);
      /* …and written again, in another spelling, it comes back opted out. */
      again = recoup_contact_add (copies[i], acct, RECOUP_CONTACT_PHONE, "(312) 555-0100", "", FALSE, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (again, !=, phone);
      g_clear_pointer (&list, g_ptr_array_unref);
      list = recoup_contact_list (copies[i], acct, &error);
      for (guint j = 0; j < list->len; j++)
        if (g_str_equal (((RecoupContactPoint *) list->pdata[j])->id, again))
          g_assert_true (((RecoupContactPoint *) list->pdata[j])->opted_out);
    }
}

/* Applies @changes to @server as recoupd does (each stored with its own seq
 * as server sequence), skipping those it has. */
static void
apply_as_server (RecoupBook *server,
                 GPtrArray  *changes)
{
  for (guint i = 0; i < changes->len; i++)
    {
      RecoupMergeResult result = { 0 };
      g_autoptr(GError) error = NULL;

      g_assert_true (recoup_merge_apply (server, changes->pdata[i], RECOUP_MERGE_SEQ_SELF, &result, &error));
      g_assert_no_error (error);
      g_assert_cmpint (result.status, !=, RECOUP_MERGE_REJECTED);
      recoup_merge_result_clear (&result);
    }
}

/* An opt-out recorded as a Recoup before this one did (the point's flag
 * alone), on a device that had not seen a new number given to the point on
 * another: the server keeps the opt-out with the number it was given for
 * when the new number reaches it, and every device gets that from it. */
static void
test_opt_out_value_change_legacy (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(RecoupBook) s = open_book (f, "s.recoup");
  g_autoptr(GPtrArray) base = NULL;
  g_autoptr(GPtrArray) from_a = NULL;
  g_autoptr(GPtrArray) from_b = NULL;
  g_autoptr(GPtrArray) from_s = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = make_account (a, "OPT-2");
  g_autofree char *phone = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *expected = NULL;
  static const char * const opted_out[] = { "opted_out", NULL };

  phone = recoup_contact_add (a, acct, RECOUP_CONTACT_PHONE, "+1 312 555 0100", "", TRUE, &error);
  g_assert_no_error (error);
  base = all_changes (a);
  apply_as_server (s, base);
  deliver (b, base);

  g_assert_true (recoup_contact_set_value (a, phone, "+1 312 555 0199", &error));
  g_assert_no_error (error);
  sql = g_strdup_printf ("UPDATE contact_points SET opted_out = 1 WHERE id = '%s'", phone);
  g_assert_true (recoup_book_begin (b, &error));
  g_assert_true (recoup_book_exec (b, sql, &error));
  g_assert_true (recoup_book_record_change (b, "contact_points", phone, RECOUP_CHANGE_SET, opted_out, &error));
  g_assert_true (recoup_book_commit (b, &error));
  g_assert_no_error (error);
  from_a = all_changes (a);
  from_b = all_changes (b);

  apply_as_server (s, from_b);
  apply_as_server (s, from_a);
  from_s = all_changes (s);
  deliver (a, from_s);
  deliver (b, from_s);

  expected = canonical (s);
  for (guint i = 0; i < 3; i++)
    {
      RecoupBook *book = (RecoupBook *[]) { s, a, b }[i];
      g_autofree char *dump = canonical (book);

      g_assert_cmpstr (dump, ==, expected);
      g_assert_cmpint (opted_out_of_value (book, acct, "(312) 555-0100"), ==, 1);
    }
}

static char *
pay (RecoupBook *book,
     const char *account,
     gint64      amount)
{
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = account, .amount = amount,
                           .method = "cash" };
  g_autoptr(GError) error = NULL;
  char *id = recoup_ledger_record (book, &spec, &error);

  g_assert_no_error (error);
  return id;
}

static char *
receipt_of (RecoupBook *book,
            const char *entry)
{
  sqlite3_stmt *stmt = NULL;
  char *receipt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book),
                                       "SELECT receipt_no FROM ledger_entries WHERE id = ?", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, entry, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    receipt = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return receipt;
}

/* Two devices whose ids end in the same six hex digits issue the same
 * receipt numbers (audit A2, receipts): both payments are kept on every copy,
 * whichever arrives first; the earlier keeps its number and the later one
 * takes it with its own id's tail, the same everywhere. */
static void
test_receipt_clash (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = NULL;
  g_autoptr(RecoupBook) c = open_book (f, "c.recoup");
  g_autoptr(RecoupBook) d = open_book (f, "d.recoup");
  g_autoptr(GPtrArray) base = NULL;
  g_autoptr(GPtrArray) from_a = NULL;
  g_autoptr(GPtrArray) from_b = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path_b = g_build_filename (f->dir, "b.recoup", NULL);
  g_autofree char *acct = make_account (a, "RCPT-1");
  g_autofree char *pay_a = NULL, *pay_b = NULL, *receipt = NULL, *expected = NULL;
  g_autofree char *tail = NULL, *renumbered = NULL;
  const char *later;

  /* A device id like a's but for its first part: the same receipt prefix. */
  b = open_book (f, "b.recoup");
  {
    g_autofree char *clash = g_strconcat ("0badc0de", recoup_book_get_device_id (a) + 8, NULL);

    g_assert_true (recoup_book_set_setting (b, "device_id", clash, &error));
    g_assert_no_error (error);
    g_clear_object (&b);
    b = recoup_book_open (path_b, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (recoup_book_get_device_id (b), ==, clash);
  }
  base = all_changes (a);
  deliver (b, base);
  deliver (c, base);
  deliver (d, base);

  pay_a = pay (a, acct, 1500);
  pay_b = pay (b, acct, 2500);
  receipt = receipt_of (a, pay_a);
  {
    g_autofree char *receipt_b = receipt_of (b, pay_b);

    g_assert_cmpstr (receipt, ==, receipt_b);
  }
  from_a = all_changes (a);
  from_b = all_changes (b);
  deliver (a, from_b);
  deliver (b, from_a);
  deliver (c, from_a);
  deliver (c, from_b);
  deliver (d, from_b);
  deliver (d, from_a);

  later = strcmp (pay_a, pay_b) > 0 ? pay_a : pay_b;
  tail = g_ascii_strup (later + strlen (later) - 6, -1);
  renumbered = g_strdup_printf ("%s-%s", receipt, tail);
  expected = canonical (a);
  for (guint i = 0; i < 4; i++)
    {
      RecoupBook *book = (RecoupBook *[]) { a, b, c, d }[i];
      g_autofree char *dump = canonical (book);
      g_autofree char *first = receipt_of (book, later == pay_a ? pay_b : pay_a);
      g_autofree char *second = receipt_of (book, later);

      g_assert_cmpstr (dump, ==, expected);
      g_assert_cmpint (count_rows (book, "SELECT count(*) FROM ledger_entries WHERE kind = 'payment'"), ==, 2);
      g_assert_cmpint (count_rows (book, "SELECT sum(amount) FROM ledger_entries WHERE kind = 'payment'"),
                       ==, -4000);
      g_assert_cmpstr (first, ==, receipt);
      g_assert_cmpstr (second, ==, renumbered);
    }
}

/* @book's open review items of @kind on @acct: id and payload (their text
 * is worded for the reader, with the names of the users that book knows),
 * then with @text, the text. */
static char *
open_items_of_kind (RecoupBook *book,
                    const char *acct,
                    const char *kind,
                    gboolean    text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = recoup_review_list_open (book, acct, &error);
  GString *out = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < items->len; i++)
    {
      RecoupReviewItem *item = g_ptr_array_index (items, i);

      if (g_strcmp0 (item->kind, kind) == 0)
        g_string_append_printf (out, "%s|%s|%s\n", item->id, item->payload, text ? item->text : "");
    }
  return g_string_free (out, FALSE);
}

static RecoupOffer *
load_offer (RecoupBook *book,
            const char *id)
{
  g_autoptr(GError) error = NULL;
  RecoupOffer *o = recoup_offer_load (book, id, NULL, &error);

  g_assert_no_error (error);
  return o;
}

static char *
sent_offer (RecoupBook            *book,
            const RecoupOfferSpec *spec)
{
  g_autoptr(GError) error = NULL;
  char *id = recoup_offer_create (book, spec, &error);

  g_assert_no_error (error);
  g_assert_true (recoup_offer_transition (book, id, RECOUP_OFFER_EVENT_SEND, NULL, &error));
  g_assert_no_error (error);
  return id;
}

/* One account, ACC-000@number, owing 1,000.00 (and a 50.00 fee with
 * @fee) on @a and known to @b; offline, @a accepts a plan of @plan (waiving
 * the fees with @fee and @plan_waives) and @b a settlement for @settlement
 * (waiving the fees with @fee); then each copy gets the other's changes
 * once. */
typedef struct
{
  char  *acct;
  char  *plan;
  char  *settlement;
  guint  n;          /* the changes both copies had before they accepted */
} Clash;

static void
clash_clear (Clash *c)
{
  g_free (c->acct);
  g_free (c->plan);
  g_free (c->settlement);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Clash, clash_clear)

static void
make_clash (RecoupBook *a,
            RecoupBook *b,
            const char *number,
            gint64      plan,
            gint64      settlement,
            gboolean    fee,
            gboolean    plan_waives,
            Clash      *c)
{
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *today = recoup_book_today (a);
  g_autofree char *ref = g_strdup_printf ("ACC-000%s", number);
  g_autofree char *inv = g_strdup_printf ("INV-%s", number);
  char first_date[11], pay_by[11];

  recoup_date_format_buf (recoup_date_parse (today, NULL) + 14, first_date);
  recoup_date_format_buf (recoup_date_parse (today, NULL) + 30, pay_by);
  c->acct = test_add_account (a, ref, "USD");
  g_free (test_add_invoice (a, c->acct, inv, "2026-01-01", "2026-01-31", 100000, "USD"));
  if (fee)
    {
      RecoupEntrySpec e = { .kind = RECOUP_ENTRY_FEE, .account_id = c->acct, .amount = 5000 };

      g_free (recoup_ledger_record (a, &e, &error));
      g_assert_no_error (error);
    }
  {
    RecoupOfferSpec ps = { .account_id = c->acct, .kind = RECOUP_OFFER_PLAN, .amount = plan,
                           .installments = 10, .frequency = RECOUP_FREQUENCY_MONTHLY,
                           .first_date = first_date, .waive_fees = fee && plan_waives };
    RecoupOfferSpec ss = { .account_id = c->acct, .kind = RECOUP_OFFER_SETTLEMENT, .amount = settlement,
                           .pay_by = pay_by, .waive_fees = fee };

    c->plan = sent_offer (a, &ps);
    c->settlement = sent_offer (a, &ss);
  }
  first = all_changes (a);
  deliver (b, first);
  c->n = first->len;
  g_assert_true (recoup_offer_transition (a, c->plan, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_offer_transition (b, c->settlement, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_no_error (error);
  deliver_from (b, a, c->n);
  deliver_from (a, b, c->n);
}

/* A plan accepted on one copy and a settlement on another, offline, on one
 * account (QA: ACC-0002882): both stay accepted, the account gets one review
 * item naming both on every copy, alike, however often the changes arrive,
 * and one payment of the whole amount completes the offer accepted first
 * only (before, both completed and "review" showed nothing). An owner's
 * mark closes the item for good. */
static void
test_two_arrangements (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(GError) error = NULL;
  g_auto(Clash) clash = { 0 };
  g_autofree char *today = recoup_book_today (a);
  g_autofree char *items_a = NULL, *items_b = NULL;
  g_autoptr(RecoupOffer) pa = NULL, sa = NULL, pb = NULL, sb = NULL;
  const char *acct, *plan, *settlement;
  guint n, written = 99;

  make_clash (a, b, "2882", 100000, 100000, FALSE, FALSE, &clash);
  acct = clash.acct;
  plan = clash.plan;
  settlement = clash.settlement;
  n = clash.n;
  /* Once more each way: what each copy wrote in answer travels too. */
  deliver_from (b, a, n);
  deliver_from (a, b, n);

  /* Both stay accepted; the plan, accepted first, runs; the settlement is
   * held by it. */
  pa = load_offer (a, plan);
  sa = load_offer (a, settlement);
  pb = load_offer (b, plan);
  sb = load_offer (b, settlement);
  g_assert_cmpint (pa->state, ==, RECOUP_OFFER_STATE_ACCEPTED);
  g_assert_cmpint (sa->state, ==, RECOUP_OFFER_STATE_ACCEPTED);
  g_assert_cmpint (pb->state, ==, RECOUP_OFFER_STATE_ACCEPTED);
  g_assert_cmpint (sb->state, ==, RECOUP_OFFER_STATE_ACCEPTED);
  g_assert_null (pa->held_by);
  g_assert_null (pb->held_by);
  g_assert_cmpstr (sa->held_by, ==, plan);
  g_assert_cmpstr (sb->held_by, ==, plan);

  /* One item, the same on both copies, naming both offers and who accepted
   * each when. */
  items_a = open_items_of_kind (a, acct, RECOUP_REVIEW_OFFER_CLASH, FALSE);
  items_b = open_items_of_kind (b, acct, RECOUP_REVIEW_OFFER_CLASH, FALSE);
  g_assert_cmpstr (items_a, ==, items_b);
  g_clear_pointer (&items_a, g_free);
  items_a = open_items_of_kind (a, acct, RECOUP_REVIEW_OFFER_CLASH, TRUE);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM review_items WHERE kind = 'offer-clash'"), ==, 1);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM review_items WHERE kind = 'offer-clash'"), ==, 1);
  g_assert_nonnull (strstr (items_a, plan));
  g_assert_nonnull (strstr (items_a, settlement));
  g_assert_nonnull (strstr (items_a, "accepted by root"));
  g_assert_nonnull (strstr (items_a, today));

  /* Reconciling again, or everything arriving once more, adds nothing. */
  g_assert_true (recoup_offer_reconcile_account (a, acct, &written, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (written, ==, 0);
  deliver_from (b, a, 0);
  deliver_from (a, b, 0);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM review_items WHERE kind = 'offer-clash'"), ==, 1);
  g_assert_cmpint (count_rows (b, "SELECT count(*) FROM review_items WHERE kind = 'offer-clash'"), ==, 1);

  /* One payment of the whole amount completes the plan, not both. */
  g_free (pay (a, acct, 100000));
  deliver_from (b, a, n);
  g_clear_pointer (&pa, recoup_offer_free);
  g_clear_pointer (&sa, recoup_offer_free);
  g_clear_pointer (&pb, recoup_offer_free);
  g_clear_pointer (&sb, recoup_offer_free);
  pa = load_offer (a, plan);
  sa = load_offer (a, settlement);
  pb = load_offer (b, plan);
  sb = load_offer (b, settlement);
  g_assert_cmpint (pa->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  g_assert_cmpint (pb->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  g_assert_cmpint (sa->state, ==, RECOUP_OFFER_STATE_ACCEPTED);
  g_assert_cmpint (sb->state, ==, RECOUP_OFFER_STATE_ACCEPTED);
  g_assert_cmpint (sa->paid, ==, 0);
  g_assert_cmpint (count_rows (a, "SELECT count(*) FROM review_items WHERE kind = 'offer-clash'"), ==, 1);

  /* The owner's mark closes the item; reconciling does not raise it again. */
  {
    g_autoptr(GPtrArray) open = recoup_review_list_open (a, acct, &error);

    g_assert_no_error (error);
    g_assert_true (recoup_review_mark (a, acct, open, &error));
    g_assert_no_error (error);
  }
  g_assert_true (recoup_offer_reconcile_account (a, acct, &written, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (written, ==, 0);
  g_clear_pointer (&items_a, g_free);
  items_a = open_items_of_kind (a, acct, RECOUP_REVIEW_OFFER_CLASH, FALSE);
  g_assert_cmpstr (items_a, ==, "");
  deliver_from (b, a, n);
  g_clear_pointer (&items_b, g_free);
  items_b = open_items_of_kind (b, acct, RECOUP_REVIEW_OFFER_CLASH, FALSE);
  g_assert_cmpstr (items_b, ==, "");
}

static gint64
balance_of (RecoupBook *book,
            const char *acct)
{
  g_autoptr(GError) error = NULL;
  gint64 balance = 0;

  g_assert_true (recoup_ledger_balance (book, acct, NULL, &balance, &error));
  g_assert_no_error (error);
  return balance;
}

/* The ledger as money: what each entry is, how much, when, and what it
 * reverses, waives or belongs to. */
static char *
money_rows (RecoupBook *book)
{
  GString *out = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (book),
                                       "SELECT id, kind, amount, effective_date, coalesce (reverses_id, ''),"
                                       " coalesce (waives_id, ''), coalesce (offer_id, '')"
                                       " FROM ledger_entries ORDER BY id", -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      for (int i = 0; i < 7; i++)
        g_string_append_printf (out, "%s|", (const char *) sqlite3_column_text (stmt, i));
      g_string_append_c (out, '\n');
    }
  sqlite3_finalize (stmt);
  return g_string_free (out, FALSE);
}

static void
withdraw_ok (RecoupBook *book,
             const char *offer,
             const char *reason)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (recoup_offer_transition (book, offer, RECOUP_OFFER_EVENT_WITHDRAW, reason, &error));
  g_assert_no_error (error);
}

/* What a clash left on @book once the held @settlement is withdrawn: it is
 * withdrawn with its reason, the @plan it was held by runs alone, the fee
 * its acceptance waived is owed again (its waiver reversed, not deleted),
 * and the clash's item is closed by the withdrawal. */
static void
assert_held_withdrawn (RecoupBook *book,
                       const char *acct,
                       const char *plan,
                       const char *settlement)
{
  g_autoptr(RecoupOffer) p = load_offer (book, plan);
  g_autoptr(RecoupOffer) s = load_offer (book, settlement);
  g_autofree char *open = open_items_of_kind (book, acct, RECOUP_REVIEW_OFFER_CLASH, FALSE);
  g_autofree char *waivers = g_strdup_printf ("SELECT count(*) FROM ledger_entries w WHERE w.offer_id = '%s'"
                                              " AND w.kind = 'waiver'", settlement);
  g_autofree char *reversed = g_strdup_printf ("SELECT count(*) FROM ledger_entries w JOIN ledger_entries r"
                                               " ON r.reverses_id = w.id WHERE w.offer_id = '%s'", settlement);

  g_assert_cmpint (s->state, ==, RECOUP_OFFER_STATE_WITHDRAWN);
  g_assert_cmpstr (s->closing_note, ==, "the customer keeps the plan");
  g_assert_null (s->held_by);
  g_assert_false (s->clashing);
  g_assert_cmpuint (s->n_conflicts, ==, 0);
  g_assert_cmpint (p->state, ==, RECOUP_OFFER_STATE_ACCEPTED);
  g_assert_null (p->held_by);
  g_assert_false (p->clashing);
  g_assert_cmpint (count_rows (book, waivers), ==, 1);
  g_assert_cmpint (count_rows (book, reversed), ==, 1);
  g_assert_cmpint (balance_of (book, acct), ==, 105000);
  g_assert_cmpstr (open, ==, "");
  g_assert_cmpint (count_rows (book, "SELECT count(*) FROM review_items WHERE kind = 'offer-clash'"), ==, 1);
  g_assert_cmpint (count_rows (book, "SELECT count(*) FROM review_items WHERE kind = 'offer-conflict'"), ==, 0);
}

/* The clash of test_two_arrangements() resolved (QA: ACC-0002883): the
 * settlement, accepted offline on b with the account's fee waived, is held
 * by the plan accepted on a; the customer says the plan stands, and a
 * withdraws the settlement, with the reason (none is refused). On both
 * copies, and on a third that gets everything at once, it is withdrawn as
 * if never accepted, the review item is closed, payments count toward the
 * plan, and another arrangement is accepted only once the plan is
 * finished (before, a held offer could not be withdrawn, and the account
 * could never get another arrangement). */
static void
test_withdraw_held (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_autoptr(RecoupBook) c = open_book (f, "c.recoup");
  g_autoptr(GError) error = NULL;
  g_auto(Clash) clash = { 0 };
  g_autofree char *later = NULL, *next = NULL;
  g_autofree char *money_a = NULL, *money_b = NULL, *money_c = NULL;
  g_autofree char *today = recoup_book_today (a);
  g_autoptr(RecoupOffer) s = NULL;
  g_autoptr(RecoupOffer) p = NULL;
  const char *acct, *plan, *settlement;
  char pay_by[11];
  guint n;

  recoup_date_format_buf (recoup_date_parse (today, NULL) + 30, pay_by);
  make_clash (a, b, "2883", 100000, 90000, TRUE, FALSE, &clash);
  acct = clash.acct;
  plan = clash.plan;
  settlement = clash.settlement;
  n = clash.n;

  s = load_offer (a, settlement);
  p = load_offer (a, plan);
  g_assert_cmpstr (s->held_by, ==, plan);
  g_assert_true (s->clashing);
  g_assert_true (p->clashing);
  g_assert_cmpint (balance_of (a, acct), ==, 100000);
  g_assert_cmpstr (open_items_of_kind (a, acct, RECOUP_REVIEW_OFFER_CLASH, FALSE), !=, "");

  /* Withdrawing an accepted arrangement needs the reason. */
  g_assert_false (recoup_offer_transition (a, settlement, RECOUP_OFFER_EVENT_WITHDRAW, "  ", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "needs a reason"));
  g_clear_error (&error);

  withdraw_ok (a, settlement, "the customer keeps the plan");
  deliver_from (b, a, n);
  deliver_from (a, b, n);
  deliver_from (c, a, 0);
  assert_held_withdrawn (a, acct, plan, settlement);
  assert_held_withdrawn (b, acct, plan, settlement);
  assert_held_withdrawn (c, acct, plan, settlement);
  /* The same money rows on every copy (who wrote a derived row, and when,
   * is the copy's own). */
  money_a = money_rows (a);
  money_b = money_rows (b);
  money_c = money_rows (c);
  g_assert_cmpstr (money_a, ==, money_b);
  g_assert_cmpstr (money_a, ==, money_c);

  /* A payment counts toward the plan; the withdrawn offer counts none. */
  g_free (pay (b, acct, 10000));
  deliver_from (a, b, n);
  g_clear_pointer (&p, recoup_offer_free);
  g_clear_pointer (&s, recoup_offer_free);
  p = load_offer (a, plan);
  s = load_offer (a, settlement);
  g_assert_cmpint (p->paid, ==, 10000);
  g_assert_cmpint (p->state, ==, RECOUP_OFFER_STATE_ACTIVE);
  g_assert_cmpint (s->paid, ==, 0);
  g_assert_cmpint (s->state, ==, RECOUP_OFFER_STATE_WITHDRAWN);

  /* No other arrangement while the plan runs; once it is paid, one. */
  {
    RecoupOfferSpec ns = { .account_id = acct, .kind = RECOUP_OFFER_SETTLEMENT, .amount = 50000,
                           .pay_by = pay_by };

    later = sent_offer (a, &ns);
  }
  g_assert_false (recoup_offer_transition (a, later, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, plan));
  g_clear_error (&error);
  g_free (pay (a, acct, 90000));
  g_clear_pointer (&p, recoup_offer_free);
  p = load_offer (a, plan);
  g_assert_cmpint (p->state, ==, RECOUP_OFFER_STATE_COMPLETED);
  g_free (test_add_invoice (a, acct, "INV-2884", "2026-02-01", "2026-02-28", 20000, "USD"));
  {
    RecoupOfferSpec ns = { .account_id = acct, .kind = RECOUP_OFFER_SETTLEMENT, .amount = 20000,
                           .pay_by = pay_by };

    next = sent_offer (a, &ns);
  }
  g_assert_true (recoup_offer_transition (a, next, RECOUP_OFFER_EVENT_ACCEPT, NULL, &error));
  g_assert_no_error (error);
}

/* Each copy withdraws one offer of a clash offline: the earlier withdrawal
 * (by the clock) stands; the other offer then clashes with nothing, so its
 * withdrawal is a conflict for review and it runs, counting payments (the
 * customer is not left with no arrangement because two people disagreed).
 * Alike on both copies. */
static void
test_withdraw_both_of_clash (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_auto(Clash) clash = { 0 };
  g_autofree char *withdrawn = NULL, *stands = NULL;
  const char *acct, *plan, *settlement;
  guint n;

  make_clash (a, b, "2885", 100000, 90000, FALSE, FALSE, &clash);
  acct = clash.acct;
  plan = clash.plan;
  settlement = clash.settlement;
  n = clash.n;

  /* a keeps the settlement (held till now), then b the plan; which
   * withdrawal came first is the clock's to say (two copies may stamp the
   * same millisecond), though a's is mostly first. */
  withdraw_ok (a, plan, "the customer keeps the settlement");
  g_usleep (3000);
  withdraw_ok (b, settlement, "the customer keeps the plan");
  deliver_from (b, a, n);
  deliver_from (a, b, n);
  g_free (pay (a, acct, 10000));
  deliver_from (b, a, n);
  {
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (a),
                                         "SELECT offer_id FROM offer_events WHERE event = 'withdraw'"
                                         " ORDER BY hlc, device_id, id LIMIT 1", -1, &stmt, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    withdrawn = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
  }
  stands = g_strdup (g_str_equal (withdrawn, plan) ? settlement : plan);

  for (guint i = 0; i < 2; i++)
    {
      RecoupBook *book = i == 0 ? a : b;
      g_autoptr(RecoupOffer) p = load_offer (book, stands);
      g_autoptr(RecoupOffer) s = load_offer (book, withdrawn);

      g_assert_cmpint (s->state, ==, RECOUP_OFFER_STATE_WITHDRAWN);
      g_assert_cmpuint (s->n_conflicts, ==, 0);
      g_assert_cmpint (p->state, ==, RECOUP_OFFER_STATE_ACTIVE);
      g_assert_cmpint (p->paid, ==, 10000);
      g_assert_null (p->held_by);
      g_assert_false (p->clashing);
      g_assert_cmpuint (p->n_conflicts, ==, 1);
      g_assert_cmpint (count_rows (book, "SELECT count(*) FROM review_items i WHERE kind = 'offer-clash'"
                                         " AND EXISTS (SELECT 1 FROM review_marks m WHERE m.item_id = i.id)"), ==, 1);
      g_assert_cmpint (count_rows (book, "SELECT count(*) FROM review_items WHERE kind = 'offer-conflict'"), ==, 1);
    }
}

/* Both arrangements of a clash waive the account's fee (QA): the plan,
 * accepted first, keeps its waiver, the held settlement's is reversed (the
 * fee is waived once). The customer chooses the settlement, and the plan is
 * withdrawn: its waiver goes, and the settlement's comes back, so the fee
 * is waived once still, on every copy (before, both were reversed and the
 * customer owed a fee the settlement waived). */
static void
test_withdraw_kept_rewaives (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(RecoupBook) a = open_book (f, "a.recoup");
  g_autoptr(RecoupBook) b = open_book (f, "b.recoup");
  g_auto(Clash) clash = { 0 };
  g_autofree char *money_a = NULL, *money_b = NULL;

  make_clash (a, b, "2886", 100000, 90000, TRUE, TRUE, &clash);
  g_assert_cmpint (balance_of (a, clash.acct), ==, 100000);
  g_assert_cmpint (balance_of (b, clash.acct), ==, 100000);

  withdraw_ok (b, clash.plan, "the customer chose the settlement");
  deliver_from (b, a, clash.n);
  deliver_from (a, b, clash.n);
  for (guint i = 0; i < 2; i++)
    {
      RecoupBook *book = i == 0 ? a : b;
      g_autoptr(RecoupOffer) p = load_offer (book, clash.plan);
      g_autoptr(RecoupOffer) s = load_offer (book, clash.settlement);

      g_assert_cmpint (p->state, ==, RECOUP_OFFER_STATE_WITHDRAWN);
      g_assert_null (s->held_by);
      g_assert_cmpint (balance_of (book, clash.acct), ==, 100000);
      g_assert_cmpint (count_rows (book, "SELECT count(*) FROM ledger_entries w WHERE w.kind = 'waiver'"
                                         " AND NOT EXISTS (SELECT 1 FROM ledger_entries r"
                                         "                 WHERE r.reverses_id = w.id)"), ==, 1);
    }
  money_a = money_rows (a);
  money_b = money_rows (b);
  g_assert_cmpstr (money_a, ==, money_b);

  /* The settlement's amount completes it, with nothing left owing. */
  g_free (pay (a, clash.acct, 90000));
  deliver_from (b, a, clash.n);
  for (guint i = 0; i < 2; i++)
    {
      RecoupBook *book = i == 0 ? a : b;
      g_autoptr(RecoupOffer) s = load_offer (book, clash.settlement);

      g_assert_cmpint (s->state, ==, RECOUP_OFFER_STATE_COMPLETED);
      g_assert_cmpint (balance_of (book, clash.acct), ==, 0);
    }
}

typedef enum
{
  CLASH_REJECTED,      /* A upholds with a write-off, B (later) rejects */
  CLASH_UPHELD_TWICE,  /* B, another user, upholds with a write-off too */
  CLASH_SAME_USER,     /* one user upholds on both devices, with the same note */
} DisputeClash;

/* One dispute resolved offline on two copies, upheld with a write-off of
 * USD 100.00 on A and, later, rejected or upheld again on B: the fields
 * follow B, both remedies stay in the ledger, and the money is left alone.
 * Whichever copy hears of the other first, both raise one review item for
 * the owner, under the same id and with the same payload and words, for the
 * remedy that is not the standing resolution's, and say what to do by case
 * (before, a rejected dispute left the balance 0 while the record said the
 * debt stood, and two upheld ones took the amount off twice, with nothing
 * in "review"). */
static void
dispute_clash_once (Fixture      *f,
                    DisputeClash  clash,
                    gboolean      a_first)
{
  g_autofree char *name_a = g_strdup_printf ("da-%d-%d.recoup", clash, a_first);
  g_autofree char *name_b = g_strdup_printf ("db-%d-%d.recoup", clash, a_first);
  g_autoptr(RecoupBook) a = open_book (f, name_a);
  g_autoptr(RecoupBook) b = open_book (f, name_b);
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *dispute = NULL, *entry_a = NULL, *entry_b = NULL;
  g_autofree char *ana = NULL, *bo = NULL;
  g_autofree char *id_a = NULL, *text_a = NULL, *payload_a = NULL;
  RecoupDisputeResolution upheld = { TRUE, RECOUP_DISPUTE_REMEDY_WRITE_OFF, 0, "the goods never arrived" };
  RecoupDisputeResolution rejected = { FALSE, RECOUP_DISPUTE_REMEDY_NONE, 0, "signed delivery note on file" };
  guint n;

  ana = recoup_user_add (a, "Ana", "owner", 10000, 120, FALSE, &error);
  g_assert_no_error (error);
  bo = recoup_user_add (a, "Bo", "owner", 10000, 120, FALSE, &error);
  g_assert_no_error (error);
  acct = test_add_account (a, "D-1", "USD");
  g_free (test_add_invoice (a, acct, "INV-D1", "2026-01-01", "2026-01-31", 10000, "USD"));
  dispute = recoup_dispute_open (a, acct, NULL, "says the goods never arrived", &error);
  g_assert_no_error (error);
  first = all_changes (a);
  deliver (b, first);
  n = first->len;

  g_assert_true (recoup_book_set_user (a, ana, &error));
  g_assert_true (recoup_book_set_user (b, clash == CLASH_SAME_USER ? ana : bo, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_dispute_resolve_full (a, dispute, &upheld, &entry_a, &error));
  g_assert_no_error (error);
  g_assert_nonnull (entry_a);
  g_usleep (2000);   /* B resolves later */
  g_assert_true (recoup_dispute_resolve_full (b, dispute, clash == CLASH_REJECTED ? &rejected : &upheld,
                                              &entry_b, &error));
  g_assert_no_error (error);

  if (a_first)
    {
      deliver_from (b, a, n);
      deliver_from (a, b, n);
    }
  else
    {
      deliver_from (a, b, n);
      deliver_from (b, a, n);
    }
  /* The items each raised travel too. */
  deliver_from (b, a, n);
  deliver_from (a, b, n);

  for (guint i = 0; i < 2; i++)
    {
      RecoupBook *book = i == 0 ? a : b;
      g_autoptr(RecoupDispute) d = recoup_dispute_load (book, dispute, &error);
      g_autoptr(GPtrArray) items = recoup_review_list_open (book, acct, &error);
      g_autofree char *payload = NULL;
      RecoupReviewItem *item = NULL;

      g_assert_no_error (error);
      g_assert_cmpstr (d->status, ==, clash == CLASH_REJECTED ? "rejected" : "upheld");
      /* Nothing reversed: that is the owner's to decide. */
      g_assert_cmpint (balance_of (book, acct), ==, clash == CLASH_REJECTED ? 0 : -10000);
      for (guint j = 0; j < items->len; j++)
        if (g_str_equal (((RecoupReviewItem *) items->pdata[j])->kind, RECOUP_REVIEW_DISPUTE_CLASH))
          {
            g_assert_null (item);
            item = items->pdata[j];
          }
      g_assert_nonnull (item);
      /* The losing remedy is A's: B's resolution is the later one. */
      g_assert_nonnull (strstr (item->text, "“says the goods never arrived”"));
      g_assert_nonnull (strstr (item->text, "write-off of USD 100.00"));
      if (clash == CLASH_REJECTED)
        g_assert_nonnull (strstr (item->text, "rejected by Bo on "));
      else
        g_assert_nonnull (strstr (item->text, "was upheld twice"));
      {
        g_autofree char *sql = g_strdup_printf ("SELECT payload FROM review_items WHERE id = '%s'", item->id);

        payload = query_text (book, sql);
      }
      g_assert_nonnull (strstr (payload, entry_a));
      /* Raised by each copy on its own, it is no one's: "by" is the same
       * on every copy (QA saw Ana on one and Bo on the other). */
      g_assert_null (item->user_name);
      if (id_a == NULL)
        {
          id_a = g_strdup (item->id);
          text_a = g_strdup (item->text);
          payload_a = g_strdup (payload);
        }
      else
        {
          g_assert_cmpstr (item->id, ==, id_a);
          g_assert_cmpstr (item->text, ==, text_a);
          g_assert_cmpstr (payload, ==, payload_a);
        }
    }
}

static void
test_dispute_resolved_twice (Fixture       *f,
                             gconstpointer  data)
{
  for (DisputeClash clash = CLASH_REJECTED; clash <= CLASH_SAME_USER; clash++)
    {
      dispute_clash_once (f, clash, TRUE);
      dispute_clash_once (f, clash, FALSE);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/recoup/core/merge/lww", test_lww);
  ADD ("/recoup/core/merge/idempotent", test_idempotent);
  ADD ("/recoup/core/merge/reject", test_reject);
  ADD ("/recoup/core/merge/tombstone", test_tombstone);
  ADD ("/recoup/core/merge/convergence", test_convergence);
  ADD ("/recoup/core/merge/compact-insert", test_compact_insert);
  ADD ("/recoup/core/merge/wire", test_wire);
  ADD ("/recoup/core/merge/reload-clock", test_reload_clock);
  ADD ("/recoup/core/merge/clock-forward", test_clock_forward);
  ADD ("/recoup/core/merge/settings", test_settings);
  ADD ("/recoup/core/merge/settings-refused", test_settings_refused);
  ADD ("/recoup/core/merge/settings-rescore", test_settings_rescore);
  ADD ("/recoup/core/merge/settings-guard-rederive", test_settings_guard_rederive);
  ADD ("/recoup/core/merge/reversal-twice", test_reversal_twice);
  ADD ("/recoup/core/merge/waived-twice", test_waived_twice);
  ADD ("/recoup/core/merge/accepted-twice", test_accepted_twice);
  ADD ("/recoup/core/merge/resend-missing-reference", test_resend_missing_reference);
  ADD ("/recoup/core/merge/opt-out-value-change", test_opt_out_value_change);
  ADD ("/recoup/core/merge/opt-out-value-change-legacy", test_opt_out_value_change_legacy);
  ADD ("/recoup/core/merge/receipt-clash", test_receipt_clash);
  ADD ("/recoup/core/merge/two-arrangements", test_two_arrangements);
  ADD ("/recoup/core/merge/withdraw-kept-rewaives", test_withdraw_kept_rewaives);
  ADD ("/recoup/core/merge/withdraw-held", test_withdraw_held);
  ADD ("/recoup/core/merge/withdraw-both-of-clash", test_withdraw_both_of_clash);
  ADD ("/recoup/core/merge/dispute-resolved-twice", test_dispute_resolved_twice);
#undef ADD

  return g_test_run ();
}
