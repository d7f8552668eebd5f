package dev.meshwork.e2e.sandbox.kubelet;

import dev.meshwork.operator.events.KubernetesEventRecorder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
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
    Event event = KubernetesEventRecorder.event(object, type, component, host, reason, message);
    try {
      api.v1().events().inNamespace(event.getMetadata().getNamespace()).resource(event).create();
    } catch (KubernetesClientException e) {
      log.warn("could not record event {} on {} {}: {}", reason, object.getKind(), object.getMetadata().getName(), e.getMessage());
    }
  }
}
