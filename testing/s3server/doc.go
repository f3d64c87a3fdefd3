// Package s3server runs a real S3 server for tests and the demo: versitygw
// with its posix backend in a temp dir, on a loopback port, with generated
// root credentials. It can be stopped and restarted on the same port and
// data to test outages.
package s3server
