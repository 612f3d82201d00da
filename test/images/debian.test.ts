/**
 * Debian packages as image layers, checked against apt's other answer (`apt-cache depends
 * --recurse`) and against the unpacked tools themselves.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { applyAlternatives, checkLinkage, debClosures, debClosuresMemo, downloadDebs } from "../../tools/images/debian";
import { debianRootfs } from "../../tools/images/oci";

describe("images: Debian packages as layers", function () {
    this.timeout(300_000);
    let work: string;
    before(() => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "gw-debian-test-"));
    });
    after(() => fs.rmSync(work, { recursive: true, force: true }));

    it("the closure of iptables + conntrack is what `apt-cache depends --recurse` lists, at the candidate versions", () => {
        const [closure] = debClosures([["iptables", "conntrack"]]);
        const recursive = execFileSync("apt-cache", ["depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", "iptables", "conntrack"], { encoding: "utf8" })
            .split("\n")
            .filter((l) => /^\S/.test(l))
            .sort();
        assert.deepStrictEqual(closure.map((p) => p.name), recursive);
        const policy = execFileSync("apt-cache", ["policy", ...closure.map((p) => p.name)], { encoding: "utf8" });
        const candidates = Object.fromEntries([...policy.matchAll(/^(\S+):\n {2}Installed: .*\n {2}Candidate: (\S+)$/gm)].map((m) => [m[1], m[2]]));
        assert.deepStrictEqual(Object.fromEntries(closure.map((p) => [p.name, p.version])), candidates);
        // Hand-checked: Debian 12's iptables, the nf_tables one with its libraries.
        assert.ok(closure.some((p) => p.name === "iptables" && p.version === "1.8.9-2"));
        assert.ok(["libc6", "libnftnl11", "libmnl0", "libxtables12", "libnetfilter-conntrack3"].every((n) => closure.some((p) => p.name === n)));
    });

    it("the remembered closure is apt's while the package lists are unchanged, and asked again when its key is stale", () => {
        const memo = path.join(work, "memo", "closures.json");
        const sets = [["busybox-static"], ["iptables", "conntrack"]];
        const fresh = debClosures(sets);
        assert.deepStrictEqual(debClosuresMemo(sets, memo), fresh);
        // A planted answer under the current key is returned as it is: the memo, not apt, answered.
        const stored = JSON.parse(fs.readFileSync(memo, "utf8")) as { key: string; closures: unknown };
        fs.writeFileSync(memo, JSON.stringify({ key: stored.key, closures: [[{ name: "planted", version: "1" }], []] }));
        assert.deepStrictEqual(debClosuresMemo(sets, memo), [[{ name: "planted", version: "1" }], []]);
        // Under another key (other lists, other sets) apt is asked and the memo replaced.
        fs.writeFileSync(memo, JSON.stringify({ key: "stale", closures: [] }));
        assert.deepStrictEqual(debClosuresMemo(sets, memo), fresh);
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(memo, "utf8")).closures, fresh);
    });

    it("alternatives follow dpkg's automatic choice (nf_tables over legacy), and the loader check names a library left out", () => {
        const [closure] = debClosures([["iptables", "conntrack"]]);
        const debs = downloadDebs(closure, path.join(work, "debs"));
        const full = debianRootfs(debs, work);
        const links = applyAlternatives(full, debs);
        assert.strictEqual(links["/usr/sbin/iptables"], "/usr/sbin/iptables-nft");
        assert.strictEqual(links["/usr/sbin/ip6tables-restore"], "/usr/sbin/ip6tables-nft-restore");
        assert.strictEqual(fs.readlinkSync(path.join(full, "usr/sbin/iptables")), "iptables-nft");
        checkLinkage(full);
        // The same packages less libmnl0: every user of libmnl.so.0 is named (found on this host, or nowhere).
        const short = debianRootfs(debs.filter((d) => !path.basename(d).startsWith("libmnl0_")), work);
        assert.throws(() => checkLinkage(short), (e: Error) => {
            assert.match(e.message, /^ {2}usr\/sbin\/conntrack needs libmnl\.so\.0: (not found|found only outside the image, at \/\S+\/libmnl\.so\.0)$/m);
            assert.match(e.message, /^ {2}usr\/sbin\/xtables-nft-multi needs libmnl\.so\.0/m);
            return true;
        });
    });
});
