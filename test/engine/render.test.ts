import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { parse, parseAllDocuments } from "yaml";
import { ENGINE_PROVIDER, PartsProvider, partsProviders, renderStack } from "../../cli/commands/render";
import { loadStackFile, stackFilePath, stackNames } from "../../cli/stackfile";
import { BOOTSTRAP_PATH, placeholder } from "../../components/engine/bootstrap";
import { engineConfig } from "../../components/engine/config";
import { PlatformSpec } from "../../components/platform/config";
import { runCli, writeStackFile } from "../support/cli";

const run = promisify(execFile);

function spec(name: string): PlatformSpec {
    const s = loadStackFile(stackFilePath(name)).spec;
    if (!s) throw new Error(`example stack ${name} does not validate`);
    return s;
}

function tmp(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "gw-render-"));
}

/** Every file under dir, relative path → content. */
function tree(dir: string): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out.set(path.relative(dir, p), fs.readFileSync(p, "utf8"));
        }
    };
    walk(dir);
    return out;
}

/** Runs fn over items, at most `limit` at a time. */
async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    await Promise.all(
        Array.from({ length: Math.min(limit, items.length) }, async () => {
            while (next < items.length) {
                const i = next++;
                results[i] = await fn(items[i]);
            }
        }),
    );
    return results;
}

