package dev.meshwork.cli.clustermesh;

import dev.meshwork.common.cluster.ClusterName;
import java.nio.file.Path;
import picocli.CommandLine;

/**
 * One cluster given to `connect`: {@code NAME=CA_DIR[=ADDRESS]}. ADDRESS says how the other
 * clusters reach its etcd: an IP (host alias for {@code NAME.mesh.meshwork.dev}), IP:port, or an
 * https:// URL; without it the mesh name must resolve by DNS.
 */
public record MeshMember(String name, Path caDir, EtcdAddress address) {

  public static final String FORMAT = "NAME=CA_DIR[=ADDRESS]";

  /** The argument as the user typed it, for messages. */
  public String argument() {
    return "--cluster " + name + "=" + caDir;
  }

  /** picocli converter: a bad value becomes "Invalid value for option '--cluster' ...: reason". */
  public static final class Converter implements CommandLine.ITypeConverter<MeshMember> {
    @Override
    public MeshMember convert(String value) {
      String[] parts = value.split("=", 3);
      if (parts.length < 2 || parts[1].isBlank()) {
        throw new CommandLine.TypeConversionException("\"" + value + "\" is not " + FORMAT);
      }
      String name = parts[0];
      ClusterName.problem(name).ifPresent(problem -> {
        throw new CommandLine.TypeConversionException("\"" + value + "\": \"" + name + "\" is not a cluster name: " + problem);
      });
      EtcdAddress address = new EtcdAddress.MeshName(MeshNames.ETCD_PORT);
      if (parts.length == 3) {
        try {
          address = EtcdAddress.parse(parts[2]);
        } catch (IllegalArgumentException e) {
          throw new CommandLine.TypeConversionException("\"" + value + "\": ADDRESS " + e.getMessage());
        }
      }
      return new MeshMember(name, Path.of(parts[1]), address);
    }
  }
}
