/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-demo"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "recoup-date.h"
#include "recoup-demo.h"
#include "recoup-money.h"

/*
 * An import CSV in the documented format (docs/import-format.md), for the
 * import benchmark and tests: about two invoices per account, one currency per
 * account, accounts across US and European time zones. Deterministic for a
 * seed and a today. Emails are on reserved example domains and US numbers in
 * the 555-01xx fiction range, so a demo file never reaches a real person.
 */

typedef enum
{
  STYLE_US,
  STYLE_UK,
  STYLE_FR,
  STYLE_EU,     /* street name first, then the number */
} AddressStyle;

typedef struct
{
  const char *name;
  const char *area;        /* US area code; elsewhere the dialling area */
  const char *postal;      /* US state, or the postcode prefix */
} DemoCity;

typedef struct
{
  const char    *tz;
  const char    *currency;
  const char    *country;      /* international dialling prefix */
  AddressStyle   style;
  const DemoCity cities[4];
  const char    *streets[4];
  const char    *suffixes[3];  /* company forms */
} DemoZone;

static const DemoZone zones[] = {
  { "America/New_York", "USD", "+1", STYLE_US,
    { { "New York", "212", "NY" }, { "Boston", "617", "MA" }, { "Atlanta", "404", "GA" }, { "Miami", "305", "FL" } },
    { "Main St", "Broadway", "Oak Ave", "Washington St" }, { "LLC", "Inc.", "Corp." } },
  { "America/Chicago", "USD", "+1", STYLE_US,
    { { "Chicago", "312", "IL" }, { "Houston", "713", "TX" }, { "Dallas", "214", "TX" }, { "Minneapolis", "612", "MN" } },
    { "Lake St", "Elm St", "Maple Dr", "Commerce St" }, { "LLC", "Inc.", "Co." } },
  { "America/Denver", "USD", "+1", STYLE_US,
    { { "Denver", "303", "CO" }, { "Salt Lake City", "801", "UT" }, { "Albuquerque", "505", "NM" }, { "Boise", "208", "ID" } },
    { "Colfax Ave", "Cedar Ln", "Pine St", "Mountain View Rd" }, { "LLC", "Inc.", "Co." } },
  { "America/Phoenix", "USD", "+1", STYLE_US,
    { { "Phoenix", "602", "AZ" }, { "Tucson", "520", "AZ" }, { "Mesa", "480", "AZ" }, { "Flagstaff", "928", "AZ" } },
    { "Camelback Rd", "Desert View Dr", "Central Ave", "Mesa Blvd" }, { "LLC", "Inc.", "Corp." } },
  { "America/Los_Angeles", "USD", "+1", STYLE_US,
    { { "Los Angeles", "213", "CA" }, { "Seattle", "206", "WA" }, { "Portland", "503", "OR" }, { "San Diego", "619", "CA" } },
    { "Sunset Blvd", "Pacific Ave", "Mission St", "Harbor Dr" }, { "LLC", "Inc.", "Corp." } },
  { "America/Anchorage", "USD", "+1", STYLE_US,
    { { "Anchorage", "907", "AK" }, { "Fairbanks", "907", "AK" }, { "Juneau", "907", "AK" }, { "Wasilla", "907", "AK" } },
    { "Northern Lights Blvd", "Spruce St", "Glacier Ave", "Tudor Rd" }, { "LLC", "Inc.", "Co." } },
  { "Pacific/Honolulu", "USD", "+1", STYLE_US,
    { { "Honolulu", "808", "HI" }, { "Hilo", "808", "HI" }, { "Kailua", "808", "HI" }, { "Pearl City", "808", "HI" } },
    { "Kalakaua Ave", "King St", "Ala Moana Blvd", "Kapiolani Blvd" }, { "LLC", "Inc.", "Co." } },
  { "Europe/London", "GBP", "+44", STYLE_UK,
    { { "London", "20 7946", "SW1" }, { "Manchester", "161 496", "M1" }, { "Leeds", "113 496", "LS1" }, { "Bristol", "117 496", "BS1" } },
    { "High Street", "Station Road", "Church Lane", "Victoria Road" }, { "Ltd", "Ltd", "plc" } },
  { "Europe/Dublin", "EUR", "+353", STYLE_UK,
    { { "Dublin", "1", "D02" }, { "Cork", "21", "T12" }, { "Galway", "91", "H91" }, { "Limerick", "61", "V94" } },
    { "Main Street", "Church Road", "O'Connell Street", "Harbour Road" }, { "Ltd", "DAC", "Ltd" } },
  { "Europe/Berlin", "EUR", "+49", STYLE_EU,
    { { "Berlin", "30", "10" }, { "München", "89", "80" }, { "Köln", "221", "50" }, { "Düsseldorf", "211", "40" } },
    { "Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße" }, { "GmbH", "GmbH & Co. KG", "AG" } },
  { "Europe/Paris", "EUR", "+33", STYLE_FR,
    { { "Paris", "1", "75" }, { "Lyon", "4", "69" }, { "Marseille", "4", "13" }, { "Toulouse", "5", "31" } },
    { "rue de la Paix", "avenue Victor Hugo", "rue du Moulin", "boulevard Voltaire" }, { "SARL", "SAS", "SA" } },
  { "Europe/Madrid", "EUR", "+34", STYLE_EU,
    { { "Madrid", "91", "28" }, { "Barcelona", "93", "08" }, { "Sevilla", "95", "41" }, { "València", "96", "46" } },
    { "Calle Mayor", "Avenida de la Constitución", "Calle Real", "Plaza de España" }, { "S.L.", "S.A.", "S.L." } },
  { "Europe/Rome", "EUR", "+39", STYLE_EU,
    { { "Roma", "06", "00" }, { "Milano", "02", "20" }, { "Napoli", "081", "80" }, { "Torino", "011", "10" } },
    { "Via Roma", "Via Garibaldi", "Corso Italia", "Via Dante" }, { "S.r.l.", "S.p.A.", "S.r.l." } },
  { "Europe/Amsterdam", "EUR", "+31", STYLE_EU,
    { { "Amsterdam", "20", "10" }, { "Rotterdam", "10", "30" }, { "Utrecht", "30", "35" }, { "Den Haag", "70", "25" } },
    { "Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenweg" }, { "B.V.", "B.V.", "N.V." } },
};

