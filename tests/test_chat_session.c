/* test_chat_session.c - several stages answering one prompt side by side.
 *
 * The reference for every stage is generate() run alone (itself checked
 * against a hand-written decoding loop in test_generate.c) on a fresh
 * RunState with the same adapter, a fresh sampler with the same seed, the
 * prompt written out here by hand in chatml (not through chat_render) and
 * the stop strings and end tokens a chat answer has.  The fixture model has
 * random weights and the adapters random non-zero B, so each stage says
 * something different, and its byte noise (pieces of characters, stray lead
 * bytes) exercises the UTF-8 hold-back.  Greedy runs use a repeat penalty:
 * without one this model's greedy text is a single byte repeated. */
#include "test.h"
#include "chat_session.h"
#include "generate.h"
#include "model.h"
#include "pool.h"
#include "rng.h"

#include <unistr.h>

#define DIR "tests/fixtures/models/tiny-gqa"
#define MAXS 4

/* What the chatml template must make of (system "Be brief.", user USER). */
#define USER "Once upon a time"
#define PROMPT_TEXT "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n" USER "<|im_end|>\n<|im_start|>assistant\n"

typedef struct Text {
    char *s;
    size_t n, cap;
    int pieces, all_valid;
} Text;

static void text_reset(Text *t)
{
    t->n = 0;
    t->pieces = 0;
    t->all_valid = 1;
}

static void text_put(Text *t, const char *s, size_t n)
{
    if (t->n + n > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->n + n)
            cap *= 2;
        t->s = realloc(t->s, cap);
        t->cap = cap;
    }
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->pieces++;
    if (n == 0 || u8_check((const uint8_t *)s, n) != NULL)
        t->all_valid = 0;
}

static int same(const Text *a, const Text *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->s, b->s, a->n) == 0);
}

typedef struct Fix {
    Model m;
    Tokenizer *tok;
    Pool *pool;
    Lora l[3];
    const Lora *stage_lora[MAXS];  /* base, l[0], l[1], l[2] */
    int32_t prompt[256];
    size_t n_prompt;
} Fix;

static void random_lora(Lora *l, const ModelConfig *c, uint64_t seed)
{
    Err e = {{0}};
    CHECKF(lora_init(l, c, 4, 8.0f, 0.0f, LORA_ALL_TARGETS, seed, &e) == 0, "%s", e.msg);
    Rng r;
    rng_seed(&r, seed + 100);
    for (int i = 0; i < l->n_layers; i++)
        for (int t = 0; t < LORA_N_TARGETS; t++) {
            LoraMat *mt = lora_mat(l, i, (LoraTarget)t);
            for (int k = 0; k < mt->out * l->rank; k++)
                mt->B[k] = (float)(rng_uniform(&r) - 0.5) * 0.4f;
        }
}

static int ref_emit(void *ctx, const char *text, size_t len)
{
    text_put(ctx, text, len);
    return 0;
}

/* generate() alone: stage lora, its own state of ctx positions, the chat
 * answer's stops ("<|im_end|>" plus extra) and end tokens. */
static void reference(Fix *f, const Lora *l, const SamplerParams *sp, int max_tokens, int ctx,
                      const char *extra_stop, Text *out, GenResult *res)
{
    Err e = {{0}};
    RunState s;
    Sampler smp;
    text_reset(out);
    memset(res, 0, sizeof *res);
    CHECKF(runstate_init(&s, &f->m, f->pool, ctx, 0, &e) == 0, "%s", e.msg);
    CHECKF(runstate_set_lora(&s, l, &e) == 0, "%s", e.msg);
    CHECKF(sampler_init(&smp, sp, f->m.cfg.vocab, &e) == 0, "%s", e.msg);
    const char *stops[2] = {"<|im_end|>", extra_stop};
    int32_t eos[GEN_MAX_END_IDS];
    size_t n_eos = gen_end_ids(&f->m, f->tok, 1, eos);
    GenParams gp = {max_tokens, stops, extra_stop ? 2 : 1, eos, n_eos};
    CHECKF(generate(&s, f->tok, &smp, f->prompt, f->n_prompt, &gp, ref_emit, out, res, &e) == 0, "%s", e.msg);
    sampler_free(&smp);
    runstate_free(&s);
}

