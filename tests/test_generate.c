/* test_generate.c - the token loop: what reaches the caller, and why it stops.
 *
 * The fixture model has random weights, so its text is byte noise: NUL
 * bytes, stray UTF-8 lead bytes, pieces of characters.  That is the point:
 * the loop must hand the caller valid UTF-8 whatever the model does.  The
 * expected text is rebuilt here independently: a loop over model_forward and
 * a fresh sampler with the same seed (tested on its own in test_sampler.c),
 * the tokens' bytes, and a brute-force UTF-8 repair.  Sampling at
 * temperature 1 rather than greedy, because this model's greedy text is one
 * byte repeated. */
#include "test.h"
#include "forward.h"
#include "generate.h"
#include "model.h"
#include "pool.h"

#define DIR "tests/fixtures/models/tiny-gqa"

typedef struct Sink {
    char buf[8192];
    size_t n;
    int chunks, stop_after, all_valid;
} Sink;

/* Is s[0..n) one well-formed UTF-8 character?  Decodes by arithmetic and
 * re-encodes: overlong forms, surrogates and values past U+10FFFF fail. */
static int one_char(const unsigned char *s, size_t n)
{
    if (n == 1)
        return s[0] < 0x80;
    static const unsigned lead_mask[5] = {0, 0, 0x1f, 0x0f, 0x07}, lead_bits[5] = {0, 0, 0xc0, 0xe0, 0xf0};
    if ((s[0] & ~lead_mask[n]) != lead_bits[n] || (s[0] & (lead_mask[n] + 1)) != 0)
        return 0;
    unsigned cp = s[0] & lead_mask[n];
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    return cp >= min_cp[n] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
}

/* Can s[0..k) still become a character, whatever bytes follow? */
static int completable(const unsigned char *s, size_t k)
{
    for (size_t n = k; n <= 4; n++) {
        unsigned char c[4];
        memcpy(c, s, k);
        /* every tail of n-k continuation bytes, 64 values each */
        unsigned combos = 1;
        for (size_t i = k; i < n; i++)
            combos *= 64;
        for (unsigned v = 0; v < combos; v++) {
            unsigned x = v;
            for (size_t i = k; i < n; i++, x /= 64)
                c[i] = (unsigned char)(0x80 | (x % 64));
            if (one_char(c, n))
                return 1;
        }
    }
    return 0;
}

/* Replaces each maximal ill-formed part with U+FFFD. */
static size_t repair(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = 0;
        for (size_t k = 1; k <= 4 && i + k <= n; k++)
            if (one_char(in + i, k))
                len = k;
        if (len) {
            memcpy(out + o, in + i, len);
            o += len, i += len;
            continue;
        }
        size_t bad = 1;
        while (bad < 3 && i + bad < n && completable(in + i, bad + 1))
            bad++;
        memcpy(out + o, "\xef\xbf\xbd", 3);
        o += 3, i += bad;
    }
    return o;
}

static int valid(const char *s, size_t n)
{
    char tmp[8192 * 3];
    return repair((const unsigned char *)s, n, tmp) == n && memcmp(tmp, s, n) == 0;
}

static int collect(void *ctx, const char *text, size_t len)
{
    Sink *k = ctx;
    if (!valid(text, len))
        k->all_valid = 0;
    if (k->n + len < sizeof k->buf) {
        memcpy(k->buf + k->n, text, len);
        k->n += len;
    }
    k->chunks++;
    return k->stop_after && k->chunks >= k->stop_after;
}

typedef struct Fix {
    Model m;
    Tokenizer *tok;
    Pool *pool;
    RunState s;
    SamplerParams sp;
    int32_t prompt[8];
    size_t n_prompt;
} Fix;

static int run(Fix *f, const GenParams *gp, Sink *k, GenResult *res)
{
    Err e = {{0}};
    int stop_after = k->stop_after;
    memset(k, 0, sizeof *k);
    k->all_valid = 1;
    k->stop_after = stop_after;
    Sampler smp;
    if (sampler_init(&smp, &f->sp, f->m.cfg.vocab, &e) != 0) {
        CHECKF(0, "%s", e.msg);
        return -1;
    }
    int rc = generate(&f->s, f->tok, &smp, f->prompt, f->n_prompt, gp, collect, k, res, &e);
    CHECKF(rc == 0, "%s", e.msg);
    sampler_free(&smp);
    return rc;
}

