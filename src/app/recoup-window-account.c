/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>

#include "recoup-locale-money.h"
#include "recoup-labels.h"
#include "recoup-window-private.h"

/* The account page: rebuilt from a RecoupAccountData each time it loads. */

static char *
money (gint64      minor,
       const char *currency)
{
  return recoup_locale_money_format (minor, currency, RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
}

/* Joins the non-empty strings of a NULL-terminated list with " · ". */
static char *
join_parts (const char *first,
            ...)
{
  GString *s = g_string_new (NULL);
  va_list ap;

  va_start (ap, first);
  for (const char *p = first; p != NULL; p = va_arg (ap, const char *))
    if (*p != '\0')
      g_string_append_printf (s, "%s%s", s->len ? " · " : "", p);
  va_end (ap);
  return g_string_free (s, FALSE);
}

static GtkWidget *
group_new (GtkBox     *box,
           const char *title,
           const char *description)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description != NULL)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
  gtk_box_append (box, group);
  return group;
}

static GtkWidget *
row_new (GtkWidget  *group,
         const char *title,
         const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL && *subtitle != '\0')
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  return row;
}

static GtkWidget *
suffix_label (GtkWidget  *row,
              const char *text,
              const char *css)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_widget_add_css_class (label, "numeric");
  if (css != NULL)
    gtk_widget_add_css_class (label, css);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  return label;
}

/* An amount with a caption under it, right-aligned: an invoice's open
 * balance over "of 1,200.00", a ledger entry over the balance after it. */
static GtkWidget *
suffix_amount (GtkWidget  *row,
               const char *text,
               const char *css,
               const char *caption)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *label = gtk_label_new (text);
  GtkWidget *under = gtk_label_new (caption);

  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_widget_add_css_class (label, "numeric");
  if (css != NULL)
    gtk_widget_add_css_class (label, css);
  gtk_box_append (GTK_BOX (box), label);
  gtk_label_set_xalign (GTK_LABEL (under), 1);
  gtk_widget_add_css_class (under, "caption");
  gtk_widget_add_css_class (under, "numeric");
  gtk_widget_add_css_class (under, "dim-label");
  gtk_box_append (GTK_BOX (box), under);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), box);
  return label;
}

/* The open review items' words, one a line. */
static char *
review_texts (GPtrArray *review)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; review != NULL && i < review->len; i++)
    {
      RecoupReviewItem *item = g_ptr_array_index (review, i);

      g_string_append_printf (out, "%s%s", out->len ? "\n" : "", item->text);
    }
  return g_string_free (out, FALSE);
}

static void
add_header (RecoupWindow      *self,
            RecoupAccountData *data)
{
  RecoupAccount *a = data->account;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *left = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *right = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *label;
  GtkWidget *flags;
  g_autofree char *balance = money (data->aging.total, a->currency);
  g_autofree char *sub = NULL;

  label = gtk_label_new (a->name);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "title-1");
  gtk_box_append (GTK_BOX (left), label);

  sub = g_strdup_printf ("%s · %s%s%s", a->ref, recoup_label_stage (a->stage),
                         a->timezone != NULL ? " · " : "", a->timezone != NULL ? a->timezone : "");
  label = gtk_label_new (sub);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (left), label);

  flags = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  {
    struct { gboolean on; const char *text; } f[] = {
      { a->cease_communication, _("Cease communication") },
      { a->attorney_represented, _("Attorney represented") },
      { a->bankruptcy, _("Bankruptcy") },
      { a->deceased, _("Deceased") },
      { data->review != NULL && data->review->len > 0, _("Needs review") },
    };

    for (guint i = 0; i < G_N_ELEMENTS (f); i++)
      if (f[i].on)
        {
          GtkWidget *chip = gtk_label_new (f[i].text);

          gtk_widget_add_css_class (chip, "caption-heading");
          gtk_widget_add_css_class (chip, "error");
          /* Why (e.g. incompatible offer transitions merged by sync). */
          if (g_str_equal (f[i].text, _("Needs review")))
            {
              g_autofree char *why = review_texts (data->review);

              gtk_widget_set_tooltip_text (chip, why);
            }
          gtk_box_append (GTK_BOX (flags), chip);
        }
  }
  gtk_box_append (GTK_BOX (left), flags);
  gtk_widget_set_hexpand (left, TRUE);

  label = gtk_label_new (_("Balance"));
  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (right), label);
  label = gtk_label_new (balance);
  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_widget_add_css_class (label, "title-2");
  gtk_widget_add_css_class (label, "numeric");
  if (data->aging.total > 0)
    gtk_widget_add_css_class (label, "error");
  else
    gtk_widget_add_css_class (label, "success");
  gtk_box_append (GTK_BOX (right), label);

  gtk_box_append (GTK_BOX (box), left);
  gtk_box_append (GTK_BOX (box), right);
  gtk_box_append (self->account_box, box);
}

/* What the owner is asked to look at (a contact outside the rules, offer
 * answers that conflicted offline), one row per reason, and for an owner the
 * way to say it was looked at. */
