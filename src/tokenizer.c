/* tokenizer.c - loading tokenizer.json, encoding and decoding (byte-level BPE).
 *
 * Encoding follows the Hugging Face `tokenizers` pipeline:
 *   1. added tokens that are not `normalized` are cut out of the raw text
 *      (leftmost-longest; special ones only when parse_special is set);
 *   2. each remaining piece is normalized (NFC when the file asks for it), and
 *      the `normalized` added tokens are cut out of that;
 *   3. the pre-tokenizer steps split each piece further (Split with a known
 *      regex, Digits, ByteLevel's own GPT-2 regex); ByteLevel comes last;
 *   4. each final piece is BPE-merged over its bytes (tokenizer_bpe.c).
 *
 * Data layout.  Ids run 0..vocab_size-1; an id may be a gap (no token).  For
 * each id, tok_off/tok_len locate its decoded bytes in one arena (the byte-level
 * mapping undone, or an added token's content).  The model vocab (byte-level
 * strings, e.g. "Ġthe") is a StrMap; merges are a PairMap (pair of ids ->
 * rank and merged id).  Added tokens are an array sorted by first byte, then
 * longest first, with per-first-byte bucket offsets, so matching at a position
 * checks only the tokens that can start there. */
#include "tokenizer.h"
#include "tokenizer_internal.h"
#include "tokenizer_pretok.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <uninorm.h>

/* ---------------------------------------------------------------- byte level */

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the
 * other 68 bytes map to U+0100.. in byte order. */
static void byte_level_tables(uint32_t byte_cp[256], int16_t cp_byte[TOK_BYTE_CP_MAX])
{
    int next = 256;
    for (int i = 0; i < TOK_BYTE_CP_MAX; i++) cp_byte[i] = -1;
    for (int b = 0; b < 256; b++) {
        int keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        byte_cp[b] = keep ? (uint32_t)b : (uint32_t)next++;
        cp_byte[byte_cp[b]] = (int16_t)b;
    }
}

static size_t put_utf8(uint32_t c, char *out)
{
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 character at s[0..n), or 0 when it is not valid;
 * then *bad gets the length of the maximal invalid subpart (at least 1), the
 * unit that Rust's from_utf8_lossy replaces with one U+FFFD. */
static size_t utf8_char_len(const uint8_t *s, size_t n, size_t *bad)
{
    uint8_t b = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        *bad = 1;
        return 0;
    }
    for (size_t k = 1; k <= need; k++) {
        uint8_t lo_k = k == 1 ? lo : 0x80, hi_k = k == 1 ? hi : 0xBF;
        if (k >= n || s[k] < lo_k || s[k] > hi_k) {
            *bad = k;
            return 0;
        }
    }
    return need + 1;
}

/* ---------------------------------------------------------------- hash maps */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static size_t table_size(size_t n)
{
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    return cap;
}

/* Keys are copied into the map's arena; slots hold id + 1 (0 = empty). */
static int strmap_init(StrMap *m, size_t n, size_t key_bytes)
{
    m->cap = table_size(n);
    m->slot = calloc(m->cap, sizeof *m->slot);
    m->arena = malloc(key_bytes + 1);
    m->arena_len = 0;
    m->arena_cap = key_bytes + 1;
    return m->slot && m->arena ? 0 : -1;
}

static void strmap_free(StrMap *m)
{
    free(m->slot);
    free(m->arena);
}

static int32_t strmap_get(const StrMap *m, const char *s, size_t n)
{
    if (!m->cap) return -1;
    size_t mask = m->cap - 1, i = hash_bytes(s, n) & mask;
    for (;; i = (i + 1) & mask) {
        const StrSlot *sl = &m->slot[i];
        if (!sl->id1) return -1;
        if (sl->len == n && memcmp(m->arena + sl->off, s, n) == 0) return sl->id1 - 1;
    }
}

