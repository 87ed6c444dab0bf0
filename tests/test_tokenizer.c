/* test_tokenizer.c - the tokenizer against Hugging Face's reference ids.
 *
 * For each real tokenizer.json under ../shared/fixtures/tokenizers/ (skipped
 * when that folder is missing), every string of
 * tests/fixtures/tokenizers/strings.jsonl must encode to exactly the ids in
 * tests/fixtures/tokenizers/<name>.ids.jsonl (made by tests/ref/tokenizer_ref.js
 * with HF `tokenizers`), and decode back to itself (its NFC form for
 * tokenizers that normalize).  A small tokenizer written to /tmp covers the
 * basics and the load errors without the shared fixtures. */
#include "test.h"
#include "tokenizer.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uninorm.h>

#define SHARED "../shared/fixtures/tokenizers/"
#define OURS "tests/fixtures/tokenizers/"

typedef struct Lines {
    char **v;
    size_t n;
} Lines;

static void lines_free(Lines *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Reads a file's non-empty lines; -1 if it cannot be opened. */
static int lines_read(const char *path, Lines *l)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0, vcap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
        while (got > 0 && line[got - 1] == '\n') line[--got] = 0;
        if (got == 0) continue;
        if (l->n == vcap) {
            vcap = vcap ? vcap * 2 : 256;
            l->v = realloc(l->v, vcap * sizeof *l->v);
        }
        l->v[l->n++] = strdup(line);
    }
    free(line);
    fclose(f);
    return 0;
}

/* The strings of strings.jsonl, decoded from JSON; NULL entries on bad lines. */
static char **load_strings(const Lines *l)
{
    char **s = calloc(l->n + 1, sizeof *s);
    for (size_t i = 0; i < l->n; i++) {
        cJSON *j = cJSON_Parse(l->v[i]);
        if (cJSON_IsString(j)) s[i] = strdup(j->valuestring);
        cJSON_Delete(j);
    }
    return s;
}

static int parse_ids(const char *line, TokIds *ids)
{
    cJSON *j = cJSON_Parse(line), *it;
    if (!cJSON_IsArray(j)) {
        cJSON_Delete(j);
        return -1;
    }
    Err e;
    cJSON_ArrayForEach(it, j) tokids_push(ids, (int32_t)it->valuedouble, &e);
    cJSON_Delete(j);
    return 0;
}

static int file_exists(const char *path) { return access(path, R_OK) == 0; }

static void print_ids(const char *label, const int32_t *v, size_t n, size_t around)
{
    size_t lo = around > 4 ? around - 4 : 0, hi = around + 5 < n ? around + 5 : n;
    fprintf(stderr, "    %s[%zu..%zu):", label, lo, hi);
    for (size_t i = lo; i < hi; i++) fprintf(stderr, " %d", v[i]);
    fputc('\n', stderr);
}

