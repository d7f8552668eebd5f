#!/bin/sh
# Starts one member of the cluster's etcd (pod <set>-<ordinal> of the StatefulSet).
#
# With emptyDir storage (the default) a restarted member comes back without data; joining with its
# old member id would fail, so it asks the other members, removes its stale entry, adds itself
# again and joins the existing cluster. A member the cluster lists but that never started joins
# as is; when no other member answers, the cluster is new (first install, or every member lost
# its data: the operator then rewrites the state from Kubernetes).
#
# Environment: POD_NAME, NAMESPACE, PEER_SERVICE, REPLICAS, CLUSTER_TOKEN; DATA_DIR, TLS_DIR,
# ADMIN_TLS_DIR and METRICS_PORT have defaults.
set -eu

: "${POD_NAME:?}" "${NAMESPACE:?}" "${PEER_SERVICE:?}" "${REPLICAS:?}" "${CLUSTER_TOKEN:?}"
data_dir=${DATA_DIR:-/var/run/etcd/data}
tls_dir=${TLS_DIR:-/etc/etcd/tls}
admin_dir=${ADMIN_TLS_DIR:-/etc/etcd/admin}
metrics_port=${METRICS_PORT:-2381}
set_name=${POD_NAME%-*}
domain="$PEER_SERVICE.$NAMESPACE.svc"
self_peer="https://$POD_NAME.$domain:2380"

initial_cluster=""
others=""
i=0
while [ "$i" -lt "$REPLICAS" ]; do
  member="$set_name-$i"
  initial_cluster="${initial_cluster:+$initial_cluster,}$member=https://$member.$domain:2380"
  if [ "$member" != "$POD_NAME" ]; then
    others="${others:+$others,}https://$member.$domain:2379"
  fi
  i=$((i + 1))
done

state=new
if [ ! -d "$data_dir/member" ] && [ -n "$others" ]; then
  ctl() {
    ETCDCTL_API=3 etcdctl --endpoints="$others" --cacert="$admin_dir/ca.crt" --cert="$admin_dir/tls.crt" \
      --key="$admin_dir/tls.key" --dial-timeout=3s --command-timeout=5s "$@"
  }
  if members=$(ctl member list 2>/dev/null); then
    # "id, status, name, peer URLs, client URLs, is learner"
    entry=$(echo "$members" | grep -F ", $self_peer," || true)
    if [ -n "$entry" ]; then
      id=${entry%%,*}
      name=$(echo "$entry" | cut -d, -f3 | tr -d ' ')
      if [ -n "$name" ]; then
        echo "etcd-start: $POD_NAME lost its data; replacing member $id"
        ctl member remove "$id"
        ctl member add "$POD_NAME" --peer-urls="$self_peer" >/dev/null
      fi
    else
      ctl member add "$POD_NAME" --peer-urls="$self_peer" >/dev/null
    fi
    state=existing
  fi
fi

echo "etcd-start: $POD_NAME joining as $state cluster $initial_cluster"
exec etcd \
  --name="$POD_NAME" \
  --data-dir="$data_dir" \
  --listen-client-urls=https://0.0.0.0:2379 \
  --advertise-client-urls="https://$POD_NAME.$domain:2379" \
  --listen-peer-urls=https://0.0.0.0:2380 \
  --initial-advertise-peer-urls="$self_peer" \
  --initial-cluster="$initial_cluster" \
  --initial-cluster-state="$state" \
  --initial-cluster-token="$CLUSTER_TOKEN" \
  --listen-metrics-urls="http://0.0.0.0:$metrics_port" \
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
