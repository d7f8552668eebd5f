package dev.meshwork.cli.inspect;

import dev.meshwork.cli.CommandGroup;
import dev.meshwork.cli.output.Table;
import dev.meshwork.proto.v1.InspectionServiceGrpc.InspectionServiceBlockingStub;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.LoadBalancerEntry;
import dev.meshwork.proto.v1.LoadBalancerEntryList;
import dev.meshwork.proto.v1.TunnelEntry;
import dev.meshwork.proto.v1.TunnelList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;

/** `meshwork bpf ...`: what the agent has programmed into the datapath's maps. */
@Command(
    name = "bpf",
    description = "Datapath state as programmed (tunnel map, load-balancer map).",
    subcommands = {BpfCommand.Tunnel.class, BpfCommand.Lb.class})
public final class BpfCommand extends CommandGroup {

  @Command(name = "tunnel", description = "The tunnel map: pod CIDR -> node IP.", subcommands = Tunnel.ListTunnels.class)
  public static final class Tunnel extends CommandGroup {

    @Command(name = "list", description = "List the tunnel map entries.")
    public static final class ListTunnels extends ListCommand<TunnelList> {

      @Override
      protected String callName() {
        return "ListTunnels";
      }

      @Override
      protected TunnelList fetch(InspectionServiceBlockingStub agent, ListRequest request) {
        return agent.listTunnels(request);
      }

      @Override
      protected String table(TunnelList answer) {
        Table table = Table.withHeader("TUNNEL", "VALUE");
        answer.getTunnelsList().stream()
            .sorted(Comparator.comparing(TunnelEntry::getPrefix, AddressOrder.NUMERIC))
            .forEach(tunnel -> table.row(tunnel.getPrefix(), tunnel.getTunnelEndpoint()));
        return table.render();
      }
    }
  }

  @Command(name = "lb", description = "The load-balancer map: frontend + slot -> backend.", subcommands = Lb.ListEntries.class)
  public static final class Lb extends CommandGroup {

    @Command(name = "list", description = "List the load-balancer map entries.")
    public static final class ListEntries extends ListCommand<LoadBalancerEntryList> {

      /** Cilium prints the master entry (slot 0) of a frontend with this empty backend. */
      static final String NO_BACKEND = "0.0.0.0:0";

      @Override
      protected String callName() {
        return "ListLoadBalancerEntries";
      }

      @Override
      protected LoadBalancerEntryList fetch(InspectionServiceBlockingStub agent, ListRequest request) {
        return agent.listLoadBalancerEntries(request);
      }

      @Override
      protected String table(LoadBalancerEntryList answer) {
        Table table = Table.withHeader("SERVICE ADDRESS", "BACKEND ADDRESS (REVNAT_ID) (SLOT)");
        Map<String, List<LoadBalancerEntry>> byFrontend =
            answer.getEntriesList().stream()
                .sorted(
                    Comparator.comparing(LoadBalancerEntry::getServiceAddress, AddressOrder.NUMERIC)
                        .thenComparingInt(LoadBalancerEntry::getSlot))
                .collect(Collectors.groupingBy(LoadBalancerEntry::getServiceAddress, LinkedHashMap::new, Collectors.toList()));
        byFrontend.forEach(
            (frontend, entries) ->
                table.row(
                    frontend,
                    entries.stream()
                        .map(
                            e ->
                                (e.getBackendAddress().isEmpty() ? NO_BACKEND : e.getBackendAddress())
                                    + " (" + e.getRevNatId() + ") (" + e.getSlot() + ")")
                        .collect(Collectors.joining("\n"))));
        return table.render();
      }
    }
  }
}
