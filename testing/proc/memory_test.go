package proc

import (
	"os"
	"testing"
)

func TestMemoryReadsThisProcess(t *testing.T) {
	rss, err := Memory(os.Getpid(), "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	peak, err := Memory(os.Getpid(), "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 || peak < rss {
		t.Fatalf("VmRSS %d, VmHWM %d: not a running Go process's", rss, peak)
	}
	if _, err := Memory(os.Getpid(), "VmNoSuchField"); err == nil {
		t.Fatal("a missing field was not an error")
	}
}
