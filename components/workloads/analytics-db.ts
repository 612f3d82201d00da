import * as pulumi from "@pulumi/pulumi";
import { analyticsDbObjects } from "./spec-data";
import { WorkloadArgs, WorkloadComponent } from "./wire";

/** The workload role `analytics-db`: a ClickHouse analytics database as a StatefulSet, on the cluster's provider. */
export class AnalyticsDatabase extends WorkloadComponent {
    constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:workloads:AnalyticsDatabase", name, args, analyticsDbObjects, opts);
    }
}
