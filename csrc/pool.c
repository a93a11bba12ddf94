/* pool.c - gc_client: configuration, the proxy decision, a lock-protected
 * pool of reused libcurl easy handles, the caches they share, and what
 * fork() does to them.
 *
 * Python-free: the binding releases the GIL around gc_client_free (which
 * closes connections).  Handles are reused LIFO, so sequential calls from
 * one thread keep one keep-alive connection.  After fork() the child
 * abandons (never closes or reuses) the parent's handles: see atfork_child.
 */
#define GC_TRANSPORT_INTERNAL
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gc.h"

/* ------------------------------------------------------------ share */

/* libcurl asks for one kind of data at a time; each kind has its own mutex
 * so a DNS lookup never waits on a TLS session store. */
static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userp)
{
    gc_share *share = userp;
    (void)h;
    (void)access;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&share->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
    gc_share *share = userp;
    (void)h;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&share->locks[data]);
}

/* The TLS session cache and the DNS cache, shared by every handle of one
 * client (threads and batches alike).  The connection cache is not shared:
 * libcurl documents sharing connections between concurrent threads as
 * unsupported (CURLSHOPT_SHARE), and concurrent threads on one Client are
 * the common case; each pooled handle keeps its own keep-alive connection
 * instead, and a new connection resumes a shared TLS session.  NULL when
 * out of memory. */
static gc_share *share_new(void)
{
    gc_share *share = calloc(1, sizeof *share);
    int i;
    if (share == NULL)
        return NULL;
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&share->locks[i], NULL);
    share->sh = curl_share_init();
    if (share->sh == NULL ||
        curl_share_setopt(share->sh, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(share->sh, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(share->sh, CURLSHOPT_USERDATA, share) != CURLSHE_OK ||
        curl_share_setopt(share->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
        curl_share_setopt(share->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
        if (share->sh != NULL)
            curl_share_cleanup(share->sh);
        for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&share->locks[i]);
        free(share);
        return NULL;
    }
    return share;
}

/* After every handle using it is cleaned up.  A share still in use (a
 * handle leaked elsewhere) is left allocated rather than freed under it. */
static void share_free(gc_share *share)
{
    int i;
    if (share == NULL)
        return;
    if (curl_share_cleanup(share->sh) != CURLSHE_OK)
        return;
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&share->locks[i]);
    free(share);
}

/* ------------------------------------------------------------ fork safety */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static gc_client *registry_head;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static volatile unsigned fork_generation;

/* Before fork: hold every lock so the child sees consistent pools. */
static void atfork_prepare(void)
{
    gc_client *c;
    pthread_mutex_lock(&registry_lock);
    for (c = registry_head; c; c = c->next)
        pthread_mutex_lock(&c->lock);
}

static void atfork_parent(void)
{
    gc_client *c;
    for (c = registry_head; c; c = c->next)
        pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&registry_lock);
}

/* In the child the idle handles hold the parent's sockets (and TLS state):
 * closing them could send a TLS close_notify on the parent's connection, and
 * reusing them would interleave bytes with the parent.  Forget them instead;
 * the child opens its own connections on demand.  The share is abandoned
 * too (a parent thread may have held one of its mutexes at the fork) and
 * the child's handles get a fresh one, without the parent's TLS sessions.
 * The generation tells the
 * binding that calls counted before the fork belong to threads that are
 * gone. */
static void atfork_child(void)
{
    gc_client *c;
    for (c = registry_head; c; c = c->next) {
        c->n_idle = 0;
        pthread_mutex_init(&c->lock, NULL);
        c->share = share_new();
    }
    pthread_mutex_init(&registry_lock, NULL);
    fork_generation++;
}

