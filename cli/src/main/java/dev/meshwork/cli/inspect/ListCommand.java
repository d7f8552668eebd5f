package dev.meshwork.cli.inspect;

import com.google.protobuf.Message;
import dev.meshwork.cli.agent.AgentConnection;
import dev.meshwork.cli.agent.AgentUnreachableException;
import dev.meshwork.cli.output.JsonOutput;
import dev.meshwork.proto.v1.InspectionServiceGrpc.InspectionServiceBlockingStub;
import dev.meshwork.proto.v1.ListRequest;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * One inspection call to the agent, printed as a table or as JSON. Subclasses say which call to
 * make and how its answer looks as a table.
 */
public abstract class ListCommand<T extends Message> implements Callable<Integer> {

  @Spec protected CommandSpec spec;

  @Mixin private AgentCallOptions options;

  @Option(
      names = "--cluster",
      paramLabel = "NAME",
      description = "Only entries of this cluster.")
  private String cluster;

  /** The RPC's name, for error messages. */
  protected abstract String callName();

  protected abstract T fetch(InspectionServiceBlockingStub agent, ListRequest request);

  protected abstract String table(T answer);

  @Override
  public Integer call() {
    print(query());
    return 0;
  }

  /** One call to the agent. */
  protected T query() {
    Path socket = socket();
    ListRequest request = ListRequest.newBuilder().setCluster(cluster == null ? "" : cluster).build();
    try (AgentConnection agent = AgentConnection.open(socket)) {
      return fetch(agent.inspection(), request);
    } catch (StatusRuntimeException e) {
      throw AgentUnreachableException.fromCall(socket, callName(), e);
    }
  }

  protected void print(T answer) {
    PrintWriter out = spec.commandLine().getOut();
    out.print(options.json() ? JsonOutput.render(answer) : table(answer));
    out.flush();
  }

  protected Path socket() {
    return options.socket(spec);
  }
}
