// The policy pack (policy/) judging REAL previews: the Pulumi engine built from Go modules boots the
// pack through our Node.js language host (RunPlugin → @pulumi/pulumi's run-policy-pack, TypeScript
// through ts-node) and the openstack plugin previews against the real OpenStack API on loopback.
// A mandatory violation must block both `preview` and `up` (nothing created, checked through the
// OpenStack API); the clean local stack must pass and `up --policy-pack` must apply it.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { localOpenStackEnv, OpenStackApi } from "../support/openstack-api";

const REPO = path.resolve(__dirname, "../..");
const PACK = path.join(REPO, "policy");
const HOST_DIR = path.join(REPO, ".state/toolchain");

interface Run {
    code: number;
    out: string;
    seconds: number;
}

function sh(script: string, env: NodeJS.ProcessEnv = {}, echo = false): Run {
    const t0 = Date.now();
    const r = spawnSync("bash", ["-c", script], { cwd: REPO, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 28 });
    if (echo) process.stdout.write(r.stdout.replace(/^/gm, "      "));
    return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}`, seconds: (Date.now() - t0) / 1000 };
}

/** A project folder whose program is this repository, with the local stack's config under `name`. */
function project(name: string, edit: (platform: Record<string, any>) => void): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gw-policy-${name}-`));
    fs.mkdirSync(path.join(dir, "backend"));
    // The language host built from this checkout's sources (tools/toolchain/build.sh links it), not
    // whichever build last took the shared cache slot: the policy pack needs its RunPlugin.
    const languages = [{ name: "nodejs", path: HOST_DIR }];
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), stringify({ name: "groundwork", runtime: { name: "nodejs", options: { typescript: true } }, main: path.relative(dir, REPO), plugins: { languages } }));
    const doc = parse(fs.readFileSync(path.join(REPO, "stacks/Pulumi.local.yaml"), "utf8"));
    const platform = doc.config["groundwork:platform"];
    platform.name = name;
    platform.backends.openstack.network.name = `gw-${name}`;
    edit(platform);
    delete doc.encryptionsalt;
    fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), stringify(doc));
    return dir;
}

describe("policy pack on the real engine: a mandatory violation blocks, the clean stack passes", function () {
    let startedOpenStack = false;
    let api: OpenStackApi;
    const dirs: Record<string, string> = {};
    const timings: Record<string, number> = {};

    const pulumi = (name: string, args: string, echo = false): Run =>
        sh(`source tools/toolchain/env.sh && eval "$(tools/openstack/local.sh env)" && pulumi ${args} --stack ${name} --cwd '${dirs[name]}' --non-interactive --color never`, {
            PULUMI_BACKEND_URL: `file://${dirs[name]}/backend`,
            PULUMI_CONFIG_PASSPHRASE: "groundwork-local",
        }, echo);
    const must = (r: Run, what: string) => assert.strictEqual(r.code, 0, `${what} failed (${r.code}):\n${r.out.slice(-4000)}`);

    before(function () {
        this.timeout(3600_000);
        startedOpenStack = sh("bash tools/openstack/local.sh status").code !== 0;
        const prep = sh("bash tools/local.sh prepare", {}, true);
        assert.strictEqual(prep.code, 0, `local.sh prepare failed:\n${prep.out.slice(-3000)}`);
        timings.prepare = prep.seconds;
        assert.ok(fs.existsSync(path.join(HOST_DIR, "pulumi-language-nodejs")), `build.sh left no language host in ${HOST_DIR}`);
        // Violation: the admin CIDRs open SSH and the API server to the whole internet.
        dirs.pworld = project("pworld", (p) => (p.backends.openstack.adminCidrs = ["0.0.0.0/0"]));
        dirs.pclean = project("pclean", () => undefined);
        for (const name of Object.keys(dirs)) must(pulumi(name, "stack init --secrets-provider passphrase"), `stack init ${name}`);
        api = new OpenStackApi(localOpenStackEnv());
    });

    after(function () {
        this.timeout(600_000);
        for (const name of Object.keys(dirs)) {
            pulumi(name, "destroy --yes --skip-preview");
            sh(`rm -rf '${dirs[name]}'`);
        }
        if (startedOpenStack) sh("bash tools/openstack/local.sh stop");
        process.stdout.write(`      timings (s): ${JSON.stringify(timings)}\n`);
    });

    it("preview --policy-pack fails on SSH and the API server open to 0.0.0.0/0, with the pack's messages", () => {
        const r = pulumi("pworld", `preview --policy-pack '${PACK}'`);
        timings.violatingPreview = r.seconds;
        process.stdout.write(r.out.split("\n").filter((l) => /admin-ports|rule opens|groundwork@|error:|mandatory/.test(l)).map((l) => `      | ${l}\n`).join("") + `      | exit code ${r.code}\n`);
        assert.notStrictEqual(r.code, 0, r.out.slice(-3000));
        assert.match(r.out, /\[mandatory\] \[severity: critical\]\s+admin-ports-not-world-open\s+\(openstack:networking\/secGroupRule:SecGroupRule: pworld-openstack-rule-\d\)/);
        assert.ok(r.out.includes("rule opens tcp 22 (SSH) to 0.0.0.0/0; allow only the admin CIDRs (backends.openstack.adminCidrs)"), r.out.slice(-3000));
        assert.ok(r.out.includes("rule opens tcp 6443 (the Kubernetes API server) to 0.0.0.0/0; allow only the admin CIDRs (backends.openstack.adminCidrs)"), r.out.slice(-3000));
        assert.match(r.out, /preview failed|error: .*polic/i);
    });

    it("up --policy-pack of the violating stack is blocked before anything is created in OpenStack", async () => {
        const r = pulumi("pworld", `up --yes --policy-pack '${PACK}'`);
        assert.notStrictEqual(r.code, 0, r.out.slice(-3000));
        assert.ok(r.out.includes("rule opens tcp 22 (SSH) to 0.0.0.0/0"), r.out.slice(-3000));
        assert.deepStrictEqual(await api.servers("pworld-"), []);
        assert.deepStrictEqual(await api.securityGroups("pworld-"), []);
        assert.deepStrictEqual(await api.networks("gw-pworld"), []);
    });

    it("the clean local stack previews with the pack, reports no mandatory violation, and up --policy-pack applies it", async () => {
        const preview = pulumi("pclean", `preview --policy-pack '${PACK}'`);
        timings.cleanPreview = preview.seconds;
        must(preview, "clean preview");
        assert.match(preview.out, /groundwork@v0\.1\.0 \(local: /);
        assert.doesNotMatch(preview.out, /\[mandatory\]/);
        assert.doesNotMatch(preview.out, /rule opens tcp/);
        const up = pulumi("pclean", `up --yes --policy-pack '${PACK}'`);
        timings.cleanUp = up.seconds;
        must(up, "clean up");
        const servers = await api.servers("pclean-");
        assert.deepStrictEqual(servers.map((s) => [s.name, s.status]), [["pclean-cp-1", "ACTIVE"], ["pclean-general-1", "ACTIVE"]]);
        const [sg] = await api.securityGroups("pclean-openstack-nodes");
        const world = sg.security_group_rules.filter((rule) => rule.remote_ip_prefix === "0.0.0.0/0" && rule.direction === "ingress");
        assert.deepStrictEqual(world, []);
    });
});
