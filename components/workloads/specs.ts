import { EffectiveApps, EffectiveWorkload, PROFILE_DEFAULTS, WorkloadRole } from "./config";
import { credentialSecret, K8sObject, labelsOf, WorkloadContext, WorkloadObjects } from "./objects";
import { analyticsDbObjects, queueObjects, userDbObjects } from "./spec-data";
import { staticSiteObjects, webApiObjects } from "./spec-web";

/** The namespace every workload of a stack runs in. */
export const APPS_NAMESPACE = "apps";

/** One lookup table: the only place that switches on the role. */
const BUILDERS: Record<WorkloadRole, (name: string, w: EffectiveWorkload, ctx: WorkloadContext) => WorkloadObjects> = {
    "static-site": staticSiteObjects,
    "web-api": webApiObjects,
    "user-db": userDbObjects,
    queue: queueObjects,
    "analytics-db": analyticsDbObjects,
};

/** The objects of one workload (its credentials Secret apart: see WorkloadObjects.credentials). */
export function workloadObjects(name: string, w: EffectiveWorkload, ctx: WorkloadContext): WorkloadObjects {
    return BUILDERS[w.role](name, w, ctx);
}

/** The context of a stack's workloads from its effective apps and the platform's settings. */
export function workloadContext(apps: EffectiveApps, platform: Omit<WorkloadContext, "ha" | "storageClass" | "ingressClass" | "namespace">): WorkloadContext {
    return {
        namespace: APPS_NAMESPACE,
        ha: PROFILE_DEFAULTS[apps.profile].ha,
        ...(apps.storageClass !== undefined ? { storageClass: apps.storageClass } : {}),
        ...(apps.ingressClass !== undefined ? { ingressClass: apps.ingressClass } : {}),
        ...platform,
    };
}

/** The namespace object every workload lives in. */
export function namespaceObject(ctx: WorkloadContext): K8sObject {
    return { apiVersion: "v1", kind: "Namespace", metadata: { name: ctx.namespace, labels: { "app.kubernetes.io/managed-by": "groundwork" } } };
}

/** A placeholder for a generated credential in dumps (never the real value). */
export const generatedPlaceholder = (length: number) => `generated-${"x".repeat(Math.max(0, length - 10))}`;

/**
 * Every object a stack's workloads create, in creation order, as plain data: the namespace, then
 * per workload its credentials Secret (generated values as placeholders) and its objects. For
 * dumps and a server-side dry-run.
 */
export function appsObjects(apps: EffectiveApps, ctx: WorkloadContext): K8sObject[] {
    const names = Object.keys(apps.workloads);
    if (names.length === 0) return [];
    const out: K8sObject[] = [namespaceObject(ctx)];
    for (const name of names) {
        const w = apps.workloads[name];
        const { objects, credentials } = workloadObjects(name, w, ctx);
        if (credentials) {
            const values = { ...credentials.fixed, ...Object.fromEntries(Object.entries(credentials.generated).map(([k, n]) => [k, generatedPlaceholder(n)])) };
            out.push(credentialSecret(credentials, ctx, values, labelsOf(name, w.role)));
        }
        out.push(...objects);
    }
    return out;
}
