package dev.meshwork.e2e.cni;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The source checkout these tests run in: found by walking up from the working directory (Maven
 * runs a module's tests in the module's directory) to the directory holding {@code mvnw} and
 * {@code cni-plugin/}. The CNI launcher and the plugin jar are taken from there, as built by
 * {@code ./mvnw -pl cni-plugin -am package} (in a full reactor build, cni-plugin is packaged
 * before e2e runs its tests).
 */
final class Checkout {
  private Checkout() {}

  static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("mvnw")) && Files.isDirectory(d.resolve("cni-plugin"))) {
        return d;
      }
    }
    throw new IllegalStateException("no Meshwork checkout (mvnw and cni-plugin/) above " + dir);
  }

  /** {@code bin/meshwork-cni}, the launcher kubelet executes. */
  static Path launcher() {
    return root().resolve("bin").resolve("meshwork-cni");
  }

  /** {@code cni-plugin/target}: the plugin jar and its AOT cache. */
  static Path pluginHome() {
    return root().resolve("cni-plugin").resolve("target");
  }

  /** Why the plugin cannot be run, or empty when its jar is built. */
  static Optional<String> pluginMissing() {
    Path home = pluginHome();
    try (var files = Files.list(home)) {
      if (files.anyMatch(f -> f.getFileName().toString().matches("meshwork-cni-plugin-.*\\.jar"))) {
        return Optional.empty();
      }
    } catch (IOException e) {
      // no target directory: not built
    }
    return Optional.of("no meshwork-cni-plugin jar in " + home + "; build it first with ./mvnw -pl cni-plugin -am package");
  }
}
