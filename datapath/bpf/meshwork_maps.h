/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Meshwork datapath: the layout of every map shared by the programs and the Java side
 * (dev.meshwork.datapath.bpf.MapLayouts mirrors these structs byte for byte; its unit test
 * checks the sizes). Addresses and ports are in network byte order unless a field says "host".
 */
#ifndef MESHWORK_MAPS_H
#define MESHWORK_MAPS_H

#include <linux/types.h>

/* ipcache: LPM trie, prefix -> identity and tunnel endpoint (0 = local, no tunnel). */
struct ipcache_key {
	__u32 prefixlen;
	__u32 addr;
};

struct ipcache_value {
	__u32 identity;        /* host order */
	__u32 tunnel_endpoint; /* node IP to encapsulate to, 0 when not tunnelled */
};

/*
 * services: (frontend, slot) -> slot 0 is the master entry (backend count, rev NAT id,
 * affinity timeout, kind); slots 1..count hold one backend id each.
 */
struct service_key {
	__u32 addr; /* 0 for a NodePort frontend: any node address */
	__u16 port;
	__u8 proto;
	__u8 pad;
	__u16 slot;  /* host order */
	__u16 pad2;
};

#define SVC_KIND_CLUSTER_IP 0
#define SVC_KIND_NODE_PORT 1
#define SVC_KIND_EXTERNAL_IP 2
#define SVC_KIND_LOAD_BALANCER 3

struct service_value {
	__u32 backend_id;       /* slots >= 1 */
	__u16 count;            /* slot 0 */
	__u16 rev_nat_id;       /* all slots */
	__u32 affinity_timeout; /* slot 0, seconds, 0 = no ClientIP affinity */
	__u8 kind;              /* slot 0 */
	__u8 pad[3];
};

/* backends: backend id (host order) -> address. */
struct backend_value {
	__u32 addr;
	__u16 port;
	__u8 proto;
	__u8 pad;
};

/* reverse NAT: rev NAT id (host order, __u16) -> frontend the client talked to. */
struct revnat_value {
	__u32 addr;
	__u16 port;
	__u16 pad;
};

/*
 * conntrack (LRU hash). Two kinds of entries:
 *  CT_SERVICE: client -> frontend tuple, remembers the backend chosen for the connection;
 *  CT_FLOW:    the tuple after DNAT as it crossed this node; replies (reversed tuple) skip
 *              policy and, when rev_nat_id != 0, get their source rewritten to the frontend.
 * The agent removes entries idle for longer than its timeouts (BpfDatapath.collectConntrack).
 */
#define CT_FLOW 0
#define CT_SERVICE 1

struct ct_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 kind;
	__u16 pad;
};

struct ct_value {
	__u64 last_seen_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC), refreshed at most once a second */
	__u32 backend_id;   /* CT_SERVICE */
	__u32 nat_addr;     /* CT_SERVICE: the backend chosen; CT_FLOW: the frontend before DNAT */
	__u16 nat_port;
	__u16 rev_nat_id;   /* both */
	__u32 src_identity; /* CT_FLOW: identity of the side that opened the flow */
	__u32 tunnel_src;   /* CT_FLOW: node that tunnelled the flow here (replies to clients
			     * outside the mesh go back through it), 0 if it did not come by tunnel */
	__u32 pad;
};

/* ClientIP session affinity (LRU hash). */
struct affinity_key {
	__u32 client_addr;
	__u16 rev_nat_id; /* host order */
	__u16 pad;
};

struct affinity_value {
	__u64 last_used_ns;
	__u32 backend_id;
	__u32 pad;
};

/* endpoints: local pod IP -> how to reach it and what it may do. */
#define EP_F_INGRESS_ENFORCED 1
#define EP_F_EGRESS_ENFORCED 2

struct endpoint_value {
	__u64 id;
	__u32 ifindex;  /* host-side veth in the node's namespace */
	__u32 identity; /* host order */
	__u32 flags;
	__u8 mac[6];    /* MAC of the host-side veth (the pod's gateway MAC) */
	__u8 pad[2];
	char ifname[16];
	__u32 pad2;
};

/* policy: one allow entry; 0 in remote_identity/port/proto is a wildcard. Value: packets allowed. */
#define DIR_INGRESS 0
#define DIR_EGRESS 1

struct policy_key {
	__u32 endpoint_addr;
	__u32 remote_identity; /* host order */
	__u16 port;
	__u8 proto;
	__u8 direction;
};

/* drops: (local endpoint IP, reason) -> packets dropped. */
#define DROP_POLICY_INGRESS 1
#define DROP_POLICY_EGRESS 2
#define DROP_NO_BACKEND 3

struct drop_key {
	__u32 endpoint_addr;
	__u32 reason;
};

/* node: array of one element with the node-wide settings written by the agent. */
struct node_config {
	__u32 vxlan_ifindex;
	__u32 pad;
};

/* Reserved identities (shared by all clusters). */
#define IDENTITY_HOST 1
#define IDENTITY_WORLD 2
#define IDENTITY_REMOTE_NODE 6

#endif
