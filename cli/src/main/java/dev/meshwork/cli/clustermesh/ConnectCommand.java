package dev.meshwork.cli.clustermesh;

import dev.meshwork.cli.CliFailure;
import dev.meshwork.common.cluster.ClusterName;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * `meshwork clustermesh connect`, in two forms:
 *
 * <ul>
 *   <li>from local files ({@code --cluster ... --out DIR}): every cluster gets, for every other
 *       cluster, a client certificate from that cluster's etcd CA and a kvstore config, as a
 *       Secret, as a plain directory, and the host aliases as Helm values;
 *   <li>from kubeconfig contexts ({@code --context A --destination-context B}): the same entries
 *       written straight into both clusters (see {@link KubeConnect}).
 * </ul>
 */
@Command(
    name = "connect",
    description = {
      "Connect two clusters where the meshwork chart is installed, through their kubeconfig contexts",
      "(--context A --destination-context B), or two or more clusters offline from their CA directories",
      "(--cluster ... --out DIR; the CAs made by `meshwork clustermesh ca`).",
      "With contexts it writes into each cluster the other's entries of Secret " + MeshNames.SECRET_NAME,
      "and, for an IP address, the host alias of the other's etcd name on the agent DaemonSet.",
      "Offline, for each cluster it writes OUT/<cluster>/: " + ConnectionFiles.SECRET_FILE + " (the " + MeshNames.SECRET_NAME + " Secret),",
      ConnectionFiles.HOST_ALIASES_FILE + " (Helm values clustermesh.hostAliases) and " + ConnectionFiles.CONFIG_DIR
          + "/ (the same configs and certificates as plain files, for agents outside Kubernetes).",
    },
    footer = {
      "",
      "ADDRESS is how the other clusters reach the cluster's etcd:",
      "  198.18.0.10, 198.18.0.10:32379  a host alias maps NAME." + MeshNames.MESH_DOMAIN + " to it",
      "  https://etcd.example.com:2379   the endpoint as it is (give it to `ca` as --san)",
      "  (omitted)                       NAME." + MeshNames.MESH_DOMAIN + " resolves by DNS",
      "",
      "--source-endpoint / --destination-endpoint take the same ADDRESS forms; without them connect",
      "uses Service meshwork-etcd-external: its load balancer address, else its node port on a node's InternalIP.",
      "",
      "Examples:",
      "  meshwork clustermesh connect --context kind-a --destination-context kind-b [--dry-run]",
      "  meshwork clustermesh connect --out mesh \\",
      "    --cluster k8s-test-cluster=ca/k8s-test-cluster=198.18.0.10 \\",
      "    --cluster k8s-shared-cluster=ca/k8s-shared-cluster=198.18.1.10"
    })
public final class ConnectCommand implements Callable<Integer> {

  // Files connect itself writes into a config directory: "<cluster>" and "<cluster>.etcd-client*".
  private static final Pattern OWN_FILE =
      Pattern.compile("^([a-z0-9][a-z0-9-]{0,30}[a-z0-9]|[a-z0-9])(\\.etcd-client-ca\\.crt|\\.etcd-client\\.crt|\\.etcd-client\\.key)?$");

  @Spec private CommandSpec spec;

  @Option(
      names = "--cluster",
      paramLabel = MeshMember.FORMAT,
      converter = MeshMember.Converter.class,
      description = "Offline: a cluster of the mesh; give it once per cluster (at least two).")
  private List<MeshMember> members = new ArrayList<>();

  @Option(names = "--out", paramLabel = "DIR", description = "Offline: directory to write OUT/<cluster>/ into.")
  private Path out;

  @Option(
      names = "--only",
      paramLabel = "NAME",
      description = "Write the files of this cluster only (repeatable; default: every cluster).")
  private List<String> only = new ArrayList<>();

  @Option(
      names = "--mount-path",
      paramLabel = "PATH",
      defaultValue = MeshNames.DEFAULT_MOUNT_PATH,
      description = "Where the agent pod mounts the Secret; the Secret's configs point there (default: ${DEFAULT-VALUE}).")
  private String mountPath;

  @Option(
      names = "--namespace",
      paramLabel = "NS",
      description = {
        "With contexts: the namespace of the meshwork chart in both clusters (default: " + ContextOptions.DEFAULT_NAMESPACE + ").",
        "Offline: the namespace to put in the Secret's metadata (default: none, kubectl -n decides)."
      })
  private String namespace;

  @Mixin private ContextOptions contexts;

  @Option(
      names = "--source-endpoint",
      paramLabel = "ADDRESS",
      converter = EtcdAddressConverter.class,
      description = "With contexts: how the destination cluster reaches the source cluster's etcd (default: from its Service).")
  private EtcdAddress sourceEndpoint;

  @Option(
      names = "--destination-endpoint",
      paramLabel = "ADDRESS",
      converter = EtcdAddressConverter.class,
      description = "With contexts: how the source cluster reaches the destination cluster's etcd (default: from its Service).")
  private EtcdAddress destinationEndpoint;