describe("cli: groundwork render", () => {
    it("writes user-data per machine, bootstrap.sh for bare metal, and plan.json", async () => {
        const out = tmp();
        const r = await runCli(["render", "--stack", "customer-dc", "--out", out]);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /rendered 7 machine\(s\) of stack cdc into .*: 7 user-data, 3 bootstrap\.sh, plan\.json/);
        const files = [...tree(out).keys()];
        assert.strictEqual(files.filter((f) => f.endsWith("/user-data")).length, 7);
        assert.deepStrictEqual(files.filter((f) => f.endsWith("/bootstrap.sh")), ["cdc-metal-01/bootstrap.sh", "cdc-metal-02/bootstrap.sh", "cdc-metal-03/bootstrap.sh"]);
        assert.strictEqual(fs.statSync(path.join(out, "cdc-metal-01/bootstrap.sh")).mode & 0o777, 0o755);
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8"));
        assert.strictEqual(plan.machines.length, 7);
        assert.deepStrictEqual(plan.machines.find((m: { name: string }) => m.name === "cdc-metal-02").delivery, "ssh");
        assert.strictEqual(plan.engine.packageSource, "http://172.16.8.5/debian");
        // The standalone registry is air-gapped: the sandbox image comes from it.
        assert.strictEqual(plan.engine.sandboxImage, "registry.cdc.customer.example:5000/pause:3.10");
        assert.ok(plan.placeholders["@@GROUNDWORK:registry-ca@@"], "the deploy-time CA is a named placeholder");
    });

    it("writes the workloads' objects to workloads.yaml (prod: by docker.io names, which nodes pull through Harbor's dockerhub project; placeholders for credentials); none for local", async () => {
        const out = tmp();
        const r = await runCli(["render", "--stack", "prod", "--out", out]);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /plan\.json, workloads\.yaml \(25 objects\)\n/);
        const docs = parseAllDocuments(fs.readFileSync(path.join(out, "workloads.yaml"), "utf8")).map((d) => d.toJS());
        assert.strictEqual(docs.length, 25);
        assert.deepStrictEqual(docs[0], { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps", labels: { "app.kubernetes.io/managed-by": "groundwork" } } });
        const users = docs.find((d) => d.kind === "StatefulSet" && d.metadata.name === "users");
        assert.strictEqual(users.spec.template.spec.containers[0].image, "docker.io/library/postgres:17.6");
        assert.strictEqual(users.spec.volumeClaimTemplates[0].spec.storageClassName, "cinder-ssd");
        assert.deepStrictEqual(users.spec.volumeClaimTemplates[0].spec.resources, { requests: { storage: "200Gi" } });
        const secret = docs.find((d) => d.kind === "Secret" && d.metadata.name === "users-credentials");
        assert.strictEqual(secret.stringData.POSTGRES_PASSWORD, `generated-${"x".repeat(22)}`);
        const local = tmp();
        await runCli(["render", "--stack", "local", "--out", local]);
        assert.strictEqual(fs.existsSync(path.join(local, "workloads.yaml")), false);
    });

    it("gives bare metal the very same script that cloud-init runs on VMs", () => {
        const rendered = renderStack(spec("customer-dc"));
        for (const m of rendered.machines.filter((x) => x.machine.backend === "baremetal")) {
            const userData = parse(rendered.files.get(`${m.machine.name}/user-data`)!);
            assert.strictEqual(userData.write_files[0].path, BOOTSTRAP_PATH);
            assert.strictEqual(userData.write_files[0].content, rendered.files.get(`${m.machine.name}/bootstrap.sh`));
        }
    });

    it("produces byte-identical output on two runs", async () => {
        const [a, b] = [tmp(), tmp()];
        for (const out of [a, b]) assert.strictEqual((await runCli(["render", "--stack", "prod", "--out", out])).code, 0);
        const ta = tree(a);
        assert.strictEqual(ta.size, 14, "11 user-data, plan.json, workloads.yaml and the .groundwork-render marker");
        assert.deepStrictEqual(tree(b), ta);
    });

    it("lists the deploy-time placeholders the cluster layer leaves, with what fills them; no user-data holds join material", () => {
        const rendered = renderStack(spec("dev"));
        const plan = rendered.plan as { placeholders: Record<string, string>; machines: { name: string; placeholders: string[]; parts: string[]; joinMaterial: string[] }[]; joinMaterial: { path: string; delivery: string; values: Record<string, string> } };
        assert.deepStrictEqual(Object.keys(plan.placeholders), ["@@GROUNDWORK:cluster-ca@@", "@@GROUNDWORK:cluster-ca-hash@@", "@@GROUNDWORK:deploy-ssh-key@@"]);
        const byName = Object.fromEntries(plan.machines.map((m) => [m.name, m]));
        assert.deepStrictEqual(byName["dev-cp-1"].placeholders, ["cluster-ca", "cluster-ca-hash", "deploy-ssh-key"]);
        assert.deepStrictEqual(byName["dev-general-1"].placeholders, ["cluster-ca", "cluster-ca-hash", "deploy-ssh-key"]);
        assert.deepStrictEqual(byName["dev-cp-1"].parts.slice(-6), ["engine/service", "kubernetes/key", "kubernetes", "metadata-guard", "kubeadm", "kubernetes/certificates"]);
        // Join material comes over SSH into a root-only file, listed per machine.
        assert.deepStrictEqual(byName["dev-cp-1"].joinMaterial, ["token", "certificate-key", "ca-key"]);
        assert.deepStrictEqual(byName["dev-general-1"].joinMaterial, ["token"]);
        assert.deepStrictEqual([plan.joinMaterial.path, plan.joinMaterial.delivery], ["/etc/groundwork/join.env", "ssh"]);
        for (const [file, content] of rendered.files) {
            if (!file.endsWith("/user-data")) continue;
            assert.doesNotMatch(content, /cluster-ca-key|bootstrap-token|certificate-key@@|PRIVATE KEY/, file);
        }
    });

    it("plan.json calls a value a Pulumi secret only when it is one (every example stack)", () => {
        // Hand-checked: the placeholders whose values are Pulumi secrets are the standalone
        // registry's password (random.RandomPassword.result) and its TLS key (tls.PrivateKey); certificates, hashes, public keys are public.
        const SECRET_IN_STATE = new Set(["registry-password", "registry-key"]);
        const claims = (text: string) => /secret/i.test(text) && !/\(public\)/.test(text);
        for (const stack of ["local", "dev", "qa", "prod", "customer-dc"]) {
            const plan = renderStack(spec(stack)).plan as { placeholders: Record<string, string> };
            for (const [key, text] of Object.entries(plan.placeholders)) {
                const name = key.replace(/^@@GROUNDWORK:(.*)@@$/, "$1");
                assert.strictEqual(claims(text), SECRET_IN_STATE.has(name), `${stack}: ${name}: "${text}"`);
            }
        }
    });

    it("plan.json's part digests name what a change touches: a label on the workers changes their kubeadm part alone", () => {
        const guestStack = path.join(__dirname, "../guest/stacks/Pulumi.guest-cluster.yaml");
        const raw = parse(fs.readFileSync(guestStack, "utf8")).config;
        const digestsOf = (config: Record<string, unknown>) => {
            const loaded = loadStackFile(writeStackFile(config));
            assert.deepStrictEqual(loaded.problems, []);
            const plan = renderStack(loaded.spec!).plan as { machines: { name: string; parts: string[]; digests: Record<string, string> }[] };
            return Object.fromEntries(plan.machines.map((m) => [m.name, m]));
        };
        const before = digestsOf(raw);
        const labelled = structuredClone(raw);
        labelled["groundwork:platform"].machines.workers.general.labels = { "node.groundwork.io/rack": "r7" };
        const after = digestsOf(labelled);
        // One digest per part, under the part's name, 12 hex digits.
        for (const m of Object.values(before)) {
            assert.deepStrictEqual(Object.keys(m.digests), m.parts, m.name);
            for (const d of Object.values(m.digests)) assert.match(d, /^[0-9a-f]{12}$/);
        }
        const changed = Object.keys(before).flatMap((name) => Object.keys(before[name].digests).filter((part) => before[name].digests[part] !== after[name].digests[part]).map((part) => `${name} ${part}`));
        // The cluster test's day 2 saw it on the real worker: only its join template was written (1 change).
        assert.deepStrictEqual(changed, ["gwk-worker-1 kubeadm"]);
    });

    it("an extra layer's provider plugs in after the others, its placeholders described", () => {
        const fake: PartsProvider = {
            layer: "workloads",
            placeholders: { "app-token": "an app token (random, per deploy)" },
            parts: ({ machine }) => [{ name: "workloads/join", files: [{ path: "/etc/groundwork/app.yaml", content: `token: ${placeholder("app-token")}\nnode: ${machine.name}\n` }], script: "" }],
        };
        const rendered = renderStack(spec("dev"), [...partsProviders(), fake]);
        const plan = rendered.plan as { placeholders: Record<string, string>; machines: { placeholders: string[]; parts: string[] }[] };
        assert.strictEqual(plan.placeholders["@@GROUNDWORK:app-token@@"], "an app token (random, per deploy)");
        assert.deepStrictEqual(plan.machines[0].parts.slice(-3), ["kubeadm", "kubernetes/certificates", "workloads/join"]);
        assert.match(rendered.files.get("dev-cp-1/user-data")!, /token: @@GROUNDWORK:app-token@@/);
    });

    it("the standalone registry machine gets the registry's parts, not a node's", () => {
        const m = renderStack(spec("customer-dc")).machines.find((x) => x.machine.role === "registry")!;
        assert.ok(m.parts.some((p) => p.startsWith("registry")), m.parts.join(", "));
        assert.ok(!m.parts.includes("kubeadm") && !m.parts.includes("engine/service"), m.parts.join(", "));
        assert.match(m.script, /@@GROUNDWORK:registry-password-bcrypt@@/);
    });

    it("nodes of a standalone-registry stack pull with a password placeholder in a 0600 config.toml, listed in plan.json", async () => {
        const out = tmp();
        assert.strictEqual((await runCli(["render", "--stack", "customer-dc", "--out", out])).code, 0);
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8"));
        assert.match(plan.placeholders["@@GROUNDWORK:registry-password@@"], /random\.RandomPassword, a Pulumi secret/);
        const authTable = [
            "",
            '[plugins."io.containerd.grpc.v1.cri".registry.configs."registry.cdc.customer.example:5000".auth]',
            '  username = "groundwork"',
            '  password = "@@GROUNDWORK:registry-password@@"',
            "GROUNDWORK_EOF",
        ].join("\n");
        const nodes = plan.machines.filter((m: { role: string }) => m.role !== "registry");
        assert.strictEqual(nodes.length, 6);
        for (const m of nodes) {
            const script = parse(fs.readFileSync(path.join(out, m.name, "user-data"), "utf8")).write_files[0].content as string;
            const toml = /^gw_put '\/etc\/containerd\/config\.toml' (0[0-7]{3}) <<'GROUNDWORK_EOF'\n[\s\S]*?\nGROUNDWORK_EOF$/m.exec(script);
            assert.ok(toml, `${m.name}: no config.toml`);
            assert.strictEqual(toml[1], "0600", m.name);
            assert.ok(toml[0].endsWith(authTable), `${m.name}: ${toml[0].slice(-300)}`);
            assert.ok(m.placeholders.includes("registry-password"), m.name);
        }
        const registry = plan.machines.find((m: { role: string }) => m.role === "registry");
        assert.ok(!registry.placeholders.includes("registry-password"), "the registry machine only sees the bcrypt hash");
        // Without a standalone registry there is no credential and no such placeholder.
        const dev = renderStack(spec("dev"));
        assert.strictEqual((dev.plan as { placeholders: Record<string, string> }).placeholders["@@GROUNDWORK:registry-password@@"], undefined);
        assert.match(dev.files.get("dev-cp-1/user-data")!, /gw_put '\/etc\/containerd\/config\.toml' 0644 <</);
    });

    it("composes the machines-only local stack from the engine provider (identity is always first)", () => {
        assert.ok(partsProviders().includes(ENGINE_PROVIDER));
        const m = renderStack(spec("local")).machines[0];
        assert.deepStrictEqual(m.parts, ["identity", "engine/host", "engine/trust", "engine/config", "engine/packages", "engine/service"]);
    });

    it("refuses a stack whose engine config breaks an engine rule, naming the key path", async () => {
        const raw = parse(fs.readFileSync(stackFilePath("dev"), "utf8")).config;
        raw["groundwork:platform"].engine = { proxy: { noProxy: [".corp.example"] } };
        const r = await runCli(["render", "--stack-file", writeStackFile(raw), "--out", tmp()]);
        assert.strictEqual(r.code, 2);
        assert.match(r.stderr, /^platform\.engine\.proxy: needs http or https \(or remove proxy\)$/m);
    });

    it("fails with exit 2 and one clear line on bad input", async () => {
        const noOut = await runCli(["render", "--stack", "dev"]);
        assert.strictEqual(noOut.code, 2);
        assert.strictEqual(noOut.stderr, "groundwork render: --out DIR is required (where the machines' user-data and plan.json go)\n");
        const file = path.join(tmp(), "f");
        fs.writeFileSync(file, "");
        const notDir = await runCli(["render", "--stack", "dev", "--out", file]);
        assert.strictEqual(notDir.code, 2);
        assert.match(notDir.stderr, /--out: ".*\/f" exists and is not a folder/);
        const unknown = await runCli(["render", "--stack", "nope", "--out", tmp()]);
        assert.strictEqual(unknown.code, 2);
        assert.match(unknown.stderr, /no stack "nope"; known stacks: /);
    });
});

