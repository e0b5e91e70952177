/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-outbox"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "recoup-activity.h"
#include "recoup-book-private.h"
#include "recoup-id.h"
#include "recoup-outbox.h"

static const char * const state_names[] = {
  "queued", "sending", "sent", "failed", "uncertain", NULL
};

const char *
recoup_outbox_state_to_string (RecoupOutboxState state)
{
  g_return_val_if_fail (state <= RECOUP_OUTBOX_UNCERTAIN, NULL);
  return state_names[state];
}

gboolean
recoup_outbox_state_from_string (const char        *text,
                                 RecoupOutboxState *out_state)
{
  guint i;

  if (!recoup_name_index (state_names, G_N_ELEMENTS (state_names), text, &i))
    return FALSE;
  *out_state = (RecoupOutboxState) i;
  return TRUE;
}

gboolean
recoup_email_address_validate (const char  *address,
                               GError     **error)
{
  const char *at, *p;
  gboolean dot = FALSE;

  if (address == NULL || *address == '\0')
    goto bad;
  at = strchr (address, '@');
  if (at == NULL || at == address || strchr (at + 1, '@') != NULL || strlen (address) > 254)
    goto bad;
  for (p = address; p < at; p++)
    if ((guchar) *p <= ' ' || strchr ("<>()[]\\,;:\"", *p) != NULL)
      goto bad;
  if (at[1] == '.' || at[1] == '-' || at[1] == '\0')
    goto bad;
  for (p = at + 1; *p; p++)
    {
      if (*p == '.')
        {
          if (p[1] == '.' || p[1] == '\0')
            goto bad;
          dot = TRUE;
        }
      else if (!g_ascii_isalnum (*p) && *p != '-')
        goto bad;
    }
  if (!dot)
    goto bad;
  return TRUE;

bad:
  g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
               "“%s” is not an email address (name@example.com); correct the account's "
               "email contact", address ? address : "");
  return FALSE;
}

char *
recoup_outbox_opt_out_line (RecoupBook *book)
{
  char *line = recoup_book_get_setting (book, "email.opt_out_line");

  if (line != NULL && *line != '\0')
    return line;
  g_free (line);
  return g_strdup (_("To stop receiving emails from us about this account, reply with the word STOP."));
}

void
recoup_outbox_message_free (RecoupOutboxMessage *msg)
{
  if (msg == NULL)
    return;
  g_free (msg->id);
  g_free (msg->account_id);
  g_free (msg->device_id);
  g_free (msg->message_id);
  g_free (msg->template_name);
  g_free (msg->to);
  g_free (msg->subject);
  g_free (msg->body);
  g_free (msg->attachment_path);
  g_free (msg->attachment_name);
  g_free (msg->last_error);
  g_free (msg);
}

#define COLUMNS "id, account_id, device_id, message_id, template, to_addr, subject, body," \
                " attachment_path, attachment_name, state, attempts, last_error, created_at," \
                " claimed_at, sent_at"

static RecoupOutboxMessage *
message_from_row (sqlite3_stmt *stmt)
{
  RecoupOutboxMessage *m = g_new0 (RecoupOutboxMessage, 1);

  m->id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
  m->account_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
  m->device_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
  m->message_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
  m->template_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 4));
  m->to = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 5));
  m->subject = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 6));
  m->body = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 7));
  m->attachment_path = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 8));
  m->attachment_name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 9));
  recoup_outbox_state_from_string (RECOUP_BOOK_STMT_TEXT (stmt, 10), &m->state);
  m->attempts = sqlite3_column_int (stmt, 11);
  m->last_error = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 12));
  m->created_at = sqlite3_column_int64 (stmt, 13);
  m->claimed_at = sqlite3_column_int64 (stmt, 14);
  m->sent_at = sqlite3_column_int64 (stmt, 15);
  return m;
}

static char *
message_id_domain (RecoupBook *book)
{
  static const char * const keys[] = { "smtp.from", "business.email", NULL };

  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autofree char *v = recoup_book_get_setting (book, keys[i]);
      const char *at = v ? strrchr (v, '@') : NULL;

      if (at != NULL && at[1] != '\0')
        {
          g_autofree char *d = g_strdup (at + 1);

          g_strdelimit (d, "> \t\r\n", '\0');
          if (*d != '\0')
            return g_ascii_strdown (d, -1);
        }
    }
  return g_strdup ("recoup.invalid");
}