  @Option(
      names = "--create-missing-ca",
      description = {
        "Create the CA (as `meshwork clustermesh ca` does) of every cluster whose CA_DIR has none,",
        "with the ADDRESS's host as an extra SAN of the etcd server certificate."
      })
  private boolean createMissingCa;

  @Option(
      names = "--ca-validity-days",
      paramLabel = "DAYS",
      defaultValue = "3650",
      description = "Validity of a CA created by --create-missing-ca, in days (default: ${DEFAULT-VALUE}).")
  private int caDays;

  @Mixin private ValidityOptions validity;

  private final Clock clock;

  public ConnectCommand() {
    this(Clock.systemUTC());
  }

  ConnectCommand(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Integer call() {
    if (contexts.given()) {
      return connectContexts();
    }
    validateArguments();
    PrintWriter console = spec.commandLine().getOut();
    Map<String, CertificateAuthority> authorities = new LinkedHashMap<>();
    for (MeshMember member : members) {
      CaDirectory directory = new CaDirectory(member.caDir());
      if (createMissingCa && !directory.hasCa()) {
        CertificateAuthority ca = CertificateAuthority.create(member.name(), Duration.ofDays(caDays), clock);
        directory.writeCa(ca);
        String host = member.address().tlsHost(member.name());
        List<String> extraNames = host.equals(MeshNames.etcdHost(member.name())) ? List.of() : List.of(host);
        directory.issueEtcdCertificates(ca, extraNames, validity.certificate());
        console.println("Created the etcd CA of " + member.name() + " in " + member.caDir());
        authorities.put(member.name(), ca);
      } else {
        authorities.put(member.name(), directory.load(member.name(), member.argument(), clock));
      }
    }
    warnAboutServerNames();
    int clusters = 0;
    for (MeshMember member : members) {
      if (!only.isEmpty() && !only.contains(member.name())) {
        continue;
      }
      List<ConnectionFiles.OutputFile> files =
          ConnectionFiles.forCluster(member, members, authorities, out, mountPath, namespace, validity.certificate());
      write(member, files);
      clusters++;
      Path dir = out.resolve(member.name());
      console.println(member.name() + ": " + (members.size() - 1) + " remote clusters ("
          + String.join(", ", members.stream().map(MeshMember::name).filter(n -> !n.equals(member.name())).toList()) + ")");
      console.println("  kubectl apply -n <namespace> -f " + dir.resolve(ConnectionFiles.SECRET_FILE));
      console.println("  helm upgrade <release> <chart> --reuse-values -f " + dir.resolve(ConnectionFiles.HOST_ALIASES_FILE));
      console.println("  config directory for agents outside Kubernetes: " + dir.resolve(ConnectionFiles.CONFIG_DIR));
    }
    console.println("Wrote the clustermesh files of " + clusters + " clusters to " + out);
    console.flush();
    return 0;
  }

  private int connectContexts() {
    contexts.validate(spec);
    if (!members.isEmpty() || out != null || !only.isEmpty() || createMissingCa) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--context/--destination-context connect two installed clusters; --cluster, --out, --only and --create-missing-ca are for the offline form");
    }
    validateCommon();
    InstalledCluster[] pair = contexts.read(namespace == null ? ContextOptions.DEFAULT_NAMESPACE : namespace);
    InstalledCluster source = pair[0];
    InstalledCluster destination = pair[1];
    try {
      EtcdAddress sourceAddress = source.etcdAddress(java.util.Optional.ofNullable(sourceEndpoint), "--source-endpoint");
      EtcdAddress destinationAddress = destination.etcdAddress(java.util.Optional.ofNullable(destinationEndpoint), "--destination-endpoint");
      CertificateAuthority sourceCa = source.certificateAuthority(clock);
      CertificateAuthority destinationCa = destination.certificateAuthority(clock);
      warnAboutServerName(source, sourceAddress, "--source-endpoint");
      warnAboutServerName(destination, destinationAddress, "--destination-endpoint");
      KubeConnect connect = new KubeConnect(mountPath, validity.certificate(), clock);
      List<KubeConnect.Step> steps = new ArrayList<>();
      steps.addAll(connect.connect(source, destination.name(), destinationAddress, destinationCa));
      steps.addAll(connect.connect(destination, source.name(), sourceAddress, sourceCa));
      PrintWriter console = spec.commandLine().getOut();
      contexts.run(steps, console, source.name() + " and " + destination.name() + " are already connected; nothing to change");
      if (!contexts.dryRun && steps.stream().anyMatch(s -> s.action().contains("host alias"))) {
        console.println("note: host aliases were set on the workloads directly; a later `helm upgrade` resets them to the"
            + " chart value clustermesh.hostAliases, so keep that value in step (see docs/operations.md)");
      }
      if (!contexts.dryRun) {
        console.println("Check with: meshwork clustermesh status --context " + source.context() + " --context " + destination.context());
      }
      console.flush();
      return 0;
    } finally {
      contexts.close(source, destination);
    }
  }

