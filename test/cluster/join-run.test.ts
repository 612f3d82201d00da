import * as assert from "assert";
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { clusterSettings, kubeadmPart, renderJoinMaterial } from "../../components/cluster";
import { renderPartsScript } from "../../components/engine/bootstrap";
import { parse, rawPlatform } from "./fixture";

const TOKEN = "k3j9x2.q8w7e6r5t4y3u2i1";
const KEY = "ab".repeat(32);
const CA_KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIFakeFakeFakeFakeFakeFakeFakeFakeFake\n-----END PRIVATE KEY-----\n";
const CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

/**
 * Runs one machine's kubeadm part for real with bash, in a private mount namespace whose /etc is
 * a copy (so /etc/groundwork and /etc/kubernetes are scratch), with stand-ins for curl (the API
 * answers or not) and kubeadm (records its arguments and the config it was given). The join
 * material arrives two seconds after the bootstrap starts waiting, as the SSH delivery would.
 */
const made: string[] = [];

function runPart(script: string, apiUp: boolean | ((rec: string) => string), material: string, address = "10.20.0.11", crictl?: (rec: string) => string): { stdout: string; rec: string } {
    const dir = mkdtempSync(join(tmpdir(), "gw-join-run-"));
    made.push(dir);
    const rec = join(dir, "rec");
    execFileSync("mkdir", ["-p", join(dir, "bin"), rec]);
    writeFileSync(join(dir, "bin", "curl"), typeof apiUp === "function" ? apiUp(rec) : `#!/bin/sh\nexit ${apiUp ? 0 : 7}\n`, { mode: 0o755 });
    // `ip -o -4 addr show` as iproute2 prints it, with the node's address on eth1.
    writeFileSync(join(dir, "bin", "ip"), `#!/bin/sh\necho "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever"\necho "3: eth1    inet ${address}/24 brd 10.20.0.255 scope global eth1\\       valid_lft forever preferred_lft forever"\n`, { mode: 0o755 });
    writeFileSync(
        join(dir, "bin", "kubeadm"),
        `#!/bin/bash\necho "$*" > ${rec}/args\ncfg=$(sed -n 's/.*--config \\([^ ]*\\).*/\\1/p' <<<"$*")\ncp "$cfg" ${rec}/config\nstat -c %a "$cfg" > ${rec}/config-mode\nif [ -f /etc/kubernetes/pki/ca.key ]; then cp /etc/kubernetes/pki/ca.key ${rec}/ca.key; stat -c %a /etc/kubernetes/pki/ca.key > ${rec}/ca-key-mode; fi\necho "kubeadm stand-in done"\n`,
        { mode: 0o755 },
    );
    if (crictl) writeFileSync(join(dir, "bin", "crictl"), crictl(rec), { mode: 0o755 });
    writeFileSync(join(dir, "bootstrap.sh"), script);
    writeFileSync(join(dir, "material"), material);
    const driver = [
        "set -e",
        `cp -a /etc ${dir}/etc 2>/dev/null || true`,
        `mount --bind ${dir}/etc /etc`,
        "rm -rf /etc/groundwork /etc/kubernetes",
        `( sleep 2; install -d -m 0755 /etc/groundwork; install -m 0600 ${dir}/material /etc/groundwork/join.env ) &`,
        `PATH=${dir}/bin:$PATH bash ${dir}/bootstrap.sh`,
        "wait",
        `ls -A /etc/groundwork /etc/groundwork/kubeadm > ${rec}/left`,
    ].join("\n");
    const stdout = execFileSync("unshare", ["-m", "bash", "-c", driver], { timeout: 60000 }).toString();
    return { stdout, rec };
}

