/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "recoup-labels.h"
#include "recoup-preferences.h"
#include "recoup-sync.h"
#include "recoup-sync-indicator.h"
#include "recoup-window-private.h"

/* How many refusals, conflicts and flagged accounts the popover lists. */
#define MAX_LISTED RECOUP_SYNC_STATUS_N_DESCRIBED

typedef struct
{
  RecoupWindow     *window;     /* weak */
  RecoupSyncStatus *status;
  GtkWidget        *button;
  GtkWidget        *icon;
  GtkWidget        *spinner;
  GtkWidget        *count;
  GtkWidget        *popover;
  GtkWidget        *details;    /* the popover's box */
  GtkWidget        *state_label;
  GtkWidget        *summary;
  GtkWidget        *last_label;
  GtkWidget        *error_label;
  GtkWidget        *info;       /* rebuilt on every change */
  GtkWidget        *sync_now;
  GtkWidget        *enroll_again;  /* instead of Sync Now once the server no longer knows this device */
} Indicator;

static void
indicator_free (Indicator *ind)
{
  g_clear_weak_pointer (&ind->window);
  g_clear_object (&ind->status);
  g_free (ind);
}

static void
indicator_closure_free (gpointer  data,
                        GClosure *closure)
{
  indicator_free (data);
}

static char *
format_time (gint64 ms)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (ms / 1000);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (dt == NULL)
    return g_strdup ("?");
  if (g_date_time_get_year (dt) == g_date_time_get_year (now) &&
      g_date_time_get_day_of_year (dt) == g_date_time_get_day_of_year (now))
    return g_date_time_format (dt, _("today at %H:%M"));
  return g_date_time_format (dt, "%Y-%m-%d %H:%M");
}

static guint
length_of (JsonArray *array)
{
  return array != NULL ? json_array_get_length (array) : 0;
}

/* The refusals that are sent again with the next sync (@resent: a clock
 * ahead, a newer schema, a row the server does not have yet), or those the
 * server refused for good (the others): core's one rule decides. */
static JsonArray *
rejections_resent (RecoupSyncStatus *status,
                   gboolean          resent)
{
  JsonArray *all = recoup_sync_status_get_rejections (status);
  JsonArray *some = json_array_new ();

  for (guint i = 0; i < length_of (all); i++)
    {
      JsonObject *r = json_array_get_object_element (all, i);

      const char *reason = json_object_get_string_member_with_default (r, "reason", NULL);

      if (recoup_merge_reason_is_resent (reason) == resent)
        json_array_add_object_element (some, json_object_ref (r));
    }
  return some;
}

/* Changes refused for good: they stay in this book and need the user. */
static guint
n_refused (RecoupSyncStatus *status)
{
  g_autoptr(JsonArray) refused = rejections_resent (status, FALSE);

  return json_array_get_length (refused);
}

char *
recoup_sync_describe_state (RecoupSyncStatus *status)
{
  gint64 n = recoup_sync_status_get_n_pending (status);
  guint refused = n_refused (status);

  switch (recoup_sync_status_get_state (status))
    {
    case RECOUP_SYNC_STATE_NOT_CONNECTED:
      return g_strdup (_("Not connected to a server"));
    case RECOUP_SYNC_STATE_SYNCED:
      if (refused > 0)
        return g_strdup_printf (ngettext ("Synced, but the server refused %'u change",
                                          "Synced, but the server refused %'u changes", refused), refused);
      return g_strdup (_("Synced: every change is on the server"));
    case RECOUP_SYNC_STATE_PENDING:
      return g_strdup_printf (ngettext ("%'u change waits to be sent",
                                        "%'u changes wait to be sent", n), (guint) n);
    case RECOUP_SYNC_STATE_SYNCING:
      return g_strdup (_("Syncing…"));
    case RECOUP_SYNC_STATE_OFFLINE:
      if (n > 0)
        return g_strdup_printf (ngettext ("Offline: %'u change will be sent when the server can be reached",
                                          "Offline: %'u changes will be sent when the server can be reached",
                                          n), (guint) n);
      return g_strdup (_("Offline"));
    case RECOUP_SYNC_STATE_ERROR:
      {
        /* The server's words, without the HTTP status the CLI keeps. */
        g_autofree char *why = recoup_sync_error_for_display (recoup_sync_status_get_error (status), FALSE);

        return g_strdup_printf (_("Sync failed: %s"), why != NULL ? why : "");
      }
    default:
      g_assert_not_reached ();
    }
}

