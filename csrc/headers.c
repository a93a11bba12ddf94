/* headers.c - the one walker over raw HTTP header lines, used by the retry
 * policy (Retry-After) and by the binding (TransportError.headers). */
#include <string.h>
#include <strings.h>

#include "gc.h"

int gc_headers_each(const char *headers, size_t len, gc_header_fn fn, void *arg)
{
    const char *p = headers, *end;
    int rc = 0;

    if (headers == NULL)
        return 0;  /* no answer, or a 2xx whose headers were not kept */
    end = headers + len;
    while (p < end && rc == 0) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        /* Status lines ("HTTP/1.1 503 ...") and blank or broken lines are not headers. */
        if (colon != NULL && colon > p &&
            !((size_t)(line_end - p) >= 5 && memcmp(p, "HTTP/", 5) == 0)) {
            const char *vs = colon + 1, *ve = line_end;
            gc_str name, value;
            while (vs < ve && (*vs == ' ' || *vs == '\t'))
                vs++;
            while (ve > vs && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            name.data = p;
            name.len = (size_t)(colon - p);
            value.data = vs;
            value.len = (size_t)(ve - vs);
            rc = fn(arg, name, value);
        }
        p = eol ? eol + 1 : end;
    }
    return rc;
}

typedef struct find_ctx {
    const char *name;
    size_t name_len;
    gc_str *value;
} find_ctx;

static int match_name(void *arg, gc_str name, gc_str value)
{
    find_ctx *ctx = arg;
    if (name.len != ctx->name_len || strncasecmp(name.data, ctx->name, name.len) != 0)
        return 0;
    *ctx->value = value;
    return 1;
}

int gc_header_find(const char *headers, size_t len, const char *name, gc_str *value)
{
    find_ctx ctx = {name, strlen(name), value};
    return gc_headers_each(headers, len, match_name, &ctx);
}
