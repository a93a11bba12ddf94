/* catalog.c - the CatalogSet validator (DESIGN.md section 2 "CatalogSet").
 *
 * Python-free so the SDK, the sandbox's ingestion, a libFuzzer harness and a
 * plain C benchmark all run the same code.  Ids are resolved through
 * open-addressing hash tables and the reference graph is walked with explicit
 * heap stacks, so time and memory stay linear in the input and a
 * 100,000-deep chain of sections costs heap, never C stack.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"

enum { K_CATALOG = 0, K_SECTION, K_ITEM, K_GROUP, K_COUNT };

static const char *const kind_map[K_COUNT] = {"catalogs", "sections", "items", "modifierGroups"};
static const char *const kind_id_field[K_COUNT] = {"catalogId", "sectionId", "itemId", "modifierGroupId"};
static const char *const kind_noun[K_COUNT] = {"catalog", "section", "item", "modifier group"};

static const char *const day_names[7] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

/* Largest integer a double holds exactly; min/max beyond it are refused. */
#define GC_MAX_EXACT_INT 9007199254740992.0
/* Ids quoted in messages are cut to this many bytes; paths stay exact. */
#define GC_SHOW_MAX 80
/* A cycle longer than this is shown as its head, "...", and its tail. */
#define GC_CYCLE_SHOW 8
/* Issues listed per document; past it they are only counted, and one final
 * too_many_issues entry gives the total.  A 4 MB menu can hold a million
 * problems, and each listed one costs a formatted message. */
#define GC_MAX_ISSUES 1000

/* ---- hash table: map key -> entity index ------------------------- */

typedef struct slot {
    uint32_t index1;   /* entity index + 1; 0 = empty */
    uint32_t hash;
} slot;

typedef struct table {
    slot *slots;
    size_t mask;
} table;

/* FNV-1a: ids are short strings, and this needs strlen-free one pass. */
static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 16777619u;
    }
    return h;
}

/* ---- per-kind entity tables and reference edges ------------------ */

typedef struct kind_data {
    const cJSON *map;        /* the top-level object, NULL when absent/wrong */
    int broken;              /* map missing or not an object: skip dangling reports */
    uint32_t n;              /* distinct keys */
    const char **keys;
    const cJSON **objs;      /* NULL when the entity is not a JSON object */
    table tab;
    uint32_t *stamp;         /* list in which each entity was last seen */
    uint32_t *first_pos;     /* its index in that list */
} kind_data;

typedef struct edge {
    uint32_t target;         /* entity index in the target kind */
    uint32_t pos;            /* index in the source list, for the path */
} edge;

/* Edges of one relation (e.g. section.itemIds) in CSR form: the edges of
 * source i are e[off[i] .. off[i+1]). */
typedef struct rel {
    uint32_t *off;
    edge *e;
    size_t len, cap;
} rel;

enum { R_CAT_SECTIONS = 0, R_SEC_SECTIONS, R_SEC_ITEMS, R_ITEM_GROUPS, R_GROUP_ITEMS, R_COUNT };

typedef struct validator {
    gc_issue_list *out;
    int nomem;
    gc_buf path;
    gc_buf scratch;
    kind_data k[K_COUNT];
    rel r[R_COUNT];
    uint32_t list_stamp;
    int graph_incomplete;    /* a list or entity could not be read: skip "unreachable" */
    size_t found;            /* issues found, listed or not */
    size_t unlisted_errors;  /* errors past GC_MAX_ISSUES (the rest unlisted are warnings) */
    char shown[3][GC_SHOW_MAX + 8];
} validator;

/* ---- issues ------------------------------------------------------ */

void gc_issue_list_free(gc_issue_list *list)
{
    size_t i;

    if (list == NULL)
        return;
    for (i = 0; i < list->len; i++) {
        free(list->items[i].code);
        free(list->items[i].path);
        free(list->items[i].message);
    }
    free(list->items);
    list->items = NULL;
    list->len = list->cap = 0;
}

static char *dup_bytes(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p != NULL) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static int list_push(gc_issue_list *list, const char *code, const char *path, size_t path_len,
                     char *message, gc_severity severity)
{
    gc_issue *items;
    gc_issue issue = {NULL, NULL, NULL, severity};
    size_t cap;

    if (list->len == list->cap) {
        cap = list->cap ? list->cap * 2 : 16;
        items = realloc(list->items, cap * sizeof *items);
        if (items == NULL)
            goto error;
        list->items = items;
        list->cap = cap;
    }
    issue.code = dup_bytes(code, strlen(code));
    issue.path = dup_bytes(path ? path : "", path ? path_len : 0);
    if (issue.code == NULL || issue.path == NULL)
        goto error;
    issue.message = message;
    list->items[list->len++] = issue;
    return 0;
error:
    free(issue.code);
    free(issue.path);
    free(message);
    return -1;
}

/* Format and append one issue at the path currently in v->path. */
static void record(validator *v, const char *code, gc_severity severity, const char *fmt,
                   va_list ap)
{
    va_list again;
    char *message = NULL;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0)
        n = 0;
    message = malloc((size_t)n + 1);
    if (message == NULL) {
        v->nomem = 1;
    } else {
        vsnprintf(message, (size_t)n + 1, fmt, again);
        /* list_push owns message from here, also when it fails. */
        if (list_push(v->out, code, v->path.data, v->path.len, message, severity) < 0)
            v->nomem = 1;
    }
    va_end(again);
}

/* Record one issue; past GC_MAX_ISSUES it is only counted, and
 * add_overflow_issue gives the total at the end. */
static void issue(validator *v, const char *code, gc_severity severity, const char *fmt, ...)
{
    va_list ap;

    if (v->nomem)
        return;
    v->found++;
    if (v->found > GC_MAX_ISSUES) {
        if (severity == GC_SEV_ERROR)
            v->unlisted_errors++;
        return;
    }
    va_start(ap, fmt);
    record(v, code, severity, fmt, ap);
    va_end(ap);
}

static void record_listed(validator *v, const char *code, gc_severity severity,
                          const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    record(v, code, severity, fmt, ap);
    va_end(ap);
}

#define ERR GC_SEV_ERROR
#define WARN GC_SEV_WARNING

/* An id for a message: cut on a UTF-8 boundary so a 10 MB id cannot turn
 * every message into 10 MB.  slot picks one of three buffers so a message
 * can quote up to three ids. */
