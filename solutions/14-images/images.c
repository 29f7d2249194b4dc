/*
 * images.c - minictr stage 14: images and storage.
 *
 * Until now a container's root was a directory you gave minictr (--rootfs),
 * and whatever the container wrote there stayed. An IMAGE is a read-only,
 * verifiable, shareable description of a root filesystem: a stack of
 * layers (tar archives of the files that changed), a config and a
 * manifest that names them, every piece stored under the SHA-256 of its
 * content. `minictr run IMAGE -- CMD` finds the image in the store,
 * checks every blob it reads against its digest, unpacks each layer once,
 * and gives each container an overlay: the layers below, read-only, and a
 * fresh upper directory above that takes the container's writes and is
 * removed with it. Two containers of one image share every layer and see
 * none of each other's changes.
 *
 * The store (imagestore.c, the driver, has the plumbing):
 *   STORE/index.json, STORE/blobs/sha256/<hex>   the OCI image layout
 *   STORE/layers/<hex of the diff_id>/           unpacked layers
 *   STORE/containers/<pid>/{upper,work,merged}   one per running container
 *
 * References: the OCI image spec (github.com/opencontainers/image-spec):
 * image-layout.md, descriptor.md ("Digests"), manifest.md, config.md
 * ("rootfs", "diff_ids"), layer.md ("Whiteouts"); the kernel's
 * Documentation/filesystems/overlayfs.rst ("Upper and Lower", "whiteouts
 * and opaque directories", "Multiple lower layers"); mount(2), xattr(7),
 * mknod(2); libarchive's archive_read(3), archive_write_disk(3); OpenSSL's
 * EVP_DigestInit(3). labs/14-images/README.md walks through the steps.
 */
#define MCT_LAB        "14-images"
#define MCT_STAGE_FILE "images.c"
#define _GNU_SOURCE    /* asprintf(3), O_PATH */

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "minictr.h"
#include "virtlab/cleanup.h"
#include "virtlab/mount.h"

/* The OCI whiteout prefixes (layer.md, "Whiteouts"). */
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

/* ---- TODO 1: content addressing ----------------------------------------- */

/*
 * TODO 1a: the SHA-256 of the file at path, as "sha256:" and 64 lowercase
 * hex digits, into digest.
 *
 * This is how the OCI image spec names every blob (descriptor.md,
 * "Digests"): the digest IS the name, so a blob that does not hash to its
 * name has been corrupted or tampered with. Use OpenSSL's EVP interface
 * (EVP_DigestInit(3)): EVP_MD_CTX_new(), EVP_DigestInit_ex(ctx,
 * EVP_sha256(), NULL), EVP_DigestUpdate() for each block you read,
 * EVP_DigestFinal_ex() gives the 32 bytes; print each as "%02x". Read in
 * blocks (a layer can be hundreds of MiB), free the context on every path.
 */
int mct_sha256_file(const char *path, char digest[MCT_DIGEST_MAX])
{
    /* SOLUTION BEGIN */
    /* stub: (void)path, (void)digest; */
    /* stub: return MCT_TODO(1, "hash a file with SHA-256"); */
    _vl_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    unsigned char h[EVP_MAX_MD_SIZE], buf[65536];
    unsigned hlen = 0;
    EVP_MD_CTX *md;
    ssize_t n;

    if (fd < 0)
        return vl_err(errno, "opening %s", path);
    if (!(md = EVP_MD_CTX_new()))
        return vl_err_plain(ENOMEM, "EVP_MD_CTX_new failed");
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;

            EVP_MD_CTX_free(md);
            return vl_err(e, "reading %s", path);
        }
        EVP_DigestUpdate(md, buf, (size_t)n);
    }
    EVP_DigestFinal_ex(md, h, &hlen);
    EVP_MD_CTX_free(md);
    strcpy(digest, "sha256:");
    for (unsigned i = 0; i < hlen; i++)
        sprintf(digest + 7 + 2 * i, "%02x", h[i]);
    return 0;
    /* SOLUTION END */
}

