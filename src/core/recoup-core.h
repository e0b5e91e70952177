/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Everything the programs built on librecoup-core may use. */

#include "recoup-accounts.h"
#include "recoup-activity.h"
#include "recoup-book.h"
#include "recoup-date.h"
#include "recoup-id.h"
#include "recoup-ledger.h"
#include "recoup-money.h"
