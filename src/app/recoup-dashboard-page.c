/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <glib/gi18n.h>
#include <adwaita.h>

#include "recoup-labels.h"
#include "recoup-locale-money.h"
#include "recoup-dashboard-page.h"

#define N_MONTHS 6
#define N_TILES 12

typedef enum
{
  PERIOD_THIS_MONTH,
  PERIOD_LAST_MONTH,
  PERIOD_THIS_QUARTER,
  PERIOD_CUSTOM,
} PeriodKind;

/* What the page shows, computed in the worker thread. All numbers come from
 * core (recoup_kpi_compute, recoup_aging_summary): the page only draws. */
typedef struct
{
  PeriodKind period;                   /* asked for */
  char      *custom_from;              /* PERIOD_CUSTOM */
  char      *custom_to;
  char      *from;                     /* computed from the book's today */
  char      *to;
  GPtrArray *kpis;                     /* RecoupKpis of [from, to] */
  GPtrArray *aging;                    /* RecoupAgingRow per currency, as of to */
  char      *wanted_currency;          /* asked for; NULL: the largest receivables */
  char      *currency;                 /* the currency shown: the one asked for, or the largest */
  GStrv      currencies;               /* every currency with figures, largest receivables first */
  char      *month[N_MONTHS];          /* YYYY-MM, oldest first */
  gint64     collected[N_MONTHS];
  gint64     cei_bp[N_MONTHS];
} DashData;

struct _RecoupDashboardPage
{
  GtkBox         parent_instance;

  /* borrowed */
  RecoupSession *session;

  /* owned */
  GCancellable  *cancellable;
  DashData      *data;       /* what is shown; read on the main thread only */
  DashData      *pending;    /* being computed by the worker; not touched here */

  PeriodKind     period;
  char          *currency;   /* the currency the user picked, or NULL */
  char          *custom_from;
  char          *custom_to;
  RecoupExportJob *export;   /* the running export, or NULL */
  guint          export_timer;
  guint          n_exports;
  char          *last_error;

  /* children */
  GtkWidget     *toasts;
  GtkWidget     *title;
  GtkWidget     *period_drop;
  GtkWidget     *currency_drop;
  GtkWidget     *custom_box;
  GtkWidget     *from_entry;
  GtkWidget     *to_entry;
  GtkWidget     *custom_error;
  GtkWidget     *progress_revealer;
  GtkWidget     *progress_bar;
  GtkWidget     *progress_label;
  GtkWidget     *period_label;
  GtkWidget     *tiles;
  GtkWidget     *aging_area;
  GtkWidget     *aging_note;     /* the bars, the credits and their total */
  GtkWidget     *collected_area;
  GtkWidget     *cei_area;
  GtkWidget     *status_label;
};

G_DEFINE_FINAL_TYPE (RecoupDashboardPage, recoup_dashboard_page, GTK_TYPE_BOX)

static void
dash_data_free (DashData *d)
{
  if (d == NULL)
    return;
  g_free (d->custom_from);
  g_free (d->custom_to);
  g_free (d->from);
  g_free (d->to);
  g_clear_pointer (&d->kpis, g_ptr_array_unref);
  g_clear_pointer (&d->aging, g_ptr_array_unref);
  g_free (d->wanted_currency);
  g_free (d->currency);
  g_strfreev (d->currencies);
  for (guint i = 0; i < N_MONTHS; i++)
    g_free (d->month[i]);
  g_free (d);
}

/* ---- Worker ------------------------------------------------------------------ */

/* Largest receivables at the period's end first. */
static int
compare_receivables (gconstpointer a,
                     gconstpointer b)
{
  const RecoupKpis *ka = *(RecoupKpis * const *) a;
  const RecoupKpis *kb = *(RecoupKpis * const *) b;

  return ka->ar_end < kb->ar_end ? 1 : ka->ar_end > kb->ar_end ? -1 : g_strcmp0 (ka->currency, kb->currency);
}

static gboolean
load_dashboard (RecoupBook  *book,
                gpointer     user_data,
                GError     **error)
{
  DashData *d = user_data;
  g_autofree char *today = recoup_book_today (book);
  gint32 today_day = recoup_date_parse (today, error);
  gint32 first;
  char buf[11];

  if (today_day == RECOUP_DATE_INVALID)
    return FALSE;
  {
    gint32 month_start = today_day - (atoi (today + 8) - 1);
    int month = atoi (today + 5);

    switch (d->period)
      {
      case PERIOD_THIS_MONTH:
        recoup_date_format_buf (month_start, buf);
        d->from = g_strdup (buf);
        d->to = g_strdup (today);
        break;
      case PERIOD_LAST_MONTH:
        recoup_date_format_buf (recoup_date_add_months (month_start, -1), buf);
        d->from = g_strdup (buf);
        recoup_date_format_buf (month_start - 1, buf);
        d->to = g_strdup (buf);
        break;
      case PERIOD_THIS_QUARTER:
        recoup_date_format_buf (recoup_date_add_months (month_start, -((month - 1) % 3)), buf);
        d->from = g_strdup (buf);
        d->to = g_strdup (today);
        break;
      case PERIOD_CUSTOM:
      default:
        if (!recoup_period_validate (d->custom_from, d->custom_to, error))
          return FALSE;
        d->from = g_strdup (d->custom_from);
        d->to = g_strdup (d->custom_to);
        break;
      }
    today_day = recoup_date_parse (d->to, error);
  }
  if (!(d->kpis = recoup_kpi_compute (book, d->from, d->to, error)) ||
      !(d->aging = recoup_aging_summary (book, d->to, error)))
    return FALSE;
  {
    g_autoptr(GPtrArray) by_size = g_ptr_array_copy (d->kpis, NULL, NULL);
    GStrvBuilder *names = g_strv_builder_new ();

    /* The copy would free the figures it borrows. */
    g_ptr_array_set_free_func (by_size, NULL);
    g_ptr_array_sort (by_size, compare_receivables);
    for (guint i = 0; i < by_size->len; i++)
      {
        RecoupKpis *k = g_ptr_array_index (by_size, i);

        g_strv_builder_add (names, k->currency);
        if (d->currency == NULL || g_strcmp0 (k->currency, d->wanted_currency) == 0)
          {
            g_free (d->currency);
            d->currency = g_strdup (k->currency);
          }
      }
    d->currencies = g_strv_builder_end (names);
    g_strv_builder_unref (names);
  }

  /* The last six calendar months up to the period's end, that month (so far) included. */
  first = today_day - (atoi (d->to + 8) - 1);
  for (int m = 0; m < N_MONTHS; m++)
    {
      gint32 lo = recoup_date_add_months (first, m - (N_MONTHS - 1));
      gint32 hi = MIN (recoup_date_add_months (lo, 1) - 1, today_day);
      g_autoptr(GPtrArray) month = NULL;
      char hi_buf[11];

      recoup_date_format_buf (lo, buf);
      recoup_date_format_buf (hi, hi_buf);
      d->month[m] = g_strndup (buf, 7);
      d->cei_bp[m] = RECOUP_KPI_NA;
      if (!(month = recoup_kpi_compute (book, buf, hi_buf, error)))
        return FALSE;
      for (guint i = 0; i < month->len; i++)
        {
          RecoupKpis *k = g_ptr_array_index (month, i);

          if (g_strcmp0 (k->currency, d->currency) == 0)
            {
              d->collected[m] = k->collected;
              d->cei_bp[m] = k->cei_bp;
            }
        }
    }
  return TRUE;
}

