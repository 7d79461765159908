package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/containers/podman/v5/pkg/api/handlers"
	"github.com/containers/podman/v5/pkg/bindings"
	"github.com/containers/podman/v5/pkg/bindings/containers"
	"github.com/containers/podman/v5/version"
	dockerContainer "github.com/docker/docker/api/types/container"
)

// session is a started, attached exec session: the engine's multiplexed
// output stream and the command's stdin on one hijacked connection. The
// bindings' own attach reads os.Stdin, inspects the session first and cannot
// be cancelled, so pocketdock speaks the upgrade itself.
type session struct {
	id   string
	conn net.Conn
	r    *bufio.Reader
}

type execConfig struct {
	Argv      []string
	Env       []string
	Cwd, User string
	AttachIn  bool
}

// execCreate makes an exec session in a running container.
func (e *Engine) execCreate(ctx context.Context, id string, c execConfig) (string, error) {
	cfg := &handlers.ExecCreateConfig{ExecOptions: dockerContainer.ExecOptions{
		AttachStdout: true, AttachStderr: true, AttachStdin: c.AttachIn,
		Cmd: c.Argv, Env: c.Env, WorkingDir: c.Cwd, User: c.User,
	}}
	sid, err := containers.ExecCreate(e.ctx(ctx), id, cfg)
	if err != nil {
		werr := e.wrap(err, "exec in "+short(id), ContainerNotFound)
		var pe *Error
		if errors.As(werr, &pe) && pe.Kind == ContainerNotRunning {
			return "", pe.WithHint("start it first (c:start() or pocketdock resume NAME)")
		}
		return "", werr
	}
	return sid, nil
}

// execStart starts an exec session and returns its attached stream. The
// context bounds only the start; the stream lives until closed.
func (e *Engine) execStart(ctx context.Context, sid string) (*session, error) {
	client, err := bindings.GetClient(e.conn)
	if err != nil {
		return nil, err
	}
	conn, err := client.GetDialer(ctx)
	if err != nil {
		return nil, e.wrap(err, "exec start", EngineError)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	body := `{"Detach":false,"Tty":false}`
	v := version.APIVersion[version.Libpod][version.CurrentAPI]
	path := fmt.Sprintf("/v%d.%d.%d/libpod/exec/%s/start", v.Major, v.Minor, v.Patch, sid)
	req, _ := http.NewRequest(http.MethodPost, "http://d"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "tcp")
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, e.wrap(ctxOr(ctx, err), "exec start", EngineError)
	}
	r := bufio.NewReaderSize(conn, 32*1024)
	resp, err := http.ReadResponse(r, req)
	if err != nil {
		conn.Close()
		return nil, e.wrap(ctxOr(ctx, err), "exec start", EngineError)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		conn.Close()
		return nil, e.wrap(engineMessage(resp.StatusCode, msg), "exec start", ContainerNotFound)
	}
	return &session{id: sid, conn: conn, r: r}, nil
}

// ctxOr prefers the context's error: a failure caused by cancellation is a cancellation.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// next reads one frame of the multiplexed stream: 1 stdout, 2 stderr.
func (s *session) next(buf []byte) (stream int, data []byte, err error) {
	var hdr [8]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(hdr[4:]))
	if n > cap(buf) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(s.r, buf); err != nil {
		return 0, nil, err
	}
	if hdr[0] == 3 {
		return 0, nil, fmt.Errorf("engine stream error: %s", bytes.TrimSpace(buf))
	}
	return int(hdr[0]), buf, nil
}

// closeStdin signals end of input to the command.
func (s *session) closeStdin() {
	if cw, ok := s.conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

func (s *session) Write(p []byte) (int, error) { return s.conn.Write(p) }
func (s *session) Close() error                { return s.conn.Close() }

// exitCode asks the engine for a finished session's exit code. The stream can
// end a moment before the engine records the exit, so a running session is asked again.
func (e *Engine) exitCode(ctx context.Context, sid string) (int, error) {
	for i := 0; ; i++ {
		info, err := containers.ExecInspect(e.ctx(ctx), sid, nil)
		if err != nil {
			return -1, e.wrap(err, "exec inspect", ContainerNotFound)
		}
		if !info.Running || i >= 200 {
			return info.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-timeAfter(i):
		}
	}
}