/* Weights per 100 accounts, in the order of zones[]. */
static const guint zone_weights[G_N_ELEMENTS (zones)] = { 22, 16, 6, 4, 14, 1, 1, 9, 3, 8, 7, 4, 3, 2 };

static const char * const first_names[] = {
  "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
  "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
  "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra",
  "Sophie", "Lukas", "Emma", "Jonas", "Léa", "Hugo", "Lucía", "Mateo", "Giulia", "Marco", "Saoirse",
  "Seán", "Daan", "Anouk", "Oliver", "Amelia", "Zoë", "Björn",
};

static const char * const last_names[] = {
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
  "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson",
  "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen",
  "Müller", "Schmidt", "Schneider", "Fischer", "Dubois", "Lefèvre", "Moreau", "García", "Fernández",
  "Rossi", "Bianchi", "Murphy", "O'Brien", "de Vries", "van Dijk", "Evans", "Hughes",
};

static const char * const company_words[] = {
  "Summit", "Harbor", "Pioneer", "Evergreen", "Granite", "Bluebird", "Northwind", "Redwood",
  "Keystone", "Lakeside", "Silverline", "Oakridge", "Brightside", "Ironwood", "Meadow", "Atlas",
};

static const char * const company_kinds[] = {
  "Plumbing", "Dental", "Logistics", "Bakery", "Builders", "Print", "Auto Repair", "Landscaping",
  "Consulting", "Catering", "Electric", "Roofing", "Clinic", "Studio", "Outfitters", "Supply",
};

static const char * const descriptions[] = {
  "Consulting services", "Monthly maintenance", "Parts and labour", "Annual subscription",
  "Repair, call-out and parts", "Catering for event", "Dental treatment", "Print run, 500 copies",
  "Freight charges", "Installation", "Emergency call-out", "Quarterly retainer",
  "Materials, \"premium\" grade", "Software licence",
};

static const int due_terms[] = { 14, 30, 30, 30, 45, 60 };

#define PICK(rand, array) ((array)[g_rand_int_range ((rand), 0, (gint32) G_N_ELEMENTS (array))])

static void
append_field (GString    *out,
              const char *value,
              gboolean    last)
{
  if (strpbrk (value, ",\"\n\r") != NULL)
    {
      g_string_append_c (out, '"');
      for (const char *p = value; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (out, '"');
          g_string_append_c (out, *p);
        }
      g_string_append_c (out, '"');
    }
  else
    g_string_append (out, value);
  g_string_append_c (out, last ? '\n' : ',');
}

