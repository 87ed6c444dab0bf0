/* tokenizer.h - byte-level BPE tokenizer read from a Hugging Face tokenizer.json.
 *
 * Follows the Hugging Face `tokenizers` library for the variants that Llama-family
 * models ship (GPT-2, SmolLM2, Llama 3, Qwen2/3):
 *   added tokens  matched first, leftmost-longest (special ones only when asked);
 *   normalizer    null, NFC, or a Sequence of NFC;
 *   pre-tokenizer ByteLevel (GPT-2 regex), Digits, and Split with one of the
 *                 known regexes (GPT-2, Llama 3, Qwen2), each a hand-written scanner;
 *   model         BPE with rank-ordered merges, ignore_merges, no byte_fallback;
 *   decoder       ByteLevel.
 * Anything else is refused at load time with a message naming the file.
 *
 * Ownership: tokenizer_load returns a Tokenizer that owns everything it read;
 * tokenizer_delete frees it.  A Tokenizer is read-only after loading, so one may
 * be shared by threads.  TokIds is caller-owned storage (zero-initialise it, free
 * it with tokids_free).  The engine never prints: errors go into the Err. */
#ifndef INFUSE_TOKENIZER_H
#define INFUSE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct Tokenizer Tokenizer;

/* Reads the tokenizer.json at path.  NULL with a message in e on error. */
Tokenizer *tokenizer_load(const char *path, Err *e);
void tokenizer_delete(Tokenizer *t);

/* Largest id + 1, including added tokens. */
int tokenizer_vocab_size(const Tokenizer *t);

/* Exact lookup of a token string as written in the file (added token content
 * such as "<|im_end|>", or a vocab entry in its byte-level form, e.g. "Ġthe");
 * -1 if absent. */
int tokenizer_token_id(const Tokenizer *t, const char *token_string);

/* A growable vector of token ids; {0} is an empty one. */
typedef struct TokIds {
    int32_t *v;
    size_t n, cap;
} TokIds;

void tokids_free(TokIds *ids);
/* Appends one id; -1 (and a message) if memory runs out. */
int tokids_push(TokIds *ids, int32_t id, Err *e);

/* Encodes len bytes of UTF-8 text and appends the ids to out (nothing is added
 * before or after: no BOS/EOS).  Non-special added tokens in the text are always
 * matched; special ones (e.g. "<|im_end|>") only when parse_special is non-zero,
 * which is what HF's encode does by default.  With parse_special == 0 they are
 * encoded as plain text.  Invalid UTF-8 gives -1 with a message naming the byte
 * offset, and out is left as it was. */
int tokenizer_encode(const Tokenizer *t, const char *text, size_t len, int parse_special,
                     TokIds *out, Err *e);

/* The raw bytes token id decodes to (byte-level decoding undone; added tokens
 * give their content).  Not NUL-terminated and possibly a partial UTF-8
 * sequence: a streaming caller concatenates and holds back incomplete
 * characters.  Valid while t lives; NULL (and *len = 0) for an id with no token. */
const char *tokenizer_token_bytes(const Tokenizer *t, int32_t id, size_t *len);

/* Decodes n ids into a malloc'd NUL-terminated string the caller frees.
 * skip_special drops special added tokens.  Byte sequences that are not valid
 * UTF-8 become U+FFFD, as HF does.  NULL with a message for an id out of range. */
char *tokenizer_decode(const Tokenizer *t, const int32_t *ids, size_t n, int skip_special, Err *e);

/* 1 if id is an added token marked special, else 0. */
int tokenizer_is_special(const Tokenizer *t, int32_t id);

#endif
