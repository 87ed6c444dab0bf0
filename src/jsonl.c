/* jsonl.c - JSON Lines records with file:line errors (see jsonl.h).
 *
 * cJSON_ParseWithLengthOpts is used instead of cJSON_GetErrorPtr because
 * the latter is a global: two loaders on two threads would read each
 * other's error positions. */
#include "jsonl.h"

#include <string.h>

void jsonl_init(Jsonl *j, const char *path, const TextFile *f)
{
    memset(j, 0, sizeof *j);
    j->path = path;
    j->text = f->text;
    j->len = f->len;
    j->next_line = 1;
}

const char *json_type_name(const cJSON *v)
{
    if (!v || cJSON_IsInvalid(v))
        return "nothing";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsArray(v))
        return "a list";
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsBool(v))
        return "true or false";
    return "null";
}

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Column (1-based, in characters) of p within the line starting at s. */
static long column(const char *s, const char *p)
{
    long col = 1;
    for (; s < p; s++)
        col += ((unsigned char)*s & 0xC0) != 0x80;
    return col;
}

int jsonl_next(Jsonl *j, cJSON **obj, Err *e)
{
    *obj = NULL;
    while (j->off < j->len) {
        const char *s = j->text + j->off;
        const char *nl = memchr(s, '\n', j->len - j->off);
        size_t n = nl ? (size_t)(nl - s) : j->len - j->off;
        long line = j->next_line++;
        j->off += n + (nl != NULL);
        while (n > 0 && blank(s[n - 1]))
            n--;
        if (n == 0)
            continue;
        j->line = line;
        const char *end = NULL;
        cJSON *v = cJSON_ParseWithLengthOpts(s, n, &end, 0);
        if (!v)
            return err_set(e, "%s:%ld:%ld: invalid JSON", j->path, line, column(s, end ? end : s));
        while (end < s + n && blank(*end))
            end++;
        if (end < s + n) {
            cJSON_Delete(v);
            return err_set(e, "%s:%ld:%ld: invalid JSON: more text after the value (one record per line)", j->path,
                           line, column(s, end));
        }
        if (!cJSON_IsObject(v)) {
            const char *what = json_type_name(v);
            cJSON_Delete(v);
            return err_set(e, "%s:%ld: expected a JSON object, got %s", j->path, line, what);
        }
        j->n_records++;
        *obj = v;
        return 1;
    }
    return 0;
}