/*
 * TODO 1b: check blob `digest` of the store before anything reads it.
 *
 * - mct_blob_path() gives its path (and refuses a digest that is not
 *   "sha256:<64 hex>").
 * - A missing blob: -ENOENT, "blob <digest> (<what>) is missing".
 * - size >= 0 is the size its descriptor announced: a file of another
 *   size is corrupted (-EBADMSG, say both sizes).
 * - Hash it (TODO 1a); another digest: -EBADMSG with
 *   "blob <digest> (<what>) is corrupted: its content hashes to <got>".
 * `what` says which blob it is for the user ("layer 1 of alpine").
 */
int mct_blob_verify(const char *store, const char *digest, int64_t size,
                    const char *what)
{
    /* SOLUTION BEGIN */
    /* stub: (void)store, (void)digest, (void)size, (void)what; */
    /* stub: return MCT_TODO(1, "verify a blob against its digest"); */
    char path[PATH_MAX], got[MCT_DIGEST_MAX];
    struct stat st;
    int r;

    if ((r = mct_blob_path(store, digest, path, sizeof(path))) < 0)
        return vl_err_ctx(r, "%s", what);
    if (stat(path, &st) < 0)
        return vl_err(errno, "blob %s (%s) is missing: %s", digest, what, path);
    if (size >= 0 && st.st_size != size)
        return vl_err_plain(EBADMSG,
                            "blob %s (%s) is corrupted: it has %lld bytes, "
                            "its descriptor says %lld",
                            digest, what, (long long)st.st_size,
                            (long long)size);
    if ((r = mct_sha256_file(path, got)) < 0)
        return r;
    if (strcmp(got, digest))
        return vl_err_plain(EBADMSG,
                            "blob %s (%s) is corrupted: its content hashes "
                            "to %s",
                            digest, what, got);
    return 0;
    /* SOLUTION END */
}

/* ---- TODO 2: index -> manifest -> config -------------------------------- */
/* SOLUTION BEGIN */
/* A string member of a JSON object, or NULL. */
static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Verify blob `digest` (of size `size`), then parse it as JSON. */
static int load_blob_json(const char *store, const char *digest, int64_t size,
                          const char *what, json_t **out)
{
    char path[PATH_MAX];
    int r;

    if ((r = mct_blob_verify(store, digest, size, what)) < 0)
        return r;
    if ((r = mct_blob_path(store, digest, path, sizeof(path))) < 0)
        return r;
    if ((r = mct_json_load(path, out)) < 0)
        return vl_err_ctx(r, "%s", what);
    return 0;
}
/* SOLUTION END */

/*
 * TODO 2: find image `name` in the store and follow its chain of
 * descriptors (descriptor.md: mediaType, digest, size), verifying each
 * blob BEFORE parsing it (TODO 1b):
 *
 *   index.json  manifests[i] whose annotations[MCT_REF_NAME] is name,
 *               mediaType MCT_MT_MANIFEST        (no such image: -ENOENT)
 *   manifest    config: a descriptor of mediaType MCT_MT_CONFIG;
 *               layers: descriptors of MCT_MT_LAYER_GZ (or MCT_MT_LAYER),
 *               the bottom layer first (manifest.md "layers")
 *   config      rootfs.type "layers", rootfs.diff_ids: one per layer
 *               (config.md "rootfs")
 *
 * Fill d (calloc the three arrays, nlayers entries each); on an error
 * free what you took (mct_image_desc_free). Every error says which blob
 * and what is wrong: "config of alpine: rootfs.diff_ids has 1 entry, the
 * manifest has 2 layers". mct_store_read_index() and mct_json_load() read
 * the files; jansson (json_object_get, json_array_size, ...) walks them.
 */
