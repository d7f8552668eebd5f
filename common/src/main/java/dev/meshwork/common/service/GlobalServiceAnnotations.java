package dev.meshwork.common.service;

import dev.meshwork.proto.v1.Affinity;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The global-service annotations of a Service: Cilium's names and their {@code meshwork.dev/}
 * twins. The operator reads them to decide what it publishes, the agent to program its local
 * Services: both call {@link #parse}, so they always agree.
 *
 * <ul>
 *   <li>{@code global}: any of {@link #GLOBAL} is {@code "true"}; default not global.
 *   <li>{@code shared}: the first of {@link #SHARED} that is set; default shared.
 *   <li>{@code affinity}: the first of {@link #AFFINITY} that is set, {@code local|remote|none};
 *       default none.
 * </ul>
 *
 * Values are case-insensitive and trimmed. An invalid value counts as absent and is reported in
 * {@link #problems()}, so the next name of the setting or else its default applies.
 */
public record GlobalServiceAnnotations(
    boolean global, boolean shared, Affinity affinity, List<InvalidAnnotation> problems) {

  /** Makes a Service global when any of them is true. */
  public static final List<String> GLOBAL =
      List.of("meshwork.dev/global", "service.cilium.io/global", "io.cilium/global-service");

  /** Whether a global Service's backends are exported; the first one set wins. */
  public static final List<String> SHARED =
      List.of("meshwork.dev/shared", "service.cilium.io/shared", "io.cilium/shared-service");

  /** Which backends a global Service prefers; the first one set wins. */
  public static final List<String> AFFINITY =
      List.of("meshwork.dev/affinity", "service.cilium.io/affinity");

  /**
   * An annotation whose value could not be read.
   *
   * @param annotation the annotation's name
   * @param value its value, as written
   * @param expected the values it accepts
   * @param used what the setting became instead
   */
  public record InvalidAnnotation(String annotation, String value, String expected, String used) {
    /** For a Warning event or a log line, for example {@code annotation a="b" is invalid: ...}. */
    public String message() {
      return "annotation " + annotation + "=\"" + value + "\" is invalid: use " + expected + "; using " + used;
    }
  }

  public GlobalServiceAnnotations {
    problems = List.copyOf(problems);
  }

  /** The settings of a Service with these annotations ({@code null}: none). */
  public static GlobalServiceAnnotations parse(Map<String, String> annotations) {
    Map<String, String> all = annotations == null ? Map.of() : annotations;
    List<String> invalidGlobal = new ArrayList<>();
    boolean global = false;
    for (String name : GLOBAL) {
      Boolean value = bool(all, name, invalidGlobal);
      global |= Boolean.TRUE.equals(value);
    }
    List<String> invalidShared = new ArrayList<>();
    Boolean shared = null;
    for (String name : SHARED) {
      Boolean value = bool(all, name, invalidShared);
      shared = shared == null ? value : shared;
    }
    List<String> invalidAffinity = new ArrayList<>();
    Affinity affinity = null;
    for (String name : AFFINITY) {
      Affinity value = affinity(all, name, invalidAffinity);
      affinity = affinity == null ? value : affinity;
    }
    boolean sharedOrDefault = shared == null || shared;
    Affinity affinityOrDefault = affinity == null ? Affinity.AFFINITY_NONE : affinity;

    List<InvalidAnnotation> problems = new ArrayList<>();
    String booleans = "\"true\" or \"false\"";
    for (String name : invalidGlobal) {
      problems.add(new InvalidAnnotation(name, all.get(name), booleans, global ? "true (global)" : "false (not global)"));
    }
    for (String name : invalidShared) {
      problems.add(
          new InvalidAnnotation(
              name, all.get(name), booleans, sharedOrDefault ? "true (shared)" : "false (not shared)"));
    }
    for (String name : invalidAffinity) {
      problems.add(new InvalidAnnotation(name, all.get(name), "local, remote or none", affinityName(affinityOrDefault)));
    }
    return new GlobalServiceAnnotations(global, sharedOrDefault, affinityOrDefault, problems);
  }

  /** The annotation as a boolean; null when absent or invalid (invalid adds it to {@code invalid}). */
  private static Boolean bool(Map<String, String> all, String name, List<String> invalid) {
    String raw = all.get(name);
    if (raw == null) {
      return null;
    }
    return switch (raw.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> Boolean.TRUE;
      case "false" -> Boolean.FALSE;
      default -> {
        invalid.add(name);
        yield null;
      }
    };
  }

  /** The annotation as an affinity; null when absent or invalid (invalid adds it to {@code invalid}). */
  private static Affinity affinity(Map<String, String> all, String name, List<String> invalid) {
    String raw = all.get(name);
    if (raw == null) {
      return null;
    }
    return switch (raw.trim().toLowerCase(Locale.ROOT)) {
      case "local" -> Affinity.AFFINITY_LOCAL;
      case "remote" -> Affinity.AFFINITY_REMOTE;
      case "none", "" -> Affinity.AFFINITY_NONE;
      default -> {
        invalid.add(name);
        yield null;
      }
    };
  }

  private static String affinityName(Affinity affinity) {
    return switch (affinity) {
      case AFFINITY_LOCAL -> "local";
      case AFFINITY_REMOTE -> "remote";
      case AFFINITY_NONE, UNRECOGNIZED -> "none";
    };
  }
}
