/* draw.c - text and colours on the screen (tui.h).
 *
 * Strings are drawn cluster by cluster from textwidth.h, so the columns
 * curses advances are the columns we counted: a cluster curses would draw
 * differently (a control character, a newline inside a one-line field,
 * ill-formed bytes) is replaced by a one-column stand-in first. */
#include "tui.h"

#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textwidth.h"

static int color_on;
static attr_t role_attr[UI_N_ROLES];

int ui_has_color(void) { return color_on; }

int ui_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

void ui_colors_init(void)
{
    /* monochrome: attributes that keep the roles apart without colour */
    static const attr_t mono[UI_N_ROLES] = {
        [UI_NORMAL] = A_NORMAL, [UI_TITLE] = A_BOLD,     [UI_TAB] = A_REVERSE,   [UI_STATUS] = A_REVERSE,
        [UI_KEY] = A_BOLD,      [UI_SELECT] = A_REVERSE, [UI_DIM] = A_DIM,       [UI_GOOD] = A_BOLD,
        [UI_BAD] = A_UNDERLINE, [UI_WARN] = A_BOLD,      [UI_GOLD] = A_BOLD,     [UI_ACCENT] = A_UNDERLINE,
    };
    memcpy(role_attr, mono, sizeof role_attr);
    const char *no = getenv("NO_COLOR");
    if ((no && *no) || !has_colors() || start_color() == ERR)
        return;
    use_default_colors();
    color_on = 1;
    /* pair, foreground, background (-1: the terminal's own) */
    static const struct { UiRole role; short fg, bg; attr_t extra; } pairs[] = {
        {UI_TITLE, COLOR_CYAN, -1, A_BOLD},     {UI_TAB, COLOR_WHITE, COLOR_BLUE, 0},
        {UI_STATUS, COLOR_BLACK, COLOR_CYAN, 0}, {UI_KEY, COLOR_YELLOW, -1, A_BOLD},
        {UI_SELECT, COLOR_BLACK, COLOR_CYAN, 0}, {UI_GOOD, COLOR_GREEN, -1, 0},
        {UI_BAD, COLOR_RED, -1, A_BOLD},         {UI_WARN, COLOR_YELLOW, -1, 0},
        {UI_GOLD, COLOR_YELLOW, -1, A_BOLD},     {UI_ACCENT, COLOR_MAGENTA, -1, A_BOLD},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        short pair = (short)(i + 1);
        if (init_pair(pair, pairs[i].fg, pairs[i].bg) == OK)
            role_attr[pairs[i].role] = COLOR_PAIR(pair) | pairs[i].extra;
    }
    /* the key names in the bar sit on the bar's background */
    if (init_pair(20, COLOR_BLUE, COLOR_CYAN) == OK)
        role_attr[UI_KEY] = COLOR_PAIR(20) | A_BOLD;
}

attr_t ui_attr(UiRole r) { return r >= 0 && r < UI_N_ROLES ? role_attr[r] : A_NORMAL; }

int ui_put(WINDOW *win, int y, int x, int w, const char *s, UiRole role)
{
    return s ? ui_putn(win, y, x, w, s, strlen(s), role) : 0;
}

int ui_put_row(WINDOW *win, int y, int x, int w, const char *s, size_t start, size_t end, UiRole role)
{
    while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\n'))
        end--;
    return ui_putn(win, y, x, w, s + start, end - start, role);
}

int ui_putn(WINDOW *win, int y, int x, int w, const char *s, size_t n, UiRole role)
{
    if (w <= 0 || !s)
        return 0;
    TwCut cut = tw_cut(s, n, (size_t)w, 1);
    attr_t a = ui_attr(role);
    wattron(win, a);
    wmove(win, y, x);
    size_t pos = 0, run = 0, used = 0;
    while (pos < cut.len) {
        TwCluster c = tw_cluster(s, cut.len, pos);
        if (c.len == 0)
            break;
        if (c.kind != TW_TEXT) {
            if (pos > run)
                waddnstr(win, s + run, (int)(pos - run));
            waddstr(win, c.kind == TW_INVALID && ui_utf8() ? "\xef\xbf\xbd" : " ");
            run = pos + c.len;
        }
        pos += c.len;
        used += (size_t)c.width;
    }
    if (pos > run)
        waddnstr(win, s + run, (int)(pos - run));
    if (cut.ellipsis) {
        waddstr(win, ui_utf8() ? TW_ELLIPSIS : "~");
        used++;
    }
    wattroff(win, a);
    return (int)used;
}

int ui_putw(WINDOW *win, int y, int x, int w, const char *s, UiRole role)
{
    int used = ui_put(win, y, x, w, s, role);
    if (used < w) {
        wattron(win, ui_attr(role));
        mvwhline(win, y, x + used, ' ', w - used);
        wattroff(win, ui_attr(role));
    }
    return w > 0 ? w : 0;
}

int ui_printf(WINDOW *win, int y, int x, int w, UiRole role, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ui_put(win, y, x, w, buf, role);
}

void ui_fill(WINDOW *win, int y, int x, int w, UiRole role)
{
    if (w <= 0)
        return;
    wattron(win, ui_attr(role));
    mvwhline(win, y, x, ' ', w);
    wattroff(win, ui_attr(role));
}

void ui_frame(WINDOW *win, int y, int x, int h, int w, const char *title, UiRole role)
{
    if (h < 2 || w < 2)
        return;
    mvwhline(win, y, x + 1, ACS_HLINE, w - 2);
    mvwhline(win, y + h - 1, x + 1, ACS_HLINE, w - 2);
    mvwvline(win, y + 1, x, ACS_VLINE, h - 2);
    mvwvline(win, y + 1, x + w - 1, ACS_VLINE, h - 2);
    mvwaddch(win, y, x, ACS_ULCORNER);
    mvwaddch(win, y, x + w - 1, ACS_URCORNER);
    mvwaddch(win, y + h - 1, x, ACS_LLCORNER);
    mvwaddch(win, y + h - 1, x + w - 1, ACS_LRCORNER);
    if (title && w > 6)
        ui_put(win, y, x + 2, w - 4, title, role);
}
