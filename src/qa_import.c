/* qa_import.c - pairs from the JSONL formats people already have (see
 * qa_import.h). */
#include "qa_import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonl.h"
#include "sft_record.h"
#include "textfile.h"

static int push_pair(QaPairs *p, const char *q, const char *a)
{
    char **nq = realloc(p->question, (p->n + 1) * sizeof *nq);
    if (!nq)
        return -1;
    p->question = nq;
    char **na = realloc(p->answer, (p->n + 1) * sizeof *na);
    if (!na)
        return -1;
    p->answer = na;
    nq[p->n] = strdup(q);
    na[p->n] = strdup(a);
    if (!nq[p->n] || !na[p->n]) {
        free(nq[p->n]);
        free(na[p->n]);
        return -1;
    }
    p->n++;
    return 0;
}

void qa_pairs_free(QaPairs *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->question[i]);
        free(p->answer[i]);
    }
    free(p->question);
    free(p->answer);
    memset(p, 0, sizeof *p);
}

static const cJSON *string_item(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v : NULL;
}

static int need_string(const cJSON *o, const char *key, const char *path, long line, const char **out, Err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return err_set(e, "%s:%ld: missing \"%s\"", path, line, key);
    if (!cJSON_IsString(v))
        return err_set(e, "%s:%ld: %s: expected a string, got %s", path, line, key, json_type_name(v));
    *out = v->valuestring;
    return 0;
}

int qa_pairs_from_json(QaPairs *p, const cJSON *obj, const char *path, long line, Err *e)
{
    memset(p, 0, sizeof *p);
    const char *q = NULL, *a = NULL;
    int rc = 0;
    if (cJSON_GetObjectItemCaseSensitive(obj, "question")) {
        const char *akey = string_item(obj, "answer")             ? "answer"
                           : string_item(obj, "reference_answer") ? "reference_answer"
                           : string_item(obj, "gold_answer")      ? "gold_answer"
                                                                  : "answer";
        rc = need_string(obj, "question", path, line, &q, e);
        if (rc == 0)
            rc = need_string(obj, akey, path, line, &a, e);
        if (rc == 0 && push_pair(p, q, a) != 0)
            rc = err_set(e, "%s:%ld: out of memory", path, line);
    } else if (cJSON_GetObjectItemCaseSensitive(obj, "instruction")) {
        const char *input = "";
        rc = need_string(obj, "instruction", path, line, &q, e);
        if (rc == 0)
            rc = need_string(obj, "output", path, line, &a, e);
        if (rc == 0 && cJSON_GetObjectItemCaseSensitive(obj, "input"))
            rc = need_string(obj, "input", path, line, &input, e);
        char *joined = NULL;
        if (rc == 0 && *input) {
            size_t n = strlen(q) + strlen(input) + 3;
            if ((joined = malloc(n)))
                snprintf(joined, n, "%s\n\n%s", q, input);
        }
        if (rc == 0 && ((*input && !joined) || push_pair(p, joined ? joined : q, a) != 0))
            rc = err_set(e, "%s:%ld: out of memory", path, line);
        free(joined);
    } else {
        SftRecord r;
        if (sft_record_parse(&r, obj, path, line, e) != 0) {
            if (!cJSON_GetObjectItemCaseSensitive(obj, "messages") && !cJSON_GetObjectItemCaseSensitive(obj, "prompt") &&
                !cJSON_GetObjectItemCaseSensitive(obj, "text"))
                err_set(e, "%s:%ld: not a question/answer record (expected \"question\" and \"answer\", "
                           "\"instruction\" and \"output\", \"messages\", \"prompt\" and \"completion\", or \"text\")",
                        path, line);
            return -1;
        }
        for (size_t i = 0; rc == 0 && i < r.n; i++) {
            if (r.msgs[i].role != CHAT_USER)
                continue;
            size_t j = i + 1;
            while (j < r.n && r.msgs[j].role == CHAT_SYSTEM)
                j++;
            if (j < r.n && r.msgs[j].role == CHAT_ASSISTANT && push_pair(p, r.msgs[i].content, r.msgs[j].content))
                rc = err_set(e, "%s:%ld: out of memory", path, line);
        }
        sft_record_free(&r);
        if (rc == 0 && p->n == 0)
            rc = err_set(e, "%s:%ld: no user message answered by an assistant message", path, line);
    }
    if (rc)
        qa_pairs_free(p);
    return rc;
}

