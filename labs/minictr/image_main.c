/*
 * image_main.c - `minictr image import|ls|rm` (lab 14, driver code).
 *
 *   minictr image import [--store DIR] [--from BASE] [--force] ROOTFS.tar
 *                        [NAME]
 *   minictr image ls [--store DIR]
 *   minictr image rm [--store DIR] NAME...
 *
 * import writes one gzip-compressed tar layer (any tar libarchive reads,
 * plain or compressed, rewritten as pax + gzip), on top of BASE's layers
 * with --from, an image config (rootfs.diff_ids, history), a manifest and
 * an entry of index.json named NAME (the tar's name without .tar/.tgz/
 * .tar.gz by default); it prints the manifest's digest. rm removes the
 * entry, then every blob and unpacked layer no other image uses; it
 * refuses while a running container uses the image. Every change of
 * index.json happens under an exclusive flock(2) of STORE/.lock and is
 * written to a temporary file renamed over the old one, so two minictr at
 * once never leave a torn or lost update.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "minictr.h"
#include "virtlab/cleanup.h"
#include "virtlab/load.h"

static int usage(FILE *f, int status)
{
    fputs("usage: minictr image import [--store DIR] [--from BASE] [--force] "
          "ROOTFS.tar [NAME]\n"
          "       minictr image ls [--store DIR]\n"
          "       minictr image rm [--store DIR] NAME...\n"
          "The store is an OCI image layout: --store DIR, else "
          "$MINICTR_STORE, else\n/var/lib/minictr (root) or "
          "~/.local/share/minictr.\n",
          f);
    return status;
}

static int fail(void)
{
    fprintf(stderr, "minictr: image: %s\n", vl_errmsg());
    return MCT_EXIT_FAILED;
}

static void now_iso(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* mkdir -p of the layout: oci-layout, blobs/sha256, layers, containers. */
static int store_init(const char *store)
{
    static const char *const dirs[] = {"", "/blobs", "/blobs/sha256", "/layers",
                                       "/containers"};
    char path[PATH_MAX];
    int fd;

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", store, dirs[i]);
        if (mkdir(path, i == 0 ? 0711 : 0700) < 0 && errno != EEXIST)
            return vl_err(errno, "creating the store: mkdir %s", path);
    }
    snprintf(path, sizeof(path), "%s/oci-layout", store);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        int r = vl_write_full(fd, layout, strlen(layout));

        close(fd);
        if (r < 0)
            return r;
    } else if (errno != EEXIST) {
        return vl_err(errno, "creating %s", path);
    }
    return 0;
}

/* Write data to STORE/tmp-<pid>-<what>, fsync'd: the caller renames it. */
static int write_tmp(const char *store, const char *what, const void *data,
                     size_t len, char *tmp, size_t tlen)
{
    int fd, r;

    snprintf(tmp, tlen, "%s/tmp-%d-%s", store, (int)getpid(), what);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return vl_err(errno, "creating %s", tmp);
    r = vl_write_full(fd, data, len);
    if (r == 0 && fsync(fd) < 0)
        r = vl_err(errno, "fsync %s", tmp);
    close(fd);
    if (r < 0)
        unlink(tmp);
    return r;
}

/* Move the file tmp into the store under its digest; *size its size. */
static int blob_put_file(const char *store, const char *tmp,
                         char digest[MCT_DIGEST_MAX], int64_t *size)
{
    char path[PATH_MAX];
    struct stat st;
    int r;

    if ((r = mct_sha256_file(tmp, digest)) < 0 ||
        (r = mct_blob_path(store, digest, path, sizeof(path))) < 0) {
        unlink(tmp);
        return r;
    }
    if (stat(tmp, &st) < 0 || rename(tmp, path) < 0) {
        r = vl_err(errno, "storing blob %s", path);
        unlink(tmp);
        return r;
    }
    *size = st.st_size;
    return 0;
}

/* A JSON document as a blob (compact, sorted keys: one digest per
 * content). */
static int blob_put_json(const char *store, const json_t *j,
                         char digest[MCT_DIGEST_MAX], int64_t *size)
{
    char tmp[PATH_MAX];
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    int r;

    if (!s)
        return vl_err_plain(ENOMEM, "out of memory");
    r = write_tmp(store, "json", s, strlen(s), tmp, sizeof(tmp));
    free(s);
    return r < 0 ? r : blob_put_file(store, tmp, digest, size);
}

static json_t *descriptor(const char *mt, const char *digest, int64_t size)
{
    return json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest,
                     "size", (json_int_t)size);
}

