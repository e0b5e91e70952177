/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "recoup-cli.h"

/* worklist, explain, may-contact, weights, policy, profile: issue 3. */

static void
print_progress (guint64  done,
                guint64  total,
                gpointer user_data)
{
  if (isatty (fileno (stderr)) && total > 0)
    fprintf (stderr, "\rScoring… %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT, done, total);
  if (done == total && isatty (fileno (stderr)))
    fprintf (stderr, "\n");
}

static gboolean
parse_at (const char  *text,
          gint64      *out,
          GError     **error)
{
  *out = 0;
  return text == NULL || recoup_instant_parse (text, out, error);
}

/* The next step as agreed with the guard: what the policy wanted, and why it
 * changed (for scripts). */
static void
add_next_step_json (JsonBuilder          *b,
                    const RecoupNextStep *step)
{
  json_builder_set_member_name (b, "next_step");
  if (step == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, recoup_next_step_kind_to_string (step->kind));
  json_builder_set_member_name (b, "policy_action");
  json_builder_add_string_value (b, step->policy_action);
  json_builder_set_member_name (b, "policy_channel");
  json_builder_add_string_value (b, step->policy_channel);
  json_builder_set_member_name (b, "channel");
  json_builder_add_string_value (b, step->channel);
  json_builder_set_member_name (b, "blocked_by");
  json_builder_add_string_value (b, step->block_code);
  json_builder_set_member_name (b, "not_before");
  if (step->not_before != 0)
    {
      g_autofree char *when = recoup_instant_format (step->not_before);

      json_builder_add_string_value (b, when);
    }
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
}

int
recoup_cli_cmd_worklist (RecoupCli  *cli,
                         int         argc,
                         char      **argv)
{
  int limit = 50, offset = 0;
  g_autofree char *collector = NULL, *segment = NULL, *stage = NULL, *tag = NULL, *tz = NULL;
  g_autofree char *min_balance = NULL, *channel = NULL, *save = NULL, *saved = NULL, *at = NULL;
  g_autofree char *currency = NULL;
  const GOptionEntry entries[] = {
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "At most N accounts (default 50, up to 1000)", "N" },
    { "offset", 0, 0, G_OPTION_ARG_INT, &offset, "Skip the first N accounts (the next page)", "N" },
    { "collector", 0, 0, G_OPTION_ARG_STRING, &collector, "Only accounts assigned to this user", "U" },
    { "segment", 0, 0, G_OPTION_ARG_STRING, &segment, "high, medium or low", "S" },
    { "stage", 0, 0, G_OPTION_ARG_STRING, &stage, "pre-collection, active, negotiation or escalation", "S" },
    { "tag", 0, 0, G_OPTION_ARG_STRING, &tag, "Only accounts with this tag", "T" },
    { "timezone", 0, 0, G_OPTION_ARG_STRING, &tz, "Only debtors in this IANA zone", "Z" },
    { "min-balance", 0, 0, G_OPTION_ARG_STRING, &min_balance, "Only balances of at least this amount (“500 EUR”: only accounts in EUR)", "A" },
    { "channel", 0, 0, G_OPTION_ARG_STRING, &channel, "Only accounts the guard lets you contact by this channel now (default: every account, each with the step the guard allows)", "C" },
    { "at", 0, 0, G_OPTION_ARG_STRING, &at, "Check the guard at this time (ISO 8601 with offset; default now)", "TIME" },
    { "save", 0, 0, G_OPTION_ARG_STRING, &save, "Save these filters under NAME", "NAME" },
    { "saved", 0, 0, G_OPTION_ARG_STRING, &saved, "Use the filters saved under NAME", "NAME" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupWorklist) wl = NULL;
  g_auto(GStrv) saved_strings = NULL;
  RecoupWorklistFilter f = { 0 };
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, NULL, "Today's queue: whom to contact next, and why; the accounts with something to do now come first.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 0)
    return recoup_cli_usage (cli, "unexpected argument “%s”", argv[0]);
  if (limit < 0 || offset < 0)
    return recoup_cli_usage (cli, "--limit and --offset must be 0 or more");
  if (save != NULL && saved != NULL)
    return recoup_cli_usage (cli, "give --save or --saved, not both");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);
  if (saved != NULL && !recoup_worklist_load_saved (book, saved, &f, &saved_strings, &error))
    return recoup_cli_fail (cli, error);
  if (collector != NULL)
    f.collector = collector;
  if (segment != NULL)
    f.segment = segment;
  if (stage != NULL)
    f.stage = stage;
  if (tag != NULL)
    f.tag = tag;
  if (tz != NULL)
    f.timezone = tz;
  if (channel != NULL)
    f.channel = channel;
  if (min_balance != NULL)
    {
      if (!recoup_account_parse_min_balance (book, min_balance, &f.min_balance, &currency, &error))
        {
          g_prefix_error (&error, "--min-balance: ");
          return recoup_cli_fail (cli, error);
        }
      f.currency = currency;
    }
  f.limit = (guint) limit;
  f.offset = (guint) offset;
  if (!parse_at (at, &f.at, &error))
    return recoup_cli_fail (cli, error);

  if (save != NULL && !recoup_worklist_save (book, save, &f, &error))
    return recoup_cli_fail (cli, error);
  if (!(wl = recoup_worklist_build (book, &f, &error)))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "accounts");
      json_builder_begin_array (b);
      for (guint i = 0; i < wl->items->len; i++)
        {
          RecoupWorklistItem *it = g_ptr_array_index (wl->items, i);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "id");
          json_builder_add_string_value (b, it->account_id);
          json_builder_set_member_name (b, "ref");
          json_builder_add_string_value (b, it->ref);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, it->name);
          json_builder_set_member_name (b, "balance");
          json_builder_add_int_value (b, it->balance);
          json_builder_set_member_name (b, "currency");
          json_builder_add_string_value (b, it->currency);
          json_builder_set_member_name (b, "score");
          json_builder_add_int_value (b, it->score);
          json_builder_set_member_name (b, "segment");
          json_builder_add_string_value (b, it->segment);
          json_builder_set_member_name (b, "stage");
          json_builder_add_string_value (b, it->stage);
          json_builder_set_member_name (b, "days_past_due");
          json_builder_add_int_value (b, it->days_past_due);
          json_builder_set_member_name (b, "why");
          json_builder_add_string_value (b, it->queue_reason);
          json_builder_set_member_name (b, "waits");
          json_builder_add_boolean_value (b, it->waits);
          json_builder_set_member_name (b, "next_action");
          json_builder_add_string_value (b, it->next_action);
          json_builder_set_member_name (b, "next_action_reason");
          json_builder_add_string_value (b, it->next_action_reason);
          json_builder_set_member_name (b, "next_action_reason_code");
          json_builder_add_string_value (b, it->next_step != NULL ? it->next_step->policy_reason_code : NULL);
          add_next_step_json (b, it->next_step);
          json_builder_set_member_name (b, "verdict");
          json_builder_add_string_value (b, recoup_verdict_to_string (it->verdict));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "blocked");
      json_builder_add_int_value (b, wl->n_blocked);
      json_builder_set_member_name (b, "blocked_reasons");
      json_builder_begin_object (b);
      for (guint i = 0; i < wl->blocked->len; i++)
        {
          RecoupWorklistBlock *bl = g_ptr_array_index (wl->blocked, i);

          json_builder_set_member_name (b, bl->code);
          json_builder_add_int_value (b, bl->count);
        }
      json_builder_end_object (b);
      json_builder_set_member_name (b, "more");
      json_builder_add_boolean_value (b, wl->has_more);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("#", "ACCOUNT", "NAME", "BALANCE", "DPD", "SCORE",
                                                          "SEGMENT", "WHY", "NEXT ACTION", NULL);

      recoup_cli_table_align_right (t, 0);
      recoup_cli_table_align_right (t, 3);
      recoup_cli_table_align_right (t, 4);
      recoup_cli_table_align_right (t, 5);
      for (guint i = 0; i < wl->items->len; i++)
        {
          RecoupWorklistItem *it = g_ptr_array_index (wl->items, i);
          g_autofree char *n = g_strdup_printf ("%u", f.offset + i + 1);
          /* A worklist mixes currencies: each balance names its own, as in “accounts”. */
          g_autofree char *bal = recoup_cli_money_code (it->balance, it->currency);
          g_autofree char *dpd = g_strdup_printf ("%d", it->days_past_due);
          g_autofree char *score = g_strdup_printf ("%" G_GINT64_FORMAT, it->score);
          g_autofree char *why = g_strdup_printf ("%s%s%s", it->queue_reason, it->waits ? ", waits" : "",
                                                  it->verdict == RECOUP_VERDICT_WARN ? " (guard: warn)" : "");

          recoup_cli_table_add (t, n, it->ref, it->name, bal, dpd, score, it->segment, why, it->next_action, NULL);
        }
      if (wl->items->len > 0)
        recoup_cli_table_print (t);
      else
        printf ("Nothing to do in this worklist.\n");
      if (wl->n_blocked > 0)
        {
          printf ("\n%u account%s left out: the compliance guard blocks contact by %s now (",
                  wl->n_blocked, wl->n_blocked == 1 ? "" : "s", f.channel);
          for (guint i = 0; i < wl->blocked->len; i++)
            {
              RecoupWorklistBlock *bl = g_ptr_array_index (wl->blocked, i);
              printf ("%s%s %u", i ? ", " : "", bl->code, bl->count);
            }
          printf (")\n");
        }
      if (wl->has_more)
        printf ("More: --offset %u\n", f.offset + wl->items->len);
      if (save != NULL)
        printf ("Saved as “%s”.\n", save);
    }
  return RECOUP_CLI_OK;
}

