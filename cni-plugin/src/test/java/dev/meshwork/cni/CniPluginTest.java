package dev.meshwork.cni;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.cni.agent.UnixSocketAgent;
import dev.meshwork.cni.json.Json;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResponse;
import dev.meshwork.proto.v1.CniResult;
import dev.meshwork.testing.cni.FakeCniAgent;
import dev.meshwork.testing.cni.FakeCniAgent.Verb;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CNI specification's behaviours, each through {@link CniPlugin} with the process's
 * environment, stdin and stdout injected, against a real gRPC server on a temporary Unix socket.
 */
class CniPluginTest {

  @TempDir Path dir;
  FakeCniAgent agent;
  Path socket;

  @BeforeEach
  void startAgent() throws IOException {
    socket = dir.resolve("agent.sock");
    agent = FakeCniAgent.start(socket);
  }

  @AfterEach
  void stopAgent() throws IOException {
    agent.close();
  }

  // ------------------------------------------------------------------------------------------
  // Helpers

  /** What the plugin printed and returned. */
  record Outcome(int exit, String stdout) {
    Map<String, Object> json() {
      return Json.parseObject(stdout);
    }

    Object code() {
      return ((Number) json().get("code")).intValue();
    }
  }

  String config(String cniVersion) {
    return "{\"cniVersion\":\"" + cniVersion + "\",\"name\":\"meshwork\",\"type\":\"meshwork-cni\","
        + "\"agent-socket\":\"" + socket + "\",\"mtu\":1450}";
  }

  String configWith(String cniVersion, String extraMembers) {
    String base = config(cniVersion);
    return base.substring(0, base.length() - 1) + "," + extraMembers + "}";
  }

  static Map<String, String> env(String command, String containerId) {
    Map<String, String> env = new HashMap<>();
    env.put("CNI_COMMAND", command);
    env.put("CNI_CONTAINERID", containerId);
    env.put("CNI_NETNS", "/var/run/netns/" + containerId);
    env.put("CNI_IFNAME", "eth0");
    env.put("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0");
    env.put("CNI_PATH", "/opt/cni/bin");
    return env;
  }

  Outcome run(Map<String, String> env, String stdin) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int exit = new CniPlugin(UnixSocketAgent::new).run(env,
        new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
        new PrintStream(out, true, StandardCharsets.UTF_8));
    return new Outcome(exit, out.toString(StandardCharsets.UTF_8));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> first(Object list) {
    return (Map<String, Object>) ((List<Object>) list).get(0);
  }

  // ------------------------------------------------------------------------------------------
  // Verbs

  @Nested
  class Add {
    @Test
    void forwardsTheInvocationToTheAgentAndPrintsItsResult() {
      Outcome outcome = run(env("ADD", "c0ffee01"), config("1.1.0"));

      assertThat(outcome.exit()).isZero();
      Map<String, Object> result = outcome.json();
      assertThat(result.get("cniVersion")).isEqualTo("1.1.0");
      assertThat(first(result.get("ips")).get("address")).isEqualTo("10.244.1.2/32");

      CniRequest request = agent.calls().getFirst().request();
      assertThat(agent.calls().getFirst().verb()).isEqualTo(Verb.ADD);
      assertThat(request.getContainerId()).isEqualTo("c0ffee01");
      assertThat(request.getNetns()).isEqualTo("/var/run/netns/c0ffee01");
      assertThat(request.getIfname()).isEqualTo("eth0");
      assertThat(request.getArgsMap()).containsEntry("K8S_POD_NAMESPACE", "default")
          .containsEntry("K8S_POD_NAME", "web-0").containsEntry("IgnoreUnknown", "1");
      assertThat(request.getNetworkName()).isEqualTo("meshwork");
      assertThat(request.getCniVersion()).isEqualTo("1.1.0");
      assertThat(request.getConfigJson().toStringUtf8()).isEqualTo(config("1.1.0"));
    }

    @Test
    void rendersA040ResultWithIpVersionsAndNoInterfaceMtu() {
      Map<String, Object> result = run(env("ADD", "c1"), config("0.4.0")).json();

      assertThat(result.get("cniVersion")).isEqualTo("0.4.0");
      Map<String, Object> ip = first(result.get("ips"));
      assertThat(ip).containsEntry("version", "4").containsEntry("address", "10.244.1.2/32")
          .containsEntry("gateway", "10.244.1.1");
      assertThat(((Number) ip.get("interface")).intValue()).isEqualTo(1);
      @SuppressWarnings("unchecked")
      Map<String, Object> podSide =
          (Map<String, Object>) ((List<Object>) result.get("interfaces")).get(1);
      assertThat(podSide).containsEntry("name", "eth0")
          .containsEntry("sandbox", "/var/run/netns/c1").doesNotContainKey("mtu");
      assertThat(first(result.get("routes"))).containsEntry("dst", "0.0.0.0/0");
    }

