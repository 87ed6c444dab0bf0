/* test_worker.c - the engine thread: queue order, events, wake-ups,
 * cancel, pause, bounded event memory, shutdown and a stress run.
 *
 * The test plays the UI: it polls worker_fd() and drains, as the workbench
 * will.  Nothing sleeps for a fixed time except where the point is that
 * nothing happens (a paused worker starting no job: 50 ms); every wait is
 * for a condition with a 5 s limit, so a broken worker fails the run
 * instead of hanging it.  Jobs that wait for the UI give up after the same
 * limit and fail with a message.  Worth running under ThreadSanitizer too:
 *   cc -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=thread -Isrc -Itests \
 *      tests/test_worker.c src/worker.c src/err.c -lpthread */
#include "test.h"
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <time.h>

#define LIMIT_MS 5000

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void nap(void) { nanosleep(&(struct timespec){0, 1000000}, NULL); }

static int readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r;
    do
        r = poll(&p, 1, ms);
    while (r < 0 && errno == EINTR);
    return r > 0 && (p.revents & POLLIN);
}

/* ---- the UI side of the test: events collected so far ---- */

typedef struct Got {
    WorkerEvent *head, *tail;
} Got;

static void got_add(Got *g, WorkerEvent *list)
{
    if (!list)
        return;
    if (g->tail)
        g->tail->next = list;
    else
        g->head = list;
    while (list->next)
        list = list->next;
    g->tail = list;
}

static void got_free(Got *g)
{
    worker_events_free(g->head);
    g->head = g->tail = NULL;
}

static WorkerEvent *got_find(const Got *g, int type, long job, const char *text)
{
    for (WorkerEvent *ev = g->head; ev; ev = ev->next)
        if (ev->type == type && ev->job_id == job && (!text || (ev->text && strcmp(ev->text, text) == 0)))
            return ev;
    return NULL;
}

static int got_count(const Got *g, long job)
{
    int n = 0;
    for (WorkerEvent *ev = g->head; ev; ev = ev->next)
        n += ev->job_id == job;
    return n;
}

/* Polls and drains until the event has arrived; NULL after LIMIT_MS. */
static WorkerEvent *await(Worker *w, Got *g, int type, long job, const char *text)
{
    double end = now_ms() + LIMIT_MS;
    for (;;) {
        WorkerEvent *ev = got_find(g, type, job, text);
        if (ev)
            return ev;
        double left = end - now_ms();
        if (left <= 0)
            return NULL;
        readable(worker_fd(w), (int)left + 1);
        got_add(g, worker_drain(w));
    }
}

/* Waits, without draining, until no job runs or waits. */
static int await_idle(Worker *w)
{
    double end = now_ms() + LIMIT_MS;
    while (worker_busy(w))
        if (now_ms() > end)
            return 0;
        else
            nap();
    return 1;
}

/* ---- jobs ---- */

static atomic_int ctx_frees;

static void count_free(void *p)
{
    atomic_fetch_add(&ctx_frees, 1);
    free(p);
}

static long *new_long(long v)
{
    long *p = malloc(sizeof *p);
    *p = v;
    return p;
}

/* Waits for a condition the UI will make true; fails after LIMIT_MS. */
#define JOB_AWAIT(job, cond) do { \
    double end_ = now_ms() + LIMIT_MS; \
    while (!(cond)) { \
        if (now_ms() > end_) \
            return err_set(worker_job_err(job), "%s: gave up waiting for %s", worker_job_name(job), #cond); \
        nap(); \
    } \
} while (0)

static atomic_int run_order[16];
static atomic_int run_count;

/* Records its ctx (a long) in run_order. */
static int job_record(WorkerJob *job, void *ctx)
{
    int i = atomic_fetch_add(&run_count, 1);
    if (i < 16)
        atomic_store(&run_order[i], (int)*(long *)ctx);
    return 0;
}

typedef struct Step {
    long step;
    double loss;
} Step;

static atomic_int user_frees;
static void user_free(void *p)
{
    atomic_fetch_add(&user_frees, 1);
    free(p);
}

static atomic_int refused;

