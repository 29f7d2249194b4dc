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
    (void)path, (void)digest;
    return MCT_TODO(1, "hash a file with SHA-256");
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
    (void)store, (void)digest, (void)size, (void)what;
    return MCT_TODO(1, "verify a blob against its digest");
}

/* ---- TODO 2: index -> manifest -> config -------------------------------- */

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
    (void)store, (void)name;
    *d = (struct mct_image_desc){0};
    return MCT_TODO(2, "follow index -> manifest -> config");
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
    (void)dir, (void)path;
    return MCT_TODO(3, "turn OCI whiteouts into overlayfs ones");
}

/* ---- TODO 4: unpacking a layer ------------------------------------------- */

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
    (void)blob, (void)dir;
    return MCT_TODO(4, "unpack a layer with libarchive");
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
    (void)ct, (void)store, (void)d;
    return MCT_TODO(5, "upper, work, merged and the lowerdir");
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
    (void)ct;
    return MCT_TODO(6, "mount the overlay");
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
    (void)ct;
}
