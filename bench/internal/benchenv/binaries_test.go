package benchenv

import (
	"context"
	"testing"
)

func TestBinariesFromTheFlag(t *testing.T) {
	got, err := Binaries(context.Background(), "old=/tmp/a,new=/tmp/b", t.TempDir(), "unused")
	if err != nil {
		t.Fatal(err)
	}
	want := []Binary{{"old", "/tmp/a"}, {"new", "/tmp/b"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := Binaries(context.Background(), "nameless", t.TempDir(), "unused"); err == nil {
		t.Fatal("a -bin entry without name= was taken")
	}
}
