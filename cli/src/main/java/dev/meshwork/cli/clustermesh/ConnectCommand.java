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
 * `meshwork clustermesh connect` from local files: every cluster gets, for every other cluster, a
 * client certificate from that cluster's etcd CA and a kvstore config, as a Secret, as a plain
 * directory, and the host aliases as Helm values.
 */
@Command(
    name = "connect",
    description = {
      "Connect two or more clusters from their CA directories (made by `meshwork clustermesh ca`).",
      "For each cluster it writes OUT/<cluster>/: " + ConnectionFiles.SECRET_FILE + " (the " + MeshNames.SECRET_NAME + " Secret),",
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
      "Example:",
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
      required = true,
      paramLabel = MeshMember.FORMAT,
      converter = MeshMember.Converter.class,
      description = "A cluster of the mesh; give it once per cluster (at least two).")
  private List<MeshMember> members = new ArrayList<>();

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write OUT/<cluster>/ into.")
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
      description = "Namespace to put in the Secret's metadata (default: none, kubectl -n decides).")
  private String namespace;

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

  private void validateArguments() {
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
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new CliFailure("--out " + out + " exists and is not a directory");
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
