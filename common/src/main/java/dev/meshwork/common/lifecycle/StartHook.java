package dev.meshwork.common.lifecycle;

/** Starts one component; registered with {@link Lifecycle#register}. */
@FunctionalInterface
public interface StartHook {
  void start() throws Exception;

  /** A hook for components that have nothing to start. */
  static StartHook none() {
    return () -> {};
  }
}
