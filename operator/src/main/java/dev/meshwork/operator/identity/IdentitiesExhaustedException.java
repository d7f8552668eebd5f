package dev.meshwork.operator.identity;

/** All 65,280 local identities of the cluster are in use. */
public final class IdentitiesExhaustedException extends Exception {

  public IdentitiesExhaustedException(String message) {
    super(message);
  }
}
