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
 * Where each image of a bill of materials goes in the stack's registry: the path the engine's
 * mirror configuration asks for. kubeadm's images land there too: the rendered ClusterConfiguration
 * points CoreDNS at `<imageRepository>/coredns`, so under an air-gapped `imageRepository` kubeadm
 * pulls every image at its upstream path (`kubeadm config images list` is the oracle in the tests).
 * An image the registry serves under no path is reported, not skipped.
 */
export function seedPlan(images: string[], endpoint: RegistryEndpoint<unknown>): { items: SeedItem[]; unserved: string[] } {
    const items: SeedItem[] = [];
    const unserved: string[] = [];
    const inRegistry = (ref: string) => ref.slice(endpoint.authority.length + 1);
    for (const source of [...images].sort()) {
        const mirrored = imageThroughRegistry(source, endpoint);
        if (mirrored) items.push({ source, targets: [inRegistry(mirrored)] });
        else unserved.push(source);
    }
    return { items, unserved };
}
