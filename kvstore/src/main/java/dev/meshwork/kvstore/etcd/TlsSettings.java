package dev.meshwork.kvstore.etcd;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The PEM files of a TLS connection to etcd.
 *
 * @param trustedCaFile CA certificate(s) that sign etcd's server certificate
 * @param certFile client certificate (chain), present together with {@code keyFile} for mutual TLS
 * @param keyFile client private key: PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted
 */
public record TlsSettings(Path trustedCaFile, Optional<Path> certFile, Optional<Path> keyFile) {
  public TlsSettings {
    Objects.requireNonNull(trustedCaFile, "trustedCaFile");
    Objects.requireNonNull(certFile, "certFile");
    Objects.requireNonNull(keyFile, "keyFile");
    if (certFile.isPresent() != keyFile.isPresent()) {
      throw new IllegalArgumentException("cert-file and key-file must be set together");
    }
  }

  /** Mutual TLS with a client certificate. */
  public static TlsSettings mutual(Path trustedCaFile, Path certFile, Path keyFile) {
    return new TlsSettings(trustedCaFile, Optional.of(certFile), Optional.of(keyFile));
  }
}
