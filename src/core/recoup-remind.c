/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-remind"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "recoup-accounts.h"
#include "recoup-activity.h"
#include "recoup-book-private.h"
#include "recoup-escalation.h"
#include "recoup-guard.h"
#include "recoup-outbox.h"
#include "recoup-remind.h"
#include "recoup-score.h"
#include "recoup-settings.h"
#include "recoup-template.h"

static void
item_free (gpointer data)
{
  RecoupRemindItem *it = data;

  g_free (it->account_id);
  g_free (it->ref);
  g_free (it->name);
  g_free (it->currency);
  g_free (it->template_name);
  g_free (it->channel);
  g_free (it->to);
  g_free (it->reason);
  g_free (it->held_reasons);
  g_free (it->warnings);
  g_free (it);
}

void
recoup_remind_run_free (RecoupRemindRun *run)
{
  if (run == NULL)
    return;
  g_free (run->today);
  g_clear_pointer (&run->items, g_ptr_array_unref);
  g_free (run);
}

void
recoup_remind_result_clear (RecoupRemindResult *result)
{
  g_clear_pointer (&result->letter_paths, g_ptr_array_unref);
  g_clear_pointer (&result->sms_links, g_ptr_array_unref);
}

typedef struct
{
  char *email;
  char *phone;
  char *address;
} Contacts;

static void
contacts_free (gpointer data)
{
  Contacts *c = data;

  g_free (c->email);
  g_free (c->phone);
  g_free (c->address);
  g_free (c);
}

/* A contact value as compared for opt-outs, with its kind. */
static char *
kind_value_key (RecoupContactKind  kind,
                const char        *value)
{
  g_autofree char *key = recoup_contact_value_key (kind, value);

  return g_strdup_printf ("%s:%s", recoup_contact_kind_to_string (kind), key);
}

/* Every account's first usable (not opted out, primary first) email, phone
 * and address. A value the account opted out of, in any spelling and even
 * if that contact point was removed since, is not usable (a copy two devices
 * added before values were compared, or one added again after a removal, see
 * recoup_contact_value_key()): each account's opted-out rows come first, and
 * only an account that has some pays for comparing. */
static GHashTable *
load_contacts (RecoupBook  *book,
               GError     **error)
{
  g_autoptr(GHashTable) map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, contacts_free);
  g_autoptr(GPtrArray) opted_out = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT account_id, kind, value, opted_out FROM contact_points WHERE deleted = 0 OR opted_out = 1"
    " ORDER BY account_id, opted_out DESC, is_primary DESC, created_at", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *id = RECOUP_BOOK_STMT_TEXT (stmt, 0);
      const char *kind = RECOUP_BOOK_STMT_TEXT (stmt, 1);
      const char *value = RECOUP_BOOK_STMT_TEXT (stmt, 2);
      RecoupContactKind contact_kind;
      Contacts *c;
      char **slot;

      if (!recoup_contact_kind_from_string (kind, &contact_kind))
        continue;
      /* The rows come by account: a new one starts its own list. */
      if ((c = g_hash_table_lookup (map, id)) == NULL)
        {
          c = g_new0 (Contacts, 1);
          g_hash_table_insert (map, g_strdup (id), c);
          g_ptr_array_set_size (opted_out, 0);
        }
      if (sqlite3_column_int (stmt, 3) != 0)
        {
          g_ptr_array_add (opted_out, kind_value_key (contact_kind, value));
          continue;
        }
      if (opted_out->len > 0)
        {
          g_autofree char *key = kind_value_key (contact_kind, value);

          if (g_ptr_array_find_with_equal_func (opted_out, key, g_str_equal, NULL))
            continue;
        }
      slot = contact_kind == RECOUP_CONTACT_EMAIL ? &c->email :
             contact_kind == RECOUP_CONTACT_PHONE ? &c->phone : &c->address;
      if (*slot == NULL && (slot != &c->email || recoup_email_address_validate (value, NULL)))
        *slot = g_strdup (value);
    }
  if (rc != SQLITE_DONE)
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE ? g_steal_pointer (&map) : NULL;
}