static const char *show(validator *v, int which, const char *s)
{
    char *buf = v->shown[which];
    size_t n;

    if (s == NULL)
        s = "";
    n = strlen(s);
    if (n <= GC_SHOW_MAX)
        return s;
    n = GC_SHOW_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(buf, s, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

/* ---- JSON Pointer paths (RFC 6901) -------------------------------- */

static void path_reset(validator *v)
{
    gc_buf_clear(&v->path);
}

static void path_key(validator *v, const char *key)
{
    const char *p, *run;

    if (gc_buf_append(&v->path, "/", 1) < 0)
        goto nomem;
    if (key == NULL)
        return;
    for (p = run = key; *p; p++) {
        if (*p != '~' && *p != '/')
            continue;
        if (gc_buf_append(&v->path, run, (size_t)(p - run)) < 0 ||
            gc_buf_append(&v->path, *p == '~' ? "~0" : "~1", 2) < 0)
            goto nomem;
        run = p + 1;
    }
    if (gc_buf_append(&v->path, run, (size_t)(p - run)) < 0)
        goto nomem;
    return;
nomem:
    v->nomem = 1;
}

static void path_index(validator *v, size_t index)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "/%zu", index);
    if (gc_buf_append(&v->path, tmp, (size_t)n) < 0)
        v->nomem = 1;
}

/* "/<map>/<key>" and optionally "/<field>". */
static void path_entity(validator *v, int kind, const char *key, const char *field)
{
    path_reset(v);
    path_key(v, kind_map[kind]);
    path_key(v, key);
    if (field != NULL)
        path_key(v, field);
}

/* ---- small helpers ------------------------------------------------ */

/* What a JSON value is, for messages: the first test that holds names it. */
static const struct {
    cJSON_bool (*is)(const cJSON *const item);
    const char *name;
} type_names[] = {
    {cJSON_IsString, "a string"},
    {cJSON_IsNumber, "a number"},
    {cJSON_IsBool, "a boolean"},
    {cJSON_IsNull, "null"},
    {cJSON_IsArray, "an array"},
    {cJSON_IsObject, "an object"},
};

static const char *type_name(const cJSON *item)
{
    const char *name = "nothing";
    size_t i;

    if (item != NULL) {
        name = "an unknown value";
        for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
            if (type_names[i].is(item)) {
                name = type_names[i].name;
                break;
            }
        }
    }
    return name;
}

static const char *str_value(const cJSON *item)
{
    return item->valuestring ? item->valuestring : "";
}

static int table_init(table *t, uint32_t n)
{
    size_t cap = 8;
    while (cap < (size_t)n * 2)
        cap *= 2;
    t->slots = calloc(cap, sizeof *t->slots);
    t->mask = cap - 1;
    return t->slots ? 0 : -1;
}

/* Index of key in kind d, or -1. */
static long lookup(const kind_data *d, const char *key)
{
    uint32_t h = hash_str(key);
    size_t i = h & d->tab.mask;
    const slot *s;

    if (d->tab.slots == NULL)
        return -1;
    for (;;) {
        s = &d->tab.slots[i];
        if (s->index1 == 0)
            return -1;
        if (s->hash == h && strcmp(d->keys[s->index1 - 1], key) == 0)
            return (long)(s->index1 - 1);
        i = (i + 1) & d->tab.mask;
    }
}

/* Insert key as entity n; returns the existing index when already there. */
static long insert(kind_data *d, const char *key, uint32_t n)
{
    uint32_t h = hash_str(key);
    size_t i = h & d->tab.mask;
    slot *s;

    for (;;) {
        s = &d->tab.slots[i];
        if (s->index1 == 0) {
            s->index1 = n + 1;
            s->hash = h;
            return -1;
        }
        if (s->hash == h && strcmp(d->keys[s->index1 - 1], key) == 0)
            return (long)(s->index1 - 1);
        i = (i + 1) & d->tab.mask;
    }
}

static int rel_init(rel *r, uint32_t n_sources)
{
    r->off = calloc((size_t)n_sources + 1, sizeof *r->off);
    return r->off ? 0 : -1;
}

static int rel_add(rel *r, uint32_t target, uint32_t pos)
{
    edge *e;
    size_t cap;

    if (r->len == r->cap) {
        cap = r->cap ? r->cap * 2 : 64;
        e = realloc(r->e, cap * sizeof *e);
        if (e == NULL)
            return -1;
        r->e = e;
        r->cap = cap;
    }
    r->e[r->len].target = target;
    r->e[r->len].pos = pos;
    r->len++;
    return 0;
}

/* ---- top level ----------------------------------------------------- */

static int kind_of_map(const char *name)
{
    int kind;
    for (kind = 0; kind < K_COUNT; kind++)
        if (strcmp(name, kind_map[kind]) == 0)
            return kind;
    return -1;
}

static void check_top(validator *v, const cJSON *root)
{
    const cJSON *child, *set_id = NULL, *store_id = NULL;
    const char *name;
    int kind, seen[K_COUNT] = {0};

    for (child = root->child; child; child = child->next) {
        name = child->string ? child->string : "";
        kind = kind_of_map(name);
        if (kind < 0) {
            if (strcmp(name, "catalogSetId") == 0 && set_id == NULL)
                set_id = child;
            else if (strcmp(name, "storeId") == 0 && store_id == NULL)
                store_id = child;
            continue;
        }
        if (seen[kind]++) {
            path_reset(v);
            path_key(v, name);
            issue(v, "duplicate_id", ERR,
                  "the CatalogSet has the key '%s' twice; only the first is used, "
                  "merge them into one object", name);
            continue;
        }
        if (!cJSON_IsObject(child)) {
            path_reset(v);
            path_key(v, name);
            issue(v, "wrong_type", ERR,
                  "'%s' must be an object mapping each %s to its %s, not %s; "
                  "write it as {\"<%s>\": {...}, ...}",
                  name, kind_id_field[kind], kind_noun[kind], type_name(child), kind_id_field[kind]);
            v->k[kind].broken = 1;
            continue;
        }
        v->k[kind].map = child;
    }
    for (kind = 0; kind < K_COUNT; kind++) {
        if (seen[kind])
            continue;
        path_reset(v);
        path_key(v, kind_map[kind]);
        issue(v, "missing_field", ERR,
              "the CatalogSet has no '%s'; add it as an object (it may be empty: {})",
              kind_map[kind]);
        v->k[kind].broken = 1;
    }
    if (set_id == NULL || store_id == NULL || !cJSON_IsString(set_id) || !cJSON_IsString(store_id)) {
        const char *fields[2] = {"catalogSetId", "storeId"};
        const cJSON *values[2];
        int i;
        values[0] = set_id;
        values[1] = store_id;
        for (i = 0; i < 2; i++) {
            path_reset(v);
            path_key(v, fields[i]);
            if (values[i] == NULL)
                issue(v, "missing_field", ERR,
                      "the CatalogSet has no '%s'; add it as a string", fields[i]);
            else if (!cJSON_IsString(values[i]))
                issue(v, "wrong_type", ERR, "'%s' must be a string, not %s",
                      fields[i], type_name(values[i]));
        }
    }
}

