package dev.meshwork.cli.clustermesh;

import java.net.InetAddress;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The DNS names and IPs a server certificate is valid for (its subject alternative names). */
record ServerNames(List<String> dnsNames, List<InetAddress> ips) {

  private static final int DNS = 2;
  private static final int IP = 7;

  static ServerNames of(X509Certificate certificate) {
    List<String> dns = new ArrayList<>();
    List<InetAddress> ips = new ArrayList<>();
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      if (names != null) {
        for (List<?> name : names) {
          int type = (Integer) name.get(0);
          String value = String.valueOf(name.get(1));
          if (type == DNS) {
            dns.add(value.toLowerCase(Locale.ROOT));
          } else if (type == IP) {
            MeshNames.ipLiteral(value).ifPresent(ips::add);
          }
        }
      }
    } catch (CertificateParsingException e) {
      // An unreadable SAN extension names nothing.
    }
    return new ServerNames(dns, ips);
  }

  /** Whether a TLS client dialing {@code host} accepts the certificate (exact or one-label wildcard). */
  boolean matches(String host) {
    Optional<InetAddress> ip = MeshNames.ipLiteral(host);
    if (ip.isPresent()) {
      return ips.contains(ip.get());
    }
    String lower = host.toLowerCase(Locale.ROOT);
    for (String name : dnsNames) {
      if (name.equals(lower)
          || name.startsWith("*.") && lower.endsWith(name.substring(1)) && lower.indexOf('.') == lower.length() - name.length() + 1) {
        return true;
      }
    }
    return false;
  }
}
