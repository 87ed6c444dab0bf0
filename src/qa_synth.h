/* qa_synth.h - rule-based question/answer proposals from corpus text.
 *
 * No network and no teacher model: a few sentence patterns that hold
 * across technical prose, each turned into a pending pair for a curator to
 * approve, edit or reject in the Review pane:
 *   acronym      "Salient Compressor Pretraining (SCP) ..." ->
 *                "What does SCP stand for?" / "SCP stands for Salient Compressor Pretraining."
 *                (the words before the parenthesis whose initials spell it)
 *   definition   "X is a/an/the ..." or "X are ..." with a short subject ->
 *                "What is X?" / "What are X?" and the sentence as the answer
 *   number       a sentence "X <verb> ... <number> ..." with a short subject ->
 *                "What figure does the text give for X?" and the sentence
 * Sentences are split at ". ", "? ", "! " and line breaks; markdown
 * headings and list markers are dropped first.  The same text gives the
 * same proposals in the same order, and a question is proposed once. */
#ifndef INFUSE_QA_SYNTH_H
#define INFUSE_QA_SYNTH_H

#include <stddef.h>

#include "err.h"

typedef enum { QA_SYNTH_ACRONYM, QA_SYNTH_DEFINITION, QA_SYNTH_NUMBER } QaSynthKind;

typedef struct QaProposal {
    char *question, *answer;
    const char *source;     /* the document's name, borrowed */
    QaSynthKind kind;
} QaProposal;

typedef struct QaProposals {
    QaProposal *p;
    size_t n, cap;
} QaProposals;

/* Appends the proposals from text (named source) to out. */
int qa_synth(QaProposals *out, const char *text, const char *source, Err *e);
void qa_proposals_free(QaProposals *p);
const char *qa_synth_kind_name(QaSynthKind k);

#endif
