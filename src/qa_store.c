/* qa_store.c - the QA store: records in memory, a write-ahead journal,
 * atomic compaction (see qa_store.h for the crash-safety argument).
 *
 * Every change, live or replayed, goes through apply(): a live change is
 * built as its journal entry, made durable, then applied exactly as a
 * replay would apply it, so what a reopened store shows cannot drift from
 * what the session saw. */
#include "qa_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "jsonl.h"
#include "qa_flags.h"
#include "qa_record.h"
#include "utf8.h"

static const char *const status_names[] = {"pending", "approved", "rejected"};

const char *qa_status_name(QaStatus st) { return status_names[st]; }

int qa_status_parse(const char *name, QaStatus *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, status_names[i]) == 0) {
            *out = (QaStatus)i;
            return 0;
        }
    return -1;
}

static int oom(const QaStore *s, Err *e) { return err_set(e, "%s: out of memory", s->path); }

static void warn(QaStore *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(QaStore *s, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char **w = realloc(s->warnings, (s->n_warnings + 1) * sizeof *w);
    if (!w)
        return;
    s->warnings = w;
    if ((w[s->n_warnings] = strdup(msg)))
        s->n_warnings++;
}

QaRecord *qa_find(QaStore *s, long id)
{
    /* Ids are handed out in increasing order and records are never removed,
     * so the array is sorted by id unless a hand-edited file says otherwise. */
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->r[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n && s->r[lo].id == id)
        return &s->r[lo];
    for (size_t i = 0; i < s->n; i++)
        if (s->r[i].id == id)
            return &s->r[i];
    return NULL;
}

static int push_record(QaStore *s, QaRecord *r, Err *e)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        QaRecord *nr = realloc(s->r, cap * sizeof *nr);
        if (!nr)
            return oom(s, e);
        s->r = nr;
        s->cap = cap;
    }
    s->r[s->n++] = *r;
    if (r->id >= s->next_id)
        s->next_id = r->id + 1;
    if (r->seq > s->seq)
        s->seq = r->seq;
    return 0;
}

static int keep_bad(QaStore *s, const char *line, size_t n)
{
    char **b = realloc(s->bad, (s->n_bad + 1) * sizeof *b);
    if (!b)
        return -1;
    s->bad = b;
    if (!(b[s->n_bad] = strndup(line, n)))
        return -1;
    s->n_bad++;
    return 0;
}