/* Every string against the reference ids, then the round trip. */
static void check_reference(const char *name, char **strings, size_t nstr, int vocab_size)
{
    char path[512], ids_path[512];
    snprintf(path, sizeof path, SHARED "%s/tokenizer.json", name);
    snprintf(ids_path, sizeof ids_path, OURS "%s.ids.jsonl", name);
    if (!file_exists(path)) {
        TEST_SKIP(path);
        return;
    }
    Err e = {{0}};
    Tokenizer *t = tokenizer_load(path, &e);
    CHECKF(t != NULL, "%s", e.msg);
    if (!t) return;
    CHECKF(tokenizer_vocab_size(t) == vocab_size, "%s: vocab size %d, want %d", name,
           tokenizer_vocab_size(t), vocab_size);

    Lines ref = {0};
    CHECKF(lines_read(ids_path, &ref) == 0 && ref.n == nstr, "%s: %zu reference lines for %zu strings", ids_path,
           ref.n, nstr);
    int shown = 0, id_fail = 0, rt_fail = 0;
    for (size_t i = 0; i < nstr && i < ref.n; i++) {
        const char *s = strings[i];
        size_t len = strlen(s);
        TokIds want = {0}, got = {0};
        parse_ids(ref.v[i], &want);
        int rc = tokenizer_encode(t, s, len, 1, &got, &e);
        size_t at = 0;
        while (at < want.n && at < got.n && want.v[at] == got.v[at]) at++;
        int same = rc == 0 && want.n == got.n && at == want.n;
        if (same) test_passed++;
        else {
            test_failed++;
            id_fail++;
            if (shown++ < 4) {
                fprintf(stderr, "FAIL %s: string %zu (%.60s): ids differ at position %zu (want %zu ids, got %zu)%s%s\n",
                        name, i, s, at, want.n, got.n, rc ? ": " : "", rc ? e.msg : "");
                print_ids("want", want.v, want.n, at);
                print_ids("got ", got.v, got.n, at);
            }
        }
        /* Round trip: decode(encode(x)) is x, or NFC(x) when the tokenizer normalizes. */
        char *back = rc == 0 ? tokenizer_decode(t, got.v, got.n, 0, &e) : NULL;
        char *expect = NULL;
        size_t elen = len;
        if (strcmp(name, "qwen3") == 0 && len > 0) {
            uint8_t *nf = u8_normalize(UNINORM_NFC, (const uint8_t *)s, len, NULL, &elen);
            expect = malloc(elen + 1);
            memcpy(expect, nf, elen);
            expect[elen] = 0;
            free(nf);
        }
        const char *x = expect ? expect : s;
        if (back && strlen(back) == elen && memcmp(back, x, elen) == 0) test_passed++;
        else {
            test_failed++;
            if (rt_fail++ < 3)
                fprintf(stderr, "FAIL %s: string %zu does not round-trip: \"%.60s\" -> \"%.60s\"\n", name, i, x,
                        back ? back : e.msg);
        }
        free(back);
        free(expect);
        tokids_free(&want);
        tokids_free(&got);
    }
    if (id_fail || rt_fail)
        fprintf(stderr, "%s: %d of %zu strings with wrong ids, %d not round-tripping\n", name, id_fail, nstr, rt_fail);
    lines_free(&ref);
    tokenizer_delete(t);
}

static int encode_str(const Tokenizer *t, const char *s, int parse_special, TokIds *out)
{
    Err e;
    out->n = 0;
    return tokenizer_encode(t, s, strlen(s), parse_special, out, &e);
}

/* Special tokens, parse_special, token lookups and bytes on the real files. */
static void check_specials(void)
{
    const char *path = SHARED "qwen3/tokenizer.json";
    if (!file_exists(path)) {
        TEST_SKIP(path);
        return;
    }
    Err e;
    Tokenizer *t = tokenizer_load(path, &e);
    CHECKF(t != NULL, "%s", e.msg);
    if (!t) return;
    int im_end = tokenizer_token_id(t, "<|im_end|>");
    int think = tokenizer_token_id(t, "<think>");
    CHECK(im_end == 151645);
    CHECK(think == 151667);
    CHECK(tokenizer_token_id(t, "hello") >= 0);
    CHECK(tokenizer_token_id(t, "no such token at all") == -1);
    CHECK(tokenizer_is_special(t, im_end));
    CHECK(!tokenizer_is_special(t, think));
    CHECK(!tokenizer_is_special(t, 0));

    TokIds ids = {0};
    CHECK(encode_str(t, "a<|im_end|>b", 1, &ids) == 0 && ids.n == 3 && ids.v[1] == im_end);
    CHECK(encode_str(t, "a<|im_end|>b", 0, &ids) == 0 && ids.n > 3);
    for (size_t i = 0; i < ids.n; i++) CHECK(ids.v[i] != im_end);
    /* <think> is not special: matched either way. */
    CHECK(encode_str(t, "<think>", 0, &ids) == 0 && ids.n == 1 && ids.v[0] == think);

    size_t len = 0;
    const char *b = tokenizer_token_bytes(t, im_end, &len);
    CHECK(b && len == 10 && memcmp(b, "<|im_end|>", 10) == 0);
    b = tokenizer_token_bytes(t, tokenizer_token_id(t, "\xC4\xA0hello"), &len); /* "Ġhello" */
    CHECK(b && len == 6 && memcmp(b, " hello", 6) == 0);
    CHECK(tokenizer_token_bytes(t, -1, &len) == NULL && len == 0);
    CHECK(tokenizer_token_bytes(t, tokenizer_vocab_size(t), &len) == NULL);

    encode_str(t, "<|im_start|>user\nhi<|im_end|>", 1, &ids);
    char *s = tokenizer_decode(t, ids.v, ids.n, 1, &e);
    CHECKF(s && strcmp(s, "user\nhi") == 0, "skip_special decode gave \"%s\"", s ? s : e.msg);
    free(s);
    int32_t bad = tokenizer_vocab_size(t);
    s = tokenizer_decode(t, &bad, 1, 0, &e);
    CHECK(s == NULL && strstr(e.msg, "not in the vocabulary"));
    tokids_free(&ids);
    tokenizer_delete(t);
}

