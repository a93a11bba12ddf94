/* retry.c - which answers are retried and how long to wait (DESIGN §2):
 * 429/500/502/503/504 or a problem body saying "retryable": true; the
 * server's retryAfter / Retry-After when given (honoured as given, bounded
 * by the call's deadline), else 0.5 s * 2^n with jitter, capped at 8 s. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

int gc_status_retryable(long status, const cJSON *problem)
{
    if (status == 429 || status == 500 || status == 502 || status == 503 || status == 504)
        return 1;
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(problem, "retryable"));
}

/* ------------------------------------------------------------ HTTP-date */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    long era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static int digits(const char *p, int n, int *out)
{
    int i, v = 0;
    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* IMF-fixdate, the form RFC 9110 requires senders to use:
 * "Sun, 06 Nov 1994 08:49:37 GMT".  -1 when it is not one. */
static int parse_http_date(gc_str v, time_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *p = v.data;
    int day, year, hour, min, sec, month, found = 0;

    if (v.len != 29 || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' || p[16] != ' ' ||
        p[19] != ':' || p[22] != ':' || p[25] != ' ' || memcmp(p + 26, "GMT", 3) != 0)
        return -1;
    if (digits(p + 5, 2, &day) < 0 || digits(p + 12, 4, &year) < 0 || digits(p + 17, 2, &hour) < 0 ||
        digits(p + 20, 2, &min) < 0 || digits(p + 23, 2, &sec) < 0)
        return -1;
    for (month = 0; month < 12 && !found; month++)
        found = memcmp(months + 3 * month, p + 8, 3) == 0;
    if (!found || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return -1;
    *out = (time_t)(days_from_civil(year, (unsigned)month, (unsigned)day) * 86400L + hour * 3600L +
                    min * 60L + sec);
    return 0;
}

double gc_retry_after_value(gc_str value, time_t now)
{
    char text[32];
    char *stop = NULL;
    double seconds;
    time_t when;

    if (value.len == 0)
        return -1;
    if (parse_http_date(value, &when) == 0)
        return when > now ? (double)(when - now) : 0.0;
    /* delta-seconds: digits only (a fraction is accepted: some servers send one). */
    if (value.len >= sizeof text || !(value.data[0] >= '0' && value.data[0] <= '9'))
        return -1;
    memcpy(text, value.data, value.len);
    text[value.len] = '\0';
    seconds = strtod(text, &stop);
    if (stop != text + value.len || !isfinite(seconds) || seconds < 0)
        return -1;
    return seconds;
}

double gc_retry_after(const cJSON *problem, const char *headers, size_t len, time_t now)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(problem, "retryAfter");
    gc_str header;

    if (cJSON_IsNumber(value) && isfinite(value->valuedouble) && value->valuedouble >= 0)
        return value->valuedouble;
    if (gc_header_find(headers, len, "retry-after", &header))
        return gc_retry_after_value(header, now);
    return -1;
}
