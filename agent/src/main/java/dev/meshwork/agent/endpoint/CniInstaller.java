package dev.meshwork.agent.endpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.ObjectMapper;

/**
 * Installs the CNI plugin on a node (the chart's init container runs it): the plugin's jar and AOT
 * cache into {@code cniHome}, the launcher into the runtime's CNI bin directory with
 * {@code cniHome} baked in, and {@code 05-meshwork.conflist} into the network configuration
 * directory (docs/cni.md). Every file is written to a temporary file in its target directory and
 * renamed over the old one, so a runtime never executes or reads a half-written file; running it
 * again replaces everything with the same content.
 */
public final class CniInstaller {
  private static final Logger log = LoggerFactory.getLogger(CniInstaller.class);
  public static final String CONFLIST = "05-meshwork.conflist";
  public static final String PLUGIN = "meshwork-cni";
  private static final Pattern BAKED_HOME = Pattern.compile("(?m)^baked_home=.*$");
  private static final Pattern PLUGIN_JAR = Pattern.compile("meshwork-cni-plugin-.*\\.jar");
  private static final Set<String> LOG_LEVELS = Set.of("error", "warn", "info", "debug");

  /**
   * @param launcher the launcher script to install ({@code bin/meshwork-cni})
   * @param pluginFiles the directory with {@code meshwork-cni-plugin-<version>.jar} and
   *     {@code meshwork-cni.aot} (cni-plugin/target or the image's copy), or null to leave
   *     {@code cniHome} as it is
   * @param cniHome where the plugin's files live on the node ({@code /opt/meshwork/cni})
   * @param cniBinDir the runtime's plugin directory ({@code /opt/cni/bin})
   * @param netConfDir the runtime's network configuration directory ({@code /etc/cni/net.d})
   * @param logFile the plugin's log file, or null for none
   * @param nodeCniHome {@code cniHome} as the node sees it, baked into the launcher (an init
   *     container sees the node's {@code /opt} as e.g. {@code /host/opt}); null: {@code cniHome}
   */
  public record Settings(Path launcher, Path pluginFiles, Path cniHome, Path cniBinDir, Path netConfDir,
      Path agentSocket, int mtu, Path logFile, String logLevel, Path nodeCniHome) {
    public Settings {
      Objects.requireNonNull(cniHome, "cniHome");
      if (nodeCniHome == null) {
        nodeCniHome = cniHome;
      }
      if (!nodeCniHome.isAbsolute()) {
        throw new IllegalArgumentException("CNI install: node plugin home " + nodeCniHome + " must be an absolute path");
      }
      Objects.requireNonNull(launcher, "launcher");
      Objects.requireNonNull(cniBinDir, "cniBinDir");
      Objects.requireNonNull(netConfDir, "netConfDir");
      Objects.requireNonNull(agentSocket, "agentSocket");
      Objects.requireNonNull(logLevel, "logLevel");
      if (!agentSocket.isAbsolute()) {
        throw new IllegalArgumentException("CNI install: agent socket " + agentSocket + " must be an absolute path");
      }
      if (logFile != null && !logFile.isAbsolute()) {
        throw new IllegalArgumentException("CNI install: log file " + logFile + " must be an absolute path");
      }
      if (mtu < 68 || mtu > 65535) {
        throw new IllegalArgumentException("CNI install: mtu " + mtu + " is outside 68..65535");
      }
      if (!LOG_LEVELS.contains(logLevel)) {
        throw new IllegalArgumentException("CNI install: log level '" + logLevel + "' is not one of " + LOG_LEVELS);
      }
    }
  }

  private final Settings settings;

  public CniInstaller(Settings settings) {
    this.settings = settings;
  }

  /** Installs everything; returns the files written. */
  public List<Path> install() throws IOException {
    List<Path> written = new ArrayList<>();
    if (settings.pluginFiles() != null) {
      written.addAll(installPluginFiles());
    }
    written.add(installLauncher());
    Path conflist = settings.netConfDir().resolve(CONFLIST);
    writeAtomically(conflist, conflist().getBytes(StandardCharsets.UTF_8), "rw-r--r--");
    written.add(conflist);
    log.info("installed the meshwork CNI plugin: {}", written);
    return written;
  }

  /** The network configuration list, as docs/cni.md describes it. */
  public String conflist() {
    Map<String, Object> plugin = new LinkedHashMap<>();
    plugin.put("type", PLUGIN);
    plugin.put("agent-socket", settings.agentSocket().toString());
    plugin.put("mtu", settings.mtu());
    if (settings.logFile() != null) {
      plugin.put("log-file", settings.logFile().toString());
    }
    plugin.put("log-level", settings.logLevel());
    Map<String, Object> list = new LinkedHashMap<>();
    // A runtime that knows CNI 1.1 picks the highest of cniVersions (1.1.0); older ones read
    // cniVersion, and libcni before 1.2 (podman 4, containerd 1.7) rejects a 1.1.0 result.
    list.put("cniVersion", "1.0.0");
    list.put("cniVersions", List.of("1.0.0", "1.1.0"));
    list.put("name", "meshwork");
    list.put("plugins", List.of(plugin));
    return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(list) + "\n";
  }

