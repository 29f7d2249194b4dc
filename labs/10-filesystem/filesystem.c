/*
 * filesystem.c - minictr stage 10: the container's filesystem.
 *
 * After lab 09 the container has its own mount namespace, but that
 * namespace is a copy of the host's: the same mounts, the same root. In
 * this lab the container's PID 1 builds its own view of the filesystem
 * before the command runs: it cuts the propagation links back to the
 * host, makes the rootfs directory a mount, mounts a fresh /proc and a
 * read-only /sys, builds a minimal /dev, moves into the rootfs with
 * pivot_root(2) and detaches the host's root for good, hides the files of
 * /proc and /sys that would leak the host or let the container harm it,
 * and, with --read-only, makes the root read-only.
 *
 * Every function runs in the container's PID 1 (mct_child_main), after
 * "go", in the order of the TODOs. You write the mount(2), mknod(2),
 * pivot_root(2) and umount2(2) calls yourself; vl_mount() (virtlab/mount.h)
 * is mount(2) with an error message that names the mount and decodes its
 * flags - the flags and the order are yours.
 *
 * References: mount_namespaces(7) ("Shared subtrees"), the kernel's
 * Documentation/filesystems/sharedsubtree.rst, mount(2) ("Creating a bind
 * mount", "Remounting an existing mount"), pivot_root(2), proc(5),
 * sysfs(5), Documentation/admin-guide/devices.txt,
 * Documentation/filesystems/devpts.rst, tmpfs(5).
 * labs/10-filesystem/README.md walks through the steps.
 */
#define MCT_LAB        "10-filesystem"
#define MCT_STAGE_FILE "filesystem.c"
#define _GNU_SOURCE    /* ST_RELATIME in <sys/statvfs.h> */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "minictr.h"
#include "virtlab/mount.h"

/*
 * Paths hidden from the container (Docker's defaults, moby's
 * oci/defaults.go): a file gets /dev/null bound over it, a directory an
 * empty read-only tmpfs. /proc/kcore is the kernel's memory as an ELF
 * core file, /proc/keys the keyrings, /proc/timer_list and
 * /proc/sched_debug leak host-wide scheduling and timer details (and
 * kernel addresses), /sys/firmware the firmware's tables (ACPI, DMI,
 * EFI variables), /sys/devices/virtual/powercap the CPU's energy counters
 * (a side channel: CVE-2020-8694). /proc/sysrq-trigger is one of Docker's
 * read-only paths; we mask it, which is stronger: a write to it ("b":
 * reboot now, Documentation/admin-guide/sysrq.rst) ends in /dev/null.
 */
const char *const mct_masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/sysrq-trigger",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    NULL,
};

/* Paths the container may read but never write: the kernel's tunables
 * (/proc/sys: sysctl(8)) and hardware state (proc(5)). */
const char *const mct_readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", NULL,
};

/* ---- helpers (given) ----------------------------------------------------- */

/* buf = the rootfs directory + sub ("/proc"): a path seen from the host,
 * for the mounts made before pivot_root (TODOs 2-4). */
static int rootfs_path(const struct minictr *ct, const char *sub, char *buf,
                       size_t size)
{
    int n = snprintf(buf, size, "%s%s", ct->opt.rootfs, sub);

    if (n < 0 || (size_t)n >= size)
        return vl_err_plain(ENAMETOOLONG, "rootfs path %s%s is too long",
                            ct->opt.rootfs, sub);
    return 0;
}

/* mkdir path unless it exists: a mount point the rootfs may lack. */
static int ensure_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return vl_err(errno, "mkdir %s", path);
    return 0;
}

/* Is group `gid` of the container's namespace mapped to a host group?
 * Without a user namespace every gid is. (Lab 11 fills ct->gid_map.) */
static bool gid_is_mapped(const struct minictr *ct, gid_t gid)
{
    if (!ct->userns)
        return true;
    for (size_t i = 0; i < ct->ngid_map; i++)
        if (gid >= ct->gid_map[i].inside &&
            gid - ct->gid_map[i].inside < ct->gid_map[i].count)
            return true;
    return false;
}

/* ---- TODO 1: private propagation ----------------------------------------- */