/* Parses one line of text; NULL and a reason in why if it is not an object. */
static cJSON *parse_line(const char *s, size_t n, char *why, size_t why_n)
{
    for (size_t i = 0; i < n;) {
        size_t cl = 1;
        if (s[i] == 0 || utf8_char((const unsigned char *)s + i, n - i, &cl) != UTF8_OK) {
            snprintf(why, why_n, "%ld: invalid UTF-8", (long)i + 1);
            return NULL;
        }
        i += cl;
    }
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!v) {
        snprintf(why, why_n, "%ld: invalid JSON", end ? (long)(end - s) + 1 : 1L);
        return NULL;
    }
    while (end < s + n && (*end == ' ' || *end == '\t' || *end == '\r'))
        end++;
    if (end < s + n || !cJSON_IsObject(v)) {
        snprintf(why, why_n, " %s", end < s + n ? "more text after the value" : "expected a JSON object");
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

/* Walks the lines of buf: fn gets each non-blank line (without its '\n')
 * and its 1-based number, and whether it ended in '\n'. */
typedef int (*LineFn)(QaStore *s, const char *line, size_t n, long lineno, int complete, Err *e);
static int each_line(QaStore *s, const char *buf, size_t len, LineFn fn, Err *e)
{
    size_t off = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        off = 3;
    for (long lineno = 1; off < len; lineno++) {
        const char *p = buf + off;
        const char *nl = memchr(p, '\n', len - off);
        size_t n = nl ? (size_t)(nl - p) : len - off;
        off += n + (nl != NULL);
        size_t m = n;
        while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t' || p[m - 1] == '\r'))
            m--;
        if (m && fn(s, p, m, lineno, nl != NULL, e) != 0)
            return -1;
    }
    return 0;
}

static int main_line(QaStore *s, const char *line, size_t n, long lineno, int complete, Err *e)
{
    char why[128] = "";
    Err re;
    QaRecord r;
    cJSON *v = parse_line(line, n, why, sizeof why);
    int ok = 0;
    if (v) {
        ok = qa_record_from_json(&r, v, &re) == 0;
        if (!ok)
            snprintf(why, sizeof why, " %s", re.msg);
        else if (qa_find(s, r.id)) {
            snprintf(why, sizeof why, " duplicate id %ld", r.id);
            qa_record_free(&r);
            ok = 0;
        }
        cJSON_Delete(v);
    }
    if (ok)
        return push_record(s, &r, e);
    warn(s, "%s:%ld:%s (kept as is)", s->path, lineno, why);
    return keep_bad(s, line, n) == 0 ? 0 : oom(s, e);
}

static char *bool_text(int b) { return b ? "true" : "false"; }

/* Applies one journal entry.  replay: skip entries the main file already
 * holds (see qa_store.h).  Returns 0 (applied or skipped) or -1. */
static int apply(QaStore *s, const cJSON *entry, int replay, Err *e)
{
    const cJSON *seqv = cJSON_GetObjectItemCaseSensitive(entry, "seq");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(entry, "op");
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(entry, "time");
    if (!cJSON_IsNumber(seqv) || !cJSON_IsString(op) || !cJSON_IsNumber(tv))
        return err_set(e, "entry without seq, op and time");
    long long seq = (long long)seqv->valuedouble, t = (long long)tv->valuedouble;
    if (seq > s->seq)
        s->seq = seq;
    if (strcmp(op->valuestring, "add") == 0) {
        QaRecord r;
        if (qa_record_from_json(&r, cJSON_GetObjectItemCaseSensitive(entry, "record"), e) != 0)
            return -1;
        if (qa_find(s, r.id)) {
            qa_record_free(&r);
            return replay ? 0 : err_set(e, "id %ld exists", r.id);
        }
        r.seq = seq;
        return push_record(s, &r, e);
    }
    if (strcmp(op->valuestring, "set") != 0)
        return err_set(e, "unknown op \"%.40s\"", op->valuestring);
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(entry, "id");
    const cJSON *fv = cJSON_GetObjectItemCaseSensitive(entry, "field");
    const cJSON *nv = cJSON_GetObjectItemCaseSensitive(entry, "new");
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(entry, "old");
    if (!cJSON_IsNumber(idv) || !cJSON_IsString(fv) || !nv)
        return err_set(e, "set entry without id, field and new");
    QaRecord *r = qa_find(s, (long)idv->valuedouble);
    if (!r)
        return err_set(e, "no record %ld", (long)idv->valuedouble);
    if (replay && seq <= r->seq)
        return 0;
    const char *field = fv->valuestring;
    const char *nt = cJSON_IsString(nv) ? nv->valuestring : NULL;
    const char *ot = cJSON_IsString(ov) ? ov->valuestring : "";
    char **text = strcmp(field, "question") == 0 ? &r->question : strcmp(field, "answer") == 0 ? &r->answer : NULL;
    if (strcmp(field, "flags") == 0) {
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(entry, "reasons");
        char *reasons = strdup(cJSON_IsString(why) ? why->valuestring : "");
        if (!cJSON_IsNumber(nv) || !reasons) {
            free(reasons);
            return err_set(e, "flags entry without a number");
        }
        r->flags = (unsigned)nv->valuedouble;
        free(r->reasons);
        r->reasons = reasons;
    } else {
        if (!nt)
            return err_set(e, "%s: expected a string", field);
        if (text) {
            char *copy = strdup(nt);
            if (!copy)
                return oom(s, e);
            free(*text);
            *text = copy;
        } else if (strcmp(field, "status") == 0) {
            if (qa_status_parse(nt, &r->status) != 0)
                return err_set(e, "unknown status \"%.40s\"", nt);
        } else if (strcmp(field, "golden") == 0) {
            r->golden = strcmp(nt, "true") == 0;
        } else if (strcmp(field, "deleted") == 0) {
            r->deleted = strcmp(nt, "true") == 0;
        } else {
            return err_set(e, "unknown field \"%.40s\"", field);
        }
        if (qa_record_log(r, t, field, ot, nt) != 0)
            return oom(s, e);
        r->updated = t;
    }
    r->seq = seq;
    return 0;
}

static int journal_line(QaStore *s, const char *line, size_t n, long lineno, int complete, Err *e)
{
    if (!complete) {
        /* Never acknowledged: the write did not finish before a crash. */
        warn(s, "%s:%ld: incomplete last entry ignored (written when the program stopped)", s->journal_path,
             lineno);
        return 0;
    }
    char why[128] = "";
    Err ae;
    cJSON *v = parse_line(line, n, why, sizeof why);
    if (!v) {
        warn(s, "%s:%ld:%s (entry ignored)", s->journal_path, lineno, why);
        return 0;
    }
    int rc = apply(s, v, 1, &ae);
    cJSON_Delete(v);
    if (rc != 0)
        warn(s, "%s:%ld: %s (entry ignored)", s->journal_path, lineno, ae.msg);
    s->n_journal++;
    return 0;
}

static char *parent_dir(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return NULL;
    char *slash = strrchr(d, '/');
    if (!slash) {
        free(d);
        return strdup(".");
    }
    *slash = 0;
    if (slash == d)
        strcpy(d, "/");
    return d;
}

/* Reads PATH and then the journal; -1 on a read error.  *torn_keep gets
 * the length of the journal's complete lines when its last line is torn
 * (a crash mid-write), else -1. */
static int read_both(QaStore *s, off_t *torn_keep, Err *e)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = 0;
    *torn_keep = -1;
    if (fs_exists(s->path)) {
        if (!(buf = fs_read_all(s->path, &len, e)))
            return -1;
        rc = each_line(s, buf, len, main_line, e);
        free(buf);
    }
    if (rc == 0 && fs_exists(s->journal_path)) {
        if (!(buf = fs_read_all(s->journal_path, &len, e)))
            return -1;
        rc = each_line(s, buf, len, journal_line, e);
        if (rc == 0 && len && buf[len - 1] != '\n') {
            const char *last = memrchr(buf, '\n', len);
            *torn_keep = last ? (off_t)(last - buf) + 1 : 0;
        }
        free(buf);
    }
    return rc;
}

