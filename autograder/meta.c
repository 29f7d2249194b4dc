/* meta.c - what makes a grade reproducible (see meta.h). */
#define _GNU_SOURCE
#include "meta.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"
#include "text.h"
#include "virtlab/cleanup.h"
#include "virtlab/doctor.h"
#include "virtlab/error.h"

/* Asking a tool its version must not hold up grading. */
#define TOOL_LIMIT_SEC  10
#define TOOL_OUTPUT_CAP 4096

/* ---- SHA-256 (OpenSSL's EVP digest API, EVP_DigestInit_ex(3)) -------- */

static void to_hex(const unsigned char *md, unsigned len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";

    for (unsigned i = 0; i < len && i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 0xf];
    }
    hex[64] = '\0';
}

static void ctx_free(EVP_MD_CTX **ctx)
{
    EVP_MD_CTX_free(*ctx);
}

/* Feed the file's bytes to ctx; a FIFO or device is refused, not read. */
static int digest_fd(EVP_MD_CTX *ctx, const char *path)
{
    _vl_cleanup_close_ int fd =
        open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    char buf[65536];
    struct stat st;
    ssize_t n;

    if (fd < 0)
        return vl_err(errno, "hashing %s", path);
    if (fstat(fd, &st) < 0)
        return vl_err(errno, "hashing %s", path);
    if (!S_ISREG(st.st_mode))
        return vl_err_plain(EINVAL, "hashing %s: not a regular file", path);
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vl_err(errno, "hashing %s", path);
        if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
            return vl_err_plain(EIO, "hashing %s: EVP_DigestUpdate failed",
                                path);
    }
    return 0;
}

/* Start ctx, let feed() add the data, and finish into hex. */
static int sha256_of(int (*feed)(EVP_MD_CTX *, const void *), const void *arg,
                     char hex[65])
{
    __attribute__((cleanup(ctx_free))) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int ret;

    if (!ctx)
        return vl_err(ENOMEM, "starting a SHA-256 digest");
    if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
        return vl_err_plain(EIO, "EVP_DigestInit_ex(SHA-256) failed");
    if ((ret = feed(ctx, arg)) < 0)
        return ret;
    if (!EVP_DigestFinal_ex(ctx, md, &len) || len != 32)
        return vl_err_plain(EIO, "EVP_DigestFinal_ex(SHA-256) failed");
    to_hex(md, len, hex);
    return 0;
}

static int feed_file(EVP_MD_CTX *ctx, const void *path)
{
    return digest_fd(ctx, path);
}

int vg_sha256_file(const char *path, char hex[65])
{
    return sha256_of(feed_file, path, hex);
}

struct listing {
    const char *dir;
    const char *const *names;
    size_t n;
};

/* "<hex>  <name>\n" per file, exactly as sha256sum(1) prints it. */
static int feed_listing(EVP_MD_CTX *ctx, const void *arg)
{
    const struct listing *l = arg;
    char hex[65];
    int ret;

    for (size_t i = 0; i < l->n; i++) {
        _vl_cleanup_free_ char *path = vg_strfmt("%s/%s", l->dir, l->names[i]);
        _vl_cleanup_free_ char *line = NULL;

        if (!path)
            return vl_err(ENOMEM, "hashing %s", l->names[i]);
        if ((ret = vg_sha256_file(path, hex)) < 0)
            return ret;
        line = vg_strfmt("%s  %s\n", hex, l->names[i]);
        if (!line)
            return vl_err(ENOMEM, "hashing %s", l->names[i]);
        if (!EVP_DigestUpdate(ctx, line, strlen(line)))
            return vl_err_plain(EIO, "EVP_DigestUpdate failed");
    }
    return 0;
}

int vg_sha256_listing(const char *dir, const char *const *names, size_t n,
                      char hex[65])
{
    struct listing l = {.dir = dir, .names = names, .n = n};

    return sha256_of(feed_listing, &l, hex);
}

/* *out = a copy of hex, or NULL when ret says the file was unreadable. */
static int keep_digest(int ret, const char *hex, char **out)
{
    *out = NULL;
    if (ret == -ENOMEM)
        return ret;
    if (ret < 0)
        return 0;
    *out = strdup(hex);
    return *out ? 0 : vl_err(ENOMEM, "recording a digest");
}

