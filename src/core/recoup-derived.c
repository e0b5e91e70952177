/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-derived"

#include "config.h"

#include <string.h>

#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-guard.h"
#include "recoup-money.h"
#include "recoup-ledger-private.h"
#include "recoup-offer.h"
#include "recoup-review.h"
#include "recoup-promise.h"
#include "recoup-score-private.h"

/*
 * Derived per-account data (account_stats): balance and age from the ledger
 * allocation, promise and payment behaviour, contact counts, open disputes,
 * follow-ups, missed plan installments, what stops every call, when the
 * rules of the call history stop blocking calls (by the book's guard policy,
 * part of the signature: recoup-score.c), and from those
 * the score, segment, worklist queue rank and next action. The table is local
 * to this copy of the book and never recorded in the change log.
 *
 * One code path serves one account and the whole book: each source is a query
 * ordered by account id, and the accounts are walked in id order while every
 * source cursor is advanced to the same id (a merge join). For one account the
 * queries are restricted to it; for the whole book they scan once, so a
 * 1,000,000-account rebuild is a handful of sequential scans, not millions of
 * lookups.
 */

/* Beyond this many touched accounts, one merge pass over them (refresh_batch())
 * is cheaper than a query per source per account: a pulled page or a pushed
 * batch of a thousand accounts refreshes in 30 % less time. */
#define BATCH_THRESHOLD 100

typedef struct
{
  sqlite3_stmt *stmt;
  gboolean      has_row;
} Cursor;

typedef struct
{
  gint32 day;
  gint64 amount;     /* > 0 */
  gint64 recorded;   /* created_at, UTC ms */
  char   id[40];
} Payment;

typedef struct
{
  RecoupBook         *book;
  gint32              today;
  char                today_text[11];
  RecoupScoreSettings settings;
  GArray             *policy;
  Cursor              acc, led, prom, act, disp, fu, plan, phone;
  RecoupAllocator     alloc;
  GArray             *payments;   /* Payment */
  GPtrArray          *reversed;   /* ids of reversed entries (borrowed from a pool) */
  GStringChunk       *chunk;
  sqlite3_stmt       *write;
  gboolean            staged;     /* writing into stage.account_stats */
  int                 recent_days;
  RecoupGuardPolicy   guard;
  gint64              now_ms;     /* the instant calls_open_at is derived at */
} Gather;

static const char *const index_sql =
  "CREATE INDEX IF NOT EXISTS account_stats_queue ON account_stats (queue_rank, score DESC, account_id);"
  "CREATE INDEX IF NOT EXISTS account_stats_by_assignee ON account_stats (assigned_to, queue_rank, score DESC, account_id);"
  "CREATE INDEX IF NOT EXISTS account_stats_by_segment ON account_stats (segment, queue_rank, score DESC, account_id);"
  /* The app's default list, open accounts in queue order, also of those
   * callable now (RECOUP_BROWSE_CALLABLE_NOW: what stops every call, the
   * zone, and when the call history stops blocking calls): counted and
   * paged (OFFSET) on the index alone. It holds balance, which its WHERE
   * implies, so that SQLite reads it as covering. */
  "CREATE INDEX IF NOT EXISTS account_stats_open_queue"
  " ON account_stats (queue_rank, score DESC, account_id, call_blocks, timezone, calls_open_at, balance)"
  " WHERE balance > 0;";

static const char *const drop_index_sql =
  "DROP INDEX IF EXISTS account_stats_queue;"
  "DROP INDEX IF EXISTS account_stats_by_assignee;"
  "DROP INDEX IF EXISTS account_stats_by_segment;"
  "DROP INDEX IF EXISTS account_stats_open_queue;";

/* The flags the guard stops calls on (RecoupCallBlocks): a request to cease,
 * an attorney, bankruptcy or death, an opt-out of calls. */
static const char *const sql_acc =
  "SELECT id, assigned_to, stage, timezone, tier, lifetime_revenue, deleted, currency, cease_communication,"
  " attorney_represented OR bankruptcy OR deceased, instr (',' || opt_out_channels || ',', ',call,') > 0"
  " FROM accounts WHERE %s ORDER BY id";
static const char *const sql_led =
  "SELECT l.account_id, l.id, l.invoice_id, i.due_date, l.effective_date, l.amount, l.kind, l.reverses_id,"
  " coalesce (l.waives_id, l.reverses_id), l.created_at"
  " FROM ledger_entries l LEFT JOIN invoices i ON i.id = l.invoice_id"
  " WHERE %s AND l.effective_date <= ?2 ORDER BY l.account_id";
static const char *const sql_prom =
  "SELECT account_id, amount, due_date, grace_days,"
  " coalesce(made_on, date(created_at / 1000, 'unixepoch')) AS made, created_at"
  " FROM promises WHERE deleted = 0 AND %s ORDER BY account_id, made, id";
static const char *const sql_act =
  "SELECT account_id,"
  " count(*) FILTER (WHERE direction = 'outbound' AND channel IN ('call','sms','email','letter','visit')),"
  " count(*) FILTER (WHERE outcome IN ('right-party','promise','refused','dispute','callback-requested')),"
  " min(at) FILTER (WHERE channel IN ('call','sms','email','letter','visit')),"
  " max(at) FILTER (WHERE direction = 'outbound' AND channel IN ('call','sms','email','letter','visit')),"
  " max(at) FILTER (WHERE outcome IN ('right-party','promise','refused','dispute','callback-requested')),"
  " max(at) FILTER (WHERE " RECOUP_GUARD_CALL_ATTEMPT_SQL "),"
  " max(at) FILTER (WHERE " RECOUP_GUARD_CONVERSATION_SQL ")"
  " FROM activities WHERE %s GROUP BY account_id ORDER BY account_id";
static const char *const sql_disp =
  "SELECT account_id FROM disputes WHERE status = 'open' AND %s GROUP BY account_id ORDER BY account_id";
/* The accounts with phone numbers, every one of them opted out: the guard
 * has no number left to call. Removed points do not count. */
static const char *const sql_phone =
  "SELECT account_id FROM contact_points WHERE kind = 'phone' AND deleted = 0 AND %s"
  " GROUP BY account_id HAVING min (opted_out) <> 0 ORDER BY account_id";
static const char *const sql_fu =
  "SELECT account_id, min(due_at) FROM follow_ups WHERE done_at IS NULL AND deleted = 0 AND %s"
  " GROUP BY account_id ORDER BY account_id";
/* The accounts that may have a plan: an offer of theirs was accepted. Which
 * plan is live, what counts toward it and what is missed is recoup-offer.c's
 * rule (the plan view's), asked for these accounts only (gather_plan ()). */
static const char *const sql_plan =
  "SELECT DISTINCT o.account_id FROM offers o JOIN offer_events e ON e.offer_id = o.id AND e.event = 'accept'"
  " WHERE %s ORDER BY o.account_id";

/* The columns of account_stats, in the order write_stats () binds them. */
/* 9,000 days (about 24 years) times RECOUP_MONEY_LIMIT is below G_MAXINT64. */
#define WEIGHTED_DPD_CAP 9000
G_STATIC_ASSERT (WEIGHTED_DPD_CAP * RECOUP_MONEY_LIMIT < G_MAXINT64);

