/*
 * mount_test.c - mount helpers, pivot_root and mountinfo (virtlab/mount.h).
 *
 * Every test that mounts does it in a forked child that first enters a new
 * mount namespace and makes all of it private (mount_namespaces(7)): the
 * machine's own mounts are never touched, and whatever the child mounted
 * goes away with its namespace when it exits.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_helpers.h"
#include "helpers.h"
#include "virtlab/mount.h"
#include "virtlab/ns.h"

static char dir[] = "/tmp/mount-test-XXXXXX";

static void make_dir(void)
{
    if (geteuid() != 0)
        cr_skip_test("needs root (mounts in a private mount namespace): run "
                     "the library tests with sudo");
    cr_assert_not_null(mkdtemp(dir));
}

/* Nothing may stay mounted on the host, and the directory goes away. */
static void remove_dir(void)
{
    char cmd[300];

    cr_assert_eq(vl_mount_count_under(0, dir), 0, "a mount leaked to the host");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(mount, .init = make_dir, .fini = remove_dir, .timeout = 60);
TestSuite(mountinfo, .timeout = 60);

/* dir/name, in a static buffer per call site's slot. */
static const char *at(int slot, const char *name)
{
    static char bufs[8][512];

    snprintf(bufs[slot], sizeof(bufs[slot]), "%s/%s", dir, name);
    return bufs[slot];
}

static int mkdirs(const char *path)
{
    char cmd[600];

    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
    return system(cmd) == 0 ? 0 : vl_err_plain(EIO, "mkdir -p %s", path);
}

static int touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0)
        return vl_err(errno, "create %s", path);
    close(fd);
    return 0;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* The first thing every mounting child does. */
static int private_ns(void)
{
    int r;

    if ((r = vl_unshare(CLONE_NEWNS)) < 0)
        return r;
    return vl_mount_propagation("/", MS_PRIVATE, true);
}

#define IN_PRIVATE_NS() child_ok(private_ns())

/* ---- flags --------------------------------------------------------------- */

Test(mountinfo, flags_str_decodes)
{
    char buf[128];

    cr_assert_str_eq(vl_mount_flags_str(MS_BIND | MS_REC, buf, sizeof(buf)),
                     "MS_BIND|MS_REC");
    cr_assert_str_eq(
        vl_mount_flags_str(MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, buf,
                           sizeof(buf)),
        "MS_RDONLY|MS_NOSUID|MS_REMOUNT|MS_BIND");
    cr_assert_str_eq(
        vl_mount_flags_str(MS_PRIVATE | (1UL << 40), buf, sizeof(buf)),
        "MS_PRIVATE|0x10000000000");
    cr_assert_str_eq(vl_mount_flags_str(0, buf, sizeof(buf)), "0x0");
    cr_assert_str_eq(vl_mount_flags_str(MS_SLAVE, buf, 5), "MS_S");
}

/* ---- bind mounts --------------------------------------------------------- */

static int bind_child(void *arg)
{
    struct vl_mountinfo m;
    struct stat st;

    (void)arg;
    IN_PRIVATE_NS();
    child_ok(mkdirs(at(0, "a")));
    child_ok(mkdirs(at(1, "b")));
    child_ok(touch(at(2, "a/x")));
    child_ok(vl_mount_bind(at(0, "a"), at(1, "b"), false));
    child_check(stat(at(3, "b/x"), &st) == 0);
    child_ok(vl_mountinfo_find(0, at(1, "b"), &m));
    /* The root of a bind mount is the directory it shows. */
    child_check(strlen(m.root) >= 2 &&
                strcmp(m.root + strlen(m.root) - 2, "/a") == 0);
    child_check(m.id > 0 && m.parent > 0);
    child_check(vl_mount_count_under(0, dir) == 1);
    child_ok(vl_umount(at(1, "b"), 0));
    child_check(stat(at(3, "b/x"), &st) < 0 && errno == ENOENT);
    child_check(vl_mount_count_under(0, dir) == 0);
    return 0;
}

Test(mount, bind_shows_the_source_and_umount_removes_it)
{
    child_run(bind_child, NULL);
}

