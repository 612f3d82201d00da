import { EngineConfig } from "../engine/config";
import { MachineSpec } from "../machines/machine";
import { RegistryConfig } from "./config";
import { DEFAULT_STANDALONE_PORT } from "./render-standalone";

/** Upstream registries a standalone registry stands in for (pushed there under the same paths). */
export const STANDALONE_MIRRORED_UPSTREAMS = ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io"] as const;

export const DEFAULT_HARBOR_PORT = 443;

/** One pull-through mirror as the engine layer takes it (host → endpoints tried in order). */
export interface MirrorEntry {
    host: string;
    endpoints: string[];
}

/**
 * Where nodes find the platform's registry. `C` is the CA's type: a plain string in renderers
 * and tests, a `pulumi.Output<string>` in components.
 */
export interface RegistryEndpoint<C = string> {
    mode: "standalone" | "harbor";
    /** DNS name or address nodes connect to. */
    host: string;
    port: number;
    /** `host:port` as written in image references; `host` alone on 443. */
    authority: string;
    /** PEM of the CA that signed the registry's certificate. */
    caPem: C;
    /** Pull-through mirror entries for the engine layer (hosts.toml). */
    mirrors: MirrorEntry[];
    /** kubeadm's imageRepository; set only when the platform is air-gapped and the registry serves registry.k8s.io. */
    imageRepository?: string;
}

/** The upstream host an image reference or registry URL names, as containerd names it. */
export function upstreamHost(upstream: string): string {
    const host = /^[a-z]+:\/\//.test(upstream) ? new URL(upstream).host : upstream;
    // Docker Hub's API host is registry-1.docker.io; image references and hosts.toml say docker.io.
    return host === "registry-1.docker.io" || host === "index.docker.io" ? "docker.io" : host;
}

function authorityOf(host: string, port: number): string {
    return port === 443 ? host : `${host}:${port}`;
}

/**
 * The registry's endpoint from the registry config and the IP plan's machines, or undefined
 * when registry.mode is none. Pure: the CA is passed through untouched.
 */
export function registryEndpoint<C>(config: RegistryConfig, machines: MachineSpec[], caPem: C): RegistryEndpoint<C> | undefined {
    const mode = config.mode;
    switch (mode) {
        case "none":
            return undefined;
        case "standalone": {
            const machine = machines.find((m) => m.role === "registry");
            const host = config.hostname ?? machine?.address;
            if (host === undefined) throw new Error("platform.registry: mode standalone needs platform.machines.registry or platform.registry.hostname");
            const port = config.port ?? DEFAULT_STANDALONE_PORT;
            const authority = authorityOf(host, port);
            const mirrors = STANDALONE_MIRRORED_UPSTREAMS.map((h) => ({ host: h, endpoints: [`https://${authority}`] }));
            return { mode, host, port, authority, caPem, mirrors, imageRepository: config.airGapped ? authority : undefined };
        }
        case "harbor": {
            const host = config.hostname;
            if (host === undefined) throw new Error("platform.registry.hostname: is required when registry.mode is harbor (the name in Harbor's certificate)");
            const port = config.port ?? DEFAULT_HARBOR_PORT;
            const authority = authorityOf(host, port);
            // Harbor serves a proxy-cache project under /v2/<project>/…; the engine sets override_path for such endpoints.
            const mirrors = [...config.proxyCache]
                .sort((a, b) => upstreamHost(a.upstream).localeCompare(upstreamHost(b.upstream)))
                .map((p) => ({ host: upstreamHost(p.upstream), endpoints: [`https://${authority}/v2/${p.name}`] }));
            const k8s = config.proxyCache.find((p) => upstreamHost(p.upstream) === "registry.k8s.io");
            return { mode, host, port, authority, caPem, mirrors, imageRepository: config.airGapped && k8s ? `${authority}/${k8s.name}` : undefined };
        }
        default: {
            const unknown: never = mode;
            throw new Error(`unknown registry mode ${String(unknown)}`);
        }
    }
}

/**
 * The engine config with the registry wired in: its mirror endpoint first for every upstream it
 * serves (user-configured endpoints kept after it), its CA trusted. Everything else unchanged.
 */
export function engineWithRegistry(engine: EngineConfig, endpoint: RegistryEndpoint<string> | undefined): EngineConfig {
    if (!endpoint) return engine;
    const byHost = new Map<string, string[]>();
    for (const m of endpoint.mirrors) byHost.set(m.host, [...m.endpoints]);
    for (const m of engine.mirrors) byHost.set(m.host, [...new Set([...(byHost.get(m.host) ?? []), ...m.endpoints])]);
    const mirrors = [...byHost.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([host, endpoints]) => ({ host, endpoints }));
    const ca = endpoint.caPem.trim() + "\n";
    const caCertificates = engine.caCertificates.some((c) => c.trim() === ca.trim()) ? engine.caCertificates : [...engine.caCertificates, ca];
    return { ...engine, mirrors, caCertificates };
}

/**
 * An upstream image reference as served by the registry, or undefined when the registry does
 * not serve that upstream. `registry.k8s.io/pause:3.10` → `registry.example:5000/pause:3.10`.
 */
export function imageThroughRegistry(ref: string, endpoint: RegistryEndpoint<unknown>): string | undefined {
    const first = ref.split("/")[0];
    const hasHost = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
    const host = hasHost ? first : "docker.io";
    let path = hasHost ? ref.slice(first.length + 1) : ref;
    if (host === "docker.io" && !path.includes("/")) path = `library/${path}`;
    const mirror = endpoint.mirrors.find((m) => m.host === host);
    if (!mirror) return undefined;
    const project = /\/v2\/([^/]+)$/.exec(mirror.endpoints[0])?.[1];
    return project ? `${endpoint.authority}/${project}/${path}` : `${endpoint.authority}/${path}`;
}

/**
 * What the cluster and engine layers take from the registry when air-gapped: kubeadm's
 * imageRepository (the engine derives the sandbox image from it: engineParts(config, {imageRepository})).
 */
export interface ClusterRegistryWiring {
    imageRepository?: string;
}

/** The registry's imageRepository, air-gapped only; `{}` otherwise. */
export function clusterRegistryWiring(endpoint: RegistryEndpoint<unknown> | undefined): ClusterRegistryWiring {
    return endpoint?.imageRepository === undefined ? {} : { imageRepository: endpoint.imageRepository };
}
