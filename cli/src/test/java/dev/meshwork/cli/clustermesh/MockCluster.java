package dev.meshwork.cli.clustermesh;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One "cluster" for the clustermesh commands: a fabric8 mock API server in CRUD mode holding the
 * objects `helm template` renders from charts/meshwork for this cluster's name and id (the same
 * chart a real install applies), reached through a kubeconfig context named after the cluster.
 */
final class MockCluster implements AutoCloseable {

  static final Path CHART = Path.of("../charts/meshwork").toAbsolutePath().normalize();
  static final String NAMESPACE = "kube-system";
  private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  private final String name;
  private final KubernetesMockServer server;
  private final KubernetesClient client;

  private MockCluster(String name, KubernetesMockServer server) {
    this.name = name;
    this.server = server;
    this.client = server.createClient();
  }

  /** A cluster with the chart installed with {@code cluster.name=name, cluster.id=id} plus {@code values}. */
  static MockCluster install(String name, int id, Map<String, String> values) {
    MockCluster cluster = empty(name);
    for (String document : RENDERED.computeIfAbsent(name + "/" + id + "/" + new java.util.TreeMap<>(values), k -> render(name, id, values))) {
      cluster.client.resource((HasMetadata) Serialization.unmarshal(document)).create();
    }
    return cluster;
  }

  // A render makes RSA keys for the CA and six certificates: seconds on a loaded machine. Tests
  // that install the same cluster share it (the same CA, as a reinstall with etcd.tls.ca would).
  private static final Map<String, List<String>> RENDERED = new java.util.concurrent.ConcurrentHashMap<>();

  private static List<String> render(String name, int id, Map<String, String> values) {
    var template = new Helm(CHART).template().withName("meshwork").withNamespace(NAMESPACE)
        .set("cluster.name", name).set("cluster.id", Integer.toString(id));
    values.forEach(template::set);
    return DOCUMENT_SEPARATOR.splitAsStream(template.call())
        .filter(document -> !document.lines().allMatch(line -> line.isBlank() || line.startsWith("#")))
        .toList();
  }

  /** A cluster without Meshwork. */
  static MockCluster empty(String name) {
    KubernetesMockServer server = new KubernetesMockServer(
        new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(List.of()), false);
    server.init();
    return new MockCluster(name, server);
  }

  String name() {
    return name;
  }

  KubernetesClient client() {
    return client;
  }

  String url() {
    return client.getConfiguration().getMasterUrl();
  }

  Secret secret(String secretName) {
    return client.secrets().inNamespace(NAMESPACE).withName(secretName).get();
  }

  /** A Secret's entries, decoded. */
  Map<String, String> secretData(String secretName) {
    Secret secret = secret(secretName);
    Map<String, String> data = new HashMap<>();
    if (secret != null && secret.getData() != null) {
      secret.getData().forEach((k, v) -> data.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    return data;
  }

  DaemonSet agents() {
    return client.apps().daemonSets().inNamespace(NAMESPACE).withName(InstalledCluster.AGENT_DAEMONSET).get();
  }

  /** What the cloud's load balancer controller does: publish the address of meshwork-etcd-external. */
  void publishLoadBalancer(String ip, String hostname) {
    Service service = externalService();
    service.setStatus(new io.fabric8.kubernetes.api.model.ServiceStatusBuilder()
        .withNewLoadBalancer().addNewIngress().withIp(ip).withHostname(hostname).endIngress().endLoadBalancer().build());
    client.services().inNamespace(NAMESPACE).resource(service).updateStatus();
  }

  /** What the API server does for a NodePort Service: assign the port. */
  void assignNodePort(int nodePort) {
    client.services().inNamespace(NAMESPACE).withName(InstalledCluster.EXTERNAL_SERVICE).edit(s -> {
      s.getSpec().setType("NodePort");
      s.getSpec().getPorts().getFirst().setNodePort(nodePort);
      return s;
    });
  }

  void addNode(String nodeName, String internalIp) {
    client.nodes().resource(new NodeBuilder().withNewMetadata().withName(nodeName).endMetadata()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress(internalIp).endAddress()
        .addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build()).create();
  }

  Service externalService() {
    return client.services().inNamespace(NAMESPACE).withName(InstalledCluster.EXTERNAL_SERVICE).get();
  }

  /**
   * The chart's etcd server certificate as a directory etcd can serve with (the layout of `ca`:
   * ca.crt, etcd-server.crt, etcd-server.key), for a real etcd standing in for the StatefulSet.
   */
  Path etcdServerFiles(Path dir) throws IOException {
    Map<String, String> server = secretData(InstalledCluster.SERVER_SECRET);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(CaDirectory.CA_CERT), server.get("ca.crt"));
    Files.writeString(dir.resolve(CaDirectory.SERVER_CERT), server.get("tls.crt"));
    Files.writeString(dir.resolve(CaDirectory.SERVER_KEY), server.get("tls.key"));
    return dir;
  }

  /** A client certificate of the cluster's own operator (Secret meshwork-etcd-client-operator) as files. */
  Path operatorClientFiles(Path dir) throws IOException {
    Map<String, String> operator = secretData("meshwork-etcd-client-operator");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("ca.crt"), operator.get("ca.crt"));
    Files.writeString(dir.resolve("tls.crt"), operator.get("tls.crt"));
    Files.writeString(dir.resolve("tls.key"), operator.get("tls.key"));
    return dir;
  }

  /** A kubeconfig with one context per cluster, named after it. */
  static Path kubeconfig(Path file, MockCluster... clusters) throws IOException {
    StringBuilder yaml = new StringBuilder("apiVersion: v1\nkind: Config\nclusters:\n");
    for (MockCluster c : clusters) {
      yaml.append("- name: ").append(c.name).append("\n  cluster:\n    server: ").append(c.url()).append("\n");
    }
    yaml.append("users:\n- name: admin\n  user:\n    token: test\ncontexts:\n");
    for (MockCluster c : clusters) {
      yaml.append("- name: ").append(c.name).append("\n  context:\n    cluster: ").append(c.name).append("\n    user: admin\n");
    }
    yaml.append("current-context: ").append(clusters[0].name).append("\n");
    Files.writeString(file, yaml.toString());
    return file;
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
