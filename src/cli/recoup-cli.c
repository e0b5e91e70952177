/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "recoup-cli.h"

struct _RecoupCliTable
{
  guint      n_columns;
  GPtrArray *rows;        /* GStrv; the first is the header */
  gboolean  *right;
};

static char    *opt_book;
static char    *opt_user;
static gboolean opt_json;

static const GOptionEntry common_entries[] = {
  { "book", 'b', 0, G_OPTION_ARG_FILENAME, &opt_book, "The book to use (default: $RECOUP_BOOK or the XDG data dir)", "PATH" },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON for scripts (amounts in minor units)", NULL },
  { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Act as this user of the book (name or id)", "USER" },
  { NULL }
};

gboolean
recoup_cli_parse (RecoupCli           *cli,
                  const char          *parameters,
                  const char          *description,
                  const GOptionEntry  *entries,
                  int                 *argc,
                  char              ***argv,
                  int                 *exit_code)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("recoup-cli %s", cli->command);

  opt_book = NULL;
  opt_user = NULL;
  opt_json = FALSE;

  /* GOption's help begins “Usage: PRGNAME [OPTION…] PARAMETERS”: the command
   * goes into the program's name, so that it reads as typed
   * (“recoup-cli pay [OPTION…] ACCOUNT”), once. */
  g_set_prgname (prgname);
  context = g_option_context_new (parameters != NULL && *parameters != '\0' ? parameters : NULL);
  g_option_context_set_summary (context, description);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_main_entries (context, common_entries, NULL);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *exit_code = recoup_cli_usage (cli, "%s", error->message);
      return FALSE;
    }

  if (opt_book != NULL)
    {
      g_free (cli->book_path);
      cli->book_path = g_steal_pointer (&opt_book);
    }
  if (opt_user != NULL)
    {
      g_free (cli->user);
      cli->user = g_steal_pointer (&opt_user);
    }
  if (opt_json)
    cli->json = TRUE;

  /* Drop the program name GOption leaves in argv[0]. */
  (*argc)--;
  (*argv)++;
  return TRUE;
}

RecoupBook *
recoup_cli_open_book (RecoupCli  *cli,
                      gboolean    create,
                      GError    **error)
{
  if (cli->book != NULL)
    return cli->book;

  if (cli->book_path == NULL)
    cli->book_path = recoup_default_book_path ();

  /* SQLite would only say “unable to open database file”. */
  if (g_file_test (cli->book_path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_A_BOOK,
                   "%s is a directory, not a Recoup book", cli->book_path);
      return NULL;
    }

  cli->book = recoup_book_open (cli->book_path,
                                create ? RECOUP_BOOK_OPEN_DEFAULT : RECOUP_BOOK_OPEN_NO_CREATE,
                                error);
  if (cli->book != NULL && cli->user != NULL)
    {
      if (!recoup_user_act_as (cli->book, cli->user, error))
        g_clear_object (&cli->book);
    }
  return cli->book;
}

int
recoup_cli_fail (RecoupCli *cli,
                 GError    *error)
{
  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, error ? error->message : "unknown error");
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      json_generator_set_root (gen, root);
      g_autofree char *text = json_generator_to_data (gen, NULL);
      fprintf (stderr, "%s\n", text);
    }
  else
    fprintf (stderr, "recoup-cli %s: %s\n", cli->command, error ? error->message : "unknown error");
  return RECOUP_CLI_USER_ERROR;
}

int
recoup_cli_usage (RecoupCli  *cli,
                  const char *format,
                  ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "recoup-cli %s: %s\nTry “recoup-cli %s --help”.\n",
           cli->command ? cli->command : "", msg, cli->command ? cli->command : "");
  return RECOUP_CLI_USAGE;
}

char *
recoup_cli_money (gint64      minor,
                  const char *currency)
{
  return recoup_money_format (minor, currency, RECOUP_MONEY_FORMAT_GROUPING);
}

char *
recoup_cli_money_code (gint64      minor,
                       const char *currency)
{
  return recoup_money_format (minor, currency, RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
}

const char *
recoup_cli_short_id (const char *id)
{
  gsize len = strlen (id);

  return len > 8 ? id + len - 8 : id;
}

gboolean
recoup_cli_parse_amount (const char  *text,
                         const char  *currency,
                         gint64      *out_minor,
                         GError     **error)
{
  return recoup_money_parse (text, currency, out_minor, error);
}

void
recoup_cli_print_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
}

