package dev.meshwork.cni.spec;

import java.util.Set;

/**
 * The CNI verbs, each with the environment variables the specification requires for it (besides
 * {@code CNI_COMMAND} itself). {@code CNI_NETNS} is required for ADD and CHECK but optional for DEL,
 * so that DEL works after the namespace is gone; GC requires {@code CNI_PATH}.
 */
public enum CniCommand {
  ADD(Set.of(CniEnvironment.CONTAINERID, CniEnvironment.NETNS, CniEnvironment.IFNAME)),
  DEL(Set.of(CniEnvironment.CONTAINERID, CniEnvironment.IFNAME)),
  CHECK(Set.of(CniEnvironment.CONTAINERID, CniEnvironment.NETNS, CniEnvironment.IFNAME)),
  STATUS(Set.of()),
  GC(Set.of(CniEnvironment.PATH)),
  VERSION(Set.of());

  private final Set<String> requiredVariables;

  CniCommand(Set<String> requiredVariables) {
    this.requiredVariables = requiredVariables;
  }

  /** The CNI_* variables (other than CNI_COMMAND) this verb cannot run without. */
  public Set<String> requiredVariables() {
    return requiredVariables;
  }

  /** Whether this verb concerns one container attachment (and so reads container id and ifname). */
  public boolean concernsAttachment() {
    return this == ADD || this == DEL || this == CHECK;
  }
}
