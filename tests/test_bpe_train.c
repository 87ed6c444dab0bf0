/* test_bpe_train.c - the BPE trainer (bpe_train.h) and `infuse tokenizer-train`.
 *
 * Two oracles from Hugging Face `tokenizers` (tests/ref/bpe_train_ref.js):
 * the merges HF's own BpeTrainer learns from tests/fixtures/tokenizers-trained/
 * corpus.txt must be exactly ours, and the ids HF gives with the
 * tokenizer.json infuse trained there must be exactly what tokenizer.h gives,
 * for every string of tests/fixtures/tokenizers/strings.jsonl.  Around them:
 * determinism, the file's structure (ids, merges, specials), round trips of
 * arbitrary UTF-8, and the errors.  Scratch files go to a mkdtemp folder. */
#include "test.h"

#include <cJSON.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpe_train.h"
#include "fsutil.h"
#include "tokenizer.h"

#define FIX "tests/fixtures/tokenizers-trained/"
#define STRINGS "tests/fixtures/tokenizers/strings.jsonl"

static char tmp[64] = "/tmp/infuse-bpe-XXXXXX";

static char *tmp_path(const char *name)
{
    static char p[8][256];
    static int k;
    char *s = p[k++ % 8];
    snprintf(s, 256, "%s/%s", tmp, name);
    return s;
}

static void spit(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(s, 1, strlen(s), f);
    fclose(f);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* A small corpus: words, numbers, Korean, emoji, code, whitespace runs. */
static char *make_corpus(size_t target)
{
    static const char *const parts[] = {
        "the", "model", "learns", "a", "new", "domain", "from", "text", "token", "tokens", "merge", "pair",
        "데이터", "학습", "한국어", "😀", "🚀", "东京", "int", "main(void)", "{", "}", "==", "->", "x[i]",
        "<|endoftext|>", "\n", "\n\n", "    ", "\t", "3.14", "2024", "don't", "it's", "ÆØÅ", "ñandú"};
    size_t n = sizeof parts / sizeof *parts, len = 0, cap = target + 64;
    char *s = malloc(cap + 1);
    while (len < target) {
        const char *p = parts[rnd((uint32_t)n)];
        size_t l = strlen(p);
        if (len + l + 1 > cap) break;
        memcpy(s + len, p, l);
        len += l;
        if (rnd(4)) s[len++] = ' ';
    }
    s[len] = 0;
    return s;
}

static BpeTrainer *trained(const char *text, int vocab, int min_freq, Err *e)
{
    BpeTrainer *t = bpe_trainer_new(NULL, 0, e);
    if (!t) return NULL;
    if (bpe_trainer_add_text(t, text, strlen(text), e) || bpe_trainer_train(t, vocab, min_freq, e)) {
        bpe_trainer_delete(t);
        return NULL;
    }
    return t;
}

/* encode then decode gives the text back, with and without special parsing. */
static int round_trips(const Tokenizer *tok, const char *s)
{
    int ok = 1;
    for (int sp = 0; sp < 2 && ok; sp++) {
        Err e;
        TokIds ids = {0};
        if (tokenizer_encode(tok, s, strlen(s), sp, &ids, &e)) return 0;
        char *back = tokenizer_decode(tok, ids.v, ids.n, 0, &e);
        ok = back && strcmp(back, s) == 0;
        free(back);
        tokids_free(&ids);
    }
    return ok;
}

/* A random valid UTF-8 string of n characters from all planes. */
static void random_utf8(char *out, int n)
{
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        uint32_t c;
        switch (rnd(5)) {
        case 0: c = 0x20 + rnd(0x5F); break;
        case 1: c = rnd(0x80); break;
        case 2: c = 0xAC00 + rnd(11172); break; /* Hangul syllables */
        case 3: c = 0x1F300 + rnd(0x300); break; /* emoji */
        default: c = 0x80 + rnd(0x10FF80); break;
        }
        if (c == 0 || (c >= 0xD800 && c < 0xE000)) c = 'x';
        if (c < 0x80) out[o++] = (char)c;
        else if (c < 0x800) {
            out[o++] = (char)(0xC0 | c >> 6);
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xE0 | c >> 12);
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | c >> 18);
            out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = 0;
}

