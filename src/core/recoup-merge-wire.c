/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "recoup-merge"

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "recoup-merge-private.h"

/*
 * The sync wire format read and written without a JSON tree.
 *
 * json-glib parses about 30 MB/s (GScanner): 20 µs for one account-shaped
 * change, more than the whole merge of it. This reader decodes a push body,
 * a pull page or a push answer in place (strings are unescaped into the
 * batch's own copy of the text and NUL-terminated there), into flat arrays
 * the merge reads by index. It accepts exactly JSON (RFC 8259): anything else
 * is an error, as it was with json-glib.
 */

#define MAX_DEPTH 64

typedef struct
{
  char       *p;
  char       *end;
  const char *err;
  int         depth;
} Reader;

static inline void
skip_ws (Reader *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
    r->p++;
}

static gboolean
fail (Reader     *r,
      const char *what)
{
  if (r->err == NULL)
    r->err = what;
  return FALSE;
}

static int
hex4 (const char *p)
{
  int v = 0;

  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

/* Reads a string at r->p (on its opening quote), unescaping it in place;
 * *out points at the NUL-terminated result. */
static gboolean
read_string (Reader  *r,
             char   **out)
{
  char *w, *start;
  gboolean high = FALSE;

  if (r->p >= r->end || *r->p != '"')
    return fail (r, "a string was expected");
  start = w = ++r->p;
  for (;;)
    {
      unsigned char c;

      if (r->p >= r->end)
        return fail (r, "a string is not closed");
      c = (unsigned char) *r->p;
      if (c == '"')
        break;
      if (c < 0x20)
        return fail (r, "a control character inside a string");
      if (c >= 0x80)
        high = TRUE;
      if (c != '\\')
        {
          *w++ = *r->p++;
          continue;
        }
      if (r->p + 1 >= r->end)
        return fail (r, "a string is not closed");
      r->p++;
      switch (*r->p)
        {
        case '"': *w++ = '"'; r->p++; break;
        case '\\': *w++ = '\\'; r->p++; break;
        case '/': *w++ = '/'; r->p++; break;
        case 'b': *w++ = '\b'; r->p++; break;
        case 'f': *w++ = '\f'; r->p++; break;
        case 'n': *w++ = '\n'; r->p++; break;
        case 'r': *w++ = '\r'; r->p++; break;
        case 't': *w++ = '\t'; r->p++; break;
        case 'u':
          {
            int cp;

            if (r->end - r->p < 5 || (cp = hex4 (r->p + 1)) < 0)
              return fail (r, "a bad \\u escape");
            r->p += 5;
            if (cp >= 0xd800 && cp <= 0xdbff)
              {
                int lo;

                if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
                    (lo = hex4 (r->p + 2)) < 0xdc00 || lo > 0xdfff)
                  return fail (r, "a lone surrogate in a \\u escape");
                r->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              }
            else if (cp >= 0xdc00 && cp <= 0xdfff)
              return fail (r, "a lone surrogate in a \\u escape");
            if (cp == 0)
              return fail (r, "a NUL character inside a string");
            /* The escape is at least 6 bytes; its UTF-8 at most 4. */
            w += g_unichar_to_utf8 ((gunichar) cp, w);
            break;
          }
        default:
          return fail (r, "a bad escape in a string");
        }
    }
  *w = '\0';
  r->p++;
  if (high && !g_utf8_validate (start, w - start, NULL))
    return fail (r, "a string is not valid UTF-8");
  *out = start;
  return TRUE;
}

static gboolean skip_value (Reader *r);