/* Adds or overwrites; -1 when the arena given to strmap_init is too small. */
static int strmap_put(StrMap *m, const char *s, size_t n, int32_t id)
{
    size_t mask = m->cap - 1, i = hash_bytes(s, n) & mask;
    for (;; i = (i + 1) & mask) {
        StrSlot *sl = &m->slot[i];
        if (!sl->id1) break;
        if (sl->len == n && memcmp(m->arena + sl->off, s, n) == 0) {
            sl->id1 = id + 1;
            return 0;
        }
    }
    if (m->arena_len + n > m->arena_cap) return -1;
    memcpy(m->arena + m->arena_len, s, n);
    m->slot[i] = (StrSlot){.off = (uint32_t)m->arena_len, .len = (uint32_t)n, .id1 = id + 1};
    m->arena_len += n;
    return 0;
}

static int pairmap_init(PairMap *m, size_t n)
{
    m->cap = table_size(n);
    m->slot = calloc(m->cap, sizeof *m->slot);
    return m->slot ? 0 : -1;
}

static uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }

/* Later merges of the same pair overwrite earlier ones, as HF's HashMap does. */
static void pairmap_put(PairMap *m, int32_t a, int32_t b, uint32_t rank, int32_t merged)
{
    uint64_t key = pair_key(a, b);
    size_t mask = m->cap - 1, i = hash_u64(key) & mask;
    while (m->slot[i].merged1 && m->slot[i].key != key) i = (i + 1) & mask;
    m->slot[i] = (PairSlot){.key = key, .rank = rank, .merged1 = merged + 1};
}

const PairSlot *tok_pair_get(const Tokenizer *t, int32_t a, int32_t b)
{
    const PairMap *m = &t->merges;
    if (!m->cap) return NULL;
    uint64_t key = pair_key(a, b);
    size_t mask = m->cap - 1, i = hash_u64(key) & mask;
    for (;; i = (i + 1) & mask) {
        const PairSlot *sl = &m->slot[i];
        if (!sl->merged1) return NULL;
        if (sl->key == key) return sl;
    }
}

int32_t tok_vocab_get(const Tokenizer *t, const char *s, size_t n) { return strmap_get(&t->vocab, s, n); }

/* ---------------------------------------------------------------- loading */

static char *read_file(const char *path, size_t *len, Err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf) {
        err_set(e, "%s: out of memory reading the file", path);
        return NULL;
    }
    if (bad) {
        free(buf);
        err_set(e, "%s: read error", path);
        return NULL;
    }
    *len = n;
    return buf;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A boolean field; def when absent or null. */
static int json_bool(const cJSON *o, const char *key, int def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return def;
}

static int json_is_absent(const cJSON *v) { return v == NULL || cJSON_IsNull(v); }

/* A non-negative integer id, or -1. */
static int32_t json_id(const cJSON *v)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 2147483646.0 ||
        v->valuedouble != (double)(int32_t)v->valuedouble)
        return -1;
    return (int32_t)v->valuedouble;
}

static int load_normalizer(Tokenizer *t, const cJSON *n, const char *path, Err *e)
{
    if (json_is_absent(n)) return 0;
    const char *type = json_str(n, "type");
    if (type && strcmp(type, "NFC") == 0) {
        t->nfc = 1;
        return 0;
    }
    if (type && strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(n, "normalizers"), *it;
        if (!cJSON_IsArray(list)) return err_set(e, "%s: normalizer Sequence has no \"normalizers\" list", path);
        cJSON_ArrayForEach(it, list) if (load_normalizer(t, it, path, e)) return -1;
        return 0;
    }
    return err_set(e, "%s: normalizer \"%s\" is not supported (only NFC)", path, type ? type : "?");
}

static int add_step(Tokenizer *t, TokStep s, const char *path, Err *e)
{
    if (t->nsteps == TOK_MAX_STEPS) return err_set(e, "%s: too many pre-tokenizer steps", path);
    t->steps[t->nsteps++] = s;
    return 0;
}

