/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "recoup-book.h"

G_BEGIN_DECLS

/*
 * Reminder templates (email, letter, SMS text) and their merge syntax.
 * docs/templates.md is the user's reference; in short:
 *
 *   {{debtor.name}}                      a field (the list of fields is fixed)
 *   {{#each invoices}} … {{/each}}       repeat for each open invoice (invoice.*)
 *   {{#each installments}} … {{/each}}   repeat for each installment of the plan
 *   {{#if offer.total}} … {{/if}}        only when the field is not empty
 *   {{#unless debtor.email}} … {{/unless}}
 *   {{lbrace}}                           a literal "{{"
 *
 * A section tag alone on its line takes the line with it. An unknown field,
 * an item field outside its list, a "{{" without "}}" or a stray "}}", or a
 * section that is not closed is refused with the line:column of the error.
 *
 * Templates are stored per book in the `templates` table (id = the template's
 * name, synced through the change log, last writer wins per field); a name
 * the book has not customised falls back to the shipped default.
 */

typedef enum
{
  RECOUP_TEMPLATE_ERROR_SYNTAX,
  RECOUP_TEMPLATE_ERROR_UNKNOWN_FIELD,
  RECOUP_TEMPLATE_ERROR_NOT_FOUND,
} RecoupTemplateError;

#define RECOUP_TEMPLATE_ERROR (recoup_template_error_quark ())
GQuark recoup_template_error_quark (void);

typedef struct _RecoupTemplate        RecoupTemplate;
typedef struct _RecoupTemplateContext RecoupTemplateContext;

typedef struct
{
  char    *name;
  char    *channel;      /* email, letter, sms */
  char    *title;        /* a short description */
  char    *subject;      /* template text; empty for letters and SMS */
  char    *body;         /* template text */
  gboolean customised;   /* the book holds its own version */
  gboolean has_default;  /* Recoup ships a default of this name */
} RecoupTemplateInfo;

const char     *recoup_template_title        (const char             *name);

/* Parsing and rendering. @first_line numbers the first line of @text (for
 * errors in a file whose first lines are headers). */
RecoupTemplate *recoup_template_parse        (const char             *text,
                                              int                     first_line,
                                              GError                **error);
char           *recoup_template_render       (RecoupTemplate         *tmpl,
                                              RecoupTemplateContext  *ctx);
void            recoup_template_free         (RecoupTemplate         *tmpl);

/* The fields a template may use (NULL-terminated, "invoice.ref" style). */
const char * const *recoup_template_fields   (void);

/* A template file: optional "Subject: …" and "Channel: …" header lines, a blank
 * line, then the body. Checks both parts; errors carry the file's line numbers. */
gboolean        recoup_template_parse_file_text (const char          *text,
                                              char                  **out_channel,
                                              char                  **out_subject,
                                              char                  **out_body,
                                              GError                **error);

/* Merge data. Values are already formatted text (money, dates). */
RecoupTemplateContext *recoup_template_context_new      (void);
void            recoup_template_context_set  (RecoupTemplateContext  *ctx,
                                              const char             *field,
                                              const char             *value);
void            recoup_template_context_take (RecoupTemplateContext  *ctx,
                                              const char             *field,
                                              char                   *value);
const char     *recoup_template_context_get  (RecoupTemplateContext  *ctx,
                                              const char             *field);
/* Appends an item to a list ("invoices", "installments") and returns it
 * (owned by @ctx) to set the item's fields on. */
RecoupTemplateContext *recoup_template_context_add_item (RecoupTemplateContext *ctx,
                                              const char             *list);
void            recoup_template_context_free (RecoupTemplateContext  *ctx);

/* Everything a reminder about @account_id can say, as of the book's today:
 * debtor, balance, open invoices, the current plan or offer (@offer_id, or the
 * account's current plan when NULL), the validation notice's figures, the
 * business (settings business.*), the collector, the opt-out line. */
RecoupTemplateContext *recoup_template_context_build (RecoupBook     *book,
                                              const char             *account_id,
                                              const char             *offer_id,
                                              GError                **error);

/* Stored templates. */
GPtrArray      *recoup_template_list         (RecoupBook             *book,
                                              GError                **error);
RecoupTemplateInfo *recoup_template_get      (RecoupBook             *book,
                                              const char             *name,
                                              GError                **error);
gboolean        recoup_template_save         (RecoupBook             *book,
                                              const char             *name,
                                              const char             *channel,
                                              const char             *subject,
                                              const char             *body,
                                              GError                **error);
/* Drops the book's version (a tombstone); the shipped default applies again. */
gboolean        recoup_template_reset        (RecoupBook             *book,
                                              const char             *name,
                                              GError                **error);
/* Renders the book's template @name for @ctx. */
gboolean        recoup_template_render_named (RecoupBook             *book,
                                              const char             *name,
                                              RecoupTemplateContext  *ctx,
                                              char                  **out_subject,
                                              char                  **out_body,
                                              GError                **error);
void            recoup_template_info_free    (RecoupTemplateInfo     *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupTemplate, recoup_template_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupTemplateContext, recoup_template_context_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RecoupTemplateInfo, recoup_template_info_free)

G_END_DECLS
