/* qa_record.c - QaRecord <-> JSON (see qa_record.h, docs/qa-store.md). */
#include "qa_record.h"

#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "qa_flags.h"

cJSON *qa_record_to_json(const QaRecord *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int ok = cJSON_AddNumberToObject(o, "id", (double)r->id) && cJSON_AddNumberToObject(o, "seq", (double)r->seq) &&
             cJSON_AddStringToObject(o, "question", r->question) && cJSON_AddStringToObject(o, "answer", r->answer) &&
             cJSON_AddStringToObject(o, "source", r->source) &&
             cJSON_AddStringToObject(o, "status", qa_status_name(r->status)) &&
             cJSON_AddBoolToObject(o, "golden", r->golden) && cJSON_AddBoolToObject(o, "deleted", r->deleted);
    cJSON *flags = ok ? cJSON_AddArrayToObject(o, "flags") : NULL;
    ok = flags != NULL;
    for (int i = 0; ok && i < QA_N_FLAGS; i++)
        if (r->flags & (1u << i)) {
            cJSON *v = cJSON_CreateString(qa_flag_name(i));
            ok = v && cJSON_AddItemToArray(flags, v);
        }
    ok = ok && cJSON_AddStringToObject(o, "reasons", r->reasons) &&
         cJSON_AddNumberToObject(o, "created", (double)r->created) &&
         cJSON_AddNumberToObject(o, "updated", (double)r->updated);
    cJSON *hist = ok ? cJSON_AddArrayToObject(o, "history") : NULL;
    ok = hist != NULL;
    for (size_t i = 0; ok && i < r->n_hist; i++) {
        const QaEdit *h = &r->hist[i];
        cJSON *x = cJSON_CreateObject();
        ok = x && cJSON_AddItemToArray(hist, x) && cJSON_AddNumberToObject(x, "time", (double)h->time) &&
             cJSON_AddStringToObject(x, "field", h->field) && cJSON_AddStringToObject(x, "old", h->old_value) &&
             cJSON_AddStringToObject(x, "new", h->new_value);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int get_string(const cJSON *o, const char *key, int required, char **out, Err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required)
            return err_set(e, "missing \"%s\"", key);
        *out = strdup("");
    } else if (!cJSON_IsString(v)) {
        return err_set(e, "%s: expected a string, got %s", key, json_type_name(v));
    } else {
        *out = strdup(v->valuestring);
    }
    return *out ? 0 : err_set(e, "out of memory");
}

static int get_number(const cJSON *o, const char *key, long long *out, Err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != (double)(long long)v->valuedouble)
        return err_set(e, "%s: expected a whole number >= 0, got %s", key, json_type_name(v));
    *out = (long long)v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *o, const char *key, int *out, Err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return 0;
    if (!cJSON_IsBool(v))
        return err_set(e, "%s: expected true or false, got %s", key, json_type_name(v));
    *out = cJSON_IsTrue(v);
    return 0;
}

static int get_history(QaRecord *r, const cJSON *o, Err *e)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "history");
    if (!h)
        return 0;
    if (!cJSON_IsArray(h))
        return err_set(e, "history: expected a list, got %s", json_type_name(h));
    const cJSON *x;
    cJSON_ArrayForEach(x, h) {
        long long t = 0;
        char *field = NULL, *old_value = NULL, *new_value = NULL;
        int rc = cJSON_IsObject(x) ? 0 : err_set(e, "history: expected objects, got %s", json_type_name(x));
        if (rc == 0)
            rc = get_number(x, "time", &t, e);
        if (rc == 0)
            rc = get_string(x, "field", 1, &field, e);
        if (rc == 0)
            rc = get_string(x, "old", 0, &old_value, e);
        if (rc == 0)
            rc = get_string(x, "new", 0, &new_value, e);
        if (rc == 0 && qa_record_log(r, t, field, old_value, new_value) != 0)
            rc = err_set(e, "out of memory");
        free(field);
        free(old_value);
        free(new_value);
        if (rc)
            return -1;
    }
    return 0;
}

int qa_record_from_json(QaRecord *r, const cJSON *o, Err *e)
{
    memset(r, 0, sizeof *r);
    long long id = 0;
    int rc = get_number(o, "id", &id, e);
    if (rc == 0 && id < 1)
        rc = err_set(e, "missing \"id\" (a whole number >= 1)");
    r->id = (long)id;
    if (rc == 0)
        rc = get_number(o, "seq", &r->seq, e);
    if (rc == 0)
        rc = get_string(o, "question", 1, &r->question, e);
    if (rc == 0)
        rc = get_string(o, "answer", 1, &r->answer, e);
    if (rc == 0)
        rc = get_string(o, "source", 0, &r->source, e);
    if (rc == 0)
        rc = get_string(o, "reasons", 0, &r->reasons, e);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
    if (rc == 0 && st && !(cJSON_IsString(st) && qa_status_parse(st->valuestring, &r->status) == 0))
        rc = err_set(e, "status: expected \"pending\", \"approved\" or \"rejected\"");
    if (rc == 0)
        rc = get_bool(o, "golden", &r->golden, e);
    if (rc == 0)
        rc = get_bool(o, "deleted", &r->deleted, e);
    const cJSON *flags = cJSON_GetObjectItemCaseSensitive(o, "flags");
    if (rc == 0 && flags && !cJSON_IsArray(flags))
        rc = err_set(e, "flags: expected a list, got %s", json_type_name(flags));
    const cJSON *f;
    if (rc == 0)
        cJSON_ArrayForEach(f, flags) if (cJSON_IsString(f)) r->flags |= qa_flag_parse(f->valuestring);
    if (rc == 0)
        rc = get_number(o, "created", &r->created, e);
    if (rc == 0)
        rc = get_number(o, "updated", &r->updated, e);
    if (rc == 0)
        rc = get_history(r, o, e);
    if (rc)
        qa_record_free(r);
    return rc;
}

void qa_record_free(QaRecord *r)
{
    free(r->question);
    free(r->answer);
    free(r->source);
    free(r->reasons);
    for (size_t i = 0; i < r->n_hist; i++) {
        free(r->hist[i].field);
        free(r->hist[i].old_value);
        free(r->hist[i].new_value);
    }
    free(r->hist);
    memset(r, 0, sizeof *r);
}

int qa_record_log(QaRecord *r, long long time, const char *field, const char *old_value, const char *new_value)
{
    QaEdit *h = realloc(r->hist, (r->n_hist + 1) * sizeof *h);
    if (!h)
        return -1;
    r->hist = h;
    QaEdit *x = &h[r->n_hist];
    x->time = time;
    x->field = strdup(field);
    x->old_value = strdup(old_value ? old_value : "");
    x->new_value = strdup(new_value ? new_value : "");
    if (!x->field || !x->old_value || !x->new_value) {
        free(x->field);
        free(x->old_value);
        free(x->new_value);
        return -1;
    }
    r->n_hist++;
    return 0;
}
