/* edit_field.c - a TextEdit on the screen: the keys every text field in the
 * workbench shares, and drawing its wrapped rows with the cursor's cell in
 * reverse video (the terminal's own cursor stays hidden, so a redraw
 * elsewhere can never leave it in the wrong place). */
#include "edit_field.h"

#include <string.h>

#include "textwidth.h"

/* ncurses names the modified arrow keys by terminfo capability:
 * kLFT5 is Ctrl-Left, kRIT3 Alt-Right and so on. */
static int key_is(wint_t key, const char *prefix)
{
    const char *name = keyname((int)key);
    return name && strncmp(name, prefix, strlen(prefix)) == 0;
}

size_t field_key_utf8(wint_t key, char buf[8])
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t n = wcrtomb(buf, (wchar_t)key, &st);
    return n == (size_t)-1 ? 0 : n;
}

int field_key(TextEdit *t, wint_t key, int is_fn, size_t width, int multiline, Err *e)
{
    int rc = 0;
    if (is_fn) {
        switch (key) {
        case KEY_LEFT: return te_left(t), 1;
        case KEY_RIGHT: return te_right(t), 1;
        case KEY_UP: return te_up(t, width) ? 1 : 0;
        case KEY_DOWN: return te_down(t, width) ? 1 : 0;
        case KEY_HOME: return te_home(t, width), 1;
        case KEY_END: return te_end(t, width), 1;
        case KEY_BACKSPACE: rc = te_backspace(t, e); break;
        case KEY_DC: rc = te_delete(t, e); break;
        case KEY_PASTE_NEWLINE: rc = te_type(t, "\n", 1, e); break;
        default:
            if (key_is(key, "kLFT"))
                return te_word_left(t), 1;
            if (key_is(key, "kRIT"))
                return te_word_right(t), 1;
            if (key_is(key, "kHOM"))
                return te_buf_start(t), 1;
            if (key_is(key, "kEND"))
                return te_buf_end(t), 1;
            return 0;
        }
        return rc < 0 ? -1 : 1;
    }
    switch (key) {
    case 1: return te_home(t, width), 1;            /* Ctrl-A */
    case 5: return te_end(t, width), 1;             /* Ctrl-E */
    case 2: return te_left(t), 1;                   /* Ctrl-B */
    case 6: return te_right(t), 1;                  /* Ctrl-F */
    case 8: case 127: rc = te_backspace(t, e); break;
    case 4: rc = te_delete(t, e); break;            /* Ctrl-D */
    case 23: rc = te_delete_word(t, e); break;      /* Ctrl-W */
    case 26: rc = te_undo(t, e); break;             /* Ctrl-Z */
    case 25: rc = te_redo(t, e); break;             /* Ctrl-Y */
    case '\r': case '\n':
        if (!multiline)
            return 0;
        rc = te_type(t, "\n", 1, e);
        break;
    default:
        if (key < 32 && key != '\t')
            return 0;
        {
            char buf[8];
            size_t n = field_key_utf8(key, buf);
            if (!n)
                return 0;
            rc = te_type(t, buf, n, e);
        }
    }
    return rc < 0 ? -1 : 1;
}

void field_draw(WINDOW *win, const TextEdit *t, int y, int x, int h, int w, int *scroll, int focused, UiRole role)
{
    if (h <= 0 || w <= 1)
        return;
    const char *s = te_text(t);
    size_t n = t->len;
    /* the row of the cursor, walking rows without allocating; the last
     * row is the one that reaches the end of the text */
    size_t start = 0, next, cur_row = 0, rows = 0;
    for (;;) {
        size_t end = tw_wrap_line(s, n, start, (size_t)w - 1, &next);
        if (start <= t->cur)
            cur_row = rows;
        rows++;
        if (end >= n || next <= start)
            break;
        start = next;
    }
    if ((int)cur_row < *scroll)
        *scroll = (int)cur_row;
    if ((int)cur_row >= *scroll + h)
        *scroll = (int)cur_row - h + 1;
    start = 0;
    for (size_t row = 0; row < rows; row++) {
        size_t end = tw_wrap_line(s, n, start, (size_t)w - 1, &next);
        int sy = (int)row - *scroll;
        if (sy >= 0 && sy < h) {
            wattron(win, ui_attr(role));
            mvwhline(win, y + sy, x, ' ', w);
            wattroff(win, ui_attr(role));
            int col = 0;
            for (size_t pos = start; pos < end;) {
                TwCluster c = tw_cluster(s, end, pos);
                if (c.len == 0 || col + c.width > w)
                    break;
                attr_t a = ui_attr(role) | (focused && pos == t->cur ? A_REVERSE : 0);
                wattron(win, a);
                if (c.kind == TW_TEXT)
                    mvwaddnstr(win, y + sy, x + col, s + pos, (int)c.len);
                else
                    mvwaddstr(win, y + sy, x + col, " ");
                wattroff(win, a);
                col += c.width;
                pos += c.len;
            }
            /* the cursor after the row's last cluster (at a newline or
             * the end of the text) */
            if (focused && row == cur_row && t->cur >= end) {
                int cc = (int)tw_width(s + start, end - start);
                if (cc < w)
                    mvwchgat(win, y + sy, x + cc, 1, A_REVERSE, 0, NULL);
            }
        }
        start = next;
    }
}
