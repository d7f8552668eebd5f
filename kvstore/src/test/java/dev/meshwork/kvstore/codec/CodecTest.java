package dev.meshwork.kvstore.codec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.proto.v1.IPCacheEntry;
import org.junit.jupiter.api.Test;

class CodecTest {
  @Test
  void decodesWhatItEncodes() {
    IPCacheEntry entry =
        IPCacheEntry.newBuilder().setIp("10.2.1.17").setIdentity(131372).setHostIp("198.18.1.2").build();
    Decoded<IPCacheEntry> decoded = Codecs.IPCACHE.decode("k", Codecs.IPCACHE.encode(entry));
    assertThat(decoded).isEqualTo(new Decoded.Value<>(entry));
  }

  @Test
  void anUndecodableValueIsAFailureNamingTheKeyAndType() {
    byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff};
    Decoded<IPCacheEntry> decoded = Codecs.IPCACHE.decode("meshwork/v1/state/ipcache/c1/10.0.0.1", garbage);
    assertThat(decoded).isInstanceOf(Decoded.Failure.class);
    Decoded.Failure<IPCacheEntry> failure = (Decoded.Failure<IPCacheEntry>) decoded;
    assertThat(failure.key()).isEqualTo("meshwork/v1/state/ipcache/c1/10.0.0.1");
    assertThat(failure.reason())
        .contains("meshwork/v1/state/ipcache/c1/10.0.0.1")
        .contains("3 bytes")
        .contains("IPCacheEntry");
  }
}