static void write_file(const char *path, const char *text);

/* Added-token options (lstrip, rstrip, single_word, content already in the
 * vocab) on GPT-2 with four added tokens.  The expected ids come from HF
 * tokenizers 0.23.2 on the same modified file. */
static void check_added_options(const char *tmp)
{
    const char *path = SHARED "gpt2/tokenizer.json";
    if (!file_exists(path)) {
        TEST_SKIP(path);
        return;
    }
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    text[fread(text, 1, (size_t)n, f)] = 0;
    fclose(f);
    cJSON *root = cJSON_Parse(text);
    free(text);
    cJSON *added = cJSON_GetObjectItem(root, "added_tokens");
    static const char *extra =
        "[{\"id\":50257,\"content\":\"<mask>\",\"lstrip\":true,\"rstrip\":false,\"single_word\":false,"
        "\"normalized\":false,\"special\":true},"
        "{\"id\":50258,\"content\":\"[X]\",\"lstrip\":false,\"rstrip\":true,\"single_word\":false,"
        "\"normalized\":false,\"special\":false},"
        "{\"id\":50259,\"content\":\"cat\",\"lstrip\":false,\"rstrip\":false,\"single_word\":true,"
        "\"normalized\":false,\"special\":false},"
        "{\"id\":50260,\"content\":\"dog\",\"lstrip\":false,\"rstrip\":false,\"single_word\":false,"
        "\"normalized\":true,\"special\":false}]";
    cJSON *more = cJSON_Parse(extra), *it;
    while ((it = cJSON_DetachItemFromArray(more, 0)) != NULL) cJSON_AddItemToArray(added, it);
    cJSON_Delete(more);
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char mod[300];
    snprintf(mod, sizeof mod, "%s/gpt2-added.json", tmp);
    write_file(mod, out);
    free(out);

    static const struct { const char *s; int32_t ids[6]; } cases[] = {
        {"a  <mask> b", {64, 50257, 275, -1}},
        {"  <mask>", {50257, -1}},
        {"a <mask>  b", {64, 50257, 220, 275, -1}},
        {"x[X]   y", {87, 50258, 88, -1}},
        {"[X]\nx", {50258, 87, -1}},
        {"a[X] <mask>", {64, 50258, 50257, -1}},
        {"a cat b", {64, 220, 9246, 275, -1}},
        {"cats", {24619, -1}},
        {"cat.", {9246, 13, -1}},
        {"\tcat\n", {197, 9246, 198, -1}},
        {"dogcat dog", {9703, 9246, 220, 9703, -1}},
        {"hotdog", {8940, 9703, -1}},
        {"cat\xC2\xBD", {9246, 23141, -1}},
    };
    Err e = {{0}};
    Tokenizer *t = tokenizer_load(mod, &e);
    CHECKF(t != NULL, "%s", e.msg);
    if (!t) return;
    CHECK(tokenizer_vocab_size(t) == 50259); /* "cat" and "dog" keep their vocab ids */
    TokIds ids = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t k = 0;
        while (cases[i].ids[k] >= 0) k++;
        int ok = encode_str(t, cases[i].s, 1, &ids) == 0 && ids.n == k &&
                 memcmp(ids.v, cases[i].ids, k * sizeof(int32_t)) == 0;
        CHECKF(ok, "added-token options: \"%s\" gave %zu ids, first %d", cases[i].s, ids.n, ids.n ? ids.v[0] : -1);
    }
    tokids_free(&ids);
    tokenizer_delete(t);
}

