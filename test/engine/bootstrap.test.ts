import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import {
    BOOTSTRAP_PATH,
    BootstrapPart,
    identityPart,
    placeholder,
    placeholdersIn,
    renderBootstrapScript,
    renderPartsScript,
    renderUserData,
} from "../../components/engine/bootstrap";

const identity = { hostname: "dev-cp-1", sshUser: "ops", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3Nza ops@example"] };

/** Runs a script with bash; returns stdout. */
function bash(script: string): string {
    return execFileSync("bash", ["-c", script], { encoding: "utf8" });
}

describe("engine/bootstrap: the one script", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-bootstrap-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const parts = (content: string, mode = "0644"): BootstrapPart[] => [
        { name: "one", files: [{ path: `${dir}/a/b.conf`, content, mode }, { path: `${dir}/c.txt`, content: "fixed" }], script: 'log "one ran"' },
        { name: "two", files: [], absent: [`${dir}/stale.conf`], script: `if gw_changed ${dir}/a; then echo "A CHANGED"; fi` },
    ];

    it("writes files, and a second run of the same script changes nothing", async () => {
        const script = renderPartsScript("h1", parts("x = 1\n"));
        fs.writeFileSync(`${dir}/stale.conf`, "old");
        const first = bash(script);
        assert.match(first, /bootstrap of h1 done: 3 change\(s\)/);
        assert.match(first, /A CHANGED/);
        assert.strictEqual(fs.readFileSync(`${dir}/a/b.conf`, "utf8"), "x = 1\n");
        assert.strictEqual(fs.readFileSync(`${dir}/c.txt`, "utf8"), "fixed\n");
        assert.strictEqual(fs.existsSync(`${dir}/stale.conf`), false);
        const mtime = fs.statSync(`${dir}/a/b.conf`).mtimeMs;
        const second = bash(script);
        assert.match(second, /bootstrap of h1 done: 0 change\(s\)/);
        assert.doesNotMatch(second, /A CHANGED/);
        assert.strictEqual(fs.statSync(`${dir}/a/b.conf`).mtimeMs, mtime);
        assert.deepStrictEqual(fs.readdirSync(`${dir}/a`), ["b.conf"], "no temporary files left behind");
    });

    it("rewrites a file whose content or mode changed, and only that file", async () => {
        bash(renderPartsScript("h1", parts("x = 1\n")));
        const changed = bash(renderPartsScript("h1", parts("x = 2\n")));
        assert.match(changed, /done: 1 change\(s\)/);
        assert.match(changed, /wrote .*\/a\/b\.conf/);
        assert.doesNotMatch(changed, /wrote .*c\.txt/);
        const moded = bash(renderPartsScript("h1", parts("x = 2\n", "0600")));
        assert.match(moded, /done: 1 change\(s\)/);
        assert.strictEqual(fs.statSync(`${dir}/a/b.conf`).mode & 0o777, 0o600);
    });

    it("creates a missing folder 0755 but leaves an existing folder's mode alone (~/.ssh stays 0700)", async () => {
        fs.mkdirSync(`${dir}/private`, { mode: 0o700 });
        bash(renderPartsScript("h1", [{ name: "p", files: [{ path: `${dir}/private/k`, content: "k" }, { path: `${dir}/new/sub/f`, content: "f" }], script: "" }]));
        assert.strictEqual(fs.statSync(`${dir}/private`).mode & 0o777, 0o700);
        assert.strictEqual(fs.statSync(`${dir}/new/sub`).mode & 0o777, 0o755);
    });

    it("keeps content that looks like the heredoc marker or shell syntax verbatim", async () => {
        const content = "GROUNDWORK_EOF\n$(touch /nonexistent) `x` ${y} 'q' \"d\"\n";
        bash(renderPartsScript("h1", [{ name: "tricky", files: [{ path: `${dir}/t`, content }], script: "" }]));
        assert.strictEqual(fs.readFileSync(`${dir}/t`, "utf8"), content);
    });

    it("rejects paths that are not plain absolute paths", () => {
        assert.throws(() => renderPartsScript("h", [{ name: "p", files: [{ path: "etc/x", content: "" }], script: "" }]), /bootstrap part p: "etc\/x" is not an absolute file path/);
        assert.throws(() => renderPartsScript("h", [{ name: "p", files: [{ path: "/etc/x y", content: "" }], script: "" }]), /not an absolute file path/);
        assert.throws(() => renderPartsScript("h", [{ name: "p", files: [{ path: "/etc/x", content: "", mode: "644" }], script: "" }]), /mode of \/etc\/x must be octal like 0644, got "644"/);
    });

    it("starts every bootstrap with the login user: the user, sudo, exactly the configured keys", () => {
        const script = renderBootstrapScript(identity, [{ name: "later", files: [], script: "true" }]);
        assert.ok(script.indexOf("# --- identity ---") < script.indexOf("# --- later ---"));
        const id = identityPart(identity);
        assert.deepStrictEqual(id.files, [{ path: "/etc/sudoers.d/90-groundwork-ops", content: "ops ALL=(ALL) NOPASSWD:ALL\n", mode: "0440" }]);
        assert.match(id.script, /useradd --create-home --shell \/bin\/bash --user-group 'ops'/);
        assert.match(id.script, /authorized_keys" 0600 <<'GROUNDWORK_EOF'\nssh-ed25519 AAAAC3Nza ops@example\nGROUNDWORK_EOF/);
        const noKeys = identityPart({ ...identity, sshAuthorizedKeys: [] });
        assert.doesNotMatch(noKeys.script, /authorized_keys/, "without keys, existing keys are left alone");
    });

    it("is byte-identical for the same input", () => {
        const a = renderBootstrapScript(identity, parts("x"));
        assert.strictEqual(renderBootstrapScript(identity, parts("x")), a);
        assert.notStrictEqual(renderBootstrapScript({ ...identity, hostname: "dev-cp-2" }, parts("x")), a);
    });

    it("user-data keeps cloud-init's default user and runs the very same script", () => {
        const script = renderBootstrapScript(identity, []);
        const doc = parse(renderUserData(identity, script));
        assert.deepStrictEqual(doc.users[0], "default");
        assert.strictEqual(doc.users[1].name, "ops");
        assert.deepStrictEqual(doc.write_files, [{ path: BOOTSTRAP_PATH, permissions: "0700", owner: "root:root", content: script }]);
        assert.deepStrictEqual(doc.runcmd, [[BOOTSTRAP_PATH]]);
    });

    it("names deploy-time placeholders clearly and finds them again", () => {
        assert.strictEqual(placeholder("bootstrap-token"), "@@GROUNDWORK:bootstrap-token@@");
        assert.throws(() => placeholder("Bootstrap Token"), /placeholder name must be lower-case words joined by '-'/);
        assert.deepStrictEqual(placeholdersIn(`a ${placeholder("z-key")} b ${placeholder("a-token")} ${placeholder("z-key")}`), ["a-token", "z-key"]);
    });
});