/* The instant the next step was judged at, as the debtor lives it: "2026-11-25
 * 09:30 America/New_York" (in the guard's zone for a debtor whose zone is
 * unknown, the one its hours rules use). */
static char *
format_judged_at (RecoupBook  *book,
                  const char  *account_id,
                  gint64       at_ms,
                  GError     **error)
{
  g_auto(RecoupGuardPolicy) guard = { 0 };
  g_autoptr(RecoupAccount) account = recoup_account_load (book, account_id, error);
  g_autoptr(GDateTime) utc = NULL, there = NULL;
  g_autofree char *when = NULL;
  GTimeZone *tz;

  if (account == NULL)
    return NULL;
  recoup_guard_policy_load (book, &guard);
  tz = recoup_guard_debtor_zone (&guard, account->timezone);
  utc = g_date_time_new_from_unix_utc (at_ms / 1000);
  there = g_date_time_to_timezone (utc, tz);
  when = g_date_time_format (there, "%Y-%m-%d %H:%M");
  return g_strdup_printf ("%s %s", when, g_time_zone_get_identifier (tz));
}

int
recoup_cli_cmd_explain (RecoupCli  *cli,
                        int         argc,
                        char      **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *account_id = NULL;
  g_autoptr(RecoupScoreExplanation) ex = NULL;
  g_autoptr(RecoupNextStep) step = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *at = NULL;
  g_autofree char *judged = NULL, *judged_local = NULL;
  const GOptionEntry entries[] = {
    { "at", 0, 0, G_OPTION_ARG_STRING, &at, "Check the guard for the next step at this time (ISO 8601 with offset; default now)", "TIME" },
    { NULL }
  };
  gint64 at_ms = 0;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT", "Show how an account's priority score is made up.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ACCOUNT (reference or id)");
  if (!parse_at (at, &at_ms, &error))
    return recoup_cli_fail (cli, error);
  /* The time the step is judged at is echoed: a step "not now" means little
   * without it. */
  if (at_ms == 0)
    at_ms = g_get_real_time () / 1000;
  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(account_id = recoup_account_resolve (book, argv[0], &error)) ||
      !(ex = recoup_score_explain (book, account_id, &error)) ||
      !(judged_local = format_judged_at (book, account_id, at_ms, &error)))
    return recoup_cli_fail (cli, error);
  judged = recoup_instant_format (at_ms);
  /* The policy's step, as the guard lets it be taken now. */
  if (ex->next_action != NULL &&
      !(step = recoup_next_step_get (book, account_id, ex->next_action, ex->next_action_reason, at_ms, NULL, &error)))
    return recoup_cli_fail (cli, error);
  reason = step != NULL ? g_strdup (step->reason) : recoup_escalation_reason_describe (ex->next_action_reason);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "account");
      json_builder_add_string_value (b, argv[0]);
      json_builder_set_member_name (b, "as_of");
      json_builder_add_string_value (b, ex->as_of);
      json_builder_set_member_name (b, "score");
      json_builder_add_int_value (b, ex->score);
      json_builder_set_member_name (b, "segment");
      json_builder_add_string_value (b, ex->segment);
      json_builder_set_member_name (b, "note");
      json_builder_add_string_value (b, ex->note);
      json_builder_set_member_name (b, "components");
      json_builder_begin_array (b);
      for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "component");
          json_builder_add_string_value (b, ex->items[i].component);
          json_builder_set_member_name (b, "raw");
          json_builder_add_string_value (b, ex->items[i].raw);
          json_builder_set_member_name (b, "points");
          json_builder_add_int_value (b, ex->items[i].points);
          json_builder_set_member_name (b, "weight");
          json_builder_add_int_value (b, ex->items[i].weight);
          json_builder_set_member_name (b, "contribution");
          json_builder_add_int_value (b, ex->items[i].contribution);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "next_action");
      json_builder_add_string_value (b, step != NULL ? step->action : ex->next_action);
      json_builder_set_member_name (b, "next_action_reason");
      json_builder_add_string_value (b, reason);
      json_builder_set_member_name (b, "next_action_reason_code");
      json_builder_add_string_value (b, recoup_escalation_reason_code (ex->next_action_reason));
      add_next_step_json (b, step);
      json_builder_set_member_name (b, "judged_at");
      json_builder_add_string_value (b, judged);
      json_builder_set_member_name (b, "judged_at_local");
      json_builder_add_string_value (b, judged_local);
      json_builder_set_member_name (b, "recommended_stage");
      json_builder_add_string_value (b, ex->recommended_stage);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("COMPONENT", "INPUT", "POINTS", "WEIGHT",
                                                          "CONTRIBUTION", NULL);

      recoup_cli_table_align_right (t, 2);
      recoup_cli_table_align_right (t, 3);
      recoup_cli_table_align_right (t, 4);
      for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
        {
          g_autofree char *p = g_strdup_printf ("%" G_GINT64_FORMAT, ex->items[i].points);
          g_autofree char *w = g_strdup_printf ("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                                                ex->items[i].weight, ex->total_weight);
          g_autofree char *c = g_strdup_printf ("%" G_GINT64_FORMAT, ex->items[i].contribution);

          recoup_cli_table_add (t, ex->items[i].component, ex->items[i].raw, p, w, c, NULL);
        }
      printf ("Score of %s as of %s: %" G_GINT64_FORMAT " of 10000 (segment %s)\n\n",
              argv[0], ex->as_of, ex->score, ex->segment);
      recoup_cli_table_print (t);
      if (ex->note != NULL)
        printf ("\nNote: %s\n", ex->note);
      printf ("\nNext action: %s — %s\nJudged at %s\nRecommended stage: %s\n",
              step != NULL ? step->action : ex->next_action, reason, judged_local, ex->recommended_stage);
    }
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_may_contact (RecoupCli  *cli,
                            int         argc,
                            char      **argv)
{
  g_autofree char *channel = NULL, *at = NULL;
  const GOptionEntry entries[] = {
    { "channel", 'c', 0, G_OPTION_ARG_STRING, &channel, "call, sms, email, letter or visit", "C" },
    { "at", 0, 0, G_OPTION_ARG_STRING, &at, "When (ISO 8601 with offset or Z; default now)", "TIME" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *account_id = NULL;
  g_autoptr(RecoupGuardVerdict) v = NULL;
  RecoupBook *book;
  gint64 at_ms = 0;
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT", "Ask the compliance guard whether a contact is allowed.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ACCOUNT (reference or id)");
  if (channel == NULL)
    return recoup_cli_usage (cli, "--channel is required (call, sms, email, letter or visit)");
  if (!parse_at (at, &at_ms, &error))
    return recoup_cli_fail (cli, error);
  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(account_id = recoup_account_resolve (book, argv[0], &error)) ||
      !recoup_guard_check (book, account_id, channel, at_ms, NULL, &v, &error))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "verdict");
      json_builder_add_string_value (b, recoup_verdict_to_string (v->verdict));
      json_builder_set_member_name (b, "reasons");
      json_builder_begin_array (b);
      for (guint i = 0; i < v->reasons->len; i++)
        {
          RecoupGuardReason *r = g_ptr_array_index (v->reasons, i);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "code");
          json_builder_add_string_value (b, r->code);
          json_builder_set_member_name (b, "text");
          json_builder_add_string_value (b, r->text);
          json_builder_set_member_name (b, "blocks");
          json_builder_add_boolean_value (b, r->blocks);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      printf ("%s\n", recoup_verdict_to_string (v->verdict));
      for (guint i = 0; i < v->reasons->len; i++)
        {
          RecoupGuardReason *r = g_ptr_array_index (v->reasons, i);
          printf ("  %s %s: %s\n", r->blocks ? "✗" : "!", r->code, r->text);
        }
      if (v->verdict == RECOUP_VERDICT_BLOCKED)
        printf (v->may_override ? "You may override this block with a reason (log --override).\n"
                                : "You may not override this block.\n");
    }
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_weights (RecoupCli  *cli,
                        int         argc,
                        char      **argv)
{
  g_auto(GStrv) sets = NULL;
  const GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "component=N (balance, age, age-weighted, behaviour, responsiveness, relationship, stage), "
      "or high=N, medium=N, balance-cap=AMOUNT, revenue-cap=AMOUNT; repeatable", "C=N" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  RecoupScoreSettings s;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, NULL, "Show or change the score's weights and segment thresholds.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 0)
    return recoup_cli_usage (cli, "unexpected argument “%s”", argv[0]);
  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);
  recoup_score_settings_load (book, &s);

  if (sets != NULL)
    {
      for (guint i = 0; sets[i] != NULL; i++)
        {
          g_auto(GStrv) kv = g_strsplit (sets[i], "=", 2);
          RecoupScoreComponent c;
          gint64 n;

          if (g_strv_length (kv) != 2)
            return recoup_cli_usage (cli, "--set needs NAME=VALUE, not “%s”", sets[i]);
          if (!g_strcmp0 (kv[0], "balance-cap") || !g_strcmp0 (kv[0], "revenue-cap"))
            {
              if (!recoup_money_parse (kv[1], "USD", &n, &error))
                {
                  g_prefix_error (&error, "%s: ", kv[0]);
                  return recoup_cli_fail (cli, error);
                }
              if (kv[0][0] == 'b')
                s.balance_cap = n;
              else
                s.revenue_cap = n;
              continue;
            }
          if (!g_ascii_string_to_signed (kv[1], 10, G_MININT32, G_MAXINT32, &n, NULL))
            {
              g_set_error (&error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           "%s: “%s” is not a whole number", kv[0], kv[1]);
              return recoup_cli_fail (cli, error);
            }
          if (!g_strcmp0 (kv[0], "high"))
            s.high = n;
          else if (!g_strcmp0 (kv[0], "medium"))
            s.medium = n;
          else if (recoup_score_component_from_name (kv[0], &c))
            s.weights[c] = n;
          else
            {
              g_set_error (&error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                           "“%s” is not a score component (balance, age, age-weighted, behaviour, "
                           "responsiveness, relationship, stage) nor high, medium, balance-cap, revenue-cap",
                           kv[0]);
              return recoup_cli_fail (cli, error);
            }
        }
      if (!recoup_score_settings_save (book, &s, cli->json ? NULL : print_progress, NULL, &error))
        return recoup_cli_fail (cli, error);
    }

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "weights");
      json_builder_begin_object (b);
      for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
        {
          json_builder_set_member_name (b, recoup_score_component_name (i));
          json_builder_add_int_value (b, s.weights[i]);
        }
      json_builder_end_object (b);
      json_builder_set_member_name (b, "high");
      json_builder_add_int_value (b, s.high);
      json_builder_set_member_name (b, "medium");
      json_builder_add_int_value (b, s.medium);
      json_builder_set_member_name (b, "balance_cap");
      json_builder_add_int_value (b, s.balance_cap);
      json_builder_set_member_name (b, "revenue_cap");
      json_builder_add_int_value (b, s.revenue_cap);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("COMPONENT", "WEIGHT", NULL);
      g_autofree char *bc = recoup_money_format (s.balance_cap, "USD", RECOUP_MONEY_FORMAT_GROUPING);
      g_autofree char *rc = recoup_money_format (s.revenue_cap, "USD", RECOUP_MONEY_FORMAT_GROUPING);

      recoup_cli_table_align_right (t, 1);
      for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
        {
          g_autofree char *w = g_strdup_printf ("%" G_GINT64_FORMAT, s.weights[i]);
          recoup_cli_table_add (t, recoup_score_component_name (i), w, NULL);
        }
      recoup_cli_table_print (t);
      printf ("\nSegments: high from %" G_GINT64_FORMAT ", medium from %" G_GINT64_FORMAT
              " (scores 0 to 10000)\nBalance full at %s; lifetime revenue full at %s\n",
              s.high, s.medium, bc, rc);
    }
  return RECOUP_CLI_OK;
}

