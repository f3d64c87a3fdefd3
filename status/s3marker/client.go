package s3marker

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewClient builds an S3 client from the SDK's default credential chain
// (environment, web identity / IRSA, shared profile); with an Endpoint it
// uses path-style addressing, as S3-compatible servers expect.
func NewClient(ctx context.Context, opts Options) (*s3.Client, error) {
	var load []func(*awsconfig.LoadOptions) error
	if opts.Region != "" {
		load = append(load, awsconfig.WithRegion(opts.Region))
	}
	if opts.Logger != nil {
		load = append(load, awsconfig.WithLogger(opts.Logger))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
			o.UsePathStyle = true
		}
	}), nil
}

// ErrNoCredentials is returned by CheckCredentials when the SDK's default
// chain found no credentials to sign with.
var ErrNoCredentials = errors.New("no S3 credentials found: looked for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
	"AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, AWS_PROFILE in AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE " +
	"(~/.aws/config, ~/.aws/credentials), AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, and an EC2 instance role")

// CheckCredentials tells, before any request, whether client has
// credentials to sign with. The default chain falls back to the EC2
// instance role only when no other source is set; when instance metadata
// then gives none (not on EC2, no role, AWS_EC2_METADATA_DISABLED), no
// retry finds any and the error is ErrNoCredentials. A source that is set
// is not judged here: its errors are the requests' to tell.
func CheckCredentials(ctx context.Context, client *s3.Client) error {
	creds := client.Options().Credentials
	if creds == nil {
		return ErrNoCredentials
	}
	if !aws.IsCredentialsProvider(creds, (*ec2rolecreds.Provider)(nil)) {
		return nil
	}
	if _, err := creds.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrNoCredentials
	}
	return nil
}
