package dev.meshwork.operator.ipam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CidrPoolTest {

  private final CidrPool pool = new CidrPool(Ipv4Cidr.parse("10.1.0.0/16"), 24);

  @Test
  void handsOutTheLowestFreeBlockAndNeverOneTwice() {
    assertThat(pool.capacity()).isEqualTo(256);
    assertThat(pool.allocate()).contains(Ipv4Cidr.parse("10.1.0.0/24"));
    assertThat(pool.allocate()).contains(Ipv4Cidr.parse("10.1.1.0/24"));
    pool.release(Ipv4Cidr.parse("10.1.0.0/24"));
    assertThat(pool.allocate()).contains(Ipv4Cidr.parse("10.1.0.0/24"));
    assertThat(pool.allocate()).contains(Ipv4Cidr.parse("10.1.2.0/24"));
  }

  @Test
  void isEmptyWhenExhausted() {
    CidrPool small = new CidrPool(Ipv4Cidr.parse("10.1.0.0/23"), 24);
    assertThat(small.allocate()).isPresent();
    assertThat(small.allocate()).isPresent();
    assertThat(small.allocate()).isEmpty();
  }

  @Test
  void claimsExistingBlocksOnceAndRejectsForeignOnes() {
    assertThat(pool.claim(Ipv4Cidr.parse("10.1.0.0/24"))).isEqualTo(CidrPool.Claim.CLAIMED);
    assertThat(pool.claim(Ipv4Cidr.parse("10.1.0.0/24"))).isEqualTo(CidrPool.Claim.ALREADY_USED);
    assertThat(pool.claim(Ipv4Cidr.parse("10.2.0.0/24"))).isEqualTo(CidrPool.Claim.NOT_IN_POOL);
    assertThat(pool.claim(Ipv4Cidr.parse("10.1.0.0/25"))).isEqualTo(CidrPool.Claim.NOT_IN_POOL);
    assertThat(pool.allocate()).contains(Ipv4Cidr.parse("10.1.1.0/24"));
  }

  @Test
  void rejectsAMaskSizeThatDoesNotFitThePool() {
    assertThatThrownBy(() -> new CidrPool(Ipv4Cidr.parse("10.1.0.0/16"), 12))
        .hasMessageContaining("cluster-pool-ipv4-mask-size 12 is larger than the pool 10.1.0.0/16");
    assertThatThrownBy(() -> new CidrPool(Ipv4Cidr.parse("10.0.0.0/8"), 33))
        .hasMessageContaining("0..32");
  }

  @Test
  void parsesStrictly() {
    assertThat(Ipv4Cidr.parse("10.1.0.0/16").contains(Ipv4Cidr.parse("10.1.7.0/24"))).isTrue();
    assertThatThrownBy(() -> Ipv4Cidr.parse("10.1.0.0")).hasMessageContaining("/prefix-length is missing");
    assertThatThrownBy(() -> Ipv4Cidr.parse("10.1.0/16")).hasMessageContaining("four dotted octets");
    assertThatThrownBy(() -> Ipv4Cidr.parse("10.1.0.0/x")).hasMessageContaining("not a number");
    assertThatThrownBy(() -> Ipv4Cidr.parse("")).hasMessageContaining("required");
  }
}
