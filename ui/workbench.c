/* workbench.c - the screen loop: tabs, status bar, help overlay, keys,
 * mouse, resize, and the worker's events.
 *
 * Concurrency: this is the UI thread.  It alone touches curses, the Config
 * and the QA store.  It sleeps in poll() on stdin and the worker's pipe, so
 * a key is read the moment it arrives and a training step wakes the loop
 * only to copy numbers; the worker's events are drained as a list and
 * handed to the panes here, after the worker's lock was released.
 *
 * Redraw policy: a frame is drawn only when something asked for it (a key
 * that did something, an event, a resize), erasing and drawing the whole
 * screen in one doupdate(): at 80x24 to 250x70 that is well under a
 * millisecond of curses work, and it can never leave stale cells behind.
 *
 * Latency: with INFUSE_LATENCY_LOG=FILE each key's time from being read to
 * the end of the frame that shows its effect goes to FILE, one number of
 * milliseconds per line (scripts/ui-latency.sh sums them up). */
#include "workbench.h"

#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Below this the panes cannot lay out their parts. */
#define MIN_COLS 60
#define MIN_ROWS 16

static const PaneKey global_keys[] = {
    {"1-4", "switch pane (Review, Train, Bench, Chat); F1-F4 also in a text field", NULL},
    {"Tab", "next pane (Shift-Tab: previous)", NULL},
    {"?", "this help (Up/Down scroll it, any other key closes it)", "help"},
    {"q", "quit (asks first while a job runs)", "quit"},
    {"Ctrl-L", "redraw the screen", NULL},
    {"mouse", "click a tab to switch, a row to select it, a text field to put the cursor there", NULL},
    {"paste", "goes into the open text field, line breaks too; never acts as keys", NULL},
    {NULL, NULL, NULL},
};

void wb_message(Workbench *wb, UiRole role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(wb->message, sizeof wb->message, fmt, ap);
    va_end(ap);
    wb->message_role = role;
    wb->message_time = cli_now();
}

void wb_show_pane(Workbench *wb, int pane)
{
    if (pane < 0 || pane >= PANE_COUNT)
        return;
    if (pane != wb->active)
        wb->message[0] = 0; /* a message belongs to the pane it came from */
    wb->active = pane;
    Pane *p = &wb->panes[pane];
    if (p->on_show)
        p->on_show(p, wb);
    p->needs_redraw = 1;
}

/* ---- drawing ---- */

static int draw_tabs(Workbench *wb)
{
    ui_fill(stdscr, 0, 0, wb->cols, UI_TAB);
    int x = 0;
    x += ui_put(stdscr, 0, x, wb->cols - x, " infuse ", UI_TITLE);
    for (int i = 0; i < PANE_COUNT; i++) {
        char label[48];
        snprintf(label, sizeof label, " %d %s ", i + 1, wb->panes[i].name);
        x += ui_put(stdscr, 0, x + 1, wb->cols - x - 1, label, i == wb->active ? UI_SELECT : UI_TAB) + 1;
    }
    char job[64];
    if (wb->worker && worker_current(wb->worker, job, sizeof job) > 0) {
        char right[96];
        snprintf(right, sizeof right, "%s %s ", worker_paused(wb->worker) ? "paused:" : "running:", job);
        int w = (int)strlen(right);
        if (x + 2 + w <= wb->cols)
            ui_put(stdscr, 0, wb->cols - w, w, right, UI_WARN);
    }
    return 1;
}

