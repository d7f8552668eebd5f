package dev.meshwork.testing.tls;

import java.time.Instant;
import java.util.List;

/**
 * What to put in a test certificate issued by {@link TestCertificates#issue}.
 *
 * @param name the file name stem ({@code <name>.crt}, {@code <name>.key})
 * @param commonName the subject's CN
 * @param subjectAlternativeNames DNS names and IP addresses
 * @param serverAuth whether the certificate may serve TLS
 * @param clientAuth whether the certificate may authenticate a client
 * @param notBefore start of validity, or null for an hour ago
 * @param notAfter end of validity, or null for a year from now (set it in the past for an expired one)
 * @param keyAlgorithm the key type
 */
public record CertificateSpec(
    String name,
    String commonName,
    List<String> subjectAlternativeNames,
    boolean serverAuth,
    boolean clientAuth,
    Instant notBefore,
    Instant notAfter,
    KeyAlgorithm keyAlgorithm) {
  public CertificateSpec {
    if (name == null || !name.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("certificate name \"" + name + "\" must be a plain file name stem ([A-Za-z0-9._-]+)");
    }
    subjectAlternativeNames = List.copyOf(subjectAlternativeNames);
    if (!serverAuth && !clientAuth) {
      throw new IllegalArgumentException("certificate " + name + " must allow server or client authentication");
    }
  }

  /** A client certificate spec named {@code name}, to adjust with the {@code with*} methods. */
  public static CertificateSpec client(String name) {
    return new CertificateSpec(name, name, List.of(), false, true, null, null, KeyAlgorithm.EC_P256);
  }

  /** A server certificate spec for the loopback names and {@code extraNames}. */
  public static CertificateSpec server(String name, String... extraNames) {
    List<String> names = new java.util.ArrayList<>(List.of("127.0.0.1", "::1", "localhost"));
    names.addAll(List.of(extraNames));
    return new CertificateSpec(name, name, names, true, true, null, null, KeyAlgorithm.EC_P256);
  }

  public CertificateSpec withValidity(Instant notBefore, Instant notAfter) {
    return new CertificateSpec(name, commonName, subjectAlternativeNames, serverAuth, clientAuth, notBefore, notAfter, keyAlgorithm);
  }

  public CertificateSpec withKeyAlgorithm(KeyAlgorithm keyAlgorithm) {
    return new CertificateSpec(name, commonName, subjectAlternativeNames, serverAuth, clientAuth, notBefore, notAfter, keyAlgorithm);
  }

  public CertificateSpec withCommonName(String commonName) {
    return new CertificateSpec(name, commonName, subjectAlternativeNames, serverAuth, clientAuth, notBefore, notAfter, keyAlgorithm);
  }
}