/* What the session hands out, per stage, and the round-robin's evidence. */
typedef struct Sink {
    ChatSession *cs;
    Text t[MAXS];
    int bad_stage;          /* a piece for a stage out of range or already done */
    int cancel_at;          /* cancel once this many tokens are out in all (0: never) */
    int stop_at_piece;      /* piece returns 1 on this piece (0: never) */
    int pieces, cancels;
} Sink;

static int sink_piece(void *ctx, int stage, const char *text, size_t len)
{
    Sink *k = ctx;
    if (stage < 0 || stage >= chat_session_n_stages(k->cs)) {
        k->bad_stage = 1;
        return 1;
    }
    text_put(&k->t[stage], text, len);
    k->pieces++;
    return k->stop_at_piece && k->pieces >= k->stop_at_piece;
}

static int total_gen(const ChatSession *cs)
{
    int n = 0;
    for (int i = 0; i < chat_session_n_stages(cs); i++)
        n += chat_session_result(cs, i)->n_gen;
    return n;
}

static int sink_cancel(void *ctx)
{
    Sink *k = ctx;
    k->cancels++;
    return k->cancel_at && total_gen(k->cs) >= k->cancel_at;
}

/* Runs the session to the end a round at a time, checking after every
 * round r that each stage still running has produced exactly r tokens. */
static int run_rounds(ChatSession *cs, Sink *k, int *rounds)
{
    Err e = {{0}};
    for (int i = 0; i < MAXS; i++)
        text_reset(&k->t[i]);
    k->cs = cs;
    k->pieces = k->cancels = 0;
    int r = 0, left, pace_ok = 1;
    do {
        left = chat_session_step_all(cs, sink_piece, sink_cancel, k, &e);
        CHECKF(left >= 0, "%s", e.msg);
        if (left < 0)
            return -1;
        r++;
        for (int i = 0; i < chat_session_n_stages(cs); i++) {
            const GenResult *res = chat_session_result(cs, i);
            if (!chat_session_stage_done(cs, i) && res->n_gen != r)
                pace_ok = 0;
            if (res->n_gen > r)
                pace_ok = 0;
        }
        CHECK(left == chat_session_running(cs));
    } while (left > 0 && r < 10000);
    CHECKF(pace_ok, "a running stage did not produce exactly one token per round");
    if (rounds)
        *rounds = r;
    return 0;
}

static ChatSession *new_session(Fix *f, int n, const SamplerParams *sp, int max_tokens, int ctx,
                                const char *extra_stop, int batch)
{
    Err e = {{0}};
    const char *stops[1] = {extra_stop};
    ChatSessionParams p = {*sp, max_tokens, ctx, CHAT_CHATML, "Be brief.", stops, extra_stop ? 1 : 0, batch};
    ChatSession *cs = chat_session_new(&f->m, f->tok, f->pool, f->stage_lora, n, &p, &e);
    CHECKF(cs != NULL, "%s", e.msg);
    return cs;
}

/* Every stage's text, token count and stop reason equal generate() alone. */
static void check_against_reference(Fix *f, ChatSession *cs, const Sink *k, const SamplerParams *sp, int max_tokens,
                                    int ctx, const char *extra_stop, Text *refs)
{
    for (int i = 0; i < chat_session_n_stages(cs); i++) {
        GenResult rr;
        reference(f, f->stage_lora[i], sp, max_tokens, ctx, extra_stop, &refs[i], &rr);
        const GenResult *sr = chat_session_result(cs, i);
        CHECKF(same(&k->t[i], &refs[i]), "stage %d: %zu bytes, generate() alone %zu", i, k->t[i].n, refs[i].n);
        CHECKF(sr->n_gen == rr.n_gen && sr->stop == rr.stop && sr->n_prompt == rr.n_prompt,
               "stage %d: %d tokens (%s), generate() alone %d (%s)", i, sr->n_gen, gen_stop_name(sr->stop), rr.n_gen,
               gen_stop_name(rr.stop));
        CHECKF(k->t[i].all_valid, "stage %d handed out a piece that is empty or not valid UTF-8", i);
        CHECK(chat_session_stage_done(cs, i));
    }
}

