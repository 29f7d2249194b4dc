/*
 * images_test.c - the tests of lab 14, one group per TODO, then minictr
 * run IMAGE as a user would.
 *
 * Each test gets its own temporary directory (/tmp/mct-images-XXXXXX)
 * with an image store in it; nothing comes from a registry. The images
 * are the test rootfs (build/rootfs, tarred with tar(1)) and small layers
 * the tests write with libarchive, whiteouts included. The TODO 1-4 tests
 * call your functions directly; the others run minictr (built from your
 * images.c and the reference of every other lab).
 */
#include "mct_test.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

static void setup(void);
static void teardown(void);

TestSuite(images, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ------------------------------------------------------------- */

static char tmpdir[64]; /* this test's directory */
static char store[128]; /* tmpdir/store */

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/mct-images-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
    chmod(tmpdir, 0755);
    snprintf(store, sizeof(store), "%s/store", tmpdir);
}

static void teardown(void)
{
    if (tmpdir[0])
        mct_system((char *[]){"rm", "-rf", "--one-file-system", tmpdir, NULL});
}

/* tmpdir/name, in a static buffer per call site (4 in rotation). */
static const char *tpath(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static const char *tpath(const char *fmt, ...)
{
    static char buf[4][PATH_MAX];
    static int k;
    char rel[PATH_MAX - 128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(rel, sizeof(rel), fmt, ap);
    va_end(ap);
    k = (k + 1) % 4;
    snprintf(buf[k], PATH_MAX, "%s/%s", tmpdir, rel);
    return buf[k];
}

/* The test's own SHA-256 (independent of TODO 1). */
static void sha256_hex(const void *data, size_t len, char out[MCT_DIGEST_MAX])
{
    unsigned char h[32];
    unsigned n = 0;

    EVP_Digest(data, len, h, &n, EVP_sha256(), NULL);
    strcpy(out, "sha256:");
    for (unsigned i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", h[i]);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "we");

    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* Put data into the store as a blob; its digest into out. */
static void put_blob(const void *data, size_t len, char out[MCT_DIGEST_MAX])
{
    char path[PATH_MAX * 2];

    snprintf(path, sizeof(path), "%s/blobs", store);
    mkdir(store, 0755);
    mkdir(path, 0755);
    strcat(path, "/sha256");
    mkdir(path, 0755);
    sha256_hex(data, len, out);
    snprintf(path, sizeof(path), "%s/blobs/sha256/%s", store, out + 7);
    write_file(path, data, len);
}

static void put_json(json_t *j, char out[MCT_DIGEST_MAX], size_t *size)
{
    char *s = json_dumps(j, JSON_COMPACT);

    cr_assert_not_null(s);
    put_blob(s, strlen(s), out);
    if (size)
        *size = strlen(s);
    free(s);
    json_decref(j);
}

/* An entry of a test layer. type: 'f' file, 'd' dir, 'l' symlink to data,
 * 'h' hard link to data, 'b' block device. */
struct entry {
    const char *path;
    char type;
    const char *data;
    mode_t mode;
    uid_t uid;
};

/* Write a tar (gzip'd when gz) of the entries at path. */
static void write_tar(const char *path, bool gz, const struct entry *e,
                      size_t n)
{
    struct archive *a = archive_write_new();
    struct archive_entry *ae = archive_entry_new();

    if (gz)
        archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK, "%s",
                 archive_error_string(a));
    for (size_t i = 0; i < n; i++) {
        size_t len = e[i].type == 'f' && e[i].data ? strlen(e[i].data) : 0;

        archive_entry_clear(ae);
        archive_entry_set_pathname(ae, e[i].path);
        archive_entry_set_uid(ae, e[i].uid);
        archive_entry_set_gid(ae, e[i].uid);
        archive_entry_set_mtime(ae, 1700000000, 0);
        switch (e[i].type) {
        case 'd':
            archive_entry_set_filetype(ae, AE_IFDIR);
            archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0755);
            break;
        case 'l':
            archive_entry_set_filetype(ae, AE_IFLNK);
            archive_entry_set_perm(ae, 0777);
            archive_entry_set_symlink(ae, e[i].data);
            break;
        case 'h':
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_perm(ae, 0644);
            archive_entry_set_hardlink(ae, e[i].data);
            break;
        case 'b':
            archive_entry_set_filetype(ae, AE_IFBLK);
            archive_entry_set_perm(ae, 0600);
            archive_entry_set_rdev(ae, makedev(8, 0));
            break;
        default:
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0644);
            archive_entry_set_size(ae, (la_int64_t)len);
            break;
        }
        cr_assert_eq(archive_write_header(a, ae), ARCHIVE_OK, "%s: %s",
                     e[i].path, archive_error_string(a));
        if (len)
            cr_assert_eq(archive_write_data(a, e[i].data, len), (ssize_t)len);
    }
    archive_entry_free(ae);
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* The test rootfs as a tar (tar(1), as a student would make it). */
static const char *rootfs_tar(void)
{
    const char *t = tpath("rootfs.tar");

    if (access(t, F_OK) != 0)
        cr_assert_eq(mct_system((char *[]){"tar", "-C", (char *)mct_rootfs(),
                                           "-cf", (char *)t, ".", NULL}),
                     0, "tar of %s failed", mct_rootfs());
    return t;
}

/* minictr image CMD --store STORE ARGS... */
#define image_cli(r, cmd, ...)                                                 \
    mct_cli(r, 30, "image", cmd, "--store", store, __VA_ARGS__, NULL)

/* Import the test rootfs as `name`; its manifest digest into digest. */
static void import_rootfs(const char *name, char *digest)
{
    struct mct_result r;

    mct_require_built();
    if (name)
        image_cli(&r, "import", rootfs_tar(), name);
    else
        image_cli(&r, "import", rootfs_tar());
    cr_assert_eq(r.status, 0, "minictr image import %s %s: status %d\n%s",
                 rootfs_tar(), name, r.status, r.err);
    cr_assert(!strncmp(r.out, "sha256:", 7) && strlen(r.out) >= 71,
              "image import must print the manifest's digest, printed "
              "\"%s\"",
              r.out);
    if (digest)
        snprintf(digest, MCT_DIGEST_MAX, "%.71s", r.out);
    mct_result_free(&r);
}

/* minictr run --store STORE IMAGE -- /bin/sh -c SCRIPT */
static void run_sh(struct mct_result *r, const char *image, const char *script)
{
    mct_cli(r, 20, "run", "--store", store, image, "--", "/bin/sh", "-c",
            script, NULL);
}

/* How many entries containers/ has (minictr leaves none behind). */
static int containers_left(char *names, size_t len)
{
    char path[PATH_MAX + 16];
    struct dirent *de;
    int n = 0;
    DIR *d;

    names[0] = '\0';
    snprintf(path, sizeof(path), "%s/containers", store);
    if (!(d = opendir(path)))
        return 0;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
            n++;
            snprintf(names + strlen(names), len - strlen(names), " %s",
                     de->d_name);
        }
    closedir(d);
    return n;
}

static void assert_no_containers_left(const char *after)
{
    char names[512];
    int n = containers_left(names, sizeof(names));

    cr_assert_eq(n, 0,
                 "after %s, %s/containers still has:%s (mct_image_cleanup "
                 "must remove the container's directory on every path)",
                 after, store, names);
}

/* The digest of layer i (0: bottom) of the manifest `manifest`. */
static void layer_digest(const char *manifest, size_t i, char *out)
{
    char path[PATH_MAX * 2];
    json_t *m, *l;

    snprintf(path, sizeof(path), "%s/blobs/sha256/%s", store, manifest + 7);
    m = json_load_file(path, 0, NULL);
    cr_assert_not_null(m, "cannot read the manifest %s", path);
    l = json_array_get(json_object_get(m, "layers"), i);
    cr_assert_not_null(l, "the manifest has no layer %zu", i + 1);
    snprintf(out, MCT_DIGEST_MAX, "%s",
             json_string_value(json_object_get(l, "digest")));
    json_decref(m);
}

static void flip_last_byte(const char *digest)
{
    char path[PATH_MAX * 2];
    int fd;
    off_t end;
    unsigned char c;

    snprintf(path, sizeof(path), "%s/blobs/sha256/%s", store, digest + 7);
    fd = open(path, O_RDWR);
    cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
    end = lseek(fd, -1, SEEK_END);
    cr_assert_eq(pread(fd, &c, 1, end), 1);
    c ^= 0x01;
    cr_assert_eq(pwrite(fd, &c, 1, end), 1);
    close(fd);
}

static bool is_whiteout(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0;
}

static bool is_opaque(const char *path)
{
    char v[8] = "";

    return getxattr(path, "trusted.overlay.opaque", v, sizeof(v)) == 1 &&
           v[0] == 'y';
}

/* ---- TODO 1: content addressing ----------------------------------------- */

Test(images, sha256_names_content)
{
    char d[MCT_DIGEST_MAX], big[300000];

    write_file(tpath("abc"), "abc", 3);
    vl_assert_ok(mct_sha256_file(tpath("abc"), d));
    cr_assert_str_eq(d,
                     "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
                     "b410ff61f20015ad",
                     "sha256 of \"abc\" (FIPS 180-2's example)");
    write_file(tpath("empty"), "", 0);
    vl_assert_ok(mct_sha256_file(tpath("empty"), d));
    cr_assert_str_eq(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b9"
                        "34ca495991b7852b855");
    /* More than one block of reading. */
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7 + i / 1000);
    write_file(tpath("big"), big, sizeof(big));
    {
        char want[MCT_DIGEST_MAX];

        sha256_hex(big, sizeof(big), want);
        vl_assert_ok(mct_sha256_file(tpath("big"), d));
        cr_assert_str_eq(d, want, "sha256 of a 300000-byte file");
    }
    vl_assert_fails(mct_sha256_file(tpath("missing"), d), ENOENT, "missing");
}

