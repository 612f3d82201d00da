// The workloads layer (the app matrix and the VM→container migration planner) has no issue yet;
// it will build on the cluster's kubernetes.Provider.
export {};
