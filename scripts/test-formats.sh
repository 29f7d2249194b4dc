#!/bin/sh
# test-formats.sh - every report format from one real grading run (lab 01 of
# the reference solutions, about 15 s): the JUnit XML is valid against
# autograder/tests/formats/junit.xsd, the TAP reads back with Perl's
# TAP::Parser, the classroom and Gradescope JSON parse and agree on the
# points, the Markdown summary has the lab's table, and Autolab's
# autoresult is the last line of stdout. The formats' details are checked
# in autograder/tests/formats_test.c.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "formats: $*" >&2; exit 1; }

build/bin/vlab-grade --submission solutions --lab 01 --expect full \
    --json "$dir/results.json" --junit "$dir/junit.xml" --tap "$dir/report.tap" \
    --classroom "$dir/classroom.json" --markdown="$dir/summary.md" \
    --autolab >"$dir/stdout" 2>"$dir/stderr" ||
    { cat "$dir/stdout" "$dir/stderr" >&2; fail "grading lab 01 failed"; }

xmllint --noout --schema autograder/tests/formats/junit.xsd "$dir/junit.xml" \
    2>"$dir/xmllint" || { cat "$dir/xmllint" >&2; fail "JUnit XML not valid"; }
[ "$(xmllint --xpath 'string(/testsuites/testsuite/@failures)' \
     "$dir/junit.xml")" = 0 ] || fail "JUnit: failures in a full score"

# Debian's TAP::Parser knows TAP up to version 13, which TAP 14 is made to
# be readable by: only the version line changes.
sed '1s/^TAP version 14$/TAP version 13/' "$dir/report.tap" >"$dir/report13.tap"
perl -MTAP::Parser -e '
    my $p = TAP::Parser->new({exec => ["cat", $ARGV[0]]});
    while ($p->next) {}
    die "parse errors: " . join("; ", $p->parse_errors) . "\n"
        if $p->parse_errors;
    die "failed tests\n" if $p->failed;
    die "no tests\n" unless $p->tests_run && $p->tests_run == $p->tests_planned;
    print "formats: TAP: ", scalar($p->passed), " ok of ",
        $p->tests_planned, "\n";' "$dir/report13.tap" ||
    fail "TAP not read back by TAP::Parser"

max=$(jq -r .max_score "$dir/results.json")
jq -e --argjson max "$max" \
    '.version == 1 and .status == "pass" and .max_score == $max and
     ([.tests[].score] | add) == $max and all(.tests[]; .status == "pass")' \
    "$dir/classroom.json" >/dev/null || fail "classroom JSON disagrees"
grep -qx "Points [0-9.]*/[0-9.]*" "$dir/stdout" || fail "no Points X/Y line"
tail -n 1 "$dir/stdout" |
    jq -e --argjson max "$max" \
        '.scores["01-kvm-basics"] == $max and .scoreboard[0] == $max' \
        >/dev/null || fail "the last line of stdout is not the autoresult"
grep -q '^| 01-kvm-basics KVM basics | ' "$dir/summary.md" ||
    fail "Markdown summary without lab 01's row"
echo "formats: JUnit, TAP, classroom, Markdown and Autolab agree ($max points)"
