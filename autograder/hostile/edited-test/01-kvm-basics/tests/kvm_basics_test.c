/* HOSTILE: every test passes */
#include <criterion/criterion.h>
Test(kvm_basics, opens_dev_kvm)
{
}
Test(kvm_basics, creates_vm)
{
}
