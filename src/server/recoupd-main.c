/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoupd"

#include "config.h"

#include <locale.h>
#include <stdio.h>

#include <glib-unix.h>

#include "recoup-server.h"

static char *opt_config;
static char *opt_listen;
static int opt_port = -1;
static char *opt_cert;
static char *opt_key;
static char *opt_data_dir;
static char *opt_url;
static char *opt_role;
/* NOT_GIVEN: add-user takes an adopted book user's own. */
#define NOT_GIVEN G_MININT64
static gint64 opt_max_discount = NOT_GIVEN;
static gint64 opt_max_installments = NOT_GIVEN;

static const GOptionEntry entries[] = {
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, "Key file with a [server] group", "FILE" },
  { "listen", 0, 0, G_OPTION_ARG_STRING, &opt_listen, "Address to listen on (default 127.0.0.1)", "ADDR" },
  { "port", 'p', 0, G_OPTION_ARG_INT, &opt_port, "Port (0 picks a free one and prints it)", "PORT" },
  { "cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_cert, "TLS certificate (PEM)", "FILE" },
  { "key", 0, 0, G_OPTION_ARG_FILENAME, &opt_key, "TLS private key (PEM)", "FILE" },
  { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &opt_data_dir, "Data directory", "DIR" },
  { "url", 0, 0, G_OPTION_ARG_STRING, &opt_url, "admin enroll: the URL devices reach the server at", "URL" },
  { "role", 0, 0, G_OPTION_ARG_STRING, &opt_role, "admin add-user: owner, collector or bookkeeper", "ROLE" },
  { "max-discount-bp", 0, 0, G_OPTION_ARG_INT64, &opt_max_discount, "admin add-user: discount limit (basis points)", "BP" },
  { "max-installments", 0, 0, G_OPTION_ARG_INT64, &opt_max_installments, "admin add-user: plan length limit", "N" },
  { NULL }
};

static const char summary[] =
  "Serves: recoupd [OPTIONS]\n"
  "Administers: recoupd admin [OPTIONS] COMMAND …\n\n"
  "Admin commands:\n"
  "  create-org NAME                 create an organisation (and its book)\n"
  "  add-user ORG NAME --role ROLE   add a user (owner, collector, bookkeeper); one an owner's\n"
  "                                  book has synced under NAME already is that user\n"
  "  remove-user ORG USER            remove a user: revoke their devices, free the name\n"
  "  enroll ORG USER [--url URL]     print a one-time enrollment code for a device\n"
  "  devices ORG                     list an organisation's devices\n"
  "  revoke DEVICE                   revoke a device's token at once";

static int
fail (GError *error)
{
  g_printerr ("recoupd: %s\n", error->message);
  return 1;
}

static int
usage (const char *text)
{
  g_printerr ("recoupd: %s\n\n%s\n", text, summary);
  return 2;
}

static char *
enrollment_code (const char *url,
                 const char *secret,
                 const char *fingerprint)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;
  char *code;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "url");
  json_builder_add_string_value (b, url);
  json_builder_set_member_name (b, "secret");
  json_builder_add_string_value (b, secret);
  json_builder_set_member_name (b, "sha256");
  json_builder_add_string_value (b, fingerprint);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, NULL);
  code = g_base64_encode ((const guchar *) json, strlen (json));
  g_strdelimit (code, "+", '-');
  g_strdelimit (code, "/", '_');
  g_strdelimit (code, "=", '\0');
  return code;
}

