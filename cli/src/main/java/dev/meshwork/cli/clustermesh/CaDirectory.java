package dev.meshwork.cli.clustermesh;

import dev.meshwork.cli.CliFailure;
import dev.meshwork.kvstore.etcd.PemFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The directory `meshwork clustermesh ca` writes for one cluster: its etcd CA, the etcd server
 * certificate, and the client certificate of the cluster's own operator and kvstore-sync.
 */
public record CaDirectory(Path dir) {

  public static final String CA_CERT = "ca.crt";
  public static final String CA_KEY = "ca.key";
  public static final String SERVER_CERT = "etcd-server.crt";
  public static final String SERVER_KEY = "etcd-server.key";
  public static final String LOCAL_CLIENT_CERT = "etcd-local-client.crt";
  public static final String LOCAL_CLIENT_KEY = "etcd-local-client.key";

  public Path file(String name) {
    return dir.resolve(name);
  }

  /** True when the directory already holds a CA certificate and key. */
  public boolean hasCa() {
    return Files.isRegularFile(file(CA_CERT)) && Files.isRegularFile(file(CA_KEY));
  }

  /**
   * Loads the CA of {@code cluster}. A CA made by Meshwork names its cluster, and must name this
   * one; a CA from elsewhere (an existing etcd's) is accepted as it is.
   *
   * @param argument how the user named this directory, for messages (e.g. "--cluster a=/x")
   */
  public CertificateAuthority load(String cluster, String argument, Clock clock) {
    if (!Files.isDirectory(dir)) {
      throw new CliFailure(argument + ": CA directory " + dir + " does not exist; create it with: "
          + "meshwork clustermesh ca --cluster " + cluster + " --out " + dir + " (or let connect create it: --create-missing-ca)");
    }
    for (String name : List.of(CA_CERT, CA_KEY)) {
      if (!Files.isRegularFile(file(name))) {
        throw new CliFailure(argument + ": " + file(name) + " is missing; create the CA with: "
            + "meshwork clustermesh ca --cluster " + cluster + " --out " + dir + " (or let connect create it: --create-missing-ca)");
      }
    }
    X509Certificate certificate;
    PrivateKey key;
    try {
      certificate = PemFiles.certificates(CA_CERT, file(CA_CERT)).getFirst();
      key = PemFiles.privateKey(CA_KEY, file(CA_KEY));
    } catch (IOException e) {
      throw new CliFailure(argument + ": " + e.getMessage(), e);
    }
    if (certificate.getBasicConstraints() < 0) {
      throw new CliFailure(argument + ": " + file(CA_CERT) + " is not a CA certificate (no CA basic constraint)");
    }
    Optional<String> owner = CertificateAuthority.clusterOf(certificate);
    if (owner.isPresent() && !owner.get().equals(cluster)) {
      throw new CliFailure(argument + ": the CA in " + dir + " belongs to cluster " + owner.get() + ", not " + cluster);
    }
    if (!matches(certificate.getPublicKey(), key)) {
      throw new CliFailure(argument + ": " + file(CA_KEY) + " is not the key of " + file(CA_CERT));
    }
    return new CertificateAuthority(cluster, certificate, key, clock);
  }

  /** The etcd server certificate, when this directory has a readable one. */
  public Optional<X509Certificate> serverCertificate() {
    if (!Files.isRegularFile(file(SERVER_CERT))) {
      return Optional.empty();
    }
    try {
      return Optional.of(PemFiles.certificates(SERVER_CERT, file(SERVER_CERT)).getFirst());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Issues the etcd server and local client certificates from {@code ca} into this directory. */
  public void issueEtcdCertificates(CertificateAuthority ca, List<String> serverSubjectAltNames, Duration validity) {
    writeServer(ca.issueServer(serverSubjectAltNames, validity));
    writeLocalClient(ca.issueClient(CertificateAuthority.LOCAL_CLIENT_COMMON_NAME, ca.cluster(), validity));
  }

  public void writeCa(CertificateAuthority ca) {
    PemOutput.writeKey(file(CA_KEY), ca.privateKey());
    PemOutput.writeCertificate(file(CA_CERT), ca.certificate());
  }

  public void writeServer(IssuedCertificate server) {
    PemOutput.writeKey(file(SERVER_KEY), server.keyPair().getPrivate());
    PemOutput.writeCertificate(file(SERVER_CERT), server.certificate());
  }

  public void writeLocalClient(IssuedCertificate client) {
    PemOutput.writeKey(file(LOCAL_CLIENT_KEY), client.keyPair().getPrivate());
    PemOutput.writeCertificate(file(LOCAL_CLIENT_CERT), client.certificate());
  }

  // The key belongs to the certificate when signing with it verifies with the certificate's key.
  static boolean matches(PublicKey publicKey, PrivateKey privateKey) {
    String algorithm = "RSA".equals(privateKey.getAlgorithm()) ? "SHA256withRSA" : "SHA256withECDSA";
    byte[] probe = "meshwork-ca-key-check".getBytes(StandardCharsets.US_ASCII);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(privateKey);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