/* ---- Drawing ----------------------------------------------------------------- */

static void
draw_text (cairo_t    *cr,
           const char *font,
           const char *text,
           double      x,
           double      y,
           gboolean    centre)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *desc = pango_font_description_from_string (font);
  int w, h;

  pango_layout_set_font_description (layout, desc);
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, centre ? x - w / 2.0 : x, y);
  pango_cairo_show_layout (cr, layout);
  pango_font_description_free (desc);
  g_object_unref (layout);
}

/* Bars with a label under each and the formatted value above. The bar
 * heights are the only place a ratio becomes a double: drawing, not money. */
static void
draw_bars (cairo_t            *cr,
           int                 width,
           int                 height,
           guint               n,
           const gint64       *values,
           const char * const *labels,
           char             **(*format) (const gint64 *, guint, gpointer),
           gpointer            format_data,
           GdkRGBA            *color)
{
  g_auto(GStrv) texts = format (values, n, format_data);
  gint64 max = 1;
  double slot = (double) width / MAX (n, 1), base = height - 22, top = 20;

  for (guint i = 0; i < n; i++)
    if (values[i] > max)
      max = values[i];
  for (guint i = 0; i < n; i++)
    {
      double h = values[i] > 0 ? (base - top) * (double) values[i] / (double) max : 0;
      double x = i * slot + slot * 0.2;

      gdk_cairo_set_source_rgba (cr, color);
      cairo_rectangle (cr, x, base - h, slot * 0.6, h);
      cairo_fill (cr);
      cairo_set_source_rgba (cr, 0.3, 0.3, 0.3, 1);
      draw_text (cr, "Sans 8", labels[i], i * slot + slot / 2, base + 4, TRUE);
      draw_text (cr, "Sans Bold 8", texts[i], i * slot + slot / 2, base - h - 15, TRUE);
    }
}

static char **
format_money (const gint64 *values,
              guint         n,
              gpointer      currency)
{
  char **texts = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++)
    texts[i] = recoup_locale_money_format (values[i], currency, RECOUP_MONEY_FORMAT_GROUPING);
  return texts;
}

/* A KPI as the reader writes numbers ("112,43", "13,53 %" in German), or
 * "n/a" where the period gives it no value. */
static char *
kpi_text (gint64   value,
          gboolean percent)
{
  if (value == RECOUP_KPI_NA)
    /* Translators: a KPI the period gives no value (nothing billed, say) */
    return g_strdup (C_("kpi", "n/a"));
  return percent ? recoup_locale_percent_format (value) : recoup_locale_hundredths_format (value);
}

static char **
format_bp (const gint64 *values,
           guint         n,
           gpointer      unused)
{
  char **texts = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++)
    texts[i] = kpi_text (values[i], TRUE);
  return texts;
}

static RecoupAgingRow *
shown_aging (DashData *d)
{
  for (guint i = 0; d != NULL && d->currency != NULL && d->aging != NULL && i < d->aging->len; i++)
    if (g_strcmp0 (((RecoupAgingRow *) g_ptr_array_index (d->aging, i))->currency, d->currency) == 0)
      return g_ptr_array_index (d->aging, i);
  return NULL;
}

/* The bars leave out credits not yet applied to an invoice (they belong to no
 * bucket): this line names them, so the parts add up to the receivables. */
static char *
aging_note_text (DashData *d)
{
  RecoupAgingRow *row = shown_aging (d);
  g_autofree char *bars = NULL;
  g_autofree char *credits = NULL;
  g_autofree char *total = NULL;
  gint64 sum = 0;

  if (row == NULL)
    return NULL;
  for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
    sum += row->buckets[b];
  bars = recoup_locale_money_format (sum, row->currency, RECOUP_MONEY_FORMAT_GROUPING);
  credits = recoup_locale_money_format (row->credit, row->currency, RECOUP_MONEY_FORMAT_GROUPING);
  total = recoup_locale_money_format (row->total, row->currency, RECOUP_MONEY_FORMAT_GROUPING);
  /* e.g. "Bars 49,985,150.99 + credits -99.49 = receivables 49,985,051.50" */
  return g_strdup_printf (_("Bars %s + credits %s = receivables %s"), bars, credits, total);
}

static void
draw_aging (DashData *d,
            cairo_t  *cr,
            int       width,
            int       height)
{
  const char *labels[RECOUP_AGING_N_BUCKETS];
  GdkRGBA color = { 0.11f, 0.31f, 0.47f, 1 };

  if (d == NULL || d->currency == NULL)
    return;
  for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
    labels[b] = recoup_label_aging_bucket (b);
  for (guint i = 0; i < d->aging->len; i++)
    {
      RecoupAgingRow *row = g_ptr_array_index (d->aging, i);

      if (g_strcmp0 (row->currency, d->currency) == 0)
        draw_bars (cr, width, height, RECOUP_AGING_N_BUCKETS, row->buckets, labels,
                   format_money, d->currency, &color);
    }
}

