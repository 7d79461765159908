package agent

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// killLeftovers kills what a command (session and process group sid, its
// pid) left running. The group kill reaches a fork bomb's processes at once
// (a fork racing it hands the signal on to the child); when it found any,
// /proc is swept until none is left alive, before the exit is reported, so
// the next command finds the sandbox's pids free. It returns the sweep for
// members that moved to a group of their own, which costs a read per
// process in the sandbox and so runs after the exit has been reported.
func killLeftovers(sid int) (later func()) {
	if syscall.Kill(-sid, syscall.SIGKILL) == nil {
		sweepSession(sid)
	}
	return func() { sweepSession(sid) }
}

// sweepSession kills the live processes of session or group sid, found by
// a scan of /proc, round after round while any is found, for a few seconds
// at most. Processes that made a session of their own escape: killing them
// would take a cgroup per command, which the sandbox cannot make.
func sweepSession(sid int) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		left := sessionMembers(sid)
		if len(left) == 0 || time.Now().After(deadline) {
			return
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(time.Millisecond) // let the killed ones die before looking again
	}
}

// sessionMembers lists the live processes whose session or process group is
// sid. Zombies are left to their reaper.
func sessionMembers(sid int) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	var out []int
	buf := make([]byte, 512)
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == sid {
			continue
		}
		state, pgrp, sess, ok := readStat(pid, buf)
		if ok && state != 'Z' && (sess == sid || pgrp == sid) {
			out = append(out, pid)
		}
	}
	return out
}

// readStat reads a process's state, process group and session from
// /proc/PID/stat. The command name in parentheses may hold anything, so
// the fields are counted after its last ')'.
func readStat(pid int, buf []byte) (state byte, pgrp, sess int, ok bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	n, _ := f.Read(buf)
	f.Close()
	b := buf[:n]
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	// ") S ppid pgrp session ..."
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 4 || len(fields[0]) != 1 {
		return 0, 0, 0, false
	}
	pgrp, err1 := strconv.Atoi(string(fields[2]))
	sess, err2 := strconv.Atoi(string(fields[3]))
	if err1 != nil || err2 != nil {
		return 0, 0, 0, false
	}
	return fields[0][0], pgrp, sess, true
}
