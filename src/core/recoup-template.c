/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-template"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "recoup-accounts.h"
#include "recoup-book-private.h"
#include "recoup-date.h"
#include "recoup-ledger.h"
#include "recoup-money.h"
#include "recoup-offer.h"
#include "recoup-outbox.h"
#include "recoup-template.h"

G_DEFINE_QUARK (recoup-template-error-quark, recoup_template_error)

/* ---------------------------------------------------------------------------
 * Fields
 * ------------------------------------------------------------------------- */

static const char * const scalar_fields[] = {
  "today",
  "debtor.name", "debtor.ref", "debtor.address", "debtor.email", "debtor.phone",
  "account.balance", "account.currency", "account.days_past_due", "account.oldest_due_date",
  "account.open_invoices",
  "offer.kind", "offer.total", "offer.balance_at_offer", "offer.forgiven", "offer.discount",
  "offer.installments", "offer.frequency", "offer.first_date", "offer.pay_by",
  "offer.expires_on", "offer.accepted_on",
  "validation.notice_date", "validation.itemization_date", "validation.itemization_amount",
  "validation.interest", "validation.fees", "validation.payments_credits",
  "validation.current_balance", "validation.dispute_deadline",
  "business.name", "business.address", "business.phone", "business.email",
  "business.website", "business.payment_instructions", "business.hours",
  "collector.name",
  "optout.line",
  "lbrace",
  NULL
};

typedef struct
{
  const char *list;      /* the name after #each */
  const char *prefix;    /* what its item fields start with */
  const char * const fields[8];
} ListSchema;

static const ListSchema list_schemas[] = {
  { "invoices", "invoice.",
    { "invoice.ref", "invoice.issue_date", "invoice.due_date", "invoice.amount",
      "invoice.open_amount", "invoice.days_past_due", "invoice.description", NULL } },
  { "installments", "installment.",
    { "installment.seq", "installment.due_date", "installment.amount", NULL } },
};

const char * const *
recoup_template_fields (void)
{
  static gsize once = 0;
  static GPtrArray *all = NULL;

  if (g_once_init_enter (&once))
    {
      GPtrArray *a = g_ptr_array_new ();

      for (guint i = 0; scalar_fields[i] != NULL; i++)
        g_ptr_array_add (a, (gpointer) scalar_fields[i]);
      for (guint l = 0; l < G_N_ELEMENTS (list_schemas); l++)
        {
          g_ptr_array_add (a, (gpointer) list_schemas[l].list);
          for (guint i = 0; list_schemas[l].fields[i] != NULL; i++)
            g_ptr_array_add (a, (gpointer) list_schemas[l].fields[i]);
        }
      g_ptr_array_add (a, NULL);
      all = a;
      g_once_init_leave (&once, 1);
    }
  return (const char * const *) all->pdata;
}

static const ListSchema *
find_list (const char *name)
{
  for (guint l = 0; l < G_N_ELEMENTS (list_schemas); l++)
    if (g_str_equal (list_schemas[l].list, name))
      return &list_schemas[l];
  return NULL;
}

static const ListSchema *
find_list_of_field (const char *field)
{
  for (guint l = 0; l < G_N_ELEMENTS (list_schemas); l++)
    if (g_strv_contains (list_schemas[l].fields, field))
      return &list_schemas[l];
  return NULL;
}

/* ---------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------- */

typedef enum
{
  NODE_TEXT,
  NODE_FIELD,
  NODE_EACH,
  NODE_IF,
  NODE_UNLESS,
} NodeKind;

typedef struct _Node Node;
struct _Node
{
  NodeKind   kind;
  char      *text;      /* literal text, or the field / list name */
  GPtrArray *children;  /* Node, for sections */
};

struct _RecoupTemplate
{
  GPtrArray *nodes;
};

static void
node_free (gpointer data)
{
  Node *node = data;

  g_free (node->text);
  g_clear_pointer (&node->children, g_ptr_array_unref);
  g_free (node);
}

static Node *
node_new (NodeKind    kind,
          const char *text,
          gssize      len)
{
  Node *node = g_new0 (Node, 1);

  node->kind = kind;
  node->text = g_strndup (text, len < 0 ? strlen (text) : (gsize) len);
  if (kind == NODE_EACH || kind == NODE_IF || kind == NODE_UNLESS)
    node->children = g_ptr_array_new_with_free_func (node_free);
  return node;
}

void
recoup_template_free (RecoupTemplate *tmpl)
{
  if (tmpl == NULL)
    return;
  g_ptr_array_unref (tmpl->nodes);
  g_free (tmpl);
}

typedef struct
{
  const char *text;
  int         first_line;
} Source;

/* Line and column (1-based, in characters) of byte offset @pos. */
static void
locate (const Source *src,
        const char   *pos,
        int          *out_line,
        int          *out_col)
{
  int line = src->first_line, col = 1;

  for (const char *p = src->text; p < pos; p = g_utf8_next_char (p))
    {
      if (*p == '\n')
        {
          line++;
          col = 1;
        }
      else
        col++;
    }
  *out_line = line;
  *out_col = col;
}

static gboolean G_GNUC_PRINTF (5, 6)
fail_at (const Source  *src,
         const char    *pos,
         int            code,
         GError       **error,
         const char    *format,
         ...)
{
  g_autofree char *msg = NULL;
  va_list args;
  int line, col;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  locate (src, pos, &line, &col);
  g_set_error (error, RECOUP_TEMPLATE_ERROR, code, "%d:%d: %s", line, col, msg);
  return FALSE;
}

typedef struct
{
  Node       *node;       /* NULL for the top level */
  GPtrArray  *children;
  const char *open_pos;
  const char *list;       /* the innermost #each's list, for item fields */
} Frame;

static gboolean
is_name_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '.' || c == '-';
}

