package dev.meshwork.kvstore.etcd;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Reads PEM certificates and private keys. Keys may be PKCS#8 ({@code PRIVATE KEY}), PKCS#1 RSA
 * ({@code RSA PRIVATE KEY}) or SEC1 EC ({@code EC PRIVATE KEY}); Bouncy Castle turns the latter
 * two, which the JDK cannot read, into JDK keys.
 */
public final class PemFiles {
  private PemFiles() {}

  /**
   * All certificates in {@code file}, in order.
   *
   * @throws IOException if the file cannot be read or holds no certificate; the message names it
   */
  public static List<X509Certificate> certificates(String setting, Path file) throws IOException {
    List<X509Certificate> certs = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (Reader reader = Files.newBufferedReader(file);
        PEMParser parser = new PEMParser(reader)) {
      Object item;
      while ((item = parser.readObject()) != null) {
        if (item instanceof X509CertificateHolder holder) {
          certs.add(converter.getCertificate(holder));
        }
      }
    } catch (CertificateException | RuntimeException e) {
      throw new IOException(setting + " " + file + " holds an unreadable certificate: " + e.getMessage(), e);
    }
    if (certs.isEmpty()) {
      throw new IOException(setting + " " + file + " holds no PEM certificate");
    }
    return certs;
  }

  /**
   * The first private key in {@code file}.
   *
   * @throws IOException if the file cannot be read or holds no supported key; the message names it
   */
  public static PrivateKey privateKey(String setting, Path file) throws IOException {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try (Reader reader = Files.newBufferedReader(file);
        PEMParser parser = new PEMParser(reader)) {
      Object item;
      while ((item = parser.readObject()) != null) {
        if (item instanceof PrivateKeyInfo info) {
          return converter.getPrivateKey(info);
        }
        if (item instanceof PEMKeyPair pair) {
          // Only the private part: a SEC1 key may omit its public key.
          return converter.getPrivateKey(pair.getPrivateKeyInfo());
        }
      }
    } catch (RuntimeException e) {
      throw new IOException(setting + " " + file + " holds an unreadable key: " + e.getMessage(), e);
    }
    throw new IOException(
        setting + " " + file
            + " holds no unencrypted private key (expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
  }
}
