package dev.meshwork.cli.inspect;

import dev.meshwork.cli.CommandGroup;
import dev.meshwork.cli.output.Table;
import dev.meshwork.proto.v1.EndpointInfo;
import dev.meshwork.proto.v1.EndpointList;
import dev.meshwork.proto.v1.InspectionServiceGrpc.InspectionServiceBlockingStub;
import dev.meshwork.proto.v1.ListRequest;
import java.util.Comparator;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "endpoint", description = "Pod endpoints on this node.", subcommands = EndpointCommand.ListEndpoints.class)
public final class EndpointCommand extends CommandGroup {

  @Command(name = "list", description = "List the endpoints on this node with their identity and policy enforcement.")
  public static final class ListEndpoints extends ListCommand<EndpointList> {

    @Override
    protected String callName() {
      return "ListEndpoints";
    }

    @Override
    protected EndpointList fetch(InspectionServiceBlockingStub agent, ListRequest request) {
      return agent.listEndpoints(request);
    }

    @Override
    protected String table(EndpointList answer) {
      // Cilium's two-line header: the enforcement columns are "POLICY (ingress)" over "ENFORCEMENT".
      Table table =
          Table.withHeader("ENDPOINT", "POLICY (ingress)", "POLICY (egress)", "IDENTITY", "LABELS (source:key[=value])", "IPv4", "STATUS")
              .headerLine("", "ENFORCEMENT", "ENFORCEMENT", "", "", "", "");
      answer.getEndpointsList().stream()
          .sorted(Comparator.comparingLong(EndpointInfo::getId))
          .forEach(endpoint -> table.multiLineRow(
              List.of(Long.toUnsignedString(endpoint.getId())),
              List.of(enforcement(endpoint.getIngressEnforced())),
              List.of(enforcement(endpoint.getEgressEnforced())),
              List.of(Integer.toUnsignedString(endpoint.getIdentity())),
              endpoint.getLabelsList().stream().sorted().toList(),
              List.of(endpoint.getIpv4()),
              List.of(endpoint.getStatus())));
      return table.render();
    }

    private static String enforcement(boolean enforced) {
      return enforced ? "Enabled" : "Disabled";
    }
  }
}