static void check_invalid_utf8(const Tokenizer *t, const char *name)
{
    static const struct { const char *s; size_t len, offset; } cases[] = {
        {"ab\x80", 3, 2},             /* lone continuation byte */
        {"x\xE4\xBD", 3, 1},          /* truncated 3-byte sequence */
        {"\xC0\xAF", 2, 0},           /* overlong '/' */
        {"ok \xE0\x80\xAF", 6, 3},    /* overlong 3-byte */
        {"\xED\xA0\x80", 3, 0},       /* surrogate U+D800 */
        {"\xF4\x90\x80\x80", 4, 0},   /* above U+10FFFF */
        {"caf\xC3", 4, 3},            /* truncated at the end */
        {"\xFF", 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Err e = {{0}};
        TokIds ids = {0};
        tokids_push(&ids, 7, &e);
        int rc = tokenizer_encode(t, cases[i].s, cases[i].len, 1, &ids, &e);
        char want[64];
        snprintf(want, sizeof want, "byte offset %zu", cases[i].offset);
        CHECKF(rc == -1 && strstr(e.msg, want) && ids.n == 1, "%s: invalid UTF-8 case %zu: rc %d, \"%s\"", name,
               i, rc, e.msg);
        tokids_free(&ids);
    }
}

/* ------------------------------------------------------------ a tiny tokenizer */

static char tmp_dir[256];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* GPT-2's byte-level character for byte b, as a JSON-escaped string. */
static void byte_char_json(int b, char *out)
{
    int keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    int c = b;
    if (!keep) {
        int n = 0;
        for (int x = 0; x < b; x++) {
            int k = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
            if (!k) n++;
        }
        c = 256 + n;
    }
    if (c == '"' || c == '\\') sprintf(out, "\\%c", c);
    else if (c < 0x80) sprintf(out, "%c", c);
    else sprintf(out, "\\u%04x", c);
}

/* A byte-level BPE: ids 0..255 are the bytes, then merges he, ll, hell, hello,
 * Ġw; added tokens <|end|> (special) and [note] (not). */
static char *tiny_json_n(const char *model_type, const char *pretok, const char *normalizer)
{
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    n += (size_t)snprintf(s + n, cap - n, "{\"version\":\"1.0\",\"added_tokens\":["
                          "{\"id\":262,\"content\":\"<|end|>\",\"special\":true},"
                          "{\"id\":263,\"content\":\"[note]\",\"special\":false,\"normalized\":false}],"
                          "\"normalizer\":%s,\"pre_tokenizer\":%s,\"decoder\":{\"type\":\"ByteLevel\"},"
                          "\"model\":{\"type\":\"%s\",\"vocab\":{", normalizer, pretok, model_type);
    for (int b = 0; b < 256; b++) {
        char c[16];
        byte_char_json(b, c);
        n += (size_t)snprintf(s + n, cap - n, "\"%s\":%d,", c, b);
    }
    n += (size_t)snprintf(s + n, cap - n, "\"he\":256,\"ll\":257,\"hell\":258,\"hello\":259,\"\\u0120w\":260,"
                          "\"\\u0120wo\":261},\"merges\":[\"h e\",\"l l\",\"he ll\",\"hell o\",\"\\u0120 w\","
                          "[\"\\u0120w\",\"o\"]]}}");
    return s;
}

static char *tiny_json(const char *model_type, const char *pretok)
{
    return tiny_json_n(model_type, pretok, "null");
}

/* The Llama 3 split + ByteLevel without regex, behind an NFC Sequence. */
static void check_tiny_llama_style(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/tiny-llama.json", tmp_dir);
    char *json = tiny_json_n("BPE",
        "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":"
        "\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}|"
        " ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},"
        "\"behavior\":\"Isolated\",\"invert\":false},"
        "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":false}]}",
        "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"}]}");
    write_file(path, json);
    free(json);
    Err e = {{0}};
    Tokenizer *t = tokenizer_load(path, &e);
    CHECKF(t != NULL, "%s", e.msg);
    if (!t) return;
    TokIds ids = {0};
    CHECK(encode_str(t, "hello world", 1, &ids) == 0 && ids.n == 5 && ids.v[0] == 259 && ids.v[1] == 261);
    /* e + COMBINING ACUTE becomes U+00E9 (bytes C3 A9) under NFC. */
    CHECK(encode_str(t, "e\xCC\x81", 1, &ids) == 0 && ids.n == 2 && ids.v[0] == 0xC3 && ids.v[1] == 0xA9);
    /* 12345 splits as 123 45 (no merges: one id per byte). */
    CHECK(encode_str(t, "12345", 1, &ids) == 0 && ids.n == 5);
    tokids_free(&ids);
    tokenizer_delete(t);
}

