/* response_fuzz.c - libFuzzer harness for the Python-free response path.
 *
 * One input is one server answer: byte 0 picks the status code, the bytes
 * up to the first "\r\n\r\n" are the raw header lines, the rest is the
 * body.  It goes through everything the transport does with an answer
 * before Python sees it - the one JSON parse (gc_json_parse_ex), the
 * header walker (gc_headers_each, gc_header_find, which the binding's
 * TransportError.headers also uses), gc_status_retryable, gc_retry_after,
 * gc_retry_after_value, gc_retry_delay - and through the request side
 * (gc_path_param_problem, gc_percent_encode, gc_build_url), checking the
 * contracts callers rely on.  Build and run: see fuzz/README.md or
 * fuzz/run.sh.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../csrc/gc.h"

/* Statuses that matter to the retry policy, and a few that do not. */
static const long statuses[] = {200, 201, 202, 204, 400, 401, 403, 404, 409, 422,
                                429, 500, 502, 503, 504, 301, 418, 0, 999, -1};

/* A fixed "now" keeps HTTP-date Retry-After values reproducible. */
#define NOW ((time_t)1767225600)  /* 2026-01-01T00:00:00Z */

static void check_retry_after(double seconds)
{
    /* -1 (absent) or a usable non-negative number: never NaN or infinite,
     * never another negative (a negative delay would be a busy retry loop). */
    if (isnan(seconds) || isinf(seconds) || (seconds < 0 && seconds != -1))
        abort();
}

/* Parse once, as transfer.c does; return the tree (or NULL). */
static cJSON *check_json(const char *data, size_t len)
{
    gc_json_error error = {GC_JSON_SYNTAX, (size_t)-1};
    cJSON *root = gc_json_parse_ex(data, len, &error);
    char *printed;

    if (root == NULL) {
        /* The offset is reported to users: it must point inside, and say why. */
        if (error.offset > len || error.problem == GC_JSON_OK ||
            gc_json_problem_text(error.problem) == NULL)
            abort();
        return NULL;
    }
    if (error.problem != GC_JSON_OK)
        abort();
    /* A tree is never built from text holding a NUL: its C strings would be
     * cut short (the binding returns them as they are). */
    if (memchr(data, '\0', len) != NULL)
        abort();
    /* A parsed tree prints and parses back (what convert.c walks is sane). */
    printed = cJSON_PrintUnformatted(root);
    if (printed != NULL) {
        cJSON *again = gc_json_parse_ex(printed, strlen(printed), NULL);
        if (again == NULL)
            abort();
        cJSON_Delete(again);
        cJSON_free(printed);
    }
    return root;
}

typedef struct walk {
    const char *start, *end;
    size_t count;
    gc_str retry_after;   /* first Retry-After seen by the walker */
    int has_retry_after;
} walk;

static int on_header(void *arg, gc_str name, gc_str value)
{
    walk *w = arg;
    /* Slices of the input, a non-empty name without ':' or line breaks, a
     * value trimmed of blanks and CR, neither holding a line break. */
    if (name.data < w->start || name.data + name.len > w->end || value.data < w->start ||
        value.data + value.len > w->end || name.len == 0 || memchr(name.data, ':', name.len) ||
        memchr(name.data, '\n', name.len) || memchr(value.data, '\n', value.len))
        abort();
    if (value.len > 0 && (value.data[0] == ' ' || value.data[0] == '\t' || value.data[value.len - 1] == '\r' ||
                          value.data[value.len - 1] == ' ' || value.data[value.len - 1] == '\t'))
        abort();
    if (!w->has_retry_after && name.len == 11 && strncasecmp(name.data, "retry-after", 11) == 0) {
        w->retry_after = value;
        w->has_retry_after = 1;
    }
    w->count++;
    return 0;
}

static void check_headers(const char *data, size_t len)
{
    walk w = {data, data + len, 0, {NULL, 0}, 0};
    gc_str found = {NULL, 0};
    int has;

    if (gc_headers_each(data, len, on_header, &w) != 0)
        abort();
    /* gc_header_find is the walker's first match, nothing else. */
    has = gc_header_find(data, len, "Retry-After", &found);
    if (has != w.has_retry_after || (has && (found.data != w.retry_after.data || found.len != w.retry_after.len)))
        abort();
    if (has)
        check_retry_after(gc_retry_after_value(found, NOW));
}

static int is_upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static int is_unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* Only unreserved characters and %XX: no CR/LF/space/NUL can ever split a
 * request line or inject a header. */
