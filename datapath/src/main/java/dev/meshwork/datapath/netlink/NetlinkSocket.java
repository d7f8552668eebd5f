package dev.meshwork.datapath.netlink;

import dev.meshwork.datapath.linux.Errno;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * A {@code NETLINK_ROUTE} socket through the FFM API: requests out, acknowledgements and dumps
 * in, matched by sequence number. Extended acks are switched on so that a refused request carries
 * the kernel's explanation. One caller at a time (requests and replies are not multiplexed);
 * open one socket per concurrent user, they are cheap.
 *
 * <p>A netlink socket belongs to the network namespace it was created in, for its whole life,
 * whatever thread later uses it. {@link #openIn} uses that: it creates the socket on a platform
 * thread of its own that enters the target namespace with setns(2) and leaves it again. The thread
 * is dedicated (started for this and ended after) because setns(2) switches only the calling OS
 * thread: a pooled thread, or the carrier of a virtual thread, would be left in (or migrate out of)
 * the pod's namespace for whatever code it runs next, and a failed switch back would poison it.
 */
public final class NetlinkSocket implements AutoCloseable {
  private static final int RECEIVE_BUFFER = 64 * 1024;
  private static final int DUMP_ATTEMPTS = 3;

  private final int fd;
  private final String namespace;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment receiveBuffer = arena.allocate(RECEIVE_BUFFER, 8);
  private int sequence;

  private NetlinkSocket(int fd, String namespace) {
    this.fd = fd;
    this.namespace = namespace;
  }

  /** A socket in the calling thread's network namespace. */
  public static NetlinkSocket open() throws NetlinkException {
    return create("the agent's network namespace");
  }

  /** A socket in the network namespace {@code netns} (see the class comment for how). */
  public static NetlinkSocket openIn(NetnsFile netns) throws NetlinkException {
    FutureTask<NetlinkSocket> task = new FutureTask<>(() -> createInside(netns));
    Thread.ofPlatform().name("meshwork-netns-enter").daemon().start(task);
    // The thread needs microseconds; an interrupt meanwhile is kept for later rather than
    // abandoning a socket the thread may already have made.
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return task.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          if (e.getCause() instanceof NetlinkException n) {
            throw n;
          }
          throw new IllegalStateException("opening a netlink socket in " + netns + " failed", e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Runs on the dedicated thread: enter, create, leave. */
  private static NetlinkSocket createInside(NetnsFile target) throws NetlinkException {
    try (NetnsFile home = NetnsFile.ofCurrentThread()) {
      enter(target, "enter " + target);
      try {
        return create(target.toString());
      } finally {
        // the thread ends right after; leaving anyway keeps a failure here visible
        enter(home, "return from " + target + " to " + home);
      }
    }
  }

  private static void enter(NetnsFile netns, String what) throws NetlinkException {
    int r = LibC.setns(netns.fd(), LibC.CLONE_NEWNET);
    if (r < 0) {
      throw new NetlinkException("setns: cannot " + what, -r);
    }
  }

  private static NetlinkSocket create(String namespace) throws NetlinkException {
    int fd = LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.NETLINK_ROUTE);
    if (fd < 0) {
      throw new NetlinkException("cannot open a NETLINK_ROUTE socket in " + namespace, -fd);
    }
    // Best effort: without them errors still carry the errno, only the kernel's text is missing.
    LibC.setsockoptInt(fd, LibC.SOL_NETLINK, LibC.NETLINK_EXT_ACK, 1);
    LibC.setsockoptInt(fd, LibC.SOL_NETLINK, LibC.NETLINK_CAP_ACK, 1);
    return new NetlinkSocket(fd, namespace);
  }

  /** Where this socket's requests apply, for messages. */
  public String namespace() {
    return namespace;
  }

  /**
   * Sends {@code request} with {@code NLM_F_ACK} and waits for the kernel's answer; throws with
   * the errno (and the kernel's text) when it refuses. {@code what} names the operation and object.
   */
  public void acknowledge(NetlinkRequest request, String what) throws NetlinkException {
    int seq = send(request, NetlinkMessage.NLM_F_ACK, what);
    while (true) {
      for (NetlinkMessage m : receive(what)) {
        if (m.sequence() != seq || !m.isError()) {
          continue; // a stray reply to an earlier, abandoned request
        }
        if (m.errno() != 0) {
          throw new NetlinkException(what, m.errno(), m.kernelMessage());
        }
        return;
      }
    }
  }

  /**
   * Sends {@code request} with {@code NLM_F_ACK} and returns the kernel's one reply message (a
   * get of one object); throws with the errno when it refuses (ENODEV: no such link).
   */
  public NetlinkMessage get(NetlinkRequest request, String what) throws NetlinkException {
    int seq = send(request, 0, what);
    while (true) {
      for (NetlinkMessage m : receive(what)) {
        if (m.sequence() != seq) {
          continue;
        }
        if (m.isError()) {
          throw new NetlinkException(what, m.errno(), m.kernelMessage());
        }
        return m;
      }
    }
  }

  /**
   * Sends {@code request} as a dump and collects every reply message up to {@code NLMSG_DONE}. A
   * dump the kernel marks as interrupted (the table changed meanwhile) is repeated.
   */
  public List<NetlinkMessage> dump(NetlinkRequest request, String what) throws NetlinkException {
    for (int attempt = 1; ; attempt++) {
      int seq = send(request, NetlinkMessage.NLM_F_DUMP, what);
      List<NetlinkMessage> replies = new ArrayList<>();
      boolean interrupted = false;
      boolean done = false;
      while (!done) {
        for (NetlinkMessage m : receive(what)) {
          if (m.sequence() != seq) {
            continue;
          }
          interrupted |= (m.flags() & NetlinkMessage.NLM_F_DUMP_INTR) != 0;
          if (m.isError()) {
            throw new NetlinkException(what, m.errno(), m.kernelMessage());
          }
          if (m.isDone()) {
            done = true;
            break;
          }
          replies.add(m);
        }
      }
      if (!interrupted) {
        return replies;
      }
      if (attempt == DUMP_ATTEMPTS) {
        throw new NetlinkException(what + ": the dump was interrupted " + DUMP_ATTEMPTS + " times by concurrent changes");
      }
    }
  }

  private int send(NetlinkRequest request, int extraFlags, String what) throws NetlinkException {
    int seq = ++sequence;
    byte[] bytes = request.toBytes(seq, NetlinkMessage.NLM_F_REQUEST | extraFlags);
    try (Arena call = Arena.ofConfined()) {
      MemorySegment out = call.allocate(bytes.length, 8);
      MemorySegment.copy(bytes, 0, out, JAVA_BYTE, 0, bytes.length);
      long r = LibC.send(fd, out, bytes.length);
      if (r < 0) {
        throw new NetlinkException(what + ": send on the netlink socket in " + namespace, (int) -r);
      }
    }
    return seq;
  }

  private List<NetlinkMessage> receive(String what) throws NetlinkException {
    long r;
    do {
      r = LibC.recv(fd, receiveBuffer, RECEIVE_BUFFER);
    } while (r == -Errno.EINTR);
    if (r < 0) {
      throw new NetlinkException(what + ": receive on the netlink socket in " + namespace, (int) -r);
    }
    byte[] datagram = receiveBuffer.asSlice(0, r).toArray(JAVA_BYTE);
    return NetlinkMessage.parse(ByteBuffer.wrap(datagram).order(ByteOrder.nativeOrder()));
  }

  @Override
  public void close() {
    LibC.close(fd);
    arena.close();
  }
}
