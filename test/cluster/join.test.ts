import * as assert from "assert";
import { execFileSync } from "child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { clusterParts, clusterSettings, RECEIVE_JOIN_BODY, registerJoinBody, renderJoinMaterial, renderKubeadmInit, renderMetadataGuard } from "../../components/cluster";
import { BackendKind } from "../../components/machines";
import { recorder, valueOf } from "../support/mocks";
import { buildCluster, parse, rawPlatform, settleAll } from "./fixture";
import { captureGraph, graph, resetGraph } from "./graph";

const REMOTE = "command:remote:Command";

/** What each machine's first boot reads from the platform: OpenStack user-data, vSphere guestinfo, the bare-metal script. */
function firstBootTexts(): [string, string][] {
    return [
        ...recorder.ofType("openstack:compute/instance:Instance").map((r): [string, string] => [r.name, r.inputs.userData]),
        ...recorder.ofType("vsphere:index/virtualMachine:VirtualMachine").map((r): [string, string] => [r.name, Buffer.from(r.inputs.extraConfig["guestinfo.userdata"], "base64").toString()]),
        ...recorder.ofType(REMOTE).filter((r) => r.name.endsWith("-bootstrap")).map((r): [string, string] => [r.name, r.inputs.stdin]),
    ];
}

describe("join material", () => {
    before(() => captureGraph());

    for (const backend of ["openstack", "vsphere", "baremetal"] as BackendKind[]) {
        it(`${backend}: no user-data, guestinfo or bootstrap script holds the CA key, the certificate key or a join token`, async () => {
            const built = buildCluster(parse(rawPlatform(backend, 3, 2)));
            await settleAll();
            const secrets = [await valueOf(built.secrets.caKeyPem), await valueOf(built.secrets.certificateKey), ...(await Promise.all(built.cluster.joins.map((j) => valueOf(j.token))))];
            const texts = firstBootTexts();
            assert.strictEqual(texts.length, 5);
            for (const [name, text] of texts) {
                assert.ok(text.includes("kubeadm"), `${name}: the cluster parts are there`);
                for (const s of secrets) assert.ok(!text.includes(s.trim()), `${name} holds a secret (${s.slice(0, 12)}…)`);
                assert.doesNotMatch(text, /PRIVATE KEY/, name);
            }
        });
    }

    it("each joining machine's own token is registered on the first control plane, then delivered over SSH; only the first control plane gets the CA key", async () => {
        resetGraph();
        const built = buildCluster(parse(rawPlatform("openstack", 3, 2)));
        await settleAll();
        const caKey = await valueOf(built.secrets.caKeyPem);
        const certKey = await valueOf(built.secrets.certificateKey);
        const deployPub = (await valueOf(built.secrets.deployPublicKey)).trim();
        const cmd = (name: string) => recorder.ofType(REMOTE).find((r) => r.name === name);
        const node = (name: string) => graph().find((n) => n.name === name)!;
        const apiReady = node("gw-api-ready");
        const [first, ...others] = built.machines;
        for (const m of built.machines) {
            const token = await valueOf(built.cluster.joins.find((j) => j.machineName === m.name)!.token);
            const deliver = cmd(`gw-join-${m.name}-deliver`)!;
            assert.strictEqual(deliver.inputs.connection.host, m.address, m.name);
            assert.strictEqual(deliver.inputs.connection.user, "groundwork", m.name);
            assert.ok(deliver.secretInputs.includes("stdin") && deliver.secretInputs.some((p) => p.startsWith("connection")), `${m.name}: material and key arrive as secrets`);
            assert.strictEqual(deliver.inputs.logging, "none", m.name);
            for (const o of ["stdout", "stderr"]) assert.ok(node(`gw-join-${m.name}-deliver`).secretOutputs.includes(o), `${m.name}: ${o} is a secret output`);
            const lines = (deliver.inputs.stdin as string).trimEnd().split("\n");
            const expected = [`token=${token}`];
            if (m.role === "control-plane") expected.push(`certificate-key=${certKey}`);
            if (m === first) expected.push(`ca-key=${Buffer.from(caKey).toString("base64")}`);
            assert.deepStrictEqual(lines, expected, m.name);
            // The VM's login user takes the deploy key the material comes with.
            const server = recorder.ofType("openstack:compute/instance:Instance").find((s) => s.name === `${m.name}-server`)!;
            assert.ok(parseYaml(server.inputs.userData).users[1].ssh_authorized_keys.includes(deployPub), m.name);
        }
        assert.strictEqual(cmd(`gw-join-${first.name}-register`), undefined, "the first control plane's token is in its own InitConfiguration");
        assert.ok(!node(`gw-join-${first.name}-deliver`).deps.includes(apiReady.urn), "the first control plane gets its material without waiting for the API");
        for (const m of others) {
            const register = cmd(`gw-join-${m.name}-register`)!;
            assert.strictEqual(register.inputs.connection.host, first.address, m.name);
            assert.match(register.inputs.create, /kubeadm token create "\$token" --ttl 2h /);
            assert.strictEqual(register.inputs.create.includes("upload-certs"), true);
            assert.strictEqual(register.inputs.logging, "none");
            assert.ok(register.secretInputs.includes("stdin"));
            for (const o of ["stdout", "stderr"]) assert.ok(node(`gw-join-${m.name}-register`).secretOutputs.includes(o), `${m.name}: ${o} is a secret output`);
            assert.ok(node(`gw-join-${m.name}-register`).deps.includes(apiReady.urn), `${m.name}: registered once the API answers`);
            assert.ok(node(`gw-join-${m.name}-deliver`).deps.includes(node(`gw-join-${m.name}-register`).urn), `${m.name}: delivered after it is registered`);
        }
        // Every machine has its own token.
        const tokens = await Promise.all(built.cluster.joins.map((j) => valueOf(j.token)));
        assert.strictEqual(tokens.length, 5);
        assert.strictEqual(await pulumi.isSecret(built.cluster.joins[0].token), true);
    });

    it("bare metal: the join material is delivered while the bootstrap waits for it, not after it", async () => {
        resetGraph();
        const built = buildCluster(parse(rawPlatform("baremetal", 1, 1)));
        await settleAll();
        const node = (name: string) => graph().find((n) => n.name === name)!;
        for (const m of built.machines) {
            const deliver = node(`gw-join-${m.name}-deliver`);
            const run = graph().find((n) => n.type === "command:remote:Command" && n.name.endsWith(`${m.name}-bootstrap`))!;
            assert.ok(!deliver.deps.includes(run.urn), `${m.name}: delivering after the bootstrap run would wait forever`);
            const conn = recorder.ofType(REMOTE).find((r) => r.name === `gw-join-${m.name}-deliver`)!.inputs.connection;
            assert.deepStrictEqual([conn.user, conn.port, conn.privateKey], ["root", 22, "ssh-private-key"]);
        }
    });

    it("tokens expire (bounded TTL) and kubeadm init prints neither the token nor the certificate key", () => {
        const spec = parse(rawPlatform("baremetal", 1, 1));
        const settings = clusterSettings({ config: spec.config.cluster, clusterName: "gw", vip: spec.ipPlan.vip, backends: ["baremetal"] });
        const [init] = parseYaml(renderKubeadmInit(settings, spec.machines[0], { bootstrapToken: "abcdef.0123456789abcdef", certificateKey: "0".repeat(64) }).split("---\n")[0]).bootstrapTokens;
        assert.strictEqual(init.ttl, "2h");
        const trust = { caCertPem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n", caCertHash: "sha256:00" };
        const kubeadm = clusterParts(settings, spec.machines[0], spec.machines[0].name, trust).find((p) => p.name === "kubeadm")!;
        assert.match(kubeadm.script, /kubeadm init --config '\/etc\/groundwork\/kubeadm\/init\.yaml' --upload-certs --skip-token-print --skip-certificate-key-print\n/);
        assert.match(kubeadm.script, /no join material at \$join_env after \$\(\(SECONDS - start\)\)s; the Pulumi program delivers it over SSH to 10\.20\.2\.10/);
        // The template holds markers, the filled config exists only while kubeadm runs.
        assert.match(kubeadm.files.find((f) => f.path.endsWith("init.template.yaml"))!.content, /token: "?@JOIN_TOKEN@"?/);
        assert.match(kubeadm.script, /forget_join_material\n {2}log "kubeadm: control plane initialised/);
    });

    it("OpenStack nodes keep pods from the metadata service; the guard is idempotent (run for real against a recording iptables)", () => {
        const spec = parse(rawPlatform("openstack", 1, 1));
        const settings = clusterSettings({ config: spec.config.cluster, clusterName: "gw", vip: spec.ipPlan.vip, backends: ["openstack"] });
        const trust = { caCertPem: "CA", caCertHash: "sha256:00" };
        for (const m of spec.machines) assert.ok(clusterParts(settings, m, spec.machines[0].name, trust).some((p) => p.name === "metadata-guard"), m.name);
        const metal = parse(rawPlatform("baremetal", 1, 0));
        assert.ok(!clusterParts(settings, metal.machines[0], metal.machines[0].name, trust).some((p) => p.name === "metadata-guard"));

        const guard = renderMetadataGuard("10.244.0.0/16");
        assert.strictEqual(execFileSync("shellcheck", ["-s", "sh", "-"], { input: guard }).toString(), "");
        const dir = mkdtempSync(join(tmpdir(), "gw-guard-"));
        // A stand-in iptables: remembers inserted rules in a file, answers -C from it.
        writeFileSync(join(dir, "iptables"), `#!/bin/sh\necho "$*" >> "${dir}/calls"\nrule=$(echo "$*" | sed -e 's/-[CI] PREROUTING\\( 1\\)\\?/R/')\ncase "$*" in *" -C "*) grep -qxF -- "$rule" "${dir}/rules" 2>/dev/null ;; *" -I "*) echo "$rule" >> "${dir}/rules" ;; esac\n`);
        chmodSync(join(dir, "iptables"), 0o755);
        writeFileSync(join(dir, "guard"), guard);
        const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
        execFileSync("sh", [join(dir, "guard")], { env });
        execFileSync("sh", [join(dir, "guard")], { env });
        const calls = execFileSync("cat", [join(dir, "calls")]).toString().trim().split("\n");
        assert.deepStrictEqual(calls, [
            "-t raw -C PREROUTING -s 10.244.0.0/16 -d 169.254.169.254/32 -j DROP",
            "-t raw -I PREROUTING 1 -s 10.244.0.0/16 -d 169.254.169.254/32 -j DROP",
            "-t raw -C PREROUTING -s 10.244.0.0/16 -d 169.254.169.254/32 -j DROP",
        ]);
    });

    it("the delivery and register scripts pass shellcheck; the material file is name=value lines with the CA key in base64", () => {
        for (const body of [RECEIVE_JOIN_BODY, registerJoinBody("gw-general-1", "/etc/groundwork/kubeadm/cluster.yaml")]) {
            assert.strictEqual(execFileSync("shellcheck", ["-s", "bash", "-"], { input: `#!/bin/bash\n${body}\n` }).toString(), "");
        }
        const pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n";
        assert.strictEqual(renderJoinMaterial({ token: "abcdef.0123456789abcdef", certificateKey: "a".repeat(64), caKeyPem: pem }), `token=abcdef.0123456789abcdef\ncertificate-key=${"a".repeat(64)}\nca-key=LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1DNENBUUF3QlFZREsyVndCQ0lFSQotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==\n`);
        assert.throws(() => renderJoinMaterial({ token: "ABCDEF.0123456789abcdef" }), /token is not in kubeadm's/);
    });
});
