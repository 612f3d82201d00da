import { parseFlags } from "../args";
import { EXIT, specOrExit, STACK_FLAGS } from "../common";
import { clusterBillOfMaterials, kubeadmImages } from "../../components/cluster/versions";
import { enginePackages } from "../../components/engine/engines";
import { sandboxImage } from "../../components/engine/render-containerd";
import { PlatformSpec } from "../../components/platform/config";
import { nodeRegistry, nodeSandbox } from "../../components/platform/wiring";
import { Bom, mergeBoms, registryBillOfMaterials } from "../../components/registry/bom";
import { workloadsDeployed } from "../../components/platform/wiring";
import { workloadImages } from "../../components/workloads/config";
import { imageThroughRegistry } from "../../components/registry/endpoint";

export const summary = "list every image (name:tag), package (name=version) and chart (name@version) the stack needs — what to mirror for an air-gapped install";

/** Which layers contribute, with their own lists, then the merged list. */
export interface StackBom extends Bom {
    layers: Record<string, Bom>;
    /**
     * Where nodes pull each image from when the platform registry serves its upstream: upstream
     * name → path in the registry (what a seed must push to). Empty without a registry.
     */
    registryPaths: Record<string, string>;
}

/**
 * The stack's bill of materials, computed from its configured versions and add-ons: the
 * engine's packages on every machine, the cluster's images, packages and charts (unless the
 * stack stops at machines), the registry's own (standalone package, or Harbor chart and images),
 * and the images of the app matrix's workloads. The `kubeadm` layer is what `kubeadm init` pulls
 * (part of the cluster's), under upstream names.
 */
export function stackBillOfMaterials(spec: PlatformSpec): StackBom {
    const c = spec.config;
    const layers: Record<string, Bom> = {
        // The sandbox image upstream; the registry's imageRepository rewrites it on the nodes.
        engine: { images: [sandboxImage(nodeSandbox(spec))], packages: enginePackages(c.engine).map(([n, v]) => `${n}=${v}`), charts: [] },
    };
    if (c.upTo === "all") {
        // Upstream names: what to copy; the registry's imageRepository rewrites them on the nodes.
        layers.kubeadm = { images: kubeadmImages(c.cluster.kubernetesVersion).sort(), packages: [], charts: [] };
        layers.cluster = clusterBillOfMaterials(c.cluster, spec.machines.map((m) => m.backend));
    }
    layers.registry = registryBillOfMaterials(c.registry, c.cluster.chartRepository);
    // Upstream names here too: an air-gapped registry serves them under its mirror paths.
    if (workloadsDeployed(spec)) layers.workloads = { images: workloadImages(c.apps), packages: [], charts: [] };
    const merged = mergeBoms(...Object.values(layers));
    const endpoint = nodeRegistry(spec, "");
    const registryPaths: Record<string, string> = {};
    for (const image of endpoint ? merged.images : []) {
        const path = imageThroughRegistry(image, endpoint!);
        if (path !== undefined) registryPaths[image] = path;
    }
    return { ...merged, layers, registryPaths };
}

export async function run(argv: string[]): Promise<number> {
    const { flags } = parseFlags(argv, { ...STACK_FLAGS, json: "boolean" });
    const r = specOrExit(flags);
    if (typeof r === "number") return r;
    const { spec } = r;
    const bom = stackBillOfMaterials(spec);
    if (flags.json) {
        const out = { stack: spec.config.name, images: bom.images, packages: bom.packages, charts: bom.charts, chartRepositories: bom.chartRepositories, registryPaths: bom.registryPaths };
        process.stdout.write(JSON.stringify(out, null, 2) + "\n");
        return EXIT.ok;
    }
    const section = (title: string, items: string[]) => [`${title} (${items.length}):`, ...(items.length > 0 ? items.map((i) => `  ${i}`) : ["  (none)"]), ""];
    const out = [
        `bill of materials of stack ${spec.config.name} (${spec.config.environment}): ${bom.images.length} images, ${bom.packages.length} packages, ${bom.charts.length} charts`,
        "",
        ...section("images", bom.images.map((i) => (bom.registryPaths[i] ? `${i}  -> ${bom.registryPaths[i]}` : i))),
        ...section("packages", bom.packages),
        ...section("charts", bom.charts.map((ch) => (bom.chartRepositories?.[ch] ? `${ch}  from ${bom.chartRepositories[ch]}` : ch))),
    ];
    process.stdout.write(out.join("\n"));
    return EXIT.ok;
}
