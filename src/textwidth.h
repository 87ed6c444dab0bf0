/* textwidth.h - how much room text takes in a terminal, and where it may be
 * cut, stepped over and wrapped.
 *
 * The unit is the grapheme cluster (UAX #29 extended clusters over
 * libunistring's character properties, without Unicode 15.1's Indic
 * conjunct rule): what a reader takes for one character, such as "e" plus a
 * combining accent, a Hangul syllable spelled in jamo, a flag (two regional
 * indicators) or a family emoji (people joined by U+200D).  The cursor
 * never stands inside one and text is never cut inside one.
 *
 * A cluster's width is the width of its first character that has one
 * (libunistring's uc_width, East Asian ambiguous characters narrow),
 * clamped to 1..2, and 2 for an emoji presentation sequence (an emoji
 * followed by U+FE0F) and a flag.  Pictographs joined by U+200D (a family
 * emoji) take the sum of their widths, 6 for man-woman-girl: terminals
 * that measure by character (tmux, xterm, VTE) draw each one in its own
 * cells, and counting fewer columns than a terminal draws pushes the rest
 * of the line over the edge, where counting more (kitty, WezTerm draw one
 * 2-column glyph) only leaves blanks.  Every
 * cluster takes at least one column, so the cursor is always visible;
 * clusters a terminal would not draw come back as TW_CONTROL or TW_INVALID
 * and the caller draws a one-column stand-in instead of their bytes.
 *
 * Text is bytes that should be UTF-8.  An ill-formed part (a maximal
 * subpart, as utf8_char reports it: the unit one U+FFFD replaces in a lossy
 * decode) is a cluster of its own, one column wide.
 *
 * Byte offsets in and out are offsets into s[0..n); nothing here allocates
 * except tw_cut_dup and tw_wrap. */
#ifndef INFUSE_TEXTWIDTH_H
#define INFUSE_TEXTWIDTH_H

#include <stddef.h>

#include "err.h"

/* What the caller draws for a cluster. */
typedef enum TwKind {
    TW_TEXT,        /* its bytes */
    TW_NEWLINE,     /* "\n" or "\r\n": ends a line; a stand-in when drawn on one line */
    TW_CONTROL,     /* a control or format character, or marks with nothing to sit on: a stand-in */
    TW_INVALID      /* ill-formed UTF-8: U+FFFD */
} TwKind;

typedef struct TwCluster {
    size_t len;     /* bytes; 0 only at the end of the text */
    int width;      /* columns, 1 or 2 */
    TwKind kind;
} TwCluster;

/* "…", U+2026, one column. */
#define TW_ELLIPSIS "\xe2\x80\xa6"

/* The cluster that starts at byte pos (a cluster boundary). */
TwCluster tw_cluster(const char *s, size_t n, size_t pos);

/* The cluster boundary after pos (n at the end), and the one before pos
 * (0 at the start).  pos should be a boundary; tw_next(tw_prev(p)) is the
 * end of the cluster holding any byte offset p. */
size_t tw_next(const char *s, size_t n, size_t pos);
size_t tw_prev(const char *s, size_t n, size_t pos);

/* Word motion for ctrl-right / ctrl-left.  A word is a run of clusters that
 * start with a letter, a digit or '_' (so Hangul, kana and CJK ideographs
 * are word characters).  tw_word_next skips what is not a word and then a
 * word, landing after it; tw_word_prev goes back over what is not a word and
 * then a word, landing at its start. */
size_t tw_word_next(const char *s, size_t n, size_t pos);
size_t tw_word_prev(const char *s, size_t n, size_t pos);

/* Columns of s[0..n), cluster by cluster. */
size_t tw_width(const char *s, size_t n);

/* Bytes of the longest prefix of whole clusters at most cols wide;
 * *width (if not NULL) gets its columns, which may be cols - 1 when a
 * two-column cluster does not fit in the last column. */
size_t tw_fit(const char *s, size_t n, size_t cols, size_t *width);

/* s[0..n) shown in at most cols columns: s[0..len), then TW_ELLIPSIS if
 * ellipsis is set (only when the text was cut and ellipsis was asked for).
 * width counts both. */
typedef struct TwCut {
    size_t len;
    size_t width;
    int ellipsis;
} TwCut;
TwCut tw_cut(const char *s, size_t n, size_t cols, int want_ellipsis);

/* The same as a malloc'd NUL-terminated string (NULL if out of memory). */
char *tw_cut_dup(const char *s, size_t n, size_t cols, int want_ellipsis);

/* Word wrapping into rows of at most width columns (0: no wrapping, rows
 * are the lines between newlines).  Rows break after spaces; the spaces at
 * a break stay at the end of the row before (they may reach past width,
 * the drawing cuts them); a word longer than a row is broken between
 * clusters; a cluster wider than the row gets a row of its own.
 *
 * A row is s[start, end).  The next row starts at end after a wrap, or past
 * the newline after a line's last row.  Text that is empty or ends with a
 * newline has a last, empty row at n.  A byte offset p belongs to the last
 * row with start <= p, at column tw_width(s + start, p - start). */
typedef struct TwLine {
    size_t start, end;
} TwLine;

/* The row that starts at start (0 or a row start tw_wrap_line returned):
 * returns its end and sets *next to where the following row starts (n
 * after the last row: then end == n, or end < n with a newline before n).
 * Lets a caller walk rows without allocating. */
size_t tw_wrap_line(const char *s, size_t n, size_t start, size_t width, size_t *next);

/* All rows of s[0..n), at least one, into *lines (malloc'd; the caller
 * frees it) and their count into *nlines. */
int tw_wrap(const char *s, size_t n, size_t width, TwLine **lines, size_t *nlines, Err *e);

/* The row that holds byte offset pos. */
size_t tw_wrap_find(const TwLine *lines, size_t nlines, size_t pos);

#endif
