/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <stdio.h>

#include "recoup-cli.h"
#include "recoup-sync.h"

/* recoup-cli enroll CODE: connects the book to a recoupd server. An empty (or
 * missing) book starts as a snapshot of the organisation's book; a book with
 * data of its own joins only with an owner's code. */
int
recoup_cli_cmd_enroll (RecoupCli  *cli,
                       int         argc,
                       char      **argv)
{
  g_autofree char *name = NULL;
  const GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "This device's name on the server (default: host name)", "NAME" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) bootstrap_error = NULL;
  g_autoptr(RecoupSyncEnrollment) e = NULL;
  g_autoptr(RecoupBook) probe = NULL;
  gboolean empty;
  gboolean bootstrapped;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "CODE", "Connect this book to a Recoup server with an enrollment code "
                         "(from “recoupd admin enroll”). The server's certificate is pinned.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one enrollment CODE");
  if (cli->book_path == NULL)
    cli->book_path = recoup_default_book_path ();

  if (g_file_test (cli->book_path, G_FILE_TEST_EXISTS))
    {
      if (!(probe = recoup_book_open (cli->book_path, RECOUP_BOOK_OPEN_NO_CREATE, &error)))
        return recoup_cli_fail (cli, error);
      empty = recoup_book_count_changes (probe) == 0;
    }
  else
    empty = TRUE;

  /* Refused unspent (recoup_sync_enroll_book()): a code that would make
   * this book a collector's if the book has data of its own, and for a book
   * enrolled already, a code of another team. A code of its own team
   * enrolls it again (its device was revoked, or its user removed). */
  e = recoup_sync_enroll_book (probe, argv[0], name, NULL, &error);
  /* A snapshot replaces the file: nothing may hold it open. */
  g_clear_object (&probe);
  if (e == NULL)
    return recoup_cli_fail (cli, error);
  /* The code is spent: a snapshot that cannot be downloaded now must not
   * undo the enrollment. The book is attached as it is, as the app's Connect
   * does, and the first sync brings the organisation's book as changes. */
  bootstrapped = empty && recoup_sync_bootstrap (e, cli->book_path, NULL, &bootstrap_error);
  if (!(book = recoup_cli_open_book (cli, TRUE, &error)))
    return recoup_cli_fail (cli, error);
  if (!recoup_sync_attach (book, e, &error))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "server");
      json_builder_add_string_value (b, e->url);
      json_builder_set_member_name (b, "fingerprint");
      json_builder_add_string_value (b, e->fingerprint);
      json_builder_set_member_name (b, "device_id");
      json_builder_add_string_value (b, e->device_id);
      json_builder_set_member_name (b, "user");
      json_builder_add_string_value (b, e->user_name);
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, e->role);
      json_builder_set_member_name (b, "bootstrapped");
      json_builder_add_boolean_value (b, bootstrapped);
      json_builder_set_member_name (b, "bootstrap_error");
      if (bootstrap_error != NULL)
        json_builder_add_string_value (b, bootstrap_error->message);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      g_autofree char *fp = recoup_sync_format_fingerprint (e->fingerprint);

      printf ("Enrolled %s as %s (%s) on %s.\nServer certificate SHA-256: %s\n",
              cli->book_path, e->user_name, e->role, e->url, fp);
      if (bootstrapped)
        printf ("The book starts as a copy of the organisation's book; run “recoup-cli sync” to update it.\n");
      else if (bootstrap_error != NULL)
        printf ("The copy of the organisation's book could not be downloaded (%s).\n"
                "This device is enrolled all the same: do not enroll it again (the code is used up). "
                "Run “recoup-cli sync” when the server is reachable; it receives the organisation's "
                "book as changes.\n", bootstrap_error->message);
      else
        printf ("Run “recoup-cli sync” to send this book's changes and receive the others'.\n");
    }
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_sync (RecoupCli  *cli,
                     int         argc,
                     char      **argv)
{
  int batch = 1000;
  const GOptionEntry entries[] = {
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Changes per request (default 1000)", "N" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupSyncClient) client = NULL;
  RecoupSyncReport report = { 0 };
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, NULL, "Send this book's unsent changes to the server, then receive "
                         "everyone else's.", entries, &argc, &argv, &status))
    return status;
  if (argc != 0)
    return recoup_cli_usage (cli, "sync takes no arguments");
  if (batch < 1)
    return recoup_cli_usage (cli, "--batch must be at least 1");
  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(client = recoup_sync_client_new (book, &error)))
    return recoup_cli_fail (cli, error);
  recoup_sync_client_set_batch_size (client, (guint) batch, (guint) batch);
  if (!recoup_sync_client_run (client, &report, NULL, &error))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "pushed");
      json_builder_add_int_value (b, report.pushed);
      json_builder_set_member_name (b, "rejected");
      json_builder_add_int_value (b, report.rejected);
      json_builder_set_member_name (b, "pulled");
      json_builder_add_int_value (b, report.pulled);
      json_builder_set_member_name (b, "applied");
      json_builder_add_int_value (b, report.applied);
      json_builder_set_member_name (b, "cursor");
      json_builder_add_int_value (b, report.cursor);
      json_builder_set_member_name (b, "restamped");
      json_builder_add_int_value (b, report.restamped);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else
    {
      printf ("Sent %u change%s", report.pushed, report.pushed == 1 ? "" : "s");
      if (report.rejected > 0)
        printf (" (%u refused by the server: see “recoup-cli sync-status”)", report.rejected);
      if (report.restamped > 0)
        printf (" (%u re-stamped: this device's clock had run ahead of the server's)", report.restamped);
      printf ("; received %u, %u new. Up to date with server sequence %" G_GINT64_FORMAT ".\n",
              report.pulled, report.applied, report.cursor);
    }
  return report.rejected > 0 ? RECOUP_CLI_USER_ERROR : RECOUP_CLI_OK;
}

