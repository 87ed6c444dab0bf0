/* qa_eval.c - evaluation sets (see qa_eval.h). */
#include "qa_eval.h"

#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "qa_import.h"
#include "textfile.h"

static void item_free(QaEvalItem *it)
{
    free(it->question);
    free(it->reference);
    for (size_t i = 0; i < it->n_keywords; i++)
        free(it->keywords[i]);
    free(it->keywords);
    free(it->category);
    memset(it, 0, sizeof *it);
}

static int item_from_json(QaEvalItem *it, const cJSON *o, const char *path, long line, Err *e)
{
    memset(it, 0, sizeof *it);
    it->line = line;
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(o, "keywords");
    const cJSON *cat = cJSON_GetObjectItemCaseSensitive(o, "category");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "question");
    if (kw && !cJSON_IsArray(kw))
        return err_set(e, "%s:%ld: keywords: expected a list, got %s", path, line, json_type_name(kw));
    if (cat && !cJSON_IsString(cat))
        return err_set(e, "%s:%ld: category: expected a string, got %s", path, line, json_type_name(cat));
    int n_kw = kw ? cJSON_GetArraySize(kw) : 0;
    if (n_kw && !(it->keywords = calloc((size_t)n_kw, sizeof *it->keywords)))
        return err_set(e, "%s: out of memory", path);
    const cJSON *k;
    cJSON_ArrayForEach(k, kw) {
        if (!cJSON_IsString(k)) {
            item_free(it);
            return err_set(e, "%s:%ld: keywords[%zu]: expected a string, got %s", path, line, it->n_keywords,
                           json_type_name(k));
        }
        if (!(it->keywords[it->n_keywords++] = strdup(k->valuestring))) {
            item_free(it);
            return err_set(e, "%s: out of memory", path);
        }
    }
    int has_ref = cJSON_GetObjectItemCaseSensitive(o, "answer") ||
                  cJSON_GetObjectItemCaseSensitive(o, "reference_answer") ||
                  cJSON_GetObjectItemCaseSensitive(o, "gold_answer");
    if (cJSON_IsString(q) && !has_ref && it->n_keywords) {
        it->question = strdup(q->valuestring);
        it->reference = strdup("");
    } else {
        QaPairs p;
        if (qa_pairs_from_json(&p, o, path, line, e) != 0) {
            item_free(it);
            return -1;
        }
        it->question = strdup(p.question[0]);
        it->reference = strdup(p.answer[0]);
        qa_pairs_free(&p);
    }
    it->category = strdup(cJSON_IsString(cat) ? cat->valuestring : "");
    if (!it->question || !it->reference || !it->category) {
        item_free(it);
        return err_set(e, "%s: out of memory", path);
    }
    return 0;
}

int qa_eval_load(QaEvalSet *set, const char *path, Err *e)
{
    memset(set, 0, sizeof *set);
    return qa_eval_load_more(set, path, e);
}

int qa_eval_load_more(QaEvalSet *set, const char *path, Err *e)
{
    TextFile f;
    if (textfile_read(&f, path, NULL, e) != 0)
        return -1;
    Jsonl j;
    jsonl_init(&j, path, &f);
    cJSON *o;
    int got, rc = 0;
    size_t cap = set->n, first = set->n;
    while (rc == 0 && (got = jsonl_next(&j, &o, e)) != 0) {
        if (got < 0) {
            rc = -1;
            break;
        }
        if (set->n == cap) {
            cap = cap ? 2 * cap : 32;
            QaEvalItem *items = realloc(set->items, cap * sizeof *items);
            if (!items) {
                cJSON_Delete(o);
                rc = err_set(e, "%s: out of memory", path);
                break;
            }
            set->items = items;
        }
        rc = item_from_json(&set->items[set->n], o, path, j.line, e);
        if (rc == 0)
            set->n++;
        cJSON_Delete(o);
    }
    textfile_free(&f);
    if (rc == 0 && set->n == first)
        rc = err_set(e, "%s: no questions", path);
    if (rc)
        qa_eval_free(set);
    return rc;
}

int qa_eval_append(QaEvalSet *set, const char *question, const char *reference, Err *e)
{
    QaEvalItem *items = realloc(set->items, (set->n + 1) * sizeof *items);
    if (!items)
        return err_set(e, "out of memory");
    set->items = items;
    QaEvalItem *it = memset(&items[set->n], 0, sizeof *it);
    it->question = strdup(question);
    it->reference = strdup(reference);
    it->category = strdup("");
    if (!it->question || !it->reference || !it->category) {
        item_free(it);
        return err_set(e, "out of memory");
    }
    set->n++;
    return 0;
}

void qa_eval_free(QaEvalSet *set)
{
    for (size_t i = 0; i < set->n; i++)
        item_free(&set->items[i]);
    free(set->items);
    memset(set, 0, sizeof *set);
}