static int job_mixed(WorkerJob *job, void *ctx)
{
    worker_post_log(job, "start %s\n", worker_job_name(job));
    worker_post_step(job, &(Step){7, 1.5}, sizeof(Step));
    worker_post_row(job, 3, new_long(33), free);
    worker_post_token(job, 1, "hel", 3);
    worker_post_token(job, 1, "lo world", 2);
    worker_post_user(job, 9, new_long(99), user_free);
    worker_post_log(job, "b");
    worker_post_error(job, "warn %d", 5);
    /* The generic form: text copied, data copied because size > 0. */
    double v = 2.25;
    worker_post(job, &(WorkerEvent){.type = WORKER_EV_USER, .index = 10, .text = "u", .data = &v, .size = sizeof v});
    /* DONE is the worker's, unknown types are refused; a handed-over
     * payload is freed all the same. */
    atomic_store(&refused, worker_post(job, &(WorkerEvent){.type = WORKER_EV_DONE}) == -1 &&
                           worker_post(job, &(WorkerEvent){.type = 99, .data = new_long(5), .free_data = user_free}) == -1);
    return 0;
}

static int job_spin(WorkerJob *job, void *ctx)
{
    worker_post_log(job, "started");
    JOB_AWAIT(job, worker_job_cancelled(job));
    return 0;
}

static atomic_int never_ran;
static int job_never(WorkerJob *job, void *ctx)
{
    atomic_store(&never_ran, 1);
    return 0;
}

static int job_pauser(WorkerJob *job, void *ctx)
{
    worker_post_log(job, "started");
    JOB_AWAIT(job, worker_job_paused(job));
    worker_post_log(job, "paused");
    JOB_AWAIT(job, !worker_job_paused(job));
    worker_post_log(job, "resumed");
    return 0;
}

static int job_hello(WorkerJob *job, void *ctx)
{
    worker_post_log(job, "hello");
    return 0;
}

static int job_fail(WorkerJob *job, void *ctx)
{
    return err_set(worker_job_err(job), "data/train.jsonl: line %d: not JSON", 3);
}

static int job_fail_silent(WorkerJob *job, void *ctx) { return -1; }

#define FLOOD_TOKENS 100000
#define FLOOD_STEPS 1000

static int job_flood(WorkerJob *job, void *ctx)
{
    for (long i = 0; i < FLOOD_TOKENS; i++) {
        if (i % (FLOOD_TOKENS / FLOOD_STEPS) == 0)
            worker_post_step(job, &(Step){i / (FLOOD_TOKENS / FLOOD_STEPS) + 1, 1.0 / (double)(i + 1)}, sizeof(Step));
        char t[32];
        int n = snprintf(t, sizeof t, "%ld ", i);
        worker_post_token(job, i % 10 == 9 ? 1 : 0, t, (size_t)n);
    }
    return 0;
}

static int job_ordered(WorkerJob *job, void *ctx)
{
    worker_post_step(job, &(Step){1, 0}, sizeof(Step));
    worker_post_step(job, &(Step){2, 0}, sizeof(Step));
    worker_post_log(job, "x");
    worker_post_step(job, &(Step){3, 0}, sizeof(Step));
    worker_post_step(job, &(Step){4, 0}, sizeof(Step));
    worker_post_token(job, 0, "a", 1);
    worker_post_token(job, 1, "x", 1);
    worker_post_token(job, 0, "b", 1);
    worker_post_row(job, 0, NULL, NULL);
    worker_post_token(job, 0, "c", 1);
    return 0;
}

/* Spins until cancelled, then leaves an undrained payload behind. */
static int job_spin_leave(WorkerJob *job, void *ctx)
{
    worker_post_log(job, "started");
    JOB_AWAIT(job, worker_job_cancelled(job));
    worker_post_user(job, 1, new_long(1), count_free);
    worker_post_token(job, 0, "bye", 3);
    return 0;
}

/* ---- tests ---- */

