/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-demo"

#include "config.h"

#include <string.h>

#include "recoup-accounts.h"
#include "recoup-activity.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-demo.h"
#include "recoup-settings.h"
#include "recoup-dispute.h"
#include "recoup-id.h"
#include "recoup-ledger.h"
#include "recoup-money.h"
#include "recoup-promise.h"

/*
 * The demo generator: a realistic, deterministic book for demos, tests and
 * benchmarks.
 *
 * One GRand seeded with the seed makes every decision, in a fixed order, so the
 * same seed and the same "today" give the same content (the UUIDv7 ids and the
 * created_at instants differ; nothing else does). Every write goes through the
 * core API, like any other client's: the demo exercises validation, the change
 * log and the derived-data refresh exactly as real use does.
 *
 * Accounts are written in batches of BATCH_SIZE, each batch one transaction, so
 * a million accounts take minutes and a cancelled run keeps the batches that
 * were already committed (and nothing of the one in progress).
 */

#include "recoup-demo-data.inc"

#define BATCH_SIZE      5000
#define MAX_INVOICES    5
#define MAX_ACTIVITIES  18
#define DAY_MS          (G_GINT64_CONSTANT (86400000))

typedef struct
{
  char  *id;
  char  *name;
} DemoUser;

typedef struct
{
  RecoupBook  *book;
  GRand       *rand;
  gint32       today;
  gint64       now_ms;            /* nothing is logged after this instant */
  GTimeZone   *tz[G_N_ELEMENTS (zones)];
  guint        zone_total;
  guint        account_base;      /* refs continue after the accounts already in the book */
  guint        invoice_seq;
  GPtrArray   *collectors;        /* DemoUser* */
  DemoUser    *bookkeeper;
  char        *owner_id;
  char        *original_user;
  RecoupDemoCounts pending;       /* written in the open batch */
} Demo;

typedef struct
{
  char    id[RECOUP_UUID_STRING_LEN + 1];
  gint32  issue;
  gint32  due;
  gint64  amount;
  gint64  open;          /* our running view of what is still open on it */
} DemoInvoice;

typedef struct
{
  gint32      day;
  int         second;    /* local second of the day */
  const char *channel;
} DemoSlot;

typedef struct
{
  const Zone       *zone;
  const LocaleData *loc;
  GTimeZone        *tz;
  gboolean          us;
  gboolean          business;
  char             *id;
  char             *phone_id;
  char             *phone2_id;
  char             *email_id;
  char             *address_id;
  DemoInvoice       invoices[MAX_INVOICES];
  guint             n_invoices;
  gint64            balance;        /* what we expect the ledger to say */
  gint32            first_due;
  int               age;            /* days past the first due date; <= 0 is current */
  gboolean          pending_promise;
  gboolean          escalated;
} DemoAccount;

/* ---- Random helpers ---------------------------------------------------------- */

static guint
pick (Demo  *demo,
      guint  n)
{
  return (guint) g_rand_int_range (demo->rand, 0, (gint32) n);
}

static int
between (Demo *demo,
         int   lo,
         int   hi)          /* inclusive */
{
  return g_rand_int_range (demo->rand, lo, hi + 1);
}

static gboolean
chance (Demo  *demo,
        guint  per_mille)
{
  return pick (demo, 1000) < per_mille;
}

static guint
pick_weighted (Demo        *demo,
               const guint *weights,
               guint        n)
{
  guint total = 0, r;

  for (guint i = 0; i < n; i++)
    total += weights[i];
  r = pick (demo, total);
  for (guint i = 0; i < n; i++)
    {
      if (r < weights[i])
        return i;
      r -= weights[i];
    }
  return n - 1;
}

#define PICK_WORD(demo, array) ((array)[pick ((demo), G_N_ELEMENTS (array))])

/* Amounts are drawn per order of magnitude, so a few large debts sit beside
 * many small ones (a long tail from 50 to 50,000). Integer arithmetic only. */
static gint64
draw_amount (Demo     *demo,
             gboolean  business)
{
  static const guint person[] = { 34, 36, 22, 7, 1 };
  static const guint company[] = { 10, 25, 35, 22, 8 };
  static const int lo[] = { 50, 200, 1000, 5000, 20000 };
  static const int hi[] = { 199, 999, 4999, 19999, 50000 };
  guint band = pick_weighted (demo, business ? company : person, 5);
  gint64 units = between (demo, lo[band], hi[band]);
  gint64 cents = chance (demo, 450) ? 0 : between (demo, 0, 99);

  return units * 100 + cents;
}

/* A share of @amount in basis points, rounded down to whole units when the
 * result is large enough for people to pay round figures. */
static gint64
share_of (gint64 amount,
          int    bp)
{
  gint64 part = recoup_money_apply_bp (amount, bp);

  if (part >= 5000)
    part -= part % 100;
  return MAX (part, MIN (amount, 100));
}

/* ---- Text helpers ------------------------------------------------------------- */

/* Lower-case ASCII letters and digits of @text, for email addresses. */
static void
ascii_slug (const char *text,
            GString    *out,
            char        space)
{
  g_autofree char *ascii = g_str_to_ascii (text, "C");
  gboolean pending_space = FALSE;

  for (const char *p = ascii; *p; p++)
    {
      if (g_ascii_isalnum (*p))
        {
          if (pending_space && space && out->len > 0)
            g_string_append_c (out, space);
          pending_space = FALSE;
          g_string_append_c (out, g_ascii_tolower (*p));
        }
      else if (*p == ' ' || *p == '-' || *p == '&')
        pending_space = TRUE;
    }
}

static char *
format_day (gint32 day)
{
  return recoup_date_format (day);
}

/* 0 Sunday .. 6 Saturday; 1970-01-01 was a Thursday. */
static int
weekday (gint32 day)
{
  return (int) (((day % 7) + 7 + 4) % 7);
}

/* The UTC instant of a local wall-clock time in @tz. Business hours never fall
 * in a daylight-saving gap (they happen at night). */
static gint64
local_instant_ms (GTimeZone *tz,
                  gint32     day,
                  int        second)
{
  gint64 local = (gint64) day * 86400 + second;
  int interval = g_time_zone_find_interval (tz, G_TIME_TYPE_STANDARD, local);

  if (interval < 0)
    interval = g_time_zone_find_interval (tz, G_TIME_TYPE_DAYLIGHT, local);
  if (interval < 0)
    interval = 0;
  return (local - g_time_zone_get_offset (tz, interval)) * 1000;
}

/* ---- People and businesses --------------------------------------------------------- */

