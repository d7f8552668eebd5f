package dev.meshwork.operator.events;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** Reports problems with Kubernetes objects where users look for them: Events on the object. */
public interface EventRecorder {

  /** A Warning event on {@code object}; repeated identical warnings may be dropped. */
  void warning(HasMetadata object, String reason, String message);
}