static void test_fifo(void)
{
    Err e = {{0}};
    Worker *w = worker_new(&e);
    CHECKF(w != NULL, "%s", e.msg);
    if (!w)
        return;
    atomic_store(&run_count, 0);
    atomic_store(&ctx_frees, 0);
    long id[3];
    for (int i = 0; i < 3; i++)
        id[i] = worker_submit(w, "record", job_record, new_long(i + 1), count_free, &e);
    CHECK(id[0] > 0 && id[1] > id[0] && id[2] > id[1]);
    Got g = {0};
    CHECK(await(w, &g, WORKER_EV_DONE, id[2], NULL) != NULL);
    await(w, &g, WORKER_EV_DONE, id[0], NULL);
    await(w, &g, WORKER_EV_DONE, id[1], NULL);
    CHECK(atomic_load(&run_count) == 3);
    CHECKF(atomic_load(&run_order[0]) == 1 && atomic_load(&run_order[1]) == 2 && atomic_load(&run_order[2]) == 3,
           "ran %d %d %d", atomic_load(&run_order[0]), atomic_load(&run_order[1]), atomic_load(&run_order[2]));
    CHECK(atomic_load(&ctx_frees) == 3);
    /* DONE events in submission order, all ok, nothing else. */
    int k = 0, bad = 0;
    for (WorkerEvent *ev = g.head; ev; ev = ev->next, k++)
        bad += k >= 3 || ev->type != WORKER_EV_DONE || ev->job_id != id[k] || ev->status != WORKER_OK || ev->text;
    CHECKF(k == 3 && bad == 0, "%d events, %d wrong", k, bad);
    got_free(&g);
    worker_delete(w);
}

static void test_events(void)
{
    Err e = {{0}};
    Worker *w = worker_new(&e);
    if (!w) {
        CHECKF(0, "%s", e.msg);
        return;
    }
    atomic_store(&user_frees, 0);
    /* Drained once at the end, so that the two tokens are one event (a
     * drain between them would rightly give two). */
    long id = worker_submit(w, "mixed", job_mixed, NULL, NULL, &e);
    Got g = {0};
    CHECK(await_idle(w));
    got_add(&g, worker_drain(w));
    WorkerEvent *ev = g.head;
#define NEXT(cond) do { CHECKF(ev && ev->job_id == id && (cond), "event type %d", ev ? ev->type : -1); \
                        if (ev) ev = ev->next; } while (0)
    NEXT(ev->type == WORKER_EV_LOG && strcmp(ev->text, "start mixed") == 0 && ev->len == 11);
    NEXT(ev->type == WORKER_EV_STEP && ev->size == sizeof(Step) && ((Step *)ev->data)->step == 7 &&
         ((Step *)ev->data)->loss == 1.5);
    NEXT(ev->type == WORKER_EV_ROW && ev->index == 3 && ev->data && *(long *)ev->data == 33);
    NEXT(ev->type == WORKER_EV_TOKEN && ev->index == 1 && strcmp(ev->text, "hello") == 0 && ev->len == 5);
    NEXT(ev->type == WORKER_EV_USER && ev->index == 9 && *(long *)ev->data == 99 && ev->free_data == user_free);
    NEXT(ev->type == WORKER_EV_LOG && strcmp(ev->text, "b") == 0);
    NEXT(ev->type == WORKER_EV_ERROR && strcmp(ev->text, "warn 5") == 0);
    NEXT(ev->type == WORKER_EV_USER && ev->index == 10 && strcmp(ev->text, "u") == 0 && ev->size == sizeof(double) &&
         *(double *)ev->data == 2.25);
    NEXT(ev->type == WORKER_EV_DONE && ev->status == WORKER_OK);
    CHECK(ev == NULL);
#undef NEXT
    CHECK(atomic_load(&refused) == 1);
    CHECK(atomic_load(&user_frees) == 1);     /* the refused one's */
    got_free(&g);
    CHECK(atomic_load(&user_frees) == 2);
    worker_delete(w);
}