int mct_image_resolve(const char *store, const char *name,
                      struct mct_image_desc *d)
{
    /* SOLUTION BEGIN */
    /* stub: (void)store, (void)name; */
    /* stub: *d = (struct mct_image_desc){0}; */
    /* stub: return MCT_TODO(2, "follow index -> manifest -> config"); */
    json_t *index = NULL, *manifest = NULL, *config = NULL, *m = NULL;
    json_t *layers;
    json_t *diff_ids, *cd;
    char what[256];
    size_t i;
    int r;

    *d = (struct mct_image_desc){0};
    if ((r = mct_store_read_index(store, &index)) < 0)
        return r;
    json_array_foreach(json_object_get(index, "manifests"), i, m)
    {
        const char *ref = jstr(json_object_get(m, "annotations"), MCT_REF_NAME);

        if (ref && !strcmp(ref, name))
            break;
    }
    if (!index || i >= json_array_size(json_object_get(index, "manifests"))) {
        r = vl_err_plain(ENOENT,
                         "no image \"%s\" in the store %s (minictr image ls "
                         "lists them; minictr image import adds one)",
                         name, store);
        goto out;
    }
    snprintf(what, sizeof(what), "manifest of %s", name);
    if (!jstr(m, "digest") || !jstr(m, "mediaType") ||
        strcmp(jstr(m, "mediaType"), MCT_MT_MANIFEST)) {
        r = vl_err_plain(EINVAL,
                         "index.json: the entry of %s is not a descriptor "
                         "of an image manifest (mediaType %s)",
                         name, MCT_MT_MANIFEST);
        goto out;
    }
    snprintf(d->manifest, sizeof(d->manifest), "%s", jstr(m, "digest"));
    r = load_blob_json(store, d->manifest,
                       json_integer_value(json_object_get(m, "size")), what,
                       &manifest);
    if (r < 0)
        goto out;

    cd = json_object_get(manifest, "config");
    layers = json_object_get(manifest, "layers");
    if (!jstr(cd, "digest") || !jstr(cd, "mediaType") ||
        strcmp(jstr(cd, "mediaType"), MCT_MT_CONFIG) ||
        !json_is_array(layers) || json_array_size(layers) == 0) {
        r = vl_err_plain(EINVAL,
                         "%s: needs a config descriptor of mediaType %s and "
                         "at least one layer (manifest.md)",
                         what, MCT_MT_CONFIG);
        goto out;
    }
    snprintf(d->config, sizeof(d->config), "%s", jstr(cd, "digest"));
    snprintf(what, sizeof(what), "config of %s", name);
    r = load_blob_json(store, d->config,
                       json_integer_value(json_object_get(cd, "size")), what,
                       &config);
    if (r < 0)
        goto out;
    diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
    if (!jstr(json_object_get(config, "rootfs"), "type") ||
        strcmp(jstr(json_object_get(config, "rootfs"), "type"), "layers") ||
        json_array_size(diff_ids) != json_array_size(layers)) {
        r = vl_err_plain(EINVAL,
                         "%s: rootfs.diff_ids has %zu entries, the manifest "
                         "has %zu layers (config.md \"rootfs\")",
                         what, json_array_size(diff_ids),
                         json_array_size(layers));
        goto out;
    }

    d->nlayers = json_array_size(layers);
    d->layers = calloc(d->nlayers, sizeof(*d->layers));
    d->diff_ids = calloc(d->nlayers, sizeof(*d->diff_ids));
    d->layer_sizes = calloc(d->nlayers, sizeof(*d->layer_sizes));
    if (!d->layers || !d->diff_ids || !d->layer_sizes) {
        r = vl_err_plain(ENOMEM, "out of memory");
        goto out;
    }
    json_array_foreach(layers, i, m)
    {
        const char *mt = jstr(m, "mediaType");
        const char *dg = jstr(m, "digest");
        const char *di = json_string_value(json_array_get(diff_ids, i));

        if (!mt || (strcmp(mt, MCT_MT_LAYER_GZ) && strcmp(mt, MCT_MT_LAYER)) ||
            !dg || !di || strlen(dg) >= MCT_DIGEST_MAX ||
            strlen(di) >= MCT_DIGEST_MAX) {
            r = vl_err_plain(EINVAL,
                             "manifest of %s: layer %zu is not a tar or "
                             "tar+gzip layer descriptor, or its diff_id is "
                             "missing",
                             name, i + 1);
            goto out;
        }
        strcpy(d->layers[i], dg);
        strcpy(d->diff_ids[i], di);
        d->layer_sizes[i] = json_integer_value(json_object_get(m, "size"));
    }
    r = 0;
out:
    if (r < 0)
        mct_image_desc_free(d);
    json_decref(index);
    json_decref(manifest);
    json_decref(config);
    return r;
    /* SOLUTION END */
}

