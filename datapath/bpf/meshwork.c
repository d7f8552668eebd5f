// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Meshwork datapath programs (tc, direct action):
 *   from_container  ingress of a pod's host-side veth: ARP responder, service DNAT with
 *                   conntrack, egress policy, delivery to a local pod or into the tunnel;
 *   to_container    egress of a pod's host-side veth: ingress policy for traffic that the
 *                   node's own stack routed to the pod (our redirects are already checked);
 *   from_overlay    ingress of the node's VXLAN device: the VNI is the source identity,
 *                   ingress policy, reverse NAT of replies, delivery to the local pod;
 *   from_netdev     ingress of the node's external devices: NodePort, external and
 *                   load-balancer IPs for clients outside the mesh (identity world).
 * The maps are created and pinned by the agent (Java) before this object is loaded; the
 * definitions below only give their shape. See docs/datapath.md for the packet walk.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "meshwork_maps.h"

#ifndef AF_INET
#define AF_INET 2
#endif

/* From linux/if_arp.h, which drags in libc headers a BPF target cannot compile. */
#define ARPHRD_ETHER 1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2
struct arphdr {
	__be16 ar_hrd;
	__be16 ar_pro;
	unsigned char ar_hln;
	unsigned char ar_pln;
	__be16 ar_op;
};

/* Set on packets whose ingress policy was already decided, so to_container lets them pass. */
#define MARK_POLICY_DONE 0x4d570e00

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct ipcache_key);
	__type(value, struct ipcache_value);
	__uint(max_entries, 512);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct service_key);
	__type(value, struct service_value);
	__uint(max_entries, 512);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct backend_value);
	__uint(max_entries, 512);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u16);
	__type(value, struct revnat_value);
	__uint(max_entries, 512);
} revnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct ct_key);
	__type(value, struct ct_value);
	__uint(max_entries, 512);
} conntrack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct affinity_key);
	__type(value, struct affinity_value);
	__uint(max_entries, 512);
} affinity SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct endpoint_value);
	__uint(max_entries, 512);
} endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct policy_key);
	__type(value, __u64);
	__uint(max_entries, 512);
} policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct drop_key);
	__type(value, __u64);
	__uint(max_entries, 512);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct node_config);
	__uint(max_entries, 1);
} node SEC(".maps");

#define ETH_HLEN_ 14
#define IP_OFF ETH_HLEN_
#define L4_OFF (ETH_HLEN_ + sizeof(struct iphdr))
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_SRC_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define IP_DST_OFF (IP_OFF + offsetof(struct iphdr, daddr))

struct flow {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
};

/* What a reply must look like to its client: the frontend the client connected to. */
struct reply_nat {
	__u16 rev_nat_id;
	__u32 orig_addr;
	__u16 orig_port;
	__u32 tunnel_src; /* for replies: the node the flow was tunnelled from */
};

/* Marks a conntrack entry as in use; written at most once a second to spare the cache line. */
static __always_inline void ct_touch(struct ct_value *ct, __u64 now)
{
	if (now - ct->last_seen_ns > 1000000000ULL)
		ct->last_seen_ns = now;
}

static __always_inline void count_drop(__u32 endpoint_addr, __u32 reason)
{
	struct drop_key key = { .endpoint_addr = endpoint_addr, .reason = reason };
	__u64 *value = bpf_map_lookup_elem(&drops, &key);
	if (value) {
		__sync_fetch_and_add(value, 1);
	} else {
		__u64 one = 1;
		/* A racing first drop may lose one count; fine for a counter. */
		bpf_map_update_elem(&drops, &key, &one, BPF_NOEXIST);
	}
}

