/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "recoup-cli.h"

/* Promises, offers, plans and disputes from the shell. */

static RecoupBook *
open_account (RecoupCli       *cli,
              const char      *ref,
              RecoupAccount  **out_account,
              GError         **error)
{
  g_autofree char *id = NULL;
  RecoupBook *book;

  if (!(book = recoup_cli_open_book (cli, FALSE, error)) ||
      !(id = recoup_account_resolve (book, ref, error)) ||
      !(*out_account = recoup_account_load (book, id, error)))
    return NULL;
  return book;
}

/* ---- promises ---------------------------------------------------------------- */

static void
json_promise (JsonBuilder   *b,
              RecoupPromise *p)
{
  json_builder_begin_object (b);
  recoup_cli_json_str (b, "id", p->id);
  recoup_cli_json_str (b, "account", p->account_ref);
  recoup_cli_json_int (b, "amount", p->amount);
  recoup_cli_json_str (b, "currency", p->currency);
  recoup_cli_json_str (b, "due_date", p->due_date);
  recoup_cli_json_int (b, "grace_days", p->grace_days);
  recoup_cli_json_str (b, "made_on", p->made_on);
  recoup_cli_json_str (b, "channel", p->channel);
  recoup_cli_json_int (b, "paid", p->paid);
  recoup_cli_json_str (b, "status", recoup_promise_status_to_string (p->status));
  json_builder_end_object (b);
}

static void
print_promises (GPtrArray *list)
{
  g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("ID", "ACCOUNT", "DUE", "GRACE", "AMOUNT", "PAID",
                                                      "STATUS", "CHANNEL", NULL);

  recoup_cli_table_align_right (t, 3);
  recoup_cli_table_align_right (t, 4);
  recoup_cli_table_align_right (t, 5);
  for (guint i = 0; i < list->len; i++)
    {
      RecoupPromise *p = g_ptr_array_index (list, i);
      const char *sid = recoup_cli_short_id (p->id);
      g_autofree char *grace = g_strdup_printf ("%d", p->grace_days);
      g_autofree char *amount = recoup_cli_money_code (p->amount, p->currency);
      g_autofree char *paid = recoup_cli_money_code (p->paid, p->currency);

      recoup_cli_table_add (t, sid, p->account_ref, p->due_date, grace, amount, paid,
                            recoup_promise_status_to_string (p->status), p->channel ? p->channel : "", NULL);
    }
  recoup_cli_table_print (t);
}

