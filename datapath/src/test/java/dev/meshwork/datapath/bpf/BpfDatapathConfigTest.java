package dev.meshwork.datapath.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BpfDatapathConfigTest {
  @Test
  void defaultsPinUnderSysFsBpfMeshworkWithDotsReplaced() {
    BpfDatapathConfig config = BpfDatapathConfig.forNode("worker-1.example.com");

    assertThat(config.nodeDirectory()).isEqualTo(Path.of("/sys/fs/bpf/meshwork/worker-1_example_com"));
    assertThat(config.vxlanDevice()).isEqualTo("meshwork_vxlan");
    assertThat(config.vxlanPort()).isEqualTo(8472);
  }

  @Test
  void badSettingsAreRejectedByName() {
    assertThatThrownBy(() -> BpfDatapathConfig.forNode("node/1"))
        .hasMessageContaining("datapath setting nodeName: 'node/1'");
    assertThatThrownBy(() -> BpfDatapathConfig.forNode("n1").withVxlanDevice("a-very-long-vxlan-name"))
        .hasMessageContaining("datapath setting vxlanDevice");
    assertThatThrownBy(() -> new BpfDatapathConfig("n1", Path.of("/sys/fs/bpf"), "vx", 0, Optional.empty(),
            BpfDatapathConfig.MapSizes.DEFAULTS, java.util.List.of()))
        .hasMessageContaining("datapath setting vxlanPort: 0");
    assertThatThrownBy(() -> BpfDatapathConfig.forNode("n1").withExternalDevices(java.util.List.of("eth0", "bad name")))
        .hasMessageContaining("datapath setting externalDevices: 'bad name'");
    assertThatThrownBy(() -> BpfDatapathConfig.MapSizes.uniform(0))
        .hasMessageContaining("datapath setting mapSizes");
  }
}
