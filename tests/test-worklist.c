/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "recoup-book-private.h"
#include "recoup-test-util.h"

/* Worklist order, filters, paging, guard exclusions and saved worklists. */

#define TODAY "2026-06-15"
#define NOON_NY "2026-06-15T12:00:00-04:00"

typedef struct
{
  TestBook tb;
  char    *f, *p, *n, *l, *h1, *h2, *r, *x;
  char    *colin;
} Fixture;

static char *
debtor (Fixture    *fx,
        const char *ref,
        const char *due,
        gint64      amount,
        const char *tags)
{
  g_autoptr(GError) error = NULL;
  RecoupAccountSpec spec = { .ref = ref, .name = ref, .currency = "USD", .timezone = "America/New_York",
                             .tags = tags };
  char *id = recoup_account_create (fx->tb.book, &spec, &error);
  g_autofree char *inv = g_strdup_printf ("INV-%s", ref);

  g_assert_no_error (error);
  g_free (recoup_contact_add (fx->tb.book, id, RECOUP_CONTACT_PHONE, "+12125550100", "", TRUE, &error));
  g_assert_no_error (error);
  g_free (test_add_invoice (fx->tb.book, id, inv, "2026-01-01", due, amount, "USD"));
  return id;
}

static void
exec_touch (Fixture    *fx,
            const char *account,
            const char *sql)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (recoup_book_begin (fx->tb.book, &error));
  g_assert_true (recoup_book_exec (fx->tb.book, sql, &error));
  g_assert_no_error (error);
  recoup_book_touch_account (fx->tb.book, account);
  g_assert_true (recoup_book_commit (fx->tb.book, &error));
  g_assert_no_error (error);
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  RecoupPromiseSpec promise = { .amount = 1000, .due_date = TODAY, .grace_days = 0, .made_on = "2026-06-01" };
  RecoupActivitySpec call = { .channel = "call", .outcome = "no-answer" };
  gint64 ms = 0;

  test_book_open (&fx->tb);
  fx->colin = recoup_user_add (fx->tb.book, "Colin", "collector", 0, 0, FALSE, &error);
  g_assert_no_error (error);

  /* Old, large debts would outrank everything on score alone. */
  fx->h1 = debtor (fx, "H1", "2026-01-15", 900000, "vip");
  fx->h2 = debtor (fx, "H2", "2026-02-15", 300000, "");
  fx->f = debtor (fx, "F", "2026-05-01", 1000, "");
  fx->p = debtor (fx, "P", "2026-05-01", 2000, "");
  fx->n = debtor (fx, "N", "2026-06-12", 3000, "slow-payer,vip");
  fx->l = debtor (fx, "L", "2026-04-01", 4000, "");
  fx->r = debtor (fx, "R", "2026-01-01", 950000, "");
  fx->x = debtor (fx, "X", "2026-01-01", 990000, "");

  /* F: a follow-up due today. */
  sql = g_strdup_printf ("INSERT INTO follow_ups (id, account_id, due_at, created_at) VALUES ('fu1', '%s', %"
                         G_GINT64_FORMAT ", 0)", fx->f, (gint64) 1781517600000);  /* 2026-06-15T10:00Z */
  exec_touch (fx, fx->f, sql);
  g_clear_pointer (&sql, g_free);

  /* P: a promise due today. */
  promise.account_id = fx->p;
  g_free (recoup_promise_add (fx->tb.book, &promise, &error));
  g_assert_no_error (error);

  /* L: an accepted plan whose first installment (2026-06-01) was not paid;
   * made, sent and accepted, as the plan view replays its events. */
  sql = g_strdup_printf ("INSERT INTO offers (id, account_id, kind, currency, balance_at_offer, total, installments,"
                         " created_at) VALUES ('o1', '%s', 'plan', 'USD', 4000, 4000, 2, 0);"
                         "INSERT INTO offer_events (id, offer_id, event, hlc, device_id, at, day)"
                         " VALUES ('e0', 'o1', 'create', 1, 'd', 0, '2026-05-20'),"
                         " ('e1', 'o1', 'send', 2, 'd', 0, '2026-05-20'),"
                         " ('e2', 'o1', 'accept', 3, 'd', 0, '2026-05-20');"
                         "INSERT INTO installments (id, offer_id, seq, due_date, amount)"
                         " VALUES ('i1', 'o1', 1, '2026-06-01', 2000), ('i2', 'o1', 2, '2026-07-01', 2000);",
                         fx->l);
  exec_touch (fx, fx->l, sql);

  /* R: called yesterday, so it is not due for another contact. */
  g_assert_true (recoup_instant_parse ("2026-06-14T15:00:00Z", &ms, &error));
  call.account_id = fx->r;
  call.at = ms;
  g_free (recoup_activity_log (fx->tb.book, &call, &error));
  g_assert_no_error (error);

  /* X: asked to cease communication: the guard blocks it. */
  g_assert_true (recoup_account_set (fx->tb.book, fx->x, "cease_communication", "yes", &error));
  g_assert_true (recoup_account_set (fx->tb.book, fx->h2, "assigned_to", "Colin", &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  g_free (fx->f); g_free (fx->p); g_free (fx->n); g_free (fx->l);
  g_free (fx->h1); g_free (fx->h2); g_free (fx->r); g_free (fx->x);
  g_free (fx->colin);
  test_book_close (&fx->tb);
}

static RecoupWorklist *
build (Fixture              *fx,
       RecoupWorklistFilter *f)
{
  g_autoptr(GError) error = NULL;
  RecoupWorklist *wl;

  if (f->at == 0)
    g_assert_true (recoup_instant_parse (NOON_NY, &f->at, &error));
  wl = recoup_worklist_build (fx->tb.book, f, &error);
  g_assert_no_error (error);
  g_assert_nonnull (wl);
  return wl;
}

static char *
refs (RecoupWorklist *wl)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < wl->items->len; i++)
    g_string_append_printf (s, "%s%s", i ? "," : "", ((RecoupWorklistItem *) wl->items->pdata[i])->ref);
  return g_string_free (s, FALSE);
}

static void
test_order (Fixture       *fx,
            gconstpointer  data)
{
  RecoupWorklistFilter f = { 0 };
  g_autoptr(RecoupWorklist) wl = build (fx, &f);
  g_autofree char *order = refs (wl);
  RecoupWorklistItem *first;

  /* Follow-up, promise, fresh delinquency, missed installment, then by score;
   * X (cease communication: no one may contact it) and R (contacted
   * yesterday) wait after them all. Without a channel every account is
   * listed. */
  g_assert_cmpstr (order, ==, "F,P,N,L,H1,H2,X,R");
  first = wl->items->pdata[0];
  g_assert_cmpstr (first->queue_reason, ==, "follow-up due");
  g_assert_false (first->waits);
  g_assert_true (((RecoupWorklistItem *) wl->items->pdata[6])->waits);
  g_assert_true (((RecoupWorklistItem *) wl->items->pdata[7])->waits);
  g_assert_cmpuint (wl->n_blocked, ==, 0);
  g_assert_false (wl->has_more);

  /* For calls, X is left out. */
  {
    RecoupWorklistFilter calls = { .channel = "call" };
    g_autoptr(RecoupWorklist) wc = build (fx, &calls);
    g_autofree char *call_order = refs (wc);

    g_assert_cmpstr (call_order, ==, "F,P,N,L,H1,H2,R");
    g_assert_cmpuint (wc->n_blocked, ==, 1);
    g_assert_cmpuint (wc->blocked->len, ==, 1);
    g_assert_cmpstr (((RecoupWorklistBlock *) wc->blocked->pdata[0])->code, ==, "cease-communication");
  }
}

