package dev.meshwork.bench.operator;

import dev.meshwork.bench.scenario.CpuTime;
import dev.meshwork.bench.scenario.EtcdMetrics;
import dev.meshwork.common.config.ConfigSource;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.operator.ActiveOperator;
import dev.meshwork.operator.DaggerOperatorComponent;
import dev.meshwork.operator.OperatorComponent;
import dev.meshwork.operator.OperatorConfig;
import dev.meshwork.operator.controller.Controller;
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
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
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
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Scenario benchmark of issue 3 (not a test: it asserts nothing, it prints figures for
 * docs/benchmarks.md). One cluster: the fabric8 mock API server (CRUD mode) in a process of its
 * own ({@link MockApiServerMain}, so that its CPU time is told apart from the operator's, as
 * with a real kube-apiserver), a real etcd, and the production operator component in this JVM.
 *
 * <ol>
 *   <li>initial sync: 100 nodes, 1,000 global services (each with an EndpointSlice of 10
 *       backends) and 10,000 pods (one label set per service, so 1,000 identities) exist before
 *       the operator starts; measured from {@code lifecycle.start()} to the last synced canary,
 *       with a timeline of its phases (each informer synced, identities claimed in bulk, each
 *       controller's initial sync, each canary), the CPU time of the operator's JVM by thread
 *       group, of the mock API server and of etcd, and the time of a bare list of the same pods
 *       from the same server;
 *   <li>steady state: 100 pod changes per second (a pod gets a new IP, as when it is recreated),
 *       timed in three stages per change: (a) API write → the operator's pod informer delivers
 *       the event (the mock API server and fabric8's watch), (b) that event → the etcd watch
 *       event of the new ipcache key (the operator's lag: queue, reconcile, SyncStore write,
 *       etcd commit), (c) end to end.
 * </ol>
 *
 * <p>Besides wall-clock times it prints what does not depend on the machine's load: the etcd
 * calls by method (each one a client round trip; {@code Txn} includes identity claims and
 * batched writes) and the WAL fsyncs, from etcd's own metrics, and CPU times.
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
    Path temp = Files.createTempDirectory("mwt-operator-scale");
    Path kvstoreConfig = temp.resolve("kvstore.yaml");
    int status = 1;
    try (EtcdExtension etcd = EtcdExtension.plain();
        MockApiServer api = MockApiServer.start()) {
      etcd.start();
      Files.writeString(kvstoreConfig, "endpoints:\n- " + etcd.endpoint() + "\n");
      try (KubernetesClient kube = api.client();
          Client etcdClient = EtcdClients.plain(List.of(URI.create(etcd.endpoint())))) {
        installCrd(kube);
        run(kube, api, etcd, etcdClient, kvstoreConfig, changesPerSecond, seconds);
        status = 0;
      }
    } catch (Exception | Error e) {
      e.printStackTrace();
    } finally {
      Files.deleteIfExists(kvstoreConfig);
      Files.deleteIfExists(temp);
      // The informers' threads would keep the JVM alive.
      System.exit(status);
    }
  }

  /** {@link MockApiServerMain} in a child JVM, ended by closing its stdin (or by its pid). */
  private record MockApiServer(Process process, java.io.BufferedReader out, String url) implements AutoCloseable {

    static MockApiServer start() throws Exception {
      Path java = Path.of(System.getProperty("java.home"), "bin", "java");
      List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx2g"));
      String logConfig = System.getProperty("logback.configurationFile");
      if (logConfig != null) {
        command.add("-Dlogback.configurationFile=" + logConfig);
      }
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), MockApiServerMain.class.getName()));
      Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      var out = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      while (line != null && !line.startsWith(MockApiServerMain.READY)) {
        System.out.println(line); // logging set-up messages
        line = out.readLine();
      }
      if (line == null) {
        process.destroyForcibly();
        throw new IllegalStateException("the mock API server did not start: " + line);
      }
      return new MockApiServer(process, out, "http://127.0.0.1:" + line.substring(MockApiServerMain.READY.length()).trim());
    }

    /** The requests served since the last call, by method and resource. */
    String requests() throws java.io.IOException {
      process.getOutputStream().write((MockApiServerMain.COUNT + "\n").getBytes(StandardCharsets.UTF_8));
      process.getOutputStream().flush();
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.startsWith(MockApiServerMain.REQUESTS)) {
          return line.substring(MockApiServerMain.REQUESTS.length());
        }
        System.out.println(line);
      }
      throw new IllegalStateException("the mock API server exited");
    }

    int pid() {
      return (int) process.pid();
    }

    /** A client of its own, as every component gets one. */
    KubernetesClient client() {
      return new KubernetesClientBuilder()
          .withConfig(new ConfigBuilder(Config.empty())
              .withMasterUrl(url).withTrustCerts(true).withNamespace("test").withHttp2Disable(true).build())
          .build();
    }

    @Override
    public void close() throws Exception {
      process.getOutputStream().close();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  private static void run(
      KubernetesClient kube, MockApiServer api, EtcdExtension etcd, Client etcdClient,
      Path kvstoreConfig, int rate, int seconds)
      throws Exception {
    long setup = System.nanoTime();
    populate(kube);
    System.out.flush();
    System.out.printf("setup: %d nodes, %d services, %d pods created in %.1f s%n",
        NODES, SERVICES, PODS, (System.nanoTime() - setup) / 1e9);
    api.requests(); // not the operator's

    OperatorConfig config = config(kvstoreConfig, "--workers=4", "--kvstore-writes-per-second=100000",
        "--kvstore-lease-ttl=60s", "--kvstore-data-loss-check-interval=10s");
    OperatorComponent operator = DaggerOperatorComponent.factory().create(config, api.client());
    ActiveOperator active = operator.duties().active();
    var writer = operator.duties().writer();
    String load = CpuTime.loadAverage();
    EtcdMetrics etcd0 = EtcdMetrics.read(etcd.endpoint());
    ThreadCpu threads0 = ThreadCpu.now();
    long jvm0 = CpuTime.jvm();
    long api0 = CpuTime.process(api.pid());
    long etcdCpu0 = CpuTime.process(etcd.pid());
    Timeline timeline = new Timeline(System.nanoTime());
    for (Controller controller : active.controllers()) {
      controller.initialSync().thenRun(() -> timeline.mark("controller " + controller.name() + ": every key reconciled once"));
    }
    for (Kind kind : Kind.values()) {
      writer.store(kind).canaryWritten().thenRun(() -> timeline.mark("synced canary " + kind.segment() + " written"));
    }
    Thread watcher = Thread.ofPlatform().daemon().name("bench-timeline").start(() -> watchPhases(active, timeline));
    operator.lifecycle().start();
    try {
      timeline.mark("lifecycle.start() returned (pod workers running)");
      CompletableFuture.allOf(
              Arrays.stream(Kind.values()).map(k -> writer.store(k).canaryWritten()).toArray(CompletableFuture[]::new))
          .get(10, TimeUnit.MINUTES);
      double initial = (System.nanoTime() - timeline.start) / 1e9;
      long jvmCpu = CpuTime.jvm() - jvm0;
      long apiCpu = CpuTime.process(api.pid()) - api0;
      long etcdCpu = CpuTime.process(etcd.pid()) - etcdCpu0;
      ThreadCpu threads = ThreadCpu.now();
      watcher.interrupt();
      EtcdMetrics calls = EtcdMetrics.read(etcd.endpoint()).since(etcd0);
      System.out.printf(Locale.ROOT,
          "initial sync: %.2f s (nodes %d, services %d, identities %d, ipcache %d keys in etcd); load average at start %s, at end %s%n",
          initial,
          count(etcdClient, Kind.NODES),
          count(etcdClient, Kind.SERVICES),
          count(etcdClient, Kind.IDENTITIES),
          count(etcdClient, Kind.IPCACHE),
          load, CpuTime.loadAverage());
      timeline.print();
      System.out.printf(Locale.ROOT,
          "initial sync: %s; CPU: operator JVM %.2f s, mock API server %.2f s, etcd %.2f s (%.1f s of 2 cores' %.1f s)%n",
          calls, jvmCpu / 1e9, apiCpu / 1e9, etcdCpu / 1e9, (jvmCpu + apiCpu + etcdCpu) / 1e9, 2 * initial);
      threads.printSince(threads0, jvmCpu);
      System.out.println("initial sync: mock API server requests " + api.requests());
      bareLists(kube, api);
      api.requests();

      EtcdMetrics steady0 = EtcdMetrics.read(etcd.endpoint());
      MeterRegistry registry = operator.metrics().registry();
      Snapshot reconcile0 = timer(registry, "meshwork.operator.sync.lag", "controller", "pods");
      Snapshot write0 = timer(registry, "meshwork.kvstore.sync.write.latency", "store", "operator ipcache");
      Map<Double, Long> fsync0 = walFsyncBuckets(etcd.endpoint());
      long steadyJvm0 = CpuTime.jvm();
      long steadyApi0 = CpuTime.process(api.pid());
      long steadyEtcd0 = CpuTime.process(etcd.pid());
      SharedIndexInformer<?> podInformer = active.informers().stream()
          .filter(i -> i.getApiTypeClass() == Pod.class).findFirst().orElseThrow();
      measureLag(kube, podInformer, etcd, rate, seconds);
      System.out.println("steady state: mock API server requests " + api.requests());
      printWalFsyncs(fsync0, walFsyncBuckets(etcd.endpoint()));
      System.out.printf(Locale.ROOT, "steady state: %s; CPU: this JVM %.2f s, mock API server %.2f s, etcd %.2f s%n",
          EtcdMetrics.read(etcd.endpoint()).since(steady0), (CpuTime.jvm() - steadyJvm0) / 1e9,
          (CpuTime.process(api.pid()) - steadyApi0) / 1e9, (CpuTime.process(etcd.pid()) - steadyEtcd0) / 1e9);
      // The operator's own metrics: cumulative histograms, so they include the initial sync; the
      // counts say how many samples the steady state added.
      printTimer("  operator metric: informer event -> end of pod reconcile (meshwork_operator_sync_lag)",
          timer(registry, "meshwork.operator.sync.lag", "controller", "pods"), reconcile0);
      printTimer("  operator metric: ipcache upsert -> etcd acknowledged (meshwork_kvstore_sync_write_latency)",
          timer(registry, "meshwork.kvstore.sync.write.latency", "store", "operator ipcache"), write0);
    } finally {
      operator.lifecycle().stop();
    }
  }

  /** Phases of the initial sync, as seen from outside the operator: times since start. */
  private static final class Timeline {
    final long start;
    private final List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());

    Timeline(long start) {
      this.start = start;
    }

    void mark(String what) {
      events.add(String.format(Locale.ROOT, "%8.2f s  %s", (System.nanoTime() - start) / 1e9, what));
    }

    void print() {
      System.out.println("initial sync timeline (seconds after lifecycle.start()):");
      List<String> sorted = new ArrayList<>(events);
      sorted.sort(null);
      sorted.forEach(e -> System.out.println("  " + e));
    }
  }

  /**
   * Polls what has no callback: when each informer has synced (listed) and when the identities
   * of the listed pods have been claimed in bulk (before the pod workers start).
   */
  private static void watchPhases(ActiveOperator active, Timeline timeline) {
    Set<SharedIndexInformer<?>> pending = new HashSet<>(active.informers());
    boolean claimed = false;
    while (!Thread.currentThread().isInterrupted() && (!pending.isEmpty() || !claimed)) {
      for (var it = pending.iterator(); it.hasNext(); ) {
        SharedIndexInformer<?> informer = it.next();
        if (informer.hasSynced()) {
          it.remove();
          timeline.mark("informer " + informer.getApiTypeClass().getSimpleName() + " synced ("
              + informer.getIndexer().list().size() + " objects listed)");
        }
      }
      if (!claimed && active.identities().size() >= SERVICES) {
        claimed = true;
        timeline.mark(active.identities().size() + " identities claimed");
      }
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** CPU time of each live thread of this JVM, to split the operator's CPU by thread group. */
  private record ThreadCpu(Map<Long, String> names, Map<Long, Long> cpu) {
    static ThreadCpu now() {
      var mx = java.lang.management.ManagementFactory.getThreadMXBean();
      Map<Long, String> names = new HashMap<>();
      Map<Long, Long> cpu = new HashMap<>();
      for (var info : mx.getThreadInfo(mx.getAllThreadIds())) {
        if (info != null) {
          long time = mx.getThreadCpuTime(info.getThreadId());
          if (time >= 0) {
            names.put(info.getThreadId(), info.getThreadName());
            cpu.put(info.getThreadId(), time);
          }
        }
      }
      return new ThreadCpu(names, cpu);
    }

    /** CPU since {@code before} by thread group (name without numbers), largest first. */
    void printSince(ThreadCpu before, long processCpu) {
      Map<String, Long> groups = new HashMap<>();
      Map<String, String> example = new HashMap<>();
      long threads = 0;
      for (var e : cpu.entrySet()) {
        long delta = e.getValue() - before.cpu().getOrDefault(e.getKey(), 0L);
        String name = names.get(e.getKey());
        String group = name.replaceAll("\\d+", "N");
        groups.merge(group, delta, Long::sum);
        example.putIfAbsent(group, name);
        threads += delta;
      }
      groups.put("(JVM itself: GC, JIT compiler; and threads that ended)", processCpu - threads);
      StringBuilder out = new StringBuilder("  operator JVM CPU by thread group:");
      groups.entrySet().stream()
          .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
          .filter(e -> e.getValue() >= 20_000_000L)
          .forEach(e -> out.append(String.format(Locale.ROOT, "%n    %6.2f s  %s", e.getValue() / 1e9,
              example.containsKey(e.getKey()) ? e.getKey() + " (e.g. " + example.get(e.getKey()) + ")" : e.getKey())));
      System.out.println(out);
      long gcMillis = 0;
      long gcCount = 0;
      for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
        gcMillis += Math.max(0, gc.getCollectionTime());
        gcCount += Math.max(0, gc.getCollectionCount());
      }
      System.out.printf(Locale.ROOT,
          "    JVM since its start (setup included): %d GC collections, %.2f s of pauses%n", gcCount, gcMillis / 1e3);
    }
  }

  /**
   * The mock API server's own part of a list, after the sync (both sides warm): a raw GET of
   * every pod (server and transfer, no decoding) and a typed list (plus fabric8's decoding).
   */
  private static void bareLists(KubernetesClient kube, MockApiServer api) {
    int gets = 100;
    long getApi0 = CpuTime.process(api.pid());
    long getT0 = System.nanoTime();
    for (int i = 0; i < gets; i++) {
      kube.nodes().withName("node-" + (i % NODES)).get();
    }
    System.out.printf(Locale.ROOT,
        "single requests to the same server: %d sequential GETs of one Node, %.1f ms each (mock API server CPU %.1f ms each)"
            + " with %d objects stored%n",
        gets, (System.nanoTime() - getT0) / 1e6 / gets, (CpuTime.process(api.pid()) - getApi0) / 1e6 / gets,
        NODES * 2 + SERVICES * 2 + PODS);
    for (int i = 0; i < 2; i++) {
      long api0 = CpuTime.process(api.pid());
      long jvm0 = CpuTime.jvm();
      long t0 = System.nanoTime();
      int bytes = kube.raw("/api/v1/pods").length();
      long t1 = System.nanoTime();
      long api1 = CpuTime.process(api.pid());
      long jvm1 = CpuTime.jvm();
      int items = kube.pods().inAnyNamespace().list().getItems().size();
      long t2 = System.nanoTime();
      System.out.printf(Locale.ROOT,
          "bare list of the same pods from the same server (warm): raw GET %.2f s (%d chars; mock API server CPU %.2f s,"
              + " this JVM %.2f s); typed list %.2f s (%d pods; mock API server CPU %.2f s, this JVM %.2f s); load %s%n",
          (t1 - t0) / 1e9, bytes, (api1 - api0) / 1e9, (jvm1 - jvm0) / 1e9,
          (t2 - t1) / 1e9, items, (CpuTime.process(api.pid()) - api1) / 1e9, (CpuTime.jvm() - jvm1) / 1e9,
          CpuTime.loadAverage());
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
   * {@code rate} changes/s for {@code seconds}: pod i gets a fresh IP. Each change is timed at
   * the API call, when the operator's own pod informer delivers its event (a handler of the
   * scenario's on that informer: fabric8 calls the handlers of an informer one after the other,
   * the operator's first), and when the etcd watch event of the new ipcache key arrives (a watch
   * of the scenario's, so (b) ends at most one watch delivery after etcd acknowledged the write).
   */
  private static void measureLag(
      KubernetesClient kube, SharedIndexInformer<?> podInformer, EtcdExtension etcd, int rate, int seconds)
      throws Exception {
    int changes = rate * seconds;
    Map<String, Long> sentAt = new ConcurrentHashMap<>();
    Map<String, Long> informedAt = new ConcurrentHashMap<>();
    List<long[]> stages = java.util.Collections.synchronizedList(new ArrayList<>()); // {a, b, c}
    java.util.concurrent.atomic.AtomicInteger unseenByInformer = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger updates = new java.util.concurrent.atomic.AtomicInteger();
    CountDownLatch seen = new CountDownLatch(changes);
    String prefix = KeyLayout.state().prefix(Kind.IPCACHE, CLUSTER);
    @SuppressWarnings("unchecked")
    SharedIndexInformer<Pod> pods = (SharedIndexInformer<Pod>) podInformer;
    ResourceEventHandler<Pod> handler = new ResourceEventHandler<>() {
      @Override
      public void onAdd(Pod pod) {}

      @Override
      public void onUpdate(Pod oldPod, Pod newPod) {
        long now = System.nanoTime();
        updates.incrementAndGet();
        String ip = newPod.getStatus() == null ? null : newPod.getStatus().getPodIP();
        if (ip != null && sentAt.containsKey(ip)) {
          informedAt.putIfAbsent(ip, now);
        }
      }

      @Override
      public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {}
    };
    pods.addEventHandler(handler);
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
                  Long informed = informedAt.remove(ip);
                  if (informed == null) {
                    unseenByInformer.incrementAndGet();
                  } else {
                    stages.add(new long[] {informed - sent, now - informed, now - sent});
                  }
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
            // A merge patch of the status only (fabric8 still reads the pod first: two requests
            // per change, as the mock server's request counts show).
            kube.pods().inNamespace("bench").withName("pod-" + pod).patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"status\":{\"podIP\":\"" + ip + "\",\"podIPs\":[{\"ip\":\"" + ip + "\"}]}}");
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
      System.out.printf(Locale.ROOT,
          "steady state: %d pod changes scheduled at %d/s, API accepted them in %.1f s (%.0f/s), %d failed,"
              + " %d timed through all stages within %.1f s%s (%d reached etcd before the scenario's handler saw them)%n",
          changes, rate, sending, (changes - failed.get()) / sending, failed.get(), stages.size(), elapsed,
          all ? "" : " (INCOMPLETE)", unseenByInformer.get());
      System.out.printf("  the operator's pod informer: watching %s, %d updates delivered%n", pods.isWatching(), updates.get());
      List<long[]> all3 = new ArrayList<>(stages);
      printStage("  (a) API write -> operator's informer delivers the event (mock API server + fabric8 watch)", all3, 0);
      printStage("  (b) operator's informer event -> etcd watch event of the ipcache key (the operator's lag)", all3, 1);
      printStage("  (c) end to end: API write -> etcd watch event", all3, 2);
      List<Long> api = new ArrayList<>(apiCalls);
      api.sort(null);
      System.out.printf(Locale.ROOT,
          "  mock API server: pod patch call (GET + PATCH) p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
          percentile(api, 0.50), percentile(api, 0.99), percentile(api, 1.0));
    } finally {
      pods.removeEventHandler(handler);
    }
  }

  /** etcd's WAL fsync histogram: cumulative count by bucket upper bound (s). */
  private static Map<Double, Long> walFsyncBuckets(String endpoint) throws Exception {
    Map<Double, Long> buckets = new java.util.TreeMap<>();
    try (var http = java.net.http.HttpClient.newHttpClient()) {
      String text = http.send(java.net.http.HttpRequest.newBuilder(URI.create(endpoint + "/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      var bucket = java.util.regex.Pattern.compile(
          "(?m)^etcd_disk_wal_fsync_duration_seconds_bucket\\{le=\"([^\"]+)\"} (\\S+)$").matcher(text);
      while (bucket.find()) {
        double bound = bucket.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bucket.group(1));
        buckets.put(bound, (long) Double.parseDouble(bucket.group(2)));
      }
    }
    return buckets;
  }

  /** The floor under stage (b): etcd's own WAL fsyncs in the steady state (bucket upper bounds). */
  private static void printWalFsyncs(Map<Double, Long> before, Map<Double, Long> after) {
    long total = after.getOrDefault(Double.POSITIVE_INFINITY, 0L) - before.getOrDefault(Double.POSITIVE_INFINITY, 0L);
    StringBuilder out = new StringBuilder();
    for (double q : new double[] {0.5, 0.9, 0.99}) {
      for (var e : after.entrySet()) {
        if (e.getValue() - before.getOrDefault(e.getKey(), 0L) >= q * total) {
          out.append(String.format(Locale.ROOT, " p%.0f <= %.0f ms", q * 100, e.getKey() * 1e3));
          break;
        }
      }
    }
    System.out.printf(Locale.ROOT, "  etcd WAL fsync (etcd_disk_wal_fsync_duration_seconds): %d fsyncs;%s%n", total, out);
  }

  private static void printStage(String what, List<long[]> samples, int stage) {
    List<Long> sorted = new ArrayList<>();
    samples.forEach(s -> sorted.add(s[stage]));
    sorted.sort(null);
    System.out.printf(Locale.ROOT, "%s: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms%n",
        what, percentile(sorted, 0.50), percentile(sorted, 0.90), percentile(sorted, 0.99), percentile(sorted, 1.0));
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
