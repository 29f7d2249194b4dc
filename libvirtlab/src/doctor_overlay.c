/*
 * doctor_overlay.c - the overlay.* checks: the kernel has overlayfs, and a
 * real overlay mount works for this user, in a throwaway mount namespace.
 * References: the kernel's Documentation/filesystems/overlayfs.rst;
 * mount_namespaces(7).
 */
#define _GNU_SOURCE
#include "doctor_priv.h"

#include "virtlab/cleanup.h"
#include "virtlab/error.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Listed in /proc/filesystems (built in, or a module already loaded), or
 * a module the first mount will load (modprobe via request_module). */
static bool overlay_available(const char *release, bool *as_module)
{
    static const char *const exts[] = {"", ".xz", ".zst", ".gz"};
    _vl_cleanup_fclose_ FILE *f = fopen("/proc/filesystems", "re");
    _vl_cleanup_free_ char *line = NULL;
    size_t cap = 0;

    *as_module = false;
    while (f && getline(&line, &cap, f) > 0) {
        char *tab = strchr(line, '\t');

        if (tab && strcmp(tab + 1, "overlay\n") == 0)
            return true;
    }
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        char path[256];

        snprintf(path, sizeof(path),
                 "/lib/modules/%s/kernel/fs/overlayfs/overlay.ko%s", release,
                 exts[i]);
        if (access(path, R_OK) == 0)
            return *as_module = true;
    }
    return false;
}

/* ==== a real mount ====================================================== */

static int mkdir_in(const char *dir, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", dir, name);
    if (mkdir(out, 0700) < 0)
        return vl_err(errno, "mkdir %s", out);
    return 0;
}

struct overlay_probe {
    const char *dir; /* an empty directory the parent made */
    bool in_userns;
};

/*
 * The real test: an overlay mount (filesystems/overlayfs.rst) in a mount
 * namespace of the child's own. Mounts made there vanish with the child
 * (mount_namespaces(7)), but only if / is made private first: a new mount
 * namespace's mounts stay peers of the parent's shared mounts, and a mount
 * would propagate back into the machine's namespace. The layers sit on a
 * fresh tmpfs because an upper layer cannot be on overlayfs itself (as /tmp
 * is in many containers).
 */
static int overlay_child(void *arg, void *out)
{
    const struct overlay_probe *p = arg;
    char lower[300], upper[300], work[300], merged[300];
    char opts[1024], file[400], text[16];
    int r;

    (void)out;
    if (p->in_userns && (r = doctor_enter_userns()) < 0)
        return r;
    if (unshare(CLONE_NEWNS) < 0)
        return vl_err(errno, "unshare(CLONE_NEWNS)");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return vl_err(errno, "making / private (MS_REC|MS_PRIVATE)");
    if (mount("vlab-doctor", p->dir, "tmpfs", MS_NOSUID | MS_NODEV,
              "size=1m,mode=0700") < 0)
        return vl_err(errno, "mount tmpfs on %s", p->dir);
    if ((r = mkdir_in(p->dir, "lower", lower, sizeof(lower))) < 0 ||
        (r = mkdir_in(p->dir, "upper", upper, sizeof(upper))) < 0 ||
        (r = mkdir_in(p->dir, "work", work, sizeof(work))) < 0 ||
        (r = mkdir_in(p->dir, "merged", merged, sizeof(merged))) < 0)
        return r;
    snprintf(file, sizeof(file), "%s/probe", lower);
    _vl_cleanup_close_ int fd =
        open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, "lower", 5) != 5)
        return vl_err(errno, "writing %s", file);

    snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower,
             upper, work);
    if (mount("overlay", merged, "overlay", 0, opts) < 0)
        return vl_err(errno, "mount -t overlay -o %s", opts);

    /* The lower layer shows through; a write lands in the upper layer. */
    snprintf(file, sizeof(file), "%s/probe", merged);
    if (vlp_read_text(file, text, sizeof(text)) < 0 || strcmp(text, "lower"))
        return vl_err_plain(EIO, "the overlay does not show the lower layer");
    if ((r = doctor_write_text(file, "upper")) < 0)
        return vl_err_ctx(r, "writing through the overlay");
    snprintf(file, sizeof(file), "%s/probe", upper);
    if (vlp_read_text(file, text, sizeof(text)) < 0 || strcmp(text, "upper"))
        return vl_err_plain(EIO, "a write did not reach the upper layer");
    snprintf(file, sizeof(file), "%s/probe", lower);
    if (vlp_read_text(file, text, sizeof(text)) < 0 || strcmp(text, "lower"))
        return vl_err_plain(EIO, "a write changed the lower layer");
    return 0;
}

static int overlay_mount_probe(bool in_userns)
{
    const char *tmp = getenv("TMPDIR");
    struct overlay_probe p = {.in_userns = in_userns};
    char dir[256];
    int r;

    snprintf(dir, sizeof(dir), "%s/vlab-doctor-XXXXXX",
             tmp && tmp[0] == '/' ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return vl_err(errno, "mkdtemp %s", dir);
    p.dir = dir;
    r = doctor_child_run("mounting an overlay", overlay_child, &p, NULL, 0,
                         DOCTOR_PROBE_TIMEOUT_MS);
    /* The tmpfs was mounted in the child's namespace only, so the
     * directory is empty here; and since Linux 3.18 a mount point in
     * another namespace does not keep a directory from being removed. */
    if (rmdir(dir) < 0 && r == 0)
        r = vl_err(errno, "rmdir %s", dir);
    return r;
}

/* ==== the checks ======================================================== */

int vl_doctor_check_overlay(struct vl_doctor_report *r)
{
    bool root = geteuid() == 0;
    struct vl_check *c;
    struct utsname u;
    bool module;
    int ret;

    r->overlay_mount = -1;
    if (uname(&u) < 0)
        return vl_err(errno, "uname");
    if (!overlay_available(u.release, &module)) {
        c = doctor_check_add(r, "overlay.fs", VL_CHECK_FAIL,
                             "overlay is neither in /proc/filesystems nor a "
                             "module of %s",
                             u.release);
        doctor_check_hint(c, "lab 14 needs a kernel with CONFIG_OVERLAY_FS "
                             "(`sudo modprobe overlay` if it is a module).");
        doctor_check_add(r, "overlay.mount", VL_CHECK_SKIP, "needs overlay.fs");
        return 0;
    }
    doctor_check_add(r, "overlay.fs", VL_CHECK_OK, "%s",
                     module ? "overlay.ko is available (loads on first mount)"
                            : "overlay in /proc/filesystems");

    vl_err_clear();
    ret = overlay_mount_probe(!root);
    r->overlay_mount = ret == 0;
    r->overlayfs = ret == 0;
    if (ret == 0) {
        doctor_check_add(r, "overlay.mount", VL_CHECK_OK,
                         "mounted lower+upper on tmpfs in a private mount "
                         "namespace%s",
                         root ? "" : ", rootless (in a user namespace)");
    } else if (root) {
        c = doctor_check_add(r, "overlay.mount", VL_CHECK_FAIL, "%s",
                             vl_errmsg());
        doctor_check_hint(c, "even root cannot mount an overlay: inside a "
                             "container, mounts need --privileged (or "
                             "CAP_SYS_ADMIN and no AppArmor/seccomp block).");
    } else {
        c = doctor_check_add(r, "overlay.mount", VL_CHECK_WARN, "rootless: %s",
                             vl_errmsg());
        doctor_check_hint(c, "overlay in a user namespace needs Linux 5.11+; "
                             "run lab 14 with sudo.");
    }
    return 0;
}
