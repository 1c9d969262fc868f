#!/usr/bin/env bash
# Checks that the README's two commands work on a fresh Debian 12 machine: builds a minimal Debian 12
# (bookworm, debootstrap --variant=minbase) root, copies in only what the README names as prerequisites and the
# machine image provides (Node.js with its headers and npm, the CA bundle, npm's configuration), bind-mounts
# /proc, /sys and /dev (the real kernel serves bpftrace and BCC), clones a commit of this repository into
# /root/bitcoin-usdt-tracing, and runs there, as root with that root as / (pivot_root in a mount namespace):
#   bash scripts/test.sh    fully (set-up from nothing, then every test);
#   bash scripts/start.sh   with the VS Code server (BITCOIN_USDT_USE_SERVER=1), until the server answers its URL.
# The real Bitcoin Core ($BITCOIN_CORE_SHARED, default ../shared/bitcoin-core beside this clone) is bind-mounted
# read-only at the same relative place, /root/shared/bitcoin-core.
#
# Usage: bash scripts/check-fresh-machine.sh [REF [SOURCE_REPO]]   (as root; REF defaults to main, SOURCE_REPO
# to this clone; only committed work is checked). Takes about an hour on 2 cores; the log is
# $FRESH_WORK/check.log. Re-runnable: every run starts from a pristine copy of the debootstrapped root.
# Environment: FRESH_WORK (default /var/tmp/bitcoin-usdt-fresh, outside the source tree so tsc, eslint and rg
# never scan it), FRESH_MIRROR (default: the Debian mirror apt uses here), FRESH_REBUILD_BASE=1 (debootstrap
# again instead of reusing $FRESH_WORK/bookworm-minbase.tar), FRESH_SKIP_START=1 / FRESH_SKIP_TEST=1.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ref="${1:-main}"
source_repo="${2:-$repo_root}"
work="${FRESH_WORK:-/var/tmp/bitcoin-usdt-fresh}"
root="$work/root"
base_tar="$work/bookworm-minbase.tar"
shared="${BITCOIN_CORE_SHARED:-$repo_root/../shared/bitcoin-core}"
clone_in_root=/root/bitcoin-usdt-tracing
log_file="$work/check.log"

