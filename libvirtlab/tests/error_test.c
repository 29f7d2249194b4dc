/* error_test.c - the error chain of virtlab/error.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "virtlab/error.h"

Test(error, records_message_with_strerror)
{
    int r = vl_err(ENOENT, "open %s", "/nope");

    cr_assert_eq(r, -ENOENT);
    cr_assert_str_eq(vl_errmsg(), "open /nope: No such file or directory");
}

Test(error, accepts_negative_errno)
{
    cr_assert_eq(vl_err(-EACCES, "x"), -EACCES);
    cr_assert_str_eq(vl_errmsg(), "x: Permission denied");
}

Test(error, plain_message_has_no_strerror)
{
    cr_assert_eq(vl_err_plain(EINVAL, "bad size %d", 3), -EINVAL);
    cr_assert_str_eq(vl_errmsg(), "bad size 3");
}

Test(error, zero_errno_becomes_eio)
{
    cr_assert_eq(vl_err(0, "something"), -EIO);
    cr_assert_str_eq(vl_errmsg(), "something");
}

Test(error, context_reads_outermost_first)
{
    vl_err(ENOENT, "open hello.bin");
    cr_assert_eq(vl_err_ctx(-ENOENT, "reading the guest"), -ENOENT);
    vl_err_ctx(-ENOENT, "loading");
    cr_assert_str_eq(vl_errmsg(), "loading: reading the guest: open "
                                  "hello.bin: No such file or directory");
}

Test(error, hint_is_appended_on_its_own_line)
{
    vl_err(EACCES, "open /dev/kvm");
    vl_err_hint("join the %s group", "kvm");
    cr_assert_str_eq(vl_errmsg(), "open /dev/kvm: Permission denied\n"
                                  "  hint: join the kvm group");
}

Test(error, preserves_errno)
{
    errno = EBUSY;
    vl_err(ENOENT, "x");
    vl_err_ctx(-1, "y");
    vl_err_hint("z");
    cr_assert_eq(errno, EBUSY);
}

Test(error, long_chain_is_truncated_not_overflowed)
{
    char big[3 * VL_ERRMSG_MAX];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    vl_err_plain(EINVAL, "%s", big);
    cr_assert_eq(strlen(vl_errmsg()), VL_ERRMSG_MAX - 1);
    vl_err_ctx(-EINVAL, "context");
    cr_assert_eq(strncmp(vl_errmsg(), "context: aaa", 12), 0);
    cr_assert_eq(strlen(vl_errmsg()), VL_ERRMSG_MAX - 1);
    for (int i = 0; i < 100; i++)
        vl_err_hint("more");
    cr_assert_lt(strlen(vl_errmsg()), (size_t)VL_ERRMSG_MAX);
}

Test(error, clear_forgets)
{
    vl_err(EIO, "x");
    vl_err_clear();
    cr_assert_str_eq(vl_errmsg(), "");
    vl_err_ctx(-1, "only context");
    cr_assert_str_eq(vl_errmsg(), "only context");
}
