export * from "./config";
export * from "./bootstrap";
