package dev.meshwork.cli.output;

/** What `-o` accepts on every list command. */
public enum OutputFormat {
  /** Human-readable columns (Cilium's layout). */
  table,
  /** The agent's answer as protobuf JSON (proto3 JSON mapping, every field present). */
  json
}