char *
recoup_outbox_enqueue (RecoupBook              *book,
                       const RecoupOutboxSpec  *spec,
                       GError                 **error)
{
  char id[RECOUP_UUID_STRING_LEN + 1];
  g_autofree char *domain = NULL;
  g_autofree char *message_id = NULL;
  g_autofree char *optout = recoup_outbox_opt_out_line (book);
  g_autofree char *body = NULL;
  sqlite3_stmt *stmt;

  if (!recoup_email_address_validate (spec->to, error))
    return NULL;
  if (spec->subject == NULL || *spec->subject == '\0' || strchr (spec->subject, '\n') ||
      strchr (spec->subject, '\r'))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "an email needs a subject of one line");
      return NULL;
    }
  if (spec->body == NULL || !g_utf8_validate (spec->body, -1, NULL) ||
      !g_utf8_validate (spec->subject, -1, NULL))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "an email's subject and body must be UTF-8 text");
      return NULL;
    }
  if (spec->attachment_path != NULL && !g_file_test (spec->attachment_path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "attachment %s: no such file", spec->attachment_path);
      return NULL;
    }

  /* Every email carries the opt-out line. */
  if (strstr (spec->body, optout) != NULL)
    body = g_strdup (spec->body);
  else
    body = g_strdup_printf ("%s%s\n-- \n%s\n", spec->body,
                            g_str_has_suffix (spec->body, "\n") ? "" : "\n", optout);

  recoup_uuid7_generate (id);
  domain = message_id_domain (book);
  message_id = g_strdup_printf ("<%s@%s>", id, domain);

  if (!recoup_book_begin (book, error))
    return NULL;
  stmt = recoup_book_prepare (book,
    "INSERT INTO outbox (id, account_id, device_id, message_id, template, to_addr, subject, body,"
    " attachment_path, attachment_name, state, attempts, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, spec->account_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, recoup_book_get_device_id (book), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, message_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, spec->template_name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, spec->to, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 7, spec->subject, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 8, body, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 9, spec->attachment_path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 10, spec->attachment_path == NULL ? NULL :
                     spec->attachment_name ? spec->attachment_name : "letter.pdf", -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 11, recoup_book_now_ms (book));
  if (!recoup_book_step_done (book, stmt, error) ||
      !recoup_book_record_change (book, "outbox", id, RECOUP_CHANGE_INSERT, NULL, error))
    goto fail;
  /* A failed commit has already rolled back its own level. */
  if (!recoup_book_commit (book, error))
    return NULL;
  return g_strdup (id);

fail:
  recoup_book_rollback (book);
  return NULL;
}

GPtrArray *
recoup_outbox_list (RecoupBook  *book,
                    const char  *state,
                    guint        limit,
                    GError     **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_outbox_message_free);
  RecoupOutboxState s;
  sqlite3_stmt *stmt;
  int rc;

  if (state != NULL && !recoup_outbox_state_from_string (state, &s))
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "“%s” is not an outbox state (queued, sending, sent, failed, uncertain)", state);
      return NULL;
    }
  stmt = recoup_book_prepare (book,
    "SELECT " COLUMNS " FROM outbox WHERE (?1 IS NULL OR state = ?1)"
    " ORDER BY created_at DESC, id DESC LIMIT ?2", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, state, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, limit ? (gint64) limit : -1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (out, message_from_row (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

RecoupOutboxMessage *
recoup_outbox_load (RecoupBook  *book,
                    const char  *id,
                    GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT " COLUMNS " FROM outbox WHERE id = ?", error);
  RecoupOutboxMessage *m = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    m = message_from_row (stmt);
  sqlite3_reset (stmt);
  if (m == NULL)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 "no outbox message %s (see `recoup-cli outbox list`)", id);
  return m;
}

char *
recoup_outbox_resolve (RecoupBook  *book,
                       const char  *id_or_tail,
                       GError     **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *found = NULL;
  guint n = 0;

  if (id_or_tail == NULL || strlen (id_or_tail) < 6)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "give an outbox message's id or at least its last 6 characters");
      return NULL;
    }
  stmt = recoup_book_prepare (book, "SELECT id FROM outbox WHERE id = ?1 OR id LIKE '%' || ?1 LIMIT 2", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id_or_tail, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      if (n++ == 0)
        found = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      else if (g_str_equal (RECOUP_BOOK_STMT_TEXT (stmt, 0), id_or_tail))
        {
          g_free (found);
          found = g_strdup (id_or_tail);
          n = 1;
          break;
        }
    }
  sqlite3_reset (stmt);
  if (n == 0)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                 "no outbox message %s (see `recoup-cli outbox list`)", id_or_tail);
  else if (n > 1)
    g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                 "“%s” matches more than one message: give more of the id", id_or_tail);
  return n == 1 ? g_steal_pointer (&found) : NULL;
}

