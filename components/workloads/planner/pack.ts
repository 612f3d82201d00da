// Multi-dimensional (CPU + memory) bin packing of container requests onto equal nodes.

export interface Demand {
    cpuMillis: number;
    memoryMiB: number;
}

export interface Packing {
    /** Item indices per node. Every item index appears exactly once over all nodes. */
    nodes: number[][];
    /** Load per node, same order. */
    loads: Demand[];
    /** Which heuristic made it (for the plan): `ffd`, `bfd`, or `ffd from w4x16` when a smaller size's packing was better. */
    method: string;
}

/** max(ceil(ΣCPU / node CPU), ceil(Σmemory / node memory)): no packing can use fewer nodes. */
export function lowerBound(items: readonly Demand[], cap: Demand): number {
    let cpu = 0;
    let mem = 0;
    for (const i of items) {
        cpu += i.cpuMillis;
        mem += i.memoryMiB;
    }
    return Math.max(Math.ceil(cpu / cap.cpuMillis), Math.ceil(mem / cap.memoryMiB));
}

export const fits = (i: Demand, cap: Demand) => i.cpuMillis <= cap.cpuMillis && i.memoryMiB <= cap.memoryMiB;

/** Items in decreasing order of their larger normalised dimension, then of the sum, then by index (deterministic). */
function decreasing(items: readonly Demand[], cap: Demand): number[] {
    const key = items.map((d) => {
        const c = d.cpuMillis / cap.cpuMillis;
        const m = d.memoryMiB / cap.memoryMiB;
        return [Math.max(c, m), c + m];
    });
    return items.map((_, i) => i).sort((a, b) => key[b][0] - key[a][0] || key[b][1] - key[a][1] || a - b);
}

/**
 * First-fit decreasing (`best` false) or best-fit decreasing (`best` true: the node whose larger
 * normalised remaining dimension is smallest after placing). Throws when an item fits no empty node
 * (callers filter those out first and report them).
 */
export function packDecreasing(items: readonly Demand[], cap: Demand, best = false): Packing {
    const nodes: number[][] = [];
    const loads: Demand[] = [];
    for (const i of decreasing(items, cap)) {
        const d = items[i];
        if (!fits(d, cap)) throw new Error(`item ${i} (${d.cpuMillis} m, ${d.memoryMiB} MiB) is larger than a node (${cap.cpuMillis} m, ${cap.memoryMiB} MiB)`);
        let chosen = -1;
        let chosenSlack = Infinity;
        for (let n = 0; n < nodes.length; n++) {
            const l = loads[n];
            if (l.cpuMillis + d.cpuMillis > cap.cpuMillis || l.memoryMiB + d.memoryMiB > cap.memoryMiB) continue;
            if (!best) {
                chosen = n;
                break;
            }
            const slack = Math.max((cap.cpuMillis - l.cpuMillis - d.cpuMillis) / cap.cpuMillis, (cap.memoryMiB - l.memoryMiB - d.memoryMiB) / cap.memoryMiB);
            if (slack < chosenSlack) {
                chosen = n;
                chosenSlack = slack;
            }
        }
        if (chosen < 0) {
            nodes.push([]);
            loads.push({ cpuMillis: 0, memoryMiB: 0 });
            chosen = nodes.length - 1;
        }
        nodes[chosen].push(i);
        loads[chosen].cpuMillis += d.cpuMillis;
        loads[chosen].memoryMiB += d.memoryMiB;
    }
    return { nodes, loads, method: best ? "bfd" : "ffd" };
}

/** The better of first-fit and best-fit decreasing (fewer nodes; first-fit on a tie). */
export function pack(items: readonly Demand[], cap: Demand): Packing {
    const ffd = packDecreasing(items, cap, false);
    if (ffd.nodes.length === lowerBound(items, cap) || items.length === 0) return ffd;
    const bfd = packDecreasing(items, cap, true);
    return bfd.nodes.length < ffd.nodes.length ? bfd : ffd;
}

/**
 * Packs the same items at several node capacities. FFD and BFD are not monotone: a larger node
 * can need more nodes than a smaller one. A packing that fits capacity A also fits every capacity
 * ≥ A in both dimensions, so each capacity takes the best packing among itself and every capacity
 * it dominates. Guarantee: for capacities a ≤ b (both dimensions) in the list, nodes(b) ≤ nodes(a).
 */
export function packAcross(items: readonly Demand[], caps: readonly { name: string; cap: Demand }[]): Packing[] {
    const own = caps.map((c) => (items.every((i) => fits(i, c.cap)) ? pack(items, c.cap) : undefined));
    return caps.map((c, k) => {
        let best = own[k];
        caps.forEach((d, j) => {
            const p = own[j];
            if (j === k || !p || d.cap.cpuMillis > c.cap.cpuMillis || d.cap.memoryMiB > c.cap.memoryMiB) return;
            if (!best || p.nodes.length < best.nodes.length) best = { ...p, method: `${p.method} from ${d.name}` };
        });
        if (!best) throw new Error(`an item is larger than a ${c.name} node`);
        return best;
    });
}