describe("join material on the machine (bash, for real)", () => {
    after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const spec = parse(rawPlatform("baremetal", 3, 1, { controlPlaneEndpoint: { mode: "external", address: "10.20.0.5" } }));
    const settings = clusterSettings({ config: spec.config.cluster, clusterName: "gw", backends: ["baremetal"] });
    const [first, second, , worker] = spec.machines;
    const trust = { caCertPem: CA, caCertHash: `sha256:${"1".repeat(64)}` };
    const script = (m: typeof first) => renderPartsScript(m.name, [kubeadmPart(settings, m, first.name, trust)]);

    it("the first control plane waits for its material, places the CA key 0600, inits with a filled root-only config and forgets the material", () => {
        const { stdout, rec } = runPart(script(first), false, renderJoinMaterial({ token: TOKEN, certificateKey: KEY, caKeyPem: CA_KEY }));
        assert.match(stdout, /kubeadm: waiting for join material at \/etc\/groundwork\/join\.env \(0s\)/);
        assert.strictEqual(readFileSync(join(rec, "args"), "utf8").trim(), "init --config /etc/groundwork/kubeadm/init.yaml --upload-certs --skip-token-print --skip-certificate-key-print");
        const config = readFileSync(join(rec, "config"), "utf8");
        assert.match(config, new RegExp(`token: "?${TOKEN.replace(".", "\\.")}"?\\n`));
        assert.match(config, new RegExp(`certificateKey: "?${KEY}"?\\n`));
        assert.doesNotMatch(config, /@JOIN_TOKEN@|@CERTIFICATE_KEY@/);
        assert.strictEqual(readFileSync(join(rec, "config-mode"), "utf8").trim(), "600");
        assert.strictEqual(readFileSync(join(rec, "ca.key"), "utf8"), CA_KEY);
        assert.strictEqual(readFileSync(join(rec, "ca-key-mode"), "utf8").trim(), "600");
        // Only the templates stay; the material and the filled config are gone, and nothing printed them.
        assert.deepStrictEqual(readFileSync(join(rec, "left"), "utf8").split("\n").filter((l) => l && !l.endsWith(":")).sort(), ["ca.crt", "cluster.yaml", "init.template.yaml", "join.template.yaml", "kubeadm"]);
        for (const s of [TOKEN, KEY, "PRIVATE KEY"]) assert.ok(!stdout.includes(s), `the bootstrap printed ${s}`);
    });

    for (const [label, m, key] of [["a joining control plane", second, KEY], ["a worker", worker, undefined]] as const) {
        it(`${label} joins with its own token${key ? " and the certificate key" : ""} once the material arrives, and gets no CA key`, () => {
            const { stdout, rec } = runPart(script(m), true, renderJoinMaterial({ token: TOKEN, certificateKey: key }));
            assert.strictEqual(readFileSync(join(rec, "args"), "utf8").trim(), "join --config /etc/groundwork/kubeadm/join.yaml");
            const config = readFileSync(join(rec, "config"), "utf8");
            assert.match(config, new RegExp(`token: "?${TOKEN.replace(".", "\\.")}"?\\n`));
            assert.strictEqual(config.includes(KEY), key !== undefined);
            assert.strictEqual(readFileSync(join(rec, "config-mode"), "utf8").trim(), "600");
            assert.throws(() => readFileSync(join(rec, "ca.key")));
            assert.ok(!readFileSync(join(rec, "left"), "utf8").includes("join.env"));
            assert.match(stdout, /kubeadm: joined in \d+s/);
            for (const s of [TOKEN, KEY]) assert.ok(!stdout.includes(s), `the bootstrap printed ${s}`);
        });
    }

    describe("kube-vip's restart after init", () => {
        const vipSpec = parse(rawPlatform("baremetal", 1, 1));
        const vipSettings = clusterSettings({ config: vipSpec.config.cluster, clusterName: "gw", vip: vipSpec.ipPlan.vip, backends: ["baremetal"] });
        const [cp] = vipSpec.machines;

        it("the first control plane swaps kube-vip to admin.conf and ends only when the VIP answers 3 times in a row", function () {
            this.timeout(60000);
            assert.ok(vipSettings.kubeVip, "the fixture's default endpoint is kube-vip");
            // curl: 1st call is the "is there an API?" check before init (no); the 2nd and 3rd fall in
            // the gap while the new kube-vip pod takes the lease; every later one answers.
            const curl = (rec: string) => `#!/bin/sh\nn=$(($(cat ${rec}/curl-calls 2>/dev/null || echo 0) + 1))\necho $n > ${rec}/curl-calls\n[ $n -ge 4 ]\n`;
            // crictl ps -o json as the real one prints it: the old kube-vip (created in 2020) keeps running for
            // the first 3 calls after the swap, as a loaded kubelet takes its time; then one created now.
            const crictl = (rec: string) =>
                `#!/bin/bash\nn=$(($(cat ${rec}/crictl-calls 2>/dev/null || echo 0) + 1))\necho $n > ${rec}/crictl-calls\nif [ $n -le 3 ]; then c=1600000000000000000; else c=$(date +%s%N); fi\nprintf '{\n  "containers": [\n    {\n      "id": "abc",\n      "state": "CONTAINER_RUNNING",\n      "createdAt": "%s",\n      "labels": {}\n    }\n  ]\n}\n' "$c"\n`;
            const { stdout, rec } = runPart(renderPartsScript(cp.name, [kubeadmPart(vipSettings, cp, cp.name, trust)]), curl, renderJoinMaterial({ token: TOKEN, certificateKey: KEY, caKeyPem: CA_KEY }), cp.address, crictl);
            const vip = vipSettings.endpoint.host;
            assert.match(stdout, /kube-vip: manifest installed \(interface eth1, kubeconfig \/etc\/kubernetes\/super-admin\.conf\)/);
            assert.match(stdout, /kube-vip: manifest installed \(interface eth1, kubeconfig \/etc\/kubernetes\/admin\.conf\)/);
            assert.match(stdout, new RegExp(`kube-vip: the API answers through https://${vip.replace(/\./g, "\\.")}:6443 again \\(\\d+s\\)`));
            // The VIP is asked only once the new pod runs (the old one answering proves nothing): 4 crictl calls.
            assert.strictEqual(readFileSync(join(rec, "crictl-calls"), "utf8").trim(), "4");
            assert.match(stdout, /kube-vip: the new pod runs \([0-9]+s\)\n(.*\n)*.*kube-vip: the API answers through/);
            // 1 before init + 2 failures in the gap + 3 answers in a row.
            assert.strictEqual(readFileSync(join(rec, "curl-calls"), "utf8").trim(), "6");
            assert.ok(stdout.indexOf("answers through") < stdout.indexOf("control plane initialised"), "the VIP wait comes before the bootstrap reports the control plane done");
        });
    });
});
