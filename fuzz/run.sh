#!/bin/sh
# run.sh - run the libFuzzer harnesses for a bounded time (fuzz/Makefile).
#
#   fuzz/run.sh --check
#       exit 0 when clang ($FUZZ_CC, default clang) can link a libFuzzer
#       program with ASan and UBSan; otherwise print why on stdout, exit 1.
#   fuzz/run.sh DIR SECONDS "EXTRA ARGS" NAME...
#       run DIR/NAME for SECONDS each, seeds from fuzz/corpus/NAME/ (read
#       only), new inputs to DIR/corpus/NAME/, crashes to DIR/crashes/NAME/,
#       the log to DIR/NAME.log; one summary line per harness. Exit 1 when
#       any harness crashed or broke an invariant.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --check ]; then
    cc=${FUZZ_CC:-clang}
    if ! command -v "$cc" >/dev/null 2>&1; then
        echo "no $cc on this machine (make deps installs clang and" \
            "libclang-rt-dev)"
        exit 1
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cat >"$tmp/probe.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return (int)(data == NULL && size > 0);
}
EOF
    if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" \
        "$tmp/probe.c" >"$tmp/log" 2>&1; then
        echo "$cc cannot link a libFuzzer program:" \
            "$(grep -m1 'cannot find' "$tmp/log" || grep -m1 -i 'error' \
                "$tmp/log" || head -n1 "$tmp/log")" \
            "(make deps installs libclang-rt-dev, clang's libFuzzer)"
        exit 1
    fi
    exit 0
fi

if [ $# -lt 4 ]; then
    echo "usage: $0 DIR SECONDS \"ARGS\" NAME... | $0 --check" >&2
    exit 2
fi
dir=$1
secs=$2
args=$3
shift 3

# The last value libFuzzer printed for one field of its status lines
# ("cov: 312") or of -print_final_stats ("stat::new_units_added: 4").
status_field() {
    sed -n "s/.* $1: \([0-9][0-9]*\).*/\1/p" "$log" | tail -n1
}
final_stat() {
    sed -n "s/^stat::$1: *\([0-9][0-9]*\).*/\1/p" "$log" | tail -n1
}

status=0
for name in "$@"; do
    corpus=$dir/corpus/$name
    crashes=$dir/crashes/$name
    log=$dir/$name.log
    echo "== fuzz: $name ($secs s, stages from ${FUZZ_STAGES:-solutions}) =="
    mkdir -p "$corpus" "$crashes"
    # The writable corpus comes first: libFuzzer adds new inputs there and
    # only reads the committed seeds. -timeout turns an endless loop in the
    # code under test into a reported "timeout" crash.
    # shellcheck disable=SC2086 # $args is a list of options
    "$dir/$name" -max_total_time="$secs" -timeout=10 -error_exitcode=1 \
        -print_final_stats=1 \
        -artifact_prefix="$crashes/" $args "$corpus" "$root/fuzz/corpus/$name" \
        >"$log" 2>&1
    rc=$?
    runs=$(final_stat number_of_executed_units)
    rate=$(final_stat average_exec_per_sec)
    if [ $rc -eq 0 ]; then
        echo "$name: ${runs:-?} inputs in $secs s (${rate:-?}/s), coverage" \
            "$(status_field cov) edges, $(status_field ft) features," \
            "corpus $(status_field corp) inputs: OK"
        continue
    fi
    status=1
    echo "$name: FAILED (exit status $rc) after ${runs:-?} inputs; the" \
        "report (whole log: $log):"
    # From the first line of the report on, without libFuzzer's own frames,
    # the input's bytes and the statistics.
    # shellcheck disable=SC1003 # '^\\' matches a backslash
    sed -n '/invariant broken\|ERROR\|runtime error\|deadly signal/,$p' \
        "$log" | grep -v -e 'in fuzzer::' -e '__sanitizer_print_stack' \
        -e 'libc_start' -e ' in _start ' -e ' in main ' -e 'libc\.so' \
        -e 'rudimentary signal' -e 'Combine libFuzzer' -e '^stat::' \
        -e '^MS: ' -e '^0x' -e '^\\' -e '^Base64: ' -e '^ *$' |
        sed '/^Shadow bytes around/,/^Shadow byte legend/d; /^  *[A-Z].*: *[0-9a-f]/d' |
        head -n 40 | sed 's/^/  /'
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
        tail -n1)
    if [ -n "$artifact" ]; then
        echo "reproduce: $dir/$name $artifact"
        echo "  (FUZZ_TRACE=1 in the environment prints each step)"
    fi
done
exit $status
