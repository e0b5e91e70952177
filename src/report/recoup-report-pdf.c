/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-report"

#include "config.h"

#include <stdarg.h>
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

  double                    body_size;  /* table text: smaller on landscape reports */

  /* the table being drawn: its columns, their widths in points (fitted to
   * the widest text of each, see fit_table ()) and its fonts */
  const RecoupPdfColumn    *columns;
  guint                     n_columns;
  double                   *widths;
  guint                     row_index;
  char                      body[32];
  char                      bold[32];
  char                      label[32];
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
  p->body_size = landscape ? 8 : 9;
  recoup_pdf_restart (p, fp);
  p->layout = pango_cairo_create_layout (p->cr);
  /* Font sizes are PDF points: one point per user unit, not 96 dpi. */
  pango_cairo_context_set_resolution (pango_layout_get_context (p->layout), 72);
  /* A PDF is not a screen: glyphs go where the font puts them, not rounded to
   * whole points (which spaces small text unevenly, "C REDITS"). */
  pango_context_set_round_glyph_positions (pango_layout_get_context (p->layout), FALSE);
  {
    cairo_font_options_t *options = cairo_font_options_create ();

    cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options (pango_layout_get_context (p->layout), options);
    cairo_font_options_destroy (options);
  }
  pango_layout_set_wrap (p->layout, PANGO_WRAP_WORD_CHAR);
  p->layouts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  p->fonts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
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
      g_hash_table_insert (p->fonts, g_strdup (font), desc);
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

#define CELL_PAD       6.0    /* 3 points either side of a cell's text */
#define TEXT_MIN_SHARE 0.8    /* a text column keeps this much of its share (or its widest text) */
#define TABLE_MIN_SIZE 5.0    /* the smallest table text, in points */
#define ONE_LINE_MAX   0.30   /* a one-line column wraps only texts wider than this much of the table */

/* A font description of @size points, "Sans Bold 7.5" (never "7,5", whatever
 * the locale). */
static void
font_name (char     *buf,
           gsize     len,
           gboolean  bold,
           double    size)
{
  char num[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (num, sizeof num, "%.1f", size);
  g_snprintf (buf, len, "Sans %s%s", bold ? "Bold " : "", num);
}

/* The width of @s on one line. The layout is the one text () draws a
 * right-aligned cell with, so measuring a number before drawing it shapes it
 * once. */
static double
line_width (RecoupPdf  *p,
            const char *font,
            const char *s)
{
  int w, h;

  pango_layout_get_size (get_layout (p, font, s, 0, PANGO_ALIGN_LEFT), &w, &h);
  return (double) w / PANGO_SCALE;
}

/* The widest word of @s: where a wrapped cell cannot break. */
static double
widest_word (RecoupPdf  *p,
             const char *font,
             const char *s)
{
  g_auto(GStrv) words = g_strsplit (s, " ", -1);
  double w = 0;

  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0')
      w = MAX (w, line_width (p, font, words[i]));
  return w;
}

/* The largest size from @size down to @least (half a point at a time) at
 * which each of @texts fits @width on one line, in bold or not. */
static double
fit_size (RecoupPdf          *p,
          gboolean            bold,
          double              size,
          double              least,
          double              width,
          const char * const *texts,
          guint               n_texts)
{
  for (;; size -= 0.5)
    {
      char font[32];
      gboolean fits = TRUE;

      font_name (font, sizeof font, bold, size);
      for (guint i = 0; i < n_texts && fits; i++)
        fits = line_width (p, font, texts[i]) <= width;
      if (fits || size - 0.5 < least)
        return size;
    }
}

/* A text column after a number column keeps its distance. */
static double
cell_indent (RecoupPdf *p,
             guint      c)
{
  return c > 0 && !p->columns[c].right && p->columns[c - 1].right ? 9 : 0;
}

/* The widest text of column @c: of @rows in the body font, of @totals in bold
 * (but for the first column, see draw_row ()). A number column holds few
 * lengths of text (20,000 amounts, a dozen lengths): only the texts within
 * three characters of the longest are measured (a digit is as wide as any
 * other and wider than a separator, so a shorter amount is narrower). A text
 * column wraps where it must, so only its longest texts are measured. */
static double
column_extent (RecoupPdf *p,
               guint      c,
               GPtrArray *rows,
               GPtrArray *totals)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean number = p->columns[c].right;
  glong longest = 0, slack;
  guint measured = 0;
  double w = 0;

  for (guint r = 0; rows != NULL && r < rows->len; r++)
    longest = MAX (longest, g_utf8_strlen (((char **) g_ptr_array_index (rows, r))[c], -1));
  slack = number ? 3 : MAX (2, longest / 8);
  for (guint r = 0; rows != NULL && r < rows->len && (number || measured < 256); r++)
    {
      const char *s = ((char **) g_ptr_array_index (rows, r))[c];

      if (g_utf8_strlen (s, -1) + slack < longest || !g_hash_table_add (seen, (gpointer) s))
        continue;
      w = MAX (w, line_width (p, p->body, s));
      measured++;
    }
  for (guint r = 0; totals != NULL && r < totals->len; r++)
    w = MAX (w, line_width (p, c == 0 ? p->body : p->bold, ((char **) g_ptr_array_index (totals, r))[c]));
  return w;
}