static void
add_review (RecoupWindow      *self,
            RecoupAccountData *data)
{
  GtkWidget *group;

  if (data->review == NULL || data->review->len == 0)
    return;
  group = group_new (self->account_box, _("Needs Review"), NULL);
  gtk_widget_set_name (group, "review");
  for (guint i = 0; i < data->review->len; i++)
    {
      RecoupReviewItem *item = g_ptr_array_index (data->review, i);
      GtkWidget *row = row_new (group, item->text, NULL);

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("dialog-warning-symbolic"));
    }
  if (data->user != NULL && g_strcmp0 (data->user->role, "owner") == 0)
    {
      GtkWidget *button = gtk_button_new_with_mnemonic (_("Mark _Reviewed"));

      gtk_widget_set_name (button, "mark-reviewed");
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.mark-reviewed");
      adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (group), button);
    }
}

static void
add_aging (RecoupWindow      *self,
           RecoupAccountData *data)
{
  GtkWidget *flow = gtk_flow_box_new ();

  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (flow), GTK_SELECTION_NONE);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (flow), TRUE);
  gtk_flow_box_set_min_children_per_line (GTK_FLOW_BOX (flow), 3);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (flow), 6);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (flow), 6);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (flow), 6);

  for (int b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
    {
      GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      GtkWidget *label;
      g_autofree char *amount = money (data->aging.buckets[b], data->account->currency);

      gtk_widget_add_css_class (card, "card");
      label = gtk_label_new (recoup_label_aging_bucket (b));
      gtk_widget_add_css_class (label, "caption");
      gtk_widget_add_css_class (label, "dim-label");
      gtk_widget_set_margin_top (label, 6);
      gtk_box_append (GTK_BOX (card), label);
      label = gtk_label_new (amount);
      gtk_widget_add_css_class (label, "numeric");
      gtk_widget_add_css_class (label, data->aging.buckets[b] != 0 ? "heading" : "dim-label");
      gtk_widget_set_margin_bottom (label, 6);
      gtk_widget_set_margin_start (label, 6);
      gtk_widget_set_margin_end (label, 6);
      gtk_box_append (GTK_BOX (card), label);
      gtk_flow_box_append (GTK_FLOW_BOX (flow), card);
    }
  gtk_box_append (self->account_box, flow);
}

static const char *
verdict_label (RecoupVerdictKind kind)
{
  switch (kind)
    {
    case RECOUP_VERDICT_ALLOWED: return _("Contact allowed now");
    case RECOUP_VERDICT_WARN: return _("Contact allowed, with warnings");
    case RECOUP_VERDICT_BLOCKED: return _("Contact blocked now");
    default: return "";
    }
}

static char *
verdict_reasons (RecoupGuardVerdict *v)
{
  GString *reasons = g_string_new (NULL);

  for (guint r = 0; v->reasons != NULL && r < v->reasons->len; r++)
    {
      RecoupGuardReason *reason = g_ptr_array_index (v->reasons, r);

      if (reasons->len > 0)
        g_string_append (reasons, "\n");
      g_string_append (reasons, reason->text);
    }
  return g_string_free (reasons, FALSE);
}

/* Calls in full; the other channels in one line each only when their verdict
 * differs from the call's. */
static void
add_guard (RecoupWindow      *self,
           RecoupAccountData *data)
{
  GtkWidget *group = group_new (self->account_box, _("Compliance"), NULL);
  RecoupGuardVerdict *call = data->verdicts[0];
  g_autoptr(GString) same = g_string_new (NULL);

  for (guint i = 0; recoup_guard_channels[i] != NULL && i < G_N_ELEMENTS (data->verdicts); i++)
    {
      RecoupGuardVerdict *v = data->verdicts[i];
      g_autofree char *reasons = NULL;
      g_autofree char *title = NULL;
      GtkWidget *row;
      GtkWidget *icon;

      if (v == NULL)
        continue;
      reasons = verdict_reasons (v);
      if (i > 0 && call != NULL && v->verdict == call->verdict)
        {
          g_autofree char *call_reasons = verdict_reasons (call);

          if (g_strcmp0 (reasons, call_reasons) == 0)
            {
              g_string_append_printf (same, "%s%s", same->len ? ", " : "", recoup_label_channel (recoup_guard_channels[i]));
              continue;
            }
        }
      title = g_strdup_printf ("%s: %s", recoup_label_channel (recoup_guard_channels[i]), verdict_label (v->verdict));
      row = row_new (group, title, reasons);
      icon = gtk_image_new_from_icon_name (v->verdict == RECOUP_VERDICT_ALLOWED ? "emblem-ok-symbolic"
                                           : v->verdict == RECOUP_VERDICT_WARN ? "dialog-warning-symbolic"
                                           : "action-unavailable-symbolic");
      gtk_widget_add_css_class (icon, v->verdict == RECOUP_VERDICT_ALLOWED ? "success"
                                      : v->verdict == RECOUP_VERDICT_WARN ? "warning" : "error");
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
    }
  if (same->len > 0)
    {
      g_autofree char *text = g_strdup_printf (_("The same for %s"), same->str);

      adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), text);
    }
}