static void free_texts(Text *t, int n)
{
    for (int i = 0; i < n; i++)
        free(t[i].s);
}

static const SamplerParams greedy = {.temperature = 0, .top_k = 0, .top_p = 1, .repeat_penalty = 1.3f,
                                     .repeat_last_n = 64, .seed = 1};
static const SamplerParams sampled = {.temperature = 1, .top_k = 0, .top_p = 1, .repeat_penalty = 1,
                                      .repeat_last_n = 0, .seed = 7};

static void test_greedy_four(Fix *f)
{
    enum { N = 40 };
    ChatSession *cs = new_session(f, 4, &greedy, N, 0, NULL, 0);
    if (!cs)
        return;
    Err e = {{0}};
    CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
    CHECK(chat_session_running(cs) == 4);
    Sink k = {0};
    int rounds = 0;
    run_rounds(cs, &k, &rounds);
    CHECK(!k.bad_stage);
    Text refs[MAXS] = {{0}};
    check_against_reference(f, cs, &k, &greedy, N, 0, NULL, refs);
    int most = 0;
    for (int i = 0; i < 4; i++)
        most = chat_session_result(cs, i)->n_gen > most ? chat_session_result(cs, i)->n_gen : most;
    CHECKF(rounds == most || rounds == most + 1, "%d rounds for at most %d tokens", rounds, most);
    CHECKF(most > 5, "the longest answer has %d tokens", most);
    /* The adapters matter: base, cpt-like and sft-like answers differ. */
    CHECK(!same(&refs[0], &refs[1]) && !same(&refs[0], &refs[2]) && !same(&refs[1], &refs[2]));
    CHECK(!same(&k.t[0], &k.t[1]) && !same(&k.t[0], &k.t[2]) && !same(&k.t[1], &k.t[2]));
    for (int i = 0; i < 4; i++) {
        const GenResult *r = chat_session_result(cs, i);
        CHECK(r->n_prompt == (int)f->n_prompt && r->prefill_s > 0 && (r->n_gen == 0 || r->decode_s > 0));
    }

    /* The same session again, after another prompt: caches and seeds are
     * reset, so the answers repeat exactly. */
    int n_first[4];
    for (int i = 0; i < 4; i++)
        n_first[i] = chat_session_result(cs, i)->n_gen;
    CHECKF(chat_session_start(cs, "Something else entirely", &e) == 0, "%s", e.msg);
    Sink k2 = {0};
    run_rounds(cs, &k2, NULL);
    CHECK(!same(&k2.t[1], &k.t[1]));
    CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
    run_rounds(cs, &k2, NULL);
    for (int i = 0; i < 4; i++)
        CHECKF(same(&k2.t[i], &k.t[i]) && chat_session_result(cs, i)->n_gen == n_first[i],
               "stage %d answers the same prompt differently the second time", i);

    /* Shorter answers: max_tokens through set_sampling. */
    CHECKF(chat_session_set_sampling(cs, &greedy, 5, &e) == 0, "%s", e.msg);
    CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
    run_rounds(cs, &k2, NULL);
    Text r5[MAXS] = {{0}};
    check_against_reference(f, cs, &k2, &greedy, 5, 0, NULL, r5);
    int at_length = 0;
    for (int i = 0; i < 4; i++) {
        const GenResult *r = chat_session_result(cs, i);
        CHECK(r->n_gen <= 5);
        at_length += r->stop == GEN_STOP_LENGTH && r->n_gen == 5;
    }
    CHECKF(at_length >= 1, "no stage stopped at max_tokens");

    /* Invalid settings fail and leave the session as it was. */
    SamplerParams bad = greedy;
    bad.temperature = -1;
    CHECK(chat_session_set_sampling(cs, &bad, 40, &e) != 0);
    CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
    run_rounds(cs, &k2, NULL);
    for (int i = 0; i < 4; i++)
        CHECK(same(&k2.t[i], &r5[i]));

    /* A prompt that does not fit is an error, and the session lives on. */
    size_t big = 4000;
    char *longmsg = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        longmsg[i] = "ab "[i % 3];
    longmsg[big] = 0;
    CHECK(chat_session_start(cs, longmsg, &e) != 0);
    CHECKF(strstr(e.msg, "context") != NULL, "%s", e.msg);
    free(longmsg);
    CHECK(chat_session_running(cs) == 0);
    CHECK(chat_session_step_all(cs, sink_piece, NULL, &k2, &e) == 0);

    free_texts(refs, MAXS);
    free_texts(r5, MAXS);
    free_texts(k.t, MAXS);
    free_texts(k2.t, MAXS);
    chat_session_delete(cs);
}