/* ---- TODO 3: whiteouts ----------------------------------------------------
 */

/*
 * TODO 3: if the tar entry `path` (relative, as in the tar) is an OCI
 * whiteout, make the overlayfs one in the layer directory dir and return
 * 1; return 0 for an ordinary entry (the caller extracts it).
 *
 * A layer records a deletion with an empty file (layer.md, "Whiteouts"):
 * - "a/b/.wh.NAME": a/b/NAME of the layers below is deleted. Overlayfs's
 *   whiteout is a character device 0/0 named NAME (overlayfs.rst,
 *   "whiteouts and opaque directories"): mknod(a/b/NAME, S_IFCHR | 0,
 *   makedev(0, 0)).
 * - "a/b/.wh..wh..opq": a/b hides everything the layers below have in it
 *   (its own entries stay). Overlayfs's opaque directory: the xattr
 *   "trusted.overlay.opaque" = "y" on a/b (setxattr(2)).
 * Create the parent directory (0755) if the tar has not yet. Refuse
 * (-EINVAL) a path with a ".." component, or an absolute one: a whiteout
 * must not touch anything outside dir.
 */
int mct_whiteout_convert(const char *dir, const char *path)
{
    /* SOLUTION BEGIN */
    /* stub: (void)dir, (void)path; */
    /* stub: return MCT_TODO(3, "turn OCI whiteouts into overlayfs ones"); */
    char full[2 * PATH_MAX], parent[2 * PATH_MAX], real[PATH_MAX];
    char realdir[PATH_MAX];
    const char *base = strrchr(path, '/');
    size_t plen;

    base = base ? base + 1 : path;
    if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)))
        return 0;
    for (const char *c = path; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : 0)
        if (path[0] == '/' ||
            (!strncmp(c, "..", 2) && (c[2] == '/' || c[2] == '\0')))
            return vl_err_plain(
                EINVAL, "whiteout \"%s\" points outside the layer", path);
    plen = (size_t)(base - path);
    snprintf(parent, sizeof(parent), "%s/%.*s", dir, (int)plen, path);
    for (char *p = parent + strlen(dir) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(parent, 0755) < 0 && errno != EEXIST)
            return vl_err(errno, "mkdir %s", parent);
        *p = '/';
    }
    /* A symlink among the parents could lead out of the layer. */
    if (!realpath(parent, real) || !realpath(dir, realdir))
        return vl_err(errno, "whiteout %s: resolving %s", path, parent);
    if (strncmp(real, realdir, strlen(realdir)) ||
        (real[strlen(realdir)] && real[strlen(realdir)] != '/'))
        return vl_err_plain(EINVAL,
                            "whiteout \"%s\" points outside the layer "
                            "(through a symlink)",
                            path);
    if (!strcmp(base, WH_OPAQUE)) {
        if (setxattr(real, "trusted.overlay.opaque", "y", 1, 0) < 0)
            return vl_err(errno, "marking %s opaque", real);
        return 1;
    }
    snprintf(full, sizeof(full), "%s/%s", real, base + strlen(WH_PREFIX));
    if (unlink(full) < 0 && errno != ENOENT && errno != EISDIR)
        return vl_err(errno, "whiteout %s: removing %s", path, full);
    if (mknod(full, S_IFCHR | 0, makedev(0, 0)) < 0)
        return vl_err(errno, "whiteout %s: mknod %s", path, full);
    return 1;
    /* SOLUTION END */
}

