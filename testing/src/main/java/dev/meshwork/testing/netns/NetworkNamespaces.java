package dev.meshwork.testing.netns;

import dev.meshwork.testing.process.Command;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Assumptions;

/**
 * Creates network namespaces for privileged tests and deletes them all on close:
 *
 * <pre>{@code
 * @Test
 * void podsTalkOverVeth() {
 *   NetworkNamespaces.assumeRoot();
 *   try (NetworkNamespaces namespaces = new NetworkNamespaces("veth")) {
 *     NetworkNamespace pod = namespaces.create("pod1");    // e.g. mwt-veth-3fa2c1-pod1
 *     pod.execOrThrow("ip", "link", "set", "lo", "up");
 *   }
 * }
 * }</pre>
 *
 * Every name starts with {@code mwt-<prefix>-<random>-} so that parallel tests never collide and
 * leftovers are recognisable. Only namespaces this object created are deleted, by exact name.
 */
public final class NetworkNamespaces implements AutoCloseable {
  /** Linux limits interface names to 15 characters; namespace names are free, but keep them short. */
  private static final int MAX_NAME = 48;

  private final String prefix;
  private final List<NetworkNamespace> created = new ArrayList<>();

  /** @param purpose a short word naming the test, part of every namespace name */
  public NetworkNamespaces(String purpose) {
    if (!purpose.matches("[a-z0-9-]{1,16}")) {
      throw new IllegalArgumentException("namespace purpose \"" + purpose + "\" must be 1 to 16 characters of [a-z0-9-]");
    }
    this.prefix = "mwt-" + purpose + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2);
  }

  /** True when this JVM runs as root (uid 0). */
  public static boolean isRoot() {
    return uid() == 0;
  }

  /** Skips the calling test with a clear message unless it runs as root. */
  public static void assumeRoot() {
    Assumptions.assumeTrue(isRoot(),
        "skipped: this privileged test needs root (it creates network namespaces); run the tests as root, e.g. sudo ./run-tests.sh");
  }

  /** The shared prefix of this object's namespaces, e.g. {@code mwt-veth-3fa2c1}. */
  public String prefix() {
    return prefix;
  }

  /** Creates {@code <prefix>-<name>} with its loopback up. */
  public synchronized NetworkNamespace create(String name) {
    String full = prefix + "-" + name;
    if (!name.matches("[a-z0-9-]+") || full.length() > MAX_NAME) {
      throw new IllegalArgumentException("namespace name \"" + name + "\" must be [a-z0-9-] and keep \"" + full + "\" within " + MAX_NAME + " characters");
    }
    Command.run("ip", "netns", "add", full).orThrow();
    NetworkNamespace namespace = new NetworkNamespace(full);
    created.add(namespace);
    namespace.execOrThrow("ip", "link", "set", "lo", "up");
    return namespace;
  }

  public synchronized List<NetworkNamespace> created() {
    return List.copyOf(created);
  }

  /** Deletes every namespace this object created, in reverse order; reports the first failure after trying all. */
  @Override
  public synchronized void close() {
    RuntimeException failure = null;
    for (NetworkNamespace namespace : created.reversed()) {
      try {
        namespace.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    created.clear();
    if (failure != null) {
      throw failure;
    }
  }

  private static long uid() {
    try {
      Object uid = java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid");
      return ((Number) uid).longValue();
    } catch (Exception e) {
      return -1;
    }
  }
}
