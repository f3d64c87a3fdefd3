// Package gitsource follows the config repo with go-git: one clone kept in a
// cache dir, fetched only when the remote branch moved, read through an
// io/fs view of any commit, and asked ancestry questions cheaply.
package gitsource
