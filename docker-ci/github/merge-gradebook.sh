#!/bin/sh
# merge-gradebook.sh [--list FILE] OUT.csv DIR
#
# Merges the results.json files of a class, graded one submission per CI
# job (instructor-batch.yml, virtlab-grade.gitlab-ci.yml), into one
# gradebook CSV shaped like `vlab-grade --batch --csv`'s:
#
#   student,<lab slug>...,total,max,notes
#
# DIR holds one folder per student, each with a results.json:
#   DIR/<student>/results.json           (GitLab: results/<student>/)
#   DIR/results-<student>/results.json   (GitHub: download-artifact names
#                                         each folder after its artifact)
# The "results-" prefix is dropped from the student's name. Rows are sorted
# by student; the lab columns are every lab slug seen in any results.json,
# sorted. --list FILE (the submissions list: `name git-url [ref]` lines,
# `#` comments) adds a row for each listed student without a results.json
# (their grading job died before writing one), with the note saying so, so
# that nobody drops out of the gradebook silently.
#
# What is read from results.json (Gradescope's format as vlab-grade writes
# it, autograder/README.md "Report formats"; autograder/gradescope.c):
#   .score, .max_score            the submission's total and maximum
#   .tests[].number               "<lab number>.<index>", e.g. "1.3" (the
#                                 lab's number without leading zeros)
#   .tests[].score                the points one rubric test earned
#   .extra_data.labs              {"<slug>": {"outcome": ...}} for every
#                                 graded lab: "ran", "build failed",
#                                 "timed out", "incomplete", "grader error"
# A lab's points are the sum of .score over the tests whose number starts
# with the lab's number (the digits before the slug's first "-"). As in
# --batch, a lab with a grader error is an empty field, never a 0 (the
# score cannot be trusted), and every outcome but "ran" is named in notes.
#
# CSV: RFC 4180 as --batch writes it: CRLF line ends, fields quoted when
# they hold a comma, a quote or a line break, quotes doubled. Needs jq.
set -eu

prog=merge-gradebook.sh
die() { echo "$prog: $*" >&2; exit 2; }
usage() { die "usage: $prog [--list SUBMISSIONS.txt] OUT.csv DIR"; }

list=""
while [ $# -gt 0 ]; do
    case $1 in
    --list) [ $# -ge 2 ] || usage; list=$2; shift 2 ;;
    --list=*) list=${1#--list=}; shift ;;
    -h|--help) sed -n '2,36s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -eq 2 ] || usage
out=$1
dir=$2
command -v jq >/dev/null 2>&1 ||
    die "jq is missing: install it (apt-get install jq; scripts/deps.sh core has it)"
[ -d "$dir" ] || die "$dir: no such folder (it should hold one folder per student with a results.json)"
[ -z "$list" ] || [ -r "$list" ] || die "$list: cannot read the submissions list"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# One JSON object per line for each results.json found: the student's name
# and the file, checked to be Gradescope results as vlab-grade writes them.
n=0
for f in "$dir"/*/results.json; do
    [ -f "$f" ] || continue
    student=$(basename "$(dirname "$f")")
    student=${student#results-}
    if ! jq -e 'type == "object" and (.score | type) == "number" and
                (.max_score | type) == "number" and (.tests | type) == "array"
                and (.extra_data.labs | type) == "object"' "$f" >/dev/null 2>&1; then
        die "$f: not a results.json written by vlab-grade --json (needs score, max_score, tests[], extra_data.labs)"
    fi
    jq -c --arg student "$student" '{student: $student, r: .}' "$f" >>"$tmp/all.jsonl"
    n=$((n + 1))
done

# Students of the list without results: a row with a note, no points.
if [ -n "$list" ]; then
    sed -e 's/#.*//' "$list" | while read -r name _rest; do
        [ -n "$name" ] || continue
        [ -f "$dir/$name/results.json" ] || [ -f "$dir/results-$name/results.json" ] ||
            jq -cn --arg student "$name" '{student: $student, r: null}'
    done >>"$tmp/all.jsonl"
fi
[ -s "$tmp/all.jsonl" ] ||
    die "no $dir/<student>/results.json found (and no --list): nothing to merge"

jq -rs '
  # The lab number of a slug, as the tests numbers write it: "01-x" -> "1".
  def labno: (split("-")[0] | tonumber | tostring);
  def csvfield:
    if type == "string" and test("[\",\r\n]") then "\"" + gsub("\""; "\"\"") + "\""
    elif . == null then ""
    else tostring end;
  def row: map(csvfield) | join(",") + "\r";
  (map(.r // {} | .extra_data.labs // {} | keys) | add | unique) as $slugs
  | (["student"] + $slugs + ["total", "max", "notes"] | row),
    (sort_by(.student)[]
     | .student as $s
     | if .r == null then
         [$s] + ($slugs | map(null)) + [null, null, "no results.json (the grading job failed: see its log)"]
       else .r as $r
         | [$s]
           + ($slugs | map(. as $slug
               | ($r.extra_data.labs[$slug].outcome) as $o
               | if $o == null or $o == "grader error" then null
                 else [$r.tests[] | select((.number | split(".")[0]) == ($slug | labno)) | .score] | add // 0
                 end))
           + [$r.score, $r.max_score,
              ([$r.extra_data.labs | to_entries[] | select(.value.outcome != "ran")
                | "\(.key): \(.value.outcome)"] | join("; "))]
       end
     | row)
' "$tmp/all.jsonl" >"$tmp/gradebook.csv" ||
    die "jq failed to merge (above)"

mv "$tmp/gradebook.csv" "$out" 2>/dev/null || cp "$tmp/gradebook.csv" "$out" ||
    die "cannot write $out"
rows=$(($(wc -l <"$out") - 1))
echo "$prog: $out: $rows student(s), $n results.json merged"
