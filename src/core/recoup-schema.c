/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-book"

#include "config.h"

#include "recoup-schema-private.h"
#include "recoup-search-private.h"

/*
 * Schema migrations. Entry N takes a book from user_version N to N + 1 and runs
 * inside one transaction with the version bump. Never edit a released entry:
 * append a new one and raise RECOUP_SCHEMA_VERSION.
 *
 * Conventions: ids are UUIDv7 text; money is INTEGER minor units with a currency
 * column; calendar dates are 'YYYY-MM-DD' text; instants are INTEGER UTC
 * milliseconds. Nothing the user entered is deleted: rows carry `deleted` (a
 * tombstone) or are closed by later rows.
 */
static const char migration_1[] =
  "CREATE TABLE settings ("
  "  key   TEXT PRIMARY KEY,"
  "  value TEXT NOT NULL"
  ");"

  "CREATE TABLE users ("
  "  id                    TEXT PRIMARY KEY,"
  "  name                  TEXT NOT NULL,"
  "  email                 TEXT,"
  "  role                  TEXT NOT NULL CHECK (role = 'owner' OR role = 'collector' OR role = 'bookkeeper'),"
  "  max_discount_bp       INTEGER NOT NULL DEFAULT 0 CHECK (max_discount_bp BETWEEN 0 AND 10000),"
  "  max_plan_installments INTEGER NOT NULL DEFAULT 0 CHECK (max_plan_installments >= 0),"
  "  can_override          INTEGER NOT NULL DEFAULT 0,"
  "  created_at            INTEGER NOT NULL,"
  "  deleted               INTEGER NOT NULL DEFAULT 0"
  ");"

  "CREATE TABLE accounts ("
  "  id                     TEXT PRIMARY KEY,"
  "  ref                    TEXT NOT NULL UNIQUE,"
  "  name                   TEXT NOT NULL,"
  "  timezone               TEXT,"
  "  currency               TEXT NOT NULL,"
  "  assigned_to            TEXT REFERENCES users (id),"
  "  stage                  TEXT NOT NULL DEFAULT 'pre-collection',"
  "  tier                   TEXT,"
  "  lifetime_revenue       INTEGER NOT NULL DEFAULT 0,"
  "  tags                   TEXT NOT NULL DEFAULT '',"
  "  cease_communication    INTEGER NOT NULL DEFAULT 0,"
  "  attorney_represented   INTEGER NOT NULL DEFAULT 0,"
  "  bankruptcy             INTEGER NOT NULL DEFAULT 0,"
  "  deceased               INTEGER NOT NULL DEFAULT 0,"
  "  validation_notice_date TEXT,"
  "  placed_on              TEXT,"
  "  review_flag            TEXT,"
  "  notes                  TEXT NOT NULL DEFAULT '',"
  "  created_at             INTEGER NOT NULL,"
  "  deleted                INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX accounts_by_assignee ON accounts (assigned_to);"

  "CREATE TABLE contact_points ("
  "  id         TEXT PRIMARY KEY,"
  "  account_id TEXT NOT NULL REFERENCES accounts (id),"
  "  kind       TEXT NOT NULL CHECK (kind = 'phone' OR kind = 'email' OR kind = 'address'),"
  "  value      TEXT NOT NULL,"
  "  label      TEXT NOT NULL DEFAULT '',"
  "  is_primary INTEGER NOT NULL DEFAULT 0,"
  "  consent    INTEGER NOT NULL DEFAULT 1,"
  "  opted_out  INTEGER NOT NULL DEFAULT 0,"
  "  created_at INTEGER NOT NULL,"
  "  deleted    INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX contact_points_by_account ON contact_points (account_id);"

  "CREATE TABLE invoices ("
  "  id          TEXT PRIMARY KEY,"
  "  account_id  TEXT NOT NULL REFERENCES accounts (id),"
  "  ref         TEXT NOT NULL UNIQUE,"
  "  issue_date  TEXT NOT NULL,"
  "  due_date    TEXT NOT NULL CHECK (due_date >= issue_date),"
  "  amount      INTEGER NOT NULL CHECK (amount >= 0),"
  "  currency    TEXT NOT NULL,"
  "  description TEXT NOT NULL DEFAULT '',"
  "  created_at  INTEGER NOT NULL,"
  "  deleted     INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX invoices_by_account ON invoices (account_id);"

  /* Signed amounts: what raises the balance is positive (charge, fee, interest),
   * what lowers it negative (payment, waiver, discount, write-off). A reversal
   * carries the negated amount of the entry it reverses. */
  "CREATE TABLE ledger_entries ("
  "  id             TEXT PRIMARY KEY,"
  "  account_id     TEXT NOT NULL REFERENCES accounts (id),"
  "  invoice_id     TEXT REFERENCES invoices (id),"
  "  kind           TEXT NOT NULL CHECK (kind = 'charge' OR kind = 'payment' OR kind = 'fee' OR kind = 'interest' OR kind = 'adjustment' OR kind = 'waiver' OR kind = 'discount' OR kind = 'write-off' OR kind = 'reversal'),"
  "  amount         INTEGER NOT NULL,"
  "  currency       TEXT NOT NULL,"
  "  effective_date TEXT NOT NULL,"
  "  method         TEXT,"
  "  reference      TEXT,"
  "  receipt_no     TEXT UNIQUE,"
  "  reverses_id    TEXT UNIQUE REFERENCES ledger_entries (id),"
  "  offer_id       TEXT,"
  "  memo           TEXT NOT NULL DEFAULT '',"
  "  user_id        TEXT,"
  "  created_at     INTEGER NOT NULL"
  ");"
  "CREATE INDEX ledger_by_account ON ledger_entries (account_id, effective_date);"
  "CREATE INDEX ledger_by_invoice ON ledger_entries (invoice_id) WHERE invoice_id IS NOT NULL;"

  "CREATE TABLE activities ("
  "  id               TEXT PRIMARY KEY,"
  "  account_id       TEXT NOT NULL REFERENCES accounts (id),"
  "  channel          TEXT NOT NULL CHECK (channel = 'call' OR channel = 'sms' OR channel = 'email' OR channel = 'letter' OR channel = 'visit' OR channel = 'note' OR channel = 'system'),"
  "  direction        TEXT NOT NULL DEFAULT 'outbound',"
  "  outcome          TEXT,"
  "  contact_point_id TEXT,"
  "  at               INTEGER NOT NULL,"
  "  user_id          TEXT,"
  "  notes            TEXT NOT NULL DEFAULT '',"
  "  override_reason  TEXT,"
  "  created_at       INTEGER NOT NULL"
  ");"
  "CREATE INDEX activities_by_account ON activities (account_id, at);"

  "CREATE TABLE promises ("
  "  id          TEXT PRIMARY KEY,"
  "  account_id  TEXT NOT NULL REFERENCES accounts (id),"
  "  amount      INTEGER NOT NULL CHECK (amount > 0),"
  "  currency    TEXT NOT NULL,"
  "  due_date    TEXT NOT NULL,"
  "  channel     TEXT,"
  "  activity_id TEXT,"
  "  grace_days  INTEGER NOT NULL DEFAULT 0,"
  "  user_id     TEXT,"
  "  created_at  INTEGER NOT NULL,"
  "  deleted     INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX promises_by_account ON promises (account_id, due_date);"

  "CREATE TABLE offers ("
  "  id                TEXT PRIMARY KEY,"
  "  account_id        TEXT NOT NULL REFERENCES accounts (id),"
  "  kind              TEXT NOT NULL,"
  "  currency          TEXT NOT NULL,"
  "  balance_at_offer  INTEGER NOT NULL,"
  "  total             INTEGER NOT NULL,"
  "  discount_bp       INTEGER NOT NULL DEFAULT 0,"
  "  installments      INTEGER NOT NULL DEFAULT 1,"
  "  frequency         TEXT,"
  "  first_date        TEXT,"
  "  pay_by            TEXT,"
  "  extend_to         TEXT,"
  "  waive_fees        INTEGER NOT NULL DEFAULT 0,"
  "  waive_interest    INTEGER NOT NULL DEFAULT 0,"
  "  expires_on        TEXT,"
  "  needs_approval    INTEGER NOT NULL DEFAULT 0,"
  "  created_by        TEXT,"
  "  created_at        INTEGER NOT NULL"
  ");"
  "CREATE INDEX offers_by_account ON offers (account_id);"

  /* Offer state is derived by replaying these events in hlc order. */
  "CREATE TABLE offer_events ("
  "  id        TEXT PRIMARY KEY,"
  "  offer_id  TEXT NOT NULL REFERENCES offers (id),"
  "  event     TEXT NOT NULL,"
  "  hlc       INTEGER NOT NULL,"
  "  device_id TEXT NOT NULL,"
  "  user_id   TEXT,"
  "  note      TEXT NOT NULL DEFAULT '',"
  "  at        INTEGER NOT NULL"
  ");"
  "CREATE INDEX offer_events_by_offer ON offer_events (offer_id, hlc);"

  "CREATE TABLE installments ("
  "  id       TEXT PRIMARY KEY,"
  "  offer_id TEXT NOT NULL REFERENCES offers (id),"
  "  seq      INTEGER NOT NULL,"
  "  due_date TEXT NOT NULL,"
  "  amount   INTEGER NOT NULL,"
  "  UNIQUE (offer_id, seq)"
  ");"

  "CREATE TABLE disputes ("
  "  id          TEXT PRIMARY KEY,"
  "  account_id  TEXT NOT NULL REFERENCES accounts (id),"
  "  invoice_id  TEXT REFERENCES invoices (id),"
  "  reason      TEXT NOT NULL,"
  "  status      TEXT NOT NULL DEFAULT 'open' CHECK (status = 'open' OR status = 'upheld' OR status = 'rejected'),"
  "  resolution  TEXT NOT NULL DEFAULT '',"
  "  opened_by   TEXT,"
  "  opened_at   INTEGER NOT NULL,"
  "  resolved_by TEXT,"
  "  resolved_at INTEGER"
  ");"
  "CREATE INDEX disputes_by_account ON disputes (account_id);"

  "CREATE TABLE follow_ups ("
  "  id          TEXT PRIMARY KEY,"
  "  account_id  TEXT NOT NULL REFERENCES accounts (id),"
  "  due_at      INTEGER NOT NULL,"
  "  note        TEXT NOT NULL DEFAULT '',"
  "  assigned_to TEXT,"
  "  done_at     INTEGER,"
  "  created_at  INTEGER NOT NULL,"
  "  deleted     INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX follow_ups_by_due ON follow_ups (due_at) WHERE done_at IS NULL AND deleted = 0;"

  /* The change log: what sync pushes, and the audit trail (who, which device,
   * when, what). fields is a JSON object of the values the change set. */
  "CREATE TABLE changes ("
  "  seq            INTEGER PRIMARY KEY,"
  "  id             TEXT NOT NULL UNIQUE,"
  "  hlc            INTEGER NOT NULL,"
  "  device_id      TEXT NOT NULL,"
  "  user_id        TEXT,"
  "  entity         TEXT NOT NULL,"
  "  entity_id      TEXT NOT NULL,"
  "  op             TEXT NOT NULL CHECK (op = 'insert' OR op = 'set' OR op = 'transition' OR op = 'tombstone'),"
  "  fields         TEXT CHECK (op = 'tombstone' OR fields IS NOT NULL),"
  "  schema_version INTEGER NOT NULL,"
  "  server_seq     INTEGER"
  ");"
  "CREATE INDEX changes_unsent ON changes (seq) WHERE server_seq IS NULL;"
  "CREATE INDEX changes_by_entity ON changes (entity_id);"

  /* Last writer per mutable field, for last-writer-wins merges. */
  "CREATE TABLE field_clocks ("
  "  entity    TEXT NOT NULL,"
  "  entity_id TEXT NOT NULL,"
  "  field     TEXT NOT NULL,"
  "  hlc       INTEGER NOT NULL,"
  "  device_id TEXT NOT NULL,"
  "  PRIMARY KEY (entity, entity_id, field)"
  ") WITHOUT ROWID;"

  "CREATE TABLE imports ("
  "  id        TEXT PRIMARY KEY,"
  "  file_name TEXT NOT NULL,"
  "  at        INTEGER NOT NULL,"
  "  user_id   TEXT,"
  "  created   INTEGER NOT NULL,"
  "  updated   INTEGER NOT NULL,"
  "  unchanged INTEGER NOT NULL,"
  "  skipped   INTEGER NOT NULL"
  ");";

