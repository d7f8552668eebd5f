package dev.meshwork.charts;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What `meshwork clustermesh connect|disconnect|status --context` (cli module, class
 * InstalledCluster) reads from and writes into a cluster where this chart is installed. Renaming
 * any of these breaks connecting installed clusters; the cli's tests render this chart too.
 */
class ClusterMeshConnectContractTest {

  private static final RenderedChart CHART = RenderedChart.renderWith(Map.of(
      "cluster.name", "k8s-test-cluster", "cluster.id", "7", "kvstoresync.enabled", "true"));

  @Test
  void theAgentConfigMapNamesTheClusterAndItsIdAndWhereTheClustermeshSecretIsMounted() {
    Map<String, String> data = CHART.one(ConfigMap.class, "meshwork-agent-config").getData();

    assertThat(data).containsEntry("MESHWORK_CLUSTER_NAME", "k8s-test-cluster").containsEntry("MESHWORK_CLUSTER_ID", "7")
        .containsEntry("MESHWORK_CLUSTERMESH_CONFIG_DIR", "/var/lib/meshwork/clustermesh")
        .containsKey("MESHWORK_HEARTBEAT_THRESHOLD");
  }

  @Test
  void theEtcdCaSecretHoldsTheKeyThatIssuesTheOtherClustersClientCertificates() {
    Secret ca = CHART.one(Secret.class, "meshwork-etcd-ca");

    assertThat(ca.getData()).containsKeys("ca.crt", "ca.key");
    assertThat(CHART.one(Secret.class, "meshwork-etcd-server").getData()).containsKey("tls.crt");
  }

  @Test
  void theExternalServiceExposesTheClientPortByName() {
    Service external = CHART.one(Service.class, "meshwork-etcd-external");

    assertThat(external.getSpec().getPorts()).anyMatch(port -> "client".equals(port.getName()));
  }

  @Test
  void theAgentsAndKvstoreSyncMountTheClustermeshSecretThatConnectWrites() {
    for (PodSpec pod : new PodSpec[] {
        CHART.one(DaemonSet.class, "meshwork-agent").getSpec().getTemplate().getSpec(),
        CHART.one(Deployment.class, "meshwork-kvstore-sync").getSpec().getTemplate().getSpec()}) {
      assertThat(pod.getVolumes()).map(Volume::getSecret).filteredOn(s -> s != null)
          .anyMatch(secret -> "meshwork-clustermesh".equals(secret.getSecretName()) && Boolean.TRUE.equals(secret.getOptional()));
    }
  }

  @Test
  void aClustermeshSecretRenderedFromValuesIsLabelledAsHelmsSoConnectLeavesItAlone() {
    RenderedChart chart = RenderedChart.render(command -> command
        .set("clustermesh.config.enabled", "true")
        .set("clustermesh.config.clusters[0].name", "k8s-shared-cluster")
        // the schema checks only the PEM markers
        .set("clustermesh.config.clusters[0].tls.caCert", "-----BEGIN CERTIFICATE-----")
        .set("clustermesh.config.clusters[0].tls.cert", "-----BEGIN CERTIFICATE-----")
        .set("clustermesh.config.clusters[0].tls.key", "-----BEGIN PRIVATE KEY-----"));

    assertThat(chart.one(Secret.class, "meshwork-clustermesh").getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "Helm");
  }
}