int vg_meta_lab_hashes(const char *root, const struct vg_manifest *m,
                       struct vg_lab *lab)
{
    _vl_cleanup_free_ char *dir = vg_strfmt("%s/labs/%s", root, m->slug);
    char hex[65];
    int ret;

    if (!dir)
        return vl_err(ENOMEM, "hashing the tests of %s", m->slug);
    free(lab->tests_sha256);
    free(lab->rubric_sha256);
    ret = vg_sha256_listing(dir, (const char *const *)m->tests, m->ntests, hex);
    ret = keep_digest(ret, hex, &lab->tests_sha256);
    if (ret < 0)
        return ret;
    ret = m->path ? vg_sha256_file(m->path, hex) : -ENOENT;
    return keep_digest(ret, hex, &lab->rubric_sha256);
}

/* ---- asking tools ------------------------------------------------------ */

/*
 * Run argv; *out gets its first output line, trimmed, when it exited with
 * status 0, else NULL. Returns -ENOMEM or -EINTR only.
 */
static int first_line(const char *const *argv, char **out)
{
    static const char *const env[] = {"LC_ALL=C", NULL};
    struct vg_spawn_opts opts = {.argv = argv,
                                 .default_env = env,
                                 .limit_sec = TOOL_LIMIT_SEC,
                                 .output_cap = TOOL_OUTPUT_CAP};
    struct vg_spawn_result res;
    int ret;

    *out = NULL;
    ret = vg_spawn(&opts, &res);
    if (ret == 0 && !res.timed_out && WIFEXITED(res.wait_status) &&
        WEXITSTATUS(res.wait_status) == 0 && res.output) {
        size_t len = strcspn(res.output, "\r\n");

        while (len > 0 && res.output[len - 1] == ' ')
            len--;
        *out = strndup(res.output, len);
        if (!*out)
            ret = vl_err(ENOMEM, "asking %s", argv[0]);
    }
    vg_spawn_result_free(&res);
    return ret == -ENOMEM || ret == -EINTR ? ret : 0;
}

/* "GNU Make 4.3" -> "4.3": the last word of the line. */
static const char *last_word(const char *line)
{
    const char *sp = line ? strrchr(line, ' ') : NULL;

    return sp ? sp + 1 : line;
}

static int tools_line(char **out)
{
    static const char *const gcc[] = {"gcc", "-dumpfullversion", NULL};
    static const char *const make[] = {"make", "--version", NULL};
    static const char *const cr[] = {"pkg-config", "--modversion", "criterion",
                                     NULL};
    _vl_cleanup_free_ char *g = NULL, *mk = NULL, *c = NULL;
    struct utsname u;
    int ret;

    if ((ret = first_line(gcc, &g)) < 0 || (ret = first_line(make, &mk)) < 0 ||
        (ret = first_line(cr, &c)) < 0)
        return ret;
    if (uname(&u) < 0)
        strcpy(u.release, "unknown");
    *out =
        vg_strfmt("gcc %s; make %s; criterion %s; kernel %s", g ? g : "unknown",
                  mk ? last_word(mk) : "unknown", c ? c : "unknown", u.release);
    return *out ? 0 : vl_err(ENOMEM, "listing the tools");
}

/*
 * A student's repository is hostile input: its .git/config could name a
 * core.fsmonitor command, which `git status` would run. Turn it off; git's
 * own safe.directory check refuses a repository of another user.
 */
