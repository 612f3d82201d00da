import * as assert from "assert";
import * as fs from "fs";
import { parse } from "yaml";
import { renderStack } from "../../cli/commands/render";
import { loadStackFile, stackFilePath } from "../../cli/stackfile";
import { dockerAcceptsMirror } from "../../components/engine";
import { writeStackFile } from "../support/cli";

/** The daemon.json a machine's bootstrap writes (the heredoc after its gw_put line). */
function daemonJsonOf(script: string): Record<string, unknown> {
    const m = /gw_put '\/etc\/docker\/daemon\.json' 0644 <<'(\w+)'\n([\s\S]*?)\n\1\n/.exec(script);
    assert.ok(m, "the bootstrap writes /etc/docker/daemon.json");
    return JSON.parse(m[2]);
}

describe("engine: docker and a Harbor proxy-cache mirror (issue 11, item 14)", () => {
    // Hand-checked against moby's registry.ValidateMirror: http(s), no user, no path/query/fragment.
    const cases: [string, boolean][] = [
        ["https://mirror.example", true],
        ["https://mirror.example/", true],
        ["http://mirror.example:5000", true],
        ["https://harbor.example/v2/dockerhub", false],
        ["https://harbor.example/dockerhub/", false],
        ["https://mirror.example/?x=1", false],
        ["https://user:pw@mirror.example", false],
        ["ftp://mirror.example", false],
    ];
    for (const [url, ok] of cases) {
        it(`dockerd ${ok ? "accepts" : "refuses"} ${url}`, () => assert.strictEqual(dockerAcceptsMirror(url), ok));
    }

    it("prod with engine docker: daemon.json has no mirror with a path, containerd still pulls through Harbor", () => {
        const config = parse(fs.readFileSync(stackFilePath("prod"), "utf8")).config;
        config["groundwork:platform"].engine.kind = "docker";
        // A path-less Docker Hub mirror the user lists is kept (docker's own normal form is fine either way).
        config["groundwork:platform"].engine.mirrors = [{ host: "docker.io", endpoints: ["https://harbor.prod.example/v2/dockerhub", "https://hub-mirror.prod.example"] }];
        const stack = loadStackFile(writeStackFile(config));
        assert.deepStrictEqual(stack.problems, []);
        const rendered = renderStack(stack.spec!);
        const worker = rendered.machines.find((m) => m.machine.name === "prod-general-1")!;
        assert.deepStrictEqual(daemonJsonOf(worker.script)["registry-mirrors"], ["https://hub-mirror.prod.example"]);
        for (const m of rendered.machines) {
            const mirrors = (daemonJsonOf(m.script)["registry-mirrors"] ?? []) as string[];
            for (const u of mirrors) assert.ok(dockerAcceptsMirror(u), `${m.machine.name}: dockerd would refuse ${u}`);
        }
        // Kubernetes pulls through containerd's CRI: its hosts.toml keeps the Harbor project path.
        assert.match(worker.script, /\[host\."https:\/\/harbor\.prod\.example\/v2\/dockerhub"\]\n {2}capabilities = \["pull", "resolve"\]\n {2}override_path = true/);
    });
});
