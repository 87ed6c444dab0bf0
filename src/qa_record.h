/* qa_record.h - a QaRecord to and from its JSON object (docs/qa-store.md).
 * Internal to the store: the same object is a line of qa.jsonl and the
 * "record" of a journal "add" entry. */
#ifndef INFUSE_QA_RECORD_H
#define INFUSE_QA_RECORD_H

#include <cJSON.h>

#include "err.h"
#include "qa_store.h"

/* NULL when out of memory. */
cJSON *qa_record_to_json(const QaRecord *r);
/* Fills r (zeroed first) from obj; errors name what is wrong, without a
 * file position (the caller adds it).  On failure r holds nothing. */
int qa_record_from_json(QaRecord *r, const cJSON *obj, Err *e);
void qa_record_free(QaRecord *r);
/* Appends an edit to r's history; -1 when out of memory. */
int qa_record_log(QaRecord *r, long long time, const char *field, const char *old_value, const char *new_value);

#endif