static void
draw_collected (DashData *d,
                cairo_t  *cr,
                int       width,
                int       height)
{
  GdkRGBA color = { 0.16f, 0.52f, 0.36f, 1 };

  if (d == NULL || d->currency == NULL)
    return;
  draw_bars (cr, width, height, N_MONTHS, d->collected, (const char * const *) d->month,
             format_money, d->currency, &color);
}

static void
draw_cei (DashData *d,
          cairo_t  *cr,
          int       width,
          int       height)
{
  GdkRGBA color = { 0.55f, 0.35f, 0.70f, 1 };
  gint64 shown[N_MONTHS];

  if (d == NULL || d->currency == NULL)
    return;
  for (guint i = 0; i < N_MONTHS; i++)
    shown[i] = d->cei_bp[i] == RECOUP_KPI_NA ? 0 : d->cei_bp[i];
  draw_bars (cr, width, height, N_MONTHS, shown, (const char * const *) d->month,
             format_bp, NULL, &color);
}

static void
aging_draw_cb (GtkDrawingArea *area,
               cairo_t        *cr,
               int             width,
               int             height,
               gpointer        user_data)
{
  draw_aging (RECOUP_DASHBOARD_PAGE (user_data)->data, cr, width, height);
}

static void
collected_draw_cb (GtkDrawingArea *area,
                   cairo_t        *cr,
                   int             width,
                   int             height,
                   gpointer        user_data)
{
  draw_collected (RECOUP_DASHBOARD_PAGE (user_data)->data, cr, width, height);
}

static void
cei_draw_cb (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        user_data)
{
  draw_cei (RECOUP_DASHBOARD_PAGE (user_data)->data, cr, width, height);
}

/* ---- Tiles ------------------------------------------------------------------- */

static void
add_tile (RecoupDashboardPage *self,
          const char          *title,
          const char          *value,
          const char          *hint)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *t = gtk_label_new (title);
  GtkWidget *v = gtk_label_new (value);

  gtk_widget_add_css_class (box, "card");
  gtk_widget_set_size_request (box, 170, -1);
  gtk_widget_set_margin_start (t, 12);
  gtk_widget_set_margin_top (t, 10);
  gtk_widget_set_margin_end (t, 12);
  gtk_widget_set_margin_bottom (v, 10);
  gtk_label_set_xalign (GTK_LABEL (t), 0);
  gtk_label_set_xalign (GTK_LABEL (v), 0);
  gtk_widget_set_margin_start (v, 12);
  gtk_widget_add_css_class (t, "dim-label");
  gtk_widget_add_css_class (t, "caption-heading");
  gtk_widget_add_css_class (v, "title-2");
  gtk_widget_set_tooltip_text (box, hint);
  gtk_box_append (GTK_BOX (box), t);
  gtk_box_append (GTK_BOX (box), v);
  gtk_flow_box_append (GTK_FLOW_BOX (self->tiles), box);
}

typedef struct
{
  const char *title;
  char       *value;
  const char *hint;
} Tile;

static RecoupKpis *
shown_kpis (DashData *d)
{
  for (guint i = 0; d != NULL && d->kpis != NULL && i < d->kpis->len; i++)
    if (g_strcmp0 (((RecoupKpis *) g_ptr_array_index (d->kpis, i))->currency, d->currency) == 0)
      return g_ptr_array_index (d->kpis, i);
  return NULL;
}

/* The tiles, as the page and the printout show them. */
static void
fill_tiles (RecoupKpis *k,
            Tile        tiles[N_TILES])
{
  const Tile t[N_TILES] = {
    { _("Receivables"), recoup_locale_money_format (k->ar_end, k->currency, RECOUP_MONEY_FORMAT_GROUPING),
      _("The ledger total at the end of the period") },
    { _("Collected"), recoup_locale_money_format (k->collected, k->currency, RECOUP_MONEY_FORMAT_GROUPING),
      _("Payments less their reversals, dated in the period") },
    { _("DSO (days)"), kpi_text (k->dso_x100, FALSE), _("Receivables × days ÷ billed in the period") },
    { _("Countback DSO"), kpi_text (k->countback_dso_x100, FALSE),
      _("Days of the latest billing the receivables cover, month by month") },
    { _("Best possible DSO"), kpi_text (k->best_dso_x100, FALSE), _("Receivables not yet due × days ÷ billed") },
    { _("Avg days delinquent"), kpi_text (k->add_x100, FALSE), _("DSO − best possible DSO") },
    { _("CEI"), kpi_text (k->cei_bp, TRUE), _("Collection effectiveness index (Credit Research Foundation)") },
    { _("Recovery rate"), kpi_text (k->recovery_bp, TRUE), _("Recovered ÷ placed, accounts placed in the period") },
    { _("Promise-kept rate"), kpi_text (k->promise_kept_bp, TRUE), _("Promises due in the period that were kept") },
    { _("Cost-to-collect"), kpi_text (k->cost_to_collect_bp, TRUE),
      _("Collection costs ÷ collected (costs: recoup-cli kpi cost)") },
    { _("Contact rate"), kpi_text (k->contact_rate_bp, TRUE), _("Calls and visits that reached someone") },
    { _("Right-party contacts"), kpi_text (k->rpc_rate_bp, TRUE), _("Calls and visits that reached the debtor") },
  };

  memcpy (tiles, t, sizeof t);
}

static void
clear_tiles (Tile tiles[N_TILES])
{
  for (guint i = 0; i < N_TILES; i++)
    g_free (tiles[i].value);
}

static const char *period_titles[] = { N_("This Month"), N_("Last Month"), N_("This Quarter"), N_("Custom Period") };

static char *
period_text (DashData *d)
{
  return g_strdup_printf (_("%s to %s%s%s"), d->from, d->to, d->currency ? _(" · amounts in ") : "",
                          d->currency ? d->currency : "");
}

static void
currency_selected_cb (RecoupDashboardPage *self)
{
  GtkStringObject *item = gtk_drop_down_get_selected_item (GTK_DROP_DOWN (self->currency_drop));
  const char *currency = item != NULL ? gtk_string_object_get_string (item) : NULL;

  if (currency == NULL || (self->data != NULL && g_strcmp0 (currency, self->data->currency) == 0))
    return;
  g_free (self->currency);
  self->currency = g_strdup (currency);
  recoup_dashboard_page_reload (self);
}