Test(images, verify_refuses_corrupted_and_missing_blobs)
{
    char good[MCT_DIGEST_MAX], other[MCT_DIGEST_MAX], path[PATH_MAX * 2];

    put_blob("hello, layer", 12, good);
    vl_assert_ok(mct_blob_verify(store, good, 12, "test blob"));
    vl_assert_ok(mct_blob_verify(store, good, -1, "test blob"));
    /* The same size, another content. */
    snprintf(path, sizeof(path), "%s/blobs/sha256/%s", store, good + 7);
    write_file(path, "hello, layeR", 12);
    sha256_hex("hello, layeR", 12, other);
    vl_assert_fails(mct_blob_verify(store, good, 12, "layer 1 of x"), EBADMSG,
                    good);
    cr_assert(strstr(vl_errmsg(), "layer 1 of x") &&
                  strstr(vl_errmsg(), "corrupted") &&
                  strstr(vl_errmsg(), other),
              "the error must name the blob, what it is, and what its "
              "content hashes to (%s), got: %s",
              other, vl_errmsg());
    /* Another size than its descriptor says. */
    write_file(path, "hello, layer!", 13);
    vl_assert_fails(mct_blob_verify(store, good, 12, "layer 1 of x"), EBADMSG,
                    good);
    /* Not there at all. */
    sha256_hex("nothing", 7, other);
    vl_assert_fails(mct_blob_verify(store, other, -1, "config of x"), ENOENT,
                    other);
    /* Not a digest. */
    vl_assert_fails(mct_blob_verify(store, "md5:abc", -1, "config of x"),
                    EINVAL, "md5:abc");
}

/* ---- TODO 2: index -> manifest -> config -------------------------------- */

/* A store with image `name` of n fake layers (resolve does not read them):
 * index, manifest and config written by the test. */
