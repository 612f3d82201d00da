export * from "./ipv4";
export * from "./problems";
export * from "./zod-kit";
export * from "./k8s-object";