static void test_pipe(void)
{
    Err e = {{0}};
    Worker *w = worker_new(&e);
    if (!w) {
        CHECKF(0, "%s", e.msg);
        return;
    }
    int fd = worker_fd(w);
    CHECK(fd >= 0);
    CHECK(!readable(fd, 0));
    CHECK(worker_drain(w) == NULL);
    long id = worker_submit(w, "hello", job_hello, NULL, NULL, &e);
    CHECK(readable(fd, LIMIT_MS));
    CHECK(await_idle(w));
    CHECK(readable(fd, 0));
    WorkerEvent *list = worker_drain(w);
    CHECK(list && list->type == WORKER_EV_LOG && list->job_id == id && list->next &&
          list->next->type == WORKER_EV_DONE && !list->next->next);
    worker_events_free(list);
    CHECK(!readable(fd, 0));
    CHECK(worker_drain(w) == NULL);
    /* And again: the next post after a drain wakes the UI again. */
    id = worker_submit(w, "hello", job_hello, NULL, NULL, &e);
    CHECK(readable(fd, LIMIT_MS));
    Got g = {0};
    CHECK(await(w, &g, WORKER_EV_DONE, id, NULL) != NULL);
    got_free(&g);
    CHECK(await_idle(w));
    worker_events_free(worker_drain(w));
    CHECK(!readable(fd, 0));
    worker_delete(w);
}

static void test_cancel(void)
{
    Err e = {{0}};
    Worker *w = worker_new(&e);
    if (!w) {
        CHECKF(0, "%s", e.msg);
        return;
    }
    atomic_store(&ctx_frees, 0);
    atomic_store(&never_ran, 0);
    Got g = {0};
    long a = worker_submit(w, "spin", job_spin, new_long(0), count_free, &e);
    long b = worker_submit(w, "never", job_never, new_long(0), count_free, &e);
    CHECK(await(w, &g, WORKER_EV_LOG, a, "started") != NULL);
    char name[8];
    CHECK(worker_current(w, name, sizeof name) == a && strcmp(name, "spin") == 0);
    CHECK(worker_current(w, NULL, 0) == a);
    CHECK(worker_busy(w) == 2);

    /* Queued: removed at once, ctx freed by the call, DONE cancelled. */
    CHECK(worker_cancel(w, b) == 1);
    CHECK(atomic_load(&ctx_frees) == 1);
    CHECK(worker_busy(w) == 1);
    WorkerEvent *ev = await(w, &g, WORKER_EV_DONE, b, NULL);
    CHECK(ev && ev->status == WORKER_CANCELLED);
    CHECK(worker_cancel(w, b) == 0);
    CHECK(worker_cancel(w, 12345) == 0);

    /* Running: the flag, then DONE cancelled when the job returns. */
    CHECK(worker_cancel(w, WORKER_CURRENT) == 1);
    ev = await(w, &g, WORKER_EV_DONE, a, NULL);
    CHECKF(ev && ev->status == WORKER_CANCELLED, "status %d", ev ? ev->status : -1);
    CHECK(atomic_load(&ctx_frees) == 2);
    CHECK(worker_busy(w) == 0);
    CHECK(worker_current(w, name, sizeof name) == 0 && name[0] == '\0');
    CHECK(worker_cancel(w, WORKER_CURRENT) == 0);
    CHECK(atomic_load(&never_ran) == 0);
    CHECK(got_find(&g, WORKER_EV_ERROR, a, NULL) == NULL);

    /* By id while running; the name is truncated to the buffer. */
    long c = worker_submit(w, "spin-with-a-long-name", job_spin, NULL, NULL, &e);
    CHECK(await(w, &g, WORKER_EV_LOG, c, "started") != NULL);
    CHECK(worker_current(w, name, sizeof name) == c && strcmp(name, "spin-wi") == 0);
    CHECK(worker_cancel(w, c) == 1);
    ev = await(w, &g, WORKER_EV_DONE, c, NULL);
    CHECK(ev && ev->status == WORKER_CANCELLED);
    got_free(&g);
    worker_delete(w);
}

static void test_pause(void)
{
    Err e = {{0}};
    Worker *w = worker_new(&e);
    if (!w) {
        CHECKF(0, "%s", e.msg);
        return;
    }
    Got g = {0};
    long a = worker_submit(w, "pauser", job_pauser, NULL, NULL, &e);
    CHECK(await(w, &g, WORKER_EV_LOG, a, "started") != NULL);
    CHECK(!worker_paused(w));
    worker_pause(w);
    CHECK(worker_paused(w));
    CHECK(await(w, &g, WORKER_EV_LOG, a, "paused") != NULL);
    CHECK(got_find(&g, WORKER_EV_LOG, a, "resumed") == NULL);
    worker_resume(w);
    CHECK(!worker_paused(w));
    WorkerEvent *ev = await(w, &g, WORKER_EV_DONE, a, NULL);
    CHECKF(ev && ev->status == WORKER_OK, "%s", ev && ev->text ? ev->text : "no DONE");
    CHECK(got_find(&g, WORKER_EV_LOG, a, "resumed") != NULL);
    got_free(&g);

    /* While paused no queued job starts; resume starts it. */
    worker_pause(w);
    long b = worker_submit(w, "hello", job_hello, NULL, NULL, &e);
    CHECK(!readable(worker_fd(w), 50));
    CHECK(worker_current(w, NULL, 0) == 0 && worker_busy(w) == 1);
    worker_resume(w);
    ev = await(w, &g, WORKER_EV_DONE, b, NULL);
    CHECK(ev && ev->status == WORKER_OK && got_find(&g, WORKER_EV_LOG, b, "hello"));
    got_free(&g);
    worker_delete(w);
}