static char *
make_name (Demo             *demo,
           const LocaleData *loc,
           gboolean          business,
           Locale            locale,
           const char      **out_first,
           const char      **out_last)
{
  const char *first = loc->first[pick (demo, loc->n_first)];
  const char *last = loc->last[pick (demo, loc->n_last)];
  const char *suffix;

  *out_first = first;
  *out_last = last;
  if (!business)
    return g_strdup_printf ("%s %s", first, last);

  suffix = loc->suffixes[pick (demo, loc->n_suffixes)];
  if (locale == LOC_EN_US || locale == LOC_EN_GB || locale == LOC_EN_IE)
    {
      const char *trade = loc->trades[pick (demo, loc->n_trades)];
      g_autofree char *base = NULL;

      switch (pick (demo, 4))
        {
        case 0:
          {
            const char *other = loc->last[pick (demo, loc->n_last)];
            base = g_strdup_printf ("%s & %s", last, other);
            break;
          }
        case 1:
          base = g_strdup_printf ("%s %s", last, trade);
          break;
        default:
          base = g_strdup_printf ("%s %s", PICK_WORD (demo, biz_words_en), trade);
          break;
        }
      return *suffix ? g_strdup_printf ("%s %s", base, suffix) : g_steal_pointer (&base);
    }
  else
    {
      const char *trade = loc->trades[pick (demo, loc->n_trades)];

      return *suffix ? g_strdup_printf ("%s %s %s", trade, last, suffix)
                     : g_strdup_printf ("%s %s", trade, last);
    }
}