static int load_pretok(Tokenizer *t, const cJSON *p, const char *path, Err *e)
{
    const char *type = json_str(p, "type");
    if (!type) return err_set(e, "%s: pre_tokenizer without a \"type\"", path);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(p, "pretokenizers"), *it;
        if (!cJSON_IsArray(list)) return err_set(e, "%s: pre_tokenizer Sequence has no \"pretokenizers\" list", path);
        cJSON_ArrayForEach(it, list) if (load_pretok(t, it, path, e)) return -1;
        return 0;
    }
    if (strcmp(type, "ByteLevel") == 0) {
        TokStep s = {.kind = STEP_BYTELEVEL,
                     .arg = json_bool(p, "use_regex", 1),
                     .prefix_space = json_bool(p, "add_prefix_space", 0)};
        return add_step(t, s, path, e);
    }
    if (strcmp(type, "Digits") == 0) {
        TokStep s = {.kind = STEP_DIGITS, .arg = json_bool(p, "individual_digits", 0)};
        return add_step(t, s, path, e);
    }
    if (strcmp(type, "Split") == 0) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
        const char *re = json_str(pat, "Regex");
        const char *behavior = json_str(p, "behavior");
        if (!re) return err_set(e, "%s: Split pre_tokenizer: only {\"Regex\": ...} patterns are supported", path);
        if (!behavior || strcmp(behavior, "Isolated") != 0)
            return err_set(e, "%s: Split pre_tokenizer: behavior \"%s\" is not supported (only Isolated)", path,
                           behavior ? behavior : "?");
        if (json_bool(p, "invert", 0)) return err_set(e, "%s: Split pre_tokenizer: invert is not supported", path);
        int kind = pretok_regex_from_pattern(re);
        if (kind < 0) return err_set(e, "%s: Split pre_tokenizer: unknown regex \"%.200s\"", path, re);
        TokStep s = {.kind = STEP_SPLIT, .arg = kind};
        return add_step(t, s, path, e);
    }
    return err_set(e, "%s: pre_tokenizer \"%s\" is not supported", path, type);
}

static int load_model_options(const cJSON *model, const char *path, Err *e)
{
    const char *type = json_str(model, "type");
    if (type && strcmp(type, "BPE") != 0)
        return err_set(e, "%s: model.type \"%s\" is not supported (only BPE)", path, type);
    if (json_bool(model, "byte_fallback", 0))
        return err_set(e, "%s: model.byte_fallback is not supported (only byte-level BPE)", path);
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (cJSON_IsNumber(dropout) && dropout->valuedouble > 0)
        return err_set(e, "%s: model.dropout is not supported", path);
    const char *pre = json_str(model, "continuing_subword_prefix");
    const char *suf = json_str(model, "end_of_word_suffix");
    if ((pre && *pre) || (suf && *suf))
        return err_set(e, "%s: BPE continuing_subword_prefix/end_of_word_suffix are not supported", path);
    return 0;
}

static int load_vocab(Tokenizer *t, const cJSON *vocab, const char *path, Err *e)
{
    const cJSON *it;
    size_t n = 0, bytes = 0;
    if (!cJSON_IsObject(vocab)) return err_set(e, "%s: model.vocab is missing or not an object", path);
    cJSON_ArrayForEach(it, vocab) {
        int32_t id = json_id(it);
        if (id < 0) return err_set(e, "%s: model.vocab: \"%.100s\" has no valid id", path, it->string);
        if (id >= t->vocab_size) t->vocab_size = id + 1;
        n++;
        bytes += strlen(it->string);
    }
    if (bytes > UINT32_MAX) return err_set(e, "%s: model.vocab too large", path);
    if (strmap_init(&t->vocab, n, bytes)) return err_set(e, "%s: out of memory", path);
    cJSON_ArrayForEach(it, vocab) strmap_put(&t->vocab, it->string, strlen(it->string), json_id(it));
    return 0;
}

static int load_added(Tokenizer *t, const cJSON *list, const char *path, Err *e)
{
    const cJSON *it;
    if (json_is_absent(list)) return 0;
    if (!cJSON_IsArray(list)) return err_set(e, "%s: added_tokens is not a list", path);
    int n = cJSON_GetArraySize(list);
    t->added = calloc((size_t)n + 1, sizeof *t->added);
    if (!t->added) return err_set(e, "%s: out of memory", path);
    cJSON_ArrayForEach(it, list) {
        const char *content = json_str(it, "content");
        int32_t id = json_id(cJSON_GetObjectItemCaseSensitive(it, "id"));
        if (!content || !*content || id < 0)
            return err_set(e, "%s: added_tokens[%d] needs a non-empty content and an id", path, t->n_added);
        /* As HF's AddedVocabulary does, content already in the model vocab
         * keeps its vocab id, whatever the entry says. */
        int32_t in_vocab = strmap_get(&t->vocab, content, strlen(content));
        if (in_vocab >= 0) id = in_vocab;
        AddedTok *a = &t->added[t->n_added++];
        a->id = id;
        a->special = json_bool(it, "special", 0);
        a->normalized = json_bool(it, "normalized", !a->special);
        a->lstrip = json_bool(it, "lstrip", 0);
        a->rstrip = json_bool(it, "rstrip", 0);
        a->single_word = json_bool(it, "single_word", 0);
        a->len = strlen(content);
        a->content = malloc(a->len + 1);
        if (!a->content) return err_set(e, "%s: out of memory", path);
        memcpy(a->content, content, a->len + 1);
        if (id >= t->vocab_size) t->vocab_size = id + 1;
    }
    return 0;
}

