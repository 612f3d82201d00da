// Command pulumi-language-nodejs is groundwork's own Node.js language host for the Pulumi engine.
//
// Why our own: the upstream host lives in its own Go module, and the Go module proxy reachable
// from our machines refuses every version of it. The engine only needs a small part of the
// LanguageRuntime protocol for `preview`, `up`, `refresh` and `destroy`: the plugins a program
// needs (read from node_modules) and a way to run the program. The program itself is started
// through @pulumi/pulumi's own `cmd/run` entry point with the flags and environment that entry
// point documents, so the Node.js SDK behaves exactly as under the upstream host. Everything
// else answers Unimplemented, which the engine treats as "not supported by this host".
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is stamped by tools/toolchain/build.sh with the engine version it was built against.
var version = "3.248.0"

// exitAfterUserMessage is the exit code @pulumi/pulumi's cmd/run uses after it already told the
// user what went wrong; the engine must then not print a second, generic error.
const exitAfterUserMessage = 32

func main() {
	// The engine passes its own address as the last positional argument, and may put logging or
	// tracing flags (-v=9, --logtostderr, --tracing=url) before it; none of them matter here.
	engine := ""
	for _, arg := range os.Args[1:] {
		if !strings.HasPrefix(arg, "-") {
			engine = arg
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-language-nodejs: node is not on PATH; install Node.js 20 or later")
		os.Exit(1)
	}
	h := &host{node: node, engine: engine}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: cannot start the gRPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: gRPC server stopped: %v\n", err)
		os.Exit(1)
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	node   string
	engine string
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins lists every package under the program's node_modules whose package.json
// declares `"pulumi": {"resource": true}`, so the engine can check those plugins up front.
func (h *host) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	found := map[string]*pulumirpc.PluginDependency{}
	seen := map[string]bool{}
	if err := scanNodeModules(filepath.Join(dir, "node_modules"), found, seen, 0); err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPluginsResponse{}
	for _, dep := range found {
		resp.Plugins = append(resp.Plugins, dep)
	}
	return resp, nil
}

// packageJSON holds the fields of a package.json that name a resource plugin.
type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

// scanNodeModules walks one node_modules folder (scoped packages and nested node_modules
// included), following symlinks once each so a linked node_modules works and loops cannot.
func scanNodeModules(dir string, found map[string]*pulumirpc.PluginDependency, seen map[string]bool, depth int) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil || seen[real] || depth > 8 {
		return nil // no node_modules here, or already visited
	}
	seen[real] = true
	entries, err := os.ReadDir(real)
	if err != nil {
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	for _, e := range entries {
		pkgDir := filepath.Join(real, e.Name())
		if strings.HasPrefix(e.Name(), "@") {
			if err := scanNodeModules(pkgDir, found, seen, depth+1); err != nil {
				return err
			}
			continue
		}
		if dep := readPluginDependency(filepath.Join(pkgDir, "package.json")); dep != nil {
			found[dep.Name+"@"+dep.Version] = dep
		}
		if err := scanNodeModules(filepath.Join(pkgDir, "node_modules"), found, seen, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func readPluginDependency(path string) *pulumirpc.PluginDependency {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var pkg packageJSON
	if json.Unmarshal(b, &pkg) != nil || !pkg.Pulumi.Resource {
		return nil
	}
	name := pkg.Pulumi.Name
	if name == "" {
		name = strings.TrimPrefix(strings.TrimPrefix(pkg.Name, "@pulumi/"), "@")
	}
	ver := pkg.Pulumi.Version
	if ver == "" {
		ver = pkg.Version
	}
	if name == "" || ver == "" {
		return nil
	}
	if !strings.HasPrefix(ver, "v") {
		ver = "v" + ver
	}
	return &pulumirpc.PluginDependency{Name: name, Kind: "resource", Version: ver, Server: pkg.Pulumi.Server}
}

// Run starts `node [nodeargs] <@pulumi/pulumi>/cmd/run <flags> <entry point> <args>` in the
// program directory and waits for it.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := info.GetProgramDirectory()
	if programDir == "" {
		programDir = req.GetPwd()
	}
	runScript, err := h.resolveRunScript(programDir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	opts := info.GetOptions().AsMap()

	args := strings.Fields(optionString(opts, "nodeargs"))
	args = append(args, runScript)
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name+"="+value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", h.engine)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("stack", req.GetStack())
	flag("pwd", programDir)
	flag("root-directory", info.GetRootDirectory())
	if req.GetParallel() > 0 {
		flag("parallel", strconv.Itoa(int(req.GetParallel())))
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = req.GetProgram()
	}
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	env, err := runEnv(req, opts)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, h.node, args...)
	cmd.Dir = programDir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == exitAfterUserMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start node: %v", err)}, nil
	}
}

// resolveRunScript finds the program's own copy of @pulumi/pulumi, as Node would from there.
func (h *host) resolveRunScript(programDir string) (string, error) {
	path, _, err := h.resolveModule(programDir, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return "", fmt.Errorf("@pulumi/pulumi is not installed for the program in %s: run npm install there",
			programDir)
	}
	return path, nil
}

// resolveModule resolves a module the way Node does from dir (its node_modules, then each parent's).
// On failure it also returns what Node printed, which names the missing module.
func (h *host) resolveModule(dir, module string) (string, []byte, error) {
	const probe = `console.log(require.resolve(process.argv[2], {paths: [process.argv[1]]}))`
	cmd := exec.Command(h.node, "-e", probe, dir, module)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", stderr.Bytes(), err
	}
	return strings.TrimSpace(string(out)), nil, nil
}

// runEnv is the environment cmd/run reads its configuration and TypeScript settings from.
func runEnv(req *pulumirpc.RunRequest, opts map[string]any) ([]string, error) {
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secrets),
	)
	// Pulumi.yaml `runtime.options.typescript` defaults to true, as upstream.
	typescript := true
	if v, ok := opts["typescript"].(bool); ok {
		typescript = v
	}
	env = append(env, "PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(typescript))
	if ts := optionString(opts, "tsconfig"); ts != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+ts)
	}
	return env, nil
}

func optionString(opts map[string]any, key string) string {
	if v, ok := opts[key].(string); ok {
		return v
	}
	return ""
}
