package dev.meshwork.cni.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {

  @Test
  void readsACniConfigurationWithNestedValues() {
    Map<String, Object> config = Json.parseObject("""
        {
          "cniVersion": "1.1.0",
          "name": "meshwork",
          "mtu": 1450,
          "ipMasq": false,
          "dns": {"nameservers": ["10.96.0.10"], "search": []},
          "args": null
        }""");

    assertThat(config).containsEntry("cniVersion", "1.1.0")
        .containsEntry("mtu", new BigDecimal("1450"))
        .containsEntry("ipMasq", Boolean.FALSE)
        .containsEntry("args", Json.NULL);
    assertThat(config.keySet()).containsExactly("cniVersion", "name", "mtu", "ipMasq", "dns",
        "args");
    assertThat(config.get("dns")).isEqualTo(
        Map.of("nameservers", List.of("10.96.0.10"), "search", List.of()));
  }

  @Test
  void decodesEveryEscape() {
    assertThat(Json.parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20AC\""))
        .isEqualTo("a\"b\\c/d\b\f\n\r\té€");
  }

  @Test
  void decodesSurrogatePairsAndRawUnicode() {
    assertThat(Json.parse("\"\\ud83d\\ude00 ü\"")).isEqualTo("\uD83D\uDE00 ü");
  }

  @Test
  void readsNumbersExactly() {
    assertThat(Json.parse("-0")).isEqualTo(new BigDecimal("-0"));
    assertThat(Json.parse("12.50")).isEqualTo(new BigDecimal("12.50"));
    assertThat(Json.parse("1e3")).isEqualTo(new BigDecimal("1e3"));
    assertThat(Json.parse("-2.5E-2")).isEqualTo(new BigDecimal("-2.5E-2"));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", "   ", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "{'a':1}",
    "{\"a\":1}}", "\"unterminated", "\"tab\there\"", "\"\\x\"", "\"\\u12\"", "01", "1.", ".5",
    "-", "1e", "tru", "nul", "NaN", "{\"a\":1,\"a\":2}", "{a:1}"
  })
  void rejectsMalformedDocuments(String text) {
    assertThatThrownBy(() -> Json.parse(text)).isInstanceOf(JsonException.class)
        .hasMessageContaining("offset");
  }

  @Test
  void saysWhereTheProblemIs() {
    assertThatThrownBy(() -> Json.parse("{\"name\": \"meshwork\",, }"))
        .isInstanceOf(JsonException.class)
        .hasMessageContaining("expected a string key")
        .satisfies(e -> assertThat(((JsonException) e).offset()).isEqualTo(20));
  }

  @Test
  void refusesNestingDeeperThanAConfigurationCouldNeed() {
    String deep = "[".repeat(100) + "]".repeat(100);

    assertThatThrownBy(() -> Json.parse(deep)).hasMessageContaining("nesting");
  }

  @Test
  void parseObjectRejectsOtherValues() {
    assertThatThrownBy(() -> Json.parseObject("[1]")).isInstanceOf(JsonException.class)
        .hasMessageContaining("expected a JSON object but found an array");
  }

  @Test
  void writesCompactJsonInInsertionOrder() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("cniVersion", "1.0.0");
    map.put("code", 7);
    map.put("big", 4294967296L);
    map.put("ok", true);
    map.put("none", null);
    map.put("list", List.of("a", new BigDecimal("1.5")));

    assertThat(Json.write(map)).isEqualTo(
        "{\"cniVersion\":\"1.0.0\",\"code\":7,\"big\":4294967296,\"ok\":true,\"none\":null,"
            + "\"list\":[\"a\",1.5]}");
  }

  @Test
  void escapesWhatJsonRequires() {
    assertThat(Json.write("q\"b\\n\nt\tc\u0001 é\u2028"))
        .isEqualTo("\"q\\\"b\\\\n\\nt\\tc\\u0001 é\\u2028\"");
  }

  @Test
  void roundTripsArbitraryStrings() {
    char[] all = new char[0x300];
    Arrays.setAll(new Object[all.length], i -> all[i] = (char) i);
    String s = new String(all);

    assertThat(Json.parse(Json.write(s))).isEqualTo(s);
  }

  @Test
  void builderLeavesOutEmptyOptionalMembers() {
    Map<String, Object> o = Json.object().put("name", "eth0").putIfNotEmpty("mac", "")
        .putIfNotEmpty("sandbox", "/var/run/netns/x").putIfNotEmpty("routes", List.of()).build();

    assertThat(Json.write(o)).isEqualTo("{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/x\"}");
  }

  @Test
  void refusesToWriteWhatIsNotJson() {
    assertThatThrownBy(() -> Json.write(Map.of("x", new Object())))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
