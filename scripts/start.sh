#!/usr/bin/env bash
# Opens the extension in VS Code on the demo workspace test/tracee (a USDT binary at build/bin/bitcoind and the
# source with its TRACEPOINT call sites). With a desktop `code` on PATH it opens a window; otherwise it starts
# the offline VS Code server and prints the URL to open in a browser, running until Ctrl-C.
# Environment: BITCOIN_USDT_DEMO_PORT (default 8790), BITCOIN_USDT_DEMO_HOST (default 127.0.0.1),
# BITCOIN_USDT_SKIP_SETUP=1 to skip scripts/setup.sh.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

log() { printf '[start] %s\n' "$*"; }

if [[ "${BITCOIN_USDT_SKIP_SETUP:-}" != "1" ]]; then
  bash scripts/setup.sh
fi
log "building"
npm run build

demo_workspace="$repo_root/test/tracee"
if [[ ! -f "$demo_workspace/build/bin/bitcoind" ]]; then
  log "$demo_workspace/build/bin/bitcoind is missing: run make -C test/tracee" >&2
  exit 1
fi

# A live target: the tracee plays a small node's traffic (P2P, connections, blocks, UTXO cache, mempool,
# wallet) at ~200 events/s, so "Start probe…" has a running process to attach to at once.
start_demo_node() {
  local how=$1 node_log="$repo_root/.vscode-test/demo-node.log"
  mkdir -p "$repo_root/.vscode-test"
  if [[ $how == detached ]]; then
    setsid "$demo_workspace/build/bin/bitcoind" --scenario demo >"$node_log" 2>&1 </dev/null &
    log "demo node running as PID $! (stop it with: kill $!)"
  else
    "$demo_workspace/build/bin/bitcoind" --scenario demo >"$node_log" 2>&1 </dev/null &
    demo_node_pid=$!
    trap 'kill "$demo_node_pid" 2>/dev/null || true' EXIT
    log "demo node running as PID $demo_node_pid (stopped with the server)"
  fi
}

if command -v code >/dev/null 2>&1 && [[ "${BITCOIN_USDT_USE_SERVER:-}" != "1" ]]; then
  start_demo_node detached
  log "opening VS Code: code --extensionDevelopmentPath=$repo_root $demo_workspace"
  exec code --extensionDevelopmentPath="$repo_root" "$demo_workspace"
fi

vscode_dir="$repo_root/.vscode-test/server/node_modules/code-server/lib/vscode"
if [[ ! -f "$vscode_dir/out/server-main.js" ]]; then
  bash scripts/setup-vscode-server.sh
fi

host="${BITCOIN_USDT_DEMO_HOST:-127.0.0.1}"
wanted_port="${BITCOIN_USDT_DEMO_PORT:-8790}"
# The wanted port when it is free, otherwise any free port.
port="$(node -e '
  const net = require("node:net");
  const [host, wanted] = process.argv.slice(1);
  const tryPort = (p, fallback) => {
    const server = net.createServer();
    server.once("error", () => (fallback ? tryPort(0, false) : process.exit(1)));
    server.listen(Number(p), host, () => {
      const chosen = server.address().port;
      server.close(() => console.log(chosen));
    });
  };
  tryPort(wanted, true);
' "$host" "$wanted_port")"
if [[ "$port" != "$wanted_port" ]]; then
  log "port $wanted_port is taken, using $port"
fi

data_dir="$repo_root/.vscode-test/demo"
mkdir -p "$data_dir/server-data" "$data_dir/user-data/User" "$data_dir/user-data/Machine" "$data_dir/extensions"
# Written once: changes the user makes in the demo profile are kept across runs.
if [[ ! -f "$data_dir/user-data/User/settings.json" ]]; then
  cat >"$data_dir/user-data/User/settings.json" <<'JSON'
{
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "git.openRepositoryInParentFolders": "never"
}
JSON
fi

url="$(node -e '
  const [host, port, folder, extension] = process.argv.slice(1);
  const payload = [["extensionDevelopmentPath", `vscode-remote://${host}:${port}${extension}`]];
  console.log(`http://${host}:${port}/?${new URLSearchParams({ folder, payload: JSON.stringify(payload) })}`);
' "$host" "$port" "$demo_workspace" "$repo_root")"

log "VS Code server log: $data_dir/server.log"
log "open this URL in a browser (Ctrl-C here stops the server):"
printf '\n    %s\n\n' "$url"
start_demo_node attached
cd "$vscode_dir"
node out/server-main.js \
  --host "$host" --port "$port" \
  --without-connection-token --accept-server-license-terms \
  --server-data-dir "$data_dir/server-data" \
  --user-data-dir "$data_dir/user-data" \
  --extensions-dir "$data_dir/extensions" \
  >"$data_dir/server.log" 2>&1
