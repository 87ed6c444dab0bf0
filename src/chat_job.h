/* chat_job.h - the Chat pane's work on the engine thread: load, then answer.
 *
 * A chat job answers one prompt with up to CHAT_JOB_MAX_STAGES stages at
 * once ("base" and adapters by name).  It runs on the workbench's worker
 * thread (worker.h) and does all the slow work there: loading the base
 * model, tokenizer and adapters the first time, building a ChatSession
 * (chat_session.h) and stepping it token by token.  What it produces comes
 * back as events of the job:
 *   TOKEN  index: the stage's position in the job's list; text: new text;
 *   USER   index CHAT_JOB_EV_STATS; data: a ChatJobStats copy, about four
 *          times a second and once at the end;
 *   LOG    a phase for the status line ("loading adapter sft");
 *   ERROR  index: position + 1 of a stage that could not be loaded (the
 *          others still answer); index 0 is the worker's own copy of a
 *          failed job's message, which the DONE event carries too.
 *
 * The ChatEngine is the cache that makes the second prompt cheap: the
 * model (memory-mapped), tokenizer, thread pool, one Lora per stage name
 * and the last ChatSession.  An adapter whose file changed on disk (a size
 * or modification time other than when it was read) is read again, so a
 * stage retrained by `infuse train` outside the workbench is picked up too.
 *
 * Concurrency: the engine is owned by the pane but touched by one thread
 * at a time: the worker thread while a chat job runs (from its start to its
 * DONE event), the UI thread otherwise (chat_engine_drop_stage, and
 * chat_engine_delete after worker_delete).  The pool belongs to the worker
 * thread, which creates it inside the first job (pool.h).
 *
 * Ownership: chat_job_new copies everything in the spec; after a
 * successful worker_submit the worker owns the ChatJob and frees it with
 * chat_job_free.  The job borrows the engine, which must outlive it. */
#ifndef INFUSE_CHAT_JOB_H
#define INFUSE_CHAT_JOB_H

#include <stddef.h>

#include "chat_template.h"
#include "err.h"
#include "sampler.h"
#include "worker.h"

/* Most stages one prompt is asked of (columns on the screen). */
#define CHAT_JOB_MAX_STAGES 4

/* The USER event kind of the statistics ("CH"). */
#define CHAT_JOB_EV_STATS 0x4348L
/* The LOG line posted once loading is over and the answers start. */
#define CHAT_JOB_LOG_ANSWERING "answering"

typedef struct ChatEngine ChatEngine;

ChatEngine *chat_engine_new(void);
/* Frees the cached model, tokenizer, pool, adapters and session.  NULL is
 * fine.  Only once no job can use it (after worker_delete). */
void chat_engine_delete(ChatEngine *en);
/* Forgets the adapter of stage name (read again at the next use).  Only
 * while no chat job runs. */
void chat_engine_drop_stage(ChatEngine *en, const char *name);

/* What one prompt is asked with; every pointer is borrowed by
 * chat_job_new, which copies. */
typedef struct ChatJobSpec {
    const char *model_dir;                          /* base model folder */
    const char *prompt;                             /* the user's message */
    const char *names[CHAT_JOB_MAX_STAGES];         /* "base", "cpt", ... */
    const char *dirs[CHAT_JOB_MAX_STAGES];          /* adapter folder, NULL for the base model */
    int n_stages;                                   /* 1..CHAT_JOB_MAX_STAGES */
    const char *const *stale;                       /* stages whose adapter to read again */
    size_t n_stale;
    SamplerParams sampling;
    int max_tokens;
    ChatTemplate tmpl;
    const char *system;                             /* NULL or "" for none */
    const char *const *stops;                       /* extra stop strings */
    size_t n_stops;
    int threads;                                    /* <= 0: every core */
} ChatJobSpec;

typedef struct ChatJob ChatJob;

/* NULL with a message when out of memory. */
ChatJob *chat_job_new(ChatEngine *en, const ChatJobSpec *spec, Err *e);
/* A WorkerFreeFn. */
void chat_job_free(void *job);
/* A WorkerRunFn; ctx is the ChatJob. */
int chat_job_run(WorkerJob *job, void *ctx);

/* One stage's answer so far, as chat_session_result gives it. */
typedef struct ChatJobStat {
    int n_prompt, n_gen;
    double prefill_s, decode_s;
    int stop;           /* GenStop, once done */
    int done;
    int loaded;         /* 0: the stage could not be loaded and has no answer */
} ChatJobStat;

typedef struct ChatJobStats {
    int n_stages;
    ChatJobStat st[CHAT_JOB_MAX_STAGES];    /* by position in the job's list */
} ChatJobStats;

#endif
