/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-mail"

#include "config.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include "recoup-mail.h"

/*
 * Letters are plain text laid out by Pango on a PDF page (US Letter or A4),
 * in a fixed-width face so that the columns of an itemisation line up. Each
 * letter starts a new page; a long letter runs on to further pages. (The
 * statements' renderer in src/report did not exist when this was written;
 * when it does, letters can move onto it.)
 */

#define MARGIN_PT 64.0

gboolean
recoup_letter_render_pdf (const char  *path,
                          GPtrArray   *letters,
                          const char  *paper,
                          GError     **error)
{
  gboolean a4 = g_strcmp0 (paper, "letter") != 0 && g_strcmp0 (paper, "us-letter") != 0;
  double width = a4 ? 595.28 : 612.0, height = a4 ? 841.89 : 792.0;
  cairo_surface_t *surface;
  cairo_t *cr;
  PangoLayout *layout;
  PangoFontDescription *font;
  cairo_status_t status;

  surface = cairo_pdf_surface_create (path, width, height);
  if ((status = cairo_surface_status (surface)) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path, cairo_status_to_string (status));
      return FALSE;
    }
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Recoup");
  cr = cairo_create (surface);
  layout = pango_cairo_create_layout (cr);
  font = pango_font_description_from_string ("Monospace 9.5");
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  pango_layout_set_width (layout, (int) ((width - 2 * MARGIN_PT) * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);

  for (guint i = 0; i < letters->len; i++)
    {
      PangoLayoutIter *iter;
      double page_top = 0;   /* layout y (pt) at the top of the current page */
      double usable = height - 2 * MARGIN_PT;

      pango_layout_set_text (layout, g_ptr_array_index (letters, i), -1);
      iter = pango_layout_get_iter (layout);
      do
        {
          PangoLayoutLine *line = pango_layout_iter_get_line_readonly (iter);
          PangoRectangle logical;
          double y, h;

          pango_layout_iter_get_line_extents (iter, NULL, &logical);
          y = (double) logical.y / PANGO_SCALE;
          h = (double) logical.height / PANGO_SCALE;
          if (y + h - page_top > usable)
            {
              cairo_show_page (cr);
              page_top = y;
            }
          cairo_move_to (cr, MARGIN_PT + (double) logical.x / PANGO_SCALE,
                         MARGIN_PT - page_top + (double) pango_layout_iter_get_baseline (iter) / PANGO_SCALE);
          pango_cairo_show_layout_line (cr, line);
        }
      while (pango_layout_iter_next_line (iter));
      pango_layout_iter_free (iter);
      cairo_show_page (cr);
    }

  g_object_unref (layout);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path, cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

gboolean
recoup_mail_letter_renderer (const char  *path,
                             GPtrArray   *letters,
                             gpointer     user_data,
                             GError     **error)
{
  return recoup_letter_render_pdf (path, letters, user_data, error);
}