static void
show_data (RecoupDashboardPage *self)
{
  DashData *d = self->data;
  RecoupKpis *k = shown_kpis (d);
  GtkWidget *child;
  g_autofree char *period = NULL;
  Tile tiles[N_TILES];

  while ((child = gtk_widget_get_first_child (self->tiles)) != NULL)
    gtk_flow_box_remove (GTK_FLOW_BOX (self->tiles), child);

  period = period_text (d);
  gtk_label_set_text (GTK_LABEL (self->period_label), period);
  /* Amounts in different currencies are never added up: one is shown at a
   * time, and the user picks which when the book has several. */
  {
    g_autoptr(GtkStringList) list = gtk_string_list_new ((const char * const *) d->currencies);
    guint n = d->currencies != NULL ? g_strv_length (d->currencies) : 0;

    g_signal_handlers_block_by_func (self->currency_drop, currency_selected_cb, self);
    gtk_drop_down_set_model (GTK_DROP_DOWN (self->currency_drop), G_LIST_MODEL (list));
    for (guint i = 0; i < n; i++)
      if (g_strcmp0 (d->currencies[i], d->currency) == 0)
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->currency_drop), i);
    g_signal_handlers_unblock_by_func (self->currency_drop, currency_selected_cb, self);
    gtk_widget_set_visible (self->currency_drop, n > 1);
  }
  /* The title names what is shown, not what the drop-down is being set to. */
  gtk_label_set_text (GTK_LABEL (self->title), _(period_titles[d->period]));
  {
    g_autofree char *aging = g_strdup_printf (_("Aging of the book on %s"), d->to);
    g_autofree char *note = aging_note_text (d);

    gtk_label_set_text (GTK_LABEL (gtk_widget_get_prev_sibling (self->aging_area)), aging);
    gtk_label_set_text (GTK_LABEL (self->aging_note), note != NULL ? note : "");
    gtk_widget_set_visible (self->aging_note, note != NULL);
  }
  gtk_widget_queue_draw (self->aging_area);
  gtk_widget_queue_draw (self->collected_area);
  gtk_widget_queue_draw (self->cei_area);
  if (k == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->status_label), _("Nothing to show for this period: the book has no ledger entries up to its end."));
      gtk_widget_set_visible (self->status_label, TRUE);
      return;
    }
  gtk_widget_set_visible (self->status_label, FALSE);
  fill_tiles (k, tiles);
  for (guint i = 0; i < N_TILES; i++)
    add_tile (self, tiles[i].title, tiles[i].value, tiles[i].hint);
  clear_tiles (tiles);
}

typedef struct
{
  RecoupDashboardPage *self;
  DashData            *data;
} Load;

static void
load_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Load *load = user_data;
  g_autoptr(RecoupDashboardPage) self = load->self;
  g_autoptr(GError) error = NULL;
  gboolean ok = recoup_session_run_finish (RECOUP_SESSION (source), result, &error);
  gboolean latest = self->pending == load->data;

  if (latest)
    self->pending = NULL;
  if (!ok || !latest)
    {
      dash_data_free (load->data);
      g_free (load);
      if (!ok && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = g_strdup_printf (_("Could not compute the dashboard: %s"), error->message);

          g_free (self->last_error);
          self->last_error = g_strdup (error->message);

          gtk_label_set_text (GTK_LABEL (self->status_label), text);
          gtk_widget_set_visible (self->status_label, TRUE);
        }
      return;
    }
  g_clear_pointer (&self->data, dash_data_free);
  self->data = load->data;
  g_free (load);
  show_data (self);
}

void
recoup_dashboard_page_reload (RecoupDashboardPage *self)
{
  Load *load;

  g_return_if_fail (RECOUP_IS_DASHBOARD_PAGE (self));
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  load = g_new0 (Load, 1);
  load->self = g_object_ref (self);
  load->data = self->pending = g_new0 (DashData, 1);
  load->data->period = self->period;
  load->data->wanted_currency = g_strdup (self->currency);
  load->data->custom_from = g_strdup (self->custom_from);
  load->data->custom_to = g_strdup (self->custom_to);
  if (self->data == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->status_label), _("Computing the figures…"));
      gtk_widget_set_visible (self->status_label, TRUE);
    }
  /* The worker fills load->data; the page shows it only once it is complete. */
  recoup_session_run_async (self->session, load_dashboard, load->data, NULL, self->cancellable,
                            load_done_cb, load);
}

gboolean
recoup_dashboard_page_is_loaded (RecoupDashboardPage *self)
{
  return self->data != NULL && self->pending == NULL;
}

const char *
recoup_dashboard_page_get_period (RecoupDashboardPage *self,
                                  const char         **out_to)
{
  if (out_to != NULL)
    *out_to = self->data ? self->data->to : NULL;
  return self->data ? self->data->from : NULL;
}

/* ---- Period picker ------------------------------------------------------------ */

gboolean
recoup_dashboard_page_set_custom_period (RecoupDashboardPage  *self,
                                         const char           *from,
                                         const char           *to,
                                         GError              **error)
{
  if (!recoup_period_validate (from, to, error))
    return FALSE;
  g_free (self->custom_from);
  g_free (self->custom_to);
  self->custom_from = g_strdup (from);
  self->custom_to = g_strdup (to);
  self->period = PERIOD_CUSTOM;
  if (gtk_drop_down_get_selected (GTK_DROP_DOWN (self->period_drop)) != PERIOD_CUSTOM)
    gtk_drop_down_set_selected (GTK_DROP_DOWN (self->period_drop), PERIOD_CUSTOM);
  gtk_editable_set_text (GTK_EDITABLE (self->from_entry), from);
  gtk_editable_set_text (GTK_EDITABLE (self->to_entry), to);
  recoup_dashboard_page_reload (self);
  return TRUE;
}

