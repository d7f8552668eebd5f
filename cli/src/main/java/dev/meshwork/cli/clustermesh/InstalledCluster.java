package dev.meshwork.cli.clustermesh;

import dev.meshwork.cli.CliFailure;
import dev.meshwork.common.cluster.ClusterName;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.io.ByteArrayInputStream;
import java.time.Clock;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * One cluster where the meshwork chart is installed, seen through its kubeconfig context: what the
 * chart created there and `connect` reads (templates of charts/meshwork):
 *
 * <ul>
 *   <li>ConfigMap {@value #AGENT_CONFIG}: the cluster's name and id (MESHWORK_CLUSTER_NAME/ID);
 *   <li>Secret {@value #CA_SECRET}: the etcd CA (ca.crt, ca.key) that issues client certificates;
 *   <li>Secret {@value #SERVER_SECRET}: the etcd server certificate (which names it answers to);
 *   <li>Service {@value #EXTERNAL_SERVICE}: where the other clusters reach this etcd;
 *   <li>DaemonSet {@value #AGENT_DAEMONSET}: the agents, whose host aliases resolve remote etcd names.
 * </ul>
 */
public record InstalledCluster(String context, String namespace, KubernetesClient client, String name, int id) {

  public static final String AGENT_CONFIG = "meshwork-agent-config";
  public static final String CA_SECRET = "meshwork-etcd-ca";
  public static final String SERVER_SECRET = "meshwork-etcd-server";
  public static final String EXTERNAL_SERVICE = "meshwork-etcd-external";
  public static final String AGENT_DAEMONSET = "meshwork-agent";
  public static final String KVSTORE_SYNC_DEPLOYMENT = "meshwork-kvstore-sync";

  /** Reads the cluster's name and id; fails naming the context and object when the chart is not there. */
  public static InstalledCluster read(KubernetesClient client, String context, String namespace) {
    ConfigMap config = get(context, () -> client.configMaps().inNamespace(namespace).withName(AGENT_CONFIG).get(),
        "ConfigMap " + namespace + "/" + AGENT_CONFIG);
    if (config == null) {
      throw new CliFailure("context " + context + ": ConfigMap " + namespace + "/" + AGENT_CONFIG
          + " not found: is the meshwork chart installed in namespace " + namespace + "? (--namespace)");
    }
    Map<String, String> data = config.getData() == null ? Map.of() : config.getData();
    String name = data.get("MESHWORK_CLUSTER_NAME");
    String idText = data.get("MESHWORK_CLUSTER_ID");
    String where = "context " + context + ": ConfigMap " + namespace + "/" + AGENT_CONFIG;
    if (name == null || !ClusterName.isValid(name)) {
      throw new CliFailure(where + ": MESHWORK_CLUSTER_NAME " + (name == null ? "is missing" : "\"" + name + "\" is not a cluster name"));
    }
    int id;
    try {
      id = Integer.parseInt(idText == null ? "" : idText.strip());
    } catch (NumberFormatException e) {
      throw new CliFailure(where + ": MESHWORK_CLUSTER_ID " + (idText == null ? "is missing" : "\"" + idText + "\" is not a number"));
    }
    if (id < 1 || id > 255) {
      throw new CliFailure(where + ": MESHWORK_CLUSTER_ID " + id + " is not in 1..255");
    }
    return new InstalledCluster(context, namespace, client, name, id);
  }

  /** "k8s-test-cluster (context kind-a)", for messages. */
  public String label() {
    return name + " (context " + context + ")";
  }

  /** The etcd CA from Secret {@value #CA_SECRET}. */
  public CertificateAuthority certificateAuthority(Clock clock) {
    Secret secret = secret(CA_SECRET).orElseThrow(() -> new CliFailure("context " + context + ": Secret " + namespace + "/"
        + CA_SECRET + " not found: the etcd CA of cluster " + name + " (created by the meshwork chart) is needed to issue client certificates"));
    String where = "context " + context + ": Secret " + namespace + "/" + CA_SECRET;
    X509Certificate certificate = certificate(where + " ca.crt", data(secret, "ca.crt", where));
    PrivateKey key = privateKey(where + " ca.key", data(secret, "ca.key", where));
    if (certificate.getBasicConstraints() < 0) {
      throw new CliFailure(where + ": ca.crt is not a CA certificate");
    }
    Optional<String> owner = CertificateAuthority.clusterOf(certificate);
    if (owner.isPresent() && !owner.get().equals(name)) {
      throw new CliFailure(where + ": the CA belongs to cluster " + owner.get() + ", not " + name);
    }
    return new CertificateAuthority(name, certificate, key, clock);
  }

  /** The etcd server certificate from Secret {@value #SERVER_SECRET}, when readable. */
  public Optional<X509Certificate> serverCertificate() {
    return secret(SERVER_SECRET).flatMap(s -> Optional.ofNullable(s.getData()).map(d -> d.get("tls.crt")))
        .map(b64 -> certificate("context " + context + ": Secret " + namespace + "/" + SERVER_SECRET + " tls.crt", decode(b64)));
  }

  /**
   * How the other clusters reach this cluster's etcd: {@code override} if given, else the load
   * balancer address of Service {@value #EXTERNAL_SERVICE}, else its node port on a node's
   * InternalIP.
   *
   * @param flag the option that gives the override, for the error message
   */
  public EtcdAddress etcdAddress(Optional<EtcdAddress> override, String flag) {
    if (override.isPresent()) {
      return override.get();
    }
    String where = "context " + context + ": Service " + namespace + "/" + EXTERNAL_SERVICE;
    Service service = get(context, () -> client.services().inNamespace(namespace).withName(EXTERNAL_SERVICE).get(), "Service " + namespace + "/" + EXTERNAL_SERVICE);
    if (service == null) {
      throw new CliFailure(where + " not found (chart value etcd.external.enabled=false?): give the address of cluster "
          + name + "'s etcd with " + flag);
    }
    List<ServicePort> ports = service.getSpec() == null || service.getSpec().getPorts() == null ? List.of() : service.getSpec().getPorts();
    ServicePort port = ports.stream().filter(p -> "client".equals(p.getName())).findFirst()
        .orElse(ports.isEmpty() ? null : ports.getFirst());
    if (port == null) {
      throw new CliFailure(where + " has no port");
    }
    List<LoadBalancerIngress> ingress = service.getStatus() == null || service.getStatus().getLoadBalancer() == null
        || service.getStatus().getLoadBalancer().getIngress() == null ? List.of() : service.getStatus().getLoadBalancer().getIngress();
    for (LoadBalancerIngress entry : ingress) {
      if (entry.getIp() != null && !entry.getIp().isBlank()) {
        return EtcdAddress.parse(bracketed(entry.getIp()) + ":" + port.getPort());
      }
      if (entry.getHostname() != null && !entry.getHostname().isBlank()) {
        return EtcdAddress.parse("https://" + entry.getHostname() + ":" + port.getPort());
      }
    }
    if (port.getNodePort() != null && port.getNodePort() > 0) {
      List<Node> nodes = get(context, () -> client.nodes().list().getItems(), "the Nodes");
      Optional<String> ip = nodes.stream().sorted(Comparator.comparing((Node n) -> !ready(n)).thenComparing(n -> n.getMetadata().getName()))
          .flatMap(n -> n.getStatus() == null || n.getStatus().getAddresses() == null ? java.util.stream.Stream.<NodeAddress>empty() : n.getStatus().getAddresses().stream())
          .filter(a -> "InternalIP".equals(a.getType()) && a.getAddress() != null)
          .map(NodeAddress::getAddress).findFirst();
      if (ip.isPresent()) {
        return EtcdAddress.parse(bracketed(ip.get()) + ":" + port.getNodePort());
      }
      throw new CliFailure(where + " has node port " + port.getNodePort() + " but no node has an InternalIP: give the address of cluster "
          + name + "'s etcd with " + flag);
    }
    throw new CliFailure(where + " has no load balancer address (yet) and no node port: give the address of cluster "
        + name + "'s etcd with " + flag);
  }

  public Optional<Secret> secret(String secretName) {
    return Optional.ofNullable(get(context, () -> client.secrets().inNamespace(namespace).withName(secretName).get(),
        "Secret " + namespace + "/" + secretName));
  }

  /** Runs a read against the cluster, turning an API failure into a message naming the context and object. */
  static <T> T get(String context, Supplier<T> call, String object) {
    try {
      return call.get();
    } catch (KubernetesClientException e) {
      throw new CliFailure("context " + context + ": cannot read " + object + ": " + e.getMessage(), e);
    }
  }

  private static boolean ready(Node node) {
    return node.getStatus() != null && node.getStatus().getConditions() != null
        && node.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static String bracketed(String ip) {
    return ip.contains(":") ? "[" + ip + "]" : ip;
  }

  private static String data(Secret secret, String key, String where) {
    String value = secret.getData() == null ? null : secret.getData().get(key);
    if (value == null) {
      throw new CliFailure(where + " has no " + key);
    }
    return decode(value);
  }

  static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64.strip()), StandardCharsets.UTF_8);
  }

  static X509Certificate certificate(String where, String pem) {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    } catch (CertificateException | ClassCastException e) {
      throw new CliFailure(where + " is not a PEM certificate: " + e.getMessage(), e);
    }
  }

  static PrivateKey privateKey(String where, String pem) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (object instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      throw new CliFailure(where + " is not an unencrypted PEM private key");
    } catch (IOException e) {
      throw new CliFailure(where + " is not a PEM private key: " + e.getMessage(), e);
    }
  }
}
