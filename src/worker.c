/* worker.c - the engine thread, its job queue and its event list (see
 * worker.h for the design).
 *
 * One mutex guards everything shared except the two flags a job polls
 * (its cancel flag and the worker's pause flag), which are atomics so that
 * polling them between tokens costs no lock.  The condition variable wakes
 * the worker thread only: a job was queued, the pause ended, or the worker
 * is being deleted.  Nothing is allocated, freed or called back while the
 * lock is held, except the realloc that appends a token to an undrained
 * TOKEN event (the event is in the shared list, so it must be).
 *
 * The pipe's byte is written and read under the lock too (one write per
 * drain cycle, one or two reads per drain that found events), so the pipe is
 * readable exactly while undrained events exist: the UI never wakes for
 * nothing and never sleeps on waiting events. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct WorkerJob {
    long id;
    char *name;
    WorkerRunFn run;
    void *ctx;
    WorkerFreeFn free_ctx;
    atomic_int cancelled;
    Worker *w;
    WorkerEvent *done;      /* made at submit, so that DONE cannot be lost to a failed malloc */
    Err err;
    WorkerJob *next;        /* in the queue */
};

struct Worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* for the worker thread: queued, resumed or quit */
    int pipe_r, pipe_w;     /* both non-blocking */
    atomic_int paused;      /* written under mu too, so the thread's wait sees it */
    /* under mu: */
    WorkerJob *queue, *queue_tail;
    int queued;
    WorkerJob *current;     /* the running job, or NULL */
    long next_id;
    int quit;
    WorkerEvent *events, *events_tail;
    WorkerEvent *run;       /* first event of the trailing STEP/TOKEN run of one job, or NULL */
    int woken;              /* the pipe holds a byte: events wait */
};

/* ---- events ---- */

void worker_event_free(WorkerEvent *ev)
{
    if (!ev)
        return;
    free(ev->text);
    if (ev->data && ev->free_data)
        ev->free_data(ev->data);
    free(ev);
}

void worker_events_free(WorkerEvent *list)
{
    while (list) {
        WorkerEvent *next = list->next;
        worker_event_free(list);
        list = next;
    }
}

/* TOKEN text grows by appends; its buffer is always this size for its
 * length, so no capacity field is needed and growth stays geometric. */
static size_t token_cap(size_t n)
{
    size_t c = 16;
    while (c < n)
        c *= 2;
    return c;
}

static WorkerEvent *node_new(const WorkerJob *job, int type, long index)
{
    WorkerEvent *ev = calloc(1, sizeof *ev);
    if (ev) {
        ev->type = type;
        ev->job_id = job->id;
        ev->index = index;
    }
    return ev;
}

static int node_text(WorkerEvent *ev, const char *s, size_t n)
{
    ev->text = malloc(ev->type == WORKER_EV_TOKEN ? token_cap(n + 1) : n + 1);
    if (!ev->text)
        return -1;
    memcpy(ev->text, s, n);
    ev->text[n] = '\0';
    ev->len = n;
    return 0;
}

static int node_vtext(WorkerEvent *ev, const char *fmt, va_list ap)
{
    char *s;
    int n = vasprintf(&s, fmt, ap);
    if (n < 0)
        return -1;
    while (n > 0 && s[n - 1] == '\n')
        s[--n] = '\0';
    ev->text = s;
    ev->len = (size_t)n;
    return 0;
}

static void swap_payload(WorkerEvent *a, WorkerEvent *b)
{
    WorkerEvent t = *a;
    a->text = b->text, a->len = b->len, a->data = b->data, a->size = b->size, a->free_data = b->free_data;
    b->text = t.text, b->len = t.len, b->data = t.data, b->size = t.size, b->free_data = t.free_data;
}

static int mergeable(int type) { return type == WORKER_EV_STEP || type == WORKER_EV_TOKEN; }

/* The byte only wakes the UI's poll(); called with mu held, once per drain
 * cycle, so the pipe never holds more than one byte and cannot be full. */
static void wake_locked(Worker *w)
{
    if (w->woken)
        return;
    w->woken = 1;
    ssize_t r;
    do
        r = write(w->pipe_w, "", 1);
    while (r < 0 && errno == EINTR);
}

