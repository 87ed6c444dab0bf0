/* dataset_sft.c - supervised fine-tuning examples: records rendered with the
 * chat template, masked to the assistant spans (rules in dataset.h).
 *
 * The rendered text is tokenized in pieces cut at the span edges.  Whole,
 * BPE could merge the last byte before a span with its first (plain's
 * "Assistant:" and " A" never merge, but a content ending without a space
 * before a span easily could), and a token half inside a span has no right
 * mask value.  Cutting costs nothing at inference: the generation prompt
 * ends exactly where a span begins, so a model sees the same boundary. */
#include "dataset_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "jsonl.h"
#include "sft_record.h"

/* Reusable per-record buffers. */
typedef struct Work {
    TokIds ids;
    uint8_t *mask;
    size_t mask_cap;
    Rng rng;            /* for augmentation, seeded per file */
} Work;

static int grow_mask(Work *w, size_t n, Err *e)
{
    if (n <= w->mask_cap)
        return 0;
    uint8_t *m = realloc(w->mask, n);
    if (!m)
        return err_set(e, "dataset: out of memory");
    w->mask = m;
    w->mask_cap = n;
    return 0;
}

/* Tokenizes text[0..len) with the spans as separate pieces into w->ids and
 * sets w->mask: 1 on span tokens (or on all with !mask_prompt). */
static int tokenize(Work *w, const Tokenizer *tok, const char *text, size_t len, const ChatSpan *sp, size_t n_sp,
                    const SftOptions *o, Err *e)
{
    w->ids.n = 0;
    size_t at = 0;
    for (size_t k = 0; k <= n_sp; k++) {
        size_t begin = k < n_sp ? sp[k].begin : len, end = k < n_sp ? sp[k].end : len;
        size_t t0 = w->ids.n;
        if (begin > at && tokenizer_encode(tok, text + at, begin - at, 1, &w->ids, e) < 0)
            return -1;
        size_t t1 = w->ids.n;
        if (grow_mask(w, t1, e) < 0)
            return -1;
        memset(w->mask + t0, !o->mask_prompt, t1 - t0);
        if (end > begin && tokenizer_encode(tok, text + begin, end - begin, 1, &w->ids, e) < 0)
            return -1;
        if (grow_mask(w, w->ids.n, e) < 0)
            return -1;
        memset(w->mask + t1, 1, w->ids.n - t1);
        at = end;
    }
    return 0;
}

/* One conversation: rendered, tokenized, masked, cut to seq_len and added
 * (or counted as dropped); copies are marked and not counted. */
static int add_conversation(Dataset *d, Work *w, const ChatMessage *msgs, size_t n_msgs, const char *path, long line,
                            const Tokenizer *tok, const SftOptions *o, int copy, Err *e)
{
    ChatSpan *sp = NULL;
    size_t n_sp = 0;
    char *text = chat_render(o->tmpl, o->system, msgs, n_msgs, 0, &sp, &n_sp, e);
    int rc = text ? 0 : err_prefix(e, "%s:%ld", path, line);
    size_t len = text ? strlen(text) : 0;
    if (rc == 0 && tokenize(w, tok, text, len, sp, n_sp, o, e) < 0)
        rc = err_prefix(e, "%s:%ld", path, line);
    /* plain has no end-of-turn marker: the answer's end is eos. */
    if (rc == 0 && o->tmpl == CHAT_PLAIN && msgs[n_msgs - 1].role == CHAT_ASSISTANT) {
        if (tokids_push(&w->ids, o->eos_id, e) < 0 || grow_mask(w, w->ids.n, e) < 0)
            rc = -1;
        else
            w->mask[w->ids.n - 1] = 1;
    }
    if (rc == 0) {
        size_t n = w->ids.n;
        if (n > (size_t)o->seq_len) {
            n = (size_t)o->seq_len;
            d->n_truncated += !copy;
        }
        size_t targets = 0;
        for (size_t i = 1; i < n; i++)
            targets += w->mask[i];
        if (targets == 0)
            d->n_dropped += !copy;
        else if ((rc = dataset_push(d, w->ids.v, w->mask, (int)n, o->weight, e)) == 0) {
            d->ex[d->n - 1].copy = (uint8_t)copy;
            d->ex[d->n - 1].golden = o->golden != 0;
        }
    }
    free(text);
    free(sp);
    return rc;
}

