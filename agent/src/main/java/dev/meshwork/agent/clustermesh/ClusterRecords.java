package dev.meshwork.agent.clustermesh;

import dev.meshwork.agent.node.NodeRecord;
import dev.meshwork.agent.service.Affinity;
import dev.meshwork.agent.service.BackendRecord;
import dev.meshwork.agent.service.ClusterServiceRecord;
import dev.meshwork.agent.service.FrontendSpec;
import dev.meshwork.agent.service.ServicePortSpec;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.datapath.Service;
import dev.meshwork.proto.v1.Backend;
import dev.meshwork.proto.v1.BackendPort;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.Frontend;
import dev.meshwork.proto.v1.Node;
import dev.meshwork.proto.v1.NodeAddress;
import dev.meshwork.proto.v1.ServicePort;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts kvstore values into the agent's compact table records. Throws {@link
 * IllegalArgumentException} naming the field when a value cannot be used (a bad address or CIDR).
 */
final class ClusterRecords {
  private ClusterRecords() {}

  static NodeRecord node(Node node) {
    int ip = 0;
    for (NodeAddress a : node.getAddressesList()) {
      if (a.getType().equals("InternalIP") && a.getAddress().indexOf(':') < 0) {
        ip = Ipv4.parse(a.getAddress());
        break;
      }
    }
    List<IpPrefix> cidrs = new ArrayList<>();
    for (String cidr : node.getPodCidrsList()) {
      if (cidr.indexOf(':') < 0) { // IPv6 CIDRs are not routed by this datapath yet
        cidrs.add(IpPrefix.parse(cidr));
      }
    }
    return new NodeRecord(node.getCluster().intern(), node.getName(), ip, cidrs);
  }

  static ClusterServiceRecord service(ClusterService s) {
    List<FrontendSpec> frontends = new ArrayList<>();
    for (Frontend f : s.getFrontendsList()) {
      if (f.getIp().indexOf(':') >= 0) {
        continue;
      }
      Service.Kind kind =
          switch (f.getType()) {
            case FRONTEND_TYPE_CLUSTER_IP, UNRECOGNIZED -> Service.Kind.CLUSTER_IP;
            case FRONTEND_TYPE_EXTERNAL_IP -> Service.Kind.EXTERNAL_IP;
            case FRONTEND_TYPE_LOAD_BALANCER -> Service.Kind.LOAD_BALANCER;
          };
      frontends.add(new FrontendSpec(Ipv4.parse(f.getIp()), kind));
    }
    List<ServicePortSpec> ports = new ArrayList<>();
    for (ServicePort p : s.getPortsList()) {
      if (p.getPort() < 1 || p.getPort() > 65535) {
        throw new IllegalArgumentException("port '" + p.getName() + "' is " + p.getPort() + ", outside 1..65535");
      }
      ports.add(new ServicePortSpec(p.getName().intern(), p.getPort(), protocol(p.getProtocol()), p.getNodePort()));
    }
    List<BackendRecord> backends = new ArrayList<>(s.getBackendsCount());
    for (Backend b : s.getBackendsList()) {
      if (b.getIp().indexOf(':') >= 0) {
        continue;
      }
      int[] targets = new int[ports.size()];
      for (int i = 0; i < ports.size(); i++) {
        BackendPort bp = b.getPortsMap().get(ports.get(i).name());
        if (bp != null && protocol(bp.getProtocol()) == ports.get(i).protocol()) {
          targets[i] = bp.getPort();
        }
      }
      backends.add(new BackendRecord(Ipv4.parse(b.getIp()), b.getReady(), b.getServing(), b.getTerminating(), targets));
    }
    return new ClusterServiceRecord(
        s.getCluster().intern(),
        s.getNamespace().intern(),
        s.getName().intern(),
        s.getShared(),
        Affinity.of(s.getAffinity()),
        s.getSessionAffinityTimeoutSeconds(),
        frontends,
        ports,
        backends);
  }

  static Protocol protocol(dev.meshwork.proto.v1.Protocol p) {
    return switch (p) {
      case PROTOCOL_TCP, UNRECOGNIZED -> Protocol.TCP;
      case PROTOCOL_UDP -> Protocol.UDP;
      case PROTOCOL_SCTP -> Protocol.SCTP;
    };
  }
}
