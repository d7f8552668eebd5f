package dev.meshwork.operator.scale;

import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.operator.OperatorComponent;
import dev.meshwork.operator.OperatorFixture;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Scenario benchmark of issue 3 (not a test: it asserts nothing, it prints figures for
 * docs/benchmarks.md). One cluster on the fabric8 mock API (CRUD mode) and a real etcd:
 *
 * <ol>
 *   <li>initial sync: 100 nodes, 1,000 global services (each with an EndpointSlice of 10
 *       backends) and 10,000 pods (one label set per service, so 1,000 identities) exist before
 *       the operator starts; measured from {@code lifecycle.start()} to the last synced canary;
 *   <li>steady state: 100 pod changes per second (a pod gets a new IP, as when it is recreated);
 *       the lag is from the API call to the etcd watch event of the new ipcache key.
 * </ol>
 *
 * <p>Run: see docs/benchmarks.md, section operator.
 */
public final class OperatorScaleScenario {

  private static final int NODES = 100;
  private static int SERVICES = 1_000;
  private static int PODS = 10_000;

  public static void main(String[] args) throws Exception {
    int changesPerSecond = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    if (args.length > 2) {
      PODS = Integer.parseInt(args[2]);
      SERVICES = PODS / 10;
    }
    // The mock server logs every request through java.util.logging.
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver.MockWebServer").setLevel(java.util.logging.Level.WARNING);
    Path temp = Files.createTempDirectory("mwt-operator-scale");
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(List.of()), false);
    server.init();
    try (EtcdExtension etcd = EtcdExtension.plain()) {
      etcd.start();
      try (OperatorFixture cluster = new OperatorFixture(server, etcd, temp)) {
        run(cluster, server, etcd, changesPerSecond, seconds);
      }
    } finally {
      server.destroy();
    }
    System.exit(0);
  }

  private static void run(
      OperatorFixture cluster, KubernetesMockServer server, EtcdExtension etcd, int rate, int seconds)
      throws Exception {
    KubernetesClient kube = cluster.kubernetes();
    long setup = System.nanoTime();
    populate(kube);
    System.out.flush();
    System.out.printf("setup: %d nodes, %d services, %d pods created in %.1f s%n",
        NODES, SERVICES, PODS, (System.nanoTime() - setup) / 1e9);

    OperatorComponent operator =
        cluster.newOperator(cluster.config("--workers=4", "--kvstore-writes-per-second=100000",
            "--kvstore-lease-ttl=60s", "--kvstore-data-loss-check-interval=10s"),
            server.createClient());
    long start = System.nanoTime();
    operator.lifecycle().start();
    var writer = operator.duties().writer();
    CompletableFuture.allOf(
            Arrays.stream(Kind.values()).map(k -> writer.store(k).canaryWritten()).toArray(CompletableFuture[]::new))
        .get(10, TimeUnit.MINUTES);
    double initial = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        "initial sync: %.2f s (nodes %d, services %d, identities %d, ipcache %d keys in etcd)%n",
        initial,
        cluster.states(Kind.NODES).size(),
        cluster.states(Kind.SERVICES).size(),
        cluster.states(Kind.IDENTITIES).size(),
        cluster.states(Kind.IPCACHE).size());

    measureLag(kube, etcd, rate, seconds);
  }

  private static void populate(KubernetesClient kube) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (int n = 0; n < NODES; n++) {
      int node = n;
      all.add(CompletableFuture.runAsync(() -> kube.nodes().resource(new NodeBuilder()
          .withNewMetadata().withName("node-" + node).endMetadata()
          .withNewStatus().addNewAddress().withType("InternalIP").withAddress(nodeIp(node)).endAddress().endStatus()
          .build()).create(), pool));
    }
    for (int s = 0; s < SERVICES; s++) {
      int svc = s;
      all.add(CompletableFuture.runAsync(() -> {
        String name = "svc-" + svc;
        kube.services().inNamespace("bench").resource(new ServiceBuilder()
            .withNewMetadata().withName(name).withNamespace("bench")
            .addToAnnotations("service.cilium.io/global", "true").endMetadata()
            .withNewSpec().withClusterIP("10.100." + (svc / 250) + "." + (svc % 250 + 1))
            .addNewPort().withName("http").withPort(80).withProtocol("TCP").endPort().endSpec()
            .build()).create();
        var slice = new EndpointSliceBuilder()
            .withNewMetadata().withName(name + "-abcde").withNamespace("bench")
            .addToLabels("kubernetes.io/service-name", name).endMetadata()
            .withAddressType("IPv4")
            .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort();
        for (int b = 0; b < PODS / SERVICES; b++) {
          int pod = svc * (PODS / SERVICES) + b;
          slice.addToEndpoints(new EndpointBuilder().withAddresses(podIp(pod))
              .withNewConditions().withReady(true).withServing(true).withTerminating(false).endConditions()
              .withNodeName("node-" + (pod % NODES)).withZone("zone-" + (pod % 3)).build());
        }
        kube.discovery().v1().endpointSlices().inNamespace("bench").resource(slice.build()).create();
      }, pool));
    }
    for (int p = 0; p < PODS; p++) {
      int pod = p;
      all.add(CompletableFuture.runAsync(() -> kube.pods().inNamespace("bench").resource(
          pod(pod, podIp(pod))).create(), pool));
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.MINUTES);
    pool.shutdown();
  }

  /** 100 changes/s for {@code seconds}: pod i gets a fresh IP; lag = API call → etcd event. */
  private static void measureLag(KubernetesClient kube, EtcdExtension etcd, int rate, int seconds)
      throws Exception {
    int changes = rate * seconds;
    Map<String, Long> sentAt = new ConcurrentHashMap<>();
    List<Long> lags = java.util.Collections.synchronizedList(new ArrayList<>());
    CountDownLatch seen = new CountDownLatch(changes);
    String prefix = KeyLayout.state().prefix(Kind.IPCACHE, OperatorFixture.CLUSTER);
    try (Client etcdClient = EtcdClients.plain(List.of(URI.create(etcd.endpoint())));
        var watch = etcdClient.getWatchClient().watch(
            ByteSequence.from(prefix, StandardCharsets.UTF_8),
            WatchOption.builder().isPrefix(true).build(),
            response -> {
              long now = System.nanoTime();
              for (WatchEvent event : response.getEvents()) {
                if (event.getEventType() != WatchEvent.EventType.PUT) {
                  continue;
                }
                String ip = event.getKeyValue().getKey().toString(StandardCharsets.UTF_8).substring(prefix.length());
                Long sent = sentAt.remove(ip);
                if (sent != null) {
                  lags.add(now - sent);
                  seen.countDown();
                }
              }
            })) {
      var sender = Executors.newScheduledThreadPool(32);
      java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.atomic.AtomicLong lastSent = new java.util.concurrent.atomic.AtomicLong();
      long periodNanos = 1_000_000_000L / rate;
      long begin = System.nanoTime();
      for (int i = 0; i < changes; i++) {
        int change = i;
        sender.schedule(() -> {
          int pod = change % PODS;
          String ip = "10.201." + (change / 250) % 250 + "." + (change % 250 + 1);
          sentAt.put(ip, System.nanoTime());
          try {
            kube.pods().inNamespace("bench").resource(pod(pod, ip)).update();
            lastSent.accumulateAndGet(System.nanoTime(), Math::max);
          } catch (RuntimeException e) {
            sentAt.remove(ip);
            failed.incrementAndGet();
            seen.countDown();
          }
        }, i * periodNanos, TimeUnit.NANOSECONDS);
      }
      boolean all = seen.await(seconds + 60L, TimeUnit.SECONDS);
      double elapsed = (System.nanoTime() - begin) / 1e9;
      double sending = (lastSent.get() - begin) / 1e9;
      sender.shutdownNow();
      List<Long> sorted = new ArrayList<>(lags);
      sorted.sort(null);
      System.out.printf(
          "steady state: %d pod changes scheduled at %d/s, API accepted them in %.1f s (%.0f/s), %d failed,"
              + " %d seen in etcd within %.1f s%s; lag p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
          changes, rate, sending, (changes - failed.get()) / sending, failed.get(), sorted.size(), elapsed,
          all ? "" : " (INCOMPLETE)",
          percentile(sorted, 0.50), percentile(sorted, 0.99), percentile(sorted, 1.0));
    }
  }

  private static double percentile(List<Long> sorted, double q) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int index = (int) Math.min(sorted.size() - 1, Math.ceil(q * sorted.size()) - 1);
    return sorted.get(Math.max(0, index)) / 1e6;
  }

  private static Pod pod(int pod, String ip) {
    int svc = pod / (PODS / SERVICES);
    return new PodBuilder()
        .withNewMetadata().withName("pod-" + pod).withNamespace("bench")
        .addToLabels("app", "svc-" + svc).addToLabels("pod-template-hash", "6b7c8d9f5").endMetadata()
        .withNewSpec().withNodeName("node-" + (pod % NODES)).endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).addNewPodIP().withIp(ip).endPodIP()
        .withHostIP(nodeIp(pod % NODES)).endStatus()
        .build();
  }

  private static String podIp(int pod) {
    return "10.2." + (pod / 250) + "." + (pod % 250 + 1);
  }

  private static String nodeIp(int node) {
    return "198.18.0." + (node + 1);
  }
}