/* Is the tag between @start and @end alone on its line (only blanks around)? */
static gboolean
standalone (const char  *text,
            const char  *start,
            const char  *end,
            const char **out_line_start,
            const char **out_next)
{
  const char *p = start;

  while (p > text && (p[-1] == ' ' || p[-1] == '\t'))
    p--;
  if (p != text && p[-1] != '\n')
    return FALSE;
  *out_line_start = p;
  p = end;
  while (*p == ' ' || *p == '\t' || *p == '\r')
    p++;
  if (*p == '\n')
    p++;
  else if (*p != '\0')
    return FALSE;
  *out_next = p;
  return TRUE;
}

RecoupTemplate *
recoup_template_parse (const char  *text,
                       int          first_line,
                       GError     **error)
{
  Source src = { text, first_line > 0 ? first_line : 1 };
  g_autoptr(GArray) frames = g_array_new (FALSE, TRUE, sizeof (Frame));
  g_autoptr(GPtrArray) top = g_ptr_array_new_with_free_func (node_free);
  const char *p = text, *lit = text;
  RecoupTemplate *tmpl;
  Frame root = { NULL, top, NULL, NULL };

  g_return_val_if_fail (text != NULL, NULL);

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_SYNTAX,
                   "the template is not UTF-8 text");
      return NULL;
    }

  g_array_append_val (frames, root);

  while (*p != '\0')
    {
      Frame *frame = &g_array_index (frames, Frame, frames->len - 1);
      const char *open, *close, *name, *name_end, *line_start, *next;
      char sigil = 0;
      g_autofree char *word = NULL;

      if (p[0] == '}' && p[1] == '}')
        return fail_at (&src, p, RECOUP_TEMPLATE_ERROR_SYNTAX, error,
                        "“}}” without an opening “{{” (a literal “{{” is written {{lbrace}})"), NULL;
      if (!(p[0] == '{' && p[1] == '{'))
        {
          p++;
          continue;
        }

      open = p;
      close = strstr (open + 2, "}}");
      {
        const char *nl = strchr (open + 2, '\n');
        const char *again = strstr (open + 2, "{{");

        if (close == NULL || (nl != NULL && nl < close) || (again != NULL && again < close))
          return fail_at (&src, open, RECOUP_TEMPLATE_ERROR_SYNTAX, error,
                          "“{{” is not closed by “}}” on the same line"), NULL;
      }

      name = open + 2;
      while (*name == ' ')
        name++;
      if (*name == '#' || *name == '/')
        sigil = *name++;
      if (sigil == '#')
        {
          const char *kw = name;

          while (g_ascii_isalpha (*name))
            name++;
          word = g_strndup (kw, name - kw);
          if (*name != ' ')
            return fail_at (&src, kw, RECOUP_TEMPLATE_ERROR_SYNTAX, error,
                            "“{{#%s” needs a name: {{#each invoices}}, {{#if field}} or "
                            "{{#unless field}}", word), NULL;
          while (*name == ' ')
            name++;
        }
      name_end = name;
      while (name_end < close && is_name_char (*name_end))
        name_end++;
      {
        const char *rest = name_end;

        while (*rest == ' ')
          rest++;
        if (rest != close || name_end == name)
          return fail_at (&src, name, RECOUP_TEMPLATE_ERROR_SYNTAX, error,
                          "“%.*s” is not a field name (letters, digits, “.”, “_” or “-”)",
                          (int) (close - name), name), NULL;
      }

      /* Emit the literal text before the tag; section tags alone on a line
       * take their line with them. */
      next = close + 2;
      if (sigil != 0 && standalone (text, open, close + 2, &line_start, &next))
        {
          if (line_start > lit)
            g_ptr_array_add (frame->children, node_new (NODE_TEXT, lit, line_start - lit));
        }
      else if (open > lit)
        g_ptr_array_add (frame->children, node_new (NODE_TEXT, lit, open - lit));

      if (sigil == 0)
        {
          g_autofree char *field = g_strndup (name, name_end - name);
          const ListSchema *ls;

          if (find_list (field) != NULL)
            return fail_at (&src, name, RECOUP_TEMPLATE_ERROR_SYNTAX, error,
                            "“%s” is a list: use {{#each %s}} … {{/each}}", field, field), NULL;
          if ((ls = find_list_of_field (field)) != NULL)
            {
              if (g_strcmp0 (frame->list, ls->list) != 0)
                {
                  gboolean inside = FALSE;

                  for (guint i = 0; i < frames->len; i++)
                    inside |= g_strcmp0 (g_array_index (frames, Frame, i).list, ls->list) == 0;
                  if (!inside)
                    return fail_at (&src, name, RECOUP_TEMPLATE_ERROR_UNKNOWN_FIELD, error,
                                    "“%s” is only known inside {{#each %s}} … {{/each}}",
                                    field, ls->list), NULL;
                }
            }
          else if (!g_strv_contains (scalar_fields, field))
            return fail_at (&src, name, RECOUP_TEMPLATE_ERROR_UNKNOWN_FIELD, error,
                            "unknown field “%s” (see docs/templates.md for the fields)", field), NULL;
          g_ptr_array_add (frame->children, node_new (NODE_FIELD, field, -1));
        }
      else if (sigil == '#')
        {
          g_autofree char *target = g_strndup (name, name_end - name);
          Frame child = { NULL, NULL, open, frame->list };
          NodeKind kind;

          if (g_str_equal (word, "each"))
            {
              if (find_list (target) == NULL)
                return fail_at (&src, name, RECOUP_TEMPLATE_ERROR_UNKNOWN_FIELD, error,
                                "unknown list “%s” (invoices or installments)", target), NULL;
              kind = NODE_EACH;
              child.list = find_list (target)->list;
            }
          else if (g_str_equal (word, "if") || g_str_equal (word, "unless"))
            {
              const ListSchema *ls = find_list_of_field (target);

              kind = g_str_equal (word, "if") ? NODE_IF : NODE_UNLESS;
              if (ls == NULL && !g_strv_contains (scalar_fields, target) && find_list (target) == NULL)
                return fail_at (&src, name, RECOUP_TEMPLATE_ERROR_UNKNOWN_FIELD, error,
                                "unknown field “%s” (see docs/templates.md for the fields)",
                                target), NULL;
              if (ls != NULL)
                {
                  gboolean inside = FALSE;

                  for (guint i = 0; i < frames->len; i++)
                    inside |= g_strcmp0 (g_array_index (frames, Frame, i).list, ls->list) == 0;
                  if (!inside)
                    return fail_at (&src, name, RECOUP_TEMPLATE_ERROR_UNKNOWN_FIELD, error,
                                    "“%s” is only known inside {{#each %s}} … {{/each}}",
                                    target, ls->list), NULL;
                }
            }
          else
            return fail_at (&src, open, RECOUP_TEMPLATE_ERROR_SYNTAX, error,
                            "“{{#%s” is not a section (each, if, unless)", word), NULL;

          child.node = node_new (kind, target, -1);
          child.children = child.node->children;
          g_ptr_array_add (frame->children, child.node);
          g_array_append_val (frames, child);
        }
      else
        {
          g_autofree char *target = g_strndup (name, name_end - name);
          const char *want;

          if (frame->node == NULL)
            return fail_at (&src, open, RECOUP_TEMPLATE_ERROR_SYNTAX, error,
                            "“{{/%s}}” closes nothing", target), NULL;
          want = frame->node->kind == NODE_EACH ? "each" :
                 frame->node->kind == NODE_IF ? "if" : "unless";
          if (!g_str_equal (target, want))
            {
              int line, col;

              locate (&src, frame->open_pos, &line, &col);
              return fail_at (&src, open, RECOUP_TEMPLATE_ERROR_SYNTAX, error,
                              "“{{/%s}}” where “{{/%s}}” was expected (to close the "
                              "section opened at %d:%d)", target, want, line, col), NULL;
            }
          g_array_set_size (frames, frames->len - 1);
        }

      p = lit = next;
    }

  if (frames->len > 1)
    {
      Frame *frame = &g_array_index (frames, Frame, frames->len - 1);
      const char *kw = frame->node->kind == NODE_EACH ? "each" :
                       frame->node->kind == NODE_IF ? "if" : "unless";

      return fail_at (&src, frame->open_pos, RECOUP_TEMPLATE_ERROR_SYNTAX, error,
                      "this {{#%s %s}} is never closed with {{/%s}}",
                      kw, frame->node->text, kw), NULL;
    }
  if (*lit != '\0')
    g_ptr_array_add (top, node_new (NODE_TEXT, lit, -1));

  tmpl = g_new0 (RecoupTemplate, 1);
  tmpl->nodes = g_steal_pointer (&top);
  return tmpl;
}

