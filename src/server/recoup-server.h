/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "recoup-server-db.h"

G_BEGIN_DECLS

#define RECOUP_PROTOCOL_VERSION 1
#define RECOUP_PROTOCOL_HEADER  "Recoup-Protocol"
#define RECOUP_SCHEMA_HEADER    "Recoup-Schema"
#define RECOUP_SNAPSHOT_SEQ_HEADER "Recoup-Snapshot-Seq"

typedef struct
{
  char  *listen;          /* address, default 127.0.0.1 */
  guint  port;            /* 0 = any free port */
  char  *cert_file;       /* PEM */
  char  *key_file;        /* PEM */
  char  *data_dir;
  guint  max_batch;       /* changes per push */
  gsize  max_body;        /* bytes per request body (after gzip) */
  gint64 max_clock_skew_ms;
} RecoupServerConfig;

void     recoup_server_config_init    (RecoupServerConfig  *config);
void     recoup_server_config_clear   (RecoupServerConfig  *config);
/* Reads [server] keys of a key file over what @config holds. */
gboolean recoup_server_config_load    (RecoupServerConfig  *config,
                                       const char          *path,
                                       GError             **error);

/* SHA-256 of the certificate's DER, lower-case hex without separators. */
char    *recoup_tls_certificate_fingerprint (GTlsCertificate *cert);

#define RECOUP_TYPE_SERVER (recoup_server_get_type ())
G_DECLARE_FINAL_TYPE (RecoupServer, recoup_server, RECOUP, SERVER, GObject)

RecoupServer *recoup_server_new       (const RecoupServerConfig *config,
                                       GError             **error);
/* Listens (HTTPS only) and returns the port actually bound. */
gboolean      recoup_server_start     (RecoupServer        *self,
                                       guint               *out_port,
                                       GError             **error);
const char   *recoup_server_get_fingerprint (RecoupServer  *self);
RecoupServerDb *recoup_server_get_db  (RecoupServer        *self);

G_END_DECLS
