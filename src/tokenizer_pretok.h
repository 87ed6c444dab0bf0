/* tokenizer_pretok.h - the pre-tokenizer split patterns, as hand-written scanners.
 *
 * Internal to the tokenizer (tokenizer*.c).  Hugging Face tokenizers split text
 * with a regex before BPE; rather than a regex engine we recognise the few
 * patterns real models use and scan them over code points, with the semantics
 * of Oniguruma (which HF uses): \s is Unicode White_Space, \p{L} and \p{N} are
 * the general categories, alternatives are tried in order (leftmost-first). */
#ifndef INFUSE_TOKENIZER_PRETOK_H
#define INFUSE_TOKENIZER_PRETOK_H

#include <stddef.h>
#include <stdint.h>

typedef enum PretokRegex {
    PRETOK_GPT2,   /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
    PRETOK_LLAMA3, /* (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|... */
    PRETOK_QWEN2,  /* the Llama 3 pattern with \p{N} in place of \p{N}{1,3} */
} PretokRegex;

/* The scanner for a Split pattern string as written in tokenizer.json; -1 if
 * the pattern is not one we know. */
int pretok_regex_from_pattern(const char *pattern);

/* End (byte offset) of the match of the pattern starting exactly at byte i of
 * the valid UTF-8 s[0..n), or i when nothing matches there.  i < n. */
size_t pretok_regex_match(PretokRegex kind, const uint8_t *s, size_t n, size_t i);

/* The code point at s[i] (valid UTF-8, i < n); its byte length goes in *len. */
uint32_t pretok_cp(const uint8_t *s, size_t n, size_t i, size_t *len);

/* Rust's char::is_numeric: general category Nd, Nl or No. */
int pretok_is_numeric(uint32_t c);

/* Rust's char::is_whitespace: the White_Space property. */
int pretok_is_space(uint32_t c);

#endif
