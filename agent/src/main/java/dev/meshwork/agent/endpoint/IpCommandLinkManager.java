package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.Ipv4;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A {@link LinkManager} that runs iproute2's {@code ip}. Pod set-up is rare enough that a process
 * per side ({@code ip -batch -}) is cheaper to maintain than netlink code. The pod side is reached
 * with {@code nsenter --net=<CNI_NETNS>}, which works for any namespace path (a bind mount under
 * {@code /run/netns} or {@code /proc/<pid>/ns/net}).
 *
 * <p>{@code nodeCommandPrefix} is prepended to commands meant for the node's namespace: empty in
 * the agent (it runs in the host namespace), {@code nsenter --net=/run/netns/<node>} in tests.
 */
public final class IpCommandLinkManager implements LinkManager {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private final List<String> nodeCommandPrefix;

  public IpCommandLinkManager() {
    this(List.of());
  }

  public IpCommandLinkManager(List<String> nodeCommandPrefix) {
    this.nodeCommandPrefix = List.copyOf(nodeCommandPrefix);
  }

  @Override
  public boolean podInterfaceExists(String netns, String ifname) throws LinkException {
    if (!Files.exists(Path.of(netns))) {
      return false;
    }
    Result r = run(inPod(netns, "ip", "-o", "link", "show", "dev", ifname), null);
    if (r.exit == 0) {
      return true;
    }
    if (r.stderr.contains("does not exist") || r.stderr.contains("Cannot find device")) {
      return false;
    }
    throw r.failure("cannot look up interface " + ifname + " in " + netns);
  }

  @Override
  public void setUp(PodLink link) throws LinkException {
    String ip = Ipv4.format(link.ip());
    String gw = Ipv4.format(link.gateway());
    String mtu = Integer.toString(link.mtu());
    List<String> node = List.of(
        String.join(" ", "link add", link.hostInterface(), "mtu", mtu, "address", link.hostMac(),
            "type veth peer name", link.podInterface(), "mtu", mtu, "address", link.podMac(),
            "netns", link.netns()),
        "link set " + link.hostInterface() + " up",
        "route replace " + ip + "/32 dev " + link.hostInterface() + " scope link");
    Result created = run(inNode("ip", "-batch", "-"), batch(node));
    if (created.exit != 0 && created.stderr.contains("File exists")) {
      // a leftover of an earlier set-up of this attachment (the name is derived from it): replace it
      remove(link.hostInterface());
      created = run(inNode("ip", "-batch", "-"), batch(node));
    }
    created.orThrow("cannot create veth " + link.hostInterface());
    String dev = " dev " + link.podInterface();
    List<String> pod = List.of(
        "addr add " + ip + "/32" + dev,
        "link set" + dev + " up",
        "route replace " + gw + "/32" + dev + " scope link",
        "route replace default via " + gw + dev + " onlink",
        "neigh replace " + gw + " lladdr " + link.hostMac() + dev + " nud permanent");
    run(inPod(link.netns(), "ip", "-batch", "-"), batch(pod))
        .orThrow("cannot configure " + link.podInterface() + " in " + link.netns());
  }

  @Override
  public void remove(String hostInterface) throws LinkException {
    Result r = run(inNode("ip", "link", "del", "dev", hostInterface), null);
    if (r.exit != 0 && !r.stderr.contains("Cannot find device") && !r.stderr.contains("does not exist")) {
      throw r.failure("cannot delete veth " + hostInterface);
    }
  }

