package dev.meshwork.operator.identity;

/** The numeric identities of one cluster: {@code clusterId << 16 | n}, n in 256..65535. */
public record IdentityRange(int clusterId) {

  public static final int FIRST_LOCAL = 256;
  public static final int LAST_LOCAL = 65535;

  public int first() {
    return clusterId << 16 | FIRST_LOCAL;
  }

  public int last() {
    return clusterId << 16 | LAST_LOCAL;
  }

  public boolean contains(long id) {
    return id >= first() && id <= last();
  }
}
