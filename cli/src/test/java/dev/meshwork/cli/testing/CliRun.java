package dev.meshwork.cli.testing;

import dev.meshwork.cli.MeshworkCli;
import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs `meshwork ARGS...` in process and captures exit code, stdout and stderr. */
public record CliRun(int exitCode, String out, String err) {

  public static CliRun meshwork(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = MeshworkCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }
}
