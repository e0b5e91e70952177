/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-report"

#include "config.h"

#include <string.h>

#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include "recoup-date.h"
#include "recoup-money.h"
#include "recoup-report-private.h"

typedef struct
{
  double r, g, b;
} Rgb;

static const Rgb ink = { 0.13, 0.15, 0.18 };
static const Rgb muted = { 0.42, 0.45, 0.50 };
static const Rgb accent = { 0.11, 0.31, 0.47 };
static const Rgb fill = { 0.93, 0.95, 0.97 };
static const Rgb stripe = { 0.97, 0.975, 0.98 };
static const Rgb white = { 1, 1, 1 };
static const Rgb rule = { 0.80, 0.83, 0.87 };

#define FONT_BODY    "Sans 9"
#define FONT_BOLD    "Sans Bold 9"
#define FONT_SMALL   "Sans 7.5"
#define FONT_LABEL   "Sans Bold 6.5"
#define FONT_SECTION "Sans Bold 12"
#define FONT_NAME    "Sans Bold 18"
#define FONT_TITLE   "Sans Bold 24"
#define FONT_DUE     "Sans Bold 20"

#define ROW_PAD 3.5

struct _RecoupPdf
{
  cairo_surface_t          *surface;
  cairo_t                  *cr;
  PangoLayout              *layout;
  GHashTable               *fonts;      /* description text -> PangoFontDescription */
  GHashTable               *layouts;    /* see get_layout () */
  const RecoupBusinessInfo *business;
  cairo_surface_t          *logo;
  double                    width, height, margin;
  double                    y;
  double                    bottom;     /* where the footer starts */
  guint                     page;       /* within the current document (statement or report) */
  gboolean                  page_open;  /* something drawn on the current page */
  char                     *footer;
  char                     *continued;  /* heading of continuation pages */

  const char               *body;       /* table text: smaller on landscape reports */
  const char               *bold;

  /* the table being drawn */
  const RecoupPdfColumn    *columns;
  guint                     n_columns;
  guint                     row_index;
};

