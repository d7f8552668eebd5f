package dev.meshwork.agent;

import dev.meshwork.common.config.ConfigException;
import dev.meshwork.datapath.Datapath;
import dev.meshwork.datapath.DatapathException;
import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.datapath.bpf.BpfDatapath;
import dev.meshwork.datapath.bpf.BpfDatapathConfig;
import dagger.Module;
import dagger.Provides;
import javax.inject.Singleton;

/**
 * Chooses the datapath from {@code --datapath}. The eBPF datapath is opened while the agent is
 * wired, so a missing capability (no bpffs, no bpftool, not privileged) stops the agent before
 * anything starts, like a bad setting.
 */
@Module
public final class DatapathModule {
  private DatapathModule() {}

  @Provides
  @Singleton
  static Datapath datapath(AgentConfig config) {
    return switch (config.datapath()) {
      case FAKE -> new FakeDatapath();
      case BPF -> openBpf(config);
    };
  }

  static BpfDatapath openBpf(AgentConfig config) {
    BpfDatapathConfig settings;
    try {
      settings = config.bpf().datapathConfig(config.nodeName());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("datapath", "--datapath=bpf (MESHWORK_DATAPATH): " + e.getMessage(), e);
    }
    try {
      return BpfDatapath.open(settings);
    } catch (DatapathException e) {
      throw new ConfigException(
          "datapath",
          "--datapath=bpf (MESHWORK_DATAPATH): cannot open the eBPF datapath of node " + config.nodeName()
              + " at " + settings.nodeDirectory() + ": " + e.getMessage(),
          e);
    }
  }
}