static void test_small_corpus(void)
{
    char *corpus = make_corpus(200000);
    Err e = {{0}};
    BpeTrainer *a = trained(corpus, 600, 2, &e), *b = trained(corpus, 600, 2, &e);
    CHECKF(a && b, "%s", e.msg);
    if (!a || !b) goto out;

    size_t na, nb;
    char *ja = bpe_trainer_json(a, &na, &e), *jb = bpe_trainer_json(b, &nb, &e);
    CHECK(ja && jb && na == nb && memcmp(ja, jb, na) == 0); /* deterministic */
    BpeTrainStats st;
    bpe_trainer_stats(a, &st);
    CHECKF(st.vocab_size == 600 && st.n_special == 3, "vocab %d", st.vocab_size);
    CHECK(st.n_merges >= 600 - 259 && st.n_unique > 10 && st.n_words > 1000);
    CHECK(st.n_bytes == strlen(corpus));

    /* The file's structure: ids 0..V-1 each once, specials first, every
     * merge's parts earlier in the vocab and its result present. */
    cJSON *root = cJSON_Parse(ja);
    CHECK(root != NULL);
    cJSON *model = cJSON_GetObjectItem(root, "model");
    cJSON *vocab = cJSON_GetObjectItem(model, "vocab"), *merges = cJSON_GetObjectItem(model, "merges"), *it;
    CHECK(cJSON_GetArraySize(vocab) == 600);
    CHECK(strcmp(cJSON_GetObjectItem(model, "type")->valuestring, "BPE") == 0);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(model, "byte_fallback")));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(model, "ignore_merges")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(root, "normalizer")));
    int seen[600] = {0}, id_ok = 1;
    cJSON_ArrayForEach(it, vocab) {
        int id = it->valueint;
        if (id < 0 || id >= 600 || seen[id]++) id_ok = 0;
    }
    CHECK(id_ok);
    int merge_ok = 1, k = 0;
    cJSON_ArrayForEach(it, merges) {
        const char *l = cJSON_GetArrayItem(it, 0)->valuestring, *r = cJSON_GetArrayItem(it, 1)->valuestring;
        char cat[512];
        snprintf(cat, sizeof cat, "%s%s", l, r);
        cJSON *il = cJSON_GetObjectItemCaseSensitive(vocab, l), *ir = cJSON_GetObjectItemCaseSensitive(vocab, r),
              *im = cJSON_GetObjectItemCaseSensitive(vocab, cat);
        if (!il || !ir || !im || il->valueint >= im->valueint || ir->valueint >= im->valueint) {
            if (merge_ok) fprintf(stderr, "    merge %d: \"%s\" + \"%s\"\n", k, l, r);
            merge_ok = 0;
        }
        k++;
    }
    CHECK(merge_ok && k == st.n_merges);
    cJSON *added = cJSON_GetObjectItem(root, "added_tokens");
    CHECK(cJSON_GetArraySize(added) == 3);
    for (int i = 0; i < 3; i++) {
        cJSON *at = cJSON_GetArrayItem(added, i);
        CHECK(cJSON_GetObjectItem(at, "id")->valueint == i && cJSON_IsTrue(cJSON_GetObjectItem(at, "special")));
        CHECK(strcmp(cJSON_GetObjectItem(at, "content")->valuestring, bpe_default_special[i]) == 0);
    }
    /* The separator occurs hundreds of times but is cut out before counting. */
    CHECK(cJSON_GetObjectItemCaseSensitive(vocab, "endoftext") == NULL);
    CHECK(cJSON_GetObjectItemCaseSensitive(vocab, "<|") == NULL);
    cJSON_Delete(root);

    /* It loads, and encodes and decodes arbitrary text exactly. */
    char *path = tmp_path("small.json");
    CHECKF(bpe_trainer_save(a, path, &e) == 0, "%s", e.msg);
    Tokenizer *tok = tokenizer_load(path, &e);
    CHECKF(tok != NULL, "%s", e.msg);
    if (tok) {
        CHECK(tokenizer_vocab_size(tok) == 600);
        CHECK(tokenizer_token_id(tok, "<|endoftext|>") == 0 && tokenizer_token_id(tok, "<|im_start|>") == 1 &&
              tokenizer_token_id(tok, "<|im_end|>") == 2);
        CHECK(tokenizer_is_special(tok, 0) && tokenizer_is_special(tok, 2) && !tokenizer_is_special(tok, 3));
        const char *fixed[] = {"", "the model learns", "한국어 데이터를 학습합니다. 안녕하세요!",
                               "😀🚀👩‍💻🇰🇷 emoji ❤️", "东京の天気は晴れ。", "   \n\n\t  x  ", "12345 3.14159",
                               "<|im_start|>user\nhi<|im_end|>\n", "<|endoftext|><|endoftext|>", "a<|im_end"};
        for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) CHECKF(round_trips(tok, fixed[i]), "%s", fixed[i]);
        int rt_ok = 1;
        char buf[4 * 64 + 1];
        for (int i = 0; i < 300; i++) {
            random_utf8(buf, 1 + (int)rnd(64));
            if (!round_trips(tok, buf)) rt_ok = 0;
        }
        CHECK(rt_ok);
        /* Special tokens are matched before the pre-tokenizer splits. */
        TokIds ids = {0};
        const char *s = "x<|im_start|>assistant<|im_end|>";
        CHECK(tokenizer_encode(tok, s, strlen(s), 1, &ids, &e) == 0 && ids.n >= 4 && ids.v[1] == 1 &&
              ids.v[ids.n - 1] == 2);
        ids.n = 0;
        CHECK(tokenizer_encode(tok, s, strlen(s), 0, &ids, &e) == 0 && ids.n > 4);
        int has_special = 0;
        for (size_t i = 0; i < ids.n; i++) has_special |= ids.v[i] < 3;
        CHECK(!has_special);
        tokids_free(&ids);
        tokenizer_delete(tok);
    }

    /* Training again with other options reuses the counts. */
    CHECK(bpe_trainer_train(a, 300, 2, &e) == 0);
    bpe_trainer_stats(a, &st);
    CHECK(st.vocab_size == 300);
    /* A pair must be seen min_frequency times: none is seen 10^9 times. */
    CHECK(bpe_trainer_train(a, 1000, 1000000000, &e) == 0);
    bpe_trainer_stats(a, &st);
    CHECK(st.vocab_size == 259 && st.n_merges == 0);
    free(ja);
    free(jb);
