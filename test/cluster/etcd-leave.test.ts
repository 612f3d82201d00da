/**
 * Scale-in of a control plane (issue 13, item 3): the etcd leave run by bash against a real
 * three-member etcd cluster on loopback (the etcd and etcdctl built here from the Go modules of
 * the release kubeadm pins). On a node the script reaches etcd through the etcd container's
 * etcdctl; here GROUNDWORK_ETCDCTL points it at the host's etcdctl and GROUNDWORK_ETCD_ENDPOINT at
 * the leaving member's client URL. The oracle for membership is etcdctl itself.
 */
import * as assert from "assert";
import { ChildProcess, execFile, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { etcdLeaveBody } from "../../components/cluster/scale-in";
import { k8sBinary } from "../support/kubernetes";
import { freePort } from "../support/net";

interface Member {
    name: string;
    client: string;
    peer: string;
    dir: string;
    proc?: ChildProcess;
}

describe("scale-in: a control plane's etcd leave against a real three-member etcd", function () {
    this.timeout(300_000);
    const etcd = k8sBinary("etcd");
    const etcdctl = k8sBinary("etcdctl");
    let work: string;
    const members: Member[] = [];

    const ctl = (endpoint: string, ...args: string[]) => execFileSync(etcdctl, ["--endpoints", endpoint, "--command-timeout", "10s", ...args], { encoding: "utf8" });
    const names = (endpoint: string) => ctl(endpoint, "member", "list", "-w", "simple").trim().split("\n").map((l) => l.split(", ")[2]).sort();

    function start(m: Member, cluster: string, state: "new" | "existing") {
        const log = fs.openSync(path.join(work, `${m.name}.log`), "a");
        m.proc = spawn(etcd, ["--name", m.name, "--data-dir", m.dir, "--listen-client-urls", m.client, "--advertise-client-urls", m.client, "--listen-peer-urls", m.peer, "--initial-advertise-peer-urls", m.peer, "--initial-cluster", cluster, "--initial-cluster-state", state, "--initial-cluster-token", "gw-test"], { stdio: ["ignore", log, log] });
    }
    async function healthy(endpoint: string, timeoutMs = 60_000) {
        const t = Date.now();
        for (;;) {
            try {
                ctl(endpoint, "endpoint", "health");
                return;
            } catch (e) {
                if (Date.now() - t > timeoutMs) throw new Error(`${endpoint} not healthy: ${(e as Error).message}`);
                await new Promise((r) => setTimeout(r, 500));
            }
        }
    }
    async function stop(m: Member) {
        if (!m.proc || m.proc.exitCode !== null || m.proc.signalCode !== null) return;
        const gone = new Promise((r) => m.proc!.once("exit", r));
        m.proc.kill("SIGTERM");
        await gone;
    }
    function leave(node: string, endpoint: string): Promise<{ code: number; stdout: string; stderr: string }> {
        const env = { PATH: process.env.PATH, HOME: work, GROUNDWORK_ETCDCTL: `${etcdctl} --command-timeout 5s`, GROUNDWORK_ETCD_ENDPOINT: endpoint };
        return new Promise((resolve) => execFile("bash", ["-c", etcdLeaveBody(node)], { env, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr })));
    }

    before(async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "gw-etcd-leave-"));
        for (const name of ["m1", "m2", "m3"]) members.push({ name, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}`, dir: path.join(work, name) });
        const cluster = members.map((m) => `${m.name}=${m.peer}`).join(",");
        for (const m of members) start(m, cluster, "new");
        for (const m of members) await healthy(m.client);
    });
    after(async () => {
        for (const m of members) await stop(m);
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("refuses while a member is down (3 → 2 needs 2 healthy others), then removes itself; a second run finds it gone", async () => {
        const [m1, m2, m3] = members;
        await stop(m3);
        const refused = await leave("m1", m1.client);
        assert.strictEqual(refused.code, 1, refused.stdout);
        assert.match(refused.stderr, /etcd leave m1: removing it would leave 1 healthy member\(s\) of 2, below the quorum of 2: refused; bring the others back first/);
        assert.deepStrictEqual(names(m1.client), ["m1", "m2", "m3"]);

        start(m3, members.map((m) => `${m.name}=${m.peer}`).join(","), "new");
        await healthy(m3.client);
        const id = ctl(m1.client, "member", "list", "-w", "simple").split("\n").find((l) => l.split(", ")[2] === "m1")!.split(", ")[0];
        const ok = await leave("m1", m1.client);
        assert.strictEqual(ok.code, 0, ok.stdout + ok.stderr);
        assert.match(ok.stdout, new RegExp(`^\\[groundwork\\] etcd leave m1: member ${id} removed; 2 left, 2 healthy \\(quorum 2\\)$`, "m"));
        assert.deepStrictEqual(names(m2.client), ["m2", "m3"]);
        await stop(m1);

        const again = await leave("m1", m2.client);
        assert.strictEqual(again.code, 0, again.stderr);
        assert.match(again.stdout, /etcd leave m1: not an etcd member; nothing to remove/);
    });

    it("2 → 1 needs one healthy other; the last member is never removed", async () => {
        const [, m2, m3] = members;
        const ok = await leave("m2", m2.client);
        assert.strictEqual(ok.code, 0, ok.stdout + ok.stderr);
        assert.match(ok.stdout, /member [0-9a-f]+ removed; 1 left, 1 healthy \(quorum 1\)/);
        await stop(m2);
        assert.deepStrictEqual(names(m3.client), ["m3"]);
        const last = await leave("m3", m3.client);
        assert.strictEqual(last.code, 0, last.stderr);
        assert.match(last.stdout, /etcd leave m3: the last etcd member: the cluster goes with it; nothing to remove/);
        assert.deepStrictEqual(names(m3.client), ["m3"]);
    });
});
