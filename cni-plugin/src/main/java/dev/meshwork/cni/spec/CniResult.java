package dev.meshwork.cni.spec;

import java.util.List;

/**
 * A successful ADD result as the agent reports it (agent.proto's CniResult), before it is
 * rendered for the negotiated version by {@link CniOutput}.
 */
public record CniResult(
    List<Interface> interfaces, List<IpConfig> ips, List<Route> routes, Dns dns) {

  public CniResult {
    interfaces = List.copyOf(interfaces);
    ips = List.copyOf(ips);
    routes = List.copyOf(routes);
  }

  public static final CniResult EMPTY = new CniResult(List.of(), List.of(), List.of(), Dns.EMPTY);

  /** An interface; {@code sandbox} is the netns path for a pod interface, empty on the host. */
  public record Interface(String name, String mac, String sandbox, long mtu) {}

  /** An address with prefix length; {@code interfaceIndex} points into the interfaces (-1: none). */
  public record IpConfig(String address, String gateway, int interfaceIndex) {}

  /** A route; an empty {@code gw} means the interface's gateway. */
  public record Route(String dst, String gw) {}

  /** DNS settings; all members optional. */
  public record Dns(List<String> nameservers, String domain, List<String> search,
      List<String> options) {
    public static final Dns EMPTY = new Dns(List.of(), "", List.of(), List.of());

    public Dns {
      nameservers = List.copyOf(nameservers);
      search = List.copyOf(search);
      options = List.copyOf(options);
    }
  }
}