static int rbind_child(void *arg)
{
    (void)arg;
    IN_PRIVATE_NS();
    child_ok(mkdirs(at(0, "a/sub")));
    child_ok(mkdirs(at(1, "plain")));
    child_ok(mkdirs(at(2, "rec")));
    child_ok(vl_mount_tmpfs(at(3, "a/sub"), 0, NULL));
    child_ok(touch(at(4, "a/sub/in-tmpfs")));
    child_ok(vl_mount_bind(at(0, "a"), at(1, "plain"), false));
    child_ok(vl_mount_bind(at(0, "a"), at(2, "rec"), true));
    /* Without MS_REC the mount under a/ is not carried along. */
    child_check(access(at(5, "plain/sub/in-tmpfs"), F_OK) < 0);
    child_check(access(at(5, "rec/sub/in-tmpfs"), F_OK) == 0);
    child_check(vl_mount_count_under(0, at(1, "plain")) == 1);
    child_check(vl_mount_count_under(0, at(2, "rec")) == 2);
    return 0;
}

Test(mount, recursive_bind_carries_submounts)
{
    child_run(rbind_child, NULL);
}

/* ---- read-only ----------------------------------------------------------- */

static int readonly_child(void *arg)
{
    struct vl_mountinfo m;

    (void)arg;
    IN_PRIVATE_NS();
    child_ok(mkdirs(at(0, "src")));
    child_ok(mkdirs(at(1, "ro")));
    child_ok(vl_mount_tmpfs(at(0, "src"), MS_NOSUID | MS_NODEV, NULL));
    child_ok(vl_mount_bind(at(0, "src"), at(1, "ro"), false));
    child_ok(vl_mount_readonly(at(1, "ro")));
    child_ok(vl_mountinfo_find(0, at(1, "ro"), &m));
    child_check(vl_mountinfo_has_option(&m, "ro"));
    child_check(vl_mountinfo_has_option(&m, "nosuid"));
    child_check(vl_mountinfo_has_option(&m, "nodev"));
    child_check(touch(at(2, "ro/f")) == -EROFS);
    /* Only this mount is read-only, not the filesystem. */
    child_ok(touch(at(2, "src/f")));
    child_ok(vl_mountinfo_find(0, at(0, "src"), &m));
    child_check(vl_mountinfo_has_option(&m, "rw"));
    return 0;
}

Test(mount, readonly_remount_keeps_nosuid_and_nodev)
{
    child_run(readonly_child, NULL);
}

/*
 * In a user namespace the flags of inherited mounts are locked
 * (mount_namespaces(7)): a bind remount that drops nosuid, nodev, noexec or
 * changes the atime setting fails with EPERM. vl_mount_readonly keeps them,
 * including strictatime, which a plain remount would turn into relatime.
 */
static int locked_child(void *arg)
{
    struct vl_id_map root = {0, 0, 1};

    (void)arg;
    IN_PRIVATE_NS();
    child_ok(mkdirs(at(0, "locked")));
    child_ok(mkdirs(at(1, "view")));
    child_ok(vl_mount_tmpfs(at(0, "locked"),
                            MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_STRICTATIME,
                            "mode=0755"));
    child_ok(vl_unshare(CLONE_NEWUSER | CLONE_NEWNS));
    child_ok(vl_write_id_map(0, false, &root, 1));
    child_ok(vl_deny_setgroups(0));
    child_ok(vl_write_id_map(0, true, &root, 1));
    child_ok(vl_mount_bind(at(0, "locked"), at(1, "view"), false));
    child_fails(vl_mount(NULL, at(1, "view"), NULL,
                         MS_REMOUNT | MS_BIND | MS_RDONLY, NULL),
                EPERM, "may not drop a locked flag");
    child_fails(vl_mount(NULL, at(1, "view"), NULL,
                         MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
                             MS_NODEV | MS_NOEXEC | MS_NOATIME,
                         NULL),
                EPERM, "MS_NOATIME|MS_BIND");
    child_ok(vl_mount_readonly(at(1, "view")));
    child_check(touch(at(2, "view/f")) == -EROFS);
    return 0;
}

Test(mount, readonly_in_a_user_namespace_keeps_locked_flags)
{
    child_run(locked_child, NULL);
}

Test(mountinfo, readonly_of_a_missing_path_names_it)
{
    vl_assert_fails(vl_mount_readonly("/nonexistent/virtlab"), ENOENT,
                    "making /nonexistent/virtlab read-only");
    cr_assert(strstr(vl_errmsg(), "does not exist"), "%s", vl_errmsg());
}

/* ---- special filesystems ------------------------------------------------- */

