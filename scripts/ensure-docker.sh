#!/usr/bin/env bash
# Makes sure a Docker engine (Debian's docker.io) answers on the default socket,
# starting dockerd as root when none runs. overlay2 is preferred; vfs is the
# fallback where the filesystem under /var/lib/docker cannot carry overlayfs.
# Prints nothing on success and exits 1 with the reason when no engine can start
# (the tests then say so and skip).
set -euo pipefail

if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "dockerd is not installed (scripts/install-test-tools.sh installs docker.io)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "dockerd must be started as root" >&2
  exit 1
fi

log=/var/log/auditflow-dockerd.log
lock=/run/auditflow-dockerd.lock
start() {
  local driver=$1
  # Several test runs may get here at once: one starts the engine, the others wait for it.
  exec 9>"$lock"
  flock 9
  if docker info >/dev/null 2>&1; then return 0; fi
  # The containerd and dockerd of docker.io run detached; setsid keeps them out of the
  # caller's process group so a test run ending does not take the engine down with it.
  setsid dockerd --storage-driver "$driver" --host unix:///var/run/docker.sock >>"$log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 $! 2>/dev/null || return 1
    sleep 1
  done
  return 1
}

start overlay2 || start vfs || {
  echo "dockerd did not start; last lines of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
}
