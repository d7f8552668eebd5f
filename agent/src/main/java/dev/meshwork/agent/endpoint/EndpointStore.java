package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.Ipv4;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One small file per attachment in the state directory ({@code ep-<hash>.properties}). Each write
 * goes to a temporary file that is fsynced, renamed over the old one and followed by an fsync of
 * the directory, so that after a crash a file holds either the old or the new record, never half.
 */
public final class EndpointStore {
  private static final Logger log = LoggerFactory.getLogger(EndpointStore.class);
  private static final String PREFIX = "ep-";
  private static final String SUFFIX = ".properties";

  private final Path dir;

  /** Opens the state directory, creating it if needed. */
  public EndpointStore(Path dir) {
    this.dir = dir;
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("endpoint state directory " + dir + " cannot be created: " + e.getMessage(), e);
    }
    if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
      throw new IllegalArgumentException("endpoint state directory " + dir + " is not a writable directory");
    }
  }

  public Path dir() {
    return dir;
  }

  /** Every record on disk. A file that cannot be parsed is reported and moved aside, not lost. */
  public List<EndpointRecord> loadAll() throws IOException {
    List<EndpointRecord> records = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
      for (Path file : files) {
        try {
          records.add(decode(Files.readString(file)));
        } catch (RuntimeException e) {
          Path aside = file.resolveSibling(file.getFileName() + ".corrupt");
          log.error("endpoint state file {} cannot be read ({}); moved to {}", file, e.getMessage(), aside);
          Files.move(file, aside, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return records;
  }

  public void write(EndpointRecord record) throws IOException {
    Path target = fileOf(record.key());
    Path temp = dir.resolve(target.getFileName() + ".tmp");
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer bytes = ByteBuffer.wrap(encode(record).getBytes(StandardCharsets.UTF_8));
      while (bytes.hasRemaining()) {
        channel.write(bytes);
      }
      channel.force(true);
    }
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("endpoint state directory " + dir + " does not support atomic renames", e);
    }
    syncDirectory();
  }

  /** Removes the attachment's record; absent is fine. */
  public void delete(AttachmentKey key) throws IOException {
    if (Files.deleteIfExists(fileOf(key))) {
      syncDirectory();
    }
  }

  Path fileOf(AttachmentKey key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest((key.containerId() + "\0" + key.ifname()).getBytes(StandardCharsets.UTF_8));
      return dir.resolve(PREFIX + HexFormat.of().formatHex(Arrays.copyOf(digest, 16)) + SUFFIX);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  private void syncDirectory() throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  static String encode(EndpointRecord r) {
    Properties p = new Properties();
    p.setProperty("containerId", r.key().containerId());
    p.setProperty("ifname", r.key().ifname());
    p.setProperty("network", r.networkName());
    p.setProperty("netns", r.netns());
    p.setProperty("podNamespace", r.pod().namespace());
    p.setProperty("podName", r.pod().name());
    p.setProperty("endpointId", Long.toString(r.endpointId()));
    p.setProperty("ip", Ipv4.format(r.ip()));
    p.setProperty("hostInterface", r.hostInterface());
    p.setProperty("hostMac", r.hostMac());
    p.setProperty("podMac", r.podMac());
    p.setProperty("mtu", Integer.toString(r.mtu()));
    p.setProperty("identity", Integer.toString(r.identity()));
    p.setProperty("labels", String.join("\n", r.labels()));
    p.setProperty("phase", r.phase().name());
    StringWriter out = new StringWriter();
    try {
      p.store(out, "meshwork endpoint");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  static EndpointRecord decode(String text) {
    Properties p = new Properties();
    try {
      p.load(new StringReader(text));
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not a properties file: " + e.getMessage(), e);
    }
    String labels = required(p, "labels");
    return new EndpointRecord(
        new AttachmentKey(required(p, "containerId"), required(p, "ifname")),
        required(p, "network"),
        required(p, "netns"),
        new PodRef(required(p, "podNamespace"), required(p, "podName")),
        Long.parseLong(required(p, "endpointId")),
        Ipv4.parse(required(p, "ip")),
        required(p, "hostInterface"),
        required(p, "hostMac"),
        required(p, "podMac"),
        Integer.parseInt(required(p, "mtu")),
        Integer.parseInt(required(p, "identity")),
        labels.isEmpty() ? List.of() : List.of(labels.split("\n")),
        EndpointRecord.Phase.valueOf(required(p, "phase")));
  }

  private static String required(Properties p, String name) {
    String value = p.getProperty(name);
    if (value == null) {
      throw new IllegalArgumentException("field '" + name + "' is missing");
    }
    return value;
  }
}