/* Called with mu held.  Merges ev into the trailing run (worker.h) or
 * appends it.  *spent is set to ev when it was merged (it then holds the
 * payload it replaced) for the caller to free after unlocking.  -1 if a token could not be
 * appended (out of memory): ev is then spent and its text lost, rather
 * than appended after the stage's event, which would break the order of
 * later appends. */
static int append_locked(Worker *w, WorkerEvent *ev, WorkerEvent **spent)
{
    *spent = NULL;
    if (mergeable(ev->type) && w->run && w->run->job_id == ev->job_id) {
        for (WorkerEvent *t = w->run; t; t = t->next) {
            if (t->type != ev->type)
                continue;
            if (ev->type == WORKER_EV_STEP) {
                swap_payload(t, ev);
                *spent = ev;
                return 0;
            }
            if (t->index != ev->index)
                continue;
            *spent = ev;
            size_t n = t->len + ev->len;
            if (token_cap(n + 1) > token_cap(t->len + 1)) {
                char *s = realloc(t->text, token_cap(n + 1));
                if (!s)
                    return -1;
                t->text = s;
            }
            memcpy(t->text + t->len, ev->text, ev->len + 1);
            t->len = n;
            return 0;
        }
    }
    ev->next = NULL;
    if (w->events_tail)
        w->events_tail->next = ev;
    else
        w->events = ev;
    w->events_tail = ev;
    if (!mergeable(ev->type))
        w->run = NULL;
    else if (!w->run || w->run->job_id != ev->job_id)
        w->run = ev;
    wake_locked(w);
    return 0;
}

/* Takes ev (NULL: a failed allocation) into the list. */
static int post_node(Worker *w, WorkerEvent *ev)
{
    if (!ev)
        return -1;
    WorkerEvent *spent;
    pthread_mutex_lock(&w->mu);
    int rc = append_locked(w, ev, &spent);
    pthread_mutex_unlock(&w->mu);
    worker_event_free(spent);
    return rc;
}

/* ---- the job side ---- */

long worker_job_id(const WorkerJob *job) { return job->id; }
const char *worker_job_name(const WorkerJob *job) { return job->name; }
int worker_job_cancelled(const WorkerJob *job) { return atomic_load(&job->cancelled); }
int worker_job_paused(const WorkerJob *job) { return atomic_load(&job->w->paused); }
Err *worker_job_err(WorkerJob *job) { return &job->err; }

int worker_post(WorkerJob *job, const WorkerEvent *src)
{
    /* A handed-over pointer must be freed on every failure path. */
    int handed = src->size == 0 && src->data && src->free_data;
    WorkerEvent *ev = NULL;
    if (src->type < WORKER_EV_STEP || src->type > WORKER_EV_USER || src->type == WORKER_EV_DONE)
        goto fail;
    ev = node_new(job, src->type, src->index);
    if (!ev)
        goto fail;
    ev->status = src->status;
    if (src->size) {
        if (!(ev->data = malloc(src->size)))
            goto fail;
        memcpy(ev->data, src->data, src->size);
        ev->size = src->size;
        ev->free_data = free;
    } else {
        ev->data = src->data;
        ev->free_data = src->free_data;
        handed = 0;     /* ev owns it now */
    }
    if (src->text && node_text(ev, src->text, strlen(src->text)) < 0)
        goto fail;
    return post_node(job->w, ev);
fail:
    worker_event_free(ev);
    if (handed)
        src->free_data(src->data);
    return -1;
}

int worker_post_step(WorkerJob *job, const void *data, size_t size)
{
    return worker_post(job, &(WorkerEvent){.type = WORKER_EV_STEP, .data = (void *)data, .size = size});
}

int worker_post_token(WorkerJob *job, long stage, const char *text, size_t len)
{
    if (len == 0)
        return 0;
    WorkerEvent *ev = node_new(job, WORKER_EV_TOKEN, stage);
    if (ev && node_text(ev, text, len) < 0) {
        worker_event_free(ev);
        return -1;
    }
    return post_node(job->w, ev);
}

int worker_post_row(WorkerJob *job, long index, void *data, WorkerFreeFn free_data)
{
    return worker_post(job, &(WorkerEvent){.type = WORKER_EV_ROW, .index = index, .data = data,
                                           .free_data = free_data});
}

