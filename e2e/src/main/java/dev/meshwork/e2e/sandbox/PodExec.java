package dev.meshwork.e2e.sandbox;

import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * `exec CLUSTER/[NAMESPACE/]POD -- CMD...`: runs a command in a pod's network namespace with
 * {@code ip netns exec}, which also mounts the pod's {@code /etc/netns/<netns>/hosts} (service
 * names) over {@code /etc/hosts}. POD is a pod name, or a Deployment's name: then the first of its
 * pods (by name) is taken. NAMESPACE defaults to {@code default}.
 */
public final class PodExec {
  private PodExec() {}

  /** A parsed target. */
  public record Target(String cluster, String namespace, String pod) {
    public static Target parse(String text) {
      String[] parts = text.split("/");
      return switch (parts.length) {
        case 2 -> new Target(parts[0], "default", parts[1]);
        case 3 -> new Target(parts[0], parts[1], parts[2]);
        default -> throw new IllegalArgumentException(
            "'" + text + "' is not CLUSTER/[NAMESPACE/]POD, e.g. k8s-test-cluster/testing/frontend");
      };
    }

    @Override
    public String toString() {
      return cluster + "/" + namespace + "/" + pod;
    }
  }

  public static PodRecord find(RunDir runDir, Target target) throws IOException {
    var pods = runDir.pods(target.cluster());
    if (!java.nio.file.Files.isDirectory(runDir.cluster(target.cluster()))) {
      throw new IOException("no cluster " + target.cluster() + " in the sandbox at " + runDir.root());
    }
    Optional<PodRecord> exact = PodRecord.read(pods, target.namespace(), target.pod());
    if (exact.isPresent()) {
      return exact.get();
    }
    List<PodRecord> all = PodRecord.readAll(pods);
    return all.stream()
        .filter(p -> p.namespace().equals(target.namespace()) && p.name().startsWith(target.pod() + "-"))
        .min(Comparator.comparing(PodRecord::name))
        .orElseThrow(() -> new IOException("no pod " + target + " (pods in " + target.cluster() + ": "
            + (all.isEmpty() ? "none" : String.join(", ", all.stream().map(p -> p.namespace() + "/" + p.name()).toList()))
            + ")"));
  }

  /** The command line that runs {@code command} in the pod's namespace. */
  public static List<String> command(PodRecord pod, List<String> command) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", pod.netns()));
    full.addAll(command);
    return full;
  }
}
