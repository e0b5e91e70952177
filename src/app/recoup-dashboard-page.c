/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include "recoup-dashboard-page.h"

#define N_MONTHS 6

/* What the page shows, computed in the worker thread. All numbers come from
 * core (recoup_kpi_compute, recoup_aging_summary): the page only draws. */
typedef struct
{
  char      *from;
  char      *to;
  GPtrArray *kpis;                     /* RecoupKpis of [from, to] */
  GPtrArray *aging;                    /* RecoupAgingRow per currency, as of to */
  char      *currency;                 /* the currency shown: the largest receivables */
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

  /* children */
  GtkWidget     *period_label;
  GtkWidget     *tiles;
  GtkWidget     *aging_area;
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
  g_free (d->from);
  g_free (d->to);
  g_clear_pointer (&d->kpis, g_ptr_array_unref);
  g_clear_pointer (&d->aging, g_ptr_array_unref);
  g_free (d->currency);
  for (guint i = 0; i < N_MONTHS; i++)
    g_free (d->month[i]);
  g_free (d);
}

/* ---- Worker ------------------------------------------------------------------ */

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
  gint64 best = G_MININT64;

  if (today_day == RECOUP_DATE_INVALID)
    return FALSE;
  d->to = g_strdup (today);
  d->from = g_strdup (today);
  d->from[8] = '0';
  d->from[9] = '1';
  if (!(d->kpis = recoup_kpi_compute (book, d->from, d->to, error)) ||
      !(d->aging = recoup_aging_summary (book, d->to, error)))
    return FALSE;
  for (guint i = 0; i < d->kpis->len; i++)
    {
      RecoupKpis *k = g_ptr_array_index (d->kpis, i);

      if (k->ar_end > best)
        {
          best = k->ar_end;
          g_free (d->currency);
          d->currency = g_strdup (k->currency);
        }
    }

  /* The last six calendar months, this one (so far) included. */
  first = recoup_date_parse (d->from, NULL);
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
    texts[i] = recoup_money_format (values[i], currency, RECOUP_MONEY_FORMAT_GROUPING);
  return texts;
}

static char **
format_bp (const gint64 *values,
           guint         n,
           gpointer      unused)
{
  char **texts = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++)
    texts[i] = recoup_kpi_format_bp (values[i]);
  return texts;
}

static void
aging_draw_cb (GtkDrawingArea *area,
               cairo_t        *cr,
               int             width,
               int             height,
               gpointer        user_data)
{
  RecoupDashboardPage *self = user_data;
  const char *labels[RECOUP_AGING_N_BUCKETS];
  GdkRGBA color = { 0.11f, 0.31f, 0.47f, 1 };

  if (self->data == NULL || self->data->currency == NULL)
    return;
  for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
    labels[b] = recoup_aging_bucket_label (b);
  for (guint i = 0; i < self->data->aging->len; i++)
    {
      RecoupAgingRow *row = g_ptr_array_index (self->data->aging, i);

      if (g_strcmp0 (row->currency, self->data->currency) == 0)
        draw_bars (cr, width, height, RECOUP_AGING_N_BUCKETS, row->buckets, labels,
                   format_money, self->data->currency, &color);
    }
}

static void
collected_draw_cb (GtkDrawingArea *area,
                   cairo_t        *cr,
                   int             width,
                   int             height,
                   gpointer        user_data)
{
  RecoupDashboardPage *self = user_data;
  GdkRGBA color = { 0.16f, 0.52f, 0.36f, 1 };

  if (self->data == NULL || self->data->currency == NULL)
    return;
  draw_bars (cr, width, height, N_MONTHS, self->data->collected, (const char * const *) self->data->month,
             format_money, self->data->currency, &color);
}