static int keep(QaImport *im, long line, const char *text, size_t n, const char *why)
{
    QaBadLine *b = realloc(im->bad, (im->n_bad + 1) * sizeof *b);
    if (!b)
        return -1;
    im->bad = b;
    b[im->n_bad] = (QaBadLine){line, strndup(text, n), strdup(why)};
    if (!b[im->n_bad].text || !b[im->n_bad].why) {
        free(b[im->n_bad].text);
        free(b[im->n_bad].why);
        return -1;
    }
    im->n_bad++;
    return 0;
}

static int present(QaStore *s, const char *q, const char *a)
{
    for (size_t i = 0; i < s->n; i++)
        if (!s->r[i].deleted && strcmp(s->r[i].question, q) == 0 && strcmp(s->r[i].answer, a) == 0)
            return 1;
    return 0;
}

int qa_import_file(QaStore *s, const char *path, QaImport *out, Err *e)
{
    memset(out, 0, sizeof *out);
    TextFile f;
    if (textfile_read(&f, path, NULL, e) != 0)
        return -1;
    Jsonl j;
    jsonl_init(&j, path, &f);
    int rc = 0;
    for (;;) {
        cJSON *obj = NULL;
        Err le;
        int got = jsonl_next(&j, &obj, &le);
        if (got == 0)
            break;
        QaPairs p = {0};
        if (got > 0 && qa_pairs_from_json(&p, obj, path, j.line, &le) != 0)
            got = -1;
        cJSON_Delete(obj);
        if (got < 0) {
            /* The failed line is the last one jsonl_next consumed. */
            size_t end = j.off;
            if (end && f.text[end - 1] == '\n')
                end--;
            size_t start = end;
            while (start && f.text[start - 1] != '\n')
                start--;
            size_t n = end - start;
            while (n && f.text[start + n - 1] == '\r')
                n--;
            if (keep(out, j.line, f.text + start, n, le.msg) != 0) {
                rc = err_set(e, "%s: out of memory", path);
                break;
            }
            continue;
        }
        for (size_t i = 0; rc == 0 && i < p.n; i++) {
            if (present(s, p.question[i], p.answer[i])) {
                out->n_existing++;
                continue;
            }
            char source[1100];
            if (p.n > 1)
                snprintf(source, sizeof source, "%s:%ld#%zu", path, j.line, i + 1);
            else
                snprintf(source, sizeof source, "%s:%ld", path, j.line);
            long id = qa_add(s, p.question[i], p.answer[i], source, e);
            if (id < 0) {
                rc = -1;
                break;
            }
            if (!out->first_id)
                out->first_id = id;
            out->last_id = id;
            out->n_added++;
        }
        qa_pairs_free(&p);
        if (rc)
            break;
    }
    textfile_free(&f);
    return rc;
}

int qa_import_keep_bad(const QaImport *im, const char *rejected_path, Err *e)
{
    if (im->n_bad == 0)
        return 0;
    FILE *f = fopen(rejected_path, "ab");
    if (!f)
        return err_set(e, "%s: cannot open: %s", rejected_path, strerror(errno));
    for (size_t i = 0; i < im->n_bad; i++)
        fprintf(f, "%s\n", im->bad[i].text);
    int rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc ? err_set(e, "%s: cannot write: %s", rejected_path, strerror(errno)) : 0;
}

void qa_import_free(QaImport *im)
{
    for (size_t i = 0; i < im->n_bad; i++) {
        free(im->bad[i].text);
        free(im->bad[i].why);
    }
    free(im->bad);
    memset(im, 0, sizeof *im);
}