static cairo_status_t
write_to_file (void                *closure,
               const unsigned char *data,
               unsigned int         length)
{
  return fwrite (data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* Starts a new PDF document on @fp, keeping the laid-out text: a batch of
 * one file per account shapes its repeated text once. */
void
recoup_pdf_restart (RecoupPdf *p,
                    FILE      *fp)
{
  g_clear_pointer (&p->cr, cairo_destroy);
  g_clear_pointer (&p->surface, cairo_surface_destroy);
  p->page_open = FALSE;
  p->surface = cairo_pdf_surface_create_for_stream (write_to_file, fp, p->width, p->height);
  cairo_pdf_surface_set_metadata (p->surface, CAIRO_PDF_METADATA_CREATOR, "Recoup " PACKAGE_VERSION);
  if (p->business != NULL && p->business->name != NULL)
    cairo_pdf_surface_set_metadata (p->surface, CAIRO_PDF_METADATA_AUTHOR, p->business->name);
  p->cr = cairo_create (p->surface);
}

RecoupPdf *
recoup_pdf_new (FILE                     *fp,
                RecoupPaper               paper,
                gboolean                  landscape,
                const RecoupBusinessInfo *business)
{
  RecoupPdf *p = g_new0 (RecoupPdf, 1);
  double w = paper == RECOUP_PAPER_LETTER ? 612 : 595.28;
  double h = paper == RECOUP_PAPER_LETTER ? 792 : 841.89;

  p->width = landscape ? h : w;
  p->height = landscape ? w : h;
  p->margin = 42;
  p->bottom = p->height - p->margin - 14;
  p->business = business;
  p->body = landscape ? "Sans 8" : FONT_BODY;
  p->bold = landscape ? "Sans Bold 8" : FONT_BOLD;
  recoup_pdf_restart (p, fp);
  p->layout = pango_cairo_create_layout (p->cr);
  /* Font sizes are PDF points: one point per user unit, not 96 dpi. */
  pango_cairo_context_set_resolution (pango_layout_get_context (p->layout), 72);
  pango_layout_set_wrap (p->layout, PANGO_WRAP_WORD_CHAR);
  p->layouts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  p->fonts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                    (GDestroyNotify) pango_font_description_free);
  if (business != NULL && business->logo_path != NULL)
    {
      cairo_surface_t *logo = cairo_image_surface_create_from_png (business->logo_path);

      if (cairo_surface_status (logo) == CAIRO_STATUS_SUCCESS)
        p->logo = logo;
      else
        {
          g_message ("cannot read the logo “%s” (business.logo_path must be a PNG): %s",
                          business->logo_path, cairo_status_to_string (cairo_surface_status (logo)));
          cairo_surface_destroy (logo);
        }
    }
  return p;
}

/* ---- Drawing helpers -------------------------------------------------------- */

static void
set_color (RecoupPdf *p,
           Rgb        c)
{
  cairo_set_source_rgb (p->cr, c.r, c.g, c.b);
}

/* Shaping text is most of the cost of a statement, and statements repeat
 * most of their text (labels, headers, amounts): laid-out text is kept, keyed
 * by font, width, alignment and text, and reused (the cache is emptied when it
 * grows past LAYOUT_CACHE_MAX entries). */
#define LAYOUT_CACHE_MAX 8192

static PangoLayout *
get_layout (RecoupPdf      *p,
            const char     *font,
            const char     *s,
            double          width,
            PangoAlignment  align)
{
  int w = width > 0 ? (int) (width * PANGO_SCALE) : -1;
  g_autofree char *key = g_strdup_printf ("%s\x1f%d\x1f%d\x1f%s", font, w, (int) align, s ? s : "");
  PangoLayout *layout = g_hash_table_lookup (p->layouts, key);
  PangoFontDescription *desc;

  if (layout != NULL)
    return layout;
  if (g_hash_table_size (p->layouts) >= LAYOUT_CACHE_MAX)
    g_hash_table_remove_all (p->layouts);
  desc = g_hash_table_lookup (p->fonts, font);
  if (desc == NULL)
    {
      desc = pango_font_description_from_string (font);
      g_hash_table_insert (p->fonts, (gpointer) font, desc);
    }
  layout = pango_layout_new (pango_layout_get_context (p->layout));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_font_description (layout, desc);
  pango_layout_set_width (layout, w);
  pango_layout_set_alignment (layout, align);
  pango_layout_set_text (layout, s ? s : "", -1);
  g_hash_table_insert (p->layouts, g_steal_pointer (&key), layout);
  return layout;
}

static double
layout_height (PangoLayout *layout)
{
  int w, h;

  pango_layout_get_size (layout, &w, &h);
  return (double) h / PANGO_SCALE;
}

static double
measure (RecoupPdf      *p,
         const char     *font,
         const char     *s,
         double          width)
{
  return layout_height (get_layout (p, font, s, width, PANGO_ALIGN_LEFT));
}

/* Draws text at (x, y) within @width (0: no wrapping); returns its height. */
static double
text (RecoupPdf      *p,
      const char     *font,
      const char     *s,
      double          x,
      double          y,
      double          width,
      PangoAlignment  align,
      Rgb             color)
{
  PangoLayout *layout;

  /* Numbers (right-aligned) are never wrapped: they may run into the padding,
   * never onto a second line. */
  if (align == PANGO_ALIGN_RIGHT && width > 0)
    {
      int lw, lh;

      layout = get_layout (p, font, s, 0, PANGO_ALIGN_LEFT);
      pango_layout_get_size (layout, &lw, &lh);
      x += width - (double) lw / PANGO_SCALE;
    }
  else
    layout = get_layout (p, font, s, width, align);
  set_color (p, color);
  cairo_move_to (p->cr, x, y);
  pango_cairo_show_layout (p->cr, layout);
  p->page_open = TRUE;
  return layout_height (layout);
}

static void
box (RecoupPdf *p,
     double     x,
     double     y,
     double     w,
     double     h,
     Rgb        color)
{
  set_color (p, color);
  cairo_rectangle (p->cr, x, y, w, h);
  cairo_fill (p->cr);
}

static void
hline (RecoupPdf *p,
       double     x0,
       double     x1,
       double     y,
       double     width,
       Rgb        color)
{
  set_color (p, color);
  cairo_set_line_width (p->cr, width);
  cairo_move_to (p->cr, x0, y);
  cairo_line_to (p->cr, x1, y);
  cairo_stroke (p->cr);
}

static double
text_width (RecoupPdf *p)
{
  return p->width - 2 * p->margin;
}

static void
draw_footer (RecoupPdf *p)
{
  g_autofree char *line = g_strdup_printf ("%s · page %u", p->footer ? p->footer : "", p->page);

  hline (p, p->margin, p->width - p->margin, p->bottom + 4, 0.5, rule);
  text (p, FONT_SMALL, line, p->margin, p->bottom + 7, text_width (p), PANGO_ALIGN_CENTER, muted);
}

static void
end_page (RecoupPdf *p)
{
  if (!p->page_open)
    return;
  draw_footer (p);
  cairo_show_page (p->cr);
  p->page_open = FALSE;
}

static void draw_table_header (RecoupPdf *p);

/* Starts a continuation page when @needed points do not fit. */
static void
ensure_room (RecoupPdf *p,
             double     needed,
             gboolean   in_table)
{
  if (p->y + needed <= p->bottom)
    return;
  end_page (p);
  p->page++;
  p->y = p->margin;
  if (p->continued != NULL)
    {
      p->y += text (p, FONT_BOLD, p->continued, p->margin, p->y, text_width (p), PANGO_ALIGN_LEFT, muted);
      p->y += 10;
    }
  if (in_table)
    draw_table_header (p);
}

/* ---- Tables ----------------------------------------------------------------- */

static void
begin_table (RecoupPdf             *p,
             const RecoupPdfColumn *columns,
             guint                  n_columns)
{
  p->columns = columns;
  p->n_columns = n_columns;
  p->row_index = 0;
}

/* A text column after a number column keeps its distance. */
static double
cell_indent (RecoupPdf *p,
             guint      c)
{
  return c > 0 && !p->columns[c].right && p->columns[c - 1].right ? 9 : 0;
}

static void
draw_table_header (RecoupPdf *p)
{
  double x = p->margin, tw = text_width (p), h = 0;

  for (guint c = 0; c < p->n_columns; c++)
    {
      double w = p->columns[c].width * tw;

      if (w > 0)
        {
          g_autofree char *up = g_utf8_strup (p->columns[c].header, -1);

          h = MAX (h, text (p, FONT_LABEL, up, x + 3 + cell_indent (p, c), p->y + ROW_PAD,
                            w - 6 - cell_indent (p, c),
                            p->columns[c].right ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT, accent));
        }
      x += w;
    }
  p->y += h + 2 * ROW_PAD;
  hline (p, p->margin, p->width - p->margin, p->y, 1.2, accent);
  p->y += 1;
  p->row_index = 0;
}

/* One row; @bold for totals (drawn with a rule above instead of a stripe). */
static void
draw_row (RecoupPdf          *p,
          const char * const *cells,
          gboolean            bold)
{
  const char *font = bold ? p->bold : p->body;
  double tw = text_width (p), h = 0, x;

  for (guint c = 0; c < p->n_columns; c++)
    {
      double w = p->columns[c].width * tw;

      if (w > 0)
        h = MAX (h, layout_height (get_layout (p, c == 0 ? p->body : font, cells[c],
                                               p->columns[c].right ? 0 : w - 6 - cell_indent (p, c),
                                               PANGO_ALIGN_LEFT)));
    }
  h += 2 * ROW_PAD;
  ensure_room (p, h, TRUE);
  if (bold)
    hline (p, p->margin, p->width - p->margin, p->y, 0.8, ink);
  else if (p->row_index % 2 == 1)
    box (p, p->margin, p->y, tw, h, stripe);
  x = p->margin;
  for (guint c = 0; c < p->n_columns; c++)
    {
      double w = p->columns[c].width * tw;

      if (w > 0)
        text (p, c == 0 ? p->body : font, cells[c], x + 3 + cell_indent (p, c), p->y + ROW_PAD,
              w - 6 - cell_indent (p, c),
              p->columns[c].right ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT, ink);
      x += w;
    }
  p->y += h;
  p->row_index++;
}

static void
section (RecoupPdf  *p,
         const char *title,
         double      keep_with)
{
  ensure_room (p, 24 + keep_with, FALSE);
  p->y += 11;
  p->y += text (p, FONT_SECTION, title, p->margin, p->y, 0, PANGO_ALIGN_LEFT, accent);
  p->y += 4;
}

/* ---- Letterhead ------------------------------------------------------------- */

/* The business block at the top left; returns its bottom. */
static double
draw_letterhead (RecoupPdf *p,
                 double     max_width)
{
  const RecoupBusinessInfo *b = p->business;
  double x = p->margin, y = p->margin;
  GString *lines = g_string_new (NULL);

  if (p->logo != NULL)
    {
      double lw = cairo_image_surface_get_width (p->logo);
      double lh = cairo_image_surface_get_height (p->logo);
      double scale = MIN (46.0 / lh, 120.0 / lw);

      cairo_save (p->cr);
      cairo_translate (p->cr, x, y);
      cairo_scale (p->cr, scale, scale);
      cairo_set_source_surface (p->cr, p->logo, 0, 0);
      cairo_paint (p->cr);
      cairo_restore (p->cr);
      x += lw * scale + 12;
      max_width -= lw * scale + 12;
    }
  y += text (p, FONT_NAME, b && b->name ? b->name : "Recoup", x, y, max_width, PANGO_ALIGN_LEFT, ink);
  y += 3;
  if (b != NULL)
    {
      if (b->address)
        g_string_append_printf (lines, "%s\n", b->address);
      if (b->phone)
        g_string_append_printf (lines, "%s\n", b->phone);
      if (b->email)
        g_string_append_printf (lines, "%s\n", b->email);
    }
  if (lines->len > 0)
    {
      g_string_truncate (lines, lines->len - 1);
      y += text (p, FONT_SMALL, lines->str, x, y, max_width, PANGO_ALIGN_LEFT, muted);
    }
  g_string_free (lines, TRUE);
  return MAX (y, p->margin + (p->logo ? 46 : 0));
}

/* ---- Statements ------------------------------------------------------------- */

static const RecoupPdfColumn statement_columns[] = {
  { "Date", 0.13, FALSE },
  { "Description", 0.35, FALSE },
  { "Reference", 0.16, FALSE },
  { "Charges", 0.12, TRUE },
  { "Credits", 0.12, TRUE },
  { "Balance", 0.12, TRUE },
};

static const RecoupPdfColumn plan_columns[] = {
  { "#", 0.08, FALSE },
  { "Due date", 0.22, FALSE },
  { "Amount", 0.22, TRUE },
  { "Paid so far", 0.22, TRUE },
  { "Status", 0.26, FALSE },
};

static char *
money (gint64      minor,
       const char *currency)
{
  return recoup_money_format (minor, currency, RECOUP_MONEY_FORMAT_GROUPING);
}

static char *
long_date (const char *date)
{
  static const char * const months[] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
  };
  int y, m, d;

  if (date == NULL || sscanf (date, "%d-%d-%d", &y, &m, &d) != 3 || m < 1 || m > 12)
    return g_strdup (date ? date : "");
  return g_strdup_printf ("%d %s %d", d, months[m - 1], y);
}

