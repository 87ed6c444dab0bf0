/* jsonl.h - JSON Lines: one JSON object per line.
 *
 * Walks the lines of a TextFile (textfile.h: BOM dropped, UTF-8 checked),
 * skipping blank ones (only spaces, tabs, CR) and a CR before each LF, and
 * parses each with cJSON.  Every record must be an object.  Errors name the
 * file and the line: "data.jsonl:7:12: invalid JSON" (the column is where
 * cJSON gave up), "data.jsonl:3: expected a JSON object, got a list". */
#ifndef INFUSE_JSONL_H
#define INFUSE_JSONL_H

#include <cJSON.h>
#include <stddef.h>

#include "err.h"
#include "textfile.h"

typedef struct Jsonl {
    const char *path;       /* for messages; borrowed */
    const char *text;       /* borrowed from the TextFile */
    size_t len, off;        /* off: start of the next unread line */
    long next_line;         /* 1-based number of the line at off */
    long line;              /* 1-based line of the record last returned */
    long n_records;         /* records returned so far */
} Jsonl;

/* f must outlive j. */
void jsonl_init(Jsonl *j, const char *path, const TextFile *f);

/* 1: *obj is the next record (the caller cJSON_Deletes it) and j->line its
 * line; 0: no more lines; -1: error in e. */
int jsonl_next(Jsonl *j, cJSON **obj, Err *e);

/* "a string", "a number", "a list", "an object", "true or false", "null",
 * for messages of the form "expected a string, got a number". */
const char *json_type_name(const cJSON *v);

#endif
