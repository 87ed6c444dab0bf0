/* worker.h - the workbench's engine thread: jobs in, events out.
 *
 * A Worker owns one thread that runs jobs one at a time, oldest first.  A
 * job is a function with a context; it runs on the worker thread, reports
 * what it does by posting events (a training step, a generated token, a
 * finished benchmark row, a log line, ...) and learns from the worker
 * whether the UI wants it to stop or to pause.  The worker knows nothing
 * about training or about the screen.
 *
 * Concurrency (the pattern of redis's bio.c):
 *   - jobs wait in a FIFO list under a mutex; the thread sleeps on a
 *     condition variable until one is queued;
 *   - posted events go to a second list under the same mutex; the first post
 *     after the UI drained the list writes one byte to a pipe, and the UI
 *     poll()s the pipe's read end (worker_fd) next to the terminal;
 *   - worker_drain swaps the whole event list out and empties the pipe under
 *     the lock, and the UI handles the events after unlocking; the pipe is
 *     thus readable exactly while undrained events exist;
 *   - cancel and pause are atomic flags the job polls between steps or
 *     tokens.
 * Nothing the UI thread calls waits for a job: submit, cancel, pause,
 * resume, drain and the status queries only take the lock for a few
 * pointer moves.  Only worker_delete waits, for the running job to notice
 * its cancel flag.
 *
 * Bounded memory when the UI does not drain (it is busy, or the terminal is
 * suspended): a STEP or TOKEN event joins the end of the undrained list
 * only if it cannot be merged.  While the newest undrained events of a job
 * are all STEP and TOKEN events (a "run"), a new STEP replaces the payload
 * of the run's STEP event (only the latest step is kept) and a new TOKEN
 * appends its text to the run's TOKEN event of the same stage.  A run thus
 * holds at most one STEP event and one TOKEN event per stage.  Any other
 * event (ROW, LOG, ERROR, USER, DONE) ends the run and keeps its place, so
 * the order of those events, and the order of each stage's text relative to
 * them, is always kept; inside a run the relative order of STEP and TOKEN
 * events, and of different stages' tokens, is not.  LOG, ROW, ERROR and
 * USER events are never merged or dropped: a job posts them at a bounded
 * rate (per evaluation, per row), not per token. */
#ifndef INFUSE_WORKER_H
#define INFUSE_WORKER_H

#include <stddef.h>

#include "err.h"

typedef struct Worker Worker;
typedef struct WorkerJob WorkerJob;

/* Runs the job on the worker thread.  Returns 0, or -1 with a message in
 * worker_job_err(job); the worker then posts that message as an ERROR event
 * and in DONE (status WORKER_FAILED; "<name>: failed" if the job left none).
 * ctx is the one given to worker_submit. */
typedef int (*WorkerRunFn)(WorkerJob *job, void *ctx);
typedef void (*WorkerFreeFn)(void *p);

typedef enum {
    WORKER_EV_STEP = 1, /* data/size: a byte copy of the job's numbers (no pointers: they would dangle) */
    WORKER_EV_TOKEN,    /* index: stage; text/len: generated text */
    WORKER_EV_ROW,      /* index: the finished row; data: optional payload */
    WORKER_EV_LOG,      /* text: one line, no newline */
    WORKER_EV_ERROR,    /* text: the message; the job may go on (see DONE) */
    WORKER_EV_DONE,     /* status: WorkerStatus; text: the failure's message, else NULL */
    WORKER_EV_USER      /* index: the caller's own kind; data: its payload */
} WorkerEventType;

typedef enum { WORKER_OK, WORKER_FAILED, WORKER_CANCELLED } WorkerStatus;

/* One event.  The event owns text (malloc'd, NUL-terminated) and data
 * (freed with free_data when that is not NULL). */
typedef struct WorkerEvent {
    int type;               /* WorkerEventType */
    long job_id;
    long index;             /* TOKEN: stage; ROW: row; USER: the caller's kind */
    int status;             /* DONE: WorkerStatus */
    char *text;             /* or NULL */
    size_t len;             /* strlen(text) */
    void *data;             /* STEP, ROW, USER payload, or NULL */
    size_t size;            /* bytes at data when it is a copy, else 0 */
    WorkerFreeFn free_data;
    struct WorkerEvent *next; /* the next event in post order, or NULL */
} WorkerEvent;

/* ---- the UI side: one thread (the UI's) calls these ---- */

