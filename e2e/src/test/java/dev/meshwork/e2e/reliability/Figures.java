package dev.meshwork.e2e.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;

/**
 * The measured figure of each case, for docs/reliability.md: printed and appended to
 * {@code e2e/target/reliability-figures.txt} (one line per measurement). Never asserted.
 */
final class Figures {
  private static final Path FILE = Path.of("target", "reliability-figures.txt");

  private Figures() {}

  static void record(String testCase, String figure, String value) {
    String line = Instant.now() + " " + testCase + " | " + figure + " | " + value;
    System.out.println("[reliability] " + line);
    try {
      Files.createDirectories(FILE.getParent());
      Files.writeString(FILE, line + System.lineSeparator(), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + FILE.toAbsolutePath(), e);
    }
  }

  static void record(String testCase, String figure, Duration value) {
    record(testCase, figure, value.toMillis() + " ms");
  }

  /** A duration from a system property ({@code PT60S} or {@code 60s}), or the default. */
  static Duration durationProperty(String name, Duration defaultValue) {
    String value = System.getProperty(name);
    if (value == null || value.isBlank()) return defaultValue;
    String v = value.trim();
    try {
      return v.startsWith("P") || v.startsWith("p") ? Duration.parse(v) : Duration.ofSeconds(Long.parseLong(v.replace("s", "")));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("system property " + name + "=" + value + ": not a duration (PT60S or 60s)", e);
    }
  }
}
