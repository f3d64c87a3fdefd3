//go:build linux && (amd64 || arm64)

package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// denied are the system calls a confined process cannot make: everything
// that creates or uses a socket (so no network, not even a resolver),
// starts a program (git, helm, a shell), opens a file (the ServiceAccount
// token, /proc/<agent>/mem: a build reads only what its parent sends over
// its pipes), or reaches into another process for its sockets or memory.
// Each fails with EPERM. archDenied adds the calls only some architectures
// have.
var denied = append([]uint32{
	unix.SYS_SOCKET, unix.SYS_SOCKETPAIR, unix.SYS_CONNECT, unix.SYS_BIND, unix.SYS_LISTEN,
	unix.SYS_ACCEPT, unix.SYS_ACCEPT4, unix.SYS_SENDTO, unix.SYS_SENDMSG, unix.SYS_SENDMMSG,
	unix.SYS_EXECVE, unix.SYS_EXECVEAT,
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
	unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV, unix.SYS_PIDFD_GETFD,
	unix.SYS_OPENAT, unix.SYS_OPENAT2, unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_NAME_TO_HANDLE_AT,
}, archDenied...)

// Enter confines the calling process for the rest of its life: the system
// calls above fail on every thread, now and later (the filter cannot be
// removed and is inherited); the process is the first the kernel's OOM
// killer ends when the memory it shares with its parent (a cgroup) runs
// out, so a build, not the agent, is killed; the data segment, which
// holds the Go heap, cannot grow past memoryBytes (an allocation beyond it
// ends the process with "out of memory"); and the kernel kills it once it
// has used cpu of processor time, however busy the machine is (whole
// seconds, rounded up).
func Enter(memoryBytes int64, cpu time.Duration) error {
	if memoryBytes > 0 {
		lim := &unix.Rlimit{Cur: uint64(memoryBytes), Max: uint64(memoryBytes)}
		if err := unix.Setrlimit(unix.RLIMIT_DATA, lim); err != nil {
			return fmt.Errorf("sandbox: memory limit: %w", err)
		}
	}
	if cpu > 0 {
		secs := uint64((cpu + time.Second - 1) / time.Second)
		if err := unix.Setrlimit(unix.RLIMIT_CPU, &unix.Rlimit{Cur: secs, Max: secs}); err != nil {
			return fmt.Errorf("sandbox: processor time limit: %w", err)
		}
	}
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	// Raising one's own score needs no privilege; where /proc is read-only
	// the build goes on without it.
	_ = os.WriteFile("/proc/self/oom_score_adj", []byte("1000"), 0)

	prog := filter()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// Required to install a filter without privileges; also keeps setuid
	// programs from gaining any.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("sandbox: no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	// TSYNC applies the filter to every thread the Go runtime already runs.
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return fmt.Errorf("sandbox: seccomp filter: %w", errno)
	}
	return nil
}

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
)

func filter() []unix.SockFilter {
	ld := func(off uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}
	}
	ret := func(k uint32) unix.SockFilter { return unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k} }
	// jeq skips the next instruction unless the value equals k.
	jeq := func(k uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: k}
	}
	eperm := ret(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	prog := []unix.SockFilter{
		// Another ABI (i386 on amd64) numbers system calls differently:
		// refuse all of it.
		ld(offArch),
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, Jf: 0, K: auditArch},
		eperm,
		ld(offNr),
		// x32 system calls on amd64 carry this bit.
		{Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, Jt: 0, Jf: 1, K: 0x40000000},
		eperm,
	}
	for _, nr := range denied {
		prog = append(prog, jeq(nr), eperm)
	}
	return append(prog, ret(unix.SECCOMP_RET_ALLOW))
}

// Prepare makes cmd's process die with the thread that starts it, so a
// build never outlives a crashed parent, and lead a process group of its
// own, which Kill ends whole.
func Prepare(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// Kill ends p, started as Prepare sets, and every process of its group: a
// program that is not the build program may have started children which
// hold its pipes open. p must not have been waited for.
func Kill(p *os.Process) error {
	return syscall.Kill(-p.Pid, syscall.SIGKILL)
}

// OutOfTime tells whether the kernel ended a process confined with cpu
// for using it all.
func OutOfTime(state *os.ProcessState, cpu time.Duration) bool {
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || (ws.Signal() != syscall.SIGKILL && ws.Signal() != syscall.SIGXCPU) {
		return false
	}
	limit := (cpu + time.Second - 1) / time.Second * time.Second
	// The usage wait reports is sampled; the kernel's own count is what
	// reached the limit. Seen: 925 ms for a 1 s limit.
	return state.UserTime()+state.SystemTime() >= limit-limit/10-100*time.Millisecond
}
