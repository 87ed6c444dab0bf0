/* bpe_train_json.c - writes a trained BpeTrainer as a Hugging Face
 * tokenizer.json.
 *
 * The layout is SmolLM2's file, key for key, so both tokenizer.h and the HF
 * library read it: added_tokens, no normalizer, a Sequence of Digits
 * (individual_digits) and ByteLevel (GPT-2 regex, no prefix space), no
 * post-processor, a ByteLevel decoder, and a BPE model whose merges are
 * [left, right] pairs (the form HF writes since 0.20 and reads alongside
 * "left right").  Written by hand rather than through cJSON so the output is
 * HF's two-space layout and its bytes do not depend on a library version. */
#include "bpe_train_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"

static int put_str(StrBuf *o, const char *s) { return strbuf_put(o, s, strlen(s)); }

/* A JSON string literal of the UTF-8 text s[0..n). */
static int put_json(StrBuf *o, const char *s, size_t n)
{
    if (strbuf_put(o, "\"", 1)) return -1;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        if (strbuf_put(o, s + run, i - run)) return -1;
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else if (c == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (c == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else if (c == '\r')
            snprintf(esc, sizeof esc, "\\r");
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        if (put_str(o, esc)) return -1;
        run = i + 1;
    }
    if (strbuf_put(o, s + run, n - run)) return -1;
    return strbuf_put(o, "\"", 1);
}

/* Symbol k's byte-level form. */
static int put_sym(StrBuf *o, const BpeTrainer *t, const uint32_t cp[256], int32_t k)
{
    const uint8_t *p = (const uint8_t *)t->syms.arena.s + t->syms.off[k];
    char tmp[8];
    if (strbuf_put(o, "\"", 1)) return -1;
    for (uint32_t i = 0; i < t->syms.len[k]; i++) {
        uint32_t c = cp[p[i]];
        size_t l;
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            l = 2;
        } else if (c < 0x80) {
            tmp[0] = (char)c;
            l = 1;
        } else { /* byte-level code points are below U+0800 */
            tmp[0] = (char)(0xC0 | (c >> 6));
            tmp[1] = (char)(0x80 | (c & 0x3F));
            l = 2;
        }
        if (strbuf_put(o, tmp, l)) return -1;
    }
    return strbuf_put(o, "\"", 1);
}

static const char *const HEAD = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
                                "  \"added_tokens\": [";

static const char *const MIDDLE =
    "\n  ],\n"
    "  \"normalizer\": null,\n"
    "  \"pre_tokenizer\": {\n"
    "    \"type\": \"Sequence\",\n"
    "    \"pretokenizers\": [\n"
    "      {\n        \"type\": \"Digits\",\n        \"individual_digits\": true\n      },\n"
    "      {\n        \"type\": \"ByteLevel\",\n        \"add_prefix_space\": false,\n"
    "        \"trim_offsets\": true,\n        \"use_regex\": true\n      }\n"
    "    ]\n  },\n"
    "  \"post_processor\": null,\n"
    "  \"decoder\": {\n    \"type\": \"ByteLevel\",\n    \"add_prefix_space\": true,\n"
    "    \"trim_offsets\": true,\n    \"use_regex\": true\n  },\n"
    "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
    "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
    "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n"
    "    \"vocab\": {";

static int write_all(StrBuf *o, const BpeTrainer *t)
{
    uint32_t cp[256], rank[256];
    int32_t by_rank[256];
    bpe_byte_level(cp);
    bpe_byte_order(rank);
    for (int b = 0; b < 256; b++) by_rank[rank[b]] = b;
    int32_t *vid = malloc(t->syms.n * sizeof *vid);
    if (!vid) return -1;
    int S = t->n_special;
    for (int b = 0; b < 256; b++) vid[b] = S + (int32_t)rank[b];
    for (size_t k = 256; k < t->syms.n; k++) vid[k] = S + (int32_t)k;

    int rc = put_str(o, HEAD);
    char num[32];
    for (int i = 0; i < S && !rc; i++) {
        snprintf(num, sizeof num, "%d", i);
        rc = put_str(o, i ? ",\n    {\n      \"id\": " : "\n    {\n      \"id\": ") || put_str(o, num) ||
             put_str(o, ",\n      \"content\": ") || put_json(o, t->special[i], t->special_len[i]) ||
             put_str(o, ",\n      \"single_word\": false,\n      \"lstrip\": false,\n      \"rstrip\": false,\n"
                        "      \"normalized\": false,\n      \"special\": true\n    }");
    }
    if (!rc) rc = put_str(o, MIDDLE);
    /* Vocab in id order: specials, then bytes by character, then merges. */
    for (int i = 0; i < S && !rc; i++) {
        snprintf(num, sizeof num, ": %d", i);
        rc = put_str(o, i ? ",\n      " : "\n      ") || put_json(o, t->special[i], t->special_len[i]) ||
             put_str(o, num);
    }
    for (int i = 0; i < 256 && !rc; i++) {
        snprintf(num, sizeof num, ": %d", vid[by_rank[i]]);
        rc = put_str(o, vid[by_rank[i]] ? ",\n      " : "\n      ") || put_sym(o, t, cp, by_rank[i]) ||
             put_str(o, num);
    }
    for (size_t k = 256; k < t->syms.n && !rc; k++) {
        snprintf(num, sizeof num, ": %d", vid[k]);
        rc = put_str(o, ",\n      ") || put_sym(o, t, cp, (int32_t)k) || put_str(o, num);
    }
    if (!rc) rc = put_str(o, "\n    },\n    \"merges\": [");
    for (int m = 0; m < t->n_merges && !rc; m++)
        rc = put_str(o, m ? ",\n      [" : "\n      [") || put_sym(o, t, cp, t->merges[m].left) || put_str(o, ", ") ||
             put_sym(o, t, cp, t->merges[m].right) || put_str(o, "]");
    if (!rc) rc = put_str(o, t->n_merges ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n");
    free(vid);
    return rc;
}

char *bpe_trainer_json(const BpeTrainer *t, size_t *len, Err *e)
{
    if (!t->trained) {
        err_set(e, "tokenizer-train: nothing trained yet");
        return NULL;
    }
    StrBuf o = {0};
    if (write_all(&o, t)) {
        free(o.s);
        err_set(e, "tokenizer-train: out of memory writing tokenizer.json");
        return NULL;
    }
    *len = o.n;
    return o.s;
}

int bpe_trainer_save(const BpeTrainer *t, const char *path, Err *e)
{
    size_t n;
    char *json = bpe_trainer_json(t, &n, e);
    if (!json) return -1;
    const void *parts[1] = {json};
    size_t lens[1] = {n};
    int rc = fs_write_atomic(path, parts, lens, 1, e);
    free(json);
    return rc;
}
