package dev.meshwork.datapath.bpf;

import dev.meshwork.datapath.linux.Errno;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One eBPF map opened by this process: a file descriptor plus its shape. Keys and values are
 * native segments laid out by {@link MapLayouts}. Errors name the map, the key and the errno.
 * Not thread-safe beyond what the kernel guarantees; {@link BpfDatapath} serialises writers.
 */
public final class BpfMap implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BpfMap.class);

  /** Map types used here (enum bpf_map_type). */
  public static final int HASH = 1;
  public static final int ARRAY = 2;
  public static final int LRU_HASH = 9;
  public static final int LPM_TRIE = 11;

  /** BPF_F_NO_PREALLOC, required by LPM tries. */
  public static final int F_NO_PREALLOC = 1;

  /** The shape of a map; the name is also its pin name. */
  public record Spec(String name, int type, long keySize, long valueSize, int maxEntries, int flags) {
    public Spec {
      if (name.contains(".") || name.length() > 15) {
        throw new IllegalArgumentException(
            "map name '" + name + "' must have no dots and at most 15 characters");
      }
      if (maxEntries < 1) {
        throw new IllegalArgumentException("map " + name + ": size " + maxEntries + " must be positive");
      }
    }
  }

  private final Spec spec;
  private final int fd;
  private volatile boolean closed;
  private volatile boolean batchUnsupported;

  private BpfMap(Spec spec, int fd) {
    this.spec = spec;
    this.fd = fd;
  }

  /** Creates a fresh, unpinned map. */
  public static BpfMap create(Spec spec) throws BpfException {
    int fd =
        BpfSyscall.mapCreate(
            spec.name(), spec.type(), (int) spec.keySize(), (int) spec.valueSize(), spec.maxEntries(),
            spec.flags());
    return new BpfMap(spec, fd);
  }

  /**
   * Opens the map pinned at {@code pinPath}, or creates and pins it when nothing is pinned there.
   * An existing pin of another shape is an error (its type or key/value size changed); a
   * different size only logs, the pinned map keeps serving.
   */
  public static BpfMap openOrCreate(String pinPath, Spec spec) throws BpfException {
    int fd;
    try {
      fd = BpfSyscall.objGet(pinPath);
    } catch (BpfException e) {
      if (e.errno() != Errno.ENOENT) throw e;
      BpfMap created = create(spec);
      try {
        BpfSyscall.objPin(created.fd, pinPath);
      } catch (BpfException pinFailure) {
        created.close();
        throw pinFailure;
      }
      return created;
    }
    BpfSyscall.MapInfo info = BpfSyscall.mapInfo(fd);
    if (info.type() != spec.type()
        || info.keySize() != spec.keySize()
        || info.valueSize() != spec.valueSize()) {
      BpfSyscall.close(fd);
      throw new BpfException(
          "map "
              + spec.name()
              + " pinned at "
              + pinPath
              + " has type "
              + info.type()
              + ", key "
              + info.keySize()
              + " B, value "
              + info.valueSize()
              + " B but this version needs type "
              + spec.type()
              + ", key "
              + spec.keySize()
              + " B, value "
              + spec.valueSize()
              + " B; remove the pin to recreate it",
          null);
    }
    if (info.maxEntries() != spec.maxEntries()) {
      log.warn(
          "map {} pinned at {} holds {} entries, configured {}; keeping the pinned map",
          spec.name(), pinPath, info.maxEntries(), spec.maxEntries());
    }
    return new BpfMap(spec, fd);
  }

  public Spec spec() {
    return spec;
  }

  public String name() {
    return spec.name();
  }

  public int fd() {
    return fd;
  }

  /** A key buffer of this map's key size in the given arena. */
  public MemorySegment newKey(Arena arena) {
    return arena.allocate(spec.keySize(), 8);
  }

  public MemorySegment newValue(Arena arena) {
    return arena.allocate(spec.valueSize(), 8);
  }

  /** Reads the value of key into value; false when the key is absent. */
  public boolean lookup(MemorySegment key, MemorySegment value) throws BpfException {
    int r = BpfSyscall.lookup(fd, key, value);
    if (r == 0) return true;
    if (-r == Errno.ENOENT) return false;
    throw failure("BPF_MAP_LOOKUP_ELEM", key, -r);
  }

  public void update(MemorySegment key, MemorySegment value, long flags) throws BpfException {
    int r = BpfSyscall.update(fd, key, value, flags);
    if (r != 0) throw failure("BPF_MAP_UPDATE_ELEM", key, -r);
  }

  /** Deletes key; false when it was absent. */
  public boolean delete(MemorySegment key) throws BpfException {
    int r = BpfSyscall.delete(fd, key);
    if (r == 0) return true;
    if (-r == Errno.ENOENT) return false;
    throw failure("BPF_MAP_DELETE_ELEM", key, -r);
  }

  /**
   * Writes {@code count} consecutive keys and values (packed at the key and value sizes) with one
   * BPF_MAP_UPDATE_BATCH where the map type has it, element by element otherwise.
   */
  public void updateAll(MemorySegment keys, MemorySegment values, int count) throws BpfException {
    int done = 0;
    if (!batchUnsupported && count > 1) {
      int[] processed = new int[1];
      int r =
          BpfSyscall.batch(
              BpfSyscall.BPF_MAP_UPDATE_BATCH, fd, keys, values, count, BpfSyscall.BPF_ANY, processed);
      if (r == 0) return;
      if (isUnsupported(-r)) {
        batchUnsupported = true;
      } else {
        done = Math.max(0, processed[0]);
        throw failure("BPF_MAP_UPDATE_BATCH", keys.asSlice(done * spec.keySize(), spec.keySize()), -r);
      }
    }
    for (int i = done; i < count; i++) {
      update(
          keys.asSlice(i * spec.keySize(), spec.keySize()),
          values.asSlice(i * spec.valueSize(), spec.valueSize()),
          BpfSyscall.BPF_ANY);
    }
  }

  /** Deletes {@code count} packed keys; absent keys are skipped. */
  public void deleteAll(MemorySegment keys, int count) throws BpfException {
    int start = 0;
    if (!batchUnsupported && count > 1) {
      int[] processed = new int[1];
      while (start < count) {
        MemorySegment rest = keys.asSlice(start * spec.keySize());
        int r =
            BpfSyscall.batch(
                BpfSyscall.BPF_MAP_DELETE_BATCH, fd, rest, null, count - start, 0, processed);
        if (r == 0) return;
        if (isUnsupported(-r)) {
          batchUnsupported = true;
          break;
        }
        if (-r != Errno.ENOENT) {
          throw failure(
              "BPF_MAP_DELETE_BATCH", rest.asSlice(processed[0] * spec.keySize(), spec.keySize()), -r);
        }
        start += processed[0] + 1; // the kernel stopped at an absent key: skip it
      }
      if (start >= count) return;
    }
    for (int i = start; i < count; i++) {
      delete(keys.asSlice(i * spec.keySize(), spec.keySize()));
    }
  }

  private static boolean isUnsupported(int errno) {
    return errno == Errno.EINVAL || errno == Errno.ENOTSUPP || errno == Errno.EOPNOTSUPP;
  }

  /**
   * Visits every entry. Keys and values are copied into the arena, so the visitor may keep them;
   * entries added or removed concurrently may or may not be seen.
   */
  public void forEach(Arena arena, BiConsumer<MemorySegment, MemorySegment> visitor)
      throws BpfException {
    for (MemorySegment key : keys(arena)) {
      MemorySegment value = newValue(arena);
      if (lookup(key, value)) visitor.accept(key, value);
    }
  }

  /** All keys, copied into the arena. */
  public List<MemorySegment> keys(Arena arena) throws BpfException {
    List<MemorySegment> keys = new ArrayList<>();
    try (Arena scratch = Arena.ofConfined()) {
      MemorySegment current = MemorySegment.NULL;
      MemorySegment next = newKey(scratch);
      while (true) {
        int r = BpfSyscall.nextKey(fd, current, next);
        if (r != 0) {
          if (-r == Errno.ENOENT) break;
          throw failure("BPF_MAP_GET_NEXT_KEY", current.equals(MemorySegment.NULL) ? null : current, -r);
        }
        MemorySegment copy = newKey(arena).copyFrom(next);
        keys.add(copy);
        current = copy;
      }
    }
    return keys;
  }

  private BpfException failure(String op, MemorySegment key, int errno) {
    String keyText = key == null ? "(first)" : HexFormat.of().formatHex(key.toArray(JAVA_BYTE));
    return new BpfException(op + " on map " + spec.name() + " key " + keyText, errno);
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      BpfSyscall.close(fd);
    }
  }

  @Override
  public String toString() {
    return "map " + spec.name() + " (fd " + fd + ")";
  }
}
