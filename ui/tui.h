/* tui.h - the one place that picks the curses include, and the workbench's
 * drawing helpers on top of it.
 *
 * Every string reaches the screen through ui_put / ui_putw, which measure
 * it by display width (textwidth.h: Korean, CJK and emoji take two columns)
 * and cut it at a grapheme-cluster boundary with an ellipsis, so a long
 * question never spills into the next column and a wide character is never
 * split.  Colours are a small table of roles; with NO_COLOR set or a
 * terminal without colours every role falls back to an attribute (bold,
 * reverse, dim) that reads the same in monochrome. */
#ifndef INFUSE_TUI_H
#define INFUSE_TUI_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>
#include <stddef.h>

/* Bracketed paste (the workbench turns it on): the terminal wraps pasted
 * text in ESC [200~ ... ESC [201~, which curses gives as these two keys;
 * a newline inside a paste reaches a pane as KEY_PASTE_NEWLINE, so it
 * goes into the text instead of acting as Enter.  Codes far above the
 * ones curses gives terminfo's extended keys. */
#define KEY_PASTE_BEGIN (KEY_MAX + 0x1000)
#define KEY_PASTE_END (KEY_MAX + 0x1001)
#define KEY_PASTE_NEWLINE (KEY_MAX + 0x1002)

/* What a piece of text is, not which colour it has. */
typedef enum UiRole {
    UI_NORMAL,
    UI_TITLE,       /* pane titles, the active tab */
    UI_TAB,         /* inactive tabs */
    UI_STATUS,      /* the bottom bar */
    UI_KEY,         /* a key name in the bar or the help */
    UI_SELECT,      /* the selected row */
    UI_DIM,         /* secondary text, the previous run's lines */
    UI_GOOD,        /* approved, correct, matched keyword */
    UI_BAD,         /* rejected, wrong, missing keyword, errors */
    UI_WARN,        /* quality flags, pending */
    UI_GOLD,        /* Golden Data */
    UI_ACCENT,      /* validation line, the cursor's cell */
    UI_N_ROLES
} UiRole;

/* Starts colours (unless NO_COLOR or none available). */
void ui_colors_init(void);
int ui_has_color(void);
attr_t ui_attr(UiRole r);

/* Writes s at (y, x) in at most w columns, cut with "…" if longer;
 * returns the columns used.  Control characters are shown as spaces. */
int ui_put(WINDOW *win, int y, int x, int w, const char *s, UiRole role);
/* The same for s[0..n), which need not end in NUL. */
int ui_putn(WINDOW *win, int y, int x, int w, const char *s, size_t n, UiRole role);
/* One row of wrapped text, s[start, end) (a TwLine), without the blanks a
 * wrap leaves at its end (they would reach past w and show as "…"). */
int ui_put_row(WINDOW *win, int y, int x, int w, const char *s, size_t start, size_t end, UiRole role);
/* The same, padding with spaces to exactly w columns. */
int ui_putw(WINDOW *win, int y, int x, int w, const char *s, UiRole role);
/* printf into a line of at most w columns. */
int ui_printf(WINDOW *win, int y, int x, int w, UiRole role, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Fills a line with spaces in role's attribute. */
void ui_fill(WINDOW *win, int y, int x, int w, UiRole role);
/* A box-drawing frame with a title; ASCII when the locale is not UTF-8. */
void ui_frame(WINDOW *win, int y, int x, int h, int w, const char *title, UiRole role);
/* 1 when the terminal's locale is UTF-8 (braille and box characters). */
int ui_utf8(void);

#endif
