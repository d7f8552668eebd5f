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
          pump(client, upstream);
          pump(upstream, client);
        } catch (IOException e) {
          // closed by cut() or close(), or the etcd refused: the client sees a reset
        }
      }
    });
  }

  private void pump(Socket from, Socket to) {
    Thread.ofVirtual().start(() -> {
      byte[] buffer = new byte[16384];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // one side closed
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
