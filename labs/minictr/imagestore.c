/*
 * imagestore.c - the plumbing of lab 14's image store (driver code).
 *
 * The store is an OCI image layout (image-spec image-layout.md):
 *
 *   STORE/oci-layout               {"imageLayoutVersion": "1.0.0"}
 *   STORE/index.json               the image index: one manifest
 *                                  descriptor per image, its name in the
 *                                  annotation org.opencontainers.image.ref.name
 *   STORE/blobs/sha256/<hex>       every manifest, config and layer, named
 *                                  by the SHA-256 of its content
 *
 * and minictr's own directories beside it:
 *
 *   STORE/layers/<hex>/            a layer unpacked (hex of its diff_id)
 *   STORE/containers/<pid>/        upper/ work/ merged/ of a running
 *                                  container, and `image` (its manifest)
 *   STORE/.lock                    flock(2): shared while a container is
 *                                  prepared, exclusive to change index.json
 *
 * The TODOs of labs/14-images (images.c) use these helpers; so do the
 * `minictr image` commands (image_main.c).
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minictr.h"
#include "virtlab/cleanup.h"
#include "virtlab/load.h"

void mct_image_desc_free(struct mct_image_desc *d)
{
    free(d->layers);
    free(d->layer_sizes);
    free(d->diff_ids);
    d->layers = NULL;
    d->layer_sizes = NULL;
    d->diff_ids = NULL;
    d->nlayers = 0;
}

char *mct_store_dir(const char *opt_store)
{
    const char *env = getenv("MINICTR_STORE");
    char *s = NULL;

    if (opt_store && *opt_store)
        s = strdup(opt_store);
    else if (env && *env)
        s = strdup(env);
    else if (geteuid() == 0)
        s = strdup("/var/lib/minictr");
    else if ((env = getenv("XDG_DATA_HOME")) && *env)
        s = asprintf(&s, "%s/minictr", env) < 0 ? NULL : s;
    else if ((env = getenv("HOME")) && *env)
        s = asprintf(&s, "%s/.local/share/minictr", env) < 0 ? NULL : s;
    else
        vl_err_plain(EINVAL, "no image store: give --store DIR or set "
                             "$MINICTR_STORE");
    /* Absolute: the layers' paths go into the overlay's options, and
     * unpacking changes the working directory. */
    if (s && s[0] != '/') {
        char cwd[PATH_MAX], *abs = NULL;

        if (getcwd(cwd, sizeof(cwd)) && asprintf(&abs, "%s/%s", cwd, s) < 0)
            abs = NULL;
        free(s);
        s = abs;
        if (!s)
            vl_err(errno ? errno : ENOMEM, "the store's absolute path");
    }
    return s;
}

static bool is_hex64(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");

    return n == 64 && s[64] == '\0';
}

int mct_blob_path(const char *store, const char *digest, char *buf, size_t len)
{
    if (!digest || strncmp(digest, "sha256:", 7) || !is_hex64(digest + 7))
        return vl_err_plain(EINVAL,
                            "\"%s\" is not a digest minictr knows: it "
                            "takes \"sha256:\" and 64 lowercase hex digits "
                            "(image-spec descriptor.md, \"Digests\")",
                            digest ? digest : "(none)");
    if ((size_t)snprintf(buf, len, "%s/blobs/sha256/%s", store, digest + 7) >=
        len)
        return vl_err_plain(ENAMETOOLONG, "store path too long: %s", store);
    return 0;
}

int mct_store_lock(const char *store, int how)
{
    char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof(path), "%s/.lock", store);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return vl_err(errno, "opening the store's lock %s", path);
    while (flock(fd, how) < 0) {
        if (errno != EINTR) {
            int e = errno;

            close(fd);
            return vl_err(e, "locking %s", path);
        }
    }
    return fd;
}

int mct_json_load(const char *path, json_t **out)
{
    _vl_cleanup_free_ void *data = NULL;
    json_error_t jerr;
    size_t len;
    int r;

    *out = NULL;
    if ((r = vl_load_file(path, 0, 1 << 20, &data, &len, NULL)) < 0)
        return r;
    *out = json_loadb(data, len, 0, &jerr);
    if (!*out)
        return vl_err_plain(EINVAL, "%s: not valid JSON: line %d: %s", path,
                            jerr.line, jerr.text);
    return 0;
}

int mct_store_read_index(const char *store, json_t **index)
{
    char path[PATH_MAX];

    *index = NULL;
    snprintf(path, sizeof(path), "%s/index.json", store);
    if (access(path, F_OK) < 0 && errno == ENOENT)
        return 0;
    return mct_json_load(path, index);
}

int mct_layer_diff_id(const char *blob, char digest[MCT_DIGEST_MAX])
{
    /* The "raw" format of libarchive hands us the decompressed stream as
     * one entry: its SHA-256 is the layer's diff_id (image-spec config.md,
     * "rootfs": "the digest over the layer's uncompressed tar"). */
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned hlen = 0;
    int r = 0;

    if (!a || !md) {
        r = vl_err_plain(ENOMEM, "out of memory");
        goto out;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_filename(a, blob, 65536) != ARCHIVE_OK ||
        archive_read_next_header(a, &e) != ARCHIVE_OK) {
        r = vl_err_plain(EINVAL, "%s: %s", blob, archive_error_string(a));
        goto out;
    }
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (;;) {
        char buf[65536];
        la_ssize_t n = archive_read_data(a, buf, sizeof(buf));

        if (n == 0)
            break;
        if (n < 0) {
            r = vl_err_plain(EINVAL, "%s: cannot decompress: %s", blob,
                             archive_error_string(a));
            goto out;
        }
        EVP_DigestUpdate(md, buf, (size_t)n);
    }
    EVP_DigestFinal_ex(md, h, &hlen);
    strcpy(digest, "sha256:");
    for (unsigned i = 0; i < hlen; i++)
        sprintf(digest + 7 + 2 * i, "%02x", h[i]);
out:
    EVP_MD_CTX_free(md);
    archive_read_free(a);
    return r;
}

static int rm_one(const char *path, const struct stat *st, int type,
                  struct FTW *ftw)
{
    (void)st, (void)ftw;
    if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
        return errno;
    return 0;
}

int mct_rmtree(const char *path)
{
    struct stat st;
    int r;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : vl_err(errno, "%s", path);
    /* Overlayfs makes work/work mode 000: root may still remove it. */
    r = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    if (r > 0)
        return vl_err(r, "removing %s", path);
    if (r < 0)
        return vl_err(errno, "removing %s", path);
    return 0;
}
