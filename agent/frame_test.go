package agent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := writeFrame(&buf, frameStdout, 7, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := writeFrame(&buf, framePing, 0xffffffff, nil); err != nil {
		t.Fatal(err)
	}
	f, err := readFrame(&buf)
	if err != nil || f.typ != frameStdout || f.id != 7 || string(f.payload) != "hello" {
		t.Fatalf("got %+v, %v", f, err)
	}
	f, err = readFrame(&buf)
	if err != nil || f.typ != framePing || f.id != 0xffffffff || len(f.payload) != 0 {
		t.Fatalf("got %+v, %v", f, err)
	}
	if _, err := readFrame(&buf); err != io.EOF {
		t.Fatalf("want io.EOF at end, got %v", err)
	}
	if err := writeFrame(&buf, frameStdout, 1, make([]byte, maxPayload+1)); err == nil {
		t.Fatal("oversize payload was written")
	}
}

func TestReadFrameErrors(t *testing.T) {
	header := func(typ byte, n uint32) []byte {
		b := []byte{typ, 0, 0, 0, 1}
		return binary.BigEndian.AppendUint32(b, n)
	}
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"short header", []byte{frameStdout, 0, 0}, io.ErrUnexpectedEOF},
		{"short payload", append(header(frameStdout, 10), "abc"...), io.ErrUnexpectedEOF},
		{"missing payload", header(frameStdout, 10), io.ErrUnexpectedEOF},
		{"unknown type", header(0, 0), errBadFrame},
		{"unknown high type", header(200, 0), errBadFrame},
		{"oversize", header(frameStdin, maxPayload+1), errBadFrame},
		{"huge", header(frameStdin, 0xffffffff), errBadFrame},
	}
	for _, tc := range cases {
		if _, err := readFrame(bytes.NewReader(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

// FuzzReadFrame feeds arbitrary bytes to the decoder. It must never panic,
// must reject lengths over the limit before allocating, and whatever it
// accepts must encode back to the same bytes.
func FuzzReadFrame(f *testing.F) {
	f.Add(appendFrame(nil, frameStdout, 1, []byte("hi")))
	f.Add(appendFrame(appendFrame(nil, framePing, 2, nil), frameExit, 3, []byte(`{"exit_code":0}`)))
	f.Add([]byte{frameStdin, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			before := r.Len()
			fr, err := readFrame(r)
			if err != nil {
				return
			}
			if len(fr.payload) > maxPayload {
				t.Fatalf("accepted payload of %d bytes", len(fr.payload))
			}
			consumed := data[len(data)-before : len(data)-r.Len()]
			if again := appendFrame(nil, fr.typ, fr.id, fr.payload); !bytes.Equal(again, consumed) {
				t.Fatalf("re-encoding %x gave %x", consumed, again)
			}
		}
	})
}
