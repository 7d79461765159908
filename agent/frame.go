package agent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frame types; see the package documentation.
const (
	frameStart      byte = 1
	frameStdin      byte = 2
	frameStdinClose byte = 3
	frameSignal     byte = 4
	frameStdout     byte = 5
	frameStderr     byte = 6
	frameExit       byte = 7
	framePing       byte = 8
	framePong       byte = 9
	frameStdinAck   byte = 10
)

const (
	headerSize = 9
	// maxPayload bounds what a decoder will allocate for one frame, so a
	// corrupt or hostile length cannot exhaust memory.
	maxPayload = 1 << 20
	// chunkSize is the largest payload we produce for stream data; small
	// enough that interleaved commands stay responsive.
	chunkSize = 32 << 10
)

var errBadFrame = errors.New("agent: malformed frame")

type frame struct {
	typ     byte
	id      uint32
	payload []byte
}

// readFrame decodes one frame. It returns io.EOF only when r ends cleanly
// between frames; a frame cut short yields io.ErrUnexpectedEOF.
func readFrame(r io.Reader) (frame, error) {
	var hdr [headerSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return frame{}, err
	}
	f := frame{typ: hdr[0], id: binary.BigEndian.Uint32(hdr[1:5])}
	if f.typ < frameStart || f.typ > frameStdinAck {
		return frame{}, fmt.Errorf("%w: unknown type %d", errBadFrame, f.typ)
	}
	n := binary.BigEndian.Uint32(hdr[5:9])
	if n > maxPayload {
		return frame{}, fmt.Errorf("%w: payload of %d bytes exceeds limit", errBadFrame, n)
	}
	if n > 0 {
		f.payload = make([]byte, n)
		if _, err := io.ReadFull(r, f.payload); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return frame{}, err
		}
	}
	return f, nil
}

// appendFrame encodes a frame onto buf.
func appendFrame(buf []byte, typ byte, id uint32, payload []byte) []byte {
	buf = append(buf, typ)
	buf = binary.BigEndian.AppendUint32(buf, id)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(payload)))
	return append(buf, payload...)
}

// writeFrame writes one frame. Callers serialize calls; building the whole
// frame in one buffer keeps it to a single system call.
func writeFrame(w io.Writer, typ byte, id uint32, payload []byte) error {
	if len(payload) > maxPayload {
		return fmt.Errorf("agent: payload of %d bytes exceeds limit", len(payload))
	}
	_, err := w.Write(appendFrame(make([]byte, 0, headerSize+len(payload)), typ, id, payload))
	return err
}

var frameNames = [...]string{frameStart: "start", frameStdin: "stdin", frameStdinClose: "stdin-close", frameSignal: "signal",
	frameStdout: "stdout", frameStderr: "stderr", frameExit: "exit", framePing: "ping", framePong: "pong", frameStdinAck: "stdin-ack"}

// frameName names a frame type for error messages.
func frameName(typ byte) string {
	if int(typ) < len(frameNames) && frameNames[typ] != "" {
		return frameNames[typ]
	}
	return fmt.Sprintf("type-%d", typ)
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// startRequest is the payload of a start frame.
type startRequest struct {
	Argv []string `json:"argv"`
	// Env is the complete environment of the command.
	Env []string `json:"env"`
	Cwd string   `json:"cwd,omitempty"`
	// User is "name", "uid", "name:group" or "uid:gid"; empty means the
	// agent's own user.
	User     string `json:"user,omitempty"`
	HasStdin bool   `json:"has_stdin,omitempty"`
	// KeepChildren leaves what the command started running after it ends.
	KeepChildren bool `json:"keep_children,omitempty"`
}

// exitStatus is the payload of an exit frame.
type exitStatus struct {
	ExitCode int    `json:"exit_code"`
	Signal   int    `json:"signal,omitempty"`
	Error    string `json:"error,omitempty"`
}
