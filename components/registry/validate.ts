import { ClusterConfig } from "../cluster/config";
import { AddonChart } from "../cluster/versions";
import { EngineConfig } from "../engine/config";
import { Problem } from "../kit/problems";
import { RegistryConfig } from "./config";
import { HARBOR_APP_VERSIONS } from "./render-harbor";

/**
 * Registry rules the components would otherwise only meet at deploy time (Harbor's image pins,
 * the standalone registry's host), and the air-gap contract: an air-gapped stack names a
 * registry and no internet source for packages or charts. `cluster` is left out when no cluster
 * is built (upTo: machines); its `charts` are the Helm charts the stack installs (a chart
 * repository is needed only when there is one). Paths relative to the platform config.
 */
export function registryProblems(registry: RegistryConfig, engine: EngineConfig, cluster?: { config: ClusterConfig; charts: AddonChart[] }): Problem[] {
    const problems: Problem[] = [];
    const fail = (path: string, message: string) => problems.push({ path, message });
    if (registry.hostname !== undefined && registry.hostname.includes(":")) {
        fail("registry.hostname", `must be a DNS name without a port, got "${registry.hostname}"; set registry.port instead`);
    }
    if (registry.mode === "harbor" && HARBOR_APP_VERSIONS[registry.harbor.chartVersion] === undefined) {
        fail("registry.harbor.chartVersion", `groundwork has no image pins for chart ${registry.harbor.chartVersion}; known: ${Object.keys(HARBOR_APP_VERSIONS).join(", ")}`);
    }
    if (registry.airGapped) {
        const why = "when registry.airGapped is true";
        if (registry.mode === "none") fail("registry.mode", `must be standalone ${why} (air-gapped nodes pull every image from the platform registry)`);
        // Harbor is a chart on this very cluster: it cannot serve kubeadm's, the CNI's or its own
        // images before the cluster exists, and with no upstream fallback nothing else can.
        if (registry.mode === "harbor") {
            fail("registry.mode", `must be standalone ${why}: Harbor (mode harbor) runs on this cluster, so it cannot serve the images the cluster needs to come up (kubeadm's, the CNI's, Harbor's own); use a registry machine (mode standalone) seeded with groundwork seed, or set registry.airGapped to false so nodes fall back to the upstream registries (through engine.proxy)`);
        }
        if (engine.packageSource.kind !== "mirror") fail("engine.packageSource.kind", `must be mirror ${why} (the distribution's apt sources are on the internet)`);
        if (cluster !== undefined && cluster.config.packageSource.kind !== "mirror") fail("cluster.packageSource.kind", `must be mirror ${why} (pkgs.k8s.io is on the internet)`);
        if (cluster !== undefined && cluster.charts.length > 0 && cluster.config.chartRepository === undefined) {
            fail("cluster.chartRepository", `is required ${why} (the stack installs the charts ${cluster.charts.join(", ")}, whose upstream repositories are on the internet)`);
        }
    }
    return problems;
}