/* ---------------------------------------------------------------------------
 * Context and rendering
 * ------------------------------------------------------------------------- */

struct _RecoupTemplateContext
{
  RecoupTemplateContext *parent;
  GHashTable            *values;  /* field -> text */
  GHashTable            *lists;   /* list -> GPtrArray of RecoupTemplateContext */
};

RecoupTemplateContext *
recoup_template_context_new (void)
{
  RecoupTemplateContext *ctx = g_new0 (RecoupTemplateContext, 1);

  ctx->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  ctx->lists = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) g_ptr_array_unref);
  return ctx;
}

void
recoup_template_context_free (RecoupTemplateContext *ctx)
{
  if (ctx == NULL)
    return;
  g_hash_table_unref (ctx->values);
  g_hash_table_unref (ctx->lists);
  g_free (ctx);
}

void
recoup_template_context_take (RecoupTemplateContext *ctx,
                              const char            *field,
                              char                  *value)
{
  g_hash_table_insert (ctx->values, g_strdup (field), value ? value : g_strdup (""));
}

void
recoup_template_context_set (RecoupTemplateContext *ctx,
                             const char            *field,
                             const char            *value)
{
  recoup_template_context_take (ctx, field, g_strdup (value ? value : ""));
}

const char *
recoup_template_context_get (RecoupTemplateContext *ctx,
                             const char            *field)
{
  for (; ctx != NULL; ctx = ctx->parent)
    {
      const char *v = g_hash_table_lookup (ctx->values, field);

      if (v != NULL)
        return v;
    }
  return NULL;
}

RecoupTemplateContext *
recoup_template_context_add_item (RecoupTemplateContext *ctx,
                                  const char            *list)
{
  GPtrArray *items = g_hash_table_lookup (ctx->lists, list);
  RecoupTemplateContext *item = recoup_template_context_new ();

  if (items == NULL)
    {
      items = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_template_context_free);
      g_hash_table_insert (ctx->lists, g_strdup (list), items);
    }
  item->parent = ctx;
  g_ptr_array_add (items, item);
  return item;
}

static GPtrArray *
context_list (RecoupTemplateContext *ctx,
              const char            *list)
{
  for (; ctx != NULL; ctx = ctx->parent)
    {
      GPtrArray *items = g_hash_table_lookup (ctx->lists, list);

      if (items != NULL)
        return items;
    }
  return NULL;
}

static gboolean
truthy (RecoupTemplateContext *ctx,
        const char            *name)
{
  const char *v;
  GPtrArray *items;

  if (find_list (name) != NULL)
    return (items = context_list (ctx, name)) != NULL && items->len > 0;
  v = recoup_template_context_get (ctx, name);
  return v != NULL && *v != '\0' && !g_str_equal (v, "0");
}

