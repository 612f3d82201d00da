import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { EffectiveWorkload } from "./config";
import { credentialSecret, K8sObject, labelsOf, WorkloadContext, WorkloadObjects } from "./objects";

type Ctor = new (name: string, args: any, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** The typed resource for each object kind the workload specs produce, and its short name suffix. */
const KINDS: Record<string, { ctor: Ctor; suffix: string }> = {
    "v1/Namespace": { ctor: k8s.core.v1.Namespace, suffix: "namespace" },
    "v1/Service": { ctor: k8s.core.v1.Service, suffix: "service" },
    "v1/ConfigMap": { ctor: k8s.core.v1.ConfigMap, suffix: "configmap" },
    "v1/PersistentVolumeClaim": { ctor: k8s.core.v1.PersistentVolumeClaim, suffix: "pvc" },
    "apps/v1/Deployment": { ctor: k8s.apps.v1.Deployment, suffix: "deployment" },
    "apps/v1/StatefulSet": { ctor: k8s.apps.v1.StatefulSet, suffix: "statefulset" },
    "autoscaling/v2/HorizontalPodAutoscaler": { ctor: k8s.autoscaling.v2.HorizontalPodAutoscaler, suffix: "hpa" },
    "policy/v1/PodDisruptionBudget": { ctor: k8s.policy.v1.PodDisruptionBudget, suffix: "pdb" },
    "networking.k8s.io/v1/Ingress": { ctor: k8s.networking.v1.Ingress, suffix: "ingress" },
    "batch/v1/CronJob": { ctor: k8s.batch.v1.CronJob, suffix: "cronjob" },
};

/** Registers one plain object as its typed Kubernetes resource. */
export function createObject(obj: K8sObject, resourceName: string, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
    const { apiVersion, kind, ...args } = obj;
    const entry = KINDS[`${apiVersion}/${kind}`];
    if (!entry) throw new Error(`no resource type for ${apiVersion} ${kind}`);
    return new entry.ctor(resourceName, args, opts);
}

/** The Pulumi name of an object: the component's name, the object's own suffix, its kind. */
export function objectResourceName(component: string, workload: string, obj: K8sObject): string {
    const rest = obj.metadata.name.startsWith(workload) ? obj.metadata.name.slice(workload.length) : `-${obj.metadata.name}`;
    return `${component}${rest}-${KINDS[`${obj.apiVersion}/${obj.kind}`]?.suffix ?? obj.kind.toLowerCase()}`;
}

export interface WorkloadArgs {
    /** The workload's key in apps.workloads: the name of its Kubernetes objects. */
    workload: string;
    /** The effective workload (resolveApps). */
    spec: EffectiveWorkload;
    /** Namespace, HA, storage and ingress classes, registry (workloadContext). */
    context: WorkloadContext;
    /** The cluster's provider. */
    provider: k8s.Provider;
    /** Resources the objects wait for (the namespace). Defaults to none. */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * What every role component does: generate its credentials (random, secret from birth) into one
 * Secret, then register the objects its pure spec builder returns, all on the cluster's provider.
 */
export abstract class WorkloadComponent extends pulumi.ComponentResource {
    /** The Secret with generated credentials, when the role has any. */
    public readonly credentials?: k8s.core.v1.Secret;
    public readonly resources: pulumi.CustomResource[];

    protected constructor(type: string, name: string, args: WorkloadArgs, build: (name: string, w: EffectiveWorkload, ctx: WorkloadContext) => WorkloadObjects, opts?: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
        const { objects, credentials } = build(args.workload, args.spec, args.context);
        const k = { parent: this, provider: args.provider };
        const before: pulumi.Input<pulumi.Resource>[] = [...(args.dependsOn ?? [])];
        if (credentials) {
            const generated = Object.entries(credentials.generated).map(([key, length]) => {
                const pw = new random.RandomPassword(`${name}-${key.toLowerCase().replace(/_/g, "-")}`, { length, special: false }, { parent: this });
                return [key, pw.result] as const;
            });
            const values = pulumi.secret(pulumi.all(Object.fromEntries(generated)).apply((g) => ({ ...credentials.fixed, ...g })));
            const { metadata, type, stringData } = credentialSecret(credentials, args.context, values, labelsOf(args.workload, args.spec.role));
            this.credentials = new k8s.core.v1.Secret(`${name}-credentials`, { metadata, type, stringData }, { ...k, dependsOn: before });
            before.push(this.credentials);
        }
        this.resources = objects.map((o) => createObject(o, objectResourceName(name, args.workload, o), { ...k, dependsOn: before }));
        this.registerOutputs({});
    }
}
