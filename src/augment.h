/* augment.h - question word dropout: more ways of asking what SFT teaches.
 *
 * A small model fine-tuned on a few phrasings of each question learns the
 * phrasings, not the facts: asked in other words it answers something
 * else.  Training also on copies of each question with some of its words
 * left out teaches it to answer from whichever telling words remain, which
 * is what an unseen paraphrase shares with the seen ones.  (slm-factory's
 * augment step has a teacher model paraphrase the questions; with no
 * teacher, dropping words is the rule-based counterpart.)
 *
 * Words are runs of bytes between ASCII spaces, so any UTF-8 text works.
 * A question of fewer than AUGMENT_MIN_WORDS words is left alone: its
 * every word counts, and "What is" alone would teach any "What is X?" the
 * answer.  A variant keeps at least two content words (not an English
 * function word such as "the" or "does"; in other languages every word
 * counts as one) and differs from the question and from the variants
 * before it; when random drops cannot find one in a few tries there is
 * none.  Deterministic: depends only on the text, p and the Rng. */
#ifndef INFUSE_AUGMENT_H
#define INFUSE_AUGMENT_H

#include "err.h"
#include "rng.h"

#define AUGMENT_MIN_WORDS 5

/* Writes up to n variants of question into out[0..) (malloc'd, caller
 * frees each), each word dropped with probability p in (0, 1); returns how
 * many were made (0..n), or -1 on allocation failure. */
int augment_questions(const char *question, double p, int n, Rng *r, char **out, Err *e);

#endif
