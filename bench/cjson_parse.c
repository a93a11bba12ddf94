/* cjson_parse.c - the floor for CatalogSet validation: cJSON parse alone.
 *
 * Usage: cjson_parse FILE REPEAT
 * Prints "parse_s=<best> free_s=<best>" over REPEAT runs; the file is read
 * once, so only parsing (and freeing the tree) is timed.  Built and run by
 * bench/catalog_bench.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cjson/cJSON.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    FILE *fh = NULL;
    char *data = NULL;
    long size;
    int repeat, i, rc = 1;
    double best_parse = 1e30, best_free = 1e30, t0, t1, t2;
    const char *end = NULL;
    cJSON *root;

    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE REPEAT\n", argv[0]);
        goto cleanup;
    }
    repeat = atoi(argv[2]);
    fh = fopen(argv[1], "rb");
    if (fh == NULL || fseek(fh, 0, SEEK_END) != 0 || (size = ftell(fh)) < 0 ||
        fseek(fh, 0, SEEK_SET) != 0) {
        perror(argv[1]);
        goto cleanup;
    }
    data = malloc((size_t)size + 1);
    if (data == NULL || fread(data, 1, (size_t)size, fh) != (size_t)size) {
        perror("read");
        goto cleanup;
    }
    data[size] = '\0';
    for (i = 0; i < repeat; i++) {
        t0 = now();
        root = cJSON_ParseWithLengthOpts(data, (size_t)size, &end, 0);
        t1 = now();
        if (root == NULL) {
            fprintf(stderr, "parse failed at offset %ld\n", (long)(end - data));
            goto cleanup;
        }
        cJSON_Delete(root);
        t2 = now();
        if (t1 - t0 < best_parse)
            best_parse = t1 - t0;
        if (t2 - t1 < best_free)
            best_free = t2 - t1;
    }
    printf("parse_s=%.6f free_s=%.6f\n", best_parse, best_free);
    rc = 0;
cleanup:
    if (fh != NULL)
        fclose(fh);
    free(data);
    return rc;
}
