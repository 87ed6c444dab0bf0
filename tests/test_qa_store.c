/* test_qa_store.c - the QA store: changes, journal replay, kill -9 in a
 * burst of changes and during compaction, malformed lines, export. */
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "qa_store.h"
#include "sft_record.h"

#define DIR "build/qa-store-test"

static char *slurp(const char *path)
{
    Err e;
    return fs_read_all(path, NULL, &e);
}

static void spit(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    fputs(s, f);
    fclose(f);
}

static void fresh(const char *name, char *path, size_t n)
{
    Err e;
    char dir[256];
    snprintf(dir, sizeof dir, DIR "/%s", name);
    fs_remove_tree(dir, &e);
    fs_mkdirs(dir, &e);
    snprintf(path, n, "%s/qa.jsonl", dir);
}

static int has_warning(const QaStore *s, const char *part)
{
    for (size_t i = 0; i < s->n_warnings; i++)
        if (strstr(s->warnings[i], part))
            return 1;
    return 0;
}

static void test_changes_and_replay(void)
{
    char path[256];
    fresh("basic", path, sizeof path);
    QaStore s;
    Err e;
    CHECK(qa_store_open(&s, path, &e) == 0);
    CHECK(s.n == 0 && s.n_warnings == 0);
    long a = qa_add(&s, "What is CLaRa?", "A retrieval model.", "corpus/a.md:3", &e);
    long b = qa_add(&s, "Who made it?", "Apple.", NULL, &e);
    CHECK(a == 1 && b == 2);
    CHECK(qa_set_status(&s, a, QA_APPROVED, &e) == 0);
    CHECK(qa_set_golden(&s, a, 1, &e) == 0);
    CHECK(qa_edit(&s, b, "answer", "Apple researchers.", &e) == 0);
    CHECK(qa_set_flags(&s, b, 5, "repetition: x\ntruncated: y", &e) == 0);
    CHECK(qa_delete(&s, b, 1, &e) == 0);
    CHECK(qa_edit(&s, b, "status", "x", &e) == -1 && strstr(e.msg, "cannot edit"));
    CHECK(qa_set_status(&s, 99, QA_APPROVED, &e) == -1 && strstr(e.msg, "no record with id 99"));
    CHECK(qa_find(&s, b)->n_hist == 2);
    QaStore other;
    CHECK(qa_store_open(&other, path, &e) == -1 && strstr(e.msg, "in use by another infuse process"));
    qa_store_close(&s);

    /* Nothing compacted: everything comes back from the journal. */
    CHECK(!fs_exists(path));
    CHECK(qa_store_open(&s, path, &e) == 0);
    CHECK(s.n == 2 && s.n_warnings == 0);
    QaRecord *ra = qa_find(&s, a), *rb = qa_find(&s, b);
    CHECK(ra && ra->status == QA_APPROVED && ra->golden && !ra->deleted);
    CHECK(ra && strcmp(ra->source, "corpus/a.md:3") == 0);
    CHECK(rb && strcmp(rb->answer, "Apple researchers.") == 0 && rb->deleted && rb->flags == 5);
    CHECK(rb && strcmp(rb->reasons, "repetition: x\ntruncated: y") == 0);
    CHECK(rb && rb->n_hist == 2 && strcmp(rb->hist[0].old_value, "Apple.") == 0 &&
          strcmp(rb->hist[0].new_value, "Apple researchers.") == 0);
    CHECK(qa_add(&s, "Third?", "Yes.", NULL, &e) == 3);

    /* Compaction moves everything into the main file and empties the journal. */
    CHECK(qa_store_compact(&s, &e) == 0);
    struct stat st;
    CHECK(stat(s.journal_path, &st) == 0 && st.st_size == 0);
    qa_store_close(&s);
    CHECK(qa_store_open(&s, path, &e) == 0);
    CHECK(s.n == 3 && s.n_warnings == 0 && s.next_id == 4);
    rb = qa_find(&s, b);
    CHECK(rb && rb->deleted && rb->n_hist == 2 && rb->flags == 5);
    qa_store_close(&s);
}

