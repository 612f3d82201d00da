import type * as api from "@pulumi/kubernetes/types/input";
import { EffectiveWorkload } from "./config";
import { claimSpec, containerSecurity, disruptionBudget, K8sObject, labelsOf, meta, pullImage, resourcesOf, scratch, serviceOf, statefulSetOf, WorkloadContext, WorkloadObjects } from "./objects";

/** The images' own non-root users: postgres and rabbitmq (Debian) 999, nats 1000 (we set it), clickhouse 101. */
const UID = { postgres: 999, nats: 1000, rabbitmq: 999, clickhouse: 101 } as const;
/** Daily logical backups at 02:15, kept for 7 days on their own claim. */
export const BACKUP_SCHEDULE = "15 2 * * *";
export const BACKUP_RETENTION_DAYS = 7;

const fromSecret = (secret: string): api.core.v1.EnvFromSource[] => [{ secretRef: { name: secret } }];
const podName: api.core.v1.EnvVar = { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } };

/**
 * A PostgreSQL primary (StatefulSet, one claim) with generated credentials in a Secret, a client
 * Service, and a CronJob that writes a pg_dump to a backup claim every night.
 */
export function userDbObjects(name: string, w: EffectiveWorkload, ctx: WorkloadContext): WorkloadObjects {
    const labels = labelsOf(name, "user-db");
    const secret = `${name}-credentials`;
    const image = pullImage(w.image, ctx);
    const run = scratch("run", "/var/run/postgresql");
    const tmp = scratch("tmp", "/tmp");
    const sts = statefulSetOf(name, w, ctx, labels, UID.postgres, {
        containers: [
            {
                name: "postgres",
                image,
                env: [{ name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" }],
                envFrom: fromSecret(secret),
                ports: [{ name: "postgres", containerPort: 5432, protocol: "TCP" }],
                securityContext: containerSecurity(true),
                resources: resourcesOf(w),
                readinessProbe: { exec: { command: ["/bin/sh", "-c", 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'] }, periodSeconds: 10 },
                volumeMounts: [{ name: "data", mountPath: "/var/lib/postgresql/data" }, run.mount, tmp.mount],
            },
        ],
        volumes: [run.volume, tmp.volume],
    });
    const backupClaim: K8sObject = { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: meta(`${name}-backup`, ctx, labels), spec: claimSpec(w.storageGiB ?? 1, ctx) };
    const dump = [
        "set -eu",
        `f="/backup/${name}-$(date -u +%Y%m%dT%H%M%SZ).dump"`,
        `pg_dump -h ${name} -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Fc -f "$f.partial"`,
        'mv "$f.partial" "$f"',
        // POSIX find (busybox has no -delete): images need only sh, date, mv, find and rm.
        `find /backup -name '*.dump' -mtime +${BACKUP_RETENTION_DAYS} -exec rm -f {} +`,
    ].join("\n");
    const backup: K8sObject = {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: meta(`${name}-backup`, ctx, labels),
        spec: {
            schedule: BACKUP_SCHEDULE,
            concurrencyPolicy: "Forbid",
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
                spec: {
                    backoffLimit: 2,
                    template: {
                        metadata: { labels: { ...labels, "app.kubernetes.io/component": "user-db-backup" } },
                        spec: {
                            restartPolicy: "OnFailure",
                            securityContext: { runAsNonRoot: true, runAsUser: UID.postgres, runAsGroup: UID.postgres, fsGroup: UID.postgres, seccompProfile: { type: "RuntimeDefault" } },
                            containers: [
                                {
                                    name: "pg-dump",
                                    image,
                                    command: ["/bin/sh", "-c", dump],
                                    env: [{ name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: secret, key: "POSTGRES_PASSWORD" } } }],
                                    envFrom: fromSecret(secret),
                                    securityContext: containerSecurity(true),
                                    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                                    volumeMounts: [{ name: "backup", mountPath: "/backup" }, tmp.mount],
                                },
                            ],
                            volumes: [{ name: "backup", persistentVolumeClaim: { claimName: `${name}-backup` } }, tmp.volume],
                        },
                    },
                },
            },
        } satisfies api.batch.v1.CronJobSpec,
    };
    return {
        objects: [
            serviceOf(name, ctx, labels, [{ name: "postgres", port: 5432 }], true),
            serviceOf(name, ctx, labels, [{ name: "postgres", port: 5432 }]),
            sts,
            backupClaim,
            backup,
            ...disruptionBudget(name, w, ctx, labels),
        ],
        credentials: { secretName: secret, fixed: { POSTGRES_DB: "app", POSTGRES_USER: "app" }, generated: { POSTGRES_PASSWORD: 32 } },
    };
}

/** Stable DNS names of a StatefulSet's pods behind its headless Service. */
function peers(name: string, w: EffectiveWorkload, ctx: WorkloadContext): string[] {
    return Array.from({ length: w.replicas }, (_, i) => `${name}-${i}.${name}-headless.${ctx.namespace}.svc.${ctx.clusterDomain}`);
}

/** NATS with JetStream on a claim, token auth from a generated Secret, clustered by routes when replicas > 1. */
function natsObjects(name: string, w: EffectiveWorkload, ctx: WorkloadContext): WorkloadObjects {
    const labels = labelsOf(name, "queue");
    const secret = `${name}-credentials`;
    const clustered = w.replicas > 1;
    const args = [
        "--server_name=$(POD_NAME)",
        "--port=4222",
        "--http_port=8222",
        "--jetstream",
        "--store_dir=/data",
        "--auth=$(NATS_TOKEN)",
        ...(clustered ? [`--cluster_name=${name}`, "--cluster=nats://0.0.0.0:6222", `--routes=${peers(name, w, ctx).map((p) => `nats://${p}:6222`).join(",")}`] : []),
    ];
    const sts = statefulSetOf(name, w, ctx, labels, UID.nats, {
        containers: [
            {
                name: "nats",
                image: pullImage(w.image, ctx),
                args,
                env: [podName, { name: "NATS_TOKEN", valueFrom: { secretKeyRef: { name: secret, key: "token" } } }],
                ports: [
                    { name: "client", containerPort: 4222, protocol: "TCP" },
                    { name: "cluster", containerPort: 6222, protocol: "TCP" },
                    { name: "monitor", containerPort: 8222, protocol: "TCP" },
                ],
                securityContext: containerSecurity(true),
                resources: resourcesOf(w),
                readinessProbe: { httpGet: { path: "/healthz", port: "monitor" }, periodSeconds: 10 },
                volumeMounts: [{ name: "data", mountPath: "/data" }],
            },
        ],
    });
    return {
        objects: [
            serviceOf(name, ctx, labels, [{ name: "client", port: 4222 }, { name: "cluster", port: 6222 }, { name: "monitor", port: 8222 }], true),
            serviceOf(name, ctx, labels, [{ name: "client", port: 4222 }]),
            sts,
            ...disruptionBudget(name, w, ctx, labels),
        ],
        credentials: { secretName: secret, fixed: {}, generated: { token: 32 } },
    };
}

/** The rabbitmq.conf fragment: peers found from the fixed list of StatefulSet pod names. */
export function rabbitmqConf(name: string, w: EffectiveWorkload, ctx: WorkloadContext): string {
    const nodes = peers(name, w, ctx).map((p, i) => `cluster_formation.classic_config.nodes.${i + 1} = rabbit@${p}`);
    return ["cluster_formation.peer_discovery_backend = classic_config", ...nodes, ""].join("\n");
}

/** RabbitMQ with long node names on the headless Service, user and Erlang cookie generated into a Secret. */
function rabbitmqObjects(name: string, w: EffectiveWorkload, ctx: WorkloadContext): WorkloadObjects {
    const labels = labelsOf(name, "queue");
    const secret = `${name}-credentials`;
    const config: K8sObject = { apiVersion: "v1", kind: "ConfigMap", metadata: meta(`${name}-config`, ctx, labels), data: { "10-groundwork.conf": rabbitmqConf(name, w, ctx) } };
    const sts = statefulSetOf(name, w, ctx, labels, UID.rabbitmq, {
        containers: [
            {
                name: "rabbitmq",
                image: pullImage(w.image, ctx),
                env: [
                    podName,
                    { name: "RABBITMQ_USE_LONGNAME", value: "true" },
                    { name: "RABBITMQ_NODENAME", value: `rabbit@$(POD_NAME).${name}-headless.${ctx.namespace}.svc.${ctx.clusterDomain}` },
                ],
                envFrom: fromSecret(secret),
                ports: [
                    { name: "amqp", containerPort: 5672, protocol: "TCP" },
                    { name: "epmd", containerPort: 4369, protocol: "TCP" },
                    { name: "dist", containerPort: 25672, protocol: "TCP" },
                ],
                // RabbitMQ writes beside its config at start (enabled_plugins, generated files): not read-only.
                securityContext: containerSecurity(false),
                resources: resourcesOf(w),
                readinessProbe: { exec: { command: ["rabbitmq-diagnostics", "-q", "ping"] }, periodSeconds: 15, timeoutSeconds: 10 },
                volumeMounts: [
                    { name: "data", mountPath: "/var/lib/rabbitmq" },
                    { name: "config", mountPath: "/etc/rabbitmq/conf.d/10-groundwork.conf", subPath: "10-groundwork.conf" },
                ],
            },
        ],
        volumes: [{ name: "config", configMap: { name: `${name}-config` } }],
    });
    return {
        objects: [
            config,
            serviceOf(name, ctx, labels, [{ name: "amqp", port: 5672 }, { name: "epmd", port: 4369 }, { name: "dist", port: 25672 }], true),
            serviceOf(name, ctx, labels, [{ name: "amqp", port: 5672 }]),
            sts,
            ...disruptionBudget(name, w, ctx, labels),
        ],
        credentials: { secretName: secret, fixed: { RABBITMQ_DEFAULT_USER: "app" }, generated: { RABBITMQ_DEFAULT_PASS: 32, RABBITMQ_ERLANG_COOKIE: 48 } },
    };
}

/** A queue: NATS (default) or RabbitMQ. */
export function queueObjects(name: string, w: EffectiveWorkload, ctx: WorkloadContext): WorkloadObjects {
    return w.engine === "rabbitmq" ? rabbitmqObjects(name, w, ctx) : natsObjects(name, w, ctx);
}

/** A ClickHouse server (StatefulSet, one claim) with a generated user in a Secret. */
export function analyticsDbObjects(name: string, w: EffectiveWorkload, ctx: WorkloadContext): WorkloadObjects {
    const labels = labelsOf(name, "analytics-db");
    const secret = `${name}-credentials`;
    const logs = scratch("logs", "/var/log/clickhouse-server");
    const sts = statefulSetOf(name, w, ctx, labels, UID.clickhouse, {
        containers: [
            {
                name: "clickhouse",
                image: pullImage(w.image, ctx),
                envFrom: fromSecret(secret),
                ports: [
                    { name: "http", containerPort: 8123, protocol: "TCP" },
                    { name: "native", containerPort: 9000, protocol: "TCP" },
                ],
                // The entrypoint writes the generated user into /etc/clickhouse-server/users.d: not read-only.
                securityContext: containerSecurity(false),
                resources: resourcesOf(w),
                readinessProbe: { httpGet: { path: "/ping", port: "http" }, periodSeconds: 10 },
                volumeMounts: [{ name: "data", mountPath: "/var/lib/clickhouse" }, logs.mount],
            },
        ],
        volumes: [logs.volume],
    });
    return {
        objects: [
            serviceOf(name, ctx, labels, [{ name: "http", port: 8123 }, { name: "native", port: 9000 }], true),
            serviceOf(name, ctx, labels, [{ name: "http", port: 8123 }, { name: "native", port: 9000 }]),
            sts,
            ...disruptionBudget(name, w, ctx, labels),
        ],
        credentials: { secretName: secret, fixed: { CLICKHOUSE_DB: "analytics", CLICKHOUSE_USER: "app" }, generated: { CLICKHOUSE_PASSWORD: 32 } },
    };
}
