//go:build linux

// Command longpoll measures the gateway under many concurrent long polls:
// N clients wait on /wait/<sha>, the commit's Version turns deployed, and
// the time from that change to each complete answer is reported (p50, p99)
// with the gateway's peak RSS, plus the latency of a push webhook to its
// fetch request. The gateway runs as a child process, served by
// server.Serve as in `syncgate run`, so its memory is its own.
//
// Kinds of client are run side by side, each against a fresh gateway:
//
//   - "epoll" clients run every connection from one thread over one epoll
//     set, as wrk does; each socket also carries the kernel's receive
//     timestamp, so besides when an answer was read whole the table shows
//     when its last byte reached the client ("delivered");
//   - "epoll-idle" are the same on a SCHED_IDLE thread, which gets a core
//     only when the gateway leaves one free: the nearest this one machine
//     comes to clients on other machines, and what "delivered" then
//     measures is the gateway;
//   - "raw" clients write one HTTP/1.1 request on their own TCP connection
//     and read the answer up to its Content-Length, a goroutine and a
//     512-byte buffer each, like a CI shell's curl;
//   - "nethttp" clients use Go's http.Client, whose own per-connection
//     goroutines and buffers share the 2 cores with the gateway.
//
// Usage:
//
//	go run ./bench/longpoll [-n 10000] [-clients epoll-idle,epoll,raw,nethttp]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

const (
	sha    = "0123456789abcdef0123456789abcdef01234567"
	secret = "loadtest-secret"
)

func main() {
	n := flag.Int("n", 10000, "concurrent long polls")
	clients := flag.String("clients", "epoll-idle,epoll,raw,nethttp", "client kinds to run, comma-separated: epoll-idle, epoll, raw, nethttp")
	memprofile = flag.String("memprofile", "", "write the gateway's heap profile here once all waiters are parked (last run's)")
	serve := flag.String("serve", "", "internal: run the gateway on this address, driven by stdin")
	flag.Parse()
	raiseFileLimit()
	var err error
	if *serve != "" {
		err = runGateway(*serve)
	} else {
		err = runAll(*n, strings.Split(*clients, ","))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "longpoll:", err)
		os.Exit(1)
	}
}

var memprofile *string

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// result is one run's figures.
type result struct {
	bad           int
	p50, p99, max time.Duration
	// From the change to the last byte reaching the client's socket, by
	// the kernel's receive timestamp (epoll clients only).
	arrived50, arrived99 time.Duration
	idle, parked, peak   int64
	parkedMem            memStats
	hook50, hook99       time.Duration
	connect              time.Duration
	written, written99   time.Duration
	// From the change to the last answer: wall time, and the CPU time the
	// gateway and the clients spent in it.
	releaseWall, gatewayCPU, clientCPU time.Duration
	releaseGC                          uint32 // gateway GC cycles in it
	// The gateway's OS threads with every waiter parked, and after the
	// release: a send the scheduler sees as blocking adds threads.
	threadsParked, threadsReleased int64
}

func runAll(n int, kinds []string) error {
	var rs []result
	for _, k := range kinds {
		if k != "epoll" && k != "epoll-idle" && k != "raw" && k != "nethttp" {
			return fmt.Errorf("unknown client kind %q (epoll, epoll-idle, raw, nethttp)", k)
		}
		r, err := runLoad(n, k)
		if err != nil {
			return fmt.Errorf("%s clients: %w", k, err)
		}
		rs = append(rs, r)
	}
	floorW, floorR, err := loopbackFloor(min(n, 4000))
	if err != nil {
		return fmt.Errorf("loopback floor: %w", err)
	}
	fmt.Printf("\n%d concurrent /wait long polls on one gateway (child process, loopback, %d cores)\n\n", n, runtime.NumCPU())
	t := benchenv.Table{W: os.Stdout, NameWidth: 40, CellWidth: 16}
	row := func(name string, f func(r result) string) {
		cells := make([]string, len(rs))
		for i, r := range rs {
			cells[i] = f(r)
		}
		t.Row(name, cells...)
	}
	heads := make([]string, len(kinds))
	for i, k := range kinds {
		heads[i] = k + " clients"
	}
	t.Head("measure", heads...)
	row("all connected and parked after", func(r result) string { return r.connect.Round(time.Millisecond).String() })
	row("answers other than 200", func(r result) string { return strconv.Itoa(r.bad) })
	row("deployed → complete answer, p50", func(r result) string { return r.p50.Round(100 * time.Microsecond).String() })
	row("deployed → complete answer, p99", func(r result) string { return r.p99.Round(100 * time.Microsecond).String() })
	row("deployed → complete answer, max", func(r result) string { return r.max.Round(100 * time.Microsecond).String() })
	row("deployed → answer delivered, p50", func(r result) string { return opt(r.arrived50) })
	row("deployed → answer delivered, p99", func(r result) string { return opt(r.arrived99) })
	row("gateway: due → answer written, mean", func(r result) string { return r.written.Round(100 * time.Microsecond).String() })
	row("gateway: due → answer written, p99 ≤", func(r result) string { return r.written99.String() })
	row("release: wall / gateway CPU / clients CPU", func(r result) string {
		return fmt.Sprintf("%d / %d / %d ms", r.releaseWall.Milliseconds(), r.gatewayCPU.Milliseconds(), r.clientCPU.Milliseconds())
	})
	row("release: gateway GC cycles", func(r result) string { return strconv.Itoa(int(r.releaseGC)) })
	row("gateway OS threads: parked / released", func(r result) string { return fmt.Sprintf("%d / %d", r.threadsParked, r.threadsReleased) })
	row("gateway RSS idle", func(r result) string { return mb(r.idle) })
	row("gateway RSS, all parked", func(r result) string { return mb(r.parked) })
	row("gateway peak RSS (VmHWM)", func(r result) string { return mb(r.peak) })
	row("gateway heap in use, all parked", func(r result) string { return mb(int64(r.parkedMem.HeapInuse)) })
	row("gateway stacks in use, all parked", func(r result) string { return mb(int64(r.parkedMem.StackInuse)) })
	row("gateway goroutines, all parked", func(r result) string { return strconv.FormatUint(r.parkedMem.Goroutines, 10) })
	row("gateway goroutines, peak while connecting", func(r result) string { return strconv.FormatUint(r.parkedMem.PeakGoroutines, 10) })
	row("gateway peak heap objects / stacks", func(r result) string {
		return fmt.Sprintf("%s / %s", mb(int64(r.parkedMem.PeakHeapObjects)), mb(int64(r.parkedMem.PeakStacks)))
	})
	row("push webhook → fetch requested, p50", func(r result) string { return r.hook50.Round(10 * time.Microsecond).String() })
	row("push webhook → fetch requested, p99", func(r result) string { return r.hook99.Round(10 * time.Microsecond).String() })
	fmt.Printf("\nLoopback floor on this machine, one thread, idle sockets: a %d-byte answer costs %.1f µs to write and %.1f µs to read;\n"+
		"%d answers are %d ms of CPU, %d ms on %d cores, before any HTTP.\n", floorBytes, us(floorW), us(floorR),
		n, (time.Duration(n) * (floorW + floorR)).Milliseconds(), (time.Duration(n) * (floorW + floorR) / time.Duration(runtime.NumCPU())).Milliseconds(), runtime.NumCPU())
	return nil
}

// opt is d rounded, or "-" where it was not measured (negative).
func opt(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return d.Round(100 * time.Microsecond).String()
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
