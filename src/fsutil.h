/* fsutil.h - small file helpers shared by the readers and writers. */
#ifndef INFUSE_FSUTIL_H
#define INFUSE_FSUTIL_H

#include <stddef.h>
#include "err.h"

/* Reads a whole file into a malloc'd NUL-terminated buffer. */
char *fs_read_all(const char *path, size_t *len, Err *e);

/* Atomic replace: writes the n parts (ptrs[i], lens[i]) to "path.tmp.PID",
 * fsyncs it, renames it over path and fsyncs the folder, so that a reader
 * (or a crash) sees either the old file or the whole new one. */
int fs_write_atomic(const char *path, const void *const *ptrs, const size_t *lens, size_t n, Err *e);

/* Joins folder and name with one '/' into a malloc'd string. */
char *fs_join(const char *dir, const char *name);

int fs_is_dir(const char *path);
int fs_exists(const char *path);
/* mkdir -p */
int fs_mkdirs(const char *path, Err *e);

/* Copies the file src to dst, atomically as fs_write_atomic. */
int fs_copy_file(const char *src, const char *dst, Err *e);

/* rm -r: a file, or a folder and everything in it; a missing path is fine. */
int fs_remove_tree(const char *path, Err *e);

/* Puts the finished folder src in the place of dst: dst (if any) is moved
 * aside to dst.old, src renamed to dst, dst.old removed.  A crash leaves
 * either the old folder (as dst or dst.old) or the new one, never a mix. */
int fs_replace_dir(const char *src, const char *dst, Err *e);

#endif
