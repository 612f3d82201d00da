import * as assert from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { issueLine, readOpenStack } from "../../components/workloads/planner";

// The OpenStack reader against a loopback HTTP server answering in the shapes of keystone v3, nova
// (microversion 2.79 embeds the flavor; older clouds give only its id) and glance v2. The live API
// is exercised by test/integration/migrate-openstack.int.ts.
describe("workloads/planner: OpenStack reader (API shapes on loopback)", () => {
    let server: http.Server;
    let base = "";
    const seen: string[] = [];

    before(async () => {
        server = http.createServer((req, res) => {
            seen.push(`${req.method} ${req.url} ${req.headers["x-auth-token"] ?? "-"} ${req.headers["openstack-api-version"] ?? "-"}`);
            const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
                res.writeHead(status, { "Content-Type": "application/json", ...headers });
                res.end(JSON.stringify(body));
            };
            if (req.method === "POST" && req.url === "/identity/v3/auth/tokens") {
                let body = "";
                req.on("data", (d) => (body += d));
                req.on("end", () => {
                    const auth = JSON.parse(body).auth;
                    if (auth.identity.password.user.password !== "secret") return json(401, { error: "no" });
                    json(201, { token: { catalog: [
                        { type: "compute", endpoints: [{ interface: "admin", url: "http://wrong" }, { interface: "public", url: `${base}/compute/v2.1/` }] },
                        { type: "image", endpoints: [{ interface: "public", url: `${base}/image` }] },
                    ] } }, { "X-Subject-Token": "tok-1" });
                });
                return;
            }
            if (req.headers["x-auth-token"] !== "tok-1") return json(401, {});
            if (req.url === "/compute/v2.1/servers/detail") {
                return json(200, { servers: [
                    { id: "a1", name: "pg-02", status: "ACTIVE", flavor: { original_name: "m1.large", vcpus: 4, ram: 8192, disk: 80 }, image: { id: "img-1" }, metadata: { cpu_p95: "10", mem_p95: "40%" }, "OS-EXT-SRV-ATTR:host": "cmp-1" },
                    { id: "b2", name: "api-02", status: "SHUTOFF", flavor: { id: "f-2" }, image: "", metadata: { ports: "8080;9090" } },
                    { id: "c3", name: "odd-01", status: "ACTIVE", flavor: { id: "f-2" }, image: "", metadata: { cpu_p95: "lots" } },
                    { id: "d4", name: "gone-01", status: "ACTIVE", flavor: { id: "f-deleted" }, image: "", metadata: {} },
                ] });
            }
            if (req.url === "/compute/v2.1/flavors/detail?is_public=None") return json(200, { flavors: [{ id: "f-2", name: "m1.small", vcpus: 1, ram: 2048, disk: 20 }] });
            if (req.url === "/image/v2/images?limit=1000") return json(200, { images: [{ id: "img-1", name: "postgres-15-golden" }] });
            json(404, {});
        });
        await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise((ok) => server.close(ok)));

    const creds = (password: string) => ({ authUrl: `${base}/identity/v3`, username: "admin", password, projectName: "demo", userDomainName: "Default", projectDomainName: "Default" });

    it("reads sizes from embedded flavors and from /flavors, metadata utilisation and ports, image names, power", async () => {
        const inv = await readOpenStack(creds("secret"));
        assert.deepStrictEqual(inv.vms.map((v) => [v.name, v.vcpus, v.memoryMiB, v.diskGiB, v.cpuPercent, v.memPercent, v.percentile, v.image, v.ports, v.poweredOn, v.host]), [
            ["api-02", 1, 2048, 20, undefined, undefined, undefined, undefined, [8080, 9090], false, undefined],
            ["pg-02", 4, 8192, 80, 10, 40, 95, "postgres-15-golden", [], true, "cmp-1"],
        ]);
        assert.deepStrictEqual(inv.issues.map(issueLine), [
            "openstack: server gone-01 (d4): gone-01: no size (flavor f-deleted has no vcpus/ram); left out",
            'openstack: server odd-01 (c3): odd-01: metadata cpu_p95 "lots": must be a percentage 0–100, e.g. "35" or "35%"; left out',
        ]);
        assert.ok(seen.filter((s) => s.startsWith("GET")).every((s) => s.endsWith("tok-1 compute 2.79")), seen.join("\n"));
    });

    it("a refused password is one fatal line", async () => {
        const inv = await readOpenStack(creds("wrong"));
        assert.deepStrictEqual(inv.issues.map((i) => [i.effect, issueLine(i)]), [["fatal", `openstack: keystone: ${base}/identity/v3/auth/tokens answered 401 (check OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME)`]]);
    });
});
