// Command syncgate-render is the kustomize build process of the syncgate
// agent: `syncgate run` starts it, from its own directory, for each
// kustomize build, and it confines itself (no network, no programs, a
// memory ceiling) before it reads a byte of the commit. It is a program of
// its own so that the long-running agent links no kustomize; it is not
// meant to be run by hand.
package main

import (
	"fmt"
	"os"

	"github.com/syncgate/syncgate/sync/render/buildproc"
)

func main() {
	if code, ran := buildproc.Serve(); ran {
		os.Exit(code)
	}
	fmt.Fprintln(os.Stderr, "syncgate-render runs kustomize builds for `syncgate run`, which starts it; it is not run by hand")
	os.Exit(2)
}
