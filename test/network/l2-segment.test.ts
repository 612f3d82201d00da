/**
 * tools/guest/l2.sh, the guests' private segment: `down` stops whatever an interrupted test left
 * running inside the segment's namespace (a Pulumi engine and its plugins, forwards) before it
 * removes the namespace, which otherwise outlive it, detached from any namespace anyone can name.
 * Real network namespaces and processes (needs root, as the guest tests do).
 */
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

const L2 = path.resolve(__dirname, "../../tools/guest/l2.sh");
const NAME = "gwt9";
const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));

describe("tools/guest/l2.sh down", () => {
    after(() => execFileSync(L2, ["down", NAME], { stdio: "ignore" }));

    it("stops the processes left in the segment's namespace, then removes it; a process outside is untouched", async function () {
        this.timeout(60_000);
        execFileSync(L2, ["up", NAME, "--taps", "1", "--probe", "10.77.9.1/24"], { stdio: "ignore" });
        // One that ignores TERM (as a stuck plugin might), one that does not, and one outside the namespace.
        const inside = [
            spawn("ip", ["netns", "exec", `gw-${NAME}`, "bash", "-c", "trap '' TERM; sleep 300 & wait"], { stdio: "ignore", detached: true }),
            spawn("ip", ["netns", "exec", `gw-${NAME}`, "sleep", "301"], { stdio: "ignore", detached: true }),
        ];
        const outside = spawn("sleep", ["302"], { stdio: "ignore", detached: true });
        try {
            await new Promise((r) => setTimeout(r, 500));
            const before = execFileSync("ip", ["netns", "pids", `gw-${NAME}`]).toString().trim().split("\n").map(Number);
            assert.ok(before.length >= 3, `processes in gw-${NAME}: ${before}`); // bash, its sleep, and the other sleep
            const said = execFileSync(L2, ["down", NAME], { stdio: ["ignore", "pipe", "pipe"] }).toString() + "";
            for (const pid of before) assert.ok(!alive(pid), `pid ${pid} still runs after down (${said})`);
            assert.ok(alive(outside.pid!), "the process outside the namespace was stopped");
            assert.doesNotMatch(execFileSync("ip", ["netns", "list"]).toString(), new RegExp(`^gw-${NAME}\\b`, "m"));
            // Idempotent: a second down finds nothing and succeeds.
            execFileSync(L2, ["down", NAME], { stdio: "ignore" });
        } finally {
            for (const c of [...inside, outside]) if (c.pid && alive(c.pid)) process.kill(c.pid, "SIGKILL");
        }
    });
});