/* HF normalizes the content of `normalized` added tokens before matching them
 * against normalized text; with NFC that can change non-ASCII contents. */
static int normalize_added(Tokenizer *t, const char *path, Err *e)
{
    for (int i = 0; i < t->n_added; i++) {
        AddedTok *a = &t->added[i];
        a->match = a->content;
        a->match_len = a->len;
        if (!t->nfc || !a->normalized) continue;
        size_t n = 0;
        uint8_t *nf = u8_normalize(UNINORM_NFC, (const uint8_t *)a->content, a->len, NULL, &n);
        if (!nf) return err_set(e, "%s: cannot normalize added token \"%s\"", path, a->content);
        a->match_buf = malloc(n + 1);
        if (!a->match_buf) {
            free(nf);
            return err_set(e, "%s: out of memory", path);
        }
        memcpy(a->match_buf, nf, n);
        a->match_buf[n] = 0;
        free(nf);
        a->match = a->match_buf;
        a->match_len = n;
    }
    return 0;
}

static int cmp_added(const void *pa, const void *pb)
{
    const AddedTok *a = pa, *b = pb;
    uint8_t fa = (uint8_t)a->match[0], fb = (uint8_t)b->match[0];
    if (fa != fb) return fa < fb ? -1 : 1;
    if (a->match_len != b->match_len) return a->match_len > b->match_len ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Sorts added tokens by first byte, longest first, and fills the bucket offsets. */
static void index_added(Tokenizer *t)
{
    if (t->n_added) qsort(t->added, (size_t)t->n_added, sizeof *t->added, cmp_added);
    int k = 0;
    for (int b = 0; b < 256; b++) {
        t->added_first[b] = k;
        while (k < t->n_added && (uint8_t)t->added[k].match[0] == b) k++;
    }
    t->added_first[256] = k;
}

static int load_merges(Tokenizer *t, const cJSON *merges, const char *path, Err *e)
{
    const cJSON *it;
    if (!cJSON_IsArray(merges)) return err_set(e, "%s: model.merges is missing or not a list", path);
    size_t n = (size_t)cJSON_GetArraySize(merges);
    if (pairmap_init(&t->merges, n)) return err_set(e, "%s: out of memory", path);
    char *buf = NULL;
    size_t buf_cap = 0;
    uint32_t rank = 0;
    int rc = 0;
    cJSON_ArrayForEach(it, merges) {
        const char *a, *b;
        size_t la, lb;
        if (cJSON_IsString(it)) {
            a = it->valuestring;
            const char *sp = strchr(a, ' ');
            if (!sp || strchr(sp + 1, ' ')) {
                rc = err_set(e, "%s: model.merges[%u] \"%.100s\" is not two tokens", path, rank, a);
                break;
            }
            la = (size_t)(sp - a);
            b = sp + 1;
            lb = strlen(b);
        } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 && cJSON_IsString(it->child) &&
                   cJSON_IsString(it->child->next)) {
            a = it->child->valuestring;
            b = it->child->next->valuestring;
            la = strlen(a);
            lb = strlen(b);
        } else {
            rc = err_set(e, "%s: model.merges[%u] is neither \"a b\" nor [a, b]", path, rank);
            break;
        }
        if (la + lb > buf_cap) {
            buf_cap = (la + lb) * 2 + 64;
            char *nb = realloc(buf, buf_cap);
            if (!nb) {
                rc = err_set(e, "%s: out of memory", path);
                break;
            }
            buf = nb;
        }
        memcpy(buf, a, la);
        memcpy(buf + la, b, lb);
        int32_t ia = strmap_get(&t->vocab, a, la), ib = strmap_get(&t->vocab, b, lb);
        int32_t im = strmap_get(&t->vocab, buf, la + lb);
        if (ia < 0 || ib < 0 || im < 0) {
            rc = err_set(e, "%s: model.merges[%u]: \"%.*s\" + \"%.*s\" is not in the vocab", path, rank,
                         (int)(la > 100 ? 100 : la), a, (int)(lb > 100 ? 100 : lb), b);
            break;
        }
        pairmap_put(&t->merges, ia, ib, rank, im);
        rank++;
    }
    free(buf);
    return rc;
}

