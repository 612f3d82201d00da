export * from "./config";
export * from "../kit/problems";
export * from "./platform";