/* Fill the entity table of one kind; report duplicate keys and values that
 * are not objects. */
static int index_kind(validator *v, int kind)
{
    kind_data *d = &v->k[kind];
    const cJSON *child;
    const char *key;
    uint32_t count = 0;
    long existing;

    if (d->map != NULL)
        for (child = d->map->child; child; child = child->next)
            count++;
    d->keys = malloc(((size_t)count + 1) * sizeof *d->keys);
    d->objs = malloc(((size_t)count + 1) * sizeof *d->objs);
    d->stamp = calloc((size_t)count + 1, sizeof *d->stamp);
    d->first_pos = malloc(((size_t)count + 1) * sizeof *d->first_pos);
    if (d->keys == NULL || d->objs == NULL || d->stamp == NULL || d->first_pos == NULL ||
        table_init(&d->tab, count) < 0)
        return -1;
    if (d->map == NULL)
        return 0;
    for (child = d->map->child; child; child = child->next) {
        key = child->string ? child->string : "";
        d->keys[d->n] = key;
        existing = insert(d, key, d->n);
        if (existing >= 0) {
            path_entity(v, kind, key, NULL);
            issue(v, "duplicate_id", ERR,
                  "%s '%s' appears twice in /%s; only the first is used, remove or rename the other",
                  kind_noun[kind], show(v, 0, key), kind_map[kind]);
            continue;
        }
        if (!cJSON_IsObject(child)) {
            path_entity(v, kind, key, NULL);
            issue(v, "wrong_type", ERR, "%s '%s' must be an object, not %s",
                  kind_noun[kind], show(v, 0, key), type_name(child));
            d->objs[d->n] = NULL;
            v->graph_incomplete = 1;
        } else {
            d->objs[d->n] = child;
        }
        d->n++;
    }
    return 0;
}

/* ---- entity fields ------------------------------------------------- */

/* The fields an entity may carry; unknown ones are ignored so newer
 * catalogs still validate. */
typedef struct fields {
    const cJSON *id, *name, *description, *section_ids, *item_ids, *group_ids;
    const cJSON *availability, *base_price, *image_url, *min, *max;
} fields;

/* Fill *slot with c when c is the field `name` and *slot is still empty:
 * the first occurrence of a repeated field wins, like a map lookup. */
static int take(const cJSON **slot, const cJSON *c, const char *name)
{
    if (*slot != NULL || strcmp(c->string, name) != 0)
        return 0;
    *slot = c;
    return 1;
}

static void collect_fields(const cJSON *obj, int kind, fields *f)
{
    const cJSON *c;

    memset(f, 0, sizeof *f);
    for (c = obj->child; c; c = c->next) {
        if (c->string == NULL)
            continue;
        if (strcmp(c->string, kind_id_field[kind]) == 0) {
            if (f->id == NULL)
                f->id = c;
            continue;
        }
        (void)(take(&f->name, c, "name") || take(&f->description, c, "description") ||
               take(&f->section_ids, c, "sectionIds") || take(&f->item_ids, c, "itemIds") ||
               take(&f->group_ids, c, "modifierGroupIds") ||
               take(&f->availability, c, "availability") ||
               take(&f->base_price, c, "basePrice") || take(&f->image_url, c, "imageUrl") ||
               take(&f->min, c, "minimumAllowed") || take(&f->max, c, "maximumAllowed"));
    }
}

static void check_id_and_name(validator *v, int kind, const char *key, const fields *f)
{
    const char *id_field = kind_id_field[kind];

    if (f->id == NULL) {
        path_entity(v, kind, key, id_field);
        issue(v, "missing_field", ERR, "%s '%s' has no '%s'; add \"%s\": \"%s\"",
              kind_noun[kind], show(v, 0, key), id_field, id_field, show(v, 1, key));
    } else if (!cJSON_IsString(f->id)) {
        path_entity(v, kind, key, id_field);
        issue(v, "wrong_type", ERR, "%s '%s': '%s' must be a string equal to its key, not %s",
              kind_noun[kind], show(v, 0, key), id_field, type_name(f->id));
    } else if (strcmp(str_value(f->id), key) != 0) {
        path_entity(v, kind, key, id_field);
        issue(v, "key_mismatch", ERR,
              "%s stored under key '%s' says its %s is '%s'; the key and the id must be equal, "
              "rename one of them",
              kind_noun[kind], show(v, 0, key), id_field, show(v, 1, str_value(f->id)));
    }
    if (f->name == NULL) {
        path_entity(v, kind, key, "name");
        issue(v, "missing_field", ERR, "%s '%s' has no 'name'; add a display name",
              kind_noun[kind], show(v, 0, key));
    } else if (!cJSON_IsString(f->name)) {
        path_entity(v, kind, key, "name");
        issue(v, "wrong_type", ERR, "%s '%s': 'name' must be a string, not %s",
              kind_noun[kind], show(v, 0, key), type_name(f->name));
    }
}

/* An optional string field: absent or null is fine. */
static void check_optional_string(validator *v, int kind, const char *key, const char *field,
                                  const cJSON *value)
{
    if (value == NULL || cJSON_IsNull(value) || cJSON_IsString(value))
        return;
    path_entity(v, kind, key, field);
    issue(v, "wrong_type", ERR, "%s '%s': '%s' must be a string, not %s",
          kind_noun[kind], show(v, 0, key), field, type_name(value));
}

/* Walk one id list (sectionIds, itemIds, modifierGroupIds): types,
 * dangling ids, repeats; valid references become edges of r.  Returns the
 * number of distinct entries (for min_exceeds_choices). */
