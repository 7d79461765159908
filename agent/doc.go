// Package agent implements pocketdock's in-container command executor.
//
// Starting a process with "podman exec" costs around 100 ms. Instead,
// pocketdock copies a small static binary (cmd/pocketdock-agent) into the
// container and starts it once as a long-lived exec. Its stdin and stdout
// carry the framed protocol implemented here, so each further command costs
// about a millisecond. [Serve] is the agent side; [Client] is the host side.
//
// # Frame format
//
// Every frame is a 9-byte header followed by a payload:
//
//	[type u8][id u32 big-endian][len u32 big-endian][payload: len bytes]
//
// len is at most 1 MiB. The id names the command a frame belongs to (or the
// ping, for ping/pong). The host picks ids at random and treats a frame for
// an id it never issued as a protocol error that ends the connection: the
// agent's stdout is writable by root in the sandbox, and a forged frame must
// not pass for another command's output or exit. Frame types:
//
//	host -> agent
//	  1 start        JSON {"argv","env","cwd","user","has_stdin","keep_children"}
//	  2 stdin        raw bytes for the command's stdin
//	  3 stdin close  empty; closes the command's stdin
//	  4 signal       u32 big-endian signal number, sent to the process group
//	  8 ping         a random nonce, echoed in the pong (the host trusts
//	                 an agent only once it has echoed one)
//	agent -> host
//	  5 stdout       raw output bytes
//	  6 stderr       raw output bytes
//	  7 exit         JSON {"exit_code","signal","error"}; last frame for an id
//	  9 pong         the ping's payload
//	 10 stdin ack    u32 big-endian count of stdin bytes consumed
//
// Stdin is flow controlled: the host keeps at most a fixed window of unacked
// stdin bytes in flight per command, so a command that never reads its stdin
// costs the agent bounded memory and cannot stall other commands.
//
// Each command runs in a session of its own. When it ends, everything left
// in that session is killed, unless the start asked to keep its children.
//
// A start request that cannot be carried out gets an exit frame straight
// away, with shell-like codes: 127 when the command is not found, 126 when it
// cannot be executed. A command killed by a signal reports 128+signal.
package agent
