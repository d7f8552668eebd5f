package dev.meshwork.datapath.bpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A bpffs instance of the test's own, mounted on a fresh directory under /tmp: pins made there
 * never touch /sys/fs/bpf, and unmounting it on close releases every pinned object.
 */
final class PrivateBpffs implements AutoCloseable {
  private final Path root;

  PrivateBpffs() throws IOException {
    root = Path.of("/tmp", "mwt-bpffs-" + Integer.toHexString(ThreadLocalRandom.current().nextInt()));
    Files.createDirectories(root);
    try {
      Privileged.run("mount", "-t", "bpf", "bpf", root.toString());
    } catch (IOException e) {
      Files.deleteIfExists(root);
      throw e;
    }
  }

  Path root() {
    return root;
  }

  @Override
  public void close() throws IOException {
    Privileged.run("umount", root.toString());
    Files.deleteIfExists(root);
  }
}