/* Rewrite any tar libarchive reads into a pax tar + gzip file at out. */
static int tar_to_layer(const char *tar, const char *out)
{
    struct archive *in = archive_read_new(), *w = archive_write_new();
    struct archive_entry *e;
    size_t entries = 0;
    int r = 0, ar;

    archive_read_support_filter_all(in);
    archive_read_support_format_tar(in);
    archive_write_add_filter_gzip(w);
    archive_write_set_format_pax_restricted(w);
    if (archive_read_open_filename(in, tar, 65536) != ARCHIVE_OK) {
        r = vl_err_plain(EINVAL,
                         "%s is not a tar archive (plain, gzip, xz, "
                         "zstd...): %s",
                         tar, archive_error_string(in));
        goto out;
    }
    if (archive_write_open_filename(w, out) != ARCHIVE_OK) {
        r = vl_err_plain(EIO, "%s: %s", out, archive_error_string(w));
        goto out;
    }
    while ((ar = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
        char buf[65536];
        la_ssize_t n;

        if (ar < ARCHIVE_WARN) {
            r = vl_err_plain(EINVAL,
                             "%s is not a tar archive (plain, gzip, xz, "
                             "zstd...): %s",
                             tar, archive_error_string(in));
            goto out;
        }
        entries++;
        if (archive_write_header(w, e) < ARCHIVE_WARN) {
            r = vl_err_plain(EIO, "%s: %s", archive_entry_pathname(e),
                             archive_error_string(w));
            goto out;
        }
        while ((n = archive_read_data(in, buf, sizeof(buf))) > 0)
            if (archive_write_data(w, buf, (size_t)n) < 0) {
                r = vl_err_plain(EIO, "%s", archive_error_string(w));
                goto out;
            }
        if (n < 0) {
            r = vl_err_plain(EINVAL, "%s: %s", tar, archive_error_string(in));
            goto out;
        }
    }
    if (entries == 0)
        r = vl_err_plain(EINVAL, "%s is not a tar archive, or an empty one",
                         tar);
    else if (archive_write_close(w) != ARCHIVE_OK)
        r = vl_err_plain(EIO, "%s: %s", out, archive_error_string(w));
out:
    archive_read_free(in);
    archive_write_free(w);
    return r;
}

/* Write index.json: a temporary file, fsync, rename (atomic). */
static int write_index(const char *store, const json_t *index)
{
    char tmp[PATH_MAX], path[PATH_MAX];
    char *s = json_dumps(index, JSON_INDENT(2) | JSON_SORT_KEYS);
    int r;

    if (!s)
        return vl_err_plain(ENOMEM, "out of memory");
    r = write_tmp(store, "index.json", s, strlen(s), tmp, sizeof(tmp));
    free(s);
    if (r < 0)
        return r;
    snprintf(path, sizeof(path), "%s/index.json", store);
    if (rename(tmp, path) < 0) {
        r = vl_err(errno, "rename %s to %s", tmp, path);
        unlink(tmp);
    }
    return r;
}

/* The index entry of name (its position in manifests), or -1. */
static ssize_t find_image(const json_t *index, const char *name)
{
    size_t i;
    json_t *m;

    json_array_foreach(json_object_get(index, "manifests"), i, m)
    {
        const char *ref = json_string_value(
            json_object_get(json_object_get(m, "annotations"), MCT_REF_NAME));

        if (ref && !strcmp(ref, name))
            return (ssize_t)i;
    }
    return -1;
}

static json_t *load_blob(const char *store, const char *digest)
{
    char path[PATH_MAX];
    json_t *j = NULL;

    if (mct_blob_path(store, digest, path, sizeof(path)) == 0)
        mct_json_load(path, &j);
    return j;
}

static bool valid_name(const char *n)
{
    size_t len = strlen(n);

    return len > 0 && len <= 128 && n[0] != '.' && n[0] != '-' &&
           strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789._:-/") == len;
}

static char *default_name(const char *tar)
{
    static const char *const ext[] = {".tar.gz", ".tgz", ".tar.xz", ".tar.zst",
                                      ".tar"};
    const char *b = strrchr(tar, '/');
    char *n = strdup(b ? b + 1 : tar);

    for (size_t i = 0; n && i < sizeof(ext) / sizeof(ext[0]); i++) {
        size_t l = strlen(n), e = strlen(ext[i]);

        if (l > e && !strcmp(n + l - e, ext[i])) {
            n[l - e] = '\0';
            break;
        }
    }
    return n;
}

/* The base image's manifest and config (--from), or fresh ones. */
static int base_docs(const char *store, const char *base, json_t **layers,
                     json_t **config)
{
    struct mct_image_desc d;
    json_t *m, *c;
    int r;

    if (!base) {
        *layers = json_array();
        *config = json_pack(
            "{s:s, s:s, s:{s:[s]}, s:{s:s, s:[]}, s:[]}", "architecture",
            "amd64", "os", "linux", "config", "Env",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:"
            "/bin",
            "rootfs", "type", "layers", "diff_ids", "history");
        return 0;
    }
    if ((r = mct_image_resolve(store, base, &d)) < 0)
        return vl_err_ctx(r, "--from %s", base);
    m = load_blob(store, d.manifest);
    c = load_blob(store, d.config);
    mct_image_desc_free(&d);
    if (!m || !c) {
        json_decref(m);
        json_decref(c);
        return vl_err_plain(EINVAL, "--from %s: unreadable manifest or config",
                            base);
    }
    *layers = json_deep_copy(json_object_get(m, "layers"));
    *config = c;
    if (!json_is_array(json_object_get(c, "history")))
        json_object_set_new(c, "history", json_array());
    json_decref(m);
    return 0;
}

static int gc(const char *store, const json_t *index);

static int cmd_import(const char *store, const char *base, bool force,
                      const char *tar, const char *name)
{
    char tmp[PATH_MAX], layer[MCT_DIGEST_MAX], diff_id[MCT_DIGEST_MAX];
    char cfg_d[MCT_DIGEST_MAX], man_d[MCT_DIGEST_MAX], created[32];
    char created_by[PATH_MAX + 64];
    int64_t layer_size, cfg_size, man_size;
    json_t *index = NULL, *layers = NULL, *config = NULL, *manifest = NULL;
    ssize_t old;
    int lock, r;

    if (!valid_name(name))
        return vl_err_plain(EINVAL,
                            "\"%s\" is not a valid image name: 1-128 letters, "
                            "digits, '.', '_', '-', ':', '/'",
                            name);
    if ((r = store_init(store)) < 0)
        return r;
    if ((lock = mct_store_lock(store, LOCK_EX)) < 0)
        return lock;
    if ((r = mct_store_read_index(store, &index)) < 0)
        goto out;
    if (!index)
        index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
                          MCT_MT_INDEX, "manifests");
    old = find_image(index, name);
    if (old >= 0 && !force) {
        r = vl_err_plain(EEXIST,
                         "there is an image \"%s\" already: --force replaces "
                         "it, or give another NAME",
                         name);
        goto out;
    }
    if ((r = base_docs(store, base, &layers, &config)) < 0)
        goto out;

    /* The layer: a gzip'd tar, named by the digest of what is stored. */
    snprintf(tmp, sizeof(tmp), "%s/tmp-%d-layer", store, (int)getpid());
    if ((r = tar_to_layer(tar, tmp)) < 0) {
        unlink(tmp);
        goto out;
    }
    if ((r = mct_layer_diff_id(tmp, diff_id)) < 0 ||
        (r = blob_put_file(store, tmp, layer, &layer_size)) < 0) {
        unlink(tmp);
        goto out;
    }
    json_array_append_new(layers,
                          descriptor(MCT_MT_LAYER_GZ, layer, layer_size));

    /* The config: the diff_ids (uncompressed) and the history. */
    now_iso(created, sizeof(created));
    snprintf(created_by, sizeof(created_by), "minictr image import %s", tar);
    json_object_set_new(config, "created", json_string(created));
    json_array_append_new(
        json_object_get(json_object_get(config, "rootfs"), "diff_ids"),
        json_string(diff_id));
    json_array_append_new(
        json_object_get(config, "history"),
        json_pack("{s:s, s:s}", "created", created, "created_by", created_by));
    if ((r = blob_put_json(store, config, cfg_d, &cfg_size)) < 0)
        goto out;

    /* The manifest: the config's and the layers' descriptors. */
    manifest =
        json_pack("{s:i, s:s, s:o, s:O}", "schemaVersion", 2, "mediaType",
                  MCT_MT_MANIFEST, "config",
                  descriptor(MCT_MT_CONFIG, cfg_d, cfg_size), "layers", layers);
    if ((r = blob_put_json(store, manifest, man_d, &man_size)) < 0)
        goto out;

    /* The index entry; the one it replaces (--force) goes. */
    json_t *entry = descriptor(MCT_MT_MANIFEST, man_d, man_size);
    json_object_set_new(entry, "annotations",
                        json_pack("{s:s, s:s}", MCT_REF_NAME, name,
                                  "org.opencontainers.image.created", created));
    if (old >= 0)
        json_array_set_new(json_object_get(index, "manifests"), (size_t)old,
                           entry);
    else
        json_array_append_new(json_object_get(index, "manifests"), entry);
    if ((r = write_index(store, index)) < 0)
        goto out;
    if (old >= 0)
        gc(store, index);
    printf("%s\n", man_d);
out:
    json_decref(index);
    json_decref(layers);
    json_decref(config);
    json_decref(manifest);
    close(lock);
    return r;
}

