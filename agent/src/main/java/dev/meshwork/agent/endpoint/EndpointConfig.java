package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.IpPrefix;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the endpoint manager.
 *
 * @param podCidr this node's pod CIDR (from its MeshNode); the first address is the pods' gateway
 * @param stateDir where allocations and endpoints are persisted
 * @param defaultMtu MTU of pod interfaces when the network configuration sets none (VXLAN: underlay - 50)
 * @param identityTimeout how long an ADD waits for the operator to publish the pod's identity
 */
public record EndpointConfig(IpPrefix podCidr, Path stateDir, int defaultMtu, Duration identityTimeout) {
  public static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/meshwork/endpoints");
  public static final int DEFAULT_MTU = 1450;
  public static final Duration DEFAULT_IDENTITY_TIMEOUT = Duration.ofSeconds(30);

  public EndpointConfig {
    Objects.requireNonNull(podCidr, "podCidr");
    Objects.requireNonNull(stateDir, "stateDir");
    if (defaultMtu < 68 || defaultMtu > 65535) {
      throw new IllegalArgumentException("endpoint MTU " + defaultMtu + " is outside 68..65535");
    }
    if (identityTimeout.isNegative()) {
      throw new IllegalArgumentException("identity timeout " + identityTimeout + " is negative");
    }
  }

  /** The defaults for everything but the pod CIDR. */
  public static EndpointConfig of(IpPrefix podCidr) {
    return new EndpointConfig(podCidr, DEFAULT_STATE_DIR, DEFAULT_MTU, DEFAULT_IDENTITY_TIMEOUT);
  }
}