/* Sampled (seeded) answers: every stage's stream is its own, reseeded per
 * start; the text is byte noise, so the UTF-8 rules are exercised. */
static void test_sampled_utf8_and_stops(Fix *f)
{
    enum { N = 64 };
    ChatSession *cs = new_session(f, 4, &sampled, N, 0, NULL, 0);
    if (!cs)
        return;
    Err e = {{0}};
    CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
    Sink k = {0};
    run_rounds(cs, &k, NULL);
    Text refs[MAXS] = {{0}};
    check_against_reference(f, cs, &k, &sampled, N, 0, NULL, refs);
    /* Not vacuous: some stage produced non-ASCII text (a character or a
     * U+FFFD for bytes that were not one) and several pieces. */
    int non_ascii = 0;
    for (int i = 0; i < 4; i++)
        for (size_t j = 0; j < k.t[i].n; j++)
            non_ascii |= (unsigned char)k.t[i].s[j] >= 0x80;
    CHECKF(non_ascii, "no stage produced a byte above 0x7f");
    CHECK(k.t[1].pieces > 3);
    /* Started again, every stage's random stream starts over. */
    CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
    Sink again = {0};
    run_rounds(cs, &again, NULL);
    for (int i = 0; i < 4; i++)
        CHECKF(same(&again.t[i], &refs[i]), "stage %d samples differently the second time", i);
    free_texts(again.t, MAXS);
    chat_session_delete(cs);

    /* A stop string taken from the middle of stage 1's answer: stage 1 ends
     * just before its first occurrence; every stage still matches generate()
     * with the same stop. */
    char stop[4] = {0};
    size_t at = 0;
    const Text *t1 = &k.t[1];
    for (size_t i = t1->n / 3; i + 3 <= t1->n && !at; i++)
        if (t1->s[i] > ' ' && t1->s[i] < 127 && t1->s[i + 1] > ' ' && t1->s[i + 1] < 127 && t1->s[i + 2] > ' ' &&
            t1->s[i + 2] < 127)
            at = i;
    CHECKF(at > 0, "no three printable bytes in stage 1's answer");
    if (at) {
        memcpy(stop, t1->s + at, 3);
        size_t first = (size_t)((const char *)memmem(t1->s, t1->n, stop, 3) - t1->s);
        cs = new_session(f, 4, &sampled, N, 0, stop, 0);
        if (cs) {
            CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
            Sink ks = {0};
            run_rounds(cs, &ks, NULL);
            Text rs[MAXS] = {{0}};
            check_against_reference(f, cs, &ks, &sampled, N, 0, stop, rs);
            CHECK(chat_session_result(cs, 1)->stop == GEN_STOP_STRING);
            CHECKF(ks.t[1].n == first && memcmp(ks.t[1].s, t1->s, first) == 0, "stage 1: %zu bytes, expected %zu",
                   ks.t[1].n, first);
            for (int i = 0; i < 4; i++)
                CHECK(ks.t[i].n == 0 || !memmem(ks.t[i].s, ks.t[i].n, stop, 3));
            free_texts(rs, MAXS);
            free_texts(ks.t, MAXS);
            chat_session_delete(cs);
        }
    }
    free_texts(refs, MAXS);
    free_texts(k.t, MAXS);
}