  // The name the other cluster's agents dial must be in the etcd server certificate.
  private void warnAboutServerName(InstalledCluster cluster, EtcdAddress address, String flag) {
    String host = address.tlsHost(cluster.name());
    cluster.serverCertificate().ifPresent(server -> {
      if (!ServerNames.of(server).matches(host)) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("meshwork: warning: " + cluster.label() + ": the etcd server certificate (Secret " + cluster.namespace() + "/"
            + InstalledCluster.SERVER_SECRET + ") does not name " + host + ", so TLS to it fails; add it to the chart value"
            + " etcd.tls.extraSans, or give an IP with " + flag + " (reached through the name " + MeshNames.etcdHost(cluster.name()) + ")");
        err.flush();
      }
    });
  }

  /** picocli converter for --source-endpoint and --destination-endpoint. */
  static final class EtcdAddressConverter implements CommandLine.ITypeConverter<EtcdAddress> {
    @Override
    public EtcdAddress convert(String value) {
      try {
        return EtcdAddress.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  private void validateArguments() {
    if (sourceEndpoint != null || destinationEndpoint != null || contexts.kubeconfig != null || contexts.dryRun) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--source-endpoint, --destination-endpoint, --kubeconfig and --dry-run go with --context and --destination-context");
    }
    if (out == null) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "connect needs either --context and --destination-context (installed clusters) or --out and --cluster options (offline)");
    }
    if (members.size() < 2) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "connect needs at least two --cluster " + MeshMember.FORMAT + " options, got " + members.size());
    }
    Set<String> names = new HashSet<>();
    for (MeshMember member : members) {
      if (!names.add(member.name())) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "Invalid value for option '--cluster': cluster " + member.name() + " is given more than once");
      }
    }
    for (String name : only) {
      if (!names.contains(name)) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "Invalid value for option '--only': unknown cluster " + name + " (not given with --cluster; known: "
                + String.join(", ", members.stream().map(MeshMember::name).toList()) + ")");
      }
    }
    validateCommon();
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new CliFailure("--out " + out + " exists and is not a directory");
    }
  }

  private void validateCommon() {
    if (!mountPath.startsWith("/")) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "Invalid value for option '--mount-path': " + mountPath + " is not an absolute path");
    }
    if (caDays <= 0) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "Invalid value for option '--ca-validity-days': " + caDays + " (must be at least 1 day)");
    }
    if (validity.certificateDays <= 0) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "Invalid value for option '--validity-days': " + validity.certificateDays + " (must be at least 1 day)");
    }
  }

  // An endpoint the etcd server certificate does not name fails every TLS handshake later, far
  // from here; say so now. Only a warning: the server may use a certificate from elsewhere.
  private void warnAboutServerNames() {
    for (MeshMember member : members) {
      String host = member.address().tlsHost(member.name());
      new CaDirectory(member.caDir()).serverCertificate().ifPresent(server -> {
        if (!ServerNames.of(server).matches(host)) {
          PrintWriter err = spec.commandLine().getErr();
          err.println("meshwork: warning: " + member.argument() + ": the etcd server certificate "
              + member.caDir().resolve(CaDirectory.SERVER_CERT) + " does not name " + host
              + "; add it with: meshwork clustermesh ca --cluster " + member.name() + " --out " + member.caDir() + " --san " + host);
          err.flush();
        }
      });
    }
  }

  private void write(MeshMember member, List<ConnectionFiles.OutputFile> files) {
    Set<Path> written = new HashSet<>();
    for (ConnectionFiles.OutputFile file : files) {
      Path target = out.resolve(file.path());
      PemOutput.write(target, file.text(), file.secret());
      written.add(target.toAbsolutePath().normalize());
    }
    removeStale(out.resolve(member.name()).resolve(ConnectionFiles.CONFIG_DIR), written);
  }

  // A cluster dropped from the mesh must not stay in the directory form: its agent would keep
  // connecting to it. Only files named the way connect names them are removed.
  private void removeStale(Path configDir, Set<Path> written) {
    if (!Files.isDirectory(configDir)) {
      return;
    }
    try (Stream<Path> entries = Files.list(configDir)) {
      for (Path entry : entries.toList()) {
        Path normalized = entry.toAbsolutePath().normalize();
        if (Files.isRegularFile(entry) && !written.contains(normalized)
            && OWN_FILE.matcher(entry.getFileName().toString()).matches()
            && ClusterName.isValid(entry.getFileName().toString().split("\\.", 2)[0])) {
          Files.delete(entry);
          spec.commandLine().getOut().println("  removed " + entry + " (cluster no longer in the mesh)");
        }
      }
    } catch (IOException e) {
      throw new CliFailure("cannot clean up " + configDir + ": " + e, e);
    }
  }
}
