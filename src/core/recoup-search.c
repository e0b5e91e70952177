/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-search"

#include "config.h"

#include <string.h>

#include "recoup-book-private.h"
#include "recoup-search-private.h"

/*
 * The search index. Every account has a row in account_search: n, a small key,
 * and the account's terms, one per line (to know what to remove when they
 * change). account_search_terms holds (term, n), a WITHOUT ROWID table whose
 * key answers "the terms that start with this" with one range read, so a
 * search costs the same on a hundred accounts and on a million.
 *
 * The terms of an account, all folded (recoup_search_fold()):
 *  - its name, and its name from the start of every later word (after a space
 *    or punctuation): "panaderia alvarez", "alvarez"; and its name without
 *    words of symbols alone: "peterson richards llc" for "Peterson & Richards
 *    LLC";
 *  - its reference, and each e-mail address and phone number as stored;
 *  - its reference without punctuation ("acc0000372" for "ACC-0000372"), and
 *    from every run of digits in it, with and without the run's leading zeros
 *    ("0000372", "372"): what is printed on paper is not always typed whole;
 *  - each e-mail address's domain, the part after its last "@";
 *  - for each phone number, its digits from every position that leaves at
 *    least RECOUP_SEARCH_PHONE_MIN_DIGITS of them, after DIGITS_MARK (a byte no
 *    folded text holds): a search's digits are a prefix of one of these
 *    exactly when the phone's digits contain them.
 * A deleted account keeps its row, without terms. Invoice references and
 * receipt numbers are not terms: a search that is one of them, or a number
 * one of them ends in, is looked up in their own tables
 * (RECOUP_SEARCH_DOCUMENTS_SQL).
 *
 * Both tables are derived and LOCAL to this copy of the book: never synced,
 * never in the change log. recoup_book_commit() brings the accounts a
 * transaction touched up to date before it commits; migration 8 builds the
 * index for the whole book (recoup_search_rebuild()), and so does
 * recoup_search_ensure_current() for a book whose index was built from
 * another list of terms than this one (SEARCH_FORM).
 */

#define DIGITS_MARK     '\001'
#define TERM_MAX        128       /* bytes; a longer term, or search, is cut */
#define BATCH_THRESHOLD 100       /* more touched accounts: one pass over a temp table */
#define FLUSH_TERMS     (1 << 20) /* new terms held (sorted, then written in key order) */

/* The list of terms the index holds, kept in the book's local setting
 * FORM_KEY: raise it when the terms of an account change, so that books
 * indexed before are indexed anew once. 2: reference without punctuation, its
 * numbers, e-mail domains; 3: a name without its words of symbols alone
 * ("&"). A "derived." stamp, like the scores': it describes the index a
 * snapshot carries, so it stays true on the copy. */
#define SEARCH_FORM     "3"
#define FORM_KEY        "derived.search_form"

/* ---- folding ------------------------------------------------------------ */

/* Latin letters that Unicode does not decompose into a base letter and a mark,
 * by the letter people type for them (lower case: the text is case folded). */
static const struct
{
  gunichar    c;
  const char *latin;
} plain_letters[] = {
  { 0x00e6, "ae" },  /* æ */
  { 0x00f0, "d" },   /* ð */
  { 0x00f8, "o" },   /* ø */
  { 0x00fe, "th" },  /* þ */
  { 0x0111, "d" },   /* đ */
  { 0x0127, "h" },   /* ħ */
  { 0x0131, "i" },   /* ı */
  { 0x0138, "k" },   /* ĸ */
  { 0x0142, "l" },   /* ł */
  { 0x014b, "n" },   /* ŋ */
  { 0x0153, "oe" },  /* œ */
  { 0x0167, "t" },   /* ŧ */
  { 0x0180, "b" },   /* ƀ */
  { 0x0188, "c" },   /* ƈ */
  { 0x0192, "f" },   /* ƒ */
  { 0x01b6, "z" },   /* ƶ */
  { 0x0247, "e" },   /* ɇ */
  { 0x0268, "i" },   /* ɨ */
};

static void
append_folded (GString  *out,
               gunichar  c)
{
  if (c < 0x80)
    {
      g_string_append_c (out, g_ascii_tolower ((char) c));
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (plain_letters); i++)
    if (plain_letters[i].c == c)
      {
        g_string_append (out, plain_letters[i].latin);
        return;
      }
  /* Anything else (Cyrillic, Greek, CJK, symbols) stays itself. */
  g_string_append_unichar (out, c);
}

