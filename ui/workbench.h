/* workbench.h - the ncurses workbench: four panes over one project.
 *
 * The screen loop (workbench.c) owns the terminal, the project (Config and
 * the QA store, both touched only by the UI thread) and the Worker, whose
 * thread runs training, benchmarks and chat generation.  The loop sleeps in
 * poll() on the terminal and the worker's pipe; a key goes first to the
 * active pane, then to the global key table; worker events go to every pane
 * (each ignores jobs that are not its own).  A pane that changed sets
 * needs_redraw; the loop redraws only then, with one doupdate() per frame.
 *
 * Nothing here waits on the engine: a job is submitted and its results
 * arrive as events, so keys answer while training uses every core. */
#ifndef INFUSE_WORKBENCH_H
#define INFUSE_WORKBENCH_H

#include "cli.h"
#include "config.h"
#include "qa_store.h"
#include "tui.h"
#include "worker.h"

typedef struct Workbench Workbench;

/* One line of the help overlay and, when bar is set, of the status bar. */
typedef struct PaneKey {
    const char *key;    /* "a", "Ctrl-S", "PgUp" */
    const char *what;   /* the help overlay's line */
    const char *bar;    /* a word or two for the status bar, or NULL: not there */
} PaneKey;

/* A pane: a table of functions and its own state (self). */
typedef struct Pane {
    const char *name;
    void *self;
    /* Draws into the rectangle (y, x, h, w) of stdscr. */
    void (*draw)(struct Pane *p, Workbench *wb, int y, int x, int h, int w);
    /* 1 if the key was used; the pane sets needs_redraw itself. */
    int (*on_key)(struct Pane *p, Workbench *wb, wint_t key, int is_fn);
    /* A mouse click inside the pane's rectangle, in pane coordinates. */
    void (*on_click)(struct Pane *p, Workbench *wb, int row, int col);
    void (*on_event)(struct Pane *p, Workbench *wb, const WorkerEvent *ev);
    /* Called when the pane becomes the active one. */
    void (*on_show)(struct Pane *p, Workbench *wb);
    /* 1 while the pane wants every key (an editor, a search line): the
     * global keys other than Ctrl-C then do not apply. */
    int (*captures)(struct Pane *p);
    void (*destroy)(struct Pane *p);
    const PaneKey *keys;
    int needs_redraw;
} Pane;

enum { PANE_REVIEW, PANE_TRAIN, PANE_BENCH, PANE_CHAT, PANE_COUNT };

struct Workbench {
    Config cfg;
    QaStore store;
    int store_open;
    Worker *worker;
    Pane panes[PANE_COUNT];
    int active;
    int help;               /* the help overlay is shown */
    int help_scroll;        /* its first line */
    int confirm_quit;       /* asking "quit and stop the job?" */
    int pasting;            /* inside a bracketed paste */
    int paste_cr;           /* the paste's last character was '\r' */
    long paste_dropped;     /* characters of this paste no text field took */
    double paste_time;      /* when its last character came */
    int quit;
    char message[512];      /* the status line's message, "" for none */
    UiRole message_role;
    double message_time;
    int rows, cols;
    FILE *latency_log;      /* INFUSE_LATENCY_LOG: key-to-redraw times */
};

/* Runs the workbench on the project file (NULL: infuse.yaml); returns the
 * process's exit status. */
int workbench_run(const char *config_path);

/* Shows a message in the status bar until the next one (or a few seconds). */
void wb_message(Workbench *wb, UiRole role, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Switches to a pane, e.g. Bench's "show these QA records in Review". */
void wb_show_pane(Workbench *wb, int pane);

/* The panes, each in its own file. */
int review_pane_init(Pane *p, Workbench *wb, Err *e);
int train_pane_init(Pane *p, Workbench *wb, Err *e);
int bench_pane_init(Pane *p, Workbench *wb, Err *e);
int chat_pane_init(Pane *p, Workbench *wb, Err *e);

/* Review: show records matching a search (from a failed bench question). */
void review_pane_search(Pane *p, Workbench *wb, const char *text);
/* Review: a new record from Chat, pending or golden; its id or -1. */
long review_pane_add(Pane *p, Workbench *wb, const char *question, const char *answer, int golden);
/* Train finished a stage: Bench and Chat use the new adapter from now on. */
void bench_pane_adapter_changed(Pane *p, Workbench *wb, const char *stage);
void chat_pane_adapter_changed(Pane *p, Workbench *wb, const char *stage);

#endif