out:
    bpe_trainer_delete(a);
    bpe_trainer_delete(b);
    free(corpus);
}

static void test_specials(void)
{
    Err e = {{0}};
    const char *sp[] = {"<pad>", "<s>", "</s>", "<|user|>"};
    BpeTrainer *t = bpe_trainer_new(sp, 4, &e);
    CHECKF(t != NULL, "%s", e.msg);
    if (!t) return;
    const char *text = "<s>hello world</s><pad><pad> hello hello world <|user|> the world";
    CHECK(bpe_trainer_add_text(t, text, strlen(text), &e) == 0);
    CHECK(bpe_trainer_train(t, 270, 2, &e) == 0);
    char *path = tmp_path("specials.json");
    CHECK(bpe_trainer_save(t, path, &e) == 0);
    Tokenizer *tok = tokenizer_load(path, &e);
    CHECKF(tok != NULL, "%s", e.msg);
    if (tok) {
        for (int i = 0; i < 4; i++) CHECK(tokenizer_token_id(tok, sp[i]) == i && tokenizer_is_special(tok, i));
        CHECK(tokenizer_token_id(tok, "!") == 4); /* bytes follow, by byte-level character */
        CHECK(round_trips(tok, text));
        tokenizer_delete(tok);
    }
    bpe_trainer_delete(t);

    /* No special tokens at all: the bytes start at id 0. */
    t = bpe_trainer_new(sp, 0, &e);
    CHECK(t && bpe_trainer_add_text(t, "ab ab ab", 8, &e) == 0 && bpe_trainer_train(t, 256, 2, &e) == 0);
    BpeTrainStats st;
    if (t) bpe_trainer_stats(t, &st);
    CHECK(t && st.vocab_size == 256 && st.n_special == 0);
    bpe_trainer_delete(t);
}

