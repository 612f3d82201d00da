import * as pulumi from "@pulumi/pulumi";
import { queueObjects } from "./spec-data";
import { WorkloadArgs, WorkloadComponent } from "./wire";

/** The workload role `queue`: a queue (NATS by default, or RabbitMQ) as a StatefulSet, on the cluster's provider. */
export class Queue extends WorkloadComponent {
    constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:workloads:Queue", name, args, queueObjects, opts);
    }
}
