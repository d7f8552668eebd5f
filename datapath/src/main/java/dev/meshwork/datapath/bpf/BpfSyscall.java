package dev.meshwork.datapath.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * The bpf(2) system call through the Foreign Function &amp; Memory API: libc's variadic {@code
 * syscall} with errno captured, no JNI and no libbpf. Each thread reuses one native {@code
 * union bpf_attr} buffer, so a map update allocates nothing on the Java heap.
 *
 * <p>Only the commands the agent needs: map create, lookup, update, delete, next key, the batch
 * operations, pin/get of bpffs objects, map info, and run-time statistics for benchmarks. Programs are loaded by {@code bpftool}.
 */
public final class BpfSyscall {
  private static final long SYS_BPF = 321; // x86_64
  private static final long SYS_CLOSE = 3;

  // enum bpf_cmd
  static final int BPF_MAP_CREATE = 0;
  static final int BPF_MAP_LOOKUP_ELEM = 1;
  static final int BPF_MAP_UPDATE_ELEM = 2;
  static final int BPF_MAP_DELETE_ELEM = 3;
  static final int BPF_MAP_GET_NEXT_KEY = 4;
  static final int BPF_OBJ_PIN = 6;
  static final int BPF_OBJ_GET = 7;
  static final int BPF_OBJ_GET_INFO_BY_FD = 15;
  static final int BPF_MAP_UPDATE_BATCH = 26;
  static final int BPF_MAP_DELETE_BATCH = 27;
  static final int BPF_ENABLE_STATS = 32;
  static final int BPF_STATS_RUN_TIME = 0;

  /** Update flags. */
  public static final long BPF_ANY = 0;
  public static final long BPF_NOEXIST = 1;
  public static final long BPF_EXIST = 2;

  /** Size of the attr buffer: larger than every command's part of {@code union bpf_attr}. */
  static final int ATTR_SIZE = 128;

  /** Offsets inside {@code union bpf_attr}, per command group (see include/uapi/linux/bpf.h). */
  static final class Attr {
    // BPF_MAP_CREATE
    static final long MAP_TYPE = 0, KEY_SIZE = 4, VALUE_SIZE = 8, MAX_ENTRIES = 12, MAP_FLAGS = 16,
        MAP_NAME = 28;
    static final int MAP_NAME_LEN = 16;
    // BPF_MAP_*_ELEM
    static final long ELEM_MAP_FD = 0, ELEM_KEY = 8, ELEM_VALUE = 16, ELEM_FLAGS = 24;
    // BPF_OBJ_PIN / BPF_OBJ_GET
    static final long OBJ_PATHNAME = 0, OBJ_BPF_FD = 8, OBJ_FILE_FLAGS = 12;
    // BPF_OBJ_GET_INFO_BY_FD
    static final long INFO_BPF_FD = 0, INFO_LEN = 4, INFO_PTR = 8;
    // BPF_MAP_*_BATCH
    static final long BATCH_IN = 0, BATCH_OUT = 8, BATCH_KEYS = 16, BATCH_VALUES = 24,
        BATCH_COUNT = 32, BATCH_MAP_FD = 36, BATCH_ELEM_FLAGS = 40, BATCH_FLAGS = 48;

    private Attr() {}
  }

  /** Offsets inside {@code struct bpf_map_info}. */
  static final class MapInfoLayout {
    static final long TYPE = 0, ID = 4, KEY_SIZE = 8, VALUE_SIZE = 12, MAX_ENTRIES = 16,
        MAP_FLAGS = 20, NAME = 24;
    static final int SIZE = 88;

    private MapInfoLayout() {}
  }

  private static final MethodHandle SYSCALL;
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

  static {
    Linker linker = Linker.nativeLinker();
    MemorySegment syscall =
        linker
            .defaultLookup()
            .find("syscall")
            .orElseThrow(() -> new ExceptionInInitializerError("libc has no syscall symbol"));
    SYSCALL =
        linker.downcallHandle(
            syscall,
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
            Linker.Option.firstVariadicArg(1),
            Linker.Option.captureCallState("errno"));
  }

  /** Per-thread native scratch: the attr union and the errno capture area. */
  private static final class Scratch {
    final MemorySegment attr = Arena.global().allocate(ATTR_SIZE, 8);
    final MemorySegment state = Arena.global().allocate(CALL_STATE);
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private BpfSyscall() {}

