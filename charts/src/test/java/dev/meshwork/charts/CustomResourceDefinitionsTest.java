package dev.meshwork.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The CRDs the chart installs from crds/ (Helm installs them before the templates, and never deletes them). */
class CustomResourceDefinitionsTest {
  private static final Path CRDS = RenderedChart.CHART.resolve("crds");
  private static final Path OPERATOR_CRD = Path.of("..", "operator", "src", "main", "resources", "crds", "meshnodes.meshwork.dev.yaml");

  @Test
  void meshNodeIsClusterScopedWithPodCidrsAndConditions() throws IOException {
    CustomResourceDefinition crd = read("meshnodes.meshwork.dev.yaml");

    assertThat(crd.getMetadata().getName()).isEqualTo("meshnodes.meshwork.dev");
    assertThat(crd.getSpec().getScope()).isEqualTo("Cluster");
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo("MeshNode");
    assertThat(crd.getSpec().getVersions()).singleElement().satisfies(version -> {
      assertThat(version.getServed()).isTrue();
      assertThat(version.getStorage()).isTrue();
      assertThat(version.getSubresources().getStatus()).isNotNull();
      JSONSchemaProps schema = version.getSchema().getOpenAPIV3Schema();
      assertThat(schema.getProperties().get("spec").getProperties()).containsKey("podCIDRs");
      assertThat(schema.getProperties().get("status").getProperties()).containsKey("conditions");
    });
  }

  @Test
  void meshNodeIsTheSameDefinitionTheOperatorShips() throws IOException {
    assumeTrue(Files.exists(OPERATOR_CRD), "the operator module's CRD is not in this checkout yet: " + OPERATOR_CRD);

    assertThat(Serialization.unmarshal(Files.readString(OPERATOR_CRD), CustomResourceDefinition.class))
        .isEqualTo(read("meshnodes.meshwork.dev.yaml"));
  }

  @Test
  void ciliumNetworkPolicyIsTheNamespacedCiliumV2KindSoExistingPoliciesApplyUnchanged() throws IOException {
    CustomResourceDefinition crd = read("ciliumnetworkpolicies.cilium.io.yaml");

    assertThat(crd.getMetadata().getName()).isEqualTo("ciliumnetworkpolicies.cilium.io");
    assertThat(crd.getSpec().getGroup()).isEqualTo("cilium.io");
    assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced");
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo("CiliumNetworkPolicy");
    assertThat(crd.getSpec().getNames().getShortNames()).contains("cnp");
    assertThat(crd.getSpec().getVersions()).singleElement().satisfies(version -> {
      assertThat(version.getName()).isEqualTo("v2");
      JSONSchemaProps spec = version.getSchema().getOpenAPIV3Schema().getProperties().get("spec");
      assertThat(spec.getProperties()).containsKeys("endpointSelector", "ingress", "egress");
    });
  }

  private static CustomResourceDefinition read(String file) throws IOException {
    CustomResourceDefinition crd = Serialization.unmarshal(Files.readString(CRDS.resolve(file)), CustomResourceDefinition.class);
    assertThat(UnknownFields.in(crd)).as("fields the model does not know in %s", file).isEmpty();
    return crd;
  }
}
