#!/usr/bin/env bash
# TEST MACHINES ONLY (called by the test script, never by user-facing code).
# Installs BCC (bpfcc-tools, python3-bpfcc) and Debian's kernel headers, and, when the running kernel has no
# headers of its own (this project's custom CI kernel), links /lib/modules/$(uname -r)/build and .../source to
# the Debian headers so BCC can compile its programs. Users' distributions ship matching headers instead.
# Idempotent: installs only what is missing and never replaces an existing build/source entry.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

log() { printf '[setup-bcc] %s\n' "$*"; }

# shellcheck source=scripts/aptPackages.sh
source "$(dirname "${BASH_SOURCE[0]}")/aptPackages.sh"

install_missing_packages bpfcc-tools python3-bpfcc linux-headers-amd64

# The newest installed Debian header tree: /usr/src/linux-headers-<ver>-amd64 and its -common sibling.
arch_headers="$(find /usr/src -maxdepth 1 -type d -name 'linux-headers-*-amd64' | sort -V | tail -n1)"
if [[ -z "$arch_headers" ]]; then
  log "no /usr/src/linux-headers-*-amd64 after installing linux-headers-amd64" >&2
  exit 1
fi
common_headers="${arch_headers%-amd64}-common"
if [[ ! -d "$common_headers" ]]; then
  log "missing $common_headers (next to $arch_headers)" >&2
  exit 1
fi

modules_dir="/lib/modules/$(uname -r)"
as_root mkdir -p "$modules_dir"
link_if_missing() {
  local link=$1 target=$2
  # -e follows the link: a dangling link is replaced, a working directory or link is kept.
  if [[ -e "$link" ]]; then
    log "$link exists ($(readlink -f "$link")); kept"
    return
  fi
  as_root ln -sfn "$target" "$link"
  log "linked $link -> $target"
}
link_if_missing "$modules_dir/build" "$arch_headers"
link_if_missing "$modules_dir/source" "$common_headers"

if ! /usr/bin/python3 -c 'import bcc' 2>/dev/null; then
  log "python3-bpfcc is installed but /usr/bin/python3 cannot import bcc" >&2
  exit 1
fi
log "done"
