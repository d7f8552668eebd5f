package dev.meshwork.cli.inspect;

import dev.meshwork.cli.CommandGroup;
import dev.meshwork.cli.agent.AgentConnection;
import dev.meshwork.cli.agent.AgentUnreachableException;
import dev.meshwork.cli.output.JsonOutput;
import dev.meshwork.cli.output.Table;
import dev.meshwork.proto.v1.AllowedEntry;
import dev.meshwork.proto.v1.EndpointPolicyInfo;
import dev.meshwork.proto.v1.GetPolicyRequest;
import dev.meshwork.proto.v1.PolicyReport;
import dev.meshwork.proto.v1.PolicyStatusInfo;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "policy", description = "Network policies and the rules in force.", subcommands = PolicyCommand.Get.class)
public final class PolicyCommand extends CommandGroup {

  @Command(
      name = "get",
      description = "Show every policy received (valid or not) and, per local endpoint, enforcement and the allowed entries with the policies behind them.")
  public static final class Get implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "ENDPOINT-IP", description = "Only this local endpoint.")
    private String endpoint;

    @Mixin private AgentCallOptions options;

    @Override
    public Integer call() {
      Path socket = options.socket(spec);
      PolicyReport report;
      try (AgentConnection agent = AgentConnection.open(socket)) {
        report = agent.policy().getPolicy(GetPolicyRequest.newBuilder().setEndpointIp(endpoint == null ? "" : endpoint).build());
      } catch (StatusRuntimeException e) {
        throw AgentUnreachableException.fromCall(socket, "GetPolicy", e);
      }
      PrintWriter out = spec.commandLine().getOut();
      out.print(options.json() ? JsonOutput.render(report) : text(report));
      out.flush();
      return 0;
    }

    static String text(PolicyReport report) {
      StringBuilder out = new StringBuilder();
      if (!report.getEnforcementEnabled()) {
        out.append("Policy enforcement is disabled on this agent (no Kubernetes API).\n");
      }
      if (report.getPoliciesCount() > 0) {
        Table policies = Table.withHeader("POLICY", "KIND", "STATUS", "SELECTED ENDPOINTS");
        for (PolicyStatusInfo p : report.getPoliciesList()) {
          String status = p.getValid() ? "valid" : p.getPreviousVersionInForce() ? "invalid (previous version in force)" : "invalid";
          policies.multiLineRow(
              List.of(p.getNamespace() + "/" + p.getName()),
              List.of(p.getKind()),
              List.of(status),
              p.getSelectedEndpointsCount() == 0 ? List.of("-") : p.getSelectedEndpointsList());
        }
        out.append(policies.render());
        // Errors below the table: they are long and would widen its columns.
        for (PolicyStatusInfo p : report.getPoliciesList()) {
          if (p.getErrorsCount() > 0) {
            out.append('\n').append(p.getKind()).append(' ').append(p.getNamespace()).append('/').append(p.getName()).append(":\n");
            p.getErrorsList().forEach(e -> out.append("  ").append(e).append('\n'));
          }
        }
      } else if (report.getEnforcementEnabled()) {
        out.append("No policy.\n");
      }
      for (EndpointPolicyInfo e : report.getEndpointsList()) {
        out.append('\n')
            .append("Endpoint ").append(e.getIpv4())
            .append("  identity ").append(Integer.toUnsignedString(e.getIdentity()))
            .append("  ingress ").append(e.getIngressEnforced() ? "enforced" : "not enforced")
            .append("  egress ").append(e.getEgressEnforced() ? "enforced" : "not enforced")
            .append('\n');
        if (e.getAllowedCount() == 0) {
          out.append(e.getIngressEnforced() || e.getEgressEnforced() ? "  nothing allowed in enforced directions\n" : "");
          continue;
        }
        Table allowed = Table.withHeader("DIRECTION", "IDENTITY", "PORT", "PROTOCOL", "POLICY");
        for (AllowedEntry a : e.getAllowedList()) {
          allowed.multiLineRow(
              List.of(a.getDirection()),
              List.of(a.getRemoteIdentity() == 0 ? "ANY" : Integer.toUnsignedString(a.getRemoteIdentity())),
              List.of(a.getPort() == 0 ? "ANY" : Integer.toString(a.getPort())),
              List.of(a.getProtocol().isEmpty() ? "ANY" : a.getProtocol()),
              a.getPoliciesList());
        }
        out.append(allowed.render());
      }
      return out.toString();
    }
  }
}
