package dev.meshwork.charts;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Finds fields the fabric8 model does not know: fabric8 keeps them in {@code additionalProperties}
 * instead of failing, so a misspelt field in a template (say {@code hostNetwrok}) would otherwise
 * pass every parse and be dropped by the API server.
 */
final class UnknownFields {
  private static final int MAX_DEPTH = 40;

  private UnknownFields() {}

  /** Paths such as {@code spec.template.spec.hostNetwrok} of every field the model does not know. */
  static List<String> in(Object object) {
    List<String> found = new ArrayList<>();
    walk(object, "", found, 0);
    return found;
  }

  private static void walk(Object value, String path, List<String> found, int depth) {
    if (value == null || depth > MAX_DEPTH) {
      return;
    }
    if (value instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        walk(item, path + "[" + i++ + "]", found, depth + 1);
      }
      return;
    }
    if (value instanceof Map<?, ?> map) {
      map.forEach((key, item) -> walk(item, path + "[" + key + "]", found, depth + 1));
      return;
    }
    if (!value.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method getter : value.getClass().getMethods()) {
      if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
          || getter.getDeclaringClass() == Object.class || !getter.getName().startsWith("get")) {
        continue;
      }
      Object child;
      try {
        child = getter.invoke(value);
      } catch (IllegalAccessException | InvocationTargetException e) {
        continue;
      }
      String name = getter.getName().substring(3);
      if (name.equals("AdditionalProperties")) {
        if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
          extra.keySet().forEach(key -> found.add(join(path, String.valueOf(key))));
        }
        continue;
      }
      walk(child, join(path, Character.toLowerCase(name.charAt(0)) + name.substring(1)), found, depth + 1);
    }
  }

  private static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }
}
