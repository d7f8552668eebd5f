package dev.meshwork.e2e.sandbox.kubelet;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * What the kubelet shim has recorded about one pod it runs, read from its run directory: the
 * pod, its node, the network namespace the shim created for it ({@code /run/netns/<netns>}) and
 * its IP once CNI ADD succeeded ({@code null} before).
 *
 * <p>The shim writes the record <em>before</em> it creates anything for the pod, so {@link
 * KubeletShim#cleanUp} can remove everything after a crash. Layout: {@code
 * <runDir>/pods/<namespace>_<name>/pod.properties}.
 */
public record PodRecord(String namespace, String name, String node, String netns, String ip) {

  static final String PODS = "pods";
  static final String PROPERTIES = "pod.properties";

  /** The record of pod {@code namespace/name}, if the shim runs it (or crashed while running it). */
  public static Optional<PodRecord> read(Path runDir, String namespace, String name) {
    return PodStore.readProperties(PodStore.podDir(runDir, namespace, name)).map(PodRecord::of);
  }

  /** Every pod recorded in the run directory, ordered by namespace and name. */
  public static List<PodRecord> readAll(Path runDir) {
    List<PodRecord> all = new ArrayList<>();
    for (Path dir : PodStore.podDirs(runDir)) {
      PodStore.readProperties(dir).map(PodRecord::of).ifPresent(all::add);
    }
    all.sort(Comparator.comparing(PodRecord::namespace).thenComparing(PodRecord::name));
    return all;
  }

  static PodRecord of(Properties p) {
    return new PodRecord(
        p.getProperty("namespace"),
        p.getProperty("name"),
        p.getProperty("node"),
        p.getProperty("netns"),
        p.getProperty("ip"));
  }
}
