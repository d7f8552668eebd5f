package dev.meshwork.cni.grpc;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * A unary gRPC call over HTTP/2 on a Unix socket, with nothing but the JDK.
 *
 * <p>Why not grpc-netty: the CNI plugin is a new JVM per pod, and loading gRPC's channel machinery
 * and Netty costs several hundred milliseconds even from an AOT cache (docs/benchmarks.md, "CNI
 * plugin"). One unary call needs far less: the connection preface, SETTINGS, one HEADERS and DATA
 * out, and the response HEADERS, DATA and trailers back, honouring flow control, SETTINGS and
 * PING. This is that much of HTTP/2 (RFC 9113) and of the gRPC wire protocol (PROTOCOL-HTTP2.md),
 * tested against grpc-java's Netty server.
 *
 * <p>One instance makes one call on its own connection.
 */
public final class UnixSocketGrpcClient {

  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  // Frame types and flags (RFC 9113 section 6).
  static final int DATA = 0x0;
  static final int HEADERS = 0x1;
  static final int PRIORITY = 0x2;
  static final int RST_STREAM = 0x3;
  static final int SETTINGS = 0x4;
  static final int PUSH_PROMISE = 0x5;
  static final int PING = 0x6;
  static final int GOAWAY = 0x7;
  static final int WINDOW_UPDATE = 0x8;
  static final int CONTINUATION = 0x9;
  static final int FLAG_END_STREAM = 0x1;
  static final int FLAG_ACK = 0x1;
  static final int FLAG_END_HEADERS = 0x4;
  static final int FLAG_PADDED = 0x8;
  static final int FLAG_PRIORITY = 0x20;

  private static final int SETTINGS_ENABLE_PUSH = 0x2;
  private static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
  private static final int SETTINGS_MAX_FRAME_SIZE = 0x5;

  private static final int STREAM = 1;
  private static final int DEFAULT_WINDOW = 65_535;
  /** Our receive window for the stream and the connection: a CNI answer is a few KiB. */
  private static final int RECEIVE_WINDOW = 1 << 20;
  private static final int HEADER_TABLE_SIZE = 4096;
  /** The largest response message accepted. */
  static final int MAX_MESSAGE = 4 << 20;
  private static final int MAX_FRAME_ACCEPTED = 1 << 24;

  private final String socketPath;

  public UnixSocketGrpcClient(String socketPath) {
    this.socketPath = socketPath;
  }

  /**
   * Calls {@code method} (e.g. {@code /meshwork.v1.EndpointService/Add}) with one serialized
   * request message and returns the serialized response message.
   *
   * @throws GrpcStatusException for any status but OK: UNAVAILABLE when the socket cannot be
   *     connected or the connection breaks, DEADLINE_EXCEEDED when {@code deadline} passes,
   *     INTERNAL for a protocol violation, or the status the server sent
   */
  public byte[] call(String method, byte[] request, Duration deadline)
      throws GrpcStatusException {
    SocketChannel channel;
    try {
      channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    } catch (IOException e) {
      throw new GrpcStatusException(GrpcStatusException.INTERNAL,
          "cannot open a Unix socket: " + e.getMessage(), e);
    }
    long start = System.nanoTime();
    Watchdog watchdog = new Watchdog(channel, deadline);
    try (channel) {
      try {
        channel.connect(UnixDomainSocketAddress.of(socketPath));
      } catch (IOException e) {
        if (watchdog.fired) {
          throw watchdog.exceeded(e);
        }
        throw new GrpcStatusException(GrpcStatusException.UNAVAILABLE,
            "cannot connect to " + socketPath + ": " + describe(e), e);
      }
      return new Exchange(channel).run(method, request, deadline);
    } catch (IOException e) {
      if (watchdog.fired) {
        throw watchdog.exceeded(e);
      }
      throw new GrpcStatusException(GrpcStatusException.UNAVAILABLE,
          "connection to " + socketPath + " failed: " + describe(e), e);
    } catch (GrpcStatusException e) {
      // The server learned our deadline from grpc-timeout and may give up first, cancelling the
      // stream: once the deadline has passed, that is the deadline, not a cancellation.
      if (System.nanoTime() - start >= deadline.toNanos()) {
        throw watchdog.exceeded(e);
      }
      throw e;
    } finally {
      watchdog.cancel();
    }
  }

  private static String describe(IOException e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** Closes the channel when the deadline passes, which ends any blocked read or write. */
  private static final class Watchdog implements Runnable {
    private final SocketChannel channel;
    private final Duration deadline;
    private final Thread thread;
    private volatile boolean fired;

    Watchdog(SocketChannel channel, Duration deadline) {
      this.channel = channel;
      this.deadline = deadline;
      this.thread = Thread.ofPlatform().daemon().name("grpc-deadline").start(this);
    }

    @Override
    public void run() {
      try {
        Thread.sleep(deadline);
      } catch (InterruptedException e) {
        return; // cancelled: the call finished in time
      }
      fired = true;
      try {
        channel.close();
      } catch (IOException e) {
        // closing is all we can do
      }
    }

    void cancel() {
      thread.interrupt();
    }

    GrpcStatusException exceeded(Exception cause) {
      return new GrpcStatusException(GrpcStatusException.DEADLINE_EXCEEDED,
          "no answer within " + deadline.toMillis() + " ms", cause);
    }
  }

  /** The state of the one stream and its connection. */
  private static final class Exchange {
    private final SocketChannel channel;
    private final ByteBuffer header = ByteBuffer.allocate(9);
    private final Hpack.Decoder decoder = new Hpack.Decoder(HEADER_TABLE_SIZE);

    private int peerMaxFrame = 16_384;
    private long connectionSendWindow = DEFAULT_WINDOW;
    private long streamSendWindow = DEFAULT_WINDOW;
    private int peerInitialWindow = DEFAULT_WINDOW;

    private ByteArrayOutputStream headerBlock;
    private boolean headerBlockEndsStream;
    private List<Header> responseHeaders;
    private List<Header> trailers;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private boolean streamClosed;

    Exchange(SocketChannel channel) {
      this.channel = channel;
    }

    byte[] run(String method, byte[] request, Duration deadline)
        throws IOException, GrpcStatusException {
      ByteArrayOutputStream out = new ByteArrayOutputStream(512 + request.length);
      out.write(PREFACE, 0, PREFACE.length);
      // Our settings: no push, a large receive window (with the connection window raised to
      // match), default header table and frame size.
      byte[] settings = new byte[12];
      putSetting(settings, 0, SETTINGS_ENABLE_PUSH, 0);
      putSetting(settings, 6, SETTINGS_INITIAL_WINDOW_SIZE, RECEIVE_WINDOW);
      frame(out, SETTINGS, 0, 0, settings, 0, settings.length);
      frame(out, WINDOW_UPDATE, 0, 0, int32(RECEIVE_WINDOW - DEFAULT_WINDOW), 0, 4);

      long timeoutMs = Math.max(1, deadline.toMillis());
      byte[] block = Hpack.encode(List.of(
          new Header(":method", "POST"),
          new Header(":scheme", "http"),
          new Header(":path", method),
          new Header(":authority", "localhost"),
          new Header("content-type", "application/grpc"),
          new Header("te", "trailers"),
          new Header("grpc-timeout", timeoutMs < 100_000_000 ? timeoutMs + "m"
              : Math.min(99_999_999, timeoutMs / 1000) + "S"),
          new Header("user-agent", "meshwork-cni")));
      // The header block fits one frame under the default 16 KiB limit.
      frame(out, HEADERS, FLAG_END_HEADERS, STREAM, block, 0, block.length);

      byte[] message = new byte[5 + request.length];
      message[0] = 0; // not compressed
      System.arraycopy(int32(request.length), 0, message, 1, 4);
      System.arraycopy(request, 0, message, 5, request.length);
      int sent = sendData(out, message, 0);
      write(out.toByteArray());
      while (sent < message.length) {
        readFrame(); // until WINDOW_UPDATE or SETTINGS open the window
        ByteArrayOutputStream more = new ByteArrayOutputStream();
        sent = sendData(more, message, sent);
        if (more.size() > 0) {
          write(more.toByteArray());
        }
      }
      while (!streamClosed) {
        readFrame();
      }
      // Be polite: tell the server we are done with the connection.
      ByteArrayOutputStream goaway = new ByteArrayOutputStream(17);
      byte[] payload = new byte[8];
      frame(goaway, GOAWAY, 0, 0, payload, 0, 8);
      try {
        write(goaway.toByteArray());
      } catch (IOException e) {
        // the server may already have closed: the answer is complete anyway
      }
      return result();
    }

    /** Queues as much of the message as the windows allow; returns the new offset. */
    private int sendData(ByteArrayOutputStream out, byte[] message, int offset) {
      while (offset < message.length) {
        long window = Math.min(connectionSendWindow, streamSendWindow);
        int chunk = (int) Math.min(Math.min(window, peerMaxFrame), message.length - offset);
        if (chunk <= 0) {
          break;
        }
        boolean last = offset + chunk == message.length;
        frame(out, DATA, last ? FLAG_END_STREAM : 0, STREAM, message, offset, chunk);
        connectionSendWindow -= chunk;
        streamSendWindow -= chunk;
        offset += chunk;
      }
      return offset;
    }

    private void readFrame() throws IOException, GrpcStatusException {
      header.clear();
      readFully(header);
      int length = ((header.get(0) & 0xff) << 16) | ((header.get(1) & 0xff) << 8)
          | (header.get(2) & 0xff);
      int type = header.get(3) & 0xff;
      int flags = header.get(4) & 0xff;
      int stream = header.getInt(5) & 0x7fffffff;
      if (length > MAX_FRAME_ACCEPTED) {
        throw protocol("frame of " + length + " bytes");
      }
      ByteBuffer payloadBuffer = ByteBuffer.allocate(length);
      readFully(payloadBuffer);
      byte[] payload = payloadBuffer.array();

      if (headerBlock != null && type != CONTINUATION) {
        throw protocol("frame type " + type + " inside a header block");
      }
      switch (type) {
        case SETTINGS -> onSettings(flags, stream, payload);
        case PING -> {
          if ((flags & FLAG_ACK) == 0) {
            ByteArrayOutputStream pong = new ByteArrayOutputStream(17);
            frame(pong, PING, FLAG_ACK, 0, payload, 0, payload.length);
            write(pong.toByteArray());
          }
        }
        case WINDOW_UPDATE -> {
          if (payload.length != 4) {
            throw protocol("WINDOW_UPDATE of " + payload.length + " bytes");
          }
          int increment = readInt(payload, 0) & 0x7fffffff;
          if (stream == 0) {
            connectionSendWindow += increment;
          } else if (stream == STREAM) {
            streamSendWindow += increment;
          }
        }
        case HEADERS -> {
          requireOurStream(stream, "HEADERS");
          int offset = 0;
          int end = payload.length;
          if ((flags & FLAG_PADDED) != 0) {
            end -= payload[0] & 0xff;
            offset = 1;
          }
          if ((flags & FLAG_PRIORITY) != 0) {
            offset += 5;
          }
          if (offset > end) {
            throw protocol("HEADERS padding longer than the frame");
          }
          headerBlock = new ByteArrayOutputStream();
          headerBlock.write(payload, offset, end - offset);
          headerBlockEndsStream = (flags & FLAG_END_STREAM) != 0;
          if ((flags & FLAG_END_HEADERS) != 0) {
            onHeaderBlock();
          }
        }
        case CONTINUATION -> {
          if (headerBlock == null) {
            throw protocol("CONTINUATION without HEADERS");
          }
          requireOurStream(stream, "CONTINUATION");
          headerBlock.write(payload, 0, payload.length);
          if ((flags & FLAG_END_HEADERS) != 0) {
            onHeaderBlock();
          }
        }
        case DATA -> {
          requireOurStream(stream, "DATA");
          if (responseHeaders == null) {
            throw protocol("DATA before response headers");
          }
          int offset = 0;
          int end = payload.length;
          if ((flags & FLAG_PADDED) != 0) {
            end -= payload[0] & 0xff;
            offset = 1;
          }
          if (offset > end) {
            throw protocol("DATA padding longer than the frame");
          }
          if (body.size() + (end - offset) > MAX_MESSAGE + 5) {
            throw new GrpcStatusException(GrpcStatusException.RESOURCE_EXHAUSTED,
                "response larger than " + MAX_MESSAGE + " bytes");
          }
          body.write(payload, offset, end - offset);
          if ((flags & FLAG_END_STREAM) != 0) {
            streamClosed = true;
          } else if (payload.length > 0) {
            // Give the window back so that a large answer keeps flowing.
            ByteArrayOutputStream update = new ByteArrayOutputStream(26);
            frame(update, WINDOW_UPDATE, 0, 0, int32(payload.length), 0, 4);
            frame(update, WINDOW_UPDATE, 0, STREAM, int32(payload.length), 0, 4);
            write(update.toByteArray());
          }
        }
        case RST_STREAM -> {
          if (stream == STREAM) {
            int error = payload.length >= 4 ? readInt(payload, 0) : -1;
            throw new GrpcStatusException(fromHttp2Error(error),
                "server reset the stream (HTTP/2 error " + error + ")");
          }
        }
        case GOAWAY -> {
          int lastStream = payload.length >= 8 ? readInt(payload, 0) & 0x7fffffff : 0;
          int error = payload.length >= 8 ? readInt(payload, 4) : -1;
          if (lastStream < STREAM) {
            throw new GrpcStatusException(GrpcStatusException.UNAVAILABLE,
                "server is going away (HTTP/2 error " + error + ") before our call");
          }
          // Otherwise our stream will still be answered.
        }
        case PUSH_PROMISE -> throw protocol("PUSH_PROMISE although push is disabled");
        default -> {
          // PRIORITY and unknown frame types are ignored (RFC 9113 section 4.1).
        }
      }
    }

    private void onSettings(int flags, int stream, byte[] payload)
        throws IOException, GrpcStatusException {
      if (stream != 0) {
        throw protocol("SETTINGS on stream " + stream);
      }
      if ((flags & FLAG_ACK) != 0) {
        return;
      }
      if (payload.length % 6 != 0) {
        throw protocol("SETTINGS of " + payload.length + " bytes");
      }
      for (int i = 0; i < payload.length; i += 6) {
        int id = ((payload[i] & 0xff) << 8) | (payload[i + 1] & 0xff);
        int value = readInt(payload, i + 2);
        switch (id) {
          case SETTINGS_INITIAL_WINDOW_SIZE -> {
            if (value < 0) {
              throw protocol("initial window size " + Integer.toUnsignedString(value));
            }
            streamSendWindow += (long) value - peerInitialWindow;
            peerInitialWindow = value;
          }
          case SETTINGS_MAX_FRAME_SIZE -> {
            if (value < 16_384 || value > 16_777_215) {
              throw protocol("max frame size " + value);
            }
            peerMaxFrame = value;
          }
          default -> {
            // HEADER_TABLE_SIZE concerns an encoder's dynamic table; ours uses none. The rest
            // (concurrent streams, header list size) cannot limit a single small request.
          }
        }
      }
      ByteArrayOutputStream ack = new ByteArrayOutputStream(9);
      frame(ack, SETTINGS, FLAG_ACK, 0, new byte[0], 0, 0);
      write(ack.toByteArray());
    }

    private void onHeaderBlock() throws GrpcStatusException {
      List<Header> headers;
      try {
        headers = decoder.decode(headerBlock.toByteArray());
      } catch (HpackException e) {
        throw new GrpcStatusException(GrpcStatusException.INTERNAL,
            "cannot decode the response headers: " + e.getMessage(), e);
      }
      headerBlock = null;
      if (responseHeaders == null) {
        responseHeaders = headers;
        if (headerBlockEndsStream) {
          trailers = headers; // trailers-only response
        }
      } else {
        trailers = headers;
        if (!headerBlockEndsStream) {
          throw protocol("trailers without END_STREAM");
        }
      }
      if (headerBlockEndsStream) {
        streamClosed = true;
      }
    }

    /** The response message, or the status the call ended with. */
    private byte[] result() throws GrpcStatusException {
      String httpStatus = value(responseHeaders, ":status");
      String grpcStatus = trailers == null ? null : value(trailers, "grpc-status");
      if (grpcStatus == null) {
        if (!"200".equals(httpStatus)) {
          throw new GrpcStatusException(fromHttpStatus(httpStatus),
              "HTTP status " + httpStatus + " without a gRPC status");
        }
        throw protocol("response ended without grpc-status");
      }
      int code;
      try {
        code = Integer.parseInt(grpcStatus);
      } catch (NumberFormatException e) {
        throw protocol("grpc-status \"" + grpcStatus + "\"");
      }
      if (code != 0) {
        String message = value(trailers, "grpc-message");
        throw new GrpcStatusException(code, message == null ? "" : percentDecode(message));
      }
      byte[] bytes = body.toByteArray();
      if (bytes.length < 5) {
        throw protocol("status OK but " + bytes.length + " bytes of response");
      }
      if (bytes[0] != 0) {
        throw protocol("compressed response although none was offered");
      }
      int length = readInt(bytes, 1);
      if (length < 0 || length != bytes.length - 5) {
        throw protocol("response message of " + (bytes.length - 5) + " bytes announced as "
            + length + " (one message expected)");
      }
      return java.util.Arrays.copyOfRange(bytes, 5, bytes.length);
    }

    private void requireOurStream(int stream, String frame) throws GrpcStatusException {
      if (stream != STREAM) {
        throw protocol(frame + " on stream " + stream);
      }
    }

    private void readFully(ByteBuffer buffer) throws IOException {
      while (buffer.hasRemaining()) {
        if (channel.read(buffer) < 0) {
          throw new ClosedChannelException();
        }
      }
    }

    private void write(byte[] bytes) throws IOException {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
    }
  }

  /** An HTTP/2 error code in RST_STREAM as a gRPC status (gRPC's PROTOCOL-HTTP2.md). */
  static int fromHttp2Error(int error) {
    return switch (error) {
      case 0x7 -> GrpcStatusException.UNAVAILABLE; // REFUSED_STREAM: nothing was processed
      case 0x8 -> GrpcStatusException.CANCELLED; // CANCEL
      case 0xb -> GrpcStatusException.RESOURCE_EXHAUSTED; // ENHANCE_YOUR_CALM
      case 0xc -> GrpcStatusException.PERMISSION_DENIED; // INADEQUATE_SECURITY
      default -> GrpcStatusException.INTERNAL;
    };
  }

  static int fromHttpStatus(String status) {
    return switch (status == null ? "" : status) {
      case "400" -> GrpcStatusException.INTERNAL;
      case "401" -> GrpcStatusException.UNAUTHENTICATED;
      case "403" -> GrpcStatusException.PERMISSION_DENIED;
      case "404" -> GrpcStatusException.UNIMPLEMENTED;
      case "429", "502", "503", "504" -> GrpcStatusException.UNAVAILABLE;
      default -> GrpcStatusException.UNKNOWN;
    };
  }

  /** grpc-message is percent-encoded UTF-8. */
  static String percentDecode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < s.length()) {
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi >= 0 && lo >= 0) {
          out.write(hi * 16 + lo);
          i += 2;
          continue;
        }
      }
      out.write(c);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static String value(List<Header> headers, String name) {
    if (headers == null) {
      return null;
    }
    for (Header h : headers) {
      if (h.name().equals(name)) {
        return h.value();
      }
    }
    return null;
  }

  private static GrpcStatusException protocol(String what) {
    return new GrpcStatusException(GrpcStatusException.INTERNAL, "HTTP/2 protocol error: " + what);
  }

  static void frame(ByteArrayOutputStream out, int type, int flags, int stream, byte[] payload,
      int offset, int length) {
    out.write((length >>> 16) & 0xff);
    out.write((length >>> 8) & 0xff);
    out.write(length & 0xff);
    out.write(type);
    out.write(flags);
    out.write((stream >>> 24) & 0x7f);
    out.write((stream >>> 16) & 0xff);
    out.write((stream >>> 8) & 0xff);
    out.write(stream & 0xff);
    out.write(payload, offset, length);
  }

  private static void putSetting(byte[] b, int at, int id, int value) {
    b[at] = (byte) (id >>> 8);
    b[at + 1] = (byte) id;
    System.arraycopy(int32(value), 0, b, at + 2, 4);
  }

  private static byte[] int32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  private static int readInt(byte[] b, int at) {
    return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8)
        | (b[at + 3] & 0xff);
  }
}