static GtkWidget *
small_label (const char *text,
             const char *css)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 48);
  if (css != NULL)
    gtk_widget_add_css_class (label, css);
  return label;
}

static void
add_heading (GtkWidget  *box,
             const char *text)
{
  GtkWidget *label = small_label (text, "heading");

  gtk_widget_set_margin_top (label, 6);
  gtk_box_append (GTK_BOX (box), label);
}

static void
add_more (GtkWidget *box,
          guint      n)
{
  if (n > MAX_LISTED)
    {
      g_autofree char *more = g_strdup_printf (ngettext ("and %u more", "and %u more", n - MAX_LISTED),
                                               n - MAX_LISTED);
      gtk_box_append (GTK_BOX (box), small_label (more, "dim-label"));
    }
}

/* "A-100 Ada Lovelace Ltd" for a row the status named an account for. */
static char *
account_text (JsonObject *obj)
{
  if (!json_object_has_member (obj, "account_ref"))
    return NULL;
  return g_strdup_printf ("%s %s", json_object_get_string_member_with_default (obj, "account_ref", ""),
                          json_object_get_string_member_with_default (obj, "account_name", ""));
}

typedef struct
{
  const char *name;
  const char *label;
} Label;

static const char *
lookup_label (const Label *labels,
              gsize        n,
              const char  *name)
{
  for (gsize i = 0; i < n; i++)
    if (g_strcmp0 (labels[i].name, name) == 0)
      return _(labels[i].label);
  return NULL;
}

/* What a refused change was about. These and field_label() would belong in
 * recoup-labels.c, which has no labels for the book's tables and fields. */
static const char *
entity_label (const char *entity,
              const char *kind)
{
  static const Label labels[] = {
    { "accounts", N_("Account details") }, { "contact_points", N_("Contact point") },
    { "invoices", N_("Invoice") }, { "ledger_entries", N_("Ledger entry") },
    { "activities", N_("Contact record") }, { "promises", N_("Promise to pay") },
    { "offers", N_("Settlement offer") }, { "offer_events", N_("Settlement offer step") },
    { "installments", N_("Installment") }, { "disputes", N_("Dispute") },
    { "follow_ups", N_("Follow-up") }, { "outbox", N_("E-mail") },
    { "templates", N_("Reminder template") }, { "users", N_("User") }, { "imports", N_("Import") },
    { "settings", N_("Book setting") },
  };

  if (g_strcmp0 (entity, "ledger_entries") == 0 && kind != NULL)
    return recoup_label_entry_kind (kind);
  return lookup_label (labels, G_N_ELEMENTS (labels), entity);
}

/* The field of a lost edit, as the account editor names it. */
static const char *
field_label (const char *entity,
             const char *field)
{
  static const Label account_fields[] = {
    { "name", N_("Name") }, { "timezone", N_("Time zone") }, { "assigned_to", N_("Collector") },
    { "stage", N_("Stage") }, { "tier", N_("Tier") }, { "tags", N_("Tags") },
    { "cease_communication", N_("Cease communication") }, { "attorney_represented", N_("Attorney represented") },
    { "bankruptcy", N_("Bankruptcy") }, { "deceased", N_("Deceased") },
    { "validation_notice_date", N_("Validation notice sent") }, { "placed_on", N_("Placed for collection") },
    { "review_flag", N_("Review flag") }, { "notes", N_("Notes") }, { "lifetime_revenue", N_("Lifetime revenue") },
  };
  static const Label contact_fields[] = {
    { "value", N_("Contact point") }, { "label", N_("Contact point label") },
    { "is_primary", N_("Primary contact point") }, { "consent", N_("Consent") }, { "opted_out", N_("Opted out") },
  };
  const char *label = NULL;

  if (g_strcmp0 (entity, "accounts") == 0)
    label = lookup_label (account_fields, G_N_ELEMENTS (account_fields), field);
  else if (g_strcmp0 (entity, "contact_points") == 0)
    label = lookup_label (contact_fields, G_N_ELEMENTS (contact_fields), field);
  if (g_strcmp0 (field, "deleted") == 0)
    label = _("Removed");
  return label != NULL ? label : field;
}

static gboolean
is_flag_field (const char *field)
{
  static const char * const flags[] = {
    "cease_communication", "attorney_represented", "bankruptcy", "deceased", "deleted",
    "is_primary", "consent", "opted_out", NULL,
  };

  return g_strv_contains (flags, field);
}

