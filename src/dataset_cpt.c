/* dataset_cpt.c - continued pre-training examples: documents joined with
 * end-of-sequence tokens and cut into windows (rules in dataset.h).
 *
 * All tokens of one call are gathered into one stream first, so a window
 * may span the end of one document and the start of the next, as packed
 * pre-training does; the end-of-sequence token between them tells the model
 * that the text before it is unrelated.  A chat file's conversations join
 * the same stream. */
#include "dataset_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "textdocs.h"

static int add_doc(TokIds *all, const Tokenizer *tok, const char *text, size_t len, int eos_id, Err *e)
{
    if (tokenizer_encode(tok, text, len, 0, all, e) < 0)
        return -1;
    return tokids_push(all, eos_id, e);
}

typedef struct DocCtx {
    TokIds *all;
    const Tokenizer *tok;
    int eos_id;
} DocCtx;

static int on_doc(void *ctx, const char *text, size_t len, long line, Err *e)
{
    (void)line;
    DocCtx *c = ctx;
    return add_doc(c->all, c->tok, text, len, c->eos_id, e);
}

/* 1 when the first record of the JSONL file f is a conversation; a first
 * line that does not parse is left for the text reader to report. */
static int is_chat_file(const char *path, const TextFile *f)
{
    if (!textdocs_is_jsonl(path))
        return 0;
    Jsonl j;
    jsonl_init(&j, path, f);
    cJSON *obj = NULL;
    Err ignored = {{0}};
    int chat = 0;
    if (jsonl_next(&j, &obj, &ignored) == 1)
        chat = cJSON_HasObjectItem(obj, "messages") || cJSON_HasObjectItem(obj, "prompt");
    cJSON_Delete(obj);
    return chat;
}

/* A chat file's conversations, rendered and tokenized the way SFT does (one
 * reader of the record forms, so CPT and SFT cannot drift apart), each
 * appended to the stream as a document.  f is the caller's read of path,
 * the one that went into the hash: what is hashed is what is trained on. */
static int add_chat_file(TokIds *all, const char *path, const TextFile *f, const Tokenizer *tok, const CptOptions *o,
                         Err *e)
{
    const SftOptions so = {.tmpl = o->tmpl,
                           .system = o->system,
                           .seq_len = INT_MAX, /* the stream is windowed later */
                           .mask_prompt = 0,
                           .eos_id = o->eos_id,
                           .weight = 1.0f};
    Dataset conv = {0};
    int rc = dataset_sft_add_text(&conv, f, path, tok, &so, e);
    for (size_t i = 0; rc == 0 && i < conv.n; i++) {
        const Example *x = &conv.ex[i];
        for (int t = 0; rc == 0 && t < x->n; t++)
            rc = tokids_push(all, x->tok[t], e);
        /* plain conversations already end with eos */
        if (rc == 0 && x->tok[x->n - 1] != o->eos_id)
            rc = tokids_push(all, o->eos_id, e);
    }
    dataset_free(&conv);
    return rc;
}

static int read_doc_file(Dataset *d, TokIds *all, const char *path, const Tokenizer *tok, const CptOptions *o,
                         Err *e)
{
    TextFile f;
    if (dataset_read_file(d, &f, path, e) < 0)
        return -1;
    int rc;
    if (is_chat_file(path, &f)) {
        rc = add_chat_file(all, path, &f, tok, o, e);
    } else {
        DocCtx c = {all, tok, o->eos_id};
        rc = textdocs_each(path, &f, TEXTDOCS_STRICT, on_doc, &c, e);
    }
    textfile_free(&f);
    return rc;
}

static int windows(Dataset *d, const TokIds *all, int seq_len, Err *e)
{
    uint8_t *mask = malloc((size_t)seq_len);
    if (!mask)
        return err_set(e, "dataset: out of memory");
    memset(mask, 1, (size_t)seq_len);
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < all->n; off += (size_t)seq_len) {
        size_t w = all->n - off < (size_t)seq_len ? all->n - off : (size_t)seq_len;
        if (w >= 2)
            rc = dataset_push(d, all->v + off, mask, (int)w, 1.0f, e);
    }
    free(mask);
    return rc;
}

int dataset_load_cpt(Dataset *d, const char *const *paths, size_t n, const Tokenizer *tok, const CptOptions *o,
                     Err *e)
{
    if (n == 0)
        return err_set(e, "dataset: no CPT data given");
    if (dataset_check_args(tok, o->seq_len, o->eos_id, e) < 0)
        return -1;
    DatasetMark m;
    dataset_mark(d, &m);
    char **files = NULL;
    size_t n_files = 0;
    TokIds all = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = textdocs_list(paths[i], TEXTDOCS_STRICT, &files, &n_files, e);
    for (size_t i = 0; rc == 0 && i < n_files; i++)
        rc = read_doc_file(d, &all, files[i], tok, o, e);
    size_t before = d->n;
    if (rc == 0)
        rc = windows(d, &all, o->seq_len, e);
    /* Every file adds at least its eos, so only one file can fall short. */
    if (rc == 0 && d->n == before)
        rc = err_set(e, "%s: no examples (fewer than 2 tokens)", paths[0]);
    textdocs_list_free(files, n_files);
    tokids_free(&all);
    if (rc < 0)
        return dataset_rollback(d, &m);
    dataset_finish_hash(d);
    return 0;
}