/* Why the account ranks where it does: the score in points of
 * RECOUP_SCORE_MAX, and per component what it added of the most it could add
 * (its weight's share), so the rows add up to the score. */
static void
add_score (RecoupWindow      *self,
           RecoupAccountData *data)
{
  RecoupScoreExplanation *e = data->score;
  const char *priority;
  g_autofree char *description = NULL;
  g_autofree char *score = NULL;
  g_autofree char *max = NULL;
  GtkWidget *group;
  GtkWidget *expander;

  if (e == NULL)
    return;
  score = g_strdup_printf ("%" G_GINT64_FORMAT, e->score);
  max = g_strdup_printf ("%d", RECOUP_SCORE_MAX);
  priority = recoup_label_priority (e->segment);
  if (priority != NULL)
    /* e.g. "Score 7200 of 10000 points · high priority" */
    description = g_strdup_printf (_("Score %s of %s points · %s"), score, max, priority);
  else
    description = g_strdup_printf (_("Score %s of %s points"), score, max);
  group = group_new (self->account_box, _("Why This Account Is Here"), NULL);
  /* The policy's step as the guard lets it be taken now, never on its own. */
  if (data->next_step != NULL)
    {
      g_autofree char *step = recoup_label_next_step (data->next_step);

      if (step != NULL)
        row_new (group, step, data->next_step->reason);
    }
  expander = adw_expander_row_new ();
  gtk_widget_set_name (expander, "score");
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (expander), description);
  if (e->note != NULL)
    adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (expander), e->note);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), expander);
  for (guint i = 0; i < RECOUP_SCORE_N_COMPONENTS; i++)
    {
      RecoupScoreItem *item = &e->items[i];
      GtkWidget *row;
      g_autofree char *name = NULL;
      g_autofree char *subtitle = NULL;
      g_autofree char *points = NULL;

      if (item->component == NULL)
        continue;
      row = adw_action_row_new ();
      name = g_strdup_printf ("score-%s", item->component);
      gtk_widget_set_name (row, name);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), recoup_label_score_component (item->component));
      if (i == RECOUP_SCORE_STAGE && data->account->stage != NULL)
        subtitle = g_strdup (recoup_label_stage (data->account->stage));
      else if (i == RECOUP_SCORE_BALANCE && item->raw != NULL)
        /* score.balance_cap is a number of minor units, the same for every
         * currency: say so rather than let it pass for an exchange rate. */
        subtitle = g_strdup_printf ("%s\n%s", item->raw,
                                    _("The same cap applies to every currency, counted in its smallest unit "
                                      "(cents, yen): it is not converted."));
      else
        subtitle = g_strdup (item->raw);
      if (subtitle != NULL)
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      /* An account that is not scored (e->note says why) gets nothing from
       * any component, whatever their points. */
      if (item->weight > 0 && e->total_weight > 0 && e->note == NULL)
        {
          g_autofree char *got = g_strdup_printf ("%" G_GINT64_FORMAT, item->contribution);
          g_autofree char *most = g_strdup_printf ("%" G_GINT64_FORMAT,
                                                   RECOUP_SCORE_MAX * item->weight / e->total_weight);

          /* e.g. "1050 of 1500 points": what it added of the most it could */
          points = g_strdup_printf (_("%s of %s points"), got, most);
        }
      else
        points = g_strdup (_("not counted"));
      suffix_label (row, points, NULL);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (expander), row);
    }
}

/* An instant as the debtor lived it: date, 24-hour time and the zone's
 * abbreviation (e.g. "2026-11-24 23:12 CET"), as core's review items say it. */
static char *
format_in_zone (gint64     ms,
                GTimeZone *tz)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr(GDateTime) there = utc != NULL ? g_date_time_to_timezone (utc, tz) : NULL;

  return there != NULL ? g_date_time_format (there, "%Y-%m-%d %H:%M %Z") : g_strdup ("");
}

/* The one-click Call or Write button follows the guard's verdict for its
 * channel, as Log Contact does: while the guard blocks the channel the button
 * is off and says why (core's reasons) and, if the block lifts by itself,
 * from when. A warning leaves it usable. */
static void
guard_contact_button (GtkWidget          *button,
                      RecoupGuardVerdict *verdict,
                      const char         *tooltip,
                      GTimeZone          *tz)
{
  g_autoptr(GString) tip = g_string_new (tooltip);
  gint64 lifts;

  if (verdict == NULL || verdict->verdict != RECOUP_VERDICT_BLOCKED)
    {
      gtk_widget_set_tooltip_text (button, tooltip);
      return;
    }
  gtk_widget_set_sensitive (button, FALSE);
  g_string_append_printf (tip, " — %s", _("Contact blocked now"));
  for (guint r = 0; verdict->reasons != NULL && r < verdict->reasons->len; r++)
    {
      RecoupGuardReason *reason = g_ptr_array_index (verdict->reasons, r);

      if (reason->blocks)
        g_string_append_printf (tip, "\n%s", reason->text);
    }
  lifts = recoup_guard_verdict_lifts_at (verdict);
  if (lifts > 0)
    {
      g_autofree char *when = format_in_zone (lifts, tz);

      /* Translators: when a block on contacting the debtor lifts by itself,
       * in the debtor's time zone, e.g. "2026-11-25 08:00 CET" */
      g_string_append_c (tip, '\n');
      g_string_append_printf (tip, _("Allowed again from %s"), when);
    }
  gtk_widget_set_tooltip_text (button, tip->str);
}