log() { printf '[fresh] %s\n' "$*"; }
fail() { log "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "run as root: debootstrap, chroot and mounts need it"
[[ -f "$shared/bitcoind.xz" ]] || fail "no real Bitcoin Core at $shared (bitcoind.xz); set BITCOIN_CORE_SHARED"
shared="$(cd "$shared" && pwd)"
commit="$(git -C "$source_repo" rev-parse --verify "$ref^{commit}")" || fail "$ref is not a commit in $source_repo"
mkdir -p "$work"
case "$(cd "$work" && pwd)/" in
  "$repo_root"/*) fail "FRESH_WORK ($work) must be outside the source tree" ;;
esac
exec > >(tee "$log_file") 2>&1

# The first Debian archive apt is configured with here (one-line or deb822 sources).
debian_mirror() {
  local files=() file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f "$file" ]] && files+=("$file")
  done
  [[ ${#files[@]} -gt 0 ]] || return 0
  grep -hoE '^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?[a-z]+://[^[:space:]]+/debian/?([[:space:]]|$)' "${files[@]}" |
    grep -oE '[a-z]+://[^[:space:]]+' | head -n1
}
mirror="${FRESH_MIRROR:-$(debian_mirror)}"
[[ -n "$mirror" ]] || fail "no Debian mirror in /etc/apt/sources.list(.d); set FRESH_MIRROR"

mounted_under_root() { awk -v r="$root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts; }

# Mount namespaces the commands ran in (see in_root), one per line.
namespaces_file="$work/namespaces"

# Processes in the fresh root (left by a test, the demo server): those in one of its mount namespaces, or
# chrooted into it; stopped before unmounting.
in_fresh_root() {
  local proc=$1
  [[ "$(readlink "$proc/root" 2>/dev/null)" == "$root" ]] && return 0
  [[ -s "$namespaces_file" ]] && grep -qxF -- "$(readlink "$proc/ns/mnt" 2>/dev/null)" "$namespaces_file"
}
kill_chroot_processes() {
  local proc pid
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    [[ $pid -eq $$ ]] && continue
    if in_fresh_root "$proc"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
}

unmount_all() {
  [[ -d "$root" ]] || return 0
  kill_chroot_processes
  sleep 0.5
  local mountpoint
  # Deepest first.
  while read -r mountpoint; do
    umount "$mountpoint" 2>/dev/null || umount -l "$mountpoint" || true
  done < <(mounted_under_root | sort -r)
  if [[ -n "$(mounted_under_root)" ]]; then
    log "still mounted under $root:" >&2
    mounted_under_root >&2
    return 1
  fi
}
trap unmount_all EXIT

if [[ -n "$(mounted_under_root)" ]]; then
  log "unmounting what an earlier run left under $root"
  unmount_all || fail "cannot unmount; not deleting $root"
fi

started=$SECONDS
if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap on this machine"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap ||
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap; }
fi
if [[ ! -f "$base_tar" || "${FRESH_REBUILD_BASE:-}" == "1" ]]; then
  log "debootstrap --variant=minbase bookworm from $mirror"
  rm -rf "$work/base-root"
  debootstrap --variant=minbase bookworm "$work/base-root" "$mirror"
  tar -C "$work/base-root" -cf "$base_tar.partial" .
  mv "$base_tar.partial" "$base_tar"
  rm -rf "$work/base-root"
fi
log "fresh root at $root (from $base_tar)"
rm -rf --one-file-system "$root"
mkdir -p "$root"
tar -C "$root" -xf "$base_tar"

# apt: the Debian sources this machine uses (bookworm, -updates, -security), nothing else.
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  if [[ -f "$file" ]] && grep -qE '/debian(-security)?/?([[:space:]]|$)' "$file" && ! grep -qE 'nodesource|google' "$file"; then
    mkdir -p "$root$(dirname "$file")"
    cp "$file" "$root$file"
  fi
done
cp /etc/resolv.conf "$root/etc/resolv.conf"

# What the machine image provides and the README names as prerequisites: Node.js with its headers and npm.
node_bin="$(readlink -f "$(command -v node)")"
node_prefix="$(dirname "$(dirname "$node_bin")")"
[[ -f "$node_prefix/include/node/node.h" ]] || fail "no Node.js headers at $node_prefix/include/node"
node_files=("${node_prefix#/}/bin/node" "${node_prefix#/}/include/node" "${node_prefix#/}/lib/node_modules/npm")
for extra in bin/npm bin/npx bin/corepack lib/node_modules/corepack; do
  [[ -e "$node_prefix/$extra" || -L "$node_prefix/$extra" ]] && node_files+=("${node_prefix#/}/$extra")
done
tar -C / -cf - "${node_files[@]}" | tar -C "$root" -xf -
# The CA bundle (and the local CAs update-ca-certificates would add back) and npm's configuration.
mkdir -p "$root/etc/ssl/certs" "$root/usr/local/share/ca-certificates"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
  cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
fi
for npmrc in "$(npm config get globalconfig)" "$(npm config get userconfig)"; do
  if [[ -f "$npmrc" ]]; then
    mkdir -p "$root$(dirname "$npmrc")"
    cp "$npmrc" "$root$npmrc"
  fi
done

log "cloning $commit ($ref) from $source_repo into $clone_in_root"
git clone --quiet --no-hardlinks "$source_repo" "$root$clone_in_root"
git -C "$root$clone_in_root" checkout --quiet --detach "$commit"

mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/root/shared/bitcoin-core"
mount --bind /proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
mount --bind "$shared" "$root/root/shared/bitcoin-core"
mount -o remount,bind,ro "$root/root/shared/bitcoin-core"
log "root ready in $((SECONDS - started)) s"
: >"$namespaces_file"

# enter_root PROGRAM ARGS...: runs a program as root with the fresh root as its /, in a mount namespace of its
# own whose root mount it is (pivot_root, not chroot: the kernel refuses a chrooted process new user
# namespaces, which a real machine allows and the security tests use), with the environment of a fresh login.
enter_root() {
  unshare --mount --propagation private --fork /bin/bash -c '
    set -e
    root=$1 namespaces=$2; shift 2
    readlink /proc/self/ns/mnt >>"$namespaces"
    mount --rbind "$root" "$root"
    cd "$root"
    mkdir -p .old-root
    pivot_root . .old-root
    cd /
    umount -l /.old-root
    rmdir /.old-root
    exec /usr/bin/env -i HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"' enter-root "$root" "$namespaces_file" "$@"
}

# in_root COMMAND: runs a shell command as root in the clone (see enter_root).
in_root() {
  enter_root /bin/bash -c "cd $clone_in_root && $1"
}

test_result="not run"
failed_step=""
if [[ "${FRESH_SKIP_TEST:-}" != "1" ]]; then
  log "===== bash scripts/test.sh ====="
  step_started=$SECONDS
  status=0
  in_root 'bash scripts/test.sh' 2>&1 | tee "$work/test.log" || status=$?
  test_result="$(tail -n1 "$work/test.log"), exit code $status, $((SECONDS - step_started)) s"
  log "test.sh: $test_result"
  # start.sh still runs: its set-up is checked even when a test failed.
  if [[ $status -ne 0 ]]; then
    failed_step="bash scripts/test.sh (log: $work/test.log)"
  fi
fi

start_result="not run"
if [[ "${FRESH_SKIP_START:-}" != "1" ]]; then
  log "===== bash scripts/start.sh (VS Code server) ====="
  step_started=$SECONDS
  : >"$work/start.log"
  setsid bash -c "$(declare -f enter_root); namespaces_file=$(printf %q "$namespaces_file") root=$(printf %q "$root"); \
    enter_root /usr/bin/env BITCOIN_USDT_USE_SERVER=1 /bin/bash -c 'cd $clone_in_root && exec bash scripts/start.sh'" \
    >"$work/start.log" 2>&1 &
  start_pid=$!
  url=""
  for _ in $(seq 1 1800); do
    url="$(grep -oE 'http://[^[:space:]]+' "$work/start.log" | head -n1 || true)"
    [[ -n "$url" ]] && break
    kill -0 "$start_pid" 2>/dev/null || break
    sleep 1
  done
  [[ -n "$url" ]] || { cat "$work/start.log" >&2; fail "start.sh stopped before printing the URL"; }
  answered=""
  for _ in $(seq 1 120); do
    if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url"; then
      answered=yes
      break
    fi
    kill -0 "$start_pid" 2>/dev/null || break
    sleep 1
  done
  demo_node_running=no
  for proc in /proc/[0-9]*; do
    if in_fresh_root "$proc" && tr '\0' ' ' <"$proc/cmdline" 2>/dev/null | grep -q -- '--scenario demo'; then
      demo_node_running=yes
    fi
  done
  kill -TERM -- "-$start_pid" 2>/dev/null || true
  wait "$start_pid" 2>/dev/null || true
  cat "$work/start.log"
  [[ -n "$answered" ]] || fail "the VS Code server did not answer $url"
  start_result="the VS Code server answered $url (demo node running: $demo_node_running), $((SECONDS - step_started)) s"
  log "start.sh: $start_result"
fi

log "summary: commit $commit ($ref), Debian bookworm minbase from $mirror, node $(node --version)"
log "summary: test.sh: $test_result"
log "summary: start.sh: $start_result"
log "summary: total $((SECONDS - started)) s"
if [[ -n "$failed_step" ]]; then
  fail "FAILED in the fresh root: $failed_step"
fi
log "PASSED: the README's two commands work on a fresh Debian 12"
