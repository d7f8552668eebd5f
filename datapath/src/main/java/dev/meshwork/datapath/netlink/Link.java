package dev.meshwork.datapath.netlink;

/**
 * A network interface as {@code RTM_GETLINK} reports it.
 *
 * @param up administratively up ({@code IFF_UP}), what {@code ip link set up} sets
 * @param mac the hardware address, {@code 0e:...}; empty when the link has none
 */
public record Link(int index, String name, int mtu, boolean up, String mac) {}