#define STATS_COLUMNS \
  "account_id, assigned_to, stage, timezone, balance, oldest_due_date, oldest_dpd, weighted_dpd," \
  " last_payment_date, payments_90d, paid_90d, promises_kept, promises_broken, promise_due_date," \
  " promise_broken_date, contacts_rpc, contact_attempts, first_contact_at, last_contact_at," \
  " last_conversation_at, open_dispute, follow_up_at, missed_installment, plan_due_date, score, segment," \
  " queue_rank, recommended_stage, next_action, next_action_reason, as_of, call_blocks, calls_open_at"

static const char *const sql_write =
  "INSERT OR REPLACE INTO account_stats (" STATS_COLUMNS ")"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,"
  " ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33)";

/* Cease communication, an attorney, bankruptcy or death: the guard blocks
 * every contact (RecoupAccountStats.no_contact). */
static gboolean
blocks_every_contact (RecoupCallBlocks blocks)
{
  return (blocks & (RECOUP_CALL_BLOCK_CEASE | RECOUP_CALL_BLOCK_FLAGS)) != 0;
}

static gboolean
cursor_open (Gather      *g,
             Cursor      *c,
             const char  *tmpl,
             const char  *filter,
             const char  *account_id,
             GError     **error)
{
  g_autofree char *sql = g_strdup_printf (tmpl, filter);
  int n;

  c->has_row = FALSE;
  if (!(c->stmt = recoup_book_prepare (g->book, sql, error)))
    return FALSE;
  n = sqlite3_bind_parameter_count (c->stmt);
  if (account_id != NULL)
    sqlite3_bind_text (c->stmt, 1, account_id, -1, SQLITE_TRANSIENT);
  if (n >= 2)
    sqlite3_bind_text (c->stmt, 2, g->today_text, -1, SQLITE_STATIC);
  return TRUE;
}

static gboolean
cursor_next (Gather  *g,
             Cursor  *c,
             GError **error)
{
  int rc = sqlite3_step (c->stmt);

  c->has_row = rc == SQLITE_ROW;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (g->book, error);
  return TRUE;
}

/* Moves @c to the first row of @id; returns whether it has rows for @id. */
static gboolean
cursor_seek (Gather      *g,
             Cursor      *c,
             const char  *id,
             gboolean    *out_found,
             GError     **error)
{
  while (c->has_row && strcmp ((const char *) sqlite3_column_text (c->stmt, 0), id) < 0)
    if (!cursor_next (g, c, error))
      return FALSE;
  *out_found = c->has_row && strcmp ((const char *) sqlite3_column_text (c->stmt, 0), id) == 0;
  return TRUE;
}

static gboolean
cursor_at (Cursor     *c,
           const char *id)
{
  return c->has_row && strcmp ((const char *) sqlite3_column_text (c->stmt, 0), id) == 0;
}

static void
copy_text (char         *dst,
           gsize         size,
           sqlite3_stmt *stmt,
           int           col)
{
  const char *text = (const char *) sqlite3_column_text (stmt, col);

  g_strlcpy (dst, text != NULL ? text : "", size);
}

/* 'YYYY-MM-DD' to a day number without GDate's validation: the text was
 * validated when it was written. */
static gint32
fast_day (const char *t)
{
  int y, m, d;

  if (t == NULL || strlen (t) < 10)
    return RECOUP_DATE_INVALID;
  y = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 + (t[3] - '0');
  m = (t[5] - '0') * 10 + (t[6] - '0');
  d = (t[8] - '0') * 10 + (t[9] - '0');
  /* Days from civil (Howard Hinnant's algorithm). */
  y -= m <= 2;
  {
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
  }
}

static gboolean
is_reversed (Gather     *g,
             const char *id)
{
  for (guint i = 0; i < g->reversed->len; i++)
    if (strcmp (g->reversed->pdata[i], id) == 0)
      return TRUE;
  return FALSE;
}

/* The account's live plan as the plan view judges it (recoup-offer.c: what
 * counts toward it, missed installments, completion and default), so the
 * next action and the plan view never disagree. */
static gboolean
gather_plan (Gather             *g,
             RecoupAccountStats *st,
             GError            **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(RecoupOffer) plan = recoup_offer_current_plan (g->book, st->account_id, g->today_text, &local);

  if (local != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "the plan of account %s: ", st->account_id);
      return FALSE;
    }
  if (plan == NULL ||
      (plan->state != RECOUP_OFFER_STATE_ACCEPTED && plan->state != RECOUP_OFFER_STATE_ACTIVE))
    return TRUE;
  /* A live plan has an installment not covered: a covered schedule is a
   * completed plan. */
  for (guint i = 0; i < plan->schedule->len; i++)
    {
      const RecoupInstallment *in = &g_array_index (plan->schedule, RecoupInstallment, i);

      if (in->status != RECOUP_INSTALLMENT_PAID)
        {
          st->plan_due_day = in->due_day;
          break;
        }
    }
  if (st->plan_due_day == RECOUP_DATE_INVALID)
    return TRUE;
  st->plan_dpd = MAX (0, g->today - st->plan_due_day);
  st->missed_installment = plan->n_missed > 0;
  return TRUE;
}

