/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Everything the programs built on librecoup-core may use. */

#include "recoup-accounts.h"
#include "recoup-activity.h"
#include "recoup-book.h"
#include "recoup-browse.h"
#include "recoup-date.h"
#include "recoup-dispute.h"
#include "recoup-escalation.h"
#include "recoup-guard.h"
#include "recoup-id.h"
#include "recoup-import.h"
#include "recoup-kpi.h"
#include "recoup-ledger.h"
#include "recoup-merge.h"
#include "recoup-money.h"
#include "recoup-next-step.h"
#include "recoup-offer.h"
#include "recoup-outbox.h"
#include "recoup-promise.h"
#include "recoup-remind.h"
#include "recoup-score.h"
#include "recoup-settings.h"
#include "recoup-statement.h"
#include "recoup-template.h"
#include "recoup-worklist.h"
