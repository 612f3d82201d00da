export * from "./config";
export * from "./machine";
export * from "./firewall";
export * from "./openstack";
export * from "./vsphere";
export * from "./vsphere-binding";
export * from "./baremetal";
export * from "./pool";
