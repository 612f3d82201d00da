import { RegistryEndpoint, imageThroughRegistry } from "./endpoint";

/** One image to copy: its upstream name (how an archive or upstream registry knows it) and every path nodes pull it from. */
export interface SeedItem {
    /** Upstream reference, e.g. `registry.k8s.io/coredns/coredns:v1.12.1`. */
    source: string;
    /** `repository:tag` inside the stack's registry, one per way a node asks for the image. */
    targets: string[];
}

/** Splits `host/path:tag` into its repository and tag. */
export function splitReference(ref: string): { repository: string; tag: string } {
    const at = ref.lastIndexOf(":");
    if (at < 0 || ref.slice(at).includes("/")) throw new Error(`image ${ref} has no tag`);
    return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}

/**
 * kubeadm names images `<imageRepository>/<name>:<tag>`; with the default repository CoreDNS is
 * `registry.k8s.io/coredns/coredns`, with any other repository it is `<repository>/coredns`.
 */
export function kubeadmPath(source: string, imageRepository: string): string | undefined {
    const prefix = "registry.k8s.io/";
    if (!source.startsWith(prefix)) return undefined;
    const rest = source.slice(prefix.length);
    const name = rest.startsWith("coredns/coredns:") ? rest.slice("coredns/".length) : rest;
    // Only kubeadm's own images sit directly under the repository (no further path).
    if (name.includes("/")) return undefined;
    return `${imageRepository}/${name}`;
}

/**
 * Where each image of a bill of materials goes in the stack's registry: the path the engine's
 * mirror configuration asks for, and — for kubeadm's images when the stack air-gaps kubeadm — the
 * path kubeadm itself pulls. An image the registry serves under no path is reported, not skipped.
 */
export function seedPlan(images: string[], endpoint: RegistryEndpoint<unknown>): { items: SeedItem[]; unserved: string[] } {
    const items: SeedItem[] = [];
    const unserved: string[] = [];
    const inRegistry = (ref: string) => ref.slice(endpoint.authority.length + 1);
    for (const source of [...images].sort()) {
        const targets = new Set<string>();
        const mirrored = imageThroughRegistry(source, endpoint);
        if (mirrored) targets.add(inRegistry(mirrored));
        if (endpoint.imageRepository !== undefined) {
            const k = kubeadmPath(source, endpoint.imageRepository);
            if (k) targets.add(inRegistry(k));
        }
        if (targets.size === 0) unserved.push(source);
        else items.push({ source, targets: [...targets].sort() });
    }
    return { items, unserved };
}
