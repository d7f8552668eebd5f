package dev.meshwork.cni;

import dev.meshwork.cni.agent.GrpcUnixSocketAgent;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code meshwork-cni}: the executable kubelet runs for every pod sandbox (see docs/cni.md).
 * Reads the {@code CNI_*} environment and the network configuration on stdin, forwards the call to
 * the node's meshwork-agent and prints the answer.
 */
public final class CniMain {

  private CniMain() {}

  public static void main(String[] args) {
    // gRPC and Netty log through java.util.logging to stderr by default; the plugin's stderr
    // stays quiet (every problem is reported in the CNI error on stdout and in log-file).
    Logger.getLogger("").setLevel(Level.OFF);
    PrintStream stdout =
        new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    int status = new CniPlugin(GrpcUnixSocketAgent::new).run(System.getenv(), System.in, stdout);
    stdout.flush();
    // Exit at once: no need to wait for Netty's threads to wind down.
    Runtime.getRuntime().halt(status);
  }
}
