/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "recoup-book-private.h"
#include "recoup-demo.h"
#include "recoup-import.h"
#include "recoup-test-util.h"

/*
 * Import benchmark (issue 2, item 11): a generated CSV of RECOUP_BENCH_ROWS
 * invoices (default 1,000,000) imported by sqlite3's own `.import --csv` into a
 * bare table, then by recoup_import_csv() into a fresh book (validation, change
 * log and all), in the same run. The ratio of the two speeds is the figure;
 * the target is at least 0.5. The CPU time of each is printed too: on a shared
 * machine the wall-clock ratio moves with the load, the CPU ratio much less.
 * G_MESSAGES_DEBUG=recoup-import shows where the import's time went.
 */

typedef struct
{
  gint64  start;
  gint64  validated;
  gint64  last_row;    /* the last progress report of the writing pass */
  guint64 file_len;
} Timing;

static void
progress_cb (guint64  done,
             guint64  total,
             gpointer user_data)
{
  Timing *t = user_data;

  if (t->validated == 0 && done >= t->file_len)
    t->validated = g_get_monotonic_time ();
  else if (t->validated != 0 && done < total)
    t->last_row = g_get_monotonic_time ();
}

/* CPU seconds (user + system) used so far by this process or its waited-for
 * children: with other work on the machine, wall time alone misleads. */
static double
cpu_seconds (int who)
{
  struct rusage ru;

  if (getrusage (who, &ru) != 0)
    return 0;
  return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static gint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64) st.st_size : 0;
}

/*
 * The floor: what writing the rows DESIGN.md asks of an import costs SQLite
 * alone, measured on the same file in the same run. sqlite3 copies its bare
 * table into a fresh book's real schema by set-based SQL only: UUID-shaped
 * text ids in rising order (as UUIDv7 are), one insert change per row, the
 * same five plain indexes rebuilt at the end as the import does, a rollback
 * journal, no foreign-key checks. It parses nothing in C, validates nothing
 * and computes no derived data (scores, worklist), so no importer that keeps
 * this book's rows can be faster. Its speed over sqlite3's .import is the
 * ceiling of the ratio the issue asks about.
 *
 * The script runs one statement per line under sqlite3's `.timer on`, and each
 * group of statements starts with a `SELECT 'step …'` marker, so the floor's
 * time is also split by what it writes: the account and invoice rows the CSV
 * itself names, the contact point rows, the ledger's charge rows, the change
 * rows, the index rebuild and the commit.
 */
#define FLOOR_STEP(name) "SELECT 'step " name "';"
#define FLOOR_ID(code, n) "printf('019ab3c4-" code "-7000-8000-%012x', " n ")"
#define FLOOR_CHANGES(table, code, id, src, where, order) \
  FLOOR_STEP ("change rows") \
  "INSERT INTO changes (id, hlc, device_id, user_id, entity, entity_id, op, schema_version)" \
  " SELECT printf('019ab3c5-" code "-7000-8000-%012x', " order "), " \
  "  7000000000000000000 + " code "0000000000 + " order ", " \
  "  '019ab3c4-0000-7000-8000-00000000000d', '019ab3c4-0000-7000-8000-00000000000e', '" table "', " \
  id ", 'insert', " G_STRINGIFY (RECOUP_SYNC_SCHEMA_VERSION) " FROM " src " WHERE " where " ORDER BY " order ";"

