package dev.meshwork.kvstore.settings;

import java.time.Duration;

/** The check every interval, timeout and threshold setting of the kvstore stores goes through. */
public final class PositiveDuration {
  private PositiveDuration() {}

  /**
   * {@code value} if it is longer than zero.
   *
   * @param setting what the duration is, as the error names it ("relist interval")
   * @throws IllegalArgumentException naming the setting and the value if it is zero or negative
   */
  public static Duration require(Duration value, String setting) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(setting + " must be positive, got " + value);
    }
    return value;
  }
}
