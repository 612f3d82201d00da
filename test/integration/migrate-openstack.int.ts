// `groundwork migrate plan --openstack` against the REAL OpenStack API on loopback
// (tools/openstack/local.sh): create servers of known flavors and metadata through nova, plan,
// and check the plan against the flavors and what nova lists.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCli } from "../support/cli";
import { localOpenStackEnv, OpenStackApi } from "../support/openstack-api";

const REPO = path.resolve(__dirname, "../..");
const PREFIX = "gwmig-";
const sh = (script: string) => spawnSync("bash", ["-c", script], { cwd: REPO, encoding: "utf8" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("migrate plan --openstack: the real OpenStack API", function () {
    let started = false;
    let api: OpenStackApi;
    let env: Record<string, string>;
    const ids: string[] = [];

    before(async function () {
        this.timeout(1800_000);
        started = sh("bash tools/openstack/local.sh status").status !== 0;
        if (started) {
            const r = sh("bash tools/openstack/local.sh start");
            assert.strictEqual(r.status, 0, `local.sh start failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
        }
        env = localOpenStackEnv();
        api = new OpenStackApi(env);
        const flavors = new Map((await api.get<{ flavors: { id: string; name: string }[] }>("compute", "/flavors")).flavors.map((f) => [f.name, f.id]));
        const image = (await api.get<{ images: { id: string; name: string }[] }>("image", "/v2/images?name=debian-12")).images[0];
        // gw.small (1 vCPU, 1024 MiB) and gw.medium (2 vCPUs, 2048 MiB) are made by tools/openstack/local.sh.
        const servers: [string, string, Record<string, string>][] = [
            [`${PREFIX}pg-1`, "gw.medium", { cpu_p95: "20", mem_p95: "50" }],
            [`${PREFIX}site-1`, "gw.small", { role: "static-site" }],
            [`${PREFIX}mq-1`, "gw.small", { ports: "5672" }],
        ];
        for (const [name, flavor, metadata] of servers) {
            const r = await api.send("POST", "compute", "/servers", { server: { name, flavorRef: flavors.get(flavor), imageRef: image.id, networks: "none", metadata } });
            ids.push(r.server.id);
        }
        for (let i = 0; i < 150; i++) {
            const mine = await api.servers(PREFIX);
            if (mine.length === servers.length && mine.every((s) => s.status === "ACTIVE")) return;
            if (mine.some((s) => s.status === "ERROR")) throw new Error(`a server went to ERROR: ${JSON.stringify(mine.map((s) => [s.name, s.status]))}`);
            await sleep(2000);
        }
        throw new Error("the servers did not become ACTIVE in 5 min");
    });

    after(async function () {
        this.timeout(600_000);
        for (const id of ids) await api.send("DELETE", "compute", `/servers/${id}`).catch(() => undefined);
        for (let i = 0; i < 60 && (await api.servers(PREFIX)).length > 0; i++) await sleep(2000);
        if (started) sh("bash tools/openstack/local.sh stop");
    });

    it("plans every server nova lists, at its flavor's size, with roles from names, metadata and ports", async () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "gw-migrate-os-"));
        const saved = { ...process.env };
        Object.assign(process.env, env);
        let r;
        try {
            r = await runCli(["migrate", "plan", "--openstack", "--out", out]);
        } finally {
            for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
        }
        assert.strictEqual(r.code, 0, r.stderr);
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8"));
        const all = await api.get<{ servers: unknown[] }>("compute", "/servers/detail");
        assert.strictEqual(plan.workloads.length, all.servers.length);
        const mine = plan.workloads.filter((w: any) => w.vm.startsWith(PREFIX)).map((w: any) => [w.vm, w.vcpus, w.vmMemoryMiB, w.role, w.cpuMillis, w.memoryMiB]);
        assert.deepStrictEqual(mine, [
            // 2000 m × 20 % × 1.3 = 520 m; 2048 MiB × 50 % × 1.3 − 256 = 1075.2 → 1076 MiB.
            [`${PREFIX}mq-1`, 1, 1024, "queue", 1000, 768],
            [`${PREFIX}pg-1`, 2, 2048, "user-db", 520, 1076],
            [`${PREFIX}site-1`, 1, 1024, "static-site", 1000, 768],
        ]);
    });
});