static void
print_guard_policy (RecoupCli              *cli,
                    const RecoupGuardPolicy *p)
{
  char from[6], to[6];

  g_snprintf (from, sizeof from, "%02d:%02d", p->hours_start / 60, p->hours_start % 60);
  g_snprintf (to, sizeof to, "%02d:%02d", p->hours_end / 60, p->hours_end % 60);
  printf ("Compliance profile: %s\n", p->profile);
  printf ("  hours                %s–%s debtor's local time\n", from, to);
  printf ("  max_calls_7d         %d%s\n", p->max_calls_7d, p->max_calls_7d ? "" : " (no limit)");
  printf ("  conversation_days    %d%s\n", p->conversation_days, p->conversation_days ? "" : " (off)");
  printf ("  validation_days      %d%s\n", p->validation_days, p->validation_days ? "" : " (off)");
  printf ("  cease                %s\n", p->cease ? "yes" : "no");
  printf ("  dispute              %s\n", p->dispute ? "yes" : "no");
  printf ("  flags                %s (attorney, bankruptcy, deceased)\n", p->flags ? "yes" : "no");
  printf ("  unknown_zone         %s\n", p->unknown_zone_business ? "business" : "block");
  printf ("  business_timezone    %s\n", p->business_timezone);
}

static void
add_policy_json (JsonBuilder             *b,
                 const RecoupGuardPolicy *p)
{
  json_builder_set_member_name (b, "profile");
  json_builder_add_string_value (b, p->profile);
  json_builder_set_member_name (b, "hours_start");
  json_builder_add_int_value (b, p->hours_start);
  json_builder_set_member_name (b, "hours_end");
  json_builder_add_int_value (b, p->hours_end);
  json_builder_set_member_name (b, "max_calls_7d");
  json_builder_add_int_value (b, p->max_calls_7d);
  json_builder_set_member_name (b, "conversation_days");
  json_builder_add_int_value (b, p->conversation_days);
  json_builder_set_member_name (b, "validation_days");
  json_builder_add_int_value (b, p->validation_days);
  json_builder_set_member_name (b, "cease");
  json_builder_add_boolean_value (b, p->cease);
  json_builder_set_member_name (b, "dispute");
  json_builder_add_boolean_value (b, p->dispute);
  json_builder_set_member_name (b, "flags");
  json_builder_add_boolean_value (b, p->flags);
  json_builder_set_member_name (b, "unknown_zone");
  json_builder_add_string_value (b, p->unknown_zone_business ? "business" : "block");
  json_builder_set_member_name (b, "business_timezone");
  json_builder_add_string_value (b, p->business_timezone);
}

