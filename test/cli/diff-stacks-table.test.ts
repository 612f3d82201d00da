import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { summarise } from "../../cli/commands/diff-stacks";
import { stackFilePath } from "../../cli/stackfile";
import { runCli, writeStackFile } from "../support/cli";

/** A self-signed CA made by the openssl tool, and the fingerprint openssl itself prints for it. */
function opensslCa(dir: string, cn: string): { pem: string; fingerprint: string } {
    const key = path.join(dir, `${cn}.key`);
    const crt = path.join(dir, `${cn}.crt`);
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/O=groundwork tests/CN=${cn}`, "-days", "2", "-keyout", key, "-out", crt], { stdio: "pipe" });
    const out = execFileSync("openssl", ["x509", "-noout", "-fingerprint", "-sha256", "-in", crt]).toString().trim();
    return { pem: fs.readFileSync(crt, "utf8"), fingerprint: out.slice(out.indexOf("=") + 1).split(":").slice(0, 6).join(":") };
}

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDevTeamKeyDevTeamKeyDevTeamKeyDevTeamKey01 dev-team";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOnCallKeyOnCallKeyOnCallKeyOnCallKeyOn01 on-call";

describe("cli: groundwork diff-stacks with certificates and lists", () => {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-diff-pem-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("summarises each CA as subject and fingerprint and spreads a long list over lines of one table", async () => {
        const one = opensslCa(dir, "gw-ca-one");
        const two = opensslCa(dir, "gw-ca-two");
        const stack = (ca: string, keys: string[]) => {
            const config = parse(fs.readFileSync(stackFilePath("dev"), "utf8")).config;
            config["groundwork:platform"].engine = { caCertificates: [ca] };
            config["groundwork:platform"].machines.sshAuthorizedKeys = keys;
            return writeStackFile(config);
        };
        const [fileA, fileB] = [stack(one.pem, [KEY_A]), stack(two.pem, [KEY_A, KEY_B])];
        const r = await runCli(["diff-stacks", fileA, fileB]);
        assert.strictEqual(r.code, 0, r.stderr);
        const lines = r.stdout.split("\n");
        const header = lines[2];
        const table = lines.slice(2, lines.indexOf("", 2));
        assert.deepStrictEqual(table.map((l) => l.split(/ {2,}/)[0]), ["KEY", "engine.caCertificates", "machines.sshAuthorizedKeys", ""]);
        const [colA, colB] = [header.indexOf(fileA), header.indexOf(fileB)];
        assert.ok(colA > 0 && colB > colA, header);
        const at = (l: string, from: number, to?: number) => l.slice(from, to).trim();
        // The CA row: subject CN and the fingerprint openssl prints, no PEM body anywhere.
        assert.strictEqual(at(table[1], colA, colB), `[CN=gw-ca-one, sha256 ${one.fingerprint}]`);
        assert.strictEqual(at(table[1], colB), `[CN=gw-ca-two, sha256 ${two.fingerprint}]`);
        assert.ok(!r.stdout.includes("BEGIN CERTIFICATE") && !r.stdout.includes("MII"), r.stdout);
        // The list: one item per line, aligned under each side's header; head and tail of each key kept.
        assert.strictEqual(at(table[2], colA, colB), `- ssh-ed25519 AAAAC3NzaC1lZDI1NT…${KEY_A.slice(-15)}`);
        assert.strictEqual(at(table[2], colB), `- ssh-ed25519 AAAAC3NzaC1lZDI1NT…${KEY_A.slice(-15)}`);
        assert.strictEqual(at(table[3], 0, colA), "");
        assert.strictEqual(at(table[3], colA, colB), "");
        assert.strictEqual(table[3].indexOf("- "), colB);
        assert.strictEqual(at(table[3], colB), `- ssh-ed25519 AAAAC3NzaC1lZDI1NT…${KEY_B.slice(-15)}`);
        assert.strictEqual(lines[lines.length - 2], "2 keys differ, 89 identical"); // +3: machines.onChange, machines.rollout.batchSize and drainTimeoutSeconds; +2 cluster.certificates.renewBeforeDays and autoRenew (defaults on both)
        // --json keeps the full values.
        const json = JSON.parse((await runCli(["diff-stacks", "--json", stack(one.pem, [KEY_A]), stack(two.pem, [KEY_A])])).stdout);
        assert.deepStrictEqual(json.differences, [{ key: "engine.caCertificates", a: [one.pem], b: [two.pem] }]);
    });

    it("summarises a PEM block it cannot parse by label, line count and digest, other text by its first line", () => {
        const fake = "-----BEGIN CERTIFICATE-----\nMIIBnotARealCertificate\n-----END CERTIFICATE-----\n";
        const digest = execFileSync("sha256sum", { input: fake.trim() }).toString().slice(0, 12);
        assert.strictEqual(summarise(fake), `PEM CERTIFICATE, 3 lines, sha256:${digest}`);
        assert.strictEqual(summarise("first line\nsecond\nthird"), "first line (+2 lines)");
        assert.strictEqual(summarise("one line"), "one line");
    });
});
