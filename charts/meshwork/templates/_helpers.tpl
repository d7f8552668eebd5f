{{/* Labels every object carries; `component` names the part (agent, operator, etcd, ...). */}}
{{- define "meshwork.labels" -}}
app.kubernetes.io/name: meshwork
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: meshwork
app.kubernetes.io/component: {{ .component }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
meshwork.dev/cluster: {{ .root.Values.cluster.name }}
{{- end }}

{{/* The labels a selector uses: stable across upgrades. */}}
{{- define "meshwork.selectorLabels" -}}
app.kubernetes.io/name: meshwork
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* repository:tag of a component's image; the tag defaults to the chart's appVersion. */}}
{{- define "meshwork.image" -}}
{{- printf "%s:%s" .repository (default .root.Chart.AppVersion .tag) -}}
{{- end }}

{{- define "meshwork.imagePullSecrets" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/* Prometheus scrape annotations for a pod serving GET /metrics on `port`. */}}
{{- define "meshwork.scrapeAnnotations" -}}
{{- if .root.Values.prometheus.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}

{{/* Host aliases so that <cluster>.mesh.meshwork.dev resolves to each remote etcd. */}}
{{- define "meshwork.hostAliases" -}}
{{- with .Values.clustermesh.hostAliases }}
hostAliases:
{{- range . }}
  - ip: {{ .ip | quote }}
    hostnames:
{{- range .hostnames }}
      - {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The in-cluster DNS names of the etcd members (headless Service): no ClusterIP needed, so agents
     reach etcd even when the datapath replaces kube-proxy and is not programmed yet. */}}
{{- define "meshwork.etcdEndpoints" -}}
{{- $endpoints := list -}}
{{- range $i := until (int .Values.etcd.replicas) -}}
{{- $endpoints = append $endpoints (printf "https://meshwork-etcd-%d.meshwork-etcd-headless.%s.svc:2379" $i $.Release.Namespace) -}}
{{- end -}}
{{- join "," $endpoints -}}
{{- end }}

{{/* The API server address for pods that must not depend on kube-proxy (k8sServiceHost/Port);
     the Kubernetes client reads these variables. */}}
{{- define "meshwork.apiServerEnv" -}}
{{- if .Values.k8sServiceHost }}
- name: KUBERNETES_SERVICE_HOST
  value: {{ .Values.k8sServiceHost | quote }}
- name: KUBERNETES_SERVICE_PORT
  value: {{ .Values.k8sServicePort | quote }}
{{- end }}
{{- end }}

{{/* The volumes of a component that talks to the local etcd with its own client certificate. */}}
{{- define "meshwork.etcdClientVolumes" -}}
- name: etcd-config
  configMap:
    name: meshwork-etcd-config
- name: etcd-client
  secret:
    secretName: {{ printf "meshwork-etcd-client-%s" .component }}
    defaultMode: 0440
{{- end }}

{{- define "meshwork.etcdClientMounts" -}}
- name: etcd-config
  mountPath: /var/lib/meshwork/etcd-config
  readOnly: true
- name: etcd-client
  mountPath: /var/lib/meshwork/etcd-client
  readOnly: true
{{- end }}

