#!/usr/bin/env bash
# Unpacks the real Bitcoin Core shipped in ../shared/bitcoin-core (or $BITCOIN_CORE_SHARED) into the git-ignored
# folder .real-node/ of this clone, once:
#   .real-node/master/bin/{bitcoind,bitcoin-cli}   Bitcoin Core master 31.99.0 (v29-style TRACEPOINT, semaphores)
#   .real-node/master/bitcoin/                      its source tree (call sites, contrib/tracing, test/functional)
#   .real-node/v28.99/bin/{bitcoind,bitcoin-cli}   the older node (TRACEn, no semaphores, 15 tracepoints)
# Prints the environment the real-node tests read (BITCOIND, BITCOIN_CLI, BITCOIN_SOURCE, BITCOIND_OLD,
# BITCOIN_CLI_OLD) as `export` lines: `eval "$(bash scripts/unpack-real-node.sh)"`.
# Exits non-zero (it never skips) when the shared folder is missing: CI must run the real-node tier.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${BITCOIN_CORE_SHARED:-$repo_root/../shared/bitcoin-core}"
dest="$repo_root/.real-node"

log() { printf '[unpack-real-node] %s\n' "$*" >&2; }

if [[ ! -f "$shared/bitcoind.xz" ]]; then
  log "no real Bitcoin Core at $shared (bitcoind.xz missing); set BITCOIN_CORE_SHARED to the folder that has it"
  exit 1
fi

# unpack_binary SOURCE.xz DEST: decompresses when DEST is missing or older than SOURCE.
unpack_binary() {
  local source=$1 target=$2
  if [[ -x "$target" && "$target" -nt "$source" ]]; then return; fi
  mkdir -p "$(dirname "$target")"
  xz -dc "$source" >"$target.partial"
  chmod 0755 "$target.partial"
  mv "$target.partial" "$target"
  log "unpacked $target"
}

unpack_binary "$shared/bitcoind.xz" "$dest/master/bin/bitcoind"
unpack_binary "$shared/bitcoin-cli.xz" "$dest/master/bin/bitcoin-cli"
if [[ -f "$shared/v28.99/bitcoind.xz" ]]; then
  unpack_binary "$shared/v28.99/bitcoind.xz" "$dest/v28.99/bin/bitcoind"
  unpack_binary "$shared/v28.99/bitcoin-cli.xz" "$dest/v28.99/bin/bitcoin-cli"
fi
if [[ ! -f "$dest/master/bitcoin/.unpacked" || "$shared/bitcoin-src.tar.xz" -nt "$dest/master/bitcoin/.unpacked" ]]; then
  rm -rf "$dest/master/bitcoin"
  tar -xJf "$shared/bitcoin-src.tar.xz" -C "$dest/master"
  touch "$dest/master/bitcoin/.unpacked"
  log "unpacked the source tree into $dest/master/bitcoin"
fi
# Other users (the non-root test user) must be able to read and run them.
chmod -R a+rX "$dest"

printf 'export BITCOIND=%q\n' "$dest/master/bin/bitcoind"
printf 'export BITCOIN_CLI=%q\n' "$dest/master/bin/bitcoin-cli"
printf 'export BITCOIN_SOURCE=%q\n' "$dest/master/bitcoin"
if [[ -x "$dest/v28.99/bin/bitcoind" ]]; then
  printf 'export BITCOIND_OLD=%q\n' "$dest/v28.99/bin/bitcoind"
  printf 'export BITCOIN_CLI_OLD=%q\n' "$dest/v28.99/bin/bitcoin-cli"
fi
