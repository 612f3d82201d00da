import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createObject } from "../kit/k8s-resource";
import { AnalyticsDatabase } from "./analytics-db";
import { EffectiveApps, WorkloadRole } from "./config";
import { WorkloadContext } from "./objects";
import { Queue } from "./queue";
import { StaticSite } from "./static-site";
import { UserDatabase } from "./user-db";
import { WebApi } from "./web-api";
import { namespaceObject } from "./specs";
import { WorkloadArgs, WorkloadComponent } from "./wire";

const COMPONENTS: Record<WorkloadRole, new (name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) => WorkloadComponent> = {
    "static-site": StaticSite,
    "web-api": WebApi,
    "user-db": UserDatabase,
    queue: Queue,
    "analytics-db": AnalyticsDatabase,
};

export interface WorkloadsArgs {
    /** The effective `apps` section (resolveApps). */
    apps: EffectiveApps;
    /** workloadContext(…): namespace, HA, classes, registry. */
    context: WorkloadContext;
    /** The cluster's provider. */
    provider: k8s.Provider;
}

/** The app matrix on the cluster: one namespace, one component per workload (named `${name}-<workload>`). */
export class Workloads extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly workloads: Record<string, WorkloadComponent> = {};

    constructor(name: string, args: WorkloadsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:workloads:Workloads", name, {}, opts);
        const k = { parent: this, provider: args.provider };
        this.namespace = createObject(namespaceObject(args.context), `${name}-namespace`, k) as k8s.core.v1.Namespace;
        for (const [workload, spec] of Object.entries(args.apps.workloads)) {
            const Component = COMPONENTS[spec.role];
            this.workloads[workload] = new Component(`${name}-${workload}`, { workload, spec, context: args.context, provider: args.provider, dependsOn: [this.namespace] }, { parent: this });
        }
        this.registerOutputs({ namespace: args.context.namespace, workloads: Object.keys(this.workloads) });
    }
}
