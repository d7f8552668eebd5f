package dev.meshwork.cni.spec;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The CNI specification versions this plugin speaks. The result JSON differs between them: 0.4.0
 * carries {@code "version"} in each IP entry; 1.0.0 drops it; 1.1.0 adds interface {@code mtu}
 * and the GC and STATUS verbs.
 */
public enum CniVersion {
  V0_4_0("0.4.0"),
  V1_0_0("1.0.0"),
  V1_1_0("1.1.0");

  /** The newest version: used for VERSION without input and for errors before negotiation. */
  public static final CniVersion LATEST = V1_1_0;

  private static final Pattern SEMVER = Pattern.compile("\\d+\\.\\d+\\.\\d+");

  private final String text;

  CniVersion(String text) {
    this.text = text;
  }

  public String text() {
    return text;
  }

  /** Whether this version is at least {@code other} (GC and STATUS need 1.1.0). */
  public boolean atLeast(CniVersion other) {
    return compareTo(other) >= 0;
  }

  /** The supported versions in the order VERSION reports them. */
  public static List<String> supported() {
    return List.of(V0_4_0.text, V1_0_0.text, V1_1_0.text);
  }

  /**
   * The version named by a network configuration's {@code cniVersion}.
   *
   * @throws CniException code 6 if the string is not a version at all, code 1 if it is a version
   *     this plugin does not support
   */
  public static CniVersion of(String text) {
    for (CniVersion v : values()) {
      if (v.text.equals(text)) {
        return v;
      }
    }
    if (!SEMVER.matcher(text).matches()) {
      throw new CniException(
          CniError.DECODING_FAILURE,
          "cannot decode cniVersion \"" + text + "\"",
          "cniVersion must be a version like \"1.1.0\"; meshwork-cni supports "
              + String.join(", ", supported()));
    }
    throw new CniException(
        CniError.INCOMPATIBLE_VERSION,
        "incompatible CNI version \"" + text + "\"",
        "the network configuration asks for cniVersion \"" + text
            + "\"; meshwork-cni supports " + String.join(", ", supported()));
  }

  /** The version if {@code text} is one this plugin supports, otherwise {@code null}. */
  public static CniVersion supportedOrNull(String text) {
    for (CniVersion v : values()) {
      if (v.text.equals(text)) {
        return v;
      }
    }
    return null;
  }
}
