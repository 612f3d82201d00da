package main

// The provider: check, diff, create, update, delete and read of the two command resources.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

func newProvider() p.Provider {
	return p.Provider{
		GetSchema: func(context.Context, p.GetSchemaRequest) (p.GetSchemaResponse, error) {
			return p.GetSchemaResponse{Schema: schemaJSON()}, nil
		},
		CheckConfig: func(_ context.Context, req p.CheckRequest) (p.CheckResponse, error) {
			return p.CheckResponse{Inputs: req.Inputs}, nil
		},
		DiffConfig: func(context.Context, p.DiffRequest) (p.DiffResponse, error) {
			return p.DiffResponse{}, nil
		},
		Check:  check,
		Diff:   diff,
		Create: create,
		Update: update,
		Delete: remove,
		Read:   read,
	}
}

func token(ctx context.Context) string { return p.GetTypeToken(ctx) }

func check(ctx context.Context, req p.CheckRequest) (p.CheckResponse, error) {
	_, failures := readSpec(token(ctx), req.Inputs)
	return p.CheckResponse{Inputs: req.Inputs, Failures: failures}, nil
}

// plain drops secret marks and dependencies, so that a value compares by content only.
func plain(v property.Value) property.Value {
	switch {
	case v.IsArray():
		out := make([]property.Value, 0, v.AsArray().Len())
		for _, e := range v.AsArray().All {
			out = append(out, plain(e))
		}
		return property.New(out)
	case v.IsMap():
		out := map[string]property.Value{}
		for k, e := range v.AsMap().All {
			out[k] = plain(e)
		}
		return property.New(out)
	}
	return v.WithSecret(false).WithDependencies(nil)
}

// diff: a change to triggers replaces the resource; any other input change is an update (which runs
// `update`, or `create` again when there is no update command).
func diff(_ context.Context, req p.DiffRequest) (p.DiffResponse, error) {
	olds := inputsOf(req.State)
	detailed := map[string]p.PropertyDiff{}
	for _, k := range sortedKeys(olds, req.Inputs) {
		if contains(req.IgnoreChanges, k) {
			continue
		}
		o, n := olds.Get(k), req.Inputs.Get(k)
		if !n.HasComputed() && plain(o).Equals(plain(n)) {
			continue
		}
		kind := p.Update
		switch {
		case o.IsNull():
			kind = p.Add
		case n.IsNull():
			kind = p.Delete
		}
		if k == "triggers" {
			kind += "&replace" // add&replace, delete&replace or update&replace
		}
		detailed[k] = p.PropertyDiff{Kind: kind, InputDiff: true}
	}
	return p.DiffResponse{HasChanges: len(detailed) > 0, DetailedDiff: detailed}, nil
}

// secretInputs reports whether any input other than the connection holds a secret: then stdout and
// stderr are secret too. (The SDK always makes the connection secret; it does not reach the output.)
func secretInputs(inputs property.Map) bool {
	for k, v := range inputs.All {
		if k != "connection" && v.HasSecrets() {
			return true
		}
	}
	return false
}

// secretStrings is every string held in a secret input, and of the connection (which the SDK
// always marks secret, host and user included) only its credentials and its proxy's.
func secretStrings(inputs property.Map) []string {
	var out []string
	var walk func(v property.Value, secret bool)
	walk = func(v property.Value, secret bool) {
		secret = secret || v.Secret()
		switch {
		case v.IsString():
			if secret {
				out = append(out, v.AsString())
			}
		case v.IsMap():
			for _, x := range v.AsMap().All {
				walk(x, secret)
			}
		case v.IsArray():
			for _, x := range v.AsArray().All {
				walk(x, secret)
			}
		}
	}
	credentials := func(c property.Value) {
		if !c.IsMap() {
			return
		}
		for _, k := range []string{"privateKey", "password"} {
			walk(c.AsMap().Get(k), true)
		}
	}
	for k, v := range inputs.All {
		if k == "connection" {
			credentials(v)
			if v.IsMap() {
				credentials(v.AsMap().Get("proxy"))
			}
			continue
		}
		walk(v, false)
	}
	return out
}

