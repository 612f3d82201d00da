package main

// Running one command: locally through an interpreter, or on a remote host over SSH.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Result is what a finished command printed.
type Result struct{ Stdout, Stderr string }

func trim(b *bytes.Buffer) string { return strings.TrimSuffix(b.String(), "\n") }

// exitError describes a failed command with its output: an *outputError, which the provider
// shows with the secret input values taken out (it knows them; this file does not).
func exitError(what string, err error, res Result) error {
	return &outputError{what: what, err: err, res: res}
}

// outputError is a failed command and what it printed. Its own message withholds the output (it
// may echo a secret input); shown gives it back with every secret value replaced.
type outputError struct {
	what string
	err  error
	res  Result
}

func (e *outputError) Error() string {
	return fmt.Sprintf("%s failed: %v (output withheld: it may hold secrets)", e.what, e.err)
}

func (e *outputError) Unwrap() error { return e.err }

// shown is the error with the command's output, every secret value in it (and every line of at
// least 8 characters of a multi-line one, such as a PEM block's) replaced by [secret].
func (e *outputError) shown(secrets []string) error {
	if len(secrets) == 0 {
		return fmt.Errorf("%s failed: %w\nstdout:\n%s\nstderr:\n%s", e.what, e.err, e.res.Stdout, e.res.Stderr)
	}
	var pieces []string
	for _, s := range secrets {
		if len(s) >= 4 {
			pieces = append(pieces, s)
		}
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimSpace(line); len(line) >= 8 && line != s {
				pieces = append(pieces, line)
			}
		}
	}
	// Longest first, so a value is never left half-replaced by a shorter one inside it.
	sort.Slice(pieces, func(i, j int) bool { return len(pieces[i]) > len(pieces[j]) })
	hide := func(out string) string {
		for _, p := range pieces {
			out = strings.ReplaceAll(out, p, "[secret]")
		}
		return out
	}
	return fmt.Errorf("%s failed: %w (secret input values shown as [secret])\nstdout:\n%s\nstderr:\n%s", e.what, e.err, hide(e.res.Stdout), hide(e.res.Stderr))
}