static void test_cancel(Fix *f)
{
    ChatSession *cs = new_session(f, 4, &greedy, 40, 0, NULL, 0);
    if (!cs)
        return;
    Err e = {{0}};
    Text refs[MAXS] = {{0}};
    for (int i = 0; i < 4; i++) {
        GenResult rr;
        reference(f, f->stage_lora[i], &greedy, 40, 0, NULL, &refs[i], &rr);
        CHECKF(rr.n_gen >= 3, "stage %d's answer is too short for this test (%d tokens)", i, rr.n_gen);
    }

    /* Cancel once 6 tokens are out: two full rounds would be 8, so the check
     * between tokens must stop the third and fourth stages mid-round. */
    CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
    Sink k = {.cancel_at = 6};
    run_rounds(cs, &k, NULL);
    const int want[4] = {2, 2, 1, 1};
    for (int i = 0; i < 4; i++) {
        const GenResult *r = chat_session_result(cs, i);
        CHECKF(r->stop == GEN_STOP_CALLER && r->n_gen == want[i], "stage %d: %d tokens, stopped at %s", i, r->n_gen,
               gen_stop_name(r->stop));
        /* what came out is the start of the answer */
        CHECK(k.t[i].n <= refs[i].n && (k.t[i].n == 0 || memcmp(k.t[i].s, refs[i].s, k.t[i].n) == 0));
    }
    CHECK(total_gen(cs) == 6 && chat_session_running(cs) == 0);
    int before = k.pieces, asked = k.cancels;
    CHECK(chat_session_step_all(cs, sink_piece, sink_cancel, &k, &e) == 0);
    CHECK(k.pieces == before && k.cancels == asked);

    /* Cancelled before the first token: no stage even feeds the prompt. */
    CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
    Sink k0 = {.cancel_at = -1};  /* total >= -1 always */
    run_rounds(cs, &k0, NULL);
    for (int i = 0; i < 4; i++) {
        const GenResult *r = chat_session_result(cs, i);
        CHECK(r->stop == GEN_STOP_CALLER && r->n_gen == 0 && r->prefill_s == 0 && k0.t[i].n == 0);
    }

    /* The piece callback stops everything too. */
    CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
    Sink kp = {.stop_at_piece = 3};
    kp.cs = cs;
    for (int i = 0; i < MAXS; i++)
        text_reset(&kp.t[i]);
    CHECK(chat_session_run(cs, sink_piece, NULL, &kp, &e) == 0);
    CHECK(kp.pieces == 3 && chat_session_running(cs) == 0);
    for (int i = 0; i < 4; i++)
        CHECK(chat_session_result(cs, i)->stop == GEN_STOP_CALLER);

    /* chat_session_stop from outside, between rounds. */
    CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
    CHECK(chat_session_step_all(cs, NULL, NULL, NULL, &e) == 4);
    chat_session_stop(cs);
    CHECK(chat_session_running(cs) == 0);
    for (int i = 0; i < 4; i++)
        CHECK(chat_session_result(cs, i)->stop == GEN_STOP_CALLER && chat_session_result(cs, i)->n_gen == 1);

    free_texts(refs, MAXS);
    free_texts(k.t, MAXS);
    free_texts(k0.t, MAXS);
    free_texts(kp.t, MAXS);
    chat_session_delete(cs);
}

static void test_one_stage_and_context(Fix *f)
{
    /* One stage: the base alone. */
    ChatSession *cs = new_session(f, 1, &sampled, 50, 0, NULL, 0);
    if (cs) {
        Err e = {{0}};
        CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
        Sink k = {0};
        run_rounds(cs, &k, NULL);
        Text refs[MAXS] = {{0}};
        check_against_reference(f, cs, &k, &sampled, 50, 0, NULL, refs);
        CHECK(k.t[0].n > 0);
        free_texts(refs, MAXS);
        free_texts(k.t, MAXS);
        chat_session_delete(cs);
    }
    /* A context just longer than the prompt: every stage runs out of room
     * (or ends earlier) exactly where generate() alone does. */
    int ctx = (int)f->n_prompt + 4;
    cs = new_session(f, 3, &sampled, 100, ctx, NULL, 0);
    if (cs) {
        Err e = {{0}};
        CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
        Sink k = {0};
        run_rounds(cs, &k, NULL);
        Text refs[MAXS] = {{0}};
        check_against_reference(f, cs, &k, &sampled, 100, ctx, NULL, refs);
        int full = 0;
        for (int i = 0; i < 3; i++)
            full += chat_session_result(cs, i)->stop == GEN_STOP_CONTEXT && chat_session_result(cs, i)->n_gen == 5;
        CHECKF(full >= 1, "no stage ran out of context");
        free_texts(refs, MAXS);
        free_texts(k.t, MAXS);
        chat_session_delete(cs);
    }
}