static void check_encoded(const char *s, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len || !is_upper_hex(s[i + 1]) || !is_upper_hex(s[i + 2]))
                abort();
            i += 2;
        } else if (!is_unreserved(s[i])) {
            abort();
        }
    }
}

static void check_encoding(const char *value, size_t len)
{
    gc_buf out = {0};
    const char *problem = gc_path_param_problem(value, len);

    /* A value is refused exactly when it is empty, a dot segment ("." or
     * ".."), or has '/', CR, LF or NUL. */
    int bad = len == 0 || memchr(value, '/', len) || memchr(value, '\r', len) ||
              memchr(value, '\n', len) || memchr(value, '\0', len) ||
              (len == 1 && value[0] == '.') || (len == 2 && value[0] == '.' && value[1] == '.');
    if ((problem != NULL) != (bad != 0))
        abort();
    if (gc_percent_encode(&out, value, len) < 0)
        return;  /* out of memory is allowed, nothing else */
    check_encoded(out.data ? out.data : "", out.len);
    gc_buf_free(&out);
}

/* The URL of get_store with the input split into a path id and a query. */
static void check_url(const char *text, size_t len)
{
    static const char base[] = "https://api.example";
    gc_str base_str = {base, sizeof base - 1};
    size_t half = len / 2, bad = 99, prefix;
    gc_str param = {text, half};
    gc_str query[2] = {{text + half, (len - half) / 2}, {text + half + (len - half) / 2, len - half - (len - half) / 2}};
    const char *problem = NULL;
    gc_buf url = {0};
    int rc = gc_build_url(&url, base_str, &gc_endpoints[GC_EP_GET_STORE], &param, query, 1, &bad, &problem);

    if (rc == 1) {
        /* Refused exactly when the path rule refuses the id, naming it. */
        if (bad != 0 || problem == NULL || problem != gc_path_param_problem(text, half))
            abort();
    } else if (rc == 0) {
        const char *q;
        prefix = sizeof base - 1 + strlen("/v1/commerce/stores/");
        if (gc_path_param_problem(text, half) != NULL || url.len < prefix ||
            memcmp(url.data, "https://api.example/v1/commerce/stores/", prefix) != 0)
            abort();
        /* path id, '?', key, '=', value: each part encoded. */
        q = memchr(url.data + prefix, '?', url.len - prefix);
        if (q == NULL)
            abort();
        check_encoded(url.data + prefix, (size_t)(q - url.data) - prefix);
        {
            const char *eq = memchr(q + 1, '=', url.len - (size_t)(q + 1 - url.data));
            if (eq == NULL)
                abort();
            check_encoded(q + 1, (size_t)(eq - q - 1));
            check_encoded(eq + 1, url.len - (size_t)(eq + 1 - url.data));
        }
    }
    gc_buf_free(&url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + (size ? 1 : 0);
    size_t len = size ? size - 1 : 0, head_len = len, body_off = len;
    long status = size ? statuses[data[0] % (sizeof statuses / sizeof statuses[0])] : 200;
    gc_buf headers = {0}, body = {0};
    cJSON *problem_tree = NULL;
    double after, delay;
    int retryable, n;

    for (size_t i = 0; i + 3 < len; i++) {
        if (memcmp(text + i, "\r\n\r\n", 4) == 0) {
            head_len = i + 2;  /* keep the last header's CRLF, as libcurl delivers it */
            body_off = i + 4;
            break;
        }
    }
    /* Fill the buffers the way transfer.c does (gc_buf_append keeps them NUL-terminated). */
    if (gc_buf_append(&headers, text, head_len) < 0 || gc_buf_append(&body, text + body_off, len - body_off) < 0)
        goto done;

    problem_tree = check_json(body.data ? body.data : "", body.len);
    cJSON_Delete(check_json(text, len));  /* the whole input as a body, too */
    check_headers(headers.data ? headers.data : "", headers.len);
    check_headers(text, len);

    retryable = gc_status_retryable(status, problem_tree);
    if (retryable != 0 && retryable != 1)
        abort();
    if ((status == 429 || status == 500 || status == 502 || status == 503 || status == 504) && !retryable)
        abort();

    after = gc_retry_after(problem_tree, headers.data, headers.len, NOW);
    check_retry_after(after);
    for (n = 0; n < 40; n += 7) {
        delay = gc_retry_delay(n, after);
        if (after >= 0 ? delay != after : !(delay > 0 && delay <= 8.0))
            abort();
    }

    check_encoding(text, len < 4096 ? len : 4096);
    check_url(text, len < 4096 ? len : 4096);
done:
    cJSON_Delete(problem_tree);
    gc_buf_free(&body);
    gc_buf_free(&headers);
    return 0;
}
