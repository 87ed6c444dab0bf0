/* sft_record.h - the conversation an SFT JSONL record holds.
 *
 * Turns one parsed record (forms and rules in dataset.h) into chat
 * messages, or an error naming FILE:LINE and the field: "qa.jsonl:4:
 * messages[1].role: unknown role \"bot\" (expected system, user or
 * assistant)".  Every conversation has at least one assistant message.
 *
 * Ownership: msgs[].content points into the cJSON object or into r's own
 * copy of a "text" record, so the record is valid while both live;
 * sft_record_free releases what r owns. */
#ifndef INFUSE_SFT_RECORD_H
#define INFUSE_SFT_RECORD_H

#include <cJSON.h>
#include <stddef.h>

#include "chat_template.h"
#include "err.h"

typedef struct SftRecord {
    ChatMessage *msgs;
    size_t n;
    char *text;     /* a "text" record's copy, cut into the contents */
} SftRecord;

int sft_record_parse(SftRecord *r, const cJSON *obj, const char *path, long line, Err *e);
void sft_record_free(SftRecord *r);

#endif