static void test_errors(void)
{
    Err e = {{0}};
    Worker *w = worker_new(&e);
    if (!w) {
        CHECKF(0, "%s", e.msg);
        return;
    }
    Got g = {0};
    const char *msg = "data/train.jsonl: line 3: not JSON";
    long a = worker_submit(w, "fail", job_fail, NULL, NULL, &e);
    long b = worker_submit(w, "quiet", job_fail_silent, NULL, NULL, &e);
    long c = worker_submit(w, "hello", job_hello, NULL, NULL, &e);
    CHECK(await(w, &g, WORKER_EV_DONE, c, NULL) != NULL);
    WorkerEvent *ev = g.head;
    CHECK(ev && ev->type == WORKER_EV_ERROR && ev->job_id == a && strcmp(ev->text, msg) == 0);
    ev = ev ? ev->next : NULL;
    CHECK(ev && ev->type == WORKER_EV_DONE && ev->job_id == a && ev->status == WORKER_FAILED && ev->text &&
          strcmp(ev->text, msg) == 0);
    ev = got_find(&g, WORKER_EV_DONE, b, NULL);
    CHECKF(ev && ev->status == WORKER_FAILED && ev->text && strcmp(ev->text, "quiet: failed") == 0, "%s",
           ev && ev->text ? ev->text : "(none)");
    CHECK(got_find(&g, WORKER_EV_ERROR, b, "quiet: failed") != NULL);
    /* A failure does not stop the queue. */
    ev = got_find(&g, WORKER_EV_DONE, c, NULL);
    CHECK(ev && ev->status == WORKER_OK);
    got_free(&g);
    worker_delete(w);
}

static void test_coalesce(void)
{
    Err e = {{0}};
    Worker *w = worker_new(&e);
    if (!w) {
        CHECKF(0, "%s", e.msg);
        return;
    }
    /* The expected text of each stage, built the way the job posts it. */
    size_t cap = (size_t)FLOOD_TOKENS * 8;
    char *want[2] = {malloc(cap), malloc(cap)};
    size_t n[2] = {0, 0};
    for (long i = 0; i < FLOOD_TOKENS; i++) {
        int s = i % 10 == 9;
        n[s] += (size_t)snprintf(want[s] + n[s], cap - n[s], "%ld ", i);
    }

    long id = worker_submit(w, "flood", job_flood, NULL, NULL, &e);
    CHECK(await_idle(w));   /* no draining while the job posts */
    WorkerEvent *list = worker_drain(w);
    int count = 0;
    WorkerEvent *step = NULL, *tok[2] = {NULL, NULL}, *done = NULL, *last = NULL;
    for (WorkerEvent *ev = list; ev; last = ev, ev = ev->next, count++) {
        if (ev->job_id != id)
            continue;
        if (ev->type == WORKER_EV_STEP)
            step = ev;
        else if (ev->type == WORKER_EV_TOKEN && ev->index >= 0 && ev->index < 2)
            tok[ev->index] = ev;
        else if (ev->type == WORKER_EV_DONE)
            done = ev;
    }
    CHECKF(count == 4, "%d events for %d tokens and %d steps", count, FLOOD_TOKENS, FLOOD_STEPS);
    CHECK(step && step->size == sizeof(Step) && ((Step *)step->data)->step == FLOOD_STEPS);
    for (int s = 0; s < 2; s++)
        CHECKF(tok[s] && tok[s]->len == n[s] && strcmp(tok[s]->text, want[s]) == 0, "stage %d: %zu bytes, want %zu",
               s, tok[s] ? tok[s]->len : 0, n[s]);
    CHECK(done && done->status == WORKER_OK && done == last);
    worker_events_free(list);
    free(want[0]);
    free(want[1]);

    /* Merging stops at any other event, which keeps its place. */
    id = worker_submit(w, "ordered", job_ordered, NULL, NULL, &e);
    CHECK(await_idle(w));
    list = worker_drain(w);
    WorkerEvent *ev = list;
#define NEXT(cond) do { CHECKF(ev && ev->job_id == id && (cond), "event type %d", ev ? ev->type : -1); \
                        if (ev) ev = ev->next; } while (0)
    NEXT(ev->type == WORKER_EV_STEP && ((Step *)ev->data)->step == 2);
    NEXT(ev->type == WORKER_EV_LOG && strcmp(ev->text, "x") == 0);
    NEXT(ev->type == WORKER_EV_STEP && ((Step *)ev->data)->step == 4);
    NEXT(ev->type == WORKER_EV_TOKEN && ev->index == 0 && strcmp(ev->text, "ab") == 0);
    NEXT(ev->type == WORKER_EV_TOKEN && ev->index == 1 && strcmp(ev->text, "x") == 0);
    NEXT(ev->type == WORKER_EV_ROW && ev->index == 0 && ev->data == NULL);
    NEXT(ev->type == WORKER_EV_TOKEN && ev->index == 0 && strcmp(ev->text, "c") == 0);
    NEXT(ev->type == WORKER_EV_DONE);
    CHECK(ev == NULL);