/* Fills @st for the account under g->acc. */
static gboolean
gather_current (Gather             *g,
                RecoupAccountStats *st,
                GError            **error)
{
  sqlite3_stmt *a = g->acc.stmt;
  const char *id;
  gboolean found;
  gint64 weighted = 0, open = 0;

  memset (st, 0, sizeof *st);
  copy_text (st->account_id, sizeof st->account_id, a, 0);
  copy_text (st->assigned_to, sizeof st->assigned_to, a, 1);
  copy_text (st->stage, sizeof st->stage, a, 2);
  copy_text (st->timezone, sizeof st->timezone, a, 3);
  copy_text (st->tier, sizeof st->tier, a, 4);
  st->lifetime_revenue = sqlite3_column_int64 (a, 5);
  st->deleted = sqlite3_column_int (a, 6) != 0;
  copy_text (st->currency, sizeof st->currency, a, 7);
  if (sqlite3_column_int (a, 8))
    st->call_blocks |= RECOUP_CALL_BLOCK_CEASE;
  if (sqlite3_column_int (a, 9))
    st->call_blocks |= RECOUP_CALL_BLOCK_FLAGS;
  if (sqlite3_column_int (a, 10))
    st->call_blocks |= RECOUP_CALL_BLOCK_OPT_OUT;
  st->no_contact = blocks_every_contact (st->call_blocks);
  st->oldest_due_day = RECOUP_DATE_INVALID;
  st->last_payment_day = RECOUP_DATE_INVALID;
  st->promise_due_day = RECOUP_DATE_INVALID;
  st->promise_broken_day = RECOUP_DATE_INVALID;
  st->plan_due_day = RECOUP_DATE_INVALID;
  id = st->account_id;

  /* Ledger: allocation for balance and age; payments for behaviour. */
  recoup_allocator_reset (&g->alloc);
  g_array_set_size (g->payments, 0);
  g_ptr_array_set_size (g->reversed, 0);
  g_string_chunk_clear (g->chunk);
  if (!cursor_seek (g, &g->led, id, &found, error))
    return FALSE;
  while (cursor_at (&g->led, id))
    {
      sqlite3_stmt *s = g->led.stmt;
      const char *invoice = (const char *) sqlite3_column_text (s, 2);
      const char *kind = (const char *) sqlite3_column_text (s, 6);
      gint32 eff = fast_day ((const char *) sqlite3_column_text (s, 4));
      gint64 amount = sqlite3_column_int64 (s, 5);
      gboolean reversal = strcmp (kind, "reversal") == 0;

      recoup_allocator_add_entry (&g->alloc, invoice, (const char *) sqlite3_column_text (s, 1),
                                  (const char *) sqlite3_column_text (s, 8),
                                  invoice != NULL ? fast_day ((const char *) sqlite3_column_text (s, 3)) : eff,
                                  eff, amount);
      if (strcmp (kind, "payment") == 0)
        {
          Payment p;

          p.day = eff;
          p.amount = -amount;
          p.recorded = sqlite3_column_int64 (s, 9);
          g_strlcpy (p.id, (const char *) sqlite3_column_text (s, 1), sizeof p.id);
          g_array_append_val (g->payments, p);
        }
      else if (reversal && sqlite3_column_type (s, 7) != SQLITE_NULL)
        g_ptr_array_add (g->reversed,
                         g_string_chunk_insert (g->chunk, (const char *) sqlite3_column_text (s, 7)));
      if (!cursor_next (g, &g->led, error))
        return FALSE;
    }
  recoup_allocator_finish (&g->alloc);
  st->balance = g->alloc.pool;
  for (guint i = 0; i < g->alloc.items->len; i++)
    {
      RecoupAllocItem *it = &g_array_index (g->alloc.items, RecoupAllocItem, i);

      st->balance += it->net;
      if (it->net <= 0)
        continue;
      if (st->oldest_due_day == RECOUP_DATE_INVALID || it->due_day < st->oldest_due_day)
        st->oldest_due_day = it->due_day;
      open += it->net;
      /* Ages beyond WEIGHTED_DPD_CAP days weigh as that: with an account's
       * charges within RECOUP_MONEY_LIMIT the sum then fits in 64 bits. Rows
       * merged from devices that each kept the limit can pass it together:
       * the sum then saturates rather than overflow. */
      {
        gint64 w;

        if (__builtin_mul_overflow (it->net, (gint64) CLAMP (g->today - it->due_day, 0, WEIGHTED_DPD_CAP), &w) ||
            !recoup_money_add (weighted, w, &weighted))
          weighted = G_MAXINT64;
      }
    }
  if (st->oldest_due_day != RECOUP_DATE_INVALID)
    st->oldest_dpd = MAX (0, g->today - st->oldest_due_day);
  st->weighted_dpd = open > 0 ? (int) MIN (weighted / open, WEIGHTED_DPD_CAP) : 0;

  /* Payments that were not reversed. */
  for (guint i = 0; i < g->payments->len; i++)
    {
      Payment *p = &g_array_index (g->payments, Payment, i);

      if (g->reversed->len > 0 && is_reversed (g, p->id))
        {
          p->amount = 0;
          continue;
        }
      if (st->last_payment_day == RECOUP_DATE_INVALID || p->day > st->last_payment_day)
        st->last_payment_day = p->day;
      if (p->day > g->today - 90)
        {
          st->payments_90d++;
          st->paid_90d += p->amount;
        }
    }

  /* Promises: the payments in [made_on, due + grace] judged by the one rule,
   * recoup_promise_status_for (); partly kept counts as broken here. A
   * payment on the day the promise was made counts only when it was
   * recorded after the promise (recoup_promise_counts_payment()). */
  if (!cursor_seek (g, &g->prom, id, &found, error))
    return FALSE;
  while (cursor_at (&g->prom, id))
    {
      sqlite3_stmt *s = g->prom.stmt;
      gint64 amount = sqlite3_column_int64 (s, 1);
      gint32 due = fast_day ((const char *) sqlite3_column_text (s, 2));
      gint32 end = due + sqlite3_column_int (s, 3);
      gint32 made = fast_day ((const char *) sqlite3_column_text (s, 4));
      gint64 made_at = recoup_promise_order_instant (made, sqlite3_column_int64 (s, 5));
      gint64 paid = 0;
      gboolean latest;

      for (guint i = 0; i < g->payments->len; i++)
        {
          Payment *p = &g_array_index (g->payments, Payment, i);

          if (p->day <= end && recoup_promise_counts_payment (made, made_at, p->day, p->recorded))
            paid += p->amount;
        }
      if (!cursor_next (g, &g->prom, error))
        return FALSE;
      latest = !cursor_at (&g->prom, id);
      switch (recoup_promise_status_for (amount, due, end - due, MAX (paid, 0), g->today))
        {
        case RECOUP_PROMISE_KEPT:
          st->promises_kept++;
          break;
        case RECOUP_PROMISE_PENDING:
          if (st->promise_due_day == RECOUP_DATE_INVALID || due < st->promise_due_day)
            st->promise_due_day = due;
          break;
        case RECOUP_PROMISE_PARTLY_KEPT:
        case RECOUP_PROMISE_BROKEN:
        default:
          st->promises_broken++;
          if (latest)
            st->promise_broken_day = end;
          break;
        }
    }

  if (!cursor_seek (g, &g->act, id, &found, error))
    return FALSE;
  if (found)
    {
      sqlite3_stmt *s = g->act.stmt;

      st->contact_attempts = sqlite3_column_int (s, 1);
      st->contacts_rpc = sqlite3_column_int (s, 2);
      st->first_contact_at = sqlite3_column_int64 (s, 3);
      st->last_contact_at = sqlite3_column_int64 (s, 4);
      st->last_conversation_at = sqlite3_column_int64 (s, 5);
      /* The guard's own rule, so that the list and the guard agree. */
      if (!st->deleted &&
          !recoup_guard_call_history_opens_at (g->book, &g->guard, id, st->timezone, sqlite3_column_int64 (s, 6),
                                               sqlite3_column_int64 (s, 7), g->now_ms, &st->calls_open_at, error))
        return FALSE;
    }

  if (!cursor_seek (g, &g->disp, id, &found, error))
    return FALSE;
  st->open_dispute = found;
  if (found)
    st->call_blocks |= RECOUP_CALL_BLOCK_DISPUTE;

  if (!cursor_seek (g, &g->phone, id, &found, error))
    return FALSE;
  if (found)
    st->call_blocks |= RECOUP_CALL_BLOCK_OPT_OUT;

  if (!cursor_seek (g, &g->fu, id, &found, error))
    return FALSE;
  if (found)
    st->follow_up_at = sqlite3_column_int64 (g->fu.stmt, 1);

  if (!cursor_seek (g, &g->plan, id, &found, error))
    return FALSE;
  return !found || st->deleted || gather_plan (g, st, error);
}

static void
gather_init (Gather     *g,
             RecoupBook *book,
             gint32      today)
{
  memset (g, 0, sizeof *g);
  g->book = book;
  g->today = today;
  g->recent_days = recoup_score_recent_days (book);
  recoup_guard_policy_load (book, &g->guard);
  g->now_ms = recoup_book_now_ms (book);
  recoup_date_format_buf (today, g->today_text);
  recoup_allocator_init (&g->alloc);
  g->payments = g_array_new (FALSE, FALSE, sizeof (Payment));
  g->reversed = g_ptr_array_new ();
  g->chunk = g_string_chunk_new (256);
}

static void
gather_clear (Gather *g)
{
  Cursor *cursors[] = { &g->acc, &g->led, &g->prom, &g->act, &g->disp, &g->fu, &g->plan, &g->phone };

  for (guint i = 0; i < G_N_ELEMENTS (cursors); i++)
    if (cursors[i]->stmt != NULL)
      {
        sqlite3_reset (cursors[i]->stmt);
        sqlite3_clear_bindings (cursors[i]->stmt);
      }
  recoup_allocator_clear (&g->alloc);
  g_clear_pointer (&g->payments, g_array_unref);
  g_clear_pointer (&g->reversed, g_ptr_array_unref);
  g_clear_pointer (&g->chunk, g_string_chunk_free);
  g_clear_pointer (&g->policy, g_array_unref);
  recoup_guard_policy_clear (&g->guard);
}