static void human_size(int64_t n, char *buf, size_t len)
{
    if (n >= 10 << 20)
        snprintf(buf, len, "%.0fM", n / 1048576.0);
    else if (n >= 1 << 20)
        snprintf(buf, len, "%.1fM", n / 1048576.0);
    else if (n >= 1 << 10)
        snprintf(buf, len, "%.0fK", n / 1024.0);
    else
        snprintf(buf, len, "%lldB", (long long)n);
}

static int cmd_ls(const char *store)
{
    json_t *index = NULL, *m;
    size_t i;
    int lock, r;

    if (access(store, F_OK) < 0) {
        printf("%-24s %-12s %7s %6s %s\n", "NAME", "DIGEST", "SIZE", "LAYERS",
               "CREATED");
        return 0;
    }
    if ((lock = mct_store_lock(store, LOCK_SH)) < 0)
        return lock;
    r = mct_store_read_index(store, &index);
    close(lock);
    if (r < 0)
        return r;
    printf("%-24s %-12s %7s %6s %s\n", "NAME", "DIGEST", "SIZE", "LAYERS",
           "CREATED");
    json_array_foreach(json_object_get(index, "manifests"), i, m)
    {
        json_t *ann = json_object_get(m, "annotations");
        const char *name =
            json_string_value(json_object_get(ann, MCT_REF_NAME));
        const char *created = json_string_value(
            json_object_get(ann, "org.opencontainers.image.created"));
        const char *dg = json_string_value(json_object_get(m, "digest"));
        json_t *man = dg ? load_blob(store, dg) : NULL, *l;
        int64_t size = 0;
        size_t j;
        char sz[32];

        json_array_foreach(json_object_get(man, "layers"), j, l) size +=
            json_integer_value(json_object_get(l, "size"));
        human_size(size, sz, sizeof(sz));
        printf("%-24s %-12.12s %7s %6zu %s\n", name ? name : "(unnamed)",
               dg && strlen(dg) > 7 ? dg + 7 : "?", sz,
               json_array_size(json_object_get(man, "layers")),
               created ? created : "-");
        json_decref(man);
    }
    json_decref(index);
    return 0;
}