static GHashTable *
load_recent (RecoupBook  *book,
             gint64       since_ms,
             GError     **error)
{
  g_autoptr(GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT account_id FROM activities WHERE channel IN ('email','letter','sms') AND at >= ?1"
    " UNION SELECT account_id FROM outbox WHERE account_id IS NOT NULL"
    "   AND (state IN ('queued','sending','uncertain') OR created_at >= ?1)", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, since_ms);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_hash_table_add (set, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
  if (rc != SQLITE_DONE)
    recoup_book_set_sqlite_error (book, error);
  sqlite3_reset (stmt);
  return rc == SQLITE_DONE ? g_steal_pointer (&set) : NULL;
}

static const char *
template_for_step (RecoupBook                 *book,
                   GArray                     *steps,
                   const RecoupEscalationStep *step,
                   char                      **out_owned)
{
  g_autofree char *key = g_strdup_printf ("remind.template.%d", step->days);
  char *custom = recoup_book_get_setting (book, key);
  const RecoupEscalationStep *first = NULL;

  if (custom != NULL && *custom != '\0')
    return *out_owned = custom;
  g_free (custom);
  for (guint i = 0; i < steps->len && first == NULL; i++)
    {
      const RecoupEscalationStep *s = &g_array_index (steps, RecoupEscalationStep, i);

      if (g_str_equal (s->channel, "email") || g_str_equal (s->channel, "letter"))
        first = s;
    }
  if (g_str_equal (step->channel, "sms"))
    return "sms-reminder";
  if (step->action != NULL && strstr (step->action, "final") != NULL)
    return "final-notice";
  if (step == first)
    return "friendly-reminder";
  return "second-reminder";
}

static gboolean
is_message_channel (const char *channel)
{
  return g_str_equal (channel, "email") || g_str_equal (channel, "letter") || g_str_equal (channel, "sms");
}

RecoupRemindRun *
recoup_remind_propose (RecoupBook  *book,
                       gint64       at,
                       GError     **error)
{
  g_autoptr(RecoupRemindRun) run = g_new0 (RecoupRemindRun, 1);
  g_autoptr(GArray) steps = NULL;
  g_autoptr(GHashTable) contacts = NULL;
  g_autoptr(GHashTable) recent = NULL;
  RecoupGuardPolicy policy = { 0, };
  gboolean regf;
  gint64 repeat_days;
  sqlite3_stmt *stmt;
  int rc;

  run->today = recoup_book_today (book);
  run->at = at > 0 ? at : g_get_real_time () / 1000;
  run->items = g_ptr_array_new_with_free_func (item_free);

  if (!recoup_score_ensure_current (book, NULL, NULL, error))
    return NULL;
  steps = recoup_escalation_policy_load (book);
  repeat_days = recoup_settings_get_int (book, "remind.repeat_days", 7, 0, 365);
  if (!(contacts = load_contacts (book, error)) ||
      !(recent = load_recent (book, run->at - repeat_days * 86400 * (gint64) 1000, error)))
    return NULL;
  recoup_guard_policy_load (book, &policy);
  regf = g_strcmp0 (policy.profile, "regf") == 0;

  /* An account on a live payment plan is not reminded of its invoices' days
   * past due: the plan set new due dates (its next action waits for the next
   * installment, or calls about a missed one: recoup_escalation_next ()). */
  stmt = recoup_book_prepare (book,
    "SELECT a.id, a.ref, a.name, a.currency, s.balance, s.oldest_dpd, a.validation_notice_date"
    " FROM accounts a JOIN account_stats s ON s.account_id = a.id"
    " WHERE a.deleted = 0 AND a.stage <> 'closed' AND s.balance > 0 AND s.oldest_dpd >= 1"
    " AND s.plan_due_date IS NULL"
    " ORDER BY s.oldest_dpd DESC, a.ref", error);
  if (stmt == NULL)
    goto fail;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *id = RECOUP_BOOK_STMT_TEXT (stmt, 0);
      int dpd = sqlite3_column_int (stmt, 5);
      const RecoupEscalationStep *step = NULL;
      g_autofree char *owned_template = NULL;
      const char *template_name, *channel;
      g_autoptr(GString) reason = g_string_new (NULL);
      g_autoptr(GString) held = g_string_new (NULL);
      g_autoptr(GString) warn = g_string_new (NULL);
      g_autoptr(RecoupGuardVerdict) verdict = NULL;
      Contacts *c = g_hash_table_lookup (contacts, id);
      RecoupRemindItem *it;

      if (g_hash_table_contains (recent, id))
        {
          run->n_recent++;
          continue;
        }

      if (regf && sqlite3_column_type (stmt, 6) == SQLITE_NULL)
        {
          template_name = "validation-notice";
          channel = c && c->address ? "letter" : "email";
          g_string_append (reason, "no validation notice yet (Regulation F)");
        }
      else
        {
          for (guint i = 0; i < steps->len; i++)
            {
              const RecoupEscalationStep *s = &g_array_index (steps, RecoupEscalationStep, i);

              if (s->days <= dpd && is_message_channel (s->channel))
                step = s;
            }
          if (step == NULL)
            continue;
          template_name = template_for_step (book, steps, step, &owned_template);
          channel = step->channel;
          g_string_append_printf (reason, "%d days past due: policy step %d days, %s (%s)",
                                  dpd, step->days, step->action ? step->action : "", step->channel);
        }

      if (g_str_equal (channel, "email") && (c == NULL || c->email == NULL))
        {
          channel = "letter";
          g_string_append (reason, "; no usable email address, so a letter");
        }

      it = g_new0 (RecoupRemindItem, 1);
      it->account_id = g_strdup (id);
      it->ref = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      it->name = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      it->currency = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 3));
      it->balance = sqlite3_column_int64 (stmt, 4);
      it->days_past_due = dpd;
      it->template_name = g_strdup (template_name);
      it->channel = g_strdup (channel);
      if (g_str_equal (channel, "email"))
        it->to = g_strdup (c->email);
      else if (g_str_equal (channel, "sms"))
        it->to = g_strdup (c ? c->phone : NULL);

      if (g_str_equal (channel, "letter") && (c == NULL || c->address == NULL))
        g_string_append (held, "no-address: no postal address to send a letter to");
      if (g_str_equal (channel, "sms") && it->to == NULL)
        g_string_append (held, "no-phone: no phone number for a text");

      if (!recoup_guard_check_with_policy (book, &policy, id, channel, run->at,
                                           recoup_book_get_user_id (book), &verdict, error))
        {
          item_free (it);
          goto fail;
        }
      for (guint i = 0; i < verdict->reasons->len; i++)
        {
          RecoupGuardReason *r = g_ptr_array_index (verdict->reasons, i);
          GString *into = r->blocks ? held : warn;

          g_string_append_printf (into, "%s%s: %s", into->len ? "; " : "", r->code, r->text);
        }
      it->held = held->len > 0 || verdict->verdict == RECOUP_VERDICT_BLOCKED;
      it->held_reasons = held->len ? g_strdup (held->str) : NULL;
      it->warnings = warn->len ? g_strdup (warn->str) : NULL;
      it->reason = g_strdup (reason->str);
      it->selected = !it->held;
      g_ptr_array_add (run->items, it);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      goto fail;
    }
  recoup_guard_policy_clear (&policy);
  return g_steal_pointer (&run);