static uint32_t check_id_list(validator *v, int kind, const char *key, const char *field,
                              const cJSON *list, int target_kind, rel *r)
{
    kind_data *target = &v->k[target_kind];
    const cJSON *el;
    uint32_t pos = 0, distinct = 0, stamp;
    long t;

    if (list == NULL || cJSON_IsNull(list))
        return 0;
    if (!cJSON_IsArray(list)) {
        v->graph_incomplete = 1;
        path_entity(v, kind, key, field);
        issue(v, "wrong_type", ERR, "%s '%s': '%s' must be an array of %s ids, not %s",
              kind_noun[kind], show(v, 0, key), field, kind_noun[target_kind], type_name(list));
        return 0;
    }
    stamp = ++v->list_stamp;
    for (el = list->child; el; el = el->next, pos++) {
        if (!cJSON_IsString(el)) {
            v->graph_incomplete = 1;
            path_entity(v, kind, key, field);
            path_index(v, pos);
            issue(v, "wrong_type", ERR, "%s '%s': %s[%u] must be a string id from /%s, not %s",
                  kind_noun[kind], show(v, 0, key), field, pos, kind_map[target_kind],
                  type_name(el));
            continue;
        }
        t = lookup(target, str_value(el));
        if (t < 0) {
            distinct++;
            if (target->broken)
                continue;   /* the missing map itself was reported */
            path_entity(v, kind, key, field);
            path_index(v, pos);
            issue(v, "dangling_reference", ERR,
                  "%s '%s' lists %s '%s' in %s[%u], but there is no %s '%s' in /%s; "
                  "add it or remove the reference",
                  kind_noun[kind], show(v, 0, key), kind_noun[target_kind],
                  show(v, 1, str_value(el)), field, pos, kind_noun[target_kind],
                  show(v, 2, str_value(el)), kind_map[target_kind]);
            continue;
        }
        if (target->stamp[t] == stamp) {
            path_entity(v, kind, key, field);
            path_index(v, pos);
            issue(v, "duplicate_id", ERR,
                  "%s '%s' lists %s '%s' twice in %s (at %u and %u); remove the repeat",
                  kind_noun[kind], show(v, 0, key), kind_noun[target_kind],
                  show(v, 1, str_value(el)), field, target->first_pos[t], pos);
            continue;
        }
        target->stamp[t] = stamp;
        target->first_pos[t] = pos;
        distinct++;
        if (r != NULL && rel_add(r, (uint32_t)t, pos) < 0)
            v->nomem = 1;
    }
    return distinct;
}

/* "HH:mm:ss" -> seconds since midnight, or -1. */
static long parse_time(const char *s)
{
    int i;
    long hh, mm, ss;

    for (i = 0; i < 8; i++) {
        if (i == 2 || i == 5) {
            if (s[i] != ':')
                return -1;
        } else if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
    }
    if (s[8] != '\0')
        return -1;
    hh = (s[0] - '0') * 10 + (s[1] - '0');
    mm = (s[3] - '0') * 10 + (s[4] - '0');
    ss = (s[6] - '0') * 10 + (s[7] - '0');
    if (hh > 23 || mm > 59 || ss > 59)
        return -1;
    return hh * 3600 + mm * 60 + ss;
}

static int parse_day(const cJSON *value)
{
    int d;
    if (!cJSON_IsString(value))
        return -1;
    for (d = 0; d < 7; d++)
        if (strcmp(str_value(value), day_names[d]) == 0)
            return d;
    return -1;
}

static void window_path(validator *v, const char *key, uint32_t index, const char *field)
{
    path_entity(v, K_CATALOG, key, "availability");
    path_index(v, index);
    if (field != NULL)
        path_key(v, field);
}

static long check_time_field(validator *v, const char *key, uint32_t index, const char *field,
                             const cJSON *value)
{
    long t;

    if (value == NULL) {
        window_path(v, key, index, field);
        issue(v, "missing_field", ERR,
              "catalog '%s': availability[%u] has no '%s'; add it as \"HH:mm:ss\"",
              show(v, 0, key), index, field);
        return -1;
    }
    t = cJSON_IsString(value) ? parse_time(str_value(value)) : -1;
    if (t < 0) {
        window_path(v, key, index, field);
        if (cJSON_IsString(value))
            issue(v, "invalid_time", ERR,
                  "catalog '%s': availability[%u].%s is '%s'; write it as \"HH:mm:ss\" "
                  "(00-23 hours, 00-59 minutes and seconds), e.g. \"09:30:00\"",
                  show(v, 0, key), index, field, show(v, 1, str_value(value)));
        else
            issue(v, "invalid_time", ERR,
                  "catalog '%s': availability[%u].%s must be a \"HH:mm:ss\" string, not %s",
                  show(v, 0, key), index, field, type_name(value));
    }
    return t;
}

