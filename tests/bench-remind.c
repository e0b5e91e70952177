/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "bench-remind"

#include "config.h"

#include <signal.h>

#include "recoup-mail.h"
#include "recoup-test-util.h"

/*
 * A reminder run of N accounts (default 10,000; argv[1] overrides), every one
 * past due with an email address: propose, then generate and queue (target
 * <= 30 s); then delivery of the first 2,000 to a local SMTP server
 * (tests/smtp-sink.py), in messages per second.
 */

static double
seconds_since (gint64 t0)
{
  return (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupRemindRun) run = NULL;
  TestBook tb;
  guint n = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 10000;
  RecoupRemindOptions options = { .render_letter = recoup_mail_letter_renderer };
  RecoupRemindResult result;
  gint64 t0, at;
  double t_propose, t_execute;

  g_setenv ("RECOUP_TODAY", "2026-11-24", TRUE);
  g_setenv ("RECOUP_NO_KEYRING", "1", TRUE);
  test_book_open (&tb);
  g_assert_true (recoup_guard_set_profile (tb.book, "first-party", &error));
  g_assert_true (recoup_book_set_setting (tb.book, "business.name", "Acme Receivables", &error));

  t0 = g_get_monotonic_time ();
  g_assert_true (recoup_book_begin (tb.book, &error));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *ref = g_strdup_printf ("B-%06u", i);
      g_autofree char *inv = g_strdup_printf ("BI-%06u", i);
      g_autofree char *email = g_strdup_printf ("debtor%u@example.com", i);
      g_autofree char *acc = test_add_account (tb.book, ref, "USD");
      g_autofree char *iid = test_add_invoice (tb.book, acc, inv, "2026-10-15", "2026-11-14",
                                               10000 + i, "USD");
      g_autofree char *cp = recoup_contact_add (tb.book, acc, RECOUP_CONTACT_EMAIL, email, "", TRUE, &error);

      g_assert_no_error (error);
    }
  g_assert_true (recoup_book_commit (tb.book, &error));
  g_print ("# set-up: %u accounts in %.1f s\n", n, seconds_since (t0));

  /* 18:00 UTC is noon in the accounts' zone (America/Chicago). */
  g_assert_true (recoup_instant_parse ("2026-11-24T18:00:00Z", &at, &error));
  t0 = g_get_monotonic_time ();
  run = recoup_remind_propose (tb.book, at, &error);
  g_assert_no_error (error);
  t_propose = seconds_since (t0);
  g_assert_cmpuint (run->items->len, ==, n);
  {
    RecoupRemindItem *it = g_ptr_array_index (run->items, 0);

    if (it->held)
      g_error ("held back: %s", it->held_reasons);
  }

  t0 = g_get_monotonic_time ();
  g_assert_true (recoup_remind_execute (tb.book, run, &options, &result, &error));
  g_assert_no_error (error);
  t_execute = seconds_since (t0);
  g_assert_cmpuint (result.emails_queued, ==, n);
  recoup_remind_result_clear (&result);
  g_print ("# reminder run of %u accounts: propose %.2f s, generate + queue %.2f s, total %.2f s (target <= 30 s)\n",
           n, t_propose, t_execute, t_propose + t_execute);

  /* Delivery to a local server. */
  {
    const char *py = g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE) ? "/usr/bin/python3" : "python3";
    g_autofree char *script = g_build_filename (g_getenv ("RECOUP_TEST_DATA") ?: "tests/data", "..", "smtp-sink.py", NULL);
    g_autofree char *dir = g_build_filename (tb.dir, "mail", NULL);
    g_autofree char *ready = g_build_filename (dir, "ready", NULL);
    const char *port = "26931";
    const char *sink_argv[] = { py, script, "--port", port, "--dir", dir, NULL };
    g_autoptr(GSubprocess) sink = NULL;
    RecoupMailStats st;
    guint limit = MIN (n, 2000);

    g_mkdir (dir, 0700);
    sink = g_subprocess_newv (sink_argv, G_SUBPROCESS_FLAGS_NONE, &error);
    for (int i = 0; sink != NULL && i < 200 && !g_file_test (ready, G_FILE_TEST_EXISTS); i++)
      g_usleep (50 * 1000);
    if (sink == NULL || !g_file_test (ready, G_FILE_TEST_EXISTS))
      {
        g_print ("# no local SMTP server (python3-aiosmtpd): delivery not measured\n");
      }
    else
      {
        g_assert_true (recoup_book_set_setting (tb.book, "smtp.url", "smtp://127.0.0.1:26931", &error));
        g_assert_true (recoup_book_set_setting (tb.book, "smtp.security", "none", &error));
        g_assert_true (recoup_book_set_setting (tb.book, "smtp.from", "ar@acme.example", &error));
        /* Only the first messages: fail the rest quickly by leaving them queued
         * behind a cancellable would complicate this; mark them failed instead. */
        {
          g_autoptr(GPtrArray) pending = recoup_outbox_pending (tb.book, 0, &error);

          g_assert_true (recoup_book_begin (tb.book, &error));
          for (guint i = limit; i < pending->len; i++)
            {
              RecoupOutboxMessage *m = g_ptr_array_index (pending, i);

              g_assert_true (recoup_outbox_mark_failed (tb.book, m->id, TRUE, "benchmark: not sent", &error));
            }
          g_assert_true (recoup_book_commit (tb.book, &error));
        }
        t0 = g_get_monotonic_time ();
        g_assert_true (recoup_mail_send_outbox (tb.book, &st, NULL, NULL, NULL, &error));
        g_assert_no_error (error);
        g_print ("# delivered %u messages to the local SMTP server in %.2f s: %.0f messages/s\n",
                 st.sent, seconds_since (t0), st.sent / seconds_since (t0));
        g_subprocess_send_signal (sink, SIGTERM);
        g_subprocess_wait (sink, NULL, NULL);
      }
  }
  test_book_close (&tb);
  return 0;
}
