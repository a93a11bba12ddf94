/* buf.c - growable byte buffer and JSON parse wrapper shared by the core. */
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

cJSON *gc_json_parse(const char *data, size_t len, size_t *error_offset)
{
    const char *end = NULL;
    cJSON *root;

    /* cJSON_ParseWithLengthOpts writes our own end pointer, so two threads
     * parsing at once never share the global error position. */
    root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    if (root == NULL) {
        if (error_offset)
            *error_offset = (end && end >= data) ? (size_t)(end - data) : 0;
        return NULL;
    }
    /* Trailing non-space bytes make the document invalid. */
    while (end && (size_t)(end - data) < len &&
           (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end && (size_t)(end - data) < len && *end != '\0') {
        if (error_offset)
            *error_offset = (size_t)(end - data);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}