/* Opens every source, for one account or (@account_id NULL) all of them. */
static gboolean
gather_open (Gather      *g,
             const char  *account_id,
             GError     **error)
{
  gboolean one = account_id != NULL;

  if (!cursor_open (g, &g->acc, sql_acc, one ? "id = ?1" : "1", account_id, error) ||
      !cursor_open (g, &g->led, sql_led, one ? "l.account_id = ?1" : "1", account_id, error) ||
      !cursor_open (g, &g->prom, sql_prom, one ? "account_id = ?1" : "1", account_id, error) ||
      !cursor_open (g, &g->act, sql_act, one ? "account_id = ?1" : "1", account_id, error) ||
      !cursor_open (g, &g->disp, sql_disp, one ? "account_id = ?1" : "1", account_id, error) ||
      !cursor_open (g, &g->fu, sql_fu, one ? "account_id = ?1" : "1", account_id, error) ||
      !cursor_open (g, &g->plan, sql_plan, one ? "o.account_id = ?1" : "1", account_id, error) ||
      !cursor_open (g, &g->phone, sql_phone, one ? "account_id = ?1" : "1", account_id, error))
    return FALSE;
  return cursor_next (g, &g->acc, error) && cursor_next (g, &g->led, error) &&
         cursor_next (g, &g->prom, error) && cursor_next (g, &g->act, error) &&
         cursor_next (g, &g->disp, error) && cursor_next (g, &g->fu, error) &&
         cursor_next (g, &g->plan, error) && cursor_next (g, &g->phone, error);
}

gboolean
recoup_derived_gather (RecoupBook          *book,
                       const char          *account_id,
                       gint32               today,
                       RecoupAccountStats  *stats,
                       GError             **error)
{
  Gather g;
  gboolean ok;

  gather_init (&g, book, today);
  ok = gather_open (&g, account_id, error);
  if (ok && !g.acc.has_row)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "no account with id %s", account_id);
      ok = FALSE;
    }
  if (ok)
    ok = gather_current (&g, stats, error);
  gather_clear (&g);
  return ok;
}

static void
bind_day (sqlite3_stmt *stmt,
          int           col,
          gint32        day)
{
  char buf[11];

  if (day == RECOUP_DATE_INVALID)
    sqlite3_bind_null (stmt, col);
  else
    {
      recoup_date_format_buf (day, buf);
      sqlite3_bind_text (stmt, col, buf, -1, SQLITE_TRANSIENT);
    }
}

static void
bind_text_or_null (sqlite3_stmt *stmt,
                   int           col,
                   const char   *text)
{
  if (text == NULL || *text == '\0')
    sqlite3_bind_null (stmt, col);
  else
    sqlite3_bind_text (stmt, col, text, -1, SQLITE_TRANSIENT);
}

static void
bind_ms_or_null (sqlite3_stmt *stmt,
                 int           col,
                 gint64        ms)
{
  if (ms == 0)
    sqlite3_bind_null (stmt, col);
  else
    sqlite3_bind_int64 (stmt, col, ms);
}

static gboolean
write_stats (Gather                   *g,
             const RecoupAccountStats *st,
             GError                  **error)
{
  sqlite3_stmt *w;
  const char *segment, *note, *stage;
  g_autofree char *action = NULL, *reason = NULL;
  gint64 score;

  /* A staged pass only adds rows; a tombstoned account's row went when it
   * was tombstoned. */
  if (st->deleted && g->staged)
    return TRUE;
  if (st->deleted)
    {
      w = recoup_book_prepare (g->book, "DELETE FROM account_stats WHERE account_id = ?", error);
      if (w == NULL)
        return FALSE;
      sqlite3_bind_text (w, 1, st->account_id, -1, SQLITE_STATIC);
      return recoup_book_step_done (g->book, w, error);
    }

  score = recoup_score_compute (&g->settings, st, NULL, &segment, &note);
  recoup_escalation_next (g->policy, st, g->today, &action, &reason, &stage);

  /* Kept for the whole pass: recoup_book_prepare() would hash the SQL text
   * for each of a million rows. */
  if (g->write == NULL && g->staged)
    {
      g_autofree char *sql = g_strconcat ("INSERT INTO stage.account_stats", sql_write + strlen ("INSERT OR REPLACE INTO account_stats"), NULL);

      if (!(g->write = recoup_book_prepare (g->book, sql, error)))
        return FALSE;
    }
  if (g->write == NULL && !(g->write = recoup_book_prepare (g->book, sql_write, error)))
    return FALSE;
  w = g->write;
  sqlite3_bind_text (w, 1, st->account_id, -1, SQLITE_STATIC);
  bind_text_or_null (w, 2, st->assigned_to);
  sqlite3_bind_text (w, 3, st->stage, -1, SQLITE_STATIC);
  bind_text_or_null (w, 4, st->timezone);
  sqlite3_bind_int64 (w, 5, st->balance);
  bind_day (w, 6, st->oldest_due_day);
  sqlite3_bind_int (w, 7, st->oldest_dpd);
  sqlite3_bind_int (w, 8, st->weighted_dpd);
  bind_day (w, 9, st->last_payment_day);
  sqlite3_bind_int (w, 10, st->payments_90d);
  sqlite3_bind_int64 (w, 11, st->paid_90d);
  sqlite3_bind_int (w, 12, st->promises_kept);
  sqlite3_bind_int (w, 13, st->promises_broken);
  bind_day (w, 14, st->promise_due_day);
  bind_day (w, 15, st->promise_broken_day);
  sqlite3_bind_int (w, 16, st->contacts_rpc);
  sqlite3_bind_int (w, 17, st->contact_attempts);
  bind_ms_or_null (w, 18, st->first_contact_at);
  bind_ms_or_null (w, 19, st->last_contact_at);
  bind_ms_or_null (w, 20, st->last_conversation_at);
  sqlite3_bind_int (w, 21, st->open_dispute);
  bind_ms_or_null (w, 22, st->follow_up_at);
  sqlite3_bind_int (w, 23, st->missed_installment);
  bind_day (w, 24, st->plan_due_day);
  sqlite3_bind_int64 (w, 25, score);
  sqlite3_bind_text (w, 26, segment, -1, SQLITE_STATIC);
  sqlite3_bind_int (w, 27, recoup_score_queue_rank (st, segment, g->today, reason, g->recent_days));
  sqlite3_bind_text (w, 28, stage, -1, SQLITE_STATIC);
  sqlite3_bind_text (w, 29, action, -1, SQLITE_STATIC);
  sqlite3_bind_text (w, 30, reason, -1, SQLITE_STATIC);
  sqlite3_bind_text (w, 31, g->today_text, -1, SQLITE_STATIC);
  sqlite3_bind_int (w, 32, st->call_blocks);
  sqlite3_bind_int64 (w, 33, st->calls_open_at);
  return recoup_book_step_done (g->book, w, error);
}

static gboolean
book_today (RecoupBook  *book,
            gint32      *out,
            GError     **error)
{
  g_autofree char *today = recoup_book_today (book);

  *out = recoup_date_parse (today, error);
  if (*out == RECOUP_DATE_INVALID)
    {
      g_prefix_error (error, "the book's today (RECOUP_TODAY?): ");
      return FALSE;
    }
  return TRUE;
}

