package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error so callers (and Lua scripts) can react to it.
type Kind string

// The kinds of error the engine layer reports. The names are the ones Lua scripts see.
const (
	EngineUnavailable   Kind = "EngineUnavailable"
	EngineError         Kind = "EngineError"
	ContainerNotFound   Kind = "ContainerNotFound"
	ContainerNotRunning Kind = "ContainerNotRunning"
	ImageNotFound       Kind = "ImageNotFound"
	NameConflict        Kind = "NameConflict"
	InvalidArgument     Kind = "InvalidArgument"
	Timeout             Kind = "Timeout"
	SessionClosed       Kind = "SessionClosed"
	Interrupted         Kind = "Interrupted"
	FileNotFound        Kind = "FileNotFound"
	CommandFailed       Kind = "CommandFailed"
)

// Error is the one error type of the engine layer: a kind, a message for people,
// an optional hint saying what to do, and the engine it came from.
type Error struct {
	Kind    Kind
	Message string
	Hint    string
	Engine  string // URI of the engine, when the error came from one
	Err     error  // the underlying cause, for errors.Is/As; never shown raw
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Kind))
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.Engine != "" {
		fmt.Fprintf(&b, " (engine %s)", e.Engine)
	}
	if e.Hint != "" {
		b.WriteString("\nhint: ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an Error of the given kind with a formatted message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// WithHint returns a copy of e with the hint set: an error, once made, is
// never changed, so one another caller holds keeps saying what it said.
func (e *Error) WithHint(format string, args ...any) *Error {
	c := *e
	c.Hint = fmt.Sprintf(format, args...)
	return &c
}

// Prefix returns err with prefix (the call or option it came from) in front
// of its message, keeping its kind, hint, engine and cause. An err that is not
// an *Error, or nil, is returned as it is.
func Prefix(prefix string, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	return &Error{Kind: e.Kind, Message: prefix + ": " + e.Message, Hint: e.Hint, Engine: e.Engine, Err: e}
}

// reworded returns a copy of e that says msg, and hint when it is not empty:
// how a layer with more context rephrases an error it got.
func (e *Error) reworded(msg, hint string) *Error {
	c := *e
	c.Message = msg
	if hint != "" {
		c.Hint = hint
	}
	return &c
}

// KindOf returns the kind of err, mapping context errors to Interrupted/Timeout
// and anything unclassified to EngineError.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Interrupted
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	}
	return EngineError
}

// IsKind reports whether err is an Error of kind k.
func IsKind(err error, k Kind) bool { return err != nil && KindOf(err) == k }
