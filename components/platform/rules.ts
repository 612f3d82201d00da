import { clusterConfigProblems } from "../cluster/validate";
import { Problem } from "../kit/problems";
import { selectedCharts } from "../cluster/versions";
import { registryProblems } from "../registry/validate";
import { PlatformConfig } from "./config";

/**
 * The rules each layer's components would otherwise meet only at deploy time, after machines are
 * registered: every layer's own check function, run here on the config, so `groundwork validate`
 * and the program refuse the same stacks. Paths carry the `platform.` prefix.
 */
export function deployProblems(c: PlatformConfig): Problem[] {
    const full = c.upTo === "all";
    const nodeGroups = [c.machines.controlPlane, ...Object.values(c.machines.workers)];
    const nodeBackends = new Set(nodeGroups.map((g) => g.backend));
    const layered = [
        ...(full ? clusterConfigProblems(c.cluster, nodeBackends, c.network.loadBalancerPool) : []),
        ...registryProblems(c.registry, c.engine, full ? { config: c.cluster, charts: selectedCharts(c.cluster, nodeBackends) } : undefined),
    ].map((p) => ({ path: `platform.${p.path}`, message: p.message }));
    const problems: Problem[] = [...layered];
    if (c.environment === "prod" && c.engine.insecureRegistries.length > 0) {
        problems.push({ path: "platform.engine.insecureRegistries", message: `plain-HTTP registries are not allowed in environment prod (${c.engine.insecureRegistries.join(", ")}); trust the registry's CA with engine.caCertificates instead` });
    }
    // The bootstrap creates this user with useradd: a DNS label that starts with a digit is no POSIX user name.
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(c.machines.sshUser)) {
        problems.push({ path: "platform.machines.sshUser", message: `must be a POSIX user name (a lower-case letter or _, then letters, digits, _ or -), got "${c.machines.sshUser}"` });
    }
    return problems;
}
