/* The sequential floor: what one thread of plain C gets from libcurl + cJSON.
 *
 * One reused easy handle (so one keep-alive connection), the SDK's headers
 * built once (floor.h), and per call exactly the work an SDK call cannot
 * avoid: format the URL, serialise the body with cJSON (POST), transfer,
 * check the status, parse the answer with cJSON (GET).  bench/run.py
 * compares every contender with it.
 *
 * usage: floor_seq BASE_URL get|post CALLS WARMUP
 * prints one JSON line: {"calls": N, "seconds": S, "errors": E}
 */
#include <cjson/cJSON.h>

#include <string.h>
#include <time.h>

#include "floor.h"

#define STORE_ID "0b6f6c2e-5a0e-4b8e-9c1d-3d0c2f1a9b10"

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} body_buf;

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    body_buf *buf = userdata;
    size_t n = size * nmemb;
    if (buf->len + n + 1 > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 1024;
        while (cap < buf->len + n + 1)
            cap *= 2;
        char *grown = realloc(buf->data, cap);
        if (grown == NULL)
            return 0; /* libcurl turns a short write into CURLE_WRITE_ERROR */
        buf->data = grown;
        buf->cap = cap;
    }
    memcpy(buf->data + buf->len, ptr, n);
    buf->len += n;
    return n;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The POST body, serialised by cJSON as an SDK must; NULL out of memory. */
static char *order_body(void)
{
    cJSON *req = cJSON_CreateObject();
    char *body = NULL;
    if (req != NULL && cJSON_AddStringToObject(req, "status", "confirmed") != NULL)
        body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return body;
}

/* Whether the GET answer parses into a store status (cJSON). */
static int status_parses(const body_buf *buf)
{
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(buf->data, buf->len, &end, 0);
    int ok = doc != NULL && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "status"));
    cJSON_Delete(doc);
    return ok;
}

/* One call; returns 0 when the answer was a 200 that parsed (GET). */
static int one_call(CURL *easy, const char *base, int is_post, long index, body_buf *buf)
{
    char url[512];
    char *body = NULL;
    long code = 0;
    int ok = 0;

    buf->len = 0;
    if (is_post) {
        snprintf(url, sizeof url, "%s/v1/commerce/orders/ord-%ld/status", base, index);
        body = order_body();
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
    } else {
        snprintf(url, sizeof url, "%s/v1/commerce/stores/%s/status", base, STORE_ID);
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    if ((body != NULL || !is_post) && curl_easy_perform(easy) == CURLE_OK) {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
        ok = code == 200 && (is_post || status_parses(buf));
    }
    free(body);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    CURL *easy = NULL;
    struct curl_slist *get_headers = NULL;
    struct curl_slist *post_headers = NULL;
    body_buf buf = {NULL, 0, 0};
    long calls, warmup, errors = 0;
    int is_post, status = 2;
    double started, elapsed;

    if (argc != 5 || (strcmp(argv[2], "get") != 0 && strcmp(argv[2], "post") != 0)) {
        fprintf(stderr, "usage: %s BASE_URL get|post CALLS WARMUP\n", argv[0]);
        return 2;
    }
    is_post = strcmp(argv[2], "post") == 0;
    calls = strtol(argv[3], NULL, 10);
    warmup = strtol(argv[4], NULL, 10);
    if (calls <= 0 || warmup < 0) {
        fprintf(stderr, "CALLS must be > 0 and WARMUP >= 0\n");
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    easy = curl_easy_init();
    if (easy == NULL)
        goto cleanup;
    get_headers = floor_headers(0);
    post_headers = floor_headers(1);
    if (get_headers == NULL || post_headers == NULL)
        goto cleanup;
    floor_configure(easy, is_post ? post_headers : get_headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &buf);

    for (long i = 0; i < warmup; i++)
        errors += one_call(easy, argv[1], is_post, i, &buf);
    if (errors) {
        fprintf(stderr, "warm-up failed: %ld errors\n", errors);
        status = 1;
        goto cleanup;
    }
    started = now_seconds();
    for (long i = 0; i < calls; i++)
        errors += one_call(easy, argv[1], is_post, i, &buf);
    elapsed = now_seconds() - started;
    printf("{\"calls\": %ld, \"seconds\": %.6f, \"errors\": %ld}\n", calls, elapsed, errors);
    status = errors ? 1 : 0;
cleanup:
    if (easy != NULL)
        curl_easy_cleanup(easy);
    curl_slist_free_all(get_headers);
    curl_slist_free_all(post_headers);
    free(buf.data);
    curl_global_cleanup();
    return status;
}