/* The lost value as the account page would show it. */
static char *
value_text (const char *field,
            JsonNode   *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup (_("(empty)"));
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64 && is_flag_field (field))
    return g_strdup (json_node_get_int (node) != 0 ? C_("flag", "on") : C_("flag", "off"));
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *text = json_node_get_string (node);

      if (g_strcmp0 (field, "stage") == 0)
        text = recoup_label_stage (text);
      else if (g_strcmp0 (field, "tier") == 0)
        text = recoup_label_tier (text);
      return g_strdup_printf ("“%s”", text);
    }
  return json_to_string (node, FALSE);
}

/* The server's message without the change's id, which means nothing to a
 * person ("change 01a2…: unknown entity “settings”"). */
static char *
without_change_id (const char *message,
                   const char *change_id)
{
  g_autofree char *prefix = g_strdup_printf ("change %s: ", change_id);
  g_autofree char *mention = g_strdup_printf (" %s", change_id);
  g_auto(GStrv) parts = NULL;

  if (*change_id == '\0')
    return g_strdup (message);
  if (g_str_has_prefix (message, prefix))
    return g_strdup (message + strlen (prefix));
  parts = g_strsplit (message, mention, -1);
  return g_strjoinv ("", parts);
}

/* Why the server refused a change, for the person whose change it was. */
static const char *
refusal_reason (const char *code)
{
  static const Label reasons[] = {
    { "schema_too_new", N_("It was made by a newer Recoup than the server runs. It stays queued and is sent "
                           "once the server is updated.") },
    { "clock_ahead", N_("It is stamped ahead of the server’s clock. Check this computer’s date and time; it "
                        "is sent again with the next sync.") },
    { "forbidden", N_("Your role on the server does not allow it. Ask an owner.") },
    { "unknown_entity", N_("The server runs an older Recoup that cannot take this kind of change.") },
    { "unknown_field", N_("The server runs an older Recoup that cannot take this kind of change.") },
    { "unsupported_op", N_("The server does not take this kind of change.") },
    { "missing_row", N_("The server does not have the record it changes yet. It stays queued and is sent "
                        "again with each sync.") },
    { "missing_reference", N_("The server does not have the record it belongs to yet. It stays queued and is "
                              "sent again with each sync.") },
    { "constraint", N_("It conflicts with what the server’s book already holds.") },
    { "not_shared", N_("The server keeps this setting to each computer; it is not shared.") },
    { "invalid_change", N_("The server could not read it.") },
    { "wrong_type", N_("The server could not read it.") },
  };

  return lookup_label (reasons, G_N_ELEMENTS (reasons), code);
}

static const char *
op_label (const char *op)
{
  if (g_strcmp0 (op, "insert") == 0)
    return C_("refused change", "added");
  if (g_strcmp0 (op, "tombstone") == 0)
    return C_("refused change", "removed");
  return C_("refused change", "changed");
}

/* A line of a row: narrower than the popover's own lines, so that a row
 * with its arrow is no wider than they are. */
static GtkWidget *
row_label (const char *text,
           const char *css)
{
  GtkWidget *label = small_label (text, css);

  gtk_label_set_max_width_chars (GTK_LABEL (label), 42);
  return label;
}

/* A row of a list in the popover; activating it opens @account_id's page. */
static GtkWidget *
list_row (GtkWidget  *list,
          const char *name,
          const char *account_id)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);

  gtk_widget_set_name (row, name);
  gtk_widget_set_margin_start (hbox, 8);
  gtk_widget_set_margin_end (hbox, 8);
  gtk_widget_set_margin_top (hbox, 6);
  gtk_widget_set_margin_bottom (hbox, 6);
  gtk_widget_set_hexpand (box, TRUE);
  gtk_box_append (GTK_BOX (hbox), box);
  if (account_id != NULL)
    gtk_box_append (GTK_BOX (hbox), gtk_image_new_from_icon_name ("go-next-symbolic"));
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), hbox);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), account_id != NULL);
  gtk_widget_set_focusable (row, account_id != NULL);
  if (account_id != NULL)
    {
      g_object_set_data_full (G_OBJECT (row), "account-id", g_strdup (account_id), g_free);
      gtk_widget_set_tooltip_text (row, _("Open the account"));
    }
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  return box;
}

/* Shows @account_id's page, as picking it in the worklist would (it need
 * not be among the worklist's rows). */