void
recoup_cli_print_builder (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  recoup_cli_print_json (root);
}

/* A NULL string becomes JSON null. */
void
recoup_cli_json_str (JsonBuilder *builder,
                     const char  *member,
                     const char  *value)
{
  json_builder_set_member_name (builder, member);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
recoup_cli_json_int (JsonBuilder *builder,
                     const char  *member,
                     gint64       value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, value);
}

void
recoup_cli_json_bool (JsonBuilder *builder,
                      const char  *member,
                      gboolean     value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_boolean_value (builder, value);
}

RecoupCliTable *
recoup_cli_table_new (const char *first_header,
                      ...)
{
  RecoupCliTable *table = g_new0 (RecoupCliTable, 1);
  GPtrArray *header = g_ptr_array_new ();
  va_list args;

  va_start (args, first_header);
  for (const char *h = first_header; h != NULL; h = va_arg (args, const char *))
    g_ptr_array_add (header, g_strdup (h));
  va_end (args);
  table->n_columns = header->len;
  g_ptr_array_add (header, NULL);
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_ptr_array_add (table->rows, g_ptr_array_free (header, FALSE));
  table->right = g_new0 (gboolean, table->n_columns);
  return table;
}

void
recoup_cli_table_align_right (RecoupCliTable *table,
                              guint           column)
{
  g_return_if_fail (column < table->n_columns);
  table->right[column] = TRUE;
}

/* A cell as a table shows it: a line break (a memo may hold one) would
 * break the row, so it becomes one visible mark, and a tab or another control
 * character a space; NFC joins a letter and an accent typed apart into the
 * one character a terminal shows. */
static char *
cell_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_autofree char *nfc = g_utf8_normalize (valid, -1, G_NORMALIZE_NFC);
  GString *cell = g_string_sized_new (strlen (nfc));

  for (const char *p = nfc; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\r' && p[1] == '\n')
        continue;   /* CRLF is one line break */
      if (c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029)
        g_string_append (cell, "⏎");
      else if (g_unichar_iscntrl (c))
        g_string_append_c (cell, ' ');
      else
        g_string_append_unichar (cell, c);
    }
  return g_string_free (cell, FALSE);
}

/* How many terminal cells @text takes: a CJK character two, an accent
 * (a combining mark) none, any other character one. */
static glong
display_width (const char *text)
{
  glong width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!g_unichar_iszerowidth (c))
        width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

void
recoup_cli_table_add (RecoupCliTable *table,
                      const char     *first_cell,
                      ...)
{
  char **row = g_new0 (char *, table->n_columns + 1);
  va_list args;
  const char *cell = first_cell;

  va_start (args, first_cell);
  for (guint i = 0; i < table->n_columns; i++)
    {
      row[i] = cell_text (cell ? cell : "");
      if (i + 1 < table->n_columns)
        cell = va_arg (args, const char *);
    }
  va_end (args);
  g_ptr_array_add (table->rows, row);
}

void
recoup_cli_table_print (RecoupCliTable *table)
{
  g_autofree glong *width = g_new0 (glong, table->n_columns);

  for (guint r = 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);

      for (guint c = 0; c < table->n_columns; c++)
        width[c] = MAX (width[c], display_width (row[c]));
    }

  for (guint r = 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);
      g_autoptr(GString) line = g_string_new (NULL);

      for (guint c = 0; c < table->n_columns; c++)
        {
          glong pad = width[c] - display_width (row[c]);

          if (c > 0)
            g_string_append (line, "  ");
          if (table->right[c])
            for (glong i = 0; i < pad; i++)
              g_string_append_c (line, ' ');
          g_string_append (line, row[c]);
          if (!table->right[c] && c + 1 < table->n_columns)
            for (glong i = 0; i < pad; i++)
              g_string_append_c (line, ' ');
        }
      printf ("%s\n", line->str);
    }
}

void
recoup_cli_table_free (RecoupCliTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table->right);
  g_free (table);
}
