// The workloads layer: the app matrix (static site, web API, user DB, queue, analytics DB) as
// container workloads on the cluster's provider. Pure spec builders, thin components.
export * from "./config";
export * from "./objects";
export * from "./spec-web";
export * from "./spec-data";
export * from "./specs";
export * from "./wire";
export * from "./static-site";
export * from "./web-api";
export * from "./user-db";
export * from "./queue";
export * from "./analytics-db";
export * from "./workloads";
