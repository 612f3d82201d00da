package main

// Reading and validating the inputs of command:remote:Command and command:local:Command.
// Every bad input gives one failure naming its property path and what is allowed.

import (
	"fmt"
	"math"
	"sort"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

const (
	remoteToken = "command:remote:Command"
	localToken  = "command:local:Command"
)

// The inputs each resource accepts (the SDK's names; see schema.json).
var (
	commonInputs = []string{"create", "update", "delete", "environment", "stdin", "triggers", "logging", "addPreviousOutputInEnv"}
	remoteInputs = append([]string{"connection"}, commonInputs...)
	localInputs  = append([]string{"dir", "interpreter"}, commonInputs...)
	proxyFields  = []string{"host", "port", "user", "privateKey", "privateKeyPassword", "password", "hostKey", "dialErrorLimit", "perDialTimeout"}
	connFields   = append([]string{"proxy"}, proxyFields...)
	loggingModes = []string{"stdout", "stderr", "stdoutAndStderr", "none"}
	// Inputs of the @pulumi/command 1.2.1 SDK this plugin does not implement: refused with a clear message.
	notServed = map[string]string{
		"archivePaths":                     "archives of local files are not supported by groundwork's command plugin",
		"assetPaths":                       "assets of local files are not supported by groundwork's command plugin",
		"connection.agentSocketPath":       "SSH agents are not supported by groundwork's command plugin; give privateKey or password",
		"connection.proxy.agentSocketPath": "SSH agents are not supported by groundwork's command plugin; give the proxy's privateKey or password",
	}
)

// Connection is how to reach a remote host, with the SDK's defaults; Proxy, when set, is the jump
// host (bastion) the connection goes through.
type Connection struct {
	Host, User, PrivateKey, PrivateKeyPassword, Password, HostKey string
	Port, DialErrorLimit, PerDialTimeout                          int
	Proxy                                                         *Connection
}

// Spec is one command resource's inputs, read from a property map.
type Spec struct {
	Create, Update, Delete, Stdin, Dir, Logging string
	Environment                                 map[string]string
	Interpreter                                 []string
	Connection                                  *Connection
}

type reader struct{ failures []p.CheckFailure }

func (r *reader) fail(path, format string, a ...any) {
	r.failures = append(r.failures, p.CheckFailure{Property: path, Reason: fmt.Sprintf("%s: %s", path, fmt.Sprintf(format, a...))})
}

// known reports whether v holds a value to read (unknown values are checked once they are known).
func known(v property.Value) bool { return !v.IsNull() && !v.HasComputed() }

func (r *reader) str(m property.Map, key, path string) string {
	v := m.Get(key)
	if !known(v) {
		return ""
	}
	if !v.IsString() {
		r.fail(path, "must be a string")
		return ""
	}
	return v.AsString()
}

func (r *reader) integer(m property.Map, key, path string, def, min int) int {
	v := m.Get(key)
	if !known(v) {
		return def
	}
	if !v.IsNumber() || v.AsNumber() != math.Trunc(v.AsNumber()) || v.AsNumber() < float64(min) || v.AsNumber() > 65535*1000 {
		r.fail(path, "must be a whole number of at least %d", min)
		return def
	}
	return int(v.AsNumber())
}

func (r *reader) unknownKeys(m property.Map, allowed []string, prefix string) {
	for k := range m.AllStable {
		if why, ok := notServed[prefix+k]; ok {
			if !m.Get(k).IsNull() {
				r.fail(prefix+k, "%s", why)
			}
			continue
		}
		if !contains(allowed, k) {
			r.fail(prefix+k, "is not a property of this resource; allowed: %s", strings.Join(allowed, ", "))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readSpec reads the inputs of resource type token; failures are returned, not raised.
func readSpec(token string, m property.Map) (Spec, []p.CheckFailure) {
	r := &reader{}
	var s Spec
	switch token {
	case remoteToken:
		r.unknownKeys(m, remoteInputs, "")
		s.Connection = r.connection(m.Get("connection"))
	case localToken:
		r.unknownKeys(m, localInputs, "")
		s.Dir = r.str(m, "dir", "dir")
		s.Interpreter = []string{"/bin/sh", "-c"}
		if v := m.Get("interpreter"); known(v) {
			s.Interpreter = r.strings(v, "interpreter")
		}
	default:
		r.fail("type", "unknown resource type %q; this plugin serves %s and %s", token, remoteToken, localToken)
		return s, r.failures
	}
	s.Create = r.str(m, "create", "create")
	s.Update = r.str(m, "update", "update")
	s.Delete = r.str(m, "delete", "delete")
	s.Stdin = r.str(m, "stdin", "stdin")
	s.Logging = r.str(m, "logging", "logging")
	if s.Logging == "" {
		s.Logging = "stdoutAndStderr"
	} else if !contains(loggingModes, s.Logging) {
		r.fail("logging", "must be one of %s, got %q", strings.Join(loggingModes, ", "), s.Logging)
	}
	if v := m.Get("addPreviousOutputInEnv"); known(v) && (!v.IsBool() || v.AsBool()) {
		r.fail("addPreviousOutputInEnv", "only false is supported by groundwork's command plugin (previous outputs are never put in the environment)")
	}
	if v := m.Get("triggers"); known(v) && !v.IsArray() {
		r.fail("triggers", "must be a list")
	}
	s.Environment = map[string]string{}
	if v := m.Get("environment"); known(v) {
		if !v.IsMap() {
			r.fail("environment", "must be a map of names to strings")
		} else {
			for k, e := range v.AsMap().AllStable {
				path := fmt.Sprintf("environment.%s", k)
				if k == "" || strings.ContainsAny(k, "=\x00") {
					r.fail(path, "is not a valid environment variable name")
				} else if known(e) && !e.IsString() {
					r.fail(path, "must be a string")
				} else if known(e) {
					s.Environment[k] = e.AsString()
				}
			}
		}
	}
	return s, r.failures
}

func (r *reader) strings(v property.Value, path string) []string {
	if !v.IsArray() || v.AsArray().Len() == 0 {
		r.fail(path, "must be a non-empty list of strings")
		return nil
	}
	var out []string
	for i, e := range v.AsArray().All {
		if known(e) && !e.IsString() {
			r.fail(fmt.Sprintf("%s[%d]", path, i), "must be a string")
		}
		if known(e) && e.IsString() {
			out = append(out, e.AsString())
		}
	}
	return out
}

func (r *reader) connection(v property.Value) *Connection {
	return r.conn(v, "connection", connFields)
}

// conn reads a connection (path "connection") or its proxy (path "connection.proxy").
func (r *reader) conn(v property.Value, path string, fields []string) *Connection {
	if v.IsNull() {
		r.fail(path, "is required (host, and privateKey or password)")
		return nil
	}
	if v.HasComputed() && !v.IsMap() {
		return nil
	}
	if !v.IsMap() {
		r.fail(path, "must be an object with host, port, user, privateKey or password")
		return nil
	}
	m := v.AsMap()
	r.unknownKeys(m, fields, path+".")
	c := &Connection{
		Host:               r.str(m, "host", path+".host"),
		User:               r.str(m, "user", path+".user"),
		PrivateKey:         r.str(m, "privateKey", path+".privateKey"),
		PrivateKeyPassword: r.str(m, "privateKeyPassword", path+".privateKeyPassword"),
		Password:           r.str(m, "password", path+".password"),
		HostKey:            r.str(m, "hostKey", path+".hostKey"),
		Port:               r.integer(m, "port", path+".port", 22, 1),
		DialErrorLimit:     r.integer(m, "dialErrorLimit", path+".dialErrorLimit", 10, -1),
		PerDialTimeout:     r.integer(m, "perDialTimeout", path+".perDialTimeout", 15, 1),
	}
	if c.User == "" {
		c.User = "root"
	}
	if c.Port > 65535 {
		r.fail(path+".port", "must be a port number from 1 to 65535, got %d", c.Port)
	}
	if c.DialErrorLimit == 0 {
		r.fail(path+".dialErrorLimit", "must be -1 (no limit) or at least 1")
	}
	if m.Get("host").IsNull() {
		r.fail(path+".host", "is required")
	}
	if m.Get("privateKey").IsNull() && m.Get("password").IsNull() {
		r.fail(path, "needs privateKey or password")
	}
	if pv := m.Get("proxy"); contains(fields, "proxy") && !pv.IsNull() {
		c.Proxy = r.conn(pv, path+".proxy", proxyFields)
	}
	return c
}

// inputsOf returns the input part of a state (everything but the outputs).
func inputsOf(state property.Map) property.Map {
	return state.Delete("stdout", "stderr")
}

func sortedKeys(ms ...property.Map) []string {
	set := map[string]bool{}
	for _, m := range ms {
		for k := range m.All {
			set[k] = true
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
