package dev.meshwork.testing.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority for tests: issues server and client certificates and writes
 * them as PEM files into a directory.
 *
 * <pre>{@code
 * TestCertificates ca = TestCertificates.create(tempDir, "cluster-1-ca");
 * IssuedCertificate server = ca.server("etcd");          // SANs 127.0.0.1, ::1, localhost
 * IssuedCertificate client = ca.client("agent");
 * TestCertificates other = TestCertificates.create(tempDir.resolve("other"), "intruder-ca");
 * }</pre>
 *
 * Files: {@code ca.crt}, {@code ca.key}, and {@code <name>.crt} / {@code <name>.key} (PKCS#8) per
 * certificate; {@link IssuedCertificate#writeTraditionalKey()} adds a PKCS#1 / SEC 1 key.
 */
public final class TestCertificates {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis() << 8);
  private static final Duration DEFAULT_VALIDITY = Duration.ofDays(365);

  private final Path directory;
  private final String caName;
  private final KeyAlgorithm keyAlgorithm;
  private final KeyPair caKeyPair;
  private final X509Certificate caCertificate;
  private final Path caCertFile;
  private final Path caKeyFile;

  private TestCertificates(Path directory, String caName, KeyAlgorithm keyAlgorithm) {
    this.directory = directory;
    this.caName = caName;
    this.keyAlgorithm = keyAlgorithm;
    try {
      Files.createDirectories(directory);
      caKeyPair = generateKeyPair(keyAlgorithm);
      Instant now = Instant.now();
      X500Name subject = name(caName);
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
          subject, nextSerial(), Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(3650))),
          subject, caKeyPair.getPublic());
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
      builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(caKeyPair.getPublic()));
      caCertificate = sign(builder, caKeyPair.getPrivate(), keyAlgorithm);
      caCertFile = directory.resolve("ca.crt");
      caKeyFile = directory.resolve("ca.key");
      Files.writeString(caCertFile, Pem.certificate(caCertificate));
      Files.writeString(caKeyFile, Pem.pkcs8Key(caKeyPair.getPrivate()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write test CA " + caName + " to " + directory, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot create test CA " + caName, e);
    }
  }

  /** A new CA named {@code meshwork-test-ca} with EC P-256 keys, writing into {@code directory}. */
  public static TestCertificates create(Path directory) {
    return create(directory, "meshwork-test-ca");
  }

  /** A new CA with EC P-256 keys, writing into {@code directory}. */
  public static TestCertificates create(Path directory, String caName) {
    return create(directory, caName, KeyAlgorithm.EC_P256);
  }

  /** A new CA whose own key and issued keys use {@code keyAlgorithm}. */
  public static TestCertificates create(Path directory, String caName, KeyAlgorithm keyAlgorithm) {
    return new TestCertificates(directory, caName, keyAlgorithm);
  }

  public Path directory() {
    return directory;
  }

  public String caName() {
    return caName;
  }

  /** The CA certificate's PEM file ({@code ca.crt}): what a peer trusts. */
  public Path caCertFile() {
    return caCertFile;
  }

  /** The CA's PKCS#8 key file ({@code ca.key}). */
  public Path caKeyFile() {
    return caKeyFile;
  }

  public X509Certificate caCertificate() {
    return caCertificate;
  }

  public PrivateKey caPrivateKey() {
    return caKeyPair.getPrivate();
  }

  /**
   * A server certificate (also usable as a client certificate, as etcd peers need) for 127.0.0.1,
   * ::1, localhost and {@code extraNames} (DNS names or IP addresses), valid for a year.
   */
  public IssuedCertificate server(String name, String... extraNames) {
    return issue(new CertificateSpec(name, name, sans(extraNames), true, true, null, null, keyAlgorithm));
  }

  /** A client certificate with common name {@code name}, valid for a year. */
  public IssuedCertificate client(String name) {
    return issue(new CertificateSpec(name, name, List.of(), false, true, null, null, keyAlgorithm));
  }

  /** A certificate as described by {@code spec}: any validity (e.g. expired), key type, usage. */
  public IssuedCertificate issue(CertificateSpec spec) {
    try {
      KeyPair keyPair = generateKeyPair(spec.keyAlgorithm());
      Instant notBefore = spec.notBefore() != null ? spec.notBefore() : Instant.now().minus(Duration.ofHours(1));
      Instant notAfter = spec.notAfter() != null ? spec.notAfter() : Instant.now().plus(DEFAULT_VALIDITY);
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
          caCertificate, nextSerial(), Date.from(notBefore), Date.from(notAfter), name(spec.commonName()), keyPair.getPublic());
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      int keyUsage = KeyUsage.digitalSignature | (spec.keyAlgorithm() == KeyAlgorithm.RSA_2048 ? KeyUsage.keyEncipherment : KeyUsage.keyAgreement);
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
      List<KeyPurposeId> purposes = new ArrayList<>();
      if (spec.serverAuth()) {
        purposes.add(KeyPurposeId.id_kp_serverAuth);
      }
      if (spec.clientAuth()) {
        purposes.add(KeyPurposeId.id_kp_clientAuth);
      }
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes.toArray(KeyPurposeId[]::new)));
      if (!spec.subjectAlternativeNames().isEmpty()) {
        builder.addExtension(Extension.subjectAlternativeName, false, generalNames(spec.subjectAlternativeNames()));
      }
      builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(keyPair.getPublic()));
      builder.addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(caCertificate));
      X509Certificate certificate = sign(builder, caKeyPair.getPrivate(), keyAlgorithm);
      Path certFile = directory.resolve(spec.name() + ".crt");
      Path keyFile = directory.resolve(spec.name() + ".key");
      Files.writeString(certFile, Pem.certificate(certificate));
      Files.writeString(keyFile, Pem.pkcs8Key(keyPair.getPrivate()));
      return new IssuedCertificate(spec.name(), certFile, keyFile, certificate, keyPair.getPrivate(), caCertFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write certificate " + spec.name() + " to " + directory, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot issue certificate " + spec.name(), e);
    }
  }

  /**
   * An SSL context that presents {@code identity} (may be null for no client certificate) and
   * trusts this CA only: for JDK clients in tests (HTTP health checks, raw TLS probes).
   */
  public SSLContext sslContext(IssuedCertificate identity) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", caCertificate);
      TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trustManagers.init(trust);
      KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      char[] password = "test".toCharArray();
      if (identity != null) {
        X509Certificate issuer = identity.certificate().getIssuerX500Principal().equals(caCertificate.getSubjectX500Principal())
            ? caCertificate : null;
        Certificate[] chain = issuer != null ? new Certificate[] {identity.certificate(), issuer} : new Certificate[] {identity.certificate()};
        keys.setKeyEntry("identity", identity.privateKey(), password, chain);
      }
      keyManagers.init(keys, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), RANDOM);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build an SSL context from test CA " + caName, e);
    }
  }

  /**
   * An SSL context from PEM files: presents {@code clientCert} with {@code clientKey} (PKCS#8,
   * PKCS#1 or SEC 1) and trusts only {@code caCert}. For clients of servers whose certificates a
   * test did not create itself (e.g. files written by a command under test).
   */
  public static SSLContext sslContext(Path caCert, Path clientCert, Path clientKey) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int index = 0;
      for (X509Certificate ca : Pem.readCertificates(caCert)) {
        trust.setCertificateEntry("ca-" + index++, ca);
      }
      TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trustManagers.init(trust);
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      char[] password = "test".toCharArray();
      keys.setKeyEntry("identity", Pem.readPrivateKey(clientKey), password, Pem.readCertificates(clientCert).toArray(Certificate[]::new));
      KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyManagers.init(keys, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), RANDOM);
      return context;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read TLS files " + caCert + ", " + clientCert + ", " + clientKey, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build an SSL context from " + caCert + ", " + clientCert + ", " + clientKey, e);
    }
  }

  /** Reads a PEM private key: PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 or SEC 1. */
  public static PrivateKey readPrivateKey(Path file) {
    try {
      return Pem.readPrivateKey(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read private key " + file, e);
    }
  }

  private static List<String> sans(String... extraNames) {
    Set<String> names = new LinkedHashSet<>(List.of("127.0.0.1", "::1", "localhost"));
    names.addAll(List.of(extraNames));
    return List.copyOf(names);
  }

  private static GeneralNames generalNames(List<String> names) {
    List<GeneralName> general = new ArrayList<>();
    for (String name : names) {
      general.add(isIpAddress(name) ? new GeneralName(GeneralName.iPAddress, name) : new GeneralName(GeneralName.dNSName, name));
    }
    return new GeneralNames(general.toArray(GeneralName[]::new));
  }

  private static boolean isIpAddress(String name) {
    if (!name.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) {
      return false;
    }
    try {
      InetAddress.ofLiteral(name);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static X500Name name(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Meshwork tests").addRDN(BCStyle.CN, commonName).build();
  }

  private static BigInteger nextSerial() {
    return BigInteger.valueOf(SERIALS.incrementAndGet());
  }

  private static KeyPair generateKeyPair(KeyAlgorithm algorithm) throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm.jcaName());
    switch (algorithm) {
      case EC_P256 -> generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      case RSA_2048 -> generator.initialize(2048, RANDOM);
    }
    return generator.generateKeyPair();
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey, KeyAlgorithm algorithm)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder(algorithm.signatureAlgorithm()).build(signingKey)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign certificate", e);
    }
  }

}