static void test_loop(Fix *f)
{
    enum { N = 64 };
    /* The reference: decoding by hand, raw bytes, repaired. */
    const int V = f->m.cfg.vocab;
    float *logits = malloc(sizeof *logits * (size_t)V);
    unsigned char raw[N * 64];
    size_t n_raw = 0;
    int32_t ids[N], hist[N + 8], known[N];
    size_t n_known = 0;
    memcpy(hist, f->prompt, f->n_prompt * sizeof *hist);
    runstate_reset(&f->s);
    Err e = {{0}};
    Sampler smp;
    CHECK(sampler_init(&smp, &f->sp, V, &e) == 0);
    CHECK(model_forward(&f->s, f->prompt, (int)f->n_prompt, logits, 0, &e) == 0);
    for (int g = 0; g < N; g++) {
        ids[g] = sampler_sample(&smp, logits, hist, f->n_prompt + (size_t)g);
        hist[f->n_prompt + (size_t)g] = ids[g];
        size_t bl = 0;
        const char *b = tokenizer_token_bytes(f->tok, ids[g], &bl);
        if (b) {  /* NULL: an id the model has but the tokenizer does not */
            memcpy(raw + n_raw, b, bl);
            known[n_known++] = ids[g];
        }
        n_raw += bl;
        CHECK(model_forward(&f->s, &ids[g], 1, logits, 0, &e) == 0);
    }
    sampler_free(&smp);
    char want[N * 64 * 3];
    size_t n_want = repair(raw, n_raw, want);
    CHECKF(n_want != n_raw || memcmp(want, raw, n_raw) != 0,
           "the fixture's text was expected to hold ill-formed UTF-8 (it did when this test was written)");

    Sink k;
    GenResult res;
    GenParams gp = {N, NULL, 0, NULL, 0};
    if (run(f, &gp, &k, &res) != 0)
        goto out;
    CHECK(res.stop == GEN_STOP_LENGTH && res.n_gen == N && res.n_prompt == (int)f->n_prompt);
    CHECK(k.all_valid);
    CHECKF(k.n == n_want && memcmp(k.buf, want, n_want) == 0, "streamed %zu bytes, expected %zu", k.n, n_want);
    /* The tokenizer's own decode repairs the same way (compared up to the
     * first NUL byte, where its C string ends). */
    char *dec = tokenizer_decode(f->tok, known, n_known, 0, &e);
    const char *nul = memchr(want, 0, n_want);
    size_t upto_nul = nul ? (size_t)(nul - want) : n_want;
    CHECKF(dec && strlen(dec) == upto_nul && memcmp(dec, want, upto_nul) == 0, "tokenizer_decode gives %zu bytes",
           dec ? strlen(dec) : 0);
    free(dec);

    /* A stop string ends the text just before its first occurrence. Take
     * three printable ASCII bytes from the second half of the text. */
    char stop[4] = {0};
    size_t at = 0;
    for (size_t i = n_want / 2; i + 3 <= n_want && !at; i++)
        if (want[i] > ' ' && want[i] < 127 && want[i + 1] > ' ' && want[i + 1] < 127 && want[i + 2] > ' ' &&
            want[i + 2] < 127)
            at = i;
    CHECKF(at > 0, "no three printable bytes in the second half of the text");
    if (at) {
        memcpy(stop, want + at, 3);
        size_t first = (size_t)((char *)memmem(want, n_want, stop, 3) - want);
        const char *stops[] = {"never appears \x01", stop};
        GenParams gs = {N, stops, 2, NULL, 0};
        if (run(f, &gs, &k, &res) == 0) {
            CHECK(res.stop == GEN_STOP_STRING);
            CHECKF(k.n == first && memcmp(k.buf, want, first) == 0, "got %zu bytes before the stop, expected %zu",
                   k.n, first);
            CHECK(!memmem(k.buf, k.n, stop, 3));
        }
    }

    /* A stop string whose beginning ends the text is held back, then
     * released when the tokens run out.  Cut the run after the last token
     * that ends in a printable byte. */
    size_t upto = 0, end_bytes[N];
    int cut_tokens = 0;
    for (int g = 0; g < N; g++) {
        size_t bl = 0;
        tokenizer_token_bytes(f->tok, ids[g], &bl);
        upto += bl;
        end_bytes[g] = upto;
        if (upto && raw[upto - 1] > ' ' && raw[upto - 1] < 127)
            cut_tokens = g + 1;
    }
    CHECK(cut_tokens > 0);
    if (cut_tokens > 0) {
        size_t nb = end_bytes[cut_tokens - 1];
        char tail_stop[4] = {(char)raw[nb - 1], '\x02', '\x03', 0};
        char want_cut[N * 64 * 3];
        size_t n_cut = repair(raw, nb, want_cut);
        const char *ts[] = {tail_stop, ""};  /* an empty stop string is ignored */
        GenParams gt = {cut_tokens, ts, 2, NULL, 0};
        if (run(f, &gt, &k, &res) == 0) {
            CHECK(res.stop == GEN_STOP_LENGTH && res.n_gen == cut_tokens);
            CHECK(k.n == n_cut && memcmp(k.buf, want_cut, n_cut) == 0);
        }
    }

    /* End of sequence: the token is not emitted and nothing after it. */
    int32_t eos[2] = {V - 1, ids[5]};
    int first_eos = 0;
    while (ids[first_eos] != ids[5])
        first_eos++;
    GenParams ge = {N, NULL, 0, eos, 2};
    if (run(f, &ge, &k, &res) == 0) {
        CHECK(res.stop == GEN_STOP_EOS);
        CHECKF(res.n_gen == first_eos, "generated %d before the end token, expected %d", res.n_gen, first_eos);
    }

    /* The caller can stop the loop. */
    GenParams gc = {N, NULL, 0, NULL, 0};
    k.stop_after = 1;
    if (run(f, &gc, &k, &res) == 0)
        CHECK(res.stop == GEN_STOP_CALLER && k.chunks == 1 && res.n_gen < N);
out:
    free(logits);
}

