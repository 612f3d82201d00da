import { ClusterConfig } from "./config";
import { kubernetesMinor, SNAPSHOT_IMAGES } from "./versions";

export const SNAPSHOT_NAMESPACE = "kube-system";
export const SNAPSHOT_S3_SECRET = "etcd-snapshot-s3";

/**
 * POSIX sh run after etcdctl wrote `/snapshots/.partial.db`: names the snapshot by time, stores
 * it (host directory or S3) and keeps the newest $RETENTION. Names sort by time.
 */
export const SNAPSHOT_SCRIPT = `#!/bin/sh
set -eu
name="etcd-$(date -u +%Y%m%dT%H%M%SZ)-\${NODE_NAME}.db"
src=/snapshots/.partial.db
keep=$((RETENTION + 1))
s3() {
  if [ "\${S3_INSECURE:-false}" = true ]; then
    aws --no-verify-ssl --endpoint-url "$S3_ENDPOINT" s3 "$@"
  else
    aws --endpoint-url "$S3_ENDPOINT" s3 "$@"
  fi
}
case "$TARGET" in
  hostPath)
    mv "$src" "/snapshots/$name"
    echo "[groundwork] etcd snapshot /snapshots/$name ($(wc -c < "/snapshots/$name") bytes)"
    find /snapshots -maxdepth 1 -name 'etcd-*.db' | sort -r | tail -n +"$keep" | while read -r old; do
      rm -f "$old"
      echo "[groundwork] removed $old (retention $RETENTION)"
    done
    ;;
  s3)
    s3 cp "$src" "s3://$S3_BUCKET/$name"
    rm -f "$src"
    echo "[groundwork] etcd snapshot s3://$S3_BUCKET/$name"
    s3 ls "s3://$S3_BUCKET/" | awk '{ print $4 }' | grep '^etcd-' | sort -r | tail -n +"$keep" | while read -r old; do
      s3 rm "s3://$S3_BUCKET/$old"
    done
    ;;
  *)
    echo "[groundwork] unknown snapshot target $TARGET" >&2
    exit 2
    ;;
esac
`;

/** The CronJob spec (everything under `spec`) for the configured schedule, retention and target. */
export function snapshotCronJobSpec(config: ClusterConfig, imageRepository: string, scriptsConfigMap: string) {
    const s = config.addons.etcdSnapshots;
    const t = s.target;
    const etcd = kubernetesMinor(config.kubernetesVersion)?.etcd ?? "3.5.21-0";
    const env: { name: string; value?: string; valueFrom?: object }[] = [
        { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
        { name: "RETENTION", value: String(s.retention) },
        { name: "TARGET", value: t.kind },
    ];
    if (t.kind === "s3") {
        env.push(
            { name: "S3_ENDPOINT", value: t.endpoint },
            { name: "S3_BUCKET", value: t.bucket },
            { name: "S3_INSECURE", value: String(t.insecure) },
            { name: "AWS_DEFAULT_REGION", value: t.region },
            { name: "AWS_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: SNAPSHOT_S3_SECRET, key: "accessKeyId" } } },
            { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: SNAPSHOT_S3_SECRET, key: "secretAccessKey" } } },
        );
    }
    const snapshots = t.kind === "hostPath" ? { name: "snapshots", hostPath: { path: t.path, type: "DirectoryOrCreate" } } : { name: "snapshots", emptyDir: {} };
    return {
        schedule: s.schedule,
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
            spec: {
                backoffLimit: 2,
                template: {
                    metadata: { labels: { "app.kubernetes.io/name": "etcd-snapshot", "app.kubernetes.io/managed-by": "groundwork" } },
                    spec: {
                        hostNetwork: true,
                        restartPolicy: "OnFailure",
                        nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
                        tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
                        initContainers: [
                            {
                                name: "etcdctl",
                                image: `${imageRepository}/etcd:${etcd}`,
                                command: [
                                    "etcdctl",
                                    "--endpoints=https://127.0.0.1:2379",
                                    "--cacert=/etc/kubernetes/pki/etcd/ca.crt",
                                    "--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt",
                                    "--key=/etc/kubernetes/pki/etcd/healthcheck-client.key",
                                    "snapshot",
                                    "save",
                                    "/snapshots/.partial.db",
                                ],
                                volumeMounts: [
                                    { name: "etcd-pki", mountPath: "/etc/kubernetes/pki/etcd", readOnly: true },
                                    { name: "snapshots", mountPath: "/snapshots" },
                                ],
                            },
                        ],
                        containers: [
                            {
                                name: "store",
                                image: SNAPSHOT_IMAGES[t.kind],
                                command: ["/bin/sh", "/scripts/snapshot.sh"],
                                env,
                                volumeMounts: [
                                    { name: "snapshots", mountPath: "/snapshots" },
                                    { name: "scripts", mountPath: "/scripts", readOnly: true },
                                ],
                            },
                        ],
                        volumes: [
                            { name: "etcd-pki", hostPath: { path: "/etc/kubernetes/pki/etcd", type: "Directory" } },
                            snapshots,
                            { name: "scripts", configMap: { name: scriptsConfigMap } },
                        ],
                    },
                },
            },
        },
    };
}
