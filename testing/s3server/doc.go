// Package s3server runs a real S3 server (versitygw, posix backend) on a
// loopback port for tests and the demo, with generated credentials. It can
// be stopped and restarted on the same port and data to test outages.
package s3server