int
recoup_cli_cmd_promise (RecoupCli  *cli,
                        int         argc,
                        char      **argv)
{
  g_autofree char *amount_text = NULL, *date = NULL, *channel = NULL, *made_on = NULL;
  int grace = RECOUP_PROMISE_GRACE_BOOK_DEFAULT;
  const GOptionEntry entries[] = {
    { "amount", 'a', 0, G_OPTION_ARG_STRING, &amount_text, "Amount promised, e.g. 150.00", "AMOUNT" },
    { "date", 'd', 0, G_OPTION_ARG_STRING, &date, "The day it will be paid by (YYYY-MM-DD)", "DATE" },
    { "channel", 'c', 0, G_OPTION_ARG_STRING, &channel, "How it was taken: call, visit, email, sms, letter, note", "C" },
    { "grace", 0, 0, G_OPTION_ARG_INT, &grace, "Grace days after the date, 0 to 60 (default: the book's promise.grace_days, 3)", "N" },
    { "made-on", 0, 0, G_OPTION_ARG_STRING, &made_on, "The day it was made, not after today (default today)", "DATE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) account = NULL;
  g_autofree char *id = NULL;
  RecoupPromiseSpec spec = { 0 };
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT", "Record a promise to pay. Its status (pending, kept, partly kept, "
                         "broken) follows the payments dated from today to the date plus grace days.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ACCOUNT (reference or id)");
  if (amount_text == NULL || date == NULL)
    return recoup_cli_usage (cli, "--amount and --date are required");
  if (!(book = open_account (cli, argv[0], &account, &error)))
    return recoup_cli_fail (cli, error);
  if (!recoup_cli_parse_amount (amount_text, account->currency, &spec.amount, &error))
    {
      g_prefix_error (&error, "--amount: ");
      return recoup_cli_fail (cli, error);
    }
  spec.account_id = account->id;
  spec.due_date = date;
  spec.channel = channel;
  spec.grace_days = grace;
  spec.made_on = made_on;
  if (!(id = recoup_promise_add (book, &spec, &error)))
    return recoup_cli_fail (cli, error);

  if (cli->json)
    {
      g_autoptr(GPtrArray) list = recoup_promise_list (book, account->id, NULL, &error);
      g_autoptr(JsonBuilder) b = json_builder_new ();

      if (list == NULL)
        return recoup_cli_fail (cli, error);
      for (guint i = 0; i < list->len; i++)
        if (g_str_equal (((RecoupPromise *) list->pdata[i])->id, id))
          json_promise (b, list->pdata[i]);
      recoup_cli_print_builder (b);
    }
  else
    {
      g_autofree char *shown = recoup_cli_money (spec.amount, account->currency);

      printf ("Promise %s: %s %s by %s from %s\n", id, account->currency, shown, date, account->ref);
    }
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_promises (RecoupCli  *cli,
                         int         argc,
                         char      **argv)
{
  g_autofree char *as_of = NULL;
  gboolean due = FALSE, broken = FALSE, latest = FALSE;
  const GOptionEntry entries[] = {
    { "as-of", 0, 0, G_OPTION_ARG_STRING, &as_of, "Judge the status on this day (default today)", "DATE" },
    { "due", 0, 0, G_OPTION_ARG_NONE, &due, "Whole book: promises due on the day and not kept", NULL },
    { "broken", 0, 0, G_OPTION_ARG_NONE, &broken, "Whole book: promises broken or partly kept", NULL },
    { "latest", 0, 0, G_OPTION_ARG_NONE, &latest, "With --due/--broken: only each account's latest promise", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) account = NULL;
  g_autoptr(GPtrArray) list = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "[ACCOUNT]", "List an account's promises with their status, or with "
                         "--due/--broken the book's promises due today or broken.",
                         entries, &argc, &argv, &status))
    return status;
  if (due || broken)
    {
      RecoupPromiseListFlags flags = (due ? RECOUP_PROMISE_LIST_DUE : 0) |
                                     (broken ? RECOUP_PROMISE_LIST_BROKEN : 0) |
                                     (latest ? RECOUP_PROMISE_LIST_LATEST_ONLY : 0);

      if (argc != 0)
        return recoup_cli_usage (cli, "--due and --broken list the whole book; give no ACCOUNT");
      if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
          !(list = recoup_promise_list_due (book, as_of, flags, &error)))
        return recoup_cli_fail (cli, error);
    }
  else
    {
      if (argc != 1)
        return recoup_cli_usage (cli, "give exactly one ACCOUNT, or --due/--broken");
      if (!(book = open_account (cli, argv[0], &account, &error)) ||
          !(list = recoup_promise_list (book, account->id, as_of, &error)))
        return recoup_cli_fail (cli, error);
    }

  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        json_promise (b, g_ptr_array_index (list, i));
      json_builder_end_array (b);
      recoup_cli_print_builder (b);
    }
  else if (list->len == 0)
    printf ("No promises.\n");
  else
    print_promises (list);
  return RECOUP_CLI_OK;
}

/* ---- offers ------------------------------------------------------------------ */