#undef NEXT
    worker_events_free(list);

    /* Nothing merges across a drain: each drained list is the UI's. */
    Got g = {0};
    id = worker_submit(w, "ordered", job_ordered, NULL, NULL, &e);
    CHECK(await(w, &g, WORKER_EV_DONE, id, NULL) != NULL);
    CHECK(got_count(&g, id) >= 8);
    got_free(&g);
    worker_delete(w);
}

static void test_delete(void)
{
    worker_delete(NULL);
    Err e = {{0}};
    Worker *w = worker_new(&e);
    CHECKF(w != NULL, "%s", e.msg);
    worker_delete(w);   /* no jobs at all */

    /* A running job that polls its flag, two queued ones and undrained events. */
    w = worker_new(&e);
    if (!w) {
        CHECKF(0, "%s", e.msg);
        return;
    }
    atomic_store(&ctx_frees, 0);
    atomic_store(&never_ran, 0);
    Got g = {0};
    long a = worker_submit(w, "long", job_spin_leave, new_long(0), count_free, &e);
    worker_submit(w, "never", job_never, new_long(0), count_free, &e);
    worker_submit(w, "never", job_never, new_long(0), count_free, &e);
    CHECK(await(w, &g, WORKER_EV_LOG, a, "started") != NULL);
    got_free(&g);
    double t0 = now_ms();
    worker_delete(w);
    double dt = now_ms() - t0;
    CHECKF(dt < 1000, "worker_delete took %.0f ms", dt);
    /* three contexts and the undrained USER payload */
    CHECKF(atomic_load(&ctx_frees) == 4, "%d frees", atomic_load(&ctx_frees));
    CHECK(atomic_load(&never_ran) == 0);

    /* Paused, with a queued job: delete still returns and frees it. */
    w = worker_new(&e);
    if (!w) {
        CHECKF(0, "%s", e.msg);
        return;
    }
    atomic_store(&ctx_frees, 0);
    worker_pause(w);
    worker_submit(w, "never", job_never, new_long(0), count_free, &e);
    worker_delete(w);
    CHECK(atomic_load(&ctx_frees) == 1 && atomic_load(&never_ran) == 0);
}

/* ---- stress: many small jobs, submitted, cancelled and drained at once ---- */

#define STRESS_JOBS 2000

static atomic_long stress_last;     /* the last id that ran */
static atomic_int stress_misorder;