gboolean
recoup_outbox_count (RecoupBook        *book,
                     RecoupOutboxState  state,
                     gint64            *out_count,
                     GError           **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT count(*) FROM outbox WHERE state = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, recoup_outbox_state_to_string (state), -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return recoup_book_set_sqlite_error (book, error);
    }
  *out_count = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return TRUE;
}

/* Moves @id from one of @from (NULL-terminated) to @to, setting the extra
 * columns the SQL fragment @extra names (bound from ?3 on), in its own
 * transaction with a change row. */
static gboolean
transition (RecoupBook          *book,
            const char          *id,
            const char * const  *from,
            RecoupOutboxState    to,
            const char          *extra,
            const char * const  *fields,
            const char          *text_arg,
            GError             **error)
{
  g_autofree char *sql = NULL;
  g_autofree char *from_list = NULL;
  g_autoptr(RecoupOutboxMessage) msg = NULL;
  sqlite3_stmt *stmt;

  if (!recoup_book_begin (book, error))
    return FALSE;
  if (!(msg = recoup_outbox_load (book, id, error)))
    goto fail;
  if (!g_strv_contains (from, recoup_outbox_state_to_string (msg->state)))
    {
      from_list = g_strjoinv (" or ", (char **) from);
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_CONFLICT,
                   "outbox message %s is %s, not %s", id,
                   recoup_outbox_state_to_string (msg->state), from_list);
      goto fail;
    }
  sql = g_strdup_printf ("UPDATE outbox SET state = ?2%s%s WHERE id = ?1",
                         extra ? ", " : "", extra ? extra : "");
  stmt = recoup_book_prepare (book, sql, error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, recoup_outbox_state_to_string (to), -1, SQLITE_STATIC);
  if (sqlite3_bind_parameter_count (stmt) >= 3)
    sqlite3_bind_int64 (stmt, 3, recoup_book_now_ms (book));
  if (sqlite3_bind_parameter_count (stmt) >= 4)
    sqlite3_bind_text (stmt, 4, text_arg, -1, SQLITE_TRANSIENT);
  if (!recoup_book_step_done (book, stmt, error) ||
      !recoup_book_record_change (book, "outbox", id, RECOUP_CHANGE_SET, fields, error))
    goto fail;

  if (to == RECOUP_OUTBOX_SENT && msg->account_id != NULL)
    {
      g_autofree char *notes = g_strdup_printf ("Email “%s” to %s%s%s (Message-ID %s)",
                                                msg->subject, msg->to,
                                                msg->template_name ? ", template " : "",
                                                msg->template_name ? msg->template_name : "",
                                                msg->message_id);
      RecoupActivitySpec spec = {
        .account_id = msg->account_id,
        .channel = "email",
        .outcome = "sent",
        .notes = notes,
      };
      g_autofree char *activity = recoup_activity_log (book, &spec, error);

      if (activity == NULL)
        goto fail;
      stmt = recoup_book_prepare (book, "UPDATE outbox SET activity_id = ? WHERE id = ?", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_text (stmt, 1, activity, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, id, -1, SQLITE_TRANSIENT);
      {
        static const char * const f[] = { "activity_id", NULL };

        if (!recoup_book_step_done (book, stmt, error) ||
            !recoup_book_record_change (book, "outbox", id, RECOUP_CHANGE_SET, f, error))
          goto fail;
      }
    }
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

gboolean
recoup_outbox_claim (RecoupBook  *book,
                     const char  *id,
                     GError     **error)
{
  static const char * const from[] = { "queued", NULL };
  static const char * const fields[] = { "state", "attempts", "claimed_at", NULL };

  return transition (book, id, from, RECOUP_OUTBOX_SENDING,
                     "attempts = attempts + 1, claimed_at = ?3", fields, NULL, error);
}

gboolean
recoup_outbox_mark_sent (RecoupBook  *book,
                         const char  *id,
                         GError     **error)
{
  static const char * const from[] = { "sending", NULL };
  static const char * const fields[] = { "state", "sent_at", "last_error", NULL };

  return transition (book, id, from, RECOUP_OUTBOX_SENT,
                     "sent_at = ?3, last_error = NULL", fields, NULL, error);
}

gboolean
recoup_outbox_mark_failed (RecoupBook  *book,
                           const char  *id,
                           gboolean     permanent,
                           const char  *reason,
                           GError     **error)
{
  static const char * const from[] = { "sending", "queued", NULL };
  static const char * const fields[] = { "state", "last_error", NULL };

  return transition (book, id, from, permanent ? RECOUP_OUTBOX_FAILED : RECOUP_OUTBOX_QUEUED,
                     "claimed_at = coalesce (claimed_at, ?3), last_error = ?4", fields,
                     reason ? reason : "unknown error", error);
}

gboolean
recoup_outbox_retry (RecoupBook  *book,
                     const char  *id,
                     GError     **error)
{
  static const char * const from[] = { "failed", "uncertain", NULL };
  static const char * const fields[] = { "state", NULL };

  return transition (book, id, from, RECOUP_OUTBOX_QUEUED, NULL, fields, NULL, error);
}

gboolean
recoup_outbox_confirm (RecoupBook  *book,
                       const char  *id,
                       GError     **error)
{
  static const char * const from[] = { "uncertain", NULL };
  static const char * const fields[] = { "state", "sent_at", NULL };

  return transition (book, id, from, RECOUP_OUTBOX_SENT, "sent_at = ?3", fields, NULL, error);
}

gboolean
recoup_outbox_recover (RecoupBook  *book,
                       gint64       lease_ms,
                       guint       *out_count,
                       GError     **error)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  static const char * const fields[] = { "state", "last_error", NULL };
  const char *reason = "the sender stopped during delivery: the message may or may not have "
                       "been delivered. Check with the recipient or your sent mail, then "
                       "`recoup-cli outbox confirm ID` (it arrived) or `outbox retry ID` (send again)";

  if (out_count)
    *out_count = 0;
  stmt = recoup_book_prepare (book,
    "SELECT id FROM outbox WHERE device_id = ? AND state = 'sending' AND claimed_at <= ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, recoup_book_get_device_id (book), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, recoup_book_now_ms (book) - lease_ms);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (ids, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
  sqlite3_reset (stmt);

  for (guint i = 0; i < ids->len; i++)
    {
      static const char * const from[] = { "sending", NULL };

      if (!transition (book, g_ptr_array_index (ids, i), from, RECOUP_OUTBOX_UNCERTAIN,
                       "last_error = ?4, claimed_at = coalesce (claimed_at, ?3)", fields, reason, error))
        return FALSE;
      if (out_count)
        (*out_count)++;
    }
  return TRUE;
}

GPtrArray *
recoup_outbox_pending (RecoupBook  *book,
                       guint        limit,
                       GError     **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_outbox_message_free);
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT " COLUMNS " FROM outbox WHERE device_id = ? AND state = 'queued'"
    " ORDER BY created_at, rowid LIMIT ?", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, recoup_book_get_device_id (book), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, limit ? (gint64) limit : -1);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (out, message_from_row (stmt));
  sqlite3_reset (stmt);
  return g_steal_pointer (&out);
}