int
recoup_cli_cmd_profile (RecoupCli  *cli,
                        int         argc,
                        char      **argv)
{
  g_auto(GStrv) sets = NULL;
  const GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "RULE=VALUE: hours_start=08:00, hours_end=21:00, max_calls_7d=N, conversation_days=N, "
      "validation_days=N, cease|dispute|flags=yes|no, unknown_zone=block|business, "
      "business_timezone=ZONE (makes the profile custom, except the zone rules); repeatable", "RULE=VALUE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  RecoupGuardPolicy p;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "[regf|first-party|custom]",
                         "Show or choose the compliance profile the guard applies.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc > 1)
    return recoup_cli_usage (cli, "give at most one profile name");
  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);
  if (argc == 1 && !recoup_guard_set_profile (book, argv[0], &error))
    return recoup_cli_fail (cli, error);
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (sets[i], "=", 2);

      if (g_strv_length (kv) != 2)
        return recoup_cli_usage (cli, "--set needs RULE=VALUE, not “%s”", sets[i]);
      if (!recoup_guard_set_rule (book, kv[0], kv[1], &error))
        return recoup_cli_fail (cli, error);
    }

  recoup_guard_policy_load (book, &p);
  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      add_policy_json (b, &p);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    print_guard_policy (cli, &p);
  recoup_guard_policy_clear (&p);
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_policy (RecoupCli  *cli,
                       int         argc,
                       char      **argv)
{
  g_autofree char *set = NULL;
  gboolean apply = FALSE;
  const GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING, &set,
      "The escalation steps, \"DAYS:CHANNEL:ACTION;…\" (e.g. " RECOUP_ESCALATION_DEFAULT_POLICY ")", "STEPS" },
    { "apply", 0, 0, G_OPTION_ARG_NONE, &apply,
      "Move every account to its recommended stage (recorded in its history)", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) steps = NULL;
  RecoupGuardPolicy p;
  RecoupBook *book;
  guint changed = 0;
  int status;

  if (!recoup_cli_parse (cli, NULL, "Show or change the escalation policy; apply recommended stages.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 0)
    return recoup_cli_usage (cli, "unexpected argument “%s”", argv[0]);
  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);
  if (set != NULL && !recoup_escalation_policy_save (book, set, &error))
    return recoup_cli_fail (cli, error);
  if (apply && !recoup_escalation_apply (book, &changed, &error))
    return recoup_cli_fail (cli, error);

  steps = recoup_escalation_policy_load (book);
  recoup_guard_policy_load (book, &p);
  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "escalation");
      json_builder_begin_array (b);
      for (guint i = 0; i < steps->len; i++)
        {
          RecoupEscalationStep *s = &g_array_index (steps, RecoupEscalationStep, i);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "days");
          json_builder_add_int_value (b, s->days);
          json_builder_set_member_name (b, "channel");
          json_builder_add_string_value (b, s->channel);
          json_builder_set_member_name (b, "action");
          json_builder_add_string_value (b, s->action);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "guard");
      json_builder_begin_object (b);
      add_policy_json (b, &p);
      json_builder_end_object (b);
      if (apply)
        {
          json_builder_set_member_name (b, "stages_changed");
          json_builder_add_int_value (b, changed);
        }
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      printf ("Escalation policy (days past due of the oldest open item):\n");
      for (guint i = 0; i < steps->len; i++)
        {
          RecoupEscalationStep *s = &g_array_index (steps, RecoupEscalationStep, i);
          printf ("  %4d  %-7s %s\n", s->days, s->channel, s->action);
        }
      printf ("Stages: pre-collection (not yet past due), active, negotiation (a promise pending), "
              "escalation (from day %d)\n\n",
              g_array_index (steps, RecoupEscalationStep, steps->len - 1).days);
      print_guard_policy (cli, &p);
      if (apply)
        printf ("\n%u account%s moved to their recommended stage.\n", changed, changed == 1 ? "" : "s");
    }
  recoup_guard_policy_clear (&p);
  return RECOUP_CLI_OK;
}