/* Fills the per-id decoded bytes, the special flags and the byte symbols. */
static int build_id_tables(Tokenizer *t, const char *path, Err *e)
{
    size_t nv = (size_t)t->vocab_size;
    t->tok_off = calloc(nv, sizeof *t->tok_off);
    t->tok_len = calloc(nv, sizeof *t->tok_len);
    t->special = calloc(nv, 1);
    t->present = calloc(nv, 1);
    size_t total = t->vocab.arena_len;
    for (int i = 0; i < t->n_added; i++) total += t->added[i].len;
    t->bytes = malloc(total + 1);
    if (!t->tok_off || !t->tok_len || !t->special || !t->present || !t->bytes)
        return err_set(e, "%s: out of memory", path);

    /* Byte-level decoding never lengthens a token: every mapped character is
     * at least one byte and stands for exactly one.  A token with a character
     * outside the map keeps its raw bytes, as HF's decoder does. */
    size_t pos = 0;
    for (size_t s = 0; s < t->vocab.cap; s++) {
        const StrSlot *sl = &t->vocab.slot[s];
        if (!sl->id1) continue;
        int32_t id = sl->id1 - 1;
        const uint8_t *p = (const uint8_t *)t->vocab.arena + sl->off;
        size_t start = pos, i = 0;
        int raw = 0;
        while (i < sl->len) {
            size_t l, bad;
            if (!utf8_char_len(p + i, sl->len - i, &bad)) { raw = 1; break; }
            uint32_t c = pretok_cp(p, sl->len, i, &l);
            if (c >= TOK_BYTE_CP_MAX || t->cp_byte[c] < 0) { raw = 1; break; }
            t->bytes[pos++] = (char)t->cp_byte[c];
            i += l;
        }
        if (raw) {
            pos = start;
            memcpy(t->bytes + pos, p, sl->len);
            pos += sl->len;
        }
        t->tok_off[id] = (uint32_t)start;
        t->tok_len[id] = (uint32_t)(pos - start);
        t->present[id] = 1;
    }
    for (int i = 0; i < t->n_added; i++) {
        const AddedTok *a = &t->added[i];
        memcpy(t->bytes + pos, a->content, a->len);
        t->tok_off[a->id] = (uint32_t)pos;
        t->tok_len[a->id] = (uint32_t)a->len;
        t->special[a->id] = (uint8_t)a->special;
        t->present[a->id] = 1;
        pos += a->len;
    }

    for (int b = 0; b < 256; b++) {
        char u[4];
        size_t l = put_utf8(t->byte_cp[b], u);
        t->byte_id[b] = strmap_get(&t->vocab, u, l);
    }
    return 0;
}

static int check_pipeline(Tokenizer *t, const cJSON *root, const char *path, Err *e)
{
    int bl = -1;
    for (int i = 0; i < t->nsteps; i++)
        if (t->steps[i].kind == STEP_BYTELEVEL) {
            if (bl >= 0) return err_set(e, "%s: pre_tokenizer has ByteLevel twice", path);
            bl = i;
        }
    if (bl < 0) return err_set(e, "%s: pre_tokenizer has no ByteLevel step (only byte-level BPE is supported)", path);
    if (bl != t->nsteps - 1) return err_set(e, "%s: pre_tokenizer steps after ByteLevel are not supported", path);
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    const char *dtype = json_str(dec, "type");
    if (!dtype || strcmp(dtype, "ByteLevel") != 0)
        return err_set(e, "%s: decoder \"%s\" is not supported (only ByteLevel)", path, dtype ? dtype : "null");
    return 0;
}

