/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "recoup-core.h"

G_BEGIN_DECLS

/**
 * RecoupSyncError:
 * @RECOUP_SYNC_ERROR_NOT_ENROLLED: the book is not connected to a server
 * @RECOUP_SYNC_ERROR_BAD_CODE: the enrollment code cannot be read
 * @RECOUP_SYNC_ERROR_CERTIFICATE: the server's certificate is not the pinned one
 * @RECOUP_SYNC_ERROR_UNAUTHORIZED: the token is unknown or revoked
 * @RECOUP_SYNC_ERROR_REFUSED: the server answered with an error (message says which)
 * @RECOUP_SYNC_ERROR_NETWORK: the server could not be reached (after retries)
 * @RECOUP_SYNC_ERROR_PROTOCOL: the server's answer makes no sense
 * @RECOUP_SYNC_ERROR_VERSION: client and server versions do not fit
 * @RECOUP_SYNC_ERROR_UNSUPPORTED: the server does not offer the request (an
 *   older recoupd answered 404)
 * @RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK: the code enrolls someone other than an
 *   owner, whose device starts from the team's book, and this book has data
 *   of its own; or the book is enrolled with another team (or one it cannot
 *   name); the code was not spent and enrolls a new, empty book
 */
typedef enum
{
  RECOUP_SYNC_ERROR_NOT_ENROLLED,
  RECOUP_SYNC_ERROR_BAD_CODE,
  RECOUP_SYNC_ERROR_CERTIFICATE,
  RECOUP_SYNC_ERROR_UNAUTHORIZED,
  RECOUP_SYNC_ERROR_REFUSED,
  RECOUP_SYNC_ERROR_NETWORK,
  RECOUP_SYNC_ERROR_PROTOCOL,
  RECOUP_SYNC_ERROR_VERSION,
  RECOUP_SYNC_ERROR_UNSUPPORTED,
  RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK,
} RecoupSyncError;

#define RECOUP_SYNC_ERROR (recoup_sync_error_quark ())
GQuark recoup_sync_error_quark (void);

/* How the last recoup_sync_client_run() on @book ended, as it stored it
 * (setting sync.last_error_kind), so that a program started later tells an
 * unreachable server from a refusal: TRUE and the RecoupSyncError code in
 * @out_kind if it failed with one; FALSE if it succeeded, never ran, or
 * failed otherwise (the book itself: see sync.last_error). */
gboolean recoup_sync_get_last_error_kind (RecoupBook      *book,
                                          RecoupSyncError *out_kind);

/* What an enrollment code carries: base64url of {url, secret, sha256}. */
typedef struct
{
  char *url;
  char *secret;
  char *fingerprint;   /* SHA-256 of the server certificate, 64 lowercase hex digits */
} RecoupEnrollmentCode;

/* Refuses a code whose "sha256" is not 32 bytes (64 hex digits; colons and
 * spaces may separate them), saying what is wrong with it. */
gboolean recoup_enrollment_code_parse (const char           *code,
                                       RecoupEnrollmentCode *out,
                                       GError              **error);
void     recoup_enrollment_code_clear (RecoupEnrollmentCode *code);

/* "AB:CD:…": the one way a fingerprint is shown to people, who compare it
 * by eye with what the server's owner told them. */
char    *recoup_sync_format_fingerprint (const char         *hex);

/* What the server answered to an enrollment. */
typedef struct
{
  char *url;
  char *fingerprint;
  char *token;
  char *device_id;     /* the server's id of this device */
  char *org_id;
  char *user_id;
  char *user_name;
  char *role;
} RecoupSyncEnrollment;

void     recoup_sync_enrollment_free  (RecoupSyncEnrollment *enrollment);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupSyncEnrollment, recoup_sync_enrollment_free)

/* Redeems an enrollment code (once) over HTTPS, pinned to its fingerprint.
 * Its retries carry one request id, so a retry after an answer that was
 * lost gets this device back instead of "used already". */
RecoupSyncEnrollment *recoup_sync_enroll   (const char                 *code,
                                            const char                 *device_name,
                                            GCancellable               *cancellable,
                                            GError                    **error);
/* What an enrollment code grants, as the server tells before it is spent. */
typedef struct
{
  char *org_id;
  char *org_name;
  char *user_id;     /* NULL from a server older than it */
  char *user_name;
  char *role;
} RecoupEnrollmentGrant;

void     recoup_enrollment_grant_free (RecoupEnrollmentGrant *grant);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupEnrollmentGrant, recoup_enrollment_grant_free)

/* Asks the server (pinned like recoup_sync_enroll()) what @code would
 * enroll, without spending it. Fails as enrolling would for an unknown,
 * used or expired code, and with RECOUP_SYNC_ERROR_UNSUPPORTED when the
 * server is older than the question. */
RecoupEnrollmentGrant *recoup_sync_check_code (const char            *code,
                                               GCancellable          *cancellable,
                                               GError               **error);
