/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "recoup-cli.h"
#include "recoup-mail.h"

/* ---------------------------------------------------------------------------
 * remind
 * ------------------------------------------------------------------------- */

static void
progress_cb (guint64  done,
             guint64  total,
             gpointer user_data)
{
  RecoupCli *cli = user_data;

  if (!cli->json && total > 0 && isatty (fileno (stderr)))
    fprintf (stderr, "\r%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, done, total);
}

static void
print_send_stats (RecoupCli             *cli,
                  const RecoupMailStats *st)
{
  if (!cli->json)
    printf ("Outbox: %u sent, %u failed, %u still queued, %u uncertain\n",
            st->sent, st->failed, st->deferred, st->uncertain);
}

static void
json_run_item (JsonBuilder      *b,
               RecoupRemindItem *it)
{
  json_builder_begin_object (b);
  recoup_cli_json_str (b, "account", it->ref);
  recoup_cli_json_str (b, "name", it->name);
  recoup_cli_json_int (b, "days_past_due", it->days_past_due);
  {
    g_autofree char *bal = recoup_money_format (it->balance, it->currency, RECOUP_MONEY_FORMAT_PLAIN);

    recoup_cli_json_str (b, "balance", bal);
  }
  recoup_cli_json_str (b, "currency", it->currency);
  recoup_cli_json_str (b, "template", it->template_name);
  recoup_cli_json_str (b, "channel", it->channel);
  recoup_cli_json_str (b, "to", it->to);
  recoup_cli_json_str (b, "reason", it->reason);
  recoup_cli_json_bool (b, "held", it->held);
  recoup_cli_json_str (b, "held_reasons", it->held_reasons);
  recoup_cli_json_str (b, "warnings", it->warnings);
  recoup_cli_json_bool (b, "selected", it->selected);
  json_builder_end_object (b);
}

int
recoup_cli_cmd_remind (RecoupCli  *cli,
                       int         argc,
                       char      **argv)
{
  gboolean dry_run = FALSE, send = FALSE, batch = FALSE, no_deliver = FALSE;
  g_autofree char *at = NULL, *letters_dir = NULL, *preview = NULL, *paper = NULL;
  g_auto(GStrv) exclude = NULL;
  const GOptionEntry entries[] = {
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "Show today's run without doing anything (the default)", NULL },
    { "send", 's', 0, G_OPTION_ARG_NONE, &send, "Generate letters, queue emails, log texts, then try to deliver", NULL },
    { "no-deliver", 0, 0, G_OPTION_ARG_NONE, &no_deliver, "With --send: queue only, do not contact the mail server", NULL },
    { "exclude", 'x', 0, G_OPTION_ARG_STRING_ARRAY, &exclude, "Leave this account out (repeatable)", "REF" },
    { "batch", 0, 0, G_OPTION_ARG_NONE, &batch, "All letters in one PDF for printing", NULL },
    { "letters-dir", 0, 0, G_OPTION_ARG_FILENAME, &letters_dir, "Where letters go (default: setting letters.dir, else letters/ beside the book)", "DIR" },
    { "paper", 0, 0, G_OPTION_ARG_STRING, &paper, "a4 (default) or letter", "SIZE" },
    { "preview", 'p', 0, G_OPTION_ARG_STRING, &preview, "Print the message this run would send to one account", "REF" },
    { "at", 0, 0, G_OPTION_ARG_STRING, &at, "The instant the compliance guard judges (ISO 8601; default now)", "TIME" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupRemindRun) run = NULL;
  gint64 at_ms = 0;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "", "Propose today's reminder run (who gets which template, and why; "
                         "what the compliance guard holds back) and, with --send, carry it out.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 0)
    return recoup_cli_usage (cli, "remind takes no arguments");
  if (dry_run && send)
    return recoup_cli_usage (cli, "give --dry-run or --send, not both");
  if (paper != NULL && g_strcmp0 (paper, "a4") && g_strcmp0 (paper, "letter"))
    return recoup_cli_usage (cli, "--paper is a4 or letter");
  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);
  if (at != NULL && !recoup_instant_parse (at, &at_ms, &error))
    return recoup_cli_fail (cli, error);
  if (!(run = recoup_remind_propose (book, at_ms, &error)))
    return recoup_cli_fail (cli, error);

  for (guint i = 0; exclude != NULL && exclude[i] != NULL; i++)
    {
      gboolean found = FALSE;

      for (guint j = 0; j < run->items->len; j++)
        {
          RecoupRemindItem *it = g_ptr_array_index (run->items, j);

          if (g_strcmp0 (it->ref, exclude[i]) == 0)
            found = TRUE, it->selected = FALSE;
        }
      if (!found)
        return recoup_cli_usage (cli, "--exclude %s: the account is not in today's run", exclude[i]);
    }

  if (preview != NULL)
    {
      g_autofree char *subject = NULL, *body = NULL;

      for (guint j = 0; j < run->items->len; j++)
        {
          RecoupRemindItem *it = g_ptr_array_index (run->items, j);

          if (g_strcmp0 (it->ref, preview) != 0)
            continue;
          if (!recoup_remind_preview (book, it, &subject, &body, &error))
            return recoup_cli_fail (cli, error);
          if (it->to)
            printf ("To: %s\n", it->to);
          if (subject && *subject)
            printf ("Subject: %s\n", subject);
          printf ("Template: %s (%s)\n\n%s", it->template_name, it->channel, body);
          if (g_str_equal (it->channel, "email"))
            {
              g_autofree char *line = recoup_outbox_opt_out_line (book);

              if (strstr (body, line) == NULL)
                printf ("%s-- \n%s\n", g_str_has_suffix (body, "\n") ? "" : "\n", line);
            }
          return RECOUP_CLI_OK;
        }
      return recoup_cli_usage (cli, "--preview %s: the account is not in today's run", preview);
    }

  if (!send)
    {
      guint n_held = 0;

      if (cli->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          recoup_cli_json_str (b, "today", run->today);
          recoup_cli_json_int (b, "recently_reminded", run->n_recent);
          json_builder_set_member_name (b, "items");
          json_builder_begin_array (b);
          for (guint i = 0; i < run->items->len; i++)
            json_run_item (b, g_ptr_array_index (run->items, i));
          json_builder_end_array (b);
          json_builder_end_object (b);
          recoup_cli_print_builder (b);
          return RECOUP_CLI_OK;
        }
      {
        g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("ACCOUNT", "NAME", "DPD", "BALANCE", "TEMPLATE",
                                                            "CHANNEL", "TO", "WHY", NULL);

        recoup_cli_table_align_right (t, 2);
        recoup_cli_table_align_right (t, 3);
        for (guint i = 0; i < run->items->len; i++)
          {
            RecoupRemindItem *it = g_ptr_array_index (run->items, i);
            g_autofree char *dpd = g_strdup_printf ("%d", it->days_past_due);
            g_autofree char *bal = recoup_cli_money_code (it->balance, it->currency);
            g_autofree char *why = it->warnings ? g_strdup_printf ("%s [warning: %s]", it->reason, it->warnings)
                                                : g_strdup (it->reason);

            if (it->held)
              {
                n_held++;
                continue;
              }
            recoup_cli_table_add (t, it->ref, it->name, dpd, bal, it->template_name, it->channel,
                                  it->to ? it->to : "", it->selected ? why : "(excluded)", NULL);
          }
        printf ("Reminder run for %s: %u to send, %u held back, %u reminded recently\n\n",
                run->today, run->items->len - n_held, n_held, run->n_recent);
        recoup_cli_table_print (t);
      }
      if (n_held > 0)
        {
          g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("HELD BACK", "NAME", "CHANNEL", "REASONS", NULL);

          printf ("\n");
          for (guint i = 0; i < run->items->len; i++)
            {
              RecoupRemindItem *it = g_ptr_array_index (run->items, i);

              if (it->held)
                recoup_cli_table_add (t, it->ref, it->name, it->channel, it->held_reasons ? it->held_reasons : "", NULL);
            }
          recoup_cli_table_print (t);
        }
      printf ("\nCarry it out with `recoup-cli remind --send`.\n");
      return RECOUP_CLI_OK;
    }

  {
    RecoupRemindOptions options = {
      .letters_dir = letters_dir,
      .batch_letters = batch,
      .render_letter = recoup_mail_letter_renderer,
      .render_data = paper ? paper : (gpointer) "a4",
      .progress = progress_cb,
      .progress_data = cli,
    };
    RecoupRemindResult result;
    RecoupMailStats stats = { 0, };
    g_autoptr(GError) send_error = NULL;
    gboolean delivered = TRUE;

    if (!recoup_remind_execute (book, run, &options, &result, &error))
      return recoup_cli_fail (cli, error);
    if (isatty (fileno (stderr)) && !cli->json)
      fprintf (stderr, "\n");
    if (!no_deliver && result.emails_queued > 0)
      delivered = recoup_mail_send_outbox (book, &stats, NULL, NULL, NULL, &send_error);

    if (cli->json)
      {
        g_autoptr(JsonBuilder) b = json_builder_new ();

        json_builder_begin_object (b);
        recoup_cli_json_int (b, "emails_queued", result.emails_queued);
        recoup_cli_json_int (b, "letters", result.letters);
        recoup_cli_json_int (b, "sms", result.sms);
        recoup_cli_json_int (b, "sent", stats.sent);
        recoup_cli_json_int (b, "failed", stats.failed);
        recoup_cli_json_int (b, "deferred", stats.deferred);
        recoup_cli_json_str (b, "delivery_error", send_error ? send_error->message : NULL);
        json_builder_set_member_name (b, "letter_files");
        json_builder_begin_array (b);
        for (guint i = 0; i < result.letter_paths->len; i++)
          json_builder_add_string_value (b, g_ptr_array_index (result.letter_paths, i));
        json_builder_end_array (b);
        json_builder_set_member_name (b, "sms_links");
        json_builder_begin_array (b);
        for (guint i = 0; i < result.sms_links->len; i++)
          json_builder_add_string_value (b, g_ptr_array_index (result.sms_links, i));
        json_builder_end_array (b);
        json_builder_end_object (b);
        recoup_cli_print_builder (b);
      }
    else
      {
        printf ("Queued %u email(s), wrote %u letter(s), prepared %u text(s)\n",
                result.emails_queued, result.letters, result.sms);
        for (guint i = 0; i < result.letter_paths->len; i++)
          printf ("Letters: %s\n", (char *) g_ptr_array_index (result.letter_paths, i));
        for (guint i = 0; i < result.sms_links->len; i++)
          printf ("Text: %s\n", (char *) g_ptr_array_index (result.sms_links, i));
        if (!no_deliver && result.emails_queued > 0)
          print_send_stats (cli, &stats);
        if (!delivered)
          fprintf (stderr, "recoup-cli: the emails wait in the outbox: %s\n", send_error->message);
      }
    recoup_remind_result_clear (&result);
  }
  return RECOUP_CLI_OK;
}