int worker_post_user(WorkerJob *job, long kind, void *data, WorkerFreeFn free_data)
{
    return worker_post(job, &(WorkerEvent){.type = WORKER_EV_USER, .index = kind, .data = data,
                                           .free_data = free_data});
}

static int post_vtext(WorkerJob *job, int type, const char *fmt, va_list ap)
{
    WorkerEvent *ev = node_new(job, type, 0);
    if (ev && node_vtext(ev, fmt, ap) < 0) {
        worker_event_free(ev);
        return -1;
    }
    return post_node(job->w, ev);
}

int worker_post_log(WorkerJob *job, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = post_vtext(job, WORKER_EV_LOG, fmt, ap);
    va_end(ap);
    return rc;
}

int worker_post_error(WorkerJob *job, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = post_vtext(job, WORKER_EV_ERROR, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- jobs ---- */

static void job_free(WorkerJob *job)
{
    worker_event_free(job->done);
    free(job->name);
    free(job);
}

/* Frees the context of a job that will not run (or has run). */
static void job_drop_ctx(WorkerJob *job)
{
    if (job->free_ctx)
        job->free_ctx(job->ctx);
    job->ctx = NULL;
}

/* After run returned: the ERROR event, free_ctx, then DONE in the same
 * locked step that clears current, so a UI that has seen DONE also sees the
 * worker idle (or on the next job). */
static void job_finish(Worker *w, WorkerJob *job, int rc)
{
    WorkerEvent *done = job->done;
    job->done = NULL;
    const char *msg = job->err.msg;
    if (atomic_load(&job->cancelled)) {
        done->status = WORKER_CANCELLED;
        if (rc < 0 && msg[0])
            node_text(done, msg, strlen(msg));
    } else if (rc < 0) {
        char fallback[ERR_MSG_MAX];
        if (!msg[0]) {
            snprintf(fallback, sizeof fallback, "%s: failed", job->name);
            msg = fallback;
        }
        done->status = WORKER_FAILED;
        node_text(done, msg, strlen(msg));     /* out of memory: DONE without text */
        WorkerEvent *err = node_new(job, WORKER_EV_ERROR, 0);
        if (err && node_text(err, msg, strlen(msg)) == 0)
            post_node(w, err);
        else
            worker_event_free(err);
    } else {
        done->status = WORKER_OK;
    }
    job_drop_ctx(job);

    WorkerEvent *spent;
    pthread_mutex_lock(&w->mu);
    w->current = NULL;
    append_locked(w, done, &spent);     /* DONE never merges: spent stays NULL */
    pthread_mutex_unlock(&w->mu);
    job_free(job);
}

static void *worker_main(void *arg)
{
    Worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->quit && (!w->queue || atomic_load(&w->paused)))
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->quit)
            break;
        WorkerJob *job = w->queue;
        w->queue = job->next;
        if (!w->queue)
            w->queue_tail = NULL;
        w->queued--;
        job->next = NULL;
        w->current = job;
        pthread_mutex_unlock(&w->mu);

        int rc = job->run(job, job->ctx);
        job_finish(w, job, rc);

        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* ---- the UI side ---- */

Worker *worker_new(Err *e)
{
    Worker *w = calloc(1, sizeof *w);
    if (!w) {
        err_set(e, "worker: out of memory");
        return NULL;
    }
    w->next_id = 1;
    atomic_init(&w->paused, 0);
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        err_set(e, "worker: pipe: %s", strerror(errno));
        free(w);
        return NULL;
    }
    w->pipe_r = fds[0];
    w->pipe_w = fds[1];
    int rc = pthread_mutex_init(&w->mu, NULL);
    if (rc) {
        err_set(e, "worker: mutex: %s", strerror(rc));
        goto fail_pipe;
    }
    if ((rc = pthread_cond_init(&w->cv, NULL))) {
        err_set(e, "worker: condition variable: %s", strerror(rc));
        goto fail_mutex;
    }
    /* The thread starts with every signal blocked, so that SIGWINCH, SIGINT
     * and SIGTSTP interrupt the UI thread's poll() and not a job. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        err_set(e, "worker: cannot start thread: %s", strerror(rc));
        pthread_cond_destroy(&w->cv);
        goto fail_mutex;
    }
    return w;
fail_mutex:
    pthread_mutex_destroy(&w->mu);
fail_pipe:
    close(w->pipe_r);
    close(w->pipe_w);
    free(w);
    return NULL;
}

void worker_delete(Worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    if (w->current)
        atomic_store(&w->current->cancelled, 1);
    WorkerJob *queue = w->queue;
    w->queue = w->queue_tail = NULL;
    w->queued = 0;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);

    while (queue) {
        WorkerJob *next = queue->next;
        job_drop_ctx(queue);
        job_free(queue);
        queue = next;
    }
    pthread_join(w->thread, NULL);
    worker_events_free(w->events);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    close(w->pipe_r);
    close(w->pipe_w);
    free(w);
}

long worker_submit(Worker *w, const char *name, WorkerRunFn run, void *ctx, WorkerFreeFn free_ctx, Err *e)
{
    if (!run)
        return err_set(e, "worker: %s: no function to run", name ? name : "job");
    WorkerJob *job = calloc(1, sizeof *job);
    if (!job || !(job->name = strdup(name ? name : "")) || !(job->done = calloc(1, sizeof *job->done))) {
        if (job)
            free(job->name);
        free(job);
        return err_set(e, "worker: %s: out of memory", name ? name : "job");
    }
    job->run = run;
    job->ctx = ctx;
    job->free_ctx = free_ctx;
    job->w = w;
    atomic_init(&job->cancelled, 0);
    job->done->type = WORKER_EV_DONE;

    pthread_mutex_lock(&w->mu);
    long id = job->id = job->done->job_id = w->next_id++;
    if (w->queue_tail)
        w->queue_tail->next = job;
    else
        w->queue = job;
    w->queue_tail = job;
    w->queued++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return id;
}

int worker_cancel(Worker *w, long id)
{
    pthread_mutex_lock(&w->mu);
    if (w->current && (id == WORKER_CURRENT || w->current->id == id)) {
        atomic_store(&w->current->cancelled, 1);
        pthread_mutex_unlock(&w->mu);
        return 1;
    }
    WorkerJob *job = NULL;
    if (id != WORKER_CURRENT) {
        for (WorkerJob **p = &w->queue, *prev = NULL; *p; prev = *p, p = &(*p)->next) {
            if ((*p)->id != id)
                continue;
            job = *p;
            *p = job->next;
            if (w->queue_tail == job)
                w->queue_tail = prev;
            w->queued--;
            break;
        }
    }
    pthread_mutex_unlock(&w->mu);
    if (!job)
        return 0;

    /* The job was never current, so the worker thread cannot reach it:
     * its context is freed and its DONE posted from here. */
    job_drop_ctx(job);
    WorkerEvent *done = job->done;
    job->done = NULL;
    done->status = WORKER_CANCELLED;
    post_node(w, done);
    job_free(job);
    return 1;
}

