package dev.meshwork.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The chart rendered by {@code helm template} (through helm-java, Helm 3 in-process) and parsed
 * with the fabric8 model: one typed object per YAML document.
 */
record RenderedChart(String yaml, List<HasMetadata> objects) {
  static final Path CHART = Path.of("meshwork").toAbsolutePath();
  static final String NAMESPACE = "kube-system";
  private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  /** Renders release "meshwork" in kube-system with the given values files (none: the defaults). */
  static RenderedChart render(Path... valuesFiles) {
    return render(command -> {
      for (Path file : valuesFiles) {
        command.withValuesFile(file);
      }
      return command;
    });
  }

  /** Renders with --set values on top of the defaults. */
  static RenderedChart renderWith(Map<String, Object> values) {
    return render(command -> {
      values.forEach(command::set);
      return command;
    });
  }

  static RenderedChart render(UnaryOperator<TemplateCommand> options) {
    TemplateCommand command = new Helm(CHART).template().withName("meshwork").withNamespace(NAMESPACE);
    String yaml = options.apply(command).call();
    return new RenderedChart(yaml, parse(yaml));
  }

  /** The values file of a test under src/test/resources/values. */
  static Path values(String name) {
    return Path.of("src/test/resources/values", name).toAbsolutePath();
  }

  private static List<HasMetadata> parse(String yaml) {
    List<HasMetadata> objects = new ArrayList<>();
    for (String document : DOCUMENT_SEPARATOR.split(yaml)) {
      String body = document.lines().filter(line -> !line.startsWith("#")).reduce("", (a, b) -> a + b + "\n");
      if (body.isBlank()) {
        continue;
      }
      Object parsed = Serialization.unmarshal(document);
      assertThat(parsed).as("rendered document:\n%s", document).isInstanceOf(HasMetadata.class);
      objects.add((HasMetadata) parsed);
    }
    return objects;
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> T one(Class<T> type, String name) {
    List<T> named = all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).toList();
    assertThat(named).as("%s %s in the rendered chart", type.getSimpleName(), name).hasSize(1);
    return named.getFirst();
  }
}
