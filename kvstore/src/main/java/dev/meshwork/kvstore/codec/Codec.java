package dev.meshwork.kvstore.codec;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.util.Objects;

/**
 * Turns one protobuf message type into kvstore values (binary protobuf) and back.
 *
 * <p>Decoding never throws: a value that does not parse comes back as {@link Decoded.Failure}
 * naming the key, so a watcher can count it, log it and carry on.
 *
 * @param <T> the message type
 */
public final class Codec<T extends Message> {
  private final Class<T> type;
  private final Parser<T> parser;

  private Codec(Class<T> type, Parser<T> parser) {
    this.type = Objects.requireNonNull(type, "type");
    this.parser = Objects.requireNonNull(parser, "parser");
  }

  /** A codec for {@code type} using its generated {@code parser()}. */
  public static <T extends Message> Codec<T> of(Class<T> type, Parser<T> parser) {
    return new Codec<>(type, parser);
  }

  /** The message type this codec reads and writes. */
  public Class<T> type() {
    return type;
  }

  /** The binary protobuf form of {@code value}. */
  public byte[] encode(T value) {
    return value.toByteArray();
  }

  /**
   * Parses {@code bytes} read from {@code key}.
   *
   * @return the message, or a failure whose reason names the key and the message type
   */
  public Decoded<T> decode(String key, byte[] bytes) {
    try {
      return new Decoded.Value<>(parser.parseFrom(bytes));
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return new Decoded.Failure<>(
          key,
          "value of key "
              + key
              + " ("
              + bytes.length
              + " bytes) is not a valid "
              + type.getSimpleName()
              + ": "
              + e.getMessage());
    }
  }

  @Override
  public String toString() {
    return "Codec[" + type.getSimpleName() + "]";
  }
}