static void
add_contacts (RecoupWindow      *self,
              RecoupAccountData *data)
{
  GTimeZone *tz = data->zone;
  GtkWidget *group = group_new (self->account_box, _("Contact Points"), NULL);
  GtkWidget *edit = gtk_button_new_with_mnemonic (_("_Edit…"));

  gtk_widget_add_css_class (edit, "flat");
  gtk_widget_set_valign (edit, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (edit, _("Edit the account and its contact points (Ctrl+E)"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (edit), "win.edit-account");
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (group), edit);

  if (data->contacts->len == 0)
    row_new (group, _("No contact points"), _("Edit the account to add a phone number or e-mail."));

  for (guint i = 0; i < data->contacts->len; i++)
    {
      RecoupContactPoint *cp = g_ptr_array_index (data->contacts, i);
      g_autofree char *sub = NULL;
      GtkWidget *row;
      const char *icon = cp->kind == RECOUP_CONTACT_PHONE ? "call-start-symbolic"
                       : cp->kind == RECOUP_CONTACT_EMAIL ? "mail-unread-symbolic"
                       : "mark-location-symbolic";

      sub = join_parts (*cp->label != '\0' ? cp->label : recoup_label_contact_kind (cp->kind),
                       cp->is_primary ? _("primary") : "",
                       cp->opted_out ? _("opted out") : "",
                       NULL);
      row = row_new (group, cp->value, sub);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name (icon));
      if (cp->kind != RECOUP_CONTACT_ADDRESS && !cp->opted_out && !data->account->cease_communication)
        {
          g_autofree char *uri = g_strconcat (cp->kind == RECOUP_CONTACT_PHONE ? "tel:" : "mailto:",
                                              cp->value, NULL);
          GtkWidget *button = gtk_button_new_from_icon_name (cp->kind == RECOUP_CONTACT_PHONE
                                                             ? "call-start-symbolic"
                                                             : "mail-send-symbolic");

          gtk_widget_set_name (button, cp->kind == RECOUP_CONTACT_PHONE ? "call" : "write");
          gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
          gtk_widget_add_css_class (button, "flat");
          guard_contact_button (button,
                                recoup_account_data_get_verdict (data, cp->kind == RECOUP_CONTACT_PHONE ? "call" : "email"),
                                cp->kind == RECOUP_CONTACT_PHONE ? _("Call") : _("Write"), tz);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
          /* An action would make the button sensitive again whatever the
           * guard said: a blocked button gets none. */
          if (gtk_widget_get_sensitive (button))
            {
              gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", uri);
              gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.open-uri");
              adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), button);
            }
        }
      else if (cp->opted_out)
        suffix_label (row, _("Do not use"), "error");

      {
        GtkWidget *toggle = gtk_button_new_from_icon_name (cp->opted_out ? "edit-undo-symbolic"
                                                                          : "action-unavailable-symbolic");

        gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
        gtk_widget_add_css_class (toggle, "flat");
        gtk_widget_set_tooltip_text (toggle, cp->opted_out ? _("Opt back in: the debtor agreed to this contact point again")
                                                           : _("Opt out: the debtor asked not to be contacted here"));
        gtk_actionable_set_action_name (GTK_ACTIONABLE (toggle), "win.set-opt-out");
        gtk_actionable_set_action_target (GTK_ACTIONABLE (toggle), "(sb)", cp->id, !cp->opted_out);
        adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
      }
    }
}

/* ---- opting a contact point out, and undoing it ----------------------- */

/* The consent core keeps with an opt-in (recoup_contact_opt_back_in()): an
 * undo needs no word from the debtor, it takes back the user's own click of
 * seconds ago, and the history says so. In one fixed form, as core's own
 * words in the history are. */
#define UNDO_OPT_OUT_NOTE "undone right after a mistaken opt-out"

typedef struct
{
  RecoupWindow *window;
  char         *contact_id;
  gboolean      undo;
} ContactOptOut;

static void
contact_opt_out_free (ContactOptOut *w)
{
  g_clear_object (&w->window);
  g_free (w->contact_id);
  g_free (w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ContactOptOut, contact_opt_out_free)

static gboolean
contact_opt_out_write (RecoupBook  *book,
                       gpointer     data,
                       GError     **error)
{
  ContactOptOut *w = data;

  if (w->undo)
    return recoup_contact_opt_back_in (book, w->contact_id, UNDO_OPT_OUT_NOTE, error);
  return recoup_contact_set_opted_out (book, w->contact_id, TRUE, error);
}

static void
contact_opt_out_done_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(ContactOptOut) w = user_data;
  g_autoptr(GError) error = NULL;

  if (!recoup_session_run_finish (RECOUP_SESSION (object), result, &error))
    {
      recoup_window_show_error (w->window, error);
      return;
    }
  if (w->undo)
    recoup_window_toast (w->window, _("Opt-out undone"));
  else
    recoup_window_toast_undo (w->window, _("Contact point opted out"), "win.undo-opt-out",
                              g_variant_new_string (w->contact_id));
  recoup_window_reload_account (w->window);
}