/**
 * recoup_search_fold:
 * @text: (nullable): any text
 *
 * What a search compares: @text without accents (compatibility-decomposed,
 * combining marks dropped, ø, ł, đ, æ and the like by the Latin letters people
 * type for them), case folded (ß is ss), every run of spaces or control
 * characters one space, and no space at either end.
 *
 * Returns: (transfer full): the folded text
 */
char *
recoup_search_fold (const char *text)
{
  g_autofree char *valid = NULL;
  g_autofree char *decomposed = NULL;
  g_autofree char *folded = NULL;
  GString *out;
  gboolean ascii = TRUE;
  gboolean space = FALSE;

  if (text == NULL)
    return g_strdup ("");
  for (const char *p = text; *p != '\0' && ascii; p++)
    ascii = (guchar) *p < 0x80;
  out = g_string_sized_new (strlen (text));

  if (ascii)
    {
      for (const char *p = text; *p != '\0'; p++)
        {
          if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p))
            {
              space = out->len > 0;
              continue;
            }
          if (space)
            g_string_append_c (out, ' ');
          space = FALSE;
          g_string_append_c (out, g_ascii_tolower (*p));
        }
      return g_string_free (out, FALSE);
    }

  valid = g_utf8_make_valid (text, -1);
  decomposed = g_utf8_normalize (valid, -1, G_NORMALIZE_ALL);
  folded = g_utf8_casefold (decomposed, -1);
  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_ismark (c) || g_unichar_type (c) == G_UNICODE_FORMAT)
        continue;
      if (g_unichar_isspace (c) || g_unichar_iscntrl (c))
        {
          space = out->len > 0;
          continue;
        }
      if (space)
        g_string_append_c (out, ' ');
      space = FALSE;
      append_folded (out, c);
    }
  return g_string_free (out, FALSE);
}

/* The length of @text cut to TERM_MAX bytes at a character boundary. */
static gsize
term_length (const char *text,
             gsize       len)
{
  if (len <= TERM_MAX)
    return len;
  len = TERM_MAX;
  while (len > 0 && ((guchar) text[len] & 0xc0) == 0x80)
    len--;
  return len;
}

static gboolean
is_phone_char (gunichar c)
{
  return (c < 0x80 && strchr ("+-()./", (int) c) != NULL) ||
         g_unichar_isspace (c) || g_unichar_type (c) == G_UNICODE_DASH_PUNCTUATION;
}

/**
 * recoup_search_phone_digits:
 * @search: what the user typed
 *
 * Returns: (transfer full) (nullable): the digits of @search when it reads as
 *   a phone number (digits and phone punctuation only, at least
 *   RECOUP_SEARCH_PHONE_MIN_DIGITS digits), else %NULL
 */
char *
recoup_search_phone_digits (const char *search)
{
  GString *digits = g_string_new (NULL);

  if (search == NULL || !g_utf8_validate (search, -1, NULL))
    goto none;
  for (const char *p = search; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      int d = g_unichar_digit_value (c);

      if (d >= 0)
        g_string_append_c (digits, (char) ('0' + d));
      else if (!is_phone_char (c))
        goto none;
    }
  if (digits->len >= RECOUP_SEARCH_PHONE_MIN_DIGITS)
    return g_string_free (digits, FALSE);

none:
  g_string_free (digits, TRUE);
  return NULL;
}

/**
 * recoup_search_phone_national:
 * @digits: the digits of a phone number (recoup_search_phone_digits())
 *
 * North America's country code is written or left out at will: “+1 512 555
 * 0119” is “(512) 555-0119”. (Another country's 11-digit number that starts
 * with 1 loses its first digit too; it then matches only a 10-digit number
 * equal to the rest.)
 *
 * Returns: (transfer none): @digits without their first digit when they are 11
 *   digits starting with 1, else @digits
 */
const char *
recoup_search_phone_national (const char *digits)
{
  return strlen (digits) == 11 && digits[0] == '1' ? digits + 1 : digits;
}

/* ---- the ranges a search reads ------------------------------------------ */

