/* err.h - the engine's error value.
 *
 * The engine never prints and never exits: a function that can fail takes an
 * Err* as its last argument, fills it with one line that names the file (or
 * object) and the problem, and returns -1 (or NULL).  The caller decides who
 * sees the message: the CLI prints it to stderr, the workbench shows it in a
 * status line.  An Err is plain caller-owned storage; nothing to free. */
#ifndef INFUSE_ERR_H
#define INFUSE_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 1024

typedef struct Err {
    char msg[ERR_MSG_MAX];
} Err;

/* Formats the message into e (if e is not NULL) and returns -1, so that a
 * failing path reads `return err_set(e, "%s: bad header", path);`. */
int err_set(Err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Puts "prefix: " in front of a message already in e and returns -1; used
 * where an inner call failed and the outer one knows the file name. */
int err_prefix(Err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
