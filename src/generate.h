/* generate.h - the token loop: prefill a prompt, then sample and decode.
 *
 * Text is handed to the caller as it is produced, never cut inside a UTF-8
 * character and never showing a piece of a stop string: the tail that could
 * still grow into a stop string is held back until it cannot.  Bytes the
 * model produces that are not well-formed UTF-8 reach the caller as U+FFFD.
 * An answer ends at an end-of-sequence token (not emitted), at a stop string
 * (not emitted, nor anything after it), at max_tokens, when the context is
 * full, or when the caller asks.
 *
 * Two ways in: GenStream, one token per call (gen_stream_step), for callers
 * that interleave several answers or check for cancellation between tokens
 * (the workbench's chat pane, chat_session.h); and generate(), the whole
 * loop with a callback, built on GenStream. */
#ifndef INFUSE_GENERATE_H
#define INFUSE_GENERATE_H

#include <stddef.h>
#include <stdint.h>
#include "runstate.h"
#include "sampler.h"
#include "strbuf.h"
#include "tokenizer.h"

typedef enum GenStop { GEN_STOP_EOS, GEN_STOP_STRING, GEN_STOP_LENGTH, GEN_STOP_CALLER, GEN_STOP_CONTEXT } GenStop;

typedef struct GenParams {
    int max_tokens;
    const char *const *stops;   /* stop strings, n_stops of them */
    size_t n_stops;
    const int32_t *eos;         /* end-of-sequence ids, n_eos of them */
    size_t n_eos;
} GenParams;

typedef struct GenResult {
    int n_prompt, n_gen;
    double prefill_s, decode_s;
    GenStop stop;
} GenResult;

/* Room gen_end_ids needs. */
#define GEN_MAX_END_IDS (MODEL_MAX_EOS + 4)

/* The token ids that end an answer: config.json's eos ids, the tokenizer's
 * <|endoftext|> and <|end_of_text|>, and with chat also the end-of-turn
 * tokens <|im_end|> and <|eot_id|> (plain text may legitimately contain
 * them).  Writes up to GEN_MAX_END_IDS ids; returns how many. */
size_t gen_end_ids(const Model *m, const Tokenizer *tok, int chat, int32_t *out);

/* One answer produced a token at a time.
 *
 * Ownership: a GenStream borrows the RunState (its KV cache is the answer's
 * sequence), the Sampler (its random stream advances) and the Tokenizer,
 * which must outlive it and which nothing else may use while an answer is
 * running; gen_stream_start copies the GenParams but borrows its stops and
 * eos arrays until the answer ends.  The stream owns the rest, sized once:
 * the history (s->ctx + 1 ids, as many as an answer can reach), one row of
 * logits, and two byte buffers (the held-back tail and the piece handed
 * out) that grow only to the longest stop string plus a few tokens' bytes.
 * Nothing is allocated per token once those have reached their size.
 *
 * Fields are readable; change them only through the functions. */
typedef struct GenStream {
    RunState *s;                /* borrowed */
    Sampler *smp;               /* borrowed */
    const Tokenizer *tok;       /* borrowed */
    GenParams p;                /* copy; p.stops and p.eos borrowed */
    int32_t *hist;              /* [hist_cap] prompt ids, then the answer's (the sampler's history) */
    size_t n_hist, hist_cap;
    float *logits;              /* [vocab] logits of the next position */
    int32_t pending;            /* sampled but not yet in the cache (fed at the next step); -1: none */
    StrBuf held;                /* answer bytes not yet handed out: a partial character or stop string */
    StrBuf piece;               /* the text the last step handed out (valid UTF-8) */
    GenResult res;              /* counts, times and, once done, why it stopped */
    int done;                   /* the answer has ended (res.stop says why) */
} GenStream;

/* Sizes the stream for s (s->ctx) and s's model; allocates.  On failure the
 * stream holds nothing and gen_stream_free is still safe. */
int gen_stream_init(GenStream *g, RunState *s, Sampler *smp, const Tokenizer *tok, Err *e);
void gen_stream_free(GenStream *g);

/* Starts an answer: resets the state's cache and feeds the prompt (n_prompt
 * >= 1 ids, fewer than s->ctx) through the model.  The sampler is used as it
 * is (reseed it first for a repeatable answer).  res.n_prompt and
 * res.prefill_s are set; with p->max_tokens <= 0 the stream is done at once
 * (GEN_STOP_LENGTH). */
int gen_stream_start(GenStream *g, const int32_t *prompt, size_t n_prompt, const GenParams *p, Err *e);

/* Produces one token: feeds the previous one to the model (unless the caller
 * did, see gen_stream_fed), samples, and sets *text / *len to the text that
 * became safe to show (possibly none: *len == 0).  *text points into the
 * stream and stays valid until its next step or start.  When the answer ends
 * here, g->done is set and the held-back tail, if the end allows it (end of
 * sequence, length, context), is part of the text.  Calling it when done
 * gives no text.  An error (the model's forward, out of memory) ends the
 * stream with -1 and a message. */
int gen_stream_step(GenStream *g, const char **text, size_t *len, Err *e);

/* The token the next step will feed to the model first, or -1. */
int32_t gen_stream_pending(const GenStream *g);

/* The caller fed the pending token to the stream's RunState itself (with
 * model_forward_multi, several stages at once) and got these logits [vocab];
 * the next step samples from them.  seconds is added to res.decode_s. */
void gen_stream_fed(GenStream *g, const float *logits, double seconds);

/* Ends the answer now as GEN_STOP_CALLER (if it is not done already); text
 * held back is dropped, as it would be when generate()'s callback stops. */
void gen_stream_stop(GenStream *g);

/* Returns non-zero to stop generation. */
typedef int (*GenTextFn)(void *ctx, const char *text, size_t len);

/* Runs from an empty cache (the state is reset first), handing every
 * non-empty piece of gen_stream_step to emit.  If emit asks to stop after
 * the piece that ended the answer anyway, the answer's own reason stands.
 * res->decode_s is the wall time of the loop, the callback's included. */
int generate(RunState *s, const Tokenizer *tok, Sampler *smp, const int32_t *prompt, size_t n_prompt,
             const GenParams *p, GenTextFn emit, void *ctx, GenResult *res, Err *e);

const char *gen_stop_name(GenStop s);

#endif