static void
test_filters (Fixture       *fx,
              gconstpointer  data)
{
  {
    RecoupWorklistFilter f = { .collector = "Colin" };
    g_autoptr(RecoupWorklist) wl = build (fx, &f);
    g_autofree char *order = refs (wl);
    g_assert_cmpstr (order, ==, "H2");
  }
  {
    /* N's tags are kept as "slow-payer, vip": any of them filters. */
    RecoupWorklistFilter f = { .tag = "vip" };
    g_autoptr(RecoupWorklist) wl = build (fx, &f);
    g_autofree char *order = refs (wl);
    g_assert_cmpstr (order, ==, "N,H1");
  }
  {
    RecoupWorklistFilter f = { .tag = "slow-payer" };
    g_autoptr(RecoupWorklist) wl = build (fx, &f);
    g_autofree char *order = refs (wl);
    g_assert_cmpstr (order, ==, "N");
  }
  {
    RecoupWorklistFilter f = { .min_balance = 300000 };
    g_autoptr(RecoupWorklist) wl = build (fx, &f);
    g_autofree char *order = refs (wl);
    g_assert_cmpstr (order, ==, "H1,H2,X,R");
  }
  {
    RecoupWorklistFilter f = { .segment = "low" };
    g_autoptr(RecoupWorklist) wl = build (fx, &f);
    for (guint i = 0; i < wl->items->len; i++)
      g_assert_cmpstr (((RecoupWorklistItem *) wl->items->pdata[i])->segment, ==, "low");
    g_assert_cmpuint (wl->items->len, >, 0);
  }
  {
    RecoupWorklistFilter f = { .timezone = "Europe/Berlin" };
    g_autoptr(RecoupWorklist) wl = build (fx, &f);
    g_assert_cmpuint (wl->items->len, ==, 0);
  }
  {
    /* By letter, the cease-communication account is a permitted notice (warn). */
    RecoupWorklistFilter f = { .channel = "letter", .min_balance = 950000 };
    g_autoptr(RecoupWorklist) wl = build (fx, &f);
    g_autofree char *order = refs (wl);
    g_assert_cmpstr (order, ==, "X,R");
    g_assert_cmpint (((RecoupWorklistItem *) wl->items->pdata[0])->verdict, ==, RECOUP_VERDICT_WARN);
  }
  {
    /* At 22:00 in New York every call is blocked. */
    RecoupWorklistFilter f = { .channel = "call" };
    g_autoptr(RecoupWorklist) wl = NULL;

    g_assert_true (recoup_instant_parse ("2026-06-15T22:00:00-04:00", &f.at, NULL));
    wl = build (fx, &f);
    g_assert_cmpuint (wl->items->len, ==, 0);
    g_assert_cmpuint (wl->n_blocked, ==, 8);
    g_assert_cmpstr (((RecoupWorklistBlock *) wl->blocked->pdata[0])->code, ==, "outside-hours");
  }
}

static void
test_paging (Fixture       *fx,
             gconstpointer  data)
{
  RecoupWorklistFilter f = { .limit = 4 };
  g_autoptr(RecoupWorklist) p1 = build (fx, &f);
  g_autoptr(RecoupWorklist) p2 = NULL;
  g_autofree char *o1 = refs (p1), *o2 = NULL;

  g_assert_cmpstr (o1, ==, "F,P,N,L");
  g_assert_true (p1->has_more);
  f.offset = 4;
  p2 = build (fx, &f);
  o2 = refs (p2);
  g_assert_cmpstr (o2, ==, "H1,H2,X,R");
  g_assert_false (p2->has_more);
}

/* Work moves an account down the list: a payment in full removes it. */
static void
test_follows_writes (Fixture       *fx,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupEntrySpec pay = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = fx->n, .amount = 3000,
                          .effective_date = TODAY, .method = "cash" };
  RecoupWorklistFilter f = { 0 };
  g_autoptr(RecoupWorklist) wl = NULL;
  g_autofree char *order = NULL;

  g_free (recoup_ledger_record (fx->tb.book, &pay, &error));
  g_assert_no_error (error);
  wl = build (fx, &f);
  order = refs (wl);
  g_assert_cmpstr (order, ==, "F,P,L,H1,H2,X,R");
}

