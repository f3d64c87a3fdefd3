package main

import (
	"reflect"
	"testing"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

func TestEachSyncgateColumnIsMeasuredPerBinary(t *testing.T) {
	bins := []benchenv.Binary{{Name: "before", Path: "/a/syncgate"}, {Name: "after", Path: "/b/syncgate"}}
	tools, names := perBinary(allTools, []string{"flux-tuned", "syncgate", "floor"}, bins)
	if want := []string{"flux-tuned", "syncgate-before", "syncgate-after", "floor"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	after, ok := lookup(tools, "syncgate-after")
	if !ok || after.bin != "/b/syncgate" || after.column != "syncgate, defaults (after)" || after.kind != "syncgate" {
		t.Fatalf("syncgate-after: %+v", after)
	}
	if _, ok := lookup(allTools, "syncgate-after"); ok {
		t.Fatal("the tools given were changed")
	}
	if _, same := perBinary(allTools, []string{"syncgate"}, nil); !reflect.DeepEqual(same, []string{"syncgate"}) {
		t.Fatalf("without -bin: %v", same)
	}
}
