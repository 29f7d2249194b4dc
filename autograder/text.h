/*
 * text.h - small string helpers for building messages and reports. Each
 * returns a new string (free it), or NULL when memory runs out.
 */
#ifndef VG_TEXT_H
#define VG_TEXT_H

/* asprintf() that returns the string. */
char *vg_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* text with every occurrence of `from` replaced by `to`. */
char *vg_text_replace(const char *text, const char *from, const char *to);

/* The first max_lines lines of text, then "[... N more lines]". */
char *vg_text_head(const char *text, int max_lines);

/* Where the last n lines of text start (a pointer into text). */
const char *vg_text_tail(const char *text, int n);

/* text without the lines that start with any of prefixes[] (NULL-ended). */
char *vg_text_drop_lines(const char *text, const char *const *prefixes);

#endif