/* Offers, plans and promises (issue 4): the book's day on which a promise was
 * made and an offer event happened (RECOUP_TODAY-aware, so payment windows and
 * expiry are judged on calendar days, not wall-clock instants); the amount of
 * fees and interest an offer waives, fixed when it is made. */
static const char migration_2[] =
  "ALTER TABLE promises ADD COLUMN made_on TEXT;"
  "ALTER TABLE offer_events ADD COLUMN day TEXT;"
  "ALTER TABLE offers ADD COLUMN waived_amount INTEGER NOT NULL DEFAULT 0;"
  "CREATE INDEX promises_by_due ON promises (due_date);"
  "CREATE INDEX ledger_by_offer ON ledger_entries (offer_id) WHERE offer_id IS NOT NULL;"
  "CREATE INDEX disputes_open ON disputes (account_id) WHERE status = 'open';";

/* Worklists, scores and the compliance guard (issue 3). account_stats is derived
 * and LOCAL to this copy of the book: it is never synced nor written to the
 * change log; recoup-derived.c rebuilds it from the synced tables (whole-book
 * when it is missing or stale). accounts.opt_out_channels is a synced mutable
 * field: the channels (comma-separated) the debtor asked not to be used. */
static const char migration_3[] =
  "ALTER TABLE accounts ADD COLUMN opt_out_channels TEXT NOT NULL DEFAULT '';"
  "CREATE TABLE account_stats ("
  "  account_id           TEXT PRIMARY KEY,"
  "  assigned_to          TEXT,"
  "  stage                TEXT NOT NULL,"
  "  timezone             TEXT,"
  "  balance              INTEGER NOT NULL,"
  "  oldest_due_date      TEXT,"
  "  oldest_dpd           INTEGER NOT NULL,"
  "  weighted_dpd         INTEGER NOT NULL,"
  "  last_payment_date    TEXT,"
  "  payments_90d         INTEGER NOT NULL,"
  "  paid_90d             INTEGER NOT NULL,"
  "  promises_kept        INTEGER NOT NULL,"
  "  promises_broken      INTEGER NOT NULL,"
  "  promise_due_date     TEXT,"
  "  promise_broken_date  TEXT,"
  "  contacts_rpc         INTEGER NOT NULL,"
  "  contact_attempts     INTEGER NOT NULL,"
  "  first_contact_at     INTEGER,"
  "  last_contact_at      INTEGER,"
  "  last_conversation_at INTEGER,"
  "  open_dispute         INTEGER NOT NULL,"
  "  follow_up_at         INTEGER,"
  "  missed_installment   INTEGER NOT NULL,"
  "  score                INTEGER NOT NULL,"
  "  segment              TEXT NOT NULL,"
  "  queue_rank           INTEGER NOT NULL,"
  "  recommended_stage    TEXT,"
  "  next_action          TEXT,"
  "  next_action_reason   TEXT,"
  "  as_of                TEXT NOT NULL"
  ");"
  "CREATE INDEX account_stats_queue ON account_stats (queue_rank, score DESC, account_id);"
  "CREATE INDEX account_stats_by_assignee ON account_stats (assigned_to, queue_rank, score DESC, account_id);"
  "CREATE INDEX account_stats_by_segment ON account_stats (segment, queue_rank, score DESC, account_id);";

