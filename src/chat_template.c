/* chat_template.c - rendering conversations in chatml, llama3 and plain
 * (formats and the span rule are in chat_template.h).
 *
 * Each format is described by the text around a message: a prefix per role,
 * the end-of-turn marker that belongs to the message (and so to an assistant
 * message's loss span) and the separator after it that does not.  Plain is
 * the odd one: its "marker" is the "\n\n" before the next message, so it is
 * emitted in front of a message rather than after one. */
#include "chat_template.h"
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

static const char *const stops_chatml[] = {"<|im_end|>", NULL};
static const char *const stops_llama3[] = {"<|eot_id|>", NULL};
static const char *const stops_plain[] = {"\n\nUser:", NULL};
static const char *const stops_none[] = {NULL};

int chat_template_parse(const char *name, ChatTemplate *out, Err *e)
{
    if (name && strcmp(name, "chatml") == 0)
        *out = CHAT_CHATML;
    else if (name && strcmp(name, "llama3") == 0)
        *out = CHAT_LLAMA3;
    else if (name && strcmp(name, "plain") == 0)
        *out = CHAT_PLAIN;
    else
        return err_set(e, "unknown chat template \"%s\" (expected chatml, llama3 or plain)",
                       name ? name : "");
    return 0;
}

const char *chat_template_name(ChatTemplate t)
{
    switch (t) {
    case CHAT_CHATML: return "chatml";
    case CHAT_LLAMA3: return "llama3";
    case CHAT_PLAIN: return "plain";
    }
    return "?";
}

const char *const *chat_template_stops(ChatTemplate t)
{
    switch (t) {
    case CHAT_CHATML: return stops_chatml;
    case CHAT_LLAMA3: return stops_llama3;
    case CHAT_PLAIN: return stops_plain;
    }
    return stops_none;
}

/* Growing output buffer; on allocation failure `failed` sticks and later
 * appends do nothing, so callers check once at the end. */
static const char *role_name(ChatRole r)
{
    return r == CHAT_SYSTEM ? "system" : r == CHAT_USER ? "user" : "assistant";
}

/* The text before a message's content (for plain, after the separator). */
static void add_header(StrBuf *b, ChatTemplate t, ChatRole r)
{
    switch (t) {
    case CHAT_CHATML:
        strbuf_puts(b, "<|im_start|>");
        strbuf_puts(b, role_name(r));
        strbuf_puts(b, "\n");
        break;
    case CHAT_LLAMA3:
        strbuf_puts(b, "<|start_header_id|>");
        strbuf_puts(b, role_name(r));
        strbuf_puts(b, "<|end_header_id|>\n\n");
        break;
    case CHAT_PLAIN:
        /* "Assistant:" without its space: the space opens the span. */
        strbuf_puts(b, r == CHAT_USER ? "User: " : r == CHAT_ASSISTANT ? "Assistant:" : "");
        break;
    }
}

static const char *end_marker(ChatTemplate t)
{
    return t == CHAT_CHATML ? "<|im_end|>" : t == CHAT_LLAMA3 ? "<|eot_id|>" : "";
}

static const char *after_marker(ChatTemplate t)
{
    return t == CHAT_CHATML ? "\n" : "";
}

char *chat_render(ChatTemplate t, const char *system, const ChatMessage *msgs, size_t n,
                  int add_generation_prompt, ChatSpan **spans, size_t *n_spans, Err *e)
{
    if (spans)
        *spans = NULL;
    if (n_spans)
        *n_spans = 0;
    if (t != CHAT_CHATML && t != CHAT_LLAMA3 && t != CHAT_PLAIN) {
        err_set(e, "chat_render: unknown chat template %d", (int)t);
        return NULL;
    }
    size_t n_asst = 0;
    int has_system = 0;
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].role != CHAT_SYSTEM && msgs[i].role != CHAT_USER && msgs[i].role != CHAT_ASSISTANT) {
            err_set(e, "chat_render: message %zu has unknown role %d", i + 1, (int)msgs[i].role);
            return NULL;
        }
        if (!msgs[i].content) {
            err_set(e, "chat_render: message %zu has no content", i + 1);
            return NULL;
        }
        n_asst += msgs[i].role == CHAT_ASSISTANT;
        has_system |= msgs[i].role == CHAT_SYSTEM;
    }
    ChatSpan *sp = NULL;
    if (spans && n_asst) {
        sp = malloc(n_asst * sizeof *sp);
        if (!sp) {
            err_set(e, "chat_render: out of memory");
            return NULL;
        }
    }

    StrBuf b = {0};
    strbuf_puts(&b, ""); /* an empty conversation still returns "" */
    if (t == CHAT_LLAMA3)
        strbuf_puts(&b, "<|begin_of_text|>");
    int use_system = !has_system && system && system[0];
    size_t total = n + (size_t)use_system, k = 0;
    for (size_t i = 0; i < total; i++) {
        ChatMessage m = use_system ? (i == 0 ? (ChatMessage){CHAT_SYSTEM, system} : msgs[i - 1]) : msgs[i];
        if (t == CHAT_PLAIN && i > 0) {
            /* The separator ends the previous message's turn: it is that
             * message's marker, part of its span if it was the assistant's. */
            strbuf_puts(&b, "\n\n");
            if (sp && k > 0 && sp[k - 1].end == b.n - 2)
                sp[k - 1].end = b.n;
        }
        add_header(&b, t, m.role);
        size_t begin = b.n;
        if (t == CHAT_PLAIN && m.role == CHAT_ASSISTANT)
            strbuf_puts(&b, " ");
        strbuf_puts(&b, m.content);
        strbuf_puts(&b, end_marker(t));
        if (sp && m.role == CHAT_ASSISTANT)
            sp[k++] = (ChatSpan){begin, b.n};
        strbuf_puts(&b, after_marker(t));
    }
    if (add_generation_prompt) {
        if (t == CHAT_PLAIN && total > 0) {
            strbuf_puts(&b, "\n\n");
            if (sp && k > 0 && sp[k - 1].end == b.n - 2)
                sp[k - 1].end = b.n;
        }
        add_header(&b, t, CHAT_ASSISTANT);
    }
    if (b.oom) {
        free(b.s);
        free(sp);
        err_set(e, "chat_render: out of memory");
        return NULL;
    }
    if (spans) {
        *spans = sp;
        if (n_spans)
            *n_spans = k;
    }
    return b.s;
}
