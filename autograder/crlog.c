/* crlog.c - Criterion's progress lines, for diagnostics (see crlog.h). */
#define _GNU_SOURCE
#include "crlog.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtlab/cleanup.h"

static const char *const progress_tags[] = {"[RUN ] ", "[PASS] ", "[FAIL] ",
                                            "[SKIP] "};

static bool is_progress(const char *line)
{
    for (size_t i = 0; i < 4; i++)
        if (strncmp(line, progress_tags[i], strlen(progress_tags[i])) == 0)
            return true;
    return false;
}

/* "SUMMARY: AddressSanitizer: ...", "x.c:7:5: runtime error: ..." */
static bool is_sanitizer(const char *line)
{
    return strncmp(line, "SUMMARY: ", 9) == 0 ||
           strstr(line, ": runtime error: ") != NULL;
}

bool vg_crlog_keep(const char *line)
{
    return is_progress(line) || is_sanitizer(line);
}

/* The test id after a progress tag: "s::t" of "[PASS] s::t: (0.00s)". */
static size_t id_length(const char *s)
{
    size_t n = strcspn(s, " \t\n");

    while (n > 0 && s[n - 1] == ':')
        n--;
    return n;
}

/* Did a later line of log end the test `id` (of length n)? */
static bool finished_later(const char *from, const char *id, size_t n)
{
    for (const char *line = from; line && *line;) {
        for (size_t k = 1; k < 4; k++) { /* the tags that end a test */
            size_t tag = strlen(progress_tags[k]);

            if (strncmp(line, progress_tags[k], tag) == 0 &&
                id_length(line + tag) == n && strncmp(line + tag, id, n) == 0)
                return true;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return false;
}

char *vg_crlog_unfinished(const char *log, int max_ids)
{
    char *list = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&list, &len);
    int found = 0;

    if (!f || !log)
        goto out;
    for (const char *line = log; line && *line;) {
        const char *next = strchr(line, '\n');
        bool started = strncmp(line, "[RUN ] ", 7) == 0;
        const char *id = started ? line + 7 : line;
        size_t n = started ? id_length(id) : 0;

        next = next ? next + 1 : NULL;
        if (n > 0 && !finished_later(next, id, n)) {
            if (found < max_ids)
                fprintf(f, "%s%.*s", found ? ", " : "", (int)n, id);
            else if (found == max_ids)
                fprintf(f, ", ...");
            found++;
        }
        line = next;
    }
out:
    if (f && fclose(f) != 0)
        found = 0;
    if (found == 0) {
        free(list);
        return NULL;
    }
    return list;
}

/* Is the line starting at `line` (length n) already in `list`? */
static bool listed(const char *list, size_t list_len, const char *line,
                   size_t n)
{
    for (const char *p = list; p && p < list + list_len;) {
        size_t len = strcspn(p, "\n");

        if (len == n && strncmp(p, line, n) == 0)
            return true;
        p += len + 1;
    }
    return false;
}

char *vg_crlog_sanitizer(const char *log, int max_lines)
{
    char *list = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&list, &len);
    int found = 0;

    if (!f || !log)
        goto out;
    for (const char *line = log; *line && found < max_lines;) {
        size_t n = strcspn(line, "\n");
        char *copy = strndup(line, n);

        fflush(f); /* so that list and len are current */
        if (copy && is_sanitizer(copy) && !listed(list, len, line, n)) {
            fprintf(f, "%s\n", copy);
            found++;
        }
        free(copy);
        line += n + (line[n] == '\n');
    }
out:
    if (f && fclose(f) != 0)
        found = 0;
    if (found == 0) {
        free(list);
        return NULL;
    }
    return list;
}

void vg_crlog_remove_socket(int runner_pid)
{
    char path[64];
    struct stat st;

    snprintf(path, sizeof(path), "/tmp/criterion_%d.sock", runner_pid);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == geteuid())
        unlink(path);
}
