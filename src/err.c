/* err.c - formatting of Err messages (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(Err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int err_prefix(Err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char head[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    char tail[ERR_MSG_MAX];
    memcpy(tail, e->msg, sizeof tail);
    snprintf(e->msg, sizeof e->msg, "%s: %s", head, tail);
    return -1;
}