/* A scalar value, or the kind of a nested one (skipped). */
static gboolean
read_value (Reader *r,
            MValue *v)
{
  char *s;

  skip_ws (r);
  if (r->p >= r->end)
    return fail (r, "a value was expected");
  switch (*r->p)
    {
    case '"':
      if (!read_string (r, &s))
        return FALSE;
      v->kind = MV_STRING;
      v->s = s;
      return TRUE;
    case '{':
      v->kind = MV_OBJECT;
      return skip_value (r);
    case '[':
      v->kind = MV_ARRAY;
      return skip_value (r);
    case 't':
      if (r->end - r->p < 4 || memcmp (r->p, "true", 4) != 0)
        return fail (r, "an unknown literal");
      r->p += 4;
      v->kind = MV_BOOL;
      v->i = 1;
      return TRUE;
    case 'f':
      if (r->end - r->p < 5 || memcmp (r->p, "false", 5) != 0)
        return fail (r, "an unknown literal");
      r->p += 5;
      v->kind = MV_BOOL;
      v->i = 0;
      return TRUE;
    case 'n':
      if (r->end - r->p < 4 || memcmp (r->p, "null", 4) != 0)
        return fail (r, "an unknown literal");
      r->p += 4;
      v->kind = MV_NULL;
      return TRUE;
    default:
      {
        char *q = r->p;
        gboolean neg = FALSE, is_double = FALSE;
        guint64 n = 0;
        gboolean overflow = FALSE;

        if (*q == '-')
          {
            neg = TRUE;
            q++;
          }
        if (q >= r->end || !g_ascii_isdigit (*q))
          return fail (r, "an unexpected character");
        if (*q == '0' && q + 1 < r->end && g_ascii_isdigit (q[1]))
          return fail (r, "a number with a leading zero");
        while (q < r->end && g_ascii_isdigit (*q))
          {
            guint d = (guint) (*q - '0');

            if (n > (G_MAXUINT64 - d) / 10)
              overflow = TRUE;
            else
              n = n * 10 + d;
            q++;
          }
        if (q < r->end && *q == '.')
          {
            is_double = TRUE;
            q++;
            if (q >= r->end || !g_ascii_isdigit (*q))
              return fail (r, "a bad number");
            while (q < r->end && g_ascii_isdigit (*q))
              q++;
          }
        if (q < r->end && (*q == 'e' || *q == 'E'))
          {
            is_double = TRUE;
            q++;
            if (q < r->end && (*q == '+' || *q == '-'))
              q++;
            if (q >= r->end || !g_ascii_isdigit (*q))
              return fail (r, "a bad number");
            while (q < r->end && g_ascii_isdigit (*q))
              q++;
          }
        r->p = q;
        if (is_double || overflow || n > (guint64) G_MAXINT64 + (neg ? 1 : 0))
          {
            v->kind = MV_DOUBLE;
            return TRUE;
          }
        v->kind = MV_INT;
        v->i = neg ? (gint64) (0 - n) : (gint64) n;
        return TRUE;
      }
    }
}

/* Calls @member for each "name": of an object at r->p (its '{'). */
typedef gboolean (*MemberFunc) (Reader *r, const char *name, gpointer data);

static gboolean
read_object (Reader     *r,
             MemberFunc  member,
             gpointer    data)
{
  skip_ws (r);
  if (r->p >= r->end || *r->p != '{')
    return fail (r, "an object was expected");
  if (++r->depth > MAX_DEPTH)
    return fail (r, "nested too deeply");
  r->p++;
  skip_ws (r);
  if (r->p < r->end && *r->p == '}')
    {
      r->p++;
      r->depth--;
      return TRUE;
    }
  for (;;)
    {
      char *name;

      skip_ws (r);
      if (!read_string (r, &name))
        return FALSE;
      skip_ws (r);
      if (r->p >= r->end || *r->p != ':')
        return fail (r, "a ':' was expected after a member name");
      r->p++;
      if (!member (r, name, data))
        return FALSE;
      skip_ws (r);
      if (r->p < r->end && *r->p == ',')
        {
          r->p++;
          continue;
        }
      if (r->p < r->end && *r->p == '}')
        {
          r->p++;
          r->depth--;
          return TRUE;
        }
      return fail (r, "a ',' or '}' was expected in an object");
    }
}

typedef gboolean (*ElementFunc) (Reader *r, gpointer data);

static gboolean
read_array (Reader      *r,
            ElementFunc  element,
            gpointer     data)
{
  skip_ws (r);
  if (r->p >= r->end || *r->p != '[')
    return fail (r, "an array was expected");
  if (++r->depth > MAX_DEPTH)
    return fail (r, "nested too deeply");
  r->p++;
  skip_ws (r);
  if (r->p < r->end && *r->p == ']')
    {
      r->p++;
      r->depth--;
      return TRUE;
    }
  for (;;)
    {
      skip_ws (r);
      if (!element (r, data))
        return FALSE;
      skip_ws (r);
      if (r->p < r->end && *r->p == ',')
        {
          r->p++;
          continue;
        }
      if (r->p < r->end && *r->p == ']')
        {
          r->p++;
          r->depth--;
          return TRUE;
        }
      return fail (r, "a ',' or ']' was expected in an array");
    }
}

static gboolean
skip_member (Reader     *r,
             const char *name,
             gpointer    data)
{
  return skip_value (r);
}

static gboolean
skip_element (Reader   *r,
              gpointer  data)
{
  return skip_value (r);
}

