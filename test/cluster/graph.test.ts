import * as assert from "assert";
import { recorder } from "../support/mocks";
import { buildCluster, parse, rawPlatform, settleAll } from "./fixture";
import { captureGraph, criticalPath, graph, resetGraph } from "./graph";

type Reg = { type: string; name: string; inputs: string };

async function registrations(workers: number): Promise<Map<string, Reg>> {
    recorder.reset();
    buildCluster(parse(rawPlatform("openstack", 3, workers)));
    await settleAll();
    return new Map(recorder.registrations.map((r) => [`${r.type}::${r.name}`, { type: r.type, name: r.name, inputs: JSON.stringify(r.inputs) }]));
}

describe("cluster resource graph", () => {
    before(() => captureGraph());

    it("has the same number of serial waves for 3+3 and 3+10 nodes, ending in add-ons and node syncs", async () => {
        const waves: number[] = [];
        for (const workers of [3, 10]) {
            resetGraph();
            buildCluster(parse(rawPlatform("openstack", 3, workers)));
            await settleAll();
            const { waves: w, path } = criticalPath(graph());
            waves.push(w);
            const names = path.map((n) => n.name);
            assert.ok(names.includes("gw-api-ready"), names.join(" → "));
            assert.ok(names.indexOf("gw-api-ready") > names.findIndex((n) => n.endsWith("-server")), "machines come before the API wait");
        }
        assert.strictEqual(waves[0], waves[1]);
        const syncs = graph().filter((n) => n.name.startsWith("gw-node-"));
        const apiReady = graph().find((n) => n.name === "gw-api-ready")!;
        for (const s of syncs) assert.ok(s.deps.includes(apiReady.urn), `${s.name} waits for the API`);
        // The API wait depends on the first control plane only, never on a worker.
        const workerServers = graph().filter((n) => n.name.startsWith("gw-general-") && n.custom).map((n) => n.urn);
        assert.ok(!apiReady.deps.some((d) => workerServers.includes(d)));
    });

    it("scaling out by one worker registers only the new machine's resources and changes no existing input", async () => {
        const before = await registrations(3);
        const after = await registrations(4);
        const added = [...after.keys()].filter((k) => !before.has(k));
        const removed = [...before.keys()].filter((k) => !after.has(k));
        const changed = [...before.keys()].filter((k) => after.has(k) && after.get(k)!.inputs !== before.get(k)!.inputs);
        assert.deepStrictEqual(removed, []);
        assert.deepStrictEqual(changed, []);
        // The new machine's own join material: its token, registered on the first control plane, delivered to it.
        assert.deepStrictEqual(added.sort(), [
            "command:local:Command::gw-node-gw-general-4",
            "command:remote:Command::gw-join-gw-general-4-deliver",
            "command:remote:Command::gw-join-gw-general-4-register",
            "groundwork:cluster:MachineJoin::gw-join-gw-general-4",
            "groundwork:machines:OpenStackMachine::gw-general-4",
            "openstack:compute/instance:Instance::gw-general-4-server",
            "openstack:networking/port:Port::gw-general-4-port",
            "random:index/randomPassword:RandomPassword::gw-join-gw-general-4-token-id",
            "random:index/randomPassword:RandomPassword::gw-join-gw-general-4-token-secret",
        ]);
    });
});
