package dev.meshwork.agent.service;

/** Which backends a global service prefers (annotation {@code service.cilium.io/affinity}). */
public enum Affinity {
  /** Local and remote backends alike. */
  NONE,
  /** Local backends; remote ones only while no local backend is ready. */
  LOCAL,
  /** Remote backends; local ones only while no remote backend is ready. */
  REMOTE
}