static int special_child(void *arg)
{
    struct vl_mountinfo m;

    (void)arg;
    IN_PRIVATE_NS();
    child_ok(mkdirs(at(0, "proc")));
    child_ok(mkdirs(at(1, "sys")));
    child_ok(mkdirs(at(2, "tmp")));
    child_ok(mkdirs(at(3, "pts")));
    child_ok(vl_mount_proc(at(0, "proc")));
    child_ok(vl_mountinfo_find(0, at(0, "proc"), &m));
    child_check(strcmp(m.fstype, "proc") == 0);
    child_check(vl_mountinfo_has_option(&m, "nosuid") &&
                vl_mountinfo_has_option(&m, "nodev") &&
                vl_mountinfo_has_option(&m, "noexec"));
    child_check(access(at(4, "proc/self/status"), R_OK) == 0);

    child_ok(vl_mount_sysfs(at(1, "sys"), true));
    child_ok(vl_mountinfo_find(0, at(1, "sys"), &m));
    child_check(strcmp(m.fstype, "sysfs") == 0);
    child_check(vl_mountinfo_has_option(&m, "ro"));
    child_check(access(at(4, "sys/kernel"), F_OK) == 0);

    child_ok(vl_mount_tmpfs(at(2, "tmp"), MS_NOEXEC, "size=1m,mode=0700"));
    child_ok(vl_mountinfo_find(0, at(2, "tmp"), &m));
    child_check(strcmp(m.fstype, "tmpfs") == 0);
    child_check(vl_mountinfo_has_option(&m, "noexec"));
    child_check(strstr(m.super, "size=1024k") && strstr(m.super, "mode=700"));

    child_ok(vl_mount_devpts(at(3, "pts")));
    child_ok(vl_mountinfo_find(0, at(3, "pts"), &m));
    child_check(strcmp(m.fstype, "devpts") == 0);
    child_check(strstr(m.super, "ptmxmode=666") && strstr(m.super, "mode=620"));
    child_check(access(at(4, "pts/ptmx"), F_OK) == 0);
    child_check(vl_mount_count_under(0, dir) == 4);
    return 0;
}

Test(mount, proc_sysfs_tmpfs_devpts)
{
    child_run(special_child, NULL);
}

/* ---- pivot_root ---------------------------------------------------------- */

static int pivot_child(void *arg)
{
    struct vl_mountinfo m;
    const char *root = at(0, "newroot");

    (void)arg;
    IN_PRIVATE_NS();
    /* A directory that is no mount point, on a mount that is not the
     * root's: EINVAL, and the message says what to do. */
    child_ok(mkdirs(at(3, "base")));
    child_ok(vl_mount_tmpfs(at(3, "base"), 0, NULL));
    child_ok(mkdirs(at(4, "base/dir/old")));
    child_fails(vl_pivot_root(at(4, "base/dir"), at(5, "base/dir/old")), EINVAL,
                "new_root must be a mount point");
    /* On the root's own mount it is EBUSY. */
    child_fails(vl_pivot_root("/", "/"), EBUSY, "on the current root's mount");
    child_ok(mkdirs(root));
    child_ok(vl_mount_tmpfs(root, 0, NULL));
    child_ok(mkdirs(at(1, "newroot/old")));
    child_ok(touch(at(2, "newroot/marker")));
    child_fails(vl_pivot_root(root, at(3, "base")), EINVAL, "under new_root");
    child_ok(vl_pivot_root(root, at(1, "newroot/old")));
    child_check(chdir("/") == 0);
    child_check(access("/marker", F_OK) == 0);
    /* No /proc here yet: mountinfo cannot be read, and the error says so. */
    child_fails(vl_mountinfo_find(0, "/old", &m), ENOENT,
                "/proc is not "
                "mounted");
    child_check(mkdir("/proc", 0555) == 0);
    child_ok(vl_mount_proc("/proc"));
    child_ok(vl_mountinfo_find(0, "/old", &m));
    child_ok(vl_umount("/old", MNT_DETACH));
    child_check(access("/old/tmp", F_OK) < 0);
    /* All that is left is the tmpfs and its /proc: the old root is gone. */
    child_check(vl_mount_count_under(0, "/") == 2);
    child_ok(vl_mountinfo_find(0, "/", &m));
    child_check(strcmp(m.fstype, "tmpfs") == 0);
    return 0;
}

Test(mount, pivot_root_into_a_tmpfs_and_detach_the_old_root)
{
    child_run(pivot_child, NULL);
}

/* ---- umount -------------------------------------------------------------- */