static void
apply_custom_cb (RecoupDashboardPage *self)
{
  g_autofree char *message = NULL;
  RecoupPeriodCheck check;
  const char *from = gtk_editable_get_text (GTK_EDITABLE (self->from_entry));
  const char *to = gtk_editable_get_text (GTK_EDITABLE (self->to_entry));

  gtk_widget_remove_css_class (self->from_entry, "error");
  gtk_widget_remove_css_class (self->to_entry, "error");
  message = recoup_label_period_problem (from, to, &check);
  if (check == RECOUP_PERIOD_BAD_FROM)
    gtk_widget_add_css_class (self->from_entry, "error");
  else if (check != RECOUP_PERIOD_VALID)
    gtk_widget_add_css_class (self->to_entry, "error");
  if (message != NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->custom_error), message);
      gtk_widget_set_visible (self->custom_error, TRUE);
      return;
    }
  recoup_dashboard_page_set_custom_period (self, from, to, NULL);
  gtk_widget_set_visible (self->custom_error, FALSE);
}

static void
period_selected_cb (RecoupDashboardPage *self)
{
  guint selected = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->period_drop));

  gtk_widget_set_visible (self->custom_box, selected == PERIOD_CUSTOM);
  if (selected == PERIOD_CUSTOM)
    {
      /* Start from what is shown, so that the user edits rather than types. */
      if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->from_entry)), "") == 0 && self->data != NULL)
        {
          gtk_editable_set_text (GTK_EDITABLE (self->from_entry), self->data->from);
          gtk_editable_set_text (GTK_EDITABLE (self->to_entry), self->data->to);
        }
      gtk_widget_grab_focus (self->from_entry);
      return;
    }
  if (self->period == (PeriodKind) selected)
    return;
  self->period = selected;
  recoup_dashboard_page_reload (self);
}

/* ---- Exports ------------------------------------------------------------------ */

static void
toast (RecoupDashboardPage *self,
       const char          *text)
{
  AdwToast *t = adw_toast_new (text);

  adw_toast_set_timeout (t, 5);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (self->toasts), t);
}

static gboolean
export_tick_cb (gpointer user_data)
{
  RecoupDashboardPage *self = user_data;

  if (self->export != NULL)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress_bar),
                                   recoup_export_job_get_fraction (self->export));
  return G_SOURCE_CONTINUE;
}

static void
export_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(RecoupDashboardPage) self = user_data;
  g_autoptr(GError) error = NULL;
  RecoupExportJob *job = self->export;
  g_autofree char *path = g_strdup (recoup_export_job_get_spec (job)->path);
  RecoupExportKind kind = recoup_export_job_get_spec (job)->kind;
  gboolean ok = recoup_export_job_finish (job, result, &error);

  self->export = NULL;
  if (self->cancellable == NULL)
    return;   /* disposed: the widgets are gone */
  g_clear_handle_id (&self->export_timer, g_source_remove);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->progress_revealer), FALSE);
  gtk_widget_set_visible (self->progress_revealer, FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dashboard.export", TRUE);
  if (ok)
    {
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *text = g_strdup_printf (_("%s saved as %s"), recoup_export_kind_title (kind), base);

      self->n_exports++;
      toast (self, text);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    toast (self, _("Export cancelled: no file was written"));
  else
    {
      g_autofree char *text = g_strdup_printf (_("Could not export: %s"), error->message);

      g_free (self->last_error);
      self->last_error = g_strdup (error->message);
      toast (self, text);
    }
}

gboolean
recoup_dashboard_page_export (RecoupDashboardPage *self,
                              RecoupExportKind     kind,
                              RecoupReportFormat   format,
                              const char          *path)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (RECOUP_IS_DASHBOARD_PAGE (self), FALSE);
  if (self->export != NULL || self->data == NULL)
    return FALSE;
  g_clear_pointer (&self->last_error, g_free);
  self->export = recoup_export_job_start (self->session,
                                          recoup_export_spec_new (kind, format, self->data->from,
                                                                  self->data->to, path),
                                          export_done_cb, g_object_ref (self));
  text = g_strdup_printf (_("Exporting %s…"), recoup_export_kind_title (kind));
  gtk_label_set_text (GTK_LABEL (self->progress_label), text);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress_bar), 0);
  gtk_widget_set_visible (self->progress_revealer, TRUE);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->progress_revealer), TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dashboard.export", FALSE);
  self->export_timer = g_timeout_add (100, export_tick_cb, self);
  return TRUE;
}

gboolean
recoup_dashboard_page_is_exporting (RecoupDashboardPage *self)
{
  return self->export != NULL;
}

guint
recoup_dashboard_page_get_n_exports (RecoupDashboardPage *self)
{
  return self->n_exports;
}

const char *
recoup_dashboard_page_get_last_error (RecoupDashboardPage *self)
{
  return self->last_error;
}

static void
cancel_export_cb (RecoupDashboardPage *self)
{
  if (self->export != NULL)
    recoup_export_job_cancel (self->export);
}

static const char *format_ids[] = { "xlsx", "csv", "pdf", NULL };
static const char *format_labels[] = { N_("Spreadsheet (XLSX)"), N_("CSV"), N_("PDF"), NULL };

/* What the user asked for, as the file is named: a format picked in the
 * chooser (other than the one it started on) wins; else a known extension
 * typed in the name; else the format the chooser started on, which the
 * suggested name carries. recoup_export_confirm_path() then gives the file
 * that format's extension and asks before replacing another file. */
static RecoupReportFormat
export_format_for (const char *path,
                   const char *choice,
                   const char *initial)
{
  const char *dot = strrchr (path, '.');
  RecoupReportFormat format = RECOUP_REPORT_PDF;

  if (choice != NULL && g_strcmp0 (choice, initial) != 0 && recoup_report_format_from_string (choice, &format))
    return format;
  if (dot != NULL && strchr (dot, G_DIR_SEPARATOR) == NULL)
    {
      g_autofree char *ext = g_ascii_strdown (dot + 1, -1);

      if (recoup_report_format_from_string (ext, &format))
        return format;
    }
  if (initial == NULL || !recoup_report_format_from_string (initial, &format))
    format = RECOUP_REPORT_PDF;
  return format;
}

typedef struct
{
  RecoupDashboardPage *self;
  RecoupExportKind     kind;
} ExportTarget;

static void
export_target_free (ExportTarget *target)
{
  g_object_unref (target->self);
  g_free (target);
}

