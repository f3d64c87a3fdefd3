package proc

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is a field of /proc/<pid>/status given in kB, such as VmRSS
// (resident now) or VmHWM (peak resident), in bytes.
func Memory(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s of %d: %w", field, pid, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// RSS is the process's resident memory now, in bytes.
func (p *Proc) RSS() (int64, error) { return Memory(p.Pid(), "VmRSS") }