/* Email local parts and domains: ASCII letters and digits only, with the
 * common Latin letters of the name lists folded to their base letter. */
static void
ascii_slug (GString    *out,
            const char *text)
{
  static const struct { const char *from; const char *to; } folds[] = {
    { "à", "a" }, { "á", "a" }, { "ä", "a" }, { "ç", "c" }, { "è", "e" }, { "é", "e" },
    { "ë", "e" }, { "í", "i" }, { "ñ", "n" }, { "ó", "o" }, { "ö", "o" }, { "ú", "u" },
    { "ü", "u" }, { "ß", "ss" },
  };

  for (const char *p = text; *p; )
    {
      if ((guchar) *p < 0x80)
        {
          if (g_ascii_isalnum (*p))
            g_string_append_c (out, g_ascii_tolower (*p));
          p++;
          continue;
        }
      for (guint i = 0; i < G_N_ELEMENTS (folds); i++)
        if (g_str_has_prefix (p, folds[i].from))
          {
            g_string_append (out, folds[i].to);
            break;
          }
      p = g_utf8_next_char (p);
    }
}

static gint32
today_day (const char *today)
{
  const char *env = g_getenv ("RECOUP_TODAY");
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *text = NULL;

  if (today == NULL && env != NULL && *env != '\0')
    today = env;
  if (today == NULL)
    {
      now = g_date_time_new_now_local ();
      today = text = g_date_time_format (now, "%Y-%m-%d");
    }
  return recoup_date_parse (today, NULL);
}

/**
 * recoup_demo_write_csv:
 *
 * Writes @n_invoices invoices over about @n_invoices / 2 accounts to @path.
 */