/* Sync (issue 6): both tables are LOCAL to this copy of the book and never sync.
 * sync_conflicts keeps the values that lost a last-writer-wins merge here, so
 * the user can see them; sync_rejections the server's answer to own changes it
 * refused (they stay in the change log, nothing unsent is discarded). */
static const char migration_4[] =
  "CREATE TABLE sync_conflicts ("
  "  id               INTEGER PRIMARY KEY,"
  "  entity           TEXT NOT NULL,"
  "  entity_id        TEXT NOT NULL,"
  "  field            TEXT NOT NULL,"
  "  value            TEXT,"
  "  hlc              INTEGER NOT NULL,"
  "  device_id        TEXT NOT NULL,"
  "  winner_hlc       INTEGER NOT NULL,"
  "  winner_device_id TEXT NOT NULL,"
  "  change_id        TEXT NOT NULL,"
  "  at               INTEGER NOT NULL"
  ");"
  "CREATE INDEX sync_conflicts_by_entity ON sync_conflicts (entity_id);"
  "CREATE TABLE sync_rejections ("
  "  change_id TEXT PRIMARY KEY,"
  "  reason    TEXT NOT NULL,"
  "  message   TEXT NOT NULL,"
  "  at        INTEGER NOT NULL"
  ");";

/* Reminders and correspondence (issue 8). templates: the book's own versions of
 * reminder templates (id = the template's name; a missing name falls back to
 * the shipped default); synced, last writer wins per field. outbox: emails
 * waiting to be sent; synced for the history, but only the device that queued
 * a message (device_id) ever sends it. state: queued -> sending -> sent, or
 * failed (retry puts it back to queued), or uncertain (a send interrupted
 * between the SMTP transaction and recording it: never resent without the
 * user's decision). */
