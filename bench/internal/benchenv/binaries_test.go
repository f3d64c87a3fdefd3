package benchenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestBinariesFromTheFlag(t *testing.T) {
	src := t.TempDir()
	for name, content := range map[string]string{"a/syncgate": "agent a", "a/syncgate-render": "render a", "b/sg": "agent b"} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	got, err := Binaries(context.Background(), "old="+filepath.Join(src, "a/syncgate")+",new="+filepath.Join(src, "b/sg"), dir, "unused")
	if err != nil {
		t.Fatal(err)
	}
	want := []Binary{{"old", filepath.Join(dir, "old/syncgate")}, {"new", filepath.Join(dir, "new/sg")}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v, want %v", got, want)
	}
	// Each is installed with the build program beside it, when it has one.
	for path, content := range map[string]string{"old/syncgate": "agent a", "old/syncgate-render": "render a", "new/sg": "agent b"} {
		b, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil || string(b) != content {
			t.Fatalf("%s: %q, %v; want %q", path, b, err, content)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new/syncgate-render")); err == nil {
		t.Fatal("a build program appeared where there was none")
	}
	if _, err := Binaries(context.Background(), "nameless", t.TempDir(), "unused"); err == nil {
		t.Fatal("a -bin entry without name= was taken")
	}
}