static void atfork_register(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

unsigned gc_fork_generation(void)
{
    return fork_generation;
}

/* ------------------------------------------------------------ handles */

CURL *gc_handle_new(gc_client *client)
{
    CURL *h = curl_easy_init();
    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    gc_transfer_configure(h);
    if (client->share != NULL)
        curl_easy_setopt(h, CURLOPT_SHARE, client->share->sh);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    /* Send the path as built: never let libcurl fold "/./" or "/../". */
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    /* The User-Agent line is in the client's header lists (formatted once);
     * CURLOPT_USERAGENT would make libcurl format it again for every
     * request.  Through a proxy it is still set, for the CONNECT request
     * (the header lists go to the origin only); the origin request then
     * sends the list's line alone. */
    if (client->cfg.proxy != NULL && client->cfg.proxy[0] != '\0')
        curl_easy_setopt(h, CURLOPT_USERAGENT, client->cfg.user_agent);
    /* Set explicitly (even to ""): libcurl then never reads the *_proxy
     * variables itself, which it would do on every request. */
    curl_easy_setopt(h, CURLOPT_PROXY, client->cfg.proxy);
    curl_easy_setopt(h, CURLOPT_NOPROXY, client->noproxy);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (client->cfg.ca_bundle)
        curl_easy_setopt(h, CURLOPT_CAINFO, client->cfg.ca_bundle);
    return h;
}

CURL *gc_handle_checkout(gc_client *client, gc_handle_state **state)
{
    CURL *h = NULL;
    *state = NULL;
    pthread_mutex_lock(&client->lock);
    if (client->n_idle > 0) {
        h = client->idle[--client->n_idle];
        *state = client->idle_state[client->n_idle];
    }
    pthread_mutex_unlock(&client->lock);
    return h ? h : gc_handle_new(client);
}

void gc_handle_checkin_state(gc_client *client, CURL *h, gc_handle_state *state)
{
    int kept = 0;
    pthread_mutex_lock(&client->lock);
    if (client->n_idle < client->cfg.pool_size) {
        client->idle_state[client->n_idle] = state;
        client->idle[client->n_idle++] = h;
        kept = 1;
    }
    pthread_mutex_unlock(&client->lock);
    if (!kept) {
        curl_easy_cleanup(h);
        gc_handle_state_free(state);  /* after the handle: it points at the state */
    }
}

/* A handle another engine used (the batch): its options are not known. */
void gc_handle_checkin(gc_client *client, CURL *h)
{
    gc_handle_checkin_state(client, h, NULL);
}

int gc_client_idle_handles(gc_client *client)
{
    int n;
    pthread_mutex_lock(&client->lock);
    n = client->n_idle;
    pthread_mutex_unlock(&client->lock);
    return n;
}

const char *gc_client_proxy(const gc_client *client)
{
    return client->cfg.proxy;
}

/* ------------------------------------------------------------ lifecycle */

/* Free a string that may hold a secret (the key, proxy credentials). */
static void free_secret(char *s)
{
    if (s != NULL) {
        gc_secure_zero(s, strlen(s));
        free(s);
    }
}

static void free_config(gc_config *cfg)
{
    free(cfg->base_url);
    free_secret(cfg->auth_header);
    free(cfg->user_agent);
    free(cfg->ca_bundle);
    free_secret(cfg->proxy);
    memset(cfg, 0, sizeof *cfg);
}

/* curl_slist_append copies each line: the Authorization copies are zeroed
 * before curl_slist_free_all hands them back to malloc. */
static void free_header_list(struct curl_slist *list)
{
    struct curl_slist *item;
    for (item = list; item != NULL; item = item->next)
        gc_secure_zero(item->data, strlen(item->data));
    curl_slist_free_all(list);
}

/* Everything gc_client_new allocates besides handles and the lock. */
static void free_parts(gc_client *client)
{
    free_header_list(client->headers);
    free_header_list(client->headers_empty);
    free_header_list(client->headers_json);
    free_secret(client->noproxy);
    share_free(client->share);  /* after the handles: none is left using it */
    free(client->idle);
    free(client->idle_state);
    free_config(&client->cfg);
    free(client);
}

/* Accept, Authorization, User-Agent, then up to two more lines (NULL ones
 * are skipped). */
static int append_headers(struct curl_slist **list, const char *auth, const char *agent,
                          const char *extra1, const char *extra2)
{
    const char *lines[] = {"Accept: application/json", auth, agent, extra1, extra2};
    size_t i;
    for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct curl_slist *tmp = lines[i] != NULL ? curl_slist_append(*list, lines[i]) : *list;
        if (tmp == NULL)
            return -1;
        *list = tmp;
    }
    return 0;
}

/* "User-Agent: <text>" (malloc'd), or NULL for an empty user agent (none
 * is sent, as libcurl does for an empty CURLOPT_USERAGENT).  -1 out of memory. */
