package dev.meshwork.kvstore.codec;

/**
 * The result of decoding one kvstore value: the message, or why it could not be read.
 *
 * @param <T> the message type
 */
public sealed interface Decoded<T> {

  /** The value parsed. */
  record Value<T>(T value) implements Decoded<T> {}

  /** The value did not parse; {@code reason} names the key and the expected type. */
  record Failure<T>(String key, String reason) implements Decoded<T> {}
}
