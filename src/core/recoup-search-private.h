/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <sqlite3.h>

#include "recoup-book.h"
#include "recoup-search.h"

G_BEGIN_DECLS

/* The ranges of account_search_terms a search reads: its folded text, and for
 * a phone number its digits, and those digits without a leading country code
 * 1 or without leading zeros (a trunk or international prefix). */
#define RECOUP_SEARCH_N_RANGES 3

/* The words of a search of several, besides the one whose range is read
 * (RECOUP_SEARCH_WORDS_SQL). */
#define RECOUP_SEARCH_N_WORDS 3

/* The spellings of a document number a search looks up as it is (invoices.ref,
 * ledger_entries.receipt_no): as typed, in upper and in lower case. */
#define RECOUP_SEARCH_N_DOCS 3

typedef struct
{
  char *lo[RECOUP_SEARCH_N_RANGES];   /* NULL: the range is not used */
  char *hi[RECOUP_SEARCH_N_RANGES];
  char *doc[RECOUP_SEARCH_N_DOCS];
  char *word_lo;                      /* NULL: not a search of several words */
  char *word_hi;
  char *word[RECOUP_SEARCH_N_WORDS];  /* "\n" and a word, or NULL */
  char *number;                       /* a number typed alone, without leading zeros, or NULL */
} RecoupSearchRanges;

/* The keys (account_search.n) of the accounts a search matches, for
 * "k.n IN (" RECOUP_SEARCH_INDEX_SQL ")"; and their ids, for
 * "a.id IN (" RECOUP_SEARCH_ACCOUNTS_SQL ")". A deleted account has no terms,
 * and the accounts of an invoice or a receipt are read only when not deleted,
 * so neither names a deleted account. recoup_search_ranges_bind() binds their
 * parameters by name; SQLite numbers a named parameter after the largest
 * number used before it in the statement's text, so a statement that also
 * uses ?NNN parameters must name the largest of them before this text.
 *
 * Invoice references and receipt numbers are not terms (an import writes
 * thousands of invoices a second): a search that is one of them, whole, is a
 * lookup on their own unique indexes. */
#define RECOUP_SEARCH_RANGE_SQL(i) \
  "SELECT n FROM account_search_terms WHERE term >= :search_lo" #i " AND term < :search_hi" #i
#define RECOUP_SEARCH_DOCS_SQL \
  "(:search_doc0, :search_doc1, :search_doc2)"
#define RECOUP_SEARCH_OWNER_SQL(table, where, list) \
  "SELECT k.n FROM " table " JOIN accounts a ON a.id = d.account_id AND a.deleted = 0" \
  " JOIN account_search k ON k.account_id = d.account_id WHERE " where " IN " list
/* A number typed alone ("580", "00000580") also finds the invoice or receipt
 * whose number ends in it, whatever comes before ("INV-00000580",
 * "R-E2E7AA-000580"): a debtor on the phone reads out the number, not its
 * prefix. The prefixes a table's numbers have (a number without the digits at
 * its end) are found one seek each on its unique index, up to
 * RECOUP_SEARCH_MAX_PREFIXES of them in the order they sort; each is tried with
 * the number zero-padded to every width up to RECOUP_SEARCH_NUMBER_MAX digits.
 * A few hundred index lookups, at any size of book; nothing to keep up to date
 * when an import writes its invoices. */
#define RECOUP_SEARCH_MAX_PREFIXES "32"
#define RECOUP_SEARCH_NUMBER_MAX   12
#define RECOUP_SEARCH_NUMBERED_SQL(table, column) \
  "(WITH RECURSIVE pre (p, k) AS (" \
  "   SELECT rtrim (min (" column "), '0123456789'), 1 FROM " table " WHERE :search_number IS NOT NULL" \
  "   UNION ALL" \
  "   SELECT (SELECT rtrim (min (" column "), '0123456789') FROM " table " WHERE " column " >= pre.p || ':')," \
  "          k + 1 FROM pre WHERE pre.p IS NOT NULL AND k < " RECOUP_SEARCH_MAX_PREFIXES ")," \
  " wid (w) AS (SELECT length (:search_number)" \
  "             UNION ALL SELECT w + 1 FROM wid WHERE w < " G_STRINGIFY (RECOUP_SEARCH_NUMBER_MAX) ")" \
  " SELECT p || printf ('%0*d', w, :search_number) FROM pre, wid WHERE p IS NOT NULL)"
