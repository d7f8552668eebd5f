package dev.meshwork.cni.spec;

import dev.meshwork.cni.json.Json;
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
    for (CniResult.Interface itf : result.interfaces()) {
      Json.ObjectBuilder o = Json.object().put("name", itf.name());
      o.putIfNotEmpty("mac", itf.mac());
      if (version.atLeast(CniVersion.V1_1_0) && itf.mtu() > 0) {
        o.put("mtu", itf.mtu());
      }
      o.putIfNotEmpty("sandbox", itf.sandbox());
      interfaces.add(o.build());
    }
    out.putIfNotEmpty("interfaces", interfaces);

    List<Object> ips = new ArrayList<>();
    for (CniResult.IpConfig ip : result.ips()) {
      Json.ObjectBuilder o = Json.object();
      if (version == CniVersion.V0_4_0) {
        o.put("version", ip.address().indexOf(':') >= 0 ? "6" : "4");
      }
      o.put("address", ip.address());
      o.putIfNotEmpty("gateway", ip.gateway());
      // A negative index means "not tied to an interface" (the member is optional in CNI).
      if (ip.interfaceIndex() >= 0 && !result.interfaces().isEmpty()) {
        o.put("interface", ip.interfaceIndex());
      }
      ips.add(o.build());
    }
    // "ips" is required in 0.4.0 results and harmless empty in 1.x: always present.
    out.put("ips", ips);

    List<Object> routes = new ArrayList<>();
    for (CniResult.Route route : result.routes()) {
      routes.add(Json.object().put("dst", route.dst()).putIfNotEmpty("gw", route.gw()).build());
    }
    out.putIfNotEmpty("routes", routes);

    out.put("dns", dns(result.dns()));
    return Json.write(out.build());
  }

  private static Map<String, Object> dns(CniResult.Dns dns) {
    return Json.object()
        .putIfNotEmpty("nameservers", dns.nameservers())
        .putIfNotEmpty("domain", dns.domain())
        .putIfNotEmpty("search", dns.search())
        .putIfNotEmpty("options", dns.options())
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
