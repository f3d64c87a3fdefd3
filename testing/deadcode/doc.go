// Package deadcode reads the Go linker's reachability dump (-ldflags=-dumpdep)
// and finds what costs a program the linker's dead-code elimination of
// methods; its test holds the agent to keeping it.
package deadcode
