/* generate.h - the token loop: prefill a prompt, then sample and decode.
 *
 * Text is handed to the caller's callback as it is produced, never cut
 * inside a UTF-8 character and never showing a piece of a stop string: the
 * tail that could still grow into a stop string is held back until it
 * cannot.  The loop ends at an end-of-sequence token, at a stop string
 * (which is not emitted), at max_tokens, or when the callback asks. */
#ifndef INFUSE_GENERATE_H
#define INFUSE_GENERATE_H

#include <stddef.h>
#include <stdint.h>
#include "runstate.h"
#include "sampler.h"
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

/* Returns non-zero to stop generation. */
typedef int (*GenTextFn)(void *ctx, const char *text, size_t len);

/* Runs from an empty cache (the state is reset first). */
int generate(RunState *s, const Tokenizer *tok, Sampler *smp, const int32_t *prompt, size_t n_prompt,
             const GenParams *p, GenTextFn emit, void *ctx, GenResult *res, Err *e);

const char *gen_stop_name(GenStop s);

#endif