static gboolean
skip_value (Reader *r)
{
  MValue v;

  skip_ws (r);
  if (r->p < r->end && *r->p == '{')
    return read_object (r, skip_member, NULL);
  if (r->p < r->end && *r->p == '[')
    return read_array (r, skip_element, NULL);
  return read_value (r, &v);
}

/* ---- changes ---- */

typedef struct
{
  RecoupChangeBatch *batch;
  MChange           *change;
} ChangeCtx;

static gboolean
field_member (Reader     *r,
              const char *name,
              gpointer    data)
{
  ChangeCtx *ctx = data;
  GArray *fields = ctx->batch->fields;
  MField f = { name, { 0 } };

  if (!read_value (r, &f.v))
    return FALSE;
  /* A repeated name: the last value counts (as in a JSON object). */
  for (guint i = ctx->change->first_field; i < fields->len; i++)
    {
      MField *o = &g_array_index (fields, MField, i);

      if (o->name[0] == name[0] && strcmp (o->name, name) == 0)
        {
          o->v = f.v;
          return TRUE;
        }
    }
  g_array_append_val (fields, f);
  ctx->change->n_fields++;
  return TRUE;
}

static gboolean
change_member (Reader     *r,
               const char *name,
               gpointer    data)
{
  ChangeCtx *ctx = data;
  MChange *c = ctx->change;
  MValue *slot = NULL;
  MValue skip;

  switch (name[0])
    {
    case 'i': if (strcmp (name, "id") == 0) slot = &c->id; break;
    case 'h': if (strcmp (name, "hlc") == 0) slot = &c->hlc; break;
    case 'd': if (strcmp (name, "device_id") == 0) slot = &c->device_id; break;
    case 'u': if (strcmp (name, "user_id") == 0) slot = &c->user_id; break;
    case 'e':
      if (strcmp (name, "entity") == 0)
        slot = &c->entity;
      else if (strcmp (name, "entity_id") == 0)
        slot = &c->entity_id;
      break;
    case 'o': if (strcmp (name, "op") == 0) slot = &c->op; break;
    case 's':
      if (strcmp (name, "schema_version") == 0)
        slot = &c->schema_version;
      else if (strcmp (name, "seq") == 0)
        slot = &c->seq;
      break;
    case 'f':
      if (strcmp (name, "fields") == 0)
        {
          skip_ws (r);
          /* A repeated "fields": the last one counts. */
          c->first_field = ctx->batch->fields->len;
          c->n_fields = 0;
          if (r->p < r->end && *r->p == '{')
            {
              c->fields_kind = MV_OBJECT;
              return read_object (r, field_member, ctx);
            }
          if (!read_value (r, &skip))
            return FALSE;
          c->fields_kind = skip.kind;
          return TRUE;
        }
      break;
    default:
      break;
    }
  if (slot == NULL)
    return skip_value (r);
  memset (slot, 0, sizeof *slot);
  return read_value (r, slot);
}

static gboolean
change_element (Reader   *r,
                gpointer  data)
{
  RecoupChangeBatch *batch = data;
  MChange c = { 0 };
  ChangeCtx ctx = { batch, NULL };

  skip_ws (r);
  g_array_append_val (batch->changes, c);
  if (r->p >= r->end || *r->p != '{')
    return skip_value (r);
  ctx.change = &g_array_index (batch->changes, MChange, batch->changes->len - 1);
  ctx.change->is_object = TRUE;
  ctx.change->first_field = batch->fields->len;
  return read_object (r, change_member, &ctx);
}

/* ---- results ---- */

static gboolean
result_member (Reader     *r,
               const char *name,
               gpointer    data)
{
  MResult *res = data;
  MValue *slot = NULL;

  if (strcmp (name, "id") == 0)
    slot = &res->id;
  else if (strcmp (name, "status") == 0)
    slot = &res->status;
  else if (strcmp (name, "seq") == 0)
    slot = &res->seq;
  else if (strcmp (name, "reason") == 0)
    slot = &res->reason;
  else if (strcmp (name, "message") == 0)
    slot = &res->message;
  if (slot == NULL)
    return skip_value (r);
  return read_value (r, slot);
}

static gboolean
result_element (Reader   *r,
                gpointer  data)
{
  RecoupChangeBatch *batch = data;
  MResult res = { 0 };
  MResult *slot;

  skip_ws (r);
  g_array_append_val (batch->results, res);
  if (r->p >= r->end || *r->p != '{')
    return skip_value (r);
  slot = &g_array_index (batch->results, MResult, batch->results->len - 1);
  slot->is_object = TRUE;
  return read_object (r, result_member, slot);
}

