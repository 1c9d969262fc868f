#!/usr/bin/env bash
# Idempotent set-up of a Debian 12 machine for building and testing: system packages, npm dependencies, the
# USDT test tracee and the offline VS Code server. Runs as root, or uses sudo for apt-get. Works without stdin.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[setup] %s\n' "$*"; }

# gcc-multilib conflicts with the cross compilers on Debian 12: 32-bit builds use i686-linux-gnu-gcc instead.
# Every package is named: --no-install-recommends leaves out what is only recommended (the cross libcs, g++).
apt_packages=(
  # the test tracee: compilers, libc headers and <sys/sdt.h>, for the host and the three cross builds
  bpftrace systemtap-sdt-dev gcc g++ make binutils libc6-dev
  gcc-i686-linux-gnu gcc-aarch64-linux-gnu gcc-s390x-linux-gnu
  libc6-dev-i386-cross libc6-dev-arm64-cross libc6-dev-s390x-cross
  # the real Bitcoin Core nodes (master and v28.99) and their test framework
  xz-utils python3 libsqlite3-0 libevent-2.1-7 libevent-pthreads-2.1-7 libevent-core-2.1-7
  # the offline VS Code server and its browser; unzip checks the packaged extension
  chromium ripgrep unzip ca-certificates git procps
  # the non-root integration run (VS Code as a normal user who starts probes through sudo) and the security
  # tests (the helper run by a second, unprivileged user through the README's sudo rule)
  sudo
)

# shellcheck source=scripts/aptPackages.sh
source "$repo_root/scripts/aptPackages.sh"

install_npm_dependencies() {
  local stamp="node_modules/.bitcoin-usdt-lock.sha256" wanted
  wanted="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [[ -d node_modules && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    log "npm dependencies match package-lock.json"
    return
  fi
  # A tree installed some other way (npm install after a lock change) is kept when npm finds nothing missing.
  if [[ -d node_modules ]] && npm ls --all >/dev/null 2>&1; then
    log "npm dependencies already installed"
    printf '%s' "$wanted" >"$stamp"
    return
  fi
  log "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
  printf '%s' "$wanted" >"$stamp"
}

build_tracee() {
  if [[ ! -f test/tracee/Makefile ]]; then
    log "test/tracee/Makefile is missing" >&2
    return 1
  fi
  log "building the USDT test tracee (make -C test/tracee)"
  make -C test/tracee
}

install_missing_packages "${apt_packages[@]}"
install_npm_dependencies
build_tracee
bash scripts/setup-vscode-server.sh
log "done"
