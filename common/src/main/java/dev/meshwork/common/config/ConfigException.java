package dev.meshwork.common.config;

/**
 * A setting is missing, unknown or has a bad value. The message names the setting both as a flag
 * and as an environment variable, e.g. {@code invalid --cluster-id (MESHWORK_CLUSTER_ID): "300" is
 * outside 1..255}, so an operator can fix it whichever way it was given.
 */
public final class ConfigException extends RuntimeException {
  private final String setting;

  public ConfigException(String setting, String message) {
    super(message);
    this.setting = setting;
  }

  public ConfigException(String setting, String message, Throwable cause) {
    super(message, cause);
    this.setting = setting;
  }

  /** {@code invalid --name (MESHWORK_NAME): "value" reason}. */
  public static ConfigException invalid(String setting, String value, String reason) {
    return new ConfigException(setting, "invalid " + ConfigSource.flagAndVariable(setting) + ": \"" + value + "\" " + reason);
  }

  /** {@code invalid --name (MESHWORK_NAME): reason}, for a reason that already quotes the value. */
  public static ConfigException invalid(String setting, String reason) {
    return new ConfigException(setting, "invalid " + ConfigSource.flagAndVariable(setting) + ": " + reason);
  }

  /** {@code missing --name (MESHWORK_NAME): it is required}. */
  public static ConfigException missing(String setting) {
    return new ConfigException(setting, "missing " + ConfigSource.flagAndVariable(setting) + ": it is required");
  }

  /** The setting's name without dashes, e.g. {@code cluster-id}; null for errors about no one setting. */
  public String setting() {
    return setting;
  }
}
