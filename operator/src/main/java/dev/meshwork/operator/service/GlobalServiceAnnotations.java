package dev.meshwork.operator.service;

import dev.meshwork.proto.v1.Affinity;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The global-service annotations of a Service, Cilium's names and their {@code meshwork.dev/}
 * twins. An invalid value is reported in {@link #problems()} and replaced by the documented
 * default: not global, shared, no affinity. When several names of one setting are present the
 * {@code meshwork.dev/} one wins.
 */
public record GlobalServiceAnnotations(
    boolean global, boolean shared, Affinity affinity, List<String> problems) {

  public static final List<String> GLOBAL =
      List.of("meshwork.dev/global", "service.cilium.io/global", "io.cilium/global-service");
  public static final List<String> SHARED =
      List.of("meshwork.dev/shared", "service.cilium.io/shared", "io.cilium/shared-service");
  public static final List<String> AFFINITY =
      List.of("meshwork.dev/affinity", "service.cilium.io/affinity");

  public GlobalServiceAnnotations {
    problems = List.copyOf(problems);
  }

  public static GlobalServiceAnnotations parse(Map<String, String> annotations) {
    Map<String, String> all = annotations == null ? Map.of() : annotations;
    List<String> problems = new ArrayList<>();
    boolean global = false;
    for (String name : GLOBAL) {
      Boolean value = bool(all, name, problems, "false (not global)");
      if (value != null && value) {
        global = true;
      }
    }
    boolean shared = firstBool(all, SHARED, problems, true, "true (shared)");
    Affinity affinity = Affinity.AFFINITY_NONE;
    String affinityName = null;
    for (String name : AFFINITY) {
      String raw = all.get(name);
      if (raw == null) {
        continue;
      }
      Affinity parsed =
          switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "local" -> Affinity.AFFINITY_LOCAL;
            case "remote" -> Affinity.AFFINITY_REMOTE;
            case "none", "" -> Affinity.AFFINITY_NONE;
            default -> null;
          };
      if (parsed == null) {
        problems.add(
            "annotation "
                + name
                + "=\""
                + raw
                + "\" is invalid: use local, remote or none; using none");
      } else if (affinityName == null) {
        affinity = parsed;
        affinityName = name;
      }
    }
    return new GlobalServiceAnnotations(global, shared, affinity, problems);
  }

  private static boolean firstBool(
      Map<String, String> all,
      List<String> names,
      List<String> problems,
      boolean fallback,
      String fallbackText) {
    Boolean chosen = null;
    for (String name : names) {
      Boolean value = bool(all, name, problems, fallbackText);
      if (chosen == null && value != null) {
        chosen = value;
      }
    }
    return chosen == null ? fallback : chosen;
  }

  /** The annotation as a boolean, null when absent or invalid (invalid adds a problem). */
  private static Boolean bool(
      Map<String, String> all, String name, List<String> problems, String fallbackText) {
    String raw = all.get(name);
    if (raw == null) {
      return null;
    }
    return switch (raw.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> Boolean.TRUE;
      case "false" -> Boolean.FALSE;
      default -> {
        problems.add(
            "annotation "
                + name
                + "=\""
                + raw
                + "\" is invalid: use \"true\" or \"false\"; using "
                + fallbackText);
        yield null;
      }
    };
  }
}