static char *
short_date (const char *date)
{
  static const char * const months[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
  };
  int y, m, d;

  if (date == NULL || sscanf (date, "%d-%d-%d", &y, &m, &d) != 3 || m < 1 || m > 12)
    return g_strdup (date ? date : "");
  return g_strdup_printf ("%d %s %d", d, months[m - 1], y);
}

static void
summary_cell (RecoupPdf  *p,
              double      x,
              double      y,
              double      w,
              const char *label,
              const char *value,
              gboolean    strong)
{
  g_autofree char *up = g_utf8_strup (label, -1);

  text (p, FONT_LABEL, up, x + 8, y + 7, w - 16, PANGO_ALIGN_LEFT, muted);
  text (p, strong ? "Sans Bold 12" : "Sans 12", value, x + 8, y + 19, w - 16, PANGO_ALIGN_LEFT, ink);
}

static void
statement_first_page (RecoupPdf             *p,
                      const RecoupStatement *st)
{
  double tw = text_width (p), right_w = 250, right_x = p->width - p->margin - right_w;
  double left_bottom, y, x;
  g_autofree char *closing = money (st->closing, st->currency);
  g_autofree char *to_long = long_date (st->to);
  g_autofree char *from_long = long_date (st->from);
  g_autofree char *from_short = short_date (st->from);
  g_autofree char *to_short = short_date (st->to);
  g_autofree char *period = g_strdup_printf ("%s – %s", from_short, to_short);
  g_autofree char *opening = money (st->opening, st->currency);
  g_autofree char *debits = money (st->debits, st->currency);
  g_autofree char *credits = money (-st->credits, st->currency);
  GString *bill = g_string_new (NULL);
  const char *meta_labels[] = { "Statement date", "Account", "Period" };
  const char *meta_values[] = { to_long, st->account_ref, period };
  double cell_w;

  /* Letterhead left, title and reference block right. */
  left_bottom = draw_letterhead (p, tw - right_w - 16);
  y = p->margin - 4;
  y += text (p, FONT_TITLE, "STATEMENT", right_x, y, right_w, PANGO_ALIGN_RIGHT, accent);
  y += 4;
  for (guint i = 0; i < G_N_ELEMENTS (meta_labels); i++)
    {
      double h = text (p, FONT_SMALL, meta_labels[i], right_x, y, 72, PANGO_ALIGN_LEFT, muted);

      h = MAX (h, text (p, FONT_BOLD, meta_values[i], right_x + 72, y, right_w - 72, PANGO_ALIGN_RIGHT, ink));
      y += h + 1;
    }
  p->y = MAX (left_bottom, y) + 12;
  hline (p, p->margin, p->width - p->margin, p->y, 1.5, accent);
  p->y += 14;

  /* Bill to, and the amount due. */
  y = p->y;
  text (p, FONT_LABEL, "BILL TO", p->margin, y, 0, PANGO_ALIGN_LEFT, muted);
  y += 11;
  y += text (p, "Sans Bold 12", st->account_name, p->margin, y, tw - right_w - 24, PANGO_ALIGN_LEFT, ink);
  if (st->address)
    g_string_append_printf (bill, "%s\n", st->address);
  if (st->email)
    g_string_append_printf (bill, "%s\n", st->email);
  g_string_append_printf (bill, "Account %s", st->account_ref);
  y += 2;
  y += text (p, FONT_BODY, bill->str, p->margin, y, tw - right_w - 24, PANGO_ALIGN_LEFT, ink);
  g_string_free (bill, TRUE);

  box (p, right_x, p->y, right_w, 62, accent);
  text (p, FONT_LABEL, st->closing > 0 ? "AMOUNT DUE" : st->closing < 0 ? "CREDIT BALANCE" : "BALANCE",
        right_x + 12, p->y + 9, right_w - 24, PANGO_ALIGN_LEFT, white);
  {
    g_autofree char *shown = money (st->closing < 0 ? -st->closing : st->closing, st->currency);
    g_autofree char *due = g_strdup_printf ("%s %s", st->currency, shown);
    g_autofree char *asof = g_strdup_printf ("as of %s", to_long);

    text (p, FONT_DUE, due, right_x + 12, p->y + 20, right_w - 24, PANGO_ALIGN_LEFT, white);
    text (p, FONT_SMALL, asof, right_x + 12, p->y + 44, right_w - 24, PANGO_ALIGN_LEFT, white);
  }
  p->y = MAX (y, p->y + 62) + 16;

  /* Summary. */
  box (p, p->margin, p->y, tw, 40, fill);
  cell_w = tw / 4;
  x = p->margin;
  summary_cell (p, x, p->y, cell_w, "Opening balance", opening, FALSE);
  summary_cell (p, x + cell_w, p->y, cell_w, "Charges", debits, FALSE);
  summary_cell (p, x + 2 * cell_w, p->y, cell_w, "Credits", credits, FALSE);
  summary_cell (p, x + 3 * cell_w, p->y, cell_w, "Closing balance", closing, TRUE);
  p->y += 40;
}