    @Test
    void rendersA100ResultWithoutIpVersions() {
      Map<String, Object> result = run(env("ADD", "c1"), config("1.0.0")).json();

      assertThat(result.get("cniVersion")).isEqualTo("1.0.0");
      assertThat(first(result.get("ips"))).doesNotContainKey("version")
          .containsEntry("address", "10.244.1.2/32");
      @SuppressWarnings("unchecked")
      Map<String, Object> podSide =
          (Map<String, Object>) ((List<Object>) result.get("interfaces")).get(1);
      assertThat(podSide).doesNotContainKey("mtu");
    }

    @Test
    void rendersA110ResultWithInterfaceMtu() {
      Map<String, Object> result = run(env("ADD", "c1"), config("1.1.0")).json();

      assertThat(first(result.get("ips"))).doesNotContainKey("version");
      @SuppressWarnings("unchecked")
      Map<String, Object> podSide =
          (Map<String, Object>) ((List<Object>) result.get("interfaces")).get(1);
      assertThat(((Number) podSide.get("mtu")).intValue()).isEqualTo(1450);
    }

    @Test
    void requiresCniNetns() {
      Map<String, String> env = env("ADD", "c1");
      env.remove("CNI_NETNS");

      Outcome outcome = run(env, config("1.0.0"));

      assertThat(outcome.exit()).isNotZero();
      assertThat(outcome.code()).isEqualTo(4);
      assertThat((String) outcome.json().get("msg")).contains("CNI_NETNS");
      assertThat(agent.calls()).isEmpty();
    }

