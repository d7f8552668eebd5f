#!/usr/bin/env bash
# Times `meshwork clustermesh connect` of 3 clusters from scratch, two ways, each step a separate
# `bin/meshwork` process as a user runs it:
#   steps:       3 x `clustermesh ca` (CA, etcd server and local client certificates), then one
#                `connect` (6 client certificates, 3 Secrets, 3 config directories, 3 host-alias files);
#   one command: `connect --create-missing-ca` doing all of the above in one process.
# Prints wall-clock and CPU (user+sys) time per run, then the medians.
# JVM flags for every process come from MESHWORK_JAVA_OPTS (read by bin/launch).
# Usage: cli/scripts/bench-connect.sh [RUNS]   (build first: ./mvnw -B -ntp -pl cli -am package -DskipTests)
set -euo pipefail
runs=${1:-10}
root=$(cd "$(dirname "$0")/../.." && pwd)
meshwork="$root/bin/meshwork"
work=$(mktemp -d /tmp/mw-bench-connect-XXXXXX)
trap 'rm -rf "$work"' EXIT
clusters=(k8s-test-cluster k8s-shared-cluster k8s-prod-cluster)
now_ms() { date +%s%3N; }
# Runs a command, adds its CPU time (user+sys, ms) to $work/cpu.
timed() { /usr/bin/time -f "%U %S" -o "$work/t" "$@" >/dev/null; awk '{printf "%d\n", ($1+$2)*1000}' "$work/t" >>"$work/cpu"; }
cpu_sum() { awk '{s+=$1} END {print s+0}' "$work/cpu"; }
walls=(); cpus=(); connect_walls=(); one_walls=(); one_cpus=()
echo "MESHWORK_JAVA_OPTS='${MESHWORK_JAVA_OPTS:-}', load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$runs"); do
  dir="$work/run-$run"
  : >"$work/cpu"
  start=$(now_ms)
  for c in "${clusters[@]}"; do
    timed "$meshwork" clustermesh ca --cluster "$c" --out "$dir/ca/$c"
  done
  middle=$(now_ms)
  timed "$meshwork" clustermesh connect --out "$dir/mesh" \
    --cluster "k8s-test-cluster=$dir/ca/k8s-test-cluster=198.18.0.10" \
    --cluster "k8s-shared-cluster=$dir/ca/k8s-shared-cluster=198.18.1.10" \
    --cluster "k8s-prod-cluster=$dir/ca/k8s-prod-cluster=198.18.2.10"
  end=$(now_ms)
  walls+=($((end - start))); connect_walls+=($((end - middle))); cpus+=($(cpu_sum))
  echo "run $run steps: from scratch $((end - start)) ms wall, $(cpu_sum) ms CPU (connect alone $((end - middle)) ms wall)"
  : >"$work/cpu"
  start=$(now_ms)
  timed "$meshwork" clustermesh connect --create-missing-ca --out "$dir/one/mesh" \
    --cluster "k8s-test-cluster=$dir/one/ca/k8s-test-cluster=198.18.0.10" \
    --cluster "k8s-shared-cluster=$dir/one/ca/k8s-shared-cluster=198.18.1.10" \
    --cluster "k8s-prod-cluster=$dir/one/ca/k8s-prod-cluster=198.18.2.10"
  end=$(now_ms)
  one_walls+=($((end - start))); one_cpus+=($(cpu_sum))
  echo "run $run one command: from scratch $((end - start)) ms wall, $(cpu_sum) ms CPU"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
echo "median of $runs runs, steps: from scratch $(median "${walls[@]}") ms wall, $(median "${cpus[@]}") ms CPU; connect alone $(median "${connect_walls[@]}") ms wall"
echo "median of $runs runs, one command: from scratch $(median "${one_walls[@]}") ms wall, $(median "${one_cpus[@]}") ms CPU"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
