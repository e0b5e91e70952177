/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include "recoup-test-util.h"

/*
 * Shared settings (recoup-settings.h): only the keys the merge shares are
 * written with a change row, and on a book enrolled with a server, the
 * business's policy only by an owner's device — refused at once, with
 * nothing written, rather than refused by recoupd and taken back later.
 */

#define DENIED_RULES "only an owner can change the compliance rules; ask an owner to make the change"

static gint64
count_settings_changes (TestBook *tb)
{
  return test_query_int (tb->path, "SELECT count(*) FROM changes WHERE entity = 'settings'");
}

static int
run_cli (TestBook    *tb,
         char       **err,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  int status = 0;
  va_list args;

  g_ptr_array_add (argv, (char *) g_getenv ("RECOUP_CLI"));
  g_ptr_array_add (argv, (char *) "--book");
  g_ptr_array_add (argv, tb->path);
  va_start (args, err);
  for (const char *a = va_arg (args, const char *); a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               err, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* A key that is each copy's own is a caller's mistake: refused, nothing
 * written, nothing queued to sync. */
static void
test_local_refused (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *cursor = NULL;
  gint64 changes;

  test_book_open (&tb);
  g_assert_true (recoup_book_set_setting (tb.book, "sync.cursor", "42", &error));
  changes = recoup_book_count_changes (tb.book);

  g_assert_false (recoup_settings_set_shared (tb.book, "sync.cursor", "7", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "“sync.cursor” is not a shared setting"));
  g_clear_error (&error);
  cursor = recoup_book_get_setting (tb.book, "sync.cursor");
  g_assert_cmpstr (cursor, ==, "42");
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);

  /* Device tunables are local too, and a prefix alone names no key. */
  g_assert_false (recoup_settings_set_shared (tb.book, "smtp.timeout", "5", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (recoup_settings_set_shared (tb.book, "costs.", "1", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (recoup_book_get_setting (tb.book, "smtp.timeout"));
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);
  test_book_close (&tb);
}

/* A collector's device: the business's policy is refused up front, by
 * every core function that writes it and by the CLI, in words a collector
 * understands; the team's own settings (saved worklists) still pass. */
static void
test_collector_denied (void)
{
  TestBook tb = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  RecoupGuardPolicy policy = { 0 };
  RecoupScoreSettings score;
  RecoupWorklistFilter filter = { .segment = "high" };
  g_autofree char *saved = NULL;
  gint64 changes;

  test_book_open (&tb);
  g_assert_true (recoup_book_set_setting (tb.book, "sync.role", "collector", &error));
  changes = recoup_book_count_changes (tb.book);

  g_assert_true (recoup_settings_check_shared (tb.book, "worklist.saved.mine", &error));
  g_assert_false (recoup_settings_check_shared (tb.book, "guard.profile", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_assert_cmpstr (error->message, ==, DENIED_RULES);
  g_clear_error (&error);

  g_assert_false (recoup_settings_set_shared (tb.book, "guard.hours_start", "420", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_assert_cmpstr (error->message, ==, DENIED_RULES);
  g_clear_error (&error);
  g_assert_false (recoup_guard_set_rule (tb.book, "hours_start", "07:00", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_clear_error (&error);
  g_assert_false (recoup_guard_set_profile (tb.book, "first-party", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_clear_error (&error);
  recoup_guard_policy_load (tb.book, &policy);
  g_assert_cmpint (policy.hours_start, ==, 8 * 60);
  g_assert_cmpstr (policy.profile, ==, "regf");
  recoup_guard_policy_clear (&policy);

  recoup_score_settings_load (tb.book, &score);
  score.weights[RECOUP_SCORE_BALANCE] += 5;
  g_assert_false (recoup_score_settings_save (tb.book, &score, NULL, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_assert_cmpstr (error->message, ==, "only an owner can change the scoring weights; ask an owner to make the change");
  g_clear_error (&error);
  g_assert_false (recoup_escalation_policy_save (tb.book, RECOUP_ESCALATION_DEFAULT_POLICY, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_clear_error (&error);
  g_assert_false (recoup_kpi_set_cost (tb.book, "2026-01", "USD", 10000, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED);
  g_clear_error (&error);

  /* Nothing of it was written, nor queued for the server. */
  g_assert_cmpint (recoup_book_count_changes (tb.book), ==, changes);
  g_assert_cmpint (count_settings_changes (&tb), ==, 0);
  g_assert_null (recoup_book_get_setting (tb.book, "guard.hours_start"));
  g_assert_null (recoup_book_get_setting (tb.book, "escalation.policy"));

  /* The CLI says the same and fails. */
  g_clear_object (&tb.book);
  g_assert_cmpint (run_cli (&tb, &err, "profile", "--set", "hours_start=07:00", NULL), ==, 1);
  g_assert_nonnull (strstr (err, DENIED_RULES));
  g_assert_cmpint (count_settings_changes (&tb), ==, 0);
  tb.book = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);

  /* A saved worklist is the team's: it passes, with its change row. */
  g_assert_true (recoup_worklist_save (tb.book, "mine", &filter, &error));
  g_assert_no_error (error);
  saved = recoup_book_get_setting (tb.book, "worklist.saved.mine");
  g_assert_nonnull (saved);
  g_assert_cmpint (count_settings_changes (&tb), ==, 1);
  test_book_close (&tb);
}

/* An owner's device, and a book that is not enrolled at all, change the
 * business's policy as before, each write with its change row. */
static void
test_owner_writes (void)
{
  static const char * const roles[] = { "owner", NULL };

  for (guint i = 0; i < G_N_ELEMENTS (roles); i++)
    {
      TestBook tb = { 0 };
      g_autoptr(GError) error = NULL;
      RecoupGuardPolicy policy = { 0 };
      g_autofree char *name = NULL;

      test_book_open (&tb);
      if (roles[i] != NULL)
        g_assert_true (recoup_book_set_setting (tb.book, "sync.role", roles[i], &error));
      g_assert_true (recoup_guard_set_rule (tb.book, "hours_start", "09:00", &error));
      g_assert_no_error (error);
      g_assert_true (recoup_settings_set_shared (tb.book, "business.name", "Harbor Supply Co.", &error));
      g_assert_no_error (error);
      recoup_guard_policy_load (tb.book, &policy);
      g_assert_cmpint (policy.hours_start, ==, 9 * 60);
      recoup_guard_policy_clear (&policy);
      name = recoup_book_get_setting (tb.book, "business.name");
      g_assert_cmpstr (name, ==, "Harbor Supply Co.");
      /* guard.hours_start, guard.profile (now custom), business.name */
      g_assert_cmpint (count_settings_changes (&tb), ==, 3);
      test_book_close (&tb);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/recoup/core/settings/local-refused", test_local_refused);
  g_test_add_func ("/recoup/core/settings/collector-denied", test_collector_denied);
  g_test_add_func ("/recoup/core/settings/owner-writes", test_owner_writes);
  return g_test_run ();
}
