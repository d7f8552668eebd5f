package dev.meshwork.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The chart as `helm lint` and `helm template` see it, for the default values and the blog's two clusters. */
class MeshworkChartTest {
  private static final RenderedChart DEFAULTS = RenderedChart.render();
  private static final RenderedChart TEST_CLUSTER = RenderedChart.render(RenderedChart.values("k8s-test-cluster.yaml"));
  private static final RenderedChart SHARED_CLUSTER = RenderedChart.render(RenderedChart.values("k8s-shared-cluster.yaml"));

  static Stream<RenderedChart> everyValuesSet() {
    return Stream.of(DEFAULTS, TEST_CLUSTER, SHARED_CLUSTER);
  }

  @Test
  void lintsWithoutWarningsInStrictMode() {
    LintResult result = new Helm(RenderedChart.CHART).lint().strict().call();

    assertThat(result.isFailed()).as("helm lint --strict: %s", result.getMessages()).isFalse();
    assertThat(result.getMessages()).noneMatch(message -> message.contains("[ERROR]") || message.contains("[WARNING]"));
  }

  @ParameterizedTest
  @MethodSource("everyValuesSet")
  void everyRenderedObjectIsATypedKubernetesObjectWithoutUnknownFields(RenderedChart chart) {
    assertThat(chart.objects()).isNotEmpty();
    for (HasMetadata object : chart.objects()) {
      assertThat(object).as("%s %s", object.getKind(), object.getMetadata().getName())
          .isNotInstanceOf(GenericKubernetesResource.class);
      assertThat(UnknownFields.in(object)).as("fields the model does not know in %s %s", object.getKind(), object.getMetadata().getName())
          .isEmpty();
      if (!(object instanceof ClusterRole) && !object.getKind().startsWith("ClusterRoleBinding")) {
        assertThat(object.getMetadata().getNamespace()).as("namespace of %s %s", object.getKind(), object.getMetadata().getName())
            .isEqualTo(RenderedChart.NAMESPACE);
      }
    }
  }

  @Test
  void defaultValuesRenderEveryComponentButKvstoreSync() {
    assertThat(DEFAULTS.all(DaemonSet.class)).extracting(o -> o.getMetadata().getName()).containsExactly("meshwork-agent");
    assertThat(DEFAULTS.all(Deployment.class)).extracting(o -> o.getMetadata().getName()).containsExactly("meshwork-operator");
    assertThat(DEFAULTS.all(StatefulSet.class)).extracting(o -> o.getMetadata().getName()).containsExactly("meshwork-etcd");
    assertThat(DEFAULTS.all(Job.class)).extracting(o -> o.getMetadata().getName()).containsExactly("meshwork-etcd-init-1");
    assertThat(DEFAULTS.all(Service.class)).extracting(o -> o.getMetadata().getName())
        .containsExactlyInAnyOrder("meshwork-etcd", "meshwork-etcd-headless", "meshwork-etcd-external");
    assertThat(DEFAULTS.all(Secret.class)).extracting(o -> o.getMetadata().getName())
        .doesNotContain("meshwork-clustermesh", "meshwork-etcd-client-kvstore-sync");
  }