  /** What {@link #bpf} returns: the kernel's result, or -1 with the errno. */
  record Result(long value, int errno) {
    boolean failed() {
      return value < 0;
    }
  }

  private static MemorySegment attr() {
    MemorySegment attr = SCRATCH.get().attr;
    attr.fill((byte) 0);
    return attr;
  }

  /** Issues bpf(cmd, attr, ATTR_SIZE) with the calling thread's attr buffer. */
  private static long bpf(int cmd, MemorySegment attr) {
    Scratch scratch = SCRATCH.get();
    try {
      long r = (long) SYSCALL.invokeExact(scratch.state, SYS_BPF, (long) cmd, attr, (long) ATTR_SIZE);
      return r < 0 ? -(int) ERRNO.get(scratch.state, 0L) : r;
    } catch (Throwable t) {
      throw new IllegalStateException("bpf(2) call failed to link", t);
    }
  }

  /** Creates a map; returns its fd. */
  public static int mapCreate(
      String name, int type, int keySize, int valueSize, int maxEntries, int flags)
      throws BpfException {
    MemorySegment a = attr();
    a.set(JAVA_INT, Attr.MAP_TYPE, type);
    a.set(JAVA_INT, Attr.KEY_SIZE, keySize);
    a.set(JAVA_INT, Attr.VALUE_SIZE, valueSize);
    a.set(JAVA_INT, Attr.MAX_ENTRIES, maxEntries);
    a.set(JAVA_INT, Attr.MAP_FLAGS, flags);
    byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
    if (bytes.length >= Attr.MAP_NAME_LEN) {
      throw new IllegalArgumentException("map name '" + name + "' is longer than 15 characters");
    }
    MemorySegment.copy(bytes, 0, a, JAVA_BYTE, Attr.MAP_NAME, bytes.length);
    long r = bpf(BPF_MAP_CREATE, a);
    if (r < 0) {
      throw new BpfException(
          "BPF_MAP_CREATE of map " + name + " (type " + type + ", key " + keySize + " B, value "
              + valueSize + " B, " + maxEntries + " entries)",
          (int) -r);
    }
    return (int) r;
  }