static gboolean
refresh_one (Gather      *g,
             const char  *account_id,
             GError     **error)
{
  RecoupAccountStats st;
  gboolean ok = gather_open (g, account_id, error);

  if (ok && g->acc.has_row)
    ok = gather_current (g, &st, error) && write_stats (g, &st, error);
  else if (ok)
    {
      /* The account is gone (a rolled-back insert cannot reach here). */
      sqlite3_stmt *w = recoup_book_prepare (g->book, "DELETE FROM account_stats WHERE account_id = ?", error);

      ok = w != NULL;
      if (ok)
        {
          sqlite3_bind_text (w, 1, account_id, -1, SQLITE_STATIC);
          ok = recoup_book_step_done (g->book, w, error);
        }
    }
  return ok;
}

/**
 * recoup_derived_rebuild_all:
 *
 * Rebuilds account_stats for every account in one pass. Runs inside the
 * caller's transaction.
 */
gboolean
recoup_derived_rebuild_all (RecoupBook          *book,
                            RecoupProgressFunc   progress,
                            gpointer             progress_data,
                            GError             **error)
{
  Gather g;
  gint32 today;
  guint64 total = 0, done = 0;
  sqlite3_stmt *count;
  gboolean ok;

  g_return_val_if_fail (recoup_book_in_transaction (book), FALSE);

  if (!book_today (book, &today, error))
    return FALSE;
  if (!(count = recoup_book_prepare (book, "SELECT count(*) FROM accounts", error)))
    return FALSE;
  if (sqlite3_step (count) == SQLITE_ROW)
    total = (guint64) sqlite3_column_int64 (count, 0);
  sqlite3_reset (count);

  /* Writing a million rows into three indexes is slower than building the
   * indexes once at the end. */
  if (!recoup_book_exec (book, drop_index_sql, error) ||
      !recoup_book_exec (book, "DELETE FROM account_stats", error))
    return FALSE;

  gather_init (&g, book, today);
  recoup_score_settings_load (book, &g.settings);
  g.policy = recoup_escalation_policy_load (book);
  ok = gather_open (&g, NULL, error);
  while (ok && g.acc.has_row)
    {
      RecoupAccountStats st;

      ok = gather_current (&g, &st, error) && write_stats (&g, &st, error) &&
           cursor_next (&g, &g.acc, error);
      if (++done % 20000 == 0 && progress != NULL)
        progress (done, total, progress_data);
    }
  gather_clear (&g);
  if (!ok)
    return FALSE;
  if (progress != NULL)
    progress (done, total, progress_data);
  if (!recoup_book_exec (book, index_sql, error) ||
      !recoup_book_exec (book, "ANALYZE account_stats", error) ||
      !recoup_book_set_setting (book, "derived.as_of", g.today_text, error))
    return FALSE;
  {
    g_autofree char *sig = recoup_score_signature (book);

    if (!recoup_book_set_setting (book, "derived.signature", sig, error))
      return FALSE;
  }
  return TRUE;
}

gboolean
recoup_score_is_current (RecoupBook *book)
{
  g_autofree char *today = recoup_book_today (book);
  g_autofree char *as_of = recoup_book_get_setting (book, "derived.as_of");
  g_autofree char *stored = recoup_book_get_setting (book, "derived.signature");
  g_autofree char *current = recoup_score_signature (book);

  return g_strcmp0 (today, as_of) == 0 && g_strcmp0 (stored, current) == 0;
}

/* STATS_COLUMNS, each qualified with @alias ("s.account_id, s.assigned_to, …"). */
static char *
stats_columns_of (const char *alias)
{
  g_auto(GStrv) names = g_strsplit (STATS_COLUMNS, ",", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; names[i] != NULL; i++)
    g_string_append_printf (out, "%s%s.%s", i > 0 ? ", " : "", alias, g_strstrip (names[i]));
  return g_string_free (out, FALSE);
}

/* Rows of the staged pass applied per transaction: each holds the book's
 * write lock for a fraction of a second, so the app's own writes go between. */
#define STAGE_APPLY_ROWS 20000

/*
 * The day's rebuild without holding the book's write lock for its duration:
 * every account is gathered inside one read transaction into a private
 * temporary database ("stage"), then copied into account_stats in short write
 * transactions. An account written in the meantime already has today's
 * stats (the commit refreshes what it touched, as_of = today); the copy leaves
 * those alone.
 */
