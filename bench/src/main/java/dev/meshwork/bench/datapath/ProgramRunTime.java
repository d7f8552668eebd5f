package dev.meshwork.bench.datapath;

import dev.meshwork.datapath.bpf.BpfException;
import dev.meshwork.datapath.bpf.BpfSyscall;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel's own account of the time spent in one node's eBPF programs: while open it holds a
 * BPF_ENABLE_STATS fd, so the kernel counts run_time_ns and run_cnt of every program (the fd is
 * released by {@link #close()} or when the process dies; nothing is left switched on). Unlike wall
 * time this does not grow when the machine is busy: a program that waits for a core is not
 * running.
 */
final class ProgramRunTime implements AutoCloseable {
  private static final Pattern RUN_TIME = Pattern.compile("\"run_time_ns\":(\\d+)");
  private static final Pattern RUN_COUNT = Pattern.compile("\"run_cnt\":(\\d+)");

  /** Total run time and number of runs of a set of programs at one moment. */
  record Sample(long runTimeNs, long runs) {
    Sample minus(Sample earlier) {
      return new Sample(runTimeNs - earlier.runTimeNs, runs - earlier.runs);
    }
  }

  private final int statsFd;

  ProgramRunTime() throws BpfException {
    statsFd = BpfSyscall.enableRunTimeStats();
  }

  /** The pinned programs of a node: every file in {@code nodeDirectory/progs}. */
  static List<Path> pinnedPrograms(Path nodeDirectory) throws IOException {
    try (var files = Files.list(nodeDirectory.resolve("progs"))) {
      List<Path> programs = files.sorted().toList();
      if (programs.isEmpty()) throw new IOException("no pinned programs under " + nodeDirectory.resolve("progs"));
      return programs;
    }
  }

  /** The summed counters of the given pinned programs, read with {@code bpftool -j prog show pinned}. */
  Sample read(List<Path> programs) throws IOException, InterruptedException {
    long runTime = 0;
    long runs = 0;
    for (Path program : programs) {
      Process p = new ProcessBuilder("bpftool", "-j", "prog", "show", "pinned", program.toString())
          .redirectErrorStream(true).start();
      String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) throw new IOException("bpftool prog show pinned " + program + " failed: " + json);
      // bpftool leaves both fields out while a program has not run since the stats were enabled.
      runTime += field(RUN_TIME, json);
      runs += field(RUN_COUNT, json);
    }
    return new Sample(runTime, runs);
  }

  private static long field(Pattern pattern, String json) {
    Matcher m = pattern.matcher(json);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  @Override
  public void close() {
    BpfSyscall.close(statsFd);
  }
}
