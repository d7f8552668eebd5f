package dev.meshwork.agent;

import dev.meshwork.common.config.ConfigException;
import dev.meshwork.datapath.Datapath;
import dev.meshwork.datapath.FakeDatapath;
import dagger.Module;
import dagger.Provides;
import javax.inject.Singleton;

/** Chooses the datapath from {@code --datapath}. */
@Module
public final class DatapathModule {
  private DatapathModule() {}

  @Provides
  @Singleton
  static Datapath datapath(AgentConfig config) {
    return switch (config.datapath()) {
      case FAKE -> new FakeDatapath();
      case BPF -> throw new ConfigException("datapath",
          "--datapath=bpf (MESHWORK_DATAPATH): the eBPF datapath is not available yet in this build; use --datapath=fake");
    };
  }
}