/* One record, then its augmented copies (the last user message with words
 * dropped), each only when the one before was added. */
static int add_record(Dataset *d, Work *w, const cJSON *obj, const char *path, long line, const Tokenizer *tok,
                      const SftOptions *o, Err *e)
{
    SftRecord r;
    if (sft_record_parse(&r, obj, path, line, e) < 0)
        return -1;
    size_t before = d->n;
    int rc = add_conversation(d, w, r.msgs, r.n, path, line, tok, o, 0, e);
    size_t u = r.n;
    while (u > 0 && r.msgs[u - 1].role != CHAT_USER)
        u--;
    if (rc == 0 && o->augment > 0 && u > 0 && d->n > before) {
        char *vars[64];
        int nv = augment_questions(r.msgs[u - 1].content, o->augment_drop, o->augment < 64 ? o->augment : 64,
                                   &w->rng, vars, e);
        rc = nv < 0 ? -1 : 0;
        const char *orig = r.msgs[u - 1].content;
        for (int k = 0; k < nv; k++) {
            r.msgs[u - 1].content = vars[k];
            if (rc == 0)
                rc = add_conversation(d, w, r.msgs, r.n, path, line, tok, o, 1, e);
            free(vars[k]);
        }
        r.msgs[u - 1].content = orig;
    }
    sft_record_free(&r);
    return rc;
}

int dataset_sft_add_text(Dataset *d, const TextFile *f, const char *path, const Tokenizer *tok, const SftOptions *o,
                         Err *e)
{
    const size_t n0 = d->n;
    Jsonl j;
    jsonl_init(&j, path, f);
    Work w = {0};
    if (o->augment > 0) {
        if (!(o->augment_drop > 0 && o->augment_drop < 1))
            return err_set(e, "%s: augment_drop must be in (0, 1), got %g", path, o->augment_drop);
        /* the same copies on every load of the same files in the same order */
        rng_seed(&w.rng, o->augment_seed ^ (uint64_t)d->n_files * 0x9e3779b97f4a7c15ull);
        char tag[96];
        int len = snprintf(tag, sizeof tag, "\naugment %d %.9g %llu\n", o->augment, (double)o->augment_drop,
                           (unsigned long long)o->augment_seed);
        sha256_update(&d->hash, tag, (size_t)len);
    }
    cJSON *obj;
    int rc;
    while ((rc = jsonl_next(&j, &obj, e)) == 1) {
        rc = add_record(d, &w, obj, path, j.line, tok, o, e);
        cJSON_Delete(obj);
        if (rc < 0)
            break;
    }
    if (rc == 0 && j.n_records == 0)
        rc = err_set(e, "%s: no records (only blank lines)", path);
    if (rc == 0 && d->n == n0)
        rc = err_set(e, "%s: no examples: every record's targets lie past seq_len %d (%ld dropped)", path,
                     o->seq_len, j.n_records);
    tokids_free(&w.ids);
    free(w.mask);
    return rc < 0 ? -1 : 0;
}

int dataset_load_sft(Dataset *d, const char *path, const Tokenizer *tok, const SftOptions *o, Err *e)
{
    if (dataset_check_args(tok, o->seq_len, o->eos_id, e) < 0)
        return -1;
    DatasetMark m;
    dataset_mark(d, &m);
    TextFile f;
    if (dataset_read_file(d, &f, path, e) < 0)
        return dataset_rollback(d, &m);
    int rc = dataset_sft_add_text(d, &f, path, tok, o, e);
    textfile_free(&f);
    if (rc < 0)
        return dataset_rollback(d, &m);
    dataset_finish_hash(d);
    return 0;
}