/* Parses IPv4 (no options) and TCP/UDP ports; returns 0 when the packet is not for us. */
static __always_inline int parse_flow(struct __sk_buff *skb, struct flow *f)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN_;
	if ((void *)(ip + 1) > data_end || ip->ihl != 5)
		return 0;
	f->saddr = ip->saddr;
	f->daddr = ip->daddr;
	f->proto = ip->protocol;
	f->sport = 0;
	f->dport = 0;
	/* Non-first fragments carry no ports; treat them as portless. */
	if (ip->frag_off & bpf_htons(0x1fff))
		return 1;
	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		__u16 *ports = (void *)(ip + 1);
		if ((void *)(ports + 2) > data_end)
			return 0;
		f->sport = ports[0];
		f->dport = ports[1];
	}
	return 1;
}

static __always_inline int l4_csum_off(__u8 proto)
{
	if (proto == IPPROTO_TCP)
		return L4_OFF + offsetof(struct tcphdr, check);
	if (proto == IPPROTO_UDP)
		return L4_OFF + offsetof(struct udphdr, check);
	return -1;
}

/* Rewrites one address (source or destination) and its port, fixing both checksums. */
static __always_inline int rewrite(struct __sk_buff *skb, __u8 proto, int is_source, __u32 old_addr,
				   __u32 new_addr, __u16 old_port, __u16 new_port)
{
	int csum_off = l4_csum_off(proto);
	__u64 l4_flags = proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	int addr_off = is_source ? IP_SRC_OFF : IP_DST_OFF;
	int port_off = L4_OFF + (is_source ? 0 : 2);

	if (csum_off >= 0) {
		if (bpf_l4_csum_replace(skb, csum_off, old_addr, new_addr, l4_flags | BPF_F_PSEUDO_HDR | 4))
			return -1;
		if (old_port != new_port) {
			if (bpf_l4_csum_replace(skb, csum_off, old_port, new_port, l4_flags | 2))
				return -1;
			if (bpf_skb_store_bytes(skb, port_off, &new_port, 2, 0))
				return -1;
		}
	}
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, new_addr, 4))
		return -1;
	if (bpf_skb_store_bytes(skb, addr_off, &new_addr, 4, 0))
		return -1;
	return 0;
}

static __always_inline __u32 identity_of(__u32 addr)
{
	struct ipcache_key key = { .prefixlen = 32, .addr = addr };
	struct ipcache_value *value = bpf_map_lookup_elem(&ipcache, &key);
	return value ? value->identity : IDENTITY_WORLD;
}

static __always_inline int policy_try(__u32 ep, __u8 dir, __u32 identity, __u16 port, __u8 proto)
{
	struct policy_key key = {
		.endpoint_addr = ep,
		.remote_identity = identity,
		.port = port,
		.proto = proto,
		.direction = dir,
	};
	__u64 *hits = bpf_map_lookup_elem(&policy, &key);
	if (!hits)
		return 0;
	__sync_fetch_and_add(hits, 1);
	return 1;
}

/* Whether endpoint ep allows the flow; tries exact entries first, then the wildcards. */
static __always_inline int policy_allows(__u32 ep, __u8 dir, __u32 identity, __u16 port, __u8 proto)
{
	if (policy_try(ep, dir, identity, port, proto) || policy_try(ep, dir, identity, 0, proto) ||
	    policy_try(ep, dir, identity, port, 0) || policy_try(ep, dir, identity, 0, 0))
		return 1;
	return policy_try(ep, dir, 0, port, proto) || policy_try(ep, dir, 0, 0, proto) ||
	       policy_try(ep, dir, 0, port, 0) || policy_try(ep, dir, 0, 0, 0);
}

static __always_inline struct backend_value *backend_at(struct service_key *key, __u16 slot,
							 __u32 *backend_id)
{
	struct service_key slot_key = *key;
	slot_key.slot = slot;
	struct service_value *sv = bpf_map_lookup_elem(&services, &slot_key);
	if (!sv)
		return 0;
	*backend_id = sv->backend_id;
	return bpf_map_lookup_elem(&backends, backend_id);
}

#define LB_NONE 0
#define LB_TRANSLATED 1
#define LB_NO_BACKEND 2
#define LB_ERROR 3

