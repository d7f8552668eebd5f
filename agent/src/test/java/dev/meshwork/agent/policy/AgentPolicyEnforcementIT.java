package dev.meshwork.agent.policy;

import static dev.meshwork.agent.policy.PolicyFixtures.PRODUCTION;
import static dev.meshwork.agent.policy.PolicyFixtures.SHARED;
import static dev.meshwork.agent.policy.PolicyFixtures.TEST;
import static dev.meshwork.agent.policy.PolicyFixtures.identity;
import static dev.meshwork.agent.policy.PolicyFixtures.ingress;
import static dev.meshwork.agent.policy.PolicyFixtures.ip;
import static dev.meshwork.agent.policy.PolicyFixtures.podLabels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.testsupport.ClusterOperatorDouble;
import dev.meshwork.agent.testsupport.RecordingDatapath;
import dev.meshwork.agent.testsupport.TestAgent;
import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.proto.v1.EndpointPolicyInfo;
import dev.meshwork.proto.v1.GetPolicyRequest;
import dev.meshwork.proto.v1.PolicyReport;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole agent (production wiring, FakeDatapath) of a node of k8s-shared-cluster, with one real
 * etcd per cluster and the blog's policy in a mock API server: the backend's allowed keys follow
 * the remote clusters' identities and the policy's life.
 */
@EnableKubernetesMockClient(crud = true)
class AgentPolicyEnforcementIT {
  static final String BACKEND = "10.1.0.10";
  static final int BACKEND_ID = identity(SHARED, 256);
  static final int TEST_FRONTEND_ID = identity(TEST, 300);
  static final int PRODUCTION_FRONTEND_ID = identity(PRODUCTION, 300);

