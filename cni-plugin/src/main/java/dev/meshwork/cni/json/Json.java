package dev.meshwork.cni.json;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON (RFC 8259) reader and writer for the CNI plugin.
 *
 * <p>The plugin is started by kubelet for every pod, so it keeps its classpath small: this class
 * replaces Jackson (and protobuf's JsonFormat, which needs Gson and Guava). Values map onto plain
 * Java types: objects are insertion-ordered {@code Map<String, Object>}, arrays {@code
 * List<Object>}, strings {@code String}, numbers {@code BigDecimal}, {@code true}/{@code false}
 * {@code Boolean}, and {@code null} the {@link #NULL} marker (so that a present null is not
 * mistaken for an absent key).
 */
public final class Json {

  /** The JSON {@code null} literal as a value in parsed maps and lists. */
  public static final Object NULL =
      new Object() {
        @Override
        public String toString() {
          return "null";
        }
      };

  /** Nesting limit: CNI documents are a few levels deep; this stops a stack overflow on junk. */
  private static final int MAX_DEPTH = 64;

  private final String text;
  private int pos;

  private Json(String text) {
    this.text = text;
  }

  /**
   * Parses one JSON document (surrounding whitespace allowed, nothing else after it).
   *
   * @throws JsonException naming the offset and what was expected
   */
  public static Object parse(String text) {
    Json reader = new Json(text);
    reader.skipWhitespace();
    if (reader.pos == text.length()) {
      throw new JsonException("empty input: expected a JSON value", 0);
    }
    Object value = reader.readValue(0);
    reader.skipWhitespace();
    if (reader.pos != text.length()) {
      throw reader.error("unexpected '" + text.charAt(reader.pos) + "' after the JSON value");
    }
    return value;
  }

  /** Parses a document that must be a JSON object. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) {
    Object value = parse(text);
    if (!(value instanceof Map)) {
      throw new JsonException("expected a JSON object but found " + typeName(value), 0);
    }
    return (Map<String, Object>) value;
  }

  /** The JSON type name of a parsed value, for error messages. */
  public static String typeName(Object value) {
    return switch (value) {
      case Map<?, ?> _ -> "an object";
      case List<?> _ -> "an array";
      case String _ -> "a string";
      case BigDecimal _ -> "a number";
      case Boolean _ -> "a boolean";
      case null -> "nothing";
      default -> value == NULL ? "null" : value.getClass().getSimpleName();
    };
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  private Object readValue(int depth) {
    if (depth > MAX_DEPTH) {
      throw error("nesting deeper than " + MAX_DEPTH + " levels");
    }
    if (pos >= text.length()) {
      throw error("unexpected end of input: expected a value");
    }
    char c = text.charAt(pos);
    return switch (c) {
      case '{' -> readObject(depth);
      case '[' -> readArray(depth);
      case '"' -> readString();
      case 't' -> readLiteral("true", Boolean.TRUE);
      case 'f' -> readLiteral("false", Boolean.FALSE);
      case 'n' -> readLiteral("null", NULL);
      default -> {
        if (c == '-' || (c >= '0' && c <= '9')) {
          yield readNumber();
        }
        throw error("unexpected '" + c + "': expected a value");
      }
    };
  }

  private Map<String, Object> readObject(int depth) {
    pos++; // '{'
    Map<String, Object> map = new LinkedHashMap<>();
    skipWhitespace();
    if (peek() == '}') {
      pos++;
      return map;
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"') {
        throw error("expected a string key in object");
      }
      String key = readString();
      skipWhitespace();
      expect(':');
      skipWhitespace();
      Object value = readValue(depth + 1);
      if (map.putIfAbsent(key, value) != null) {
        // Duplicate keys are legal-but-ambiguous JSON; refusing them keeps configs unambiguous.
        throw error("duplicate key \"" + key + "\"");
      }
      skipWhitespace();
      char c = peek();
      pos++;
      if (c == '}') {
        return map;
      }
      if (c != ',') {
        pos--;
        throw error("expected ',' or '}' in object");
      }
    }
  }

  private List<Object> readArray(int depth) {
    pos++; // '['
    List<Object> list = new ArrayList<>();
    skipWhitespace();
    if (peek() == ']') {
      pos++;
      return list;
    }
    while (true) {
      skipWhitespace();
      list.add(readValue(depth + 1));
      skipWhitespace();
      char c = peek();
      pos++;
      if (c == ']') {
        return list;
      }
      if (c != ',') {
        pos--;
        throw error("expected ',' or ']' in array");
      }
    }
  }

  private String readString() {
    pos++; // opening quote
    StringBuilder sb = null;
    int start = pos;
    while (true) {
      if (pos >= text.length()) {
        throw error("unterminated string");
      }
      char c = text.charAt(pos);
      if (c == '"') {
        String s = sb == null ? text.substring(start, pos) : sb.append(text, start, pos).toString();
        pos++;
        return s;
      }
      if (c < 0x20) {
        throw error("control character U+" + hex4(c) + " in string");
      }
      if (c == '\\') {
        if (sb == null) {
          sb = new StringBuilder();
        }
        sb.append(text, start, pos);
        pos++;
        if (pos >= text.length()) {
          throw error("unterminated escape");
        }
        char e = text.charAt(pos++);
        switch (e) {
          case '"' -> sb.append('"');
          case '\\' -> sb.append('\\');
          case '/' -> sb.append('/');
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'u' -> {
            if (pos + 4 > text.length()) {
              throw error("truncated \\u escape");
            }
            int cp = 0;
            for (int i = 0; i < 4; i++) {
              int d = Character.digit(text.charAt(pos + i), 16);
              if (d < 0) {
                throw error("bad hex digit in \\u escape");
              }
              cp = cp * 16 + d;
            }
            pos += 4;
            sb.append((char) cp);
          }
          default -> {
            pos--;
            throw error("invalid escape '\\" + e + "'");
          }
        }
        start = pos;
      } else {
        pos++;
      }
    }
  }

  private BigDecimal readNumber() {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    if (peek() == '0') {
      pos++;
    } else if (isDigit(peek())) {
      while (isDigit(peek())) {
        pos++;
      }
    } else {
      throw error("expected a digit");
    }
    if (peek() == '.') {
      pos++;
      if (!isDigit(peek())) {
        throw error("expected a digit after '.'");
      }
      while (isDigit(peek())) {
        pos++;
      }
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      if (!isDigit(peek())) {
        throw error("expected a digit in exponent");
      }
      while (isDigit(peek())) {
        pos++;
      }
    }
    return new BigDecimal(text.substring(start, pos));
  }

  private Object readLiteral(String literal, Object value) {
    if (!text.startsWith(literal, pos)) {
      throw error("unexpected '" + text.charAt(pos) + "': expected a value");
    }
    pos += literal.length();
    return value;
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("expected '" + c + "'");
    }
    pos++;
  }

  /** The current character, or NUL at the end (never a legal character outside strings). */
  private char peek() {
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private JsonException error(String message) {
    if (pos >= text.length() && !message.startsWith("unexpected end")) {
      message = message + " (at end of input)";
    }
    return new JsonException(message, pos);
  }

  // ------------------------------------------------------------------------------------------
  // Writing

  /**
   * Writes a value as compact JSON. Accepts maps with string keys, lists, strings, numbers,
   * booleans, {@code null} and {@link #NULL}.
   */
  public static String write(Object value) {
    StringBuilder sb = new StringBuilder(256);
    writeValue(sb, value);
    return sb.toString();
  }

  // instanceof rather than a pattern switch: the switch's bootstrap generates a class at run time
  // (ClassFile API), which costs the plugin's short-lived JVM measurable CPU.
  private static void writeValue(StringBuilder sb, Object value) {
    if (value == null || value == NULL) {
      sb.append("null");
    } else if (value instanceof String s) {
      writeString(sb, s);
    } else if (value instanceof Boolean b) {
      sb.append(b.booleanValue());
    } else if (value instanceof BigDecimal n) {
      sb.append(n.toString());
    } else if (value instanceof Integer n) {
      sb.append(n.intValue());
    } else if (value instanceof Long n) {
      sb.append(n.longValue());
    } else if (value instanceof Map<?, ?> map) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw new IllegalArgumentException("JSON object key is not a string: " + e.getKey());
        }
        if (!first) {
          sb.append(',');
        }
        first = false;
        writeString(sb, key);
        sb.append(':');
        writeValue(sb, e.getValue());
      }
      sb.append('}');
    } else if (value instanceof List<?> list) {
      sb.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        writeValue(sb, list.get(i));
      }
      sb.append(']');
    } else {
      throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON");
    }
  }

  private static void writeString(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20 || c == '\u2028' || c == '\u2029') {
            sb.append("\\u").append(hex4(c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  private static String hex4(char c) {
    String h = Integer.toHexString(c);
    return "0000".substring(h.length()) + h;
  }

  /** An ordered object builder for writing, skipping absent optional members. */
  public static final class ObjectBuilder {
    private final Map<String, Object> map = new LinkedHashMap<>();

    public ObjectBuilder put(String key, Object value) {
      map.put(key, value);
      return this;
    }

    /** Puts the string unless it is empty: CNI omits optional members rather than sending "". */
    public ObjectBuilder putIfNotEmpty(String key, String value) {
      if (value != null && !value.isEmpty()) {
        map.put(key, value);
      }
      return this;
    }

    /** Puts the list unless it is empty. */
    public ObjectBuilder putIfNotEmpty(String key, List<?> value) {
      if (value != null && !value.isEmpty()) {
        map.put(key, value);
      }
      return this;
    }

    public boolean isEmpty() {
      return map.isEmpty();
    }

    public Map<String, Object> build() {
      return Collections.unmodifiableMap(map);
    }
  }

  public static ObjectBuilder object() {
    return new ObjectBuilder();
  }
}