/* Sizes the columns of the table about to be drawn (@rows and @totals: every
 * row it will hold, string vectors). A number column is as wide as its widest
 * text, totals included, so that no amount runs into its neighbour; so is a
 * one-line text column (a receipt number, "card ending 6684": broken over two
 * lines it reads as two references), up to ONE_LINE_MAX of the table. The
 * other text columns share what is left by their shares, wrapping where they
 * must, and room left over beyond every text goes to all columns by their
 * shares. A text column is not squeezed below TEXT_MIN_SHARE of its share
 * (names would take three lines a row): when the numbers and the text columns
 * at that do not fit across the page, the table's text gets smaller, half a
 * point at a time. */
static void
fit_table (RecoupPdf             *p,
           const RecoupPdfColumn *columns,
           guint                  n_columns,
           GPtrArray             *rows,
           GPtrArray             *totals)
{
  g_autofree double *need = g_new0 (double, n_columns);
  g_autofree double *least = g_new0 (double, n_columns);
  double tw = text_width (p), left = tw;

  p->columns = columns;
  p->n_columns = n_columns;
  p->row_index = 0;
  g_free (p->widths);
  p->widths = g_new0 (double, n_columns);

  for (double size = p->body_size;; size -= 0.5)
    {
      double sum_need = 0, sum_least = 0, shares = 0;

      font_name (p->body, sizeof p->body, FALSE, size);
      font_name (p->bold, sizeof p->bold, TRUE, size);
      font_name (p->label, sizeof p->label, TRUE, MIN (6.5, size - 1.5));
      for (guint c = 0; c < n_columns; c++)
        {
          g_autofree char *up = NULL;
          double pad = CELL_PAD + cell_indent (p, c), head;

          need[c] = least[c] = 0;
          if (columns[c].width <= 0)
            continue;
          /* A number column's header is not wrapped either. */
          up = g_utf8_strup (columns[c].header, -1);
          head = pad + (columns[c].right ? line_width (p, p->label, up) : widest_word (p, p->label, up));
          need[c] = MAX (head, pad + column_extent (p, c, rows, totals));
          if (columns[c].right)
            {
              /* At least what it needs; as wide as its share when there is room. */
              least[c] = need[c];
              need[c] = MAX (need[c], columns[c].width * tw);
            }
          else if (columns[c].one_line)
            least[c] = MIN (need[c], MAX (head, ONE_LINE_MAX * tw));
          else
            least[c] = MIN (need[c], MAX (head, TEXT_MIN_SHARE * columns[c].width * tw));
          sum_need += need[c];
          sum_least += least[c];
          shares += columns[c].width;
        }
      if (sum_need <= tw)
        {
          for (guint c = 0; c < n_columns; c++)
            p->widths[c] = need[c] > 0 ? need[c] + (tw - sum_need) * columns[c].width / shares : 0;
          return;
        }
      if (sum_least <= tw || size - 0.5 < TABLE_MIN_SIZE)
        break;
    }

  /* Each column starts at its least and grows by its share, none beyond its
   * widest text (a number column: beyond its share). */
  for (guint c = 0; c < n_columns; c++)
    {
      p->widths[c] = least[c];
      left -= least[c];
    }
  while (left > 0.01)
    {
      double shares = 0, given = 0;

      for (guint c = 0; c < n_columns; c++)
        if (p->widths[c] < need[c])
          shares += columns[c].width;
      if (shares <= 0)
        break;
      for (guint c = 0; c < n_columns; c++)
        if (p->widths[c] < need[c])
          {
            double add = MIN (left * columns[c].width / shares, need[c] - p->widths[c]);

            p->widths[c] += add;
            given += add;
          }
      left -= given;
    }
}

