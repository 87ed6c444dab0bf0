/* chat_session.h - several stages answering one prompt side by side.
 *
 * The workbench's Chat pane asks one question of the base model and of the
 * base model with each adapter ("cpt", "sft", ...) and shows the answers
 * filling in together.  A ChatSession holds one stage per column: a
 * RunState (its own KV cache, with the stage's adapter applied), a Sampler
 * and a GenStream (generate.h), all over one shared Model, Tokenizer and
 * Pool.  chat_session_step_all advances every unfinished stage by one token,
 * round-robin, so the columns grow at the same pace, and checks for
 * cancellation between tokens (the UI's Esc).
 *
 * A stage's answer is exactly what generate() gives alone with the same
 * adapter, prompt, sampling settings and seed: every stage's sampler is
 * reseeded with the session's seed at each start.  With batch set, the
 * stages' decode steps go through the model together (model_forward_multi:
 * the weights are read once per round instead of once per stage); the
 * logits then differ from one-at-a-time decoding by rounding only (~1e-6),
 * which can in principle tip a near tie the other way.
 *
 * The prompt is one user turn in the session's chat template, after its
 * system prompt (as `infuse generate --chat` builds it); generation stops at
 * the template's end-of-turn strings, the extra stop strings, the
 * end-of-sequence and end-of-turn tokens (gen_end_ids with chat), or
 * max_tokens.  Prefill is lazy: each stage feeds the prompt in its first
 * step, so a cancel can come between two stages' prefills too.
 *
 * Ownership: the session borrows the Model, Tokenizer, Pool and the Loras
 * (all must outlive it, unchanged) and owns everything else: the stages,
 * copies of the system prompt and stop strings, the prompt's ids and a
 * logits block for batched decode, all sized at chat_session_new or at a
 * start; nothing is allocated per token.  Memory per stage: the RunState
 * (runstate_bytes), the sampler's and the stream's vocab-sized rows, ctx + 1
 * token ids and two small text buffers; with batch, n_stages rows of logits.
 *
 * Concurrency: none inside.  A session runs on one thread, the one that
 * owns the Pool (pool.h), typically the workbench's worker thread; the
 * cancel callback is where that thread reads the UI's atomic flag. */
#ifndef INFUSE_CHAT_SESSION_H
#define INFUSE_CHAT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "chat_template.h"
#include "err.h"
#include "generate.h"
#include "lora.h"
#include "model.h"
#include "pool.h"
#include "sampler.h"
#include "tokenizer.h"

/* Most stages in a session (columns on a screen). */
#define CHAT_SESSION_MAX_STAGES 64

typedef struct ChatSessionParams {
    SamplerParams sampling;     /* the same for every stage; each stage draws from its own stream */
    int max_tokens;             /* per answer */
    int ctx;                    /* KV cache positions per stage; <= 0: runstate_init's default */
    ChatTemplate tmpl;
    const char *system;         /* system prompt, NULL or "" for none; copied */
    const char *const *stops;   /* stop strings besides the template's, n_stops of them; copied */
    size_t n_stops;
    int batch;                  /* non-zero: decode the stages together (see above) */
} ChatSessionParams;

typedef struct ChatSession ChatSession;

/* A session of n_stages stages (1..CHAT_SESSION_MAX_STAGES); loras[i] is
 * stage i's adapter, NULL for the base model alone (loras itself may be
 * NULL: every stage the base).  Allocates every stage's state.  NULL with a
 * message in e on failure. */
ChatSession *chat_session_new(const Model *m, const Tokenizer *tok, Pool *pool, const Lora *const *loras,
                              int n_stages, const ChatSessionParams *p, Err *e);
void chat_session_delete(ChatSession *cs);

int chat_session_n_stages(const ChatSession *cs);

/* New sampling settings and answer length for the following starts (any
 * answer running is stopped first).  Invalid settings fail and change
 * nothing. */
int chat_session_set_sampling(ChatSession *cs, const SamplerParams *sp, int max_tokens, Err *e);

/* Starts a new answer in every stage to the user message `user` (copied
 * into the prompt): renders it with the template and system prompt,
 * tokenizes it (special tokens parsed), resets every stage.  No model work
 * yet: the stages prefill in their first step.  Fails if the prompt does not
 * fit the context. */
int chat_session_start(ChatSession *cs, const char *user, Err *e);

/* The same from prompt token ids (copied), fed as they are, with the same
 * stop strings and end tokens. */
int chat_session_start_ids(ChatSession *cs, const int32_t *ids, size_t n, Err *e);

/* Receives a stage's new text: valid UTF-8, never empty, borrowed until
 * that stage's next step.  Returns non-zero to stop every stage, as a
 * cancel does. */
typedef int (*ChatPieceFn)(void *ctx, int stage, const char *text, size_t len);
/* Returns non-zero when the answers should stop (e.g. the user pressed Esc). */
typedef int (*ChatCancelFn)(void *ctx);

/* One round: every unfinished stage, in stage order, produces one token
 * (the first round also prefills) and its new text, if any, goes to piece
 * (may be NULL).  cancel (may be NULL) is asked before every stage's token;
 * when it says so, every unfinished stage ends as GEN_STOP_CALLER with its
 * held-back text dropped.  Returns the number of stages still running after
 * the round (0: all done), or -1 on an error (the model's forward, out of
 * memory), which stops every stage. */
int chat_session_step_all(ChatSession *cs, ChatPieceFn piece, ChatCancelFn cancel, void *ctx, Err *e);

/* chat_session_step_all until every stage is done; 0 or -1. */
int chat_session_run(ChatSession *cs, ChatPieceFn piece, ChatCancelFn cancel, void *ctx, Err *e);

/* Ends every unfinished stage now (GEN_STOP_CALLER). */
void chat_session_stop(ChatSession *cs);

/* Stages not done yet (started but unfinished, including not yet prefilled). */
int chat_session_running(const ChatSession *cs);

/* Stage i's answer so far: prompt and generated token counts, prefill and
 * decode seconds (its own compute only, so n_gen / decode_s is its
 * tokens/s), and once done, why it stopped.  Borrowed; valid until the
 * next start. */
const GenResult *chat_session_result(const ChatSession *cs, int stage);

/* Non-zero once stage i's answer has ended (or before any start). */
int chat_session_stage_done(const ChatSession *cs, int stage);

#endif
