package dev.meshwork.operator.events;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes core/v1 Events. Best effort: a failure to record is logged, never thrown, because the
 * problem being reported matters more than the report. An identical warning for the same object
 * generation is written once, so a retried reconcile does not flood the API.
 */
public final class KubernetesEventRecorder implements EventRecorder {

  private static final Logger log = LoggerFactory.getLogger(KubernetesEventRecorder.class);
  private static final String COMPONENT = "meshwork-operator";
  private static final int REMEMBERED = 10_000;

  private final KubernetesClient client;
  private final Set<String> recorded = ConcurrentHashMap.newKeySet();

  public KubernetesEventRecorder(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public void warning(HasMetadata object, String reason, String message) {
    var meta = object.getMetadata();
    String once =
        meta.getUid() + "|" + meta.getResourceVersion() + "|" + reason + "|" + message;
    if (recorded.size() > REMEMBERED) {
      recorded.clear();
    }
    if (!recorded.add(once)) {
      return;
    }
    Event event = event(object, "Warning", COMPONENT, null, reason, message);
    try {
      client.v1().events().inNamespace(event.getMetadata().getNamespace()).resource(event).create();
    } catch (KubernetesClientException e) {
      recorded.remove(once);
      log.warn(
          "could not record event {} on {} {}: {}", reason, object.getKind(), meta.getName(), e
              .getMessage());
    }
  }

  /**
   * A core/v1 Event about {@code object}, as kubelet and controllers write them; {@code host} may
   * be null. Also used by the sandbox's kubelet shim (e2e), so both write the same shape.
   */
  public static Event event(
      HasMetadata object, String type, String component, String host, String reason, String message) {
    var meta = object.getMetadata();
    String namespace = meta.getNamespace() == null ? "default" : meta.getNamespace();
    String now = Instant.now().toString();
    return new EventBuilder()
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
                .withResourceVersion(meta.getResourceVersion())
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
  }
}
