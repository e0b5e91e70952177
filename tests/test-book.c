/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "recoup-book-private.h"
#include "recoup-schema-private.h"
#include "recoup-test-util.h"

static void
test_create_and_reopen (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *device = NULL;
  g_autofree char *user = NULL;

  test_book_open (&tb);
  g_assert_cmpint (recoup_book_get_schema_version (tb.book), ==, RECOUP_SCHEMA_VERSION);
  g_assert_true (recoup_uuid_is_valid (recoup_book_get_device_id (tb.book)));
  device = g_strdup (recoup_book_get_device_id (tb.book));
  user = g_strdup (recoup_book_get_user_id (tb.book));
  g_clear_object (&tb.book);

  /* Same device and owner after a reopen; WAL and foreign keys on. */
  tb.book = recoup_book_open (tb.path, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (recoup_book_get_device_id (tb.book), ==, device);
  g_assert_cmpstr (recoup_book_get_user_id (tb.book), ==, user);
  g_assert_cmpint (test_query_int (tb.path, "PRAGMA journal_mode = wal") >= 0, ==, TRUE);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM users WHERE role = 'owner'"), ==, 1);
  g_assert_true (recoup_book_check_integrity (tb.book, &error));
  test_book_close (&tb);
}

static gchar *
file_digest (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
}

/* A book from a newer Recoup is refused, and not one byte of it changes. */
static void
test_newer_schema_refused (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  RecoupBook *book;
  sqlite3 *db;

  test_book_open (&tb);
  g_clear_object (&tb.book);
  g_assert_cmpint (sqlite3_open (tb.path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 999", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  before = file_digest (tb.path);

  book = recoup_book_open (tb.path, 0, &error);
  g_assert_null (book);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NEWER_SCHEMA);
  g_assert_nonnull (strstr (error->message, "newer Recoup"));
  g_assert_nonnull (strstr (error->message, "999"));

  after = file_digest (tb.path);
  g_assert_cmpstr (before, ==, after);
  {
    g_autofree char *wal = g_strconcat (tb.path, "-wal", NULL);
    g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  }
  test_book_close (&tb);
}

static void
test_not_a_book (void)
{
  g_autofree char *dir = g_dir_make_tmp ("recoup-test-XXXXXX", NULL);
  g_autofree char *text = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *other = g_build_filename (dir, "other.sqlite", NULL);
  g_autoptr(GError) error = NULL;
  sqlite3 *db;
  RecoupBook *book;

  g_assert_true (g_file_set_contents (text, "hello, this is not a database at all, honestly....", -1, NULL));
  book = recoup_book_open (text, 0, &error);
  g_assert_null (book);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_A_BOOK);
  g_clear_error (&error);

  g_assert_cmpint (sqlite3_open (other, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE t (x)", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  book = recoup_book_open (other, 0, &error);
  g_assert_null (book);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_A_BOOK);
  g_clear_error (&error);

  /* NO_CREATE on a missing file says how to make one. */
  {
    g_autofree char *missing = g_build_filename (dir, "missing.recoup", NULL);
    book = recoup_book_open (missing, RECOUP_BOOK_OPEN_NO_CREATE, &error);
    g_assert_null (book);
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
    g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  }
  test_remove_tree (dir);
}

/* Each migration runs in its own transaction from an empty file up to the
 * current version; a half-applied migration leaves the old version. */
static void
test_migrations (void)
{
  TestBook tb = { 0 };
  const char *tables[] = { "accounts", "contact_points", "invoices", "ledger_entries", "activities",
                           "promises", "offers", "offer_events", "installments", "disputes",
                           "follow_ups", "settings", "changes", "users" };

  test_book_open (&tb);
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '%s'", tables[i]);
      g_assert_cmpint (test_query_int (tb.path, sql), ==, 1);
    }
  g_assert_cmpint (test_query_int (tb.path, "PRAGMA user_version"), ==, RECOUP_SCHEMA_VERSION);
  g_assert_cmpint (test_query_int (tb.path, "PRAGMA application_id"), ==, 0x52656370);
  test_book_close (&tb);
}

/* Migration 9: an owner's settings changes (and saved worklists) that an
 * earlier server refused as an unknown entity are sent again; other refusals
 * stay. */
static void
test_migrate_settings_refusals (void)
{
  g_autofree char *dir = g_dir_make_tmp ("recoup-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "old.recoup", NULL);
  g_autofree char *app_id = g_strdup_printf ("PRAGMA application_id = %d", RECOUP_APPLICATION_ID);
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  sqlite3 *db;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, app_id, NULL, NULL, NULL), ==, SQLITE_OK);
  for (int v = 0; v < 8; v++)
    g_assert_cmpint (sqlite3_exec (db, recoup_schema_get_migration (v), NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
    "INSERT INTO users (id, name, role, created_at) VALUES ('u-owner', 'Olive', 'owner', 1),"
    " ('u-coll', 'Carl', 'collector', 1);"
    "INSERT INTO changes (id, hlc, device_id, user_id, entity, entity_id, op, fields, schema_version) VALUES"
    " ('01900000-0000-7000-8000-000000000001', 1, 'dev', 'u-owner', 'settings', 'guard.hours_start', 'set',"
    "  '{\"key\":\"guard.hours_start\",\"value\":\"09:00\"}', 7),"
    " ('01900000-0000-7000-8000-000000000002', 2, 'dev', 'u-owner', 'accounts', 'a1', 'set',"
    "  '{\"name\":\"X\"}', 7),"
    " ('01900000-0000-7000-8000-000000000003', 3, 'dev', 'u-coll', 'settings', 'smtp.url', 'set',"
    "  '{\"key\":\"smtp.url\",\"value\":\"smtp://mail.example\"}', 7),"
    " ('01900000-0000-7000-8000-000000000004', 4, 'dev', 'u-coll', 'settings', 'worklist.saved.mine', 'set',"
    "  '{\"key\":\"worklist.saved.mine\",\"value\":\"{}\"}', 7);"
    "INSERT INTO sync_rejections (change_id, reason, message, at) VALUES"
    " ('01900000-0000-7000-8000-000000000001', 'unknown_entity', 'unknown entity “settings”', 1),"
    " ('01900000-0000-7000-8000-000000000002', 'invalid', 'no account a1', 1),"
    " ('01900000-0000-7000-8000-000000000003', 'unknown_entity', 'unknown entity “settings”', 1),"
    " ('01900000-0000-7000-8000-000000000004', 'unknown_entity', 'unknown entity “settings”', 1);"
    "PRAGMA user_version = 8", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  book = recoup_book_open (path, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (recoup_book_get_schema_version (book), ==, RECOUP_SCHEMA_VERSION);
  g_assert_cmpint (test_query_int (path, "SELECT count(*) FROM sqlite_master"
                                         " WHERE name IN ('review_items', 'review_marks')"), ==, 2);
  /* The owner's setting and the saved worklist are sent again; a collector's
   * owner-only setting stays refused (and on that device); other refusals stay. */
  g_assert_cmpint (test_query_int (path, "SELECT count(*) FROM sync_rejections"), ==, 2);
  g_assert_cmpint (test_query_int (path, "SELECT count(*) FROM sync_rejections WHERE reason = 'invalid'"), ==, 1);
  g_assert_cmpint (test_query_int (path, "SELECT count(*) FROM sync_rejections"
                                         " WHERE change_id = '01900000-0000-7000-8000-000000000003'"), ==, 1);
  g_clear_object (&book);
  test_remove_tree (dir);
}

/* Migration 7 lets an insert change store no fields: a book made at version 6
 * keeps every change it had (an old insert keeps its fields), and new inserts
 * store none. */
static void
test_migrate_compact_inserts (void)
{
  g_autofree char *dir = g_dir_make_tmp ("recoup-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "old.recoup", NULL);
  g_autofree char *app_id = g_strdup_printf ("PRAGMA application_id = %d", RECOUP_APPLICATION_ID);
  RecoupAccountSpec spec = { .ref = "C-2", .name = "Dan", .currency = "USD", .timezone = "America/Denver" };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autofree char *account = NULL;
  sqlite3 *db;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, app_id, NULL, NULL, NULL), ==, SQLITE_OK);
  for (int v = 0; v < 6; v++)
    g_assert_cmpint (sqlite3_exec (db, recoup_schema_get_migration (v), NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
    "INSERT INTO changes (id, hlc, device_id, entity, entity_id, op, fields, schema_version, server_seq)"
    " VALUES ('01900000-0000-7000-8000-000000000001', 1, 'dev', 'accounts', 'a1', 'insert',"
    "         '{\"ref\":\"C-1\"}', 6, 3);"
    "PRAGMA user_version = 6", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  book = recoup_book_open (path, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (recoup_book_get_schema_version (book), ==, RECOUP_SCHEMA_VERSION);
  g_assert_cmpint (test_query_int (path, "SELECT count(*) FROM changes WHERE entity_id = 'a1' AND server_seq = 3"
                                         " AND json_extract (fields, '$.ref') = 'C-1'"), ==, 1);
  account = recoup_account_create (book, &spec, &error);
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (path, "SELECT count(*) FROM changes WHERE op = 'insert' AND fields IS NULL"),
                   >=, 1);
  g_assert_true (recoup_book_check_integrity (book, &error));
  g_assert_no_error (error);
  g_clear_object (&book);
  test_remove_tree (dir);
}

/* Every write lands in the change log with its entity, op and fields, in the
 * same transaction; a failed write leaves neither row nor change. */
static void
test_change_log (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL;
  g_autofree char *dup = NULL;
  RecoupAccountSpec spec = { .ref = "C-1", .name = "Carol", .currency = "EUR", .timezone = "Europe/Berlin" };
  gint64 changes;

  test_book_open (&tb);
  account = recoup_account_create (tb.book, &spec, &error);
  g_assert_no_error (error);
  /* An insert stores no fields: they are the row's values, read when the
   * change leaves the book. */
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes WHERE entity = 'accounts' AND op = 'insert'"
                                             " AND fields IS NULL"), ==, 1);
  {
    g_autoptr(JsonArray) unsent = recoup_merge_collect_unsent (tb.book, 0, &error);
    JsonObject *insert = NULL;

    g_assert_no_error (error);
    for (guint i = 0; i < json_array_get_length (unsent); i++)
      if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (unsent, i), "entity_id"),
                     account) == 0)
        insert = json_array_get_object_element (unsent, i);
    g_assert_nonnull (insert);
    g_assert_cmpstr (json_object_get_string_member (insert, "op"), ==, "insert");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (insert, "fields"), "ref"),
                     ==, "C-1");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (insert, "fields"), "id"),
                     ==, account);
  }
  changes = recoup_book_count_changes (tb.book);

  dup = recoup_account_create (tb.book, &spec, &error);
  g_assert_null (dup);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);

  g_assert_true (recoup_account_set (tb.book, account, "name", "Carol Smith", &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes WHERE op = 'set'"
                                             " AND json_extract (fields, '$.name') = 'Carol Smith'"), ==, 1);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM field_clocks WHERE field = 'name'"), ==, 1);

  /* Setting the same value again records nothing. */
  changes = recoup_book_count_changes (tb.book);
  g_assert_true (recoup_account_set (tb.book, account, "name", "Carol Smith", &error));
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);

  /* Bad values are refused before anything is written. */
  g_assert_false (recoup_account_set (tb.book, account, "timezone", "Mars/Olympus", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (recoup_account_set (tb.book, account, "balance", "0", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  /* It says which fields can be changed. */
  g_assert_nonnull (strstr (error->message, "the fields are: "));
  g_assert_nonnull (strstr (error->message, "timezone"));
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);

  /* Changes carry device, user, a rising hlc and the schema version. */
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes WHERE device_id IS NULL OR user_id IS NULL"), ==, 0);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes c1 JOIN changes c2 ON c2.seq > c1.seq"
                                             " WHERE c2.hlc <= c1.hlc"), ==, 0);
  test_book_close (&tb);
}