/* The bar: the message if there is a fresh one, else the keys of the pane. */
static void draw_status(Workbench *wb)
{
    int y = wb->rows - 1;
    ui_fill(stdscr, y, 0, wb->cols, UI_STATUS);
    if (wb->confirm_quit) {
        ui_put(stdscr, y, 1, wb->cols - 2, "A job is running. Quit and stop it? y / n", UI_WARN);
        return;
    }
    if (wb->message[0] && cli_now() - wb->message_time < 8.0) {
        ui_put(stdscr, y, 1, wb->cols - 2, wb->message, wb->message_role);
        return;
    }
    const Pane *p = &wb->panes[wb->active];
    /* the global keys at the right, always (how else would one find "?");
     * not while a field has the keys: then "?" and "q" would type */
    int right = wb->cols - 1;
    if (!(p->captures && p->captures((Pane *)p)))
        for (int i = (int)(sizeof global_keys / sizeof *global_keys) - 2; i >= 0; i--) {
            const PaneKey *k = &global_keys[i];
            if (!k->bar)
                continue;
            right -= (int)strlen(k->key) + 1 + (int)strlen(k->bar) + 2;
            int x = right + 2;
            x += ui_put(stdscr, y, x, wb->cols - x, k->key, UI_KEY);
            ui_put(stdscr, y, x + 1, wb->cols - x - 1, k->bar, UI_STATUS);
        }
    int x = 1;
    for (const PaneKey *k = p->keys; k && k->key; k++) {
        if (!k->bar)
            continue;
        int need = (int)strlen(k->key) + 1 + (int)strlen(k->bar) + 2;
        if (x + need > right)
            return;
        x += ui_put(stdscr, y, x, wb->cols - x, k->key, UI_KEY);
        x += ui_put(stdscr, y, x + 1, wb->cols - x - 1, k->bar, UI_STATUS) + 3;
    }
}

/* The help's lines: a title, then "key  what" rows, per key table. */
static int help_lines(Workbench *wb, const char **key, const char **what, int max)
{
    const Pane *p = &wb->panes[wb->active];
    static char title[64];
    snprintf(title, sizeof title, "%s pane", p->name);
    const char *titles[2] = {title, "Everywhere"};
    const PaneKey *sets[2] = {p->keys, global_keys};
    int n = 0;
    for (int s = 0; s < 2; s++) {
        if (n < max)
            key[n] = NULL, what[n++] = titles[s];
        for (const PaneKey *k = sets[s]; k && k->key && n < max; k++)
            key[n] = k->key, what[n++] = k->what;
        if (s == 0 && n < max)
            key[n] = NULL, what[n++] = "";
    }
    return n;
}

static void draw_help(Workbench *wb)
{
    int w = wb->cols - 4 < 120 ? wb->cols - 4 : 120, h = wb->rows - 3;
    int x0 = (wb->cols - w) / 2, y0 = 1;
    const char *key[128], *what[128];
    int n = help_lines(wb, key, what, 128), rows = h - 2;
    int max_scroll = n > rows ? n - rows : 0;
    if (wb->help_scroll > max_scroll)
        wb->help_scroll = max_scroll;
    for (int y = y0; y < y0 + h; y++)
        ui_fill(stdscr, y, x0, w, UI_NORMAL);
    ui_frame(stdscr, y0, x0, h, w,
             max_scroll ? " Help: Up/Down/PgUp/PgDn scroll, any other key closes " : " Help: any key closes ", UI_TITLE);
    for (int i = 0; i < rows && wb->help_scroll + i < n; i++) {
        int l = wb->help_scroll + i, y = y0 + 1 + i;
        if (!key[l]) {
            ui_put(stdscr, y, x0 + 2, w - 4, what[l], UI_TITLE);
            continue;
        }
        ui_put(stdscr, y, x0 + 3, 13, key[l], UI_KEY);
        ui_put(stdscr, y, x0 + 17, w - 19, what[l], UI_NORMAL);
    }
    if (wb->help_scroll < max_scroll)
        ui_put(stdscr, y0 + h - 1, x0 + w - 12, 9, " more... ", UI_DIM);
}

static void draw_too_small(Workbench *wb)
{
    erase();
    char msg[2][96];
    snprintf(msg[0], sizeof msg[0], "Terminal too small: %dx%d.", wb->cols, wb->rows);
    snprintf(msg[1], sizeof msg[1], "infuse needs at least %dx%d.", MIN_COLS, MIN_ROWS);
    const char *lines[4] = {msg[0], msg[1], "Make the window larger,", "or press q to quit."};
    int y = wb->rows / 2 - 2;
    for (int i = 0; i < 4; i++)
        if (y + i >= 0 && y + i < wb->rows)
            ui_put(stdscr, y + i, 0, wb->cols, lines[i], i < 2 ? UI_WARN : UI_NORMAL);
}

