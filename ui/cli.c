/* cli.c - helpers shared by the commands: errors, number parsing, clocks. */
#include "cli.h"
#include "pool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("infuse: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int cli_fail_err(const Err *e) { return cli_fail("%s", e->msg); }

int cli_int(const char *opt, const char *s, long min, long max, long *out)
{
    if (!s)
        return cli_fail("%s needs a value", opt), -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return cli_fail("%s: \"%s\" is not an integer in [%ld, %ld]", opt, s, min, max), -1;
    *out = v;
    return 0;
}

int cli_float(const char *opt, const char *s, double *out)
{
    if (!s)
        return cli_fail("%s needs a value", opt), -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end)
        return cli_fail("%s: \"%s\" is not a number", opt, s), -1;
    *out = v;
    return 0;
}

int cli_default_threads(void) { return pool_cpu_count(); }

double cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void cli_hms(char *buf, size_t n, double s)
{
    long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%02ld:%02ld", t / 60, t % 60);
}

int cli_load_config(Config *c, const char *path)
{
    Err e;
    int rc = path ? config_load(c, path, &e) : config_load_optional(c, CONFIG_DEFAULT_PATH, &e);
    if (rc < 0)
        return cli_fail_err(&e);
    for (size_t i = 0; i < c->n_warnings; i++)
        fprintf(stderr, "infuse: warning: %s\n", c->warnings[i]);
    return 0;
}