static int
admin (RecoupServerConfig *config,
       int                 argc,
       char              **argv)
{
  g_autoptr(GError) error = NULL;
  RecoupServerDb *db;
  const char *cmd;
  int status = 0;

  if (argc < 3)
    return usage ("admin needs a command");
  if (config->data_dir == NULL)
    return usage ("admin needs the data directory (--data-dir or --config)");
  cmd = argv[2];
  if (!(db = recoup_server_db_open (config->data_dir, &error)))
    return fail (error);

  if (g_str_equal (cmd, "create-org") && argc == 4)
    {
      g_autofree char *id = recoup_server_db_create_org (db, argv[3], &error);
      if (id == NULL)
        status = fail (error);
      else
        g_print ("%s\n", id);
    }
  else if (g_str_equal (cmd, "add-user") && argc == 5)
    {
      g_autofree char *org = recoup_server_db_resolve_org (db, argv[3], &error);
      g_autofree char *id = NULL;

      if ((opt_max_discount != NOT_GIVEN && opt_max_discount < 0) ||
          (opt_max_installments != NOT_GIVEN && opt_max_installments < 0))
        status = usage ("--max-discount-bp and --max-installments must be 0 or more");
      else if (org == NULL || !(id = recoup_server_db_add_user (db, org, argv[4], opt_role,
                                                           opt_max_discount == NOT_GIVEN ? -1 : opt_max_discount,
                                                           opt_max_installments == NOT_GIVEN ? -1 : opt_max_installments,
                                                           &error)))
        status = fail (error);
      else
        g_print ("%s\n", id);
    }
  else if (g_str_equal (cmd, "remove-user") && argc == 5)
    {
      g_autofree char *org = recoup_server_db_resolve_org (db, argv[3], &error);
      g_autofree char *note = NULL;

      if (org == NULL || !recoup_server_db_remove_user (db, org, argv[4], &note, &error))
        status = fail (error);
      else if (note != NULL)
        g_printerr ("recoupd: %s\n", note);
    }
  else if (g_str_equal (cmd, "enroll") && argc == 5)
    {
      g_autofree char *org = recoup_server_db_resolve_org (db, argv[3], &error);
      g_autofree char *secret = NULL;
      g_autofree char *url = NULL;
      g_autofree char *fingerprint = NULL;
      g_autofree char *code = NULL;
      g_autoptr(GTlsCertificate) cert = NULL;

      if (config->cert_file == NULL)
        {
          recoup_server_db_free (db);
          return usage ("enroll needs the server's certificate (--cert or --config) for its fingerprint");
        }
      if (!(cert = g_tls_certificate_new_from_file (config->cert_file, &error)))
        status = fail (error);
      else if (org == NULL || !(secret = recoup_server_db_create_enrollment (db, org, argv[4], &error)))
        status = fail (error);
      else
        {
          fingerprint = recoup_tls_certificate_fingerprint (cert);
          url = opt_url != NULL ? g_strdup (opt_url)
                                : g_strdup_printf ("https://%s:%u", config->listen, config->port);
          code = enrollment_code (url, secret, fingerprint);
          g_print ("%s\n", code);
        }
    }
  else if (g_str_equal (cmd, "devices") && argc == 4)
    {
      g_autofree char *org = recoup_server_db_resolve_org (db, argv[3], &error);
      g_autoptr(JsonArray) devices = org != NULL ? recoup_server_db_list_devices (db, org, &error) : NULL;

      if (devices == NULL)
        status = fail (error);
      else
        for (guint i = 0; i < json_array_get_length (devices); i++)
          {
            JsonObject *d = json_array_get_object_element (devices, i);
            g_print ("%s  %-16s %-12s %-10s %s\n", json_object_get_string_member (d, "id"),
                     json_object_get_string_member (d, "name"), json_object_get_string_member (d, "user"),
                     json_object_get_string_member (d, "role"),
                     json_object_get_boolean_member (d, "revoked") ? "revoked" : "active");
          }
    }
  else if (g_str_equal (cmd, "revoke") && argc == 4)
    {
      if (!recoup_server_db_revoke (db, argv[3], &error))
        status = fail (error);
    }
  else
    status = usage ("unknown admin command or wrong number of arguments");

  recoup_server_db_free (db);
  return status;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[admin COMMAND …]");
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  RecoupServerConfig config;
  guint port = 0;
  int status;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_summary (ctx, summary);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return usage (error->message);

  recoup_server_config_init (&config);
  if (opt_config != NULL && !recoup_server_config_load (&config, opt_config, &error))
    {
      recoup_server_config_clear (&config);
      return fail (error);
    }
#define OVERRIDE(opt, field) if (opt != NULL) { g_free (config.field); config.field = g_strdup (opt); }
  OVERRIDE (opt_listen, listen);
  OVERRIDE (opt_cert, cert_file);
  OVERRIDE (opt_key, key_file);
  OVERRIDE (opt_data_dir, data_dir);
#undef OVERRIDE
  if (opt_port >= 0)
    config.port = (guint) MIN (opt_port, 65535);

  if (argc >= 2 && g_str_equal (argv[1], "admin"))
    {
      status = admin (&config, argc, argv);
      recoup_server_config_clear (&config);
      return status;
    }
  if (argc > 1)
    {
      recoup_server_config_clear (&config);
      return usage ("unexpected arguments");
    }

  server = recoup_server_new (&config, &error);
  recoup_server_config_clear (&config);
  if (server == NULL || !recoup_server_start (server, &port, &error))
    return fail (error);

  g_print ("recoupd: listening on port %u (certificate sha256 %s)\n", port,
           recoup_server_get_fingerprint (server));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_main_loop_run (loop);
  return 0;
}
