/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

typedef enum
{
  RECOUP_PROMISE_PENDING,
  RECOUP_PROMISE_KEPT,
  RECOUP_PROMISE_PARTLY_KEPT,
  RECOUP_PROMISE_BROKEN,
} RecoupPromiseStatus;

typedef struct
{
  const char *account_id;
  gint64      amount;        /* minor units, > 0, in the account's currency */
  const char *due_date;      /* YYYY-MM-DD */
  const char *channel;       /* how it was taken: call, visit, email, ... (nullable) */
  const char *activity_id;   /* the contact it was taken in (nullable) */
  int         grace_days;    /* < 0: the book's default */
} RecoupPromiseSpec;

char       *recoup_promise_add               (RecoupBook              *book,
                                              const RecoupPromiseSpec *spec,
                                              GError                 **error);
const char *recoup_promise_status_to_string  (RecoupPromiseStatus      status);

G_END_DECLS
