package dev.meshwork.testing.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandTest {
  @Test
  void collectsOutputAndExitCode() {
    CommandResult result = Command.run("sh", "-c", "echo out; echo err >&2; exit 3");

    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.stdout()).isEqualTo("out\n");
    assertThat(result.stderr()).isEqualTo("err\n");
    assertThat(result.succeeded()).isFalse();
  }

  @Test
  void orThrowQuotesTheCommandAndItsStderr() {
    assertThatThrownBy(() -> Command.check("sh", "-c", "echo broken >&2; exit 1"))
        .isInstanceOf(CommandFailedException.class)
        .hasMessage("command `sh -c echo broken >&2; exit 1` exited with 1: broken");
  }

  @Test
  void outputIsTrimmedStdoutOfASuccess() {
    assertThat(Command.run("printf", "  value \\n").output()).isEqualTo("value");
  }

  @Test
  void commandThatOverrunsItsTimeoutIsEndedAndReported() {
    long begin = System.nanoTime();

    assertThatThrownBy(() -> Command.run(List.of("sleep", "30"), Duration.ofMillis(200)))
        .hasMessageContaining("did not finish within PT0.2S");
    assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void missingProgramIsAClearError() {
    assertThatThrownBy(() -> Command.run("/nonexistent/mwt-tool")).hasMessageContaining("cannot run `/nonexistent/mwt-tool`");
  }
}
