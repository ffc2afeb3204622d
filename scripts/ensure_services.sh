#!/usr/bin/env bash
# Make sure what `make test` talks to is running: PostgreSQL, Redis, Mosquitto and Chromium.
# Uses what answers already (this machine kind starts PostgreSQL, Redis and Mosquitto before
# each session); otherwise installs Debian's packages and starts them. Idempotent.
set -euo pipefail

log() { printf '[ensure-services] %s\n' "$*"; }

# privileged steps (apt-get, the PostgreSQL cluster) run as root, through sudo when not root
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "need root for: $* — run as root, install sudo, or start the service yourself and re-run"
    exit 1
  fi
}

apt_install() {
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null \
    || { as_root apt-get update -q >/dev/null \
      && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # port, name
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  log "$2 did not start on 127.0.0.1:$1"; exit 1
}

# --- PostgreSQL -----------------------------------------------------------------------------
if [ -n "${LONGSHU_TEST_PG_URL:-}" ]; then
  log "PostgreSQL: using LONGSHU_TEST_PG_URL"
elif port_open 5432 || pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  log "PostgreSQL: answering on 127.0.0.1:5432"
else
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -1)
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # the suite connects as postgres over local TCP without a password, as on this machine kind
  if ! as_root grep -q "longshu-test" "$hba"; then
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust # longshu-test' "$hba"
    log "PostgreSQL: $hba now trusts user postgres from 127.0.0.1 (line marked longshu-test)"
  fi
  as_root pg_ctlcluster "$version" main start || true
  wait_port 5432 PostgreSQL
  log "PostgreSQL $version started"
fi

# --- Redis ----------------------------------------------------------------------------------
if port_open 6379; then
  log "Redis: answering on 127.0.0.1:6379"
else
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_port 6379 Redis
  log "Redis started"
fi

# --- Mosquitto (MQTT, for the IoT connector) ------------------------------------------------
if port_open 1883; then
  log "Mosquitto: answering on 127.0.0.1:1883"
else
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || apt_install mosquitto
  "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -d -p 1883 >/dev/null 2>&1 || true
  wait_port 1883 Mosquitto
  log "Mosquitto started"
fi

# --- Chromium and a CJK font for the browser tests ------------------------------------------
# not `grep -q`: it may exit before fc-list is done, and pipefail reads the SIGPIPE as "no font"
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -i "wenquanyi\|wqy" >/dev/null; then
  log "Chromium: /usr/bin/chromium"
else
  apt_install chromium fonts-wqy-zenhei
  log "Chromium installed"
fi