/* A crash after the compacted file was renamed into place but before the
 * journal was emptied: the journal's entries are all in the file already. */
static void test_journal_not_applied_twice(void)
{
    char path[256], jpath[300];
    fresh("twice", path, sizeof path);
    snprintf(jpath, sizeof jpath, "%s.journal", path);
    QaStore s;
    Err e;
    CHECK(qa_store_open(&s, path, &e) == 0);
    long id = qa_add(&s, "Q?", "A.", NULL, &e);
    CHECK(qa_edit(&s, id, "answer", "B.", &e) == 0);
    CHECK(qa_edit(&s, id, "answer", "C.", &e) == 0);
    char *journal = slurp(jpath);
    CHECK(qa_store_compact(&s, &e) == 0);
    qa_store_close(&s);
    spit(jpath, journal);
    free(journal);
    CHECK(qa_store_open(&s, path, &e) == 0);
    CHECK(s.n == 1 && s.n_warnings == 0);
    CHECK(s.n == 1 && s.r[0].n_hist == 2 && strcmp(s.r[0].answer, "C.") == 0);
    /* New changes continue after the replayed numbers. */
    CHECK(qa_edit(&s, id, "answer", "D.", &e) == 0);
    qa_store_close(&s);
    CHECK(qa_store_open(&s, path, &e) == 0);
    CHECK(s.n == 1 && s.r[0].n_hist == 3 && strcmp(s.r[0].answer, "D.") == 0);
    qa_store_close(&s);
}

static void test_torn_journal(void)
{
    char path[256], jpath[300];
    fresh("torn", path, sizeof path);
    snprintf(jpath, sizeof jpath, "%s.journal", path);
    QaStore s;
    Err e;
    CHECK(qa_store_open(&s, path, &e) == 0);
    qa_add(&s, "Q1?", "A1.", NULL, &e);
    qa_add(&s, "Q2?", "A2.", NULL, &e);
    qa_store_close(&s);
    FILE *f = fopen(jpath, "ab");
    fputs("{\"seq\":3,\"time\":1,\"op\":\"set\",\"id\":1,\"fie", f);
    fclose(f);
    CHECK(qa_store_open(&s, path, &e) == 0);
    CHECK(s.n == 2);
    CHECK(has_warning(&s, "qa.jsonl.journal:3: incomplete last entry ignored"));
    CHECK(qa_set_status(&s, 2, QA_REJECTED, &e) == 0);
    qa_store_close(&s);
    CHECK(qa_store_open(&s, path, &e) == 0);
    CHECK(s.n == 2 && s.n_warnings == 0 && s.r[1].status == QA_REJECTED);
    qa_store_close(&s);
}

static void test_malformed_main_lines(void)
{
    char path[256];
    fresh("malformed", path, sizeof path);
    spit(path, "{\"id\":1,\"question\":\"Q1?\",\"answer\":\"A1.\",\"status\":\"approved\"}\n"
               "{\"id\":2,\"question\":\"Q2?\",\"answer\":\n"
               "\n"
               "{\"id\":3,\"question\":\"Q3?\",\"answer\":\"A3.\",\"status\":\"maybe\"}\n"
               "{\"id\":1,\"question\":\"dup\",\"answer\":\"dup\"}\n"
               "{\"id\":4,\"question\":\"Q4?\",\"answer\":\"A4.\"}\n");
    QaStore s;
    Err e;
    CHECK(qa_store_open(&s, path, &e) == 0);
    CHECK(s.n == 2 && s.n_bad == 3 && s.next_id == 5);
    CHECK(has_warning(&s, "qa.jsonl:2:"));
    CHECK(has_warning(&s, "qa.jsonl:4: status"));
    CHECK(has_warning(&s, "qa.jsonl:5: duplicate id 1"));
    CHECK(s.n_bad == 3 && strcmp(s.bad[0], "{\"id\":2,\"question\":\"Q2?\",\"answer\":") == 0);
    CHECK(qa_store_compact(&s, &e) == 0);
    qa_store_close(&s);
    char *text = slurp(path);
    CHECK(text && strstr(text, "{\"id\":2,\"question\":\"Q2?\",\"answer\":\n"));
    CHECK(text && strstr(text, "\"status\":\"maybe\""));
    free(text);
    CHECK(qa_store_open(&s, path, &e) == 0);
    CHECK(s.n == 2 && s.n_bad == 3 && s.r[0].status == QA_APPROVED);
    qa_store_close(&s);
}

