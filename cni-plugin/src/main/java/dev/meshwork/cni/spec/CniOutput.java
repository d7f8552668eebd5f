package dev.meshwork.cni.spec;

import dev.meshwork.cni.json.Json;
import dev.meshwork.proto.v1.CniDns;
import dev.meshwork.proto.v1.CniInterface;
import dev.meshwork.proto.v1.CniIpConfig;
import dev.meshwork.proto.v1.CniResult;
import dev.meshwork.proto.v1.CniRoute;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Renders what the plugin prints on stdout: an ADD result in the shape of the negotiated version,
 * an error, or the VERSION answer.
 */
public final class CniOutput {

  private CniOutput() {}

  /**
   * The ADD result JSON for {@code version}.
   *
   * <ul>
   *   <li>0.4.0: each IP carries {@code "version": "4"|"6"}; interfaces without {@code mtu}.
   *   <li>1.0.0: no IP {@code version}.
   *   <li>1.1.0: interfaces also carry {@code mtu} when the agent set one.
   * </ul>
   *
   * IPs refer to their interface by index ({@code "interface"}), as in every version since 0.3.0.
   */
  public static String result(CniVersion version, CniResult result) {
    Json.ObjectBuilder out = Json.object().put("cniVersion", version.text());

    List<Object> interfaces = new ArrayList<>();
    for (CniInterface itf : result.getInterfacesList()) {
      Json.ObjectBuilder o = Json.object().put("name", itf.getName());
      o.putIfNotEmpty("mac", itf.getMac());
      if (version.atLeast(CniVersion.V1_1_0) && itf.getMtu() > 0) {
        o.put("mtu", (long) itf.getMtu());
      }
      o.putIfNotEmpty("sandbox", itf.getSandbox());
      interfaces.add(o.build());
    }
    out.putIfNotEmpty("interfaces", interfaces);

    List<Object> ips = new ArrayList<>();
    for (CniIpConfig ip : result.getIpsList()) {
      Json.ObjectBuilder o = Json.object();
      if (version == CniVersion.V0_4_0) {
        o.put("version", ip.getAddress().indexOf(':') >= 0 ? "6" : "4");
      }
      o.put("address", ip.getAddress());
      o.putIfNotEmpty("gateway", ip.getGateway());
      // A negative index means "not tied to an interface" (the member is optional in CNI).
      if (ip.getInterfaceIndex() >= 0 && result.getInterfacesCount() > 0) {
        o.put("interface", ip.getInterfaceIndex());
      }
      ips.add(o.build());
    }
    // "ips" is required in 0.4.0 results and harmless empty in 1.x: always present.
    out.put("ips", ips);

    List<Object> routes = new ArrayList<>();
    for (CniRoute route : result.getRoutesList()) {
      routes.add(Json.object().put("dst", route.getDst()).putIfNotEmpty("gw", route.getGw())
          .build());
    }
    out.putIfNotEmpty("routes", routes);

    Map<String, Object> dns = dns(result.getDns());
    out.put("dns", dns);
    return Json.write(out.build());
  }

  private static Map<String, Object> dns(CniDns dns) {
    return Json.object()
        .putIfNotEmpty("nameservers", dns.getNameserversList())
        .putIfNotEmpty("domain", dns.getDomain())
        .putIfNotEmpty("search", dns.getSearchList())
        .putIfNotEmpty("options", dns.getOptionsList())
        .build();
  }

  /** The error JSON; {@code details} is left out when empty. */
  public static String error(CniVersion version, CniError error) {
    return Json.write(
        Json.object()
            .put("cniVersion", version.text())
            .put("code", error.code())
            .put("msg", error.msg())
            .putIfNotEmpty("details", error.details())
            .build());
  }

  /** The VERSION answer: the requested version echoed and every version this plugin supports. */
  public static String version(String cniVersion) {
    return Json.write(
        Json.object()
            .put("cniVersion", cniVersion)
            .put("supportedVersions", CniVersion.supported())
            .build());
  }
}