  @RegisterExtension static final EtcdExtension sharedEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension testEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension productionEtcd = EtcdExtension.plain();

  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir Path tmp;
  Path meshDir;
  Path localConfig;
  ClusterOperatorDouble shared;
  ClusterOperatorDouble test;
  ClusterOperatorDouble production;
  final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    for (EtcdExtension etcd : List.of(sharedEtcd, testEtcd, productionEtcd)) {
      etcd.etcdctl("del", "--prefix", "meshwork/").orThrow();
    }
    CustomResourceDefinition crd =
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .load(getClass().getResourceAsStream("/crds/ciliumnetworkpolicies.cilium.io.yaml"))
            .item();
    client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    meshDir = Files.createDirectories(tmp.resolve("clustermesh"));
    shared = operator(sharedEtcd, SHARED, 1);
    test = operator(testEtcd, TEST, 2);
    production = operator(productionEtcd, PRODUCTION, 3);
    localConfig = shared.writeConfigFile(Files.createDirectories(tmp.resolve("local")));
    shared.writeClusterConfig();
    shared.node("shared-node-1", "198.18.0.1", "10.1.0.0/24");
    shared.identity(256, podLabels(SHARED, "testing", "app", "backend", "role", "database-service").toArray(String[]::new));
    shared.pod(BACKEND, 256, "198.18.0.1");
    shared.synced();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
  }

  @Test
  void backendGetsTheProductionFrontendsOnceRemoteIdentitiesArriveAndLosesEnforcementWithThePolicy()
      throws Exception {
    TestAgent agent = agent(new RecordingDatapath());
    agent.reconciler.upsertEndpoint(new Endpoint(1, ip(BACKEND), "lxc-backend", BACKEND_ID, false, false));
    createBlogPolicy();

    // Only the local cluster is known: the backend is enforced and nothing is allowed in.
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(endpoint(agent).ingressEnforced()).isTrue());
    assertThat(agent.datapath.snapshot().policy()).isEmpty();

    frontendCluster(test, 300);
    frontendCluster(production, 300);

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(agent.datapath.snapshot().policy())
                    .containsExactly(ingress(BACKEND, PRODUCTION_FRONTEND_ID, 0, null)));
    assertThat(agent.policy.allowedKeys()).doesNotContain(ingress(BACKEND, TEST_FRONTEND_ID, 0, null));

    // `meshwork policy get 10.1.0.10` sees the same, naming the policy behind the entry.
    PolicyReport report = agent.policyApi().getPolicy(GetPolicyRequest.newBuilder().setEndpointIp(BACKEND).build());
    assertThat(report.getEnforcementEnabled()).isTrue();
    assertThat(report.getPoliciesList())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getName()).isEqualTo("allow-only-production-cluster");
              assertThat(p.getValid()).isTrue();
              assertThat(p.getSelectedEndpointsList()).containsExactly(BACKEND);
            });
    EndpointPolicyInfo backend = report.getEndpoints(0);
    assertThat(backend.getIngressEnforced()).isTrue();
    assertThat(backend.getAllowedList())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getDirection()).isEqualTo("INGRESS");
              assertThat(a.getRemoteIdentity()).isEqualTo(PRODUCTION_FRONTEND_ID);
              assertThat(a.getPoliciesList())
                  .containsExactly("CiliumNetworkPolicy testing/allow-only-production-cluster");
            });
    assertThat(agent.api().listEndpoints(dev.meshwork.proto.v1.ListRequest.getDefaultInstance()).getEndpointsList())
        .filteredOn(e -> e.getIpv4().equals(BACKEND))
        .allSatisfy(e -> assertThat(e.getIngressEnforced()).isTrue());

    client
        .genericKubernetesResources(PolicyWatcher.CILIUM_NETWORK_POLICY)
        .inNamespace("testing")
        .withName("allow-only-production-cluster")
        .delete();

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(agent.datapath.snapshot().policy()).isEmpty();
              assertThat(endpoint(agent).ingressEnforced()).isFalse();
            });
  }

  @Test
  void aRestartedAgentKeepsTheProgrammedKeysUntilEverythingIsListedAgain() throws Exception {
    RecordingDatapath datapath = new RecordingDatapath();
    frontendCluster(test, 300);
    frontendCluster(production, 300);
    createBlogPolicy();
    TestAgent first = agent(datapath);
    Endpoint backend = new Endpoint(1, ip(BACKEND), "lxc-backend", BACKEND_ID, false, false);
    first.reconciler.upsertEndpoint(backend);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(datapath.snapshot().policy())
                  .containsExactly(ingress(BACKEND, PRODUCTION_FRONTEND_ID, 0, null));
              assertThat(endpoint(first).ingressEnforced()).isTrue();
            });
    first.close();
    closeables.remove(first);

    datapath.batches.clear();
    TestAgent second = agent(datapath);
    // The endpoint manager restores its endpoint with unset flags: the programmed ones stay.
    second.reconciler.upsertEndpoint(backend);
    second.reconciler.awaitIdle(Duration.ofSeconds(20));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !second.reconciler.restoring() && second.policy.allowedKeys().size() == 1);
    second.reconciler.kick();
    second.reconciler.awaitIdle(Duration.ofSeconds(20));

    assertThat(datapath.snapshot().policy()).containsExactly(ingress(BACKEND, PRODUCTION_FRONTEND_ID, 0, null));
    assertThat(endpoint(second).ingressEnforced()).isTrue();
    assertThat(datapath.batches).flatMap(ChangeSet::policyRevokes).isEmpty();
    assertThat(datapath.batches)
        .flatMap(ChangeSet::endpointUpserts)
        .allSatisfy(e -> assertThat(e.ingressEnforced()).as("enforcement of %s", e).isTrue());
  }

  void createBlogPolicy() {
    client
        .genericKubernetesResources(PolicyWatcher.CILIUM_NETWORK_POLICY)
        .inNamespace("testing")
        .resource(PolicyFixtures.cnp(AllowOnlyProductionClusterTest.BLOG_POLICY))
        .create();
  }

  /** A remote cluster with one frontend identity, joining the mesh. */
  void frontendCluster(ClusterOperatorDouble cluster, int localIdentity) throws Exception {
    cluster.writeClusterConfig();
    cluster.identity(
        localIdentity,
        podLabels(cluster.cluster, "testing", "app", "frontend", "role", "web-service").toArray(String[]::new));
    cluster.synced();
    cluster.writeConfigFile(meshDir);
  }

  Endpoint endpoint(TestAgent agent) {
    Endpoint e = agent.datapath.snapshot().endpoints().get(ip(BACKEND));
    assertThat(e).as("endpoint %s in the datapath", BACKEND).isNotNull();
    return e;
  }

  ClusterOperatorDouble operator(EtcdExtension etcd, String cluster, int id) {
    ClusterOperatorDouble op = new ClusterOperatorDouble(etcd, cluster, id);
    closeables.add(op);
    return op;
  }

  TestAgent agent(RecordingDatapath datapath) {
    TestAgent agent =
        new TestAgent(
            SHARED, 1, "shared-node-1", localConfig, meshDir, tmp.resolve("agent-" + closeables.size() + ".sock"),
            datapath, Optional.empty(), Optional.of(client));
    closeables.add(agent);
    return agent;
  }
}
