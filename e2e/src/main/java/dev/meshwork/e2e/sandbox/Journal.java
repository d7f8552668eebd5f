package dev.meshwork.e2e.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The cleanup journal: one line per resource the sandbox is about to create, appended and
 * fsynced <em>before</em> it is created, so that {@code down} can remove it after any crash.
 *
 * <pre>
 * netns NAME                   a network namespace (deleting it deletes its links)
 * link NAME                    a link in the host namespace
 * mount PATH                   a bpffs mounted inside the run directory (unmounted before it is removed)
 * pid PID STARTTIME WHAT       a process (start time from /proc/PID/stat, so a reused pid is never killed)
 * </pre>
 */
public final class Journal {

  /** One line of the journal. */
  public record Entry(String kind, List<String> fields) {
    public String field(int i) {
      return fields.get(i);
    }
  }

  private final Path file;

  public Journal(Path file) {
    this.file = file;
  }

  public synchronized void record(String kind, String... fields) {
    String line = kind + " " + String.join(" ", fields) + "\n";
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND)) {
      out.write(java.nio.ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)));
      out.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record '" + line.strip() + "' in " + file, e);
    }
  }

  public List<Entry> entries() throws IOException {
    List<Entry> entries = new ArrayList<>();
    if (!Files.exists(file)) {
      return entries;
    }
    for (String line : Files.readAllLines(file)) {
      String[] parts = line.strip().split(" +");
      if (parts.length >= 2) {
        entries.add(new Entry(parts[0], List.of(parts).subList(1, parts.length)));
      }
    }
    return entries;
  }
}