  /** Pins the object behind fd at a bpffs path. */
  public static void objPin(int fd, String path) throws BpfException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment p = arena.allocateFrom(path);
      MemorySegment a = attr();
      a.set(JAVA_LONG, Attr.OBJ_PATHNAME, p.address());
      a.set(JAVA_INT, Attr.OBJ_BPF_FD, fd);
      long r = bpf(BPF_OBJ_PIN, a);
      if (r < 0) throw new BpfException("BPF_OBJ_PIN of fd " + fd + " at " + path, (int) -r);
    }
  }

  /** Opens a pinned object; returns a new fd. Throws with ENOENT when nothing is pinned there. */
  public static int objGet(String path) throws BpfException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment p = arena.allocateFrom(path);
      MemorySegment a = attr();
      a.set(JAVA_LONG, Attr.OBJ_PATHNAME, p.address());
      long r = bpf(BPF_OBJ_GET, a);
      if (r < 0) throw new BpfException("BPF_OBJ_GET of " + path, (int) -r);
      return (int) r;
    }
  }

  /** The kernel's description of a map. */
  public record MapInfo(int type, int id, int keySize, int valueSize, int maxEntries, int flags,
      String name) {}

  public static MapInfo mapInfo(int fd) throws BpfException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info = arena.allocate(MapInfoLayout.SIZE, 8);
      MemorySegment a = attr();
      a.set(JAVA_INT, Attr.INFO_BPF_FD, fd);
      a.set(JAVA_INT, Attr.INFO_LEN, MapInfoLayout.SIZE);
      a.set(JAVA_LONG, Attr.INFO_PTR, info.address());
      long r = bpf(BPF_OBJ_GET_INFO_BY_FD, a);
      if (r < 0) throw new BpfException("BPF_OBJ_GET_INFO_BY_FD of fd " + fd, (int) -r);
      byte[] name = info.asSlice(MapInfoLayout.NAME, 16).toArray(JAVA_BYTE);
      int len = 0;
      while (len < name.length && name[len] != 0) len++;
      return new MapInfo(
          info.get(JAVA_INT, MapInfoLayout.TYPE),
          info.get(JAVA_INT, MapInfoLayout.ID),
          info.get(JAVA_INT, MapInfoLayout.KEY_SIZE),
          info.get(JAVA_INT, MapInfoLayout.VALUE_SIZE),
          info.get(JAVA_INT, MapInfoLayout.MAX_ENTRIES),
          info.get(JAVA_INT, MapInfoLayout.MAP_FLAGS),
          new String(name, 0, len, StandardCharsets.US_ASCII));
    }
  }

  /** Returns 0 on success or the negated errno; callers turn that into a message. */
  static int lookup(int fd, MemorySegment key, MemorySegment value) {
    MemorySegment a = attr();
    a.set(JAVA_INT, Attr.ELEM_MAP_FD, fd);
    a.set(JAVA_LONG, Attr.ELEM_KEY, key.address());
    a.set(JAVA_LONG, Attr.ELEM_VALUE, value.address());
    return (int) Math.min(0, bpf(BPF_MAP_LOOKUP_ELEM, a));
  }

  static int update(int fd, MemorySegment key, MemorySegment value, long flags) {
    MemorySegment a = attr();
    a.set(JAVA_INT, Attr.ELEM_MAP_FD, fd);
    a.set(JAVA_LONG, Attr.ELEM_KEY, key.address());
    a.set(JAVA_LONG, Attr.ELEM_VALUE, value.address());
    a.set(JAVA_LONG, Attr.ELEM_FLAGS, flags);
    return (int) Math.min(0, bpf(BPF_MAP_UPDATE_ELEM, a));
  }

  static int delete(int fd, MemorySegment key) {
    MemorySegment a = attr();
    a.set(JAVA_INT, Attr.ELEM_MAP_FD, fd);
    a.set(JAVA_LONG, Attr.ELEM_KEY, key.address());
    return (int) Math.min(0, bpf(BPF_MAP_DELETE_ELEM, a));
  }

  /** key NULL asks for the first key. */
  static int nextKey(int fd, MemorySegment key, MemorySegment next) {
    MemorySegment a = attr();
    a.set(JAVA_INT, Attr.ELEM_MAP_FD, fd);
    a.set(JAVA_LONG, Attr.ELEM_KEY, key.address());
    a.set(JAVA_LONG, Attr.ELEM_VALUE, next.address());
    return (int) Math.min(0, bpf(BPF_MAP_GET_NEXT_KEY, a));
  }

  /**
   * BPF_MAP_UPDATE_BATCH / BPF_MAP_DELETE_BATCH: returns the number of elements the kernel
   * processed in {@code count[0]} and 0 or the negated errno.
   */
  static int batch(
      int cmd, int fd, MemorySegment keys, MemorySegment values, int count, long elemFlags,
      int[] processed) {
    MemorySegment a = attr();
    a.set(JAVA_LONG, Attr.BATCH_KEYS, keys.address());
    a.set(JAVA_LONG, Attr.BATCH_VALUES, values == null ? 0 : values.address());
    a.set(JAVA_INT, Attr.BATCH_COUNT, count);
    a.set(JAVA_INT, Attr.BATCH_MAP_FD, fd);
    a.set(JAVA_LONG, Attr.BATCH_ELEM_FLAGS, elemFlags);
    long r = bpf(cmd, a);
    processed[0] = a.get(JAVA_INT, Attr.BATCH_COUNT);
    return (int) Math.min(0, r);
  }

  /**
   * BPF_ENABLE_STATS for run time: the kernel counts run_time_ns and run_cnt of every program
   * while the returned fd is open (benchmarks; it costs two clock reads per program run).
   */
  public static int enableRunTimeStats() throws BpfException {
    MemorySegment a = attr();
    a.set(JAVA_INT, 0, BPF_STATS_RUN_TIME);
    long r = bpf(BPF_ENABLE_STATS, a);
    if (r < 0) throw new BpfException("BPF_ENABLE_STATS (run time)", (int) -r);
    return (int) r;
  }

  /** Closes a file descriptor this process owns. */
  public static void close(int fd) {
    Scratch scratch = SCRATCH.get();
    try {
      long ignored =
          (long) SYSCALL.invokeExact(scratch.state, SYS_CLOSE, (long) fd, MemorySegment.NULL, 0L);
    } catch (Throwable t) {
      throw new IllegalStateException("close(2) call failed to link", t);
    }
  }
}
