/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Finding an account by what a collector types: the start of its name or of
 * any word in it, the start of its reference (also without its punctuation,
 * “acc0000372”, or of its number, with or without leading zeros, “0000372” or
 * “372” for “ACC-0000372”), the start of an e-mail address or of its domain,
 * a phone number in any shape, or the whole number of one of its invoices or
 * of a payment's receipt (“INV-00000580”, “r-a7e72a-000527”), also without
 * what comes before its digits (“580”, “00000580”, “#527”). Accents and
 * case do not matter (“panaderia alvarez” finds “Panadería Álvarez”,
 * “schafer” finds “Schäfer”). A text of
 * phone characters only (digits, spaces, + - ( ) . /) with at least
 * RECOUP_SEARCH_PHONE_MIN_DIGITS digits also finds every phone whose digits
 * contain its digits, so “5125550119”, “512-555-0119” and “555-0119” all find
 * “(512) 555-0119”; an 11-digit number starting with the North American
 * country code 1 (“+1 512 555 0119”) also finds the number stored without it,
 * and a number written with a trunk prefix 0 (“050 0526 202”) or an
 * international prefix 00 finds it stored with its country code (“+31 50 0526
 * 202”). A search of a few words finds the accounts with a term starting with
 * each, in any order: “jansen johanna” finds “Johanna Jansen”, and “john
 * smith” finds “John A. Smith”.
 *
 * The book keeps a derived, local index of these terms (account_search and
 * account_search_terms, never synced), brought up to date when a transaction
 * that wrote an account commits; recoup_browse_prepare() and
 * recoup_account_list() read it.
 */

#define RECOUP_SEARCH_PHONE_MIN_DIGITS 4

char       *recoup_search_fold          (const char *text);
char       *recoup_search_phone_digits  (const char *search);
const char *recoup_search_phone_national (const char *digits);

G_END_DECLS
