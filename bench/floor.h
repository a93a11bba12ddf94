/* floor.h - what both C floors send and how they connect, so that a floor
 * makes the same HTTP exchange as gettcommerce and its peers.
 *
 * The request headers are the SDK's, byte for byte in length: Accept,
 * Authorization and, from the environment, the User-Agent text the SDK
 * sends (bench/run.py passes gettcommerce's own in BENCH_USER_AGENT; libcurl
 * formats every request byte, so a shorter User-Agent would make the floor
 * cheaper than the same exchange).  The proxy decision is made once, as the
 * SDK makes it (no proxy for the bench server), instead of libcurl reading
 * the *_proxy variables on every request.  BENCH_CA_FILE names the CA
 * bundle for an https:// base URL (a self-signed loopback server).
 */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>

/* Accept, Authorization, User-Agent (and Content-Type for a JSON body);
 * NULL when out of memory. */
static struct curl_slist *floor_headers(int json_body)
{
    const char *agent = getenv("BENCH_USER_AGENT");
    const char *lines[4] = {"Accept: application/json", "Authorization: Bearer zpka_bench", NULL,
                            json_body ? "Content-Type: application/json" : NULL};
    char ua[512];
    struct curl_slist *list = NULL;

    snprintf(ua, sizeof ua, "User-Agent: %s", agent != NULL && *agent ? agent : "bench-floor/1");
    lines[2] = ua;
    for (int i = 0; i < 4 && lines[i] != NULL; i++) {
        struct curl_slist *grown = curl_slist_append(list, lines[i]);
        if (grown == NULL) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = grown;
    }
    return list;
}

/* The options every floor handle gets once. */
static void floor_configure(CURL *easy, struct curl_slist *headers)
{
    const char *ca_file = getenv("BENCH_CA_FILE");

    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
    if (ca_file != NULL && *ca_file)
        curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file);
}

#endif