static void test_context_full(Fix *f)
{
    RunState small;
    Err e = {{0}};
    CHECKF(runstate_init(&small, &f->m, f->pool, 12, 0, &e) == 0, "%s", e.msg);
    Sink k = {.all_valid = 1};
    GenResult res;
    GenParams gp = {100, NULL, 0, NULL, 0};
    Sampler smp;
    CHECK(sampler_init(&smp, &f->sp, f->m.cfg.vocab, &e) == 0);
    CHECK(generate(&small, f->tok, &smp, f->prompt, f->n_prompt, &gp, collect, &k, &res, &e) == 0);
    /* The last token is sampled from the logits of position 11 but has no
     * room in the cache itself. */
    CHECKF(res.stop == GEN_STOP_CONTEXT && res.n_gen == 12 - (int)f->n_prompt + 1, "stop %s after %d tokens",
           gen_stop_name(res.stop), res.n_gen);
    /* A prompt that fills the context is an error, not a crash. */
    int32_t longp[12] = {0};
    CHECK(generate(&small, f->tok, &smp, longp, 12, &gp, collect, &k, &res, &e) != 0);
    CHECK(strstr(e.msg, "context") != NULL);
    sampler_free(&smp);
    runstate_free(&small);
}

int main(void)
{
    Fix f;
    Err e = {{0}};
    if (model_load(&f.m, DIR, &e) != 0) {
        CHECKF(0, "%s", e.msg);
        TEST_MAIN_END();
    }
    f.tok = tokenizer_load(DIR "/tokenizer.json", &e);
    CHECKF(f.tok != NULL, "%s", e.msg);
    f.pool = pool_new(2);
    f.sp = (SamplerParams){.temperature = 1, .top_k = 0, .top_p = 1, .repeat_penalty = 1, .seed = 7};
    CHECK(runstate_init(&f.s, &f.m, f.pool, 256, 0, &e) == 0);
    TokIds ids = {0};
    CHECK(tokenizer_encode(f.tok, "Once upon a time", 16, 0, &ids, &e) == 0);
    f.n_prompt = ids.n < 8 ? ids.n : 8;
    memcpy(f.prompt, ids.v, f.n_prompt * sizeof *f.prompt);
    tokids_free(&ids);

    test_loop(&f);
    test_context_full(&f);

    runstate_free(&f.s);
    pool_delete(f.pool);
    tokenizer_delete(f.tok);
    model_free(&f.m);
    TEST_MAIN_END();
}
