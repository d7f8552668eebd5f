package dev.meshwork.cli.clustermesh;

import dev.meshwork.cli.CliFailure;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The two kubeconfig contexts `connect` and `disconnect` work on (names as Cilium's CLI:
 * {@code --context} and {@code --destination-context}), the kubeconfig, and {@code --dry-run}.
 */
public final class ContextOptions {

  /** Where the chart is installed unless --namespace says otherwise. */
  public static final String DEFAULT_NAMESPACE = "kube-system";

  @Option(names = "--context", paramLabel = "CONTEXT", description = "Kubeconfig context of the source cluster.")
  String context;

  @Option(names = "--destination-context", paramLabel = "CONTEXT", description = "Kubeconfig context of the destination cluster.")
  String destinationContext;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description = "Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).")
  Path kubeconfig;

  @Option(names = "--dry-run", description = "Print what would change in each cluster; change nothing.")
  boolean dryRun;

  boolean given() {
    return context != null || destinationContext != null;
  }

  /** Both contexts, or a usage error naming what is missing. */
  void validate(CommandSpec spec) {
    if (context == null || destinationContext == null) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--context and --destination-context go together (missing: " + (context == null ? "--context" : "--destination-context") + ")");
    }
    if (context.equals(destinationContext)) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--context and --destination-context are both " + context + ": a cluster is not connected to itself");
    }
  }

  /** Reads both clusters and refuses a pair that cannot form a mesh (same name, same id). */
  InstalledCluster[] read(String namespace) {
    KubeContexts kube = new KubeContexts(kubeconfig);
    InstalledCluster source = InstalledCluster.read(kube.client(context), context, namespace);
    InstalledCluster destination = InstalledCluster.read(kube.client(destinationContext), destinationContext, namespace);
    if (source.name().equals(destination.name())) {
      throw new CliFailure("contexts " + context + " and " + destinationContext + " are both cluster " + source.name()
          + " (chart value cluster.name): every cluster of a mesh needs its own name");
    }
    if (source.id() == destination.id()) {
      throw new CliFailure("clusters " + source.label() + " and " + destination.label() + " both have cluster id "
          + source.id() + " (chart value cluster.id): ids must be unique in the mesh");
    }
    return new InstalledCluster[] {source, destination};
  }

  /** Prints every step ("would ..." with --dry-run) and applies it unless --dry-run. */
  void run(List<KubeConnect.Step> steps, PrintWriter out, String nothing) {
    if (steps.isEmpty()) {
      out.println(nothing);
    }
    for (KubeConnect.Step step : steps) {
      out.println(step.cluster() + ": " + (dryRun ? "would " : "") + step.action());
      if (!dryRun) {
        step.apply().run();
      }
    }
    out.flush();
  }

  void close(InstalledCluster... clusters) {
    for (InstalledCluster cluster : clusters) {
      cluster.client().close();
    }
  }
}