/*
 * Service load-balancing for a new or established connection from a local pod: finds the
 * frontend, keeps an established connection on its backend, otherwise picks one (ClientIP
 * affinity first, then at random) and DNATs. Sets *rev_nat_id when translated.
 */
static __always_inline int lb_translate(struct __sk_buff *skb, struct flow *f, struct reply_nat *lb,
					int external)
{
	struct service_key key = { .addr = f->daddr, .port = f->dport, .proto = f->proto };
	struct service_value *master = bpf_map_lookup_elem(&services, &key);
	if (master && external && master->kind == SVC_KIND_CLUSTER_IP)
		return LB_NONE; /* ClusterIPs are for the mesh only */
	if (!master) {
		/* NodePort: from pods any node's address (host or remote-node identity), from
		 * outside only this node's own. */
		__u32 id = identity_of(f->daddr);
		if (id != IDENTITY_HOST && (external || id != IDENTITY_REMOTE_NODE))
			return LB_NONE;
		key.addr = 0;
		master = bpf_map_lookup_elem(&services, &key);
		if (!master || master->kind != SVC_KIND_NODE_PORT)
			return LB_NONE;
	}
	__u16 count = master->count;
	__u16 rnat = master->rev_nat_id;
	__u32 affinity_timeout = master->affinity_timeout;
	__u64 now = bpf_ktime_get_ns();

	struct ct_key ctk = {
		.saddr = f->saddr,
		.daddr = f->daddr,
		.sport = f->sport,
		.dport = f->dport,
		.proto = f->proto,
		.kind = CT_SERVICE,
	};
	__u32 backend_id = 0;
	struct backend_value *be = 0;
	struct ct_value *ct = bpf_map_lookup_elem(&conntrack, &ctk);
	if (ct) {
		ct_touch(ct, now);
		__u32 id = ct->backend_id;
		be = bpf_map_lookup_elem(&backends, &id);
		/* A removed (or reused) backend id sends the connection through selection again. */
		if (be && be->addr == ct->nat_addr && be->port == ct->nat_port)
			backend_id = id;
		else
			be = 0;
	}
	if (!be) {
		if (count == 0)
			return LB_NO_BACKEND;
		struct affinity_key ak = { .client_addr = f->saddr, .rev_nat_id = rnat };
		if (affinity_timeout) {
			struct affinity_value *av = bpf_map_lookup_elem(&affinity, &ak);
			if (av && now - av->last_used_ns < (__u64)affinity_timeout * 1000000000ULL) {
				__u32 id = av->backend_id;
				be = bpf_map_lookup_elem(&backends, &id);
				if (be)
					backend_id = id;
			}
		}
		if (!be) {
			__u16 slot = (bpf_get_prandom_u32() % count) + 1;
			be = backend_at(&key, slot, &backend_id);
			if (!be)
				return LB_NO_BACKEND;
		}
		if (affinity_timeout) {
			struct affinity_value av = { .last_used_ns = now, .backend_id = backend_id };
			bpf_map_update_elem(&affinity, &ak, &av, BPF_ANY);
		}
		struct ct_value nv = {
			.last_seen_ns = now,
			.backend_id = backend_id,
			.nat_addr = be->addr,
			.nat_port = be->port,
			.rev_nat_id = rnat,
		};
		bpf_map_update_elem(&conntrack, &ctk, &nv, BPF_ANY);
	}
	__u32 new_addr = be->addr;
	__u16 new_port = be->port;
	if (rewrite(skb, f->proto, 0, f->daddr, new_addr, f->dport, new_port))
		return LB_ERROR;
	lb->rev_nat_id = rnat;
	lb->orig_addr = f->daddr;
	lb->orig_port = f->dport;
	f->daddr = new_addr;
	f->dport = new_port;
	return LB_TRANSLATED;
}

