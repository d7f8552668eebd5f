package dev.meshwork.e2e.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP relay in front of an etcd, so a test can cut a client off (every connection
 * closed, new ones refused) while the etcd itself keeps running and accepting writes, then let it
 * back in. Loopback only.
 */
final class TcpProxy implements AutoCloseable {
  private final int targetPort;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final int port;
  private volatile ServerSocket server;
  private final Object stallLock = new Object();
  private boolean stalled; // guarded by stallLock

  TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    ServerSocket first = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.port = first.getLocalPort();
    accept(first);
  }

  String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  /** Closes every relayed connection and the listening socket: the client sees the etcd gone. */
  synchronized void cut() throws IOException {
    if (server != null) server.close();
    server = null;
    for (Socket s : sockets) {
      s.close();
    }
    sockets.clear();
  }

  /**
   * Stops relaying bytes from the etcd to its clients, connections kept open: the client's
   * streams stall, and once the buffers and flow-control windows are full the etcd cannot send
   * either, so its watchers fall behind.
   */
  void stall() {
    synchronized (stallLock) {
      stalled = true;
    }
  }

  /** Relays again what was held back, then everything after it. */
  void resume() {
    synchronized (stallLock) {
      stalled = false;
      stallLock.notifyAll();
    }
  }

  private void awaitNotStalled() throws InterruptedException {
    synchronized (stallLock) {
      while (stalled) stallLock.wait();
    }
  }

  /** Listens again on the same port. */
  synchronized void heal() throws IOException {
    if (server != null) return;
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    accept(s);
  }

  private synchronized void accept(ServerSocket s) {
    server = s;
    Thread.ofVirtual().name("tcp-proxy-accept-" + port).start(() -> {
      while (!s.isClosed()) {
        try {
          Socket client = s.accept();
          Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
          sockets.add(client);
          sockets.add(upstream);
          pump(client, upstream, false);
          pump(upstream, client, true);
        } catch (IOException e) {
          // closed by cut() or close(), or the etcd refused: the client sees a reset
        }
      }
    });
  }

  private void pump(Socket from, Socket to, boolean fromEtcd) {
    Thread.ofVirtual().start(() -> {
      byte[] buffer = new byte[16384];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while (true) {
          if (fromEtcd) awaitNotStalled();
          n = in.read(buffer);
          if (n < 0) break;
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // one side closed
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        try {
          from.close();
          to.close();
        } catch (IOException ignored) {
          // already closed
        }
        sockets.remove(from);
        sockets.remove(to);
      }
    });
  }

  @Override
  public void close() throws IOException {
    cut();
  }
}
