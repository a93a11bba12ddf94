/* retry.c - which answers are retried and how long to wait (DESIGN §2):
 * 429/500/502/503/504 or a problem body saying "retryable": true; the
 * server's Retry-After / retryAfter when given, else 0.5 s * 2^n with
 * jitter, capped at 8 s. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "gc.h"

#define GC_RETRY_BASE 0.5
#define GC_RETRY_CAP 8.0

/* Per-thread xorshift state: rand() is neither thread-safe nor seeded. */
static _Thread_local uint64_t jitter_state;

static double jitter_unit(void)
{
    uint64_t x = jitter_state;
    if (x == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
            (uint64_t)(uintptr_t)&jitter_state;
        if (x == 0)
            x = 0x9E3779B97F4A7C15ULL;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    jitter_state = x;
    return (double)(x >> 11) / (double)(1ULL << 53);
}

double gc_retry_delay(int n, double retry_after)
{
    double delay;
    if (retry_after >= 0)
        return retry_after;
    delay = GC_RETRY_BASE;
    while (n-- > 0 && delay < GC_RETRY_CAP)
        delay *= 2;
    if (delay > GC_RETRY_CAP)
        delay = GC_RETRY_CAP;
    /* Up to 25% less, so many clients failing together do not retry in step. */
    return delay * (1.0 - 0.25 * jitter_unit());
}

int gc_status_retryable(long status, const char *body, size_t body_len)
{
    cJSON *root, *flag;
    int retryable;

    if (status == 429 || status == 500 || status == 502 || status == 503 || status == 504)
        return 1;
    if (body == NULL || body_len == 0 || body_len > 65536)
        return 0;
    root = gc_json_parse(body, body_len, NULL);
    if (root == NULL)
        return 0;
    flag = cJSON_GetObjectItemCaseSensitive(root, "retryable");
    retryable = cJSON_IsTrue(flag);
    cJSON_Delete(root);
    return retryable;
}

/* retryAfter (seconds) from a problem body, or -1. */
static double body_retry_after(const char *body, size_t body_len)
{
    cJSON *root, *value;
    double seconds = -1;

    if (body == NULL || body_len == 0 || body_len > 65536)
        return -1;
    root = gc_json_parse(body, body_len, NULL);
    if (root == NULL)
        return -1;
    value = cJSON_GetObjectItemCaseSensitive(root, "retryAfter");
    if (cJSON_IsNumber(value) && value->valuedouble >= 0)
        seconds = value->valuedouble;
    cJSON_Delete(root);
    return seconds;
}

double gc_header_retry_after(const char *headers, size_t len)
{
    const char *p = headers, *end = headers + len;
    static const char name[] = "retry-after:";

    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t line_len = eol ? (size_t)(eol - p) : (size_t)(end - p);
        if (line_len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
            char digits[32];
            const char *v = p + sizeof name - 1;
            size_t n = 0;
            char *stop = NULL;
            double seconds;
            while (v < p + line_len && (*v == ' ' || *v == '\t'))
                v++;
            while (v < p + line_len && n < sizeof digits - 1 && *v != '\r')
                digits[n++] = *v++;
            digits[n] = '\0';
            seconds = strtod(digits, &stop);
            /* An HTTP-date form is not used by Gett; treat it as absent. */
            if (stop != digits && seconds >= 0)
                return seconds;
            return -1;
        }
        p = eol ? eol + 1 : NULL;
    }
    return -1;
}

/* The server's wish, body field first (it is Gett's documented one). */
double gc_response_retry_after(const gc_response *resp)
{
    double s = body_retry_after(resp->body.data, resp->body.len);
    if (s < 0)
        s = gc_header_retry_after(resp->headers.data, resp->headers.len);
    return s;
}