static void fake_image(const char *name, size_t n, char *manifest, char *config,
                       char layers[][MCT_DIGEST_MAX],
                       char diffs[][MCT_DIGEST_MAX])
{
    json_t *ls = json_array(), *ds = json_array(), *index;
    char text[64];
    size_t size;

    for (size_t i = 0; i < n; i++) {
        snprintf(text, sizeof(text), "layer %zu of %s", i, name);
        put_blob(text, strlen(text), layers[i]);
        snprintf(text, sizeof(text), "diff %zu of %s", i, name);
        sha256_hex(text, strlen(text), diffs[i]);
        json_array_append_new(ls, json_pack("{s:s,s:s,s:I}", "mediaType",
                                            MCT_MT_LAYER_GZ, "digest",
                                            layers[i], "size", (json_int_t)0));
        json_array_append_new(ds, json_string(diffs[i]));
    }
    /* The layers' sizes: exact (resolve passes them on). */
    for (size_t i = 0; i < n; i++) {
        snprintf(text, sizeof(text), "layer %zu of %s", i, name);
        json_object_set_new(json_array_get(ls, i), "size",
                            json_integer((json_int_t)strlen(text)));
    }
    put_json(json_pack("{s:s,s:s,s:{s:s,s:o}}", "architecture", "amd64", "os",
                       "linux", "rootfs", "type", "layers", "diff_ids", ds),
             config, &size);
    put_json(json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:o}", "schemaVersion", 2,
                       "mediaType", MCT_MT_MANIFEST, "config", "mediaType",
                       MCT_MT_CONFIG, "digest", config, "size",
                       (json_int_t)size, "layers", ls),
             manifest, &size);
    index =
        json_pack("{s:i,s:[{s:s,s:s,s:I,s:{s:s}}]}", "schemaVersion", 2,
                  "manifests", "mediaType", MCT_MT_MANIFEST, "digest", manifest,
                  "size", (json_int_t)size, "annotations", MCT_REF_NAME, name);
    cr_assert_eq(json_dump_file(index, tpath("store/index.json"), 0), 0);
    json_decref(index);
}

Test(images, resolve_follows_index_manifest_config)
{
    char manifest[MCT_DIGEST_MAX], config[MCT_DIGEST_MAX];
    char layers[3][MCT_DIGEST_MAX], diffs[3][MCT_DIGEST_MAX];
    struct mct_image_desc d;

    fake_image("three", 3, manifest, config, layers, diffs);
    vl_assert_ok(mct_image_resolve(store, "three", &d));
    cr_assert_str_eq(d.manifest, manifest);
    cr_assert_str_eq(d.config, config);
    cr_assert_eq(d.nlayers, 3, "3 layers, got %zu", d.nlayers);
    for (size_t i = 0; i < 3; i++) {
        char text[64];

        snprintf(text, sizeof(text), "layer %zu of three", i);
        cr_assert_str_eq(d.layers[i], layers[i],
                         "layers[%zu] (the bottom one first, as in the "
                         "manifest)",
                         i);
        cr_assert_str_eq(d.diff_ids[i], diffs[i], "diff_ids[%zu]", i);
        cr_assert_eq(d.layer_sizes[i], (int64_t)strlen(text),
                     "layer_sizes[%zu]", i);
    }
    mct_image_desc_free(&d);
    vl_assert_fails(mct_image_resolve(store, "four", &d), ENOENT, "four");
}

Test(images, resolve_verifies_before_parsing)
{
    char manifest[MCT_DIGEST_MAX], config[MCT_DIGEST_MAX];
    char layers[1][MCT_DIGEST_MAX], diffs[1][MCT_DIGEST_MAX];
    struct mct_image_desc d;

    fake_image("one", 1, manifest, config, layers, diffs);
    /* A config that is still valid JSON, of the same size, but not the one
     * named: "amd64" -> "arm64". */
    {
        char path[PATH_MAX * 2], all[4096] = "";
        size_t len;
        FILE *f;

        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", store, config + 7);
        f = fopen(path, "re");
        cr_assert_not_null(f);
        len = fread(all, 1, sizeof(all) - 1, f);
        fclose(f);
        cr_assert_not_null(strstr(all, "amd64"));
        memcpy(strstr(all, "amd64"), "arm64", 5);
        write_file(path, all, len);
    }
    vl_assert_fails(mct_image_resolve(store, "one", &d), EBADMSG, config);
    cr_assert(strstr(vl_errmsg(), "config of one"),
              "the error must say which blob it is (\"config of one\"), got: "
              "%s",
              vl_errmsg());
    /* A manifest that is not what index.json names. */
    fake_image("two", 1, manifest, config, layers, diffs);
    flip_last_byte(manifest);
    vl_assert_fails(mct_image_resolve(store, "two", &d), EBADMSG, manifest);
    cr_assert(strstr(vl_errmsg(), "manifest of two"), "got: %s", vl_errmsg());
}

/* ---- TODO 3: whiteouts --------------------------------------------------- */

Test(images, whiteouts_become_overlayfs_whiteouts)
{
    const char *dir = tpath("layer");

    mct_require_root();
    cr_assert_eq(mkdir(dir, 0755), 0);
    /* .wh.NAME: a 0/0 character device NAME, parents made if needed. */
    cr_assert_eq(vl_assert_ok(mct_whiteout_convert(dir, "etc/ssh/.wh.config")),
                 1, "a .wh. entry is a whiteout: return 1");
    cr_assert(is_whiteout(tpath("layer/etc/ssh/config")),
              "etc/ssh/.wh.config must become the character device 0/0 "
              "etc/ssh/config (overlayfs.rst, \"whiteouts and opaque "
              "directories\")");
    cr_assert(access(tpath("layer/etc/ssh/.wh.config"), F_OK) != 0,
              "the .wh. file itself must not be in the layer");
    cr_assert_eq(vl_assert_ok(mct_whiteout_convert(dir, "./.wh.top")), 1);
    cr_assert(is_whiteout(tpath("layer/top")), "./.wh.top at the root");
    /* .wh..wh..opq: the directory becomes opaque. */
    cr_assert_eq(
        vl_assert_ok(mct_whiteout_convert(dir, "var/lib/.wh..wh..opq")), 1);
    cr_assert(is_opaque(tpath("layer/var/lib")),
              "var/lib/.wh..wh..opq must set trusted.overlay.opaque=y on "
              "var/lib");
    cr_assert(access(tpath("layer/var/lib/.wh..wh..opq"), F_OK) != 0 &&
                  access(tpath("layer/var/lib/..wh..opq"), F_OK) != 0,
              "the opaque marker is an xattr, not a file");
    /* Not whiteouts. */
    cr_assert_eq(vl_assert_ok(mct_whiteout_convert(dir, "usr/bin/env")), 0);
    cr_assert_eq(vl_assert_ok(mct_whiteout_convert(dir, "usr/.whx")), 0);
    cr_assert(access(tpath("layer/usr"), F_OK) != 0,
              "an ordinary entry is the caller's: make nothing for it");
    /* Never outside the layer. */
    vl_assert_fails(mct_whiteout_convert(dir, "../.wh.evil"), EINVAL, "evil");
    vl_assert_fails(mct_whiteout_convert(dir, "a/../../.wh.evil"), EINVAL,
                    "evil");
    cr_assert(access(tpath("evil"), F_OK) != 0, "a whiteout escaped");
    cr_assert_eq(mkdir(tpath("outside"), 0755), 0);
    cr_assert_eq(symlink(tpath("outside"), tpath("layer/link")), 0);
    vl_err_clear();
    cr_assert_lt(mct_whiteout_convert(dir, "link/.wh.evil"), 0,
                 "a whiteout under a symlink that leads out of the layer must "
                 "be refused");
    cr_assert(access(tpath("outside/evil"), F_OK) != 0,
              "a whiteout escaped through a symlink");
}

