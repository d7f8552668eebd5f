package dev.meshwork.bench.operator;

import dev.meshwork.bench.scenario.CpuTime;
import dev.meshwork.bench.scenario.EtcdMetrics;
import dev.meshwork.common.config.ConfigSource;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.operator.DaggerOperatorComponent;
import dev.meshwork.operator.OperatorComponent;
import dev.meshwork.operator.OperatorConfig;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
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
 * <p>Besides wall-clock times it prints what does not depend on the machine's load: the etcd
 * calls by method (each one a client round trip; {@code Txn} includes identity claims and
 * batched writes) and the WAL fsyncs, from etcd's own metrics, and the CPU time of this JVM
 * (operator, mock API server and measuring clients together) and of etcd.
 *
 * <p>Arguments: {@code [changes/s] [seconds] [pods]}. Run: see docs/benchmarks.md, section
 * operator.
 */
public final class OperatorScaleScenario {

  private static final String CLUSTER = "k8s-shared-cluster";
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
    int status = 1;
    try (EtcdExtension etcd = EtcdExtension.plain()) {
      etcd.start();
      Path kvstoreConfig = temp.resolve("kvstore.yaml");
      Files.writeString(kvstoreConfig, "endpoints:\n- " + etcd.endpoint() + "\n");
      try (KubernetesClient kube = server.createClient();
          Client etcdClient = EtcdClients.plain(List.of(URI.create(etcd.endpoint())))) {
        installCrd(kube);
        run(kube, server, etcd, etcdClient, kvstoreConfig, changesPerSecond, seconds);
        status = 0;
      } finally {
        Files.deleteIfExists(kvstoreConfig);
        Files.deleteIfExists(temp);
      }
    } catch (Exception | Error e) {
      e.printStackTrace();
    } finally {
      try {
        server.destroy();
      } catch (RuntimeException e) {
        // A busy mock server may not close within its timeout; the figures are printed already.
        System.err.println("closing the mock API server failed: " + e);
      }
      // The informers' and the mock server's threads would keep the JVM alive.
      System.exit(status);
    }
  }

  private static void run(
      KubernetesClient kube, KubernetesMockServer server, EtcdExtension etcd, Client etcdClient,
      Path kvstoreConfig, int rate, int seconds)
      throws Exception {
    long setup = System.nanoTime();
    populate(kube);
    System.out.flush();
    System.out.printf("setup: %d nodes, %d services, %d pods created in %.1f s%n",
        NODES, SERVICES, PODS, (System.nanoTime() - setup) / 1e9);

    OperatorConfig config = config(kvstoreConfig, "--workers=4", "--kvstore-writes-per-second=100000",
        "--kvstore-lease-ttl=60s", "--kvstore-data-loss-check-interval=10s");
    OperatorComponent operator = DaggerOperatorComponent.factory().create(config, server.createClient());
    String load = CpuTime.loadAverage();
    EtcdMetrics etcd0 = EtcdMetrics.read(etcd.endpoint());
    long jvm0 = CpuTime.jvm();
    long etcdCpu0 = CpuTime.process(etcd.pid());
    long start = System.nanoTime();
    operator.lifecycle().start();
    try {
      var writer = operator.duties().writer();
      CompletableFuture.allOf(
              Arrays.stream(Kind.values()).map(k -> writer.store(k).canaryWritten()).toArray(CompletableFuture[]::new))
          .get(10, TimeUnit.MINUTES);
      double initial = (System.nanoTime() - start) / 1e9;
      EtcdMetrics calls = EtcdMetrics.read(etcd.endpoint()).since(etcd0);
      System.out.printf(Locale.ROOT,
          "initial sync: %.2f s (nodes %d, services %d, identities %d, ipcache %d keys in etcd); load average at start %s%n",
          initial,
          count(etcdClient, Kind.NODES),
          count(etcdClient, Kind.SERVICES),
          count(etcdClient, Kind.IDENTITIES),
          count(etcdClient, Kind.IPCACHE),
          load);
      System.out.printf(Locale.ROOT, "initial sync: %s; CPU: JVM %.1f s, etcd %.1f s%n",
          calls, (CpuTime.jvm() - jvm0) / 1e9, (CpuTime.process(etcd.pid()) - etcdCpu0) / 1e9);

      EtcdMetrics steady0 = EtcdMetrics.read(etcd.endpoint());
      MeterRegistry registry = operator.metrics().registry();
      Snapshot reconcile0 = timer(registry, "meshwork.operator.sync.lag", "controller", "pods");
      Snapshot write0 = timer(registry, "meshwork.kvstore.sync.write.latency", "store", "operator ipcache");
      measureLag(kube, etcd, rate, seconds);
      System.out.printf("steady state: %s%n", EtcdMetrics.read(etcd.endpoint()).since(steady0));
      // Where the lag goes, from the operator's own metrics (cumulative histograms, so they
      // include the initial sync; the counts say how many samples the steady state added).
      printTimer("  operator: informer event -> end of pod reconcile (meshwork_operator_sync_lag)",
          timer(registry, "meshwork.operator.sync.lag", "controller", "pods"), reconcile0);
      printTimer("  operator: ipcache upsert -> etcd acknowledged (meshwork_kvstore_sync_write_latency)",
          timer(registry, "meshwork.kvstore.sync.write.latency", "store", "operator ipcache"), write0);
    } finally {
      operator.lifecycle().stop();
    }
  }

  /** A timer's cumulative histogram: bucket upper bounds (ns) and counts. */
  private record Snapshot(long count, double[] bounds, double[] counts) {}

  private static Snapshot timer(MeterRegistry registry, String name, String tag, String value) {
    Timer timer = registry.find(name).tag(tag, value).timer();
    if (timer == null) {
      return new Snapshot(0, new double[0], new double[0]);
    }
    HistogramSnapshot snapshot = timer.takeSnapshot();
    CountAtBucket[] buckets = snapshot.histogramCounts();
    double[] bounds = new double[buckets.length];
    double[] counts = new double[buckets.length];
    for (int i = 0; i < buckets.length; i++) {
      bounds[i] = buckets[i].bucket();
      counts[i] = buckets[i].count();
    }
    return new Snapshot(snapshot.count(), bounds, counts);
  }

  /**
   * Percentiles of the samples recorded between two snapshots, from the difference of their
   * histogram buckets: each figure is the upper bound of the bucket the percentile falls in.
   */
  private static void printTimer(String what, Snapshot now, Snapshot before) {
    long n = now.count() - before.count();
    StringBuilder out = new StringBuilder();
    for (double q : new double[] {0.5, 0.9, 0.99}) {
      double bound = Double.NaN;
      for (int i = 0; i < now.bounds().length; i++) {
        double cumulative = now.counts()[i] - (i < before.counts().length ? before.counts()[i] : 0);
        if (cumulative >= q * n) {
          bound = now.bounds()[i] / 1e6;
          break;
        }
      }
      out.append(String.format(Locale.ROOT, " p%.0f <= %.1f ms", q * 100, bound));
    }
    System.out.printf(Locale.ROOT, "%s: %d samples;%s%n", what, n, out);
  }

  /** The settings of the scenario's operator: cluster {@value #CLUSTER}, pool 10.2.0.0/16. */
  private static OperatorConfig config(Path kvstoreConfig, String... extra) {
    List<String> args = new ArrayList<>(List.of(
        "--cluster-name=" + CLUSTER, "--cluster-id=2", "--kvstore-config=" + kvstoreConfig,
        "--cluster-pool-ipv4-cidr=10.2.0.0/16", "--cluster-pool-ipv4-mask-size=24", "--metrics-port=0",
        "--leader-election=false", "--heartbeat-interval=1s"));
    args.addAll(List.of(extra));
    ConfigSource source = ConfigSource.of(args.toArray(String[]::new), Map.of());
    OperatorConfig config = OperatorConfig.from(source);
    source.rejectUnknown();
    return config;
  }

  private static void installCrd(KubernetesClient client) throws Exception {
    try (InputStream yaml = OperatorConfig.class.getResourceAsStream("/crds/meshnodes.meshwork.dev.yaml")) {
      CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().load(yaml).item();
      client.apiextensions().v1().customResourceDefinitions().resource(crd).createOr(r -> r.update());
    }
  }

  private static long count(Client etcd, Kind kind) throws Exception {
    String prefix = KeyLayout.state().prefix(kind, CLUSTER);
    return etcd.getKVClient()
        .get(ByteSequence.from(prefix, StandardCharsets.UTF_8), GetOption.builder().isPrefix(true).withCountOnly(true).build())
        .get(30, TimeUnit.SECONDS)
        .getCount();
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

  /**
   * {@code rate} changes/s for {@code seconds}: pod i gets a fresh IP. Lag = API call → etcd
   * watch event of the new ipcache key, so it includes the mock API server's own time, printed
   * beside it; the operator's share is printed from its metrics afterwards.
   */
  private static void measureLag(KubernetesClient kube, EtcdExtension etcd, int rate, int seconds)
      throws Exception {
    int changes = rate * seconds;
    Map<String, Long> sentAt = new ConcurrentHashMap<>();
    List<Long> lags = java.util.Collections.synchronizedList(new ArrayList<>());
    CountDownLatch seen = new CountDownLatch(changes);
    String prefix = KeyLayout.state().prefix(Kind.IPCACHE, CLUSTER);
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
      List<Long> apiCalls = java.util.Collections.synchronizedList(new ArrayList<>());
      java.util.concurrent.atomic.AtomicLong lastSent = new java.util.concurrent.atomic.AtomicLong();
      long periodNanos = 1_000_000_000L / rate;
      long begin = System.nanoTime();
      for (int i = 0; i < changes; i++) {
        int change = i;
        sender.schedule(() -> {
          int pod = change % PODS;
          String ip = "10.201." + (change / 250) % 250 + "." + (change % 250 + 1);
          long sent = System.nanoTime();
          sentAt.put(ip, sent);
          try {
            kube.pods().inNamespace("bench").resource(pod(pod, ip)).update();
            apiCalls.add(System.nanoTime() - sent);
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
      List<Long> api = new ArrayList<>(apiCalls);
      api.sort(null);
      System.out.printf(Locale.ROOT,
          "  mock API server: pod update call p50 %.1f ms, p99 %.1f ms, max %.1f ms (inside the lag, not the operator)%n",
          percentile(api, 0.50), percentile(api, 0.99), percentile(api, 1.0));
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
