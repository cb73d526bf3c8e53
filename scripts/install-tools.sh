#!/usr/bin/env bash
#! Installs what building and testing Knock needs, skipping whatever is already present.
#
# Usage: scripts/install-tools.sh [rust|wasm|node|python|chromium|postgres|janus|bench|all]...
# Versions are pinned here and nowhere else; see docs/toolchain.md for why each step is needed.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
# Must equal the `wasm-bindgen` version pinned in the workspace Cargo.toml.
WASM_BINDGEN_VERSION=0.2.130
TWIGGY_VERSION=0.8.0

root=$(cd "$(dirname "$0")/.." && pwd)
log() { printf '[tools] %s\n' "$*" >&2; }
# A command's whole output, or nothing when it is missing or fails. (Capturing it, rather than
# piping into `grep -q`, avoids a SIGPIPE that `pipefail` would count as a failure.)
version_of() { "$@" 2>/dev/null || true; }

# Fetches a crate's source from crates.io into a fresh temporary directory and prints its path.
crate_source() {
  local name=$1 version=$2 dir
  dir=$(mktemp -d)
  curl -sSfL "https://static.crates.io/crates/$name/$name-$version.crate" | tar -xz -C "$dir"
  printf '%s/%s-%s' "$dir" "$name" "$version"
}

wasm_target() {
  if [[ $'\n'$(version_of rustup target list --installed)$'\n' == *$'\n'wasm32-unknown-unknown$'\n'* ]]; then
    log "wasm32-unknown-unknown present"
  else
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

cargo_leptos() {
  if [[ $(version_of cargo leptos --version) == *" $CARGO_LEPTOS_VERSION"* ]]; then
    log "cargo-leptos $CARGO_LEPTOS_VERSION present"
    return
  fi
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 30 minutes on 2 cores)"
  local src
  src=$(crate_source cargo-leptos "$CARGO_LEPTOS_VERSION")
  # Its published lockfile pins cargo-util-schemas 0.14.2, which needs a newer rustc than 1.95.
  (cd "$src" && cargo update -p cargo-util-schemas --precise 0.14.1 &&
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install --path . --locked --force)
  rm -rf "$(dirname "$src")"
}

wasm_bindgen() {
  if [[ $(version_of wasm-bindgen --version) == *" $WASM_BINDGEN_VERSION"* ]]; then
    log "wasm-bindgen-cli $WASM_BINDGEN_VERSION present"
    return
  fi
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 8 minutes)"
  local src
  src=$(crate_source wasm-bindgen-cli "$WASM_BINDGEN_VERSION")
  # Its published lockfile pins a webpki-roots version the registry no longer serves.
  (cd "$src" && cargo update -p webpki-roots --precise 1.0.10 &&
    cargo install --path . --locked --force)
  rm -rf "$(dirname "$src")"
}

node_packages() {
  # end2end/ holds Playwright and binaryen (the wasm-opt that release builds need).
  local stamp="$root/end2end/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$root/end2end/package-lock.json" ]; then
    log "end2end npm packages present"
  else
    log "installing end2end npm packages"
    (cd "$root/end2end" && npm ci --no-audit --no-fund)
  fi
}

# A Python virtualenv outside the clone, kept between runs: the OpenAPI validator and the
# schemathesis API fuzzer.
VENV=${KNOCK_VENV:-$HOME/.cache/knock-tools/venv}
OPENAPI_VALIDATOR_VERSION=0.7.2
SCHEMATHESIS_VERSION=4.32.5

python_tools() {
  local installed
  installed=$'\n'$(version_of "$VENV/bin/pip" freeze)$'\n'
  if [[ $installed == *$'\n'"openapi-spec-validator==$OPENAPI_VALIDATOR_VERSION"$'\n'* &&
        $installed == *$'\n'"schemathesis==$SCHEMATHESIS_VERSION"$'\n'* ]]; then
    log "openapi-spec-validator $OPENAPI_VALIDATOR_VERSION and schemathesis $SCHEMATHESIS_VERSION present"
    return
  fi
  log "installing openapi-spec-validator and schemathesis into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "openapi-spec-validator==$OPENAPI_VALIDATOR_VERSION" \
    "schemathesis==$SCHEMATHESIS_VERSION"
}

chromium() {
  if [ -x /usr/bin/chromium ]; then
    log "chromium present"
    return
  fi
  log "installing Debian's chromium"
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

# PostgreSQL's server, for the throwaway clusters of scripts/with-postgres.sh (`make unit` runs
# the integration tests a second time against PostgreSQL). Any major version does; 15 is preferred.
postgres_server() {
  if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    log "PostgreSQL server present"
    return
  fi
  log "installing Debian's postgresql"
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
}

# Janus, the SFU, for scripts/with-janus.sh (`make unit` runs the SFU tests against it). Debian's
# package brings every plugin and transport; with-janus.sh loads only VideoRoom and HTTP. The
# package's own service is not needed (with-janus.sh starts Janus with its own configuration).
janus_server() {
  if command -v janus >/dev/null; then
    log "Janus present"
    return
  fi
  log "installing Debian's janus"
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq janus >/dev/null
}

# `make bench` only: twiggy, to say what the release wasm is made of.
twiggy_tool() {
  if [[ $(version_of twiggy --version) == *" $TWIGGY_VERSION"* ]]; then
    log "twiggy $TWIGGY_VERSION present"
    return
  fi
  log "installing twiggy $TWIGGY_VERSION (about 4 minutes)"
  cargo install twiggy --version "$TWIGGY_VERSION" --locked
}

[ $# -gt 0 ] || set -- all
for part in "$@"; do
  case $part in
    rust) wasm_target; cargo_leptos; wasm_bindgen ;;
    wasm) wasm_target ;;
    node) node_packages ;;
    chromium) chromium ;;
    python) python_tools ;;
    postgres) postgres_server ;;
    janus) janus_server ;;
    bench) twiggy_tool ;;
    all) wasm_target; cargo_leptos; wasm_bindgen; node_packages; python_tools; chromium; postgres_server; janus_server ;;
    *) log "unknown part: $part"; exit 2 ;;
  esac
done