void
recoup_pdf_statement (RecoupPdf             *p,
                      const RecoupStatement *st)
{
  g_autofree char *opening = money (st->opening, st->currency);
  g_autofree char *closing = money (st->closing, st->currency);
  double tw = text_width (p);

  end_page (p);
  p->page = 1;
  p->y = p->margin;
  g_free (p->footer);
  p->footer = g_strdup_printf ("%s · statement for %s, %s to %s",
                               p->business && p->business->name ? p->business->name : "Recoup",
                               st->account_ref, st->from, st->to);
  g_free (p->continued);
  p->continued = g_strdup_printf ("Statement for %s (%s), %s to %s — continued",
                                  st->account_name, st->account_ref, st->from, st->to);

  statement_first_page (p, st);

  /* Aging. */
  {
    double cw = (tw - 70) / (RECOUP_AGING_N_BUCKETS + 1);
    static const char * const labels[] = {
      "Current", "1–30", "31–60", "61–90", "91–180", "Over 180",
    };

    p->y += 6;
    box (p, p->margin, p->y, tw, 36, fill);
    text (p, FONT_LABEL, "AGING", p->margin + 8, p->y + 6, 0, PANGO_ALIGN_LEFT, accent);
    for (guint b = 0; b <= RECOUP_AGING_N_BUCKETS; b++)
      {
        gint64 v = b < RECOUP_AGING_N_BUCKETS ? st->aging.buckets[b] : st->aging.total;
        g_autofree char *s = money (v, st->currency);
        g_autofree char *up = g_utf8_strup (b < RECOUP_AGING_N_BUCKETS ? labels[b] : "Total", -1);

        text (p, FONT_LABEL, up, p->margin + 70 + b * cw + 6, p->y + 6, cw - 12, PANGO_ALIGN_RIGHT, muted);
        text (p, b == RECOUP_AGING_N_BUCKETS ? FONT_BOLD : FONT_BODY, s,
              p->margin + 70 + b * cw + 6, p->y + 19, cw - 12, PANGO_ALIGN_RIGHT,
              b >= RECOUP_AGING_31_60 && b < RECOUP_AGING_N_BUCKETS && v > 0 ? (Rgb) { 0.62, 0.16, 0.12 } : ink);
      }
    p->y += 36;
    if (st->aging.credit != 0)
      {
        g_autofree char *c = money (-st->aging.credit, st->currency);
        g_autofree char *note = g_strdup_printf ("Includes an unapplied credit of %s %s.", st->currency, c);

        p->y += 4;
        p->y += text (p, FONT_SMALL, note, p->margin, p->y, tw, PANGO_ALIGN_LEFT, muted);
      }
  }

  /* How to pay. */
  {
    const RecoupBusinessInfo *b = p->business;
    g_autofree char *fallback = g_strdup_printf (
      "Please pay the amount due and quote your account number %s with your payment.", st->account_ref);
    g_autofree char *quote = g_strdup_printf ("Quote your account number %s with every payment.", st->account_ref);
    GString *how = g_string_new (b && b->payment_instructions ? b->payment_instructions : fallback);
    double h;

    if (b && b->payment_instructions)
      g_string_append_printf (how, "\n%s", quote);
    if (b && (b->phone || b->email))
      g_string_append_printf (how, "\nQuestions about this statement? Contact us%s%s%s%s.",
                              b->phone ? " on " : "", b->phone ? b->phone : "",
                              b->email ? " or at " : "", b->email ? b->email : "");
    h = measure (p, FONT_BODY, how->str, tw - 24) + 20;
    section (p, "How to pay", h);
    box (p, p->margin, p->y, 3, h, accent);
    box (p, p->margin + 3, p->y, tw - 3, h, fill);
    text (p, FONT_BODY, how->str, p->margin + 14, p->y + 10, tw - 24, PANGO_ALIGN_LEFT, ink);
    p->y += h;
    g_string_free (how, TRUE);
  }

  /* Activity. */
  {
    g_autofree char *title = g_strdup_printf ("Account activity (amounts in %s)", st->currency);

    section (p, title, 40);
  }
  begin_table (p, statement_columns, G_N_ELEMENTS (statement_columns));
  draw_table_header (p);
  {
    const char *row[] = { st->from, "Opening balance", "", "", "", opening };

    draw_row (p, row, FALSE);
  }
  for (guint i = 0; i < st->lines->len; i++)
    {
      RecoupStatementLine *l = g_ptr_array_index (st->lines, i);
      g_autofree char *debit = l->amount > 0 ? money (l->amount, st->currency) : g_strdup ("");
      g_autofree char *credit = l->amount < 0 ? money (-l->amount, st->currency) : g_strdup ("");
      g_autofree char *balance = money (l->balance, st->currency);
      const char *row[] = { l->date, l->description, l->reference ? l->reference : "", debit, credit, balance };

      draw_row (p, row, FALSE);
    }
  if (st->lines->len == 0)
    {
      const char *row[] = { "", "No activity in this period", "", "", "", "" };

      draw_row (p, row, FALSE);
    }
  {
    const char *row[] = { st->to, "Closing balance", "", "", "", closing };

    draw_row (p, row, TRUE);
  }

  /* Payment plan. */
  if (st->plan_id != NULL)
    {
      g_autofree char *total = money (st->plan_total, st->currency);
      g_autofree char *paid = money (st->plan_paid, st->currency);
      g_autofree char *summary = g_strdup_printf ("Agreed plan of %s %s (%s); paid so far %s %s.",
                                                  st->currency, total, st->plan_state, st->currency, paid);

      section (p, "Your payment plan", 50);
      p->y += text (p, FONT_BODY, summary, p->margin, p->y, tw, PANGO_ALIGN_LEFT, ink);
      p->y += 4;
      if (st->plan_remaining->len > 0)
        {
          begin_table (p, plan_columns, G_N_ELEMENTS (plan_columns));
          draw_table_header (p);
          for (guint i = 0; i < st->plan_remaining->len; i++)
            {
              RecoupStatementInstallment *si = g_ptr_array_index (st->plan_remaining, i);
              g_autofree char *seq = g_strdup_printf ("%u", si->seq);
              g_autofree char *amount = money (si->amount, st->currency);
              g_autofree char *sp = money (si->paid, st->currency);
              const char *row[] = { seq, si->due_date, amount, sp, si->status };

              draw_row (p, row, FALSE);
            }
        }
    }

  end_page (p);
}

