// Package gitsource follows the config repo with go-git: one bare clone kept
// in a cache dir, fetched only when the followed branch moved (force-pushes
// included), read through an io/fs view of any commit, and asked ancestry
// and prefix questions from an in-memory commit graph, cheaply enough for
// every /wait request.
package gitsource
