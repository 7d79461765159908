package repl

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// What the REPL shows of one evaluation: about a screenful. The value itself
// is untouched; only its display is cut, and the cut says how much was left out.
const (
	maxShownBytes = 8 << 10 // of one string or of a command's output
	maxShownLines = 60      // of everything printed for one evaluation
)

// Quote renders s as a Lua string literal that is safe on a terminal: control
// characters, invalid UTF-8, C1 controls and bidirectional overrides become
// decimal escapes (\27), which Lua reads back as the same bytes. At most
// maxShownBytes of s are shown.
func Quote(s string) string {
	var b strings.Builder
	shown, rest := clip(s)
	b.WriteByte('"')
	escape(&b, shown, true)
	b.WriteByte('"')
	if rest > 0 {
		fmt.Fprintf(&b, "... (%d more bytes not shown)", rest)
	}
	return b.String()
}

// Escape makes text (command output, error messages) safe on a terminal: as
// Quote, except that newlines, tabs, quotes and backslashes stay as they are,
// so multi-line output still reads as lines. At most maxShownBytes are shown.
func Escape(s string) string {
	var b strings.Builder
	shown, rest := clip(s)
	escape(&b, shown, false)
	if rest > 0 {
		fmt.Fprintf(&b, "\n... (%d more bytes not shown)", rest)
	}
	return b.String()
}

// clip cuts s to maxShownBytes on a UTF-8 boundary.
func clip(s string) (string, int) {
	if len(s) <= maxShownBytes {
		return s, 0
	}
	cut := maxShownBytes
	for cut > maxShownBytes-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], len(s) - cut
}

func escape(b *strings.Builder, s string, quoted bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeByteEscapes(b, s[i:i+1], s[i+1:])
		case r == '\n' || r == '\t':
			if quoted {
				b.WriteString(strconv.QuoteRune(r)[1:3]) // \n or \t
			} else {
				b.WriteRune(r)
			}
		case r == '\r':
			b.WriteString(`\r`) // a bare CR would let output overwrite its own line
		case quoted && (r == '"' || r == '\\'):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || isBidi(r):
			writeByteEscapes(b, s[i:i+size], s[i+size:])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

// writeByteEscapes writes each byte of raw as \ddd, padded to three digits
// when the next character is a digit (Lua reads up to three).
func writeByteEscapes(b *strings.Builder, raw, next string) {
	for j := 0; j < len(raw); j++ {
		last := j == len(raw)-1
		if last && next != "" && next[0] >= '0' && next[0] <= '9' {
			fmt.Fprintf(b, `\%03d`, raw[j])
		} else {
			b.WriteString(`\` + strconv.Itoa(int(raw[j])))
		}
	}
}

// isBidi: the Unicode bidirectional controls, which can make text display in
// an order other than the one it has.
func isBidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f
}

// clipLines keeps the first maxShownLines lines of out, saying how many were left out.
func clipLines(out string) string {
	n := 0
	for i := 0; i < len(out); i++ {
		if out[i] == '\n' {
			n++
			if n == maxShownLines {
				rest := strings.Count(out[i+1:], "\n") + 1
				return out[:i] + fmt.Sprintf("\n... (%d more lines not shown)", rest)
			}
		}
	}
	return out
}