static void
set_range (RecoupSearchRanges *r,
           guint               i,
           const char         *prefix,
           const char         *text)
{
  g_autofree char *lo = g_strconcat (prefix, text, NULL);
  gsize len = term_length (lo, strlen (lo));

  /* 0xff never occurs in UTF-8: every term that starts with lo sorts before
   * lo + 0xff, and every other term after lo sorts after it. */
  r->lo[i] = g_strndup (lo, len);
  r->hi[i] = g_strconcat (r->lo[i], "\xff", NULL);
}

/* An invoice or receipt number is stored as printed, usually in capitals; a
 * search for one is read as typed, in upper and in lower case. */
static void
set_docs (RecoupSearchRanges *r,
          const char         *search)
{
  g_autofree char *typed = g_strstrip (g_strdup (search));

  r->doc[0] = g_ascii_strup (typed, -1);
  r->doc[1] = g_ascii_strdown (typed, -1);
  if (strcmp (typed, r->doc[0]) != 0 && strcmp (typed, r->doc[1]) != 0)
    r->doc[2] = g_steal_pointer (&typed);
}

/* A search of digits alone, at most RECOUP_SEARCH_NUMBER_MAX of them after
 * an optional "#" ("580", "#00000580"), is also the end of an invoice or
 * receipt number (RECOUP_SEARCH_NUMBERED_SQL): the number, without its
 * leading zeros, which every width is tried with. */
static char *
document_number (const char *search)
{
  g_autofree char *typed = g_strstrip (g_strdup (search));
  const char *digits = typed + (*typed == '#');
  gsize len = strlen (digits);

  if (len == 0 || len > RECOUP_SEARCH_NUMBER_MAX || strspn (digits, "0123456789") != len)
    return NULL;
  digits += strspn (digits, "0");
  return *digits != '\0' ? g_strdup (digits) : NULL;
}