static void
export_path_ready (const char         *path,
                   RecoupReportFormat  format,
                   gpointer            user_data)
{
  ExportTarget *target = user_data;

  recoup_dashboard_page_export (target->self, target->kind, format, path);
}

static void
chooser_response_cb (GtkNativeDialog     *chooser,
                     int                  response,
                     RecoupDashboardPage *self)
{
  RecoupExportKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "kind"));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = g_file_get_path (file);
      const char *choice = gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (chooser), "format");
      const char *initial = g_object_get_data (G_OBJECT (chooser), "initial-format");
      RecoupReportFormat format;
      ExportTarget *target;

      if (path == NULL)
        {
          toast (self, _("Exports are written to a folder on this computer: pick a local folder."));
          gtk_native_dialog_destroy (chooser);
          g_object_unref (chooser);
          return;
        }
      format = export_format_for (path, choice, initial);
      target = g_new0 (ExportTarget, 1);
      target->self = g_object_ref (self);
      target->kind = kind;
      recoup_export_confirm_path (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), path, format,
                                  export_path_ready, target, (GDestroyNotify) export_target_free);
    }
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  RecoupDashboardPage *self = RECOUP_DASHBOARD_PAGE (widget);
  const char *what = g_variant_get_string (param, NULL);
  RecoupExportKind kind = g_str_equal (what, "aging") ? RECOUP_EXPORT_AGING
                          : g_str_equal (what, "payments") ? RECOUP_EXPORT_PAYMENTS
                          : RECOUP_EXPORT_STATEMENTS;
  GtkFileChooserNative *chooser;
  g_autofree char *title = NULL;
  g_autofree char *name = NULL;
  g_autofree char *file_name = NULL;
  const char *ids[G_N_ELEMENTS (format_ids)];
  const char *labels[G_N_ELEMENTS (format_labels)];
  const char *initial = kind == RECOUP_EXPORT_STATEMENTS ? "pdf" : "xlsx";
  guint n = 0;

  if (self->data == NULL || self->export != NULL)
    return;
  /* The suggested format first: GTK's own chooser (no portal) shows and
   * answers the first option whatever gtk_file_chooser_set_choice() said. */
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; format_ids[i] != NULL; i++)
      if (g_str_equal (format_ids[i], initial) == (pass == 0))
        {
          ids[n] = format_ids[i];
          labels[n++] = _(format_labels[i]);
        }
  ids[n] = labels[n] = NULL;
  title = g_strdup_printf (_("Export %s"), recoup_export_kind_title (kind));
  chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (gtk_widget_get_root (widget)),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (chooser), "format", _("Format"), ids, labels);
  gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (chooser), "format", initial);
  name = recoup_export_default_name (kind, self->data->from, self->data->to);
  file_name = g_strdup_printf ("%s.%s", name, initial);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), file_name);
  g_object_set_data (G_OBJECT (chooser), "kind", GINT_TO_POINTER (kind));
  g_object_set_data (G_OBJECT (chooser), "initial-format", (gpointer) initial);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ---- Printing ----------------------------------------------------------------- */

/* One page: the title and period, the tiles in a grid of three, then the
 * three charts, drawn by the same functions as the page. */
static void
draw_page (DashData *d,
           cairo_t  *cr,
           double    width,
           double    height)
{
  RecoupKpis *k = shown_kpis (d);
  g_autofree char *period = period_text (d);
  double y = 0, tile_w = width / 3, chart_h;
  const char *titles[] = { N_("Aging of the book"), N_("Collected per month"), N_("CEI per month") };
  void (*charts[]) (DashData *, cairo_t *, int, int) = { draw_aging, draw_collected, draw_cei };

  cairo_set_source_rgb (cr, 0, 0, 0);
  draw_text (cr, "Sans Bold 16", _("Collections Dashboard"), 0, y, FALSE);
  y += 28;
  cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
  draw_text (cr, "Sans 9", period, 0, y, FALSE);
  y += 24;
  if (k != NULL)
    {
      Tile tiles[N_TILES];

      fill_tiles (k, tiles);
      for (guint i = 0; i < N_TILES; i++)
        {
          double x = (i % 3) * tile_w, ty = y + (i / 3) * 44;

          cairo_set_source_rgb (cr, 0.93, 0.93, 0.93);
          cairo_rectangle (cr, x + 2, ty, tile_w - 4, 40);
          cairo_fill (cr);
          cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
          draw_text (cr, "Sans 7", tiles[i].title, x + 8, ty + 3, FALSE);
          cairo_set_source_rgb (cr, 0, 0, 0);
          draw_text (cr, "Sans Bold 12", tiles[i].value, x + 8, ty + 16, FALSE);
        }
      clear_tiles (tiles);
      y += 4 * 44 + 12;
    }
  chart_h = MAX ((height - y - 14) / 3 - 24, 60);   /* 14: the aging chart's note */
  for (guint c = 0; c < G_N_ELEMENTS (charts); c++)
    {
      g_autofree char *chart_title = c == 0 ? g_strdup_printf (_("Aging of the book on %s"), d->to)
                                            : g_strdup (_(titles[c]));

      cairo_set_source_rgb (cr, 0, 0, 0);
      draw_text (cr, "Sans Bold 10", chart_title, 0, y, FALSE);
      y += 18;
      cairo_save (cr);
      cairo_translate (cr, 0, y);
      charts[c] (d, cr, (int) width, (int) chart_h);
      cairo_restore (cr);
      y += chart_h + 6;
      if (c == 0)
        {
          g_autofree char *note = aging_note_text (d);

          if (note != NULL)
            {
              cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
              draw_text (cr, "Sans 8", note, 0, y, FALSE);
              y += 14;
            }
        }
    }
}

static void
print_draw_page_cb (GtkPrintOperation   *op,
                    GtkPrintContext     *context,
                    int                  page_nr,
                    RecoupDashboardPage *self)
{
  draw_page (self->data, gtk_print_context_get_cairo_context (context),
             gtk_print_context_get_width (context), gtk_print_context_get_height (context));
}

/* Draws the printout into a PDF (what the print dialog's preview and the
 * tests see): the same draw-page code, a cairo PDF surface. */