static const char floor_sql[] =
  "PRAGMA journal_mode = DELETE;"
  "PRAGMA foreign_keys = OFF;"
  "BEGIN;"
  FLOOR_STEP ("account and invoice rows")
  "DROP INDEX contact_points_by_account; DROP INDEX invoices_by_account;"
  "DROP INDEX ledger_by_account; DROP INDEX ledger_by_invoice; DROP INDEX changes_by_entity;"
  "CREATE TEMP TABLE acc AS SELECT min(rowid) AS n, account_ref, name, email, phone, address,"
  "  timezone, currency FROM b.invoices GROUP BY account_ref;"
  "CREATE INDEX temp.acc_by_ref ON acc (account_ref);"
  "INSERT INTO accounts (id, ref, name, timezone, currency, created_at)"
  "  SELECT " FLOOR_ID ("0001", "n") ", account_ref, name, timezone, currency, 0 FROM acc ORDER BY n;"
  FLOOR_CHANGES ("accounts", "1", FLOOR_ID ("0001", "n"), "acc", "1", "n")
  FLOOR_STEP ("contact point rows")
  "INSERT INTO contact_points (id, account_id, kind, value, created_at)"
  "  SELECT " FLOOR_ID ("0002", "n") ", " FLOOR_ID ("0001", "n") ", 'email', email, 0"
  "  FROM acc WHERE email <> '' ORDER BY n;"
  FLOOR_CHANGES ("contact_points", "2", FLOOR_ID ("0002", "n"), "acc", "email <> ''", "n")
  FLOOR_STEP ("contact point rows")
  "INSERT INTO contact_points (id, account_id, kind, value, created_at)"
  "  SELECT " FLOOR_ID ("0003", "n") ", " FLOOR_ID ("0001", "n") ", 'phone', phone, 0"
  "  FROM acc WHERE phone <> '' ORDER BY n;"
  FLOOR_CHANGES ("contact_points", "3", FLOOR_ID ("0003", "n"), "acc", "phone <> ''", "n")
  FLOOR_STEP ("contact point rows")
  "INSERT INTO contact_points (id, account_id, kind, value, created_at)"
  "  SELECT " FLOOR_ID ("0004", "n") ", " FLOOR_ID ("0001", "n") ", 'address', address, 0"
  "  FROM acc WHERE address <> '' ORDER BY n;"
  FLOOR_CHANGES ("contact_points", "4", FLOOR_ID ("0004", "n"), "acc", "address <> ''", "n")
  FLOOR_STEP ("account and invoice rows")
  "INSERT INTO invoices (id, account_id, ref, issue_date, due_date, amount, currency, description,"
  "  created_at)"
  "  SELECT " FLOOR_ID ("0005", "i.rowid") ", " FLOOR_ID ("0001", "a.n") ", i.invoice_ref,"
  "  i.issue_date, i.due_date, CAST(replace(i.amount, '.', '') AS INTEGER), i.currency,"
  "  i.description, 0 FROM b.invoices i JOIN acc a ON a.account_ref = i.account_ref"
  "  ORDER BY i.rowid;"
  FLOOR_CHANGES ("invoices", "5", FLOOR_ID ("0005", "rowid"), "b.invoices", "1", "rowid")
  FLOOR_STEP ("ledger charge rows")
  "INSERT INTO ledger_entries (id, account_id, invoice_id, kind, amount, currency, effective_date,"
  "  memo, created_at)"
  "  SELECT " FLOOR_ID ("0006", "rowid") ", account_id, id, 'charge', amount, currency,"
  "  issue_date, description, 0 FROM invoices ORDER BY rowid;"
  FLOOR_CHANGES ("ledger_entries", "6", FLOOR_ID ("0006", "rowid"), "b.invoices", "1", "rowid")
  FLOOR_STEP ("index rebuild")
  "CREATE INDEX contact_points_by_account ON contact_points (account_id);"
  "CREATE INDEX invoices_by_account ON invoices (account_id);"
  "CREATE INDEX ledger_by_account ON ledger_entries (account_id, effective_date);"
  "CREATE INDEX ledger_by_invoice ON ledger_entries (invoice_id) WHERE invoice_id IS NOT NULL;"
  "CREATE INDEX changes_by_entity ON changes (entity_id);"
  FLOOR_STEP ("commit")
  "COMMIT;"
  "PRAGMA journal_mode = WAL;";

/* Runs sqlite3 on @db with @commands; returns the wall seconds, adds the CPU
 * and hands back what sqlite3 printed if @output is given. */
static double
run_sqlite3 (const char  *sqlite3,
             const char  *db,
             const char  *commands,
             double      *cpu,
             char       **output)
{
  const char *argv[] = { sqlite3, db, commands, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  double c0 = cpu_seconds (RUSAGE_CHILDREN);
  gint64 t0 = g_get_monotonic_time ();
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &status, &error))
    g_error ("running sqlite3: %s", error->message);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || (err != NULL && *err != '\0'))
    g_error ("sqlite3 failed: %s", err);
  *cpu = cpu_seconds (RUSAGE_CHILDREN) - c0;
  if (output != NULL)
    *output = g_steal_pointer (&out);
  return (double) (g_get_monotonic_time () - t0) / 1e6;
}

typedef struct
{
  const char *name;
  double      seconds;
} FloorStep;

/* The floor's steps, in the order they are printed. */
static FloorStep floor_steps[] = {
  { "account and invoice rows", 0 },
  { "contact point rows", 0 },
  { "ledger charge rows", 0 },
  { "change rows", 0 },
  { "index rebuild", 0 },
  { "commit", 0 },
};