static void
json_offer (JsonBuilder *b,
            RecoupOffer *o)
{
  json_builder_begin_object (b);
  recoup_cli_json_str (b, "id", o->id);
  recoup_cli_json_str (b, "account", o->account_ref);
  recoup_cli_json_str (b, "kind", recoup_offer_kind_to_string (o->kind));
  recoup_cli_json_str (b, "state", recoup_offer_state_to_string (o->state));
  recoup_cli_json_str (b, "currency", o->currency);
  recoup_cli_json_int (b, "balance_at_offer", o->balance_at_offer);
  recoup_cli_json_int (b, "waived", o->waived_amount);
  recoup_cli_json_int (b, "total", o->total);
  recoup_cli_json_int (b, "forgiven", o->forgiven);
  recoup_cli_json_int (b, "discount_bp", o->discount_bp);
  recoup_cli_json_int (b, "effective_discount_bp", o->effective_bp);
  recoup_cli_json_int (b, "installments", o->installments);
  recoup_cli_json_str (b, "frequency", o->kind == RECOUP_OFFER_PLAN ? recoup_frequency_to_string (o->frequency) : NULL);
  recoup_cli_json_str (b, "first_date", o->first_date);
  recoup_cli_json_str (b, "pay_by", o->pay_by);
  recoup_cli_json_str (b, "extend_to", o->extend_to);
  recoup_cli_json_str (b, "expires_on", o->expires_on);
  recoup_cli_json_bool (b, "waive_fees", o->waive_fees);
  recoup_cli_json_bool (b, "waive_interest", o->waive_interest);
  recoup_cli_json_bool (b, "needs_approval", o->needs_approval);
  recoup_cli_json_bool (b, "approved", o->approved);
  recoup_cli_json_str (b, "created_by", o->created_by_name);
  recoup_cli_json_str (b, "accepted_on", o->accepted_on);
  recoup_cli_json_str (b, "completed_on", o->completed_on);
  recoup_cli_json_str (b, "defaulted_on", o->defaulted_on);
  recoup_cli_json_int (b, "paid", o->paid);
  recoup_cli_json_int (b, "missed", o->n_missed);
  recoup_cli_json_bool (b, "at_risk", o->at_risk);
  recoup_cli_json_bool (b, "paused_by_dispute", o->paused);
  recoup_cli_json_int (b, "conflicts", o->n_conflicts);
  recoup_cli_json_str (b, "accepted_by", o->accepted_by_name);
  recoup_cli_json_str (b, "held_by", o->held_by);
  recoup_cli_json_bool (b, "clashing", o->clashing);
  recoup_cli_json_bool (b, "not_approved", o->not_approved);
  recoup_cli_json_str (b, "closed_by", o->closed_by_name);
  recoup_cli_json_str (b, "closing_note", o->closing_note);
  if (o->state == RECOUP_OFFER_STATE_COMPLETED)
    recoup_cli_json_int (b, "discount", o->discount);
  json_builder_set_member_name (b, "schedule");
  json_builder_begin_array (b);
  for (guint i = 0; i < o->schedule->len; i++)
    {
      RecoupInstallment *in = &g_array_index (o->schedule, RecoupInstallment, i);
      char due[11];

      recoup_date_format_buf (in->due_day, due);
      json_builder_begin_object (b);
      recoup_cli_json_int (b, "seq", in->seq);
      recoup_cli_json_str (b, "due_date", due);
      recoup_cli_json_int (b, "amount", in->amount);
      recoup_cli_json_int (b, "paid", in->paid);
      recoup_cli_json_str (b, "status", o->accepted_on ? recoup_installment_status_to_string (in->status)
                                                       : "proposed");
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static char *
offer_terms (RecoupOffer *o)
{
  g_autofree char *total = recoup_cli_money (o->total, o->currency);
  GString *s = g_string_new (NULL);

  switch (o->kind)
    {
    case RECOUP_OFFER_SETTLEMENT:
      g_string_append_printf (s, "%s %s by %s", o->currency, total, o->pay_by);
      break;
    case RECOUP_OFFER_PLAN:
      g_string_append_printf (s, "%s %s in %d %s installments from %s", o->currency, total, o->installments,
                              recoup_frequency_to_string (o->frequency), o->first_date);
      break;
    case RECOUP_OFFER_EXTENSION:
      g_string_append_printf (s, "%s %s by %s", o->currency, total, o->extend_to);
      break;
    case RECOUP_OFFER_WAIVER:
    default:
      break;
    }
  if (o->waived_amount > 0)
    {
      g_autofree char *w = recoup_cli_money (o->waived_amount, o->currency);
      g_string_append_printf (s, "%s%s %s waived", s->len ? ", " : "", o->currency, w);
    }
  if (o->forgiven > 0)
    {
      g_autofree char *f = recoup_cli_money (o->forgiven, o->currency);
      g_string_append_printf (s, ", %s %s forgiven", o->currency, f);
    }
  return g_string_free (s, FALSE);
}

static void
print_schedule (RecoupOffer *o)
{
  g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("#", "DUE", "AMOUNT", "PAID", "STATUS", NULL);

  recoup_cli_table_align_right (t, 0);
  recoup_cli_table_align_right (t, 2);
  recoup_cli_table_align_right (t, 3);
  for (guint i = 0; i < o->schedule->len; i++)
    {
      RecoupInstallment *in = &g_array_index (o->schedule, RecoupInstallment, i);
      g_autofree char *seq = g_strdup_printf ("%u", in->seq);
      g_autofree char *due = recoup_date_format (in->due_day);
      g_autofree char *amount = recoup_cli_money (in->amount, o->currency);
      g_autofree char *paid = recoup_cli_money (in->paid, o->currency);

      recoup_cli_table_add (t, seq, due, amount, paid,
                            o->accepted_on ? recoup_installment_status_to_string (in->status) : "proposed", NULL);
    }
  recoup_cli_table_print (t);
}

/* The state as a person reads it: a draft an owner refused is "not
 * approved", not "withdrawn" (the JSON keeps the state and says not_approved). */
static const char *
offer_state_text (RecoupOffer *o)
{
  return o->not_approved ? "not approved" : recoup_offer_state_to_string (o->state);
}

static void
print_offer (RecoupOffer *o)
{
  g_autofree char *terms = offer_terms (o);
  g_autofree char *balance = recoup_cli_money (o->balance_at_offer, o->currency);
  g_autofree char *paid = recoup_cli_money (o->paid, o->currency);

  printf ("Offer %s (%s) on %s\n", o->id, recoup_offer_kind_to_string (o->kind), o->account_ref);
  printf ("  State:     %s%s%s%s\n", offer_state_text (o),
          o->at_risk ? ", at risk" : "", o->paused ? " (defaulting paused: open dispute)" : "",
          o->n_conflicts ? ", has conflicting events: review" : "");
  if (o->held_by != NULL)
    printf ("  Held:      accepted offline while offer %s ran; payments count toward that one (review)\n",
            o->held_by);
  /* Either of a clash may go: the one the customer did not agree to. */
  if (o->clashing && (o->state == RECOUP_OFFER_STATE_ACCEPTED || o->state == RECOUP_OFFER_STATE_ACTIVE))
    printf ("  Clash:     another arrangement was accepted offline alongside it; withdraw the one the "
            "customer did not agree to (offer withdraw %s --note REASON)\n", recoup_cli_short_id (o->id));
  printf ("  Terms:     %s\n", terms);
  printf ("  Balance:   %s %s when offered; discount %" G_GINT64_FORMAT ".%02d %% (effective %"
          G_GINT64_FORMAT ".%02d %%)\n", o->currency, balance, o->discount_bp / 100, (int) (o->discount_bp % 100),
          o->effective_bp / 100, (int) (o->effective_bp % 100));
  if (o->not_approved)
    printf ("  Approval:  not approved by %s\n", o->closed_by_name ? o->closed_by_name : "an owner");
  else if (o->needs_approval && (o->approved || o->state == RECOUP_OFFER_STATE_DRAFT))
    printf ("  Approval:  %s\n", o->approved ? "approved by an owner" : "waiting for an owner (beyond its maker's limits)");
  if (o->closing_note)
    printf ("  Reason:    %s\n", o->closing_note);
  if (o->expires_on)
    printf ("  Expires:   %s\n", o->expires_on);
  printf ("  Made by:   %s\n", o->created_by_name ? o->created_by_name : "?");
  if (o->accepted_on)
    printf ("  Accepted:  %s; paid or credited since %s %s\n", o->accepted_on, o->currency, paid);
  if (o->completed_on && o->discount > 0)
    {
      g_autofree char *discount = recoup_cli_money (o->discount, o->currency);

      printf ("  Completed: %s; discount %s %s\n", o->completed_on, o->currency, discount);
    }
  else if (o->completed_on)
    printf ("  Completed: %s\n", o->completed_on);
  if (o->defaulted_on)
    printf ("  Defaulted: %s\n", o->defaulted_on);
  if (o->schedule->len > 0)
    {
      printf ("\n");
      print_schedule (o);
    }
}

static void
print_offer_list (GPtrArray *list)
{
  g_autoptr(RecoupCliTable) t = recoup_cli_table_new ("ID", "ACCOUNT", "KIND", "STATE", "TOTAL", "PAID",
                                                      "DISCOUNT", "APPROVAL", NULL);

  recoup_cli_table_align_right (t, 4);
  recoup_cli_table_align_right (t, 5);
  recoup_cli_table_align_right (t, 6);
  for (guint i = 0; i < list->len; i++)
    {
      RecoupOffer *o = g_ptr_array_index (list, i);
      const char *sid = recoup_cli_short_id (o->id);
      g_autofree char *total = recoup_cli_money_code (o->total, o->currency);
      g_autofree char *paid = recoup_cli_money_code (o->paid, o->currency);
      g_autofree char *disc = g_strdup_printf ("%" G_GINT64_FORMAT ".%02d %%", o->effective_bp / 100,
                                               (int) (o->effective_bp % 100));
      g_autofree char *state = g_strdup_printf ("%s%s", offer_state_text (o), o->at_risk ? " (at risk)" : "");

      recoup_cli_table_add (t, sid, o->account_ref, recoup_offer_kind_to_string (o->kind), state, total, paid,
                            disc, !o->needs_approval ? "" : o->approved ? "approved"
                                  : o->not_approved ? "refused" : "needed", NULL);
    }
  recoup_cli_table_print (t);
}

/* The ledger follows derived offer states (discounts on completion); bring it
 * up to date before showing anything. A read-only book is shown as it is. */
static gboolean
reconcile (RecoupBook  *book,
           const char  *account_id,
           GError     **error)
{
  return recoup_offer_reconcile_account (book, account_id, NULL, error);
}

static int
print_one_offer (RecoupCli  *cli,
                 RecoupBook *book,
                 const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupOffer) o = recoup_offer_load (book, id, NULL, &error);

  if (o == NULL)
    return recoup_cli_fail (cli, error);
  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_offer (b, o);
      recoup_cli_print_builder (b);
    }
  else
    print_offer (o);
  return RECOUP_CLI_OK;
}

