import { DEFAULT_HARBOR_CHART_REPOSITORY, harborImages } from "./render-harbor";
import { RegistryConfig } from "./config";
import { STANDALONE_REGISTRY_PACKAGES } from "./render-standalone";

/** A bill of materials: what must be mirrored into an internal registry / apt mirror / chart repository. */
export interface Bom {
    /** Container images as `name:tag` (fully qualified, never `latest`). */
    images: string[];
    /** Debian packages as `name=version`. */
    packages: string[];
    /** Helm charts as `name@version`. */
    charts: string[];
    /** Where each chart (`name@version`) comes from. Defaults to none listed. */
    chartRepositories?: Record<string, string>;
}

/** What the registry layer itself needs: the standalone registry's package, or Harbor's chart and images. */
export function registryBillOfMaterials(config: RegistryConfig, chartRepository?: string): Bom {
    const mode = config.mode;
    switch (mode) {
        case "none":
            return { images: [], packages: [], charts: [] };
        case "standalone":
            return { images: [], packages: Object.entries(STANDALONE_REGISTRY_PACKAGES).map(([n, v]) => `${n}=${v}`).sort(), charts: [] };
        case "harbor": {
            const chart = `harbor@${config.harbor.chartVersion}`;
            return { images: harborImages(config), packages: [], charts: [chart], chartRepositories: { [chart]: chartRepository?.replace(/\/+$/, "") ?? HARBOR_CHART_SOURCE } };
        }
        default: {
            const unknown: never = mode;
            throw new Error(`unknown registry mode ${String(unknown)}`);
        }
    }
}

/** Where the Harbor chart comes from unless cluster.chartRepository overrides it. */
export const HARBOR_CHART_SOURCE = DEFAULT_HARBOR_CHART_REPOSITORY;

/**
 * Merges bills of materials: sorted, without repeats. Throws when an image has no tag or the
 * tag `latest`, or a package/chart has no version: a mirror list must be exact.
 */
export function mergeBoms(...boms: Bom[]): Bom {
    const images = new Set<string>();
    const packages = new Set<string>();
    const charts = new Set<string>();
    const repositories: Record<string, string> = {};
    for (const b of boms) {
        Object.assign(repositories, b.chartRepositories ?? {});
        b.images.forEach((i) => images.add(i));
        b.packages.forEach((p) => packages.add(p));
        b.charts.forEach((c) => charts.add(c));
    }
    for (const i of images) {
        const tag = /:([^/:]+)$/.exec(i)?.[1];
        if (tag === undefined || tag === "latest") throw new Error(`image ${i} must carry a pinned tag (not latest)`);
    }
    for (const p of packages) if (!/^[a-z0-9][a-z0-9+.-]*=[^=\s]+$/.test(p)) throw new Error(`package ${p} must be name=version`);
    for (const c of charts) if (!/^[^@\s]+@[^@\s]+$/.test(c)) throw new Error(`chart ${c} must be name@version`);
    const sorted = (s: Set<string>) => [...s].sort();
    const chartRepositories = Object.fromEntries(Object.entries(repositories).sort(([a], [b]) => a.localeCompare(b)));
    return { images: sorted(images), packages: sorted(packages), charts: sorted(charts), chartRepositories };
}
