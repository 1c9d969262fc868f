#!/usr/bin/env bash
# Everything CI checks, in order: set-up, typecheck, lint, build, unit tests, tool-backed tests (root, real
# bpftrace), the real-node tier (root, a real Bitcoin Core on regtest), integration tests in a real VS Code (trusted,
# untrusted workspace, window reload, VS Code as a normal user with sudo, Go to source in the real source tree),
# packaging.
# Stops at the first failing step. The last line is always `N passed, M failed` over all mocha suites that ran.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
export DEBIAN_FRONTEND=noninteractive

total_passed=0
total_failed=0
step_times=()
output_dir="$(mktemp -d "${TMPDIR:-/tmp}/bitcoin-usdt-test.XXXXXX")"

print_summary() {
  local status=$?
  if [[ ${#step_times[@]} -gt 0 ]]; then
    printf '\n[test] step times: %s\n' "${step_times[*]}"
  fi
  rm -rf "$output_dir"
  echo "$total_passed passed, $total_failed failed"
  exit "$status"
}
trap print_summary EXIT

# run_step NAME COMMAND...: runs the command, records its time, stops everything when it fails.
run_step() {
  local name=$1 started=$SECONDS status=0
  shift
  printf '\n[test] ===== %s =====\n' "$name"
  "$@" || status=$?
  step_times+=("$name=$((SECONDS - started))s")
  if [[ $status -ne 0 ]]; then
    printf '\n[test] step "%s" FAILED (exit code %d)\n' "$name" "$status" >&2
    exit "$status"
  fi
}

# run_suite NAME COMMAND...: like run_step for a mocha suite, adding its "N passing" / "M failing" counts.
run_suite() {
  local name=$1 started=$SECONDS status=0 log passed failed
  shift
  log="$output_dir/$name.log"
  printf '\n[test] ===== %s =====\n' "$name"
  "$@" 2>&1 | tee "$log" || status=$?
  step_times+=("$name=$((SECONDS - started))s")
  passed="$(grep -E '^\s*[0-9]+ passing' "$log" | tail -n1 | grep -oE '[0-9]+' | head -n1 || true)"
  failed="$(grep -E '^\s*[0-9]+ failing' "$log" | tail -n1 | grep -oE '[0-9]+' | head -n1 || true)"
  total_passed=$((total_passed + ${passed:-0}))
  total_failed=$((total_failed + ${failed:-0}))
  if [[ $status -ne 0 ]]; then
    # A suite that crashed before reporting still counts as a failure.
    if [[ -z "$failed" || "$failed" -eq 0 ]]; then total_failed=$((total_failed + 1)); fi
    printf '\n[test] suite "%s" FAILED (exit code %d)\n' "$name" "$status" >&2
    exit "$status"
  fi
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  else
    sudo --preserve-env env "PATH=$PATH" "$@"
  fi
}

check_package() {
  local vsix=dist/bitcoin-usdt.vsix listing missing=0 entry
  if [[ ! -f README.md ]]; then
    echo "README.md is missing: vsce needs it" >&2
    return 1
  fi
  rm -f "$vsix"
  # Inside `run_step ... || status=$?` errexit is off: check each command.
  npm run package || return 1
  listing="$(unzip -l "$vsix")" || return 1
  echo "$listing"
  for entry in extension/package.json extension/dist/extension.js extension/dist/cli.js extension/dist/webview/ \
    extension/probes/ extension/media/ extension/README.md; do
    if ! grep -qiF " $entry" <<<"$listing"; then
      echo "the package lacks $entry" >&2
      missing=1
    fi
  done
  for entry in extension/src/ extension/test/ extension/node_modules/ extension/.vscode-test/; do
    if grep -qF " $entry" <<<"$listing"; then
      echo "the package must not contain $entry" >&2
      missing=1
    fi
  done
  if grep -qE '\.(ts|map)$' <<<"$listing"; then
    echo "the package contains TypeScript sources or source maps" >&2
    missing=1
  fi
  return "$missing"
}

run_step setup bash scripts/setup.sh
run_step typecheck npm run typecheck
run_step lint npm run lint
run_step build npm run build
# The real Bitcoin Core (../shared/bitcoin-core, or BITCOIN_CORE_SHARED): master 31.99 and 28.99 unpacked into
# .real-node/, their paths exported (BITCOIND, BITCOIN_CLI, BITCOIN_SOURCE, BITCOIND_OLD, BITCOIN_CLI_OLD) for the
# interface tests (unit), the real-node tier and Go to source in the real tree. Those fail, never skip, without them.
unpack_real_node() {
  local exports
  exports="$(bash scripts/unpack-real-node.sh)" || return 1
  eval "$exports"
}
run_step real-node-unpack unpack_real_node
run_suite unit npx mocha --config test/.mocharc.unit.json
# BCC (raw-p2p-msgs, mempool-monitor) compiles against kernel headers; test machines only (see the script).
run_step bcc-headers as_root bash scripts/setup-bcc-test-headers.sh
run_suite tools as_root npx mocha --config test/.mocharc.tools.json
run_suite realnode as_root npx mocha --config test/.mocharc.realnode.json
run_suite integration node dist/test/runIntegration.js
# Workspace trust on and the test workspace not trusted: discovery and replay work, starting probes does not.
run_suite integration-untrusted node dist/test/runIntegration.js --mode untrusted
# The P2P panel comes back after a window reload.
run_suite integration-reload node dist/test/runIntegration.js --mode reload
# VS Code as an unprivileged user who types the sudo password into the probe terminal (creates the user
# bitcoin-usdt-test and a sudoers drop-in for the run, and removes the drop-in again).
run_suite integration-nonroot as_root node dist/test/runIntegration.js --mode nonroot
# Go to source of every tracepoint of the real bitcoind, in the real source tree.
run_suite integration-realnode node dist/test/runIntegration.js --mode realnode
run_step package check_package
printf '\n[test] all steps passed\n'
