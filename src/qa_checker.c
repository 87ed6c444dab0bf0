/* qa_checker.c - loads what the quality flags check against (qa_checker.h). */
#include "qa_checker.h"

#include <stdlib.h>
#include <string.h>

#include "fsutil.h"

int qa_checker_tokens(QaChecker *c, const char *question, const char *answer)
{
    if (!c->tok)
        return -1;
    ChatMessage m[2] = {{CHAT_USER, question}, {CHAT_ASSISTANT, answer}};
    Err e;
    char *text = chat_render(c->tmpl, c->system, m, 2, 0, NULL, NULL, &e);
    TokIds ids = {0};
    int n = text && tokenizer_encode(c->tok, text, strlen(text), 1, &ids, &e) == 0 ? (int)ids.n : -1;
    tokids_free(&ids);
    free(text);
    return n;
}

static int count_tokens(void *ctx, const char *question, const char *answer)
{
    return qa_checker_tokens(ctx, question, answer);
}

static int load_tokenizer(QaChecker *c, const Config *cfg, Err *e)
{
    char *path = cfg->model ? fs_join(cfg->model, "tokenizer.json") : NULL;
    int rc = 0;
    if (path && fs_exists(path)) {
        if (!(c->tok = tokenizer_load(path, e))) {
            rc = -1;
        } else {
            c->tmpl = cfg->chat_template;
            c->system = cfg->system_prompt;
            c->opts.count = count_tokens;
            c->opts.count_ctx = c;
            c->opts.seq_len = cfg->train.sft.seq_len;
        }
    }
    free(path);
    return rc;
}

static int load_golden(QaChecker *c, const Config *cfg, Err *e)
{
    if (!cfg->golden || !fs_exists(cfg->golden))
        return 0;
    if (qa_eval_load(&c->golden, cfg->golden, e) != 0)
        return -1;
    c->golden_q = calloc(c->golden.n ? c->golden.n : 1, sizeof *c->golden_q);
    c->golden_a = calloc(c->golden.n ? c->golden.n : 1, sizeof *c->golden_a);
    if (!c->golden_q || !c->golden_a)
        return err_set(e, "out of memory");
    for (size_t i = 0; i < c->golden.n; i++)
        c->golden_q[i] = c->golden.items[i].question, c->golden_a[i] = c->golden.items[i].reference;
    c->opts.golden_q = c->golden_q, c->opts.golden_a = c->golden_a;
    c->opts.n_golden = c->golden.n;
    c->opts.golden_path = cfg->golden;
    return 0;
}

int qa_checker_load(QaChecker *c, const Config *cfg, Err *e)
{
    memset(c, 0, sizeof *c);
    if (cfg->corpus && fs_exists(cfg->corpus)) {
        if (qa_corpus_load(&c->corpus, cfg->corpus, e) != 0 ||
            qa_corpus_words(&c->words, (const char *const *)c->corpus.text, c->corpus.n, e) != 0)
            goto fail;
        c->opts.corpus = &c->words;
    } else {
        c->notes[c->n_notes++] = "no corpus (data.corpus), so answers are not checked against it";
    }
    if (load_tokenizer(c, cfg, e) != 0)
        goto fail;
    if (!c->opts.count)
        c->notes[c->n_notes++] = "no model tokenizer, so lengths are not checked against seq_len";
    if (load_golden(c, cfg, e) != 0)
        goto fail;
    return 0;
fail:
    qa_checker_free(c);
    return -1;
}

void qa_checker_free(QaChecker *c)
{
    qa_corpus_free(&c->corpus);
    qa_wordset_free(&c->words);
    tokenizer_delete(c->tok);
    qa_eval_free(&c->golden);
    free(c->golden_q);
    free(c->golden_a);
    memset(c, 0, sizeof *c);
}
