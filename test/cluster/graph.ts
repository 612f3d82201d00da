import * as pulumi from "@pulumi/pulumi";

/** One registration as the engine would see it: what it waits for. */
export interface GraphNode {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent: string;
    /** dependsOn, property dependencies and the provider, as URNs. */
    deps: string[];
    /** The additionalSecretOutputs the engine is asked to apply (the SDK adds a provider's own). */
    secretOutputs: string[];
    /** The ignoreChanges option: input paths whose changes the engine leaves out of the diff. */
    ignoreChanges: string[];
}

let nodes: GraphNode[] | undefined;

/**
 * Wraps the mock monitor's registerResource (after setMocks) to record each request's parent,
 * dependencies, property dependencies and provider. Idempotent.
 */
export function captureGraph(): void {
    if (nodes) return;
    nodes = [];
    const monitor = pulumi.runtime.getMonitor() as any;
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) => {
        const deps = new Set<string>(req.getDependenciesList());
        req.getPropertydependenciesMap().forEach((v: any) => v.getUrnsList().forEach((u: string) => deps.add(u)));
        const provider: string = req.getProvider();
        if (provider) deps.add(provider.slice(0, provider.lastIndexOf("::")));
        original(req, (err: any, resp: any) => {
            if (!err && resp) nodes!.push({ urn: resp.getUrn(), type: req.getType(), name: req.getName(), custom: req.getCustom(), parent: req.getParent(), deps: [...deps], secretOutputs: req.getAdditionalsecretoutputsList(), ignoreChanges: req.getIgnorechangesList() });
            callback(err, resp);
        });
    };
}

export function resetGraph(): void {
    if (nodes) nodes.length = 0;
}

export function graph(): GraphNode[] {
    return nodes ?? [];
}

/**
 * Serial waves on the critical path: the longest chain of custom resources in which each waits
 * for the one before (components do not wait; a dependency on one means its custom descendants).
 */
export function criticalPath(all: GraphNode[]): { waves: number; path: GraphNode[] } {
    const byUrn = new Map(all.map((n) => [n.urn, n]));
    const children = new Map<string, GraphNode[]>();
    for (const n of all) if (n.parent) children.set(n.parent, [...(children.get(n.parent) ?? []), n]);
    const customOf = (urn: string, seen = new Set<string>()): string[] => {
        const n = byUrn.get(urn);
        if (!n || seen.has(urn)) return [];
        seen.add(urn);
        if (n.custom) return [urn];
        return (children.get(urn) ?? []).flatMap((c) => customOf(c.urn, seen));
    };
    const depth = new Map<string, { d: number; prev?: string }>();
    const visit = (urn: string, stack: Set<string>): number => {
        const known = depth.get(urn);
        if (known) return known.d;
        if (stack.has(urn)) throw new Error(`dependency cycle at ${urn}`);
        stack.add(urn);
        let best = { d: 1, prev: undefined as string | undefined };
        for (const dep of byUrn.get(urn)!.deps.flatMap((d) => customOf(d))) {
            const d = visit(dep, stack) + 1;
            if (d > best.d) best = { d, prev: dep };
        }
        stack.delete(urn);
        depth.set(urn, best);
        return best.d;
    };
    let end: string | undefined;
    for (const n of all.filter((x) => x.custom)) {
        const d = visit(n.urn, new Set());
        if (end === undefined || d > depth.get(end)!.d) end = n.urn;
    }
    const path: GraphNode[] = [];
    for (let at = end; at !== undefined; at = depth.get(at)!.prev) path.unshift(byUrn.get(at)!);
    return { waves: end === undefined ? 0 : depth.get(end)!.d, path };
}