  private Path installLauncher() throws IOException {
    String script = Files.readString(settings.launcher());
    Matcher line = BAKED_HOME.matcher(script);
    if (!line.find()) {
      throw new IOException("CNI install: launcher " + settings.launcher()
          + " has no 'baked_home=' line to set the plugin home in; is it bin/meshwork-cni?");
    }
    String baked = line.replaceFirst(Matcher.quoteReplacement("baked_home=\"" + settings.nodeCniHome() + "\""));
    Path target = settings.cniBinDir().resolve(PLUGIN);
    writeAtomically(target, baked.getBytes(StandardCharsets.UTF_8), "rwxr-xr-x");
    return target;
  }

  private List<Path> installPluginFiles() throws IOException {
    Path source = settings.pluginFiles();
    Path jar = null;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(source)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        if (PLUGIN_JAR.matcher(name).matches() && !name.endsWith("-sources.jar") && !name.endsWith("-tests.jar")) {
          jar = file;
        }
      }
    }
    if (jar == null) {
      throw new IOException("CNI install: no meshwork-cni-plugin-<version>.jar in " + source
          + "; build it with ./mvnw -pl cni-plugin -am package");
    }
    Files.createDirectories(settings.cniHome());
    List<Path> written = new ArrayList<>();
    Path jarTarget = settings.cniHome().resolve(jar.getFileName());
    writeAtomically(jarTarget, Files.readAllBytes(jar), "rw-r--r--");
    written.add(jarTarget);
    // the launcher takes the first plugin jar it finds: leave only this one
    try (DirectoryStream<Path> files = Files.newDirectoryStream(settings.cniHome())) {
      for (Path file : files) {
        if (PLUGIN_JAR.matcher(file.getFileName().toString()).matches() && !file.equals(jarTarget)) {
          Files.delete(file);
        }
      }
    }
    Path aot = source.resolve("meshwork-cni.aot");
    Path aotTarget = settings.cniHome().resolve("meshwork-cni.aot");
    if (Files.exists(aot)) {
      writeAtomically(aotTarget, Files.readAllBytes(aot), "rw-r--r--");
      written.add(aotTarget);
    } else {
      // a cache from another build would not match the jar; without one the plugin only starts slower
      Files.deleteIfExists(aotTarget);
      log.warn("CNI install: no meshwork-cni.aot in {}; the plugin will start without its AOT cache", source);
    }
    return written;
  }

  private static void writeAtomically(Path target, byte[] content, String permissions) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path temp = dir.resolve("." + target.getFileName() + ".tmp");
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      channel.write(java.nio.ByteBuffer.wrap(content));
      channel.force(true);
    }
    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString(permissions));
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /**
   * {@code java -cp <agent classpath> dev.meshwork.agent.endpoint.CniInstaller --launcher=... }: the
   * chart's init step. Options: {@code --launcher} (required), {@code --plugin-files},
   * {@code --cni-home} (/opt/meshwork/cni), {@code --cni-bin-dir} (/opt/cni/bin),
   * {@code --net-conf-dir} (/etc/cni/net.d), {@code --agent-socket} (/var/run/meshwork/agent.sock),
   * {@code --mtu} (1450), {@code --log-file}, {@code --log-level} (info), {@code --node-cni-home}
   * (the plugin home as the node sees it; default {@code --cni-home}).
   */
  public static void main(String[] args) throws IOException {
    Map<String, String> options = new LinkedHashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        System.err.println("meshwork CNI install: argument '" + arg + "' is not --name=value");
        System.exit(2);
      }
      options.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    Set<String> known = Set.of("launcher", "plugin-files", "cni-home", "cni-bin-dir", "net-conf-dir", "agent-socket",
        "mtu", "log-file", "log-level", "node-cni-home");
    for (String name : options.keySet()) {
      if (!known.contains(name)) {
        System.err.println("meshwork CNI install: unknown option --" + name + " (known: " + known + ")");
        System.exit(2);
      }
    }
    if (!options.containsKey("launcher")) {
      System.err.println("meshwork CNI install: --launcher=<path of bin/meshwork-cni> is required");
      System.exit(2);
    }
    Settings settings;
    try {
      settings = new Settings(
          Path.of(options.get("launcher")),
          options.containsKey("plugin-files") ? Path.of(options.get("plugin-files")) : null,
          Path.of(options.getOrDefault("cni-home", "/opt/meshwork/cni")),
          Path.of(options.getOrDefault("cni-bin-dir", "/opt/cni/bin")),
          Path.of(options.getOrDefault("net-conf-dir", "/etc/cni/net.d")),
          Path.of(options.getOrDefault("agent-socket", "/var/run/meshwork/agent.sock")),
          Integer.parseInt(options.getOrDefault("mtu", "1450")),
          options.containsKey("log-file") ? Path.of(options.get("log-file")) : null,
          options.getOrDefault("log-level", "info"),
          options.containsKey("node-cni-home") ? Path.of(options.get("node-cni-home")) : null);
    } catch (IllegalArgumentException e) {
      System.err.println("meshwork CNI install: " + e.getMessage());
      System.exit(2);
      return;
    }
    for (Path path : new CniInstaller(settings).install()) {
      System.out.println("installed " + path);
    }
  }
}
