package dev.meshwork.e2e.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The CNI client calls plugins as kubelet does through libcni: environment, stdin with the
 * list's name and cniVersion injected, results and errors. The plugins are shell scripts that
 * record what they were given.
 */
class CniClientTest {

  @TempDir Path dir;
  Path bin;
  Path calls;

  @BeforeEach
  void plugins() throws IOException {
    bin = Files.createDirectories(dir.resolve("bin"));
    calls = Files.createDirectories(dir.resolve("calls"));
    // Records env and stdin under calls/<n>-<type>-<command>, then answers like a plugin.
    plugin("meshwork-cni", """
        printf '{"cniVersion":"1.1.0","interfaces":[{"name":"eth0"}],"ips":[{"address":"10.2.0.7/32","gateway":"10.2.0.1","interface":0}],"dns":{}}'
        """);
    plugin("second", """
        cat "$stdin_file" | grep -q '"prevResult"' || { printf '{"code":7,"msg":"no prevResult"}'; exit 1; }
        printf '{"cniVersion":"1.1.0","ips":[{"address":"10.2.0.7/32"}],"chained":true}'
        """);
    plugin("failing", """
        printf '{"cniVersion":"1.1.0","code":11,"msg":"agent socket /run/x.sock missing","details":"try again later"}'
        exit 1
        """);
    plugin("garbage", """
        echo 'not json' ; echo 'oops' >&2 ; exit 2
        """);
  }