/* ---------------------------------------------------------------------------
 * outbox
 * ------------------------------------------------------------------------- */

static char *
format_ms (gint64 ms)
{
  g_autoptr(GDateTime) dt = NULL;

  if (ms <= 0)
    return g_strdup ("");
  dt = g_date_time_new_from_unix_utc (ms / 1000);
  return g_date_time_format (dt, "%Y-%m-%d %H:%M");
}

static char *
read_password_stdin (void)
{
  char buf[1024];

  if (fgets (buf, sizeof buf, stdin) == NULL)
    return NULL;
  buf[strcspn (buf, "\r\n")] = '\0';
  return g_strdup (buf);
}

int
recoup_cli_cmd_outbox (RecoupCli  *cli,
                       int         argc,
                       char      **argv)
{
  g_autofree char *state = NULL, *url = NULL, *from = NULL, *username = NULL, *security = NULL;
  gboolean password_stdin = FALSE;
  const GOptionEntry entries[] = {
    { "state", 0, 0, G_OPTION_ARG_STRING, &state, "list: only queued, sending, sent, failed or uncertain", "S" },
    { "url", 0, 0, G_OPTION_ARG_STRING, &url, "setup: smtp://host:587 (STARTTLS) or smtps://host:465", "URL" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "setup: the sender, “Name <address>”", "FROM" },
    { "username", 0, 0, G_OPTION_ARG_STRING, &username, "setup: the login", "USER" },
    { "security", 0, 0, G_OPTION_ARG_STRING, &security, "setup: starttls, tls, or none (127.0.0.1 only)", "S" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin, "setup: read the password from standard input", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  const char *sub;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "[list|show ID|send|retry ID|confirm ID|setup]",
                         "The email outbox: messages wait here until the mail server can be reached. "
                         "A message left “uncertain” by an interrupted send is never resent on its own: "
                         "check whether it arrived, then confirm or retry it.",
                         entries, &argc, &argv, &status))
    return status;
  sub = argc > 0 ? argv[0] : "list";
  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);

  if (g_str_equal (sub, "list"))
    {
      g_autoptr(GPtrArray) list = NULL;

      if (argc > 1)
        return recoup_cli_usage (cli, "outbox list takes no arguments (use --state)");
      if (!(list = recoup_outbox_list (book, state, 0, &error)))
        return recoup_cli_fail (cli, error);
      if (cli->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_array (b);
          for (guint i = 0; i < list->len; i++)
            {
              RecoupOutboxMessage *m = g_ptr_array_index (list, i);

              json_builder_begin_object (b);
              recoup_cli_json_str (b, "id", m->id);
              recoup_cli_json_str (b, "message_id", m->message_id);
              recoup_cli_json_str (b, "to", m->to);
              recoup_cli_json_str (b, "subject", m->subject);
              recoup_cli_json_str (b, "state", recoup_outbox_state_to_string (m->state));
              recoup_cli_json_int (b, "attempts", m->attempts);
              recoup_cli_json_str (b, "last_error", m->last_error);
              recoup_cli_json_str (b, "template", m->template_name);
              recoup_cli_json_int (b, "created_at", m->created_at);
              if (m->sent_at)
                recoup_cli_json_int (b, "sent_at", m->sent_at);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          recoup_cli_print_builder (b);
          return RECOUP_CLI_OK;
        }
      {
        g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("ID", "STATE", "TO", "SUBJECT", "QUEUED", "TRIES", "LAST ERROR", NULL);

        for (guint i = 0; i < list->len; i++)
          {
            RecoupOutboxMessage *m = g_ptr_array_index (list, i);
            g_autofree char *created = format_ms (m->created_at);
            g_autofree char *tries = g_strdup_printf ("%d", m->attempts);

            recoup_cli_table_add (t, m->id, recoup_outbox_state_to_string (m->state), m->to, m->subject,
                                  created, tries, m->last_error ? m->last_error : "", NULL);
          }
        recoup_cli_table_print (t);
      }
      return RECOUP_CLI_OK;
    }

  if (g_str_equal (sub, "show") || g_str_equal (sub, "retry") || g_str_equal (sub, "confirm"))
    {
      g_autofree char *id = NULL;
      g_autoptr(RecoupOutboxMessage) m = NULL;

      if (argc != 2)
        return recoup_cli_usage (cli, "outbox %s needs one message ID", sub);
      if (!(id = recoup_outbox_resolve (book, argv[1], &error)))
        return recoup_cli_fail (cli, error);
      if (g_str_equal (sub, "retry") && !recoup_outbox_retry (book, id, &error))
        return recoup_cli_fail (cli, error);
      if (g_str_equal (sub, "confirm") && !recoup_outbox_confirm (book, id, &error))
        return recoup_cli_fail (cli, error);
      if (!(m = recoup_outbox_load (book, id, &error)))
        return recoup_cli_fail (cli, error);
      if (!g_str_equal (sub, "show"))
        {
          printf ("%s is now %s\n", m->id, recoup_outbox_state_to_string (m->state));
          return RECOUP_CLI_OK;
        }
      printf ("Id: %s\nState: %s\nMessage-ID: %s\nTo: %s\nSubject: %s\nAttempts: %d\n",
              m->id, recoup_outbox_state_to_string (m->state), m->message_id, m->to, m->subject, m->attempts);
      if (m->last_error)
        printf ("Last error: %s\n", m->last_error);
      if (m->attachment_path)
        printf ("Attachment: %s (%s)\n", m->attachment_name, m->attachment_path);
      printf ("\n%s", m->body);
      return RECOUP_CLI_OK;
    }

  if (g_str_equal (sub, "send"))
    {
      RecoupMailStats stats = { 0, };

      if (!recoup_mail_send_outbox (book, &stats, NULL, NULL, NULL, &error))
        {
          print_send_stats (cli, &stats);
          return recoup_cli_fail (cli, error);
        }
      if (cli->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          recoup_cli_json_int (b, "sent", stats.sent);
          recoup_cli_json_int (b, "failed", stats.failed);
          recoup_cli_json_int (b, "deferred", stats.deferred);
          recoup_cli_json_int (b, "uncertain", stats.uncertain);
          json_builder_end_object (b);
          recoup_cli_print_builder (b);
        }
      else
        print_send_stats (cli, &stats);
      return stats.failed > 0 ? RECOUP_CLI_USER_ERROR : RECOUP_CLI_OK;
    }

  if (g_str_equal (sub, "setup"))
    {
      RecoupSmtpConfig config;

      if ((url && !recoup_settings_set_shared (book, "smtp.url", url, &error)) ||
          (from && !recoup_settings_set_shared (book, "smtp.from", from, &error)) ||
          (username && !recoup_settings_set_shared (book, "smtp.username", username, &error)) ||
          (security && !recoup_settings_set_shared (book, "smtp.security", security, &error)))
        return recoup_cli_fail (cli, error);
      if (password_stdin)
        {
          g_autofree char *pw = read_password_stdin ();

          if (pw == NULL)
            return recoup_cli_usage (cli, "--password-stdin: nothing on standard input");
          if (!recoup_smtp_password_store (book, pw, &error))
            return recoup_cli_fail (cli, error);
        }
      if (!recoup_smtp_config_load (book, &config, &error))
        return recoup_cli_fail (cli, error);
      printf ("Mail server %s (%s) as %s%s%s\n", config.url, config.security, config.from,
              config.username && *config.username ? ", login " : "",
              config.username && *config.username ? config.username : "");
      recoup_smtp_config_clear (&config);
      return RECOUP_CLI_OK;
    }

  return recoup_cli_usage (cli, "“%s” is not an outbox command (list, show, send, retry, confirm, setup)", sub);
}

