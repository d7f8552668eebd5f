#!/bin/sh
# Init container of the agent DaemonSet: installs meshwork-cni on the node. kubelet runs CNI plugins
# on the host, outside any container, so the plugin takes its Java runtime and jars along: they go
# to RUNTIME_DIR, and CNI_BIN_DIR gets a small launcher. Every file is written beside its target and
# renamed into place, so kubelet never sees half a file. The conflist goes last: until it exists
# kubelet keeps the node NotReady instead of calling a plugin that is not there yet.
#
# Environment: HOST_ROOT (where the host's paths are mounted, e.g. /host; empty on the host itself), CNI_BIN_DIR, CNI_CONF_DIR,
# RUNTIME_DIR (host paths), CONF_FILE (path of the conflist in this container), JAVA_HOME and
# APP_DIR (the image's runtime and Jib's /app).
set -eu

: "${HOST_ROOT?}" "${CNI_BIN_DIR:?}" "${CNI_CONF_DIR:?}" "${RUNTIME_DIR:?}" "${CONF_FILE:?}"
java_home=${JAVA_HOME:-/opt/java/openjdk}
app_dir=${APP_DIR:-/app}
main_class=${CNI_MAIN_CLASS:-dev.meshwork.cni.CniMain}

runtime="$HOST_ROOT$RUNTIME_DIR"
staging="$runtime.new"
rm -rf "$staging"
mkdir -p "$staging" "$HOST_ROOT$CNI_BIN_DIR" "$HOST_ROOT$CNI_CONF_DIR"
cp -a "$java_home" "$staging/jre"
cp -a "$app_dir" "$staging/app"
rm -rf "$runtime.old"
if [ -d "$runtime" ]; then mv "$runtime" "$runtime.old"; fi
mv "$staging" "$runtime"
rm -rf "$runtime.old"

launcher="$HOST_ROOT$CNI_BIN_DIR/meshwork-cni"
cat > "$launcher.tmp" <<LAUNCHER
#!/bin/sh
# Installed by the meshwork agent DaemonSet: runs the Meshwork CNI plugin on the node's copy of its JRE.
exec $RUNTIME_DIR/jre/bin/java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Xss512k \\
  -cp "$RUNTIME_DIR/app/resources:$RUNTIME_DIR/app/classes:$RUNTIME_DIR/app/libs/*" $main_class "\$@"
LAUNCHER
chmod 0755 "$launcher.tmp"
mv "$launcher.tmp" "$launcher"

conf="$HOST_ROOT$CNI_CONF_DIR/$(basename "$CONF_FILE")"
cp "$CONF_FILE" "$conf.tmp"
mv "$conf.tmp" "$conf"
echo "install-cni: meshwork-cni in $CNI_BIN_DIR (runtime $RUNTIME_DIR), $(basename "$CONF_FILE") in $CNI_CONF_DIR"