gboolean
recoup_demo_write_csv (const char  *path,
                       guint        n_invoices,
                       guint32      seed,
                       const char  *today,
                       GError     **error)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GString) row = g_string_sized_new (512);
  g_autoptr(GString) name = g_string_new (NULL);
  g_autoptr(GString) email = g_string_new (NULL);
  char phone[64], address[160], account_ref[32], invoice_ref[32], issue[11], due[11];
  gint32 end_day = today_day (today);
  guint total_weight = 0;
  guint written = 0;
  guint account = 0;
  gboolean bad;
  FILE *f;

  if (end_day == RECOUP_DATE_INVALID)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a date in the form YYYY-MM-DD", today);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (zone_weights); i++)
    total_weight += zone_weights[i];

  f = fopen (path, "wb");
  if (f == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s: cannot write: %s", path, g_strerror (saved_errno));
      return FALSE;
    }
  setvbuf (f, NULL, _IOFBF, 1 << 20);
  fputs ("account_ref,name,email,phone,address,timezone,invoice_ref,issue_date,due_date,"
         "amount,currency,description\n", f);

  while (written < n_invoices)
    {
      const DemoZone *zone = &zones[0];
      guint pick = (guint) g_rand_int_range (rand, 0, (gint32) total_weight);
      guint n_here = (guint) g_rand_int_range (rand, 1, 4);   /* 1..3, two on average */
      gboolean company = g_rand_int_range (rand, 0, 100) < 45;
      const char *first = PICK (rand, first_names);
      const char *last = PICK (rand, last_names);
      const DemoCity *city;
      const char *street;
      gint32 age_base;

      for (guint i = 0; i < G_N_ELEMENTS (zones); i++)
        {
          if (pick < zone_weights[i])
            {
              zone = &zones[i];
              break;
            }
          pick -= zone_weights[i];
        }
      city = &zone->cities[g_rand_int_range (rand, 0, 4)];
      street = zone->streets[g_rand_int_range (rand, 0, 4)];
      account++;
      g_snprintf (account_ref, sizeof account_ref, "C-%07u", account);

      g_string_truncate (name, 0);
      g_string_truncate (email, 0);
      if (company)
        {
          const char *word = PICK (rand, company_words);

          g_string_append_printf (name, "%s %s %s", word, PICK (rand, company_kinds),
                                  zone->suffixes[g_rand_int_range (rand, 0, 3)]);
          g_string_append (email, "accounts@");
          ascii_slug (email, word);
          g_string_append_printf (email, "%u.example.com", account);
        }
      else
        {
          g_string_append_printf (name, "%s %s", first, last);
          ascii_slug (email, first);
          g_string_append_c (email, '.');
          ascii_slug (email, last);
          g_string_append_printf (email, "%u@example.com", account);
        }

      switch (zone->style)
        {
        case STYLE_US:
          /* 555-0100 to 555-0199 are set aside for fiction. */
          g_snprintf (phone, sizeof phone, "+1 (%s) 555-01%02d", city->area, g_rand_int_range (rand, 0, 100));
          g_snprintf (address, sizeof address, "%d %s, %s, %s %05d", g_rand_int_range (rand, 1, 9900),
                      street, city->name, city->postal, g_rand_int_range (rand, 10000, 99999));
          break;
        case STYLE_UK:
          /* Ofcom's drama ranges for the UK; Irish numbers start their
           * subscriber part with 0, which no area assigns. */
          if (g_str_equal (zone->country, "+44"))
            g_snprintf (phone, sizeof phone, "+44 %s 0%03d", city->area, g_rand_int_range (rand, 0, 1000));
          else
            g_snprintf (phone, sizeof phone, "%s %s 0%05d", zone->country, city->area,
                        g_rand_int_range (rand, 0, 100000));
          g_snprintf (address, sizeof address, "%d %s, %s %s %dAB", g_rand_int_range (rand, 1, 300),
                      street, city->name, city->postal, g_rand_int_range (rand, 1, 10));
          break;
        case STYLE_FR:
          /* ARCEP's range for fiction. */
          g_snprintf (phone, sizeof phone, "+33 1 99 00 %02d %02d", g_rand_int_range (rand, 0, 100),
                      g_rand_int_range (rand, 0, 100));
          g_snprintf (address, sizeof address, "%d %s, %s%03d %s", g_rand_int_range (rand, 1, 200),
                      street, city->postal, g_rand_int_range (rand, 0, 20) * 10, city->name);
          break;
        case STYLE_EU:
        default:
          g_snprintf (phone, sizeof phone, "%s %s 0%06d", zone->country, city->area,
                      g_rand_int_range (rand, 0, 1000000));
          g_snprintf (address, sizeof address, "%s %d, %s%03d %s", street, g_rand_int_range (rand, 1, 200),
                      city->postal, g_rand_int_range (rand, 0, 1000), city->name);
          break;
        }

      /* Older accounts have older invoices: a spread of ages up to about 14 months. */
      age_base = g_rand_int_range (rand, 0, 420);

      for (guint k = 0; k < n_here && written < n_invoices; k++)
        {
          gint32 issue_day = end_day - age_base + (gint32) k * 30 - g_rand_int_range (rand, 0, 10);
          gint32 due_day;
          gint64 minor;
          g_autofree char *amount = NULL;

          if (issue_day > end_day)
            issue_day = end_day - g_rand_int_range (rand, 0, 10);
          due_day = issue_day + due_terms[g_rand_int_range (rand, 0, G_N_ELEMENTS (due_terms))];
          recoup_date_format_buf (issue_day, issue);
          recoup_date_format_buf (due_day, due);
          /* Mostly small bills, a long tail of large ones: 25.00 to about 25,000.00. */
          minor = 2500 + (gint64) g_rand_int_range (rand, 0, 50000);
          if (g_rand_int_range (rand, 0, 10) == 0)
            minor *= g_rand_int_range (rand, 5, 50);
          amount = recoup_money_format (minor, zone->currency, RECOUP_MONEY_FORMAT_PLAIN);

          written++;
          g_snprintf (invoice_ref, sizeof invoice_ref, "INV-%08u", written);
          g_string_truncate (row, 0);
          append_field (row, account_ref, FALSE);
          append_field (row, name->str, FALSE);
          append_field (row, email->str, FALSE);
          append_field (row, phone, FALSE);
          append_field (row, address, FALSE);
          append_field (row, zone->tz, FALSE);
          append_field (row, invoice_ref, FALSE);
          append_field (row, issue, FALSE);
          append_field (row, due, FALSE);
          append_field (row, amount, FALSE);
          append_field (row, zone->currency, FALSE);
          append_field (row, PICK (rand, descriptions), TRUE);
          fwrite (row->str, 1, row->len, f);
        }
    }

  bad = ferror (f) != 0;
  if (fclose (f) != 0 || bad)
    {
      int saved_errno = errno != 0 ? errno : EIO;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s: cannot write: %s", path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}
