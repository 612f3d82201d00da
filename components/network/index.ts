export * from "../kit/ipv4";
export * from "./plan";
