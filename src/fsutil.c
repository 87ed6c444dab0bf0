/* fsutil.c - whole-file reads, atomic writes, path joins (see fsutil.h). */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *fs_read_all(const char *path, size_t *len, Err *e)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        err_set(e, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        err_set(e, "%s: not a regular file", path);
        return NULL;
    }
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        err_set(e, "%s: out of memory reading %zu bytes", path, n);
        return NULL;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            close(fd);
            err_set(e, "%s: read failed: %s", path, r < 0 ? strerror(errno) : "file shrank");
            return NULL;
        }
        got += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

static int write_full(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int fs_write_atomic(const char *path, const void *const *ptrs, const size_t *lens, size_t n, Err *e)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp)
        return err_set(e, "%s: out of memory", path);
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        err_set(e, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (write_full(fd, ptrs[i], lens[i]) != 0) {
            err_set(e, "%s: write failed: %s", tmp, strerror(errno));
            goto fail;
        }
    }
    if (fsync(fd) != 0) {
        err_set(e, "%s: fsync failed: %s", tmp, strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0) {
        err_set(e, "%s: rename failed: %s", path, strerror(errno));
        goto fail;
    }
    /* The rename itself lives in the folder: sync it too. */
    char *dcopy = strdup(path);
    if (dcopy) {
        int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dcopy);
    }
    free(tmp);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return -1;
}

char *fs_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s)
        return NULL;
    memcpy(s, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/')
        s[k++] = '/';
    memcpy(s + k, name, b + 1);
    return s;
}

int fs_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int fs_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

int fs_mkdirs(const char *path, Err *e)
{
    char *p = strdup(path);
    if (!p)
        return err_set(e, "%s: out of memory", path);
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                err_set(e, "%s: cannot create folder: %s", p, strerror(errno));
                free(p);
                return -1;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    return 0;
}

int fs_copy_file(const char *src, const char *dst, Err *e)
{
    size_t len;
    char *text = fs_read_all(src, &len, e);
    if (!text)
        return -1;
    const void *p[1] = {text};
    size_t l[1] = {len};
    int rc = fs_write_atomic(dst, p, l, 1, e);
    free(text);
    return rc;
}

int fs_remove_tree(const char *path, Err *e)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : err_set(e, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return err_set(e, "%s: %s", path, strerror(errno));
        struct dirent *de;
        int rc = 0;
        while (rc == 0 && (de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char *child = fs_join(path, de->d_name);
            rc = child ? fs_remove_tree(child, e) : err_set(e, "out of memory");
            free(child);
        }
        closedir(d);
        if (rc)
            return rc;
        if (rmdir(path) != 0)
            return err_set(e, "%s: %s", path, strerror(errno));
        return 0;
    }
    if (unlink(path) != 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    return 0;
}

int fs_replace_dir(const char *src, const char *dst, Err *e)
{
    size_t n = strlen(dst);
    char *old = malloc(n + 5);
    if (!old)
        return err_set(e, "out of memory");
    memcpy(old, dst, n);
    memcpy(old + n, ".old", 5);
    int rc = fs_remove_tree(old, e);
    if (rc == 0 && fs_exists(dst) && rename(dst, old) != 0)
        rc = err_set(e, "%s: cannot move aside: %s", dst, strerror(errno));
    if (rc == 0 && rename(src, dst) != 0)
        rc = err_set(e, "%s: cannot rename to %s: %s", src, dst, strerror(errno));
    if (rc == 0)
        rc = fs_remove_tree(old, e);
    free(old);
    return rc;
}