  void plugin(String name, String body) throws IOException {
    Path file = bin.resolve(name);
    Files.writeString(file, "#!/bin/sh\n"
        + "n=$(ls '" + calls + "' | wc -l)\n"
        + "base='" + calls + "'/$(printf '%03d' $n)-" + name + "-$CNI_COMMAND\n"
        + "stdin_file=$base.stdin\n"
        + "cat > \"$stdin_file\"\n"
        + "env | grep '^CNI_' | sort > \"$base.env\"\n"
        + body);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  Path confList(String... types) throws IOException {
    String plugins = java.util.Arrays.stream(types)
        .map(t -> "{\"type\":\"" + t + "\",\"agent-socket\":\"/run/meshwork/agent.sock\",\"mtu\":1450}")
        .collect(Collectors.joining(","));
    Path file = dir.resolve("05-meshwork.conflist");
    Files.writeString(file, "{\"cniVersion\":\"1.0.0\",\"name\":\"meshwork\",\"plugins\":[" + plugins + "]}");
    return file;
  }

  CniClient client() {
    return new CniClient(bin.resolve("meshwork-cni"), Duration.ofSeconds(20));
  }

  static final String CONTAINER = "a".repeat(64);

  CniClient.Attachment attachment(String netns) {
    return new CniClient.Attachment(CONTAINER, netns, "eth0", CniClient.podArgs("testing", "frontend-x", CONTAINER, "uid-1"));
  }

  List<Path> recorded(String suffix) throws IOException {
    try (var files = Files.list(calls)) {
      return files.filter(f -> f.toString().endsWith(suffix)).sorted().toList();
    }
  }

  static Map<String, String> env(Path file) throws IOException {
    return Files.readAllLines(file).stream()
        .map(l -> l.split("=", 2))
        .collect(Collectors.toMap(kv -> kv[0], kv -> kv[1]));
  }

  @Test
  void addPassesKubeletsEnvironmentAndTheConfigWithNameAndVersionInjected() throws Exception {
    String result = client().add(confList("meshwork-cni"), attachment("/var/run/netns/mwt-klt-x"));

    assertThat(CniClient.firstIpv4(result)).isEqualTo("10.2.0.7");
    assertThat(env(recorded(".env").getFirst())).containsExactlyInAnyOrderEntriesOf(Map.of(
        "CNI_COMMAND", "ADD",
        "CNI_CONTAINERID", CONTAINER,
        "CNI_NETNS", "/var/run/netns/mwt-klt-x",
        "CNI_IFNAME", "eth0",
        "CNI_PATH", bin.toString(),
        "CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=testing;K8S_POD_NAME=frontend-x;K8S_POD_INFRA_CONTAINER_ID=" + CONTAINER + ";K8S_POD_UID=uid-1"));
    JsonNode stdin = CniClient.JSON.readTree(Files.readString(recorded(".stdin").getFirst()));
    assertThat(stdin.path("type").asString()).isEqualTo("meshwork-cni");
    assertThat(stdin.path("name").asString()).isEqualTo("meshwork");
    assertThat(stdin.path("cniVersion").asString()).isEqualTo("1.0.0");
    assertThat(stdin.path("agent-socket").asString()).isEqualTo("/run/meshwork/agent.sock");
    assertThat(stdin.path("mtu").asInt()).isEqualTo(1450);
    assertThat(stdin.has("prevResult")).isFalse();
    assertThat(stdin.has("plugins")).isFalse();
  }

  @Test
  void delSendsTheAddResultAsPrevResultAndAnEmptyNetnsWhenItIsGone() throws Exception {
    Path confList = confList("meshwork-cni");
    String result = client().add(confList, attachment("/var/run/netns/mwt-klt-x"));

    client().del(confList, attachment(""), result);

    Path del = recorded("-DEL.stdin").getFirst();
    JsonNode stdin = CniClient.JSON.readTree(Files.readString(del));
    assertThat(stdin.path("prevResult").path("ips").get(0).path("address").asString()).isEqualTo("10.2.0.7/32");
    assertThat(stdin.path("name").asString()).isEqualTo("meshwork");
    assertThat(env(recorded("-DEL.env").getFirst())).containsEntry("CNI_COMMAND", "DEL").containsEntry("CNI_NETNS", "");
  }

  @Test
  void chainsPluginsInOrderOnAddAndInReverseOnDel() throws Exception {
    Path confList = confList("meshwork-cni", "second");

    String result = client().add(confList, attachment("/var/run/netns/mwt-klt-x"));
    client().del(confList, attachment("/var/run/netns/mwt-klt-x"), result);

    assertThat(result).contains("\"chained\":true");
    assertThat(recorded(".stdin")).extracting(p -> p.getFileName().toString())
        .containsExactly("000-meshwork-cni-ADD.stdin", "002-second-ADD.stdin", "004-second-DEL.stdin", "006-meshwork-cni-DEL.stdin");
    JsonNode secondAdd = CniClient.JSON.readTree(Files.readString(recorded("second-ADD.stdin").getFirst()));
    assertThat(secondAdd.path("prevResult").path("dns").isObject()).as("the first plugin's result").isTrue();
  }

  @Test
  void reportsThePluginsErrorAnswer() throws Exception {
    assertThatThrownBy(() -> client().add(confList("failing"), attachment("/var/run/netns/mwt-klt-x")))
        .isInstanceOf(CniException.class)
        .hasMessageContaining("CNI ADD of container " + CONTAINER)
        .hasMessageContaining("error 11: agent socket /run/x.sock missing (try again later)")
        .satisfies(e -> assertThat(((CniException) e).code()).isEqualTo(11));
  }

  @Test
  void reportsOutputThatIsNoCniAnswer() throws Exception {
    assertThatThrownBy(() -> client().add(confList("garbage"), attachment("/var/run/netns/mwt-klt-x")))
        .isInstanceOf(CniException.class)
        .hasMessageContaining("exit status 2, stdout: not json, stderr: oops");
  }

  @Test
  void namesAPluginTypeThatIsNotInCniPath() throws Exception {
    assertThatThrownBy(() -> client().add(confList("bridge"), attachment("/var/run/netns/mwt-klt-x")))
        .isInstanceOf(CniException.class)
        .hasMessageContaining("plugin type \"bridge\" not found in CNI_PATH " + bin);
  }

  @Test
  void rejectsAConfListWithoutPlugins() throws Exception {
    Path file = dir.resolve("bad.conflist");
    Files.writeString(file, "{\"cniVersion\":\"1.0.0\",\"name\":\"meshwork\"}");

    assertThatThrownBy(() -> client().add(file, attachment("/var/run/netns/mwt-klt-x")))
        .isInstanceOf(CniException.class)
        .hasMessageContaining("CNI network configuration list " + file + " has no \"plugins\"");
  }

  @Test
  void findsNoIpv4InAResultWithoutOne() {
    assertThatThrownBy(() -> CniClient.firstIpv4("{\"ips\":[{\"address\":\"fd00::5/128\"}]}"))
        .isInstanceOf(CniException.class)
        .hasMessageContaining("no IPv4 address");
  }
}
