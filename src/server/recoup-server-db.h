/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "recoup-core.h"

G_BEGIN_DECLS

/*
 * The server's own database (server.db in the data directory): organisations,
 * their users with a role, devices and their tokens (only SHA-256 digests are
 * stored), one-time enrollment secrets. Each organisation's book lives beside
 * it as orgs/<org id>.recoup and is opened through core.
 */

typedef struct _RecoupServerDb RecoupServerDb;

typedef struct
{
  char  *device_id;
  char  *org_id;
  char  *user_id;
  char  *user_name;
  char  *role;
  gint64 max_discount_bp;
  gint64 max_plan_installments;
} RecoupServerDevice;

RecoupServerDb *recoup_server_db_open         (const char      *data_dir,
                                               GError         **error);
void            recoup_server_db_free         (RecoupServerDb  *db);
const char     *recoup_server_db_get_data_dir (RecoupServerDb  *db);

char           *recoup_server_db_book_path    (RecoupServerDb  *db,
                                               const char      *org_id);
/* Opens an organisation's book (created with the organisation). */
RecoupBook     *recoup_server_db_open_book    (RecoupServerDb  *db,
                                               const char      *org_id,
                                               GError         **error);

char           *recoup_server_db_resolve_org  (RecoupServerDb  *db,
                                               const char      *id_or_name,
                                               GError         **error);
char           *recoup_server_db_create_org   (RecoupServerDb  *db,
                                               const char      *name,
                                               GError         **error);
/* @role NULL and limits below 0: not given. A user the organisation's book
 * has already under that name (synced from an owner's device) is adopted,
 * its id kept, with what is not given taken from the book; otherwise the
 * user is new (a collector with no limits unless given). */
char           *recoup_server_db_add_user     (RecoupServerDb  *db,
                                               const char      *org_id,
                                               const char      *name,
                                               const char      *role,
                                               gint64           max_discount_bp,
                                               gint64           max_plan_installments,
                                               GError         **error);
/* Revokes the user's devices, frees their name and tombstones them in the
 * organisation's book; *@out_note (or NULL) says what could not be done. */
gboolean        recoup_server_db_remove_user  (RecoupServerDb  *db,
                                               const char      *org_id,
                                               const char      *user,
                                               char           **out_note,
                                               GError         **error);
/* For a push, inside its transaction of the organisation's @book, after it
 * inserted the users @user_ids: a pushed user whose name is that of a user
 * the server made and nothing used yet (no device, nothing in the book names
 * them) is that person. The pushed id stays (rows on the owner's device name
 * it); the server's row gets a tombstone in the book, and server.db (the
 * user and their unused enrollment codes) takes the pushed id and the
 * role and limits the server had, which are also written to the book.
 * server.db is changed in a transaction of its own that the caller ends
 * with recoup_server_db_end() once the book's is committed or rolled back. */
gboolean        recoup_server_db_adopt_pushed_users (RecoupServerDb *db,
                                               RecoupBook      *book,
                                               const char      *org_id,
                                               GPtrArray       *user_ids,
                                               GError         **error);
/* Commits (@commit) or rolls back the transaction
 * recoup_server_db_adopt_pushed_users() opened, if it opened one. */
gboolean        recoup_server_db_end          (RecoupServerDb  *db,
                                               gboolean         commit,
                                               GError         **error);
/* Returns the one-time secret; only its digest is stored. */
char           *recoup_server_db_create_enrollment (RecoupServerDb *db,
                                               const char      *org_id,
                                               const char      *user,
                                               GError         **error);
/* Redeems a secret once: a new device and its token (returned once). A
 * repeat with the same @request_id (the client's, sent again because the
 * answer was lost) gets the same device back with a new token, as long as
 * the device never used its first one; any other use is refused. */
RecoupServerDevice *recoup_server_db_enroll   (RecoupServerDb  *db,
                                               const char      *secret,
                                               const char      *request_id,
                                               const char      *device_name,
                                               char           **out_token,
                                               GError         **error);
/* What @secret would enroll, without redeeming it or writing anything:
 * the organisation's id and name, the user's name and role. Fails as
 * recoup_server_db_enroll() would: RECOUP_BOOK_ERROR_NOT_FOUND for a secret
 * it does not know (and nothing more about it), RECOUP_BOOK_ERROR_CONFLICT
 * for one used, expired or whose user was removed. */
gboolean        recoup_server_db_check_enrollment (RecoupServerDb *db,
                                               const char      *secret,
                                               char           **out_org_id,
                                               char           **out_org_name,
                                               char           **out_user_id,
                                               char           **out_user_name,
                                               char           **out_role,
                                               GError         **error);
/* The device a bearer token belongs to, NULL if unknown or revoked. */
RecoupServerDevice *recoup_server_db_authenticate (RecoupServerDb *db,
                                               const char      *token);
/* Why @token no longer works, for its device to tell its user: the user
 * was removed from the organisation, or the device was revoked; NULL when
 * the token is unknown (or works). *@out_reason (may be NULL): "user_removed"
 * or "device_revoked", the 401's "reason", which tells the device that it
 * may forget the token. */
char           *recoup_server_db_explain_token (RecoupServerDb *db,
                                               const char      *token,
                                               const char     **out_reason);
JsonArray      *recoup_server_db_list_devices (RecoupServerDb  *db,
                                               const char      *org_id,
                                               GError         **error);
gboolean        recoup_server_db_revoke       (RecoupServerDb  *db,
                                               const char      *device_id,
                                               GError         **error);
void            recoup_server_device_free     (RecoupServerDevice *device);

char           *recoup_server_sha256_hex      (const char      *text);
char           *recoup_server_random_secret   (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupServerDevice, recoup_server_device_free)

G_END_DECLS