/* Rewrites the source of a reply back to the service frontend the client talked to. */
static __always_inline int rev_nat(struct __sk_buff *skb, struct flow *f, struct reply_nat *r)
{
	struct revnat_value *rv = bpf_map_lookup_elem(&revnat, &r->rev_nat_id);
	if (!rv)
		return 0; /* service gone: the flow's replies pass untranslated */
	__u32 addr = rv->addr;
	__u16 port = rv->port;
	if (addr == 0) { /* NodePort: the node address the client used, kept in the flow entry */
		addr = r->orig_addr;
		port = r->orig_port;
	}
	if (rewrite(skb, f->proto, 1, f->saddr, addr, f->sport, port))
		return -1;
	f->saddr = addr;
	f->sport = port;
	return 0;
}

#define CT_NEW 0
#define CT_ESTABLISHED 1
#define CT_REPLY 2

/* Classifies the flow against CT_FLOW entries; for a reply, *r gets the entry's NAT data. */
static __always_inline int ct_classify(struct flow *f, struct reply_nat *r)
{
	struct ct_key reverse = {
		.saddr = f->daddr,
		.daddr = f->saddr,
		.sport = f->dport,
		.dport = f->sport,
		.proto = f->proto,
		.kind = CT_FLOW,
	};
	struct ct_value *ct = bpf_map_lookup_elem(&conntrack, &reverse);
	__u64 now = bpf_ktime_get_ns();
	if (ct) {
		ct_touch(ct, now);
		r->rev_nat_id = ct->rev_nat_id;
		r->orig_addr = ct->nat_addr;
		r->orig_port = ct->nat_port;
		r->tunnel_src = ct->tunnel_src;
		return CT_REPLY;
	}
	struct ct_key forward = {
		.saddr = f->saddr,
		.daddr = f->daddr,
		.sport = f->sport,
		.dport = f->dport,
		.proto = f->proto,
		.kind = CT_FLOW,
	};
	ct = bpf_map_lookup_elem(&conntrack, &forward);
	if (!ct)
		return CT_NEW;
	ct_touch(ct, now);
	return CT_ESTABLISHED;
}

static __always_inline void ct_create(struct flow *f, struct reply_nat *lb, __u32 src_identity,
				      __u32 tunnel_src)
{
	struct ct_key key = {
		.saddr = f->saddr,
		.daddr = f->daddr,
		.sport = f->sport,
		.dport = f->dport,
		.proto = f->proto,
		.kind = CT_FLOW,
	};
	struct ct_value value = {
		.last_seen_ns = bpf_ktime_get_ns(),
		.rev_nat_id = lb->rev_nat_id,
		.nat_addr = lb->orig_addr,
		.nat_port = lb->orig_port,
		.src_identity = src_identity,
		.tunnel_src = tunnel_src,
	};
	bpf_map_update_elem(&conntrack, &key, &value, BPF_ANY);
}

static __always_inline int deliver_local(struct __sk_buff *skb, struct endpoint_value *ep, __u32 addr)
{
	struct bpf_redir_neigh nh = { .nh_family = AF_INET, .ipv4_nh = addr };
	skb->mark = MARK_POLICY_DONE;
	return bpf_redirect_neigh(ep->ifindex, &nh, sizeof(nh), 0);
}

#define FROM_POD 0
#define FROM_OVERLAY 1
#define FROM_NETDEV 2

static __always_inline int tunnel_to(struct __sk_buff *skb, __u32 node_addr, __u32 identity)
{
	__u32 zero = 0;
	struct node_config *cfg = bpf_map_lookup_elem(&node, &zero);
	if (!cfg || !cfg->vxlan_ifindex)
		return TC_ACT_SHOT;
	struct bpf_tunnel_key tk = {
		.remote_ipv4 = bpf_ntohl(node_addr),
		.tunnel_id = identity,
		.tunnel_ttl = 64,
	};
	if (bpf_skb_set_tunnel_key(skb, &tk, sizeof(tk), BPF_F_ZERO_CSUM_TX))
		return TC_ACT_SHOT;
	return bpf_redirect(cfg->vxlan_ifindex, 0);
}

