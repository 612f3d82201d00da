import { Demand } from "../../components/workloads/planner";

/**
 * The exact minimum number of nodes for a few items (independent of the planner's heuristics):
 * depth-first search placing items in a fixed order into an existing node or one new node,
 * pruned by the best count found so far. Exponential; for ≤ 9 items.
 */
export function optimalNodes(items: readonly Demand[], cap: Demand): number {
    const loads: Demand[] = [];
    let best = items.length;
    const place = (i: number): void => {
        if (loads.length >= best) return;
        if (i === items.length) {
            best = loads.length;
            return;
        }
        const d = items[i];
        for (const l of loads) {
            if (l.cpuMillis + d.cpuMillis <= cap.cpuMillis && l.memoryMiB + d.memoryMiB <= cap.memoryMiB) {
                l.cpuMillis += d.cpuMillis;
                l.memoryMiB += d.memoryMiB;
                place(i + 1);
                l.cpuMillis -= d.cpuMillis;
                l.memoryMiB -= d.memoryMiB;
            }
        }
        loads.push({ ...d });
        place(i + 1);
        loads.pop();
    };
    place(0);
    return best;
}