/* ---- Tabular reports -------------------------------------------------------- */

void
recoup_pdf_table_report (RecoupPdf             *p,
                         const char            *title,
                         const char            *subtitle,
                         const RecoupPdfColumn *columns,
                         guint                  n_columns,
                         GPtrArray             *rows,
                         char                 **totals)
{
  if (title != NULL)
    {
      g_autofree char *today = recoup_date_format (recoup_date_today_utc ());
      g_autofree char *generated = g_strdup_printf ("%s · produced %s", subtitle ? subtitle : "", today);
      double tw = text_width (p), y;

      end_page (p);
      p->page = 1;
      p->y = p->margin;
      g_free (p->footer);
      p->footer = g_strdup_printf ("%s · %s", p->business && p->business->name ? p->business->name : "Recoup",
                                   title);
      g_free (p->continued);
      p->continued = g_strdup_printf ("%s — %s — continued", title, subtitle ? subtitle : "");
      y = draw_letterhead (p, tw / 2);
      text (p, FONT_TITLE, title, p->width / 2, p->margin - 4, tw / 2, PANGO_ALIGN_RIGHT, accent);
      text (p, FONT_BODY, generated, p->width / 2, p->margin + 24, tw / 2, PANGO_ALIGN_RIGHT, muted);
      p->y = MAX (y, p->margin + 36) + 10;
      hline (p, p->margin, p->width - p->margin, p->y, 1.5, accent);
      p->y += 12;
      begin_table (p, columns, n_columns);
      draw_table_header (p);
    }
  if (rows != NULL)
    for (guint r = 0; r < rows->len; r++)
      draw_row (p, (const char * const *) g_ptr_array_index (rows, r), FALSE);
  if (rows != NULL && rows->len == 0)
    {
      char **empty = g_new0 (char *, n_columns + 1);

      for (guint c = 0; c < n_columns; c++)
        empty[c] = g_strdup (c == 0 ? "Nothing to report" : "");
      draw_row (p, (const char * const *) empty, FALSE);
      g_strfreev (empty);
    }
  if (totals != NULL)
    draw_row (p, (const char * const *) totals, TRUE);
}

gboolean
recoup_pdf_finish (RecoupPdf  *p,
                   GError    **error)
{
  cairo_status_t status;

  end_page (p);
  cairo_surface_finish (p->surface);
  status = cairo_surface_status (p->surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write the PDF: %s",
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

void
recoup_pdf_free (RecoupPdf *p)
{
  if (p == NULL)
    return;
  g_clear_object (&p->layout);
  g_clear_pointer (&p->cr, cairo_destroy);
  g_clear_pointer (&p->surface, cairo_surface_destroy);
  g_clear_pointer (&p->logo, cairo_surface_destroy);
  g_clear_pointer (&p->layouts, g_hash_table_unref);
  g_clear_pointer (&p->fonts, g_hash_table_unref);
  g_free (p->footer);
  g_free (p->continued);
  g_free (p);
}
