/* run_metrics.c - reads a run's metrics.jsonl (run_metrics.h). */
#include "run_metrics.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"

static int push(long **steps, double **vals, size_t *n, size_t *cap, long step, double v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        long *s = realloc(*steps, c * sizeof *s);
        if (!s)
            return -1;
        *steps = s;
        double *d = realloc(*vals, c * sizeof *d);
        if (!d)
            return -1;
        *vals = d;
        *cap = c;
    }
    (*steps)[*n] = step;
    (*vals)[(*n)++] = v;
    return 0;
}

int run_metrics_load(RunMetrics *m, const char *path, Err *e)
{
    memset(m, 0, sizeof *m);
    size_t len = 0, cap = 0, vcap = 0;
    char *buf = fs_read_all(path, &len, e);
    if (!buf)
        return -1;
    int rc = 0;
    for (char *line = buf; rc == 0 && line < buf + len;) {
        char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        if (!nl)
            break; /* a torn last line */
        *nl = 0;
        cJSON *o = cJSON_Parse(line);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "step");
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(o, "loss");
        const cJSON *va = cJSON_GetObjectItemCaseSensitive(o, "valid_loss");
        if (cJSON_IsNumber(st) && cJSON_IsNumber(lo))
            rc = push(&m->step, &m->loss, &m->n, &cap, (long)st->valuedouble, lo->valuedouble);
        if (rc == 0 && cJSON_IsNumber(st) && cJSON_IsNumber(va))
            rc = push(&m->valid_step, &m->valid_loss, &m->n_valid, &vcap, (long)st->valuedouble, va->valuedouble);
        cJSON_Delete(o);
        line = nl + 1;
    }
    free(buf);
    if (rc != 0) {
        run_metrics_free(m);
        return err_set(e, "%s: out of memory", path);
    }
    return 0;
}

void run_metrics_free(RunMetrics *m)
{
    free(m->step);
    free(m->loss);
    free(m->valid_step);
    free(m->valid_loss);
    memset(m, 0, sizeof *m);
}
