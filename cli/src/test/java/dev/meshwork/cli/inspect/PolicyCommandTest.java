package dev.meshwork.cli.inspect;

import static dev.meshwork.cli.testing.CliRun.meshwork;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.meshwork.cli.testing.CliRun;
import dev.meshwork.cli.testing.FakeAgent;
import dev.meshwork.proto.v1.AllowedEntry;
import dev.meshwork.proto.v1.EndpointPolicyInfo;
import dev.meshwork.proto.v1.PolicyReport;
import dev.meshwork.proto.v1.PolicyRuleInfo;
import dev.meshwork.proto.v1.PolicyStatusInfo;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code meshwork policy get} against a fake agent serving the blog's policy on the shared cluster's backend. */
class PolicyCommandTest {
  static final String BLOG = "CiliumNetworkPolicy testing/allow-only-production-cluster";
  static final int PRODUCTION_FRONTEND = 3 << 16 | 300;

  @TempDir Path dir;
  private FakeAgent agent;
  private String socket;

  @BeforeEach
  void startAgent() throws Exception {
    agent = FakeAgent.start(dir.resolve("agent.sock"));
    agent.policy =
        PolicyReport.newBuilder()
            .setEnforcementEnabled(true)
            .addPolicies(
                PolicyStatusInfo.newBuilder()
                    .setNamespace("testing")
                    .setName("allow-only-production-cluster")
                    .setKind("CiliumNetworkPolicy")
                    .setValid(true)
                    .addSelectedEndpoints("10.1.0.10"))
            .addPolicies(
                PolicyStatusInfo.newBuilder()
                    .setNamespace("testing")
                    .setName("broken")
                    .setKind("NetworkPolicy")
                    .setValid(false)
                    .addErrors("spec.ingress[0].from[0].ipBlock: not supported"))
            .addEndpoints(
                EndpointPolicyInfo.newBuilder()
                    .setIpv4("10.1.0.10")
                    .setIdentity(1 << 16 | 256)
                    .setIngressEnforced(true)
                    .addRules(
                        PolicyRuleInfo.newBuilder()
                            .setPolicy(BLOG)
                            .setDirection("INGRESS")
                            .addPeers("{app=frontend, io.cilium.k8s.policy.cluster=k8s-production-cluster, role=web-service}")
                            .addPeerIdentities(PRODUCTION_FRONTEND))
                    .addAllowed(
                        AllowedEntry.newBuilder()
                            .setDirection("INGRESS")
                            .setRemoteIdentity(PRODUCTION_FRONTEND)
                            .addPolicies(BLOG)))
            .addEndpoints(EndpointPolicyInfo.newBuilder().setIpv4("10.1.0.11").setIdentity(1 << 16 | 257))
            .build();
    socket = agent.socket().toString();
  }

  @AfterEach
  void stopAgent() {
    agent.close();
  }

  @Test
  void showsEveryPolicyWithItsErrorsAndEachEndpointsAllowedEntriesWithTheirPolicy() {
    CliRun run = meshwork("policy", "get", "--socket", socket);

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(agent.lastPolicyRequest().getEndpointIp()).isEmpty();
    assertThat(run.out()).isEqualTo("""
        POLICY                                  KIND                  STATUS    SELECTED ENDPOINTS
        testing/allow-only-production-cluster   CiliumNetworkPolicy   valid     10.1.0.10
        testing/broken                          NetworkPolicy         invalid   -

        NetworkPolicy testing/broken:
          spec.ingress[0].from[0].ipBlock: not supported

        Endpoint 10.1.0.10  identity 65792  ingress enforced  egress not enforced
        DIRECTION   IDENTITY   PORT   PROTOCOL   POLICY
        INGRESS     196908     ANY    ANY        CiliumNetworkPolicy testing/allow-only-production-cluster

        Endpoint 10.1.0.11  identity 65793  ingress not enforced  egress not enforced
        """);
  }

  @Test
  void oneEndpointIsAskedForByItsIp() {
    CliRun run = meshwork("policy", "get", "10.1.0.10", "--socket", socket);

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(agent.lastPolicyRequest().getEndpointIp()).isEqualTo("10.1.0.10");
    assertThat(run.out()).contains("Endpoint 10.1.0.10").doesNotContain("Endpoint 10.1.0.11");
  }

  @Test
  void anUnknownEndpointIsAnErrorNamingIt() {
    CliRun run = meshwork("policy", "get", "10.1.0.99", "--socket", socket);

    assertThat(run.exitCode()).isNotZero();
    assertThat(run.err()).contains("GetPolicy").contains("NOT_FOUND").contains("10.1.0.99");
  }

  @Test
  void jsonOutputIsTheAgentsAnswerInProtobufJson() throws Exception {
    CliRun run = meshwork("policy", "get", "-o", "json", "--socket", socket);

    assertThat(run.exitCode()).as(run.err()).isZero();
    PolicyReport.Builder parsed = PolicyReport.newBuilder();
    JsonFormat.parser().merge(run.out(), parsed);
    assertThat(parsed.build()).isEqualTo(agent.policy);
  }

  @Test
  void anAgentWithoutKubernetesSaysEnforcementIsDisabled() {
    agent.policy = PolicyReport.getDefaultInstance();

    CliRun run = meshwork("policy", "get", "--socket", socket);

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).isEqualTo("Policy enforcement is disabled on this agent (no Kubernetes API).\n");
  }
}