/* Batched decode (model_forward_multi) gives the same answers on this
 * fixture: its logits differ by rounding only, too little to tip any
 * choice here. */
static void test_batched(Fix *f)
{
    enum { N = 40 };
    const SamplerParams *sps[2] = {&greedy, &sampled};
    for (int v = 0; v < 2; v++) {
        ChatSession *cs = new_session(f, 4, sps[v], N, 0, NULL, 1);
        if (!cs)
            return;
        Err e = {{0}};
        CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
        Sink k = {0};
        run_rounds(cs, &k, NULL);
        Text refs[MAXS] = {{0}};
        check_against_reference(f, cs, &k, sps[v], N, 0, NULL, refs);
        for (int i = 0; i < 4; i++) {
            const GenResult *r = chat_session_result(cs, i);
            CHECK(r->n_gen <= 1 || r->decode_s > 0);
        }
        /* cancel mid-round works the same batched */
        CHECKF(chat_session_start(cs, USER, &e) == 0, "%s", e.msg);
        Sink kc = {.cancel_at = 7};
        run_rounds(cs, &kc, NULL);
        CHECK(total_gen(cs) == 7 && chat_session_running(cs) == 0);
        free_texts(refs, MAXS);
        free_texts(k.t, MAXS);
        free_texts(kc.t, MAXS);
        chat_session_delete(cs);
    }
}

/* The step API alone: pieces concatenate to generate()'s text, the buffers
 * stay small however long the answer, errors are reported. */
static void test_stream(Fix *f)
{
    enum { N = 200 };
    Err e = {{0}};
    RunState s;
    Sampler smp;
    CHECKF(runstate_init(&s, &f->m, f->pool, 0, 0, &e) == 0, "%s", e.msg);
    CHECK(sampler_init(&smp, &sampled, f->m.cfg.vocab, &e) == 0);
    GenStream g;
    CHECKF(gen_stream_init(&g, &s, &smp, f->tok, &e) == 0, "%s", e.msg);
    CHECK(g.done);
    const char *stops[] = {"zq~!xyz"};  /* never matches, but keeps tails of z held */
    GenParams gp = {N, stops, 1, NULL, 0};
    int32_t p8[8];
    memcpy(p8, f->prompt, sizeof p8);
    CHECKF(gen_stream_start(&g, p8, 8, &gp, &e) == 0, "%s", e.msg);
    Text t = {0};
    text_reset(&t);
    int steps = 0;
    while (!g.done && steps < N + 10) {
        const char *text;
        size_t len;
        CHECKF(gen_stream_step(&g, &text, &len, &e) == 0, "%s", e.msg);
        if (len)
            text_put(&t, text, len);
        steps++;
    }
    CHECK(g.res.n_gen == N && g.res.stop == GEN_STOP_LENGTH && steps == N);
    CHECK(t.all_valid);
    CHECKF(t.n > 2 * 128, "only %zu bytes in %d tokens", t.n, N);
    CHECKF(g.held.cap <= 128 && g.piece.cap <= 128, "buffers grew to %zu and %zu bytes", g.held.cap, g.piece.cap);
    /* a step after the end gives nothing */
    const char *text;
    size_t len = 1;
    CHECK(gen_stream_step(&g, &text, &len, &e) == 0 && len == 0 && g.res.n_gen == N);

    Text r = {0};
    text_reset(&r);
    GenResult rr;
    sampler_reseed(&smp, sampled.seed);
    CHECK(generate(&s, f->tok, &smp, p8, 8, &gp, ref_emit, &r, &rr, &e) == 0);
    CHECK(same(&t, &r) && rr.n_gen == N);

    /* max_tokens 0: done before any token; empty prompt: an error */
    GenParams g0 = {0, NULL, 0, NULL, 0};
    CHECK(gen_stream_start(&g, p8, 8, &g0, &e) == 0 && g.done && g.res.stop == GEN_STOP_LENGTH);
    CHECK(gen_stream_start(&g, p8, 0, &gp, &e) != 0 && g.done);

    gen_stream_free(&g);
    free(t.s);
    free(r.s);
    sampler_free(&smp);
    runstate_free(&s);
}

