/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recoup-book-private.h"
#include "recoup-test-util.h"

/* The compliance guard at the edges of every rule. */

typedef struct
{
  TestBook tb;
  char    *account;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *zone = data;
  RecoupAccountSpec spec = { .ref = "G-1", .name = "Guarded Debtor", .currency = "USD",
                             .timezone = zone };
  g_autofree char *cp = NULL;

  test_book_open (&f->tb);
  f->account = recoup_account_create (f->tb.book, &spec, &error);
  g_assert_no_error (error);
  cp = recoup_contact_add (f->tb.book, f->account, RECOUP_CONTACT_PHONE, "+12125550100", "mobile", TRUE, &error);
  g_assert_no_error (error);
  g_free (recoup_contact_add (f->tb.book, f->account, RECOUP_CONTACT_EMAIL, "debtor@example.com", "", TRUE, &error));
  g_assert_no_error (error);
  g_free (recoup_contact_add (f->tb.book, f->account, RECOUP_CONTACT_ADDRESS, "1 Main St, Springfield", "", TRUE, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_free (f->account);
  test_book_close (&f->tb);
}

static gint64
instant (const char *text)
{
  g_autoptr(GError) error = NULL;
  gint64 ms = 0;

  g_assert_true (recoup_instant_parse (text, &ms, &error));
  g_assert_no_error (error);
  return ms;
}

static RecoupGuardVerdict *
check (Fixture    *f,
       const char *channel,
       const char *at)
{
  g_autoptr(GError) error = NULL;
  RecoupGuardVerdict *v = NULL;

  g_assert_true (recoup_guard_check (f->tb.book, f->account, channel, instant (at), NULL, &v, &error));
  g_assert_no_error (error);
  return v;
}

static gboolean
has_reason (RecoupGuardVerdict *v,
            const char         *code)
{
  for (guint i = 0; i < v->reasons->len; i++)
    if (g_strcmp0 (((RecoupGuardReason *) g_ptr_array_index (v->reasons, i))->code, code) == 0)
      return TRUE;
  return FALSE;
}

static void
assert_verdict (Fixture           *f,
                const char        *channel,
                const char        *at,
                RecoupVerdictKind  expected,
                const char        *code)
{
  g_autoptr(RecoupGuardVerdict) v = check (f, channel, at);

  if (v->verdict != expected)
    {
      for (guint i = 0; i < v->reasons->len; i++)
        g_printerr ("# %s: %s\n", ((RecoupGuardReason *) v->reasons->pdata[i])->code,
                    ((RecoupGuardReason *) v->reasons->pdata[i])->text);
      g_error ("%s at %s: expected %s, got %s", channel, at, recoup_verdict_to_string (expected),
               recoup_verdict_to_string (v->verdict));
    }
  if (code != NULL)
    g_assert_true (has_reason (v, code));
  if (expected == RECOUP_VERDICT_ALLOWED)
    g_assert_cmpuint (v->reasons->len, ==, 0);
}

static void
log_contact (Fixture    *f,
             const char *channel,
             const char *outcome,
             const char *at)
{
  g_autoptr(GError) error = NULL;
  RecoupActivitySpec spec = { .account_id = f->account, .channel = channel, .outcome = outcome,
                              .at = instant (at) };
  g_autofree char *id = recoup_activity_log (f->tb.book, &spec, &error);

  g_assert_no_error (error);
  g_assert_nonnull (id);
}

static void
set_field (Fixture    *f,
           const char *field,
           const char *value)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (recoup_account_set (f->tb.book, f->account, field, value, &error));
  g_assert_no_error (error);
}

/* 08:00 to 21:00 the debtor's local time: 20:59 yes, 21:00 no, 07:59 no, 08:00 yes. */
static void
test_hours (Fixture       *f,
            gconstpointer  data)
{
  assert_verdict (f, "call", "2026-06-10T20:59:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
  assert_verdict (f, "call", "2026-06-10T21:00:00-04:00", RECOUP_VERDICT_BLOCKED, "outside-hours");
  assert_verdict (f, "call", "2026-06-10T07:59:59-04:00", RECOUP_VERDICT_BLOCKED, "outside-hours");
  assert_verdict (f, "call", "2026-06-10T08:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
  assert_verdict (f, "sms", "2026-06-11T01:30:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");
  assert_verdict (f, "email", "2026-06-11T01:30:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");
  /* Letters are not sent "at" an hour. */
  assert_verdict (f, "letter", "2026-06-11T06:00:00Z", RECOUP_VERDICT_ALLOWED, NULL);
}

/* New York springs forward on 2026-03-08 and falls back on 2026-11-01: the
 * same UTC time is a different local hour on either side. */
static void
test_dst_new_york (Fixture       *f,
                   gconstpointer  data)
{
  /* 12:30Z is 07:30 EST on the 7th but 08:30 EDT on the 8th. */
  assert_verdict (f, "call", "2026-03-07T12:30:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");
  assert_verdict (f, "call", "2026-03-08T12:30:00Z", RECOUP_VERDICT_ALLOWED, NULL);
  assert_verdict (f, "call", "2026-03-08T11:59:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");  /* 07:59 EDT */
  assert_verdict (f, "call", "2026-03-08T12:00:00Z", RECOUP_VERDICT_ALLOWED, NULL);             /* 08:00 EDT */
  /* Evening of the 8th (EDT): 20:59 vs 21:00. */
  assert_verdict (f, "call", "2026-03-09T00:59:00Z", RECOUP_VERDICT_ALLOWED, NULL);
  assert_verdict (f, "call", "2026-03-09T01:00:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");
  /* Evening of the 7th (EST): 01:30Z is still 20:30. */
  assert_verdict (f, "call", "2026-03-08T01:30:00Z", RECOUP_VERDICT_ALLOWED, NULL);
  assert_verdict (f, "call", "2026-03-08T02:00:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");

  /* Fall back: 12:30Z is 08:30 EDT on 10-31 but 07:30 EST on 11-01. */
  assert_verdict (f, "call", "2026-10-31T12:30:00Z", RECOUP_VERDICT_ALLOWED, NULL);
  assert_verdict (f, "call", "2026-11-01T12:30:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");
  assert_verdict (f, "call", "2026-11-01T12:59:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");  /* 07:59 EST */
  assert_verdict (f, "call", "2026-11-01T13:00:00Z", RECOUP_VERDICT_ALLOWED, NULL);             /* 08:00 EST */
  assert_verdict (f, "call", "2026-11-02T01:59:00Z", RECOUP_VERDICT_ALLOWED, NULL);             /* 20:59 EST */
  assert_verdict (f, "call", "2026-11-02T02:00:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");  /* 21:00 EST */
}

static void
test_dst_berlin (Fixture       *f,
                 gconstpointer  data)
{
  /* Berlin: CET (+1) until 2026-03-29 02:00, then CEST (+2); back on 2026-10-25. */
  assert_verdict (f, "call", "2026-03-28T06:59:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");  /* 07:59 CET */
  assert_verdict (f, "call", "2026-03-28T07:00:00Z", RECOUP_VERDICT_ALLOWED, NULL);             /* 08:00 CET */
  assert_verdict (f, "call", "2026-03-29T05:59:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");  /* 07:59 CEST */
  assert_verdict (f, "call", "2026-03-29T06:00:00Z", RECOUP_VERDICT_ALLOWED, NULL);             /* 08:00 CEST */
  assert_verdict (f, "call", "2026-03-29T18:59:00Z", RECOUP_VERDICT_ALLOWED, NULL);             /* 20:59 CEST */
  assert_verdict (f, "call", "2026-03-29T19:00:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");  /* 21:00 CEST */
  assert_verdict (f, "call", "2026-10-25T19:59:00Z", RECOUP_VERDICT_ALLOWED, NULL);             /* 20:59 CET */
  assert_verdict (f, "call", "2026-10-25T20:00:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");  /* 21:00 CET */
}

/* The collector's own zone (process TZ, offset of the time given) never matters. */
static void
test_different_zones (Fixture       *f,
                      gconstpointer  data)
{
  /* A collector in New York at 20:30 reaches Los Angeles at 17:30: fine. */
  assert_verdict (f, "call", "2026-06-10T20:30:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
  /* At 10:30 in New York it is 07:30 in Los Angeles: too early. */
  assert_verdict (f, "call", "2026-06-10T10:30:00-04:00", RECOUP_VERDICT_BLOCKED, "outside-hours");
  /* A collector in Tokyo: 2026-06-11 09:00 JST is 17:00 in Los Angeles. */
  g_setenv ("TZ", "Asia/Tokyo", TRUE);
  tzset ();
  assert_verdict (f, "call", "2026-06-11T09:00:00+09:00", RECOUP_VERDICT_ALLOWED, NULL);
  assert_verdict (f, "call", "2026-06-11T00:00:00+09:00", RECOUP_VERDICT_ALLOWED, NULL);  /* 08:00 PDT */
  assert_verdict (f, "call", "2026-06-10T23:59:00+09:00", RECOUP_VERDICT_BLOCKED, "outside-hours");
  g_setenv ("TZ", "UTC", TRUE);
  tzset ();
}

/* More than 7 call attempts in 7 consecutive days: the 8th is blocked. */
static void
test_call_frequency (Fixture       *f,
                     gconstpointer  data)
{
  /* An attempt a day from 2026-06-04 to 2026-06-09 (six), local 10:00 EDT. */
  for (int d = 4; d <= 9; d++)
    {
      g_autofree char *at = g_strdup_printf ("2026-06-%02dT10:00:00-04:00", d);
      log_contact (f, "call", "no-answer", at);
    }
  set_field (f, "validation_notice_date", "2026-06-04");
  /* The 7th attempt on 06-10 is allowed... */
  assert_verdict (f, "call", "2026-06-10T09:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
  log_contact (f, "call", "voicemail", "2026-06-10T09:00:00-04:00");
  /* ...the 8th on the same day is not. */
  assert_verdict (f, "call", "2026-06-10T15:00:00-04:00", RECOUP_VERDICT_BLOCKED, "call-frequency");
  /* Texts are not calls. */
  assert_verdict (f, "sms", "2026-06-10T15:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
  /* On 06-11 the window is 06-05..06-11: six attempts, so a call is allowed. */
  assert_verdict (f, "call", "2026-06-11T08:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
  /* The window is the debtor's calendar days: 06-11 00:30 EDT (04:30Z) is day 06-11... */
  assert_verdict (f, "call", "2026-06-11T04:30:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");
  /* ...and 06-10 23:30 EDT is still 06-10, where seven attempts were made. */
  {
    g_autoptr(RecoupGuardVerdict) v = check (f, "call", "2026-06-11T03:30:00Z");
    g_assert_true (has_reason (v, "call-frequency"));
  }
  /* A call logged afterwards for an earlier instant counts the calls logged
   * after it too: on 06-06 the 7 days 06-04..06-10 already hold seven (it was
   * allowed, counting only 06-04 and 06-05). */
  assert_verdict (f, "call", "2026-06-06T08:30:00-04:00", RECOUP_VERDICT_BLOCKED, "call-frequency");
  assert_verdict (f, "call", "2026-06-09T20:00:00-04:00", RECOUP_VERDICT_BLOCKED, "call-frequency");
  /* On 05-29 the latest 7 days that hold it, 05-29..06-04, hold one call. */
  assert_verdict (f, "call", "2026-05-29T10:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
}

/* A telephone conversation: its day is day 1; calls are blocked through day 7
 * and allowed on day 8. */
static void
test_conversation (Fixture       *f,
                   gconstpointer  data)
{
  set_field (f, "validation_notice_date", "2026-06-01");
  log_contact (f, "call", "right-party", "2026-06-01T10:00:00-04:00");
  assert_verdict (f, "call", "2026-06-01T15:00:00-04:00", RECOUP_VERDICT_BLOCKED, "recent-conversation");
  assert_verdict (f, "call", "2026-06-07T20:59:00-04:00", RECOUP_VERDICT_BLOCKED, "recent-conversation");  /* day 7 */
  assert_verdict (f, "call", "2026-06-08T08:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);                   /* day 8 */
  /* Other channels are not calls. */
  assert_verdict (f, "email", "2026-06-03T10:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
  /* A callback request is a conversation too. */
  log_contact (f, "call", "callback-requested", "2026-06-09T10:00:00-04:00");
  assert_verdict (f, "call", "2026-06-15T10:00:00-04:00", RECOUP_VERDICT_BLOCKED, "recent-conversation");
  assert_verdict (f, "call", "2026-06-16T10:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
  /* A voicemail is not. */
  log_contact (f, "call", "voicemail", "2026-06-16T10:00:00-04:00");
  assert_verdict (f, "call", "2026-06-17T10:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
}

/* An account that holds a zone from before zones had to name a region (EST)
 * is judged as one with no zone, and the reason names what it holds. */
static void
test_zone_without_region (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(RecoupGuardVerdict) v = NULL;
  sqlite3_stmt *stmt = NULL;
  gboolean named = FALSE;

  g_assert_cmpint (sqlite3_prepare_v2 (recoup_book_get_db (f->tb.book),
                                       "UPDATE accounts SET timezone = 'EST' WHERE id = ?", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, f->account, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);

  assert_verdict (f, "call", "2026-06-10T15:00:00Z", RECOUP_VERDICT_BLOCKED, "timezone-unknown");
  v = check (f, "call", "2026-06-10T15:00:00Z");
  for (guint i = 0; i < v->reasons->len; i++)
    {
      RecoupGuardReason *r = v->reasons->pdata[i];

      if (g_str_equal (r->code, "timezone-unknown"))
        named = strstr (r->text, "“EST” names no region") != NULL;
    }
  g_assert_true (named);
}

static void
test_unknown_zone (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  assert_verdict (f, "call", "2026-06-10T15:00:00Z", RECOUP_VERDICT_BLOCKED, "timezone-unknown");
  assert_verdict (f, "sms", "2026-06-10T15:00:00Z", RECOUP_VERDICT_BLOCKED, "timezone-unknown");
  assert_verdict (f, "email", "2026-06-10T15:00:00Z", RECOUP_VERDICT_WARN, "timezone-unknown");
  assert_verdict (f, "letter", "2026-06-10T15:00:00Z", RECOUP_VERDICT_ALLOWED, NULL);

  /* The book chooses the business's zone: a warning, and its hours apply. */
  g_assert_true (recoup_guard_set_rule (f->tb.book, "business_timezone", "America/Chicago", &error));
  g_assert_no_error (error);
  g_assert_true (recoup_guard_set_rule (f->tb.book, "unknown_zone", "business", &error));
  g_assert_no_error (error);
  assert_verdict (f, "call", "2026-06-10T14:00:00Z", RECOUP_VERDICT_WARN, "timezone-unknown");      /* 09:00 CDT */
  assert_verdict (f, "call", "2026-06-10T12:59:00Z", RECOUP_VERDICT_BLOCKED, "outside-hours");      /* 07:59 CDT */
  {
    g_autofree char *profile = recoup_book_get_setting (f->tb.book, "guard.profile");
    /* The zone rules do not turn the profile custom. */
    g_assert_null (profile);
  }
}

static void
test_cease_and_flags (Fixture       *f,
                      gconstpointer  data)
{
  const char *at = "2026-06-10T12:00:00-04:00";

  set_field (f, "cease_communication", "yes");
  assert_verdict (f, "call", at, RECOUP_VERDICT_BLOCKED, "cease-communication");
  assert_verdict (f, "email", at, RECOUP_VERDICT_BLOCKED, "cease-communication");
  assert_verdict (f, "visit", at, RECOUP_VERDICT_BLOCKED, "cease-communication");
  assert_verdict (f, "letter", at, RECOUP_VERDICT_WARN, "cease-communication");
  set_field (f, "cease_communication", "no");
  assert_verdict (f, "call", at, RECOUP_VERDICT_ALLOWED, NULL);

  set_field (f, "attorney_represented", "yes");
  assert_verdict (f, "letter", at, RECOUP_VERDICT_BLOCKED, "attorney-represented");
  set_field (f, "attorney_represented", "no");
  set_field (f, "bankruptcy", "yes");
  assert_verdict (f, "call", at, RECOUP_VERDICT_BLOCKED, "bankruptcy");
  set_field (f, "bankruptcy", "no");
  set_field (f, "deceased", "yes");
  assert_verdict (f, "email", at, RECOUP_VERDICT_BLOCKED, "deceased");
}

static void
test_opt_outs (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) cps = NULL;
  const char *at = "2026-06-10T12:00:00-04:00";

  /* Per channel: no texts, calls still fine. */
  g_assert_true (recoup_guard_set_channel_opt_out (f->tb.book, f->account, "sms", TRUE, &error));
  g_assert_no_error (error);
  assert_verdict (f, "sms", at, RECOUP_VERDICT_BLOCKED, "channel-opt-out");
  assert_verdict (f, "call", at, RECOUP_VERDICT_ALLOWED, NULL);
  g_assert_true (recoup_guard_set_channel_opt_out (f->tb.book, f->account, "sms", FALSE, &error));
  assert_verdict (f, "sms", at, RECOUP_VERDICT_ALLOWED, NULL);

  /* Per contact point: the only phone opted out blocks calls and texts. */
  cps = recoup_contact_list (f->tb.book, f->account, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < cps->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (cps, i);
      if (cp->kind == RECOUP_CONTACT_PHONE)
        g_assert_true (recoup_contact_set_opted_out (f->tb.book, cp->id, TRUE, &error));
    }
  assert_verdict (f, "call", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");
  assert_verdict (f, "sms", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");
  assert_verdict (f, "email", at, RECOUP_VERDICT_ALLOWED, NULL);
  /* A second, usable phone number makes calls possible again. */
  g_free (recoup_contact_add (f->tb.book, f->account, RECOUP_CONTACT_PHONE, "+12125550199", "work", FALSE, &error));
  g_assert_no_error (error);
  assert_verdict (f, "call", at, RECOUP_VERDICT_ALLOWED, NULL);

  /* Bad channel: an error, nothing changed. */
  g_assert_false (recoup_guard_set_channel_opt_out (f->tb.book, f->account, "pigeon", TRUE, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
}

/* A contact point as a book from before values were compared may hold it, or
 * as two devices that each added it offline leave it after sync: written
 * straight into the book, not through recoup_contact_add(). */
static void
insert_contact_point (Fixture    *f,
                      const char *kind,
                      const char *value,
                      gboolean    opted_out)
{
  g_autoptr(GError) error = NULL;
  char id[RECOUP_UUID_STRING_LEN + 1];
  g_autofree char *sql = NULL;

  recoup_uuid7_generate (id);
  sql = g_strdup_printf ("INSERT INTO contact_points (id, account_id, kind, value, is_primary, opted_out,"
                         " created_at) VALUES ('%s', '%s', '%s', '%s', 1, %d, 0)",
                         id, f->account, kind, value, opted_out ? 1 : 0);
  g_assert_true (recoup_book_exec (f->tb.book, sql, &error));
  g_assert_no_error (error);
}

/* An opt-out holds for every spelling of the number or address: a second
 * contact point with the same digits, or the same e-mail address in another
 * case, is opted out with it; another number is not. */
static void
test_opt_out_other_spelling (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) cps = recoup_contact_list (f->tb.book, f->account, &error);
  const char *at = "2026-06-10T12:00:00-04:00";

  g_assert_no_error (error);
  for (guint i = 0; i < cps->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (cps, i);

      if (cp->kind != RECOUP_CONTACT_ADDRESS)
        g_assert_true (recoup_contact_set_opted_out (f->tb.book, cp->id, TRUE, &error));
    }
  g_assert_no_error (error);
  insert_contact_point (f, "phone", "+1 (212) 555-0100", FALSE);
  insert_contact_point (f, "phone", "212.555.0100", FALSE);
  insert_contact_point (f, "email", "Debtor@EXAMPLE.com", FALSE);
  assert_verdict (f, "call", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");
  assert_verdict (f, "sms", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");
  assert_verdict (f, "email", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");

  /* An address whose opt-out is only another spelling's: letters stop too. */
  insert_contact_point (f, "address", "1  MAIN ST, springfield ", TRUE);
  assert_verdict (f, "letter", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");

  /* Another number is usable. */
  insert_contact_point (f, "phone", "+1 (212) 555-0199", FALSE);
  assert_verdict (f, "call", at, RECOUP_VERDICT_ALLOWED, NULL);
}

/* A number written with its country code, with an international prefix 00,
 * with a trunk 0 or with both ("+31 (0)50…") is one number: its opt-out
 * holds for each spelling. */
static void
test_opt_out_international_spelling (Fixture       *f,
                                     gconstpointer  data)
{
  static const char * const spellings[] = {
    "0031 50 0526 202", "050 0526 202", "+31 (0)50 0526 202", "0500526202",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) cps = recoup_contact_list (f->tb.book, f->account, &error);
  const char *at = "2026-06-10T12:00:00+02:00";

  g_assert_no_error (error);
  for (guint i = 0; i < cps->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (cps, i);

      if (cp->kind == RECOUP_CONTACT_PHONE)
        g_assert_true (recoup_contact_set_opted_out (f->tb.book, cp->id, TRUE, &error));
    }
  g_assert_no_error (error);
  insert_contact_point (f, "phone", "+31 50 0526 202", TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (spellings); i++)
    {
      g_autofree char *a = recoup_contact_value_key (RECOUP_CONTACT_PHONE, spellings[i]);
      g_autofree char *b = recoup_contact_value_key (RECOUP_CONTACT_PHONE, "+31 50 0526 202");

      g_assert_cmpstr (a, ==, b);
      insert_contact_point (f, "phone", spellings[i], FALSE);
      assert_verdict (f, "call", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");
    }
  /* North America's, with an international prefix. */
  {
    g_autofree char *a = recoup_contact_value_key (RECOUP_CONTACT_PHONE, "001 212 555 0147");
    g_autofree char *b = recoup_contact_value_key (RECOUP_CONTACT_PHONE, "+1 (212) 555-0147");

    g_assert_cmpstr (a, ==, b);
  }

  /* Another number is usable. */
  insert_contact_point (f, "phone", "+31 50 0526 299", FALSE);
  assert_verdict (f, "call", at, RECOUP_VERDICT_ALLOWED, NULL);
}

/* The id of the account's (only) phone that is not removed. */
static char *
phone_id (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) cps = recoup_contact_list (f->tb.book, f->account, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < cps->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (cps, i);

      if (cp->kind == RECOUP_CONTACT_PHONE)
        return g_strdup (cp->id);
    }
  g_assert_not_reached ();
}

/* The debtor's opt-out of a number outlives the point it was given on: added
 * again after its removal (in another spelling) it is added opted out; a copy
 * that sync brings from a device that removed and re-added it without seeing
 * the opt-out is blocked all the same. Opting the number back in lifts the
 * opt-out kept on the removed point too. */
static void
test_opt_out_survives_removal (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *old = phone_id (f);
  g_autofree char *again = NULL, *sql = NULL;
  g_autoptr(GPtrArray) cps = NULL;
  const char *at = "2026-06-10T12:00:00-04:00";

  g_assert_true (recoup_contact_set_opted_out (f->tb.book, old, TRUE, &error));
  g_assert_true (recoup_contact_remove (f->tb.book, old, &error));
  g_assert_no_error (error);
  again = recoup_contact_add (f->tb.book, f->account, RECOUP_CONTACT_PHONE, "+1 (212) 555-0100", "mobile",
                              TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, !=, old);
  cps = recoup_contact_list (f->tb.book, f->account, &error);
  for (guint i = 0; i < cps->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (cps, i);

      if (g_str_equal (cp->id, again))
        g_assert_true (cp->opted_out);
    }
  assert_verdict (f, "call", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");

  /* As sync leaves it: the removed point opted out, a copy that is not. */
  g_assert_true (recoup_book_exec (f->tb.book, "DELETE FROM contact_points WHERE kind = 'phone' AND deleted = 0",
                                   &error));
  g_assert_no_error (error);
  insert_contact_point (f, "phone", "212.555.0100", FALSE);
  assert_verdict (f, "call", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");
  assert_verdict (f, "sms", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");

  /* The debtor agrees to calls again on that number. */
  g_clear_pointer (&again, g_free);
  again = phone_id (f);
  g_assert_true (recoup_contact_set_opted_out (f->tb.book, again, FALSE, &error));
  g_assert_no_error (error);
  assert_verdict (f, "call", at, RECOUP_VERDICT_ALLOWED, NULL);
  sql = g_strdup_printf ("SELECT opted_out FROM contact_points WHERE id = '%s'", old);
  g_assert_cmpint (test_query_int (f->tb.path, sql), ==, 0);
}

/* An opt-out is about the number: the point that holds it cannot be given
 * another number (a new number is a point of its own), only another spelling
 * of the same one; and the opted-out number stays recorded, so that added
 * again after its point is removed it is added opted out. */
static void
test_opted_out_value_stays (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *phone = phone_id (f);
  g_autofree char *again = NULL;
  g_autoptr(GPtrArray) cps = NULL;
  const char *at = "2026-06-10T12:00:00-04:00";

  g_assert_true (recoup_contact_set_opted_out (f->tb.book, phone, TRUE, &error));
  g_assert_no_error (error);
  g_assert_false (recoup_contact_set_value (f->tb.book, phone, "+1 212 555 0199", &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "add “+1 212 555 0199” as a new contact point"));
  g_clear_error (&error);
  g_assert_true (recoup_contact_set_value (f->tb.book, phone, "(212) 555-0100", &error));
  g_assert_no_error (error);
  assert_verdict (f, "call", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");

  g_assert_true (recoup_contact_remove (f->tb.book, phone, &error));
  g_assert_no_error (error);
  again = recoup_contact_add (f->tb.book, f->account, RECOUP_CONTACT_PHONE, "212-555-0100", "", TRUE, &error);
  g_assert_no_error (error);
  cps = recoup_contact_list (f->tb.book, f->account, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < cps->len; i++)
    if (g_str_equal (((RecoupContactPoint *) cps->pdata[i])->id, again))
      g_assert_true (((RecoupContactPoint *) cps->pdata[i])->opted_out);
  assert_verdict (f, "call", at, RECOUP_VERDICT_BLOCKED, "contact-opt-out");
}

static void
test_dispute (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dispute = NULL;
  const char *at = "2026-06-10T12:00:00-04:00";

  dispute = recoup_dispute_open (f->tb.book, f->account, NULL, "not my debt", &error);
  g_assert_no_error (error);
  assert_verdict (f, "call", at, RECOUP_VERDICT_BLOCKED, "dispute-open");
  assert_verdict (f, "email", at, RECOUP_VERDICT_BLOCKED, "dispute-open");
  assert_verdict (f, "letter", at, RECOUP_VERDICT_WARN, "dispute-open");
  g_assert_true (recoup_dispute_resolve (f->tb.book, dispute, FALSE, "verified", &error));
  g_assert_no_error (error);
  assert_verdict (f, "call", at, RECOUP_VERDICT_ALLOWED, NULL);
}

/* No validation notice within 5 days of the first communication: a warning. */
static void
test_validation_notice (Fixture       *f,
                        gconstpointer  data)
{
  log_contact (f, "email", "sent", "2026-06-01T10:00:00-04:00");
  assert_verdict (f, "email", "2026-06-06T10:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);   /* day 5 */
  assert_verdict (f, "email", "2026-06-07T10:00:00-04:00", RECOUP_VERDICT_WARN, "validation-notice");
  set_field (f, "validation_notice_date", "2026-06-02");
  assert_verdict (f, "email", "2026-06-07T10:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
}

static void
test_profiles (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL;
  const char *at = "2026-06-10T12:00:00-04:00";

  set_field (f, "bankruptcy", "yes");
  assert_verdict (f, "call", at, RECOUP_VERDICT_BLOCKED, "bankruptcy");
  g_assert_true (recoup_guard_set_profile (f->tb.book, "first-party", &error));
  g_assert_no_error (error);
  assert_verdict (f, "call", at, RECOUP_VERDICT_ALLOWED, NULL);
  /* Hours still apply to a first-party creditor. */
  assert_verdict (f, "call", "2026-06-10T21:00:00-04:00", RECOUP_VERDICT_BLOCKED, "outside-hours");

  /* Custom: the hours can change; the profile becomes custom. */
  g_assert_true (recoup_guard_set_profile (f->tb.book, "regf", &error));
  g_assert_true (recoup_guard_set_rule (f->tb.book, "flags", "no", &error));
  g_assert_true (recoup_guard_set_rule (f->tb.book, "hours_end", "20:00", &error));
  g_assert_no_error (error);
  after = recoup_book_get_setting (f->tb.book, "guard.profile");
  g_assert_cmpstr (after, ==, "custom");
  assert_verdict (f, "call", "2026-06-10T19:59:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
  assert_verdict (f, "call", "2026-06-10T20:00:00-04:00", RECOUP_VERDICT_BLOCKED, "outside-hours");

  /* Bad input changes nothing. */
  before = recoup_book_get_setting (f->tb.book, "guard.profile");
  {
    gint64 changes = recoup_book_count_changes (f->tb.book);

    g_assert_false (recoup_guard_set_profile (f->tb.book, "lenient", &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (recoup_guard_set_rule (f->tb.book, "hours_end", "9pm", &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (recoup_guard_set_rule (f->tb.book, "max_calls_7d", "-1", &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_false (recoup_guard_set_rule (f->tb.book, "business_timezone", "Mars/Olympus", &error));
    g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_cmpint (recoup_book_count_changes (f->tb.book), ==, changes);
  }
  g_free (after);
  after = recoup_book_get_setting (f->tb.book, "guard.profile");
  g_assert_cmpstr (before, ==, after);
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupGuardVerdict *v = NULL;
  gint64 ms = 0;

  g_assert_false (recoup_guard_check (f->tb.book, f->account, "pigeon", 0, NULL, &v, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_assert_null (v);
  g_clear_error (&error);
  g_assert_false (recoup_guard_check (f->tb.book, "no-such-account", "call", 0, NULL, &v, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (recoup_instant_parse ("2026-06-10 12:00", &ms, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
}

/* Overrides are for users with can_override. */
static void
test_override_right (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupGuardVerdict) v1 = NULL, v2 = NULL;
  g_autofree char *collector = recoup_user_add (f->tb.book, "Colin", "collector", 0, 0, FALSE, &error);
  gint64 at = instant ("2026-06-10T22:00:00-04:00");

  g_assert_no_error (error);
  g_assert_true (recoup_guard_check (f->tb.book, f->account, "call", at, NULL, &v1, &error));
  g_assert_cmpint (v1->verdict, ==, RECOUP_VERDICT_BLOCKED);
  g_assert_true (v1->may_override);     /* the book's owner */
  g_assert_true (recoup_guard_check (f->tb.book, f->account, "call", at, collector, &v2, &error));
  g_assert_false (v2->may_override);
}

/* Core decides whether a contact the guard blocked is logged: never without
 * words on it; with them, an override for a user who may override, and for
 * anyone else a contact that broke the rules, logged and flagged for review.
 * An allowed contact keeps no override reason. It says which it did, so that
 * the app and the CLI tell the user without deciding again. */
static void
test_log_guarded (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *collector = recoup_user_add (f->tb.book, "Colin", "collector", 0, 0, FALSE, &error);
  g_autofree char *owner = g_strdup (recoup_book_get_user_id (f->tb.book));
  g_autofree char *id = NULL;
  g_autoptr(RecoupGuardVerdict) v = NULL;
  g_autoptr(GPtrArray) review = NULL;
  guint open = G_MAXUINT;
  const RecoupActivityLogged unset = (RecoupActivityLogged) 99;   /* none of its values */
  RecoupActivityLogged logged = unset;
  RecoupActivitySpec spec = { .account_id = f->account, .channel = "call", .outcome = "no-answer",
                              .at = instant ("2026-06-10T22:00:00-04:00") };

  g_assert_no_error (error);
  /* Owner, no reason: refused, nothing logged, and the verdict says why. */
  g_assert_null (recoup_activity_log_guarded (f->tb.book, &spec, &v, &logged, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_BLOCKED);
  g_assert_cmpint (logged, ==, unset);   /* nothing was done */
  g_assert_nonnull (v);
  g_assert_cmpint (v->verdict, ==, RECOUP_VERDICT_BLOCKED);
  g_clear_error (&error);
  g_clear_pointer (&v, recoup_guard_verdict_free);
  spec.override_reason = " \t ";
  g_assert_null (recoup_activity_log_guarded (f->tb.book, &spec, NULL, NULL, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_BLOCKED);
  g_clear_error (&error);
  g_assert_cmpint (test_query_int (f->tb.path, "SELECT count(*) FROM activities"), ==, 0);

  /* Owner with a reason: an override, no flag. */
  spec.override_reason = "debtor asked for a late call";
  id = recoup_activity_log_guarded (f->tb.book, &spec, NULL, &logged, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  g_assert_cmpint (logged, ==, RECOUP_ACTIVITY_LOGGED_OVERRIDE);
  g_clear_pointer (&id, g_free);
  g_assert_true (recoup_review_count_open (f->tb.book, f->account, &open, &error));
  g_assert_cmpuint (open, ==, 0);

  /* A collector who may not override: logged with what happened, flagged. */
  g_assert_true (recoup_book_set_user (f->tb.book, collector, &error));
  spec.override_reason = "the debtor picked up when I rang the office line";
  id = recoup_activity_log_guarded (f->tb.book, &spec, NULL, &logged, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  g_assert_cmpint (logged, ==, RECOUP_ACTIVITY_LOGGED_FLAGGED);
  g_clear_pointer (&id, g_free);
  review = recoup_review_list_open (f->tb.book, f->account, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (review->len, ==, 1);
  g_assert_cmpstr (((RecoupReviewItem *) review->pdata[0])->kind, ==, RECOUP_REVIEW_CONTACT_BREACH);
  g_assert_nonnull (strstr (((RecoupReviewItem *) review->pdata[0])->text,
                            "call on 2026-06-10 22:00 EDT broke the compliance rules "
                            "(outside the debtor's contact hours), logged by Colin: the debtor picked up"));

  /* Allowed at noon: whatever reason was given is not an override. */
  spec.at = instant ("2026-06-11T12:00:00-04:00");
  spec.override_reason = "no reason needed";
  id = recoup_activity_log_guarded (f->tb.book, &spec, NULL, &logged, &error);
  g_assert_no_error (error);
  g_assert_cmpint (logged, ==, RECOUP_ACTIVITY_LOGGED);
  g_assert_cmpint (test_query_int (f->tb.path, "SELECT count(*) FROM activities WHERE override_reason IS NOT NULL"),
                   ==, 2);
  g_clear_pointer (&id, g_free);

  /* The debtor rang at night: not ours to guard, nothing flagged. */
  spec.at = instant ("2026-06-10T23:00:00-04:00");
  spec.direction = "inbound";
  spec.override_reason = NULL;
  logged = unset;
  id = recoup_activity_log_guarded (f->tb.book, &spec, NULL, &logged, &error);
  g_assert_no_error (error);
  g_assert_cmpint (logged, ==, RECOUP_ACTIVITY_LOGGED);
  g_clear_pointer (&review, g_ptr_array_unref);
  review = recoup_review_list_open (f->tb.book, f->account, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (review->len, ==, 1);
  g_assert_true (recoup_book_set_user (f->tb.book, owner, &error));
}

/* The CLI: may-contact --json has exactly verdict and reasons; log refuses a
 * blocked contact unless overridden, and records the override; it says the
 * account is flagged when core flagged it, for a collector's contact. */
static void
test_cli (Fixture       *f,
          gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *obj;
  int status = 0;

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  g_free (recoup_user_add (f->tb.book, "Colin", "collector", 0, 0, FALSE, &error));
  g_assert_no_error (error);
  g_clear_object (&f->tb.book);

  {
    const char *argv[] = { cli, "--book", f->tb.path, "--json", "may-contact", "G-1", "--channel", "call",
                           "--at", "2026-06-10T21:00:00-04:00", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
    obj = json_node_get_object (json_parser_get_root (parser));
    g_assert_cmpuint (json_object_get_size (obj), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (obj, "verdict"), ==, "blocked");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj, "reasons")), >=, 1);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { cli, "--book", f->tb.path, "may-contact", "G-1", "--channel", "pigeon", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
    g_assert_cmpint (WEXITSTATUS (status), ==, 1);
    g_assert_nonnull (strstr (err, "pigeon"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { cli, "--book", f->tb.path, "may-contact", "G-1", "--channel", "call",
                           "--at", "tomorrow at noon", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
    g_assert_cmpint (WEXITSTATUS (status), ==, 1);
    g_assert_nonnull (strstr (err, "ISO 8601"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { cli, "--book", f->tb.path, "log", "G-1", "--channel", "call", "--outcome", "no-answer",
                           "--at", "2026-06-10T21:30:00-04:00", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
    g_assert_cmpint (WEXITSTATUS (status), ==, 1);
    g_assert_nonnull (strstr (err, "outside-hours"));
    g_assert_cmpint (test_query_int (f->tb.path, "SELECT count(*) FROM activities"), ==, 0);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { cli, "--book", f->tb.path, "log", "G-1", "--channel", "call", "--outcome", "no-answer",
                           "--at", "2026-06-10T21:30:00-04:00", "--override", "debtor asked for a late call", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_cmpint (test_query_int (f->tb.path,
                                     "SELECT count(*) FROM activities WHERE override_reason = 'debtor asked for a late call'"),
                     ==, 1);
    g_assert_null (strstr (err, "flagged"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { cli, "--book", f->tb.path, "--user", "Colin", "log", "G-1", "--channel", "call",
                           "--outcome", "no-answer", "--at", "2026-06-10T21:45:00-04:00",
                           "--override", "the debtor picked up on the office line", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (err, "the account is flagged for the owner's review"));
    g_assert_cmpint (test_query_int (f->tb.path, "SELECT count(*) FROM review_items"), ==, 1);
  }
}

/* The 7 days are the debtor's calendar days, across a DST change: a call at
 * 23:30 EST on 03-02 is outside the window 03-03..03-09 (in UTC it would be
 * 03-03 and count). */
static void
test_call_window_dst (Fixture       *f,
                      gconstpointer  data)
{
  set_field (f, "validation_notice_date", "2026-03-01");
  log_contact (f, "call", "no-answer", "2026-03-02T23:30:00-05:00");
  for (int d = 3; d <= 7; d++)
    {
      g_autofree char *at = g_strdup_printf ("2026-03-%02dT10:00:00-05:00", d);
      log_contact (f, "call", "no-answer", at);
    }
  log_contact (f, "call", "no-answer", "2026-03-08T10:00:00-04:00");
  /* 03-08 (window 03-02..03-08): seven attempts, the eighth is blocked. */
  assert_verdict (f, "call", "2026-03-08T15:00:00-04:00", RECOUP_VERDICT_BLOCKED, "call-frequency");
  /* 03-09 (window 03-03..03-09): six attempts. */
  assert_verdict (f, "call", "2026-03-09T08:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);
}

/* The app's list says whether a call is allowed now: the browse page carries
 * the same guard's verdict and its first blocking reason. */
static void
test_browse_page (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  RecoupBrowseRow *row;

  g_assert_cmpint (recoup_browse_prepare (f->tb.book, NULL, FALSE, NULL, &error), ==, 1);
  g_assert_no_error (error);
  set_field (f, "bankruptcy", "yes");
  rows = recoup_browse_page (f->tb.book, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 1);
  row = g_ptr_array_index (rows, 0);
  g_assert_false (row->call_blocked);   /* not asked yet */
  g_assert_true (recoup_browse_check_calls (f->tb.book, rows, &error));
  g_assert_no_error (error);
  g_assert_true (row->call_blocked);
  g_assert_nonnull (row->call_reason);
  g_assert_nonnull (strstr (row->call_reason, "bankruptcy"));
  g_clear_pointer (&rows, g_ptr_array_unref);

  set_field (f, "bankruptcy", "no");
  set_field (f, "cease_communication", "yes");
  rows = recoup_browse_page (f->tb.book, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_browse_check_calls (f->tb.book, rows, &error));
  row = g_ptr_array_index (rows, 0);
  g_assert_true (row->cease_communication);
  g_assert_true (row->call_blocked);
}

/* A block that lifts by itself says when: the hours open, the 7 days after
 * a conversation end, the 7-day call cap frees a call; the guard itself then
 * allows it. A block that does not lift by itself says 0. */
static void
test_lifts_at (Fixture       *f,
               gconstpointer  data)
{
  set_field (f, "validation_notice_date", "2026-06-01");
  {
    g_autoptr(RecoupGuardVerdict) v = check (f, "call", "2026-06-10T22:00:00-04:00");
    g_assert_cmpint (recoup_guard_verdict_lifts_at (v), ==, instant ("2026-06-11T08:00:00-04:00"));
  }
  {
    g_autoptr(RecoupGuardVerdict) v = check (f, "email", "2026-06-10T07:15:00-04:00");
    g_assert_cmpint (recoup_guard_verdict_lifts_at (v), ==, instant ("2026-06-10T08:00:00-04:00"));
  }
  {
    /* Letters are not bound by the hours; an allowed verdict does not lift. */
    g_autoptr(RecoupGuardVerdict) v = check (f, "letter", "2026-06-10T22:00:00-04:00");
    g_assert_cmpint (v->verdict, ==, RECOUP_VERDICT_ALLOWED);
    g_assert_cmpint (recoup_guard_verdict_lifts_at (v), ==, 0);
  }

  /* Seven attempts on 06-04..06-10: the 06-04 one leaves the window on 06-11. */
  for (int d = 4; d <= 10; d++)
    {
      g_autofree char *at = g_strdup_printf ("2026-06-%02dT10:00:00-04:00", d);
      log_contact (f, "call", "no-answer", at);
    }
  {
    g_autoptr(RecoupGuardVerdict) v = check (f, "call", "2026-06-10T15:00:00-04:00");
    g_assert_true (has_reason (v, "call-frequency"));
    g_assert_cmpint (recoup_guard_verdict_lifts_at (v), ==, instant ("2026-06-11T00:00:00-04:00"));
  }
  assert_verdict (f, "call", "2026-06-11T08:00:00-04:00", RECOUP_VERDICT_ALLOWED, NULL);

  /* A conversation on 06-12: calls again on 06-19 (day 8), at 08:00. */
  log_contact (f, "call", "right-party", "2026-06-12T10:00:00-04:00");
  {
    g_autoptr(RecoupGuardVerdict) v = check (f, "call", "2026-06-13T12:00:00-04:00");
    g_assert_cmpint (recoup_guard_verdict_lifts_at (v), ==, instant ("2026-06-19T00:00:00-04:00"));
  }
  {
    /* Midnight is outside the hours: that lifts at 08:00. */
    g_autoptr(RecoupGuardVerdict) v = check (f, "call", "2026-06-19T00:00:00-04:00");
    g_assert_cmpint (recoup_guard_verdict_lifts_at (v), ==, instant ("2026-06-19T08:00:00-04:00"));
  }

  /* Cease communication never lifts by itself, whatever else lifts. */
  set_field (f, "cease_communication", "yes");
  {
    g_autoptr(RecoupGuardVerdict) v = check (f, "call", "2026-06-13T22:00:00-04:00");
    g_assert_cmpint (recoup_guard_verdict_lifts_at (v), ==, 0);
  }
}

static RecoupNextStep *
next_step (Fixture    *f,
           const char *action,
           const char *at)
{
  g_autoptr(GError) error = NULL;
  RecoupNextStep *step = recoup_next_step_get (f->tb.book, f->account, action, "the policy says so", instant (at),
                                               NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (step);
  return step;
}

/* The next step a user reads agrees with the guard: a step it blocks now is
 * never given as it is (default policy: "call" by call, "reminder email" by
 * e-mail, "letter" by letter). */
static void
test_next_step (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  set_field (f, "validation_notice_date", "2026-06-01");
  {
    /* Allowed: the step stands. */
    g_autoptr(RecoupNextStep) s = next_step (f, "call", "2026-06-10T12:00:00-04:00");
    g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_AS_PLANNED);
    g_assert_cmpstr (s->action, ==, "call");
    g_assert_cmpstr (s->channel, ==, "call");
    g_assert_cmpint (s->not_before, ==, 0);
  }
  {
    /* Not a contact: no guard to ask. */
    g_autoptr(RecoupNextStep) s = next_step (f, "wait, then call", "2026-06-10T23:00:00-04:00");
    g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_AS_PLANNED);
    g_assert_null (s->policy_channel);
    g_assert_cmpstr (s->action, ==, "wait, then call");
  }
  {
    /* 22:00 their time: tomorrow from 08:00. */
    g_autoptr(RecoupNextStep) s = next_step (f, "call", "2026-06-10T22:00:00-04:00");
    g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_LATER);
    g_assert_cmpstr (s->block_code, ==, "outside-hours");
    g_assert_cmpint (s->not_before, ==, instant ("2026-06-11T08:00:00-04:00"));
    g_assert_cmpint (s->not_before_days, ==, 1);
    g_assert_cmpstr (s->not_before_time, ==, "08:00");
    g_assert_cmpstr (s->action, ==, "call tomorrow from 08:00 their time");
  }
  {
    /* 07:15 their time (11:15 UTC): today from 08:00; e-mails keep hours too. */
    g_autoptr(RecoupNextStep) s = next_step (f, "reminder email", "2026-06-10T11:15:00Z");
    g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_LATER);
    g_assert_cmpstr (s->channel, ==, "email");
    g_assert_cmpint (s->not_before_days, ==, 0);
    g_assert_cmpstr (s->action, ==, "reminder email from 08:00 their time");
  }
  {
    /* Letters are not bound by the hours. */
    g_autoptr(RecoupNextStep) s = next_step (f, "letter", "2026-06-10T22:00:00-04:00");
    g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_AS_PLANNED);
  }

  /* A conversation on 06-12 closes calls until 06-19: today's step goes
   * by e-mail instead, open now. */
  log_contact (f, "call", "right-party", "2026-06-12T10:00:00-04:00");
  {
    g_autoptr(RecoupNextStep) s = next_step (f, "call about the broken promise", "2026-06-13T12:00:00-04:00");
    g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_INSTEAD);
    g_assert_cmpstr (s->block_code, ==, "recent-conversation");
    g_assert_cmpstr (s->channel, ==, "email");
    g_assert_cmpint (s->not_before, ==, 0);
    g_assert_cmpstr (s->action, ==, "e-mail instead of the call about the broken promise");
    g_assert_nonnull (strstr (s->reason, "no call until 2026-06-19: "));
  }
  {
    /* At night a letter goes now, as when calls are closed for good. */
    g_autoptr(RecoupNextStep) s = next_step (f, "call about the broken promise", "2026-06-13T23:00:00-04:00");
    g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_INSTEAD);
    g_assert_cmpstr (s->channel, ==, "letter");
  }
  /* No letter nor text message: at night, the e-mail in the morning, long
   * before calls open again. */
  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (recoup_guard_set_channel_opt_out (f->tb.book, f->account, (const char *[]) { "letter", "sms", "email" }[i],
                                                       TRUE, &error));
      g_assert_no_error (error);
      if (i == 1)
        {
          g_autoptr(RecoupNextStep) s = next_step (f, "call about the broken promise", "2026-06-13T23:00:00-04:00");
          g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_INSTEAD);
          g_assert_cmpstr (s->channel, ==, "email");
          g_assert_cmpint (s->not_before, ==, instant ("2026-06-14T08:00:00-04:00"));
          g_assert_cmpstr (s->action, ==, "e-mail instead of the call about the broken promise tomorrow from 08:00 their time");
        }
    }
  /* With no other channel open, the next call on 06-19 from 08:00. */
  {
    g_autoptr(RecoupNextStep) s = next_step (f, "call about the broken promise", "2026-06-13T12:00:00-04:00");
    g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_LATER);
    g_assert_cmpstr (s->policy_channel, ==, "call");
    g_assert_cmpstr (s->block_code, ==, "recent-conversation");
    g_assert_cmpint (s->not_before, ==, instant ("2026-06-19T08:00:00-04:00"));
    g_assert_cmpint (s->not_before_days, ==, 6);
    g_assert_cmpstr (s->not_before_date, ==, "2026-06-19");
    g_assert_cmpstr (s->action, ==, "call about the broken promise on 2026-06-19 from 08:00 their time");
  }
  for (guint i = 0; i < 3; i++)
    g_assert_true (recoup_guard_set_channel_opt_out (f->tb.book, f->account, (const char *[]) { "email", "letter", "sms" }[i],
                                                     FALSE, &error));

  /* Opted out of calls for good: the first channel allowed instead. */
  g_assert_true (recoup_guard_set_channel_opt_out (f->tb.book, f->account, "call", TRUE, &error));
  g_assert_no_error (error);
  {
    g_autoptr(RecoupNextStep) s = next_step (f, "call", "2026-06-13T12:00:00-04:00");
    g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_INSTEAD);
    g_assert_cmpstr (s->block_code, ==, "channel-opt-out");
    g_assert_cmpstr (s->channel, ==, "email");
    g_assert_cmpstr (s->action, ==, "e-mail instead of the call");
  }
  {
    /* At night only a letter goes now. */
    g_autoptr(RecoupNextStep) s = next_step (f, "call", "2026-06-13T23:00:00-04:00");
    g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_INSTEAD);
    g_assert_cmpstr (s->channel, ==, "letter");
    g_assert_cmpint (s->not_before, ==, 0);
  }
  g_assert_true (recoup_guard_set_channel_opt_out (f->tb.book, f->account, "call", FALSE, &error));

  /* No channel at all: say so, whatever the policy wanted. */
  set_field (f, "cease_communication", "yes");
  for (guint i = 0; i < 3; i++)
    {
      const char *actions[] = { "call", "reminder email", "letter" };
      g_autoptr(RecoupNextStep) s = next_step (f, actions[i], "2026-06-20T12:00:00-04:00");

      g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_NO_CONTACT);
      g_assert_cmpstr (s->block_code, ==, "cease-communication");
      g_assert_null (s->channel);
      g_assert_cmpstr (s->action, ==, "no contact: the debtor asked to cease communication");
    }
  set_field (f, "cease_communication", "no");
  set_field (f, "attorney_represented", "yes");
  {
    g_autoptr(RecoupNextStep) s = next_step (f, "call", "2026-06-20T22:00:00-04:00");
    g_assert_cmpint (s->kind, ==, RECOUP_NEXT_STEP_NO_CONTACT);
    g_assert_cmpstr (s->block_code, ==, "attorney-represented");
    g_assert_cmpstr (s->action, ==, "no contact: the debtor has an attorney");
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, zone, fn) g_test_add ("/recoup/core/guard/" path, Fixture, zone, fixture_setup, fn, fixture_teardown)
  ADD ("hours", "America/New_York", test_hours);
  ADD ("dst-new-york", "America/New_York", test_dst_new_york);
  ADD ("dst-berlin", "Europe/Berlin", test_dst_berlin);
  ADD ("different-zones", "America/Los_Angeles", test_different_zones);
  ADD ("call-frequency", "America/New_York", test_call_frequency);
  ADD ("call-window-dst", "America/New_York", test_call_window_dst);
  ADD ("conversation", "America/New_York", test_conversation);
  ADD ("unknown-zone", NULL, test_unknown_zone);
  ADD ("zone-without-region", NULL, test_zone_without_region);
  ADD ("cease-and-flags", "America/New_York", test_cease_and_flags);
  ADD ("opt-outs", "America/New_York", test_opt_outs);
  ADD ("opt-out-other-spelling", "America/New_York", test_opt_out_other_spelling);
  ADD ("opt-out-international-spelling", "Europe/Amsterdam", test_opt_out_international_spelling);
  ADD ("dispute", "America/New_York", test_dispute);
  ADD ("validation-notice", "America/New_York", test_validation_notice);
  ADD ("profiles", "America/New_York", test_profiles);
  ADD ("bad-input", "America/New_York", test_bad_input);
  ADD ("override-right", "America/New_York", test_override_right);
  ADD ("opt-out-survives-removal", "America/New_York", test_opt_out_survives_removal);
  ADD ("opted-out-value-stays", "America/New_York", test_opted_out_value_stays);
  ADD ("log-guarded", "America/New_York", test_log_guarded);
  ADD ("cli", "America/New_York", test_cli);
  ADD ("browse-page", "America/New_York", test_browse_page);
  ADD ("lifts-at", "America/New_York", test_lifts_at);
  ADD ("next-step", "America/New_York", test_next_step);
#undef ADD

  return g_test_run ();
}
