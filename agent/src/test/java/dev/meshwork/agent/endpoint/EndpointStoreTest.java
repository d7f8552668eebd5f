package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.datapath.Ipv4;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EndpointStoreTest {
  @TempDir Path dir;

  private static EndpointRecord record(String container) {
    return new EndpointRecord(new AttachmentKey(container, "eth0"), "meshwork", "/proc/42/ns/net",
        new PodRef("shop", "cart-7d9"), 12, Ipv4.parse("10.1.0.12"), "mw0123456789ab", "0e:01:02:03:04:05",
        "0a:58:0a:01:00:0c", 1450, 31000, List.of("k8s:app=cart", "k8s:io.kubernetes.pod.namespace=shop"),
        EndpointRecord.Phase.READY);
  }

  @Test
  void readsBackWhatItWroteAcrossInstances() throws Exception {
    new EndpointStore(dir).write(record("c1"));
    new EndpointStore(dir).write(record("c2"));

    assertThat(new EndpointStore(dir).loadAll()).containsExactlyInAnyOrder(record("c1"), record("c2"));
  }

  @Test
  void overwritesARecordInPlaceAndLeavesNoTemporaryFiles() throws Exception {
    EndpointStore store = new EndpointStore(dir);
    EndpointRecord reserved = new EndpointRecord(new AttachmentKey("c1", "eth0"), "meshwork", "/proc/42/ns/net",
        new PodRef("shop", "cart-7d9"), 12, Ipv4.parse("10.1.0.12"), "mw0123456789ab", "0e:01:02:03:04:05",
        "0a:58:0a:01:00:0c", 1450, 0, List.of(), EndpointRecord.Phase.RESERVED);
    store.write(reserved);
    store.write(record("c1"));

    assertThat(store.loadAll()).containsExactly(record("c1"));
    try (var files = Files.list(dir)) {
      assertThat(files).hasSize(1).allMatch(f -> f.getFileName().toString().endsWith(".properties"));
    }
  }

  @Test
  void movesAnUnreadableFileAsideInsteadOfFailingTheRestore() throws Exception {
    EndpointStore store = new EndpointStore(dir);
    store.write(record("good"));
    Files.writeString(dir.resolve("ep-0000.properties"), "containerId=half-written\n");

    assertThat(store.loadAll()).containsExactly(record("good"));
    assertThat(dir.resolve("ep-0000.properties.corrupt")).exists();
  }

  @Test
  void deletingAnAbsentRecordIsFine() throws Exception {
    new EndpointStore(dir).delete(new AttachmentKey("never", "eth0"));
  }
}
