#!/usr/bin/env bash
# Regenerates the demo recordings demo/recordings/<tool>-demo.ndjson, one per tool, from the real Bitcoin Core:
# for each tool, a fresh regtest network of three nodes of $BITCOIND (default .real-node/master/bin/bitcoind,
# from scripts/unpack-real-node.sh) where node A has a wallet, and the real probe (`run <tool> --pid A
# --record`, through the privileged helper) traces A while A connects to B and C (full-relay, inbound, feeler,
# block-relay-only), mines 101 blocks (flushing its UTXO cache with gettxoutsetinfo every 10), sends, bumps a
# fee, has the replaced transaction rejected when it is sent again, mines the mempool into blocks and drops a
# peer.
# Usage: bash scripts/make-demo-recordings.sh [TOOL...]   (default: every tool). Needs root (the probes),
# bpftrace, BCC for raw-p2p-msgs and mempool-monitor, and `npm run build` done. Takes about a minute a tool.
# Environment: BITCOIND, BITCOIN_CLI; DEMO_PORT_BASE (default 18650: six ports from there).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

log() { printf '[demo-recordings] %s\n' "$*" >&2; }

[[ $(id -u) -eq 0 ]] || { log "run as root: the probes need it"; exit 1; }
if [[ -z "${BITCOIND:-}" || -z "${BITCOIN_CLI:-}" ]]; then
  real_node_environment="$(bash scripts/unpack-real-node.sh)"
  eval "$real_node_environment"
fi
[[ -f dist/cli.js ]] || { log "dist/cli.js is missing: run npm run build"; exit 1; }