/*
 * The common walk after a packet entered through a pod veth, the tunnel (tunnel_src = the
 * sending node) or an external device: reply detection and reverse NAT, policy for new flows,
 * conntrack, then delivery.
 */
static __always_inline int forward(struct __sk_buff *skb, struct flow *f, __u32 src_identity,
				   struct endpoint_value *src_ep, struct reply_nat *lb, int from,
				   __u32 tunnel_src)
{
	struct reply_nat reply = {};
	int state = ct_classify(f, &reply);
	if (state == CT_REPLY && reply.rev_nat_id) {
		if (rev_nat(skb, f, &reply))
			return TC_ACT_SHOT;
	}

	if (state == CT_NEW && src_ep && (src_ep->flags & EP_F_EGRESS_ENFORCED)) {
		if (!policy_allows(f->saddr, DIR_EGRESS, identity_of(f->daddr), f->dport, f->proto)) {
			count_drop(f->saddr, DROP_POLICY_EGRESS);
			return TC_ACT_SHOT;
		}
	}

	__u32 daddr = f->daddr;
	struct endpoint_value *dst_ep = bpf_map_lookup_elem(&endpoints, &daddr);
	if (dst_ep) {
		if (state == CT_NEW && (dst_ep->flags & EP_F_INGRESS_ENFORCED) &&
		    !policy_allows(daddr, DIR_INGRESS, src_identity, f->dport, f->proto)) {
			count_drop(daddr, DROP_POLICY_INGRESS);
			return TC_ACT_SHOT;
		}
		if (state == CT_NEW)
			ct_create(f, lb, src_identity, tunnel_src);
		return deliver_local(skb, dst_ep, daddr);
	}
	if (from == FROM_OVERLAY) {
		/* Decapsulated but not for a pod here: the node's stack decides. The inner MAC was
		 * the sending node's; without this the stack would drop it as for another host. */
		bpf_skb_change_type(skb, 0 /* PACKET_HOST */);
		return TC_ACT_OK;
	}

	struct ipcache_key key = { .prefixlen = 32, .addr = daddr };
	struct ipcache_value *remote = bpf_map_lookup_elem(&ipcache, &key);
	if (state == CT_NEW)
		ct_create(f, lb, src_identity, 0);
	if (remote && remote->tunnel_endpoint)
		return tunnel_to(skb, remote->tunnel_endpoint, src_identity);
	/* A reply to a client outside the mesh whose request another node tunnelled here goes
	 * back through that node, which holds the translation the client expects. */
	if (state == CT_REPLY && reply.tunnel_src && from == FROM_POD && !remote)
		return tunnel_to(skb, reply.tunnel_src, src_identity);
	return TC_ACT_OK; /* the node itself or outside the mesh: the node's stack routes it */
}