static void check_availability(validator *v, const char *key, const cJSON *avail)
{
    const cJSON *w, *c, *day_v, *start_v, *end_v;
    uint32_t index = 0;
    long start, end;
    int day;

    if (avail == NULL || cJSON_IsNull(avail) || (cJSON_IsArray(avail) && avail->child == NULL)) {
        path_entity(v, K_CATALOG, key, "availability");
        issue(v, "never_open", WARN,
              "catalog '%s' has %s availability, so it is never open (availability is "
              "fail-closed); add a {dayOfWeek, start, end} window for each day it is served "
              "(one per day for 24/7)",
              show(v, 0, key), avail == NULL ? "no" : cJSON_IsNull(avail) ? "null" : "empty");
        return;
    }
    if (!cJSON_IsArray(avail)) {
        path_entity(v, K_CATALOG, key, "availability");
        issue(v, "wrong_type", ERR,
              "catalog '%s': 'availability' must be an array of {dayOfWeek, start, end}, not %s",
              show(v, 0, key), type_name(avail));
        return;
    }
    for (w = avail->child; w; w = w->next, index++) {
        if (!cJSON_IsObject(w)) {
            window_path(v, key, index, NULL);
            issue(v, "wrong_type", ERR,
                  "catalog '%s': availability[%u] must be an object {dayOfWeek, start, end}, not %s",
                  show(v, 0, key), index, type_name(w));
            continue;
        }
        day_v = start_v = end_v = NULL;
        for (c = w->child; c; c = c->next) {
            if (c->string == NULL)
                continue;
            if (day_v == NULL && strcmp(c->string, "dayOfWeek") == 0)
                day_v = c;
            else if (start_v == NULL && strcmp(c->string, "start") == 0)
                start_v = c;
            else if (end_v == NULL && strcmp(c->string, "end") == 0)
                end_v = c;
        }
        day = -1;
        if (day_v == NULL) {
            window_path(v, key, index, "dayOfWeek");
            issue(v, "missing_field", ERR,
                  "catalog '%s': availability[%u] has no 'dayOfWeek'; add one of "
                  "Sunday, Monday, ..., Saturday", show(v, 0, key), index);
        } else if ((day = parse_day(day_v)) < 0) {
            window_path(v, key, index, "dayOfWeek");
            if (cJSON_IsString(day_v))
                issue(v, "invalid_day_of_week", ERR,
                      "catalog '%s': availability[%u].dayOfWeek is '%s'; use a capitalised "
                      "English day name: Sunday, Monday, Tuesday, Wednesday, Thursday, Friday "
                      "or Saturday", show(v, 0, key), index, show(v, 1, str_value(day_v)));
            else
                issue(v, "invalid_day_of_week", ERR,
                      "catalog '%s': availability[%u].dayOfWeek must be a day name such as "
                      "\"Monday\", not %s", show(v, 0, key), index, type_name(day_v));
        }
        start = check_time_field(v, key, index, "start", start_v);
        end = check_time_field(v, key, index, "end", end_v);
        if (start >= 0 && end > 0 && end < start) {
            window_path(v, key, index, "end");
            if (day >= 0)
                issue(v, "overnight_window", ERR,
                      "catalog '%s': availability[%u] runs %s %s-%s past midnight; split it "
                      "into {%s, %s, 00:00:00} and {%s, 00:00:00, %s}",
                      show(v, 0, key), index, day_names[day], str_value(start_v),
                      str_value(end_v), day_names[day], str_value(start_v),
                      day_names[(day + 1) % 7], str_value(end_v));
            else
                issue(v, "overnight_window", ERR,
                      "catalog '%s': availability[%u] ends (%s) before it starts (%s); split "
                      "an overnight window into one ending at 00:00:00 and one on the next "
                      "day starting at 00:00:00",
                      show(v, 0, key), index, str_value(end_v), str_value(start_v));
        }
    }
}

static void check_price(validator *v, const char *key, const cJSON *price)
{
    if (price == NULL) {
        path_entity(v, K_ITEM, key, "basePrice");
        issue(v, "missing_field", ERR,
              "item '%s' has no 'basePrice'; add its price as a JSON number in major units "
              "(e.g. 4.5, or 0 for a free choice)", show(v, 0, key));
    } else if (!cJSON_IsNumber(price)) {
        path_entity(v, K_ITEM, key, "basePrice");
        issue(v, "invalid_price", ERR,
              "item '%s': 'basePrice' must be a JSON number (e.g. 4.5), not %s",
              show(v, 0, key), type_name(price));
    } else if (!isfinite(price->valuedouble)) {
        path_entity(v, K_ITEM, key, "basePrice");
        issue(v, "invalid_price", ERR,
              "item '%s': 'basePrice' is not a finite number; give a price such as 4.5",
              show(v, 0, key));
    } else if (price->valuedouble < 0) {
        path_entity(v, K_ITEM, key, "basePrice");
        issue(v, "invalid_price", ERR,
              "item '%s': 'basePrice' is %g; prices must be >= 0 (use 0 for a free choice)",
              show(v, 0, key), price->valuedouble);
    }
}

/* minimumAllowed / maximumAllowed: absent or null takes the default;
 * returns the value, or -1 when it is unusable (already reported). */
static double check_limit(validator *v, const char *key, const char *field, const cJSON *value,
                          double fallback)
{
    double x;

    if (value == NULL || cJSON_IsNull(value))
        return fallback;
    path_entity(v, K_GROUP, key, field);
    if (!cJSON_IsNumber(value)) {
        issue(v, "invalid_min_max", ERR,
              "modifier group '%s': '%s' must be a whole number >= 0, not %s",
              show(v, 0, key), field, type_name(value));
        return -1;
    }
    x = value->valuedouble;
    if (!isfinite(x) || x < 0 || x != floor(x) || x > GC_MAX_EXACT_INT) {
        issue(v, "invalid_min_max", ERR,
              "modifier group '%s': '%s' is %g; it must be a whole number >= 0",
              show(v, 0, key), field, x);
        return -1;
    }
    return x;
}

static void check_entity(validator *v, int kind, uint32_t index)
{
    kind_data *d = &v->k[kind];
    const char *key = d->keys[index];
    const cJSON *obj = d->objs[index];
    fields f;
    uint32_t choices;
    double min, max;
    int r;

    /* Every relation of this kind gets its offset, even when obj is bad,
     * so the CSR arrays stay aligned with the entity indexes. */
    for (r = 0; r < R_COUNT; r++) {
        int src = r == R_CAT_SECTIONS ? K_CATALOG
                : (r == R_SEC_SECTIONS || r == R_SEC_ITEMS) ? K_SECTION
                : r == R_ITEM_GROUPS ? K_ITEM : K_GROUP;
        if (src == kind)
            v->r[r].off[index] = (uint32_t)v->r[r].len;
    }
    if (obj == NULL)
        return;
    collect_fields(obj, kind, &f);
    check_id_and_name(v, kind, key, &f);
    check_optional_string(v, kind, key, "description", f.description);
    switch (kind) {
    case K_CATALOG:
        check_id_list(v, kind, key, "sectionIds", f.section_ids, K_SECTION, &v->r[R_CAT_SECTIONS]);
        check_availability(v, key, f.availability);
        break;
    case K_SECTION:
        check_id_list(v, kind, key, "sectionIds", f.section_ids, K_SECTION, &v->r[R_SEC_SECTIONS]);
        check_id_list(v, kind, key, "itemIds", f.item_ids, K_ITEM, &v->r[R_SEC_ITEMS]);
        break;
    case K_ITEM:
        check_price(v, key, f.base_price);
        check_optional_string(v, kind, key, "imageUrl", f.image_url);
        check_id_list(v, kind, key, "modifierGroupIds", f.group_ids, K_GROUP, &v->r[R_ITEM_GROUPS]);
        break;
    case K_GROUP:
        choices = check_id_list(v, kind, key, "itemIds", f.item_ids, K_ITEM, &v->r[R_GROUP_ITEMS]);
        min = check_limit(v, key, "minimumAllowed", f.min, 0);
        max = check_limit(v, key, "maximumAllowed", f.max, (double)choices);
        if (min >= 0 && max >= 0 && max < min && f.max != NULL && !cJSON_IsNull(f.max)) {
            path_entity(v, K_GROUP, key, "maximumAllowed");
            issue(v, "invalid_min_max", ERR,
                  "modifier group '%s': maximumAllowed (%.0f) is below minimumAllowed (%.0f); "
                  "raise the maximum or lower the minimum",
                  show(v, 0, key), max, min);
        }
        if (min > (double)choices) {
            path_entity(v, K_GROUP, key, "minimumAllowed");
            issue(v, "min_exceeds_choices", ERR,
                  "modifier group '%s': minimumAllowed (%.0f) exceeds the %u choices in itemIds, "
                  "so no order can satisfy it with only %u to pick from; add choices or lower "
                  "minimumAllowed",
                  show(v, 0, key), min, choices, choices);
        }
        break;
    default:
        break;
    }
}