static void check_tiny(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/tiny.json", tmp_dir);
    char *json = tiny_json("BPE", "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true}");
    write_file(path, json);
    free(json);
    Err e = {{0}};
    Tokenizer *t = tokenizer_load(path, &e);
    CHECKF(t != NULL, "%s", e.msg);
    if (!t) return;
    CHECK(tokenizer_vocab_size(t) == 264);
    TokIds ids = {0};
    CHECK(encode_str(t, "hello", 1, &ids) == 0 && ids.n == 1 && ids.v[0] == 259);
    CHECK(encode_str(t, "hellohe", 1, &ids) == 0 && ids.n == 2 && ids.v[0] == 259 && ids.v[1] == 256);
    CHECK(encode_str(t, "hello world", 1, &ids) == 0 && ids.n == 5 && ids.v[1] == 261 && ids.v[2] == 'r');
    CHECK(encode_str(t, "a<|end|>b", 1, &ids) == 0 && ids.n == 3 && ids.v[1] == 262);
    CHECK(encode_str(t, "a<|end|>b", 0, &ids) == 0 && ids.n == 9);
    CHECK(encode_str(t, "[note]", 0, &ids) == 0 && ids.n == 1 && ids.v[0] == 263);
    CHECK(encode_str(t, "", 1, &ids) == 0 && ids.n == 0);
    CHECK(tokenizer_token_id(t, "<|end|>") == 262);
    CHECK(tokenizer_token_id(t, "\xC4\xA0w") == 260);
    CHECK(tokenizer_is_special(t, 262) && !tokenizer_is_special(t, 263) && !tokenizer_is_special(t, 259));

    /* All 256 bytes round-trip through their own tokens. */
    int32_t all[256];
    for (int b = 0; b < 256; b++) all[b] = b;
    int ok = 1;
    for (int b = 0; b < 256; b++) {
        size_t len;
        const char *p = tokenizer_token_bytes(t, b, &len);
        ok &= p && len == 1 && (uint8_t)p[0] == b;
    }
    CHECK(ok);
    char *s = tokenizer_decode(t, all + 1, 0x7F, 0, &e); /* bytes 1..0x7F: ASCII as is */
    CHECK(s && strlen(s) == 0x7F && s[0] == 1 && s[0x7E] == 0x7F);
    free(s);
    int32_t lossy[] = {'a', 0xE4, 0xBD, 'b', 0xFF, 0xE4, 0xBD, 0xA0}; /* a, truncated, b, bad, 你 */
    s = tokenizer_decode(t, lossy, 8, 0, &e);
    CHECKF(s && strcmp(s, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xE4\xBD\xA0") == 0, "lossy decode \"%s\"", s ? s : "");
    free(s);
    int32_t sp[] = {'x', 262, 263};
    s = tokenizer_decode(t, sp, 3, 1, &e);
    CHECK(s && strcmp(s, "x[note]") == 0);
    free(s);

    /* A long run of spaces and one long word stay fast (heap-based merging). */
    size_t big = 200000;
    char *text = malloc(big + 1);
    memset(text, ' ', big);
    text[big] = 0;
    CHECK(encode_str(t, text, 1, &ids) == 0 && ids.n == big);
    for (size_t i = 0; i < big; i += 2) memcpy(text + i, "ll", 2);
    CHECK(encode_str(t, text, 1, &ids) == 0 && ids.n == big / 2 && ids.v[0] == 257);
    free(text);
    check_invalid_utf8(t, "tiny");
    tokids_free(&ids);
    tokenizer_delete(t);
}

static void expect_load_error(const char *name, const char *content, const char *want)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    if (content) write_file(path, content);
    Err e = {{0}};
    Tokenizer *t = tokenizer_load(path, &e);
    CHECKF(t == NULL && strstr(e.msg, path) && strstr(e.msg, want), "%s: got \"%s\", want \"%s\"", name, e.msg,
           want);
    tokenizer_delete(t);
}