/* Answers every ARP request from the pod (its gateway and anything else) with the veth's MAC. */
static __always_inline int arp_respond(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct arphdr *arp = (void *)(eth + 1);
	struct arp_body {
		__u8 sha[ETH_ALEN];
		__u32 sip;
		__u8 tha[ETH_ALEN];
		__u32 tip;
	} __attribute__((packed)) *body = (void *)(arp + 1);
	if ((void *)(body + 1) > data_end)
		return TC_ACT_OK;
	if (arp->ar_op != bpf_htons(ARPOP_REQUEST) || arp->ar_hrd != bpf_htons(ARPHRD_ETHER) ||
	    arp->ar_pro != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	__u32 sip = body->sip;
	__u32 tip = body->tip;
	if (sip == tip) /* gratuitous ARP or duplicate address detection */
		return TC_ACT_OK;
	struct endpoint_value *ep = bpf_map_lookup_elem(&endpoints, &sip);
	if (!ep)
		return TC_ACT_OK;
	__u8 pod_mac[ETH_ALEN];
	__builtin_memcpy(pod_mac, body->sha, ETH_ALEN);
	arp->ar_op = bpf_htons(ARPOP_REPLY);
	__builtin_memcpy(body->tha, pod_mac, ETH_ALEN);
	body->tip = sip;
	__builtin_memcpy(body->sha, ep->mac, ETH_ALEN);
	body->sip = tip;
	__builtin_memcpy(eth->h_dest, pod_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, ep->mac, ETH_ALEN);
	return bpf_redirect(skb->ifindex, 0);
}

SEC("tc")
int from_container(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return arp_respond(skb);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;

	struct flow f;
	if (!parse_flow(skb, &f))
		return TC_ACT_OK;
	__u32 saddr = f.saddr;
	struct endpoint_value *src_ep = bpf_map_lookup_elem(&endpoints, &saddr);
	if (!src_ep)
		return TC_ACT_OK; /* not (yet) a known endpoint: left to the node's stack */
	__u32 src_identity = src_ep->identity;

	struct reply_nat lb_nat = {};
	if (f.proto == IPPROTO_TCP || f.proto == IPPROTO_UDP) {
		int lb = lb_translate(skb, &f, &lb_nat, 0);
		if (lb == LB_NO_BACKEND) {
			count_drop(saddr, DROP_NO_BACKEND);
			return TC_ACT_SHOT;
		}
		if (lb == LB_ERROR)
			return TC_ACT_SHOT;
	}
	return forward(skb, &f, src_identity, src_ep, &lb_nat, FROM_POD, 0);
}

SEC("tc")
int from_overlay(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	struct bpf_tunnel_key tk = {};
	if (bpf_skb_get_tunnel_key(skb, &tk, sizeof(tk), 0))
		return TC_ACT_SHOT;
	struct flow f;
	if (!parse_flow(skb, &f))
		return TC_ACT_OK;
	/* The VNI is the sender's security identity, whatever our ipcache says of its IP. */
	struct reply_nat none = {};
	return forward(skb, &f, tk.tunnel_id, 0, &none, FROM_OVERLAY, bpf_htonl(tk.remote_ipv4));
}

SEC("tc")
int from_netdev(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	struct flow f;
	if (!parse_flow(skb, &f) || (f.proto != IPPROTO_TCP && f.proto != IPPROTO_UDP))
		return TC_ACT_OK;
	/* Replies of flows this node translated for outside clients are handled where they
	 * arrive (pod veth or tunnel); here only new requests to a service frontend. */
	struct reply_nat lb_nat = {};
	int lb = lb_translate(skb, &f, &lb_nat, 1);
	if (lb == LB_NONE)
		return TC_ACT_OK;
	if (lb == LB_NO_BACKEND) {
		count_drop(0, DROP_NO_BACKEND);
		return TC_ACT_SHOT;
	}
	if (lb == LB_ERROR)
		return TC_ACT_SHOT;
	return forward(skb, &f, IDENTITY_WORLD, 0, &lb_nat, FROM_NETDEV, 0);
}

SEC("tc")
int to_container(struct __sk_buff *skb)
{
	if (skb->mark == MARK_POLICY_DONE) {
		skb->mark = 0;
		return TC_ACT_OK;
	}
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	struct flow f;
	if (!parse_flow(skb, &f))
		return TC_ACT_OK;
	__u32 daddr = f.daddr;
	struct endpoint_value *ep = bpf_map_lookup_elem(&endpoints, &daddr);
	if (!ep || !(ep->flags & EP_F_INGRESS_ENFORCED))
		return TC_ACT_OK;
	struct reply_nat none = {};
	if (ct_classify(&f, &none) != CT_NEW)
		return TC_ACT_OK;
	__u32 src_identity = identity_of(f.saddr);
	if (!policy_allows(daddr, DIR_INGRESS, src_identity, f.dport, f.proto)) {
		count_drop(daddr, DROP_POLICY_INGRESS);
		return TC_ACT_SHOT;
	}
	ct_create(&f, &none, src_identity, 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