/*
 * TODO 1: make every mount of the container's namespace private,
 * recursively: mount(2) of "/" with MS_REC | MS_PRIVATE (no source, no
 * type).
 *
 * The new mount namespace is a copy of the host's, and a copy of a SHARED
 * mount is in the same peer group as the original (mount_namespaces(7),
 * "Shared subtrees"): a mount or unmount under it in one namespace
 * propagates to the other. systemd makes / shared at boot, so without this
 * step every mount the container makes (its /proc, its /dev) would appear
 * on the host, and the container's unmount of the old root (TODO 5) would
 * unmount the host's. MS_REC applies the change to every mount below "/",
 * not only to "/" itself. pivot_root(2) also refuses to run on shared
 * mounts (EINVAL).
 */
int mct_fs_private(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(1, "make every mount private");
}

/* ---- TODO 2: the rootfs, a mount point ----------------------------------- */

/*
 * TODO 2: bind-mount the rootfs directory (ct->opt.rootfs) onto itself,
 * recursively (MS_BIND | MS_REC).
 *
 * pivot_root(2) needs new_root to be a mount point; a plain directory is
 * not one. A bind mount of a directory on itself makes it one without
 * changing what it shows (mount(2), "Creating a bind mount"). MS_REC takes
 * the mounts below it along (a volume someone mounted inside the rootfs);
 * without it they would vanish from the container.
 */
int mct_fs_bind_rootfs(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(2, "bind the rootfs onto itself");
}

/* ---- TODO 3: /proc and /sys ---------------------------------------------- */

/*
 * TODO 3: mount a new proc and a read-only sysfs under the rootfs (the
 * mounts are made before pivot_root, at rootfs_path(ct, "/proc", ...)).
 *
 * - /proc: filesystem type "proc", flags MS_NOSUID | MS_NOEXEC | MS_NODEV.
 *   A procfs shows the PID namespace of the process that mounts it
 *   (proc(5), pid_namespaces(7) "/proc and PID namespaces"): ours, in
 *   which the container's init is PID 1.
 * - /sys: "sysfs", MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV. A sysfs
 *   shows the network devices of the mounter's network namespace
 *   (sysfs(5)); the kernel lets a user namespace mount one only when it
 *   owns that network namespace, which a container with its own (the
 *   default) does.
 * - With --net host (ct->opt.host_net) there is no network namespace of
 *   our own: bind the host's /sys instead (MS_BIND | MS_REC), then make
 *   that bind read-only with a remount (MS_REMOUNT | MS_BIND | MS_RDONLY,
 *   plus vl_mount_kept_flags() of it: locked flags in a user namespace).
 *   MS_RDONLY on the bind itself would be ignored: mount(2) creates every
 *   bind mount with the source's flags.
 */
int mct_fs_mount_proc_sys(struct minictr *ct)
{
    (void)ct;
    (void)rootfs_path;
    (void)ensure_dir;
    return MCT_TODO(3, "mount /proc and a read-only /sys");
}

/* ---- TODO 4: /dev -------------------------------------------------------- */

/*
 * TODO 4: a minimal /dev, under the rootfs:
 * - a tmpfs on /dev: MS_NOSUID | MS_STRICTATIME, data "mode=755,size=64k";
 * - the character devices null (1,3), zero (1,5), full (1,7), random
 *   (1,8), urandom (1,9), tty (5,0) (devices.txt), mode 0666: mknod(2)
 *   with S_IFCHR and makedev(major, minor), then chmod(2) - mknod's mode
 *   passes through the umask.
 *   In a user namespace (ct->userns) mknod(2) of a device fails (it needs
 *   CAP_MKNOD in the initial user namespace), and a tmpfs mounted there is
 *   implicitly "nodev" anyway. Do what rootless runtimes do: create an
 *   empty file and bind the host's node (/dev/null: we are not in the
 *   rootfs yet) onto it (MS_BIND).
 * - a devpts instance on /dev/pts (mkdir it, 0755): "devpts", MS_NOSUID |
 *   MS_NOEXEC, data "newinstance,ptmxmode=0666,mode=0620,gid=5" - gid=5
 *   (the group "tty") only when gid_is_mapped(ct, 5): devpts refuses a
 *   gid the user namespace does not map (EINVAL). newinstance gives the
 *   container its own pty numbers (devpts.rst); ptmx -> pts/ptmx, a
 *   symlink, opens that instance's multiplexer;
 * - a tmpfs on /dev/shm (mkdir it, 01777; MS_NOSUID | MS_NODEV |
 *   MS_NOEXEC, "mode=1777,size=65536k") for POSIX shared memory
 *   (shm_overview(7));
 * - symlinks fd -> /proc/self/fd, stdin -> /proc/self/fd/0, stdout ->
 *   /proc/self/fd/1, stderr -> /proc/self/fd/2 (what a shell's
 *   `cat /dev/stdin` needs).
 */
