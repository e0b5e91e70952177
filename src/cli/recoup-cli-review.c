/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <stdio.h>

#include "recoup-cli.h"

/* What the owner must review (recoup-review.h) from the shell: list the
 * items, mark them reviewed. Who may mark is core's rule. */

/* NULL (JSON null) for 0, the legacy item's missing instant. */
static char *
format_instant (gint64 ms)
{
  return ms != 0 ? recoup_instant_format (ms) : NULL;
}

static void
json_item (JsonBuilder      *b,
           RecoupReviewItem *item)
{
  g_autofree char *created = format_instant (item->created_at);
  g_autofree char *reviewed = format_instant (item->reviewed_at);
  JsonNode *payload = item->payload != NULL ? json_from_string (item->payload, NULL) : NULL;

  json_builder_begin_object (b);
  recoup_cli_json_str (b, "id", item->id);
  recoup_cli_json_str (b, "kind", item->kind);
  recoup_cli_json_str (b, "account", item->account_ref);
  recoup_cli_json_str (b, "account_id", item->account_id);
  recoup_cli_json_str (b, "account_name", item->account_name);
  recoup_cli_json_str (b, "created_at", created);
  recoup_cli_json_str (b, "user", item->user_name);
  recoup_cli_json_str (b, "text", item->text);
  /* The values as the book keeps them: channel, instant, rule codes. */
  json_builder_set_member_name (b, "payload");
  if (payload != NULL)
    json_builder_add_value (b, payload);
  else
    json_builder_add_null_value (b);
  recoup_cli_json_bool (b, "reviewed", item->reviewed_at != 0);
  recoup_cli_json_str (b, "reviewed_at", reviewed);
  recoup_cli_json_str (b, "reviewed_by", item->reviewed_by);
  json_builder_end_object (b);
}

static void
print_items (GPtrArray *items,
             gboolean   with_reviewed)
{
  g_autoptr(RecoupCliTable) t = with_reviewed
    ? recoup_cli_table_new ("ID", "ACCOUNT", "NAME", "RAISED (UTC)", "BY", "REVIEWED (UTC)", "REVIEWED BY",
                            "WHAT", NULL)
    : recoup_cli_table_new ("ID", "ACCOUNT", "NAME", "RAISED (UTC)", "BY", "WHAT", NULL);

  for (guint i = 0; i < items->len; i++)
    {
      RecoupReviewItem *item = g_ptr_array_index (items, i);
      g_autofree char *created = format_instant (item->created_at);
      g_autofree char *reviewed = item->reviewed_at != 0 ? recoup_instant_format (item->reviewed_at) : g_strdup ("open");
      /* The legacy text has no id: it is closed with --account REF --all-open. */
      const char *id = item->id != NULL ? recoup_cli_short_id (item->id) : "(legacy)";

      if (with_reviewed)
        recoup_cli_table_add (t, id, item->account_ref, item->account_name, created, item->user_name,
                              reviewed, item->reviewed_by, item->text, NULL);
      else
        recoup_cli_table_add (t, id, item->account_ref, item->account_name, created, item->user_name,
                              item->text, NULL);
    }
  recoup_cli_table_print (t);
}

static int
list_items (RecoupCli  *cli,
            const char *account_ref,
            gboolean    all)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *account_id = NULL;
  g_autoptr(GPtrArray) items = NULL;
  RecoupBook *book;

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      (account_ref != NULL && !(account_id = recoup_account_resolve (book, account_ref, &error))) ||
      !(items = recoup_review_list (book, account_id, all, &error)))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_array (b);
      for (guint i = 0; i < items->len; i++)
        json_item (b, g_ptr_array_index (items, i));
      json_builder_end_array (b);
      recoup_cli_print_builder (b);
    }
  else if (items->len == 0 && account_ref != NULL)
    printf (all ? "%s has no review items.\n" : "Nothing on %s needs review.\n", account_ref);
  else if (items->len == 0)
    printf (all ? "The book has no review items.\n" : "Nothing needs review.\n");
  else
    print_items (items, all);
  return RECOUP_CLI_OK;
}