static void
test_saved (Fixture       *fx,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupWorklistFilter f = { .tag = "vip", .min_balance = 5000 };
  RecoupWorklistFilter loaded = { 0 };
  g_auto(GStrv) strings = NULL, names = NULL;
  gint64 changes;

  g_assert_true (recoup_worklist_save (fx->tb.book, "big-vips", &f, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_worklist_load_saved (fx->tb.book, "big-vips", &loaded, &strings, &error));
  g_assert_cmpstr (loaded.tag, ==, "vip");
  g_assert_cmpint (loaded.min_balance, ==, 5000);
  {
    g_autoptr(RecoupWorklist) wl = build (fx, &loaded);
    g_autofree char *order = refs (wl);
    g_assert_cmpstr (order, ==, "H1");
  }
  names = recoup_worklist_list_saved (fx->tb.book);
  g_assert_cmpuint (g_strv_length (names), ==, 1);
  g_assert_cmpstr (names[0], ==, "big-vips");

  changes = recoup_book_count_changes (fx->tb.book);
  g_assert_false (recoup_worklist_save (fx->tb.book, "bad name!", &f, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  f.segment = "urgent";
  g_assert_false (recoup_worklist_save (fx->tb.book, "x", &f, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (recoup_book_count_changes (fx->tb.book), ==, changes);
  g_assert_false (recoup_worklist_load_saved (fx->tb.book, "nope", &loaded, &strings, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
}

static void
test_bad_filters (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupWorklistFilter f = { .channel = "pigeon" };

  g_assert_null (recoup_worklist_build (fx->tb.book, &f, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
  g_clear_error (&error);
  f.channel = NULL;
  f.collector = "nobody";
  g_assert_null (recoup_worklist_build (fx->tb.book, &f, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  f.collector = NULL;
  f.timezone = "Nowhere/Land";
  g_assert_null (recoup_worklist_build (fx->tb.book, &f, &error));
  g_assert_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID);
}

/* The CLI prints the same queue. */
static void
test_cli (Fixture       *fx,
          gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *accounts;
  int status = 0;
  const char *argv[] = { NULL, "--book", fx->tb.path, "--json", "worklist", "--limit", "3",
                         "--at", NOON_NY, NULL };

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  argv[0] = cli;
  g_clear_object (&fx->tb.book);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  accounts = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "accounts");
  g_assert_cmpuint (json_array_get_length (accounts), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (accounts, 0), "ref"), ==, "F");
}

/* W owes the most and is old, but a promise it made is not due yet: its step
 * is to wait, so H2 (less owed, an agency review due) comes first. */
static char *
add_waiting_debtor (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  char *w = debtor (fx, "W", "2026-01-01", 980000, "");
  RecoupPromiseSpec promise = { .account_id = w, .amount = 1000, .due_date = "2026-06-20", .grace_days = 0,
                                .made_on = "2026-06-10" };

  g_free (recoup_promise_add (fx->tb.book, &promise, &error));
  g_assert_no_error (error);
  return w;
}

static guint
position (RecoupWorklist *wl,
          const char     *ref)
{
  for (guint i = 0; i < wl->items->len; i++)
    if (g_strcmp0 (((RecoupWorklistItem *) wl->items->pdata[i])->ref, ref) == 0)
      return i;
  g_error ("%s is not in the worklist", ref);
  return 0;
}

static void
test_work_first (Fixture       *fx,
                 gconstpointer  data)
{
  g_autofree char *w = add_waiting_debtor (fx);
  RecoupWorklistFilter f = { 0 };
  g_autoptr(RecoupWorklist) wl = build (fx, &f);
  RecoupWorklistItem *wi = wl->items->pdata[position (wl, "W")];
  RecoupWorklistItem *h2 = wl->items->pdata[position (wl, "H2")];

  g_assert_cmpint (wi->score, >, h2->score);
  g_assert_cmpint (wi->queue_rank, >, h2->queue_rank);   /* the queue rank of waiting */
  g_assert_true (wi->waits);
  g_assert_false (h2->waits);
  g_assert_cmpstr (wi->next_step->policy_reason_code, ==, "promise-due");
  g_assert_cmpuint (position (wl, "W"), >, position (wl, "H2"));
  /* The waiting part keeps the queue order: by score. */
  g_assert_cmpuint (position (wl, "W"), <, position (wl, "R"));
  g_assert_cmpuint (position (wl, "R"), ==, wl->items->len - 1);

  /* So does a worklist for one channel, and a page boundary between them. */
  {
    RecoupWorklistFilter calls = { .channel = "call", .limit = 6 };
    g_autoptr(RecoupWorklist) p1 = build (fx, &calls);
    g_autoptr(RecoupWorklist) p2 = NULL;
    g_autofree char *o1 = refs (p1), *o2 = NULL;

    g_assert_cmpstr (o1, ==, "F,P,N,L,H1,H2");
    g_assert_true (p1->has_more);
    calls.offset = 6;
    p2 = build (fx, &calls);
    o2 = refs (p2);
    g_assert_cmpstr (o2, ==, "W,R");
  }
}

static JsonArray *
cli_accounts (Fixture     *fx,
              const char  *limit,
              JsonParser  *parser)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  const char *argv[] = { cli, "--book", fx->tb.path, "--json", "worklist", "--limit", limit, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  return json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "accounts");
}

/* `recoup-cli worklist --json` puts W after H2 too, and says it waits. */
static void
test_cli_work_first (Fixture       *fx,
                     gconstpointer  data)
{
  g_autofree char *w = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *accounts;
  guint at_w = G_MAXUINT, at_h2 = G_MAXUINT;

  if (g_getenv ("RECOUP_CLI") == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  w = add_waiting_debtor (fx);
  g_clear_object (&fx->tb.book);
  accounts = cli_accounts (fx, "20", parser);
  for (guint i = 0; i < json_array_get_length (accounts); i++)
    {
      JsonObject *a = json_array_get_object_element (accounts, i);
      const char *ref = json_object_get_string_member (a, "ref");

      if (g_str_equal (ref, "W"))
        {
          at_w = i;
          g_assert_true (json_object_get_boolean_member (a, "waits"));
        }
      else if (g_str_equal (ref, "H2"))
        {
          at_h2 = i;
          g_assert_false (json_object_get_boolean_member (a, "waits"));
        }
    }
  g_assert_cmpuint (at_h2, <, at_w);
  g_assert_cmpuint (at_w, <, json_array_get_length (accounts));
}

/* The app's list (recoup_browse_page() without a search, read by the queue
 * index) and `recoup-cli worklist` by default give the same rows in the same
 * order, for the same book at the same time. */
static void
test_app_and_cli_agree (Fixture       *fx,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *w = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) tail = NULL;
  JsonArray *accounts;

  if (g_getenv ("RECOUP_CLI") == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  w = add_waiting_debtor (fx);
  g_assert_true (recoup_score_ensure_current (fx->tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_browse_prepare (fx->tb.book, NULL, TRUE, NULL, &error), >=, 0);
  g_assert_no_error (error);
  rows = recoup_browse_page (fx->tb.book, 0, 50, &error);
  g_assert_no_error (error);
  accounts = cli_accounts (fx, "50", parser);
  g_assert_cmpuint (rows->len, ==, 9);
  g_assert_cmpuint (json_array_get_length (accounts), ==, rows->len);
  for (guint i = 0; i < rows->len; i++)
    g_assert_cmpstr (((RecoupBrowseRow *) rows->pdata[i])->id, ==,
                     json_object_get_string_member (json_array_get_object_element (accounts, i), "id"));

  /* A page that starts past the accounts with work now starts in the right
   * place among those that wait. */
  tail = recoup_browse_page (fx->tb.book, rows->len - 1, 50, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tail->len, ==, 1);
  g_assert_cmpstr (((RecoupBrowseRow *) tail->pdata[0])->id, ==,
                   ((RecoupBrowseRow *) rows->pdata[rows->len - 1])->id);
}

static RecoupWorklistItem *
find_item (RecoupWorklist *wl,
           const char     *ref)
{
  for (guint i = 0; i < wl->items->len; i++)
    if (g_strcmp0 (((RecoupWorklistItem *) wl->items->pdata[i])->ref, ref) == 0)
      return wl->items->pdata[i];
  g_error ("%s is not in the worklist", ref);
  return NULL;
}

/* The next step agrees with the guard at the worklist's instant: L's policy
 * step is a call about its missed installment, N's a reminder e-mail. */
static void
test_next_step (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  {
    /* At noon in New York both may be taken as they are. */
    RecoupWorklistFilter wf = { 0 };
    g_autoptr(RecoupWorklist) wl = build (f, &wf);
    RecoupWorklistItem *l = find_item (wl, "L"), *n = find_item (wl, "N");

    g_assert_cmpstr (l->next_action, ==, "call about the missed installment");
    g_assert_cmpint (l->next_step->kind, ==, RECOUP_NEXT_STEP_AS_PLANNED);
    g_assert_cmpstr (n->next_action, ==, "reminder email");
  }
  {
    /* At 22:00 a letter worklist lists them, but the call and the e-mail
     * wait for 08:00 their time tomorrow. */
    RecoupWorklistFilter wf = { .channel = "letter" };
    g_autoptr(RecoupWorklist) wl = NULL;
    RecoupWorklistItem *l, *n;

    g_assert_true (recoup_instant_parse ("2026-06-15T22:00:00-04:00", &wf.at, NULL));
    wl = build (f, &wf);
    l = find_item (wl, "L");
    n = find_item (wl, "N");
    g_assert_cmpint (l->next_step->kind, ==, RECOUP_NEXT_STEP_LATER);
    g_assert_cmpstr (l->next_step->policy_action, ==, "call about the missed installment");
    g_assert_cmpstr (l->next_step->block_code, ==, "outside-hours");
    g_assert_cmpstr (l->next_action, ==, "call about the missed installment tomorrow from 08:00 their time");
    g_assert_nonnull (strstr (l->next_action_reason, "not now"));
    g_assert_cmpint (n->next_step->kind, ==, RECOUP_NEXT_STEP_LATER);
    g_assert_cmpstr (n->next_action, ==, "reminder email tomorrow from 08:00 their time");
  }

  /* L asks to cease communication: a letter is only a permitted notice, so
   * nothing of the policy's is allowed. */
  g_assert_true (recoup_account_set (f->tb.book, f->l, "cease_communication", "yes", &error));
  g_assert_no_error (error);
  {
    RecoupWorklistFilter wf = { .channel = "letter" };
    g_autoptr(RecoupWorklist) wl = build (f, &wf);
    RecoupWorklistItem *l = find_item (wl, "L");

    g_assert_cmpint (l->verdict, ==, RECOUP_VERDICT_WARN);
    g_assert_cmpint (l->next_step->kind, ==, RECOUP_NEXT_STEP_NO_CONTACT);
    g_assert_cmpstr (l->next_step->block_code, ==, "cease-communication");
    g_assert_null (strstr (l->next_action, "call"));
    g_assert_cmpstr (l->next_action, ==, "no contact: the debtor asked to cease communication");
  }
  g_assert_true (recoup_account_set (f->tb.book, f->l, "cease_communication", "no", &error));

  /* L opts out of calls and gives an e-mail address: an e-mail instead. */
  g_assert_true (recoup_guard_set_channel_opt_out (f->tb.book, f->l, "call", TRUE, &error));
  g_free (recoup_contact_add (f->tb.book, f->l, RECOUP_CONTACT_EMAIL, "l@example.com", "", TRUE, &error));
  g_assert_no_error (error);
  {
    RecoupWorklistFilter wf = { .channel = "email" };
    g_autoptr(RecoupWorklist) wl = build (f, &wf);
    RecoupWorklistItem *l = find_item (wl, "L");

    g_assert_cmpint (l->next_step->kind, ==, RECOUP_NEXT_STEP_INSTEAD);
    g_assert_cmpstr (l->next_step->channel, ==, "email");
    g_assert_cmpstr (l->next_action, ==, "e-mail instead of the call about the missed installment");
  }
}

/* The app's list asks the same guard for the rows of a page, now. */
static void
test_browse_next_step (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  RecoupBrowseRow *l = NULL, *n = NULL;

  /* Any hour is a lawful one here, so the test runs at any time. */
  g_assert_true (recoup_guard_set_rule (f->tb.book, "hours_start", "00:00", &error));
  g_assert_true (recoup_book_set_setting (f->tb.book, "guard.hours_end", "1440", &error));
  g_assert_true (recoup_account_set (f->tb.book, f->l, "attorney_represented", "yes", &error));
  g_assert_no_error (error);
  g_assert_cmpint (recoup_browse_prepare (f->tb.book, NULL, TRUE, NULL, &error), ==, 8);
  rows = recoup_browse_page (f->tb.book, 0, 10, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < rows->len; i++)
    {
      RecoupBrowseRow *row = g_ptr_array_index (rows, i);

      if (g_str_equal (row->ref, "L"))
        l = row;
      else if (g_str_equal (row->ref, "N"))
        n = row;
      g_assert_null (row->next_step);   /* not asked yet */
    }
  g_assert_cmpstr (l->next_action, ==, "call about the missed installment");
  g_assert_true (recoup_browse_check_calls (f->tb.book, rows, &error));
  g_assert_no_error (error);
  g_assert_true (l->call_blocked);
  g_assert_cmpint (l->next_step->kind, ==, RECOUP_NEXT_STEP_NO_CONTACT);
  g_assert_cmpstr (l->next_step->block_code, ==, "attorney-represented");
  g_assert_cmpint (n->next_step->kind, ==, RECOUP_NEXT_STEP_AS_PLANNED);
  g_assert_cmpstr (n->next_step->action, ==, "reminder email");
}

/* recoup-cli worklist gives the same steps, with what the policy wanted. */
static void
test_cli_next_step (Fixture       *f,
                    gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *accounts;
  JsonObject *l = NULL, *step;
  int status = 0;
  const char *argv[] = { NULL, "--book", f->tb.path, "--json", "worklist", "--channel", "letter",
                         "--at", "2026-06-15T22:00:00-04:00", NULL };
  const char *table_argv[] = { NULL, "--book", f->tb.path, "worklist", "--channel", "letter",
                               "--at", "2026-06-15T22:00:00-04:00", NULL };

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  argv[0] = table_argv[0] = cli;
  g_clear_object (&f->tb.book);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  accounts = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "accounts");
  for (guint i = 0; i < json_array_get_length (accounts); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (accounts, i), "ref"), "L") == 0)
      l = json_array_get_object_element (accounts, i);
  g_assert_nonnull (l);
  g_assert_cmpstr (json_object_get_string_member (l, "next_action"), ==,
                   "call about the missed installment tomorrow from 08:00 their time");
  step = json_object_get_object_member (l, "next_step");
  g_assert_cmpstr (json_object_get_string_member (step, "kind"), ==, "later");
  g_assert_cmpstr (json_object_get_string_member (step, "policy_action"), ==, "call about the missed installment");
  g_assert_cmpstr (json_object_get_string_member (step, "blocked_by"), ==, "outside-hours");
  g_assert_cmpstr (json_object_get_string_member (step, "not_before"), ==, "2026-06-16T12:00:00Z");

  /* The table never reads the bare call. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_true (g_spawn_sync (NULL, (char **) table_argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "call about the missed installment tomorrow from 08:00 their time"));
  g_assert_null (strstr (out, "call about the missed installment\n"));
}

/* N is 3 days past due under the default policy; its reason in words. */
#define N_REASON "3 days past due: the policy's step from day 1 is reminder email (e-mail)"

static RecoupBrowseRow *
find_row (GPtrArray  *rows,
          const char *ref)
{
  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (((RecoupBrowseRow *) rows->pdata[i])->ref, ref) == 0)
      return rows->pdata[i];
  g_error ("%s is not on the page", ref);
  return NULL;
}

/* The app's list: the first page, its rows' steps asked of the guard. */
static GPtrArray *
browse_checked (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;

  g_assert_cmpint (recoup_browse_prepare (f->tb.book, NULL, TRUE, NULL, &error), >, 0);
  rows = recoup_browse_page (f->tb.book, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_true (recoup_browse_check_calls (f->tb.book, rows, &error));
  g_assert_no_error (error);
  return rows;
}

/* account_stats keeps a reason code; the worklist, the list's rows and the
 * account page (its explanation's step, as the app's session reads it) all
 * read it in words. */
static void
test_reason_words (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM account_stats WHERE account_id = '%s'"
                                          " AND next_action_reason = 'policy-step:3:1:email:0:reminder email'",
                                          f->n);

  g_assert_cmpint (test_query_int (f->tb.path, sql), ==, 1);
  {
    RecoupWorklistFilter wf = { 0 };
    g_autoptr(RecoupWorklist) wl = build (f, &wf);
    RecoupWorklistItem *l = find_item (wl, "L"), *n = find_item (wl, "N");

    g_assert_cmpstr (n->next_action_reason, ==, N_REASON);
    g_assert_cmpstr (n->next_step->policy_reason, ==, N_REASON);
    g_assert_cmpstr (n->next_step->policy_reason_code, ==, "policy-step");
    g_assert_cmpstr (l->next_action_reason, ==, "a payment-plan installment was missed");
    g_assert_cmpstr (l->next_step->policy_reason_code, ==, "installment-missed");
  }
  {
    /* At 22:00 the step waits; the guard's rule follows the words. */
    RecoupWorklistFilter wf = { .channel = "letter" };
    g_autoptr(RecoupWorklist) wl = NULL;

    g_assert_true (recoup_instant_parse ("2026-06-15T22:00:00-04:00", &wf.at, NULL));
    wl = build (f, &wf);
    g_assert_true (g_str_has_prefix (find_item (wl, "L")->next_action_reason,
                                     "a payment-plan installment was missed; not now: "));
  }

  g_assert_true (recoup_guard_set_rule (f->tb.book, "hours_start", "00:00", &error));
  g_assert_true (recoup_book_set_setting (f->tb.book, "guard.hours_end", "1440", &error));
  g_assert_no_error (error);
  {
    g_autoptr(GPtrArray) rows = browse_checked (f);

    g_assert_cmpstr (find_row (rows, "N")->next_step->reason, ==, N_REASON);
  }
  {
    g_autoptr(RecoupScoreExplanation) ex = recoup_score_explain (f->tb.book, f->n, &error);
    g_autoptr(RecoupNextStep) step = NULL;

    g_assert_no_error (error);
    step = recoup_next_step_get (f->tb.book, f->n, ex->next_action, ex->next_action_reason, 0, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (step->reason, ==, N_REASON);
  }
}

/* A book from before reason codes keeps English sentences in account_stats:
 * read as they are until the book's derived data is rebuilt, which the
 * signature of its derived data asks for. */
static void
test_legacy_reason (Fixture       *f,
                    gconstpointer  data)
{
  const char *legacy = "3 days past due: the policy's step at 1 days is reminder email (email)";
  g_autoptr(GError) error = NULL;
  char *sql = sqlite3_mprintf ("UPDATE account_stats SET next_action_reason = %Q WHERE account_id = %Q",
                               legacy, f->n);
  g_autofree char *coded = g_strdup_printf ("SELECT count(*) FROM account_stats WHERE account_id = '%s'"
                                            " AND next_action_reason = 'policy-step:3:1:email:0:reminder email'",
                                            f->n);

  g_assert_true (recoup_guard_set_rule (f->tb.book, "hours_start", "00:00", &error));
  g_assert_true (recoup_book_set_setting (f->tb.book, "guard.hours_end", "1440", &error));
  /* Current, so that nothing rebuilds the row written next. */
  g_assert_true (recoup_score_ensure_current (f->tb.book, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (recoup_book_exec (f->tb.book, sql, &error));
  g_assert_no_error (error);
  sqlite3_free (sql);
  {
    RecoupWorklistFilter wf = { 0 };
    g_autoptr(RecoupWorklist) wl = build (f, &wf);
    g_autoptr(GPtrArray) rows = browse_checked (f);
    RecoupWorklistItem *n = find_item (wl, "N");

    g_assert_cmpstr (n->next_action_reason, ==, legacy);
    g_assert_null (n->next_step->policy_reason_code);
    g_assert_cmpstr (find_row (rows, "N")->next_step->reason, ==, legacy);
  }

  /* What the previous version signed its derived data with (default
   * settings): not the current form, so the next read rebuilds it. */
  g_assert_true (recoup_book_set_setting (f->tb.book, "derived.signature",
                                          "30,20,10,15,10,5,10,6000,3000,500000,10000000;;", &error));
  g_assert_no_error (error);
  g_assert_false (recoup_score_is_current (f->tb.book));
  {
    RecoupWorklistFilter wf = { 0 };
    g_autoptr(RecoupWorklist) wl = build (f, &wf);

    g_assert_cmpstr (find_item (wl, "N")->next_action_reason, ==, N_REASON);
  }
  g_assert_true (recoup_score_is_current (f->tb.book));
  g_assert_cmpint (test_query_int (f->tb.path, coded), ==, 1);
}

/* The JSON object recoup-cli prints for @argv, or for account @ref in its
 * "accounts". */
static JsonObject *
cli_json_account (const char **argv,
                  const char  *ref)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonArray *accounts;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  root = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (root, "accounts"))
    return json_object_ref (root);
  accounts = json_object_get_array_member (root, "accounts");
  for (guint i = 0; i < json_array_get_length (accounts); i++)
    {
      JsonObject *account = json_array_get_object_element (accounts, i);

      if (g_strcmp0 (json_object_get_string_member (account, "ref"), ref) == 0)
        return json_object_ref (account);
    }
  g_error ("%s is not in the worklist", ref);
  return NULL;
}

/* recoup-cli gives the words and, for scripts, the reason's code. */
static void
test_cli_reason_words (Fixture       *f,
                       gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  const char *worklist_argv[] = { cli, "--book", f->tb.path, "--json", "worklist", "--at", NOON_NY, NULL };
  const char *explain_argv[] = { cli, "--book", f->tb.path, "--json", "explain", "N", "--at", NOON_NY, NULL };
  const char **runs[] = { worklist_argv, explain_argv };

  if (cli == NULL)
    {
      g_test_skip ("RECOUP_CLI is not set");
      return;
    }
  g_clear_object (&f->tb.book);
  for (guint r = 0; r < G_N_ELEMENTS (runs); r++)
    {
      g_autoptr(JsonObject) n = cli_json_account (runs[r], "N");

      g_assert_cmpstr (json_object_get_string_member (n, "next_action_reason"), ==, N_REASON);
      g_assert_cmpstr (json_object_get_string_member (n, "next_action_reason_code"), ==, "policy-step");
    }
}

/* ---- search ------------------------------------------------------------ */

static char *
search_account (RecoupBook  *book,
                const char  *name,
                const char  *ref,
                gint64       amount,
                const char  *phone,
                const char  *email,
                char       **out_phone_id)
{
  g_autoptr(GError) error = NULL;
  RecoupAccountSpec spec = { .ref = ref, .name = name, .currency = "USD", .timezone = "America/New_York" };
  g_autofree char *inv = g_strdup_printf ("INV-%s", ref);
  char *id = recoup_account_create (book, &spec, &error);
  char *phone_id = NULL;

  g_assert_no_error (error);
  if (phone != NULL)
    {
      phone_id = recoup_contact_add (book, id, RECOUP_CONTACT_PHONE, phone, "", TRUE, &error);
      g_assert_no_error (error);
    }
  if (email != NULL)
    {
      g_free (recoup_contact_add (book, id, RECOUP_CONTACT_EMAIL, email, "", TRUE, &error));
      g_assert_no_error (error);
    }
  g_free (test_add_invoice (book, id, inv, "2026-01-01", "2026-03-01", amount, "USD"));
  if (out_phone_id != NULL)
    *out_phone_id = phone_id;
  else
    g_free (phone_id);
  return id;
}

/* The names the app's list shows for @search, in its order, joined by "|". */
static char *
search_names (RecoupBook *book,
              const char *search)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  g_auto(GStrv) v = NULL;
  gint64 n = recoup_browse_prepare (book, search, FALSE, NULL, &error);

  g_assert_no_error (error);
  rows = recoup_browse_page (book, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, rows->len);
  for (guint i = 0; i < rows->len; i++)
    g_strv_builder_add (names, ((RecoupBrowseRow *) rows->pdata[i])->name);
  v = g_strv_builder_end (names);
  return g_strjoinv ("|", v);
}

#define assert_search(book, search, expected) \
  G_STMT_START { \
    g_autofree char *found_ = search_names ((book), (search)); \
    if (g_strcmp0 (found_, (expected)) != 0) \
      g_error ("search “%s” found “%s”, expected “%s”", (search), found_, (expected)); \
  } G_STMT_END

/* A found account reads as it does in the list: its priority and the
 * policy's next step come with it (search rows had neither). */
static void
test_search_row_has_next_step (void)
{
  TestBook tb;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autofree char *a = NULL;
  RecoupBrowseRow *row;

  test_book_open (&tb);
  a = search_account (tb.book, "Panadería Álvarez", "PAN-1", 50000, "(512) 555-0119", NULL, NULL);
  g_assert_cmpint (recoup_browse_prepare (tb.book, "555-0119", FALSE, NULL, &error), ==, 1);
  g_assert_no_error (error);
  rows = recoup_browse_page (tb.book, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 1);
  row = g_ptr_array_index (rows, 0);
  g_assert_cmpstr (row->id, ==, a);
  g_assert_nonnull (row->segment);
  g_assert_nonnull (row->next_action);
  g_assert_nonnull (row->next_action_reason);
  test_book_close (&tb);
}

/* A collector types the number the debtor calls from in whatever shape, and
 * names without their accents. */
static void
test_search_phone_and_accents (void)
{
  TestBook tb;
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

  test_book_open (&tb);
  a = search_account (tb.book, "Panadería Álvarez", "PAN-1", 50000, "(512) 555-0119",
                      "pedidos@panaderia.example", NULL);
  b = search_account (tb.book, "Birgit Schäfer", "BS-1", 40000, "+49 30 1234567", NULL, NULL);
  c = search_account (tb.book, "Schafer Supply Co.", "SSC-1", 30000, "+1 212 555 0100", NULL, NULL);
  d = search_account (tb.book, "Łukasz Ørsted", "LO-1", 20000, NULL, "Lukasz.Orsted@Example.org", NULL);

  /* Phone numbers by their digits. */
  assert_search (tb.book, "(512) 555-0119", "Panadería Álvarez");
  assert_search (tb.book, "5125550119", "Panadería Álvarez");
  assert_search (tb.book, "512-555-0119", "Panadería Álvarez");
  assert_search (tb.book, "512.555.0119", "Panadería Álvarez");
  assert_search (tb.book, "555-0119", "Panadería Álvarez");
  assert_search (tb.book, "0119", "Panadería Álvarez");
  assert_search (tb.book, "+1 512 555 0119", "Panadería Álvarez");
  assert_search (tb.book, "1-512-555-0119", "Panadería Álvarez");
  /* Stored with the country code, typed without it, and the other way. */
  assert_search (tb.book, "(212) 555-0100", "Schafer Supply Co.");
  assert_search (tb.book, "+12125550100", "Schafer Supply Co.");
  assert_search (tb.book, "30 1234567", "Birgit Schäfer");
  assert_search (tb.book, "+49 30 1234567", "Birgit Schäfer");
  /* Every digit counts. */
  assert_search (tb.book, "512-555-0118", "");
  assert_search (tb.book, "5125550119 9", "");
  assert_search (tb.book, "555-01199", "");
  /* Fewer than four digits is text: the start of a stored number. */
  assert_search (tb.book, "119", "");
  assert_search (tb.book, "(51", "Panadería Álvarez");

  /* Names without accents, in any case, from any word. */
  assert_search (tb.book, "Panaderia Alvarez", "Panadería Álvarez");
  assert_search (tb.book, "PANADERÍA álvarez", "Panadería Álvarez");
  assert_search (tb.book, "alvarez", "Panadería Álvarez");
  assert_search (tb.book, "Schafer", "Birgit Schäfer|Schafer Supply Co.");
  assert_search (tb.book, "schäfer", "Birgit Schäfer|Schafer Supply Co.");
  assert_search (tb.book, "lukasz orsted", "Łukasz Ørsted");
  assert_search (tb.book, "supply", "Schafer Supply Co.");
  assert_search (tb.book, "co.", "Schafer Supply Co.");
  assert_search (tb.book, "Alvarezz", "");
  assert_search (tb.book, "lvarez", "");
  assert_search (tb.book, "Schaefer", "");

  /* References and e-mail addresses: their start, any case. */
  assert_search (tb.book, "pan-", "Panadería Álvarez");
  assert_search (tb.book, "SSC-1", "Schafer Supply Co.");
  /* The number of a reference (PAN-1, SSC-1…) finds its accounts; so does
   * an e-mail's domain. */
  assert_search (tb.book, "1", "Panadería Álvarez|Birgit Schäfer|Schafer Supply Co.|Łukasz Ørsted");
  assert_search (tb.book, "pedidos@", "Panadería Álvarez");
  assert_search (tb.book, "lukasz.orsted@example.org", "Łukasz Ørsted");
  assert_search (tb.book, "example.org", "Łukasz Ørsted");

  /* The CLI's account list searches alike. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = NULL;
    RecoupAccountFilter filter = { .search = "schafer" };

    list = recoup_account_list (tb.book, &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (list->len, ==, 2);
    g_assert_cmpstr (((RecoupAccountSummary *) list->pdata[0])->name, ==, "Birgit Schäfer");
    filter.search = "555-0119";
    g_clear_pointer (&list, g_ptr_array_unref);
    list = recoup_account_list (tb.book, &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (list->len, ==, 1);
    g_assert_cmpstr (((RecoupAccountSummary *) list->pdata[0])->ref, ==, "PAN-1");
  }
  test_book_close (&tb);
}

/* The index follows every write of a name or a contact point, also many
 * accounts written in one transaction. */
static void
test_search_follows_writes (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL, *phone = NULL, *email = NULL;
  TestBook tb;

  test_book_open (&tb);
  a = search_account (tb.book, "Panadería Álvarez", "PAN-1", 50000, "(512) 555-0119", NULL, &phone);

  g_assert_true (recoup_account_set (tb.book, a, "name", "Café Müller", &error));
  g_assert_no_error (error);
  assert_search (tb.book, "alvarez", "");
  assert_search (tb.book, "cafe muller", "Café Müller");
  assert_search (tb.book, "5125550119", "Café Müller");

  g_assert_true (recoup_contact_set_value (tb.book, phone, "+1 (737) 555-0142", &error));
  g_assert_no_error (error);
  assert_search (tb.book, "5125550119", "");
  assert_search (tb.book, "737-555-0142", "Café Müller");

  email = recoup_contact_add (tb.book, a, RECOUP_CONTACT_EMAIL, "kasse@cafe-mueller.example", "", FALSE, &error);
  g_assert_no_error (error);
  assert_search (tb.book, "kasse@", "Café Müller");
  g_assert_true (recoup_contact_remove (tb.book, phone, &error));
  g_assert_true (recoup_contact_remove (tb.book, email, &error));
  g_assert_no_error (error);
  assert_search (tb.book, "737-555-0142", "");
  assert_search (tb.book, "kasse@", "");
  assert_search (tb.book, "muller", "Café Müller");

  /* More accounts in one transaction than one query per account serves. */
  g_assert_true (recoup_book_begin (tb.book, &error));
  for (guint i = 0; i < 150; i++)
    {
      g_autofree char *ref = g_strdup_printf ("B-%03u", i);
      g_autofree char *name = g_strdup_printf ("Bäckerei Nummer %u", i);
      g_autofree char *number = g_strdup_printf ("(415) 555-%04u", 1000 + i);

      g_free (search_account (tb.book, name, ref, 1000 + i, number, NULL, NULL));
    }
  g_assert_true (recoup_book_commit (tb.book, &error));
  g_assert_no_error (error);
  assert_search (tb.book, "4155551149", "Bäckerei Nummer 149");
  assert_search (tb.book, "baeckerei", "");
  /* The account named whole first, then the largest balances. */
  assert_search (tb.book, "backerei nummer 14", "Bäckerei Nummer 14|Bäckerei Nummer 149|Bäckerei Nummer 148|"
                 "Bäckerei Nummer 147|Bäckerei Nummer 146|Bäckerei Nummer 145|Bäckerei Nummer 144|"
                 "Bäckerei Nummer 143|Bäckerei Nummer 142|Bäckerei Nummer 141|Bäckerei Nummer 140");
  test_book_close (&tb);
}

/* A book from before the index (schema 7) gets it when it is upgraded. */
static void
test_search_migration (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL;
  sqlite3 *db = NULL;
  TestBook tb;

  test_book_open (&tb);
  a = search_account (tb.book, "Panadería Álvarez", "PAN-1", 50000, "(512) 555-0119", NULL, NULL);
  g_clear_object (&tb.book);

  g_assert_cmpint (sqlite3_open (tb.path, &db), ==, SQLITE_OK);
  /* A book of schema 7: no search tables, no plan column, no review items (migration 9),
   * no waives_id (migration 10), no call blocks (migration 11), no calls_open_at
   * (migration 12). */
  g_assert_cmpint (sqlite3_exec (db, "DROP TABLE account_search; DROP TABLE account_search_terms;"
                                     "ALTER TABLE account_stats DROP COLUMN plan_due_date;"
                                     "DROP INDEX IF EXISTS account_stats_open_queue;"
                                     "ALTER TABLE account_stats DROP COLUMN call_blocks;"
                                     "ALTER TABLE account_stats DROP COLUMN calls_open_at;"
                                     "DROP TABLE review_marks; DROP TABLE review_items;"
                                     "DROP INDEX ledger_by_waives; ALTER TABLE ledger_entries DROP COLUMN waives_id;"
                                     "PRAGMA user_version = 7", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  tb.book = recoup_book_open (tb.path, RECOUP_BOOK_OPEN_SYNC_NORMAL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (recoup_book_get_schema_version (tb.book), ==, RECOUP_SCHEMA_VERSION);
  assert_search (tb.book, "panaderia", "Panadería Álvarez");
  assert_search (tb.book, "555-0119", "Panadería Álvarez");
  test_book_close (&tb);
}

/* A wait for a later call ("wait, then call") names a contact to come; when
 * the debtor asked to cease communication, the guard will never allow it, so
 * the worklist, the app's rows and recoup-cli worklist all read no contact. */
static void
test_wait_then_cease (Fixture       *f,
                      gconstpointer  data)
{
  const char *cli = g_getenv ("RECOUP_CLI");
  g_autoptr(GError) error = NULL;
  RecoupActivitySpec email = { .channel = "email", .outcome = "sent", .account_id = f->n };

  /* N's reminder e-mail (the step from day 1) was sent: it waits for the
   * call at 15 days. */
  g_assert_true (recoup_instant_parse ("2026-06-14T15:00:00Z", &email.at, &error));
  g_free (recoup_activity_log (f->tb.book, &email, &error));
  g_assert_no_error (error);
  {
    RecoupWorklistFilter wf = { 0 };
    g_autoptr(RecoupWorklist) wl = build (f, &wf);
    RecoupWorklistItem *n = find_item (wl, "N");

    g_assert_cmpstr (n->next_action, ==, "wait, then call");
    g_assert_cmpint (n->next_step->kind, ==, RECOUP_NEXT_STEP_AS_PLANNED);
  }

  g_assert_true (recoup_account_set (f->tb.book, f->n, "cease_communication", "yes", &error));
  g_assert_no_error (error);
  {
    RecoupWorklistFilter wf = { 0 };
    g_autoptr(RecoupWorklist) wl = build (f, &wf);
    RecoupWorklistItem *n = find_item (wl, "N");

    g_assert_cmpint (n->next_step->kind, ==, RECOUP_NEXT_STEP_NO_CONTACT);
    g_assert_cmpstr (n->next_step->block_code, ==, "cease-communication");
    g_assert_cmpstr (n->next_action, ==, "no contact: the debtor asked to cease communication");
    g_assert_cmpstr (n->next_step->policy_action, ==, "wait, then call");
  }
  {
    /* The app's rows, as the guard reads them now (any hour here). */
    g_autoptr(GPtrArray) rows = NULL;
    RecoupBrowseRow *n;

    g_assert_true (recoup_guard_set_rule (f->tb.book, "hours_start", "00:00", &error));
    g_assert_true (recoup_book_set_setting (f->tb.book, "guard.hours_end", "1440", &error));
    g_assert_no_error (error);
    rows = browse_checked (f);
    n = find_row (rows, "N");
    g_assert_cmpint (n->next_step->kind, ==, RECOUP_NEXT_STEP_NO_CONTACT);
    g_assert_cmpstr (n->next_step->block_code, ==, "cease-communication");
  }
  if (cli != NULL)
    {
      const char *argv[] = { cli, "--book", f->tb.path, "worklist", "--at", NOON_NY, NULL };
      g_autofree char *out = NULL, *err = NULL;
      int status = 0;

      g_clear_object (&f->tb.book);
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, &error));
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_assert_nonnull (strstr (out, "no contact: the debtor asked to cease communication"));
      g_assert_null (strstr (out, "wait, then call"));
    }
}

/* ---- The accounts callable now (RECOUP_BROWSE_CALLABLE_NOW) -------------- */

static char *
debtor_in (Fixture    *fx,
           const char *ref,
           const char *timezone)
{
  g_autoptr(GError) error = NULL;
  RecoupAccountSpec spec = { .ref = ref, .name = ref, .currency = "USD", .timezone = timezone };
  char *id = recoup_account_create (fx->tb.book, &spec, &error);
  g_autofree char *inv = g_strdup_printf ("INV-%s", ref);

  g_assert_no_error (error);
  g_free (recoup_contact_add (fx->tb.book, id, RECOUP_CONTACT_PHONE, "+493055501000", "", TRUE, &error));
  g_assert_no_error (error);
  g_free (test_add_invoice (fx->tb.book, id, inv, "2026-01-01", "2026-05-01", 5000, "USD"));
  return id;
}

static int
cmp_str (gconstpointer a,
         gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* The refs of the whole callable-now list of the accounts that owe at @at. */
static char *
callable_refs (Fixture    *fx,
               const char *at,
               gint64     *out_opens_at)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GString) refs = g_string_new ("");
  gboolean exact = TRUE;
  gint64 at_ms = 0, n;

  g_assert_true (recoup_instant_parse (at, &at_ms, &error));
  g_assert_cmpint (recoup_browse_prepare_full (fx->tb.book, NULL, RECOUP_BROWSE_OPEN_ONLY | RECOUP_BROWSE_CALLABLE_NOW,
                                               at_ms, &exact, NULL, &error), >=, 0);
  g_assert_no_error (error);
  g_assert_false (exact);
  n = recoup_browse_count (fx->tb.book, &error);
  g_assert_no_error (error);
  recoup_browse_get_hours_change (fx->tb.book, out_opens_at);
  rows = recoup_browse_page (fx->tb.book, 0, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rows->len, ==, n);
  for (guint i = 0; i < rows->len; i++)
    {
      RecoupBrowseRow *row = g_ptr_array_index (rows, i);

      g_string_append_printf (refs, "%s%s", refs->len ? " " : "", row->ref);
    }
  /* Sorted, so that the answer reads the same in any rank order. */
  {
    g_auto(GStrv) list = g_strsplit (refs->str, " ", -1);

    if (*refs->str == '\0')
      return g_strdup ("");
    qsort (list, g_strv_length (list), sizeof (char *), cmp_str);
    return g_strjoinv (" ", list);
  }
}

/* Only the accounts in their calling hours now and not stopped from every
 * call; the list reads again when the next zone opens or closes. */
static void
test_browse_callable_now (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *b = debtor_in (fx, "B", "Europe/Berlin");
  g_autofree char *u = debtor_in (fx, "U", NULL);
  g_autofree char *dispute = NULL;
  gint64 opens_at = 0, change_at;
  char *refs;

  /* The accounts that a call stops for whatever was done before: X asked to
   * cease (the fixture), H2 opted out of calls, P's only phone is opted out,
   * N disputes its debt; U's zone is unknown. */
  g_assert_true (recoup_guard_set_channel_opt_out (fx->tb.book, fx->h2, "call", TRUE, &error));
  g_assert_no_error (error);
  exec_touch (fx, fx->p, "UPDATE contact_points SET opted_out = 1 WHERE account_id = (SELECT id FROM accounts WHERE ref = 'P')");
  dispute = recoup_dispute_open (fx->tb.book, fx->n, NULL, "not mine", &error);
  g_assert_no_error (error);

  /* Noon in New York, 18:00 in Berlin: both open. */
  refs = callable_refs (fx, "2026-06-15T12:00:00-04:00", &opens_at);
  g_assert_cmpstr (refs, ==, "B F H1 L R");
  g_free (refs);
  change_at = recoup_browse_get_hours_change (fx->tb.book, NULL);
  /* Berlin closes first, at 21:00 there. */
  g_assert_cmpint (change_at, ==, 1781550000000);   /* 2026-06-15T19:00:00Z */
  g_assert_cmpint (opens_at, ==, 0);

  /* 15:30 in New York, 21:30 in Berlin: Berlin waits for 08:00. R, called
   * once yesterday without an answer, stays: its history does not block. */
  refs = callable_refs (fx, "2026-06-15T15:30:00-04:00", &opens_at);
  g_assert_cmpstr (refs, ==, "F H1 L R");
  g_free (refs);
  g_assert_cmpint (opens_at, ==, 1781589600000);   /* 2026-06-16T06:00:00Z, 08:00 in Berlin */

  /* 22:00 in New York: no one, and the next hours open in Berlin. */
  refs = callable_refs (fx, "2026-06-15T22:00:00-04:00", &opens_at);
  g_assert_cmpstr (refs, ==, "");
  g_free (refs);
  g_assert_cmpint (opens_at, ==, 1781589600000);

  /* The book may read an unknown zone as the business's (UTC here). */
  g_assert_true (recoup_book_set_setting (fx->tb.book, "guard.unknown_zone", "business", &error));
  g_assert_no_error (error);
  refs = callable_refs (fx, "2026-06-15T12:00:00-04:00", &opens_at);
  g_assert_cmpstr (refs, ==, "B F H1 L R U");
  g_free (refs);

  /* A first-party creditor's policy does not stop calls for a dispute or a
   * request to cease: the guard's switches hold here too. */
  g_assert_true (recoup_guard_set_profile (fx->tb.book, "first-party", &error));
  g_assert_no_error (error);
  refs = callable_refs (fx, "2026-06-15T12:00:00-04:00", &opens_at);
  g_assert_cmpstr (refs, ==, "B F H1 L N R U X");
  g_free (refs);
}

/* The accounts the guard blocks for their call history leave the list until
 * the instant it lets them be called again; a change of the policy's rules
 * lists them again at once. */
static void
test_browse_callable_now_history (Fixture       *fx,
                                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupActivitySpec call = { .channel = "call", .outcome = "no-answer" };
  gint64 opens_at = 0;
  char *refs;

  g_assert_true (recoup_instant_parse (NOON_NY, &call.at, &error));
  recoup_book_pin_now (fx->tb.book, call.at);
  refs = callable_refs (fx, NOON_NY, &opens_at);
  g_assert_cmpstr (refs, ==, "F H1 H2 L N P R");
  g_free (refs);

  /* R, called yesterday, is called 6 times more this morning: the 7 calls
   * the policy allows in 7 days, until yesterday's call leaves them on
   * Sunday 2026-06-21 there. */
  call.account_id = fx->r;
  for (int i = 0; i < 6; i++)
    {
      call.at -= 10 * 60 * 1000;
      g_free (recoup_activity_log (fx->tb.book, &call, &error));
      g_assert_no_error (error);
    }
  /* F answered this morning: no call for 7 days counting today. */
  call.account_id = fx->f;
  call.outcome = "right-party";
  call.direction = "inbound";
  g_free (recoup_activity_log (fx->tb.book, &call, &error));
  g_assert_no_error (error);

  refs = callable_refs (fx, NOON_NY, &opens_at);
  g_assert_cmpstr (refs, ==, "H1 H2 L N P");
  g_free (refs);
  refs = callable_refs (fx, "2026-06-20T12:00:00-04:00", &opens_at);
  g_assert_cmpstr (refs, ==, "H1 H2 L N P");
  g_free (refs);
  refs = callable_refs (fx, "2026-06-21T12:00:00-04:00", &opens_at);
  g_assert_cmpstr (refs, ==, "H1 H2 L N P R");
  g_free (refs);
  refs = callable_refs (fx, "2026-06-22T12:00:00-04:00", &opens_at);
  g_assert_cmpstr (refs, ==, "F H1 H2 L N P R");
  g_free (refs);

  g_assert_true (recoup_guard_set_rule (fx->tb.book, "conversation_days", "0", &error));
  g_assert_no_error (error);
  refs = callable_refs (fx, NOON_NY, &opens_at);
  g_assert_cmpstr (refs, ==, "F H1 H2 L N P");
  g_free (refs);
  g_assert_true (recoup_guard_set_rule (fx->tb.book, "max_calls_7d", "8", &error));
  g_assert_no_error (error);
  refs = callable_refs (fx, NOON_NY, &opens_at);
  g_assert_cmpstr (refs, ==, "F H1 H2 L N P R");
  g_free (refs);
}

static gint64
calls_open_at (Fixture    *fx,
               const char *account_id)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = recoup_book_prepare (fx->tb.book,
                                            "SELECT calls_open_at FROM account_stats WHERE account_id = ?1", &error);
  gint64 at;

  g_assert_no_error (error);
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  at = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return at;
}

/* A list that leaves out accounts for their call history is read again when
 * the first of those blocks lifts, also when the calling hours never open or
 * close (a whole-day window): the clock alone brings the account back. */
static void
test_browse_callable_now_lift (Fixture       *fx,
                               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  RecoupActivitySpec call = { .channel = "call", .outcome = "no-answer" };
  gint64 change_at, r_opens;
  char *refs;

  g_assert_true (recoup_guard_set_profile (fx->tb.book, "custom", &error));
  g_assert_true (recoup_guard_set_rule (fx->tb.book, "hours_start", "00:00", &error));
  g_assert_true (recoup_book_set_setting (fx->tb.book, "guard.hours_end", "1440", &error));
  g_assert_no_error (error);
  g_assert_true (recoup_instant_parse (NOON_NY, &call.at, &error));
  recoup_book_pin_now (fx->tb.book, call.at);
  refs = callable_refs (fx, NOON_NY, NULL);
  g_assert_cmpstr (refs, ==, "F H1 H2 L N P R");
  g_free (refs);
  g_assert_cmpint (recoup_browse_get_hours_change (fx->tb.book, NULL), ==, 0);

  /* R reaches the 7 calls in 7 days; F answered this morning. */
  call.account_id = fx->r;
  for (int i = 0; i < 6; i++)
    {
      call.at -= 10 * 60 * 1000;
      g_free (recoup_activity_log (fx->tb.book, &call, &error));
      g_assert_no_error (error);
    }
  call.account_id = fx->f;
  call.outcome = "right-party";
  call.direction = "inbound";
  g_free (recoup_activity_log (fx->tb.book, &call, &error));
  g_assert_no_error (error);

  refs = callable_refs (fx, NOON_NY, NULL);
  g_assert_cmpstr (refs, ==, "H1 H2 L N P");
  g_free (refs);
  r_opens = calls_open_at (fx, fx->r);
  g_assert_cmpint (r_opens, <, calls_open_at (fx, fx->f));
  change_at = recoup_browse_get_hours_change (fx->tb.book, NULL);
  g_assert_cmpint (change_at, ==, r_opens);

  /* Once R is back, F's block is the next. */
  {
    gboolean exact = TRUE;

    g_assert_cmpint (recoup_browse_prepare_full (fx->tb.book, NULL, RECOUP_BROWSE_OPEN_ONLY | RECOUP_BROWSE_CALLABLE_NOW,
                                                 r_opens, &exact, NULL, &error), >=, 0);
    g_assert_cmpint (recoup_browse_count (fx->tb.book, &error), ==, 6);
    g_assert_no_error (error);
    g_assert_cmpint (recoup_browse_get_hours_change (fx->tb.book, NULL), ==, calls_open_at (fx, fx->f));
  }
}

/* An account that owes nothing has no call to warn against: the rule is
 * core's, so the app's list and any other reader agree. */
static void
test_browse_call_warning (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  RecoupEntrySpec pay = { .kind = RECOUP_ENTRY_PAYMENT, .account_id = fx->f, .amount = 1500,
                          .effective_date = TODAY, .method = "cash" };
  RecoupBrowseRow *f, *h1, *x;

  g_free (recoup_ledger_record (fx->tb.book, &pay, &error));   /* F is in credit */
  g_assert_no_error (error);
  g_assert_true (recoup_account_set (fx->tb.book, fx->f, "bankruptcy", "yes", &error));
  g_assert_true (recoup_account_set (fx->tb.book, fx->h1, "bankruptcy", "yes", &error));
  g_assert_no_error (error);
  recoup_book_pin_now (fx->tb.book, 1781539200000);   /* noon in New York */

  g_assert_cmpint (recoup_browse_prepare (fx->tb.book, NULL, FALSE, NULL, &error), ==, 8);
  rows = recoup_browse_page (fx->tb.book, 0, 10, &error);
  g_assert_no_error (error);
  f = find_row (rows, "F");
  h1 = find_row (rows, "H1");
  x = find_row (rows, "X");
  /* Before the guard is asked, only the request to cease reads as no call. */
  g_assert_true (x->call_warning);
  g_assert_false (h1->call_warning);
  g_assert_true (recoup_browse_check_calls (fx->tb.book, rows, &error));
  g_assert_no_error (error);
  g_assert_true (h1->call_blocked);
  g_assert_true (h1->call_warning);
  g_assert_nonnull (strstr (h1->call_reason, "bankruptcy"));
  g_assert_cmpint (f->balance, <, 0);
  g_assert_true (f->call_blocked);     /* the guard's verdict, as it is */
  g_assert_false (f->call_warning);    /* but nothing to collect */
  g_assert_true (x->call_warning);
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("RECOUP_TODAY", TODAY, TRUE);
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add ("/recoup/core/worklist/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("order", test_order);
  ADD ("filters", test_filters);
  ADD ("paging", test_paging);
  ADD ("follows-writes", test_follows_writes);
  ADD ("saved", test_saved);
  ADD ("bad-filters", test_bad_filters);
  ADD ("cli", test_cli);
  ADD ("work-first", test_work_first);
  ADD ("cli-work-first", test_cli_work_first);
  ADD ("app-and-cli-agree", test_app_and_cli_agree);
  ADD ("next-step", test_next_step);
  ADD ("browse-next-step", test_browse_next_step);
  ADD ("cli-next-step", test_cli_next_step);
  ADD ("reason-words", test_reason_words);
  ADD ("legacy-reason", test_legacy_reason);
  ADD ("cli-reason-words", test_cli_reason_words);
  ADD ("wait-then-cease", test_wait_then_cease);
  ADD ("browse-callable-now", test_browse_callable_now);
  ADD ("browse-callable-now-history", test_browse_callable_now_history);
  ADD ("browse-callable-now-lift", test_browse_callable_now_lift);
  ADD ("browse-call-warning", test_browse_call_warning);
#undef ADD
  g_test_add_func ("/recoup/core/worklist/search-phone-and-accents", test_search_phone_and_accents);
  g_test_add_func ("/recoup/core/worklist/search-row-has-next-step", test_search_row_has_next_step);
  g_test_add_func ("/recoup/core/worklist/search-follows-writes", test_search_follows_writes);
  g_test_add_func ("/recoup/core/worklist/search-migration", test_search_migration);
  return g_test_run ();
}
