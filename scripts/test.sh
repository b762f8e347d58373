#!/usr/bin/env bash
# The whole suite, as `npm test` and CI run it:
#   1. type-check with tsc (Node) and deno check (Deno) on every source file;
#   2. deno.json in step with package.json;
#   3. vitest: unit, integration (real nats-server, Docker), e2e (CLI, kubectl, Deno smoke), chaos.
# It ends with one line "berth tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
step() { printf '\n== %s\n' "$*"; }

step "tsc --noEmit"
npx tsc --noEmit || fail=1

step "deno.json in step with package.json"
node scripts/sync-deno.mjs --check || fail=1

step "deno check (every source file)"
mapfile -t files < <(git ls-files --cached --others --exclude-standard 'mod.ts' 'actors/*.ts' 'runtime/*.ts' 'runtime/**/*.ts' 'test/*.ts' 'test/**/*.ts' 'bench/*.ts' | sort -u | while read -r f; do [ -f "$f" ] && echo "$f"; done)
npx deno check --quiet "${files[@]}" || fail=1

step "vitest"
report=$(mktemp)
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
vitest_rc=$?
[ $vitest_rc -ne 0 ] && fail=1
summary=$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`berth tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" 2>/dev/null || echo "berth tests: 0 passed, 1 failed")
rm -f "$report"
[ $fail -ne 0 ] && echo "(type checks or vitest failed; see above)"
echo "$summary"
exit $fail