/* The child's burst: change i is an add (i % 3 == 0), an edit of that
 * record's answer (1) or its approval (2); compaction every 97 changes.
 * It writes i to the pipe once change i is acknowledged. */
static void burst_child(const char *path, int fd, int compact_every)
{
    QaStore s;
    Err e;
    if (qa_store_open(&s, path, &e) != 0)
        _exit(2);
    for (int i = 0; i < 1000; i++) {
        char q[64], a[64];
        long id = i / 3 + 1;
        int rc;
        if (i % 3 == 0) {
            snprintf(q, sizeof q, "question %d?", i);
            snprintf(a, sizeof a, "answer %d.", i);
            rc = qa_add(&s, q, a, NULL, &e) == id ? 0 : -1;
        } else if (i % 3 == 1) {
            snprintf(a, sizeof a, "edited %d.", i);
            rc = qa_edit(&s, id, "answer", a, &e);
        } else {
            rc = qa_set_status(&s, id, QA_APPROVED, &e);
        }
        if (rc == 0 && compact_every && i % compact_every == compact_every - 1)
            rc = qa_store_compact(&s, &e);
        if (rc != 0)
            _exit(3);
        if (write(fd, &i, sizeof i) != sizeof i)
            _exit(4);
    }
    _exit(0);
}

static void kill_burst(const char *name, int stop_after, int compact_every)
{
    char path[256];
    fresh(name, path, sizeof path);
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        burst_child(path, p[1], compact_every);
    }
    close(p[1]);
    int acked = -1, i;
    while (acked < stop_after && read(p[0], &i, sizeof i) == sizeof i)
        acked = i;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    /* Acknowledgements still in the pipe were acknowledged too. */
    while (read(p[0], &i, sizeof i) == sizeof i)
        acked = i;
    close(p[0]);
    CHECKF(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0), "child status %d", status);

    QaStore s;
    Err e;
    CHECK(qa_store_open(&s, path, &e) == 0);
    long want = acked / 3 + 1;
    /* One change past the last acknowledged may have landed as well. */
    CHECKF((long)s.n == want || ((long)s.n == want + 1 && (acked + 1) % 3 == 0), "%zu records after change %d",
           s.n, acked);
    int bad = 0;
    for (long id = 1; id <= want; id++) {
        QaRecord *r = qa_find(&s, id);
        int base = (int)(id - 1) * 3;
        char a[64];
        if (!r) {
            bad++;
            continue;
        }
        if (base + 1 <= acked) {
            snprintf(a, sizeof a, "edited %d.", base + 1);
            bad += strcmp(r->answer, a) != 0;
        }
        if (base + 2 <= acked)
            bad += r->status != QA_APPROVED;
    }
    CHECKF(bad == 0, "%d acknowledged changes lost (acked up to %d)", bad, acked);
    CHECK(acked >= stop_after);
    qa_store_close(&s);
}