static void check_load_errors(void)
{
    expect_load_error("missing.json", NULL, "cannot open");
    expect_load_error("malformed.json", "{\"model\": {\"type\": \"BPE\", ", "malformed JSON");
    expect_load_error("notjson.json", "hello", "malformed JSON");
    expect_load_error("nomodel.json", "{\"version\": \"1.0\"}", "model");
    char *j = tiny_json("Unigram", "{\"type\":\"ByteLevel\"}");
    expect_load_error("unigram.json", j, "model.type \"Unigram\" is not supported (only BPE)");
    free(j);
    j = tiny_json("BPE", "{\"type\":\"Metaspace\"}");
    expect_load_error("metaspace.json", j, "pre_tokenizer \"Metaspace\" is not supported");
    free(j);
    j = tiny_json("BPE", "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":"
                         "\"\\\\w+\"},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\"}]}");
    expect_load_error("regex.json", j, "unknown regex");
    free(j);
    j = tiny_json("BPE", "{\"type\":\"Digits\",\"individual_digits\":true}");
    expect_load_error("nobytelevel.json", j, "no ByteLevel");
    free(j);
    j = tiny_json("BPE", "{\"type\":\"ByteLevel\"}");
    char *p = strstr(j, "\"type\":\"BPE\"");
    size_t at = (size_t)(p - j) + strlen("\"type\":\"BPE\"");
    char *fb = malloc(strlen(j) + 32);
    sprintf(fb, "%.*s,\"byte_fallback\":true%s", (int)at, j, j + at);
    expect_load_error("fallback.json", fb, "byte_fallback is not supported");
    free(fb);
    free(j);
}

int main(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/infuse_test_tokenizer_%d", (int)getpid());
    if (mkdir(tmp_dir, 0700) != 0) perror(tmp_dir);

    check_tiny();
    check_tiny_llama_style();
    check_load_errors();

    Lines lines = {0};
    CHECKF(lines_read(OURS "strings.jsonl", &lines) == 0 && lines.n >= 220, "%s: %zu strings",
           OURS "strings.jsonl", lines.n);
    char **strings = load_strings(&lines);
    int all_parsed = 1;
    for (size_t i = 0; i < lines.n; i++) all_parsed &= strings[i] != NULL;
    CHECK(all_parsed);
    if (all_parsed) {
        check_reference("gpt2", strings, lines.n, 50257);
        check_reference("smollm2-135m-instruct", strings, lines.n, 49152);
        check_reference("llama3", strings, lines.n, 128256);
        check_reference("qwen3", strings, lines.n, 151669);
    }
    check_specials();
    check_added_options(tmp_dir);
    const char *path = SHARED "llama3/tokenizer.json";
    if (file_exists(path)) {
        Err e;
        Tokenizer *t = tokenizer_load(path, &e);
        CHECKF(t != NULL, "%s", e.msg);
        if (t) check_invalid_utf8(t, "llama3");
        tokenizer_delete(t);
    } else {
        TEST_SKIP(path);
    }
    for (size_t i = 0; i < lines.n; i++) free(strings[i]);
    free(strings);
    lines_free(&lines);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_dir);
    TEST_MAIN_END();
}