static void
contact_opt_out_start (RecoupWindow *self,
                       const char   *contact_id,
                       gboolean      undo)
{
  ContactOptOut *w = g_new0 (ContactOptOut, 1);

  w->window = g_object_ref (self);
  w->contact_id = g_strdup (contact_id);
  w->undo = undo;
  /* The worker only reads it; the callback, which always runs, frees it. */
  recoup_session_run_async (self->session, contact_opt_out_write, w, NULL,
                            self->cancellable, contact_opt_out_done_cb, w);
}

/* Opting out takes effect at once (it only stops contact), one click with
 * an Undo on its toast; opting back in asks for the debtor's consent
 * (recoup_window_opt_in_contact()). */
void
recoup_window_opt_out_contact (RecoupWindow *self,
                               const char   *contact_id)
{
  if (self->data != NULL)
    contact_opt_out_start (self, contact_id, FALSE);
}

/* The toast's Undo: lifts the opt-out just made, without asking for a
 * consent the debtor never withdrew. */
void
recoup_window_undo_opt_out (RecoupWindow *self,
                            const char   *contact_id)
{
  contact_opt_out_start (self, contact_id, TRUE);
}

/* Where the payment just recorded went, while the account stays open. */
static void
add_last_allocation (RecoupWindow      *self,
                     RecoupAccountData *data)
{
  GtkWidget *group;

  if (self->last_allocation == NULL || g_strcmp0 (self->last_allocation_account, data->account->id) != 0)
    return;
  group = recoup_allocation_group_new (_("Payment Just Recorded"));
  recoup_allocation_group_show (group, self->last_allocation, NULL);
  gtk_box_append (self->account_box, group);
}

static void
add_invoices (RecoupWindow      *self,
              RecoupAccountData *data)
{
  GtkWidget *group = group_new (self->account_box, _("Invoices"), NULL);

  if (data->invoices->len == 0)
    row_new (group, _("No invoices"), NULL);

  for (guint i = 0; i < data->invoices->len; i++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (data->invoices, i);
      g_autofree char *sub = NULL;
      g_autofree char *open = money (ib->balance, data->account->currency);
      g_autofree char *amount = money (ib->amount, data->account->currency);
      g_autofree char *of = g_strdup_printf (_("of %s"), amount);
      GtkWidget *row;

      if (ib->balance > 0 && ib->days_past_due > 0)
        sub = g_strdup_printf (ngettext ("due %s · %d day past due", "due %s · %d days past due",
                                         ib->days_past_due), ib->due_date, ib->days_past_due);
      else if (ib->balance > 0)
        sub = g_strdup_printf (_("due %s"), ib->due_date);
      else
        sub = g_strdup_printf (_("due %s · paid"), ib->due_date);
      row = row_new (group, ib->ref, sub);
      if (ib->description != NULL && *ib->description != '\0')
        gtk_widget_set_tooltip_text (row, ib->description);
      suffix_amount (row, open, ib->balance > 0 ? "heading" : "dim-label", of);
    }
}

static void
add_activities (RecoupWindow      *self,
                RecoupAccountData *data)
{
  GTimeZone *tz = data->zone;
  g_autofree char *zone_note = NULL;
  GtkWidget *group;

  /* Translators: %s is the debtor's IANA time zone, e.g. Europe/Amsterdam */
  zone_note = g_strdup_printf (_("Newest first, at the debtor's local time (%s), the time the contact hours apply to."),
                               g_time_zone_get_identifier (tz));
  group = group_new (self->account_box, _("Activity"), zone_note);
  gtk_widget_set_name (group, "activity");

  if (data->activities->len == 0)
    row_new (group, _("No contact yet"), _("Logged calls, visits and messages appear here, newest first."));

  for (guint i = 0; i < data->activities->len; i++)
    {
      RecoupActivity *act = g_ptr_array_index (data->activities, i);
      g_autofree char *when = format_in_zone (act->at, tz);
      g_autofree char *title = NULL;
      g_autofree char *sub = NULL;
      g_auto(GStrv) lines = g_strsplit (act->contact != NULL ? act->contact : "", "\n", -1);
      g_autofree char *contact = g_strjoinv (", ", lines);
      GtkWidget *row;

      if (act->outcome != NULL)
        title = g_strdup_printf ("%s — %s", recoup_label_channel (act->channel), recoup_label_outcome (act->outcome));
      else
        title = g_strdup (recoup_label_channel (act->channel));
      /* The number or address it was on: which one was called, or opted
       * out of, is the point of a compliance trail. */
      sub = join_parts (when,
                       act->user_name != NULL ? act->user_name : "",
                       contact,
                       act->notes != NULL ? act->notes : "",
                       NULL);
      row = row_new (group, title, sub);
      if (act->override_reason != NULL)
        {
          g_autofree char *tip = g_strdup_printf (_("Guard overridden: %s"), act->override_reason);

          gtk_widget_set_tooltip_text (suffix_label (row, _("Override"), "warning"), tip);
        }
    }
}