{{/*
Checks that span several values (the schema checks each value alone). Rendered once, by
templates/validate.yaml; a failure stops `helm install/upgrade/template` with the message.
*/}}
{{- define "meshwork.validate" -}}
{{- $pool := .Values.ipam.operator.clusterPoolIPv4PodCIDR -}}
{{- $mask := int .Values.ipam.operator.clusterPoolIPv4MaskSize -}}
{{- $parts := splitList "/" $pool -}}
{{- $prefix := int (index $parts 1) -}}
{{- if lt $mask $prefix -}}
{{- fail (printf "ipam.operator.clusterPoolIPv4MaskSize %d is larger than the pool ipam.operator.clusterPoolIPv4PodCIDR %s: a node's pod CIDR (/%d) must fit in the pool (/%d); use a mask size of at least %d" $mask $pool $mask $prefix $prefix) -}}
{{- end -}}
{{- if gt (sub $mask $prefix) 24 -}}
{{- fail (printf "ipam.operator.clusterPoolIPv4MaskSize %d cuts the pool %s into more than 2^24 node CIDRs; use a mask size of at most %d" $mask $pool (add $prefix 24)) -}}
{{- end -}}
{{- $address := 0 -}}
{{- range (splitList "." (index $parts 0)) -}}
{{- $address = add (mul $address 256) (int .) -}}
{{- end -}}
{{- $block := 1 -}}
{{- range until (sub 32 $prefix | int) -}}
{{- $block = mul $block 2 -}}
{{- end -}}
{{- if ne (mod $address $block) 0 -}}
{{- fail (printf "ipam.operator.clusterPoolIPv4PodCIDR %s has host bits set after /%d: use the network address of the pool" $pool $prefix) -}}
{{- end -}}
{{- $tls := .Values.etcd.tls.ca -}}
{{- if and $tls.cert (not $tls.key) -}}
{{- fail "etcd.tls.ca.cert is set but etcd.tls.ca.key is empty: the chart needs the CA key to issue the etcd certificates" -}}
{{- end -}}
{{- if and $tls.key (not $tls.cert) -}}
{{- fail "etcd.tls.ca.key is set but etcd.tls.ca.cert is empty" -}}
{{- end -}}
{{- $lease := include "meshwork.seconds" .Values.operator.leaderElection.leaseDuration | float64 -}}
{{- $renew := include "meshwork.seconds" .Values.operator.leaderElection.renewDeadline | float64 -}}
{{- if ge $renew $lease -}}
{{- fail (printf "operator.leaderElection.renewDeadline %s must be shorter than operator.leaderElection.leaseDuration %s" .Values.operator.leaderElection.renewDeadline .Values.operator.leaderElection.leaseDuration) -}}
{{- end -}}
{{- $seen := dict -}}
{{- range $i, $remote := .Values.clustermesh.config.clusters -}}
{{- if eq $remote.name $.Values.cluster.name -}}
{{- fail (printf "clustermesh.config.clusters[%d]: %s is this cluster's own name (cluster.name); list only the remote clusters" $i $remote.name) -}}
{{- end -}}
{{- if hasKey $seen $remote.name -}}
{{- fail (printf "clustermesh.config.clusters[%d]: cluster %s is listed twice" $i $remote.name) -}}
{{- end -}}
{{- $_ := set $seen $remote.name true -}}
{{- end -}}
{{- range $i, $alias := .Values.clustermesh.hostAliases -}}
{{- range $alias.hostnames -}}
{{- if eq . (printf "%s.mesh.meshwork.dev" $.Values.cluster.name) -}}
{{- fail (printf "clustermesh.hostAliases[%d]: %s is this cluster's own etcd name; list only the remote clusters' names" $i .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/* A duration such as 1m30s or 15s in seconds (for comparisons only). */}}
{{- define "meshwork.seconds" -}}
{{- $total := 0.0 -}}
{{- range (regexFindAll "[0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h|d)" . -1) -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" . | float64 -}}
{{- $unit := trimPrefix (regexFind "^[0-9]+(\\.[0-9]+)?" .) . -}}
{{- $factor := get (dict "ns" 0.000000001 "us" 0.000001 "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 "d" 86400.0) $unit -}}
{{- $total = addf $total (mulf $number $factor) -}}
{{- end -}}
{{- $total -}}
{{- end }}

{{/* A list of strings as a block YAML list ("- a\n- b"). */}}
{{- define "meshwork.yamlList" -}}
{{- range $i, $item := . }}{{ if $i }}{{ "\n" }}{{ end }}- {{ $item }}{{ end -}}
{{- end }}