static void
open_account (RecoupWindow *window,
              const char   *account_id)
{
  /* What the window's show_account () does, which is static; a public
   * recoup_window_show_account () would replace this. The list's highlight
   * would name another account, so it goes. */
  gtk_single_selection_set_selected (window->selection, GTK_INVALID_LIST_POSITION);
  if (g_strcmp0 (window->account_id, account_id) != 0)
    {
      g_free (window->account_id);
      window->account_id = g_strdup (account_id);
      g_clear_pointer (&window->last_allocation, recoup_allocation_free);
      recoup_window_reload_account (window);
    }
  adw_leaflet_navigate (window->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

static void
row_activated_cb (GtkListBox    *list,
                  GtkListBoxRow *row,
                  Indicator     *ind)
{
  const char *account_id = g_object_get_data (G_OBJECT (row), "account-id");

  if (account_id == NULL || ind->window == NULL)
    return;
  gtk_popover_popdown (GTK_POPOVER (ind->popover));
  open_account (ind->window, account_id);
}

static GtkWidget *
add_list (Indicator *ind)
{
  GtkWidget *list = gtk_list_box_new ();

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  g_signal_connect (list, "row-activated", G_CALLBACK (row_activated_cb), ind);
  gtk_box_append (GTK_BOX (ind->info), list);
  return list;
}

static void
add_rejection (Indicator  *ind,
               GtkWidget  *list,
               JsonObject *r)
{
  const char *code = json_object_get_string_member_with_default (r, "reason", "");
  const char *entity = json_object_get_string_member_with_default (r, "entity", NULL);
  const char *what = entity_label (entity, json_object_get_string_member_with_default (r, "kind", NULL));
  const char *op = json_object_get_string_member_with_default (r, "op", NULL);
  const char *reason = refusal_reason (code);
  g_autofree char *account = account_text (r);
  g_autofree char *server = without_change_id (json_object_get_string_member_with_default (r, "message", ""),
                                               json_object_get_string_member_with_default (r, "change_id", ""));
  g_autofree char *change = NULL;
  g_autofree char *title = NULL;
  g_autofree char *detail = NULL;
  GtkWidget *box = list_row (list, "sync-refusal", json_object_get_string_member_with_default (r, "account_id", NULL));

  if (what == NULL)
    change = entity != NULL ? g_strdup_printf (_("A change to “%s”"), entity) : g_strdup (_("A change"));
  else
    /* e.g. "Payment added", "Account details changed" */
    change = g_strdup_printf (C_("refused change", "%1$s %2$s"), what, op_label (op));
  /* e.g. "Payment added — A-100 Ada Lovelace Ltd" */
  title = account != NULL ? g_strdup_printf (_("%s — %s"), change, account) : g_steal_pointer (&change);
  detail = g_strdup_printf (_("The server said: %s (%s)"), server, code);

  gtk_box_append (GTK_BOX (box), row_label (title, NULL));
  gtk_box_append (GTK_BOX (box), row_label (reason != NULL ? reason : server, "caption"));
  if (reason != NULL)
    {
      GtkWidget *label = row_label (detail, "caption");

      gtk_widget_add_css_class (label, "dim-label");
      gtk_box_append (GTK_BOX (box), label);
    }
}

static void
add_conflict (Indicator  *ind,
              GtkWidget  *list,
              JsonObject *c)
{
  const char *entity = json_object_get_string_member_with_default (c, "entity", "");
  const char *field = json_object_get_string_member_with_default (c, "field", "");
  const char *winner = json_object_get_string_member_with_default (c, "winner_name", NULL);
  g_autofree char *account = account_text (c);
  const char *value_name = json_object_get_string_member_with_default (c, "value_name", NULL);
  g_autofree char *value = value_name != NULL ? g_strdup_printf ("“%s”", value_name)
                                               : value_text (field, json_object_get_member (c, "value"));
  const char *loser = json_object_get_string_member_with_default (c, "loser_name", NULL);
  /* A shared setting is named by its key. */
  const char *what = g_str_equal (entity, "settings")
                     ? json_object_get_string_member_with_default (c, "entity_id", "")
                     : field_label (entity, field);
  g_autofree char *when = format_time (json_object_get_int_member_with_default (c, "at", 0));
  g_autofree char *kept = NULL;
  g_autofree char *lost = NULL;
  GtkWidget *box = list_row (list, "sync-conflict", json_object_get_string_member_with_default (c, "account_id", NULL));
  GtkWidget *label;

  if (winner != NULL)
    /* e.g. "Name: “Cardinal Tire & Wheel, Inc.” was replaced by a newer edit by Olive" */
    lost = g_strdup_printf (_("%s: %s was replaced by a newer edit by %s"), what, value, winner);
  else
    lost = g_strdup_printf (_("%s: %s was replaced by a newer edit"), what, value);
  /* Whose edit it was: the person on this computer is told it was theirs. */
  if (json_object_get_boolean_member_with_default (c, "own", FALSE))
    kept = g_strdup_printf (_("Your edit, kept in the log, %s"), when);
  else if (loser != NULL)
    /* Translators: the name of who made the edit that lost, then when it was logged */
    kept = g_strdup_printf (_("An edit by %s, kept in the log, %s"), loser, when);
  else
    kept = g_strdup_printf (_("Kept in the log, %s"), when);

  if (account != NULL)
    gtk_box_append (GTK_BOX (box), row_label (account, NULL));
  else if (entity_label (entity, NULL) != NULL)
    gtk_box_append (GTK_BOX (box), row_label (entity_label (entity, NULL), NULL));
  gtk_box_append (GTK_BOX (box), row_label (lost, "caption"));
  label = row_label (kept, "caption");
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (box), label);
}

static void
add_review (Indicator  *ind,
            GtkWidget  *list,
            JsonObject *r)
{
  g_autofree char *text = g_strdup_printf ("%s %s: %s",
                                           json_object_get_string_member_with_default (r, "ref", ""),
                                           json_object_get_string_member_with_default (r, "name", ""),
                                           json_object_get_string_member_with_default (r, "flag", ""));
  GtkWidget *box = list_row (list, "sync-review", json_object_get_string_member_with_default (r, "id", NULL));

  gtk_box_append (GTK_BOX (box), row_label (text, "caption"));
}

/* A heading (@title, which this takes, counting @n) and the first of
 * @array's rows. */
static void
add_section (Indicator  *ind,
             JsonArray  *array,
             guint       n,
             char       *title,
             void      (*add_row) (Indicator *, GtkWidget *, JsonObject *))
{
  g_autofree char *owned = title;
  GtkWidget *list;

  if (n == 0)
    return;
  add_heading (ind->info, title);
  list = add_list (ind);
  for (guint i = 0; i < MIN (n, MAX_LISTED); i++)
    add_row (ind, list, json_array_get_object_element (array, i));
  add_more (ind->info, n);
}

/* The popover's heading and the sentence under it. */
static void
describe_heading (RecoupSyncStatus  *st,
                  char             **heading,
                  char             **summary)
{
  gint64 n = recoup_sync_status_get_n_pending (st);

  switch (recoup_sync_status_get_state (st))
    {
    case RECOUP_SYNC_STATE_SYNCED:
      if (n_refused (st) > 0)
        {
          *heading = g_strdup (_("Some Changes Refused"));
          *summary = g_strdup (_("Everything else is on the server. Refused changes stay in this book."));
        }
      else
        {
          *heading = g_strdup (_("Synced"));
          *summary = g_strdup (_("Every change is on the server."));
        }
      break;
    case RECOUP_SYNC_STATE_PENDING:
      *heading = g_strdup (_("Not Sent Yet"));
      *summary = g_strdup_printf (ngettext ("%'u change waits to be sent.", "%'u changes wait to be sent.", n),
                                  (guint) n);
      break;
    case RECOUP_SYNC_STATE_SYNCING:
      *heading = g_strdup (_("Syncing…"));
      *summary = NULL;
      break;
    case RECOUP_SYNC_STATE_OFFLINE:
      *heading = g_strdup (_("Offline"));
      if (n > 0)
        *summary = g_strdup_printf (ngettext ("%'u change will be sent when the server can be reached.",
                                              "%'u changes will be sent when the server can be reached.", n),
                                    (guint) n);
      else
        *summary = g_strdup (_("Nothing waits to be sent."));
      break;
    case RECOUP_SYNC_STATE_ERROR:
      *heading = g_strdup (_("Sync Failed"));
      *summary = n > 0 ? g_strdup_printf (ngettext ("%'u change waits to be sent.",
                                                    "%'u changes wait to be sent.", n), (guint) n)
                       : NULL;
      break;
    case RECOUP_SYNC_STATE_NOT_CONNECTED:
    default:
      *heading = recoup_sync_describe_state (st);
      *summary = NULL;
      break;
    }
}

/* The popover keeps its state, error and Sync Now widgets (one of them may
 * have the focus while it is open); the lists in between are rebuilt. */
static void
build_details (Indicator *ind)
{
  RecoupSyncStatus *st = ind->status;
  RecoupSyncState state = recoup_sync_status_get_state (st);
  const char *error = recoup_sync_status_get_error (st);
  /* Out of reach, the reason is for whoever runs the server: shown, but
   * small and quiet; a failure the user must act on is the message. */
  gboolean quiet = state == RECOUP_SYNC_STATE_OFFLINE;
  gboolean show_error = error != NULL && (state == RECOUP_SYNC_STATE_ERROR || quiet);
  g_autofree char *heading = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *last = recoup_sync_status_get_last_sync (st) > 0
                          ? format_time (recoup_sync_status_get_last_sync (st)) : NULL;
  g_autofree char *line = last != NULL ? g_strdup_printf (_("Last synced %s"), last)
                                       : g_strdup (_("Not synced yet"));
  g_autofree char *server = g_strdup_printf (_("%s as %s (%s)"), recoup_sync_status_get_url (st),
                                             recoup_sync_status_get_user_name (st),
                                             recoup_sync_status_get_role (st));
  g_autoptr(JsonArray) refused = NULL;
  g_autoptr(JsonArray) waiting = NULL;
  GtkWidget *child;
  guint n;

  while ((child = gtk_widget_get_first_child (ind->info)) != NULL)
    gtk_box_remove (GTK_BOX (ind->info), child);

  describe_heading (st, &heading, &summary);
  gtk_label_set_text (GTK_LABEL (ind->state_label), heading);
  gtk_label_set_text (GTK_LABEL (ind->summary), summary);
  gtk_widget_set_visible (ind->summary, summary != NULL);
  gtk_label_set_text (GTK_LABEL (ind->last_label), line);
  gtk_label_set_text (GTK_LABEL (ind->error_label), show_error ? error : "");
  gtk_widget_set_visible (ind->error_label, show_error);
  if (quiet)
    {
      gtk_widget_add_css_class (ind->error_label, "caption");
      gtk_widget_add_css_class (ind->error_label, "dim-label");
      gtk_box_reorder_child_after (GTK_BOX (ind->details), ind->error_label, ind->last_label);
    }
  else
    {
      gtk_widget_remove_css_class (ind->error_label, "caption");
      gtk_widget_remove_css_class (ind->error_label, "dim-label");
      gtk_box_reorder_child_after (GTK_BOX (ind->details), ind->error_label, ind->state_label);
    }
  gtk_widget_set_sensitive (ind->sync_now, state != RECOUP_SYNC_STATE_SYNCING);
  /* Syncing again is refused again until a new code enrolls the book: the
   * way there instead. */
  gtk_widget_set_visible (ind->enroll_again, recoup_sync_status_needs_enrollment (st));
  gtk_widget_set_visible (ind->sync_now, !recoup_sync_status_needs_enrollment (st));

  gtk_box_append (GTK_BOX (ind->info), small_label (server, "dim-label"));

  refused = rejections_resent (st, FALSE);
  waiting = rejections_resent (st, TRUE);
  n = length_of (refused);
  add_section (ind, refused, n,
               g_strdup_printf (ngettext ("%u Change Refused by the Server",
                                          "%u Changes Refused by the Server", n), n), add_rejection);
  /* Refused for now: they are still queued and go again with the next sync. */
  n = length_of (waiting);
  add_section (ind, waiting, n,
               g_strdup_printf (ngettext ("%u Change Waiting to Be Sent Again",
                                          "%u Changes Waiting to Be Sent Again", n), n), add_rejection);
  n = length_of (recoup_sync_status_get_review (st));
  add_section (ind, recoup_sync_status_get_review (st), n,
               g_strdup_printf (ngettext ("%u Account Flagged for Review",
                                          "%u Accounts Flagged for Review", n), n), add_review);
  n = length_of (recoup_sync_status_get_conflicts (st));
  add_section (ind, recoup_sync_status_get_conflicts (st), n,
               g_strdup_printf (ngettext ("%u Edit Lost to a Newer One",
                                          "%u Edits Lost to Newer Ones", n), n), add_conflict);
}

static void
status_changed_cb (Indicator *ind)
{
  RecoupSyncState state = recoup_sync_status_get_state (ind->status);
  g_autofree char *text = recoup_sync_describe_state (ind->status);
  const char *icon = "emblem-ok-symbolic";

  gtk_widget_set_visible (ind->button, recoup_sync_status_is_enrolled (ind->status));
  gtk_widget_set_tooltip_text (ind->button, text);
  gtk_widget_remove_css_class (ind->button, "error");
  gtk_widget_remove_css_class (ind->button, "warning");
  switch (state)
    {
    case RECOUP_SYNC_STATE_PENDING:
      icon = "document-send-symbolic";
      break;
    case RECOUP_SYNC_STATE_SYNCING:
      icon = NULL;
      break;
    case RECOUP_SYNC_STATE_OFFLINE:
      icon = "network-offline-symbolic";
      break;
    case RECOUP_SYNC_STATE_ERROR:
      icon = "dialog-warning-symbolic";
      break;
    case RECOUP_SYNC_STATE_SYNCED:
      if (n_refused (ind->status) > 0)
        icon = "dialog-warning-symbolic";
      break;
    default:
      break;
    }
  /* Red only for what needs the user: a failed sync or refused changes.
   * Being out of reach is how a laptop in the field spends its days. */
  if (state == RECOUP_SYNC_STATE_ERROR || n_refused (ind->status) > 0)
    gtk_widget_add_css_class (ind->button, "error");
  /* Accounts flagged for review deserve a look even when all is sent. */
  else if (length_of (recoup_sync_status_get_review (ind->status)) > 0)
    gtk_widget_add_css_class (ind->button, "warning");
  gtk_widget_set_visible (ind->spinner, icon == NULL);
  gtk_spinner_set_spinning (GTK_SPINNER (ind->spinner), icon == NULL);
  gtk_widget_set_visible (ind->icon, icon != NULL);
  if (icon != NULL)
    gtk_image_set_from_icon_name (GTK_IMAGE (ind->icon), icon);
  {
    gint64 n = recoup_sync_status_get_n_pending (ind->status);
    /* Grouped as the locale groups thousands ("351.914" in German), as in
     * the popover and the tooltip. */
    g_autofree char *count = g_strdup_printf ("%'" G_GINT64_FORMAT, n);

    gtk_label_set_text (GTK_LABEL (ind->count), count);
    gtk_widget_set_visible (ind->count, n > 0 && state != RECOUP_SYNC_STATE_SYNCING);
  }
  build_details (ind);
}

static void
synced_cb (RecoupSyncStatus *status,
           guint             applied,
           Indicator        *ind)
{
  if (ind->window == NULL || applied == 0)
    return;
  /* Changes from elsewhere arrived: show them. */
  recoup_worklist_model_reload (recoup_window_get_model (ind->window));
  recoup_window_reload_account (ind->window);
}

static void
sync_action_cb (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  RecoupWindow *window = user_data;
  RecoupSyncStatus *status = recoup_sync_status_get_for_window (GTK_WINDOW (window));

  if (!recoup_sync_status_is_enrolled (status))
    {
      recoup_window_toast (window, _("This book is not connected to a server; connect it in Preferences ▸ Sync"));
      return;
    }
  recoup_sync_status_sync (status);
}

static void
connect_server_action_cb (GSimpleAction *action,
                          GVariant      *param,
                          gpointer       user_data)
{
  RecoupWindow *window = user_data;
  GtkWindow *prefs = recoup_preferences_new (GTK_WINDOW (window));

  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (prefs), "sync");
  g_set_weak_pointer (&window->dialog, prefs);
  gtk_window_present (prefs);
}

