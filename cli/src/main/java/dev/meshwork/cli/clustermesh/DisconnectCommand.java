package dev.meshwork.cli.clustermesh;

import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * `meshwork clustermesh disconnect --context A --destination-context B`: removes what `connect`
 * wrote, in both clusters: each one's Secret entries for the other and the host alias of the
 * other's etcd name. The agents then drain the other cluster's state. Running it again changes
 * nothing.
 */
@Command(
    name = "disconnect",
    description = {
      "Disconnect two clusters connected by `meshwork clustermesh connect --context`: remove each one's",
      "entries for the other from Secret " + MeshNames.SECRET_NAME + " and the host alias of the other's etcd."
    })
public final class DisconnectCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Mixin private ContextOptions contexts;

  @Option(
      names = "--namespace",
      paramLabel = "NS",
      defaultValue = ContextOptions.DEFAULT_NAMESPACE,
      description = "Namespace of the meshwork chart in both clusters (default: ${DEFAULT-VALUE}).")
  private String namespace;

  @Override
  public Integer call() {
    if (!contexts.given()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "disconnect needs --context and --destination-context");
    }
    contexts.validate(spec);
    InstalledCluster[] pair = contexts.read(namespace);
    try {
      // Mount path and validity play no part in removing entries.
      KubeConnect connect = new KubeConnect(MeshNames.DEFAULT_MOUNT_PATH, Duration.ofDays(1), Clock.systemUTC());
      List<KubeConnect.Step> steps = new ArrayList<>();
      steps.addAll(connect.disconnect(pair[0], pair[1].name()));
      steps.addAll(connect.disconnect(pair[1], pair[0].name()));
      PrintWriter out = spec.commandLine().getOut();
      contexts.run(steps, out, pair[0].name() + " and " + pair[1].name() + " are not connected; nothing to change");
      return 0;
    } finally {
      contexts.close(pair);
    }
  }
}
