#!/usr/bin/env python3
"""make-cases.py [OUT] - write the hostile submissions from the reference.

Each case is ../../solutions/01-kvm-basics/vm.c with hostile code at the top
of mvm_open_kvm(), which nearly every test of lab 01 calls, written to
OUT/<case>/01-kvm-basics/vm.c next to its expected.json. The cases are made
afresh from the current reference each time scripts/test-hostile.sh runs
(into a temporary OUT), so they never drift from it and are not kept in
git. Without OUT they go to build/hostile/, to read them.
"""
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "build", "hostile")
REF = os.path.join(HERE, "..", "..", "solutions", "01-kvm-basics", "vm.c")
ANCHOR = "int mvm_open_kvm(struct minivm *vm)\n{\n"
INCLUDES = ("#include <signal.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
            "#include <arpa/inet.h>\n#include <netinet/in.h>\n"
            "#include <sys/socket.h>\n")

# name: (hostile code, expected)
CASES = {
    "fork-bomb": ("    for (;;)\n        fork(); /* HOSTILE: a fork bomb */\n",
                  {"max_points": 5, "message": "limit of 1024 tasks"}),
    "infinite-loop": ("    for (;;) /* HOSTILE: never returns */\n"
                      "        __asm__ volatile(\"\");\n",
                      {"max_points": 5, "message": "limit and were stopped"}),
    "memory-hog": ("    for (;;) { /* HOSTILE: eats memory, 256 MiB at a time */\n"
                   "        char *p = malloc(256u << 20);\n"
                   "        if (p)\n            memset(p, 1, 256u << 20);\n    }\n",
                   # the 9 tests without mvm_open_kvm() pass (19 points),
                   # unless the OOM killer picks Criterion's runner: 0
                   {"max_points": 19, "message": "memory limit"}),
    "gigabyte-output": (
        "    { /* HOSTILE: 1 GiB on stdout, once per run, then honest */\n"
        "        static char buf[1 << 20];\n"
        "        int once = open(\"gigabyte.done\", O_CREAT | O_EXCL | O_WRONLY, 0600);\n"
        "        memset(buf, 'x', sizeof(buf));\n"
        "        for (int i = 0; once >= 0 && i < 1024; i++)\n"
        "            if (write(1, buf, sizeof(buf)) < 0)\n                break;\n"
        "        if (once >= 0)\n            close(once);\n    }\n",
        {"points": 35}),
    "segfault": ("    *(volatile int *)0 = 1; /* HOSTILE: a null pointer */\n",
                 # 9 tests set their VM up without mvm_open_kvm(): 19 points
                 {"points": 19, "message": "store to null pointer"}),
    "kill-parent": ("    kill(getppid(), SIGKILL); /* HOSTILE: the runner, */\n"
                    "    kill(-1, SIGKILL);        /* and everything else */\n",
                    {"max_points": 5, "message": "test binary"}),
    "write-outside": (
        "    { /* HOSTILE: writes to the course tree, its tests and /tmp */\n"
        "        const char *root = getenv(\"VLAB_HOSTILE_ROOT\");\n"
        "        char p[4096];\n        FILE *f;\n"
        "        snprintf(p, sizeof(p), \"%s/labs/01-kvm-basics/tests/kvm_basics_test.c\", root ? root : \"/nonexistent\");\n"
        "        if ((f = fopen(p, \"a\")))\n            fputs(\"/* hacked */\\n\", f), fclose(f);\n"
        "        snprintf(p, sizeof(p), \"%s/hostile-was-here\", root ? root : \"/nonexistent\");\n"
        "        if ((f = fopen(p, \"w\")))\n            fclose(f);\n"
        "        if ((f = fopen(\"/tmp/vlab-hostile-was-here\", \"w\")))\n            fclose(f);\n    }\n",
        {"points": 35}),
    "network": (
        "    { /* HOSTILE: phones home; must fail, and the lab still grades */\n"
        "        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);\n"
        "        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};\n"
        "        inet_pton(AF_INET, \"1.1.1.1\", &a.sin_addr);\n"
        "        if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)\n"
        "            abort(); /* reached the outside: no sandbox */\n"
        "        if (s >= 0)\n            close(s);\n    }\n",
        {"points": 35}),
}

def main():
    ref = open(REF).read()
    if ANCHOR not in ref:
        sys.exit("make-cases.py: mvm_open_kvm not found in " + REF)
    ref = ref.replace("#include <errno.h>\n", "#include <errno.h>\n" + INCLUDES, 1)
    for name, (code, expected) in CASES.items():
        d = os.path.join(OUT, name, "01-kvm-basics")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "vm.c"), "w") as f:
            f.write(ref.replace(ANCHOR, ANCHOR + code, 1))
        expected = dict(lab="01", **expected)
        with open(os.path.join(OUT, name, "expected.json"), "w") as f:
            json.dump(expected, f, indent=2)
            f.write("\n")
    # An edited test file: the skeleton's stage file, and tests that pass
    # whatever it does. The grader uses its own tests: 0 points.
    d = os.path.join(OUT, "edited-test", "01-kvm-basics", "tests")
    os.makedirs(d, exist_ok=True)
    skel = open(os.path.join(HERE, "..", "..", "labs", "01-kvm-basics", "vm.c")).read()
    open(os.path.join(OUT, "edited-test", "01-kvm-basics", "vm.c"), "w").write(skel)
    open(os.path.join(d, "kvm_basics_test.c"), "w").write(
        "/* HOSTILE: every test passes */\n#include <criterion/criterion.h>\n"
        "Test(kvm_basics, opens_dev_kvm) {}\nTest(kvm_basics, creates_vm) {}\n")
    with open(os.path.join(OUT, "edited-test", "expected.json"), "w") as f:
        json.dump({"lab": "01", "points": 0, "message": ""}, f, indent=2)
        f.write("\n")

main()