static const char migration_5[] =
  "CREATE TABLE templates ("
  "  id         TEXT PRIMARY KEY,"
  "  channel    TEXT NOT NULL CHECK (channel IN ('email','letter','sms')),"
  "  subject    TEXT NOT NULL DEFAULT '',"
  "  body       TEXT NOT NULL,"
  "  updated_at INTEGER NOT NULL,"
  "  deleted    INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE TABLE outbox ("
  "  id              TEXT PRIMARY KEY,"
  "  account_id      TEXT REFERENCES accounts (id),"
  "  device_id       TEXT NOT NULL,"
  "  message_id      TEXT NOT NULL UNIQUE,"
  "  template        TEXT,"
  "  to_addr         TEXT NOT NULL,"
  "  subject         TEXT NOT NULL,"
  "  body            TEXT NOT NULL,"
  "  attachment_path TEXT,"
  "  attachment_name TEXT,"
  "  state           TEXT NOT NULL DEFAULT 'queued'"
  "                  CHECK (state IN ('queued','sending','sent','failed','uncertain')),"
  "  attempts        INTEGER NOT NULL DEFAULT 0,"
  "  last_error      TEXT,"
  "  created_at      INTEGER NOT NULL,"
  "  claimed_at      INTEGER,"
  "  sent_at         INTEGER,"
  "  activity_id     TEXT"
  ");"
  "CREATE INDEX outbox_by_state ON outbox (device_id, state, created_at);"
  "CREATE INDEX outbox_by_account ON outbox (account_id);";