/* ---------------------------------------------------------------------------
 * template
 * ------------------------------------------------------------------------- */

int
recoup_cli_cmd_template (RecoupCli  *cli,
                         int         argc,
                         char      **argv)
{
  g_autofree char *channel = NULL;
  const GOptionEntry entries[] = {
    { "channel", 'c', 0, G_OPTION_ARG_STRING, &channel, "set: email, letter or sms (default: the file's Channel: line, else the template's)", "C" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  const char *sub;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "list | show NAME | set NAME FILE | check FILE | reset NAME | fields",
                         "Reminder templates. A template file starts with optional “Subject: …” and "
                         "“Channel: …” lines and a blank line; the rest is the body. "
                         "See docs/templates.md for the merge fields.",
                         entries, &argc, &argv, &status))
    return status;
  sub = argc > 0 ? argv[0] : "list";

  if (g_str_equal (sub, "fields"))
    {
      const char * const *fields = recoup_template_fields ();

      for (guint i = 0; fields[i] != NULL; i++)
        printf ("%s\n", fields[i]);
      return RECOUP_CLI_OK;
    }

  if (g_str_equal (sub, "check"))
    {
      g_autofree char *text = NULL;

      if (argc != 2)
        return recoup_cli_usage (cli, "template check needs one FILE");
      if (!g_file_get_contents (argv[1], &text, NULL, &error))
        return recoup_cli_fail (cli, error);
      if (!recoup_template_parse_file_text (text, NULL, NULL, NULL, &error))
        {
          g_prefix_error (&error, "%s:", argv[1]);
          return recoup_cli_fail (cli, error);
        }
      printf ("%s: the template is valid\n", argv[1]);
      return RECOUP_CLI_OK;
    }

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);

  if (g_str_equal (sub, "list"))
    {
      g_autoptr(GPtrArray) list = recoup_template_list (book, &error);

      if (list == NULL)
        return recoup_cli_fail (cli, error);
      if (cli->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_array (b);
          for (guint i = 0; i < list->len; i++)
            {
              RecoupTemplateInfo *t = g_ptr_array_index (list, i);

              json_builder_begin_object (b);
              recoup_cli_json_str (b, "name", t->name);
              recoup_cli_json_str (b, "channel", t->channel);
              recoup_cli_json_str (b, "title", t->title);
              recoup_cli_json_bool (b, "customised", t->customised);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          recoup_cli_print_builder (b);
          return RECOUP_CLI_OK;
        }
      {
        g_autoptr(RecoupCliTable) table = recoup_cli_table_new ("NAME", "CHANNEL", "TITLE", "VERSION", NULL);

        for (guint i = 0; i < list->len; i++)
          {
            RecoupTemplateInfo *t = g_ptr_array_index (list, i);

            recoup_cli_table_add (table, t->name, t->channel, t->title,
                                  t->customised ? "this book's" : "shipped", NULL);
          }
        recoup_cli_table_print (table);
      }
      return RECOUP_CLI_OK;
    }

  if (g_str_equal (sub, "show"))
    {
      g_autoptr(RecoupTemplateInfo) t = NULL;

      if (argc != 2)
        return recoup_cli_usage (cli, "template show needs one NAME");
      if (!(t = recoup_template_get (book, argv[1], &error)))
        return recoup_cli_fail (cli, error);
      /* In the file format `template set` reads back. */
      if (t->subject && *t->subject)
        printf ("Subject: %s\n", t->subject);
      printf ("Channel: %s\n\n%s", t->channel, t->body);
      return RECOUP_CLI_OK;
    }

  if (g_str_equal (sub, "set"))
    {
      g_autofree char *text = NULL, *file_channel = NULL, *subject = NULL, *body = NULL;
      g_autoptr(RecoupTemplateInfo) existing = NULL;

      if (argc != 3)
        return recoup_cli_usage (cli, "template set needs a NAME and a FILE");
      if (!g_file_get_contents (argv[2], &text, NULL, &error))
        return recoup_cli_fail (cli, error);
      if (!recoup_template_parse_file_text (text, &file_channel, &subject, &body, &error))
        {
          g_prefix_error (&error, "%s:", argv[2]);
          return recoup_cli_fail (cli, error);
        }
      existing = recoup_template_get (book, argv[1], NULL);
      if (channel == NULL)
        channel = g_strdup (file_channel ? file_channel : existing ? existing->channel : "email");
      if (!recoup_template_save (book, argv[1], channel, subject, body, &error))
        return recoup_cli_fail (cli, error);
      printf ("Template %s saved (%s)\n", argv[1], channel);
      return RECOUP_CLI_OK;
    }

  if (g_str_equal (sub, "reset"))
    {
      if (argc != 2)
        return recoup_cli_usage (cli, "template reset needs one NAME");
      if (!recoup_template_reset (book, argv[1], &error))
        return recoup_cli_fail (cli, error);
      printf ("Template %s: back to the shipped version\n", argv[1]);
      return RECOUP_CLI_OK;
    }

  return recoup_cli_usage (cli, "“%s” is not a template command (list, show, set, check, reset, fields)", sub);
}
