package dev.meshwork.e2e.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TeardownTest {

  @TempDir Path temp;

  @Test
  void endsEveryRecordedProcessAndRemovesTheRunDirectoryAfterACrash() throws Exception {
    RunDir runDir = new RunDir(temp.resolve("run"));
    Files.createDirectories(runDir.root());
    Files.writeString(runDir.prefixFile(), "mwt-sbx-test\n");
    Journal journal = new Journal(runDir.journal());
    // What a crashed sandbox leaves: a child still running, recorded in the journal.
    ManagedProcess child = new ManagedProcess("agent n1", List.of("sleep", "300"), java.util.Map.of(),
        runDir.root().resolve("n1.log"), journal);
    child.start();
    long pid = child.pid();

    List<String> lines = new ArrayList<>();
    Teardown.run(runDir, lines::add);

    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(lines).contains("stopped agent n1 (pid " + pid + ")", "removed " + runDir.root());
    assertThat(runDir.root()).doesNotExist();
  }

  @Test
  void neverKillsAProcessWhosePidWasReused() throws Exception {
    RunDir runDir = new RunDir(temp.resolve("run"));
    Files.createDirectories(runDir.root());
    Process other = new ProcessBuilder("sleep", "300").start();
    try {
      // The recorded start time is not this process's: the recorded process is gone, its pid reused.
      new Journal(runDir.journal()).record("pid", Long.toString(other.pid()), "1", "agent n1");

      Teardown.run(runDir, line -> { });

      assertThat(other.isAlive()).isTrue();
      assertThat(runDir.root()).doesNotExist();
    } finally {
      other.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void runningItTwiceIsHarmless() throws Exception {
    RunDir runDir = new RunDir(temp.resolve("run"));
    Files.createDirectories(runDir.root());
    List<String> lines = new ArrayList<>();

    Teardown.run(runDir, line -> { });
    Teardown.run(runDir, lines::add);

    assertThat(lines).containsExactly("nothing to remove: " + runDir.root() + " does not exist");
  }

  @Test
  void restartsAProcessThatExitsOnItsOwnAtMostTheGivenNumberOfTimes() throws Exception {
    RunDir runDir = new RunDir(temp.resolve("run"));
    Files.createDirectories(runDir.root());
    ManagedProcess flaky = new ManagedProcess("operator c1", List.of("false"), java.util.Map.of(),
        runDir.root().resolve("c1.log"), new Journal(runDir.journal())).restartOnExit(2);
    flaky.start();

    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(flaky::gaveUp);

    assertThat(flaky.restarts()).isEqualTo(2);
    assertThat(new Journal(runDir.journal()).entries()).filteredOn(e -> e.kind().equals("pid")).hasSize(3);
    assertThat(Files.readString(runDir.root().resolve("c1.log"))).contains("restart 2 of 2");
  }
}
