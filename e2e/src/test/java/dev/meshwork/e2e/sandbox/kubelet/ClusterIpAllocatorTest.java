package dev.meshwork.e2e.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.datapath.IpPrefix;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterIpAllocatorTest {

  @Test
  void handsOutTheLowestFreeAddressAfterTheFirstAndNeverTheBroadcast() {
    ClusterIpAllocator allocator = new ClusterIpAllocator(IpPrefix.parse("10.100.0.0/29"));

    assertThat(allocator.allocate("ns/a", List.of("10.100.0.3", "None"))).hasValue("10.100.0.2");
    assertThat(allocator.allocate("ns/b", List.of("10.100.0.3"))).hasValue("10.100.0.4");
    assertThat(allocator.allocate("ns/c", List.of("10.100.0.3"))).hasValue("10.100.0.5");
    assertThat(allocator.allocate("ns/d", List.of("10.100.0.3"))).hasValue("10.100.0.6");
    assertThat(allocator.allocate("ns/e", List.of("10.100.0.3"))).as("10.100.0.7 is the broadcast address").isEmpty();
  }

  @Test
  void givesAServiceTheSameAddressUntilItIsReleased() {
    ClusterIpAllocator allocator = new ClusterIpAllocator(IpPrefix.parse("10.100.0.0/16"));

    assertThat(allocator.allocate("ns/a", List.of())).hasValue("10.100.0.2");
    assertThat(allocator.allocate("ns/a", List.of())).as("a retried update").hasValue("10.100.0.2");
    allocator.release("ns/a");
    assertThat(allocator.allocate("ns/b", List.of())).hasValue("10.100.0.2");
  }
}