/* Names the account and the people of each refusal or lost edit. */
static gboolean
describe_each (RecoupBook  *book,
               JsonArray   *array,
               gboolean   (*describe) (RecoupBook *, JsonObject *, GError **),
               GError     **error)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (!describe (book, json_array_get_object_element (array, i), error))
      return FALSE;
  return TRUE;
}

/* What a lost edit changed: the field of a row of the account ("stage",
 * "contact_points.value"), or the shared setting. */
static char *
conflict_field (JsonObject *c)
{
  const char *entity = json_object_get_string_member_with_default (c, "entity", "");
  const char *field = json_object_get_string_member_with_default (c, "field", "");

  if (g_str_equal (entity, "settings"))
    return g_strdup_printf ("setting %s", json_object_get_string_member_with_default (c, "entity_id", ""));
  if (g_str_equal (entity, "accounts"))
    return g_strdup (field);
  return g_strdup_printf ("%s.%s", entity, field);
}

int
recoup_cli_cmd_sync_status (RecoupCli  *cli,
                            int         argc,
                            char      **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL, *user = NULL, *role = NULL, *fp = NULL;
  g_autofree char *last_ok = NULL, *last_error = NULL;
  g_autoptr(JsonArray) rejections = NULL;
  g_autoptr(JsonArray) conflicts = NULL;
  RecoupBook *book;
  gint64 pending;
  int status;

  if (!recoup_cli_parse (cli, NULL, "Show whether this book is connected, what is waiting to be "
                         "sent, what the server refused and which edits lost a conflict.",
                         NULL, &argc, &argv, &status))
    return status;
  if (argc != 0)
    return recoup_cli_usage (cli, "sync-status takes no arguments");
  if (!(book = recoup_cli_open_book (cli, FALSE, &error)))
    return recoup_cli_fail (cli, error);

  url = recoup_book_get_setting (book, "sync.url");
  user = recoup_book_get_setting (book, "sync.user_name");
  role = recoup_book_get_setting (book, "sync.role");
  fp = recoup_book_get_setting (book, "sync.fingerprint");
  last_ok = recoup_book_get_setting (book, "sync.last_ok_at");
  last_error = recoup_book_get_setting (book, "sync.last_error");
  pending = recoup_merge_count_unsent (book);
  if (!(rejections = recoup_merge_list_rejections (book, &error)) ||
      !(conflicts = recoup_merge_list_conflicts (book, &error)) ||
      !describe_each (book, rejections, recoup_merge_describe_rejection, &error) ||
      !describe_each (book, conflicts, recoup_merge_describe_conflict, &error))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "enrolled");
      json_builder_add_boolean_value (b, url != NULL);
      json_builder_set_member_name (b, "server");
      if (url) json_builder_add_string_value (b, url); else json_builder_add_null_value (b);
      json_builder_set_member_name (b, "user");
      if (user) json_builder_add_string_value (b, user); else json_builder_add_null_value (b);
      json_builder_set_member_name (b, "pending");
      json_builder_add_int_value (b, pending);
      json_builder_set_member_name (b, "cursor");
      json_builder_add_int_value (b, recoup_merge_get_cursor (book));
      json_builder_set_member_name (b, "last_ok_at");
      json_builder_add_int_value (b, last_ok ? g_ascii_strtoll (last_ok, NULL, 10) : 0);
      json_builder_set_member_name (b, "last_error");
      if (last_error && *last_error) json_builder_add_string_value (b, last_error);
      else json_builder_add_null_value (b);
      json_builder_set_member_name (b, "rejected");
      json_builder_add_value (b, json_node_init_array (json_node_alloc (), rejections));
      json_builder_set_member_name (b, "conflicts");
      json_builder_add_value (b, json_node_init_array (json_node_alloc (), conflicts));
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
      return RECOUP_CLI_OK;
    }

  if (url == NULL)
    printf ("Not connected to a server (connect with “recoup-cli enroll CODE”).\n");
  else
    {
      g_autofree char *shown_fp = recoup_sync_format_fingerprint (fp);

      printf ("Server: %s (certificate SHA-256 %s)\nUser: %s (%s)\n", url, *shown_fp ? shown_fp : "-",
              user ? user : "-", role ? role : "-");
    }
  printf ("Waiting to be sent: %" G_GINT64_FORMAT " change%s\n", pending, pending == 1 ? "" : "s");
  printf ("Server sequence reached: %" G_GINT64_FORMAT "\n", recoup_merge_get_cursor (book));
  if (last_ok != NULL)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (g_ascii_strtoll (last_ok, NULL, 10) / 1000);
      g_autofree char *when = dt ? g_date_time_format (dt, "%Y-%m-%d %H:%M:%S UTC") : g_strdup ("?");
      printf ("Last successful sync: %s\n", when);
    }
  if (last_error != NULL && *last_error)
    printf ("Last error: %s\n", last_error);
  for (int resent = 1; resent >= 0; resent--)
    {
      g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("CHANGE", "ACCOUNT", "REASON", "MESSAGE", NULL);
      guint n = 0;

      for (guint i = 0; i < json_array_get_length (rejections); i++)
        {
          JsonObject *r = json_array_get_object_element (rejections, i);
          const char *reason = json_object_get_string_member (r, "reason");

          if (recoup_merge_reason_is_resent (reason) != resent)
            continue;
          recoup_cli_table_add (t, json_object_get_string_member (r, "change_id"),
                                json_object_get_string_member_with_default (r, "account_ref", "-"), reason,
                                json_object_get_string_member (r, "message"), NULL);
          n++;
        }
      if (n == 0)
        continue;
      printf (resent ? "\nRefused by the server for now (sent again with the next sync):\n"
                     : "\nRefused by the server (kept in this book, not resent):\n");
      recoup_cli_table_print (t);
    }
  if (json_array_get_length (conflicts) > 0)
    {
      g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("ACCOUNT", "FIELD", "LOST VALUE", "BY",
                                                          "REPLACED BY", NULL);

      printf ("\nEdits that lost to a later one on another device:\n");
      for (guint i = 0; i < json_array_get_length (conflicts); i++)
        {
          JsonObject *c = json_array_get_object_element (conflicts, i);
          const char *value_name = json_object_get_string_member_with_default (c, "value_name", NULL);
          const char *loser = json_object_get_string_member_with_default (c, "loser_name", "?");
          gboolean own = json_object_get_boolean_member_with_default (c, "own", FALSE);
          g_autofree char *value = value_name != NULL
                                   ? g_strdup (value_name)
                                   : json_to_string (json_object_get_member (c, "value"), FALSE);
          g_autofree char *field = conflict_field (c);
          g_autofree char *by = g_strdup_printf ("%s%s", loser, own ? " (this device)" : "");

          recoup_cli_table_add (t, json_object_get_string_member_with_default (c, "account_ref", "-"), field,
                                value, by, json_object_get_string_member_with_default (c, "winner_name", "?"),
                                NULL);
        }
      recoup_cli_table_print (t);
    }
  return RECOUP_CLI_OK;
}
