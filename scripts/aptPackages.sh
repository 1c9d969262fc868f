# Sourced by the set-up scripts, which define log(): root for apt-get, and installing what is missing.

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo --preserve-env=DEBIAN_FRONTEND "$@"
  else
    log "need root for: $* (and sudo is not installed)" >&2
    return 1
  fi
}

# install_missing_packages PACKAGE...: installs those of the Debian packages that are not installed yet.
install_missing_packages() {
  local missing=() package
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "system packages already installed"
    return
  fi
  log "installing system packages: ${missing[*]}"
  as_root apt-get update
  as_root apt-get install -y --no-install-recommends "${missing[@]}"
}