/* The option of another kind of offer than @kind, or NULL: it would be
 * ignored, and the customer would not get the date that was typed. */
static const char *
option_of_other_kind (RecoupOfferKind  kind,
                      const char      *pay_by,
                      const char      *extend_to,
                      const char      *first_date,
                      const char      *frequency)
{
  if (pay_by != NULL && kind != RECOUP_OFFER_SETTLEMENT)
    return "--pay-by";
  if (extend_to != NULL && kind != RECOUP_OFFER_EXTENSION)
    return "--extend-to";
  if (first_date != NULL && kind != RECOUP_OFFER_PLAN)
    return "--first-date";
  if (frequency != NULL && kind != RECOUP_OFFER_PLAN)
    return "--frequency";
  return NULL;
}

/* Makes the offer of @spec and, with @send, sends it, in one transaction.
 * An offer beyond its maker's limits cannot be sent yet: it is kept as a
 * draft waiting for an owner's approval (*out_held), as --send's help says. */
static char *
create_offer (RecoupBook             *book,
              const RecoupOfferSpec  *spec,
              gboolean                send,
              const char             *note,
              gboolean               *out_held,
              GError                **error)
{
  g_autoptr(RecoupOffer) made = NULL;
  g_autofree char *id = NULL;

  *out_held = FALSE;
  if (!recoup_book_begin (book, error))
    return NULL;
  if (!(id = recoup_offer_create (book, spec, error)) ||
      (send && !(made = recoup_offer_load (book, id, NULL, error))))
    goto fail;
  *out_held = send && made->needs_approval && !made->approved;
  if (send && !*out_held && !recoup_offer_transition (book, id, RECOUP_OFFER_EVENT_SEND, note, error))
    {
      g_prefix_error (error, "the offer was not made: ");
      goto fail;
    }
  if (!recoup_book_commit (book, error))
    {
      g_prefix_error (error, "the offer was not made: ");
      return NULL;
    }
  return g_steal_pointer (&id);

fail:
  recoup_book_rollback (book);
  return NULL;
}

