/**
 * Scale-in (issue 13, item 3): a node's leave step and the cluster's teardown mark against a real
 * kube-apiserver v1.33.13 on loopback, run as the program runs them (`node -e` with the environment
 * the Convergence gives them). No kubelet runs: a stand-in loop finishes the pods the API marks for
 * deletion, and node status (Ready or not) is written through its subresource.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LEAVING, NODE_LEAVE_SCRIPT, TEARDOWN_CONFIGMAP, TEARDOWN_MARK_SCRIPT } from "../../components/cluster/scale-in";
import { LoopbackApiServer } from "../support/apiserver";
import { freePort } from "../support/net";

type Run = { code: number; stdout: string; stderr: string };

function run(server: LoopbackApiServer, script: string, env: Record<string, string>, url?: string): Promise<Run> {
    const f = (n: string) => fs.readFileSync(path.join(server.dir, n), "utf8");
    const server_ = url ?? /server: "([^"]+)"/.exec(fs.readFileSync(server.kubeconfig, "utf8"))![1];
    const all = { PATH: process.env.PATH, GROUNDWORK_SERVER: server_, GROUNDWORK_CA: f("ca.crt"), GROUNDWORK_CERT: f("admin.crt"), GROUNDWORK_KEY: f("admin.key"), GROUNDWORK_TIMEOUT: "30", ...env };
    return new Promise((resolve) => {
        execFile("node", ["-e", script], { env: all, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
}

describe("scale-in: a node's leave and the teardown mark against a real kube-apiserver v1.33.13", function () {
    this.timeout(300_000);
    const server = new LoopbackApiServer();
    let kubelet: NodeJS.Timeout | undefined;
    const k = (args: string[], input?: string) => server.kubectl(args, input);
    const json = (args: string[]) => JSON.parse(k([...args, "-o", "json"]));
    const leave = (node: string, role: "worker" | "control-plane", url?: string, timeout = "30") => run(server, NODE_LEAVE_SCRIPT, { GROUNDWORK_STEP: "leave", GROUNDWORK_NODE: node, GROUNDWORK_ROLE: role, GROUNDWORK_KUBELET_VERSION: "v1.33.13", GROUNDWORK_TIMEOUT: timeout }, url);
    const mark = (step: "create" | "delete") => run(server, TEARDOWN_MARK_SCRIPT, { GROUNDWORK_STEP: step });
    const nodes = () => (json(["get", "nodes"]).items as { metadata: { name: string } }[]).map((n) => n.metadata.name).sort();

    function node(name: string, ready: "True" | "False", controlPlane = false) {
        k(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name, labels: controlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {} } }));
        const status = { conditions: [{ type: "Ready", status: ready, lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString(), reason: "KubeletReady", message: "" }] };
        k(["patch", "node", name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })]);
    }
    function pod(name: string, nodeName: string, owner?: string, annotations?: Record<string, string>) {
        const ownerReferences = owner ? [{ apiVersion: "apps/v1", kind: owner, name: `${name}-owner`, uid: "0d5c2a64-8e5a-4d55-9c0e-4a1f7b6b9c02", controller: true }] : undefined;
        k(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", annotations, ownerReferences }, spec: { nodeName, containers: [{ name: "c", image: "docker.io/groundwork/tiny:1.0" }] } }));
    }
    const podsOn = (n: string) => (json(["get", "pods", "-A", "--field-selector", `spec.nodeName=${n}`]).items as { metadata: { name: string } }[]).map((p) => p.metadata.name).sort();

    before(async () => {
        await server.start();
        kubelet = setInterval(() => {
            try {
                const items = json(["get", "pods", "-A"]).items as { metadata: { name: string; namespace: string; deletionTimestamp?: string } }[];
                for (const p of items.filter((x) => x.metadata.deletionTimestamp)) k(["delete", "pod", "-n", p.metadata.namespace, p.metadata.name, "--grace-period=0", "--force", "--wait=false"]);
            } catch {
                // the server may be stopping
            }
        }, 1000);
    });
    after(async () => {
        if (kubelet) clearInterval(kubelet);
        await server.stop();
    });

    it("a leaving worker is cordoned, drained (its DaemonSet and static pods stay) and its Node deleted; a second run finds nothing", async () => {
        node("w1", "True");
        node("w2", "True");
        pod("app-1", "w1", "ReplicaSet");
        pod("agent-w1", "w1", "DaemonSet");
        pod("proxy-w1", "w1", undefined, { "kubernetes.io/config.mirror": "x" });
        const r = await leave("w1", "worker");
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /leave w1: cordoned: the machine leaves the platform/);
        assert.match(r.stdout, /leave w1: evicting default\/app-1/);
        assert.match(r.stdout, /leave w1: drained/);
        assert.match(r.stdout, /leave w1: Node deleted/);
        assert.deepStrictEqual(nodes(), ["w2"]);
        // Evicted: gone from the API (the DaemonSet's and the static pod stay bound to the deleted name until their node's kubelet goes).
        assert.deepStrictEqual(podsOn("w1"), ["agent-w1", "proxy-w1"]);
        const again = await leave("w1", "worker");
        assert.strictEqual(again.code, 0, again.stderr);
        assert.match(again.stdout, /leave w1: not registered; nothing to drain or delete/);
    });

    it("a pod without a controller stops the leave, naming it; the node stays cordoned and marked", async () => {
        node("w3", "True");
        pod("lonely", "w3");
        const r = await leave("w3", "worker");
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /leave w3 failed: pods without a controller would be lost: default\/lonely/);
        const n = json(["get", "node", "w3"]);
        assert.strictEqual(n.spec.unschedulable, true);
        assert.strictEqual(n.metadata.annotations[LEAVING], "true");
        k(["delete", "pod", "lonely", "--grace-period=0", "--force"]);
    });

    it("a control plane leaves only while the Ready others keep etcd's quorum; the last one never", async () => {
        node("c1", "True", true);
        node("c2", "False", true);
        node("c3", "True", true);
        // 3 → 2 members: quorum 2, and only c3 of the two others is Ready.
        const refused = await leave("c1", "control-plane");
        assert.strictEqual(refused.code, 1);
        assert.match(refused.stderr, /leave c1 failed: removing it would leave 1 Ready control plane\(s\) of 2 \(c3\), below etcd's quorum of 2; bring the others back first/);
        assert.strictEqual(json(["get", "node", "c1"]).spec.unschedulable, undefined, "a refused leave cordons nothing");
        node("c2", "True", true);
        const ok = await leave("c1", "control-plane");
        assert.strictEqual(ok.code, 0, ok.stdout + ok.stderr);
        assert.match(ok.stdout, /leave c1: etcd keeps its quorum: 2 Ready control plane\(s\) of 2 left, quorum 2/);
        assert.match(ok.stdout, /leave c1: Node deleted/);
        // 2 → 1: quorum 1, c3 Ready.
        const second = await leave("c2", "control-plane");
        assert.strictEqual(second.code, 0, second.stdout + second.stderr);
        assert.match(second.stdout, /etcd keeps its quorum: 1 Ready control plane\(s\) of 1 left, quorum 1/);
        const last = await leave("c3", "control-plane");
        assert.strictEqual(last.code, 1);
        assert.match(last.stderr, /leave c3 failed: it is the last control plane: removing it ends the cluster; destroy the stack instead/);
        assert.ok(nodes().includes("c3"));
    });

    it("a full destroy's teardown mark makes every leave drain nothing; creating the mark step again clears it", async () => {
        const set = await mark("delete");
        assert.strictEqual(set.code, 0, set.stderr);
        assert.match(set.stdout, /teardown mark: set/);
        assert.strictEqual(json(["-n", "kube-system", "get", "configmap", TEARDOWN_CONFIGMAP]).metadata.name, TEARDOWN_CONFIGMAP);
        pod("app-2", "w2", "ReplicaSet");
        const skipped = await leave("w2", "worker");
        assert.strictEqual(skipped.code, 0, skipped.stderr);
        assert.match(skipped.stdout, /leave w2: the cluster is being destroyed; nothing to drain/);
        assert.ok(nodes().includes("w2"));
        assert.deepStrictEqual(podsOn("w2"), ["app-2"]);
        const last = await leave("c3", "control-plane");
        assert.strictEqual(last.code, 0, "the last control plane goes with the cluster");
        const cleared = await mark("create");
        assert.match(cleared.stdout, /teardown mark: removed \(left by an interrupted destroy\)/);
        assert.match((await mark("create")).stdout, /teardown mark: not set/);
        assert.match(k(["-n", "kube-system", "get", "configmaps", "-o", "name"]), /^(?![\s\S]*groundwork-teardown)/);
    });

    it("an API that does not answer fails the leave naming the endpoint, and the machine stays", async () => {
        const port = await freePort();
        const r = await leave("w2", "worker", `https://127.0.0.1:${port}`, "3");
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, new RegExp(`leave w2 failed: the API at https://127\\.0\\.0\\.1:${port} did not answer for the teardown mark within 3s \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); the node was not drained and its machine stays`));
    });
});
