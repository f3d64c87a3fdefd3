// Package api declares the gateway's wire types, imported by the gateway
// that writes them and by the clients that read them.
package api