/* @n_named: how many items the user named (or were open); those not marked
 * now were reviewed already: core writes no second mark. */
static void
print_marked (RecoupCli  *cli,
              guint       marked,
              guint       n_named,
              const char *where)
{
  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      recoup_cli_json_int (b, "marked", marked);
      recoup_cli_json_int (b, "already_reviewed", n_named - marked);
      json_builder_end_object (b);
      recoup_cli_print_builder (b);
    }
  else if (n_named == 0)
    printf ("Nothing%s needs review.\n", where);
  else if (marked == 0)
    printf ("Nothing marked: %s reviewed already.\n", n_named == 1 ? "the item was" : "the items were");
  else
    printf ("Marked %u item%s reviewed%s%s.\n", marked, marked == 1 ? "" : "s", where,
            marked < n_named ? "; the others were reviewed already" : "");
}

/* Every item open on the account, as the app's “Mark reviewed” does. */
static int
mark_all_open (RecoupCli  *cli,
               const char *account_ref)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *account_id = NULL;
  g_autofree char *where = g_strdup_printf (" on %s", account_ref);
  g_autoptr(GPtrArray) items = NULL;
  RecoupBook *book;

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(account_id = recoup_account_resolve (book, account_ref, &error)) ||
      !(items = recoup_review_list_open (book, account_id, &error)) ||
      !recoup_review_mark (book, account_id, items, &error))
    return recoup_cli_fail (cli, error);
  print_marked (cli, items->len, items->len, where);
  return RECOUP_CLI_OK;
}

static int
mark_ids (RecoupCli  *cli,
          int         n_ids,
          char      **ids)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = g_ptr_array_new ();
  RecoupBook *book;
  guint marked = 0;

  for (int i = 0; i < n_ids; i++)
    g_ptr_array_add (list, ids[i]);
  g_ptr_array_add (list, NULL);
  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !recoup_review_mark_ids (book, (const char * const *) list->pdata, &marked, &error))
    return recoup_cli_fail (cli, error);
  print_marked (cli, marked, (guint) n_ids, "");
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_review (RecoupCli  *cli,
                       int         argc,
                       char      **argv)
{
  g_autofree char *account = NULL;
  gboolean all = FALSE, all_open = FALSE;
  const GOptionEntry entries[] = {
    { "account", 'a', 0, G_OPTION_ARG_STRING, &account, "Only this account's items (list), or the account whose open items --all-open marks", "REF" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "List the reviewed items too, with who marked them and when", NULL },
    { "all-open", 0, 0, G_OPTION_ARG_NONE, &all_open, "mark: every item open on --account", NULL },
    { NULL }
  };
  int status;

  if (!recoup_cli_parse (cli, "[mark ITEM_ID…]",
                         "List what an owner must review (a contact logged outside the compliance rules, an "
                         "offer whose answers conflicted offline), newest first, or mark items reviewed (owners "
                         "only; all the named items or none). An item is named by its id or its last 6 or more "
                         "characters.", entries, &argc, &argv, &status))
    return status;

  if (argc == 0)
    {
      if (all_open)
        return recoup_cli_usage (cli, "--all-open goes with “review mark --account REF”");
      return list_items (cli, account, all);
    }
  if (!g_str_equal (argv[0], "mark"))
    return recoup_cli_usage (cli, "unknown review action “%s” (mark)", argv[0]);
  if (all)
    return recoup_cli_usage (cli, "--all lists the reviewed items; to mark every open item use --account REF --all-open");
  if (argc > 1 && (all_open || account != NULL))
    return recoup_cli_usage (cli, "give ITEM_IDs or --account REF --all-open, not both");
  if (argc > 1)
    return mark_ids (cli, argc - 1, argv + 1);
  if (all_open && account != NULL)
    return mark_all_open (cli, account);
  if (all_open)
    return recoup_cli_usage (cli, "--all-open needs --account REF: the account whose open items to mark");
  return recoup_cli_usage (cli, "give the ITEM_IDs to mark reviewed, or --account REF --all-open");
}
