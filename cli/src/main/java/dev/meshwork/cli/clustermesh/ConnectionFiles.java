package dev.meshwork.cli.clustermesh;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What `connect` writes for one cluster, computed before anything touches the disk:
 *
 * <pre>
 * OUT/&lt;cluster&gt;/meshwork-clustermesh.yaml       the Secret (one entry per remote + its 3 PEM files)
 * OUT/&lt;cluster&gt;/host-aliases.yaml              Helm values clustermesh.hostAliases
 * OUT/&lt;cluster&gt;/clustermesh/&lt;remote&gt;            kvstore config pointing at the files beside it
 * OUT/&lt;cluster&gt;/clustermesh/&lt;remote&gt;.etcd-client-ca.crt, .etcd-client.crt, .etcd-client.key
 * </pre>
 *
 * The Secret's configs point at the mount path in the agent pod; the directory's configs point at
 * the directory itself, for agents run outside Kubernetes (the sandbox).
 */
public final class ConnectionFiles {

  public static final String SECRET_FILE = "meshwork-clustermesh.yaml";
  public static final String HOST_ALIASES_FILE = "host-aliases.yaml";
  public static final String CONFIG_DIR = "clustermesh";

  /** One file to write, relative to OUT. */
  public record OutputFile(Path path, String text, boolean secret) {}

  private ConnectionFiles() {}

  public static String caFileName(String remote) {
    return remote + ".etcd-client-ca.crt";
  }

  public static String certFileName(String remote) {
    return remote + ".etcd-client.crt";
  }

  public static String keyFileName(String remote) {
    return remote + ".etcd-client.key";
  }

  /**
   * The files of {@code local}: for every other member, a client certificate issued by that
   * member's CA (CN {@value CertificateAuthority#REMOTE_CLIENT_COMMON_NAME}, OU = local).
   *
   * @param out the output directory, made absolute in the directory form's configs
   * @param namespace the Secret's namespace, or null for none (kubectl -n decides)
   */
  public static List<OutputFile> forCluster(
      MeshMember local,
      List<MeshMember> members,
      Map<String, CertificateAuthority> authorities,
      Path out,
      String mountPath,
      String namespace,
      Duration validity) {
    Path clusterDir = Path.of(local.name());
    Path configDir = clusterDir.resolve(CONFIG_DIR);
    Path absoluteConfigDir = out.toAbsolutePath().normalize().resolve(configDir);
    List<OutputFile> files = new ArrayList<>();
    Map<String, String> secretData = new TreeMap<>();
    Map<String, String> hostAliases = new LinkedHashMap<>();
    for (MeshMember remote : members) {
      if (remote.name().equals(local.name())) {
        continue;
      }
      String r = remote.name();
      RemoteEntry entry =
          RemoteEntry.issue(local.name(), r, remote.address().endpoint(r), authorities.get(r), validity);
      entry.secretFiles(mountPath).forEach((file, text) -> secretData.put(file, base64(text)));
      // The directory form: the same entries, the config pointing at the directory itself.
      files.add(new OutputFile(configDir.resolve(r), entry.config(absoluteConfigDir.toString()), false));
      files.add(new OutputFile(configDir.resolve(caFileName(r)), entry.caPem(), false));
      files.add(new OutputFile(configDir.resolve(certFileName(r)), entry.certPem(), false));
      files.add(new OutputFile(configDir.resolve(keyFileName(r)), entry.keyPem(), true));

      remote.address().hostAliasIp().ifPresent(ip -> hostAliases.put(MeshNames.etcdHost(r), ip));
    }
    files.add(new OutputFile(
        clusterDir.resolve(SECRET_FILE), ClusterMeshYaml.secret(MeshNames.SECRET_NAME, namespace, local.name(), secretData), true));
    files.add(new OutputFile(clusterDir.resolve(HOST_ALIASES_FILE), ClusterMeshYaml.hostAliases(local.name(), hostAliases), false));
    return files;
  }

  /**
   * What a cluster needs to read one remote cluster's etcd: the endpoint, the remote's CA, and a
   * client certificate from that CA (CN {@value CertificateAuthority#REMOTE_CLIENT_COMMON_NAME},
   * OU = the local cluster). Offline and kubeconfig connects both write it through {@link
   * #secretFiles}, so the two can never disagree on the format.
   */
  public record RemoteEntry(String remote, String endpoint, String caPem, String certPem, String keyPem) {

    public static RemoteEntry issue(
        String local, String remote, String endpoint, CertificateAuthority remoteCa, Duration validity) {
      IssuedCertificate client =
          remoteCa.issueClient(CertificateAuthority.REMOTE_CLIENT_COMMON_NAME, local, validity);
      return new RemoteEntry(
          remote,
          endpoint,
          PemOutput.encode(remoteCa.certificate()),
          PemOutput.encode(client.certificate()),
          PemOutput.encode(client.keyPair().getPrivate()));
    }

    /** The kvstore config, with the certificate files in {@code dir}. */
    public String config(String dir) {
      return ClusterMeshYaml.kvstoreConfig(
          endpoint, dir + "/" + caFileName(remote), dir + "/" + certFileName(remote), dir + "/" + keyFileName(remote));
    }

    /**
     * The four entries of the meshwork-clustermesh Secret (file name to content): the config named
     * after the remote, pointing at {@code mountPath}, and its three PEM files.
     */
    public Map<String, String> secretFiles(String mountPath) {
      Map<String, String> files = new LinkedHashMap<>();
      files.put(remote, config(mountPath));
      files.put(caFileName(remote), caPem);
      files.put(certFileName(remote), certPem);
      files.put(keyFileName(remote), keyPem);
      return files;
    }
  }

  /** The names of the Secret entries that belong to {@code remote}. */
  public static List<String> secretFileNames(String remote) {
    return List.of(remote, caFileName(remote), certFileName(remote), keyFileName(remote));
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
