/* catalog_fuzz.c - libFuzzer harness for the CatalogSet validator.
 *
 * Feeds arbitrary bytes to gc_catalog_validate_json and checks the contract
 * every caller relies on: it returns 0 or -1, every issue has a code, a
 * path that is "" or starts with '/', a message and a known severity, and
 * malformed JSON yields exactly one invalid_json issue, and no input lists
 * more than the validator's cap of 1,000 issues plus one too_many_issues
 * entry, which comes last and only after a full list.  Build and run: see
 * fuzz/README.md.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../csrc/gc.h"

/* GC_MAX_ISSUES in csrc/catalog.c, as documented in gettcommerce/catalog. */
#define LISTED_MAX 1000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gc_issue_list issues = {NULL, 0, 0};
    size_t i;
    int rc;

    rc = gc_catalog_validate_json((const char *)data, size, &issues);
    if (rc != 0 && rc != -1)
        abort();
    for (i = 0; i < issues.len; i++) {
        const gc_issue *it = &issues.items[i];
        if (it->code == NULL || it->path == NULL || it->message == NULL || it->code[0] == '\0' ||
            it->message[0] == '\0')
            abort();
        if (it->path[0] != '\0' && it->path[0] != '/')
            abort();
        if (it->severity != GC_SEV_ERROR && it->severity != GC_SEV_WARNING)
            abort();
        if (strcmp(it->code, "invalid_json") == 0 && issues.len != 1)
            abort();
        if (strcmp(it->code, "too_many_issues") == 0 && i != LISTED_MAX)
            abort();
    }
    if (issues.len > LISTED_MAX + 1 ||
        (issues.len == LISTED_MAX + 1 &&
         strcmp(issues.items[LISTED_MAX].code, "too_many_issues") != 0))
        abort();
    gc_issue_list_free(&issues);
    return 0;
}
