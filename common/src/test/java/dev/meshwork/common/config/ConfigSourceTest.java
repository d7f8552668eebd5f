package dev.meshwork.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigSourceTest {
  private static ConfigSource source(Map<String, String> env, String... args) {
    return ConfigSource.of(args, env);
  }

  private static ConfigSource args(String... args) {
    return source(Map.of(), args);
  }

  @Test
  void readsFlagsInBothFormsAndBareBooleans() {
    ConfigSource source = args("--cluster-name=cluster-1", "--cluster-id", "7", "--debug");

    assertThat(source.string("cluster-name", "default")).isEqualTo("cluster-1");
    assertThat(source.integer("cluster-id", 1, 1, 255)).isEqualTo(7);
    assertThat(source.bool("debug", false)).isTrue();
  }

  @Test
  void readsTheEnvironmentWithTheMeshworkPrefix() {
    ConfigSource source = source(Map.of("MESHWORK_CLUSTER_NAME", "from-env", "CLUSTER_ID", "9"));

    assertThat(source.string("cluster-name", "default")).isEqualTo("from-env");
    assertThat(source.integer("cluster-id", 1, 1, 255)).as("only MESHWORK_* variables count").isEqualTo(1);
  }

  @Test
  void flagWinsOverEnvironment() {
    ConfigSource source = source(Map.of("MESHWORK_CLUSTER_NAME", "from-env"), "--cluster-name", "from-flag");

    assertThat(source.string("cluster-name", "default")).isEqualTo("from-flag");
  }

  @Test
  void emptyEnvironmentVariableCountsAsUnset() {
    ConfigSource source = source(Map.of("MESHWORK_METRICS_PORT", ""));

    assertThat(source.port("metrics-port", 9966)).isEqualTo(9966);
    assertThat(source.isSet("metrics-port")).isFalse();
  }

  @Test
  void defaultsApplyWhenNothingIsGiven() {
    ConfigSource source = args();

    assertThat(source.string("name", "x")).isEqualTo("x");
    assertThat(source.optionalString("name")).isEmpty();
    assertThat(source.integer("count", 3, 0, 10)).isEqualTo(3);
    assertThat(source.bool("debug", false)).isFalse();
    assertThat(source.duration("resync", Duration.ofMinutes(5))).isEqualTo(Duration.ofMinutes(5));
    assertThat(source.path("config", Path.of("/etc/x.yaml"))).isEqualTo(Path.of("/etc/x.yaml"));
    assertThat(source.optionalPath("config")).isEmpty();
    assertThat(source.list("endpoints", List.of("a"))).containsExactly("a");
  }

  @Test
  void outOfRangeIntegerNamesTheSettingBothWays() {
    ConfigSource source = args("--cluster-id=300");

    assertThatThrownBy(() -> source.integer("cluster-id", 1, 1, 255))
        .isInstanceOf(ConfigException.class)
        .hasMessage("invalid --cluster-id (MESHWORK_CLUSTER_ID): \"300\" is outside 1..255")
        .satisfies(e -> assertThat(((ConfigException) e).setting()).isEqualTo("cluster-id"));
  }

  @Test
  void badValueFromTheEnvironmentIsReportedTheSameWay() {
    ConfigSource source = source(Map.of("MESHWORK_CLUSTER_ID", "seven"));

    assertThatThrownBy(() -> source.integer("cluster-id", 1, 1, 255))
        .hasMessage("invalid --cluster-id (MESHWORK_CLUSTER_ID): \"seven\" is not an integer");
  }

  @Test
  void missingRequiredSettingNamesIt() {
    assertThatThrownBy(() -> args().requiredString("cluster-name"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("missing --cluster-name (MESHWORK_CLUSTER_NAME): it is required");
    assertThatThrownBy(() -> args().requiredInteger("cluster-id", 1, 255))
        .hasMessage("missing --cluster-id (MESHWORK_CLUSTER_ID): it is required");
    assertThatThrownBy(() -> args().requiredPath("kvstore-config"))
        .hasMessage("missing --kvstore-config (MESHWORK_KVSTORE_CONFIG): it is required");
  }

  @ParameterizedTest
  @CsvSource({"true,true", "false,false", "yes,true", "no,false", "1,true", "0,false", "TRUE,true"})
  void readsBooleans(String text, boolean expected) {
    assertThat(args("--debug=" + text).bool("debug", !expected)).isEqualTo(expected);
  }

  @Test
  void rejectsABooleanThatIsNotOne() {
    assertThatThrownBy(() -> args("--debug=maybe").bool("debug", false))
        .hasMessage("invalid --debug (MESHWORK_DEBUG): \"maybe\" is not a boolean (true or false)");
  }

  @ParameterizedTest
  @CsvSource({
      "30s, PT30S", "5m, PT5M", "1h, PT1H", "250ms, PT0.25S", "1h30m, PT1H30M", "1.5s, PT1.5S",
      "100us, PT0.0001S", "2d, PT48H", "0, PT0S", "PT10S, PT10S", "' 45s ', PT45S"})
  void readsDurations(String text, String expected) {
    assertThat(args("--resync=" + text).duration("resync", Duration.ZERO)).isEqualTo(Duration.parse(expected));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "30| has no unit (examples: 250ms, 30s, 5m, 1h)",
      "-5s| is not a duration (examples: 250ms, 30s, 5m, 1h, 1h30m)",
      "5 minutes| is not a duration (examples: 250ms, 30s, 5m, 1h, 1h30m)",
      "s| is not a duration (examples: 250ms, 30s, 5m, 1h, 1h30m)",
      "PT-5S| is negative"})
  void rejectsBadDurations(String text, String reason) {
    assertThatThrownBy(() -> args("--resync=" + text).duration("resync", Duration.ZERO))
        .hasMessage("invalid --resync (MESHWORK_RESYNC): \"" + text + "\" " + reason);
  }

  @Test
  void enforcesDurationBounds() {
    assertThatThrownBy(() -> args("--resync=1ms").duration("resync", Duration.ofMinutes(5), Duration.ofSeconds(1), Duration.ofHours(1)))
        .hasMessage("invalid --resync (MESHWORK_RESYNC): \"1ms\" is outside 1s..1h");
  }

  @Test
  void formatsDurationsTheWayItReadsThem() {
    assertThat(ConfigSource.formatDuration(Duration.ofMillis(250))).isEqualTo("250ms");
    assertThat(ConfigSource.formatDuration(Duration.ofMinutes(90))).isEqualTo("1h30m");
    assertThat(ConfigSource.formatDuration(Duration.ZERO)).isEqualTo("0");
  }

  @Test
  void formattedDurationsReadBackUnchanged() {
    java.util.SplittableRandom random = new java.util.SplittableRandom(3);
    for (int i = 0; i < 1_000; i++) {
      Duration duration = Duration.ofNanos(random.nextLong(0, Duration.ofDays(400).toNanos()));
      String text = ConfigSource.formatDuration(duration);

      assertThat(args("--d=" + text).duration("d", Duration.ZERO)).as(text).isEqualTo(duration);
    }
  }

  @Test
  void readsCommaSeparatedListsAndRepeatedFlags() {
    assertThat(args("--endpoints= https://a:2379, ,https://b:2379 ").list("endpoints", List.of()))
        .containsExactly("https://a:2379", "https://b:2379");
    assertThat(args("--endpoints=a", "--endpoints", "b,c").list("endpoints", List.of())).containsExactly("a", "b", "c");
    assertThat(source(Map.of("MESHWORK_ENDPOINTS", "x,y")).list("endpoints", List.of())).containsExactly("x", "y");
  }

  @Test
  void refusesARepeatedSingleValuedFlag() {
    assertThatThrownBy(() -> args("--cluster-id=1", "--cluster-id=2").integer("cluster-id", 1, 1, 255))
        .hasMessage("invalid --cluster-id (MESHWORK_CLUSTER_ID): given 2 times (\"1\", \"2\")");
  }

  @Test
  void readsPathsAndRefusesEmptyOnes() {
    assertThat(args("--config=/etc/meshwork/etcd.yaml").requiredPath("config")).isEqualTo(Path.of("/etc/meshwork/etcd.yaml"));
    assertThatThrownBy(() -> args("--config=").path("config", null))
        .hasMessage("invalid --config (MESHWORK_CONFIG): \"\" is not a path: it is empty");
  }

  enum Mode { TUNNEL, NATIVE_ROUTING }

  @Test
  void readsEnumChoicesInKebabCase() {
    assertThat(args("--mode=native-routing").choice("mode", Mode.class, Mode.TUNNEL)).isEqualTo(Mode.NATIVE_ROUTING);
    assertThatThrownBy(() -> args("--mode=bgp").choice("mode", Mode.class, Mode.TUNNEL))
        .hasMessage("invalid --mode (MESHWORK_MODE): \"bgp\" is not one of tunnel, native-routing");
  }

  @Test
  void customParserReasonBecomesTheMessage() {
    ConfigSource source = args("--zone=EU");

    assertThatThrownBy(() -> source.value("zone", "zone", "eu", text -> {
      if (!text.equals(text.toLowerCase())) {
        throw new IllegalArgumentException("zone \"" + text + "\" must be lower case");
      }
      return text;
    })).isInstanceOf(ConfigException.class).hasMessage("invalid --zone (MESHWORK_ZONE): zone \"EU\" must be lower case");
  }

  @Test
  void unknownFlagIsAnErrorNamingItWithASuggestion() {
    ConfigSource source = args("--cluster-nmae=x", "--metrics-port=1");
    source.string("cluster-name", "default");
    source.port("metrics-port", 9966);

    assertThatThrownBy(source::rejectUnknown)
        .isInstanceOf(ConfigException.class)
        .hasMessage("unknown flag --cluster-nmae (did you mean --cluster-name?)");
  }

  @Test
  void unknownFlagsAreAllListed() {
    ConfigSource source = args("--zzz=1", "--aaa");

    assertThatThrownBy(() -> source.rejectUnknown(Set.of("cluster-name")))
        .hasMessage("unknown flag --aaa; also unknown: --zzz");
  }

  @Test
  void unknownEnvironmentVariablesAreAllowed() {
    ConfigSource source = source(Map.of("MESHWORK_JAVA_OPTS", "-Xmx1g"));

    source.rejectUnknown();
  }

  @Test
  void positionalArgumentsAreRefused() {
    assertThatThrownBy(() -> args("cluster-1")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("unexpected argument \"cluster-1\"");
    assertThatThrownBy(() -> args("-x")).hasMessageContaining("unexpected argument \"-x\"");
    assertThatThrownBy(() -> args("--Cluster=1")).hasMessageContaining("lower case");
  }

  @Test
  void flagValueMayStartWithASingleDash() {
    assertThat(args("--offset", "-5").integer("offset", 0, -10, 10)).isEqualTo(-5);
  }

  @Test
  void helpListsEverySettingReadEvenWhenValuesAreMissingOrBad() {
    ConfigSource source = args("--help", "--cluster-id=300");
    assertThat(source.helpRequested()).isTrue();

    source.document("cluster-name", "name of this cluster");
    assertThat(source.requiredString("cluster-name")).isNull();
    assertThat(source.integer("cluster-id", 1, 1, 255)).isEqualTo(1);
    source.duration("resync", Duration.ofMinutes(5));
    source.rejectUnknown();

    assertThat(source.help()).isEqualTo("""
          --cluster-name (MESHWORK_CLUSTER_NAME)  string, required
              name of this cluster
          --cluster-id (MESHWORK_CLUSTER_ID)  integer 1..255, default 1
          --resync (MESHWORK_RESYNC)  duration, default 5m
        """);
    assertThat(source.settings()).extracting(Setting::environmentVariable)
        .containsExactly("MESHWORK_CLUSTER_NAME", "MESHWORK_CLUSTER_ID", "MESHWORK_RESYNC");
  }

  @Test
  void mapsNamesToEnvironmentVariables() {
    assertThat(ConfigSource.environmentVariable("clustermesh-config-dir")).isEqualTo("MESHWORK_CLUSTERMESH_CONFIG_DIR");
    assertThat(ConfigSource.flagAndVariable("cluster-id")).isEqualTo("--cluster-id (MESHWORK_CLUSTER_ID)");
  }
}
