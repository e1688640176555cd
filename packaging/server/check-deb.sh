#!/usr/bin/env bash
# CI (scripts/test.sh): the server's Debian package builds, installs, its systemd unit passes
# `systemd-analyze verify`, the installed server started as the unit starts it (its ExecStart as
# the `fieldbook` user, its working folder and umask — no systemd runs as PID 1 in CI) answers
# /readyz with 200 and stops cleanly on SIGTERM, and the package purges leaving the data.
# It installs and purges a package: for CI machines, never one where fieldbook-server is in use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
fail() { echo "check-deb: $*" >&2; exit 1; }

if dpkg-query -W -f='${Status}' fieldbook-server 2>/dev/null | grep -q "install ok installed"; then
  fail "fieldbook-server is installed on this machine; this check installs and purges it: run it on a CI machine"
fi

out="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  $SUDO dpkg --purge fieldbook-server >/dev/null 2>&1 || true
  $SUDO rm -rf /var/lib/fieldbook-server "$out"
  getent passwd fieldbook >/dev/null && $SUDO userdel fieldbook 2>/dev/null || true
}
trap cleanup EXIT

started=$(date +%s)
deb="$(bash "$here/build-deb.sh" "$out" | tail -1)"
echo "check-deb: built $(basename "$deb") ($(du -h "$deb" | cut -f1)) in $(( $(date +%s) - started )) s"
dpkg-deb --info "$deb" | sed -n 's/^ *\(Depends\|Installed-Size\):/  \1:/p'

DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$deb" >/dev/null
unit=/lib/systemd/system/fieldbook-server.service

# What the package promised.
getent passwd fieldbook >/dev/null || fail "no system user fieldbook"
[ "$(stat -c '%U %a' /var/lib/fieldbook-server)" = "fieldbook 700" ] || fail "/var/lib/fieldbook-server is $(stat -c '%U %a' /var/lib/fieldbook-server), not fieldbook 700"
[ "$(stat -c '%U:%G %a' /etc/fieldbook-server/config.toml)" = "root:fieldbook 640" ] || fail "config.toml is $(stat -c '%U:%G %a' /etc/fieldbook-server/config.toml)"
grep -qx /etc/fieldbook-server/config.toml /var/lib/dpkg/info/fieldbook-server.conffiles || fail "config.toml is not a conffile"

# The unit, as systemd reads it: any complaint fails the check.
verify="$(systemd-analyze verify "$unit" 2>&1)" || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify complained: $verify"
echo "check-deb: systemd-analyze verify $unit: clean"

# Started as the unit starts it, on a free port (a flag wins over the file).
exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
user="$(sed -n 's/^User=//p' "$unit")"
workdir="$(sed -n 's/^WorkingDirectory=//p' "$unit")"
umask_="$(sed -n 's/^UMask=//p' "$unit")"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log="$out/server.log"
(cd "$workdir" && umask "$umask_" && exec $SUDO setpriv --reuid="$user" --regid="$user" --init-groups --reset-env -- $exec_start --listen "127.0.0.1:$port") >"$log" 2>&1 &
server_pid=$!
ready=""
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >"$out/readyz" 2>/dev/null; then ready=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; fail "the installed server exited"; }
  sleep 0.2
done
[ -n "$ready" ] || { cat "$log" >&2; fail "/readyz did not answer 200 within 20 s"; }
echo "check-deb: /readyz: $(cat "$out/readyz")"
db=/var/lib/fieldbook-server/fieldbook-server.db
[ "$(stat -c '%U %a' "$db")" = "fieldbook 600" ] || fail "$db is $(stat -c '%U %a' "$db")"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 0 ] || { cat "$log" >&2; fail "the server exited with $status on SIGTERM"; }
grep -q "shutting down" "$log" || fail "no 'shutting down' in the server's log"

DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y -qq fieldbook-server >/dev/null 2>&1
[ ! -e /usr/bin/fieldbook-server ] && [ ! -e "$unit" ] && [ ! -e /etc/fieldbook-server/config.toml ] || fail "files left after purge"
[ -f "$db" ] || fail "purge deleted the database"
getent passwd fieldbook >/dev/null || fail "purge deleted the user"
echo "check-deb: installed, verified, ready, stopped on SIGTERM, purged (data and user kept)"