describe("rendered artifacts of every example stack, checked by the real validators", function () {
    this.timeout(180_000);
    // The example stacks, plus qa switched to docker with everything optional turned on.
    const qa = spec("qa");
    const dockerEngine = engineConfig.parse({
        ...qa.config.engine,
        kind: "docker",
        mirrors: [{ host: "docker.io", endpoints: ["https://harbor.qa.example/v2/dockerhub"] }],
        caCertificates: ["-----BEGIN CERTIFICATE-----\nMIIBqa\n-----END CERTIFICATE-----"],
        insecureRegistries: ["plain.qa.example:5000"],
        allowInsecureRegistries: true,
    });
    const variants: [string, PlatformSpec][] = [...stackNames().map((n) => [n, spec(n)] as [string, PlatformSpec]), ["qa-docker", { ...qa, config: { ...qa.config, engine: dockerEngine } }]];
    const all = variants.flatMap(([name, s]) => [...renderStack(s).files.entries()].map(([rel, content]) => ({ stack: name, rel, content })));
    const dir = tmp();
    for (const f of all) {
        const p = path.join(dir, f.stack, f.rel);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, f.content);
    }

    it("covers every example stack and machine", () => {
        assert.deepStrictEqual(stackNames(), ["customer-dc", "dev", "local", "prod", "qa"]);
        assert.strictEqual(all.filter((f) => f.rel.endsWith("/user-data")).length, 7 + 3 + 2 + 11 + 6 + 6);
        assert.ok(all.some((f) => f.stack === "qa-docker" && f.content.includes("/etc/docker/daemon.json")));
    });

    it("every user-data passes `cloud-init schema --config-file`", async () => {
        const userData = all.filter((f) => f.rel.endsWith("/user-data"));
        const failures = (
            await pool(userData, 4, async (f) => {
                const p = path.join(dir, f.stack, f.rel);
                try {
                    const r = await run("cloud-init", ["schema", "--config-file", p]);
                    return /^Valid schema|^Valid cloud-config/m.test(r.stdout) ? undefined : `${f.stack}/${f.rel}: ${r.stdout}`;
                } catch (e) {
                    const err = e as { code?: string; stdout?: string; stderr?: string };
                    if (err.code === "ENOENT") return "cloud-init is not installed: apt-get install -y cloud-init";
                    return `${f.stack}/${f.rel}: ${err.stdout ?? ""}${err.stderr ?? ""}`;
                }
            })
        ).filter((x): x is string => x !== undefined);
        assert.deepStrictEqual(failures, []);
    });

    it("every bootstrap script (in user-data and bootstrap.sh) passes shellcheck with no findings", async () => {
        const scripts: string[] = [];
        for (const f of all) {
            const p = path.join(dir, f.stack, f.rel);
            if (f.rel.endsWith("/bootstrap.sh")) scripts.push(p);
            if (f.rel.endsWith("/user-data")) {
                fs.writeFileSync(`${p}.sh`, parse(f.content).write_files[0].content);
                scripts.push(`${p}.sh`);
            }
        }
        assert.strictEqual(scripts.length, 35 + 3);
        try {
            await run("shellcheck", ["--severity=style", "--shell=bash", ...scripts], { maxBuffer: 16 * 1024 * 1024 });
        } catch (e) {
            const err = e as { code?: string; stdout?: string };
            assert.fail(err.code === "ENOENT" ? "shellcheck is not installed: apt-get install -y shellcheck" : `shellcheck findings:\n${err.stdout}`);
        }
    });
});
