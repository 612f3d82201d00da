// The local stack through the REAL Pulumi engine (CLI, language host and openstack plugin built
// from Go modules) against the REAL OpenStack API on loopback. Every claim is checked through the
// OpenStack API, not only through Pulumi's own outputs.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { localOpenStackEnv, OpenStackApi } from "../support/openstack-api";
import { REPO, Run, sh } from "../support/sh";

const NAME = "itest";
const STACK = "itest";



describe("local stack: real Pulumi engine against the real OpenStack API", function () {
    let workDir: string;
    let configFile: string;
    let startedOpenStack = false;
    let api: OpenStackApi;
    const timings: Record<string, number> = {};

    const pulumi = (args: string, echo = false): Run => {
        const r = sh(`source tools/toolchain/env.sh && eval "$(tools/openstack/local.sh env)" && pulumi ${args} --stack ${STACK} --cwd '${workDir}' --non-interactive`, {
            PULUMI_BACKEND_URL: `file://${workDir}/backend`,
            PULUMI_CONFIG_PASSPHRASE: "groundwork-local",
        }, { echo: echo ? "stdout" : undefined });
        if (r.code !== 0 && !args.includes("--expect-no-changes")) throw new Error(`pulumi ${args} failed (${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
        return r;
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
