/* endpoints.c - the 11 Commerce calls: method, path template, success code,
 * and whether a retry is safe after the request may have reached Gett. */
#include <stdint.h>
#include <string.h>

#include "gc.h"

const gc_endpoint gc_endpoints[GC_EP_COUNT] = {
    [GC_EP_NOTIFY_CATALOG] = {"notify_catalog", "POST", "/v1/commerce/catalogset-notification", 0, NULL, 202, 0},
    [GC_EP_LIST_STORES] = {"list_stores", "GET", "/v1/commerce/stores", 0, NULL, 200, 1},
    [GC_EP_GET_STORE] = {"get_store", "GET", "/v1/commerce/stores/{}", 1, "store_id", 200, 1},
    [GC_EP_UPDATE_STORE] = {"update_store", "PUT", "/v1/commerce/stores/{}", 1, "store_id", 200, 1},
    [GC_EP_GET_STORE_STATUS] = {"get_store_status", "GET", "/v1/commerce/stores/{}/status", 1, "store_id", 200, 1},
    [GC_EP_SET_STORE_STATUS] = {"set_store_status", "POST", "/v1/commerce/stores/{}/status", 1, "store_id", 200, 1},
    [GC_EP_ORDER_STATUS] = {"order_status", "POST", "/v1/commerce/orders/{}/status", 1, "order_id", 200, 1},
    /* Register, notify and activate are not retried once they may have been
     * sent: a second register conflicts, a second activate answers 409. */
    [GC_EP_REGISTER_STORE] = {"register_store", "POST", "/v1/commerce/onboarding/stores", 0, NULL, 201, 0},
    [GC_EP_GET_ONBOARDING] = {"get_onboarding", "GET", "/v1/commerce/onboarding/stores/{}", 1, "onboarding_id", 200, 1},
    [GC_EP_CANCEL_ONBOARDING] = {"cancel_onboarding", "DELETE", "/v1/commerce/onboarding/stores/{}", 1, "onboarding_id", 204, 1},
    [GC_EP_ACTIVATE_STORE] = {"activate_store", "POST", "/v1/commerce/onboarding/stores/{}/activate", 1, "onboarding_id", 200, 0},
};

/* RFC 3986 unreserved bytes (A-Z a-z 0-9 - . _ ~), one bit each: a URL's
 * path ids are mostly these, so they are checked and copied with one
 * lookup per byte. */
static const uint64_t unreserved[4] = {0x03ff600000000000ULL, 0x47fffffe87fffffeULL, 0, 0};

static int is_unreserved(unsigned char c)
{
    return (int)((unreserved[c >> 6] >> (c & 63)) & 1);
}

const char *gc_path_param_problem(const char *value, size_t len)
{
    const char *problem = NULL;
    size_t i;
    if (len == 0)
        return "must not be empty";
    /* "." and ".." are path segments, not ids: they would address another
     * resource (stores.get("..") -> GET /v1/commerce/). */
    if ((len == 1 && value[0] == '.') || (len == 2 && value[0] == '.' && value[1] == '.'))
        return "must not be '.' or '..'";
    for (i = 0; i < len && problem == NULL; i++) {
        if (is_unreserved((unsigned char)value[i]))
            continue;
        if (value[i] == '/')
            problem = "must not contain '/'";
        else if (value[i] == '\r' || value[i] == '\n')
            problem = "must not contain CR or LF";
        else if (value[i] == '\0')
            problem = "must not contain NUL";
    }
    return problem;
}

int gc_percent_encode(gc_buf *b, const char *value, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    char *out;

    /* Room for the worst case (every byte escaped) once, then bytes are
     * written in place: an append per byte was most of a URL's cost. */
    if (len > (SIZE_MAX - 1) / 3 || gc_buf_reserve(b, 3 * len) < 0)
        return -1;
    out = b->data + b->len;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (is_unreserved(c)) {
            *out++ = (char)c;
        } else {
            *out++ = '%';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 15];
        }
    }
    b->len = (size_t)(out - b->data);
    b->data[b->len] = '\0';
    return 0;
}

int gc_build_url(gc_buf *url, gc_str base, const gc_endpoint *ep, const gc_str *params,
                 const gc_str *query, size_t n_query, size_t *bad, const char **problem)
{
    const char *p, *mark;
    size_t i = 0;

    if (gc_buf_append(url, base.data, base.len) < 0)
        return -1;
    for (p = ep->path; (mark = strstr(p, "{}")) != NULL; p = mark + 2) {
        const char *why = gc_path_param_problem(params[i].data, params[i].len);
        if (why != NULL) {
            *bad = i;
            *problem = why;
            return 1;
        }
        if (gc_buf_append(url, p, (size_t)(mark - p)) < 0 ||
            gc_percent_encode(url, params[i].data, params[i].len) < 0)
            return -1;
        i++;
    }
    if (gc_buf_append_str(url, p) < 0)
        return -1;
    for (i = 0; i < n_query; i++) {
        if (gc_buf_append(url, i == 0 ? "?" : "&", 1) < 0 ||
            gc_percent_encode(url, query[2 * i].data, query[2 * i].len) < 0 ||
            gc_buf_append(url, "=", 1) < 0 ||
            gc_percent_encode(url, query[2 * i + 1].data, query[2 * i + 1].len) < 0)
            return -1;
    }
    return 0;
}