/* TRUE when @word has a letter or a digit: "&" is no word to look for. */
static gboolean
has_alnum (const char *word)
{
  for (const char *p = word; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_isalnum (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

/* @word without the punctuation at its ends, in place: "jansen," is typed
 * for "jansen", "(gray)" for "gray". */
static char *
trim_word (char *word)
{
  char *end = word + strlen (word);

  while (*word != '\0' && !g_unichar_isalnum (g_utf8_get_char (word)))
    word = g_utf8_next_char (word);
  while (end > word && !g_unichar_isalnum (g_utf8_get_char (g_utf8_prev_char (end))))
    end = g_utf8_prev_char (end);
  *end = '\0';
  return word;
}

/* A search of two to 1 + RECOUP_SEARCH_N_WORDS words (of letters or digits)
 * reads the range of its longest word when that has at least WORD_MIN bytes,
 * so that "a b" does not read half the index, and checks the others. */
#define WORD_MIN 3

static void
set_words (RecoupSearchRanges *r,
           const char         *folded)
{
  g_auto(GStrv) split = g_strsplit (folded, " ", -1);
  g_autoptr(GPtrArray) words = g_ptr_array_new ();
  guint longest = 0, k = 0;

  for (guint i = 0; split[i] != NULL; i++)
    if (has_alnum (split[i]))
      g_ptr_array_add (words, trim_word (split[i]));
  if (words->len < 2 || words->len > 1 + RECOUP_SEARCH_N_WORDS)
    return;
  for (guint i = 1; i < words->len; i++)
    if (strlen (words->pdata[i]) > strlen (words->pdata[longest]))
      longest = i;
  if (strlen (words->pdata[longest]) < WORD_MIN)
    return;

  r->word_lo = g_strndup (words->pdata[longest], term_length (words->pdata[longest], strlen (words->pdata[longest])));
  r->word_hi = g_strconcat (r->word_lo, "\xff", NULL);
  for (guint i = 0; i < words->len; i++)
    if (i != longest)
      r->word[k++] = g_strconcat ("\n", words->pdata[i], NULL);
}

/**
 * recoup_search_ranges_init:
 * @search: what the user typed
 *
 * Returns: %FALSE when @search holds nothing to search for (only spaces)
 */
gboolean
recoup_search_ranges_init (RecoupSearchRanges *ranges,
                           const char         *search)
{
  g_autofree char *folded = recoup_search_fold (search);
  g_autofree char *digits = recoup_search_phone_digits (search);
  static const char mark[] = { DIGITS_MARK, '\0' };

  memset (ranges, 0, sizeof *ranges);
  if (*folded == '\0')
    return FALSE;
  set_range (ranges, 0, "", folded);
  set_docs (ranges, search);
  ranges->number = document_number (search);
  if (digits != NULL)
    {
      const char *national = recoup_search_phone_national (digits);

      const char *significant = digits + strspn (digits, "0");

      set_range (ranges, 1, mark, digits);
      /* +1 512 555 0119 finds (512) 555-0119: North America's country code.
       * 050 0526 202 finds +31 50 0526 202, and 0031 50… finds it too: a
       * trunk prefix 0, or an international prefix 00, is dropped when a
       * number is written with its country code. */
      if (national != digits)
        set_range (ranges, 2, mark, national);
      else if (significant != digits && strlen (significant) >= RECOUP_SEARCH_PHONE_MIN_DIGITS)
        set_range (ranges, 2, mark, significant);
    }
  set_words (ranges, folded);
  return TRUE;
}

void
recoup_search_ranges_bind (const RecoupSearchRanges *ranges,
                           sqlite3_stmt             *stmt)
{
  for (guint i = 0; i < RECOUP_SEARCH_N_RANGES; i++)
    {
      char lo[16], hi[16];

      g_snprintf (lo, sizeof lo, ":search_lo%u", i);
      g_snprintf (hi, sizeof hi, ":search_hi%u", i);
      /* An unused range binds NULL, which no comparison matches. */
      sqlite3_bind_text (stmt, sqlite3_bind_parameter_index (stmt, lo), ranges->lo[i], -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, sqlite3_bind_parameter_index (stmt, hi), ranges->hi[i], -1, SQLITE_TRANSIENT);
    }
  for (guint i = 0; i < RECOUP_SEARCH_N_DOCS; i++)
    {
      char doc[16];

      g_snprintf (doc, sizeof doc, ":search_doc%u", i);
      sqlite3_bind_text (stmt, sqlite3_bind_parameter_index (stmt, doc), ranges->doc[i], -1, SQLITE_TRANSIENT);
    }
  sqlite3_bind_text (stmt, sqlite3_bind_parameter_index (stmt, ":search_word_lo"), ranges->word_lo, -1,
                     SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, sqlite3_bind_parameter_index (stmt, ":search_word_hi"), ranges->word_hi, -1,
                     SQLITE_TRANSIENT);
  for (guint i = 0; i < RECOUP_SEARCH_N_WORDS; i++)
    {
      char word[16];

      g_snprintf (word, sizeof word, ":search_word%u", i);
      sqlite3_bind_text (stmt, sqlite3_bind_parameter_index (stmt, word), ranges->word[i], -1, SQLITE_TRANSIENT);
    }
  sqlite3_bind_text (stmt, sqlite3_bind_parameter_index (stmt, ":search_number"), ranges->number, -1,
                     SQLITE_TRANSIENT);
}

void
recoup_search_ranges_clear (RecoupSearchRanges *ranges)
{
  for (guint i = 0; i < RECOUP_SEARCH_N_RANGES; i++)
    {
      g_clear_pointer (&ranges->lo[i], g_free);
      g_clear_pointer (&ranges->hi[i], g_free);
    }
  for (guint i = 0; i < RECOUP_SEARCH_N_DOCS; i++)
    g_clear_pointer (&ranges->doc[i], g_free);
  g_clear_pointer (&ranges->word_lo, g_free);
  g_clear_pointer (&ranges->word_hi, g_free);
  for (guint i = 0; i < RECOUP_SEARCH_N_WORDS; i++)
    g_clear_pointer (&ranges->word[i], g_free);
  g_clear_pointer (&ranges->number, g_free);
}

/* ---- the terms of an account -------------------------------------------- */

static void
add_term (GPtrArray  *terms,
          const char *text)
{
  g_ptr_array_add (terms, g_strndup (text, term_length (text, strlen (text))));
}

/* @folded without its words of no letter or digit ("&", "-", "+"), or NULL
 * when it has none: "peterson & richards llc" is typed "peterson richards". */
static char *
without_symbol_words (const char *folded)
{
  g_auto(GStrv) words = g_strsplit (folded, " ", -1);
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();

  for (guint i = 0; words[i] != NULL; i++)
    if (has_alnum (words[i]))
      g_ptr_array_add (kept, words[i]);
  if (kept->len == g_strv_length (words) || kept->len == 0)
    return NULL;
  g_ptr_array_add (kept, NULL);
  return g_strjoinv (" ", (char **) kept->pdata);
}

/* @folded, and with @words, @folded from every later word start, and
 * @folded without its words of symbols alone. */
static void
add_text (GPtrArray  *terms,
          const char *folded,
          gboolean    words)
{
  gboolean after_word = TRUE;

  if (*folded == '\0')
    return;
  add_term (terms, folded);
  if (!words)
    return;
  {
    g_autofree char *plain = without_symbol_words (folded);

    if (plain != NULL)
      add_term (terms, plain);
  }
  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!after_word && c != ' ')
        add_term (terms, p);
      after_word = g_unichar_isalnum (c);
    }
}

static void
add_phone (GPtrArray  *terms,
           const char *folded)
{
  GString *digits = g_string_new (NULL);

  add_text (terms, folded, FALSE);
  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      int d = g_unichar_digit_value (g_utf8_get_char (p));

      if (d >= 0)
        g_string_append_c (digits, (char) ('0' + d));
    }
  for (gsize i = 0; i + RECOUP_SEARCH_PHONE_MIN_DIGITS <= digits->len; i++)
    {
      g_autofree char *term = g_strdup_printf ("%c%s", DIGITS_MARK, digits->str + i);

      add_term (terms, term);
    }
  g_string_free (digits, TRUE);
}

