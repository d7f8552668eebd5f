#!/bin/sh
# Starts one member of the cluster's etcd (pod <set>-<ordinal> of the StatefulSet).
#
# With emptyDir storage (the default) a restarted member comes back without data; joining with its
# old member id would fail, so it asks the other members, removes its stale entry, adds itself
# again and joins the existing cluster. A member the cluster lists but that never started joins
# as is; when no other member answers, the cluster is new (first install, or every member lost
# its data: the operator then rewrites the state from Kubernetes).
#
# Environment: POD_NAME, CLUSTER_TOKEN, and either NAMESPACE, PEER_SERVICE and REPLICAS (the
# StatefulSet: member i is <set>-i.<PEER_SERVICE>.<NAMESPACE>.svc, ports 2379 and 2380) or MEMBERS,
# "name=host:client-port:peer-port" per member separated by spaces (tests run members on loopback).
# DATA_DIR, TLS_DIR, ADMIN_TLS_DIR and METRICS_PORT have defaults.
set -eu

: "${POD_NAME:?}" "${CLUSTER_TOKEN:?}"
data_dir=${DATA_DIR:-/var/run/etcd/data}
tls_dir=${TLS_DIR:-/etc/etcd/tls}
admin_dir=${ADMIN_TLS_DIR:-/etc/etcd/admin}
metrics_port=${METRICS_PORT:-2381}

if [ -z "${MEMBERS:-}" ]; then
  : "${NAMESPACE:?}" "${PEER_SERVICE:?}" "${REPLICAS:?}"
  set_name=${POD_NAME%-*}
  MEMBERS=""
  i=0
  while [ "$i" -lt "$REPLICAS" ]; do
    MEMBERS="$MEMBERS $set_name-$i=$set_name-$i.$PEER_SERVICE.$NAMESPACE.svc:2379:2380"
    i=$((i + 1))
  done
  listen_host=0.0.0.0
fi

initial_cluster=""
others=""
self_peer=""
for entry in $MEMBERS; do
  member=${entry%%=*}
  address=${entry#*=}
  host=${address%%:*}
  ports=${address#*:}
  client_port=${ports%%:*}
  peer_port=${ports#*:}
  initial_cluster="${initial_cluster:+$initial_cluster,}$member=https://$host:$peer_port"
  if [ "$member" = "$POD_NAME" ]; then
    self_peer="https://$host:$peer_port"
    self_client="https://$host:$client_port"
    listen_host=${listen_host:-$host}
    self_client_port=$client_port
    self_peer_port=$peer_port
  else
    others="${others:+$others,}https://$host:$client_port"
  fi
done
if [ -z "$self_peer" ]; then
  echo "etcd-start: $POD_NAME is not one of the members ($MEMBERS)" >&2
  exit 2
fi

state=new
if [ ! -d "$data_dir/member" ] && [ -n "$others" ]; then
  ctl() {
    ETCDCTL_API=3 etcdctl --endpoints="$others" --cacert="$admin_dir/ca.crt" --cert="$admin_dir/tls.crt" \
      --key="$admin_dir/tls.key" --dial-timeout=3s --command-timeout=5s "$@"
  }
  # Membership changes are retried: right after the loss of the leader the others have no leader
  # for an election timeout, and etcd 3.4 silently drops a membership proposal made then (etcdctl
  # ends with "context deadline exceeded" although nothing changed); etcd also refuses a new voting
  # member while its peers have been connected for less than a few seconds ("unhealthy cluster").
  # A change can also be applied although its answer timed out, so every failed attempt first
  # checks the member list for the change before trying again.
  removed() { # the member list answers and no longer has the old id
    list=$(ctl member list 2>/dev/null) && ! echo "$list" | grep -qF "$id, "
  }
  added() {
    ctl member list 2>/dev/null | grep -qF ", $self_peer,"
  }
  retry() {
    what=$1 done_check=$2
    shift 2
    attempt=1
    until ctl "$@" >/dev/null; do
      if "$done_check"; then
        return 0
      fi
      if [ "$attempt" -ge 30 ]; then
        echo "etcd-start: cannot $what (30 attempts)" >&2
        exit 1
      fi
      echo "etcd-start: could not $what (attempt $attempt); retrying"
      attempt=$((attempt + 1))
      sleep 1
    done
  }
  add_self() {
    retry "add $POD_NAME to the cluster" added member add "$POD_NAME" --peer-urls="$self_peer"
  }
  if members=$(ctl member list 2>/dev/null); then
    # "id, status, name, peer URLs, client URLs, is learner"
    entry=$(echo "$members" | grep -F ", $self_peer," || true)
    if [ -n "$entry" ]; then
      id=${entry%%,*}
      name=$(echo "$entry" | cut -d, -f3 | tr -d ' ')
      if [ -n "$name" ]; then
        echo "etcd-start: $POD_NAME lost its data; replacing member $id"
        retry "remove the old member $id" removed member remove "$id"
        add_self
      fi
    else
      add_self
    fi
    state=existing
  fi
fi

echo "etcd-start: $POD_NAME joining as $state cluster $initial_cluster"
exec etcd \
  --name="$POD_NAME" \
  --data-dir="$data_dir" \
  --listen-client-urls="https://$listen_host:$self_client_port" \
  --advertise-client-urls="$self_client" \
  --listen-peer-urls="https://$listen_host:$self_peer_port" \
  --initial-advertise-peer-urls="$self_peer" \
  --initial-cluster="$initial_cluster" \
  --initial-cluster-state="$state" \
  --initial-cluster-token="$CLUSTER_TOKEN" \
  --listen-metrics-urls="http://$listen_host:$metrics_port" \
  --cert-file="$tls_dir/tls.crt" \
  --key-file="$tls_dir/tls.key" \
  --trusted-ca-file="$tls_dir/ca.crt" \
  --client-cert-auth \
  --peer-cert-file="$tls_dir/tls.crt" \
  --peer-key-file="$tls_dir/tls.key" \
  --peer-trusted-ca-file="$tls_dir/ca.crt" \
  --peer-client-cert-auth \
  --auto-compaction-mode=periodic \
  --auto-compaction-retention=1h \
  --logger=zap
