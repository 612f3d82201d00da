export * from "./config";
export * from "./problems";
export * from "./platform";
