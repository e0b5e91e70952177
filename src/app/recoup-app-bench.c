/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-app"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recoup-app-bench.h"

/*
 * `recoup --bench`: the start-up benchmark of issue 5 item 13. Prints, on
 * standard output, lines the driver (tests/bench-app-start.c) reads:
 *
 *   bench first-draw <ms since exec> <ms since main> rss <kB> hwm <kB> rows <n>
 *   bench jump <rows> <ms> longest-frame <ms> rss <kB> hwm <kB>
 *   bench updated <ms since exec> hwm <kB>      (only when ranks were rebuilt)
 *
 * "Drawn" is judged at the frame clock's after-paint: the rows counted as drawn
 * are those whose items were filled before that frame's layout phase, so the
 * paint that followed showed them.
 */

#define JUMP_ROWS 10000

typedef enum
{
  BENCH_FIRST_DRAW,
  BENCH_JUMP,
  BENCH_UPDATING,
  BENCH_DONE,
} BenchState;

typedef struct
{
  RecoupWindow  *window;     /* weak */
  GdkFrameClock *clock;
  gulong         layout_id;
  gulong         paint_id;
  gint64         main_us;
  BenchState     state;
  gboolean       ready_at_layout;
  gint64         jump_us;
  gint64         last_paint_us;
  gint64         longest_frame_us;
  gboolean       was_updating;
} Bench;

/* Milliseconds since this process was exec'd (its start time in /proc is in
 * clock ticks on the boot-time clock). */
static double
ms_since_exec (void)
{
  g_autofree char *stat = NULL;
  struct timespec now;
  const char *p;
  guint64 start_ticks = 0;

  if (!g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL) ||
      (p = strrchr (stat, ')')) == NULL)
    return -1;
  /* Fields after the command name start at field 3; starttime is field 22. */
  p++;
  for (int field = 3; field <= 22 && p != NULL; field++)
    {
      while (*p == ' ')
        p++;
      if (field == 22)
        start_ticks = g_ascii_strtoull (p, NULL, 10);
      p = strchr (p, ' ');
    }
  clock_gettime (CLOCK_BOOTTIME, &now);
  return (now.tv_sec * 1000.0 + now.tv_nsec / 1e6) - start_ticks * 1000.0 / sysconf (_SC_CLK_TCK);
}

static void
read_memory (guint64 *rss_kb,
             guint64 *hwm_kb)
{
  g_autofree char *status = NULL;
  const char *p;

  *rss_kb = *hwm_kb = 0;
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return;
  if ((p = strstr (status, "VmRSS:")) != NULL)
    *rss_kb = g_ascii_strtoull (p + 6, NULL, 10);
  if ((p = strstr (status, "VmHWM:")) != NULL)
    *hwm_kb = g_ascii_strtoull (p + 6, NULL, 10);
}

static void
bench_finish (Bench *b)
{
  b->state = BENCH_DONE;
  g_signal_handler_disconnect (b->clock, b->layout_id);
  g_signal_handler_disconnect (b->clock, b->paint_id);
  /* Closed like a user closes it, so the book is closed cleanly too. */
  if (b->window != NULL)
    gtk_window_destroy (GTK_WINDOW (b->window));
  else
    g_application_quit (g_application_get_default ());
}

/* Whether the rows the bench waits for are filled. */
static gboolean
rows_ready (Bench *b)
{
  RecoupWorklistModel *model;

  if (b->window == NULL)
    return FALSE;
  model = recoup_window_get_model (b->window);
  switch (b->state)
    {
    case BENCH_FIRST_DRAW:
      return g_list_model_get_n_items (G_LIST_MODEL (model)) > 0 &&
             gtk_widget_get_mapped (GTK_WIDGET (recoup_window_get_list_view (b->window))) &&
             recoup_worklist_model_is_position_loaded (model, 0);
    case BENCH_JUMP:
      return recoup_worklist_model_is_position_loaded (model, JUMP_ROWS);
    case BENCH_UPDATING:
    case BENCH_DONE:
    default:
      return FALSE;
    }
}

