package dev.meshwork.cli.clustermesh;

import java.security.KeyPair;
import java.security.cert.X509Certificate;

/** A certificate together with the key pair it certifies. */
public record IssuedCertificate(X509Certificate certificate, KeyPair keyPair) {}
