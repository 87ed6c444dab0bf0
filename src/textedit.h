/* textedit.h - a multi-line text being edited: the Review pane's question
 * and answer, the Chat input.
 *
 * The text is always well-formed UTF-8 with '\n' line ends: what comes in
 * (typing, a paste, the starting text) has ill-formed bytes and NUL
 * replaced by U+FFFD and "\r\n" or a lone '\r' (what terminals send for
 * Enter in a paste) turned into '\n'.  The cursor is a byte offset that
 * always stands on a grapheme cluster boundary (textwidth.h), so motion
 * and deletion go by what a reader sees as one character.
 *
 * Vertical motion, home and end take a wrap width: 0 moves over the lines
 * between newlines, W > 0 over the rows tw_wrap would draw at width W.  Up
 * and down keep a goal column, so passing through a short row does not
 * lose the column; any other call forgets it.
 *
 * Undo: each edit is a step, except that te_type extends the step before
 * it while the typing continues where it left off; a move, a deletion, a
 * paste or an undo closes the step.  The history keeps the newest
 * TE_UNDO_STEPS steps and at most TE_UNDO_BYTES bytes of their text (the
 * newest step always), so memory is the text plus that.
 *
 * Edits return 1 when the text changed, 0 when there was nothing to do and
 * -1 (with e set) when out of memory, which leaves text and cursor as they
 * were.  Moves return 1 when the cursor moved.
 *
 * Ownership: a TextEdit is caller-owned; te_init fills it, te_free
 * releases what it holds. */
#ifndef INFUSE_TEXTEDIT_H
#define INFUSE_TEXTEDIT_H

#include <stddef.h>

#include "err.h"

#define TE_UNDO_STEPS 200
#define TE_UNDO_BYTES ((size_t)16 << 20)
#define TE_NO_GOAL ((size_t)-1)

/* One undo step: at pos, del[0..ndel) was replaced by ins[0..nins). */
typedef struct TeStep {
    size_t pos;
    char *del, *ins;            /* owned; NULL when empty */
    size_t ndel, nins, ins_cap;
    size_t cur_before, cur_after;
} TeStep;

typedef struct TextEdit {
    char *buf;                  /* [cap] the text, len bytes and a NUL */
    size_t len, cap;
    size_t cur;                 /* cursor: byte offset on a cluster boundary */
    size_t goal;                /* column up/down aim for, TE_NO_GOAL when unset */
    TeStep *steps;              /* [TE_UNDO_STEPS]; steps[0..nundo) can be undone, */
    size_t nsteps, nundo;       /* steps[nundo..nsteps) redone */
    size_t step_bytes;          /* del and ins bytes held by steps */
    int typing;                 /* te_type may extend steps[nundo - 1] */
} TextEdit;

/* t holds text[0..n) (cleaned), cursor at the end, no history. */
int te_init(TextEdit *t, const char *text, size_t n, Err *e);
void te_free(TextEdit *t);

/* The text, NUL-terminated; valid until the next edit. */
static inline const char *te_text(const TextEdit *t) { return t->buf; }

/* Inserts s[0..n) at the cursor and puts the cursor after it.  te_insert
 * is one undo step of its own (a paste); te_type joins the typing step
 * before it. */
int te_insert(TextEdit *t, const char *s, size_t n, Err *e);
int te_type(TextEdit *t, const char *s, size_t n, Err *e);

/* Deletes the cluster before / after the cursor, or back to the start of
 * the word before it (ctrl-w, tw_word_prev). */
int te_backspace(TextEdit *t, Err *e);
int te_delete(TextEdit *t, Err *e);
int te_delete_word(TextEdit *t, Err *e);

/* Undoes / redoes one step, cursor where it was after / before it. */
int te_undo(TextEdit *t, Err *e);
int te_redo(TextEdit *t, Err *e);

/* Cursor motion: by cluster, by word (tw_word_prev / tw_word_next), to the
 * start and end of the text. */
int te_left(TextEdit *t);
int te_right(TextEdit *t);
int te_word_left(TextEdit *t);
int te_word_right(TextEdit *t);
int te_buf_start(TextEdit *t);
int te_buf_end(TextEdit *t);

/* Start and end of the cursor's row, and the row above and below, at the
 * goal column or the last cluster before it (width: see above).  Up on the
 * first row and down on the last do nothing and return 0, so the caller
 * may give the key another meaning there (input history). */
int te_home(TextEdit *t, size_t width);
int te_end(TextEdit *t, size_t width);
int te_up(TextEdit *t, size_t width);
int te_down(TextEdit *t, size_t width);

/* Puts the cursor at the start of the cluster holding byte pos (clamped to
 * the text). */
void te_set_cursor(TextEdit *t, size_t pos);

/* Puts the cursor where a click on the text drawn wrapped at width lands:
 * row (0: the first) and display column col, clamped to the rows there are
 * and to the row's end; a column inside a wide character lands before it.
 * 1 if the cursor moved. */
int te_point(TextEdit *t, size_t width, size_t row, size_t col);

#endif