static void
add_ledger (RecoupWindow      *self,
            RecoupAccountData *data)
{
  GtkWidget *group = group_new (self->account_box, _("Ledger"),
                                _("Every charge, payment and correction, newest first, with the balance "
                                  "after it; a mistake is corrected by a reversal."));
  g_autofree gint64 *after = g_new (gint64, MAX (data->ledger->len, 1));
  gint64 running = 0;

  /* The list is in the statement's order (effective date, then id), so the
   * balance after each entry is the one the account's statement prints. */
  for (guint i = 0; i < data->ledger->len; i++)
    {
      running += ((RecoupLedgerEntry *) g_ptr_array_index (data->ledger, i))->amount;
      after[i] = running;
    }

  for (guint n = data->ledger->len; n > 0; n--)
    {
      RecoupLedgerEntry *e = g_ptr_array_index (data->ledger, n - 1);
      g_autofree char *amount = money (e->amount, e->currency);
      g_autofree char *balance = money (after[n - 1], e->currency);
      g_autofree char *caption = g_strdup_printf (_("balance %s"), balance);
      g_autofree char *sub = NULL;
      g_autofree char *note = recoup_ledger_entry_note (e);
      GtkWidget *row;

      g_autofree char *receipt = e->receipt_no != NULL ? g_strdup_printf (_("receipt %s"), e->receipt_no) : NULL;

      /* The reference the user typed (a cheque number) and the receipt are
       * what a bookkeeper matches the bank statement against. */
      sub = join_parts (e->effective_date,
                       e->invoice_ref != NULL ? e->invoice_ref : "",
                       e->method != NULL ? recoup_label_method (e->method) : "",
                       e->reference != NULL ? e->reference : "",
                       receipt != NULL ? receipt : "",
                       e->reversed_by != NULL ? _("reversed") : "",
                       note != NULL ? note : "",
                       NULL);
      row = row_new (group, recoup_label_entry_kind (e->kind), sub);
      gtk_widget_set_name (suffix_amount (row, amount, e->amount < 0 ? "success" : NULL, caption), "ledger-amount");
      if (g_strcmp0 (e->kind, "payment") == 0 && e->reversed_by == NULL)
        {
          GtkWidget *button = gtk_button_new_from_icon_name ("edit-undo-symbolic");

          gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
          gtk_widget_add_css_class (button, "flat");
          gtk_widget_set_tooltip_text (button, _("Reverse this payment"));
          gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.reverse-entry");
          gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", e->id);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
        }
    }
}

static GtkWidget *
offer_button (GtkWidget  *box,
              const char *label,
              const char *offer_id,
              const char *event,
              const char *css)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_name (button, event);
  if (css != NULL)
    gtk_widget_add_css_class (button, css);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.offer-event");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "(ss)", offer_id, event);
  gtk_box_append (GTK_BOX (box), button);
  return button;
}

/* An offer as its row is titled: “Plan · USD 1,000.00”. */
static char *
offer_title (const RecoupOffer *o)
{
  g_autofree char *total = money (o->total, o->currency);

  return g_strdup_printf ("%s · %s", recoup_label_offer_kind (o->kind), total);
}

static const RecoupOffer *
find_offer (GPtrArray  *offers,
            const char *id)
{
  for (guint i = 0; i < offers->len; i++)
    if (g_strcmp0 (((RecoupOffer *) g_ptr_array_index (offers, i))->id, id) == 0)
      return g_ptr_array_index (offers, i);
  return NULL;
}

static gboolean
is_running_clash (const RecoupOffer *o)
{
  return o->clashing && (o->state == RECOUP_OFFER_STATE_ACCEPTED || o->state == RECOUP_OFFER_STATE_ACTIVE);
}

/* Of two arrangements accepted offline on two devices, the one the customer
 * did not agree to is withdrawn (core allows either; recoup-offer.h, ONE
 * RUNNING ARRANGEMENT): say which one this is, and where its payments go. */
static char *
clash_title (const RecoupOffer *o,
             GPtrArray         *offers)
{
  const RecoupOffer *kept = o->held_by != NULL ? find_offer (offers, o->held_by) : NULL;
  g_autofree char *kept_title = kept != NULL ? offer_title (kept) : NULL;

  if (o->held_by == NULL)
    return g_strdup (_("Another arrangement was accepted offline alongside this one, and payments count "
                       "toward this one: ask the customer which stands, and withdraw the other"));
  /* Translators: %s is the other offer as its row is titled, “Plan · USD 1,000.00” */
  return g_strdup_printf (_("Held: accepted offline while the %s ran, so payments count toward that one. Ask "
                            "the customer which stands, and withdraw the other"),
                          kept_title != NULL ? kept_title : o->held_by);
}

/* What can become of an open offer, as core's transitions allow: a draft is
 * sent (once approved, if it needs that) or withdrawn; an offer the customer
 * has is accepted, declined or withdrawn; a running arrangement in a clash
 * is withdrawn. */
