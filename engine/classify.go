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
	switch {
	case errors.Is(err, context.Canceled):
		return &Error{Kind: Interrupted, Message: op + ": interrupted", Engine: e.URI, Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: Timeout, Message: op + ": timed out", Engine: e.URI, Err: err}
	case isUnavailable(err):
		return &Error{Kind: EngineUnavailable, Message: op + ": the engine stopped answering (" + reason(err) + ")",
			Hint: "check the Podman service (pocketdock doctor); the next call reconnects", Engine: e.URI, Err: err}
	}
	code := 0
	var em *errorhandling.ErrorModel
	if errors.As(err, &em) {
		code = em.ResponseCode
	}
	msg := cleanMessage(err)
	kind := EngineError
	switch {
	case code == 404 && notFound != EngineError:
		kind = notFound
	case strings.Contains(msg, "already in use"):
		kind = NameConflict
	case strings.Contains(msg, "state improper") || (code == 409 && strings.Contains(msg, "not running")):
		kind = ContainerNotRunning
	case strings.Contains(msg, "no such container"):
		kind = ContainerNotFound
	case strings.Contains(msg, "image not known") || strings.Contains(msg, "no such image"):
		kind = ImageNotFound
	}
	return &Error{Kind: kind, Message: op + ": " + msg, Engine: e.URI, Err: err}
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
