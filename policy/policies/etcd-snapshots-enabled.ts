import { EnforcementLevel, PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { environmentOf, ofType, roleOf, T } from "../lib";

/** The label the cluster layer puts on its etcd snapshot CronJob. */
export const ETCD_SNAPSHOT_LABEL = { key: "app.kubernetes.io/name", value: "etcd-snapshot" } as const;

function isSnapshotJob(r: PolicyResource): boolean {
    const meta = (r.props.metadata ?? {}) as { name?: unknown; labels?: Record<string, unknown> };
    return meta.labels?.[ETCD_SNAPSHOT_LABEL.key] === ETCD_SNAPSHOT_LABEL.value || (typeof meta.name === "string" && meta.name.includes("etcd-snapshot"));
}

/** A cluster without etcd snapshots cannot be restored; every stack that runs control planes takes them. */
export function etcdSnapshotsEnabled(level: EnforcementLevel): StackValidationPolicy {
    return {
        name: "etcd-snapshots-enabled",
        description: "Stacks with control planes run an unsuspended etcd snapshot CronJob (local stacks are exempt).",
        enforcementLevel: level,
        severity: "high",
        validateStack: (args, reportViolation) => {
            const controlPlanes = args.resources.filter((r) => roleOf(r) === "control-plane").length;
            if (controlPlanes === 0 || environmentOf(args.resources, args.stackTags) === "local") return;
            const jobs = ofType(args.resources, T.cronJob).filter(isSnapshotJob);
            if (jobs.length === 0) {
                reportViolation(`no etcd snapshot CronJob (label ${ETCD_SNAPSHOT_LABEL.key}: ${ETCD_SNAPSHOT_LABEL.value}) for ${controlPlanes} control-plane machine${controlPlanes === 1 ? "" : "s"}; keep cluster.addons.etcdSnapshots.enabled: true`);
            }
            for (const job of jobs) {
                const spec = (job.props.spec ?? {}) as { suspend?: unknown };
                if (spec.suspend === true) reportViolation(`etcd snapshot CronJob ${job.name} is suspended; snapshots must run`, job.urn);
            }
        },
    };
}
