package bench

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// MemSnapshot is where a server process's resident memory is, read from outside: the
// kernel's view (/proc/PID/status) and the Go runtime's (runtime.MemStats, which the
// profiling listener of `tandem serve --debug-addr` prints at /debug/pprof/heap?debug=1).
// What is resident and not the Go runtime's is SQLite's (its allocator maps memory of
// its own, outside the Go heap: page caches, prepared statements, sorts), the binary's
// text and the WAL index (RssFile, RssShmem).
type MemSnapshot struct {
	RSS, Anon, File, Shmem int64 // VmRSS, RssAnon, RssFile, RssShmem
	// The Go runtime's memory, 0 without a profiling listener.
	HeapInuse   int64 // spans holding objects
	HeapIdle    int64 // spans holding none, HeapReleased of them returned to the system
	HeapRelease int64
	Stacks      int64 // StackInuse
	GoSys       int64 // everything the runtime has mapped
	Mallocs     int64 // heap allocations made since the process started
}

// GoResident is the Go runtime's share of the resident set: what it has mapped less
// what it has returned to the system (an upper bound: mapped pages never touched are
// not resident either).
func (m MemSnapshot) GoResident() int64 { return m.GoSys - m.HeapRelease }

// GoFreeHeld is heap memory the runtime holds free without having returned it.
func (m MemSnapshot) GoFreeHeld() int64 { return m.HeapIdle - m.HeapRelease }

// NotGo is the resident memory that is not the Go runtime's (SQLite's allocator, the
// binary's text and the WAL index), when the runtime's figures were read.
func (m MemSnapshot) NotGo() int64 { return m.RSS - m.GoResident() }

// String is the snapshot in megabytes.
func (m MemSnapshot) String() string {
	mb := func(n int64) string { return fmt.Sprintf("%.0f", float64(n)/1e6) }
	s := fmt.Sprintf("RSS %s MB (anonymous %s, file %s, shared %s)", mb(m.RSS), mb(m.Anon), mb(m.File), mb(m.Shmem))
	if m.GoSys > 0 {
		s += fmt.Sprintf("; Go heap in use %s, Go heap free and held %s, stacks %s, Go runtime resident %s; not Go (SQLite, text, WAL index) %s",
			mb(m.HeapInuse), mb(m.GoFreeHeld()), mb(m.Stacks), mb(m.GoResident()), mb(m.NotGo()))
	}
	return s
}

// ReadMemory takes a snapshot of the process pid; debugAddr is its profiling listener
// (host:port) or "".
func ReadMemory(pid int, debugAddr string) MemSnapshot {
	var m MemSnapshot
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "VmRSS:":
				m.RSS = kb << 10
			case "RssAnon:":
				m.Anon = kb << 10
			case "RssFile:":
				m.File = kb << 10
			case "RssShmem:":
				m.Shmem = kb << 10
			}
		}
	}
	if debugAddr == "" {
		return m
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + debugAddr + "/debug/pprof/heap?debug=1")
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// The runtime.MemStats lines: "# HeapInuse = 1234".
		name, val, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "# "), " = ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "HeapInuse":
			m.HeapInuse = n
		case "HeapIdle":
			m.HeapIdle = n
		case "HeapReleased":
			m.HeapRelease = n
		case "StackInuse":
			m.Stacks = n
		case "Sys":
			m.GoSys = n
		case "Mallocs":
			m.Mallocs = n
		}
	}
	return m
}

// ResetPeak resets the process's peak resident set (VmHWM) to its current size, so that
// the next Memory reads the peak of what follows (Linux: clear_refs 5).
func ResetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}