static void
layout_cb (GdkFrameClock *clock,
           Bench         *b)
{
  b->ready_at_layout = rows_ready (b);
}

static gboolean
updated_idle_cb (gpointer data)
{
  Bench *b = data;
  guint64 rss, hwm;

  if (b->state != BENCH_UPDATING)
    return G_SOURCE_REMOVE;
  if (b->window != NULL && recoup_worklist_model_is_updating (recoup_window_get_model (b->window)))
    return G_SOURCE_CONTINUE;
  read_memory (&rss, &hwm);
  if (b->was_updating)
    g_print ("bench updated %.0f hwm %" G_GUINT64_FORMAT "\n", ms_since_exec (), hwm);
  bench_finish (b);
  return G_SOURCE_REMOVE;
}

static void
after_paint_cb (GdkFrameClock *clock,
                Bench         *b)
{
  gint64 now = g_get_monotonic_time ();
  guint64 rss, hwm;

  if (b->state == BENCH_JUMP && b->last_paint_us != 0)
    b->longest_frame_us = MAX (b->longest_frame_us, now - b->last_paint_us);
  b->last_paint_us = now;
  if (!b->ready_at_layout || b->window == NULL)
    return;
  b->ready_at_layout = FALSE;

  read_memory (&rss, &hwm);
  if (b->state == BENCH_FIRST_DRAW)
    {
      b->was_updating = recoup_worklist_model_is_updating (recoup_window_get_model (b->window));
      g_print ("bench first-draw %.0f %.0f rss %" G_GUINT64_FORMAT " hwm %" G_GUINT64_FORMAT " rows %u\n",
               ms_since_exec (), (now - b->main_us) / 1000.0, rss, hwm,
               g_list_model_get_n_items (G_LIST_MODEL (recoup_window_get_model (b->window))));
      if (g_list_model_get_n_items (G_LIST_MODEL (recoup_window_get_model (b->window))) <= JUMP_ROWS)
        {
          b->state = BENCH_UPDATING;
          g_timeout_add (50, updated_idle_cb, b);
          return;
        }
      b->state = BENCH_JUMP;
      b->jump_us = g_get_monotonic_time ();
      b->longest_frame_us = 0;
      gtk_widget_activate_action (GTK_WIDGET (recoup_window_get_list_view (b->window)),
                                  "list.scroll-to-item", "u", (guint) JUMP_ROWS);
      gtk_widget_queue_draw (GTK_WIDGET (b->window));
    }
  else if (b->state == BENCH_JUMP)
    {
      g_print ("bench jump %u %.0f longest-frame %.0f rss %" G_GUINT64_FORMAT " hwm %" G_GUINT64_FORMAT "\n",
               JUMP_ROWS, (now - b->jump_us) / 1000.0, b->longest_frame_us / 1000.0, rss, hwm);
      b->state = BENCH_UPDATING;
      g_timeout_add (50, updated_idle_cb, b);
    }
}

static void
bench_free (gpointer data)
{
  Bench *b = data;

  g_clear_weak_pointer (&b->window);
  g_free (b);
}

static void
window_realize_cb (GtkWidget *widget,
                   Bench     *b)
{
  b->clock = gtk_widget_get_frame_clock (widget);
  b->layout_id = g_signal_connect (b->clock, "layout", G_CALLBACK (layout_cb), b);
  b->paint_id = g_signal_connect (b->clock, "after-paint", G_CALLBACK (after_paint_cb), b);
}

void
recoup_app_bench_attach (RecoupWindow *window,
                         gint64        main_us)
{
  Bench *b = g_new0 (Bench, 1);

  g_set_weak_pointer (&b->window, window);
  b->main_us = main_us;
  g_print ("bench window %.0f %.0f\n", ms_since_exec (), (g_get_monotonic_time () - main_us) / 1000.0);
  /* Freed with the window; the frame clock goes with it too. */
  g_object_set_data_full (G_OBJECT (window), "recoup-bench", b, bench_free);
  g_signal_connect (window, "realize", G_CALLBACK (window_realize_cb), b);
}
