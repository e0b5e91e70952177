/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <stdio.h>

#include "recoup-cli.h"

/* Finds a contact point of the account by id or by its value. */
static char *
resolve_contact (RecoupBook  *book,
                 const char  *account_id,
                 const char  *id_or_value,
                 GError     **error)
{
  g_autoptr(GPtrArray) list = recoup_contact_list (book, account_id, error);

  if (list == NULL)
    return NULL;
  for (guint i = 0; i < list->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (list, i);

      if (g_strcmp0 (cp->id, id_or_value) == 0 || g_strcmp0 (cp->value, id_or_value) == 0)
        return g_strdup (cp->id);
    }
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
               "the account has no contact point “%s”", id_or_value);
  return NULL;
}

int
recoup_cli_cmd_log (RecoupCli  *cli,
                    int         argc,
                    char      **argv)
{
  g_autofree char *channel = NULL, *outcome = NULL, *notes = NULL, *at = NULL;
  g_autofree char *contact = NULL, *direction = NULL, *override = NULL;
  const GOptionEntry entries[] = {
    { "channel", 'c', 0, G_OPTION_ARG_STRING, &channel, "call, sms, email, letter, visit or note", "C" },
    { "outcome", 'o', 0, G_OPTION_ARG_STRING, &outcome, "right-party, promise, refused, dispute, callback-requested; for a call also no-answer, voicemail, wrong-number; a visit no-answer; sms, email, letter sent, delivered, bounced", "O" },
    { "notes", 'n', 0, G_OPTION_ARG_STRING, &notes, "What was said or done", "TEXT" },
    { "at", 0, 0, G_OPTION_ARG_STRING, &at, "When (ISO 8601 with offset or Z; default now)", "TIME" },
    { "contact", 0, 0, G_OPTION_ARG_STRING, &contact, "The phone, email or address used (value or id)", "C" },
    { "direction", 0, 0, G_OPTION_ARG_STRING, &direction, "outbound (default) or inbound", "D" },
    { "override", 0, 0, G_OPTION_ARG_STRING, &override, "For a contact the compliance guard blocks: what happened, or why it was necessary (without the right to override, the account is flagged for review)", "REASON" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *account_id = NULL, *contact_id = NULL, *id = NULL;
  g_autoptr(RecoupGuardVerdict) verdict = NULL;
  RecoupActivityLogged logged = RECOUP_ACTIVITY_LOGGED;
  RecoupActivitySpec spec = { 0 };
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT", "Log a contact or a note in an account's history.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ACCOUNT (reference or id)");
  if (channel == NULL)
    return recoup_cli_usage (cli, "--channel is required");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(account_id = recoup_account_resolve (book, argv[0], &error)))
    return recoup_cli_fail (cli, error);
  if (at != NULL && !recoup_instant_parse (at, &spec.at, &error))
    return recoup_cli_fail (cli, error);
  if (contact != NULL && !(contact_id = resolve_contact (book, account_id, contact, &error)))
    return recoup_cli_fail (cli, error);

  spec.account_id = account_id;
  spec.channel = channel;
  spec.outcome = outcome;
  spec.notes = notes;
  spec.direction = direction;
  spec.contact_point_id = contact_id;
  spec.override_reason = override;

  /* The compliance guard answers for outbound contacts (not notes or inbound
   * ones); what it says is printed, and core decides whether it is logged. */
  id = recoup_activity_log_guarded (book, &spec, &verdict, &logged, &error);
  for (guint i = 0; verdict != NULL && i < verdict->reasons->len; i++)
    {
      RecoupGuardReason *r = g_ptr_array_index (verdict->reasons, i);

      fprintf (stderr, "%s %s: %s\n", r->blocks ? "blocked" : "warning", r->code, r->text);
    }
  if (id == NULL)
    {
      if (g_error_matches (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_BLOCKED))
        {
          char *message = g_strdup_printf ("%s (--override \"TEXT\")", error->message);

          g_free (error->message);
          error->message = message;
        }
      return recoup_cli_fail (cli, error);
    }
  if (logged == RECOUP_ACTIVITY_LOGGED_FLAGGED)
    fprintf (stderr, "logged outside the compliance rules: the account is flagged for the owner's review\n");

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, id);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    printf ("Logged %s%s%s for %s (%s)\n", channel, outcome ? " " : "", outcome ? outcome : "",
            argv[0], id);
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_history (RecoupCli  *cli,
                        int         argc,
                        char      **argv)
{
  int limit = 50;
  const GOptionEntry entries[] = {
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "Show at most N entries (default 50; 0 for all)", "N" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *account_id = NULL;
  g_autoptr(GPtrArray) list = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT", "Show an account's contact history, newest first.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ACCOUNT (reference or id)");
  if (limit < 0)
    return recoup_cli_usage (cli, "--limit must be 0 or more");

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(account_id = recoup_account_resolve (book, argv[0], &error)) ||
      !(list = recoup_activity_list (book, account_id, (guint) limit, &error)))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        {
          RecoupActivity *a = g_ptr_array_index (list, i);
          g_autofree char *when = recoup_instant_format (a->at);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "id");
          json_builder_add_string_value (b, a->id);
          json_builder_set_member_name (b, "at");
          json_builder_add_string_value (b, when);
          json_builder_set_member_name (b, "channel");
          json_builder_add_string_value (b, a->channel);
          json_builder_set_member_name (b, "direction");
          json_builder_add_string_value (b, a->direction);
          json_builder_set_member_name (b, "outcome");
          json_builder_add_string_value (b, a->outcome);
          json_builder_set_member_name (b, "contact");
          json_builder_add_string_value (b, a->contact);
          json_builder_set_member_name (b, "user");
          json_builder_add_string_value (b, a->user_name);
          json_builder_set_member_name (b, "notes");
          json_builder_add_string_value (b, a->notes);
          json_builder_set_member_name (b, "override_reason");
          json_builder_add_string_value (b, a->override_reason);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("WHEN (UTC)", "CHANNEL", "OUTCOME", "BY", "CONTACT", "NOTES",
                                                             NULL);

      for (guint i = 0; i < list->len; i++)
        {
          RecoupActivity *a = g_ptr_array_index (list, i);
          g_autofree char *when = recoup_instant_format (a->at);
          g_autofree char *notes = a->override_reason
            ? g_strdup_printf ("%s [override: %s]", a->notes, a->override_reason)
            : g_strdup (a->notes);

          recoup_cli_table_add (t, when, a->channel, a->outcome, a->user_name, a->contact, notes, NULL);
        }
      if (list->len == 0)
        printf ("No contacts logged for %s yet.\n", argv[0]);
      else
        recoup_cli_table_print (t);
    }
  return RECOUP_CLI_OK;
}
