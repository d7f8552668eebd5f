package dev.meshwork.common.logging;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.MDC;

/**
 * The structured fields of Meshwork's logs, carried in SLF4J's MDC. Put them for the duration of a
 * piece of work with try-with-resources, so that every line logged meanwhile names the object:
 *
 * <pre>{@code
 * try (var fields = LogFields.with(LogFields.CLUSTER, "cluster-2", LogFields.SERVICE, "default/web")) {
 *   log.info("backends changed");
 * }
 * }</pre>
 *
 * On close the previous values come back (or the fields are removed), so nested scopes work.
 * The MDC is per thread: put the fields on the thread doing the work.
 */
public final class LogFields {
  /** The cluster the work is about (a remote cluster for clustermesh work). */
  public static final String CLUSTER = "cluster";
  /** The node the work is about. */
  public static final String NODE = "node";
  /** A service as {@code namespace/name}. */
  public static final String SERVICE = "service";
  /** An endpoint (pod) as {@code namespace/name} or container id. */
  public static final String ENDPOINT = "endpoint";
  /** A kvstore key. */
  public static final String KEY = "key";
  /** A remote peer: an etcd endpoint, an address. */
  public static final String REMOTE = "remote";

  /** Every field name, in the order a log layout shows them. */
  public static final List<String> ALL = List.of(CLUSTER, NODE, SERVICE, ENDPOINT, KEY, REMOTE);

  private LogFields() {}

  /** Puts one field until the returned scope is closed. */
  public static Scope with(String field, String value) {
    return with(Map.of(field, value));
  }

  /** Puts two fields until the returned scope is closed. */
  public static Scope with(String field1, String value1, String field2, String value2) {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put(field1, value1);
    fields.put(field2, value2);
    return with(fields);
  }

  /** Puts the fields until the returned scope is closed. A null value removes the field meanwhile. */
  public static Scope with(Map<String, String> fields) {
    List<String[]> previous = new ArrayList<>(fields.size());
    for (Map.Entry<String, String> field : fields.entrySet()) {
      previous.add(new String[] {field.getKey(), MDC.get(field.getKey())});
      if (field.getValue() == null) {
        MDC.remove(field.getKey());
      } else {
        MDC.put(field.getKey(), field.getValue());
      }
    }
    return new Scope(Thread.currentThread(), previous);
  }

  /** Restores the fields it put to their earlier values. */
  public static final class Scope implements AutoCloseable {
    private final Thread thread;
    private final List<String[]> previous;
    private boolean closed;

    private Scope(Thread thread, List<String[]> previous) {
      this.thread = thread;
      this.previous = previous;
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      if (Thread.currentThread() != thread) {
        throw new IllegalStateException("log fields must be closed on the thread that put them (" + thread.getName() + ")");
      }
      closed = true;
      for (String[] field : previous.reversed()) {
        if (field[1] == null) {
          MDC.remove(field[0]);
        } else {
          MDC.put(field[0], field[1]);
        }
      }
    }
  }
}
