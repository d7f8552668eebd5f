package dev.meshwork.cli.clustermesh;

import dev.meshwork.cli.CliFailure;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.util.io.pem.PemGenerationException;
import org.bouncycastle.util.io.pem.PemObjectGenerator;

/**
 * PEM encoding of what clustermesh issues: certificates, and private keys as unencrypted PKCS#8
 * ("PRIVATE KEY"), the form etcd, Go and Netty all read. Keys are written owner-only. Reading
 * is the kvstore module's {@code dev.meshwork.kvstore.etcd.PemFiles}.
 */
public final class PemOutput {

  private PemOutput() {}

  public static String encode(X509Certificate certificate) {
    return pem(certificate);
  }

  public static String encode(PrivateKey key) {
    try {
      return pem(new JcaPKCS8Generator(key, null));
    } catch (PemGenerationException e) {
      throw new IllegalStateException("cannot encode a " + key.getAlgorithm() + " key as PKCS#8", e);
    }
  }

  public static void writeCertificate(Path file, X509Certificate certificate) {
    write(file, encode(certificate), false);
  }

  public static void writeKey(Path file, PrivateKey key) {
    write(file, encode(key), true);
  }

  /** Writes text, owner-only when {@code secret}; replaces the file atomically where it exists. */
  public static void write(Path file, String text, boolean secret) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path temp = Files.createTempFile(parent, "." + file.getFileName(), ".tmp");
      try {
        if (Files.getFileStore(temp).supportsFileAttributeView("posix")) {
          Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--"));
        }
        Files.writeString(temp, text, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(temp);
      }
    } catch (FileAlreadyExistsException e) {
      throw new CliFailure("cannot write " + file + ": it exists and cannot be replaced", e);
    } catch (IOException e) {
      throw new CliFailure("cannot write " + file + ": " + e, e);
    }
  }

  private static String pem(Object object) {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      if (object instanceof PemObjectGenerator generator) {
        writer.writeObject(generator);
      } else {
        writer.writeObject(object);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }
}
