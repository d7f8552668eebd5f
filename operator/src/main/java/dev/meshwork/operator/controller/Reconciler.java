package dev.meshwork.operator.controller;

/**
 * Brings the state derived from one object key (for example {@code testing/backend-svc}) in line
 * with the informer caches. Reads only from caches, never from the event that queued the key.
 * Throwing means "retry with backoff"; the key is retried until it succeeds or is queued anew.
 */
public interface Reconciler {

  ReconcileResult reconcile(String key) throws Exception;
}
