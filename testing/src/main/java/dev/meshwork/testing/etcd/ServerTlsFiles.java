package dev.meshwork.testing.etcd;

import java.nio.file.Path;

/**
 * The PEM files a TLS etcd serves with, for {@link EtcdExtension#tls(ServerTlsFiles, TlsFiles)}.
 *
 * @param caCert the CA whose client certificates etcd accepts ({@code --trusted-ca-file})
 * @param serverCert etcd's certificate, valid for 127.0.0.1 ({@code --cert-file})
 * @param serverKey its private key ({@code --key-file})
 */
public record ServerTlsFiles(Path caCert, Path serverCert, Path serverKey) {}
