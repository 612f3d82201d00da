import * as pulumi from "@pulumi/pulumi";
import { staticSiteObjects } from "./spec-web";
import { WorkloadArgs, WorkloadComponent } from "./wire";

/** The workload role `static-site`: a static site (nginx serving a content image), on the cluster's provider. */
export class StaticSite extends WorkloadComponent {
    constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:workloads:StaticSite", name, args, staticSiteObjects, opts);
    }
}