static void
render_nodes (GPtrArray             *nodes,
              RecoupTemplateContext *ctx,
              GString               *out)
{
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *node = g_ptr_array_index (nodes, i);

      switch (node->kind)
        {
        case NODE_TEXT:
          g_string_append (out, node->text);
          break;
        case NODE_FIELD:
          if (g_str_equal (node->text, "lbrace"))
            g_string_append (out, "{{");
          else
            g_string_append (out, recoup_template_context_get (ctx, node->text) ?: "");
          break;
        case NODE_EACH:
          {
            GPtrArray *items = context_list (ctx, node->text);

            for (guint j = 0; items != NULL && j < items->len; j++)
              render_nodes (node->children, g_ptr_array_index (items, j), out);
          }
          break;
        case NODE_IF:
        case NODE_UNLESS:
          if (truthy (ctx, node->text) == (node->kind == NODE_IF))
            render_nodes (node->children, ctx, out);
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

char *
recoup_template_render (RecoupTemplate        *tmpl,
                        RecoupTemplateContext *ctx)
{
  GString *out = g_string_new (NULL);

  render_nodes (tmpl->nodes, ctx, out);
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------------------
 * Template files
 * ------------------------------------------------------------------------- */

gboolean
recoup_template_parse_file_text (const char  *text,
                                 char       **out_channel,
                                 char       **out_subject,
                                 char       **out_body,
                                 GError     **error)
{
  g_autofree char *channel = NULL;
  g_autofree char *subject = NULL;
  const char *p = text;
  int line = 1;
  g_autoptr(RecoupTemplate) check = NULL;

  /* Header lines until a blank line, only when the file starts with one. */
  if (g_str_has_prefix (p, "Subject:") || g_str_has_prefix (p, "Channel:"))
    {
      while (*p != '\0' && *p != '\n' && !(p[0] == '\r' && p[1] == '\n'))
        {
          const char *eol = strchr (p, '\n');
          g_autofree char *hline = g_strndup (p, eol ? (gsize) (eol - p) : strlen (p));

          g_strchomp (hline);
          if (g_str_has_prefix (hline, "Subject:"))
            {
              g_free (subject);
              subject = g_strstrip (g_strdup (hline + 8));
              if (!(check = recoup_template_parse (subject, line, error)))
                return FALSE;
              g_clear_pointer (&check, recoup_template_free);
            }
          else if (g_str_has_prefix (hline, "Channel:"))
            {
              g_free (channel);
              channel = g_strstrip (g_strdup (hline + 8));
              if (g_strcmp0 (channel, "email") && g_strcmp0 (channel, "letter") &&
                  g_strcmp0 (channel, "sms"))
                {
                  g_set_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_SYNTAX,
                               "%d:10: “%s” is not a channel (email, letter or sms)", line, channel);
                  return FALSE;
                }
            }
          else
            {
              g_set_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_SYNTAX,
                           "%d:1: a header line is “Subject: …” or “Channel: …”; end the "
                           "headers with a blank line", line);
              return FALSE;
            }
          p = eol ? eol + 1 : p + strlen (p);
          line++;
        }
      if (*p == '\r')
        p++;
      if (*p == '\n')
        {
          p++;
          line++;
        }
    }

  if (!(check = recoup_template_parse (p, line, error)))
    return FALSE;
  if (out_channel)
    *out_channel = g_steal_pointer (&channel);
  if (out_subject)
    *out_subject = g_steal_pointer (&subject);
  if (out_body)
    *out_body = g_strdup (p);
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Shipped defaults
 * ------------------------------------------------------------------------- */

typedef struct
{
  const char *name;
  const char *channel;
  const char *title;
  const char *subject;
  const char *body;
} DefaultTemplate;

#define INVOICE_TABLE \
  "{{#each invoices}}\n" \
  "  {{invoice.ref}}  due {{invoice.due_date}}  open {{invoice.open_amount}}  " \
  "({{invoice.days_past_due}} days past due)\n" \
  "{{/each}}\n"

#define SIGNATURE \
  "{{#if collector.name}}\n{{collector.name}}\n{{/if}}\n" \
  "{{business.name}}\n" \
  "{{#if business.phone}}\nPhone: {{business.phone}}\n{{/if}}\n" \
  "{{#if business.email}}\nEmail: {{business.email}}\n{{/if}}\n"

#define HOW_TO_PAY \
  "{{#if business.payment_instructions}}\n" \
  "How to pay: {{business.payment_instructions}}\n" \
  "\n" \
  "{{/if}}\n"

static const DefaultTemplate defaults[] = {
  { "friendly-reminder", "email", N_("Friendly reminder"),
    N_("Friendly reminder: {{account.balance}} due to {{business.name}}"),
    N_("Dear {{debtor.name}},\n"
       "\n"
       "This is a friendly reminder that {{account.balance}} is now due to {{business.name}} "
       "on account {{debtor.ref}}:\n"
       "\n"
       INVOICE_TABLE
       "\n"
       "If you have already paid, thank you, and please ignore this message.\n"
       "\n"
       HOW_TO_PAY
       "Kind regards,\n"
       SIGNATURE) },
  { "second-reminder", "email", N_("Second reminder"),
    N_("Second reminder: {{account.balance}} is {{account.days_past_due}} days overdue"),
    N_("Dear {{debtor.name}},\n"
       "\n"
       "We wrote to you earlier about account {{debtor.ref}}. The balance of "
       "{{account.balance}} is now {{account.days_past_due}} days past due:\n"
       "\n"
       INVOICE_TABLE
       "\n"
       "Please pay the balance or contact us to agree a payment plan.\n"
       "\n"
       HOW_TO_PAY
       "Regards,\n"
       SIGNATURE) },
  { "final-notice", "letter", N_("Final notice"),
    N_("Final notice: account {{debtor.ref}}"),
    N_("{{debtor.name}}\n"
       "{{debtor.address}}\n"
       "\n"
       "{{today}}\n"
       "\n"
       "FINAL NOTICE — account {{debtor.ref}}\n"
       "\n"
       "Dear {{debtor.name}},\n"
       "\n"
       "Despite our earlier reminders, {{account.balance}} remains unpaid and is "
       "{{account.days_past_due}} days past due:\n"
       "\n"
       INVOICE_TABLE
       "\n"
       "Unless the balance is paid or a payment arrangement is agreed, we will pass the "
       "account to the next stage of collection.\n"
       "\n"
       HOW_TO_PAY
       "Sincerely,\n"
       SIGNATURE) },
  { "plan-confirmation", "email", N_("Payment plan confirmation"),
    N_("Your payment plan with {{business.name}}"),
    N_("Dear {{debtor.name}},\n"
       "\n"
       "Thank you for agreeing a payment plan on account {{debtor.ref}}. You will pay "
       "{{offer.total}} in {{offer.installments}} {{offer.frequency}} installments:\n"
       "\n"
       "{{#each installments}}\n"
       "  {{installment.seq}}. {{installment.due_date}}  {{installment.amount}}\n"
       "{{/each}}\n"
       "\n"
       "As long as each installment is paid on time, we will take no further collection "
       "action on this balance.\n"
       "\n"
       HOW_TO_PAY
       "Kind regards,\n"
       SIGNATURE) },
  { "settlement-confirmation", "email", N_("Settlement confirmation"),
    N_("Settlement of account {{debtor.ref}}"),
    N_("Dear {{debtor.name}},\n"
       "\n"
       "This confirms our agreement to settle account {{debtor.ref}} (balance "
       "{{offer.balance_at_offer}}) for {{offer.total}}"
       "{{#if offer.pay_by}}, to be paid by {{offer.pay_by}}{{/if}}.\n"
       "Once this amount is received, we will consider the account settled in full and "
       "{{offer.forgiven}} will be forgiven.\n"
       "\n"
       HOW_TO_PAY
       "Kind regards,\n"
       SIGNATURE) },
  /* After the CFPB's model validation notice (Regulation F, 12 CFR 1006.34, form B-1). */
  { "validation-notice", "letter", N_("Validation notice (Regulation F)"),
    N_("Notice about a debt: account {{debtor.ref}}"),
    N_("{{business.name}}\n"
       "{{business.address}}\n"
       "\n"
       "{{debtor.name}}\n"
       "{{debtor.address}}\n"
       "\n"
       "{{validation.notice_date}}\n"
       "Reference: {{debtor.ref}}\n"
       "\n"
       "{{business.name}} is a debt collector. We are trying to collect a debt that you owe. "
       "We will use any information you give us to help collect the debt.\n"
       "\n"
       "Our information shows:\n"
       "\n"
       "As of {{validation.itemization_date}}, you owed:        {{validation.itemization_amount}}\n"
       "Between {{validation.itemization_date}} and today:\n"
       "  You were charged this amount in interest:      + {{validation.interest}}\n"
       "  You were charged this amount in fees:          + {{validation.fees}}\n"
       "  You paid or were credited this amount\n"
       "  toward the debt:                               – {{validation.payments_credits}}\n"
       "Total amount of the debt now:                      {{validation.current_balance}}\n"
       "\n"
       "How can you dispute the debt?\n"
       "- Call or write to us by {{validation.dispute_deadline}} to dispute all or part of "
       "the debt. If you do not, we will assume that our information is correct.\n"
       "- If you write to us by {{validation.dispute_deadline}}, we must stop collection on "
       "any amount you dispute until we send you information that shows you owe the debt. "
       "You may use the form below or write to us without the form.\n"
       "\n"
       "What else can you do?\n"
       "- Write to ask for the name and address of the original creditor, if different from "
       "the current creditor. If you write by {{validation.dispute_deadline}}, we must stop "
       "collection until we send you that information.\n"
       "- Go to www.cfpb.gov/debt-collection to learn more about your rights under federal law.\n"
       "- Contact us about your payment options.\n"
       "\n"
       "Contact us: {{business.name}}, {{business.address}}"
       "{{#if business.phone}}, {{business.phone}}{{/if}}"
       "{{#if business.hours}} ({{business.hours}}){{/if}}"
       "{{#if business.email}}, {{business.email}}{{/if}}\n"
       "\n"
       "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -\n"
       "How do you want to respond?   Mail this form to {{business.name}}, {{business.address}}\n"
       "\n"
       "[ ] I want to dispute the debt because I think:\n"
       "    [ ] This is not my debt.   [ ] The amount is wrong.   [ ] Other.\n"
       "[ ] I want you to send me the name and address of the original creditor.\n"
       "[ ] I enclosed this amount: ____________\n"
       "\n"
       "{{debtor.name}}, reference {{debtor.ref}}\n") },
  { "sms-reminder", "sms", N_("SMS reminder"),
    "",
    N_("{{business.name}}: {{debtor.name}}, {{account.balance}} is overdue on account "
       "{{debtor.ref}}. {{#if business.phone}}Call {{business.phone}} to pay or arrange a plan. "
       "{{/if}}Reply STOP to opt out.") },
};

static const DefaultTemplate *
find_default (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (defaults); i++)
    if (g_str_equal (defaults[i].name, name))
      return &defaults[i];
  return NULL;
}

static const char *
tr (const char *msgid)
{
  return msgid == NULL || *msgid == '\0' ? "" : g_dgettext (GETTEXT_PACKAGE, msgid);
}

/**
 * recoup_template_title:
 *
 * The short title of a template Recoup ships ("Validation notice (Regulation
 * F)"), translated; a template of the book's own is named by its name.
 */
const char *
recoup_template_title (const char *name)
{
  const DefaultTemplate *d = name != NULL ? find_default (name) : NULL;

  return d != NULL ? tr (d->title) : name;
}

/* ---------------------------------------------------------------------------
 * Stored templates
 * ------------------------------------------------------------------------- */

void
recoup_template_info_free (RecoupTemplateInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->channel);
  g_free (info->title);
  g_free (info->subject);
  g_free (info->body);
  g_free (info);
}

