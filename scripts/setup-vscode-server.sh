#!/usr/bin/env bash
# Installs a real VS Code (the server inside code-server) into .vscode-test/server, without internet
# beyond the npm registry. Recipe: docs in /work/shared/docs/vscode-offline-tests.md.
# Idempotent: does nothing when the marker file says this exact version is installed and its files are there.
set -euo pipefail

CODE_SERVER_VERSION="4.100.3"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
install_dir="${BITCOIN_USDT_VSCODE_SERVER_DIR:-$repo_root/.vscode-test/server}"
vscode_dir="$install_dir/node_modules/code-server/lib/vscode"
marker="$install_dir/.installed-code-server-$CODE_SERVER_VERSION"

log() { printf '[setup-vscode-server] %s\n' "$*"; }

installation_is_valid() {
  [[ -f "$marker" ]] &&
    [[ -f "$vscode_dir/out/server-main.js" ]] &&
    [[ -x "$vscode_dir/node_modules/@vscode/ripgrep/bin/rg" ]] &&
    [[ -e "$vscode_dir/node_modules.asar" ]] &&
    ls "$vscode_dir"/node_modules/node-pty/build/Release/pty.node >/dev/null 2>&1 &&
    ls "$vscode_dir"/node_modules/@vscode/spdlog/build/Release/spdlog.node >/dev/null 2>&1
}

if installation_is_valid; then
  log "code-server $CODE_SERVER_VERSION already installed in $install_dir"
  exit 0
fi

rg_binary="$(command -v rg || true)"
if [[ -z "$rg_binary" ]]; then
  log "ripgrep (rg) is missing: run scripts/setup.sh (apt-get install ripgrep) first" >&2
  exit 1
fi

# node-gyp needs Node's headers; Debian's nodejs ships them under /usr/include/node.
if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node.h ]]; then
  export npm_config_nodedir=/usr
fi
export npm_config_yes=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

started=$SECONDS
log "installing code-server@$CODE_SERVER_VERSION into $install_dir (about 300 MB)"
rm -f "$marker"
mkdir -p "$install_dir"
if [[ ! -f "$install_dir/package.json" ]]; then
  printf '{\n  "name": "bitcoin-usdt-vscode-server",\n  "private": true\n}\n' >"$install_dir/package.json"
fi
(cd "$install_dir" && npm install --ignore-scripts --no-save --no-package-lock "code-server@$CODE_SERVER_VERSION")

log "installing VS Code's own production dependencies"
(cd "$vscode_dir" && npm install --ignore-scripts --omit=dev --no-save)

log "building native modules (spdlog, node-pty, native-watchdog, @parcel/watcher)"
(cd "$vscode_dir" && npm rebuild @vscode/spdlog node-pty native-watchdog @parcel/watcher)

mkdir -p "$vscode_dir/node_modules/@vscode/ripgrep/bin"
cp "$rg_binary" "$vscode_dir/node_modules/@vscode/ripgrep/bin/rg"
ln -sfn node_modules "$vscode_dir/node_modules.asar"

touch "$marker"
if ! installation_is_valid; then
  log "installation finished but files are missing in $vscode_dir" >&2
  exit 1
fi
log "done in $((SECONDS - started)) s"
