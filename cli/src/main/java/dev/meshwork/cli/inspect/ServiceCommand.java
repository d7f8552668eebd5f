package dev.meshwork.cli.inspect;

import dev.meshwork.cli.CommandGroup;
import dev.meshwork.cli.output.Table;
import dev.meshwork.proto.v1.InspectionServiceGrpc.InspectionServiceBlockingStub;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.ServiceBackendInfo;
import dev.meshwork.proto.v1.ServiceInfo;
import dev.meshwork.proto.v1.ServiceList;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "service", description = "Services as the agent load-balances them.", subcommands = ServiceCommand.ListServices.class)
public final class ServiceCommand extends CommandGroup {

  @Command(name = "list", description = "List services with their backends (global services include remote backends).")
  public static final class ListServices extends ListCommand<ServiceList> {

    @Override
    protected String callName() {
      return "ListServices";
    }

    @Override
    protected ServiceList fetch(InspectionServiceBlockingStub agent, ListRequest request) {
      return agent.listServices(request);
    }

    @Override
    protected String table(ServiceList answer) {
      Table table = Table.withHeader("ID", "Frontend", "Service Type", "Backend");
      answer.getServicesList().stream()
          .sorted(Comparator.comparingInt(ServiceInfo::getId))
          .forEach(service -> table.multiLineRow(
              List.of(service.getId()), List.of(service.getFrontend()), List.of(service.getType()), backends(service)));
      return table.render();
    }

    // "1 => 10.2.0.163:3000/TCP (active)", numbered from 1 like Cilium.
    private static List<String> backends(ServiceInfo service) {
      List<String> lines = new ArrayList<>();
      int n = 1;
      for (ServiceBackendInfo backend : service.getBackendsList()) {
        lines.add(n++ + " => " + backend.getAddress() + " (" + backend.getState() + ")");
      }
      return lines;
    }
  }
}