// outputs is the inputs plus stdout and stderr (unknown in previews).
func outputs(inputs property.Map, res *Result) property.Map {
	secret := secretInputs(inputs)
	stdout, stderr := property.New(property.Computed), property.New(property.Computed)
	if res != nil {
		stdout, stderr = property.New(res.Stdout), property.New(res.Stderr)
	}
	return inputs.Set("stdout", stdout.WithSecret(secret)).Set("stderr", stderr.WithSecret(secret))
}

// run runs command (may be empty: nothing runs) for the resource and logs its output as asked.
func run(ctx context.Context, tok string, inputs property.Map, command string) (Result, error) {
	s, failures := readSpec(tok, inputs)
	if len(failures) > 0 {
		reasons := make([]string, len(failures))
		for i, f := range failures {
			reasons[i] = f.Reason
		}
		return Result{}, fmt.Errorf("invalid inputs:\n%s", strings.Join(reasons, "\n"))
	}
	if command == "" {
		return Result{}, nil
	}
	var res Result
	var err error
	if tok == remoteToken {
		res, err = runRemote(ctx, s, command)
	} else {
		res, err = runLocal(ctx, s, command)
	}
	var failed *outputError
	if errors.As(err, &failed) {
		// The reason a command failed is what its operator needs: shown, with the secrets taken out.
		err = failed.shown(secretStrings(inputs))
	}
	if !secretInputs(inputs) {
		log := p.GetLogger(ctx)
		if res.Stdout != "" && (s.Logging == "stdout" || s.Logging == "stdoutAndStderr") {
			log.Info(res.Stdout)
		}
		if res.Stderr != "" && (s.Logging == "stderr" || s.Logging == "stdoutAndStderr") {
			log.Info(res.Stderr)
		}
	}
	return res, err
}

func commandOf(m property.Map, key string) string {
	if v := m.Get(key); v.IsString() {
		return v.AsString()
	}
	return ""
}

func create(ctx context.Context, req p.CreateRequest) (p.CreateResponse, error) {
	if req.DryRun {
		return p.CreateResponse{Properties: outputs(req.Properties, nil)}, nil
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return p.CreateResponse{}, err
	}
	id := req.Urn.Name() + "-" + hex.EncodeToString(b[:])
	res, err := run(ctx, token(ctx), req.Properties, commandOf(req.Properties, "create"))
	if err != nil {
		return p.CreateResponse{}, err
	}
	return p.CreateResponse{ID: id, Properties: outputs(req.Properties, &res)}, nil
}

func update(ctx context.Context, req p.UpdateRequest) (p.UpdateResponse, error) {
	if req.DryRun {
		return p.UpdateResponse{Properties: outputs(req.Inputs, nil)}, nil
	}
	command := commandOf(req.Inputs, "update")
	if command == "" {
		command = commandOf(req.Inputs, "create")
	}
	res, err := run(ctx, token(ctx), req.Inputs, command)
	if err != nil {
		return p.UpdateResponse{}, err
	}
	return p.UpdateResponse{Properties: outputs(req.Inputs, &res)}, nil
}

// remove runs the delete command with the inputs the resource was last created or updated with.
func remove(ctx context.Context, req p.DeleteRequest) error {
	inputs := inputsOf(req.Properties)
	_, err := run(ctx, token(ctx), inputs, commandOf(inputs, "delete"))
	return err
}

// read (refresh) keeps the recorded state: a command's effects cannot be read back.
func read(_ context.Context, req p.ReadRequest) (p.ReadResponse, error) {
	return p.ReadResponse{ID: req.ID, Properties: req.Properties, Inputs: inputsOf(req.Properties)}, nil
}
