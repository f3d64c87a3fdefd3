package s3server

import "github.com/syncgate/syncgate/testing/cluster"

// Versitygw is the S3 server binary, built and cached like the control plane.
var Versitygw = cluster.Tool{
	Module:   "versitygw",
	Pin:      "github.com/versity/versitygw",
	Packages: []string{"github.com/versity/versitygw/cmd/versitygw"},
}
