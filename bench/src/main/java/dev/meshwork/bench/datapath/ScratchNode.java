package dev.meshwork.bench.datapath;

import dev.meshwork.datapath.bpf.BpfDatapath;
import dev.meshwork.datapath.bpf.BpfDatapathConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A throwaway node for benchmarks (root only): a network namespace {@code mwd-<random>} and a
 * private bpffs mount under /tmp, both removed on close; nothing touches the host's network or
 * /sys/fs/bpf.
 */
final class ScratchNode implements AutoCloseable {
  private final String netns = "mwd-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
  private final Path bpffs = Path.of("/tmp", netns + "-bpffs");
  final BpfDatapath datapath;

  ScratchNode(BpfDatapathConfig.MapSizes sizes) throws Exception {
    run("ip", "netns", "add", netns);
    Files.createDirectories(bpffs);
    run("mount", "-t", "bpf", "bpf", bpffs.toString());
    datapath = BpfDatapath.open(BpfDatapathConfig.forNode("bench")
        .withBpffsRoot(bpffs.resolve("meshwork"))
        .withNetns(Path.of("/run/netns", netns))
        .withMapSizes(sizes));
  }

  static void run(String... command) throws IOException {
    Process p = new ProcessBuilder(List.of(command)).inheritIO().start();
    try {
      if (p.waitFor() != 0) throw new IOException(String.join(" ", command) + " failed");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted: " + String.join(" ", command), e);
    }
  }

  @Override
  public void close() throws IOException {
    datapath.close();
    run("umount", bpffs.toString());
    Files.deleteIfExists(bpffs);
    run("ip", "netns", "del", netns);
  }
}
