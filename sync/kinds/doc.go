// Package kinds is what the API server serves, as syncgate asks for it:
// aggregated discovery (/api and /apis, one request each) read into a
// meta.RESTMapper, cached, loaded again when a kind is not found, one load
// at a time however many ask. It replaces client-go's discovery and
// restmapper packages, whose import brings the scheme of every API group.
package kinds