int mct_fs_make_dev(struct minictr *ct)
{
    (void)ct;
    (void)gid_is_mapped;
    return MCT_TODO(4, "build a minimal /dev");
}

/* ---- TODO 5: pivot_root -------------------------------------------------- */

/*
 * TODO 5: make the rootfs the container's root and get rid of the host's.
 * chdir(2) into the rootfs; pivot_root(".", ".") (glibc has no wrapper:
 * syscall(SYS_pivot_root, new_root, put_old)); umount2(".", MNT_DETACH);
 * chdir("/").
 *
 * pivot_root(2) moves the mount namespace's root: new_root becomes "/",
 * and the old root is attached at put_old. With put_old == new_root the
 * old root is stacked ON TOP of the new one at "/"; umount2(".") then
 * resolves "." upwards through that stack and unmounts the old root, and
 * MNT_DETACH does it lazily, because the old root is busy (pivot_root(2),
 * NOTES; runc does the same). Once it is gone, no path in the container
 * leads to the host's files any more.
 *
 * Why not chroot(2)? chroot only changes where one process's path lookup
 * starts. Root in the container can chroot into a subdirectory, and
 * its current directory is then OUTSIDE its root: ".." from there climbs
 * as far as it likes - up to the host's / if it is still in the mount
 * namespace (chroot(2), NOTES; the README shows this escape).
 */
int mct_fs_pivot_root(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(5, "pivot_root, detach the old root");
}

/* ---- TODO 6: masked and read-only paths ---------------------------------- */

/*
 * TODO 6: now inside the container (after pivot_root, so the paths are
 * the container's), hide each path of mct_masked_paths and make each of
 * mct_readonly_paths read-only. Skip a path that does not exist (stat(2)
 * fails with ENOENT: kernels differ, /proc/timer_stats is long gone).
 * - masked directory: an empty read-only tmpfs on it ("tmpfs", MS_RDONLY);
 * - masked file: bind /dev/null on it (MS_BIND): it reads empty, and
 *   writes vanish. (A tmpfs cannot be mounted on a file: ENOTDIR.)
 * - read-only path: bind it onto itself (MS_BIND | MS_REC) so it is a
 *   mount of its own, then remount that bind read-only (MS_REMOUNT |
 *   MS_BIND | MS_RDONLY | vl_mount_kept_flags(path)): proc is nosuid, nodev,
 *   noexec, and in a user namespace those flags are locked.
 */
int mct_fs_mask_paths(struct minictr *ct)
{
    (void)ct;
    (void)vl_mount_kept_flags;
    return MCT_TODO(6, "mask paths and make others read-only");
}

/* ---- TODO 7: a read-only root -------------------------------------------- */

/*
 * TODO 7: with --read-only (ct->opt.readonly), remount the root - TODO 2's
 * bind mount, now at "/" - read-only: MS_REMOUNT | MS_BIND | MS_RDONLY |
 * vl_mount_kept_flags("/"). Without the option, do nothing.
 *
 * MS_BIND in a remount changes only this mount's flags; WITHOUT it the
 * remount changes the filesystem's superblock, which the host shares: the
 * host's own disk would go read-only (mount(2), "Remounting an existing
 * mount"). /dev, /proc, /sys and /dev/shm are mounts of their own and stay
 * as they are: a read-only container still writes /dev/null and
 * /dev/shm. Docker's --read-only is this; programs that need a writable
 * /tmp get one with --tmpfs /tmp.
 */
int mct_fs_readonly_root(struct minictr *ct)
{
    (void)ct;
    return MCT_TODO(7, "remount the root read-only (--read-only)");
}