/* Tags are kept trimmed, without empty ones and each once, however they were
 * typed; a retyped equal list changes nothing. */
static void
test_account_tags (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL;
  g_autoptr(RecoupAccount) a = NULL;
  RecoupAccountSpec spec = { .ref = "T-1", .name = "Tagged Ltd", .currency = "EUR", .tags = " vip,, export ,VIP" };
  struct { const char *typed, *kept; } cases[] = {
    { NULL, "" }, { "", "" }, { " , ,,", "" }, { "a", "a" }, { " a, ,b,,", "a, b" },
    { "Zoo, zoo, ZOO ,bar", "Zoo, bar" }, { "Łódź, ŁÓDŹ", "Łódź" }, { "one tag with spaces", "one tag with spaces" },
  };
  gint64 changes;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *kept = recoup_account_normalize_tags (cases[i].typed);

      g_assert_cmpstr (kept, ==, cases[i].kept);
    }

  test_book_open (&tb);
  account = recoup_account_create (tb.book, &spec, &error);
  g_assert_no_error (error);
  a = recoup_account_load (tb.book, account, &error);
  g_assert_cmpstr (a->tags, ==, "vip, export");
  g_clear_pointer (&a, recoup_account_free);

  g_assert_true (recoup_account_set (tb.book, account, "tags", " a, ,b,,", &error));
  g_assert_no_error (error);
  a = recoup_account_load (tb.book, account, &error);
  g_assert_cmpstr (a->tags, ==, "a, b");
  g_clear_pointer (&a, recoup_account_free);
  changes = recoup_book_count_changes (tb.book);
  g_assert_true (recoup_account_set (tb.book, account, "tags", "a,b,A", &error));
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);
  test_book_close (&tb);
}

/* What the owner must review: anyone raises an item, only an owner marks
 * items reviewed; a book's old review_flag text is one legacy item. */
