/* chat_template.h - turning a conversation into the text a model reads.
 *
 * Three formats, named in infuse.yaml's chat.template:
 *
 *   chatml  <|im_start|>system\n{sys}<|im_end|>\n
 *           <|im_start|>user\n{u}<|im_end|>\n
 *           <|im_start|>assistant\n{a}<|im_end|>\n
 *           generation prompt: <|im_start|>assistant\n
 *   llama3  <|begin_of_text|>
 *           <|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>   (per message)
 *           generation prompt: <|start_header_id|>assistant<|end_header_id|>\n\n
 *   plain   {sys}\n\nUser: {u}\n\nAssistant: {a}
 *           one paragraph per message, joined by "\n\n", nothing after the last;
 *           generation prompt: "\n\nAssistant:" (no trailing space; just
 *           "Assistant:" when there is nothing before it)
 *
 * The plain format reproduces our users' existing training text exactly: a
 * pair renders as "User: Q\n\nAssistant: A".  The generation prompt stops at
 * the colon on purpose: byte-level BPE tokenizers glue a space to the word
 * after it (" A" is one token), so a prompt ending in "Assistant: " would end
 * in a lone space token that training text never contains.  The model
 * generates " A" itself, and the loss span of a plain assistant message
 * starts at that space.
 *
 * In every format an assistant message's span is exactly what the model
 * produces after the generation prompt: the content plus its end-of-turn
 * marker (<|im_end|>, <|eot_id|>, or for plain the "\n\n" before a following
 * message; a plain conversation's last message has no marker, so a trainer
 * using plain text appends the tokenizer's end-of-sequence token itself).
 * So render(msgs[0..k), add_generation_prompt=1) is a prefix of
 * render(msgs) whose length is the begin of the span of assistant msgs[k].
 */
#ifndef INFUSE_CHAT_TEMPLATE_H
#define INFUSE_CHAT_TEMPLATE_H

#include <stddef.h>

#include "err.h"

typedef enum { CHAT_CHATML, CHAT_LLAMA3, CHAT_PLAIN } ChatTemplate;

/* "chatml" | "llama3" | "plain" (exact, lower case).  Unknown names fail with
 * `unknown chat template "x" (expected chatml, llama3 or plain)`. */
int chat_template_parse(const char *name, ChatTemplate *out, Err *e);
/* The name chat_template_parse accepts; "?" for a value outside the enum. */
const char *chat_template_name(ChatTemplate t);

typedef enum { CHAT_SYSTEM, CHAT_USER, CHAT_ASSISTANT } ChatRole;

/* content is borrowed; chat_render copies it into the result. */
typedef struct ChatMessage {
    ChatRole role;
    const char *content;
} ChatMessage;

/* Byte range [begin, end) in the rendered text. */
typedef struct ChatSpan {
    size_t begin, end;
} ChatSpan;

/* Renders msgs[0..n) into a malloc'd, NUL-terminated string the caller frees.
 * system (may be NULL or "") is put first when no message has the system
 * role.  add_generation_prompt appends the assistant header the model
 * continues from.  If spans is not NULL, *spans becomes a malloc'd array
 * (caller frees; NULL when there are none) of the byte ranges of each
 * assistant message's content plus its end-of-turn marker, in message order,
 * and *n_spans its length.  Fails (NULL, e set) on a NULL content, a role
 * outside the enum or out of memory. */
char *chat_render(ChatTemplate t, const char *system, const ChatMessage *msgs, size_t n,
                  int add_generation_prompt, ChatSpan **spans, size_t *n_spans, Err *e);

/* Extra stop strings for generation with this template, NULL-terminated,
 * static: "<|im_end|>" (chatml), "<|eot_id|>" (llama3), "\n\nUser:" (plain). */
const char *const *chat_template_stops(ChatTemplate t);

#endif
