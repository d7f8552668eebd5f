package dev.meshwork.agent.service;

/** Which backends a global service prefers (annotation {@code service.cilium.io/affinity}). */
public enum Affinity {
  /** Local and remote backends alike. */
  NONE,
  /** Local backends; remote ones only while no local backend is ready. */
  LOCAL,
  /** Remote backends; local ones only while no remote backend is ready. */
  REMOTE;

  /** The affinity of the kvstore contract and the annotation parser; an unknown one is none. */
  public static Affinity of(dev.meshwork.proto.v1.Affinity affinity) {
    return switch (affinity) {
      case AFFINITY_LOCAL -> LOCAL;
      case AFFINITY_REMOTE -> REMOTE;
      case AFFINITY_NONE, UNRECOGNIZED -> NONE;
    };
  }
}