Tokenizer *tokenizer_load(const char *path, Err *e)
{
    size_t len = 0;
    char *text = read_file(path, &len, e);
    if (!text) return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        err_set(e, "%s: malformed JSON near byte %zu", path, at);
        free(text);
        return NULL;
    }
    free(text);
    Tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        cJSON_Delete(root);
        err_set(e, "%s: out of memory", path);
        return NULL;
    }
    byte_level_tables(t->byte_cp, t->cp_byte);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *pretok = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    int rc = 0;
    if (!cJSON_IsObject(model)) rc = err_set(e, "%s: no \"model\" object (is this a tokenizer.json?)", path);
    if (!rc) rc = load_model_options(model, path, e);
    if (!rc) t->ignore_merges = json_bool(model, "ignore_merges", 0);
    if (!rc) rc = load_normalizer(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), path, e);
    if (!rc && json_is_absent(pretok)) rc = err_set(e, "%s: no pre_tokenizer (only byte-level BPE is supported)", path);
    if (!rc) rc = load_pretok(t, pretok, path, e);
    if (!rc) rc = check_pipeline(t, root, path, e);
    if (!rc) rc = load_vocab(t, cJSON_GetObjectItemCaseSensitive(model, "vocab"), path, e);
    if (!rc) rc = load_added(t, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), path, e);
    if (!rc) rc = load_merges(t, cJSON_GetObjectItemCaseSensitive(model, "merges"), path, e);
    if (!rc) rc = normalize_added(t, path, e);
    if (!rc) index_added(t);
    if (!rc) rc = build_id_tables(t, path, e);
    cJSON_Delete(root);
    if (rc) {
        tokenizer_delete(t);
        return NULL;
    }
    return t;
}

void tokenizer_delete(Tokenizer *t)
{
    if (!t) return;
    strmap_free(&t->vocab);
    free(t->merges.slot);
    for (int i = 0; i < t->n_added; i++) {
        free(t->added[i].content);
        free(t->added[i].match_buf);
    }
    free(t->added);
    free(t->tok_off);
    free(t->tok_len);
    free(t->special);
    free(t->present);
    free(t->bytes);
    free(t);
}

/* ---------------------------------------------------------------- queries */

int tokenizer_vocab_size(const Tokenizer *t) { return t->vocab_size; }

int tokenizer_token_id(const Tokenizer *t, const char *s)
{
    size_t n = strlen(s);
    for (int i = 0; i < t->n_added; i++)
        if (t->added[i].len == n && memcmp(t->added[i].content, s, n) == 0) return t->added[i].id;
    return strmap_get(&t->vocab, s, n);
}

int tokenizer_is_special(const Tokenizer *t, int32_t id)
{
    return id >= 0 && id < t->vocab_size && t->special[id];
}

const char *tokenizer_token_bytes(const Tokenizer *t, int32_t id, size_t *len)
{
    if (id < 0 || id >= t->vocab_size || !t->present[id]) {
        *len = 0;
        return NULL;
    }
    *len = t->tok_len[id];
    return t->bytes + t->tok_off[id];
}

void tokids_free(TokIds *ids)
{
    free(ids->v);
    ids->v = NULL;
    ids->n = ids->cap = 0;
}

int tokids_push(TokIds *ids, int32_t id, Err *e)
{
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 64;
        int32_t *v = realloc(ids->v, cap * sizeof *v);
        if (!v) return err_set(e, "tokenizer: out of memory for %zu token ids", cap);
        ids->v = v;
        ids->cap = cap;
    }
    ids->v[ids->n++] = id;
    return 0;
}

/* ---------------------------------------------------------------- encoding */

static int run_steps(const Tokenizer *t, int k, const uint8_t *s, size_t n, TokScratch *sc, TokIds *out, Err *e);

/* Split with behavior Isolated: matches and the gaps between them are pieces. */
static int step_split(const Tokenizer *t, int k, PretokRegex kind, const uint8_t *s, size_t n, TokScratch *sc,
                      TokIds *out, Err *e)
{
    size_t i = 0, gap = 0;
    while (i < n) {
        size_t m = pretok_regex_match(kind, s, n, i);
        if (m > i) {
            if (gap < i && run_steps(t, k + 1, s + gap, i - gap, sc, out, e)) return -1;
            if (run_steps(t, k + 1, s + i, m - i, sc, out, e)) return -1;
            i = gap = m;
        } else {
            size_t l;
            pretok_cp(s, n, i, &l);
            i += l;
        }
    }
    if (gap < n && run_steps(t, k + 1, s + gap, n - gap, sc, out, e)) return -1;
    return 0;
}