static void draw(Workbench *wb)
{
    getmaxyx(stdscr, wb->rows, wb->cols);
    erase();
    if (wb->cols < MIN_COLS || wb->rows < MIN_ROWS) {
        draw_too_small(wb);
    } else {
        draw_tabs(wb);
        Pane *p = &wb->panes[wb->active];
        p->draw(p, wb, 1, 0, wb->rows - 2, wb->cols);
        draw_status(wb);
        if (wb->help)
            draw_help(wb);
    }
    for (int i = 0; i < PANE_COUNT; i++)
        wb->panes[i].needs_redraw = 0;
    wnoutrefresh(stdscr);
    doupdate();
}

/* ---- input ---- */

static void request_quit(Workbench *wb)
{
    if (wb->worker && worker_busy(wb->worker))
        wb->confirm_quit = 1;
    else
        wb->quit = 1;
}

static void click(Workbench *wb, MEVENT *me)
{
    if (me->y == 0) {
        /* the tabs: " infuse " then " N Name " each after a space */
        int x = 8;
        for (int i = 0; i < PANE_COUNT; i++) {
            int w = (int)strlen(wb->panes[i].name) + 4;
            if (me->x >= x + 1 && me->x < x + 1 + w) {
                wb_show_pane(wb, i);
                return;
            }
            x += w + 1;
        }
        return;
    }
    Pane *p = &wb->panes[wb->active];
    if (p->on_click && me->y >= 1 && me->y < wb->rows - 1)
        p->on_click(p, wb, me->y - 1, me->x);
}

/* A key inside a bracketed paste: text for the field that has the keys,
 * never a command.  Without a text field the paste goes nowhere: typed
 * out as keys it would approve, reject and delete at random. */
static int paste_key(Workbench *wb, wint_t key, int is_fn)
{
    Pane *p = &wb->panes[wb->active];
    int small = wb->cols < MIN_COLS || wb->rows < MIN_ROWS;
    if (wb->help || wb->confirm_quit || small || !(p->captures && p->captures(p))) {
        wb->paste_dropped++;
        return 0;
    }
    if (is_fn)
        return 0;
    if (key == '\r' || key == '\n') {
        int lf_after_cr = key == '\n' && wb->paste_cr;
        wb->paste_cr = key == '\r';
        if (lf_after_cr)
            return 0;
        return p->on_key(p, wb, KEY_PASTE_NEWLINE, 1);
    }
    wb->paste_cr = 0;
    if (key == '\t')
        key = ' ';
    else if (key < 32 || key == 127)
        return 0;   /* a control character in pasted text is no command */
    return p->on_key(p, wb, key, 0);
}

/* 1 if the screen must be redrawn. */
static int handle_key(Workbench *wb, wint_t key, int is_fn)
{
    if (is_fn && key == KEY_RESIZE)
        return 1;
    if (is_fn && key == KEY_PASTE_BEGIN) {
        wb->pasting = 1, wb->paste_cr = 0, wb->paste_dropped = 0;
        wb->paste_time = cli_now();
        return 0;
    }
    /* a paste's end that never came (its bytes split past the escape
     * delay) must not leave every later key treated as pasted text */
    if (wb->pasting && cli_now() - wb->paste_time > 1.0)
        wb->pasting = 0;
    if (is_fn && key == KEY_PASTE_END) {
        wb->pasting = 0;
        if (wb->paste_dropped)
            wb_message(wb, UI_WARN, "paste ignored: no text field is open (Enter opens one)");
        return 1;
    }
    if (wb->pasting) {
        wb->paste_time = cli_now();
        return paste_key(wb, key, is_fn);
    }
    if (is_fn && key == KEY_MOUSE) {
        MEVENT me;
        if (getmouse(&me) == OK && (me.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED)))
            click(wb, &me);
        return 1;
    }
    if (wb->confirm_quit) {
        wb->confirm_quit = 0;
        if (!is_fn && (key == 'y' || key == 'Y')) {
            worker_cancel(wb->worker, WORKER_CURRENT);
            wb->quit = 1;
        }
        return 1;
    }
    if (wb->help) {
        int page = wb->rows - 6 > 1 ? wb->rows - 6 : 1;
        if (is_fn && (key == KEY_DOWN || key == KEY_NPAGE))
            wb->help_scroll += key == KEY_DOWN ? 1 : page;
        else if (is_fn && (key == KEY_UP || key == KEY_PPAGE))
            wb->help_scroll = wb->help_scroll > (key == KEY_UP ? 1 : page) ? wb->help_scroll - (key == KEY_UP ? 1 : page) : 0;
        else
            wb->help = 0;
        return 1;
    }
    if (!is_fn && key == 12) { /* Ctrl-L */
        clearok(curscr, TRUE);
        return 1;
    }
    /* F1-F4 belong to no pane: they switch even from a text field */
    if (is_fn && key >= KEY_F(1) && key <= KEY_F(4)) {
        wb_show_pane(wb, (int)(key - KEY_F(1)));
        return 1;
    }
    int small = wb->cols < MIN_COLS || wb->rows < MIN_ROWS;
    Pane *p = &wb->panes[wb->active];
    if (!small && p->on_key(p, wb, key, is_fn))
        return 1;
    if (!is_fn && key == 3) { /* Ctrl-C: raw mode, so no SIGINT */
        request_quit(wb);
        return 1;
    }
    /* Tab and Shift-Tab also work from a text field that passes them on
     * (Review's editor uses them itself, above) */
    if (is_fn && key == KEY_BTAB) {
        wb_show_pane(wb, (wb->active + PANE_COUNT - 1) % PANE_COUNT);
        return 1;
    }
    if (!is_fn && key == '\t') {
        wb_show_pane(wb, (wb->active + 1) % PANE_COUNT);
        return 1;
    }
    if (is_fn || (p->captures && p->captures(p)))
        return 0;
    switch (key) {
    case 'q': request_quit(wb); return 1;
    case '?': wb->help = 1, wb->help_scroll = 0; return 1;
    case '1': case '2': case '3': case '4': wb_show_pane(wb, (int)(key - '1')); return 1;
    default: return 0;
    }
}