fail:
  recoup_guard_policy_clear (&policy);
  return NULL;
}

gboolean
recoup_remind_preview (RecoupBook              *book,
                       const RecoupRemindItem  *item,
                       char                   **out_subject,
                       char                   **out_body,
                       GError                 **error)
{
  g_autoptr(RecoupTemplateContext) ctx = recoup_template_context_build (book, item->account_id, NULL, error);

  if (ctx == NULL)
    return FALSE;
  return recoup_template_render_named (book, item->template_name, ctx, out_subject, out_body, error);
}

typedef struct
{
  RecoupRemindItem *item;
  char             *subject;
  char             *body;
  char             *path;     /* letters */
} Rendered;

static void
rendered_clear (gpointer data)
{
  Rendered *r = data;

  g_free (r->subject);
  g_free (r->body);
  g_free (r->path);
}

static char *
sms_link (const char *phone,
          const char *text)
{
  g_autofree char *number = g_strdup (phone);
  g_autofree char *body = g_uri_escape_string (text, NULL, FALSE);
  char *w = number;

  for (const char *p = phone; *p; p++)
    if (g_ascii_isdigit (*p) || (*p == '+' && w == number))
      *w++ = *p;
  *w = '\0';
  return g_strdup_printf ("sms:%s?body=%s", number, body);
}