/* Compliance guard (issue 3): the guard counts calls and conversations per
 * account from the activity log on every check, and the score reads contact
 * counts for the whole book; this index answers both without table lookups. */
static const char migration_6[] =
  "CREATE INDEX activities_by_account_channel ON activities (account_id, channel, at, direction, outcome);";

/* Compact inserts (issue 2, import speed): an `insert` change stores no fields;
 * its row's values are read when the change is sent (recoup_book_record_change()
 * and recoup-merge.c). SQLite cannot alter a CHECK, so the change log is copied
 * into a table that allows NULL fields for an insert. Inserts recorded before
 * keep their fields, and so does an insert merged from another book. */
static const char migration_7[] =
  "CREATE TABLE changes_7 ("
  "  seq            INTEGER PRIMARY KEY,"
  "  id             TEXT NOT NULL UNIQUE,"
  "  hlc            INTEGER NOT NULL,"
  "  device_id      TEXT NOT NULL,"
  "  user_id        TEXT,"
  "  entity         TEXT NOT NULL,"
  "  entity_id      TEXT NOT NULL,"
  "  op             TEXT NOT NULL CHECK (op = 'insert' OR op = 'set' OR op = 'transition' OR op = 'tombstone'),"
  "  fields         TEXT CHECK (op = 'tombstone' OR op = 'insert' OR fields IS NOT NULL),"
  "  schema_version INTEGER NOT NULL,"
  "  server_seq     INTEGER"
  ");"
  "INSERT INTO changes_7 (seq, id, hlc, device_id, user_id, entity, entity_id, op, fields,"
  "                       schema_version, server_seq)"
  "  SELECT seq, id, hlc, device_id, user_id, entity, entity_id, op, fields, schema_version, server_seq"
  "  FROM changes ORDER BY seq;"
  "DROP TABLE changes;"
  "ALTER TABLE changes_7 RENAME TO changes;"
  "CREATE INDEX changes_unsent ON changes (seq) WHERE server_seq IS NULL;"
  "CREATE INDEX changes_by_entity ON changes (entity_id);";