/* Is a running container using manifest digest? (containers/<pid>/image) */
static pid_t image_in_use(const char *store, const char *digest)
{
    char path[PATH_MAX], line[MCT_DIGEST_MAX + 2];
    struct dirent *de;
    pid_t user = 0;
    DIR *d;

    snprintf(path, sizeof(path), "%s/containers", store);
    if (!(d = opendir(path)))
        return 0;
    while (!user && (de = readdir(d))) {
        long pid = strtol(de->d_name, NULL, 10);
        FILE *f;

        if (pid <= 0)
            continue;
        snprintf(path, sizeof(path), "%s/containers/%s/image", store,
                 de->d_name);
        if (!(f = fopen(path, "re")))
            continue;
        if (fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\n")] = '\0';
            if (!strcmp(line, digest) &&
                (kill((pid_t)pid, 0) == 0 || errno == EPERM))
                user = (pid_t)pid;
        }
        fclose(f);
    }
    closedir(d);
    return user;
}

/* Add a blob digest to the set (a JSON object used as a set). */
static void mark(json_t *set, const char *digest)
{
    if (digest)
        json_object_set_new(set, digest, json_true());
}

/* Remove each entry of STORE/SUB (a blob, an unpacked layer) whose
 * "sha256:NAME" is not in the set keep. */
static void sweep(const char *store, const char *sub, const json_t *keep)
{
    char path[PATH_MAX], dg[300];
    struct dirent *de;
    DIR *d;

    snprintf(path, sizeof(path), "%s/%s", store, sub);
    if (!(d = opendir(path)))
        return;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(dg, sizeof(dg), "sha256:%s", de->d_name);
        if (!json_object_get(keep, dg)) {
            snprintf(path, sizeof(path), "%s/%s/%s", store, sub, de->d_name);
            mct_rmtree(path);
        }
    }
    closedir(d);
}