/* ---- TODO 4: unpacking a layer ------------------------------------------- */
/* SOLUTION BEGIN */
/* Overlayfs's own xattrs in a layer would let an image steer the overlay
 * (redirects, fake opaque directories, metacopy): refuse them. */
static int check_entry(struct archive_entry *e, const char *path)
{
    const char *name;
    const void *value;
    size_t size;
    mode_t type = archive_entry_filetype(e);

    if (type == AE_IFCHR || type == AE_IFBLK)
        return vl_err_plain(EPERM,
                            "\"%s\" is a device node: minictr refuses "
                            "devices in images (the container gets its own "
                            "/dev, lab 10)",
                            path);
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
        if (!strncmp(name, "trusted.overlay.", 16) ||
            !strncmp(name, "user.overlay.", 13))
            return vl_err_plain(EPERM, "\"%s\" carries the overlayfs xattr %s",
                                path, name);
    return 0;
}

/* Extract the entries of blob into the current directory. */
static int extract_all(struct archive *a, struct archive *disk, const char *dir)
{
    struct archive_entry *e;
    int r;

    while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
        const char *path = archive_entry_pathname(e);
        const void *buf;
        size_t len;
        la_int64_t off;

        if (r < ARCHIVE_WARN)
            return vl_err_plain(EINVAL, "not a valid tar: %s",
                                archive_error_string(a));
        if ((r = mct_whiteout_convert(dir, path)) < 0)
            return r;
        if (r == 1)
            continue;
        if ((r = check_entry(e, path)) < 0)
            return r;
        if (archive_write_header(disk, e) < ARCHIVE_WARN)
            return vl_err_plain(EPERM, "\"%s\": %s", path,
                                archive_error_string(disk));
        while (archive_entry_size(e) > 0 &&
               (r = archive_read_data_block(a, &buf, &len, &off)) !=
                   ARCHIVE_EOF) {
            if (r < ARCHIVE_WARN)
                return vl_err_plain(EINVAL, "\"%s\": %s", path,
                                    archive_error_string(a));
            if (archive_write_data_block(disk, buf, len, off) < ARCHIVE_WARN)
                return vl_err_plain(EIO, "\"%s\": %s", path,
                                    archive_error_string(disk));
        }
        if (archive_write_finish_entry(disk) < ARCHIVE_WARN)
            return vl_err_plain(EIO, "\"%s\": %s", path,
                                archive_error_string(disk));
    }
    return 0;
}
/* SOLUTION END */

/*
 * TODO 4: unpack the layer blob (a tar, gzip-compressed or not) into the
 * NEW directory dir, all or nothing.
 *
 * - Unpack into dir.tmp-<pid> (remove a leftover first), then rename(2)
 *   it to dir: a crash or an error leaves no half layer that a later run
 *   would trust. When rename finds dir there already (EEXIST, ENOTEMPTY:
 *   another minictr unpacked it meanwhile), drop ours: that is success.
 *   On an error remove the tmp directory.
 * - libarchive reads (archive_read_new, archive_read_support_filter_all,
 *   archive_read_support_format_tar, archive_read_open_filename) and
 *   writes to disk (archive_write_disk_new, ..._set_options,
 *   ..._set_standard_lookup): archive_write_disk(3). Keep what the layer
 *   says - ARCHIVE_EXTRACT_PERM, _OWNER, _TIME, _XATTR, _ACL, _FFLAGS -
 *   and never write outside the directory: ARCHIVE_EXTRACT_SECURE_NODOTDOT,
 *   _SECURE_SYMLINKS, _SECURE_NOABSOLUTEPATHS. archive_write_disk writes
 *   relative to the CURRENT directory: chdir() into tmp and back (fchdir to
 *   an fd of the old one) around the loop.
 * - For each entry: mct_whiteout_convert() first (TODO 3; 1: done, next
 *   entry); refuse device nodes; write the header, copy the data blocks
 *   (archive_read_data_block -> archive_write_data_block), finish it.
 * Errors name the entry and libarchive's reason (archive_error_string).
 */
