package engine

import "strings"

// CommandText is a command as people wrote it: the script of a string
// command (run as /bin/sh -c), else the argv joined by spaces.
func CommandText(argv []string) string {
	if len(argv) == 3 && argv[0] == "/bin/sh" && argv[1] == "-c" {
		return argv[2]
	}
	return strings.Join(argv, " ")
}