static void
offer_actions_row (GtkWidget         *expander,
                   const RecoupOffer *o,
                   GPtrArray         *offers,
                   gint64             owed)
{
  GtkWidget *row, *box;
  g_autofree char *stale = NULL;
  g_autofree char *clash = NULL;
  const char *title;

  /* Core refuses to send or accept an offer whose balance has moved since it
   * was made: say why, and offer only what can be done. */
  if (recoup_offer_is_stale (o, owed))
    {
      g_autofree char *then = money (o->balance_at_offer, o->currency);
      g_autofree char *now = money (owed, o->currency);

      /* Translators: the balance the offer was made on, then the balance now */
      stale = g_strdup_printf (_("Made when %s was owed, and %s is owed now: withdraw it and make a new offer"),
                               then, now);
    }
  if (is_running_clash (o))
    clash = clash_title (o, offers);
  if (stale != NULL)
    title = stale;
  else if (clash != NULL)
    title = clash;
  else if (o->state == RECOUP_OFFER_STATE_DRAFT)
    title = o->needs_approval && !o->approved ? _("An owner approves it before it is sent")
                                              : _("Give it to the customer, then record it as sent");
  else if (o->state == RECOUP_OFFER_STATE_OFFERED)
    title = _("With the customer: record their answer");
  else
    return;
  row = adw_action_row_new ();
  gtk_widget_set_name (row, "offer-actions");
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  if (stale != NULL || clash != NULL)
    {
      adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
      gtk_widget_add_css_class (row, "warning");
      offer_button (box, _("_Withdraw"), o->id, "withdraw", NULL);
    }
  else if (o->state == RECOUP_OFFER_STATE_DRAFT)
    {
      if (!o->needs_approval || o->approved)
        offer_button (box, _("_Mark as Sent"), o->id, "send", "suggested-action");
      offer_button (box, _("_Withdraw"), o->id, "withdraw", NULL);
    }
  else
    {
      offer_button (box, _("_Accepted"), o->id, "accept", "suggested-action");
      offer_button (box, _("_Declined"), o->id, "reject", NULL);
      offer_button (box, _("_Withdraw"), o->id, "withdraw", NULL);
    }
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), box);
  adw_expander_row_add_row (ADW_EXPANDER_ROW (expander), row);
}

static void
add_promises_offers_disputes (RecoupWindow      *self,
                              RecoupAccountData *data)
{
  const char *currency = data->account->currency;

  if (data->promises != NULL && data->promises->len > 0)
    {
      GtkWidget *group = group_new (self->account_box, _("Promises"), NULL);

      for (guint n = data->promises->len; n > 0; n--)
        {
          RecoupPromise *p = g_ptr_array_index (data->promises, n - 1);
          g_autofree char *amount = money (p->amount, currency);
          g_autofree char *paid = money (p->paid, currency);
          g_autofree char *title = g_strdup_printf (_("%s by %s"), amount, p->due_date);
          g_autofree char *sub = g_strdup_printf (_("made %s · %s paid"), p->made_on, paid);
          GtkWidget *row = row_new (group, title, sub);

          suffix_label (row, recoup_label_promise_status (p->status),
                        p->status == RECOUP_PROMISE_KEPT ? "success"
                        : p->status == RECOUP_PROMISE_PENDING ? NULL : "error");
        }
    }
  if (data->offers != NULL && data->offers->len > 0)
    {
      GtkWidget *group = group_new (self->account_box, _("Offers and Plans"), NULL);

      for (guint n = data->offers->len; n > 0; n--)
        {
          RecoupOffer *o = g_ptr_array_index (data->offers, n - 1);
          g_autofree char *title = offer_title (o);
          g_autofree char *sub = NULL;
          GtkWidget *expander = adw_expander_row_new ();

          g_autofree char *plan = o->installments > 1
            ? g_strdup_printf (_("%d installments, %s"), o->installments, recoup_label_frequency (o->frequency))
            : NULL;

          /* Approval matters only while the offer is a draft. */
          /* Translators: why an offer was withdrawn or declined, as whoever
           * closed it wrote it */
          g_autofree char *closing = o->closing_note != NULL ? g_strdup_printf (_("“%s”"), o->closing_note) : NULL;

          sub = join_parts (plan != NULL ? plan : "",
                           o->state != RECOUP_OFFER_STATE_DRAFT ? ""
                           : o->needs_approval && !o->approved ? _("waiting for approval")
                           : o->needs_approval ? _("approved, ready to send") : "",
                           o->held_by != NULL ? _("held: counts no payments") : "",
                           closing != NULL ? closing : "",
                           NULL);
          gtk_widget_set_name (expander, o->id);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (expander), title);
          adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (expander), sub);
          {
            GtkWidget *state = gtk_label_new (recoup_label_offer_status (o));

            gtk_widget_add_css_class (state, "dim-label");
            adw_expander_row_add_action (ADW_EXPANDER_ROW (expander), state);
          }
          offer_actions_row (expander, o, data->offers, data->owed);
          /* An open offer, or one of a clash, shows what can be done with it. */
          adw_expander_row_set_expanded (ADW_EXPANDER_ROW (expander),
                                         o->state == RECOUP_OFFER_STATE_DRAFT || o->state == RECOUP_OFFER_STATE_OFFERED
                                         || is_running_clash (o));
          for (guint i = 0; o->schedule != NULL && i < o->schedule->len; i++)
            {
              RecoupInstallment *inst = &g_array_index (o->schedule, RecoupInstallment, i);
              g_autofree char *due = recoup_date_format (inst->due_day);
              g_autofree char *amount = money (inst->amount, o->currency);
              g_autofree char *label = g_strdup_printf (_("Installment %u · %s"), inst->seq, due);
              GtkWidget *row = adw_action_row_new ();

              adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), label);
              adw_action_row_set_subtitle (ADW_ACTION_ROW (row), recoup_label_installment_status (inst->status));
              suffix_label (row, amount, NULL);
              adw_expander_row_add_row (ADW_EXPANDER_ROW (expander), row);
            }
          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), expander);
        }
    }
  if (data->disputes != NULL && data->disputes->len > 0)
    {
      GtkWidget *group = group_new (self->account_box, _("Disputes"), NULL);

      for (guint i = 0; i < data->disputes->len; i++)
        {
          RecoupDispute *d = g_ptr_array_index (data->disputes, i);
          /* In the debtor's zone, named, as Activity says when. */
          g_autofree char *when = format_in_zone (d->opened_at, data->zone);
          g_autofree char *sub = join_parts (when, d->invoice_ref != NULL ? d->invoice_ref : _("whole account"),
                                             d->resolution != NULL ? d->resolution : "", NULL);
          GtkWidget *row = row_new (group, d->reason, sub);

          suffix_label (row, recoup_label_dispute_status (d->status), g_strcmp0 (d->status, "open") == 0 ? "warning" : NULL);
          if (g_strcmp0 (d->status, "open") == 0)
            {
              GtkWidget *button = gtk_button_new_with_label (_("Resolve…"));

              gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
              gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.resolve-dispute");
              gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", d->id);
              adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
            }
        }
    }
  (void) currency;
}

