import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCli } from "../support/cli";

// The govc path against the real vSphere API simulator: vcsim and govc built from govmomi as a Go
// module (tools/vcsim/build.sh, cached), vcsim on loopback, its inventory read with `govc vm.info
// -json`, planned, and checked against what govc's own text output says.
const ROOT = path.resolve(__dirname, "../..");

describe("workloads/planner: govc JSON from vcsim (govmomi v0.46.3)", function () {
    let bin = "";
    let sim: ChildProcess | undefined;
    let env: NodeJS.ProcessEnv = {};
    const govc = (...args: string[]) => execFileSync(path.join(bin, "govc"), args, { env, encoding: "utf8", maxBuffer: 64 << 20 });

    before(async function () {
        this.timeout(30 * 60 * 1000); // a cold build of vcsim and govc takes minutes; cached, under a second
        const t0 = Date.now();
        bin = execFileSync("bash", [path.join(ROOT, "tools/vcsim/build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!;
        console.log(`      vcsim + govc ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        sim = spawn(path.join(bin, "vcsim"), ["-l", "127.0.0.1:0", "-cluster", "1", "-host", "2", "-vm", "2"], { stdio: ["ignore", "pipe", "pipe"] });
        const url = await new Promise<string>((resolve, reject) => {
            let out = "";
            const timer = setTimeout(() => reject(new Error(`vcsim printed no GOVC_URL in 60 s: ${out}`)), 60000);
            sim!.stdout!.on("data", (d) => {
                out += String(d);
                const m = /GOVC_URL=(\S+)/.exec(out);
                if (m) {
                    clearTimeout(timer);
                    resolve(m[1]);
                }
            });
            sim!.on("exit", (code) => reject(new Error(`vcsim exited with ${code}: ${out}`)));
        });
        env = { ...process.env, GOVC_URL: url, GOVC_INSECURE: "1" };
        // Two VMs of known, different sizes beside vcsim's default ones (1 vCPU, 32 MB).
        govc("vm.create", "-c", "8", "-m", "32768", "-on=false", "-host", "DC0_H0", "-net", "VM Network", "pg-main");
        govc("vm.create", "-c", "2", "-m", "4096", "-net", "VM Network", "-pool", "/DC0/host/DC0_C0/Resources", "rabbitmq-01");
    });

    after(() => {
        if (sim?.pid !== undefined && sim.exitCode === null) process.kill(sim.pid, "SIGTERM");
    });

    it("plans every VM vcsim has, at the sizes govc reports", async function () {
        this.timeout(120000);
        const paths = govc("find", "/", "-type", "m").trim().split("\n");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-vcsim-"));
        const file = path.join(dir, "vm-info.json");
        fs.writeFileSync(file, govc("vm.info", "-json", ...paths));
        const out = path.join(dir, "plan");
        const r = await runCli(["migrate", "plan", "--inventory", file, "--out", out]);
        assert.strictEqual(r.code, 0, r.stderr);
        // The oracle: govc's human-readable vm.info, a different output path of the real tool.
        const text = govc("vm.info", ...paths);
        const expected = [...text.matchAll(/^Name:\s+(\S+)[\s\S]*?^\s+Memory:\s+(\d+)MB[\s\S]*?^\s+CPU:\s+(\d+) vCPU/gm)].map((m) => [m[1], Number(m[3]), Number(m[2])]);
        assert.strictEqual(expected.length, paths.length);
        assert.strictEqual(paths.length, 6);
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8"));
        const got = plan.workloads.map((w: any) => [w.vm, w.vcpus, w.vmMemoryMiB]);
        const sort = (a: any[]) => [...a].sort((x, y) => String(x[0]).localeCompare(String(y[0])));
        assert.deepStrictEqual(sort(got), sort(expected));
        assert.strictEqual(plan.before.vcpus, expected.reduce((a, e) => a + (e[1] as number), 0));
        const byName = new Map<string, any>(plan.workloads.map((w: any) => [w.vm, w]));
        assert.deepStrictEqual([byName.get("pg-main").role, byName.get("pg-main").poweredOn], ["user-db", false]);
        assert.strictEqual(byName.get("rabbitmq-01").role, "queue");
        // vcsim puts its VMs on 3 hosts (DC0_H0, and the cluster's 2): the plan counts them from runtime.host.
        assert.strictEqual(plan.before.hosts, new Set(JSON.parse(fs.readFileSync(file, "utf8")).virtualMachines.map((v: any) => v.runtime.host.value)).size);
    });
});