static void
draw_table_header (RecoupPdf *p)
{
  double x = p->margin, h = 0;

  for (guint c = 0; c < p->n_columns; c++)
    {
      double w = p->widths[c];

      if (w > 0)
        {
          g_autofree char *up = g_utf8_strup (p->columns[c].header, -1);

          h = MAX (h, text (p, p->label, up, x + 3 + cell_indent (p, c), p->y + ROW_PAD,
                            w - CELL_PAD - cell_indent (p, c),
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
      double w = p->widths[c];

      if (w > 0)
        h = MAX (h, layout_height (get_layout (p, c == 0 ? p->body : font, cells[c],
                                               p->columns[c].right ? 0 : w - CELL_PAD - cell_indent (p, c),
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
      double w = p->widths[c];

      if (w > 0)
        text (p, c == 0 ? p->body : font, cells[c], x + 3 + cell_indent (p, c), p->y + ROW_PAD,
              w - CELL_PAD - cell_indent (p, c),
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

/* The description wraps by word; the reference (a receipt number, "card
 * ending 6684") stays on one line. */
static const RecoupPdfColumn statement_columns[] = {
  { "Date", 0.13, FALSE },
  { "Description", 0.33, FALSE },
  { "Reference", 0.18, FALSE, TRUE },
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

/* An amount with its currency, as everywhere in Recoup: "USD -129.00". */
static char *
money_code (gint64      minor,
            const char *currency)
{
  return recoup_money_format (minor, currency, RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
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

/* A table row of @n texts (NULL: empty), a string vector. */
static char **
row_new (guint n,
         ...)
{
  char **row = g_new0 (char *, n + 1);
  va_list args;

  va_start (args, n);
  for (guint i = 0; i < n; i++)
    {
      const char *s = va_arg (args, const char *);

      row[i] = g_strdup (s ? s : "");
    }
  va_end (args);
  return row;
}

static void
summary_cell (RecoupPdf  *p,
              double      x,
              double      y,
              double      w,
              const char *label,
              const char *value,
              gboolean    strong,
              double      size)
{
  g_autofree char *up = g_utf8_strup (label, -1);
  char font[32];

  font_name (font, sizeof font, strong, size);
  text (p, FONT_LABEL, up, x + 8, y + 7, w - 16, PANGO_ALIGN_LEFT, muted);
  text (p, font, value, x + 8, y + 19 + (12 - size) / 2, w - 16, PANGO_ALIGN_LEFT, ink);
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
    /* The label says whether it is due or a credit: the amount is shown positive. */
    g_autofree char *due = money_code (st->closing < 0 ? -st->closing : st->closing, st->currency);
    g_autofree char *asof = g_strdup_printf ("as of %s", to_long);
    const char *texts[] = { due };
    double size = fit_size (p, TRUE, 20, 9, right_w - 24, texts, 1);
    char font[32];

    font_name (font, sizeof font, TRUE, size);
    text (p, font, due, right_x + 12, p->y + 20 + (20 - size) / 2, right_w - 24, PANGO_ALIGN_LEFT, white);
    text (p, FONT_SMALL, asof, right_x + 12, p->y + 44, right_w - 24, PANGO_ALIGN_LEFT, white);
  }
  p->y = MAX (y, p->y + 62) + 16;

  /* Summary. */
  box (p, p->margin, p->y, tw, 40, fill);
  cell_w = tw / 4;
  x = p->margin;
  {
    /* One size for the four amounts, the largest at which each fits its cell. */
    const char *values[] = { opening, debits, credits, closing };
    double size = fit_size (p, TRUE, 12, 6, cell_w - 16, values, G_N_ELEMENTS (values));

    summary_cell (p, x, p->y, cell_w, "Opening balance", opening, FALSE, size);
    summary_cell (p, x + cell_w, p->y, cell_w, "Charges", debits, FALSE, size);
    summary_cell (p, x + 2 * cell_w, p->y, cell_w, "Credits", credits, FALSE, size);
    summary_cell (p, x + 3 * cell_w, p->y, cell_w, "Closing balance", closing, TRUE, size);
  }
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

  /* Aging: the buckets, the unapplied credit when there is one, and their sum,
   * the balance. */
  {
    gboolean credit = st->aging.credit != 0;
    guint n = RECOUP_AGING_N_BUCKETS + (credit ? 2 : 1);
    double room = tw - 70, x = p->margin + 70, size, sum = 0;
    g_autofree double *widths = g_new0 (double, n);
    char body[32], bold[32];
    g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
    g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);

    for (guint b = 0; b < RECOUP_AGING_N_BUCKETS; b++)
      {
        g_ptr_array_add (values, money (st->aging.buckets[b], st->currency));
        g_ptr_array_add (labels, recoup_report_bucket_title (b));
      }
    if (credit)
      {
        g_ptr_array_add (values, money (st->aging.credit, st->currency));
        g_ptr_array_add (labels, g_strdup ("Credits"));
      }
    g_ptr_array_add (values, money (st->aging.total, st->currency));
    g_ptr_array_add (labels, g_strdup ("Total"));
    /* Each cell as wide as its label or amount, the room left shared out;
     * smaller text only when the amounts do not fit even so. */
    for (size = 9;; size -= 0.5)
      {
        font_name (bold, sizeof bold, TRUE, size);
        sum = 0;
        for (guint i = 0; i < n; i++)
          {
            g_autofree char *up = g_utf8_strup (g_ptr_array_index (labels, i), -1);

            widths[i] = 12 + MAX (line_width (p, FONT_LABEL, up), line_width (p, bold, g_ptr_array_index (values, i)));
            sum += widths[i];
          }
        if (sum <= room || size - 0.5 < 5)
          break;
      }
    font_name (body, sizeof body, FALSE, size);

    p->y += 6;
    box (p, p->margin, p->y, tw, 36, fill);
    text (p, FONT_LABEL, "AGING", p->margin + 8, p->y + 6, 0, PANGO_ALIGN_LEFT, accent);
    for (guint i = 0; i < n; i++)
      {
        g_autofree char *up = g_utf8_strup (g_ptr_array_index (labels, i), -1);
        gboolean late = i >= RECOUP_AGING_31_60 && i < RECOUP_AGING_N_BUCKETS && st->aging.buckets[i] > 0;
        double cw = widths[i] + MAX (0, room - sum) / n;

        text (p, FONT_LABEL, up, x + 6, p->y + 6, cw - 12, PANGO_ALIGN_RIGHT, muted);
        text (p, i == n - 1 ? bold : body, g_ptr_array_index (values, i), x + 6, p->y + 19, cw - 12,
              PANGO_ALIGN_RIGHT, late ? (Rgb) { 0.62, 0.16, 0.12 } : ink);
        x += cw;
      }
    p->y += 36;
    if (credit)
      {
        g_autofree char *c = money_code (-st->aging.credit, st->currency);
        g_autofree char *note = g_strdup_printf ("Includes an unapplied credit of %s.", c);

        p->y += 4;
        p->y += text (p, FONT_SMALL, note, p->margin, p->y, tw, PANGO_ALIGN_LEFT, muted);
      }
  }

  /* How to pay; or, when nothing is due, that nothing is: asking a
   * customer in credit to pay reads as a demand for money not owed. */
  {
    const RecoupBusinessInfo *b = p->business;
    g_autofree char *fallback = g_strdup_printf (
      "Please pay the amount due and quote your account number %s with your payment.", st->account_ref);
    g_autofree char *quote = g_strdup_printf ("Quote your account number %s with every payment.", st->account_ref);
    g_autofree char *credit = money_code (-st->closing, st->currency);
    gboolean due = st->closing > 0;
    GString *how = g_string_new (NULL);
    double h;

    if (st->closing < 0)
      g_string_printf (how, "Nothing is due: your account is in credit by %s.", credit);
    else if (!due)
      g_string_assign (how, "Nothing is due: your account is settled. Thank you.");
    else
      g_string_assign (how, b && b->payment_instructions ? b->payment_instructions : fallback);
    if (due && b && b->payment_instructions)
      g_string_append_printf (how, "\n%s", quote);
    if (b && (b->phone || b->email))
      g_string_append_printf (how, "\nQuestions about this statement? Contact us%s%s%s%s.",
                              b->phone ? " on " : "", b->phone ? b->phone : "",
                              b->email ? " or at " : "", b->email ? b->email : "");
    h = measure (p, FONT_BODY, how->str, tw - 24) + 20;
    section (p, due ? "How to pay" : "Nothing to pay", h);
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
  {
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
    g_autoptr(GPtrArray) totals = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

    g_ptr_array_add (rows, row_new (6, st->from, "Opening balance", "", "", "", opening));
    for (guint i = 0; i < st->lines->len; i++)
      {
        RecoupStatementLine *l = g_ptr_array_index (st->lines, i);
        g_autofree char *debit = l->amount > 0 ? money (l->amount, st->currency) : g_strdup ("");
        g_autofree char *credit = l->amount < 0 ? money (-l->amount, st->currency) : g_strdup ("");
        g_autofree char *balance = money (l->balance, st->currency);

        g_ptr_array_add (rows, row_new (6, l->date, l->description, l->reference ? l->reference : "",
                                        debit, credit, balance));
      }
    if (st->lines->len == 0)
      g_ptr_array_add (rows, row_new (6, "", "No activity in this period", "", "", "", ""));
    g_ptr_array_add (totals, row_new (6, st->to, "Closing balance", "", "", "", closing));

    fit_table (p, statement_columns, G_N_ELEMENTS (statement_columns), rows, totals);
    draw_table_header (p);
    for (guint r = 0; r < rows->len; r++)
      draw_row (p, g_ptr_array_index (rows, r), FALSE);
    draw_row (p, g_ptr_array_index (totals, 0), TRUE);
  }

  /* Payment plan. */
  if (st->plan_id != NULL)
    {
      g_autofree char *total = money_code (st->plan_total, st->currency);
      g_autofree char *paid = money_code (st->plan_paid, st->currency);
      g_autofree char *summary = g_strdup_printf ("Agreed plan of %s (%s); paid so far %s.",
                                                  total, st->plan_state, paid);

      section (p, "Your payment plan", 50);
      p->y += text (p, FONT_BODY, summary, p->margin, p->y, tw, PANGO_ALIGN_LEFT, ink);
      p->y += 4;
      if (st->plan_remaining->len > 0)
        {
          g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

          for (guint i = 0; i < st->plan_remaining->len; i++)
            {
              RecoupStatementInstallment *si = g_ptr_array_index (st->plan_remaining, i);
              g_autofree char *seq = g_strdup_printf ("%u", si->seq);
              g_autofree char *amount = money (si->amount, st->currency);
              g_autofree char *sp = money (si->paid, st->currency);

              g_ptr_array_add (rows, row_new (5, seq, si->due_date, amount, sp, si->status));
            }
          fit_table (p, plan_columns, G_N_ELEMENTS (plan_columns), rows, NULL);
          draw_table_header (p);
          for (guint r = 0; r < rows->len; r++)
            draw_row (p, g_ptr_array_index (rows, r), FALSE);
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
                         GPtrArray             *totals)
{
  g_autofree char *today = recoup_date_format (recoup_date_today_utc ());
  g_autofree char *generated = g_strdup_printf ("%s · produced %s", subtitle ? subtitle : "", today);
  g_autoptr(GPtrArray) empty = NULL;
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

  if (rows->len == 0)
    {
      char **row = g_new0 (char *, n_columns + 1);

      for (guint c = 0; c < n_columns; c++)
        row[c] = g_strdup (c == 0 ? "Nothing to report" : "");
      empty = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
      g_ptr_array_add (empty, row);
      rows = empty;
    }
  fit_table (p, columns, n_columns, rows, totals);
  draw_table_header (p);
  for (guint r = 0; r < rows->len; r++)
    draw_row (p, g_ptr_array_index (rows, r), FALSE);
  for (guint r = 0; totals != NULL && r < totals->len; r++)
    draw_row (p, g_ptr_array_index (totals, r), TRUE);
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
  g_free (p->widths);
  g_free (p->footer);
  g_free (p->continued);
  g_free (p);
}