/* ---- cycles (iterative depth-first search) ------------------------- */

/* A graph over one or two kinds: sections alone, or items then groups. */
typedef struct graph_part {
    int kind;
    const char *field;
    rel *r;
    uint32_t base;          /* node number of this kind's entity 0 */
    uint32_t target_base;   /* node number of the target kind's entity 0 */
} graph_part;

typedef struct graph {
    graph_part part[2];
    int n_parts;
    uint32_t n_nodes;
    const char *code;
} graph;

static const graph_part *part_of(const graph *g, uint32_t node)
{
    return (g->n_parts == 2 && node >= g->part[1].base) ? &g->part[1] : &g->part[0];
}

static void append_node_label(validator *v, const graph *g, uint32_t node)
{
    const graph_part *p = part_of(g, node);
    const char *key = v->k[p->kind].keys[node - p->base];
    char label[GC_SHOW_MAX + 32];

    if (g->n_parts == 2)
        snprintf(label, sizeof label, "%s '%s'", p->kind == K_ITEM ? "item" : "group",
                 show(v, 0, key));
    else
        snprintf(label, sizeof label, "'%s'", show(v, 0, key));
    if (gc_buf_append_str(&v->scratch, label) < 0)
        v->nomem = 1;
}

/* A back edge from u (at list position pos) to t, which is on the stack at
 * stack_index: the stack from there up to u, then t again, is the cycle. */
static void report_cycle(validator *v, const graph *g, const uint32_t *stack, size_t top,
                         size_t stack_index, uint32_t u, uint32_t pos, uint32_t t)
{
    const graph_part *pu = part_of(g, u), *pt = part_of(g, t);
    const char *ukey = v->k[pu->kind].keys[u - pu->base];
    const char *tkey = v->k[pt->kind].keys[t - pt->base];
    size_t length = top - stack_index, i;
    char skipped[64];

    gc_buf_clear(&v->scratch);
    for (i = stack_index; i < top; i++) {
        if (length > GC_CYCLE_SHOW && i == stack_index + GC_CYCLE_SHOW / 2) {
            snprintf(skipped, sizeof skipped, "... (%zu more) -> ",
                     length - GC_CYCLE_SHOW);
            if (gc_buf_append_str(&v->scratch, skipped) < 0)
                v->nomem = 1;
            i = top - GC_CYCLE_SHOW / 2;
        }
        append_node_label(v, g, stack[i]);
        if (gc_buf_append_str(&v->scratch, " -> ") < 0)
            v->nomem = 1;
    }
    append_node_label(v, g, t);
    if (v->nomem)
        return;
    path_entity(v, pu->kind, ukey, pu->field);
    path_index(v, pos);
    if (g->n_parts == 1)
        issue(v, g->code, ERR,
              "section '%s' lists section '%s' in sectionIds[%u], which closes a cycle of %zu "
              "section%s: %s; sections must nest as a tree, remove one of these references",
              show(v, 1, ukey), show(v, 2, tkey), pos, length, length == 1 ? "" : "s",
              v->scratch.data);
    else
        issue(v, g->code, ERR,
              "%s '%s' lists %s '%s' in %s[%u], which closes a modifier cycle: %s; a choice "
              "cannot lead back to an item it modifies, remove one of these references",
              kind_noun[pu->kind], show(v, 1, ukey), kind_noun[pt->kind], show(v, 2, tkey),
              pu->field, pos, v->scratch.data);
}

/* Report every back edge once.  Roots are tried in the order given, then
 * every node, so cycles unreachable from any catalog are found as well. */
static int find_cycles(validator *v, const graph *g, const uint32_t *roots, size_t n_roots)
{
    uint8_t *color = NULL;              /* 0 new, 1 on stack, 2 done */
    uint32_t *stack = NULL, *cursor = NULL, *stack_index = NULL;
    size_t top = 0, ri, total = n_roots + g->n_nodes;
    uint32_t root, u, t, src;
    const graph_part *p;
    const edge *e;
    int rc = -1;

    color = calloc((size_t)g->n_nodes + 1, 1);
    stack = malloc(((size_t)g->n_nodes + 1) * sizeof *stack);
    cursor = malloc(((size_t)g->n_nodes + 1) * sizeof *cursor);
    stack_index = malloc(((size_t)g->n_nodes + 1) * sizeof *stack_index);
    if (color == NULL || stack == NULL || cursor == NULL || stack_index == NULL)
        goto cleanup;
    for (ri = 0; ri < total && !v->nomem; ri++) {
        root = ri < n_roots ? roots[ri] : (uint32_t)(ri - n_roots);
        if (color[root])
            continue;
        p = part_of(g, root);
        color[root] = 1;
        stack_index[root] = (uint32_t)top;
        cursor[top] = p->r->off[root - p->base];
        stack[top++] = root;
        while (top > 0 && !v->nomem) {
            u = stack[top - 1];
            p = part_of(g, u);
            src = u - p->base;
            if (cursor[top - 1] >= p->r->off[src + 1]) {
                color[u] = 2;
                top--;
                continue;
            }
            e = &p->r->e[cursor[top - 1]++];
            t = e->target + p->target_base;
            if (color[t] == 0) {
                const graph_part *pt = part_of(g, t);
                color[t] = 1;
                stack_index[t] = (uint32_t)top;
                cursor[top] = pt->r->off[t - pt->base];
                stack[top++] = t;
            } else if (color[t] == 1) {
                report_cycle(v, g, stack, top, stack_index[t], u, e->pos, t);
            }
        }
    }
    rc = 0;
cleanup:
    free(color);
    free(stack);
    free(cursor);
    free(stack_index);
    return rc;
}

