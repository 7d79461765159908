// Package engine is the Podman layer of pocketdock: finding and starting an engine,
// creating and managing labelled sandbox containers, running commands in them,
// moving files and handling images. Nothing here knows about Lua.
package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/containers/podman/v5/pkg/bindings"
)

// Engine is one connected Podman service.
type Engine struct {
	URI   string // the URI it answered on
	conn  context.Context
	local bool // a unix socket on this host: bind-mount sources are host paths
	// Tried lists the candidates asked before this one answered, each with why
	// it did not, and Source says how this one was chosen (for doctor).
	Tried  []string
	Source string
}

// ConnectOptions tune how an engine is found.
type ConnectOptions struct {
	Identity  string        // ssh private key; default $CONTAINER_SSHKEY
	Timeout   time.Duration // per candidate; default 10 s
	Autostart bool          // start a private service when nothing answers
	Notify    func(string)  // one-line notices for the user (stderr)
}

// Connect finds an engine. A named engine (explicit, else POCKETDOCK_SOCKET,
// else CONTAINER_HOST) is the only candidate: when it does not answer, that is
// the error, never a quiet switch to another engine. With nothing named, the
// user's and the system's podman sockets are tried, and finally a private
// service (started when allowed).
func Connect(ctx context.Context, explicit string, opts ConnectOptions) (*Engine, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	list, named := candidates(explicit)
	var tried []string
	for _, c := range list {
		e, err := dial(ctx, c.uri, opts)
		if err == nil {
			e.Tried, e.Source = tried, c.source
			return e, nil
		}
		if IsKind(err, InvalidArgument) && named != "" {
			return nil, Prefix(named, err)
		}
		if ctx.Err() != nil {
			return nil, &Error{Kind: Interrupted, Message: "connecting to the engine was interrupted", Err: ctx.Err()}
		}
		tried = append(tried, fmt.Sprintf("%s (%s)", c.uri, reason(err)))
	}
	if named != "" {
		return nil, &Error{
			Kind:    EngineUnavailable,
			Message: fmt.Sprintf("the engine named by %s did not answer: %s", named, strings.Join(tried, "; ")),
			Hint:    "start that service, or name another engine; pocketdock starts its own only when none is named",
		}
	}
	if opts.Autostart {
		e, err := startPrivate(ctx, opts)
		if err == nil {
			e.Tried, e.Source = tried, "private service"
			return e, nil
		}
		tried = append(tried, fmt.Sprintf("private service (%s)", reason(err)))
	}
	return nil, &Error{
		Kind:    EngineUnavailable,
		Message: "no Podman engine answered; tried: " + strings.Join(tried, "; "),
		Hint:    "install podman (apt-get install podman) or pass --socket / socket_path with a running service's URI",
	}
}

type candidate struct{ uri, source string }

// candidates lists the URIs to try, and what named the engine ("" when
// nothing did and discovery applies).
func candidates(explicit string) ([]candidate, string) {
	if explicit != "" {
		return []candidate{{normalizeURI(explicit), "socket_path"}}, "socket_path/--socket"
	}
	for _, env := range []string{"POCKETDOCK_SOCKET", "CONTAINER_HOST"} {
		if v := os.Getenv(env); v != "" {
			return []candidate{{normalizeURI(v), env}}, env
		}
	}
	var list []candidate
	if os.Geteuid() != 0 {
		if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
			list = append(list, candidate{"unix://" + filepath.Join(dir, "podman", "podman.sock"), "user socket"})
		}
	}
	list = append(list, candidate{"unix:///run/podman/podman.sock", "system socket"},
		candidate{"unix://" + privateSocket(), "private service"})
	return list, ""
}

// normalizeURI accepts a bare socket path as a unix URI.
func normalizeURI(s string) string {
	if strings.HasPrefix(s, "/") {
		return "unix://" + s
	}
	return s
}

func dial(ctx context.Context, uri string, opts ConnectOptions) (*Engine, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return nil, Errorf(InvalidArgument, "%q is not an engine URI", uri).
			WithHint("use unix:///path/to/podman.sock, tcp://host:port or ssh://user@host/run/podman/podman.sock")
	}
	switch u.Scheme {
	case "unix":
		// A missing socket file is answered at once instead of after the bindings' retries.
		if _, err := os.Stat(unixPath(u)); err != nil {
			return nil, errors.New("no socket there")
		}
	case "tcp", "ssh":
	default:
		return nil, Errorf(InvalidArgument, "unsupported engine URI scheme %q", u.Scheme).
			WithHint("use unix://, tcp:// or ssh://")
	}
	pctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	conn, err := bindings.NewConnectionWithOptions(pctx, bindings.Options{URI: uri, Identity: opts.Identity})
	if err != nil {
		return nil, err
	}
	// The connection context must outlive the ping's timeout: keep its values only.
	return &Engine{URI: uri, conn: context.WithoutCancel(conn), local: u.Scheme == "unix"}, nil
}

func unixPath(u *url.URL) string {
	if u.Host != "" {
		return "/" + u.Host + u.Path
	}
	return u.Path
}

// reason turns a connection failure into a few words.
func reason(err error) string {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Message
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, os.ErrNotExist):
		return "no socket there"
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return ne.Err.Error()
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i < 80 {
		msg = msg[i+2:]
	}
	return msg
}

// ctx joins a call's context (cancellation) with the connection (values).
func (e *Engine) ctx(ctx context.Context) context.Context { return callCtx{ctx, e.conn} }

type callCtx struct {
	context.Context
	conn context.Context
}

func (c callCtx) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.conn.Value(key)
}

// Ping checks that the engine still answers.
func (e *Engine) Ping(ctx context.Context) error {
	client, err := bindings.GetClient(e.conn)
	if err != nil {
		return err
	}
	resp, err := client.DoRequest(e.ctx(ctx), nil, "GET", "/_ping", nil, nil)
	if err != nil {
		return e.wrap(err, "ping", EngineError)
	}
	resp.Body.Close()
	return nil
}

// Version returns the engine's API version.
func (e *Engine) Version() string {
	if v := bindings.ServiceVersion(e.conn); v != nil {
		return v.String()
	}
	return ""
}
