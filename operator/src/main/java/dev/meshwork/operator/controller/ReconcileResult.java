package dev.meshwork.operator.controller;

import java.time.Duration;

/** What a reconcile asks of its controller: nothing more, or another look after a delay. */
public sealed interface ReconcileResult {

  ReconcileResult DONE = new Done();

  static ReconcileResult done() {
    return DONE;
  }

  static ReconcileResult requeueAfter(Duration delay) {
    return new RequeueAfter(delay);
  }

  /** The key is in its desired state. */
  record Done() implements ReconcileResult {}

  /** The key needs another reconcile after the delay (for example, an exhausted pool). */
  record RequeueAfter(Duration delay) implements ReconcileResult {}
}