static void test_bad_sessions(Fix *f)
{
    Err e = {{0}};
    ChatSessionParams p = {greedy, 10, 0, CHAT_CHATML, NULL, NULL, 0, 0};
    CHECK(chat_session_new(&f->m, f->tok, f->pool, NULL, 0, &p, &e) == NULL && strstr(e.msg, "stages"));
    p.sampling.top_p = 0;
    CHECK(chat_session_new(&f->m, f->tok, f->pool, NULL, 2, &p, &e) == NULL);
    CHECKF(strstr(e.msg, "stage 0") != NULL, "%s", e.msg);
    /* an adapter for another shape */
    p.sampling = greedy;
    Lora odd = {0};
    odd.n_layers = f->m.cfg.n_layers + 1;
    const Lora *ls[2] = {NULL, &odd};
    CHECK(chat_session_new(&f->m, f->tok, f->pool, ls, 2, &p, &e) == NULL);
    CHECKF(strstr(e.msg, "stage 1") != NULL && strstr(e.msg, "layers") != NULL, "%s", e.msg);
    /* loras NULL: every stage the base */
    ChatSession *cs = chat_session_new(&f->m, f->tok, f->pool, NULL, 2, &p, &e);
    CHECKF(cs != NULL, "%s", e.msg);
    if (cs) {
        CHECK(chat_session_n_stages(cs) == 2 && chat_session_stage_done(cs, 0) && chat_session_running(cs) == 0);
        CHECK(chat_session_start_ids(cs, NULL, 0, &e) != 0);
        int32_t badid = f->m.cfg.vocab;
        CHECK(chat_session_start_ids(cs, &badid, 1, &e) != 0 && strstr(e.msg, "vocabulary"));
        CHECKF(chat_session_start_ids(cs, f->prompt, f->n_prompt, &e) == 0, "%s", e.msg);
        Sink k = {0};
        run_rounds(cs, &k, NULL);
        CHECK(same(&k.t[0], &k.t[1]) && k.t[0].n > 0);
        free_texts(k.t, MAXS);
        chat_session_delete(cs);
    }
}

int main(void)
{
    static Fix f;
    Err e = {{0}};
    if (model_load(&f.m, DIR, &e) != 0) {
        CHECKF(0, "%s", e.msg);
        TEST_MAIN_END();
    }
    f.tok = tokenizer_load(DIR "/tokenizer.json", &e);
    CHECKF(f.tok != NULL, "%s", e.msg);
    if (!f.tok)
        TEST_MAIN_END();
    f.pool = pool_new(2);
    for (int i = 0; i < 3; i++)
        random_lora(&f.l[i], &f.m.cfg, (uint64_t)i + 1);
    f.stage_lora[0] = NULL;
    for (int i = 0; i < 3; i++)
        f.stage_lora[i + 1] = &f.l[i];
    TokIds ids = {0};
    CHECKF(tokenizer_encode(f.tok, PROMPT_TEXT, strlen(PROMPT_TEXT), 1, &ids, &e) == 0, "%s", e.msg);
    CHECK(ids.n > 8 && ids.n < 256);
    f.n_prompt = ids.n < 256 ? ids.n : 256;
    memcpy(f.prompt, ids.v, f.n_prompt * sizeof *f.prompt);
    /* the special tokens were parsed: <|im_start|> is one id */
    CHECK(f.prompt[0] == tokenizer_token_id(f.tok, "<|im_start|>"));
    tokids_free(&ids);

    test_stream(&f);
    test_greedy_four(&f);
    test_sampled_utf8_and_stops(&f);
    test_cancel(&f);
    test_one_stage_and_context(&f);
    test_batched(&f);
    test_bad_sessions(&f);

    for (int i = 0; i < 3; i++)
        lora_free(&f.l[i]);
    pool_delete(f.pool);
    tokenizer_delete(f.tok);
    model_free(&f.m);
    TEST_MAIN_END();
}
