import * as pulumi from "@pulumi/pulumi";
import { webApiObjects } from "./spec-web";
import { WorkloadArgs, WorkloadComponent } from "./wire";

/** The workload role `web-api`: a web front end or API (Deployment, Service, autoscaler, disruption budget, Ingress), on the cluster's provider. */
export class WebApi extends WorkloadComponent {
    constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:workloads:WebApi", name, args, webApiObjects, opts);
    }
}