static const struct
{
  const char      *verb;
  RecoupOfferEvent event;
  const char      *done;
} offer_verbs[] = {
  { "send",     RECOUP_OFFER_EVENT_SEND,     "sent" },
  { "accept",   RECOUP_OFFER_EVENT_ACCEPT,   "accepted" },
  { "reject",   RECOUP_OFFER_EVENT_REJECT,   "rejected" },
  { "withdraw", RECOUP_OFFER_EVENT_WITHDRAW, "withdrawn" },
  { "approve",  RECOUP_OFFER_EVENT_APPROVE,  "approved" },
};

int
recoup_cli_cmd_offer (RecoupCli  *cli,
                      int         argc,
                      char      **argv)
{
  g_autofree char *kind_text = NULL, *amount_text = NULL, *frequency_text = NULL, *first_date = NULL;
  g_autofree char *pay_by = NULL, *extend_to = NULL, *expires = NULL, *note = NULL;
  int discount_bp = 0, installments = 0;
  gboolean waive_fees = FALSE, waive_interest = FALSE, send = FALSE;
  const GOptionEntry entries[] = {
    { "kind", 'k', 0, G_OPTION_ARG_STRING, &kind_text, "create: settlement, plan, extension or waiver", "KIND" },
    { "amount", 'a', 0, G_OPTION_ARG_STRING, &amount_text, "create: the total the customer pays", "AMOUNT" },
    { "discount-bp", 0, 0, G_OPTION_ARG_INT, &discount_bp, "create: discount on the balance in basis points (1000 = 10 %)", "N" },
    { "installments", 'n', 0, G_OPTION_ARG_INT, &installments, "create (plan): number of installments", "N" },
    { "frequency", 'f', 0, G_OPTION_ARG_STRING, &frequency_text, "create (plan): weekly, fortnightly or monthly (default monthly)", "F" },
    { "first-date", 0, 0, G_OPTION_ARG_STRING, &first_date, "create (plan): date of the first installment", "DATE" },
    { "pay-by", 0, 0, G_OPTION_ARG_STRING, &pay_by, "create (settlement): the day it must be paid by", "DATE" },
    { "extend-to", 0, 0, G_OPTION_ARG_STRING, &extend_to, "create (extension): the new deadline", "DATE" },
    { "waive-fees", 0, 0, G_OPTION_ARG_NONE, &waive_fees, "create: waive the account's fees", NULL },
    { "waive-interest", 0, 0, G_OPTION_ARG_NONE, &waive_interest, "create: waive the account's interest", NULL },
    { "expires", 0, 0, G_OPTION_ARG_STRING, &expires, "create: last day it can be accepted", "DATE" },
    { "send", 0, 0, G_OPTION_ARG_NONE, &send, "create: send it at once; beyond your limits it waits as a draft for an owner's approval", NULL },
    { "note", 0, 0, G_OPTION_ARG_STRING, &note, "send/accept/reject/withdraw/approve: a note on the event (withdrawing an accepted "
      "arrangement, the reason: which one the customer said stands)", "TEXT" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  RecoupBook *book;
  int status;
  gboolean held;

  if (!recoup_cli_parse (cli, "create ACCOUNT | show|send|accept|reject|withdraw|approve OFFER",
                         "Make a settlement offer, payment plan, extension or waiver, and move it through "
                         "its life: draft, offered, accepted, active, completed or defaulted (or withdrawn, "
                         "rejected, expired). OFFER is its id or the last 8 characters of it.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 2)
    return recoup_cli_usage (cli, "use “offer create ACCOUNT …” or “offer VERB OFFER”");

  if (g_str_equal (argv[0], "create"))
    {
      g_autoptr(RecoupAccount) account = NULL;
      RecoupOfferSpec spec = { 0 };

      const char *misplaced;

      if (kind_text == NULL || !recoup_offer_kind_from_string (kind_text, &spec.kind))
        return recoup_cli_usage (cli, "--kind must be settlement, plan, extension or waiver");
      if ((misplaced = option_of_other_kind (spec.kind, pay_by, extend_to, first_date, frequency_text)))
        return recoup_cli_usage (cli, "%s does not go with --kind %s: a settlement takes --pay-by, a plan "
                                 "--first-date and --frequency, an extension --extend-to", misplaced, kind_text);
      if (frequency_text != NULL && !recoup_frequency_from_string (frequency_text, &spec.frequency))
        return recoup_cli_usage (cli, "--frequency must be weekly, fortnightly or monthly");
      if (frequency_text == NULL)
        spec.frequency = RECOUP_FREQUENCY_MONTHLY;
      if (!(book = open_account (cli, argv[1], &account, &error)))
        return recoup_cli_fail (cli, error);
      if (amount_text != NULL && !recoup_cli_parse_amount (amount_text, account->currency, &spec.amount, &error))
        {
          g_prefix_error (&error, "--amount: ");
          return recoup_cli_fail (cli, error);
        }
      if (amount_text != NULL && spec.amount <= 0)
        {
          g_set_error (&error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_INVALID,
                       "--amount %s: an offer's amount must be more than zero", amount_text);
          return recoup_cli_fail (cli, error);
        }
      spec.account_id = account->id;
      spec.discount_bp = discount_bp;
      spec.installments = installments;
      spec.first_date = first_date;
      spec.pay_by = pay_by;
      spec.extend_to = extend_to;
      spec.waive_fees = waive_fees;
      spec.waive_interest = waive_interest;
      spec.expires_on = expires;
      if (!(id = create_offer (book, &spec, send, note, &held, &error)))
        return recoup_cli_fail (cli, error);
      if (!cli->json)
        printf ("Created offer %s\n", id);
      if (held)
        /* On stderr with --json, which keeps stdout for the offer alone. */
        fprintf (cli->json ? stderr : stdout,
                 "Not sent: it is beyond your limits and waits as a draft for an owner's approval "
                 "(“recoup-cli approvals”); send it once it is approved.\n");
      return print_one_offer (cli, book, id);
    }

  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(id = recoup_offer_resolve (book, argv[1], &error)))
    return recoup_cli_fail (cli, error);

  if (g_str_equal (argv[0], "show"))
    {
      g_autoptr(RecoupOffer) o = recoup_offer_load (book, id, NULL, &error);

      if (o == NULL || !reconcile (book, o->account_id, &error))
        return recoup_cli_fail (cli, error);
      return print_one_offer (cli, book, id);
    }

  for (guint i = 0; i < G_N_ELEMENTS (offer_verbs); i++)
    if (g_str_equal (argv[0], offer_verbs[i].verb))
      {
        if (!recoup_offer_transition (book, id, offer_verbs[i].event, note, &error))
          return recoup_cli_fail (cli, error);
        if (!cli->json)
          printf ("Offer %s %s\n", id, offer_verbs[i].done);
        if (cli->json || offer_verbs[i].event == RECOUP_OFFER_EVENT_ACCEPT)
          return print_one_offer (cli, book, id);
        return RECOUP_CLI_OK;
      }
  return recoup_cli_usage (cli, "unknown offer action “%s” (create, show, send, accept, reject, withdraw, "
                           "approve)", argv[0]);
}

static int
print_offers (RecoupCli *cli,
              GPtrArray *list,
              const char *empty)
{
  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        json_offer (b, g_ptr_array_index (list, i));
      json_builder_end_array (b);
      recoup_cli_print_builder (b);
    }
  else if (list->len == 0)
    printf ("%s\n", empty);
  else
    print_offer_list (list);
  return RECOUP_CLI_OK;
}

int
recoup_cli_cmd_offers (RecoupCli  *cli,
                       int         argc,
                       char      **argv)
{
  g_autofree char *as_of = NULL;
  const GOptionEntry entries[] = {
    { "as-of", 0, 0, G_OPTION_ARG_STRING, &as_of, "Judge the states on this day (default today)", "DATE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) account = NULL;
  g_autoptr(GPtrArray) list = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT", "List an account's offers and plans with their states.",
                         entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ACCOUNT (reference or id)");
  if (!(book = open_account (cli, argv[0], &account, &error)) ||
      !reconcile (book, account->id, &error) ||
      !(list = recoup_offer_list (book, account->id, as_of, &error)))
    return recoup_cli_fail (cli, error);
  return print_offers (cli, list, "No offers.");
}

int
recoup_cli_cmd_approvals (RecoupCli  *cli,
                          int         argc,
                          char      **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "", "List offers beyond their makers' limits that wait for an owner's "
                         "approval (approve with “offer approve OFFER”).", NULL, &argc, &argv, &status))
    return status;
  if (argc != 0)
    return recoup_cli_usage (cli, "approvals takes no arguments");
  if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
      !(list = recoup_offer_list_approvals (book, &error)))
    return recoup_cli_fail (cli, error);
  return print_offers (cli, list, "No offers wait for approval.");
}

int
recoup_cli_cmd_plan (RecoupCli  *cli,
                     int         argc,
                     char      **argv)
{
  g_autofree char *as_of = NULL;
  const GOptionEntry entries[] = {
    { "as-of", 0, 0, G_OPTION_ARG_STRING, &as_of, "Judge the schedule on this day (default today)", "DATE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RecoupAccount) account = NULL;
  g_autoptr(RecoupOffer) plan = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "ACCOUNT", "Show the account's current plan: its schedule, what is paid "
                         "and what is due, late or missed.", entries, &argc, &argv, &status))
    return status;
  if (argc != 1)
    return recoup_cli_usage (cli, "give exactly one ACCOUNT (reference or id)");
  if (!(book = open_account (cli, argv[0], &account, &error)) ||
      !reconcile (book, account->id, &error))
    return recoup_cli_fail (cli, error);
  plan = recoup_offer_current_plan (book, account->id, as_of, &error);
  if (error != NULL)
    return recoup_cli_fail (cli, error);
  if (plan == NULL)
    {
      g_set_error (&error, RECOUP_BOOK_ERROR, RECOUP_BOOK_ERROR_NOT_FOUND,
                   "%s has no accepted plan or settlement (see “recoup-cli offers %s”)",
                   account->ref, account->ref);
      return recoup_cli_fail (cli, error);
    }
  if (cli->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_offer (b, plan);
      recoup_cli_print_builder (b);
    }
  else
    print_offer (plan);
  return RECOUP_CLI_OK;
}

/* ---- disputes ---------------------------------------------------------------- */

static void
json_dispute (JsonBuilder   *b,
              RecoupDispute *d)
{
  json_builder_begin_object (b);
  recoup_cli_json_str (b, "id", d->id);
  recoup_cli_json_str (b, "invoice", d->invoice_ref);
  recoup_cli_json_str (b, "reason", d->reason);
  recoup_cli_json_str (b, "status", d->status);
  recoup_cli_json_str (b, "resolution", d->resolution);
  recoup_cli_json_int (b, "opened_at", d->opened_at);
  if (d->resolved_at)
    recoup_cli_json_int (b, "resolved_at", d->resolved_at);
  else
    recoup_cli_json_str (b, "resolved_at", NULL);
  json_builder_end_object (b);
}

int
recoup_cli_cmd_dispute (RecoupCli  *cli,
                        int         argc,
                        char      **argv)
{
  g_autofree char *invoice = NULL, *reason = NULL, *adjust = NULL, *note = NULL;
  gboolean upheld = FALSE, rejected = FALSE, write_off = FALSE;
  const GOptionEntry entries[] = {
    { "invoice", 'i', 0, G_OPTION_ARG_STRING, &invoice, "open: the disputed invoice (default: the whole account)", "REF" },
    { "reason", 'r', 0, G_OPTION_ARG_STRING, &reason, "open: what the customer disputes", "TEXT" },
    { "upheld", 0, 0, G_OPTION_ARG_NONE, &upheld, "resolve: the customer is right", NULL },
    { "rejected", 0, 0, G_OPTION_ARG_NONE, &rejected, "resolve: the debt stands; collection resumes", NULL },
    { "write-off", 0, 0, G_OPTION_ARG_NONE, &write_off, "resolve --upheld: write off what is open on the invoice (or account)", NULL },
    { "adjust", 0, 0, G_OPTION_ARG_STRING, &adjust, "resolve --upheld: lower the balance by this amount", "AMOUNT" },
    { "note", 0, 0, G_OPTION_ARG_STRING, &note, "resolve: the resolution", "TEXT" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  RecoupBook *book;
  int status;

  if (!recoup_cli_parse (cli, "open ACCOUNT | resolve DISPUTE | list ACCOUNT",
                         "Open a dispute on an account or one of its invoices (collection and plan "
                         "defaulting pause), resolve it as upheld (optionally writing off or adjusting) "
                         "or rejected, or list an account's disputes.", entries, &argc, &argv, &status))
    return status;
  if (argc != 2)
    return recoup_cli_usage (cli, "use “dispute open ACCOUNT --reason T”, “dispute resolve DISPUTE "
                             "--upheld|--rejected” or “dispute list ACCOUNT”");

  if (g_str_equal (argv[0], "open") || g_str_equal (argv[0], "list"))
    {
      g_autoptr(RecoupAccount) account = NULL;
      g_autofree char *invoice_id = NULL;
      g_autofree char *id = NULL;

      if (!(book = open_account (cli, argv[1], &account, &error)))
        return recoup_cli_fail (cli, error);
      if (g_str_equal (argv[0], "list"))
        {
          g_autoptr(GPtrArray) list = recoup_dispute_list (book, account->id, &error);
          g_autoptr(RecoupCliTable) t = NULL;

          if (list == NULL)
            return recoup_cli_fail (cli, error);
          if (cli->json)
            {
              g_autoptr(JsonBuilder) b = json_builder_new ();

              json_builder_begin_array (b);
              for (guint i = 0; i < list->len; i++)
                json_dispute (b, g_ptr_array_index (list, i));
              json_builder_end_array (b);
              recoup_cli_print_builder (b);
              return RECOUP_CLI_OK;
            }
          if (list->len == 0)
            {
              printf ("%s has no disputes.\n", account->ref);
              return RECOUP_CLI_OK;
            }
          t = recoup_cli_table_new ("ID", "INVOICE", "STATUS", "REASON", "RESOLUTION", NULL);
          for (guint i = 0; i < list->len; i++)
            {
              RecoupDispute *d = g_ptr_array_index (list, i);

              recoup_cli_table_add (t, d->id, d->invoice_ref ? d->invoice_ref : "(account)", d->status,
                                    d->reason, d->resolution, NULL);
            }
          recoup_cli_table_print (t);
          return RECOUP_CLI_OK;
        }

      if (reason == NULL)
        return recoup_cli_usage (cli, "--reason is required: say what the customer disputes");
      if (invoice != NULL && !(invoice_id = recoup_invoice_resolve (book, invoice, &error)))
        return recoup_cli_fail (cli, error);
      if (!(id = recoup_dispute_open (book, account->id, invoice_id, reason, &error)))
        return recoup_cli_fail (cli, error);
      if (cli->json)
        {
          g_autoptr(RecoupDispute) d = recoup_dispute_load (book, id, &error);
          g_autoptr(JsonBuilder) b = json_builder_new ();

          if (d == NULL)
            return recoup_cli_fail (cli, error);
          json_dispute (b, d);
          recoup_cli_print_builder (b);
        }
      else
        printf ("Dispute %s opened on %s%s%s; collection is paused until it is resolved\n", id,
                account->ref, invoice ? " invoice " : "", invoice ? invoice : "");
      return RECOUP_CLI_OK;
    }

  if (g_str_equal (argv[0], "resolve"))
    {
      RecoupDisputeResolution res = { 0 };
      g_autoptr(RecoupDispute) d = NULL;
      g_autofree char *entry = NULL;

      if (upheld == rejected)
        return recoup_cli_usage (cli, "give exactly one of --upheld or --rejected");
      if (write_off && adjust != NULL)
        return recoup_cli_usage (cli, "give --write-off or --adjust, not both");
      if (rejected && (write_off || adjust != NULL))
        return recoup_cli_usage (cli, "--write-off and --adjust go with --upheld");
      if (!(book = recoup_cli_open_book (cli, FALSE, &error)) ||
          !(d = recoup_dispute_load (book, argv[1], &error)))
        return recoup_cli_fail (cli, error);
      res.upheld = upheld;
      res.note = note;
      res.remedy = write_off ? RECOUP_DISPUTE_REMEDY_WRITE_OFF
                 : adjust != NULL ? RECOUP_DISPUTE_REMEDY_ADJUST : RECOUP_DISPUTE_REMEDY_NONE;
      if (adjust != NULL)
        {
          g_autoptr(RecoupAccount) account = recoup_account_load (book, d->account_id, &error);

          if (account == NULL)
            return recoup_cli_fail (cli, error);
          if (!recoup_cli_parse_amount (adjust, account->currency, &res.amount, &error))
            {
              g_prefix_error (&error, "--adjust: ");
              return recoup_cli_fail (cli, error);
            }
        }
      if (!recoup_dispute_resolve_full (book, d->id, &res, &entry, &error))
        return recoup_cli_fail (cli, error);
      g_clear_pointer (&d, recoup_dispute_free);
      if (!(d = recoup_dispute_load (book, argv[1], &error)))
        return recoup_cli_fail (cli, error);
      if (cli->json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_dispute (b, d);
          recoup_cli_print_builder (b);
        }
      else
        printf ("Dispute %s %s%s%s\n", d->id, d->status, entry ? "; ledger entry " : "", entry ? entry : "");
      return RECOUP_CLI_OK;
    }

  return recoup_cli_usage (cli, "unknown dispute action “%s” (open, resolve, list)", argv[0]);
}
