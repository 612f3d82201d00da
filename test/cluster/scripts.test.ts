import * as assert from "assert";
import { execFile, execFileSync } from "child_process";
import { createServer, IncomingMessage, ServerResponse } from "http";
import { AddressInfo } from "net";
import { clusterParts, clusterSettings, firstControlPlane, NODE_SYNC_SCRIPT, SNAPSHOT_SCRIPT, WAIT_FOR_API_SCRIPT } from "../../components/cluster";
import { renderBootstrapScript } from "../../components/engine/bootstrap";
import { parse, rawPlatform } from "./fixture";

const SECRETS = { bootstrapToken: "abcdef.0123456789abcdef", certificateKey: "0".repeat(64), caCertPem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n", caKeyPem: "KEY", caCertHash: "sha256:00" };

function shellcheck(script: string, shell = "bash"): string {
    try {
        execFileSync("shellcheck", ["-s", shell, "-"], { input: script });
        return "";
    } catch (e: any) {
        return String(e.stdout ?? e.message);
    }
}

describe("cluster scripts", () => {
    const variants: [string, Record<string, unknown>][] = [
        ["kube-vip, upstream packages", {}],
        ["external LB, trusted mirror", { controlPlaneEndpoint: { mode: "external", address: "10.20.0.5" }, packageSource: { kind: "mirror", url: "http://mirror.internal/k8s", trusted: true } }],
    ];
    for (const [label, cluster] of variants) {
        it(`bootstrap scripts of the first control plane, a joining control plane and a worker pass shellcheck (${label})`, () => {
            const spec = parse(rawPlatform("baremetal", 3, 1, cluster));
            const settings = clusterSettings({ config: spec.config.cluster, clusterName: "gw", vip: spec.ipPlan.vip, backends: ["baremetal"] });
            const first = firstControlPlane(spec.machines)!.name;
            const roles = new Set<string>();
            for (const m of [spec.machines[0], spec.machines[1], spec.machines[3]]) {
                const script = renderBootstrapScript({ hostname: m.name, sshUser: "gw", sshAuthorizedKeys: [] }, clusterParts(settings, m, first, SECRETS));
                assert.strictEqual(shellcheck(script), "", `${m.name}`);
                roles.add(script.includes("kubeadm init") ? "init" : script.includes("as a control plane") ? "cp-join" : "worker-join");
            }
            assert.deepStrictEqual([...roles].sort(), ["cp-join", "init", "worker-join"]);
        });
    }

    it("the API wait (bash) and the snapshot script (POSIX sh) pass shellcheck", () => {
        assert.strictEqual(shellcheck(`#!/bin/bash\n${WAIT_FOR_API_SCRIPT}`), "");
        assert.strictEqual(shellcheck(SNAPSHOT_SCRIPT, "sh"), "");
    });

    it("the API wait gives up after its bound with one clear line", async () => {
        const out = await new Promise<{ code: number; stderr: string }>((resolve) => {
            const env = { ...process.env, GROUNDWORK_CA: SECRETS.caCertPem, GROUNDWORK_ENDPOINT: "https://127.0.0.1:1", GROUNDWORK_TIMEOUT: "0" };
            execFile("bash", ["-c", WAIT_FOR_API_SCRIPT], { env }, (err, _stdout, stderr) => resolve({ code: (err as any)?.code ?? 0, stderr }));
        });
        assert.strictEqual(out.code, 1);
        assert.match(out.stderr, /^\[groundwork\] the API at https:\/\/127\.0\.0\.1:1 did not become ready within \d+s/);
    });

    it("the node sync waits for the node, then sets labels and taints and removes what it set before", async () => {
        let node: any = undefined;
        let gets = 0;
        const server = createServer((req: IncomingMessage, res: ServerResponse) => {
            let body = "";
            req.on("data", (c) => (body += c));
            req.on("end", () => {
                if (req.method === "GET") {
                    gets++;
                    if (gets === 1) return void res.writeHead(404).end("{}");
                    return void res.writeHead(200).end(JSON.stringify(node));
                }
                const patch = JSON.parse(body);
                assert.strictEqual(patch.metadata.resourceVersion, node.metadata.resourceVersion);
                const labels = { ...node.metadata.labels };
                for (const [k, v] of Object.entries(patch.metadata.labels)) if (v === null) delete labels[k]; else labels[k] = v;
                node = { metadata: { ...node.metadata, labels, annotations: { ...node.metadata.annotations, ...patch.metadata.annotations }, resourceVersion: "2" }, spec: { taints: patch.spec.taints } };
                res.writeHead(200).end(JSON.stringify(node));
            });
        });
        node = {
            metadata: { resourceVersion: "1", labels: { "kubernetes.io/hostname": "w1", old: "x" }, annotations: { "groundwork.io/managed": JSON.stringify({ labels: ["old"], taints: ["gone"] }) } },
            spec: { taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }, { key: "gone", effect: "NoExecute" }] },
        };
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as AddressInfo).port;
        const env = {
            ...process.env,
            GROUNDWORK_SERVER: `http://127.0.0.1:${port}`,
            GROUNDWORK_NODE: "w1",
            GROUNDWORK_LABELS: JSON.stringify({ "node-role.kubernetes.io/worker": "", tier: "web" }),
            GROUNDWORK_TAINTS: JSON.stringify([{ key: "dedicated", value: "web", effect: "NoSchedule" }]),
            GROUNDWORK_TIMEOUT: "60",
            GROUNDWORK_RETRY_MS: "50",
        };
        const stdout = await new Promise<string>((resolve, reject) => execFile("node", ["-e", NODE_SYNC_SCRIPT], { env, timeout: 30000 }, (err, out) => (err ? reject(err) : resolve(out))));
        server.close();
        assert.match(stdout, /node w1: waiting for the node to register/);
        assert.match(stdout, /node w1: labels and taints in sync/);
        assert.deepStrictEqual(node.metadata.labels, { "kubernetes.io/hostname": "w1", "node-role.kubernetes.io/worker": "", tier: "web" });
        assert.deepStrictEqual(node.spec.taints, [{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }, { key: "dedicated", value: "web", effect: "NoSchedule" }]);
        assert.strictEqual(node.metadata.annotations["groundwork.io/managed"], JSON.stringify({ labels: ["node-role.kubernetes.io/worker", "tier"], taints: ["dedicated"] }));
    });
});
