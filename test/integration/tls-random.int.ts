// groundwork's ClusterSecrets and registry TLS through the REAL Pulumi engine (CLI and language
// host built from Go modules) with groundwork's own tls and random plugins (bridged from the
// Terraform providers, tools/toolchain/tls-random-bridge). Values are checked by openssl and by
// computations of this test's own; the state is checked through `pulumi stack export`.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { REPO, Run, sh } from "../support/sh";

const PROGRAM = path.join(__dirname, "programs/secrets");
const STACK = "itest";



/** The 64-character base64 lines of a PEM body: what a key in clear would show however it is escaped. */
function pemLines(pem: string): string[] {
    return pem.split("\n").filter((l) => /^[A-Za-z0-9+/]{64}$/.test(l));
}

describe("tls and random plugins on the real engine: ClusterSecrets' values are right and secret in state", function () {
    let workDir: string;
    let out: Record<string, string>;
    let state: string;
    const timings: Record<string, number> = {};

    const pulumi = (args: string): Run => {
        const r = sh(`source tools/toolchain/env.sh && pulumi ${args} --stack ${STACK} --cwd '${workDir}' --non-interactive`, {
            PULUMI_BACKEND_URL: `file://${workDir}/backend`,
            PULUMI_CONFIG_PASSPHRASE: "groundwork-itest",
        });
        if (r.code !== 0) throw new Error(`pulumi ${args} failed (${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
        return r;
    };
    const openssl = (args: string, input?: string): string => {
        const r = sh(`openssl ${args}`, {}, { input });
        assert.strictEqual(r.code, 0, `openssl ${args} failed:\n${r.stderr}`);
        return r.stdout;
    };
    const file = (name: string, text: string): string => {
        const p = path.join(workDir, name);
        fs.writeFileSync(p, text);
        return p;
    };

    before(function () {
        this.timeout(3600_000);
        for (const [label, cmd] of [
            ["engine", "bash tools/toolchain/build.sh cli nodejs"],
            ["plugins", "bash tools/toolchain/tls-random-bridge/build.sh"],
        ]) {
            const r = sh(cmd);
            assert.strictEqual(r.code, 0, `${cmd} failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
            timings[label] = r.seconds;
        }
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-tls-random-"));
        fs.mkdirSync(path.join(workDir, "backend"));
        fs.writeFileSync(
            path.join(workDir, "Pulumi.yaml"),
            stringify({ name: "gw-secrets-itest", runtime: { name: "nodejs", options: { typescript: true, tsconfig: path.join(REPO, "tsconfig.json") } }, main: path.relative(workDir, path.join(PROGRAM, "index.ts")) }),
        );
        pulumi("stack init --secrets-provider passphrase");
        timings.up = pulumi("up --yes --skip-preview").seconds;
        out = JSON.parse(pulumi("stack output --json --show-secrets").stdout);
        state = pulumi("stack export").stdout;
    });

    after(function () {
        this.timeout(600_000);
        if (workDir) {
            try {
                timings.destroy = pulumi("destroy --yes --skip-preview").seconds;
            } finally {
                fs.rmSync(workDir, { recursive: true, force: true });
            }
        }
        process.stdout.write(`      timings (s): ${JSON.stringify(timings)}\n`);
    });

    it("openssl verifies the admin certificate against the cluster CA and the server certificate against the registry CA", () => {
        const clusterCa = file("cluster-ca.pem", out.clusterCaCertPem);
        assert.strictEqual(openssl(`verify -CAfile ${clusterCa} ${file("admin.pem", out.clusterAdminCertPem)}`).trim(), `${workDir}/admin.pem: OK`);
        const registryCa = file("registry-ca.pem", out.registryCaPem);
        assert.strictEqual(openssl(`verify -CAfile ${registryCa} ${file("server.pem", out.registryCertPem)}`).trim(), `${workDir}/server.pem: OK`);
        // A certificate the other CA signed does not verify: the check can fail.
        assert.notStrictEqual(sh(`openssl verify -CAfile ${registryCa} ${workDir}/admin.pem`).code, 0);

        assert.match(openssl(`x509 -noout -subject -in ${workDir}/admin.pem`), /O ?= ?system:masters, CN ?= ?groundwork-admin/);
        const ext = openssl(`x509 -noout -ext subjectAltName,extendedKeyUsage,basicConstraints -in ${workDir}/server.pem`);
        assert.match(ext, /DNS:registry\.itest\.example, IP Address:192\.0\.2\.20/);
        assert.match(ext, /TLS Web Server Authentication/);
        assert.match(openssl(`x509 -noout -ext basicConstraints -in ${clusterCa}`), /CA:TRUE/);
    });

    it("each private key belongs to its certificate, and caCertHash is the SHA-256 of the CA's public key", () => {
        const pub = (pem: string, kind: "x509" | "pkey") => openssl(kind === "x509" ? "x509 -pubkey -noout" : "pkey -pubout", pem);
        assert.strictEqual(pub(out.clusterCaKeyPem, "pkey"), pub(out.clusterCaCertPem, "x509"));
        assert.strictEqual(pub(out.clusterAdminKeyPem, "pkey"), pub(out.clusterAdminCertPem, "x509"));
        assert.strictEqual(pub(out.registryKeyPem, "pkey"), pub(out.registryCertPem, "x509"));
        assert.match(openssl("pkey -noout -text", out.registryKeyPem), /ASN1 OID: prime256v1/);
        assert.match(openssl("pkey -noout -text", out.clusterCaKeyPem), /Private-Key: \(2048 bit/);
        const der = spawnSync("openssl", ["pkey", "-pubin", "-outform", "der"], { input: pub(out.clusterCaCertPem, "x509") }).stdout;
        assert.ok(der.length > 200, "openssl gave no DER public key");
        assert.strictEqual(out.clusterCaCertHash, `sha256:${crypto.createHash("sha256").update(der).digest("hex")}`);
    });

    it("the admin kubeconfig carries the CA, the admin certificate and its key", () => {
        const b64 = (s: string) => Buffer.from(s).toString("base64");
        const kc = out.clusterAdminKubeconfig;
        assert.ok(kc.includes(b64(out.clusterCaCertPem)) && kc.includes(b64(out.clusterAdminCertPem)) && kc.includes(b64(out.clusterAdminKeyPem)));
        assert.match(kc, /server: https:\/\/192\.0\.2\.10:6443/);
    });

    it("tokens are [a-z0-9]{6}.[a-z0-9]{16} and certificate keys 64 hex characters; the RandomId's encodings agree", () => {
        for (const t of [out.clusterBootstrapToken, out.secretToken]) assert.match(t, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
        for (const k of [out.clusterCertificateKey, out.secretIdHex, out.plainIdHex, out.secretBytesHex]) assert.match(k, /^[0-9a-f]{64}$/);
        assert.strictEqual(Buffer.from(out.secretIdB64Url, "base64url").toString("hex"), out.secretIdHex);
        assert.strictEqual(new Set([out.clusterCertificateKey, out.secretIdHex, out.plainIdHex, out.secretBytesHex]).size, 4);
    });

    it("pulumi stack export holds no private key, secret token or secret certificate key in clear", () => {
        const leaks: string[] = [];
        const check = (label: string, needles: string[]) => {
            assert.ok(needles.length > 0 && needles.every((n) => n.length >= 6), `${label}: nothing to look for`);
            if (needles.some((n) => state.includes(n))) leaks.push(label);
        };
        check("cluster CA key", pemLines(out.clusterCaKeyPem));
        check("admin key", pemLines(out.clusterAdminKeyPem));
        check("registry key", pemLines(out.registryKeyPem));
        check("admin kubeconfig", [Buffer.from(out.clusterAdminKeyPem).toString("base64").slice(0, 64)]);
        check("RandomPassword token", [out.secretToken, ...out.secretToken.split(".")]);
        // Every encoding of the secret RandomId's bytes, computed here.
        const bytes = Buffer.from(out.secretIdHex, "hex");
        check("RandomId (additionalSecretOutputs) hex", [out.secretIdHex]);
        check("RandomId (additionalSecretOutputs) b64Std", [bytes.toString("base64")]);
        check("RandomId (additionalSecretOutputs) dec", [BigInt(`0x${out.secretIdHex}`).toString(10)]);
        const key = Buffer.from(out.secretBytesHex, "hex");
        check("RandomBytes hex, base64, base64url", [out.secretBytesHex, key.toString("base64"), key.toString("base64url")]);
        assert.deepStrictEqual(leaks, []);
        assert.ok((state.match(/"ciphertext"/g) ?? []).length >= 10, "the export holds fewer encrypted values than the program made");
    });

    it("additionalSecretOutputs cannot hide a RandomId's ID, its bytes in base64url: a RandomId key is recoverable from state", () => {
        const b64url = Buffer.from(out.secretIdHex, "hex").toString("base64url");
        assert.strictEqual(b64url, out.secretIdB64Url);
        assert.ok(state.includes(`"id": "${b64url}"`), "the secret RandomId's ID is not in the export in clear");
        assert.strictEqual(Buffer.from(b64url, "base64url").toString("hex"), out.secretIdHex);
    });

    it("a second preview plans no change (the plugins' diff agrees with their own state)", () => {
        const r = pulumi("preview --expect-no-changes");
        assert.match(r.stdout, /\b\d+ unchanged/);
    });

    it("groundwork's own certificate key and join token are nowhere in the export in clear; a plain RandomId's hex is (the check catches leaks)", () => {
        assert.ok(state.includes(`"hex": "${out.plainIdHex}"`), "the plain RandomId's hex is not in the export");
        const clusterKeyInClear = state.includes(out.clusterCertificateKey);
        // The parts are short: look for them as whole JSON strings, not inside ciphertext.
        const tokenInClear = state.includes(out.clusterBootstrapToken) || out.clusterBootstrapToken.split(".").some((p) => state.includes(`"${p}"`));
        process.stdout.write(`      ClusterSecrets: certificate key in clear: ${clusterKeyInClear}, join token (or a part) in clear: ${tokenInClear}\n`);
        assert.strictEqual(clusterKeyInClear, false);
        assert.strictEqual(tokenInClear, false);
    });
});