// runLocal runs command with the spec's interpreter, environment, directory and stdin.
func runLocal(ctx context.Context, s Spec, command string) (Result, error) {
	args := append(append([]string{}, s.Interpreter[1:]...), command)
	cmd := exec.CommandContext(ctx, s.Interpreter[0], args...)
	cmd.Env = os.Environ()
	for _, k := range sortedEnv(s.Environment) {
		cmd.Env = append(cmd.Env, k+"="+s.Environment[k])
	}
	cmd.Dir = s.Dir
	cmd.Stdin = strings.NewReader(s.Stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := Result{trim(&out), trim(&errb)}
	if err != nil {
		return res, exitError("local command", err, res)
	}
	return res, nil
}

func sortedEnv(env map[string]string) []string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// shq quotes s for a POSIX shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'" }

func clientConfig(c *Connection) (*ssh.ClientConfig, error) {
	cfg := &ssh.ClientConfig{User: c.User, Timeout: time.Duration(c.PerDialTimeout) * time.Second}
	if c.PrivateKey != "" {
		var signer ssh.Signer
		var err error
		if c.PrivateKeyPassword != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(c.PrivateKey), []byte(c.PrivateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(c.PrivateKey))
		}
		if err != nil {
			// The parser's message never quotes the key.
			return nil, fmt.Errorf("connection.privateKey: cannot be read: %w", err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if c.Password != "" {
		pw := c.Password
		cfg.Auth = append(cfg.Auth, ssh.Password(pw), ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	cfg.HostKeyCallback = ssh.InsecureIgnoreHostKey() //nolint:gosec // as @pulumi/command does when hostKey is unset
	if c.HostKey != "" {
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.HostKey))
		if err != nil {
			return nil, fmt.Errorf("connection.hostKey: not a public key in authorized_keys format: %w", err)
		}
		cfg.HostKeyCallback = ssh.FixedHostKey(key)
	}
	return cfg, nil
}

// dial connects, retrying failed dials up to connection.dialErrorLimit times (-1: without limit).
// With a proxy, the proxy is dialled first (its own limits), and the host is reached through it
// (an SSH "direct-tcpip" channel, as OpenSSH's ProxyJump does); closing the client closes both.
func dial(ctx context.Context, c *Connection) (*ssh.Client, error) {
	cfg, err := clientConfig(c)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	var jump *ssh.Client
	via := ""
	if c.Proxy != nil {
		if jump, err = dial(ctx, c.Proxy); err != nil {
			return nil, fmt.Errorf("the proxy (connection.proxy): %w", err)
		}
		via = fmt.Sprintf(" through the proxy %s", net.JoinHostPort(c.Proxy.Host, strconv.Itoa(c.Proxy.Port)))
	}
	for attempt := 1; ; attempt++ {
		var conn net.Conn
		if jump != nil {
			conn, err = dialThrough(ctx, jump, addr, cfg.Timeout)
		} else {
			d := net.Dialer{Timeout: cfg.Timeout}
			conn, err = d.DialContext(ctx, "tcp", addr)
		}
		if err == nil {
			_ = conn.SetDeadline(time.Now().Add(cfg.Timeout))
			sc, chans, reqs, herr := ssh.NewClientConn(conn, addr, cfg)
			if herr == nil {
				_ = conn.SetDeadline(time.Time{})
				client := ssh.NewClient(sc, chans, reqs)
				if jump != nil {
					go func() { _ = client.Wait(); _ = jump.Close() }()
				}
				return client, nil
			}
			_ = conn.Close()
			err = herr
		}
		if ctx.Err() != nil {
			closeJump(jump)
			return nil, fmt.Errorf("connecting to %s%s as %s: %w", addr, via, c.User, ctx.Err())
		}
		if c.DialErrorLimit >= 0 && attempt >= c.DialErrorLimit {
			closeJump(jump)
			return nil, fmt.Errorf("connecting to %s%s as %s failed %d times (dialErrorLimit): %w", addr, via, c.User, attempt, err)
		}
		wait := time.Duration(min(attempt, 5)) * time.Second
		select {
		case <-ctx.Done():
			closeJump(jump)
			return nil, fmt.Errorf("connecting to %s%s as %s: %w", addr, via, c.User, ctx.Err())
		case <-time.After(wait):
		}
	}
}

func closeJump(jump *ssh.Client) {
	if jump != nil {
		_ = jump.Close()
	}
}

// dialThrough opens a TCP connection to addr from the proxy, bounded by timeout.
func dialThrough(ctx context.Context, jump *ssh.Client, addr string, timeout time.Duration) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := jump.Dial("tcp", addr)
		done <- result{conn, err}
	}()
	select {
	case r := <-done:
		return r.conn, r.err
	case <-time.After(timeout):
		return nil, fmt.Errorf("dial tcp %s: i/o timeout (from the proxy)", addr)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runRemote runs command on the spec's host. Environment variables go through SSH "env" requests;
// those the server refuses (sshd's AcceptEnv) are exported by the remote shell before the command.
func runRemote(ctx context.Context, s Spec, command string) (Result, error) {
	client, err := dial(ctx, s.Connection)
	if err != nil {
		return Result{}, err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return Result{}, fmt.Errorf("opening an SSH session on %s: %w", s.Connection.Host, err)
	}
	defer session.Close()
	var prefix strings.Builder
	for _, k := range sortedEnv(s.Environment) {
		if session.Setenv(k, s.Environment[k]) != nil {
			fmt.Fprintf(&prefix, "export %s=%s\n", k, shq(s.Environment[k]))
		}
	}
	var out, errb bytes.Buffer
	session.Stdout, session.Stderr = &out, &errb
	session.Stdin = strings.NewReader(s.Stdin)
	done := make(chan error, 1)
	go func() { done <- session.Run(prefix.String() + command) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = session.Signal(ssh.SIGKILL)
		_ = client.Close()
		err = ctx.Err()
	}
	res := Result{trim(&out), trim(&errb)}
	if err != nil {
		var exit *ssh.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("exit status %d", exit.ExitStatus())
		}
		return res, exitError("remote command on "+s.Connection.Host, err, res)
	}
	return res, nil
}