int mct_layer_unpack(const char *blob, const char *dir)
{
    /* SOLUTION BEGIN */
    /* stub: (void)blob, (void)dir; */
    /* stub: return MCT_TODO(4, "unpack a layer with libarchive"); */
    int flags =
        ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
        ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS |
        ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
        ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
    char tmp[PATH_MAX];
    struct archive *a = NULL, *disk = NULL;
    int cwd = -1, r;

    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", dir, (int)getpid());
    if ((r = mct_rmtree(tmp)) < 0)
        return r;
    if (mkdir(tmp, 0755) < 0)
        return vl_err(errno, "mkdir %s", tmp);
    a = archive_read_new();
    disk = archive_write_disk_new();
    if (!a || !disk) {
        r = vl_err_plain(ENOMEM, "out of memory");
        goto out;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_write_disk_set_options(disk, flags);
    archive_write_disk_set_standard_lookup(disk);
    if (archive_read_open_filename(a, blob, 65536) != ARCHIVE_OK) {
        r = vl_err_plain(EINVAL, "%s: %s", blob, archive_error_string(a));
        goto out;
    }
    if ((cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        chdir(tmp) < 0) {
        r = vl_err(errno, "chdir %s", tmp);
        goto out;
    }
    r = extract_all(a, disk, tmp);
    if (fchdir(cwd) < 0 && r == 0)
        r = vl_err(errno, "chdir back");
    if (r == 0 && archive_write_close(disk) < ARCHIVE_WARN)
        r = vl_err_plain(EIO, "%s", archive_error_string(disk));
    if (r == 0 && rename(tmp, dir) < 0) {
        if (errno != EEXIST && errno != ENOTEMPTY)
            r = vl_err(errno, "rename %s to %s", tmp, dir);
        else
            mct_rmtree(tmp);
    }
out:
    if (cwd >= 0)
        close(cwd);
    archive_read_free(a);
    archive_write_free(disk);
    if (r < 0) {
        int saved = r;
        _vl_cleanup_free_ char *why = strdup(vl_errmsg());

        mct_rmtree(tmp);
        r = vl_err_plain(saved, "unpacking %s: %s", blob, why ? why : "");
    }
    return r;
    /* SOLUTION END */
}

/* ---- TODO 5: the container's directories --------------------------------- */

/*
 * TODO 5: make the container's directories and the overlay's lowerdir.
 *
 * - ct->image.ctr_dir = STORE/containers/<our pid>; make it (0700) with
 *   upper/, work/ and merged/ (0755) in it. ct->image.rootfs =
 *   ctr_dir/merged.
 * - ct->image.lowerdir: the layer directories STORE/layers/<hex of the
 *   diff_id> joined by ':', the TOP layer FIRST: overlayfs.rst ("Multiple
 *   lower layers": "the specified lower directories will be stacked
 *   beginning from the rightmost one and going left"), while an image
 *   lists its layers bottom first (d->diff_ids[0] is the base).
 * All three strings are malloc'd: mct_image_cleanup() frees them.
 */
static int make_container_dirs(struct minictr *ct, const char *store,
                               const struct mct_image_desc *d)
{
    /* SOLUTION BEGIN */
    /* stub: (void)ct, (void)store, (void)d; */
    /* stub: return MCT_TODO(5, "upper, work, merged and the lowerdir"); */
    static const char *const sub[] = {"upper", "work", "merged"};
    size_t len = 1, n = 0;
    char path[PATH_MAX];
    int r;

    snprintf(path, sizeof(path), "%s/containers", store);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return vl_err(errno, "mkdir %s", path);
    if (asprintf(&ct->image.ctr_dir, "%s/containers/%d", store, (int)getpid()) <
        0)
        return vl_err_plain(ENOMEM, "out of memory");
    /* A minictr killed with SIGKILL left one; its pid is ours now. */
    if ((r = mct_rmtree(ct->image.ctr_dir)) < 0)
        return r;
    if (mkdir(ct->image.ctr_dir, 0700) < 0)
        return vl_err(errno, "mkdir %s", ct->image.ctr_dir);
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", ct->image.ctr_dir, sub[i]);
        if (mkdir(path, 0755) < 0)
            return vl_err(errno, "mkdir %s", path);
    }
    if (asprintf(&ct->image.rootfs, "%s/merged", ct->image.ctr_dir) < 0)
        return vl_err_plain(ENOMEM, "out of memory");

    for (size_t i = 0; i < d->nlayers; i++)
        len += strlen(store) + sizeof("/layers/") + 64 + 1;
    if (!(ct->image.lowerdir = malloc(len)))
        return vl_err_plain(ENOMEM, "out of memory");
    for (size_t i = d->nlayers; i-- > 0;)
        n += (size_t)snprintf(ct->image.lowerdir + n, len - n, "%s%s/layers/%s",
                              n ? ":" : "", store, d->diff_ids[i] + 7);
    return 0;
    /* SOLUTION END */
}

/*
 * mct_image_prepare (given): in the parent, before the clone. Under a
 * shared lock of the store (`image rm` takes it exclusively): resolve the
 * image (TODO 2), then for each layer not unpacked yet: verify its blob
 * (TODO 1), check its diff_id, unpack it (TODO 4); then the container's
 * directories (TODO 5), and containers/<pid>/image names the manifest so
 * `image rm` knows the image is in use. ct->opt.rootfs becomes merged/.
 */
int mct_image_prepare(struct minictr *ct)
{
    _vl_cleanup_free_ char *store = NULL;
    _vl_cleanup_close_ int lock = -1;
    struct mct_image_desc d = {0};
    char path[PATH_MAX], blob[PATH_MAX], what[256], got[MCT_DIGEST_MAX];
    FILE *f;
    int r;

    if (geteuid() != 0 || ct->opt.userns)
        return vl_err_plain(EPERM,
                            "images need root and no user namespace: "
                            "minictr's layers belong to the host's root and "
                            "whiteouts are trusted.overlay xattrs (a rootless "
                            "overlay needs the userxattr option and "
                            "user.overlay.* whiteouts, not done in lab 14); "
                            "run as root without --userns, or use --rootfs");
    if (!(store = mct_store_dir(ct->opt.store)))
        return -EINVAL;
    snprintf(path, sizeof(path), "%s/index.json", store);
    if (access(path, R_OK) < 0)
        return vl_err(errno,
                      "no image store at %s (minictr image import "
                      "creates it)",
                      store);
    if ((lock = mct_store_lock(store, LOCK_SH)) < 0)
        return lock;
    if ((r = mct_image_resolve(store, ct->opt.image, &d)) < 0)
        return r;
    for (size_t i = 0; i < d.nlayers; i++) {
        snprintf(path, sizeof(path), "%s/layers/%s", store, d.diff_ids[i] + 7);
        if (access(path, F_OK) == 0)
            continue; /* unpacked by an earlier run */
        snprintf(what, sizeof(what), "layer %zu of %s", i + 1, ct->opt.image);
        mct_say(ct, "verifying and unpacking %s", what);
        if ((r = mct_blob_verify(store, d.layers[i], d.layer_sizes[i], what)) <
                0 ||
            (r = mct_blob_path(store, d.layers[i], blob, sizeof(blob))) < 0 ||
            (r = mct_layer_diff_id(blob, got)) < 0)
            goto out;
        if (strcmp(got, d.diff_ids[i])) {
            r = vl_err_plain(EBADMSG,
                             "%s: its uncompressed tar hashes to %s, the "
                             "config's diff_id is %s",
                             what, got, d.diff_ids[i]);
            goto out;
        }
        if ((r = mct_layer_unpack(blob, path)) < 0) {
            r = vl_err_ctx(r, "%s", what);
            goto out;
        }
    }
    if ((r = make_container_dirs(ct, store, &d)) < 0)
        goto out;
    snprintf(path, sizeof(path), "%s/image", ct->image.ctr_dir);
    if (!(f = fopen(path, "we")) || fprintf(f, "%s\n", d.manifest) < 0 ||
        fclose(f) != 0) {
        r = vl_err(errno, "writing %s", path);
        goto out;
    }
    ct->opt.rootfs = ct->image.rootfs;
    mct_say(ct, "overlay lowerdir=%s", ct->image.lowerdir);
out:
    mct_image_desc_free(&d);
    return r;
}

/* ---- TODO 6: the overlay ------------------------------------------------- */

/*
 * TODO 6: in the child, in its private mount namespace (lab 10 TODO 1
 * ran): mount the overlay on ct->image.rootfs (mount(2), fstype and
 * source "overlay", no flags) with the options (overlayfs.rst, "Upper and
 * Lower" and "Multiple lower layers"):
 *   lowerdir=ct->image.lowerdir   the layers, read-only, top first
 *   upperdir=CTR_DIR/upper        where the container's changes go
 *   workdir=CTR_DIR/work          overlayfs's scratch space: an empty
 *                                 directory on the same filesystem as upper
 *   volatile                      ("Volatile mount", Linux 5.10): no sync
 *                                 of upper, also not when the overlay is
 *                                 unmounted; the changes are thrown away
 *                                 with the container anyway (a kernel
 *                                 without it says EINVAL: mount again
 *                                 without it)
 * The options are one string of at most a page (4096 bytes): refuse a
 * longer one with -E2BIG ("too many layers"). Lab 10 then binds merged
 * onto itself and pivots into it. The mount dies with the mount namespace,
 * when the container ends: nobody needs to unmount it.
 */
int mct_image_mount(struct minictr *ct)
{
    /* SOLUTION BEGIN */
    /* stub: (void)ct; */
    /* stub: return MCT_TODO(6, "mount the overlay"); */
    char opts[4096];
    int n = snprintf(opts, sizeof(opts),
                     "lowerdir=%s,upperdir=%s/upper,"
                     "workdir=%s/work,volatile",
                     ct->image.lowerdir, ct->image.ctr_dir, ct->image.ctr_dir);

    if (n < 0 || (size_t)n >= sizeof(opts))
        return vl_err_plain(E2BIG,
                            "the overlay's options are longer than a page "
                            "(4096 bytes): too many layers");
    if (mount("overlay", ct->image.rootfs, "overlay", 0, opts) == 0)
        return 0;
    opts[n - strlen(",volatile")] = '\0';
    return vl_mount("overlay", ct->image.rootfs, "overlay", 0, opts);
    /* SOLUTION END */
}

/* ---- TODO 7: cleanup ----------------------------------------------------- */

/*
 * TODO 7: in the parent, after the container ended - also when a step
 * failed, so any of the fields may still be NULL: remove
 * ct->image.ctr_dir with everything in it (mct_rmtree: upper/ holds the
 * container's changes, work/ overlayfs's leftovers), free the three
 * strings and set them to NULL (a second call does nothing). If
 * ct->opt.rootfs points at ct->image.rootfs, set it to NULL too. The
 * layers stay: they belong to the image, not the container.
 */
void mct_image_cleanup(struct minictr *ct)
{
    /* SOLUTION BEGIN */
    /* stub: (void)ct; */
    if (ct->image.ctr_dir && mct_rmtree(ct->image.ctr_dir) < 0) {
        fprintf(ct->log ? ct->log : stderr, "minictr: warning: %s\n",
                vl_errmsg());
        vl_err_clear(); /* the end goes on */
    }
    if (ct->opt.rootfs && ct->opt.rootfs == ct->image.rootfs)
        ct->opt.rootfs = NULL;
    free(ct->image.ctr_dir);
    free(ct->image.lowerdir);
    free(ct->image.rootfs);
    ct->image.ctr_dir = ct->image.lowerdir = ct->image.rootfs = NULL;
    /* SOLUTION END */
}
