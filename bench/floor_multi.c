/* The concurrent floor: CALLS order-status POSTs through curl_multi with
 * CONCURRENCY transfers in flight, as plain C.  bench/run.py compares
 * client.batch() and the Python async/thread peers with it.
 *
 * CONCURRENCY easy handles are created once and reused (each keeps its
 * keep-alive connection); a finished handle is re-armed with the next call
 * at once, so the number in flight stays at CONCURRENCY until the tail.
 * Per call: format the URL, serialise the body with cJSON, check for 200.
 *
 * usage: floor_multi BASE_URL CALLS CONCURRENCY WARMUP
 * prints one JSON line: {"calls": N, "seconds": S, "errors": E}
 */
#include <cjson/cJSON.h>

#include <string.h>
#include <time.h>

#include "floor.h"

typedef struct {
    CURL *easy;
    char url[512];
    char *body;
} slot;

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Arm a slot with call number `index`; returns 0 on success. */
static int arm(slot *s, const char *base, long index)
{
    cJSON *req = cJSON_CreateObject();
    int rc = 1;

    free(s->body);
    s->body = NULL;
    if (req == NULL || cJSON_AddStringToObject(req, "status", "ready") == NULL)
        goto cleanup;
    s->body = cJSON_PrintUnformatted(req);
    if (s->body == NULL)
        goto cleanup;
    snprintf(s->url, sizeof s->url, "%s/v1/commerce/orders/ord-%ld/status", base, index);
    curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
    rc = 0;
cleanup:
    cJSON_Delete(req);
    return rc;
}

/* Run `calls` POSTs; returns the number that did not end in a 200. */
static long run_batch(CURLM *multi, slot *slots, int concurrency, const char *base, long calls)
{
    long next = 0, done = 0, errors = 0;
    int running = 0;

    for (int i = 0; i < concurrency && next < calls; i++, next++) {
        if (arm(&slots[i], base, next) != 0)
            return calls;
        curl_multi_add_handle(multi, slots[i].easy);
    }
    while (done < calls) {
        CURLMsg *msg;
        int queued;
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            return calls - done + errors;
        while ((msg = curl_multi_info_read(multi, &queued)) != NULL) {
            slot *s = NULL;
            long code = 0;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result != CURLE_OK || code != 200)
                errors++;
            done++;
            curl_multi_remove_handle(multi, s->easy);
            if (next < calls) {
                if (arm(s, base, next++) != 0)
                    errors++;
                curl_multi_add_handle(multi, s->easy);
            }
        }
        if (done < calls && curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK)
            return calls - done + errors;
    }
    return errors;
}

int main(int argc, char **argv)
{
    CURLM *multi = NULL;
    slot *slots = NULL;
    struct curl_slist *headers = NULL;
    long calls, warmup, errors = 0;
    int concurrency, status = 2;
    double started, elapsed;

    if (argc != 5) {
        fprintf(stderr, "usage: %s BASE_URL CALLS CONCURRENCY WARMUP\n", argv[0]);
        return 2;
    }
    calls = strtol(argv[2], NULL, 10);
    concurrency = (int)strtol(argv[3], NULL, 10);
    warmup = strtol(argv[4], NULL, 10);
    if (calls <= 0 || concurrency <= 0 || concurrency > 1024 || warmup < 0) {
        fprintf(stderr, "CALLS > 0, 0 < CONCURRENCY <= 1024, WARMUP >= 0\n");
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    multi = curl_multi_init();
    slots = calloc((size_t)concurrency, sizeof *slots);
    if (multi == NULL || slots == NULL)
        goto cleanup;
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)concurrency);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)concurrency);
    headers = floor_headers(1);
    if (headers == NULL)
        goto cleanup;
    for (int i = 0; i < concurrency; i++) {
        CURL *easy = curl_easy_init();
        if (easy == NULL)
            goto cleanup;
        slots[i].easy = easy;
        curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)&slots[i]);
        floor_configure(easy, headers);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    }
    if (warmup > 0 && run_batch(multi, slots, concurrency, argv[1], warmup) != 0) {
        fprintf(stderr, "warm-up failed\n");
        status = 1;
        goto cleanup;
    }
    started = now_seconds();
    errors = run_batch(multi, slots, concurrency, argv[1], calls);
    elapsed = now_seconds() - started;
    printf("{\"calls\": %ld, \"seconds\": %.6f, \"errors\": %ld}\n", calls, elapsed, errors);
    status = errors ? 1 : 0;
cleanup:
    if (slots != NULL) {
        for (int i = 0; i < concurrency; i++) {
            if (slots[i].easy != NULL)
                curl_easy_cleanup(slots[i].easy);
            free(slots[i].body);
        }
        free(slots);
    }
    if (multi != NULL)
        curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    return status;
}