static int umount_child(void *arg)
{
    int fd;

    (void)arg;
    IN_PRIVATE_NS();
    child_ok(mkdirs(at(0, "t")));
    child_ok(vl_mount_tmpfs(at(0, "t"), 0, NULL));
    fd = open(at(1, "t/busy"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    child_check(fd >= 0);
    child_fails(vl_umount(at(0, "t"), 0), EBUSY, "MNT_DETACH");
    child_ok(vl_umount(at(0, "t"), MNT_DETACH));
    close(fd);
    child_fails(vl_umount(at(0, "t"), 0), EINVAL, "is not a mount point");
    child_fails(vl_umount(at(2, "missing"), 0), ENOENT, "does not exist");
    return 0;
}

Test(mount, umount_busy_detach_and_errors)
{
    child_run(umount_child, NULL);
}

/* ---- failures ------------------------------------------------------------ */

static int failures_child(void *arg)
{
    (void)arg;
    IN_PRIVATE_NS();
    child_ok(mkdirs(at(0, "d")));
    child_fails(vl_mount_bind(at(0, "d"), at(1, "no/target"), true), ENOENT,
                "the mount point");
    child_check(strstr(vl_errmsg(), at(1, "no/target")) &&
                strstr(vl_errmsg(), "MS_BIND|MS_REC"));
    child_fails(vl_mount_bind(at(2, "no/source"), at(0, "d"), false), ENOENT,
                "the source");
    child_fails(vl_mount("x", at(0, "d"), "nosuchfs", 0, NULL), ENODEV,
                "filesystem type \"nosuchfs\"");
    child_fails(vl_mount_propagation(at(0, "d"), MS_PRIVATE, false), EINVAL,
                "is not a mount point");
    child_fails(vl_mount_propagation(at(0, "d"), MS_BIND, false), EINVAL,
                "none of MS_PRIVATE");
    child_fails(vl_mount_tmpfs(at(0, "d"), 0, "nosuchoption=1"), EINVAL,
                "options (\"tmpfs\")");
    child_check(strstr(vl_errmsg(), "options nosuchoption=1"));
    child_check(vl_mount_count_under(0, dir) == 0);
    return 0;
}

Test(mount, failures_name_what_and_where)
{
    child_run(failures_child, NULL);
}

static int unprivileged_child(void *arg)
{
    (void)arg;
    IN_PRIVATE_NS(); /* whatever happens, not in the host's namespace */
    child_ok(mkdirs(at(0, "u")));
    child_ok(vl_mount_tmpfs(at(1, "u"), 0, NULL));
    child_check(chmod(dir, 0755) == 0); /* mkdtemp made it 0700 */
    child_check(setresuid(65534, 65534, 65534) == 0);
    child_fails(vl_mount_tmpfs(at(0, "u"), 0, NULL), EPERM, "CAP_SYS_ADMIN");
    child_fails(vl_umount(at(0, "u"), 0), EPERM, "CAP_SYS_ADMIN");
    child_fails(vl_pivot_root(at(0, "u"), at(0, "u")), EPERM, "CLONE_NEWNS");
    return 0;
}

Test(mount, unprivileged_is_eperm_with_a_hint)
{
    child_run(unprivileged_child, NULL);
}

/* ---- propagation --------------------------------------------------------- */

static int propagation_child(void *arg)
{
    struct vl_mountinfo m;

    (void)arg;
    IN_PRIVATE_NS();
    child_ok(mkdirs(at(0, "p")));
    child_ok(vl_mount_tmpfs(at(0, "p"), 0, NULL));
    child_ok(vl_mountinfo_find(0, at(0, "p"), &m));
    child_check(m.propagation[0] == '\0'); /* private under a private / */
    child_ok(vl_mount_propagation(at(0, "p"), MS_SHARED, false));
    child_ok(vl_mountinfo_find(0, at(0, "p"), &m));
    child_check(strncmp(m.propagation, "shared:", 7) == 0);
    child_ok(vl_mount_propagation(at(0, "p"), MS_UNBINDABLE, false));
    child_ok(vl_mountinfo_find(0, at(0, "p"), &m));
    child_check(strcmp(m.propagation, "unbindable") == 0);
    child_fails(vl_mount_bind(at(0, "p"), at(0, "p"), false), EINVAL,
                "unbindable");
    child_ok(vl_mount_propagation(at(0, "p"), MS_PRIVATE, false));
    child_ok(vl_mountinfo_find(0, at(0, "p"), &m));
    child_check(m.propagation[0] == '\0');
    return 0;
}

Test(mount, propagation_types_show_in_mountinfo)
{
    child_run(propagation_child, NULL);
}

/* ---- mountinfo ----------------------------------------------------------- */

/* Mount points with a space, a tab, a newline and a backslash: mountinfo
 * writes them as \040 \011 \012 \134. */
static int escape_child(void *arg)
{
    char path[512];
    struct vl_mountinfo m;

    (void)arg;
    IN_PRIVATE_NS();
    snprintf(path, sizeof(path), "%s/a b\tc\nd\\e", dir);
    child_check(mkdir(path, 0755) == 0);
    child_ok(vl_mount_tmpfs(path, MS_NOSUID, NULL));
    child_ok(vl_mountinfo_find(0, path, &m));
    child_check(strcmp(m.point, path) == 0);
    child_check(vl_mountinfo_has_option(&m, "nosuid"));
    child_check(vl_mount_count_under(0, dir) == 1);
    return 0;
}

Test(mount, mountinfo_unescapes_mount_points)
{
    child_run(escape_child, NULL);
}

static int count_child(void *arg)
{
    (void)arg;
    IN_PRIVATE_NS();
    child_ok(mkdirs(at(0, "a/b")));
    child_ok(mkdirs(at(1, "ab")));
    child_ok(vl_mount_tmpfs(at(0, "a"), 0, NULL));
    child_ok(mkdirs(at(0, "a/b")));
    child_ok(vl_mount_tmpfs(at(0, "a/b"), 0, NULL));
    child_ok(vl_mount_tmpfs(at(1, "ab"), 0, NULL));
    child_check(vl_mount_count_under(0, at(2, "a")) == 2);
    child_check(vl_mount_count_under(0, at(2, "a/")) == 2);
    child_check(vl_mount_count_under(0, at(2, "ab")) == 1);
    child_check(vl_mount_count_under(0, at(2, "a/b")) == 1);
    child_check(vl_mount_count_under(0, dir) == 3);
    /* The last of two mounts on one point is the one on top. */
    child_ok(vl_mount_tmpfs(at(1, "ab"), MS_NOEXEC, NULL));
    struct vl_mountinfo m;
    child_ok(vl_mountinfo_find(0, at(1, "ab"), &m));
    child_check(vl_mountinfo_has_option(&m, "noexec"));
    return 0;
}

Test(mount, count_under_matches_whole_components)
{
    child_run(count_child, NULL);
}

Test(mountinfo, find_of_a_non_mount_point_is_enoent)
{
    struct vl_mountinfo m;
    int n = vl_count_fds();

    vl_assert_fails(vl_mountinfo_find(0, "/nonexistent/virtlab", &m), ENOENT,
                    "is not a mount point");
    vl_assert_ok(vl_mountinfo_find(0, "/", &m));
    cr_assert_str_eq(m.point, "/");
    cr_assert_gt(vl_assert_ok(vl_mount_count_under(0, "/")), 1);
    cr_assert_eq(vl_count_fds(), n, "mountinfo reading leaked an fd");
}

static int stop_at_second(const struct vl_mountinfo *m, void *arg)
{
    int *seen = arg;

    (void)m;
    return ++*seen == 2 ? 77 : 0;
}

static int count_fds_in_walk(const struct vl_mountinfo *m, void *arg)
{
    (void)m;
    *(int *)arg = count_fds();
    return 1;
}

Test(mountinfo, each_stops_when_fn_says_so_and_reports_missing_pids)
{
    int seen = 0, during = 0, before = vl_count_fds();
    pid_t gone = fork();

    cr_assert_eq(vl_mountinfo_each(0, stop_at_second, &seen), 77);
    cr_assert_eq(seen, 2);
    cr_assert_eq(vl_mountinfo_each(getpid(), count_fds_in_walk, &during), 1);
    cr_assert_eq(during, before + 1, "the walk holds one fd open");
    cr_assert_eq(vl_count_fds(), before);
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    vl_assert_fails(vl_mountinfo_each(gone, stop_at_second, &seen), ENOENT,
                    "mountinfo");
}

Test(mountinfo, has_option_matches_whole_words)
{
    struct vl_mountinfo m = {.options = "rw,nosuid,relatime"};

    cr_assert(vl_mountinfo_has_option(&m, "rw"));
    cr_assert(vl_mountinfo_has_option(&m, "nosuid"));
    cr_assert(vl_mountinfo_has_option(&m, "relatime"));
    cr_assert(!vl_mountinfo_has_option(&m, "nosu"));
    cr_assert(!vl_mountinfo_has_option(&m, "ro"));
    cr_assert(!vl_mountinfo_has_option(&m, "atime"));
    m.options[0] = '\0';
    cr_assert(!vl_mountinfo_has_option(&m, "rw"));
}
