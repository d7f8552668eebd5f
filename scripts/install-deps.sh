#!/usr/bin/env bash
# Installs what building and testing Meshwork needs on a Debian 12 machine of this kind, and
# exports JAVA_HOME for Java 25. Source it (`. scripts/install-deps.sh`) or run it.
set -euo pipefail

# busybox-static: the sandbox's pods (httpd, wget, nc); podman and its runtime: the real CNI
# client in e2e's PodmanPrivilegedIT.
packages=(etcd-server etcd-client clang llvm libbpf-dev bpftool iproute2 nftables
  busybox-static podman containernetworking-plugins runc conmon)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

export JAVA_HOME=${MESHWORK_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ ! -x "$JAVA_HOME/bin/java" ]; then
  echo "install-deps: Java 25 not found at $JAVA_HOME (set MESHWORK_JAVA_HOME to a JDK 25)" >&2
  exit 1
fi
export PATH="$JAVA_HOME/bin:$PATH"