int qa_store_open(QaStore *s, const char *path, Err *e)
{
    memset(s, 0, sizeof *s);
    s->jfd = -1;
    s->next_id = 1;
    s->path = strdup(path);
    s->journal_path = malloc(strlen(path) + 9);
    char *dir = parent_dir(path);
    if (!s->path || !s->journal_path || !dir) {
        free(dir);
        qa_store_close(s);
        return err_set(e, "%s: out of memory", path);
    }
    sprintf(s->journal_path, "%s.journal", path);
    int rc = fs_mkdirs(dir, e);
    free(dir);
    /* One writer at a time (the workbench and a script, say): the lock is
     * taken before reading, so nobody reads a file another is changing,
     * and the kernel drops it when a process dies, however it dies. */
    if (rc == 0) {
        s->jfd = open(s->journal_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (s->jfd < 0)
            rc = err_set(e, "%s: cannot open: %s", s->journal_path, strerror(errno));
        else if (flock(s->jfd, LOCK_EX | LOCK_NB) != 0)
            rc = err_set(e, "%s: in use by another infuse process", path);
    }
    off_t keep = -1;
    if (rc == 0)
        rc = read_both(s, &keep, e);
    /* A torn tail would glue itself to the next entry: cut it off. */
    if (rc == 0 && keep >= 0 && (ftruncate(s->jfd, keep) != 0 || fdatasync(s->jfd) != 0))
        rc = err_set(e, "%s: cannot cut the incomplete entry: %s", s->journal_path, strerror(errno));
    if (rc != 0) {
        qa_store_close(s);
        return -1;
    }
    return 0;
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int qa_store_open_snapshot(QaStore *s, const char *path, Err *e)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        memset(s, 0, sizeof *s);
        s->jfd = -1;
        s->next_id = 1;
        s->path = strdup(path);
        s->journal_path = malloc(strlen(path) + 9);
        if (!s->path || !s->journal_path) {
            qa_store_close(s);
            return err_set(e, "%s: out of memory", path);
        }
        sprintf(s->journal_path, "%s.journal", path);
        /* A compaction renames a new file over PATH and then empties the
         * journal; if PATH was not replaced while we read, what we read of
         * the journal belongs to the PATH we read (see qa_store.h). */
        struct stat before = {0}, after = {0};
        int had = stat(path, &before) == 0;
        off_t torn; /* left in place: the writer may be mid-append */
        int rc = read_both(s, &torn, e);
        int has = stat(path, &after) == 0;
        if (rc != 0) {
            qa_store_close(s);
            return -1;
        }
        if (had == has && (!had || same_file(&before, &after)))
            return 0;
        qa_store_close(s);
    }
    return err_set(e, "%s: changed on every read (20 tries)", path);
}

