#!/usr/bin/env bash
# Runs every test (unit, real-etcd integration, and, as root, the privileged datapath tests).
# Installs what it needs first. Usage: ./run-tests.sh [extra Maven arguments]
set -euo pipefail
cd "$(dirname "$0")"
. scripts/install-deps.sh
exec ./mvnw -B -ntp verify "$@"
