/**
 * Serial waves on the critical path of the cluster's resource graph, for 3+3, 3+10 and 3+50 nodes
 * on each backend. Method: the real Pulumi SDK registers the whole composition (secrets →
 * machines → cluster) under mocks; the mock monitor's registerResource is wrapped to record each
 * request's dependencies, property dependencies and provider; the longest dependency chain of
 * custom resources is the number of waves.
 *
 *   TS_NODE_TRANSPILE_ONLY=1 npx ts-node bench/cluster-waves.ts
 */
import * as pulumi from "@pulumi/pulumi";
import { recorder } from "../test/support/mocks";

async function main(): Promise<void> {
    await pulumi.runtime.setMocks(recorder, "groundwork", "bench", false);
    // Imported after setMocks, as a program would be.
    const { buildCluster, parse, rawPlatform, settleAll } = await import("../test/cluster/fixture");
    const { captureGraph, criticalPath, graph, resetGraph } = await import("../test/cluster/graph");
    captureGraph();
    const sizes: [number, number][] = [[3, 3], [3, 10], [3, 50]];
    for (const backend of ["openstack", "vsphere", "baremetal"] as const) {
        for (const [cps, workers] of sizes) {
            recorder.reset();
            resetGraph();
            const started = Date.now();
            buildCluster(parse(rawPlatform(backend, cps, workers)));
            await settleAll();
            const nodes = graph();
            const { waves, path } = criticalPath(nodes);
            const custom = nodes.filter((n) => n.custom).length;
            console.log(`${backend.padEnd(9)} ${cps}+${String(workers).padEnd(2)}  ${String(custom).padStart(4)} resources  ${waves} waves  (${Date.now() - started} ms)`);
            console.log(`           critical path: ${path.map((n) => n.name).join(" → ")}`);
        }
    }
}

main().catch((e) => {
    console.error(`cluster-waves: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
});
