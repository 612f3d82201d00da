import { Problem } from "../kit/problems";
import { EngineConfig } from "./config";
import { enginePackages } from "./engines";

/**
 * Engine rules the schema alone cannot express, each with its key path under `root`
 * (`platform.engine`). Returns every problem at once.
 */
export function engineProblems(config: EngineConfig, root = "platform.engine"): Problem[] {
    const problems: Problem[] = [];
    const p = (path: string, message: string) => problems.push({ path: `${root}.${path}`, message });
    if (config.insecureRegistries.length > 0 && !config.allowInsecureRegistries) {
        p("insecureRegistries", "needs engine.allowInsecureRegistries: true (plain-HTTP registries are off by default)");
    }
    if (config.packageSource.kind === "mirror" && config.packageSource.url === undefined) p("packageSource.url", "is required when kind is mirror");
    const proxy = config.proxy;
    if (proxy !== undefined && proxy.http === undefined && proxy.https === undefined) {
        p("proxy", "needs http or https (or remove proxy)");
    }
    const containerd = enginePackages(config).find(([name]) => name === "containerd");
    if (containerd !== undefined && !/^(\d+:)?1\./.test(containerd[1])) {
        p("packages.containerd", `must be a 1.x version (config.toml format 2 is rendered), got "${containerd[1]}"`);
    }
    const seen = new Set<string>();
    config.mirrors.forEach((m, i) => {
        if (seen.has(m.host)) p(`mirrors[${i}].host`, `"${m.host}" is listed twice; give one entry with all its endpoints`);
        seen.add(m.host);
    });
    return problems;
}