gboolean
recoup_dashboard_page_print_to_pdf (RecoupDashboardPage  *self,
                                    const char           *path,
                                    GError              **error)
{
  g_autoptr(GtkPrintOperation) op = gtk_print_operation_new ();
  GtkPrintOperationResult res;

  g_return_val_if_fail (self->data != NULL, FALSE);
  gtk_print_operation_set_n_pages (op, 1);
  gtk_print_operation_set_export_filename (op, path);
  g_signal_connect (op, "draw-page", G_CALLBACK (print_draw_page_cb), self);
  res = gtk_print_operation_run (op, GTK_PRINT_OPERATION_ACTION_EXPORT, NULL, error);
  return res != GTK_PRINT_OPERATION_RESULT_ERROR;
}

static void
print_done_cb (GtkPrintOperation       *op,
               GtkPrintOperationResult  result,
               RecoupDashboardPage     *self)
{
  if (result == GTK_PRINT_OPERATION_RESULT_ERROR)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = NULL;

      gtk_print_operation_get_error (op, &error);
      text = g_strdup_printf (_("Could not print: %s"), error ? error->message : _("unknown error"));
      toast (self, text);
    }
  g_object_unref (self);
}

static void
print_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  RecoupDashboardPage *self = RECOUP_DASHBOARD_PAGE (widget);
  g_autoptr(GtkPrintOperation) op = NULL;
  g_autoptr(GError) error = NULL;

  if (self->data == NULL)
    return;
  op = gtk_print_operation_new ();
  gtk_print_operation_set_n_pages (op, 1);
  gtk_print_operation_set_job_name (op, _("Collections Dashboard"));
  gtk_print_operation_set_allow_async (op, TRUE);
  g_signal_connect (op, "draw-page", G_CALLBACK (print_draw_page_cb), self);
  g_signal_connect (op, "done", G_CALLBACK (print_done_cb), g_object_ref (self));
  if (gtk_print_operation_run (op, GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG,
                               GTK_WINDOW (gtk_widget_get_root (widget)), &error)
      == GTK_PRINT_OPERATION_RESULT_ERROR)
    {
      g_autofree char *text = g_strdup_printf (_("Could not print: %s"), error->message);

      toast (self, text);
    }
}

/* ---- Construction ------------------------------------------------------------ */

static GtkWidget *
chart (RecoupDashboardPage   *self,
       const char            *title,
       GtkDrawingAreaDrawFunc draw,
       GtkWidget            **out_area)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *label = gtk_label_new (title);
  GtkWidget *area = gtk_drawing_area_new ();

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (area), 180);
  gtk_widget_set_hexpand (area, TRUE);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), draw, self, NULL);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), area);
  *out_area = area;
  return box;
}

static void
refresh_clicked_cb (GtkButton           *button,
                    RecoupDashboardPage *self)
{
  recoup_dashboard_page_reload (self);
}

static void
recoup_dashboard_page_dispose (GObject *object)
{
  RecoupDashboardPage *self = RECOUP_DASHBOARD_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->export != NULL)
    recoup_export_job_cancel (self->export);
  g_clear_handle_id (&self->export_timer, g_source_remove);
  G_OBJECT_CLASS (recoup_dashboard_page_parent_class)->dispose (object);
}

static void
recoup_dashboard_page_finalize (GObject *object)
{
  RecoupDashboardPage *self = RECOUP_DASHBOARD_PAGE (object);

  g_clear_pointer (&self->data, dash_data_free);
  g_free (self->currency);
  g_free (self->custom_from);
  g_free (self->custom_to);
  g_free (self->last_error);
  G_OBJECT_CLASS (recoup_dashboard_page_parent_class)->finalize (object);
}

static void
recoup_dashboard_page_class_init (RecoupDashboardPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = recoup_dashboard_page_dispose;
  object_class->finalize = recoup_dashboard_page_finalize;
  gtk_widget_class_install_action (widget_class, "dashboard.export", "s", export_action);
  gtk_widget_class_install_action (widget_class, "dashboard.print", NULL, print_action);
}

static GMenuModel *
export_menu (void)
{
  GMenu *menu = g_menu_new ();
  GMenu *reports = g_menu_new ();
  GMenu *more = g_menu_new ();

  g_menu_append (reports, _("_Aging Report…"), "dashboard.export::aging");
  g_menu_append (reports, _("_Payments Report…"), "dashboard.export::payments");
  g_menu_append (reports, _("_Statements of Accounts With a Balance…"), "dashboard.export::statements");
  g_menu_append (more, _("P_rint Dashboard…"), "dashboard.print");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (reports));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (more));
  g_object_unref (reports);
  g_object_unref (more);
  return G_MENU_MODEL (menu);
}