/* recoup_sync_enroll() for @book (NULL: a book not made yet), asking first
 * what the code grants: a code for anyone but an owner is refused, unspent,
 * with RECOUP_SYNC_ERROR_NEEDS_NEW_BOOK when @book has changes it made
 * before enrollment, as such a device starts from the team's book. A server
 * that cannot tell (RECOUP_SYNC_ERROR_UNSUPPORTED) enrolls as before.
 * A book enrolled before (its device revoked, its user removed) is enrolled
 * again by a code of the same team, whatever it holds unsent; a code of
 * another team, or of a server that cannot tell, is refused unspent
 * (RECOUP_SYNC_ERROR_REFUSED). */
RecoupSyncEnrollment *recoup_sync_enroll_book (RecoupBook             *book,
                                               const char             *code,
                                               const char             *device_name,
                                               GCancellable           *cancellable,
                                               GError                **error);
/* Makes @book_path a copy of the organisation's book (a snapshot as of some
 * server sequence) for a device that has nothing yet. The book must not be
 * open; an existing file is replaced only if it has no changes, and is left
 * as it was when this fails.
 *
 * Only a shortcut: the code is spent once recoup_sync_enroll() returned, so
 * a failure here must not undo the enrollment. The caller attaches the book
 * as it is (recoup_sync_attach(), as the app's Connect does for the book it
 * has open), and the first sync pulls the organisation's book as changes. */
gboolean recoup_sync_bootstrap             (const RecoupSyncEnrollment *enrollment,
                                            const char                 *book_path,
                                            GCancellable               *cancellable,
                                            GError                    **error);
/* Connects an open book to the server: settings in the book, the token in
 * the Secret Service or a 0600 file. */
gboolean recoup_sync_attach                (RecoupBook                 *book,
                                            const RecoupSyncEnrollment *enrollment,
                                            GError                    **error);

/* Token storage: libsecret when built with it and a keyring answers, else
 * $XDG_CONFIG_HOME/recoup/tokens/<device id> with mode 0600.
 * RECOUP_TOKEN_STORE=file forces the file. */
gboolean recoup_sync_token_store           (const char                 *device_id,
                                            const char                 *token,
                                            GError                    **error);
char    *recoup_sync_token_lookup          (const char                 *device_id,
                                            GError                    **error);
/* Removes the token of @device_id (keyring and file); TRUE when there was
 * none. The client forgets its own when the server says it will never work
 * again (its device revoked, its user removed: recoup_sync_client_new()
 * then fails with RECOUP_SYNC_ERROR_UNAUTHORIZED and what the server said),
 * and recoup_sync_attach() that of the device a book was before it was
 * enrolled again. */
gboolean recoup_sync_token_forget          (const char                 *device_id,
                                            GError                    **error);

/* A sync error's @message for people: without the “the server refused the
 * request (HTTP 401, unauthorized): ” before the server's words (the error
 * keeps it for the CLI and the logs). @sentence: to stand on its own, also
 * with a capital first letter and a full stop. NULL for NULL. */
char    *recoup_sync_error_for_display     (const char                 *message,
                                            gboolean                    sentence);

typedef struct
{
  guint  pushed;        /* changes the server accepted */
  guint  rejected;      /* changes the server refused (kept, listed in sync-status) */
  guint  pulled;        /* changes received */
  guint  applied;       /* of those, new to this book */
  guint  requests;
  gint64 cursor;        /* server sequence reached */
  guint  restamped;     /* own changes re-stamped after the server said clock_ahead */
} RecoupSyncReport;

#define RECOUP_TYPE_SYNC_CLIENT (recoup_sync_client_get_type ())
G_DECLARE_FINAL_TYPE (RecoupSyncClient, recoup_sync_client, RECOUP, SYNC_CLIENT, GObject)

RecoupSyncClient *recoup_sync_client_new   (RecoupBook                 *book,
                                            GError                    **error);
/* Changes per push and per pulled page; 5000 each by default (recoupd's
 * default max-batch). A push the server refuses as too large is resent in
 * halves, and the smaller size is kept. */
void     recoup_sync_client_set_batch_size (RecoupSyncClient           *self,
                                            guint                       push_batch,
                                            guint                       pull_page);
/* Push everything unsent, then pull everything new. Blocking: run it on a
 * worker thread in the app. */
gboolean recoup_sync_client_run            (RecoupSyncClient           *self,
                                            RecoupSyncReport           *report,
                                            GCancellable               *cancellable,
                                            GError                    **error);
gboolean recoup_sync_client_push           (RecoupSyncClient           *self,
                                            RecoupSyncReport           *report,
                                            GCancellable               *cancellable,
                                            GError                    **error);
gboolean recoup_sync_client_pull           (RecoupSyncClient           *self,
                                            RecoupSyncReport           *report,
                                            GCancellable               *cancellable,
                                            GError                    **error);

G_END_DECLS
