package dev.meshwork.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every MESHWORK_* variable the chart gives a binary is a setting that binary reads: the setting
 * name ({@code MESHWORK_CLUSTER_NAME} is {@code cluster-name}) appears in its config record, which
 * names each setting once as a string. Catches a renamed flag before a cluster ignores it. A binary
 * whose config is not in this checkout yet is skipped.
 */
class BinarySettingsContractTest {
  private static final RenderedChart CHART = RenderedChart.render(RenderedChart.values("k8s-shared-cluster.yaml"));
  /** Settings the chart passes ahead of the agent reading them (the agent ignores unknown variables). */
  private static final Set<String> AGENT_SETTINGS_PENDING = Set.of("tunnel", "kube-proxy-replacement");

  static Stream<Arguments> binaries() {
    return Stream.of(
        Arguments.of("meshwork-agent-config", "agent", Path.of("../agent/src/main/java/dev/meshwork/agent/AgentConfig.java"),
            AGENT_SETTINGS_PENDING),
        Arguments.of("meshwork-operator-config", "operator", Path.of("../operator/src/main/java/dev/meshwork/operator/OperatorConfig.java"),
            Set.of()),
        Arguments.of("meshwork-kvstore-sync-config", "kvstore-sync",
            Path.of("../kvstore-sync/src/main/java/dev/meshwork/kvstoresync/KvstoreSyncConfig.java"), Set.of()));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("binaries")
  void everyVariableTheChartSetsIsASettingOfTheBinary(String configMap, String component, Path config, Set<String> pending)
      throws IOException {
    assumeTrue(Files.exists(config), component + "'s config record is not in this checkout yet: " + config);
    String source = Files.readString(config);
    Set<String> settings = new TreeSet<>(CHART.one(ConfigMap.class, configMap).getData().keySet().stream().map(BinarySettingsContractTest::settingName).toList());
    podEnvironment(component).stream().filter(name -> name.startsWith("MESHWORK_")).map(BinarySettingsContractTest::settingName).forEach(settings::add);

    assertThat(settings).isNotEmpty();
    assertThat(settings.stream().filter(name -> !pending.contains(name)).filter(name -> !source.contains("\"" + name + "\"")).toList())
        .as("settings the chart passes to %s that %s does not read", component, config.getFileName())
        .isEmpty();
    assertThat(pending).as("settings marked pending that %s reads by now: remove them from the pending list", config.getFileName())
        .noneMatch(name -> source.contains("\"" + name + "\""));
  }

  private static Set<String> podEnvironment(String component) {
    Stream<Container> containers = switch (component) {
      case "agent" -> CHART.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getSpec().getContainers().stream();
      case "operator" -> CHART.one(Deployment.class, "meshwork-operator").getSpec().getTemplate().getSpec().getContainers().stream();
      default -> CHART.one(Deployment.class, "meshwork-" + component).getSpec().getTemplate().getSpec().getContainers().stream();
    };
    Set<String> names = new TreeSet<>();
    containers.filter(c -> c.getEnv() != null).flatMap(c -> c.getEnv().stream()).map(EnvVar::getName).forEach(names::add);
    return names;
  }

  /** MESHWORK_CLUSTER_POOL_IPV4_CIDR is cluster-pool-ipv4-cidr. */
  private static String settingName(String variable) {
    assertThat(variable).startsWith("MESHWORK_");
    return variable.substring("MESHWORK_".length()).toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