static gboolean
top_member (Reader     *r,
            const char *name,
            gpointer    data)
{
  RecoupChangeBatch *batch = data;
  MValue v = { 0 };

  skip_ws (r);
  if (strcmp (name, "changes") == 0 && r->p < r->end && *r->p == '[')
    {
      /* A repeated member: the last one counts. */
      g_array_set_size (batch->changes, 0);
      g_array_set_size (batch->fields, 0);
      batch->has_changes = TRUE;
      return read_array (r, change_element, batch);
    }
  if (strcmp (name, "results") == 0 && r->p < r->end && *r->p == '[')
    {
      g_array_set_size (batch->results, 0);
      batch->has_results = TRUE;
      return read_array (r, result_element, batch);
    }
  if (!read_value (r, &v))
    return FALSE;
  if (strcmp (name, "changes") == 0)
    batch->has_changes = FALSE;
  else if (strcmp (name, "results") == 0)
    batch->has_results = FALSE;
  else if (strcmp (name, "has_more") == 0)
    batch->has_more = v.kind == MV_BOOL && v.i != 0;
  else if (strcmp (name, "latest_seq") == 0 && v.kind == MV_INT)
    batch->latest_seq = v.i;
  return TRUE;
}

void
recoup_change_batch_free (RecoupChangeBatch *batch)
{
  if (batch == NULL)
    return;
  g_free (batch->buf);
  g_array_unref (batch->changes);
  g_array_unref (batch->fields);
  g_array_unref (batch->results);
  g_free (batch);
}

RecoupChangeBatch *
recoup_change_batch_parse (const char  *json,
                           gsize        length,
                           GError     **error)
{
  g_autoptr(RecoupChangeBatch) batch = g_new0 (RecoupChangeBatch, 1);
  Reader r = { 0 };

  batch->buf = g_malloc (length + 1);
  memcpy (batch->buf, json, length);
  batch->buf[length] = '\0';
  batch->changes = g_array_sized_new (FALSE, FALSE, sizeof (MChange), 256);
  batch->fields = g_array_sized_new (FALSE, FALSE, sizeof (MField), 2048);
  batch->results = g_array_new (FALSE, FALSE, sizeof (MResult));
  r.p = batch->buf;
  r.end = batch->buf + length;

  skip_ws (&r);
  if (r.p >= r.end || *r.p != '{')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   r.p >= r.end ? "the text is empty" : "the text is not a JSON object");
      return NULL;
    }
  if (!read_object (&r, top_member, batch))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s at byte %" G_GSIZE_FORMAT,
                   r.err ? r.err : "bad JSON", (gsize) (r.p - batch->buf));
      return NULL;
    }
  skip_ws (&r);
  if (r.p != r.end)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "unexpected text after the JSON object at byte %" G_GSIZE_FORMAT,
                   (gsize) (r.p - batch->buf));
      return NULL;
    }
  for (guint i = 0; i < batch->changes->len; i++)
    {
      MChange *c = &g_array_index (batch->changes, MChange, i);

      c->fields = c->n_fields > 0 ? &g_array_index (batch->fields, MField, c->first_field) : NULL;
    }
  return g_steal_pointer (&batch);
}

MChange *
recoup_change_batch_get_change (RecoupChangeBatch *batch,
                                guint              index)
{
  g_return_val_if_fail (index < batch->changes->len, NULL);
  return &g_array_index (batch->changes, MChange, index);
}

gboolean
recoup_change_batch_has_changes (RecoupChangeBatch *batch)
{
  return batch->has_changes;
}

guint
recoup_change_batch_get_length (RecoupChangeBatch *batch)
{
  return batch->changes->len;
}

gboolean
recoup_change_batch_get_has_more (RecoupChangeBatch *batch)
{
  return batch->has_more;
}

gint64
recoup_change_batch_get_latest_seq (RecoupChangeBatch *batch)
{
  return batch->latest_seq;
}

gboolean
recoup_change_batch_is_object (RecoupChangeBatch *batch,
                               guint              index)
{
  return recoup_change_batch_get_change (batch, index)->is_object;
}

static const MValue *
member_slot (const MChange *c,
             const char    *member)
{
  if (strcmp (member, "id") == 0) return &c->id;
  if (strcmp (member, "hlc") == 0) return &c->hlc;
  if (strcmp (member, "device_id") == 0) return &c->device_id;
  if (strcmp (member, "user_id") == 0) return &c->user_id;
  if (strcmp (member, "entity") == 0) return &c->entity;
  if (strcmp (member, "entity_id") == 0) return &c->entity_id;
  if (strcmp (member, "op") == 0) return &c->op;
  if (strcmp (member, "schema_version") == 0) return &c->schema_version;
  if (strcmp (member, "seq") == 0) return &c->seq;
  return NULL;
}