static void
recoup_dashboard_page_init (RecoupDashboardPage *self)
{
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *titles = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *refresh = gtk_button_new_from_icon_name ("view-refresh-symbolic");
  GtkWidget *exports = gtk_menu_button_new ();
  GtkWidget *charts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *apply = gtk_button_new_with_mnemonic (_("_Show"));
  GtkWidget *dash = gtk_label_new ("–");
  GtkWidget *progress_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_("_Cancel"));
  GtkWidget *scroller = gtk_scrolled_window_new ();
  g_autoptr(GMenuModel) menu = export_menu ();
  const char *periods[] = { _("This month"), _("Last month"), _("This quarter"), _("Custom…"), NULL };

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  self->title = gtk_label_new (_("This Month"));
  gtk_widget_add_css_class (self->title, "title-1");
  gtk_label_set_wrap (GTK_LABEL (self->title), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->title), 0);
  gtk_widget_set_tooltip_text (refresh, _("Recompute"));
  g_signal_connect (refresh, "clicked", G_CALLBACK (refresh_clicked_cb), self);
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (exports), "document-save-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (exports), menu);
  gtk_widget_set_tooltip_text (exports, _("Export and Print"));
  self->period_drop = gtk_drop_down_new_from_strings (periods);
  gtk_widget_set_valign (self->period_drop, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (self->period_drop, _("The period of the figures"));
  g_signal_connect_swapped (self->period_drop, "notify::selected", G_CALLBACK (period_selected_cb), self);
  self->currency_drop = gtk_drop_down_new (NULL, NULL);
  gtk_widget_set_name (self->currency_drop, "currency");
  gtk_widget_set_valign (self->currency_drop, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (self->currency_drop, _("The currency of the figures"));
  gtk_widget_set_visible (self->currency_drop, FALSE);
  g_signal_connect_swapped (self->currency_drop, "notify::selected", G_CALLBACK (currency_selected_cb), self);
  self->period_label = gtk_label_new ("");
  gtk_widget_add_css_class (self->period_label, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (self->period_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->period_label), TRUE);
  gtk_widget_set_valign (refresh, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (exports, GTK_ALIGN_CENTER);
  /* The title and the period over each other, both wrapping: in one line
   * they held the window at over 800 pixels wide. */
  gtk_widget_set_hexpand (titles, TRUE);
  gtk_widget_set_valign (titles, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (titles), self->title);
  gtk_box_append (GTK_BOX (titles), self->period_label);
  gtk_box_append (GTK_BOX (header), titles);
  gtk_box_append (GTK_BOX (header), self->currency_drop);
  gtk_box_append (GTK_BOX (header), self->period_drop);
  gtk_box_append (GTK_BOX (header), refresh);
  gtk_box_append (GTK_BOX (header), exports);

  /* Custom period: from – to, validated before anything is computed. */
  self->custom_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->from_entry = gtk_entry_new ();
  self->to_entry = gtk_entry_new ();
  gtk_widget_set_name (self->from_entry, "period-from");
  gtk_widget_set_name (self->to_entry, "period-to");
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->from_entry), _("From YYYY-MM-DD"));
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->to_entry), _("To YYYY-MM-DD"));
  gtk_editable_set_width_chars (GTK_EDITABLE (self->from_entry), 14);
  gtk_editable_set_width_chars (GTK_EDITABLE (self->to_entry), 14);
  g_signal_connect_swapped (self->from_entry, "activate", G_CALLBACK (apply_custom_cb), self);
  g_signal_connect_swapped (self->to_entry, "activate", G_CALLBACK (apply_custom_cb), self);
  g_signal_connect_swapped (apply, "clicked", G_CALLBACK (apply_custom_cb), self);
  self->custom_error = gtk_label_new ("");
  gtk_widget_set_name (self->custom_error, "period-error");
  gtk_widget_add_css_class (self->custom_error, "error");
  gtk_label_set_wrap (GTK_LABEL (self->custom_error), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->custom_error), 0);
  gtk_widget_set_hexpand (self->custom_error, TRUE);
  gtk_widget_set_visible (self->custom_error, FALSE);
  gtk_box_append (GTK_BOX (self->custom_box), self->from_entry);
  gtk_box_append (GTK_BOX (self->custom_box), dash);
  gtk_box_append (GTK_BOX (self->custom_box), self->to_entry);
  gtk_box_append (GTK_BOX (self->custom_box), apply);
  gtk_box_append (GTK_BOX (self->custom_box), self->custom_error);
  gtk_widget_set_visible (self->custom_box, FALSE);

  /* An export's progress, with a way out. */
  self->progress_revealer = gtk_revealer_new ();
  self->progress_label = gtk_label_new ("");
  self->progress_bar = gtk_progress_bar_new ();
  gtk_widget_set_hexpand (self->progress_bar, TRUE);
  gtk_widget_set_valign (self->progress_bar, GTK_ALIGN_CENTER);
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (cancel_export_cb), self);
  gtk_box_append (GTK_BOX (progress_box), self->progress_label);
  gtk_box_append (GTK_BOX (progress_box), self->progress_bar);
  gtk_box_append (GTK_BOX (progress_box), cancel);
  gtk_revealer_set_child (GTK_REVEALER (self->progress_revealer), progress_box);
  gtk_widget_set_visible (self->progress_revealer, FALSE);

  self->status_label = gtk_label_new ("");
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_widget_set_visible (self->status_label, FALSE);
  self->tiles = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (self->tiles), GTK_SELECTION_NONE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (self->tiles), 6);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (self->tiles), 12);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (self->tiles), 12);

  gtk_box_append (GTK_BOX (charts), chart (self, _("Aging of the book"), aging_draw_cb, &self->aging_area));
  self->aging_note = gtk_label_new ("");
  gtk_widget_set_name (self->aging_note, "aging-credits");
  gtk_widget_add_css_class (self->aging_note, "dim-label");
  gtk_label_set_wrap (GTK_LABEL (self->aging_note), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->aging_note), 0);
  gtk_widget_set_tooltip_text (self->aging_note, _("Credits are payments and credit notes not yet applied to an "
                                                   "invoice: they belong to no age, and lower the receivables."));
  gtk_widget_set_visible (self->aging_note, FALSE);
  gtk_box_append (GTK_BOX (gtk_widget_get_parent (self->aging_area)), self->aging_note);
  gtk_box_append (GTK_BOX (charts), chart (self, _("Collected per month"), collected_draw_cb, &self->collected_area));
  gtk_box_append (GTK_BOX (charts), chart (self, _("CEI per month"), cei_draw_cb, &self->cei_area));

  gtk_widget_set_margin_start (content, 24);
  gtk_widget_set_margin_end (content, 24);
  gtk_widget_set_margin_top (content, 18);
  gtk_widget_set_margin_bottom (content, 24);
  gtk_box_append (GTK_BOX (content), header);
  gtk_box_append (GTK_BOX (content), self->custom_box);
  gtk_box_append (GTK_BOX (content), self->progress_revealer);
  gtk_box_append (GTK_BOX (content), self->status_label);
  gtk_box_append (GTK_BOX (content), self->tiles);
  gtk_box_append (GTK_BOX (content), charts);
  /* The page scrolls; the toasts sit over it, at the bottom of the view. */
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), content);
  self->toasts = adw_toast_overlay_new ();
  adw_toast_overlay_set_child (ADW_TOAST_OVERLAY (self->toasts), scroller);
  gtk_widget_set_vexpand (self->toasts, TRUE);
  gtk_box_append (GTK_BOX (self), self->toasts);
}

GtkWidget *
recoup_dashboard_page_new (RecoupSession *session)
{
  RecoupDashboardPage *self = g_object_new (RECOUP_TYPE_DASHBOARD_PAGE, NULL);

  self->session = session;
  recoup_dashboard_page_reload (self);
  return GTK_WIDGET (self);
}
