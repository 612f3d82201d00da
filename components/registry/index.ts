export * from "./config";
export * from "./endpoint";
export * from "./render-standalone";
export * from "./render-harbor";
export * from "./tls";
export * from "./standalone";
export * from "./harbor";
export * from "./bom";