static gboolean
rebuild_staged (RecoupBook          *book,
                RecoupProgressFunc   progress,
                gpointer             progress_data,
                GError             **error)
{
  sqlite3 *db = recoup_book_get_db (book);
  sqlite3_stmt *apply = NULL;
  sqlite3_stmt *apply_new = NULL;
  Gather g;
  gint32 today;
  guint64 total = 0, done = 0;
  gint64 max_rowid = 0;
  char day_text[11];
  gboolean same_day;
  gint64 t0 = g_get_monotonic_time ();
  g_autofree char *sig = NULL;
  gboolean ok;

  if (!book_today (book, &today, error))
    return FALSE;
  /* What the pass computes with, read before it starts: settings that change
   * meanwhile (a sync) leave the data not current, for the next pass. */
  sig = recoup_score_signature (book);
  if (!recoup_book_exec (book,
                         "ATTACH DATABASE '' AS stage;"
                         "CREATE TABLE stage.account_stats AS SELECT * FROM main.account_stats WHERE 0;",
                         error))
    return FALSE;

  /* 1. Gather (reads the book; writes only the stage). */
  ok = recoup_book_exec (book, "BEGIN", error);
  if (ok)
    {
      sqlite3_stmt *count = recoup_book_prepare (book, "SELECT coalesce(max(rowid), 0) FROM accounts", error);

      ok = count != NULL;
      if (ok && sqlite3_step (count) == SQLITE_ROW)
        total = (guint64) sqlite3_column_int64 (count, 0) * 2;
      if (count != NULL)
        sqlite3_reset (count);
    }
  if (ok)
    {
      gather_init (&g, book, today);
      g.staged = TRUE;
      recoup_score_settings_load (book, &g.settings);
      g.policy = recoup_escalation_policy_load (book);
      ok = gather_open (&g, NULL, error);
      while (ok && g.acc.has_row)
        {
          RecoupAccountStats st;

          ok = gather_current (&g, &st, error) && write_stats (&g, &st, error) &&
               cursor_next (&g, &g.acc, error);
          if (++done % 20000 == 0 && progress != NULL)
            progress (done, total, progress_data);
        }
      gather_clear (&g);
    }
  if (ok)
    ok = recoup_book_exec (book, "COMMIT", error);
  else
    sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
  g_debug ("staged %" G_GUINT64_FORMAT " accounts in %.0f ms", done, (g_get_monotonic_time () - t0) / 1000.0);

  /* 2. Copy into the book, a slice at a time. */
  if (ok)
    {
      sqlite3_stmt *max = recoup_book_prepare (book, "SELECT coalesce(max(rowid), 0) FROM stage.account_stats", error);

      ok = max != NULL;
      if (ok && sqlite3_step (max) == SQLITE_ROW)
        max_rowid = sqlite3_column_int64 (max, 0);
      if (max != NULL)
        sqlite3_reset (max);
      total = done + (guint64) max_rowid;
    }
  /* An UPDATE keeps each row where it is (its rowid and primary-key entry);
   * only the indexes whose keys changed are rewritten. Accounts without a
   * row yet get one. */
  if (ok)
    {
      g_autofree char *from_stage = stats_columns_of ("s");
      g_autofree char *sql = g_strdup_printf ("UPDATE main.account_stats AS m SET (%s) = (%s)"
                                              " FROM stage.account_stats s"
                                              " WHERE s.rowid > ?1 AND s.rowid <= ?2"
                                              " AND m.account_id = s.account_id AND m.as_of IS NOT ?3;"
                                              "INSERT INTO main.account_stats SELECT * FROM stage.account_stats s"
                                              " WHERE s.rowid > ?1 AND s.rowid <= ?2"
                                              " AND NOT EXISTS (SELECT 1 FROM main.account_stats m"
                                              "                 WHERE m.account_id = s.account_id)",
                                              STATS_COLUMNS, from_stage);
      const char *tail = NULL;

      if (sqlite3_prepare_v2 (db, sql, -1, &apply, &tail) != SQLITE_OK ||
          sqlite3_prepare_v2 (db, tail, -1, &apply_new, NULL) != SQLITE_OK)
        ok = recoup_book_set_sqlite_error (book, error);
    }
  /* Settings changed the same day (a sync): every row is replaced. */
  {
    g_autofree char *as_of = recoup_book_get_setting (book, "derived.as_of");

    recoup_date_format_buf (today, day_text);
    same_day = g_strcmp0 (as_of, day_text) == 0;
  }
  for (gint64 from = 0; ok && from < max_rowid; from += STAGE_APPLY_ROWS)
    {
      ok = recoup_book_begin (book, error);
      if (!ok)
        break;
      sqlite3_bind_int64 (apply, 1, from);
      sqlite3_bind_int64 (apply, 2, from + STAGE_APPLY_ROWS);
      if (same_day)
        sqlite3_bind_null (apply, 3);
      else
        sqlite3_bind_text (apply, 3, day_text, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (apply_new, 1, from);
      sqlite3_bind_int64 (apply_new, 2, from + STAGE_APPLY_ROWS);
      ok = recoup_book_step_done (book, apply, error) && recoup_book_step_done (book, apply_new, error);
      /* The last slice marks the data current, in the same transaction. */
      if (ok && from + STAGE_APPLY_ROWS >= max_rowid)
        {
          ok = recoup_book_exec (book, index_sql, error) &&
               recoup_book_set_setting (book, "derived.as_of", day_text, error) &&
               recoup_book_set_setting (book, "derived.signature", sig, error);
        }
      if (ok)
        ok = recoup_book_commit (book, error);
      else
        recoup_book_rollback (book);
      done += STAGE_APPLY_ROWS;
      if (ok && progress != NULL)
        progress (MIN (done, total), total, progress_data);
    }
  if (max_rowid == 0 && ok)
    {
      /* An empty book: only the marks. */
      ok = recoup_book_begin (book, error);
      if (ok && (!recoup_book_set_setting (book, "derived.as_of", day_text, error) ||
                 !recoup_book_set_setting (book, "derived.signature", sig, error)))
        {
          recoup_book_rollback (book);
          ok = FALSE;
        }
      else if (ok)
        ok = recoup_book_commit (book, error);   /* rolls back by itself when it fails */
    }
  if (apply != NULL)
    sqlite3_finalize (apply);
  if (apply_new != NULL)
    sqlite3_finalize (apply_new);
  sqlite3_exec (db, "DETACH DATABASE stage", NULL, NULL, NULL);
  g_debug ("staged stats copied after %.0f ms", (g_get_monotonic_time () - t0) / 1000.0);
  return ok;
}

static int
cancel_handler (void *data)
{
  return g_cancellable_is_cancelled (data) ? 1 : 0;
}

gboolean
recoup_score_update_detached (RecoupBook          *book,
                              RecoupProgressFunc   progress,
                              gpointer             progress_data,
                              GCancellable        *cancellable,
                              GError             **error)
{
  sqlite3 *db = recoup_book_get_db (book);
  g_autoptr(GError) local = NULL;
  gboolean ok;

  if (recoup_score_is_current (book))
    return TRUE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (!recoup_book_exec (book, "PRAGMA cache_size = -8192; PRAGMA temp_store = FILE;", error))
    return FALSE;
  if (cancellable != NULL)
    sqlite3_progress_handler (db, 100000, cancel_handler, cancellable);
  ok = rebuild_staged (book, progress, progress_data, &local);
  if (cancellable != NULL)
    sqlite3_progress_handler (db, 0, NULL, NULL);
  if (!ok && g_cancellable_is_cancelled (cancellable))
    return g_cancellable_set_error_if_cancelled (cancellable, error), FALSE;
  /* A read-only book shows what it has. */
  if (!ok && g_error_matches (local, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED))
    return TRUE;
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  /* The copy rewrote the table and its indexes: a WAL of up to a gigabyte on
   * a million accounts, which the next open would otherwise scan to recover.
   * Best effort: a reader still on an old snapshot keeps it. */
  sqlite3_wal_checkpoint_v2 (db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  return TRUE;
}

static gint32
column_day (sqlite3_stmt *stmt,
            int           col)
{
  return sqlite3_column_type (stmt, col) == SQLITE_NULL ? RECOUP_DATE_INVALID
                                                        : fast_day ((const char *) sqlite3_column_text (stmt, col));
}

/* Whether the stored stats were written in the form this code writes (the
 * signature's first part, "form N;"). */
static gboolean
same_form (RecoupBook *book)
{
  g_autofree char *stored = recoup_book_get_setting (book, "derived.signature");
  g_autofree char *current = recoup_score_signature (book);
  const char *end = strchr (current, ';');

  return stored != NULL && end != NULL && strncmp (stored, current, (gsize) (end - current) + 1) == 0;
}

/* The guard policy's part of the signature ("calls …", its last part):
 * whether calls_open_at was derived by the policy the book has now. */
static gboolean
same_call_policy (RecoupBook *book)
{
  g_autofree char *stored = recoup_book_get_setting (book, "derived.signature");
  g_autofree char *current = recoup_score_signature (book);
  const char *stored_part = stored != NULL ? g_strrstr (stored, ";calls ") : NULL;
  const char *current_part = g_strrstr (current, ";calls ");

  return stored_part != NULL && current_part != NULL && g_str_equal (stored_part, current_part);
}

/* calls_open_at of every account with a call history, again by the book's
 * guard policy now; an account without one has none whatever the policy. */
static gboolean
rederive_calls_open_at (RecoupBook  *book,
                        GError     **error)
{
  g_auto(RecoupGuardPolicy) policy = { 0 };
  gint64 now_ms = recoup_book_now_ms (book);
  sqlite3_stmt *read, *upd;
  int rc;

  recoup_guard_policy_load (book, &policy);
  read = recoup_book_prepare (book,
    "SELECT s.account_id, s.timezone,"
    " max(a.at) FILTER (WHERE " RECOUP_GUARD_CALL_ATTEMPT_SQL "),"
    " max(a.at) FILTER (WHERE " RECOUP_GUARD_CONVERSATION_SQL ")"
    " FROM activities a JOIN account_stats s ON s.account_id = a.account_id"
    " WHERE (" RECOUP_GUARD_CALL_ATTEMPT_SQL ") OR (" RECOUP_GUARD_CONVERSATION_SQL ")"
    " GROUP BY a.account_id", error);
  if (read == NULL)
    return FALSE;
  upd = recoup_book_prepare (book,
    "UPDATE account_stats SET calls_open_at = ?2 WHERE account_id = ?1 AND calls_open_at IS NOT ?2", error);
  if (upd == NULL)
    return FALSE;
  while ((rc = sqlite3_step (read)) == SQLITE_ROW)
    {
      const char *id = RECOUP_BOOK_STMT_TEXT (read, 0);
      gint64 opens_at;

      if (!recoup_guard_call_history_opens_at (book, &policy, id, RECOUP_BOOK_STMT_TEXT (read, 1),
                                               sqlite3_column_int64 (read, 2), sqlite3_column_int64 (read, 3),
                                               now_ms, &opens_at, error))
        break;
      sqlite3_bind_text (upd, 1, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (upd, 2, opens_at);
      if (!recoup_book_step_done (book, upd, error))
        break;
    }
  sqlite3_reset (read);
  if (rc == SQLITE_ROW)
    return FALSE;
  if (rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (book, error);
  return TRUE;
}

/**
 * recoup_derived_rescore_all:
 *
 * Recomputes scores, segments, queue ranks and next actions of the whole book
 * from the stored stats, without reading the ledger or the history again: what
 * a change of weights, thresholds or escalation policy needs; after a change
 * of the guard's policy, the accounts' call history is read again for
 * calls_open_at. Falls back to a full rebuild when the stats are for another
 * day. Runs inside the caller's transaction.
 */
gboolean
recoup_derived_rescore_all (RecoupBook          *book,
                            RecoupProgressFunc   progress,
                            gpointer             progress_data,
                            GError             **error)
{
  g_autofree char *as_of = recoup_book_get_setting (book, "derived.as_of");
  g_autofree char *today_text = recoup_book_today (book);
  g_autoptr(GArray) policy = NULL;
  RecoupScoreSettings settings;
  sqlite3_stmt *read, *upd, *count;
  guint64 total = 0, done = 0;
  gint32 today;
  int recent_days;
  int rc;

  g_return_val_if_fail (recoup_book_in_transaction (book), FALSE);

  /* Stats of another day, or of another form (gathered before they held
   * what this code reads back), are gathered again. */
  if (g_strcmp0 (as_of, today_text) != 0 || !same_form (book))
    return recoup_derived_rebuild_all (book, progress, progress_data, error);
  today = fast_day (today_text);
  recent_days = recoup_score_recent_days (book);
  recoup_score_settings_load (book, &settings);
  policy = recoup_escalation_policy_load (book);

  if (!(count = recoup_book_prepare (book, "SELECT count(*) FROM account_stats", error)))
    return FALSE;
  if (sqlite3_step (count) == SQLITE_ROW)
    total = (guint64) sqlite3_column_int64 (count, 0);
  sqlite3_reset (count);

  if (!recoup_book_exec (book, drop_index_sql, error))
    return FALSE;
  read = recoup_book_prepare (book,
    "SELECT s.account_id, s.assigned_to, s.stage, s.timezone, a.tier, a.lifetime_revenue, a.deleted, a.currency,"
    " s.balance, s.oldest_due_date, s.oldest_dpd, s.weighted_dpd, s.last_payment_date, s.payments_90d,"
    " s.paid_90d, s.promises_kept, s.promises_broken, s.promise_due_date, s.promise_broken_date,"
    " s.contacts_rpc, s.contact_attempts, s.first_contact_at, s.last_contact_at, s.last_conversation_at,"
    " s.open_dispute, s.follow_up_at, s.missed_installment, s.rowid, s.plan_due_date, s.call_blocks"
    " FROM account_stats s JOIN accounts a ON a.id = s.account_id ORDER BY s.rowid", error);
  if (read == NULL)
    return FALSE;
  upd = recoup_book_prepare (book,
    "UPDATE account_stats SET score = ?1, segment = ?2, queue_rank = ?3, recommended_stage = ?4,"
    " next_action = ?5, next_action_reason = ?6 WHERE rowid = ?7", error);
  if (upd == NULL)
    return FALSE;

  while ((rc = sqlite3_step (read)) == SQLITE_ROW)
    {
      RecoupAccountStats st;
      const char *segment, *note, *stage;
      g_autofree char *action = NULL, *reason = NULL;
      gint64 score;

      memset (&st, 0, sizeof st);
      copy_text (st.account_id, sizeof st.account_id, read, 0);
      copy_text (st.assigned_to, sizeof st.assigned_to, read, 1);
      copy_text (st.stage, sizeof st.stage, read, 2);
      copy_text (st.timezone, sizeof st.timezone, read, 3);
      copy_text (st.tier, sizeof st.tier, read, 4);
      st.lifetime_revenue = sqlite3_column_int64 (read, 5);
      st.deleted = sqlite3_column_int (read, 6) != 0;
      copy_text (st.currency, sizeof st.currency, read, 7);
      st.balance = sqlite3_column_int64 (read, 8);
      st.oldest_due_day = column_day (read, 9);
      st.oldest_dpd = sqlite3_column_int (read, 10);
      st.weighted_dpd = sqlite3_column_int (read, 11);
      st.last_payment_day = column_day (read, 12);
      st.payments_90d = sqlite3_column_int (read, 13);
      st.paid_90d = sqlite3_column_int64 (read, 14);
      st.promises_kept = sqlite3_column_int (read, 15);
      st.promises_broken = sqlite3_column_int (read, 16);
      st.promise_due_day = column_day (read, 17);
      st.promise_broken_day = column_day (read, 18);
      st.contacts_rpc = sqlite3_column_int (read, 19);
      st.contact_attempts = sqlite3_column_int (read, 20);
      st.first_contact_at = sqlite3_column_int64 (read, 21);
      st.last_contact_at = sqlite3_column_int64 (read, 22);
      st.last_conversation_at = sqlite3_column_int64 (read, 23);
      st.open_dispute = sqlite3_column_int (read, 24) != 0;
      st.follow_up_at = sqlite3_column_int64 (read, 25);
      st.missed_installment = sqlite3_column_int (read, 26) != 0;
      st.plan_due_day = column_day (read, 28);
      st.call_blocks = sqlite3_column_int (read, 29);
      st.no_contact = blocks_every_contact (st.call_blocks);
      if (recoup_account_stats_on_plan (&st))
        st.plan_dpd = MAX (0, today - st.plan_due_day);

      score = recoup_score_compute (&settings, &st, NULL, &segment, &note);
      recoup_escalation_next (policy, &st, today, &action, &reason, &stage);
      sqlite3_bind_int64 (upd, 1, score);
      sqlite3_bind_text (upd, 2, segment, -1, SQLITE_STATIC);
      sqlite3_bind_int (upd, 3, recoup_score_queue_rank (&st, segment, today, reason, recent_days));
      sqlite3_bind_text (upd, 4, stage, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (upd, 5, action, -1, SQLITE_STATIC);
      sqlite3_bind_text (upd, 6, reason, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (upd, 7, sqlite3_column_int64 (read, 27));
      if (!recoup_book_step_done (book, upd, error))
        {
          sqlite3_reset (read);
          return FALSE;
        }
      if (++done % 20000 == 0 && progress != NULL)
        progress (done, total, progress_data);
    }
  sqlite3_reset (read);
  if (rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (book, error);
  if (progress != NULL)
    progress (done, total, progress_data);
  if (!same_call_policy (book) && !rederive_calls_open_at (book, error))
    return FALSE;
  if (!recoup_book_exec (book, index_sql, error))
    return FALSE;
  {
    g_autofree char *sig = recoup_score_signature (book);

    if (!recoup_book_set_setting (book, "derived.signature", sig, error))
      return FALSE;
  }
  return TRUE;
}

/* Many accounts, but not most of the book (a batch of a bulk write): one merge
 * pass over the touched ids, kept in a temporary table. */
static gboolean
refresh_batch (RecoupBook  *book,
               GHashTable  *account_ids,
               GError     **error)
{
  const char *in = "account_id IN (SELECT id FROM temp.recoup_touched)";
  GHashTableIter iter;
  gpointer key;
  sqlite3_stmt *ins;
  Gather g;
  gint32 today;
  gboolean ok;

  if (!book_today (book, &today, error) ||
      !recoup_book_exec (book, "CREATE TEMP TABLE IF NOT EXISTS recoup_touched (id TEXT PRIMARY KEY);"
                               "DELETE FROM temp.recoup_touched;", error))
    return FALSE;
  if (!(ins = recoup_book_prepare (book, "INSERT OR IGNORE INTO temp.recoup_touched (id) VALUES (?)", error)))
    return FALSE;
  g_hash_table_iter_init (&iter, account_ids);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      sqlite3_bind_text (ins, 1, key, -1, SQLITE_STATIC);
      if (!recoup_book_step_done (book, ins, error))
        return FALSE;
    }

  gather_init (&g, book, today);
  recoup_score_settings_load (book, &g.settings);
  g.policy = recoup_escalation_policy_load (book);
  ok = cursor_open (&g, &g.acc, sql_acc, "id IN (SELECT id FROM temp.recoup_touched)", NULL, error) &&
       cursor_open (&g, &g.led, sql_led, "l.account_id IN (SELECT id FROM temp.recoup_touched)", NULL, error) &&
       cursor_open (&g, &g.prom, sql_prom, in, NULL, error) &&
       cursor_open (&g, &g.act, sql_act, in, NULL, error) &&
       cursor_open (&g, &g.disp, sql_disp, in, NULL, error) &&
       cursor_open (&g, &g.fu, sql_fu, in, NULL, error) &&
       cursor_open (&g, &g.plan, sql_plan, "o.account_id IN (SELECT id FROM temp.recoup_touched)", NULL, error) &&
       cursor_open (&g, &g.phone, sql_phone, in, NULL, error) &&
       cursor_next (&g, &g.acc, error) && cursor_next (&g, &g.led, error) &&
       cursor_next (&g, &g.prom, error) && cursor_next (&g, &g.act, error) &&
       cursor_next (&g, &g.disp, error) && cursor_next (&g, &g.fu, error) &&
       cursor_next (&g, &g.plan, error) && cursor_next (&g, &g.phone, error);
  while (ok && g.acc.has_row)
    {
      RecoupAccountStats st;

      ok = gather_current (&g, &st, error) && write_stats (&g, &st, error) && cursor_next (&g, &g.acc, error);
    }
  gather_clear (&g);
  return ok && recoup_book_exec (book, "DELETE FROM temp.recoup_touched", error);
}

/* One reconcile of the accounts a commit touched: what two copies wrote
 * offline, made to agree once they meet, in the same transaction. */
typedef gboolean (*ReconcileAccount) (RecoupBook  *book,
                                      const char  *account_id,
                                      GError     **error);

/* Runs @reconcile on each account of @account_ids, unless @needed_sql (an
 * EXISTS over the whole book) says no account can need it. The reconciles
 * write only to accounts already in the set, so its keys stay valid. */
static gboolean
reconcile_each (RecoupBook        *self,
                GHashTable        *account_ids,
                const char        *needed_sql,
                ReconcileAccount   reconcile,
                GError           **error)
{
  sqlite3_stmt *any = recoup_book_prepare (self, needed_sql, error);
  gboolean needed = FALSE;
  GList *ids;
  gboolean ok = TRUE;

  if (any == NULL)
    return FALSE;
  if (sqlite3_step (any) == SQLITE_ROW)
    needed = sqlite3_column_int (any, 0);
  sqlite3_reset (any);
  if (!needed)
    return TRUE;

  ids = g_hash_table_get_keys (account_ids);
  for (GList *l = ids; l != NULL && ok; l = l->next)
    ok = reconcile (self, l->data, error);
  g_list_free (ids);
  return ok;
}

/* Waivers of one entry that two copies wrote offline take off no more than
 * the entry once they meet (recoup_ledger_reconcile_waivers()). */
static gboolean
reconcile_waivers (RecoupBook  *book,
                   const char  *account_id,
                   GError     **error)
{
  guint written = 0;

  return recoup_ledger_reconcile_waivers (book, account_id, &written, error);
}

/* A payment that completes a discounted settlement writes its discount, a
 * reversal that reopens it reverses it (recoup_offer_reconcile_account()). */
static gboolean
reconcile_offers (RecoupBook  *book,
                  const char  *account_id,
                  GError     **error)
{
  return recoup_offer_reconcile_account (book, account_id, NULL, error);
}

gboolean
recoup_book_refresh_accounts (RecoupBook  *self,
                              GHashTable  *account_ids,
                              GError     **error)
{
  GHashTableIter iter;
  gpointer key;
  Gather g;
  gint32 today;
  gboolean ok = TRUE;
  guint n;

  /* First the ledger follows the offers: a payment that completes a discounted
   * settlement writes its discount, a reversal that reopens it reverses it,
   * inside this same transaction. Those writes touch only accounts already in
   * the set. */
  if (!reconcile_each (self, account_ids, "SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE waives_id IS NOT NULL)",
                       reconcile_waivers, error) ||
      !reconcile_each (self, account_ids, "SELECT EXISTS (SELECT 1 FROM offers)", reconcile_offers, error) ||
      /* A dispute resolved on two copies that had not synced left the
       * losing resolution's remedy in the ledger: an item for the owner,
       * raised once every change of a merge batch is in, so the order they
       * came in does not matter. */
      !reconcile_each (self, account_ids, "SELECT EXISTS (SELECT 1 FROM disputes WHERE status <> 'open')",
                       recoup_review_raise_dispute_clashes, error))
    return FALSE;

  n = g_hash_table_size (account_ids);

  if (n > BATCH_THRESHOLD)
    {
      /* Accounts are never deleted (tombstones), so the largest rowid is
       * their number, read in O(log n). */
      sqlite3_stmt *count = recoup_book_prepare (self, "SELECT coalesce(max(rowid), 0) FROM accounts", error);
      gint64 total = 0;

      if (count == NULL)
        return FALSE;
      if (sqlite3_step (count) == SQLITE_ROW)
        total = sqlite3_column_int64 (count, 0);
      sqlite3_reset (count);
      /* Most of the book (a first import): rebuild it whole. */
      if ((gint64) n * 2 >= total)
        return recoup_derived_rebuild_all (self, NULL, NULL, error);
      return refresh_batch (self, account_ids, error);
    }

  if (!book_today (self, &today, error))
    return FALSE;
  gather_init (&g, self, today);
  recoup_score_settings_load (self, &g.settings);
  g.policy = recoup_escalation_policy_load (self);
  g_hash_table_iter_init (&iter, account_ids);
  while (ok && g_hash_table_iter_next (&iter, &key, NULL))
    ok = refresh_one (&g, key, error);
  gather_clear (&g);
  return ok;
}