void worker_pause(Worker *w)
{
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->paused, 1);
    pthread_mutex_unlock(&w->mu);
}

void worker_resume(Worker *w)
{
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->paused, 0);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int worker_paused(Worker *w) { return atomic_load(&w->paused); }

int worker_busy(Worker *w)
{
    pthread_mutex_lock(&w->mu);
    int n = w->queued + (w->current != NULL);
    pthread_mutex_unlock(&w->mu);
    return n;
}

long worker_current(Worker *w, char *name, size_t cap)
{
    pthread_mutex_lock(&w->mu);
    long id = w->current ? w->current->id : 0;
    if (name && cap)
        snprintf(name, cap, "%s", w->current ? w->current->name : "");
    pthread_mutex_unlock(&w->mu);
    return id;
}

int worker_fd(const Worker *w) { return w->pipe_r; }

WorkerEvent *worker_drain(Worker *w)
{
    pthread_mutex_lock(&w->mu);
    WorkerEvent *list = w->events;
    w->events = w->events_tail = NULL;
    w->run = NULL;
    if (w->woken) {
        /* Read until EAGAIN: one byte, but a loop costs nothing. */
        char buf[16];
        ssize_t n;
        while ((n = read(w->pipe_r, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
            ;
        w->woken = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return list;
}
