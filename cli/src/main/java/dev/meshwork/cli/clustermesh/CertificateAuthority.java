package dev.meshwork.cli.clustermesh;

import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The CA of one cluster's etcd. It signs that etcd's server certificate and the client
 * certificates other clusters' agents present to it. New keys are ECDSA P-256 (small, fast, and
 * accepted by etcd and Netty); an existing CA with an RSA key is used as it is.
 */
public final class CertificateAuthority {

  /** Organization of every certificate Meshwork issues; its OU names the cluster. */
  public static final String ORGANIZATION = "meshwork";

  /** The CN of client certificates for remote clusters: the etcd user with the read-only role. */
  public static final String REMOTE_CLIENT_COMMON_NAME = "remote";

  /** The CN of the client certificate of the cluster's own operator and kvstore-sync (read-write). */
  public static final String LOCAL_CLIENT_COMMON_NAME = "meshwork-local";

  // Certificates start a little in the past so that a peer whose clock lags accepts them at once.
  private static final Duration BACKDATE = Duration.ofMinutes(5);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final String cluster;
  private final X509Certificate certificate;
  private final PrivateKey privateKey;
  private final Clock clock;

  public CertificateAuthority(String cluster, X509Certificate certificate, PrivateKey privateKey, Clock clock) {
    this.cluster = cluster;
    this.certificate = certificate;
    this.privateKey = privateKey;
    this.clock = clock;
  }

  /** A new self-signed CA for {@code cluster}'s etcd. */
  public static CertificateAuthority create(String cluster, Duration validity, Clock clock) {
    KeyPair keys = newKeyPair();
    X500Name subject = name("meshwork etcd CA", cluster);
    Instant now = clock.instant();
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            subject, serial(), Date.from(now.minus(BACKDATE)), Date.from(now.plus(validity)), subject, keys.getPublic());
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
      builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(keys.getPublic()));
      X509Certificate certificate = sign(builder, keys.getPrivate());
      return new CertificateAuthority(cluster, certificate, keys.getPrivate(), clock);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot create the etcd CA of cluster " + cluster, e);
    }
  }

  public String cluster() {
    return cluster;
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public PrivateKey privateKey() {
    return privateKey;
  }

  /**
   * The etcd server certificate: DNS {@code <cluster>.mesh.meshwork.dev}, localhost, 127.0.0.1 and
   * the extra names (DNS names or IP literals). Also valid for client auth, as etcd peers need.
   */
  public IssuedCertificate issueServer(List<String> extraSubjectAltNames, Duration validity) {
    List<GeneralName> names = new ArrayList<>();
    names.add(new GeneralName(GeneralName.dNSName, MeshNames.etcdHost(cluster)));
    names.add(new GeneralName(GeneralName.dNSName, "localhost"));
    names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
    for (String san : extraSubjectAltNames) {
      names.add(subjectAltName(san));
    }
    return issue(
        name(MeshNames.etcdHost(cluster), cluster),
        validity,
        new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth},
        Optional.of(new GeneralNames(names.stream().distinct().toArray(GeneralName[]::new))));
  }

  /**
   * A client certificate for this CA's etcd. {@code commonName} is the etcd user; {@code
   * clientCluster} (the OU) says which cluster holds it.
   */
  public IssuedCertificate issueClient(String commonName, String clientCluster, Duration validity) {
    return issue(name(commonName, clientCluster), validity, new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth}, Optional.empty());
  }

  private IssuedCertificate issue(X500Name subject, Duration validity, KeyPurposeId[] purposes, Optional<GeneralNames> altNames) {
    KeyPair keys = newKeyPair();
    Instant now = clock.instant();
    Instant notAfter = now.plus(validity);
    // A certificate never outlives its CA: clients would reject the chain before the leaf expires.
    if (notAfter.isAfter(certificate.getNotAfter().toInstant())) {
      notAfter = certificate.getNotAfter().toInstant();
    }
    try {
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              certificate, serial(), Date.from(now.minus(BACKDATE)), Date.from(notAfter), subject, keys.getPublic());
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      int usage = KeyUsage.digitalSignature | (isRsa(keys.getPublic()) ? KeyUsage.keyEncipherment : 0);
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
      builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(keys.getPublic()));
      builder.addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(certificate));
      if (altNames.isPresent()) {
        builder.addExtension(Extension.subjectAlternativeName, false, altNames.get());
      }
      return new IssuedCertificate(sign(builder, privateKey), keys);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot issue " + subject + " from the etcd CA of cluster " + cluster, e);
    }
  }

  /** The OU of a certificate's subject, which names the cluster in certificates Meshwork made. */
  public static Optional<String> clusterOf(X509Certificate certificate) {
    X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
    boolean ours = false;
    String unit = null;
    for (RDN rdn : subject.getRDNs()) {
      String value = IETFUtils.valueToString(rdn.getFirst().getValue());
      if (rdn.getFirst().getType().equals(BCStyle.O) && ORGANIZATION.equals(value)) {
        ours = true;
      } else if (rdn.getFirst().getType().equals(BCStyle.OU)) {
        unit = value;
      }
    }
    return ours ? Optional.ofNullable(unit) : Optional.empty();
  }

  private static GeneralName subjectAltName(String san) {
    Optional<InetAddress> ip = MeshNames.ipLiteral(san);
    return ip.isPresent()
        ? new GeneralName(GeneralName.iPAddress, ip.get().getHostAddress())
        : new GeneralName(GeneralName.dNSName, san);
  }

  private static X500Name name(String commonName, String cluster) {
    return new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, ORGANIZATION)
        .addRDN(BCStyle.OU, cluster)
        .addRDN(BCStyle.CN, commonName)
        .build();
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot generate EC P-256 keys", e);
    }
  }

  private static boolean isRsa(PublicKey key) {
    return "RSA".equals(key.getAlgorithm());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) throws CertificateException {
    String algorithm = "RSA".equals(signer.getAlgorithm()) ? "SHA256withRSA" : "SHA256withECDSA";
    try {
      ContentSigner contentSigner = new JcaContentSignerBuilder(algorithm).build(signer);
      return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
    } catch (OperatorCreationException e) {
      throw new CertificateException("cannot sign with a " + signer.getAlgorithm() + " key", e);
    }
  }

  // 127 random bits: positive, unique in practice, within RFC 5280's 20-octet limit.
  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }
}
