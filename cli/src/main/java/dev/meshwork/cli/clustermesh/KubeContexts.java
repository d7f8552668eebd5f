package dev.meshwork.cli.clustermesh;

import dev.meshwork.cli.CliFailure;
import io.fabric8.kubernetes.api.model.NamedContext;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.internal.KubeConfigUtils;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The kubeconfig contexts the clustermesh commands talk to: {@code --kubeconfig FILE}, else the
 * files kubectl would use ($KUBECONFIG, else ~/.kube/config). An unknown context is an error that
 * lists the known ones, never a silent fall back to the current context.
 */
public record KubeContexts(Path kubeconfig) {

  /** A client for {@code context}. */
  public KubernetesClient client(String context) {
    List<File> files = files();
    Set<String> known = new LinkedHashSet<>();
    for (File file : files) {
      try {
        for (NamedContext named : KubeConfigUtils.parseConfig(file).getContexts()) {
          known.add(named.getName());
        }
      } catch (RuntimeException e) {
        throw new CliFailure("cannot read kubeconfig " + file + ": " + e.getMessage(), e);
      }
    }
    if (!known.contains(context)) {
      throw new CliFailure("unknown kubeconfig context \"" + context + "\" (known: "
          + (known.isEmpty() ? "none" : String.join(", ", known)) + "; kubeconfig: "
          + (files.isEmpty() ? "none found" : String.join(", ", files.stream().map(File::toString).toList())) + ")");
    }
    Config config = kubeconfig == null ? Config.autoConfigure(context) : Config.fromKubeconfig(context, kubeconfig.toFile());
    // A command line tool: an unreachable API server is reported after one retry, not after minutes.
    config.setRequestRetryBackoffLimit(1);
    config.setConnectionTimeout(10_000);
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  private List<File> files() {
    if (kubeconfig != null) {
      if (!Files.isRegularFile(kubeconfig)) {
        throw new CliFailure("--kubeconfig " + kubeconfig + " does not exist");
      }
      return List.of(kubeconfig.toFile());
    }
    List<File> files = new ArrayList<>();
    for (String name : Config.getKubeconfigFilenames()) {
      File file = new File(name);
      if (file.isFile()) {
        files.add(file);
      }
    }
    return files;
  }
}
