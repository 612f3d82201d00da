import * as pulumi from "@pulumi/pulumi";
import { userDbObjects } from "./spec-data";
import { WorkloadArgs, WorkloadComponent } from "./wire";

/** The workload role `user-db`: a PostgreSQL user database with generated credentials and nightly backups, on the cluster's provider. */
export class UserDatabase extends WorkloadComponent {
    constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:workloads:UserDatabase", name, args, userDbObjects, opts);
    }
}