static void
cei_draw_cb (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        user_data)
{
  RecoupDashboardPage *self = user_data;
  GdkRGBA color = { 0.55f, 0.35f, 0.70f, 1 };
  gint64 shown[N_MONTHS];

  if (self->data == NULL || self->data->currency == NULL)
    return;
  for (guint i = 0; i < N_MONTHS; i++)
    shown[i] = self->data->cei_bp[i] == RECOUP_KPI_NA ? 0 : self->data->cei_bp[i];
  draw_bars (cr, width, height, N_MONTHS, shown, (const char * const *) self->data->month,
             format_bp, NULL, &color);
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

static void
show_data (RecoupDashboardPage *self)
{
  DashData *d = self->data;
  RecoupKpis *k = NULL;
  GtkWidget *child;
  g_autofree char *period = NULL;

  while ((child = gtk_widget_get_first_child (self->tiles)) != NULL)
    gtk_flow_box_remove (GTK_FLOW_BOX (self->tiles), child);
  for (guint i = 0; i < d->kpis->len; i++)
    if (g_strcmp0 (((RecoupKpis *) g_ptr_array_index (d->kpis, i))->currency, d->currency) == 0)
      k = g_ptr_array_index (d->kpis, i);

  period = g_strdup_printf ("%s to %s%s%s", d->from, d->to, d->currency ? " · amounts in " : "",
                            d->currency ? d->currency : "");
  gtk_label_set_text (GTK_LABEL (self->period_label), period);
  if (k == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->status_label), "Nothing to show yet: the book has no ledger entries.");
      gtk_widget_set_visible (self->status_label, TRUE);
      return;
    }
  gtk_widget_set_visible (self->status_label, FALSE);

  {
    g_autofree char *ar = recoup_money_format (k->ar_end, k->currency, RECOUP_MONEY_FORMAT_GROUPING);
    g_autofree char *collected = recoup_money_format (k->collected, k->currency, RECOUP_MONEY_FORMAT_GROUPING);
    g_autofree char *dso = recoup_kpi_format_x100 (k->dso_x100);
    g_autofree char *cb = recoup_kpi_format_x100 (k->countback_dso_x100);
    g_autofree char *best = recoup_kpi_format_x100 (k->best_dso_x100);
    g_autofree char *add = recoup_kpi_format_x100 (k->add_x100);
    g_autofree char *cei = recoup_kpi_format_bp (k->cei_bp);
    g_autofree char *rec = recoup_kpi_format_bp (k->recovery_bp);
    g_autofree char *pk = recoup_kpi_format_bp (k->promise_kept_bp);
    g_autofree char *ctc = recoup_kpi_format_bp (k->cost_to_collect_bp);
    g_autofree char *cr = recoup_kpi_format_bp (k->contact_rate_bp);
    g_autofree char *rpc = recoup_kpi_format_bp (k->rpc_rate_bp);

    add_tile (self, "Receivables", ar, "The ledger total at the end of the period");
    add_tile (self, "Collected", collected, "Payments less their reversals, dated in the period");
    add_tile (self, "DSO (days)", dso, "Receivables × days ÷ billed in the period");
    add_tile (self, "Countback DSO", cb, "Days of the latest billing the receivables cover, month by month");
    add_tile (self, "Best possible DSO", best, "Receivables not yet due × days ÷ billed");
    add_tile (self, "Avg days delinquent", add, "DSO − best possible DSO");
    add_tile (self, "CEI", cei, "Collection effectiveness index (Credit Research Foundation)");
    add_tile (self, "Recovery rate", rec, "Recovered ÷ placed, accounts placed in the period");
    add_tile (self, "Promise-kept rate", pk, "Promises due in the period that were kept");
    add_tile (self, "Cost-to-collect", ctc, "Collection costs ÷ collected (costs: recoup-cli kpi cost)");
    add_tile (self, "Contact rate", cr, "Calls and visits that reached someone");
    add_tile (self, "Right-party contacts", rpc, "Calls and visits that reached the debtor");
  }
  gtk_widget_queue_draw (self->aging_area);
  gtk_widget_queue_draw (self->collected_area);
  gtk_widget_queue_draw (self->cei_area);
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
          g_autofree char *text = g_strdup_printf ("Could not compute the dashboard: %s", error->message);

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
  /* The worker fills load->data; the page shows it only once it is complete. */
  recoup_session_run_async (self->session, load_dashboard, load->data, NULL, self->cancellable,
                            load_done_cb, load);
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
  G_OBJECT_CLASS (recoup_dashboard_page_parent_class)->dispose (object);
}

static void
recoup_dashboard_page_finalize (GObject *object)
{
  RecoupDashboardPage *self = RECOUP_DASHBOARD_PAGE (object);

  g_clear_pointer (&self->data, dash_data_free);
  G_OBJECT_CLASS (recoup_dashboard_page_parent_class)->finalize (object);
}

static void
recoup_dashboard_page_class_init (RecoupDashboardPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = recoup_dashboard_page_dispose;
  object_class->finalize = recoup_dashboard_page_finalize;
}

static void
recoup_dashboard_page_init (RecoupDashboardPage *self)
{
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *title = gtk_label_new ("This month");
  GtkWidget *refresh = gtk_button_new_from_icon_name ("view-refresh-symbolic");
  GtkWidget *charts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_widget_add_css_class (title, "title-1");
  gtk_widget_set_tooltip_text (refresh, "Recompute");
  g_signal_connect (refresh, "clicked", G_CALLBACK (refresh_clicked_cb), self);
  self->period_label = gtk_label_new ("");
  gtk_widget_add_css_class (self->period_label, "dim-label");
  gtk_widget_set_hexpand (self->period_label, TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->period_label), 0);
  gtk_box_append (GTK_BOX (header), title);
  gtk_box_append (GTK_BOX (header), self->period_label);
  gtk_box_append (GTK_BOX (header), refresh);

  self->status_label = gtk_label_new ("");
  gtk_widget_set_visible (self->status_label, FALSE);
  self->tiles = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (self->tiles), GTK_SELECTION_NONE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (self->tiles), 6);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (self->tiles), 12);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (self->tiles), 12);

  gtk_box_append (GTK_BOX (charts), chart (self, "Aging of the book", aging_draw_cb, &self->aging_area));
  gtk_box_append (GTK_BOX (charts), chart (self, "Collected per month", collected_draw_cb, &self->collected_area));
  gtk_box_append (GTK_BOX (charts), chart (self, "CEI per month", cei_draw_cb, &self->cei_area));

  gtk_widget_set_margin_start (content, 24);
  gtk_widget_set_margin_end (content, 24);
  gtk_widget_set_margin_top (content, 18);
  gtk_widget_set_margin_bottom (content, 24);
  gtk_box_append (GTK_BOX (content), header);
  gtk_box_append (GTK_BOX (content), self->status_label);
  gtk_box_append (GTK_BOX (content), self->tiles);
  gtk_box_append (GTK_BOX (content), charts);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), content);
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_box_append (GTK_BOX (self), scroller);
}

GtkWidget *
recoup_dashboard_page_new (RecoupSession *session)
{
  RecoupDashboardPage *self = g_object_new (RECOUP_TYPE_DASHBOARD_PAGE, NULL);

  self->session = session;
  recoup_dashboard_page_reload (self);
  return GTK_WIDGET (self);
}
