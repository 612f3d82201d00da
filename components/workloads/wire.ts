import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { createObject, kindSuffix } from "../kit/k8s-resource";
import { EffectiveWorkload } from "./config";
import { credentialSecret, K8sObject, labelsOf, WorkloadContext, WorkloadObjects } from "./objects";

/** The Pulumi name of an object: the component's name, the object's own suffix, its kind. */
export function objectResourceName(component: string, workload: string, obj: K8sObject): string {
    const rest = obj.metadata.name.startsWith(workload) ? obj.metadata.name.slice(workload.length) : `-${obj.metadata.name}`;
    return `${component}${rest}-${kindSuffix(obj)}`;
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
