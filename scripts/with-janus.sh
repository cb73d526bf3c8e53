#!/usr/bin/env bash
#! Runs a command next to a throwaway Janus WebRTC server: a minimal configuration (the HTTP
#! transport and the VideoRoom plugin only) in a temporary directory, the HTTP API on a free port
#! of 127.0.0.1 behind a generated `api_secret`, its URL and secret exported as KNOCK_JANUS_URL and
#! KNOCK_JANUS_API_SECRET; Janus is stopped by its PID and the directory removed when the command ends.
#
# Usage: scripts/with-janus.sh <command> [args...]
# Also exported: KNOCK_TEST_JANUS_ADMIN_URL and KNOCK_TEST_JANUS_ADMIN_SECRET (Janus's admin API,
# also on 127.0.0.1, which lists sessions and handles), KNOCK_TEST_JANUS_LOG (its log file).
# ICE uses the machine's first non-loopback IPv4 interface (Janus gathers no candidate on loopback),
# or KNOCK_JANUS_ICE_INTERFACE when set. Exits with the command's status; Janus is stopped on every
# exit: success, failure, Ctrl-C. Only the Janus this script started is ever stopped.
set -euo pipefail

log() { printf '[with-janus] %s\n' "$*" >&2; }

[ $# -gt 0 ] || { log "usage: scripts/with-janus.sh <command> [args...]"; exit 2; }

janus_bin=$(command -v janus || true)
if [ -z "$janus_bin" ]; then
  log "no janus binary on PATH; install it with: scripts/install-tools.sh janus"
  exit 1
fi
# Debian's layout; the folders hold every plugin and transport, of which only two are linked.
libdir=
for candidate in /usr/lib/*/janus /usr/lib/janus /usr/local/lib/janus /opt/janus/lib/janus; do
  if [ -f "$candidate/plugins/libjanus_videoroom.so" ] && [ -f "$candidate/transports/libjanus_http.so" ]; then
    libdir=$candidate
    break
  fi
done
if [ -z "$libdir" ]; then
  log "found $janus_bin but not its VideoRoom plugin and HTTP transport (libjanus_videoroom.so, libjanus_http.so)"
  exit 1
fi

# Janus's ICE skips loopback, so it gathers on the machine's own interface, which browsers on
# this machine reach as well.
interface=${KNOCK_JANUS_ICE_INTERFACE:-}
if [ -z "$interface" ]; then
  interface=$(ip -o -4 addr show scope global 2>/dev/null | awk '{ print $2; exit }')
fi
if [ -z "$interface" ]; then
  log "no non-loopback IPv4 interface for Janus's ICE candidates; set KNOCK_JANUS_ICE_INTERFACE"
  exit 1
fi

# Media ports below the kernel's ephemeral range, so they never collide with outgoing connections
# (every test server and browser on this machine opens many).
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range
rtp_high=$((ephemeral_low - 1))
rtp_low=$((rtp_high - 9999))
if [ "$rtp_low" -lt 1024 ]; then
  log "the kernel's ephemeral port range starts at $ephemeral_low: no room for Janus's RTP ports below it"
  exit 1
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

dir=$(mktemp -d -t knock-janus.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    # Janus tears its sessions down on SIGTERM; give it 5 s, then stop it for good.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "Janus (PID $pid) did not stop on SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
# A signal ends the script through `exit`, so the EXIT trap above still runs.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$dir/plugins" "$dir/transports" "$dir/events" "$dir/loggers"
ln -s "$libdir/plugins/libjanus_videoroom.so" "$dir/plugins/"
ln -s "$libdir/transports/libjanus_http.so" "$dir/transports/"

api_secret=$(secret)
admin_secret=$(secret)

write_config() {
  local port=$1 admin_port=$2
  cat >"$dir/janus.jcfg" <<EOF
general: {
	configs_folder = "$dir"
	plugins_folder = "$dir/plugins"
	transports_folder = "$dir/transports"
	events_folder = "$dir/events"
	loggers_folder = "$dir/loggers"
	debug_level = 4
	api_secret = "$api_secret"
	admin_secret = "$admin_secret"
	session_timeout = 60
	server_name = "knock-test"
}
media: {
	rtp_port_range = "$rtp_low-$rtp_high"
}
nat: {
	ice_enforce_list = "$interface"
}
plugins: {
}
transports: {
}
loggers: {
}
events: {
}
EOF
  cat >"$dir/janus.transport.http.jcfg" <<EOF
general: {
	json = "plain"
	base_path = "/janus"
	http = true
	ip = "127.0.0.1"
	port = $port
	https = false
}
admin: {
	admin_base_path = "/admin"
	admin_http = true
	admin_ip = "127.0.0.1"
	admin_port = $admin_port
	admin_https = false
}
cors: {
}
EOF
  cat >"$dir/janus.plugin.videoroom.jcfg" <<EOF
general: {
	string_ids = true
}
EOF
}

# Ready when the HTTP API answers `info` (which needs no secret).
ready() { curl -sf --max-time 1 "http://127.0.0.1:$1/janus/info" >/dev/null 2>&1; }

# The ports are free when picked but could be taken before Janus binds them: then try others.
started=
for _ in 1 2 3; do
  port=$(free_port)
  admin_port=$(free_port)
  [ "$port" != "$admin_port" ] || continue
  write_config "$port" "$admin_port"
  "$janus_bin" -F "$dir" -C "$dir/janus.jcfg" -o -N -L "$dir/janus.log" </dev/null >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    if ready "$port"; then started=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -z "$started" ] || break
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
  grep -qi 'address already in use\|error starting' "$dir/janus.log" 2>/dev/null || break
done
if [ -z "$started" ]; then
  cat "$dir/janus.log" >&2 2>/dev/null || true
  log "Janus did not start (its log is above)"
  exit 1
fi

export KNOCK_JANUS_URL="http://127.0.0.1:$port/janus"
export KNOCK_JANUS_API_SECRET="$api_secret"
export KNOCK_TEST_JANUS_ADMIN_URL="http://127.0.0.1:$admin_port/admin"
export KNOCK_TEST_JANUS_ADMIN_SECRET="$admin_secret"
export KNOCK_TEST_JANUS_LOG="$dir/janus.log"
printf 'Janus (PID %s) on 127.0.0.1:%s, admin on :%s, ICE on %s, RTP ports %s-%s\n' \
  "$pid" "$port" "$admin_port" "$interface" "$rtp_low" "$rtp_high" >&2

# A failing command's status is passed on by `exit`; the EXIT trap does not change it.
"$@" || exit
