package dev.meshwork.cli.clustermesh;

import java.time.Duration;
import picocli.CommandLine.Option;

/** How long issued certificates are valid (shared by `ca` and `connect`). */
public final class ValidityOptions {

  @Option(
      names = "--validity-days",
      paramLabel = "DAYS",
      defaultValue = "365",
      description = "Validity of server and client certificates in days (default: ${DEFAULT-VALUE}); never beyond the CA's.")
  int certificateDays;

  public Duration certificate() {
    return Duration.ofDays(certificateDays);
  }
}