/* ---- TODO 4: unpacking --------------------------------------------------- */

Test(images, unpack_keeps_what_the_layer_says)
{
    static const struct entry e[] = {
        {"./", 'd', NULL, 0755, 0},
        {"./etc/", 'd', NULL, 0755, 0},
        {"./etc/motd", 'f', "hello from a layer\n", 0640, 0},
        {"./home/", 'd', NULL, 0755, 0},
        {"./home/user/", 'd', NULL, 0700, 1234},
        {"./home/user/notes", 'f', "mine\n", 0600, 1234},
        {"./usr/", 'd', NULL, 0755, 0},
        {"./usr/bin/", 'd', NULL, 0755, 0},
        {"./usr/bin/tool", 'f', "#!/bin/sh\n", 04755, 0},
        {"./usr/bin/alias", 'l', "tool", 0, 0},
        {"./usr/bin/hard", 'h', "./usr/bin/tool", 0, 0},
        {"./etc/.wh.shadow", 'f', "", 0, 0},
        {"./var/", 'd', NULL, 0755, 0},
        {"./var/.wh..wh..opq", 'f', "", 0, 0},
        {"./var/new", 'f', "n", 0644, 0},
    };
    struct stat st, st2;
    char buf[64] = "";
    glob_t g;
    int fd;

    mct_require_root();
    write_tar(tpath("l.tar.gz"), true, e, sizeof(e) / sizeof(e[0]));
    vl_assert_ok(mct_layer_unpack(tpath("l.tar.gz"), tpath("out")));
    fd = open(tpath("out/etc/motd"), O_RDONLY);
    cr_assert(fd >= 0, "etc/motd was not unpacked");
    cr_assert_gt(read(fd, buf, sizeof(buf) - 1), 0);
    close(fd);
    cr_assert_str_eq(buf, "hello from a layer\n");
    cr_assert_eq(lstat(tpath("out/etc/motd"), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0640,
                 "etc/motd mode %o, the layer says "
                 "0640 (ARCHIVE_EXTRACT_PERM)",
                 st.st_mode & 07777);
    cr_assert_eq(lstat(tpath("out/home/user/notes"), &st), 0);
    cr_assert_eq(st.st_uid, 1234,
                 "home/user/notes belongs to uid %u, the "
                 "layer says 1234 (ARCHIVE_EXTRACT_OWNER)",
                 st.st_uid);
    cr_assert_eq(lstat(tpath("out/usr/bin/tool"), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 04755, "setuid bit of usr/bin/tool: %o",
                 st.st_mode & 07777);
    cr_assert_eq(readlink(tpath("out/usr/bin/alias"), buf, sizeof(buf)), 4);
    cr_assert_eq(strncmp(buf, "tool", 4), 0, "the symlink usr/bin/alias");
    cr_assert_eq(lstat(tpath("out/usr/bin/hard"), &st2), 0);
    cr_assert_eq(st.st_ino, st2.st_ino, "usr/bin/hard is a hard link of tool");
    cr_assert(is_whiteout(tpath("out/etc/shadow")),
              "etc/.wh.shadow must be a whiteout (TODO 3 called for each "
              "entry)");
    cr_assert(is_opaque(tpath("out/var")), "var must be opaque");
    cr_assert_eq(access(tpath("out/var/new"), F_OK), 0,
                 "the opaque directory keeps its own entries");
    g = (glob_t){0};
    glob(tpath("out.tmp*"), 0, NULL, &g);
    cr_assert_eq(g.gl_pathc, 0, "a temporary directory was left: %s",
                 g.gl_pathv[0]);
    globfree(&g);
    /* A plain (not gzip'd) tar is a layer too. */
    write_tar(tpath("plain.tar"), false, e, 3);
    vl_assert_ok(mct_layer_unpack(tpath("plain.tar"), tpath("out2")));
    cr_assert_eq(access(tpath("out2/etc/motd"), F_OK), 0);
}

/* A bad layer: refused, with nothing left of it and nothing outside. */
static void assert_refused(const char *what, const struct entry *e, size_t n,
                           const char *escaped)
{
    const char *tar = tpath("bad.tar.gz"), *out = tpath("bad");
    glob_t g = {0};
    int r;

    write_tar(tar, true, e, n);
    vl_err_clear();
    r = mct_layer_unpack(tar, out);
    cr_assert_lt(r, 0, "a layer with %s must be refused", what);
    cr_assert_neq(r, -ENOSYS, "%s", vl_errmsg());
    if (escaped)
        cr_assert(access(escaped, F_OK) != 0,
                  "%s: %s was written outside the "
                  "layer",
                  what, escaped);
    cr_assert(access(out, F_OK) != 0,
              "after refusing a layer with %s, its directory %s must not be "
              "there (unpack into a temporary directory, rename at the end)",
              what, out);
    glob(tpath("bad.tmp*"), 0, NULL, &g);
    cr_assert_eq(g.gl_pathc, 0, "after refusing %s, %s was left", what,
                 g.gl_pathc ? g.gl_pathv[0] : "");
    globfree(&g);
}

Test(images, unpack_never_writes_outside_the_layer)
{
    char abs[PATH_MAX + 16];
    struct entry dotdot[] = {{"./ok", 'f', "x", 0, 0},
                             {"../escaped-dotdot", 'f', "x", 0, 0}};
    struct entry absolute[] = {{"./ok", 'f', "x", 0, 0}, {abs, 'f', "x", 0, 0}};
    struct entry link[] = {{"./ok", 'f', "x", 0, 0},
                           {"./up", 'l', NULL, 0, 0},
                           {"./up/escaped-link", 'f', "x", 0, 0}};
    struct entry dev[] = {{"./ok", 'f', "x", 0, 0}, {"./sda", 'b', NULL, 0, 0}};

    mct_require_root();
    snprintf(abs, sizeof(abs), "%s/escaped-abs", tmpdir);
    link[1].data = tmpdir;
    assert_refused("a ../ path", dotdot, 2, tpath("escaped-dotdot"));
    assert_refused("an absolute path", absolute, 2, abs);
    assert_refused("a path through a symlink", link, 3, tpath("escaped-link"));
    assert_refused("a block device", dev, 2, NULL);
    /* Not a tar at all. */
    write_file(tpath("junk.tar"), "this is not a tar archive\n", 26);
    vl_err_clear();
    cr_assert_lt(mct_layer_unpack(tpath("junk.tar"), tpath("junk")), 0);
    cr_assert(access(tpath("junk"), F_OK) != 0);
}

/* ---- TODOs 5-7 in-process: prepare and cleanup --------------------------- */

Test(images, prepare_stacks_the_layers_top_first)
{
    static const struct entry top[] = {{"./top-file", 'f', "t", 0, 0}};
    struct minictr ct;
    struct mct_options opt;
    char *argv[] = {"/bin/true", NULL}, want[PATH_MAX * 3], ld[2][PATH_MAX];
    char digest[MCT_DIGEST_MAX];
    struct mct_result r;
    struct stat st;

    mct_require_root();
    import_rootfs("base", NULL);
    write_tar(tpath("top.tar"), false, top, 1);
    image_cli(&r, "import", "--from", "base", tpath("top.tar"), "top");
    cr_assert_eq(r.status, 0, "%s", r.err);
    mct_result_free(&r);

    mct_test_options(&opt, argv);
    opt.rootfs = NULL;
    opt.image = "top";
    opt.store = store;
    mct_init_struct(&ct, &opt);
    ct.log = stderr;
    vl_assert_ok(mct_image_prepare(&ct));
    cr_assert_not_null(ct.image.ctr_dir);
    snprintf(want, sizeof(want), "%s/containers/%d", store, (int)getpid());
    cr_assert_str_eq(ct.image.ctr_dir, want);
    snprintf(want, sizeof(want), "%s/containers/%d/merged", store,
             (int)getpid());
    cr_assert_str_eq(ct.image.rootfs, want);
    cr_assert_eq(ct.opt.rootfs, ct.image.rootfs,
                 "opt.rootfs must point at merged/");
    for (int i = 0; i < 3; i++) {
        static const char *const sub[] = {"upper", "work", "merged"};

        snprintf(want, sizeof(want), "%s/%s", ct.image.ctr_dir, sub[i]);
        cr_assert(stat(want, &st) == 0 && S_ISDIR(st.st_mode), "no %s", want);
    }
    /* lowerdir: the top layer (with top-file) first. */
    cr_assert_eq(sscanf(ct.image.lowerdir, "%4095[^:]:%4095s", ld[0], ld[1]), 2,
                 "lowerdir \"%s\" must name 2 layers, separated by ':'",
                 ct.image.lowerdir);
    snprintf(want, sizeof(want), "%s/top-file", ld[0]);
    cr_assert_eq(access(want, F_OK), 0,
                 "lowerdir=%s: the FIRST directory must be the top layer "
                 "(overlayfs.rst: lower directories stack from the rightmost "
                 "one)",
                 ct.image.lowerdir);
    snprintf(want, sizeof(want), "%s/bin/vlab-probe", ld[1]);
    cr_assert_eq(access(want, F_OK), 0, "lowerdir=%s: the base layer last",
                 ct.image.lowerdir);
    /* TODO 7: everything goes, twice is fine. */
    snprintf(want, sizeof(want), "%s/upper/written", ct.image.ctr_dir);
    write_file(want, "x", 1);
    snprintf(want, sizeof(want), "%s/work/work", ct.image.ctr_dir);
    cr_assert_eq(mkdir(want, 0), 0); /* as overlayfs leaves it: mode 000 */
    snprintf(digest, sizeof(digest), "%s", ct.image.ctr_dir);
    mct_image_cleanup(&ct);
    cr_assert(access(digest, F_OK) != 0,
              "mct_image_cleanup must remove %s with everything in it", digest);
    cr_assert(!ct.image.ctr_dir && !ct.image.lowerdir && !ct.image.rootfs,
              "mct_image_cleanup must free the strings and set them NULL");
    mct_image_cleanup(&ct);
    mct_destroy(&ct);
}

/* ---- minictr run IMAGE ----------------------------------------------------
 */

Test(images, runs_a_container_from_an_image)
{
    struct mct_snapshot snap;
    struct mct_result r;
    char upper[PATH_MAX + 32];

    mct_require_root();
    import_rootfs("busybox", NULL);
    mct_snapshot(&snap);
    run_sh(&r, "busybox",
           "grep ' / / ' /proc/self/mountinfo; /bin/vlab-probe env | grep "
           "hostname=; echo hi > /written; cat /written");
    cr_assert_eq(r.status, 0, "minictr run --store %s busybox: status %d\n%s",
                 store, r.status, r.err);
    cr_assert(strstr(r.out, " - overlay "),
              "the container's root must be an overlay, its mountinfo "
              "says:\n%s",
              r.out);
    snprintf(upper, sizeof(upper), "upperdir=%s/containers/", store);
    cr_assert(strstr(r.out, upper) && strstr(r.out, "lowerdir=") &&
                  strstr(r.out, "workdir="),
              "the overlay needs lowerdir=, upperdir=STORE/containers/<id>/"
              "upper and workdir=; its options are:\n%s",
              r.out);
    cr_assert(strstr(r.out, "hostname=minictr") && strstr(r.out, "\nhi\n"),
              "the container ran vlab-probe and wrote /written:\n%s", r.out);
    mct_assert_no_leftovers(&snap, &r, NULL);
    assert_no_containers_left("a run");
    mct_result_free(&r);
    /* With a user namespace (as without root): refused, clearly; lab 14
     * does not do rootless overlays. */
    mct_cli(&r, 20, "run", "--userns", "--store", store, "busybox", "--",
            "/bin/true", NULL);
    cr_assert_eq(r.status, MCT_EXIT_FAILED, "run --userns IMAGE: status %d, %s",
                 r.status, r.err);
    cr_assert(strstr(r.err, "root") && strstr(r.err, "user namespace"),
              "run --userns IMAGE: the error must say images need root "
              "without a user namespace: %s",
              r.err);
    mct_result_free(&r);
    assert_no_containers_left("a refused --userns run");
}

Test(images, copy_on_write_keeps_containers_apart)
{
    char *argv[] = {(char *)mct_binary(),
                    "run",
                    "--store",
                    store,
                    "cow",
                    "--",
                    "/bin/sh",
                    "-c",
                    "echo mine > /etc/new; rm /etc/passwd; echo A-ready; "
                    "sleep 20",
                    NULL};
    struct mct_snapshot snap;
    struct mct_proc a;
    struct mct_result r, ra;
    glob_t g = {0};
    char path[PATH_MAX * 2];

    mct_require_root();
    import_rootfs("cow", NULL);
    mct_snapshot(&snap);
    mct_start_argv(&a, NULL, argv);
    cr_assert(mct_proc_wait_for(&a, "A-ready", 15),
              "container A did not start: %s", mct_proc_err(&a));
    /* A's changes are in its upper directory, a copy-up. */
    glob(tpath("store/containers/*/upper/etc/new"), 0, NULL, &g);
    cr_assert_eq(g.gl_pathc, 1,
                 "container A wrote /etc/new: it must be in its "
                 "containers/<id>/upper/etc/");
    globfree(&g);
    g = (glob_t){0};
    glob(tpath("store/containers/*/upper/etc/passwd"), 0, NULL, &g);
    cr_assert(g.gl_pathc == 1 && is_whiteout(g.gl_pathv[0]),
              "container A removed /etc/passwd: overlayfs leaves a whiteout "
              "in its upper/etc/");
    globfree(&g);
    /* B sees the image as it is. */
    run_sh(&r, "cow",
           "test -e /etc/new && echo B-sees-new; test -e /etc/passwd && "
           "echo B-has-passwd; echo B-done");
    cr_assert_eq(r.status, 0, "container B: %s", r.err);
    cr_assert(strstr(r.out, "B-done"), "container B did not run: %s", r.out);
    cr_assert_null(strstr(r.out, "B-sees-new"),
                   "container B sees the file container A wrote");
    cr_assert(strstr(r.out, "B-has-passwd"),
              "container B lost /etc/passwd when container A removed it");
    mct_result_free(&r);
    /* The image too. */
    g = (glob_t){0};
    glob(tpath("store/layers/*/etc/new"), 0, NULL, &g);
    cr_assert_eq(g.gl_pathc, 0, "a container wrote into a layer: %s",
                 g.gl_pathc ? g.gl_pathv[0] : "");
    globfree(&g);
    g = (glob_t){0};
    glob(tpath("store/layers/*/etc/passwd"), 0, NULL, &g);
    cr_assert(g.gl_pathc == 1 && !is_whiteout(g.gl_pathv[0]),
              "the image's /etc/passwd must still be there");
    globfree(&g);
    mct_proc_signal(&a, SIGTERM);
    mct_proc_finish(&a, &ra, 15);
    mct_assert_no_leftovers(&snap, NULL, NULL);
    assert_no_containers_left("two containers");
    snprintf(path, sizeof(path), "%s/etc/passwd", mct_rootfs());
    cr_assert_eq(access(path, F_OK), 0);
    mct_result_free(&ra);
}

/* base (the rootfs) + mid + top, each a layer of the image "stack". */
static void import_stack(void)
{
    static const struct entry mid[] = {
        {"./data/", 'd', NULL, 0755, 0},
        {"./data/keep", 'f', "keep\n", 0, 0},
        {"./data/gone", 'f', "gone\n", 0, 0},
        {"./data/who", 'f', "mid\n", 0, 0},
        {"./hidden/", 'd', NULL, 0755, 0},
        {"./hidden/a", 'f', "a\n", 0, 0},
        {"./hidden/b", 'f', "b\n", 0, 0},
    };
    static const struct entry top[] = {
        {"./data/", 'd', NULL, 0755, 0},
        {"./data/.wh.gone", 'f', "", 0, 0},
        {"./data/who", 'f', "top\n", 0, 0},
        {"./hidden/", 'd', NULL, 0755, 0},
        {"./hidden/.wh..wh..opq", 'f', "", 0, 0},
        {"./hidden/c", 'f', "c\n", 0, 0},
        {"./etc/", 'd', NULL, 0755, 0},
        {"./etc/.wh.hostname", 'f', "", 0, 0},
    };
    struct mct_result r;

    import_rootfs("base", NULL);
    write_tar(tpath("mid.tar"), false, mid, sizeof(mid) / sizeof(mid[0]));
    write_tar(tpath("top.tar.gz"), true, top, sizeof(top) / sizeof(top[0]));
    image_cli(&r, "import", "--from", "base", tpath("mid.tar"), "mid");
    cr_assert_eq(r.status, 0, "%s", r.err);
    mct_result_free(&r);
    image_cli(&r, "import", "--from", "mid", tpath("top.tar.gz"), "stack");
    cr_assert_eq(r.status, 0, "%s", r.err);
    mct_result_free(&r);
}

Test(images, whiteouts_hide_the_lower_layers_files)
{
    struct mct_result r;

    mct_require_root();
    import_stack();
    run_sh(&r, "stack",
           "echo hidden: $(ls /hidden); echo data: $(ls /data); "
           "test -e /etc/hostname && echo has-hostname; "
           "test -e /etc/passwd && echo has-passwd; echo end");
    cr_assert_eq(r.status, 0, "minictr run stack: %s", r.err);
    cr_assert(strstr(r.out, "end"), "%s", r.out);
    cr_assert(strstr(r.out, "has-passwd"),
              "/etc/passwd of the base layer "
              "must be there:\n%s",
              r.out);
    cr_assert_null(strstr(r.out, "has-hostname"),
                   "etc/.wh.hostname in the top layer must hide the base's "
                   "/etc/hostname:\n%s",
                   r.out);
    cr_assert(strstr(r.out, "data: keep who\n"),
              "data/.wh.gone must hide /data/gone, keep and who stay; "
              "got:\n%s",
              r.out);
    cr_assert(strstr(r.out, "hidden: c\n"),
              "hidden/.wh..wh..opq (opaque) must hide a and b of the layer "
              "below, only c of the top layer stays; got:\n%s",
              r.out);
    mct_result_free(&r);
    assert_no_containers_left("a run");
}

Test(images, the_top_layer_wins)
{
    struct mct_result r;

    mct_require_root();
    import_stack();
    run_sh(&r, "stack", "cat /data/who; echo end");
    cr_assert_eq(r.status, 0, "minictr run stack: %s", r.err);
    cr_assert(strstr(r.out, "top\n"),
              "data/who is in two layers: the container must see the top "
              "layer's (\"top\"), it saw:\n%s",
              r.out);
    mct_result_free(&r);
    run_sh(&r, "mid", "cat /data/who; ls /hidden | tr '\\n' ' '; echo end");
    cr_assert_eq(r.status, 0, "minictr run mid: %s", r.err);
    cr_assert(strstr(r.out, "mid\na b end"),
              "the image \"mid\" stops at its own layer; got:\n%s", r.out);
    mct_result_free(&r);
}

Test(images, corrupted_blobs_are_refused_by_digest)
{
    char manifest[MCT_DIGEST_MAX], layer[MCT_DIGEST_MAX];
    struct mct_snapshot snap;
    struct mct_result r;

    mct_require_root();
    import_rootfs("alpine", manifest);
    layer_digest(manifest, 0, layer);
    flip_last_byte(layer);
    mct_snapshot(&snap);
    run_sh(&r, "alpine", "echo RAN");
    cr_assert_eq(r.status, MCT_EXIT_FAILED,
                 "a corrupted layer must stop minictr (125) before the "
                 "container runs; status %d, out: %s",
                 r.status, r.out);
    cr_assert_null(strstr(r.out, "RAN"));
    cr_assert(strstr(r.err, layer) && strstr(r.err, "corrupted") &&
                  strstr(r.err, "layer 1 of alpine") &&
                  strstr(r.err, "hashes to sha256:"),
              "the error must name the blob (%s), which it is (layer 1 of "
              "alpine), and what its content hashes to; got:\n%s",
              layer, r.err);
    mct_assert_no_leftovers(&snap, &r, NULL);
    assert_no_containers_left("a refused run");
    mct_result_free(&r);
    cr_assert(access(tpath("store/layers"), F_OK) == 0);
    {
        glob_t g = {0};

        glob(tpath("store/layers/*"), 0, NULL, &g);
        cr_assert_eq(g.gl_pathc, 0,
                     "nothing of the corrupted layer may be "
                     "unpacked: %s",
                     g.gl_pathc ? g.gl_pathv[0] : "");
        globfree(&g);
    }
}

Test(images, nothing_left_after_a_failed_start)
{
    static const struct entry broken[] = {{"./bin/", 'd', NULL, 0755, 0},
                                          {"./proc", 'f', "not a dir", 0, 0}};
    struct mct_snapshot snap;
    struct mct_result r;

    mct_require_root();
    import_rootfs("ok", NULL);
    mct_snapshot(&snap);
    /* The command is not in the image: 127 from inside the container. */
    mct_cli(&r, 20, "run", "--store", store, "ok", "--", "/no/such/command",
            NULL);
    cr_assert_eq(r.status, MCT_EXIT_NOTFOUND, "status %d: %s", r.status, r.err);
    mct_assert_no_leftovers(&snap, &r, NULL);
    assert_no_containers_left("a command that is not in the image");
    mct_result_free(&r);
    /* An image whose /proc is a file: the setup fails in the child (lab
     * 10 cannot mount proc there), after the directories were made. */
    write_tar(tpath("broken.tar"), false, broken, 2);
    image_cli(&r, "import", tpath("broken.tar"), "broken");
    cr_assert_eq(r.status, 0, "%s", r.err);
    mct_result_free(&r);
    run_sh(&r, "broken", "true");
    cr_assert_eq(r.status, MCT_EXIT_FAILED, "status %d: %s", r.status, r.err);
    mct_assert_no_leftovers(&snap, &r, NULL);
    assert_no_containers_left("a container whose setup failed");
    mct_result_free(&r);
    /* An image that is not there. */
    run_sh(&r, "nope", "true");
    cr_assert_eq(r.status, MCT_EXIT_FAILED);
    cr_assert(strstr(r.err, "nope"), "%s", r.err);
    assert_no_containers_left("an unknown image");
    mct_result_free(&r);
}

/* ---- minictr image ls / rm / import ---------------------------------------
 */

static size_t count_dir(const char *rel)
{
    glob_t g = {0};
    size_t n;

    glob(tpath("%s/*", rel), 0, NULL, &g);
    n = g.gl_pathc;
    globfree(&g);
    return n;
}

Test(images, ls_and_rm_keep_shared_blobs)
{
    static const struct entry top[] = {{"./top-file", 'f', "t", 0, 0}};
    char base[MCT_DIGEST_MAX];
    struct mct_result r;

    mct_require_root();
    import_rootfs("base", base);
    write_tar(tpath("top.tar"), false, top, 1);
    image_cli(&r, "import", "--from", "base", tpath("top.tar"), "child");
    cr_assert_eq(r.status, 0, "%s", r.err);
    mct_result_free(&r);
    mct_cli(&r, 30, "image", "ls", "--store", store, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "NAME") && strstr(r.out, "base") &&
                  strstr(r.out, "child"),
              "image ls:\n%s", r.out);
    {
        char shortd[32];

        snprintf(shortd, sizeof(shortd), "%.12s", base + 7);
        cr_assert(strstr(r.out, shortd),
                  "image ls must show the manifest digest (short) %s:\n%s",
                  shortd, r.out);
    }
    mct_result_free(&r);
    /* 2 manifests, 2 configs, 2 layers; run both to unpack the layers. */
    cr_assert_eq(count_dir("store/blobs/sha256"), 6);
    run_sh(&r, "child", "true");
    cr_assert_eq(r.status, 0, "%s", r.err);
    mct_result_free(&r);
    cr_assert_eq(count_dir("store/layers"), 2);

    image_cli(&r, "rm", "base");
    cr_assert_eq(r.status, 0, "%s", r.err);
    mct_result_free(&r);
    cr_assert_eq(count_dir("store/blobs/sha256"), 4,
                 "removing base must keep the layer child still uses");
    cr_assert_eq(count_dir("store/layers"), 2);
    run_sh(&r, "child", "test -e /top-file && test -e /bin/vlab-probe");
    cr_assert_eq(r.status, 0, "child must still run after rm base: %s", r.err);
    mct_result_free(&r);
    image_cli(&r, "rm", "child");
    cr_assert_eq(r.status, 0, "%s", r.err);
    mct_result_free(&r);
    cr_assert_eq(count_dir("store/blobs/sha256"), 0);
    cr_assert_eq(count_dir("store/layers"), 0);
    image_cli(&r, "rm", "child");
    cr_assert_eq(r.status, MCT_EXIT_FAILED);
    cr_assert(strstr(r.err, "no image \"child\""), "%s", r.err);
    mct_result_free(&r);
    mct_cli(&r, 30, "image", "ls", "--store", store, NULL);
    cr_assert_eq(r.status, 0);
    cr_assert_null(strstr(r.out, "child"), "%s", r.out);
    mct_result_free(&r);
}

Test(images, rm_refuses_an_image_in_use)
{
    char *argv[] = {(char *)mct_binary(),
                    "run",
                    "--store",
                    store,
                    "busy",
                    "--",
                    "/bin/sh",
                    "-c",
                    "echo up; sleep 20",
                    NULL};
    struct mct_proc a;
    struct mct_result r, ra;

    mct_require_root();
    import_rootfs("busy", NULL);
    mct_start_argv(&a, NULL, argv);
    cr_assert(mct_proc_wait_for(&a, "up", 15), "%s", mct_proc_err(&a));
    image_cli(&r, "rm", "busy");
    cr_assert_eq(r.status, MCT_EXIT_FAILED,
                 "image rm of an image a running container uses must fail");
    cr_assert(strstr(r.err, "running container"), "%s", r.err);
    mct_result_free(&r);
    mct_proc_signal(&a, SIGTERM);
    mct_proc_finish(&a, &ra, 15);
    mct_result_free(&ra);
    image_cli(&r, "rm", "busy");
    cr_assert_eq(r.status, 0, "once it ended: %s", r.err);
    mct_result_free(&r);
}

Test(images, import_refuses_bad_input)
{
    struct mct_result r;
    char first[MCT_DIGEST_MAX];

    mct_require_built();
    write_file(tpath("notes.txt"), "this is not a tar archive\n", 26);
    image_cli(&r, "import", tpath("notes.txt"), "notes");
    cr_assert_eq(r.status, MCT_EXIT_FAILED, "importing a text file: %d",
                 r.status);
    cr_assert(strstr(r.err, "not a tar"), "%s", r.err);
    mct_result_free(&r);
    image_cli(&r, "import", tpath("missing.tar"), "missing");
    cr_assert_eq(r.status, MCT_EXIT_FAILED);
    cr_assert(strstr(r.err, "missing.tar"), "%s", r.err);
    mct_result_free(&r);
    /* NAME defaults to the tar's name; a taken name needs --force. */
    import_rootfs(NULL, first);
    mct_cli(&r, 30, "image", "ls", "--store", store, NULL);
    cr_assert(strstr(r.out, "\nrootfs "),
              "NAME defaults to the tar's name "
              "without .tar:\n%s",
              r.out);
    mct_result_free(&r);
    image_cli(&r, "import", rootfs_tar(), "rootfs");
    cr_assert_eq(r.status, MCT_EXIT_FAILED);
    cr_assert(strstr(r.err, "--force"), "%s", r.err);
    mct_result_free(&r);
    image_cli(&r, "import", "--force", rootfs_tar(), "rootfs");
    cr_assert_eq(r.status, 0, "%s", r.err);
    mct_result_free(&r);
    image_cli(&r, "import", rootfs_tar(), "bad name!");
    cr_assert_eq(r.status, MCT_EXIT_FAILED);
    mct_result_free(&r);
    cr_assert(access(tpath("store/oci-layout"), F_OK) == 0,
              "the store is an OCI image layout: oci-layout");
}

Test(images, concurrent_imports_lose_nothing)
{
    enum { N = 4 };
    struct mct_proc p[N];
    struct mct_result r;
    char names[N][16];
    json_t *index;

    mct_require_built();
    rootfs_tar();
    for (int i = 0; i < N; i++) {
        char *argv[] = {
            (char *)mct_binary(), "image",  "import", "--store", store,
            (char *)rootfs_tar(), names[i], NULL};

        snprintf(names[i], sizeof(names[i]), "img%d", i);
        mct_start_argv(&p[i], NULL, argv);
    }
    for (int i = 0; i < N; i++) {
        mct_proc_finish(&p[i], &r, 30);
        cr_assert_eq(r.status, 0, "import %d: %s", i, r.err);
        mct_result_free(&r);
    }
    index = json_load_file(tpath("store/index.json"), 0, NULL);
    cr_assert_not_null(index,
                       "index.json is not valid JSON after %d "
                       "concurrent imports",
                       N);
    cr_assert_eq(json_array_size(json_object_get(index, "manifests")), N,
                 "%d concurrent imports must give %d images (flock the "
                 "store, write index.json to a temporary file + rename)",
                 N, N);
    json_decref(index);
}
