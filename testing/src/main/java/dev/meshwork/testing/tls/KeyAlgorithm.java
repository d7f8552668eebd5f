package dev.meshwork.testing.tls;

/** The key pair type of a test certificate. */
public enum KeyAlgorithm {
  /** ECDSA on P-256: fast to generate, the default. */
  EC_P256("EC", "SHA256withECDSA"),
  /** RSA 2048: for code paths that must handle RSA (and PKCS#1 "BEGIN RSA PRIVATE KEY" files). */
  RSA_2048("RSA", "SHA256withRSA");

  private final String jcaName;
  private final String signatureAlgorithm;

  KeyAlgorithm(String jcaName, String signatureAlgorithm) {
    this.jcaName = jcaName;
    this.signatureAlgorithm = signatureAlgorithm;
  }

  String jcaName() {
    return jcaName;
  }

  String signatureAlgorithm() {
    return signatureAlgorithm;
  }
}