  @Test
  void agentIsAPrivilegedHostNetworkDaemonSetWithBpffsAndCniHostPaths() {
    PodSpec pod = TEST_CLUSTER.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getSpec();
    Container agent = container(pod.getContainers(), "agent");

    assertThat(pod.getHostNetwork()).isTrue();
    assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
    assertThat(agent.getSecurityContext().getPrivileged()).isTrue();
    assertThat(hostPaths(pod)).contains("/sys/fs/bpf", "/etc/cni/net.d", "/opt/cni/bin", "/var/run/meshwork", "/opt/meshwork");
    assertThat(mount(agent, "endpoint-state").getMountPath()).isEqualTo("/var/lib/meshwork/endpoints");
    assertThat(volume(pod, "endpoint-state").getHostPath().getPath()).isEqualTo("/var/lib/meshwork/endpoints");
    assertThat(mount(agent, "bpffs").getMountPath()).isEqualTo("/sys/fs/bpf");
    assertThat(mount(agent, "bpffs").getMountPropagation()).isEqualTo("Bidirectional");
    assertThat(mount(agent, "clustermesh").getMountPath()).isEqualTo("/var/lib/meshwork/clustermesh");
    assertThat(volume(pod, "clustermesh").getSecret().getSecretName()).isEqualTo("meshwork-clustermesh");
    assertThat(volume(pod, "clustermesh").getSecret().getOptional()).isTrue();
    assertThat(env(agent, "MESHWORK_NODE_NAME").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
  }

  @Test
  void agentInitContainerInstallsTheCniPluginAndConflistFromTheCniImage() {
    PodSpec pod = DEFAULTS.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getSpec();
    Container install = container(pod.getInitContainers(), "install-cni");
    ConfigMap cni = DEFAULTS.one(ConfigMap.class, "meshwork-cni-config");

    assertThat(install.getImage()).isEqualTo("ghcr.io/meshwork/meshwork-cni:0.1.0");
    assertThat(install.getCommand()).containsExactly("/bin/sh", "/etc/meshwork-cni/install-cni.sh");
    assertThat(env(install, "CONF_FILE").getValue()).isEqualTo("/etc/meshwork-cni/05-meshwork.conflist");
    assertThat(mount(install, "cni-bin").getMountPath()).isEqualTo("/host/opt/cni/bin");
    assertThat(mount(install, "cni-conf").getMountPath()).isEqualTo("/host/etc/cni/net.d");
    assertThat(cni.getData().get("05-meshwork.conflist"))
        .contains("\"type\": \"meshwork-cni\"", "\"cniVersion\": \"1.0.0\"", "\"cniVersions\": [\"1.0.0\", \"1.1.0\"]", "\"agent-socket\": \"/var/run/meshwork/agent.sock\"");
    assertThat(cni.getData().get("install-cni.sh")).isEqualTo(ChartFiles.read("install-cni.sh"));
  }

  @Test
  void blogTestClusterValuesBecomeTheBinariesSettings() {
    Map<String, String> operator = TEST_CLUSTER.one(ConfigMap.class, "meshwork-operator-config").getData();
    Map<String, String> agent = TEST_CLUSTER.one(ConfigMap.class, "meshwork-agent-config").getData();

    assertThat(operator).containsEntry("MESHWORK_CLUSTER_NAME", "k8s-test-cluster")
        .containsEntry("MESHWORK_CLUSTER_ID", "1")
        .containsEntry("MESHWORK_CLUSTER_POOL_IPV4_CIDR", "10.1.0.0/16")
        .containsEntry("MESHWORK_CLUSTER_POOL_IPV4_MASK_SIZE", "24")
        .containsEntry("MESHWORK_KVSTORE_CONFIG", "/var/lib/meshwork/etcd-config/etcd-config.yaml")
        .containsEntry("MESHWORK_LEADER_ELECTION_NAMESPACE", "kube-system");
    assertThat(agent).containsEntry("MESHWORK_CLUSTER_NAME", "k8s-test-cluster")
        .containsEntry("MESHWORK_CLUSTER_ID", "1")
        .containsEntry("MESHWORK_CLUSTERMESH_CONFIG_DIR", "/var/lib/meshwork/clustermesh")
        .containsEntry("MESHWORK_TUNNEL", "vxlan")
        .containsEntry("MESHWORK_KUBE_PROXY_REPLACEMENT", "strict");
    assertThat(operator.keySet()).allMatch(key -> key.matches("MESHWORK_[A-Z0-9_]+"));
    assertThat(agent.keySet()).allMatch(key -> key.matches("MESHWORK_[A-Z0-9_]+"));

    Container agentContainer = container(TEST_CLUSTER.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getSpec().getContainers(), "agent");
    assertThat(env(agentContainer, "KUBERNETES_SERVICE_HOST").getValue())
        .isEqualTo("3F03327575BBD58507B2585763830F0B.gr7.us-west-2.eks.amazonaws.com");
    assertThat(env(agentContainer, "KUBERNETES_SERVICE_PORT").getValue()).isEqualTo("443");
    assertThat(agentContainer.getEnvFrom()).anyMatch(source -> source.getConfigMapRef().getName().equals("meshwork-agent-config"));
  }

  @Test
  void blogTestClusterGetsHostAliasesForTheRemoteEtcdAndAnInternalLoadBalancer() {
    PodSpec pod = TEST_CLUSTER.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getSpec();
    Service external = TEST_CLUSTER.one(Service.class, "meshwork-etcd-external");

    assertThat(pod.getHostAliases()).extracting(alias -> alias.getIp()).containsExactly("192.168.18.202", "192.168.19.207");
    assertThat(pod.getHostAliases()).allSatisfy(alias -> assertThat(alias.getHostnames()).containsExactly("k8s-shared-cluster.mesh.meshwork.dev"));
    assertThat(external.getSpec().getType()).isEqualTo("LoadBalancer");
    assertThat(external.getSpec().getPorts()).singleElement().satisfies(port -> assertThat(port.getPort()).isEqualTo(2379));
    assertThat(external.getMetadata().getAnnotations())
        .containsEntry("service.beta.kubernetes.io/aws-load-balancer-internal", "true")
        .containsEntry("service.beta.kubernetes.io/aws-load-balancer-type", "nlb");
  }

  @Test
  void blogSharedClusterRunsKvstoreSyncWithItsOwnCertificateAndNoKubernetesAccess() {
    Deployment sync = SHARED_CLUSTER.one(Deployment.class, "meshwork-kvstore-sync");
    PodSpec pod = sync.getSpec().getTemplate().getSpec();
    Map<String, String> settings = SHARED_CLUSTER.one(ConfigMap.class, "meshwork-kvstore-sync-config").getData();

    assertThat(settings).containsEntry("MESHWORK_CLUSTER_NAME", "k8s-shared-cluster").containsEntry("MESHWORK_CLUSTER_ID", "2");
    assertThat(volume(pod, "etcd-client").getSecret().getSecretName()).isEqualTo("meshwork-etcd-client-kvstore-sync");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(SHARED_CLUSTER.one(ServiceAccount.class, "meshwork-kvstore-sync").getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getHostAliases()).extracting(alias -> alias.getIp()).containsExactly("192.168.2.234", "192.168.3.250");
    assertThat(SHARED_CLUSTER.one(ConfigMap.class, "meshwork-operator-config").getData())
        .containsEntry("MESHWORK_CLUSTER_POOL_IPV4_CIDR", "10.2.0.0/16");
  }

  @Test
  void agentsReadRemoteClustersFromTheMirrorExactlyWhenKvstoreSyncRuns() {
    Container shared = container(
        SHARED_CLUSTER.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getSpec().getContainers(), "agent");
    Container test = container(
        DEFAULTS.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getSpec().getContainers(), "agent");

    assertThat(env(shared, "MESHWORK_CLUSTERMESH_SOURCE").getValue()).isEqualTo("cache");
    assertThat(test.getEnv()).extracting(EnvVar::getName).doesNotContain("MESHWORK_CLUSTERMESH_SOURCE");
  }

  @Test
  void operatorRunsTwoReplicasElectingALeaderThroughItsOwnLease() {
    Deployment operator = DEFAULTS.one(Deployment.class, "meshwork-operator");
    Role election = DEFAULTS.one(Role.class, "meshwork-operator-leader-election");

    assertThat(operator.getSpec().getReplicas()).isEqualTo(2);
    assertThat(operator.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("meshwork-operator");
    assertThat(DEFAULTS.one(ConfigMap.class, "meshwork-operator-config").getData())
        .containsEntry("MESHWORK_LEADER_ELECTION", "true")
        .containsEntry("MESHWORK_LEADER_ELECTION_LEASE_NAME", "meshwork-operator");
    assertThat(election.getRules()).allSatisfy(rule -> assertThat(rule.getResources()).containsExactly("leases"));
    assertThat(election.getRules()).anySatisfy(rule -> {
      assertThat(rule.getResourceNames()).containsExactly("meshwork-operator");
      assertThat(rule.getVerbs()).containsExactlyInAnyOrder("get", "update");
    });
  }

  @ParameterizedTest
  @MethodSource("everyValuesSet")
  void rbacNamesEveryVerbAndResourceWithoutWildcards(RenderedChart chart) {
    Stream<PolicyRule> rules = Stream.concat(
        chart.all(ClusterRole.class).stream().flatMap(role -> role.getRules().stream()),
        chart.all(Role.class).stream().flatMap(role -> role.getRules().stream()));

    assertThat(rules.toList()).isNotEmpty().allSatisfy(rule -> {
      assertThat(rule.getVerbs()).isNotEmpty().doesNotContain("*");
      assertThat(rule.getResources()).isNotEmpty().doesNotContain("*");
      assertThat(rule.getApiGroups()).doesNotContain("*");
    });
  }

  @Test
  void agentMayOnlyReadKubernetesAndReadsServicesOnlyWhenItReplacesKubeProxy() {
    ClusterRole partial = DEFAULTS.one(ClusterRole.class, "meshwork-meshwork-agent");
    ClusterRole strict = TEST_CLUSTER.one(ClusterRole.class, "meshwork-meshwork-agent");

    assertThat(Stream.concat(partial.getRules().stream(), strict.getRules().stream()).flatMap(rule -> rule.getVerbs().stream()))
        .allMatch(verb -> List.of("get", "list", "watch").contains(verb));
    assertThat(resources(partial)).containsExactlyInAnyOrder("ciliumnetworkpolicies", "pods", "namespaces", "meshnodes", "nodes");
    assertThat(resources(strict)).contains("services", "endpointslices");
  }

  @Test
  void operatorWritesOnlyMeshNodesAndEvents() {
    ClusterRole operator = DEFAULTS.one(ClusterRole.class, "meshwork-meshwork-operator");

    assertThat(operator.getRules())
        .filteredOn(rule -> rule.getVerbs().stream().anyMatch(verb -> !List.of("get", "list", "watch").contains(verb)))
        .flatExtracting(PolicyRule::getResources)
        .containsExactlyInAnyOrder("meshnodes", "meshnodes/status", "events");
  }

  @Test
  void etcdRunsThreeTlsMembersOnEmptyDirByDefaultAndOnClaimsWhenAsked() {
    StatefulSet byDefault = DEFAULTS.one(StatefulSet.class, "meshwork-etcd");
    StatefulSet persistent = SHARED_CLUSTER.one(StatefulSet.class, "meshwork-etcd");

    assertThat(byDefault.getSpec().getReplicas()).isEqualTo(3);
    assertThat(byDefault.getSpec().getPodManagementPolicy()).isEqualTo("Parallel");
    assertThat(volume(byDefault.getSpec().getTemplate().getSpec(), "data").getEmptyDir()).isNotNull();
    assertThat(byDefault.getSpec().getVolumeClaimTemplates()).isEmpty();
    assertThat(volume(byDefault.getSpec().getTemplate().getSpec(), "server-tls").getSecret().getSecretName()).isEqualTo("meshwork-etcd-server");
    assertThat(persistent.getSpec().getTemplate().getSpec().getVolumes()).noneMatch(v -> v.getName().equals("data"));
    assertThat(persistent.getSpec().getVolumeClaimTemplates()).singleElement().satisfies(claim -> {
      assertThat(claim.getMetadata().getName()).isEqualTo("data");
      assertThat(claim.getSpec().getResources().getRequests().get("storage").toString()).isEqualTo("4Gi");
    });
    assertThat(DEFAULTS.one(ConfigMap.class, "meshwork-etcd-scripts").getData().get("etcd-start.sh"))
        .isEqualTo(ChartFiles.read("etcd-start.sh"));
  }

  @Test
  void etcdInitJobRunsTheChartsScriptAsRootOncePerRevision() {
    Job init = DEFAULTS.one(Job.class, "meshwork-etcd-init-1");
    Container container = container(init.getSpec().getTemplate().getSpec().getContainers(), "etcd-init");

    assertThat(init.getSpec().getTtlSecondsAfterFinished()).isPositive();
    assertThat(container.getCommand()).containsExactly("/bin/sh", "/scripts/etcd-init.sh");
    assertThat(env(container, "ETCDCTL_CERT").getValue()).isEqualTo("/etc/etcd/admin/tls.crt");
    assertThat(volume(init.getSpec().getTemplate().getSpec(), "admin-tls").getSecret().getSecretName()).isEqualTo("meshwork-etcd-client-admin");
    assertThat(DEFAULTS.one(Secret.class, "meshwork-etcd-client-admin").getMetadata().getAnnotations())
        .containsEntry("meshwork.dev/etcd-user", "root");
    assertThat(env(container, "ETCDCTL_ENDPOINTS").getValue()).isEqualTo(
        "https://meshwork-etcd-0.meshwork-etcd-headless.kube-system.svc:2379,"
            + "https://meshwork-etcd-1.meshwork-etcd-headless.kube-system.svc:2379,"
            + "https://meshwork-etcd-2.meshwork-etcd-headless.kube-system.svc:2379");
    assertThat(DEFAULTS.one(ConfigMap.class, "meshwork-etcd-scripts").getData().get("etcd-init.sh"))
        .isEqualTo(ChartFiles.read("etcd-init.sh"));
  }

  @Test
  void localEtcdConfigPointsEveryComponentAtItsOwnMountedCertificate() {
    String config = DEFAULTS.one(ConfigMap.class, "meshwork-etcd-config").getData().get("etcd-config.yaml");
    Deployment operator = DEFAULTS.one(Deployment.class, "meshwork-operator");

    assertThat(config).contains("https://meshwork-etcd-0.meshwork-etcd-headless.kube-system.svc:2379",
        "trusted-ca-file: /var/lib/meshwork/etcd-client/ca.crt", "cert-file: /var/lib/meshwork/etcd-client/tls.crt",
        "key-file: /var/lib/meshwork/etcd-client/tls.key");
    assertThat(volume(operator.getSpec().getTemplate().getSpec(), "etcd-client").getSecret().getSecretName())
        .isEqualTo("meshwork-etcd-client-operator");
    assertThat(mount(container(operator.getSpec().getTemplate().getSpec().getContainers(), "operator"), "etcd-client").getMountPath())
        .isEqualTo("/var/lib/meshwork/etcd-client");
  }

  @ParameterizedTest
  @MethodSource("everyValuesSet")
  void podsOfEveryComponentCarryPrometheusScrapeAnnotations(RenderedChart chart) {
    Stream<Map<String, String>> annotations = Stream.of(
        chart.all(DaemonSet.class).stream().map(o -> o.getSpec().getTemplate().getMetadata().getAnnotations()),
        chart.all(Deployment.class).stream().map(o -> o.getSpec().getTemplate().getMetadata().getAnnotations()),
        chart.all(StatefulSet.class).stream().map(o -> o.getSpec().getTemplate().getMetadata().getAnnotations()))
        .flatMap(s -> s);

    assertThat(annotations.toList()).isNotEmpty().allSatisfy(pod -> assertThat(pod)
        .containsEntry("prometheus.io/scrape", "true")
        .containsEntry("prometheus.io/path", "/metrics")
        .containsKey("prometheus.io/port"));
  }

  @Test
  void imagesDefaultToTheChartsAppVersionAndFollowTheValues() {
    RenderedChart tagged = RenderedChart.renderWith(Map.of("operator.image.repository", "registry.example/mw-operator", "operator.image.tag", "1.2.3"));

    assertThat(container(DEFAULTS.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getSpec().getContainers(), "agent").getImage())
        .isEqualTo("ghcr.io/meshwork/meshwork-agent:0.1.0");
    assertThat(container(tagged.one(Deployment.class, "meshwork-operator").getSpec().getTemplate().getSpec().getContainers(), "operator").getImage())
        .isEqualTo("registry.example/mw-operator:1.2.3");
  }

  @Test
  void changingAnOperatorSettingRollsOnlyTheOperator() {
    RenderedChart changed = RenderedChart.renderWith(Map.of("operator.identityGcGrace", "10m"));

    assertThat(podAnnotations(changed.one(Deployment.class, "meshwork-operator").getSpec().getTemplate().getMetadata().getAnnotations()))
        .isNotEqualTo(podAnnotations(DEFAULTS.one(Deployment.class, "meshwork-operator").getSpec().getTemplate().getMetadata().getAnnotations()));
    assertThat(changed.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getMetadata().getAnnotations())
        .isEqualTo(DEFAULTS.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getMetadata().getAnnotations());
    assertThat(changed.one(StatefulSet.class, "meshwork-etcd").getSpec().getTemplate().getMetadata().getAnnotations())
        .isEqualTo(DEFAULTS.one(StatefulSet.class, "meshwork-etcd").getSpec().getTemplate().getMetadata().getAnnotations());
  }

  private static String podAnnotations(Map<String, String> annotations) {
    return annotations.get("checksum/config");
  }

  @Test
  void systemPriorityClassesCanBeLeftOutForNamespacesOtherThanKubeSystem() {
    RenderedChart elsewhere = RenderedChart.renderWith(Map.of("agent.priorityClassName", "", "operator.priorityClassName", ""));

    assertThat(DEFAULTS.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getSpec().getPriorityClassName())
        .isEqualTo("system-node-critical");
    assertThat(elsewhere.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getSpec().getPriorityClassName()).isNull();
    assertThat(elsewhere.one(Deployment.class, "meshwork-operator").getSpec().getTemplate().getSpec().getPriorityClassName()).isNull();
  }

  static String decode(Secret secret, String key) {
    assertThat(secret.getData()).as("keys of Secret %s", secret.getMetadata().getName()).containsKey(key);
    return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
  }

  static Container container(List<Container> containers, String name) {
    return containers.stream().filter(c -> c.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no container " + name + " in " + containers.stream().map(Container::getName).toList()));
  }

  private static EnvVar env(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("container " + container.getName() + " has no env " + name));
  }

  private static VolumeMount mount(Container container, String volume) {
    return container.getVolumeMounts().stream().filter(m -> m.getName().equals(volume)).findFirst()
        .orElseThrow(() -> new AssertionError("container " + container.getName() + " does not mount " + volume));
  }

  static Volume volume(PodSpec pod, String name) {
    return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  private static List<String> hostPaths(PodSpec pod) {
    return pod.getVolumes().stream().filter(v -> v.getHostPath() != null).map(v -> v.getHostPath().getPath()).toList();
  }

  private static List<String> resources(ClusterRole role) {
    return role.getRules().stream().flatMap(rule -> rule.getResources().stream()).toList();
  }

  /** The chart's own files, as the tests compare them with what the chart renders. */
  static final class ChartFiles {
    private ChartFiles() {}

    static String read(String name) {
      try {
        return java.nio.file.Files.readString(RenderedChart.CHART.resolve("files").resolve(name));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    static Path path(String name) {
      return RenderedChart.CHART.resolve("files").resolve(name);
    }
  }
}
