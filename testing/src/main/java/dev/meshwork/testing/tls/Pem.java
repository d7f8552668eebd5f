package dev.meshwork.testing.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1BitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import java.security.cert.X509Certificate;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM text of certificates and keys. */
final class Pem {
  private Pem() {}

  /** Reads a PEM private key in any of PKCS#8, PKCS#1 (RSA) or SEC 1 (EC) form. */
  static PrivateKey readPrivateKey(Path file) throws IOException {
    try (PEMParser parser = new PEMParser(Files.newBufferedReader(file))) {
      Object object = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (object instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      throw new IOException(file + " holds no unencrypted private key (found " + (object == null ? "nothing" : object.getClass().getSimpleName()) + ")");
    }
  }

  /** Reads every certificate of a PEM file. */
  static List<X509Certificate> readCertificates(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> certificates = new ArrayList<>();
      for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        certificates.add((X509Certificate) certificate);
      }
      if (certificates.isEmpty()) {
        throw new IOException(file + " holds no certificate");
      }
      return certificates;
    } catch (CertificateException e) {
      throw new IOException(file + " holds no valid PEM certificate: " + e.getMessage(), e);
    }
  }

  static String certificate(X509Certificate certificate) {
    return write(certificate);
  }

  /** {@code BEGIN PRIVATE KEY}. */
  static String pkcs8Key(PrivateKey key) {
    try {
      return write(new JcaPKCS8Generator(key, null).generate());
    } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
      throw new IllegalStateException("cannot encode private key", e);
    }
  }

  /**
   * {@code BEGIN RSA PRIVATE KEY} (PKCS#1) or {@code BEGIN EC PRIVATE KEY} (SEC 1, with the named
   * curve and the public key, as openssl writes it and Go's crypto/tls requires).
   */
  static String traditionalKey(PrivateKey key, PublicKey publicKey) {
    try {
      PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
      if (key instanceof ECPrivateKey ec) {
        ASN1Encodable curve = info.getPrivateKeyAlgorithm().getParameters();
        ASN1BitString point = SubjectPublicKeyInfo.getInstance(publicKey.getEncoded()).getPublicKeyData();
        int orderBits = ec.getParams().getOrder().bitLength();
        byte[] sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(orderBits, ec.getS(), point, curve).getEncoded();
        return write(new PemObject("EC PRIVATE KEY", sec1));
      }
      if (key instanceof RSAPrivateKey) {
        return write(new PemObject("RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode private key", e);
    }
    throw new IllegalArgumentException("no traditional PEM form for " + key.getAlgorithm() + " keys");
  }

  private static String write(Object object) {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }
}