int vg_meta_git_commit(const char *dir, char **commit)
{
    const char *head[] = {"git",      "-C",   dir, "rev-parse",
                          "--verify", "HEAD", NULL};
    const char *status[] = {
        "git",    "-C",          dir,  "-c", "core.fsmonitor=false",
        "status", "--porcelain", "--", ".",  NULL};
    static const char *const env[] = {"LC_ALL=C", NULL};
    struct vg_spawn_opts opts = {.argv = status,
                                 .default_env = env,
                                 .limit_sec = TOOL_LIMIT_SEC,
                                 .output_cap = TOOL_OUTPUT_CAP};
    struct vg_spawn_result res;
    _vl_cleanup_free_ char *sha = NULL;
    bool dirty;
    int ret;

    *commit = NULL;
    if ((ret = first_line(head, &sha)) < 0 || !sha || strlen(sha) < 40)
        return ret;
    ret = vg_spawn(&opts, &res);
    dirty = ret == 0 && WIFEXITED(res.wait_status) &&
            WEXITSTATUS(res.wait_status) == 0 && res.output_len > 0;
    vg_spawn_result_free(&res);
    if (ret == -EINTR)
        return ret;
    *commit = dirty ? vg_strfmt("%s-dirty", sha) : vl_steal_ptr(&sha);
    return *commit ? 0 : vl_err(ENOMEM, "recording the commit");
}

/* One "id: status: summary" line per doctor check. */
static int doctor_lines(char **out)
{
    struct vl_doctor_report r;
    _vl_cleanup_free_ char *text = strdup("");

    *out = NULL;
    if (vl_doctor_run(&r) < 0) {
        *out = vg_strfmt("doctor: could not run: %s", vl_errmsg());
        return *out ? 0 : vl_err(ENOMEM, "recording the doctor's report");
    }
    for (int i = 0; text && i < r.nchecks; i++) {
        char *more = vg_strfmt(
            "%s%s%s: %s: %s", text, i ? "\n" : "", r.checks[i].id,
            vl_check_status_name(r.checks[i].status), r.checks[i].summary);

        free(text);
        text = more;
    }
    if (!text)
        return vl_err(ENOMEM, "recording the doctor's report");
    *out = vl_steal_ptr(&text);
    return 0;
}

static char *iso8601_now(void)
{
    time_t now = time(NULL);
    struct tm tm;
    char buf[32];

    if (!gmtime_r(&now, &tm) ||
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return strdup("unknown");
    return strdup(buf);
}

int vg_meta_collect(struct vg_meta *meta, const char *submission)
{
    int ret;

    meta->started = iso8601_now();
    meta->grader_version = strdup("vlab-grade " VG_VERSION);
    meta->submission = submission ? strdup(submission) : NULL;
    if (!meta->started || !meta->grader_version ||
        (submission && !meta->submission))
        return vl_err(ENOMEM, "recording the run");
    if (submission &&
        (ret = vg_meta_git_commit(submission, &meta->submission_commit)) < 0)
        return ret;
    if ((ret = tools_line(&meta->tools)) < 0)
        return ret;
    return doctor_lines(&meta->environment);
}

/* ---- the terminal's footer -------------------------------------------- */

/* The doctor's checks that are not "ok", on one line. */
static void print_environment(FILE *out, const char *env)
{
    bool any = false;

    for (const char *line = env; line && *line;) {
        size_t len = strcspn(line, "\n");
        const char *colon = memchr(line, ':', len);

        if (colon && strncmp(colon, ": ok:", 5) != 0) {
            fprintf(out, "%s%.*s", any ? "; " : "  environment: ", (int)len,
                    line);
            any = true;
        }
        line += len + (line[len] == '\n');
    }
    if (env)
        fprintf(out, "%s\n", any ? "" : "  environment: every doctor check ok");
}

void vg_meta_print_footer(FILE *out, const struct vg_result *r)
{
    const struct vg_meta *m = &r->meta;

    if (!m->grader_version)
        return; /* nothing was collected */
    fprintf(out, "\nReproducibility: %s, started %s\n", m->grader_version,
            m->started ? m->started : "?");
    if (m->submission)
        fprintf(out, "  submission: %s (%s)\n", m->submission,
                m->submission_commit ? m->submission_commit
                                     : "not a git repository");
    if (m->tools)
        fprintf(out, "  tools: %s\n", m->tools);
    print_environment(out, m->environment);
    for (size_t i = 0; i < r->nlabs; i++)
        fprintf(out, "  %s: tests sha256 %.12s, rubric sha256 %.12s\n",
                r->labs[i].slug,
                r->labs[i].tests_sha256 ? r->labs[i].tests_sha256 : "-",
                r->labs[i].rubric_sha256 ? r->labs[i].rubric_sha256 : "-");
}