/* HF's Digits: runs of numeric characters (each one alone when individual)
 * are split from the rest. */
static int step_digits(const Tokenizer *t, int k, int individual, const uint8_t *s, size_t n, TokScratch *sc,
                       TokIds *out, Err *e)
{
    size_t start = 0, i = 0;
    int start_num = 0;
    while (i < n) {
        size_t l;
        int num = pretok_is_numeric(pretok_cp(s, n, i, &l));
        if (i > start && (num != start_num || (num && individual))) {
            if (run_steps(t, k + 1, s + start, i - start, sc, out, e)) return -1;
            start = i;
        }
        if (i == start) start_num = num;
        i += l;
    }
    if (start < n && run_steps(t, k + 1, s + start, n - start, sc, out, e)) return -1;
    return 0;
}

static int step_bytelevel(const Tokenizer *t, const TokStep *st, const uint8_t *s, size_t n,
                          TokScratch *sc, TokIds *out, Err *e)
{
    uint8_t *prefixed = NULL;
    if (st->prefix_space && n > 0 && s[0] != ' ') {
        prefixed = malloc(n + 1);
        if (!prefixed) return err_set(e, "tokenizer: out of memory");
        prefixed[0] = ' ';
        memcpy(prefixed + 1, s, n);
        s = prefixed;
        n++;
    }
    int rc = 0;
    if (!st->arg) {
        rc = tok_bpe(t, s, n, sc, out, e);
    } else {
        size_t i = 0;
        while (i < n && !rc) {
            size_t m = pretok_regex_match(PRETOK_GPT2, s, n, i);
            if (m <= i) { /* cannot happen: the GPT-2 pattern matches every character */
                size_t l;
                pretok_cp(s, n, i, &l);
                m = i + l;
            }
            rc = tok_bpe(t, s + i, m - i, sc, out, e);
            i = m;
        }
    }
    free(prefixed);
    return rc;
}

static int run_steps(const Tokenizer *t, int k, const uint8_t *s, size_t n, TokScratch *sc, TokIds *out, Err *e)
{
    if (n == 0) return 0;
    if (k == t->nsteps) return tok_bpe(t, s, n, sc, out, e);
    const TokStep *st = &t->steps[k];
    switch (st->kind) {
    case STEP_SPLIT: return step_split(t, k, (PretokRegex)st->arg, s, n, sc, out, e);
    case STEP_DIGITS: return step_digits(t, k, st->arg, s, n, sc, out, e);
    case STEP_BYTELEVEL: return step_bytelevel(t, st, s, n, sc, out, e); /* always the last step */
    }
    return 0;
}

static int is_word_char(uint32_t c) { return c == '_' || pretok_is_numeric(c) || uc_is_alnum(c); }

/* The added token (of the pass: normalized or not) matching at s[i], longest
 * first; its index or -1. */
static int added_at(const Tokenizer *t, const uint8_t *s, size_t n, size_t i, int normalized, int parse_special)
{
    uint8_t b = s[i];
    for (int k = t->added_first[b]; k < t->added_first[b + 1]; k++) {
        const AddedTok *a = &t->added[k];
        if (a->normalized != normalized || (a->special && !parse_special)) continue;
        if (a->match_len <= n - i && memcmp(s + i, a->match, a->match_len) == 0) return k;
    }
    return -1;
}

static int after_added(const Tokenizer *t, int normalized, const uint8_t *s, size_t n, TokScratch *sc,
                       TokIds *out, Err *e);

/* Cuts the added tokens of one pass out of s, passing the text between them on
 * (pass 0: raw text, then NFC and pass 1; pass 1: the pre-tokenizer). */
