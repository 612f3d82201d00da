package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// analyzerKind is the plugin kind the engine asks for when it boots a policy pack whose
// PulumiPolicy.yaml says `runtime: nodejs` (apitype.AnalyzerPlugin).
const analyzerKind = "analyzer"

// runPolicyPack is @pulumi/pulumi's entry point for policy packs: `run-policy-pack <engine> <pack>`.
// It registers ts-node (TypeScript packs run from source, type-checked, as under the upstream host),
// loads the pack, and the pack's PolicyPack prints the analyzer's gRPC port as its first line.
const runPolicyPack = "@pulumi/pulumi/cmd/run-policy-pack"

// RunPlugin runs a policy pack for the engine (`pulumi preview|up --policy-pack DIR`):
//
//	node [nodeargs] <@pulumi/pulumi>/cmd/run-policy-pack <engine address> <pack dir>
//
// in the pack directory, with the environment the engine sends. The module is resolved from the
// pack directory as Node would (its node_modules, then each parent's). Output is streamed back as
// it comes (the engine reads the analyzer's port from the first stdout line), then the exit code.
// Other plugin kinds (Node.js resource providers) are not supported by this host.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetKind() != analyzerKind {
		return status.Errorf(codes.Unimplemented,
			"groundwork's Node.js language host runs only policy packs (plugin kind %q), not %q", analyzerKind, req.GetKind())
	}
	info := req.GetInfo()
	packDir := info.GetProgramDirectory()
	if packDir == "" {
		packDir = req.GetPwd()
	}
	packDir, err := filepath.Abs(packDir)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "policy pack directory: %v", err)
	}
	out := &streamWriter{server: server}
	stdout, stderr := out.stdout(), out.stderr()

	script, nodeErr, err := h.resolveModule(packDir, runPolicyPack)
	if err != nil {
		// Node's own "Cannot find module '@pulumi/pulumi/cmd/run-policy-pack'" is what the engine
		// recognises to tell the user to install the pack's dependencies.
		_, _ = stderr.Write(nodeErr)
		_, _ = fmt.Fprintf(stderr, "pulumi-language-nodejs: %s is not installed for the policy pack in %s\n", runPolicyPack, packDir)
		return out.exit(1)
	}

	args := strings.Fields(optionString(info.GetOptions().AsMap(), "nodeargs"))
	args = append(args, script)
	args = append(args, req.GetArgs()...) // the engine address
	args = append(args, packDir)

	cmd := exec.CommandContext(server.Context(), h.node, args...)
	cmd.Dir = packDir
	cmd.Env = req.GetEnv()
	if len(cmd.Env) == 0 {
		cmd.Env = os.Environ()
	}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return out.exit(0)
	case errors.As(err, &exitErr):
		code := exitErr.ExitCode()
		if code < 0 { // killed by a signal, e.g. when the engine is done with the pack
			code = 1
		}
		return out.exit(int32(code))
	default:
		return status.Errorf(codes.Internal, "could not start node for the policy pack in %s: %v", packDir, err)
	}
}

// streamWriter sends a plugin's stdout and stderr to the engine. exec copies the two pipes on two
// goroutines and a gRPC stream must not be sent on concurrently, hence the lock.
type streamWriter struct {
	mu     sync.Mutex
	server pulumirpc.LanguageRuntime_RunPluginServer
}

type sendFunc func([]byte) error

func (f sendFunc) Write(p []byte) (int, error) {
	if err := f(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *streamWriter) send(resp *pulumirpc.RunPluginResponse) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.server.Send(resp)
}

func (w *streamWriter) stdout() sendFunc {
	return func(p []byte) error {
		b := append([]byte(nil), p...) // exec reuses its buffer
		return w.send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	}
}

func (w *streamWriter) stderr() sendFunc {
	return func(p []byte) error {
		b := append([]byte(nil), p...)
		return w.send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	}
}

// exit sends the exit code, the last message of the stream.
func (w *streamWriter) exit(code int32) error {
	return w.send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}
