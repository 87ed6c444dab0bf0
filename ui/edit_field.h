/* edit_field.h - a TextEdit as a field on the screen (edit_field.c). */
#ifndef INFUSE_EDIT_FIELD_H
#define INFUSE_EDIT_FIELD_H

#include "textedit.h"
#include "tui.h"

/* A typed character (get_wch's key) as UTF-8 in buf; its length, 0 if it
 * has none in this locale. */
size_t field_key_utf8(wint_t key, char buf[8]);

/* Applies an editing key: arrows (Ctrl: by word), Home/End (Ctrl: whole
 * text), Backspace, Delete, Ctrl-W, Ctrl-Z undo, Ctrl-Y redo, Ctrl-A/E,
 * Enter (a newline when multiline), and typed characters.  width: the
 * field's wrap width (for up, down, home, end).  1 if the key was used
 * (the text or cursor may have changed), 0 if not an editing key, -1 out
 * of memory. */
int field_key(TextEdit *t, wint_t key, int is_fn, size_t width, int multiline, Err *e);

/* Draws t wrapped to w - 1 columns in the rectangle, scrolled so the
 * cursor's row shows (*scroll is the first row drawn, kept by the caller);
 * the cursor's cell in reverse video when focused. */
void field_draw(WINDOW *win, const TextEdit *t, int y, int x, int h, int w, int *scroll, int focused, UiRole role);

#endif
