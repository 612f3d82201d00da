import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { renderStack } from "../../cli/commands/render";
import { loadStackFile, stackFilePath } from "../../cli/stackfile";
import { userDataTooLarge } from "../../components/machines/userdata-limits";
import { recorder } from "../support/mocks";
import { runProgram } from "../support/program";
import { runCli, writeStackFile } from "../support/cli";

type Config = Record<string, any>;
const load = (stack: string): Config => parse(fs.readFileSync(stackFilePath(stack), "utf8")).config;

/** A certificate-shaped PEM of about 1.2 KB whose body is unique to `i`. */
function fakeCa(i: number): string {
    const body = Array.from({ length: 18 }, (_, l) => `MII${String(i).padStart(3, "0")}${String(l).padStart(2, "0")}`.padEnd(64, "Q")).join("\n");
    return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
const PRIVATE_CA = "-----BEGIN CERTIFICATE-----\nMIIBPRIVATECAPRIVATECAPRIVATECA\n-----END CERTIFICATE-----\n";
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe("user-data size and CA copies (issue 11, item 7)", () => {
    for (const kind of ["containerd", "docker"]) {
        it(`prod with a private CA and Harbor's CA, ${kind}: each CA is in every machine's user-data exactly once`, () => {
            const c = load("prod");
            c["groundwork:platform"].engine.caCertificates = [PRIVATE_CA];
            c["groundwork:platform"].engine.kind = kind;
            const stack = loadStackFile(writeStackFile(c));
            assert.deepStrictEqual(stack.problems, []);
            const rendered = renderStack(stack.spec!);
            assert.strictEqual(rendered.machines.length, 11);
            for (const m of rendered.machines) {
                assert.strictEqual(count(m.userData, "MIIBPRIVATECAPRIVATECAPRIVATECA"), 1, `${m.machine.name}: private CA`);
                assert.strictEqual(count(m.userData, "@@GROUNDWORK:registry-ca@@"), 1, `${m.machine.name}: registry CA`);
            }
        });
    }

    it("prod under the program: the generated Harbor CA is delivered once per node", async () => {
        const out = await runProgram("prod", (config) => {
            const p = JSON.parse(config["groundwork:platform"]);
            p.engine.caCertificates = [PRIVATE_CA];
            config["groundwork:platform"] = JSON.stringify(p);
        });
        const ca = await new Promise<string>((r) => (out.registry as any).caPem.apply(r));
        const body = ca.trim().split("\n")[1];
        for (const s of recorder.ofType("openstack:compute/instance:Instance")) {
            assert.strictEqual(count(s.inputs.userData, body), 1, `${s.name}: Harbor CA`);
            assert.strictEqual(count(s.inputs.userData, "MIIBPRIVATECAPRIVATECAPRIVATECA"), 1, `${s.name}: private CA`);
        }
    });

    it("the limits at their boundaries (OpenStack 65,535 base64 bytes, vSphere 64,512, bare metal none)", () => {
        // 49,149 bytes → 4·⌈49,149/3⌉ = 65,532 base64 bytes; 49,150 → 65,536.
        assert.strictEqual(userDataTooLarge("m", "openstack", "x".repeat(49_149)), undefined);
        assert.strictEqual(
            userDataTooLarge("m", "openstack", "x".repeat(49_150)),
            "m: user-data is 49,150 bytes (65,536 as base64), over OpenStack's limit of 65,535 base64 bytes (Nova user_data); trust fewer CAs, list fewer mirrors or SSH keys",
        );
        // 48,384 → 64,512; 48,385 → 64,516. Multi-byte characters count as their UTF-8 bytes.
        assert.strictEqual(userDataTooLarge("v", "vsphere", "x".repeat(48_384)), undefined);
        assert.match(userDataTooLarge("v", "vsphere", "x".repeat(48_385))!, /^v: user-data is 48,385 bytes \(64,516 as base64\), over vSphere's limit of 64,512 base64 bytes/);
        assert.match(userDataTooLarge("v", "vsphere", "é".repeat(24_193))!, /^v: user-data is 48,386 bytes/);
        assert.strictEqual(userDataTooLarge("b", "baremetal", "x".repeat(1_000_000)), undefined);
    });

    it("validate and render refuse dev with 45 private CAs, naming every machine and its size; render writes nothing", async () => {
        const c = load("dev");
        c["groundwork:platform"].engine = { caCertificates: Array.from({ length: 45 }, (_, i) => fakeCa(i)) };
        const file = writeStackFile(c);
        const v = await runCli(["validate", "--stack-file", file]);
        assert.strictEqual(v.code, 2, v.stdout);
        const lines = v.stderr.trim().split("\n");
        assert.strictEqual(lines.length, 4);
        const expected: [string, string][] = [["platform.machines.controlPlane", "dev-cp-1"], ["platform.machines.workers.general", "dev-general-1"], ["platform.machines.workers.general", "dev-general-2"]];
        expected.forEach(([p, name], i) => {
            const m = new RegExp(`^${p.replace(/\./g, "\\.")}: ${name}: user-data is ([\\d,]+) bytes \\(([\\d,]+) as base64\\), over OpenStack's limit of 65,535 base64 bytes \\(Nova user_data\\); trust fewer CAs, list fewer mirrors or SSH keys$`).exec(lines[i]);
            assert.ok(m, lines[i]);
            const bytes = Number(m[1].replace(/,/g, ""));
            // 45 CAs on top of dev's own user-data (over 18,000 bytes without any CA).
            assert.ok(bytes > 45 * fakeCa(0).length + 18_000 && bytes < 120_000, `${name}: ${bytes} bytes`);
            assert.strictEqual(Number(m[2].replace(/,/g, "")), 4 * Math.ceil(bytes / 3));
        });
        assert.match(lines[3], /: 3 problems$/);
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "gw-render-"));
        const r = await runCli(["render", "--stack-file", file, "--out", out]);
        assert.strictEqual(r.code, 2);
        assert.strictEqual(r.stderr, v.stderr);
        assert.deepStrictEqual(fs.readdirSync(out), []);
        fs.rmSync(out, { recursive: true });
    });

    it("customer-dc with 45 private CAs: the vSphere machines are refused, bare-metal hosts are not", async () => {
        const c = load("customer-dc");
        c["groundwork:platform"].engine = { ...(c["groundwork:platform"].engine ?? {}), caCertificates: Array.from({ length: 45 }, (_, i) => fakeCa(i)) };
        const v = await runCli(["validate", "--stack-file", writeStackFile(c)]);
        assert.strictEqual(v.code, 2, v.stdout);
        const named = v.stderr.trim().split("\n").slice(0, -1).map((l) => /^[^:]+: ([^:]+): /.exec(l)?.[1]);
        assert.deepStrictEqual(named.filter((n) => n?.startsWith("cdc-cp-")), ["cdc-cp-1", "cdc-cp-2", "cdc-cp-3"]);
        assert.deepStrictEqual(named.filter((n) => n?.startsWith("cdc-metal-")), [], "bare metal has no user-data limit");
        assert.match(v.stderr, /over vSphere's limit of 64,512 base64 bytes/);
    });
});