static char *
make_email (Demo             *demo,
            const LocaleData *loc,
            gboolean          business,
            const char       *name,
            const char       *first,
            const char       *last)
{
  g_autoptr(GString) s = g_string_new (NULL);

  if (business)
    {
      static const char * const boxes[] = { "accounts", "billing", "office", "info", "finance", "ap" };
      g_autoptr(GString) slug = g_string_new (NULL);

      ascii_slug (name, slug, '-');
      g_string_append_printf (s, "%s@%s.example", PICK_WORD (demo, boxes), slug->str);
    }
  else
    {
      static const char * const domains[] = { "example.com", "example.net", "example.org" };

      switch (pick (demo, 4))
        {
        case 0:
          ascii_slug (first, s, 0);
          g_string_append_c (s, '.');
          ascii_slug (last, s, 0);
          break;
        case 1:
          {
            g_autoptr(GString) f = g_string_new (NULL);

            ascii_slug (first, f, 0);
            g_string_append_c (s, f->str[0] ? f->str[0] : 'x');
            ascii_slug (last, s, 0);
            break;
          }
        case 2:
          ascii_slug (first, s, 0);
          g_string_append_c (s, '_');
          ascii_slug (last, s, 0);
          g_string_append_printf (s, "%d", between (demo, 1, 99));
          break;
        default:
          ascii_slug (last, s, 0);
          g_string_append_c (s, '.');
          ascii_slug (first, s, 0);
          g_string_append_printf (s, "%d", between (demo, 60, 99));
          break;
        }
      g_string_append_printf (s, "@%s", PICK_WORD (demo, domains));
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* Numbers from ranges reserved for fiction (see recoup-demo-data.inc). */
static char *
make_phone (Demo       *demo,
            const Zone *zone,
            const City *city,
            gboolean    mobile)
{
  switch (zone->locale)
    {
    case LOC_EN_US:
      return g_strdup_printf ("(%s) 555-01%02d", city->area, between (demo, 0, 99));
    case LOC_EN_GB:
      if (mobile)
        return g_strdup_printf ("+44 7700 900%03d", between (demo, 0, 999));
      return g_strdup_printf ("+44 %s%03d", city->area, between (demo, 0, 999));
    case LOC_FR:
      if (g_str_equal (zone->tz, "Europe/Brussels"))
        return g_strdup_printf ("+32 %s 0%02d %02d %02d", city->area, between (demo, 0, 99),
                                between (demo, 0, 99), between (demo, 0, 99));
      if (mobile)
        return g_strdup_printf ("+33 6 39 98 %02d %02d", between (demo, 0, 99), between (demo, 0, 99));
      return g_strdup_printf ("+33 1 99 00 %02d %02d", between (demo, 0, 99), between (demo, 0, 99));
    default:
      return g_strdup_printf ("%s %s 0%03d %03d", locales[zone->locale].country_code, city->area,
                              between (demo, 0, 999), between (demo, 0, 999));
    }
}

static char *
make_address (Demo             *demo,
              const Zone       *zone,
              const LocaleData *loc,
              const City       *city)
{
  const char *street = loc->streets[pick (demo, loc->n_streets)];
  int number = between (demo, 1, zone->locale == LOC_EN_US ? 9899 : 180);
  char postal[32] = "";

  if (city->postal_digits > 0)
    g_snprintf (postal, sizeof postal, "%s%0*d", city->postal, (int) city->postal_digits,
                between (demo, 1, (int) city->postal_max));

  switch (zone->locale)
    {
    case LOC_EN_US:
      return g_strdup_printf ("%d %s, %s, %s %s", number, street, city->name, city->region, postal);
    case LOC_EN_GB:
      {
        static const char letters[] = "ABDEFGHJLNPQRSTUWXYZ";
        g_auto(GStrv) outward = g_strsplit (city->postal, " ", -1);

        return g_strdup_printf ("%d %s, %s %s %d%c%c", number, street, city->name,
                                outward[pick (demo, g_strv_length (outward))], between (demo, 1, 9),
                                letters[pick (demo, sizeof letters - 1)],
                                letters[pick (demo, sizeof letters - 1)]);
      }
    case LOC_EN_IE:
      return g_strdup_printf ("%d %s, %s", number, street, city->name);
    case LOC_FR:
      return g_strdup_printf ("%d %s, %s %s", number, street, postal, city->name);
    case LOC_NL:
      {
        static const char letters[] = "ABCDEGHJKLMNPRSTVWXZ";

        return g_strdup_printf ("%s %d, %s %c%c %s", street, number, postal,
                                letters[pick (demo, sizeof letters - 1)],
                                letters[pick (demo, sizeof letters - 1)], city->name);
      }
    case LOC_ES:
      return g_strdup_printf ("%s, %d, %s %s", street, number, postal, city->name);
    case LOC_DE:
    case LOC_IT:
    case LOC_PL:
    default:
      return g_strdup_printf ("%s %d, %s %s", street, number, postal, city->name);
    }
}

/* ---- Set-up --------------------------------------------------------------------- */

static void
demo_user_free (DemoUser *u)
{
  if (u == NULL)
    return;
  g_free (u->id);
  g_free (u->name);
  g_free (u);
}

static DemoUser *
ensure_user (Demo        *demo,
             const char  *name,
             const char  *role,
             gint64       max_discount_bp,
             gint64       max_plan_installments,
             GError     **error)
{
  DemoUser *u;
  char *id = recoup_user_resolve (demo->book, name, NULL);

  if (id == NULL)
    {
      if (!(id = recoup_user_add (demo->book, name, role, max_discount_bp, max_plan_installments,
                                  FALSE, error)))
        return NULL;
      demo->pending.users++;
    }
  u = g_new0 (DemoUser, 1);
  u->id = id;
  u->name = g_strdup (name);
  return u;
}

/* Letters, statements and reminders sign with the business's details; a demo
 * book gets a fictional business unless one is already set. */
static gboolean
set_business (Demo    *demo,
              GError **error)
{
  static const char * const business[][2] = {
    { "business.name", "Northwind Supply Co." },
    { "business.address", "1200 Harbor Street, Suite 400, Springfield, IL 62701" },
    { "business.phone", "+1 217 555 0100" },
    { "business.email", "accounts@northwind.example" },
    { "business.payment_instructions",
      "Pay by bank transfer to Northwind Supply Co., account 000123456, routing 011000015, "
      "quoting your account reference, or by cheque to the address above." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (business); i++)
    {
      g_autofree char *current = recoup_book_get_setting (demo->book, business[i][0]);

      if (current == NULL &&
          !recoup_settings_set_shared (demo->book, business[i][0], business[i][1], error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
make_users (Demo    *demo,
            GError **error)
{
  guint n_collectors = (guint) between (demo, 2, 4);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  demo->collectors = g_ptr_array_new_with_free_func ((GDestroyNotify) demo_user_free);
  while (names->len < n_collectors + 1)
    {
      char *name = g_strdup_printf ("%s %s", PICK_WORD (demo, first_en), PICK_WORD (demo, last_en));
      gboolean dup = FALSE;

      for (guint i = 0; i < names->len; i++)
        dup = dup || g_str_equal (g_ptr_array_index (names, i), name);
      if (dup)
        g_free (name);
      else
        g_ptr_array_add (names, name);
    }

  for (guint i = 0; i < n_collectors; i++)
    {
      DemoUser *u = ensure_user (demo, g_ptr_array_index (names, i), "collector",
                                 1000 + 500 * between (demo, 0, 2), 6 * between (demo, 1, 2), error);
      if (u == NULL)
        return FALSE;
      g_ptr_array_add (demo->collectors, u);
    }
  demo->bookkeeper = ensure_user (demo, g_ptr_array_index (names, n_collectors), "bookkeeper", 0, 0, error);
  return demo->bookkeeper != NULL && set_business (demo, error);
}

static gboolean
count_rows (Demo        *demo,
            const char  *sql,
            guint       *out,
            GError     **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (demo->book, sql, error);

  if (stmt == NULL)
    return FALSE;
  *out = sqlite3_step (stmt) == SQLITE_ROW ? (guint) sqlite3_column_int64 (stmt, 0) : 0;
  sqlite3_reset (stmt);
  return TRUE;
}

/* ---- One account ---------------------------------------------------------------- */

static void
demo_account_clear (DemoAccount *a)
{
  g_free (a->id);
  g_free (a->phone_id);
  g_free (a->phone2_id);
  g_free (a->email_id);
  g_free (a->address_id);
  memset (a, 0, sizeof *a);
}

static gboolean
act_as (Demo        *demo,
        const char  *user_id,
        GError     **error)
{
  if (g_strcmp0 (recoup_book_get_user_id (demo->book), user_id) == 0)
    return TRUE;
  return recoup_book_set_user (demo->book, user_id, error);
}

static const char *
pick_method (Demo        *demo,
             DemoAccount *a)
{
  static const char * const methods[] = { "card", "bank-transfer", "cheque", "cash" };
  static const guint us[] = { 32, 30, 28, 10 };
  static const guint gb[] = { 32, 50, 10, 8 };
  static const guint eu[] = { 28, 62, 2, 8 };

  return methods[pick_weighted (demo, a->us ? us : a->zone->locale == LOC_EN_GB ? gb : eu, 4)];
}

/* Records a payment and, for a cheque that bounces, its reversal and fee. */
static gboolean
pay (Demo        *demo,
     DemoAccount *a,
     DemoInvoice *inv,
     gint64       amount,
     gint32       day,
     const char  *method,
     const char  *memo,
     GError     **error)
{
  g_autofree char *date = format_day (day);
  g_autofree char *entry = NULL;
  char reference[48] = "";
  RecoupEntrySpec spec = {
    .kind = RECOUP_ENTRY_PAYMENT,
    .account_id = a->id,
    .invoice_id = inv ? inv->id : NULL,
    .amount = amount,
    .effective_date = date,
    .method = method,
    .reference = reference,
    .memo = memo,
  };

  if (g_str_equal (method, "cheque"))
    g_snprintf (reference, sizeof reference, "cheque no. %06d", between (demo, 100, 999999));
  else if (g_str_equal (method, "card"))
    g_snprintf (reference, sizeof reference, "card ending %04d", between (demo, 0, 9999));
  else if (g_str_equal (method, "bank-transfer"))
    g_snprintf (reference, sizeof reference, "transfer %08X", (guint) g_rand_int (demo->rand));
  else
    spec.reference = NULL;

  if (!(entry = recoup_ledger_record (demo->book, &spec, error)))
    return FALSE;
  demo->pending.ledger_entries++;
  a->balance -= amount;
  if (inv != NULL)
    inv->open -= amount;

  /* About one cheque in nine comes back unpaid a few days later. */
  if (g_str_equal (method, "cheque") && chance (demo, 110))
    {
      gint32 back = day + between (demo, 2, 8);
      g_autofree char *back_date = NULL;
      g_autofree char *rev = NULL;

      if (back >= demo->today)
        return TRUE;
      back_date = format_day (back);
      if (!(rev = recoup_ledger_reverse (demo->book, entry, back_date,
                                         "Cheque returned unpaid: insufficient funds", error)))
        return FALSE;
      demo->pending.ledger_entries++;
      a->balance += amount;
      if (inv != NULL)
        inv->open += amount;
      if (chance (demo, 500))
        {
          g_autofree char *fee = NULL;
          RecoupEntrySpec fee_spec = {
            .kind = RECOUP_ENTRY_FEE,
            .account_id = a->id,
            .invoice_id = inv ? inv->id : NULL,
            .amount = a->us ? 3000 : 2000,
            .effective_date = back_date,
            .memo = "Returned cheque fee",
          };

          if (!(fee = recoup_ledger_record (demo->book, &fee_spec, error)))
            return FALSE;
          demo->pending.ledger_entries++;
          a->balance += fee_spec.amount;
          if (inv != NULL)
            inv->open += fee_spec.amount;
        }
    }
  return TRUE;
}

static gboolean
make_contacts (Demo             *demo,
               DemoAccount      *a,
               const City       *city,
               const char       *name,
               const char       *first,
               const char       *last,
               GError          **error)
{
  g_autofree char *phone = make_phone (demo, a->zone, city, !a->business);
  g_autofree char *address = make_address (demo, a->zone, a->loc, city);
  g_autofree char *email = make_email (demo, a->loc, a->business, name, first, last);
  gboolean has_email = chance (demo, a->business ? 930 : 780);
  gboolean has_address = chance (demo, 960);
  gboolean second_phone = chance (demo, 330);

  if (!(a->phone_id = recoup_contact_add (demo->book, a->id, RECOUP_CONTACT_PHONE, phone,
                                          a->business ? "office" : "mobile", TRUE, error)))
    return FALSE;
  demo->pending.contact_points++;
  if (second_phone)
    {
      g_autofree char *phone2 = make_phone (demo, a->zone, city, a->business);
      g_autofree char *key1 = recoup_contact_value_key (RECOUP_CONTACT_PHONE, phone);
      g_autofree char *key2 = recoup_contact_value_key (RECOUP_CONTACT_PHONE, phone2);

      /* The same number drawn twice is one phone (core would add nothing). */
      if (!g_str_equal (key1, key2))
        {
          if (!(a->phone2_id = recoup_contact_add (demo->book, a->id, RECOUP_CONTACT_PHONE, phone2,
                                                   a->business ? "mobile" : "home", FALSE, error)))
            return FALSE;
          demo->pending.contact_points++;
        }
    }
  if (has_email &&
      !(a->email_id = recoup_contact_add (demo->book, a->id, RECOUP_CONTACT_EMAIL, email,
                                          a->business ? "accounts" : "personal", TRUE, error)))
    return FALSE;
  if (has_address &&
      !(a->address_id = recoup_contact_add (demo->book, a->id, RECOUP_CONTACT_ADDRESS, address,
                                            a->business ? "billing" : "home", TRUE, error)))
    return FALSE;
  demo->pending.contact_points += (has_email ? 1 : 0) + (has_address ? 1 : 0);
  return TRUE;
}

/* Invoices and the payments made against them before any collection work. */
static gboolean
make_invoices (Demo        *demo,
               DemoAccount *a,
               GError     **error)
{
  static const guint n_weights[] = { 40, 25, 15, 12, 8 };
  static const int terms_business[] = { 15, 30, 30, 30, 45, 60 };
  guint n = pick_weighted (demo, n_weights, G_N_ELEMENTS (n_weights)) + 1;
  int terms = a->business ? terms_business[pick (demo, G_N_ELEMENTS (terms_business))] : 30;
  gint32 issue = a->first_due - terms;
  gboolean settled;

  /* A current account's first invoice was issued before today. */
  if (issue >= demo->today)
    issue = demo->today - between (demo, 1, 10);
  a->first_due = issue + terms;
  a->age = demo->today - a->first_due;

  for (guint k = 0; k < n && issue < demo->today; k++)
    {
      DemoInvoice *inv = &a->invoices[a->n_invoices];
      g_autofree char *issue_date = format_day (issue);
      g_autofree char *due_date = format_day (issue + terms);
      g_autofree char *inv_id = NULL;
      char ref[32];
      RecoupInvoiceSpec spec = {
        .account_id = a->id,
        .ref = ref,
        .issue_date = issue_date,
        .due_date = due_date,
        .amount = draw_amount (demo, a->business),
        .currency = a->zone->currency,
        .description = a->business ? PICK_WORD (demo, items_business) : PICK_WORD (demo, items_person),
      };

      g_snprintf (ref, sizeof ref, "INV-%08u", ++demo->invoice_seq);
      if (!(inv_id = recoup_invoice_add (demo->book, &spec, error)))
        return FALSE;
      demo->pending.invoices++;
      demo->pending.ledger_entries++;
      g_strlcpy (inv->id, inv_id, sizeof inv->id);
      inv->issue = issue;
      inv->due = issue + terms;
      inv->amount = inv->open = spec.amount;
      a->balance += spec.amount;
      a->n_invoices++;
      issue += between (demo, 14, 45);
    }

  /* A few customers paid everything in the end. */
  settled = a->age > 30 && chance (demo, 45);
  for (guint k = 0; k < a->n_invoices; k++)
    {
      DemoInvoice *inv = &a->invoices[k];
      guint r = pick (demo, 100);
      gint32 lo = MAX (inv->issue + 1, inv->due - 12);
      gint32 hi = MIN (demo->today - 1, inv->due + 60);
      guint n_pay;
      gint64 total;
      gint32 day;

      if (hi < lo)
        continue;
      if (settled || (r < 16 && k + 1 < a->n_invoices))
        {
          total = inv->amount;                         /* paid in full, late or not */
          n_pay = (guint) between (demo, 1, 2);
        }
      else if (r < 44)
        {
          total = share_of (inv->amount, between (demo, 1000, 7000));
          n_pay = (guint) between (demo, 1, 3);
        }
      else
        continue;

      day = lo;
      for (guint p = 0; p < n_pay && total > 0; p++)
        {
          gint64 part = p + 1 == n_pay ? total : share_of (total, between (demo, 3000, 6000));
          const char *method = pick_method (demo, a);

          day += between (demo, 0, MAX (1, (hi - lo) / (int) n_pay));
          day = MIN (hi, day);
          if (!pay (demo, a, inv, part, day, method, NULL, error))
            return FALSE;
          total -= part;
          if (day >= hi)
            break;
        }
    }

  /* Late-payment interest on some long-overdue accounts. */
  if (a->age > 60 && chance (demo, 250))
    {
      DemoInvoice *inv = &a->invoices[0];
      int months = between (demo, 1, 3);

      for (int m = 1; m <= months && inv->open > 0; m++)
        {
          gint32 day = inv->due + 30 * m;
          g_autofree char *date = NULL;
          g_autofree char *entry = NULL;
          RecoupEntrySpec spec = {
            .kind = RECOUP_ENTRY_INTEREST,
            .account_id = a->id,
            .invoice_id = inv->id,
            .amount = MAX (100, recoup_money_apply_bp (inv->open, 150)),
            .memo = a->us ? "Late payment interest, 1.5% a month" : "Statutory late payment interest",
          };

          if (day >= demo->today)
            break;
          spec.effective_date = date = format_day (day);
          if (!(entry = recoup_ledger_record (demo->book, &spec, error)))
            return FALSE;
          demo->pending.ledger_entries++;
          a->balance += spec.amount;
          inv->open += spec.amount;
        }
    }
  return TRUE;
}

static int
compare_slots (gconstpointer x,
               gconstpointer y)
{
  const DemoSlot *a = x, *b = y;

  if (a->day != b->day)
    return a->day < b->day ? -1 : 1;
  return a->second < b->second ? -1 : a->second > b->second;
}

static const char *
pick_channel (Demo        *demo,
              DemoAccount *a)
{
  static const char * const channels[] = { "call", "email", "sms", "letter", "visit", "note" };
  static const guint person[] = { 56, 18, 8, 9, 2, 7 };
  static const guint company[] = { 56, 20, 3, 8, 6, 7 };

  return channels[pick_weighted (demo, a->business ? company : person, G_N_ELEMENTS (channels))];
}

/* A local time of day that suits the channel: calls in business hours with
 * some early evenings, emails from morning to late evening, letters when the
 * office posts them. */
static int
pick_second (Demo       *demo,
             const char *channel)
{
  int minute;

  if (g_str_equal (channel, "call"))
    minute = chance (demo, 850) ? between (demo, 9 * 60, 17 * 60) : between (demo, 17 * 60, 19 * 60 + 45);
  else if (g_str_equal (channel, "email"))
    minute = between (demo, 7 * 60 + 30, 21 * 60 + 30);
  else if (g_str_equal (channel, "letter"))
    minute = between (demo, 10 * 60, 15 * 60);
  else if (g_str_equal (channel, "visit"))
    minute = between (demo, 9 * 60 + 30, 17 * 60 + 30);
  else
    minute = between (demo, 8 * 60 + 30, 18 * 60);
  return minute * 60 + between (demo, 0, 59);
}

static gint64
slot_instant (Demo        *demo,
              DemoAccount *a,
              gint32       day,
              int          second)
{
  gint64 at = local_instant_ms (a->tz, day, second);

  /* Only when today is the real date: yesterday evening in Anchorage can still
   * be ahead of the clock. Move it a day back rather than log the future. */
  while (at > demo->now_ms - 60000)
    at -= DAY_MS;
  return at;
}

static char *
log_activity (Demo         *demo,
              DemoAccount  *a,
              gint64        at,
              const char   *channel,
              const char   *direction,
              const char   *outcome,
              const char   *contact_id,
              const char   *notes,
              GError      **error)
{
  RecoupActivitySpec spec = {
    .account_id = a->id,
    .channel = channel,
    .outcome = outcome,
    .direction = direction,
    .contact_point_id = contact_id,
    .at = at,
    .notes = notes,
  };

  char *id = recoup_activity_log (demo->book, &spec, error);

  if (id != NULL)
    demo->pending.activities++;
  return id;
}

/* The debtor's opt-out, which the book keeps in the history as a note. */
static gboolean
demo_opt_out (Demo        *demo,
              const char  *contact_id,
              gint64       at,
              GError     **error)
{
  if (!recoup_contact_opt_out (demo->book, contact_id, at, NULL, error))
    return FALSE;
  demo->pending.activities++;
  return TRUE;
}

static gboolean
take_promise (Demo        *demo,
              DemoAccount *a,
              gint32       day,
              const char  *channel,
              const char  *activity_id,
              GError     **error)
{
  gint64 amount = share_of (a->balance, between (demo, 2500, 10000));
  gint32 due = day + between (demo, 2, 14);
  guint fate = pick (demo, 100);
  g_autofree char *due_date = format_day (due);
  g_autofree char *made_on = format_day (day);
  g_autofree char *promise = NULL;
  RecoupPromiseSpec spec = {
    .account_id = a->id,
    .amount = amount,
    .due_date = due_date,
    .channel = channel,
    .activity_id = activity_id,
    .grace_days = -1,
    .made_on = made_on,
  };

  if (!(promise = recoup_promise_add (demo->book, &spec, error)))
    return FALSE;
  demo->pending.promises++;

  if (due + RECOUP_PROMISE_DEFAULT_GRACE_DAYS >= demo->today)
    {
      a->pending_promise = TRUE;
      /* Some pay early even so. */
      if (fate < 20 && day + 1 < demo->today)
        return pay (demo, a, NULL, amount, between (demo, day + 1, MIN (due, demo->today - 1)),
                    pick_method (demo, a), "Promised payment", error);
      return TRUE;
    }
  if (fate < 52)          /* kept */
    {
      gint32 paid_on = due - between (demo, 0, 2);

      return pay (demo, a, NULL, amount, MAX (day + 1, paid_on), pick_method (demo, a),
                  "Promised payment", error);
    }
  if (fate < 67)          /* partly kept */
    return pay (demo, a, NULL, share_of (amount, between (demo, 2000, 7000)),
                due + between (demo, 0, RECOUP_PROMISE_DEFAULT_GRACE_DAYS), pick_method (demo, a),
                "Part of the promised payment", error);
  return TRUE;            /* broken */
}

/* Open and resolve a dispute as of @at, an instant of the history: the book
 * records it then, not when the demo runs. */
static char *
open_dispute_at (Demo        *demo,
                 DemoAccount *a,
                 gint64       at,
                 DemoInvoice *inv,
                 const char  *reason,
                 GError     **error)
{
  char *dispute;

  recoup_book_pin_now (demo->book, at);
  dispute = recoup_dispute_open (demo->book, a->id, inv->id, reason, error);
  recoup_book_pin_now (demo->book, 0);
  if (dispute != NULL)
    demo->pending.activities++;   /* its note in the history */
  return dispute;
}

static gboolean
resolve_dispute_at (Demo        *demo,
                    const char  *dispute,
                    gint64       at,
                    gboolean     upheld,
                    const char  *resolution,
                    GError     **error)
{
  gboolean ok;

  recoup_book_pin_now (demo->book, at);
  ok = recoup_dispute_resolve (demo->book, dispute, upheld, resolution, error);
  recoup_book_pin_now (demo->book, 0);
  if (ok)
    demo->pending.activities++;   /* its note in the history */
  return ok;
}

/* Opens a dispute on one invoice at @opened_at, the call on @day in which the
 * customer raised it; some are resolved in the weeks after (an upheld one
 * takes the invoice's open balance off with a waiver dated then). */
static gboolean
raise_dispute (Demo        *demo,
               DemoAccount *a,
               gint32       day,
               gint64       opened_at,
               const char  *reason,
               DemoInvoice *inv,
               GError     **error)
{
  g_autofree char *dispute = NULL;
  guint fate = pick (demo, 100);
  gint32 resolved_on = day + between (demo, 7, 45);
  gint64 resolved_at;

  if (!(dispute = open_dispute_at (demo, a, opened_at, inv, reason, error)))
    return FALSE;
  demo->pending.disputes++;
  if (fate < 45 || resolved_on >= demo->today)
    return TRUE;          /* still open */
  resolved_at = slot_instant (demo, a, resolved_on, pick_second (demo, "note"));
  if (fate < 65 && inv->open > 0)
    {
      g_autofree char *date = format_day (resolved_on);
      g_autofree char *entry = NULL;
      RecoupEntrySpec spec = {
        .kind = RECOUP_ENTRY_WAIVER,
        .account_id = a->id,
        .invoice_id = inv->id,
        .amount = inv->open,
        .effective_date = date,
        .memo = "Dispute upheld: balance waived",
      };
      g_autoptr(GPtrArray) balances = NULL;

      /* The ledger allocates unaimed payments oldest first, which may have
       * paid more of this invoice than the generator counted: waive what the
       * book says is open on it, never more. */
      if (!(balances = recoup_ledger_invoice_balances (demo->book, a->id, "2999-12-31", error)))
        return FALSE;
      for (guint i = 0; i < balances->len; i++)
        {
          RecoupInvoiceBalance *ib = g_ptr_array_index (balances, i);

          if (g_strcmp0 (ib->id, inv->id) == 0)
            spec.amount = MIN (spec.amount, ib->balance);
        }
      if (!resolve_dispute_at (demo, dispute, resolved_at, TRUE, "Upheld after review; balance waived", error))
        return FALSE;
      if (spec.amount > 0)
        {
          if (!(entry = recoup_ledger_record (demo->book, &spec, error)))
            return FALSE;
          demo->pending.ledger_entries++;
          a->balance -= spec.amount;
        }
      inv->open = 0;
      return TRUE;
    }
  return resolve_dispute_at (demo, dispute, resolved_at, FALSE,
                             "Rejected: proof of delivery and signed order on file", error);
}

/* How many of the account's invoices (kept in the order they were issued)
 * were issued by @day: the ones a customer can dispute then. Calls start
 * after the first invoice fell due, so there is at least one. */
static guint
invoices_issued_by (DemoAccount *a,
                    gint32       day)
{
  guint n = 0;

  while (n < a->n_invoices && a->invoices[n].issue <= day)
    n++;
  return n;
}

/* The last thing that happened on an account with a special ending. */
typedef enum
{
  ENDING_NONE,
  ENDING_OPT_OUT,
  ENDING_CEASE,
  ENDING_ATTORNEY,
  ENDING_BANKRUPTCY,
} Ending;

static gboolean
finish_with (Demo        *demo,
             DemoAccount *a,
             Ending       ending,
             gint32       day,
             GError     **error)
{
  g_autofree char *act = NULL;
  gint64 at = slot_instant (demo, a, day, pick_second (demo, "call"));

  switch (ending)
    {
    case ENDING_OPT_OUT:
      if (a->email_id != NULL && chance (demo, 350))
        {
          if (!(act = log_activity (demo, a, at, "email", "inbound", "right-party", a->email_id,
                                    "Asked to stop receiving emails; wants letters only.", error)))
            return FALSE;
          return demo_opt_out (demo, a->email_id, at, error);
        }
      if (!(act = log_activity (demo, a, at, "call", "inbound", "right-party", a->phone_id,
                                "Asked not to be called on this number; prefers email.", error)))
        return FALSE;
      return demo_opt_out (demo, a->phone_id, at, error);

    case ENDING_CEASE:
      if (!(act = log_activity (demo, a, at, "letter", "inbound", "delivered", a->address_id,
                                "Written request to cease communication received.", error)))
        return FALSE;
      return recoup_account_set (demo->book, a->id, "cease_communication", "yes", error);

    case ENDING_ATTORNEY:
      {
        g_autofree char *note = g_strdup_printf ("Customer is represented by counsel (%s %s, %s); "
                                                 "all contact through the attorney.",
                                                 PICK_WORD (demo, first_en), PICK_WORD (demo, last_en),
                                                 a->us ? "attorney at law" : "solicitor");

        if (!(act = log_activity (demo, a, at, "call", "inbound", "right-party", a->phone_id, note, error)))
          return FALSE;
        a->escalated = TRUE;
        return recoup_account_set (demo->book, a->id, "attorney_represented", "yes", error);
      }

    case ENDING_BANKRUPTCY:
      {
        g_autofree char *note = a->us
          ? g_strdup_printf ("Notice of Chapter %d bankruptcy filing received, case no. %d-%05d.",
                             chance (demo, 700) ? 7 : 13, between (demo, 20, 26), between (demo, 10000, 99999))
          : g_strdup_printf ("Notice of insolvency proceedings received, reference %05d.",
                             between (demo, 10000, 99999));

        if (!(act = log_activity (demo, a, at, "letter", "inbound", "delivered", a->address_id, note, error)))
          return FALSE;
        a->escalated = TRUE;
        return recoup_account_set (demo->book, a->id, "bankruptcy", "yes", error);
      }

    case ENDING_NONE:
    default:
      return TRUE;
    }
}

/* The contact history: reminders before the due date, then calls, emails,
 * letters and visits as the account ages; promises, disputes and the odd
 * special ending along the way. */
static gboolean
make_history (Demo        *demo,
              DemoAccount *a,
              GError     **error)
{
  DemoSlot slots[MAX_ACTIVITIES];
  guint n_slots = 0;
  gint32 start, end = demo->today - 1;
  gboolean disputed = FALSE;
  gboolean wants_dispute;
  Ending ending = ENDING_NONE;
  guint r;

  if (a->age <= 0)
    {
      start = MAX (a->invoices[0].issue + 1, a->first_due - 10);
      n_slots = (guint) between (demo, 0, 2);
    }
  else
    {
      start = a->first_due + 1;
      n_slots = (guint) (1 + a->age / 20 + between (demo, 0, 2));
      n_slots = MIN (MAX_ACTIVITIES, n_slots);
    }
  if (end < start)
    n_slots = 0;

  for (guint i = 0; i < n_slots; i++)
    {
      DemoSlot *s = &slots[i];
      int dow;

      s->day = between (demo, start, end);
      s->channel = a->age <= 0 ? (chance (demo, 700) ? "email" : "sms") : pick_channel (demo, a);
      /* Work happens on weekdays; an email may go out on a Saturday. */
      dow = weekday (s->day);
      if (dow == 0 || (dow == 6 && !g_str_equal (s->channel, "email")))
        s->day -= dow == 0 ? 2 : 1;
      if (s->day < start)
        s->day = MIN (end, s->day + 3);
      s->second = pick_second (demo, s->channel);
    }
  qsort (slots, n_slots, sizeof (DemoSlot), compare_slots);

  /* US accounts get a validation notice by post first (Regulation F). */
  if (a->us && a->age > 0 && n_slots > 0 && a->address_id != NULL)
    {
      g_autofree char *date = NULL;

      slots[0].channel = "letter";
      slots[0].day = start + between (demo, 0, 4);
      slots[0].day = MIN (end, slots[0].day);
      slots[0].second = pick_second (demo, "letter");
      date = format_day (slots[0].day);
      if (!recoup_account_set (demo->book, a->id, "validation_notice_date", date, error))
        return FALSE;
    }

  wants_dispute = a->age > 0 && chance (demo, 80);
  r = pick (demo, 1000);
  if (a->age > 0 && n_slots >= 2)
    {
      if (r < 60)
        ending = ENDING_OPT_OUT;
      else if (r < 72)
        ending = ENDING_CEASE;
      else if (r < 84)
        ending = ENDING_ATTORNEY;
      else if (r < 91 && a->age > 90)
        ending = ENDING_BANKRUPTCY;
    }

  for (guint i = 0; i < n_slots; i++)
    {
      DemoSlot *s = &slots[i];
      const char *channel = s->channel;
      const char *direction = "outbound";
      const char *outcome = NULL;
      const char *contact = NULL;
      const char *notes = NULL;
      g_autofree char *owned_notes = NULL;
      g_autofree char *act = NULL;
      gboolean promise = FALSE;
      gboolean dispute = FALSE;
      gint64 at;

      if (i == 0 && a->us && a->age > 0 && g_str_equal (channel, "letter") && a->address_id != NULL)
        {
          at = slot_instant (demo, a, s->day, s->second);
          if (!(act = log_activity (demo, a, at, "letter", "outbound", "sent", a->address_id,
                                    "Mailed the validation notice.", error)))
            return FALSE;
          continue;
        }

      if (g_str_equal (channel, "email") && a->email_id == NULL)
        channel = "call";
      if ((g_str_equal (channel, "letter") || g_str_equal (channel, "visit")) && a->address_id == NULL)
        channel = "call";

      if (g_str_equal (channel, "call"))
        {
          static const char * const outcomes[] = {
            "right-party", "no-answer", "voicemail", "wrong-number", "callback-requested", "refused"
          };
          static const guint weights[] = { 24, 33, 29, 4, 5, 5 };
          gboolean inbound = chance (demo, 110);

          contact = a->phone2_id != NULL && chance (demo, 300) ? a->phone2_id : a->phone_id;
          direction = inbound ? "inbound" : "outbound";
          outcome = inbound ? "right-party" : outcomes[pick_weighted (demo, weights, G_N_ELEMENTS (weights))];
        }
      else if (g_str_equal (channel, "email"))
        {
          gboolean inbound = a->age > 0 && chance (demo, 90);

          contact = a->email_id;
          direction = inbound ? "inbound" : "outbound";
          outcome = inbound ? "right-party" : chance (demo, 50) ? "bounced" : chance (demo, 300) ? "delivered" : "sent";
        }
      else if (g_str_equal (channel, "sms"))
        {
          contact = a->phone_id;
          outcome = chance (demo, 400) ? "delivered" : "sent";
        }
      else if (g_str_equal (channel, "letter"))
        {
          contact = a->address_id;
          outcome = "sent";
        }
      else if (g_str_equal (channel, "visit"))
        {
          contact = a->address_id;
          outcome = chance (demo, 450) ? "right-party" : "no-answer";
        }

      if (g_strcmp0 (outcome, "right-party") == 0 && a->age > 0)
        {
          if (wants_dispute && !disputed && chance (demo, 600))
            dispute = TRUE;
          else if (a->balance > 100 && chance (demo, 300))
            promise = TRUE;
        }

      if (dispute)
        outcome = "dispute";
      else if (promise)
        outcome = "promise";

      if (g_str_equal (channel, "note"))
        notes = PICK_WORD (demo, notes_note);
      else if (dispute)
        notes = NULL;
      else if (promise)
        notes = PICK_WORD (demo, notes_promise);
      else if (g_str_equal (outcome, "right-party"))
        notes = g_str_equal (channel, "visit") ? notes_visit[0] : PICK_WORD (demo, notes_right_party);
      else if (g_str_equal (outcome, "no-answer"))
        notes = g_str_equal (channel, "visit") ? notes_visit[1] : PICK_WORD (demo, notes_no_answer);
      else if (g_str_equal (outcome, "voicemail"))
        notes = PICK_WORD (demo, notes_voicemail);
      else if (g_str_equal (outcome, "wrong-number"))
        notes = PICK_WORD (demo, notes_wrong_number);
      else if (g_str_equal (outcome, "callback-requested"))
        notes = PICK_WORD (demo, notes_callback);
      else if (g_str_equal (outcome, "refused"))
        notes = PICK_WORD (demo, notes_refused);
      else if (g_str_equal (channel, "email"))
        notes = g_str_equal (outcome, "bounced") ? "Email bounced: mailbox unavailable." : PICK_WORD (demo, notes_email);
      else if (g_str_equal (channel, "sms"))
        notes = PICK_WORD (demo, notes_sms);
      else if (g_str_equal (channel, "letter"))
        notes = PICK_WORD (demo, notes_letter);

      if (dispute)
        {
          DemoInvoice *inv = &a->invoices[pick (demo, invoices_issued_by (a, s->day))];
          const char *reason = PICK_WORD (demo, dispute_reasons);

          owned_notes = g_strdup_printf ("Customer disputes the invoice: %s.", reason);
          notes = owned_notes;
          at = slot_instant (demo, a, s->day, s->second);
          if (!(act = log_activity (demo, a, at, channel, direction, outcome, contact, notes, error)) ||
              !raise_dispute (demo, a, s->day, at, reason, inv, error))
            return FALSE;
          disputed = TRUE;
          continue;
        }

      at = slot_instant (demo, a, s->day, s->second);
      if (!(act = log_activity (demo, a, at, channel, direction, outcome, contact, notes, error)))
        return FALSE;
      if (promise && !take_promise (demo, a, s->day, channel, act, error))
        return FALSE;
    }

  if (ending != ENDING_NONE)
    {
      gint32 day = slots[n_slots - 1].day + between (demo, 1, 20);

      day = MIN (end, day);

      if (!finish_with (demo, a, ending, day, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
make_account (Demo    *demo,
              guint    index,
              GError **error)
{
  static const guint age_weights[] = { 18, 20, 15, 12, 15, 13, 7 };
  static const int age_lo[] = { -29, 1, 31, 61, 91, 181, 401 };
  static const int age_hi[] = { 0, 30, 60, 90, 180, 400, 720 };
  DemoAccount a = { 0 };
  guint zi = 0, w;
  const City *city;
  const char *first, *last;
  const char *assignee;
  g_autofree char *name = NULL;
  g_autofree char *tags = NULL;
  char ref[32];
  guint age_band;
  gint64 revenue;
  const char *tier = NULL;
  const char *stage;
  gboolean ok = FALSE;
  RecoupAccountSpec spec = { 0 };

  w = pick (demo, demo->zone_total);
  for (zi = 0; zi + 1 < G_N_ELEMENTS (zones) && w >= zones[zi].weight; zi++)
    w -= zones[zi].weight;
  a.zone = &zones[zi];
  a.loc = &locales[a.zone->locale];
  a.tz = demo->tz[zi];
  a.us = a.zone->locale == LOC_EN_US;
  a.business = chance (demo, 380);
  city = &a.zone->cities[pick (demo, a.zone->n_cities)];
  name = make_name (demo, a.loc, a.business, a.zone->locale, &first, &last);

  age_band = pick_weighted (demo, age_weights, G_N_ELEMENTS (age_weights));
  a.age = between (demo, age_lo[age_band], age_hi[age_band]);
  a.first_due = demo->today - a.age;

  /* What the customer has bought over the years: a multiple of this debt. */
  revenue = draw_amount (demo, a.business) * between (demo, a.business ? 3 : 1, a.business ? 40 : 6);
  if (a.business)
    tier = revenue >= 5000000 ? "gold" : revenue >= 1000000 ? "silver" : "bronze";

  assignee = chance (demo, 920) || a.age > 30
    ? ((DemoUser *) g_ptr_array_index (demo->collectors, pick (demo, demo->collectors->len)))->id
    : NULL;

  g_snprintf (ref, sizeof ref, "ACC-%07u", demo->account_base + index + 1);
  tags = g_strdup (a.business ? "business" : "consumer");
  spec.ref = ref;
  spec.name = name;
  spec.timezone = a.zone->tz;
  spec.currency = a.zone->currency;
  spec.assigned_to = assignee;
  spec.tier = tier;
  spec.tags = tags;
  spec.lifetime_revenue = revenue;

  /* The bookkeeper enters customers and invoices and records payments; the
   * collector works the account. */
  if (!act_as (demo, demo->bookkeeper->id, error) ||
      !(a.id = recoup_account_create (demo->book, &spec, error)))
    goto out;
  demo->pending.accounts++;
  if (!make_contacts (demo, &a, city, name, first, last, error) ||
      !make_invoices (demo, &a, error))
    goto out;
  if (!act_as (demo, assignee ? assignee : demo->owner_id, error) ||
      !make_history (demo, &a, error))
    goto out;

  /* The first invoice may have been paid off: age the account by what is open. */
  if (a.balance <= 0)
    stage = "closed";
  else if (a.escalated || a.age > 180)
    stage = "escalation";
  else if (a.pending_promise)
    stage = "negotiation";
  else if (a.age > 0)
    stage = "active";
  else
    stage = NULL;
  if (stage != NULL && !recoup_account_set (demo->book, a.id, "stage", stage, error))
    goto out;
  ok = TRUE;

out:
  if (!ok)
    g_prefix_error (error, "demo account %s: ", ref);
  demo_account_clear (&a);
  return ok;
}

/* ---- Driver --------------------------------------------------------------------- */

static void
demo_clear (Demo *demo)
{
  g_clear_pointer (&demo->rand, g_rand_free);
  for (guint i = 0; i < G_N_ELEMENTS (demo->tz); i++)
    g_clear_pointer (&demo->tz[i], g_time_zone_unref);
  g_clear_pointer (&demo->collectors, g_ptr_array_unref);
  g_clear_pointer (&demo->bookkeeper, demo_user_free);
  g_clear_pointer (&demo->owner_id, g_free);
  g_clear_pointer (&demo->original_user, g_free);
}

static void
add_counts (RecoupDemoCounts       *to,
            const RecoupDemoCounts *from)
{
  to->accounts += from->accounts;
  to->contact_points += from->contact_points;
  to->invoices += from->invoices;
  to->ledger_entries += from->ledger_entries;
  to->activities += from->activities;
  to->promises += from->promises;
  to->disputes += from->disputes;
  to->users += from->users;
}

/* Commits the open batch and counts what it wrote. */
static gboolean
commit_batch (Demo             *demo,
              RecoupDemoCounts *out_counts,
              GError          **error)
{
  if (!recoup_book_commit (demo->book, error))
    return FALSE;
  if (out_counts != NULL)
    add_counts (out_counts, &demo->pending);
  memset (&demo->pending, 0, sizeof demo->pending);
  return TRUE;
}

/**
 * recoup_demo_generate:
 * @options: how many accounts, the seed, and the day the history ends on
 * @progress: (nullable): called after each batch with accounts done and total
 * @cancellable: (nullable): stops between accounts; the batch in progress is
 *   rolled back, earlier batches stay
 *
 * Fills @book with @options->n_accounts realistic accounts (names, contact
 * points, invoices, payments, contact history, promises, disputes) and the
 * users who work them. The same seed and today always give the same content.
 */
gboolean
recoup_demo_generate (RecoupBook               *book,
                      const RecoupDemoOptions  *options,
                      RecoupProgressFunc        progress,
                      gpointer                  progress_data,
                      GCancellable             *cancellable,
                      GError                  **error)
{
  return recoup_demo_generate_counted (book, options, progress, progress_data, cancellable, NULL, error);
}

gboolean
recoup_demo_generate_counted (RecoupBook               *book,
                              const RecoupDemoOptions  *options,
                              RecoupProgressFunc        progress,
                              gpointer                  progress_data,
                              GCancellable             *cancellable,
                              RecoupDemoCounts         *out_counts,
                              GError                  **error)
{
  Demo demo = { 0 };
  g_autofree char *today = NULL;
  gboolean in_batch = FALSE;
  gboolean rollback_journal = FALSE;
  gboolean ok = FALSE;

  g_return_val_if_fail (RECOUP_IS_BOOK (book), FALSE);
  g_return_val_if_fail (options != NULL, FALSE);

  if (out_counts != NULL)
    memset (out_counts, 0, sizeof *out_counts);

  today = options->today != NULL ? g_strdup (options->today) : recoup_book_today (book);
  if ((demo.today = recoup_date_parse (today, error)) == RECOUP_DATE_INVALID)
    {
      g_prefix_error (error, "demo: today: ");
      return FALSE;
    }
  if (demo.today > recoup_date_today_utc () + 1)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "demo: today (%s) is in the future; the history would log contacts that have "
                   "not happened yet. Give today's date or an earlier one.", today);
      return FALSE;
    }
  if (options->n_accounts > 10000000)
    {
      g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                   "demo: %u accounts is more than the 10,000,000 the generator makes", options->n_accounts);
      return FALSE;
    }

  demo.book = book;
  demo.rand = g_rand_new_with_seed (options->seed);
  demo.now_ms = recoup_wall_clock_ms ();
  demo.original_user = g_strdup (recoup_book_get_user_id (book));
  for (guint i = 0; i < G_N_ELEMENTS (zones); i++)
    {
      demo.tz[i] = g_time_zone_new_identifier (zones[i].tz);
      if (demo.tz[i] == NULL)
        {
          g_set_error (error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "demo: the time zone %s is not installed (install tzdata)", zones[i].tz);
          goto out;
        }
      demo.zone_total += zones[i].weight;
    }

  if (!count_rows (&demo, "SELECT count(*) FROM accounts", &demo.account_base, error) ||
      !count_rows (&demo, "SELECT count(*) FROM invoices", &demo.invoice_seq, error))
    goto out;

  /* The owner is whoever made the book; the demo adds collectors and a bookkeeper. */
  {
    sqlite3_stmt *stmt = recoup_book_prepare (book,
      "SELECT id FROM users WHERE role = 'owner' AND deleted = 0 ORDER BY created_at, id LIMIT 1", error);

    if (stmt == NULL)
      goto out;
    if (sqlite3_step (stmt) == SQLITE_ROW)
      demo.owner_id = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
    sqlite3_reset (stmt);
    if (demo.owner_id == NULL)
      demo.owner_id = g_strdup (demo.original_user);
  }

  /* Into an empty book (the usual demo) the pages are written once. */
  if (demo.account_base == 0 && !recoup_book_in_transaction (book))
    rollback_journal = recoup_book_begin_rollback_journal (book);
  if (!recoup_book_begin (book, error))
    goto out;
  in_batch = TRUE;
  if (!make_users (&demo, error))
    goto out;

  for (guint i = 0; i < options->n_accounts; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !make_account (&demo, i, error))
        goto out;
      if ((i + 1) % BATCH_SIZE == 0 || i + 1 == options->n_accounts)
        {
          in_batch = FALSE;
          if (!commit_batch (&demo, out_counts, error))
            goto out;
          if (progress != NULL)
            progress (i + 1, options->n_accounts, progress_data);
          if (i + 1 < options->n_accounts)
            {
              if (!recoup_book_begin (book, error))
                goto out;
              in_batch = TRUE;
            }
        }
    }
  if (in_batch)
    {
      in_batch = FALSE;
      if (!commit_batch (&demo, out_counts, error))
        goto out;
    }
  ok = TRUE;

out:
  if (in_batch)
    recoup_book_rollback (book);
  if (rollback_journal)
    recoup_book_end_rollback_journal (book);
  if (demo.original_user != NULL)
    recoup_book_set_user (book, demo.original_user, NULL);
  demo_clear (&demo);
  return ok;
}