static int job_small(WorkerJob *job, void *ctx)
{
    long id = worker_job_id(job);
    if (atomic_exchange(&stress_last, id) >= id)
        atomic_fetch_add(&stress_misorder, 1);
    if (*(long *)ctx != id)
        atomic_fetch_add(&stress_misorder, 1);
    worker_post_step(job, &(Step){id, 0}, sizeof(Step));
    worker_post_token(job, 0, "ab", 2);
    worker_post_log(job, "job %ld", id);
    worker_post_token(job, 0, "cd", 2);
    if (id % 10 == 0)
        return err_set(worker_job_err(job), "job %ld failed", id);
    return 0;
}

static void test_stress(void)
{
    Err e = {{0}};
    Worker *w = worker_new(&e);
    if (!w) {
        CHECKF(0, "%s", e.msg);
        return;
    }
    atomic_store(&ctx_frees, 0);
    atomic_store(&stress_last, 0);
    atomic_store(&stress_misorder, 0);
    static int done[STRESS_JOBS + 1], status[STRESS_JOBS + 1], logs[STRESS_JOBS + 1], cancelled[STRESS_JOBS + 1];
    static char text[STRESS_JOBS + 1][8];
    memset(done, 0, sizeof done);
    memset(logs, 0, sizeof logs);
    memset(cancelled, 0, sizeof cancelled);
    memset(text, 0, sizeof text);
    int n_done = 0, bad = 0, submitted = 0;
    double end = now_ms() + 10 * LIMIT_MS;
    while (n_done < STRESS_JOBS && now_ms() < end) {
        /* Submit in bursts, cancel some right away, drain in between. */
        for (int k = 0; k < 50 && submitted < STRESS_JOBS; k++) {
            long id = worker_submit(w, "small", job_small, new_long(submitted + 1), count_free, &e);
            submitted++;
            if (id != submitted) {
                bad++;
                continue;
            }
            if (id % 7 == 0)
                cancelled[id] = worker_cancel(w, id);
        }
        if (submitted == STRESS_JOBS)
            readable(worker_fd(w), 100);
        WorkerEvent *list = worker_drain(w);
        for (WorkerEvent *ev = list; ev; ev = ev->next) {
            long id = ev->job_id;
            if (id < 1 || id > STRESS_JOBS) {
                bad++;
                continue;
            }
            if (ev->type == WORKER_EV_DONE) {
                done[id]++, n_done++;
                status[id] = ev->status;
            } else if (ev->type == WORKER_EV_LOG) {
                char want[32];
                snprintf(want, sizeof want, "job %ld", id);
                logs[id]++;
                bad += strcmp(ev->text, want) != 0;
            } else if (ev->type == WORKER_EV_TOKEN) {
                size_t have = strlen(text[id]);
                if (have + ev->len < sizeof text[id])
                    memcpy(text[id] + have, ev->text, ev->len + 1);
                else
                    bad++;
            } else if (ev->type == WORKER_EV_STEP) {
                bad += ((Step *)ev->data)->step != id;
            }
        }
        worker_events_free(list);
    }
    CHECKF(n_done == STRESS_JOBS, "%d of %d jobs done", n_done, STRESS_JOBS);
    CHECKF(bad == 0, "%d bad events", bad);
    CHECK(atomic_load(&stress_misorder) == 0);
    int wrong = 0;
    for (long id = 1; id <= STRESS_JOBS; id++) {
        int want = cancelled[id] ? WORKER_CANCELLED : id % 10 == 0 ? WORKER_FAILED : WORKER_OK;
        wrong += done[id] != 1 || status[id] != want;
        if (want != WORKER_CANCELLED)
            wrong += logs[id] != 1 || strcmp(text[id], "abcd") != 0;
    }
    CHECKF(wrong == 0, "%d jobs with a wrong outcome", wrong);
    int n_cancelled = 0;
    for (long id = 1; id <= STRESS_JOBS; id++)
        n_cancelled += cancelled[id];
    CHECKF(n_cancelled > 0, "no cancel reached a job");
    CHECK(worker_busy(w) == 0);
    CHECK(atomic_load(&ctx_frees) == STRESS_JOBS);
    worker_delete(w);
}

int main(void)
{
    test_fifo();
    test_events();
    test_pipe();
    test_cancel();
    test_pause();
    test_errors();
    test_coalesce();
    test_delete();
    test_stress();
    TEST_MAIN_END();
}
