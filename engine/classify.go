package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/containers/podman/v5/pkg/errorhandling"
)

// wrap turns an error from the bindings into an *Error once, at the edge:
// notFound says what a 404 means for this operation.
func (e *Engine) wrap(err error, op string, notFound Kind) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		if pe.Engine == "" {
			c := *pe
			c.Engine = e.URI
			return &c
		}
		return pe
	}
	out := &Error{Kind: EngineError, Message: op + ": " + cleanMessage(err), Engine: e.URI, Err: err}
	switch {
	case errors.Is(err, context.Canceled):
		out.Kind, out.Message = Interrupted, op+": interrupted"
	case errors.Is(err, context.DeadlineExceeded):
		out.Kind, out.Message = Timeout, op+": timed out"
	case isUnavailable(err):
		out.Kind = EngineUnavailable
		out.Message = op + ": the engine stopped answering (" + reason(err) + ")"
		out.Hint = "check the Podman service (pocketdock doctor); the next call reconnects"
	default:
		code := 0
		var em *errorhandling.ErrorModel
		if errors.As(err, &em) {
			code = em.ResponseCode
		}
		msg := cleanMessage(err)
		switch {
		case code == 404 && notFound != EngineError:
			out.Kind = notFound
		case strings.Contains(msg, "already in use"):
			out.Kind = NameConflict
		case strings.Contains(msg, "state improper") || (code == 409 && strings.Contains(msg, "not running")):
			out.Kind = ContainerNotRunning
		case strings.Contains(msg, "no such container"):
			out.Kind = ContainerNotFound
		case strings.Contains(msg, "image not known") || strings.Contains(msg, "no such image"):
			out.Kind = ImageNotFound
		}
	}
	return out
}

func isUnavailable(err error) bool {
	var ne net.Error
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &ne)
}

// cleanMessage keeps the engine's own words and drops Go's wrapping noise.
func cleanMessage(err error) string {
	var em *errorhandling.ErrorModel
	if errors.As(err, &em) {
		msg := em.Message
		if msg == "" {
			msg = em.Because
		}
		return strings.TrimSpace(msg)
	}
	return reason(err)
}