/* Search (accent- and case-insensitive names, phone numbers by their digits):
 * both tables are derived and LOCAL to this copy of the book, never synced nor
 * in the change log; recoup-search.c keeps them (see there). account_search
 * gives each account a small key n and lists its terms; account_search_terms
 * holds one row per term. recoup_schema_finish_migration() fills them. */
static const char migration_8[] =
  "CREATE TABLE account_search ("
  "  n          INTEGER PRIMARY KEY,"
  "  account_id TEXT NOT NULL UNIQUE,"
  "  terms      TEXT NOT NULL"
  ");"
  "CREATE TABLE account_search_terms ("
  "  term TEXT NOT NULL,"
  "  n    INTEGER NOT NULL,"
  "  PRIMARY KEY (term, n)"
  ") WITHOUT ROWID;";

/* Shared settings sync (sync schema 8): a server of an earlier Recoup refused
 * every settings change as an unknown entity, and a refused change is never
 * sent again. Forgetting those refusals sends an owner's settings (and anyone's
 * saved worklists) once more; another user's owner-only settings stay refused
 * and so stay on their device, rather than being refused now and undone.
 * Payment plans in the derived stats: the due date of a live plan's oldest
 * unpaid installment (NULL: no live plan). account_stats is local, so the
 * sync schema does not move for it; its rows are rebuilt once by the derived
 * data's form (recoup-score.c). */
