package dev.meshwork.cli.clustermesh;

import dev.meshwork.cli.CliFailure;
import java.io.IOException;
import java.io.Reader;
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
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.util.io.pem.PemGenerationException;
import org.bouncycastle.util.io.pem.PemObjectGenerator;

/**
 * PEM encoding of what clustermesh issues: certificates, and private keys as unencrypted PKCS#8
 * ("PRIVATE KEY"), the form etcd, Go and Netty all read. Keys are written owner-only.
 */
public final class PemFiles {

  private PemFiles() {}

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

  public static X509Certificate readCertificate(Path file) {
    Object object = readObject(file);
    if (!(object instanceof X509CertificateHolder holder)) {
      throw new CliFailure(file + " does not hold a PEM certificate (found " + describe(object) + ")");
    }
    try {
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (CertificateException e) {
      throw new CliFailure(file + " holds a certificate this JDK cannot read: " + e.getMessage(), e);
    }
  }

  /** Reads a PKCS#8 ("PRIVATE KEY") or traditional ("EC/RSA PRIVATE KEY") unencrypted key. */
  public static PrivateKey readKey(Path file) {
    Object object = readObject(file);
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try {
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (object instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
    } catch (IOException e) {
      throw new CliFailure(file + " holds a private key this JDK cannot read: " + e.getMessage(), e);
    }
    throw new CliFailure(file + " does not hold an unencrypted PEM private key (found " + describe(object) + ")");
  }

  private static Object readObject(Path file) {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(reader)) {
      return parser.readObject();
    } catch (IOException e) {
      throw new CliFailure("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static String describe(Object object) {
    return object == null ? "no PEM block" : object.getClass().getSimpleName();
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
