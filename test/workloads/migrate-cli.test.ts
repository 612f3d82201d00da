import * as assert from "assert";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { stackFilePath } from "../../cli/stackfile";
import { runCli, writeStackFile } from "../support/cli";

const FIX = path.resolve(__dirname, "../fixtures/migrate");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gw-migrate-"));

describe("groundwork migrate plan", () => {
    it("plans the 200-VM inventory: every VM on exactly one node, no node over its allocatable, ≥ the lower bound", async () => {
        const out = tmp();
        const r = await runCli(["migrate", "plan", "--inventory", path.join(FIX, "inventory-200.csv"), "--out", out, "--overrides", path.join(FIX, "overrides.yaml")]);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.deepStrictEqual(fs.readdirSync(out).sort(), ["fragment.yaml", "plan.json", "plan.md", "plan.svg"]);
        assert.strictEqual(r.stderr, "overrides: ghost-vm: no VM of that name in the inventory; override unused\n");
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8"));
        // Independent oracle: the CSV's own lines and columns.
        const rows = fs.readFileSync(path.join(FIX, "inventory-200.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
        assert.strictEqual(plan.workloads.length, 200);
        assert.deepStrictEqual(plan.workloads.map((w: any) => [w.vm, w.vcpus, w.vmMemoryMiB]), rows.map((c) => [c[0], Number(c[1]), Number(c[2].replace(" GiB", "")) * 1024]));
        assert.strictEqual(plan.before.vcpus, rows.reduce((a, c) => a + Number(c[1]), 0));
        const chosen = plan.options.find((o: any) => o.size.name === plan.chosen);
        const placed = chosen.nodes.flat().sort();
        assert.deepStrictEqual(placed, plan.workloads.map((w: any) => w.name).sort());
        const req = new Map<string, any>(plan.workloads.map((w: any) => [w.name, w]));
        let cpu = 0;
        let mem = 0;
        for (const node of chosen.nodes) {
            const c = node.reduce((a: number, n: string) => a + req.get(n).cpuMillis, 0);
            const m = node.reduce((a: number, n: string) => a + req.get(n).memoryMiB, 0);
            assert.ok(c <= chosen.allocatable.cpuMillis && m <= chosen.allocatable.memoryMiB, `node over capacity: ${c} m, ${m} MiB`);
            cpu += c;
            mem += m;
        }
        assert.ok(chosen.nodes.length >= Math.max(Math.ceil(cpu / chosen.allocatable.cpuMillis), Math.ceil(mem / chosen.allocatable.memoryMiB)));
        assert.strictEqual(plan.after.machines, chosen.nodes.length + 1, "N+1: one spare");
        assert.strictEqual(req.get("misc-001").role, "web-api");
        assert.strictEqual(req.get("misc-001").reason, "override");
        const md = fs.readFileSync(path.join(out, "plan.md"), "utf8");
        assert.match(md, /Felter/);
        assert.match(md, /p95 \d+(\.\d)? % \+ 30 % headroom/);
        const svg = fs.readFileSync(path.join(out, "plan.svg"), "utf8");
        assert.strictEqual((svg.match(/<title>worker-\d+: CPU/g) ?? []).length, chosen.nodes.length);
        assert.strictEqual((svg.match(/<title>spare-1: empty failover spare<\/title>/g) ?? []).length, 1);
    });

    it("fragment.yaml's worker group passes `groundwork validate` inside the prod stack; apps lists every classified VM", async () => {
        const out = tmp();
        const r = await runCli(["migrate", "plan", "--inventory", path.join(FIX, "inventory-200.csv"), "--out", out, "--worker-sizes", "m1.xlarge=16x64,m1.2xlarge=32x128"]);
        assert.strictEqual(r.code, 0, r.stderr);
        const fragment = parse(fs.readFileSync(path.join(out, "fragment.yaml"), "utf8")).config["groundwork:platform"];
        const group = fragment.machines.workers.migrated;
        assert.strictEqual(group.flavor, "m1.2xlarge");
        const config = parse(fs.readFileSync(stackFilePath("prod"), "utf8")).config;
        const p = config["groundwork:platform"];
        // The migrated group takes over the "workers" pool that prod's general group used.
        p.machines.workers = { ingress: p.machines.workers.ingress, ...fragment.machines.workers };
        const v = await runCli(["validate", "--stack-file", writeStackFile(config)]);
        assert.strictEqual(v.code, 0, v.stderr);
        assert.match(v.stdout, new RegExp(`3 control plane, ${group.count + 2} workers on openstack`));
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8"));
        const classified = plan.workloads.filter((w: any) => w.role !== "unclassified");
        assert.strictEqual(Object.keys(fragment.apps.workloads).length, classified.length);
        assert.deepStrictEqual(fragment.apps.workloads["pg-001"], { role: "user-db", replicas: 1, cpuMillis: plan.workloads[0].cpuMillis, memoryMiB: plan.workloads[0].memoryMiB, storageGiB: 200 });
    });

    it("a vSphere fragment (cpus, memoryMiB, diskGiB) passes `groundwork validate` inside the customer-dc stack", async () => {
        const out = tmp();
        const r = await runCli(["migrate", "plan", "--inventory", path.join(FIX, "inventory-200.csv"), "--out", out, "--backend", "vsphere", "--pool", "migrated", "--group", "vms", "--disk-gib", "120"]);
        assert.strictEqual(r.code, 0, r.stderr);
        const fragment = parse(fs.readFileSync(path.join(out, "fragment.yaml"), "utf8")).config["groundwork:platform"];
        const group = fragment.machines.workers.vms;
        assert.deepStrictEqual([group.backend, group.pool, group.cpus, group.memoryMiB, group.diskGiB, group.flavor], ["vsphere", "migrated", 32, 131072, 120, undefined]);
        const config = parse(fs.readFileSync(stackFilePath("customer-dc"), "utf8")).config;
        const p = config["groundwork:platform"];
        p.network.pools.migrated = "172.16.8.128/26";
        Object.assign(p.machines.workers, fragment.machines.workers);
        const v = await runCli(["validate", "--stack-file", writeStackFile(config)]);
        assert.strictEqual(v.code, 0, v.stderr);
        assert.match(v.stdout, new RegExp(`3 control plane, ${group.count + 3} workers, 1 registry on baremetal\\+vsphere`));
    });

    it("a bad inventory: one line per bad row, the rest planned (exit 0), exit 2 with --strict", async () => {
        const out = tmp();
        const r = await runCli(["migrate", "plan", "--inventory", path.join(FIX, "bad.csv"), "--out", out]);
        assert.strictEqual(r.code, 0);
        const lines = r.stderr.trim().split("\n");
        assert.strictEqual(lines.length, 6);
        assert.ok(lines[0].endsWith('bad.csv:5: broken-01: memory "4 GB?": not a size; write a number with an optional unit MiB, GiB or TiB (MB, GB, TB read as binary), e.g. "8 GiB"; left out'), lines[0]);
        assert.match(r.stdout, /^planned 4 VMs .*; 6 left out; wrote plan.md/);
        assert.strictEqual(JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")).issues.length, 6);
        const strict = await runCli(["migrate", "plan", "--inventory", path.join(FIX, "bad.csv"), "--out", tmp(), "--strict"]);
        assert.strictEqual(strict.code, 2);
    });

    it("exit 2 and no plan when nothing safe can be planned: unreadable file, unreachable API, bad overrides, bad flags", async () => {
        const out = path.join(tmp(), "plan");
        const missing = await runCli(["migrate", "plan", "--inventory", "/nonexistent/inv.csv", "--out", out]);
        assert.deepStrictEqual([missing.code, missing.stderr], [2, "/nonexistent/inv.csv: cannot read: ENOENT\n/nonexistent/inv.csv: no plan written\n"]);
        assert.ok(!fs.existsSync(out));
        // A loopback port nobody listens on: bind one, then close it.
        const srv = net.createServer();
        await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok));
        const port = (srv.address() as net.AddressInfo).port;
        await new Promise((ok) => srv.close(ok));
        const saved = { ...process.env };
        Object.assign(process.env, { OS_AUTH_URL: `http://127.0.0.1:${port}/v3`, OS_USERNAME: "u", OS_PASSWORD: "p", OS_PROJECT_NAME: "demo" });
        try {
            const api = await runCli(["migrate", "plan", "--openstack", "--out", out]);
            assert.deepStrictEqual([api.code, api.stderr], [2, `openstack: keystone: cannot reach http://127.0.0.1:${port}/v3/auth/tokens: ECONNREFUSED\nopenstack http://127.0.0.1:${port}/v3 project demo: no plan written\n`]);
        } finally {
            for (const k of ["OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME"]) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
        }
        const o = path.join(tmp(), "o.yaml");
        fs.writeFileSync(o, "pg-001: datbase\n");
        const bad = await runCli(["migrate", "plan", "--inventory", path.join(FIX, "inventory-200.csv"), "--out", out, "--overrides", o]);
        assert.deepStrictEqual([bad.code, bad.stderr], [2, `${o}:1: pg-001: role "datbase" is not one of analytics-db, user-db, queue, web-api, static-site, unclassified\n`]);
        const flag = await runCli(["migrate", "plan", "--inventory", path.join(FIX, "inventory-200.csv"), "--out", out, "--worker-sizes", "big=lots"]);
        assert.deepStrictEqual([flag.code, flag.stderr], [2, 'groundwork migrate: --worker-sizes: "big=lots" is not NAME=CPUSxGIB (e.g. m1.xlarge=8x32)\n']);
        assert.ok(!fs.existsSync(out));
    });
});
