/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "recoup-core.h"

G_BEGIN_DECLS

/* Exit codes: 0 success, 1 a user error (bad input, refused, not found), 2 usage. */
#define RECOUP_CLI_OK         0
#define RECOUP_CLI_USER_ERROR 1
#define RECOUP_CLI_USAGE      2

typedef struct
{
  char       *book_path;
  char       *user;
  gboolean    json;
  RecoupBook *book;          /* opened lazily by recoup_cli_open_book() */
  const char *command;
} RecoupCli;

typedef int (*RecoupCliFunc) (RecoupCli *cli,
                              int        argc,
                              char     **argv);

typedef struct
{
  const char   *name;
  const char   *summary;
  RecoupCliFunc func;
} RecoupCliCommand;

/* Parses a command's own options (plus the common --book, --json, --user).
 * Returns FALSE and sets *exit_code on --help or a usage error. */
gboolean    recoup_cli_parse        (RecoupCli          *cli,
                                     const char         *parameters,
                                     const char         *description,
                                     const GOptionEntry *entries,
                                     int                *argc,
                                     char             ***argv,
                                     int                *exit_code);
RecoupBook *recoup_cli_open_book    (RecoupCli          *cli,
                                     gboolean            create,
                                     GError            **error);
int         recoup_cli_fail         (RecoupCli          *cli,
                                     GError             *error);
int         recoup_cli_usage        (RecoupCli          *cli,
                                     const char         *format,
                                     ...) G_GNUC_PRINTF (2, 3);
char       *recoup_cli_money        (gint64              minor,
                                     const char         *currency);
/* For a table whose rows are of several accounts, which may owe in different
 * currencies: "USD 1,200.00". */
char       *recoup_cli_money_code   (gint64              minor,
                                     const char         *currency);
/* The last 8 characters of an id, as tables show it: commands that take an
 * offer, promise or review item accept them. */
const char *recoup_cli_short_id     (const char         *id);
gboolean    recoup_cli_parse_amount (const char         *text,
                                     const char         *currency,
                                     gint64             *out_minor,
                                     GError            **error);
void        recoup_cli_print_json   (JsonNode           *node);
void        recoup_cli_print_builder (JsonBuilder       *builder);
void        recoup_cli_json_str     (JsonBuilder        *builder,
                                     const char         *member,
                                     const char         *value);
void        recoup_cli_json_int     (JsonBuilder        *builder,
                                     const char         *member,
                                     gint64              value);
void        recoup_cli_json_bool    (JsonBuilder        *builder,
                                     const char         *member,
                                     gboolean            value);

/* A plain text table: columns sized to their content. */
typedef struct _RecoupCliTable RecoupCliTable;

RecoupCliTable *recoup_cli_table_new    (const char     *first_header,
                                         ...) G_GNUC_NULL_TERMINATED;
void            recoup_cli_table_align_right (RecoupCliTable *table,
                                         guint           column);
void            recoup_cli_table_add    (RecoupCliTable *table,
                                         const char     *first_cell,
                                         ...) G_GNUC_NULL_TERMINATED;
void            recoup_cli_table_print  (RecoupCliTable *table);
void            recoup_cli_table_free   (RecoupCliTable *table);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupCliTable, recoup_cli_table_free)

/* Commands: one function per subcommand, grouped by file. */
int recoup_cli_cmd_init      (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_accounts  (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_account   (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_contact   (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_invoices  (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_invoice   (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_pay       (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_adjust    (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_reverse   (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_ledger    (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_log       (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_history   (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_aging     (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_user      (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_import    (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_demo      (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_worklist  (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_explain   (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_may_contact (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_weights   (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_policy    (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_profile   (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_promise   (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_promises  (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_offer     (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_offers    (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_approvals (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_plan      (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_dispute   (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_remind    (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_outbox    (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_template  (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_statement (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_report    (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_kpi       (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_enroll      (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_sync        (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_sync_status (RecoupCli *cli, int argc, char **argv);
int recoup_cli_cmd_review      (RecoupCli *cli, int argc, char **argv);
/* COMMANDS-END: add declarations above this line */

G_END_DECLS