static void test_export(void)
{
    char path[256], out[300];
    fresh("export", path, sizeof path);
    snprintf(out, sizeof out, DIR "/export/sft.jsonl");
    QaStore s;
    Err e;
    CHECK(qa_store_open(&s, path, &e) == 0);
    qa_add(&s, "Q1?", "A1.", NULL, &e);
    qa_add(&s, "Q2?", "A2.", NULL, &e);
    qa_add(&s, "Q3?", "A3.", NULL, &e);
    qa_add(&s, "Q4?", "A4.", NULL, &e);
    qa_set_status(&s, 1, QA_APPROVED, &e);
    qa_set_status(&s, 2, QA_APPROVED, &e);
    qa_set_golden(&s, 2, 1, &e);
    qa_set_status(&s, 3, QA_APPROVED, &e);
    qa_delete(&s, 3, 1, &e);
    qa_set_status(&s, 4, QA_REJECTED, &e);
    size_t n = 0;
    CHECK(qa_store_export_sft(&s, out, QA_EXPORT_APPROVED, &n, &e) == 0 && n == 2);
    CHECK(qa_store_export_sft(&s, out, QA_EXPORT_GOLDEN, &n, &e) == 0 && n == 1);
    char *text = slurp(out);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    SftRecord r;
    CHECK(o && sft_record_parse(&r, o, out, 1, &e) == 0);
    CHECK(o && r.n == 2 && r.msgs[0].role == CHAT_USER && strcmp(r.msgs[0].content, "Q2?") == 0 &&
          strcmp(r.msgs[1].content, "A2.") == 0);
    if (o)
        sft_record_free(&r);
    cJSON_Delete(o);
    free(text);
    CHECK(qa_store_export_sft(&s, out, QA_EXPORT_PLAIN, &n, &e) == 0 && n == 1);
    CHECK(qa_store_compact(&s, &e) == 0);
    CHECK(qa_store_sniff(path) == 1);
    CHECK(qa_store_sniff(out) == 0);
    qa_store_close(&s);
}

/* A reader beside the writer: the workbench holds the store while a
 * training job reads it. */
static void test_snapshot(void)
{
    char path[256], jpath[300];
    fresh("snapshot", path, sizeof path);
    snprintf(jpath, sizeof jpath, "%s.journal", path);
    QaStore w, r, again;
    Err e;
    CHECK(qa_store_open(&w, path, &e) == 0);
    long a = qa_add(&w, "Q1?", "A1.", NULL, &e);
    qa_add(&w, "Q2?", "A2.", NULL, &e);
    CHECK(qa_store_compact(&w, &e) == 0);
    CHECK(qa_set_status(&w, a, QA_APPROVED, &e) == 0); /* only in the journal */
    CHECK(qa_store_open(&again, path, &e) != 0 && strstr(e.msg, "in use"));
    CHECK(qa_store_open_snapshot(&r, path, &e) == 0);
    CHECK(r.n == 2 && r.r[0].status == QA_APPROVED && r.r[1].status == QA_PENDING);
    CHECKF(qa_set_status(&r, 2, QA_REJECTED, &e) != 0 && strstr(e.msg, "read-only"), "%s", e.msg);
    CHECK(qa_add(&r, "Q3?", "A3.", NULL, &e) < 0);
    CHECK(qa_store_compact(&r, &e) != 0);
    qa_store_close(&r);
    /* a torn tail (the writer mid-append) is skipped and not cut off */
    FILE *f = fopen(jpath, "ab");
    fputs("{\"seq\":9,\"op\":\"se", f);
    fclose(f);
    struct stat before, after;
    stat(jpath, &before);
    CHECK(qa_store_open_snapshot(&r, path, &e) == 0);
    stat(jpath, &after);
    CHECK(r.n == 2 && r.r[0].status == QA_APPROVED);
    CHECK(before.st_size == after.st_size);
    qa_store_close(&r);
    qa_store_close(&w);
    /* no store yet: an empty snapshot, and nothing created */
    char none[300];
    snprintf(none, sizeof none, "%s.none", path);
    CHECK(qa_store_open_snapshot(&r, none, &e) == 0 && r.n == 0);
    snprintf(none, sizeof none, "%s.none.journal", path);
    CHECK(!fs_exists(none));
    qa_store_close(&r);
}

int main(void)
{
    Err e;
    fs_mkdirs(DIR, &e);
    test_changes_and_replay();
    test_journal_not_applied_twice();
    test_torn_journal();
    test_malformed_main_lines();
    test_export();
    test_snapshot();
    kill_burst("kill-a", 150, 0);
    kill_burst("kill-b", 611, 0);
    /* Compacting often, so some kills land inside a compaction. */
    for (int k = 0; k < 6; k++) {
        char name[32];
        snprintf(name, sizeof name, "kill-compact-%d", k);
        kill_burst(name, 100 + 137 * k, 7);
    }
    TEST_MAIN_END();
}
