/* qa_store.h - the curated question/answer pairs (data/qa.jsonl).
 *
 * The store is held in memory and changed only through this API.  Every
 * change is first appended as one JSON line to the journal (PATH.journal)
 * and made durable (fdatasync) before the call returns 0: a change that
 * was acknowledged survives kill -9 or a power cut.  qa_store_compact
 * rewrites PATH atomically (fsutil.h: temp file, fsync, rename) and then
 * empties the journal.
 *
 * Crash safety in every order: each change carries a sequence number, and
 * each record in PATH the number of the last change applied to it.  Opening
 * replays the journal, applying an entry only when its number is above its
 * record's (an "add" only when the id is new), so a crash after the rename
 * but before the journal is emptied applies nothing twice.  A torn last
 * journal line (a crash mid-write: never acknowledged) is ignored with a
 * warning and cut off so the next append starts on a clean line.
 *
 * Lines of PATH that do not parse as records are reported as warnings
 * ("qa.jsonl:7:12: invalid JSON (kept as is)") and written back verbatim
 * at the end of the file on compaction: never dropped.
 *
 * The record format is in docs/qa-store.md.  Records are never removed:
 * qa_delete marks them deleted.  Each change to a question, answer, status,
 * golden mark or deletion is kept in the record's history with its old and
 * new value (the journal holds the same), enough for undo.
 *
 * One process at a time has a store open: qa_store_open fails with "in
 * use by another infuse process" while another holds it (an flock on the
 * journal, released by the kernel however that process ends).
 *
 * Ownership: a QaStore is caller-owned, filled by qa_store_open and
 * released by qa_store_close; records and their strings belong to it.
 * Pointers into s->r are invalidated by qa_add. */
#ifndef INFUSE_QA_STORE_H
#define INFUSE_QA_STORE_H

#include <stddef.h>

#include "err.h"

typedef enum QaStatus { QA_PENDING, QA_APPROVED, QA_REJECTED } QaStatus;

typedef struct QaEdit {
    long long time;     /* unix seconds */
    char *field;        /* "question", "answer", "status", "golden", "deleted" */
    char *old_value, *new_value;  /* as text: "pending", "true", the old answer */
} QaEdit;

typedef struct QaRecord {
    long id;            /* >= 1, unique, never reused */
    long long seq;      /* number of the last change applied */
    char *question, *answer;
    char *source;       /* where it came from: "corpus/a.md:12", "import.jsonl:3"; may be "" */
    QaStatus status;
    int golden;         /* curator's exemplary pair: trained with train.sft.golden_weight */
    int deleted;
    unsigned flags;     /* QA_FLAG_* bits (qa_flags.h) */
    char *reasons;      /* one line per set flag, "\n"-joined; "" when none */
    long long created, updated;
    QaEdit *hist;
    size_t n_hist;
} QaRecord;

typedef struct QaStore {
    char *path, *journal_path;
    QaRecord *r;
    size_t n, cap;
    long next_id;
    long long seq;          /* last change number used */
    int jfd;                /* journal, open for appending */
    long n_journal;         /* entries in the journal */
    char **bad;             /* malformed lines of PATH, verbatim */
    size_t n_bad;
    char **warnings;        /* from opening, one line each */
    size_t n_warnings;
} QaStore;

/* Loads PATH (missing: an empty store) and replays PATH.journal.  Creates
 * the journal (and the folder) if needed.  Malformed lines are warnings. */
int qa_store_open(QaStore *s, const char *path, Err *e);
/* The store as it is on disk now, for a reader while another process (or
 * thread) may hold it open: no lock is taken, nothing is created or cut,
 * and a torn last journal entry is skipped.  A compaction during the read
 * (PATH replaced) makes it read again.  The result is a store to read, not
 * to change: every change call on it fails.  Close with qa_store_close. */
int qa_store_open_snapshot(QaStore *s, const char *path, Err *e);
/* Closes the journal and frees everything; no compaction. */
void qa_store_close(QaStore *s);

const char *qa_status_name(QaStatus st);
int qa_status_parse(const char *name, QaStatus *out);

/* The record with this id (deleted ones too), or NULL. */
QaRecord *qa_find(QaStore *s, long id);

/* Adds a new pending record and returns its id (> 0), -1 on error.  source
 * may be NULL. */
long qa_add(QaStore *s, const char *question, const char *answer, const char *source, Err *e);
int qa_set_status(QaStore *s, long id, QaStatus st, Err *e);
int qa_set_golden(QaStore *s, long id, int golden, Err *e);
/* field is "question" or "answer". */
int qa_edit(QaStore *s, long id, const char *field, const char *text, Err *e);
int qa_delete(QaStore *s, long id, int deleted, Err *e);
/* Quality flags are derived data, journaled like the rest so that a
 * reopened store shows what the curator saw.  No history entry. */
int qa_set_flags(QaStore *s, long id, unsigned flags, const char *reasons, Err *e);

/* Rewrites PATH from memory (atomically) and empties the journal. */
int qa_store_compact(QaStore *s, Err *e);

/* Which records qa_store_export_sft writes. */
typedef enum QaExport { QA_EXPORT_APPROVED, QA_EXPORT_PLAIN, QA_EXPORT_GOLDEN } QaExport;
/* Writes approved, not deleted records (all of them, only the non-golden,
 * or only the golden ones) as SFT JSONL {"messages": [user, assistant]}
 * (dataset.h), atomically; *n gets the count. */
int qa_store_export_sft(const QaStore *s, const char *path, QaExport which, size_t *n, Err *e);

/* 1 if path's first record looks like a store record ("id", "question",
 * "status"), 0 if not or unreadable: lets training take data/qa.jsonl as
 * either a store or plain SFT JSONL. */
int qa_store_sniff(const char *path);

#endif