  @Override
  public List<String> verify(PodLink link) throws LinkException {
    List<String> problems = new ArrayList<>();
    String ip = Ipv4.format(link.ip());
    String gw = Ipv4.format(link.gateway());
    Result host = run(inNode("ip", "-o", "link", "show", "dev", link.hostInterface()), null);
    if (host.exit != 0) {
      problems.add("host interface " + link.hostInterface() + " is missing");
    } else if (!host.stdout.contains(",UP") && !host.stdout.contains("<UP")) {
      problems.add("host interface " + link.hostInterface() + " is down");
    }
    String hostRoute = run(inNode("ip", "-4", "route", "show", "exact", ip + "/32"), null).orThrow("cannot read routes").stdout;
    if (!hostRoute.contains("dev " + link.hostInterface())) {
      problems.add("node has no route " + ip + "/32 via " + link.hostInterface() + " (found: '" + hostRoute.strip() + "')");
    }
    if (!Files.exists(Path.of(link.netns()))) {
      problems.add("network namespace " + link.netns() + " is gone");
      return problems;
    }
    Result podLink = run(inPod(link.netns(), "ip", "-o", "link", "show", "dev", link.podInterface()), null);
    if (podLink.exit != 0) {
      problems.add("interface " + link.podInterface() + " is missing in " + link.netns());
      return problems;
    }
    if (!podLink.stdout.contains(" mtu " + link.mtu() + " ")) {
      problems.add(link.podInterface() + " does not have MTU " + link.mtu());
    }
    String addresses = run(inPod(link.netns(), "ip", "-o", "-4", "addr", "show", "dev", link.podInterface()), null)
        .orThrow("cannot read addresses of " + link.podInterface()).stdout;
    if (!addresses.contains("inet " + ip + "/32 ")) {
      problems.add(link.podInterface() + " does not carry " + ip + "/32");
    }
    String routes = run(inPod(link.netns(), "ip", "-4", "route", "show", "dev", link.podInterface()), null)
        .orThrow("cannot read routes of " + link.podInterface()).stdout;
    if (!routes.lines().anyMatch(l -> l.startsWith("default via " + gw + " "))) {
      problems.add(link.podInterface() + " has no default route via " + gw);
    }
    if (!routes.lines().anyMatch(l -> l.startsWith(gw + " ") && l.contains("scope link"))) {
      problems.add(link.podInterface() + " has no link route to the gateway " + gw);
    }
    return problems;
  }

  private List<String> inNode(String... command) {
    List<String> all = new ArrayList<>(nodeCommandPrefix);
    all.addAll(List.of(command));
    return all;
  }

  private static List<String> inPod(String netns, String... command) {
    List<String> all = new ArrayList<>(List.of("nsenter", "--net=" + netns));
    all.addAll(List.of(command));
    return all;
  }

  private static String batch(List<String> lines) {
    return String.join("\n", lines) + "\n";
  }

  private record Result(List<String> command, int exit, String stdout, String stderr) {
    Result orThrow(String what) throws LinkException {
      if (exit != 0) {
        throw failure(what);
      }
      return this;
    }

    LinkException failure(String what) {
      return new LinkException(what + ": `" + String.join(" ", command) + "` exited with " + exit + ": " + stderr.strip());
    }
  }

  private static Result run(List<String> command, String stdin) throws LinkException {
    Process process;
    try {
      ProcessBuilder builder = new ProcessBuilder(command);
      if (stdin == null) {
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      }
      process = builder.start();
    } catch (IOException e) {
      throw new LinkException("cannot run `" + String.join(" ", command) + "`: " + e.getMessage(), e);
    }
    CompletableFuture<String> out = read(process.getInputStream());
    CompletableFuture<String> err = read(process.getErrorStream());
    try {
      if (stdin != null) {
        try (OutputStream in = process.getOutputStream()) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new LinkException("`" + String.join(" ", command) + "` (pid " + process.pid() + ") did not finish within " + TIMEOUT);
      }
      return new Result(command, process.exitValue(), out.get(), err.get());
    } catch (IOException | ExecutionException e) {
      throw new LinkException("`" + String.join(" ", command) + "` failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new LinkException("interrupted while running `" + String.join(" ", command) + "`", e);
    }
  }

  private static CompletableFuture<String> read(InputStream stream) {
    return CompletableFuture.supplyAsync(() -> {
      try (stream) {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "";
      }
    }, Thread::startVirtualThread);
  }
}
