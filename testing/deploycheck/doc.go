// Package deploycheck checks the install and monitoring assets under
// deploy/ with the libraries of the tools that read them (Prometheus's
// rule parser). It is a module of its own so that those libraries stay
// out of syncgate's binary and go.mod; `make test` runs it.
package deploycheck
