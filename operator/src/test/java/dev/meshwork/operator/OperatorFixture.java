package dev.meshwork.operator;

import dev.meshwork.common.config.ConfigSource;
import dev.meshwork.kvstore.codec.Codec;
import dev.meshwork.kvstore.codec.Decoded;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.testing.etcd.EtcdExtension;
import com.google.protobuf.Message;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One cluster for integration tests: the fabric8 mock API in CRUD mode with the MeshNode CRD
 * installed, a real etcd, and operators built by the production Dagger component with short
 * timings. Either {@link #perTest()} as a JUnit extension that brings its own API server, etcd and
 * temp directory for every test, or built on a server and etcd the caller owns.
 */
public final class OperatorFixture implements BeforeEachCallback, AfterEachCallback, AutoCloseable {

  public static final String CLUSTER = "k8s-shared-cluster";
  public static final int CLUSTER_ID = 2;

  private final boolean ownsServerAndEtcd;
  private final List<OperatorComponent> operators = new ArrayList<>();
  private KubernetesMockServer server;
  private EtcdExtension etcd;
  private Path tempDir;
  private Path kvstoreConfig;
  private Client etcdClient;
  private KubernetesClient client;

  /** A fixture on the caller's server and running etcd; the caller stops them after {@link #close()}. */
  public OperatorFixture(KubernetesMockServer server, EtcdExtension etcd, Path tempDir)
      throws IOException {
    this.ownsServerAndEtcd = false;
    connect(server, etcd, tempDir);
  }

  private OperatorFixture() {
    this.ownsServerAndEtcd = true;
  }

  /**
   * For {@code @RegisterExtension}: before each test a new mock API server (CRUD mode), a new
   * plain etcd and a temp directory; after it, the operators stopped and all of them removed.
   */
  public static OperatorFixture perTest() {
    return new OperatorFixture();
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    EtcdExtension newEtcd = EtcdExtension.plain();
    newEtcd.start();
    // What @EnableKubernetesMockClient(crud = true) builds.
    KubernetesMockServer newServer = new KubernetesMockServer(
        new Context(Serialization.jsonMapper()), new MockWebServer(), new HashMap<>(),
        new KubernetesMixedDispatcher(new HashMap<>()), false);
    newServer.init();
    this.server = newServer;
    this.etcd = newEtcd;
    connect(newServer, newEtcd, Files.createTempDirectory("mwt-operator-"));
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    close();
  }

  private void connect(KubernetesMockServer server, EtcdExtension etcd, Path tempDir)
      throws IOException {
    // Awaited state is read with orElseThrow(): absent yet is not a failure yet.
    org.awaitility.Awaitility.ignoreExceptionsByDefault();
    this.server = server;
    this.etcd = etcd;
    this.tempDir = tempDir;
    this.kvstoreConfig = tempDir.resolve("kvstore.yaml");
    Files.writeString(kvstoreConfig, "endpoints:\n- " + etcd.endpoint() + "\n");
    this.etcdClient = EtcdClients.plain(List.of(URI.create(etcd.endpoint())));
    this.client = server.createClient();
    installCrd(client);
  }

  public static void installCrd(KubernetesClient client) throws IOException {
    try (InputStream yaml =
        OperatorFixture.class.getResourceAsStream("/crds/meshnodes.meshwork.dev.yaml")) {
      CustomResourceDefinition crd =
          client.apiextensions().v1().customResourceDefinitions().load(yaml).item();
      client.apiextensions().v1().customResourceDefinitions().resource(crd).createOr(r -> r.update());
    }
  }

  /** The client the test uses to play kubelet and the controllers. */
  public KubernetesClient kubernetes() {
    return client;
  }

  /** Settings a test operator starts with; {@code extra} flags override them. */
  public OperatorConfig config(String... extra) {
    Map<String, String> flags = new LinkedHashMap<>();
    flags.put("cluster-name", CLUSTER);
    flags.put("cluster-id", Integer.toString(CLUSTER_ID));
    flags.put("kvstore-config", kvstoreConfig.toString());
    flags.put("cluster-pool-ipv4-cidr", "10.2.0.0/16");
    flags.put("cluster-pool-ipv4-mask-size", "24");
    flags.put("metrics-port", "0");
    flags.put("leader-election", "false");
    flags.put("leader-election-namespace", "kube-system");
    flags.put("kvstore-lease-ttl", "5s");
    flags.put("kvstore-data-loss-check-interval", "300ms");
    flags.put("heartbeat-interval", "1s");
    for (String flag : extra) {
      String[] parts = flag.replaceFirst("^--", "").split("=", 2);
      flags.put(parts[0], parts[1]);
    }
    List<String> args = new ArrayList<>();
    flags.forEach((k, v) -> args.add("--" + k + "=" + v));
    ConfigSource source = ConfigSource.of(args.toArray(String[]::new), Map.of());
    OperatorConfig config = OperatorConfig.from(source);
    source.rejectUnknown();
    return config;
  }

  /** Builds and starts an operator with its own API client. */
  public OperatorComponent startOperator(OperatorConfig config) {
    OperatorComponent operator = newOperator(config, server.createClient());
    operator.lifecycle().start();
    return operator;
  }

  /** Another client of the mock API server, for an operator a test cuts off from it. */
  public KubernetesClient newApiClient() {
    return server.createClient();
  }

  public OperatorComponent newOperator(OperatorConfig config, KubernetesClient operatorClient) {
    OperatorComponent operator = DaggerOperatorComponent.factory().create(config, operatorClient);
    operators.add(operator);
    return operator;
  }

  /** The decoded value of a state key of this cluster, if present. */
  public <T extends Message> Optional<T> state(Kind kind, String name) {
    String key = KeyLayout.state().prefix(kind, CLUSTER) + name;
    return get(key).map(bytes -> decode(kind, key, bytes));
  }

  /** All state of one kind, by name below the kind's prefix. */
  public <T extends Message> Map<String, T> states(Kind kind) {
    String prefix = KeyLayout.state().prefix(kind, CLUSTER);
    Map<String, T> all = new LinkedHashMap<>();
    try {
      var response =
          etcdClient
              .getKVClient()
              .get(bytes(prefix), GetOption.builder().isPrefix(true).build())
              .get(10, TimeUnit.SECONDS);
      for (var kv : response.getKvs()) {
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        all.put(key.substring(prefix.length()), decode(kind, key, kv.getValue().getBytes()));
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return all;
  }

  public Optional<byte[]> get(String key) {
    try {
      var response = etcdClient.getKVClient().get(bytes(key)).get(10, TimeUnit.SECONDS);
      return response.getKvs().isEmpty()
          ? Optional.empty()
          : Optional.of(response.getKvs().getFirst().getValue().getBytes());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public EtcdExtension etcd() {
    return etcd;
  }

  @SuppressWarnings("unchecked")
  private static <T extends Message> T decode(Kind kind, String key, byte[] bytes) {
    Decoded<? extends Message> decoded = ((Codec<Message>) kind.codec()).decode(key, bytes);
    if (decoded instanceof Decoded.Value<?> value) {
      return (T) value.value();
    }
    throw new AssertionError("undecodable value at " + key + ": " + decoded);
  }

  private static ByteSequence bytes(String text) {
    return ByteSequence.from(text, StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws IOException {
    for (OperatorComponent operator : operators) {
      operator.lifecycle().stop();
    }
    operators.clear();
    if (client != null) client.close();
    if (etcdClient != null) etcdClient.close();
    if (ownsServerAndEtcd) {
      if (server != null) server.destroy();
      if (etcd != null) etcd.close();
      if (kvstoreConfig != null) Files.deleteIfExists(kvstoreConfig);
      if (tempDir != null) Files.deleteIfExists(tempDir);
    }
  }
}
