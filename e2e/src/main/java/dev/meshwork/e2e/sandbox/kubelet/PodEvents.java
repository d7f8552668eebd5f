package dev.meshwork.e2e.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes core/v1 Events as kubelet and the controllers do ({@code FailedCreatePodSandBox},
 * {@code SuccessfulCreate}, ...). Best effort: a failure to record is logged, never thrown.
 */
class PodEvents {

  private static final Logger log = LoggerFactory.getLogger(PodEvents.class);

  private final KubernetesClient api;

  PodEvents(KubernetesClient api) {
    this.api = api;
  }

  void normal(HasMetadata object, String component, String host, String reason, String message) {
    record(object, "Normal", component, host, reason, message);
  }

  void warning(HasMetadata object, String component, String host, String reason, String message) {
    record(object, "Warning", component, host, reason, message);
  }

  void record(HasMetadata object, String type, String component, String host, String reason, String message) {
    var meta = object.getMetadata();
    String namespace = meta.getNamespace() == null ? "default" : meta.getNamespace();
    String now = Instant.now().toString();
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withName(meta.getName() + "." + UUID.randomUUID().toString().replace("-", "").substring(0, 16))
            .withNamespace(namespace)
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(object.getApiVersion())
                    .withKind(object.getKind())
                    .withName(meta.getName())
                    .withNamespace(meta.getNamespace())
                    .withUid(meta.getUid())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(message)
            .withNewSource()
            .withComponent(component)
            .withHost(host)
            .endSource()
            .withReportingComponent(component)
            .withReportingInstance(host)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .build();
    try {
      api.v1().events().inNamespace(namespace).resource(event).create();
    } catch (KubernetesClientException e) {
      log.warn("could not record event {} on {} {}: {}", reason, object.getKind(), meta.getName(), e.getMessage());
    }
  }
}