static void test_errors(void)
{
    Err e = {{0}};
    BpeTrainer *t = bpe_trainer_new(NULL, 0, &e);
    CHECK(t != NULL);
    if (!t) return;
    CHECKF(bpe_trainer_train(t, 1000, 2, &e) < 0 && strstr(e.msg, "no text"), "%s", e.msg);
    CHECK(bpe_trainer_add_text(t, "", 0, &e) == 0);
    CHECKF(bpe_trainer_train(t, 1000, 2, &e) < 0 && strstr(e.msg, "no text"), "%s", e.msg);
    size_t n;
    CHECK(bpe_trainer_json(t, &n, &e) == NULL);
    CHECKF(bpe_trainer_add_text(t, "ok \xC3\x28 bad", 8, &e) < 0 && strstr(e.msg, "byte offset 3"), "%s", e.msg);
    CHECK(bpe_trainer_add_text(t, "hello hello", 11, &e) == 0);
    CHECKF(bpe_trainer_train(t, 258, 2, &e) < 0 && strstr(e.msg, "258") && strstr(e.msg, "259"), "%s", e.msg);
    CHECK(bpe_trainer_train(t, 259, 2, &e) == 0);
    CHECKF(bpe_trainer_train(t, 300, 0, &e) < 0 && strstr(e.msg, "min frequency"), "%s", e.msg);
    CHECKF(bpe_trainer_add_path(t, tmp_path("missing.txt"), &e) < 0 && strstr(e.msg, "missing.txt"), "%s", e.msg);
    char *empty_dir = tmp_path("emptydir");
    mkdir(empty_dir, 0755);
    spit(tmp_path("emptydir/notes.bin"), "x");
    CHECKF(bpe_trainer_add_path(t, empty_dir, &e) < 0 && strstr(e.msg, "no .txt"), "%s", e.msg);
    spit(tmp_path("bad.jsonl"), "{\"text\": \"fine\"}\n{\"title\": 1}\n");
    CHECKF(bpe_trainer_add_path(t, tmp_path("bad.jsonl"), &e) < 0 && strstr(e.msg, "bad.jsonl:2"), "%s", e.msg);
    spit(tmp_path("empty.txt"), "");
    CHECKF(bpe_trainer_add_path(t, tmp_path("empty.txt"), &e) < 0 && strstr(e.msg, "empty"), "%s", e.msg);
    bpe_trainer_delete(t);

    const char *dup[] = {"<a>", "<a>"}, *blank[] = {""}, *byte[] = {"a"};
    CHECKF(bpe_trainer_new(dup, 2, &e) == NULL && strstr(e.msg, "twice"), "%s", e.msg);
    CHECKF(bpe_trainer_new(blank, 1, &e) == NULL && strstr(e.msg, "empty"), "%s", e.msg);
    CHECKF(bpe_trainer_new(byte, 1, &e) == NULL && strstr(e.msg, "byte"), "%s", e.msg);
}

/* A folder is its .txt, .md and .jsonl files in name order: the same as
 * naming them in that order. */
static void test_folder(void)
{
    char *dir = tmp_path("docs");
    mkdir(dir, 0755);
    spit(tmp_path("docs/b.txt"), "second file, second file\n");
    spit(tmp_path("docs/a.md"), "# first\nfirst file first file\n");
    spit(tmp_path("docs/c.jsonl"), "{\"text\": \"third third\"}\n\n{\"text\": \"한국어 한국어\"}\n");
    spit(tmp_path("docs/skip.csv"), "not,this\n");
    Err e = {{0}};
    BpeTrainer *x = bpe_trainer_new(NULL, 0, &e), *y = bpe_trainer_new(NULL, 0, &e);
    CHECK(x && y);
    if (!x || !y) return;
    CHECKF(bpe_trainer_add_path(x, dir, &e) == 0, "%s", e.msg);
    CHECK(bpe_trainer_add_path(y, tmp_path("docs/a.md"), &e) == 0 && bpe_trainer_add_path(y, tmp_path("docs/b.txt"), &e) == 0 &&
          bpe_trainer_add_path(y, tmp_path("docs/c.jsonl"), &e) == 0);
    BpeTrainStats st;
    bpe_trainer_stats(x, &st);
    CHECK(st.n_files == 3);
    CHECK(bpe_trainer_train(x, 300, 2, &e) == 0 && bpe_trainer_train(y, 300, 2, &e) == 0);
    size_t nx, ny;
    char *jx = bpe_trainer_json(x, &nx, &e), *jy = bpe_trainer_json(y, &ny, &e);
    CHECK(jx && jy && nx == ny && memcmp(jx, jy, nx) == 0);
    free(jx);
    free(jy);
    bpe_trainer_delete(x);
    bpe_trainer_delete(y);
}