/* Adds each `Run Time: real S` line of sqlite3's `.timer on` output to the
 * step its last `step NAME` marker named. */
static void
sum_floor_steps (const char *output)
{
  g_auto(GStrv) lines = g_strsplit (output, "\n", -1);
  FloorStep *step = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];

      if (g_str_has_prefix (line, "step "))
        {
          step = NULL;
          for (guint k = 0; k < G_N_ELEMENTS (floor_steps); k++)
            if (g_str_equal (line + 5, floor_steps[k].name))
              step = &floor_steps[k];
          g_assert_nonnull (step);
        }
      else if (g_str_has_prefix (line, "Run Time: real ") && step != NULL)
        step->seconds += g_ascii_strtod (line + strlen ("Run Time: real "), NULL);
    }
}

int
main (int   argc,
      char *argv[])
{
  const char *env_rows = g_getenv ("RECOUP_BENCH_ROWS");
  guint rows = env_rows != NULL ? (guint) g_ascii_strtoull (env_rows, NULL, 10) : 1000000;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL, *csv = NULL, *bare = NULL, *book_path = NULL, *wal = NULL;
  g_autofree char *floor_path = NULL;
  g_autofree char *sqlite3 = g_find_program_in_path ("sqlite3");
  g_autofree char *import_cmd = NULL;
  g_autoptr(RecoupBook) book = NULL;
  g_autoptr(RecoupImportReport) report = NULL;
  Timing timing = { 0 };
  gint64 t0, t1;
  double gen_s, sqlite_s, recoup_s, validate_s;
  double sqlite_rate, recoup_rate;
  double sqlite_cpu, recoup_cpu, c0, floor_s, floor_cpu;
  gint64 db_size, wal_size, n_accounts, n_changes;

  if (rows == 0)
    rows = 1000000;
  if (sqlite3 == NULL)
    {
      printf ("1..0 # SKIP the sqlite3 program is not installed (apt-get install sqlite3)\n");
      return 0;
    }

  dir = g_dir_make_tmp ("recoup-bench-XXXXXX", &error);
  g_assert_no_error (error);
  csv = g_build_filename (dir, "invoices.csv", NULL);
  bare = g_build_filename (dir, "bare.sqlite", NULL);
  book_path = g_build_filename (dir, "book.recoup", NULL);
  floor_path = g_build_filename (dir, "floor.recoup", NULL);

  t0 = g_get_monotonic_time ();
  if (!recoup_demo_write_csv (csv, rows, 42, "2026-11-24", &error))
    g_error ("generating the CSV: %s", error->message);
  t1 = g_get_monotonic_time ();
  gen_s = (double) (t1 - t0) / 1e6;
  printf ("# generated %u invoices, %.1f MB, in %.2f s\n", rows,
          (double) file_size (csv) / 1e6, gen_s);

  /* sqlite3's .import into a bare table (created from the header line). */
  import_cmd = g_strdup_printf (".import --csv '%s' invoices", csv);
  sqlite_s = run_sqlite3 (sqlite3, bare, import_cmd, &sqlite_cpu, NULL);
  g_assert_cmpint (test_query_int (bare, "SELECT count(*) FROM invoices"), ==, rows);

  /* The floor: the same rows into a fresh book's schema by sqlite3 alone. */
  {
    g_autoptr(RecoupBook) fresh = recoup_book_open (floor_path, RECOUP_BOOK_OPEN_DEFAULT, &error);
    g_autofree char *commands = NULL;

    g_assert_no_error (error);
    g_clear_object (&fresh);
    g_autofree char *script_path = g_build_filename (dir, "floor.sql", NULL);
    g_autofree char *output = NULL;
    g_auto(GStrv) statements = g_strsplit (floor_sql, ";", -1);
    g_autofree char *script = NULL;

    /* One statement per line, so that `.timer on` times each. */
    script = g_strjoinv (";\n", statements);
    commands = g_strdup_printf (".timer on\nATTACH '%s' AS b;\n%s", bare, script);
    if (!g_file_set_contents (script_path, commands, -1, &error))
      g_error ("writing the floor's script: %s", error->message);
    g_free (commands);
    commands = g_strdup_printf (".read '%s'", script_path);
    floor_s = run_sqlite3 (sqlite3, floor_path, commands, &floor_cpu, &output);
    sum_floor_steps (output);
    g_assert_cmpint (test_query_int (floor_path, "SELECT count(*) FROM invoices"), ==, rows);
  }

  /* Recoup: a fresh book with the laptop default (synchronous=FULL). */
  book = recoup_book_open (book_path, RECOUP_BOOK_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GMappedFile) map = g_mapped_file_new (csv, FALSE, NULL);
    timing.file_len = g_mapped_file_get_length (map);
  }
  c0 = cpu_seconds (RUSAGE_SELF);
  timing.start = t0 = g_get_monotonic_time ();
  if (!recoup_import_csv (book, csv, RECOUP_IMPORT_DEFAULT, progress_cb, &timing, NULL, &report, &error))
    g_error ("recoup import failed: %s", error->message);
  t1 = g_get_monotonic_time ();
  recoup_cpu = cpu_seconds (RUSAGE_SELF) - c0;
  recoup_s = (double) (t1 - t0) / 1e6;
  validate_s = timing.validated > 0 ? (double) (timing.validated - t0) / 1e6 : 0;
  g_assert_cmpuint (report->invoices_created, ==, rows);

  if (!recoup_book_exec (book, "PRAGMA main.wal_checkpoint(TRUNCATE)", &error))
    g_error ("checkpoint: %s", error->message);
  n_accounts = test_query_int (book_path, "SELECT count(*) FROM accounts");
  n_changes = test_query_int (book_path, "SELECT count(*) FROM changes");
  g_clear_object (&book);
  wal = g_strconcat (book_path, "-wal", NULL);
  db_size = file_size (book_path);
  wal_size = file_size (wal);

  sqlite_rate = rows / sqlite_s;
  recoup_rate = rows / recoup_s;
  printf ("# sqlite3 .import --csv (bare table): %.2f s, %.0f invoices/s\n", sqlite_s, sqlite_rate);
  printf ("# recoup import (validated, change log, fresh book): %.2f s (validation %.2f s, writing %.2f s "
          "of which the last set-based insert, the index rebuild and the commit with its derived-data "
          "refresh and checkpoint took about %.2f s), %.0f invoices/s\n",
          recoup_s, validate_s, recoup_s - validate_s,
          timing.last_row > 0 ? (double) (t1 - timing.last_row) / 1e6 : 0.0, recoup_rate);
  printf ("# ratio recoup/sqlite3: %.2f (target >= 0.5)\n", recoup_rate / sqlite_rate);
  printf ("# floor, sqlite3 writing the same rows into the book's schema by SQL alone (no validation, "
          "no derived data): %.2f s, %.0f invoices/s, ratio to .import %.2f (CPU %.2f s); "
          "recoup/floor %.2f\n",
          floor_s, rows / floor_s, sqlite_s / floor_s, floor_cpu, floor_s / recoup_s);
  {
    g_autoptr(GString) steps = g_string_new ("# the floor by what it writes:");

    for (guint k = 0; k < G_N_ELEMENTS (floor_steps); k++)
      g_string_append_printf (steps, "%s %s %.2f s", k > 0 ? ";" : "", floor_steps[k].name,
                              floor_steps[k].seconds);
    printf ("%s\n", steps->str);
    printf ("# the account and invoice rows alone (no index rebuild, no commit): "
            "%.0f invoices/s, ratio to .import %.2f\n",
            rows / floor_steps[0].seconds, sqlite_s / floor_steps[0].seconds);
  }
  printf ("# rows written: recoup %" G_GINT64_FORMAT " changes, floor %" G_GINT64_FORMAT " changes\n",
          n_changes, test_query_int (floor_path, "SELECT count(*) FROM changes"));
  printf ("# CPU time (user + system): sqlite3 %.2f s, recoup %.2f s; ratio by CPU time %.2f\n",
          sqlite_cpu, recoup_cpu, recoup_cpu > 0 ? sqlite_cpu / recoup_cpu : 0.0);
  printf ("# book size after checkpoint: %.1f MB (db %" G_GINT64_FORMAT " + wal %" G_GINT64_FORMAT
          " bytes) for %" G_GINT64_FORMAT " accounts and %u invoices; %.0f bytes per account\n",
          (double) (db_size + wal_size) / 1e6, db_size, wal_size, n_accounts, rows,
          (double) (db_size + wal_size) / (double) MAX (n_accounts, 1));
  printf ("1..1\nok 1 /recoup/bench/import %u invoices ratio %.2f\n", rows, recoup_rate / sqlite_rate);

  if (g_getenv ("RECOUP_BENCH_KEEP") != NULL)
    printf ("# kept %s\n", dir);
  else
    test_remove_tree (dir);
  return 0;
}
