package dev.meshwork.datapath.bpf;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** bpf(2) through FFM on real kernel maps, pinned in a private bpffs. */
@Tag("privileged")
class BpfSyscallPrivilegedIT {
  private static final BpfMap.Spec SPEC = new BpfMap.Spec("mwt_hash", BpfMap.HASH, 4, 8, 64, 0);

  private PrivateBpffs bpffs;
  private final Arena arena = Arena.ofConfined();

  @BeforeEach
  void mount() throws Exception {
    Privileged.assumeRoot();
    bpffs = new PrivateBpffs();
  }

  @AfterEach
  void unmount() throws Exception {
    arena.close();
    if (bpffs != null) bpffs.close();
  }

  private MemorySegment key(int k) {
    MemorySegment s = arena.allocate(4, 8);
    s.set(JAVA_INT, 0, k);
    return s;
  }

  private MemorySegment value(long v) {
    MemorySegment s = arena.allocate(8, 8);
    s.set(JAVA_LONG, 0, v);
    return s;
  }

  @Test
  void updatesLooksUpAndDeletesElementsOfARealMap() throws Exception {
    try (BpfMap map = BpfMap.create(SPEC)) {
      map.update(key(7), value(700), BpfSyscall.BPF_ANY);
      MemorySegment out = value(0);
      assertThat(map.lookup(key(7), out)).isTrue();
      assertThat(out.get(JAVA_LONG, 0)).isEqualTo(700);
      assertThat(map.lookup(key(8), out)).isFalse();
      assertThat(map.delete(key(7))).isTrue();
      assertThat(map.delete(key(7))).isFalse();
      assertThat(map.lookup(key(7), out)).isFalse();
    }
  }

  @Test
  void reopensAPinnedMapWithItsContents() throws Exception {
    String pin = bpffs.root().resolve("mwt_hash").toString();
    try (BpfMap map = BpfMap.openOrCreate(pin, SPEC)) {
      map.update(key(1), value(11), BpfSyscall.BPF_ANY);
    }
    try (BpfMap again = BpfMap.openOrCreate(pin, SPEC)) {
      MemorySegment out = value(0);
      assertThat(again.lookup(key(1), out)).isTrue();
      assertThat(out.get(JAVA_LONG, 0)).isEqualTo(11);
      assertThat(BpfSyscall.mapInfo(again.fd()).name()).isEqualTo("mwt_hash");
    }
  }

  @Test
  void refusesAPinnedMapOfAnotherShape() throws Exception {
    String pin = bpffs.root().resolve("mwt_hash").toString();
    BpfMap.openOrCreate(pin, SPEC).close();
    BpfMap.Spec wider = new BpfMap.Spec("mwt_hash", BpfMap.HASH, 8, 8, 64, 0);
    assertThatThrownBy(() -> BpfMap.openOrCreate(pin, wider))
        .hasMessageContaining("map mwt_hash pinned at " + pin)
        .hasMessageContaining("remove the pin");
  }

  @Test
  void batchUpdatesAndDeletesSkippingAbsentKeys() throws Exception {
    try (BpfMap map = BpfMap.create(SPEC)) {
      int n = 10;
      MemorySegment keys = arena.allocate(4L * n, 8);
      MemorySegment values = arena.allocate(8L * n, 8);
      for (int i = 0; i < n; i++) {
        keys.setAtIndex(JAVA_INT, i, i + 100);
        values.setAtIndex(JAVA_LONG, i, i * 3L);
      }
      map.updateAll(keys, values, n);
      assertThat(map.keys(arena)).hasSize(n);
      MemorySegment out = value(0);
      assertThat(map.lookup(key(109), out)).isTrue();
      assertThat(out.get(JAVA_LONG, 0)).isEqualTo(27);

      map.delete(key(103));
      map.deleteAll(keys, n); // 103 is already gone: skipped, the rest deleted
      assertThat(map.keys(arena)).isEmpty();
    }
  }

  @Test
  void iteratesEveryEntry() throws Exception {
    try (BpfMap map = BpfMap.create(SPEC)) {
      for (int i = 0; i < 20; i++) map.update(key(i), value(i * 10L), BpfSyscall.BPF_ANY);
      List<Long> seen = new ArrayList<>();
      map.forEach(arena, (k, v) -> {
        assertThat(v.get(JAVA_LONG, 0)).isEqualTo(k.get(JAVA_INT, 0) * 10L);
        seen.add(v.get(JAVA_LONG, 0));
      });
      assertThat(seen).hasSize(20);
    }
  }

  @Test
  void errorsNameTheOperationMapKeyAndErrno() throws Exception {
    BpfMap.Spec tiny = new BpfMap.Spec("mwt_tiny", BpfMap.HASH, 4, 8, 1, 0);
    try (BpfMap map = BpfMap.create(tiny)) {
      map.update(key(1), value(1), BpfSyscall.BPF_ANY);
      assertThatThrownBy(() -> map.update(key(2), value(2), BpfSyscall.BPF_ANY))
          .isInstanceOf(BpfException.class)
          .hasMessage("BPF_MAP_UPDATE_ELEM on map mwt_tiny key 02000000: E2BIG (argument list too long)");
      assertThatThrownBy(() -> map.update(key(1), value(2), BpfSyscall.BPF_NOEXIST))
          .hasMessageContaining("EEXIST");
    }
    assertThatThrownBy(() -> BpfSyscall.objGet(bpffs.root().resolve("nothing").toString()))
        .hasMessageContaining("BPF_OBJ_GET of " + bpffs.root().resolve("nothing"))
        .hasMessageContaining("ENOENT");
  }

  @Test
  void enablesRunTimeStatsThroughABpfStatsFdThatTheCallerCloses() throws Exception {
    int fd = BpfSyscall.enableRunTimeStats();
    Path link = Path.of("/proc/self/fd/" + fd);
    assertThat(Files.readSymbolicLink(link)).hasToString("anon_inode:bpf-stats");
    BpfSyscall.close(fd);
    assertThat(Files.exists(link, LinkOption.NOFOLLOW_LINKS)).isFalse();
  }
}