static int check_cycles(validator *v)
{
    graph g;
    uint32_t *roots = NULL;
    size_t i, n_roots = v->r[R_CAT_SECTIONS].len;
    int rc = -1;

    /* Sections, starting from the catalogs so the reported edge is the one
     * that closes the loop as a reader walks down the menu. */
    roots = malloc((n_roots + 1) * sizeof *roots);
    if (roots == NULL)
        goto cleanup;
    for (i = 0; i < n_roots; i++)
        roots[i] = v->r[R_CAT_SECTIONS].e[i].target;
    memset(&g, 0, sizeof g);
    g.n_parts = 1;
    g.part[0].kind = K_SECTION;
    g.part[0].field = "sectionIds";
    g.part[0].r = &v->r[R_SEC_SECTIONS];
    g.n_nodes = v->k[K_SECTION].n;
    g.code = "section_cycle";
    if (find_cycles(v, &g, roots, n_roots) < 0)
        goto cleanup;

    /* Items and modifier groups: item -> group -> item. */
    memset(&g, 0, sizeof g);
    g.n_parts = 2;
    g.part[0].kind = K_ITEM;
    g.part[0].field = "modifierGroupIds";
    g.part[0].r = &v->r[R_ITEM_GROUPS];
    g.part[0].base = 0;
    g.part[0].target_base = v->k[K_ITEM].n;
    g.part[1].kind = K_GROUP;
    g.part[1].field = "itemIds";
    g.part[1].r = &v->r[R_GROUP_ITEMS];
    g.part[1].base = v->k[K_ITEM].n;
    g.part[1].target_base = 0;
    g.n_nodes = v->k[K_ITEM].n + v->k[K_GROUP].n;
    g.code = "modifier_cycle";
    if (find_cycles(v, &g, NULL, 0) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    free(roots);
    return rc;
}

/* ---- reachability (breadth-first from every catalog) ---------------- */

static int check_reachable(validator *v)
{
    uint32_t ns = v->k[K_SECTION].n, ni = v->k[K_ITEM].n, ng = v->k[K_GROUP].n;
    size_t n = (size_t)ns + ni + ng, head = 0, tail = 0, i;
    uint8_t *seen = NULL;
    uint32_t *queue = NULL, node;
    const rel *r;
    uint32_t c, j;
    int kind, rc = -1;

    seen = calloc(n + 1, 1);
    queue = malloc((n + 1) * sizeof *queue);
    if (seen == NULL || queue == NULL)
        goto cleanup;
    /* Node numbers: sections, then items, then groups. */
#define VISIT(node_) do { uint32_t n_ = (node_); if (!seen[n_]) { seen[n_] = 1; queue[tail++] = n_; } } while (0)
    for (c = 0; c < v->r[R_CAT_SECTIONS].len; c++)
        VISIT(v->r[R_CAT_SECTIONS].e[c].target);
    while (head < tail) {
        node = queue[head++];
        if (node < ns) {
            r = &v->r[R_SEC_SECTIONS];
            for (j = r->off[node]; j < r->off[node + 1]; j++)
                VISIT(r->e[j].target);
            r = &v->r[R_SEC_ITEMS];
            for (j = r->off[node]; j < r->off[node + 1]; j++)
                VISIT(ns + r->e[j].target);
        } else if (node < ns + ni) {
            r = &v->r[R_ITEM_GROUPS];
            for (j = r->off[node - ns]; j < r->off[node - ns + 1]; j++)
                VISIT(ns + ni + r->e[j].target);
        } else {
            r = &v->r[R_GROUP_ITEMS];
            for (j = r->off[node - ns - ni]; j < r->off[node - ns - ni + 1]; j++)
                VISIT(ns + r->e[j].target);
        }
    }
#undef VISIT
    for (i = 0; i < n && !v->nomem; i++) {
        uint32_t index;
        if (seen[i])
            continue;
        if (i < ns) {
            kind = K_SECTION;
            index = (uint32_t)i;
        } else if (i < (size_t)ns + ni) {
            kind = K_ITEM;
            index = (uint32_t)(i - ns);
        } else {
            kind = K_GROUP;
            index = (uint32_t)(i - ns - ni);
        }
        if (v->k[kind].objs[index] == NULL)
            continue;   /* not an object: already an error */
        path_entity(v, kind, v->k[kind].keys[index], NULL);
        if (kind == K_SECTION)
            issue(v, "unreachable", WARN,
                  "section '%s' is not reachable from any catalog, so customers never see it; "
                  "list it in a catalog's or section's sectionIds, or remove it",
                  show(v, 0, v->k[kind].keys[index]));
        else if (kind == K_ITEM)
            issue(v, "unreachable", WARN,
                  "item '%s' is not reachable from any catalog (no reachable section or "
                  "modifier group lists it), so it cannot be ordered; list it or remove it",
                  show(v, 0, v->k[kind].keys[index]));
        else
            issue(v, "unreachable", WARN,
                  "modifier group '%s' is not used by any item reachable from a catalog; "
                  "add it to an item's modifierGroupIds or remove it",
                  show(v, 0, v->k[kind].keys[index]));
    }
    rc = 0;
cleanup:
    free(seen);
    free(queue);
    return rc;
}

/* ---- entry points --------------------------------------------------- */

/* The last entry when issues were left unlisted: the total, and whether
 * errors are among the unlisted (else the entry is only a warning, so a
 * catalog with thousands of warnings stays valid). */
static void add_overflow_issue(validator *v)
{
    size_t unlisted = v->found - GC_MAX_ISSUES;
    size_t unlisted_warnings = unlisted - v->unlisted_errors;

    path_reset(v);
    record_listed(v, "too_many_issues", v->unlisted_errors ? GC_SEV_ERROR : GC_SEV_WARNING,
                  "the CatalogSet has %zu issues in total; only the first %d are listed, the "
                  "other %zu (%zu error%s, %zu warning%s) are not; fix these and validate again",
                  v->found, GC_MAX_ISSUES, unlisted,
                  v->unlisted_errors, v->unlisted_errors == 1 ? "" : "s",
                  unlisted_warnings, unlisted_warnings == 1 ? "" : "s");
}

int gc_catalog_validate_tree(const cJSON *root, gc_issue_list *out)
{
    validator v;
    int kind, r, rc = -1;
    uint32_t i, n_src;

    memset(&v, 0, sizeof v);
    v.out = out;
    if (root == NULL || !cJSON_IsObject(root)) {
        issue(&v, "wrong_type", ERR,
              "a CatalogSet must be a JSON object with catalogSetId, storeId, catalogs, "
              "sections, items and modifierGroups, not %s", type_name(root));
        rc = v.nomem ? -1 : 0;
        goto cleanup;
    }
    check_top(&v, root);
    for (kind = 0; kind < K_COUNT; kind++)
        if (index_kind(&v, kind) < 0)
            goto cleanup;
    for (r = 0; r < R_COUNT; r++) {
        n_src = r == R_CAT_SECTIONS ? v.k[K_CATALOG].n
              : (r == R_SEC_SECTIONS || r == R_SEC_ITEMS) ? v.k[K_SECTION].n
              : r == R_ITEM_GROUPS ? v.k[K_ITEM].n : v.k[K_GROUP].n;
        if (rel_init(&v.r[r], n_src) < 0)
            goto cleanup;
    }
    for (kind = 0; kind < K_COUNT && !v.nomem; kind++) {
        for (i = 0; i < v.k[kind].n && !v.nomem; i++)
            check_entity(&v, kind, i);
        /* Close each relation whose sources are this kind. */
        for (r = 0; r < R_COUNT; r++) {
            int src = r == R_CAT_SECTIONS ? K_CATALOG
                    : (r == R_SEC_SECTIONS || r == R_SEC_ITEMS) ? K_SECTION
                    : r == R_ITEM_GROUPS ? K_ITEM : K_GROUP;
            if (src == kind)
                v.r[r].off[v.k[kind].n] = (uint32_t)v.r[r].len;
        }
    }
    if (v.nomem)
        goto cleanup;
    if (check_cycles(&v) < 0 || v.nomem)
        goto cleanup;
    /* With a map, an entity or an id list unreadable the reference graph is
     * incomplete, and "unreachable" would only echo errors already given. */
    if (!v.graph_incomplete && !v.k[K_CATALOG].broken && !v.k[K_SECTION].broken &&
        !v.k[K_ITEM].broken && !v.k[K_GROUP].broken &&
        (check_reachable(&v) < 0 || v.nomem))
        goto cleanup;
    if (v.found > GC_MAX_ISSUES)
        add_overflow_issue(&v);
    rc = 0;
cleanup:
    if (v.nomem)
        rc = -1;
    for (kind = 0; kind < K_COUNT; kind++) {
        free(v.k[kind].keys);
        free(v.k[kind].objs);
        free(v.k[kind].stamp);
        free(v.k[kind].first_pos);
        free(v.k[kind].tab.slots);
    }
    for (r = 0; r < R_COUNT; r++) {
        free(v.r[r].off);
        free(v.r[r].e);
    }
    gc_buf_free(&v.path);
    gc_buf_free(&v.scratch);
    return rc;
}

/* How data ends: inside a string (and where it opened), or with arrays or
 * objects still open. */
typedef struct json_tail {
    int in_string;
    size_t string_start;
    size_t depth;
} json_tail;

static json_tail scan_tail(const char *data, size_t len)
{
    json_tail tail = {0, 0, 0};
    int escaped = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        char ch = data[i];
        if (tail.in_string) {
            if (escaped)
                escaped = 0;
            else if (ch == '\\')
                escaped = 1;
            else if (ch == '"')
                tail.in_string = 0;
        } else if (ch == '"') {
            tail.in_string = 1;
            tail.string_start = i;
        } else if (ch == '{' || ch == '[') {
            tail.depth++;
        } else if ((ch == '}' || ch == ']') && tail.depth > 0) {
            tail.depth--;
        }
    }
    return tail;
}

