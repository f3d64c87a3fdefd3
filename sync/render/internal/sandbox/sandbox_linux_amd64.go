package sandbox

import "golang.org/x/sys/unix"

const auditArch = unix.AUDIT_ARCH_X86_64

// archDenied are the calls that open a file which only amd64 has; arm64
// opens with openat alone.
var archDenied = []uint32{unix.SYS_OPEN, unix.SYS_CREAT}
