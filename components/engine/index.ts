export * from "./config";
export * from "./bootstrap";
export * from "./engines";
export * from "./render-apt";
export * from "./render-containerd";
export * from "./render-docker";
export * from "./render-host";
export * from "./validate";
