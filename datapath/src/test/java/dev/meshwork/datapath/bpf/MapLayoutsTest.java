package dev.meshwork.datapath.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java layouts must match the C structs byte for byte: compares every {@link MapLayouts}
 * struct with the BTF that clang wrote into the packaged object (read with bpftool).
 */
class MapLayoutsTest {
  private static final Pattern STRUCT = Pattern.compile("^\\[\\d+] STRUCT '(\\w+)' size=(\\d+) vlen=\\d+$");
  private static final Pattern MEMBER = Pattern.compile("^\\s+'(\\w+)' type_id=\\d+ bits_offset=(\\d+)$");

  record CStruct(long size, Map<String, Long> offsets) {}

  private static final Map<String, CStruct> btf = new LinkedHashMap<>();

  @BeforeAll
  static void readBtf(@TempDir Path dir) throws Exception {
    Path bpftool = Path.of("/usr/sbin/bpftool");
    assumeTrue(Files.isExecutable(bpftool), "bpftool is not installed (apt-get install bpftool)");
    Path object = dir.resolve("meshwork.o");
    try (InputStream in = MapLayoutsTest.class.getResourceAsStream("meshwork.o")) {
      assertThat(in).as("meshwork.o packaged as a resource").isNotNull();
      Files.copy(in, object);
    }
    Process p = new ProcessBuilder(bpftool.toString(), "btf", "dump", "file", object.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    CStruct current = null;
    for (String line : out.split("\n")) {
      Matcher s = STRUCT.matcher(line);
      Matcher m = MEMBER.matcher(line);
      if (s.matches()) {
        current = new CStruct(Long.parseLong(s.group(2)), new LinkedHashMap<>());
        btf.put(s.group(1), current);
      } else if (m.matches() && current != null) {
        current.offsets().put(m.group(1), Long.parseLong(m.group(2)) / 8);
      } else if (!line.startsWith("\t")) {
        current = null;
      }
    }
  }

  @Test
  void everyJavaLayoutHasTheSizeAndOffsetsOfItsCStruct() throws IOException {
    for (StructLayout layout : MapLayouts.all()) {
      String name = layout.name().orElseThrow();
      CStruct c = btf.get(name);
      assertThat(c).as("struct %s in the object's BTF", name).isNotNull();
      assertThat(layout.byteSize()).as("size of %s", name).isEqualTo(c.size());
      Map<String, Long> javaOffsets = new LinkedHashMap<>();
      for (MemoryLayout member : layout.memberLayouts()) {
        String field = member.name().orElseThrow();
        javaOffsets.put(field, MapLayouts.offset(layout, field));
      }
      assertThat(javaOffsets).as("member offsets of %s", name).containsExactlyEntriesOf(c.offsets());
    }
  }
}
