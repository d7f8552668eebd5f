package dev.meshwork.common.lifecycle;

/** Stops one component; registered with {@link Lifecycle#register}. */
@FunctionalInterface
public interface StopHook {
  void stop() throws Exception;

  /** A hook for components that have nothing to stop. */
  static StopHook none() {
    return () -> {};
  }
}
