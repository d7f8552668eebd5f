package dev.meshwork.testing.etcd;

import java.nio.file.Path;

/**
 * The PEM files a client needs to reach a TLS etcd started by {@link EtcdExtension#tls()}.
 *
 * @param caCert the CA that signed the server's certificate (to trust)
 * @param clientCert a client certificate from the same CA
 * @param clientKey its PKCS#8 private key
 */
public record TlsFiles(Path caCert, Path clientCert, Path clientKey) {}
