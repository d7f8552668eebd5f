package dev.meshwork.agent.service.kubernetes;

import dev.meshwork.agent.service.Affinity;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The global-service annotations of a local Service, read the way the operator reads them
 * (Cilium's names and their {@code meshwork.dev/} twins), so that agent and operator agree on
 * whether a Service is global. An invalid value is reported in {@link #problems()} and replaced
 * by the documented default: not global, shared, no affinity. The {@code meshwork.dev/} name wins
 * when several names of one setting are present.
 */
public record ServiceAnnotations(boolean global, boolean shared, Affinity affinity, List<String> problems) {
  public static final List<String> GLOBAL =
      List.of("meshwork.dev/global", "service.cilium.io/global", "io.cilium/global-service");
  public static final List<String> SHARED =
      List.of("meshwork.dev/shared", "service.cilium.io/shared", "io.cilium/shared-service");
  public static final List<String> AFFINITY = List.of("meshwork.dev/affinity", "service.cilium.io/affinity");

  public ServiceAnnotations {
    problems = List.copyOf(problems);
  }

  public static ServiceAnnotations parse(Map<String, String> annotations) {
    Map<String, String> all = annotations == null ? Map.of() : annotations;
    List<String> problems = new ArrayList<>();
    boolean global = false;
    for (String name : GLOBAL) {
      Boolean value = bool(all, name, problems, "false (not global)");
      global |= value != null && value;
    }
    Boolean shared = null;
    for (String name : SHARED) {
      Boolean value = bool(all, name, problems, "true (shared)");
      if (shared == null) shared = value;
    }
    Affinity affinity = null;
    for (String name : AFFINITY) {
      String raw = all.get(name);
      if (raw == null) continue;
      Affinity parsed =
          switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "local" -> Affinity.LOCAL;
            case "remote" -> Affinity.REMOTE;
            case "none", "" -> Affinity.NONE;
            default -> null;
          };
      if (parsed == null) {
        problems.add("annotation " + name + "=\"" + raw + "\" is invalid: use local, remote or none; using none");
      } else if (affinity == null) {
        affinity = parsed;
      }
    }
    return new ServiceAnnotations(
        global, shared == null || shared, affinity == null ? Affinity.NONE : affinity, problems);
  }

  private static Boolean bool(Map<String, String> all, String name, List<String> problems, String fallback) {
    String raw = all.get(name);
    if (raw == null) return null;
    return switch (raw.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> Boolean.TRUE;
      case "false" -> Boolean.FALSE;
      default -> {
        problems.add("annotation " + name + "=\"" + raw + "\" is invalid: use \"true\" or \"false\"; using " + fallback);
        yield null;
      }
    };
  }
}