static const char migration_9[] =
  "DELETE FROM sync_rejections WHERE reason = 'unknown_entity'"
  "  AND change_id IN (SELECT c.id FROM changes c LEFT JOIN users u ON u.id = c.user_id"
  "                    WHERE c.entity = 'settings'"
  "                      AND (u.role = 'owner' OR c.entity_id GLOB 'worklist.saved.*'));"
  "ALTER TABLE account_stats ADD COLUMN plan_due_date TEXT;"

  /* What the owner must look at (recoup-review.c), append-only so that two
   * collectors' items and an owner's marks made offline all survive a merge
   * (accounts.review_flag was one text, last writer wins). The payload is
   * JSON of the values, worded for each reader when listed. An item is open
   * while it has no mark. */
  "CREATE TABLE review_items ("
  "  id         TEXT PRIMARY KEY,"
  "  account_id TEXT NOT NULL REFERENCES accounts (id),"
  "  kind       TEXT NOT NULL,"
  "  payload    TEXT NOT NULL DEFAULT '{}',"
  "  hlc        INTEGER NOT NULL,"
  "  device_id  TEXT NOT NULL,"
  "  user_id    TEXT,"
  "  created_at INTEGER NOT NULL"
  ");"
  "CREATE INDEX review_items_by_account ON review_items (account_id, created_at);"
  "CREATE TABLE review_marks ("
  "  id        TEXT PRIMARY KEY,"
  "  item_id   TEXT NOT NULL REFERENCES review_items (id),"
  "  hlc       INTEGER NOT NULL,"
  "  device_id TEXT NOT NULL,"
  "  user_id   TEXT,"
  "  at        INTEGER NOT NULL"
  ");"
  "CREATE INDEX review_marks_by_item ON review_marks (item_id);";

/* A waiver that waives a fee or an interest entry names it (waives_id), and
 * so does the reversal of such a waiver: the allocation nets both into that
 * entry's item, as a reversal nets into the entry it reverses, instead of
 * letting the waiver pay the oldest invoice (recoup-ledger-private.h). Not
 * unique: a fee may be waived in parts. A synced column (sync schema 9),
 * sent only when set (late_columns in recoup-book.c): an entry that names
 * none, as every entry written before this migration, still syncs with a
 * server of an earlier Recoup. */
static const char migration_10[] =
  "ALTER TABLE ledger_entries ADD COLUMN waives_id TEXT REFERENCES ledger_entries (id);"
  "CREATE INDEX ledger_by_waives ON ledger_entries (waives_id) WHERE waives_id IS NOT NULL;";

/* What stops every call to an account (RecoupCallBlocks), derived so that a
 * list of the accounts callable now reads it from account_stats instead of
 * each account's flags, phone numbers and disputes. Local, like the rest of
 * the table, so the sync schema does not move. Every block is set until the
 * rows are gathered again (the derived data's form, recoup-score.c): no
 * account is listed as callable on a guess. The index of the open accounts
 * gives way to one that also holds the blocks and the zone, which
 * recoup-derived.c makes with the rows. */
static const char migration_11[] =
  "ALTER TABLE account_stats ADD COLUMN call_blocks INTEGER NOT NULL DEFAULT -1;"
  "DROP INDEX IF EXISTS account_stats_open;";

/* When the rules of an account's call history (too many calls in 7 days, a
 * recent conversation) stop blocking calls (UTC ms, 0 when they do not), so
 * that the list of the accounts callable now leaves out those the guard
 * blocks for them too, without reading each account's history. Local, like
 * the rest of the table. Never, until the rows are gathered again (the
 * derived data's form): no account is listed as callable on a guess. The
 * index of the open accounts gives way to one that holds it too, which
 * recoup-derived.c makes with the rows. */
static const char migration_12[] =
  "ALTER TABLE account_stats ADD COLUMN calls_open_at INTEGER NOT NULL DEFAULT 9223372036854775807;"
  "DROP INDEX IF EXISTS account_stats_open_queue;";

static const char * const migrations[] = {
  migration_1,
  migration_2,
  migration_3,
  migration_4,
  migration_5,
  migration_6,
  migration_7,
  migration_8,
  migration_9,
  migration_10,
  migration_11,
  migration_12,
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == RECOUP_SCHEMA_VERSION);

const char *
recoup_schema_get_migration (int from_version)
{
  if (from_version < 0 || from_version >= (int) G_N_ELEMENTS (migrations))
    return NULL;
  return migrations[from_version];
}

/* What a migration computes in C, inside its transaction, after its SQL took
 * the book to @to_version. */
gboolean
recoup_schema_finish_migration (RecoupBook  *book,
                                int          to_version,
                                GError     **error)
{
  switch (to_version)
    {
    case 8:
      return recoup_search_rebuild (book, error);
    default:
      return TRUE;
    }
}