/* HF's BpeTrainer, fed corpus.txt line by line without the separator lines,
 * learned hf-merges.jsonl; ours must learn the same merges in the same order. */
static void test_hf_merges(void)
{
    size_t n;
    Err e = {{0}};
    char *corpus = fs_read_all(FIX "corpus.txt", &n, &e), *ref = fs_read_all(FIX "hf-merges.jsonl", &n, &e);
    CHECKF(corpus && ref, "%s", e.msg);
    BpeTrainer *t = bpe_trainer_new(bpe_default_special, 0, &e);
    if (!corpus || !ref || !t) goto out;
    int add_fail = 0;
    for (char *p = corpus; *p;) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (!(len == 14 && memcmp(p, "<|endoftext|>\n", 14) == 0)) add_fail += bpe_trainer_add_text(t, p, len, &e) != 0;
        p += len;
    }
    CHECK(add_fail == 0);
    CHECKF(bpe_trainer_train(t, 1 << 20, 1, &e) == 0, "%s", e.msg);
    size_t nj;
    char *json = bpe_trainer_json(t, &nj, &e);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    cJSON *merges = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "model"), "merges");
    int k = 0, same = 1, n_ref = 0;
    cJSON *mine = merges ? merges->child : NULL;
    for (char *line = ref; *line; k++) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        cJSON *want = cJSON_Parse(line);
        char *got = mine ? cJSON_PrintUnformatted(mine) : NULL;
        char *wants = want ? cJSON_PrintUnformatted(want) : NULL;
        if (!got || !wants || strcmp(got, wants) != 0) {
            if (same) fprintf(stderr, "    merge %d: HF %s, infuse %s\n", k, wants ? wants : "?", got ? got : "none");
            same = 0;
        }
        free(got);
        free(wants);
        cJSON_Delete(want);
        if (mine) mine = mine->next;
        n_ref++;
        if (!nl) break;
        line = nl + 1;
    }
    CHECKF(same && n_ref > 1000, "%d reference merges", n_ref);
    CHECKF(cJSON_GetArraySize(merges) == n_ref, "infuse %d merges, HF %d", cJSON_GetArraySize(merges), n_ref);
    cJSON_Delete(root);
    free(json);
out:
    bpe_trainer_delete(t);
    free(corpus);
    free(ref);
}

/* The committed tokenizer.json is what training corpus.txt gives today. */
static void test_fixture_reproduced(void)
{
    Err e = {{0}};
    BpeTrainer *t = bpe_trainer_new(NULL, 0, &e);
    CHECK(t && bpe_trainer_add_path(t, FIX "corpus.txt", &e) == 0 && bpe_trainer_train(t, 1024, 2, &e) == 0);
    size_t nj = 0, nf = 0;
    char *json = t ? bpe_trainer_json(t, &nj, &e) : NULL, *file = fs_read_all(FIX "tokenizer.json", &nf, &e);
    CHECKF(json && file && nj == nf && memcmp(json, file, nj) == 0, "%s differs from a fresh training (%zu vs %zu bytes)",
           FIX "tokenizer.json", nf, nj);
    free(json);
    free(file);
    bpe_trainer_delete(t);
}

/* infuse and HF give the same ids with the trained file, and decoding gives
 * the text back. */
