#!/usr/bin/env bash
# Regenerates demo/recordings/p2p-traffic-demo.ndjson: the real p2p-traffic probe (bpftrace, as root, through
# the privileged helper and `run --record`) against the test tracee firing the p2p scenario with hostile
# peers at a modest rate for about 15 s. Needs root (or sudo), bpftrace 0.17+ and gcc.
set -euo pipefail
cd "$(dirname "$0")/.."

out=demo/recordings/p2p-traffic-demo.ndjson
tracee=test/tracee/build/tracee-v29
rate=${RATE:-200}
duration_ms=${DURATION_MS:-15000}

make -C test/tracee >/dev/null
work=$(mktemp -d)
tracee_pid=""
trap 'kill "$tracee_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$tracee" --scenario p2p --hostile --peers 12 --rate "$rate" --duration-ms "$duration_ms" --seed 2024 --wait-signal \
  >"$work/tracee.out" &
tracee_pid=$!
until grep -qs "^ready" "$work/tracee.out"; do sleep 0.1; done

npx tsx --eval "import('./src/cli/runCommand.ts').then((m) => (m.runCommand ?? m.default.runCommand)(process.argv.slice(1))).then((code) => process.exit(code))" \
  p2p-traffic --pid "$tracee_pid" --record "$out" >/dev/null 2>"$work/run.err" &
run_pid=$!
until grep -q '# attached' "$work/run.err"; do
  kill -0 "$run_pid" 2>/dev/null || { cat "$work/run.err" >&2; exit 1; }
  sleep 0.1
done
kill -USR1 "$tracee_pid"
wait "$run_pid"
grep -v '^#' "$work/run.err" | tail -1 >&2 || true
echo "wrote $out: $(wc -l <"$out") lines, $(du -h "$out" | cut -f1)" >&2