    @Test
    void namesEveryMissingVariable() {
      Map<String, String> env = env("ADD", "c1");
      env.remove("CNI_CONTAINERID");
      env.remove("CNI_IFNAME");

      Outcome outcome = run(env, config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(4);
      assertThat((String) outcome.json().get("msg")).contains("CNI_CONTAINERID", "CNI_IFNAME");
    }

    @Test
    void rejectsAnInvalidContainerId() {
      Outcome outcome = run(env("ADD", "-bad id"), config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(4);
      assertThat((String) outcome.json().get("msg")).contains("CNI_CONTAINERID");
    }

    @Test
    void rejectsAnInterfaceNameLinuxWouldRefuse() {
      Map<String, String> env = env("ADD", "c1");
      env.put("CNI_IFNAME", "a-name-far-too-long");

      Outcome outcome = run(env, config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(4);
      assertThat((String) outcome.json().get("msg")).contains("CNI_IFNAME");
      assertThat((String) outcome.json().get("details")).contains("16");
    }

    @Test
    void rejectsMalformedCniArgs() {
      Map<String, String> env = env("ADD", "c1");
      env.put("CNI_ARGS", "K8S_POD_NAME");

      Outcome outcome = run(env, config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(4);
      assertThat((String) outcome.json().get("msg")).contains("CNI_ARGS", "K8S_POD_NAME");
    }

    @Test
    void passesTheAgentsCniErrorThrough() {
      agent.answerError(Verb.ADD, 3, "unknown container c1", "pod default/web-0 is gone");

      Outcome outcome = run(env("ADD", "c1"), config("1.0.0"));

      assertThat(outcome.exit()).isNotZero();
      assertThat(outcome.json()).containsEntry("cniVersion", "1.0.0")
          .containsEntry("msg", "unknown container c1")
          .containsEntry("details", "pod default/web-0 is gone");
      assertThat(outcome.code()).isEqualTo(3);
    }

    @Test
    void passesTheAgentsOwnErrorCodesThrough() {
      agent.answerError(Verb.ADD, 120, "pod CIDR exhausted", "10.244.1.0/24 has no free"
          + " address");

      Outcome outcome = run(env("ADD", "c1"), config("1.1.0"));

      assertThat(outcome.code()).isEqualTo(120);
    }
  }

  @Nested
  class Del {
    @Test
    void printsNothingOnSuccess() {
      Outcome outcome = run(env("DEL", "c1"), config("1.1.0"));

      assertThat(outcome.exit()).isZero();
      assertThat(outcome.stdout()).isEmpty();
      assertThat(agent.calls().getFirst().verb()).isEqualTo(Verb.DEL);
    }

    @Test
    void worksWithoutCniNetnsBecauseTheNamespaceMayBeGone() {
      Map<String, String> env = env("DEL", "c1");
      env.remove("CNI_NETNS");

      Outcome outcome = run(env, config("1.0.0"));

      assertThat(outcome.exit()).isZero();
      assertThat(agent.calls().getFirst().request().getNetns()).isEmpty();
    }

    @Test
    void forwardsPrevResultInsideTheConfiguration() {
      String prev = "\"prevResult\":{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":"
          + "\"10.244.1.2/32\"}]}";
      String config = configWith("1.0.0", prev);

      assertThat(run(env("DEL", "c1"), config).exit()).isZero();

      assertThat(agent.calls().getFirst().request().getConfigJson().toStringUtf8())
          .isEqualTo(config);
    }

    @Test
    void succeedsOneHundredTimesInARowWhenTheAgentSaysSo() {
      for (int i = 0; i < 100; i++) {
        Outcome outcome = run(env("DEL", "c1"), config("1.1.0"));
        assertThat(outcome.exit()).as("DEL number %d", i + 1).isZero();
        assertThat(outcome.stdout()).isEmpty();
      }
      assertThat(agent.calls()).hasSize(100)
          .allMatch(c -> c.verb() == Verb.DEL
              && c.request().getContainerId().equals("c1"));
    }

    @Test
    void rejectsAPrevResultThatIsNotAnObject() {
      Outcome outcome = run(env("DEL", "c1"), configWith("1.0.0", "\"prevResult\":[1]"));

      assertThat(outcome.code()).isEqualTo(7);
      assertThat((String) outcome.json().get("details")).contains("prevResult");
    }
  }

  @Nested
  class Check {
    @Test
    void forwardsTheCheckWithPrevResultAndPrintsNothing() {
      String config = configWith("1.0.0",
          "\"prevResult\":{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.244.1.2/32\"}]}");

      Outcome outcome = run(env("CHECK", "c1"), config);

      assertThat(outcome.exit()).isZero();
      assertThat(outcome.stdout()).isEmpty();
      assertThat(agent.calls().getFirst().verb()).isEqualTo(Verb.CHECK);
    }

    @Test
    void requiresPrevResult() {
      Outcome outcome = run(env("CHECK", "c1"), config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(7);
      assertThat((String) outcome.json().get("msg")).contains("prevResult");
      assertThat(agent.calls()).isEmpty();
    }

    @Test
    void reportsTheAgentsFinding() {
      agent.answerError(Verb.CHECK, 121, "address missing",
          "eth0 in /var/run/netns/c1 has no 10.244.1.2/32");
      String config = configWith("1.0.0", "\"prevResult\":{\"cniVersion\":\"1.0.0\"}");

      Outcome outcome = run(env("CHECK", "c1"), config);

      assertThat(outcome.code()).isEqualTo(121);
      assertThat(outcome.json()).containsEntry("msg", "address missing");
    }
  }

  @Nested
  class StatusVerb {
    @Test
    void succeedsSilentlyWhenTheAgentIsReady() {
      Map<String, String> env = new HashMap<>(Map.of("CNI_COMMAND", "STATUS"));

      Outcome outcome = run(env, config("1.1.0"));

      assertThat(outcome.exit()).isZero();
      assertThat(outcome.stdout()).isEmpty();
      assertThat(agent.calls().getFirst().verb()).isEqualTo(Verb.STATUS);
    }

    @Test
    void reportsPluginNotAvailableWhenTheAgentIsDown() throws IOException {
      agent.close();

      Outcome outcome = run(new HashMap<>(Map.of("CNI_COMMAND", "STATUS")), config("1.1.0"));

      assertThat(outcome.code()).isEqualTo(50);
      assertThat((String) outcome.json().get("msg")).contains(socket.toString());
    }

    @Test
    void needsCniVersion110() {
      Outcome outcome = run(new HashMap<>(Map.of("CNI_COMMAND", "STATUS")), config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(1);
      assertThat((String) outcome.json().get("msg")).contains("STATUS", "1.1.0");
    }
  }

  @Nested
  class Gc {
    @Test
    void passesTheValidAttachmentsToTheAgent() {
      Map<String, String> env = new HashMap<>(Map.of("CNI_COMMAND", "GC", "CNI_PATH", "/opt/cni/bin"));
      String config = configWith("1.1.0", "\"cni.dev/valid-attachments\":["
          + "{\"containerID\":\"c1\",\"ifname\":\"eth0\"},{\"containerID\":\"c2\",\"ifname\":\"net1\"}]");

      Outcome outcome = run(env, config);

      assertThat(outcome.exit()).isZero();
      assertThat(outcome.stdout()).isEmpty();
      CniRequest request = agent.calls().getFirst().request();
      assertThat(agent.calls().getFirst().verb()).isEqualTo(Verb.GC);
      assertThat(request.getValidAttachmentsList())
          .extracting(a -> a.getContainerId() + "/" + a.getIfname())
          .containsExactly("c1/eth0", "c2/net1");
    }

    @Test
    void acceptsTheAttachmentsNameOfTheEarlierDraftThatLibcniAlsoSends() {
      Map<String, String> env = new HashMap<>(Map.of("CNI_COMMAND", "GC", "CNI_PATH", "/opt/cni/bin"));
      String config = configWith("1.1.0",
          "\"cni.dev/attachments\":[{\"containerID\":\"c9\",\"ifname\":\"eth0\"}]");

      assertThat(run(env, config).exit()).isZero();

      assertThat(agent.calls().getFirst().request().getValidAttachments(0).getContainerId())
          .isEqualTo("c9");
    }

    @Test
    void passesAnEmptyListWhenNothingIsValid() {
      Map<String, String> env = new HashMap<>(Map.of("CNI_COMMAND", "GC", "CNI_PATH", "/opt/cni/bin"));

      Outcome outcome = run(env, configWith("1.1.0", "\"cni.dev/valid-attachments\":[]"));

      assertThat(outcome.exit()).isZero();
      assertThat(agent.calls().getFirst().request().getValidAttachmentsList()).isEmpty();
    }

    @Test
    void refusesToCollectWithoutTheValidAttachmentsList() {
      Map<String, String> env = new HashMap<>(Map.of("CNI_COMMAND", "GC", "CNI_PATH", "/opt/cni/bin"));

      Outcome outcome = run(env, config("1.1.0"));

      assertThat(outcome.code()).isEqualTo(7);
      assertThat((String) outcome.json().get("msg")).contains("cni.dev/valid-attachments");
      assertThat(agent.calls()).isEmpty();
    }

    @Test
    void namesTheBrokenAttachment() {
      Map<String, String> env = new HashMap<>(Map.of("CNI_COMMAND", "GC", "CNI_PATH", "/opt/cni/bin"));
      String config = configWith("1.1.0", "\"cni.dev/valid-attachments\":["
          + "{\"containerID\":\"c1\",\"ifname\":\"eth0\"},{\"containerID\":\"c2\"}]");

      Outcome outcome = run(env, config);

      assertThat(outcome.code()).isEqualTo(7);
      assertThat((String) outcome.json().get("details"))
          .contains("cni.dev/valid-attachments[1].ifname");
    }

    @Test
    void requiresCniPath() {
      Outcome outcome = run(new HashMap<>(Map.of("CNI_COMMAND", "GC")),
          configWith("1.1.0", "\"cni.dev/valid-attachments\":[]"));

      assertThat(outcome.code()).isEqualTo(4);
      assertThat((String) outcome.json().get("msg")).contains("CNI_PATH");
    }

    @Test
    void needsCniVersion110() {
      Map<String, String> env = new HashMap<>(Map.of("CNI_COMMAND", "GC", "CNI_PATH", "/opt/cni/bin"));

      Outcome outcome = run(env, configWith("1.0.0", "\"cni.dev/valid-attachments\":[]"));

      assertThat(outcome.code()).isEqualTo(1);
    }
  }

  @Nested
  class VersionVerb {
    @Test
    void echoesTheRequestedVersionAndListsTheSupportedOnes() {
      Outcome outcome = run(new HashMap<>(Map.of("CNI_COMMAND", "VERSION")),
          "{\"cniVersion\":\"1.0.0\"}");

      assertThat(outcome.exit()).isZero();
      assertThat(outcome.json()).containsEntry("cniVersion", "1.0.0")
          .containsEntry("supportedVersions", List.of("0.4.0", "1.0.0", "1.1.0"));
      assertThat(agent.calls()).isEmpty();
    }

    @Test
    void rejectsARequestThatIsNotJson() {
      Outcome outcome = run(new HashMap<>(Map.of("CNI_COMMAND", "VERSION")), "cniVersion=1.0.0");

      assertThat(outcome.code()).isEqualTo(6);
    }

    @Test
    void rejectsACniVersionThatIsNotAString() {
      Outcome outcome = run(new HashMap<>(Map.of("CNI_COMMAND", "VERSION")), "{\"cniVersion\":1}");

      assertThat(outcome.code()).isEqualTo(6);
      assertThat((String) outcome.json().get("details")).contains("a number");
    }

    @Test
    void answersWithTheLatestVersionWhenStdinIsEmpty() {
      Outcome outcome = run(new HashMap<>(Map.of("CNI_COMMAND", "VERSION")), "");

      assertThat(outcome.json()).containsEntry("cniVersion", "1.1.0");
    }
  }

  // ------------------------------------------------------------------------------------------
  // Errors common to every verb

  @Nested
  class Errors {
    @Test
    void malformedStdinIsADecodingFailure() {
      Outcome outcome = run(env("ADD", "c1"), "{\"cniVersion\": \"1.0.0\", \"name\": ");

      assertThat(outcome.exit()).isNotZero();
      assertThat(outcome.code()).isEqualTo(6);
      assertThat((String) outcome.json().get("msg")).contains("network configuration");
      assertThat((String) outcome.json().get("details")).contains("offset");
    }

    @Test
    void stdinThatIsNotAnObjectIsADecodingFailure() {
      assertThat(run(env("ADD", "c1"), "[\"meshwork\"]").code()).isEqualTo(6);
    }

    @Test
    void missingCniVersionIsAnInvalidNetworkConfig() {
      Outcome outcome = run(env("ADD", "c1"),
          "{\"name\":\"meshwork\",\"type\":\"meshwork-cni\"}");

      assertThat(outcome.code()).isEqualTo(7);
      assertThat((String) outcome.json().get("msg")).contains("cniVersion");
    }

    @Test
    void missingNameIsAnInvalidNetworkConfig() {
      Outcome outcome = run(env("ADD", "c1"),
          "{\"cniVersion\":\"1.0.0\",\"type\":\"meshwork-cni\"}");

      assertThat(outcome.code()).isEqualTo(7);
      assertThat((String) outcome.json().get("msg")).contains("\"name\"");
      assertThat(outcome.json()).containsEntry("cniVersion", "1.0.0");
    }

    @Test
    void aFieldOfTheWrongTypeIsNamed() {
      Outcome outcome = run(env("ADD", "c1"), configWith("1.0.0", "\"log-level\":3"));

      assertThat(outcome.code()).isEqualTo(7);
      assertThat((String) outcome.json().get("msg")).contains("log-level");
    }

    @Test
    void aMissingTypeIsAnInvalidNetworkConfig() {
      Outcome outcome = run(env("ADD", "c1"), "{\"cniVersion\":\"1.0.0\",\"name\":\"mesh\"}");

      assertThat(outcome.code()).isEqualTo(7);
      assertThat((String) outcome.json().get("msg")).contains("\"type\"");
    }

    @Test
    void aNetworkNameTheSpecificationForbidsIsNamed() {
      Outcome outcome = run(env("ADD", "c1"), config("1.0.0").replace("\"meshwork\"", "\"-mesh\""));

      assertThat(outcome.code()).isEqualTo(7);
      assertThat((String) outcome.json().get("msg")).contains("-mesh");
    }

    @Test
    void aRelativeAgentSocketIsNamed() {
      Outcome outcome = run(env("ADD", "c1"),
          configWith("1.0.0", "\"agent-socket\":\"agent.sock\"").replace(
              "\"agent-socket\":\"" + socket + "\",", ""));

      assertThat(outcome.code()).isEqualTo(7);
      assertThat((String) outcome.json().get("msg")).contains("agent-socket", "agent.sock");
    }

    @Test
    void anMtuOutOfRangeIsNamed() {
      String config = config("1.0.0").replace("\"mtu\":1450", "\"mtu\":70000");

      Outcome outcome = run(env("ADD", "c1"), config);

      assertThat(outcome.code()).isEqualTo(7);
      assertThat((String) outcome.json().get("details")).contains("mtu", "70000");
    }

    @Test
    void anUnsupportedCniVersionIsIncompatible() {
      Outcome outcome = run(env("ADD", "c1"), config("0.3.1"));

      assertThat(outcome.code()).isEqualTo(1);
      assertThat((String) outcome.json().get("msg")).contains("0.3.1");
      assertThat((String) outcome.json().get("details")).contains("0.4.0, 1.0.0, 1.1.0");
      assertThat(agent.calls()).isEmpty();
    }

    @Test
    void anUnknownFutureCniVersionIsIncompatible() {
      assertThat(run(env("ADD", "c1"), config("9.9.9")).code()).isEqualTo(1);
    }

    @Test
    void aCniVersionThatIsNotAVersionCannotBeDecoded() {
      assertThat(run(env("ADD", "c1"), config("banana")).code()).isEqualTo(6);
    }

    @Test
    void aMissingCniCommandIsAnInvalidEnvironment() {
      Map<String, String> env = env("ADD", "c1");
      env.remove("CNI_COMMAND");

      Outcome outcome = run(env, config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(4);
      assertThat((String) outcome.json().get("msg")).contains("CNI_COMMAND");
      assertThat(outcome.json()).containsEntry("cniVersion", "1.0.0");
    }

    @Test
    void anUnknownCniCommandIsAnInvalidEnvironment() {
      Outcome outcome = run(env("INIT", "c1"), config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(4);
      assertThat((String) outcome.json().get("msg")).contains("CNI_COMMAND", "INIT");
    }

    @Test
    void anAgentThatIsNotRunningMeansTryAgainLater() throws IOException {
      agent.close();

      Outcome outcome = run(env("ADD", "c1"), config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(11);
      assertThat((String) outcome.json().get("msg")).contains(socket.toString());
    }

    @Test
    void aSocketNobodyListensOnMeansTryAgainLater() throws IOException {
      agent.close();
      Files.createFile(socket); // a stale path: connecting is refused

      Outcome outcome = run(env("DEL", "c1"), config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(11);
      assertThat((String) outcome.json().get("msg")).contains("unreachable");
    }

    @Test
    void anAgentThatDoesNotAnswerInTimeMeansTryAgainLater() {
      agent.answer(Verb.ADD, r -> {
        try {
          Thread.sleep(3_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return CniResponse.newBuilder().setResult(CniResult.getDefaultInstance()).build();
      });

      Outcome outcome = run(env("ADD", "c1"), configWith("1.0.0", "\"agent-timeout-seconds\":1"));

      assertThat(outcome.code()).isEqualTo(11);
      assertThat((String) outcome.json().get("msg")).contains("within 1000 ms");
    }

    @Test
    void anAgentFailingTheCallIsReportedAsOurOwnCode() {
      agent.fail(Verb.ADD, io.grpc.Status.INTERNAL.withDescription("datapath exploded"));

      Outcome outcome = run(env("ADD", "c1"), config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(100);
      assertThat((String) outcome.json().get("details")).contains("INTERNAL",
          "datapath exploded");
    }

    @Test
    void anEmptyAnswerFromTheAgentIsReportedAsOurOwnCode() {
      agent.answer(Verb.ADD, r -> CniResponse.getDefaultInstance());

      Outcome outcome = run(env("ADD", "c1"), config("1.0.0"));

      assertThat(outcome.code()).isEqualTo(101);
    }

    @Test
    void aBugInThePluginIsStillAnsweredInCniFormat() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int exit = new CniPlugin(path -> {
        throw new IllegalStateException("connector broke");
      }).run(env("ADD", "c1"), new ByteArrayInputStream(config("1.0.0").getBytes(
          StandardCharsets.UTF_8)), new PrintStream(out, true, StandardCharsets.UTF_8));

      Map<String, Object> error = Json.parseObject(out.toString(StandardCharsets.UTF_8));
      assertThat(exit).isEqualTo(1);
      assertThat(((Number) error.get("code")).intValue()).isEqualTo(103);
      assertThat((String) error.get("details")).contains("connector broke");
    }

    @Test
    void writesItsLogToTheConfiguredFile() throws IOException {
      Path log = dir.resolve("cni.log");
      run(env("ADD", "c1"), configWith("1.0.0", "\"log-file\":\"" + log + "\",\"log-level\":\"debug\""));
      agent.answerError(Verb.ADD, 3, "unknown container", "c2 is gone");
      run(env("ADD", "c2"), configWith("1.0.0", "\"log-file\":\"" + log + "\""));

      String text = Files.readString(log);
      assertThat(text).contains("ADD container=c1 ifname=eth0 network=meshwork", "ok in",
          "ips [10.244.1.2/32]", "netns=/var/run/netns/c1");
      assertThat(text).contains(
          "ADD container=c2 ifname=eth0 network=meshwork failed with code 3: unknown container");
    }
  }
}
