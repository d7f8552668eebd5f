package dev.meshwork.datapath.bpf;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Helpers for the privileged tests: the root check and running a command to completion. */
final class Privileged {
  private Privileged() {}

  static boolean isRoot() {
    try {
      return "0".equals(run(List.of("id", "-u")).trim());
    } catch (IOException e) {
      return false;
    }
  }

  static void assumeRoot() {
    assumeTrue(isRoot(), "privileged test: needs root (network namespaces, bpffs, eBPF); skipped");
  }

  /** Runs a command, returns stdout; throws with stderr when it fails. */
  static String run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
    try {
      byte[] out = p.getInputStream().readAllBytes();
      byte[] err = p.getErrorStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + String.join(" ", command));
      }
      if (p.exitValue() != 0) {
        throw new IOException(
            String.join(" ", command) + " exited " + p.exitValue() + ": "
                + new String(err, StandardCharsets.UTF_8).trim());
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted: " + String.join(" ", command), e);
    }
  }

  static String run(String... command) throws IOException {
    return run(List.of(command));
  }
}
