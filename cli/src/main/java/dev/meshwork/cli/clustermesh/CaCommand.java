package dev.meshwork.cli.clustermesh;

import dev.meshwork.common.cluster.ClusterName;
import java.io.PrintWriter;
import java.nio.file.Path;
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
 * `meshwork clustermesh ca`: the CA of one cluster's etcd, its server certificate and the local
 * read-write client certificate. Run again on the same directory, it keeps the CA and re-issues
 * the other two (for example to add a --san).
 */
@Command(
    name = "ca",
    description = {
      "Create the etcd CA of one cluster (ca.crt, ca.key), its etcd server certificate",
      "(etcd-server.crt/.key for <cluster>." + MeshNames.MESH_DOMAIN + ", localhost, 127.0.0.1 and every --san)",
      "and the client certificate of the cluster's own operator (etcd-local-client.crt/.key, CN "
          + CertificateAuthority.LOCAL_CLIENT_COMMON_NAME + ").",
      "An existing CA in --out is kept; only the other certificates are issued again."
    })
public final class CaCommand implements Callable<Integer> {

  @Spec private CommandSpec spec;

  @Option(names = "--cluster", required = true, paramLabel = "NAME", description = "The cluster whose etcd this CA serves.")
  private String cluster;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write the files to (created if missing).")
  private Path out;

  @Option(
      names = "--san",
      paramLabel = "NAME_OR_IP",
      description = "An extra subject alternative name of the etcd server certificate (DNS name or IP); repeatable.")
  private List<String> subjectAltNames = new ArrayList<>();

  @Option(
      names = "--ca-validity-days",
      paramLabel = "DAYS",
      defaultValue = "3650",
      description = "Validity of a new CA in days (default: ${DEFAULT-VALUE}).")
  private int caDays;

  @Mixin private ValidityOptions validity;

  private final Clock clock;

  public CaCommand() {
    this(Clock.systemUTC());
  }

  CaCommand(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Integer call() {
    ClusterName.problem(cluster).ifPresent(problem -> {
      throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--cluster': \"" + cluster + "\" is not a cluster name: " + problem);
    });
    positive("--ca-validity-days", caDays);
    positive("--validity-days", validity.certificateDays);
    for (String san : subjectAltNames) {
      if (san.isBlank() || san.contains(" ") || san.contains("/")) {
        throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--san': \"" + san + "\" is neither a DNS name nor an IP address");
      }
    }
    PrintWriter console = spec.commandLine().getOut();
    CaDirectory directory = new CaDirectory(out);
    CertificateAuthority ca;
    if (directory.hasCa()) {
      ca = directory.load(cluster, "--out " + out, clock);
      console.println("Using the existing etcd CA of " + cluster + " in " + out);
    } else {
      ca = CertificateAuthority.create(cluster, Duration.ofDays(caDays), clock);
      directory.writeCa(ca);
      console.println("Created the etcd CA of " + cluster + " in " + out);
    }
    directory.issueEtcdCertificates(ca, subjectAltNames, validity.certificate());
    console.println("  " + CaDirectory.CA_CERT + ", " + CaDirectory.CA_KEY + "                    the CA (keep ca.key safe; connect needs it)");
    console.println("  " + CaDirectory.SERVER_CERT + ", " + CaDirectory.SERVER_KEY + "    etcd --cert-file/--key-file, --trusted-ca-file=ca.crt");
    console.println("  " + CaDirectory.LOCAL_CLIENT_CERT + ", " + CaDirectory.LOCAL_CLIENT_KEY
        + "  the local operator's and kvstore-sync's client certificate");
    console.flush();
    return 0;
  }

  private void positive(String option, int days) {
    if (days <= 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + days + " (must be at least 1 day)");
    }
  }
}
