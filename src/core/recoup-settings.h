/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * Shared book settings: the business's policy that every device of the team
 * must agree on (promise grace days, default plan limits, ...). Unlike the
 * device-local settings written by recoup_book_set_setting() (device id, clock,
 * cursors), a shared setting is written with a change row (entity "settings",
 * entity_id = the key, op "set", fields {"key","value"}), so it syncs and is
 * audited; merges are last-writer-wins on (hlc, device) like any mutable field.
 *
 * Keys used by the offers module (all integers):
 *   promise.grace_days            default 3   days after a promise's date a payment still keeps it
 *   plan.grace_days               default 3   days after an installment's date before it is missed
 *   plan.default_after_missed     default 2   missed installments that default a plan
 *   offer.first_date_tolerance_days default 7 how far in the past a plan's first date may be
 */

/* Refuses, writing nothing, a key that is not shared (each copy's own:
 * recoup_book_set_setting()) and what recoup_settings_check_shared() denies. */
gboolean  recoup_settings_set_shared  (RecoupBook  *book,
                                       const char  *key,
                                       const char  *value,
                                       GError     **error);

/* Whether this copy of the book may change the shared setting @key. FALSE
 * with RECOUP_BOOK_ERROR_INVALID for a key that is not shared, or with
 * RECOUP_BOOK_ERROR_DENIED and words a collector understands for the
 * business's policy (recoup_merge_setting_scope() is RECOUP_SETTING_OWNER)
 * on a book enrolled with a server as anyone but an owner: recoupd would
 * refuse the change and the device would take its value back. The app asks
 * before it offers a setting for editing. */
gboolean  recoup_settings_check_shared (RecoupBook  *book,
                                        const char  *key,
                                        GError     **error);

/* Reads an integer setting; a missing or unreadable value, or one outside
 * [@min, @max], gives @fallback. */
gint64    recoup_settings_get_int     (RecoupBook  *book,
                                       const char  *key,
                                       gint64       fallback,
                                       gint64       min,
                                       gint64       max);

G_END_DECLS