static void
test_review_flag_owner (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL;
  g_autofree char *owner = NULL;
  g_autofree char *collector = NULL;
  g_autofree char *item = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(RecoupAccount) a = NULL;
  const char * const rules[] = { "outside-hours", "cease-communication", NULL };
  RecoupReviewItem *it;
  guint n = 0;

  test_book_open (&tb);
  owner = g_strdup (recoup_book_get_user_id (tb.book));
  account = test_add_account (tb.book, "R-1", "USD");
  g_assert_true (recoup_account_set (tb.book, account, "review_flag", "checked the old way", &error));
  collector = recoup_user_add (tb.book, "Colin", "collector", 0, 0, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_book_set_user (tb.book, collector, &error));
  /* 2026-06-11 02:00 UTC */
  item = recoup_review_add_contact_breach (tb.book, account, "call", G_GINT64_CONSTANT (1781143200000), rules,
                                           "the debtor rang back", &error);
  g_assert_no_error (error);
  g_assert_true (recoup_uuid_is_valid (item));
  g_assert_null (recoup_review_add_contact_breach (tb.book, "no-such-account", "call", 1, rules, "x", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Worded for the reader (the C locale here), at the account's own hour
   * (America/Chicago); the legacy text comes first. */
  items = recoup_review_list_open (tb.book, account, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 2);
  it = g_ptr_array_index (items, 0);
  g_assert_null (it->id);
  g_assert_cmpstr (it->kind, ==, RECOUP_REVIEW_LEGACY);
  g_assert_cmpstr (it->text, ==, "checked the old way");
  it = g_ptr_array_index (items, 1);
  g_assert_cmpstr (it->id, ==, item);
  g_assert_cmpstr (it->kind, ==, RECOUP_REVIEW_CONTACT_BREACH);
  g_assert_cmpstr (it->text, ==, "call on 2026-06-10 21:00 CDT broke the compliance rules (outside the "
                                 "debtor's contact hours; the debtor asked to cease communication), logged by "
                                 "Colin: the debtor rang back");
  /* The book keeps the values, not English. */
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM review_items WHERE payload LIKE '%broke%'"), ==, 0);

  /* A collector cannot mark anything reviewed, nor clear the old text. */
  g_assert_false (recoup_review_mark (tb.book, account, items, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_clear_error (&error);
  g_assert_true (recoup_review_count_open (tb.book, account, &n, &error));
  g_assert_cmpuint (n, ==, 2);
  g_assert_false (recoup_account_set (tb.book, account, "review_flag", "", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_clear_error (&error);

  /* An owner marks what they were shown: the items close, the text clears. */
  g_assert_true (recoup_book_set_user (tb.book, owner, &error));
  g_assert_true (recoup_review_mark (tb.book, account, items, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_review_count_open (tb.book, account, &n, &error));
  g_assert_cmpuint (n, ==, 0);
  /* Marking again writes nothing more. */
  g_assert_true (recoup_review_mark (tb.book, account, items, &error));
  g_assert_no_error (error);
  g_clear_pointer (&items, g_ptr_array_unref);
  items = recoup_review_list_open (tb.book, account, &error);
  g_assert_cmpuint (items->len, ==, 0);
  a = recoup_account_load (tb.book, account, &error);
  g_assert_null (a->review_flag);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM review_marks"), ==, 1);
  test_book_close (&tb);
}

/* The open item whose text is the only one on @account. */
static char *
only_text (RecoupBook *book,
           const char *account)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = recoup_review_list_open (book, account, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 1);
  return g_strdup (((RecoupReviewItem *) items->pdata[0])->text);
}

/* A breach reads as a sentence in the reader's words (the C locale here):
 * the channel and every rule the guard knows worded, none left as its code,
 * the hour in the account's zone or else the business's, with the zone's
 * abbreviation. A code from a newer Recoup still shows, as the code. */
static void
test_review_worded (void)
{
  static const char * const known[] = {
    "outside-hours", "timezone-unknown", "call-frequency", "recent-conversation", "cease-communication",
    "channel-opt-out", "contact-opt-out", "no-contact-point", "dispute-open", "validation-notice",
    "attorney-represented", "bankruptcy", "deceased", NULL
  };
  const char * const newer[] = { "outside-hours", "moon-phase", NULL };
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *chicago = NULL, *nowhere = NULL, *pigeon = NULL, *item = NULL, *text = NULL;
  RecoupAccountSpec spec = { .ref = "R-2", .name = "No Zone", .currency = "USD" };

  test_book_open (&tb);
  chicago = test_add_account (tb.book, "R-1", "USD");
  nowhere = recoup_account_create (tb.book, &spec, &error);
  g_assert_no_error (error);
  spec.ref = "R-3";
  pigeon = recoup_account_create (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_guard_set_rule (tb.book, "business_timezone", "Europe/Berlin", &error));
  g_assert_no_error (error);

  /* 2026-06-11 02:00 UTC */
  item = recoup_review_add_contact_breach (tb.book, chicago, "sms", G_GINT64_CONSTANT (1781143200000),
                                           known, "it was urgent", &error);
  g_assert_no_error (error);
  g_clear_pointer (&item, g_free);
  text = only_text (tb.book, chicago);
  g_assert_true (g_str_has_prefix (text, "text message on 2026-06-10 21:00 CDT broke the compliance rules ("));
  g_assert_true (g_str_has_suffix (text, ": it was urgent"));
  for (guint i = 0; known[i] != NULL; i++)
    {
      const char *phrase = recoup_guard_rule_phrase (known[i]);

      g_assert_cmpstr (phrase, !=, known[i]);
      g_assert_nonnull (strstr (text, phrase));
      /* The codes with a hyphen are no English word: none may show. */
      if (strchr (known[i], '-') != NULL)
        g_assert_null (strstr (text, known[i]));
    }
  g_assert_null (strstr (text, "sms"));
  g_clear_pointer (&text, g_free);

  /* No zone of its own: the business's zone, as the guard reads it. */
  item = recoup_review_add_contact_breach (tb.book, nowhere, "visit", G_GINT64_CONSTANT (1781143200000), newer,
                                           "the debtor waved me in", &error);
  g_assert_no_error (error);
  g_clear_pointer (&item, g_free);
  text = only_text (tb.book, nowhere);
  g_assert_true (g_str_has_prefix (text, "visit on 2026-06-11 04:00 CEST broke the compliance rules "
                                         "(outside the debtor's contact hours; moon-phase), logged by "));
  g_assert_true (g_str_has_suffix (text, ": the debtor waved me in"));
  g_clear_pointer (&text, g_free);

  /* A channel of a newer Recoup stays as it is, too. */
  item = recoup_review_add_contact_breach (tb.book, pigeon, "pigeon", G_GINT64_CONSTANT (1781143200000), newer,
                                           "", &error);
  g_assert_no_error (error);
  text = only_text (tb.book, pigeon);
  g_assert_true (g_str_has_prefix (text, "pigeon on 2026-06-11 04:00 CEST broke"));

  /* What is stored stays the codes. */
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM review_items"
                                            " WHERE json_extract (payload, '$.rules[0]') = 'outside-hours'"), ==, 3);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM review_items WHERE payload LIKE '%contact hours%'"),
                   ==, 0);
  test_book_close (&tb);
}

/* Every account's items, newest first, the reviewed ones with who marked
 * them; an owner marks items by id (or its tail) on any account, all of
 * them or none. */
static void
test_review_list_mark_ids (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL, *b = NULL, *owner = NULL, *collector = NULL;
  g_autofree char *first = NULL, *second = NULL, *third = NULL;
  g_autoptr(GPtrArray) items = NULL;
  const char * const rules[] = { "outside-hours", NULL };
  RecoupReviewItem *it;
  guint n = G_MAXUINT;

  test_book_open (&tb);
  owner = g_strdup (recoup_book_get_user_id (tb.book));
  a = test_add_account (tb.book, "R-1", "USD");
  b = test_add_account (tb.book, "R-2", "USD");
  g_assert_true (recoup_account_set (tb.book, b, "review_flag", "checked the old way", &error));
  collector = recoup_user_add (tb.book, "Colin", "collector", 0, 0, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_book_set_user (tb.book, collector, &error));
  first = recoup_review_add_contact_breach (tb.book, a, "call", G_GINT64_CONSTANT (1781143200000), rules,
                                            "first", &error);
  second = recoup_review_add_contact_breach (tb.book, b, "call", G_GINT64_CONSTANT (1781143200000), rules,
                                             "second", &error);
  third = recoup_review_add_contact_breach (tb.book, a, "call", G_GINT64_CONSTANT (1781143200000), rules,
                                            "third", &error);
  g_assert_no_error (error);

  /* Newest first across accounts, the legacy text last. */
  items = recoup_review_list (tb.book, NULL, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 4);
  g_assert_cmpstr (((RecoupReviewItem *) items->pdata[0])->id, ==, third);
  g_assert_cmpstr (((RecoupReviewItem *) items->pdata[1])->id, ==, second);
  g_assert_cmpstr (((RecoupReviewItem *) items->pdata[2])->id, ==, first);
  it = items->pdata[1];
  g_assert_cmpstr (it->account_ref, ==, "R-2");
  g_assert_cmpstr (it->account_name, ==, "Test Debtor");
  g_assert_cmpstr (it->user_name, ==, "Colin");
  g_assert_nonnull (strstr (it->payload, "\"outside-hours\""));
  g_assert_cmpint (it->reviewed_at, ==, 0);
  it = items->pdata[3];
  g_assert_null (it->id);
  g_assert_cmpstr (it->kind, ==, RECOUP_REVIEW_LEGACY);
  g_assert_cmpstr (it->account_ref, ==, "R-2");
  g_clear_pointer (&items, g_ptr_array_unref);
  items = recoup_review_list (tb.book, a, FALSE, &error);
  g_assert_cmpuint (items->len, ==, 2);
  g_clear_pointer (&items, g_ptr_array_unref);
  g_assert_null (recoup_review_list (tb.book, "no-such-account", FALSE, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A collector may not mark; core says so and nothing is marked. */
  {
    const char * const ids[] = { first, NULL };

    g_assert_false (recoup_review_mark_ids (tb.book, ids, &n, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
    g_clear_error (&error);
  }

  /* An unknown id (or one too short) marks none of the others. */
  g_assert_true (recoup_book_set_user (tb.book, owner, &error));
  {
    const char * const ids[] = { first, "feedc0ffee", NULL };
    const char * const short_ids[] = { first, "abc", NULL };

    g_assert_false (recoup_review_mark_ids (tb.book, ids, &n, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "feedc0ffee"));
    g_clear_error (&error);
    g_assert_false (recoup_review_mark_ids (tb.book, short_ids, &n, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM review_marks"), ==, 0);
  }

  /* By whole id and by tail, on two accounts, in one go; again marks nothing more. */
  {
    const char * const ids[] = { first, second + strlen (second) - 8, NULL };

    g_assert_true (recoup_review_mark_ids (tb.book, ids, &n, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (n, ==, 2);
    g_assert_true (recoup_review_mark_ids (tb.book, ids, &n, &error));
    g_assert_cmpuint (n, ==, 0);
  }
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM review_marks"), ==, 2);

  items = recoup_review_list (tb.book, NULL, FALSE, &error);
  g_assert_cmpuint (items->len, ==, 2);
  g_assert_cmpstr (((RecoupReviewItem *) items->pdata[0])->id, ==, third);
  g_clear_pointer (&items, g_ptr_array_unref);
  items = recoup_review_list (tb.book, NULL, TRUE, &error);
  g_assert_cmpuint (items->len, ==, 4);
  it = items->pdata[1];
  g_assert_cmpstr (it->id, ==, second);
  g_assert_cmpint (it->reviewed_at, >, 0);
  {
    g_autoptr(RecoupUser) me = recoup_user_load (tb.book, owner, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (it->reviewed_by, ==, me->name);
  }
  g_assert_cmpint (((RecoupReviewItem *) items->pdata[0])->reviewed_at, ==, 0);
  g_clear_pointer (&items, g_ptr_array_unref);

  /* Two ids ending alike: the tail names neither. */
  g_assert_cmpint (sqlite3_exec (recoup_book_get_db (tb.book),
                                 "INSERT INTO review_items (id, account_id, kind, hlc, device_id, created_at)"
                                 " SELECT x, id, 'contact-breach', 0, 'd', 0 FROM accounts,"
                                 " (SELECT 'aaaaaaaa-fedcba98' AS x UNION SELECT 'bbbbbbbb-fedcba98') WHERE ref = 'R-1'",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  {
    const char * const ids[] = { "fedcba98", NULL };

    g_assert_false (recoup_review_mark_ids (tb.book, ids, &n, &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "more than one"));
    g_clear_error (&error);
  }
  test_book_close (&tb);
}

/* Hands every change of @src's log to @dst, retrying those whose parent row
 * has not arrived yet, the way a sync would. */
static void
deliver_all (RecoupBook *src,
             RecoupBook *dst)
{
  g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  sqlite3_stmt *stmt = NULL;
  gboolean progress = TRUE;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (src), "SELECT seq FROM changes ORDER BY seq",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr(GError) error = NULL;
      JsonObject *change = recoup_merge_change_from_row (src, sqlite3_column_int64 (stmt, 0), &error);

      g_assert_no_error (error);
      json_object_remove_member (change, "seq");
      g_ptr_array_add (pending, change);
    }
  sqlite3_finalize (stmt);
  while (pending->len > 0 && progress)
    {
      progress = FALSE;
      for (guint i = 0; i < pending->len;)
        {
          RecoupMergeResult result = { 0 };
          g_autoptr(GError) error = NULL;
          gboolean applied;

          g_assert_true (recoup_merge_apply (dst, pending->pdata[i], 0, &result, &error));
          g_assert_no_error (error);
          applied = result.status != RECOUP_MERGE_REJECTED;
          recoup_merge_result_clear (&result);
          if (applied)
            {
              g_ptr_array_remove_index (pending, i);
              progress = TRUE;
            }
          else
            i++;
        }
    }
  g_assert_cmpuint (pending->len, ==, 0);
}

static guint
open_items (RecoupBook *book,
            const char *account)
{
  g_autoptr(GError) error = NULL;
  guint n = 0;

  g_assert_true (recoup_review_count_open (book, account, &n, &error));
  g_assert_no_error (error);
  return n;
}

static char *
add_breach (RecoupBook *book,
            const char *account,
            const char *words)
{
  const char * const rules[] = { "outside-hours", NULL };
  g_autoptr(GError) error = NULL;
  char *id = recoup_review_add_contact_breach (book, account, "visit", G_GINT64_CONSTANT (1781143200000), rules,
                                               words, &error);

  g_assert_no_error (error);
  return id;
}

/* Review items are append-only: two books' items, and one book's marks with
 * the other's new item, all survive a merge both ways. */
static void
test_review_merge (void)
{
  TestBook a = { 0 }, b = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL;
  g_autofree char *x = NULL;
  g_autofree char *y = NULL;
  g_autofree char *z = NULL;
  g_autoptr(GPtrArray) shown = NULL;
  g_autoptr(GPtrArray) left = NULL;

  test_book_open (&a);
  test_book_open (&b);
  account = test_add_account (a.book, "R-1", "USD");
  deliver_all (a.book, b.book);

  /* Two people log a breach offline on the same account. */
  x = add_breach (a.book, account, "first visit");
  y = add_breach (b.book, account, "second visit");
  deliver_all (a.book, b.book);
  deliver_all (b.book, a.book);
  g_assert_cmpuint (open_items (a.book, account), ==, 2);
  g_assert_cmpuint (open_items (b.book, account), ==, 2);

  /* The owner on A marks what A shows while B logs another breach. */
  shown = recoup_review_list_open (a.book, account, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_review_mark (a.book, account, shown, &error));
  g_assert_no_error (error);
  z = add_breach (b.book, account, "third visit");
  deliver_all (a.book, b.book);
  deliver_all (b.book, a.book);
  for (guint i = 0; i < 2; i++)
    {
      RecoupBook *book = i == 0 ? a.book : b.book;

      g_clear_pointer (&left, g_ptr_array_unref);
      left = recoup_review_list_open (book, account, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (left->len, ==, 1);
      g_assert_cmpstr (((RecoupReviewItem *) left->pdata[0])->id, ==, z);
      g_assert_nonnull (strstr (((RecoupReviewItem *) left->pdata[0])->text, "third visit"));
    }
  g_assert_cmpint (test_query_int (b.path, "SELECT count(*) FROM review_marks"), ==, 2);
  g_assert_cmpint (test_query_int (b.path, "SELECT count(*) FROM review_items"), ==, 3);
  test_book_close (&a);
  test_book_close (&b);
}

static void
test_contacts (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL;
  g_autofree char *phone = NULL;
  g_autoptr(GPtrArray) list = NULL;
  const char *bad[][2] = { { "email", "not-an-email" }, { "email", "a@b" }, { "phone", "12" },
                           { "phone", "call me" }, { "address", "   " } };

  test_book_open (&tb);
  account = test_add_account (tb.book, "P-1", "USD");
  phone = recoup_contact_add (tb.book, account, RECOUP_CONTACT_PHONE, "+1 (312) 555-0142", "mobile", TRUE, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      RecoupContactKind kind;
      g_autofree char *id = NULL;

      g_assert_true (recoup_contact_kind_from_string (bad[i][0], &kind));
      id = recoup_contact_add (tb.book, account, kind, bad[i][1], NULL, FALSE, &error);
      g_assert_null (id);
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_clear_error (&error);
    }
  g_assert_true (recoup_contact_set_opted_out (tb.book, phone, TRUE, &error));
  list = recoup_contact_list (tb.book, account, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_true (((RecoupContactPoint *) list->pdata[0])->opted_out);
  /* The opt-out is in the account's history, on that number, once: the
   * same opt-out recorded again writes nothing. */
  g_assert_true (recoup_contact_set_opted_out (tb.book, phone, TRUE, &error));
  {
    g_autoptr(GPtrArray) history = recoup_activity_list (tb.book, account, 0, &error);
    RecoupActivity *note;

    g_assert_no_error (error);
    g_assert_cmpuint (history->len, ==, 1);
    note = history->pdata[0];
    g_assert_cmpstr (note->channel, ==, "note");
    g_assert_cmpstr (note->notes, ==, "Opted out");
    g_assert_nonnull (strstr (note->contact, "555"));
  }
  /* Opting back in a point that is not opted out is refused, and writes
   * nothing. */
  {
    g_autofree char *email = recoup_contact_add (tb.book, account, RECOUP_CONTACT_EMAIL, "p@example.com", NULL,
                                                 FALSE, &error);

    g_assert_no_error (error);
    g_assert_false (recoup_contact_opt_back_in (tb.book, email, "asked on the phone", &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "is not opted out"));
    g_clear_error (&error);
    g_assert_true (recoup_contact_remove (tb.book, email, &error));
  }
  /* The debtor asking again, in words, is kept. */
  g_assert_true (recoup_contact_opt_out (tb.book, phone, 0, "  asked again by letter ", &error));
  g_assert_no_error (error);
  {
    g_autoptr(GPtrArray) history = recoup_activity_list (tb.book, account, 0, &error);
    gboolean again = FALSE;

    g_assert_cmpuint (history->len, ==, 2);
    for (guint i = 0; i < history->len; i++)
      again |= g_strcmp0 (((RecoupActivity *) history->pdata[i])->notes, "Opted out: asked again by letter") == 0;
    g_assert_true (again);
  }
  g_assert_false (recoup_contact_set_opted_out (tb.book, "no-such-point", TRUE, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (recoup_contact_remove (tb.book, phone, &error));
  g_clear_pointer (&list, g_ptr_array_unref);
  list = recoup_contact_list (tb.book, account, &error);
  g_assert_cmpuint (list->len, ==, 0);
  /* Removed means a tombstone, not a deleted row. */
  {
    g_autofree char *sql = g_strdup_printf ("SELECT deleted FROM contact_points WHERE id = '%s'", phone);

    g_assert_cmpint (test_query_int (tb.path, sql), ==, 1);
  }
  test_book_close (&tb);
}

/* A value the account already has, written another way, is not added again:
 * the existing contact point comes back as it was (opted out, not primary),
 * and nothing is written. */
static void
test_contact_add_same_value (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL, *other = NULL;
  g_autofree char *phone = NULL, *email = NULL, *address = NULL;
  static const struct { RecoupContactKind kind; const char *value; } same[] = {
    { RECOUP_CONTACT_PHONE, "+13125550142" },
    { RECOUP_CONTACT_PHONE, "312-555-0142" },
    { RECOUP_CONTACT_PHONE, "1 312 555 0142" },
    { RECOUP_CONTACT_EMAIL, "Pay@Example.COM" },
    { RECOUP_CONTACT_ADDRESS, "  12 elm st,\n  SPRINGFIELD  " },
  };
  gint64 changes, contacts;

  test_book_open (&tb);
  account = test_add_account (tb.book, "P-1", "USD");
  other = test_add_account (tb.book, "P-2", "USD");
  phone = recoup_contact_add (tb.book, account, RECOUP_CONTACT_PHONE, "+1 (312) 555-0142", "mobile", FALSE, &error);
  email = recoup_contact_add (tb.book, account, RECOUP_CONTACT_EMAIL, "pay@example.com", NULL, TRUE, &error);
  address = recoup_contact_add (tb.book, account, RECOUP_CONTACT_ADDRESS, "12 Elm St, Springfield", NULL, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_contact_set_opted_out (tb.book, phone, TRUE, &error));
  g_assert_no_error (error);
  changes = test_query_int (tb.path, "SELECT count(*) FROM changes");
  contacts = test_query_int (tb.path, "SELECT count(*) FROM contact_points");

  for (guint i = 0; i < G_N_ELEMENTS (same); i++)
    {
      g_autofree char *id = recoup_contact_add (tb.book, account, same[i].kind, same[i].value, "new", TRUE,
                                                &error);

      g_assert_no_error (error);
      g_assert_cmpstr (id, ==, same[i].kind == RECOUP_CONTACT_PHONE ? phone :
                               same[i].kind == RECOUP_CONTACT_EMAIL ? email : address);
    }
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes"), ==, changes);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM contact_points"), ==, contacts);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM contact_points WHERE kind = 'phone'"
                                            " AND opted_out = 1 AND is_primary = 0 AND label = 'mobile' AND deleted = 0"), ==, 1);
  g_assert_false (recoup_book_in_transaction (tb.book));

  /* Another number, and the same number on another account, are added. */
  g_free (recoup_contact_add (tb.book, account, RECOUP_CONTACT_PHONE, "+1 (312) 555-0143", NULL, FALSE, &error));
  g_assert_no_error (error);
  g_free (recoup_contact_add (tb.book, other, RECOUP_CONTACT_PHONE, "+1 (312) 555-0142", NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM contact_points"), ==, contacts + 2);
  test_book_close (&tb);
}

static void
test_dates (void)
{
  g_autoptr(GError) error = NULL;
  gint64 ms = 0;

  g_assert_cmpint (recoup_date_parse ("1970-01-01", NULL), ==, 0);
  g_assert_cmpint (recoup_date_parse ("2024-03-01", NULL) - recoup_date_parse ("2024-02-28", NULL), ==, 2);
  g_assert_cmpint (recoup_date_parse ("2025-02-29", &error), ==, RECOUP_DATE_INVALID);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (recoup_date_parse ("2025-1-5", NULL), ==, RECOUP_DATE_INVALID);
  g_assert_cmpint (recoup_date_parse ("05/01/2025", NULL), ==, RECOUP_DATE_INVALID);
  {
    g_autofree char *s = recoup_date_format (recoup_date_add_months (recoup_date_parse ("2024-01-31", NULL), 1));
    g_assert_cmpstr (s, ==, "2024-02-29");
  }
  g_assert_true (recoup_instant_parse ("2026-11-24T14:30:00+01:00", &ms, NULL));
  g_assert_cmpint (ms, ==, G_GINT64_CONSTANT (1795527000000));
  g_assert_false (recoup_instant_parse ("2026-11-24T14:30:00", &ms, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (recoup_instant_parse ("yesterday", &ms, NULL));
  /* 0 means "now" where a time is optional: the epoch itself is refused,
   * not read as now. */
  g_assert_false (recoup_instant_parse ("1970-01-01T00:00:00Z", &ms, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "give a time after it"));
  g_clear_error (&error);
  g_assert_true (recoup_instant_parse ("1970-01-01T00:00:01Z", &ms, NULL));
}

/* Dates outside the years a book keeps say so, not that the date does not exist. */
static void
test_date_range (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (recoup_date_parse ("9999-12-31", &error), ==, RECOUP_DATE_INVALID);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "between 1900-01-01 and 2999-12-31"));
  g_clear_error (&error);
  g_assert_cmpint (recoup_date_parse ("1899-12-31", &error), ==, RECOUP_DATE_INVALID);
  g_assert_nonnull (strstr (error->message, "between 1900-01-01 and 2999-12-31"));
  g_clear_error (&error);
  g_assert_cmpint (recoup_date_parse ("2999-12-31", NULL), !=, RECOUP_DATE_INVALID);
  g_assert_cmpint (recoup_date_parse ("1900-01-01", NULL), !=, RECOUP_DATE_INVALID);
  g_assert_cmpint (recoup_date_parse ("2025-02-29", &error), ==, RECOUP_DATE_INVALID);
  g_assert_nonnull (strstr (error->message, "not a date that exists"));
}

/* An account's compliance dates record what has happened: a real date, not
 * after the book's today, not before 1970-01-01. A refused date writes
 * nothing; an empty one clears the field. */
static void
test_compliance_dates (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL;
  g_autoptr(RecoupAccount) a = NULL;
  const char *fields[] = { "validation_notice_date", "placed_on" };
  const struct { const char *value; const char *message; } bad[] = {
    { "2030-01-01", "2030-01-01 is after today (2026-11-24)" },
    { "2026-11-25", "2026-11-25 is after today (2026-11-24)" },
    { "1900-01-01", "1900-01-01 is before 1970-01-01" },
    { "1969-12-31", "1969-12-31 is before 1970-01-01" },
    { "2026-02-30", "not a date that exists" },
    { "24.11.2026", "not a date in the form YYYY-MM-DD" },
  };
  gint64 changes;

  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  test_book_open (&tb);
  account = test_add_account (tb.book, "V-1", "USD");
  changes = recoup_book_count_changes (tb.book);
  for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_test_message ("%s = %s", fields[f], bad[i].value);
        g_assert_false (recoup_account_set (tb.book, account, fields[f], bad[i].value, &error));
        g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
        g_assert_nonnull (strstr (error->message, bad[i].message));
        /* The message names the field. */
        g_assert_true (g_str_has_prefix (error->message, f == 0 ? "validation notice date" : "date placed for collection"));
        g_clear_error (&error);
      }
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);
  a = recoup_account_load (tb.book, account, &error);
  g_assert_no_error (error);
  g_assert_null (a->validation_notice_date);
  g_clear_pointer (&a, recoup_account_free);

  /* The first and the last day allowed; empty clears. */
  g_assert_true (recoup_account_set (tb.book, account, "validation_notice_date", "1970-01-01", &error));
  g_assert_no_error (error);
  g_assert_true (recoup_account_set (tb.book, account, "validation_notice_date", "2026-11-24", &error));
  g_assert_true (recoup_account_set (tb.book, account, "placed_on", "2026-11-24", &error));
  g_assert_no_error (error);
  a = recoup_account_load (tb.book, account, &error);
  g_assert_cmpstr (a->validation_notice_date, ==, "2026-11-24");
  g_clear_pointer (&a, recoup_account_free);
  g_assert_true (recoup_account_set (tb.book, account, "validation_notice_date", "", &error));
  g_assert_no_error (error);
  a = recoup_account_load (tb.book, account, &error);
  g_assert_null (a->validation_notice_date);

  /* The book's today is what counts: a later today allows a later date. */
  g_setenv ("RECOUP_TODAY", "2030-06-01", TRUE);
  g_assert_true (recoup_account_set (tb.book, account, "validation_notice_date", "2030-01-01", &error));
  g_assert_no_error (error);

  /* The check the editor asks as the user types. */
  g_assert_true (recoup_account_check_date ("validation_notice_date", NULL, "2026-11-24", &error));
  g_assert_true (recoup_account_check_date ("validation_notice_date", "2026-11-24", "2026-11-24", &error));
  g_assert_false (recoup_account_check_date ("validation_notice_date", "2026-11-25", "2026-11-24", &error));
  g_assert_cmpstr (error->message, ==, "validation notice date 2026-11-25 is after today (2026-11-24): "
                                       "give the day it happened, 2026-11-24 or earlier");
  g_clear_error (&error);
  g_unsetenv ("RECOUP_TODAY");
  test_book_close (&tb);
}

/* IANA names, with or without a region, are time zones; paths to zone files are not. */
static void
test_timezones (void)
{
  const char *good[] = { "UTC", "Etc/UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires",
                         "America/Port-au-Prince" };
  const char *bad[] = { "/etc/localtime", "/usr/share/zoneinfo/Europe/Berlin", "./UTC",
                        "../zoneinfo/UTC", "Europe/../UTC", "Europe/Berlin/", "Europe",
                        "+01", "Mars/Olympus", "Europe/Berlin ", "UTC:" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", good[i]);
      g_assert_true (recoup_timezone_validate (good[i], &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *expected = g_strdup_printf ("“%s” is not an IANA time zone name (like Europe/Berlin)",
                                                   bad[i]);

      g_test_message ("%s", bad[i]);
      g_assert_false (recoup_timezone_validate (bad[i], &error));
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_assert_cmpstr (error->message, ==, expected);
    }
}

/* Abbreviations and the fixed or legacy zones named after them (EST is
 * UTC-5 all year) are refused for an account, with the region meant; an
 * account that holds one from before keeps it and its other fields change. */
static void
test_timezones_regional (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autoptr(RecoupAccount) account = NULL;
  struct { const char *tz; const char *region; } refused[] = {
    { "EST", "America/New_York" }, { "est", "America/New_York" }, { "EST5EDT", "America/New_York" },
    { "PST", "America/Los_Angeles" }, { "MST", "America/Denver" }, { "CET", "Europe/Berlin" },
    { "HST", "Pacific/Honolulu" }, { "GMT", "Europe/London" },
    /* Known to the zone database, but not a region's name: no guess. */
    { "Japan", "America/New_York or Europe/Berlin" }, { "EST5", "America/New_York or Europe/Berlin" },
    /* Named with a slash, but a fixed offset or a copy of the database. */
    { "Etc/GMT+5", "America/New_York or Europe/Berlin" },
    { "right/America/New_York", "America/New_York or Europe/Berlin" },
    { "posix/Europe/Paris", "America/New_York or Europe/Berlin" },
  };
  RecoupAccountSpec spec = { .ref = "R-1", .name = "Ada", .currency = "USD", .timezone = "EST" };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *expected = g_strdup_printf ("“%s” is an abbreviation or a legacy zone, not a region's: "
                                                   "give the IANA name of the region, like %s, so that "
                                                   "calling hours follow its daylight saving time",
                                                   refused[i].tz, refused[i].region);

      g_test_message ("%s", refused[i].tz);
      g_assert_false (recoup_timezone_validate (refused[i].tz, &error));
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
      g_assert_cmpstr (error->message, ==, expected);
      g_clear_error (&error);
    }

  test_book_open (&tb);
  g_assert_null (recoup_account_create (tb.book, &spec, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  spec.timezone = "America/New_York";
  id = recoup_account_create (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_assert_false (recoup_account_set (tb.book, id, "timezone", "CET", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);

  /* A book written before the rule. */
  g_assert_cmpint (sqlite3_exec (recoup_book_get_db (tb.book), "UPDATE accounts SET timezone = 'EST'",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_true (recoup_account_set (tb.book, id, "name", "Ada Lovelace", &error));
  g_assert_no_error (error);
  account = recoup_account_load (tb.book, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->timezone, ==, "EST");
  g_assert_cmpstr (account->name, ==, "Ada Lovelace");
  test_book_close (&tb);
}

/* A query that fails halfway (a balance whose sum overflows) is an error, not
 * an empty or short list. */
static void
test_step_error_reported (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *account = NULL;
  g_autofree char *sql = NULL;
  RecoupAccountFilter filter = { 0 };
  sqlite3 *db = NULL;

  test_book_open (&tb);
  account = test_add_account (tb.book, "OVF-1", "USD");
  list = recoup_account_list (tb.book, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_clear_pointer (&list, g_ptr_array_unref);

  sql = g_strdup_printf ("INSERT INTO ledger_entries (id, account_id, kind, amount, currency, effective_date,"
                         " created_at) VALUES ('x1', '%s', 'charge', 9223372036854775807, 'USD', '2026-01-01', 0),"
                         " ('x2', '%s', 'charge', 9223372036854775807, 'USD', '2026-01-01', 0)",
                         account, account);
  g_assert_cmpint (sqlite3_open (tb.path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  list = recoup_account_list (tb.book, &filter, &error);
  g_assert_null (list);
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_SQLITE);
  g_assert_nonnull (strstr (error->message, "integer overflow"));
  g_clear_error (&error);
  test_book_close (&tb);
}

/* A minimum balance in an empty book (no currencies yet) reads as dollars. */
static void
test_min_balance_empty_book (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *currency = NULL;
  gint64 minor = 0;

  test_book_open (&tb);
  g_assert_true (recoup_account_parse_min_balance (tb.book, "100", &minor, &currency, &error));
  g_assert_no_error (error);
  g_assert_cmpint (minor, ==, 10000);
  g_assert_null (currency);
  test_book_close (&tb);
}

/* Channel, outcome and direction are checked on their own, before any guard. */
static void
test_activity_validate (void)
{
  g_autoptr(GError) error = NULL;
  RecoupActivitySpec spec = { .account_id = "any", .channel = "call" };

  g_assert_true (recoup_activity_spec_validate (&spec, &error));
  g_assert_no_error (error);
  spec.outcome = "maybe";
  g_assert_false (recoup_activity_spec_validate (&spec, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "“maybe” is not an outcome"));
  g_clear_error (&error);
  /* The outcome has to be one the channel can have. */
  spec.outcome = "bounced";
  g_assert_false (recoup_activity_spec_validate (&spec, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "“bounced” is not an outcome for channel call (it can be right-party, "));
  g_clear_error (&error);
  g_assert_true (recoup_activity_outcome_fits ("email", "bounced"));
  g_assert_true (recoup_activity_outcome_fits ("letter", "promise"));    /* a reply */
  g_assert_true (recoup_activity_outcome_fits ("visit", "no-answer"));   /* nobody in */
  g_assert_false (recoup_activity_outcome_fits ("visit", "voicemail"));
  g_assert_false (recoup_activity_outcome_fits ("letter", "no-answer"));
  g_assert_false (recoup_activity_outcome_fits ("note", "sent"));
  g_assert_true (recoup_activity_outcome_fits ("sms", NULL));
  for (guint i = 0; recoup_activity_outcomes[i] != NULL; i++)
    g_assert_true (recoup_activity_outcome_fits ("system", recoup_activity_outcomes[i]));
  spec.outcome = "no-answer";
  spec.direction = "sideways";
  g_assert_false (recoup_activity_spec_validate (&spec, &error));
  g_assert_nonnull (strstr (error->message, "“sideways” is not a direction"));
  g_clear_error (&error);
  spec.direction = "inbound";
  spec.channel = "pigeon";
  g_assert_false (recoup_activity_spec_validate (&spec, &error));
  g_assert_nonnull (strstr (error->message, "“pigeon” is not a channel"));
}

static gint64
count_rows (const char *path,
            const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

static void
exec_other_connection (const char *path,
                       const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

/* A commit that fails rolls back its own level and only that: the writes
 * report the error, leave nothing behind, raise no critical (a second rollback
 * did, and undid the caller's enclosing transaction), and the book takes the
 * next write. The commit is made to fail in the derived-data refresh it runs. */
static void
test_failed_commit (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL;
  g_autofree char *id = NULL;
  RecoupActivitySpec spec = { 0 };
  gint64 changes_before;

  test_book_open (&tb);
  account = test_add_account (tb.book, "FC-1", "USD");
  changes_before = count_rows (tb.path, "SELECT count(*) FROM changes");
  exec_other_connection (tb.path,
                         "CREATE TRIGGER refuse_stats_insert BEFORE INSERT ON account_stats"
                         " BEGIN SELECT RAISE (ABORT, 'stats refused'); END;"
                         "CREATE TRIGGER refuse_stats_update BEFORE UPDATE ON account_stats"
                         " BEGIN SELECT RAISE (ABORT, 'stats refused'); END;");

  spec.account_id = account;
  spec.channel = "note";
  spec.notes = "left a card";
  id = recoup_activity_log (tb.book, &spec, &error);
  g_assert_null (id);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "stats refused"));
  g_clear_error (&error);
  g_assert_false (recoup_book_in_transaction (tb.book));

  id = recoup_contact_add (tb.book, account, RECOUP_CONTACT_EMAIL, "fc@example.com", NULL, TRUE, &error);
  g_assert_null (id);
  g_assert_nonnull (error);
  g_clear_error (&error);
  id = recoup_dispute_open (tb.book, account, NULL, "not mine", &error);
  g_assert_null (id);
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (recoup_book_in_transaction (tb.book));

  /* Nested: the inner write's savepoint is released; the outer commit fails
   * and takes both with it, once. */
  g_assert_true (recoup_book_begin (tb.book, &error));
  id = recoup_activity_log (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  g_clear_pointer (&id, g_free);
  g_assert_true (recoup_book_in_transaction (tb.book));
  g_assert_false (recoup_book_commit (tb.book, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (recoup_book_in_transaction (tb.book));

  g_assert_cmpint (count_rows (tb.path, "SELECT count(*) FROM activities"), ==, 0);
  g_assert_cmpint (count_rows (tb.path, "SELECT count(*) FROM disputes"), ==, 0);
  g_assert_cmpint (count_rows (tb.path, "SELECT count(*) FROM contact_points WHERE value = 'fc@example.com'"), ==, 0);
  g_assert_cmpint (count_rows (tb.path, "SELECT count(*) FROM changes"), ==, changes_before);

  exec_other_connection (tb.path, "DROP TRIGGER refuse_stats_insert; DROP TRIGGER refuse_stats_update;");
  id = recoup_activity_log (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  g_assert_cmpint (count_rows (tb.path, "SELECT count(*) FROM activities"), ==, 1);
  test_book_close (&tb);
}

/* Authority limits: validated, owner only, change-logged; bad input changes nothing. */
static void
test_user_limits (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupUser) user = NULL;
  g_autofree char *carla = NULL;
  g_autofree char *owner = NULL;
  gint64 changes;

  test_book_open (&tb);
  owner = g_strdup (recoup_book_get_user_id (tb.book));
  carla = recoup_user_add (tb.book, "Carla", "collector", 1000, 6, FALSE, &error);
  g_assert_no_error (error);
  changes = test_query_int (tb.path, "SELECT count(*) FROM changes WHERE entity = 'users'");

  g_assert_true (recoup_user_set_limits (tb.book, carla, 2500, 12, &error));
  g_assert_no_error (error);
  user = recoup_user_load (tb.book, carla, &error);
  g_assert_cmpint (user->max_discount_bp, ==, 2500);
  g_assert_cmpint (user->max_plan_installments, ==, 12);
  g_clear_pointer (&user, recoup_user_free);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes WHERE entity = 'users'"), ==, changes + 1);

  /* The same limits again write nothing. */
  g_assert_true (recoup_user_set_limits (tb.book, carla, 2500, 12, &error));
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes WHERE entity = 'users'"), ==, changes + 1);

  /* Out of range: refused, nothing changed. */
  g_assert_false (recoup_user_set_limits (tb.book, carla, 10001, 12, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (recoup_user_set_limits (tb.book, carla, 100, -1, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (recoup_user_set_limits (tb.book, "no-such-user", 100, 1, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A collector may not change limits, not even their own. */
  g_assert_true (recoup_book_set_user (tb.book, carla, &error));
  g_assert_false (recoup_user_set_limits (tb.book, carla, 10000, 60, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_clear_error (&error);
  g_assert_true (recoup_book_set_user (tb.book, owner, &error));
  user = recoup_user_load (tb.book, carla, &error);
  g_assert_cmpint (user->max_discount_bp, ==, 2500);
  g_assert_cmpint (user->max_plan_installments, ==, 12);
  g_assert_cmpint (test_query_int (tb.path, "SELECT count(*) FROM changes WHERE entity = 'users'"), ==, changes + 1);
  test_book_close (&tb);
}

/* Another program holding the book's write lock longer than a write waits:
 * the write says the book is busy and what to do, not SQLite's words, and
 * changes nothing; once the lock is gone it goes through. */
static void
test_busy_book (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *acct = NULL, *expected = NULL, *fee = NULL;
  RecoupEntrySpec spec = { .kind = RECOUP_ENTRY_FEE, .amount = 2500, .effective_date = "2026-03-01" };
  sqlite3 *other = NULL;
  gint64 changes;

  test_book_open (&tb);
  acct = test_add_account (tb.book, "BUSY-1", "USD");
  spec.account_id = acct;
  changes = recoup_book_count_changes (tb.book);
  expected = g_strdup_printf ("%s: the book is busy (another program is writing it); try again when it "
                              "has finished", tb.path);

  g_assert_cmpint (sqlite3_open_v2 (tb.path, &other, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (other, "BEGIN IMMEDIATE; INSERT INTO settings VALUES ('busy-test', '1')",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  /* Wait 50 ms for the lock, not the book's five seconds. */
  sqlite3_busy_timeout (recoup_book_get_db (tb.book), 50);

  g_assert_null (recoup_ledger_record (tb.book, &spec, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_BUSY);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);
  g_assert_false (recoup_book_exec (tb.book, "BEGIN IMMEDIATE", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_BUSY);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);

  g_assert_cmpint (sqlite3_exec (other, "ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (other);
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);
  fee = recoup_ledger_record (tb.book, &spec, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fee);
  test_book_close (&tb);
}

static gint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64) st.st_size : -1;
}

/* A file of no bytes is no book yet: a read refuses it as it refuses a path
 * with nothing there, and leaves it as it was; a create makes the book in it. */
static void
test_empty_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("recoup-test-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "empty.recoup", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.recoup", NULL);
  RecoupBookOpenFlags reads[] = { RECOUP_BOOK_OPEN_NO_CREATE, RECOUP_BOOK_OPEN_READ_ONLY };
  RecoupBook *book;

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, "", 0, &error));
  g_assert_true (recoup_book_path_is_vacant (path));
  g_assert_true (recoup_book_path_is_vacant (missing));
  g_assert_false (recoup_book_path_is_vacant (dir));

  for (guint i = 0; i < G_N_ELEMENTS (reads); i++)
    {
      g_autofree char *expected = g_strdup_printf ("%s is empty: not a Recoup book yet (make one there with "
                                                   "“recoup-cli init” or “recoup-cli demo”)", path);

      g_assert_null (recoup_book_open (path, reads[i], &error));
      g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
      g_assert_cmpstr (error->message, ==, expected);
      g_clear_error (&error);
      g_assert_cmpint (file_size (path), ==, 0);
      g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
      g_assert_false (g_file_test (shm, G_FILE_TEST_EXISTS));
    }
  g_assert_null (recoup_book_open (missing, RECOUP_BOOK_OPEN_NO_CREATE, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A write-ahead log with pages is a database SQLite recovers, not nothing. */
  g_assert_true (g_file_set_contents (wal, "x", 1, &error));
  g_assert_false (recoup_book_path_is_vacant (path));
  g_assert_cmpint (g_unlink (wal), ==, 0);

  book = recoup_book_open (path, RECOUP_BOOK_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_cmpint (recoup_book_get_schema_version (book), ==, RECOUP_SCHEMA_VERSION);
  g_clear_object (&book);
  g_assert_false (recoup_book_path_is_vacant (path));
  book = recoup_book_open (path, RECOUP_BOOK_OPEN_NO_CREATE, &error);
  g_assert_no_error (error);
  g_clear_object (&book);
  test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recoup/core/book/create-and-reopen", test_create_and_reopen);
  g_test_add_func ("/recoup/core/book/account-tags", test_account_tags);
  g_test_add_func ("/recoup/core/book/review-flag-owner", test_review_flag_owner);
  g_test_add_func ("/recoup/core/book/review-merge", test_review_merge);
  g_test_add_func ("/recoup/core/book/review-worded", test_review_worded);
  g_test_add_func ("/recoup/core/book/review-list-mark-ids", test_review_list_mark_ids);
  g_test_add_func ("/recoup/core/book/newer-schema-refused", test_newer_schema_refused);
  g_test_add_func ("/recoup/core/book/not-a-book", test_not_a_book);
  g_test_add_func ("/recoup/core/book/migrations", test_migrations);
  g_test_add_func ("/recoup/core/book/migrate-compact-inserts", test_migrate_compact_inserts);
  g_test_add_func ("/recoup/core/book/migrate-settings-refusals", test_migrate_settings_refusals);
  g_test_add_func ("/recoup/core/book/change-log", test_change_log);
  g_test_add_func ("/recoup/core/book/contacts", test_contacts);
  g_test_add_func ("/recoup/core/book/contact-add-same-value", test_contact_add_same_value);
  g_test_add_func ("/recoup/core/book/dates", test_dates);
  g_test_add_func ("/recoup/core/book/user-limits", test_user_limits);
  g_test_add_func ("/recoup/core/book/date-range", test_date_range);
  g_test_add_func ("/recoup/core/book/timezones", test_timezones);
  g_test_add_func ("/recoup/core/book/timezones-regional", test_timezones_regional);
  g_test_add_func ("/recoup/core/book/compliance-dates", test_compliance_dates);
  g_test_add_func ("/recoup/core/book/step-error-reported", test_step_error_reported);
  g_test_add_func ("/recoup/core/book/min-balance-empty-book", test_min_balance_empty_book);
  g_test_add_func ("/recoup/core/book/activity-validate", test_activity_validate);
  g_test_add_func ("/recoup/core/book/failed-commit", test_failed_commit);
  g_test_add_func ("/recoup/core/book/busy", test_busy_book);
  g_test_add_func ("/recoup/core/book/empty-file", test_empty_file);
  return g_test_run ();
}