static char *
safe_file_part (const char *s)
{
  char *out = g_strdup (s);

  for (char *p = out; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      *p = '_';
  return out;
}

gboolean
recoup_remind_execute (RecoupBook                 *book,
                       RecoupRemindRun            *run,
                       const RecoupRemindOptions  *options,
                       RecoupRemindResult         *result,
                       GError                    **error)
{
  g_autoptr(GArray) rendered = g_array_new (FALSE, TRUE, sizeof (Rendered));
  g_autoptr(GPtrArray) letters = g_ptr_array_new ();
  g_autofree char *dir = NULL;
  g_autofree char *batch_path = NULL;
  guint total = 0, done = 0;

  memset (result, 0, sizeof *result);
  result->letter_paths = g_ptr_array_new_with_free_func (g_free);
  result->sms_links = g_ptr_array_new_with_free_func (g_free);
  g_array_set_clear_func (rendered, rendered_clear);

  for (guint i = 0; i < run->items->len; i++)
    {
      RecoupRemindItem *it = g_ptr_array_index (run->items, i);

      if (it->selected && !it->held)
        total++;
    }

  /* 1. Render every message (reads only). */
  for (guint i = 0; i < run->items->len; i++)
    {
      RecoupRemindItem *it = g_ptr_array_index (run->items, i);
      Rendered r = { it, NULL, NULL, NULL };

      if (!it->selected || it->held)
        continue;
      if (g_str_equal (it->channel, "letter") && options->render_letter == NULL)
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "this run has letters but no letter renderer: untick the letters or use "
                       "the app or recoup-cli");
          return FALSE;
        }
      if (!recoup_remind_preview (book, it, &r.subject, &r.body, error))
        {
          g_prefix_error (error, "account %s: ", it->ref);
          return FALSE;
        }
      g_array_append_val (rendered, r);
      if (options->progress)
        options->progress (++done, 2 * (guint64) total, options->progress_data);
    }

  /* 2. Letters to PDF, before anything is recorded. */
  if (options->letters_dir != NULL)
    dir = g_strdup (options->letters_dir);
  else if ((dir = recoup_book_get_setting (book, "letters.dir")) == NULL)
    {
      g_autofree char *book_dir = g_path_get_dirname (recoup_book_get_path (book));

      dir = g_build_filename (book_dir, "letters", NULL);
    }
  for (guint i = 0; i < rendered->len; i++)
    {
      Rendered *r = &g_array_index (rendered, Rendered, i);

      if (!g_str_equal (r->item->channel, "letter"))
        continue;
      if (letters->len == 0 && g_mkdir_with_parents (dir, 0700) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "cannot create the letters folder %s: %s", dir, g_strerror (errno));
          return FALSE;
        }
      g_ptr_array_add (letters, r->body);
      if (options->batch_letters)
        {
          if (batch_path == NULL)
            {
              g_autofree char *name = g_strdup_printf ("%s-letters.pdf", run->today);

              batch_path = g_build_filename (dir, name, NULL);
            }
          r->path = g_strdup (batch_path);
        }
      else
        {
          g_autofree char *ref = safe_file_part (r->item->ref);
          g_autofree char *name = g_strdup_printf ("%s-%s-%s.pdf", run->today, ref, r->item->template_name);
          g_autoptr(GPtrArray) one = g_ptr_array_new ();

          r->path = g_build_filename (dir, name, NULL);
          g_ptr_array_add (one, r->body);
          if (!options->render_letter (r->path, one, options->render_data, error))
            return FALSE;
          g_ptr_array_add (result->letter_paths, g_strdup (r->path));
        }
    }
  if (batch_path != NULL)
    {
      if (!options->render_letter (batch_path, letters, options->render_data, error))
        return FALSE;
      g_ptr_array_add (result->letter_paths, g_strdup (batch_path));
    }

  /* 3. Record everything in one transaction. */
  if (!recoup_book_begin (book, error))
    return FALSE;
  for (guint i = 0; i < rendered->len; i++)
    {
      Rendered *r = &g_array_index (rendered, Rendered, i);
      RecoupRemindItem *it = r->item;

      if (g_str_equal (it->channel, "email"))
        {
          RecoupOutboxSpec spec = {
            .account_id = it->account_id,
            .to = it->to,
            .subject = r->subject,
            .body = r->body,
            .template_name = it->template_name,
          };
          g_autofree char *id = recoup_outbox_enqueue (book, &spec, error);

          if (id == NULL)
            {
              g_prefix_error (error, "account %s: ", it->ref);
              goto fail;
            }
          result->emails_queued++;
        }
      else
        {
          g_autofree char *notes = NULL;
          g_autofree char *activity = NULL;
          RecoupActivitySpec spec = { .account_id = it->account_id, .channel = it->channel };

          if (g_str_equal (it->channel, "letter"))
            {
              notes = g_strdup_printf ("Letter “%s” (%s)", it->template_name, r->path);
              spec.outcome = "sent";
              result->letters++;
            }
          else
            {
              g_autofree char *link = sms_link (it->to, r->body);

              notes = g_strdup_printf ("SMS “%s” prepared for sending from the phone: %s",
                                       it->template_name, r->body);
              g_ptr_array_add (result->sms_links, g_strdup_printf ("%s %s", it->ref, link));
              result->sms++;
            }
          spec.notes = notes;
          if (!(activity = recoup_activity_log (book, &spec, error)))
            goto fail;
        }
      if (g_str_equal (it->template_name, "validation-notice") &&
          !recoup_account_set (book, it->account_id, "validation_notice_date", run->today, error))
        goto fail;
      if (options->progress)
        options->progress (++done, 2 * (guint64) total, options->progress_data);
    }
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}
