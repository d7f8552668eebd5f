#!/bin/sh
# Access control of a Meshwork cluster's etcd: users, roles, then auth enabled LAST, so that no
# component is ever locked out half-way. Safe to run again (every step checks what exists).
#
# etcd runs with --client-cert-auth: a client certificate's common name (CN) is the user name, so
# the users below have no password. Run this as the root user (a client certificate with CN root)
# from the same CA; before auth is enabled any valid certificate may do it, after only root can.
#
# Settings (environment):
#   ETCDCTL_ENDPOINTS, ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY   read by etcdctl itself
#   MESHWORK_ETCD_PREFIX        key prefix of Meshwork (default meshwork/v1/)
#   MESHWORK_ETCD_REMOTE_USER   CN of the other clusters' client certificates (default remote)
#   MESHWORK_ETCD_WAIT_SECONDS  how long to wait for etcd to answer (default 300)
#
# Users and roles:
#   root                                   role root (etcd requires it before auth can be enabled)
#   meshwork-operator, meshwork-kvstore-sync   meshwork-readwrite: read-write on PREFIX
#   meshwork-agent                         meshwork-agent: read on state/ synced/ heartbeat/
#                                          cluster-config/ and cache/ (kvstore-sync's mirror)
#   REMOTE_USER                            meshwork-remote: read on state/ synced/ heartbeat/
#                                          cluster-config/ only; every write is refused
set -eu

prefix=${MESHWORK_ETCD_PREFIX:-meshwork/v1/}
remote_user=${MESHWORK_ETCD_REMOTE_USER:-remote}
wait_seconds=${MESHWORK_ETCD_WAIT_SECONDS:-300}
export ETCDCTL_API=3

case "$prefix" in
  */) ;;
  *) echo "etcd-init: MESHWORK_ETCD_PREFIX must end with '/' (got '$prefix')" >&2; exit 2 ;;
esac

log() {
  echo "etcd-init: $*"
}

# Waits until etcd answers (the first member may still be electing a leader).
waited=0
until etcdctl endpoint health >/dev/null 2>&1; do
  if [ "$waited" -ge "$wait_seconds" ]; then
    echo "etcd-init: etcd at ${ETCDCTL_ENDPOINTS:-127.0.0.1:2379} is not healthy after ${wait_seconds}s:" >&2
    etcdctl endpoint health >&2 || true
    exit 1
  fi
  sleep 2
  waited=$((waited + 2))
done

ensure_role() {
  if etcdctl role get "$1" >/dev/null 2>&1; then
    log "role $1 exists"
  else
    etcdctl role add "$1" >/dev/null
    log "role $1 created"
  fi
}

# Grants are idempotent in etcd: granting the same range again changes nothing.
grant() {
  role=$1 permission=$2 key=$3
  etcdctl role grant-permission --prefix=true "$role" "$permission" "$key" >/dev/null
  log "role $role: $permission on $key*"
}

ensure_user() {
  user=$1 role=$2
  if etcdctl user get "$user" >/dev/null 2>&1; then
    log "user $user exists"
  else
    etcdctl user add "$user" --no-password >/dev/null
    log "user $user created"
  fi
  etcdctl user grant-role "$user" "$role" >/dev/null 2>&1 || true
  if ! etcdctl user get "$user" | grep '^Roles:' | grep -qw -- "$role"; then
    echo "etcd-init: user $user does not have role $role" >&2
    exit 1
  fi
}

ensure_role meshwork-readwrite
grant meshwork-readwrite readwrite "$prefix"

ensure_role meshwork-remote
for kind in state/ synced/ heartbeat/ cluster-config/; do
  grant meshwork-remote read "$prefix$kind"
done

ensure_role meshwork-agent
for kind in state/ synced/ heartbeat/ cluster-config/ cache/; do
  grant meshwork-agent read "$prefix$kind"
done

ensure_user root root
ensure_user meshwork-operator meshwork-readwrite
ensure_user meshwork-kvstore-sync meshwork-readwrite
ensure_user meshwork-agent meshwork-agent
ensure_user "$remote_user" meshwork-remote

# Last: from here on every request needs a user with a role that allows it.
etcdctl auth enable >/dev/null
log "auth enabled"
