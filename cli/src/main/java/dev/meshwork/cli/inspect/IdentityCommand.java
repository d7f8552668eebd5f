package dev.meshwork.cli.inspect;

import dev.meshwork.cli.CommandGroup;
import dev.meshwork.cli.output.Table;
import dev.meshwork.proto.v1.IdentityInfo;
import dev.meshwork.proto.v1.IdentityList;
import dev.meshwork.proto.v1.InspectionServiceGrpc.InspectionServiceBlockingStub;
import dev.meshwork.proto.v1.ListRequest;
import java.util.Comparator;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "identity", description = "Security identities of every cluster.", subcommands = IdentityCommand.ListIdentities.class)
public final class IdentityCommand extends CommandGroup {

  @Command(name = "list", description = "List every known identity with its labels, one label per line.")
  public static final class ListIdentities extends ListCommand<IdentityList> {

    @Override
    protected String callName() {
      return "ListIdentities";
    }

    @Override
    protected IdentityList fetch(InspectionServiceBlockingStub agent, ListRequest request) {
      return agent.listIdentities(request);
    }

    @Override
    protected String table(IdentityList answer) {
      Table table = Table.withHeader("ID", "LABELS");
      answer.getIdentitiesList().stream()
          .sorted(Comparator.comparingInt(IdentityInfo::getId))
          .forEach(identity -> table.multiLineRow(
              List.of(Integer.toUnsignedString(identity.getId())),
              identity.getLabelsList().stream().sorted().toList()));
      return table.render();
    }
  }
}