static void test_hf_ids(void)
{
    Err e = {{0}};
    Tokenizer *tok = tokenizer_load(FIX "tokenizer.json", &e);
    size_t ns, ni;
    char *strs = fs_read_all(STRINGS, &ns, &e), *ids = fs_read_all(FIX "ids.jsonl", &ni, &e);
    CHECKF(tok && strs && ids, "%s", e.msg);
    if (!tok || !strs || !ids) goto out;
    int n = 0, id_fail = 0, rt_fail = 0, shown = 0;
    char *sl = strs, *il = ids;
    while (*sl && *il) {
        char *snl = strchr(sl, '\n'), *inl = strchr(il, '\n');
        if (snl) *snl = 0;
        if (inl) *inl = 0;
        cJSON *s = cJSON_Parse(sl), *want = cJSON_Parse(il);
        TokIds got = {0};
        int ok = cJSON_IsString(s) && cJSON_IsArray(want) &&
                 tokenizer_encode(tok, s->valuestring, strlen(s->valuestring), 1, &got, &e) == 0 &&
                 (int)got.n == cJSON_GetArraySize(want);
        for (size_t i = 0; ok && i < got.n; i++) ok = cJSON_GetArrayItem(want, (int)i)->valueint == got.v[i];
        if (!ok) {
            id_fail++;
            if (shown++ < 3) fprintf(stderr, "    string %d (%.60s): ids differ from HF\n", n, sl);
        }
        if (cJSON_IsString(s)) {
            char *back = tokenizer_decode(tok, got.v, got.n, 0, &e);
            if (!back || strcmp(back, s->valuestring) != 0) rt_fail++;
            free(back);
        }
        tokids_free(&got);
        cJSON_Delete(s);
        cJSON_Delete(want);
        n++;
        if (!snl || !inl) break;
        sl = snl + 1;
        il = inl + 1;
    }
    CHECKF(n >= 300, "%d strings", n);
    CHECKF(id_fail == 0, "%d of %d strings tokenize differently from HF", id_fail, n);
    CHECKF(rt_fail == 0, "%d of %d strings do not decode back", rt_fail, n);
out:
    tokenizer_delete(tok);
    free(strs);
    free(ids);
}

/* Runs the program; its exit status, stdout and stderr in out/err files. */
static int run(const char *args)
{
    const char *bin = getenv("INFUSE_BIN") ? getenv("INFUSE_BIN") : "./infuse";
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s tokenizer-train %s >%s 2>%s", bin, args, tmp_path("out"), tmp_path("err"));
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int err_has(const char *what)
{
    size_t n;
    Err e;
    char *s = fs_read_all(tmp_path("err"), &n, &e);
    int ok = s && strstr(s, what) != NULL;
    if (!ok) fprintf(stderr, "    stderr: %s\n", s ? s : "?");
    free(s);
    return ok;
}

static void test_cli(void)
{
    char args[1024];
    snprintf(args, sizeof args, "-o %s --vocab-size 1024 " FIX "corpus.txt", tmp_path("cli.json"));
    CHECK(run(args) == 0);
    size_t n1, n2;
    Err e;
    char *a = fs_read_all(tmp_path("cli.json"), &n1, &e), *b = fs_read_all(FIX "tokenizer.json", &n2, &e);
    CHECK(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
    free(a);
    free(b);
    char *out = fs_read_all(tmp_path("out"), &n1, &e);
    CHECKF(out && strstr(out, "vocab 1024") && strstr(out, "merges"), "%s", out ? out : "?");
    free(out);

    snprintf(args, sizeof args, "-o %s --vocab-size 300 --special '<a>' --special '<b>' --min-frequency 3 %s",
             tmp_path("cli2.json"), tmp_path("docs"));
    CHECK(run(args) == 0);
    Tokenizer *tok = tokenizer_load(tmp_path("cli2.json"), &e);
    CHECK(tok && tokenizer_token_id(tok, "<a>") == 0 && tokenizer_token_id(tok, "<b>") == 1);
    tokenizer_delete(tok);

    snprintf(args, sizeof args, "-o %s --vocab-size 100 " FIX "corpus.txt", tmp_path("cli3.json"));
    CHECK(run(args) == 1 && err_has("vocab size 100"));
    CHECK(!fs_exists(tmp_path("cli3.json")));
    snprintf(args, sizeof args, "-o %s --vocab-size 1000 %s", tmp_path("cli3.json"), tmp_path("nope.txt"));
    CHECK(run(args) == 1 && err_has("nope.txt"));
    CHECK(run("--vocab-size 1000 x.txt") == 1 && err_has("usage"));
    CHECK(run("-o x.json --vocab-size lots x.txt") == 1 && err_has("--vocab-size"));
    CHECK(run("-o x.json --vocab-size 1000 --bogus x.txt") == 1 && err_has("--bogus"));
}

int main(void)
{
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_small_corpus();
    test_specials();
    test_errors();
    test_folder();
    test_hf_merges();
    test_fixture_reproduced();
    test_hf_ids();
    test_cli();
    Err e;
    fs_remove_tree(tmp, &e);
    TEST_MAIN_END();
}