/* Reads every key waiting; 1 if a redraw is due.  *t_key gets the time the
 * first key was read (for the latency log). */
static int read_keys(Workbench *wb, double *t_key)
{
    int redraw = 0;
    wint_t ch;
    int rc;
    while ((rc = get_wch(&ch)) != ERR) {
        if (*t_key == 0)
            *t_key = cli_now();
        redraw |= handle_key(wb, ch, rc == KEY_CODE_YES);
        if (wb->quit)
            break;
    }
    return redraw;
}

static int drain_events(Workbench *wb)
{
    WorkerEvent *list = worker_drain(wb->worker);
    for (WorkerEvent *ev = list; ev; ev = ev->next)
        for (int i = 0; i < PANE_COUNT; i++)
            if (wb->panes[i].on_event)
                wb->panes[i].on_event(&wb->panes[i], wb, ev);
    worker_events_free(list);
    return list != NULL;
}

static int any_redraw(const Workbench *wb)
{
    for (int i = 0; i < PANE_COUNT; i++)
        if (wb->panes[i].needs_redraw)
            return 1;
    return 0;
}

static SCREEN *screen;

static int screen_start(void)
{
    /* newterm, not initscr: a terminal curses does not know is an error
     * message here, not an exit inside the library */
    const char *term = getenv("TERM");
    if (!(screen = newterm(term && *term ? term : "xterm", stdout, stdin))) {
        fprintf(stderr, "infuse: cannot use the terminal \"%s\" (set TERM)\n", term ? term : "");
        return -1;
    }
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    define_key("\033[200~", KEY_PASTE_BEGIN);
    define_key("\033[201~", KEY_PASTE_END);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED, NULL);
    mouseinterval(0);
    ui_colors_init();
    return 0;
}

/* SIGTERM or SIGHUP (the terminal went away): leave the loop, stop the
 * job, compact the store and restore the terminal, as q does. */
static volatile sig_atomic_t got_term;
static void on_term(int sig) { got_term = sig; }