static int user_agent_line(const char *agent, char **line)
{
    static const char prefix[] = "User-Agent: ";
    size_t len;

    *line = NULL;
    if (agent == NULL || agent[0] == '\0')
        return 0;
    len = strlen(agent);
    *line = malloc(sizeof prefix + len);
    if (*line == NULL)
        return -1;
    memcpy(*line, prefix, sizeof prefix - 1);
    memcpy(*line + sizeof prefix - 1, agent, len + 1);
    return 0;
}

static const char *first_env(const char *a, const char *b)
{
    const char *v = getenv(a);
    if (v == NULL || *v == '\0')
        v = getenv(b);
    return v != NULL && *v != '\0' ? v : NULL;
}

/* DESIGN §4: proxy None reads the environment once, here, and only for an
 * https base_url; a plain-http base_url never goes through a proxy, so the
 * key never travels in clear to one.  Returns 0, or -1 out of memory. */
static int resolve_proxy(gc_client *client)
{
    const char *proxy = "", *noproxy = "";

    if (client->cfg.proxy == NULL && strncasecmp(client->cfg.base_url, "https://", 8) == 0) {
        proxy = first_env("https_proxy", "HTTPS_PROXY");
        if (proxy == NULL)
            proxy = first_env("all_proxy", "ALL_PROXY");
        if (proxy == NULL)
            proxy = "";
        noproxy = first_env("no_proxy", "NO_PROXY");
        if (noproxy == NULL)
            noproxy = "";
    }
    if (client->cfg.proxy == NULL) {
        client->cfg.proxy = strdup(proxy);
        if (client->cfg.proxy == NULL)
            return -1;
    }
    client->noproxy = strdup(noproxy);
    return client->noproxy == NULL ? -1 : 0;
}

gc_client *gc_client_new(const gc_config *config)
{
    gc_client *client = calloc(1, sizeof *client);
    gc_config copy;
    char *agent = NULL;

    if (client == NULL)
        goto error;
    client->cfg = *config;
    if (client->cfg.pool_size < 1)
        client->cfg.pool_size = 1;
    client->idle = calloc((size_t)client->cfg.pool_size, sizeof(CURL *));
    client->idle_state = calloc((size_t)client->cfg.pool_size, sizeof *client->idle_state);
    client->share = share_new();
    if (client->idle == NULL || client->idle_state == NULL || client->share == NULL ||
        resolve_proxy(client) < 0)
        goto error_parts;
    pthread_mutex_init(&client->lock, NULL);

    /* Each custom header costs libcurl a scan per request, so each kind of
     * call gets only what it needs.  "Content-Type:" (empty) stops libcurl
     * labelling a bodyless POST as a form; "Expect:" stops it waiting for
     * 100-continue before sending a larger body. */
    if (user_agent_line(client->cfg.user_agent, &agent) < 0 ||
        append_headers(&client->headers, client->cfg.auth_header, agent, NULL, NULL) < 0 ||
        append_headers(&client->headers_empty, client->cfg.auth_header, agent, "Content-Type:",
                       NULL) < 0 ||
        append_headers(&client->headers_json, client->cfg.auth_header, agent,
                       "Content-Type: application/json", "Expect:") < 0)
        goto error_lock;
    free(agent);

    pthread_once(&atfork_once, atfork_register);
    pthread_mutex_lock(&registry_lock);
    client->next = registry_head;
    if (registry_head)
        registry_head->prev = client;
    registry_head = client;
    pthread_mutex_unlock(&registry_lock);
    return client;

error_lock:
    free(agent);
    pthread_mutex_destroy(&client->lock);
error_parts:
    free_parts(client);
    return NULL;
error:
    copy = *config;
    free_config(&copy);
    return NULL;
}

void gc_client_free(gc_client *client)
{
    int i;
    if (client == NULL)
        return;
    pthread_mutex_lock(&registry_lock);
    if (client->prev)
        client->prev->next = client->next;
    else
        registry_head = client->next;
    if (client->next)
        client->next->prev = client->prev;
    pthread_mutex_unlock(&registry_lock);

    for (i = 0; i < client->n_idle; i++) {
        curl_easy_cleanup(client->idle[i]);
        gc_handle_state_free(client->idle_state[i]);
    }
    pthread_mutex_destroy(&client->lock);
    free_parts(client);
}