# Every tool of the manifest, in its order.
mapfile -t all_tools < <(python3 -I -S -c 'import json, sys; [print(t["id"]) for t in json.load(open(sys.argv[1]))["tools"]]' probes/tools.json)
# What the generated tool traces in its demo: block_connected, every argument read as Trace this tracepoint proposes.
trace_tracepoint_args=(--tracepoint validation:block_connected --args hash,s32,u64,s32,s64,s64)
tools=("$@")
[[ ${#tools[@]} -gt 0 ]] || tools=("${all_tools[@]}")

port_base=${DEMO_PORT_BASE:-18650}
work="$(mktemp -d "${TMPDIR:-/tmp}/bitcoin-usdt-demo.XXXXXX")"
node_pids=()
run_pid=""
# A private copy: the kernel refuses a BCC probe on tracepoints that another tracer (a bpftrace tool of some
# other session) has attached to in the same file.
mkdir -p "$work/bin"
cp "$BITCOIND" "$work/bin/bitcoind"
BITCOIND="$work/bin/bitcoind"

cleanup() {
  [[ -n "$run_pid" ]] && kill -INT "$run_pid" 2>/dev/null || true
  for pid in "${node_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Node n (0 = A, 1 = B, 2 = C): P2P port base+2n, RPC port base+2n+1.
p2p_port() { echo $((port_base + 2 * $1)); }
cli() {
  local n=$1
  shift
  "$BITCOIN_CLI" -regtest -datadir="$work/node$n" -rpcport=$((port_base + 2 * n + 1)) "$@"
}

start_network() {
  node_pids=()
  local n
  for n in 0 1 2; do
    rm -rf "$work/node$n"
    mkdir -p "$work/node$n"
    "$BITCOIND" -regtest -datadir="$work/node$n" -port="$(p2p_port "$n")" -bind=127.0.0.1 \
      -rpcport=$((port_base + 2 * n + 1)) -rpcbind=127.0.0.1 -rpcallowip=127.0.0.1 -server=1 -listen=1 \
      -listenonion=0 -dnsseed=0 -fixedseeds=0 -discover=0 -fallbackfee=0.0002 -printtoconsole=0 &
    node_pids+=($!)
  done
  for n in 0 1 2; do cli "$n" -rpcwait -rpcwaittimeout=60 getblockcount >/dev/null; done
  cli 0 createwallet demo >/dev/null
}

stop_network() {
  local n pid
  for n in 0 1 2; do cli "$n" stop >/dev/null 2>&1 || true; done
  for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  node_pids=()
}

wait_for() {
  local what=$1 tries=0
  shift
  until "$@"; do
    tries=$((tries + 1))
    [[ $tries -lt 100 ]] || { log "timed out waiting for $what"; return 1; }
    sleep 0.2
  done
}
synced() { [[ "$(cli 1 getblockcount)" == "$(cli 0 getblockcount)" && "$(cli 2 getblockcount)" == "$(cli 0 getblockcount)" ]]; }
connections_are() { [[ "$(cli 0 getconnectioncount)" == "$1" ]]; }

# What node A does while it is traced.
workload() {
  local address txid replaced_hex n
  # Connections of every kind regtest can open on demand: a full-relay peer B, an inbound from C, a feeler to
  # C (closed after the handshake), then a block-relay-only peer C.
  cli 0 addconnection "127.0.0.1:$(p2p_port 1)" outbound-full-relay false >/dev/null
  cli 2 addnode "127.0.0.1:$(p2p_port 0)" onetry
  wait_for "A's two connections" connections_are 2
  cli 0 addconnection "127.0.0.1:$(p2p_port 2)" feeler false >/dev/null
  sleep 1
  wait_for "the feeler to close" connections_are 2
  cli 0 addconnection "127.0.0.1:$(p2p_port 2)" block-relay-only false >/dev/null
  wait_for "A's three connections" connections_are 3
  address="$(cli 0 -rpcwallet=demo getnewaddress)"
  for n in $(seq 1 10); do
    cli 0 generatetoaddress 10 "$address" >/dev/null
    cli 0 gettxoutsetinfo >/dev/null
    sleep 0.3
  done
  cli 0 generatetoaddress 1 "$address" >/dev/null
  wait_for "B and C to follow A's chain" synced
  for n in 1 2 3 4 5; do
    cli 0 -rpcwallet=demo sendtoaddress "$(cli 0 -rpcwallet=demo getnewaddress)" "$n.25" >/dev/null
    sleep 0.3
  done
  txid="$(cli 0 -rpcwallet=demo sendtoaddress "$(cli 0 -rpcwallet=demo getnewaddress)" 7.5)"
  replaced_hex="$(cli 0 -rpcwallet=demo gettransaction "$txid" | sed -n 's/^ *"hex": "\([0-9a-f]*\)".*/\1/p')"
  sleep 0.5
  cli 0 -rpcwallet=demo bumpfee "$txid" >/dev/null
  sleep 0.5
  # The original again: it conflicts with its own replacement and pays less, so A rejects it.
  if cli 0 sendrawtransaction "$replaced_hex" >/dev/null 2>&1; then
    log "node A accepted a transaction it should have rejected"
    return 1
  fi
  sleep 0.5
  cli 0 gettxoutsetinfo >/dev/null
  cli 0 generatetoaddress 1 "$address" >/dev/null
  sleep 0.5
  cli 0 -rpcwallet=demo sendmany "" "{\"$(cli 0 -rpcwallet=demo getnewaddress)\": 0.5, \"$(cli 0 -rpcwallet=demo getnewaddress)\": 0.75}" >/dev/null
  sleep 0.5
  cli 0 generatetoaddress 2 "$address" >/dev/null
  wait_for "B and C to follow A's chain" synced
  cli 0 gettxoutsetinfo >/dev/null
  cli 0 disconnectnode "127.0.0.1:$(p2p_port 1)"
  wait_for "A's two remaining connections" connections_are 2
  sleep 1
}

record() {
  local tool=$1 out="demo/recordings/$1-demo.ndjson" errors="$work/run.err"
  log "$tool: starting the network"
  start_network
  : >"$errors"
  local extra=()
  [[ $tool == trace-tracepoint ]] && extra=("${trace_tracepoint_args[@]}")
  node dist/cli.js run "$tool" --pid "${node_pids[0]}" "${extra[@]}" --record "$out.partial" >/dev/null 2>"$errors" &
  run_pid=$!
  until grep -q '# attached' "$errors"; do
    kill -0 "$run_pid" 2>/dev/null || { cat "$errors" >&2; return 1; }
    sleep 0.2
  done
  log "$tool: attached; running the workload"
  workload
  kill -INT "$run_pid"
  wait "$run_pid" || { cat "$errors" >&2; return 1; }
  run_pid=""
  stop_network
  mv "$out.partial" "$out"
  log "$tool: wrote $out: $(wc -l <"$out") lines, $(du -h "$out" | cut -f1); $(grep -v '^#' "$errors" | tail -n1)"
}

for tool in "${tools[@]}"; do
  record "$tool"
done
du -ch demo/recordings/*.ndjson | tail -n1 >&2