static int loop(Workbench *wb)
{
    draw(wb);
    /* bracketed paste on; terminals without it ignore this.  Written
     * straight to the terminal, after curses flushed its own output. */
    fputs("\033[?2004h", stdout);
    fflush(stdout);
    double message_shown = wb->message_time;
    while (!wb->quit) {
        struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = worker_fd(wb->worker), .events = POLLIN}};
        /* wake once a second while a job runs (elapsed time, the tab's
         * job name) or while a message waits to expire */
        int timeout = worker_busy(wb->worker) || wb->message[0] ? 1000 : -1;
        int n = poll(fds, 2, timeout);
        if (n < 0 && errno != EINTR)
            return -1;
        if (got_term) {
            worker_cancel(wb->worker, WORKER_CURRENT);
            break;
        }
        double t_key = 0;
        int redraw = n <= 0; /* a timeout or a signal (SIGWINCH) */
        if (n < 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
            redraw |= read_keys(wb, &t_key);
        if (fds[1].revents & POLLIN)
            redraw |= drain_events(wb);
        if (wb->message[0] && wb->message_time != message_shown) {
            message_shown = wb->message_time;
            redraw = 1;
        }
        if (wb->message[0] && cli_now() - wb->message_time >= 8.0) {
            wb->message[0] = 0;
            redraw = 1;
        }
        if (redraw || any_redraw(wb))
            draw(wb);
        if (t_key > 0 && wb->latency_log) {
            fprintf(wb->latency_log, "%.3f\n", (cli_now() - t_key) * 1e3);
            fflush(wb->latency_log);
        }
    }
    return 0;
}

static void wb_free(Workbench *wb)
{
    worker_delete(wb->worker); /* first: jobs may read the panes' models */
    for (int i = 0; i < PANE_COUNT; i++)
        if (wb->panes[i].destroy)
            wb->panes[i].destroy(&wb->panes[i]);
    if (wb->store_open) {
        Err e;
        if (wb->store.n_journal > 0 && qa_store_compact(&wb->store, &e) != 0)
            fprintf(stderr, "infuse: %s (every change is still in the journal)\n", e.msg);
        qa_store_close(&wb->store);
    }
    if (wb->latency_log)
        fclose(wb->latency_log);
    config_free(&wb->cfg);
}

int workbench_run(const char *config_path)
{
    setlocale(LC_ALL, "");
    if (!isatty(0) || !isatty(1)) {
        fprintf(stderr, "infuse: the workbench needs a terminal (infuse --help lists the headless commands)\n");
        return 2;
    }
    Workbench *wb = calloc(1, sizeof *wb);
    if (!wb)
        return 1;
    Err e;
    int rc = config_path ? config_load(&wb->cfg, config_path, &e)
                         : (config_load_optional(&wb->cfg, CONFIG_DEFAULT_PATH, &e) < 0 ? -1 : 0);
    if (rc != 0) {
        fprintf(stderr, "infuse: %s\n", e.msg);
        free(wb);
        return 1;
    }
    if (wb->cfg.qa) {
        if (qa_store_open(&wb->store, wb->cfg.qa, &e) != 0) {
            fprintf(stderr, "infuse: %s\n", e.msg);
            config_free(&wb->cfg);
            free(wb);
            return 1;
        }
        wb->store_open = 1;
    }
    const char *lat = getenv("INFUSE_LATENCY_LOG");
    if (lat && *lat)
        wb->latency_log = fopen(lat, "a");
    wb->worker = worker_new(&e);
    int (*const init[PANE_COUNT])(Pane *, Workbench *, Err *) = {review_pane_init, train_pane_init,
                                                                  bench_pane_init, chat_pane_init};
    for (int i = 0; wb->worker && i < PANE_COUNT; i++)
        if (init[i](&wb->panes[i], wb, &e) != 0) {
            worker_delete(wb->worker);
            wb->worker = NULL;
        }
    if (!wb->worker) {
        fprintf(stderr, "infuse: %s\n", e.msg);
        wb_free(wb);
        free(wb);
        return 1;
    }
    if (wb->store_open && wb->store.n_warnings)
        wb_message(wb, UI_WARN, "%s (and %zu more warnings)", wb->store.warnings[0], wb->store.n_warnings - 1);
    else if (wb->cfg.n_warnings)
        wb_message(wb, UI_WARN, "%s", wb->cfg.warnings[0]);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_term};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (screen_start() != 0) {
        wb_free(wb);
        free(wb);
        return 1;
    }
    wb_show_pane(wb, PANE_REVIEW);
    rc = loop(wb);
    fputs("\033[?2004l", stdout);
    fflush(stdout);
    endwin();
    delscreen(screen);
    wb_free(wb);
    free(wb);
    return rc == 0 ? 0 : 1;
}