/* Starts the thread.  Its signals are blocked, so SIGWINCH and SIGINT reach
 * the UI thread.  NULL with a message on failure. */
Worker *worker_new(Err *e);

/* Cancels the running job and waits for it to return (it must poll
 * worker_job_cancelled), drops the queued jobs (their free_ctx is called,
 * no DONE is posted), joins the thread, frees undrained events and closes
 * the pipe.  NULL is fine. */
void worker_delete(Worker *w);

/* Queues a job and returns its id (> 0), or -1 with a message.  name is
 * copied (shown in a status bar).  On success the worker owns ctx: free_ctx
 * (may be NULL) is called once, on the worker thread after run returns, or
 * when the job is dropped unrun.  On failure ctx stays the caller's.
 * Every accepted job ends with exactly one DONE event, posted after
 * free_ctx has run; the job touches nothing afterwards. */
long worker_submit(Worker *w, const char *name, WorkerRunFn run, void *ctx, WorkerFreeFn free_ctx, Err *e);

#define WORKER_CURRENT 0L

/* Cancels job id (WORKER_CURRENT: whichever is running).  A queued job is
 * removed and never runs: its free_ctx is called here, on the calling
 * thread, and a DONE event with WORKER_CANCELLED is posted.  A running job
 * has its cancel flag set; its DONE follows when it returns.  A job that
 * returns after its flag was set is reported cancelled whatever it
 * returned, since a job stopped early often returns 0.  Returns 1 if a job
 * was cancelled or asked to stop, 0 if no queued or running job has that id. */
int worker_cancel(Worker *w, long id);

/* Sets / clears the pause flag.  The running job polls it and decides how
 * to wait; while paused, no queued job starts. */
void worker_pause(Worker *w);
void worker_resume(Worker *w);
int worker_paused(Worker *w);

/* Jobs running plus queued; 0 when idle.  It drops to 0 in the same locked
 * step that posts the last DONE. */
int worker_busy(Worker *w);

/* The running job's id, or 0 when none runs; copies its name (truncated to
 * cap bytes with its NUL, "" when none) into name if name is not NULL. */
long worker_current(Worker *w, char *name, size_t cap);

/* The pipe's read end: readable when events wait.  Owned by the worker; the
 * UI polls it (POLLIN) and calls worker_drain, never reads it. */
int worker_fd(const Worker *w);

/* Takes every undrained event, in post order, as a list linked by next, and
 * empties the pipe; NULL when none.  The caller owns the list and frees it
 * with worker_events_free. */
WorkerEvent *worker_drain(Worker *w);

/* Frees one event (not the ones after it) / a whole list.  NULL is fine. */
void worker_event_free(WorkerEvent *ev);
void worker_events_free(WorkerEvent *list);

/* ---- the job side: called from inside run, on the worker thread ---- */

long worker_job_id(const WorkerJob *job);
const char *worker_job_name(const WorkerJob *job);

/* Nonzero once worker_cancel (or worker_delete) reached this job; the job
 * should return soon after. */
int worker_job_cancelled(const WorkerJob *job);

/* Nonzero while the UI has the worker paused. */
int worker_job_paused(const WorkerJob *job);

/* Where run leaves its message before returning -1. */
Err *worker_job_err(WorkerJob *job);

/* Posts an event on behalf of the job; type, index, status, text, data,
 * size and free_data are read, job_id and next are set here.  text, if not
 * NULL, is copied up to its NUL.  data is copied when size > 0 (the event
 * then owns a malloc'd copy and free_data is ignored); otherwise the data
 * pointer is handed over and later freed with free_data (if not NULL), also
 * when the post fails.  Returns 0, or -1 when memory ran out (the event is
 * lost) or the type is DONE (the worker's own) or unknown.  Threads the job
 * starts may post too, until run returns. */
int worker_post(WorkerJob *job, const WorkerEvent *ev);

/* Shorthands for worker_post.  Same ownership rules. */
int worker_post_step(WorkerJob *job, const void *data, size_t size);
/* len bytes of text (need not end in NUL); len 0 posts nothing. */
int worker_post_token(WorkerJob *job, long stage, const char *text, size_t len);
int worker_post_row(WorkerJob *job, long index, void *data, WorkerFreeFn free_data);
int worker_post_user(WorkerJob *job, long kind, void *data, WorkerFreeFn free_data);
/* printf-style; trailing newlines are dropped. */
int worker_post_log(WorkerJob *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int worker_post_error(WorkerJob *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
