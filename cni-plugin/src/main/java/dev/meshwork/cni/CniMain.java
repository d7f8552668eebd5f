package dev.meshwork.cni;

import dev.meshwork.cni.agent.UnixSocketAgent;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * {@code meshwork-cni}: the executable kubelet runs for every pod sandbox (see docs/cni.md).
 * Reads the {@code CNI_*} environment and the network configuration on stdin, forwards the call to
 * the node's meshwork-agent and prints the answer.
 */
public final class CniMain {

  private CniMain() {}

  public static void main(String[] args) {
    PrintStream stdout =
        new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    int status = new CniPlugin(UnixSocketAgent::new).run(System.getenv(), System.in, stdout);
    stdout.flush();
    // Exit at once: nothing is left to wind down.
    Runtime.getRuntime().halt(status);
  }
}
