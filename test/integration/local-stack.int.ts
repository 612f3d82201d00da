// The local stack through the REAL Pulumi engine (CLI, language host and openstack plugin built
// from Go modules) against the REAL OpenStack API on loopback. Every claim is checked through the
// OpenStack API, not only through Pulumi's own outputs.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { localOpenStackEnv, OpenStackApi } from "../support/openstack-api";
import { REPO, Run, sh, shAsync } from "../support/sh";

const NAME = "itest";
const STACK = "itest";



describe("local stack: real Pulumi engine against the real OpenStack API", function () {
    let workDir: string;
    let configFile: string;
    let startedOpenStack = false;
    let api: OpenStackApi;
    const timings: Record<string, number> = {};

    /** `pulumi <args>` on the test's stack with the built toolchain and the local OpenStack's credentials. */
    const pulumiLine = (args: string) => `source tools/toolchain/env.sh && eval "$(tools/openstack/local.sh env)" && pulumi ${args} --stack ${STACK} --cwd '${workDir}' --non-interactive`;
    const pulumiEnv = () => ({ PULUMI_BACKEND_URL: `file://${workDir}/backend`, PULUMI_CONFIG_PASSPHRASE: "groundwork-local" });
    const pulumi = (args: string, echo = false): Run => {
        const r = sh(pulumiLine(args), pulumiEnv(), { echo: echo ? "stdout" : undefined });
        if (r.code !== 0 && !args.includes("--expect-no-changes")) throw new Error(`pulumi ${args} failed (${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
        return r;
    };
    const pulumiInBackground = (args: string): Promise<Run> => shAsync(pulumiLine(args), pulumiEnv());
    /** Waits (up to 10 minutes) until `check` holds, polling every 100 ms (a fault lands right after what it waits for). */
    const until = async (what: string, check: () => Promise<boolean>) => {
        const t0 = Date.now();
        while (!(await check())) {
            if (Date.now() - t0 > 600_000) throw new Error(`${what}: not within 10 minutes`);
            await new Promise((r) => setTimeout(r, 100));
        }
    };
    /** What OpenStack holds of the stack: servers (name, status), ports (name → the server bound). */
    const inventory = async () => {
        const servers = await api.servers(`${NAME}-`);
        const ports = await api.ports(`${NAME}-`);
        const byId = new Map(servers.map((x) => [x.id, x.name]));
        return { servers: servers.map((x) => `${x.name} ${x.status}`), ports: ports.map((p) => `${p.name} → ${byId.get(p.device_id) ?? (p.device_id || "nothing")}`), groups: (await api.securityGroups(`${NAME}-`)).length };
    };
    const setWorkers = (n: number) => {
        const doc = parse(fs.readFileSync(configFile, "utf8"));
        doc.config["groundwork:platform"].machines.workers.general.count = n;
        fs.writeFileSync(configFile, stringify(doc));
    };
    const previewSteps = () => {
        const out = JSON.parse(pulumi("preview --json").stdout) as { steps: { op: string; urn: string }[] };
        return out.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn.replace(/^.*::/, "")} ${s.urn.split("::")[2].split("$").pop()}`).sort();
    };

    before(function () {
        this.timeout(3600_000);
        startedOpenStack = sh("bash tools/openstack/local.sh status").code !== 0;
        const prep = sh("bash tools/local.sh prepare", {}, { echo: "stdout" });
        assert.strictEqual(prep.code, 0, `local.sh prepare failed:\n${prep.stderr.slice(-3000)}`);
        timings.prepare = prep.seconds;
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-itest-"));
        fs.mkdirSync(path.join(workDir, "backend"));
        // A project folder of its own whose program is this repository (package.json "main"), so the
        // test's stack config never lands in stacks/ and a user's own local stack is never touched.
        fs.writeFileSync(
            path.join(workDir, "Pulumi.yaml"),
            stringify({ name: "groundwork", runtime: { name: "nodejs", options: { typescript: true } }, main: path.relative(workDir, REPO) }),
        );
        // The local stack's config under another name.
        const doc = parse(fs.readFileSync(path.join(REPO, "stacks/Pulumi.local.yaml"), "utf8"));
        doc.config["groundwork:platform"].name = NAME;
        doc.config["groundwork:platform"].backends.openstack.network.name = `gw-${NAME}`;
        delete doc.encryptionsalt;
        configFile = path.join(workDir, `Pulumi.${STACK}.yaml`);
        fs.writeFileSync(configFile, stringify(doc));
        pulumi("stack init --secrets-provider passphrase");
        api = new OpenStackApi(localOpenStackEnv());
    });

    after(function () {
        this.timeout(600_000);
        if (workDir) {
            pulumi("destroy --yes --skip-preview");
            sh(`rm -rf '${workDir}'`);
        }
        if (startedOpenStack) sh("bash tools/openstack/local.sh stop");
        process.stdout.write(`      timings (s): ${JSON.stringify(timings)}\n`);
    });

    it("previews exactly the machines layer of the local stack", () => {
        const steps = previewSteps();
        const creates = (type: string) => steps.filter((s) => s.startsWith("create ") && s.endsWith(` ${type}`)).length;
        assert.strictEqual(creates("openstack:compute/instance:Instance"), 2);
        assert.strictEqual(creates("openstack:networking/port:Port"), 2);
        assert.strictEqual(creates("openstack:networking/network:Network"), 1);
        assert.strictEqual(creates("openstack:compute/serverGroup:ServerGroup"), 1);
        assert.strictEqual(creates("openstack:networking/secGroupRule:SecGroupRule"), 9);
        assert.ok(steps.every((s) => s.startsWith("create ")), steps.join("\n"));
    });

    it("pulumi up creates the servers, ports, security group and server group — seen through the OpenStack API", async () => {
        const up = pulumi("up --yes --skip-preview", true);
        timings.up = up.seconds;
        const servers = await api.servers(`${NAME}-`);
        assert.deepStrictEqual(servers.map((s) => [s.name, s.status]), [[`${NAME}-cp-1`, "ACTIVE"], [`${NAME}-general-1`, "ACTIVE"]]);
        assert.strictEqual(servers[0].metadata["groundwork:role"], "control-plane");
        const ports = await api.ports(`${NAME}-`);
        assert.deepStrictEqual(ports.map((p) => [p.name, p.fixed_ips.map((f) => f.ip_address)]), [[`${NAME}-cp-1`, ["10.42.0.16"]], [`${NAME}-general-1`, ["10.42.0.32"]]]);
        assert.deepStrictEqual(ports.map((p) => p.device_id).sort(), servers.map((s) => s.id).sort());
        const [sg] = await api.securityGroups(`${NAME}-openstack-nodes`);
        assert.ok(ports.every((p) => p.security_groups.includes(sg.id)));
        const ingress = sg.security_group_rules.filter((r) => r.direction === "ingress").map((r) => `${r.protocol}/${r.port_range_min}-${r.port_range_max} ${r.remote_ip_prefix}`).sort();
        assert.deepStrictEqual(ingress, [
            "tcp/10250-10250 10.42.0.0/24",
            "tcp/179-179 10.42.0.0/24",
            "tcp/22-22 10.42.0.0/24",
            "tcp/22-22 127.0.0.1/32",
            "tcp/2379-2380 10.42.0.0/24",
            "tcp/5473-5473 10.42.0.0/24",
            "tcp/6443-6443 10.42.0.0/24",
            "tcp/6443-6443 127.0.0.1/32",
            "udp/4789-4789 10.42.0.0/24",
        ]);
        const [group] = await api.serverGroups(`${NAME}-openstack-control-plane`);
        assert.deepStrictEqual([group.policy ?? group.policies?.[0], group.members], ["anti-affinity", [servers[0].id]]);
        assert.strictEqual((await api.networks(`gw-${NAME}`)).length, 1);
    });

    it("a second pulumi up reports no changes", () => {
        const again = pulumi("up --yes --expect-no-changes");
        timings.secondUp = again.seconds;
        assert.strictEqual(again.code, 0, again.stdout.slice(-2000));
        assert.match(again.stdout, /\d+ unchanged/);
        assert.doesNotMatch(again.stdout, /\d+ (to )?(create|update|replace|delete)/);
    });

    it("raising the worker count adds exactly that server and changes nothing else", async () => {
        setWorkers(2);
        const steps = previewSteps();
        assert.deepStrictEqual(steps, [
            "create itest-general-2 groundwork:machines:OpenStackMachine",
            "create itest-general-2-port openstack:networking/port:Port",
            "create itest-general-2-server openstack:compute/instance:Instance",
        ]);
        const up = pulumi("up --yes --skip-preview");
        timings.scaleOut = up.seconds;
        const servers = await api.servers(`${NAME}-`);
        assert.deepStrictEqual(servers.map((s) => s.name), [`${NAME}-cp-1`, `${NAME}-general-1`, `${NAME}-general-2`]);
        const ports = await api.ports(`${NAME}-general-2`);
        assert.deepStrictEqual(ports[0].fixed_ips.map((f) => f.ip_address), ["10.42.0.33"]);
    });

    // Faults (issue 12, item 5): an API service killed in the middle of `pulumi up` (as a crash
    // would, KILL: tools/openstack/local.sh kill), the up fails; with the service back (revive) the
    // next up converges, and OpenStack holds exactly the stack: no second server, no unbound port.
    for (const [service, worker, afterPort] of [
        ["nova-api", 3, "the new port exists (the server is next)"],
        ["neutron", 4, "the new port exists (nova binds it to the server through neutron)"],
    ] as const) {
        it(`${service} killed in the middle of pulumi up: the up fails; with ${service} back the next up converges, nothing orphaned, the state intact`, async function () {
            this.timeout(1800_000);
            setWorkers(worker);
            const running = pulumiInBackground("up --yes --skip-preview");
            const port = `${NAME}-general-${worker}`;
            await until(afterPort, async () => (await api.ports(port)).length > 0);
            const killed = sh(`bash tools/openstack/local.sh kill ${service}`);
            assert.strictEqual(killed.code, 0, killed.stderr);
            const failed = await running;
            timings[`${service}Fault`] = failed.seconds;
            assert.notStrictEqual(failed.code, 0, `pulumi up went through with ${service} killed:\n${failed.stdout.slice(-2000)}`);
            const revived = sh("bash tools/openstack/local.sh revive");
            assert.strictEqual(revived.code, 0, revived.stdout + revived.stderr);
            assert.match(revived.stdout, new RegExp(`${service} up again`));
            const again = pulumi("up --yes --skip-preview");
            timings[`${service}Recovered`] = again.seconds;
            const inv = await inventory();
            const names = ["cp-1", ...Array.from({ length: worker }, (_, i) => `general-${i + 1}`)].map((n) => `${NAME}-${n}`);
            assert.deepStrictEqual(inv.servers, names.map((n) => `${n} ACTIVE`), JSON.stringify(inv));
            assert.deepStrictEqual(inv.ports, names.map((n) => `${n} → ${n}`), JSON.stringify(inv));
            assert.strictEqual(inv.groups, 1);
            // The state: no operation left pending, and a further up changes nothing.
            const state = JSON.parse(pulumi("stack export").stdout) as { deployment: { pending_operations?: unknown[] } };
            assert.deepStrictEqual(state.deployment.pending_operations ?? [], []);
            const quiet = pulumi("up --yes --expect-no-changes");
            assert.strictEqual(quiet.code, 0, quiet.stdout.slice(-2000));
        });
    }

    it("a server deleted out of band: pulumi refresh finds it gone and the next up recreates it alone", async () => {
        const [victim] = (await api.servers(`${NAME}-general-1`)).filter((x) => x.name === `${NAME}-general-1`);
        await api.send("DELETE", "compute", `/servers/${victim.id}`);
        await until("the server is gone", async () => (await api.servers(`${NAME}-general-1`)).every((x) => x.name !== `${NAME}-general-1`));
        const refresh = pulumi("refresh --yes --skip-preview");
        timings.refresh = refresh.seconds;
        assert.ok(!pulumi("stack export").stdout.includes("::itest-general-1-server\""), "the refreshed state still holds the deleted server");
        assert.deepStrictEqual(previewSteps(), ["create itest-general-1-server openstack:compute/instance:Instance"]);
        pulumi("up --yes --skip-preview");
        const inv = await inventory();
        assert.ok(inv.servers.includes(`${NAME}-general-1 ACTIVE`), JSON.stringify(inv));
        assert.ok(inv.ports.includes(`${NAME}-general-1 → ${NAME}-general-1`), JSON.stringify(inv));
        assert.strictEqual(inv.servers.length, 5);
    });

    it("pulumi destroy leaves nothing behind in OpenStack", async () => {
        const down = pulumi("destroy --yes --skip-preview");
        timings.destroy = down.seconds;
        assert.deepStrictEqual(await api.servers(`${NAME}-`), []);
        assert.deepStrictEqual(await api.ports(`${NAME}-`), []);
        assert.deepStrictEqual(await api.securityGroups(`${NAME}-`), []);
        assert.deepStrictEqual(await api.serverGroups(`${NAME}-`), []);
        assert.deepStrictEqual(await api.networks(`gw-${NAME}`), []);
    });
});