static RecoupTemplateInfo *
info_from_default (const DefaultTemplate *d)
{
  RecoupTemplateInfo *info = g_new0 (RecoupTemplateInfo, 1);

  info->name = g_strdup (d->name);
  info->channel = g_strdup (d->channel);
  info->title = g_strdup (tr (d->title));
  info->subject = g_strdup (tr (d->subject));
  info->body = g_strdup (tr (d->body));
  info->has_default = TRUE;
  return info;
}

static gboolean
validate_name (const char  *name,
               GError     **error)
{
  if (name == NULL || *name == '\0' || strlen (name) > 64)
    goto bad;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      goto bad;
  return TRUE;

bad:
  g_set_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_SYNTAX,
               "“%s” is not a template name: use letters, digits, “-” and “_” (at most 64)",
               name ? name : "");
  return FALSE;
}

RecoupTemplateInfo *
recoup_template_get (RecoupBook  *book,
                     const char  *name,
                     GError     **error)
{
  const DefaultTemplate *d = find_default (name);
  sqlite3_stmt *stmt;
  RecoupTemplateInfo *info = NULL;
  int rc;

  stmt = recoup_book_prepare (book,
    "SELECT channel, subject, body FROM templates WHERE id = ? AND deleted = 0", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      info = g_new0 (RecoupTemplateInfo, 1);
      info->name = g_strdup (name);
      info->channel = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
      info->subject = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 1));
      info->body = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 2));
      info->title = g_strdup (d ? tr (d->title) : name);
      info->customised = TRUE;
      info->has_default = d != NULL;
    }
  else if (rc != SQLITE_DONE)
    {
      recoup_book_set_sqlite_error (book, error);
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);
  if (info == NULL && d != NULL)
    info = info_from_default (d);
  if (info == NULL)
    g_set_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_NOT_FOUND,
                 "no template “%s” (see `recoup-cli template list`)", name);
  return info;
}

