export * from "./config";
export * from "./problems";
