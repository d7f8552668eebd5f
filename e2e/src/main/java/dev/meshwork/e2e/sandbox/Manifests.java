package dev.meshwork.e2e.sandbox;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** `apply -f`: create or replace every object of a manifest file in a cluster's API. */
public final class Manifests {
  private Manifests() {}

  /** A client of a running sandbox's cluster, from the kubeconfig in its run directory. */
  public static KubernetesClient client(RunDir runDir, String cluster) throws IOException {
    Path kubeconfig = runDir.kubeconfig(cluster);
    if (!Files.exists(kubeconfig)) {
      throw new IOException("no cluster " + cluster + " in the sandbox at " + runDir.root() + " (no " + kubeconfig
          + "); is it up? `meshwork-sandbox status` lists the clusters");
    }
    return new KubernetesClientBuilder()
        .withConfig(io.fabric8.kubernetes.client.Config.fromKubeconfig(Files.readString(kubeconfig)))
        .build();
  }

  /** Applies every object in the file; returns one line per object ("created"/"configured"). */
  public static List<String> apply(KubernetesClient client, Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    List<HasMetadata> items;
    try {
      items = client.load(new ByteArrayInputStream(bytes)).items();
    } catch (RuntimeException e) {
      throw new IOException(file + " is not a Kubernetes manifest: " + e.getMessage(), e);
    }
    List<String> lines = new ArrayList<>();
    for (HasMetadata item : items) {
      String kind = item.getKind().toLowerCase(java.util.Locale.ROOT);
      String name = item.getMetadata().getName();
      String namespace = item.getMetadata().getNamespace();
      String what = kind + " " + (namespace == null ? "" : namespace + "/") + name;
      try {
        if (namespace != null && !"Namespace".equals(item.getKind())
            && client.namespaces().withName(namespace).get() == null) {
          client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata()
              .build()).create();
          lines.add("namespace/" + namespace + " created");
        }
        boolean existed = client.resource(item).get() != null;
        client.resource(item).createOr(NonDeletingOperation::update);
        lines.add(kind + "/" + name + (existed ? " configured" : " created"));
      } catch (KubernetesClientException e) {
        throw new IOException(what + " from " + file + ": " + e.getMessage(), e);
      }
    }
    return lines;
  }
}