/* Explain a parse failure: line/column, and whether cJSON's nesting cap
 * (rather than a syntax error) is the likely cause. */
static int report_invalid_json(const char *data, size_t len, size_t offset, gc_issue_list *out)
{
    size_t i, line = 1, column = 1, depth = 0, max_depth = 0;
    int in_string = 0, escaped = 0;
    char *message, why_buf[80];
    const char *why;
    int n, unclosed_string = 0;
    json_tail tail;

    if (offset > len)
        offset = len;
    /* cJSON reports running out of input as the last byte, and an
     * unterminated string at its opening quote: say which it was. */
    tail = scan_tail(data, len);
    if (tail.in_string && (offset == tail.string_start || offset == tail.string_start + 1)) {
        unclosed_string = 1;
        offset = tail.string_start;
    } else if (len > 0 && offset + 1 >= len && (tail.in_string || tail.depth > 0)) {
        offset = len;
    }
    for (i = 0; i < offset; i++) {
        char ch = data[i];
        if (ch == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (ch == '\\')
                escaped = 1;
            else if (ch == '"')
                in_string = 0;
        } else if (ch == '"') {
            in_string = 1;
        } else if (ch == '{' || ch == '[') {
            if (++depth > max_depth)
                max_depth = depth;
        } else if ((ch == '}' || ch == ']') && depth > 0) {
            depth--;
        }
    }
    if (len == 0)
        why = "the document is empty";
    else if (unclosed_string)
        why = "a string that is never closed starts";
    else if (max_depth >= CJSON_NESTING_LIMIT) {
        snprintf(why_buf, sizeof why_buf, "arrays/objects are nested more than %d levels deep",
                 (int)CJSON_NESTING_LIMIT);
        why = why_buf;
    }
    else if (offset >= len)
        why = "the document ends too early (an unclosed string, array or object)";
    else
        why = "unexpected or malformed input";
    n = snprintf(NULL, 0,
                 "the CatalogSet is not valid JSON: %s at byte offset %zu (line %zu, column %zu); "
                 "fix the JSON syntax there", why, offset, line, column);
    message = malloc((size_t)(n < 0 ? 0 : n) + 1);
    if (message == NULL)
        return -1;
    snprintf(message, (size_t)n + 1,
             "the CatalogSet is not valid JSON: %s at byte offset %zu (line %zu, column %zu); "
             "fix the JSON syntax there", why, offset, line, column);
    return list_push(out, "invalid_json", "", 0, message, GC_SEV_ERROR);
}

int gc_catalog_validate_json(const char *data, size_t len, gc_issue_list *out)
{
    size_t error_offset = 0;
    cJSON *root;
    int rc;

    root = len ? gc_json_parse(data, len, &error_offset) : NULL;
    if (root == NULL)
        return report_invalid_json(data, len, error_offset, out);
    rc = gc_catalog_validate_tree(root, out);
    cJSON_Delete(root);
    return rc;
}
