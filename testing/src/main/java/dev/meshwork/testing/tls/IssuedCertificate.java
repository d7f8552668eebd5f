package dev.meshwork.testing.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * A certificate issued by a {@link TestCertificates} CA, with its PEM files.
 *
 * @param name the file name stem ({@code <name>.crt}, {@code <name>.key})
 * @param certFile the certificate in PEM
 * @param keyFile the private key in PKCS#8 PEM ({@code BEGIN PRIVATE KEY}), which the JDK reads
 * @param certificate the certificate
 * @param privateKey the private key
 * @param caCertFile the PEM certificate of the CA that issued it
 */
public record IssuedCertificate(
    String name, Path certFile, Path keyFile, X509Certificate certificate, PrivateKey privateKey, Path caCertFile) {

  /**
   * Writes the key in its algorithm's traditional format beside the PKCS#8 file: PKCS#1 ({@code
   * BEGIN RSA PRIVATE KEY}) for RSA, SEC 1 ({@code BEGIN EC PRIVATE KEY}) for EC. The JDK cannot read
   * these; Kubernetes secrets and openssl often hold them.
   *
   * @return {@code <name>-traditional.key}
   */
  public Path writeTraditionalKey() {
    Path file = keyFile.resolveSibling(name + "-traditional.key");
    try {
      Files.writeString(file, Pem.traditionalKey(privateKey, certificate.getPublicKey()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    return file;
  }

  /** The certificate followed by the CA certificate, as one PEM file ({@code <name>-chain.crt}). */
  public Path writeChain() {
    Path file = certFile.resolveSibling(name + "-chain.crt");
    try {
      Files.writeString(file, Files.readString(certFile) + Files.readString(caCertFile));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    return file;
  }
}