static int split_added(const Tokenizer *t, int normalized, const uint8_t *s, size_t n, TokScratch *sc,
                       TokIds *out, Err *e)
{
    size_t seg = 0, i = 0;
    while (i < n) {
        int k = t->added_first[s[i]] < t->added_first[s[i] + 1]
                    ? added_at(t, s, n, i, normalized, sc->parse_special)
                    : -1;
        if (k < 0) {
            i++;
            continue;
        }
        const AddedTok *a = &t->added[k];
        size_t start = i, stop = i + a->match_len, l;
        if (a->single_word) {
            int before = 0, after = 0;
            if (start > 0) {
                size_t p = start - 1;
                while (p > 0 && (s[p] & 0xC0) == 0x80) p--;
                before = is_word_char(pretok_cp(s, n, p, &l));
            }
            if (stop < n) after = is_word_char(pretok_cp(s, n, stop, &l));
            if (before || after) {
                i = stop;
                continue;
            }
        }
        if (a->lstrip)
            while (start > seg) {
                size_t p = start - 1;
                while (p > seg && (s[p] & 0xC0) == 0x80) p--;
                if (!pretok_is_space(pretok_cp(s, n, p, &l))) break;
                start = p;
            }
        if (a->rstrip)
            while (stop < n && pretok_is_space(pretok_cp(s, n, stop, &l))) stop += l;
        if (start > seg && after_added(t, normalized, s + seg, start - seg, sc, out, e)) return -1;
        if (tokids_push(out, a->id, e)) return -1;
        i = seg = stop;
    }
    if (seg < n && after_added(t, normalized, s + seg, n - seg, sc, out, e)) return -1;
    return 0;
}

static int after_added(const Tokenizer *t, int normalized, const uint8_t *s, size_t n, TokScratch *sc,
                       TokIds *out, Err *e)
{
    if (normalized) return run_steps(t, 0, s, n, sc, out, e);
    size_t ascii = 0;
    while (t->nfc && ascii < n && s[ascii] < 0x80) ascii++;
    if (!t->nfc || ascii == n) return split_added(t, 1, s, n, sc, out, e); /* ASCII is its own NFC */
    size_t nn = 0;
    uint8_t *nf = u8_normalize(UNINORM_NFC, s, n, NULL, &nn);
    if (!nf) return err_set(e, "tokenizer: NFC normalization failed: %s", strerror(errno));
    int rc = split_added(t, 1, nf, nn, sc, out, e);
    free(nf);
    return rc;
}

int tokenizer_encode(const Tokenizer *t, const char *text, size_t len, int parse_special, TokIds *out, Err *e)
{
    const uint8_t *s = (const uint8_t *)text;
    for (size_t i = 0; i < len;) {
        size_t bad, l = utf8_char_len(s + i, len - i, &bad);
        if (!l) return err_set(e, "tokenizer: invalid UTF-8 in the input at byte offset %zu", i);
        i += l;
    }
    size_t n0 = out->n;
    TokScratch sc = {.parse_special = parse_special};
    int rc = split_added(t, 0, s, len, &sc, out, e);
    tok_scratch_free(&sc);
    if (rc) out->n = n0;
    return rc;
}

/* ---------------------------------------------------------------- decoding */

char *tokenizer_decode(const Tokenizer *t, const int32_t *ids, size_t n, int skip_special, Err *e)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->vocab_size || !t->present[id]) {
            err_set(e, "tokenizer: token id %d at position %zu is not in the vocabulary (size %d)", (int)id, i,
                    t->vocab_size);
            return NULL;
        }
        total += t->tok_len[id];
    }
    /* Invalid bytes become U+FFFD: at most 3 bytes for each 1 replaced. */
    char *raw = malloc(total + 1), *outp = malloc(total * 3 + 1);
    if (!raw || !outp) {
        free(raw);
        free(outp);
        err_set(e, "tokenizer: out of memory decoding %zu tokens", n);
        return NULL;
    }
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (skip_special && t->special[ids[i]]) continue;
        memcpy(raw + pos, t->bytes + t->tok_off[ids[i]], t->tok_len[ids[i]]);
        pos += t->tok_len[ids[i]];
    }
    size_t o = 0;
    for (size_t i = 0; i < pos;) {
        size_t bad, l = utf8_char_len((const uint8_t *)raw + i, pos - i, &bad);
        if (l) {
            memcpy(outp + o, raw + i, l);
            o += l;
            i += l;
        } else {
            o += put_utf8(0xFFFD, outp + o);
            i += bad;
        }
    }
    outp[o] = 0;
    free(raw);
    return outp;
}
