package dev.meshwork.cli.clustermesh;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/** The YAML documents `connect` writes: kvstore configs, the Secret, the Helm values. */
final class ClusterMeshYaml {

  private static final Yaml YAML;

  static {
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    options.setIndent(2);
    options.setWidth(Integer.MAX_VALUE); // base64 values stay on one line
    options.setSplitLines(false);
    YAML = new Yaml(options);
  }

  private ClusterMeshYaml() {}

  /**
   * One remote cluster's kvstore config: the shape of the blog's cilium-clustermesh entries
   * (endpoints, trusted-ca-file, cert-file, key-file).
   */
  static String kvstoreConfig(String endpoint, String trustedCaFile, String certFile, String keyFile) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("endpoints", List.of(endpoint));
    config.put("trusted-ca-file", trustedCaFile);
    config.put("cert-file", certFile);
    config.put("key-file", keyFile);
    return YAML.dump(config);
  }

  /** The meshwork-clustermesh Secret: {@code data} values are base64 of the file contents. */
  static String secret(String name, String namespace, String cluster, Map<String, String> base64Data) {
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("name", name);
    if (namespace != null) {
      metadata.put("namespace", namespace);
    }
    metadata.put("labels", Map.of("app.kubernetes.io/part-of", "meshwork", "meshwork.dev/cluster", cluster));
    Map<String, Object> secret = new LinkedHashMap<>();
    secret.put("apiVersion", "v1");
    secret.put("kind", "Secret");
    secret.put("metadata", metadata);
    secret.put("type", "Opaque");
    secret.put("data", base64Data);
    return "# meshwork-clustermesh for cluster " + cluster + ": one entry per remote cluster (kvstore config)\n"
        + "# plus its CA, client certificate and key. Written by `meshwork clustermesh connect`.\n"
        + YAML.dump(secret);
  }

  /** Helm values: {@code clustermesh.hostAliases} for the agent DaemonSet. */
  static String hostAliases(String cluster, Map<String, String> hostnameToIp) {
    Map<String, List<String>> byIp = new LinkedHashMap<>();
    hostnameToIp.forEach((host, ip) -> byIp.computeIfAbsent(ip, k -> new ArrayList<>()).add(host));
    List<Map<String, Object>> aliases =
        byIp.entrySet().stream()
            .map(e -> {
              Map<String, Object> alias = new LinkedHashMap<>();
              alias.put("ip", e.getKey());
              alias.put("hostnames", e.getValue());
              return alias;
            })
            .toList();
    return "# Helm values for cluster " + cluster + ": how its agents resolve the remote etcd names.\n"
        + "# Use with: helm upgrade ... -f host-aliases.yaml. Written by `meshwork clustermesh connect`.\n"
        + YAML.dump(Map.of("clustermesh", Map.of("hostAliases", aliases)));
  }
}
