/* sft_record.c - SFT records to chat messages (see sft_record.h). */
#include "sft_record.h"

#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

static int oom(const char *path, Err *e) { return err_set(e, "%s: out of memory", path); }

static int from_messages(SftRecord *r, const cJSON *list, const char *path, long line, Err *e)
{
    if (!cJSON_IsArray(list))
        return err_set(e, "%s:%ld: messages: expected a list, got %s", path, line, json_type_name(list));
    int n = cJSON_GetArraySize(list);
    if (n > 0 && !(r->msgs = calloc((size_t)n, sizeof *r->msgs)))
        return oom(path, e);
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, list) {
        if (!cJSON_IsObject(m))
            return err_set(e, "%s:%ld: messages[%d]: expected an object, got %s", path, line, i, json_type_name(m));
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!role)
            return err_set(e, "%s:%ld: messages[%d]: missing \"role\"", path, line, i);
        if (!cJSON_IsString(role))
            return err_set(e, "%s:%ld: messages[%d].role: expected a string, got %s", path, line, i,
                           json_type_name(role));
        ChatRole cr;
        if (strcmp(role->valuestring, "system") == 0)
            cr = CHAT_SYSTEM;
        else if (strcmp(role->valuestring, "user") == 0)
            cr = CHAT_USER;
        else if (strcmp(role->valuestring, "assistant") == 0)
            cr = CHAT_ASSISTANT;
        else
            return err_set(e, "%s:%ld: messages[%d].role: unknown role \"%.80s\" (expected system, user or assistant)",
                           path, line, i, role->valuestring);
        if (!content)
            return err_set(e, "%s:%ld: messages[%d]: missing \"content\"", path, line, i);
        if (!cJSON_IsString(content))
            return err_set(e, "%s:%ld: messages[%d].content: expected a string, got %s", path, line, i,
                           json_type_name(content));
        r->msgs[r->n++] = (ChatMessage){cr, content->valuestring};
        i++;
    }
    return 0;
}

static int string_field(const cJSON *obj, const char *key, const char *path, long line, const char **out, Err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return err_set(e, "%s:%ld: missing \"%s\"", path, line, key);
    if (!cJSON_IsString(v))
        return err_set(e, "%s:%ld: %s: expected a string, got %s", path, line, key, json_type_name(v));
    *out = v->valuestring;
    return 0;
}

/* The role of a turn marker at s, and the marker's length; 0 if none. */
static size_t marker(const char *s, ChatRole *role)
{
    if (strncmp(s, "User:", 5) == 0) {
        *role = CHAT_USER;
        return 5;
    }
    if (strncmp(s, "Assistant:", 10) == 0) {
        *role = CHAT_ASSISTANT;
        return 10;
    }
    return 0;
}

/* The next "\n\n" followed by a marker at or after s, or NULL. */
static char *next_turn(char *s)
{
    ChatRole r;
    for (char *p = strstr(s, "\n\n"); p; p = strstr(p + 1, "\n\n"))
        if (marker(p + 2, &r))
            return p;
    return NULL;
}

/* "User: Q\n\nAssistant: A": the text is copied and cut in place, each
 * turn's content ending where the next turn's "\n\n" begins. */
static int from_text(SftRecord *r, const char *text, const char *path, long line, Err *e)
{
    if (!(r->text = strdup(text)))
        return oom(path, e);
    size_t cap = 2;
    for (const char *p = strstr(text, "\n\n"); p; p = strstr(p + 1, "\n\n"))
        cap++;
    if (!(r->msgs = calloc(cap, sizeof *r->msgs)))
        return oom(path, e);
    char *s = r->text;
    ChatRole role = CHAT_USER;
    char *turn = marker(s, &role) ? s : next_turn(s);
    if (turn && turn != s) {
        *turn = 0; /* the text before the first turn: a system paragraph */
        r->msgs[r->n++] = (ChatMessage){CHAT_SYSTEM, s};
        turn += 2;
    }
    while (turn) {
        size_t m = marker(turn, &role);
        char *content = turn + m;
        if (*content == ' ')
            content++;
        char *next = next_turn(content);
        if (next) {
            *next = 0;
            next += 2;
        }
        r->msgs[r->n++] = (ChatMessage){role, content};
        turn = next;
    }
    return 0;
}

static int has_assistant(const SftRecord *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->msgs[i].role == CHAT_ASSISTANT)
            return 1;
    return 0;
}

int sft_record_parse(SftRecord *r, const cJSON *obj, const char *path, long line, Err *e)
{
    memset(r, 0, sizeof *r);
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(obj, "messages");
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(obj, "prompt");
    const cJSON *completion = cJSON_GetObjectItemCaseSensitive(obj, "completion");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(obj, "text");
    /* {"question", "answer"}: the QA store's and Golden Data's form */
    const cJSON *question = cJSON_GetObjectItemCaseSensitive(obj, "question");
    const cJSON *answer = cJSON_GetObjectItemCaseSensitive(obj, "answer");
    const char *pk = "prompt", *ck = "completion";
    if (!prompt && !completion && (question || answer)) {
        prompt = question, completion = answer;
        pk = "question", ck = "answer";
    }
    int forms = !!messages + !!(prompt || completion) + !!text;
    int rc;
    if (forms == 0)
        return err_set(e, "%s:%ld: expected \"messages\", \"prompt\" and \"completion\", \"question\" and \"answer\", or \"text\"",
                       path, line);
    if (forms > 1)
        return err_set(e, "%s:%ld: more than one of \"messages\", \"prompt\"/\"completion\" and \"text\" (a record has one form)",
                       path, line);
    if (messages) {
        rc = from_messages(r, messages, path, line, e);
        if (rc == 0 && !has_assistant(r))
            rc = err_set(e, "%s:%ld: messages: no assistant message", path, line);
    } else if (text) {
        if (!cJSON_IsString(text))
            rc = err_set(e, "%s:%ld: text: expected a string, got %s", path, line, json_type_name(text));
        else
            rc = from_text(r, text->valuestring, path, line, e);
        if (rc == 0 && !has_assistant(r))
            rc = err_set(e, "%s:%ld: no assistant turn", path, line);
    } else {
        const char *p, *c;
        rc = string_field(obj, pk, path, line, &p, e);
        if (rc == 0)
            rc = string_field(obj, ck, path, line, &c, e);
        if (rc == 0 && !(r->msgs = calloc(2, sizeof *r->msgs)))
            rc = oom(path, e);
        if (rc == 0) {
            r->msgs[0] = (ChatMessage){CHAT_USER, p};
            r->msgs[1] = (ChatMessage){CHAT_ASSISTANT, c};
            r->n = 2;
        }
    }
    if (rc < 0)
        sft_record_free(r);
    return rc;
}

void sft_record_free(SftRecord *r)
{
    free(r->msgs);
    free(r->text);
    memset(r, 0, sizeof *r);
}
