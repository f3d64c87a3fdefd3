//go:build tools

// Package versitygw pins the S3 server built for tests.
package versitygw

import _ "github.com/versity/versitygw/cmd/versitygw"
