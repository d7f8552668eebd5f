package dev.meshwork.cli.inspect;

import dev.meshwork.cli.CommandGroup;
import dev.meshwork.cli.output.Table;
import dev.meshwork.proto.v1.InspectionServiceGrpc.InspectionServiceBlockingStub;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.NodeInfo;
import dev.meshwork.proto.v1.NodeList;
import java.util.Comparator;
import picocli.CommandLine.Command;

@Command(name = "node", description = "Nodes of every connected cluster.", subcommands = NodeCommand.ListNodes.class)
public final class NodeCommand extends CommandGroup {

  @Command(name = "list", description = "List every node the agent knows, local and remote.")
  public static final class ListNodes extends ListCommand<NodeList> {

    @Override
    protected String callName() {
      return "ListNodes";
    }

    @Override
    protected NodeList fetch(InspectionServiceBlockingStub agent, ListRequest request) {
      return agent.listNodes(request);
    }

    @Override
    protected String table(NodeList answer) {
      Table table = Table.withHeader("Name", "IPv4 Address", "Endpoint CIDR", "Source");
      answer.getNodesList().stream()
          .sorted(Comparator.comparing(ListNodes::displayName))
          .forEach(
              node ->
                  table.row(
                      displayName(node),
                      node.getIpv4Address(),
                      String.join("\n", node.getEndpointCidrsList()),
                      node.getSource()));
      return table.render();
    }

    /** Cilium's convention: nodes of other clusters are shown as "cluster/node". */
    static String displayName(NodeInfo node) {
      return node.getLocalCluster() || node.getCluster().isEmpty()
          ? node.getName()
          : node.getCluster() + "/" + node.getName();
    }
  }
}