/* Remove every blob and unpacked layer that no image of index uses. */
static int gc(const char *store, const json_t *index)
{
    json_t *blobs = json_object(), *diffs = json_object(), *m, *l;
    size_t i, j;

    json_array_foreach(json_object_get(index, "manifests"), i, m)
    {
        const char *dg = json_string_value(json_object_get(m, "digest"));
        json_t *man = dg ? load_blob(store, dg) : NULL, *cfg;
        const char *cd = json_string_value(
            json_object_get(json_object_get(man, "config"), "digest"));

        mark(blobs, dg);
        mark(blobs, cd);
        json_array_foreach(json_object_get(man, "layers"), j, l)
            mark(blobs, json_string_value(json_object_get(l, "digest")));
        cfg = cd ? load_blob(store, cd) : NULL;
        json_array_foreach(
            json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"), j, l)
            mark(diffs, json_string_value(l));
        json_decref(man);
        json_decref(cfg);
    }
    sweep(store, "blobs/sha256", blobs);
    sweep(store, "layers", diffs);
    json_decref(blobs);
    json_decref(diffs);
    vl_err_clear();
    return 0;
}

static int cmd_rm(const char *store, char **names, int n)
{
    json_t *index = NULL;
    int lock, r = 0;

    if ((lock = mct_store_lock(store, LOCK_EX)) < 0)
        return lock;
    if ((r = mct_store_read_index(store, &index)) < 0)
        goto out;
    for (int k = 0; k < n; k++) {
        ssize_t i = index ? find_image(index, names[k]) : -1;
        const char *dg;
        pid_t user;

        if (i < 0) {
            r = vl_err_plain(ENOENT,
                             "no image \"%s\" in the store %s (minictr image "
                             "ls lists them)",
                             names[k], store);
            goto out;
        }
        dg = json_string_value(json_object_get(
            json_array_get(json_object_get(index, "manifests"), (size_t)i),
            "digest"));
        if (dg && (user = image_in_use(store, dg)) > 0) {
            r = vl_err_plain(EBUSY,
                             "image \"%s\" is used by a running container "
                             "(minictr pid %d): stop it first",
                             names[k], (int)user);
            goto out;
        }
        json_array_remove(json_object_get(index, "manifests"), (size_t)i);
    }
    if ((r = write_index(store, index)) < 0)
        goto out;
    gc(store, index);
    for (int k = 0; k < n; k++)
        printf("removed %s\n", names[k]);
out:
    json_decref(index);
    close(lock);
    return r;
}

int mct_image_cmd(int argc, char **argv)
{
    static const struct option opts[] = {
        {"store", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'f'},
        {"force", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *store_opt = NULL, *base = NULL, *cmd;
    _vl_cleanup_free_ char *store = NULL;
    _vl_cleanup_free_ char *name = NULL;
    bool force = false;
    int c, r;

    if (argc < 2)
        return usage(stderr, MCT_EXIT_FAILED);
    cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help"))
        return usage(stdout, 0);
    optind = 1;
    argc--, argv++;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            store_opt = optarg;
            break;
        case 'f':
            base = optarg;
            break;
        case 'F':
            force = true;
            break;
        case 'h':
            return usage(stdout, 0);
        default:
            return usage(stderr, MCT_EXIT_FAILED);
        }
    }
    if (!(store = mct_store_dir(store_opt)))
        return fail();
    if (!strcmp(cmd, "import")) {
        if (optind >= argc || argc - optind > 2) {
            fprintf(stderr, "minictr: image import takes ROOTFS.tar [NAME]\n");
            return usage(stderr, MCT_EXIT_FAILED);
        }
        if (access(argv[optind], R_OK) < 0) {
            vl_err(errno, "cannot read %s", argv[optind]);
            return fail();
        }
        name = optind + 1 < argc ? strdup(argv[optind + 1])
                                 : default_name(argv[optind]);
        if (!name)
            return MCT_EXIT_FAILED;
        r = cmd_import(store, base, force, argv[optind], name);
    } else if (!strcmp(cmd, "ls") || !strcmp(cmd, "list")) {
        if (optind != argc || base || force)
            return usage(stderr, MCT_EXIT_FAILED);
        r = cmd_ls(store);
    } else if (!strcmp(cmd, "rm")) {
        if (optind >= argc || base || force)
            return usage(stderr, MCT_EXIT_FAILED);
        r = cmd_rm(store, argv + optind, argc - optind);
    } else {
        fprintf(stderr, "minictr: unknown image command \"%s\"\n", cmd);
        return usage(stderr, MCT_EXIT_FAILED);
    }
    return r < 0 ? fail() : 0;
}
