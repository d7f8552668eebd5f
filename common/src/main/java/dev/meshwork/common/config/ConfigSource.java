package dev.meshwork.common.config;

import java.math.BigDecimal;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The settings of one process: command-line flags and {@code MESHWORK_*} environment variables.
 *
 * <p>A setting named {@code cluster-name} is given as {@code --cluster-name=VALUE}, {@code
 * --cluster-name VALUE} or the environment variable {@code MESHWORK_CLUSTER_NAME}; a flag wins over
 * the environment. A boolean flag may be given bare ({@code --debug}). The typed getters return the
 * default when the setting is not given and throw {@link ConfigException} naming the setting when
 * its value is bad. After reading every setting, a binary calls {@link #rejectUnknown()} so that a
 * misspelt flag fails instead of being ignored.
 *
 * <p>Each getter records the setting for {@link #help()}. Not thread-safe: read config at start-up.
 */
public final class ConfigSource {
  /** Prefix of the environment variables that carry settings. */
  public static final String ENV_PREFIX = "MESHWORK_";

  private static final Pattern NAME = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");
  private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h|d)");
  private static final Set<String> HELP_FLAGS = Set.of("help");

  private final Map<String, List<String>> flags;
  private final Map<String, String> environment;
  private final Map<String, Setting> read = new LinkedHashMap<>();
  private final Map<String, String> descriptions = new LinkedHashMap<>();

  private ConfigSource(Map<String, List<String>> flags, Map<String, String> environment) {
    this.flags = flags;
    this.environment = environment;
  }

  /**
   * Parses the command line; only the {@code MESHWORK_*} entries of the environment are used.
   *
   * @throws ConfigException for an argument that is not a {@code --flag}
   */
  public static ConfigSource of(String[] args, Map<String, String> environment) {
    Map<String, List<String>> flags = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("-h")) {
        arg = "--help";
      }
      if (!arg.startsWith("--") || arg.length() == 2) {
        throw new ConfigException(null, "unexpected argument \"" + arg + "\": settings are given as --name=value or --name value");
      }
      String body = arg.substring(2);
      String name;
      String value;
      int eq = body.indexOf('=');
      if (eq >= 0) {
        name = body.substring(0, eq);
        value = body.substring(eq + 1);
      } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        name = body;
        value = args[++i];
      } else {
        name = body; // a bare boolean flag
        value = "true";
      }
      if (!NAME.matcher(name).matches()) {
        throw new ConfigException(null, "unexpected argument \"" + arg + "\": flag names are lower case words joined by '-'");
      }
      flags.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
    }
    Map<String, String> env = new LinkedHashMap<>();
    environment.forEach((key, value) -> {
      if (key.startsWith(ENV_PREFIX) && value != null && !value.isEmpty()) {
        env.put(key, value);
      }
    });
    return new ConfigSource(flags, env);
  }

  /** Parses the command line with this process's environment. */
  public static ConfigSource fromProcess(String[] args) {
    return of(args, System.getenv());
  }

  /** {@code cluster-name} becomes {@code MESHWORK_CLUSTER_NAME}. */
  public static String environmentVariable(String name) {
    return ENV_PREFIX + name.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** {@code --cluster-name (MESHWORK_CLUSTER_NAME)}, the way errors name a setting. */
  public static String flagAndVariable(String name) {
    return "--" + name + " (" + environmentVariable(name) + ")";
  }

  /** Adds a description of a setting to {@link #help()}. Returns this source for chaining. */
  public ConfigSource document(String name, String description) {
    checkName(name);
    descriptions.put(name, description);
    Setting setting = read.get(name);
    if (setting != null) {
      read.put(name, new Setting(name, setting.type(), setting.defaultValue(), description));
    }
    return this;
  }

  /** True when the value of the setting was given, as a flag or in the environment. */
  public boolean isSet(String name) {
    return raw(name).isPresent();
  }

  /** True when {@code --help} (or {@code -h}) was given. */
  public boolean helpRequested() {
    return flags.containsKey("help");
  }

  // ---- typed getters ------------------------------------------------------------------------
  //
  // While --help is given, getters do not throw: a bad or missing value gives the default (null
  // for a required setting), so that a binary can read every setting and list them all.

  public String string(String name, String defaultValue) {
    return read(name, "string", defaultValue, defaultValue, false, value -> value);
  }

  public Optional<String> optionalString(String name) {
    return Optional.ofNullable(read(name, "string", null, null, false, value -> value));
  }

  public String requiredString(String name) {
    return read(name, "string", null, null, true, value -> value);
  }

  /**
   * An integer within {@code min..max} (inclusive).
   *
   * @throws ConfigException when the value is not an integer or out of range
   */
  public int integer(String name, int defaultValue, int min, int max) {
    return read(name, "integer " + min + ".." + max, String.valueOf(defaultValue), defaultValue, false,
        value -> (int) parseLong(name, value, min, max));
  }

  /** A required integer within {@code min..max} (inclusive); 0 while --help is given. */
  public int requiredInteger(String name, int min, int max) {
    Integer value = read(name, "integer " + min + ".." + max, null, null, true, text -> (int) parseLong(name, text, min, max));
    return value == null ? 0 : value;
  }

  /** A TCP/UDP port, 0..65535 (0 lets the system choose). */
  public int port(String name, int defaultValue) {
    return integer(name, defaultValue, 0, 65535);
  }

  public long longInteger(String name, long defaultValue, long min, long max) {
    return read(name, "integer " + min + ".." + max, String.valueOf(defaultValue), defaultValue, false,
        value -> parseLong(name, value, min, max));
  }

  /** {@code true}/{@code false} (also {@code yes}/{@code no}, {@code 1}/{@code 0}); a bare flag is true. */
  public boolean bool(String name, boolean defaultValue) {
    return read(name, "boolean", String.valueOf(defaultValue), defaultValue, false, value -> parseBoolean(name, value));
  }

  /**
   * A duration such as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 1h30m} (units ns,
   * us, ms, s, m, h, d) or ISO-8601 ({@code PT30S}). {@code 0} is zero; negative values are refused.
   */
  public Duration duration(String name, Duration defaultValue) {
    return read(name, "duration", defaultValue == null ? null : formatDuration(defaultValue), defaultValue, false,
        value -> parseDuration(name, value));
  }

  /** A duration within {@code min..max} (inclusive). */
  public Duration duration(String name, Duration defaultValue, Duration min, Duration max) {
    String range = formatDuration(min) + ".." + formatDuration(max);
    return read(name, "duration " + range, defaultValue == null ? null : formatDuration(defaultValue), defaultValue, false, value -> {
      Duration parsed = parseDuration(name, value);
      if (parsed.compareTo(min) < 0 || parsed.compareTo(max) > 0) {
        throw ConfigException.invalid(name, value, "is outside " + range);
      }
      return parsed;
    });
  }

  public Path path(String name, Path defaultValue) {
    return read(name, "path", defaultValue == null ? null : defaultValue.toString(), defaultValue, false, value -> parsePath(name, value));
  }

  public Optional<Path> optionalPath(String name) {
    return Optional.ofNullable(read(name, "path", null, null, false, value -> parsePath(name, value)));
  }

  public Path requiredPath(String name) {
    return read(name, "path", null, null, true, value -> parsePath(name, value));
  }

  /**
   * A comma-separated list; blanks around items and empty items are dropped. A repeated flag adds
   * to the list ({@code --endpoint a --endpoint b} is {@code a,b}).
   */
  public List<String> list(String name, List<String> defaultValue) {
    record(name, "comma-separated list", defaultValue == null ? null : String.join(",", defaultValue));
    List<String> given = flags.get(name);
    String value = given != null ? String.join(",", given) : environment.get(environmentVariable(name));
    if (value == null) {
      return defaultValue;
    }
    return Arrays.stream(value.split(",")).map(String::trim).filter(item -> !item.isEmpty()).toList();
  }

  /**
   * A value of any type; the parser throws {@link IllegalArgumentException} with a reason when the
   * text is bad, and the reason becomes the {@link ConfigException} message (e.g. {@code
   * source.value("cluster-name", "cluster name", null, ClusterName::of)}).
   */
  public <T> T value(String name, String type, T defaultValue, Function<String, T> parser) {
    return read(name, type, defaultValue == null ? null : String.valueOf(defaultValue), defaultValue, false, parser);
  }

  /** A required value of any type; see {@link #value}. Null while --help is given and it is missing or bad. */
  public <T> T required(String name, String type, Function<String, T> parser) {
    return read(name, type, null, null, true, parser);
  }

  /** One of the constants of an enum, written in lower case with '-' (e.g. {@code tunnel-only}). */
  public <E extends Enum<E>> E choice(String name, Class<E> type, E defaultValue) {
    List<String> allowed = Arrays.stream(type.getEnumConstants()).map(ConfigSource::enumText).toList();
    return read(name, "one of " + String.join(", ", allowed), defaultValue == null ? null : enumText(defaultValue), defaultValue, false,
        value -> {
          for (E constant : type.getEnumConstants()) {
            if (enumText(constant).equals(value.trim().toLowerCase(Locale.ROOT))) {
              return constant;
            }
          }
          throw ConfigException.invalid(name, value, "is not one of " + String.join(", ", allowed));
        });
  }

  /** Records the setting, then parses its value or returns the default (or fails when required). */
  private <T> T read(String name, String type, String defaultText, T defaultValue, boolean required, Function<String, T> parser) {
    record(name, required ? type + ", required" : type, defaultText);
    try {
      Optional<String> value = raw(name);
      if (value.isEmpty()) {
        if (required) {
          throw ConfigException.missing(name);
        }
        return defaultValue;
      }
      return parse(name, value.get(), parser);
    } catch (ConfigException e) {
      if (helpRequested()) {
        return defaultValue;
      }
      throw e;
    }
  }

  // ---- unknown flags and help ---------------------------------------------------------------

  /**
   * Fails on a flag that no getter has read (a misspelt or unsupported flag). Call after reading
   * every setting. Unknown {@code MESHWORK_*} environment variables are allowed: launchers use some
   * ({@code MESHWORK_JAVA_OPTS}).
   */
  public void rejectUnknown() {
    rejectUnknown(read.keySet());
  }

  /** Fails on a flag that is not in {@code known} (names without dashes). */
  public void rejectUnknown(Set<String> known) {
    Set<String> unknown = new TreeSet<>(flags.keySet());
    unknown.removeAll(known);
    unknown.removeAll(HELP_FLAGS);
    if (unknown.isEmpty()) {
      return;
    }
    String first = unknown.iterator().next();
    String message = "unknown flag --" + first;
    Optional<String> suggestion = closest(first, known);
    if (suggestion.isPresent()) {
      message += " (did you mean --" + suggestion.get() + "?)";
    }
    if (unknown.size() > 1) {
      message += "; also unknown: " + unknown.stream().skip(1).map(n -> "--" + n).collect(Collectors.joining(", "));
    }
    throw new ConfigException(first, message);
  }

  /** Fails when a flag was given more than once, except for lists. Called by the getters. */
  private void checkSingle(String name) {
    List<String> given = flags.get(name);
    if (given != null && given.size() > 1) {
      throw ConfigException.invalid(name, "given " + given.size() + " times (" + given.stream().map(v -> "\"" + v + "\"").collect(Collectors.joining(", ")) + ")");
    }
  }

  /** The settings read so far, in reading order. */
  public List<Setting> settings() {
    return List.copyOf(read.values());
  }

  /** A usage text listing every setting read so far with its environment variable and default. */
  public String help() {
    StringBuilder out = new StringBuilder();
    for (Setting setting : read.values()) {
      out.append("  ").append(setting.flag()).append(" (").append(setting.environmentVariable()).append(")  ").append(setting.type());
      if (setting.defaultValue() != null) {
        out.append(", default ").append(setting.defaultValue().isEmpty() ? "\"\"" : setting.defaultValue());
      }
      out.append('\n');
      if (setting.description() != null) {
        out.append("      ").append(setting.description()).append('\n');
      }
    }
    return out.toString();
  }

  // ---- parsing ------------------------------------------------------------------------------

  private Optional<String> raw(String name) {
    checkName(name);
    checkSingle(name);
    List<String> given = flags.get(name);
    if (given != null) {
      return Optional.of(given.getLast());
    }
    return Optional.ofNullable(environment.get(environmentVariable(name)));
  }

  private void record(String name, String type, String defaultValue) {
    checkName(name);
    read.put(name, new Setting(name, type, defaultValue, descriptions.get(name)));
  }

  private static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("setting name \"" + name + "\" must be lower case words joined by '-'");
    }
  }

  private static <T> T parse(String name, String value, Function<String, T> parser) {
    try {
      return parser.apply(value);
    } catch (ConfigException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new ConfigException(name, "invalid " + flagAndVariable(name) + ": " + e.getMessage(), e);
    }
  }

  private static long parseLong(String name, String value, long min, long max) {
    long parsed;
    try {
      parsed = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw ConfigException.invalid(name, value, "is not an integer");
    }
    if (parsed < min || parsed > max) {
      throw ConfigException.invalid(name, value, "is outside " + min + ".." + max);
    }
    return parsed;
  }

  private static boolean parseBoolean(String name, String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "1" -> true;
      case "false", "no", "0" -> false;
      default -> throw ConfigException.invalid(name, value, "is not a boolean (true or false)");
    };
  }

  private static Path parsePath(String name, String value) {
    if (value.isBlank()) {
      throw ConfigException.invalid(name, value, "is not a path: it is empty");
    }
    try {
      return Path.of(value);
    } catch (InvalidPathException e) {
      throw ConfigException.invalid(name, value, "is not a path: " + e.getReason());
    }
  }

  /** Parses {@code 250ms}, {@code 30s}, {@code 1h30m}, {@code PT30S}, {@code 0}. */
  static Duration parseDuration(String name, String value) {
    String text = value.trim();
    if (text.equals("0")) {
      return Duration.ZERO;
    }
    if (text.startsWith("P") || text.startsWith("p")) {
      try {
        Duration parsed = Duration.parse(text);
        if (parsed.isNegative()) {
          throw ConfigException.invalid(name, value, "is negative");
        }
        return parsed;
      } catch (DateTimeParseException e) {
        throw ConfigException.invalid(name, value, "is not a duration (examples: 250ms, 30s, 5m, 1h, 1h30m)");
      }
    }
    Matcher matcher = DURATION_PART.matcher(text);
    Duration total = Duration.ZERO;
    int position = 0;
    while (position < text.length()) {
      if (!matcher.find(position) || matcher.start() != position) {
        String reason = text.matches("\\d+(\\.\\d+)?") ? "has no unit (examples: 250ms, 30s, 5m, 1h)" : "is not a duration (examples: 250ms, 30s, 5m, 1h, 1h30m)";
        throw ConfigException.invalid(name, value, reason);
      }
      BigDecimal amount = new BigDecimal(matcher.group(1));
      long nanosPerUnit = switch (matcher.group(2)) {
        case "ns" -> 1L;
        case "us", "µs" -> 1_000L;
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        case "h" -> 3_600_000_000_000L;
        case "d" -> 86_400_000_000_000L;
        default -> throw new IllegalStateException(matcher.group(2));
      };
      try {
        total = total.plusNanos(amount.multiply(BigDecimal.valueOf(nanosPerUnit)).longValueExact());
      } catch (ArithmeticException e) {
        throw ConfigException.invalid(name, value, "is too long or too precise");
      }
      position = matcher.end();
    }
    return total;
  }

  /** The shortest of the forms {@link #parseDuration} reads, e.g. {@code 30s}, {@code 5m}, {@code 250ms}. */
  public static String formatDuration(Duration duration) {
    if (duration.isZero()) {
      return "0";
    }
    long nanos;
    try {
      nanos = duration.toNanos();
    } catch (ArithmeticException e) {
      return duration.toString();
    }
    long[] units = {86_400_000_000_000L, 3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L, 1_000_000L, 1_000L, 1L};
    String[] names = {"d", "h", "m", "s", "ms", "us", "ns"};
    StringBuilder out = new StringBuilder();
    if (nanos < 0) {
      out.append('-');
      nanos = -nanos;
    }
    for (int i = 0; i < units.length; i++) {
      if (nanos >= units[i]) {
        out.append(nanos / units[i]).append(names[i]);
        nanos %= units[i];
      }
    }
    return out.toString();
  }

  private static String enumText(Enum<?> constant) {
    return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The known name closest to a misspelt one, when it is close enough to be a likely typo. */
  private static Optional<String> closest(String name, Collection<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : new HashSet<>(known)) {
      int distance = editDistance(name, candidate);
      if (distance < bestDistance || (distance == bestDistance && best != null && candidate.compareTo(best) < 0)) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return best != null && bestDistance <= Math.max(2, name.length() / 4) ? Optional.of(best) : Optional.empty();
  }

  private static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
