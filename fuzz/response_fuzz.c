/* response_fuzz.c - libFuzzer harness for the Python-free response path.
 *
 * One input is one server answer: byte 0 picks the status code, the bytes
 * up to the first "\r\n\r\n" are the raw header lines, the rest is the
 * body.  It goes through everything the transport does with an answer
 * before Python sees it (gc_json_parse, gc_status_retryable,
 * gc_header_retry_after, gc_response_retry_after, gc_retry_delay) and
 * through the request-side encoders (gc_path_param_problem,
 * gc_percent_encode), checking the contracts callers rely on.  Build and
 * run: see fuzz/README.md or fuzz/run.sh.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../csrc/gc.h"

/* Statuses that matter to the retry policy, and a few that do not. */
static const long statuses[] = {200, 201, 202, 204, 400, 401, 403, 404, 409, 422,
                                429, 500, 502, 503, 504, 301, 418, 0, 999, -1};

static void check_retry_after(double seconds)
{
    /* -1 (absent) or a usable non-negative number: never NaN, never another
     * negative (a negative delay would be a busy retry loop). */
    if (isnan(seconds) || (seconds < 0 && seconds != -1))
        abort();
}

static void check_json(const char *data, size_t len)
{
    size_t offset = (size_t)-1;
    cJSON *root = gc_json_parse(data, len, &offset);
    if (root == NULL) {
        if (offset > len)  /* the offset is reported to users: it must point inside */
            abort();
        return;
    }
    /* A parsed tree prints and parses back (what convert.c walks is sane). */
    char *printed = cJSON_PrintUnformatted(root);
    if (printed != NULL) {
        cJSON *again = gc_json_parse(printed, strlen(printed), NULL);
        if (again == NULL)
            abort();
        cJSON_Delete(again);
        cJSON_free(printed);
    }
    cJSON_Delete(root);
}

static int is_upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static void check_encoding(const char *value, size_t len)
{
    gc_buf out = {0};
    const char *problem = gc_path_param_problem(value, len);
    size_t i;

    /* A value is refused exactly when it is empty, a dot segment ("." or
     * ".."), or has '/', CR, LF or NUL. */
    int bad = len == 0 || memchr(value, '/', len) || memchr(value, '\r', len) ||
              memchr(value, '\n', len) || memchr(value, '\0', len) ||
              (len == 1 && value[0] == '.') || (len == 2 && value[0] == '.' && value[1] == '.');
    if ((problem != NULL) != (bad != 0))
        abort();
    if (gc_percent_encode(&out, value, len) < 0)
        return;  /* out of memory is allowed, nothing else */
    /* Only unreserved characters and %XX reach a URL: no CR/LF/space/NUL
     * can ever split a request line or inject a header. */
    for (i = 0; i < out.len; i++) {
        char c = out.data[i];
        if (c == '%') {
            if (i + 2 >= out.len || !is_upper_hex(out.data[i + 1]) || !is_upper_hex(out.data[i + 2]))
                abort();
            i += 2;
            continue;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '~'))
            abort();
    }
    gc_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gc_response resp;
    const char *text = (const char *)data + (size ? 1 : 0);
    size_t len = size ? size - 1 : 0, head_len = len;
    const char *split = NULL;
    long status = size ? statuses[data[0] % (sizeof statuses / sizeof statuses[0])] : 200;
    int retryable, n;
    double after, delay;

    memset(&resp, 0, sizeof resp);
    for (size_t i = 0; i + 3 < len; i++) {
        if (memcmp(text + i, "\r\n\r\n", 4) == 0) {
            split = text + i;
            head_len = i + 2;  /* keep the last header's CRLF, as libcurl delivers it */
            break;
        }
    }
    /* Fill the buffers the way http.c does (gc_buf_append keeps them NUL-terminated). */
    if (gc_buf_append(&resp.headers, text, head_len) < 0)
        goto done;
    if (split != NULL && gc_buf_append(&resp.body, split + 4, len - (size_t)(split + 4 - text)) < 0)
        goto done;
    resp.status = status;
    resp.kind = (status >= 200 && status < 300) ? GC_OK : GC_STATUS;

    check_json(resp.body.data, resp.body.len);
    check_json(text, len);  /* the whole input as a body, too */

    retryable = gc_status_retryable(resp.status, resp.body.data, resp.body.len);
    if (retryable != 0 && retryable != 1)
        abort();
    if ((status == 429 || status == 500 || status == 502 || status == 503 || status == 504) && !retryable)
        abort();

    check_retry_after(gc_header_retry_after(resp.headers.data, resp.headers.len));
    check_retry_after(gc_header_retry_after(text, len));
    after = gc_response_retry_after(&resp);
    check_retry_after(after);
    for (n = 0; n < 40; n += 7) {
        delay = gc_retry_delay(n, after);
        if (after >= 0 ? delay != after : !(delay > 0 && delay <= 8.0))
            abort();
    }

    check_encoding(text, len < 4096 ? len : 4096);
done:
    /* gc_response_free lives in http.c (libcurl); the buffers are all there is. */
    gc_buf_free(&resp.body);
    gc_buf_free(&resp.headers);
    return 0;
}
