import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCli } from "../support/cli";

function tmp(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "gw-render-out-"));
}

/** Every file under dir as sorted relative paths. */
function files(dir: string): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out.push(path.relative(dir, p));
        }
    };
    walk(dir);
    return out.sort();
}

const DEV_FILES = [".groundwork-render", "dev-cp-1/user-data", "dev-general-1/user-data", "dev-general-2/user-data", "plan.json", "workloads.yaml"];

describe("cli: groundwork render --out never mixes two renders", () => {
    it("a folder holding another stack's render is emptied of it first", async () => {
        const out = tmp();
        assert.strictEqual((await runCli(["render", "--stack", "customer-dc", "--out", out])).code, 0);
        assert.ok(files(out).includes("cdc-metal-01/bootstrap.sh"));
        const r = await runCli(["render", "--stack", "dev", "--out", out]);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.deepStrictEqual(files(out), DEV_FILES);
        assert.deepStrictEqual(fs.readdirSync(out).sort(), [".groundwork-render", "dev-cp-1", "dev-general-1", "dev-general-2", "plan.json", "workloads.yaml"], "no empty folders of the old render");
        assert.strictEqual(
            fs.readFileSync(path.join(out, ".groundwork-render"), "utf8"),
            "# groundwork render: the files of the render in this folder; the next render here removes them first\ndev-cp-1/user-data\ndev-general-1/user-data\ndev-general-2/user-data\nplan.json\nworkloads.yaml\n",
        );
    });

    it("a new or empty folder is used as is", async () => {
        const empty = tmp();
        assert.strictEqual((await runCli(["render", "--stack", "dev", "--out", empty])).code, 0);
        assert.deepStrictEqual(files(empty), DEV_FILES);
        const fresh = path.join(tmp(), "new", "folder");
        assert.strictEqual((await runCli(["render", "--stack", "dev", "--out", fresh])).code, 0);
        assert.deepStrictEqual(files(fresh), DEV_FILES);
    });

    it("refuses a non-empty folder render did not make, and touches nothing", async () => {
        const out = tmp();
        fs.writeFileSync(path.join(out, "notes.txt"), "keep me\n");
        const r = await runCli(["render", "--stack", "dev", "--out", out]);
        assert.strictEqual(r.code, 2);
        assert.strictEqual(r.stderr, `groundwork render: --out: "${out}" is not empty and was not made by groundwork render (no .groundwork-render); give a new or empty folder\n`);
        assert.deepStrictEqual(files(out), ["notes.txt"]);
    });

    it("refuses a render folder with files render did not write, and removes nothing", async () => {
        const out = tmp();
        assert.strictEqual((await runCli(["render", "--stack", "customer-dc", "--out", out])).code, 0);
        fs.writeFileSync(path.join(out, "cdc-cp-1", "edited-by-hand.yaml"), "x\n");
        const before = files(out);
        const r = await runCli(["render", "--stack", "dev", "--out", out]);
        assert.strictEqual(r.code, 2);
        assert.strictEqual(r.stderr, `groundwork render: --out: "${out}" holds a previous render and files it did not write (cdc-cp-1/edited-by-hand.yaml); move them away or give another folder\n`);
        assert.deepStrictEqual(files(out), before);
    });

    it("removes only files inside the folder, whatever the marker lists", async () => {
        const parent = tmp();
        const out = path.join(parent, "out");
        fs.mkdirSync(out);
        fs.writeFileSync(path.join(parent, "victim"), "outside\n");
        fs.writeFileSync(path.join(out, ".groundwork-render"), "# groundwork render\n../victim\n/etc/hostname\n");
        const r = await runCli(["render", "--stack", "dev", "--out", out]);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(fs.readFileSync(path.join(parent, "victim"), "utf8"), "outside\n");
        assert.deepStrictEqual(files(out), DEV_FILES);
    });
});