void
recoup_window_build_account (RecoupWindow *self)
{
  RecoupAccountData *data = self->data;
  GtkWidget *child;
  GtkAdjustment *vadj;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->account_box))) != NULL)
    gtk_box_remove (self->account_box, child);

  if (data == NULL)
    {
      g_clear_pointer (&self->shown_account_id, g_free);
      gtk_stack_set_visible_child_name (self->account_stack, "none");
      adw_window_title_set_title (self->account_title, "");
      adw_window_title_set_subtitle (self->account_title, "");
      return;
    }

  adw_window_title_set_title (self->account_title, data->account->name);
  adw_window_title_set_subtitle (self->account_title, data->account->ref);

  add_header (self, data);
  add_review (self, data);
  add_aging (self, data);
  add_last_allocation (self, data);
  add_guard (self, data);
  add_score (self, data);
  add_contacts (self, data);
  add_invoices (self, data);
  add_promises_offers_disputes (self, data);
  add_activities (self, data);
  add_ledger (self, data);

  /* The list row shows the balance, the next step and the call verdict too:
   * keep them in step with what a write just changed. */
  {
    RecoupAccountItem *item = recoup_window_reselect_row (self);
    RecoupGuardVerdict *call = recoup_account_data_get_verdict (data, "call");
    const char *reason = NULL;

    for (guint i = 0; call != NULL && call->reasons != NULL && i < call->reasons->len && reason == NULL; i++)
      {
        RecoupGuardReason *r = g_ptr_array_index (call->reasons, i);

        if (r->blocks)
          reason = r->text;
      }
    int days_past_due = 0;

    /* How late the oldest invoice with something open is, as the list reads it. */
    for (guint i = 0; data->invoices != NULL && i < data->invoices->len; i++)
      {
        RecoupInvoiceBalance *ib = g_ptr_array_index (data->invoices, i);

        if (ib->balance > 0)
          days_past_due = MAX (days_past_due, ib->days_past_due);
      }
    if (data->aging.total <= 0)
      days_past_due = 0;
    if (item != NULL)
      recoup_account_item_refresh (item, data->aging.total, days_past_due,
                                   data->score != NULL ? data->score->segment : NULL, data->next_step,
                                   data->account->cease_communication,
                                   call != NULL && call->verdict == RECOUP_VERDICT_BLOCKED, reason);
    else
      recoup_window_restore_row (self, data->aging.total);
  }

  /* A reload after a write (opt-out, Mark Reviewed, a reversal) shows the
   * same account: the user stays where they were working. Another account
   * starts at its top. */
  if (g_strcmp0 (self->shown_account_id, data->account->id) != 0)
    {
      vadj = gtk_scrolled_window_get_vadjustment (self->account_scroller);
      gtk_adjustment_set_value (vadj, 0);
      g_free (self->shown_account_id);
      self->shown_account_id = g_strdup (data->account->id);
    }
  gtk_stack_set_visible_child_name (self->account_stack, "account");
}
