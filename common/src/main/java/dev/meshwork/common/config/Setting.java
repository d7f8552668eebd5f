package dev.meshwork.common.config;

/**
 * A setting a binary read from its {@link ConfigSource}, for {@code --help}.
 *
 * @param name the flag name without dashes, e.g. {@code cluster-id}
 * @param type a short word for the kind of value, e.g. {@code integer 1..255}
 * @param defaultValue the default as text, or null when the setting is required or has none
 * @param description what the setting is for, or null
 */
public record Setting(String name, String type, String defaultValue, String description) {
  public String flag() {
    return "--" + name;
  }

  public String environmentVariable() {
    return ConfigSource.environmentVariable(name);
  }
}
