//go:build tools

// Package etcd pins the etcd server built for tests.
package etcd

import _ "go.etcd.io/etcd/server/v3"