/* The reference @folded without punctuation, and from the start of every run
 * of digits in it, with and without that run's leading zeros. */
static void
add_reference (GPtrArray  *terms,
               const char *folded)
{
  GString *plain = g_string_new (NULL);

  add_text (terms, folded, FALSE);
  for (const char *p = folded; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p) && (p == folded || !g_ascii_isdigit (p[-1])))
        {
          const char *significant = p;

          add_term (terms, p);
          while (*significant == '0')
            significant++;
          if (g_ascii_isdigit (*significant))
            add_term (terms, significant);
        }
      /* What is not ASCII (a letter of a reference in another script) stays. */
      if (g_ascii_isalnum (*p) || (guchar) *p >= 0x80)
        g_string_append_c (plain, *p);
    }
  if (plain->len > 0)
    add_term (terms, plain->str);
  g_string_free (plain, TRUE);
}

/* The address @folded, and its domain. */
static void
add_email (GPtrArray  *terms,
           const char *folded)
{
  const char *at = strrchr (folded, '@');

  add_text (terms, folded, FALSE);
  if (at != NULL && at[1] != '\0')
    add_term (terms, at + 1);
}

static int
compare_terms (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Sorts @terms and drops repeats. */
static void
sort_terms (GPtrArray *terms)
{
  guint kept = 0;

  g_ptr_array_sort (terms, compare_terms);
  for (guint i = 0; i < terms->len; i++)
    {
      if (kept > 0 && strcmp (terms->pdata[kept - 1], terms->pdata[i]) == 0)
        {
          g_free (terms->pdata[i]);
          continue;
        }
      terms->pdata[kept++] = terms->pdata[i];
    }
  terms->len = kept;
}

/* ---- writing the index -------------------------------------------------- */

typedef struct
{
  const char *term;   /* in Indexer.chunk */
  gint64      n;
} Pending;

typedef struct
{
  RecoupBook   *book;
  sqlite3_stmt *acc;      /* id, name, ref, deleted, n, terms ORDER BY id */
  sqlite3_stmt *con;      /* account_id, kind, value ORDER BY account_id */
  gboolean      con_row;
  GArray       *pending;  /* Pending: terms to insert */
  GStringChunk *chunk;
} Indexer;

static int
compare_pending (gconstpointer a,
                 gconstpointer b)
{
  const Pending *x = a, *y = b;
  int c = strcmp (x->term, y->term);

  return c != 0 ? c : (x->n > y->n) - (x->n < y->n);
}

/* Writes the held terms in key order, so each page of the index is visited
 * once per flush instead of once per term, INSERT_ROWS to a statement. */
#define INSERT_ROWS 64    /* terms one statement inserts */

static gboolean
flush (Indexer  *ix,
       GError  **error)
{
  g_autoptr(GString) many_sql = g_string_new ("INSERT OR IGNORE INTO account_search_terms (term, n) VALUES (?, ?)");
  sqlite3_stmt *one, *many;
  guint i = 0;

  if (ix->pending->len == 0)
    return TRUE;
  for (guint r = 1; r < INSERT_ROWS; r++)
    g_string_append (many_sql, ", (?, ?)");
  if (!(one = recoup_book_prepare (ix->book, "INSERT OR IGNORE INTO account_search_terms (term, n) VALUES (?1, ?2)",
                                   error)) ||
      !(many = recoup_book_prepare (ix->book, many_sql->str, error)))
    return FALSE;
  g_array_sort (ix->pending, compare_pending);
  for (; i + INSERT_ROWS <= ix->pending->len; i += INSERT_ROWS)
    {
      for (guint r = 0; r < INSERT_ROWS; r++)
        {
          const Pending *p = &g_array_index (ix->pending, Pending, i + r);

          sqlite3_bind_text (many, 2 * r + 1, p->term, -1, SQLITE_STATIC);
          sqlite3_bind_int64 (many, 2 * r + 2, p->n);
        }
      if (!recoup_book_step_done (ix->book, many, error))
        return FALSE;
    }
  for (; i < ix->pending->len; i++)
    {
      const Pending *p = &g_array_index (ix->pending, Pending, i);

      sqlite3_bind_text (one, 1, p->term, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (one, 2, p->n);
      if (!recoup_book_step_done (ix->book, one, error))
        return FALSE;
    }
  sqlite3_clear_bindings (one);
  sqlite3_clear_bindings (many);
  g_array_set_size (ix->pending, 0);
  g_string_chunk_clear (ix->chunk);
  return TRUE;
}

static void
hold (Indexer    *ix,
      const char *term,
      gint64      n)
{
  Pending p = { g_string_chunk_insert (ix->chunk, term), n };

  g_array_append_val (ix->pending, p);
}

static gboolean
delete_term (Indexer     *ix,
             const char  *term,
             gint64       n,
             GError     **error)
{
  sqlite3_stmt *del = recoup_book_prepare (ix->book, "DELETE FROM account_search_terms WHERE term = ?1 AND n = ?2",
                                           error);

  if (del == NULL)
    return FALSE;
  sqlite3_bind_text (del, 1, term, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (del, 2, n);
  return recoup_book_step_done (ix->book, del, error);
}

/* Brings one account's rows to @terms (sorted, no repeats). @n and @old_doc
 * are its row of account_search, or 0 and NULL when it has none yet. */
static gboolean
store_account (Indexer     *ix,
               const char  *account_id,
               gint64       n,
               const char  *old_doc,
               GPtrArray   *terms,
               GError     **error)
{
  g_autofree char *doc = NULL;
  g_auto(GStrv) old = NULL;
  sqlite3_stmt *stmt;
  guint i = 0, j = 0;

  g_ptr_array_add (terms, NULL);
  doc = g_strjoinv ("\n", (char **) terms->pdata);
  g_ptr_array_set_size (terms, terms->len - 1);

  if (old_doc == NULL)
    {
      if (!(stmt = recoup_book_prepare (ix->book, "INSERT INTO account_search (account_id, terms) VALUES (?1, ?2)",
                                        error)))
        return FALSE;
      sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, doc, -1, SQLITE_STATIC);
      if (!recoup_book_step_done (ix->book, stmt, error))
        return FALSE;
      n = sqlite3_last_insert_rowid (recoup_book_get_db (ix->book));
      for (i = 0; i < terms->len; i++)
        hold (ix, terms->pdata[i], n);
      return ix->pending->len < FLUSH_TERMS || flush (ix, error);
    }
  if (g_strcmp0 (old_doc, doc) == 0)
    return TRUE;

  /* Both lists are sorted: one merge finds what went and what came. */
  old = *old_doc != '\0' ? g_strsplit (old_doc, "\n", -1) : g_new0 (char *, 1);
  while (old[i] != NULL || j < terms->len)
    {
      int c = old[i] == NULL ? 1 : j == terms->len ? -1 : strcmp (old[i], terms->pdata[j]);

      if (c < 0 && !delete_term (ix, old[i], n, error))
        return FALSE;
      if (c > 0)
        hold (ix, terms->pdata[j], n);
      if (c <= 0)
        i++;
      if (c >= 0)
        j++;
    }
  if (!(stmt = recoup_book_prepare (ix->book, "UPDATE account_search SET terms = ?2 WHERE n = ?1", error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, n);
  sqlite3_bind_text (stmt, 2, doc, -1, SQLITE_STATIC);
  if (!recoup_book_step_done (ix->book, stmt, error))
    return FALSE;
  return ix->pending->len < FLUSH_TERMS || flush (ix, error);
}

static gboolean
step_contacts (Indexer  *ix,
               GError  **error)
{
  int rc = sqlite3_step (ix->con);

  ix->con_row = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    return TRUE;
  return recoup_book_set_sqlite_error (ix->book, error);
}

/* Walks the accounts of ix->acc and their contact points of ix->con (both in
 * account id order) and stores each account's terms. */
static gboolean
index_accounts (Indexer  *ix,
                GError  **error)
{
  int rc;

  if (!step_contacts (ix, error))
    return FALSE;
  while ((rc = sqlite3_step (ix->acc)) == SQLITE_ROW)
    {
      g_autoptr(GPtrArray) terms = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *old_doc = NULL;
      const char *id = RECOUP_BOOK_STMT_TEXT (ix->acc, 0);
      gboolean deleted = sqlite3_column_int (ix->acc, 3) != 0;

      while (ix->con_row && strcmp (RECOUP_BOOK_STMT_TEXT (ix->con, 0), id) < 0)
        if (!step_contacts (ix, error))
          return FALSE;
      while (ix->con_row && strcmp (RECOUP_BOOK_STMT_TEXT (ix->con, 0), id) == 0)
        {
          if (!deleted)
            {
              g_autofree char *folded = recoup_search_fold (RECOUP_BOOK_STMT_TEXT (ix->con, 2));

              if (g_strcmp0 (RECOUP_BOOK_STMT_TEXT (ix->con, 1), "phone") == 0)
                add_phone (terms, folded);
              else
                add_email (terms, folded);
            }
          if (!step_contacts (ix, error))
            return FALSE;
        }
      if (!deleted)
        {
          g_autofree char *name = recoup_search_fold (RECOUP_BOOK_STMT_TEXT (ix->acc, 1));
          g_autofree char *ref = recoup_search_fold (RECOUP_BOOK_STMT_TEXT (ix->acc, 2));

          add_text (terms, name, TRUE);
          add_reference (terms, ref);
        }
      sort_terms (terms);
      /* A copy: storing writes the row the statement read it from. */
      old_doc = sqlite3_column_type (ix->acc, 5) == SQLITE_NULL ? NULL : g_strdup (RECOUP_BOOK_STMT_TEXT (ix->acc, 5));
      if (!store_account (ix, id, sqlite3_column_int64 (ix->acc, 4), old_doc, terms, error))
        return FALSE;
    }
  if (rc != SQLITE_DONE)
    return recoup_book_set_sqlite_error (ix->book, error);
  return flush (ix, error);
}

/* With each account, its row of the index as it stands (NULL for a new one). */
static const char sql_acc[] =
  "SELECT id, name, ref, deleted, s.n, s.terms FROM accounts"
  " LEFT JOIN account_search AS s ON s.account_id = accounts.id WHERE %s ORDER BY id";
static const char sql_con[] =
  "SELECT account_id, kind, value FROM contact_points"
  " WHERE deleted = 0 AND kind IN ('phone', 'email') AND %s ORDER BY account_id";

/* Indexes the accounts whose id @where (on accounts) and @con_where (on
 * contact_points) select; @id, when not NULL, is bound to ?1 of both. */
static gboolean
index_where (RecoupBook  *book,
             const char  *where,
             const char  *con_where,
             const char  *id,
             GError     **error)
{
  g_autofree char *acc_sql = g_strdup_printf (sql_acc, where);
  g_autofree char *con_sql = g_strdup_printf (sql_con, con_where);
  Indexer ix = { .book = book };
  gboolean ok = FALSE;

  /* Statements of one account are kept in the book's cache; a pass over many
   * runs once. */
  if (id != NULL)
    {
      ix.acc = recoup_book_prepare (book, acc_sql, error);
      ix.con = ix.acc != NULL ? recoup_book_prepare (book, con_sql, error) : NULL;
      if (ix.con == NULL)
        return FALSE;
      sqlite3_bind_text (ix.acc, 1, id, -1, SQLITE_STATIC);
      sqlite3_bind_text (ix.con, 1, id, -1, SQLITE_STATIC);
    }
  else if (sqlite3_prepare_v2 (recoup_book_get_db (book), acc_sql, -1, &ix.acc, NULL) != SQLITE_OK ||
           sqlite3_prepare_v2 (recoup_book_get_db (book), con_sql, -1, &ix.con, NULL) != SQLITE_OK)
    {
      recoup_book_set_sqlite_error (book, error);
      goto out;
    }

  ix.pending = g_array_new (FALSE, FALSE, sizeof (Pending));
  ix.chunk = g_string_chunk_new (1 << 16);
  ok = index_accounts (&ix, error);
  g_array_unref (ix.pending);
  g_string_chunk_free (ix.chunk);

out:
  if (id != NULL)
    {
      sqlite3_reset (ix.acc);
      sqlite3_reset (ix.con);
    }
  else
    {
      sqlite3_finalize (ix.acc);
      sqlite3_finalize (ix.con);
    }
  return ok;
}

/**
 * recoup_search_refresh_accounts:
 * @account_ids: (element-type utf8): ids of the accounts a transaction wrote
 *
 * Brings their search terms up to date, inside the caller's transaction.
 */
gboolean
recoup_search_refresh_accounts (RecoupBook  *book,
                                GHashTable  *account_ids,
                                GError     **error)
{
  GHashTableIter iter;
  gpointer key;
  sqlite3_stmt *ins;
  gboolean ok;

  if (g_hash_table_size (account_ids) <= BATCH_THRESHOLD)
    {
      g_hash_table_iter_init (&iter, account_ids);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (!index_where (book, "id = ?1", "account_id = ?1", key, error))
          return FALSE;
      return TRUE;
    }

  if (!recoup_book_exec (book, "CREATE TEMP TABLE IF NOT EXISTS recoup_search_touched (id TEXT PRIMARY KEY);"
                               "DELETE FROM temp.recoup_search_touched;", error) ||
      !(ins = recoup_book_prepare (book, "INSERT OR IGNORE INTO temp.recoup_search_touched (id) VALUES (?)", error)))
    return FALSE;
  g_hash_table_iter_init (&iter, account_ids);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      sqlite3_bind_text (ins, 1, key, -1, SQLITE_STATIC);
      if (!recoup_book_step_done (book, ins, error))
        return FALSE;
    }
  ok = index_where (book, "id IN (SELECT id FROM temp.recoup_search_touched)",
                    "account_id IN (SELECT id FROM temp.recoup_search_touched)", NULL, error);
  return recoup_book_exec (book, "DELETE FROM temp.recoup_search_touched", ok ? error : NULL) && ok;
}

/**
 * recoup_search_rebuild:
 *
 * Builds the search index of the whole book anew, inside the caller's
 * transaction (migration 8 runs it), and notes which terms it holds.
 */
gboolean
recoup_search_rebuild (RecoupBook  *book,
                       GError     **error)
{
  return recoup_book_exec (book, "DELETE FROM account_search_terms; DELETE FROM account_search;", error) &&
         index_where (book, "1", "1", NULL, error) &&
         recoup_book_set_setting (book, FORM_KEY, SEARCH_FORM, error);
}

/**
 * recoup_search_ensure_current:
 *
 * Rebuilds the search index, in a transaction of its own, when it was built
 * from other terms than this version of Recoup writes (a book indexed by an
 * earlier one); one read of a setting when it is current. A book open
 * read-only keeps the index it has.
 */
gboolean
recoup_search_ensure_current (RecoupBook  *book,
                              GError     **error)
{
  g_autofree char *form = recoup_book_get_setting (book, FORM_KEY);
  g_autoptr(GError) local = NULL;
  gint64 t0 = g_get_monotonic_time ();

  if (g_strcmp0 (form, SEARCH_FORM) == 0)
    return TRUE;
  if (!recoup_book_begin (book, &local))
    {
      if (g_error_matches (local, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_DENIED))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!recoup_search_rebuild (book, error))
    {
      recoup_book_rollback (book);
      return FALSE;
    }
  /* A failed commit has already rolled back. */
  if (!recoup_book_commit (book, error))
    return FALSE;
  g_debug ("search index rebuilt in form %s in %.0f ms", SEARCH_FORM, (g_get_monotonic_time () - t0) / 1000.0);
  return TRUE;
}
