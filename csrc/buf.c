/* buf.c - growable byte buffer, secret zeroing and the JSON parse wrapper
 * shared by the core. */
#include <stdlib.h>
#include <string.h>

#include "gc.h"

int gc_buf_reserve(gc_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > SIZE_MAX - b->len - 1)
        return -1;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int gc_buf_append(gc_buf *b, const void *p, size_t n)
{
    if (gc_buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int gc_buf_append_str(gc_buf *b, const char *s)
{
    return gc_buf_append(b, s, strlen(s));
}

void gc_buf_clear(gc_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void gc_buf_free(gc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void gc_secure_zero(void *p, size_t n)
{
    if (p != NULL && n > 0)
        explicit_bzero(p, n);
}

/* ------------------------------------------------------------ JSON */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Scan the text as cJSON reads it, outside strings counting brackets and
 * inside them looking for a \u0000 escape.  Only run when needed: on a
 * parse failure (was it the nesting cap?) or when the text holds the
 * letters of a \u0000 escape. */
static void scan(const char *data, size_t len, size_t stop, size_t *depth_at_stop, size_t *nul_at)
{
    size_t i, depth = 0, max_depth = 0;
    int in_string = 0;

    *nul_at = (size_t)-1;
    for (i = 0; i < len; i++) {
        char c = data[i];
        if (i == stop)
            max_depth = depth;
        if (in_string) {
            if (c == '\\' && i + 1 < len) {
                if (data[i + 1] == 'u' && i + 5 < len && memcmp(data + i + 2, "0000", 4) == 0) {
                    *nul_at = i;
                    break;
                }
                i++;
            } else if (c == '"') {
                in_string = 0;
            }
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    if (stop >= len)
        max_depth = depth;
    *depth_at_stop = max_depth;
}

static cJSON *parse(const char *data, size_t len, gc_json_error *error, int refuse_nul)
{
    const char *end = NULL, *raw_nul;
    cJSON *root = NULL;
    size_t depth = 0, nul_at = (size_t)-1, offset = 0;
    gc_json_problem problem = GC_JSON_OK;

    /* cJSON_ParseWithLengthOpts writes our own end pointer, so two threads
     * parsing at once never share the global error position. */
    root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    if (root == NULL) {
        offset = (end && end >= data && (size_t)(end - data) <= len) ? (size_t)(end - data) : 0;
        scan(data, len, offset, &depth, &nul_at);
        problem = depth >= CJSON_NESTING_LIMIT ? GC_JSON_TOO_DEEP : GC_JSON_SYNTAX;
        goto done;
    }
    /* Anything but blanks after the document makes it invalid (a NUL too:
     * it would hide what follows it). */
    offset = (size_t)(end - data);
    while (offset < len && is_space(data[offset]))
        offset++;
    if (offset < len) {
        problem = GC_JSON_TRAILING;
        goto done;
    }
    /* A NUL would cut a C string short: inside a string cJSON copies a raw
     * one and decodes \u0000 to one; between tokens it skips raw ones as
     * blanks (JSON does not allow them there either).  Refuse them all
     * rather than truncate. */
    raw_nul = refuse_nul ? memchr(data, '\0', len) : NULL;
    if (raw_nul != NULL) {
        problem = GC_JSON_NUL;
        offset = (size_t)(raw_nul - data);
    } else if (refuse_nul && memchr(data, '\\', len) != NULL &&   /* no escape: no \u0000 */
               memmem(data, len, "u0000", 5) != NULL) {
        scan(data, len, len, &depth, &nul_at);
        if (nul_at != (size_t)-1) {
            problem = GC_JSON_NUL;
            offset = nul_at;
        }
    }
done:
    if (problem != GC_JSON_OK) {
        cJSON_Delete(root);
        root = NULL;
    }
    if (error) {
        error->problem = problem;
        error->offset = offset;
    }
    return root;
}

cJSON *gc_json_parse_ex(const char *data, size_t len, gc_json_error *error)
{
    return parse(data, len, error, 1);
}

cJSON *gc_json_parse(const char *data, size_t len, size_t *error_offset)
{
    gc_json_error error = {GC_JSON_OK, 0};
    cJSON *root = parse(data, len, &error, 0);
    if (root == NULL && error_offset)
        *error_offset = error.offset;
    return root;
}

/* The message below spells the limit out. */
_Static_assert(CJSON_NESTING_LIMIT == 1000, "update gc_json_problem_text");

const char *gc_json_problem_text(gc_json_problem problem)
{
    switch (problem) {
    case GC_JSON_OK:
        return "valid JSON";
    case GC_JSON_TOO_DEEP:
        return "JSON nested more than 1000 levels deep";
    case GC_JSON_NUL:
        return "JSON holding a NUL character (raw or \\u0000)";
    case GC_JSON_TRAILING:
        return "JSON followed by other bytes";
    case GC_JSON_SYNTAX:
    default:
        return "a body that is not valid JSON";
    }
}