#define RECOUP_SEARCH_DOCUMENTS_SQL \
  RECOUP_SEARCH_OWNER_SQL ("invoices d", "d.deleted = 0 AND d.ref", RECOUP_SEARCH_DOCS_SQL) " UNION ALL " \
  RECOUP_SEARCH_OWNER_SQL ("ledger_entries d", "d.receipt_no", RECOUP_SEARCH_DOCS_SQL) " UNION ALL " \
  RECOUP_SEARCH_OWNER_SQL ("invoices d", "d.deleted = 0 AND d.ref", \
                           RECOUP_SEARCH_NUMBERED_SQL ("invoices", "ref")) " UNION ALL " \
  RECOUP_SEARCH_OWNER_SQL ("ledger_entries d", "d.receipt_no", \
                           RECOUP_SEARCH_NUMBERED_SQL ("ledger_entries", "receipt_no"))
/* A search of several words also finds the accounts that have a term starting
 * with each word, in any order: "jansen johanna" finds "Johanna Jansen" and
 * "john smith" finds "John A. Smith". The range of the longest word is read,
 * and each account it names is kept when its list of terms (one per line) has
 * a line that starts with each other word. */
#define RECOUP_SEARCH_WORD_SQL(i) \
  " AND (:search_word" #i " IS NULL OR instr (char (10) || s.terms, :search_word" #i ") > 0)"
#define RECOUP_SEARCH_WORDS_SQL \
  "SELECT t.n FROM account_search_terms t JOIN account_search s ON s.n = t.n" \
  " WHERE t.term >= :search_word_lo AND t.term < :search_word_hi" \
  RECOUP_SEARCH_WORD_SQL (0) RECOUP_SEARCH_WORD_SQL (1) RECOUP_SEARCH_WORD_SQL (2)
#define RECOUP_SEARCH_INDEX_SQL \
  RECOUP_SEARCH_WORDS_SQL " UNION ALL " \
  RECOUP_SEARCH_RANGE_SQL (0) " UNION ALL " \
  RECOUP_SEARCH_RANGE_SQL (1) " UNION ALL " \
  RECOUP_SEARCH_RANGE_SQL (2) " UNION ALL " \
  RECOUP_SEARCH_DOCUMENTS_SQL
/* Of those, the keys of the accounts the search names whole: one of their
 * terms is what was typed (a surname, a reference's number, a phone number's
 * ending), or an invoice or receipt of theirs is. Lists show these first, so
 * "372" puts ACC-0000372 above ACC-0003720. */
#define RECOUP_SEARCH_EXACT_SQL \
  "SELECT n FROM account_search_terms WHERE term IN (:search_lo0, :search_lo1, :search_lo2) UNION ALL " \
  RECOUP_SEARCH_DOCUMENTS_SQL
#define RECOUP_SEARCH_ACCOUNTS_SQL \
  "SELECT account_id FROM account_search WHERE n IN (" RECOUP_SEARCH_INDEX_SQL ")"

gboolean    recoup_search_ranges_init   (RecoupSearchRanges  *ranges,
                                         const char          *search);
void        recoup_search_ranges_bind   (const RecoupSearchRanges *ranges,
                                         sqlite3_stmt        *stmt);
void        recoup_search_ranges_clear  (RecoupSearchRanges  *ranges);

gboolean    recoup_search_refresh_accounts (RecoupBook   *book,
                                            GHashTable   *account_ids,
                                            GError      **error);
gboolean    recoup_search_rebuild       (RecoupBook          *book,
                                         GError             **error);
gboolean    recoup_search_ensure_current (RecoupBook         *book,
                                          GError            **error);

G_END_DECLS