GPtrArray *
recoup_template_list (RecoupBook  *book,
                      GError     **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) recoup_template_info_free);
  sqlite3_stmt *stmt;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (defaults); i++)
    g_ptr_array_add (names, g_strdup (defaults[i].name));
  stmt = recoup_book_prepare (book, "SELECT id FROM templates WHERE deleted = 0 ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    if (find_default (RECOUP_BOOK_STMT_TEXT (stmt, 0)) == NULL)
      g_ptr_array_add (names, g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0)));
  sqlite3_reset (stmt);

  for (guint i = 0; i < names->len; i++)
    {
      RecoupTemplateInfo *info = recoup_template_get (book, g_ptr_array_index (names, i), error);

      if (info == NULL)
        return NULL;
      g_ptr_array_add (out, info);
    }
  return g_steal_pointer (&out);
}

gboolean
recoup_template_save (RecoupBook  *book,
                      const char  *name,
                      const char  *channel,
                      const char  *subject,
                      const char  *body,
                      GError     **error)
{
  g_autoptr(RecoupTemplate) t1 = NULL;
  g_autoptr(RecoupTemplate) t2 = NULL;
  g_autoptr(GError) local = NULL;
  sqlite3_stmt *stmt;

  if (!validate_name (name, error))
    return FALSE;
  if (channel == NULL)
    {
      const DefaultTemplate *d = find_default (name);

      channel = d ? d->channel : "email";
    }
  if (g_strcmp0 (channel, "email") && g_strcmp0 (channel, "letter") && g_strcmp0 (channel, "sms"))
    {
      g_set_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_SYNTAX,
                   "“%s” is not a channel (email, letter or sms)", channel);
      return FALSE;
    }
  if (subject == NULL)
    subject = "";
  if (g_str_equal (channel, "email") && *subject == '\0')
    {
      g_set_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_SYNTAX,
                   "an email template needs a subject (a first line “Subject: …”)");
      return FALSE;
    }
  if (!(t1 = recoup_template_parse (subject, 1, &local)))
    {
      g_set_error (error, RECOUP_TEMPLATE_ERROR, local->code, "subject %s", local->message);
      return FALSE;
    }
  if (body == NULL || !(t2 = recoup_template_parse (body, 1, error)))
    return FALSE;

  if (!recoup_book_begin (book, error))
    return FALSE;
  stmt = recoup_book_prepare (book,
    "INSERT INTO templates (id, channel, subject, body, updated_at, deleted)"
    " VALUES (?1, ?2, ?3, ?4, ?5, 0) ON CONFLICT (id) DO UPDATE SET channel = ?2, subject = ?3,"
    " body = ?4, updated_at = ?5, deleted = 0 RETURNING (SELECT count(*) FROM changes"
    " WHERE entity = 'templates' AND entity_id = ?1)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, channel, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, subject, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, body, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, recoup_book_now_ms (book));
  {
    int rc = sqlite3_step (stmt);
    gboolean existed = rc == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) > 0;
    static const char * const set_fields[] = { "channel", "subject", "body", "updated_at", "deleted", NULL };

    if (rc == SQLITE_ROW)
      rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE)
      {
        recoup_book_set_sqlite_error (book, error);
        goto fail;
      }
    if (!recoup_book_record_change (book, "templates", name,
                                    existed ? RECOUP_CHANGE_SET : RECOUP_CHANGE_INSERT,
                                    existed ? set_fields : NULL, error))
      goto fail;
  }
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