const char *
recoup_change_batch_get_string (RecoupChangeBatch *batch,
                                guint              index,
                                const char        *member,
                                gboolean          *out_present)
{
  const MValue *v = member_slot (recoup_change_batch_get_change (batch, index), member);

  if (out_present != NULL)
    *out_present = v != NULL && v->kind != MV_ABSENT;
  return v != NULL && v->kind == MV_STRING ? v->s : NULL;
}

gint64
recoup_change_batch_get_int (RecoupChangeBatch *batch,
                             guint              index,
                             const char        *member,
                             gint64             fallback)
{
  const MValue *v = member_slot (recoup_change_batch_get_change (batch, index), member);

  return v != NULL && v->kind == MV_INT ? v->i : fallback;
}

gboolean
recoup_change_batch_has_fields (RecoupChangeBatch *batch,
                                guint              index)
{
  return recoup_change_batch_get_change (batch, index)->fields_kind == MV_OBJECT;
}

static const MValue *
field_slot (const MChange *c,
            const char    *field)
{
  for (guint i = 0; i < c->n_fields; i++)
    if (strcmp (c->fields[i].name, field) == 0)
      return &c->fields[i].v;
  return NULL;
}

const char *
recoup_change_batch_get_field_string (RecoupChangeBatch *batch,
                                      guint              index,
                                      const char        *field,
                                      const char        *fallback)
{
  const MValue *v = field_slot (recoup_change_batch_get_change (batch, index), field);

  return v != NULL && v->kind == MV_STRING ? v->s : fallback;
}

gint64
recoup_change_batch_get_field_int (RecoupChangeBatch *batch,
                                   guint              index,
                                   const char        *field,
                                   gint64             fallback)
{
  const MValue *v = field_slot (recoup_change_batch_get_change (batch, index), field);

  if (v == NULL || v->kind == MV_NULL)
    return fallback;
  return v->kind == MV_INT || v->kind == MV_BOOL ? v->i : 0;
}

gboolean
recoup_change_batch_has_results (RecoupChangeBatch *batch)
{
  return batch->has_results;
}

guint
recoup_change_batch_get_n_results (RecoupChangeBatch *batch)
{
  return batch->results->len;
}

const char *
recoup_change_batch_get_result (RecoupChangeBatch  *batch,
                                guint               index,
                                gint64             *out_seq,
                                const char        **out_reason,
                                const char        **out_message)
{
  MResult *res;

  g_return_val_if_fail (index < batch->results->len, "");
  res = &g_array_index (batch->results, MResult, index);
  if (out_seq != NULL)
    *out_seq = res->seq.kind == MV_INT ? res->seq.i : 0;
  if (out_reason != NULL)
    *out_reason = res->reason.kind == MV_STRING ? res->reason.s : NULL;
  if (out_message != NULL)
    *out_message = res->message.kind == MV_STRING ? res->message.s : NULL;
  return res->status.kind == MV_STRING ? res->status.s : "";
}

/* ---- writing ---- */

void
recoup_json_append_string (GString    *out,
                           const char *s)
{
  const char *run = s;

  g_string_append_c (out, '"');
  for (const char *p = s; *p; p++)
    {
      unsigned char c = (unsigned char) *p;

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;
      g_string_append_len (out, run, p - run);
      run = p + 1;
      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        default: g_string_append_printf (out, "\\u%04x", c); break;
        }
    }
  g_string_append (out, run);
  g_string_append_c (out, '"');
}

void
recoup_json_append_value (GString      *out,
                          const MValue *v)
{
  char buf[32];

  switch (v->kind)
    {
    case MV_INT:
      g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, v->i);
      g_string_append (out, buf);
      break;
    case MV_BOOL:
      g_string_append (out, v->i ? "true" : "false");
      break;
    case MV_STRING:
      recoup_json_append_string (out, v->s);
      break;
    default:
      g_string_append (out, "null");
      break;
    }
}

char *
recoup_merge_fields_to_json (const MChange *change)
{
  GString *out = g_string_sized_new (64 + change->n_fields * 32);

  g_string_append_c (out, '{');
  for (guint i = 0; i < change->n_fields; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      recoup_json_append_string (out, change->fields[i].name);
      g_string_append_c (out, ':');
      recoup_json_append_value (out, &change->fields[i].v);
    }
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}
