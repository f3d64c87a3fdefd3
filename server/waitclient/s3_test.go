package waitclient

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/s3marker"
	"github.com/syncgate/syncgate/testing/s3server"
)

const s3SHA = "0123456789abcdef0123456789abcdef01234567"

// A setup no retry fixes ends the wait at once, Unknown (the CLI's usage
// or configuration exit), saying why; the wait's timeout is not waited out.
func TestWaitS3EndsAtOnceOnABrokenSetup(t *testing.T) {
	srv := s3server.StartT(t, s3server.Options{})
	srv.BucketT(t, "markers")
	client := func(region, access, secret string) *s3.Client {
		return s3.New(s3.Options{Region: region, BaseEndpoint: aws.String(srv.Endpoint()), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(access, secret, ""), Retryer: aws.NopRetryer{}})
	}
	key := s3marker.ResultKey("", "prod", "web", s3SHA)
	for _, tc := range []struct {
		name     string
		api      s3marker.API
		bucket   string
		contains string
	}{
		{"no such bucket", srv.Client(), "no-such-bucket", "NoSuchBucket"},
		{"wrong secret", client(srv.Region(), srv.AccessKey(), "not-the-secret"), "markers", "AWS credentials"},
		{"unknown access key", client(srv.Region(), "AKIAUNKNOWN", "secret"), "markers", "AWS credentials"},
		{"signed for another region", client("eu-west-3", srv.AccessKey(), srv.SecretKey()), "markers", "AWS_REGION"},
		{"bucket in another region", &answering{API: srv.Client(), code: "PermanentRedirect"}, "markers", "AWS_REGION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			out, _, err := WaitS3(context.Background(), tc.api, tc.bucket, key, 30*time.Second, nil)
			require.Equal(t, Unknown, out, "%v", err)
			require.ErrorContains(t, err, tc.contains)
			require.NotContains(t, err.Error(), "\n", "one line")
			require.Less(t, time.Since(start), 15*time.Second, "ended at once, not at the 30 s timeout")
		})
	}
}

// A result not written yet is asked for again until it is, whether S3
// says NoSuchKey or, to credentials without s3:ListBucket, AccessDenied.
func TestWaitS3PollsUntilTheResultIsWritten(t *testing.T) {
	srv := s3server.StartT(t, s3server.Options{})
	srv.BucketT(t, "markers")
	key := s3marker.ResultKey("", "prod", "web", s3SHA)
	for _, tc := range []struct {
		name   string
		api    s3marker.API
		saying string
	}{
		{"no such key", srv.Client(), ""},
		{"access denied without s3:ListBucket", &deniedWhileMissing{API: srv.Client()}, "AccessDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := srv.Client().DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("markers"), Key: aws.String(key)})
			require.NoError(t, err)
			lines := make(chan string, 4)
			done := make(chan Outcome, 1)
			go func() {
				out, _, err := WaitS3(context.Background(), tc.api, "markers", key, 30*time.Second, func(s string) { lines <- s })
				if err != nil {
					t.Log(err)
				}
				done <- out
			}()
			for told := false; !told; { // asked, found nothing yet, and said why
				select {
				case line := <-lines:
					told = strings.Contains(line, tc.saying)
				case <-time.After(20 * time.Second):
					t.Fatalf("not told %q", tc.saying)
				}
			}
			select {
			case out := <-done:
				t.Fatalf("ended (%v) before the result was written", out)
			default:
			}
			r, err := s3marker.New(srv.Client(), s3marker.Options{Bucket: "markers"})
			require.NoError(t, err)
			require.NoError(t, r.Report(context.Background(), status.Update{Cluster: "prod", Namespace: "web", SHA: s3SHA,
				State: status.Deployed, FinishedAt: time.Now(), Deployments: []string{"web"}}))
			require.Equal(t, Deployed, <-done)
		})
	}
}

// deniedWhileMissing answers a missing object AccessDenied, as S3 does to
// credentials that may s3:GetObject but not s3:ListBucket.
type deniedWhileMissing struct {
	s3marker.API
}

func (d *deniedWhileMissing) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	out, err := d.API.GetObject(ctx, in, opts...)
	var ae smithy.APIError
	if err != nil && errors.As(err, &ae) && ae.ErrorCode() == "NoSuchKey" {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	}
	return out, err
}

// answering answers every GetObject with an S3 error code, as S3 does
// where the test server cannot (PermanentRedirect: the bucket lives in
// another region than the one the request was sent to).
type answering struct {
	s3marker.API
	code string
}

func (a *answering) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, &smithy.GenericAPIError{Code: a.code, Message: "The bucket you are attempting to access must be addressed using the specified endpoint."}
}