gboolean
recoup_template_reset (RecoupBook  *book,
                       const char  *name,
                       GError     **error)
{
  sqlite3_stmt *stmt;

  if (!recoup_book_begin (book, error))
    return FALSE;
  stmt = recoup_book_prepare (book, "UPDATE templates SET deleted = 1 WHERE id = ? AND deleted = 0", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
  if (!recoup_book_step_done (book, stmt, error))
    goto fail;
  if (sqlite3_changes (recoup_book_get_db (book)) == 0)
    {
      g_set_error (error, RECOUP_TEMPLATE_ERROR, RECOUP_TEMPLATE_ERROR_NOT_FOUND,
                   "the book has no own version of template “%s”", name);
      goto fail;
    }
  if (!recoup_book_record_change (book, "templates", name, RECOUP_CHANGE_TOMBSTONE, NULL, error))
    goto fail;
  return recoup_book_commit (book, error);

fail:
  recoup_book_rollback (book);
  return FALSE;
}

gboolean
recoup_template_render_named (RecoupBook             *book,
                              const char             *name,
                              RecoupTemplateContext  *ctx,
                              char                  **out_subject,
                              char                  **out_body,
                              GError                **error)
{
  g_autoptr(RecoupTemplateInfo) info = recoup_template_get (book, name, error);
  g_autoptr(RecoupTemplate) subject = NULL;
  g_autoptr(RecoupTemplate) body = NULL;
  g_autoptr(GError) local = NULL;

  if (info == NULL)
    return FALSE;
  if (!(subject = recoup_template_parse (info->subject, 1, &local)) ||
      !(body = recoup_template_parse (info->body, 1, &local)))
    {
      g_set_error (error, RECOUP_TEMPLATE_ERROR, local->code,
                   "template “%s”: %s (fix it with `recoup-cli template set`)", name, local->message);
      return FALSE;
    }
  if (out_subject)
    *out_subject = recoup_template_render (subject, ctx);
  if (out_body)
    *out_body = recoup_template_render (body, ctx);
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Building the merge data from the book
 * ------------------------------------------------------------------------- */

/* Letters and emails go to the debtor in the template's language, not the
 * reader's: their amounts keep the book's marks, so the same reminder reads
 * the same whether the app, recoup-cli or a colleague in another locale sends
 * it, and whatever the outbox queued is what goes out. */
static char *
money (gint64      minor,
       const char *currency)
{
  return recoup_money_format (minor, currency, RECOUP_MONEY_FORMAT_GROUPING | RECOUP_MONEY_FORMAT_CODE);
}

static void
set_setting (RecoupTemplateContext *ctx,
             RecoupBook            *book,
             const char            *key)
{
  recoup_template_context_take (ctx, key, recoup_book_get_setting (book, key));
}

/* The Regulation F itemisation: the balance as of the itemisation date, then
 * what changed since, by sign and kind: interest entries; other increases
 * (fees, new charges, positive adjustments and reversals) as fees; every
 * decrease (payments, waivers, discounts, write-offs, negative adjustments and
 * reversals) as payments and credits. So the lines always add up to the
 * current balance. */
static gboolean
itemise (RecoupBook   *book,
         const char   *account_id,
         const char   *from,
         const char   *to,
         gint64       *out_interest,
         gint64       *out_fees,
         gint64       *out_credits,
         GError      **error)
{
  sqlite3_stmt *stmt = recoup_book_prepare (book,
    "SELECT coalesce(sum(CASE WHEN kind = 'interest' AND amount > 0 THEN amount END), 0),"
    "       coalesce(sum(CASE WHEN amount > 0 AND NOT (kind = 'interest') THEN amount END), 0),"
    "       coalesce(sum(CASE WHEN amount < 0 THEN -amount END), 0)"
    " FROM ledger_entries WHERE account_id = ? AND effective_date > ? AND effective_date <= ?",
    error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, from, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, to, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_reset (stmt);
      return recoup_book_set_sqlite_error (book, error);
    }
  *out_interest = sqlite3_column_int64 (stmt, 0);
  *out_fees = sqlite3_column_int64 (stmt, 1);
  *out_credits = sqlite3_column_int64 (stmt, 2);
  sqlite3_reset (stmt);
  return TRUE;
}

static const char *
frequency_word (RecoupFrequency f)
{
  switch (f)
    {
    case RECOUP_FREQUENCY_WEEKLY:      return _("weekly");
    case RECOUP_FREQUENCY_FORTNIGHTLY: return _("fortnightly");
    case RECOUP_FREQUENCY_MONTHLY:     return _("monthly");
    default:                           return "";
    }
}

RecoupTemplateContext *
recoup_template_context_build (RecoupBook  *book,
                               const char  *account_id,
                               const char  *offer_id,
                               GError     **error)
{
  g_autoptr(RecoupTemplateContext) ctx = recoup_template_context_new ();
  g_autoptr(RecoupAccount) account = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GPtrArray) invoices = NULL;
  g_autoptr(RecoupOffer) offer = NULL;
  g_autofree char *today = recoup_book_today (book);
  g_autofree char *item_date = NULL;
  const char *cur;
  gint64 balance = 0, item_balance = 0, interest = 0, fees = 0, credits = 0;
  int max_dpd = 0;
  const char *oldest_due = NULL, *newest_issue = NULL;
  guint n_open = 0;
  gint32 today_day = recoup_date_parse (today, NULL);
  char buf[11];

  if (!(account = recoup_account_load (book, account_id, error)))
    return NULL;
  cur = account->currency;

  recoup_template_context_set (ctx, "today", today);
  recoup_template_context_set (ctx, "debtor.name", account->name);
  recoup_template_context_set (ctx, "debtor.ref", account->ref);
  recoup_template_context_set (ctx, "account.currency", cur);

  if (!(contacts = recoup_contact_list (book, account_id, error)))
    return NULL;
  for (RecoupContactKind k = RECOUP_CONTACT_PHONE; k <= RECOUP_CONTACT_ADDRESS; k++)
    {
      RecoupContactPoint *best = NULL;
      static const char * const keys[] = { "debtor.phone", "debtor.email", "debtor.address" };

      for (guint i = 0; i < contacts->len; i++)
        {
          RecoupContactPoint *cp = g_ptr_array_index (contacts, i);

          if (cp->kind != k || cp->opted_out)
            continue;
          if (best == NULL || (cp->is_primary && !best->is_primary))
            best = cp;
        }
      recoup_template_context_set (ctx, keys[k], best ? best->value : "");
    }

  if (!recoup_ledger_balance (book, account_id, today, &balance, error))
    return NULL;
  recoup_template_context_take (ctx, "account.balance", money (balance, cur));

  if (!(invoices = recoup_ledger_invoice_balances (book, account_id, today, error)))
    return NULL;
  for (guint i = 0; i < invoices->len; i++)
    {
      RecoupInvoiceBalance *ib = g_ptr_array_index (invoices, i);
      RecoupTemplateContext *item;

      if (strcmp (ib->issue_date, today) <= 0 &&
          (newest_issue == NULL || strcmp (ib->issue_date, newest_issue) > 0))
        newest_issue = ib->issue_date;
      if (ib->balance <= 0)
        continue;
      n_open++;
      item = recoup_template_context_add_item (ctx, "invoices");
      recoup_template_context_set (item, "invoice.ref", ib->ref);
      recoup_template_context_set (item, "invoice.issue_date", ib->issue_date);
      recoup_template_context_set (item, "invoice.due_date", ib->due_date);
      recoup_template_context_take (item, "invoice.amount", money (ib->amount, cur));
      recoup_template_context_take (item, "invoice.open_amount", money (ib->balance, cur));
      recoup_template_context_take (item, "invoice.days_past_due",
                                    g_strdup_printf ("%d", MAX (ib->days_past_due, 0)));
      recoup_template_context_set (item, "invoice.description", ib->description);
      max_dpd = MAX (max_dpd, ib->days_past_due);
      if (oldest_due == NULL || strcmp (ib->due_date, oldest_due) < 0)
        oldest_due = ib->due_date;
    }
  recoup_template_context_take (ctx, "account.days_past_due", g_strdup_printf ("%d", max_dpd));
  recoup_template_context_set (ctx, "account.oldest_due_date", oldest_due);
  recoup_template_context_take (ctx, "account.open_invoices", g_strdup_printf ("%u", n_open));

  /* Validation notice: the itemisation date is the day the account was placed
   * for collection (accounts.placed_on) when set, else the last statement date:
   * the issue date of the newest invoice, else today. */
  {
    sqlite3_stmt *stmt = recoup_book_prepare (book, "SELECT placed_on FROM accounts WHERE id = ?", error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_text (stmt, 1, account_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0) != NULL)
      item_date = g_strdup (RECOUP_BOOK_STMT_TEXT (stmt, 0));
    sqlite3_reset (stmt);
  }
  if (item_date == NULL)
    item_date = g_strdup (newest_issue ? newest_issue : today);
  if (!recoup_ledger_balance (book, account_id, item_date, &item_balance, error) ||
      !itemise (book, account_id, item_date, today, &interest, &fees, &credits, error))
    return NULL;
  recoup_template_context_set (ctx, "validation.notice_date", today);
  recoup_template_context_set (ctx, "validation.itemization_date", item_date);
  recoup_template_context_take (ctx, "validation.itemization_amount", money (item_balance, cur));
  recoup_template_context_take (ctx, "validation.interest", money (interest, cur));
  recoup_template_context_take (ctx, "validation.fees", money (fees, cur));
  recoup_template_context_take (ctx, "validation.payments_credits", money (credits, cur));
  recoup_template_context_take (ctx, "validation.current_balance",
                                money (item_balance + interest + fees - credits, cur));
  /* 30 days to dispute, counted from receipt, assumed 5 days after the notice. */
  recoup_date_format_buf (today_day + 35, buf);
  recoup_template_context_set (ctx, "validation.dispute_deadline", buf);

  /* The offer or plan. */
  if (offer_id != NULL)
    offer = recoup_offer_load (book, offer_id, today, error);
  else
    offer = recoup_offer_current_plan (book, account_id, today, error);
  if (offer == NULL && offer_id != NULL)
    return NULL;
  g_clear_error (error);
  if (offer != NULL)
    {
      recoup_template_context_set (ctx, "offer.kind", recoup_offer_kind_to_string (offer->kind));
      recoup_template_context_take (ctx, "offer.total", money (offer->total, offer->currency));
      recoup_template_context_take (ctx, "offer.balance_at_offer",
                                    money (offer->balance_at_offer, offer->currency));
      recoup_template_context_take (ctx, "offer.forgiven", money (offer->forgiven, offer->currency));
      recoup_template_context_take (ctx, "offer.discount",
                                    g_strdup_printf ("%" G_GINT64_FORMAT ".%02" G_GINT64_FORMAT "%%",
                                                     offer->effective_bp / 100, offer->effective_bp % 100));
      recoup_template_context_take (ctx, "offer.installments", g_strdup_printf ("%d", offer->installments));
      recoup_template_context_set (ctx, "offer.frequency", frequency_word (offer->frequency));
      recoup_template_context_set (ctx, "offer.first_date", offer->first_date);
      recoup_template_context_set (ctx, "offer.pay_by", offer->pay_by);
      recoup_template_context_set (ctx, "offer.expires_on", offer->expires_on);
      recoup_template_context_set (ctx, "offer.accepted_on", offer->accepted_on);
      for (guint i = 0; offer->schedule != NULL && i < offer->schedule->len; i++)
        {
          RecoupInstallment *inst = &g_array_index (offer->schedule, RecoupInstallment, i);
          RecoupTemplateContext *item = recoup_template_context_add_item (ctx, "installments");

          recoup_template_context_take (item, "installment.seq", g_strdup_printf ("%u", inst->seq));
          recoup_date_format_buf (inst->due_day, buf);
          recoup_template_context_set (item, "installment.due_date", buf);
          recoup_template_context_take (item, "installment.amount", money (inst->amount, offer->currency));
        }
    }

  set_setting (ctx, book, "business.name");
  set_setting (ctx, book, "business.address");
  set_setting (ctx, book, "business.phone");
  set_setting (ctx, book, "business.email");
  set_setting (ctx, book, "business.website");
  set_setting (ctx, book, "business.payment_instructions");
  set_setting (ctx, book, "business.hours");

  /* The collector: the account's assignee, else the current user. */
  {
    const char *uid = account->assigned_to ? account->assigned_to : recoup_book_get_user_id (book);
    g_autoptr(RecoupUser) user = uid ? recoup_user_load (book, uid, NULL) : NULL;

    recoup_template_context_set (ctx, "collector.name", user ? user->name : "");
  }

  recoup_template_context_take (ctx, "optout.line", recoup_outbox_opt_out_line (book));
  return g_steal_pointer (&ctx);
}