void qa_store_close(QaStore *s)
{
    if (s->jfd >= 0)
        close(s->jfd);
    for (size_t i = 0; i < s->n; i++)
        qa_record_free(&s->r[i]);
    free(s->r);
    for (size_t i = 0; i < s->n_bad; i++)
        free(s->bad[i]);
    free(s->bad);
    for (size_t i = 0; i < s->n_warnings; i++)
        free(s->warnings[i]);
    free(s->warnings);
    free(s->path);
    free(s->journal_path);
    memset(s, 0, sizeof *s);
    s->jfd = -1;
}

/* Makes entry durable in the journal, then applies it.  Takes entry. */
static int commit(QaStore *s, cJSON *entry, Err *e)
{
    if (!entry)
        return oom(s, e);
    if (s->jfd < 0) {
        cJSON_Delete(entry);
        return err_set(e, "%s: a snapshot is read-only", s->path);
    }
    char *line = cJSON_PrintUnformatted(entry);
    if (!line) {
        cJSON_Delete(entry);
        return oom(s, e);
    }
    size_t n = strlen(line);
    line[n] = '\n'; /* replaces the NUL: the buffer is written by length */
    struct stat st;
    int rc = fstat(s->jfd, &st);
    const char *p = line;
    size_t left = n + 1;
    while (rc == 0 && left) {
        ssize_t w = write(s->jfd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = -1;
        else
            p += w, left -= (size_t)w;
    }
    if (rc == 0)
        rc = fdatasync(s->jfd);
    free(line);
    if (rc != 0) {
        int err = errno;
        /* Not acknowledged: take a partial line back so the journal stays
         * parseable (if this fails too, reopening ignores the torn tail). */
        if (ftruncate(s->jfd, st.st_size) == 0)
            (void)fdatasync(s->jfd);
        cJSON_Delete(entry);
        return err_set(e, "%s: cannot write: %s", s->journal_path, strerror(err));
    }
    s->n_journal++;
    Err ae;
    rc = apply(s, entry, 0, &ae);
    cJSON_Delete(entry);
    if (rc != 0)
        return err_set(e, "%s: %s", s->path, ae.msg);
    return 0;
}

static cJSON *new_entry(QaStore *s, const char *op)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddNumberToObject(o, "seq", (double)(s->seq + 1)) &&
        cJSON_AddNumberToObject(o, "time", (double)time(NULL)) && cJSON_AddStringToObject(o, "op", op))
        return o;
    cJSON_Delete(o);
    return NULL;
}