static void
window_destroy_cb (GtkWidget        *window,
                   RecoupSyncStatus *status)
{
  recoup_sync_status_shutdown (status);
}

void
recoup_sync_indicator_attach (RecoupWindow *window)
{
  static const GActionEntry entries[] = {
    { "sync", sync_action_cb },
    { "connect-server", connect_server_action_cb },
  };
  Indicator *ind = g_new0 (Indicator, 1);
  GtkWidget *header = gtk_widget_get_first_child (window->sidebar);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkEventController *shortcuts = gtk_shortcut_controller_new ();

  ind->status = recoup_sync_status_new (window->session);
  g_set_weak_pointer (&ind->window, window);
  g_object_set_data_full (G_OBJECT (window), "recoup-sync-status", g_object_ref (ind->status), g_object_unref);

  ind->button = gtk_menu_button_new ();
  gtk_widget_set_name (ind->button, "sync-indicator");
  ind->icon = gtk_image_new_from_icon_name ("emblem-ok-symbolic");
  ind->spinner = gtk_spinner_new ();
  ind->count = gtk_label_new (NULL);
  gtk_widget_add_css_class (ind->count, "numeric");
  gtk_widget_add_css_class (ind->count, "caption-heading");
  gtk_box_append (GTK_BOX (box), ind->icon);
  gtk_box_append (GTK_BOX (box), ind->spinner);
  gtk_box_append (GTK_BOX (box), ind->count);
  gtk_menu_button_set_child (GTK_MENU_BUTTON (ind->button), box);
  gtk_widget_set_visible (ind->button, FALSE);

  ind->popover = gtk_popover_new ();
  ind->details = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_size_request (ind->details, 320, -1);
  gtk_widget_set_margin_start (ind->details, 6);
  gtk_widget_set_margin_end (ind->details, 6);
  gtk_widget_set_margin_top (ind->details, 6);
  gtk_widget_set_margin_bottom (ind->details, 6);
  gtk_widget_set_name (ind->details, "sync-details");
  ind->state_label = small_label (NULL, "title-4");
  gtk_widget_set_name (ind->state_label, "sync-state");
  gtk_box_append (GTK_BOX (ind->details), ind->state_label);
  ind->summary = small_label (NULL, NULL);
  gtk_widget_set_name (ind->summary, "sync-summary");
  gtk_box_append (GTK_BOX (ind->details), ind->summary);
  ind->last_label = small_label (NULL, "dim-label");
  gtk_box_append (GTK_BOX (ind->details), ind->last_label);
  ind->error_label = small_label (NULL, NULL);
  gtk_label_set_selectable (GTK_LABEL (ind->error_label), TRUE);
  /* Selectable with the mouse, without grabbing the focus (and selecting
   * all of it) when the popover opens. */
  gtk_widget_set_focusable (ind->error_label, FALSE);
  gtk_widget_set_name (ind->error_label, "sync-error");
  gtk_box_append (GTK_BOX (ind->details), ind->error_label);
  ind->info = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_box_append (GTK_BOX (ind->details), ind->info);
  ind->sync_now = gtk_button_new_with_mnemonic (_("_Sync Now"));
  gtk_widget_set_name (ind->sync_now, "sync-now");
  gtk_widget_set_margin_top (ind->sync_now, 6);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (ind->sync_now), "win.sync");
  gtk_widget_set_tooltip_text (ind->sync_now, _("Send and receive changes now (Ctrl+Shift+S)"));
  gtk_box_append (GTK_BOX (ind->details), ind->sync_now);
  ind->enroll_again = gtk_button_new_with_mnemonic (_("Enroll _Again…"));
  gtk_widget_set_name (ind->enroll_again, "sync-enroll-again");
  gtk_widget_set_margin_top (ind->enroll_again, 6);
  gtk_widget_add_css_class (ind->enroll_again, "suggested-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (ind->enroll_again), "win.connect-server");
  gtk_widget_set_tooltip_text (ind->enroll_again, _("Enter a new enrollment code for this book in Preferences"));
  gtk_widget_set_visible (ind->enroll_again, FALSE);
  gtk_box_append (GTK_BOX (ind->details), ind->enroll_again);
  gtk_popover_set_child (GTK_POPOVER (ind->popover), ind->details);
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (ind->button), ind->popover);

  if (ADW_IS_HEADER_BAR (header))
    adw_header_bar_pack_start (ADW_HEADER_BAR (header), ind->button);
  else
    g_warning ("the worklist pane has no header bar for the sync status");

  g_action_map_add_action_entries (G_ACTION_MAP (window), entries, G_N_ELEMENTS (entries), window);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control><Shift>s"),
                                                          gtk_named_action_new ("win.sync")));
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (shortcuts), GTK_SHORTCUT_SCOPE_GLOBAL);
  gtk_widget_add_controller (GTK_WIDGET (window), shortcuts);

  g_signal_connect_data (ind->status, "changed", G_CALLBACK (status_changed_cb), ind,
                         indicator_closure_free, G_CONNECT_SWAPPED);
  g_signal_connect (ind->status, "synced", G_CALLBACK (synced_cb), ind);
  g_signal_connect_object (window, "destroy", G_CALLBACK (window_destroy_cb), ind->status, 0);
  status_changed_cb (ind);
}
