package dev.meshwork.datapath.netlink;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The libc calls that netlink needs, through the Foreign Function &amp; Memory API with errno
 * captured (no JNI). Every method returns the call's result, or the negated errno when it failed.
 */
final class LibC {
  static final int AF_NETLINK = 16;
  static final int SOCK_RAW = 3;
  static final int SOCK_CLOEXEC = 0x80000;
  static final int NETLINK_ROUTE = 0;
  static final int SOL_NETLINK = 270;
  static final int NETLINK_CAP_ACK = 10;
  static final int NETLINK_EXT_ACK = 11;
  static final int O_RDONLY = 0;
  static final int O_CLOEXEC = 0x80000;
  static final int CLONE_NEWNET = 0x40000000;

  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  private static final MethodHandle SOCKET = function("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
  private static final MethodHandle SETSOCKOPT =
      function("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle SEND = function("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
  private static final MethodHandle RECV = function("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
  private static final MethodHandle CLOSE = function("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  // open(2) is variadic only for the mode, which a read-only open does not pass.
  private static final MethodHandle OPEN = function("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle SETNS = function("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

  private static final ThreadLocal<MemorySegment> STATE = ThreadLocal.withInitial(() -> Arena.global().allocate(CALL_STATE));

  private LibC() {}

  private static MethodHandle function(String name, FunctionDescriptor descriptor) {
    Linker linker = Linker.nativeLinker();
    MemorySegment symbol =
        linker.defaultLookup().find(name).orElseThrow(() -> new ExceptionInInitializerError("libc has no " + name));
    return linker.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"));
  }

  private static long orErrno(long result, MemorySegment state) {
    return result < 0 ? -(int) ERRNO.get(state, 0L) : result;
  }

  static int socket(int domain, int type, int protocol) {
    MemorySegment state = STATE.get();
    try {
      return (int) orErrno((int) SOCKET.invokeExact(state, domain, type, protocol), state);
    } catch (Throwable t) {
      throw linkFailure("socket", t);
    }
  }

  static int setsockoptInt(int fd, int level, int option, int value) {
    MemorySegment state = STATE.get();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment v = arena.allocateFrom(JAVA_INT, value);
      return (int) orErrno((int) SETSOCKOPT.invokeExact(state, fd, level, option, v, (int) JAVA_INT.byteSize()), state);
    } catch (Throwable t) {
      throw linkFailure("setsockopt", t);
    }
  }

  static long send(int fd, MemorySegment buffer, long length) {
    MemorySegment state = STATE.get();
    try {
      return orErrno((long) SEND.invokeExact(state, fd, buffer, length, 0), state);
    } catch (Throwable t) {
      throw linkFailure("send", t);
    }
  }

  static long recv(int fd, MemorySegment buffer, long length) {
    MemorySegment state = STATE.get();
    try {
      return orErrno((long) RECV.invokeExact(state, fd, buffer, length, 0), state);
    } catch (Throwable t) {
      throw linkFailure("recv", t);
    }
  }

  static int close(int fd) {
    MemorySegment state = STATE.get();
    try {
      return (int) orErrno((int) CLOSE.invokeExact(state, fd), state);
    } catch (Throwable t) {
      throw linkFailure("close", t);
    }
  }

  static int open(String path, int flags) {
    MemorySegment state = STATE.get();
    try (Arena arena = Arena.ofConfined()) {
      return (int) orErrno((int) OPEN.invokeExact(state, arena.allocateFrom(path), flags), state);
    } catch (Throwable t) {
      throw linkFailure("open", t);
    }
  }

  static int setns(int fd, int nstype) {
    MemorySegment state = STATE.get();
    try {
      return (int) orErrno((int) SETNS.invokeExact(state, fd, nstype), state);
    } catch (Throwable t) {
      throw linkFailure("setns", t);
    }
  }

  private static IllegalStateException linkFailure(String function, Throwable t) {
    return new IllegalStateException("libc " + function + " call failed to link", t);
  }
}