long qa_add(QaStore *s, const char *question, const char *answer, const char *source, Err *e)
{
    long long now = (long long)time(NULL);
    QaRecord r = {.id = s->next_id, .seq = s->seq + 1, .question = (char *)question, .answer = (char *)answer,
                  .source = (char *)(source ? source : ""), .reasons = "", .created = now, .updated = now};
    cJSON *entry = new_entry(s, "add");
    cJSON *rec = entry ? qa_record_to_json(&r) : NULL;
    if (rec && !cJSON_AddItemToObject(entry, "record", rec)) {
        cJSON_Delete(rec);
        rec = NULL;
    }
    if (!rec) {
        cJSON_Delete(entry);
        return oom(s, e);
    }
    return commit(s, entry, e) == 0 ? r.id : -1;
}

static cJSON *set_entry(QaStore *s, long id, const char *field, const char *old_value, const char *new_value)
{
    cJSON *o = new_entry(s, "set");
    if (o && cJSON_AddNumberToObject(o, "id", (double)id) && cJSON_AddStringToObject(o, "field", field) &&
        cJSON_AddStringToObject(o, "old", old_value) && cJSON_AddStringToObject(o, "new", new_value))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static QaRecord *need(QaStore *s, long id, Err *e)
{
    QaRecord *r = qa_find(s, id);
    if (!r)
        err_set(e, "%s: no record with id %ld", s->path, id);
    return r;
}

int qa_set_status(QaStore *s, long id, QaStatus st, Err *e)
{
    QaRecord *r = need(s, id, e);
    if (!r)
        return -1;
    if (r->status == st)
        return 0;
    return commit(s, set_entry(s, id, "status", qa_status_name(r->status), qa_status_name(st)), e);
}

int qa_set_golden(QaStore *s, long id, int golden, Err *e)
{
    QaRecord *r = need(s, id, e);
    if (!r)
        return -1;
    if (!r->golden == !golden)
        return 0;
    return commit(s, set_entry(s, id, "golden", bool_text(r->golden), bool_text(golden)), e);
}

int qa_delete(QaStore *s, long id, int deleted, Err *e)
{
    QaRecord *r = need(s, id, e);
    if (!r)
        return -1;
    if (!r->deleted == !deleted)
        return 0;
    return commit(s, set_entry(s, id, "deleted", bool_text(r->deleted), bool_text(deleted)), e);
}

int qa_edit(QaStore *s, long id, const char *field, const char *text, Err *e)
{
    QaRecord *r = need(s, id, e);
    if (!r)
        return -1;
    const char *old_value;
    if (strcmp(field, "question") == 0)
        old_value = r->question;
    else if (strcmp(field, "answer") == 0)
        old_value = r->answer;
    else
        return err_set(e, "%s: cannot edit \"%s\" (question or answer)", s->path, field);
    if (strcmp(old_value, text) == 0)
        return 0;
    return commit(s, set_entry(s, id, field, old_value, text), e);
}

int qa_set_flags(QaStore *s, long id, unsigned flags, const char *reasons, Err *e)
{
    QaRecord *r = need(s, id, e);
    if (!r)
        return -1;
    if (!reasons)
        reasons = "";
    if (r->flags == flags && strcmp(r->reasons, reasons) == 0)
        return 0;
    cJSON *o = new_entry(s, "set");
    if (!(o && cJSON_AddNumberToObject(o, "id", (double)id) && cJSON_AddStringToObject(o, "field", "flags") &&
          cJSON_AddNumberToObject(o, "old", (double)r->flags) && cJSON_AddNumberToObject(o, "new", (double)flags) &&
          cJSON_AddStringToObject(o, "reasons", reasons))) {
        cJSON_Delete(o);
        return oom(s, e);
    }
    return commit(s, o, e);
}

/* Growable byte buffer for the compacted file. */
typedef struct Buf {
    char *p;
    size_t n, cap;
} Buf;

static int buf_add(Buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

static int buf_json_line(Buf *b, cJSON *o)
{
    char *t = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    int rc = t && buf_add(b, t, strlen(t)) == 0 && buf_add(b, "\n", 1) == 0 ? 0 : -1;
    free(t);
    return rc;
}

int qa_store_compact(QaStore *s, Err *e)
{
    if (s->jfd < 0)
        return err_set(e, "%s: a snapshot is read-only", s->path);
    Buf b = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->n; i++)
        rc = buf_json_line(&b, qa_record_to_json(&s->r[i]));
    for (size_t i = 0; rc == 0 && i < s->n_bad; i++)
        rc = buf_add(&b, s->bad[i], strlen(s->bad[i])) == 0 && buf_add(&b, "\n", 1) == 0 ? 0 : -1;
    if (rc != 0) {
        free(b.p);
        return oom(s, e);
    }
    const void *ptrs[1] = {b.p ? b.p : ""};
    size_t lens[1] = {b.n};
    rc = fs_write_atomic(s->path, ptrs, lens, 1, e);
    free(b.p);
    if (rc != 0)
        return -1;
    /* The main file now holds every entry: a crash before the truncation
     * replays entries whose seq the records already carry, i.e. none. */
    if (ftruncate(s->jfd, 0) != 0 || fdatasync(s->jfd) != 0)
        return err_set(e, "%s: cannot empty: %s", s->journal_path, strerror(errno));
    s->n_journal = 0;
    return 0;
}

static cJSON *message(const char *role, const char *content)
{
    cJSON *m = cJSON_CreateObject();
    if (m && cJSON_AddStringToObject(m, "role", role) && cJSON_AddStringToObject(m, "content", content))
        return m;
    cJSON_Delete(m);
    return NULL;
}

int qa_store_export_sft(const QaStore *s, const char *path, QaExport which, size_t *n, Err *e)
{
    Buf b = {0};
    size_t count = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        const QaRecord *r = &s->r[i];
        if (r->deleted || r->status != QA_APPROVED || (which == QA_EXPORT_PLAIN && r->golden) ||
            (which == QA_EXPORT_GOLDEN && !r->golden))
            continue;
        cJSON *o = cJSON_CreateObject(), *u = message("user", r->question), *a = message("assistant", r->answer);
        cJSON *list = o ? cJSON_AddArrayToObject(o, "messages") : NULL;
        if (!list || !u || !a || !cJSON_AddItemToArray(list, u) || (u = NULL, !cJSON_AddItemToArray(list, a)) ||
            (a = NULL, !cJSON_AddNumberToObject(o, "id", (double)r->id)) ||
            !cJSON_AddBoolToObject(o, "golden", r->golden)) {
            cJSON_Delete(u);
            cJSON_Delete(a);
            cJSON_Delete(o);
            rc = -1;
            break;
        }
        rc = buf_json_line(&b, o);
        count++;
    }
    if (rc != 0) {
        free(b.p);
        return err_set(e, "%s: out of memory", path);
    }
    const void *ptrs[1] = {b.p ? b.p : ""};
    size_t lens[1] = {b.n};
    rc = fs_write_atomic(path, ptrs, lens, 1, e);
    free(b.p);
    if (rc == 0 && n)
        *n = count;
    return rc;
}

int qa_store_sniff(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int result = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        size_t n = (size_t)len;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (!n)
            continue;
        cJSON *v = cJSON_ParseWithLength(line, n);
        result = v && cJSON_GetObjectItemCaseSensitive(v, "id") && cJSON_GetObjectItemCaseSensitive(v, "question") &&
                 cJSON_GetObjectItemCaseSensitive(v, "status");
        cJSON_Delete(v);
        break;
    }
    free(line);
    fclose(f);
    return result;
}
